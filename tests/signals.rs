//! No process outlives an interrupted activation: Ctrl-C (SIGINT to the process group), SIGTERM,
//! SIGHUP (a closed terminal) and SIGKILL, while store calls hang — a grandchild included. Also:
//! a crash writes no core file, a store CLI that asks on the terminal gets it, and a hidden
//! prompt gives the terminal its echo back when interrupted.
//!
//! Real signals and real processes; the process table is polled, no sleep is an assertion.

mod support;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use support::*;

fn markers(tag: u32, count: usize) -> Vec<String> {
    marker_sleeps(tag, count)
}

/// Eight hanging store calls; the last runs its sleep as a grandchild under `sh`.
fn hanging_manifest(sb: &Sandbox, markers: &[String]) {
    let mut m = String::from("[secrets]\n");
    for (i, marker) in markers.iter().enumerate().take(7) {
        m.push_str(&format!("S{i} = \"cmd:{marker}\"\n"));
    }
    m.push_str(&format!(
        "S7 = \"cmd:sh -c \\\"{} & wait; echo never\\\"\"\n",
        markers[7]
    ));
    sb.manifest(&m);
}

/// Starts jit-secrets in a process group of its own (as a shell runs a foreground job), waits
/// until every marker runs, then delivers `signal` to the pid or the whole group.
fn interrupt(
    sb: &Sandbox,
    args: &[&str],
    markers: &[String],
    signal: i32,
    to_group: bool,
) -> (Child, std::process::Output) {
    let m = sb.path().join("manifest.toml");
    let mut child = sb
        .command(BIN)
        .arg("--manifest")
        .arg(&m)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    assert!(
        poll(|| alive(markers).len() == markers.len()),
        "the store calls never all started: {:?}",
        alive(markers)
    );
    let pid = child.id() as i32;
    // SAFETY: plain kill(2) on a process we started.
    unsafe {
        if to_group {
            libc::killpg(pid, signal);
        } else {
            libc::kill(pid, signal);
        }
    }
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let status = child.wait().unwrap();
    let read = |s: Option<std::process::ChildStdout>| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut s.unwrap(), &mut v).unwrap();
        v
    };
    let out = std::process::Output {
        status,
        stdout: read(stdout),
        stderr: {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut stderr.unwrap(), &mut v).unwrap();
            v
        },
    };
    (child, out)
}

fn assert_nothing_left(markers: &[String], what: &str) {
    assert!(
        poll(|| alive(markers).is_empty()),
        "{what}: store processes outlived jit-secrets: {:?}",
        alive(markers)
    );
}

#[test]
fn activate_interrupted_by_each_signal_leaves_no_process_and_prints_only_false() {
    for (tag, signal, to_group, name) in [
        (1, libc::SIGINT, true, "SIGINT"),
        (2, libc::SIGTERM, false, "SIGTERM"),
        (3, libc::SIGHUP, false, "SIGHUP"),
    ] {
        let sb = Sandbox::new();
        let markers = markers(tag, 8);
        hanging_manifest(&sb, &markers);
        let (_, out) = interrupt(
            &sb,
            &["activate", "--shell", "bash"],
            &markers,
            signal,
            to_group,
        );
        assert_code(&out, 128 + signal);
        assert_eq!(
            stdout(&out),
            "false\n",
            "{name}: only the failure statement"
        );
        assert_eq!(
            stderr(&out),
            format!("jit-secrets: interrupted ({name}): 8 store calls stopped\n"),
            "{name}: one line on stderr"
        );
        assert_nothing_left(&markers, name);
    }
}

#[test]
fn activate_killed_with_sigkill_leaves_no_process() {
    let sb = Sandbox::new();
    let markers = markers(4, 8);
    hanging_manifest(&sb, &markers);
    let (_, out) = interrupt(
        &sb,
        &["activate", "--shell", "bash"],
        &markers,
        libc::SIGKILL,
        false,
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGKILL));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_nothing_left(&markers, "SIGKILL");
}

