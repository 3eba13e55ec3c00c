//! With a canary value in every store at once: no file is written while resolving (`activate`,
//! `run`, `verify` under strace -f), no report, list or error message contains a canary, and no
//! child's argv holds one. Then: 200 secrets across all stores resolve identically at concurrency
//! 1 and 64, and two activations at once do not interfere.

mod support;
use std::collections::BTreeMap;
use support::stores::*;
use support::*;

struct AllStores {
    sb: Sandbox,
    /// NAME → the value it must resolve to.
    values: BTreeMap<String, String>,
    argv_logs: Vec<std::path::PathBuf>,
    _pass: PassStore,
    _moto: Moto,
    _bao: Bao,
    _doppler: DopplerApi,
    _ss: SecretService,
    _fakes: Vec<FakeCli>,
    _oci: OciApi,
}

fn canary(store: &str, i: usize) -> String {
    format!("canary-{store}-{i}-9f2c41")
}

/// A UUID whose last group is `i` (bws names secrets by UUID).
fn uuid(i: usize) -> String {
    format!("be8e0ad8-d545-4017-a55a-{i:012}")
}

/// `per_store` secrets in each of the eighteen stores.
fn all_stores(per_store: usize) -> AllStores {
    let mut sb = Sandbox::new();
    let pass = PassStore::new(&mut sb);
    let moto = Moto::new(&mut sb);
    let bao = Bao::new(&mut sb);
    let ss = SecretService::new(&mut sb);
    let mut doppler_data = serde_json::Map::new();
    let mut op_data = serde_json::Map::new();
    let mut m = String::from("[secrets]\n");
    let mut values = BTreeMap::new();
    let mut sm = Vec::new();
    let mut ssm = Vec::new();
    let (mut plugin_data, mut oci_data, mut kdbx_entries) = (
        serde_json::Map::new(),
        serde_json::Map::new(),
        String::new(),
    );
    let (mut bw_items, mut bws_secrets, mut gcp_secrets, mut az_secrets) = (
        Vec::new(),
        Vec::new(),
        serde_json::Map::new(),
        serde_json::Map::new(),
    );
    for i in 0..per_store {
        let mut add = |name: String, reference: String, value: String| {
            m.push_str(&format!("{name} = \"{reference}\"\n"));
            values.insert(name, value);
        };
        pass.insert(&format!("app/s{i}"), canary("pass", i).as_bytes());
        add(
            format!("PASS_{i}"),
            format!("pass:app/s{i}"),
            canary("pass", i),
        );
        sm.push((format!("app/s{i}"), canary("awssm", i)));
        add(
            format!("AWSSM_{i}"),
            format!("aws-sm:app/s{i}"),
            canary("awssm", i),
        );
        ssm.push((format!("/app/p{i}"), canary("awsssm", i)));
        add(
            format!("AWSSSM_{i}"),
            format!("aws-ssm:/app/p{i}"),
            canary("awsssm", i),
        );
        add(
            format!("VAULT_{i}"),
            format!("vault:secret/app#f{i}"),
            canary("vault", i),
        );
        doppler_data.insert(format!("D{i}"), canary("doppler", i).into());
        add(
            format!("DOPPLER_{i}"),
            format!("doppler:D{i}?project=p&config=c"),
            canary("doppler", i),
        );
        ss.store(
            "k",
            &[("service", &format!("ks{i}")), ("account", "t")],
            canary("keyring", i).as_bytes(),
        );
        add(
            format!("KEYRING_{i}"),
            format!("keyring:ks{i}?account=t"),
            canary("keyring", i),
        );
        ss.store(
            "s",
            &[("service", &format!("st{i}")), ("account", "t")],
            canary("secrettool", i).as_bytes(),
        );
        add(
            format!("SECRETTOOL_{i}"),
            format!("secret-tool:service=st{i}&account=t"),
            canary("secrettool", i),
        );
        op_data.insert(format!("op://Eng/item{i}/password"), canary("op", i).into());
        add(
            format!("OP_{i}"),
            format!("op://Eng/item{i}/password"),
            canary("op", i),
        );
        bw_items.push(serde_json::json!({"object": "item", "id": uuid(i), "name": format!("bw-item{i}"), "type": 1, "login": {"username": "u", "password": canary("bitwarden", i)}, "revisionDate": "2026-01-01T00:00:00.000Z"}));
        add(
            format!("BITWARDEN_{i}"),
            format!("bitwarden:bw-item{i}"),
            canary("bitwarden", i),
        );
        bws_secrets.push(serde_json::json!({"object": "secret", "id": uuid(i), "projectId": "p", "key": format!("K{i}"), "value": canary("bws", i), "revisionDate": "2026-01-01T00:00:00Z"}));
        add(
            format!("BWS_{i}"),
            format!("bws:{}", uuid(i)),
            canary("bws", i),
        );
        gcp_secrets.insert(
            format!("projects/proj/secrets/g{i}"),
            serde_json::json!([{"data": base64(canary("gcp", i).as_bytes()), "createTime": "2026-01-01T00:00:00Z"}]),
        );
        add(format!("GCP_{i}"), format!("gcp:g{i}"), canary("gcp", i));
        az_secrets.insert(
            format!("a{i}"),
            serde_json::json!([{"value": canary("azure", i), "version": "v1", "updated": "2026-01-01T00:00:00+00:00"}]),
        );
        add(
            format!("AZURE_{i}"),
            format!("azure-kv:kv1/a{i}"),
            canary("azure", i),
        );
        plugin_data.insert(format!("k{i}"), canary("plugin", i).into());
        add(
            format!("PLUGIN_{i}"),
            format!("plugin:json/k{i}"),
            canary("plugin", i),
        );
        let ocid = format!("ocid1.vaultsecret.oc1.iad.s{i}");
        oci_data.insert(
            ocid.clone(),
            serde_json::json!([{"content": base64(canary("oci", i).as_bytes()), "timeCreated": "2026-01-01T00:00:00.000Z"}]),
        );
        add(
            format!("OCI_{i}"),
            format!("oci-vault:{ocid}"),
            canary("oci", i),
        );
        kdbx_entries.push_str(&format!(
            "<Entry><UUID>{}</UUID><String><Key>Title</Key><Value>e{i}</Value></String><String><Key>Password</Key><Value>{}</Value></String></Entry>",
            base64(format!("entry-uuid-{i:05}").as_bytes()),
            canary("keepassxc", i)
        ));
        add(
            format!("KEEPASSXC_{i}"),
            format!("keepassxc:vault.kdbx#e{i}"),
            canary("keepassxc", i),
        );
        sb.write(&format!("files/s{i}"), canary("file", i));
        add(
            format!("FILE_{i}"),
            format!("file:files/s{i}"),
            canary("file", i),
        );
        add(format!("ENV_{i}"), format!("env:SRC_{i}"), canary("env", i));
        // Assembled by the command, so the reference text itself holds no canary.
        add(
            format!("CMD_{i}"),
            format!("cmd:printf %s-%s-%s canary-cmd {i} 9f2c41"),
            canary("cmd", i),
        );
    }
    for i in 0..per_store {
        sb.set_env(&format!("SRC_{i}"), canary("env", i));
    }
    // All fields in one version of one secret (one `vault kv put`).
    let fields: Vec<(String, String)> = (0..per_store)
        .map(|i| (format!("f{i}"), canary("vault", i)))
        .collect();
    bao.put_fields(
        "secret/app",
        &fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    moto.seed(&sm, &ssm);
    let doppler = DopplerApi::new(&mut sb, &serde_json::json!({ "p/c": doppler_data }));
    let _op = FakeOp::new(&mut sb, &serde_json::Value::Object(op_data));
    sb.set_env("BW_SESSION", "session-1");
    sb.set_env("FAKE_BW_SESSION", "session-1");
    sb.set_env("BWS_ACCESS_TOKEN", "token-1");
    sb.set_env("FAKE_BWS_TOKEN", "token-1");
    let fakes = vec![
        FakeCli::new(&mut sb, "bw", &serde_json::Value::Array(bw_items)),
        FakeCli::new(&mut sb, "bws", &serde_json::Value::Array(bws_secrets)),
        FakeCli::new(
            &mut sb,
            "gcloud",
            &serde_json::json!({"project": "proj", "secrets": gcp_secrets}),
        ),
        FakeCli::new(&mut sb, "az", &serde_json::json!({ "kv1": az_secrets })),
    ];
    let plugin_file = sb.write(
        "plugin-secrets.json",
        serde_json::Value::Object(plugin_data).to_string(),
    );
    sb.set_env("JIT_PLUGIN_JSON_FILE", &plugin_file);
    let oci = OciApi::new(&mut sb, &serde_json::Value::Object(oci_data));
    Kdbx::import(
        &sb,
        "vault.kdbx",
        "kdbx-pw",
        &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><KeePassFile><Meta/><Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Root</Name>{kdbx_entries}</Group></Root></KeePassFile>"),
    );
    sb.set_env("KDBX_PW", "kdbx-pw");
    // Record every CLI's argv.
    let (commands, log) = record(
        &mut sb,
        &[
            "aws",
            "vault",
            "pass",
            "doppler",
            "secret-tool",
            "oci",
            "keepassxc-cli",
        ],
    );
    let plugin = support::repo_root().join("examples/plugins/jit-secrets-plugin-json");
    m.push_str(&format!(
        // Traced with strace -f on a possibly loaded machine, a Python CLI can take many times
        // its usual second to answer: the timeout is far past that, and the test waits for the
        // run to end anyway (a hang would still end, at the timeout, and fail the test).
        "[secrets.options]\ntimeout = \"600s\"\nkeepassxc = {{ password_from = \"env:KDBX_PW\" }}\ncommands = {{ {commands}, \"jit-secrets-plugin-json\" = \"{}\" }}\n",
        plugin.display()
    ));
    sb.manifest(&m);
    AllStores {
        argv_logs: [log, sb.path().join("op-calls.log")]
            .into_iter()
            .chain(fakes.iter().map(|f| f.log.clone()))
            .collect(),
        sb,
        values,
        _pass: pass,
        _moto: moto,
        _bao: bao,
        _doppler: doppler,
        _ss: ss,
        _fakes: fakes,
        _oci: oci,
    }
}

fn has_canary(text: &[u8]) -> bool {
    text.windows(6).any(|w| w == b"canary") && String::from_utf8_lossy(text).contains("-9f2c41")
}

#[test]
fn nothing_leaks_with_every_store_in_use() {
    let all = all_stores(2);
    let sb = &all.sb;
    // Every store answers.
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, value) in &all.values {
        assert_eq!(v[name].as_str(), Some(value.as_str()), "{name}");
    }
    assert!(!has_canary(&out.stderr), "{}", stderr(&out));

    // (a) no file written by activate, run or verify, or anything they start — except GnuPG's
    // own lock files in GNUPGHOME, which gpg takes on every decryption and which hold no secret.
    let gnupg = sb.path().join("g");
    for args in [
        &["activate", "--shell", "bash"][..],
        &["run", "--", "true"],
        &["verify", "--json"],
    ] {
        let log = sb.path().join("strace.log");
        let out = sb
            .command(require("strace"))
            .args(["-f", "-qq", "-e", "signal=none", "-o"])
            .arg(&log)
            .args(["-e", &format!("trace={WRITE_SYSCALLS}")])
            .arg(BIN)
            .args(["--manifest", "manifest.toml"])
            .args(args)
            .output()
            .unwrap();
        assert_code(&out, 0);
        let trace = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        let writes: Vec<String> = find_writes(&trace)
            .into_iter()
            .filter(|w| !w.contains(&format!("\"{}/", gnupg.display())))
            .filter(|w| !w.contains(&format!("\"{}\"", sb.path().join("calls.log").display())))
            .filter(|w| !w.contains(&format!("\"{}\"", sb.path().join("op-calls.log").display())))
            // The fakes' own call logs (tests/fake): the test's record, not ours.
            .filter(|w| !w.contains("-calls.log\""))
            .collect();
        assert!(writes.is_empty(), "{args:?} wrote:\n{}", writes.join("\n"));
        assert!(
            trace.contains("execve") || trace.contains("openat("),
            "strace saw nothing"
        );
    }

    // (b) no canary in any report, list, or error message.
    let mut outputs = vec![
        sb.jit_m(&["list"]),
        sb.jit_m(&["list", "--json"]),
        sb.jit_m(&["verify"]),
        sb.jit_m(&["verify", "--json"]),
    ];
    // Stale copies of every value in the environment: verify compares, never prints.
    let mut stale = sb.command(BIN);
    stale.args(["--manifest", "manifest.toml", "verify", "--json"]);
    for name in all.values.keys() {
        stale.env(name, "canary-stale-9f2c41");
    }
    outputs.push(stale.output().unwrap());
    // An error path whose child echoes values to stderr: scrubbed.
    let leaky = sb.write_executable(
        "leaky.sh",
        "#!/bin/sh\necho \"failed with $SRC_0 and $SRC_1\" >&2\nexit 1\n",
    );
    let manifest = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    let broken = manifest.replace(
        "[secrets.options]",
        &format!("LEAKY = \"cmd:{}\"\n[secrets.options]", leaky.display()),
    );
    sb.write("broken.toml", &broken);
    for args in [
        &["activate", "--shell", "bash"][..],
        &["verify"],
        &["verify", "--json"],
        &["run", "--", "true"],
    ] {
        let mut full = vec!["--manifest", "broken.toml"];
        full.extend_from_slice(args);
        let out = sb.jit(&full);
        assert_code(&out, 1);
        assert!(
            stderr(&out).contains("<redacted>") || stdout(&out).contains("<redacted>"),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        outputs.push(out);
    }
    for out in &outputs {
        assert!(
            !has_canary(&out.stdout) && !has_canary(&out.stderr),
            "a canary leaked:\n{}\n{}",
            stdout(out),
            stderr(out)
        );
    }

    // (c) no canary on any child's argv.
    for log in &all.argv_logs {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(!text.is_empty(), "{} recorded nothing", log.display());
        assert!(
            !has_canary(text.as_bytes()),
            "a value on argv in {}:\n{text}",
            log.display()
        );
    }
}

#[test]
fn two_hundred_secrets_resolve_identically_at_any_concurrency_and_in_parallel_runs() {
    let all = all_stores(12); // 18 stores × 12 = 216 secrets
    let sb = &all.sb;
    assert!(all.values.len() >= 200);
    let manifest = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    let mut outputs = Vec::new();
    for concurrency in [1, 64] {
        let text = manifest.replace(
            "[secrets.options]\n",
            &format!("[secrets.options]\nconcurrency = {concurrency}\n"),
        );
        sb.write(&format!("c{concurrency}.toml"), text);
        let out = sb.jit(&[
            "--manifest",
            &format!("c{concurrency}.toml"),
            "activate",
            "--shell",
            "bash",
        ]);
        assert_code(&out, 0);
        // The exports: the record around them names each manifest.
        outputs.push(posix_exports(&out.stdout));
    }
    assert_eq!(outputs[0], outputs[1], "concurrency 1 and 64 differ");
    let exported = String::from_utf8(outputs[0].clone()).unwrap();
    for (name, value) in &all.values {
        assert!(
            exported.contains(&format!("export {name}='{value}'\n")),
            "{name}"
        );
    }
    // Two activations at once.
    let spawn = || {
        sb.command(BIN)
            .args(["--manifest", "c64.toml", "activate", "--shell", "bash"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_code(&a, 0);
    assert_code(&b, 0);
    assert_eq!(posix_exports(&a.stdout), outputs[0]);
    assert_eq!(posix_exports(&b.stdout), outputs[0]);
}
