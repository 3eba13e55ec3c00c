//! Trust before fetch: a manifest you did not approve cannot read your stores or run programs.
//!
//! A cloned repository's `manifest.toml` can name `cmd:` programs and references into *your*
//! stores; loading it unasked would make jit-secrets a confused deputy. `jit-secrets allow`
//! records, for the manifest's path **as it is reached** (absolute, symlinks not resolved), the
//! SHA-256 of its bytes and of every program or script of the repository that the manifest runs.
//! Every command that contacts a store checks all of them before contacting anything; an edit to
//! any (a `git pull`) makes the manifest untrusted again until it is allowed again.
//!
//! Why not the canonical path: relative references resolve from the directory the manifest was
//! reached in. Keyed on the symlink's target, `evil/manifest.toml -> ../project-a/manifest.toml`
//! would borrow project-a's trust while reading `evil/conf.txt`. Keyed on the path as reached,
//! the record names the very directory its relative references resolve from.
//!
//! The trust file (`$XDG_DATA_HOME/jit-secrets/trusted`) holds no secret:
//! ```text
//! sha256:<hex> <manifest path>
//! \tsha256:<hex> <a program or script it runs>
//! denied <manifest path>
//! ```
//! It is replaced atomically (temp file, fsync, rename) under an `flock` on `trusted.lock`, so
//! concurrent `allow`s and `deny`s never lose each other's lines.

use crate::manifest::Manifest;
use crate::reference::Reference;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Skips every check: for CI and test harnesses, never for a shell profile.
pub const TRUST_ALL_VAR: &str = "JIT_SECRETS_TRUST_ALL_MANIFESTS";

/// Where a manifest stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// Never allowed.
    New,
    /// `jit-secrets deny`-ed.
    Denied,
    /// Allowed, but its bytes have changed since.
    Edited,
    /// Allowed, but a program or script it runs changed (or appeared, or went) since.
    CodeChanged(PathBuf),
}

/// A host that already runs the repository's own code at every activation vouches for its
/// manifest (`--trusted-by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Host {
    /// A Flox environment: its `[hook]` and `[profile]` run whatever its manifest says. Vouches
    /// only for `$FLOX_ENV_PROJECT/.flox/env/manifest.toml`.
    Flox,
    /// A nix devShell's `shellHook`, which runs the flake's own code. Vouches only for the
    /// manifest whose SHA-256 the hook pins (`--manifest-sha256`, from `builtins.hashFile`).
    Nix,
}

/// Who vouches for this run's manifest besides the trust file.
#[derive(Clone, Debug, Default)]
pub struct Vouch {
    pub host: Option<Host>,
    /// `--manifest-sha256`: the manifest bytes a nix hook was evaluated with.
    pub pin: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path} is {what}, so jit-secrets will not read your stores or run programs for it{hint}\n  fix: {fix}", path = crate::printable::path(.path), what = describe(.verdict), fix = fix_for(.path, .verdict), hint = .hint.as_deref().map(|h| format!("\n  note: {h}")).unwrap_or_default())]
    NotTrusted {
        path: PathBuf,
        verdict: Verdict,
        /// Why a `--trusted-by` did not vouch, when one was given.
        hint: Option<String>,
    },
    #[error("cannot record trust in {file}: {reason}")]
    Store { file: String, reason: String },
    #[error("cannot find where to keep the trust file: set XDG_DATA_HOME or HOME")]
    NoDataDir,
}

fn describe(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Trusted => "trusted".into(),
        Verdict::New => "new (not allowed yet)".into(),
        Verdict::Denied => "denied (`jit-secrets deny`)".into(),
        Verdict::Edited => "edited since you allowed it".into(),
        Verdict::CodeChanged(file) => format!(
            "changed since you allowed it: {} (a program or script it runs) is not what you approved",
            crate::printable::path(file)
        ),
    }
}

fn fix_for(path: &Path, verdict: &Verdict) -> String {
    let path = crate::printable::path(path);
    match verdict {
        Verdict::CodeChanged(_) => format!("read the change (`git diff`), then run `jit-secrets allow {path}` (it lists what the manifest will do)"),
        _ => format!("read it, then run `jit-secrets allow {path}` (it lists what the manifest will do)"),
    }
}

