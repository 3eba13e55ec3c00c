//! One process per store and batch, whatever the number of secrets — asserted through the call
//! logs of the fake `op` and of the recorder wrapped around the real `aws`.

mod support;
use support::stores::*;
use support::*;

fn exports(out: &std::process::Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn twenty_op_references_are_one_op_inject_call() {
    let mut sb = Sandbox::new();
    let mut items = serde_json::Map::new();
    let mut m = String::from("[secrets]\n");
    for i in 0..20 {
        // Values that would confuse a naive parser: newlines, and a line that looks like a marker.
        let value =
            format!("value-{i}\njit-secrets-deadbeef-{i}-end\n{{{{ op://x/y/z }}}} '\"$`\\");
        items.insert(format!("op://Eng/item{i}/password"), value.into());
        m.push_str(&format!(
            "S{i} = {{ from = \"op://Eng/item{i}/password\", trim = false }}\n"
        ));
    }
    let op = FakeOp::new(&mut sb, &serde_json::Value::Object(items.clone()));
    sb.manifest(&m);
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    for i in 0..20 {
        assert_eq!(
            v[format!("S{i}")],
            items[&format!("op://Eng/item{i}/password")],
            "S{i}"
        );
    }
    let calls = op.calls();
    assert_eq!(
        calls,
        vec![vec!["inject".to_string()]],
        "exactly one `op inject`, nothing on its argv"
    );
    let logged = std::fs::read_to_string(&op.log).unwrap();
    assert!(!logged.contains("value-"), "no value in the call log");
}

#[test]
fn a_missing_op_reference_falls_back_per_reference_and_through_its_chain() {
    let mut sb = Sandbox::new();
    let op = FakeOp::new(
        &mut sb,
        &serde_json::json!({"op://Eng/a/f": "va", "op://Eng/b/f": "vb"}),
    );
    sb.set_env("C_FALLBACK", "from-env");
    sb.manifest(
        "[secrets]\nA = \"op://Eng/a/f\"\nB = \"op://Eng/b/f\"\nC = { from = [\"op://Eng/missing/f\", \"env:C_FALLBACK\"] }\n",
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(
        (v["A"].as_str(), v["B"].as_str(), v["C"].as_str()),
        (Some("va"), Some("vb"), Some("from-env"))
    );
    let calls = op.calls();
    assert_eq!(calls[0], vec!["inject"]);
    assert_eq!(
        calls.iter().filter(|c| c[0] == "read").count(),
        3,
        "one read each to find the missing one: {calls:?}"
    );
    // Required and missing everywhere: the right name is reported.
    sb.manifest("[secrets]\nA = \"op://Eng/a/f\"\nGONE = \"op://Eng/missing/f\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("GONE: not found in op://Eng/missing/f"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("A: "), "{}", stderr(&out));
}

#[test]
fn twenty_five_aws_secrets_are_two_batch_calls_and_twelve_parameters_two_calls() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    let mut m = String::from("[secrets]\n");
    let secrets: Vec<(String, String)> = (0..25)
        .map(|i| (format!("app/s{i}"), format!("secret-{i}")))
        .collect();
    let params: Vec<(String, String)> = (0..12)
        .map(|i| (format!("/app/p{i}"), format!("param-{i}")))
        .collect();
    moto.seed(&secrets, &params);
    for i in 0..25 {
        m.push_str(&format!("S{i} = \"aws-sm:app/s{i}\"\n"));
    }
    for i in 0..12 {
        m.push_str(&format!("P{i} = \"aws-ssm:/app/p{i}\"\n"));
    }
    m.push_str("MISSING = { from = [\"aws-sm:app/nope\", \"aws-ssm:/app/p0\"] }\n");
    // In-process (no `aws` on PATH), every request seen by a proxy in front of moto.
    let proxy = moto.proxy(&mut sb);
    sb.manifest(&m);
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    for i in 0..25 {
        assert_eq!(v[format!("S{i}")], format!("secret-{i}"));
    }
    for i in 0..12 {
        assert_eq!(v[format!("P{i}")], format!("param-{i}"));
    }
    assert_eq!(
        v["MISSING"], "param-0",
        "a missing id in a batch still falls through its chain"
    );
    let calls = proxy.calls();
    let sizes = |operation: &str| -> Vec<usize> {
        let mut sizes: Vec<usize> = calls
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, asked)| asked.as_array().map_or(0, Vec::len))
            .collect();
        sizes.sort_unstable();
        sizes
    };
    // 26 ids (25 + app/nope) → 20 + 6; 12 names → 10 + 2. /app/p0 was already fetched: no third round.
    assert_eq!(sizes("BatchGetSecretValue"), [6, 20], "{calls:?}");
    assert_eq!(sizes("GetParameters"), [2, 10], "{calls:?}");
    assert_eq!(calls.len(), 4, "nothing else was called: {calls:?}");
}

