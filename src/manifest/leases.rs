//! `[secrets.leases.NAME]`: short-lived credentials created at activation (see `crate::lease`).
//! Only the declaration lives here; creating, keeping and revoking them is the lease room's job.

use super::{parse_duration_value, parse_reference, span_of, Locator, ManifestError};
use crate::reference::{is_valid_env_name, Reference};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml_edit::{Item, Value};

/// One lease as the manifest declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseSpec {
    pub name: String,
    pub kind: LeaseKind,
    /// The master credential's parts (`access_key_id`, `token`, …), each a reference. Empty:
    /// the kind's usual environment, as its CLI would find it.
    pub master: BTreeMap<String, Reference>,
    /// How long a lease lives (the backend may grant less: the expiry it answers is kept).
    pub duration: Option<Duration>,
    pub revoke: RevokeWhen,
    pub required: bool,
    /// VAR → the field of the lease it takes. `None`: the kind's default.
    pub exports: Option<BTreeMap<String, String>>,
    /// Renew (create a new lease) once less than this is left; default 10% of its life, ≥ 1m.
    pub renew_before: Option<Duration>,
    /// The backend call's timeout (default: `[secrets.options] timeout`).
    pub timeout: Option<Duration>,
    /// `command` leases: the variables the keeper passes to `revoke_command` (it starts with
    /// none of the shell's but a fixed few; see `crate::lease::keeper`).
    pub revoke_env: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeWhen {
    /// Revoked once the last shell or `run` program that received it has exited.
    OnExit,
    /// Left to expire (the default).
    OnExpiry,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LeaseKind {
    /// STS AssumeRole (`role_arn`), else GetSessionToken.
    AwsSts {
        role_arn: Option<String>,
        session_name: Option<String>,
        external_id: Option<String>,
        mfa_serial: Option<String>,
        region: Option<String>,
    },
    /// A child token (`token = { policies, ttl }`), or a read that returns a lease (`path`).
    Vault {
        path: Option<String>,
        policies: Vec<String>,
        ttl: Option<Duration>,
    },
    /// `gcloud auth print-access-token`, optionally impersonating a service account.
    Gcp {
        impersonate: Option<String>,
        scopes: Vec<String>,
    },
    /// `az account get-access-token --resource R`.
    Azure {
        resource: String,
        tenant: Option<String>,
    },
    /// A program of the project prints one JSON object; `revoke_command` revokes by id.
    Command {
        command: Vec<String>,
        revoke_command: Option<Vec<String>>,
    },
    /// A GitHub App installation token (see `crate::lease::github_app`).
    GithubApp(GithubApp),
}

/// A `github-app` lease's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GithubApp {
    /// The App's ID or client ID: the JWT's `iss`.
    pub app_id: String,
    pub installation: Installation,
    /// Narrowing: repository names, or IDs (empty: every repository the installation has).
    pub repositories: Vec<String>,
    pub repository_ids: Vec<u64>,
    /// Narrowing: permission → `read`/`write`/`admin` (empty: the installation's).
    pub permissions: BTreeMap<String, String>,
    /// `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`.
    pub api_url: String,
}

/// Which installation of the App the token is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Installation {
    Id(u64),
    /// An organization's or user's login: looked up at creation.
    Owner(String),
}

pub const GITHUB_API: &str = "https://api.github.com";

/// Is `url` one the token may be sent to: https, or http to a loopback address only (a local
/// test server; anything else would send the App's JWT and the token in clear)?
pub fn github_api_url_problem(url: &str) -> Option<String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return (!url.starts_with("https://") || url.len() == "https://".len())
            .then(|| format!("`api_url` {url:?} is not an https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!("`api_url` {url:?} is http:// to a host that is not this machine: the App's JWT and the token would cross the network in clear (use https://)")
    })
}

impl LeaseKind {
    pub fn name(&self) -> &'static str {
        match self {
            LeaseKind::AwsSts { .. } => "aws-sts",
            LeaseKind::Vault { .. } => "vault",
            LeaseKind::Gcp { .. } => "gcp",
            LeaseKind::Azure { .. } => "azure",
            LeaseKind::Command { .. } => "command",
            LeaseKind::GithubApp(_) => "github-app",
        }
    }

    /// Can the backend revoke what it issued? STS, GCP and Azure tokens live until they expire.
    pub fn revocable(&self) -> bool {
        match self {
            LeaseKind::Vault { .. } | LeaseKind::GithubApp(_) => true,
            LeaseKind::Command { revoke_command, .. } => revoke_command.is_some(),
            LeaseKind::AwsSts { .. } | LeaseKind::Gcp { .. } | LeaseKind::Azure { .. } => false,
        }
    }

    /// The master credential's parts this kind takes.
    fn master_parts(&self) -> &'static [&'static str] {
        match self {
            LeaseKind::AwsSts { .. } => &["access_key_id", "secret_access_key", "session_token"],
            LeaseKind::Vault { .. } => &["token"],
            LeaseKind::GithubApp(_) => &["private_key"],
            LeaseKind::Gcp { .. } | LeaseKind::Azure { .. } | LeaseKind::Command { .. } => &[],
        }
    }
}

