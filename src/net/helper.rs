//! `jit-secrets-net`: the AWS SDK, Vault's and GitHub's HTTP APIs, in a helper executable of our own.
//!
//! Why not inside `jit-secrets`: linking the SDK made the binary 14 MB with 42,000 relocations,
//! which the loader applies at every start — 1.7 ms more for *every* activation, cache hits and
//! manifests without AWS included (measured: 1.9 → 3.6 ms for one `env:` entry). In the helper,
//! that cost is paid only by a run that asks AWS or Vault, once per call, and `jit-secrets` stays
//! as small and fast as before. The helper is also an external call like any other: it has the
//! call's timeout and its own process group, so a `credential_process` the SDK starts dies with
//! it, however we die.
//!
//! Protocol: one JSON request on stdin, one JSON answer on stdout (values travel on these pipes
//! only, and are wiped on both sides). The request says the route (`aws` with one [`Call`], or
//! `vault` with an operation and a path); the answer is `{"ok": …}` (the CLI's JSON) or
//! `{"code", "message", "fix"}`. The helper reads the same environment `jit-secrets` has
//! (credentials, endpoints, tokens), which it inherits.

use super::aws::{AwsFailure, Call};
use super::vault_http::Read;
use crate::process::cli::{cli_failed, parse_json, run_cli};
use crate::process::Child;
use crate::secret::wipe_json;
use crate::store_error::StoreError;
use serde_json::{json, Value};
use std::time::Duration;

/// The helper's file name, installed next to `jit-secrets`.
pub const HELPER: &str = "jit-secrets-net";

fn helper_path() -> Result<std::path::PathBuf, StoreError> {
    let me = std::env::current_exe()
        .map_err(|e| StoreError::new(format!("cannot tell where jit-secrets is installed: {e}")))?;
    let helper = me.with_file_name(HELPER);
    if helper.is_file() {
        Ok(helper)
    } else {
        Err(StoreError::new(format!(
            "{} is missing: AWS and Vault are read through it",
            helper.display()
        ))
        .fix("install it beside jit-secrets (`cargo install` and the nix package do), or use the CLIs: `[secrets.options] commands = { aws = \"aws\", vault = \"vault\" }`"))
    }
}

/// Sends `request` to the helper and returns its answer: `Ok` the `ok` JSON, `Err` its failure.
fn ask(timeout: Duration, request: &Value) -> Result<Value, AwsFailure> {
    let body = crate::secret::json_to_wiping(request);
    // The helper has the whole timeout for its call; we give it a moment more to answer.
    let child = Child::new(helper_path()?, timeout + Duration::from_secs(2)).stdin(&body);
    let out = run_cli(
        child,
        "reinstall jit-secrets (jit-secrets-net ships beside it)",
    )?;
    let mut answer = match parse_json(out.stdout.expose(), HELPER) {
        Ok(answer) => answer,
        Err(e) => {
            return Err(cli_failed(HELPER, out, e.fix.as_deref().unwrap_or("")).into());
        }
    };
    if let Some(ok) = answer.get_mut("ok").map(Value::take) {
        wipe_json(answer);
        return Ok(ok);
    }
    let text = |k: &str| answer[k].as_str().map(str::to_string);
    let mut error = StoreError::new(text("message").unwrap_or_else(|| format!("{HELPER} failed")));
    if let Some(fix) = text("fix") {
        error = error.fix(fix);
    }
    let code = text("code").unwrap_or_default();
    wipe_json(answer);
    Err(AwsFailure { code, error })
}

/// An AWS call through the helper.
pub fn aws(timeout: Duration, call: &Call<'_>) -> Result<Value, AwsFailure> {
    let request = json!({ "route": "aws", "timeout_ms": timeout.as_millis() as u64, "call": call_to_json(call)? });
    let answer = ask(timeout, &request);
    wipe_json(request);
    answer
}

/// A Vault read through the helper: `kv_get` or `kv_metadata` of `path`.
pub fn vault(timeout: Duration, op: &str, path: &str) -> Result<Read, StoreError> {
    let request = json!({ "route": "vault", "timeout_ms": timeout.as_millis() as u64, "op": op, "path": path });
    match ask(timeout, &request) {
        Ok(Value::Null) => Ok(Read::Missing),
        Ok(doc) => Ok(Read::Found(doc)),
        Err(f) => Err(f.error),
    }
}

/// A lease's backend call through the helper (`route`: `sts`, `vault_lease` or `github_app`; see
/// `crate::lease`): the request's fields as the route takes them, the answer's as it gives them.
pub fn lease(timeout: Duration, route: &str, mut request: Value) -> Result<Value, StoreError> {
    request["route"] = json!(route);
    request["timeout_ms"] = json!(timeout.as_millis() as u64);
    let answer = ask(timeout, &request);
    wipe_json(request);
    answer.map_err(|f| f.error)
}

fn text(value: &[u8]) -> Result<&str, AwsFailure> {
    std::str::from_utf8(value).map_err(|_| StoreError::new("AWS takes UTF-8 strings only").into())
}

