//! `jit-secrets run -- CMD…`: exec CMD with the secrets in its environment. No shell is involved,
//! and CMD does not start if any secret fails.

use super::{load_trusted_manifest, report_problems, EXIT_SECRET_FAILURE};
use crate::cli::{Global, RunArgs};
use crate::mask::{Masker, MIN_MASK_LEN};
use crate::process;
use crate::resolve::resolve_with_leases;

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<u8> {
    let manifest = load_trusted_manifest(global)?;
    let mode = if args.refresh {
        crate::cache::Mode::Refresh
    } else {
        crate::cache::Mode::Use
    };
    let ctx = super::context_with_cache(global, &manifest, mode);
    // A scoped entry (`only = ["gh"]`) goes to its own commands alone: `run -- gh` gets it,
    // `run -- env` does not.
    let program = std::path::Path::new(&args.command[0])
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let names: Vec<String> = manifest
        .entries
        .iter()
        .filter(|e| e.is_unscoped() || e.is_for_command(&program))
        .map(|e| e.name.clone())
        .collect();
    let only = (names.len() != manifest.entries.len()).then_some(names.as_slice());
    // The program runs as this process (exec keeps the pid): it is the leases' holder.
    let leases = super::leases_for(
        global,
        &manifest,
        crate::lease::own_holder(),
        crate::lease::Mode::Use,
    );
    let resolution = resolve_with_leases(&manifest, only, &ctx, &leases);
    report_problems(&resolution);
    if resolution.has_fatal() {
        eprintln!(
            "jit-secrets: `{}` not started",
            args.command[0].to_string_lossy()
        );
        return Ok(EXIT_SECRET_FAILURE);
    }
    let env: Vec<(String, &[u8])> = resolution
        .results
        .iter()
        .filter_map(|r| r.value().map(|v| (r.entry.name.clone(), v.expose())))
        .chain(
            resolution
                .lease_values()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        )
        .collect();
    let additions: Vec<(&str, &[u8])> = env.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    if let Err(too_large) = process::environment_fits(&additions) {
        eprintln!(
            "jit-secrets: error: {}",
            too_large.explain("keep it in a file and give the program its path")
        );
        eprintln!(
            "jit-secrets: `{}` not started",
            args.command[0].to_string_lossy()
        );
        return Ok(EXIT_SECRET_FAILURE);
    }
    if args.mask {
        return run_masked(&args.command, &env);
    }
    // A scoped command named by its name: the real program, not the proxy a scope directory on
    // PATH would start (it would resolve the same values again).
    let scoped_real = manifest
        .entries
        .iter()
        .any(|e| e.is_for_command(&program))
        .then(|| args.command[0].to_str().filter(|c| !c.contains('/')))
        .flatten()
        .and_then(|c| crate::scoped::find_real(c, &std::env::var_os("PATH").unwrap_or_default()));
    let err = match scoped_real {
        Some(real) => process::exec_replacing_as(&real, &args.command, &env),
        None => process::exec_replacing(&args.command, &env),
    };
    // exec returned: the command could not start. 127/126 as shells do.
    let program = args.command[0].to_string_lossy();
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!("jit-secrets: error: `{program}`: command not found");
        Ok(127)
    } else {
        eprintln!("jit-secrets: error: cannot run `{program}`: {err}");
        Ok(126)
    }
}

/// `--mask`: the command runs as our child so its output can pass through the masker.
fn run_masked(command: &[std::ffi::OsString], env: &[(String, &[u8])]) -> anyhow::Result<u8> {
    let short: Vec<&str> = env
        .iter()
        .filter(|(_, v)| !v.is_empty() && v.len() < MIN_MASK_LEN)
        .map(|(n, _)| n.as_str())
        .collect();
    if !short.is_empty() {
        eprintln!(
            "jit-secrets: warning: not masking {} (shorter than {MIN_MASK_LEN} bytes)",
            short.join(", ")
        );
    }
    let values = || env.iter().map(|(n, v)| (n.as_str(), *v));
    let filter =
        |mut m: Masker| move |chunk: &[u8], end: bool| if end { m.finish() } else { m.feed(chunk) };
    match process::run_filtered(
        command,
        env,
        filter(Masker::new(values())),
        filter(Masker::new(values())),
    ) {
        Ok(process::Exit::Code(c)) => Ok(c.clamp(0, 255) as u8),
        Ok(process::Exit::Signal(s)) => Ok((128 + s).clamp(0, 255) as u8),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "jit-secrets: error: `{}`: command not found",
                command[0].to_string_lossy()
            );
            Ok(127)
        }
        Err(e) => {
            eprintln!(
                "jit-secrets: error: cannot run `{}`: {e}",
                command[0].to_string_lossy()
            );
            Ok(126)
        }
    }
}
