//! The native keyring (`keyring:`) against a real gnome-keyring on a private D-Bus session bus.

mod support;
use std::process::Command;
use support::stores::*;
use support::*;

fn login_name() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn finds_items_secret_tool_stored_including_the_username_variant_and_default_account() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    let me = login_name();
    ss.store(
        "a",
        &[("service", "github-token"), ("account", "alice")],
        b"gh-alice",
    );
    ss.store(
        "b",
        &[("service", "keyring-crate"), ("username", "bob")],
        b"from-keyring-crate",
    );
    ss.store("c", &[("service", "mine"), ("account", &me)], b"my-own");
    sb.manifest(
        r#"[secrets]
ALICE = "keyring:github-token?account=alice"
BOB = "keyring:keyring-crate?account=bob"
MINE = "keyring:mine"
FALLBACK = { from = ["keyring:absent?account=alice", "keyring:github-token?account=alice"] }
"#,
    );
    // $USER unset (as on these machines): the account is the login name.
    let out = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "json"])
        .env_remove("USER")
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["ALICE"], "gh-alice");
    assert_eq!(v["BOB"], "from-keyring-crate");
    assert_eq!(v["MINE"], "my-own");
    assert_eq!(v["FALLBACK"], "gh-alice");
    // $USER set: it is the account.
    sb.manifest("[secrets]\nA = \"keyring:github-token\"\n");
    let out = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "json"])
        .env("USER", "alice")
        .output()
        .unwrap();
    assert_eq!(json(&out)["A"], "gh-alice");
}

#[test]
fn set_stores_what_secret_tool_lookup_finds_and_replaces_it() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    sb.manifest("[secrets]\nTOKEN = \"keyring:deploy-token?account=ci\"\n");
    let out = set_on_stdin(&sb, &["TOKEN"], b"first-value\n");
    assert_code(&out, 0);
    assert!(stdout(&out).is_empty());
    assert!(!stderr(&out).contains("first-value"));
    let looked = ss.lookup(&[("service", "deploy-token"), ("account", "ci")]);
    assert_eq!(
        looked.stdout, b"first-value",
        "stdin's trailing newline dropped"
    );
    // Replaced, not duplicated.
    assert_code(&set_on_stdin(&sb, &["TOKEN"], b"second-value"), 0);
    assert_eq!(
        ss.lookup(&[("service", "deploy-token"), ("account", "ci")])
            .stdout,
        b"second-value"
    );
    let mut search = ss.cmd("secret-tool");
    search.args(["search", "--all", "service", "deploy-token"]);
    let listing = stdout(&search.output().unwrap()) + &stderr(&search.output().unwrap());
    assert_eq!(
        listing.matches("attribute.service = deploy-token").count(),
        1,
        "{listing}"
    );
    assert!(
        listing.contains("label = jit-secrets: deploy-token (ci)"),
        "{listing}"
    );
    assert_eq!(
        json(&sb.jit_m(&["activate", "--shell", "json"]))["TOKEN"],
        "second-value"
    );
    // --ref without a manifest entry.
    assert_code(
        &set_on_stdin(
            &sb,
            &["OTHER", "--ref", "keyring:other-svc?account=ci"],
            b"o",
        ),
        0,
    );
    assert_eq!(
        ss.lookup(&[("service", "other-svc"), ("account", "ci")])
            .stdout,
        b"o"
    );
    // delete: refused without --yes off a terminal; then removed.
    let out = sb.jit_m(&["delete", "TOKEN"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--yes"));
    assert_code(&sb.jit_m(&["delete", "TOKEN", "--yes"]), 0);
    assert!(!ss
        .lookup(&[("service", "deploy-token"), ("account", "ci")])
        .status
        .success());
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("TOKEN: not found in keyring:deploy-token?account=ci"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hostile_values_round_trip_through_set_and_activate() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    // Ends without a newline: `trim` (on by default) drops one, as documented.
    let big: String = "0123456789'\"\\$`\n".repeat(64 * 1024 / 16) + "end";
    let values: Vec<(&str, String)> = vec![
        ("QUOTES", "it's \"q\" `b` $(c) \\".into()),
        ("LINES", "a\nb\n\nc".into()),
        ("UNICODE", "ünï €😀 \u{202E}".into()),
        ("BIG", big),
    ];
    let mut m = String::from("[secrets]\n");
    for (name, _) in &values {
        m.push_str(&format!(
            "{name} = \"keyring:hostile-{}?account=t\"\n",
            name.to_lowercase()
        ));
    }
    sb.manifest(&m);
    for (name, value) in &values {
        // A trailing newline is added because `set` drops exactly one.
        assert_code(
            &set_on_stdin(&sb, &[name], format!("{value}\n").as_bytes()),
            0,
        );
    }
    let v = json(&sb.jit_m(&["activate", "--shell", "json"]));
    for (name, value) in &values {
        let got = v[name].as_str().unwrap();
        assert!(
            got == value,
            "{name} differs: {} bytes back for {}",
            got.len(),
            value.len()
        );
    }
    // And the item secret-tool stored with a hostile value is read back exactly too.
    ss.store(
        "h",
        &[("service", "st-hostile"), ("account", "t")],
        "x'y\"z\n".as_bytes(),
    );
    sb.manifest("[secrets]\nH = { from = \"keyring:st-hostile?account=t\", trim = false }\n");
    assert_eq!(
        json(&sb.jit_m(&["activate", "--shell", "json"]))["H"],
        "x'y\"z\n"
    );
}

#[test]
fn no_bus_at_all_is_one_clear_line_and_no_hang() {
    let mut sb = Sandbox::new();
    sb.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}/no-such-bus", sb.path().display()),
    );
    sb.manifest("[secrets]\nT = \"keyring:x?account=y\"\n");
    // A hang would end in the timeout's message instead of this one.
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "false\n");
    let err = stderr(&out);
    assert!(
        err.contains("no Secret Service is reachable") && err.contains("pass:"),
        "{err}"
    );
    assert!(
        !err.to_lowercase().contains("zbus"),
        "no D-Bus internals: {err}"
    );
}