#[test]
fn verify_interrupted_leaves_no_process_and_prints_nothing() {
    let sb = Sandbox::new();
    let markers = markers(5, 8);
    hanging_manifest(&sb, &markers);
    let (_, out) = interrupt(&sb, &["verify"], &markers, libc::SIGTERM, false);
    assert_code(&out, 128 + libc::SIGTERM);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("interrupted (SIGTERM)"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(&markers, "verify");
}

#[test]
fn run_mask_passes_a_signal_on_and_masks_what_the_command_prints_as_it_stops() {
    let sb = Sandbox::new();
    let markers = markers(6, 1);
    sb.manifest("[secrets]\nTOKEN = \"cmd:printf tok-81d2-secret\"\n");
    let script = format!(
        "trap 'echo \"stopping with $TOKEN\"; exit 7' TERM; {} >/dev/null 2>&1 & wait",
        markers[0]
    );
    let (_, out) = interrupt(
        &sb,
        &["run", "--mask", "--", "sh", "-c", &script],
        &markers,
        libc::SIGTERM,
        false,
    );
    assert_code(&out, 7);
    assert_eq!(stdout(&out), "stopping with <TOKEN>\n");
    // The program chose how to stop; its background sleep is its own business (not a store
    // call of ours), so the test stops it.
    let _ = Command::new("pkill").args(["-xf", &markers[0]]).status();
}

#[test]
fn a_crash_writes_no_core_file() {
    let sb = Sandbox::new();
    let markers = markers(7, 1);
    sb.manifest(&format!("[secrets]\nA = \"cmd:{}\"\n", markers[0]));
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let crash = |program: &str| {
        let mut child = sb
            .command("sh")
            .arg("-c")
            .arg(format!("ulimit -c unlimited; exec {program}"))
            .env("M", sb.path().join("manifest.toml"))
            .spawn()
            .unwrap();
        assert!(poll(|| alive(&markers).len() == 1), "never started");
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        unsafe {
            libc::kill(child.id() as i32, libc::SIGABRT);
        }
        child.wait().unwrap();
        assert!(poll(|| alive(&markers).is_empty()));
        limits
    };
    let cores = || {
        std::fs::read_dir(sb.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("core"))
            .count()
    };
    // Our own limits, read while it runs: core files are off.
    let limits = crash(&format!(
        "\"{BIN}\" --manifest \"$M\" activate --shell bash"
    ));
    let core_line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_string();
    assert!(
        core_line.split_whitespace().nth(4) == Some("0"),
        "soft core limit not 0: {core_line}"
    );
    if pattern.trim() == "core" || pattern.trim().starts_with("core.") {
        assert_eq!(cores(), 0, "jit-secrets left a core file");
        // The same crash of a program that does not protect itself does leave one here: the
        // check above could have failed.
        crash(&markers[0]);
        assert!(
            cores() > 0,
            "no core even for a plain program: the check proves nothing"
        );
    }
}

#[test]
fn a_store_cli_that_asks_on_the_terminal_gets_it() {
    let sb = Sandbox::new();
    // Like `age -d` or pinentry-curses: a prompt on /dev/tty, an answer read from it. The other
    // entry runs alongside and never needs the terminal.
    sb.manifest(
        "[secrets]\nASKED = { from = \"cmd:sh -c 'printf Passphrase: >/dev/tty; IFS= read -r x </dev/tty; printf %s \\\"$x\\\"'\", timeout = \"20s\" }\nQUIET = \"cmd:printf quiet-value\"\n",
    );
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "Passphrase:"}, {"send": "typed answer\n"}]),
        &["activate", "--shell", "bash"],
    );
    assert_eq!(r["status"], 0, "{r}");
    assert_eq!(
        posix_exports(r["stdout"].as_str().unwrap_or_default().as_bytes()),
        b"export ASKED='typed answer'\nexport QUIET='quiet-value'\n",
        "{r}"
    );

    // With --no-prompt the stopped CLI is not left to its timeout: it is killed, and the error
    // says why.
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "Passphrase:"}]),
        &["--no-prompt", "activate", "--shell", "bash"],
    );
    assert_eq!(r["status"], 1, "{r}");
    assert_eq!(r["stdout"], "false\n");
    assert!(
        r["terminal"]
            .as_str()
            .unwrap()
            .contains("--no-prompt is set"),
        "{r}"
    );
}

#[test]
fn ctrl_c_at_a_hidden_prompt_gives_the_terminal_its_echo_back() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nX = \"keyring:jit-test-never-written\"\n");
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "Value for X:"}, {"send": "\u{3}"}]),
        &["set", "X"],
    );
    assert_eq!(r["status"], 128 + libc::SIGINT, "{r}");
    assert_eq!(r["echo_on"], true, "echo left off after Ctrl-C: {r}");
}

