//! `run --mask`: the command's output streams through with every value replaced by <NAME>.

mod support;
use support::*;

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set_env("SRC_TOKEN", "tok-3f9a-secret");
    sb.set_env("SRC_LONG", "tok-3f9a-secret-and-more");
    sb.set_env("SRC_BIG", "B".repeat(100 * 1024) + "-end");
    sb.manifest(
        "[secrets]\nTOKEN = \"env:SRC_TOKEN\"\nLONG = \"env:SRC_LONG\"\nBIG = \"env:SRC_BIG\"\n",
    );
    sb
}

#[test]
fn values_in_stdout_and_stderr_are_masked_even_when_split_across_writes() {
    let sb = sandbox();
    // The token is written in two pieces with a pause between, so it arrives in two reads.
    let script = r#"printf 'a %s b\n' "$TOKEN"; printf 'split tok-3f9a'; sleep 0.3; printf -- '-secret done\n'; printf 'err %s\n' "$LONG" >&2; printf '%s|' "$BIG"; exit 7"#;
    let out = sb.jit_m(&["run", "--mask", "--", "bash", "-c", script]);
    assert_code(&out, 7);
    let o = stdout(&out);
    assert!(
        o.starts_with("a <TOKEN> b\nsplit <TOKEN> done\n<BIG>|"),
        "{}",
        &o[..o.len().min(300)]
    );
    assert_eq!(
        stderr(&out),
        "err <LONG>\n",
        "the longer, overlapping value wins"
    );
    assert!(!o.contains("tok-3f9a") && !o.contains("BBBB"));
}

#[test]
fn off_by_default_and_signals_become_128_plus_n() {
    let sb = sandbox();
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$TOKEN\""]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "tok-3f9a-secret",
        "without --mask the command's output is its own"
    );
    let out = sb.jit_m(&["run", "--mask", "--", "sh", "-c", "kill -TERM $$"]);
    assert_code(&out, 128 + 15);
    let out = sb.jit_m(&["run", "--mask", "--", "no-such-command-jit"]);
    assert_code(&out, 127);
}

#[test]
fn on_a_terminal_values_are_masked_by_default_and_no_mask_turns_it_off() {
    let sb = sandbox();
    // stdin and stderr on a pseudo-terminal, stdout on a pipe: stderr reaches a person.
    let script = "printf 'out %s\\n' \"$TOKEN\"; printf 'err %s\\n' \"$TOKEN\" >&2";
    let shown = on_a_terminal(
        &sb,
        serde_json::json!([]),
        &["run", "--", "sh", "-c", script],
    );
    assert_eq!(shown["status"], 0, "{shown}");
    assert_eq!(shown["stdout"], "out <TOKEN>\n", "{shown}");
    let terminal = shown["terminal"].as_str().unwrap();
    assert!(terminal.contains("err <TOKEN>"), "{terminal}");
    assert!(!terminal.contains("tok-3f9a"), "{terminal}");

    let shown = on_a_terminal(
        &sb,
        serde_json::json!([]),
        &["run", "--no-mask", "--", "sh", "-c", script],
    );
    assert_eq!(shown["status"], 0, "{shown}");
    assert_eq!(shown["stdout"], "out tok-3f9a-secret\n", "{shown}");

    // Off a terminal, the output is the command's own unless --mask; both flags at once are
    // a usage error.
    let out = sb.jit_m(&["run", "--", "sh", "-c", script]);
    assert_eq!(stdout(&out), "out tok-3f9a-secret\n");
    let out = sb.jit_m(&["run", "--mask", "--no-mask", "--", "true"]);
    assert_code(&out, 2);
}

/// Masking also fetches the values scoped to other commands, which the command may start
/// through their proxies — but never with a prompt: a locked key is a warning, not a pinentry.
#[test]
fn values_scoped_to_other_commands_are_masked_and_never_prompted_for() {
    let mut sb = Sandbox::new();
    let pass = support::stores::PassStore::with_passphrase(&mut sb, "test-key-passphrase");
    pass.insert("app/gh", b"locked-gh-value-77");
    let run = sb.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    sb.set_env("XDG_RUNTIME_DIR", &run);
    sb.set_env("SRC_TOKEN", "tok-3f9a-secret");
    sb.write_executable("bin/gh", "#!/bin/sh\necho gh\n");
    let path = std::env::join_paths(
        std::iter::once(sb.path().join("bin")).chain(std::env::split_paths(&sb.env["PATH"])),
    )
    .unwrap();
    sb.set_env("PATH", path);
    // Each `pass` call logs the gpg options it runs with, then runs the real one.
    let calls = sb.path().join("pass-calls");
    let real = require("pass");
    let wrapper = sb.write_executable(
        "pass-wrapper",
        format!(
            "#!/bin/sh\necho \"$* | $PASSWORD_STORE_GPG_OPTS\" >> '{}'\nexec '{}' \"$@\"\n",
            calls.display(),
            real.display()
        ),
    );
    sb.manifest(&format!(
        "[secrets]\nTOKEN = \"env:SRC_TOKEN\"\nGH_TOKEN = {{ from = \"pass:app/gh\", only = [\"gh\"] }}\n[secrets.options]\ncommands = {{ pass = \"{}\" }}\n",
        wrapper.display()
    ));
    let shown = on_a_terminal(
        &sb,
        serde_json::json!([]),
        &["run", "--", "sh", "-c", "printf 'out %s\\n' \"$TOKEN\""],
    );
    assert_eq!(shown["status"], 0, "{shown}");
    assert_eq!(shown["stdout"], "out <TOKEN>\n", "{shown}");
    let terminal = shown["terminal"].as_str().unwrap();
    assert!(
        terminal.contains("GH_TOKEN (scoped to gh) could not be fetched without a prompt"),
        "{terminal}"
    );
    assert!(
        !terminal.to_lowercase().contains("passphrase:"),
        "{terminal}"
    );
    let logged = std::fs::read_to_string(&calls).unwrap();
    assert!(
        logged.contains("app/gh | ") && logged.contains("--pinentry-mode error"),
        "gpg was allowed to ask: {logged}"
    );

    // Unlocked, it is masked in what the command (here: `sh`) prints.
    pass.unlock("app/gh", "test-key-passphrase");
    let out = sb.jit_m(&["run", "--mask", "--", "sh", "-c", "pass show app/gh"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "<GH_TOKEN>");
}
