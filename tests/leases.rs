//! Leases ([secrets.leases.NAME]) against real backends: a `command` lease with scripts, child
//! tokens and database credentials from a real OpenBao (its database engine against a real
//! PostgreSQL), STS credentials from moto through the real `aws` CLI's eyes, and `gcp`/`azure`
//! against fakes of their CLIs.
//!
//! The holders are real shells: `bash -c 'eval "$(jit-secrets activate)"; …; exec sleep …'`,
//! killed with SIGKILL when the test says so. Nothing is timed: revocation is polled for.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use support::stores::{Bao, Moto};
use support::*;

/// A shell that activated the sandbox's manifest, wrote `$VAR…` to a file and now waits
/// (`exec sleep`, so its pid — the lease's holder — stays the same). Killed (SIGKILL) on drop.
struct Shell {
    child: Child,
    out: PathBuf,
}

impl Shell {
    fn start(sb: &Sandbox, name: &str, vars: &[&str]) -> Shell {
        Shell::start_with(
            sb,
            name,
            vars,
            "eval \"$(\"$JIT\" --manifest manifest.toml activate --shell bash)\"",
        )
    }

    /// [`Shell::start`], activating with `activation` (a line of bash).
    fn start_with(sb: &Sandbox, name: &str, vars: &[&str], activation: &str) -> Shell {
        let out = sb.path().join(format!("{name}.out"));
        let print: String = vars
            .iter()
            .map(|v| format!("printf '%s\\n' \"${v}\" >> {name}.tmp; "))
            .collect();
        let script = format!(
            "{activation} || {{ echo failed > {name}.out; exit 9; }}\n{print}mv {name}.tmp {name}.out\nexec sleep 4711"
        );
        let child = sb
            .command("bash")
            .args(["-c", &script])
            .env("JIT", BIN)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let shell = Shell { child, out };
        assert!(
            poll(|| shell.out.exists()),
            "the shell never activated ({name})"
        );
        shell
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Revokes the sandbox's leases when the test ends (even by a panic), so no keeper and no
/// keyring record outlives it. Declared after the servers, so it runs before they stop.
struct RevokeOnDrop<'a>(&'a Sandbox);

impl Drop for RevokeOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.jit_m(&["lease", "revoke"]);
    }
}

/// Keepers (`jit-lease-keep`) started from this sandbox (their environment names its HOME).
fn keepers(sb: &Sandbox) -> Vec<u32> {
    let home = format!("HOME={}", sb.path().join("h").display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() != "jit-lease-keep" {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ.split(|&b| b == 0).any(|v| v == home.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// A `command` lease: `mint.sh` counts its calls and prints a token; `revoke.sh` logs the id.
fn command_lease(sb: &Sandbox, expires_in: u64, extra: &str) {
    sb.write_executable(
        "mint.sh",
        format!(
            "#!/bin/sh\nn=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\nprintf '{{\"variables\": {{\"TOKEN\": \"tok-%s-canary-7c1e\"}}, \"id\": \"lease-%s\", \"expires_in\": {expires_in}}}' $n $n\n"
        ),
    );
    sb.write_executable(
        "revoke.sh",
        "#!/bin/sh\necho \"$JIT_SECRETS_LEASE $JIT_SECRETS_LEASE_ID\" >> revoked\n",
    );
    sb.manifest(&format!(
        "[secrets]\nPLAIN = \"env:PLAIN_SRC\"\n\n[secrets.leases.tok]\nkind = \"command\"\ncommand = \"./mint.sh\"\nrevoke_command = \"./revoke.sh\"\n{extra}\n"
    ));
}

fn read(sb: &Sandbox, name: &str) -> String {
    std::fs::read_to_string(sb.path().join(name)).unwrap_or_default()
}

#[test]
fn an_on_exit_lease_is_shared_by_shells_and_revoked_after_the_last_one_is_killed() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);

    let mut first = Shell::start(&sb, "first", &["TOKEN", "PLAIN"]);
    let mut second = Shell::start(&sb, "second", &["TOKEN"]);
    assert_eq!(first.lines(), ["tok-1-canary-7c1e", "plain"]);
    assert_eq!(
        second.lines(),
        ["tok-1-canary-7c1e"],
        "the second shell reuses the lease"
    );
    assert_eq!(read(&sb, "count").trim(), "1", "created once");

    let listed = sb.jit_m(&["lease", "list"]);
    assert_code(&listed, 0);
    let text = stdout(&listed);
    assert!(text.starts_with("tok\tcommand\tlease-1\t"), "{text}");
    assert!(text.contains("revoked on exit"), "{text}");
    assert!(
        text.contains(&format!("holders: {},{}", first.pid(), second.pid())),
        "{text}"
    );
    assert!(
        !text.contains("canary"),
        "lease list shows no value: {text}"
    );

    // The first shell dies: the second still holds the lease.
    first.kill();
    // (A keeper pass is a second at most: give it two and a half to do wrong.)
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(read(&sb, "revoked"), "", "revoked while a shell held it");
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.ends_with(&format!("holders: {}\n", second.pid())),
        "{listed}"
    );

    // kill -9 of the last one: the keeper revokes, forgets, and ends.
    second.kill();
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1\n"),
        "not revoked after the last shell was killed: {:?}",
        read(&sb, "revoked")
    );
    assert!(
        poll(|| keepers(&sb).is_empty()),
        "the keeper outlived its lease"
    );
    let after = sb.jit_m(&["lease", "list"]);
    assert_eq!(stdout(&after), "");
    assert!(stderr(&after).contains("no live lease"));

    // A `run` program is a holder too: the lease is revoked when it exits.
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$TOKEN\""]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "tok-2-canary-7c1e");
    assert!(poll(|| read(&sb, "revoked").ends_with("tok lease-2\n")));
    assert!(poll(|| keepers(&sb).is_empty()));
}

