//! `activate`'s output evaluated by the real bash, zsh, fish, dash, tcsh, nushell and elvish,
//! byte for byte.

mod support;
use support::*;

/// Writes each hostile value to a file and declares it as `file:` with `trim = false`, so the
/// bytes reach the renderer untouched.
fn hostile_manifest(sb: &Sandbox) -> Vec<(&'static str, Vec<u8>)> {
    manifest_without(sb, |_| false)
}

/// A program that prints the named variables from its environment, each followed by NUL:
/// proves the shell exported them and kept every byte.
const DUMP: &str = "import os,sys; sys.stdout.buffer.write(b''.join(os.environb.get(n.encode(), b'<unset>') + b'\\0' for n in sys.argv[1:]))";

fn eval_in(sb: &Sandbox, shell: &str, script: &str, names: &[&str]) -> Vec<u8> {
    let full = format!("{script}\npython3 -c \"$DUMP\" {}", names.join(" "));
    let out = sb
        .command(require(shell))
        .arg("-c")
        .arg(&full)
        .env("JIT", BIN)
        .env("DUMP", DUMP)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    out.stdout
}

fn expected(values: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut e = Vec::new();
    for (_, v) in values {
        e.extend_from_slice(v);
        e.push(0);
    }
    e
}

fn check_round_trip(shell: &str, flag: &str, script: &str) {
    let sb = Sandbox::new();
    let values = hostile_manifest(&sb);
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let got = eval_in(&sb, shell, &script.replace("SHELLFLAG", flag), &names);
    let want = expected(&values);
    if got != want {
        // Say which value broke, not just that the blobs differ.
        let parts: Vec<&[u8]> = got.split(|&b| b == 0).collect();
        for (i, (name, v)) in values.iter().enumerate() {
            assert_eq!(
                parts.get(i).copied(),
                Some(v.as_slice()),
                "{shell}: {name} did not round-trip"
            );
        }
        panic!("{shell}: output differs");
    }
    assert!(
        !std::path::Path::new("/tmp/pwned").exists(),
        "a value was executed"
    );
}

#[test]
fn bash_eval_round_trips_hostile_values() {
    check_round_trip(
        "bash",
        "bash",
        r#"eval "$("$JIT" --manifest "$M" activate --shell SHELLFLAG)""#,
    );
}

#[test]
fn bash_source_process_substitution_round_trips() {
    check_round_trip(
        "bash",
        "bash",
        r#"source <("$JIT" --manifest "$M" activate --shell SHELLFLAG)"#,
    );
}

#[test]
fn zsh_round_trips_hostile_values() {
    check_round_trip(
        "zsh",
        "zsh",
        r#"eval "$("$JIT" --manifest "$M" activate --shell SHELLFLAG)""#,
    );
}

#[test]
fn zsh_with_rc_quotes_and_ksh_arrays_round_trips() {
    check_round_trip("zsh", "zsh", "setopt RC_QUOTES KSH_ARRAYS SH_WORD_SPLIT\nsource <(\"$JIT\" --manifest \"$M\" activate --shell SHELLFLAG)");
}

#[test]
fn dash_round_trips_hostile_values() {
    check_round_trip(
        "dash",
        "posix",
        r#"eval "$("$JIT" --manifest "$M" activate --shell SHELLFLAG)""#,
    );
}

#[test]
fn fish_pipe_to_source_round_trips_hostile_values() {
    check_round_trip(
        "fish",
        "fish",
        r#""$JIT" --manifest "$M" activate --shell SHELLFLAG | source"#,
    );
}

