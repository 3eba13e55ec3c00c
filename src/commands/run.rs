//! `jit-secrets run -- CMD…`: exec CMD with the secrets in its environment. No shell is involved,
//! and CMD does not start if any secret fails. Scoped entries (`only = ["gh"]`) reach their
//! commands as after `activate`: CMD itself when it is one, and anything CMD starts through the
//! proxy directory put first on its `PATH`. When its output goes to a terminal (or with `--mask`)
//! CMD runs as our child and every value it prints is masked.

use super::{report_problems, EXIT_SECRET_FAILURE};
use crate::cli::{Global, RunArgs};
use crate::context::Context;
use crate::manifest::Manifest;
use crate::mask::{Masker, MIN_MASK_LEN};
use crate::process;
use crate::resolve::{resolve, resolve_with_leases, Status};
use crate::run_context::{Needs, RunContext};
use std::ffi::OsString;

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<u8> {
    let mode = if args.refresh {
        crate::cache::Mode::Refresh
    } else {
        crate::cache::Mode::Use
    };
    // The program runs as this process (exec keeps the pid): it is the leases' holder.
    let needs = Needs::trusted()
        .cache(mode)
        .leases(crate::lease::Mode::Use, crate::lease::own_holder());
    let run = RunContext::build(global, needs)?;
    let manifest = &run.manifest;
    // A scoped entry (`only = ["gh"]`) goes to its own commands alone: `run -- gh` gets it,
    // `run -- env` does not.
    let program = program_name(&args.command[0]);
    let names: Vec<String> = manifest
        .entries
        .iter()
        .filter(|e| e.is_unscoped() || e.is_for_command(&program))
        .map(|e| e.name.clone())
        .collect();
    let only = (names.len() != manifest.entries.len()).then_some(names.as_slice());
    let resolution = resolve_with_leases(manifest, only, &run.ctx, run.lease_settings());
    report_problems(&resolution);
    if resolution.has_fatal() {
        return Ok(not_started(&args.command));
    }
    // What CMD starts reaches the other scoped commands through their proxies, as in an
    // activated shell (`run -- sh -c 'gh …'`, `run -- make`).
    let scope = if run.scoped_commands.is_empty() {
        Vec::new()
    } else {
        match super::scoped::prepare(&run) {
            Ok(scope) => scope,
            Err(e) => {
                eprintln!("jit-secrets: error: {e:#}");
                return Ok(not_started(&args.command));
            }
        }
    };
    let secrets: Vec<(String, &[u8])> = resolution
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
    let env: Vec<(String, &[u8])> = secrets
        .iter()
        .cloned()
        .chain(scope.iter().map(|(k, v)| (k.clone(), v.as_slice())))
        .collect();
    let additions: Vec<(&str, &[u8])> = env.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    if let Err(too_large) = process::environment_fits(&additions) {
        eprintln!(
            "jit-secrets: error: {}",
            too_large.explain("keep it in a file and give the program its path")
        );
        return Ok(not_started(&args.command));
    }
    if masks(&args) {
        // The values the proxies will fetch for other commands are not in `env`: fetched here
        // too, for the masker alone.
        let others = scoped_elsewhere(manifest, &names, run.ctx);
        let mut masked = secrets.clone();
        masked.extend(others.iter().map(|(n, v)| (n.clone(), v.expose())));
        return run_masked(&args.command, &env, &masked);
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
    Ok(could_not_start(&args.command[0], &err))
}

/// The program's name as a scope's `only` names it (`/usr/bin/gh` is `gh`).
fn program_name(command: &std::ffi::OsStr) -> String {
    std::path::Path::new(command)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

fn not_started(command: &[OsString]) -> u8 {
    eprintln!(
        "jit-secrets: `{}` not started",
        command[0].to_string_lossy()
    );
    EXIT_SECRET_FAILURE
}

/// The status for a command that could not start, said on stderr: 127 when it was not found,
/// 126 otherwise, as shells do.
fn could_not_start(program: &std::ffi::OsStr, err: &std::io::Error) -> u8 {
    let program = program.to_string_lossy();
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!("jit-secrets: error: `{program}`: command not found");
        127
    } else {
        eprintln!("jit-secrets: error: cannot run `{program}`: {err}");
        126
    }
}

/// `--mask` forces masking and `--no-mask` turns it off; by default values are masked when the
/// command's output would reach a person (our stdout or stderr is a terminal), as `op run` does.
fn masks(args: &RunArgs) -> bool {
    use std::io::IsTerminal;
    if args.mask || args.no_mask {
        return args.mask;
    }
    std::io::stdout().is_terminal() || std::io::stderr().is_terminal()
}

/// The values of the entries scoped to other commands (not in `in_env`), for masking what those
/// commands print. They are fetched without any prompt (the command may never start them, and
/// a passphrase asked for a value it does not need would be a surprise): one that cannot be
/// fetched so is named, not fatal; its command fetches it itself, and fails to start if it
/// cannot.
fn scoped_elsewhere(
    manifest: &Manifest,
    in_env: &[String],
    mut ctx: Context,
) -> Vec<(String, crate::secret::SecretValue)> {
    let others: Vec<String> = manifest
        .entries
        .iter()
        .filter(|e| !in_env.contains(&e.name))
        .map(|e| e.name.clone())
        .collect();
    if others.is_empty() {
        return Vec::new();
    }
    ctx.no_prompt = true;
    process::allow_prompts(false);
    let resolution = resolve(manifest, Some(&others), &ctx);
    let mut values = Vec::new();
    for r in resolution.results {
        match &r.status {
            Status::Found { value, .. } => values.push((r.entry.name.clone(), value.clone())),
            Status::Missing => {}
            Status::Failed { .. } | Status::Invalid { .. } => eprintln!(
                "jit-secrets: warning: {} (scoped to {}) could not be fetched without a prompt to mask it; its command's output is not masked for it",
                r.entry.name,
                r.entry.only.join(", ")
            ),
        }
    }
    values
}

/// Masking: the command runs as our child so its output can pass through the masker, which
/// replaces each of `masked`'s values with `<NAME>`.
fn run_masked(
    command: &[OsString],
    env: &[(String, &[u8])],
    masked: &[(String, &[u8])],
) -> anyhow::Result<u8> {
    let short: Vec<&str> = masked
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
    let values = || masked.iter().map(|(n, v)| (n.as_str(), *v));
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
        Err(e) => Ok(could_not_start(&command[0], &e)),
    }
}