#[test]
fn a_live_lease_is_reused_renewed_inside_renew_before_and_on_demand() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "");
    let _cleanup = RevokeOnDrop(&sb);
    let token = |sb: &Sandbox| {
        let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$TOKEN\""]);
        assert_code(&out, 0);
        stdout(&out)
    };
    assert_eq!(token(&sb), "tok-1-canary-7c1e");
    assert_eq!(token(&sb), "tok-1-canary-7c1e", "an hour left: reused");
    assert_eq!(read(&sb, "count").trim(), "1");

    // `lease renew`: a new one for later shells; the old one (on-expiry) is left to expire.
    let renewed = sb.jit_m(&["lease", "renew", "tok"]);
    assert_code(&renewed, 0);
    assert!(
        stderr(&renewed).contains("lease tok renewed: lease-2"),
        "{}",
        stderr(&renewed)
    );
    assert_eq!(token(&sb), "tok-2-canary-7c1e");
    assert_eq!(
        read(&sb, "revoked"),
        "",
        "on-expiry: not revoked by a renewal"
    );
    let unknown = sb.jit_m(&["lease", "renew", "nope"]);
    assert_code(&unknown, 2);
    assert!(
        stderr(&unknown).contains("no lease `nope`"),
        "{}",
        stderr(&unknown)
    );

    // An explicit renew_before longer than the lease: every activation renews.
    std::fs::remove_file(sb.path().join("count")).ok();
    command_lease(&sb, 3600, "renew_before = \"2h\"");
    assert_eq!(token(&sb), "tok-1-canary-7c1e");
    assert_eq!(
        token(&sb),
        "tok-2-canary-7c1e",
        "renew_before = 2h: renewed"
    );
    // A short lease is shared: the default renew_before is at most half its life (a 50-s lease
    // is renewed in its last 25 s, not by every activation). (Failed before: minted twice.)
    std::fs::remove_file(sb.path().join("count")).ok();
    command_lease(&sb, 50, "timeout = \"20s\"");
    assert_eq!(token(&sb), "tok-1-canary-7c1e");
    assert_eq!(token(&sb), "tok-1-canary-7c1e", "a 50-s lease is shared");
    assert_eq!(read(&sb, "count").trim(), "1");
    // Changing the lease's settings is another lease.
    command_lease(&sb, 3600, "duration = \"30m\"");
    std::fs::remove_file(sb.path().join("count")).ok();
    assert_eq!(token(&sb), "tok-1-canary-7c1e");

    // verify: the master credential (none here) and the live lease; --leases creates and
    // revokes one.
    let verify = sb.jit_m(&["verify"]);
    assert_code(&verify, 0);
    // "ok" only after a probe made a lease with it. (Failed before: "ok" unprobed.)
    assert!(
        stdout(&verify).contains("lease tok (command): master credential not checked (`verify --leases` makes and revokes a lease with it); live, "),
        "{}",
        stdout(&verify)
    );
    let probe = sb.jit_m(&["verify", "--leases", "--json"]);
    assert_code(&probe, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&probe)).unwrap();
    assert_eq!(report["leases"][0]["probe"]["note"], "created and revoked");
    assert_eq!(read(&sb, "revoked"), "tok lease-2\n");
    let probe = sb.jit_m(&["verify", "--leases"]);
    assert!(
        stdout(&probe).contains("lease tok (command): master credential ok; live, "),
        "{}",
        stdout(&probe)
    );
    assert!(!stdout(&probe).contains("canary"));
}

#[test]
fn a_lease_that_cannot_be_created_fails_activation_and_an_optional_one_warns() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    sb.write_executable(
        "mint.sh",
        "#!/bin/sh\necho 'role dev: AccessDenied' >&2\nexit 3\n",
    );
    let manifest = "[secrets]\nPLAIN = \"env:PLAIN_SRC\"\n[secrets.leases.tok]\nkind = \"command\"\ncommand = \"./mint.sh\"\n";
    sb.manifest(manifest);
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert_eq!(stdout(&out), "false\n", "only the failure statement");
    let err = stderr(&out);
    assert!(
        err.contains("jit-secrets: error: lease tok (command): `/"),
        "{err}"
    );
    assert!(err.contains("mint.sh` failed (exit status 3)"), "{err}");
    assert!(err.contains("  | role dev: AccessDenied"), "{err}");
    assert!(
        err.contains("fix: make the lease's `command` print one JSON object"),
        "{err}"
    );
    let run = sb.jit_m(&["run", "--", "true"]);
    assert_code(&run, 1);
    assert!(stderr(&run).contains("`true` not started"));

    sb.manifest(&format!("{manifest}required = false\n"));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    assert_eq!(exports(&out), "export PLAIN='plain'\n");
    assert!(
        stderr(&out).contains("warning: lease tok (command) not created (optional, skipped)"),
        "{}",
        stderr(&out)
    );

    // A lease made but unusable (`exports` names a field it does not have) fails, and is revoked
    // rather than left alive.
    command_lease(&sb, 3600, "exports = { API_TOKEN = \"token\" }");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("lease `tok` has no field `token` for API_TOKEN (it has: TOKEN)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&sb, "revoked"), "tok lease-1\n");
    assert_eq!(stdout(&sb.jit_m(&["lease", "list"])), "");

    // A master credential that cannot be read fails the lease before any backend is asked.
    sb.manifest("[secrets]\n[secrets.leases.v]\nkind = \"vault\"\nmaster = { token = \"env:NO_SUCH_MASTER\" }\n");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains(
            "lease v (vault): its master credential's token is not in env:NO_SUCH_MASTER"
        ),
        "{}",
        stderr(&out)
    );
}

fn vault_token_works(bao: &Bao, token: &str) -> bool {
    let mut c = bao.vault_cmd(&["token", "lookup", "-format=json"]);
    c.env("VAULT_TOKEN", token);
    c.output().unwrap().status.success()
}

#[test]
fn vault_child_tokens_work_and_are_revoked_by_lease_revoke_and_when_the_last_shell_is_killed() {
    let mut sb = Sandbox::new();
    let bao = Bao::new(&mut sb);
    sb.manifest("[secrets]\n[secrets.leases.vault-dev]\nkind = \"vault\"\ntoken = { policies = [\"default\"], ttl = \"15m\" }\nrevoke = \"on-exit\"\n");
    let _cleanup = RevokeOnDrop(&sb);

    let mut shell = Shell::start(&sb, "a", &["VAULT_TOKEN"]);
    let token = shell.lines()[0].clone();
    assert_ne!(token, "root");
    assert!(vault_token_works(&bao, &token));
    let mut lookup = bao.vault_cmd(&["token", "lookup", "-format=json"]);
    lookup.env("VAULT_TOKEN", &token);
    let info: serde_json::Value = serde_json::from_slice(&lookup.output().unwrap().stdout).unwrap();
    assert_eq!(info["data"]["policies"], serde_json::json!(["default"]));
    assert!(info["data"]["ttl"].as_i64().unwrap() <= 900);
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.starts_with("vault-dev\tvault\taccessor:"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "{listed}");

    let revoked = sb.jit_m(&["lease", "revoke", "vault-dev"]);
    assert_code(&revoked, 0);
    assert!(stderr(&revoked).contains("lease vault-dev (vault) revoked"));
    assert!(
        !vault_token_works(&bao, &token),
        "the token still works after revoke"
    );
    shell.kill();
    assert!(poll(|| keepers(&sb).is_empty()));

    // A new shell, a new token; kill -9 of that last shell revokes it.
    let mut shell = Shell::start(&sb, "b", &["VAULT_TOKEN"]);
    let token = shell.lines()[0].clone();
    assert!(vault_token_works(&bao, &token));
    shell.kill();
    assert!(
        poll(|| !vault_token_works(&bao, &token)),
        "the token outlived the last shell"
    );
    assert!(poll(|| keepers(&sb).is_empty()));
}

/// A PostgreSQL server of the test's own, run as the `postgres` user on a free port of
/// 127.0.0.1, its socket in a private directory. Stopped (immediately) on drop.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
}

