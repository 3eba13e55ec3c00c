//! Creating and revoking a lease, per kind: one backend call each.
//!
//! - `aws-sts` and `vault` go through `jit-secrets-net` (the AWS SDK, Vault's HTTP API), like the
//!   stores: no Python `aws`, no Go `vault` start-up per lease; `github-app` too (its own file,
//!   `github_app.rs`).
//! - `gcp` and `azure` ask their CLIs, which hold the signed-in account.
//! - `command` runs the manifest's program; its revocation runs the manifest's `revoke_command`
//!   (recorded at creation, never taken from the program's output).
//!
//! A Vault lease is always a child token of the master's: a dynamic secret is read *with* that
//! child token, so revoking the token (which needs nothing but the token itself) revokes the
//! secret's lease too — the keeper can revoke without ever holding the master credential.

use super::record::{Record, Revocation};
use crate::context::Context;
use crate::manifest::{LeaseKind, LeaseSpec};
use crate::process::cli::{cli_failed, parse_json, run_cli};
use crate::process::Child;
use crate::secret::wipe_json;
use crate::secret::SecretValue;
use crate::store_error::StoreError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// What a backend issued.
pub struct Grant {
    /// field → value (`access_key_id`, `token`, `username`, …).
    pub fields: BTreeMap<String, Zeroizing<String>>,
    pub id: String,
    /// Unix seconds.
    pub expires: i64,
    pub revocation: Revocation,
}

/// The grant's copy of a revoking token is wiped like the record's (a `Record` wipes its own).
impl Drop for Grant {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        let r = &mut self.revocation;
        r.vault_token.iter_mut().for_each(Zeroize::zeroize);
        r.github_token.iter_mut().for_each(Zeroize::zeroize);
    }
}

/// The life asked for when the manifest gives none.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(3600);

fn text(v: &Value) -> Zeroizing<String> {
    Zeroizing::new(v.as_str().unwrap_or_default().to_string())
}

/// Creates one lease of `spec`, with `master`'s parts (resolved references; empty: the kind's
/// usual environment).
pub fn create(
    spec: &LeaseSpec,
    master: &BTreeMap<String, SecretValue>,
    ctx: &Context,
    timeout: Duration,
    dir: &Path,
) -> Result<Grant, StoreError> {
    match &spec.kind {
        LeaseKind::GithubApp(app) => super::github_app::create(app, master, timeout),
        LeaseKind::AwsSts { .. } => create_aws_sts(spec, master, ctx, timeout),
        LeaseKind::Vault { .. } => create_vault(spec, master, timeout),
        LeaseKind::Gcp { .. } => create_gcp(spec, ctx, timeout),
        LeaseKind::Azure { .. } => create_azure(spec, ctx, timeout),
        LeaseKind::Command { .. } => create_command(spec, timeout, dir),
    }
}

/// The life asked for: the manifest's `duration`, else the default.
fn asked_duration(spec: &LeaseSpec) -> Duration {
    spec.duration.unwrap_or(DEFAULT_DURATION)
}

/// A master part as text (`None`: the manifest gives none).
fn master_text(
    master: &BTreeMap<String, SecretValue>,
    k: &str,
) -> Result<Option<String>, StoreError> {
    master
        .get(k)
        .map(|v| {
            std::str::from_utf8(v.expose())
                .map(str::to_string)
                .map_err(|_| StoreError::new(format!("master.{k} is not UTF-8 text")))
        })
        .transpose()
}

