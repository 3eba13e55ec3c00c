//! `jit-secrets activate`: print shell code exporting every secret, and nothing else on stdout.

use super::{context, load_manifest, report_problems, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{ActivateArgs, Global};
use crate::resolve::{resolve, Status};
use crate::shell::{self, Shell};
use std::io::{IsTerminal, Write};

pub fn run(global: &Global, args: ActivateArgs) -> anyhow::Result<u8> {
    let manifest = load_manifest(global)?;
    let shell = args.shell.unwrap_or_else(detect_shell);
    let ctx = context(global, &manifest);
    let resolution = resolve(&manifest, None, &ctx);
    report_problems(&resolution);

    let mut stdout = std::io::stdout().lock();
    if resolution.has_fatal() {
        stdout.write_all(shell::failure_statement(shell).as_bytes())?;
        stdout.flush()?;
        eprintln!("jit-secrets: nothing exported (fix the errors above and activate again)");
        return Ok(EXIT_SECRET_FAILURE);
    }
    let found: Vec<(&str, &[u8])> = resolution
        .results
        .iter()
        .filter_map(|r| r.value().map(|v| (r.entry.name.as_str(), v.expose())))
        .collect();

    if stdout.is_terminal() && !args.reveal {
        // A person is looking: show what would be exported and where from, not the values.
        let mut view = shell::comment(shell, "values masked: stdout is a terminal");
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
        stdout.write_all(view.as_bytes())?;
        let hint = match shell {
            Shell::Fish => "jit-secrets activate --shell fish | source",
            Shell::Json => "jit-secrets activate --shell json | your-program",
            _ => "source <(jit-secrets activate)   # or: eval \"$(jit-secrets activate)\"",
        };
        eprintln!("jit-secrets: to load these into your shell run:  {hint}   (--reveal prints the values)");
        return Ok(EXIT_OK);
    }
    let code = match shell::render(shell, &found) {
        Ok(code) => zeroize::Zeroizing::new(code),
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

/// The shell that will evaluate our output: our parent (the shell running `eval "$(…)"`,
/// `source <(…)` or `… | source`), else `$SHELL`, else POSIX. Inside Flox's `on-activate` hook
/// the parent is bash even for a fish user, which is what must be printed there.
fn detect_shell() -> Shell {
    parent_shell()
        .or_else(|| {
            std::env::var("SHELL")
                .ok()
                .and_then(|s| Shell::from_program_name(&s))
        })
        .unwrap_or(Shell::Posix)
}

#[cfg(target_os = "linux")]
fn parent_shell() -> Option<Shell> {
    let ppid = std::os::unix::process::parent_id();
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok()?;
    Shell::from_program_name(comm.trim())
}

#[cfg(not(target_os = "linux"))]
fn parent_shell() -> Option<Shell> {
    None
}
