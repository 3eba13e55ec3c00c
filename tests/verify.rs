//! `jit-secrets verify`: resolves / current / age, exit codes 0, 1, 3 — and never a value.

mod support;
use std::process::Output;
use support::stores::*;
use support::*;

fn verify(sb: &Sandbox, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut c = sb.command(BIN);
    c.args(["--manifest", "manifest.toml", "verify"])
        .args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn entry<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {r}"))
}

#[track_caller]
fn assert_no_values(out: &Output, values: &[&str]) {
    for v in values {
        assert!(
            !stdout(out).contains(v) && !stderr(out).contains(v),
            "a value leaked: {}\n{}",
            stdout(out),
            stderr(out)
        );
    }
}

#[test]
fn rotation_in_aws_makes_the_active_shell_stale_then_current_again() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    moto.create_secret("prod/api", "old-value-1f3a");
    sb.manifest("[secrets]\nAPI = { from = \"aws-sm:prod/api\", rotate_after = \"90d\" }\nLOCAL = \"env:SRC\"\n");
    sb.set_env("SRC", "local-value-77b2");
    // The shell activated with the current value: everything current, exit 0.
    let out = verify(
        &sb,
        &[("API", "old-value-1f3a"), ("LOCAL", "local-value-77b2")],
        &["--json"],
    );
    assert_code(&out, 0);
    let r = report(&out);
    assert_eq!(entry(&r, "API")["current"], "current");
    assert_eq!(entry(&r, "API")["resolves"], "ok");
    assert_eq!(entry(&r, "API")["source"], "aws-sm:prod/api");
    assert_eq!(
        entry(&r, "API")["age"]["status"],
        "ok",
        "moto's LastChangedDate is now"
    );
    assert!(entry(&r, "API")["age"]["age_seconds"].as_i64().unwrap() < 3600);
    assert_no_values(&out, &["old-value-1f3a", "local-value-77b2"]);
    // Rotated in the store: the shell's copy is stale, exit 3.
    moto.put_secret_value("prod/api", "new-value-9c4d");
    let out = verify(
        &sb,
        &[("API", "old-value-1f3a"), ("LOCAL", "local-value-77b2")],
        &["--json"],
    );
    assert_code(&out, 3);
    assert_eq!(entry(&report(&out), "API")["current"], "stale");
    assert_no_values(
        &out,
        &["old-value-1f3a", "new-value-9c4d", "local-value-77b2"],
    );
    // The table says so too, with the hint.
    let out = verify(&sb, &[("API", "old-value-1f3a")], &[]);
    assert_code(&out, 3);
    assert!(
        stdout(&out).contains("STALE") && stdout(&out).contains("activate again"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("\x1b["), "no colour off a terminal");
    assert_no_values(&out, &["old-value-1f3a", "new-value-9c4d"]);
    // Not activated at all: not-active, which is fine.
    let out = verify(&sb, &[], &["--json"]);
    assert_code(&out, 0);
    assert_eq!(entry(&report(&out), "API")["current"], "not-active");
    // Deleted from the store: exit 1 with the store's name for it.
    moto.aws(&[
        "secretsmanager",
        "delete-secret",
        "--secret-id",
        "prod/api",
        "--force-delete-without-recovery",
    ]);
    let out = verify(&sb, &[("API", "old-value-1f3a")], &["--json"]);
    assert_code(&out, 1);
    let api = entry(&report(&out), "API").clone();
    assert_eq!(api["resolves"], "missing");
    assert!(api["error"]["fix"].as_str().unwrap().contains("create it"));
    assert_no_values(&out, &["old-value-1f3a", "new-value-9c4d"]);
}