fn call_to_json(call: &Call<'_>) -> Result<Value, AwsFailure> {
    Ok(match *call {
        Call::GetSecretValue {
            secret_id,
            version_id,
        } => json!({"op": "GetSecretValue", "secret_id": secret_id, "version_id": version_id}),
        Call::BatchGetSecretValue { secret_ids } => {
            json!({"op": "BatchGetSecretValue", "secret_ids": secret_ids})
        }
        Call::DescribeSecret { secret_id } => {
            json!({"op": "DescribeSecret", "secret_id": secret_id})
        }
        Call::PutSecretValue { secret_id, string } => {
            json!({"op": "PutSecretValue", "secret_id": secret_id, "string": text(string)?})
        }
        Call::CreateSecret { name, string } => {
            json!({"op": "CreateSecret", "name": name, "string": text(string)?})
        }
        Call::GetParameters { names } => json!({"op": "GetParameters", "names": names}),
        Call::GetParameter { name } => json!({"op": "GetParameter", "name": name}),
        Call::DescribeParameter { name } => json!({"op": "DescribeParameter", "name": name}),
        Call::PutParameter {
            name,
            kind,
            overwrite,
            key_id,
            value,
        } => json!({"op": "PutParameter", "name": name, "kind": kind, "overwrite": overwrite,
                    "key_id": key_id, "value": text(value)?}),
    })
}

/// The helper's side: answers one request from stdin on stdout. Exit 0 whenever an answer was
/// written (a refusal included); 2 when the request could not be read.
#[cfg(feature = "net")]
pub fn serve() -> u8 {
    use std::io::{Read as _, Write as _};
    let mut input = zeroize::Zeroizing::new(Vec::new());
    if std::io::stdin().read_to_end(&mut input).is_err() {
        return 2;
    }
    let Some(bytes) = answer(&input) else {
        eprintln!("{HELPER}: the request is not JSON (this program is started by jit-secrets)");
        return 2;
    };
    // Straight to the descriptor: std's stdout buffers small writes in a block that is never
    // wiped.
    // SAFETY: fd 1 is ours for the process's life; ManuallyDrop keeps it open.
    let mut out = std::mem::ManuallyDrop::new(unsafe {
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(1)
    });
    if out.write_all(&bytes).is_err() {
        return 1;
    }
    0
}

/// The answer to one request (`None`: not JSON), in a buffer wiped on drop. Every copy of a value
/// made on the way is wiped too (`tests/zeroize_path.rs` counts them).
#[cfg(feature = "net")]
pub fn answer(input: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let request = serde_json::from_slice::<Value>(input).ok()?;
    let timeout = Duration::from_millis(request["timeout_ms"].as_u64().unwrap_or(30_000));
    let result: Result<Value, AwsFailure> = match request["route"].as_str() {
        Some("aws") => with_call(&request["call"], |call| super::aws_sdk::call(timeout, call))
            .unwrap_or_else(|| {
                Err(StoreError::new("an AWS request jit-secrets-net does not know").into())
            }),
        Some("vault") => serve_vault(&request, timeout),
        Some("vault_lease") => serve_vault_lease(&request, timeout).map_err(Into::into),
        Some("sts") => super::aws_sdk::sts(timeout, &request),
        Some("github_app") => super::github_http::serve(&request, timeout).map_err(Into::into),
        _ => Err(StoreError::new("a request jit-secrets-net does not know").into()),
    };
    wipe_json(request);
    let answer = match result {
        // Moved in, not copied (`json!` would deep-copy the answer and leave the copy unwiped).
        Ok(ok) => Value::Object(serde_json::Map::from_iter([("ok".to_string(), ok)])),
        Err(f) => json!({ "code": f.code, "message": f.error.message, "fix": f.error.fix }),
    };
    let bytes = crate::secret::json_to_wiping(&answer);
    wipe_json(answer);
    Some(bytes)
}

#[cfg(feature = "net")]
fn serve_vault(request: &Value, timeout: Duration) -> Result<Value, AwsFailure> {
    let path = request["path"].as_str().unwrap_or_default();
    let Some(api) = super::vault_http::Api::from_environment() else {
        return Err(
            StoreError::new("no Vault token in VAULT_TOKEN or ~/.vault-token")
                .fix("run `vault login`")
                .into(),
        );
    };
    let read = match request["op"].as_str() {
        Some("kv_metadata") => api.kv_metadata(path, timeout),
        _ => api.kv_get(path, timeout),
    }?;
    Ok(match read {
        Read::Found(doc) => doc,
        Read::Missing => Value::Null,
    })
}

