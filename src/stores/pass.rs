//! `pass:PATH[#all]` — `pass show PATH`; the first line (the password) or the whole entry.

use super::{cli_failed, run_cli, Outcome, Store, StoreError};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::path::PathBuf;
use std::time::Duration;

pub struct Pass;

const INSTALL: &str = "is `pass` installed? (apt install pass / brew install pass)";

impl Pass {
    fn store_dir(ctx: &Context) -> Option<PathBuf> {
        ctx.getenv("PASSWORD_STORE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                ctx.getenv("HOME")
                    .map(|h| PathBuf::from(h).join(".password-store"))
            })
    }
}

impl Pass {
    /// The whole entry with `value` as its first line and every other line byte for byte: the
    /// password is line 1, and the lines after it (username, URL, a TOTP seed, recovery codes)
    /// are not ours to touch. A missing entry is just `value`; an entry that cannot be read
    /// stops the write (starting from nothing would erase what could not be read).
    fn with_first_line(
        &self,
        path: &str,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<SecretValue, StoreError> {
        if value.expose().contains(&b'\n') {
            return Err(StoreError::new(format!(
                "pass:{path} holds the password on its first line, and this value has a newline"
            ))
            .fix(format!(
                "write the whole entry instead: --ref pass:{path}#all"
            )));
        }
        let whole = Reference::Pass {
            path: path.to_string(),
            whole_entry: true,
        };
        let old = match self.fetch_one(&whole, timeout, ctx) {
            Outcome::Found(old) => old,
            Outcome::NotFound => return Ok(value.clone()),
            Outcome::Failed(e) => {
                return Err(StoreError::new(format!(
                    "nothing written: pass:{path} could not be read to keep its other lines: {}",
                    e.message
                ))
                .fix(e.fix.unwrap_or_else(|| "run `pass show` by hand".into())))
            }
        };
        let rest = old
            .expose()
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&[][..], |i| &old.expose()[i..]);
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(value.len() + rest.len()));
        crate::secret::extend_wiping(&mut bytes, value.expose());
        crate::secret::extend_wiping(&mut bytes, rest);
        Ok(SecretValue::new(std::mem::take(&mut *bytes)))
    }

    /// `pass ARGS` (with `stdin`), succeeding or the store error.
    fn pass(
        &self,
        ctx: &Context,
        timeout: Duration,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let mut child = Child::new(ctx.command("pass"), timeout).args(args);
        if let Some(bytes) = stdin {
            child = child.stdin(bytes);
        }
        let out = run_cli(child, INSTALL)?;
        if out.exit.success() {
            Ok(())
        } else {
            Err(cli_failed(
                "pass",
                out,
                "check `pass init` was run and the gpg key is available",
            ))
        }
    }
}

impl Store for Pass {
    /// Only a store kept in git (`pass git init`) keeps what a write replaces.
    fn keeps_history(&self, _reference: &Reference, ctx: &Context) -> Option<String> {
        Self::store_dir(ctx)
            .filter(|d| d.join(".git").exists())
            .map(|_| "the password store's git history keeps it (`pass git log`)".to_string())
    }

    fn can_write(&self) -> bool {
        true
    }

    fn can_remove(&self) -> bool {
        true
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["PASSWORD_STORE_DIR", "GNUPGHOME"]
    }

