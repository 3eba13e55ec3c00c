//! Renderers: (name, bytes) pairs → text a shell evaluates. Pure functions; they know nothing of
//! stores or manifests. One escaper per shell, as quoting rules differ (fish is not POSIX).

mod elvish;
mod fish;
mod json;
mod nu;
mod posix;
mod session;
mod tcsh;

pub use session::{
    deactivate_code, forget_refusal, records, remember_refusal_into, step_document_into, Activation,
};

use crate::secret::extend_wiping;
use std::fmt;
use zeroize::Zeroizing;

/// The buffer every renderer writes into. It holds secret values, so it never lets the allocator
/// free a copy unwiped: it is sized for the worst case up front, and if it ever must grow it moves
/// into a new zeroizing allocation (a plain `Vec` would `realloc`, leaving the old block as it was).
pub struct Out(Zeroizing<Vec<u8>>);

impl Out {
    pub fn with_capacity(capacity: usize) -> Out {
        Out(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub fn push(&mut self, b: u8) {
        extend_wiping(&mut self.0, &[b]);
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        extend_wiping(&mut self.0, bytes);
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The rendered code, still wiped when dropped.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }

    #[cfg(test)]
    pub fn into_vec(self) -> Vec<u8> {
        self.0.to_vec()
    }
}

/// The most any renderer writes for these pairs: every value byte may become six (JSON's
/// `\u0024`), plus the statement around each.
fn worst_case_size(pairs: &[(&str, &[u8])]) -> usize {
    pairs
        .iter()
        .map(|(name, value)| 64 + 2 * name.len() + 6 * value.len())
        .sum::<usize>()
        + 8
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    /// sh, dash, ksh, busybox: POSIX `export NAME='…'` (`--shell sh|dash|ash|ksh|mksh` mean this).
    #[value(
        alias = "sh",
        alias = "dash",
        alias = "ash",
        alias = "ksh",
        alias = "mksh"
    )]
    Posix,
    /// One JSON object `{"NAME": "value"}` for programs, not shells.
    Json,
    /// tcsh: `setenv NAME '…';` for `eval "`…`"`.
    Tcsh,
    /// csh: the same as tcsh.
    Csh,
    /// nushell: a JSON record for `from json | load-env`.
    Nu,
    /// elvish: `set-env NAME '…'` for `eval (… | slurp)`.
    Elvish,
}

