//! `jit-secrets completions SHELL` and `jit-secrets man`: generated from the clap definitions.

use super::EXIT_OK;
use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "jit-secrets", &mut std::io::stdout());
    Ok(EXIT_OK)
}

pub fn man() -> anyhow::Result<u8> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(EXIT_OK)
}
