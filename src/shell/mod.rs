//! Renderers: (name, bytes) pairs → text a shell evaluates. Pure functions; they know nothing of
//! stores or manifests. One escaper per shell, as quoting rules differ (fish is not POSIX).

mod fish;
mod json;
mod posix;

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    /// sh, dash, ksh, busybox: POSIX `export NAME='…'`.
    Posix,
    /// One JSON object `{"NAME": "value"}` for programs, not shells.
    Json,
}

impl Shell {
    /// The shell a program named `name` (as in /proc/PID/comm or $SHELL) speaks.
    pub fn from_program_name(name: &str) -> Option<Shell> {
        let base = name
            .rsplit('/')
            .next()
            .unwrap_or(name)
            .trim_start_matches('-');
        match base {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            "sh" | "dash" | "ash" | "ksh" | "mksh" | "ksh93" | "busybox" | "yash" | "posh" => {
                Some(Shell::Posix)
            }
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Posix => "posix",
            Shell::Json => "json",
        }
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{name}: the value is not valid UTF-8, which JSON cannot carry; use --shell bash|zsh|fish|posix")]
    NotUtf8 { name: String },
}

/// The code that exports every pair.
pub fn render(shell: Shell, pairs: &[(&str, &[u8])]) -> Result<Vec<u8>, RenderError> {
    match shell {
        Shell::Bash | Shell::Zsh | Shell::Posix => Ok(posix::render(pairs)),
        Shell::Fish => Ok(fish::render(pairs)),
        Shell::Json => json::render(pairs),
    }
}

/// What `activate` prints on failure instead of any export: one statement that makes `eval`,
/// `source` and `| source` return non-zero, so a hook under `set -e` stops. JSON gets nothing,
/// which no JSON reader accepts.
pub fn failure_statement(shell: Shell) -> &'static str {
    match shell {
        Shell::Json => "",
        _ => "false\n",
    }
}

/// A comment line in the shell's syntax (for the masked, human-facing view).
pub fn comment(shell: Shell, text: &str) -> String {
    match shell {
        Shell::Json => String::new(),
        _ => text.lines().map(|l| format!("# {l}\n")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_map_to_shells() {
        assert_eq!(Shell::from_program_name("-bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_program_name("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_program_name("fish"), Some(Shell::Fish));
        assert_eq!(Shell::from_program_name("dash"), Some(Shell::Posix));
        assert_eq!(Shell::from_program_name("python3"), None);
    }
}
