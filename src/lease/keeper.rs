//! The keeper: revokes an `on-exit` lease within a second or two of the last process that received
//! it exiting, however it exited (`exit`, a closed terminal, `kill -9`). No trap of the user's
//! shell is touched: the keeper watches the holders from outside.
//!
//! One keeper per lease (its key description), this binary re-executed and detached (see
//! `process::start_detached`); `ps` shows it as `jit-lease-keep`. It holds no credential:
//! - it starts with a fixed environment ([`environment_for`]): `PATH HOME USER LOGNAME LANG LC_*
//!   TZ TMPDIR XDG_*`, the variables its kind's revocation reads (Vault's address and TLS
//!   settings, GitHub's roots and proxy; none for kinds that cannot be revoked), and for a `command` lease the manifest's `revoke_env` — never the
//!   shell's `VAULT_TOKEN` or anything else of it;
//! - it is not dumpable (no core, no `/proc/PID/mem` for other processes of the user) before it
//!   reads a record, and it reads records without their values (`record::scan_without_values`):
//!   only what revocation needs (a Vault child token, the manifest's revoke command).
//!
//! It holds a pidfd per live holder and sleeps in `poll` until one exits (or a second passes: a
//! new shell may have joined), then checks again.
//!
//! It is alone per lease: it holds an `flock` on `<digest>.keeper` in the user's own lease
//! directory (0700, checked like the scoped directory: see [`super::lease_dir`]) for as long as
//! it lives; a second keeper cannot take it and exits, and a command that finds it locked knows
//! one is watching. No other user can create, open or lock anything there, so nobody can switch
//! the keeper off by squatting its name. A keeper killed with SIGKILL releases the lock: its
//! leases are then *orphaned* (see `super::tend_orphan`).
//!
//! Signals: SIGHUP, SIGINT, SIGQUIT and SIGPIPE are ignored (a closed terminal is not its end);
//! SIGTERM (logout, `loginctl terminate-session`, shutdown) makes it revoke its on-exit leases at
//! once, held or not, and exit. It ends as soon as no record of its lease is left — revoked, or
//! expired and dropped by the kernel — so it outlives nothing.

use super::record::Record;
#[cfg(target_os = "linux")]
use super::record::{self, Holder};
#[cfg(target_os = "linux")]
use std::collections::HashMap;
use std::ffi::OsString;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
#[cfg(target_os = "linux")]
use std::os::unix::fs::OpenOptionsExt;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(target_os = "linux")]
use std::time::Duration;

/// The hidden argument that makes `jit-secrets` run as a keeper.
pub const KEEPER_ARG: &str = "__jit-secrets-lease-keeper";

