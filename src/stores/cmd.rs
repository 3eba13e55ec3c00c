//! `cmd:PROGRAM ARGS…` — any program, no shell; its stdout is the value, a non-zero exit an error.

use super::{cli_failed, run_cli, Outcome, Store};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use std::time::Duration;

pub struct Cmd;

impl Store for Cmd {
    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::Cmd { argv, .. } = reference else {
            unreachable!("cmd store got {reference}")
        };
        let program = ctx.command(&argv[0]);
        let mut child = Child::new(&program, timeout).args(&argv[1..]);
        if let Some(dir) = &ctx.manifest_dir {
            child = child.current_dir(dir);
        }
        let out = match run_cli(
            child,
            &format!("install `{}` or fix the path in the reference", argv[0]),
        ) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if out.exit.success() {
            super::found_unless_empty(&argv[0], reference, out.stdout)
        } else {
            Outcome::Failed(cli_failed(
                &argv[0],
                out,
                "run the command by hand to see why it fails",
            ))
        }
    }
}
