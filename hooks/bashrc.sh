# shellcheck shell=bash
# ~/.bashrc: `secrets` loads the secrets of the project you are in (extra arguments go to
# jit-secrets, e.g. `secrets --manifest ~/work/app/manifest.toml`).
# shellcheck source=/dev/null
secrets() { source <(jit-secrets activate --shell bash "$@"); }
