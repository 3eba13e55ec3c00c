//! Every CLI store against the real thing: pass + GnuPG, aws + moto, OpenBao as vault, the real
//! doppler CLI against a local API stub, secret-tool on gnome-keyring; and the fake `op`.

mod support;
use support::stores::*;
use support::*;

fn exports(out: &std::process::Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pass_first_line_whole_entry_missing_and_folders() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    pass.insert("app/db", b"pa'ss$(x)\\\nuser: admin\nurl: x\n");
    pass.insert("app/multi", b"line 1\nline 'two'\n\ttabbed \\ end\n");
    sb.manifest(
        "[secrets]\nDB = \"pass:app/db\"\nMULTI = \"pass:app/multi#all\"\nFALLBACK = { from = [\"pass:app/missing\", \"pass:app/db\"] }\nFOLDER = { from = \"pass:app\", required = false }\n",
    );
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("FOLDER") && stderr(&out).contains("is a folder"),
        "{}",
        stderr(&out)
    );
    sb.manifest("[secrets]\nDB = \"pass:app/db\"\nMULTI = \"pass:app/multi#all\"\nFALLBACK = { from = [\"pass:app/missing\", \"pass:app/db\"] }\n");
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["DB"], "pa'ss$(x)\\");
    // #all: the whole entry, one trailing newline trimmed.
    assert_eq!(v["MULTI"], "line 1\nline 'two'\n\ttabbed \\ end");
    assert_eq!(v["FALLBACK"], "pa'ss$(x)\\");
    sb.manifest("[secrets]\nGONE = \"pass:app/missing\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("GONE: not found in pass:app/missing"),
        "{}",
        stderr(&out)
    );
}

/// In-process: `Moto` leaves no `aws` on jit-secrets' PATH.
#[test]
fn aws_secrets_manager_and_ssm_through_moto_in_process() {
    aws_reads(Route::InProcess);
}

/// `commands = { aws = … }` keeps the CLI route (a wrapper such as `aws-vault exec`).
#[test]
fn aws_secrets_manager_and_ssm_through_moto_with_the_cli_the_manifest_names() {
    aws_reads(Route::Cli);
}

#[derive(PartialEq)]
enum Route {
    InProcess,
    Cli,
}

fn aws_reads(route: Route) {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    let which = sb
        .command("sh")
        .args(["-c", "command -v aws"])
        .output()
        .unwrap();
    assert!(
        !which.status.success(),
        "an `aws` on PATH: {}",
        stdout(&which)
    );
    moto.create_secret("prod/api", r#"{"key":"k-123","user":"admin","n":5}"#);
    moto.create_secret(
        "prod/plain",
        "--starts-with-dashes 'and quotes'\nand a newline\n",
    );
    moto.put_parameter("/prod/db/password", "ssm 'secret' $(x)");
    let (rec, log) = match route {
        Route::Cli => record(&mut sb, &["aws"]),
        Route::InProcess => (String::new(), sb.path().join("no-calls.log")),
    };
    sb.manifest(&format!(
        r#"[secrets]
API_KEY = {{ from = ["env:CI_API_KEY", "aws-sm:prod/api#key"] }}
NUM = "aws-sm:prod/api#n"
PLAIN = {{ from = "aws-sm:prod/plain", trim = false }}
DB = "aws-ssm:/prod/db/password"
SSM_FALLBACK = {{ from = ["aws-ssm:/missing", "aws-ssm:/prod/db/password"] }}
[secrets.options]
commands = {{ {rec} }}
"#
    ));
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["API_KEY"], "k-123");
    assert_eq!(v["NUM"], "5");
    assert_eq!(
        v["PLAIN"], "--starts-with-dashes 'and quotes'\nand a newline\n",
        "exact bytes, newline kept"
    );
    assert_eq!(v["DB"], "ssm 'secret' $(x)");
    assert_eq!(v["SSM_FALLBACK"], "ssm 'secret' $(x)");
    let calls = recorded_calls(&log);
    assert_eq!(calls.is_empty(), route == Route::InProcess, "{calls:?}");
    for call in calls {
        let argv = call.join(" ");
        assert!(
            !argv.contains("k-123") && !argv.contains("ssm 'secret'"),
            "a value on argv: {argv}"
        );
    }
    // Missing secret id → not found → next source; a missing required secret names the id.
    sb.manifest(&format!("[secrets]\nX = {{ from = [\"aws-sm:nope\", \"aws-sm:prod/api#user\"] }}\nY = \"aws-sm:also-nope\"\n[secrets.options]\ncommands = {{ {rec} }}\n"));
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("Y: not found in aws-sm:also-nope"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("X:"),
        "X fell through to its second source: {}",
        stderr(&out)
    );
    // A missing JSON key is "not found" too.
    sb.manifest("[secrets]\nK = \"aws-sm:prod/api#nokey\"\n");
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert!(stderr(&out).contains("K: not found"), "{}", stderr(&out));

    // A partial ARN (the ARN without AWS's six-character suffix) in a batch names exactly one
    // secret: `…:secret:prod/api` must not take the value of `prod/api-v2`, whatever order the
    // batch answer lists them in.
    moto.create_secret("prod/api-v2", "the-v2-value");
    let arn = moto.aws(&[
        "secretsmanager",
        "describe-secret",
        "--secret-id",
        "prod/api-v2",
    ]);
    let arn: serde_json::Value = serde_json::from_slice(&arn.stdout).unwrap();
    let full_v2 = arn["ARN"].as_str().unwrap().to_string();
    let partial_api = full_v2
        .trim_end_matches(|c: char| c != '-')
        .trim_end_matches('-');
    let partial_api = partial_api.strip_suffix("-v2").expect("ARN of prod/api-v2");
    sb.manifest(&format!(
        "[secrets]\nV2 = \"aws-sm:prod/api-v2\"\nAPI = {{ from = \"aws-sm:{partial_api}\", required = false }}\nPLAIN = \"aws-sm:prod/plain\"\n"
    ));
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["V2"], "the-v2-value", "{}", stderr(&out));
    assert_ne!(
        v["API"],
        "the-v2-value",
        "the partial ARN of prod/api took prod/api-v2's value: {}",
        stderr(&out)
    );
}

