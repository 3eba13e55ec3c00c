//! `jit-secrets add NAME REF [--optional] [--timeout 10s]`: add or replace one entry in place.

use super::{UsageError, EXIT_OK};
use crate::cli::{AddArgs, Global};
use crate::manifest::parse_duration;
use crate::manifest_edit::{lock, read, secrets_table, validate, write_edit};
use crate::reference::Reference;
use crate::run_context::{Needs, RunContext};
use toml_edit::{value, InlineTable, Item, Value};

pub fn run(global: &Global, args: AddArgs) -> anyhow::Result<u8> {
    // Validate everything before touching the file.
    if let Some(problem) = crate::manifest::name_problem(&args.name) {
        return Err(UsageError(problem).into());
    }
    let reference =
        Reference::parse(&args.reference).map_err(|e| UsageError(format!("{}: {e}", args.name)))?;
    if let Some(t) = &args.timeout {
        parse_duration(t).map_err(|e| UsageError(format!("--timeout: {e}")))?;
    }
    let manifest = RunContext::build(global, Needs::read_only())?.manifest;
    // From the read to the write: another edit of this manifest waits for ours.
    let _lock = lock(&manifest.path)?;
    let (old, mut doc) = read(&manifest.path)?;
    let table = secrets_table(&mut doc, manifest.home).expect("the manifest was read with it");
    let replaced = match table.get_mut(&args.name) {
        Some(existing) if !args.replace => {
            let shown = existing
                .as_value()
                .map(|v| v.to_string().trim().to_string())
                .unwrap_or_else(|| {
                    format!(
                        "[{}.{}]",
                        manifest.home.table_name().trim_matches(['[', ']']),
                        args.name
                    )
                });
            return Err(UsageError(format!(
                "{} is already in {} ({}); nothing written\n  fix: pass --replace to change its reference, keeping its other settings",
                args.name,
                crate::printable::path(&manifest.path),
                crate::printable::escaped(&shown)
            ))
            .into());
        }
        Some(existing) => {
            replace_in_place(existing, &args);
            true
        }
        None => {
            table.insert(&args.name, new_entry(&args));
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
        crate::printable::path(&manifest.path)
    );
    Ok(EXIT_OK)
}

/// A new entry: the reference alone, or a table when --optional or --timeout say more.
fn new_entry(args: &AddArgs) -> Item {
    if !args.optional && args.timeout.is_none() {
        return value(args.reference.as_str());
    }
    let mut t = InlineTable::new();
    t.insert("from", args.reference.as_str().into());
    if args.optional {
        t.insert("required", false.into());
    }
    if let Some(timeout) = &args.timeout {
        t.insert("timeout", timeout.as_str().into());
    }
    Item::Value(Value::InlineTable(t))
}

/// `--replace`: a table entry (inline or `[secrets.NAME]`) gets the new `from` (and what
/// --optional and --timeout say) and keeps every other key, its comments and layout; a bare
/// reference is replaced in place, keeping its comment.
fn replace_in_place(existing: &mut Item, args: &AddArgs) {
    if let Some(table) = existing.as_table_like_mut() {
        set_keeping_comment(table, "from", value(args.reference.as_str()));
        if args.optional {
            set_keeping_comment(table, "required", value(false));
        }
        if let Some(timeout) = &args.timeout {
            set_keeping_comment(table, "timeout", value(timeout.as_str()));
        }
        return;
    }
    let decor = existing.as_value().map(|v| v.decor().clone());
    *existing = new_entry(args);
    if let (Some(decor), Some(v)) = (decor, existing.as_value_mut()) {
        *v.decor_mut() = decor;
    }
}

/// Sets `key`, keeping the comment and spacing around its old value.
fn set_keeping_comment(table: &mut dyn toml_edit::TableLike, key: &str, item: Item) {
    let decor = table
        .get(key)
        .and_then(Item::as_value)
        .map(|v| v.decor().clone());
    table.insert(key, item);
    if let (Some(decor), Some(v)) = (decor, table.get_mut(key).and_then(Item::as_value_mut)) {
        *v.decor_mut() = decor;
    }
}
