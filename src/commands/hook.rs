//! `jit-secrets hook TARGET [--auto]`: print the integration snippet (the files in hooks/), or
//! with `--auto` the shell's load-on-cd hook (the templates in src/shell/auto/).

use super::{EXIT_OK, EXIT_USAGE};
use crate::cli::{HookArgs, HookTarget};
use clap::ValueEnum;
use std::io::Write;

pub fn snippet(target: HookTarget) -> &'static str {
    match target {
        HookTarget::Flox => include_str!("../../hooks/flox.toml"),
        HookTarget::FloxProfileD => include_str!("../../hooks/flox-profile.d.sh"),
        HookTarget::Nix => include_str!("../../hooks/nix-devshell.nix"),
        HookTarget::Direnv => include_str!("../../hooks/direnvrc.sh"),
        HookTarget::Bash => include_str!("../../hooks/bashrc.sh"),
        HookTarget::Zsh => include_str!("../../hooks/zshrc.zsh"),
        HookTarget::Fish => include_str!("../../hooks/config.fish"),
        HookTarget::Tcsh | HookTarget::Csh => include_str!("../../hooks/tcshrc.csh"),
        HookTarget::Posix => include_str!("../../hooks/profile.sh"),
        HookTarget::Nu => include_str!("../../hooks/config.nu"),
        HookTarget::Elvish => include_str!("../../hooks/rc.elv"),
    }
}

/// The `--auto` hook of a shell that has a prompt or directory hook to hang it on.
pub fn auto_snippet(target: HookTarget) -> Option<&'static str> {
    let shell = match target {
        HookTarget::Bash => crate::shell::Shell::Bash,
        HookTarget::Zsh => crate::shell::Shell::Zsh,
        HookTarget::Fish => crate::shell::Shell::Fish,
        HookTarget::Tcsh | HookTarget::Csh => crate::shell::Shell::Tcsh,
        HookTarget::Nu => crate::shell::Shell::Nu,
        HookTarget::Elvish => crate::shell::Shell::Elvish,
        _ => return None,
    };
    crate::shell::auto_hook(shell)
}

pub fn run(args: HookArgs) -> anyhow::Result<u8> {
    let text = if args.auto {
        match auto_snippet(args.target) {
            Some(text) => text,
            None => {
                eprintln!("jit-secrets: error: there is no --auto hook for `{}`: it is for bash, zsh, fish, tcsh, nu and elvish (POSIX sh has no prompt or directory hook to run it from; see docs/hosts.md)", args.target.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default());
                return Ok(EXIT_USAGE);
            }
        }
    } else {
        snippet(args.target)
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}
