//! bash, zsh, dash, sh: `export NAME='…'`. Inside single quotes nothing is special but `'`
//! itself, which becomes `'\''` (close, escaped quote, reopen). Works byte for byte, newlines
//! and non-UTF-8 included, in every POSIX shell and in zsh whatever its options.

pub fn quote(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

pub fn render(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in pairs {
        out.extend_from_slice(b"export ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(&quote(value));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_single_quotes_only() {
        assert_eq!(quote(b"a'b"), b"'a'\\''b'");
        assert_eq!(quote(b"$(x) `y` \\"), b"'$(x) `y` \\'");
        assert_eq!(quote(b""), b"''");
    }

    #[test]
    fn one_export_per_line() {
        assert_eq!(
            render(&[("A", b"1"), ("B", b"x\ny")]),
            b"export A='1'\nexport B='x\ny'\n"
        );
    }
}
