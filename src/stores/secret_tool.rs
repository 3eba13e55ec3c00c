//! `secret-tool:ATTR=VAL&…` — `secret-tool lookup ATTR VAL …` (libsecret's CLI).

use super::{cli_failed, run_cli, Context, Outcome, Store};
use crate::process::Child;
use crate::reference::Reference;
use std::time::Duration;

pub struct SecretTool;

impl Store for SecretTool {
    /// A locked keyring pops an unlock prompt: one at a time.
    fn max_parallel(&self) -> usize {
        1
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::SecretTool { attributes } = reference else {
            unreachable!("secret-tool store got {reference}")
        };
        let mut child = Child::new(ctx.command("secret-tool"), timeout).arg("lookup");
        for (k, v) in attributes {
            child = child.arg(k).arg(v);
        }
        let out = match run_cli(
            child,
            "install libsecret's CLI (apt install libsecret-tools)",
        ) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        match (out.exit.success(), out.stderr.is_blank()) {
            (true, _) => Outcome::Found(out.stdout),
            // `secret-tool lookup` says nothing and exits 1 when no item matches.
            (false, true) => Outcome::NotFound,
            (false, false) => Outcome::Failed(cli_failed(
                "secret-tool",
                out,
                "is a Secret Service (gnome-keyring, KeePassXC) running and unlocked in this session?",
            )),
        }
    }
}
