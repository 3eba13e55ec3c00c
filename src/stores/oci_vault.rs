//! `oci-vault:SECRET_OCID[?stage=CURRENT|PREVIOUS|LATEST | ?version=N]` — Oracle Cloud
//! Infrastructure Vault through the `oci` CLI and its config (`~/.oci/config`, `OCI_CLI_PROFILE`).
//!
//! `oci secrets secret-bundle get --secret-id OCID`: the bundle's content is base64, decoded here
//! (exact bytes). The Secrets API reads one secret per request, so each reference is one call, in
//! parallel. Not found is the API's 404 `NotAuthorizedOrNotFound` (OCI does not tell "no such
//! secret" from "not yours", so neither do we: the fix says both).

use super::{
    cli_failed, decode_base64, parse_json, run_cli, wipe_json, Outcome, Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct OciVault;

const INSTALL: &str = "install the OCI CLI (`pip install oci-cli`, https://docs.oracle.com/iaas/Content/API/SDKDocs/cliinstall.htm)";

fn parts(reference: &Reference) -> (&str, Option<&str>, Option<u64>) {
    match reference {
        Reference::OciVault {
            ocid,
            stage,
            version,
        } => (ocid, stage.as_deref(), *version),
        other => unreachable!("oci-vault store got {other}"),
    }
}

fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("NotAuthenticated")
        || stderr.contains("config file")
        || stderr.contains("ConfigFileNotFound")
    {
        "set up the OCI CLI: `oci setup config` (or check OCI_CLI_PROFILE and OCI_CLI_CONFIG_FILE)"
    } else {
        "run the `oci` command by hand to see; check your OCI profile and region"
    }
}

/// The API's 404 — printed by the CLI as a ServiceError with this code.
fn is_not_found(stderr: &str) -> bool {
    stderr.contains("NotAuthorizedOrNotFound")
}

fn bundle_get<'a>(ctx: &Context, timeout: Duration, reference: &Reference) -> Child<'a> {
    let (ocid, stage, version) = parts(reference);
    let child = Child::new(ctx.command("oci"), timeout).args([
        "secrets",
        "secret-bundle",
        "get",
        "--secret-id",
        ocid,
    ]);
    let child = match (stage, version) {
        (Some(stage), _) => child.args(["--stage", stage]),
        (_, Some(v)) => child.arg("--version-number").arg(v.to_string()),
        _ => child,
    };
    child.args(["--output", "json"])
}

/// A failed `oci` run as a store error. Without a config file the CLI prints its error and a
/// "create one?" prompt on stdout (and "Abort:" on stderr once stdin ends), so stdout is searched
/// for that one phrase — never shown.
fn failed(out: crate::process::Output) -> StoreError {
    let said = out.stderr.scrubbed(&Default::default());
    let stdout = out.stdout.expose();
    let no_config = b"Could not find config file";
    if stdout.windows(no_config.len()).any(|w| w == no_config) {
        return StoreError::new("the OCI CLI has no config file").fix(
            "set up the OCI CLI: `oci setup config` (or point OCI_CLI_CONFIG_FILE at your config)",
        );
    }
    let fix = fix_for(&said);
    cli_failed("oci", out, fix)
}

impl Store for OciVault {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("OCI Vault keeps it as the previous secret version".to_string())
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &[
            "OCI_CLI_PROFILE",
            "OCI_CLI_CONFIG_FILE",
            "OCI_CLI_REGION",
            "OCI_CLI_RC_FILE",
        ]
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let out = match run_cli(bundle_get(ctx, timeout, reference), INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if !out.exit.success() {
            if is_not_found(&out.stderr.scrubbed(&Default::default())) {
                return Outcome::NotFound;
            }
            return Outcome::Failed(failed(out));
        }
        let doc = match parse_json(out.stdout.expose(), "oci") {
            Ok(doc) => doc,
            Err(e) => return Outcome::Failed(e),
        };
        let content = &doc["data"]["secret-bundle-content"];
        let value = match (
            content["content-type"].as_str(),
            content["content"].as_str(),
        ) {
            (Some("BASE64"), Some(text)) => decode_base64(text),
            _ => None,
        };
        wipe_json(doc);
        match value {
            Some(v) => Outcome::Found(v),
            None => Outcome::Failed(
                StoreError::new("`oci` answered without base64 secret content")
                    .fix("check your `oci` version; run the command by hand to see"),
            ),
        }
    }

    /// The version's `time-created` (the bundle holds the value too: wiped with the rest).
    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let out = run_cli(bundle_get(ctx, timeout, reference), INSTALL)?;
        if !out.exit.success() {
            return Err(failed(out));
        }
        let doc = parse_json(out.stdout.expose(), "oci")?;
        let when = crate::time::from_json(&doc["data"]["time-created"]);
        wipe_json(doc);
        Ok(when)
    }

    fn can_write(&self) -> bool {
        true
    }

    /// Not a pinned stage or version: versions never change.
    fn can_write_to(&self, reference: &Reference) -> bool {
        matches!(parts(reference), (_, None, None))
    }

    /// A new current version: `oci vault secret update-base64 --from-json file:///dev/stdin`,
    /// the content in the JSON on stdin (`--secret-content-content` would put it on argv).
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        if !self.can_write_to(reference) {
            return Err(super::pinned_version(reference, "`?stage=…`/`?version=…`"));
        }
        let (ocid, _, _) = parts(reference);
        let encoded = super::encode_base64(value.expose());
        let mut input = zeroize::Zeroizing::new(Vec::with_capacity(encoded.len() + 64));
        input.extend_from_slice(br#"{"secretContentContent": ""#);
        input.extend_from_slice(&encoded);
        input.extend_from_slice(br#""}"#);
        let child = Child::new(ctx.command("oci"), timeout)
            .args(["vault", "secret", "update-base64", "--secret-id", ocid])
            .args(["--from-json", "file:///dev/stdin", "--output", "json"])
            .stdin(&input);
        let out = run_cli(child, INSTALL)?;
        if out.exit.success() {
            Ok(())
        } else {
            Err(failed(out))
        }
    }
}
