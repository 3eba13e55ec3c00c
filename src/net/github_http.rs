//! GitHub App installation tokens over GitHub's REST API, by `jit-secrets-net` (see `super::net`
//! and `crate::lease::github_app`), as GitHub documents them: the App's JWT (RS256, `iat` a
//! minute in the past, `exp` nine minutes ahead: ten minutes in all, GitHub's limit, `iss` the
//! App's ID or client ID), then `POST /app/installations/{id}/access_tokens` with the narrowing;
//! `DELETE /installation/token` with the token itself revokes it.
//!
//! The private key is parsed into `rsa`'s key, which wipes itself when dropped; its PEM and DER
//! text, and the JWT, are held in wiped buffers. The signature is blinded with fresh randomness.
//! What we cannot wipe: the `Authorization` header hyper copies, its read buffers, and the
//! `rsa` crate's intermediate numbers while parsing (docs/security.md).
//!
//! `HTTPS_PROXY` (and `ALL_PROXY`, `NO_PROXY`, as curl reads them) is honoured for an https://
//! API: an `http://` proxy is asked to `CONNECT`, and TLS runs end to end through it. An http://
//! API is only ever a loopback address (`github_api_url_problem`), never proxied.

use super::https::{client_over, send, Body, Client, Failure};
use crate::manifest::github_api_url_problem;
use crate::process::cli::parse_json;
use crate::store_error::StoreError;
use http::{HeaderValue, Method, StatusCode};
use hyper_util::client::legacy::connect::{proxy::Tunnel, HttpConnector};
use serde_json::{json, Value};
use std::time::Duration;
use zeroize::Zeroizing;

/// The helper's `github_app` route: `op` = `create` (mint a token) or `revoke` (delete one).
pub fn serve(request: &Value, timeout: Duration) -> Result<Value, StoreError> {
    let api_url = request["api_url"]
        .as_str()
        .unwrap_or(crate::manifest::GITHUB_API)
        .trim_end_matches('/');
    if let Some(problem) = github_api_url_problem(api_url) {
        return Err(StoreError::new(problem).fix("correct `api_url` in the lease"));
    }
    let api = Api::new(api_url)?;
    let work = async {
        match request["op"].as_str() {
            Some("revoke") => {
                api.delete_token(request["token"].as_str().unwrap_or(""))
                    .await
            }
            Some("create") => create(&api, request).await,
            _ => Err(StoreError::new(
                "a GitHub request jit-secrets-net does not know",
            )),
        }
    };
    match super::runtime::block_on(timeout, work)? {
        Some(result) => result,
        None => Err(StoreError::new(format!(
            "GitHub at {api_url} did not answer within {}s",
            timeout.as_secs()
        ))
        .fix("check your network (and HTTPS_PROXY), or raise the lease's `timeout`")),
    }
}

/// Mints the token: the JWT, the installation (looked up by `owner` when no ID is given), then
/// the token with the request's narrowing.
async fn create(api: &Api, request: &Value) -> Result<Value, StoreError> {
    let jwt = {
        let key = private_key(request["private_key"].as_str().unwrap_or_default())?;
        app_jwt(
            request["app_id"].as_str().unwrap_or_default(),
            &key,
            crate::time::now(),
        )?
    };
    let id = match request["installation_id"].as_u64() {
        Some(id) => id,
        None => {
            api.installation_of(request["owner"].as_str().unwrap_or_default(), &jwt)
                .await?
        }
    };
    let mut narrowing = json!({});
    for k in ["repositories", "repository_ids", "permissions"] {
        if !request[k].is_null() {
            narrowing[k] = request[k].clone();
        }
    }
    let path = format!("/app/installations/{id}/access_tokens");
    let (status, body) = api
        .call(Method::POST, &path, &jwt, Some(&narrowing))
        .await?;
    if status.is_success() {
        let mut answer = parse_json(&body, "GitHub")?;
        let token = answer["token"].take();
        let expires_at = answer["expires_at"].take();
        crate::secret::wipe_json(answer);
        return Ok(json!({ "token": token, "expires_at": expires_at, "installation_id": id }));
    }
    let said = message_of(&body);
    Err(match status {
        StatusCode::UNAUTHORIZED => jwt_rejected(&said),
        StatusCode::NOT_FOUND => StoreError::new(format!(
            "GitHub found no installation {id} of this App{said}"
        ))
        .fix("check `installation_id` (or `owner`) and that the App is installed there (the account's Settings → GitHub Apps)"),
        StatusCode::UNPROCESSABLE_ENTITY => {
            api.narrowing_refused(id, &jwt, &narrowing, &said).await
        }
        other => unexpected(other, &said),
    })
}

