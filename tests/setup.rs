//! First run: `setup` asks for what is missing on a real pseudo-terminal and stores it in the
//! real gnome-keyring; project-scoped keyring items keep two checkouts apart; `forget` deletes
//! exactly one project's items.

mod support;
use support::stores::*;
use support::*;

const MANIFEST: &str = r#"[secrets]
A = { from = "keyring:app-a?account=dev", description = "the A token" }
B = "keyring:app-b?account=dev"
C = { from = "keyring:app-c?account=dev", required = false }
"#;

#[test]
fn setup_asks_for_what_is_missing_twice_and_stores_it() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    sb.manifest(MANIFEST);
    // activate on a terminal names setup (and prompts for nothing itself).
    let r = on_a_terminal(&sb, serde_json::json!([]), &["activate", "--shell", "bash"]);
    assert_eq!(r["status"], 1, "{r}");
    assert_eq!(r["stdout"], "false\n");
    assert!(
        r["terminal"]
            .as_str()
            .unwrap()
            .contains("run: jit-secrets setup"),
        "{r}"
    );

    let r = on_a_terminal(
        &sb,
        serde_json::json!([
            {"expect": "A — the A token: "}, {"send": "value-a\n"},
            {"expect": "Again: "}, {"send": "not the same\n"},
            {"expect": "differ"},
            {"expect": "A — the A token: ", "count": 2}, {"send": "value-a\n"},
            {"expect": "Again: ", "count": 2}, {"send": "value-a\n"},
            {"expect": "B: "}, {"send": "value-b\n"},
            {"expect": "Again: ", "count": 3}, {"send": "value-b\n"},
            {"expect": "C (optional: Enter skips): "}, {"send": "\n"},
        ]),
        &["setup"],
    );
    assert_eq!(r["status"], 0, "{r}");
    let shown = r["terminal"].as_str().unwrap();
    assert!(
        !shown.contains("value-a") && !shown.contains("value-b"),
        "echoed: {shown}"
    );
    assert_eq!(
        ss.lookup(&[("service", "app-a"), ("account", "dev")])
            .stdout,
        b"value-a"
    );
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "{\"A\":\"value-a\",\"B\":\"value-b\"}\n");
}

#[test]
fn ctrl_d_ends_setup_with_nothing_stored_and_without_a_terminal_it_lists() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    sb.manifest(MANIFEST);
    let r = on_a_terminal(
        &sb,
        serde_json::json!([
            {"expect": "A — the A token: "}, {"send": "value-a\n"},
            {"expect": "Again: "}, {"send": "value-a\n"},
            {"expect": "B: "}, {"send": "\u{4}"},
        ]),
        &["setup"],
    );
    assert_eq!(r["status"], 1, "{r}");
    assert!(
        r["terminal"].as_str().unwrap().contains("nothing stored"),
        "{r}"
    );
    assert!(
        !ss.lookup(&[("service", "app-a"), ("account", "dev")])
            .status
            .success(),
        "A was stored although setup ended"
    );
    // No terminal (setsid: no controlling tty): what is missing, and the command for each.
    let out = sb
        .command("setsid")
        .args(["-w", BIN, "--manifest", "manifest.toml", "setup"])
        .output()
        .unwrap();
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("jit-secrets set A") && err.contains("jit-secrets set B"),
        "{err}"
    );
    assert!(
        err.contains("the A token") && err.contains("C (optional)"),
        "{err}"
    );
}

#[test]
fn project_scope_keeps_checkouts_apart_and_forget_removes_one_projects_items() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    let manifest = "[secrets]\nS = \"keyring:shared-app?account=dev\"\n[secrets.options]\nkeyring_scope = \"project\"\n";
    let one = sb.write("one/manifest.toml", manifest);
    let two = sb.write("two/manifest.toml", manifest);
    ss.store(
        "global",
        &[("service", "shared-app"), ("account", "dev")],
        b"global-value",
    );
    let set = |m: &std::path::Path, value: &[u8]| {
        use std::io::Write;
        let mut child = sb
            .command(BIN)
            .args(["--manifest", m.to_str().unwrap(), "set", "S"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(value).unwrap();
        assert!(child.wait_with_output().unwrap().status.success());
    };
    let value = |m: &std::path::Path| {
        let out = sb.jit(&[
            "--manifest",
            m.to_str().unwrap(),
            "activate",
            "--shell",
            "json",
        ]);
        (out.status.code(), stdout(&out), stderr(&out))
    };
    // The global item is not this project's: not found, and the note says why.
    let (code, _, err) = value(&one);
    assert_eq!(code, Some(1));
    assert!(err.contains("a global item exists"), "{err}");
    set(&one, b"value-one");
    set(&two, b"value-two");
    assert_eq!(value(&one).1, "{\"S\":\"value-one\"}\n");
    assert_eq!(value(&two).1, "{\"S\":\"value-two\"}\n");
    // forget in one: its item goes; two's and the global one stay.
    let out = sb.jit(&["--manifest", one.to_str().unwrap(), "forget", "--yes"]);
    assert_code(&out, 0);
    let mut search = ss.cmd("secret-tool");
    search.args(["search", "--all", "service", "shared-app"]);
    let listing = search.output().unwrap();
    let listing = stdout(&listing) + &stderr(&listing);
    let project = |p: &std::path::Path| {
        p.parent()
            .unwrap()
            .canonicalize()
            .unwrap()
            .display()
            .to_string()
    };
    assert!(
        !listing.contains(&format!("jit-secrets-project = {}\n", project(&one))),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("jit-secrets-project = {}", project(&two))),
        "{listing}"
    );
    assert_eq!(
        listing.matches("[/").count(),
        2,
        "two's item and the global one: {listing}"
    );
    assert_eq!(value(&one).0, Some(1));
    assert_eq!(value(&two).1, "{\"S\":\"value-two\"}\n");
}
