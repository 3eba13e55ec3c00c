//! The network helper's room: everything `jit-secrets-net` is, both sides of its pipe.
//!
//! - `helper.rs`: the protocol, the client `jit-secrets` uses to ask the helper (spawned through
//!   `crate::process`, with the call's timeout), and the helper's own side (`serve`), which
//!   `src/bin/jit-secrets-net.rs` runs; it says why this is a helper of its own.
//! - `aws.rs`: the AWS calls and their failures, which both sides and the stores' CLI route share.
//! - `aws_sdk.rs`, `vault_http.rs`, `github_http.rs`, `runtime.rs`: what the helper's side runs (the
//!   AWS SDK, Vault's and GitHub's HTTP APIs, the async runtime they share), behind the `net` feature.
//!
//! Stores and leases ask through [`aws`], [`vault`] and [`lease`]; this room imports neither of
//! them (what a store decides — which route a call takes — stays in `crate::stores`).

pub mod aws;
#[cfg(feature = "net")]
pub mod aws_sdk;
#[cfg(feature = "net")]
mod github_http;
mod helper;
#[cfg(feature = "net")]
mod https;
#[cfg(feature = "net")]
mod runtime;
pub mod vault_http;

#[cfg(feature = "net")]
pub use helper::{answer, serve};
pub use helper::{aws, lease, vault, HELPER};
