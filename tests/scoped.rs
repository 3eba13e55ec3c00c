//! Scoped secrets (`only = ["gh"]`): after activation in each of the seven real shells, the
//! shell's environment and its other children hold no scoped value, while the stand-in `gh`
//! receives exactly its entries however it is started — from the shell, a bash script, `make`,
//! `xargs`. Trust, failures, `run`, `list`/`allow`, and the files written (strace).

mod support;
use support::*;

const GH_VALUE: &str = "gh'tok$(x)`y`";
const GLAB_VALUE: &str = "glab-tok";
const PLAIN_VALUE: &str = "plain-value";

/// A sandbox whose runtime directory is its own, with stand-ins `gh` and `glab` that print what
/// they received, a bash script and a Makefile that start `gh`, and a manifest scoping one value
/// to each.
fn scoped_sandbox(sb: Sandbox) -> Sandbox {
    let mut sb = sb;
    let run = sb.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    sb.set_env("XDG_RUNTIME_DIR", &run);
    for program in ["gh", "glab"] {
        sb.write_executable(
            &format!("bin/{program}"),
            format!(
                "#!/bin/sh\nprintf '{program} %s GITHUB_TOKEN=%s GLAB_TOKEN=%s PLAIN=%s\\n' \"$1\" \"${{GITHUB_TOKEN-<unset>}}\" \"${{GLAB_TOKEN-<unset>}}\" \"${{PLAIN-<unset>}}\"\n"
            ),
        );
    }
    sb.write_executable("script.sh", "#!/bin/bash\ngh from-script\n");
    sb.write("Makefile", "all:\n\t@gh from-make\n");
    sb.write("values/gh", GH_VALUE);
    sb.write("values/glab", GLAB_VALUE);
    sb.write("values/plain", PLAIN_VALUE);
    sb.manifest(
        "[secrets]\nGITHUB_TOKEN = { from = \"file:values/gh\", only = [\"gh\"] }\nGLAB_TOKEN = { from = \"file:values/glab\", only = [\"glab\"] }\nPLAIN = \"file:values/plain\"\n",
    );
    let path = std::env::join_paths(
        std::iter::once(sb.path().join("bin"))
            .chain(std::env::split_paths(&sb.env["PATH"].clone())),
    )
    .unwrap();
    sb.set_env("PATH", path);
    sb
}

fn gh_line(how: &str) -> String {
    format!("gh {how} GITHUB_TOKEN={GH_VALUE} GLAB_TOKEN=<unset> PLAIN={PLAIN_VALUE}")
}

/// Runs `script` in `shell` (in the sandbox's directory, so `activate` finds the manifest).
fn in_shell(sb: &Sandbox, shell: &str, flags: &[&str], script: &str) -> std::process::Output {
    sb.command(require(shell))
        .args(flags)
        .arg(script)
        .current_dir(sb.path())
        .env("JIT", BIN)
        .output()
        .unwrap()
}

/// The same steps in every shell's syntax: activate, save the shell's environment as `env`
/// sees it, then start `gh` four ways and `glab` once.
fn check_shell(shell: &str, flags: &[&str], activate: &str) {
    let sb = scoped_sandbox(Sandbox::new());
    let save_env = if shell == "nu" {
        "^env | save -f env.txt"
    } else {
        "env > env.txt"
    };
    let steps =
        "gh from-shell\nbash ./script.sh\nmake -s\necho from-xargs | xargs gh\nglab from-shell\n";
    let out = in_shell(
        &sb,
        shell,
        flags,
        &format!("{activate}\n{save_env}\n{steps}"),
    );
    assert_code(&out, 0);
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(
        lines,
        [
            gh_line("from-shell"),
            gh_line("from-script"),
            gh_line("from-make"),
            gh_line("from-xargs"),
            format!(
                "glab from-shell GITHUB_TOKEN=<unset> GLAB_TOKEN={GLAB_VALUE} PLAIN={PLAIN_VALUE}"
            ),
        ],
        "{shell}: {}",
        stderr(&out)
    );
    let env = std::fs::read_to_string(sb.path().join("env.txt")).unwrap();
    assert!(
        env.contains(&format!("PLAIN={PLAIN_VALUE}")),
        "{shell}: the unscoped value is exported"
    );
    for scoped in [GH_VALUE, GLAB_VALUE, "GITHUB_TOKEN", "GLAB_TOKEN"] {
        assert!(
            !env.contains(scoped),
            "{shell}: `{scoped}` is in the shell's environment"
        );
    }
}

