//! bash, zsh, dash, sh: `export NAME=…`, the value written as single-quoted runs of ordinary
//! bytes and double-quoted runs of the two bytes that are not ordinary, `'` and `\` (inside the
//! double quotes `\` is written `\\`): `it's` becomes `'it'"'"'s'`.
//!
//! Exact in every POSIX shell (inside single quotes nothing is special; inside double quotes
//! `\\` is one backslash and `'` is plain). The form is chosen for the shells that might read it
//! by mistake: no backslash ever stands inside single quotes (fish reads `\'` there as an
//! escape), and no two single quotes are ever adjacent (elvish reads `''` inside single quotes
//! as a quote), and `!` is written `\!` outside the quotes (tcsh expands history even inside
//! single quotes, and `!#` repeats the line so far). So bash, zsh, dash, fish, elvish, tcsh and
//! nushell all split it into the same words, and it is inert in every one of them. (`'\''`, the
//! usual POSIX idiom, let a value run as code in elvish.)

use super::Out;

#[derive(Clone, Copy, PartialEq)]
enum Run {
    Outside,
    Single,
    Double,
}

fn switch(out: &mut Out, from: &mut Run, to: Run) {
    if *from == to {
        return;
    }
    match *from {
        Run::Single => out.push(b'\''),
        Run::Double => out.push(b'"'),
        Run::Outside => {}
    }
    match to {
        Run::Single => out.push(b'\''),
        Run::Double => out.push(b'"'),
        Run::Outside => {}
    }
    *from = to;
}

/// How a dialect writes what it cannot leave inside single quotes.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Dialect {
    /// POSIX shells and fish: `!` as `\!` outside quotes; every byte written as itself.
    Posix,
    /// elvish: `!` as `"\x21"` (elvish keeps the backslash of `\!`), and bytes that are not
    /// UTF-8 as `"\xHH"` (elvish reads its code as UTF-8 and would replace them).
    Elvish,
}

fn emit(out: &mut Out, run: &mut Run, bytes: &[u8], valid_utf8: bool, dialect: Dialect) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        match b {
            b'!' if dialect == Dialect::Posix => {
                switch(out, run, Run::Outside);
                out.extend(b"\\!");
            }
            b'!' => {
                switch(out, run, Run::Double);
                out.extend(b"\\x21");
            }
            b'\'' => {
                switch(out, run, Run::Double);
                out.push(b'\'');
            }
            b'\\' => {
                switch(out, run, Run::Double);
                out.extend(b"\\\\");
            }
            _ if !valid_utf8 => {
                switch(out, run, Run::Double);
                out.extend(b"\\x");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => {
                switch(out, run, Run::Single);
                out.push(b);
            }
        }
    }
}

/// Writes `value` as alternating `'…'` runs (bytes other than `'`, `\` and `!`) and `"…"` runs
/// (`'`, and `\` as `\\`), with `!` as the dialect writes it. Never an empty run, except `''`
/// for the empty value.
pub(super) fn quote_runs_into(out: &mut Out, value: &[u8], dialect: Dialect) {
    if value.is_empty() {
        out.extend(b"''");
        return;
    }
    let mut run = Run::Outside;
    if dialect == Dialect::Elvish {
        for chunk in value.utf8_chunks() {
            emit(out, &mut run, chunk.valid().as_bytes(), true, dialect);
            emit(out, &mut run, chunk.invalid(), false, dialect);
        }
    } else {
        emit(out, &mut run, value, true, dialect);
    }
    switch(out, &mut run, Run::Outside);
}

pub fn quote_into(out: &mut Out, value: &[u8]) {
    quote_runs_into(out, value, Dialect::Posix);
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
    fn single_quoted_runs_and_double_quoted_quotes_and_backslashes() {
        assert_eq!(quote(br"a'b"), br#"'a'"'"'b'"#);
        assert_eq!(quote(br"$(x) `y` \"), br#"'$(x) `y` '"\\""#);
        assert_eq!(quote(br"''\x"), br#""''\\"'x'"#);
        assert_eq!(quote(b"a!#'b"), br#"'a'\!'#'"'"'b'"#);
        assert_eq!(quote(b""), b"''");
    }

    #[test]
    fn each_dialect_writes_bang_its_own_way_and_never_bare_in_quotes() {
        let quote_as = |v: &[u8], dialect| {
            let mut o = Out::with_capacity(0);
            quote_runs_into(&mut o, v, dialect);
            o.into_vec()
        };
        assert_eq!(quote_as(b"a!b", Dialect::Posix), br#"'a'\!'b'"#);
        assert_eq!(quote_as(b"a!b", Dialect::Elvish), br#"'a'"\x21"'b'"#);
        assert_eq!(quote_as(b"!!", Dialect::Elvish), br#""\x21\x21""#);
    }

    #[test]
    fn one_export_per_line() {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, &[("A", b"1"), ("B", b"x\ny")]);
        assert_eq!(o.into_vec(), b"export A='1'\nexport B='x\ny'\n");
    }
}
