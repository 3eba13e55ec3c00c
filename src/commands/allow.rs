//! `jit-secrets allow [PATH]` / `deny [PATH]`: trust a manifest as it is now, or stop trusting it.
//! `allow` first shows everything the manifest will do, exactly: every entry's references in
//! order, every program with the path it resolves to, every identity, key file, password source,
//! plugin and `commands` override, and the scripts of the repository whose digests trust records.
//! Everything printed is escaped (`crate::printable`): a manifest cannot hide a line of it.

use super::EXIT_OK;
use crate::cli::{Global, TrustArgs};
use crate::manifest::{self, Entry, Manifest};
use crate::printable::{escaped, path as shown};
use crate::reference::{Reference, StoreKind};
use crate::run_context::{manifest_path, project_of, stores_context};
use std::io::Write;
use std::path::PathBuf;

fn target(global: &Global, args: &TrustArgs) -> anyhow::Result<PathBuf> {
    match &args.path {
        Some(p) if p.is_file() => Ok(crate::trust::as_reached(p)),
        Some(p) => Err(super::UsageError(format!("{}: no such manifest", shown(p))).into()),
        None => Ok(manifest_path(global)?),
    }
}

pub fn allow(global: &Global, args: TrustArgs) -> anyhow::Result<u8> {
    let path = target(global, &args)?;
    let text = manifest::read_text(&path)?;
    // Every profile's entries count: `--profile` may select any of them later.
    let parsed = manifest::parse(&path, &text)?;
    let code = crate::trust::code_files(&parsed);
    let mut out = std::io::stdout().lock();
    out.write_all(summary(global, &parsed, &code).as_bytes())?;
    crate::trust::allow(&path, text.as_bytes(), &code)?;
    writeln!(
        out,
        "allowed: jit-secrets may now act on it; an edit to it or to a script listed above (yours or a `git pull`) needs `jit-secrets allow` again"
    )?;
    Ok(EXIT_OK)
}

/// What `allow` shows before it records anything.
fn summary(global: &Global, parsed: &Manifest, code: &[PathBuf]) -> String {
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    let path = &parsed.path;
    line(format!("{} will, at every activation:", shown(path)));
    let target = crate::trust::canonical(path);
    if target != *path {
        line(format!(
            "  (reached through a symlink to {}: trust is recorded for the path above, and relative references resolve from {})",
            shown(&target),
            shown(path.parent().unwrap_or(path))
        ));
    }
    let ctx = stores_context(global, parsed);
    let profiles = parsed
        .profiles
        .iter()
        .flat_map(|(p, es)| es.iter().map(move |e| (Some(p), e)));
    let all: Vec<(Option<&String>, &Entry)> = parsed
        .entries
        .iter()
        .map(|e| (None, e))
        .chain(profiles)
        .collect();
    if all.is_empty() {
        line("  nothing (no entries)".into());
    }
    for (profile, entry) in all {
        let whose = match profile {
            Some(p) => format!("{} (profile {})", entry.name, escaped(p)),
            None => entry.name.clone(),
        };
        let chain: Vec<String> = entry.from.iter().map(|r| describe(r, &ctx)).collect();
        line(format!("  {whose}: {}", chain.join(", else ")));
        if !entry.only.is_empty() {
            let only: Vec<String> = entry.only.iter().map(|c| escaped(c).into_owned()).collect();
            line(format!(
                "    only for: {} (given to these commands when they start, never exported to the shell)",
                only.join(", ")
            ));
        }
    }
    let options = &parsed.options;
    if let Some(identity) = &options.identity {
        line(format!(
            "  decrypt age: files with the identity {}",
            shown(identity)
        ));
    }
    if let Some(from) = &options.keepassxc_password_from {
        line(format!(
            "  unlock KeePassXC databases with the password from {}",
            describe(from, &ctx)
        ));
    }
    if let Some(keyfile) = &options.keepassxc_keyfile {
        line(format!(
            "  unlock KeePassXC databases with the key file {}",
            shown(keyfile)
        ));
    }
    for (program, path) in &options.commands {
        line(format!(
            "  run {} wherever it runs `{}` (a `commands` override)",
            resolved(path),
            escaped(program)
        ));
    }
    if options.keyring_per_project {
        line(format!(
            "  keep keyring: items for this project only (keyring_scope = \"project\": {})",
            escaped(&project_of(parsed))
        ));
    }
    if !code.is_empty() {
        line("  programs and scripts of this repository it runs (their SHA-256 is recorded: a change to one needs `allow` again):".into());
        for file in code {
            line(format!("    {}", shown(file)));
        }
    }
    s
}

/// One reference as `allow` shows it: the reference as written, the store, and for programs the
/// path that will run.
fn describe(r: &Reference, ctx: &crate::context::Context) -> String {
    let written = escaped(&r.to_string()).into_owned();
    match r {
        Reference::Cmd { argv, .. } => {
            let program = ctx.command(&argv[0]);
            format!("run `{written}` (program: {})", resolved(&program))
        }
        Reference::Plugin { name, .. } => {
            let exe = crate::stores::plugin_executable(name, ctx)
                .map(|p| shown(&p))
                .unwrap_or_else(|| format!("not found: neither jit-secrets-plugin-{0} nor envref-backend-{0} is on PATH", escaped(name)));
            format!("ask the plugin {exe} for {written}")
        }
        _ if r.store() == StoreKind::Env => format!("copy {written}"),
        _ => format!("read {written} ({})", r.store().name()),
    }
}

/// A program as it will be found when run: its path, or that it is not found now.
fn resolved(program: &std::path::Path) -> String {
    let name = program.to_string_lossy();
    match crate::process::on_path(&name) {
        Some(p) => shown(&p),
        None => format!("{} (not found now)", shown(program)),
    }
}

pub fn deny(global: &Global, args: TrustArgs) -> anyhow::Result<u8> {
    let path = target(global, &args)?;
    if crate::trust::deny(&path)? {
        eprintln!("jit-secrets: {} is no longer trusted", shown(&path));
    } else {
        eprintln!(
            "jit-secrets: {} was not trusted; it is now marked denied",
            shown(&path)
        );
    }
    Ok(EXIT_OK)
}