#[test]
fn a_bus_without_a_secret_service_is_a_clear_error() {
    let sb = Sandbox::new();
    let sock = sb.path().join("bare-bus");
    let address = format!("unix:path={}", sock.display());
    let _bus = private_bus(&sb, &sock);
    sb.manifest("[secrets]\nT = \"keyring:x?account=y\"\n");
    let out = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "bash"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .output()
        .unwrap();
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no Secret Service is reachable"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_locked_collection_is_a_clear_error_without_a_terminal() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    ss.store("l", &[("service", "locked-svc"), ("account", "t")], b"v");
    let mut lock = ss.cmd("dbus-send");
    lock.args([
        "--session",
        "--dest=org.freedesktop.secrets",
        "--print-reply",
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.Lock",
        "array:objpath:/org/freedesktop/secrets/collection/login",
    ]);
    let locked = lock.output().unwrap();
    assert!(locked.status.success(), "{}", stderr(&locked));
    sb.manifest("[secrets]\nT = \"keyring:locked-svc?account=t\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("the login keyring is locked"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("pass:/vault:"), "{}", stderr(&out));
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "bash"]);
    assert_code(&out, 1);
}

#[test]
fn fifty_entries_share_one_bus_connection() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    let mut m = String::from("[secrets]\n");
    for i in 0..50 {
        ss.store(
            "n",
            &[("service", &format!("svc-{i}")), ("account", "t")],
            format!("value-{i}").as_bytes(),
        );
        m.push_str(&format!("S{i} = \"keyring:svc-{i}?account=t\"\n"));
    }
    sb.manifest(&m);
    let log = sb.path().join("connect.log");
    let out = sb
        .command(require("strace"))
        .args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(&log)
        .args([
            BIN,
            "--manifest",
            "manifest.toml",
            "activate",
            "--shell",
            "json",
        ])
        .output()
        .unwrap();
    let v = json(&out);
    for i in 0..50 {
        assert_eq!(v[format!("S{i}")], format!("value-{i}"));
    }
    let trace = std::fs::read_to_string(&log).unwrap();
    let bus = ss.address.trim_start_matches("unix:path=");
    let connects = trace.lines().filter(|l| l.contains(bus)).count();
    assert_eq!(
        connects, 1,
        "one connection to the bus for 50 entries:\n{trace}"
    );
}

