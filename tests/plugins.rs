//! `plugin:NAME/KEY`: the two example plugins in examples/plugins, run for real — the POSIX sh one
//! (envref's protocol, one key per run, also under envref's name `envref-backend-dir`) and the
//! python one that speaks our `get_many` extension (all keys in one run) — through activate, set,
//! rotate and delete; and what a broken plugin gets told.

mod support;
use std::process::Output;
use support::*;

const HOSTILE: &str = "it's $(touch pwned) `x` \\ \"q\"\nline 2 ✓";

fn examples() -> std::path::PathBuf {
    repo_root().join("examples/plugins")
}

/// Puts `program` (a copy of the example `example`) behind a logging wrapper on the sandbox's
/// PATH: the wrapper records each request's operation and keys (never a value) and passes the
/// request on.
fn install(sb: &mut Sandbox, example: &str, program: &str) -> std::path::PathBuf {
    let bin = sb.path().join("plugins");
    let log = sb.path().join(format!("{program}.log"));
    sb.write_executable(
        &format!("plugins/{program}"),
        format!(
            r#"#!/usr/bin/env python3
import json, subprocess, sys
raw = sys.stdin.buffer.read()
request = json.loads(raw)
with open({log:?}, "a") as f:
    f.write(json.dumps({{"operation": request.get("operation"), "key": request.get("key"), "keys": request.get("keys")}}) + "\n")
sys.exit(subprocess.run([{real:?}], input=raw).returncode)
"#,
            log = log.display().to_string(),
            real = examples().join(example).display().to_string(),
        ),
    );
    let path = sb.env["PATH"].clone();
    let mut joined = std::ffi::OsString::from(bin.as_os_str());
    joined.push(":");
    joined.push(path);
    sb.set_env("PATH", joined);
    log
}

fn requests(log: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn operations(log: &std::path::Path) -> Vec<String> {
    requests(log)
        .iter()
        .map(|r| r["operation"].as_str().unwrap().to_string())
        .collect()
}

fn set(sb: &Sandbox, name: &str, value: &[u8]) -> Output {
    set_on_stdin(sb, &[name], value)
}

fn exports(out: &Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_sh_plugin_is_driven_one_key_per_run_and_writes_through_stdin() {
    let mut sb = Sandbox::new();
    let store = sb.path().join("plugin-store");
    sb.set_env("JIT_PLUGIN_DIR", &store);
    let log = install(&mut sb, "jit-secrets-plugin-dir", "jit-secrets-plugin-dir");
    sb.manifest(
        "[secrets]\nDB = \"plugin:dir/app/db\"\nAPI = \"plugin:dir/api\"\nFALLBACK = { from = [\"plugin:dir/nope\", \"env:FALLBACK_SOURCE\"] }\n",
    );
    sb.set_env("FALLBACK_SOURCE", "from-env");
    assert_code(&set(&sb, "DB", HOSTILE.as_bytes()), 0);
    assert_code(&set(&sb, "API", b"api-1f2e"), 0);
    std::fs::remove_file(&log).unwrap();
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["DB"], HOSTILE);
    assert_eq!(v["API"], "api-1f2e");
    assert_eq!(v["FALLBACK"], "from-env", "`not found` moves the chain on");
    // It does not list get_many: asked once, then one `get` per key.
    let mut ops = operations(&log);
    ops.sort();
    assert_eq!(ops, ["capabilities", "get", "get", "get"]);
    // The value reached the plugin's store exactly (via stdin, in the JSON request).
    let stored: Vec<_> = std::fs::read_dir(&store).unwrap().collect();
    assert_eq!(stored.len(), 2);
    // Rotate and delete go through `set` and `delete`.
    assert_code(&sb.jit_m(&["rotate", "API", "--length", "20", "--yes"]), 0);
    assert_eq!(
        exports(&sb.jit_m(&["activate", "--shell", "json"]))["API"]
            .as_str()
            .unwrap()
            .len(),
        20
    );
    let out = sb.jit_m(&["delete", "API", "--yes"]);
    assert_code(&out, 0);
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("API: not found in plugin:dir/api"),
        "{}",
        stderr(&out)
    );
    assert!(requests(&log)
        .iter()
        .any(|r| r["operation"] == "delete" && r["key"] == "api"));
}

#[test]
fn envref_plugins_work_unchanged_under_their_own_name() {
    let mut sb = Sandbox::new();
    sb.set_env("JIT_PLUGIN_DIR", sb.path().join("plugin-store"));
    let log = install(&mut sb, "jit-secrets-plugin-dir", "envref-backend-dir");
    sb.manifest("[secrets]\nA = \"plugin:dir/a\"\nB = \"plugin:dir/b\"\n");
    assert_code(&set(&sb, "A", b"value-a"), 0);
    assert_code(&set(&sb, "B", b"value-b"), 0);
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(
        (v["A"].as_str(), v["B"].as_str()),
        (Some("value-a"), Some("value-b"))
    );
    assert!(
        !operations(&log).contains(&"capabilities".to_string()),
        "an envref plugin is never asked our extension: {:?}",
        operations(&log)
    );
}