/// How long one revocation may take.
#[cfg(target_os = "linux")]
const REVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Makes sure a keeper watches the lease stored under `description` (`record` is its record:
/// its kind and `revoke_env` say what the keeper's environment holds).
pub fn ensure(description: &str, record: &Record) {
    let base = super::base_description(description);
    if is_running(base) {
        return;
    }
    let env = environment_for(record, std::env::vars_os());
    if let Err(e) = crate::process::start_detached(&[KEEPER_ARG, base], &env) {
        eprintln!("jit-secrets: warning: cannot start the lease keeper ({e}); the lease will expire instead of being revoked on exit");
    }
}

/// The keeper's environment, out of `ours`: the fixed few, its kind's configuration, the
/// manifest's `revoke_env`. No credential of the shell's (its `VAULT_TOKEN`, the master's).
pub fn environment_for(
    record: &Record,
    ours: impl Iterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    const FIXED: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR"];
    let kind: &[&str] = match record.kind.as_str() {
        "vault" => &[
            "VAULT_ADDR",
            "VAULT_NAMESPACE",
            "VAULT_CACERT",
            "VAULT_CAPATH",
            "VAULT_SKIP_VERIFY",
            "VAULT_CLIENT_CERT",
            "VAULT_CLIENT_KEY",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "HTTPS_PROXY",
            "https_proxy",
            "NO_PROXY",
            "no_proxy",
        ],
        // `aws-sts`, `gcp` and `azure` credentials cannot be revoked (they expire): the keeper
        // runs nothing for them, so it gets none of their configuration either.
        // Deleting the token goes to GitHub as minting did: the same roots and proxy.
        "github-app" => &[
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ],
        _ => &[],
    };
    ours.filter(|(name, _)| {
        let Some(name) = name.to_str() else {
            return false;
        };
        FIXED.contains(&name)
            || name.starts_with("LC_")
            || name.starts_with("XDG_")
            || kind.contains(&name)
            || record.revocation.env.iter().any(|n| n == name)
    })
    .collect()
}

/// The file the keeper of `description` holds locked while it lives.
#[cfg(target_os = "linux")]
fn lock_path(description: &str) -> Option<std::path::PathBuf> {
    let dir = super::lease_dir().ok()?;
    Some(dir.join(format!("{}.keeper", super::digest_of(description))))
}

/// Is a keeper of ours watching this lease? (Its lock is held; nobody else can lock files in
/// our lease directory.)
#[cfg(target_os = "linux")]
pub fn is_running(description: &str) -> bool {
    let Some(path) = lock_path(description) else {
        return false;
    };
    let Ok(file) = std::fs::File::open(&path) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; a shared probe, released when `file` closes.
    let probe = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    probe != 0
}

#[cfg(not(target_os = "linux"))]
pub fn is_running(_: &str) -> bool {
    false
}

/// Set by SIGTERM: revoke the on-exit leases now and exit.
#[cfg(target_os = "linux")]
static TERMINATED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
extern "C" fn on_sigterm(_: libc::c_int) {
    TERMINATED.store(true, Ordering::SeqCst);
}

/// Takes the keeper's lock for `description`: `None` when another keeper holds it (or the lease
/// directory is not ours alone).
#[cfg(target_os = "linux")]
fn take_keeper_lock(description: &str) -> Option<crate::file_lock::FileLock> {
    let path = lock_path(description)?;
    let created = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .is_ok();
    if !created {
        return None;
    }
    // A command probing whether we run holds it for microseconds: wait that out.
    crate::file_lock::FileLock::exclusive_dir_within(&path, Duration::from_secs(2))
        .ok()
        .and_then(|(lock, _)| lock)
}

/// The keeper's whole life (see the module).
#[cfg(target_os = "linux")]
pub fn main(description: &str) -> ! {
    crate::process::become_detached(c"jit-lease-keep");
    // Before any record is read: no core file, no ptrace or /proc/PID/mem by other processes.
    crate::process::harden_against_core_dumps();
    // A revoke command it starts dies with it, however it dies (see process::guard).
    crate::process::enable_watcher();
    // SAFETY: a handler that only stores to an atomic; no SA_RESTART, so `poll` wakes.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigterm as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
    let Some(_alone) = take_keeper_lock(description) else {
        // Another keeper watches this lease (or we cannot tell safely: then nobody can).
        std::process::exit(0)
    };
    let mut pidfds: HashMap<Holder, OwnedFd> = HashMap::new();
    let mut failed_at: HashMap<String, std::time::Instant> = HashMap::new();
    loop {
        if TERMINATED.load(Ordering::SeqCst) {
            revoke_all_on_exit(description);
            std::process::exit(0)
        }
        let Ok(stored) = record::scan_without_values(description) else {
            std::process::exit(0)
        };
        if stored.is_empty() {
            std::process::exit(0)
        }
        let mut watched: Vec<Holder> = Vec::new();
        for s in stored.iter().filter(|s| s.record.on_exit) {
            let live = s.record.live_holders();
            if live.is_empty() {
                let recently_failed = failed_at
                    .get(&s.description)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(10));
                if !recently_failed && !revoke_if_unheld(&s.description, false) {
                    failed_at.insert(s.description.clone(), std::time::Instant::now());
                }
            }
            watched.extend(live);
        }
        drop(stored);
        watch(&mut pidfds, watched);
        let mut polled: Vec<libc::pollfd> = pidfds
            .values()
            .map(|f| libc::pollfd {
                fd: f.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: poll on descriptors we own, for at most a second (a signal ends it early).
        unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, 1000) };
    }
}

