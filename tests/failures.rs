//! Failure paths: nothing exported, a clear message, the right exit code, nothing left behind.

mod support;
use support::*;

#[test]
fn missing_required_secret_exports_nothing_and_names_the_fix() {
    let mut sb = Sandbox::new();
    sb.set_env("PRESENT", "present-value");
    sb.manifest(
        "[secrets]\nOK = \"env:PRESENT\"\nGONE = { from = [\"env:NOPE_1\", \"env:NOPE_2\"] }\n",
    );
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert_eq!(
        stdout(&out),
        "false\n",
        "only a failing statement on stdout"
    );
    let err = stderr(&out);
    assert!(
        err.contains("GONE") && err.contains("env:NOPE_1, env:NOPE_2") && err.contains("fix:"),
        "{err}"
    );
    assert!(!err.contains("present-value"));
}

#[test]
fn optional_missing_secret_is_a_warning_and_left_unset() {
    let mut sb = Sandbox::new();
    sb.set_env("PRESENT", "v");
    sb.manifest(
        "[secrets]\nOK = \"env:PRESENT\"\nMAYBE = { from = \"env:NOPE\", required = false }\n",
    );
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    assert_eq!(exports(&out), "export OK='v'\n");
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: MAYBE"));
}

#[test]
fn a_set_e_hook_stops_on_failure_and_continues_on_success() {
    // Flox's hook runs under `set -e`: eval of our failure output must stop it.
    let mut sb = Sandbox::new();
    sb.set_env("PRESENT", "v");
    let hook =
        r#"set -e; eval "$("$JIT" --manifest "$M" activate --shell bash)"; echo "reached:$OK""#;
    for (manifest, code, reached) in [
        ("[secrets]\nOK = \"env:PRESENT\"\n", 0, true),
        (
            "[secrets]\nOK = \"env:PRESENT\"\nGONE = \"env:NOPE\"\n",
            1,
            false,
        ),
    ] {
        sb.manifest(manifest);
        let out = sb
            .command("bash")
            .arg("-c")
            .arg(hook)
            .env("JIT", BIN)
            .env("M", sb.path().join("manifest.toml"))
            .output()
            .unwrap();
        assert_code(&out, code);
        assert_eq!(
            stdout(&out).contains("reached:v"),
            reached,
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn fish_source_of_a_failure_returns_non_zero() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nGONE = \"env:NOPE\"\n");
    let out = sb
        .command(require("fish"))
        .arg("-c")
        .arg(r#""$JIT" --manifest "$M" activate --shell fish | source; echo "status:$status""#)
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert!(stdout(&out).contains("status:1"), "{}", stdout(&out));
}

#[test]
fn cli_not_installed_is_a_clear_error() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nDB = \"op://Eng/db/password\"\n[secrets.options]\ncommands = { op = \"/nonexistent/op\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("DB") && err.contains("op://Eng/db/password") && err.contains("not installed"),
        "{err}"
    );
    assert!(err.contains("1Password CLI"), "names the fix: {err}");
    assert_eq!(stdout(&out), "false\n");
}

#[test]
fn a_hanging_cli_is_killed_with_its_whole_process_group() {
    let sb = Sandbox::new();
    let sleeps = marker_sleeps(20, 2);
    // The script leaves a grandchild holding stdout: only a group kill ends it. The grandchild
    // leaves a file behind first, so the test knows it existed.
    let script = sb.write_executable(
        "hang.sh",
        format!(
            "#!/bin/sh\n(touch started; exec {}) &\n{}\n",
            sleeps[0], sleeps[1]
        ),
    );
    sb.manifest(&format!(
        "[secrets]\nSLOW = {{ from = \"cmd:{}\", timeout = \"500ms\" }}\n",
        script.display()
    ));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("did not finish within 0.5s"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("timeout"),
        "names the fix: {}",
        stderr(&out)
    );
    assert!(
        sb.path().join("started").exists(),
        "the grandchild never ran: the check below proves nothing"
    );
    assert!(
        poll(|| alive(&sleeps).is_empty()),
        "processes survived the timeout: {:?}",
        alive(&sleeps)
    );
}

#[test]
fn a_failing_cli_that_prints_a_value_on_stderr_is_scrubbed() {
    let mut sb = Sandbox::new();
    let canary = "CANARY-7f3e9a-super-secret";
    sb.set_env("CANARY_SRC", canary);
    let script = sb.write_executable(
        "leaky.sh",
        "#!/bin/sh\necho \"auth failed for token $CANARY_SRC (retry)\" >&2\nexit 1\n",
    );
    sb.manifest(&format!(
        "[secrets]\nTOKEN = \"env:CANARY_SRC\"\nOTHER = \"cmd:{}\"\n",
        script.display()
    ));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains(canary), "value leaked: {err}");
    assert!(!stdout(&out).contains(canary));
    assert!(
        err.contains("auth failed for token <redacted> (retry)"),
        "the rest of the message is kept: {err}"
    );
}

