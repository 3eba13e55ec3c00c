//! The manifest: where it is found, which table holds the secrets, and each entry's settings.
//!
//! Parsed with `toml_edit`'s span-keeping document so every error points at a line and column.
//! No I/O beyond reading the manifest file itself.

use crate::printable::{self, escaped_lines};
use crate::reference::{is_valid_env_name, Reference};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml_edit::{Item, Value};

mod leases;
pub use leases::{
    github_api_url_problem, GithubApp, Installation, LeaseKind, LeaseSpec, RevokeWhen, GITHUB_API,
};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Store calls mostly wait on a network or on another process, so they are cheap to overlap: 64
/// lets 50 independent `cmd:` programs start at once (16 ran them in four waves). CPU-heavy CLIs
/// are batched (one `aws` call for 20 ids), and prompting stores gate themselves
/// (`Store::may_prompt`), so a wide default is safe.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// Keys inside the secrets table that are settings, not secrets.
const RESERVED_KEYS: &[&str] = &["options", "profiles", "leases"];
const ENTRY_KEYS: &[&str] = &[
    "from",
    "required",
    "timeout",
    "trim",
    "description",
    "rotate_after",
    "allow_dangerous_name",
    "cache",
    "cache_env",
    "only",
];

/// A manifest is a few lines of references; anything this large is a wrong file.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// Variables that change how the shell or every program it starts behaves: a secret named like
/// this could hijack the session, so it takes an explicit `allow_dangerous_name = true`.
const DANGEROUS_NAMES: &[&str] = &[
    // shells
    "PATH",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "IFS",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "INPUTRC",
    "CDPATH",
    "HOME",
    "SHELL",
    "ZDOTDIR",
    "FPATH",
    "MANPATH",
    "MODULE_PATH",
    "HISTFILE",
    "XDG_CONFIG_HOME",
    "XDG_DATA_DIRS",
    // the C library and the dynamic loader (LD_*, DYLD_* below)
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "MALLOC_CHECK_",
    // interpreters that load code named by a variable
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "PYTHONINSPECT",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    // git, ssh and the programs others start for you
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_ASKPASS",
    "GIT_EDITOR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "SSH_ASKPASS",
    "SSH_AUTH_SOCK",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "TMPDIR",
];

/// Why `name` cannot name a secret, if it cannot: names match `^[A-Z_][A-Z0-9_]*$`. Shells keep
/// their own settings in lower case (fish's `fish_function_path` loads functions from wherever it
/// points; zsh's `path`, `fpath` and `cdpath` are arrays tied to their upper-case twins, and a
/// scalar export of one aborts zsh's evaluation of our output), and variables meant for programs
/// are upper case: so a lower-case name is refused with the upper-case one to use instead.
pub fn name_problem(name: &str) -> Option<String> {
    if !is_valid_env_name(name) {
        return Some(format!(
            "`{}` is not a valid name: names are upper-case letters, digits and `_`, not starting with a digit",
            crate::printable::escaped(name)
        ));
    }
    if name.bytes().any(|b| b.is_ascii_lowercase()) {
        return Some(format!(
            "`{name}`: names are upper-case: use {}",
            name.to_ascii_uppercase()
        ));
    }
    None
}

/// Prefixes of families of such variables.
const DANGEROUS_PREFIXES: &[&str] = &["LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG"];

/// A command name `only` may hold: what a shell looks up on `PATH` (no `/`), not an option
/// (no leading `-`), and not `.`/`..`; it becomes a file name in the scope directory.
pub fn is_command_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && !name.starts_with('-')
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c.is_control() || c == '\0')
        && !name.starts_with("jit-secrets")
}

/// Is `name` (upper case: see [`name_problem`]) one a secret may set only with
/// `allow_dangerous_name = true`: a variable that changes how the shell or the programs it starts
/// behave?
pub fn is_dangerous_name(name: &str) -> bool {
    DANGEROUS_NAMES.contains(&name) || DANGEROUS_PREFIXES.iter().any(|p| name.starts_with(p))
}
const OPTION_KEYS: &[&str] = &[
    "timeout",
    "concurrency",
    "commands",
    "rotate_after",
    "identity",
    "cache",
    "keyring_scope",
    "keepassxc",
];

/// Which table of which kind of file the secrets came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// `[secrets]` in a plain manifest.toml.
    Secrets,
    /// `[plugins.jit-secrets]` in a Flox manifest.
    FloxPlugin,
}

impl Home {
    pub fn table_name(self) -> &'static str {
        match self {
            Home::Secrets => "[secrets]",
            Home::FloxPlugin => "[plugins.jit-secrets]",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// The fallback chain: the first reference that finds a value wins.
    pub from: Vec<Reference>,
    pub required: bool,
    pub timeout: Option<Duration>,
    pub trim: bool,
    pub description: Option<String>,
    pub rotate_after: Option<Duration>,
    /// `cache = "15m"` / `cache = false`; unset takes `[secrets.options] cache`.
    pub cache: CacheSetting,
    /// `cache_env = ["STAGE"]`: the variables a `cmd:`/`plugin:` answer depends on, for the
    /// cache key (unset: every variable but the per-shell ones).
    pub cache_env: Option<Vec<String>>,
    /// `only = ["gh", "git"]`: the commands this value is for. Empty: the shell's, as usual.
    /// A scoped value is never exported by `activate`; the named commands receive it when they
    /// start (see `src/scoped.rs`).
    pub only: Vec<String>,
}

impl Entry {
    /// Is this value for every program in the shell (not scoped to some commands)?
    pub fn is_unscoped(&self) -> bool {
        self.only.is_empty()
    }

    /// Is this value for the command named `program` (a scoped entry naming it)?
    pub fn is_for_command(&self, program: &str) -> bool {
        self.only.iter().any(|c| c == program)
    }
}

/// An entry's `cache` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheSetting {
    #[default]
    Default,
    Off,
    For(Duration),
}

