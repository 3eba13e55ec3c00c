//! Real stores, each isolated in the sandbox and stopped on drop.

use super::*;
use std::io::Write;

fn run_ok(mut cmd: Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

fn run_with_stdin(mut cmd: Command, input: &[u8], what: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// `pass` with a throwaway GnuPG key in the sandbox (no passphrase, unless
/// [`PassStore::with_passphrase`]).
pub struct PassStore {
    gnupghome: PathBuf,
    store: PathBuf,
    env: Vec<(String, OsString)>,
}

impl PassStore {
    pub fn new(sb: &mut Sandbox) -> PassStore {
        PassStore::with_passphrase(sb, "")
    }

    /// A store whose key is protected by `passphrase` ("" for none). The agent starts with an
    /// empty cache: decrypting needs the passphrase until [`PassStore::unlock`].
    pub fn with_passphrase(sb: &mut Sandbox, passphrase: &str) -> PassStore {
        require("pass");
        require("gpg");
        let gnupghome = sb.path().join("g");
        let store = sb.path().join("p");
        std::fs::create_dir_all(&gnupghome).unwrap();
        std::fs::set_permissions(
            &gnupghome,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        sb.set_env("GNUPGHOME", &gnupghome);
        sb.set_env("PASSWORD_STORE_DIR", &store);
        let mut gen = sb.command("gpg");
        gen.args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            "jit test <t@example.invalid>",
            "future-default",
            "default",
            "never",
        ]);
        run_ok(gen, "gpg --quick-gen-key");
        let mut list = sb.command("gpg");
        list.args(["--batch", "--with-colons", "--list-secret-keys"]);
        let listing = stdout(&run_ok(list, "gpg --list-secret-keys"));
        let fpr = listing
            .lines()
            .find(|l| l.starts_with("fpr"))
            .and_then(|l| l.split(':').nth(9))
            .expect("fingerprint")
            .to_string();
        let mut init = sb.command("pass");
        init.args(["init", &fpr]);
        run_ok(init, "pass init");
        if !passphrase.is_empty() {
            // Restart the agent, so key generation leaves no passphrase in its cache.
            let mut kill = sb.command("gpgconf");
            kill.args(["--kill", "gpg-agent"]);
            run_ok(kill, "gpgconf --kill gpg-agent");
        }
        // Start the agent now, so a traced run does not wait for a daemon it spawned.
        let mut launch = sb.command("gpgconf");
        launch.args(["--launch", "gpg-agent"]);
        run_ok(launch, "gpgconf --launch gpg-agent");
        PassStore {
            gnupghome,
            store,
            env: sb.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Has the agent cache the passphrase, as a person's first `pass show` on a terminal would:
    /// one decryption with the passphrase given on the command line (a test key's, not a value).
    pub fn unlock(&self, path: &str, passphrase: &str) {
        let mut c = self.cmd("gpg");
        let file = self.store.join(format!("{path}.gpg"));
        c.args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
            "-d",
        ])
        .arg(file);
        run_ok(c, "gpg -d");
    }

    /// `pass insert -m` stores stdin byte for byte.
    pub fn insert(&self, path: &str, value: &[u8]) {
        let mut c = self.cmd("pass");
        c.args(["insert", "-m", "-f", path]);
        run_with_stdin(c, value, "pass insert");
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        let mut c = self.cmd("gpgconf");
        c.args(["--kill", "all"]).env("GNUPGHOME", &self.gnupghome);
        let _ = c.output();
    }
}

/// moto's Secrets Manager + SSM on 127.0.0.1. jit-secrets reaches it in-process (the SDK): its
/// `PATH` in the sandbox has no `aws` (a test that wants the CLI route names it in the
/// manifest's `commands`); the tests' own seeding and checks use the real CLI.
pub struct Moto {
    _daemon: Daemon,
    pub port: u16,
    env: Vec<(String, OsString)>,
}

/// The sandbox's `PATH` without any directory that holds one of `programs`: the test tools
/// are linked into a directory of their own, all but those.
pub fn path_without(sb: &Sandbox, programs: &[&str]) -> OsString {
    let tools = sb.path().join(format!("tools-but-{}", programs.join("-")));
    std::fs::create_dir_all(&tools).unwrap();
    for entry in std::fs::read_dir(tools_bin()).unwrap() {
        let entry = entry.unwrap();
        if !programs.iter().any(|p| entry.file_name() == *p) {
            let _ = std::os::unix::fs::symlink(entry.path(), tools.join(entry.file_name()));
        }
    }
    let path = sb.env.get("PATH").cloned().unwrap_or_default();
    // In place of the tools directory, so the fakes before it still come first.
    let dirs = std::env::split_paths(&path)
        .map(|d| if d == tools_bin() { tools.clone() } else { d })
        .filter(|d| !programs.iter().any(|p| d.join(p).exists()));
    std::env::join_paths(dirs).unwrap()
}

/// A recording, fault-injecting proxy between jit-secrets and moto (tests/fake/aws_proxy.py).
pub struct AwsProxy {
    _daemon: Daemon,
    pub log: PathBuf,
    pub control: PathBuf,
}

impl AwsProxy {
    /// The operations called, in order, with what each asked for (ids or names, never values).
    pub fn calls(&self) -> Vec<(String, serde_json::Value)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["operation"].as_str().unwrap().to_string(),
                    v["asked"].clone(),
                )
            })
            .collect()
    }

    /// Answers `operation` with AWS's error `code` until [`AwsProxy::clear`].
    pub fn fail(&self, operation: &str, code: &str, message: &str) {
        let rule =
            serde_json::json!({"when": operation, "fail": {"code": code, "message": message}});
        std::fs::write(&self.control, rule.to_string()).unwrap();
    }

    /// Runs `argv` (against moto directly) once, just before forwarding the next `operation`.
    pub fn before(&self, operation: &str, argv: &[&str]) {
        let rule = serde_json::json!({"when": operation, "before": argv});
        std::fs::write(&self.control, rule.to_string()).unwrap();
    }

    pub fn clear(&self) {
        let _ = std::fs::remove_file(&self.control);
    }
}

