//! What an activation leaves in the shell so that it can be undone: leaving the project (the
//! `--auto` hook), `jit-secrets deactivate`, or the next activation (which undoes the last one
//! first, so `secrets` in A then `secrets` in B leaves nothing of A).
//!
//! Everything lives in the shell's own unexported variables, never on disk nor in the
//! environment children inherit:
//! - `_jit_secrets_was_NAME`: the value NAME held before the activation (saved by the printed
//!   code, inside the shell: a prior value may be a secret and never passes through us);
//! - `_jit_secrets_undo`: code (names only, no value) that puts every NAME back as it was —
//!   restored where it had a value, unset where it had none — and takes the scoped proxy
//!   directory off `PATH` (wherever it now is; tcsh: only from the front);
//! - `_jit_secrets_manifest`, `_jit_secrets_digest`: the manifest loaded (path as reached) and
//!   the SHA-256 of its bytes, so the hook knows when the directory's project is already loaded;
//! - `_jit_secrets_scope`: the proxy directory put first on `PATH` (scoped secrets);
//! - `_jit_secrets_release`: code that releases this shell's hold on the manifest's `on-exit`
//!   leases (`jit-secrets deactivate --release MANIFEST --holder PID`), when it has any.
//!
//! Each shell gets the lines in its own syntax; as with the exports, a line meant for one shell
//! is a syntax error in the others before anything runs (see `tests/quoting_property.rs`).

use super::{posix, Out, Shell};

/// The activation being recorded.
pub struct Activation<'a> {
    /// The manifest's path as reached (bytes: it need not be UTF-8).
    pub manifest: &'a [u8],
    /// `sha256:…` of the manifest's bytes.
    pub digest: &'a str,
    /// The scoped proxy directory put first on `PATH`, if any.
    pub scope: Option<&'a [u8]>,
    /// Whether the manifest has `on-exit` leases this shell now holds.
    pub on_exit_leases: bool,
}

/// Whether `shell` gets the record with its exports (json feeds a program; nushell cannot
/// evaluate code, its hook keeps the record itself: see `hooks/auto/config.nu`).
pub fn records(shell: Shell) -> bool {
    matches!(
        shell,
        Shell::Bash | Shell::Zsh | Shell::Posix | Shell::Fish | Shell::Tcsh | Shell::Csh
    )
}

/// The lines before the exports: release the previous project's leases (unless it is this
/// manifest again, whose leases this activation just joined), undo the previous activation,
/// then save the prior value of every name about to be set.
pub fn prologue_into(out: &mut Out, shell: Shell, names: &[&str], activation: &Activation) {
    match shell {
        Shell::Fish => {
            out.extend(b"if test \"$_jit_secrets_manifest\" != ");
            posix::quote_into(out, activation.manifest);
            out.extend(b"; eval $_jit_secrets_release; end\neval $_jit_secrets_undo\n");
            for n in names.iter().map(|n| n.as_bytes()) {
                out.extend(b"if set --query ");
                out.extend(n);
                out.extend(b"; set --global _jit_secrets_was_");
                out.extend(n);
                out.extend(b" $");
                out.extend(n);
                out.extend(b"; else; set --erase --global _jit_secrets_was_");
                out.extend(n);
                out.extend(b"; end\n");
            }
        }
        Shell::Tcsh | Shell::Csh => {
            // csh substitutes a whole command before it runs, a false `if` included: a variable
            // that may be unset is read only inside `eval '…'`, or is set (empty) first.
            out.extend(b"if ( $?_jit_secrets_manifest == 0 ) set _jit_secrets_manifest = '';\n");
            out.extend(b"if ( $?_jit_secrets_release == 0 ) set _jit_secrets_release = '';\n");
            out.extend(b"if ( $?_jit_secrets_undo == 0 ) set _jit_secrets_undo = '';\n");
            out.extend(b"if ( \"$_jit_secrets_manifest\" != ");
            super::tcsh::quote_word_into(out, activation.manifest);
            out.extend(b" ) eval \"$_jit_secrets_release\";\neval \"$_jit_secrets_undo\";\n");
            for n in names.iter().map(|n| n.as_bytes()) {
                out.extend(b"unset _jit_secrets_was_");
                out.extend(n);
                out.extend(b"; if ( $?");
                out.extend(n);
                out.extend(b" ) eval 'set _jit_secrets_was_");
                out.extend(n);
                out.extend(b" = $");
                out.extend(n);
                out.extend(b":q';\n");
            }
        }
        _ => {
            let mut code = Out::with_capacity(256 + 160 * names.len());
            code.extend(b"[ \"${_jit_secrets_manifest-}\" = ");
            posix::quote_into(&mut code, activation.manifest);
            code.extend(b" ] || eval \"${_jit_secrets_release-}\"; eval \"${_jit_secrets_undo-}\"");
            for n in names.iter().map(|n| n.as_bytes()) {
                code.extend(b"; if [ \"${");
                code.extend(n);
                code.extend(b"+x}\" = x ]; then _jit_secrets_was_");
                code.extend(n);
                code.extend(b"=$");
                code.extend(n);
                code.extend(b"; else unset _jit_secrets_was_");
                code.extend(n);
                code.extend(b"; fi");
            }
            posix_guarded_into(out, code.as_bytes());
        }
    }
}

