# shellcheck shell=sh
# etc/profile.d/jit-secrets.sh — shipped by the jit-secrets package. Flox sources profile.d
# scripts of installed packages at activation (bash, zsh), so an environment whose manifest has a
# [plugins.jit-secrets] table gets its secrets without any [hook] or [profile] snippet.
# Quiet when there is nothing to do; a failure is reported and leaves the shell usable.
if [ -n "${FLOX_ENV_PROJECT:-}" ] && command -v jit-secrets >/dev/null 2>&1 &&
  grep -Eqs '^[[:space:]]*(\[[[:space:]]*plugins\.("jit-secrets"|jit-secrets)|plugins\.("jit-secrets"|jit-secrets)[[:space:]]*=)' \
    "$FLOX_ENV_PROJECT/.flox/env/manifest.toml"; then
  eval "$(jit-secrets --manifest "$FLOX_ENV_PROJECT/.flox/env/manifest.toml" activate --shell posix --trusted-by flox)" ||
    echo "jit-secrets: secrets not loaded (see above)" >&2
fi
