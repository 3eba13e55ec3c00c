//! `jit-secrets setup`: a newcomer's first run. Every secret is resolved as `activate` does;
//! each required one that is missing, and whose first `from` can be written, is asked for on the
//! terminal (hidden, twice, with its description) and stored exactly as `set` stores it.
//! Optional ones are offered with "skip" as the default. Store errors are reported, never
//! prompted over. Nothing is stored until every answer is in: Ctrl-D stores nothing.

use super::{EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{Global, SetupArgs};
use crate::manifest::Entry;
use crate::reference::Reference;
use crate::resolve::{resolve, write_value, EntryResult, Status};
use crate::run_context::{Needs, RunContext};
use crate::secret::SecretValue;

/// Can `set` (and so `setup`) store a value where `reference` reads it?
pub fn writable(reference: &Reference) -> bool {
    crate::stores::store_for(reference.store()).can_write_to(reference)
}

/// Missing secrets `setup` could fill: not found anywhere, first `from` writable.
pub fn fillable<'a>(results: &'a [EntryResult<'a>]) -> impl Iterator<Item = &'a Entry> + 'a {
    results
        .iter()
        .filter(|r| matches!(r.status, Status::Missing))
        .map(|r| r.entry)
        .filter(|e| writable(&e.from[0]))
}

pub fn run(global: &Global, args: SetupArgs) -> anyhow::Result<u8> {
    let run = RunContext::build(global, Needs::trusted())?;
    let (manifest, ctx) = (&run.manifest, &run.ctx);
    let only = super::only_known(manifest, &args.only)?;
    let resolution = resolve(manifest, only, ctx);
    // Store errors and secrets nobody can fill here are reported, not prompted over.
    let failed = resolution.results.iter().any(|r| {
        matches!(r.status, Status::Failed { .. } | Status::Invalid { .. })
            || (matches!(r.status, Status::Missing)
                && r.entry.required
                && !writable(&r.entry.from[0]))
    });
    let reported: Vec<&EntryResult> = resolution
        .results
        .iter()
        .filter(|r| !matches!(r.status, Status::Missing) || !writable(&r.entry.from[0]))
        .collect();
    for r in reported {
        eprint!("{}", super::describe_problem(r, &resolution));
        // A chain whose first member cannot be written (`env:` before `pass:`): name the one
        // that can, and the command that stores it there.
        let member = super::target::writable_member(r.entry).filter(|m| **m != r.entry.from[0]);
        if let (Status::Missing, Some(member)) = (&r.status, member) {
            eprintln!("  or: {}", super::target::chain_fix(&r.entry.name, member));
        }
    }
    let missing: Vec<&Entry> = fillable(&resolution.results).collect();
    if missing.is_empty() {
        if failed {
            return Ok(EXIT_SECRET_FAILURE);
        }
        eprintln!("jit-secrets: every secret resolves; nothing to set up");
        return Ok(EXIT_OK);
    }
    if global.no_prompt || !crate::tty::available() {
        eprintln!("jit-secrets: missing (no terminal to ask on; store each, then activate again):");
        for e in &missing {
            let what = e.description.as_deref().unwrap_or("");
            let optional = if e.required { "" } else { " (optional)" };
            eprintln!(
                "  {}{optional} {what}\n    jit-secrets set {}   # stores it in {}",
                e.name, e.name, e.from[0]
            );
        }
        return Ok(EXIT_SECRET_FAILURE);
    }
    // Ask everything first: an interrupted setup (Ctrl-D) stores nothing.
    let mut answers: Vec<(&Entry, SecretValue)> = Vec::new();
    for e in &missing {
        match ask(e)? {
            Answer::Value(v) => answers.push((e, v)),
            Answer::Skip => eprintln!("  skipped {}", e.name),
            Answer::End => {
                eprintln!("jit-secrets: setup ended; nothing stored");
                return Ok(EXIT_SECRET_FAILURE);
            }
        }
    }
    let mut all_stored = true;
    for (e, value) in &answers {
        let reference = &e.from[0];
        let timeout = e.timeout.unwrap_or(manifest.options.timeout);
        match write_value(reference, value, timeout, ctx) {
            Ok(()) => eprintln!("jit-secrets: stored {} in {reference}", e.name),
            Err(err) => {
                let mut scrub = crate::secret::Scrubber::new();
                scrub.add(value.expose());
                eprint!(
                    "{}",
                    super::describe_store_error(&e.name, reference, &err, &scrub)
                );
                all_stored = false;
            }
        }
    }
    let skipped_required = missing
        .iter()
        .any(|e| e.required && !answers.iter().any(|(a, _)| a.name == e.name));
    if all_stored && !failed && !skipped_required {
        eprintln!("jit-secrets: set up; activate to load them");
        Ok(EXIT_OK)
    } else {
        Ok(EXIT_SECRET_FAILURE)
    }
}

enum Answer {
    Value(SecretValue),
    Skip,
    End,
}

/// Asks for one secret, hidden, twice; again when the two differ. An optional secret's empty
/// answer skips it.
fn ask(e: &Entry) -> anyhow::Result<Answer> {
    let about = e
        .description
        .as_deref()
        .map(|d| format!(" — {d}"))
        .unwrap_or_default();
    let optional = if e.required {
        ""
    } else {
        " (optional: Enter skips)"
    };
    loop {
        let Some(first) =
            crate::tty::prompt_hidden_or_end(&format!("{}{about}{optional}: ", e.name))?
        else {
            return Ok(Answer::End);
        };
        if first.is_empty() {
            if !e.required {
                return Ok(Answer::Skip);
            }
            eprintln!(
                "  {} is required: type its value (Ctrl-D ends setup)",
                e.name
            );
            continue;
        }
        let Some(again) = crate::tty::prompt_hidden_or_end("Again: ")? else {
            return Ok(Answer::End);
        };
        if first == again {
            return Ok(Answer::Value(SecretValue::new(first.to_vec())));
        }
        eprintln!("  the two values differ; again");
    }
}

/// `report_problems` for `activate`: on a terminal, when setup could fill what is missing, one
/// more line names it.
pub fn hint_after_failure(results: &[EntryResult]) {
    use std::io::IsTerminal;
    let could_fill = fillable(results).any(|e| e.required);
    if could_fill && std::io::stderr().is_terminal() {
        eprintln!("run: jit-secrets setup");
    }
}
