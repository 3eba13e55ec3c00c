//! Bitwarden (`bw`), Bitwarden Secrets Manager (`bws`), Google Secret Manager (`gcloud`) and Azure
//! Key Vault (`az`). No local server can stand behind these CLIs here (Bitwarden's vault is
//! end-to-end encrypted, Key Vault needs TLS under Azure's DNS suffix, bws talks only to
//! Bitwarden's cloud) and gcloud is not installable everywhere the tests run, so each is a fake in
//! tests/fake that follows the CLI's documented arguments, output and exit codes, as the fake `op`
//! does. What is proved here is ours: which calls we make (and how few), what we read from their
//! answers, not-found versus failure, ages, writes through stdin, and no value on any argv.

mod support;
use std::process::Output;
use support::stores::*;
use support::*;

/// A value that breaks naive quoting or parsing anywhere it goes.
const HOSTILE: &str = "it's $(touch pwned) `x` \\ \"q\"\n!#{}";

fn exports(out: &Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn activate(sb: &Sandbox) -> Output {
    sb.jit_m(&["activate", "--shell", "json"])
}

/// For failures: the bash snippet's failure statement is `false`.
fn activate_bash(sb: &Sandbox) -> Output {
    sb.jit_m(&["activate", "--shell", "bash"])
}

fn set(sb: &Sandbox, name: &str, value: &[u8]) -> Output {
    set_on_stdin(sb, &[name], value)
}

/// What `verify` reports as the secret's last change (ages are checked where `rotate_after` is
/// set: here on a copy of the manifest that sets it).
fn last_changed(sb: &Sandbox, name: &str) -> serde_json::Value {
    let manifest = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    sb.write(
        "aged.toml",
        format!("{manifest}\n[secrets.options]\nrotate_after = \"36500d\"\n"),
    );
    let out = sb.jit(&[
        "--manifest",
        "aged.toml",
        "verify",
        "--json",
        "--only",
        name,
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    report["secrets"][0]["age"]["last_changed"].clone()
}

#[track_caller]
fn assert_no_value_on_argv(calls: &[Vec<String>], values: &[&str]) {
    assert!(
        !calls.is_empty(),
        "no call was recorded: the check below proves nothing"
    );
    for call in calls {
        for v in values {
            assert!(!call.join(" ").contains(v), "a value on argv: {call:?}");
        }
    }
}

const GITHUB: &str = "11111111-6046-4ea7-92c2-acac464b1412";
const ENTERPRISE: &str = "22222222-6046-4ea7-92c2-acac464b1412";

fn bitwarden_items() -> serde_json::Value {
    serde_json::json!([
        {"object": "item", "id": GITHUB, "name": "GitHub", "type": 1, "notes": null,
         "login": {"username": "octo", "password": HOSTILE, "totp": "JBSWY3DPEHPK3PXP"},
         "fields": [{"name": "API key", "value": "key-1", "type": 1, "linkedId": null},
                    {"name": "login name", "value": null, "type": 3, "linkedId": 100}],
         "revisionDate": "2020-01-02T03:04:05.000Z"},
        {"object": "item", "id": ENTERPRISE, "name": "GitHub Enterprise", "type": 1,
         "login": {"username": "ent", "password": "ent-pass"}, "revisionDate": "2021-01-01T00:00:00.000Z"},
        {"object": "item", "id": "33333333-6046-4ea7-92c2-acac464b1412", "name": "twin", "type": 1, "login": {"password": "a"}},
        {"object": "item", "id": "44444444-6046-4ea7-92c2-acac464b1412", "name": "twin", "type": 1, "login": {"password": "b"}},
        {"object": "item", "id": "55555555-6046-4ea7-92c2-acac464b1412", "name": "deploy notes", "type": 2,
         "notes": "line 1\nline 2", "login": null, "secureNote": {"type": 0}}
    ])
}

fn bitwarden_sandbox() -> (Sandbox, FakeCli) {
    let mut sb = Sandbox::new();
    sb.set_env("BW_SESSION", "unlocked-session");
    sb.set_env("FAKE_BW_SESSION", "unlocked-session");
    let bw = FakeCli::new(&mut sb, "bw", &bitwarden_items());
    (sb, bw)
}

#[test]
fn bitwarden_reads_every_field_kind_from_one_call_and_matches_names_exactly() {
    let (sb, bw) = bitwarden_sandbox();
    sb.manifest(&format!(
        r#"[secrets]
PASSWORD = "bitwarden:GitHub"
USER = "bitwarden:GitHub#username"
TOTP_SEED = "bitwarden:GitHub#totp"
API_KEY = "bitwarden:GitHub#API key"
LINKED = "bitwarden:GitHub#login name"
NOTES = "bitwarden:deploy notes#notes"
BY_ID = "bitwarden:{ENTERPRISE}"
FALLBACK = {{ from = ["bitwarden:nope", "bitwarden:GitHub Enterprise#username"] }}
"#
    ));
    let v = exports(&activate(&sb));
    assert_eq!(v["PASSWORD"], HOSTILE);
    assert_eq!(v["USER"], "octo");
    assert_eq!(v["TOTP_SEED"], "JBSWY3DPEHPK3PXP");
    assert_eq!(v["API_KEY"], "key-1");
    assert_eq!(
        v["LINKED"], "octo",
        "a linked field shows the login property it links to"
    );
    assert_eq!(v["NOTES"], "line 1\nline 2");
    assert_eq!(v["BY_ID"], "ent-pass");
    assert_eq!(v["FALLBACK"], "ent");
    // Eight references, one `bw` start (each costs ~0.6 s of Node.js), never interactive.
    assert_eq!(bw.calls(), vec![vec!["--nointeraction", "list", "items"]]);

    // One item by name: a search narrowed here to the exact name. `bw get item GitHub` would have
    // answered with "GitHub Enterprise" had it been the only match.
    let (sb, bw) = bitwarden_sandbox();
    let only_enterprise: Vec<serde_json::Value> = bitwarden_items()
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"] != "GitHub")
        .cloned()
        .collect();
    std::fs::write(&bw.data, serde_json::to_string(&only_enterprise).unwrap()).unwrap();
    sb.manifest("[secrets]\nGH = \"bitwarden:GitHub\"\n");
    assert_fails_with(&activate_bash(&sb), &["GH: not found in bitwarden:GitHub"]);
    assert_eq!(
        bw.calls(),
        vec![vec!["--nointeraction", "list", "items", "--search=GitHub"]]
    );
    // One item by id: `bw get item ID`; an id no item has is "not found".
    sb.manifest(&format!(
        "[secrets]\nENT = \"bitwarden:{ENTERPRISE}#username\"\n"
    ));
    assert_eq!(exports(&activate(&sb))["ENT"], "ent");
    sb.manifest(&format!(
        "[secrets]\nGONE = {{ from = \"bitwarden:{GITHUB}\", required = false }}\n"
    ));
    assert!(exports(&activate(&sb)).get("GONE").is_none());
    let calls = bw.calls();
    assert_eq!(
        calls[1..],
        [
            ["--nointeraction", "get", "item", ENTERPRISE],
            ["--nointeraction", "get", "item", GITHUB]
        ]
    );
}

#[test]
fn bitwarden_refuses_ambiguous_names_and_a_locked_vault_with_the_fix() {
    let (mut sb, _bw) = bitwarden_sandbox();
    sb.manifest("[secrets]\nTWIN = \"bitwarden:twin\"\n");
    assert_fails_with(
        &activate_bash(&sb),
        &[
            "2 Bitwarden items are named `twin`",
            "33333333-6046-4ea7-92c2-acac464b1412",
            "44444444-6046-4ea7-92c2-acac464b1412",
        ],
    );
    sb.manifest("[secrets]\nGH = \"bitwarden:GitHub\"\n");
    sb.set_env("BW_SESSION", "expired");
    let out = activate_bash(&sb);
    assert_fails_with(
        &out,
        &[
            "GH: bitwarden:GitHub",
            "Vault is locked",
            "bw unlock",
            "never asks for your master password",
        ],
    );
}

#[test]
fn bitwarden_writes_through_stdin_keeps_other_fields_and_reports_age() {
    let (sb, bw) = bitwarden_sandbox();
    sb.manifest("[secrets]\nPASSWORD = \"bitwarden:GitHub\"\nAPI_KEY = \"bitwarden:GitHub#API key\"\nNEW = \"bitwarden:brand new#token\"\n");
    assert_eq!(last_changed(&sb, "PASSWORD"), "2020-01-02T03:04:05Z");
    let out = set(&sb, "PASSWORD", b"new-password-6c1d");
    assert_code(&out, 0);
    let out = set(&sb, "API_KEY", b"new-key-7e2f");
    assert_code(&out, 0);
    let out = set(&sb, "NEW", b"fresh-token-8a3b");
    assert_code(&out, 0);
    let v = exports(&activate(&sb));
    assert_eq!(v["PASSWORD"], "new-password-6c1d");
    assert_eq!(v["API_KEY"], "new-key-7e2f");
    assert_eq!(v["NEW"], "fresh-token-8a3b");
    let data = bw.data();
    let github = data
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == GITHUB)
        .unwrap();
    assert_eq!(
        github["login"]["username"], "octo",
        "the rest of the item is kept"
    );
    assert_eq!(github["fields"][1]["type"], 3, "the linked field is kept");
    let created = data
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "brand new")
        .unwrap();
    assert_eq!(created["type"], 1, "a login item");
    let calls = bw.calls();
    assert!(
        calls.iter().any(|c| c[1..] == ["edit", "item", GITHUB]),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|c| c[1..] == ["create", "item"]),
        "{calls:?}"
    );
    assert_no_value_on_argv(&calls, &["new-password", "new-key", "fresh-token", "bmV3"]);
    assert_ne!(last_changed(&sb, "PASSWORD"), "2020-01-02T03:04:05Z");
    // A rotation is a write: a new random value lands.
    let out = sb.jit_m(&["rotate", "API_KEY", "--length", "24", "--yes"]);
    assert_code(&out, 0);
    let v = exports(&activate(&sb));
    assert_eq!(v["API_KEY"].as_str().unwrap().len(), 24);
}

