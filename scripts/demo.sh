#!/usr/bin/env bash
# Builds jit-secrets and activates the demo manifest (file:, env:, cmd: stores; no account needed),
# then shows the variables arrived in a real bash.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "demo: needs Rust (cargo >= 1.88): https://rustup.rs" >&2; exit 1; }
cargo build --quiet
JIT=$PWD/target/debug/jit-secrets
M=$PWD/examples/demo/manifest.toml
# The demo's trust file lives in a scratch directory, so trying the demo changes nothing of yours.
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT

echo "== jit-secrets list (what is declared; no store is contacted)"
"$JIT" --manifest "$M" list
echo
echo "== jit-secrets activate before the manifest is allowed: refused, nothing contacted"
"$JIT" --manifest "$M" activate --shell bash || echo "(exit $?)"
echo
echo "== jit-secrets allow (shows what the manifest will do, then trusts it as it is now)"
"$JIT" allow "$M"
echo
echo "== jit-secrets activate --shell bash (what a hook evaluates)"
"$JIT" --manifest "$M" activate --shell bash | sed -E "s/^(export [A-Za-z_0-9]+)='.*/\1='…'   # value hidden in this demo output/"
echo
echo "== source <(jit-secrets activate --shell bash) in bash, then use the variables"
bash -c 'source <("$0" --manifest "$1" activate --shell bash) && printf "DEMO_DB_PASSWORD has %s characters\nDEMO_API_TOKEN=%s\nDEMO_QUOTED=%s\n" "${#DEMO_DB_PASSWORD}" "$DEMO_API_TOKEN" "$DEMO_QUOTED"' "$JIT" "$M"
