//! `jit-secrets list`: what is declared and where from. Never a value; never contacts a store.

use super::EXIT_OK;
use crate::cli::{Global, ListArgs};
use crate::manifest::RevokeWhen;
use crate::run_context::{Needs, RunContext};
use std::io::Write;

pub fn run(global: &Global, args: ListArgs) -> anyhow::Result<u8> {
    let manifest = RunContext::build(global, Needs::read_only())?.manifest;
    let mut out = std::io::stdout().lock();
    if args.json {
        let secrets = manifest.entries.iter().map(|e| {
            serde_json::json!({
                "type": "secret",
                "name": e.name,
                "from": e.from.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                "stores": e.from.iter().map(|r| r.store().name()).collect::<Vec<_>>(),
                "required": e.required,
                "description": e.description,
                "only": e.only,
            })
        });
        // Leases after the secrets, so `.[0]` is still the first secret.
        let leases = manifest.leases.iter().map(|lease| {
            serde_json::json!({
                "type": "lease",
                "name": lease.name,
                "kind": lease.kind.name(),
                "required": lease.required,
                "revoke": revoke_word(lease.revoke),
                // null: the variables are only known once the lease exists (a command's output,
                // a vault read's fields).
                "exports": lease.exports().map(|e| e.into_keys().collect::<Vec<_>>()),
            })
        });
        let items: Vec<serde_json::Value> = secrets.chain(leases).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(EXIT_OK);
    }
    writeln!(
        out,
        "# {} ({}{})",
        crate::printable::path(&manifest.path),
        manifest.home.table_name(),
        manifest
            .profile
            .as_deref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default()
    )?;
    let width = manifest
        .entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:width$}  {:8}  {:18}  FROM",
        "NAME", "REQUIRED", "STORE"
    )?;
    for e in &manifest.entries {
        let stores: Vec<&str> = e.from.iter().map(|r| r.store().name()).collect();
        let from: Vec<String> = e
            .from
            .iter()
            .map(|r| crate::printable::escaped(&r.to_string()).into_owned())
            .collect();
        writeln!(
            out,
            "{:width$}  {:8}  {:18}  {}",
            e.name,
            if e.required { "yes" } else { "no" },
            stores.join(" → "),
            from.join(" → ")
        )?;
        if !e.only.is_empty() {
            let only: Vec<String> = e
                .only
                .iter()
                .map(|c| crate::printable::escaped(c).into_owned())
                .collect();
            writeln!(
                out,
                "{:width$}  only for: {} (not exported to the shell)",
                "",
                only.join(", ")
            )?;
        }
        if let Some(d) = &e.description {
            writeln!(out, "{:width$}  {}", "", crate::printable::escaped(d))?;
        }
    }
    for lease in &manifest.leases {
        let vars = lease
            .exports()
            .map(|e| e.into_keys().collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| {
                format!(
                    "{}_<FIELD> for each field",
                    lease.name.to_uppercase().replace('-', "_")
                )
            });
        let vars = match lease.kind {
            crate::manifest::LeaseKind::Command { .. } if lease.exports.is_none() => {
                "the variables its command prints".to_string()
            }
            _ => vars,
        };
        writeln!(
            out,
            "lease {} ({}{}, {}): {}",
            lease.name,
            lease.kind.name(),
            if lease.required { "" } else { ", optional" },
            match lease.revoke {
                RevokeWhen::OnExit => "revoked on exit",
                RevokeWhen::OnExpiry => "expires",
            },
            vars
        )?;
    }
    Ok(EXIT_OK)
}

/// As the manifest spells it (`revoke = "on-exit"`).
fn revoke_word(when: RevokeWhen) -> &'static str {
    match when {
        RevokeWhen::OnExit => "on-exit",
        RevokeWhen::OnExpiry => "on-expiry",
    }
}
