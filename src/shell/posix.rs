//! bash, zsh, dash, sh: `export NAME='…'`.
//!
//! Inside single quotes nothing is special in a POSIX shell but `'` itself, which becomes `'\''`
//! (close, escaped quote, reopen). A backslash is also written outside the quotes, as `'\\'`:
//! POSIX does not need it, but fish reads `\'` and `\\` as escapes *inside* single quotes, and a
//! value ending in `\` would then swallow the closing quote and let the next value's text run as
//! code. With no backslash ever inside the quotes, bash, zsh, dash and fish split this output
//! into exactly the same words, so it is exact in every POSIX shell and inert anywhere else.

use super::Out;

pub fn quote_into(out: &mut Out, value: &[u8]) {
    out.push(b'\'');
    for &b in value {
        match b {
            b'\'' => out.extend(b"'\\''"),
            b'\\' => out.extend(b"'\\\\'"),
            _ => out.push(b),
        }
    }
    out.push(b'\'');
}

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) {
    for (name, value) in pairs {
        out.extend(b"export ");
        out.extend(name.as_bytes());
        out.push(b'=');
        quote_into(out, value);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(v: &[u8]) -> Vec<u8> {
        let mut o = Out::with_capacity(0);
        quote_into(&mut o, v);
        o.into_vec()
    }

    #[test]
    fn quotes_single_quotes_and_moves_backslashes_out_of_the_quotes() {
        assert_eq!(quote(b"a'b"), b"'a'\\''b'");
        assert_eq!(quote(b"$(x) `y` \\"), b"'$(x) `y` '\\\\''");
        assert_eq!(quote(b""), b"''");
    }

    #[test]
    fn one_export_per_line() {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, &[("A", b"1"), ("B", b"x\ny")]);
        assert_eq!(o.into_vec(), b"export A='1'\nexport B='x\ny'\n");
    }
}
