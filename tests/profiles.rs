//! Profiles: `--profile NAME` / `$JIT_SECRETS_PROFILE` on every command.

mod support;
use support::*;

const MANIFEST: &str = r#"[secrets]
DATABASE_URL = "env:DEV_DB"
TOKEN = "env:TOKEN_SRC"
[secrets.profiles.prod]
DATABASE_URL = { from = "env:PROD_DB", description = "prod database" }
AUDIT_KEY = "env:AUDIT_SRC"
[secrets.profiles.ci]
TOKEN = { from = "env:CI_TOKEN", required = false }
"#;

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    for (k, v) in [
        ("DEV_DB", "dev-db"),
        ("PROD_DB", "prod-db"),
        ("TOKEN_SRC", "tok"),
        ("AUDIT_SRC", "audit"),
    ] {
        sb.set_env(k, v);
    }
    sb.manifest(MANIFEST);
    sb
}

#[test]
fn a_profile_overrides_in_place_and_adds_on_every_command() {
    let sb = sandbox();
    let base = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_eq!(
        exports(&base),
        "export DATABASE_URL='dev-db'\nexport TOKEN='tok'\n"
    );
    let prod = sb.jit_m(&["--profile", "prod", "activate", "--shell", "bash"]);
    assert_eq!(
        exports(&prod),
        "export DATABASE_URL='prod-db'\nexport TOKEN='tok'\nexport AUDIT_KEY='audit'\n"
    );
    // The environment variable does the same, for every command.
    let list = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "list", "--json"])
        .env("JIT_SECRETS_PROFILE", "prod")
        .output()
        .unwrap();
    let items: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items[0]["from"][0], "env:PROD_DB");
    assert_eq!(items[0]["description"], "prod database");
    assert_eq!(items[2]["name"], "AUDIT_KEY");
    let ci = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "verify", "--json"])
        .env("JIT_SECRETS_PROFILE", "ci")
        .output()
        .unwrap();
    assert_code(&ci, 0);
    let report: serde_json::Value = serde_json::from_slice(&ci.stdout).unwrap();
    assert_eq!(report["secrets"][1]["required"], false);
    let run = sb.jit_m(&[
        "-p",
        "prod",
        "run",
        "--",
        "sh",
        "-c",
        "printf %s \"$DATABASE_URL\"",
    ]);
    assert_eq!(stdout(&run), "prod-db");
}

#[test]
fn an_unknown_profile_is_exit_2_listing_the_known_ones() {
    let sb = sandbox();
    let out = sb.jit_m(&["--profile", "staging", "list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("no profile `staging` (known: ci, prod)"),
        "{}",
        stderr(&out)
    );
}