/// AWS goes through the helper installed beside jit-secrets; without it, the error says so and
/// names both fixes (reinstall, or the CLI route).
#[test]
fn a_missing_helper_is_an_error_that_names_the_fix() {
    let sb = Sandbox::new();
    let alone = sb.path().join("alone/jit-secrets");
    std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
    std::fs::copy(BIN, &alone).unwrap();
    sb.manifest("[secrets]\nA = \"aws-sm:x\"\n");
    let out = sb
        .command(&alone)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "bash"])
        .current_dir(sb.path())
        .output()
        .unwrap();
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "false\n");
    let err = stderr(&out);
    assert!(err.contains("jit-secrets-net is missing"), "{err}");
    assert!(err.contains("commands = { aws = \"aws\""), "{err}");
}

#[test]
fn aws_without_credentials_names_the_fix() {
    let mut sb = Sandbox::new();
    let empty = sb.write("aws-empty", "");
    sb.set_env("AWS_CONFIG_FILE", &empty);
    sb.set_env("AWS_SHARED_CREDENTIALS_FILE", &empty);
    sb.set_env("AWS_DEFAULT_REGION", "us-east-1");
    sb.set_env("AWS_EC2_METADATA_DISABLED", "true");
    sb.manifest("[secrets]\nA = { from = \"aws-ssm:/x\", timeout = \"20s\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no AWS credentials found"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("fix: sign in: `aws sso login`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "false\n");
}

/// The SDK's credential chain, as the CLI's: keys in the environment (every other aws test), a
/// profile in the shared credentials file, and a profile's `credential_process`. moto takes any
/// keys, so what proves each source is that with no keys in the environment the read fails, and
/// with only that profile named it succeeds.
#[test]
fn aws_credentials_come_from_a_profile_or_a_credential_process() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    moto.create_secret("app/key", "from-moto");
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        sb.env.remove(k);
    }
    let process = sb.write_executable(
        "creds",
        "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/creds-ran\"\nprintf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"s\"}'\n",
    );
    let credentials = sb.write(
        "aws-credentials",
        "[from-file]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    );
    let config = sb.write(
        "aws-config",
        format!(
            "[profile from-process]\ncredential_process = {} --role dev\nregion = us-east-1\n[profile from-file]\nregion = us-east-1\n",
            process.display()
        ),
    );
    sb.set_env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    sb.set_env("AWS_CONFIG_FILE", &config);
    sb.manifest("[secrets]\nK = { from = \"aws-sm:app/key\", timeout = \"60s\" }\n");

    // No keys anywhere for the default profile: the error names the fix.
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no AWS credentials found"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("aws configure"), "{}", stderr(&out));

    sb.set_env("AWS_PROFILE", "from-file");
    assert_eq!(
        exports(&sb.jit_m(&["activate", "--shell", "json"]))["K"],
        "from-moto"
    );

    sb.set_env("AWS_PROFILE", "from-process");
    assert_eq!(
        exports(&sb.jit_m(&["activate", "--shell", "json"]))["K"],
        "from-moto"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("creds-ran")).unwrap(),
        "--role dev\n",
        "the profile's credential_process ran, with its arguments"
    );
}

