//! `github-app` leases: a GitHub App installation token (one hour), minted with the App's JWT and
//! deleted with the token itself.
//!
//! Both calls go through `jit-secrets-net` (route `github_app`, `crate::net::github_http`):
//! the App's private key travels to it on its stdin pipe, is used there to sign the JWT, and is
//! wiped with the JWT once the token is minted. Revocation (`DELETE /installation/token`) needs
//! only the token and the API's address, so the keeper never holds the private key.

use super::kinds::Grant;
use super::record::Revocation;
use crate::manifest::{GithubApp, Installation};
use crate::secret::SecretValue;
use crate::store_error::StoreError;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use zeroize::Zeroizing;

/// Mints an installation token for `app`, signed with `master.private_key`.
pub fn create(
    app: &GithubApp,
    master: &BTreeMap<String, SecretValue>,
    timeout: Duration,
) -> Result<Grant, StoreError> {
    let key = master.get("private_key").ok_or_else(|| {
        StoreError::new("the lease has no master.private_key")
            .fix("give it master = { private_key = \"keyring:gh-app-key\" }")
    })?;
    let key = std::str::from_utf8(key.expose()).map_err(|_| {
        StoreError::new("master.private_key is not text")
            .fix("store the App's private key as the .pem file GitHub gave (PEM text)")
    })?;
    let (installation_id, owner) = match &app.installation {
        Installation::Id(id) => (Some(*id), None),
        Installation::Owner(owner) => (None, Some(owner.as_str())),
    };
    let mut request = json!({
        "op": "create",
        "api_url": app.api_url,
        "app_id": app.app_id,
        "installation_id": installation_id,
        "owner": owner,
        "private_key": key,
    });
    if !app.repositories.is_empty() {
        request["repositories"] = json!(app.repositories);
    }
    if !app.repository_ids.is_empty() {
        request["repository_ids"] = json!(app.repository_ids);
    }
    if !app.permissions.is_empty() {
        request["permissions"] = json!(app.permissions);
    }
    let answer = crate::net::lease(timeout, "github_app", request)?;
    let token = Zeroizing::new(answer["token"].as_str().unwrap_or_default().to_string());
    let expires = crate::time::from_json(&answer["expires_at"]);
    let installation = answer["installation_id"].as_u64();
    crate::secret::wipe_json(answer);
    let (false, Some(expires), Some(installation)) = (token.is_empty(), expires, installation)
    else {
        return Err(StoreError::new(
            "GitHub's answer has no token, expires_at or installation",
        )
        .fix("check `api_url`: it must be GitHub's REST API (https://HOST/api/v3 on GitHub Enterprise Server)"));
    };
    // Revocation wipes its token on drop, so it is filled in place (no struct update from a default).
    let mut revocation = Revocation::default();
    revocation.github_api_url = Some(app.api_url.clone());
    revocation.github_token = Some(token.to_string());
    Ok(Grant {
        id: format!("installation {installation}"),
        expires,
        revocation,
        fields: BTreeMap::from([("token".to_string(), token)]),
    })
}

/// Deletes the installation token `token` at `api_url` (`DELETE /installation/token`,
/// authenticated by the token itself).
pub fn revoke(api_url: &str, token: &str, timeout: Duration) -> Result<(), StoreError> {
    let request = json!({ "op": "revoke", "api_url": api_url, "token": token });
    crate::net::lease(timeout, "github_app", request)?;
    Ok(())
}
