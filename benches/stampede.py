#!/usr/bin/env python3
"""Stampede benchmark: 50 shells activating one manifest at once, every value cold (tmux opening
panes, a CI matrix), beside one shell alone. Ten `cmd:` entries that take 100 ms each and log
every call, with `cache = "10m"`. Prints the store calls each way and the wall times, measured in
ONE run on this machine. A benchmark, not a test: nothing is asserted.

usage: benches/stampede.py [--binary PATH]     (default: target/release/jit-secrets)
"""
import argparse, os, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/jit-secrets")
ap.add_argument("--shells", type=int, default=50)
args = ap.parse_args()
binary = os.path.abspath(args.binary)

with tempfile.TemporaryDirectory(prefix="js-stampede") as d:
    log = os.path.join(d, "calls.log")
    manifest = os.path.join(d, "manifest.toml")
    with open(manifest, "w") as f:
        f.write("[secrets]\n")
        for i in range(10):
            f.write(f"S{i} = {{ from = \"cmd:sh -c 'echo {i} >> \\\"$CALL_LOG\\\"; sleep 0.1; printf v{i}'\", cache = \"10m\" }}\n")
    env = dict(os.environ, CALL_LOG=log, JIT_SECRETS_TRUST_ALL_MANIFESTS="1")

    def calls():
        try:
            with open(log) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def clear():
        subprocess.run([binary, "--manifest", manifest, "cache", "clear"], env=env, check=True,
                       stderr=subprocess.DEVNULL)

    def activate_all(n):
        start = time.monotonic()
        procs = [subprocess.Popen([binary, "--manifest", manifest, "activate", "--shell", "json"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(n)]
        codes = [p.wait() for p in procs]
        return time.monotonic() - start, codes

    clear()
    before = calls()
    one_time, codes = activate_all(1)
    one_calls = calls() - before
    clear()
    before = calls()
    many_time, codes = activate_all(args.shells)
    many_calls = calls() - before
    clear()
    assert all(c == 0 for c in codes), codes
    print(f"1 cold shell:   {one_calls} store calls, {one_time * 1000:.0f} ms")
    print(f"{args.shells} cold shells: {many_calls} store calls, {many_time * 1000:.0f} ms for all of them "
          f"({many_time / one_time:.2f}x one shell)")
