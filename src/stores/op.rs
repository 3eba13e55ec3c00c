//! `op://…` — 1Password CLI, reusing the user's `op signin` session (or service account token).
//!
//! One reference: `op read --no-newline REF`. Several: ONE `op inject` call. The template on stdin
//! wraps each `{{ op://… }}` between markers made of 128 random bits, fresh for every call, so a
//! value — multi-line, or containing text that looks like a marker — cannot be mistaken for one.
//! If the batch fails because a reference is missing, each is read on its own to learn which, so
//! "not found" still moves that entry along its fallback chain.

use super::{cli_failed, run_cli, Outcome, Store, StoreError};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
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

fn uri(reference: &Reference) -> &str {
    match reference {
        Reference::Op { uri } => uri,
        other => unreachable!("op store got {other}"),
    }
}

fn random_marker() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("jit-secrets-{hex}")
}

/// The template for `op inject` and the markers to cut its output by.
fn template(refs: &[&Reference], marker: &str) -> String {
    let mut t = String::new();
    for (i, r) in refs.iter().enumerate() {
        t.push_str(&format!(
            "{marker}-{i}-begin\n{{{{ {} }}}}\n{marker}-{i}-end\n",
            uri(r)
        ));
    }
    t
}

/// Cuts `op inject`'s output back into one value per reference.
fn split_injected(out: &[u8], count: usize, marker: &str) -> Option<Vec<SecretValue>> {
    let mut values = Vec::with_capacity(count);
    let mut rest = out;
    for i in 0..count {
        let begin = format!("{marker}-{i}-begin\n");
        let end = format!("\n{marker}-{i}-end\n");
        rest = rest.strip_prefix(begin.as_bytes())?;
        let at = find(rest, end.as_bytes())?;
        values.push(SecretValue::new(rest[..at].to_vec()));
        rest = &rest[at + end.len()..];
    }
    rest.is_empty().then_some(values)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Op {
    fn read(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let child =
            Child::new(ctx.command("op"), timeout).args(["read", "--no-newline", uri(reference)]);
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if out.exit.success() {
            return super::found_unless_empty("op", reference, out.stdout);
        }
        if is_not_found(&out.stderr.scrubbed(&Default::default())) {
            return Outcome::NotFound;
        }
        Outcome::Failed(cli_failed("op", out, SIGNIN))
    }
}

impl Store for Op {
    fn cache_context(&self) -> &'static [&'static str] {
        &["OP_ACCOUNT", "OP_SERVICE_ACCOUNT_TOKEN", "OP_CONNECT_HOST"]
    }

    fn batch_key(&self, _reference: &Reference) -> String {
        String::new()
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
        self.read(reference, timeout, ctx)
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let marker = random_marker();
        let input = template(refs, &marker);
        let child = Child::new(ctx.command("op"), timeout)
            .arg("inject")
            .stdin(input.as_bytes());
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return super::fail_batch(refs, e),
        };
        if out.exit.success() {
            if let Some(values) = split_injected(out.stdout.expose(), refs.len(), &marker) {
                return values.into_iter().map(Outcome::Found).collect();
            }
            return refs
                .iter()
                .map(|_| {
                    Outcome::Failed(
                        StoreError::new("`op inject` answered in an unexpected shape")
                            .fix("check your `op` version (2.x is supported)"),
                    )
                })
                .collect();
        }
        if is_not_found(&out.stderr.scrubbed(&Default::default())) {
            // Which one is missing? Ask each: the others are found, the missing one is NotFound.
            return refs.iter().map(|r| self.read(r, timeout, ctx)).collect();
        }
        super::fail_batch(refs, cli_failed("op", out, SIGNIN))
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let mut parts = uri(reference).trim_start_matches("op://").split('/');
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_clis_not_found_messages_are_not_found() {
        // Verbatim from the real CLI's output as quoted publicly (sources in tests/fake/op).
        for message in [
            "[ERROR] 2023/04/24 13:55:55 \"qbw7cz35hurhj5zhwzglwd6uku\" isn't an item in any vault.",
            "[ERROR] 2022/08/24 12:31:40 could not read secret op://Systems-staging/.env.api/SOME_API_KEY: could not find field or file SOME_API_KEY on item .env.api in vault Systems-staging",
            "\"Engineering\" isn't a vault in this account",
        ] {
            assert!(is_not_found(message), "{message}");
        }
        assert!(!is_not_found(
            "[ERROR] 2026/01/01 00:00:00 You are not currently signed in. Please run `op signin --help` for instructions"
        ));
    }

    fn refs(n: usize) -> Vec<Reference> {
        (0..n)
            .map(|i| Reference::parse(&format!("op://v/i{i}/f")).unwrap())
            .collect()
    }

    #[test]
    fn markers_are_fresh_and_unguessable() {
        let (a, b) = (random_marker(), random_marker());
        assert_ne!(a, b);
        assert_eq!(a.len(), "jit-secrets-".len() + 32);
    }

    #[test]
    fn splits_values_that_contain_newlines_and_marker_lookalikes() {
        let r = refs(3);
        let rr: Vec<&Reference> = r.iter().collect();
        let m = "jit-secrets-00ff";
        let t = template(&rr, m);
        assert!(t.contains("{{ op://v/i0/f }}"));
        // What op inject would print: the template with each {{ }} replaced by its value.
        let values: [&[u8]; 3] = [b"a\nb\n", b"jit-secrets-00ee-1-end\nnot ours", b""];
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            out.extend_from_slice(format!("{m}-{i}-begin\n").as_bytes());
            out.extend_from_slice(v);
            out.extend_from_slice(format!("\n{m}-{i}-end\n").as_bytes());
        }
        let got = split_injected(&out, 3, m).unwrap();
        for (g, v) in got.iter().zip(values) {
            assert_eq!(g.expose(), v);
        }
        assert!(
            split_injected(&out[..out.len() - 1], 3, m).is_none(),
            "a truncated answer is refused"
        );
    }
}