/// The trust file: `$XDG_DATA_HOME/jit-secrets/trusted`, else the platform's data directory.
pub fn trust_file() -> Option<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(data) = nonempty("XDG_DATA_HOME") {
        return Some(PathBuf::from(data).join("jit-secrets/trusted"));
    }
    let home = PathBuf::from(nonempty("HOME")?);
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Application Support/jit-secrets/trusted"))
    } else {
        Some(home.join(".local/share/jit-secrets/trusted"))
    }
}

pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The path trust is recorded under: absolute, as reached (symlinks are not resolved; see the
/// module's comment for why), with each `dir/..` the kernel would resolve to the directory above
/// `dir` written so: `a/sub/../manifest.toml` is `a/manifest.toml` where `sub` is a real
/// directory. Where `sub` is a symlink, `sub/..` is the parent of wherever it leads, not `a`: the
/// pair stays, and the path stays a manifest of its own.
pub fn as_reached(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    without_real_parent_pairs(&absolute)
}

/// Drops each `dir/..` pair where `dir`, as reached so far, is a real directory (not a symlink,
/// and present: the kernel resolves nothing past a missing one, so neither do we); `/..` is `/`.
fn without_real_parent_pairs(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        if component != Component::ParentDir {
            out.push(component);
            continue;
        }
        match out.components().next_back() {
            Some(Component::RootDir) => {}
            Some(Component::Normal(_))
                if std::fs::symlink_metadata(&out).is_ok_and(|m| m.is_dir()) =>
            {
                out.pop();
            }
            _ => out.push(component),
        }
    }
    out
}

/// The canonical path, for saying where a symlink leads.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// One allowed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    digest: String,
    path: PathBuf,
    /// (digest, path) of each program or script of the repository the manifest runs.
    code: Vec<(String, PathBuf)>,
}

#[derive(Debug, Default)]
struct TrustFile {
    allowed: Vec<Record>,
    denied: Vec<PathBuf>,
}

fn read_trust_file(file: &Path) -> TrustFile {
    use std::os::unix::ffi::OsStrExt;
    let as_path = |b: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(b));
    let text = std::fs::read(file).unwrap_or_default();
    let mut parsed = TrustFile::default();
    for line in text.split(|b| *b == b'\n') {
        if line.starts_with(b"#") || line.is_empty() {
            continue;
        }
        let (indented, line) = match line.strip_prefix(b"\t") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some(space) = line.iter().position(|b| *b == b' ') else {
            continue;
        };
        let (first, path) = (&line[..space], as_path(&line[space + 1..]));
        let first = String::from_utf8_lossy(first).into_owned();
        if indented {
            if let Some(record) = parsed.allowed.last_mut() {
                record.code.push((first, path));
            }
        } else if first == "denied" {
            parsed.denied.push(path);
        } else {
            parsed.allowed.push(Record {
                digest: first,
                path,
                code: Vec::new(),
            });
        }
    }
    parsed
}

/// The repository a manifest belongs to: the nearest directory at or above the manifest's that
/// holds `.git`, else the manifest's own directory — for a Flox manifest
/// (`PROJECT/.flox/env/manifest.toml`), the Flox project's directory: its `bin/` is the
/// project's code as much as `.flox/env/` is.
pub fn repository_of(manifest_path: &Path) -> PathBuf {
    repository_at(manifest_path.parent().unwrap_or(Path::new("/")))
}

/// The repository of a manifest in `dir` (see [`repository_of`]).
pub fn repository_at(dir: &Path) -> PathBuf {
    let fallback = if dir.ends_with(".flox/env") {
        dir.parent().and_then(Path::parent).unwrap_or(dir)
    } else {
        dir
    };
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(fallback)
        .to_path_buf()
}

