//! `jit-secrets delete NAME [--yes]`: remove the item the entry reads.

use super::target::resolve_target;
use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{DeleteArgs, Global};
use crate::resolve::{removal_preview, remove_value};

pub fn run(global: &Global, args: DeleteArgs) -> anyhow::Result<u8> {
    let target = resolve_target(global, &args.name, args.reference.as_deref())?;
    // A store we do not delete from (a `file:`, an `env:`, a cloud store) is refused first, as a
    // usage error: nothing is contacted, and nothing is listed as if it were about to go.
    if let Some(refusal) = crate::stores::remove_refusal(&target.reference) {
        let removable_member = target
            .writable_in_chain
            .as_ref()
            .filter(|m| crate::stores::remove_refusal(m).is_none());
        let fix = match removable_member {
            Some(member) => Some(format!(
                "its chain's member {member} can be deleted: `jit-secrets delete {} --ref {member}`",
                args.name
            )),
            None => refusal.fix,
        }
        .map(|f| format!("\n  fix: {f}"))
        .unwrap_or_default();
        return Err(UsageError(format!(
            "{}: {}: {}{fix}",
            args.name, target.reference, refusal.message
        ))
        .into());
    }
    // Say exactly what would go before asking (a keyring lookup names the items it matches).
    let items = match removal_preview(&target.reference, target.timeout, &target.ctx) {
        Ok(items) => items,
        Err(e) => {
            eprint!(
                "{}",
                super::describe_store_error(&args.name, &target.reference, &e, &Default::default())
            );
            return Ok(EXIT_SECRET_FAILURE);
        }
    };
    if items.is_empty() {
        eprintln!(
            "jit-secrets: {}: nothing stored at {}",
            args.name, target.reference
        );
        return Ok(EXIT_OK);
    }
    eprintln!("jit-secrets: delete removes:");
    for item in &items {
        eprintln!("  {item}");
    }
    if !super::confirm(
        &format!("Delete {} from {}?", args.name, target.reference),
        args.yes,
    )? {
        eprintln!("jit-secrets: nothing deleted");
        return Ok(EXIT_OK);
    }
    match remove_value(&target.reference, target.timeout, &target.ctx) {
        Ok(0) => {
            eprintln!(
                "jit-secrets: {}: nothing stored at {}",
                args.name, target.reference
            );
            Ok(EXIT_OK)
        }
        Ok(n) => {
            eprintln!(
                "jit-secrets: deleted {} ({} item{} at {})",
                args.name,
                n,
                if n == 1 { "" } else { "s" },
                target.reference
            );
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprint!(
                "{}",
                super::describe_store_error(&args.name, &target.reference, &e, &Default::default())
            );
            Ok(EXIT_SECRET_FAILURE)
        }
    }
}
