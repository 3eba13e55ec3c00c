# ~/.config/nushell/config.nu (jit-secrets hook nu --auto): a project's secrets load when you cd
# into it, are swapped when you enter another project and unloaded when you leave (every
# variable set goes, one that had a value gets it back). Only a change of $env.PWD (the
# env_change hook) starts jit-secrets; `jit-secrets-unload` unloads by hand.
# nushell has no unexported variables: the record of what was loaded is kept in
# $env.__jit_secrets as a record, and nushell passes only strings to the programs it starts.
def --env jit-secrets-unload [--keep-leases] {
    let state = ($env.__jit_secrets? | default null)
    if $state == null { return }
    if (not $keep_leases) and $state.leases {
        ^jit-secrets deactivate --release $state.manifest --holder ($nu.pid | into string) | ignore
    }
    for name in $state.names {
        if $name in ($state.was | columns) {
            load-env {$name: ($state.was | get $name)}
        } else {
            hide-env --ignore-errors $name
        }
    }
    if $state.scope != null {
        $env.PATH = ($env.PATH | where {|dir| $dir != $state.scope })
    }
    hide-env __jit_secrets
}
def --env _jit_secrets_auto [] {
    let state = ($env.__jit_secrets? | default {manifest: "", digest: ""})
    let refused = ($env.__jit_secrets_refused?.path? | default "")
    # On a failure jit-secrets prints nothing: unload what was loaded (the errors are on stderr).
    let fallback = {unload: true, release: true, refused: null, load: null}
    let step = (try {
        with-env {JIT_SECRETS_LEASE_HOLDER: ($nu.pid | into string)} {
            ^jit-secrets activate --shell nu --auto --loaded $state.manifest --loaded-digest $state.digest --refused $refused
        } | from json
    } catch {
        $fallback
    } | default $fallback)
    if $step.unload {
        if $step.release { jit-secrets-unload } else { jit-secrets-unload --keep-leases }
    }
    if $step.refused == null {
        hide-env --ignore-errors __jit_secrets_refused
    } else {
        $env.__jit_secrets_refused = {path: $step.refused}
    }
    if $step.load != null {
        let vars = $step.load.vars
        let names = ($vars | columns | where {|n| $n != "PATH" })
        let present = ($env | columns)
        let was = ($names | where {|n| $n in $present } | reduce --fold {} {|n, acc| $acc | insert $n ($env | get $n) })
        load-env $vars
        $env.__jit_secrets = {
            names: $names, was: $was, manifest: $step.load.manifest, digest: $step.load.digest,
            scope: $step.load.scope, leases: $step.load.leases
        }
    }
}
$env.config = ($env.config | upsert hooks.env_change.PWD {|config|
    ($config | get --optional hooks.env_change.PWD | default []) | append {|before, after| _jit_secrets_auto }
})
