//! `gcp:projects/PROJECT/secrets/NAME[/versions/VERSION]` or `gcp:NAME` — Google Cloud Secret
//! Manager through `gcloud`, signed in as the user (`gcloud auth login`) or a service account.
//!
//! `gcloud secrets versions access VERSION --secret=NAME --format=json`: the JSON answer carries
//! the payload base64-encoded, so the bytes are exact (the plain answer is printed as text).
//! Secret Manager has no call that reads several secrets, so each is one call, all in parallel.

use super::{
    cli_failed, decode_base64, parse_json, run_cli, wipe_json, Outcome, Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct Gcp;

const INSTALL: &str = "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)";

fn parts(reference: &Reference) -> (Option<&str>, &str, &str) {
    match reference {
        Reference::Gcp {
            project,
            name,
            version,
        } => (
            project.as_deref(),
            name,
            version.as_deref().unwrap_or("latest"),
        ),
        other => unreachable!("gcp store got {other}"),
    }
}

fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("property [project] is not currently set") {
        "set a project with `gcloud config set project PROJECT`, or write the reference in full: gcp:projects/PROJECT/secrets/NAME"
    } else if stderr.contains("PERMISSION_DENIED") {
        "your Google identity lacks `secretmanager.versions.access` on this secret: check its IAM roles"
    } else if stderr.contains("gcloud auth login")
        || stderr.contains("active account")
        || stderr.contains("Reauthentication")
        || stderr.contains("refreshing your current auth tokens")
    {
        "run `gcloud auth login` (or activate a service account), then try again"
    } else {
        "run the `gcloud` command by hand to see; check `gcloud config list`"
    }
}

/// gcloud's words for a secret or version that does not exist.
fn is_not_found(stderr: &str) -> bool {
    stderr.contains("NOT_FOUND")
}

fn gcloud<'a>(ctx: &Context, timeout: Duration, reference: &Reference, args: &[&str]) -> Child<'a> {
    let (project, _, _) = parts(reference);
    let child = Child::new(ctx.command("gcloud"), timeout)
        .args(args.iter().copied())
        .args(["--format=json", "--quiet"]);
    match project {
        Some(p) => child.arg(format!("--project={p}")),
        None => child,
    }
}

impl Store for Gcp {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("Secret Manager keeps it as the previous version".to_string())
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &[
            "CLOUDSDK_CONFIG",
            "CLOUDSDK_ACTIVE_CONFIG_NAME",
            "CLOUDSDK_CORE_PROJECT",
            "CLOUDSDK_CORE_ACCOUNT",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
        ]
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let (_, name, version) = parts(reference);
        let secret = format!("--secret={name}");
        let child = gcloud(
            ctx,
            timeout,
            reference,
            &["secrets", "versions", "access", version, &secret],
        );
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if !out.exit.success() {
            let said = out.stderr.scrubbed(&Default::default());
            if is_not_found(&said) {
                return Outcome::NotFound;
            }
            let fix = fix_for(&said);
            return Outcome::Failed(cli_failed("gcloud", out, fix));
        }
        let doc = match parse_json(out.stdout.expose(), "gcloud") {
            Ok(doc) => doc,
            Err(e) => return Outcome::Failed(e),
        };
        let value = doc["payload"]["data"].as_str().map(decode_base64);
        wipe_json(doc);
        match value {
            Some(Some(value)) => Outcome::Found(value),
            _ => Outcome::Failed(
                StoreError::new("`gcloud` answered without a base64 payload")
                    .fix("check your `gcloud` version; run the command by hand to see"),
            ),
        }
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let (_, name, version) = parts(reference);
        let secret = format!("--secret={name}");
        let child = gcloud(
            ctx,
            timeout,
            reference,
            &["secrets", "versions", "describe", version, &secret],
        );
        let out = run_cli(child, INSTALL)?;
        if !out.exit.success() {
            return Err(super::cli_failed_reading("gcloud", out, fix_for));
        }
        let doc = parse_json(out.stdout.expose(), "gcloud")?;
        Ok(crate::time::from_json(&doc["createTime"]))
    }

    fn can_write(&self) -> bool {
        true
    }

    /// Not a pinned version: versions never change.
    fn can_write_to(&self, reference: &Reference) -> bool {
        parts(reference).2 == "latest"
    }

    /// A new version (`gcloud secrets versions add NAME --data-file=-`), or the secret itself when
    /// it does not exist yet (`gcloud secrets create NAME --data-file=-`, automatic replication);
    /// the value on stdin either way.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        if !self.can_write_to(reference) {
            return Err(super::pinned_version(reference, "`/versions/…`"));
        }
        let (_, name, _) = parts(reference);
        let add = gcloud(
            ctx,
            timeout,
            reference,
            &["secrets", "versions", "add", name, "--data-file=-"],
        )
        .stdin(value.expose());
        let out = run_cli(add, INSTALL)?;
        if out.exit.success() {
            return Ok(());
        }
        if !is_not_found(&out.stderr.scrubbed(&Default::default())) {
            return Err(super::cli_failed_reading("gcloud", out, fix_for));
        }
        let create = gcloud(
            ctx,
            timeout,
            reference,
            &[
                "secrets",
                "create",
                name,
                "--data-file=-",
                "--replication-policy=automatic",
            ],
        )
        .stdin(value.expose());
        let out = run_cli(create, INSTALL)?;
        super::succeeded("gcloud", out, fix_for)
    }
}