impl LeaseSpec {
    /// VAR → field, the manifest's `exports` or the kind's default. A `vault` read's fields are
    /// known only from the answer: `None` here means "every field, as LEASE_FIELD".
    pub fn exports(&self) -> Option<BTreeMap<String, String>> {
        if let Some(e) = &self.exports {
            return Some(e.clone());
        }
        let pairs: &[(&str, &str)] = match &self.kind {
            LeaseKind::AwsSts { .. } => &[
                ("AWS_ACCESS_KEY_ID", "access_key_id"),
                ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
                ("AWS_SESSION_TOKEN", "session_token"),
            ],
            LeaseKind::Vault { path: None, .. } => &[("VAULT_TOKEN", "token")],
            LeaseKind::Gcp { .. } => &[("CLOUDSDK_AUTH_ACCESS_TOKEN", "access_token")],
            LeaseKind::Azure { .. } => &[("AZURE_ACCESS_TOKEN", "access_token")],
            LeaseKind::GithubApp(_) => &[("GH_TOKEN", "token"), ("GITHUB_TOKEN", "token")],
            LeaseKind::Vault { path: Some(_), .. } | LeaseKind::Command { .. } => return None,
        };
        Some(
            pairs
                .iter()
                .map(|(v, f)| (v.to_string(), f.to_string()))
                .collect(),
        )
    }

    /// Every reference the lease reads (its master credential).
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.master.values()
    }
}

const LEASE_KEYS: &[&str] = &[
    "kind",
    "master",
    "duration",
    "revoke",
    "required",
    "exports",
    "renew_before",
    "timeout",
    "role_arn",
    "session_name",
    "external_id",
    "mfa_serial",
    "region",
    "path",
    "token",
    "impersonate_service_account",
    "scopes",
    "resource",
    "tenant",
    "command",
    "revoke_command",
    "revoke_env",
    // github-app's: the last seven.
    "app_id",
    "installation_id",
    "owner",
    "repositories",
    "repository_ids",
    "permissions",
    "api_url",
];

/// Parses the `leases` table: one sub-table per lease.
pub(super) fn parse_leases(
    loc: &Locator,
    item: &Item,
    key: &toml_edit::Key,
    base_dir: &Path,
) -> Result<Vec<LeaseSpec>, ManifestError> {
    let Some(table) = item.as_table_like() else {
        return Err(loc.at(
            key.span(),
            "`leases` must be a table of tables, e.g. [secrets.leases.aws-dev]",
        ));
    };
    let mut leases = Vec::new();
    for (name, body) in table.iter() {
        let (lkey, _) = table.get_key_value(name).expect("iterated key exists");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(loc.at(
                lkey.span(),
                format!("lease name `{name}`: use letters, digits, `-` and `_`"),
            ));
        }
        let Some(body) = body.as_table_like() else {
            return Err(loc.at(
                lkey.span(),
                format!("lease `{name}` must be a table, e.g. [secrets.leases.{name}] with kind = \"aws-sts\""),
            ));
        };
        leases.push(parse_lease(loc, name, lkey, body, base_dir)?);
    }
    Ok(leases)
}

fn parse_lease(
    loc: &Locator,
    name: &str,
    key: &toml_edit::Key,
    table: &dyn toml_edit::TableLike,
    base_dir: &Path,
) -> Result<LeaseSpec, ManifestError> {
    let s = Settings { loc, name, table };
    check_keys_known(&s)?;
    let (kind_name, kind) = parse_kind(&s, key, base_dir)?;
    check_settings_belong(&s, &kind_name, &kind)?;
    let master = parse_master(&s, &kind_name, &kind, base_dir)?;
    let revoke = parse_revoke(&s)?;
    let required = match s.value("required") {
        None => true,
        Some(Value::Boolean(b)) => *b.value(),
        Some(v) => return Err(loc.at(v.span(), "`required` must be true or false")),
    };
    let exports = parse_exports(&s)?;
    let revoke_env = parse_revoke_env(&s)?;
    Ok(LeaseSpec {
        name: name.to_string(),
        revoke_env,
        kind,
        master,
        duration: s.duration("duration")?,
        revoke,
        required,
        exports,
        renew_before: s.duration("renew_before")?,
        timeout: s.duration("timeout")?,
    })
}

