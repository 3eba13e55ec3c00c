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
/// per-user temporary directory), created 0700 — unless another user took that name first (it
/// is a shared directory), then `~/.local/state/jit-secrets`: a squatter must not be able to
/// switch off scoped commands or lease keepers. (Nothing there is secret: symlinks to our
/// binary and empty lock files.)
pub fn base_dir() -> PathBuf {
    let uid = unsafe { libc::getuid() };
    let run_user = PathBuf::from(format!("/run/user/{uid}"));
    let run_user_owner = std::fs::metadata(&run_user).ok().map(|m| m.uid());
    let temp = std::env::temp_dir().join(format!("jit-secrets-{uid}"));
    let temp_taken = std::fs::symlink_metadata(&temp).is_ok_and(|m| !m.is_dir() || m.uid() != uid);
    choose_base(
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        (run_user, run_user_owner),
        uid,
        (temp, temp_taken),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// [`base_dir`]'s choice, given what it found: `XDG_RUNTIME_DIR` (used when absolute),
/// `/run/user/UID` and its owner if it exists, our uid, our directory in the temporary
/// directory and whether someone else holds its name, and `$HOME`.
fn choose_base(
    xdg: Option<PathBuf>,
    (run_user, run_user_owner): (PathBuf, Option<u32>),
    uid: u32,
    (temp, temp_taken): (PathBuf, bool),
    home: Option<PathBuf>,
) -> PathBuf {
    // A directory with `:` in its name cannot be put on PATH (it would split there): passed over.
    let usable = |d: &PathBuf| d.is_absolute() && !d.as_os_str().as_encoded_bytes().contains(&b':');
    let runtime = xdg
        .filter(usable)
        .or_else(|| (run_user_owner == Some(uid)).then_some(run_user));
    let home = home.filter(usable);
    match (runtime, home) {
        (Some(dir), _) => dir.join("jit-secrets").join("scoped"),
        (None, Some(home)) if temp_taken => home.join(".local/state/jit-secrets/scoped"),
        (None, _) => temp.join("scoped"),
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
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    let uid = unsafe { libc::getuid() };
    let base = base_dir();
    let top = base.parent().unwrap_or(&base).to_path_buf();
    // `~/.local/state` may not exist yet (the runtime and temporary directories always do).
    if let Some(above) = top.parent().filter(|a| !a.exists()) {
        std::fs::create_dir_all(above)?;
    }
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
        // A listed name stays (it is replaced below, atomically, if it points elsewhere).
        let keep = names.iter().any(|n| OsStr::new(n) == name);
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
    // The base never holds `:` (see `choose_base`); should `join_paths` fail anyway, PATH is
    // kept as it was rather than replaced by the scope directory alone.
    std::env::join_paths(dirs).unwrap_or_else(|_| path.to_owned())
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
        // Not a command a scope directory could hold: not proxy mode either.
        assert_eq!(invoked_as(OsStr::new("-x")), None);
        assert_eq!(invoked_as(OsStr::new("..")), None);
    }

    /// `base_dir` reads `XDG_RUNTIME_DIR`: the tests that set it run one at a time.
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn with_runtime_dir<T>(f: impl FnOnce(&Path) -> T) -> T {
        let _one_at_a_time = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("js-scoped-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        // SAFETY: tests touching the environment hold ENV.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        let result = f(&dir);
        unsafe { std::env::remove_var("XDG_RUNTIME_DIR") };
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn the_directory_holds_exactly_one_current_link_per_scoped_command() {
        with_runtime_dir(|run| {
            let dir = dir_for(Path::new("/p/manifest.toml"));
            assert!(dir.starts_with(run.join("jit-secrets/scoped")));
            assert_ne!(dir, dir_for(Path::new("/q/manifest.toml")));
            let old = Path::new("/old/jit-secrets");
            let new = Path::new("/new/jit-secrets");
            populate(&dir, &["gh", "git"], old).unwrap();
            std::fs::write(dir.join("stray"), "").unwrap();
            populate(&dir, &["gh", "npm"], new).unwrap();
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            assert_eq!(names, ["gh", "npm"]);
            assert_eq!(std::fs::read_link(dir.join("gh")).unwrap(), new);
            for d in [
                run.join("jit-secrets"),
                dir.parent().unwrap().to_path_buf(),
                dir.clone(),
            ] {
                let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "{}", d.display());
            }
        });
    }

    #[test]
    fn a_directory_others_can_open_or_a_symlink_is_refused() {
        with_runtime_dir(|run| {
            let dir = dir_for(Path::new("/p/manifest.toml"));
            std::fs::DirBuilder::new()
                .mode(0o755)
                .create(run.join("jit-secrets"))
                .unwrap();
            std::fs::set_permissions(
                run.join("jit-secrets"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            assert!(populate(&dir, &["gh"], Path::new("/x")).is_err());
            std::fs::remove_dir(run.join("jit-secrets")).unwrap();
            let elsewhere = run.join("elsewhere");
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&elsewhere)
                .unwrap();
            std::os::unix::fs::symlink(&elsewhere, run.join("jit-secrets")).unwrap();
            assert!(populate(&dir, &["gh"], Path::new("/x")).is_err());
            assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        });
    }

    #[test]
    fn the_real_program_is_found_past_the_scope_directory_and_never_this_binary() {
        with_runtime_dir(|run| {
            let scope = dir_for(Path::new("/p/manifest.toml"));
            let me = std::env::current_exe().unwrap();
            populate(&scope, &["tool"], &me).unwrap();
            let mine = run.join("mine");
            let real = run.join("real");
            let not_executable = run.join("plain");
            for d in [&mine, &real, &not_executable] {
                std::fs::create_dir(d).unwrap();
            }
            std::os::unix::fs::symlink(&me, mine.join("tool")).unwrap();
            std::fs::write(not_executable.join("tool"), "").unwrap();
            std::fs::write(real.join("tool"), "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(real.join("tool"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
            let path = std::env::join_paths([&scope, &mine, &not_executable, &real]).unwrap();
            assert_eq!(find_real("tool", &path), Some(real.join("tool")));
            let path = std::env::join_paths([&scope, &mine]).unwrap();
            assert_eq!(find_real("tool", &path), None);
        });
    }

    #[test]
    fn the_base_is_the_runtime_directory_else_ours_under_run_user_else_temp() {
        let run = |owner| (PathBuf::from("/run/user/7"), owner);
        let tmp = |taken| (PathBuf::from("/tmp/jit-secrets-7"), taken);
        let home = || Some(PathBuf::from("/home/u"));
        assert_eq!(
            choose_base(Some("/xdg".into()), run(Some(7)), 7, tmp(false), home()),
            PathBuf::from("/xdg/jit-secrets/scoped")
        );
        // A relative XDG_RUNTIME_DIR is ignored, as the spec says.
        assert_eq!(
            choose_base(Some("rel".into()), run(Some(7)), 7, tmp(false), home()),
            PathBuf::from("/run/user/7/jit-secrets/scoped")
        );
        // /run/user/UID only when it is ours.
        assert_eq!(
            choose_base(None, run(Some(0)), 7, tmp(false), home()),
            PathBuf::from("/tmp/jit-secrets-7/scoped")
        );
        assert_eq!(
            choose_base(None, run(None), 7, tmp(false), home()),
            PathBuf::from("/tmp/jit-secrets-7/scoped")
        );
        // Another user holds our name in the temporary directory: our own home instead.
        assert_eq!(
            choose_base(None, run(None), 7, tmp(true), home()),
            PathBuf::from("/home/u/.local/state/jit-secrets/scoped")
        );
        // (With no usable home, the taken name is refused later, by `private_dir`.)
        assert_eq!(
            choose_base(None, run(None), 7, tmp(true), Some("rel".into())),
            PathBuf::from("/tmp/jit-secrets-7/scoped")
        );
        // One with `:` cannot go on PATH: the next choice (outside review: PATH became the scope
        // directory alone, and empty after unloading).
        assert_eq!(
            choose_base(Some("/r:un".into()), run(Some(7)), 7, tmp(false), home()),
            PathBuf::from("/run/user/7/jit-secrets/scoped")
        );
        assert_eq!(
            choose_base(
                Some("/r:un".into()),
                run(None),
                7,
                tmp(true),
                Some("/h:u".into())
            ),
            PathBuf::from("/tmp/jit-secrets-7/scoped")
        );
        // The runtime directory is the user's own: a taken temporary name does not matter.
        assert_eq!(
            choose_base(Some("/xdg".into()), run(None), 7, tmp(true), home()),
            PathBuf::from("/xdg/jit-secrets/scoped")
        );
    }

    #[test]
    fn each_scoped_command_is_listed_once_in_order() {
        let m = crate::manifest::parse(
            Path::new("/p/manifest.toml"),
            "[secrets]\nA = { from = \"env:X\", only = [\"gh\", \"git\"] }\nB = \"env:Y\"\nC = { from = \"env:Z\", only = [\"git\", \"npm\"] }\n",
        )
        .unwrap();
        assert_eq!(commands_of(&m), ["gh", "git", "npm"]);
    }

    #[test]
    fn a_second_activation_replaces_the_scope_directory_instead_of_stacking() {
        let _one_at_a_time = ENV.lock().unwrap_or_else(|e| e.into_inner());
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
