//! `op://…` — 1Password CLI: `op read --no-newline REF`, reusing the user's `op signin` session.

use super::{cli_failed, run_cli, Context, Outcome, Store, StoreError};
use crate::process::Child;
use crate::reference::Reference;
use std::time::Duration;

pub struct Op;

const INSTALL: &str =
    "install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/)";
const SIGNIN: &str = "run `op signin` (or set OP_SERVICE_ACCOUNT_TOKEN), then try again";

/// `op`'s own words for "no such vault, item or field" (it exits 1 for every error).
pub(crate) fn is_not_found(stderr: &str) -> bool {
    [
        "isn't an item",
        "isn't a field",
        "isn't a vault",
        "could not find item",
        "no item found",
        "could not find field",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

impl Store for Op {
    /// `op` may show a biometric prompt: never several at once.
    fn max_parallel(&self) -> usize {
        1
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let Reference::Op { uri } = reference else {
            unreachable!("op store got {reference}")
        };
        let mut parts = uri.trim_start_matches("op://").split('/');
        let (vault, item) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let child = Child::new(ctx.command("op"), timeout)
            .args(["item", "get", item, "--vault", vault, "--format", "json"]);
        let out = run_cli(child, INSTALL)?;
        if !out.exit.success() {
            return Err(cli_failed("op", out, SIGNIN));
        }
        // The item JSON holds every field's value: take the date, wipe the rest.
        let doc = super::parse_json(out.stdout.expose(), "op")?;
        let when = crate::time::from_json(&doc["updated_at"]);
        super::wipe_json(doc);
        Ok(when)
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::Op { uri } = reference else {
            unreachable!("op store got {reference}")
        };
        let child =
            Child::new(ctx.command("op"), timeout).args(["read", "--no-newline", uri.as_str()]);
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if out.exit.success() {
            return Outcome::Found(out.stdout);
        }
        if is_not_found(&out.stderr.scrubbed(&Default::default())) {
            return Outcome::NotFound;
        }
        Outcome::Failed(cli_failed("op", out, SIGNIN))
    }
}
