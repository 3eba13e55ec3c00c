//! elvish: `set-env NAME '…'`, for `eval (jit-secrets activate --shell elvish | slurp)`.
//!
//! The value is written as for POSIX shells (see `posix.rs`): single-quoted runs, with `'` and
//! `\` in double-quoted runs (`"'"`, `"\\"`), which elvish reads the same way. Its own `''`
//! inside single quotes is never used: other shells would split that differently. elvish reads
//! its code as UTF-8 and would replace invalid bytes, so a byte that is not part of valid UTF-8
//! is written `"\xHH"`, which elvish turns back into that exact byte. `!` is written `"\x21"`:
//! tcsh, reading this by mistake, would expand a bare `!` even inside single quotes.

use super::Out;

fn quote_into(out: &mut Out, value: &[u8]) {
    super::posix::quote_runs_into(out, value, super::posix::Dialect::Elvish);
}

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) {
    for (name, value) in pairs {
        out.extend(b"set-env ");
        out.extend(name.as_bytes());
        out.push(b' ');
        quote_into(out, value);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_backslashes_and_invalid_bytes_go_in_double_quotes() {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, &[("A", b"it's \\ caf\xe9")]);
        assert_eq!(
            o.into_vec(),
            br#"set-env A 'it'"'"'s '"\\"' caf'"\xe9"
"#
        );
    }
}
