//! `jit-secrets set NAME`: store a value from a hidden prompt or stdin, never from argv.

use super::target::resolve_write_target;
use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{Global, SetArgs};
use crate::secret::SecretValue;
use std::io::{IsTerminal, Read};
use zeroize::Zeroizing;

pub fn run(global: &Global, args: SetArgs) -> anyhow::Result<u8> {
    let target = resolve_write_target(global, &args.name, args.reference.as_deref())?;
    let value = read_value(&args.name)?;
    if !target.write_or_report(&args.name, &value) {
        return Ok(EXIT_SECRET_FAILURE);
    }
    eprintln!(
        "jit-secrets: stored {} in {} ({} bytes)",
        args.name,
        target.reference,
        value.len()
    );
    Ok(EXIT_OK)
}

/// From a hidden prompt when stdin is a terminal, else all of stdin minus one trailing newline
/// (what `echo` and most programs add).
fn read_value(name: &str) -> anyhow::Result<SecretValue> {
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        let first = crate::tty::prompt_hidden(&format!("Value for {name}: "))?;
        let again = crate::tty::prompt_hidden("Again: ")?;
        if first != again {
            return Err(UsageError("the two values differ; nothing stored".into()).into());
        }
        SecretValue::new(first.to_vec())
    } else {
        let mut buf = Zeroizing::new(Vec::new());
        stdin.lock().read_to_end(&mut buf)?;
        SecretValue::new(std::mem::take(&mut *buf)).trim_one_newline()
    };
    if value.is_empty() {
        return Err(UsageError(format!("empty value for {name}; nothing stored")).into());
    }
    Ok(value)
}
