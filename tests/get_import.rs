//! `get` (one value, for scripts) and `import` (a dotenv file into a store), against the real
//! stores: gnome-keyring on a private D-Bus, pass + GnuPG, the kernel keyring for the cache.
//! Also the `vault:` message when there is neither a token nor the CLI.

mod support;
use support::stores::*;
use support::*;

const DB_URL: &str = "postgres://app:p@ss w'rd\"$(x)`y`@db/app";

fn get_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set_env("SRC_DB", DB_URL);
    sb.write("values/gh", "gh-scoped-value");
    sb.manifest(
        "[secrets]\nDATABASE_URL = \"env:SRC_DB\"\nGH = { from = \"file:values/gh\", only = [\"gh\"] }\nMISSING = { from = \"env:NO_SUCH_VAR_JIT\", required = false }\nBROKEN = \"cmd:sh -c 'echo store down >&2; exit 3'\"\n[secrets.profiles.prod]\nDATABASE_URL = \"env:SRC_PROD_DB\"\n",
    );
    sb
}

#[test]
fn get_prints_one_value_and_a_newline_or_none_with_n() {
    let mut sb = get_sandbox();
    let out = sb.jit_m(&["get", "DATABASE_URL"]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, format!("{DB_URL}\n").as_bytes());
    let out = sb.jit_m(&["get", "-n", "DATABASE_URL"]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, DB_URL.as_bytes());
    // As scripts use it: command substitution drops the newline, the value is exact.
    let m = sb.path().join("manifest.toml");
    let script = format!(
        "v=\"$(\"$JIT\" --manifest '{}' get DATABASE_URL)\"; [ \"$v\" = \"$SRC_DB\" ] && echo same",
        m.display()
    );
    let out = sb
        .command("bash")
        .args(["-c", &script])
        .env("JIT", BIN)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "same\n", "{}", stderr(&out));
    // The profile applies, as for activate.
    sb.set_env("SRC_PROD_DB", "prod-url");
    let out = sb.jit_m(&["--profile", "prod", "get", "DATABASE_URL"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "prod-url\n");
}