/// The longest a value may stay in the cache.
pub const MAX_CACHE: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct Options {
    pub timeout: Duration,
    pub concurrency: usize,
    /// Store or program name → path of the CLI to use instead of the one on `$PATH`.
    pub commands: BTreeMap<String, PathBuf>,
    pub rotate_after: Option<Duration>,
    /// The age identity file for `age:` (relative to the manifest's directory).
    pub identity: Option<PathBuf>,
    /// The default `cache` for entries that do not say (none: off).
    pub cache: Option<Duration>,
    /// `keyring_scope = "project"`: `keyring:` items belong to this manifest's directory.
    pub keyring_per_project: bool,
    /// `keepassxc = { password_from = "REF" }`: where KeePassXC databases' password comes from.
    pub keepassxc_password_from: Option<Reference>,
    /// `keepassxc = { keyfile = "PATH" }` (relative to the manifest's directory).
    pub keepassxc_keyfile: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            commands: BTreeMap::new(),
            rotate_after: None,
            cache: None,
            keyring_per_project: false,
            identity: None,
            keepassxc_password_from: None,
            keepassxc_keyfile: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub home: Home,
    pub entries: Vec<Entry>,
    pub options: Options,
    /// `[secrets.profiles.NAME]`: entries that override (by name) or add to the base table.
    pub profiles: BTreeMap<String, Vec<Entry>>,
    /// `[secrets.leases.NAME]`: short-lived credentials created at activation.
    pub leases: Vec<LeaseSpec>,
    /// `[secrets.profiles.NAME.leases.L]`: leases that override (by name) or add to the base's.
    pub profile_leases: BTreeMap<String, Vec<LeaseSpec>>,
    /// The profile applied to `entries`, if any.
    pub profile: Option<String>,
}

impl Manifest {
    /// How long `entry`'s remote values may be cached (`None`: not cached).
    pub fn cache_ttl(&self, entry: &Entry) -> Option<Duration> {
        match entry.cache {
            CacheSetting::Off => None,
            CacheSetting::For(ttl) => Some(ttl),
            CacheSetting::Default => self.options.cache,
        }
    }

    /// The effective table for `profile`: its entries replace base entries of the same name in
    /// place, and the rest are added after them. An unknown profile names the known ones.
    pub fn with_profile(mut self, profile: &str) -> Result<Manifest, ManifestError> {
        let Some(overrides) = self.profiles.get(profile).cloned() else {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            return Err(ManifestError::Whole {
                path: self.path.clone(),
                message: if known.is_empty() {
                    format!("has no profile `{profile}` (it defines none: add [secrets.profiles.{profile}])")
                } else {
                    format!("has no profile `{profile}` (known: {})", known.join(", "))
                },
            });
        };
        for entry in overrides {
            match self.entries.iter_mut().find(|e| e.name == entry.name) {
                Some(base) => *base = entry,
                None => self.entries.push(entry),
            }
        }
        for lease in self
            .profile_leases
            .get(profile)
            .cloned()
            .unwrap_or_default()
        {
            match self.leases.iter_mut().find(|l| l.name == lease.name) {
                Some(base) => *base = lease,
                None => self.leases.push(lease),
            }
        }
        self.profile = Some(profile.to_string());
        Ok(self)
    }
}

/// A problem with the manifest or with finding one: exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    NotFound {
        tried: Vec<PathBuf>,
    },
    /// `--manifest PATH` or `$JIT_SECRETS_MANIFEST` names nothing that exists.
    Missing {
        path: PathBuf,
        named_by: &'static str,
    },
    Unreadable {
        path: PathBuf,
        reason: String,
    },
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    Whole {
        path: PathBuf,
        message: String,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::NotFound { tried } => {
                writeln!(f, "no manifest found; looked at:")?;
                for p in tried {
                    writeln!(f, "  {}", crate::printable::path(p))?;
                }
                write!(
                    f,
                    "fix: run `jit-secrets init` to create manifest.toml here (or pass --manifest PATH to use another)"
                )
            }
            ManifestError::Missing { path, named_by } => write!(
                f,
                "{}: no such file or directory (named by {named_by})\nfix: correct the path, or run `jit-secrets init` to create a manifest",
                crate::printable::path(path)
            ),
            ManifestError::Unreadable { path, reason } => {
                write!(f, "{}: cannot read: {reason}", crate::printable::path(path))
            }
            ManifestError::At {
                path,
                line,
                column,
                message,
            } => {
                let (path, message) = (crate::printable::path(path), escaped_lines(message));
                write!(f, "{path}:{line}:{column}: {message}")
            }
            ManifestError::Whole { path, message } => {
                let (path, message) = (crate::printable::path(path), escaped_lines(message));
                write!(f, "{path}: {message}")
            }
        }
    }
}