/// `command -v eval >/dev/null && eval '…'` on one line: POSIX shells run the code; fish, which can read the
/// exports of POSIX output (it has an `export` function), parses this line too and skips it
/// (its `command -v` finds no program named `eval`), where the code's `${…}` would stop it
/// from running any of the file. The code is quoted as values are (see `posix.rs`).
fn posix_guarded_into(out: &mut Out, code: &[u8]) {
    out.extend(b"command -v eval >/dev/null && eval ");
    posix::quote_into(out, code);
    out.push(b'\n');
}

/// The lines after the exports: the undo code and the record of what was loaded.
pub fn epilogue_into(out: &mut Out, shell: Shell, names: &[&str], activation: &Activation) {
    let posix = !matches!(shell, Shell::Fish | Shell::Tcsh | Shell::Csh);
    let mut record = Out::with_capacity(1024 + 400 * names.len());
    let undo = undo_code(shell, names, activation.scope.is_some());
    let mut assign = |name: &str, value: &[u8]| {
        match shell {
            Shell::Fish => record.extend(format!("set --global {name} ").as_bytes()),
            Shell::Tcsh | Shell::Csh => record.extend(format!("set {name} = ").as_bytes()),
            _ => record.extend(format!("{name}=").as_bytes()),
        }
        match shell {
            Shell::Tcsh | Shell::Csh => super::tcsh::quote_word_into(&mut record, value),
            _ => posix::quote_into(&mut record, value),
        }
        // POSIX: one line (see `posix_guarded_into`), so each statement of ours is one line.
        record.extend(match shell {
            Shell::Tcsh | Shell::Csh => &b";\n"[..],
            Shell::Fish => b"\n",
            _ => b"; ",
        });
    };
    assign("_jit_secrets_undo", undo.as_bytes());
    assign("_jit_secrets_manifest", activation.manifest);
    assign("_jit_secrets_digest", activation.digest.as_bytes());
    if let Some(scope) = activation.scope {
        assign("_jit_secrets_scope", scope);
    }
    if activation.on_exit_leases {
        assign("_jit_secrets_release", release_code(shell).as_bytes());
    }
    if posix {
        posix_guarded_into(out, record.as_bytes());
    } else {
        out.extend(record.as_bytes());
    }
}

