# shellcheck shell=bash
# Put this in ~/.config/direnv/direnvrc, then `use jit_secrets` (optionally a manifest path) in
# .envrc. direnv re-runs it when the manifest changes. Note: direnv keeps the exported values in
# its DIRENV_DIFF variable (in the environment, not on disk) to undo them when you leave.
use_jit_secrets() {
  local manifest=${1:-}
  if [[ -n $manifest ]]; then
    watch_file "$manifest"
    eval "$(jit-secrets --manifest "$manifest" activate --shell bash)"
  else
    [[ -f manifest.toml ]] && watch_file manifest.toml
    [[ -f .flox/env/manifest.toml ]] && watch_file .flox/env/manifest.toml
    eval "$(jit-secrets activate --shell bash)"
  fi
}