impl Postgres {
    fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                d.flatten()
                    .map(|e| e.path().join("bin"))
                    .find(|b| b.join("initdb").exists())
            })
            .expect("PostgreSQL is not installed: run scripts/install-test-deps.sh");
        let dir = tempfile::Builder::new()
            .prefix("jspg")
            .tempdir_in("/tmp")
            .unwrap();
        let port = free_port();
        let password = "pg-admin-5e1b".to_string();
        std::fs::write(dir.path().join("pw"), &password).unwrap();
        std::fs::create_dir(dir.path().join("sock")).unwrap();
        let run_as_postgres = |args: &[&str]| {
            let out = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        run_as_postgres(&[
            bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            "--pwfile",
            dir.path().join("pw").to_str().unwrap(),
        ]);
        run_as_postgres(&[
            bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-l",
            dir.path().join("log").to_str().unwrap(),
            "-w",
            "-o",
            &format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1",
                sock.display()
            ),
            "start",
        ]);
        Postgres {
            dir,
            bin,
            port,
            password,
        }
    }

    /// One value from `query`, as the `postgres` user.
    fn query(&self, query: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-tAc",
                query,
            ])
            .env("PGPASSWORD", &self.password)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .stdin(Stdio::null())
            .output();
    }
}

#[test]
fn vault_database_credentials_are_a_real_postgres_role_until_the_lease_is_revoked() {
    let mut sb = Sandbox::new();
    let pg = Postgres::start();
    let bao = Bao::new(&mut sb);
    let ok = |args: &[&str]| {
        let out = bao.vault_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["secrets", "enable", "database"]);
    ok(&[
        "write",
        "database/config/pg",
        "plugin_name=postgresql-database-plugin",
        &format!("connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{}/postgres?sslmode=disable", pg.port),
        "username=postgres",
        &format!("password={}", pg.password),
        "allowed_roles=readonly",
    ]);
    ok(&[
        "write",
        "database/roles/readonly",
        "db_name=pg",
        "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
        "default_ttl=1h",
    ]);
    sb.manifest("[secrets]\n[secrets.leases.db]\nkind = \"vault\"\npath = \"database/creds/readonly\"\nexports = { DB_USERNAME = \"username\", DB_PASSWORD = \"password\" }\n");
    let _cleanup = RevokeOnDrop(&sb);

    let shell = Shell::start(&sb, "a", &["DB_USERNAME", "DB_PASSWORD"]);
    let lines = shell.lines();
    let (user, password) = (&lines[0], &lines[1]);
    assert!(user.starts_with("v-"), "{user}");
    let exists = || {
        pg.query(&format!(
            "select count(*) from pg_roles where rolname = '{user}'"
        ))
    };
    assert_eq!(exists(), "1", "the lease's role exists while it lives");
    // The credentials log in.
    let login = Command::new(pg.bin.join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            user,
            "-d",
            "postgres",
            "-tAc",
            "select current_user",
        ])
        .env("PGPASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&login.stdout).trim(), user.as_str());
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.starts_with("db\tvault\tdatabase/creds/readonly/"),
        "{listed}"
    );
    assert!(!listed.contains(password.as_str()));

    assert_code(&sb.jit_m(&["lease", "revoke", "db"]), 0);
    assert!(poll(|| exists() == "0"), "the role outlived its lease");
}

#[test]
fn aws_sts_assumes_the_role_with_the_master_credential_and_reuses_it() {
    let mut sb = Sandbox::new();
    let moto = Moto::new(&mut sb);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    moto.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "dev",
        "--assume-role-policy-document",
        trust,
    ]);
    // The master key comes from references (here env:); the shell's own AWS_* are moto's
    // test keys and are not what the lease uses.
    sb.set_env("MASTER_ID", "AKIAMASTER000000001");
    sb.set_env("MASTER_SECRET", "master-secret-canary-3d9a");
    sb.manifest("[secrets]\n[secrets.leases.aws-dev]\nkind = \"aws-sts\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\nduration = \"15m\"\nmaster = { access_key_id = \"env:MASTER_ID\", secret_access_key = \"env:MASTER_SECRET\" }\n");
    let _cleanup = RevokeOnDrop(&sb);

    let vars = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ];
    let shell = Shell::start(&sb, "a", &vars);
    let creds = shell.lines();
    assert!(creds[0].starts_with("ASIA"), "{creds:?}");
    assert!(!creds.iter().any(|c| c.contains("MASTER") || c == "testing"));
    // The real aws CLI, with the lease's credentials, is the assumed role.
    let mut who = Command::new(tools_bin().join("aws"));
    who.envs(sb.env.iter())
        .args(["sts", "get-caller-identity", "--output", "json"])
        .stdin(Stdio::null());
    for (var, value) in vars.iter().zip(&creds) {
        who.env(var, value);
    }
    let out = who.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arn = identity["Arn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:sts::123456789012:assumed-role/dev/jit-secrets-aws-dev"),
        "{arn}"
    );

    // The expiry is the response's (15 minutes asked): lease list shows 14m or 15m left.
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.starts_with(&format!("aws-dev\taws-sts\t{}\t", creds[0])),
        "{listed}"
    );
    assert!(
        listed.contains("m left)\tcannot be revoked: expires"),
        "{listed}"
    );
    assert!(
        listed.contains("(14m left)") || listed.contains("(15m left)"),
        "{listed}"
    );

    // A second shell reuses them; renew_before longer than the lease renews each time.
    let again = Shell::start(&sb, "b", &vars);
    assert_eq!(again.lines(), creds);
    let manifest = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    sb.manifest(&format!("{manifest}renew_before = \"20m\"\n"));
    let first = Shell::start(&sb, "c", &vars).lines();
    let second = Shell::start(&sb, "d", &vars).lines();
    assert_ne!(first[0], second[0], "renewed inside renew_before");
    let revoke = sb.jit_m(&["lease", "revoke", "aws-dev"]);
    assert!(
        stderr(&revoke).contains("aws-sts credentials cannot be revoked"),
        "{}",
        stderr(&revoke)
    );

    // revoke = "on-exit" cannot be kept for STS: said when the lease is made. (Failed before:
    // silence.)
    sb.manifest(&format!("{manifest}revoke = \"on-exit\"\n"));
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains(
            "lease `aws-dev`: revoke = \"on-exit\" cannot be kept: aws-sts credentials cannot be revoked (they expire at "
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn gcp_and_azure_tokens_come_from_their_clis_and_say_they_cannot_be_revoked() {
    let mut sb = Sandbox::new();
    let gcloud_log = sb.path().join("gcloud-calls.log");
    let az_log = sb.path().join("az-calls.log");
    sb.set_env("FAKE_GCLOUD_LOG", &gcloud_log);
    sb.set_env("FAKE_AZ_LOG", &az_log);
    sb.manifest("[secrets]\n[secrets.leases.gcp]\nkind = \"gcp\"\nimpersonate_service_account = \"deployer@p.iam.gserviceaccount.com\"\nscopes = [\"https://www.googleapis.com/auth/cloud-platform\"]\nduration = \"30m\"\n\n[secrets.leases.arm]\nkind = \"azure\"\nresource = \"https://management.azure.com/\"\nexports = { ARM_ACCESS_TOKEN = \"access_token\" }\n");
    let _cleanup = RevokeOnDrop(&sb);
    let shell = Shell::start(
        &sb,
        "a",
        &["CLOUDSDK_AUTH_ACCESS_TOKEN", "ARM_ACCESS_TOKEN"],
    );
    let tokens = shell.lines();
    assert!(tokens[0].starts_with("ya29.fake-deployer-"), "{tokens:?}");
    assert!(
        tokens[1].starts_with("eyJ0eXAiOiJKV1Qi.fake."),
        "{tokens:?}"
    );
    let calls = std::fs::read_to_string(&gcloud_log).unwrap();
    let call: serde_json::Value = serde_json::from_str(calls.lines().next().unwrap()).unwrap();
    assert_eq!(
        call["argv"],
        serde_json::json!([
            "auth",
            "print-access-token",
            "--impersonate-service-account=deployer@p.iam.gserviceaccount.com",
            "--lifetime=1800",
            "--scopes=https://www.googleapis.com/auth/cloud-platform"
        ])
    );
    let az: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&az_log)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        az["argv"],
        serde_json::json!([
            "account",
            "get-access-token",
            "--resource",
            "https://management.azure.com/",
            "--output",
            "json"
        ])
    );
    // Reused by a second shell: no second call.
    assert_eq!(
        Shell::start(
            &sb,
            "b",
            &["CLOUDSDK_AUTH_ACCESS_TOKEN", "ARM_ACCESS_TOKEN"]
        )
        .lines(),
        tokens
    );
    assert_eq!(
        std::fs::read_to_string(&gcloud_log)
            .unwrap()
            .lines()
            .count(),
        1
    );

    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert_eq!(
        listed.matches("cannot be revoked: expires").count(),
        2,
        "{listed}"
    );
    assert!(
        listed.contains("(59m left)") || listed.contains("(58m left)"),
        "azure's expires_on: {listed}"
    );
    assert!(
        listed.contains("(29m left)") || listed.contains("(30m left)"),
        "the gcp lifetime: {listed}"
    );
    let revoke = sb.jit_m(&["lease", "revoke"]);
    assert_code(&revoke, 0);
    assert!(
        stderr(&revoke).contains("lease gcp (gcp) forgotten: gcp credentials cannot be revoked")
    );

    // A signed-out CLI fails the activation with its own words and the fix.
    let out = sb
        .command(BIN)
        .args(["--manifest", "manifest.toml", "activate", "--shell", "bash"])
        .env("FAKE_AZ_SIGNED_OUT", "1")
        .output()
        .unwrap();
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("  | ERROR: Please run 'az login' to setup account."),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("fix: run `az login`"));
}

