# shellcheck shell=bash
# ~/.bashrc (jit-secrets hook bash --auto): a project's secrets load when you cd into it, are
# swapped when you enter another project and unloaded when you leave (every variable set goes,
# one that had a value gets it back). Only a change of directory starts jit-secrets: the check
# is this function's comparison of $PWD. `secrets` reloads by hand (after editing the
# manifest); eval "$(jit-secrets deactivate --shell bash)" unloads by hand.
_jit_secrets_auto() {
  local status=$?
  if [ "${_jit_secrets_pwd-}" != "$PWD" ]; then
    _jit_secrets_pwd=$PWD
    eval "$(JIT_SECRETS_LEASE_HOLDER=$$ command jit-secrets activate --shell bash --auto --loaded "${_jit_secrets_manifest-}" --loaded-digest "${_jit_secrets_digest-}" --refused "${_jit_secrets_refused-}")"
  fi
  return "$status"
}
# shellcheck source=/dev/null
secrets() { source <(jit-secrets activate --shell bash "$@"); }
if [[ ";${PROMPT_COMMAND[*]:-};" != *";_jit_secrets_auto;"* ]]; then
  PROMPT_COMMAND="_jit_secrets_auto${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