/// A store child's SigIgn and SigBlk masks, as `/proc/self/status` shows them to the child.
fn child_signal_masks(out: &str) -> (u64, u64) {
    let field = |name: &str| {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {out:?}"));
        u64::from_str_radix(line.split_whitespace().last().unwrap(), 16).unwrap()
    };
    (field("SigIgn:"), field("SigBlk:"))
}

/// bash starts command and process substitutions with SIGTTIN, SIGTTOU and SIGTSTP ignored, and
/// an ignored disposition survives exec: every store child must still start with the job-control
/// signals (and SIGINT, SIGQUIT, SIGPIPE) at their defaults, or a CLI reading /dev/tty from its
/// background group gets EIO instead of being stopped and handed the terminal.
#[test]
fn store_children_start_with_default_signal_dispositions_whatever_we_inherited() {
    let sb = Sandbox::new();
    let m = sb.manifest("[secrets]\nMASKS = \"cmd:grep -E ^Sig(Ign|Blk) /proc/self/status\"\n");
    let out = sb
        .command("bash")
        .args([
            "-c",
            "trap '' TTIN TTOU TSTP INT QUIT PIPE; eval \"$(\"$0\" --manifest \"$1\" activate --shell bash)\"; printf '%s\\n' \"$MASKS\"",
            BIN,
            m.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let (ignored, blocked) = child_signal_masks(&stdout(&out));
    for (signal, name) in [
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGPIPE, "SIGPIPE"),
    ] {
        assert_eq!(
            ignored & (1 << (signal - 1)),
            0,
            "{name} is ignored in the store child (SigIgn {ignored:x})"
        );
    }
    assert_eq!(blocked, 0, "the store child starts with signals blocked");
}

/// The hand-off where users run us: inside a command substitution of an interactive shell on a
/// real pseudo-terminal, the shell its session leader. A store child that asks on /dev/tty gets
/// the terminal, the typed answer reaches it, and the value arrives in the shell.
#[test]
fn the_terminal_hand_off_works_inside_each_shells_evaluation() {
    let sb = Sandbox::new();
    let m = sb.manifest(
        "[secrets]\nASKED = { from = \"cmd:sh -c 'printf Passphrase: >/dev/tty; IFS= read -r x </dev/tty; printf %s \\\"$x\\\"'\", timeout = \"120s\" }\n",
    );
    let (bin, m) = (BIN, m.to_str().unwrap());
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        (
            "bash eval",
            vec!["bash", "--norc", "--noprofile", "-i"],
            format!("eval \"$('{bin}' --manifest '{m}' activate --shell bash)\"; echo \"GOT=[$ASKED]\"; exit\n"),
        ),
        (
            "bash source",
            vec!["bash", "--norc", "--noprofile", "-i"],
            format!("source <('{bin}' --manifest '{m}' activate --shell bash); echo \"GOT=[$ASKED]\"; exit\n"),
        ),
        (
            "zsh eval",
            vec!["zsh", "-f", "-i"],
            format!("eval \"$('{bin}' --manifest '{m}' activate --shell zsh)\"; echo \"GOT=[$ASKED]\"; exit\n"),
        ),
        (
            "fish source",
            vec!["fish", "--no-config", "-i"],
            format!("'{bin}' --manifest '{m}' activate --shell fish | source; echo \"GOT=[$ASKED]\"; exit\n"),
        ),
        (
            "tcsh eval",
            vec!["tcsh", "-f", "-i"],
            format!("eval \"`'{bin}' --manifest '{m}' activate --shell tcsh`\"; echo \"GOT=[$ASKED]\"; exit\n"),
        ),
    ];
    for (what, shell, line) in cases {
        require(shell[0]);
        let steps = serde_json::json!([
            {"send": line},
            {"expect": "Passphrase:"},
            {"send": "typed answer\n"},
        ]);
        let out = sb
            .command("python3")
            .arg(repo_root().join("tests/support/on_a_terminal.py"))
            .arg(steps.to_string())
            .arg("--")
            .args(&shell)
            .env("TERM", "dumb")
            .output()
            .unwrap();
        assert_code(&out, 0);
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let said = r["stdout"].as_str().unwrap_or_default().to_string()
            + r["terminal"].as_str().unwrap_or_default();
        assert!(said.contains("GOT=[typed answer]"), "{what}: {r}");
        assert_eq!(r["echo_on"], true, "{what}: echo left off: {r}");
    }
}