impl ManifestError {
    /// What is wrong, without the path and position.
    pub fn message(&self) -> String {
        match self {
            ManifestError::At { message, .. } | ManifestError::Whole { message, .. } => {
                escaped_lines(message)
            }
            other => other.to_string(),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Finds the manifest: `--manifest`, `$JIT_SECRETS_MANIFEST`, `$FLOX_ENV_PROJECT`'s Flox manifest,
/// then walking up from `cwd` looking for `.flox/env/manifest.toml` or `manifest.toml`.
pub fn discover(
    explicit: Option<&Path>,
    getenv: impl Fn(&str) -> Option<OsString>,
    cwd: &Path,
) -> Result<PathBuf, ManifestError> {
    if let Some(p) = explicit {
        return existing(p.to_path_buf(), "--manifest");
    }
    if let Some(p) = getenv("JIT_SECRETS_MANIFEST").filter(|v| !v.is_empty()) {
        return existing(PathBuf::from(p), "$JIT_SECRETS_MANIFEST");
    }
    let mut tried = Vec::new();
    if let Some(project) = getenv("FLOX_ENV_PROJECT").filter(|v| !v.is_empty()) {
        let p = Path::new(&project).join(".flox/env/manifest.toml");
        if p.is_file() {
            return Ok(p);
        }
        tried.push(p);
    }
    // Upwards, but never past the repository's root (a directory holding `.git`) or $HOME: a
    // manifest above them belongs to somebody else's project, or to no project.
    let home = getenv("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| std::fs::canonicalize(&h).unwrap_or_else(|_| PathBuf::from(h)));
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    for dir in cwd.ancestors() {
        for candidate in [
            dir.join(".flox/env/manifest.toml"),
            dir.join("manifest.toml"),
        ] {
            if candidate.is_file() && named_exactly(&candidate) {
                return Ok(candidate);
            }
            tried.push(candidate);
        }
        if dir.join(".git").exists() || home.as_deref() == Some(dir) {
            break;
        }
    }
    Err(ManifestError::NotFound { tried })
}

/// On a case-insensitive volume (macOS) `manifest.toml` also opens Julia's `Manifest.toml`:
/// only a directory entry spelled exactly so is ours.
fn named_exactly(path: &Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.file_name() == name))
        .unwrap_or(false)
}

/// A path the user named: the manifest itself, or a directory holding `manifest.toml` (or a
/// Flox environment's `.flox/env/manifest.toml`).
fn existing(p: PathBuf, named_by: &'static str) -> Result<PathBuf, ManifestError> {
    if p.is_file() {
        return Ok(p);
    }
    if p.is_dir() {
        let candidates = [p.join("manifest.toml"), p.join(".flox/env/manifest.toml")];
        if let Some(found) = candidates.iter().find(|c| c.is_file()) {
            return Ok(found.clone());
        }
        return Err(ManifestError::NotFound {
            tried: candidates.to_vec(),
        });
    }
    Err(ManifestError::Missing { path: p, named_by })
}

pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    parse(path, &read_text(path)?)
}

/// The manifest's text, refusing anything larger than a manifest could be.
pub fn read_text(path: &Path) -> Result<String, ManifestError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::Whole {
                path: path.to_path_buf(),
                message: format!("is {} bytes, over the {MAX_MANIFEST_BYTES}-byte limit for a manifest; is this the right file?", meta.len()),
            });
        }
    }
    std::fs::read_to_string(path).map_err(|e| ManifestError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Turns byte offsets into 1-based line and column (in characters).
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn at(
        &self,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
    ) -> ManifestError {
        let Some(span) = span else {
            return ManifestError::Whole {
                path: self.path.to_path_buf(),
                message: message.into(),
            };
        };
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ManifestError::At {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

fn is_flox_manifest(path: &Path, root: &toml_edit::Table) -> bool {
    path.ends_with(".flox/env/manifest.toml")
        || (root.contains_key("version")
            && (root.contains_key("install") || root.contains_key("hook")))
}

/// The manifest's TOML, or the first place it is not TOML.
fn parse_toml(loc: &Locator, text: &str) -> Result<toml_edit::Document<String>, ManifestError> {
    toml_edit::Document::parse(text.to_string()).map_err(|e| {
        let message = e.message().trim();
        // toml_edit says "duplicate key" and points at it: name it, as a person would.
        let named = match (message, e.span().and_then(|span| text.get(span))) {
            ("duplicate key", Some(key)) => {
                format!(
                    "duplicate key `{}`: each name may appear once",
                    printable::escaped(key.trim())
                )
            }
            _ => message.to_string(),
        };
        loc.at(e.span(), named)
    })
}

/// Which table holds the entries, with its key and item: `[secrets]`, or
/// `[plugins.jit-secrets]` in a Flox manifest (Flox rejects unknown top-level tables).
fn find_home<'d>(
    loc: &Locator,
    path: &Path,
    root: &'d toml_edit::Table,
) -> Result<(Home, (&'d toml_edit::Key, &'d Item)), ManifestError> {
    let flox = is_flox_manifest(path, root);
    let plugin = root
        .get("plugins")
        .and_then(Item::as_table_like)
        .and_then(|p| p.get_key_value("jit-secrets"));
    let secrets = root.get_key_value("secrets");

    let (home, (key, item)) = match (flox, secrets, plugin) {
        (true, Some((k, _)), _) => {
            return Err(loc.at(
                k.span(),
                "a Flox manifest cannot have a top-level [secrets] table (Flox rejects unknown tables, so `flox activate` would fail); fix: rename it to [plugins.jit-secrets]",
            ))
        }
        (false, Some((k, _)), Some(_)) => {
            return Err(loc.at(k.span(), "both [secrets] and [plugins.jit-secrets] are present; keep one"))
        }
        (_, Some(found), None) => (Home::Secrets, found),
        (_, None, Some(found)) => (Home::FloxPlugin, found),
        (_, None, None) => {
            let fix = if flox { "[plugins.jit-secrets]" } else { "[secrets]" };
            return Err(ManifestError::Whole {
                path: path.to_path_buf(),
                message: format!("has no {fix} table; fix: add one (e.g. `jit-secrets init`), or pass --manifest with the right file"),
            });
        }
    };
    Ok((home, (key, item)))
}

pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let loc = Locator { path, text };
    let doc = parse_toml(&loc, text)?;
    let (home, (key, item)) = find_home(&loc, path, doc.as_table())?;
    let Some(table) = item.as_table_like() else {
        return Err(loc.at(key.span(), format!("{} must be a table", home.table_name())));
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));

    let mut options = Options::default();
    let mut entries = Vec::new();
    let mut profiles = BTreeMap::new();
    let mut lease_specs = Vec::new();
    let mut profile_leases = BTreeMap::new();
    for (name, item) in table.iter() {
        let (key, _) = table.get_key_value(name).expect("iterated key exists");
        if name == "options" {
            options = parse_options(&loc, item, key)?;
            resolve_option_paths(&mut options, base_dir);
            continue;
        }
        if name == "profiles" {
            (profiles, profile_leases) = parse_profiles(&loc, item, key, base_dir)?;
            continue;
        }
        if name == "leases" {
            lease_specs = leases::parse_leases(&loc, item, key, base_dir)?;
            continue;
        }
        if home == Home::FloxPlugin && name == "schema-version" {
            continue;
        }
        if RESERVED_KEYS.contains(&name) {
            continue;
        }
        if let Some(problem) = name_problem(name) {
            return Err(loc.at(key.span(), problem));
        }
        entries.push(parse_entry(&loc, name, key, item, base_dir)?);
    }
    leases::check_variables(&loc, &entries, &lease_specs)?;
    Ok(Manifest {
        path: path.to_path_buf(),
        home,
        entries,
        options,
        profiles,
        leases: lease_specs,
        profile_leases,
        profile: None,
    })
}