#[test]
fn a_malformed_manifest_is_exit_2_with_line_and_column() {
    let sb = Sandbox::new();
    let m = sb.manifest("[secrets]\nGOOD = \"env:A\"\nBAD = { form = \"env:A\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(&format!("{}:3:9: unknown key `form`", m.display())),
        "{}",
        stderr(&out)
    );
    // The evaluating shell fails too: a broken manifest must not read as "nothing to export".
    assert_eq!(stdout(&out), "false\n");
    sb.manifest("[secrets]\nX = \"env:A\"\n[secrets\n");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("manifest.toml:3:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_manifest_names_every_path_tried() {
    let sb = Sandbox::new();
    let out = sb
        .command(BIN)
        .arg("list")
        .current_dir(sb.path())
        .output()
        .unwrap();
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(&sb.path().join("manifest.toml").display().to_string()),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(".flox/env/manifest.toml"));
}

#[test]
fn nul_byte_in_a_value_names_the_secret() {
    let sb = Sandbox::new();
    sb.write("v", b"before\0after");
    sb.manifest("[secrets]\nNULLY = \"file:v\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("NULLY") && stderr(&out).contains("NUL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_executes_with_secrets_and_passes_the_exit_status() {
    let mut sb = Sandbox::new();
    sb.set_env("SRC", "it's \"v\"");
    sb.manifest("[secrets]\nTOKEN = \"env:SRC\"\n");
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf '%s' \"$TOKEN\"; exit 7"]);
    assert_code(&out, 7);
    assert_eq!(stdout(&out), "it's \"v\"");
    // A failing secret: the command does not start.
    sb.manifest("[secrets]\nTOKEN = \"env:NOPE\"\n");
    let out = sb.jit_m(&["run", "--", "sh", "-c", "echo started"]);
    assert_code(&out, 1);
    assert!(!stdout(&out).contains("started"));
    assert!(stderr(&out).contains("not started"));
}

#[test]
fn list_never_contacts_a_store_or_prints_values() {
    let sb = Sandbox::new();
    let marker = sb.path().join("contacted");
    sb.manifest(&format!(
        "[secrets]\nA = {{ from = [\"env:X\", \"cmd:touch {}\"], description = \"the A\" }}\nB = {{ from = \"op://v/i/f\", required = false }}\n",
        marker.display()
    ));
    let out = sb.jit_m(&["list", "--json"]);
    assert_code(&out, 0);
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["name"], "A");
    assert_eq!(items[0]["stores"], serde_json::json!(["env", "cmd"]));
    assert_eq!(items[1]["required"], false);
    assert_eq!(items[0]["description"], "the A");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("env → cmd"));
    assert!(!marker.exists(), "list ran a store");
}

#[test]
fn same_reference_is_fetched_once() {
    let sb = Sandbox::new();
    let counter = sb.path().join("count");
    let script = sb.write_executable(
        "count.sh",
        format!("#!/bin/sh\necho x >> {}\nprintf v\n", counter.display()),
    );
    let r = format!("cmd:{}", script.display());
    sb.manifest(&format!(
        "[secrets]\nA = \"{r}\"\nB = \"{r}\"\nC = {{ from = [\"env:NOPE\", \"{r}\"] }}\n"
    ));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1
    );
    assert_eq!(exports(&out), "export A='v'\nexport B='v'\nexport C='v'\n");
}

/// Runs `activate` under `strace -f` and returns (output, trace).
fn traced_activate(sb: &Sandbox) -> (std::process::Output, String) {
    let strace = require("strace");
    let log = sb.path().join("strace.log");
    let out = sb
        .command(strace)
        .args(["-f", "-qq", "-e", "signal=none", "-o"])
        .arg(&log)
        .args(["-e", &format!("trace={WRITE_SYSCALLS}")])
        .arg(BIN)
        .arg("--manifest")
        .arg(sb.path().join("manifest.toml"))
        .args(["activate", "--shell", "bash"])
        .output()
        .unwrap();
    let trace = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    (out, trace)
}

#[test]
fn activate_writes_no_file() {
    // strace every process we start: no open for writing, create, rename or unlink outside /dev.
    let mut sb = Sandbox::new();
    sb.set_env("SRC", "from-env");
    sb.write("v", "from-file\n");
    sb.manifest("[secrets]\nA = \"env:SRC\"\nB = \"file:v\"\nC = \"cmd:printf from-cmd\"\nD = { from = \"env:NOPE\", required = false }\n");
    let (out, trace) = traced_activate(&sb);
    assert_code(&out, 0);
    assert_eq!(
        exports(&out),
        "export A='from-env'\nexport B='from-file'\nexport C='from-cmd'\n"
    );
    let writes = find_writes(&trace);
    assert!(
        writes.is_empty(),
        "writes during activate:\n{}",
        writes.join("\n")
    );
    assert!(
        trace.contains("openat("),
        "strace saw nothing: the check would be vacuous"
    );
}

