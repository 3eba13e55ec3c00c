# ~/.tcshrc (or ~/.cshrc): `secrets` loads the secrets of the project you are in (extra
# arguments go to jit-secrets, e.g. `secrets --manifest ~/work/app/manifest.toml`).
# tcsh has no functions: an alias, whose `\!*` passes the arguments on.
alias secrets 'eval "`jit-secrets activate --shell tcsh \!*`"'
