//! One file per store, all behind [`Store`]. Stores know nothing of shells, manifests or each
//! other; only the resolver calls them.

use crate::context::Context;
use crate::process;
pub(crate) use crate::process::cli::{cli_failed, parse_json, run_cli};
use crate::reference::{Reference, StoreKind};
pub(crate) use crate::secret::wipe_json;
use crate::secret::SecretValue;
pub use crate::store_error::StoreError;
use std::time::Duration;

mod age;
mod aws_common;
mod aws_sm;
mod aws_ssm;
mod azure_kv;
mod bitwarden;
mod bws;
mod cmd;
mod doppler;
mod env;
mod file;
mod gcp;
mod keepassxc;
pub mod keyring;
mod oci_vault;
mod op;
mod pass;
mod plugin;
pub use plugin::executable_path as plugin_executable;
mod secret_tool;
mod sops;
mod vault;

/// What one reference came to.
#[derive(Debug)]
pub enum Outcome {
    Found(SecretValue),
    /// The store's own "no such secret": the resolver moves on to the next `from` entry.
    NotFound,
    /// Anything else: stops the entry, never silently skipped.
    Failed(StoreError),
}

/// Variables that differ between shells of one user without changing what a program prints:
/// left out of a `cmd:`/`plugin:` cache key (see `docs/cache.md`).
pub const VARIES_PER_SHELL: &[&str] = &[
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "TERM",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "TERM_SESSION_ID",
    "COLORTERM",
    "COLUMNS",
    "LINES",
    "WINDOWID",
    "TMUX",
    "TMUX_PANE",
    "STY",
    "WINDOW",
    "SSH_TTY",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "XDG_SESSION_ID",
    "XDG_VTNR",
    "GPG_TTY",
    "PS1",
    "PS2",
    "PROMPT",
    "RPROMPT",
    "HISTFILE",
    "HISTSIZE",
    "SECONDS",
    "RANDOM",
    "LINENO",
    "VTE_VERSION",
    "KITTY_WINDOW_ID",
    "ALACRITTY_WINDOW_ID",
    "WEZTERM_PANE",
    "ITERM_SESSION_ID",
    "INSIDE_EMACS",
    "DIRENV_DIFF",
    "DIRENV_DIR",
    "DIRENV_FILE",
    "DIRENV_WATCHES",
];

/// What, besides the reference, decides the value a store returns for it: the store's own
/// environment variables and any CLI override. Part of the cache key, so changing any of them
/// misses the cache instead of serving another account's value.
/// `cache_env`: the variables the entry says its `cmd:`/`plugin:` answer depends on.
pub fn cache_context(ctx: &Context, reference: &Reference, cache_env: Option<&[String]>) -> String {
    let kind = reference.store();
    let mut context = String::new();
    // A program's answer may depend on anything it inherits (`cmd:sh -c "printf tok-$STAGE"`):
    // its context is the environment, less what varies per shell and the manifest's own
    // outputs, or just the variables `cache_env` names.
    if matches!(kind, StoreKind::Cmd | StoreKind::Plugin) {
        context.push_str(&program_environment(ctx, cache_env));
    }
    for name in store_for(kind).cache_context() {
        context.push_str(name);
        context.push('=');
        if let Some(v) = ctx.getenv(name) {
            context.push_str(&v.to_string_lossy());
        }
        context.push('\n');
    }
    for (program, path) in ctx.command_overrides() {
        context.push_str(&format!("command {program}={}\n", path.display()));
    }
    // A project-scoped keyring item is another item than the global one of the same name.
    if kind == StoreKind::Keyring {
        if let Some(project) = &ctx.keyring_project {
            context.push_str(&format!("keyring project={project}\n"));
        }
    }
    context
}

