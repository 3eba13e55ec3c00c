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
        shown.contains("read from 1password: AWS_SECRET_ACCESS_KEY"),
        "{shown}"
    );
    assert!(
        shown.contains("run a program for BUILD: cmd:sh -c 'touch ran-a-program; printf x'"),
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

    // deny: untrusted again.
    std::fs::write(&manifest, &text).unwrap();
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);
    assert_code(&sb.jit(&["deny", manifest.to_str().unwrap()]), 0);
    assert_refused(
        &sb.jit_m(&["activate", "--shell", "bash"]),
        "false\n",
        "new (not allowed yet)",
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
    // --trusted-by nix (a devShell's shellHook) vouches for what it names.
    assert_code(
        &sb.jit_m(&["--trusted-by", "nix", "activate", "--shell", "json"]),
        0,
    );
    // The CI override.
    sb.set_env("JIT_SECRETS_TRUST_ALL_MANIFESTS", "1");
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);
}