/// With the token in `~/.vault-token` and no `vault` or `bao` on PATH, reads go over the HTTP
/// API: KV version 2 and 1, a missing path falling through, and `verify`'s age from the
/// metadata. A token helper hands the reading back to the CLI.
#[test]
fn vault_reads_over_the_http_api_without_the_cli() {
    let mut sb = Sandbox::new();
    let bao = Bao::new(&mut sb);
    bao.put_fields("secret/app", &[("user", "admin"), ("port", "5432")]);
    let enable = bao
        .vault_cmd(&["secrets", "enable", "-path=kv1", "-version=1", "kv"])
        .output()
        .unwrap();
    assert!(
        enable.status.success(),
        "{}",
        String::from_utf8_lossy(&enable.stderr)
    );
    let put = bao
        .vault_cmd(&["kv", "put", "kv1/legacy", "token=v1-value"])
        .output()
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    sb.env.remove("VAULT_TOKEN");
    sb.write("h/.vault-token", "root\n");
    let path = path_without(&sb, &["vault", "bao"]);
    sb.set_env("PATH", path);
    sb.set_env("VAULT_FALLBACK", "from-env");
    sb.manifest(
        r#"[secrets]
USER = "vault:secret/app#user"
PORT = { from = "vault:secret/app#port", rotate_after = "90d" }
LEGACY = "vault:kv1/legacy#token"
PATH_FALLBACK = { from = ["vault:secret/nopath#x", "env:VAULT_FALLBACK"] }
"#,
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["USER"], "admin");
    assert_eq!(v["PORT"], "5432");
    assert_eq!(v["LEGACY"], "v1-value");
    assert_eq!(v["PATH_FALLBACK"], "from-env");
    let out = sb.jit_m(&["verify", "--only", "PORT", "--json"]);
    assert_code(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let age = &report["secrets"][0]["age"];
    assert_eq!(age["status"], "ok", "{report}");
    assert!(age["age_seconds"].as_i64().unwrap() < 3600, "{report}");

    // A token helper: the CLI's business (and there is none here, so it says to install it).
    sb.write("h/.vault", "token_helper = \"/usr/local/bin/helper\"\n");
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("install the Vault CLI"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn vault_fields_from_one_call_per_path_against_openbao() {
    let mut sb = Sandbox::new();
    let bao = Bao::new(&mut sb);
    bao.put_fields("secret/app", &[("user", "admin"), ("port", "5432")]);
    bao.put(
        "secret/hostile",
        "value",
        b"it's \"hostile\" $(x) `y` \\\nsecond line",
    );
    let (rec, log) = record(&mut sb, &["vault"]);
    sb.manifest(&format!(
        r#"[secrets]
USER = "vault:secret/app#user"
PORT = "vault:secret/app#port"
HOSTILE = "vault:secret/hostile"
FIELD_FALLBACK = {{ from = ["vault:secret/app#nofield", "vault:secret/app#user"] }}
PATH_FALLBACK = {{ from = ["vault:secret/nopath#x", "env:VAULT_FALLBACK"] }}
[secrets.options]
commands = {{ {rec} }}
"#
    ));
    sb.set_env("VAULT_FALLBACK", "from-env");
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["USER"], "admin");
    assert_eq!(v["PORT"], "5432");
    assert_eq!(v["HOSTILE"], "it's \"hostile\" $(x) `y` \\\nsecond line");
    assert_eq!(v["FIELD_FALLBACK"], "admin");
    assert_eq!(v["PATH_FALLBACK"], "from-env");
    let paths: Vec<String> = recorded_calls(&log)
        .iter()
        .map(|c| c.last().unwrap().clone())
        .collect();
    assert_eq!(
        paths.iter().filter(|p| *p == "secret/app").count(),
        1,
        "one call for secret/app: {paths:?}"
    );
    // A bad token is an error with the login fix, not "not found".
    sb.set_env("VAULT_TOKEN", "wrong");
    sb.manifest("[secrets]\nUSER = \"vault:secret/app#user\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("vault login"), "{}", stderr(&out));
}

#[test]
fn doppler_one_call_per_config_with_the_real_cli() {
    let mut sb = Sandbox::new();
    let api = DopplerApi::new(
        &mut sb,
        &serde_json::json!({
            "web/dev": {"API_KEY": "dk-1 'q' $(x)", "DB": "multi\nline", "UNDECLARED": "never-kept"},
            "web/prd": {"API_KEY": "prod-key"}
        }),
    );
    sb.manifest(
        r#"[secrets]
API_KEY = "doppler:API_KEY?project=web&config=dev"
DB = "doppler:DB?project=web&config=dev"
PRD = "doppler:API_KEY?project=web&config=prd"
FALLBACK = { from = ["doppler:MISSING?project=web&config=dev", "doppler:API_KEY?project=web&config=prd"] }
"#,
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["API_KEY"], "dk-1 'q' $(x)");
    assert_eq!(v["DB"], "multi\nline");
    assert_eq!(v["PRD"], "prod-key");
    assert_eq!(v["FALLBACK"], "prod-key");
    assert!(v.get("UNDECLARED").is_none());
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2, "one download per project/config: {reqs:?}");
    assert!(reqs
        .iter()
        .all(|r| r.contains("/v3/configs/config/secrets/download")));
    assert!(!sb.path().join("h/.doppler").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("fallback")));
    // Unknown config: the CLI's error, with the login/setup fix.
    sb.manifest("[secrets]\nX = \"doppler:API_KEY?project=web&config=nope\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("doppler") && stderr(&out).contains("fix:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn secret_tool_against_gnome_keyring() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    ss.store(
        "gh",
        &[("service", "github"), ("account", "alice")],
        "tok 'x' \"y\" $(z)\nline2".as_bytes(),
    );
    sb.manifest(
        "[secrets]\nGH = \"secret-tool:service=github&account=alice\"\nFB = { from = [\"secret-tool:service=nope\", \"secret-tool:service=github&account=alice\"] }\n",
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["GH"], "tok 'x' \"y\" $(z)\nline2");
    assert_eq!(v["FB"], v["GH"]);
    sb.manifest("[secrets]\nGONE = \"secret-tool:service=nope\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("GONE: not found"), "{}", stderr(&out));
}

#[test]
fn op_read_not_found_and_signed_out_with_the_fake_cli() {
    let mut sb = Sandbox::new();
    let op = FakeOp::new(
        &mut sb,
        &serde_json::json!({"op://Eng/db/password": "op 'pw' $(x)\\", "op://Eng/db/url": "postgres://u@h/db"}),
    );
    sb.manifest(
        r#"[secrets]
PW = "op://Eng/db/password"
URL = { from = ["op://Eng/nope/url", "op://Eng/db/url"] }
FIELD = { from = ["op://Eng/db/nofield", "op://Eng/db/url"] }
"#,
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["PW"], "op 'pw' $(x)\\");
    assert_eq!(v["URL"], "postgres://u@h/db");
    assert_eq!(v["FIELD"], "postgres://u@h/db");
    for argv in op.calls() {
        assert!(
            !argv.join(" ").contains("op 'pw'"),
            "value on argv: {argv:?}"
        );
    }
    sb.set_env("FAKE_OP_SIGNED_OUT", "1");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("op signin"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not currently signed in"),
        "the CLI's own words are shown: {}",
        stderr(&out)
    );
}

#[test]
fn with_no_prompt_a_locked_gpg_key_is_a_clear_error_at_once_not_a_pinentry() {
    let mut sb = Sandbox::new();
    let pass = PassStore::with_passphrase(&mut sb, "test-key-passphrase");
    pass.insert("app/db", b"locked-value-3e4f\n");
    sb.manifest("[secrets]\nDB = \"pass:app/db\"\n");
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "bash"]);
    assert_fails_with(
        &out,
        &["with --no-prompt gpg may not ask for your key's passphrase"],
    );
    // Once the agent holds the passphrase (a person's first `pass show` did it), --no-prompt
    // reads the value: nothing needed asking.
    pass.unlock("app/db", "test-key-passphrase");
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("locked-value-3e4f"),
        "{}",
        stdout(&out)
    );
}