/// The environment a `cmd:` or `plugin:` program inherits, as part of the cache key: every
/// variable but the ones that vary per shell or terminal ([`VARIES_PER_SHELL`]) and the
/// manifest's own secrets (outputs, not inputs: with them in the key, a nested shell would
/// never hit), unless `cache_env` lists the ones that matter.
fn program_environment(ctx: &Context, cache_env: Option<&[String]>) -> String {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .filter(|(k, _)| match cache_env {
            Some(listed) => listed.iter().any(|l| l == k),
            None => !VARIES_PER_SHELL.contains(&k.as_str()) && !ctx.outputs.contains(k),
        })
        .collect();
    vars.sort();
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (k, v) in &vars {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("environment={digest}\n")
}

/// A store. Most answer one reference at a time; stores whose CLI can answer many references
/// in one call override [`Store::batch_key`] and [`Store::fetch_batch`].
pub trait Store: Sync {
    /// References with the same key may be fetched in one call.
    fn batch_key(&self, reference: &Reference) -> String {
        reference.to_string()
    }

    /// How many references one call may carry.
    fn max_batch(&self) -> usize {
        1
    }

    /// One call returns a whole document (all fields of a vault path, a sops file, a doppler
    /// config): every reference into it can share that call at no extra cost.
    fn fetches_whole_document(&self) -> bool {
        false
    }

    /// Answers at once from this process (an environment variable, a local file): resolved on
    /// the calling thread, since a pool thread would cost more than the lookup.
    fn is_instant(&self) -> bool {
        false
    }

    /// Environment variables that change what the same reference returns (an account, a region,
    /// a server): part of the cache key.
    fn cache_context(&self) -> &'static [&'static str] {
        &[]
    }

    /// May ask the person something here (gpg's pinentry, a keyring unlock, 1Password's
    /// biometric prompt, a passphrase). Such a store's first call runs alone; once it has
    /// succeeded (the agent is unlocked, the prompt answered) the rest run in parallel like any
    /// store's, and if it fails the rest are not tried: one clear error, not N prompts or N
    /// identical failures. (gpg-agent itself serializes pinentry, so parallel `pass` calls after
    /// the first are safe.) A store that can be kept from asking (`--no-prompt`, no terminal)
    /// says no then, and runs in parallel from the start.
    fn may_prompt(&self, _ctx: &Context) -> bool {
        false
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome;

    /// One outcome per reference, in order.
    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        refs.iter()
            .map(|r| self.fetch_one(r, timeout, ctx))
            .collect()
    }

    /// Can [`Store::write`] store a value here? (What `setup` offers to fill.) A store that says
    /// yes overrides `write`; the default `write` refuses.
    fn can_write(&self) -> bool {
        false
    }

    /// Can this one reference be written? A writable store may still refuse some of its
    /// references (a pinned version, an attribute its CLI takes only on argv): `setup` offers
    /// to fill only what a write would store.
    fn can_write_to(&self, _reference: &Reference) -> bool {
        self.can_write()
    }

    /// Stores `value` where `reference` reads it (creating or replacing). The value travels in
    /// memory or through a child's stdin, never its argv.
    fn write(
        &self,
        reference: &Reference,
        _value: &SecretValue,
        _timeout: Duration,
        _ctx: &Context,
    ) -> Result<(), StoreError> {
        Err(not_writable(reference))
    }

    /// When the value was last changed (Unix seconds), where the store keeps that; `None` when it
    /// does not (then `verify` says "age unknown" rather than guess).
    fn last_changed(
        &self,
        _reference: &Reference,
        _timeout: Duration,
        _ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    /// Where the value a write replaces can still be found afterwards, if the store keeps it
    /// (`rotate` says so before asking); `None`: it is gone for good.
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        None
    }

    /// Can [`Store::remove`] delete what a reference reads (`delete`)?
    fn can_remove(&self) -> bool {
        false
    }

    /// What [`Store::remove`] would delete, named for the person asked to confirm (the items a
    /// keyring lookup matches, with their labels). By default, the reference itself.
    fn removal_preview(
        &self,
        reference: &Reference,
        _timeout: Duration,
        _ctx: &Context,
    ) -> Result<Vec<String>, StoreError> {
        Ok(vec![reference.to_string()])
    }

    /// Removes what `reference` reads; how many items went.
    fn remove(
        &self,
        reference: &Reference,
        _timeout: Duration,
        _ctx: &Context,
    ) -> Result<usize, StoreError> {
        Err(not_writable(reference))
    }
}