impl Moto {
    /// Puts [`AwsProxy`] in front of moto for jit-secrets (the tests' own CLI calls still go
    /// straight to moto).
    pub fn proxy(&self, sb: &mut Sandbox) -> AwsProxy {
        let port = free_port();
        let log = sb.path().join("aws-calls.log");
        let control = sb.path().join("aws-proxy.json");
        let mut cmd = sb.command("/usr/bin/python3");
        cmd.arg(fake_dir().join("aws_proxy.py"))
            .arg(port.to_string())
            .arg(format!("http://127.0.0.1:{}", self.port))
            .arg(&log)
            .arg(&control)
            // The intruder writes it runs go through the real CLI.
            .env(
                "PATH",
                std::env::join_paths([tools_bin(), "/usr/bin".into(), "/bin".into()]).unwrap(),
            );
        let daemon = Daemon::spawn("aws proxy", cmd, &sb.path().join("aws-proxy.log"));
        wait_for_port(port, Duration::from_secs(60));
        sb.set_env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
        AwsProxy {
            _daemon: daemon,
            log,
            control,
        }
    }

    pub fn new(sb: &mut Sandbox) -> Moto {
        let server = require("moto_server");
        require("aws");
        let port = free_port();
        let mut cmd = sb.command(server);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let daemon = Daemon::spawn("moto", cmd, &sb.path().join("moto.log"));
        let aws_dir = sb.path().join("aws");
        std::fs::create_dir_all(&aws_dir).unwrap();
        // awscli v1 would fetch values that look like URLs; values are seeded via JSON anyway.
        std::fs::write(
            aws_dir.join("config"),
            "[default]\ncli_follow_urlparam = false\n",
        )
        .unwrap();
        std::fs::write(aws_dir.join("credentials"), "").unwrap();
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
            (
                "AWS_CONFIG_FILE",
                aws_dir.join("config").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                aws_dir.join("credentials").display().to_string(),
            ),
            ("AWS_PAGER", String::new()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ] {
            sb.set_env(k, v);
        }
        wait_for_port(port, Duration::from_secs(60));
        let moto = Moto {
            _daemon: daemon,
            port,
            env: sb.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let path = path_without(sb, &["aws"]);
        sb.set_env("PATH", path);
        moto
    }

    pub fn aws(&self, args: &[&str]) -> Output {
        let mut c = Command::new(tools_bin().join("aws"));
        c.envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(Stdio::null());
        run_ok(c, &format!("aws {}", args.join(" ")))
    }

    /// Seeds through `--cli-input-json` so every value arrives byte for byte.
    pub fn create_secret(&self, name: &str, value: &str) {
        let spec = serde_json::json!({ "Name": name, "SecretString": value }).to_string();
        self.aws(&["secretsmanager", "create-secret", "--cli-input-json", &spec]);
    }

    pub fn put_secret_value(&self, name: &str, value: &str) {
        let spec = serde_json::json!({ "SecretId": name, "SecretString": value }).to_string();
        self.aws(&[
            "secretsmanager",
            "put-secret-value",
            "--cli-input-json",
            &spec,
        ]);
    }

    /// Seeds many secrets and parameters in one Python process (boto3 from the same venv as
    /// moto) instead of one ~1 s `aws` start-up each.
    pub fn seed(&self, secrets: &[(String, String)], parameters: &[(String, String)]) {
        let python = tools_bin().parent().unwrap().join("venv/bin/python");
        let script = r#"
import boto3, json, os, sys
spec = json.load(sys.stdin)
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
sm, ssm = boto3.client("secretsmanager", **kw), boto3.client("ssm", **kw)
for name, value in spec["secrets"]:
    sm.create_secret(Name=name, SecretString=value)
for name, value in spec["parameters"]:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
"#;
        let mut c = Command::new(python);
        c.envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(["-c", script]);
        let spec = serde_json::json!({ "secrets": secrets, "parameters": parameters }).to_string();
        run_with_stdin(c, spec.as_bytes(), "seed moto with boto3");
    }

    pub fn put_parameter(&self, name: &str, value: &str) {
        let spec = serde_json::json!({ "Name": name, "Value": value, "Type": "SecureString", "Overwrite": true }).to_string();
        self.aws(&["ssm", "put-parameter", "--cli-input-json", &spec]);
    }
}

/// OpenBao's real server in dev mode (Vault API) with its CLI on PATH as `vault`.
pub struct Bao {
    _daemon: Daemon,
    pub addr: String,
    env: Vec<(String, OsString)>,
}

impl Bao {
    pub fn new(sb: &mut Sandbox) -> Bao {
        let bao = require("bao");
        require("vault");
        let port = free_port_pair();
        let addr = format!("http://127.0.0.1:{port}");
        let mut cmd = sb.command(&bao);
        cmd.args([
            "server",
            "-dev",
            "-dev-root-token-id=root",
            "-dev-no-store-token",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ]);
        let daemon = Daemon::spawn("bao", cmd, &sb.path().join("bao.log"));
        sb.set_env("VAULT_ADDR", &addr);
        sb.set_env("VAULT_TOKEN", "root");
        wait_for_port(port, Duration::from_secs(30));
        let b = Bao {
            _daemon: daemon,
            addr,
            env: sb.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        // The KV v2 mount finishes a moment after the listener is up: retry the first write.
        let start = Instant::now();
        loop {
            let mut c = b.vault_cmd(&["kv", "put", "secret/ready", "ok=1"]);
            if c.output().map(|o| o.status.success()).unwrap_or(false) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "bao KV never became ready"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        b
    }

    pub fn vault_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(tools_bin().join("vault"));
        c.envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// `vault kv put PATH field=-` with the value on stdin (exact bytes, never argv).
    pub fn put(&self, path: &str, field: &str, value: &[u8]) {
        let c = self.vault_cmd(&["kv", "put", path, &format!("{field}=-")]);
        run_with_stdin(c, value, "vault kv put");
    }

    pub fn put_fields(&self, path: &str, fields: &[(&str, &str)]) {
        let mut args = vec!["kv".to_string(), "put".into(), path.into()];
        args.extend(fields.iter().map(|(k, v)| format!("{k}={v}")));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(self.vault_cmd(&refs), "vault kv put");
    }
}

/// The real `doppler` CLI against a local stub of its API (`tests/fake/doppler_api.py`), which
/// serves the JSON in `data` and logs each request.
pub struct DopplerApi {
    _daemon: Daemon,
    pub log: PathBuf,
    pub data: PathBuf,
}

impl DopplerApi {
    pub fn new(sb: &mut Sandbox, data: &serde_json::Value) -> DopplerApi {
        require("doppler");
        let port = free_port();
        let data_path = sb.write("doppler-data.json", data.to_string());
        let log = sb.path().join("doppler-requests.log");
        let mut cmd = sb.command("python3");
        cmd.arg(fake_dir().join("doppler_api.py"))
            .arg(port.to_string())
            .arg(&data_path)
            .arg(&log);
        let daemon = Daemon::spawn("doppler-api", cmd, &sb.path().join("doppler-api.log"));
        wait_for_port(port, Duration::from_secs(20));
        sb.set_env("DOPPLER_API_HOST", format!("http://127.0.0.1:{port}"));
        sb.set_env("DOPPLER_TOKEN", "dp.st.dev.test");
        // A logged-in user has this config already; the CLI writes it (no secrets) on first run.
        let cfg = sb.path().join("h/.doppler");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join(".doppler.yaml"), "scoped: {}\nversion-check: {}\n").unwrap();
        DopplerApi {
            _daemon: daemon,
            log,
            data: data_path,
        }
    }

    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A private D-Bus session bus with gnome-keyring's Secret Service, login keyring unlocked.
pub struct SecretService {
    _bus: Daemon,
    _keyring: Daemon,
    pub address: String,
    env: Vec<(String, OsString)>,
}

impl SecretService {
    pub fn new(sb: &mut Sandbox) -> SecretService {
        require("dbus-daemon");
        require("gnome-keyring-daemon");
        require("secret-tool");
        let sock = sb.path().join("bus");
        let address = format!("unix:path={}", sock.display());
        let bus = private_bus(sb, &sock);
        let data = sb.path().join("kr-data");
        let run = sb.path().join("kr-run");
        for d in [&data, &run] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        sb.set_env("DBUS_SESSION_BUS_ADDRESS", &address);
        sb.set_env("XDG_DATA_HOME", &data);
        sb.set_env("XDG_RUNTIME_DIR", &run);
        // --foreground keeps it in our process group; --unlock reads the login password on stdin.
        let mut kr = sb.command("gnome-keyring-daemon");
        kr.args(["--foreground", "--unlock", "--components=secrets"]);
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(sb.path().join("keyring.log")).unwrap();
        kr.stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let mut child = kr.spawn().expect("start gnome-keyring-daemon");
        {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"jit-secrets-test").unwrap();
        }
        let keyring = Daemon {
            name: "gnome-keyring-daemon".into(),
            child,
        };
        let ss = SecretService {
            _bus: bus,
            _keyring: keyring,
            address,
            env: sb.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        // Ready when the `default` alias names the login collection (created by --unlock).
        let start = Instant::now();
        loop {
            let mut c = ss.cmd("dbus-send");
            c.args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.ReadAlias",
                "string:default",
            ]);
            if c.output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("/collection/"))
                .unwrap_or(false)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "Secret Service did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        ss
    }

    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        c
    }