/// The paths `[secrets.options]` names are from the manifest's directory when relative, as
/// references' paths are, so a repository can ship them.
fn resolve_option_paths(options: &mut Options, base_dir: &Path) {
    for path in [&mut options.identity, &mut options.keepassxc_keyfile]
        .into_iter()
        .flatten()
    {
        if path.is_relative() && !path.starts_with("~") {
            *path = base_dir.join(&*path);
        }
    }
    // `commands = { aws = "./bin/aws" }`: from the manifest's directory, like `cmd:`.
    for program in options.commands.values_mut() {
        if let Some(resolved) = program_from(base_dir, program.as_os_str()) {
            *program = resolved;
        }
    }
}

/// A profile's entries, by profile name.
type ProfileEntries = BTreeMap<String, Vec<Entry>>;
/// A profile's `leases` table, by profile name.
type ProfileLeases = BTreeMap<String, Vec<LeaseSpec>>;

/// `[secrets.profiles.NAME]`: each profile's entries, and its `leases` table apart.
fn parse_profiles(
    loc: &Locator,
    item: &Item,
    key: &toml_edit::Key,
    base_dir: &Path,
) -> Result<(ProfileEntries, ProfileLeases), ManifestError> {
    let Some(list) = item.as_table_like() else {
        return Err(loc.at(
            key.span(),
            "`profiles` must be a table of tables, e.g. [secrets.profiles.prod]",
        ));
    };
    let mut profiles = BTreeMap::new();
    let mut profile_leases = BTreeMap::new();
    for (profile, body) in list.iter() {
        let (pkey, _) = list.get_key_value(profile).expect("iterated key exists");
        let Some(body) = body.as_table_like() else {
            return Err(loc.at(
                pkey.span(),
                format!("profile `{profile}` must be a table of entries"),
            ));
        };
        let mut overrides = Vec::new();
        for (ename, eitem) in body.iter() {
            let (ekey, _) = body.get_key_value(ename).expect("iterated key exists");
            if ename == "leases" {
                profile_leases.insert(
                    profile.to_string(),
                    leases::parse_leases(loc, eitem, ekey, base_dir)?,
                );
                continue;
            }
            if let Some(problem) = name_problem(ename) {
                return Err(loc.at(ekey.span(), problem));
            }
            overrides.push(parse_entry(loc, ename, ekey, eitem, base_dir)?);
        }
        profiles.insert(profile.to_string(), overrides);
    }
    Ok((profiles, profile_leases))
}

fn span_of(item: &Item) -> Option<std::ops::Range<usize>> {
    item.span()
}

fn parse_reference(
    loc: &Locator,
    value: &Value,
    base_dir: &Path,
) -> Result<Reference, ManifestError> {
    let Some(text) = value.as_str() else {
        return Err(loc.at(
            value.span(),
            "a reference must be a string like \"pass:email/smtp\"",
        ));
    };
    let mut reference = Reference::parse(text).map_err(|e| loc.at(value.span(), e.message))?;
    // A relative file: path means "next to the manifest", so a repo can ship its own paths.
    if let Reference::File { path }
    | Reference::Sops { file: path, .. }
    | Reference::Age { file: path }
    | Reference::Keepassxc { file: path, .. } = &mut reference
    {
        if path.is_relative() && !path.starts_with("~") {
            *path = base_dir.join(&*path);
        }
    }
    if let Reference::Cmd { argv, .. } = &mut reference {
        if let Some(resolved) = program_from(base_dir, argv[0].as_ref()) {
            argv[0] = resolved.to_string_lossy().into_owned();
        }
    }
    Ok(reference)
}

/// A program named by a relative path (`./x`, `scripts/x`) runs from the manifest's directory,
/// whatever the current directory; a bare name (`sh`) is looked up on `PATH`, an absolute path is
/// itself. `None`: leave it as written.
fn program_from(base_dir: &Path, program: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = Path::new(program);
    let has_slash = program.as_encoded_bytes().contains(&b'/');
    // Collecting the components drops the `.` of `./x`: the path shown is the path that runs.
    (has_slash && path.is_relative() && !path.starts_with("~"))
        .then(|| base_dir.join(path).components().collect())
}

fn parse_entry(
    loc: &Locator,
    name: &str,
    key: &toml_edit::Key,
    item: &Item,
    base_dir: &Path,
) -> Result<Entry, ManifestError> {
    let mut allow_dangerous = false;
    let mut entry = Entry {
        name: name.to_string(),
        from: Vec::new(),
        required: true,
        timeout: None,
        trim: true,
        description: None,
        rotate_after: None,
        cache: CacheSetting::Default,
        cache_env: None,
        only: Vec::new(),
    };
    if let Some(value) = item.as_value().filter(|v| v.is_str()) {
        if is_dangerous_name(name) {
            return Err(dangerous(loc, name, key));
        }
        entry.from.push(parse_reference(loc, value, base_dir)?);
        return Ok(entry);
    }
    let Some(table) = item.as_table_like() else {
        return Err(loc.at(
            span_of(item).or(key.span()),
            format!("`{name}` must be a reference string or a table like {{ from = \"…\" }}"),
        ));
    };
    for (k, v) in table.iter() {
        let (kkey, _) = table.get_key_value(k).expect("iterated key exists");
        read_entry_key(loc, &mut entry, &mut allow_dangerous, k, kkey, v, base_dir)?;
    }
    if is_dangerous_name(name) && !allow_dangerous {
        return Err(dangerous(loc, name, key));
    }
    if entry.from.is_empty() {
        return Err(loc.at(
            key.span(),
            format!(
                "`{name}` has no `from` (example: {name} = {{ from = \"pass:app/{}\" }})",
                name.to_lowercase()
            ),
        ));
    }
    Ok(entry)
}

