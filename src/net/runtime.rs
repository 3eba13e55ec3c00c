//! The async runtime of `jit-secrets-net` (the AWS SDK, Vault's HTTP API): one worker thread,
//! started for the helper's one call; `jit-secrets` itself never starts it.

use crate::store_error::StoreError;
use std::sync::OnceLock;
use std::time::Duration;

fn runtime() -> Result<&'static tokio::runtime::Runtime, StoreError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("jit-secrets-net")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| StoreError::new(format!("cannot start the network client: {e}")))
}

/// Runs `work` to completion within `timeout`; `None` when the time ran out (the work is
/// dropped, which closes its connections).
pub fn block_on<F: std::future::Future>(
    timeout: Duration,
    work: F,
) -> Result<Option<F::Output>, StoreError> {
    Ok(runtime()?
        .block_on(async { tokio::time::timeout(timeout, work).await })
        .ok())
}
