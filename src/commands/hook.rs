//! `jit-secrets hook TARGET`: print the integration snippet (the files in hooks/).

use super::EXIT_OK;
use crate::cli::{HookArgs, HookTarget};
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
        HookTarget::Tcsh => include_str!("../../hooks/tcshrc.csh"),
        HookTarget::Nu => include_str!("../../hooks/config.nu"),
        HookTarget::Elvish => include_str!("../../hooks/rc.elv"),
    }
}

pub fn run(args: HookArgs) -> anyhow::Result<u8> {
    std::io::stdout()
        .lock()
        .write_all(snippet(args.target).as_bytes())?;
    Ok(EXIT_OK)
}
