//! Every CLI store under every fault: not installed, exits non-zero, killed by a signal, hangs past
//! the timeout, prints 100 MiB, prints invalid UTF-8, prints nothing, closes stdout early.
//! Each is a clear error naming the secret and the fix, exit 1, and no export on stdout.

mod support;
use support::*;

/// (program the store runs, a reference for it, does the store hand the raw bytes through —
/// else it parses JSON, or for keepassxc: XML)
const STORES: &[(&str, &str, bool)] = &[
    ("op", "op://Eng/db/password", true),
    ("aws", "aws-sm:prod/api", false),
    ("aws", "aws-ssm:/prod/db", false),
    ("vault", "vault:secret/app#db", false),
    ("doppler", "doppler:API_KEY?project=p&config=c", false),
    ("pass", "pass:app/db", true),
    ("secret-tool", "secret-tool:service=s&account=a", true),
    ("mytool", "cmd:mytool --get db", true),
    ("bw", "bitwarden:GitHub", false),
    ("bws", "bws:be8e0ad8-d545-4017-a55a-b02f014d4158", false),
    ("gcloud", "gcp:projects/p/secrets/db", false),
    ("az", "azure-kv:kv1/db", false),
    ("jit-secrets-plugin-flt", "plugin:flt/key", false),
    ("oci", "oci-vault:ocid1.vaultsecret.oc1.iad.x", false),
    ("keepassxc-cli", "keepassxc:db.kdbx#e", false),
];

/// What a store that parses its CLI's answer says when the answer cannot be parsed.
fn unparsable(reference: &str) -> &'static str {
    if reference.starts_with("keepassxc:") {
        "not the KeePass XML expected"
    } else {
        "not the JSON expected"
    }
}

/// What a store needs besides its CLI: keepassxc: a database file (the fake CLI never reads it)
/// and a way to unlock it without a terminal.
fn store_setup(sb: &Sandbox, reference: &str) -> &'static str {
    if reference.starts_with("keepassxc:") {
        sb.write("db.kdbx", "not read by the fake");
        sb.write("db.key", "key");
        "keepassxc = { keyfile = \"db.key\" }\n"
    } else {
        ""
    }
}

/// A fault that ends on its own: the timeout is far beyond any start-up, however loaded the
/// machine, so only the fault decides the verdict.
fn faulty_sandbox(program: &str, reference: &str, fault: &str) -> Sandbox {
    faulty_sandbox_with_timeout(program, reference, fault, "120s")
}

