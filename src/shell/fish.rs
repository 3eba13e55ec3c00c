//! fish: `set --global --export NAME '…'`, quoted exactly as for POSIX shells (see `posix.rs`):
//! no backslash ever stands inside the single quotes, so fish's in-quote escapes (`\\`, `\'`)
//! never apply and every shell splits the line into the same words. The long option names keep a
//! misdirected line inert in zsh too, where `set -gx` would switch on tracing.

use super::{posix, Out};

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) {
    for (name, value) in pairs {
        out.extend(b"set --global --export ");
        out.extend(name.as_bytes());
        out.push(b' ');
        posix::quote_into(out, value);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_global_exports_quoted_as_for_posix() {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, &[("A", b"1"), ("B", br"a\'")]);
        assert_eq!(
            o.into_vec(),
            br#"set --global --export A '1'
set --global --export B 'a'"\\'"
"#
        );
    }
}