#[test]
fn overdue_from_file_mtime_pass_and_fake_op_and_unknown_where_no_time_exists() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    pass.insert("app/db", b"pass-value-5e6f");
    let _op = FakeOp::new(
        &mut sb,
        &serde_json::json!({"op://Eng/db/password": "op-value-a1b2", "__updated_at__": {"op://Eng/db": "2020-01-01T00:00:00Z"}}),
    );
    let old = sb.write("old-secret", "file-value-c3d4");
    let touched = std::process::Command::new("touch")
        .args(["-d", "100 days ago"])
        .arg(&old)
        .status()
        .unwrap();
    assert!(touched.success());
    sb.manifest(
        r#"[secrets]
OLD_FILE = { from = "file:old-secret", rotate_after = "90d" }
PASS = "pass:app/db"
OP = { from = "op://Eng/db/password", rotate_after = "365d" }
CMD = { from = "cmd:printf %s%s cmd-value- e5f6", rotate_after = "1d" }
OPTIONAL = { from = "env:NOT_SET", required = false }
[secrets.options]
rotate_after = "30d"
"#,
    );
    let out = verify(&sb, &[], &["--json"]);
    assert_code(&out, 3);
    let r = report(&out);
    assert_eq!(entry(&r, "OLD_FILE")["age"]["status"], "overdue");
    assert!(
        entry(&r, "OLD_FILE")["age"]["age_seconds"]
            .as_i64()
            .unwrap()
            >= 99 * 86_400
    );
    assert_eq!(entry(&r, "OP")["age"]["status"], "overdue");
    assert_eq!(
        entry(&r, "OP")["age"]["last_changed"],
        "2020-01-01T00:00:00Z"
    );
    // pass: the options' 30d applies; the entry file was just written.
    assert_eq!(entry(&r, "PASS")["age"]["status"], "ok");
    assert_eq!(
        entry(&r, "PASS")["age"]["rotate_after_seconds"],
        30 * 86_400
    );
    // cmd: has no time: unknown, never guessed, and not a failure.
    assert_eq!(entry(&r, "CMD")["age"]["status"], "unknown");
    // An optional missing secret is reported, not a failure.
    assert_eq!(entry(&r, "OPTIONAL")["resolves"], "missing");
    assert_eq!(entry(&r, "OPTIONAL")["required"], false);
    assert_no_values(
        &out,
        &[
            "pass-value-5e6f",
            "op-value-a1b2",
            "file-value-c3d4",
            "cmd-value-e5f6",
        ],
    );
    let out = verify(&sb, &[], &[]);
    assert_code(&out, 3);
    assert!(
        stdout(&out).contains("OVERDUE 100d > 90d"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("age unknown"));
    assert_no_values(
        &out,
        &[
            "pass-value-5e6f",
            "op-value-a1b2",
            "file-value-c3d4",
            "cmd-value-e5f6",
        ],
    );
    // --only narrows it: the fresh pass entry alone is fine.
    let out = verify(&sb, &[], &["--only", "PASS"]);
    assert_code(&out, 0);
    assert!(!stdout(&out).contains("OLD_FILE"));
    let out = verify(&sb, &[], &["--only", "NOPE"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("known: OLD_FILE"), "{}", stderr(&out));
}

#[test]
fn vault_and_keyring_report_their_change_times() {
    let mut sb = Sandbox::new();
    let bao = Bao::new(&mut sb);
    let ss = SecretService::new(&mut sb);
    bao.put("secret/app", "db", b"vault-value-1a2b");
    ss.store(
        "k",
        &[("service", "svc"), ("account", "t")],
        b"keyring-value-3c4d",
    );
    sb.manifest("[secrets]\nV = { from = \"vault:secret/app#db\", rotate_after = \"1d\" }\nK = { from = \"keyring:svc?account=t\", rotate_after = \"1d\" }\n");
    let out = verify(
        &sb,
        &[("V", "vault-value-1a2b"), ("K", "stale-copy")],
        &["--json"],
    );
    assert_code(&out, 3);
    let r = report(&out);
    for name in ["V", "K"] {
        assert_eq!(entry(&r, name)["age"]["status"], "ok", "{name}: {r}");
        assert!(
            entry(&r, name)["age"]["age_seconds"].as_i64().unwrap() < 600,
            "{name}"
        );
    }
    assert_eq!(entry(&r, "V")["current"], "current");
    assert_eq!(entry(&r, "K")["current"], "stale");
    assert_no_values(
        &out,
        &["vault-value-1a2b", "keyring-value-3c4d", "stale-copy"],
    );
}

#[test]
fn age_checks_of_a_prompting_store_start_with_one_call_alone() {
    let mut sb = Sandbox::new();
    let mut items = serde_json::Map::new();
    let mut updated = serde_json::Map::new();
    let mut m = String::from("[secrets]\n");
    for i in 0..4 {
        items.insert(format!("op://Eng/item{i}/pw"), format!("v{i}").into());
        updated.insert(format!("op://Eng/item{i}"), "2026-01-01T00:00:00Z".into());
        m.push_str(&format!(
            "S{i} = {{ from = \"op://Eng/item{i}/pw\", rotate_after = \"3650d\" }}\n"
        ));
    }
    items.insert("__updated_at__".into(), serde_json::Value::Object(updated));
    let op = FakeOp::new(&mut sb, &serde_json::Value::Object(items));
    let busy = sb.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    sb.set_env("FAKE_OP_BUSY_DIR", &busy);
    sb.set_env("FAKE_OP_SLEEP", "0.2");
    sb.manifest(&m);
    let out = verify(&sb, &[], &["--json"]);
    assert_code(&out, 0);
    let r = report(&out);
    for i in 0..4 {
        assert_eq!(entry(&r, &format!("S{i}"))["age"]["status"], "ok");
    }
    assert_eq!(op.calls().iter().filter(|c| c[0] == "item").count(), 4);
    // The first call runs alone (it may prompt); the other three may then run at once, so at
    // most two calls find another one running. Four at once would make three.
    let overlaps = std::fs::read_to_string(busy.join("overlaps")).unwrap_or_default();
    assert!(
        overlaps.lines().count() <= 2,
        "op's first call did not run alone:\n{overlaps}"
    );
}
