# lib.shellHook { manifest ? null, pin ? null, shell ? "bash" } -> the shellHook string that loads secrets.
#   devShells.default = pkgs.mkShell {
#     packages = [ jit-secrets ];
#     shellHook = jit-secrets-flake.lib.shellHook {
#       manifest = "secrets.toml";   # where it is, from the directory `nix develop` runs in
#       pin = ./secrets.toml;        # the manifest the flake vouches for (its SHA-256)
#     };
#   };
# `--trusted-by nix` vouches only for the manifest whose bytes `pin` names: the hook passes
# `builtins.hashFile "sha256" pin` as --manifest-sha256, so a `nix develop` started inside another
# clone cannot make this flake vouch for that clone's manifest. Without `pin`, nothing is vouched
# for (the manifest must be allowed with `jit-secrets allow`). `pin` may also be the hex digest.
# The manifest path is a string on purpose: a path literal would copy the file into the Nix store
# (harmless — it holds references only — but pointless).
{ manifest ? null, pin ? null, shell ? "bash" }:
let
  shells = [ "bash" "zsh" "posix" ];
  # POSIX single quotes: a ' inside the path becomes '\''
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  manifestArg = if manifest == null then "" else "--manifest ${quote manifest} ";
  sha256 = if pin == null then null
    else if builtins.isPath pin then builtins.hashFile "sha256" pin
    else pin;
  pinArg = if sha256 == null then "" else " --manifest-sha256 ${quote sha256}";
in
assert builtins.elem shell shells
  || throw "jit-secrets lib.shellHook: shell must be one of ${builtins.concatStringsSep ", " shells} (a shellHook runs in bash)";
''
  eval "$(jit-secrets ${manifestArg}activate --shell ${shell} --trusted-by nix${pinArg})"
''
