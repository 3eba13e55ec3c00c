//! `jit-secrets delete NAME [--yes]`: remove the item the entry reads.

use super::target::resolve_target;
use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{DeleteArgs, Global};
use crate::resolve::remove_value;
use std::io::{BufRead, IsTerminal, Write};

pub fn run(global: &Global, args: DeleteArgs) -> anyhow::Result<u8> {
    let target = resolve_target(global, &args.name, args.reference.as_deref())?;
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(UsageError(
                "not on a terminal: pass --yes to delete without asking".into(),
            )
            .into());
        }
        eprint!("Delete {} from {}? [y/N] ", args.name, target.reference);
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("jit-secrets: nothing deleted");
            return Ok(EXIT_OK);
        }
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
