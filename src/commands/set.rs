//! `jit-secrets set NAME`: store a value from a hidden prompt or stdin, never from argv.

use super::target::resolve_target;
use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{Global, SetArgs};
use crate::resolve::write_value;
use crate::secret::SecretValue;
use std::io::{IsTerminal, Read, Write};
use zeroize::Zeroizing;

pub fn run(global: &Global, args: SetArgs) -> anyhow::Result<u8> {
    let target = resolve_target(global, &args.name, args.reference.as_deref())?;
    let value = read_value(&args.name)?;
    match write_value(&target.reference, &value, target.timeout, &target.ctx) {
        Ok(()) => {
            eprintln!(
                "jit-secrets: stored {} in {} ({} bytes)",
                args.name,
                target.reference,
                value.len()
            );
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!(
                "jit-secrets: error: {}: {} ({}): {}",
                args.name,
                target.reference,
                target.reference.store().name(),
                e.message
            );
            if let Some(stderr) = &e.stderr {
                let mut scrub = crate::secret::Scrubber::new();
                scrub.add(value.expose());
                for line in stderr.scrubbed(&scrub).lines().take(8) {
                    eprintln!("  | {line}");
                }
            }
            if let Some(fix) = &e.fix {
                eprintln!("  fix: {fix}");
            }
            Ok(EXIT_SECRET_FAILURE)
        }
    }
}

/// From a hidden prompt when stdin is a terminal, else all of stdin minus one trailing newline
/// (what `echo` and most programs add).
fn read_value(name: &str) -> anyhow::Result<SecretValue> {
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        let first = prompt_hidden(&format!("Value for {name}: "))?;
        let again = prompt_hidden("Again: ")?;
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

/// Reads one line from the terminal on stdin with echo turned off.
fn prompt_hidden(prompt: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let fd = libc::STDIN_FILENO;
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    // SAFETY: termios is plain data; we restore the saved state before returning.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            anyhow::bail!("cannot read terminal settings");
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        libc::tcsetattr(fd, libc::TCSANOW, &t);
        saved
    };
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    let result = loop {
        match std::io::stdin().lock().read(&mut byte) {
            Ok(0) => break Ok(()),
            Ok(_) if byte[0] == b'\n' => break Ok(()),
            Ok(_) => line.push(byte[0]),
            Err(e) => break Err(e),
        }
    };
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
    }
    result?;
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}
