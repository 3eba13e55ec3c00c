//! `jit-secrets forget [--global] [--yes]`: delete the keyring items this manifest owns — its
//! project-scoped `keyring:` items (`keyring_scope = "project"`), and with `--global` the global
//! `keyring:` items it references — after listing them and asking (on a terminal; `--yes`
//! otherwise). Nothing else is touched.

use super::{EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{ForgetArgs, Global};
use crate::reference::{Reference, StoreKind};
use crate::resolve::remove_value;
use crate::run_context::{Needs, RunContext};

pub fn run(global: &Global, args: ForgetArgs) -> anyhow::Result<u8> {
    let run = RunContext::build(global, Needs::trusted())?;
    let (manifest, scoped) = (&run.manifest, &run.ctx);
    let mut unscoped = run.fresh_context();
    unscoped.keyring_project = None;
    let mut references: Vec<&Reference> = manifest
        .entries
        .iter()
        .chain(manifest.profiles.values().flatten())
        .flat_map(|e| &e.from)
        .filter(|r| r.store() == StoreKind::Keyring)
        .collect();
    references.sort();
    references.dedup();
    // (reference, whose items: this project's or global, the context that finds them)
    let mut targets = Vec::new();
    for r in &references {
        if scoped.keyring_project.is_some() {
            targets.push((*r, "this project's item", scoped));
        }
        if args.global {
            targets.push((*r, "the global item", &unscoped));
        }
    }
    if targets.is_empty() {
        eprintln!(
            "jit-secrets: nothing to forget: {} has no project-scoped keyring: items (keyring_scope = \"project\"){}",
            crate::printable::path(&manifest.path),
            if args.global { ", nor keyring: references" } else { "; --global forgets the global items it references" }
        );
        return Ok(EXIT_OK);
    }
    eprintln!("jit-secrets: forget deletes:");
    let mut any = false;
    for (r, whose, ctx) in &targets {
        match crate::resolve::removal_preview(r, manifest.options.timeout, ctx) {
            Ok(items) if items.is_empty() => eprintln!("  {r} ({whose}): nothing stored"),
            Ok(items) => {
                any = true;
                for item in items {
                    eprintln!("  {r} ({whose}): {item}");
                }
            }
            Err(e) => {
                eprint!(
                    "{}",
                    super::describe_store_error("forget", r, &e, &Default::default())
                );
                return Ok(EXIT_SECRET_FAILURE);
            }
        }
    }
    if !any {
        eprintln!("jit-secrets: nothing to delete");
        return Ok(EXIT_OK);
    }
    if !super::confirm("Delete them?", args.yes)? {
        eprintln!("jit-secrets: nothing deleted");
        return Ok(EXIT_OK);
    }
    let mut deleted = 0;
    let mut failed = false;
    for (r, _, ctx) in &targets {
        match remove_value(r, manifest.options.timeout, ctx) {
            Ok(n) => deleted += n,
            Err(e) => {
                failed = true;
                eprint!(
                    "{}",
                    super::describe_store_error("forget", r, &e, &Default::default())
                );
            }
        }
    }
    eprintln!("jit-secrets: deleted {deleted} keyring item(s)");
    Ok(if failed { EXIT_SECRET_FAILURE } else { EXIT_OK })
}
