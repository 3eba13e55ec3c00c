//! The memory-only cache against the real kernel key retention service: hits, misses (TTL, a
//! changed reference, profile or store context), `--refresh`, `verify` bypassing it and dropping
//! a stale entry, `cache list`/`clear`, the keys' permissions, another uid locked out, no file
//! written on a hit or a miss, and no value in any listing.
//!
//! Every process of one uid shares the user keyring: each test uses its own sandbox (so its own
//! manifest path, part of every key) and clears its entries.

mod support;
use support::*;

const CANARY: &str = "cache-canary-5d1e0b7a";

/// A store CLI stand-in (as `aws`, so AWS_PROFILE is part of the key) that logs each call and
/// answers the canary, or whatever `value-file` holds.
fn sandbox(manifest: &str) -> (Sandbox, std::path::PathBuf) {
    let mut sb = Sandbox::new();
    let log = sb.path().join("calls.log");
    sb.write("value-file", CANARY);
    let aws = sb.write_executable(
        "fake-aws",
        "#!/bin/sh\necho \"$AWS_PROFILE $*\" >> \"$CALL_LOG\"\n[ -e \"$VALUE_FILE\" ] || { echo \"An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.\" >&2; exit 254; }\nprintf '{\"Name\":\"x\",\"SecretString\":\"%s\"}' \"$(cat \"$VALUE_FILE\")\"\n",
    );
    sb.set_env("CALL_LOG", &log);
    sb.set_env("VALUE_FILE", sb.path().join("value-file"));
    sb.set_env("AWS_PROFILE", "dev");
    sb.manifest(&format!(
        "{manifest}[secrets.options]\ncommands = {{ aws = \"{}\" }}\n",
        aws.display()
    ));
    (sb, log)
}

fn calls(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .count()
}

fn value(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["activate", "--shell", "json"];
    all.extend_from_slice(args);
    let out = sb.jit_m(&all);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["S"].as_str().unwrap().to_string()
}

