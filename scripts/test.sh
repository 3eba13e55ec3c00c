#!/usr/bin/env bash
# The whole test suite: installs what the tests need when missing (apt + a private pip venv),
# checks formatting and lints, then runs every test (debug build) against the real stores.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
TOOLS=$(bash scripts/install-test-deps.sh)
export JIT_TEST_TOOLS=$TOOLS
echo "== test tools ready in $((SECONDS - t0))s ($TOOLS)"

command -v cargo >/dev/null || { echo "test: needs Rust (cargo >= 1.88): https://rustup.rs" >&2; exit 1; }
# A clean clone (CI) builds everything once: incremental compilation's bookkeeping only costs there.
[ -d target/debug ] || export CARGO_INCREMENTAL=0
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings [$((SECONDS - t0))s]"
cargo clippy --quiet --all-targets -- -D warnings
# The macOS Keychain path cannot link here (no Apple SDK) but must type-check and lint.
if rustup target list --installed 2>/dev/null | grep -qx aarch64-apple-darwin \
   || rustup target add aarch64-apple-darwin >/dev/null 2>&1; then
  echo "== cargo clippy --target aarch64-apple-darwin (macOS Keychain path, check only) [$((SECONDS - t0))s]"
  # Without the `net` feature (jit-secrets-net's AWS SDK and TLS): their C code (ring) cannot be
  # compiled for macOS without Apple's SDK, and they hold nothing macOS-specific to lint.
  cargo clippy --quiet --target aarch64-apple-darwin --no-default-features --all-targets -- -D warnings
else
  echo "== SKIPPED macOS check: \`rustup target add aarch64-apple-darwin\` failed here (no rustup, or offline)"
fi
# cargo-nextest (on the machines CI uses) runs the test binaries side by side: the long property
# test and the strace-heavy leak tests overlap with the rest instead of following them (390 s
# instead of about 560 s on 2 cores). The crate has no doctests; `cargo test` is the fallback.
if cargo nextest --version >/dev/null 2>&1; then
  echo "== cargo nextest run [$((SECONDS - t0))s]"
  cargo nextest run --no-fail-fast --status-level fail --final-status-level slow
else
  echo "== cargo test (cargo-nextest not installed) [$((SECONDS - t0))s]"
  cargo test
fi
echo "== fuzz (manifest and reference parsers) [$((SECONDS - t0))s]"
bash scripts/fuzz.sh
echo "== all checks passed in $((SECONDS - t0))s"