/// The programs and scripts inside the manifest's repository that it runs: every word of a
/// `cmd:` line (in every profile, in a lease, in `keepassxc_password_from`), every word of a
/// lease's `command` and `revoke_command`, and every `commands` override, that names an existing
/// regular file there from the manifest's directory; and every program it names by a bare name
/// (a `cmd:` or lease program, a bare `commands` override, a plugin's executable) that `PATH`
/// resolves into the repository now (direnv's `PATH_add bin`, a nix or Flox shell). Data files
/// (`file:`) are not code and not hashed. A program of the repository that the manifest does
/// not name is refused when spawned (`crate::process::approve_repository`).
pub fn code_files(manifest: &Manifest) -> Vec<PathBuf> {
    let dir = manifest.path.parent().unwrap_or(Path::new("/"));
    let root = canonical(&repository_of(&manifest.path));
    let (words, bare) = program_words(manifest);
    let named = words
        .iter()
        .map(|w| dir.join(w).components().collect::<PathBuf>());
    let found_on_path = bare
        .iter()
        .filter(|w| !w.is_empty() && !w.contains('/'))
        .filter_map(|w| crate::process::on_path(w));
    let mut files: Vec<PathBuf> = named
        .chain(found_on_path)
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        // The same rule the spawn check applies (a link in the repository counts too).
        .filter(|p| crate::process::of_repository(p, &canonical(p), &root))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Every word of the manifest that may name a program or script (relative to its directory),
/// and the program names it runs (looked up on `PATH` when bare).
fn program_words(manifest: &Manifest) -> (Vec<String>, Vec<String>) {
    let (mut words, mut programs) = (Vec::new(), Vec::new());
    fn reference(r: &Reference, words: &mut Vec<String>, programs: &mut Vec<String>) {
        match r {
            Reference::Cmd { argv, .. } => {
                words.extend(argv.iter().cloned());
                programs.extend(argv.first().cloned());
            }
            Reference::Plugin { name, .. } => {
                programs.extend(crate::reference::plugin_program_names(name));
            }
            _ => {}
        }
    }
    let entries = manifest
        .entries
        .iter()
        .chain(manifest.profiles.values().flatten());
    for r in entries.flat_map(|e| e.from.iter()) {
        reference(r, &mut words, &mut programs);
    }
    if let Some(r) = &manifest.options.keepassxc_password_from {
        reference(r, &mut words, &mut programs);
    }
    // Leases read references (their master credential) and run programs (`command` leases).
    let leases = manifest
        .leases
        .iter()
        .chain(manifest.profile_leases.values().flatten());
    for lease in leases {
        for r in lease.references() {
            reference(r, &mut words, &mut programs);
        }
        if let crate::manifest::LeaseKind::Command {
            command,
            revoke_command,
        } = &lease.kind
        {
            for argv in std::iter::once(command).chain(revoke_command) {
                words.extend(argv.iter().cloned());
                programs.extend(argv.first().cloned());
            }
        }
    }
    for program in manifest.options.commands.values() {
        words.push(program.to_string_lossy().into_owned());
        programs.push(program.to_string_lossy().into_owned());
    }
    (words, programs)
}

fn verdict_in(trusted: &TrustFile, path: &Path, bytes: &[u8], code: &[PathBuf]) -> Verdict {
    let Some(record) = trusted.allowed.iter().find(|r| r.path == path) else {
        return if trusted.denied.iter().any(|p| p == path) {
            Verdict::Denied
        } else {
            Verdict::New
        };
    };
    if record.digest != digest(bytes) {
        return Verdict::Edited;
    }
    // A script that appeared since `allow` (the manifest named it before it existed) counts as
    // changed, like one whose bytes differ or one that went.
    for file in code {
        let approved = record.code.iter().find(|(_, p)| p == file);
        let now = std::fs::read(file).map(|b| digest(&b));
        match (approved, now) {
            (Some((d, _)), Ok(now)) if *d == now => {}
            _ => return Verdict::CodeChanged(file.clone()),
        }
    }
    // One it no longer runs counts when it went or changed: a script the manifest names is
    // dropped only so. A program found on `PATH` at `allow` may not be found now (another PATH):
    // unchanged, it is still exactly what was approved.
    let unchanged = |d: &String, p: &PathBuf| std::fs::read(p).is_ok_and(|b| digest(&b) == *d);
    if let Some((_, gone)) = record
        .code
        .iter()
        .find(|(d, p)| !code.contains(p) && !unchanged(d, p))
    {
        return Verdict::CodeChanged(gone.clone());
    }
    Verdict::Trusted
}

/// What of the manifest's repository a trusted run may spawn (see
/// `crate::process::approve_repository`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// `JIT_SECRETS_TRUST_ALL_MANIFESTS=1`: every check skipped, this one too.
    Everything,
    /// These files (path, digest): the ones `allow` recorded, or, for a manifest a host vouched
    /// for, the code files as they are now (the host runs the repository's code as it is now).
    Code(Vec<(PathBuf, String)>),
}