#[test]
fn a_lease_value_never_reaches_the_disk_argv_or_a_message() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "");
    let _cleanup = RevokeOnDrop(&sb);
    let log = sb.path().join("strace.log");
    for args in [
        &["activate", "--shell", "bash"][..],
        &["run", "--", "true"],
        &["lease", "renew", "tok"],
    ] {
        let out = sb
            .command(require("strace"))
            .args(["-f", "-qq", "-s", "4096", "-e", "signal=none", "-o"])
            .arg(&log)
            .args(["-e", &format!("trace={WRITE_SYSCALLS},execve")])
            .arg(BIN)
            .args(["--manifest", "manifest.toml"])
            .args(args)
            .output()
            .unwrap();
        assert_code(&out, 0);
        let trace = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        let writes: Vec<String> = find_writes(&trace)
            .into_iter()
            // The test's mint script keeps its own count: the test's file, not ours.
            .filter(|w| !w.contains("\"count\""))
            // The lease's turn: an empty lock file in the user's 0700 lease directory.
            .filter(|w| !is_lease_turn_lock(w))
            .collect();
        assert!(writes.is_empty(), "{args:?} wrote:\n{}", writes.join("\n"));
        assert!(trace.contains("execve("), "strace saw nothing");
        assert!(
            !trace.contains("canary-7c1e"),
            "{args:?}: a lease value in argv or a path"
        );
        assert!(!stderr(&out).contains("canary-7c1e"));
    }
    for args in [
        &["lease", "list"][..],
        &["lease", "list", "--all"],
        &["verify"],
        &["verify", "--json"],
    ] {
        let out = sb.jit_m(args);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("canary-7c1e"),
            "{args:?}"
        );
        assert!(!stderr(&out).contains("canary-7c1e"), "{args:?}");
    }
}

#[test]
fn an_mfa_code_is_asked_on_the_terminal_even_when_stdout_is_a_pipe() {
    let mut sb = Sandbox::new();
    let _moto = Moto::new(&mut sb);
    sb.set_env("MASTER_ID", "AKIAMASTER000000002");
    sb.set_env("MASTER_SECRET", "master-secret-2");
    sb.manifest("[secrets]\n[secrets.leases.aws-mfa]\nkind = \"aws-sts\"\nmfa_serial = \"arn:aws:iam::123456789012:mfa/me\"\nmaster = { access_key_id = \"env:MASTER_ID\", secret_access_key = \"env:MASTER_SECRET\" }\n");
    let _cleanup = RevokeOnDrop(&sb);
    // No terminal to ask on: the lease fails, saying why.
    let out = sb.jit_m(&["--no-prompt", "activate", "--shell", "bash"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("needs an MFA code for arn:aws:iam::123456789012:mfa/me, and there is no terminal to ask on"),
        "{}",
        stderr(&out)
    );
    // On a terminal (stdout a pipe, as under eval "$(…)"): asked, hidden, and used.
    let report = on_a_terminal(
        &sb,
        serde_json::json!([
            {"expect": "MFA code for arn:aws:iam::123456789012:mfa/me: "}, {"send": "975318\n"},
            {"check_echo": true},
        ]),
        &["activate", "--shell", "bash"],
    );
    assert_eq!(report["status"], 0, "{report}");
    let stdout = report["stdout"].as_str().unwrap();
    assert!(stdout.contains("export AWS_SESSION_TOKEN="), "{stdout}");
    let shown = report["terminal"].as_str().unwrap();
    assert!(!shown.contains("975318"), "the code was echoed: {shown:?}");
    assert_eq!(report["echo_on"], true, "echo restored");
}

#[test]
fn a_renewed_on_exit_lease_keeps_the_old_one_until_its_shells_exit() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let mut old = Shell::start(&sb, "old", &["TOKEN"]);
    assert_eq!(old.lines(), ["tok-1-canary-7c1e"]);
    assert_code(&sb.jit_m(&["lease", "renew", "tok"]), 0);
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.contains("tok (replaced)\tcommand\tlease-1\t"),
        "{listed}"
    );
    assert!(listed.contains("tok\tcommand\tlease-2\t"), "{listed}");
    assert_eq!(
        read(&sb, "revoked"),
        "",
        "the old lease is revoked only when its shell exits"
    );
    let new = Shell::start(&sb, "new", &["TOKEN"]);
    assert_eq!(new.lines(), ["tok-2-canary-7c1e"]);
    old.kill();
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1\n"),
        "{:?}",
        read(&sb, "revoked")
    );
    // (The keeper forgets the record once the revoke program has exited: polled.)
    assert!(poll(
        || !stdout(&sb.jit_m(&["lease", "list"])).contains("replaced")
    ));
}

