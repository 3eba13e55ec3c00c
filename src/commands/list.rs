//! `jit-secrets list`: what is declared and where from. Never a value; never contacts a store.

use super::{load_manifest, EXIT_OK};
use crate::cli::{Global, ListArgs};
use std::io::Write;

pub fn run(global: &Global, args: ListArgs) -> anyhow::Result<u8> {
    let manifest = load_manifest(global)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let items: Vec<serde_json::Value> = manifest
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.name,
                    "from": e.from.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                    "stores": e.from.iter().map(|r| r.store().name()).collect::<Vec<_>>(),
                    "required": e.required,
                    "description": e.description,
                    "only": e.only,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(EXIT_OK);
    }
    writeln!(
        out,
        "# {} ({}{})",
        manifest.path.display(),
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
                crate::manifest::RevokeWhen::OnExit => "revoked on exit",
                crate::manifest::RevokeWhen::OnExpiry => "expires",
            },
            vars
        )?;
    }
    Ok(EXIT_OK)
}
