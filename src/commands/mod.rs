//! One file per subcommand. Only commands print to stdout; everything for people goes to stderr.

mod activate;
mod add;
mod allow;
mod cache;
mod completions;
mod deactivate;
mod delete;
mod forget;
mod get;
mod hook;
mod import;
mod init;
mod lease;
mod list;
mod remove;
mod rotate;
mod run;
mod scoped;
mod set;
mod setup;
mod target;
mod verify;

use crate::cli::{Cli, Command};
use crate::manifest::{Manifest, ManifestError};
use crate::resolve::{EntryResult, Resolution, Status};
use crate::secret::Scrubber;
use crate::store_error::StoreError;
use std::io::Write;

pub const EXIT_OK: u8 = 0;
pub const EXIT_SECRET_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// `verify`: everything resolves, but something is stale or overdue.
pub const EXIT_STALE: u8 = 3;

/// A usage error found after argument parsing (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Proxy mode (`src/scoped.rs`): resolve `command`'s scoped entries and exec the real program.
/// Returns only when it did not start (126).
pub fn run_scoped(command: &str) -> u8 {
    let code = scoped::run(command);
    crate::process::wait_if_interrupted();
    code
}

pub fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Activate(args) => activate::run(&cli.global, args),
        Command::Run(args) => run::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Add(args) => add::run(&cli.global, args),
        Command::Remove(args) => remove::run(&cli.global, args),
        Command::Hook(args) => hook::run(args),
        Command::Deactivate(args) => deactivate::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
        Command::Verify(args) => verify::run(&cli.global, args),
        Command::Rotate(args) => rotate::run(&cli.global, args),
        Command::Set(args) => set::run(&cli.global, args),
        Command::Delete(args) => delete::run(&cli.global, args),
        Command::Get(args) => get::run(&cli.global, args),
        Command::Import(args) => import::run(&cli.global, args),
        Command::Allow(args) => allow::allow(&cli.global, args),
        Command::Cache(args) => cache::run(&cli.global, args),
        Command::Lease(args) => lease::run(&cli.global, args),
        Command::Setup(args) => setup::run(&cli.global, args),
        Command::Forget(args) => forget::run(&cli.global, args),
        Command::Deny(args) => allow::deny(&cli.global, args),
    }
}

/// The status of a command whose reader went away (`jit-secrets list | head -1`): what a
/// program killed by SIGPIPE reports to its shell, with no message, as `cat` or `yes` would.
pub const EXIT_BROKEN_PIPE: u8 = 128 + 13;

/// Argument parsing refused the command line (or it asked for help). `activate` still owes its
/// evaluating shell the failure statement: a typo must not `eval` to nothing and succeed.
pub fn usage_error(refused: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    use std::io::IsTerminal;
    let to_stdout = matches!(
        refused.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    let on_terminal = if to_stdout {
        std::io::stdout().is_terminal()
    } else {
        std::io::stderr().is_terminal()
    };
    let text = if on_terminal {
        refused.render().ansi().to_string()
    } else {
        refused.render().to_string()
    };
    match refused.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return match print_stdout(text.as_bytes()) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_BROKEN_PIPE,
            };
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{text}");
            return EXIT_USAGE;
        }
        _ => {}
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let text = match unexpected_value_refusal(&refused, &args) {
        Some(refusal) => refusal,
        None => text,
    };
    if let Some(shell) = crate::cli::activate_shell_requested(&args) {
        let statement = match shell {
            Some(shell) => crate::shell::failure_statement(shell),
            None => crate::shell::UNIVERSAL_FAILURE_STATEMENT,
        };
        let _ = print_stdout(statement.as_bytes());
    }
    eprint!("{}", text.replacen("error:", "jit-secrets: error:", 1));
    EXIT_USAGE
}

/// An unexpected word on the command line is often a secret typed where it does not belong
/// (`jit-secrets set API_KEY sk-live-…`): clap's message would print it back, into a terminal's
/// scrollback or a CI log. Instead: a message that does not contain it, and for `set` (where a
/// value is the likely extra, whatever it starts with) where the value goes.
fn unexpected_value_refusal(refused: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if refused.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let command = crate::cli::subcommand_requested(args);
    let extra = match refused.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let set = command.as_deref() == Some("set");
    if !set && extra.starts_with('-') {
        return None;
    }
    let usage = refused.render().to_string();
    let usage = usage
        .find("Usage:")
        .map(|at| usage[at..].to_string())
        .unwrap_or_default();
    let hint = if set {
        "\n  fix: `set` takes the value from a hidden prompt (`jit-secrets set NAME` on a terminal) or from stdin (`printf %s \"$VALUE\" | jit-secrets set NAME`), never from the command line, where shell history and `ps` see it; nothing was stored\n  if it was a secret: it is in your shell history now, remove it there"
    } else {
        ""
    };
    Some(format!(
        "error: unexpected argument (not shown: it may be a secret value){hint}\n\n{usage}"
    ))
}

fn print_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Says what failed (one `jit-secrets: error:` block) and returns the exit status for it; a
/// closed stdout ends the command quietly.
pub fn report_error(err: &anyhow::Error) -> u8 {
    let broken_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return EXIT_BROKEN_PIPE;
    }
    eprintln!("jit-secrets: error: {err:#}");
    exit_code_for(err)
}

pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<ManifestError>().is_some()
        || err.downcast_ref::<UsageError>().is_some()
        || err.downcast_ref::<crate::trust::TrustError>().is_some()
    {
        EXIT_USAGE
    } else {
        EXIT_SECRET_FAILURE
    }
}

