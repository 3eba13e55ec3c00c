//! The repository's own programs run only as approved.
//!
//! Trust records the digest of every program of the manifest's repository that the manifest
//! names (trust's code files). A program it does not name can still be reached: direnv's
//! `PATH_add bin` (or a nix or Flox shell) puts the repository's `bin/` on `PATH`, and a
//! `bin/pass` a `git pull` brought shadows the `pass` CLI the pass store runs. So once a run is
//! trusted, it registers the repository and the files approved for it
//! ([`approve_repository`]); every spawn resolves its program once ([`checked_program`]), and a
//! file inside the repository that is not an approved file with the same digest now is refused
//! before anything starts. The path checked is the path spawned: there is no second `PATH`
//! search for a change to slip between.
//!
//! Not guarded: `jit-secrets run -- CMD` and a scoped proxy exec'ing the user's own command (the
//! user typed it), and what a program spawns in turn (a store CLI that runs `gpg` from `PATH`).

use super::ProcessError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The repository of this run's manifest (canonical) and its approved files (canonical, digest).
struct Approved {
    root: PathBuf,
    files: Vec<(PathBuf, String)>,
    /// How trust wrote those digests (passed in: this room imports nothing of trust's).
    digest: fn(&[u8]) -> String,
}

static APPROVED: Mutex<Option<Approved>> = Mutex::new(None);

/// From now on in this process, a program inside `root` runs only if it is one of `files`
/// (path, digest) with that digest when it is spawned.
pub fn approve_repository(root: &Path, files: &[(PathBuf, String)], digest: fn(&[u8]) -> String) {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let approved = Approved {
        root: canonical(root),
        files: files
            .iter()
            .map(|(p, d)| (canonical(p), d.clone()))
            .collect(),
        digest,
    };
    *APPROVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(approved);
}

/// The file to spawn for `program` run in `dir` (None: ours): a bare name is looked up on `PATH`
/// once, a relative path is taken from `dir`. Refused when it is a file of the registered
/// repository that was not approved as it is now.
pub(super) fn checked_program(program: &Path, dir: Option<&Path>) -> Result<PathBuf, ProcessError> {
    let name = program.to_string_lossy();
    let found = if !name.contains('/') {
        super::on_path(&name).ok_or_else(|| ProcessError::NotInstalled {
            program: name.clone().into_owned(),
        })?
    } else {
        match dir {
            Some(dir) if program.is_relative() => dir.join(program),
            _ => program.to_path_buf(),
        }
    };
    // Absolute, so the file spawned is the file checked whatever directory the child starts in.
    let found = std::path::absolute(&found).unwrap_or(found);
    let guard = APPROVED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(approved) = guard.as_ref() else {
        return Ok(found);
    };
    let Ok(target) = std::fs::canonicalize(&found) else {
        // Nothing there: spawning it fails as it always did (not installed).
        return Ok(found);
    };
    if !of_repository(&found, &target, &approved.root) || beside_us(&target) {
        return Ok(found);
    }
    let now = std::fs::read(&target).map(|b| (approved.digest)(&b));
    let is_approved = approved
        .files
        .iter()
        .any(|(p, d)| *p == target && now.as_ref().is_ok_and(|now| now == d));
    if is_approved {
        Ok(found)
    } else {
        Err(ProcessError::NotApproved {
            program: name.into_owned(),
            file: target,
            repository: approved.root.clone(),
        })
    }
}

/// Is `path` (resolving to `target`) a file of the repository at `root` (both canonical)? Where
/// it resolves to, or a link that lives in the repository, wherever it points (a committed
/// `bin/pass -> /usr/bin/env` runs the repository's `bin/show`) — except one into the Nix store,
/// which is how Flox and nix put their packages in a project. Trust records what this says is
/// the repository's; the spawn check refuses it unless recorded.
pub fn of_repository(path: &Path, target: &Path, root: &Path) -> bool {
    let link_in_repository = path
        .parent()
        .and_then(|d| std::fs::canonicalize(d).ok())
        .is_some_and(|d| d.starts_with(root))
        && !target.starts_with("/nix/store/");
    target.starts_with(root) || link_in_repository
}

/// Our own executable (a keeper) or our helper `jit-secrets-net` beside it: part of the
/// jit-secrets the user runs, even when it was built inside the manifest's repository (a checkout
/// of jit-secrets itself), and not the manifest's code. Only those two: a `bin/pass` that sits
/// beside a `bin/jit-secrets` the repository ships is still the repository's code.
fn beside_us(target: &Path) -> bool {
    let Ok(ours) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return false;
    };
    target == ours
        || (ours.parent() == target.parent()
            && target.file_name() == Some(std::ffi::OsStr::new("jit-secrets-net")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_the_repository_runs_only_approved_and_unchanged() {
        let repo = tempfile::tempdir().unwrap();
        let named = repo.path().join("named");
        let other = repo.path().join("other");
        std::fs::write(&named, "#!/bin/sh\n").unwrap();
        std::fs::write(&other, "#!/bin/sh\n").unwrap();
        fn length(bytes: &[u8]) -> String {
            bytes.len().to_string()
        }
        approve_repository(
            repo.path(),
            &[(named.clone(), length(b"#!/bin/sh\n"))],
            length,
        );
        let check = |p: &Path, dir: Option<&Path>| checked_program(p, dir);
        let found = check(Path::new("./named"), Some(repo.path())).unwrap();
        assert!(found.is_absolute() && found.ends_with("named"), "{found:?}");
        assert!(matches!(
            check(&other, None),
            Err(ProcessError::NotApproved { file, .. }) if file == std::fs::canonicalize(&other).unwrap()
        ));
        std::fs::write(&named, "#!/bin/sh\necho edited\n").unwrap();
        assert!(check(&named, None).is_err(), "edited since approved");
        // Outside the repository: as given (made absolute), unchecked.
        assert_eq!(
            check(Path::new("/bin/sh"), None).unwrap(),
            Path::new("/bin/sh")
        );
    }

    #[test]
    fn only_our_executable_and_our_helper_are_exempt() {
        let ours = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
        let dir = ours.parent().unwrap();
        assert!(beside_us(&ours));
        assert!(beside_us(&dir.join("jit-secrets-net")));
        assert!(
            !beside_us(&dir.join("pass")),
            "a repository's bin/pass beside bin/jit-secrets"
        );
        assert!(!beside_us(Path::new("/elsewhere/jit-secrets-net")));
    }
}