/// Code (names only) that puts every name back as it was before the activation and forgets the
/// record. Kept in `_jit_secrets_undo`; run by `deactivate`, the hook and the next activation.
fn undo_code(shell: Shell, names: &[&str], scoped: bool) -> String {
    let mut code = String::new();
    match shell {
        Shell::Fish => {
            for n in names {
                code.push_str(&format!("if set --query _jit_secrets_was_{n}; set --global --export {n} $_jit_secrets_was_{n}; set --erase --global _jit_secrets_was_{n}; else; set --erase --global {n}; end; "));
            }
            if scoped {
                code.push_str("if set --local i (contains --index -- $_jit_secrets_scope $PATH); set --erase PATH[$i]; end; ");
            }
            code.push_str("set --erase --global _jit_secrets_undo _jit_secrets_manifest _jit_secrets_digest _jit_secrets_scope _jit_secrets_release");
        }
        Shell::Tcsh | Shell::Csh => {
            for n in names {
                code.push_str(&format!("if ( $?_jit_secrets_was_{n} ) eval 'setenv {n} $_jit_secrets_was_{n}:q'; if ( $?_jit_secrets_was_{n} == 0 ) unsetenv {n}; unset _jit_secrets_was_{n}; "));
            }
            if scoped {
                code.push_str("if ( \"$path[1]\" == \"$_jit_secrets_scope\" ) shift path; ");
            }
            code.push_str("unset _jit_secrets_undo _jit_secrets_manifest _jit_secrets_digest _jit_secrets_scope _jit_secrets_release");
        }
        _ => {
            for n in names {
                code.push_str(&format!("if [ \"${{_jit_secrets_was_{n}+x}}\" = x ]; then export {n}=\"$_jit_secrets_was_{n}\"; unset _jit_secrets_was_{n}; else unset {n}; fi; "));
            }
            if scoped {
                // Wherever it now is: something put in front of it meanwhile (a virtualenv,
                // nvm) must not keep it. `%%` cuts at its first occurrence, `#*` after it.
                code.push_str("case \":$PATH:\" in *\":$_jit_secrets_scope:\"*) _jit_secrets_p=\":$PATH:\"; _jit_secrets_p=\"${_jit_secrets_p%%\":$_jit_secrets_scope:\"*}:${_jit_secrets_p#*\":$_jit_secrets_scope:\"}\"; _jit_secrets_p=${_jit_secrets_p#:}; PATH=${_jit_secrets_p%:}; unset _jit_secrets_p;; esac; ");
            }
            code.push_str("unset _jit_secrets_undo _jit_secrets_manifest _jit_secrets_digest _jit_secrets_scope _jit_secrets_release");
        }
    }
    code
}

/// Code that releases this shell's hold on the loaded manifest's `on-exit` leases.
fn release_code(shell: Shell) -> &'static str {
    match shell {
        Shell::Fish => "command jit-secrets deactivate --release $_jit_secrets_manifest --holder $fish_pid >/dev/null",
        Shell::Tcsh | Shell::Csh => "jit-secrets deactivate --release \"$_jit_secrets_manifest\" --holder $$ >& /dev/null",
        _ => "command jit-secrets deactivate --release \"$_jit_secrets_manifest\" --holder \"$$\" >/dev/null",
    }
}

/// What `jit-secrets deactivate --shell SHELL` prints: the last activation's release and undo,
/// read from the shell's own variables. `None`: the shell cannot evaluate printed code.
pub fn deactivate_code(shell: Shell) -> Option<&'static str> {
    match shell {
        Shell::Bash | Shell::Zsh | Shell::Posix => Some(
            "eval \"${_jit_secrets_release-}\"\neval \"${_jit_secrets_undo-}\"\n",
        ),
        Shell::Fish => Some("eval $_jit_secrets_release\neval $_jit_secrets_undo\n"),
        Shell::Tcsh | Shell::Csh => Some(
            "if ( $?_jit_secrets_release == 0 ) set _jit_secrets_release = '';\nif ( $?_jit_secrets_undo == 0 ) set _jit_secrets_undo = '';\neval \"$_jit_secrets_release\";\neval \"$_jit_secrets_undo\";\n",
        ),
        Shell::Elvish => Some("jit-secrets-unload\n"),
        Shell::Nu | Shell::Json => None,
    }
}

/// The `--auto` hook's note that `manifest` was refused in this shell, so moving about inside
/// that project does not say it again.
pub fn remember_refusal_into(out: &mut Out, shell: Shell, manifest: &[u8]) {
    match shell {
        Shell::Fish => out.extend(b"set --global _jit_secrets_refused "),
        Shell::Tcsh | Shell::Csh => out.extend(b"set _jit_secrets_refused = "),
        _ => out.extend(b"_jit_secrets_refused="),
    }
    match shell {
        Shell::Tcsh | Shell::Csh => super::tcsh::quote_word_into(out, manifest),
        _ => posix::quote_into(out, manifest),
    }
    out.extend(match shell {
        Shell::Tcsh | Shell::Csh => b";\n",
        _ => b"\n",
    });
}