/// Refuses a manifest that is not trusted, unless the environment variable or a vouching host
/// says otherwise; a host never overrules the user's `deny`. Called before any store is
/// contacted. Trusted: which of the repository's files may run.
pub fn check(
    path: &Path,
    bytes: &[u8],
    code: &[PathBuf],
    vouch: &Vouch,
) -> Result<Approval, TrustError> {
    if std::env::var_os(TRUST_ALL_VAR).is_some_and(|v| v == "1") {
        return Ok(Approval::Everything);
    }
    let trusted = trust_file()
        .map(|file| read_trust_file(&file))
        .unwrap_or_default();
    let reached = as_reached(path);
    let verdict = verdict_in(&trusted, &reached, bytes, code);
    let approved_now = || {
        let now = code
            .iter()
            .filter_map(|f| Some((f.clone(), digest(&std::fs::read(f).ok()?))));
        Ok(Approval::Code(now.collect()))
    };
    // A host vouches for whatever path it is handed: through a symlink, the file the user
    // denied under its own path is still the file they denied.
    let denied = verdict == Verdict::Denied
        || (vouch.host.is_some() && verdict != Verdict::Trusted && denied_where_it_leads(path));
    let hint = match (verdict.clone(), vouch.host) {
        (Verdict::Trusted, _) => {
            let record = trusted.allowed.iter().find(|r| r.path == reached);
            let code = record.map(|r| r.code.iter().map(|(d, p)| (p.clone(), d.clone())));
            return Ok(Approval::Code(code.into_iter().flatten().collect()));
        }
        // The user's own word about this manifest outranks a host's.
        (_, Some(host)) if denied => Some(format!(
            "--trusted-by {} was ignored: you denied this manifest, and a host does not overrule your `jit-secrets deny`",
            host_name(host)
        )),
        (_, Some(host)) => match vouches_for(host, path, bytes, vouch.pin.as_deref()) {
            Ok(()) => return approved_now(),
            Err(why) => Some(why),
        },
        (_, None) => None,
    };
    Err(TrustError::NotTrusted {
        path: as_reached(path),
        verdict,
        hint,
    })
}

/// Is the file `path` leads to (symlinks resolved) one the user denied?
fn denied_where_it_leads(path: &Path) -> bool {
    let target = canonical(path);
    trust_file().is_some_and(|file| {
        read_trust_file(&file)
            .denied
            .iter()
            .any(|d| canonical(d) == target)
    })
}

fn host_name(host: Host) -> &'static str {
    match host {
        Host::Flox => "flox",
        Host::Nix => "nix",
    }
}

/// Whether `host` vouches for this manifest; if not, why (said with the refusal).
fn vouches_for(host: Host, path: &Path, bytes: &[u8], pin: Option<&str>) -> Result<(), String> {
    match host {
        Host::Nix => {
            let Some(pin) = pin.filter(|p| !p.is_empty()) else {
                return Err("--trusted-by nix was ignored: it needs the manifest's pin, --manifest-sha256 HASH (lib.shellHook passes `builtins.hashFile \"sha256\"` of the manifest)".into());
            };
            let wanted = pin.strip_prefix("sha256:").unwrap_or(pin).to_ascii_lowercase();
            if digest(bytes) == format!("sha256:{wanted}") {
                Ok(())
            } else {
                Err("--trusted-by nix was ignored: this manifest is not the one the nix hook pinned (--manifest-sha256 differs from its bytes)".into())
            }
        }
        Host::Flox => match std::env::var_os("FLOX_ENV_PROJECT").filter(|p| !p.is_empty()) {
            None => Err("--trusted-by flox was ignored: FLOX_ENV_PROJECT is unset (not inside `flox activate`)".into()),
            Some(project) => {
                if as_reached(&Path::new(&project).join(".flox/env/manifest.toml")) == as_reached(path) {
                    Ok(())
                } else {
                    Err("--trusted-by flox was ignored: it vouches only for $FLOX_ENV_PROJECT/.flox/env/manifest.toml".into())
                }
            }
        },
    }
}

/// Records the manifest at `path` as trusted with these bytes and these code files (replacing an
/// older record).
pub fn allow(path: &Path, bytes: &[u8], code: &[PathBuf]) -> Result<(), TrustError> {
    let record = record_for(path, bytes, code)?;
    rewrite(|file| put(file, record))
}