fn faulty_sandbox_with_timeout(
    program: &str,
    reference: &str,
    fault: &str,
    timeout: &str,
) -> Sandbox {
    let mut sb = Sandbox::new();
    let bin = sb.path().join("faulty-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(fake_dir().join("faulty"), bin.join(program)).unwrap();
    sb.set_env("FAULT", fault);
    let tag = STORES
        .iter()
        .position(|(p, r, _)| *p == program && *r == reference);
    sb.set_env(
        "FAULT_MARKER",
        &marker_sleeps(30 + tag.unwrap_or(0) as u32, 1)[0],
    );
    sb.set_env("FAULT_STARTED", sb.path().join("started"));
    sb.set_env("PASSWORD_STORE_DIR", sb.path().join("no-store"));
    let setup = store_setup(&sb, reference);
    sb.manifest(&format!(
        "[secrets]\nSECRET = {{ from = \"{reference}\", timeout = \"{timeout}\" }}\n[secrets.options]\n{setup}commands = {{ \"{program}\" = \"{}\" }}\n",
        bin.join(program).display()
    ));
    sb
}

#[track_caller]
fn assert_clear_failure(out: &std::process::Output, reference: &str, needle: &str) {
    assert_code(out, 1);
    assert_eq!(stdout(out), "false\n", "{reference}: no export on failure");
    let err = stderr(out);
    let first = err.lines().next().unwrap_or("");
    // A database path relative to the manifest is shown as the path it resolved to.
    let shown = match reference.strip_prefix("keepassxc:") {
        Some(rest) => {
            first.starts_with("jit-secrets: error: SECRET: keepassxc:/")
                && first.contains(&format!("/{rest} ("))
        }
        None => first.starts_with(&format!("jit-secrets: error: SECRET: {reference} (")),
    };
    assert!(shown, "{reference}: {err}");
    assert!(
        err.contains(needle),
        "{reference}: expected `{needle}` in:\n{err}"
    );
    assert!(err.contains("  fix: "), "{reference}: no fix in:\n{err}");
    assert!(err.lines().count() <= 12, "{reference}: too long:\n{err}");
}

#[test]
fn not_installed() {
    for (program, reference, _) in STORES {
        let sb = Sandbox::new();
        let setup = store_setup(&sb, reference);
        sb.manifest(&format!("[secrets]\nSECRET = \"{reference}\"\n[secrets.options]\n{setup}commands = {{ \"{program}\" = \"/nonexistent/{program}\" }}\n"));
        assert_clear_failure(
            &sb.jit_m(&["activate", "--shell", "bash"]),
            reference,
            "is not installed or not on PATH",
        );
    }
}

#[test]
fn exits_non_zero_or_is_killed() {
    for (program, reference, _) in STORES {
        let out =
            faulty_sandbox(program, reference, "exit1").jit_m(&["activate", "--shell", "bash"]);
        assert_clear_failure(&out, reference, "internal error 42");
        let out =
            faulty_sandbox(program, reference, "signal").jit_m(&["activate", "--shell", "bash"]);
        assert_clear_failure(&out, reference, "killed by signal 9");
    }
}

#[test]
fn hangs_are_killed_at_the_timeout_with_their_process_group() {
    // Every store at once, each with a timeout long enough for its fake CLI and grandchild to
    // start on a loaded machine (they take milliseconds): the suite waits one timeout, not one
    // per store.
    let runs: Vec<_> = STORES
        .iter()
        .map(|(program, reference, _)| {
            let sb = faulty_sandbox_with_timeout(program, reference, "hang", "8s");
            let child = sb
                .command(BIN)
                .arg("--manifest")
                .arg(sb.path().join("manifest.toml"))
                .args(["activate", "--shell", "bash"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (sb, reference, child)
        })
        .collect();
    for (sb, reference, child) in runs {
        let out = child.wait_with_output().unwrap();
        assert_clear_failure(&out, reference, "did not finish within 8s");
        assert!(
            sb.path().join("started").exists(),
            "{reference}: the grandchild never ran: the check below proves nothing"
        );
        let marker = vec![sb.env["FAULT_MARKER"].to_string_lossy().into_owned()];
        assert!(
            poll(|| alive(&marker).is_empty()),
            "{reference}: processes left behind: {:?}",
            alive(&marker)
        );
    }
}

#[test]
fn a_flood_of_output_is_capped() {
    for (program, reference, _) in STORES {
        // The flood never ends and the timeout is a minute away: only the cap ends the call,
        // and a timeout would be reported as one, not as this.
        let out = faulty_sandbox_with_timeout(program, reference, "flood", "60s")
            .jit_m(&["activate", "--shell", "bash"]);
        assert_clear_failure(&out, reference, "printed more than");
    }
}

#[test]
fn nothing_or_a_closed_stdout_is_an_error_not_an_empty_secret() {
    for fault in ["nothing", "close"] {
        for (program, reference, raw) in STORES {
            let out =
                faulty_sandbox(program, reference, fault).jit_m(&["activate", "--shell", "bash"]);
            let needle = if *raw {
                "printed nothing"
            } else {
                unparsable(reference)
            };
            assert_clear_failure(&out, reference, needle);
        }
    }
}

#[test]
fn invalid_utf8_passes_through_raw_stores_exactly_and_fails_json_stores_clearly() {
    for (program, reference, raw) in STORES {
        let out =
            faulty_sandbox(program, reference, "badutf8").jit_m(&["activate", "--shell", "bash"]);
        if *raw {
            // Bytes are the value; the shells carry them exactly (tests/shells.rs).
            assert_code(&out, 0);
            assert_eq!(
                posix_exports(&out.stdout),
                b"export SECRET='bad \xff\xfe\x80 utf8'\n",
                "{reference}"
            );
        } else {
            assert_clear_failure(&out, reference, unparsable(reference));
        }
    }
}
