#!/usr/bin/env python3
"""A second shell reusing a live lease, against `true`, measured in ONE run on this machine, side by
side, 200 runs each, median and mean:

  - `true`
  - `jit-secrets activate` of a manifest with one env: secret (no lease)
  - the same with a live `command` lease, on-expiry (reused from the kernel keyring)
  - the same with a live on-exit lease (reused: the caller is a holder already, so this is the
    record read and one connect to the keeper's socket)
  - creating the lease each time (`renew_before` longer than its life: the mint program runs)

usage: benches/lease_reuse.py [--binary PATH] [--runs N]   (default: target/release/jit-secrets)
Needs: Linux with a kernel keyring.
"""
import argparse, os, shutil, statistics, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv, env, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise SystemExit(f"{argv} failed: {out.stderr.decode()}")
    return statistics.median(times) * 1000, statistics.mean(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/jit-secrets"))
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jslease")
    env = dict(os.environ, JIT_SECRETS_TRUST_ALL_MANIFESTS="1", SRC="v")
    manifests = []
    try:
        mint = os.path.join(tmp, "mint.sh")
        with open(mint, "w") as f:
            f.write('#!/bin/sh\nprintf \'{"variables": {"TOKEN": "tok"}, "id": "1", "expires_in": 3600}\'\n')
        os.chmod(mint, 0o755)
        revoke = os.path.join(tmp, "revoke.sh")
        with open(revoke, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(revoke, 0o755)
        lease = f'[secrets.leases.tok]\nkind = "command"\ncommand = "{mint}"\nrevoke_command = "{revoke}"\n'
        cases = [
            ("activate, one env: secret, no lease", ""),
            ("... and a live lease, reused", lease),
            ("... and a live on-exit lease, reused (keeper checked)", lease + 'revoke = "on-exit"\n'),
            ("... and a lease created at each activation", lease + 'renew_before = "2h"\n'),
        ]
        rows = [("true", timed(["true"], env, args.runs))]
        for i, (label, extra) in enumerate(cases):
            manifest = os.path.join(tmp, f"m{i}", "manifest.toml")
            os.makedirs(os.path.dirname(manifest))
            with open(manifest, "w") as f:
                f.write(f'[secrets]\nA = "env:SRC"\n{extra}')
            manifests.append(manifest)
            argv = [args.binary, "--manifest", manifest, "activate", "--shell", "bash"]
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            rows.append((label, timed(argv, env, args.runs)))
        base = rows[0][1][0]
        print(f"{args.runs} runs each, one run, {os.cpu_count()} cores; median (mean), over `true`")
        for label, (median, mean) in rows:
            extra = "" if label == "true" else f"   +{median - base:.2f} ms"
            print(f"  {label:58} {median:6.2f} ms ({mean:6.2f}){extra}")
    finally:
        for manifest in manifests:
            subprocess.run([args.binary, "--manifest", manifest, "lease", "revoke"], env=env,
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
