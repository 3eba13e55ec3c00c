//! `jit-secrets activate`: print shell code exporting every secret, and nothing else on stdout.

use super::{report_problems, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{ActivateArgs, Global};
use crate::resolve::{resolve_with_leases, Status};
use crate::run_context::{Needs, RunContext};
use crate::shell::{self, Shell};
use std::io::{IsTerminal, Write};

pub fn run(global: &Global, args: ActivateArgs) -> anyhow::Result<u8> {
    let shell = args.shell.unwrap_or_else(detect_shell);
    // Interrupted from here on (Ctrl-C, a closed terminal): the shell gets only this.
    crate::process::on_interrupt_print(shell::failure_statement(shell));
    let mut auto_unload = (false, false);
    if args.auto {
        match super::deactivate::auto_step(global, &args, shell)? {
            super::deactivate::AutoStep::Done(code) => return Ok(code),
            super::deactivate::AutoStep::Load { unload, release } => {
                auto_unload = (unload, release)
            }
        }
    }
    let mode = if args.refresh {
        crate::cache::Mode::Refresh
    } else {
        crate::cache::Mode::Use
    };
    let needs = Needs::trusted()
        .cache(mode)
        .leases(crate::lease::Mode::Use, crate::lease::activation_holder());
    let run = match RunContext::build(global, needs) {
        Ok(run) => run,
        Err(e) => {
            // No manifest, a broken one, or one not trusted: the evaluating shell must fail too.
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(shell::failure_statement(shell).as_bytes())?;
            stdout.flush()?;
            return Err(e);
        }
    };
    let manifest = &run.manifest;
    // Scoped values (`only = [...]`) are not exported, so not fetched: their commands fetch them.
    let scoped = !run.scoped_commands.is_empty();
    let unscoped: Vec<String> = manifest
        .entries
        .iter()
        .filter(|e| e.is_unscoped())
        .map(|e| e.name.clone())
        .collect();
    let only = scoped.then_some(unscoped.as_slice());
    let resolution = resolve_with_leases(manifest, only, &run.ctx, run.lease_settings());
    report_problems(&resolution);

    // Held while we print, so an interrupt cannot add to (or cut into) the snippet.
    let _printing = crate::process::output();
    let mut stdout = std::io::stdout().lock();
    if resolution.has_fatal() {
        stdout.write_all(shell::failure_statement(shell).as_bytes())?;
        stdout.flush()?;
        eprintln!("jit-secrets: nothing exported (fix the errors above and activate again)");
        super::setup::hint_after_failure(&resolution.results);
        return Ok(EXIT_SECRET_FAILURE);
    }
    let mut found: Vec<(&str, &[u8])> = resolution
        .results
        .iter()
        .filter_map(|r| r.value().map(|v| (r.entry.name.as_str(), v.expose())))
        .collect();
    let scope = if !scoped {
        Vec::new()
    } else {
        match super::scoped::prepare(&run) {
            Ok(scope) => scope,
            Err(e) => {
                stdout.write_all(shell::failure_statement(shell).as_bytes())?;
                stdout.flush()?;
                eprintln!("jit-secrets: error: {e}");
                return Ok(EXIT_SECRET_FAILURE);
            }
        }
    };
    found.extend(scope.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    found.extend(resolution.lease_values());

    if stdout.is_terminal() && !args.reveal {
        show_masked(&mut stdout, shell, manifest, &resolution)?;
        return Ok(EXIT_OK);
    }
    // A value the shell could not hold would break every later command in it: refuse it here,
    // naming the secret. (JSON feeds a program, not a shell: its only cap is the store's.)
    if shell != Shell::Json {
        if let Err(too_large) = crate::process::environment_fits(&found) {
            stdout.write_all(shell::failure_statement(shell).as_bytes())?;
            stdout.flush()?;
            eprintln!(
                "jit-secrets: error: {}",
                too_large
                    .explain("use `jit-secrets run`, or keep it in a file and export its path")
            );
            return Ok(EXIT_SECRET_FAILURE);
        }
    }
    let auto = args.auto.then_some(auto_unload);
    let rendered = render_recorded(shell, &found, manifest, scoped, auto);
    let code = match rendered {
        Ok(code) => code,
        Err(e) => {
            stdout.write_all(shell::failure_statement(shell).as_bytes())?;
            eprintln!("jit-secrets: error: {e}");
            return Ok(EXIT_SECRET_FAILURE);
        }
    };
    stdout.write_all(&code)?;
    stdout.flush()?;
    Ok(EXIT_OK)
}

/// The exports with the record `deactivate` reads (see `shell/session.rs`); under `--auto` for
/// nushell and elvish (`auto`: whether to unload first, and release), the step their hooks read.
fn render_recorded(
    shell: Shell,
    found: &[(&str, &[u8])],
    manifest: &crate::manifest::Manifest,
    scoped: bool,
    auto: Option<(bool, bool)>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, shell::RenderError> {
    let digest = crate::trust::digest(&std::fs::read(&manifest.path).unwrap_or_default());
    let scope_dir = scoped.then(|| crate::scoped::dir_for(&manifest.path));
    let activation = shell::Activation {
        manifest: manifest.path.as_os_str().as_encoded_bytes(),
        digest: &digest,
        scope: scope_dir.as_ref().map(|d| d.as_os_str().as_encoded_bytes()),
        on_exit_leases: manifest
            .leases
            .iter()
            .any(|l| l.revoke == crate::manifest::RevokeWhen::OnExit),
    };
    match auto {
        Some((unload, release)) if !shell::records(shell) => {
            shell::render_load_document(shell, found, &activation, unload, release)
        }
        _ => shell::render_activation(shell, found, &activation),
    }
}

/// A person is looking (stdout is a terminal, no `--reveal`): what would be exported and where
/// from, never the values, and how to load them.
fn show_masked(
    stdout: &mut impl Write,
    shell: Shell,
    manifest: &crate::manifest::Manifest,
    resolution: &crate::resolve::Resolution,
) -> anyhow::Result<()> {
    // A person is looking: show what would be exported and where from, not the values.
    let mut view = shell::comment(shell, "values masked: stdout is a terminal");
    for e in manifest.entries.iter().filter(|e| !e.is_unscoped()) {
        view.push_str(&shell::comment(
            shell,
            &format!("{} not exported: only for {}", e.name, e.only.join(", ")),
        ));
    }
    for r in &resolution.results {
        if let Status::Found { value, source } = &r.status {
            let mask = format!("<{} bytes>", value.len());
            let line = shell::render(shell, &[(r.entry.name.as_str(), mask.as_bytes())])?;
            view.push_str(&shell::comment(
                shell,
                &format!("{} from {}", r.entry.name, r.entry.from[*source]),
            ));
            view.push_str(&String::from_utf8_lossy(&line));
        }
    }
    for lease in &resolution.leases {
        if let Ok(granted) = &lease.outcome {
            view.push_str(&shell::comment(
                shell,
                &format!(
                    "lease {} ({}, {}, {} left): {}",
                    lease.spec.name,
                    lease.spec.kind.name(),
                    if granted.reused { "reused" } else { "new" },
                    crate::time::human(granted.expires - crate::time::now()),
                    granted
                        .vars
                        .iter()
                        .map(|(k, v)| format!("{k}=<{} bytes>", v.len()))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            ));
        }
    }
    stdout.write_all(view.as_bytes())?;
    let hint = match shell {
        Shell::Fish => "jit-secrets activate --shell fish | source",
        Shell::Json => "jit-secrets activate --shell json | your-program",
        Shell::Tcsh | Shell::Csh => "eval \"`jit-secrets activate --shell tcsh`\"",
        Shell::Nu => "jit-secrets activate --shell nu | from json | load-env",
        Shell::Elvish => "eval (jit-secrets activate --shell elvish | slurp)",
        _ => "source <(jit-secrets activate)   # or: eval \"$(jit-secrets activate)\"",
    };
    eprintln!(
        "jit-secrets: to load these into your shell run:  {hint}   (--reveal prints the values)"
    );
    Ok(())
}

/// The shell that will evaluate our output: our parent process, when its executable is a shell
/// we know (the shell running `eval "$(…)"`, `source <(…)` or `… | source`). Inside Flox's
/// `on-activate` hook that is bash even for a fish user, which is what must be printed there.
///
/// `$SHELL` is never consulted: it names the user's login shell, not the one reading our output
/// (a bash script run by a fish user would get fish code). When the parent is not a shell we know
/// (a script's interpreter we cannot read, python, make), we print POSIX code, whose quoting is
/// exact in every POSIX shell and inert in every other (see `shell/posix.rs`), and say so.
pub(super) fn detect_shell() -> Shell {
    match parent_program() {
        Some(program) => match Shell::from_program_name(&program) {
            Some(shell) => shell,
            None => {
                eprintln!(
                    "jit-secrets: warning: the parent process `{program}` is not a shell jit-secrets knows; printing POSIX code (pass --shell bash|zsh|fish|tcsh|nu|elvish|posix|json to choose)"
                );
                Shell::Posix
            }
        },
        None => {
            eprintln!("jit-secrets: warning: cannot tell which shell will read this; printing POSIX code (pass --shell to choose)");
            Shell::Posix
        }
    }
}

/// The parent's executable (`/proc/PPID/exe`: for a `#!/bin/bash` script that is bash, where
/// `comm` would be the script's name), else its `comm`.
#[cfg(target_os = "linux")]
fn parent_program() -> Option<String> {
    let ppid = std::os::unix::process::parent_id();
    if let Ok(exe) = std::fs::read_link(format!("/proc/{ppid}/exe")) {
        let exe = exe.to_string_lossy();
        // A binary replaced on disk since the shell started reads "/usr/bin/bash (deleted)".
        return Some(exe.trim_end_matches(" (deleted)").to_string());
    }
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok()?;
    Some(comm.trim().to_string())
}

/// The parent's executable path, from the kernel (`proc_pidpath`).
#[cfg(target_os = "macos")]
fn parent_program() -> Option<String> {
    let ppid = std::os::unix::process::parent_id() as libc::c_int;
    let mut buf = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
    // SAFETY: proc_pidpath writes at most `buf.len()` bytes into `buf` and returns that length.
    let n = unsafe { libc::proc_pidpath(ppid, buf.as_mut_ptr().cast(), buf.len() as u32) };
    if n <= 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn parent_program() -> Option<String> {
    None
}
