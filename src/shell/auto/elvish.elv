# ~/.config/elvish/rc.elv (jit-secrets hook elvish --auto): a project's secrets load when you cd
# into it, are swapped when you enter another project and unloaded when you leave (every
# variable set goes, one that had a value gets it back). Only a change of directory (elvish's
# after-chdir) starts jit-secrets. `jit-secrets-unload` (or, at the prompt,
# eval (jit-secrets deactivate --shell elvish | slurp)) unloads by hand.
var _jit_secrets_state = $nil
var _jit_secrets_refused = ''
fn jit-secrets-unload {|&keep-leases=$false|
  if (eq $_jit_secrets_state $nil) { return }
  var s = $_jit_secrets_state
  if (and (not $keep-leases) $s[leases]) {
    jit-secrets deactivate --release $s[manifest] --holder $pid > /dev/null
  }
  for n $s[names] {
    if (has-key $s[was] $n) { set-env $n $s[was][$n] } else { unset-env $n }
  }
  if (not-eq $s[scope] $nil) {
    set paths = [(each {|d| if (!=s $d $s[scope]) { put $d } } $paths)]
  }
  set _jit_secrets_state = $nil
}
fn _jit_secrets_auto {
  var manifest digest = '' ''
  if (not-eq $_jit_secrets_state $nil) {
    set manifest digest = $_jit_secrets_state[manifest] $_jit_secrets_state[digest]
  }
  var step = [&unload=$true &release=$true &refused=$nil &load=$nil]
  try {
    set step = (env JIT_SECRETS_LEASE_HOLDER=$pid jit-secrets activate --shell elvish --auto --loaded $manifest --loaded-digest $digest --refused $_jit_secrets_refused | from-json)
  } catch { }
  if $step[unload] { jit-secrets-unload &keep-leases=(not $step[release]) }
  if (eq $step[refused] $nil) { set _jit_secrets_refused = '' } else { set _jit_secrets_refused = $step[refused] }
  if (not-eq $step[load] $nil) {
    var load = $step[load]
    var names = [(keys $load[vars] | each {|n| if (!=s $n PATH) { put $n } })]
    var was = [&]
    for n $names { if (has-env $n) { set was[$n] = (get-env $n) } }
    keys $load[vars] | each {|n| set-env $n $load[vars][$n] }
    set _jit_secrets_state = [&names=$names &was=$was &manifest=$load[manifest] &digest=$load[digest] &scope=$load[scope] &leases=$load[leases]]
  }
}
set after-chdir = [$@after-chdir {|dir| _jit_secrets_auto }]
_jit_secrets_auto