/// Every key of the lease is one some kind takes.
fn check_keys_known(s: &Settings) -> Result<(), ManifestError> {
    for (k, _) in s.table.iter() {
        if !LEASE_KEYS.contains(&k) {
            let (kk, _) = s.table.get_key_value(k).expect("iterated key exists");
            return Err(s.loc.at(
                kk.span(),
                format!(
                    "unknown key `{k}` in lease `{}` (known: {})",
                    s.name,
                    LEASE_KEYS.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The lease's `kind` (its name as written) and that kind's own settings.
fn parse_kind(
    s: &Settings,
    key: &toml_edit::Key,
    base_dir: &Path,
) -> Result<(String, LeaseKind), ManifestError> {
    let (loc, name) = (s.loc, s.name);
    let kind_name = match s.value("kind").and_then(Value::as_str) {
        Some(k) => k.to_string(),
        None => {
            return Err(loc.at(
                s.at("kind").or(key.span()),
                format!("lease `{name}` needs a `kind`: \"aws-sts\", \"vault\", \"gcp\", \"azure\", \"github-app\" or \"command\""),
            ))
        }
    };
    let kind = match kind_name.as_str() {
        "aws-sts" => LeaseKind::AwsSts {
            role_arn: s.string("role_arn")?,
            session_name: s.string("session_name")?,
            external_id: s.string("external_id")?,
            mfa_serial: s.string("mfa_serial")?,
            region: s.string("region")?,
        },
        "vault" => parse_vault(s)?,
        "gcp" => LeaseKind::Gcp {
            impersonate: s.string("impersonate_service_account")?,
            scopes: s
                .value("scopes")
                .map(|v| s.strings("scopes", v))
                .transpose()?
                .unwrap_or_default(),
        },
        "azure" => LeaseKind::Azure {
            resource: s.string("resource")?.ok_or_else(|| {
                loc.at(
                    key.span(),
                    format!("azure lease `{name}` needs `resource`, e.g. \"https://management.azure.com/\""),
                )
            })?,
            tenant: s.string("tenant")?,
        },
        "command" => LeaseKind::Command {
            command: s.program("command", base_dir)?.ok_or_else(|| {
                loc.at(
                    key.span(),
                    format!("command lease `{name}` needs `command`, the program that prints the lease as JSON"),
                )
            })?,
            revoke_command: s.program("revoke_command", base_dir)?,
        },
        "github-app" => LeaseKind::GithubApp(parse_github_app(loc, name, key, s.table)?),
        other => {
            return Err(loc.at(
                s.at("kind"),
                format!("lease kind `{other}` is not one jit-secrets knows (known: aws-sts, vault, gcp, azure, github-app, command)"),
            ))
        }
    };
    Ok((kind_name, kind))
}

/// A `vault` lease: a dynamic secret's `path`, or a child token's `token = { policies, ttl }`.
fn parse_vault(s: &Settings) -> Result<LeaseKind, ManifestError> {
    let (loc, name) = (s.loc, s.name);
    let path = s.string("path")?;
    let (mut policies, mut ttl) = (Vec::new(), None);
    if let Some(t) = s.table.get("token") {
        let Some(t) = t.as_table_like() else {
            return Err(loc.at(s.at("token"), format!("`token` in lease `{name}` is a table like {{ policies = [\"default\"], ttl = \"15m\" }}")));
        };
        for (k, v) in t.iter() {
            match (k, v.as_value()) {
                ("policies", Some(v)) => policies = s.strings("token.policies", v)?,
                ("ttl", Some(v)) => ttl = Some(parse_duration_value(loc, v)?),
                _ => {
                    return Err(loc.at(
                        s.at("token"),
                        format!("`token` in lease `{name}` takes `policies` and `ttl`, not `{k}`"),
                    ))
                }
            }
        }
    }
    if path.is_some() && s.table.contains_key("token") {
        return Err(loc.at(s.at("path"), format!("lease `{name}` has both `path` (a dynamic secret) and `token` (a child token): keep one")));
    }
    Ok(LeaseKind::Vault {
        path,
        policies,
        ttl,
    })
}

/// Settings of one kind given to another are mistakes worth a line, not silence.
fn check_settings_belong(
    s: &Settings,
    kind_name: &str,
    kind: &LeaseKind,
) -> Result<(), ManifestError> {
    let belongs: &[&str] = match kind {
        LeaseKind::AwsSts { .. } => &[
            "role_arn",
            "session_name",
            "external_id",
            "mfa_serial",
            "region",
        ],
        LeaseKind::Vault { .. } => &["path", "token"],
        LeaseKind::Gcp { .. } => &["impersonate_service_account", "scopes"],
        LeaseKind::Azure { .. } => &["resource", "tenant"],
        LeaseKind::Command { .. } => &["command", "revoke_command", "revoke_env"],
        LeaseKind::GithubApp(_) => &LEASE_KEYS[LEASE_KEYS.len() - 7..],
    };
    for k in &LEASE_KEYS[8..] {
        if s.table.contains_key(k) && !belongs.contains(k) {
            return Err(s.loc.at(
                s.at(k),
                format!(
                    "`{k}` is not a setting of {kind_name} leases (lease `{}`)",
                    s.name
                ),
            ));
        }
    }
    Ok(())
}

/// `master`: the parts of the master credential this kind takes, each a reference.
fn parse_master(
    s: &Settings,
    kind_name: &str,
    kind: &LeaseKind,
    base_dir: &Path,
) -> Result<BTreeMap<String, Reference>, ManifestError> {
    let (loc, name) = (s.loc, s.name);
    let mut master = BTreeMap::new();
    let Some(m) = s.table.get("master") else {
        return Ok(master);
    };
    let Some(m) = m.as_table_like() else {
        return Err(loc.at(s.at("master"), format!("`master` in lease `{name}` is a table of references, like {{ token = \"keyring:vault-master\" }}")));
    };
    let parts = kind.master_parts();
    for (k, v) in m.iter() {
        if !parts.contains(&k) {
            let known = if parts.is_empty() {
                format!("{kind_name} leases take no master credential: they use the CLI's signed-in account")
            } else {
                format!("{kind_name} leases take {}", parts.join(", "))
            };
            return Err(loc.at(
                s.at("master"),
                format!("`master.{k}` in lease `{name}`: {known}"),
            ));
        }
        let Some(v) = v.as_value() else {
            return Err(loc.at(
                s.at("master"),
                format!("`master.{k}` must be a reference string"),
            ));
        };
        master.insert(k.to_string(), parse_reference(loc, v, base_dir)?);
    }
    if kind_name == "aws-sts"
        && !(master.contains_key("access_key_id") && master.contains_key("secret_access_key"))
    {
        return Err(loc.at(
            s.at("master"),
            format!("`master` in lease `{name}` needs both access_key_id and secret_access_key"),
        ));
    }
    Ok(master)
}

/// `revoke`: "on-exit" or "on-expiry" (the default).
fn parse_revoke(s: &Settings) -> Result<RevokeWhen, ManifestError> {
    match s.value("revoke").map(|v| (v.as_str(), v)) {
        None => Ok(RevokeWhen::OnExpiry),
        Some((Some("on-exit"), _)) => Ok(RevokeWhen::OnExit),
        Some((Some("on-expiry"), _)) => Ok(RevokeWhen::OnExpiry),
        Some((_, v)) => Err(s
            .loc
            .at(v.span(), "`revoke` is \"on-exit\" or \"on-expiry\"")),
    }
}

/// `exports`: VAR → field, each VAR one a lease may set.
fn parse_exports(s: &Settings) -> Result<Option<BTreeMap<String, String>>, ManifestError> {
    let (loc, name) = (s.loc, s.name);
    let Some(v) = s.value("exports") else {
        return Ok(None);
    };
    let wrong = || {
        loc.at(v.span(), format!("`exports` in lease `{name}` maps variables to fields, like {{ DB_USERNAME = \"username\" }}"))
    };
    let t = v.as_inline_table().ok_or_else(wrong)?;
    let mut map = BTreeMap::new();
    for (var, field) in t.iter() {
        let field = field.as_str().filter(|f| !f.is_empty()).ok_or_else(wrong)?;
        if !is_valid_env_name(var) || super::is_dangerous_name(var) {
            return Err(loc.at(
                v.span(),
                format!("`exports` in lease `{name}`: `{var}` is not a variable a lease may set"),
            ));
        }
        map.insert(var.to_string(), field.to_string());
    }
    if map.is_empty() {
        return Err(wrong());
    }
    Ok(Some(map))
}

/// `revoke_env`: the variables the keeper passes to `revoke_command`.
fn parse_revoke_env(s: &Settings) -> Result<Vec<String>, ManifestError> {
    let Some(v) = s.value("revoke_env") else {
        return Ok(Vec::new());
    };
    let names = s.strings("revoke_env", v)?;
    if let Some(bad) = names
        .iter()
        .find(|n| !is_valid_env_name(n) || super::is_dangerous_name(n))
    {
        return Err(s.loc.at(
            v.span(),
            format!(
                "`revoke_env` in lease `{}`: `{bad}` is not a variable the keeper may pass on",
                s.name
            ),
        ));
    }
    Ok(names)
}

/// A `github-app` lease's settings (the generic ones are `parse_lease`'s).
fn parse_github_app(
    loc: &Locator,
    name: &str,
    key: &toml_edit::Key,
    table: &dyn toml_edit::TableLike,
) -> Result<GithubApp, ManifestError> {
    let s = Settings { loc, name, table };
    if table.contains_key("duration") {
        return Err(s.wrong(
            "duration",
            "cannot be honoured: GitHub makes every installation token live one hour (revoke = \"on-exit\" deletes it sooner)",
        ));
    }
    let needs = |what: &str| {
        loc.at(
            key.span(),
            format!("github-app lease `{name}` needs {what}"),
        )
    };
    let has_key = table
        .get("master")
        .and_then(Item::as_table_like)
        .is_some_and(|m| m.contains_key("private_key"));
    if !has_key {
        return Err(needs("the App's private key: master = { private_key = \"keyring:gh-app-key\" } (any reference)"));
    }
    let app_id = s.text("app_id")?.ok_or_else(|| {
        needs("`app_id`: the App's ID or client ID (its settings page shows both)")
    })?;
    let installation =
        match (s.text("installation_id")?, s.text("owner")?) {
            (Some(_), Some(_)) => {
                return Err(s.wrong(
                    "owner",
                    "and `installation_id` name the installation twice: keep one",
                ))
            }
            (Some(id), None) => Installation::Id(
                id.parse()
                    .map_err(|_| s.wrong("installation_id", "must be a number, e.g. \"42\""))?,
            ),
            // A login goes into the lookup's path: GitHub's are letters, digits and `-`.
            (None, Some(owner))
                if owner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') =>
            {
                Installation::Owner(owner)
            }
            (None, Some(_)) => {
                return Err(s.wrong(
                    "owner",
                    "is the login of an organization or user, e.g. \"my-org\"",
                ))
            }
            (None, None) => return Err(needs(
                "`installation_id`, or `owner` (the organization or user the App is installed on)",
            )),
        };
    let api_url = s
        .text("api_url")?
        .unwrap_or_else(|| GITHUB_API.to_string())
        .trim_end_matches('/')
        .to_string();
    if let Some(problem) = github_api_url_problem(&api_url) {
        return Err(loc.at(s.at("api_url"), format!("lease `{name}`: {problem}")));
    }
    Ok(GithubApp {
        app_id,
        installation,
        repositories: s.repositories()?,
        repository_ids: s.repository_ids()?,
        permissions: s.permissions()?,
        api_url,
    })
}

/// One lease's table, for the settings of a kind: where a key is, and what is wrong with it.
struct Settings<'a> {
    loc: &'a Locator<'a>,
    name: &'a str,
    table: &'a dyn toml_edit::TableLike,
}

impl Settings<'_> {
    fn at(&self, k: &str) -> Option<std::ops::Range<usize>> {
        self.table
            .get_key_value(k)
            .and_then(|(kk, v)| span_of(v).or(kk.span()))
    }

    fn wrong(&self, k: &str, shape: &str) -> ManifestError {
        self.loc.at(
            self.at(k),
            format!("`{k}` in lease `{}` {shape}", self.name),
        )
    }

    fn value(&self, k: &str) -> Option<&Value> {
        self.table.get(k).and_then(Item::as_value)
    }

    /// A non-empty string, taken as written.
    fn string(&self, k: &str) -> Result<Option<String>, ManifestError> {
        match self.table.get(k) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) if !s.is_empty() => Ok(Some(s.to_string())),
                _ => Err(self.loc.at(
                    self.at(k),
                    format!("`{k}` in lease `{}` must be a non-empty string", self.name),
                )),
            },
        }
    }

    /// `v`, the value of `k`, as a list of strings.
    fn strings(&self, k: &str, v: &Value) -> Result<Vec<String>, ManifestError> {
        let wrong = || {
            self.loc.at(
                v.span(),
                format!("`{k}` in lease `{}` must be a list of strings", self.name),
            )
        };
        let list = v.as_array().ok_or_else(wrong)?;
        list.iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(wrong))
            .collect()
    }

    fn duration(&self, k: &str) -> Result<Option<Duration>, ManifestError> {
        self.value(k)
            .map(|v| parse_duration_value(self.loc, v))
            .transpose()
    }

    /// A program, as `cmd:` takes it: a string split like a shell would, or a list; a relative
    /// path runs from the manifest's directory.
    fn program(&self, k: &str, base_dir: &Path) -> Result<Option<Vec<String>>, ManifestError> {
        let Some(v) = self.value(k) else {
            return Ok(None);
        };
        let name = self.name;
        let mut argv = match v.as_str() {
            Some(s) => shell_words::split(s).map_err(|e| {
                self.loc
                    .at(v.span(), format!("`{k}` in lease `{name}`: {e}"))
            })?,
            None => self.strings(k, v)?,
        };
        if argv.is_empty() || argv[0].is_empty() {
            return Err(self.loc.at(
                v.span(),
                format!("`{k}` in lease `{name}` names no program"),
            ));
        }
        if let Some(resolved) = super::program_from(base_dir, argv[0].as_ref()) {
            argv[0] = resolved.to_string_lossy().into_owned();
        }
        Ok(Some(argv))
    }

    /// A string, or (for IDs) a whole number: TOML users write both.
    fn text(&self, k: &str) -> Result<Option<String>, ManifestError> {
        match self.table.get(k).map(Item::as_value) {
            None => Ok(None),
            Some(Some(Value::String(s))) if !s.value().trim().is_empty() => {
                Ok(Some(s.value().trim().to_string()))
            }
            Some(Some(Value::Integer(i))) if *i.value() > 0 => Ok(Some(i.value().to_string())),
            Some(_) => Err(self.wrong(k, "must be a non-empty string")),
        }
    }

    fn list(&self, k: &str) -> Result<Vec<&Value>, ManifestError> {
        match self.table.get(k) {
            None => Ok(Vec::new()),
            Some(v) => match v.as_array() {
                Some(a) if !a.is_empty() => Ok(a.iter().collect()),
                _ => Err(self.wrong(k, "must be a non-empty list")),
            },
        }
    }

    fn repositories(&self) -> Result<Vec<String>, ManifestError> {
        self.list("repositories")?
            .into_iter()
            .map(|v| match v.as_str() {
                // `owner/name` is not what the API takes: the installation's account is implied.
                Some(r) if !r.is_empty() && !r.contains('/') => Ok(r.to_string()),
                _ => Err(self.wrong(
                    "repositories",
                    "lists repository names without their owner, e.g. [\"app\"]",
                )),
            })
            .collect()
    }

    fn repository_ids(&self) -> Result<Vec<u64>, ManifestError> {
        self.list("repository_ids")?
            .into_iter()
            .map(|v| match v {
                Value::Integer(i) if *i.value() > 0 => Ok(*i.value() as u64),
                _ => Err(self.wrong("repository_ids", "lists repository IDs, e.g. [1296269]")),
            })
            .collect()
    }

    fn permissions(&self) -> Result<BTreeMap<String, String>, ManifestError> {
        let mut permissions = BTreeMap::new();
        let Some(p) = self.table.get("permissions") else {
            return Ok(permissions);
        };
        let shape = "is a table like { contents = \"read\", pull_requests = \"write\" }";
        let p = p
            .as_table_like()
            .ok_or_else(|| self.wrong("permissions", shape))?;
        for (k, v) in p.iter() {
            match v.as_str() {
                Some(level @ ("read" | "write" | "admin")) => {
                    permissions.insert(k.to_string(), level.to_string());
                }
                _ => {
                    return Err(self.wrong(
                        "permissions",
                        &format!("{shape}: `{k}` is \"read\", \"write\" or \"admin\""),
                    ))
                }
            }
        }
        if permissions.is_empty() {
            return Err(self.wrong("permissions", shape));
        }
        Ok(permissions)
    }
}

