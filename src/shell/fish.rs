//! fish: `set -gx NAME '…'`. fish's single quotes are not POSIX: `\\` and `\'` are escapes
//! inside them, so a value ending in `\` would swallow the closing quote of the POSIX form (and a
//! crafted pair of values could run code). Both are escaped here; nothing else is special.

pub fn quote(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'\'');
    for &b in value {
        if b == b'\\' || b == b'\'' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'\'');
    out
}

pub fn render(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in pairs {
        out.extend_from_slice(b"set -gx ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&quote(value));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_backslash_and_quote() {
        assert_eq!(quote(b"a\\"), b"'a\\\\'");
        assert_eq!(quote(b"it's"), b"'it\\'s'");
        assert_eq!(quote(b"$x (y) \n"), b"'$x (y) \n'");
    }

    #[test]
    fn renders_global_exports() {
        assert_eq!(render(&[("A", b"1")]), b"set -gx A '1'\n");
    }
}
