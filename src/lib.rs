//! jit-secrets as a library: the modules the binary wires together, exposed for the fuzz targets,
//! the benchmark and tests that need the types themselves (e.g. proving values are zeroized).

pub mod cache;
pub mod cli;
pub mod commands;
pub mod context;
pub mod file_lock;
pub mod generate;
pub mod kernel_keyring;
pub mod lease;
pub mod manifest;
pub mod manifest_edit;
pub mod mask;
pub mod net;
pub mod printable;
pub mod process;
pub mod reference;
pub mod resolve;
pub mod run_context;
pub mod scoped;
pub mod secret;
pub mod shell;
pub mod store_error;
pub mod stores;
pub mod time;
pub mod trust;
pub mod tty;
