//! References: where a secret lives, parsed from the manifest's strings. Pure: no I/O here.

use std::fmt;
use std::path::PathBuf;

/// Which store answers a reference. One variant per file in `src/stores/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    Op,
    Vault,
    AwsSm,
    AwsSsm,
    Doppler,
    Pass,
    SecretTool,
    Keyring,
    File,
    Env,
    Cmd,
    Sops,
    Age,
    Bitwarden,
    Bws,
    Gcp,
    AzureKv,
    Plugin,
    OciVault,
    Keepassxc,
}

impl StoreKind {
    /// Every store, in the order `SCHEMES` lists them.
    pub const ALL: [StoreKind; 20] = [
        StoreKind::Op,
        StoreKind::Vault,
        StoreKind::AwsSm,
        StoreKind::AwsSsm,
        StoreKind::Doppler,
        StoreKind::Pass,
        StoreKind::SecretTool,
        StoreKind::Keyring,
        StoreKind::File,
        StoreKind::Age,
        StoreKind::Sops,
        StoreKind::Env,
        StoreKind::Cmd,
        StoreKind::Bitwarden,
        StoreKind::Bws,
        StoreKind::Gcp,
        StoreKind::AzureKv,
        StoreKind::Plugin,
        StoreKind::OciVault,
        StoreKind::Keepassxc,
    ];

    /// How a reference to this store begins.
    pub fn scheme(self) -> &'static str {
        match self {
            StoreKind::Op => "op://",
            StoreKind::Vault => "vault:",
            StoreKind::AwsSm => "aws-sm:",
            StoreKind::AwsSsm => "aws-ssm:",
            StoreKind::Doppler => "doppler:",
            StoreKind::Pass => "pass:",
            StoreKind::SecretTool => "secret-tool:",
            StoreKind::Keyring => "keyring:",
            StoreKind::File => "file:",
            StoreKind::Env => "env:",
            StoreKind::Cmd => "cmd:",
            StoreKind::Sops => "sops:",
            StoreKind::Age => "age:",
            StoreKind::Bitwarden => "bitwarden:",
            StoreKind::Bws => "bws:",
            StoreKind::Gcp => "gcp:",
            StoreKind::AzureKv => "azure-kv:",
            StoreKind::Plugin => "plugin:",
            StoreKind::OciVault => "oci-vault:",
            StoreKind::Keepassxc => "keepassxc:",
        }
    }

    /// Answered from this machine without a network or a store CLI (`env:`, `file:`, `age:`):
    /// never worth caching.
    pub fn is_local(self) -> bool {
        matches!(self, StoreKind::Env | StoreKind::File | StoreKind::Age)
    }

    /// The name users see in `list`, errors and `[secrets.options] commands` keys.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Op => "1password",
            StoreKind::Vault => "vault",
            StoreKind::AwsSm => "aws-secretsmanager",
            StoreKind::AwsSsm => "aws-ssm",
            StoreKind::Doppler => "doppler",
            StoreKind::Pass => "pass",
            StoreKind::SecretTool => "secret-tool",
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
            StoreKind::Env => "env",
            StoreKind::Cmd => "cmd",
            StoreKind::Sops => "sops",
            StoreKind::Age => "age",
            StoreKind::Bitwarden => "bitwarden",
            StoreKind::Bws => "bitwarden-secrets-manager",
            StoreKind::Gcp => "gcp-secret-manager",
            StoreKind::AzureKv => "azure-key-vault",
            StoreKind::Plugin => "plugin",
            StoreKind::OciVault => "oci-vault",
            StoreKind::Keepassxc => "keepassxc",
        }
    }
}

