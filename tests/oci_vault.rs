//! `oci-vault:` with the real `oci` CLI (PyPI oci-cli) against a local stub of OCI's Secrets and
//! Vault APIs (tests/fake/oci_api.py), signed with a throwaway API key made here.

mod support;
use std::io::Write;
use std::process::{Output, Stdio};
use support::stores::*;
use support::*;

const A: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaaa";
const B: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaab";

fn set(sb: &Sandbox, name: &str, value: &[u8]) -> Output {
    set_on_stdin(sb, &[name], value)
}

#[test]
fn stages_versions_exact_bytes_ages_and_writes_through_the_real_oci_cli() {
    let mut sb = Sandbox::new();
    let api = OciApi::new(
        &mut sb,
        &serde_json::json!({
            A: [
                {"content": base64(b"first-version"), "timeCreated": "2020-01-01T00:00:00.000Z"},
                {"content": base64("it's $(x) \"q\" \\ \n\u{2713}\n".as_bytes()), "timeCreated": "2021-02-03T04:05:06.789Z"}
            ],
            B: [{"content": base64(b"\xfb\xff binary"), "timeCreated": "2022-01-01T00:00:00.000Z"}]
        }),
    );
    let (commands, calls) = record(&mut sb, &["oci"]);
    sb.manifest(&format!(
        r#"[secrets]
CURRENT = {{ from = "oci-vault:{A}", trim = false }}
PREVIOUS = "oci-vault:{A}?stage=PREVIOUS"
FIRST = "oci-vault:{A}?version=1"
BINARY = {{ from = ["oci-vault:ocid1.vaultsecret.oc1.iad.missing", "oci-vault:{B}"] }}
[secrets.options]
commands = {{ {commands} }}
rotate_after = "3650d"
"#
    ));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    let text = out.stdout.clone();
    let has = |needle: &[u8]| text.windows(needle.len()).any(|w| w == needle);
    assert!(
        has(b"export PREVIOUS='first-version'\n"),
        "{}",
        String::from_utf8_lossy(&text)
    );
    assert!(has(b"export FIRST='first-version'\n"));
    assert!(
        has(b"export BINARY='\xfb\xff binary'\n"),
        "exact bytes through base64"
    );
    // CURRENT, checked byte for byte through the real bash.
    let mut bash = sb
        .command("bash")
        .args(["-c", "eval \"$(cat)\"; printf %s \"$CURRENT\""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    bash.stdin.take().unwrap().write_all(&text).unwrap();
    let shown = bash.wait_with_output().unwrap();
    assert_eq!(stdout(&shown), "it's $(x) \"q\" \\ \n\u{2713}\n");
    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.ends_with(&format!("/secretbundles/{A}?stage=PREVIOUS"))),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.ends_with(&format!("/secretbundles/{A}?versionNumber=1"))),
        "{requests:?}"
    );

    // verify: the version's time-created.
    let out = sb.jit_m(&["verify", "--json", "--only", "FIRST"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["secrets"][0]["age"]["last_changed"],
        "2020-01-01T00:00:00Z"
    );

    // set and rotate: a new current version, the value in the JSON on stdin.
    sb.manifest(&format!(
        "[secrets]\nCURRENT = \"oci-vault:{A}\"\nFIRST = \"oci-vault:{A}?version=1\"\n[secrets.options]\ncommands = {{ {commands} }}\n"
    ));
    assert_code(&set(&sb, "CURRENT", b"set-through-stdin-5d6e"), 0);
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["CURRENT"], "set-through-stdin-5d6e");
    assert_eq!(v["FIRST"], "first-version");
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&api.data).unwrap()).unwrap();
    assert_eq!(data[A].as_array().unwrap().len(), 3);
    let out = set(&sb, "FIRST", b"x");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("versions never change"),
        "{}",
        stderr(&out)
    );
    let recorded = recorded_calls(&calls);
    assert!(
        recorded.iter().any(|c| c
            .join(" ")
            .contains("vault secret update-base64 --secret-id")),
        "{recorded:?}"
    );
    for call in &recorded {
        let line = call.join(" ");
        assert!(
            !line.contains("set-through-stdin") && !line.contains("c2V0LXRocm91Z2gtc3RkaW4"),
            "a value on argv: {line}"
        );
    }

    // No config: the CLI's own words and the fix.
    sb.set_env("OCI_CLI_CONFIG_FILE", sb.path().join("no-such-config"));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_fails_with(&out, &["oci setup config"]);
}
