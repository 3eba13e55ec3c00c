#!/usr/bin/env python3
"""The `--auto` hook beside direnv's, in ONE run on this machine (bash, as a prompt runs them).

1. A prompt in an unchanged directory: jit-secrets' hook (`_jit_secrets_auto`, from
   `jit-secrets hook bash --auto`) vs. direnv's (`_direnv_hook`, from `direnv hook bash`), each
   called N times in a row inside a project, and the count of processes each started (strace).
2. Entering a project and leaving it (warm cache): `cd project; hook; cd ..; hook`, per round
   trip. The project declares 5 secrets from a `cmd:` store with `cache = "15m"` (warm after the
   first activation); direnv's .envrc exports 5 literal values, so direnv is timed at its floor
   (no store at all), and loading through jit-secrets from an .envrc would cost direnv's time
   plus jit-secrets'.

usage: benches/auto_hook.py [--binary PATH] [--rounds N] [--runs K]
       (default: target/release/jit-secrets, N=200 prompts / 50 round trips, K=5 runs, median)
Needs: bash (5, for $EPOCHREALTIME), direnv (Debian's package), strace for the process count.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bash_loop(env, cwd, setup, body, n):
    """Seconds per iteration of `body`, run n times in one bash after `setup`."""
    r, w = os.pipe()
    script = f"""{setup}
start=$EPOCHREALTIME
for ((i = 0; i < {n}; i++)); do {body}; done
end=$EPOCHREALTIME
echo "$start $end" >&{w}
"""
    subprocess.run(["bash", "--noprofile", "--norc", "-c", script], env=env, cwd=cwd,
                   pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    os.close(w)
    start, end = os.read(r, 200).decode().split()
    os.close(r)
    return (float(end) - float(start)) / n


def execs(env, cwd, setup, body, n):
    """How many programs `body`, run n times, starts: strace -f's execve calls between two
    markers (`/bin/true START` before the loop, `/bin/true END` after)."""
    if not shutil.which("strace"):
        return None
    script = (f"{setup}\n/bin/true jit-bench-START\n"
              f"for ((i = 0; i < {n}; i++)); do {body}; done\n/bin/true jit-bench-END\n")
    out = subprocess.run(["strace", "-f", "-e", "trace=execve", "-o", "/dev/stderr", "bash",
                          "--noprofile", "--norc", "-c", script], env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = [l for l in out.stderr.splitlines() if "execve(" in l]
    start = next(i for i, l in enumerate(lines) if "jit-bench-START" in l)
    end = next(i for i, l in enumerate(lines) if "jit-bench-END" in l)
    return sum(1 for l in lines[start + 1:end] if "= 0" in l or "<unfinished" in l)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/jit-secrets"))
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    if not shutil.which("direnv"):
        sys.exit("direnv is not on PATH (apt-get install direnv)")
    tmp = tempfile.mkdtemp(prefix="jit-auto-bench-")
    try:
        home = os.path.join(tmp, "home")
        bin_dir = os.path.join(tmp, "bin")
        os.makedirs(home)
        os.makedirs(bin_dir)
        os.symlink(os.path.abspath(args.binary), os.path.join(bin_dir, "jit-secrets"))
        env = {"HOME": home, "PATH": bin_dir + ":" + os.environ["PATH"], "TERM": "dumb",
               "XDG_CONFIG_HOME": os.path.join(home, ".config"),
               "XDG_DATA_HOME": os.path.join(home, ".local/share")}
        os.makedirs(os.path.join(tmp, "root", ".git"))
        project = os.path.join(tmp, "root", "project")
        os.makedirs(project)
        with open(os.path.join(project, "manifest.toml"), "w") as f:
            f.write("[secrets.options]\ncache = \"15m\"\n[secrets]\n")
            for i in range(5):
                f.write(f'S{i} = "cmd:printf value-{i}"\n')
        with open(os.path.join(project, ".envrc"), "w") as f:
            for i in range(5):
                f.write(f"export S{i}=value-{i}\n")
        subprocess.run([args.binary, "allow"], cwd=project, env=env, check=True,
                       capture_output=True)
        subprocess.run(["direnv", "allow", project], env=env, check=True, capture_output=True)
        # Warm the cache.
        subprocess.run([args.binary, "activate", "--shell", "bash"], cwd=project, env=env,
                       check=True, capture_output=True)
        jit_hook = subprocess.run([args.binary, "hook", "bash", "--auto"], env=env, check=True,
                                  capture_output=True, text=True).stdout
        hooks = {
            "jit-secrets hook bash --auto": (jit_hook, "_jit_secrets_auto"),
            "direnv hook bash": ('eval "$(direnv hook bash)"', "_direnv_hook"),
        }
        prompt_n = args.rounds
        trip_n = max(args.rounds // 4, 1)
        print(f"one run, {os.cpu_count()} cores; median of {args.runs} runs; bash "
              f"{subprocess.run(['bash', '-c', 'echo $BASH_VERSION'], capture_output=True, text=True).stdout.strip()}, "
              f"direnv {subprocess.run(['direnv', 'version'], capture_output=True, text=True).stdout.strip()}")
        print(f"  {'':38} {'prompt, same dir':>18} {'processes':>10} {'enter + leave':>15}")
        for label, (setup, fn) in hooks.items():
            # Settle in the project first (the first call loads it).
            settle = f"{setup}\ncd {project}; {fn}"
            prompt = statistics.median(
                bash_loop(env, project, settle, fn, prompt_n) for _ in range(args.runs))
            started = execs(env, project, settle, fn, 10)
            trip = statistics.median(
                bash_loop(env, os.path.dirname(project), f"{setup}\n{fn}",
                          f"cd {project}; {fn}; cd ..; {fn}", trip_n) for _ in range(args.runs))
            started = "n/a" if started is None else f"{started}/10"
            print(f"  {label:38} {prompt * 1000:15.3f} ms {started:>10} {trip * 1000:12.2f} ms")
    finally:
        subprocess.run([args.binary, "cache", "clear", "--all"], env=env, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