#[test]
fn the_write_check_catches_a_write() {
    // Guards the guard: a store that writes a file must be caught by the same check.
    let sb = Sandbox::new();
    let target = sb.path().join("written-by-store");
    sb.manifest(&format!(
        "[secrets]\nA = \"cmd:touch {}\"\n",
        target.display()
    ));
    let (_, trace) = traced_activate(&sb);
    let writes = find_writes(&trace);
    assert!(
        writes.iter().any(|w| w.contains("written-by-store")),
        "not caught:\n{trace}"
    );
}

#[test]
fn find_writes_joins_split_calls() {
    let trace = "7 mkdirat(AT_FDCWD, \"/x/.d\", 0700 <unfinished ...>\n8 read(3, \"\", 1) = 0\n7 <... mkdirat resumed>) = -1 EEXIST (File exists)\n9 openat(AT_FDCWD, \"/x/f\", O_WRONLY|O_CREAT, 0600) = 3\n";
    assert_eq!(
        find_writes(trace),
        vec!["9 openat(AT_FDCWD, \"/x/f\", O_WRONLY|O_CREAT, 0600) = 3".to_string()]
    );
}

/// Runs `jit-secrets ARGS` with a terminal as stdout (through `script`); returns what it printed.
fn on_a_terminal(sb: &Sandbox, args: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = sb.command(require("script"));
    cmd.args([
        "-qec",
        &format!("{BIN} --manifest manifest.toml {args}"),
        "/dev/null",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    stdout(&cmd.output().unwrap())
}

#[test]
fn on_a_terminal_activate_masks_values_unless_reveal() {
    let mut sb = Sandbox::new();
    sb.set_env("SRC", "visible-only-with-reveal");
    sb.manifest("[secrets]\nTOKEN = \"env:SRC\"\n");
    let masked = on_a_terminal(&sb, "activate --shell bash", &[]);
    assert!(masked.contains("export TOKEN='<24 bytes>'"), "{masked}");
    assert!(masked.contains("# TOKEN from env:SRC"), "{masked}");
    assert!(
        masked.contains("source <(jit-secrets activate)"),
        "the hint: {masked}"
    );
    assert!(!masked.contains("visible-only-with-reveal"), "{masked}");
    let revealed = on_a_terminal(&sb, "activate --shell bash --reveal", &[]);
    assert!(
        revealed.contains("export TOKEN='visible-only-with-reveal'"),
        "{revealed}"
    );
}

#[test]
fn verify_colours_only_on_a_terminal_and_never_with_no_color() {
    let mut sb = Sandbox::new();
    sb.set_env("SRC", "v");
    sb.env.remove("NO_COLOR");
    sb.manifest(
        "[secrets]\nTOKEN = \"env:SRC\"\nGONE = { from = \"env:NOPE\", required = false }\n",
    );
    assert!(
        on_a_terminal(&sb, "verify", &[]).contains("\x1b["),
        "colour on a terminal"
    );
    assert!(
        !on_a_terminal(&sb, "verify", &[("NO_COLOR", "1")]).contains("\x1b["),
        "NO_COLOR"
    );
    assert!(
        !stdout(&sb.jit_m(&["verify"])).contains("\x1b["),
        "not on a pipe"
    );
}

#[test]
fn a_batch_that_fails_whole_is_reported_once_in_full_then_pointed_at() {
    // B sorts after A inside the batch but is printed first: the full report must come first.
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nB = \"vault:secret/app#z\"\nA = \"vault:secret/app#a\"\n[secrets.options]\ncommands = { vault = \"/bin/false\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    let b = err
        .find("error: B: vault:secret/app#z")
        .expect("B reported");
    let fix = err
        .find("fix: run `vault login`")
        .expect("the fix is shown");
    let a = err
        .find("error: A: vault:secret/app#a")
        .expect("A reported");
    assert!(b < fix && fix < a, "full block first:\n{err}");
    assert!(err.contains("(the same failure as B above)"), "{err}");
    assert_eq!(err.matches("fix: run `vault login`").count(), 1, "{err}");
    // Each secret's machine-readable report stands on its own.
    let out = sb.jit_m(&["verify", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for s in report["secrets"].as_array().unwrap() {
        assert!(
            s["error"]["fix"].as_str().unwrap().contains("vault login"),
            "{s}"
        );
    }
}
