//! `jit-secrets cache list|clear [--all]`: what the memory-only cache holds (never a value), and
//! dropping it.

use super::EXIT_OK;
use crate::cache::{self, Listed};
use crate::cli::{CacheCommand, Global};
use crate::run_context::{Needs, RunContext};
use std::io::Write;

pub fn run(global: &Global, command: CacheCommand) -> anyhow::Result<u8> {
    let all = match command {
        CacheCommand::List { all } | CacheCommand::Clear { all } => all,
    };
    // This manifest's entries need this manifest (and, as every command that touches what
    // stores returned, its trust); --all needs none.
    let manifest = if all {
        None
    } else {
        Some(crate::trust::as_reached(
            &RunContext::build(global, Needs::trusted())?.manifest.path,
        ))
    };
    let listed: Vec<Listed> = cache::list_all()
        .map_err(|why| anyhow::anyhow!("{why}: there is no cache here"))?
        .into_iter()
        .filter(|l| {
            manifest
                .as_ref()
                .is_none_or(|m| l.manifest == m.display().to_string())
        })
        .collect();
    match command {
        CacheCommand::List { .. } => {
            let mut out = std::io::stdout().lock();
            for l in &listed {
                let store = crate::reference::Reference::parse(&l.reference)
                    .map(|r| r.store().name())
                    .unwrap_or("?");
                let left = cache::remaining(l);
                write!(
                    out,
                    "{}\t{store}\t{}m{:02}s left",
                    l.entry,
                    left / 60,
                    left % 60
                )?;
                if all {
                    write!(out, "\t{}", l.manifest)?;
                }
                writeln!(out)?;
            }
            if listed.is_empty() {
                eprintln!("jit-secrets: nothing cached");
            }
        }
        CacheCommand::Clear { .. } => {
            for l in &listed {
                cache::remove(l.serial);
            }
            eprintln!("jit-secrets: dropped {} cached value(s)", listed.len());
        }
    }
    Ok(EXIT_OK)
}