    /// `secret-tool store` with the value on stdin; attributes as given.
    pub fn store(&self, label: &str, attrs: &[(&str, &str)], value: &[u8]) {
        let mut c = self.cmd("secret-tool");
        c.arg("store").arg(format!("--label={label}"));
        for (k, v) in attrs {
            c.arg(k).arg(v);
        }
        run_with_stdin(c, value, "secret-tool store");
    }

    pub fn lookup(&self, attrs: &[(&str, &str)]) -> Output {
        let mut c = self.cmd("secret-tool");
        c.arg("lookup");
        for (k, v) in attrs {
            c.arg(k).arg(v);
        }
        c.output().unwrap()
    }
}

/// The fake `op` (tests/fake/op): values from a JSON file, every call logged.
pub struct FakeOp {
    pub log: PathBuf,
    pub data: PathBuf,
}

impl FakeOp {
    pub fn new(sb: &mut Sandbox, items: &serde_json::Value) -> FakeOp {
        let data = sb.write("op-data.json", items.to_string());
        let log = sb.path().join("op-calls.log");
        sb.set_env("FAKE_OP_DATA", &data);
        sb.set_env("FAKE_OP_LOG", &log);
        FakeOp { log, data }
    }

    /// One JSON array per call: argv after `op`.
    pub fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }
}