/// One key of an entry's table (`from`, `required`, `cache`, …) read into `entry`, or into
/// `allow_dangerous` (which is not part of the entry: it only lets the name through).
fn read_entry_key(
    loc: &Locator,
    entry: &mut Entry,
    allow_dangerous: &mut bool,
    k: &str,
    kkey: &toml_edit::Key,
    v: &Item,
    base_dir: &Path,
) -> Result<(), ManifestError> {
    let value = v.as_value();
    let vspan = span_of(v).or(kkey.span());
    match (k, value) {
        ("from", Some(Value::String(_))) => {
            entry
                .from
                .push(parse_reference(loc, value.unwrap(), base_dir)?)
        }
        ("from", Some(Value::Array(list))) => {
            for r in list.iter() {
                entry.from.push(parse_reference(loc, r, base_dir)?);
            }
            if list.is_empty() {
                let name = &entry.name;
                return Err(loc.at(vspan, format!("`{name}.from` is an empty list")));
            }
        }
        ("from", _) => return Err(loc.at(vspan, "`from` must be a string or a list of strings")),
        ("required", Some(Value::Boolean(b))) => entry.required = *b.value(),
        ("trim", Some(Value::Boolean(b))) => entry.trim = *b.value(),
        ("required" | "trim", _) => {
            return Err(loc.at(vspan, format!("`{k}` must be true or false")))
        }
        ("timeout", Some(v)) => entry.timeout = Some(parse_duration_value(loc, v)?),
        ("rotate_after", Some(v)) => entry.rotate_after = Some(parse_duration_value(loc, v)?),
        ("allow_dangerous_name", Some(Value::Boolean(b))) => *allow_dangerous = *b.value(),
        ("allow_dangerous_name", _) => {
            return Err(loc.at(vspan, "`allow_dangerous_name` must be true or false"))
        }
        ("cache_env", Some(Value::Array(list))) => {
            entry.cache_env = Some(parse_cache_env(loc, list, vspan)?)
        }
        ("cache_env", _) => return Err(loc.at(vspan, CACHE_ENV_SHAPE)),
        ("only", Some(Value::Array(list))) => {
            entry.only = parse_only(loc, &entry.name, list, vspan)?
        }
        ("only", _) => {
            return Err(loc.at(
                vspan,
                "`only` lists the commands the value is for, like [\"gh\", \"git\"]",
            ))
        }
        ("cache", Some(v)) => entry.cache = parse_entry_cache(loc, entry, v, vspan)?,
        ("description", Some(Value::String(s))) => entry.description = Some(s.value().clone()),
        ("description", _) => return Err(loc.at(vspan, "`description` must be a string")),
        _ => {
            return Err(loc.at(
                kkey.span(),
                format!(
                    "unknown key `{k}` in `{}` (known: {})",
                    entry.name,
                    ENTRY_KEYS.join(", ")
                ),
            ))
        }
    }
    Ok(())
}

const CACHE_ENV_SHAPE: &str =
    "`cache_env` lists environment variable names, like [\"STAGE\", \"AWS_PROFILE\"]";

/// `cache_env = ["STAGE", …]`: names only, each a valid environment variable name.
fn parse_cache_env(
    loc: &Locator,
    list: &toml_edit::Array,
    vspan: Option<std::ops::Range<usize>>,
) -> Result<Vec<String>, ManifestError> {
    let mut names = Vec::new();
    for item in list.iter() {
        match item.as_str() {
            Some(n) if is_valid_env_name(n) => names.push(n.to_string()),
            _ => return Err(loc.at(item.span().or(vspan), CACHE_ENV_SHAPE)),
        }
    }
    Ok(names)
}

/// `only = ["gh", …]`: commands by the name they are run by (a path could never match one),
/// and at least one: an empty list would hide the value from everything.
fn parse_only(
    loc: &Locator,
    name: &str,
    list: &toml_edit::Array,
    vspan: Option<std::ops::Range<usize>>,
) -> Result<Vec<String>, ManifestError> {
    const ONLY: &str =
        "`only` lists the commands the value is for, by name, like [\"gh\", \"git\"]";
    let mut only = Vec::new();
    for item in list.iter() {
        match item.as_str() {
            Some(c) if is_command_name(c) => only.push(c.to_string()),
            Some(c) if c.contains('/') => return Err(loc.at(
                item.span().or(vspan),
                format!("`only` names commands, not paths: `{c}` has a `/` (write the name the command is run by, like \"gh\")"),
            )),
            _ => return Err(loc.at(item.span().or(vspan), ONLY)),
        }
    }
    if only.is_empty() {
        return Err(loc.at(
            vspan,
            format!("`{name}.only` is an empty list (remove it to export the value to the shell)"),
        ));
    }
    Ok(only)
}

/// An entry's `cache`: `false`, or how long. Refused for an entry whose references are all
/// local (`env:`, `file:`, `age:`): they are read as fast as the cache would answer. Judged on
/// the `from` read before `cache` in the entry's table.
fn parse_entry_cache(
    loc: &Locator,
    entry: &Entry,
    v: &Value,
    vspan: Option<std::ops::Range<usize>>,
) -> Result<CacheSetting, ManifestError> {
    let cache = match v {
        Value::Boolean(b) if !*b.value() => CacheSetting::Off,
        Value::Boolean(_) => {
            return Err(loc.at(vspan, "`cache` takes how long, like \"15m\" (or false)"))
        }
        other => CacheSetting::For(parse_cache_ttl(loc, other)?),
    };
    if matches!(cache, CacheSetting::For(_))
        && !entry.from.is_empty()
        && entry.from.iter().all(|r| r.is_local())
    {
        return Err(loc.at(
            vspan,
            format!("`{}` reads only env:, file: or age: references, which are local and fast: there is nothing to cache (remove `cache`)", entry.name),
        ));
    }
    Ok(cache)
}