#[test]
fn a_lease_of_a_manifest_you_did_not_allow_runs_nothing() {
    let mut sb = Sandbox::requiring_trust();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "");
    let _cleanup = RevokeOnDrop(&sb);
    for args in [
        &["activate", "--shell", "bash"][..],
        &["run", "--", "true"],
        &["lease", "renew", "tok"],
        &["verify", "--leases"],
    ] {
        let out = sb.jit_m(args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("jit-secrets allow"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!sb.path().join("count").exists(), "the lease's program ran");
    let manifest = sb.path().join("manifest.toml");
    assert_code(&sb.jit(&["allow", manifest.to_str().unwrap()]), 0);
    assert_code(&sb.jit_m(&["run", "--", "true"]), 0);
    assert_eq!(read(&sb, "count").trim(), "1");
    // The lease's program is part of what was allowed: an edit of it is refused.
    sb.write_executable("mint.sh", "#!/bin/sh\necho edited\n");
    let out = sb.jit_m(&["lease", "renew", "tok"]);
    assert_code(&out, 2);
    assert_eq!(read(&sb, "count").trim(), "1");
    // Its live lease can still be listed and revoked (nothing of the manifest's runs for that).
    let listed = sb.jit_m(&["lease", "list"]);
    assert!(
        stdout(&listed).starts_with("tok\tcommand\tlease-1\t"),
        "{}{}",
        stdout(&listed),
        stderr(&listed)
    );
    assert_code(&sb.jit_m(&["lease", "revoke"]), 0);
    assert_eq!(stdout(&sb.jit_m(&["lease", "list"])), "");
}

#[test]
fn a_lease_too_large_for_one_kernel_key_is_used_unshared_and_said_so() {
    let sb = Sandbox::new();
    sb.write_executable(
        "mint.sh",
        "#!/bin/sh\nprintf '{\"variables\": {\"BIG\": \"%s\"}, \"id\": \"big\", \"expires_in\": 600}' \"$(head -c 40000 /dev/zero | tr '\\0' x)\"\n",
    );
    sb.manifest("[secrets]\n[secrets.leases.big]\nkind = \"command\"\ncommand = \"./mint.sh\"\n");
    let _cleanup = RevokeOnDrop(&sb);
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$BIG\" | wc -c"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out).trim(), "40000");
    assert!(
        stderr(&out).contains("lease big: lease `big` is not kept for other shells: the lease's credentials are too large for one kernel key"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&sb.jit_m(&["lease", "list"])), "");
}

// ---- Issue 35: leases that cannot be turned against the user. Each test below failed on the
// code before it (said per test).

/// `allow` shows every lease: name, kind, each program with every argument and its path, the
/// master's references, the settings that choose what is minted, profile leases under their
/// profile, `revoke_env`; everything escaped. (Failed before: "nothing (no entries)".)
#[test]
fn allow_shows_every_lease_and_what_it_runs() {
    let sb = Sandbox::requiring_trust();
    sb.write_executable("revoke.sh", "#!/bin/sh\nexit 0\n");
    sb.manifest(
        "[secrets]\n\
         [secrets.leases.tok]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo hidden \\u001b[2J\"]\nrevoke_command = \"./revoke.sh --id x\"\nrevoke_env = [\"API_URL\"]\nrevoke = \"on-exit\"\n\
         [secrets.leases.db]\nkind = \"vault\"\npath = \"database/creds/ro\"\nmaster = { token = \"env:VAULT_MASTER\" }\n\
         [secrets.leases.aws]\nkind = \"aws-sts\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\n\
         [secrets.profiles.prod.leases.azure]\nkind = \"azure\"\nresource = \"https://management.azure.com/\"\n",
    );
    let out = sb.jit_m(&["allow"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(!text.contains("nothing (no entries)"), "{text}");
    for needle in [
        "lease tok: mint a command credential, revoked when the last shell that received it exits",
        "command: run `sh -c 'echo hidden \\e[2J'` (program: /",
        &format!(
            "revoke_command: run `{}/revoke.sh --id x` (program: {}/revoke.sh)",
            sb.path().display(),
            sb.path().display()
        ),
        "revoke_env: API_URL",
        "lease db: mint a vault credential",
        "path: database/creds/ro",
        "master.token: copy env:VAULT_MASTER",
        "lease aws: mint a aws-sts credential, left to expire",
        "role_arn: arn:aws:iam::123456789012:role/dev",
        "lease azure (profile prod): mint a azure credential",
        "resource: https://management.azure.com/",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "an escape reached the terminal");
}

/// A `command` lease whose revoke program was edited after the lease was made: the keeper does
/// not run it, the record stays (and expires), `lease list` says so, `lease revoke` exits 2 naming
/// the file and the fix; restored, it runs. (Failed before: the edited program ran.)
#[test]
fn an_edited_revoke_program_is_not_run_by_the_keeper_or_lease_revoke() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let mut shell = Shell::start(&sb, "a", &["TOKEN"]);
    let original = read(&sb, "revoke.sh");
    sb.write_executable("revoke.sh", "#!/bin/sh\necho ran > evil\n");
    shell.kill();
    assert!(
        poll(|| stdout(&sb.jit_m(&["lease", "list"])).contains("holders: none")),
        "the shell's death was not seen"
    );
    // Two keeper passes and more: it must not run the edited program.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(!sb.path().join("evil").exists(), "the edited program ran");
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.contains("revoke program changed since allow"),
        "{listed}"
    );
    let revoke = sb.jit_m(&["lease", "revoke"]);
    assert_code(&revoke, 2);
    let err = stderr(&revoke);
    assert!(err.contains("revoke.sh"), "{err}");
    assert_eq!(err.matches("fix:").count(), 1, "{err}");
    assert!(!sb.path().join("evil").exists(), "lease revoke ran it");
    assert!(stdout(&sb.jit_m(&["lease", "list"])).starts_with("tok\t"));
    // Restored as it was allowed: the keeper revokes.
    sb.write_executable("revoke.sh", &original);
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1\n"),
        "not revoked once restored"
    );
    assert!(poll(|| keepers(&sb).is_empty()));
}

