//! `keepassxc:` with the real `keepassxc-cli`: databases made here (`db-create`, `add`, and
//! `import` of KeePass XML for custom attributes, history and times), unlocked by a password from
//! another reference, a key file, or a prompt on a terminal.

mod support;
use std::process::Output;
use support::stores::*;
use support::*;

/// Values that XML and shells both have opinions about.
const TOP: &str = "p&<it's> \"q\" $(x) \\";

fn vault_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<KeePassFile>
 <Meta><Generator>test</Generator></Meta>
 <Root>
  <Group>
   <UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID>
   <Name>Root</Name>
   <Entry>
    <UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID>
    <Times><LastModificationTime>2020-05-06T07:08:09Z</LastModificationTime></Times>
    <String><Key>Title</Key><Value>top</Value></String>
    <String><Key>Password</Key><Value ProtectInMemory="True">{}</Value></String>
    <String><Key>API token</Key><Value>custom-1</Value></String>
    <String><Key>Notes</Key><Value>line 1
line 2</Value></String>
    <History>
     <Entry>
      <UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID>
      <String><Key>Title</Key><Value>top</Value></String>
      <String><Key>Password</Key><Value>history-value-old</Value></String>
     </Entry>
    </History>
   </Entry>
   <Group>
    <UUID>AAAAAAAAAAAAAAAAAAAAAw==</UUID>
    <Name>Servers</Name>
    <Group>
     <UUID>AAAAAAAAAAAAAAAAAAAABA==</UUID>
     <Name>Prod</Name>
     <Entry>
      <UUID>AAAAAAAAAAAAAAAAAAAABQ==</UUID>
      <String><Key>Title</Key><Value>db</Value></String>
      <String><Key>Password</Key><Value>prod-db</Value></String>
      <String><Key>UserName</Key><Value>admin</Value></String>
     </Entry>
    </Group>
   </Group>
  </Group>
 </Root>
</KeePassFile>
"#,
        TOP.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    )
}

fn set(sb: &Sandbox, name: &str, value: &[u8]) -> Output {
    set_on_stdin(sb, &[name], value)
}

