//! `jit-secrets delete NAME [--yes]`: remove the item the entry reads.

use super::target::resolve_target;
use super::{EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{DeleteArgs, Global};
use crate::resolve::{removal_preview, remove_value};

pub fn run(global: &Global, args: DeleteArgs) -> anyhow::Result<u8> {
    let target = resolve_target(global, &args.name, args.reference.as_deref())?;
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