fn bws_sandbox(secrets: serde_json::Value) -> (Sandbox, FakeCli) {
    let mut sb = Sandbox::new();
    sb.set_env("BWS_ACCESS_TOKEN", "0.machine-token");
    sb.set_env("FAKE_BWS_TOKEN", "0.machine-token");
    let bws = FakeCli::new(&mut sb, "bws", &secrets);
    (sb, bws)
}

const S1: &str = "be8e0ad8-d545-4017-a55a-b02f014d4158";
const S2: &str = "be8e0ad8-d545-4017-a55a-b02f014d4159";
const MISSING: &str = "be8e0ad8-d545-4017-a55a-b02f014d4150";

#[test]
fn bitwarden_secrets_manager_lists_once_for_many_and_gets_one() {
    let (mut sb, bws) = bws_sandbox(serde_json::json!([
        {"object": "secret", "id": S1, "organizationId": "o", "projectId": "p1", "key": "DB", "value": HOSTILE, "note": "", "creationDate": "2020-01-01T00:00:00Z", "revisionDate": "2022-02-02T02:02:02.5Z"},
        {"object": "secret", "id": S2, "organizationId": "o", "projectId": "p2", "key": "API", "value": "api-9d0e", "note": "", "creationDate": "2020-01-01T00:00:00Z", "revisionDate": "2020-01-01T00:00:00Z"}
    ]));
    sb.manifest(&format!(
        "[secrets]\nDB = \"bws:{S1}\"\nAPI = {{ from = [\"bws:{MISSING}\", \"bws:{S2}\"] }}\n"
    ));
    let v = exports(&activate(&sb));
    assert_eq!(v["DB"], HOSTILE);
    assert_eq!(v["API"], "api-9d0e");
    assert_eq!(
        bws.calls(),
        vec![vec!["secret", "list", "--output", "json", "--color", "no"]]
    );
    sb.manifest(&format!(
        "[secrets]\nDB = \"bws:{S1}\"\nGONE = \"bws:{MISSING}\"\n"
    ));
    assert_eq!(last_changed(&sb, "DB"), "2022-02-02T02:02:02Z");
    assert!(bws.calls().contains(&vec![
        "secret".into(),
        "get".into(),
        S1.into(),
        "--output".into(),
        "json".into(),
        "--color".into(),
        "no".into()
    ]));
    assert_fails_with(
        &activate_bash(&sb),
        &[&format!("GONE: not found in bws:{MISSING}")],
    );
    sb.manifest(&format!("[secrets]\nDB = \"bws:{S1}\"\n"));
    // Not writable: its CLI takes a new value only on argv.
    let out = set(&sb, "DB", b"new");
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("cannot write to bitwarden-secrets-manager"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("bitwarden:, gcp:, azure-kv:"),
        "{}",
        stderr(&out)
    );
    // A token that cannot read: the CLI's words and the fix.
    sb.set_env("BWS_ACCESS_TOKEN", "wrong");
    assert_fails_with(
        &activate_bash(&sb),
        &["Access token is not in a valid format", "BWS_ACCESS_TOKEN"],
    );
    assert_no_value_on_argv(&bws.calls(), &[HOSTILE, "api-9d0e"]);
}