impl Shell {
    /// The shell a program named `name` (an executable's path, or /proc/PID/comm) speaks. A
    /// version suffix (`zsh-5.9`, `bash5.2`) is ignored.
    pub fn from_program_name(name: &str) -> Option<Shell> {
        let base = name
            .rsplit('/')
            .next()
            .unwrap_or(name)
            .trim_start_matches('-');
        let base = base
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
            .trim_end_matches('-');
        match base {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            "sh" | "dash" | "ash" | "ksh" | "mksh" | "ksh93" | "busybox" | "yash" | "posh" => {
                Some(Shell::Posix)
            }
            "tcsh" => Some(Shell::Tcsh),
            "csh" | "bsd-csh" => Some(Shell::Csh),
            "nu" | "nushell" => Some(Shell::Nu),
            "elvish" => Some(Shell::Elvish),
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
            Shell::Tcsh => "tcsh",
            Shell::Csh => "csh",
            Shell::Nu => "nu",
            Shell::Elvish => "elvish",
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
    #[error("{name}: the value is not valid UTF-8, which JSON (and nushell) cannot carry; use --shell bash|zsh|fish|posix|elvish")]
    NotUtf8 { name: String },
    #[error("{name}: the value has {what}, which {shell} cannot hold; use --shell bash|zsh|fish|posix|elvish")]
    CannotHold {
        name: String,
        shell: &'static str,
        what: &'static str,
    },
}

/// The code that exports every pair, in one buffer that is wiped when dropped.
pub fn render(shell: Shell, pairs: &[(&str, &[u8])]) -> Result<Zeroizing<Vec<u8>>, RenderError> {
    let mut out = Out::with_capacity(worst_case_size(pairs));
    match shell {
        Shell::Bash | Shell::Zsh | Shell::Posix => posix::render_into(&mut out, pairs),
        Shell::Fish => fish::render_into(&mut out, pairs),
        Shell::Json => json::render_into(&mut out, pairs)?,
        Shell::Tcsh | Shell::Csh => tcsh::render_into(&mut out, pairs)?,
        Shell::Nu => nu::render_into(&mut out, pairs)?,
        Shell::Elvish => elvish::render_into(&mut out, pairs),
    }
    Ok(out.into_zeroizing())
}

/// The code that exports every pair and, for a shell that keeps one (see `session`), records the
/// activation so it can be undone: the previous activation undone first, the prior value of
/// every name saved, the exports, then the undo code. `PATH` (scoped secrets) is not saved: the
/// undo takes the proxy directory off its front, keeping what the user added since.
pub fn render_activation(
    shell: Shell,
    pairs: &[(&str, &[u8])],
    activation: &Activation,
) -> Result<Zeroizing<Vec<u8>>, RenderError> {
    if !session::records(shell) {
        return render(shell, pairs);
    }
    let exports = render(shell, pairs)?;
    let names: Vec<&str> = pairs
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "PATH")
        .collect();
    let mut out = Out::with_capacity(exports.len() + 1024 + 512 * names.len());
    session::prologue_into(&mut out, shell, &names, activation);
    out.extend(&exports);
    session::epilogue_into(&mut out, shell, &names, activation);
    Ok(out.into_zeroizing())
}

/// The `--auto` step that loads a project, for nushell and elvish (see
/// `session::step_document_into`): the variables as `render` writes them for nushell (`PATH` a
/// list), for elvish as JSON (`from-json` reads it; `PATH` a string).
pub fn render_load_document(
    shell: Shell,
    pairs: &[(&str, &[u8])],
    activation: &Activation,
    unload: bool,
    release: bool,
) -> Result<Zeroizing<Vec<u8>>, RenderError> {
    let vars = render(
        if shell == Shell::Nu {
            Shell::Nu
        } else {
            Shell::Json
        },
        pairs,
    )?;
    let mut out = Out::with_capacity(vars.len() + 4096);
    session::step_document_into(&mut out, unload, release, None, Some((&vars, activation)));
    Ok(out.into_zeroizing())
}

/// The `--auto` hook for `shell` (load on entering a project, swap, unload on leaving): one
/// template per shell, in `shell/auto/`.
pub fn auto_hook(shell: Shell) -> Option<&'static str> {
    match shell {
        Shell::Bash => Some(include_str!("auto/bash.sh")),
        Shell::Zsh => Some(include_str!("auto/zsh.zsh")),
        Shell::Fish => Some(include_str!("auto/fish.fish")),
        Shell::Tcsh | Shell::Csh => Some(include_str!("auto/tcsh.csh")),
        Shell::Nu => Some(include_str!("auto/nu.nu")),
        Shell::Elvish => Some(include_str!("auto/elvish.elv")),
        Shell::Posix | Shell::Json => None,
    }
}

/// What `activate` prints when it cannot tell which shell will read it (an unknown `--shell`):
/// `false` fails the evaluation in every shell we print for — bash, zsh, sh and tcsh's `eval`,
/// fish's `source`, elvish's `eval` (an external command's non-zero exit is an exception), and
/// nushell's `from json | load-env` and any JSON reader (a boolean, not an object).
pub const UNIVERSAL_FAILURE_STATEMENT: &str = "false\n";

/// What `activate` prints on failure instead of any export: one statement that makes `eval`,
/// `source` and `| source` return non-zero, so a hook under `set -e` stops. JSON gets nothing,
/// which no JSON reader accepts.
pub fn failure_statement(shell: Shell) -> &'static str {
    match shell {
        // Nothing: no JSON reader accepts it, and nushell's `load-env` of nothing fails.
        Shell::Json | Shell::Nu => "",
        // `false` is /bin/false in tcsh, not a builtin: `eval` still ends with status 1.
        Shell::Tcsh | Shell::Csh => "false;\n",
        Shell::Elvish => "fail 'jit-secrets: nothing exported (see the errors above)'\n",
        _ => "false\n",
    }
}

