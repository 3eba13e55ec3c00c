//! jit-secrets-net: the AWS SDK and the Vault and GitHub HTTP APIs for `jit-secrets`, which starts it with one
//! request on stdin (see `src/net/helper.rs` for why this is a helper of its own).

fn main() -> std::process::ExitCode {
    jit_secrets::process::harden_against_core_dumps();
    std::process::ExitCode::from(jit_secrets::net::serve())
}