fn record_for(path: &Path, bytes: &[u8], code: &[PathBuf]) -> Result<Record, TrustError> {
    let path = as_reached(path);
    let unrecordable = |p: &Path| TrustError::Store {
        file: crate::printable::path(p),
        reason: "a path with a newline cannot be recorded".into(),
    };
    if path.as_os_str().as_encoded_bytes().contains(&b'\n') {
        return Err(unrecordable(&path));
    }
    let mut hashed = Vec::new();
    for file in code {
        if file.as_os_str().as_encoded_bytes().contains(&b'\n') {
            return Err(unrecordable(file));
        }
        let bytes = std::fs::read(file).map_err(|e| TrustError::Store {
            file: crate::printable::path(file),
            reason: format!("cannot read it to record its digest: {e}"),
        })?;
        hashed.push((digest(&bytes), file.clone()));
    }
    Ok(Record {
        digest: digest(bytes),
        path,
        code: hashed,
    })
}

fn put(file: &mut TrustFile, record: Record) {
    file.allowed.retain(|r| r.path != record.path);
    file.denied.retain(|p| *p != record.path);
    file.allowed.push(record);
}

/// Forgets the manifest at `path` and remembers it was denied; whether it was trusted.
pub fn deny(path: &Path) -> Result<bool, TrustError> {
    let path = as_reached(path);
    let mut removed = false;
    rewrite(|file| {
        let before = file.allowed.len();
        file.allowed.retain(|r| r.path != path);
        removed = file.allowed.len() != before;
        if !file.denied.contains(&path) {
            file.denied.push(path.clone());
        }
    })?;
    Ok(removed)
}

/// After `init`, `add` or `remove` rewrote a manifest: if its old bytes were trusted, its new
/// bytes are (the user's own edit through us is not a stranger's edit). One locked update, so a
/// `deny` cannot slip between the check and the record.
pub fn keep_trusted_after_edit(
    path: &Path,
    old: &[u8],
    new: &[u8],
    old_code: &[PathBuf],
    new_code: &[PathBuf],
) -> Result<(), TrustError> {
    let record = record_for(path, new, new_code)?;
    rewrite(|file| {
        if verdict_in(file, &record.path, old, old_code) == Verdict::Trusted {
            put(file, record);
        }
    })
}

