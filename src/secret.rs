//! The secret value type and the scrubber that keeps values out of every message.
//!
//! A [`SecretValue`] owns its bytes in a zeroize-on-drop buffer and deliberately implements
//! neither `Display` nor a revealing `Debug`, so a value cannot slip into `format!`, a log line or
//! an error by accident: the only ways to reach the bytes are [`SecretValue::expose`] and the
//! constant-time [`SecretValue::ct_eq`].

use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Erase a parsed JSON document's strings before dropping it (serde_json does not zeroize).
pub fn wipe_json(mut v: serde_json::Value) {
    use zeroize::Zeroize;
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => s.zeroize(),
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
}

/// `value` as JSON, in a buffer that grows by moving into a new wiped one (never by `realloc`,
/// which would free unwiped copies of what was written so far).
pub fn json_to_wiping<T: serde::Serialize + ?Sized>(value: &T) -> Zeroizing<Vec<u8>> {
    struct Wiping(Zeroizing<Vec<u8>>);
    impl std::io::Write for Wiping {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            extend_wiping(&mut self.0, bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Wiping(Zeroizing::new(Vec::new()));
    serde_json::to_writer(&mut out, value).expect("our types always serialize");
    out.0
}

/// Appends `bytes` to a buffer that holds secret bytes. A plain `Vec` grows by `realloc`, which
/// frees the old block as it was; here the contents move into a new zeroizing allocation and the
/// old one is wiped before it is freed.
pub fn extend_wiping(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(buf.capacity() * 2).max(64)));
        bigger.extend_from_slice(buf);
        *buf = bigger;
    }
    buf.extend_from_slice(bytes);
}

/// Reads `reader` to its end (at most `limit` bytes plus one, so the caller can tell it was
/// longer) into a buffer that never leaves an unwiped copy behind as it grows.
pub fn read_to_end_wiping(
    mut reader: impl std::io::Read,
    limit: u64,
) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => {
                extend_wiping(&mut buf, &chunk[..n]);
                if buf.len() as u64 > limit {
                    return Ok(buf);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A secret's bytes, zeroized when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretValue(Zeroizing::new(bytes))
    }

    pub fn from_str_value(s: &str) -> Self {
        SecretValue::new(s.as_bytes().to_vec())
    }

    /// The raw bytes. Call sites are few and each one is a place a value leaves memory on purpose
    /// (a shell snippet, a child's environment, a store's stdin).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops exactly one trailing newline (`\n` or `\r\n`), the one CLIs add after a value.
    pub fn trim_one_newline(mut self) -> Self {
        if self.0.last() == Some(&b'\n') {
            self.0.pop();
            if self.0.last() == Some(&b'\r') {
                self.0.pop();
            }
        }
        self
    }

    /// Equality that takes the same time wherever the first difference is (for `verify`).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        // Lengths are not secret enough to hide at the cost of padding; contents are.
        self.0.len() == other.len() && bool::from(self.0.as_slice().ct_eq(other))
    }

    pub fn position_of_nul(&self) -> Option<usize> {
        self.0.iter().position(|&b| b == 0)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<{} bytes redacted>)", self.0.len())
    }
}

/// Text that may contain secret values (a child's stderr), kept zeroized and only shown after
/// passing through a [`Scrubber`].
#[derive(Default, Clone)]
pub struct Tainted(Zeroizing<Vec<u8>>);

impl Tainted {
    pub fn new(bytes: Vec<u8>) -> Self {
        Tainted(Zeroizing::new(bytes))
    }

    pub fn is_blank(&self) -> bool {
        self.0.iter().all(|b| b.is_ascii_whitespace())
    }

    /// The text with every known value replaced by `<redacted>`, lossily decoded, trimmed.
    pub fn scrubbed(&self, scrubber: &Scrubber) -> String {
        let clean = scrubber.scrub(&self.0);
        String::from_utf8_lossy(&clean).trim().to_string()
    }
}

impl fmt::Debug for Tainted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tainted(<{} bytes>)", self.0.len())
    }
}

/// Replaces every occurrence of any known value in a byte string.
#[derive(Default)]
pub struct Scrubber {
    // Longest first, so a value that contains another is replaced whole.
    needles: Vec<Zeroizing<Vec<u8>>>,
}

/// Values shorter than this are not scrubbed: replacing every "a" or "1" in an error message
/// would make it unreadable while protecting nothing a guess would not find.
const MIN_SCRUB_LEN: usize = 3;

impl Scrubber {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, value: &[u8]) {
        // Also scrub the value without its trailing newline, as a CLI may print either form.
        let trimmed = value.strip_suffix(b"\n").unwrap_or(value);
        for candidate in [value, trimmed] {
            if candidate.len() >= MIN_SCRUB_LEN
                && !self.needles.iter().any(|n| n.as_slice() == candidate)
            {
                self.needles.push(Zeroizing::new(candidate.to_vec()));
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn scrub(&self, haystack: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(haystack.len() + 64));
        let mut i = 0;
        'outer: while i < haystack.len() {
            for needle in &self.needles {
                if haystack[i..].starts_with(needle) {
                    extend_wiping(&mut out, b"<redacted>");
                    i += needle.len();
                    continue 'outer;
                }
            }
            extend_wiping(&mut out, &haystack[i..=i]);
            i += 1;
        }
        out
    }
}

impl Drop for Scrubber {
    fn drop(&mut self) {
        for n in &mut self.needles {
            n.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_wiping_keeps_every_byte_in_order() {
        let mut buf = Zeroizing::new(Vec::with_capacity(1));
        for chunk in [&b"ab"[..], b"", b"cdefgh", &[b'x'; 300]] {
            extend_wiping(&mut buf, chunk);
        }
        assert_eq!(&buf[..8], b"abcdefgh");
        assert_eq!(buf.len(), 308);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::from_str_value("hunter2-canary");
        let shown = format!("{v:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("14 bytes"));
    }

    #[test]
    fn trims_exactly_one_newline() {
        let v = SecretValue::from_str_value("a\n\n").trim_one_newline();
        assert_eq!(v.expose(), b"a\n");
        let v = SecretValue::from_str_value("a\r\n").trim_one_newline();
        assert_eq!(v.expose(), b"a");
        let v = SecretValue::from_str_value("a").trim_one_newline();
        assert_eq!(v.expose(), b"a");
    }

    #[test]
    fn constant_time_equality_matches_plain_equality() {
        let v = SecretValue::from_str_value("abc");
        assert!(v.ct_eq(b"abc"));
        assert!(!v.ct_eq(b"abd"));
        assert!(!v.ct_eq(b"ab"));
        assert!(!v.ct_eq(b"abcd"));
    }

    #[test]
    fn scrubber_replaces_longest_values_first() {
        let mut s = Scrubber::new();
        s.add(b"secret");
        s.add(b"secret-long\n");
        let out = s.scrub(b"x secret-long y secret z");
        assert_eq!(out.as_slice(), b"x <redacted> y <redacted> z");
    }

    #[test]
    fn tainted_is_scrubbed_before_display() {
        let mut s = Scrubber::new();
        s.add(b"p@ssw0rd");
        let t = Tainted::new(b"error: bad token p@ssw0rd\n".to_vec());
        assert_eq!(t.scrubbed(&s), "error: bad token <redacted>");
        assert!(!format!("{t:?}").contains("p@ss"));
    }
}
