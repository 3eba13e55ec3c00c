#!/usr/bin/env python3
"""Starting a scoped command (`only = ["gh"]`) through its proxy vs starting it directly, measured
in ONE run on this machine, side by side: a `gh --version`-like stand-in (a shell script that
prints one line), 100 starts each, median and mean.

  - directly (the real program's path)
  - through the proxy, the value in the cache (`cache = "15m"`, warmed first)
  - through the proxy, no cache (the value's store asked at each start: a `cmd:` that prints)

usage: benches/scoped_start.py [--binary PATH] [--runs N]   (default: target/release/jit-secrets)
Needs: Linux with a kernel keyring (the cache), bash.
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
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jsscoped")
    try:
        run_dir = os.path.join(tmp, "run")
        os.makedirs(run_dir, mode=0o700)
        bin_dir = os.path.join(tmp, "bin")
        os.makedirs(bin_dir)
        gh = os.path.join(bin_dir, "gh")
        with open(gh, "w") as f:
            f.write("#!/bin/sh\necho 'gh version 2.0.0 (stand-in)'\n")
        os.chmod(gh, 0o755)
        env = dict(os.environ, XDG_RUNTIME_DIR=run_dir, JIT_SECRETS_TRUST_ALL_MANIFESTS="1",
                   PATH=bin_dir + ":" + os.environ["PATH"])
        rows = [("gh --version, directly", timed([gh, "--version"], env, args.runs))]
        for label, cache in (("through the proxy, value cached", ', cache = "15m"'),
                             ("through the proxy, no cache (a cmd: store each start)", "")):
            manifest = os.path.join(tmp, f"m{len(rows)}.toml")
            with open(manifest, "w") as f:
                f.write(f'[secrets]\nGITHUB_TOKEN = {{ from = "cmd:printf tok", only = ["gh"]{cache} }}\n')
            out = subprocess.run([args.binary, "--manifest", manifest, "activate", "--shell", "json"],
                                 env=env, capture_output=True, check=True)
            import json
            exported = json.loads(out.stdout)
            proxied = dict(env, PATH=exported["PATH"],
                           JIT_SECRETS_SCOPED_MANIFEST=exported["JIT_SECRETS_SCOPED_MANIFEST"])
            subprocess.run(["gh", "--version"], env=proxied, check=True, stdout=subprocess.DEVNULL)
            rows.append((label, timed(["gh", "--version"], proxied, args.runs)))
            subprocess.run([args.binary, "--manifest", manifest, "cache", "clear"], env=env,
                           capture_output=True)
        base = rows[0][1][0]
        print(f"{args.runs} starts each, one run, {os.cpu_count()} cores; median (mean), over direct")
        for label, (median, mean) in rows:
            extra = "" if label.endswith("directly") else f"   +{median - base:.2f} ms"
            print(f"  {label:58} {median:6.2f} ms ({mean:6.2f}){extra}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