    /// May ask the person (a passphrase, an unlock, a biometric prompt): see `Store::may_prompt`.
    /// gpg's pinentry, unless `--no-prompt` (then gpg runs with `--pinentry-mode error`).
    fn may_prompt(&self, ctx: &Context) -> bool {
        !ctx.no_prompt
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::Pass { path, whole_entry } = reference else {
            unreachable!("pass store got {reference}")
        };
        // `pass show FOLDER` exits 0 printing a tree: that is not a secret.
        if let Some(dir) = Self::store_dir(ctx) {
            if dir.join(path).is_dir() && !dir.join(format!("{path}.gpg")).exists() {
                return Outcome::Failed(
                    StoreError::new(format!(
                        "`{path}` is a folder in the password store, not an entry"
                    ))
                    .fix(format!("name an entry inside it (see `pass ls {path}`)")),
                );
            }
        }
        let mut child = Child::new(ctx.command("pass"), timeout)
            .arg("show")
            .arg("--")
            .arg(path);
        if ctx.no_prompt {
            // `--no-prompt` holds for gpg too: a key whose passphrase the agent does not hold
            // fails at once instead of raising pinentry (pass adds these options to gpg's).
            let mut opts = ctx.getenv("PASSWORD_STORE_GPG_OPTS").unwrap_or_default();
            opts.push(" --pinentry-mode error");
            child = child.env("PASSWORD_STORE_GPG_OPTS", opts);
        }
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if !out.exit.success() {
            let text = out.stderr.scrubbed(&Default::default());
            if text.contains("is not in the password store") {
                return Outcome::NotFound;
            }
            let fix = if ctx.no_prompt {
                format!("with --no-prompt gpg may not ask for your key's passphrase: unlock the key first (run `pass show {path}` on a terminal), or drop --no-prompt")
            } else {
                format!(
                    "run `pass show {path}` by hand: is gpg-agent running and the key available?"
                )
            };
            return Outcome::Failed(cli_failed("pass", out, &fix));
        }
        if out.stdout.is_empty() {
            return super::found_unless_empty("pass", reference, out.stdout);
        }
        if *whole_entry {
            return Outcome::Found(out.stdout);
        }
        let bytes = out.stdout.expose();
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
        Outcome::Found(SecretValue::new(first.to_vec()))
    }

    /// The entry file's last git commit when the store is a git repository, else its mtime.
    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let Reference::Pass { path, .. } = reference else {
            unreachable!("pass store got {reference}")
        };
        let Some(dir) = Self::store_dir(ctx) else {
            return Ok(None);
        };
        let file = format!("{path}.gpg");
        if dir.join(".git").exists() {
            let child = Child::new(ctx.command("git"), timeout)
                .arg("-C")
                .arg(&dir)
                .args(["log", "-1", "--format=%ct", "--"])
                .arg(&file);
            if let Ok(out) = run_cli(child, "install git") {
                let text = String::from_utf8_lossy(out.stdout.expose())
                    .trim()
                    .to_string();
                if let (true, Ok(secs)) = (out.exit.success(), text.parse::<i64>()) {
                    return Ok(Some(secs));
                }
            }
        }
        super::mtime_secs(&dir.join(&file))
    }

    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let Reference::Pass { path, whole_entry } = reference else {
            unreachable!("pass store got {reference}")
        };
        let entry_file = Self::store_dir(ctx).map(|d| d.join(format!("{path}.gpg")));
        let ciphertext = || entry_file.as_ref().and_then(|f| std::fs::read(f).ok());
        let before = ciphertext();
        let new = if *whole_entry {
            value.clone()
        } else {
            self.with_first_line(path, value, timeout, ctx)?
        };
        // Written under a sibling name, then renamed over the entry: a write killed mid-gpg
        // leaves the old entry whole (pass encrypts straight into the file it names).
        let staged = format!("{path}.jit-secrets-{}", std::process::id());
        self.pass(
            ctx,
            timeout,
            &["insert", "-m", "-f", "--", &staged],
            Some(new.expose()),
        )?;
        // Someone wrote the entry since we read it: theirs stands, ours is dropped.
        if ciphertext() != before {
            let _ = self.pass(ctx, timeout, &["rm", "-f", "--", &staged], None);
            return Err(StoreError::new(format!(
                "pass:{path} changed since it was read; nothing written"
            ))
            .fix("run the command again"));
        }
        self.pass(ctx, timeout, &["mv", "-f", "--", &staged, path], None)
    }

    fn remove(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<usize, StoreError> {
        let Reference::Pass { path, .. } = reference else {
            unreachable!("pass store got {reference}")
        };
        let child = Child::new(ctx.command("pass"), timeout)
            .args(["rm", "-f", "--"])
            .arg(path);
        let out = run_cli(child, INSTALL)?;
        match (
            out.exit.success(),
            out.stderr
                .scrubbed(&Default::default())
                .contains("is not in the password store"),
        ) {
            (true, _) => Ok(1),
            (false, true) => Ok(0),
            (false, false) => Err(cli_failed("pass", out, "run `pass rm` by hand to see")),
        }
    }
}
