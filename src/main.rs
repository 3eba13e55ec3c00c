//! jit-secrets: parse arguments, dispatch, map errors to exit codes. Nothing else lives here.

use jit_secrets::{cli, commands};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    if args
        .nth(1)
        .is_some_and(|a| a == jit_secrets::lease::keeper::KEEPER_ARG)
    {
        let description = args.next().unwrap_or_default();
        jit_secrets::lease::keeper::main(&description.to_string_lossy());
    }
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == jit_secrets::process::WATCHER_ARG)
    {
        jit_secrets::process::watcher_main();
    }
    jit_secrets::process::harden_against_core_dumps();
    jit_secrets::process::enable_watcher();
    // Before any other thread: the signal mask is inherited by every thread started later.
    jit_secrets::process::install_signal_handling();
    // Started as `gh` through a scope directory: the proxy for a scoped command.
    if let Some(command) = std::env::args_os()
        .next()
        .and_then(|argv0| jit_secrets::scoped::invoked_as(&argv0))
    {
        return ExitCode::from(commands::run_scoped(&command));
    }
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(refused) => return ExitCode::from(commands::usage_error(refused)),
    };
    let result = commands::dispatch(cli);
    // Interrupted meanwhile: the signal thread prints the failure statement and exits 128+N.
    jit_secrets::process::wait_if_interrupted();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => ExitCode::from(commands::report_error(&err)),
    }
}
