//! `jit-secrets allow [PATH]` / `deny [PATH]`: trust a manifest as it is now, or stop trusting it.
//! `allow` first shows everything the manifest will do, exactly: every entry's references in
//! order, every program with the path it resolves to, every identity, key file, password source,
//! plugin and `commands` override, and the scripts of the repository whose digests trust records.
//! Everything printed is escaped (`crate::printable`): a manifest cannot hide a line of it.

use super::EXIT_OK;
use crate::cli::{Global, TrustArgs};
use crate::manifest::{self, Entry, LeaseKind, LeaseSpec, Manifest, RevokeWhen};
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
    let leases: Vec<(Option<&String>, &LeaseSpec)> = parsed
        .leases
        .iter()
        .map(|l| (None, l))
        .chain(
            parsed
                .profile_leases
                .iter()
                .flat_map(|(p, ls)| ls.iter().map(move |l| (Some(p), l))),
        )
        .collect();
    if all.is_empty() && leases.is_empty() {
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
    for (profile, lease) in leases {
        for text in lease_lines(profile, lease, &ctx) {
            line(text);
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
        line("  programs and scripts of this repository it runs, named by path or found on PATH now (hashed as the repository's code: their SHA-256 is recorded, a change to one needs `allow` again; jit-secrets starts no other program of the repository for it):".into());
        for file in code {
            line(format!("    {}", shown(file)));
        }
    }
    s
}

/// One lease as `allow` shows it: what it mints (the settings that choose it), with which master
/// credential, what runs (every program with every argument and the path it resolves to), what
/// the keeper passes on. Every manifest string is escaped.
fn lease_lines(
    profile: Option<&String>,
    lease: &LeaseSpec,
    ctx: &crate::context::Context,
) -> Vec<String> {
    let e = |t: &str| escaped(t).into_owned();
    let whose = match profile {
        Some(p) => format!(" (profile {})", e(p)),
        None => String::new(),
    };
    let revoke = match lease.revoke {
        RevokeWhen::OnExit => "revoked when the last shell that received it exits",
        RevokeWhen::OnExpiry => "left to expire",
    };
    let mut out = vec![format!(
        "  lease {}{whose}: mint a {} credential, {revoke}",
        e(&lease.name),
        lease.kind.name()
    )];
    out.extend(kind_lines(lease));
    for (part, reference) in &lease.master {
        out.push(format!(
            "    master.{}: {}",
            e(part),
            describe(reference, ctx)
        ));
    }
    if lease.master.is_empty() && !matches!(lease.kind, LeaseKind::Command { .. }) {
        out.push("    master: the CLI's signed-in account / the environment's credentials".into());
    }
    out
}

/// The settings that choose what a lease mints, one line each (its kind's own).
fn kind_lines(lease: &LeaseSpec) -> Vec<String> {
    let e = |t: &str| escaped(t).into_owned();
    let mut out = Vec::new();
    let mut setting = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.push(format!("    {k}: {}", e(v)));
        }
    };
    match &lease.kind {
        LeaseKind::AwsSts {
            role_arn,
            session_name,
            external_id,
            mfa_serial,
            region,
        } => {
            if role_arn.is_none() {
                setting("role_arn", &Some("none (GetSessionToken)".into()));
            }
            setting("role_arn", role_arn);
            setting("session_name", session_name);
            setting("external_id", external_id);
            setting("mfa_serial", mfa_serial);
            setting("region", region);
        }
        LeaseKind::Vault {
            path,
            policies,
            ttl,
        } => {
            setting("path", path);
            if path.is_none() {
                let policies: Vec<String> = policies.iter().map(|p| e(p)).collect();
                setting(
                    "token",
                    &Some(format!(
                        "a child token, policies [{}], ttl {}",
                        policies.join(", "),
                        ttl.map(|t| crate::time::human(t.as_secs() as i64))
                            .unwrap_or_else(|| "as the lease's duration".into())
                    )),
                );
            }
        }
        LeaseKind::Gcp {
            impersonate,
            scopes,
        } => {
            setting("impersonate_service_account", impersonate);
            if !scopes.is_empty() {
                let scopes: Vec<String> = scopes.iter().map(|s| e(s)).collect();
                setting("scopes", &Some(scopes.join(", ")));
            }
        }
        LeaseKind::Azure { resource, tenant } => {
            setting("resource", &Some(resource.clone()));
            setting("tenant", tenant);
        }
        LeaseKind::GithubApp(app) => out.extend(github_app_lines(app)),
        LeaseKind::Command {
            command,
            revoke_command,
        } => {
            out.push(format!("    command: {}", program_line(command)));
            if let Some(revoke) = revoke_command {
                out.push(format!("    revoke_command: {}", program_line(revoke)));
            }
            if !lease.revoke_env.is_empty() {
                let names: Vec<String> = lease.revoke_env.iter().map(|n| e(n)).collect();
                out.push(format!(
                    "    revoke_env: {} (passed from the activating shell to the keeper, for revoke_command)",
                    names.join(", ")
                ));
            }
        }
    }
    out
}

/// A `github-app` lease's settings: the App, its installation, the narrowing, the API.
fn github_app_lines(app: &crate::manifest::GithubApp) -> Vec<String> {
    let mut out = Vec::new();
    let mut setting = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.push(format!("    {k}: {}", escaped(v)));
        }
    };
    setting("app_id", &Some(app.app_id.clone()));
    match &app.installation {
        crate::manifest::Installation::Id(id) => setting("installation_id", &Some(id.to_string())),
        crate::manifest::Installation::Owner(owner) => setting("owner", &Some(owner.clone())),
    }
    if !app.repositories.is_empty() {
        setting("repositories", &Some(app.repositories.join(", ")));
    }
    if !app.repository_ids.is_empty() {
        let ids: Vec<String> = app.repository_ids.iter().map(u64::to_string).collect();
        setting("repository_ids", &Some(ids.join(", ")));
    }
    if !app.permissions.is_empty() {
        let permissions: Vec<String> = app
            .permissions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        setting("permissions", &Some(permissions.join(", ")));
    }
    setting("api_url", &Some(app.api_url.clone()));
    out
}

/// A lease's program: every argument, escaped, and the path it resolves to.
fn program_line(argv: &[String]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| escaped(&shell_words::quote(w)).into_owned())
        .collect();
    format!(
        "run `{}` (program: {})",
        words.join(" "),
        resolved(std::path::Path::new(&argv[0]))
    )
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
