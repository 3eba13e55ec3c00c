//! Vault/OpenBao read over its HTTP API, by `jit-secrets-net` (see `super::helper`): a `vault kv get`
//! costs ~100 ms of CLI start (measured against OpenBao's dev server; the two HTTP requests it
//! makes take ~2 ms).
//!
//! Taken when the CLI would find a token the same way we can: `VAULT_TOKEN`, else
//! `~/.vault-token`. The CLI stays in charge when anything else decides how it signs in or
//! connects — a manifest's `commands = { vault = … }`, a token helper in `~/.vault` (or
//! `VAULT_CONFIG_PATH`), or a TLS setting (`VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_CLIENT_CERT`,
//! `VAULT_CLIENT_KEY`, `VAULT_SKIP_VERIFY`, `VAULT_TLS_SERVER_NAME`) — and for writes, which go
//! through `vault kv patch` with the value on stdin. `crate::stores::vault` decides.
//!
//! The answers are the CLI's JSON (the API's response, which `vault kv get -format=json` prints),
//! so the store parses one shape. Where a value lives that we cannot wipe: hyper's read buffers
//! and the collected body, freed at the end of the call (docs/security.md).

#[cfg(feature = "net")]
use crate::process::cli::parse_json;
#[cfg(feature = "net")]
use crate::store_error::StoreError;
#[cfg(feature = "net")]
use std::time::Duration;
use zeroize::Zeroizing;

/// Where to reach Vault and with what token, when the HTTP route applies.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub struct Api {
    address: String,
    token: Zeroizing<String>,
    namespace: Option<String>,
}

/// `VAULT_ADDR` (default as the CLI's) and `VAULT_NAMESPACE`.
pub fn address_from_environment() -> (String, Option<String>) {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .and_then(|v| v.into_string().ok())
    };
    (
        env("VAULT_ADDR").unwrap_or_else(|| "https://127.0.0.1:8200".to_string()),
        env("VAULT_NAMESPACE"),
    )
}

/// One of Vault's error strings, as a line: Vault wraps its messages as
/// "1 error occurred:\n\t* permission denied\n\n"; the message is what is left.
pub fn vault_error_message(raw: &str) -> String {
    let items: Vec<&str> = raw
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.ends_with("error occurred:") && !l.ends_with("errors occurred:")
        })
        .map(|l| l.trim_start_matches("* "))
        .collect();
    if items.is_empty() {
        raw.trim().to_string()
    } else {
        items.join("; ")
    }
}

/// What a read found.
pub enum Read {
    Found(serde_json::Value),
    Missing,
}

impl Api {
    /// An API at a recorded address (a lease's revocation, later, from another process).
    pub fn at(address: &str, namespace: Option<&str>, token: Zeroizing<String>) -> Api {
        Api {
            address: address.trim_end_matches('/').to_string(),
            token,
            namespace: namespace.map(str::to_string),
        }
    }

    /// Address, token and namespace from the environment, as the CLI finds them: `None`
    /// without a token.
    pub fn from_environment() -> Option<Api> {
        Api::from_environment_but(false)
    }

    /// [`Api::from_environment`], skipping `VAULT_TOKEN` when `skip_env_token` (it is a lease's
    /// own token, not a master credential): `~/.vault-token` only.
    pub fn from_environment_but(skip_env_token: bool) -> Option<Api> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let token = match env("VAULT_TOKEN").filter(|_| !skip_env_token) {
            Some(t) => Zeroizing::new(t.into_string().ok()?),
            None => {
                let home = std::path::PathBuf::from(env("HOME")?);
                let file = Zeroizing::new(std::fs::read_to_string(home.join(".vault-token")).ok()?);
                Zeroizing::new(file.trim().to_string())
            }
        };
        if token.is_empty() {
            return None;
        }
        let (address, namespace) = address_from_environment();
        Some(Api::at(&address, namespace.as_deref(), token))
    }
}

