# `jit-secrets hook nix`: a standalone devShell file (shell.nix style) for a project that does not
# use the jit-secrets flake. With the flake, one line in its devShell does the same:
#   shellHook = jit-secrets.lib.shellHook { manifest = "manifest.toml"; pin = ./manifest.toml; };
#
# A nix devShell that loads secrets at `nix develop` (bash). The manifest holds references only,
# so nothing secret enters the Nix store. `--trusted-by nix` vouches only for the manifest whose
# SHA-256 is pinned here (computed when the flake is evaluated): another clone's manifest is not.
{ pkgs, jit-secrets, manifest ? ./manifest.toml }:
pkgs.mkShell {
  packages = [ jit-secrets ];
  shellHook = ''
    eval "$(jit-secrets activate --shell bash --trusted-by nix --manifest-sha256 ${builtins.hashFile "sha256" manifest})"
  '';
}
