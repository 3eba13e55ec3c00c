//! `vault:PATH#FIELD` — one read of PATH per distinct path, every field taken from that one
//! answer (KV v2 `.data.data`, KV v1 `.data`): over Vault's HTTP API through `jit-secrets-net`
//! (`crate::net::vault_http`) when the token is in `VAULT_TOKEN` or `~/.vault-token` and nothing
//! else decides how the CLI connects (`http_route_applies`), else `vault kv get -format=json`.

use super::{
    cli_failed, json_field_value, parse_json, run_cli, wipe_json, Outcome, Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

/// Settings that make the CLI connect or sign in in ways we do not reproduce.
const CLI_ONLY: &[&str] = &[
    "VAULT_CACERT",
    "VAULT_CAPATH",
    "VAULT_CLIENT_CERT",
    "VAULT_CLIENT_KEY",
    "VAULT_SKIP_VERIFY",
    "VAULT_TLS_SERVER_NAME",
];

/// Does this run read Vault over HTTP (through `jit-secrets-net`) rather than with the CLI?
/// Only when the CLI would find its token where we can and connect as we do.
fn http_route_applies(ctx: &Context) -> bool {
    !cli_required(ctx) && crate::net::vault_http::Api::from_environment().is_some()
}

/// Does a setting give the CLI the job whatever the token (a manifest's `commands`, a TLS
/// setting, a token helper)?
fn cli_required(ctx: &Context) -> bool {
    if ctx.command_override("vault").is_some() || CLI_ONLY.iter().any(|v| ctx.getenv(v).is_some()) {
        return true;
    }
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let config = ctx
        .getenv("VAULT_CONFIG_PATH")
        .map(std::path::PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".vault")));
    config
        .and_then(|c| std::fs::read_to_string(c).ok())
        .is_some_and(|text| text.contains("token_helper"))
}

pub struct Vault;

const INSTALL: &str =
    "install the Vault CLI (or OpenBao's `bao`, set as `commands = { vault = \"bao\" }`)";
const LOGIN: &str = "run `vault login` and check VAULT_ADDR (and VAULT_NAMESPACE)";
/// No token where jit-secrets reads it itself, and no CLI to sign in with: the token is what is
/// missing (the CLI is not needed when there is one).
const NO_TOKEN: &str = "no Vault token: set VAULT_TOKEN, write the token to ~/.vault-token, or run `vault login` (which writes that file); with a token jit-secrets reads Vault over HTTP, without the CLI";

/// Runs the Vault CLI for a read (writes always need it). When it is not installed and the reason we needed it is that no token was
/// found (not a setting only the CLI honours: `commands`, TLS, a token helper), the error names
/// the token, not the CLI.
fn run_vault(child: Child<'_>, ctx: &Context) -> Result<crate::process::Output, StoreError> {
    crate::process::run(child).map_err(|e| {
        let not_installed = matches!(e, crate::process::ProcessError::NotInstalled { .. });
        let no_token =
            !cli_required(ctx) && crate::net::vault_http::Api::from_environment().is_none();
        let mut error = crate::process::cli::process_error(e, INSTALL);
        if not_installed && no_token {
            error.message = format!("{}, and no Vault token was found", error.message);
            error.fix = Some(NO_TOKEN.to_string());
        }
        error
    })
}