#[test]
fn gcp_secret_manager_versions_projects_bytes_ages_and_writes() {
    let mut sb = Sandbox::new();
    let gcloud = FakeCli::new(
        &mut sb,
        "gcloud",
        &serde_json::json!({"project": "proj-a", "secrets": {
            "projects/proj-a/secrets/db": [
                {"data": base64(b"old-db"), "createTime": "2019-05-05T05:05:05.123456Z"},
                {"data": base64(HOSTILE.as_bytes()), "createTime": "2021-06-07T08:09:10.5Z"}
            ],
            // Bytes that are not UTF-8 and whose base64 holds `-`/`_` in the URL-safe alphabet.
            "projects/other/secrets/binary": [{"data": base64(b"\xfb\xff\xfe bin"), "createTime": "2020-01-01T00:00:00Z"}]
        }}),
    );
    sb.manifest(
        r#"[secrets]
DB = "gcp:db"
DB_V1 = "gcp:projects/proj-a/secrets/db/versions/1"
BINARY = "gcp:projects/other/secrets/binary"
FALLBACK = { from = ["gcp:nope", "gcp:projects/proj-a/secrets/db/versions/latest"] }
"#,
    );
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    let line = b"\nexport BINARY='\xfb\xff\xfe bin'\n";
    assert!(
        out.stdout.windows(line.len()).any(|w| w == line),
        "exact bytes: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    sb.manifest(
        r#"[secrets]
DB = "gcp:db"
DB_V1 = "gcp:projects/proj-a/secrets/db/versions/1"
FALLBACK = { from = ["gcp:nope", "gcp:projects/proj-a/secrets/db/versions/latest"] }
"#,
    );
    let v = exports(&activate(&sb));
    assert_eq!(v["DB"], HOSTILE);
    assert_eq!(v["DB_V1"], "old-db");
    assert_eq!(v["FALLBACK"], HOSTILE);
    let calls = gcloud.calls();
    assert!(
        calls.contains(
            &[
                "secrets",
                "versions",
                "access",
                "latest",
                "--secret=db",
                "--format=json",
                "--quiet"
            ]
            .map(String::from)
            .to_vec()
        ),
        "the short form takes gcloud's project: {calls:?}"
    );
    assert!(
        calls.contains(
            &[
                "secrets",
                "versions",
                "access",
                "1",
                "--secret=db",
                "--format=json",
                "--quiet",
                "--project=proj-a"
            ]
            .map(String::from)
            .to_vec()
        ),
        "{calls:?}"
    );
    assert_eq!(last_changed(&sb, "DB"), "2021-06-07T08:09:10Z");
    assert_eq!(last_changed(&sb, "DB_V1"), "2019-05-05T05:05:05Z");

    // Writes: a new version of an existing secret, a new secret, never a pinned version.
    sb.manifest("[secrets]\nDB = \"gcp:db\"\nFRESH = \"gcp:projects/proj-a/secrets/fresh\"\nDB_V1 = \"gcp:projects/proj-a/secrets/db/versions/1\"\n");
    assert_code(&set(&sb, "DB", b"new-db-4f5a\n"), 0);
    assert_code(&set(&sb, "FRESH", b"fresh-1b2c"), 0);
    let out = set(&sb, "DB_V1", b"x");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("versions never change"),
        "{}",
        stderr(&out)
    );
    sb.manifest("[secrets]\nDB = \"gcp:db\"\nFRESH = \"gcp:projects/proj-a/secrets/fresh\"\n");
    let v = exports(&activate(&sb));
    assert_eq!(
        v["DB"], "new-db-4f5a",
        "one trailing newline trimmed, as for every store"
    );
    assert_eq!(v["FRESH"], "fresh-1b2c");
    let data = gcloud.data();
    assert_eq!(
        data["secrets"]["projects/proj-a/secrets/db"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let calls = gcloud.calls();
    assert!(
        calls.iter().any(|c| c[..5]
            == [
                "secrets",
                "create",
                "fresh",
                "--data-file=-",
                "--replication-policy=automatic"
            ]),
        "{calls:?}"
    );
    assert_no_value_on_argv(&calls, &["new-db", "fresh-1b2c", "touch pwned", "old-db"]);

    // Failures name the fix.
    sb.manifest("[secrets]\nDB = \"gcp:db\"\n");
    std::fs::write(&gcloud.data, r#"{"project": null, "secrets": {}}"#).unwrap();
    assert_fails_with(
        &activate_bash(&sb),
        &[
            "required property [project] is not currently set",
            "gcloud config set project",
        ],
    );
    sb.set_env("FAKE_GCLOUD_SIGNED_OUT", "1");
    assert_fails_with(&activate_bash(&sb), &["gcloud auth login"]);
}

#[test]
fn azure_key_vault_versions_ages_and_writes_that_would_not_be_stored_altered() {
    let mut sb = Sandbox::new();
    let az = FakeCli::new(
        &mut sb,
        "az",
        &serde_json::json!({"kv1": {"db": [
            {"value": "old-db", "version": "0f3c9a", "updated": "2019-01-01T00:00:00+00:00"},
            {"value": HOSTILE, "version": "7d2e11", "updated": "2023-03-04T05:06:07+00:00"}
        ]}}),
    );
    sb.manifest(
        r#"[secrets]
DB = "azure-kv:kv1/db"
DB_OLD = "azure-kv:kv1/db?version=0f3c9a"
FALLBACK = { from = ["azure-kv:kv1/nope", "azure-kv:kv1/db"] }
"#,
    );
    let v = exports(&activate(&sb));
    assert_eq!(v["DB"], HOSTILE);
    assert_eq!(v["DB_OLD"], "old-db");
    assert_eq!(v["FALLBACK"], HOSTILE);
    let calls = az.calls();
    assert!(
        calls.contains(
            &[
                "keyvault",
                "secret",
                "show",
                "--vault-name",
                "kv1",
                "--name",
                "db",
                "--output",
                "json",
                "--only-show-errors",
                "--version",
                "0f3c9a"
            ]
            .map(String::from)
            .to_vec()
        ),
        "{calls:?}"
    );
    assert_eq!(last_changed(&sb, "DB"), "2023-03-04T05:06:07Z");

    sb.manifest(
        "[secrets]\nDB = \"azure-kv:kv1/db\"\nDB_OLD = \"azure-kv:kv1/db?version=0f3c9a\"\n",
    );
    assert_code(&set(&sb, "DB", "new ünïcode\nline 2-3c4d".as_bytes()), 0);
    let v = exports(&activate(&sb));
    assert_eq!(v["DB"], "new ünïcode\nline 2-3c4d");
    for (value, why) in [
        (&b"crlf\r\n-5e6f"[..], "carriage return"),
        (b"\xff-7a8b", "not UTF-8"),
    ] {
        let out = set(&sb, "DB", value);
        assert_code(&out, 1);
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    }
    let out = set(&sb, "DB_OLD", b"x");
    assert!(
        stderr(&out).contains("versions never change"),
        "{}",
        stderr(&out)
    );
    let calls = az.calls();
    assert!(
        calls.iter().any(|c| c
            .join(" ")
            .contains("secret set --vault-name kv1 --name db --file /dev/stdin --encoding utf-8")),
        "{calls:?}"
    );
    assert_no_value_on_argv(&calls, &["ünïcode", "crlf", "touch pwned"]);

    sb.manifest("[secrets]\nX = \"azure-kv:no-such-vault/db\"\n");
    assert_fails_with(
        &activate_bash(&sb),
        &["Failed to resolve", "check the vault's name"],
    );
    sb.set_env("FAKE_AZ_SIGNED_OUT", "1");
    sb.manifest("[secrets]\nDB = \"azure-kv:kv1/db\"\n");
    assert_fails_with(&activate_bash(&sb), &["az login"]);
}

/// The real `bw` (npm @bitwarden/cli) cannot reach a vault here, but what it says without a login
/// is what our error handling reads: that, at least, is proved against the real CLI.
#[test]
fn the_real_bw_without_a_login_is_one_clear_error_saying_bw_login() {
    let mut sb = Sandbox::new();
    let real = require("bw");
    sb.set_env("BITWARDENCLI_APPDATA_DIR", sb.path().join("bw-appdata"));
    sb.manifest(&format!(
        "[secrets]\nGH = \"bitwarden:GitHub\"\nTOKEN = \"bitwarden:GitHub#token\"\n[secrets.options]\ncommands = {{ bw = \"{}\" }}\n",
        real.display()
    ));
    let out = activate_bash(&sb);
    assert_fails_with(
        &out,
        &["GH: bitwarden:GitHub", "You are not logged in", "bw login"],
    );
    assert!(
        stderr(&out).contains("(the same failure as GH above)"),
        "one call for both, one failure: {}",
        stderr(&out)
    );
}

#[test]
fn setup_offers_to_fill_only_what_a_write_would_store() {
    let mut sb = Sandbox::new();
    let _gcloud = FakeCli::new(
        &mut sb,
        "gcloud",
        &serde_json::json!({"project": "p", "secrets": {}}),
    );
    sb.manifest(
        "[secrets]\nFRESH = \"gcp:fresh\"\nPINNED = \"gcp:projects/p/secrets/old/versions/3\"\n",
    );
    // No terminal: setup lists what `set` can fill and reports the rest.
    let out = sb.jit_m(&["setup"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("jit-secrets set FRESH"), "{err}");
    assert!(
        !err.contains("jit-secrets set PINNED"),
        "a pinned version cannot be written: {err}"
    );
    assert!(
        err.contains("PINNED: not found in gcp:projects/p/secrets/old/versions/3"),
        "{err}"
    );
}

/// A secure note has no password: writing one would be accepted by `bw` and ignored. Refused,
/// naming the fix; a custom field or the notes of the same item can be written.
#[test]
fn bitwarden_refuses_a_login_field_on_an_item_that_has_none() {
    let (sb, bw) = bitwarden_sandbox();
    sb.manifest("[secrets]\nNOTE_PW = { from = \"bitwarden:deploy notes\", required = false }\nNOTE_FIELD = \"bitwarden:deploy notes#token\"\n");
    let before = bw.data();
    let out = set(&sb, "NOTE_PW", b"lost");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("is a secure note, which has no password"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("#FIELD"), "{}", stderr(&out));
    assert_eq!(bw.data(), before, "nothing written");
    assert_code(&set(&sb, "NOTE_FIELD", b"kept"), 0);
    assert_eq!(exports(&activate(&sb))["NOTE_FIELD"], "kept");
}

/// `az keyvault secret set` makes a version with only what it is given: the current version's
/// tags, content type and validity dates are carried over, not dropped.
#[test]
fn azure_key_vault_set_keeps_the_versions_metadata() {
    let mut sb = Sandbox::new();
    let az = FakeCli::new(
        &mut sb,
        "az",
        &serde_json::json!({"kv1": {"db": [
            {"value": "old-db", "version": "0f3c9a", "updated": "2023-03-04T05:06:07+00:00",
             "tags": {"owner": "team-db", "rotation": "manual", "file-encoding": "utf-8"},
             "contentType": "text/plain", "expires": "2030-01-01T00:00:00+00:00",
             "notBefore": "2020-01-01T00:00:00+00:00"}
        ]}}),
    );
    sb.manifest("[secrets]\nDB = \"azure-kv:kv1/db\"\nNEW = \"azure-kv:kv1/fresh\"\n");
    assert_code(&set(&sb, "DB", b"new-db"), 0);
    let data = az.data();
    let current = data["kv1"]["db"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(current["value"], "new-db");
    assert_eq!(
        current["tags"],
        serde_json::json!({"owner": "team-db", "rotation": "manual", "file-encoding": "utf-8"})
    );
    assert_eq!(current["contentType"], "text/plain");
    assert_eq!(current["expires"], "2030-01-01T00:00:00+00:00");
    assert_eq!(current["notBefore"], "2020-01-01T00:00:00+00:00");
    // A new secret: nothing to carry.
    assert_code(&set(&sb, "NEW", b"fresh"), 0);
    assert_eq!(
        az.data()["kv1"]["fresh"][0]["tags"],
        serde_json::json!({"file-encoding": "utf-8"})
    );
    // A read that fails otherwise stops the write.
    sb.set_env("FAKE_AZ_SIGNED_OUT", "1");
    let out = set(&sb, "DB", b"third");
    assert_code(&out, 1);
    assert!(stderr(&out).contains("nothing written"), "{}", stderr(&out));
}