/// A D-Bus session bus with no service activation: nothing starts unless a test starts it (the
/// stock session config would D-Bus-activate the system's gnome-keyring behind our back).
pub fn private_bus(sb: &Sandbox, sock: &Path) -> Daemon {
    let config = sb.write(
        &format!("{}.conf", sock.file_name().unwrap().to_string_lossy()),
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            sock.display()
        ),
    );
    let mut cmd = sb.command(require("dbus-daemon"));
    cmd.arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nosyslog"]);
    let bus = Daemon::spawn("dbus-daemon", cmd, &sock.with_extension("log"));
    let start = Instant::now();
    while !sock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "dbus-daemon did not come up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    bus
}

/// A fake CLI from tests/fake (bw, bws, gcloud, az) with its data file and call log: the fake
/// reads `$FAKE_<NAME>_DATA` and appends `{"argv": [...], "stdin_bytes": N}` to
/// `$FAKE_<NAME>_LOG`. It is first on the sandbox's PATH, ahead of any real CLI of that name.
pub struct FakeCli {
    pub log: PathBuf,
    pub data: PathBuf,
}

impl FakeCli {
    pub fn new(sb: &mut Sandbox, program: &str, data: &serde_json::Value) -> FakeCli {
        let upper = program.to_ascii_uppercase();
        let data_path = sb.write(&format!("{program}-data.json"), data.to_string());
        let log = sb.path().join(format!("{program}-calls.log"));
        sb.set_env(&format!("FAKE_{upper}_DATA"), &data_path);
        sb.set_env(&format!("FAKE_{upper}_LOG"), &log);
        FakeCli {
            log,
            data: data_path,
        }
    }