#[test]
fn get_refuses_an_unknown_or_scoped_name_and_fails_on_a_missing_or_broken_one() {
    let sb = get_sandbox();
    let out = sb.jit_m(&["get", "DATABSE_URL"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("no secret named DATABSE_URL"), "{err}");
    assert!(
        err.contains("known: DATABASE_URL, GH, MISSING, BROKEN"),
        "{err}"
    );

    let out = sb.jit_m(&["get", "GH"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "", "a scoped value is never printed");
    assert!(stderr(&out).contains("scoped to gh"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("jit-secrets run -- gh"),
        "{}",
        stderr(&out)
    );

    let out = sb.jit_m(&["get", "MISSING"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));

    let out = sb.jit_m(&["get", "BROKEN"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("store down"), "{}", stderr(&out));

    // An extra argument may be a value: it is not echoed.
    let out = sb.jit_m(&["get", "DATABASE_URL", "hunter2-extra"]);
    assert_code(&out, 2);
    assert!(!stderr(&out).contains("hunter2-extra"), "{}", stderr(&out));
}

#[test]
fn get_needs_trust_before_any_store_is_contacted() {
    let sb = Sandbox::requiring_trust();
    let marker = sb.path().join("ran");
    sb.manifest(&format!(
        "[secrets]\nX = \"cmd:sh -c 'touch {}; echo v'\"\n",
        marker.display()
    ));
    let out = sb.jit_m(&["get", "X"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(!marker.exists(), "nothing ran for an untrusted manifest");
    sb.write(".env", "X=imported-value\n");
    let out = sb.jit_m(&["import", ".env", "--store", "pass"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("jit-secrets allow"),
        "{}",
        stderr(&out)
    );
    assert_code(&sb.jit_m(&["allow"]), 0);
    let out = sb.jit_m(&["get", "X"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "v\n");
}

#[test]
fn get_uses_the_cache_as_activate_does() {
    let sb = Sandbox::new();
    let log = sb.path().join("calls");
    sb.manifest(&format!(
        "[secrets]\nX = {{ from = \"cmd:sh -c 'echo call >> {}; echo cached-v'\", cache = \"15m\" }}\n",
        log.display()
    ));
    let calls = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    for _ in 0..2 {
        let out = sb.jit_m(&["get", "X"]);
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "cached-v\n");
    }
    if stderr(&sb.jit_m(&["get", "X"])).contains("without the cache") {
        eprintln!("the kernel keyring cannot be used here: the hit is not checked");
    } else {
        assert_eq!(
            calls(),
            1,
            "the second and third get were served from the cache"
        );
        let out = sb.jit_m(&["activate", "--shell", "json"]);
        assert!(stdout(&out).contains("cached-v"));
        assert_eq!(calls(), 1, "activate shares get's cache entry");
    }
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

#[test]
fn get_prints_the_value_even_on_a_terminal() {
    let sb = get_sandbox();
    let m = sb.path().join("manifest.toml");
    // `script` runs the command with stdout and stderr on a pseudo-terminal.
    let out = sb
        .command("script")
        .args(["-qec"])
        .arg(format!(
            "'{BIN}' --manifest '{}' get DATABASE_URL",
            m.display()
        ))
        .arg("/dev/null")
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(DB_URL),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_vault_read_without_a_token_or_the_cli_asks_for_the_token() {
    let mut sb = Sandbox::new();
    let path = path_without(&sb, &["vault", "bao"]);
    sb.set_env("PATH", path);
    sb.manifest("[secrets]\nV = \"vault:secret/app#password\"\n");
    let out = sb.jit_m(&["get", "V"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    for needle in ["VAULT_TOKEN", "~/.vault-token", "vault login"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!err.contains("install the Vault CLI"), "{err}");
    // A token helper is the CLI's business: then it is the CLI that is missing.
    sb.write("h/.vault", "token_helper = \"/usr/local/bin/helper\"\n");
    let out = sb.jit_m(&["get", "V"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("install the Vault CLI"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(sb.path().join("h/.vault")).unwrap();
    // With a token file the HTTP route is taken: no word of the CLI or of a missing token.
    sb.write("h/.vault-token", "s.not-a-real-token");
    sb.set_env("VAULT_ADDR", format!("http://127.0.0.1:{}", free_port()));
    let out = sb.jit_m(&["get", "V"]);
    assert_code(&out, 1);
    assert!(!stderr(&out).contains("no Vault token"), "{}", stderr(&out));
}

/// A dotenv file with the forms people write: comments, `export`, both quotes, `#` inside
/// quotes and after a value, an empty value, a value on two lines.
const DOTENV: &str = "# production-ish\nexport API_KEY=sk-live-4f2a9c\nDB_PASSWORD='p@ss # not a comment $HOME'\nGREETING=\"hello # kept\" # a comment\nEMPTY=\nPEM=\"-----BEGIN-----\nline2\"\n";

fn import_manifest(sb: &Sandbox) {
    std::fs::create_dir_all(sb.path().join("shop")).unwrap();
    sb.write(
        "shop/manifest.toml",
        "# our secrets\n[secrets]\nOTHER = \"env:HOME\" # keep me\nCHAINED = { from = [\"env:CI_CHAINED\", \"pass:x\"], description = \"kept\" }\n",
    );
}

fn jit_in_shop(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    sb.command(BIN)
        .current_dir(sb.path().join("shop"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn import_moves_a_dotenv_file_into_the_keyring_and_the_manifest() {
    let mut sb = Sandbox::requiring_trust();
    let ss = SecretService::new(&mut sb);
    import_manifest(&sb);
    // Allowed once: the manifest import edits stays trusted (the `get`s below need no allow).
    assert_code(&jit_in_shop(&sb, &["allow"]), 0);
    let env_file = sb.write("shop/.env", DOTENV);
    let out = jit_in_shop(&sb, &["import", ".env", "--store", "keyring"]);
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("API_KEY = \"keyring:shop/api-key\""), "{err}");
    assert!(err.contains("skipped EMPTY"), "{err}");
    assert!(err.contains("rm .env"), "says how to delete it: {err}");
    for value in ["sk-live-4f2a9c", "p@ss", "hello # kept", "line2"] {
        assert!(!err.contains(value), "no value on stderr: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        DOTENV,
        "FILE untouched"
    );
    let manifest = std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap();
    assert_eq!(
        manifest,
        "# our secrets\n[secrets]\nOTHER = \"env:HOME\" # keep me\nCHAINED = { from = [\"env:CI_CHAINED\", \"pass:x\"], description = \"kept\" }\nAPI_KEY = \"keyring:shop/api-key\"\nDB_PASSWORD = \"keyring:shop/db-password\"\nGREETING = \"keyring:shop/greeting\"\nPEM = \"keyring:shop/pem\"\n"
    );
    for (name, value) in [
        ("API_KEY", "sk-live-4f2a9c"),
        ("DB_PASSWORD", "p@ss # not a comment $HOME"),
        ("GREETING", "hello # kept"),
        ("PEM", "-----BEGIN-----\nline2"),
    ] {
        let out = jit_in_shop(&sb, &["get", "-n", name]);
        assert_code(&out, 0);
        assert_eq!(stdout(&out), value, "{name}");
    }
    assert_eq!(
        stdout(&ss.lookup(&[("service", "shop/api-key")])),
        "sk-live-4f2a9c"
    );

    // Again: every name is there now; nothing is written without --replace.
    sb.write(
        "shop/.env",
        "API_KEY=second-value\nGREETING=second-greeting\n",
    );
    let out = jit_in_shop(&sb, &["import", ".env", "--store", "keyring"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("API_KEY, GREETING"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--replace"), "{}", stderr(&out));
    let out = jit_in_shop(&sb, &["get", "-n", "API_KEY"]);
    assert_eq!(stdout(&out), "sk-live-4f2a9c", "the store was not written");
    assert_eq!(
        std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap(),
        manifest
    );

    // --replace points an existing entry (with its comment) at the imported value.
    sb.write(
        "shop/.env",
        "OTHER=replaced-other\nCHAINED=replaced-chain\n",
    );
    let out = jit_in_shop(&sb, &["import", ".env", "--store", "keyring", "--replace"]);
    assert_code(&out, 0);
    let now = std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap();
    assert!(
        now.contains("OTHER = \"keyring:shop/other\" # keep me\n"),
        "{now}"
    );
    assert!(
        now.contains("CHAINED = { from = \"keyring:shop/chained\", description = \"kept\" }\n"),
        "{now}"
    );
    assert_eq!(
        stdout(&jit_in_shop(&sb, &["get", "-n", "OTHER"])),
        "replaced-other"
    );
    assert_eq!(
        stdout(&jit_in_shop(&sb, &["get", "-n", "CHAINED"])),
        "replaced-chain"
    );
}

#[test]
fn import_refuses_what_it_cannot_store_exactly_before_writing_anything() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    import_manifest(&sb);
    let manifest = std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap();
    let cases: &[(&str, &str)] = &[
        // dotenv would expand these from our environment: refused, not altered.
        ("A=first\nB=pa$$word-leak\n", "B: a `$`"),
        ("A=first\nB=\"x${HOME}y\"\n", "B: a `$`"),
        ("A=first\nB=\"x\\$y\"\n", "a `$`"),
        // A line dotenv cannot read: its number, never its text.
        ("A=first\nB=sec ret-value-1\n", "near line 2"),
        ("A=first\nlower_case=x-value\n", "names are upper-case"),
        ("A=first\nA=again-value\n", "A is set twice"),
        ("A=first\nPATH=/evil-value\n", "nothing imported"),
    ];
    for (text, needle) in cases {
        sb.write("shop/.env", text);
        let out = jit_in_shop(&sb, &["import", ".env", "--store", "keyring"]);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(needle), "{text:?}: {err}");
        for secret in [
            "first",
            "word-leak",
            "ret-value",
            "x-value",
            "again-value",
            "evil-value",
        ] {
            assert!(!err.contains(secret), "{text:?} echoed: {err}");
        }
        assert!(
            ss.lookup(&[("service", "shop/a")]).stdout.is_empty(),
            "{text:?}: nothing stored"
        );
        assert_eq!(
            std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap(),
            manifest
        );
    }
    // Single quotes keep a `$` as written.
    sb.write("shop/.env", "B='pa$$word'\n");
    assert_code(
        &jit_in_shop(&sb, &["import", ".env", "--store", "keyring"]),
        0,
    );
    assert_eq!(stdout(&jit_in_shop(&sb, &["get", "-n", "B"])), "pa$$word");
}

#[test]
fn import_into_pass_stops_at_a_failed_write_and_leaves_the_manifest_alone() {
    let mut sb = Sandbox::new();
    let _pass = PassStore::new(&mut sb);
    let (_, log) = record(&mut sb, &["pass"]);
    // The third write fails (as a full disk would) until the `fail-three` file is removed;
    // every call goes on through the recorder, which logs its argv.
    let fail = sb.write("fail-three", "");
    let wrapper = sb.write_executable(
        "pass-wrapper",
        format!(
            "#!/bin/sh
case \"$*\" in insert*three*) if [ -e '{}' ]; then echo 'pass: No space left on device' >&2; exit 1; fi ;; esac\nexec '{}' \"$@\"\n",
            fail.display(),
            sb.path().join("rec/pass").display()
        ),
    );
    std::fs::create_dir_all(sb.path().join("shop")).unwrap();
    let manifest = format!(
        "[secrets]\n[secrets.options]\ncommands = {{ pass = \"{}\" }}\n",
        wrapper.display()
    );
    sb.write("shop/manifest.toml", &manifest);
    sb.write(
        "shop/.env",
        "ONE=value-one-1\nTWO=value-two-2\nTHREE=value-three-3\n",
    );
    let out = jit_in_shop(&sb, &["import", ".env", "--store", "pass"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("THREE: pass:shop/three"), "{err}");
    assert!(err.contains("No space left"), "{err}");
    assert!(err.contains("the manifest is unchanged"), "{err}");
    assert!(
        err.contains("ONE in pass:shop/one") && err.contains("TWO in pass:shop/two"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap(),
        manifest
    );
    let show = |path: &str| sb.command("pass").args(["show", path]).output().unwrap();
    assert_eq!(stdout(&show("shop/one")), "value-one-1");
    assert_eq!(stdout(&show("shop/two")), "value-two-2");

    // Fixed, the same import stores all three and adds them.
    std::fs::remove_file(&fail).unwrap();
    let out = jit_in_shop(&sb, &["import", ".env", "--store", "pass"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&jit_in_shop(&sb, &["get", "THREE"])),
        "value-three-3\n"
    );
    let text = std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap();
    assert!(text.contains("THREE = \"pass:shop/three\""), "{text}");
    // No value ever reached a command line.
    let calls = recorded_calls(&log);
    assert!(calls.len() >= 6, "{calls:?}");
    for call in calls {
        let argv = call.join(" ");
        assert!(!argv.contains("value-"), "on argv: {argv}");
    }
}

#[test]
fn import_into_secrets_manager_and_parameter_store_by_name_alone() {
    let mut sb = Sandbox::new();
    let _moto = Moto::new(&mut sb);
    std::fs::create_dir_all(sb.path().join("shop")).unwrap();
    sb.write("shop/manifest.toml", "[secrets]\n");
    sb.write("shop/.env", "API_KEY='sm-value \"quoted\"'\n");
    assert_code(
        &jit_in_shop(&sb, &["import", ".env", "--store", "aws-sm"]),
        0,
    );
    sb.write("shop/.env", "DB_PASSWORD=ssm-value#not-a-comment\n");
    assert_code(
        &jit_in_shop(&sb, &["import", ".env", "--store", "aws-ssm"]),
        0,
    );
    let text = std::fs::read_to_string(sb.path().join("shop/manifest.toml")).unwrap();
    assert_eq!(
        text,
        "[secrets]\nAPI_KEY = \"aws-sm:shop/api-key\"\nDB_PASSWORD = \"aws-ssm:/shop/db-password\"\n"
    );
    let out = jit_in_shop(&sb, &["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["API_KEY"], "sm-value \"quoted\"");
    assert_eq!(v["DB_PASSWORD"], "ssm-value#not-a-comment");
}

#[test]
fn import_writes_no_file_but_the_manifest() {
    let mut sb = Sandbox::new();
    let _ss = SecretService::new(&mut sb);
    import_manifest(&sb);
    sb.write("shop/.env", "API_KEY=traced-value-5e1\nDB='traced two'\n");
    let log = sb.path().join("strace.log");
    let out = sb
        .command(require("strace"))
        .args(["-f", "-qq", "-e", &format!("trace={WRITE_SYSCALLS}"), "-o"])
        .arg(&log)
        .arg(BIN)
        .args(["import", ".env", "--store", "keyring"])
        .current_dir(sb.path().join("shop"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    let trace = std::fs::read_to_string(&log).unwrap();
    assert!(!trace.is_empty(), "strace saw nothing");
    let shop = sb.path().join("shop");
    // The trust file (paths and digests) follows the manifest's edit, under XDG_DATA_HOME.
    let trust_dir = format!(
        "\"{}/jit-secrets",
        sb.env["XDG_DATA_HOME"].to_string_lossy()
    );
    let writes = find_writes(&trace);
    assert!(!writes.is_empty(), "the manifest's write was seen");
    for write in writes {
        let manifest_edit = write.contains(&format!("\"{}/", shop.display()))
            && (write.contains("manifest.toml") || write.contains(".jit-secrets-"));
        assert!(
            manifest_edit || write.contains(&trust_dir),
            "a write besides the manifest's and the trust file's: {write}"
        );
    }
    assert!(!trace.contains("traced-value") && !trace.contains("traced two"));
}
