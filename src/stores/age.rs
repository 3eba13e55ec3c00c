//! `age:PATH` — an age-encrypted file decrypted in-process (the `age` crate), agenix's model: a
//! repo's `secrets/*.age` work in a dev shell without the NixOS module. The plaintext stays in
//! memory.
//!
//! Identities: `$JIT_SECRETS_AGE_IDENTITY`, else `identity` in `[secrets.options]` (either one is
//! used alone), else every one of `~/.config/age/keys.txt`, `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`
//! that exists. A passphrase-protected (scrypt) file is asked for on the terminal only, never
//! with `--no-prompt` or without one; wrong passphrases back off exponentially.

use super::{Outcome, Store, StoreError};
use crate::context::Context;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Age;

const PASSPHRASE_TRIES: u32 = 3;

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn expand(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), home()) {
        (Ok(rest), Some(h)) => h.join(rest),
        _ => path.to_path_buf(),
    }
}

/// Which identity files to try, and whether the user named them.
fn identity_paths(ctx: &Context) -> (Vec<PathBuf>, bool) {
    if let Some(p) = ctx
        .getenv("JIT_SECRETS_AGE_IDENTITY")
        .filter(|v| !v.is_empty())
    {
        return (vec![expand(Path::new(&p))], true);
    }
    if let Some(p) = &ctx.age_identity {
        return (vec![expand(p)], true);
    }
    let Some(h) = home() else {
        return (Vec::new(), false);
    };
    let defaults = [
        h.join(".config/age/keys.txt"),
        h.join(".ssh/id_ed25519"),
        h.join(".ssh/id_rsa"),
    ];
    (
        defaults.into_iter().filter(|p| p.is_file()).collect(),
        false,
    )
}

/// Reads an age identity file, or an SSH private key; an encrypted SSH key is skipped with a note.
fn load_identities(
    path: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<Box<dyn age::Identity>>, StoreError> {
    let shown = path.display().to_string();
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
        StoreError::new(format!("cannot read the age identity {shown}: {e}"))
            .fix("set JIT_SECRETS_AGE_IDENTITY to your key file")
    })?);
    if let Ok(file) = age::IdentityFile::from_buffer(&bytes[..]) {
        if let Ok(ids) = file.into_identities() {
            if !ids.is_empty() {
                return Ok(ids);
            }
        }
    }
    match age::ssh::Identity::from_buffer(BufReader::new(&bytes[..]), Some(shown.clone())) {
        Ok(age::ssh::Identity::Unencrypted(key)) => {
            Ok(vec![Box::new(age::ssh::Identity::Unencrypted(key))])
        }
        Ok(age::ssh::Identity::Encrypted(_)) => {
            notes.push(format!("{shown} is a passphrase-protected SSH key (not used: decrypt it into an age key file)"));
            Ok(Vec::new())
        }
        Ok(age::ssh::Identity::Unsupported(_)) | Err(_) => {
            notes.push(format!(
                "{shown} holds no age or SSH key jit-secrets can use"
            ));
            Ok(Vec::new())
        }
    }
}

/// The decrypted bytes, read into a buffer that leaves no unwiped copy as it grows.
fn plaintext(stream: impl Read, shown: &impl std::fmt::Display) -> Outcome {
    match crate::secret::read_to_end_wiping(stream, u64::MAX) {
        Ok(mut plain) => Outcome::Found(SecretValue::new(std::mem::take(&mut *plain))),
        Err(e) => Outcome::Failed(StoreError::new(format!("{shown} is corrupt: {e}"))),
    }
}

/// The recipient stanzas of an age file's header, for "this file expects…" messages.
fn recipients(ciphertext: &[u8]) -> Vec<String> {
    let text = if ciphertext.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        let mut plain = Vec::new();
        let _ = age::armor::ArmoredReader::new(ciphertext).read_to_end(&mut plain);
        plain
    } else {
        ciphertext.to_vec()
    };
    text.split(|&b| b == b'\n')
        .take_while(|l| !l.starts_with(b"---"))
        .filter_map(|l| l.strip_prefix(b"-> "))
        .map(|l| {
            let parts: Vec<String> = String::from_utf8_lossy(l)
                .split(' ')
                .map(str::to_string)
                .collect();
            match parts[0].as_str() {
                kind @ ("ssh-ed25519" | "ssh-rsa") => format!(
                    "{kind} (key tag {})",
                    parts.get(1).cloned().unwrap_or_default()
                ),
                kind => kind.to_string(),
            }
        })
        .collect()
}

