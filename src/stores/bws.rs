//! `bws:SECRET_ID` — Bitwarden Secrets Manager through `bws`, authenticated by the machine
//! account's `BWS_ACCESS_TOKEN`. One secret: `bws secret get ID`; several: ONE `bws secret list`
//! (each `bws` call logs in with the token before it asks, so one call is one login and one round
//! trip instead of N), the ids picked out here.
//!
//! Not writable: `bws secret edit` takes the new value only as `--value VALUE`, on argv, where any
//! process on the machine could read it.

use super::{
    cli_failed, decode_json_items, json_field_value, parse_json, run_cli, wipe_json, Outcome,
    Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use serde_json::Value;
use std::time::Duration;

pub struct Bws;

const INSTALL: &str = "install the Bitwarden Secrets Manager CLI `bws` (https://bitwarden.com/help/secrets-manager-cli/)";
const TOKEN: &str =
    "set BWS_ACCESS_TOKEN to a machine account's access token that can read this secret";

fn id(reference: &Reference) -> &str {
    match reference {
        Reference::Bws { id } => id,
        other => unreachable!("bws store got {other}"),
    }
}

/// `bws` reports the server's 404 as `[404 Not Found] {"message":"Resource not found." …}` —
/// also for `secret list` when the token sees no secret at all (bitwarden/sdk-sm issue #941).
fn is_not_found(stderr: &str) -> bool {
    stderr.contains("404 Not Found") || stderr.contains("Resource not found")
}

impl Bws {
    /// The secrets that may answer `refs`, as one JSON array.
    fn secrets(
        &self,
        refs: &[&Reference],
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Value, StoreError> {
        let child = Child::new(ctx.command("bws"), timeout);
        let child = match refs {
            [one] => child.args(["secret", "get", id(one)]),
            _ => child.args(["secret", "list"]),
        }
        .args(["--output", "json", "--color", "no"]);
        let out = run_cli(child, INSTALL)?;
        if !out.exit.success() {
            if is_not_found(&out.stderr.scrubbed(&Default::default())) {
                return Ok(Value::Array(Vec::new()));
            }
            return Err(cli_failed("bws", out, TOKEN));
        }
        let doc = parse_json(out.stdout.expose(), "bws")?;
        super::as_item_list(doc, "bws", "a secret or a list of secrets")
    }
}

fn find<'a>(secrets: &'a [Value], id: &str) -> Option<&'a Value> {
    secrets
        .iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
}

impl Store for Bws {
    fn cache_context(&self) -> &'static [&'static str] {
        &["BWS_ACCESS_TOKEN", "BWS_SERVER_URL", "BWS_PROFILE"]
    }

    fn batch_key(&self, _reference: &Reference) -> String {
        String::new()
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    /// `bws secret list` answers for every secret: fallbacks ride along in the same call.
    fn fetches_whole_document(&self) -> bool {
        true
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let doc = match self.secrets(refs, timeout, ctx) {
            Ok(doc) => doc,
            Err(e) => return super::fail_batch(refs, e),
        };
        let secrets = decode_json_items(&doc);
        let outcomes = refs
            .iter()
            .map(|r| match find(secrets, id(r)) {
                Some(s) if !s["value"].is_null() => Outcome::Found(json_field_value(&s["value"])),
                _ => Outcome::NotFound,
            })
            .collect();
        wipe_json(doc);
        outcomes
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let doc = self.secrets(&[reference], timeout, ctx)?;
        let when = find(decode_json_items(&doc), id(reference))
            .and_then(|s| crate::time::from_json(&s["revisionDate"]));
        wipe_json(doc);
        Ok(when)
    }
}
