# lib.shellHook { manifest ? null, shell ? "bash" } -> the shellHook string that loads secrets.
#   devShells.default = pkgs.mkShell {
#     packages = [ jit-secrets ];
#     shellHook = jit-secrets-flake.lib.shellHook { manifest = "secrets.toml"; };
#   };
# The manifest path is a string on purpose: a path literal would copy the file into the Nix store
# (harmless — it holds references only — but pointless).
{ manifest ? null, shell ? "bash" }:
let
  shells = [ "bash" "zsh" "posix" ];
  # POSIX single quotes: a ' inside the path becomes '\''
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  manifestArg = if manifest == null then "" else "--manifest ${quote manifest} ";
in
assert builtins.elem shell shells
  || throw "jit-secrets lib.shellHook: shell must be one of ${builtins.concatStringsSep ", " shells} (a shellHook runs in bash)";
''
  eval "$(jit-secrets ${manifestArg}activate --shell ${shell} --trusted-by nix)"
''