/// `--only NAME…` as the resolver takes it (`None`: every entry); a name the manifest does not
/// declare is a usage error that lists the known ones, never a silent "nothing to do".
pub fn only_known<'a>(
    manifest: &Manifest,
    only: &'a [String],
) -> Result<Option<&'a [String]>, UsageError> {
    if let Some(unknown) = only
        .iter()
        .find(|n| !manifest.entries.iter().any(|e| &e.name == *n))
    {
        let known: Vec<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
        return Err(UsageError(format!(
            "--only {}: no such secret in {} (known: {})",
            crate::printable::escaped(unknown),
            crate::printable::path(&manifest.path),
            known.join(", ")
        )));
    }
    Ok((!only.is_empty()).then_some(only))
}

/// Asks `question [y/N]` on the terminal; `yes` answers it in advance, and without a terminal it
/// must (a usage error otherwise: nothing destructive happens unasked).
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    confirm_to(question, yes, "delete")
}

/// [`confirm`] for another action (`what`: "rotate", named in the error off a terminal).
pub fn confirm_to(question: &str, yes: bool, what: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "not on a terminal: pass --yes to {what} without asking"
        ))
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// One block per lease that could not be created (a warning for an optional one), one line per
/// note.
fn report_lease_problems(resolution: &Resolution, err: &mut impl Write) {
    for lease in &resolution.leases {
        let spec = lease.spec;
        match &lease.outcome {
            Ok(granted) => {
                if let Some(note) = &granted.note {
                    let _ = writeln!(err, "jit-secrets: note: lease {}: {note}", spec.name);
                }
            }
            Err(error) if !spec.required => {
                let _ = writeln!(
                    err,
                    "jit-secrets: warning: lease {} ({}) not created (optional, skipped): {}",
                    spec.name,
                    spec.kind.name(),
                    error.message
                );
            }
            Err(error) => {
                let _ = writeln!(
                    err,
                    "jit-secrets: error: lease {} ({}): {}",
                    spec.name,
                    spec.kind.name(),
                    error.message
                );
                if let Some(stderr) = &error.stderr {
                    for line in stderr.scrubbed(&resolution.scrubber).lines().take(8) {
                        let _ = writeln!(err, "  | {line}");
                    }
                }
                if let Some(fix) = &error.fix {
                    let _ = writeln!(err, "  fix: {fix}");
                }
            }
        }
    }
}

/// Writes one stderr block per entry that failed or is missing: the secret, its reference and
/// store, the store's (scrubbed) words and the fix. Optional missing secrets get one warning line.
///
/// A batch call that failed as a whole fails every secret in it with the same error: after the
/// first full block, the others get one line that points back at it (in print order).
pub fn report_problems(resolution: &Resolution) {
    // Failures caused by an interrupt are not reported: the signal thread says what happened.
    crate::process::wait_if_interrupted();
    let mut err = std::io::stderr().lock();
    for note in &resolution.notes {
        let _ = writeln!(err, "jit-secrets: note: {note}");
    }
    let mut printed: Vec<(String, &str)> = Vec::new();
    for r in &resolution.results {
        if let Status::Failed { source, error } = &r.status {
            let reference = &r.entry.from[*source];
            let stderr = error
                .stderr
                .as_ref()
                .map(|s| s.scrubbed(&resolution.scrubber))
                .unwrap_or_default();
            let key = format!("{}\0{}\0{stderr}", reference.store().name(), error.message);
            if let Some((_, first)) = printed.iter().find(|(k, _)| *k == key) {
                let _ = writeln!(
                    err,
                    "jit-secrets: error: {}: {reference} ({}): {}\n  (the same failure as {first} above)",
                    r.entry.name,
                    reference.store().name(),
                    error.message
                );
                continue;
            }
            printed.push((key, &r.entry.name));
        }
        let _ = err.write_all(describe_problem(r, resolution).as_bytes());
    }
    report_lease_problems(resolution, &mut err);
}

/// The block for one failed store call: `error:` line naming the secret, reference and store, the
/// store's own words (scrubbed of every value known), and the fix.
pub fn describe_store_error(
    name: &str,
    reference: &crate::reference::Reference,
    error: &StoreError,
    scrubber: &Scrubber,
) -> String {
    let mut s = format!(
        "jit-secrets: error: {name}: {reference} ({}): {}\n",
        reference.store().name(),
        error.message
    );
    if let Some(stderr) = &error.stderr {
        for line in stderr.scrubbed(scrubber).lines().take(8) {
            s.push_str(&format!("  | {line}\n"));
        }
    }
    if let Some(fix) = &error.fix {
        s.push_str(&format!("  fix: {fix}\n"));
    }
    s
}

pub fn describe_problem(r: &EntryResult, resolution: &Resolution) -> String {
    let e = r.entry;
    let chain = || {
        e.from
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &r.status {
        Status::Found { .. } => String::new(),
        Status::Missing if !e.required => {
            format!("jit-secrets: warning: {} not found in {} (optional, left unset)\n", e.name, chain())
        }
        Status::Missing => format!(
            "jit-secrets: error: {}: not found in {}\n  fix: create it in the store, correct the reference, or mark it `required = false`\n",
            e.name,
            chain()
        ),
        Status::Failed { source, error } => describe_store_error(&e.name, &e.from[*source], error, &resolution.scrubber),
        Status::Invalid { source, reason } => format!(
            "jit-secrets: error: {}: {} ({}): {reason}\n  fix: store a value without NUL bytes\n",
            e.name,
            e.from[*source],
            e.from[*source].store().name()
        ),
    }
}