fn dangerous(loc: &Locator, name: &str, key: &toml_edit::Key) -> ManifestError {
    loc.at(
        key.span(),
        format!(
            "`{name}` changes how your shell or the programs it runs behave, so a secret may not set it by accident; if you mean it, write {name} = {{ from = \"…\", allow_dangerous_name = true }}"
        ),
    )
}

fn parse_cache_ttl(loc: &Locator, v: &Value) -> Result<Duration, ManifestError> {
    let ttl = parse_duration_value(loc, v)?;
    if ttl > MAX_CACHE || ttl.is_zero() {
        return Err(loc.at(v.span(), "`cache` must be more than 0 and at most 24h"));
    }
    Ok(ttl)
}

fn parse_options(
    loc: &Locator,
    item: &Item,
    key: &toml_edit::Key,
) -> Result<Options, ManifestError> {
    let mut options = Options::default();
    let Some(table) = item.as_table_like() else {
        return Err(loc.at(key.span(), "`options` must be a table"));
    };
    for (k, v) in table.iter() {
        let (kkey, _) = table.get_key_value(k).expect("iterated key exists");
        let vspan = span_of(v).or(kkey.span());
        match (k, v.as_value()) {
            ("timeout", Some(val)) => options.timeout = parse_duration_value(loc, val)?,
            ("rotate_after", Some(val)) => {
                options.rotate_after = Some(parse_duration_value(loc, val)?)
            }
            ("identity", Some(Value::String(p))) => {
                options.identity = Some(PathBuf::from(p.value()))
            }
            ("identity", _) => return Err(loc.at(vspan, "`identity` must be a path string")),
            ("keyring_scope", Some(Value::String(v))) if v.value() == "project" => {
                options.keyring_per_project = true
            }
            ("keyring_scope", Some(Value::String(v))) if v.value() == "global" => {
                options.keyring_per_project = false
            }
            ("keyring_scope", _) => {
                return Err(loc.at(vspan, "`keyring_scope` must be \"project\" or \"global\""))
            }
            ("keepassxc", _) => parse_keepassxc_options(loc, v, vspan, &mut options)?,
            ("cache", Some(Value::Boolean(b))) if !*b.value() => options.cache = None,
            ("cache", Some(val)) => options.cache = Some(parse_cache_ttl(loc, val)?),
            ("concurrency", Some(Value::Integer(n))) if (1..=1024).contains(n.value()) => {
                options.concurrency = *n.value() as usize
            }
            ("concurrency", _) => {
                return Err(loc.at(vspan, "`concurrency` must be a whole number from 1 to 1024"))
            }
            ("commands", _) => {
                let Some(cmds) = v.as_table_like() else {
                    return Err(loc.at(
                        vspan,
                        "`commands` must be a table like { op = \"/path/to/op\" }",
                    ));
                };
                for (tool, p) in cmds.iter() {
                    let Some(s) = p.as_str() else {
                        return Err(loc.at(
                            span_of(p),
                            format!("`commands.{tool}` must be a path string"),
                        ));
                    };
                    options.commands.insert(tool.to_string(), PathBuf::from(s));
                }
            }
            _ => {
                return Err(loc.at(
                    kkey.span(),
                    format!("unknown option `{k}` (known: {})", OPTION_KEYS.join(", ")),
                ))
            }
        }
    }
    Ok(options)
}

/// `keepassxc = { password_from = "REF", keyfile = "PATH" }`.
fn parse_keepassxc_options(
    loc: &Locator,
    v: &Item,
    vspan: Option<std::ops::Range<usize>>,
    options: &mut Options,
) -> Result<(), ManifestError> {
    const SHAPE: &str =
        "`keepassxc` must be a table like { password_from = \"keyring:kdbx-master\", keyfile = \"db.key\" }";
    let Some(table) = v.as_table_like() else {
        return Err(loc.at(vspan, SHAPE));
    };
    for (k, item) in table.iter() {
        let span = span_of(item);
        match (k, item.as_value()) {
            ("password_from", Some(value @ Value::String(text))) => {
                let reference = Reference::parse(text.value()).map_err(|e| {
                    loc.at(
                        value.span(),
                        format!("keepassxc.password_from: {}", e.message),
                    )
                })?;
                if reference.store() == crate::reference::StoreKind::Keepassxc {
                    return Err(loc.at(value.span(), "keepassxc.password_from cannot be a keepassxc: reference (the password opens the database)"));
                }
                options.keepassxc_password_from = Some(reference);
            }
            ("keyfile", Some(Value::String(path))) => {
                options.keepassxc_keyfile = Some(PathBuf::from(path.value()))
            }
            _ => return Err(loc.at(span.or(vspan.clone()), SHAPE)),
        }
    }
    Ok(())
}

fn parse_duration_value(loc: &Locator, value: &Value) -> Result<Duration, ManifestError> {
    match value.as_str() {
        Some(s) => parse_duration(s).map_err(|m| loc.at(value.span(), m)),
        None => Err(loc.at(
            value.span(),
            "a duration must be a string like \"10s\", \"500ms\", \"5m\" or \"90d\"",
        )),
    }
}

