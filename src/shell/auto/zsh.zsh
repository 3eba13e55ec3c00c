# ~/.zshrc (jit-secrets hook zsh --auto): a project's secrets load when you cd into it, are
# swapped when you enter another project and unloaded when you leave (every variable set goes,
# one that had a value gets it back). Only a change of directory (zsh's chpwd) starts
# jit-secrets. `secrets` reloads by hand (after editing the manifest);
# eval "$(jit-secrets deactivate --shell zsh)" unloads by hand.
_jit_secrets_auto() {
  eval "$(JIT_SECRETS_LEASE_HOLDER=$$ command jit-secrets activate --shell zsh --auto --loaded "${_jit_secrets_manifest-}" --loaded-digest "${_jit_secrets_digest-}" --refused "${_jit_secrets_refused-}")"
}
secrets() { source <(jit-secrets activate --shell zsh "$@"); }
autoload -Uz add-zsh-hook
add-zsh-hook chpwd _jit_secrets_auto
_jit_secrets_auto
