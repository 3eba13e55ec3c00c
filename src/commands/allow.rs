//! `jit-secrets allow [PATH]` / `deny [PATH]`: trust a manifest as it is now, or stop trusting it.
//! `allow` first shows what the manifest will do: the stores it reads, the programs it runs.

use super::{manifest_path, EXIT_OK};
use crate::cli::{Global, TrustArgs};
use crate::manifest;
use crate::reference::{Reference, StoreKind};
use std::collections::BTreeMap;
use std::io::Write;

fn target(global: &Global, args: &TrustArgs) -> anyhow::Result<std::path::PathBuf> {
    match &args.path {
        Some(p) if p.is_file() => Ok(p.clone()),
        Some(p) => Err(super::UsageError(format!("{}: no such manifest", p.display())).into()),
        None => Ok(manifest_path(global)?),
    }
}

pub fn allow(global: &Global, args: TrustArgs) -> anyhow::Result<u8> {
    let path = target(global, &args)?;
    let text = manifest::read_text(&path)?;
    // Every profile's entries count: `--profile` may select any of them later.
    let parsed = manifest::parse(&path, &text)?;
    let mut reads: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut programs: Vec<(String, &Reference)> = Vec::new();
    let all = parsed.entries.iter().map(|e| (None, e)).chain(
        parsed
            .profiles
            .iter()
            .flat_map(|(p, es)| es.iter().map(move |e| (Some(p), e))),
    );
    for (profile, entry) in all {
        for r in &entry.from {
            match r.store() {
                StoreKind::Cmd | StoreKind::Plugin => programs.push((
                    match profile {
                        Some(p) => format!("{} (profile {p})", entry.name),
                        None => entry.name.clone(),
                    },
                    r,
                )),
                kind => reads.entry(kind.name()).or_default().push(&entry.name),
            }
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} will, at every activation:",
        crate::trust::canonical(&path).display()
    )?;
    if reads.is_empty() && programs.is_empty() {
        writeln!(out, "  nothing (no entries)")?;
    }
    for (store, names) in &reads {
        let mut names = names.clone();
        names.dedup();
        writeln!(out, "  read from {store}: {}", names.join(", "))?;
    }
    for (name, r) in &programs {
        match r {
            Reference::Plugin { name: plugin, .. } => writeln!(
                out,
                "  run the plugin jit-secrets-plugin-{plugin} (or envref-backend-{plugin}) for {name}: {r}"
            )?,
            _ => writeln!(out, "  run a program for {name}: {r}")?,
        }
    }
    if let Some(from) = &parsed.options.keepassxc_password_from {
        writeln!(out, "  read KeePassXC databases' password from {from}")?;
    }
    if !parsed.options.commands.is_empty() {
        for (program, path) in &parsed.options.commands {
            writeln!(out, "  run `{}` as `{program}`", path.display())?;
        }
    }
    crate::trust::allow(&path, text.as_bytes())?;
    writeln!(
        out,
        "allowed: jit-secrets may now act on it; an edit to it (yours or a `git pull`) needs `jit-secrets allow` again"
    )?;
    Ok(EXIT_OK)
}

pub fn deny(global: &Global, args: TrustArgs) -> anyhow::Result<u8> {
    let path = target(global, &args)?;
    if crate::trust::deny(&path)? {
        eprintln!(
            "jit-secrets: {} is no longer trusted",
            crate::trust::canonical(&path).display()
        );
    } else {
        eprintln!(
            "jit-secrets: {} was not trusted; nothing to do",
            crate::trust::canonical(&path).display()
        );
    }
    Ok(EXIT_OK)
}
