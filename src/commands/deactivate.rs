//! `jit-secrets deactivate`: print the code that undoes this shell's last activation, and the
//! `--auto` hook's decision at a directory change (load, swap, unload, or nothing).
//!
//! Nothing here knows what was loaded: that lives in the shell's own unexported variables (see
//! `shell/session.rs`), which the printed code reads. The only state that crosses into this
//! process is non-secret: the loaded manifest's path and digest, on the hook's command line.

use super::{EXIT_OK, EXIT_USAGE};
use crate::cli::{ActivateArgs, DeactivateArgs, Global};
use crate::run_context::{Needs, RunContext};
use crate::shell::{self, Shell};
use std::io::Write;
use std::path::Path;

pub fn run(args: DeactivateArgs) -> anyhow::Result<u8> {
    if let Some(manifest) = args.release {
        // The printed code, leaving a project: drop the shell's hold on its on-exit leases.
        let pid = args
            .holder
            .unwrap_or_else(std::os::unix::process::parent_id);
        if let Err(why) = crate::lease::release(&crate::trust::as_reached(&manifest), pid) {
            eprintln!(
                "jit-secrets: warning: cannot release the leases of {}: {why}; they are revoked when this shell exits",
                crate::printable::path(&manifest)
            );
        }
        return Ok(EXIT_OK);
    }
    let shell = args.shell.unwrap_or_else(super::activate::detect_shell);
    let mut stdout = std::io::stdout().lock();
    match shell::deactivate_code(shell) {
        Some(code) => {
            stdout.write_all(code.as_bytes())?;
            stdout.flush()?;
            Ok(EXIT_OK)
        }
        None => {
            stdout.write_all(shell::failure_statement(shell).as_bytes())?;
            stdout.flush()?;
            let why = match shell {
                Shell::Nu => "nushell cannot evaluate printed code: `jit-secrets hook nu --auto` defines `jit-secrets-unload`, which does this",
                _ => "json is not a shell: a program that read the values keeps its own environment",
            };
            eprintln!("jit-secrets: error: deactivate --shell {shell}: {why}");
            Ok(EXIT_USAGE)
        }
    }
}

/// What the `--auto` hook does next, once `auto_step` has looked.
pub enum AutoStep {
    /// Done (nothing to load): exit with this status.
    Done(u8),
    /// Load the manifest found here. For nushell and elvish, whose hooks keep the record
    /// themselves (they cannot evaluate our code), whether to unload the loaded project first
    /// and release its leases; the other shells already got that code.
    Load { unload: bool, release: bool },
}

/// What the hook says it has loaded or refused: the flag, else (tcsh's hook) the variable of
/// the environment it set for this one call. tcsh parses an expanded variable again inside its
/// ``eval "`…`"``, so a directory named `x;touch y` passed as an argument would run `touch y`;
/// its hook puts the paths in the environment instead, where nothing parses them.
fn handed_over(flag: Option<std::ffi::OsString>, variable: &str) -> Option<std::ffi::OsString> {
    flag.or_else(|| std::env::var_os(variable))
}

/// `activate --auto`, run by the hook when the directory changed. Trust comes before any fetch:
/// a manifest not allowed is said once (one line) and nothing is loaded.
pub fn auto_step(global: &Global, args: &ActivateArgs, shell: Shell) -> anyhow::Result<AutoStep> {
    if matches!(shell, Shell::Json | Shell::Posix) {
        return Err(super::UsageError(format!(
            "activate --auto is for the --auto hooks of bash, zsh, fish, tcsh, nu and elvish, not --shell {shell}"
        ))
        .into());
    }
    let mut stdout = std::io::stdout().lock();
    let loaded_arg = handed_over(args.loaded.clone(), "_jit_secrets_env_loaded");
    let loaded_digest = handed_over(
        args.loaded_digest.clone().map(Into::into),
        "_jit_secrets_env_digest",
    );
    let refused_arg = handed_over(args.refused.clone(), "_jit_secrets_env_refused");
    let loaded = loaded_arg
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(Path::new);
    let found = crate::run_context::manifest_path(global)
        .ok()
        .and_then(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)));
    let Some((path, bytes)) = found else {
        // No project here: what was loaded leaves.
        write_step(&mut stdout, shell, loaded.is_some(), true, None)?;
        return Ok(AutoStep::Done(EXIT_OK));
    };
    let digest = crate::trust::digest(&bytes);
    let same_project = loaded == Some(path.as_path());
    if same_project && loaded_digest.as_deref() == Some(std::ffi::OsStr::new(&digest)) {
        if !shell::records(shell) {
            let refused = refused_arg.as_deref().filter(|r| !r.is_empty());
            write_step(
                &mut stdout,
                shell,
                false,
                false,
                refused.map(|r| r.as_encoded_bytes()),
            )?;
        }
        return Ok(AutoStep::Done(EXIT_OK));
    }
    // Another project: the old one's variables and leases go before anything of the new.
    let unload = loaded.is_some() && !same_project;
    if let Err(e) = RunContext::build(global, Needs::trusted()) {
        if refused_arg.as_deref() != Some(path.as_os_str()) {
            say_refused(&path, &e);
        }
        let refused = path.as_os_str().as_encoded_bytes();
        write_step(&mut stdout, shell, loaded.is_some(), true, Some(refused))?;
        return Ok(AutoStep::Done(EXIT_OK));
    }
    if shell::records(shell) {
        if unload {
            stdout.write_all(shell::deactivate_code(shell).unwrap_or_default().as_bytes())?;
        }
        stdout.write_all(shell::forget_refusal(shell).as_bytes())?;
        stdout.flush()?;
    }
    Ok(AutoStep::Load {
        unload: loaded.is_some(),
        release: unload,
    })
}

/// A step that loads nothing: unload the loaded project (releasing its leases), and remember or
/// forget a refusal. Code for the shells that evaluate it, a JSON record for nushell and elvish.
fn write_step(
    stdout: &mut impl Write,
    shell: Shell,
    unload: bool,
    release: bool,
    refused: Option<&[u8]>,
) -> std::io::Result<()> {
    let mut out = shell::Out::with_capacity(512);
    if shell::records(shell) {
        if unload {
            out.extend(shell::deactivate_code(shell).unwrap_or_default().as_bytes());
        }
        match refused {
            Some(path) => shell::remember_refusal_into(&mut out, shell, path),
            None => out.extend(shell::forget_refusal(shell).as_bytes()),
        }
    } else {
        shell::step_document_into(&mut out, unload, release, refused, None);
    }
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

/// One line: which manifest, and what to do.
fn say_refused(path: &Path, e: &anyhow::Error) {
    if e.downcast_ref::<crate::trust::TrustError>().is_some() {
        // A cloned repository chooses its directory's name: escaped, so it cannot write to the
        // terminal, and quoted in the fix, so the command copies as one argument.
        let shown = crate::printable::path(path);
        eprintln!(
            "jit-secrets: {shown} is not allowed (new, or changed since it was): nothing loaded; to load it: jit-secrets allow {}, then `secrets` or cd here again",
            shell_words::quote(&shown)
        );
    } else {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or_default();
        eprintln!(
            "jit-secrets: {}: nothing loaded: {}",
            crate::printable::path(path),
            crate::printable::escaped(first)
        );
    }
}