fn decrypt(path: &Path, ciphertext: &[u8], ctx: &Context) -> Outcome {
    let shown = path.display();
    let reader: Box<dyn Read> = Box::new(age::armor::ArmoredReader::new(ciphertext));
    let decryptor = match age::Decryptor::new(reader) {
        Ok(d) => d,
        Err(e) => {
            return Outcome::Failed(
                StoreError::new(format!("{shown} is not an age file: {e}"))
                    .fix("check the path; encrypt with `age -r RECIPIENT`"),
            )
        }
    };
    if decryptor.is_scrypt() {
        if !ctx.may_ask_on_terminal() {
            return Outcome::Failed(
                StoreError::new(format!("{shown} is passphrase-protected and there is no terminal to ask on (or --no-prompt)"))
                    .fix("run activate in a terminal, or re-encrypt the file to a key: age -r RECIPIENT"),
            );
        }
        // Each attempt needs a fresh decryptor: the header is consumed.
        for attempt in 0..PASSPHRASE_TRIES {
            if attempt > 0 {
                // Exponential back-off makes guessing through this prompt slow.
                std::thread::sleep(Duration::from_secs(1 << attempt));
            }
            let passphrase = match crate::tty::prompt_hidden(&format!("Passphrase for {shown}: ")) {
                Ok(p) => p,
                Err(e) => {
                    return Outcome::Failed(StoreError::new(format!(
                        "cannot read a passphrase: {e}"
                    )))
                }
            };
            let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
                String::from_utf8_lossy(&passphrase).into_owned(),
            ));
            let reader: Box<dyn Read> = Box::new(age::armor::ArmoredReader::new(ciphertext));
            let Ok(fresh) = age::Decryptor::new(reader) else {
                break;
            };
            if let Ok(stream) = fresh.decrypt(std::iter::once(&identity as &dyn age::Identity)) {
                return plaintext(stream, &shown);
            }
        }
        return Outcome::Failed(
            StoreError::new(format!(
                "wrong passphrase for {shown} ({PASSPHRASE_TRIES} tries)"
            ))
            .fix("try again"),
        );
    }
    let (paths, named) = identity_paths(ctx);
    let mut notes = Vec::new();
    let mut identities: Vec<Box<dyn age::Identity>> = Vec::new();
    for p in &paths {
        match load_identities(p, &mut notes) {
            Ok(ids) => identities.extend(ids),
            Err(e) if named => return Outcome::Failed(e),
            Err(_) => {}
        }
    }
    let expects = recipients(ciphertext).join(", ");
    if identities.is_empty() {
        let mut e = StoreError::new(format!("no age identity to decrypt {shown} with (it is encrypted to: {expects})"))
            .fix("create ~/.config/age/keys.txt (age-keygen), or set JIT_SECRETS_AGE_IDENTITY / `identity` in [secrets.options]");
        if !notes.is_empty() {
            e.message.push_str(&format!("; {}", notes.join("; ")));
        }
        return Outcome::Failed(e);
    }
    match decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)) {
        Ok(stream) => plaintext(stream, &shown),
        Err(age::DecryptError::NoMatchingKeys) => {
            let tried: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            Outcome::Failed(
                StoreError::new(format!("none of your age identities can decrypt {shown}: it is encrypted to {expects}; tried {}", tried.join(", ")))
                    .fix("use the key this file was encrypted to (JIT_SECRETS_AGE_IDENTITY), or re-encrypt it to yours (agenix -r)"),
            )
        }
        Err(e) => Outcome::Failed(
            StoreError::new(format!("cannot decrypt {shown}: {e}"))
                .fix("check the file and your identity"),
        ),
    }
}

impl Store for Age {
    /// May ask the person (a passphrase, an unlock, a biometric prompt): see `Store::may_prompt`.
    /// A passphrase, asked only on a terminal and never with `--no-prompt`.
    fn may_prompt(&self, ctx: &Context) -> bool {
        ctx.may_ask_on_terminal()
    }

    fn fetch_one(&self, reference: &Reference, _timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::Age { file } = reference else {
            unreachable!("age store got {reference}")
        };
        let path = expand(file);
        let ciphertext = match std::fs::read(&path) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Outcome::NotFound,
            Err(e) => {
                return Outcome::Failed(
                    StoreError::new(format!("cannot read {}: {e}", path.display()))
                        .fix("check the file's permissions"),
                )
            }
        };
        decrypt(&path, &ciphertext, ctx)
    }

    fn last_changed(
        &self,
        reference: &Reference,
        _timeout: Duration,
        _ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let Reference::Age { file } = reference else {
            unreachable!("age store got {reference}")
        };
        super::mtime_secs(&expand(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_recipient_stanzas_for_messages() {
        let header = b"age-encryption.org/v1\n-> X25519 abc\nxyz\n-> ssh-ed25519 Tag123 def\nuvw\n--- mac\nbody";
        assert_eq!(
            recipients(header),
            ["X25519", "ssh-ed25519 (key tag Tag123)"]
        );
    }
}