/// A Vault lease: `token` (a child token with policies), `read` (a child token, then a read with
/// it that returns a lease: revoking the child token revokes the lease), `revoke_self`.
#[cfg(feature = "net")]
fn serve_vault_lease(request: &Value, timeout: Duration) -> Result<Value, StoreError> {
    use super::vault_http::{address_from_environment, Api};
    use zeroize::Zeroizing;
    let token = |k: &str| request[k].as_str().map(|t| Zeroizing::new(t.to_string()));
    let recorded = request["address"].as_str();
    let api = match (token("token"), recorded) {
        (Some(t), Some(address)) => Api::at(address, request["namespace"].as_str(), t),
        (Some(t), None) => {
            let (address, namespace) = address_from_environment();
            Api::at(&address, namespace.as_deref(), t)
        }
        (None, _) => {
            // VAULT_TOKEN here may be a lease's own child token (a shell that received one): it
            // is not a master credential, and using it would mint leases of the lease.
            let lease = request["env_token_is_lease"].as_str();
            Api::from_environment_but(lease.is_some()).ok_or_else(|| match lease {
                Some(lease) => StoreError::new(format!(
                    "VAULT_TOKEN in this environment is the token of lease `{lease}`, not a master credential, and there is no ~/.vault-token"
                ))
                .fix("give the lease master = { token = \"…\" } (a reference to your Vault token), or run `vault login` so ~/.vault-token holds one"),
                None => StoreError::new(
                    "no Vault token: not in the lease's `master`, VAULT_TOKEN or ~/.vault-token",
                )
                .fix("run `vault login`, or give the lease master = { token = \"…\" }"),
            })?
        }
    };
    let op = request["op"].as_str().unwrap_or_default();
    if op == "revoke_self" {
        api.revoke_self(timeout)?;
        return Ok(Value::Null);
    }
    let policies: Vec<String> = request["policies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let ttl = Duration::from_secs(request["ttl_secs"].as_u64().unwrap_or(3600));
    let name = request["display_name"].as_str().unwrap_or("jit-secrets");
    let mut created = api.create_child_token(&policies, ttl, name, timeout)?;
    let mut auth = created["auth"].take();
    // Moved out of the answer, into memory that is wiped; the answer's copy below is wiped with
    // the answer.
    let child = match auth["client_token"].take() {
        Value::String(s) => Zeroizing::new(s),
        other => {
            wipe_json(other);
            Zeroizing::new(String::new())
        }
    };
    let mut answer = serde_json::Map::new();
    answer.insert("address".into(), json!(api.address()));
    answer.insert("namespace".into(), json!(api.namespace()));
    answer.insert("token".into(), Value::String(child.as_str().to_string()));
    answer.insert("accessor".into(), auth["accessor"].take());
    answer.insert("lease_duration".into(), auth["lease_duration"].take());
    let mut answer = Value::Object(answer);
    wipe_json(auth);
    wipe_json(created);
    if op == "read" {
        let path = request["path"].as_str().unwrap_or_default();
        let child_api = api.with_token(child);
        let read = match child_api.read(path, timeout) {
            Ok(Some(read)) => read,
            Ok(None) => Err(StoreError::new(format!("Vault has nothing at {path}"))
                .fix("check the lease's `path` (e.g. database/creds/ROLE) and that the engine is mounted"))?,
            Err(e) => {
                // The child token must not outlive a failed read.
                let _ = child_api.revoke_self(timeout);
                wipe_json(answer);
                return Err(e);
            }
        };
        let mut read = read;
        answer["data"] = read["data"].take();
        answer["lease_id"] = read["lease_id"].take();
        if let Some(d) = read["lease_duration"].as_u64().filter(|d| *d > 0) {
            let token_life = answer["lease_duration"].as_u64().unwrap_or(d);
            answer["lease_duration"] = json!(d.min(token_life));
        }
        wipe_json(read);
    }
    Ok(answer)
}

/// Calls `f` with the [`Call`] `v` describes (`None`: not one we know).
#[cfg(feature = "net")]
fn with_call<R>(v: &Value, f: impl FnOnce(&Call<'_>) -> R) -> Option<R> {
    let s = |k: &str| v[k].as_str();
    let list =
        |k: &str| -> Option<Vec<&str>> { v[k].as_array()?.iter().map(Value::as_str).collect() };
    let ids = list("secret_ids").unwrap_or_default();
    let names = list("names").unwrap_or_default();
    let call = match s("op")? {
        "GetSecretValue" => Call::GetSecretValue {
            secret_id: s("secret_id")?,
            version_id: s("version_id"),
        },
        "BatchGetSecretValue" => Call::BatchGetSecretValue { secret_ids: &ids },
        "DescribeSecret" => Call::DescribeSecret {
            secret_id: s("secret_id")?,
        },
        "PutSecretValue" => Call::PutSecretValue {
            secret_id: s("secret_id")?,
            string: s("string")?.as_bytes(),
        },
        "CreateSecret" => Call::CreateSecret {
            name: s("name")?,
            string: s("string")?.as_bytes(),
        },
        "GetParameters" => Call::GetParameters { names: &names },
        "GetParameter" => Call::GetParameter { name: s("name")? },
        "DescribeParameter" => Call::DescribeParameter { name: s("name")? },
        "PutParameter" => Call::PutParameter {
            name: s("name")?,
            kind: s("kind")?,
            overwrite: v["overwrite"].as_bool()?,
            key_id: s("key_id"),
            value: s("value")?.as_bytes(),
        },
        _ => return None,
    };
    Some(f(&call))
}
