//! Where users plug it in: every hooks/ snippet run in the shell it is for, linted; the nix files
//! parsed; `init`/`add`/`remove` keeping a commented manifest byte for byte; completions parsed.

mod support;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

fn hook_file(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("hooks").join(name)).unwrap()
}

/// A sandbox with a Flox-style project (`.flox/env/manifest.toml` with [plugins.jit-secrets]) and
/// `jit-secrets` first on PATH.
fn flox_project(sb: &mut Sandbox, table: &str) -> std::path::PathBuf {
    let bin_dir = sb.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("jit-secrets")).unwrap();
    let path = format!("{}:{}", bin_dir.display(), sb.env["PATH"].to_string_lossy());
    sb.set_env("PATH", path);
    sb.set_env("SRC", "it's a \\ value");
    let project = sb.path().join("proj");
    std::fs::create_dir_all(project.join(".flox/env")).unwrap();
    std::fs::write(
        project.join(".flox/env/manifest.toml"),
        format!("version = 1\n[install]\n{table}"),
    )
    .unwrap();
    sb.set_env("FLOX_ENV_PROJECT", &project);
    project
}

fn in_shell(sb: &Sandbox, shell: &str, script: &str, dir: &Path) -> Output {
    sb.command(require(shell))
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap()
}

const PLUGIN: &str = "[plugins.jit-secrets]\nV = \"env:SRC\"\n";

#[test]
fn flox_profile_snippets_run_in_their_own_shells() {
    // No `allow`: the Flox snippets pass --trusted-by flox for $FLOX_ENV_PROJECT's manifest.
    let mut sb = Sandbox::requiring_trust();
    let project = flox_project(&mut sb, PLUGIN);
    let doc: toml_edit::DocumentMut = hook_file("flox.toml").parse().unwrap();
    for (shell, key) in [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish")] {
        let snippet = doc["profile"][key].as_str().unwrap();
        let out = in_shell(
            &sb,
            shell,
            &format!("{snippet}\nprintf '%s' \"$V\""),
            &project,
        );
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "it's a \\ value", "{shell}: {}", stderr(&out));
    }
    // Flox's fifth [profile] key: tcsh.
    let snippet = doc["profile"]["tcsh"].as_str().unwrap();
    let script = sb.write("profile.csh", format!("{snippet}\nprintenv V\n"));
    let out = sb
        .command(require("tcsh"))
        .arg("-f")
        .arg(&script)
        .current_dir(&project)
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "it's a \\ value\n", "tcsh: {}", stderr(&out));
}