#[cfg(feature = "net")]
impl Api {
    /// The same Vault as `self`, with another token (a child token: its reads, its revocation).
    pub fn with_token(&self, token: Zeroizing<String>) -> Api {
        Api {
            address: self.address.clone(),
            token,
            namespace: self.namespace.clone(),
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `vault kv get -format=json PATH`: the mount's KV version first (as the CLI asks), then
    /// the secret.
    pub fn kv_get(&self, path: &str, timeout: Duration) -> Result<Read, StoreError> {
        self.kv(path, "data", timeout)
    }

    /// `vault kv metadata get -format=json PATH` (KV version 2).
    pub fn kv_metadata(&self, path: &str, timeout: Duration) -> Result<Read, StoreError> {
        self.kv(path, "metadata", timeout)
    }

    fn kv(&self, path: &str, part: &str, timeout: Duration) -> Result<Read, StoreError> {
        let work = async {
            let client = client()?;
            let mount = self
                .get(&client, &format!("sys/internal/ui/mounts/{path}"))
                .await?;
            let Some(mount) = mount else {
                return Ok(Read::Missing);
            };
            let mount_path = mount["data"]["path"].as_str().unwrap_or("").to_string();
            let version = mount["data"]["options"]["version"].as_str() == Some("2");
            let api_path = match path.strip_prefix(mount_path.as_str()) {
                Some(rest) if version => format!("{mount_path}{part}/{rest}"),
                _ if part == "metadata" => {
                    return Err(StoreError::new(format!(
                        "{path} is not in a KV version 2 mount: it keeps no metadata"
                    )))
                }
                _ => path.to_string(),
            };
            Ok(match self.get(&client, &api_path).await? {
                Some(doc) => Read::Found(doc),
                None => Read::Missing,
            })
        };
        self.within(timeout, work)
    }

    /// GET /v1/PATH: the JSON answer, `None` for 404.
    async fn get(
        &self,
        client: &Client,
        path: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.send(client, http::Method::GET, path, None).await
    }

    /// METHOD /v1/PATH with an optional JSON body: the JSON answer (`Null` for an empty one),
    /// `None` for 404.
    async fn send(
        &self,
        client: &Client,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let uri = format!("{}/v1/{path}", self.address);
        let mut token = http::HeaderValue::from_str(&self.token)
            .map_err(|_| StoreError::new("VAULT_TOKEN holds characters a header cannot"))?;
        token.set_sensitive(true);
        let mut request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("X-Vault-Token", token);
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns.as_str());
        }
        let body = body.map(crate::secret::json_to_wiping);
        let request = request
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.as_ref().map(|b| b.to_vec()).unwrap_or_default(),
            )))
            .map_err(|e| StoreError::new(format!("{uri}: {e}")).fix(FIX_ADDR))?;
        let (status, body) = super::https::send(client, request)
            .await
            .map_err(|failure| match failure {
                super::https::Failure::Unreachable(text) => {
                    StoreError::new(format!("cannot reach Vault at {}: {text}", self.address))
                        .fix(FIX_ADDR)
                }
                super::https::Failure::CutOff(e) => {
                    StoreError::new(format!("Vault's answer was cut off: {e}"))
                }
            })?;
        if status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let errors = parse_json(&body, "vault")
                .ok()
                .and_then(|d| d["errors"].as_array().cloned())
                .map(|e| {
                    e.iter()
                        .filter_map(|m| m.as_str().map(vault_error_message))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            let fix = if status == http::StatusCode::FORBIDDEN {
                "sign in again (`vault login`), or ask for a policy that allows reading it"
            } else {
                FIX_ADDR
            };
            return Err(StoreError::new(format!(
                "Vault answered {status} for {path}{}",
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {errors}")
                }
            ))
            .fix(fix));
        }
        if body.is_empty() {
            return Ok(Some(serde_json::Value::Null));
        }
        parse_json(&body, "vault").map(Some)
    }

    /// Runs `work` against this Vault within `timeout`.
    fn within<T>(
        &self,
        timeout: Duration,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match super::runtime::block_on(timeout, work)? {
            Some(result) => result,
            None => Err(StoreError::new(format!(
                "Vault at {} did not answer within {}s",
                self.address,
                timeout.as_secs()
            ))
            .fix("check VAULT_ADDR and your network, or raise `timeout` in [secrets.options]")),
        }
    }

    /// A child token of ours (`auth/token/create`), with `policies` (none: ours) for `ttl`.
    pub fn create_child_token(
        &self,
        policies: &[String],
        ttl: Duration,
        display_name: &str,
        timeout: Duration,
    ) -> Result<serde_json::Value, StoreError> {
        self.within(timeout, async {
            let client = client()?;
            let mut body = serde_json::json!({
                "ttl": format!("{}s", ttl.as_secs()),
                "display_name": display_name,
                "renewable": false,
            });
            if !policies.is_empty() {
                body["policies"] = serde_json::json!(policies);
            }
            let answer = self
                .send(
                    &client,
                    http::Method::POST,
                    "auth/token/create",
                    Some(&body),
                )
                .await?
                .ok_or_else(|| StoreError::new("Vault has no token auth method at auth/token"))?;
            Ok(answer)
        })
    }

    /// A read that returns a lease (`database/creds/ROLE`): `None` for 404.
    pub fn read(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.within(timeout, async {
            let client = client()?;
            self.get(&client, path).await
        })
    }

    /// Revokes this API's own token, and with it every lease it created.
    pub fn revoke_self(&self, timeout: Duration) -> Result<(), StoreError> {
        self.within(timeout, async {
            let client = client()?;
            self.send(&client, http::Method::POST, "auth/token/revoke-self", None)
                .await?;
            Ok(())
        })
    }
}

#[cfg(feature = "net")]
const FIX_ADDR: &str = "check VAULT_ADDR (and VAULT_NAMESPACE), and that `vault status` works";

#[cfg(feature = "net")]
type Client = super::https::Client<hyper_util::client::legacy::connect::HttpConnector>;

#[cfg(feature = "net")]
fn client() -> Result<Client, StoreError> {
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    // (What hyper-rustls's own `build()` sets: the scheme is TLS's to check, not TCP's.)
    tcp.enforce_http(false);
    super::https::client_over(tcp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vaults_wrapped_error_is_reduced_to_its_message() {
        assert_eq!(
            vault_error_message("1 error occurred:\n\t* permission denied\n\n"),
            "permission denied"
        );
        assert_eq!(
            vault_error_message("2 errors occurred:\n\t* a\n\t* b\n\n"),
            "a; b"
        );
        assert_eq!(
            vault_error_message("missing client token"),
            "missing client token"
        );
    }
}
