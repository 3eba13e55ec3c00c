{
  description = "A project whose dev shell loads its secrets with jit-secrets";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    jit-secrets.url = "github:jit-secrets/jit-secrets";
    jit-secrets.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { nixpkgs, jit-secrets, ... }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [ jit-secrets.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          # Runs at `nix develop`: fetches each secret named in manifest.toml and exports it.
          shellHook = jit-secrets.lib.shellHook { manifest = "manifest.toml"; pin = ./manifest.toml; };
        };
      });
    };
}