/// The schemes of the stores `set` and `rotate` can write to, in `SCHEMES` order.
pub fn writable_schemes() -> Vec<&'static str> {
    StoreKind::ALL
        .iter()
        .filter(|k| store_for(**k).can_write())
        .map(|k| k.scheme())
        .collect()
}

/// Why nothing can be written to `reference` at all (its store is read-only to us), before a
/// value is asked for: a usage error, not a store failure.
pub fn write_refusal(reference: &Reference) -> Option<StoreError> {
    (!store_for(reference.store()).can_write()).then(|| not_writable(reference))
}

/// Why `delete` cannot remove what `reference` reads (its store is one jit-secrets does not
/// delete from), before anything is asked: a usage error, not a store failure.
pub fn remove_refusal(reference: &Reference) -> Option<StoreError> {
    if store_for(reference.store()).can_remove() {
        return None;
    }
    let removable: Vec<&str> = StoreKind::ALL
        .iter()
        .filter(|k| store_for(**k).can_remove())
        .map(|k| k.scheme())
        .collect();
    Some(
        StoreError::new(format!(
            "jit-secrets cannot delete from {} references; nothing deleted",
            reference.store().name()
        ))
        .fix(format!(
            "delete it with that store's own tool (and `jit-secrets remove` the entry if it is no longer needed); jit-secrets deletes from {}",
            removable.join(", ")
        )),
    )
}

fn not_writable(reference: &Reference) -> StoreError {
    let writable = writable_schemes();
    StoreError::new(format!(
        "jit-secrets cannot write to {} references",
        reference.store().name()
    ))
    .fix(format!(
        "store it with that store's own tool; jit-secrets writes to {}",
        writable.join(", ")
    ))
}

pub fn store_for(kind: StoreKind) -> &'static dyn Store {
    match kind {
        StoreKind::Op => &op::Op,
        StoreKind::Vault => &vault::Vault,
        StoreKind::AwsSm => &aws_sm::AwsSecretsManager,
        StoreKind::AwsSsm => &aws_ssm::AwsSsm,
        StoreKind::Doppler => &doppler::Doppler,
        StoreKind::Pass => &pass::Pass,
        StoreKind::SecretTool => &secret_tool::SecretTool,
        StoreKind::Keyring => &keyring::Keyring,
        StoreKind::File => &file::File,
        StoreKind::Env => &env::Env,
        StoreKind::Cmd => &cmd::Cmd,
        StoreKind::Sops => &sops::Sops,
        StoreKind::Age => &age::Age,
        StoreKind::Bitwarden => &bitwarden::Bitwarden,
        StoreKind::Bws => &bws::Bws,
        StoreKind::Gcp => &gcp::Gcp,
        StoreKind::AzureKv => &azure_kv::AzureKeyVault,
        StoreKind::Plugin => &plugin::Plugin,
        StoreKind::OciVault => &oci_vault::OciVault,
        StoreKind::Keepassxc => &keepassxc::Keepassxc,
    }
}

/// The outcome of a batch call that failed as a whole: every reference in it gets the whole
/// error (message, the CLI's words and the fix), so each secret's report stands on its own. The
/// reporter folds repeats of one failure into a pointer to the first (`commands::report_problems`).
pub(crate) fn fail_batch(refs: &[&Reference], error: StoreError) -> Vec<Outcome> {
    refs.iter()
        .map(|_| Outcome::Failed(error.clone()))
        .collect()
}

/// A raw-value CLI that exits 0 having printed nothing (or having closed its stdout early) gave
/// no secret: an empty token is almost always a broken store, not a value.
pub(crate) fn found_unless_empty(
    program: &str,
    reference: &Reference,
    stdout: SecretValue,
) -> Outcome {
    if stdout.is_empty() {
        Outcome::Failed(
            StoreError::new(format!(
                "`{program}` succeeded but printed nothing for {reference}"
            ))
            .fix(format!(
                "check the item has a value (run the `{program}` command by hand)"
            )),
        )
    } else {
        Outcome::Found(stdout)
    }
}

