//! Wiped means wiped on the whole path: every kind of store answering the canary (CLI stores
//! through fake CLIs, the real keyring, file, age, the real sops) → resolve → render for every
//! shell → write, and `run`'s environment for its command, under a global allocator that counts
//! every freed (or moved) block still holding the canary.
//!
//! A binary of its own, with a canary of its own, so no other test's deliberately unwiped
//! buffers can sit in freed memory and be counted here. The fixtures themselves keep the canary
//! out of freed memory too: the fake CLIs read it from a file, files are written from zeroizing
//! buffers or static bytes.

mod support;
use std::sync::atomic::Ordering;
use zeroize::Zeroizing;

#[path = "support/inspecting_allocator.rs"]
mod inspecting;
use inspecting::{Inspecting, FREED_WITH_CANARY};

const CANARY: &[u8] = b"whole-path-canary-8c2e5f1a";

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting(CANARY);

/// A fake CLI: a shell script printing the canary the way the real CLI answers.
fn fake_cli(sb: &support::Sandbox, name: &str, body: &str) -> String {
    // The body reads $ZCANARY_FILE; the canary itself is never in this text.
    let path = sb.write_executable(&format!("fakes/{name}"), format!("#!/bin/sh\n{body}\n"));
    path.display().to_string()
}

