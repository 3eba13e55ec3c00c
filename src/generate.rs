//! New secret values from the OS CSPRNG (`rotate`): uniform over the charset by rejection
//! sampling, so no character is more likely than another.

use crate::secret::SecretValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Charset {
    /// A-Z a-z 0-9
    Alnum,
    /// 0-9 a-f
    Hex,
    /// A-Z a-z 0-9 + /
    Base64,
    /// Printable ASCII without space (! to ~)
    Ascii,
}

impl Charset {
    pub fn alphabet(self) -> Vec<u8> {
        match self {
            Charset::Alnum => (b'A'..=b'Z')
                .chain(b'a'..=b'z')
                .chain(b'0'..=b'9')
                .collect(),
            Charset::Hex => (b'0'..=b'9').chain(b'a'..=b'f').collect(),
            Charset::Base64 => (b'A'..=b'Z')
                .chain(b'a'..=b'z')
                .chain(b'0'..=b'9')
                .chain([b'+', b'/'])
                .collect(),
            Charset::Ascii => (b'!'..=b'~').collect(),
        }
    }
}

pub fn random_value(length: usize, charset: Charset) -> Result<SecretValue, getrandom::Error> {
    let alphabet = charset.alphabet();
    // Accept bytes below the largest multiple of the alphabet size: each symbol equally likely.
    let limit = 256 - (256 % alphabet.len());
    let mut out = Vec::with_capacity(length);
    let mut pool = zeroize::Zeroizing::new([0u8; 64]);
    while out.len() < length {
        getrandom::fill(&mut pool[..])?;
        for &b in pool.iter() {
            if (b as usize) < limit && out.len() < length {
                out.push(alphabet[b as usize % alphabet.len()]);
            }
        }
    }
    Ok(SecretValue::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_length_and_charset_asked_for() {
        for charset in [
            Charset::Alnum,
            Charset::Hex,
            Charset::Base64,
            Charset::Ascii,
        ] {
            let alphabet = charset.alphabet();
            let v = random_value(100, charset).unwrap();
            assert_eq!(v.len(), 100);
            assert!(
                v.expose().iter().all(|b| alphabet.contains(b)),
                "{charset:?}"
            );
        }
        assert_ne!(
            random_value(32, Charset::Alnum).unwrap(),
            random_value(32, Charset::Alnum).unwrap()
        );
    }

    #[test]
    fn every_symbol_appears_roughly_equally() {
        // Alnum has 62 symbols, which do not divide 256: without rejection sampling the first
        // 8 symbols would come up 5 times in 256 instead of 4 (about 12_100 each here instead
        // of 10_000), far outside the bound. (Hex, 16 symbols, could not tell the difference.)
        let alphabet = Charset::Alnum.alphabet();
        let v = random_value(620_000, Charset::Alnum).unwrap();
        let mut counts = [0usize; 62];
        for &b in v.expose() {
            counts[alphabet.iter().position(|&a| a == b).unwrap()] += 1;
        }
        // 10_000 expected each; 6 sigma is about ±600.
        assert!(
            counts.iter().all(|&c| (9_400..10_600).contains(&c)),
            "{counts:?}"
        );
    }
}
