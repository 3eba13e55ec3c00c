//! `rotate` against the real stores: a new random value lands in each, nothing of it is printed or
//! put on an argv, and shells holding the old value are reported stale by `verify`.

mod support;
use support::stores::*;
use support::*;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn rotates_in_every_writable_store_and_active_shells_go_stale() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    let moto = Moto::new(&mut sb);
    let bao = Bao::new(&mut sb);
    let ss = SecretService::new(&mut sb);
    pass.insert("app/db", b"old-pass");
    moto.create_secret("app/plain", "old-sm");
    moto.create_secret("app/json", r#"{"key":"old-key","keep":"kept"}"#);
    moto.put_parameter("/app/p", "old-ssm");
    bao.put_fields("secret/app", &[("db", "old-vault"), ("other", "kept")]);
    ss.store("k", &[("service", "rot"), ("account", "t")], b"old-keyring");
    // Record argv of every CLI that receives the value.
    let (commands, log) = record(&mut sb, &["aws", "vault", "pass"]);
    sb.manifest(&format!(
        r#"[secrets]
PASS = "pass:app/db"
SM = "aws-sm:app/plain"
SM_KEY = "aws-sm:app/json#key"
SSM = "aws-ssm:/app/p"
VAULT = "vault:secret/app#db"
KEYRING = "keyring:rot?account=t"
[secrets.options]
commands = {{ {} }}
"#,
        commands
    ));
    let before = json(&sb.jit_m(&["activate", "--shell", "json"]));
    let names = ["PASS", "SM", "SM_KEY", "SSM", "VAULT", "KEYRING"];
    let mut outputs = Vec::new();
    for name in names {
        let out = sb.jit_m(&[
            "rotate",
            name,
            "--length",
            "40",
            "--charset",
            "hex",
            "--yes",
        ]);
        assert_code(&out, 0);
        assert!(stderr(&out).contains("verify"), "{}", stderr(&out));
        outputs.push(out);
    }
    let after = json(&sb.jit_m(&["activate", "--shell", "json"]));
    for name in names {
        let v = after[name].as_str().unwrap();
        assert_eq!(v.len(), 40, "{name}");
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{name}"
        );
        assert_ne!(after[name], before[name], "{name}");
        for out in &outputs {
            assert!(
                !stdout(out).contains(v) && !stderr(out).contains(v),
                "{name}'s new value was printed"
            );
        }
    }
    for name in names {
        assert!(
            !std::fs::read_to_string(&log)
                .unwrap()
                .contains(after[name].as_str().unwrap()),
            "{name} on argv"
        );
    }
    // The other fields survived: vault patched, the JSON secret kept its other key.
    sb.manifest(&format!(
        "[secrets]\nOTHER = \"vault:secret/app#other\"\nKEEP = \"aws-sm:app/json#keep\"\n[secrets.options]\ncommands = {{ {} }}\n",
        commands
    ));
    let kept = json(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(
        (kept["OTHER"].as_str(), kept["KEEP"].as_str()),
        (Some("kept"), Some("kept"))
    );
    // A shell activated before the rotation is stale now.
    sb.manifest(&format!(
        "[secrets]\nVAULT = \"vault:secret/app#db\"\n[secrets.options]\ncommands = {{ {} }}\n",
        commands
    ));
    let stale = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "verify", "--json"])
        .env("VAULT", before["VAULT"].as_str().unwrap())
        .output()
        .unwrap();
    assert_code(&stale, 3);
}

#[test]
fn stores_that_cannot_be_written_say_so() {
    let mut sb = Sandbox::new();
    let _op = FakeOp::new(&mut sb, &serde_json::json!({"op://Eng/db/pw": "v"}));
    sb.manifest("[secrets]\nDB = \"op://Eng/db/pw\"\nE = \"env:X\"\n");
    // A usage error (exit 2), refused before a value is generated, like every other one.
    for name in ["DB", "E"] {
        let out = sb.jit_m(&["rotate", name]);
        assert_code(&out, 2);
        assert!(stderr(&out).contains("cannot write to"), "{}", stderr(&out));
        assert!(stderr(&out).contains("fix:"), "{}", stderr(&out));
    }
    let out = sb.jit_m(&["rotate", "DB", "--length", "4"]);
    assert_code(&out, 2);
}

/// rotate overwrites stores that keep no history: it asks first on a terminal, saying so, and
/// off a terminal it needs --yes.
#[test]
fn rotate_asks_first_and_says_whether_the_old_value_survives() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    pass.insert("app/token", b"issued-once");
    sb.manifest("[secrets]\nTOKEN = \"pass:app/token\"\n");
    let value = |sb: &Sandbox| json(&sb.jit_m(&["activate", "--shell", "json"]))["TOKEN"].clone();

    let out = sb.jit_m(&["rotate", "TOKEN"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("pass --yes to rotate"),
        "{}",
        stderr(&out)
    );
    assert_eq!(value(&sb), "issued-once");

    // On a terminal: the question names the store and that nothing keeps the old value; "n" keeps it.
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "[y/N]"}, {"send": "n\n"}]),
        &["rotate", "TOKEN"],
    );
    assert_eq!(r["status"], 0, "{r}");
    let asked = r["terminal"].as_str().unwrap();
    assert!(
        asked.contains("Rotate TOKEN in pass:app/token (pass)"),
        "{r}"
    );
    assert!(
        asked.contains("keeps no history: the current value will be gone for good"),
        "{r}"
    );
    assert_eq!(value(&sb), "issued-once");

    // "y": rotated, and it says where the new value went.
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "[y/N]"}, {"send": "y\n"}]),
        &["rotate", "TOKEN"],
    );
    assert_eq!(r["status"], 0, "{r}");
    assert!(
        r["terminal"]
            .as_str()
            .unwrap()
            .contains("is in pass:app/token"),
        "{r}"
    );
    assert_ne!(value(&sb), "issued-once");

    // A store kept in git says the old value stays readable.
    let init = sb.command("pass").args(["git", "init"]).output().unwrap();
    assert_code(&init, 0);
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "[y/N]"}, {"send": "n\n"}]),
        &["rotate", "TOKEN"],
    );
    assert!(
        r["terminal"]
            .as_str()
            .unwrap()
            .contains("git history keeps it"),
        "{r}"
    );
}