#[test]
fn flox_on_activate_hook_under_set_e_stops_on_a_missing_secret() {
    // No `allow`: the Flox snippets pass --trusted-by flox for $FLOX_ENV_PROJECT's manifest.
    let mut sb = Sandbox::requiring_trust();
    let project = flox_project(&mut sb, PLUGIN);
    let hook = hook_file("flox.toml");
    let line = hook
        .lines()
        .find(|l| l.starts_with("# on-activate ="))
        .unwrap();
    let script = line
        .trim_start_matches('#')
        .trim()
        .trim_start_matches("on-activate = ")
        .trim_matches('\'');
    assert_eq!(
        script,
        r#"eval "$(jit-secrets activate --shell bash --trusted-by flox)""#
    );
    // Flox runs the hook in bash under `set -e`, even for a fish user.
    let run = |sb: &Sandbox| {
        sb.command("bash")
            .args(["-e", "-c", &format!("{script}\necho \"after:$V\"")])
            .env("SHELL", "/usr/bin/fish")
            .current_dir(&project)
            .output()
            .unwrap()
    };
    let out = run(&sb);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "after:it's a \\ value\n");
    std::fs::write(
        project.join(".flox/env/manifest.toml"),
        "version = 1\n[plugins.jit-secrets]\nV = \"env:SRC\"\nGONE = \"env:NOPE\"\n",
    )
    .unwrap();
    let out = run(&sb);
    assert_code(&out, 1);
    assert!(
        !stdout(&out).contains("after:"),
        "activation went on: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("GONE: not found in env:NOPE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn flox_plugin_profile_d_script_loads_only_with_the_plugin_table() {
    // No `allow`: the Flox snippets pass --trusted-by flox for $FLOX_ENV_PROJECT's manifest.
    let mut sb = Sandbox::requiring_trust();
    let project = flox_project(&mut sb, PLUGIN);
    let script = repo_root().join("hooks/flox-profile.d.sh");
    for shell in ["bash", "zsh"] {
        let out = in_shell(
            &sb,
            shell,
            &format!(". '{}'; printf '%s' \"$V\"", script.display()),
            &project,
        );
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "it's a \\ value", "{shell}: {}", stderr(&out));
    }
    // Without the table: silent, nothing set.
    std::fs::write(
        project.join(".flox/env/manifest.toml"),
        "version = 1\n[install]\n",
    )
    .unwrap();
    let out = in_shell(
        &sb,
        "bash",
        &format!(". '{}'; printf '%s' \"${{V-unset}}\"", script.display()),
        &project,
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "unset");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn rc_snippets_define_a_secrets_function_in_each_shell() {
    let mut sb = Sandbox::new();
    let project = flox_project(&mut sb, PLUGIN);
    for (shell, file) in [
        ("bash", "bashrc.sh"),
        ("zsh", "zshrc.zsh"),
        ("fish", "config.fish"),
    ] {
        let path = repo_root().join("hooks").join(file);
        let out = in_shell(
            &sb,
            shell,
            &format!("source '{}'; secrets; printf '%s' \"$V\"", path.display()),
            &project,
        );
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "it's a \\ value", "{shell}: {}", stderr(&out));
    }
    // tcsh (an alias), nushell (`def --env`), elvish (`fn`): each loads the snippet its users
    // put in their rc file, runs `secrets`, and prints V from its own environment.
    let hooks = repo_root().join("hooks");
    for (shell, args, script) in [
        (
            "tcsh",
            &["-f"][..],
            // A file: tcsh expands aliases per line, so `source` and `secrets` need two lines.
            sb.write(
                "rc-test.csh",
                format!(
                    "source '{}'\nsecrets\nprintenv V\n",
                    hooks.join("tcshrc.csh").display()
                ),
            )
            .display()
            .to_string(),
        ),
        (
            "nu",
            &["--no-config-file", "-c"][..],
            format!(
                "source '{}'; secrets; print -n $\"($env.V)\\n\"",
                hooks.join("config.nu").display()
            ),
        ),
        (
            "elvish",
            &["-norc", "-c"][..],
            format!(
                // In one eval: a `fn` defined by an eval is visible only inside it (in an rc
                // file it is simply defined).
                "eval (slurp < '{}')\"\nsecrets\necho $E:V\"",
                hooks.join("rc.elv").display()
            ),
        ),
    ] {
        let out = sb
            .command(require(shell))
            .args(args)
            .arg(&script)
            .current_dir(&project)
            .output()
            .unwrap();
        assert_code(&out, 0);
        assert_eq!(
            stdout(&out),
            "it's a \\ value\n",
            "{shell}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn direnv_use_jit_secrets_with_the_real_direnv_needs_our_allow() {
    let mut sb = Sandbox::requiring_trust();
    let direnv = require("direnv");
    let project = flox_project(&mut sb, PLUGIN);
    let config = sb.path().join("xdg-config/direnv");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(
        repo_root().join("hooks/direnvrc.sh"),
        config.join("direnvrc"),
    )
    .unwrap();
    sb.set_env("XDG_CONFIG_HOME", sb.path().join("xdg-config"));
    sb.set_env("XDG_DATA_HOME", sb.path().join("xdg-data"));
    std::fs::write(
        project.join(".envrc"),
        "use jit_secrets .flox/env/manifest.toml\n",
    )
    .unwrap();
    let allow = sb
        .command(&direnv)
        .arg("allow")
        .arg(&project)
        .output()
        .unwrap();
    assert_code(&allow, 0);
    let exec = || {
        sb.command(&direnv)
            .arg("exec")
            .arg(&project)
            .args(["printenv", "V"])
            .output()
            .unwrap()
    };
    // `direnv allow` approves the .envrc, not our manifest: refused until `jit-secrets allow`.
    let out = exec();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("jit-secrets allow"),
        "{}",
        stderr(&out)
    );
    let manifest = project.join(".flox/env/manifest.toml");
    assert_code(&sb.jit(&["allow", manifest.to_str().unwrap()]), 0);
    let out = exec();
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "it's a \\ value\n", "{}", stderr(&out));
    // A pulled edit to the manifest (watched by the snippet) is refused again.
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("W = \"cmd:touch pwned-by-a-pull\"\n");
    std::fs::write(&manifest, text).unwrap();
    let out = exec();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("edited since you allowed it"),
        "{}",
        stderr(&out)
    );
    assert!(!project.join("pwned-by-a-pull").exists());
}

