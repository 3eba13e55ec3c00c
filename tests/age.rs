//! `age:PATH` decrypted in-process, interoperating with Debian's `age` CLI: X25519 identities
//! (default keys.txt, JIT_SECRETS_AGE_IDENTITY, `identity` option), SSH keys, armor, hostile
//! values, the wrong identity, and passphrase files without a terminal.

mod support;
use std::process::{Command, Stdio};
use support::*;

fn run(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", cmd, stderr(&out));
    out.stdout
}

/// age-keygen into `path`; returns the public key.
fn keygen(sb: &Sandbox, path: &std::path::Path) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = sb
        .command(require("age-keygen"))
        .arg("-o")
        .arg(path)
        .output()
        .unwrap();
    assert_code(&out, 0);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string()
}

fn encrypt(sb: &Sandbox, args: &[&str], value: &[u8], out: &str) {
    let target = sb.path().join(out);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    run(
        sb.command(require("age")).args(args).arg("-o").arg(&target),
        value,
    );
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_code(out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

const HOSTILE: &[u8] = b"it's \"x\" $(y) `z` \\\nline two\n\xff\xfe raw";

#[test]
fn decrypts_files_the_age_cli_encrypted_to_each_kind_of_identity() {
    let sb = Sandbox::new();
    let home = sb.path().join("h");
    let default_pub = keygen(&sb, &home.join(".config/age/keys.txt"));
    encrypt(&sb, &["-r", &default_pub], HOSTILE, "secrets/default.age");
    encrypt(
        &sb,
        &["-a", "-r", &default_pub],
        b"armored",
        "secrets/armored.age",
    );
    // An SSH key, as agenix users have.
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let kg = sb
        .command(require("ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(home.join(".ssh/id_ed25519"))
        .output()
        .unwrap();
    assert_code(&kg, 0);
    encrypt(
        &sb,
        &["-R", home.join(".ssh/id_ed25519.pub").to_str().unwrap()],
        b"via-ssh",
        "secrets/ssh.age",
    );
    sb.manifest(
        "[secrets]\nDEFAULT = { from = \"age:secrets/default.age\", trim = false }\nARMORED = \"age:secrets/armored.age\"\nSSH = \"age:secrets/ssh.age\"\nFALLBACK = { from = [\"age:secrets/absent.age\", \"age:secrets/armored.age\"] }\n",
    );
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    let back = sb.command("bash").args(["-c", "eval \"$(\"$JIT\" --manifest manifest.toml activate --shell bash)\"; printf '%s\\0' \"$DEFAULT\" \"$ARMORED\" \"$SSH\" \"$FALLBACK\""]).env("JIT", BIN).output().unwrap();
    assert_code(&back, 0);
    let parts: Vec<&[u8]> = back.stdout.split(|&b| b == 0).collect();
    assert_eq!(parts[0], HOSTILE);
    assert_eq!(parts[1], b"armored");
    assert_eq!(parts[2], b"via-ssh");
    assert_eq!(parts[3], b"armored");

    // An identity named explicitly: the environment variable, then the manifest option.
    let other = sb.path().join("keys/other.txt");
    let other_pub = keygen(&sb, &other);
    encrypt(&sb, &["-r", &other_pub], b"for-other", "secrets/other.age");
    sb.manifest("[secrets]\nOTHER = \"age:secrets/other.age\"\n");
    let out = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "json"])
        .env("JIT_SECRETS_AGE_IDENTITY", &other)
        .output()
        .unwrap();
    assert_eq!(json(&out)["OTHER"], "for-other");
    sb.manifest("[secrets]\nOTHER = \"age:secrets/other.age\"\n[secrets.options]\nidentity = \"keys/other.txt\"\n");
    assert_eq!(
        json(&sb.jit_m(&["activate", "--shell", "json"]))["OTHER"],
        "for-other"
    );
}

#[test]
fn the_wrong_identity_names_the_file_and_what_it_expects() {
    let sb = Sandbox::new();
    let home = sb.path().join("h");
    keygen(&sb, &home.join(".config/age/keys.txt"));
    let stranger = keygen(&sb, &sb.path().join("stranger.txt"));
    encrypt(&sb, &["-r", &stranger], b"not for you", "secrets/db.age");
    sb.manifest("[secrets]\nDB = \"age:secrets/db.age\"\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("secrets/db.age") && err.contains("encrypted to X25519"),
        "{err}"
    );
    assert!(
        err.contains(".config/age/keys.txt"),
        "names what was tried: {err}"
    );
    assert!(err.contains("fix: "), "{err}");
    assert_eq!(stdout(&out), "false\n");
}

#[test]
fn a_passphrase_file_is_asked_on_a_terminal_only_with_retries() {
    let sb = Sandbox::new();
    // age -p reads the passphrase from the terminal only; drive it through `script`.
    let target = sb.path().join("secrets/pw.age");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let cmd = format!(
        "printf 'hunter2\\nhunter2\\n' | script -qec \"age -p -o {} {}\" /dev/null >/dev/null",
        target.display(),
        sb.write("plain", "v").display()
    );
    let made = sb.command("bash").arg("-c").arg(&cmd).output().unwrap();
    if !target.exists() {
        panic!(
            "could not create a passphrase file with age -p: {}",
            stderr(&made)
        );
    }
    sb.manifest("[secrets]\nPW = \"age:secrets/pw.age\"\n");
    // No terminal (setsid: no controlling tty) → a clear error, no prompt, no hang.
    let out = sb
        .command("setsid")
        .args([
            "-w",
            BIN,
            "--manifest",
            "manifest.toml",
            "activate",
            "--shell",
            "bash",
        ])
        .output()
        .unwrap();
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("passphrase-protected") && stderr(&out).contains("no terminal"),
        "{}",
        stderr(&out)
    );
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("--no-prompt"), "{}", stderr(&out));
    // On a terminal: a wrong passphrase; the prompt comes back (a second time, after the
    // back-off) and the right one is taken. Each answer is typed only once its prompt shows.
    let r = on_a_terminal(
        &sb,
        serde_json::json!([
            {"expect": "Passphrase for"}, {"send": "wrong\n"},
            {"expect": "Passphrase for", "count": 2}, {"send": "hunter2\n"},
        ]),
        &["activate", "--shell", "json"],
    );
    assert_eq!(r["status"], 0, "{r}");
    assert_eq!(
        r["terminal"]
            .as_str()
            .unwrap()
            .matches("Passphrase for")
            .count(),
        2,
        "asked exactly twice: {r}"
    );
    assert_eq!(r["stdout"], "{\"PW\":\"v\"}\n", "{r}");
}
