//! `jit-secrets rotate NAME`: a fresh random value written to the entry's store. Nothing of the
//! value is printed; the value reaches the store through memory or a child's stdin only.

use super::target::resolve_write_target;
use super::{EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{Global, RotateArgs};
use crate::generate::random_value;

pub fn run(global: &Global, args: RotateArgs) -> anyhow::Result<u8> {
    let target = resolve_write_target(global, &args.name, None)?;
    // A typo here destroys a token the issuer may never show again: say what is replaced, and
    // whether the store keeps the old value, before asking.
    let store = target.reference.store().name();
    let history = match crate::resolve::keeps_history(&target.reference, &target.ctx) {
        Some(kept) => format!("the old value stays readable: {kept}"),
        None => format!("{store} keeps no history: the current value will be gone for good"),
    };
    let question = format!(
        "Rotate {} in {} ({store})? {history}.",
        args.name, target.reference
    );
    if !super::confirm_to(&question, args.yes, "rotate")? {
        eprintln!("jit-secrets: nothing rotated");
        return Ok(EXIT_OK);
    }
    let value = random_value(args.length.into(), args.charset)
        .map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
    if !target.write_or_report(&args.name, &value) {
        return Ok(EXIT_SECRET_FAILURE);
    }
    eprintln!(
        "jit-secrets: rotated {}: a new {}-character {:?} value is in {} ({})",
        args.name,
        args.length,
        args.charset,
        target.reference,
        target.reference.store().name()
    );
    eprintln!("  shells activated before now still hold the old value: `jit-secrets verify` reports them as stale; activate again to pick it up");
    eprintln!("  anything that checks this secret (the service it unlocks) must be given the new value too");
    Ok(EXIT_OK)
}