/// Python's `keyring` library (SecretService backend, through `secretstorage`) on the same bus.
fn python_keyring(ss: &SecretService, code: &str) -> std::process::Output {
    let python = tools_bin().join("../venv/bin/python");
    assert!(
        python.exists(),
        "the test tools' Python (with keyring) is missing: run scripts/install-test-deps.sh"
    );
    let mut c = ss.cmd(python.to_str().unwrap());
    c.args(["-c", code]).env(
        "PYTHON_KEYRING_BACKEND",
        "keyring.backends.SecretService.Keyring",
    );
    c.output().unwrap()
}

#[test]
fn items_are_shared_with_pythons_keyring_library_both_ways() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    sb.manifest(
        "[secrets]\nOURS = \"keyring:shared-svc?account=dev\"\nTHEIRS = \"keyring:py-svc?account=dev\"\nOLD = \"keyring:old-svc?account=dev\"\n",
    );
    // What `set` stores, Python's keyring finds (it looks up {service, username}).
    assert_code(&set_on_stdin(&sb, &["OURS"], b"from-jit-secrets"), 0);
    let out = python_keyring(
        &ss,
        "import keyring; print(keyring.get_password('shared-svc', 'dev'))",
    );
    assert_eq!(stdout(&out).trim(), "from-jit-secrets", "{}", stderr(&out));
    // What Python's keyring stores, activate finds.
    let out = python_keyring(
        &ss,
        "import keyring; keyring.set_password('py-svc', 'dev', 'from-python')",
    );
    assert_code(&out, 0);
    // An item stored the secret-tool way only ({service, account}): `set` replaces its value
    // and adds `username`, so Python finds it too, and it stays one item.
    ss.store(
        "old",
        &[("service", "old-svc"), ("account", "dev")],
        b"old-value",
    );
    assert_code(&set_on_stdin(&sb, &["OLD"], b"new-value"), 0);
    let out = python_keyring(
        &ss,
        "import keyring; print(keyring.get_password('old-svc', 'dev'))",
    );
    assert_eq!(stdout(&out).trim(), "new-value", "{}", stderr(&out));
    let mut search = ss.cmd("secret-tool");
    search.args(["search", "--all", "service", "old-svc"]);
    let listing = search.output().unwrap();
    let listing = stdout(&listing) + &stderr(&listing);
    assert_eq!(listing.matches("[/").count(), 1, "one item: {listing}");
    let v = json(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(
        (v["OURS"].as_str(), v["THEIRS"].as_str(), v["OLD"].as_str()),
        (
            Some("from-jit-secrets"),
            Some("from-python"),
            Some("new-value")
        )
    );
}

/// `jit-secrets --manifest M ARGS…` with `value` on stdin.
fn with_stdin(
    sb: &Sandbox,
    manifest: &std::path::Path,
    args: &[&str],
    value: &[u8],
) -> std::process::Output {
    use std::io::Write;
    let mut child = sb
        .command(BIN)
        .arg("--manifest")
        .arg(manifest)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(value).unwrap();
    child.wait_with_output().unwrap()
}