/// Forgets the refusal: the shell left that project, or loaded one.
pub fn forget_refusal(shell: Shell) -> &'static str {
    match shell {
        Shell::Fish => "set --erase --global _jit_secrets_refused\n",
        Shell::Tcsh | Shell::Csh => "unset _jit_secrets_refused;\n",
        _ => "unset _jit_secrets_refused\n",
    }
}

/// The `--auto` step for nushell and elvish, whose hooks keep the record themselves:
/// `{"unload":…,"release":…,"refused":PATH|null,"load":null|{…}}`. `load` carries the variables
/// (`vars`, as `render` writes them for the shell) and what the record needs.
pub fn step_document_into(
    out: &mut Out,
    unload: bool,
    release: bool,
    refused: Option<&[u8]>,
    load: Option<(&[u8], &Activation)>,
) {
    let flag = |b: bool| if b { &b"true"[..] } else { &b"false"[..] };
    let string = |out: &mut Out, bytes: &[u8]| {
        super::json::push_string(out, &String::from_utf8_lossy(bytes))
    };
    out.extend(b"{\"unload\":");
    out.extend(flag(unload));
    out.extend(b",\"release\":");
    out.extend(flag(release));
    out.extend(b",\"refused\":");
    match refused {
        Some(path) => string(out, path),
        None => out.extend(b"null"),
    }
    out.extend(b",\"load\":");
    match load {
        None => out.extend(b"null"),
        Some((vars, activation)) => {
            out.extend(b"{\"vars\":");
            out.extend(vars.strip_suffix(b"\n").unwrap_or(vars));
            out.extend(b",\"manifest\":");
            string(out, activation.manifest);
            out.extend(b",\"digest\":");
            string(out, activation.digest.as_bytes());
            out.extend(b",\"scope\":");
            match activation.scope {
                Some(dir) => string(out, dir),
                None => out.extend(b"null"),
            }
            out.extend(b",\"leases\":");
            out.extend(flag(activation.on_exit_leases));
            out.push(b'}');
        }
    }
    out.extend(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation() -> Activation<'static> {
        Activation {
            manifest: b"/p/it's/manifest.toml",
            digest: "sha256:00",
            scope: Some(b"/run/scope"),
            on_exit_leases: true,
        }
    }

    #[test]
    fn posix_records_on_guarded_single_lines_with_names_only() {
        let mut o = Out::with_capacity(0);
        prologue_into(&mut o, Shell::Bash, &["A"], &activation());
        epilogue_into(&mut o, Shell::Bash, &["A"], &activation());
        let text = String::from_utf8(o.into_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines
            .iter()
            .all(|l| l.starts_with("command -v eval >/dev/null && eval '")));
        assert!(lines[0].contains("_jit_secrets_was_A=$A"), "{text}");
        assert!(
            lines[1].contains("PATH=${_jit_secrets_p%:}"),
            "the scope leaves PATH: {text}"
        );
        assert!(lines[1].contains("deactivate --release"), "{text}");
    }

    #[test]
    fn without_scope_or_leases_nothing_is_kept_for_them() {
        let plain = Activation {
            scope: None,
            on_exit_leases: false,
            ..activation()
        };
        for shell in [Shell::Bash, Shell::Fish, Shell::Tcsh] {
            let mut o = Out::with_capacity(0);
            epilogue_into(&mut o, shell, &["A"], &plain);
            let text = String::from_utf8(o.into_vec()).unwrap();
            assert!(!text.contains("_jit_secrets_release ="), "{shell}: {text}");
            assert!(!text.contains("_jit_secrets_scope '"), "{shell}: {text}");
            assert!(!text.contains("--release"), "{shell}: {text}");
        }
    }

    #[test]
    fn only_shells_that_evaluate_code_get_deactivate_code() {
        assert!(deactivate_code(Shell::Nu).is_none());
        assert!(deactivate_code(Shell::Json).is_none());
        assert!(deactivate_code(Shell::Tcsh)
            .unwrap()
            .contains("eval \"$_jit_secrets_undo\""));
    }
}