/// `500ms`, `10s`, `5m`, `2h`, `90d`, `2w`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || {
        format!(
            "`{text}` is not a duration; use a number and a unit: ms, s, m, h, d, w (e.g. \"10s\")"
        )
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs).ok_or_else(bad);
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => secs(1)?,
        "m" => secs(60)?,
        "h" => secs(3600)?,
        "d" => secs(86_400)?,
        "w" => secs(7 * 86_400)?,
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(format!("`{text}` is zero; give a positive duration"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Manifest, ManifestError> {
        parse(Path::new("/p/manifest.toml"), text)
    }

    fn err_text(text: &str) -> String {
        parse_str(text).expect_err("should fail").to_string()
    }

    #[test]
    fn the_documented_example_parses() {
        let m = parse_str(
            r#"
[secrets]
GITHUB_TOKEN = "keyring:github-token"                 # shorthand
DATABASE_URL = { from = "op://Engineering/db/url" }
SMTP_PASS    = { from = "pass:email/smtp", required = false, timeout = "10s" }
API_KEY      = { from = ["env:CI_API_KEY", "aws-sm:prod/api#key"] }
[secrets.options]
timeout = "30s"
concurrency = 8
commands = { op = "/opt/op" }
"#,
        )
        .unwrap();
        assert_eq!(m.home, Home::Secrets);
        let names: Vec<_> = m.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["GITHUB_TOKEN", "DATABASE_URL", "SMTP_PASS", "API_KEY"]
        );
        assert!(!m.entries[2].required);
        assert_eq!(m.entries[2].timeout, Some(Duration::from_secs(10)));
        assert_eq!(m.entries[3].from.len(), 2);
        assert_eq!(m.options.concurrency, 8);
        assert_eq!(m.options.commands["op"], PathBuf::from("/opt/op"));
    }

    #[test]
    fn sub_tables_and_flox_plugin_home() {
        let m = parse(
            Path::new("/x/.flox/env/manifest.toml"),
            "version = 1\n[install]\n[plugins.jit-secrets]\nschema-version = 1\nA = \"env:B\"\n[plugins.jit-secrets.C]\nfrom = \"env:D\"\n",
        )
        .unwrap();
        assert_eq!(m.home, Home::FloxPlugin);
        assert_eq!(m.entries.len(), 2);
    }

    #[test]
    fn flox_manifest_with_top_level_secrets_names_the_fix() {
        let e = parse(
            Path::new("/x/.flox/env/manifest.toml"),
            "version = 1\n\n[secrets]\nA = \"env:B\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":3:2:"), "{e}");
        assert!(e.contains("[plugins.jit-secrets]"), "{e}");
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = err_text("[secrets]\nOK = \"env:A\"\n  BAD-NAME = \"env:A\"\n");
        assert!(e.contains("manifest.toml:3:3:"), "{e}");
        assert!(e.contains("BAD-NAME"), "{e}");
        let e = err_text("[secrets]\nA = { from = \"env:A\", requird = true }\n");
        assert!(
            e.contains(":2:23:") && e.contains("unknown key `requird`"),
            "{e}"
        );
        let e = err_text("[secrets]\nA = \"s3:bucket\"\n");
        assert!(e.contains(":2:5:") && e.contains("unknown scheme"), "{e}");
        let e = err_text("[secrets]\nA = { from = \"env:A\", timeout = \"10 parsecs\" }\n");
        assert!(e.contains("not a duration"), "{e}");
        let e = err_text("[secrets]\nA = \"env:A\"\nA = \"env:B\"\n");
        assert!(e.contains(":3:"), "duplicate key: {e}");
        let e = err_text("[secrets\n");
        assert!(e.contains(":1:"), "{e}");
        let e = err_text("[secrets.options]\nspeed = 1\n");
        assert!(e.contains("unknown option `speed`"), "{e}");
    }

    #[test]
    fn dangerous_names_need_an_explicit_opt_in() {
        for name in [
            "PATH",
            "LD_PRELOAD",
            "BASH_ENV",
            "PROMPT_COMMAND",
            "DYLD_INSERT_LIBRARIES",
            // bash's exported-function prefix: `BASH_FUNC_x%%` itself is not a valid name at all
            "BASH_FUNC_X",
            "PYTHONHOME",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_KEY_0",
            "GCONV_PATH",
        ] {
            assert!(crate::reference::is_valid_env_name(name), "{name}");
            let e = err_text(&format!("[secrets]\n{name} = \"env:X\"\n"));
            assert!(
                e.contains(":2:1:") && e.contains("allow_dangerous_name = true"),
                "{e}"
            );
            let e = err_text(&format!("[secrets]\n{name} = {{ from = \"env:X\" }}\n"));
            assert!(e.contains("allow_dangerous_name"), "{e}");
            let m = parse_str(&format!(
                "[secrets]\n{name} = {{ from = \"env:X\", allow_dangerous_name = true }}\n"
            ))
            .unwrap();
            assert_eq!(m.entries[0].name, name);
        }
        // Lower case is never a secret's name, opt-in or not: the error names the fix.
        for name in ["api_key", "fish_function_path", "path", "Mixed_Case"] {
            for entry in [
                "\"env:X\"",
                "{ from = \"env:X\", allow_dangerous_name = true }",
            ] {
                let e = err_text(&format!("[secrets]\n{name} = {entry}\n"));
                let upper = name.to_ascii_uppercase();
                assert!(
                    e.contains(":2:1:")
                        && e.contains(&format!("names are upper-case: use {upper}")),
                    "{e}"
                );
            }
        }
        let e = err_text("[secrets.profiles.p]\napi_key = \"env:X\"\n[secrets]\n");
        assert!(e.contains("names are upper-case: use API_KEY"), "{e}");
        assert!(parse_str("[secrets]\nPATHFINDER_TOKEN = \"env:X\"\n").is_ok());
        assert!(parse_str("[secrets]\nGITHUB_TOKEN_2 = \"env:X\"\n").is_ok());
        let e = err_text("[secrets]\nBASH_FUNC_x%% = \"env:X\"\n");
        assert!(
            !e.contains("allow_dangerous_name"),
            "rejected as a name first: {e}"
        );
    }

    #[test]
    fn hostile_manifests_are_errors_not_crashes() {
        // Deep nesting, huge keys, odd unicode, duplicate tables.
        let deep = format!("[secrets]\nA = {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_str(&deep).is_err());
        let deep_tables = format!(
            "[secrets]\nA = {}1{}\n",
            "{ x = ".repeat(3000),
            " }".repeat(3000)
        );
        assert!(parse_str(&deep_tables).is_err());
        assert!(parse_str(&format!("[secrets]\n{} = \"env:X\"\n", "A".repeat(100_000))).is_ok());
        assert!(parse_str("[secrets]\nA = \"env:X\"\n[secrets]\nB = \"env:Y\"\n").is_err());
        assert!(parse_str("[secrets]\n\u{202e}A = \"env:X\"\n").is_err());
    }

    #[test]
    fn oversized_manifests_are_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("manifest.toml");
        std::fs::write(
            &p,
            format!("[secrets]\n# {}\n", "x".repeat(MAX_MANIFEST_BYTES as usize)),
        )
        .unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("limit for a manifest"), "{e}");
    }

    #[test]
    fn profiles_override_in_place_and_add() {
        let m = parse_str(
            "[secrets]\nDB = \"env:DEV_DB\"\nTOKEN = \"env:T\"\n[secrets.profiles.prod]\nDB = \"aws-sm:prod/db\"\nEXTRA = { from = \"env:X\", required = false }\n[secrets.profiles.ci]\nTOKEN = \"env:CI_T\"\n",
        )
        .unwrap();
        assert_eq!(m.entries.len(), 2, "profiles are not entries");
        let prod = m.clone().with_profile("prod").unwrap();
        let names: Vec<_> = prod.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["DB", "TOKEN", "EXTRA"]);
        assert_eq!(prod.entries[0].from[0].to_string(), "aws-sm:prod/db");
        let e = m.with_profile("staging").unwrap_err().to_string();
        assert!(e.contains("no profile `staging` (known: ci, prod)"), "{e}");
        let e = err_text("[secrets]\n[secrets.profiles.bad]\n1X = \"env:A\"\n");
        assert!(e.contains(":3:1:"), "{e}");
    }

    #[test]
    fn no_table_is_a_clear_error() {
        let e = err_text("[other]\nx = 1\n");
        assert!(e.contains("has no [secrets] table"), "{e}");
    }

    #[test]
    fn relative_file_paths_are_next_to_the_manifest() {
        let m = parse_str("[secrets]\nA = \"file:secrets/a.txt\"\n").unwrap();
        assert_eq!(
            m.entries[0].from[0],
            Reference::File {
                path: PathBuf::from("/p/secrets/a.txt")
            }
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(
            parse_duration("90d").unwrap(),
            Duration::from_secs(90 * 86400)
        );
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn discovery_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b/.flox/env")).unwrap();
        std::fs::write(root.join("a/manifest.toml"), "").unwrap();
        let none = |_: &str| None;
        // walking up finds the nearest manifest.toml
        assert_eq!(
            discover(None, none, &root.join("a/b")).unwrap(),
            root.join("a/manifest.toml")
        );
        std::fs::write(root.join("a/b/.flox/env/manifest.toml"), "").unwrap();
        assert_eq!(
            discover(None, none, &root.join("a/b")).unwrap(),
            root.join("a/b/.flox/env/manifest.toml")
        );
        // FLOX_ENV_PROJECT beats walking
        let flox = |k: &str| (k == "FLOX_ENV_PROJECT").then(|| root.join("a/b").into_os_string());
        assert_eq!(
            discover(None, flox, root).unwrap(),
            root.join("a/b/.flox/env/manifest.toml")
        );
        // JIT_SECRETS_MANIFEST beats FLOX_ENV_PROJECT; --manifest beats both
        let both = |k: &str| match k {
            "JIT_SECRETS_MANIFEST" => Some(root.join("a/manifest.toml").into_os_string()),
            "FLOX_ENV_PROJECT" => Some(root.join("a/b").into_os_string()),
            _ => None,
        };
        assert_eq!(
            discover(None, both, root).unwrap(),
            root.join("a/manifest.toml")
        );
        let explicit = root.join("a/b/.flox/env/manifest.toml");
        assert_eq!(discover(Some(&explicit), both, root).unwrap(), explicit);
        // nothing: the error lists what was tried
        let empty = tempfile::tempdir().unwrap();
        let e = discover(None, none, empty.path()).unwrap_err();
        assert!(e
            .to_string()
            .contains(&empty.path().join("manifest.toml").display().to_string()));
    }

    #[test]
    fn discovery_stops_at_the_repository_root_and_at_home() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("outer/repo/.git")).unwrap();
        std::fs::create_dir_all(root.join("outer/repo/src")).unwrap();
        std::fs::write(root.join("outer/manifest.toml"), "").unwrap();
        let none = |_: &str| None;
        // A manifest above the repository's root is somebody else's: not found.
        let e = discover(None, none, &root.join("outer/repo/src")).unwrap_err();
        assert!(!e.to_string().contains("outer/manifest.toml\n"), "{e}");
        assert!(matches!(e, ManifestError::NotFound { .. }));
        // Inside the repository it is found.
        std::fs::write(root.join("outer/repo/manifest.toml"), "").unwrap();
        assert_eq!(
            discover(None, none, &root.join("outer/repo/src")).unwrap(),
            root.join("outer/repo/manifest.toml")
        );
        // $HOME is a boundary too: a manifest above it is not yours.
        std::fs::create_dir_all(root.join("home/me/work")).unwrap();
        std::fs::write(root.join("manifest.toml"), "").unwrap();
        let home = |k: &str| (k == "HOME").then(|| root.join("home/me").into_os_string());
        assert!(discover(None, home, &root.join("home/me/work")).is_err());
        std::fs::write(root.join("home/me/manifest.toml"), "").unwrap();
        assert_eq!(
            discover(None, home, &root.join("home/me/work")).unwrap(),
            root.join("home/me/manifest.toml")
        );
    }

    #[test]
    fn only_the_exact_file_name_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Manifest.toml"), "").unwrap();
        assert!(!named_exactly(&dir.path().join("manifest.toml")));
        assert!(named_exactly(&dir.path().join("Manifest.toml")));
    }
}