#[test]
fn a_fallback_step_starts_as_soon_as_its_own_previous_step_misses() {
    // WAITER finishes only once the fallbacks of LOCAL and REMOTE have run. A resolver that
    // moves chains forward round by round would start those fallbacks only after WAITER's
    // round ended: WAITER would wait for them until its timeout, and fail.
    let mut sb = Sandbox::new();
    let _op = FakeOp::new(&mut sb, &serde_json::json!({"op://Eng/other/f": "x"}));
    sb.manifest(
        r#"[secrets]
WAITER = { from = "cmd:sh -c 'until [ -e local-ran ] && [ -e remote-ran ]; do sleep 0.02; done; printf waited'", timeout = "20s" }
LOCAL = { from = ["env:JIT_TEST_NEVER_SET", "cmd:sh -c 'touch local-ran; printf l'"] }
REMOTE = { from = ["op://Eng/missing/f", "cmd:sh -c 'touch remote-ran; printf r'"] }
"#,
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(
        (
            v["WAITER"].as_str(),
            v["LOCAL"].as_str(),
            v["REMOTE"].as_str()
        ),
        (Some("waited"), Some("l"), Some("r"))
    );
}

/// A stand-in for a store CLI that may prompt (as `secret-tool` may, to unlock the keyring):
/// logs `start`/`end` around a short wait, and fails when $FAIL is set.
fn prompting_cli(sb: &mut Sandbox) -> (String, std::path::PathBuf) {
    let log = sb.path().join("calls.log");
    let cli = sb.write_executable(
        "slow-secret-tool",
        "#!/bin/sh\necho start >> \"$CALL_LOG\"\nsleep 0.3\necho end >> \"$CALL_LOG\"\n[ -n \"$FAIL\" ] && { echo 'Cannot unlock the keyring' >&2; exit 2; }\nprintf 'v-%s' \"$5\"\n",
    );
    sb.set_env("CALL_LOG", &log);
    let mut m = String::from("[secrets]\n");
    for i in 0..5 {
        m.push_str(&format!("S{i} = \"secret-tool:service=s&account=a{i}\"\n"));
    }
    m.push_str(&format!(
        "[secrets.options]\ncommands = {{ \"secret-tool\" = \"{}\" }}\n",
        cli.display()
    ));
    sb.manifest(&m);
    (m, log)
}

#[test]
fn a_prompting_stores_first_call_runs_alone_then_the_rest_overlap() {
    let mut sb = Sandbox::new();
    let (_, log) = prompting_cli(&mut sb);
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["S3"], "v-a3");
    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(calls.len(), 10, "{calls:?}");
    assert_eq!(
        &calls[..2],
        ["start", "end"],
        "the first call ran alone: {calls:?}"
    );
    // After it, the other four ran at once: their starts come before the first of their ends.
    assert_eq!(
        &calls[2..6],
        ["start", "start", "start", "start"],
        "{calls:?}"
    );
}

#[test]
fn when_a_prompting_stores_first_call_fails_the_rest_are_not_tried() {
    let mut sb = Sandbox::new();
    let (_, log) = prompting_cli(&mut sb);
    sb.set_env("FAIL", "1");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls, "start\nend\n", "one call, not five prompts");
    let err = stderr(&out);
    for i in 0..5 {
        assert!(err.contains(&format!("S{i}:")), "S{i} is reported: {err}");
    }
    assert_eq!(
        err.matches("Cannot unlock the keyring").count(),
        1,
        "the store's words once, then pointers to them: {err}"
    );
}

#[test]
fn with_no_prompt_pass_runs_in_parallel_from_the_start_and_gpg_may_not_ask() {
    let mut sb = Sandbox::new();
    let log = sb.path().join("calls.log");
    let cli = sb.write_executable(
        "slow-pass",
        "#!/bin/sh\necho \"start $PASSWORD_STORE_GPG_OPTS\" >> \"$CALL_LOG\"\nsleep 0.3\necho end >> \"$CALL_LOG\"\nprintf 'v-%s\\n' \"$3\"\n",
    );
    sb.set_env("CALL_LOG", &log);
    sb.set_env("PASSWORD_STORE_GPG_OPTS", "--quiet");
    let mut m = String::from("[secrets]\n");
    for i in 0..5 {
        m.push_str(&format!("P{i} = \"pass:app/p{i}\"\n"));
    }
    m.push_str(&format!(
        "[secrets.options]\ncommands = {{ pass = \"{}\" }}\n",
        cli.display()
    ));
    sb.manifest(&m);
    let calls = |out: &std::process::Output| -> Vec<String> {
        assert_code(out, 0);
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        text.lines().map(str::to_string).collect()
    };
    // Without --no-prompt: gpg may raise pinentry, so the first call runs alone.
    let c = calls(&sb.jit_m(&["activate", "--shell", "bash"]));
    assert_eq!(c[..2], ["start --quiet", "end"], "{c:?}");
    // With it: gpg is told not to ask, so nothing can prompt and all five start at once.
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["P4"], "v-app/p4");
    let c = calls(&out);
    assert_eq!(
        c[..5],
        ["start --quiet --pinentry-mode error"; 5],
        "all at once, each with gpg told not to ask (and the user's options kept): {c:?}"
    );
}
