//! Test fixtures: a sandbox per test (short temp dir, own HOME, PATH with the test tools), and
//! real stores started inside it. Every daemon a fixture starts is stopped when it is dropped.
//!
//! The real tools come from `scripts/install-test-deps.sh` (apt + a private pip venv). A missing
//! tool fails the test with the command to run: a test suite that skips itself proves nothing.
#![allow(dead_code)]

pub mod stores;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_jit-secrets");

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where `scripts/install-test-deps.sh` put aws, moto_server, vault/bao and doppler.
pub fn tools_bin() -> PathBuf {
    let base = std::env::var_os("JIT_TEST_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache")
                });
            cache.join("jit-secrets-test-tools")
        });
    base.join("bin")
}

/// The path of a program the tests need, or a failure that says how to install it.
pub fn require(program: &str) -> PathBuf {
    let tools = tools_bin().join(program);
    if tools.exists() {
        return tools;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(program);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{program}` is needed by this test and is not installed: run scripts/install-test-deps.sh"
    );
}

pub fn fake_dir() -> PathBuf {
    repo_root().join("tests/fake")
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, OsString>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        // Short and under /tmp: gpg-agent's socket path must stay under ~107 bytes.
        let dir = tempfile::Builder::new()
            .prefix("js")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let home = dir.path().join("h");
        std::fs::create_dir_all(&home).unwrap();
        let mut env = BTreeMap::new();
        env.insert("HOME".into(), home.clone().into_os_string());
        let path = std::env::join_paths([fake_dir(), tools_bin()].into_iter().chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        env.insert("PATH".into(), path);
        env.insert("NO_COLOR".into(), "1".into());
        // A test harness, as the README says this variable is for: tests of trust itself
        // remove it (`Sandbox::requiring_trust`).
        env.insert("JIT_SECRETS_TRUST_ALL_MANIFESTS".into(), "1".into());
        Sandbox { dir, env }
    }

    /// A sandbox where manifests must be allowed, as on a user's machine.
    pub fn requiring_trust() -> Sandbox {
        let mut sb = Sandbox::new();
        sb.env.remove("JIT_SECRETS_TRUST_ALL_MANIFESTS");
        sb
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set_env(&mut self, k: &str, v: impl Into<OsString>) {
        self.env.insert(k.to_string(), v.into());
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// [`Sandbox::write`], then mode 0755: a script a test runs as a program (a fake CLI).
    pub fn write_executable(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.write(name, contents);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        p
    }

    pub fn manifest(&self, text: &str) -> PathBuf {
        self.write("manifest.toml", text)
    }

    /// A command run in the sandbox: its environment is ours plus the sandbox's, with the
    /// variables the tests' own stores use cleared first so nothing leaks in from the host.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        for k in [
            "JIT_SECRETS_MANIFEST",
            "FLOX_ENV_PROJECT",
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "DOPPLER_TOKEN",
            "AWS_PROFILE",
            "OP_SERVICE_ACCOUNT_TOKEN",
            "DBUS_SESSION_BUS_ADDRESS",
            // The caller's own settings must not decide a test: trust tests need trust, and the
            // trust file must be the sandbox's (under its HOME), never the caller's.
            "JIT_SECRETS_TRUST_ALL_MANIFESTS",
            "JIT_SECRETS_PROFILE",
            "XDG_DATA_HOME",
        ] {
            c.env_remove(k);
        }
        c.envs(&self.env)
            .current_dir(self.path())
            .stdin(Stdio::null());
        c
    }

    pub fn jit(&self, args: &[&str]) -> Output {
        self.command(BIN)
            .args(args)
            .output()
            .expect("run jit-secrets")
    }

    /// `jit-secrets ARGS` with the sandbox's manifest.
    pub fn jit_m(&self, args: &[&str]) -> Output {
        let m = self.path().join("manifest.toml");
        let mut all = vec!["--manifest", m.to_str().unwrap()];
        all.extend_from_slice(args);
        self.jit(&all)
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Live (not zombie) processes whose command line is exactly one of `markers`. Tests mark the
/// processes they look for with a `sleep` of a duration no other test uses.
pub fn alive(markers: &[String]) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-eo", "stat=,args="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter_map(|l| l.trim().split_once(' '))
        .filter(|(stat, _)| !stat.starts_with('Z'))
        .map(|(_, args)| args.trim().to_string())
        .filter(|args| markers.contains(args))
        .collect()
}

/// Polls `what` until it holds (true) or 20 s pass (false): for the process table, never a
/// timing assertion.
pub fn poll(what: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A `sleep` command line no other test (or other run) uses: `sleep 4PPTAG.N1`.
pub fn marker_sleeps(tag: u32, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("sleep 4{}{tag}.{i}1", std::process::id() % 100))
        .collect()
}

/// `jit-secrets --manifest <the sandbox's> ARGS` with a pseudo-terminal as its controlling
/// terminal, stdin and stderr (stdout on a pipe), driven by `steps` (see on_a_terminal.py).
/// Returns its report: status, stdout, what the terminal showed, whether echo is on.
pub fn on_a_terminal(sb: &Sandbox, steps: serde_json::Value, args: &[&str]) -> serde_json::Value {
    let out = sb
        .command("python3")
        .arg(repo_root().join("tests/support/on_a_terminal.py"))
        .arg(steps.to_string())
        .arg("--")
        .arg(BIN)
        .arg("--manifest")
        .arg(sb.path().join("manifest.toml"))
        .args(args)
        .output()
        .unwrap();
    assert_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", stdout(&out)))
}

/// Asserts that activation failed as promised: exit 1, only the failure statement on stdout, and
/// each needle (the secret, the store's words, the fix) on stderr.
#[track_caller]
pub fn assert_fails_with(out: &Output, needles: &[&str]) {
    assert_code(out, 1);
    assert_eq!(stdout(out), "false\n", "only the failure statement");
    for needle in needles {
        assert!(
            stderr(out).contains(needle),
            "expected `{needle}` in:\n{}",
            stderr(out)
        );
    }
}

/// Asserts an exit code and shows both streams when it differs.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port whose neighbour is also free (OpenBao's dev mode binds PORT+1 too).
pub fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65535 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free port pair");
}

pub fn wait_for_port(port: u16, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listened on 127.0.0.1:{port} within {timeout:?}");
}

/// A background process in its own process group, killed (whole group) when dropped.
pub struct Daemon {
    pub name: String,
    pub child: std::process::Child,
}

impl Daemon {
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Daemon {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        Daemon {
            name: name.into(),
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pg = self.child.id() as i32;
        unsafe { libc::killpg(pg, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                unsafe { libc::killpg(pg, libc::SIGKILL) };
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        unsafe { libc::killpg(pg, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Values that break naive quoting, each a separate test case.
pub fn hostile_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("SINGLE", b"it's".to_vec()),
        ("DOUBLE", b"say \"hi\"".to_vec()),
        ("SUBST", b"$(touch /tmp/pwned) `touch /tmp/pwned2`".to_vec()),
        ("DOLLARS", b"$$ $HOME ${PATH} $1 $@ $".to_vec()),
        ("BACKSLASHES", b"a\\b\\\\c \\n \\' \\\"".to_vec()),
        ("TRAILING_BS", b"ends with \\".to_vec()),
        ("QUOTE_AFTER_BS", b"\\'; echo injected; '".to_vec()),
        ("NEWLINES", b"line1\nline2\n\nline4\n".to_vec()),
        ("TABS_CR", b"a\tb\rc\x0b\x0c".to_vec()),
        (
            "UNICODE",
            "ünïcødé €😀 \u{FEFF}zero\u{200B}width \u{202E}rtl"
                .as_bytes()
                .to_vec(),
        ),
        ("DASH", b"-n -e --help".to_vec()),
        ("EMPTY", b"".to_vec()),
        ("GLOB", b"* ? [a-z] ~ ~root {a,b}".to_vec()),
        ("FISH_SPECIAL", b"(echo x) {a,b} ; & | > < # %self".to_vec()),
        ("BANG", b"!! !$ !-1 ^x^y".to_vec()),
        (
            "BIG",
            "0123456789abcdef\n'\\$`"
                .repeat(100 * 1024 / 21)
                .into_bytes(),
        ),
    ]
}

/// The syscalls that can write to the filesystem, for `strace -e trace=…`.
pub const WRITE_SYSCALLS: &str = "open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat,link,linkat,symlink,symlinkat,truncate,ftruncate,chmod,fchmodat,chown,fchownat,utimensat";

/// Lines of an `strace -f` log that wrote to the filesystem: successful calls, outside /dev and
/// /proc. Under -f a call can be split into `<unfinished ...>` and `<... resumed>` lines (another
/// process ran in between); those are joined first, so a failed call is never mistaken for one
/// that succeeded.
/// Is this traced write the lease turn's lock: an empty file opened in the user's own 0700 lease
/// directory (docs/leases.md), never written to?
pub fn is_lease_turn_lock(write: &str) -> bool {
    write.contains("/leases/") && write.contains(".lock\", O_WRONLY|O_CREAT|O_CLOEXEC, 0600)")
}

pub fn find_writes(trace: &str) -> Vec<String> {
    let mut pending: BTreeMap<String, String> = BTreeMap::new();
    let mut calls = Vec::new();
    for line in trace.lines() {
        let pid = line.split_whitespace().next().unwrap_or("").to_string();
        if let Some(head) = line.strip_suffix("<unfinished ...>") {
            pending.insert(pid, head.to_string());
        } else if line.contains(" resumed>") {
            let tail = line.split_once(" resumed>").map_or("", |(_, t)| t);
            calls.push(format!(
                "{}{tail}",
                pending.remove(&pid).unwrap_or_default()
            ));
        } else {
            calls.push(line.to_string());
        }
    }
    let write_calls = [
        "creat(",
        "rename(",
        "renameat(",
        "renameat2(",
        "unlink(",
        "unlinkat(",
        "rmdir(",
        "mkdir(",
        "mkdirat(",
        "link(",
        "linkat(",
        "symlink(",
        "symlinkat(",
        "truncate(",
        "ftruncate(",
        "chmod(",
        "fchmodat(",
        "chown(",
        "fchownat(",
        "utimensat(",
    ];
    calls
        .into_iter()
        .filter(|l| !l.contains("= -1 E"))
        .filter(|l| {
            let call = l.split_whitespace().nth(1).unwrap_or("");
            let opens_for_write = (call.starts_with("open(")
                || call.starts_with("openat(")
                || call.starts_with("openat2("))
                && (l.contains("O_WRONLY")
                    || l.contains("O_RDWR")
                    || l.contains("O_CREAT")
                    || l.contains("O_TRUNC"));
            opens_for_write || write_calls.iter().any(|c| call.starts_with(c))
        })
        .filter(|l| !l.contains("\"/dev/") && !l.contains("\"/proc/"))
        .collect()
}

/// Puts the recorder (tests/fake/record) in front of each real `program`: returns the
/// `commands = { … }` entries for the manifest's `[secrets.options]` and the call log.
pub fn record(sb: &mut Sandbox, programs: &[&str]) -> (String, PathBuf) {
    let dir = sb.path().join("rec");
    std::fs::create_dir_all(&dir).unwrap();
    let log = sb.path().join("calls.log");
    let mut entries = Vec::new();
    for program in programs {
        let link = dir.join(program);
        std::os::unix::fs::symlink(fake_dir().join("record"), &link).unwrap();
        sb.set_env(
            &format!("RECORD_REAL_{}", program.replace('-', "_")),
            require(program),
        );
        entries.push(format!("\"{program}\" = \"{}\"", link.display()));
    }
    sb.set_env("RECORD_LOG", &log);
    (entries.join(", "), log)
}

/// The argv of every recorded call, program first.
pub fn recorded_calls(log: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `jit-secrets --manifest <the sandbox's> set ARGS…` with `value` on stdin, as a person pipes it.
pub fn set_on_stdin(sb: &Sandbox, args: &[&str], value: &[u8]) -> Output {
    use std::io::Write;
    let mut child = sb
        .command(BIN)
        .arg("--manifest")
        .arg(sb.path().join("manifest.toml"))
        .arg("set")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A `set` that refuses before reading its stdin may exit before we write: not our failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(value) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

/// Standard padded base64 of `bytes` (coreutils' `base64`), for stores and stubs that keep it.
pub fn base64(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

/// The export lines of `activate`'s POSIX output, without the lines that record the activation
/// for `deactivate` (each is one line starting `command -v eval `: see src/shell/session.rs).
pub fn posix_exports(code: &[u8]) -> Vec<u8> {
    code.split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"command -v eval "))
        .flatten()
        .copied()
        .collect()
}

/// [`posix_exports`] of a command's stdout, as text.
pub fn exports(o: &Output) -> String {
    String::from_utf8_lossy(&posix_exports(&o.stdout)).into_owned()
}
