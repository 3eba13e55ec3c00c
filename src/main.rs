//! jit-secrets: parse arguments, dispatch, map errors to exit codes. Nothing else lives here.

mod cli;
mod commands;
mod manifest;
mod manifest_edit;
mod process;
mod reference;
mod resolve;
mod secret;
mod shell;
mod stores;
mod time;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let code = commands::exit_code_for(&err);
            eprintln!("jit-secrets: error: {err:#}");
            ExitCode::from(code)
        }
    }
}
