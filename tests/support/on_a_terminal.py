"""Runs a command with a pseudo-terminal as its controlling terminal (its stdin and stderr on it),
and its stdout on a pipe, as `eval "$(jit-secrets activate)"` runs in an interactive shell.

usage: on_a_terminal.py SCRIPT -- COMMAND ARGS...
SCRIPT is JSON: a list of steps, each {"expect": "text"} (wait until the terminal shows it;
with "count": N, until it has shown it N times),
{"send": "text"} (type it), {"check_echo": true} (record whether echo is on, after the
command ended). Prints one JSON object: {"status", "stdout", "terminal", "echo_on"}.
Exit statuses follow the shell's convention: 128+N for a signal.
"""
import json, os, select, subprocess, sys, termios, time, fcntl

script = json.loads(sys.argv[1])
command = sys.argv[sys.argv.index("--") + 1:]
master, slave = os.openpty()

def become_session_leader_on_the_terminal():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

proc = subprocess.Popen(command, stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                        preexec_fn=become_session_leader_on_the_terminal)
seen = b""
deadline = time.monotonic() + 60

def read_some(timeout):
    global seen
    r, _, _ = select.select([master], [], [], timeout)
    if r:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return
        seen += chunk
        # Answer cursor-position queries as a terminal would (nushell's line editor waits for one).
        for _ in range(chunk.count(b"\x1b[6n")):
            os.write(master, b"\x1b[1;1R")

for step in script:
    if "expect" in step:
        want = step["expect"].encode()
        count = step.get("count", 1)
        while seen.count(want) < count and time.monotonic() < deadline and proc.poll() is None:
            read_some(0.05)
        if seen.count(want) < count:
            read_some(0.2)
        if seen.count(want) < count:
            proc.kill()
            print(json.dumps({"status": None, "stdout": "", "terminal": seen.decode(errors="replace"),
                              "error": "never saw " + step["expect"]}))
            sys.exit(0)
    if "send" in step:
        os.write(master, step["send"].encode())

out = proc.stdout.read()
status = proc.wait()
while True:
    r, _, _ = select.select([master], [], [], 0)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
echo_on = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
print(json.dumps({"status": status if status >= 0 else 128 - status,
                  "stdout": out.decode(errors="replace"),
                  "terminal": seen.decode(errors="replace"), "echo_on": echo_on}))