#[test]
fn posix_output_is_exact_in_fish_too_for_single_line_values() {
    // The POSIX renderer never puts a backslash inside single quotes, so fish (which reads `\'`
    // and `\\` there as escapes) splits it into the same words, through its `export` function.
    let sb = Sandbox::new();
    sb.write("v", b"ends with \\");
    sb.write("w", b"'starts with a quote; $(x) `y`");
    sb.manifest("[secrets]\nV = { from = \"file:v\", trim = false }\nW = \"file:w\"\n");
    let out = sb
        .command(require("fish"))
        .arg("-c")
        .arg("\"$JIT\" --manifest \"$M\" activate --shell posix | source; printf '%s|%s' \"$V\" \"$W\"")
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "ends with \\|'starts with a quote; $(x) `y`");
}

#[test]
fn json_output_parses_to_the_exact_values() {
    let sb = Sandbox::new();
    let values: Vec<_> = hostile_values()
        .into_iter()
        .filter(|(n, _)| *n != "BIG")
        .collect();
    let mut m = String::from("[secrets]\n");
    for (name, value) in &values {
        sb.write(&format!("values/{name}"), value);
        m.push_str(&format!(
            "{name} = {{ from = \"file:values/{name}\", trim = false }}\n"
        ));
    }
    sb.manifest(&m);
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, value) in &values {
        assert_eq!(
            parsed[name].as_str().unwrap().as_bytes(),
            value.as_slice(),
            "{name}"
        );
    }
}

#[test]
fn non_utf8_values_round_trip_in_shells_and_are_refused_by_json() {
    let sb = Sandbox::new();
    let value = b"caf\xe9 \xff\xfe end".to_vec();
    sb.write("v", &value);
    sb.manifest("[secrets]\nRAW = { from = \"file:v\" }\n");
    for (shell, script) in [
        (
            "bash",
            r#"eval "$("$JIT" --manifest "$M" activate --shell bash)""#,
        ),
        (
            "zsh",
            r#"eval "$("$JIT" --manifest "$M" activate --shell zsh)""#,
        ),
        (
            "dash",
            r#"eval "$("$JIT" --manifest "$M" activate --shell posix)""#,
        ),
        (
            "fish",
            r#""$JIT" --manifest "$M" activate --shell fish | source"#,
        ),
    ] {
        let got = eval_in(&sb, shell, script, &["RAW"]);
        assert_eq!(got, [value.as_slice(), b"\0"].concat(), "{shell}");
    }
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("RAW") && stderr(&out).contains("UTF-8"),
        "{}",
        stderr(&out)
    );
    assert!(!out.stdout.contains(&b'{'), "no partial JSON on failure");
}

// ---------------------------------------------------------------- default shell

fn detect_manifest(sb: &Sandbox) {
    sb.write("v", b"back\\slash'quote");
    sb.manifest("[secrets]\nV = \"file:v\"\n");
}

