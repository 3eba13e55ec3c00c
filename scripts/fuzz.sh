#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (JIT_FUZZ_SECONDS, default 30) on the corpus kept
# in fuzz/corpus. cargo-fuzz wants nightly features; RUSTC_BOOTSTRAP lets the stable toolchain
# provide them. No sanitizer: the code under test is safe Rust, and the targets look for panics,
# hangs and round-trip failures (libFuzzer still catches those), at a fraction of the build time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${JIT_FUZZ_SECONDS:-30}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
export RUSTC_BOOTSTRAP=1
# cargo-fuzz builds with one codegen unit by default: our own crate, built last, then keeps one of
# the 2 cores idle. 16 units spread it (docs/testing.md has the measurement).
cargo fuzz build -O --sanitizer none --codegen-units 16
# New inputs go to a scratch directory: libFuzzer writes to the first corpus directory it is given,
# and the committed corpus (fuzz/corpus, kept small with `cargo fuzz cmin`) is only read.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/jit-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for target in manifest reference; do
  echo "== cargo fuzz run $target (${SECONDS_EACH}s)"
  mkdir -p "$scratch/$target"
  # -timeout: any single input taking over 10 s is a hang; the output is kept short in CI logs.
  cargo fuzz run -O --sanitizer none --codegen-units 16 "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E "^(Done|stat::number_of_executed_units|INFO: (seed|-max_len))|panicked|ERROR|SUMMARY|==" || true
  test "${PIPESTATUS[0]}" -eq 0
done