/// Keeps one pidfd per holder in `watched` (and none for any other).
#[cfg(target_os = "linux")]
fn watch(pidfds: &mut HashMap<Holder, OwnedFd>, watched: Vec<Holder>) {
    pidfds.retain(|h, _| watched.contains(h));
    for h in watched {
        if let std::collections::hash_map::Entry::Vacant(slot) = pidfds.entry(h) {
            // SAFETY: pidfd_open with a pid and no flags; the descriptor is owned at once.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_open,
                    h.pid as libc::c_long,
                    0 as libc::c_long,
                )
            };
            if fd < 0 {
                continue;
            }
            // SAFETY: a fresh descriptor of ours.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            // The pid may have been reused between the check and the open: check again.
            if h.is_alive() {
                slot.insert(fd);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn main(_: &str) -> ! {
    std::process::exit(0)
}

/// SIGTERM: every on-exit lease of ours (current and retired) is revoked now, held or not: the
/// session is ending, and a lease left behind would live on unwatched.
#[cfg(target_os = "linux")]
fn revoke_all_on_exit(description: &str) {
    let Ok(stored) = record::scan_without_values(description) else {
        return;
    };
    for s in stored.iter().filter(|s| s.record.on_exit) {
        revoke_if_unheld(&s.description, true);
    }
}

/// Revokes the lease under `description` if, checked again on the lease's turn (an activation
/// may be joining it right now), no holder lives (`even_if_held`: whatever its holders). A
/// revoke program changed since the lease was made is not run: the record stays, and expires.
/// `false`: revocation failed (tried again later).
#[cfg(target_os = "linux")]
pub(super) fn revoke_if_unheld(description: &str, even_if_held: bool) -> bool {
    let _turn = super::turn(description, REVOKE_TIMEOUT);
    let Some(stored) = record::load_without_values(description) else {
        return true;
    };
    if !even_if_held && !stored.record.live_holders().is_empty() {
        return true;
    }
    match super::kinds::revoke(&stored.record, REVOKE_TIMEOUT) {
        Ok(_) => {
            record::remove(stored.serial);
            true
        }
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn revoke_if_unheld(_: &str, _: bool) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keepers_environment_is_the_fixed_few_its_kinds_configuration_and_revoke_env() {
        let ours = [
            ("PATH", "/bin"),
            ("HOME", "/h"),
            ("LC_ALL", "C"),
            ("XDG_RUNTIME_DIR", "/run/user/1"),
            ("VAULT_ADDR", "http://v"),
            ("VAULT_TOKEN", "master-token"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "dev"),
            ("API_URL", "http://api"),
            ("PS1", "$ "),
            ("SSH_AUTH_SOCK", "/tmp/agent"),
        ];
        let env = |record: &Record| -> Vec<String> {
            environment_for(
                record,
                ours.iter()
                    .map(|(k, v)| (OsString::from(k), OsString::from(v))),
            )
            .into_iter()
            .map(|(k, _)| k.into_string().unwrap())
            .collect()
        };
        let mut vault = Record::default();
        vault.kind = "vault".into();
        assert_eq!(
            env(&vault),
            ["PATH", "HOME", "LC_ALL", "XDG_RUNTIME_DIR", "VAULT_ADDR"]
        );
        // Nothing to revoke, nothing to configure: not even `AWS_PROFILE`.
        for kind in ["aws-sts", "gcp", "azure"] {
            let mut unrevocable = Record::default();
            unrevocable.kind = kind.into();
            assert_eq!(
                env(&unrevocable),
                ["PATH", "HOME", "LC_ALL", "XDG_RUNTIME_DIR"],
                "{kind}"
            );
        }
        // Deleting a GitHub token goes through the same roots and proxy as minting it.
        let mut github = Record::default();
        github.kind = "github-app".into();
        let with_route = ours
            .iter()
            .chain(&[
                ("HTTPS_PROXY", "http://proxy"),
                ("SSL_CERT_FILE", "/ca.pem"),
            ])
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let names: Vec<String> = environment_for(&github, with_route)
            .into_iter()
            .map(|(k, _)| k.into_string().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "PATH",
                "HOME",
                "LC_ALL",
                "XDG_RUNTIME_DIR",
                "HTTPS_PROXY",
                "SSL_CERT_FILE"
            ]
        );
        let mut command = Record::default();
        command.kind = "command".into();
        assert_eq!(env(&command), ["PATH", "HOME", "LC_ALL", "XDG_RUNTIME_DIR"]);
        command.revocation.env = vec!["API_URL".into()];
        assert_eq!(
            env(&command),
            ["PATH", "HOME", "LC_ALL", "XDG_RUNTIME_DIR", "API_URL"]
        );
    }
}
