# ~/.config/fish/config.fish (jit-secrets hook fish --auto): a project's secrets load when you
# cd into it, are swapped when you enter another project and unloaded when you leave (every
# variable set goes, one that had a value gets it back). Only a change of $PWD starts
# jit-secrets. `secrets` reloads by hand (after editing the manifest);
# `jit-secrets deactivate --shell fish | source` unloads by hand.
function _jit_secrets_auto --on-variable PWD --description "jit-secrets: load this directory's project"
    JIT_SECRETS_LEASE_HOLDER=$fish_pid jit-secrets activate --shell fish --auto --loaded "$_jit_secrets_manifest" --loaded-digest "$_jit_secrets_digest" --refused "$_jit_secrets_refused" | source
end
function secrets --description "Load this project's secrets with jit-secrets"
    jit-secrets activate --shell fish $argv | source
end
_jit_secrets_auto
