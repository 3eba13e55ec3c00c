//! jit-secrets: parse arguments, dispatch, map errors to exit codes. Nothing else lives here.

use clap::Parser;
use jit_secrets::{cli, commands};
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