#[test]
fn a_plugin_that_speaks_get_many_answers_every_key_in_one_run() {
    let mut sb = Sandbox::new();
    let file = sb.write(
        "plugin-secrets.json",
        serde_json::json!({"a": HOSTILE, "b": "value-b", "c": "value-c", "d": "value-d"})
            .to_string(),
    );
    sb.set_env("JIT_PLUGIN_JSON_FILE", &file);
    let log = install(
        &mut sb,
        "jit-secrets-plugin-json",
        "jit-secrets-plugin-json",
    );
    sb.manifest(
        "[secrets]\nA = \"plugin:json/a\"\nB = \"plugin:json/b\"\nC = \"plugin:json/c\"\nD = { from = [\"plugin:json/missing\", \"plugin:json/d\"] }\nGONE = { from = \"plugin:json/gone\", required = false }\n",
    );
    let v = exports(&sb.jit_m(&["activate", "--shell", "json"]));
    assert_eq!(v["A"], HOSTILE);
    assert_eq!(v["B"], "value-b");
    assert_eq!(v["D"], "value-d");
    assert!(v.get("GONE").is_none());
    let reqs = requests(&log);
    assert_eq!(reqs[0]["operation"], "capabilities");
    assert_eq!(reqs[1]["operation"], "get_many");
    let mut keys: Vec<&str> = reqs[1]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["a", "b", "c", "gone", "missing"],
        "one run for every first step"
    );
    // `d` is a fallback, asked only after `missing` was missing: one more run.
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(reqs[2]["operation"], "get");
    assert_eq!(reqs[2]["key"], "d");
}

#[test]
fn a_broken_plugin_is_a_clear_error_naming_it() {
    let mut sb = Sandbox::new();
    let bin = sb.path().join("broken");
    for (name, body) in [
        (
            "jit-secrets-plugin-badjson",
            "cat >/dev/null; echo 'not json'",
        ),
        ("jit-secrets-plugin-array", "cat >/dev/null; echo '[1]'"),
        (
            "jit-secrets-plugin-err",
            "cat >/dev/null; echo '{\"error\": \"permission denied for this key\"}'",
        ),
        ("jit-secrets-plugin-neither", "cat >/dev/null; echo '{}'"),
    ] {
        sb.write_executable(&format!("broken/{name}"), format!("#!/bin/sh\n{body}\n"));
    }
    let mut path = std::ffi::OsString::from(bin.as_os_str());
    path.push(":");
    path.push(&sb.env["PATH"]);
    sb.set_env("PATH", path);
    for (plugin, needle) in [
        ("badjson", "not the JSON expected"),
        ("array", "answered with JSON that is not an object"),
        ("err", "permission denied for this key"),
        ("neither", "neither `value` nor `error`"),
        (
            "absent",
            "neither jit-secrets-plugin-absent nor envref-backend-absent is on PATH",
        ),
    ] {
        sb.manifest(&format!("[secrets]\nS = \"plugin:{plugin}/k\"\n"));
        let out = sb.jit_m(&["activate", "--shell", "bash"]);
        assert_fails_with(&out, &[needle, "fix:"]);
    }
}

#[test]
fn an_unallowed_manifest_runs_no_plugin_and_allow_names_the_plugins_it_will_run() {
    let mut sb = Sandbox::requiring_trust();
    sb.set_env("JIT_PLUGIN_DIR", sb.path().join("plugin-store"));
    let log = install(&mut sb, "jit-secrets-plugin-dir", "jit-secrets-plugin-dir");
    let manifest = sb.manifest("[secrets]\nDB = \"plugin:dir/db\"\nKP = \"keepassxc:x.kdbx#e\"\n[secrets.options]\nkeepassxc = { password_from = \"plugin:dir/kdbx\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "false\n");
    assert!(
        !log.exists(),
        "a plugin ran for an unallowed manifest: {:?}",
        operations(&log)
    );
    let out = sb.jit(&["allow", manifest.to_str().unwrap()]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    assert!(
        shown.contains(&format!(
            "DB: ask the plugin {}/plugins/jit-secrets-plugin-dir for plugin:dir/db",
            sb.path().display()
        )),
        "the plugin's executable, resolved: {shown}"
    );
    assert!(
        shown.contains("unlock KeePassXC databases with the password from ask the plugin ")
            && shown.contains("for plugin:dir/kdbx"),
        "{shown}"
    );
    // The plugin PATH finds lies in the manifest's repository (its directory, no `.git` above):
    // hashed as the repository's code, so an edit to it is refused before it runs.
    let plugin = sb.path().join("plugins/jit-secrets-plugin-dir");
    assert!(
        shown
            .lines()
            .any(|l| l == format!("    {}", plugin.display())),
        "the plugin's executable is hashed: {shown}"
    );
    sb.write_executable(
        "plugins/jit-secrets-plugin-dir",
        "#!/bin/sh
touch edited-plugin-ran
",
    );
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "false\n");
    assert!(
        stderr(&out).contains("plugins/jit-secrets-plugin-dir"),
        "{}",
        stderr(&out)
    );
    assert!(
        !sb.path().join("edited-plugin-ran").exists(),
        "the edited plugin ran"
    );
}
