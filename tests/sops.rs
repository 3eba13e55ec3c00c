//! `sops:FILE#a.b.c` against the fake sops (tests/fake/sops; sops itself cannot be installed
//! here): one decryption per file for all its keys, values picked by path, fallbacks, errors.

mod support;
use support::*;

fn enc(v: &str) -> String {
    // What sops writes for a string leaf; the fake decodes `data`.
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in v.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                B64[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    format!("ENC[AES256_GCM,data:{out},iv:aXY=,tag:dGFn,type:str]")
}

fn sandbox() -> (Sandbox, std::path::PathBuf) {
    let mut sb = Sandbox::new();
    let hostile = "it's \"x\" $(y) `z` \\\nline two";
    let doc = serde_json::json!({
        "db": { "password": enc(hostile), "user": enc("admin"), "hosts": [enc("h1"), enc("h2")] },
        "api_key": enc("k-123"),
        "sops": { "age": [{ "recipient": "age1fake" }], "version": "3.9.0" }
    });
    sb.write("secrets/prod.json", doc.to_string());
    let log = sb.path().join("sops-calls.log");
    sb.set_env("FAKE_SOPS_LOG", &log);
    (sb, log)
}

#[test]
fn one_decryption_per_file_for_all_its_keys() {
    let (sb, log) = sandbox();
    sb.manifest(
        r#"[secrets]
DB_PASSWORD = "sops:secrets/prod.json#db.password"
DB_USER = "sops:secrets/prod.json#db.user"
SECOND_HOST = "sops:secrets/prod.json#db.hosts.1"
API_KEY = { from = ["sops:secrets/prod.json#missing", "sops:secrets/prod.json#api_key"] }
OTHER = { from = ["sops:secrets/absent.json#x", "env:OTHER_SRC"] }
"#,
    );
    let mut sb = sb;
    sb.set_env("OTHER_SRC", "from-env");
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["DB_PASSWORD"], "it's \"x\" $(y) `z` \\\nline two");
    assert_eq!(v["DB_USER"], "admin");
    assert_eq!(v["SECOND_HOST"], "h2");
    assert_eq!(v["API_KEY"], "k-123");
    assert_eq!(v["OTHER"], "from-env", "a missing file falls through");
    let calls: Vec<Vec<String>> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(calls.len(), 1, "one sops call for the file: {calls:?}");
    assert_eq!(&calls[0][..3], ["-d", "--output-type", "json"]);
    assert!(
        calls[0][3].ends_with("secrets/prod.json"),
        "relative to the manifest: {calls:?}"
    );
}

#[test]
fn no_key_and_non_leaf_paths_are_clear_errors() {
    let (mut sb, _) = sandbox();
    sb.manifest("[secrets]\nDB = \"sops:secrets/prod.json#db.password\"\n");
    sb.set_env("FAKE_SOPS_NO_KEY", "1");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("Failed to get the data key"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("SOPS_AGE_KEY_FILE"),
        "names the fix: {}",
        stderr(&out)
    );
    sb.set_env("FAKE_SOPS_NO_KEY", "0");
    sb.manifest("[secrets]\nDB = \"sops:secrets/prod.json#db\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("is a map in the file, not a value"),
        "{}",
        stderr(&out)
    );
}
