//! `jit-secrets run -- CMD…`: exec CMD with the secrets in its environment. No shell is involved,
//! and CMD does not start if any secret fails.

use super::{context, load_manifest, report_problems, EXIT_SECRET_FAILURE};
use crate::cli::{Global, RunArgs};
use crate::process;
use crate::resolve::resolve;

pub fn run(global: &Global, args: RunArgs) -> anyhow::Result<u8> {
    let manifest = load_manifest(global)?;
    let ctx = context(global, &manifest);
    let resolution = resolve(&manifest, None, &ctx);
    report_problems(&resolution);
    if resolution.has_fatal() {
        eprintln!(
            "jit-secrets: `{}` not started",
            args.command[0].to_string_lossy()
        );
        return Ok(EXIT_SECRET_FAILURE);
    }
    let env: Vec<(String, &[u8])> = resolution
        .results
        .iter()
        .filter_map(|r| r.value().map(|v| (r.entry.name.clone(), v.expose())))
        .collect();
    let err = process::exec_replacing(&args.command, &env);
    // exec returned: the command could not start. 127/126 as shells do.
    let program = args.command[0].to_string_lossy();
    if err.kind() == std::io::ErrorKind::NotFound {
        eprintln!("jit-secrets: error: `{program}`: command not found");
        Ok(127)
    } else {
        eprintln!("jit-secrets: error: cannot run `{program}`: {err}");
        Ok(126)
    }
}
