//! Running a CLI and reading what it printed, as every caller of one wants it: a failure to run
//! (not installed, timed out, too much output) or a failed run becomes a [`StoreError`] with
//! the fix, and JSON output is parsed without its text ever reaching an error message. Stores,
//! leases and the network helper's client all run CLIs this way.

use super::{Child, Output, ProcessError};
use crate::store_error::StoreError;

/// Turns a failure to run a CLI into a store error with the right fix.
pub fn process_error(e: ProcessError, install_hint: &str) -> StoreError {
    let fix = match &e {
        ProcessError::NotInstalled { .. } => install_hint.to_string(),
        ProcessError::TimedOut { .. } => {
            "raise `timeout` on the entry or in [secrets.options], or check the store is reachable"
                .to_string()
        }
        ProcessError::OutputTooLarge { .. } => {
            "check the reference points at a secret, not a large file".into()
        }
        ProcessError::Spawn { .. } => "check the program's permissions".into(),
        ProcessError::NotApproved { program, .. } => format!(
            "read it; if you mean it to run, name it in the manifest (`cmd:`, or `[secrets.options] commands = {{ \"{program}\" = \"./path/to/it\" }}`) and run `jit-secrets allow` to approve it, or take the repository's directory off PATH"
        ),
        ProcessError::WantsTerminal { .. } => {
            "run it where a person can answer (in the foreground, without --no-prompt), or store the secret where no prompt is needed".into()
        }
    };
    StoreError::new(e.to_string()).fix(fix)
}

/// Runs a CLI; a failure to run becomes `Err`, with the fix (`install_hint` when it is missing).
pub fn run_cli(child: Child<'_>, install_hint: &str) -> Result<Output, StoreError> {
    super::run(child).map_err(|e| process_error(e, install_hint))
}

/// The error for a CLI that ran and failed.
pub fn cli_failed(program: &str, out: Output, fix: &str) -> StoreError {
    StoreError::new(format!("`{program}` failed ({})", out.exit))
        .with_stderr(out.stderr)
        .fix(fix)
}

/// Parses a CLI's JSON output without copying the text into a message on failure.
pub fn parse_json(bytes: &[u8], program: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| {
        StoreError::new(format!(
            "`{program}` printed output that is not the JSON expected (at line {}, column {})",
            e.line(),
            e.column()
        ))
        .fix(format!(
            "check your `{program}` version; run the command by hand to see"
        ))
    })
}