fn environ_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// The keeper holds no credential: its environment is the allowlist, its kind's configuration
/// and `revoke_env`, without the shell's VAULT_TOKEN or other variables. (Failed before: the
/// keeper inherited the activating environment whole.)
#[test]
fn the_keeper_starts_with_the_allowlist_and_revoke_env_only() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    sb.set_env("VAULT_TOKEN", "master-credential-canary");
    sb.set_env("SOME_SHELL_VARIABLE", "x");
    sb.set_env("API_URL", "http://api.example");
    command_lease(
        &sb,
        3600,
        "revoke = \"on-exit\"\nrevoke_env = [\"API_URL\"]",
    );
    std::fs::write(
        sb.path().join("revoke.sh"),
        "#!/bin/sh\necho \"$JIT_SECRETS_LEASE $JIT_SECRETS_LEASE_ID $API_URL\" >> revoked\n",
    )
    .unwrap();
    let _cleanup = RevokeOnDrop(&sb);
    let mut shell = Shell::start(&sb, "a", &["TOKEN"]);
    assert!(poll(|| keepers(&sb).len() == 1));
    let env = environ_of(keepers(&sb)[0]);
    let names: Vec<&str> = env.iter().filter_map(|v| v.split('=').next()).collect();
    assert!(!names.contains(&"VAULT_TOKEN"), "{names:?}");
    assert!(!names.contains(&"SOME_SHELL_VARIABLE"), "{names:?}");
    assert!(!names.contains(&"PLAIN_SRC"), "{names:?}");
    assert!(!env.iter().any(|v| v.contains("canary")), "{env:?}");
    assert!(
        env.contains(&"API_URL=http://api.example".to_string()),
        "{env:?}"
    );
    for name in &names {
        assert!(
            ["PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "API_URL"].contains(name)
                || name.starts_with("LC_")
                || name.starts_with("XDG_"),
            "{name} in the keeper's environment"
        );
    }
    shell.kill();
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1 http://api.example\n"),
        "revoke_command did not get revoke_env: {:?}",
        read(&sb, "revoked")
    );
}

