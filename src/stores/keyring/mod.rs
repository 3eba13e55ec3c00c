//! `keyring:SERVICE[?account=NAME]` — the native OS keyring, in-process: no child process and,
//! on Linux, one D-Bus connection and one encrypted session for every entry of an activation.
//!
//! The lookups find exactly what the usual commands find, so existing items keep working:
//! - Linux: `secret-tool lookup service SERVICE account NAME` (attributes `{service, account}`),
//!   then the `keyring` crate's `{service, username}`;
//! - macOS: `security find-generic-password -s SERVICE -a NAME -w`.

use super::{Outcome, Store, StoreError};
use crate::context::Context;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::io::IsTerminal;
use std::time::Duration;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as platform;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as platform;

/// One item to find: the service and the account (defaulted to the login name).
#[derive(Clone, Debug)]
pub struct Lookup {
    pub service: String,
    pub account: String,
    /// `keyring_scope = "project"`: the manifest's directory, which the item must carry too.
    pub project: Option<String>,
}

pub struct Keyring;

/// Prompting (an unlock dialog) only makes sense for a person at a terminal.
fn may_prompt(ctx: &Context) -> bool {
    !ctx.no_prompt && std::io::stderr().is_terminal()
}

pub fn lookup_for(reference: &Reference, ctx: &Context) -> Result<Lookup, StoreError> {
    let Reference::Keyring { service, account } = reference else {
        unreachable!("keyring store got {reference}")
    };
    let account =
        match account.clone().or_else(|| ctx.user()) {
            Some(a) => a,
            None => return Err(StoreError::new(
                "cannot tell which account to look up: $USER is unset and there is no login name",
            )
            .fix(format!("add the account: keyring:{service}?account=NAME"))),
        };
    Ok(Lookup {
        service: service.clone(),
        account,
        project: ctx.keyring_project.clone(),
    })
}

/// The Secret Service client is shared with `secret-tool:` for its writes and deletes, which must
/// match items exactly (see `linux::store_exactly`); its reads stay with the `secret-tool` CLI.
#[cfg(target_os = "linux")]
pub(super) mod exact {
    use super::*;

    pub fn store(
        attributes: Vec<(String, String)>,
        label: String,
        value: SecretValue,
        prompt: bool,
        timeout: Duration,
    ) -> Result<(), StoreError> {
        with_timeout(timeout, move || {
            linux::store_exactly(&attributes, &label, &value, prompt)
        })
    }

    pub fn delete(
        attributes: Vec<(String, String)>,
        timeout: Duration,
    ) -> Result<usize, StoreError> {
        with_timeout(timeout, move || linux::delete_exactly(&attributes))
    }

    pub fn matching(
        attributes: Vec<(String, String)>,
        timeout: Duration,
    ) -> Result<Vec<String>, StoreError> {
        with_timeout(timeout, move || linux::matching_exactly(&attributes))
    }
}

/// Runs a keyring operation on its own thread so a bus that never answers cannot hang us past
/// `timeout` (the thread is abandoned; the process exits soon after).
fn with_timeout<T: Send + 'static>(
    timeout: Duration,
    op: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(op());
    });
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        Err(StoreError::new(format!(
            "the OS keyring did not answer within {}s",
            timeout.as_secs_f64()
        ))
        .fix(
            "check the Secret Service (gnome-keyring, KeePassXC) is responsive, or raise `timeout`",
        ))
    })
}

impl Store for Keyring {
    fn can_write(&self) -> bool {
        true
    }

    fn can_remove(&self) -> bool {
        true
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["DBUS_SESSION_BUS_ADDRESS", "USER"]
    }

    fn batch_key(&self, _reference: &Reference) -> String {
        String::new()
    }

    /// Every keyring entry in one batch: one connection, one session.
    fn max_batch(&self) -> usize {
        usize::MAX
    }

    /// May ask the person (a passphrase, an unlock, a biometric prompt): see `Store::may_prompt`.
    fn may_prompt(&self, ctx: &Context) -> bool {
        may_prompt(ctx)
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let lookup = lookup_for(reference, ctx)?;
        let prompt = may_prompt(ctx);
        #[cfg(target_os = "linux")]
        return with_timeout(timeout, move || linux::modified(&lookup, prompt));
        // The Keychain's modification date is not read yet: say "unknown" rather than guess.
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (lookup, prompt, timeout);
            Ok(None)
        }
    }

    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        store(reference, value.clone(), timeout, ctx)
    }

    fn remove(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<usize, StoreError> {
        delete(reference, timeout, ctx)
    }

    fn removal_preview(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Vec<String>, StoreError> {
        let lookup = lookup_for(reference, ctx)?;
        #[cfg(target_os = "linux")]
        return with_timeout(timeout, move || linux::matching(&lookup));
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (lookup, timeout);
            Ok(vec![reference.to_string()])
        }
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let mut lookups = Vec::new();
        let mut early: Vec<Option<Outcome>> = Vec::new();
        for r in refs {
            match lookup_for(r, ctx) {
                Ok(l) => {
                    lookups.push(l);
                    early.push(None);
                }
                Err(e) => early.push(Some(Outcome::Failed(e))),
            }
        }
        let prompt = may_prompt(ctx);
        let fetched = if lookups.is_empty() {
            Ok(Vec::new())
        } else {
            with_timeout(timeout, move || platform_fetch(&lookups, prompt))
        };
        let mut fetched = match fetched {
            Ok(v) => v.into_iter(),
            Err(e) => {
                // One connection failed: every entry shares that one error.
                return super::fail_batch(refs, e);
            }
        };
        let outcomes: Vec<Outcome> = early
            .into_iter()
            .map(|o| o.unwrap_or_else(|| fetched.next().expect("one outcome per lookup")))
            .collect();
        // Project scope: a global item is not matched; say so where one exists.
        #[cfg(any(target_os = "linux", target_os = "macos"))]
        if ctx.keyring_project.is_some() {
            for (r, o) in refs.iter().zip(&outcomes) {
                if matches!(o, Outcome::NotFound) {
                    if let Ok(l) = lookup_for(r, ctx) {
                        if platform::global_item_exists(&l) {
                            ctx.note(format!(
                                "{r}: a global item exists, but keyring_scope = \"project\" looks only for this project's; run `jit-secrets setup`, or remove keyring_scope"
                            ));
                        }
                    }
                }
            }
        }
        outcomes
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn platform_fetch(lookups: &[Lookup], prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    platform::fetch_all(lookups, prompt)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn platform_fetch(_lookups: &[Lookup], _prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    Err(unsupported())
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn unsupported() -> StoreError {
    StoreError::new("keyring: not supported on this OS")
        .fix("use pass:, op://, vault:, file: or env: instead")
}

/// Stores (or replaces) the item that a lookup of `reference` finds.
fn store(
    reference: &Reference,
    value: SecretValue,
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    let lookup = lookup_for(reference, ctx)?;
    let prompt = may_prompt(ctx);
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    return with_timeout(timeout, move || platform::store(&lookup, &value, prompt));
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = (lookup, value, prompt, timeout);
        Err(unsupported())
    }
}

/// Deletes the items a lookup of `reference` finds; how many were removed.
fn delete(reference: &Reference, timeout: Duration, ctx: &Context) -> Result<usize, StoreError> {
    let lookup = lookup_for(reference, ctx)?;
    let prompt = may_prompt(ctx);
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    return with_timeout(timeout, move || platform::delete(&lookup, prompt));
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = (lookup, prompt, timeout);
        Err(unsupported())
    }
}