/// A parsed reference. `Display` gives back the canonical text (what the manifest said).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// `op://VAULT/ITEM[/SECTION]/FIELD`, kept whole: `op` parses it.
    Op { uri: String },
    /// `vault:PATH#FIELD`
    Vault { path: String, field: String },
    /// `aws-sm:SECRET_ID[#JSON_KEY]`
    AwsSm {
        secret_id: String,
        json_key: Option<String>,
    },
    /// `aws-ssm:NAME`
    AwsSsm { name: String },
    /// `doppler:NAME[?project=P&config=C]`
    Doppler {
        name: String,
        project: Option<String>,
        config: Option<String>,
    },
    /// `pass:PATH[#all]`
    Pass { path: String, whole_entry: bool },
    /// `secret-tool:ATTR=VAL&ATTR2=VAL2`
    SecretTool { attributes: Vec<(String, String)> },
    /// `keyring:SERVICE[?account=NAME]`
    Keyring {
        service: String,
        account: Option<String>,
    },
    /// `file:PATH` (absolute, `~/…`, or relative to the manifest's directory)
    File { path: PathBuf },
    /// `env:VAR`
    Env { var: String },
    /// `age:PATH` — an age-encrypted file, decrypted in-process.
    Age { file: PathBuf },
    /// `sops:FILE#a.b.c` — a value inside a sops-encrypted file (numeric segments index arrays).
    Sops {
        file: PathBuf,
        key_path: Vec<String>,
    },
    /// `cmd:PROGRAM ARGS…`, split like a shell would but run without one.
    Cmd { argv: Vec<String>, text: String },
    /// `bitwarden:ITEM[#FIELD]` — ITEM an item's exact name or its id; FIELD `password` when
    /// not given.
    Bitwarden { item: String, field: Option<String> },
    /// `bws:SECRET_ID` — a Bitwarden Secrets Manager secret, by its UUID.
    Bws { id: String },
    /// `gcp:projects/PROJECT/secrets/NAME[/versions/VERSION]`, or `gcp:NAME` (the project from
    /// `gcloud config`, the latest version).
    Gcp {
        project: Option<String>,
        name: String,
        version: Option<String>,
    },
    /// `azure-kv:VAULT/NAME[?version=V]`
    AzureKv {
        vault: String,
        name: String,
        version: Option<String>,
    },
    /// `plugin:NAME/KEY` — an executable `jit-secrets-plugin-NAME` (or envref's
    /// `envref-backend-NAME`) speaking JSON on stdin/stdout.
    Plugin { name: String, key: String },
    /// `oci-vault:SECRET_OCID[?stage=CURRENT|PREVIOUS|LATEST | ?version=N]`
    OciVault {
        ocid: String,
        stage: Option<String>,
        version: Option<u64>,
    },
    /// `keepassxc:PATH#ENTRY[?attribute=NAME]` — an entry of a KeePass database (groups in ENTRY
    /// separated by `/`); attribute `Password` when not given.
    Keepassxc {
        file: PathBuf,
        entry: String,
        attribute: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReferenceError {
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, ReferenceError> {
    Err(ReferenceError {
        message: message.into(),
    })
}

pub const SCHEMES: &str =
    "op://, vault:, aws-sm:, aws-ssm:, doppler:, pass:, secret-tool:, keyring:, file:, age:, sops:, env:, cmd:, bitwarden:, bws:, gcp:, azure-kv:, plugin:, oci-vault:, keepassxc:";

/// `text` with its scheme corrected, when it starts one edit (a typo, a missing or extra
/// character) away from a known scheme: `op:/Vault/item/field` → `op://Vault/item/field`.
fn did_you_mean(text: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for scheme in SCHEMES.split(", ") {
        for len in scheme.len().saturating_sub(1)..=scheme.len() + 1 {
            let Some(prefix) = text.get(..len) else {
                continue;
            };
            let distance = edit_distance(prefix, scheme);
            if distance <= 1 && best.as_ref().is_none_or(|(d, _)| distance < *d) {
                best = Some((distance, format!("{scheme}{}", &text[len..])));
            }
        }
    }
    best.map(|(_, fixed)| fixed)
}

/// Edit distance with a swap of two neighbours counted as one edit (optimal string alignment),
/// for `did_you_mean`: `vualt` is one typo from `vault`. Short strings only.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Environment variable names we accept as secret names and `env:` targets.
pub fn is_valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `key=value&key=value` with the allowed keys; every key at most once.
fn parse_query(
    query: &str,
    allowed: &[&str],
    scheme: &str,
) -> Result<Vec<(String, String)>, ReferenceError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in query.split('&') {
        let Some((k, v)) = pair.split_once('=') else {
            return err(format!(
                "{scheme}: expected `key=value` in the query, got `{pair}`"
            ));
        };
        if !allowed.contains(&k) {
            return err(format!(
                "{scheme}: unknown query key `{k}` (allowed: {})",
                allowed.join(", ")
            ));
        }
        if v.is_empty() {
            return err(format!("{scheme}: `{k}` is empty"));
        }
        if out.iter().any(|(seen, _)| seen == k) {
            return err(format!("{scheme}: `{k}` given twice"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn take(query: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let i = query.iter().position(|(k, _)| k == key)?;
    Some(query.remove(i).1)
}

fn non_empty<'a>(part: &'a str, what: &str, example: &str) -> Result<&'a str, ReferenceError> {
    if part.trim().is_empty() {
        err(format!("{what} is empty (example: `{example}`)"))
    } else {
        Ok(part)
    }
}

/// `THING[#PART]` split at its first `#`: a `#` promises a part after it, so an empty one
/// (`vault:secret/app#`) is a mistake, not "no part".
fn after_hash<'a>(
    rest: &'a str,
    what: &str,
    example: &str,
) -> Result<(&'a str, Option<&'a str>), ReferenceError> {
    match rest.split_once('#') {
        Some((thing, part)) => Ok((thing, Some(non_empty(part, what, example)?))),
        None => Ok((rest, None)),
    }
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A name a cloud store accepts on its CLI: letters, digits, `-` and `_`, not starting with `-`
/// (so it can never be read as an option).
fn is_cloud_name(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `op://VAULT/ITEM[/SECTION]/FIELD`: only the shape is checked here, the URI is kept whole for
/// `op` to read.
fn parse_op(text: &str, rest: &str) -> Result<Reference, ReferenceError> {
    let parts: Vec<&str> = rest.split('/').collect();
    if !(3..=4).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return err(
            "op:// needs VAULT/ITEM/FIELD or VAULT/ITEM/SECTION/FIELD (example: `op://Engineering/db/password`)",
        );
    }
    Ok(Reference::Op {
        uri: text.to_string(),
    })
}

fn parse_vault(rest: &str) -> Result<Reference, ReferenceError> {
    let (path, field) = after_hash(rest, "vault: field after `#`", "vault:secret/app#password")?;
    let field = field.unwrap_or("value");
    let path = non_empty(path, "vault: path", "vault:secret/app#password")?;
    // `set` hands the CLI `FIELD=-`: a `=` in the name would split it (writing
    // another field and dropping the value), `@` reads a file and `-` is a flag.
    if field.contains('=') || field.starts_with(['@', '-']) || field.contains(char::is_whitespace) {
        return err(format!(
            "vault: field `{field}` cannot be written by the vault CLI (no `=`, spaces, or a leading `@` or `-`); rename the field"
        ));
    }
    if path.starts_with('-') {
        return err("vault: a path starting with `-` would be read as a flag");
    }
    Ok(Reference::Vault {
        path: path.to_string(),
        field: field.to_string(),
    })
}

fn parse_aws_sm(rest: &str) -> Result<Reference, ReferenceError> {
    let (id, key) = after_hash(rest, "aws-sm: JSON key after `#`", "aws-sm:prod/api#key")?;
    let id = non_empty(id, "aws-sm: secret id", "aws-sm:prod/api#key")?;
    Ok(Reference::AwsSm {
        secret_id: id.to_string(),
        json_key: key.map(str::to_string),
    })
}

fn parse_aws_ssm(rest: &str) -> Result<Reference, ReferenceError> {
    let name = non_empty(rest, "aws-ssm: parameter name", "aws-ssm:/prod/db/password")?;
    Ok(Reference::AwsSsm {
        name: name.to_string(),
    })
}

fn parse_doppler(rest: &str) -> Result<Reference, ReferenceError> {
    let (name, query) = match rest.split_once('?') {
        Some((n, q)) => (n, parse_query(q, &["project", "config"], "doppler:")?),
        None => (rest, Vec::new()),
    };
    let name = non_empty(
        name,
        "doppler: secret name",
        "doppler:API_KEY?project=web&config=dev",
    )?;
    let mut query = query;
    Ok(Reference::Doppler {
        name: name.to_string(),
        project: take(&mut query, "project"),
        config: take(&mut query, "config"),
    })
}

fn parse_pass(rest: &str) -> Result<Reference, ReferenceError> {
    let (path, whole_entry) = match rest.split_once('#') {
        Some((p, "all")) => (p, true),
        Some((_, other)) => {
            return err(format!(
                "pass: unknown fragment `#{other}`; only `#all` (the whole entry) is known"
            ))
        }
        None => (rest, false),
    };
    let path = non_empty(path, "pass: entry path", "pass:email/smtp")?;
    Ok(Reference::Pass {
        path: path.to_string(),
        whole_entry,
    })
}

fn parse_secret_tool(rest: &str) -> Result<Reference, ReferenceError> {
    let mut attributes = Vec::new();
    for pair in rest.split('&') {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                attributes.push((k.to_string(), v.to_string()))
            }
            _ => {
                return err(format!(
                    "secret-tool: expected ATTR=VALUE pairs joined by `&`, got `{pair}` (example: `secret-tool:service=github&account=me`)"
                ))
            }
        }
    }
    Ok(Reference::SecretTool { attributes })
}

fn parse_keyring(rest: &str) -> Result<Reference, ReferenceError> {
    let (service, query) = match rest.split_once('?') {
        Some((s, q)) => (s, parse_query(q, &["account"], "keyring:")?),
        None => (rest, Vec::new()),
    };
    let service = non_empty(service, "keyring: service", "keyring:github-token")?;
    let mut query = query;
    Ok(Reference::Keyring {
        service: service.to_string(),
        account: take(&mut query, "account"),
    })
}

fn parse_file(rest: &str) -> Result<Reference, ReferenceError> {
    let path = non_empty(rest, "file: path", "file:/run/agenix/db")?;
    Ok(Reference::File {
        path: PathBuf::from(path),
    })
}

fn parse_age(rest: &str) -> Result<Reference, ReferenceError> {
    let file = non_empty(rest, "age: path", "age:secrets/db.age")?;
    Ok(Reference::Age {
        file: PathBuf::from(file),
    })
}

fn parse_sops(rest: &str) -> Result<Reference, ReferenceError> {
    let Some((file, path)) = rest.rsplit_once('#') else {
        return err("sops: needs FILE#key.path (example: `sops:secrets/prod.yaml#db.password`)");
    };
    let file = non_empty(file, "sops: file", "sops:secrets/prod.yaml#db.password")?;
    let key_path: Vec<String> = path.split('.').map(str::to_string).collect();
    if key_path.iter().any(|k| k.is_empty()) {
        return err(format!(
            "sops: `{path}` has an empty key (example: `db.password`)"
        ));
    }
    Ok(Reference::Sops {
        file: PathBuf::from(file),
        key_path,
    })
}

fn parse_env(rest: &str) -> Result<Reference, ReferenceError> {
    if !is_valid_env_name(rest) {
        return err(format!(
            "env: `{rest}` is not a valid environment variable name"
        ));
    }
    Ok(Reference::Env {
        var: rest.to_string(),
    })
}

fn parse_cmd(rest: &str) -> Result<Reference, ReferenceError> {
    let argv = shell_words::split(rest).map_err(|e| ReferenceError {
        message: format!("cmd: cannot split `{rest}`: {e}"),
    })?;
    if argv.is_empty() {
        return err("cmd: no program given (example: `cmd:gopass show -o app/db`)");
    }
    // Trim what shell-words splits on, no more: the text shown must mean the same argv.
    let text = rest.trim_matches([' ', '\t', '\n']).to_string();
    Ok(Reference::Cmd { argv, text })
}

fn parse_bitwarden(rest: &str) -> Result<Reference, ReferenceError> {
    let (item, field) = after_hash(
        rest,
        "bitwarden: field after `#`",
        "bitwarden:github#username",
    )?;
    let item = non_empty(item, "bitwarden: item", "bitwarden:github#password")?;
    Ok(Reference::Bitwarden {
        item: item.to_string(),
        field: field.map(str::to_string),
    })
}

fn parse_bws(rest: &str) -> Result<Reference, ReferenceError> {
    if !is_uuid(rest) {
        return err(format!(
            "bws: `{rest}` is not a secret id; bws names secrets by UUID (example: `bws:be8e0ad8-d545-4017-a55a-b02f014d4158`, from `bws secret list`)"
        ));
    }
    Ok(Reference::Bws {
        id: rest.to_ascii_lowercase(),
    })
}

fn parse_plugin(rest: &str) -> Result<Reference, ReferenceError> {
    const EXAMPLE: &str = "(example: `plugin:redis/api-key` runs jit-secrets-plugin-redis)";
    let Some((name, key)) = rest.split_once('/') else {
        return err(format!("plugin: expected NAME/KEY, got `{rest}` {EXAMPLE}"));
    };
    if !is_cloud_name(name) {
        return err(format!(
            "plugin: the name `{name}` may hold only letters, digits, `-` and `_` {EXAMPLE}"
        ));
    }
    let key = non_empty(key, "plugin: key", "plugin:redis/api-key")?;
    Ok(Reference::Plugin {
        name: name.to_string(),
        key: key.to_string(),
    })
}

fn parse_gcp(rest: &str) -> Result<Reference, ReferenceError> {
    const EXAMPLE: &str =
        "(examples: `gcp:db-password`, `gcp:projects/my-project/secrets/db-password/versions/3`)";
    let parts: Vec<&str> = rest.split('/').collect();
    let (project, name, version) = match parts.as_slice() {
        [name] => (None, *name, None),
        ["projects", project, "secrets", name] => (Some(*project), *name, None),
        ["projects", project, "secrets", name, "versions", version] => {
            (Some(*project), *name, Some(*version))
        }
        _ => {
            return err(format!(
                "gcp: expected NAME or projects/PROJECT/secrets/NAME[/versions/VERSION], got `{rest}` {EXAMPLE}"
            ))
        }
    };
    for (what, part) in [
        ("project", project),
        ("secret name", Some(name)),
        ("version", version),
    ] {
        if let Some(part) = part {
            if !is_cloud_name(part) {
                return err(format!(
                    "gcp: the {what} `{part}` may hold only letters, digits, `-` and `_` {EXAMPLE}"
                ));
            }
        }
    }
    Ok(Reference::Gcp {
        project: project.map(str::to_string),
        name: name.to_string(),
        version: version.map(str::to_string),
    })
}

fn parse_oci_vault(rest: &str) -> Result<Reference, ReferenceError> {
    const EXAMPLE: &str =
        "(example: `oci-vault:ocid1.vaultsecret.oc1.iad.amaaaaaa…?stage=PREVIOUS`)";
    let (ocid, query) = match rest.split_once('?') {
        Some((o, q)) => (o, parse_query(q, &["stage", "version"], "oci-vault:")?),
        None => (rest, Vec::new()),
    };
    if !ocid.starts_with("ocid1.")
        || !ocid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return err(format!(
            "oci-vault: `{ocid}` is not a secret OCID (they begin `ocid1.vaultsecret.`) {EXAMPLE}"
        ));
    }
    let mut query = query;
    let stage = take(&mut query, "stage");
    let version = take(&mut query, "version");
    if stage.is_some() && version.is_some() {
        return err(format!(
            "oci-vault: give `stage` or `version`, not both {EXAMPLE}"
        ));
    }
    if let Some(s) = &stage {
        if !["CURRENT", "PREVIOUS", "LATEST"].contains(&s.as_str()) {
            return err(format!(
                "oci-vault: `stage` must be CURRENT, PREVIOUS or LATEST, got `{s}`"
            ));
        }
    }
    let version = match version {
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return err(format!(
                    "oci-vault: `version` must be a version number, got `{v}`"
                ))
            }
        },
        None => None,
    };
    Ok(Reference::OciVault {
        ocid: ocid.to_string(),
        stage,
        version,
    })
}