/// SIGTERM: the keeper revokes its on-exit lease (held or not) and exits. SIGKILL: its lease is
/// orphaned; `lease list` says so and starts a keeper while a holder lives, and an activation
/// after the last holder died revokes it instead of handing it to a new shell. (Failed before:
/// SIGTERM killed it silently; nothing noticed the orphan.)
#[test]
fn a_terminated_keeper_revokes_and_a_killed_ones_lease_is_orphaned_and_tended() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let mut shell = Shell::start(&sb, "a", &["TOKEN"]);
    assert!(poll(|| keepers(&sb).len() == 1));
    kill(keepers(&sb)[0], "TERM");
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1\n"),
        "SIGTERM did not revoke"
    );
    assert!(poll(|| keepers(&sb).is_empty()));
    shell.kill();

    // SIGKILL while a shell holds it: orphaned, then watched again.
    let mut shell = Shell::start(&sb, "b", &["TOKEN"]);
    assert_eq!(shell.lines(), ["tok-2-canary-7c1e"]);
    assert!(poll(|| keepers(&sb).len() == 1));
    // Watched by a live keeper: not orphaned (`keeper::is_running` sees its lock). It waits on
    // its one holder through a pidfd, woken the moment the shell exits, not at its next look.
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(!listed.contains("orphaned"), "{listed}");
    let pidfds = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                    .filter(|target| target.as_os_str() == "anon_inode:[pidfd]")
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(
        poll(|| pidfds(keepers(&sb)[0]) == 1),
        "the keeper holds no pidfd of its holder"
    );
    kill(keepers(&sb)[0], "KILL");
    assert!(poll(|| keepers(&sb).is_empty()));
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(listed.contains("orphaned"), "{listed}");
    assert!(poll(|| keepers(&sb).len() == 1), "no keeper restarted");

    // SIGKILL, then the last holder dies: the next activation revokes it, and mints anew.
    kill(keepers(&sb)[0], "KILL");
    assert!(poll(|| keepers(&sb).is_empty()));
    shell.kill();
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$TOKEN\""]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "tok-3-canary-7c1e",
        "the orphan was handed out"
    );
    assert!(
        poll(|| read(&sb, "revoked") == "tok lease-1\ntok lease-2\ntok lease-3\n"),
        "{:?}",
        read(&sb, "revoked")
    );
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Another user can neither switch the keeper off (binding the abstract socket name the old
/// keeper used, which `ps` showed) nor stall activation (an `flock` of the readable manifest).
/// (Failed before: no keeper could start, and activation waited 65 s.)
#[test]
fn another_user_can_neither_squat_the_keeper_nor_stall_activation() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    // Readable by the other user, as a manifest in a shared checkout is.
    for p in [sb.path().to_path_buf(), sb.path().join("manifest.toml")] {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let mut shell = Shell::start(&sb, "a", &["TOKEN"]);
    assert!(poll(|| keepers(&sb).len() == 1));
    let keeper = keepers(&sb)[0];
    let cmdline = std::fs::read(format!("/proc/{keeper}/cmdline")).unwrap();
    let digest = String::from_utf8_lossy(&cmdline)
        .rsplit("jit-secrets-lease:")
        .next()
        .unwrap()
        .trim_end_matches('\0')
        .to_string();
    assert_eq!(digest.len(), 32, "{digest}");
    // The other user squats the name and locks the manifest, then the keeper dies (SIGKILL) and
    // the shell with it: the next shell must get a lease and a keeper that revokes it.
    let squat = format!(
        "import socket,time\ns=socket.socket(socket.AF_UNIX)\ns.bind(b'\\0jit-secrets-keeper-0-{digest}')\ns.listen(1)\ntime.sleep(600)\n"
    );
    let squatter = as_nobody(sb.path(), &["/usr/bin/python3", "-c", &squat]);
    let locker = as_nobody(sb.path(), &["flock", "-x", "manifest.toml", "sleep", "600"]);
    // Both in place before the keeper dies (their own processes say so).
    let squatted = || {
        std::fs::read_to_string("/proc/net/unix")
            .unwrap_or_default()
            .contains(&format!("@jit-secrets-keeper-0-{digest}"))
    };
    assert!(poll(squatted), "the squatter did not bind");
    let locked = || {
        Command::new("flock")
            .args(["-n", "-s", "manifest.toml", "true"])
            .current_dir(sb.path())
            .status()
            .is_ok_and(|s| !s.success())
    };
    assert!(poll(locked), "the other user did not lock the manifest");
    kill(keeper, "KILL");
    // Gone before the next shell looks (SIGKILL is delivered, not awaited): a keeper still
    // dying holds its lock, and the next activation rightly joins the lease it still watches.
    assert!(poll(|| keepers(&sb).is_empty()));
    shell.kill();
    let mut shell = Shell::start(&sb, "b", &["TOKEN"]);
    assert_eq!(shell.lines(), ["tok-2-canary-7c1e"]);
    assert!(
        poll(|| keepers(&sb).len() == 1),
        "the keeper was switched off"
    );
    shell.kill();
    assert!(
        poll(|| read(&sb, "revoked").contains("tok lease-2\n")),
        "not revoked: {:?}",
        read(&sb, "revoked")
    );
    drop((squatter, locker));
}

/// Without a runtime directory, the lease locks live in `$TMPDIR/jit-secrets-UID`, a name in a
/// shared directory: another user who takes it first must not switch the keeper off. (Failed
/// before: the lease directory was refused as not ours, no keeper started, and the lease was
/// left to expire.)
#[test]
fn another_user_taking_our_temporary_directory_name_does_not_switch_the_keeper_off() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    let tmp = sb.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    std::fs::set_permissions(
        sb.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    sb.set_env("TMPDIR", &tmp);
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let uid = unsafe { libc::getuid() };
    let ours = tmp.join(format!("jit-secrets-{uid}"));
    let mut squat = as_nobody(sb.path(), &["mkdir", "-m", "0755", ours.to_str().unwrap()]);
    assert!(squat.0.wait().unwrap().success());
    assert!(ours.is_dir(), "the other user did not take the name");
    let mut shell = Shell::start(&sb, "a", &["TOKEN"]);
    assert_eq!(shell.lines(), ["tok-1-canary-7c1e"]);
    assert!(
        poll(|| keepers(&sb).len() == 1),
        "the keeper was switched off"
    );
    shell.kill();
    assert!(
        poll(|| read(&sb, "revoked").contains("tok lease-1\n")),
        "not revoked: {:?}",
        read(&sb, "revoked")
    );
    // Nothing of ours went into the other user's directory.
    assert_eq!(std::fs::read_dir(&ours).unwrap().count(), 0);
}

/// A process of uid 65534, in a process group of its own that dies with the test, passed or not
/// (`flock` forks its command: killing `flock` alone left a `sleep 600` holding the test's pipes).
struct Nobody(Child);

impl Drop for Nobody {
    fn drop(&mut self) {
        unsafe { libc::killpg(self.0.id() as i32, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn as_nobody(dir: &std::path::Path, argv: &[&str]) -> Nobody {
    use std::os::unix::process::CommandExt;
    let child = Command::new(require("setpriv"))
        .current_dir(dir)
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    Nobody(child)
}

/// Two leases of one activation are minted side by side: each program waits for the other's
/// marker. (Failed before: one after the other, so the first waited in vain.)
#[test]
fn the_leases_of_one_activation_are_minted_side_by_side() {
    let sb = Sandbox::new();
    for (me, other) in [("a", "b"), ("b", "a")] {
        sb.write_executable(
            &format!("mint-{me}.sh"),
            format!(
                "#!/bin/sh\ntouch started-{me}\nn=0\nwhile [ ! -e started-{other} ]; do n=$((n+1)); [ $n -gt 300 ] && exit 3; sleep 0.1; done\nprintf '{{\"variables\": {{\"TOKEN_{me}\": \"v\"}}, \"id\": \"{me}\", \"expires_in\": 3600}}'\n"
            ),
        );
    }
    sb.manifest(
        "[secrets]\n[secrets.leases.a]\nkind = \"command\"\ncommand = \"./mint-a.sh\"\ntimeout = \"60s\"\n[secrets.leases.b]\nkind = \"command\"\ncommand = \"./mint-b.sh\"\ntimeout = \"60s\"\n",
    );
    let _cleanup = RevokeOnDrop(&sb);
    let out = sb.jit_m(&[
        "run",
        "--",
        "sh",
        "-c",
        "printf %s%s \"$TOKEN_A\" \"$TOKEN_B\"",
    ]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "vv");
}

/// The holder is the evaluating shell also when the activation is wrapped (bash forks a
/// subshell that starts us). (Failed before: the subshell was the holder, and the lease was
/// revoked as soon as it exited.)
#[test]
fn the_holder_is_the_evaluating_shell_when_the_activation_is_wrapped() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let act = "\"$JIT\" --manifest manifest.toml activate --shell bash";
    let forms = [
        format!("eval \"$({act} 2>/dev/null)\""),
        format!("source <({act} || echo false)"),
        format!("eval \"$({act} | tee /dev/null)\""),
        format!("f() {{ eval \"$({act} 2>/dev/null)\"; }}; f"),
    ];
    let mut shells = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        let shell = Shell::start_with(&sb, &format!("s{i}"), &["TOKEN"], form);
        assert_eq!(shell.lines(), ["tok-1-canary-7c1e"], "{form}");
        shells.push(shell);
    }
    // Two keeper passes and more: nothing may be revoked while these shells live.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(read(&sb, "revoked"), "", "revoked under a live shell");
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    let pids: Vec<String> = shells.iter().map(|s| s.pid().to_string()).collect();
    assert!(
        listed.contains(&format!("holders: {}", pids.join(","))),
        "{listed}"
    );
    for mut s in shells {
        s.kill();
    }
    assert!(poll(|| read(&sb, "revoked") == "tok lease-1\n"));
}

/// A vault token lease's own VAULT_TOKEN is not taken for the master: `lease renew` from the
/// shell that holds it uses ~/.vault-token, and without one says exactly that. (Failed before:
/// the lease's token was used as the master.)
#[test]
fn a_vault_token_leases_own_token_is_not_used_as_the_master() {
    let mut sb = Sandbox::new();
    let bao = Bao::new(&mut sb);
    sb.manifest("[secrets]\n[secrets.leases.v]\nkind = \"vault\"\ntoken = { policies = [\"default\"], ttl = \"15m\" }\n");
    let _cleanup = RevokeOnDrop(&sb);
    let shell = Shell::start(&sb, "a", &["VAULT_TOKEN"]);
    let child = shell.lines()[0].clone();
    assert!(vault_token_works(&bao, &child));
    let renew = |sb: &Sandbox| {
        sb.command(BIN)
            .args(["--manifest", "manifest.toml", "lease", "renew", "v"])
            .env("VAULT_TOKEN", &child)
            .output()
            .unwrap()
    };
    let out = renew(&sb);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(
            "VAULT_TOKEN in this environment is the token of lease `v`, not a master credential"
        ),
        "{err}"
    );
    assert_eq!(err.matches("fix:").count(), 1, "{err}");
    let master = sb.env["VAULT_TOKEN"].clone();
    std::fs::write(sb.path().join("h/.vault-token"), master.as_encoded_bytes()).unwrap();
    let out = renew(&sb);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("lease v renewed"), "{}", stderr(&out));
}

/// `lease list` escapes what a lease's program printed as its id. (Failed before: printed raw.)
#[test]
fn lease_list_escapes_ids() {
    let sb = Sandbox::new();
    sb.write_executable(
        "mint.sh",
        "#!/bin/sh\nprintf '{\"variables\": {\"TOKEN\": \"v\"}, \"id\": \"id\\\\u001b[2J\", \"expires_in\": 3600}'\n",
    );
    sb.manifest("[secrets]\n[secrets.leases.tok]\nkind = \"command\"\ncommand = \"./mint.sh\"\n");
    let _cleanup = RevokeOnDrop(&sb);
    assert_code(&sb.jit_m(&["run", "--", "true"]), 0);
    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(listed.starts_with("tok\tcommand\tid\\e[2J\t"), "{listed:?}");
}

/// `JIT_SECRETS_LEASE_HOLDER=session`, and direnv (whose own bash exits at once) by default, make
/// the session leader the holder: here an outer bash that leads a new session, while an inner
/// bash evaluates the activation. (Failed before with `session_leader` returning 0 or 1, or the
/// direnv default dropped: no test had a holder other than the evaluating shell.)
#[test]
fn the_holder_is_the_session_leader_when_asked_and_under_direnv() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "revoke = \"on-exit\"");
    let _cleanup = RevokeOnDrop(&sb);
    let inner = "eval \"$(\"$JIT\" --manifest manifest.toml activate --shell bash)\"; \"$JIT\" --manifest manifest.toml lease list";
    for (var, value) in [
        ("JIT_SECRETS_LEASE_HOLDER", "session"),
        ("DIRENV_IN_ENVRC", "1"),
    ] {
        let out = sb
            .command(require("setsid"))
            .args(["--wait", "bash", "-c"])
            .arg(format!("bash -c '{inner}'; echo \"leader $$\""))
            .env("JIT", BIN)
            .env(var, value)
            .current_dir(sb.path())
            .output()
            .unwrap();
        assert_code(&out, 0);
        let text = stdout(&out);
        let leader = text
            .lines()
            .find_map(|l| l.strip_prefix("leader "))
            .unwrap_or_else(|| panic!("{text}{}", stderr(&out)));
        let holders = text
            .lines()
            .find(|l| l.starts_with("tok\t"))
            .and_then(|l| l.split("holders: ").nth(1))
            .unwrap_or_else(|| panic!("{var}: {text}{}", stderr(&out)));
        assert!(
            holders.split([',', ' ']).any(|h| h == leader),
            "{var}={value}: holders {holders}, session leader {leader}"
        );
    }
}

