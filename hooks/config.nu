# ~/.config/nushell/config.nu: `secrets` loads the secrets of the project you are in (extra
# arguments go to jit-secrets). nushell cannot source a pipe: jit-secrets prints a JSON record
# and `load-env` sets every variable at once; `def --env` makes it reach your shell.
def --env secrets [...args: string] {
    ^jit-secrets activate --shell nu ...$args | from json | load-env
}
