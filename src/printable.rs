//! Text from a manifest (names, references, descriptions, paths) made safe to print on a terminal.
//!
//! A committed manifest is a stranger's text. Printed raw, `\e[2A\e[2K\r` in a description erases
//! the line above it, which is how a hostile manifest would hide `cmd:sh -c 'curl … | sh'` from the
//! `allow` summary. Every control character, escape sequence and non-UTF-8 byte is shown escaped
//! instead (`\e`, `\x07`, `\n`, `\xff`), so what is printed is what the file says.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// `text` with every control character escaped; borrowed when there is nothing to escape.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escaped`], line by line: for our own multi-line messages that quote a manifest's text.
pub fn escaped_lines(text: &str) -> String {
    text.split('\n').map(escaped).collect::<Vec<_>>().join("\n")
}

/// Bytes that may not be UTF-8 (a path): valid runs escaped as [`escaped`], each invalid byte `\xNN`.
pub fn escaped_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// A path, escaped as [`escaped_bytes`].
pub fn path(p: &Path) -> String {
    escaped_bytes(p.as_os_str().as_encoded_bytes())
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\x1b' => out.push_str("\\e"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 && needs_escape(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // C1 controls above 0xff cannot occur; bidirectional overrides reorder what is shown.
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_escape_sequences_and_invalid_bytes_are_shown_escaped() {
        assert_eq!(escaped("plain ünïcode"), "plain ünïcode");
        assert!(matches!(escaped("plain"), Cow::Borrowed(_)));
        assert_eq!(escaped("a\x1b[2A\x1b[2K\rb"), "a\\e[2A\\e[2K\\rb");
        assert_eq!(
            escaped("bell\x07 nul\0 del\x7f"),
            "bell\\x07 nul\\x00 del\\x7f"
        );
        assert_eq!(escaped("tab\tnl\n"), "tab\\tnl\\n");
        assert_eq!(escaped_lines("one \x1b[2K\ntwo"), "one \\e[2K\ntwo");
        assert_eq!(escaped("\u{9b}csi"), "\\x9bcsi");
        assert_eq!(escaped("rtl\u{202e}txt"), "rtl\\u{202e}txt");
        assert_eq!(escaped_bytes(b"ok\xff\xfe/\x1b"), "ok\\xff\\xfe/\\e");
        assert_eq!(
            path(Path::new("/tmp/a\nb")),
            "/tmp/a\\nb",
            "a newline in a path cannot start a fake line"
        );
    }
}
