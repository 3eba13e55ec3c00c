//! Scoped secrets (`only = ["gh"]`): the directory of proxies and the `PATH` that puts it first.
//!
//! `activate` exports no scoped value. It makes one directory per manifest under the user's
//! runtime directory (tmpfs, mode 0700) holding one symlink per scoped command, each pointing
//! at the `jit-secrets` binary, and prints a `PATH` with that directory first, plus the variables
//! below (a path and settings, never a value). A shell, a script, `make` or `xargs` starting
//! `gh` then starts us under the name `gh` (the rustup/mise proxy pattern):
//! `commands::scoped` resolves that command's entries and `exec`s the real `gh` found on the rest
//! of `PATH`. No file here ever holds a value: the directory holds only symlinks.

use crate::manifest::Manifest;
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The manifest a proxy resolves from, as activation reached it.
pub const MANIFEST_VAR: &str = "JIT_SECRETS_SCOPED_MANIFEST";
/// The profile activation applied (`--profile`), when one was.
pub const PROFILE_VAR: &str = "JIT_SECRETS_SCOPED_PROFILE";
/// The host's vouching activation relied on (`flox`, or `nix:SHA256`), when it did.
pub const VOUCH_VAR: &str = "JIT_SECRETS_SCOPED_VOUCH";

/// The program name we were started as, when it is not ours: proxy mode.
pub fn invoked_as(argv0: &OsStr) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    (!name.starts_with("jit-secrets") && crate::manifest::is_command_name(name))
        .then(|| name.to_string())
}

/// Where the scope directories live: `$XDG_RUNTIME_DIR/jit-secrets/scoped` (tmpfs, ours alone);
/// without one, `/run/user/UID` when it is ours, else `$TMPDIR/jit-secrets-UID` (on macOS the
/// per-user temporary directory), created 0700.
pub fn base_dir() -> PathBuf {
    let uid = unsafe { libc::getuid() };
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| {
            let run = PathBuf::from(format!("/run/user/{uid}"));
            std::fs::metadata(&run)
                .is_ok_and(|m| m.uid() == uid)
                .then_some(run)
        });
    match runtime {
        Some(dir) => dir.join("jit-secrets").join("scoped"),
        None => std::env::temp_dir()
            .join(format!("jit-secrets-{uid}"))
            .join("scoped"),
    }
}

/// The directory of `manifest_path`'s proxies (one per manifest as reached).
pub fn dir_for(manifest_path: &Path) -> PathBuf {
    let digest = Sha256::digest(manifest_path.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    base_dir().join(name)
}

/// Creates `dir` and any missing parent from the base's parent on, each 0700, and checks each is
/// a real directory (not a symlink) owned by us and closed to others: another user who could
/// write there could put their own `gh` first on our `PATH`.
fn private_dir(dir: &Path) -> io::Result<()> {
    let uid = unsafe { libc::getuid() };
    let base = base_dir();
    let top = base.parent().unwrap_or(&base).to_path_buf();
    let mut chain: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| a.starts_with(&top))
        .map(Path::to_path_buf)
        .collect();
    chain.reverse();
    for d in chain {
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let meta = std::fs::symlink_metadata(&d)?;
        if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
            return Err(io::Error::other(format!(
                "{} must be a directory of yours that no one else can open (mode 0700)",
                d.display()
            )));
        }
    }
    Ok(())
}

/// Makes `dir` hold exactly one symlink per name, each to `target`: stale links (a command
/// no longer scoped, an old binary's path) are removed or replaced, each replacement atomic.
pub fn populate(dir: &Path, names: &[&str], target: &Path) -> io::Result<()> {
    private_dir(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let keep = names.iter().any(|n| OsStr::new(n) == name)
            && std::fs::read_link(entry.path()).is_ok_and(|t| t == target);
        if !keep {
            std::fs::remove_file(entry.path())?;
        }
    }
    for name in names {
        let link = dir.join(name);
        if std::fs::read_link(&link).is_ok_and(|t| t == target) {
            continue;
        }
        let staged = dir.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(target, &staged)?;
        std::fs::rename(&staged, &link)?;
    }
    Ok(())
}

/// `path` without any scope directory (this manifest's or another's from an earlier activation).
pub fn path_without_scopes(path: &OsStr) -> Vec<PathBuf> {
    let base = base_dir();
    std::env::split_paths(path)
        .filter(|d| !d.starts_with(&base))
        .collect()
}

/// `dir` first, then `path` without any scope directory: a second activation replaces the
/// first's directory instead of stacking another.
pub fn path_with(dir: &Path, path: &OsStr) -> OsString {
    let dirs = std::iter::once(dir.to_path_buf()).chain(path_without_scopes(path));
    std::env::join_paths(dirs).unwrap_or_else(|_| dir.as_os_str().to_owned())
}

/// The real program `name` on `path` (scope directories left out), skipping anything that is
/// this binary under another name, so a proxy never starts itself.
pub fn find_real(name: &str, path: &OsStr) -> Option<PathBuf> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(p).ok());
    path_without_scopes(path)
        .into_iter()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|candidate| {
            let Ok(meta) = std::fs::metadata(candidate) else {
                return false;
            };
            meta.is_file()
                && meta.permissions().mode() & 0o111 != 0
                && std::fs::canonicalize(candidate).ok() != me
        })
}

/// The commands `manifest`'s entries are scoped to, each once, in order.
pub fn commands_of(manifest: &Manifest) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for entry in &manifest.entries {
        for c in &entry.only {
            if !names.contains(&c.as_str()) {
                names.push(c);
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_name_that_is_not_ours_is_proxy_mode() {
        assert_eq!(invoked_as(OsStr::new("gh")), Some("gh".to_string()));
        assert_eq!(
            invoked_as(OsStr::new("/run/user/1/jit-secrets/scoped/ab/git")),
            Some("git".to_string())
        );
        assert_eq!(invoked_as(OsStr::new("jit-secrets")), None);
        assert_eq!(invoked_as(OsStr::new("/usr/bin/jit-secrets")), None);
        assert_eq!(invoked_as(OsStr::new("jit-secrets-0.3")), None);
    }

    #[test]
    fn a_second_activation_replaces_the_scope_directory_instead_of_stacking() {
        let base = base_dir();
        let a = base.join("aaaa");
        let b = base.join("bbbb");
        let once = path_with(&a, OsStr::new("/usr/bin:/bin"));
        let twice = path_with(&b, &once);
        assert_eq!(
            twice,
            OsString::from(format!("{}:/usr/bin:/bin", b.display()))
        );
        assert_eq!(path_with(&b, &twice), twice);
    }
}
