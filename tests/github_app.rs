//! `github-app` leases against a local stand-in for GitHub's REST API (tests/fake/github_api.py:
//! no GitHub account exists here). The server verifies each App JWT with the App's public key
//! (RS256, `iss`, a life of at most ten minutes, `iat` in the past) and logs every request, so
//! the tests see what jit-secrets asked for and which token it deleted. The key pair is made by
//! `openssl genpkey` in each test; the private key reaches jit-secrets through a real reference
//! (`env:`). The holders are real shells, killed with SIGKILL; revocation is polled for.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use support::*;

/// The fake API, started on a free port of 127.0.0.1 and stopped on drop.
struct GithubApi {
    _daemon: Daemon,
    log: PathBuf,
    port: u16,
}

impl GithubApi {
    /// Installation 42 on the organization `my-org` (repositories app and lib; contents write,
    /// pull_requests read, metadata read) and 7 on the user `octo-user`; `prefix` is the API's
    /// path (`/api/v3` on GitHub Enterprise Server). `tls`: (certificate, key) to serve HTTPS.
    fn start(sb: &mut Sandbox, prefix: &str, tls: Option<(PathBuf, PathBuf)>) -> GithubApi {
        let (private, public) = key_pair(sb, "app");
        sb.set_env("GH_APP_KEY", std::fs::read_to_string(private).unwrap());
        let config = serde_json::json!({
            "app_id": "12345",
            "public_key": public,
            "prefix": prefix,
            "installations": {
                "42": {
                    "account": {"login": "my-org", "type": "Organization"},
                    "repositories": [{"id": 1, "name": "app"}, {"id": 2, "name": "lib"}],
                    "permissions": {"contents": "write", "pull_requests": "read", "metadata": "read"},
                },
                "7": {
                    "account": {"login": "octo-user", "type": "User"},
                    "repositories": [{"id": 9, "name": "dotfiles"}],
                    "permissions": {"contents": "read", "metadata": "read"},
                },
            },
        });
        let config = sb.write("github-config.json", config.to_string());
        let log = sb.path().join("github-requests.log");
        let port = free_port();
        let python = tools_bin().parent().unwrap().join("venv/bin/python");
        assert!(
            python.exists(),
            "the tools' venv (PyJWT) is missing: run scripts/install-test-deps.sh"
        );
        let mut cmd = sb.command(python);
        cmd.arg(fake_dir().join("github_api.py"))
            .arg(port.to_string())
            .arg(&config)
            .arg(&log);
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
        }
        let daemon = Daemon::spawn("github-api", cmd, &sb.path().join("github-api.log"));
        wait_for_port(port, std::time::Duration::from_secs(20));
        GithubApi {
            _daemon: daemon,
            log,
            port,
        }
    }

    fn url(&self, prefix: &str) -> String {
        format!("http://127.0.0.1:{}{prefix}", self.port)
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `METHOD PATH` of each request.
    fn calls(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// Was a DELETE of `token` (authenticated by the token itself) answered 204?
    fn deleted(&self, token: &str) -> bool {
        self.requests().iter().any(|r| {
            r["method"] == "DELETE" && r["token"].as_str() == Some(token) && r["status"] == 204
        })
    }
}

/// A fresh RSA key pair (PKCS#8 private key, as `openssl genpkey` writes, and its public key).
fn key_pair(sb: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    let private = sb.path().join(format!("{name}.key.pem"));
    let public = sb.path().join(format!("{name}.pub.pem"));
    let genpkey = sb
        .command("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .output()
        .unwrap();
    assert_code(&genpkey, 0);
    let pubout = sb
        .command("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .unwrap();
    assert_code(&pubout, 0);
    (private, public)
}

/// The lease `gh`, with `settings` after the common ones.
fn manifest(sb: &Sandbox, api_url: &str, settings: &str) {
    sb.manifest(&format!(
        "[secrets]\n\n[secrets.leases.gh]\nkind = \"github-app\"\napp_id = \"12345\"\nmaster = {{ private_key = \"env:GH_APP_KEY\" }}\napi_url = \"{api_url}\"\n{settings}\n"
    ));
}

/// A shell that activated the manifest, wrote `$GH_TOKEN $GITHUB_TOKEN` to a file and waits
/// (`exec sleep`: its pid, the lease's holder, stays). Killed on drop.
struct Shell(Child, PathBuf);

impl Shell {
    fn start(sb: &Sandbox, name: &str) -> Shell {
        let out = sb.path().join(format!("{name}.out"));
        let script = format!(
            "eval \"$(\"$JIT\" --manifest manifest.toml activate --shell bash)\" || {{ echo failed > {name}.out; exit 9; }}\nprintf '%s %s\\n' \"$GH_TOKEN\" \"$GITHUB_TOKEN\" > {name}.tmp; mv {name}.tmp {name}.out\nexec sleep 4712"
        );
        let child = sb
            .command("bash")
            .args(["-c", &script])
            .env("JIT", BIN)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let shell = Shell(child, out);
        assert!(
            poll(|| shell.1.exists()),
            "the shell never activated ({name})"
        );
        shell
    }

    /// (GH_TOKEN, GITHUB_TOKEN) as the shell received them.
    fn tokens(&self) -> (String, String) {
        let text = std::fs::read_to_string(&self.1).unwrap();
        let (gh, github) = text.trim_end().split_once(' ').unwrap_or((&text, ""));
        (gh.to_string(), github.to_string())
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Revokes the sandbox's leases when the test ends, before the server stops (declared after it).
struct RevokeOnDrop<'a>(&'a Sandbox);

impl Drop for RevokeOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.jit_m(&["lease", "revoke"]);
    }
}

/// `jit-secrets run` printing `$GH_TOKEN`.
fn token_by_run(sb: &Sandbox) -> String {
    let out = sb.jit_m(&["run", "--", "sh", "-c", "printf %s \"$GH_TOKEN\""]);
    assert_code(&out, 0);
    stdout(&out)
}

#[test]
fn a_narrowed_token_is_exported_shared_and_deleted_when_the_last_shell_is_killed() {
    let mut sb = Sandbox::requiring_trust();
    let api = GithubApi::start(&mut sb, "", None);
    manifest(
        &sb,
        &api.url(""),
        "installation_id = \"42\"\nrepositories = [\"app\"]\npermissions = { contents = \"read\", pull_requests = \"read\" }\nrevoke = \"on-exit\"",
    );
    let _cleanup = RevokeOnDrop(&sb);

    // Not allowed yet: nothing is asked of GitHub.
    let refused = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_code(&refused, 2);
    assert!(api.requests().is_empty(), "{:?}", api.calls());
    assert_code(&sb.jit_m(&["allow"]), 0);

    let mut first = Shell::start(&sb, "first");
    let mut second = Shell::start(&sb, "second");
    let (gh, github) = first.tokens();
    assert!(gh.starts_with("ghs_"), "{gh:?}");
    assert_eq!(github, gh, "GITHUB_TOKEN and GH_TOKEN are the same token");
    assert_eq!(
        second.tokens(),
        first.tokens(),
        "the second shell reuses it"
    );

    let requests = api.requests();
    assert_eq!(
        api.calls(),
        ["POST /app/installations/42/access_tokens"],
        "one token, for both shells"
    );
    let minted = &requests[0];
    assert_eq!(minted["issued"], gh.as_str());
    assert_eq!(
        minted["body"],
        serde_json::json!({"repositories": ["app"], "permissions": {"contents": "read", "pull_requests": "read"}}),
        "the server sees the narrowing"
    );
    assert_eq!(minted["headers_ok"], true);
    assert_eq!(minted["jwt"]["iss"], "12345");
    let life = minted["jwt"]["exp"].as_i64().unwrap() - minted["jwt"]["iat"].as_i64().unwrap();
    assert!(life <= 600, "the JWT lives {life}s");

    let listed = stdout(&sb.jit_m(&["lease", "list"]));
    assert!(
        listed.starts_with("gh\tgithub-app\tinstallation 42\t"),
        "{listed}"
    );
    assert!(!listed.contains(&gh), "lease list shows no token");
    let expiry = format!("\texpires {} (", minted["expires_at"].as_str().unwrap());
    assert!(
        listed.contains(&expiry),
        "the expiry is GitHub's expires_at: {listed}"
    );

    first.kill();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(!api.deleted(&gh), "deleted while a shell held it");
    second.kill();
    assert!(
        poll(|| api.deleted(&gh)),
        "no DELETE /installation/token with the token after the last shell was killed: {:?}",
        api.calls()
    );
}

#[test]
fn lease_revoke_and_verify_delete_the_token_they_name() {
    let mut sb = Sandbox::new();
    let api = GithubApi::start(&mut sb, "", None);
    manifest(&sb, &api.url(""), "installation_id = 42");
    let _cleanup = RevokeOnDrop(&sb);

    let token = token_by_run(&sb);
    assert!(token.starts_with("ghs_"), "{token:?}");
    assert_eq!(token_by_run(&sb), token, "reused by a second run");
    assert!(!api.deleted(&token), "on-expiry: kept while it lives");
    let revoked = sb.jit_m(&["lease", "revoke", "gh"]);
    assert_code(&revoked, 0);
    assert!(api.deleted(&token), "{:?}", api.calls());
    let token = token_by_run(&sb);
    assert!(!api.deleted(&token), "a new one after revocation");

    // A token GitHub no longer accepts (deleted behind our back): revoking it succeeds and
    // forgets it (GitHub answers 401: there is nothing left to delete).
    let gone = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "DELETE",
        ])
        .args([
            "-H",
            "Accept: application/vnd.github+json",
            "-H",
            "X-GitHub-Api-Version: 2022-11-28",
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{}/installation/token", api.url("")))
        .output()
        .unwrap();
    assert_eq!(stdout(&gone), "204");
    assert_code(&sb.jit_m(&["lease", "revoke", "gh"]), 0);
    assert!(stderr(&sb.jit_m(&["lease", "list"])).contains("no live lease"));

    // verify --leases: a probe token is minted and deleted at once.
    let before = api.requests().len();
    let verified = sb.jit_m(&["verify", "--leases"]);
    assert_code(&verified, 0);
    let probe: Vec<Value> = api.requests().split_off(before);
    let issued = probe
        .iter()
        .find_map(|r| r["issued"].as_str())
        .unwrap_or_else(|| panic!("no probe token minted: {probe:?}"))
        .to_string();
    assert!(api.deleted(&issued), "the probe token was not deleted");
    assert!(
        stdout(&verified).contains("created and revoked")
            || stderr(&verified).contains("created and revoked"),
        "{}{}",
        stdout(&verified),
        stderr(&verified)
    );
}

#[test]
fn the_installation_is_found_by_owner_an_organization_or_a_user() {
    let mut sb = Sandbox::new();
    let api = GithubApi::start(&mut sb, "", None);
    // The key as GitHub hands it out: PKCS#1 (`BEGIN RSA PRIVATE KEY`), not genpkey's PKCS#8.
    let pkcs1 = sb
        .command("openssl")
        .args(["rsa", "-traditional", "-in", "app.key.pem"])
        .output()
        .unwrap();
    assert_code(&pkcs1, 0);
    assert!(stdout(&pkcs1).starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    sb.set_env("GH_APP_KEY", stdout(&pkcs1));
    let _cleanup = RevokeOnDrop(&sb);
    manifest(&sb, &api.url(""), "owner = \"my-org\"");
    assert!(token_by_run(&sb).starts_with("ghs_"));
    assert_eq!(
        api.calls(),
        [
            "GET /orgs/my-org/installation",
            "POST /app/installations/42/access_tokens"
        ]
    );
    assert_code(&sb.jit_m(&["lease", "revoke"]), 0);

    manifest(&sb, &api.url(""), "owner = \"octo-user\"");
    let before = api.calls().len();
    assert!(token_by_run(&sb).starts_with("ghs_"));
    assert_eq!(
        api.calls()[before..],
        [
            "GET /orgs/octo-user/installation",
            "GET /users/octo-user/installation",
            "POST /app/installations/7/access_tokens"
        ]
    );

    manifest(&sb, &api.url(""), "owner = \"nobody\"");
    let out = sb.jit_m(&["activate", "--shell", "bash"]);
    assert_fails_with(
        &out,
        &[
            "no installation of this App on `nobody`",
            "check `owner`",
            "that the App is installed",
        ],
    );
}

#[test]
fn each_refusal_names_its_fix() {
    let mut sb = Sandbox::new();
    let api = GithubApi::start(&mut sb, "", None);
    let url = api.url("");
    let activate = |sb: &Sandbox| sb.jit_m(&["activate", "--shell", "bash"]);

    // 401: a key that is not the App's, then an app_id that is not its.
    let (other, _) = key_pair(&sb, "other");
    let app_key = sb.env["GH_APP_KEY"].clone();
    sb.set_env("GH_APP_KEY", std::fs::read_to_string(other).unwrap());
    manifest(&sb, &url, "installation_id = 42");
    let out = activate(&sb);
    assert_fails_with(
        &out,
        &[
            "GitHub rejected the app's JWT",
            "check `app_id`",
            "master.private_key",
        ],
    );
    assert!(
        api.requests()[0]["jwt_refused"]
            .as_str()
            .unwrap()
            .contains("Signature"),
        "{:?}",
        api.requests()
    );
    sb.set_env("GH_APP_KEY", app_key);
    sb.manifest(
        &std::fs::read_to_string(sb.path().join("manifest.toml"))
            .unwrap()
            .replace("12345", "999"),
    );
    assert_fails_with(
        &activate(&sb),
        &["GitHub rejected the app's JWT", "check `app_id`"],
    );

    // 404: no such installation.
    manifest(&sb, &url, "installation_id = 99");
    assert_fails_with(
        &activate(&sb),
        &[
            "no installation 99",
            "check `installation_id` (or `owner`)",
            "App is installed",
        ],
    );

    // 422: a repository, then a permission, the installation does not have: named.
    manifest(
        &sb,
        &url,
        "installation_id = 42\nrepositories = [\"app\", \"secret-repo\"]",
    );
    assert_fails_with(
        &activate(&sb),
        &[
            "the installation does not have repository `secret-repo`",
            "Configure",
        ],
    );
    assert!(!stderr(&activate(&sb)).contains("repository `app`"));
    manifest(&sb, &url, "installation_id = 42\npermissions = { contents = \"read\", pull_requests = \"write\", administration = \"read\" }");
    assert_fails_with(
        &activate(&sb),
        &["permission administration=read (it has none), permission pull_requests=write (it has read)"],
    );
    // The repository probe's token was deleted.
    for r in api.requests().iter().filter(|r| r["issued"].is_string()) {
        assert!(
            api.deleted(r["issued"].as_str().unwrap()),
            "a probe token was left alive"
        );
    }
}

#[test]
fn a_github_enterprise_server_api_url_keeps_its_path_and_http_is_only_for_this_machine() {
    let mut sb = Sandbox::new();
    let api = GithubApi::start(&mut sb, "/api/v3", None);
    let _cleanup = RevokeOnDrop(&sb);
    manifest(
        &sb,
        &api.url("/api/v3/"),
        "installation_id = 42\nrevoke = \"on-exit\"\nexports = { GH_ENTERPRISE_TOKEN = \"token\" }",
    );
    // `exports` replaces the default names (the caller's own GH_TOKEN is not passed in).
    let out = sb
        .command(BIN)
        .env_remove("GH_TOKEN")
        .args(["--manifest", "manifest.toml", "run", "--", "sh", "-c"])
        .arg("printf '%s %s' \"$GH_ENTERPRISE_TOKEN\" \"${GH_TOKEN-unset}\"")
        .output()
        .unwrap();
    assert_code(&out, 0);
    let (token, gh) = stdout(&out)
        .split_once(' ')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    assert!(token.starts_with("ghs_"), "{token:?}");
    assert_eq!(gh, "unset");
    assert_eq!(
        api.calls()[0],
        "POST /api/v3/app/installations/42/access_tokens"
    );
    assert!(
        poll(|| api.deleted(&token)),
        "run's on-exit lease: {:?}",
        api.calls()
    );
    assert_eq!(
        api.calls().last().unwrap(),
        "DELETE /api/v3/installation/token"
    );

    // http:// to anything but a loopback address is refused before anything is fetched.
    for url in ["http://github.example.com/api/v3", "http://10.0.0.1/api/v3"] {
        manifest(&sb, url, "installation_id = 42");
        let out = sb.jit_m(&["activate", "--shell", "bash"]);
        assert_code(&out, 2);
        assert_eq!(stdout(&out), "false\n", "only the failure statement");
        assert!(
            stderr(&out).contains("is http:// to a host that is not this machine")
                && stderr(&out).contains("(use https://)"),
            "{}",
            stderr(&out)
        );
    }
}

/// A CA and a certificate it signed for `host` (the system's roots are replaced by the CA through
/// SSL_CERT_FILE, which rustls' native roots honour, as OpenSSL does).
fn certificate_for(sb: &Sandbox, host: &str) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| sb.path().join(name);
    let openssl = |args: &[&str]| {
        let out = sb.command("openssl").args(args).output().unwrap();
        assert_code(&out, 0);
    };
    let ext = sb.write(
        "server.ext",
        format!(
            "subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        ),
    );
    let (ca, ca_key, cert, key, csr) = (
        p("ca.pem"),
        p("ca.key"),
        p("server.pem"),
        p("server.key"),
        p("server.csr"),
    );
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
        "-days",
        "1",
        "-subj",
        "/CN=jit-secrets test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &s(&key),
        "-out",
        &s(&csr),
        "-subj",
        &format!("/CN={host}"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-set_serial",
        "1",
        "-days",
        "1",
        "-out",
        &s(&cert),
        "-extfile",
        &s(&ext),
    ]);
    (ca, cert, key)
}

#[test]
fn https_goes_through_https_proxy_with_tls_end_to_end() {
    let mut sb = Sandbox::new();
    // A name no resolver knows: only the proxy (which sends every CONNECT to 127.0.0.1) reaches it.
    let host = "api.github.test";
    let (ca, cert, key) = certificate_for(&sb, host);
    let api = GithubApi::start(&mut sb, "/api/v3", Some((cert, key)));
    let proxy_port = free_port();
    let proxy_log = sb.path().join("proxy.log");
    let mut cmd = sb.command("python3");
    cmd.arg(fake_dir().join("connect_proxy.py"))
        .arg(proxy_port.to_string())
        .arg(&proxy_log);
    let _proxy = Daemon::spawn("connect-proxy", cmd, &sb.path().join("connect-proxy.out"));
    wait_for_port(proxy_port, std::time::Duration::from_secs(20));
    sb.set_env("HTTPS_PROXY", format!("http://127.0.0.1:{proxy_port}"));
    sb.set_env("NO_PROXY", "localhost");
    sb.set_env("SSL_CERT_FILE", &ca);
    let _cleanup = RevokeOnDrop(&sb);
    let url = format!("https://{host}:{}/api/v3", api.port);
    manifest(&sb, &url, "installation_id = 42\nrevoke = \"on-exit\"");

    let token = token_by_run(&sb);
    assert!(token.starts_with("ghs_"), "{token:?}");
    assert_eq!(
        api.calls()[0],
        "POST /api/v3/app/installations/42/access_tokens"
    );
    // The keeper deletes it through the proxy too, when `run`'s program has exited.
    assert!(poll(|| api.deleted(&token)), "{:?}", api.calls());
    let connects = std::fs::read_to_string(&proxy_log).unwrap();
    let expected = format!("CONNECT {host}:{} HTTP/1.1\n", api.port);
    assert_eq!(
        connects,
        expected.repeat(2),
        "one tunnel to mint, one to delete"
    );

    // Without the proxy, the made-up name cannot be reached: the proxy was what carried it.
    let mut direct = sb.command(BIN);
    for proxy in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        direct.env_remove(proxy);
    }
    let out = direct
        .arg("--manifest")
        .arg(sb.path().join("manifest.toml"))
        .args(["activate", "--shell", "bash"])
        .output()
        .unwrap();
    assert_fails_with(&out, &["cannot reach GitHub at https://api.github.test"]);

    // A proxy jit-secrets cannot tunnel through is refused, not bypassed.
    let out = sb
        .command(BIN)
        .env("HTTPS_PROXY", "socks5://127.0.0.1:1")
        .arg("--manifest")
        .arg(sb.path().join("manifest.toml"))
        .args(["activate", "--shell", "bash"])
        .output()
        .unwrap();
    assert_fails_with(&out, &["through http:// proxies only", "HTTPS_PROXY"]);
}

#[test]
fn the_key_the_jwt_and_the_token_never_reach_the_disk_argv_or_a_message() {
    let mut sb = Sandbox::new();
    let api = GithubApi::start(&mut sb, "", None);
    // on-expiry: an on-exit lease's keeper would be traced too, and outlive the command.
    manifest(&sb, &api.url(""), "installation_id = 42");
    let _cleanup = RevokeOnDrop(&sb);
    let key = sb.env["GH_APP_KEY"].to_string_lossy().into_owned();
    let key_line = key.lines().nth(5).unwrap().to_string();
    // Every RS256 JWT begins with this header.
    let jwt_header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
    let log = sb.path().join("strace.log");
    // Each starts the helper: mint, delete, mint again.
    for args in [
        &["run", "--", "true"][..],
        &["lease", "revoke"],
        &["activate", "--shell", "bash"],
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
        assert!(
            trace.contains("jit-secrets-net"),
            "{args:?}: the helper was not started"
        );
        // The one file a lease opens for writing is its turn's lock, never written to.
        let writes: Vec<String> = find_writes(&trace)
            .into_iter()
            .filter(|w| !is_lease_turn_lock(w))
            .collect();
        assert!(writes.is_empty(), "{args:?} wrote:\n{}", writes.join("\n"));
        let tokens: Vec<String> = api
            .requests()
            .iter()
            .filter_map(|r| r["issued"].as_str().map(str::to_string))
            .collect();
        assert!(!tokens.is_empty());
        for secret in tokens
            .iter()
            .map(String::as_str)
            .chain([key_line.as_str(), jwt_header])
        {
            assert!(!trace.contains(secret), "{args:?}: in argv or a path");
            assert!(!stderr(&out).contains(secret), "{args:?}: in a message");
        }
    }
    for args in [
        &["lease", "list", "--all"][..],
        &["verify"],
        &["verify", "--json"],
    ] {
        let out = sb.jit_m(args);
        for r in api.requests() {
            if let Some(token) = r["issued"].as_str() {
                assert!(
                    !stdout(&out).contains(token) && !stderr(&out).contains(token),
                    "{args:?}"
                );
            }
        }
    }
}
