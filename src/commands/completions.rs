//! `jit-secrets completions SHELL` and `jit-secrets man`: generated from the clap definitions.
//! Each is rendered into memory first and written in one go, so a closed pipe is an error we
//! report quietly (`jit-secrets completions bash | head -1`), not a panic in the generator.

use super::EXIT_OK;
use crate::cli::CompletionsArgs;
use std::io::Write;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = crate::cli::command();
    let mut text = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "jit-secrets", &mut text);
    write_out(&text)
}

/// One page: the global options shown (`--help` keeps them to the top level), and each command
/// named as `jit-secrets COMMAND`, not as a `jit-secrets-COMMAND(1)` page that does not exist.
pub fn man() -> anyhow::Result<u8> {
    let cmd = crate::cli::command()
        .mut_args(|a| if a.is_global_set() { a.hide(false) } else { a })
        .after_help("Each command's own options: jit-secrets COMMAND --help.");
    let mut text = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut text)?;
    let text = String::from_utf8(text)?;
    write_out(commands_named_in_place(&text).as_bytes())
}

/// `jit\-secrets\-activate(1)` → `jit\-secrets activate`.
fn commands_named_in_place(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for line in roff.split_inclusive('\n') {
        match line
            .strip_prefix("jit\\-secrets\\-")
            .and_then(|rest| rest.strip_suffix("(1)\n"))
        {
            Some(command) => out.push_str(&format!("jit\\-secrets {command}\n")),
            None => out.push_str(line),
        }
    }
    out
}

fn write_out(text: &[u8]) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)?;
    out.flush()?;
    Ok(EXIT_OK)
}