/// A variable is set by one thing: a secret, or one lease. Two setting it would make the last
/// printed win, silently.
pub(super) fn check_variables(
    loc: &Locator,
    entries: &[super::Entry],
    leases: &[LeaseSpec],
) -> Result<(), ManifestError> {
    let mut seen: BTreeMap<String, String> = entries
        .iter()
        .map(|e| (e.name.clone(), format!("the secret `{}`", e.name)))
        .collect();
    for lease in leases {
        for var in lease.exports().unwrap_or_default().into_keys() {
            if let Some(other) = seen.get(&var) {
                return Err(loc.at(
                    None,
                    format!("lease `{}` exports {var}, which {other} sets too: rename one (`exports = {{ OTHER_NAME = \"field\" }}`)", lease.name),
                ));
            }
            seen.insert(var, format!("lease `{}`", lease.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn leases(text: &str) -> Result<Vec<LeaseSpec>, String> {
        parse(Path::new("/p/manifest.toml"), text)
            .map(|m| m.leases)
            .map_err(|e| e.message())
    }

    #[test]
    fn the_issues_three_forms_parse() {
        let l = leases(
            r#"[secrets]
[secrets.leases.aws-dev]
kind = "aws-sts"
role_arn = "arn:aws:iam::123456789012:role/dev"
duration = "1h"
master = { access_key_id = "keyring:aws-master-id", secret_access_key = "keyring:aws-master-secret" }

[secrets.leases.vault-dev]
kind = "vault"
token = { policies = ["default"], ttl = "15m" }
revoke = "on-exit"

[secrets.leases.db]
kind = "vault"
path = "database/creds/readonly"
exports = { DB_USERNAME = "username", DB_PASSWORD = "password" }
"#,
        )
        .unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].name, "aws-dev");
        assert_eq!(l[0].duration, Some(Duration::from_secs(3600)));
        assert_eq!(l[0].master.len(), 2);
        assert_eq!(l[0].revoke, RevokeWhen::OnExpiry);
        assert_eq!(
            l[0].exports().unwrap().keys().cloned().collect::<Vec<_>>(),
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN"
            ]
        );
        assert_eq!(l[1].revoke, RevokeWhen::OnExit);
        assert_eq!(
            l[1].kind,
            LeaseKind::Vault {
                path: None,
                policies: vec!["default".into()],
                ttl: Some(Duration::from_secs(900))
            }
        );
        assert_eq!(l[1].exports().unwrap()["VAULT_TOKEN"], "token");
        assert_eq!(l[2].exports().unwrap()["DB_PASSWORD"], "password");
        assert!(l.iter().all(|l| l.required));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("kind = \"aws\"", "lease kind `aws` is not one"),
            ("role_arn = \"x\"", "needs a `kind`"),
            (
                "kind = \"vault\"\nrole_arn = \"x\"",
                "`role_arn` is not a setting of vault leases",
            ),
            (
                "kind = \"vault\"\nrevoke = \"never\"",
                "\"on-exit\" or \"on-expiry\"",
            ),
            ("kind = \"azure\"", "needs `resource`"),
            ("kind = \"command\"", "needs `command`"),
            (
                "kind = \"gcp\"\nmaster = { token = \"env:T\" }",
                "take no master credential",
            ),
            (
                "kind = \"aws-sts\"\nmaster = { access_key_id = \"env:A\" }",
                "needs both",
            ),
            (
                "kind = \"vault\"\nexports = { PATH = \"token\" }",
                "not a variable a lease may set",
            ),
            ("kind = \"vault\"\nbogus = 1", "unknown key `bogus`"),
            (
                "kind = \"vault\"\npath = \"a\"\ntoken = { ttl = \"1m\" }",
                "keep one",
            ),
        ];
        for (body, needle) in cases {
            let e = leases(&format!("[secrets]\n[secrets.leases.x]\n{body}\n")).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn a_variable_is_set_by_one_secret_or_one_lease() {
        let e =
            leases("[secrets]\nVAULT_TOKEN = \"env:X\"\n[secrets.leases.v]\nkind = \"vault\"\n")
                .unwrap_err();
        assert!(
            e.contains("lease `v` exports VAULT_TOKEN, which the secret `VAULT_TOKEN` sets too"),
            "{e}"
        );
        let e = leases(
            "[secrets]\n[secrets.leases.a]\nkind = \"gcp\"\n[secrets.leases.b]\nkind = \"gcp\"\n",
        )
        .unwrap_err();
        assert!(
            e.contains("lease `b` exports CLOUDSDK_AUTH_ACCESS_TOKEN, which lease `a` sets too"),
            "{e}"
        );
    }

    #[test]
    fn leases_live_in_flox_manifests_and_profiles_too() {
        let flox = "version = 1\n[install]\n[plugins.jit-secrets]\nA = \"env:A\"\n[plugins.jit-secrets.leases.db]\nkind = \"vault\"\npath = \"database/creds/ro\"\n[plugins.jit-secrets.profiles.prod.leases.db]\nkind = \"vault\"\npath = \"database/creds/prod\"\n[plugins.jit-secrets.profiles.prod.leases.extra]\nkind = \"azure\"\nresource = \"r\"\n";
        let m = parse(Path::new("/p/.flox/env/manifest.toml"), flox).unwrap();
        assert_eq!(m.leases.len(), 1);
        let prod = m.with_profile("prod").unwrap();
        assert_eq!(prod.leases.len(), 2);
        assert!(
            matches!(&prod.leases[0].kind, LeaseKind::Vault { path: Some(p), .. } if p == "database/creds/prod")
        );
        assert_eq!(prod.leases[1].name, "extra");
        assert_eq!(
            prod.entries.len(),
            1,
            "`leases` is not a secret of the profile"
        );
    }

    #[test]
    fn the_github_app_form_parses_with_its_defaults() {
        let l = leases(
            r#"[secrets]
[secrets.leases.gh]
kind = "github-app"
app_id = "12345"
installation_id = "42"
repositories = ["app"]
permissions = { contents = "read", pull_requests = "write" }
master = { private_key = "keyring:gh-app-key" }
revoke = "on-exit"

[secrets.leases.ghes]
kind = "github-app"
app_id = "Iv1.abc"
owner = "my-org"
repository_ids = [7]
master = { private_key = "env:K" }
api_url = "https://ghe.example.com/api/v3/"
exports = { GH_ENTERPRISE_TOKEN = "token" }
"#,
        )
        .unwrap();
        let LeaseKind::GithubApp(app) = &l[0].kind else {
            panic!("{:?}", l[0].kind)
        };
        assert_eq!(app.app_id, "12345");
        assert_eq!(app.installation, Installation::Id(42));
        assert_eq!(app.repositories, ["app"]);
        assert_eq!(app.permissions["pull_requests"], "write");
        assert_eq!(app.api_url, GITHUB_API);
        assert!(l[0].kind.revocable());
        assert_eq!(
            l[0].exports().unwrap().into_iter().collect::<Vec<_>>(),
            [
                ("GH_TOKEN".to_string(), "token".to_string()),
                ("GITHUB_TOKEN".to_string(), "token".to_string())
            ]
        );
        let LeaseKind::GithubApp(ghes) = &l[1].kind else {
            panic!()
        };
        assert_eq!(ghes.installation, Installation::Owner("my-org".into()));
        assert_eq!(ghes.repository_ids, [7]);
        assert_eq!(ghes.api_url, "https://ghe.example.com/api/v3");
    }

    #[test]
    fn github_app_mistakes_are_named() {
        let base = "kind = \"github-app\"\nmaster = { private_key = \"env:K\" }\napp_id = \"1\"\n";
        let cases = [
            ("installation_id = \"42\"\nowner = \"o\"", "keep one"),
            ("", "needs `installation_id`, or `owner`"),
            ("owner = \"a/b\"", "login of an organization or user"),
            ("installation_id = \"x\"", "must be a number"),
            (
                "installation_id = 1\nrepositories = [\"me/app\"]",
                "without their owner",
            ),
            (
                "installation_id = 1\npermissions = { contents = \"all\" }",
                "\"read\", \"write\" or \"admin\"",
            ),
            (
                "installation_id = 1\napi_url = \"http://github.example.com\"",
                "in clear",
            ),
            (
                "installation_id = 1\napi_url = \"ftp://x\"",
                "not an https:// URL",
            ),
            ("installation_id = 1\nduration = \"15m\"", "live one hour"),
        ];
        for (body, needle) in cases {
            let e = leases(&format!("[secrets]\n[secrets.leases.x]\n{base}{body}\n")).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
        let e = leases("[secrets]\n[secrets.leases.x]\nkind = \"github-app\"\napp_id = \"1\"\ninstallation_id = 1\n").unwrap_err();
        assert!(e.contains("needs the App's private key"), "{e}");
        let e = leases("[secrets]\n[secrets.leases.x]\nkind = \"github-app\"\napp_id = \"1\"\ninstallation_id = 1\nmaster = { private_key = \"env:K\", token = \"env:T\" }\n").unwrap_err();
        assert!(e.contains("github-app leases take private_key"), "{e}");
        let e = leases("[secrets]\n[secrets.leases.x]\nkind = \"vault\"\napp_id = \"1\"\n")
            .unwrap_err();
        assert!(
            e.contains("`app_id` is not a setting of vault leases"),
            "{e}"
        );
    }

    #[test]
    fn http_api_urls_are_for_this_machine_only() {
        for ok in [
            "https://api.github.com",
            "http://127.0.0.1:8080/api/v3",
            "http://127.8.9.1",
            "http://localhost:1/x",
            "http://[::1]:99",
        ] {
            assert_eq!(github_api_url_problem(ok), None, "{ok}");
        }
        for bad in [
            "http://github.example.com",
            "http://10.0.0.1/api/v3",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://[::2]",
            "https://",
            "github.com",
        ] {
            assert!(github_api_url_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn command_programs_run_from_the_manifests_directory() {
        let l = leases("[secrets]\n[secrets.leases.c]\nkind = \"command\"\ncommand = \"./mint --x 'a b'\"\nrevoke_command = [\"./revoke\"]\n").unwrap();
        assert_eq!(
            l[0].kind,
            LeaseKind::Command {
                command: vec!["/p/mint".into(), "--x".into(), "a b".into()],
                revoke_command: Some(vec!["/p/revoke".into()]),
            }
        );
        assert!(l[0].kind.revocable());
        assert!(l[0].revoke_env.is_empty());
    }

    #[test]
    fn revoke_env_names_variables_of_command_leases_only() {
        let l = leases("[secrets]\n[secrets.leases.c]\nkind = \"command\"\ncommand = \"x\"\nrevoke_env = [\"API_URL\", \"API_ADMIN_TOKEN\"]\n").unwrap();
        assert_eq!(l[0].revoke_env, ["API_URL", "API_ADMIN_TOKEN"]);
        let e = leases("[secrets]\n[secrets.leases.c]\nkind = \"vault\"\nrevoke_env = [\"A\"]\n")
            .unwrap_err();
        assert!(
            e.contains("`revoke_env` is not a setting of vault leases"),
            "{e}"
        );
        let e = leases("[secrets]\n[secrets.leases.c]\nkind = \"command\"\ncommand = \"x\"\nrevoke_env = [\"LD_PRELOAD\"]\n").unwrap_err();
        assert!(e.contains("not a variable the keeper may pass on"), "{e}");
    }
}
