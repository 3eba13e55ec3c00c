//! Editing the manifest in place (`init`, `add`, `remove`): comments, order and layout outside the
//! edited entry stay byte for byte, and the file is replaced atomically (temp file in the same
//! directory, fsync, rename) so a crash never leaves half a manifest.

use crate::manifest::{parse, Home, ManifestError};
use std::io::Write;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table};

/// Flox's manifest schema that introduced `[plugins]`.
pub const FLOX_PLUGINS_SCHEMA: &str = "1.14.0";

pub fn read(path: &Path) -> Result<(String, DocumentMut), ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let doc = text
        .parse::<DocumentMut>()
        .map_err(|e| ManifestError::Whole {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok((text, doc))
}

/// Writes an edit made by `init`, `add` or `remove`: atomically, and a manifest that was trusted
/// before the edit (`old`), or that this write creates (`old` is `None`), is trusted after it.
pub fn write_edit(path: &Path, old: Option<&str>, text: &str) -> anyhow::Result<()> {
    write_atomically(path, text)?;
    let code = |text: &str| {
        parse(path, text)
            .map(|m| crate::trust::code_files(&m))
            .unwrap_or_default()
    };
    match old {
        Some(old) => crate::trust::keep_trusted_after_edit(
            path,
            old.as_bytes(),
            text.as_bytes(),
            &code(old),
            &code(text),
        )?,
        None => crate::trust::allow(path, text.as_bytes(), &code(text))?,
    }
    Ok(())
}

/// The file an edit of `path` writes: through a symlink to its target, so the link stays a link.
pub fn edited_file(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Held from an edit's read to its write (`init`, `add`, `remove`): concurrent edits of one
/// manifest take turns instead of losing each other's entries. The lock is on the directory of
/// the file written (the file itself is replaced by rename).
pub fn lock(path: &Path) -> std::io::Result<crate::file_lock::FileLock> {
    let file = edited_file(path);
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::file_lock::FileLock::exclusive_dir(dir)
}

/// Writes `text` to `path`, through a symlink to its target, keeping the file's owner, group,
/// mode and hard links: atomically (temp file in the same directory, fsync, rename) unless the
/// file has other hard links, which a rename would cut — then in place.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let path = &edited_file(path);
    let meta = std::fs::metadata(path).ok();
    if meta.as_ref().is_some_and(|m| m.nlink() > 1) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        return f.sync_all();
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "manifest.toml".into());
    let tmp = dir.join(format!(".{name}.jit-secrets-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        if let Some(meta) = &meta {
            f.set_permissions(meta.permissions())?;
            // Another user's manifest (edited as root, or in a shared group directory) stays
            // theirs; if it cannot, nothing is written.
            // SAFETY: geteuid and getegid have no preconditions.
            let ours = unsafe { (libc::geteuid(), libc::getegid()) };
            if (meta.uid(), meta.gid()) != ours {
                std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
            }
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if meta.is_some() {
            std::fs::rename(&tmp, path)
        } else {
            // A new file: a link fails if one appeared meanwhile — or, on a case-insensitive
            // volume, if Julia's `Manifest.toml` is there — where a rename would replace it.
            std::fs::hard_link(&tmp, path).and_then(|()| std::fs::remove_file(&tmp))
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The secrets table of a parsed document, mutable.
pub fn secrets_table(doc: &mut DocumentMut, home: Home) -> Option<&mut dyn toml_edit::TableLike> {
    match home {
        Home::Secrets => doc.get_mut("secrets")?.as_table_like_mut(),
        Home::FloxPlugin => doc
            .get_mut("plugins")?
            .as_table_like_mut()?
            .get_mut("jit-secrets")?
            .as_table_like_mut(),
    }
}

/// Adds the empty table for `home`; false if it was there already.
pub fn add_table(doc: &mut DocumentMut, home: Home) -> bool {
    match home {
        Home::Secrets => {
            if doc.contains_key("secrets") {
                return false;
            }
            doc.insert("secrets", Item::Table(Table::new()));
        }
        Home::FloxPlugin => {
            if !doc.contains_key("plugins") {
                let mut plugins = Table::new();
                plugins.set_implicit(true);
                doc.insert("plugins", Item::Table(plugins));
            }
            let Some(plugins) = doc["plugins"].as_table_like_mut() else {
                return false;
            };
            if plugins.contains_key("jit-secrets") {
                return false;
            }
            plugins.insert("jit-secrets", Item::Table(Table::new()));
        }
    }
    true
}

/// Compares dotted versions like "1.10.0" numerically.
pub fn version_lt(a: &str, b: &str) -> bool {
    let parse = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a) < parse(b)
}

/// Re-parses the edited text with the real parser, so an edit can never produce a manifest that
/// `activate` would reject.
pub fn validate(path: &Path, text: &str) -> Result<(), ManifestError> {
    parse(path, text).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_lt("1.9.0", "1.14.0"));
        assert!(!version_lt("1.14.0", "1.14.0"));
        assert!(!version_lt("1.19.0", "1.14.0"));
    }

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("manifest.toml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
