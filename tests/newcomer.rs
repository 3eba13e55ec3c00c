//! A newcomer's mistakes: a usage error still fails the evaluating shell, a closed pipe ends a
//! command quietly, and every error names the fix.

mod support;
use std::process::{Command, Stdio};
use support::*;

/// How each shell evaluates `activate ARGS` as its hook does, stopping on failure, then says
/// "went on" if it did not stop: (program, args).
fn evaluation(shell: &str, activate: &str) -> (String, Vec<String>) {
    let (program, script): (&str, String) = match shell {
        "bash" => (
            "bash",
            format!("set -e; eval \"$({activate})\"; echo went on"),
        ),
        "bash-source" => (
            "bash",
            format!("set -e; source <({activate}); echo went on"),
        ),
        "zsh" => (
            "zsh",
            format!("set -e; eval \"$({activate})\"; echo went on"),
        ),
        "sh" => (
            "dash",
            format!("set -e; eval \"$({activate})\"; echo went on"),
        ),
        "fish" => (
            "fish",
            format!("{activate} | source; or exit 1; echo went on"),
        ),
        // tcsh's `set -e` is `tcsh -e`.
        "tcsh" => ("tcsh", format!("eval \"`{activate}`\"; echo went on")),
        // nushell runs a quoted path as a program only with `^`.
        "nu" => (
            "nu",
            format!("^{activate} | from json | load-env; print 'went on'"),
        ),
        "elvish" => ("elvish", format!("eval ({activate} | slurp); echo went on")),
        other => panic!("{other}"),
    };
    let mut args: Vec<String> = match program {
        "bash" => vec!["--norc".into()],
        "zsh" => vec!["-f".into()],
        "fish" => vec!["--no-config".into()],
        "tcsh" => vec!["-e".into(), "-f".into()],
        "nu" => vec!["--no-config-file".into()],
        "elvish" => vec!["-norc".into()],
        _ => vec![],
    };
    args.push("-c".into());
    args.push(script);
    (program.to_string(), args)
}

/// A typo in `activate`'s arguments (an unknown flag, or a shell we do not know) must make the
/// shell's evaluation fail, under `set -e` or its equivalent, in every shell: before, clap's
/// error left stdout empty, `eval ""` succeeded and the hook reported success with nothing loaded.
#[test]
fn a_usage_error_of_activate_fails_the_evaluation_in_every_shell() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nV = \"env:HOME\"\n");
    let bin = BIN;
    let m = sb.path().join("manifest.toml");
    let m = m.display();
    for (shell, typo) in [
        (
            "bash",
            format!("'{bin}' -m '{m}' activate --shell bash --bogus"),
        ),
        (
            "bash-source",
            format!("'{bin}' -m '{m}' activate --shel bash"),
        ),
        (
            "zsh",
            format!("'{bin}' -m '{m}' activate --shell zsh --bogus"),
        ),
        (
            "sh",
            format!("'{bin}' -m '{m}' activate --shell posix --bogus"),
        ),
        (
            "fish",
            format!("'{bin}' -m '{m}' activate --shell fish --bogus"),
        ),
        (
            "tcsh",
            format!("'{bin}' -m '{m}' activate --shell tcsh --bogus"),
        ),
        (
            "nu",
            format!("'{bin}' -m '{m}' activate --shell nu --bogus"),
        ),
        (
            "elvish",
            format!("'{bin}' -m '{m}' activate --shell elvish --bogus"),
        ),
    ]
    .into_iter()
    .chain(
        // A shell name we do not know: the one statement that fails in all of them.
        ["bash", "zsh", "sh", "fish", "tcsh", "nu", "elvish"]
            .into_iter()
            .map(|s| (s, format!("'{bin}' -m '{m}' activate --shell cmd.exe"))),
    ) {
        let (program, args) = evaluation(shell, &typo);
        let out = sb.command(require(&program)).args(&args).output().unwrap();
        assert_ne!(
            out.status.code(),
            Some(0),
            "{shell}: {typo}\n{}",
            stderr(&out)
        );
        assert!(
            !stdout(&out).contains("went on"),
            "{shell} went on after: {typo}"
        );
        assert!(stderr(&out).contains("error:"), "{shell}: {}", stderr(&out));
    }
    // The statement and the status, exactly.
    let out = sb.jit_m(&["activate", "--shell", "fish", "--bogus"]);
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "false\n");
    assert!(
        stderr(&out).starts_with("jit-secrets: error: unexpected argument '--bogus'"),
        "{}",
        stderr(&out)
    );
    // The names a newcomer guesses first are POSIX.
    for guess in ["sh", "dash", "ash", "ksh", "mksh"] {
        let out = sb.jit_m(&["activate", "--shell", guess]);
        assert_code(&out, 0);
        assert!(
            exports(&out).starts_with("export V='"),
            "{guess}: {}",
            stdout(&out)
        );
    }
    // Help is not an error.
    let out = sb.jit(&["activate", "--help"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("Examples:"));
}