fn rewrite(change: impl FnOnce(&mut TrustFile)) -> Result<(), TrustError> {
    let file = trust_file().ok_or(TrustError::NoDataDir)?;
    let failed = |e: std::io::Error| TrustError::Store {
        file: crate::printable::path(&file),
        reason: e.to_string(),
    };
    let dir = file.parent().expect("the trust file has a directory");
    std::fs::create_dir_all(dir).map_err(failed)?;
    // The lock is a file of its own: the trust file is replaced by rename, so a lock on it would
    // be a lock on an inode that is about to be unlinked.
    let _lock = crate::file_lock::FileLock::exclusive(&dir.join("trusted.lock")).map_err(failed)?;
    let mut list = read_trust_file(&file);
    change(&mut list);
    let mut text: Vec<u8> = b"# jit-secrets: manifests you allowed (`jit-secrets allow`): the SHA-256 of the bytes you\n# approved and the manifest's path, then (indented) each program or script of its repository\n# that it runs. No secrets are kept here.\n".to_vec();
    for r in &list.allowed {
        text.extend_from_slice(format!("{} ", r.digest).as_bytes());
        text.extend_from_slice(r.path.as_os_str().as_encoded_bytes());
        text.push(b'\n');
        for (d, p) in &r.code {
            text.extend_from_slice(format!("\t{d} ").as_bytes());
            text.extend_from_slice(p.as_os_str().as_encoded_bytes());
            text.push(b'\n');
        }
    }
    for p in &list.denied {
        text.extend_from_slice(b"denied ");
        text.extend_from_slice(p.as_os_str().as_encoded_bytes());
        text.push(b'\n');
    }
    let tmp = dir.join(format!(".trusted.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_of_the_bytes() {
        assert_eq!(
            digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn record(path: &str, bytes: &[u8]) -> Record {
        Record {
            digest: digest(bytes),
            path: PathBuf::from(path),
            code: Vec::new(),
        }
    }

    #[test]
    fn verdicts_follow_the_path_as_reached_and_the_bytes() {
        let file = TrustFile {
            allowed: vec![record("/p/a/manifest.toml", b"A")],
            denied: vec![PathBuf::from("/p/d/manifest.toml")],
        };
        let v = |p: &str, b: &[u8]| verdict_in(&file, Path::new(p), b, &[]);
        assert_eq!(v("/p/a/manifest.toml", b"A"), Verdict::Trusted);
        assert_eq!(v("/p/a/manifest.toml", b"B"), Verdict::Edited);
        assert_eq!(v("/p/evil/manifest.toml", b"A"), Verdict::New);
        assert_eq!(v("/p/d/manifest.toml", b"A"), Verdict::Denied);
    }

    #[test]
    fn a_changed_new_or_removed_script_untrusts() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("get-token");
        std::fs::write(&script, "echo one").unwrap();
        let mut r = record("/p/manifest.toml", b"M");
        r.code.push((digest(b"echo one"), script.clone()));
        let file = TrustFile {
            allowed: vec![r],
            denied: vec![],
        };
        let v = |code: &[PathBuf]| verdict_in(&file, Path::new("/p/manifest.toml"), b"M", code);
        assert_eq!(v(std::slice::from_ref(&script)), Verdict::Trusted);
        assert_eq!(
            v(&[]),
            Verdict::Trusted,
            "one no longer found (a program PATH found at `allow`, another PATH now) but unchanged is what was approved"
        );
        std::fs::rename(&script, dir.path().join("moved")).unwrap();
        assert_eq!(
            v(&[]),
            Verdict::CodeChanged(script.clone()),
            "a script that went"
        );
        std::fs::rename(dir.path().join("moved"), &script).unwrap();
        let other = dir.path().join("other");
        std::fs::write(&other, "x").unwrap();
        assert_eq!(
            v(&[script.clone(), other.clone()]),
            Verdict::CodeChanged(other),
            "a script that appeared"
        );
        std::fs::write(&script, "echo two").unwrap();
        assert_eq!(
            v(std::slice::from_ref(&script)),
            Verdict::CodeChanged(script)
        );
    }

    #[test]
    fn dot_dot_goes_up_only_after_a_real_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir_all(a.join("sub/deeper")).unwrap();
        std::os::unix::fs::symlink("sub/deeper", a.join("link")).unwrap();
        let reached = |p: &str| as_reached(&a.join(p));
        assert_eq!(reached("sub/../manifest.toml"), a.join("manifest.toml"));
        assert_eq!(
            reached("sub/deeper/../../manifest.toml"),
            a.join("manifest.toml")
        );
        // A symlink's `..` is its target's parent: the pair stays, and so does every `..` after.
        assert_eq!(
            reached("link/../manifest.toml"),
            a.join("link/../manifest.toml")
        );
        assert_eq!(
            reached("link/../../manifest.toml"),
            a.join("link/../../manifest.toml")
        );
        // Past a symlink, a real directory's pair still goes (the kernel reaches it through
        // the link, then goes back up to where it was).
        std::fs::create_dir_all(a.join("sub/deeper/inner")).unwrap();
        assert_eq!(
            reached("link/inner/../manifest.toml"),
            a.join("link/manifest.toml")
        );
        // A directory that is not there resolves nothing; the root's parent is the root.
        assert_eq!(
            reached("gone/../manifest.toml"),
            a.join("gone/../manifest.toml")
        );
        assert_eq!(as_reached(Path::new("/../etc/x")), PathBuf::from("/etc/x"));
    }

    #[test]
    fn the_trust_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trusted");
        let mut r = record("/p/a b/manifest.toml", b"A");
        r.code.push((digest(b"s"), PathBuf::from("/p/a b/s x")));
        let text = format!(
            "# comment\n{} /p/a b/manifest.toml\n\t{} /p/a b/s x\ndenied /q/manifest.toml\n",
            r.digest, r.code[0].0
        );
        std::fs::write(&path, text).unwrap();
        let parsed = read_trust_file(&path);
        assert_eq!(parsed.allowed, vec![r]);
        assert_eq!(parsed.denied, vec![PathBuf::from("/q/manifest.toml")]);
    }
}
