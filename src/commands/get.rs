//! `jit-secrets get NAME [-n]`: print one secret's value, for scripts (`$(jit-secrets get DB_URL)`).
//! Trust, the profile and the cache work as for `activate`. The value is printed even on a
//! terminal: asking for one value by name is the request to see it.

use super::{report_problems, UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{GetArgs, Global};
use crate::manifest::{Entry, Manifest};
use crate::resolve::{resolve, Status};
use crate::run_context::{Needs, RunContext};
use std::io::Write;

pub fn run(global: &Global, args: GetArgs) -> anyhow::Result<u8> {
    super::target::refuse_assignment(&args.name)?;
    let needs = Needs::trusted()
        .cache(crate::cache::Mode::Use)
        .refusing(|manifest| printable_entry(manifest, &args.name).map(|_| ()));
    let run = RunContext::build(global, needs)?;
    let manifest = &run.manifest;
    let entry = printable_entry(manifest, &args.name)?;
    let only = [entry.name.clone()];
    let resolution = resolve(manifest, Some(&only), &run.ctx);
    report_problems(&resolution);
    let Some(result) = resolution.results.first() else {
        return Ok(EXIT_SECRET_FAILURE);
    };
    let Status::Found { value, .. } = &result.status else {
        if matches!(result.status, Status::Missing) && !entry.required {
            // The warning above says it is missing; a script must still not take "" for it.
            eprintln!(
                "jit-secrets: {}: nothing to print (optional, not found)",
                entry.name
            );
        }
        return Ok(EXIT_SECRET_FAILURE);
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(value.expose())?;
    if !args.no_newline {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()?;
    Ok(EXIT_OK)
}

/// The entry `get` prints: `name` in `manifest`, not scoped (`only`); a usage error otherwise.
fn printable_entry<'m>(manifest: &'m Manifest, name: &str) -> anyhow::Result<&'m Entry> {
    let Some(entry) = manifest.entries.iter().find(|e| e.name == name) else {
        let known: Vec<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
        return Err(UsageError(format!(
            "no secret named {} in {} (known: {})",
            crate::printable::escaped(name),
            crate::printable::path(&manifest.path),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
        .into());
    };
    // A scoped value is meant for its commands alone; printing it would hand it to whatever
    // reads our stdout, which is what `only` exists to prevent.
    if !entry.is_unscoped() {
        return Err(UsageError(format!(
            "{} is scoped to {} (`only`): it goes to those commands alone, and `get` does not print it\n  fix: `jit-secrets run -- {} …`, or remove `only` from the entry if any program may have it",
            entry.name,
            entry.only.join(", "),
            entry.only[0]
        ))
        .into());
    }
    Ok(entry)
}
