//! `secret-tool:ATTR=VAL&…` — `secret-tool lookup ATTR VAL …` (libsecret's CLI).

use super::StoreError;
use super::{cli_failed, run_cli, Outcome, Store};
use crate::context::Context;
use crate::process::{Child, Exit};
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct SecretTool;

const INSTALL: &str = "install libsecret's CLI (apt install libsecret-tools)";
const RUNNING: &str =
    "is a Secret Service (gnome-keyring, KeePassXC) running and unlocked in this session?";

impl Store for SecretTool {
    fn can_write(&self) -> bool {
        true
    }

    fn can_remove(&self) -> bool {
        true
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["DBUS_SESSION_BUS_ADDRESS"]
    }

    /// May ask the person (a passphrase, an unlock, a biometric prompt): see `Store::may_prompt`.
    /// It cannot be kept from asking: 1Password, the keyring's unlock and gpg (for sops' PGP keys)
    /// prompt outside our process.
    fn may_prompt(&self, _ctx: &Context) -> bool {
        true
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::SecretTool { attributes } = reference else {
            unreachable!("secret-tool store got {reference}")
        };
        let mut child = Child::new(ctx.command("secret-tool"), timeout).arg("lookup");
        for (k, v) in attributes {
            child = child.arg(k).arg(v);
        }
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        match (out.exit, out.stderr.is_blank()) {
            (Exit::Code(0), _) => super::found_unless_empty("secret-tool", reference, out.stdout),
            // `secret-tool lookup` says nothing and exits 1 when no item matches; anything else
            // (a signal, another status, words on stderr) is a failure.
            (Exit::Code(1), true) => Outcome::NotFound,
            _ => Outcome::Failed(cli_failed("secret-tool", out, RUNNING)),
        }
    }

    /// On Linux, in-process through the Secret Service (as `keyring:`): the item whose
    /// attributes are exactly these gets the value, keeping its label; none, a new item; more
    /// than one, an error. `secret-tool store` would replace any item that merely *includes* these
    /// attributes — another application's, rewriting its schema and label.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let Reference::SecretTool { attributes } = reference else {
            unreachable!("secret-tool store got {reference}")
        };
        let label = format!(
            "jit-secrets: {}",
            attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        #[cfg(target_os = "linux")]
        {
            let _ = ctx;
            let prompt = !ctx.no_prompt && std::io::IsTerminal::is_terminal(&std::io::stderr());
            super::keyring::exact::store(attributes.clone(), label, value.clone(), prompt, timeout)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut child = Child::new(ctx.command("secret-tool"), timeout)
                .arg("store")
                .arg(format!("--label={label}"));
            for (k, v) in attributes {
                child = child.arg(k).arg(v);
            }
            let out = run_cli(child.stdin(value.expose()), INSTALL)?;
            if out.exit.success() {
                Ok(())
            } else {
                Err(cli_failed("secret-tool", out, RUNNING))
            }
        }
    }

    fn removal_preview(
        &self,
        reference: &Reference,
        timeout: Duration,
        _ctx: &Context,
    ) -> Result<Vec<String>, StoreError> {
        let Reference::SecretTool { attributes } = reference else {
            unreachable!("secret-tool store got {reference}")
        };
        #[cfg(target_os = "linux")]
        return super::keyring::exact::matching(attributes.clone(), timeout);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (attributes, timeout);
            Ok(vec![reference.to_string()])
        }
    }

    /// Exactly these attributes' items (see `write`); a locked collection is not unlocked.
    fn remove(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<usize, StoreError> {
        let Reference::SecretTool { attributes } = reference else {
            unreachable!("secret-tool store got {reference}")
        };
        #[cfg(target_os = "linux")]
        {
            let _ = ctx;
            super::keyring::exact::delete(attributes.clone(), timeout)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut child = Child::new(ctx.command("secret-tool"), timeout).arg("clear");
            for (k, v) in attributes {
                child = child.arg(k).arg(v);
            }
            let out = run_cli(child, INSTALL)?;
            if out.exit.success() {
                Ok(1)
            } else if out.exit == Exit::Code(1) && out.stderr.is_blank() {
                Ok(0)
            } else {
                Err(cli_failed("secret-tool", out, RUNNING))
            }
        }
    }
}
