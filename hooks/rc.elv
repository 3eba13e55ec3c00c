# ~/.config/elvish/rc.elv: `secrets` loads the secrets of the project you are in (extra
# arguments go to jit-secrets).
fn secrets {|@args|
  eval (jit-secrets activate --shell elvish $@args | slurp)
}
