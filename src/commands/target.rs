//! Which reference `set` and `delete` act on: `--ref`, else the entry's first `from`.

use super::UsageError;
use crate::cli::Global;
use crate::context::Context;
use crate::manifest::{ManifestError, DEFAULT_TIMEOUT};
use crate::reference::Reference;
use crate::resolve::write_value;
use crate::run_context::{Needs, RunContext};
use crate::secret::{Scrubber, SecretValue};
use std::time::Duration;

pub struct Target {
    pub reference: Reference,
    pub ctx: Context,
    pub timeout: Duration,
    /// Without `--ref`, when the entry's first `from` is not writable: the first later member
    /// of its chain that is (`from = ["env:CI_API_KEY", "pass:app/api"]`), for the message.
    pub writable_in_chain: Option<Reference>,
}

/// The first member of `entry`'s chain a write could store (`set`, `setup`).
pub fn writable_member(entry: &crate::manifest::Entry) -> Option<&Reference> {
    entry.from.iter().find(|r| super::setup::writable(r))
}

/// The fix for a chain whose first member cannot be written but a later one can.
pub fn chain_fix(name: &str, member: &Reference) -> String {
    format!("its chain's writable member is {member}: `jit-secrets set {name} --ref {member}`")
}

/// `set NAME=VALUE` (the shell habit): refused without the part after `=`, which is likely
/// the value and must not be printed back.
pub fn refuse_assignment(name: &str) -> Result<(), UsageError> {
    match name.split_once('=') {
        Some((before, _)) => Err(UsageError(format!(
            "`{}=…`: a value is never taken from the command line, where shell history and `ps` see it (the rest is not shown); nothing was done\n  fix: `jit-secrets set {}` and type it at the hidden prompt, or pipe it in: `printf %s \"$VALUE\" | jit-secrets set {}`",
            crate::printable::escaped(before),
            crate::printable::escaped(before),
            crate::printable::escaped(before)
        ))),
        None => Ok(()),
    }
}

pub fn resolve_target(
    global: &Global,
    name: &str,
    explicit: Option<&str>,
) -> anyhow::Result<Target> {
    refuse_assignment(name)?;
    // With --ref the manifest is optional: it only contributes options (CLI paths, timeout). A
    // manifest that is there but not trusted is still refused: its `commands` name programs.
    let run = match (explicit, RunContext::build(global, Needs::trusted())) {
        (_, Ok(run)) => Some(run),
        (Some(_), Err(e)) if e.downcast_ref::<ManifestError>().is_some() => None,
        (_, Err(e)) => return Err(e),
    };
    let entry = run
        .as_ref()
        .and_then(|run| run.manifest.entries.iter().find(|e| e.name == name));
    let reference = match (explicit, entry) {
        (Some(text), _) => Reference::parse(text).map_err(|e| UsageError(format!("--ref: {e}")))?,
        (None, Some(e)) => e.from[0].clone(),
        (None, None) => {
            let m = &run.as_ref().expect("loaded above").manifest;
            return Err(UsageError(format!(
                "no secret named {name} in {}; add it first (e.g. `{name} = \"keyring:{}\"`) or pass --ref",
                crate::printable::path(&m.path),
                name.to_lowercase().replace('_', "-")
            ))
            .into());
        }
    };
    let timeout = entry
        .and_then(|e| e.timeout)
        .or(run.as_ref().map(|run| run.manifest.options.timeout))
        .unwrap_or(DEFAULT_TIMEOUT);
    let writable_in_chain = match (explicit, entry) {
        (None, Some(e)) => writable_member(e).filter(|r| **r != e.from[0]).cloned(),
        _ => None,
    };
    let ctx = match run {
        Some(run) => run.ctx,
        None => {
            crate::process::allow_prompts(!global.no_prompt);
            Context::new(Default::default(), global.no_prompt)
        }
    };
    Ok(Target {
        reference,
        ctx,
        timeout,
        writable_in_chain,
    })
}

/// [`resolve_target`] for a write (`set`, `rotate`): a store jit-secrets cannot write to is
/// refused before any value is asked for or generated, as a usage error (exit 2).
pub fn resolve_write_target(
    global: &Global,
    name: &str,
    explicit: Option<&str>,
) -> anyhow::Result<Target> {
    let target = resolve_target(global, name, explicit)?;
    if let Some(refusal) = crate::stores::write_refusal(&target.reference) {
        let fix = match &target.writable_in_chain {
            Some(member) => Some(chain_fix(name, member)),
            None => refusal.fix,
        }
        .map(|f| format!("\n  fix: {f}"))
        .unwrap_or_default();
        return Err(UsageError(format!(
            "{name}: {}: {}{fix}",
            target.reference, refusal.message
        ))
        .into());
    }
    Ok(target)
}

impl Target {
    /// Writes `value` where the target reads it; on failure prints the store's error, scrubbed of
    /// the value being written, and returns false.
    pub fn write_or_report(&self, name: &str, value: &SecretValue) -> bool {
        match write_value(&self.reference, value, self.timeout, &self.ctx) {
            Ok(()) => true,
            Err(e) => {
                let mut scrub = Scrubber::new();
                scrub.add(value.expose());
                eprint!(
                    "{}",
                    super::describe_store_error(name, &self.reference, &e, &scrub)
                );
                false
            }
        }
    }
}
