//! `jit-secrets lease list|revoke|renew`: the live leases (never a value), revoking them now,
//! renewing one.

use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE, EXIT_USAGE};
use crate::cli::{Global, LeaseCommand};
use crate::lease::{self, record::Stored};
use crate::printable::escaped;
use crate::run_context::{Needs, RunContext};
use std::io::Write;
use std::time::Duration;

pub fn run(global: &Global, command: LeaseCommand) -> anyhow::Result<u8> {
    match command {
        LeaseCommand::List { all } => list(global, all),
        LeaseCommand::Revoke { name, all } => revoke(global, name, all),
        LeaseCommand::Renew { name } => renew(global, &name),
    }
}

/// The leases of this manifest, or every one of ours. Listing and revoking need no trust: they
/// run nothing of the manifest's and contact only what the records name (approved when each
/// lease was made), so the leases of a manifest edited since — not allowed again yet — can still
/// be revoked.
fn stored(
    global: &Global,
    all: bool,
) -> anyhow::Result<(Option<crate::manifest::Manifest>, Vec<Stored>)> {
    let manifest = if all {
        None
    } else {
        Some(RunContext::build(global, Needs::read_only())?.manifest)
    };
    let found = lease::list(manifest.as_ref().map(|m| m.path.as_path())).map_err(|why| {
        anyhow::anyhow!("{why}: leases are kept in the kernel keyring, which is not available here")
    })?;
    Ok((manifest, found))
}

fn list(global: &Global, all: bool) -> anyhow::Result<u8> {
    let (_, found) = stored(global, all)?;
    let mut out = std::io::stdout().lock();
    for s in &found {
        let r = &s.record;
        let retired = if s.description.contains('~') {
            " (replaced)"
        } else {
            ""
        };
        let mut revocation = match (r.revocable, r.on_exit) {
            (false, _) => "cannot be revoked: expires".to_string(),
            (true, true) => "revoked on exit".to_string(),
            (true, false) => "revoked at expiry".to_string(),
        };
        if r.revocable && r.revocation.changed_program().is_some() {
            revocation = "revoke program changed since allow: not run, expires".to_string();
        }
        // A keeper killed with SIGKILL: said, then mended (a new keeper, or revoked now).
        match lease::tend_orphan(s) {
            None => {}
            Some(lease::Orphan::KeeperStarted) => {
                revocation.push_str(" (orphaned: its keeper was gone; a new one watches it)")
            }
            Some(lease::Orphan::Revoked) => {
                revocation = "orphaned: its keeper was gone and no holder lives; revoked now".into()
            }
            Some(lease::Orphan::NotRevoked(why)) => {
                revocation = format!("orphaned: its keeper was gone and no holder lives; {why}")
            }
        }
        let holders = if r.on_exit {
            let live: Vec<String> = r.live_holders().iter().map(|h| h.pid.to_string()).collect();
            if live.is_empty() {
                "holders: none".to_string()
            } else {
                format!("holders: {}", live.join(","))
            }
        } else {
            "holders: not tracked".to_string()
        };
        write!(
            out,
            "{}{retired}\t{}\t{}\texpires {} ({} left)\t{revocation}\t{holders}",
            escaped(&r.name),
            escaped(&r.kind),
            escaped(&r.id),
            crate::time::format_rfc3339(r.expires),
            crate::time::human(r.seconds_left()),
        )?;
        if all {
            write!(out, "\t{}", escaped(&r.manifest))?;
        }
        writeln!(out)?;
    }
    if found.is_empty() {
        eprintln!("jit-secrets: no live lease");
    }
    Ok(EXIT_OK)
}

fn revoke(global: &Global, name: Option<String>, all: bool) -> anyhow::Result<u8> {
    let (manifest, mut found) = stored(global, all)?;
    if let (Some(name), Some(manifest)) = (&name, &manifest) {
        if !manifest.leases.iter().any(|l| &l.name == name) {
            return Err(no_such_lease(manifest, name).into());
        }
        found.retain(|s| &s.record.name == name);
    }
    if found.is_empty() {
        eprintln!("jit-secrets: no live lease to revoke");
        return Ok(EXIT_OK);
    }
    let timeout = manifest
        .as_ref()
        .map(|m| m.options.timeout)
        .unwrap_or(Duration::from_secs(30));
    let mut code = EXIT_OK;
    for s in found {
        let (name, kind) = (
            escaped(&s.record.name).into_owned(),
            escaped(&s.record.kind).into_owned(),
        );
        // Not approved as it is now: not run, and a usage problem (exit 2) — the user's fix.
        let changed = s.record.revocable && s.record.revocation.changed_program().is_some();
        match lease::revoke(s, timeout) {
            Ok(true) => eprintln!("jit-secrets: lease {name} ({kind}) revoked"),
            Ok(false) => eprintln!(
                "jit-secrets: lease {name} ({kind}) forgotten: {kind} credentials cannot be revoked, so they stay valid until they expire (shells that hold them keep them)"
            ),
            Err(e) => {
                code = code.max(if changed { EXIT_USAGE } else { EXIT_SECRET_FAILURE });
                eprintln!("jit-secrets: error: lease {name} ({kind}): cannot revoke: {}", e.message);
                if let Some(fix) = &e.fix {
                    eprintln!("  fix: {fix}");
                }
            }
        }
    }
    Ok(code)
}

fn renew(global: &Global, name: &str) -> anyhow::Result<u8> {
    let needs = Needs::trusted().leases(lease::Mode::Renew, lease::activation_holder());
    let mut run = RunContext::build(global, needs)?;
    let manifest = &mut run.manifest;
    let Some(index) = manifest.leases.iter().position(|l| l.name == name) else {
        return Err(no_such_lease(manifest, name).into());
    };
    let spec = manifest.leases.swap_remove(index);
    manifest.leases = vec![spec];
    manifest.entries.clear();
    let resolution =
        crate::resolve::resolve_with_leases(&run.manifest, None, &run.ctx, run.lease_settings());
    super::report_problems(&resolution);
    let Some(acquired) = resolution.leases.first() else {
        return Ok(EXIT_SECRET_FAILURE);
    };
    match &acquired.outcome {
        Ok(granted) => {
            let _ = writeln!(
                std::io::stderr(),
                "jit-secrets: lease {name} renewed: {} until {} (shells activated from now on get it)",
                granted.id,
                crate::time::format_rfc3339(granted.expires)
            );
            Ok(EXIT_OK)
        }
        Err(_) => Ok(EXIT_SECRET_FAILURE),
    }
}

/// `NAME` is not a lease of `manifest`: a usage error naming the ones it has.
fn no_such_lease(manifest: &crate::manifest::Manifest, name: &str) -> UsageError {
    let known: Vec<&str> = manifest.leases.iter().map(|l| l.name.as_str()).collect();
    UsageError(format!(
        "no lease `{name}` in {} (known: {})",
        crate::printable::path(&manifest.path),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}