#[test]
fn a_hit_skips_the_store_and_every_part_of_the_key_makes_a_miss() {
    let (mut sb, log) = sandbox(
        "[secrets]\nS = { from = \"aws-sm:app/s\", cache = \"15m\" }\n[secrets.profiles.other]\nT = \"env:HOME\"\n",
    );
    assert_eq!(value(&sb, &[]), CANARY);
    assert_eq!(calls(&log), 1, "a miss asks the store");
    assert_eq!(value(&sb, &[]), CANARY);
    assert_eq!(calls(&log), 1, "a hit does not");
    // --refresh asks again (and refills).
    assert_eq!(value(&sb, &["--refresh"]), CANARY);
    assert_eq!(calls(&log), 2);
    // Another AWS profile is another account: a miss.
    sb.set_env("AWS_PROFILE", "prod");
    value(&sb, &[]);
    assert_eq!(calls(&log), 3, "AWS_PROFILE is part of the key");
    sb.set_env("AWS_PROFILE", "dev");
    value(&sb, &[]);
    assert_eq!(calls(&log), 3, "back to dev: its entry is still there");
    // Another profile of the manifest: a miss.
    value(&sb, &["--profile", "other"]);
    assert_eq!(calls(&log), 4, "the profile is part of the key");
    // Another reference: a miss.
    sb.manifest(
        &std::fs::read_to_string(sb.path().join("manifest.toml"))
            .unwrap()
            .replace("app/s\"", "app/s2\""),
    );
    value(&sb, &[]);
    assert_eq!(calls(&log), 5, "the reference is part of the key");

    // `cache list` names entries, stores and time left — never a value; `clear` empties it.
    let out = sb.jit_m(&["cache", "list"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("S\taws-secretsmanager\t"),
        "{}",
        stdout(&out)
    );
    // Cached for 15 minutes moments ago: minutes left, not none (`cache::remaining`).
    let minutes_left: u64 = stdout(&out)
        .split("aws-secretsmanager\t")
        .nth(1)
        .and_then(|rest| rest.split('m').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("{}", stdout(&out)));
    assert!(minutes_left >= 10, "{}", stdout(&out));
    assert!(!stdout(&out).contains(CANARY) && !stderr(&out).contains(CANARY));
    let all = sb.jit(&["cache", "list", "--all"]);
    assert!(!stdout(&all).contains(CANARY));
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
    assert_eq!(stdout(&sb.jit_m(&["cache", "list"])), "");
    value(&sb, &[]);
    assert_eq!(calls(&log), 6, "cleared: a miss");
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

#[test]
fn entries_expire_with_their_ttl() {
    let (sb, log) = sandbox("[secrets]\nS = { from = \"aws-sm:app/s\", cache = \"1s\" }\n");
    value(&sb, &[]);
    value(&sb, &[]);
    assert_eq!(calls(&log), 1);
    // The kernel drops the key when its timeout passes: poll until the next activation misses.
    assert!(
        poll(|| {
            value(&sb, &[]);
            calls(&log) > 1
        }),
        "the entry never expired"
    );
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

#[test]
fn verify_never_reads_the_cache_and_drops_a_stale_entry() {
    let (sb, log) = sandbox("[secrets]\nS = { from = \"aws-sm:app/s\", cache = \"15m\" }\n");
    value(&sb, &[]);
    let out = sb.jit_m(&["verify"]);
    assert_code(&out, 0);
    assert_eq!(calls(&log), 2, "verify asked the store");
    // The store's value changes (a rotation): verify notices and drops the cached copy, so the
    // next activation fetches the new value instead of serving the old one for 15 minutes.
    sb.write("value-file", "rotated-value");
    assert_eq!(value(&sb, &[]), CANARY, "still cached");
    sb.jit_m(&["verify"]);
    assert_eq!(value(&sb, &[]), "rotated-value");
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

#[test]
fn verify_and_refresh_drop_the_entry_of_a_secret_the_store_no_longer_has() {
    for command in [
        &["verify"][..],
        &["activate", "--shell", "json", "--refresh"],
    ] {
        let (sb, _log) = sandbox("[secrets]\nS = { from = \"aws-sm:app/s\", cache = \"15m\" }\n");
        assert_eq!(value(&sb, &[]), CANARY);
        // Revoked in the store: verify (or a refresh) reports it missing...
        std::fs::remove_file(sb.path().join("value-file")).unwrap();
        let out = sb.jit_m(command);
        assert_code(&out, 1);
        let said = stdout(&out) + &stderr(&out);
        assert!(said.contains("not found in aws-sm:app/s"), "{said}");
        // ...and the next activation does not export the revoked value for the rest of the TTL.
        let out = sb.jit_m(&["activate", "--shell", "json"]);
        assert_code(&out, 1);
        assert!(
            !stdout(&out).contains(CANARY),
            "served a revoked value after {command:?}"
        );
        assert_code(&sb.jit_m(&["cache", "clear"]), 0);
    }
}

#[test]
fn keys_are_ours_alone_and_no_file_is_written() {
    let (sb, _log) = sandbox("[secrets]\nS = { from = \"aws-sm:app/s\", cache = \"15m\" }\n");
    // Miss and hit under strace: no file written either time.
    let strace = require("strace");
    for round in ["miss", "hit"] {
        let trace = sb.path().join(format!("strace-{round}.log"));
        let out = sb
            .command(&strace)
            .args(["-f", "-qq", "-e", "trace=%file,write", "-o"])
            .arg(&trace)
            .arg(BIN)
            .arg("--manifest")
            .arg(sb.path().join("manifest.toml"))
            .args(["activate", "--shell", "bash"])
            .output()
            .unwrap();
        assert_code(&out, 0);
        let text = std::fs::read_to_string(&trace).unwrap();
        let writes: Vec<String> = find_writes(&text)
            .into_iter()
            .filter(|w| !w.contains("calls.log"))
            .collect();
        assert!(writes.is_empty(), "{round}: {writes:?}");
    }
    // Permissions, as the kernel reports them: possessor all, our uid view/read/write/search.
    let ours: Vec<_> = jit_secrets::cache::list_all()
        .unwrap()
        .into_iter()
        .filter(|l| {
            l.manifest
                .starts_with(&sb.path().canonicalize().unwrap().display().to_string())
        })
        .collect();
    assert_eq!(ours.len(), 1);
    let described = jit_secrets::cache::describe(ours[0].serial).unwrap();
    let fields: Vec<&str> = described.split(';').collect();
    assert_eq!(fields[0], "user");
    assert_eq!(fields[3], "3f0f0000", "{described}");
    // Another uid cannot read it (the system's python3: a per-user one may live where `nobody`
    // cannot reach it).
    let python = std::path::Path::new("/usr/bin/python3");
    if let Ok(setpriv) = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
    {
        if setpriv.status.success() && unsafe { libc::getuid() } == 0 && python.exists() {
            let nr = if cfg!(target_arch = "aarch64") {
                219
            } else {
                250
            };
            let out = sb
                .command("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(python)
                .arg("-c")
                .arg(format!(
                    "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); buf = ctypes.create_string_buffer(4096); n = libc.syscall({nr}, 11, {}, buf, 4096); print(n, ctypes.get_errno()); sys.stdout.flush(); sys.exit(0 if n < 0 else 1)",
                    ours[0].serial
                ))
                .output()
                .unwrap();
            assert_code(&out, 0);
            assert!(!stdout(&out).contains(CANARY));
        }
    }
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

#[test]
fn cache_on_local_references_alone_is_a_manifest_error() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nS = { from = [\"env:A\", \"file:x\"], cache = \"15m\" }\n");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("nothing to cache"),
        "{}",
        stderr(&out)
    );
    sb.manifest("[secrets]\nS = { from = \"cmd:true\", cache = \"25h\" }\n");
    let out = sb.jit_m(&["list"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("at most 24h"), "{}", stderr(&out));
}

/// A `cmd:` answer depends on the environment it inherits: a production shell must never get
/// the token a development shell cached. `cache_env` narrows the key to what matters.
#[test]
fn a_programs_cached_value_follows_its_environment() {
    let mut sb = Sandbox::new();
    let log = sb.path().join("calls.log");
    sb.set_env("CALL_LOG", &log);
    sb.manifest("[secrets]\nS = { from = \"cmd:sh -c 'echo x >> \\\"$CALL_LOG\\\"; printf tok-$STAGE'\", cache = \"10m\" }\nNARROW = { from = \"cmd:sh -c 'printf narrow-$STAGE-$OTHER'\", cache = \"10m\", cache_env = [\"STAGE\"] }\n");
    sb.set_env("STAGE", "dev");
    assert_eq!(value(&sb, &[]), "tok-dev");
    sb.set_env("STAGE", "prod");
    assert_eq!(
        value(&sb, &[]),
        "tok-prod",
        "the dev token was served to a prod shell"
    );
    sb.set_env("STAGE", "dev");
    assert_eq!(value(&sb, &[]), "tok-dev");
    assert_eq!(calls(&log), 2, "dev's entry is still there");
    // What varies per shell is not part of the key.
    sb.set_env("SHLVL", "7");
    sb.set_env("PWD", "/elsewhere");
    assert_eq!(value(&sb, &[]), "tok-dev");
    assert_eq!(calls(&log), 2);
    // With cache_env, only the listed variables count: NARROW was cached (as dev, OTHER unset)
    // by the activations above, and OTHER does not change its key.
    let narrow = |sb: &Sandbox| {
        let out = sb.jit_m(&["activate", "--shell", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["NARROW"].as_str().unwrap().to_string()
    };
    sb.set_env("OTHER", "b");
    assert_eq!(
        narrow(&sb),
        "narrow-dev-",
        "OTHER is not in cache_env: a hit"
    );
    sb.set_env("STAGE", "prod");
    assert_eq!(
        narrow(&sb),
        "narrow-prod-",
        "prod's own entry (cached above)"
    );
    sb.set_env("STAGE", "staging");
    assert_eq!(
        narrow(&sb),
        "narrow-staging-b",
        "a STAGE not seen yet: a miss"
    );
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

/// Settings reach cached entries: a shorter TTL is not outlived by an entry cached under a longer
/// one, and a reference changed `k → k2 → k` does not revive `k`'s old value.
#[test]
fn settings_changes_reach_cached_entries() {
    let (sb, log) = sandbox("[secrets]\nS = { from = \"aws-sm:app/k\", cache = \"10m\" }\n");
    assert_eq!(value(&sb, &[]), CANARY);
    let m = sb.path().join("manifest.toml");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text.replace("\"10m\"", "\"2s\"")).unwrap();
    value(&sb, &[]);
    assert_eq!(calls(&log), 2, "the 10m entry was served under a 2s TTL");
    let listed = stdout(&sb.jit_m(&["cache", "list"]));
    assert!(
        listed.lines().all(|l| l.contains("0m0")),
        "only the 2s entry is left: {listed}"
    );
    // k → k2 → k, the store changing meanwhile.
    std::fs::write(&m, text.replace("app/k\"", "app/k2\"")).unwrap();
    value(&sb, &[]);
    sb.write("value-file", "newer");
    std::fs::write(&m, &text).unwrap();
    assert_eq!(value(&sb, &[]), "newer", "k's old cached value came back");
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

/// Fifty shells started at once, every value cold: the store calls of one shell, not fifty times
/// them (ten entries: ten calls).
#[test]
fn a_stampede_of_cold_activations_makes_one_round_of_store_calls() {
    let mut sb = Sandbox::new();
    let log = sb.path().join("calls.log");
    sb.set_env("CALL_LOG", &log);
    let mut m = String::from("[secrets]\n");
    for i in 0..10 {
        m.push_str(&format!(
            "S{i} = {{ from = \"cmd:sh -c 'echo {i} >> \\\"$CALL_LOG\\\"; sleep 0.2; printf v{i}'\", cache = \"10m\" }}\n"
        ));
    }
    sb.manifest(&m);
    let shells: Vec<_> = (0..50)
        .map(|_| {
            sb.command(BIN)
                .arg("--manifest")
                .arg(sb.path().join("manifest.toml"))
                .args(["activate", "--shell", "json"])
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for shell in shells {
        let out = shell.wait_with_output().unwrap();
        assert_code(&out, 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["S9"], "v9");
    }
    assert_eq!(calls(&log), 10, "50 cold shells made more calls than one");
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

/// A program that leaves a background process holding its output (`sleep … & printf v`) is
/// done when it exits, plus a short grace: not at the timeout, and not an error.
#[test]
fn a_store_whose_background_child_holds_stdout_is_done_when_it_exits() {
    let sb = Sandbox::new();
    let marker = marker_sleeps(60, 1).remove(0);
    sb.manifest(&format!(
        "[secrets]\nV = {{ from = \"cmd:sh -c '{marker} & printf v'\", timeout = \"120s\" }}\n"
    ));
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "{\"V\":\"v\"}\n");
    assert!(
        poll(|| alive(std::slice::from_ref(&marker)).is_empty()),
        "the background process was left running"
    );
}

/// A value the kernel cannot keep is fetched and exported all the same, and the note says
/// exactly which and why.
#[test]
fn the_note_says_exactly_what_was_not_cached() {
    let mut sb = Sandbox::new();
    sb.manifest("[secrets]\nBIG = { from = \"cmd:python3 -c print(chr(120)*40003,end=str())\", cache = \"10m\" }\nSMALL = { from = \"cmd:printf small\", cache = \"10m\" }\n");
    sb.set_env("X", "1");
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("1 of 2 values cached"), "{err}");
    assert!(
        err.contains(
            "BIG is 40003 bytes: over the kernel's 32767-byte limit for one key, not cached"
        ),
        "{err}"
    );
    assert_code(&sb.jit_m(&["cache", "clear"]), 0);
}

/// jit-secrets: keys in /proc/keys whose timeout column says "perm" (no expiry).
fn keys_without_a_timeout() -> Vec<String> {
    std::fs::read_to_string("/proc/keys")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" jit-secrets:"))
        .filter(|l| l.split_whitespace().nth(3) == Some("perm"))
        .map(str::to_string)
        .collect()
}

/// 500 signals at random points of cold cached activations (SIGTERM, SIGHUP, SIGINT in turn): a key
/// is created complete (permissions and timeout set) or not at all, so none is ever left without
/// a timeout to be served forever.
#[test]
fn interrupted_cold_activations_never_leave_a_key_without_a_timeout() {
    let sb = Sandbox::new();
    let mut m = String::from("[secrets]\n");
    for i in 0..60 {
        m.push_str(&format!(
            "K{i} = {{ from = \"cmd:printf v{i}\", cache = \"30s\" }}\n"
        ));
    }
    sb.manifest(&m);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..500 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = std::time::Duration::from_micros((seed >> 33) % 20_000);
        let signal = [libc::SIGTERM, libc::SIGHUP, libc::SIGINT][round % 3];
        let child = sb
            .command(BIN)
            .arg("--manifest")
            .arg(sb.path().join("manifest.toml"))
            .args(["activate", "--shell", "json"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        // SAFETY: plain kill(2) on a process we started.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let _ = child.wait_with_output();
        assert_code(&sb.jit_m(&["cache", "clear"]), 0);
    }
    assert!(
        poll(|| keys_without_a_timeout().is_empty()),
        "keys without a timeout: {:?}",
        keys_without_a_timeout()
    );
}

/// `(keys, bytes)` used of a uid's kernel key quota, from `/proc/key-users`.
fn quota_used(uid: u32) -> (u64, u64, u64, u64) {
    let text = std::fs::read_to_string("/proc/key-users").unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{uid}:")))
        .unwrap_or_else(|| panic!("no quota line for {uid}: {text}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    let pair = |f: &str| {
        let (a, b) = f.split_once('/').unwrap();
        (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap())
    };
    let (keys, max_keys) = pair(fields[3]);
    let (bytes, max_bytes) = pair(fields[4]);
    (keys, max_keys, bytes, max_bytes)
}

/// The key quota is shared with Kerberos, ecryptfs and sssd: the cache takes at most half of
/// what is left, and says how many values it kept. Run as an unprivileged user (root's quota is
/// a million keys), as a user's shell would.
#[test]
fn the_cache_takes_at_most_half_of_a_users_key_quota() {
    let nobody = 65534u32;
    // SAFETY: getuid has no preconditions.
    assert_eq!(
        unsafe { libc::getuid() },
        0,
        "this test switches to an unprivileged uid: run it as root (CI does)"
    );
    let sb = Sandbox::new();
    let mut m = String::from("[secrets]\n");
    for i in 0..30 {
        m.push_str(&format!(
            "V{i} = {{ from = \"cmd:printf %01000d {i}\", cache = \"10m\" }}\n"
        ));
    }
    sb.manifest(&m);
    for p in [sb.path().to_path_buf(), sb.path().join("manifest.toml")] {
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let as_nobody = |args: &[&str]| {
        sb.command("setpriv")
            .args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "--",
            ])
            .arg(BIN)
            .arg("--manifest")
            .arg(sb.path().join("manifest.toml"))
            .args(args)
            .env("HOME", sb.path())
            .output()
            .unwrap()
    };
    let out = as_nobody(&["cache", "clear", "--all"]);
    assert_code(&out, 0);
    let out = as_nobody(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["V29"].as_str().unwrap().len(),
        1000,
        "every value exported, cached or not"
    );
    let err = stderr(&out);
    assert!(
        err.contains("of 30 values cached") && err.contains("/proc/key-users"),
        "{err}"
    );
    let (keys, max_keys, bytes, max_bytes) = quota_used(nobody);
    assert!(
        bytes <= max_bytes / 2 + 200,
        "{bytes} of {max_bytes} bytes used"
    );
    assert!(keys <= max_keys / 2 + 2, "{keys} of {max_keys} keys used");
    // ... and it does take its half: what it charges itself is what the kernel charges (a value
    // of about 1,300 bytes with its header and description), so the share is nearly filled.
    let kept: usize = err
        .split(" of 30 values cached")
        .next()
        .and_then(|s| s.rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(kept >= 1, "{err}");
    assert!(
        bytes + 2 * 1400 >= max_bytes / 2,
        "{bytes} of {max_bytes} bytes used for {kept} values: the cache stopped short of its half"
    );
    // A second shell is served what was cached and fetches the rest.
    let out = as_nobody(&["activate", "--shell", "json"]);
    assert_code(&out, 0);
    assert_code(&as_nobody(&["cache", "clear", "--all"]), 0);
}

/// More keys in the user keyring than a fixed buffer holds (4,096 serials in 16 KiB): `cache
/// list` and `clear` still see every one (the read is sized from the kernel's answer).
#[test]
fn cache_list_and_clear_see_every_key_however_many() {
    let sb = Sandbox::new();
    sb.manifest("[secrets]\nS = { from = \"cmd:printf v\", cache = \"10m\" }\n");
    let manifest = sb.path().join("manifest.toml");
    // 4,300 keys in our format, made with the raw syscalls (as the cache makes them).
    let script = r#"
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
manifest = sys.argv[1]
expires = int(time.time()) + 600
for i in range(4300):
    payload = b"jit-secrets-cache-1\n" + f"{manifest}\nMANY{i}\ncmd:printf v\n{expires}\n".encode() + b"\0v"
    serial = libc.syscall(add_key, b"user", f"jit-secrets:many-{i}-{os.getpid()}".encode(), payload, len(payload), ctypes.c_long(-4))
    assert serial > 0, ctypes.get_errno()
    libc.syscall(keyctl, 5, serial, 0x3f0f0000)
    libc.syscall(keyctl, 15, serial, 600)
"#;
    let out = sb
        .command("python3")
        .args(["-c", script])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let out = sb.jit_m(&["cache", "list"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("MANY"))
            .count(),
        4300
    );
    let out = sb.jit_m(&["cache", "clear"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("dropped 4300 cached value(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&sb.jit_m(&["cache", "list"])), "");
}