#[test]
fn bash_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "bash",
        &["-c"],
        "eval \"$(\"$JIT\" activate --shell bash)\"",
    );
}

#[test]
fn zsh_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "zsh",
        &["-f", "-c"],
        "eval \"$(\"$JIT\" activate --shell zsh)\"",
    );
}

#[test]
fn posix_sh_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "dash",
        &["-c"],
        "eval \"$(\"$JIT\" activate --shell posix)\"",
    );
}

#[test]
fn fish_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "fish",
        &["--no-config", "-c"],
        "$JIT activate --shell fish | source",
    );
}

#[test]
fn tcsh_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "tcsh",
        &["-f", "-c"],
        "eval \"`$JIT activate --shell tcsh`\"",
    );
}

#[test]
fn nushell_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "nu",
        &["--no-config-file", "-c"],
        "^$env.JIT activate --shell nu | from json | load-env",
    );
}

#[test]
fn elvish_gives_scoped_values_to_their_commands_alone() {
    check_shell(
        "elvish",
        &["-norc", "-c"],
        "eval ($E:JIT activate --shell elvish | slurp)",
    );
}

#[test]
fn a_second_activation_does_not_stack_and_the_directory_holds_only_links() {
    let sb = scoped_sandbox(Sandbox::new());
    let out = in_shell(
        &sb,
        "bash",
        &["-c"],
        "eval \"$(\"$JIT\" activate --shell bash)\"; eval \"$(\"$JIT\" activate --shell bash)\"; printf '%s\\n' \"$PATH\"",
    );
    assert_code(&out, 0);
    let path = stdout(&out);
    let run = sb.path().join("run");
    let scope_dirs: Vec<&str> = path
        .trim_end()
        .split(':')
        .filter(|d| d.starts_with(run.to_str().unwrap()))
        .collect();
    assert_eq!(scope_dirs.len(), 1, "{path}");
    assert!(
        path.starts_with(scope_dirs[0]),
        "the scope directory comes first: {path}"
    );
    let dir = std::path::Path::new(scope_dirs[0]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            assert!(
                e.file_type().unwrap().is_symlink(),
                "{:?} is not a symlink",
                e.path()
            );
            assert_eq!(
                std::fs::canonicalize(e.path()).unwrap(),
                std::fs::canonicalize(BIN).unwrap()
            );
            e.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["gh", "glab"]);
}

