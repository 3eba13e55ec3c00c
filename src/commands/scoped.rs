//! Proxy mode: started as `gh` through a scope directory (see `src/scoped.rs`), resolve the
//! entries scoped to `gh` and `exec` the real `gh` with them added. Any failure — no manifest
//! variable, an untrusted or edited manifest, a secret that cannot be resolved, no real `gh` —
//! means `gh` does not start: exit 126, the reason and the fix on stderr.

use super::report_problems;
use crate::cli::Global;
use crate::process;
use crate::resolve::resolve;
use crate::run_context::{Needs, RunContext};
use crate::scoped::{self, MANIFEST_VAR, PROFILE_VAR, VOUCH_VAR};
use std::ffi::OsString;

/// What a shell reports for a command found but not startable.
pub const EXIT_NOT_STARTED: u8 = 126;

/// The variables activation exports beside the scope directory's `PATH`, for `global`'s run of
/// `manifest_path`: where the proxies find the manifest, and the profile and vouching it used.
pub fn variables(global: &Global, manifest_path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut vars = vec![(
        MANIFEST_VAR.to_string(),
        manifest_path.as_os_str().as_encoded_bytes().to_vec(),
    )];
    if let Some(profile) = global.profile.as_deref().filter(|p| !p.is_empty()) {
        vars.push((PROFILE_VAR.to_string(), profile.as_bytes().to_vec()));
    }
    let vouch = match (global.trusted_by, &global.manifest_sha256) {
        (Some(crate::trust::Host::Flox), _) => Some("flox".to_string()),
        (Some(crate::trust::Host::Nix), Some(pin)) => Some(format!("nix:{pin}")),
        _ => None,
    };
    if let Some(vouch) = vouch {
        vars.push((VOUCH_VAR.to_string(), vouch.into_bytes()));
    }
    vars
}

/// The run's settings, as activation exported them.
fn global_from_environment() -> Result<Global, String> {
    let manifest = std::env::var_os(MANIFEST_VAR).filter(|m| !m.is_empty()).ok_or_else(|| {
        format!("{MANIFEST_VAR} is not set, so the manifest holding this command's secrets is unknown")
    })?;
    let (trusted_by, manifest_sha256) = match std::env::var(VOUCH_VAR).ok().as_deref() {
        Some("flox") => (Some(crate::trust::Host::Flox), None),
        Some(v) if v.starts_with("nix:") => (
            Some(crate::trust::Host::Nix),
            Some(v["nix:".len()..].to_string()),
        ),
        _ => (None, None),
    };
    Ok(Global {
        manifest: Some(manifest.into()),
        profile: std::env::var(PROFILE_VAR).ok().filter(|p| !p.is_empty()),
        no_prompt: false,
        trusted_by,
        manifest_sha256,
    })
}

/// The scoped command has no real program on `PATH` (the manifest's path, for the fix).
#[derive(Debug, thiserror::Error)]
#[error("not on PATH")]
struct NotOnPath(std::path::PathBuf);

fn not_started(command: &str, why: impl std::fmt::Display, fix: &str) -> u8 {
    eprintln!("jit-secrets: `{command}` not started: {why}\n  fix: {fix}");
    EXIT_NOT_STARTED
}

/// Runs as the proxy for `command`; returns only when it could not start it.
pub fn run(command: &str) -> u8 {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let global = match global_from_environment() {
        Ok(g) => g,
        Err(why) => {
            return not_started(
                command,
                why,
                "activate the project again (`eval \"$(jit-secrets activate)\"`), or run the real program by its full path",
            )
        }
    };
    // The real program is looked for once the manifest is trusted, and before the cache is
    // set up (its note, if any, is for a command that starts).
    let mut real = None;
    let needs = Needs::trusted()
        .cache(crate::cache::Mode::Use)
        .refusing(|manifest| {
            real = scoped::find_real(command, &path);
            match real {
                Some(_) => Ok(()),
                None => Err(NotOnPath(manifest.path.clone()).into()),
            }
        });
    let run =
        match RunContext::build(&global, needs) {
            Ok(run) => run,
            Err(e) => match e.downcast_ref::<NotOnPath>() {
                Some(NotOnPath(manifest)) => {
                    return not_started(
                        command,
                        format!("no `{command}` on PATH besides jit-secrets' proxy"),
                        &format!(
                            "install `{command}`, or remove it from `only` in {}",
                            crate::printable::path(manifest)
                        ),
                    )
                }
                None => return not_started(
                    command,
                    format!("{e:#}"),
                    "review the manifest and run `jit-secrets allow`, then start the command again",
                ),
            },
        };
    let real = real.expect("the run is built only once the real program is found");
    let manifest = &run.manifest;
    let names: Vec<String> = manifest
        .entries
        .iter()
        .filter(|e| e.is_for_command(command))
        .map(|e| e.name.clone())
        .collect();
    let resolution = resolve(manifest, Some(&names), &run.ctx);
    report_problems(&resolution);
    if resolution.has_fatal() {
        return not_started(
            command,
            "its secrets could not be resolved (the errors above)",
            "fix the errors above, then start the command again",
        );
    }
    // The program gets PATH without the scope directories: what it starts does not come back
    // through a proxy (a wrapper `gh` that runs `gh` would loop), and it inherits its values.
    let rest_of_path = std::env::join_paths(scoped::path_without_scopes(&path)).unwrap_or_default();
    let env: Vec<(String, &[u8])> = resolution
        .results
        .iter()
        .filter_map(|r| r.value().map(|v| (r.entry.name.clone(), v.expose())))
        .chain(std::iter::once((
            "PATH".to_string(),
            rest_of_path.as_encoded_bytes(),
        )))
        .collect();
    let additions: Vec<(&str, &[u8])> = env.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    if let Err(too_large) = process::environment_fits(&additions) {
        eprintln!(
            "jit-secrets: `{command}` not started: {}",
            too_large.explain("keep the value in a file and give the program its path")
        );
        return EXIT_NOT_STARTED;
    }
    // argv[0] stays the name it was started by; the program is the real one.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let err = process::exec_replacing_as(&real, &argv, &env);
    not_started(
        command,
        format!("cannot run {}: {err}", crate::printable::path(&real)),
        "check the program's permissions",
    )
}

/// For `activate` and `run`: the scope directory of `run`'s manifest made to hold exactly one
/// proxy per scoped command, and the variables to export — `PATH` with that directory first (any earlier scope
/// directory removed) and where the proxies find the manifest. Warns of a scoped command that is
/// not on `PATH`.
pub fn prepare(run: &RunContext) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    use anyhow::Context as _;
    let (manifest, commands) = (&run.manifest, &run.scoped_commands);
    let path = std::env::var_os("PATH").unwrap_or_default();
    for command in commands {
        if scoped::find_real(command, &path).is_none() {
            eprintln!(
                "jit-secrets: warning: `{command}` (in `only`) is not on PATH: it will not start until it is installed"
            );
        }
    }
    let dir = scoped::dir_for(&manifest.path);
    let names: Vec<&str> = commands.iter().map(String::as_str).collect();
    let binary = std::env::current_exe().context("cannot tell where jit-secrets is installed")?;
    scoped::populate(&dir, &names, &binary).with_context(|| {
        format!(
            "cannot prepare the directory of scoped commands {}; fix: check that it is yours (mode 0700), or set XDG_RUNTIME_DIR",
            crate::printable::path(&dir)
        )
    })?;
    let mut vars = vec![(
        "PATH".to_string(),
        scoped::path_with(&dir, &path).into_encoded_bytes(),
    )];
    vars.extend(variables(run.global(), &manifest.path));
    Ok(vars)
}
