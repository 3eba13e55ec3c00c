//! `keyring:SERVICE[?account=NAME]` — the native OS keyring, in-process.

use super::{Context, Outcome, Store, StoreError};
use crate::reference::Reference;
use std::time::Duration;

pub struct Keyring;

impl Store for Keyring {
    fn fetch_one(&self, reference: &Reference, _timeout: Duration, _ctx: &Context) -> Outcome {
        Outcome::Failed(
            StoreError::new(format!("{reference}: the native keyring is not built yet"))
                .fix("use secret-tool:service=…&account=… meanwhile"),
        )
    }
}
