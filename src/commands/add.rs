//! `jit-secrets add NAME REF [--optional] [--timeout 10s]`: add or replace one entry in place.

use super::{load_manifest, UsageError, EXIT_OK};
use crate::cli::{AddArgs, Global};
use crate::manifest::parse_duration;
use crate::manifest_edit::{read, secrets_table, validate, write_edit};
use crate::reference::{is_valid_env_name, Reference};
use toml_edit::{value, InlineTable, Item, Value};

pub fn run(global: &Global, args: AddArgs) -> anyhow::Result<u8> {
    // Validate everything before touching the file.
    if !is_valid_env_name(&args.name) || args.name == "options" {
        return Err(UsageError(format!(
            "`{}` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)",
            args.name
        ))
        .into());
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
    validate(&manifest.path, &text)?;
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