fn parse_keepassxc(rest: &str) -> Result<Reference, ReferenceError> {
    const EXAMPLE: &str = "keepassxc:secrets.kdbx#Servers/db?attribute=UserName";
    let Some((file, entry)) = rest.split_once('#') else {
        return err(format!(
            "keepassxc: needs PATH#ENTRY (example: `{EXAMPLE}`)"
        ));
    };
    let (entry, query) = match entry.rsplit_once('?') {
        Some((e, q)) => (e, parse_query(q, &["attribute"], "keepassxc:")?),
        None => (entry, Vec::new()),
    };
    let file = non_empty(file, "keepassxc: database path", EXAMPLE)?;
    let entry = non_empty(entry.trim_start_matches('/'), "keepassxc: entry", EXAMPLE)?;
    if entry.split('/').any(str::is_empty) {
        return err(format!(
            "keepassxc: `{entry}` has an empty group name (example: `{EXAMPLE}`)"
        ));
    }
    let mut query = query;
    Ok(Reference::Keepassxc {
        file: PathBuf::from(file),
        entry: entry.to_string(),
        attribute: take(&mut query, "attribute"),
    })
}

fn parse_azure_kv(rest: &str) -> Result<Reference, ReferenceError> {
    const EXAMPLE: &str = "(example: `azure-kv:my-vault/db-password?version=0f3c…`)";
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, parse_query(q, &["version"], "azure-kv:")?),
        None => (rest, Vec::new()),
    };
    let Some((vault, name)) = path.split_once('/') else {
        return err(format!(
            "azure-kv: expected VAULT/NAME, got `{path}` {EXAMPLE}"
        ));
    };
    let mut query = query;
    let version = take(&mut query, "version");
    for (what, part) in [
        ("vault", Some(vault)),
        ("secret name", Some(name)),
        ("version", version.as_deref()),
    ] {
        if let Some(part) = part {
            if !is_cloud_name(part) {
                return err(format!(
                    "azure-kv: the {what} `{part}` may hold only letters, digits, `-` and `_` {EXAMPLE}"
                ));
            }
        }
    }
    Ok(Reference::AzureKv {
        vault: vault.to_string(),
        name: name.to_string(),
        version,
    })
}

