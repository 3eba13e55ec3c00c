{
  description = "jit-secrets: fetch secrets at shell activation, export them, never write them to disk";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        jit-secrets = pkgs.callPackage ./nix/package.nix { };
        default = jit-secrets;
      });

      overlays.default = final: _prev: {
        jit-secrets = final.callPackage ./nix/package.nix { };
      };

      # lib.shellHook { manifest ? null, pin ? null, shell ? "bash" }: the string for a devShell's shellHook
      # (pin: the manifest it vouches for, hashed at evaluation; see nix/shell-hook.nix).
      lib.shellHook = import ./nix/shell-hook.nix;

      # The project's own dev shell, which loads the demo manifest's secrets on entry.
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            self.packages.${pkgs.stdenv.hostPlatform.system}.default
            pkgs.cargo pkgs.rustc pkgs.clippy pkgs.rustfmt
          ];
          shellHook = self.lib.shellHook {
            manifest = "examples/demo/manifest.toml";
            pin = ./examples/demo/manifest.toml;
          };
        };
      });

      templates.default = {
        path = ./nix/template;
        description = "A project whose dev shell loads its secrets with jit-secrets";
      };
    };
}