    /// Each call's argv (after the program's name).
    pub fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    /// What the fake holds now (after a write).
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&self.data).unwrap()).unwrap()
    }
}

/// A local stand-in for OCI's Secrets and Vault APIs (tests/fake/oci_api.py) for the real `oci`
/// CLI: a throwaway API key and config file, and the endpoint set in an `oci_cli_rc` file, all
/// in the sandbox and named by `OCI_CLI_CONFIG_FILE` / `OCI_CLI_RC_FILE`.
pub struct OciApi {
    _daemon: Daemon,
    pub log: PathBuf,
    pub data: PathBuf,
}

impl OciApi {
    /// `secrets`: OCID → the versions' contents (oldest first) with their creation times.
    pub fn new(sb: &mut Sandbox, secrets: &serde_json::Value) -> OciApi {
        require("oci");
        let key = sb.path().join("oci-key.pem");
        let gen = sb
            .command(require("openssl"))
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .output()
            .unwrap();
        assert!(gen.status.success(), "openssl genrsa: {}", stderr(&gen));
        let der = sb
            .command("openssl")
            .args(["rsa", "-pubout", "-outform", "DER", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        let mut md5 = sb.command("openssl");
        md5.args(["md5", "-c"]);
        let digest = run_with_stdin(md5, &der.stdout, "openssl md5");
        let fingerprint = stdout(&digest)
            .split_whitespace()
            .last()
            .unwrap()
            .to_string();
        let config = sb.write(
            "oci-config",
            format!(
                "[DEFAULT]\nuser=ocid1.user.oc1..test\nfingerprint={fingerprint}\nkey_file={}\ntenancy=ocid1.tenancy.oc1..test\nregion=us-ashburn-1\n",
                key.display()
            ),
        );
        for f in [&key, &config] {
            std::fs::set_permissions(f, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        let port = free_port();
        let rc = sb.write(
            "oci-cli-rc",
            format!("[DEFAULT]\nendpoint = http://127.0.0.1:{port}\n"),
        );
        let data = sb.write("oci-data.json", secrets.to_string());
        let log = sb.path().join("oci-requests.log");
        let mut cmd = sb.command("python3");
        cmd.arg(fake_dir().join("oci_api.py"))
            .arg(port.to_string())
            .arg(&data)
            .arg(&log);
        let daemon = Daemon::spawn("oci-api", cmd, &sb.path().join("oci-api.log"));
        wait_for_port(port, Duration::from_secs(20));
        sb.set_env("OCI_CLI_CONFIG_FILE", &config);
        sb.set_env("OCI_CLI_RC_FILE", &rc);
        sb.set_env("SUPPRESS_LABEL_WARNING", "True");
        OciApi {
            _daemon: daemon,
            log,
            data,
        }
    }

    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A KeePass database made with the real `keepassxc-cli`: password-protected (and with a key file
/// when asked), entries added with `add` (the password on stdin).
pub struct Kdbx {
    pub path: PathBuf,
    pub password: String,
    pub keyfile: Option<PathBuf>,
}

impl Kdbx {
    pub fn new(sb: &Sandbox, name: &str, password: &str, keyfile: Option<&str>) -> Kdbx {
        require("keepassxc-cli");
        let path = sb.path().join(name);
        let keyfile = keyfile.map(|k| sb.path().join(k));
        let mut create = sb.command("keepassxc-cli");
        // A short decryption time keeps the tests quick; the default is one second per unlock.
        create.args(["db-create", "-q", "-t", "100"]);
        if !password.is_empty() {
            create.arg("-p");
        }
        if let Some(k) = &keyfile {
            create.arg("--set-key-file").arg(k);
        }
        create.arg(&path);
        run_with_stdin(
            create,
            format!("{password}\n{password}\n").as_bytes(),
            "keepassxc-cli db-create",
        );
        Kdbx {
            path,
            password: password.to_string(),
            keyfile,
        }
    }

    /// A database imported from KeePass XML (`keepassxc-cli import`): custom attributes, history,
    /// modification times — what `add` cannot make.
    pub fn import(sb: &Sandbox, name: &str, password: &str, xml: &str) -> Kdbx {
        require("keepassxc-cli");
        let path = sb.path().join(name);
        let source = sb.write(&format!("{name}.xml"), xml);
        let mut import = sb.command("keepassxc-cli");
        import
            .args(["import", "-q", "-p", "-t", "100"])
            .arg(&source)
            .arg(&path);
        run_with_stdin(
            import,
            format!("{password}\n{password}\n").as_bytes(),
            "keepassxc-cli import",
        );
        std::fs::remove_file(source).unwrap();
        Kdbx {
            path,
            password: password.to_string(),
            keyfile: None,
        }
    }

    /// `keepassxc-cli ARGS… -q [-k KEY] [--no-password] DB` (the entry comes after).
    fn cmd(&self, sb: &Sandbox, args: &[&str]) -> Command {
        let mut c = sb.command("keepassxc-cli");
        c.args(args).arg("-q");
        if let Some(k) = &self.keyfile {
            c.arg("-k").arg(k);
        }
        if self.password.is_empty() {
            c.arg("--no-password");
        }
        c.arg(&self.path);
        c
    }

    fn unlock_line(&self) -> Vec<u8> {
        if self.password.is_empty() {
            Vec::new()
        } else {
            format!("{}\n", self.password).into_bytes()
        }
    }

    pub fn mkdir(&self, sb: &Sandbox, group: &str) {
        let mut c = self.cmd(sb, &["mkdir"]);
        c.arg(group);
        run_with_stdin(c, &self.unlock_line(), "keepassxc-cli mkdir");
    }

    /// An entry with a password (on stdin) and, optionally, a username and notes (on argv: test
    /// values only).
    pub fn add(
        &self,
        sb: &Sandbox,
        entry: &str,
        password: &str,
        username: Option<&str>,
        notes: Option<&str>,
    ) {
        let mut args = vec!["add", "-p"];
        if let Some(u) = username {
            args.extend(["-u", u]);
        }
        if let Some(n) = notes {
            args.extend(["--notes", n]);
        }
        let mut c = self.cmd(sb, &args);
        c.arg(entry);
        let mut input = self.unlock_line();
        input.extend_from_slice(format!("{password}\n").as_bytes());
        run_with_stdin(c, &input, "keepassxc-cli add");
    }

    /// Reads one attribute back with `show`.
    pub fn show(&self, sb: &Sandbox, entry: &str, attribute: &str) -> String {
        let mut c = self.cmd(sb, &["show", "-s", "-a", attribute]);
        c.arg(entry);
        let out = run_with_stdin(c, &self.unlock_line(), "keepassxc-cli show");
        stdout(&out).trim_end_matches('\n').to_string()
    }
}
