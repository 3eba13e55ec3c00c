//! What a store, a lease or the network helper may consult besides the references: the
//! manifest's CLI overrides and options, the environment, the memory-only cache, and the notes a
//! run says once on stderr. One value per run, built with the run's other needs by
//! `crate::run_context` from the manifest.
//!
//! Its own file, not the stores', because leases and the helper's route choice read it too; it
//! imports none of the rooms that take it (what a store adds to a cache key from it is
//! `crate::stores::cache_context`).

use crate::reference::Reference;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// `[secrets.options] keepassxc = { password_from = "REF", keyfile = "PATH" }`.
#[derive(Debug, Clone, Default)]
pub struct KeepassxcOptions {
    pub password_from: Option<Reference>,
    pub keyfile: Option<PathBuf>,
}

/// What a store may consult besides the references: CLI overrides and the environment.
pub struct Context {
    commands: BTreeMap<String, PathBuf>,
    pub no_prompt: bool,
    /// `identity` from `[secrets.options]`, for `age:`.
    pub age_identity: Option<PathBuf>,
    /// The memory-only cache, when the command uses it.
    pub cache: Option<crate::cache::Cache>,
    /// `keyring_scope = "project"`: the canonical path of the manifest's directory.
    pub keyring_project: Option<String>,
    /// `[secrets.options] keepassxc`: how KeePassXC databases are unlocked.
    pub keepassxc: Option<KeepassxcOptions>,
    /// The manifest's directory (as reached): `cmd:` programs run there, so every relative word
    /// of their command line means what it meant when the manifest was allowed.
    pub manifest_dir: Option<PathBuf>,
    /// The names the manifest exports: never part of a cache key.
    pub outputs: Vec<String>,
    /// Things a store wants said once on stderr that are not failures.
    notes: std::sync::Mutex<Vec<String>>,
}

impl Context {
    pub fn new(commands: BTreeMap<String, PathBuf>, no_prompt: bool) -> Self {
        Context {
            commands,
            no_prompt,
            age_identity: None,
            cache: None,
            keyring_project: None,
            keepassxc: None,
            manifest_dir: None,
            outputs: Vec::new(),
            notes: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Says `note` once on stderr (the resolver hands notes to the command that prints).
    pub fn note(&self, note: String) {
        let mut notes = self.notes.lock().expect("notes lock");
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// May a person be asked on the terminal (/dev/tty) in this run? Not with `--no-prompt`, and
    /// not without a terminal.
    pub fn may_ask_on_terminal(&self) -> bool {
        !self.no_prompt && crate::tty::available()
    }

    /// The notes so far, taken.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().expect("notes lock"))
    }

    pub fn with_cache(mut self, cache: Option<crate::cache::Cache>) -> Self {
        self.cache = cache;
        self
    }

    pub fn with_age_identity(mut self, identity: Option<PathBuf>) -> Self {
        self.age_identity = identity;
        self
    }

    /// Every `[secrets.options] commands` override: program → path.
    pub fn command_overrides(&self) -> impl Iterator<Item = (&String, &PathBuf)> {
        self.commands.iter()
    }

    /// The manifest's `[secrets.options] commands` entry for `program`, if any.
    pub fn command_override(&self, program: &str) -> Option<&std::path::Path> {
        self.commands.get(program).map(PathBuf::as_path)
    }

    /// The CLI to run for `program`: the manifest's `[secrets.options] commands` override, else
    /// the name, looked up on `$PATH` when spawned.
    pub fn command(&self, program: &str) -> PathBuf {
        self.commands
            .get(program)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(program))
    }

    pub fn getenv(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    /// The login name: `$USER`, else the passwd entry of our uid (`$USER` is unset under some
    /// service managers and container shells).
    pub fn user(&self) -> Option<String> {
        if let Some(u) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
            return Some(u);
        }
        login_name()
    }
}

fn login_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into our buffer; we read the name only on success.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}
