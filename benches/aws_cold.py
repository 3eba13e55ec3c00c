#!/usr/bin/env python3
"""Cold AWS activation: 10 `aws-sm` + 10 `aws-ssm` references against moto on loopback, no
cache, measured in ONE run on this machine, side by side:

  - jit-secrets through the AWS SDK for Rust (its helper jit-secrets-net, the default)
  - jit-secrets through the `aws` CLI (`commands = { aws = … }`)
  - one `aws secretsmanager get-secret-value` call alone
  - fnox (`fnox export`), when `fnox` is on PATH, with the same 20 secrets
  - `activate` of one `env:` entry (what jit-secrets costs with no store at all)

usage: benches/aws_cold.py [--binary PATH] [--runs K]   (default: target/release/jit-secrets)
Needs the test tools (scripts/install-test-deps.sh): moto_server and aws.
"""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.environ.get("JIT_TEST_TOOLS") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "jit-secrets-test-tools")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(argv, env, runs, cwd):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed: {out.stderr.decode()}")
    return statistics.median(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/jit-secrets"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    aws = os.path.join(TOOLS, "bin/aws")
    moto = os.path.join(TOOLS, "bin/moto_server")
    python = os.path.join(TOOLS, "venv/bin/python")
    tmp = tempfile.mkdtemp(prefix="jsbench")
    port = free_port()
    env = dict(os.environ, HOME=tmp, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=os.path.join(tmp, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
               JIT_SECRETS_TRUST_ALL_MANIFESTS="1", AWS_PAGER="")
    server = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        seed = ("import boto3, os\n"
                "kw = dict(endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')\n"
                "sm, ssm = boto3.client('secretsmanager', **kw), boto3.client('ssm', **kw)\n"
                "for i in range(10):\n"
                "    sm.create_secret(Name=f'bench/s{i}', SecretString=f'sm-{i}')\n"
                "    ssm.put_parameter(Name=f'/bench/p{i}', Value=f'ssm-{i}', Type='SecureString')\n")
        subprocess.run([python, "-c", seed], env=env, check=True)
        refs = "".join(f'S{i} = "aws-sm:bench/s{i}"\nP{i} = "aws-ssm:/bench/p{i}"\n' for i in range(10))
        with open(os.path.join(tmp, "sdk.toml"), "w") as f:
            f.write("[secrets]\n" + refs)
        with open(os.path.join(tmp, "cli.toml"), "w") as f:
            f.write("[secrets]\n" + refs + f'[secrets.options]\ncommands = {{ aws = "{aws}" }}\n')
        with open(os.path.join(tmp, "none.toml"), "w") as f:
            f.write('[secrets]\nHOME_DIR = "env:HOME"\n')
        rows = []
        act = lambda m: [args.binary, "--manifest", m, "activate", "--shell", "bash"]
        rows.append(("jit-secrets, 10 aws-sm + 10 aws-ssm, SDK (jit-secrets-net)",
                     timed(act("sdk.toml"), env, args.runs, tmp)))
        rows.append(("jit-secrets, the same through the aws CLI",
                     timed(act("cli.toml"), env, max(3, args.runs // 4), tmp)))
        rows.append(("one `aws secretsmanager get-secret-value` alone",
                     timed([aws, "secretsmanager", "get-secret-value", "--secret-id", "bench/s0"],
                           env, max(3, args.runs // 4), tmp)))
        if shutil.which("fnox"):
            with open(os.path.join(tmp, "fnox.toml"), "w") as f:
                f.write('[providers.sm]\ntype = "aws-sm"\nregion = "us-east-1"\n'
                        '[providers.ps]\ntype = "aws-ps"\nregion = "us-east-1"\n[secrets]\n'
                        + "".join(f'S{i} = {{ provider = "sm", value = "bench/s{i}" }}\n'
                                  f'P{i} = {{ provider = "ps", value = "/bench/p{i}" }}\n'
                                  for i in range(10)))
            rows.append(("fnox export, the same 20",
                         timed(["fnox", "export"], env, args.runs, tmp)))
        else:
            rows.append(("fnox: not on PATH, not measured", None))
        rows.append(("jit-secrets, one env: entry (no store)",
                     timed(act("none.toml"), env, args.runs, tmp)))
        print(f"median of {args.runs} runs (CLI rows: {max(3, args.runs // 4)}), one run, {os.cpu_count()} cores")
        for name, ms in rows:
            print(f"  {name:58} {'' if ms is None else f'{ms:8.1f} ms'}")
    finally:
        os.killpg(server.pid, 15)
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
