//! `jit-secrets init [--flox]`: add an empty secrets table to the manifest, keeping the rest.

use super::{UsageError, EXIT_OK};
use crate::cli::{Global, InitArgs};
use crate::manifest::{self, Home, ManifestError};
use crate::manifest_edit::{
    add_table, read, validate, version_lt, write_edit, FLOX_PLUGINS_SCHEMA,
};
use std::path::PathBuf;

pub fn run(global: &Global, args: InitArgs) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir()?;
    let path = if args.flox {
        match manifest::discover(global.manifest.as_deref(), |k| std::env::var_os(k), &cwd) {
            Ok(p) if p.ends_with(".flox/env/manifest.toml") => p,
            _ => return Err(UsageError(
                "no Flox environment found here (.flox/env/manifest.toml); run `flox init` first"
                    .into(),
            )
            .into()),
        }
    } else {
        match manifest::discover(global.manifest.as_deref(), |k| std::env::var_os(k), &cwd) {
            Ok(p) => p,
            // None here (or the path --manifest names does not exist yet): create it.
            Err(ManifestError::NotFound { .. }) if global.manifest.is_none() => {
                return create(&PathBuf::from("manifest.toml"))
            }
            Err(ManifestError::Missing { path, .. }) => return create(&path),
            Err(e) => return Err(e.into()),
        }
    };
    let _lock = crate::manifest_edit::lock(&path)?;
    let flox = args.flox || path.ends_with(".flox/env/manifest.toml");
    let home = if flox {
        Home::FloxPlugin
    } else {
        Home::Secrets
    };
    let (old, mut doc) = read(&path)?;
    if flox && doc.contains_key("secrets") {
        return Err(UsageError(format!(
            "{} has a top-level [secrets] table, which Flox rejects; rename it to [plugins.jit-secrets]",
            crate::printable::path(&path)
        ))
        .into());
    }
    let mut notes = Vec::new();
    if flox {
        // [plugins] needs schema-version 1.14.0; older schemas would reject it.
        match doc.get("schema-version").and_then(|v| v.as_str()).map(str::to_string) {
            Some(v) if version_lt(&v, FLOX_PLUGINS_SCHEMA) => {
                doc["schema-version"] = toml_edit::value(FLOX_PLUGINS_SCHEMA);
                notes.push(format!("raised schema-version from {v} to {FLOX_PLUGINS_SCHEMA} ([plugins] needs Flox 1.14)"));
            }
            Some(_) => {}
            None => notes.push(format!(
                "this manifest uses `version = 1`; Flox migrates it to schema-version {FLOX_PLUGINS_SCHEMA} when it sees [plugins] (needs Flox 1.14 or later)"
            )),
        }
    }
    if !add_table(&mut doc, home) {
        eprintln!(
            "jit-secrets: {} already has a {} table",
            crate::printable::path(&path),
            home.table_name()
        );
        return Ok(EXIT_OK);
    }
    let text = doc.to_string();
    validate(&path, &text)?;
    write_edit(&path, Some(&old), &text)?;
    eprintln!(
        "jit-secrets: added {} to {}",
        home.table_name(),
        crate::printable::path(&path)
    );
    for n in notes {
        eprintln!("  note: {n}");
    }
    Ok(EXIT_OK)
}

/// A new manifest with an empty `[secrets]` table, trusted (we wrote it). Never over an existing
/// file: on a case-insensitive volume (macOS) Julia's `Manifest.toml` answers to `manifest.toml`.
fn create(path: &std::path::Path) -> anyhow::Result<u8> {
    let text = "# References to secrets, never values: see `jit-secrets --help`.\n[secrets]\n";
    match write_edit(path, None, text) {
        Ok(()) => {}
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists) =>
        {
            return Err(UsageError(format!(
                "{}: a file of that name, ignoring case, is already here (Julia's Manifest.toml?); nothing written\n  fix: name another file: jit-secrets --manifest secrets.toml init",
                crate::printable::path(path)
            ))
            .into())
        }
        Err(e) => return Err(e),
    }
    eprintln!(
        "jit-secrets: created {} with an empty [secrets] table",
        crate::printable::path(path)
    );
    eprintln!(
        "  next: jit-secrets add GITHUB_TOKEN keyring:github-token && jit-secrets set GITHUB_TOKEN"
    );
    Ok(EXIT_OK)
}