#[test]
fn a_scoped_command_of_an_untrusted_or_edited_manifest_does_not_start() {
    let sb = scoped_sandbox(Sandbox::requiring_trust());
    assert_code(&sb.jit(&["allow"]), 0);
    let m = sb.path().join("manifest.toml");
    let edited = format!(
        "{}\n# edited after allow\n",
        std::fs::read_to_string(&m).unwrap()
    );
    let out = in_shell(
        &sb,
        "bash",
        &["-c"],
        &format!(
            "eval \"$(\"$JIT\" activate --shell bash)\" || exit 9\ngh before-edit\nprintf %s '{}' > manifest.toml\ngh after-edit\necho \"status $?\"",
            edited.replace('\'', "'\\''")
        ),
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(&gh_line("before-edit")),
        "{text}{}",
        stderr(&out)
    );
    assert!(!text.contains("after-edit"), "gh started: {text}");
    assert!(text.contains("status 126"), "{text}");
    assert!(
        stderr(&out).contains("`gh` not started") && stderr(&out).contains("jit-secrets allow"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_scoped_secret_that_cannot_be_resolved_keeps_its_command_from_starting() {
    let sb = scoped_sandbox(Sandbox::new());
    std::fs::remove_file(sb.path().join("values/gh")).unwrap();
    let out = in_shell(
        &sb,
        "bash",
        &["-c"],
        "eval \"$(\"$JIT\" activate --shell bash)\" || exit 9\ngh x\necho \"status $?\"\nglab y",
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(!text.contains("gh x"), "gh started: {text}");
    assert!(text.contains("status 126"), "{text}");
    assert!(
        text.contains(&format!(
            "glab y GITHUB_TOKEN=<unset> GLAB_TOKEN={GLAB_VALUE}"
        )),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("GITHUB_TOKEN") && err.contains("`gh` not started"),
        "{err}"
    );
    assert!(err.contains("fix:"), "{err}");
}

#[test]
fn command_names_with_a_slash_or_a_dash_are_manifest_errors_and_a_missing_one_a_warning() {
    let sb = scoped_sandbox(Sandbox::new());
    for bad in ["bin/gh", "-x", ""] {
        sb.manifest(&format!(
            "[secrets]\nT = {{ from = \"env:HOME\", only = [\"{bad}\"] }}\n"
        ));
        let out = sb.jit_m(&["activate", "--shell", "bash"]);
        assert_code(&out, 2);
        assert_eq!(stdout(&out), "false\n");
        assert!(stderr(&out).contains("`only`"), "{bad}: {}", stderr(&out));
    }
    sb.manifest("[secrets]\nT = { from = \"env:HOME\", only = [\"no-such-tool-xyz\"] }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("warning: `no-such-tool-xyz`")
            && stderr(&out).contains("not on PATH"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_gives_a_scoped_value_only_to_its_own_command() {
    let sb = scoped_sandbox(Sandbox::new());
    let out = sb.jit_m(&["run", "--", "gh", "by-run"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim_end(), gh_line("by-run"));
    let out = sb.jit_m(&["run", "--", "env"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains(&format!("PLAIN={PLAIN_VALUE}")));
    assert!(!stdout(&out).contains("GITHUB_TOKEN") && !stdout(&out).contains(GH_VALUE));
}

#[test]
fn list_and_allow_show_each_scope() {
    let sb = scoped_sandbox(Sandbox::requiring_trust());
    let out = sb.jit_m(&["list"]);
    assert!(
        stdout(&out).contains("only for: gh (not exported to the shell)"),
        "{}",
        stdout(&out)
    );
    let out = sb.jit_m(&["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["only"], serde_json::json!(["gh"]));
    assert_eq!(v[2]["only"], serde_json::json!([]));
    let out = sb.jit(&["allow"]);
    assert!(stdout(&out).contains("only for: glab"), "{}", stdout(&out));
}

/// Activation writes the scope directory's symlinks and nothing else; a scoped start writes
/// nothing at all.
#[test]
fn a_scoped_start_writes_nothing_and_activation_only_the_links() {
    let sb = scoped_sandbox(Sandbox::new());
    let log = sb.path().join("strace.log");
    let out = sb
        .command(require("strace"))
        .args(["-f", "-qq", "-e", &format!("trace={WRITE_SYSCALLS}"), "-o"])
        .arg(&log)
        .arg("bash")
        .arg("-c")
        .arg("eval \"$(\"$JIT\" activate --shell bash)\" && gh traced")
        .current_dir(sb.path())
        .env("JIT", BIN)
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim_end(), gh_line("traced"));
    let trace = std::fs::read_to_string(&log).unwrap();
    assert!(
        trace.contains("execve") || !trace.is_empty(),
        "strace saw nothing"
    );
    let run = sb.path().join("run");
    for write in find_writes(&trace) {
        assert!(
            write.contains(run.to_str().unwrap())
                && (write.contains("symlink")
                    || write.contains("rename")
                    || write.contains("mkdir")),
            "a write outside the scope directory's links: {write}"
        );
    }
}

#[test]
fn run_gives_a_scoped_value_to_its_command_started_by_what_run_starts() {
    let sb = scoped_sandbox(Sandbox::new());
    for (how, script) in [
        ("sh", "gh from-sh"),
        ("script", "./script.sh"),
        ("make", "make -s"),
    ] {
        let out = sb.jit_m(&["run", "--no-mask", "--", "sh", "-c", script]);
        assert_code(&out, 0);
        let want = match how {
            "sh" => gh_line("from-sh"),
            "script" => gh_line("from-script"),
            _ => gh_line("from-make"),
        };
        assert_eq!(stdout(&out).trim_end(), want, "{how}: {}", stderr(&out));
    }
    // The shell `run` started holds no scoped value; its other children neither.
    let out = sb.jit_m(&["run", "--", "sh", "-c", "env; glab x"]);
    assert_code(&out, 0);
    let o = stdout(&out);
    assert!(!o.contains(&format!("GITHUB_TOKEN={GH_VALUE}")), "{o}");
    assert!(o.contains(&format!("PLAIN={PLAIN_VALUE}")), "{o}");
    assert!(
        o.contains(&format!(
            "glab x GITHUB_TOKEN=<unset> GLAB_TOKEN={GLAB_VALUE}"
        )),
        "{o}"
    );
    // Masked, the values scoped to the commands it starts are masked too.
    let out = sb.jit_m(&["run", "--mask", "--", "sh", "-c", "gh masked; glab m"]);
    assert_code(&out, 0);
    let o = stdout(&out);
    assert!(o.contains("GITHUB_TOKEN=<GITHUB_TOKEN>"), "{o}");
    assert!(o.contains("GLAB_TOKEN=<GLAB_TOKEN>"), "{o}");
    assert!(!o.contains(GH_VALUE) && !o.contains(GLAB_VALUE), "{o}");
}

/// A scoped command starts under what made its activation work: a host's vouching (nix's pin,
/// Flox's project) for a manifest never allowed, and the activation's profile. (Failed before
/// `cargo mutants` asked: no test started a scoped command under vouching or a profile.)
#[test]
fn a_scoped_command_starts_under_its_hosts_vouching_and_its_profile() {
    use sha2::Digest;
    let mut sb = scoped_sandbox(Sandbox::requiring_trust());
    let manifest = std::fs::read(sb.path().join("manifest.toml")).unwrap();
    let pin: String = sha2::Sha256::digest(&manifest)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let nix = format!(
        "eval \"$(\"$JIT\" activate --shell bash --trusted-by nix --manifest-sha256 {pin})\" || exit 9\ngh under-nix\nJIT_SECRETS_SCOPED_VOUCH=x gh vouched-by-nobody\necho \"status $?\"\n"
    );
    // A vouch the proxy does not know is no vouch: not started (126), not a crash.
    let out = in_shell(&sb, "bash", &["-c"], &nix);
    assert_eq!(
        stdout(&out),
        gh_line("under-nix") + "\nstatus 126\n",
        "{}",
        stderr(&out)
    );

    // Flox vouches for $FLOX_ENV_PROJECT/.flox/env/manifest.toml, and only inside that project.
    let flox_dir = sb.path().join(".flox/env");
    std::fs::create_dir_all(&flox_dir).unwrap();
    std::fs::write(
        flox_dir.join("manifest.toml"),
        "[plugins.jit-secrets]\nGITHUB_TOKEN = { from = \"file:../../values/gh\", only = [\"gh\"] }\nPLAIN = \"file:../../values/plain\"\n",
    )
    .unwrap();
    let project = sb.path().to_path_buf();
    sb.set_env("FLOX_ENV_PROJECT", project);
    let flox = "eval \"$(\"$JIT\" --manifest .flox/env/manifest.toml activate --shell bash --trusted-by flox)\" || exit 9\ngh under-flox\n";
    let out = in_shell(&sb, "bash", &["-c"], flox);
    assert_eq!(
        stdout(&out),
        format!("gh under-flox GITHUB_TOKEN={GH_VALUE} GLAB_TOKEN=<unset> PLAIN={PLAIN_VALUE}\n"),
        "{}",
        stderr(&out)
    );
    sb.env.remove("FLOX_ENV_PROJECT");
    std::fs::remove_dir_all(sb.path().join(".flox")).unwrap();

    // The profile's scoped value, not the base one, reaches `gh`.
    sb.write("values/gh-ci", "ci-token");
    sb.manifest(&format!(
        "{}\n[secrets.profiles.ci]\nGITHUB_TOKEN = {{ from = \"file:values/gh-ci\", only = [\"gh\"] }}\n",
        String::from_utf8(manifest).unwrap()
    ));
    assert_code(&sb.jit(&["allow"]), 0);
    let profile = "eval \"$(\"$JIT\" --profile ci activate --shell bash)\" || exit 9\ngh in-ci\n";
    let out = in_shell(&sb, "bash", &["-c"], profile);
    assert_eq!(
        stdout(&out),
        format!("gh in-ci GITHUB_TOKEN=ci-token GLAB_TOKEN=<unset> PLAIN={PLAIN_VALUE}\n"),
        "{}",
        stderr(&out)
    );
}
