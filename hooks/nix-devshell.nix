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
