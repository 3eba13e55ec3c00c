# ~/.tcshrc (jit-secrets hook tcsh --auto): a project's secrets load when you cd into it, are
# swapped when you enter another project and unloaded when you leave (every variable set goes,
# one that had a value gets it back). Only a change of directory (tcsh's cwdcmd alias) starts
# jit-secrets. `secrets` reloads by hand (after editing the manifest);
# eval "`jit-secrets deactivate --shell tcsh`" unloads by hand. What this shell loaded reaches
# jit-secrets in the environment of that one call (as an argument inside the backquotes, tcsh
# would parse a directory's name again as code).
alias _jit_secrets_auto 'if ( $?_jit_secrets_manifest == 0 ) set _jit_secrets_manifest = ""; if ( $?_jit_secrets_digest == 0 ) set _jit_secrets_digest = ""; if ( $?_jit_secrets_refused == 0 ) set _jit_secrets_refused = ""; setenv _jit_secrets_env_loaded "$_jit_secrets_manifest:q"; setenv _jit_secrets_env_digest "$_jit_secrets_digest:q"; setenv _jit_secrets_env_refused "$_jit_secrets_refused:q"; eval "`env JIT_SECRETS_LEASE_HOLDER=$$ jit-secrets activate --shell tcsh --auto`"; unsetenv _jit_secrets_env_loaded _jit_secrets_env_digest _jit_secrets_env_refused'
alias cwdcmd _jit_secrets_auto
alias secrets 'eval "`jit-secrets activate --shell tcsh \!*`"'
_jit_secrets_auto
