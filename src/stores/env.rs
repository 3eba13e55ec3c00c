//! `env:VAR` — another environment variable (CI-native secrets).

use super::{Outcome, Store};
use crate::context::Context;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct Env;

impl Store for Env {
    fn is_instant(&self) -> bool {
        true
    }

    fn fetch_one(&self, reference: &Reference, _timeout: Duration, ctx: &Context) -> Outcome {
        let Reference::Env { var } = reference else {
            unreachable!("env store got {reference}")
        };
        use std::os::unix::ffi::OsStringExt;
        match ctx.getenv(var) {
            // Unset or empty is "not found": CI systems expand an undefined secret to "".
            Some(v) if !v.is_empty() => Outcome::Found(SecretValue::new(v.into_vec())),
            _ => Outcome::NotFound,
        }
    }
}