impl Reference {
    /// See [`StoreKind::is_local`].
    pub fn is_local(&self) -> bool {
        self.store().is_local()
    }

    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let text = text.trim();
        // A control character in a reference is always a mistake (a paste gone wrong), and NUL
        // could never reach a CLI's argv anyway. Tabs may separate `cmd:` arguments.
        if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\t') {
            return err(format!(
                "the reference contains the control character {:?}",
                c
            ));
        }
        // `op://` is the one scheme whose separator is not a lone `:`.
        if let Some(rest) = text.strip_prefix("op://") {
            return parse_op(text, rest);
        }
        let Some((scheme, rest)) = text.split_once(':') else {
            // Not echoed: a reference without a scheme is most often the secret's value itself,
            // pasted where its location belongs.
            return err(format!(
                "the reference has no scheme (if it is the secret's value, it belongs in a store, not here: `jit-secrets set NAME` stores it); use one of {SCHEMES}"
            ));
        };
        match scheme {
            "vault" => parse_vault(rest),
            "aws-sm" => parse_aws_sm(rest),
            "aws-ssm" => parse_aws_ssm(rest),
            "doppler" => parse_doppler(rest),
            "pass" => parse_pass(rest),
            "secret-tool" => parse_secret_tool(rest),
            "keyring" => parse_keyring(rest),
            "file" => parse_file(rest),
            "age" => parse_age(rest),
            "sops" => parse_sops(rest),
            "env" => parse_env(rest),
            "cmd" => parse_cmd(rest),
            "bitwarden" => parse_bitwarden(rest),
            "bws" => parse_bws(rest),
            "gcp" => parse_gcp(rest),
            "plugin" => parse_plugin(rest),
            "oci-vault" => parse_oci_vault(rest),
            "keepassxc" => parse_keepassxc(rest),
            "azure-kv" => parse_azure_kv(rest),
            other => match did_you_mean(text) {
                Some(fixed) => err(format!(
                    "unknown scheme `{other}:`; did you mean `{fixed}`?"
                )),
                None => err(format!("unknown scheme `{other}:`; use one of {SCHEMES}")),
            },
        }
    }

    pub fn store(&self) -> StoreKind {
        match self {
            Reference::Plugin { .. } => StoreKind::Plugin,
            Reference::OciVault { .. } => StoreKind::OciVault,
            Reference::Keepassxc { .. } => StoreKind::Keepassxc,
            Reference::Bitwarden { .. } => StoreKind::Bitwarden,
            Reference::Bws { .. } => StoreKind::Bws,
            Reference::Gcp { .. } => StoreKind::Gcp,
            Reference::AzureKv { .. } => StoreKind::AzureKv,
            Reference::Op { .. } => StoreKind::Op,
            Reference::Vault { .. } => StoreKind::Vault,
            Reference::AwsSm { .. } => StoreKind::AwsSm,
            Reference::AwsSsm { .. } => StoreKind::AwsSsm,
            Reference::Doppler { .. } => StoreKind::Doppler,
            Reference::Pass { .. } => StoreKind::Pass,
            Reference::SecretTool { .. } => StoreKind::SecretTool,
            Reference::Keyring { .. } => StoreKind::Keyring,
            Reference::File { .. } => StoreKind::File,
            Reference::Env { .. } => StoreKind::Env,
            Reference::Cmd { .. } => StoreKind::Cmd,
            Reference::Sops { .. } => StoreKind::Sops,
            Reference::Age { .. } => StoreKind::Age,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Op { uri } => write!(f, "{uri}"),
            Reference::Vault { path, field } => write!(f, "vault:{path}#{field}"),
            Reference::AwsSm {
                secret_id,
                json_key: None,
            } => write!(f, "aws-sm:{secret_id}"),
            Reference::AwsSm {
                secret_id,
                json_key: Some(k),
            } => write!(f, "aws-sm:{secret_id}#{k}"),
            Reference::AwsSsm { name } => write!(f, "aws-ssm:{name}"),
            Reference::Doppler {
                name,
                project,
                config,
            } => {
                write!(f, "doppler:{name}")?;
                let q: Vec<String> = [("project", project), ("config", config)]
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                    .collect();
                if !q.is_empty() {
                    write!(f, "?{}", q.join("&"))?;
                }
                Ok(())
            }
            Reference::Pass { path, whole_entry } => {
                write!(f, "pass:{path}{}", if *whole_entry { "#all" } else { "" })
            }
            Reference::SecretTool { attributes } => {
                let parts: Vec<String> =
                    attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "secret-tool:{}", parts.join("&"))
            }
            Reference::Keyring {
                service,
                account: None,
            } => write!(f, "keyring:{service}"),
            Reference::Keyring {
                service,
                account: Some(a),
            } => write!(f, "keyring:{service}?account={a}"),
            Reference::File { path } => write!(f, "file:{}", path.display()),
            Reference::Env { var } => write!(f, "env:{var}"),
            Reference::Age { file } => write!(f, "age:{}", file.display()),
            Reference::Sops { file, key_path } => {
                write!(f, "sops:{}#{}", file.display(), key_path.join("."))
            }
            Reference::Cmd { text, .. } => write!(f, "cmd:{text}"),
            Reference::Bitwarden { item, field } => {
                write!(f, "bitwarden:{item}")?;
                match field {
                    Some(field) => write!(f, "#{field}"),
                    None => Ok(()),
                }
            }
            Reference::Bws { id } => write!(f, "bws:{id}"),
            Reference::Plugin { name, key } => write!(f, "plugin:{name}/{key}"),
            Reference::OciVault {
                ocid,
                stage,
                version,
            } => {
                write!(f, "oci-vault:{ocid}")?;
                match (stage, version) {
                    (Some(s), _) => write!(f, "?stage={s}"),
                    (_, Some(v)) => write!(f, "?version={v}"),
                    _ => Ok(()),
                }
            }
            Reference::Keepassxc {
                file,
                entry,
                attribute,
            } => {
                write!(f, "keepassxc:{}#{entry}", file.display())?;
                match attribute {
                    Some(a) => write!(f, "?attribute={a}"),
                    None => Ok(()),
                }
            }
            Reference::Gcp {
                project: None,
                name,
                ..
            } => write!(f, "gcp:{name}"),
            Reference::Gcp {
                project: Some(project),
                name,
                version,
            } => {
                write!(f, "gcp:projects/{project}/secrets/{name}")?;
                match version {
                    Some(v) => write!(f, "/versions/{v}"),
                    None => Ok(()),
                }
            }
            Reference::AzureKv {
                vault,
                name,
                version,
            } => {
                write!(f, "azure-kv:{vault}/{name}")?;
                match version {
                    Some(v) => write!(f, "?version={v}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The executables that may answer for `plugin:NAME`, in the order they are looked for on `PATH`:
/// ours, then envref's. (The plugin store runs them; trust hashes the one `PATH` finds inside
/// the manifest's repository.)
pub fn plugin_program_names(name: &str) -> [String; 2] {
    [
        format!("jit-secrets-plugin-{name}"),
        format!("envref-backend-{name}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_every_scheme_and_round_trips_its_text() {
        for text in [
            "op://Engineering/db/url",
            "op://Engineering/db/section/url",
            "vault:secret/app#db",
            "aws-sm:prod/api#key",
            "aws-sm:prod/api",
            "aws-ssm:/prod/db/password",
            "doppler:API_KEY?project=web&config=dev",
            "doppler:API_KEY",
            "pass:email/smtp",
            "pass:email/smtp#all",
            "secret-tool:service=github&account=me",
            "keyring:github-token",
            "keyring:github-token?account=alice",
            "file:/run/agenix/db",
            "sops:secrets/prod.yaml#db.password",
            "age:secrets/db.age",
            "sops:a#b#c",
            "env:CI_API_KEY",
            "cmd:printf '%s' hello",
            "bitwarden:GitHub token",
            "bitwarden:github#username",
            "bitwarden:99ee88d2-6046-4ea7-92c2-acac464b1412#API key",
            "bws:be8e0ad8-d545-4017-a55a-b02f014d4158",
            "gcp:db-password",
            "gcp:projects/my-project/secrets/db_password",
            "gcp:projects/my-project/secrets/db/versions/3",
            "gcp:projects/p/secrets/db/versions/latest",
            "azure-kv:my-vault/db-password",
            "azure-kv:my-vault/db-password?version=0f3c9a",
            "plugin:redis/api-key",
            "plugin:my_store/path/to/key",
            "oci-vault:ocid1.vaultsecret.oc1.iad.amaaaaaa",
            "oci-vault:ocid1.vaultsecret.oc1.iad.amaaaaaa?stage=PREVIOUS",
            "oci-vault:ocid1.vaultsecret.oc1.iad.amaaaaaa?version=3",
            "keepassxc:secrets.kdbx#db",
            "keepassxc:secrets.kdbx#Servers/Prod db?attribute=UserName",
        ] {
            assert_eq!(ok(text).to_string(), text);
        }
    }

    #[test]
    fn vault_field_defaults_to_value() {
        assert_eq!(
            ok("vault:secret/app"),
            Reference::Vault {
                path: "secret/app".into(),
                field: "value".into()
            }
        );
    }

    #[test]
    fn cmd_is_split_like_a_shell_without_one() {
        assert_eq!(
            ok("cmd:printf '%s' 'a b'"),
            Reference::Cmd {
                argv: vec!["printf".into(), "%s".into(), "a b".into()],
                text: "printf '%s' 'a b'".into()
            }
        );
    }

    #[test]
    fn rejects_malformed_references_with_a_reason() {
        for (text, needle) in [
            ("op://only/two", "VAULT/ITEM/FIELD"),
            ("op://a//c", "VAULT/ITEM/FIELD"),
            ("nope", "no scheme"),
            ("s3:bucket", "unknown scheme"),
            (
                "vault:secret/app#api=x",
                "cannot be written by the vault CLI",
            ),
            (
                "vault:secret/app#@file",
                "cannot be written by the vault CLI",
            ),
            ("vault:secret/app#-x", "cannot be written by the vault CLI"),
            ("vault:-secret/app#x", "read as a flag"),
            ("op:/Vault/i/f", "did you mean `op://Vault/i/f`?"),
            ("vualt:secret/app#x", "did you mean `vault:secret/app#x`?"),
            ("aws_sm:prod/api", "did you mean `aws-sm:prod/api`?"),
            ("keyrng:github", "did you mean `keyring:github`?"),
            ("vault:", "path is empty"),
            ("vault:secret/app#", "field"),
            ("pass:x#first", "#all"),
            ("doppler:X?proj=a", "unknown query key"),
            ("doppler:X?project=a&project=b", "twice"),
            ("keyring:", "service is empty"),
            ("env:1BAD", "not a valid"),
            ("cmd:", "no program"),
            ("cmd:echo 'unterminated", "cannot split"),
            ("secret-tool:service", "ATTR=VALUE"),
            ("cmd:\r\0x", "control character"),
            ("sops:file.yaml", "FILE#key.path"),
            ("sops:f#a..b", "empty key"),
            ("env:A\u{7f}", "control character"),
            ("bitwarden:", "item is empty"),
            ("bitwarden:x#", "field"),
            ("bws:my-secret", "UUID"),
            ("gcp:", "letters, digits"),
            ("gcp:projects/p/secrets", "projects/PROJECT/secrets/NAME"),
            ("gcp:projects/p/secrets/--help", "letters, digits"),
            ("gcp:a/b", "expected NAME"),
            ("azure-kv:vault", "VAULT/NAME"),
            ("azure-kv:v/n?ver=1", "unknown query key"),
            ("azure-kv:v/-n", "letters, digits"),
            ("azure-kv:v/a/b", "letters, digits"),
            ("plugin:redis", "NAME/KEY"),
            ("plugin:-x/k", "letters, digits"),
            ("plugin:redis/", "key is empty"),
            ("oci-vault:mysecret", "not a secret OCID"),
            ("oci-vault:ocid1.x?stage=OLD", "CURRENT, PREVIOUS or LATEST"),
            ("oci-vault:ocid1.x?version=0", "version number"),
            ("oci-vault:ocid1.x?stage=CURRENT&version=2", "not both"),
            ("keepassxc:db.kdbx", "PATH#ENTRY"),
            ("keepassxc:db.kdbx#", "entry is empty"),
            ("keepassxc:db.kdbx#a//b", "empty group"),
            ("keepassxc:db.kdbx#a?attr=x", "unknown query key"),
        ] {
            let e = Reference::parse(text).expect_err(text);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }

    #[test]
    fn schemes_lists_every_store_once() {
        let listed: Vec<&str> = SCHEMES.split(", ").collect();
        let ours: Vec<&str> = StoreKind::ALL.iter().map(|k| k.scheme()).collect();
        assert_eq!(listed, ours);
    }

    #[test]
    fn env_names() {
        assert!(is_valid_env_name("A"));
        assert!(is_valid_env_name("_a1"));
        assert!(!is_valid_env_name("1a"));
        assert!(!is_valid_env_name("A-B"));
        assert!(!is_valid_env_name(""));
        assert!(!is_valid_env_name("É"));
    }
}