/// GitHub's `message`, as `: message` (empty when it gave none).
fn message_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(|m| format!(": {m}")))
        .unwrap_or_default()
}

fn jwt_rejected(said: &str) -> StoreError {
    StoreError::new(format!("GitHub rejected the app's JWT (401{said})")).fix(
        "check `app_id` (the App's ID or client ID, on its settings page) and that master.private_key is one of the App's current private keys",
    )
}

fn unexpected(status: StatusCode, said: &str) -> StoreError {
    StoreError::new(format!("GitHub answered {status}{said}"))
        .fix("check `api_url` (GitHub Enterprise Server: https://HOST/api/v3) and GitHub's status")
}

/// The App's private key, from the PEM GitHub gives (PKCS#1, `RSA PRIVATE KEY`) or PKCS#8
/// (`PRIVATE KEY`, as `openssl genpkey` writes).
fn private_key(pem: &str) -> Result<rsa::RsaPrivateKey, StoreError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let unreadable = || {
        StoreError::new("master.private_key is not an RSA private key in PEM form").fix(
            "store the .pem file GitHub gave for the App (-----BEGIN RSA PRIVATE KEY-----…), whole",
        )
    };
    let pem = pem.trim();
    let label = pem
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .map(|(label, _)| label)
        .ok_or_else(unreadable)?;
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once("-----\n")
        .or_else(|| pem.split_once("-----\r\n"))
        .and_then(|(_, rest)| rest.split_once(end.as_str()))
        .map(|(body, _)| body)
        .ok_or_else(unreadable)?;
    let mut base64_text = Zeroizing::new(String::with_capacity(body.len()));
    base64_text.extend(body.chars().filter(|c| !c.is_ascii_whitespace()));
    let der = Zeroizing::new(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &*base64_text)
            .map_err(|_| unreadable())?,
    );
    match label {
        "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| unreadable()),
        "PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| unreadable()),
        _ => Err(unreadable()),
    }
}

/// The App's JWT at `now` (Unix seconds).
fn app_jwt(
    app_id: &str,
    key: &rsa::RsaPrivateKey,
    now: i64,
) -> Result<Zeroizing<String>, StoreError> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = json!({ "iat": now - 60, "exp": now + 9 * 60, "iss": app_id });
    // Room for all of it up front: a growing buffer would leave copies behind.
    let mut jwt = Zeroizing::new(String::with_capacity(4096));
    jwt.push_str(&b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#));
    jwt.push('.');
    jwt.push_str(&b64.encode(claims.to_string()));
    let digest = Sha256::digest(jwt.as_bytes());
    let signature = Zeroizing::new(
        key.sign_with_rng(
            &mut rand_core::OsRng,
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &digest,
        )
        .map_err(|e| StoreError::new(format!("cannot sign the App's JWT: {e}")))?,
    );
    jwt.push('.');
    jwt.push_str(&Zeroizing::new(b64.encode(&*signature)));
    Ok(jwt)
}

/// GitHub's REST API at one address, reached directly or through the environment's proxy.
struct Api {
    base: String,
    client: Route,
}

enum Route {
    Direct(Client<HttpConnector>),
    Proxied(Client<Tunnel<HttpConnector>>),
}

impl Api {
    fn new(base: &str) -> Result<Api, StoreError> {
        let uri: http::Uri = base.parse().map_err(|_| {
            StoreError::new(format!("`api_url` {base:?} is not a URL")).fix("correct `api_url`")
        })?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        let client = match proxy_for(&uri)? {
            None => Route::Direct(client_over(tcp)?),
            Some((proxy, auth)) => {
                let mut tunnel = Tunnel::new(proxy, tcp);
                if let Some(auth) = auth {
                    tunnel = tunnel.with_auth(auth);
                }
                Route::Proxied(client_over(tunnel)?)
            }
        };
        Ok(Api {
            base: base.to_string(),
            client,
        })
    }

