//! Trust before fetch: a manifest you did not approve cannot read your stores or run programs.
//!
//! A cloned repository's `manifest.toml` can name `cmd:` programs and references into *your*
//! stores; loading it unasked would make jit-secrets a confused deputy. `jit-secrets allow`
//! records the manifest's canonical path with the SHA-256 of its bytes as they are now; every
//! command that contacts a store checks both before contacting anything. Editing the manifest
//! (a `git pull`) makes it untrusted again until it is allowed again.
//!
//! The trust file (`$XDG_DATA_HOME/jit-secrets/trusted`) holds no secret: one line per manifest,
//! `sha256:<hex> <canonical path>`. It is replaced atomically (temp file, fsync, rename).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Skips every check: for CI and test harnesses, never for a shell profile.
pub const TRUST_ALL_VAR: &str = "JIT_SECRETS_TRUST_ALL_MANIFESTS";

/// Where a manifest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// Never allowed (or denied since).
    New,
    /// Allowed, but its bytes have changed since.
    Edited,
}

/// A host that already runs the repository's own code at every activation vouches for its
/// manifest (`--trusted-by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Host {
    /// A Flox environment: its `[hook]` and `[profile]` run whatever its manifest says. Vouches
    /// only for `$FLOX_ENV_PROJECT/.flox/env/manifest.toml`.
    Flox,
    /// A nix devShell's `shellHook`, which runs the flake's own code.
    Nix,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path} is {what}, so jit-secrets will not read your stores or run programs for it\n  fix: read it, then run `jit-secrets allow {path}` (it lists what the manifest will do)", what = match .verdict { Verdict::Edited => "edited since you allowed it", _ => "new (not allowed yet)" })]
    NotTrusted { path: String, verdict: Verdict },
    #[error("cannot record trust in {file}: {reason}")]
    Store { file: String, reason: String },
    #[error("cannot find where to keep the trust file: set XDG_DATA_HOME or HOME")]
    NoDataDir,
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

fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The path trust is recorded under: canonical, so `./manifest.toml` and a symlink to it agree.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// (digest, path) pairs of the trust file; a missing file is an empty list.
fn entries(file: &Path) -> Vec<(String, PathBuf)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(d, p)| (d.to_string(), PathBuf::from(p)))
        .collect()
}

/// Is the manifest at `path` with these `bytes` trusted?
pub fn verdict(path: &Path, bytes: &[u8]) -> Verdict {
    let Some(file) = trust_file() else {
        return Verdict::New;
    };
    let path = canonical(path);
    let wanted = digest(bytes);
    let mut known = false;
    for (d, p) in entries(&file) {
        if p == path {
            if d == wanted {
                return Verdict::Trusted;
            }
            known = true;
        }
    }
    if known {
        Verdict::Edited
    } else {
        Verdict::New
    }
}

/// Refuses a manifest that is not trusted, unless the environment variable or a vouching host
/// says otherwise. Called before any store is contacted.
pub fn check(path: &Path, bytes: &[u8], host: Option<Host>) -> Result<(), TrustError> {
    if std::env::var_os(TRUST_ALL_VAR).is_some_and(|v| v == "1") {
        return Ok(());
    }
    if let Some(host) = host {
        if vouches_for(host, path) {
            return Ok(());
        }
    }
    match verdict(path, bytes) {
        Verdict::Trusted => Ok(()),
        verdict => Err(TrustError::NotTrusted {
            path: canonical(path).display().to_string(),
            verdict,
        }),
    }
}

fn vouches_for(host: Host, path: &Path) -> bool {
    match host {
        Host::Nix => true,
        Host::Flox => std::env::var_os("FLOX_ENV_PROJECT")
            .filter(|p| !p.is_empty())
            .is_some_and(|project| {
                canonical(&Path::new(&project).join(".flox/env/manifest.toml")) == canonical(path)
            }),
    }
}

/// Records the manifest at `path` as trusted with these bytes (replacing an older record).
pub fn allow(path: &Path, bytes: &[u8]) -> Result<(), TrustError> {
    let path = canonical(path);
    if path.to_string_lossy().contains('\n') {
        return Err(TrustError::Store {
            file: path.display().to_string(),
            reason: "a path with a newline cannot be recorded".into(),
        });
    }
    rewrite(|list| {
        list.retain(|(_, p)| *p != path);
        list.push((digest(bytes), path.clone()));
    })
}

/// Forgets the manifest at `path`; whether it was recorded.
pub fn deny(path: &Path) -> Result<bool, TrustError> {
    let path = canonical(path);
    let mut removed = false;
    rewrite(|list| {
        let before = list.len();
        list.retain(|(_, p)| *p != path);
        removed = list.len() != before;
    })?;
    Ok(removed)
}

/// After `init`, `add` or `remove` rewrote a manifest: if its old bytes were trusted, its new
/// bytes are (the user's own edit through us is not a stranger's edit).
pub fn keep_trusted_after_edit(path: &Path, old: &[u8], new: &[u8]) -> Result<(), TrustError> {
    if verdict(path, old) == Verdict::Trusted {
        allow(path, new)?;
    }
    Ok(())
}

fn rewrite(change: impl FnOnce(&mut Vec<(String, PathBuf)>)) -> Result<(), TrustError> {
    let file = trust_file().ok_or(TrustError::NoDataDir)?;
    let mut list = entries(&file);
    change(&mut list);
    let failed = |e: std::io::Error| TrustError::Store {
        file: file.display().to_string(),
        reason: e.to_string(),
    };
    let dir = file.parent().expect("the trust file has a directory");
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut text = String::from(
        "# jit-secrets: manifests you allowed (`jit-secrets allow`): the SHA-256 of the bytes you\n# approved, then the manifest's path. No secrets are kept here.\n",
    );
    for (d, p) in &list {
        text.push_str(&format!("{d} {}\n", p.display()));
    }
    let tmp = dir.join(format!(".trusted.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
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
}