/// `aws-sts`: AssumeRole or GetSessionToken, through `jit-secrets-net`.
fn create_aws_sts(
    spec: &LeaseSpec,
    master: &BTreeMap<String, SecretValue>,
    ctx: &Context,
    timeout: Duration,
) -> Result<Grant, StoreError> {
    let LeaseKind::AwsSts {
        role_arn,
        session_name,
        external_id,
        mfa_serial,
        region,
    } = &spec.kind
    else {
        unreachable!("create_aws_sts is given aws-sts leases only")
    };
    let duration = asked_duration(spec);
    let now = crate::time::now();
    let token_code = match mfa_serial {
        Some(serial) => Some(ask_mfa_code(serial, ctx)?),
        None => None,
    };
    let mut request = json!({
        "role_arn": role_arn, "session_name": session_name.clone().unwrap_or_else(|| format!("jit-secrets-{}", spec.name)),
        "external_id": external_id, "mfa_serial": mfa_serial, "token_code": token_code,
        "region": region, "duration_secs": duration.as_secs(),
    });
    if !master.is_empty() {
        request["master"] = json!({
            "access_key_id": master_text(master, "access_key_id")?,
            "secret_access_key": master_text(master, "secret_access_key")?,
            "session_token": master_text(master, "session_token")?,
        });
    }
    let answer = crate::net::lease(timeout, "sts", request)?;
    let mut fields = BTreeMap::new();
    for f in ["access_key_id", "secret_access_key", "session_token"] {
        fields.insert(f.to_string(), text(&answer[f]));
    }
    let grant = Grant {
        id: answer["access_key_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        expires: answer["expiration"]
            .as_i64()
            .unwrap_or(now + duration.as_secs() as i64),
        fields,
        revocation: Revocation::default(),
    };
    wipe_json(answer);
    Ok(grant)
}

/// `vault`: a child token of the master's, or a dynamic secret read with one.
fn create_vault(
    spec: &LeaseSpec,
    master: &BTreeMap<String, SecretValue>,
    timeout: Duration,
) -> Result<Grant, StoreError> {
    let LeaseKind::Vault {
        path,
        policies,
        ttl,
    } = &spec.kind
    else {
        unreachable!("create_vault is given vault leases only")
    };
    let now = crate::time::now();
    let life = ttl.or(spec.duration).unwrap_or(DEFAULT_DURATION);
    let mut request = json!({
        "op": if path.is_some() { "read" } else { "token" },
        "path": path, "policies": policies, "ttl_secs": life.as_secs(),
        "display_name": format!("jit-secrets-{}", spec.name),
        "token": master_text(master, "token")?,
    });
    if !master.contains_key("token") {
        if let Some(lease) = lease_owning_environment_token() {
            request["env_token_is_lease"] = json!(lease);
        }
    }
    let answer = crate::net::lease(timeout, "vault_lease", request)?;
    let mut fields = BTreeMap::new();
    if path.is_some() {
        if let Some(data) = answer["data"].as_object() {
            for (k, v) in data {
                let value = match v {
                    Value::String(s) => Zeroizing::new(s.clone()),
                    other => Zeroizing::new(other.to_string()),
                };
                fields.insert(k.clone(), value);
            }
        }
    } else {
        fields.insert("token".to_string(), text(&answer["token"]));
        fields.insert("accessor".to_string(), text(&answer["accessor"]));
    }
    let id = match answer["lease_id"].as_str().filter(|l| !l.is_empty()) {
        Some(lease_id) => lease_id.to_string(),
        None => format!("accessor:{}", answer["accessor"].as_str().unwrap_or("")),
    };
    let grant = Grant {
        id,
        expires: now
            + answer["lease_duration"]
                .as_i64()
                .unwrap_or(life.as_secs() as i64),
        fields,
        revocation: {
            let mut r = Revocation::default();
            r.vault_address = answer["address"].as_str().map(str::to_string);
            r.vault_namespace = answer["namespace"].as_str().map(str::to_string);
            r.vault_token = answer["token"].as_str().map(str::to_string);
            r
        },
    };
    wipe_json(answer);
    Ok(grant)
}

/// `gcp`: `gcloud auth print-access-token`, impersonating when the manifest says.
fn create_gcp(spec: &LeaseSpec, ctx: &Context, timeout: Duration) -> Result<Grant, StoreError> {
    let LeaseKind::Gcp {
        impersonate,
        scopes,
    } = &spec.kind
    else {
        unreachable!("create_gcp is given gcp leases only")
    };
    let duration = asked_duration(spec);
    let now = crate::time::now();
    // gcloud's access tokens live one hour; impersonated ones as long as --lifetime says.
    let mut child = Child::new(ctx.command("gcloud"), timeout).args(["auth", "print-access-token"]);
    let mut life = duration.min(DEFAULT_DURATION);
    if let Some(sa) = impersonate {
        child = child.arg(format!("--impersonate-service-account={sa}"));
        if spec.duration.is_some() {
            life = duration;
            child = child.arg(format!("--lifetime={}", duration.as_secs()));
        }
    }
    if !scopes.is_empty() {
        child = child.arg(format!("--scopes={}", scopes.join(",")));
    }
    let out = run_cli(
        child,
        "install the Google Cloud CLI and run `gcloud auth login`",
    )?;
    if !out.exit.success() {
        return Err(cli_failed("gcloud", out, "run `gcloud auth login` (or check impersonate_service_account and your roles/iam.serviceAccountTokenCreator)"));
    }
    let token = Zeroizing::new(
        String::from_utf8_lossy(out.stdout.expose())
            .trim()
            .to_string(),
    );
    if token.is_empty() {
        return Err(StoreError::new("gcloud printed no access token"));
    }
    Ok(Grant {
        fields: BTreeMap::from([("access_token".to_string(), token)]),
        id: impersonate
            .clone()
            .unwrap_or_else(|| "gcloud account".into()),
        expires: now + life.as_secs() as i64,
        revocation: Revocation::default(),
    })
}

/// `azure`: `az account get-access-token` for the manifest's resource.
fn create_azure(spec: &LeaseSpec, ctx: &Context, timeout: Duration) -> Result<Grant, StoreError> {
    let LeaseKind::Azure { resource, tenant } = &spec.kind else {
        unreachable!("create_azure is given azure leases only")
    };
    let now = crate::time::now();
    let mut child = Child::new(ctx.command("az"), timeout).args([
        "account",
        "get-access-token",
        "--resource",
        resource,
        "--output",
        "json",
    ]);
    if let Some(t) = tenant {
        child = child.args(["--tenant", t]);
    }
    let out = run_cli(child, "install the Azure CLI and run `az login`")?;
    if !out.exit.success() {
        return Err(cli_failed(
            "az",
            out,
            "run `az login` (and check the lease's resource and tenant)",
        ));
    }
    let answer = parse_json(out.stdout.expose(), "az")?;
    let token = text(&answer["accessToken"]);
    if token.is_empty() {
        wipe_json(answer);
        return Err(StoreError::new("az printed no accessToken"));
    }
    // `expires_on` (Unix seconds) since az 2.54; older ones print only local time.
    let expires = answer["expires_on"]
        .as_i64()
        .or_else(|| answer["expires_on"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(now + 3000);
    let id = answer["tenant"]
        .as_str()
        .unwrap_or("az account")
        .to_string();
    wipe_json(answer);
    Ok(Grant {
        fields: BTreeMap::from([("access_token".to_string(), token)]),
        id,
        expires,
        revocation: Revocation::default(),
    })
}

/// What a `command` lease's program must print.
const COMMAND_SHAPE: &str = "print one JSON object: {\"variables\": {\"NAME\": \"value\"}, \"id\": \"…\", \"expires_in\": SECONDS} (or \"expires_at\": Unix seconds or RFC 3339)";

/// `command`: the manifest's program prints the lease; `revoke_command` is recorded to revoke it.
fn create_command(spec: &LeaseSpec, timeout: Duration, dir: &Path) -> Result<Grant, StoreError> {
    let LeaseKind::Command {
        command,
        revoke_command,
    } = &spec.kind
    else {
        unreachable!("create_command is given command leases only")
    };
    // Pinned before anything is minted (see `pin_revoke_command`): the files as the manifest was
    // allowed with them, and a bare program that is not on PATH stops the lease here — a file a
    // later commit adds under that name must never be what runs.
    let mut revocation = Revocation::default();
    if let Some(argv) = revoke_command {
        revocation.pin_revoke_command(argv, dir).map_err(|program| {
            StoreError::new(format!(
                "lease `{}`: its revoke_command `{}` is not on PATH, so nothing was minted (a lease that cannot be revoked as allowed is not made)",
                spec.name,
                crate::printable::escaped(&program)
            ))
            .fix("install it, or name it by its path (`revoke_command = \"./bin/revoke\"`), then `jit-secrets allow`")
        })?;
    }
    let now = crate::time::now();
    let child = Child::new(&command[0], timeout)
        .args(&command[1..])
        .current_dir(dir)
        .env("JIT_SECRETS_LEASE", &spec.name)
        .env(
            "JIT_SECRETS_LEASE_DURATION",
            asked_duration(spec).as_secs().to_string(),
        );
    let out = run_cli(child, "check the lease's `command`")?;
    if !out.exit.success() {
        return Err(cli_failed(
            &command[0],
            out,
            "make the lease's `command` print one JSON object and exit 0",
        ));
    }
    let answer = parse_json(out.stdout.expose(), &command[0])?;
    let fields = match command_variables(&answer, &command[0]) {
        Ok(fields) => fields,
        Err(problem) => {
            wipe_json(answer);
            return Err(StoreError::new(problem).fix(COMMAND_SHAPE));
        }
    };
    let expires = answer["expires_in"]
        .as_i64()
        .map(|s| now + s)
        .or_else(|| crate::time::from_json(&answer["expires_at"]))
        .or_else(|| spec.duration.map(|d| now + d.as_secs() as i64));
    let id = answer["id"].as_str().unwrap_or_default().to_string();
    wipe_json(answer);
    let Some(expires) = expires else {
        return Err(StoreError::new(format!("`{}` gave no expiry", command[0])).fix(COMMAND_SHAPE));
    };
    if revoke_command.is_some() && id.is_empty() {
        return Err(StoreError::new(format!(
            "`{}` gave no `id`, which `revoke_command` needs",
            command[0]
        ))
        .fix(COMMAND_SHAPE));
    }
    revocation.dir = Some(dir.to_string_lossy().into_owned());
    revocation.env = spec.revoke_env.clone();
    Ok(Grant {
        fields,
        id,
        expires,
        revocation,
    })
}

/// A `command` program's `variables`: name → value, every value a string. Err: what is wrong
/// (the last problem seen, as before; the values read so far are wiped as the map drops).
fn command_variables(
    answer: &Value,
    program: &str,
) -> Result<BTreeMap<String, Zeroizing<String>>, String> {
    let mut fields = BTreeMap::new();
    let mut problem = None;
    match answer["variables"].as_object() {
        None => problem = Some(format!("`{program}` printed no `variables` object")),
        Some(vars) => {
            for (k, v) in vars {
                match v.as_str() {
                    Some(s) => {
                        fields.insert(k.clone(), Zeroizing::new(s.to_string()));
                    }
                    None => problem = Some(format!("variable `{k}` is not a string")),
                }
            }
        }
    }
    match problem {
        Some(problem) => Err(problem),
        None => Ok(fields),
    }
}

/// The lease whose own child token is this environment's `VAULT_TOKEN` (a shell that received a
/// vault token lease): that token is not a master credential.
fn lease_owning_environment_token() -> Option<String> {
    let token = Zeroizing::new(std::env::var("VAULT_TOKEN").ok()?);
    if token.is_empty() {
        return None;
    }
    let found = super::record::scan(super::record::PREFIX).ok()?;
    found
        .iter()
        .find(|s| s.record.revocation.vault_token.as_deref() == Some(token.as_str()))
        .map(|s| s.record.name.clone())
}

/// The MFA code for `serial`, asked on the terminal (stdout may be the shell's pipe).
fn ask_mfa_code(serial: &str, ctx: &Context) -> Result<String, StoreError> {
    if !ctx.may_ask_on_terminal() {
        return Err(StoreError::new(format!(
            "the lease needs an MFA code for {serial}, and there is no terminal to ask on"
        ))
        .fix("activate on a terminal (or without --no-prompt), or drop mfa_serial"));
    }
    let code = crate::tty::prompt_hidden(&format!("jit-secrets: MFA code for {serial}: "))
        .map_err(|e| StoreError::new(format!("cannot ask for the MFA code: {e}")))?;
    let code = String::from_utf8_lossy(&code).trim().to_string();
    if code.is_empty() {
        return Err(StoreError::new("no MFA code was given"));
    }
    Ok(code)
}

/// The revoke command of `record` names `file`, which is no longer what was allowed.
pub fn program_changed(record: &Record, file: &str) -> StoreError {
    StoreError::new(format!(
        "revoke program changed since allow: {} is not what it was when the lease was made, so it is not run",
        crate::printable::escaped(file)
    ))
    .fix(format!(
        "restore it as it was (`git diff`, `git checkout`), then `jit-secrets lease revoke {}`; or leave the lease to expire at {}",
        record.name,
        crate::time::format_rfc3339(record.expires)
    ))
}

/// Revokes what `record` holds. A kind whose credentials cannot be revoked answers `Ok(false)`:
/// they live until they expire.
pub fn revoke(record: &Record, timeout: Duration) -> Result<bool, StoreError> {
    if !record.revocable {
        return Ok(false);
    }
    let r = &record.revocation;
    if let Some(token) = &r.vault_token {
        let request = json!({
            "op": "revoke_self", "token": token,
            "address": r.vault_address, "namespace": r.vault_namespace,
        });
        crate::net::lease(timeout, "vault_lease", request)?;
        return Ok(true);
    }
    if let (Some(api_url), Some(token)) = (&r.github_api_url, &r.github_token) {
        super::github_app::revoke(api_url, token, timeout)?;
        return Ok(true);
    }
    if let Some(argv) = &r.argv {
        if let Some(file) = r.changed_program() {
            return Err(program_changed(record, file));
        }
        let mut child = Child::new(&argv[0], timeout)
            .args(&argv[1..])
            .env("JIT_SECRETS_LEASE", &record.name)
            .env("JIT_SECRETS_LEASE_ID", &record.id);
        if let Some(dir) = &r.dir {
            child = child.current_dir(dir);
        }
        let out = run_cli(child, "check the lease's `revoke_command`")?;
        if !out.exit.success() {
            return Err(cli_failed(
                &argv[0],
                out,
                "make the lease's `revoke_command` exit 0 once the lease is revoked",
            ));
        }
        return Ok(true);
    }
    Ok(false)
}
