//! The error every call to a store or backend ends in: a store's fetch or write, the network
//! helper's answer, a lease's create or revoke, a CLI that could not run or failed.
//!
//! Its own file because three rooms make it and none of them owns the others: `crate::stores`,
//! `crate::net` (both sides of the helper's pipe carry it) and `crate::lease`, with
//! `crate::process::cli` turning a failed CLI into one. Here, each of them imports it without
//! importing another room.

use crate::secret::Tainted;

/// A store failure: our words (never a value), the child's stderr (shown only scrubbed), and
/// what the user can do about it.
#[derive(Debug, Clone)]
pub struct StoreError {
    pub message: String,
    pub stderr: Option<Tainted>,
    pub fix: Option<String>,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            stderr: None,
            fix: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn with_stderr(mut self, stderr: Tainted) -> Self {
        if !stderr.is_blank() {
            self.stderr = Some(stderr);
        }
        self
    }
}