#[test]
fn hook_command_prints_each_snippet_and_the_snippets_lint_clean() {
    let sb = Sandbox::new();
    for (target, file) in [
        ("flox", "flox.toml"),
        ("flox-profile-d", "flox-profile.d.sh"),
        ("nix", "nix-devshell.nix"),
        ("direnv", "direnvrc.sh"),
        ("bash", "bashrc.sh"),
        ("zsh", "zshrc.zsh"),
        ("fish", "config.fish"),
        ("tcsh", "tcshrc.csh"),
        ("nu", "config.nu"),
        ("elvish", "rc.elv"),
    ] {
        let out = sb.jit(&["hook", target]);
        assert_code(&out, 0);
        assert_eq!(stdout(&out), hook_file(file), "{target}");
    }
    let shellcheck = require("shellcheck");
    for (file, dialect) in [
        ("flox-profile.d.sh", "sh"),
        ("direnvrc.sh", "bash"),
        ("bashrc.sh", "bash"),
    ] {
        let out = Command::new(&shellcheck)
            .args(["-s", dialect])
            .arg(repo_root().join("hooks").join(file))
            .output()
            .unwrap();
        assert!(out.status.success(), "shellcheck {file}:\n{}", stdout(&out));
    }
    let out = Command::new(require("fish"))
        .arg("--no-execute")
        .arg(repo_root().join("hooks/config.fish"))
        .output()
        .unwrap();
    assert!(out.status.success(), "fish --no-execute: {}", stderr(&out));
    let out = Command::new(require("zsh"))
        .arg("-n")
        .arg(repo_root().join("hooks/zshrc.zsh"))
        .output()
        .unwrap();
    assert!(out.status.success(), "zsh -n: {}", stderr(&out));
    // nushell and elvish parse their snippets without running them.
    let out = Command::new(require("nu"))
        .args(["--no-config-file", "--ide-check", "10"])
        .arg(repo_root().join("hooks/config.nu"))
        .output()
        .unwrap();
    assert!(
        !stdout(&out).contains("\"severity\":\"Error\""),
        "nu --ide-check: {}",
        stdout(&out)
    );
    let out = Command::new(require("elvish"))
        .args(["-norc", "-compileonly"])
        .arg(repo_root().join("hooks/rc.elv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "elvish -compileonly: {}",
        stderr(&out)
    );
}

#[test]
fn generated_activate_output_lints_clean() {
    let sb = Sandbox::new();
    sb.write("v", "it's $(x) `y` \\\nline");
    sb.manifest("[secrets]\nA = \"file:v\"\nB = \"cmd:printf plain\"\n");
    // SC2016 ("expressions don't expand in single quotes") is the point: values must not expand.
    for (shell, linter) in [
        (
            "bash",
            vec!["shellcheck", "-e", "SC2016", "-s", "bash", "-"],
        ),
        ("posix", vec!["shellcheck", "-e", "SC2016", "-s", "sh", "-"]),
    ] {
        let out = sb.jit_m(&["activate", "--shell", shell]);
        assert_code(&out, 0);
        let mut child = Command::new(require(linter[0]))
            .args(&linter[1..])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &out.stdout).unwrap();
        let lint = child.wait_with_output().unwrap();
        assert!(lint.status.success(), "{shell}: {}", stdout(&lint));
    }
    let out = sb.jit_m(&["activate", "--shell", "fish"]);
    let code = sb.write("out.fish", &out.stdout);
    let lint = Command::new(require("fish"))
        .arg("--no-execute")
        .arg(&code)
        .output()
        .unwrap();
    assert!(lint.status.success(), "fish: {}", stderr(&lint));
}