#[test]
fn default_shell_is_the_parent_bash_even_for_a_fish_user() {
    // Flox runs `on-activate` in bash whatever the user's shell: the output must be bash.
    let sb = Sandbox::new();
    detect_manifest(&sb);
    let out = sb
        .command("bash")
        .arg("-c")
        .arg(r#"eval "$("$JIT" --manifest "$M" activate)"; printf '%s' "$V""#)
        .env("SHELL", require("fish"))
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(out.stdout, b"back\\slash'quote");
}

#[test]
fn default_shell_is_fish_when_fish_sources_the_output() {
    let sb = Sandbox::new();
    detect_manifest(&sb);
    let out = sb
        .command(require("fish"))
        .arg("-c")
        .arg(r#""$JIT" --manifest "$M" activate | source; printf '%s' "$V""#)
        .env("SHELL", "/bin/bash")
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(out.stdout, b"back\\slash'quote");
}

#[test]
fn default_shell_never_comes_from_dollar_shell() {
    let sb = Sandbox::new();
    detect_manifest(&sb);
    // Parent is python (not a shell): POSIX code and a warning, whatever $SHELL says.
    let run = |shell_env: &str| {
        sb.command("python3")
            .args(["-c", "import subprocess,sys; r = subprocess.run(sys.argv[1:], capture_output=True); sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr)", BIN, "--manifest"])
            .arg(sb.path().join("manifest.toml"))
            .arg("activate")
            .env("SHELL", shell_env)
            .output()
            .unwrap()
    };
    for shell in ["/usr/bin/fish", "/bin/zsh", "/usr/bin/nushell-or-so"] {
        let out = run(shell);
        assert!(
            exports(&out).starts_with("export V="),
            "{shell}: {}",
            stdout(&out)
        );
        assert!(
            stderr(&out).contains("python3") && stderr(&out).contains("--shell"),
            "{shell}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_bash_script_run_by_a_fish_user_gets_code_bash_reads_exactly() {
    // The review's reproduction: `deploy.sh` (a shebang script, so the parent's name is the
    // script's) evals `jit-secrets activate` for a user whose $SHELL is fish. The value used to
    // run as code in bash. Now the parent's executable (bash) decides, and even POSIX code
    // would be exact there.
    let sb = Sandbox::new();
    let value = b"a\\';touch PWNED;#".to_vec();
    sb.write("v", &value);
    sb.manifest("[secrets]\nV = \"file:v\"\n");
    let script = sb.write_executable(
        "deploy.sh",
        format!(
            "#!{}\neval \"$(\"$JIT\" --manifest \"$M\" activate)\"\nprintf '%s' \"$V\"\n",
            require("bash").display()
        ),
    );
    let out = sb
        .command(&script)
        .env("SHELL", require("fish"))
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(out.stdout, value);
    assert!(
        !sb.path().join("PWNED").exists(),
        "the value ran as code in bash"
    );
}

// ---------------------------------------------------------------- tcsh, nushell, elvish

/// The hostile values a shell can hold (all but those `refused`), declared as in
/// [`hostile_manifest`].
fn manifest_without(sb: &Sandbox, refused: impl Fn(&[u8]) -> bool) -> Vec<(&'static str, Vec<u8>)> {
    let values: Vec<_> = hostile_values()
        .into_iter()
        .filter(|(_, v)| !refused(v))
        .collect();
    let mut m = String::from("[secrets]\n");
    for (name, value) in &values {
        sb.write(&format!("values/{name}"), value);
        m.push_str(&format!(
            "{name} = {{ from = \"file:values/{name}\", trim = false }}\n"
        ));
    }
    sb.manifest(&m);
    values
}

fn run_in(sb: &Sandbox, shell: &str, args: &[&str], script: &str) -> std::process::Output {
    sb.command(require(shell))
        .args(args)
        .arg(script)
        .env("JIT", BIN)
        .env("DUMP", DUMP)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap()
}

fn assert_exact(shell: &str, out: &std::process::Output, values: &[(&str, Vec<u8>)]) {
    assert_code(out, 0);
    let parts: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
    for (i, (name, v)) in values.iter().enumerate() {
        assert_eq!(
            parts.get(i).copied(),
            Some(v.as_slice()),
            "{shell}: {name} did not round-trip"
        );
    }
    assert!(
        !std::path::Path::new("/tmp/pwned").exists(),
        "a value was executed"
    );
}

#[test]
fn tcsh_eval_source_and_interactive_round_trip_hostile_values() {
    let sb = Sandbox::new();
    let values = manifest_without(&sb, |v| v.contains(&b'\n'));
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let dump = sb.write("dump.py", DUMP);
    let dump_line = format!("python3 {} {}", dump.display(), names.join(" "));
    // eval "`…`", as in ~/.tcshrc and Flox's [profile] tcsh key.
    let out = run_in(
        &sb,
        "tcsh",
        &["-f", "-c"],
        &format!("eval \"`$JIT --manifest $M activate --shell tcsh`\"; {dump_line}"),
    );
    assert_exact("tcsh eval", &out, &values);
    // source of the output saved to a file.
    let snippet = sb.jit_m(&["activate", "--shell", "tcsh"]);
    let file = sb.write("out.csh", &snippet.stdout);
    let out = run_in(
        &sb,
        "tcsh",
        &["-f", "-c"],
        &format!("source {}; {dump_line}", file.display()),
    );
    assert_exact("tcsh source", &out, &values);
    // Interactive (history substitution on), on a pseudo-terminal.
    let script = sb.write(
        "interactive.csh",
        format!("eval \"`$JIT --manifest $M activate --shell tcsh`\"\nsource {}\n{dump_line} > dumped\n", file.display()),
    );
    let driven = sb
        .command("python3")
        .arg(repo_root().join("tests/support/on_a_terminal.py"))
        .arg("[]")
        .args(["--", require("tcsh").to_str().unwrap(), "-f", "-i", "-c"])
        .arg(format!("source {}", script.display()))
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&driven.stdout).unwrap();
    assert_eq!(r["status"], 0, "{r}");
    let dumped = std::fs::read(sb.path().join("dumped")).unwrap();
    assert_exact(
        "tcsh interactive",
        &std::process::Output {
            status: driven.status,
            stdout: dumped,
            stderr: Vec::new(),
        },
        &values,
    );
    // A newline cannot reach tcsh through eval: refused, naming the secret.
    let sb = Sandbox::new();
    sb.write("v", "two\nlines");
    sb.manifest("[secrets]\nMULTI = \"file:v\"\n");
    let out = sb.jit_m(&["activate", "--shell", "csh"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "false;\n");
    assert!(
        stderr(&out).contains("MULTI") && stderr(&out).contains("newline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn nushell_load_env_round_trips_hostile_values_and_refuses_non_utf8() {
    let sb = Sandbox::new();
    let values = manifest_without(&sb, |v| std::str::from_utf8(v).is_err());
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let dump = sb.write("dump.py", DUMP);
    let out = run_in(
        &sb,
        "nu",
        &["--no-config-file", "-c"],
        &format!(
            "^$env.JIT --manifest $env.M activate --shell nu | from json | load-env; ^python3 {} {}",
            dump.display(),
            names.join(" ")
        ),
    );
    assert_exact("nu", &out, &values);
    sb.write("bad", b"caf\xe9");
    sb.manifest("[secrets]\nRAW = \"file:bad\"\n");
    let out = sb.jit_m(&["activate", "--shell", "nu"]);
    assert_code(&out, 1);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("RAW") && stderr(&out).contains("UTF-8"));
}

#[test]
fn elvish_eval_round_trips_hostile_values_non_utf8_included() {
    let sb = Sandbox::new();
    let mut values = manifest_without(&sb, |_| false);
    sb.write("values/RAW", b"caf\xe9 \xff\xfe end");
    let mut m = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    m.push_str("RAW = { from = \"file:values/RAW\", trim = false }\n");
    sb.manifest(&m);
    values.push(("RAW", b"caf\xe9 \xff\xfe end".to_vec()));
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let dump = sb.write("dump.py", DUMP);
    let out = run_in(
        &sb,
        "elvish",
        &["-norc", "-c"],
        &format!(
            "eval ($E:JIT --manifest $E:M activate --shell elvish | slurp); python3 {} {}",
            dump.display(),
            names.join(" ")
        ),
    );
    assert_exact("elvish", &out, &values);
}

#[test]
fn every_shells_failure_statement_stops_its_evaluation() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nGONE = \"env:JIT_TEST_NEVER_SET\"\n");
    for (shell, args, script) in [
        (
            "bash",
            &["-c"][..],
            r#"eval "$("$JIT" --manifest "$M" activate --shell bash)" && echo after"#,
        ),
        (
            "fish",
            &["-c"][..],
            r#"$JIT --manifest $M activate --shell fish | source; and echo after"#,
        ),
        (
            "tcsh",
            &["-f", "-c"][..],
            r#"eval "`$JIT --manifest $M activate --shell tcsh`" && echo after"#,
        ),
        (
            "nu",
            &["--no-config-file", "-c"][..],
            "^$env.JIT --manifest $env.M activate --shell nu | from json | load-env; print after",
        ),
        (
            "elvish",
            &["-norc", "-c"][..],
            "eval ($E:JIT --manifest $E:M activate --shell elvish | slurp); echo after",
        ),
    ] {
        let out = run_in(&sb, shell, args, script);
        assert!(
            !stdout(&out).contains("after"),
            "{shell} went on: {}",
            stdout(&out)
        );
        assert!(!out.status.success(), "{shell} succeeded");
        assert!(
            stderr(&out).contains("GONE: not found"),
            "{shell}: {}",
            stderr(&out)
        );
    }
    // Evaluated apart from the failing run (saved, then read), elvish's statement still stops
    // the evaluation, and its exception says why rather than that `false` failed.
    let saved = sb.jit_m(&["activate", "--shell", "elvish"]);
    let file = sb.write("failed.elv", &saved.stdout);
    let out = run_in(
        &sb,
        "elvish",
        &["-norc", "-c"],
        &format!("eval (slurp < {}); echo after", file.display()),
    );
    assert!(!out.status.success() && !stdout(&out).contains("after"));
    assert!(
        stderr(&out).contains("jit-secrets: nothing exported (see the errors above)"),
        "{}",
        stderr(&out)
    );
    // A program reading JSON gets nothing, which no JSON reader accepts (`false` would parse).
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "");
}

#[test]
fn the_default_shell_is_detected_in_tcsh_nushell_and_elvish() {
    let sb = Sandbox::new();
    detect_manifest(&sb);
    for (shell, args, script, want) in [
        (
            "tcsh",
            &["-f", "-c"][..],
            "eval \"`$JIT --manifest $M activate`\"; printenv V",
            "back\\slash'quote\n",
        ),
        (
            "nu",
            &["--no-config-file", "-c"][..],
            "^$env.JIT --manifest $env.M activate | from json | load-env; print -n $env.V",
            "back\\slash'quote",
        ),
        (
            "elvish",
            &["-norc", "-c"][..],
            "eval ($E:JIT --manifest $E:M activate | slurp); print $E:V",
            "back\\slash'quote",
        ),
    ] {
        let out = run_in(&sb, shell, args, script);
        assert_code(&out, 0);
        assert_eq!(stdout(&out), want, "{shell}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("warning"),
            "{shell}: {}",
            stderr(&out)
        );
    }
}

/// elvish's code carries no `!` for tcsh to expand: tcsh (evaluating it by mistake, `set-env`
/// standing in as `setenv` to see what it made of the words) expands history even inside single
/// quotes, where `!#` is the line so far. elvish itself reads `"\x21"` back as `!`.
#[test]
fn elvish_output_leaves_tcsh_no_history_to_expand() {
    let sb = Sandbox::new();
    sb.write("values/BANG", "a!#b!!c");
    sb.manifest("[secrets]\nBANG = { from = \"file:values/BANG\", trim = false }\n");
    let snippet = sb.jit_m(&["activate", "--shell", "elvish"]);
    assert_code(&snippet, 0);
    assert!(
        !snippet.stdout.contains(&b'!'),
        "a bare `!` in: {}",
        stdout(&snippet)
    );
    let file = sb.write("out.elv", &snippet.stdout);
    let out = run_in(
        &sb,
        "tcsh",
        &["-f", "-c"],
        &format!(
            "alias set-env setenv; eval \"`cat {}`\"; printenv BANG",
            file.display()
        ),
    );
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "a\\x21#b\\x21\\x21c\n",
        "tcsh saw the words as written, no history substituted"
    );
    let out = run_in(
        &sb,
        "elvish",
        &["-norc", "-c"],
        &format!("eval (slurp < {}); print $E:BANG", file.display()),
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "a!#b!!c");
}
