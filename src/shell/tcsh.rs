//! tcsh and csh: `setenv NAME '…';`, for `eval "`jit-secrets activate --shell tcsh`"`.
//!
//! csh quoting is the hardest of the lot (direnv's tcsh escaper was read, not copied):
//! - `!` starts a history substitution even inside single quotes (in interactive shells and in
//!   `eval`): it is written `\!` outside the quotes;
//! - `'` ends the quotes: written `"'"` outside them, and `\` is written `\\` outside them, so no
//!   backslash ever stands inside single quotes and no two single quotes are ever adjacent
//!   (which keeps the line inert in fish and elvish, as for POSIX: see `posix.rs`);
//! - each statement ends in `;`: inside `"`…`"` command substitution turns newlines into word
//!   breaks, so `eval` sees one long line;
//! - for the same reason a value with a newline cannot reach tcsh through `eval` at all: that is
//!   an error naming the secret, never a silent change.
//!
//! Any other byte (control characters, non-UTF-8) is taken literally inside single quotes.

use super::{Out, RenderError};

pub(super) fn quote_word_into(out: &mut Out, value: &[u8]) {
    if value.is_empty() {
        out.extend(b"''");
        return;
    }
    let mut quoted = false;
    for &b in value {
        let special: &[u8] = match b {
            b'\'' => br#""'""#,
            b'\\' => br"\\",
            b'!' => br"\!",
            _ => {
                if !quoted {
                    out.push(b'\'');
                    quoted = true;
                }
                out.push(b);
                continue;
            }
        };
        if quoted {
            out.push(b'\'');
            quoted = false;
        }
        out.extend(special);
    }
    if quoted {
        out.push(b'\'');
    }
}

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) -> Result<(), RenderError> {
    for (name, value) in pairs {
        if value.contains(&b'\n') {
            return Err(RenderError::CannotHold {
                name: name.to_string(),
                shell: "tcsh",
                what: "a newline (tcsh's `eval \"`…`\"` turns newlines into spaces)",
            });
        }
        out.extend(b"setenv ");
        out.extend(name.as_bytes());
        out.push(b' ');
        quote_word_into(out, value);
        out.extend(b";\n");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_bangs_quotes_and_backslashes_outside_the_quotes() {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, &[("A", br"it's a \ !x"), ("B", b"")]).unwrap();
        assert_eq!(
            o.into_vec(),
            br#"setenv A 'it'"'"'s a '\\' '\!'x';
setenv B '';
"#
        );
    }

    #[test]
    fn a_newline_is_an_error_naming_the_secret() {
        let mut o = Out::with_capacity(0);
        let e = render_into(&mut o, &[("MULTI", b"a\nb")]).unwrap_err();
        assert!(e.to_string().contains("MULTI"), "{e}");
    }
}