    /// METHOD BASE/PATH, authorized by `bearer` (the JWT or an installation token): the status
    /// and the body (in a wiped buffer: a token's answer holds the token).
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Zeroizing<Vec<u8>>), StoreError> {
        let uri = format!("{}{path}", self.base);
        let mut auth = HeaderValue::from_str(&format!("Bearer {bearer}"))
            .map_err(|_| StoreError::new("the token holds characters a header cannot"))?;
        auth.set_sensitive(true);
        let request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header(
                "User-Agent",
                concat!("jit-secrets/", env!("CARGO_PKG_VERSION")),
            )
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .body(Body::new(bytes::Bytes::from(
                body.map(Value::to_string).unwrap_or_default(),
            )))
            .map_err(|e| StoreError::new(format!("{uri}: {e}")).fix("correct `api_url`"))?;
        let answer = match &self.client {
            Route::Direct(client) => send(client, request).await,
            Route::Proxied(client) => send(client, request).await,
        };
        answer.map_err(|failure| {
            let why = match failure {
                Failure::Unreachable(why) => why,
                Failure::CutOff(e) => format!("the answer was cut off: {e}"),
            };
            StoreError::new(format!("cannot reach GitHub at {}: {why}", self.base)).fix(
                "check `api_url`, your network and HTTPS_PROXY (an http:// proxy that allows CONNECT)",
            )
        })
    }

    /// The installation of this App on `owner`: an organization's, else a user's.
    async fn installation_of(&self, owner: &str, jwt: &str) -> Result<u64, StoreError> {
        for kind in ["orgs", "users"] {
            let path = format!("/{kind}/{owner}/installation");
            let (status, body) = self.call(Method::GET, &path, jwt, None).await?;
            match status {
                StatusCode::NOT_FOUND => continue,
                StatusCode::UNAUTHORIZED => return Err(jwt_rejected(&message_of(&body))),
                s if s.is_success() => {
                    let doc = parse_json(&body, "GitHub")?;
                    return doc["id"].as_u64().ok_or_else(|| {
                        StoreError::new(format!("GitHub's installation of {owner} has no id"))
                    });
                }
                other => return Err(unexpected(other, &message_of(&body))),
            }
        }
        Err(StoreError::new(format!(
            "GitHub found no installation of this App on `{owner}` (neither an organization's nor a user's)"
        ))
        .fix("check `owner` (the login of the organization or user), and that the App is installed there"))
    }

    /// 422 to a narrowed token: which requested permission or repository the installation lacks.
    async fn narrowing_refused(&self, id: u64, jwt: &str, asked: &Value, said: &str) -> StoreError {
        let fix = "ask only for what the installation has (the `repositories` and `permissions` of the lease), or grant it more: the account's Settings → GitHub Apps → Configure";
        let lacking = match self.lacking(id, jwt, asked).await {
            Ok(lacking) if !lacking.is_empty() => lacking,
            _ => {
                return StoreError::new(format!(
                    "GitHub refused the token's narrowing (422{said}); asked for {asked}"
                ))
                .fix(fix)
            }
        };
        StoreError::new(format!(
            "GitHub refused the token's narrowing: the installation does not have {} (422{said})",
            lacking.join(", ")
        ))
        .fix(fix)
    }

    /// What of `asked` installation `id` does not have: permissions from the installation (with
    /// the JWT), then repositories from a token that can only read metadata, deleted at once.
    async fn lacking(&self, id: u64, jwt: &str, asked: &Value) -> Result<Vec<String>, StoreError> {
        let (status, body) = self
            .call(Method::GET, &format!("/app/installations/{id}"), jwt, None)
            .await?;
        if !status.is_success() {
            return Err(unexpected(status, &message_of(&body)));
        }
        let installation = parse_json(&body, "GitHub")?;
        let mut lacking = missing_permissions(&asked["permissions"], &installation["permissions"]);
        if !lacking.is_empty()
            || asked["repositories"].is_null() && asked["repository_ids"].is_null()
        {
            return Ok(lacking);
        }
        let probe = json!({ "permissions": { "metadata": "read" } });
        let path = format!("/app/installations/{id}/access_tokens");
        let (status, body) = self.call(Method::POST, &path, jwt, Some(&probe)).await?;
        if !status.is_success() {
            return Err(unexpected(status, &message_of(&body)));
        }
        let mut answer = parse_json(&body, "GitHub")?;
        let token = Zeroizing::new(answer["token"].as_str().unwrap_or_default().to_string());
        crate::secret::wipe_json(answer.take());
        let listed = self.repositories(&token).await;
        let _ = self.delete_token(&token).await;
        let (names, ids) = listed?;
        for name in asked["repositories"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                lacking.push(format!("repository `{name}`"));
            }
        }
        for wanted in asked["repository_ids"].as_array().into_iter().flatten() {
            if !wanted.as_u64().is_some_and(|w| ids.contains(&w)) {
                lacking.push(format!("repository id {wanted}"));
            }
        }
        Ok(lacking)
    }

    /// The names and IDs of the repositories `token` reaches (`GET /installation/repositories`,
    /// every page).
    async fn repositories(&self, token: &str) -> Result<(Vec<String>, Vec<u64>), StoreError> {
        let (mut names, mut ids) = (Vec::new(), Vec::new());
        for page in 1..=50 {
            let path = format!("/installation/repositories?per_page=100&page={page}");
            let (status, body) = self.call(Method::GET, &path, token, None).await?;
            if !status.is_success() {
                return Err(unexpected(status, &message_of(&body)));
            }
            let doc = parse_json(&body, "GitHub")?;
            let repos = doc["repositories"].as_array().cloned().unwrap_or_default();
            for r in &repos {
                names.extend(r["name"].as_str().map(str::to_string));
                ids.extend(r["id"].as_u64());
            }
            if repos.len() < 100 {
                break;
            }
        }
        Ok((names, ids))
    }

    /// `DELETE /installation/token`: 204 deleted; 401 it no longer works (expired, or deleted
    /// already), which is what revoking wants.
    async fn delete_token(&self, token: &str) -> Result<Value, StoreError> {
        let (status, body) = self
            .call(Method::DELETE, "/installation/token", token, None)
            .await?;
        if status.is_success() || status == StatusCode::UNAUTHORIZED {
            return Ok(Value::Null);
        }
        Err(StoreError::new(format!(
            "GitHub did not delete the installation token ({status}{})",
            message_of(&body)
        ))
        .fix("it expires within the hour on its own; `jit-secrets lease revoke` tries again"))
    }
}

