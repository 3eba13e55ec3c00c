//! `sops:FILE#a.b.c` — one `sops -d --output-type json FILE` per file for every key taken from
//! it; values are picked by path in memory and the decrypted document is wiped. sops finds the
//! key itself (age, PGP, cloud KMS), as it does on the command line.

use super::{
    cli_failed, fail_batch, json_field_value, parse_json, run_cli, wipe_json, Outcome, Store,
    StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use std::time::Duration;

pub struct Sops;

const INSTALL: &str = "install sops (https://github.com/getsops/sops)";
const KEYS: &str = "check sops can find your key (SOPS_AGE_KEY_FILE, gpg-agent, cloud credentials): run `sops -d FILE` by hand";

fn pick<'a>(doc: &'a serde_json::Value, key_path: &[String]) -> Option<&'a serde_json::Value> {
    key_path.iter().try_fold(doc, |node, key| match node {
        serde_json::Value::Object(map) => map.get(key),
        serde_json::Value::Array(list) => key.parse::<usize>().ok().and_then(|i| list.get(i)),
        _ => None,
    })
}

impl Store for Sops {
    fn cache_context(&self) -> &'static [&'static str] {
        &["SOPS_AGE_KEY_FILE"]
    }

    fn batch_key(&self, reference: &Reference) -> String {
        match reference {
            Reference::Sops { file, .. } => file.display().to_string(),
            other => other.to_string(),
        }
    }

    fn fetches_whole_document(&self) -> bool {
        true
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    /// May ask the person (a passphrase, an unlock, a biometric prompt): see `Store::may_prompt`.
    /// It cannot be kept from asking: 1Password, the keyring's unlock and gpg (for sops' PGP keys)
    /// prompt outside our process.
    fn may_prompt(&self, _ctx: &Context) -> bool {
        true
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let Some(Reference::Sops { file, .. }) = refs.first() else {
            return Vec::new();
        };
        // A missing file is "not found", like file:, so a fallback chain can go on.
        if !file.exists() {
            return refs.iter().map(|_| Outcome::NotFound).collect();
        }
        let child = Child::new(ctx.command("sops"), timeout)
            .args(["-d", "--output-type", "json"])
            .arg(file);
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return fail_batch(refs, e),
        };
        if !out.exit.success() {
            return fail_batch(refs, cli_failed("sops", out, KEYS));
        }
        let doc = match parse_json(out.stdout.expose(), "sops") {
            Ok(d) => d,
            Err(e) => return fail_batch(refs, e),
        };
        let outcomes = refs
            .iter()
            .map(|r| {
                let Reference::Sops { key_path, .. } = r else {
                    unreachable!("sops store got {r}")
                };
                match pick(&doc, key_path) {
                    Some(v) if !v.is_null() && !v.is_object() && !v.is_array() => {
                        Outcome::Found(json_field_value(v))
                    }
                    Some(v) if !v.is_null() => Outcome::Failed(
                        StoreError::new(format!(
                            "{r} is a {} in the file, not a value",
                            if v.is_object() { "map" } else { "list" }
                        ))
                        .fix("name a leaf, e.g. `#db.password`"),
                    ),
                    _ => Outcome::NotFound,
                }
            })
            .collect();
        wipe_json(doc);
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_nested_keys_and_array_items() {
        let doc = serde_json::json!({"db": {"password": "p", "hosts": ["a", "b"]}});
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            pick(&doc, &path("db.password")),
            Some(&serde_json::json!("p"))
        );
        assert_eq!(
            pick(&doc, &path("db.hosts.1")),
            Some(&serde_json::json!("b"))
        );
        assert_eq!(pick(&doc, &path("db.nope")), None);
        assert_eq!(pick(&doc, &path("db.password.x")), None);
    }
}