/// A `command` lease whose `revoke_command` is a bare name PATH finds in the repository (direnv's
/// `PATH_add bin`): the file found when the lease is made is recorded, with its digest, so an edit
/// to it is not run by `lease revoke` (exit 2, naming it), and a later PATH without `bin/` still
/// revokes with that very file. (Failed before: the bare name was not pinned and the edit ran.)
#[test]
fn a_revoke_program_found_on_path_in_the_repository_is_pinned_when_the_lease_is_made() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    command_lease(&sb, 3600, "");
    let revoke = "#!/bin/sh\necho \"$JIT_SECRETS_LEASE $JIT_SECRETS_LEASE_ID\" >> revoked\n";
    sb.write_executable("bin/myrevoke", revoke);
    let manifest = read(&sb, "manifest.toml").replace(
        "revoke_command = \"./revoke.sh\"",
        "revoke_command = [\"myrevoke\"]",
    );
    sb.manifest(&manifest);
    let path_before = sb.env["PATH"].clone();
    let bin = sb.path().join("bin");
    let dirs = std::iter::once(bin).chain(std::env::split_paths(&path_before));
    sb.set_env("PATH", std::env::join_paths(dirs).unwrap());
    let _cleanup = RevokeOnDrop(&sb);
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);

    sb.write_executable("bin/myrevoke", "#!/bin/sh\necho ran > evil\n");
    let out = sb.jit_m(&["lease", "revoke"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("bin/myrevoke"), "{err}");
    assert!(
        !sb.path().join("evil").exists(),
        "lease revoke ran the edit"
    );

    sb.write_executable("bin/myrevoke", revoke);
    let m = sb.path().join("manifest.toml");
    let out = sb
        .command(BIN)
        .env("PATH", path_before)
        .args(["--manifest", m.to_str().unwrap(), "lease", "revoke"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(read(&sb, "revoked"), "tok lease-1\n");
}

/// Two shells that find no lease at once: the first mints under the lease's turn, and the second,
/// which waited for the turn, finds that fresh lease and joins it instead of minting its own.
/// Ordered without timing: the mint waits for a `go` file, and each activation's `cmd:` entry
/// (run after its first look for a live lease) leaves a line in `marks`. (Failed before with the
/// second look's `expires - created` mutated: no test had two shells mint at once.)
#[test]
fn two_shells_that_find_no_lease_at_once_mint_it_once() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    command_lease(&sb, 3600, "");
    let _cleanup = RevokeOnDrop(&sb);
    sb.write_executable(
        "mint.sh",
        "#!/bin/sh\ntouch minting\nwhile [ ! -e go ]; do sleep 0.05; done\nn=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\nprintf '{\"variables\": {\"TOKEN\": \"tok-%s-canary-7c1e\"}, \"id\": \"lease-%s\", \"expires_in\": 3600}' $n $n\n",
    );
    sb.write_executable("mark.sh", "#!/bin/sh\necho marked >> marks\nprintf m\n");
    let manifest = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    sb.manifest(&manifest.replace(
        "PLAIN = \"env:PLAIN_SRC\"\n",
        "PLAIN = \"env:PLAIN_SRC\"\nMARK = \"cmd:./mark.sh\"\n",
    ));
    let marks = || read(&sb, "marks").lines().count();
    let start = || {
        sb.command(BIN)
            .args([
                "--manifest",
                "manifest.toml",
                "run",
                "--",
                "sh",
                "-c",
                "printf %s \"$TOKEN\"",
            ])
            .current_dir(sb.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = start();
    assert!(poll(|| sb.path().join("minting").exists() && marks() == 1));
    let second = start();
    assert!(poll(|| marks() == 2), "the second shell never looked");
    std::fs::write(sb.path().join("go"), "").unwrap();
    for shell in [first, second] {
        let out = shell.wait_with_output().unwrap();
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "tok-1-canary-7c1e", "{}", stderr(&out));
    }
    assert_eq!(read(&sb, "count").trim(), "1", "minted once");
}

/// Found by the outside review: a bare revoke program that is a symlink in the repository (to a
/// program of the system) was pinned as the link, so a `git pull` that turned the link into a
/// script had that script run by `lease revoke`; and one not on PATH when the lease was made was
/// looked up again at revoke time, finding whatever a later commit added. Now the file itself is
/// pinned, and a revoke program that is not found stops the lease before anything is minted.
#[test]
fn a_revoke_program_symlinked_or_missing_when_the_lease_is_made_never_runs_later_code() {
    let mut sb = Sandbox::new();
    sb.set_env("PLAIN_SRC", "plain");
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    command_lease(&sb, 3600, "");
    std::fs::create_dir_all(sb.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(require("true"), sb.path().join("bin/myrevoke")).unwrap();
    let manifest = read(&sb, "manifest.toml").replace(
        "revoke_command = \"./revoke.sh\"",
        "revoke_command = [\"myrevoke\"]",
    );
    sb.manifest(&manifest);
    let path_before = sb.env["PATH"].clone();
    let bin = sb.path().join("bin");
    let dirs = std::iter::once(bin).chain(std::env::split_paths(&path_before));
    sb.set_env("PATH", std::env::join_paths(dirs).unwrap());
    let _cleanup = RevokeOnDrop(&sb);
    assert_code(&sb.jit_m(&["activate", "--shell", "json"]), 0);
    std::fs::remove_file(sb.path().join("bin/myrevoke")).unwrap();
    sb.write_executable("bin/myrevoke", "#!/bin/sh\necho ran > evil\n");
    assert_code(&sb.jit_m(&["lease", "revoke"]), 0);
    assert!(
        !sb.path().join("evil").exists(),
        "the script that replaced the link ran"
    );

    // Not on PATH when the lease would be made: nothing is minted, and it says why.
    std::fs::remove_file(sb.path().join("bin/myrevoke")).unwrap();
    sb.manifest(&manifest.replace("[\"myrevoke\"]", "[\"myrevoke-later\"]"));
    let out = sb.jit_m(&["activate", "--shell", "json"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("revoke_command `myrevoke-later` is not on PATH"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&sb, "count").trim(), "1", "minted nothing more");
}