/// Every item of the service, as `secret-tool search --all` lists them: (path line, value).
fn items_of(ss: &SecretService, service: &str) -> Vec<String> {
    let out = ss
        .cmd("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .unwrap();
    let listing = stdout(&out) + &stderr(&out);
    listing
        .lines()
        .filter(|l| l.starts_with("secret = "))
        .map(|l| l.trim_start_matches("secret = ").to_string())
        .collect()
}

/// The Secret Service matches items carrying *at least* the attributes asked for: a global
/// lookup must not take a project's scoped item, and `forget --global` must delete only the
/// global one. Three projects with the same service: A scoped, B global, C scoped.
#[test]
fn global_and_project_scoped_items_never_meet() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    let entry = "[secrets]\nTOKEN = \"keyring:shared-token?account=dev\"\n";
    let scoped = "[secrets.options]\nkeyring_scope = \"project\"\n";
    let a = sb.write("A/manifest.toml", format!("{entry}{scoped}"));
    let b = sb.write("B/manifest.toml", entry);
    let c = sb.write("C/manifest.toml", format!("{entry}{scoped}"));
    for (m, v) in [(&a, "a-value"), (&c, "c-value"), (&b, "b-value")] {
        let out = with_stdin(&sb, m, &["set", "TOKEN"], v.as_bytes());
        assert_code(&out, 0);
    }
    let mut before = items_of(&ss, "shared-token");
    before.sort();
    assert_eq!(
        before,
        ["a-value", "b-value", "c-value"],
        "three items: {}",
        stdout(
            &ss.cmd("secret-tool")
                .args(["search", "--all", "service", "shared-token"])
                .output()
                .unwrap()
        )
    );
    let read = |m: &std::path::Path| {
        let out = with_stdin(&sb, m, &["activate", "--shell", "json"], b"");
        assert_code(&out, 0);
        json(&out)["TOKEN"].as_str().unwrap().to_string()
    };
    assert_eq!(
        (read(&a), read(&b), read(&c)),
        ("a-value".into(), "b-value".into(), "c-value".into())
    );

    // `set` in B changes B's item only.
    assert_code(&with_stdin(&sb, &b, &["set", "TOKEN"], b"b-second"), 0);
    let mut now = items_of(&ss, "shared-token");
    now.sort();
    assert_eq!(now, ["a-value", "b-second", "c-value"]);

    // forget --global in B: exactly B's global item goes.
    let out = with_stdin(&sb, &b, &["forget", "--global", "--yes"], b"");
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("deleted 1 keyring item(s)"),
        "{}",
        stderr(&out)
    );
    let mut left = items_of(&ss, "shared-token");
    left.sort();
    assert_eq!(
        left,
        ["a-value", "c-value"],
        "A's and C's scoped items are untouched"
    );
    assert_eq!((read(&a), read(&c)), ("a-value".into(), "c-value".into()));
    // And B finds nothing now, rather than a project's item.
    let out = with_stdin(&sb, &b, &["activate", "--shell", "json"], b"");
    assert_code(&out, 1);
}

/// `keyring_scope` changes which item a reference means: switching it must not serve the other
/// scope's cached value.
#[test]
fn the_cache_key_follows_the_keyring_scope() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    ss.store(
        "global",
        &[("service", "scoped-cache"), ("account", "dev")],
        b"global-value",
    );
    let entry =
        "[secrets]\nTOKEN = { from = \"keyring:scoped-cache?account=dev\", cache = \"15m\" }\n";
    let m = sb.manifest(entry);
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(json(&out)["TOKEN"], "global-value");
    std::fs::write(
        &m,
        format!("{entry}[secrets.options]\nkeyring_scope = \"project\"\n"),
    )
    .unwrap();
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        !stdout(&out).contains("global-value"),
        "served the global item's cached value"
    );
    assert_code(&with_stdin(&sb, &m, &["set", "TOKEN"], b"project-value"), 0);
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_eq!(json(&out)["TOKEN"], "project-value");
    std::fs::write(&m, entry).unwrap();
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_eq!(
        json(&out)["TOKEN"],
        "global-value",
        "back to global: its own entry"
    );
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}
