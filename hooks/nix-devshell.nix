# A nix devShell that loads secrets at `nix develop` (bash). The manifest holds references only,
# so nothing secret enters the Nix store.
{ pkgs, jit-secrets }:
pkgs.mkShell {
  packages = [ jit-secrets ];
  shellHook = ''
    eval "$(jit-secrets activate --shell bash --trusted-by nix)"
  '';
}