fn exports(out: &Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn groups_attributes_and_fallbacks_from_one_unlock_never_history() {
    let mut sb = Sandbox::new();
    let _db = Kdbx::import(&sb, "vault.kdbx", "correct horse", &vault_xml());
    sb.set_env("KDBX_PASSWORD", "correct horse");
    let (commands, calls) = record(&mut sb, &["keepassxc-cli"]);
    sb.manifest(&format!(
        r#"[secrets]
TOP = "keepassxc:vault.kdbx#top"
TOKEN = "keepassxc:vault.kdbx#top?attribute=API token"
NOTES = "keepassxc:vault.kdbx#top?attribute=Notes"
DB = "keepassxc:vault.kdbx#Servers/Prod/db"
USER = "keepassxc:vault.kdbx#/Servers/Prod/db?attribute=username"
FALLBACK = {{ from = ["keepassxc:vault.kdbx#Servers/Prod/missing", "keepassxc:vault.kdbx#Servers/Prod/db"] }}
NO_URL = {{ from = "keepassxc:vault.kdbx#Servers/Prod/db?attribute=URL", required = false }}
[secrets.options]
keepassxc = {{ password_from = "env:KDBX_PASSWORD" }}
commands = {{ {commands} }}
rotate_after = "3650d"
"#
    ));
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    let v = exports(&out);
    assert_eq!(v["TOP"], TOP);
    assert_eq!(v["TOKEN"], "custom-1");
    assert_eq!(v["NOTES"], "line 1\nline 2");
    assert_eq!(v["DB"], "prod-db");
    assert_eq!(
        v["USER"], "admin",
        "attribute names match regardless of case"
    );
    assert_eq!(v["FALLBACK"], "prod-db");
    assert!(
        v.get("NO_URL").is_none(),
        "an empty standard attribute is not set"
    );
    assert!(!stdout(&out).contains("history-value-old"));
    let runs = recorded_calls(&calls);
    assert_eq!(runs.len(), 1, "one unlock for the whole database: {runs:?}");
    assert_eq!(runs[0][1..4], ["export", "-f", "xml"]);
    assert!(
        !runs[0].join(" ").contains("correct horse"),
        "the password is not on argv"
    );
    // verify: the entry's last modification.
    let out = sb.jit_m(&["verify", "--json", "--only", "TOP"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["secrets"][0]["age"]["last_changed"],
        "2020-05-06T07:08:09Z"
    );
}

#[test]
fn a_wrong_password_is_one_clear_error_and_a_missing_entry_is_not_found() {
    let mut sb = Sandbox::new();
    let db = Kdbx::new(&sb, "team.kdbx", "right", None);
    db.add(&sb, "a", "va", None, None);
    db.add(&sb, "b", "vb", None, None);
    sb.set_env("KDBX_PASSWORD", "wrong");
    let (commands, calls) = record(&mut sb, &["keepassxc-cli"]);
    sb.manifest(&format!(
        "[secrets]\nA = \"keepassxc:team.kdbx#a\"\nB = \"keepassxc:team.kdbx#b\"\nC = \"keepassxc:team.kdbx#c\"\n[secrets.options]\nkeepassxc = {{ password_from = \"env:KDBX_PASSWORD\" }}\ncommands = {{ {commands} }}\n"
    ));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_fails_with(
        &out,
        &["Invalid credentials", "check the database password"],
    );
    assert_eq!(recorded_calls(&calls).len(), 1, "no retry storm");
    sb.set_env("KDBX_PASSWORD", "right");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("C: not found in keepassxc:"),
        "{}",
        stderr(&out)
    );
    // No password source and no terminal: say where the password should come from.
    sb.manifest("[secrets]\nA = \"keepassxc:team.kdbx#a\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("password_from"), "{}", stderr(&out));
}

#[test]
fn key_files_with_and_without_a_password() {
    let sb = Sandbox::new();
    sb.write("keys/both.key", b"key material for both\n");
    sb.write("keys/only.key", b"key material alone\n");
    let both = Kdbx::new(&sb, "both.kdbx", "pw-both", Some("keys/both.key"));
    both.add(&sb, "e", "from-both", None, None);
    let only = Kdbx::new(&sb, "only.kdbx", "", Some("keys/only.key"));
    only.add(&sb, "e", "from-key-alone", None, None);
    let mut sb = sb;
    sb.set_env("BOTH_PW", "pw-both");
    sb.manifest("[secrets]\nBOTH = \"keepassxc:both.kdbx#e\"\n[secrets.options]\nkeepassxc = { password_from = \"env:BOTH_PW\", keyfile = \"keys/both.key\" }\n");
    assert_eq!(
        exports(&sb.jit_m(&["activate", "--shell", "json"]))["BOTH"],
        "from-both"
    );
    sb.manifest("[secrets]\nONLY = \"keepassxc:only.kdbx#e\"\n[secrets.options]\nkeepassxc = { keyfile = \"keys/only.key\" }\n");
    assert_eq!(
        exports(&sb.jit_m(&["activate", "--shell", "json"]))["ONLY"],
        "from-key-alone"
    );
    // The wrong key file: a clear error.
    sb.manifest("[secrets]\nBOTH = \"keepassxc:both.kdbx#e\"\n[secrets.options]\nkeepassxc = { password_from = \"env:BOTH_PW\", keyfile = \"keys/only.key\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("keepassxc-cli"), "{}", stderr(&out));
}

#[test]
fn writes_the_password_through_stdin_and_refuses_what_would_need_argv() {
    let mut sb = Sandbox::new();
    let db = Kdbx::new(&sb, "w.kdbx", "pw", None);
    db.mkdir(&sb, "apps");
    db.add(&sb, "apps/api", "old-api", Some("svc"), None);
    sb.set_env("KDBX_PASSWORD", "pw");
    let (commands, calls) = record(&mut sb, &["keepassxc-cli"]);
    sb.manifest(&format!(
        "[secrets]\nAPI = \"keepassxc:w.kdbx#apps/api\"\nNEW = \"keepassxc:w.kdbx#apps/new\"\nUSER = \"keepassxc:w.kdbx#apps/api?attribute=UserName\"\nNOGROUP = \"keepassxc:w.kdbx#nogroup/x\"\n[secrets.options]\nkeepassxc = {{ password_from = \"env:KDBX_PASSWORD\" }}\ncommands = {{ {commands} }}\n"
    ));
    assert_code(&set(&sb, "API", b"new-api-6a7b"), 0);
    assert_code(&set(&sb, "NEW", b"created-8c9d"), 0);
    assert_eq!(db.show(&sb, "apps/api", "Password"), "new-api-6a7b");
    assert_eq!(
        db.show(&sb, "apps/api", "UserName"),
        "svc",
        "the rest of the entry is kept"
    );
    assert_eq!(db.show(&sb, "apps/new", "Password"), "created-8c9d");
    let out = set(&sb, "USER", b"x");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("only on its command line"),
        "{}",
        stderr(&out)
    );
    let out = set(&sb, "API", b"two\nlines");
    assert_code(&out, 1);
    assert!(stderr(&out).contains("line break"), "{}", stderr(&out));
    let out = set(&sb, "NOGROUP", b"x");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("create the entry's group"),
        "{}",
        stderr(&out)
    );
    let runs = recorded_calls(&calls);
    assert!(runs.iter().any(|r| r[1..3] == ["edit", "-p"]), "{runs:?}");
    assert!(runs.iter().any(|r| r[1..3] == ["add", "-p"]), "{runs:?}");
    for r in &runs {
        let line = r.join(" ");
        assert!(
            !line.contains("new-api") && !line.contains("created-8c9d") && !line.contains(" pw"),
            "{line}"
        );
    }
    // rotate: a new random password lands.
    assert_code(&sb.jit_m(&["rotate", "API", "--length", "30", "--yes"]), 0);
    assert_eq!(db.show(&sb, "apps/api", "Password").len(), 30);
}

#[test]
fn on_a_terminal_the_database_password_is_asked_once() {
    let sb = Sandbox::new();
    let db = Kdbx::new(&sb, "t.kdbx", "typed-pw", None);
    db.add(&sb, "a", "va", None, None);
    db.add(&sb, "b", "vb", None, None);
    sb.manifest("[secrets]\nA = \"keepassxc:t.kdbx#a\"\nB = \"keepassxc:t.kdbx#b\"\n");
    let r = on_a_terminal(
        &sb,
        serde_json::json!([{"expect": "Password for t.kdbx"}, {"send": "typed-pw\n"}]),
        &["activate", "--shell", "json"],
    );
    assert_eq!(r["status"], 0, "{r}");
    let v: serde_json::Value = serde_json::from_str(r["stdout"].as_str().unwrap()).unwrap();
    assert_eq!((v["A"].as_str(), v["B"].as_str()), (Some("va"), Some("vb")));
    let terminal = r["terminal"].as_str().unwrap();
    assert_eq!(
        terminal.matches("Password for t.kdbx").count(),
        1,
        "{terminal}"
    );
    assert!(
        !terminal.contains("typed-pw"),
        "the password is not echoed: {terminal}"
    );
}