/// Every command that prints, with its stdout already closed: it ends quietly (no message, no
/// panic) with 141, what a program killed by SIGPIPE reports.
#[test]
fn a_closed_stdout_ends_every_printing_command_quietly() {
    let sb = Sandbox::new();
    let mut m = String::from("[secrets]\n");
    for i in 0..300 {
        m.push_str(&format!(
            "VALUE_{i} = {{ from = \"env:HOME\", description = \"entry {i}\" }}\n"
        ));
    }
    sb.manifest(&m);
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["activate", "--shell", "bash"],
        &["activate", "--shell", "json"],
        &["verify"],
        &["allow"],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["man"],
        &["hook", "flox"],
        &["--help"],
        &["activate", "--help"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = sb
            .command(BIN)
            .arg("--manifest")
            .arg(sb.path().join("manifest.toml"))
            .args(args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}: quiet");
    }
}

fn jit_in(sb: &Sandbox, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    sb.command(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Each mistake a newcomer makes gets an error that says what is wrong and what to do, and the
/// exit code the README's table gives it.
#[test]
fn errors_name_the_fix() {
    let sb = Sandbox::new();
    let empty = sb.path().join("empty");
    std::fs::create_dir_all(empty.join(".git")).unwrap();
    // No manifest: how to make one.
    let out = jit_in(&sb, &empty, &["list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("run `jit-secrets init`"),
        "{}",
        stderr(&out)
    );
    // --manifest names nothing: that, not "pass --manifest".
    let out = sb.jit(&["--manifest", "/nope/manifest.toml", "list"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("/nope/manifest.toml: no such file or directory (named by --manifest)"),
        "{err}"
    );
    assert!(!err.contains("pass --manifest"), "{err}");
    // --manifest DIR: the manifest in it.
    sb.write("proj/manifest.toml", "[secrets]\nA = \"env:HOME\"\n");
    let out = sb.jit(&[
        "--manifest",
        sb.path().join("proj").to_str().unwrap(),
        "list",
    ]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("A "), "{}", stdout(&out));
    sb.write(
        "flox/.flox/env/manifest.toml",
        "version = 1\n[install]\n[plugins.jit-secrets]\nB = \"env:HOME\"\n",
    );
    let out = sb.jit(&[
        "--manifest",
        sb.path().join("flox").to_str().unwrap(),
        "list",
    ]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("B "), "{}", stdout(&out));
    // A lower-case name: the upper-case one to use.
    sb.manifest("[secrets]\napi_key = \"env:HOME\"\n");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(":2:1: `api_key`: names are upper-case: use API_KEY"),
        "{}",
        stderr(&out)
    );
    let out = sb.jit_m(&["add", "db_url", "env:HOME"]);
    assert_code(&out, 2);
    // A scheme one typo away.
    sb.manifest("[secrets]\nA = \"op:/Vault/item/field\"\n");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("did you mean `op://Vault/item/field`?"),
        "{}",
        stderr(&out)
    );
    // A duplicate key, named.
    sb.manifest("[secrets]\nA = \"env:HOME\"\nA = \"env:PATH\"\n");
    let out = sb.jit_m(&["list"]);
    assert!(
        stderr(&out).contains(":3:1: duplicate key `A`"),
        "{}",
        stderr(&out)
    );
    // --only with a name the manifest does not have, in every command that takes it.
    sb.manifest("[secrets]\nA = \"env:HOME\"\n");
    for command in ["setup", "verify"] {
        let out = sb.jit_m(&[command, "--only", "NOPE"]);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("--only NOPE: no such secret"),
            "{command}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("known: A"), "{}", stderr(&out));
    }
    // add: an entry that would make the manifest invalid cites no line of a file not written.
    let out = sb.jit_m(&["add", "PATH", "env:HOME"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("nothing written") && err.contains("allow_dangerous_name"),
        "{err}"
    );
    assert!(
        !err.contains("manifest.toml:2") && !err.contains("manifest.toml:3"),
        "no path:line:column for unwritten text: {err}"
    );
}

#[test]
fn help_groups_commands_as_a_user_meets_them_and_shows_global_options_once() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_code(&out, 0);
    let help = stdout(&out);
    let at = |s: &str| {
        help.find(s)
            .unwrap_or_else(|| panic!("no {s:?} in\n{help}"))
    };
    assert!(at("Set up:") < at("  init ") && at("  init ") < at("Use:"));
    assert!(at("Use:") < at("  activate ") && at("  activate ") < at("Maintain:"));
    assert!(at("Maintain:") < at("  verify ") && at("  man ") > at("More:"));
    assert_eq!(help.matches("--manifest <PATH>").count(), 1, "{help}");
    let sub = stdout(
        &Command::new(BIN)
            .args(["verify", "--help"])
            .output()
            .unwrap(),
    );
    assert!(
        !sub.contains("--manifest <PATH>"),
        "global options repeated:\n{sub}"
    );
    assert!(sub.contains("Global options (--manifest"), "{sub}");
    assert!(sub.contains("Examples:"), "{sub}");
    let man = stdout(&Command::new(BIN).arg("man").output().unwrap());
    assert!(
        !man.contains("(1)"),
        "the man page cites pages that do not exist"
    );
    assert!(
        man.contains("\\-\\-manifest"),
        "the man page lists the global options"
    );
}

/// A value pasted where its reference belongs (`add NAME VALUE`, `NAME = "VALUE"` in the
/// manifest) is refused without being printed back: the terminal, a CI log or a screen share
/// would show it. (Failed before: "sk-…: `sk-…` has no scheme" printed it twice.)
#[test]
fn a_value_given_as_a_reference_is_refused_without_being_echoed() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\n");
    let pasted = "sk-live-4f7e1c0ffee9";
    let out = sb.jit_m(&["add", "API_KEY", pasted]);
    assert_code(&out, 2);
    let said = stderr(&out);
    assert!(
        said.contains("API_KEY: the reference has no scheme"),
        "{said}"
    );
    assert!(said.contains("jit-secrets set NAME"), "{said}");
    assert!(!said.contains(pasted), "the value was printed back: {said}");
    assert!(!std::fs::read_to_string(sb.path().join("manifest.toml"))
        .unwrap()
        .contains(pasted));
    sb.manifest(&format!("[secrets]\nAPI_KEY = \"{pasted}\"\n"));
    for args in [&["list"][..], &["activate", "--shell", "bash"]] {
        let out = sb.jit_m(args);
        assert_code(&out, 2);
        assert!(
            !stderr(&out).contains(pasted) && !stdout(&out).contains(pasted),
            "{args:?} printed the value back: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("has no scheme"), "{}", stderr(&out));
    }
}

/// A directory's name comes from whoever made the repository: printed escaped, never as raw
/// control bytes that could clear the screen, retitle the window or fake a line. (Failed
/// before: the load-on-cd refusal, `list`'s header and `add`'s confirmation printed it raw.)
#[test]
fn a_directorys_control_bytes_are_never_printed_raw() {
    let sb = Sandbox::requiring_trust();
    let name = "e\u{1b}]0;TITLE\u{7}\u{1b}[2J\rfake";
    let dir = sb.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("manifest.toml"), "[secrets]\nFOO = \"env:X\"\n").unwrap();
    let m = dir.join("manifest.toml");
    let m = m.to_str().unwrap();
    let runs = [
        sb.jit(&["--manifest", m, "activate", "--shell", "bash", "--auto"]),
        sb.jit(&["--manifest", m, "list"]),
        sb.jit(&["--manifest", m, "allow"]),
        sb.jit(&["--manifest", m, "add", "BAR", "env:Y"]),
    ];
    // (activate's stdout is shell code: the refused path is a quoted shell word there, data the
    // shell keeps, never shown.)
    for (i, out) in runs.iter().enumerate() {
        let streams = if i == 0 {
            vec![&out.stderr]
        } else {
            vec![&out.stdout, &out.stderr]
        };
        for stream in streams {
            assert!(
                !stream.iter().any(|&b| b == 0x1b || b == 0x07 || b == b'\r'),
                "raw control bytes: {:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }
    assert!(String::from_utf8_lossy(&runs[0].stderr).contains("is not allowed"));
    assert!(String::from_utf8_lossy(&runs[3].stderr).contains("added BAR"));
}