impl Store for Vault {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("KV version 2 keeps earlier versions: `vault kv get -version=N PATH` (KV version 1 keeps none)".to_string())
    }

    fn can_write(&self) -> bool {
        true
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["VAULT_ADDR", "VAULT_NAMESPACE"]
    }

    fn batch_key(&self, reference: &Reference) -> String {
        match reference {
            Reference::Vault { path, .. } => path.clone(),
            other => other.to_string(),
        }
    }

    fn fetches_whole_document(&self) -> bool {
        true
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let Reference::Vault { path, .. } = reference else {
            unreachable!("vault store got {reference}")
        };
        if http_route_applies(ctx) {
            return match crate::net::vault(timeout, "kv_metadata", path)? {
                crate::net::vault_http::Read::Found(doc) => {
                    let when = crate::time::from_json(&doc["data"]["updated_time"]);
                    Ok(when)
                }
                crate::net::vault_http::Read::Missing => {
                    Err(StoreError::new(format!("no secret at {path}")))
                }
            };
        }
        let child = Child::new(ctx.command("vault"), timeout).args([
            "kv",
            "metadata",
            "get",
            "-format=json",
            path.as_str(),
        ]);
        let out = run_vault(child, ctx)?;
        if !out.exit.success() {
            return Err(cli_failed("vault", out, LOGIN));
        }
        let doc = parse_json(out.stdout.expose(), "vault")?;
        Ok(crate::time::from_json(&doc["data"]["updated_time"]))
    }

    /// `vault kv patch PATH FIELD=-` (other fields kept), or `kv put` when the path is new; the
    /// value goes on stdin.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let Reference::Vault { path, field } = reference else {
            unreachable!("vault store got {reference}")
        };
        let assign = format!("{field}=-");
        let patch = Child::new(ctx.command("vault"), timeout)
            .args(["kv", "patch", path.as_str(), assign.as_str()])
            .stdin(value.expose());
        let out = run_cli(patch, INSTALL)?;
        if out.exit.success() {
            return Ok(());
        }
        if !out
            .stderr
            .scrubbed(&Default::default())
            .contains("No value found at")
        {
            return Err(cli_failed("vault", out, LOGIN));
        }
        let put = Child::new(ctx.command("vault"), timeout)
            .args(["kv", "put", path.as_str(), assign.as_str()])
            .stdin(value.expose());
        let out = run_cli(put, INSTALL)?;
        if out.exit.success() {
            Ok(())
        } else {
            Err(cli_failed("vault", out, LOGIN))
        }
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let Some(Reference::Vault { path, .. }) = refs.first() else {
            return Vec::new();
        };
        if http_route_applies(ctx) {
            return match crate::net::vault(timeout, "kv_get", path) {
                Ok(crate::net::vault_http::Read::Found(doc)) => fields_of(doc, refs),
                Ok(crate::net::vault_http::Read::Missing) => {
                    refs.iter().map(|_| Outcome::NotFound).collect()
                }
                Err(e) => super::fail_batch(refs, e),
            };
        }
        let child = Child::new(ctx.command("vault"), timeout).args([
            "kv",
            "get",
            "-format=json",
            path.as_str(),
        ]);
        let out = match run_vault(child, ctx) {
            Ok(out) => out,
            Err(e) => return super::fail_batch(refs, e),
        };
        if !out.exit.success() {
            // Missing path: exit 2 and "No value found at …".
            if out
                .stderr
                .scrubbed(&Default::default())
                .contains("No value found at")
            {
                return refs.iter().map(|_| Outcome::NotFound).collect();
            }
            return super::fail_batch(refs, cli_failed("vault", out, LOGIN));
        }
        let doc = match parse_json(out.stdout.expose(), "vault") {
            Ok(doc) => doc,
            Err(e) => return super::fail_batch(refs, e),
        };
        fields_of(doc, refs)
    }
}

/// Each reference's field from a `kv get` answer (the API's JSON, which the CLI prints as is).
fn fields_of(doc: serde_json::Value, refs: &[&Reference]) -> Vec<Outcome> {
    let data = &doc["data"];
    // KV v2 nests the fields under data.data next to data.metadata.
    let fields = if data.get("metadata").is_some() && data["data"].is_object() {
        &data["data"]
    } else {
        data
    };
    let outcomes = refs
        .iter()
        .map(|r| {
            let Reference::Vault { field, .. } = r else {
                unreachable!()
            };
            match fields.get(field.as_str()) {
                Some(v) if !v.is_null() => Outcome::Found(json_field_value(v)),
                _ => Outcome::NotFound,
            }
        })
        .collect();
    wipe_json(doc);
    outcomes
}
