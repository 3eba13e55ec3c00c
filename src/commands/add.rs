//! `jit-secrets add NAME REF [--optional] [--timeout 10s]`: add or replace one entry in place.

use super::{load_manifest, UsageError, EXIT_OK};
use crate::cli::{AddArgs, Global};
use crate::manifest::parse_duration;
use crate::manifest_edit::{read, secrets_table, validate, write_edit};
use crate::reference::Reference;
use toml_edit::{value, InlineTable, Item, Value};

pub fn run(global: &Global, args: AddArgs) -> anyhow::Result<u8> {
    // Validate everything before touching the file.
    if let Some(problem) = crate::manifest::name_problem(&args.name) {
        return Err(UsageError(problem).into());
    }
    let reference = Reference::parse(&args.reference)
        .map_err(|e| UsageError(format!("{}: {e}", args.reference)))?;
    if let Some(t) = &args.timeout {
        parse_duration(t).map_err(|e| UsageError(format!("--timeout: {e}")))?;
    }
    let manifest = load_manifest(global)?;
    let (old, mut doc) = read(&manifest.path)?;
    let table = secrets_table(&mut doc, manifest.home).expect("load_manifest found the table");
    let item = if args.optional || args.timeout.is_some() {
        let mut t = InlineTable::new();
        t.insert("from", args.reference.as_str().into());
        if args.optional {
            t.insert("required", false.into());
        }
        if let Some(timeout) = &args.timeout {
            t.insert("timeout", timeout.as_str().into());
        }
        Item::Value(Value::InlineTable(t))
    } else {
        value(args.reference.as_str())
    };
    let replaced = match table.get_mut(&args.name) {
        // In place: the key keeps its position and the comments around it.
        Some(existing) => {
            let decor = existing.as_value().map(|v| v.decor().clone());
            *existing = item;
            if let (Some(decor), Some(v)) = (decor, existing.as_value_mut()) {
                *v.decor_mut() = decor;
            }
            true
        }
        None => {
            table.insert(&args.name, item);
            false
        }
    };
    let text = doc.to_string();
    // The edited text is not on disk yet: its line numbers would point at nothing the user can
    // open, so the error names the entry and the problem instead.
    validate(&manifest.path, &text).map_err(|e| {
        UsageError(format!(
            "{}: nothing written: with this entry it would not be valid: {}",
            crate::printable::path(&manifest.path),
            e.message()
        ))
    })?;
    write_edit(&manifest.path, Some(&old), &text)?;
    eprintln!(
        "jit-secrets: {} {} = {} ({}) in {}",
        if replaced { "replaced" } else { "added" },
        args.name,
        reference,
        reference.store().name(),
        manifest.path.display()
    );
    Ok(EXIT_OK)
}
