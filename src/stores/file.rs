//! `file:PATH` — read a file (agenix/sops-nix paths like `/run/agenix/db`).

use super::{Outcome, Store, StoreError};
use crate::context::Context;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::path::PathBuf;
use std::time::Duration;

pub struct File;

/// Secrets are small; a larger file is a wrong path, not a secret.
const MAX_FILE: u64 = 16 * 1024 * 1024;

impl Store for File {
    fn is_instant(&self) -> bool {
        true
    }

    fn last_changed(
        &self,
        reference: &Reference,
        _timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let Reference::File { path } = reference else {
            unreachable!("file store got {reference}")
        };
        let path = match (path.strip_prefix("~"), ctx.getenv("HOME")) {
            (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => path.clone(),
        };
        super::mtime_secs(&path)
    }

    fn fetch_one(&self, reference: &Reference, _timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::File { path } = reference else {
            unreachable!("file store got {reference}")
        };
        let path = match path.strip_prefix("~") {
            Ok(rest) => match ctx.getenv("HOME") {
                Some(home) => PathBuf::from(home).join(rest),
                None => {
                    return Outcome::Failed(
                        StoreError::new("cannot expand `~`: HOME is not set")
                            .fix("use an absolute path"),
                    )
                }
            },
            Err(_) => path.clone(),
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Outcome::NotFound,
            Err(e) => {
                return Outcome::Failed(
                    StoreError::new(format!("cannot read {}: {e}", path.display()))
                        .fix("check the file's permissions (agenix/sops-nix files are often root-only: set `owner`)"),
                )
            }
        };
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Outcome::Failed(
                StoreError::new(format!("{} is a directory", path.display()))
                    .fix("point `file:` at a file"),
            );
        }
        match crate::secret::read_to_end_wiping(file, MAX_FILE) {
            Ok(buf) if buf.len() as u64 > MAX_FILE => Outcome::Failed(
                StoreError::new(format!(
                    "{} is larger than {MAX_FILE} bytes",
                    path.display()
                ))
                .fix("check the path points at a secret"),
            ),
            Ok(mut buf) => Outcome::Found(SecretValue::new(std::mem::take(&mut *buf))),
            Err(e) => Outcome::Failed(StoreError::new(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}
