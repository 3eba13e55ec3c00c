//! `jit-secrets remove NAME`: delete one entry from the manifest (not the stored value: see `delete`).

use super::{UsageError, EXIT_OK};
use crate::cli::{Global, RemoveArgs};
use crate::manifest_edit::{lock, read, secrets_table, validate, write_edit};
use crate::run_context::{Needs, RunContext};

pub fn run(global: &Global, args: RemoveArgs) -> anyhow::Result<u8> {
    let manifest = RunContext::build(global, Needs::read_only())?.manifest;
    let _lock = lock(&manifest.path)?;
    let (old, mut doc) = read(&manifest.path)?;
    let table = secrets_table(&mut doc, manifest.home).expect("the manifest was read with it");
    if args.name == "options" || table.remove(&args.name).is_none() {
        let known: Vec<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
        return Err(UsageError(format!(
            "no secret named {} (known: {})",
            args.name,
            known.join(", ")
        ))
        .into());
    }
    let text = doc.to_string();
    validate(&manifest.path, &text)?;
    write_edit(&manifest.path, Some(&old), &text)?;
    eprintln!("jit-secrets: removed {} from {} (the stored value is untouched: `jit-secrets delete` removes that)", args.name, crate::printable::path(&manifest.path));
    Ok(EXIT_OK)
}