/// A file's modification time in Unix seconds (`verify`'s age for file-backed stores).
pub(crate) fn mtime_secs(path: &std::path::Path) -> Result<Option<i64>, StoreError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| StoreError::new(format!("cannot stat {}: {e}", path.display())))?;
    Ok(meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64))
}

/// Picks a field from JSON in memory; strings are taken as they are, other values as JSON text.
pub(crate) fn json_field_value(v: &serde_json::Value) -> SecretValue {
    match v {
        serde_json::Value::String(s) => SecretValue::from_str_value(s),
        other => SecretValue::new(other.to_string().into_bytes()),
    }
}

/// Decodes base64 as cloud CLIs print it (standard or URL-safe alphabet, padded or not) straight
/// into a wiping buffer sized up front, so no partial copy of the value is left behind by a grow.
pub(crate) fn decode_base64(text: &str) -> Option<SecretValue> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let text = text.trim();
    let engine = if text.contains(['-', '_']) {
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
    } else {
        GeneralPurpose::new(&base64::alphabet::STANDARD, config)
    };
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(text.len() / 4 * 3 + 3));
    engine.decode_vec(text, &mut out).ok()?;
    Some(SecretValue::new(std::mem::take(&mut *out)))
}

/// Encodes `bytes` as standard padded base64 into a wiping buffer (what a CLI reads on stdin).
pub(crate) fn encode_base64(bytes: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    use base64::Engine;
    let mut out = zeroize::Zeroizing::new(vec![0u8; bytes.len().div_ceil(3) * 4]);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out)
        .expect("the buffer is sized for the encoding");
    out.truncate(written);
    out
}

/// Serializes JSON that holds secrets (a request to a CLI) into a wiping buffer.
pub(crate) fn json_to_wiping(v: &serde_json::Value) -> zeroize::Zeroizing<Vec<u8>> {
    crate::secret::json_to_wiping(v)
}

/// The elements of a JSON array (an empty slice for anything else).
pub(crate) fn decode_json_items(doc: &serde_json::Value) -> &[serde_json::Value] {
    doc.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// A CLI that ran and failed, with the fix its own words call for (`fix_for` reads its scrubbed
/// stderr).
pub(crate) fn cli_failed_reading(
    program: &str,
    out: process::Output,
    fix_for: fn(&str) -> &'static str,
) -> StoreError {
    let fix = fix_for(&out.stderr.scrubbed(&Default::default()));
    cli_failed(program, out, fix)
}

/// `Ok` when a writing CLI succeeded (its output, which may echo the value, is dropped unread),
/// else [`cli_failed_reading`].
pub(crate) fn succeeded(
    program: &str,
    out: process::Output,
    fix_for: fn(&str) -> &'static str,
) -> Result<(), StoreError> {
    if out.exit.success() {
        Ok(())
    } else {
        Err(cli_failed_reading(program, out, fix_for))
    }
}

/// A CLI's JSON answer as a list of items: an array as it is, one object as a list of one.
pub(crate) fn as_item_list(
    doc: serde_json::Value,
    program: &str,
    what: &str,
) -> Result<serde_json::Value, StoreError> {
    match doc {
        serde_json::Value::Array(_) => Ok(doc),
        one @ serde_json::Value::Object(_) => Ok(serde_json::Value::Array(vec![one])),
        other => {
            wipe_json(other);
            Err(
                StoreError::new(format!("`{program}` printed JSON that is not {what}")).fix(
                    format!("check your `{program}` version; run the command by hand to see"),
                ),
            )
        }
    }
}

/// Writing to a reference pinned to one version (`pin` says how it is pinned): refused, since a
/// version never changes.
pub(crate) fn pinned_version(reference: &Reference, pin: &str) -> StoreError {
    StoreError::new(format!(
        "{reference} names one version, and versions never change"
    ))
    .fix(format!(
        "write through the secret itself: drop {pin} from the reference"
    ))
}