#[test]
fn the_whole_path_wipes_every_buffer_that_held_a_value() {
    use jit_secrets::shell::{render, Shell};
    use std::io::Write;
    let mut sb = support::Sandbox::new();
    // The fakes read the canary from a file: in our own environment, every spawn's copy of the
    // environment would hold it (the standard library's, outside what this test is about).
    let canary_file = sb.write("canary", CANARY);
    sb.set_env("ZCANARY_FILE", &canary_file);
    // Fixtures first, outside the counted window (their own strings hold the canary).
    let ss = support::stores::SecretService::new(&mut sb);
    ss.store("z", &[("service", "zeroize"), ("account", "t")], CANARY);
    sb.write("plain-file", CANARY);
    let key = sb.path().join("age-key.txt");
    let keygen = sb
        .command("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let recipient = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    let mut age = sb
        .command("age")
        .args(["-r", &recipient, "-o"])
        .arg(sb.path().join("v.age"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    age.stdin.take().unwrap().write_all(CANARY).unwrap();
    assert!(age.wait().unwrap().success());
    let mut yaml = Zeroizing::new(Vec::with_capacity(64));
    yaml.extend_from_slice(b"db:\n  password: ");
    yaml.extend_from_slice(CANARY);
    yaml.push(b'\n');
    let sops_file = sb.write("v.yaml", &*yaml);
    let sops = support::require("sops");
    let enc = sb
        .command(&sops)
        .args(["encrypt", "--in-place", "--age", &recipient])
        .arg(&sops_file)
        .output()
        .unwrap();
    assert!(enc.status.success(), "{}", support::stderr(&enc));
    let fakes = [
        (
            "op",
            r#"case "$1" in read) printf %s "$(cat "$ZCANARY_FILE")" ;; *) sed -E "s/\{\{ [^}]+ \}\}/$(cat "$ZCANARY_FILE")/g" ;; esac"#,
        ),
        (
            "vault",
            r#"printf '{"data":{"data":{"value":"%s"},"metadata":{}}}' "$(cat "$ZCANARY_FILE")""#,
        ),
        (
            "aws",
            r#"case "$2" in get-parameters) printf '{"Parameters":[{"Name":"/p","Value":"%s"}],"InvalidParameters":[]}' "$(cat "$ZCANARY_FILE")" ;; *) printf '{"Name":"s","SecretString":"%s"}' "$(cat "$ZCANARY_FILE")" ;; esac"#,
        ),
        ("doppler", r#"printf '{"D":"%s"}' "$(cat "$ZCANARY_FILE")""#),
        ("pass", r#"printf '%s\nuser: x\n' "$(cat "$ZCANARY_FILE")""#),
        ("secret-tool", r#"printf %s "$(cat "$ZCANARY_FILE")""#),
        ("mytool", r#"printf %s "$(cat "$ZCANARY_FILE")""#),
        (
            "bw",
            r#"printf '[{"id":"11111111-6046-4ea7-92c2-acac464b1412","name":"z","login":{"password":"%s"}}]' "$(cat "$ZCANARY_FILE")""#,
        ),
        (
            "bws",
            r#"printf '{"id":"be8e0ad8-d545-4017-a55a-b02f014d4158","value":"%s"}' "$(cat "$ZCANARY_FILE")""#,
        ),
        (
            "gcloud",
            r#"printf '{"payload":{"data":"%s"}}' "$(base64 -w0 "$ZCANARY_FILE")""#,
        ),
        ("az", r#"printf '{"value":"%s"}' "$(cat "$ZCANARY_FILE")""#),
        (
            "jit-secrets-plugin-z",
            r#"cat >/dev/null; printf '{"value":"%s"}' "$(cat "$ZCANARY_FILE")""#,
        ),
        (
            "oci",
            r#"printf '{"data":{"secret-bundle-content":{"content-type":"BASE64","content":"%s"}}}' "$(base64 -w0 "$ZCANARY_FILE")""#,
        ),
        (
            "mint-lease",
            r#"printf '{"variables":{"v":"%s"},"id":"z","expires_in":600}' "$(cat "$ZCANARY_FILE")""#,
        ),
        (
            "keepassxc-cli",
            r#"cat >/dev/null; printf '<KeePassFile><Root><Group><Name>R</Name><Entry><String><Key>Title</Key><Value>z</Value></String><String><Key>Password</Key><Value>%s&amp;</Value></String></Entry></Group></Root></KeePassFile>' "$(cat "$ZCANARY_FILE")""#,
        ),
    ];
    sb.write("db.kdbx", b"read by the fake keepassxc-cli only");
    sb.write("db.key", b"k");
    let commands: Vec<String> = fakes
        .iter()
        .map(|(name, body)| format!("\"{name}\" = \"{}\"", fake_cli(&sb, name, body)))
        .collect();
    let manifest = sb.manifest(&format!(
        r#"[secrets]
OP = "op://v/i/f"
VAULT = "vault:secret/app#value"
SM = "aws-sm:s"
SSM = "aws-ssm:/p"
DOPPLER = "doppler:D?project=p&config=c"
PASS = "pass:app/db"
SECRET_TOOL = "secret-tool:service=s&account=a"
CMD = "cmd:mytool"
KEYRING = "keyring:zeroize?account=t"
FILE = "file:plain-file"
AGE = "age:v.age"
SOPS = "sops:v.yaml#db.password"
BITWARDEN = "bitwarden:z"
BWS = "bws:be8e0ad8-d545-4017-a55a-b02f014d4158"
GCP = "gcp:projects/p/secrets/z"
AZURE = "azure-kv:kv/z"
PLUGIN = "plugin:z/k"
OCI = "oci-vault:ocid1.vaultsecret.oc1.iad.z"
KEEPASSXC = "keepassxc:db.kdbx#z"
[secrets.options]
keepassxc = {{ keyfile = "db.key" }}
commands = {{ {}, sops = "{}" }}
[secrets.leases.z]
kind = "command"
command = "{}"
exports = {{ LEASED = "v" }}
"#,
        commands.join(", "),
        sops.display(),
        sb.path().join("fakes/mint-lease").display()
    ));
    // The stores read these from our own environment (this binary's only test).
    for (k, v) in &sb.env {
        std::env::set_var(k, v);
    }
    std::env::set_var("SOPS_AGE_KEY_FILE", &key);
    let before = FREED_WITH_CANARY.load(Ordering::SeqCst);
    {
        let m = jit_secrets::manifest::load(&manifest).unwrap();
        let mut ctx = jit_secrets::context::Context::new(m.options.commands.clone(), true)
            .with_age_identity(Some(key.clone()));
        ctx.keepassxc = Some(jit_secrets::context::KeepassxcOptions {
            password_from: None,
            keyfile: m.options.keepassxc_keyfile.clone(),
        });
        // A lease too: created (its record written to the kernel keyring), then reused (read back).
        let leases = jit_secrets::lease::Leases::new(
            &manifest,
            None,
            jit_secrets::lease::own_holder(),
            jit_secrets::lease::Mode::Use,
        );
        for _ in 0..2 {
            let resolution = jit_secrets::resolve::resolve_with_leases(
                &m,
                Some(&[] as &[String]),
                &ctx,
                &leases,
            );
            let leased = resolution.lease_values();
            assert_eq!(leased.len(), 1);
            assert!(
                leased[0].0 == "LEASED" && leased[0].1 == CANARY,
                "the lease did not resolve to the canary"
            );
        }
        let resolution = jit_secrets::resolve::resolve_with_leases(&m, None, &ctx, &leases);
        for r in &resolution.results {
            // The KeePass XML value ends in `&amp;`: the unescaping path is on the way too.
            let want = Zeroizing::new(if r.entry.name == "KEEPASSXC" {
                [CANARY, b"&"].concat()
            } else {
                CANARY.to_vec()
            });
            assert!(
                r.value().is_some_and(|v| v.expose() == want.as_slice()),
                "{} did not resolve to the canary",
                r.entry.name
            );
        }
        let pairs: Vec<(&str, &[u8])> = resolution
            .results
            .iter()
            .filter_map(|r| r.value().map(|v| (r.entry.name.as_str(), v.expose())))
            .chain(resolution.lease_values())
            .collect();
        assert_eq!(pairs.len(), 20, "19 stores and the lease");
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Posix,
            Shell::Fish,
            Shell::Json,
            Shell::Tcsh,
            Shell::Nu,
            Shell::Elvish,
        ] {
            let code = render(shell, &pairs).unwrap();
            std::io::sink().write_all(&code).unwrap();
        }
        // `run`: the environment handed to the command.
        let env: Vec<(String, &[u8])> = pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        drop(jit_secrets::process::EnvBlock::new(&env));
    }
    let after = FREED_WITH_CANARY.load(Ordering::SeqCst);
    for stored in jit_secrets::lease::list(Some(&manifest)).unwrap() {
        jit_secrets::lease::revoke(stored, std::time::Duration::from_secs(5)).unwrap();
    }
    drop(ss);
    assert_eq!(after - before, 0, "freed blocks that still held a value");
    #[cfg(feature = "net")]
    the_net_helpers_answer_is_wiped(&mut sb, &canary_file);
}

/// `jit-secrets-net`'s side (the helper's `answer`, in this process so the allocator sees it): a
/// Vault KV read of the canary from a real OpenBao, the answer moved into `{"ok": …}` and
/// serialized into a wiped buffer. (Failed before: `json!({"ok": ok})` left the deep-copied
/// answer's original in a freed block.) The window covers the whole request: the HTTP read, the
/// parse, the answer.
#[cfg(feature = "net")]
fn the_net_helpers_answer_is_wiped(sb: &mut support::Sandbox, canary_file: &std::path::Path) {
    let bao = support::stores::Bao::new(sb);
    let value = Zeroizing::new(std::fs::read(canary_file).unwrap());
    bao.put("secret/zcanary", "v", &value);
    drop(value);
    for k in ["VAULT_ADDR", "VAULT_TOKEN"] {
        std::env::set_var(k, &sb.env[k]);
    }
    let request =
        br#"{"route": "vault", "op": "kv_get", "path": "secret/zcanary", "timeout_ms": 10000}"#;
    let before = FREED_WITH_CANARY.load(Ordering::SeqCst);
    let answer = jit_secrets::net::answer(request).expect("an answer");
    let held = answer.windows(CANARY.len()).any(|w| w == CANARY);
    drop(answer);
    let after = FREED_WITH_CANARY.load(Ordering::SeqCst);
    assert!(held, "the answer holds the value");
    assert_eq!(
        after - before,
        0,
        "the helper freed blocks that still held the value"
    );
}