/// `asked` (permission → level) beyond `granted`, as `name=level (it has …)`.
fn missing_permissions(asked: &Value, granted: &Value) -> Vec<String> {
    let rank = |level: Option<&str>| match level {
        Some("read") => 1,
        Some("write") => 2,
        Some("admin") => 3,
        _ => 0,
    };
    asked
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, level)| {
            let has = granted[name].as_str();
            (rank(level.as_str()) > rank(has)).then(|| {
                format!(
                    "permission {name}={} (it has {})",
                    level.as_str().unwrap_or_default(),
                    has.unwrap_or("none")
                )
            })
        })
        .collect()
}

/// The proxy for `uri` from the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), with its
/// `Proxy-Authorization`; `None`: connect directly.
fn proxy_for(uri: &http::Uri) -> Result<Option<(http::Uri, Option<HeaderValue>)>, StoreError> {
    if uri.scheme_str() != Some("https") {
        return Ok(None);
    }
    let Some(intercept) = hyper_util::client::proxy::matcher::Matcher::from_env().intercept(uri)
    else {
        return Ok(None);
    };
    if intercept.uri().scheme_str() != Some("http") {
        return Err(StoreError::new(format!(
            "the proxy for {uri} is {}: jit-secrets reaches GitHub through http:// proxies only",
            intercept.uri()
        ))
        .fix("set HTTPS_PROXY to the proxy's http:// address, or add the host to NO_PROXY"));
    }
    Ok(Some((
        intercept.uri().clone(),
        intercept.basic_auth().cloned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_permissions_are_named_with_what_the_installation_has() {
        let asked = json!({"contents": "read", "pull_requests": "write", "issues": "read"});
        let granted = json!({"contents": "write", "pull_requests": "read", "metadata": "read"});
        assert_eq!(
            missing_permissions(&asked, &granted),
            [
                "permission issues=read (it has none)",
                "permission pull_requests=write (it has read)"
            ]
        );
        assert!(missing_permissions(&Value::Null, &granted).is_empty());
    }

    #[test]
    fn the_jwt_is_rs256_signed_with_githubs_claims() {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let jwt = app_jwt("Iv1.abc", &key, 1_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let part =
            |i: usize| -> Value { serde_json::from_slice(&b64.decode(parts[i]).unwrap()).unwrap() };
        assert_eq!(part(0), json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(
            part(1),
            json!({"iat": 1_000_000 - 60, "exp": 1_000_000 + 540, "iss": "Iv1.abc"})
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        key.to_public_key()
            .verify(
                rsa::Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(signed.as_bytes()),
                &b64.decode(parts[2]).unwrap(),
            )
            .expect("a valid RS256 signature");
    }

    #[test]
    fn a_pem_that_is_not_an_rsa_key_is_refused_without_echoing_it() {
        for pem in [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let e = private_key(pem).unwrap_err();
            assert!(e.message.contains("not an RSA private key"), "{pem}");
            assert!(!e.message.contains("bm90"));
        }
    }
}
