# ~/.config/fish/config.fish: `secrets` loads the secrets of the project you are in (extra
# arguments go to jit-secrets). fish needs its own quoting, and `| source` (not `eval (…)`,
# which would split multi-line values).
function secrets --description "Load this project's secrets with jit-secrets"
    jit-secrets activate --shell fish $argv | source
end
