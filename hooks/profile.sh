# ~/.profile or $ENV (dash, ksh, mksh, any POSIX sh): `secrets` loads the secrets of the project
# you are in (extra arguments go to jit-secrets). POSIX sh has no process substitution, so the
# output is eval'ed; no prompt or directory hook either, so there is no `--auto` for it.
secrets() { eval "$(jit-secrets activate --shell posix "$@")"; }