/// SIGKILL reaches jit-secrets' whole process group (`kill -9 -PGID`, what `kill -9 %1` does)
/// or comes from `timeout -s KILL`, which kills its own group too: the watcher lives outside our
/// group and session, so it survives to stop the store processes.
#[test]
fn a_sigkill_to_the_whole_group_or_from_timeout_leaves_no_store_process() {
    let sb = Sandbox::new();
    let group = markers(8, 8);
    hanging_manifest(&sb, &group);
    let (_, out) = interrupt(
        &sb,
        &["activate", "--shell", "bash"],
        &group,
        libc::SIGKILL,
        true,
    );
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(libc::SIGKILL)
    );
    assert_nothing_left(&group, "SIGKILL to the process group");

    // `timeout -s KILL`: its SIGALRM is the timeout firing; it then SIGKILLs the command and
    // its own process group (ours). Sent by hand once every store call runs: no timing involved.
    let markers = self::markers(9, 8);
    hanging_manifest(&sb, &markers);
    let mut timeout = sb
        .command("timeout")
        .args(["-s", "KILL", "3600", BIN, "--manifest"])
        .arg(sb.path().join("manifest.toml"))
        .args(["activate", "--shell", "bash"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        poll(|| alive(&markers).len() == markers.len()),
        "{:?}",
        alive(&markers)
    );
    // SAFETY: plain kill(2) on a process we started.
    unsafe {
        libc::kill(timeout.id() as i32, libc::SIGALRM);
    }
    let status = timeout.wait().unwrap();
    // timeout's group kill reaches timeout itself too.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert_nothing_left(&markers, "timeout -s KILL");
}

/// After `run`'s exec the program has exactly the children it started: no watcher, no zombie.
#[test]
fn run_leaves_the_program_no_child_of_ours() {
    let sb = Sandbox::new();
    // A store process first, so the watcher has been started.
    sb.manifest("[secrets]\nA = \"cmd:sh -c 'printf started-a-store'\"\n");
    let program = "import os, sys\nkids = open('/proc/self/task/%d/children' % os.getpid()).read().split()\ntry:\n    os.wait()\n    print('waited for a child', kids)\nexcept ChildProcessError:\n    print('no children' if not kids else kids, os.environ['A'])\n";
    // The interpreter itself, not a shim that would run it as its own child.
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("a python3 binary");
    let out = sb.jit_m(&["run", "--", python, "-c", program]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "no children started-a-store\n",
        "{}",
        stderr(&out)
    );
}

/// Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN) and the whole environment at
/// ARG_MAX: past either, every later command of the shell fails. Refused before anything is
/// printed, naming the secret.
#[test]
fn a_value_a_shell_cannot_hold_is_refused_before_anything_is_printed() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nSMALL = \"cmd:printf ok\"\nHUGE = \"cmd:python3 -c print(chr(120)*140000,end=str())\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_fails_with(
        &out,
        &[
            "HUGE is 140005 bytes",
            "MAX_ARG_STRLEN",
            "use `jit-secrets run`, or keep it in a file and export its path",
        ],
    );
    let out = sb.jit_m(&["run", "--", "true"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("HUGE is 140005 bytes"),
        "{}",
        stderr(&out)
    );
    // JSON feeds a program, not a shell: the value is given whole.
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(out.stdout.len() > 140_000);

    // Each under the cap, together over ARG_MAX (2 MiB with an 8 MiB stack).
    let mut m = String::from("[secrets]\n");
    for i in 0..20 {
        m.push_str(&format!(
            "BIG{i} = \"cmd:python3 -c print(chr(120)*120000,end=str())\"\n"
        ));
    }
    sb.manifest(&m);
    let out = sb
        .command("bash")
        .args([
            "-c",
            "ulimit -s 8192; exec \"$0\" --manifest \"$1\" activate --shell bash",
            BIN,
        ])
        .arg(sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_fails_with(&out, &["ARG_MAX", "export its path"]);
}
