# The jit-secrets package: the binary, shell completions, the man page, and the Flox plugin
# script (etc/profile.d/jit-secrets.sh) that loads secrets in any Flox environment whose manifest
# has a [plugins.jit-secrets] table.
{ lib, rustPlatform, installShellFiles, stdenv }:

let
  cargo = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = cargo.package.name;
  version = cargo.package.version;

  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let base = baseNameOf path; in
      !(builtins.elem base [ "target" ".git" "result" ]);
  };
  cargoLock.lockFile = ../Cargo.lock;

  nativeBuildInputs = [ installShellFiles ];

  # The test suite talks to real stores (gnome-keyring, moto, OpenBao, pass): it runs in the
  # project's CI (scripts/test.sh), not in the sandboxed build.
  doCheck = false;

  postInstall = lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
    installShellCompletion --cmd jit-secrets \
      --bash <($out/bin/jit-secrets completions bash) \
      --zsh <($out/bin/jit-secrets completions zsh) \
      --fish <($out/bin/jit-secrets completions fish)
    $out/bin/jit-secrets man > jit-secrets.1
    installManPage jit-secrets.1
  '' + ''
    install -Dm644 hooks/flox-profile.d.sh $out/etc/profile.d/jit-secrets.sh
    install -Dm644 hooks/direnvrc.sh $out/share/jit-secrets/direnvrc.sh
  '';

  meta = {
    description = "Fetch secrets from your secret stores at shell activation; nothing written to disk";
    license = with lib.licenses; [ mit asl20 ];
    mainProgram = "jit-secrets";
    platforms = lib.platforms.unix;
  };
}
