//! A write changes exactly what it names, or nothing: against the real stores (moto through the
//! real `aws` CLI, pass + GnuPG, gnome-keyring with other programs' items, OpenBao's parser
//! rules), with a failing read and with a concurrent writer landing between our read and write.

mod support;
use support::stores::*;
use support::*;

/// `jit-secrets set ARGS` with `value` on stdin.
fn set(sb: &Sandbox, args: &[&str], value: &[u8]) -> std::process::Output {
    set_on_stdin(sb, args, value)
}

fn secret_string(moto: &Moto, id: &str) -> String {
    let out = moto.aws(&["secretsmanager", "get-secret-value", "--secret-id", id]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["SecretString"].as_str().unwrap().to_string()
}

const ORIGINAL: &str = "{\"db_password\": \"old\", \"api_key\": \"AKIA-keep\", \"stripe\": \"sk_live_keep\", \"big\": 123456789012345678901234567890}";

#[test]
fn aws_sm_set_changes_one_key_exactly_or_nothing() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    moto.create_secret("app/prod", ORIGINAL);
    // In-process; the proxy fails a call or lets another writer in, as told.
    let proxy = moto.proxy(&mut sb);
    sb.manifest(
        "[secrets]\nDB = \"aws-sm:app/prod#db_password\"\nNEW = \"aws-sm:app/new#token\"\n",
    );

    // The one key changes; every other byte stays (the big number too).
    let out = set(&sb, &["DB"], b"new-password");
    assert_code(&out, 0);
    assert_eq!(
        secret_string(&moto, "app/prod"),
        ORIGINAL.replace("\"old\"", "\"new-password\"")
    );

    // A read that fails for any reason but "no such secret": nothing is written.
    proxy.fail("GetSecretValue", "ThrottlingException", "Rate exceeded");
    let before = secret_string(&moto, "app/prod");
    let out = set(&sb, &["DB"], b"third");
    assert_code(&out, 1);
    assert!(stderr(&out).contains("nothing written"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ThrottlingException"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        secret_string(&moto, "app/prod"),
        before,
        "the other keys were not wiped"
    );
    proxy.clear();

    // A concurrent writer lands between our read and our write: we fail, theirs stands.
    let intruder = "{\"db_password\": \"theirs\", \"api_key\": \"AKIA-keep\"}";
    let spec = serde_json::json!({"SecretId": "app/prod", "SecretString": intruder}).to_string();
    let aws = tools_bin().join("aws");
    proxy.before(
        "PutSecretValue",
        &[
            aws.to_str().unwrap(),
            "secretsmanager",
            "put-secret-value",
            "--cli-input-json",
            &spec,
        ],
    );
    let out = set(&sb, &["DB"], b"mine");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("changed since it was read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        secret_string(&moto, "app/prod"),
        intruder,
        "the other writer's value is intact"
    );
    proxy.clear();

    // And after it, a plain set works again, from the intruder's document.
    assert_code(&set(&sb, &["DB"], b"fourth"), 0);
    assert_eq!(
        secret_string(&moto, "app/prod"),
        intruder.replace("\"theirs\"", "\"fourth\"")
    );

    // No such secret: created with just that key.
    assert_code(&set(&sb, &["NEW"], b"tok"), 0);
    assert_eq!(secret_string(&moto, "app/new"), "{\"token\":\"tok\"}");
}

#[test]
fn aws_ssm_set_keeps_a_parameters_type_and_key() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    for (name, kind, extra) in [
        ("/app/plain", "String", None),
        ("/app/list", "StringList", None),
        ("/app/custom", "SecureString", Some("alias/app-key")),
    ] {
        let mut spec = serde_json::json!({"Name": name, "Value": "a,b", "Type": kind});
        if let Some(key) = extra {
            spec["KeyId"] = key.into();
        }
        moto.aws(&[
            "ssm",
            "put-parameter",
            "--cli-input-json",
            &spec.to_string(),
        ]);
    }
    sb.manifest("[secrets]\nP = \"aws-ssm:/app/plain\"\nL = \"aws-ssm:/app/list\"\nC = \"aws-ssm:/app/custom\"\nN = \"aws-ssm:/app/new\"\n");
    for name in ["P", "L", "C", "N"] {
        assert_code(&set(&sb, &[name], b"x,y"), 0);
    }
    let describe = moto.aws(&["ssm", "describe-parameters"]);
    let doc: serde_json::Value = serde_json::from_slice(&describe.stdout).unwrap();
    let param = |n: &str| {
        doc["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["Name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(param("/app/plain")["Type"], "String");
    assert_eq!(param("/app/list")["Type"], "StringList");
    assert_eq!(param("/app/custom")["Type"], "SecureString");
    assert_eq!(
        param("/app/custom")["KeyId"],
        "alias/app-key",
        "re-encrypted under another key"
    );
    assert_eq!(param("/app/new")["Type"], "SecureString");
    let got = moto.aws(&[
        "ssm",
        "get-parameter",
        "--name",
        "/app/list",
        "--with-decryption",
    ]);
    assert!(stdout(&got).contains("\"x,y\""), "{}", stdout(&got));
}

fn pass_show(sb: &Sandbox, path: &str) -> Vec<u8> {
    let out = sb.command("pass").args(["show", path]).output().unwrap();
    assert_code(&out, 0);
    out.stdout
}

#[test]
fn pass_set_replaces_the_first_line_only_and_a_concurrent_write_wins() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    let entry = b"old-password\nusername: bob\notpauth://totp/site?secret=JBSWY3DPEHPK3PXP\nrecovery: 1111 2222\n\n  trailing spaces  ";
    pass.insert("site/login", entry);
    sb.manifest("[secrets]\nPW = \"pass:site/login\"\nALL = \"pass:site/whole#all\"\nNEW = \"pass:site/new\"\n");

    assert_code(&set(&sb, &["PW"], b"new-password"), 0);
    let mut wanted = b"new-password".to_vec();
    wanted.extend_from_slice(&entry[b"old-password".len()..]);
    assert_eq!(
        pass_show(&sb, "site/login"),
        wanted,
        "every other line byte for byte"
    );
    // Nothing left behind under the staging name.
    let leftovers: Vec<_> = std::fs::read_dir(sb.path().join("p/site"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["login.gpg"], "{leftovers:?}");

    // A password with a newline cannot be "the first line".
    let out = set(&sb, &["PW"], b"two\nlines");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("pass:site/login#all"),
        "{}",
        stderr(&out)
    );
    assert_eq!(pass_show(&sb, "site/login"), wanted);

    // #all writes the whole entry, as asked; a new entry is just the value.
    assert_code(&set(&sb, &["ALL"], b"line one\nline two"), 0);
    assert_eq!(pass_show(&sb, "site/whole"), b"line one\nline two");
    assert_code(&set(&sb, &["NEW"], b"fresh"), 0);
    assert_eq!(pass_show(&sb, "site/new"), b"fresh");

    // Another writer changes the entry between our read and our rename: theirs stands.
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v pass"])
        .output()
        .unwrap();
    let real = stdout(&real).trim().to_string();
    let wrapper = sb.write_executable(
        "pass-wrapper",
        format!(
            "#!/bin/sh\ncase \"$*\" in *jit-secrets-*) if [ ! -e \"$WRAP_DONE\" ]; then : > \"$WRAP_DONE\"; printf 'intruder\\nusername: eve' | '{real}' insert -m -f site/login >/dev/null; fi ;; esac\nexec '{real}' \"$@\"\n"
        ),
    );
    sb.set_env("WRAP_DONE", sb.path().join("wrap-done"));
    sb.manifest(&format!(
        "[secrets]\nPW = \"pass:site/login\"\n[secrets.options]\ncommands = {{ pass = \"{}\" }}\n",
        wrapper.display()
    ));
    let out = set(&sb, &["PW"], b"mine");
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("changed since it was read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(pass_show(&sb, "site/login"), b"intruder\nusername: eve");
    let leftovers: Vec<_> = std::fs::read_dir(sb.path().join("p/site"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("jit-secrets"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Items of other programs, created with exactly the attributes they use.
fn other_programs_items(ss: &SecretService) {
    let python = tools_bin().parent().unwrap().join("venv/bin/python");
    let out = ss
        .cmd(python.to_str().unwrap())
        .args([
            "-c",
            "import secretstorage, keyring\n\
             c = secretstorage.get_default_collection(secretstorage.dbus_init())\n\
             c.create_item('Other tool: github', {'xdg:schema': 'com.example.OtherTool', 'service': 'github', 'account': 'alice'}, b'other-tool-secret', replace=False)\n\
             c.create_item('Extra attribute', {'xdg:schema': 'org.freedesktop.Secret.Generic', 'service': 'github', 'account': 'alice', 'host': 'ghe.example'}, b'extra-secret', replace=False)\n",
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
}

/// (label, secret, attributes) of every item of `service`, sorted.
fn items(ss: &SecretService, service: &str) -> Vec<String> {
    let python = tools_bin().parent().unwrap().join("venv/bin/python");
    let out = ss
        .cmd(python.to_str().unwrap())
        .args([
            "-c",
            &format!(
                "import secretstorage\nc = secretstorage.dbus_init()\nfor i in sorted(secretstorage.search_items(c, {{'service': '{service}'}}), key=lambda i: i.get_label()):\n    print(i.get_label(), i.get_secret().decode(), sorted(i.get_attributes().items()))\n"
            ),
        ])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let mut lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn keyring_and_secret_tool_writes_touch_only_their_own_items() {
    let mut sb = Sandbox::new();
    let ss = SecretService::new(&mut sb);
    other_programs_items(&ss);
    let theirs = items(&ss, "github");
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    sb.manifest("[secrets]\nGH = \"keyring:github?account=alice\"\nST = \"secret-tool:service=github&account=alice\"\n");

    // keyring: a new item of ours; theirs untouched (secret, label, schema, attributes).
    assert_code(&set(&sb, &["GH"], b"ours"), 0);
    let now = items(&ss, "github");
    assert_eq!(now.len(), 3, "{now:?}");
    for item in &theirs {
        assert!(now.contains(item), "changed: {item}\nnow: {now:?}");
    }
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("\"GH\":\"ours\""),
        "our own item is read first: {}",
        stdout(&out)
    );

    // secret-tool: likewise (its exact item is {service, account}, which none of these is).
    assert_code(&set(&sb, &["ST"], b"st-ours"), 0);
    let now = items(&ss, "github");
    assert_eq!(now.len(), 4, "{now:?}");
    for item in &theirs {
        assert!(now.contains(item), "changed: {item}");
    }
    assert_code(&set(&sb, &["ST"], b"st-second"), 0);
    assert_eq!(items(&ss, "github").len(), 4, "replaced, not added");

    // delete lists exactly what it deletes, and deletes only that. (The secret-tool item is
    // {service, account}: exactly a keyring: lookup's too, so it goes first.)
    for name in ["ST", "GH"] {
        let out = sb.jit_m(&["delete", name, "--yes"]);
        assert_code(&out, 0);
        let err = stderr(&out);
        assert!(err.contains("delete removes:"), "{err}");
        assert!(
            !err.contains("Other tool") && !err.contains("Extra attribute"),
            "{err}"
        );
        assert!(err.contains("(1 item at"), "the true count: {err}");
    }
    assert_eq!(items(&ss, "github"), theirs, "only ours went");
    // Nothing of ours left: delete says so, and deletes nothing.
    let out = sb.jit_m(&["delete", "GH", "--yes"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("nothing stored"), "{}", stderr(&out));
    assert_eq!(items(&ss, "github"), theirs);
}

#[test]
fn a_vault_field_the_cli_would_split_is_refused_before_anything_runs() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nA = \"env:HOME\"\n");
    for reference in ["vault:secret/app#api=x", "vault:secret/app#@file"] {
        let out = set(&sb, &["A", "--ref", reference], b"v");
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("cannot be written by the vault CLI"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_value_given_on_the_command_line_is_refused_without_being_echoed() {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    pass.insert("app/api", b"stored-before");
    sb.manifest("[secrets]\nAPI = \"pass:app/api\"\n");
    let value = "sk-live-9c41e0d2";
    for args in [
        vec!["set", "API", value],
        vec!["set", "API", "--", value],
        vec!["set", "API", "-sk-dash-9c41e0d2"],
        vec!["rotate", "API", value],
        vec!["delete", "API", value],
        vec!["get", "API", value],
        vec!["set", "API=sk-live-9c41e0d2"],
        vec!["get", "API=sk-live-9c41e0d2"],
        vec!["delete", "API=sk-live-9c41e0d2", "--yes"],
    ] {
        let out = sb.jit_m(&args);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(
            !err.contains("9c41e0d2"),
            "{args:?} echoed the value: {err}"
        );
        assert!(err.contains("not shown"), "{args:?}: {err}");
        if args[0] == "set" {
            assert!(err.contains("hidden prompt"), "{err}");
        }
    }
    assert_eq!(
        pass_show(&sb, "app/api"),
        b"stored-before",
        "nothing stored"
    );
    // An unknown option is still named (it is not a value).
    let out = sb.jit_m(&["set", "API", "--no-such-flag"]);
    assert_code(&out, 2);
    let out = sb.jit_m(&["list", "--bogus"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--bogus"), "{}", stderr(&out));
}

#[test]
fn set_delete_and_setup_on_a_chain_name_its_writable_member() {
    let mut sb = Sandbox::new();
    let _pass = PassStore::new(&mut sb);
    sb.manifest("[secrets]\nAPI_KEY = { from = [\"env:CI_API_KEY\", \"pass:app/api\"] }\n");
    let out = set(&sb, &["API_KEY"], b"v1-value");
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("pass:app/api"), "{err}");
    assert!(
        err.contains("jit-secrets set API_KEY --ref pass:app/api"),
        "{err}"
    );
    // Following the advice stores it where the chain reads it.
    assert_code(
        &set(&sb, &["API_KEY", "--ref", "pass:app/api"], b"v1-value"),
        0,
    );
    let out = sb.jit_m(&["get", "API_KEY"]);
    assert_eq!(stdout(&out), "v1-value\n");

    let out = sb.jit_m(&["delete", "API_KEY", "--yes"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("jit-secrets delete API_KEY --ref pass:app/api"),
        "{}",
        stderr(&out)
    );
    assert_eq!(pass_show(&sb, "app/api"), b"v1-value", "nothing deleted");

    // setup: the missing chained secret is named with the same command.
    let out = sb.jit_m(&["delete", "API_KEY", "--ref", "pass:app/api", "--yes"]);
    assert_code(&out, 0);
    let out = sb.jit_m(&["setup"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("jit-secrets set API_KEY --ref pass:app/api"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn delete_of_a_store_jit_secrets_does_not_delete_from_is_a_usage_error_said_first() {
    let sb = Sandbox::new();
    let file = sb.write("secret.txt", "file-value");
    sb.manifest("[secrets]\nF = \"file:secret.txt\"\nE = \"env:HOME\"\n");
    for name in ["F", "E"] {
        let out = sb.jit_m(&["delete", name, "--yes"]);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("jit-secrets: error: {name}: ")),
            "said first: {err}"
        );
        assert!(err.contains("cannot delete from"), "{err}");
        assert!(!err.contains("delete removes"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(file).unwrap(), "file-value");
}