/// A comment line in the shell's syntax (for the masked, human-facing view).
pub fn comment(shell: Shell, text: &str) -> String {
    match shell {
        Shell::Json | Shell::Nu => String::new(),
        _ => text.lines().map(|l| format!("# {l}\n")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every renderer's longest form of a byte (JSON's `\u0024`, elvish's `"\x21"` and `"\xff"`,
    /// `\!`, `"\\"`) still fits the buffer sized up front, however long the name: it never
    /// regrows (a regrown buffer has a capacity of its own choosing).
    #[test]
    fn the_buffer_sized_up_front_holds_every_renderers_worst_case() {
        let name = "N".repeat(300);
        // Long runs too, so the per-byte factor shows past the constant room: JSON writes a
        // control byte as six (`\u0001`), POSIX a quote as four (`'\''`).
        let controls = vec![1u8; 2000];
        let quotes = vec![b'\''; 2000];
        let worst: &[&[u8]] = &[
            &controls,
            &quotes,
            b"$$$$$$$$",
            b"!!!!!!!!",
            br"\\'''\\\\",
            b"\xff\xfe\xff\xfe",
            b"",
            b"x",
        ];
        for shell in [
            Shell::Bash,
            Shell::Fish,
            Shell::Posix,
            Shell::Json,
            Shell::Tcsh,
            Shell::Nu,
            Shell::Elvish,
        ] {
            for value in worst {
                let pairs = [(name.as_str(), *value), ("B", *value)];
                let Ok(rendered) = render(shell, &pairs) else {
                    continue; // JSON and nushell refuse bytes that are not UTF-8.
                };
                let size = worst_case_size(&pairs);
                let shown = &value[..value.len().min(16)];
                assert!(rendered.len() <= size, "{shell}: {shown:?}…");
                assert_eq!(rendered.capacity(), size, "{shell} regrew for {shown:?}…");
            }
        }
    }

    #[test]
    fn comments_only_where_the_format_has_them() {
        assert_eq!(comment(Shell::Bash, "a\nb"), "# a\n# b\n");
        assert_eq!(comment(Shell::Json, "a"), "", "JSON has no comments");
        assert_eq!(comment(Shell::Nu, "a"), "", "nushell reads JSON");
    }

    #[test]
    fn the_auto_load_document_gives_nushell_path_as_a_list_and_elvish_as_a_string() {
        let activation = session::Activation {
            manifest: b"/p/manifest.toml",
            digest: "sha256:00",
            scope: Some(b"/run/scope"),
            on_exit_leases: false,
        };
        let pairs: [(&str, &[u8]); 1] = [("PATH", b"/run/scope:/usr/bin")];
        let doc = |shell| {
            let out = render_load_document(shell, &pairs, &activation, false, false).unwrap();
            String::from_utf8(out.to_vec()).unwrap()
        };
        let (nu, elvish) = (doc(Shell::Nu), doc(Shell::Elvish));
        assert!(nu.contains(r#"["/run/scope","/usr/bin"]"#), "{nu}");
        assert!(elvish.contains(r#""/run/scope:/usr/bin""#), "{elvish}");
    }

    #[test]
    fn a_shell_is_named_in_messages_as_on_the_command_line() {
        use clap::ValueEnum;
        for shell in Shell::value_variants() {
            let named = shell.to_possible_value().unwrap();
            assert_eq!(shell.to_string(), named.get_name(), "--shell {shell}");
        }
    }

    #[test]
    fn program_names_map_to_shells() {
        assert_eq!(Shell::from_program_name("-bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_program_name("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_program_name("fish"), Some(Shell::Fish));
        assert_eq!(Shell::from_program_name("dash"), Some(Shell::Posix));
        assert_eq!(Shell::from_program_name("python3"), None);
        assert_eq!(
            Shell::from_program_name("/usr/bin/zsh-5.9"),
            Some(Shell::Zsh)
        );
        assert_eq!(Shell::from_program_name("deploy.sh"), None);
        assert_eq!(Shell::from_program_name("/usr/bin/tcsh"), Some(Shell::Tcsh));
        assert_eq!(Shell::from_program_name("/bin/bsd-csh"), Some(Shell::Csh));
        assert_eq!(Shell::from_program_name("nu"), Some(Shell::Nu));
        assert_eq!(
            Shell::from_program_name("/usr/bin/elvish"),
            Some(Shell::Elvish)
        );
    }
}
