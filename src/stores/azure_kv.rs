//! `azure-kv:VAULT/NAME[?version=V]` — Azure Key Vault through `az`, signed in with `az login`.
//! `az keyvault secret show --vault-name VAULT --name NAME [--version V]`, one call per secret
//! (Key Vault reads one secret per request), all in parallel.

use super::{
    cli_failed, json_field_value, parse_json, run_cli, wipe_json, Outcome, Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct AzureKeyVault;

const INSTALL: &str =
    "install the Azure CLI (https://learn.microsoft.com/cli/azure/install-azure-cli)";

fn parts(reference: &Reference) -> (&str, &str, Option<&str>) {
    match reference {
        Reference::AzureKv {
            vault,
            name,
            version,
        } => (vault, name, version.as_deref()),
        other => unreachable!("azure-kv store got {other}"),
    }
}

fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("az login") {
        "run `az login`, then try again"
    } else if stderr.contains("Forbidden")
        || stderr.contains("does not have secrets get permission")
    {
        "your Azure identity may not read this vault's secrets: grant it `Key Vault Secrets User` (or a `get` access policy)"
    } else if stderr.contains("Failed to resolve")
        || stderr.contains("getaddrinfo")
        || stderr.contains("Name or service not known")
    {
        "check the vault's name: no vault by that name was reachable"
    } else {
        "run the `az` command by hand to see; check `az account show`"
    }
}

/// `(SecretNotFound) A secret with (name/id) NAME was not found in this key vault.` — and for a
/// version that does not exist the same code (Key Vault's REST error `SecretNotFound`).
fn is_not_found(stderr: &str) -> bool {
    stderr.contains("SecretNotFound")
}

fn show<'a>(ctx: &Context, timeout: Duration, reference: &Reference) -> Child<'a> {
    let (vault, name, version) = parts(reference);
    let child = Child::new(ctx.command("az"), timeout)
        .args([
            "keyvault",
            "secret",
            "show",
            "--vault-name",
            vault,
            "--name",
            name,
        ])
        .args(["--output", "json", "--only-show-errors"]);
    match version {
        Some(v) => child.args(["--version", v]),
        None => child,
    }
}

impl AzureKeyVault {
    /// The current version's metadata as `set` arguments (`--tags …`, `--content-type`,
    /// `--expires`, `--not-before`); none for a secret that does not exist yet. Any other read
    /// failure stops the write: it would drop what could not be read.
    fn current_metadata(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Vec<String>, StoreError> {
        let out = run_cli(show(ctx, timeout, reference), INSTALL)?;
        if !out.exit.success() {
            let said = out.stderr.scrubbed(&Default::default());
            if is_not_found(&said) {
                return Ok(Vec::new());
            }
            let mut e = cli_failed("az", out, fix_for(&said));
            e.message = format!(
                "nothing written: the current version's tags and dates could not be read ({})",
                e.message
            );
            return Err(e);
        }
        let doc = parse_json(out.stdout.expose(), "az")?;
        let mut args = Vec::new();
        if let Some(tags) = doc["tags"].as_object().filter(|t| !t.is_empty()) {
            args.push("--tags".to_string());
            for (k, v) in tags {
                // `file-encoding` is az's own, added again by `--file`.
                if k != "file-encoding" {
                    args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
                }
            }
            if args.len() == 1 {
                args.clear();
            }
        }
        for (field, flag) in [
            (&doc["contentType"], "--content-type"),
            (&doc["attributes"]["expires"], "--expires"),
            (&doc["attributes"]["notBefore"], "--not-before"),
        ] {
            if let Some(v) = field.as_str() {
                args.extend([flag.to_string(), v.to_string()]);
            }
        }
        wipe_json(doc);
        Ok(args)
    }
}

impl Store for AzureKeyVault {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("Key Vault keeps it as the previous version".to_string())
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["AZURE_CONFIG_DIR"]
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let out = match run_cli(show(ctx, timeout, reference), INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if !out.exit.success() {
            let said = out.stderr.scrubbed(&Default::default());
            if is_not_found(&said) {
                return Outcome::NotFound;
            }
            let fix = fix_for(&said);
            return Outcome::Failed(cli_failed("az", out, fix));
        }
        let doc = match parse_json(out.stdout.expose(), "az") {
            Ok(doc) => doc,
            Err(e) => return Outcome::Failed(e),
        };
        let outcome = match doc.get("value") {
            Some(v) if !v.is_null() => Outcome::Found(json_field_value(v)),
            _ => Outcome::Failed(
                StoreError::new("`az` answered without the secret's value")
                    .fix("check your `az` version; run the command by hand to see"),
            ),
        };
        wipe_json(doc);
        outcome
    }

    /// `attributes.updated`; the answer holds the value too, wiped with the rest.
    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let out = run_cli(show(ctx, timeout, reference), INSTALL)?;
        if !out.exit.success() {
            return Err(super::cli_failed_reading("az", out, fix_for));
        }
        let doc = parse_json(out.stdout.expose(), "az")?;
        let when = crate::time::from_json(&doc["attributes"]["updated"]);
        wipe_json(doc);
        Ok(when)
    }

    fn can_write(&self) -> bool {
        true
    }

    /// Not a pinned version: versions never change.
    fn can_write_to(&self, reference: &Reference) -> bool {
        parts(reference).2.is_none()
    }

    /// `az keyvault secret set --file /dev/stdin --encoding utf-8`: `--value` would put the value
    /// on argv. `az` reads the file in Python's text mode, which turns `\r\n` into `\n`, and only
    /// as UTF-8 text, so a value it would change is refused here rather than stored altered.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        if !self.can_write_to(reference) {
            return Err(super::pinned_version(reference, "`?version=…`"));
        }
        let (vault, name, _) = parts(reference);
        if std::str::from_utf8(value.expose()).is_err() || value.expose().contains(&b'\r') {
            return Err(StoreError::new("`az` would store this value altered (it is not UTF-8 text, or it holds a carriage return)")
                .fix("store binary values base64-encoded"));
        }
        // A new version has only what `set` gives it: carry the current version's tags, content
        // type and validity dates over, or they would be dropped.
        let kept = self.current_metadata(reference, timeout, ctx)?;
        let child = Child::new(ctx.command("az"), timeout)
            .args([
                "keyvault",
                "secret",
                "set",
                "--vault-name",
                vault,
                "--name",
                name,
            ])
            .args(kept)
            .args(["--file", "/dev/stdin", "--encoding", "utf-8"])
            .args(["--output", "none", "--only-show-errors"])
            // The file is opened in text mode with the locale's encoding: make that UTF-8.
            .env("PYTHONUTF8", "1")
            .stdin(value.expose());
        let out = run_cli(child, INSTALL)?;
        super::succeeded("az", out, fix_for)
    }
}