#[test]
fn every_nix_file_parses_and_lib_shell_hook_evaluates() {
    let nix = require("nix-instantiate");
    let mut files = vec![repo_root().join("flake.nix")];
    for dir in ["nix", "nix/template", "hooks"] {
        for e in std::fs::read_dir(repo_root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "nix") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        let out = Command::new(&nix)
            .arg("--parse")
            .arg(f)
            .env("NIX_CONFIG", "build-users-group =")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", f.display(), stderr(&out));
    }
    // lib.shellHook needs no nixpkgs: evaluate it, then run what it returns in bash.
    let mut sb = Sandbox::requiring_trust();
    let _ = flox_project(&mut sb, PLUGIN);
    let manifest = sb.write("it's/manifest.toml", "[secrets]\nV = \"env:SRC\"\n");
    let eval = |args: &str| {
        let expr = format!(
            "(import {}/nix/shell-hook.nix) {{ manifest = \"it's/manifest.toml\"; {args} }}",
            repo_root().display()
        );
        let out = Command::new(&nix)
            .args(["--eval", "--strict", "--json", "-E", &expr])
            .env("NIX_CONFIG", "build-users-group =")
            .output()
            .unwrap();
        assert_code(&out, 0);
        serde_json::from_slice::<String>(&out.stdout).unwrap()
    };
    // `pin` is the manifest the flake vouches for: hashed when the flake is evaluated.
    let hook = eval(&format!("pin = /. + \"{}\";", manifest.display()));
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&manifest).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(
        hook,
        format!("eval \"$(jit-secrets --manifest 'it'\\''s/manifest.toml' activate --shell bash --trusted-by nix --manifest-sha256 '{digest}')\"\n")
    );
    let run_hook = |hook: &str| {
        sb.command("bash")
            .args(["-e", "-c", &format!("{hook}printf '%s' \"$V\"")])
            .output()
            .unwrap()
    };
    // No `allow`: a devShell runs the flake's own code, and vouches for the manifest it pinned.
    let out = run_hook(&hook);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "it's a \\ value");
    // Any other manifest (another clone's, or this one edited) is refused, as without the flag.
    std::fs::write(&manifest, "[secrets]\nV = \"env:SRC\"\nW = \"env:SRC\"\n").unwrap();
    let out = run_hook(&hook);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not the one the nix hook pinned"),
        "{}",
        stderr(&out)
    );
    // And a hook without a pin vouches for nothing.
    let out = run_hook(&eval(""));
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("needs the manifest's pin"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- manifest editing

const COMMENTED: &str = r#"# Project secrets — references only.   (a comment that must survive)
[secrets]
# the GitHub token
GITHUB_TOKEN = "keyring:github-token"   # set with: jit-secrets set GITHUB_TOKEN

   # oddly indented comment
DATABASE_URL = { from = "op://Engineering/db/url" }    # trailing comment

[secrets.options]
# per-call timeout
timeout    =    "30s"
"#;

#[test]
fn add_and_remove_keep_a_commented_manifest_byte_identical_elsewhere() {
    let sb = Sandbox::new();
    let m = sb.manifest(COMMENTED);
    let out = sb.jit_m(&[
        "add",
        "API_KEY",
        "aws-sm:prod/api#key",
        "--optional",
        "--timeout",
        "10s",
    ]);
    assert_code(&out, 0);
    let after = std::fs::read_to_string(&m).unwrap();
    let added =
        "API_KEY = { from = \"aws-sm:prod/api#key\", required = false, timeout = \"10s\" }\n";
    let expected = COMMENTED.replace(
        "    # trailing comment\n",
        &format!("    # trailing comment\n{added}"),
    );
    assert_eq!(after, expected);
    // It is a valid entry.
    let list = sb.jit_m(&["list", "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items[2]["name"], "API_KEY");
    assert_eq!(items[2]["required"], false);
    // Removing it gives the original back, byte for byte.
    assert_code(&sb.jit_m(&["remove", "API_KEY"]), 0);
    assert_eq!(std::fs::read_to_string(&m).unwrap(), COMMENTED);
    // Replacing an entry (asked for with --replace) changes only its value: position and
    // comments stay.
    assert_code(&sb.jit_m(&["add", "GITHUB_TOKEN", "pass:github/token"]), 2);
    assert_code(
        &sb.jit_m(&["add", "GITHUB_TOKEN", "pass:github/token", "--replace"]),
        0,
    );
    assert_eq!(
        std::fs::read_to_string(&m).unwrap(),
        COMMENTED.replace("keyring:github-token\"", "pass:github/token\"")
    );
    // Invalid input changes nothing.
    for args in [
        &["add", "1BAD", "env:X"][..],
        &["add", "OK", "s3:bucket"],
        &["add", "OK", "env:X", "--timeout", "soon"],
        &["remove", "NOPE"],
    ] {
        let before = std::fs::read_to_string(&m).unwrap();
        let out = sb.jit_m(args);
        assert_code(&out, 2);
        assert_eq!(
            std::fs::read_to_string(&m).unwrap(),
            before,
            "{args:?} touched the file"
        );
    }
    assert_eq!(
        std::fs::read_dir(sb.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp"))
            .count(),
        0
    );
}

#[test]
fn init_creates_or_extends_manifests_and_handles_flox() {
    let sb = Sandbox::new();
    // No manifest: one is created.
    let out = sb.jit(&["init"]);
    assert_code(&out, 0);
    let created = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    assert!(created.contains("[secrets]"));
    assert_code(&sb.jit(&["list"]), 0);
    // Again: nothing to do, nothing changed.
    assert_code(&sb.jit(&["init"]), 0);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap(),
        created
    );
    // A Flox manifest: [plugins.jit-secrets], comments kept, old schema raised to 1.14.0.
    let flox = sb.write(
        "f/.flox/env/manifest.toml",
        "schema-version = \"1.10.0\"\n\n# my packages\n[install]\nripgrep.pkg-path = \"ripgrep\"\n\n[hook]\non-activate = 'echo hi'  # keep me\n",
    );
    let out = sb
        .command(BIN)
        .args(["init", "--flox"])
        .current_dir(sb.path().join("f"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    let text = std::fs::read_to_string(&flox).unwrap();
    assert!(text.starts_with("schema-version = \"1.14.0\"\n\n# my packages\n[install]\nripgrep.pkg-path = \"ripgrep\"\n\n[hook]\non-activate = 'echo hi'  # keep me\n"), "{text}");
    assert!(text.contains("[plugins.jit-secrets]"), "{text}");
    assert!(stderr(&out).contains("1.14.0"));
    let out = sb
        .command(BIN)
        .args(["add", "T", "env:SRC"])
        .current_dir(sb.path().join("f"))
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert!(std::fs::read_to_string(&flox)
        .unwrap()
        .ends_with("[plugins.jit-secrets]\nT = \"env:SRC\"\n"));
    // A Flox manifest with a top-level [secrets]: refused with the fix.
    sb.write(
        "g/.flox/env/manifest.toml",
        "version = 1\n[secrets]\nA = \"env:X\"\n",
    );
    let out = sb
        .command(BIN)
        .args(["init", "--flox"])
        .current_dir(sb.path().join("g"))
        .output()
        .unwrap();
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("[plugins.jit-secrets]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn completions_parse_in_their_shells_and_the_man_page_renders() {
    let sb = Sandbox::new();
    for (shell, check) in [
        ("bash", vec!["bash", "-n"]),
        ("zsh", vec!["zsh", "-n"]),
        ("fish", vec!["fish", "--no-execute"]),
    ] {
        let out = sb.jit(&["completions", shell]);
        assert_code(&out, 0);
        assert!(
            stdout(&out).contains("activate") && stdout(&out).contains("verify"),
            "{shell}"
        );
        let file = sb.write(&format!("completion.{shell}"), &out.stdout);
        let lint = Command::new(require(check[0]))
            .args(&check[1..])
            .arg(&file)
            .output()
            .unwrap();
        assert!(lint.status.success(), "{shell}: {}", stderr(&lint));
    }
    let out = sb.jit(&["man"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).starts_with(".ie") || stdout(&out).contains(".TH"),
        "{}",
        &stdout(&out)[..200.min(out.stdout.len())]
    );
}
