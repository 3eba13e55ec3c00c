//! Streaming masking for `run --mask`: every secret value in a byte stream becomes `<NAME>`, even
//! when a value arrives split across reads. Pure: bytes in, bytes out.
//!
//! At each position the longest value that matches wins (so a value containing another is masked
//! whole). Only a tail that could still be the start of a value is held back between reads, so
//! output flows as it comes and memory stays bounded by the longest value.

use zeroize::Zeroizing;

/// Values shorter than this are not masked: replacing every `a` or `1` would garble the output
/// while hiding nothing a guess would not find. (`run --mask` warns about such values.)
pub const MIN_MASK_LEN: usize = 3;

pub struct Masker {
    /// (value, replacement), longest value first.
    needles: Vec<(Zeroizing<Vec<u8>>, Vec<u8>)>,
    held: Zeroizing<Vec<u8>>,
}

impl Masker {
    pub fn new<'a>(values: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Masker {
        let mut needles: Vec<(Zeroizing<Vec<u8>>, Vec<u8>)> = values
            .into_iter()
            .filter(|(_, v)| v.len() >= MIN_MASK_LEN)
            .map(|(name, v)| (Zeroizing::new(v.to_vec()), format!("<{name}>").into_bytes()))
            .collect();
        needles.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        Masker {
            needles,
            held: Zeroizing::new(Vec::new()),
        }
    }

    /// Masks what can be decided now; keeps a possible partial match for the next call.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let (out, keep_from) = self.scan(false);
        let rest = self.held[keep_from..].to_vec();
        self.held.clear();
        self.held.extend_from_slice(&rest);
        out
    }

    /// Everything that is left, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let (out, _) = self.scan(true);
        self.held.clear();
        out
    }

    fn scan(&self, at_end: bool) -> (Vec<u8>, usize) {
        let buf = &self.held[..];
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        'outer: while i < buf.len() {
            let rest = &buf[i..];
            let mut could_grow = false;
            for (value, replacement) in &self.needles {
                if rest.starts_with(value) {
                    // A longer value may still be arriving that starts here too.
                    if !at_end
                        && self
                            .needles
                            .iter()
                            .any(|(v, _)| v.len() > value.len() && v.starts_with(rest))
                    {
                        return (out, i);
                    }
                    out.extend_from_slice(replacement);
                    i += value.len();
                    continue 'outer;
                }
                if !at_end && rest.len() < value.len() && value.starts_with(rest) {
                    could_grow = true;
                }
            }
            if could_grow {
                return (out, i);
            }
            out.push(buf[i]);
            i += 1;
        }
        (out, buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn whole(values: &[(&str, &[u8])], input: &[u8]) -> Vec<u8> {
        let mut m = Masker::new(values.iter().copied());
        let mut out = m.feed(input);
        out.extend(m.finish());
        out
    }

    #[test]
    fn masks_values_and_keeps_the_rest() {
        let v: &[(&str, &[u8])] = &[("TOKEN", b"s3cr3t"), ("DB", b"hunter2")];
        assert_eq!(
            whole(v, b"token=s3cr3t db=hunter2 ok"),
            b"token=<TOKEN> db=<DB> ok"
        );
    }

    #[test]
    fn longest_value_wins_when_one_contains_another() {
        let v: &[(&str, &[u8])] = &[("SHORT", b"abc"), ("LONG", b"abcdef")];
        assert_eq!(whole(v, b"xabcdefx abcx"), b"x<LONG>x <SHORT>x");
    }

    #[test]
    fn short_values_are_not_masked() {
        assert_eq!(whole(&[("A", b"ab")], b"abab"), b"abab");
    }

    #[test]
    fn a_value_split_across_reads_is_masked() {
        let mut m = Masker::new([("T", &b"secret-value"[..])]);
        let mut out = m.feed(b"start secr");
        assert_eq!(out, b"start ", "the possible start is held back");
        out.extend(m.feed(b"et-val"));
        out.extend(m.feed(b"ue end"));
        out.extend(m.finish());
        assert_eq!(out, b"start <T> end");
    }

    proptest! {
        /// However the stream is cut into reads, the result is the same as masking it whole,
        /// and no value survives.
        #[test]
        fn chunking_never_changes_the_result(
            values in prop::collection::vec(prop::collection::vec(prop::sample::select(b"abc\n".to_vec()), 3..8), 1..4),
            text in prop::collection::vec(prop::sample::select(b"abc\nx".to_vec()), 0..200),
            cuts in prop::collection::vec(0usize..200, 0..10),
        ) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("V{i}")).collect();
            let pairs: Vec<(&str, &[u8])> = names.iter().map(String::as_str).zip(values.iter().map(Vec::as_slice)).collect();
            let expected = whole(&pairs, &text);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut m = Masker::new(pairs.iter().copied());
            let mut out = Vec::new();
            let mut last = 0;
            for c in cuts {
                out.extend(m.feed(&text[last..c]));
                last = c;
            }
            out.extend(m.feed(&text[last..]));
            out.extend(m.finish());
            prop_assert_eq!(&out, &expected);
        }
    }
}
