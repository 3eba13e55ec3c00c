//! A lease as it is kept between shells: one `user` key in the kernel keyring (memory only, our
//! uid only), whose kernel timeout is the lease's expiry, so the kernel drops it when the
//! credentials stop working anyway.
//!
//! Description: `jit-secrets-lease:<digest>`, the digest covering the manifest's path as reached,
//! the profile, the lease's name and settings, and the environment that changes what the backend
//! issues (`VAULT_ADDR`, `AWS_PROFILE`, …): change any and the lease is another one. A lease
//! replaced by a renewal while shells still hold it is kept, until they exit, as
//! `jit-secrets-lease:<digest>~<n>` ("retired"), so `on-exit` still revokes it.
//!
//! Payload: JSON (the variables, the id, the expiry, what revocation needs, the holders). Read
//! into wiped buffers; the values are wiped when a `Record` is dropped.

use crate::kernel_keyring as keyring;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use zeroize::Zeroize;

pub const PREFIX: &str = "jit-secrets-lease:";

/// A process that received a lease's credentials: its pid and its start time (clock ticks after
/// boot, `/proc/PID/stat` field 22), so a reused pid is not mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub start: u64,
}

impl Holder {
    /// `pid`, if it is running (not a zombie).
    pub fn of(pid: u32) -> Option<Holder> {
        let (start, state) = stat_of(pid)?;
        (state != 'Z').then_some(Holder { pid, start })
    }

    pub fn is_alive(&self) -> bool {
        Holder::of(self.pid) == Some(*self)
    }
}

/// (start time, state) of `pid` from `/proc/PID/stat`; the command name may hold spaces and
/// parentheses, so the fields are counted after its last `)`.
#[cfg(target_os = "linux")]
fn stat_of(pid: u32) -> Option<(u64, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // Field 3 (state) is rest[0]; field 22 (starttime) is rest[19].
    Some((
        fields.get(19)?.parse().ok()?,
        fields.first()?.chars().next()?,
    ))
}

#[cfg(not(target_os = "linux"))]
fn stat_of(_: u32) -> Option<(u64, char)> {
    None
}

/// What revoking needs later, from another process (the keeper, `lease revoke`), without the
/// manifest: recorded when the lease is created.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Revocation {
    /// `vault`: where, and the child token whose revocation revokes the lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_token: Option<String>,
    /// `command`: the manifest's `revoke_command` and the directory it runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// `github-app`: the REST API's address and the installation token, which deletes itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_token: Option<String>,
    /// `command`: each file the revoke command names (its program, a script it is given) and its
    /// SHA-256 when the lease was made, from an allowed manifest. Checked again right before
    /// the command runs: an edited script is not run (see [`Revocation::changed_program`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<(String, String)>,
    /// `command`: the manifest's `revoke_env`, the variables the keeper passes to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// The child token is a credential: wiped however the revocation is dropped (a clone too).
impl Drop for Revocation {
    fn drop(&mut self) {
        if let Some(t) = self.vault_token.as_mut() {
            t.zeroize();
        }
        if let Some(t) = self.github_token.as_mut() {
            t.zeroize();
        }
    }
}

impl Revocation {
    /// The files `argv` names (as run from `dir`) with their SHA-256 now.
    pub fn digests_of(argv: &[String], dir: &std::path::Path) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = argv
            .iter()
            .map(|w| dir.join(w))
            .filter(|p| p.is_file())
            .filter_map(|p| Some((p.to_string_lossy().into_owned(), digest_of_file(&p)?)))
            .collect();
        found.dedup();
        found
    }

    /// The revoke command `argv` as the keeper will run it, from `dir`: a bare program name is
    /// looked up on `PATH` now and recorded as the file found (the keeper runs exactly that file,
    /// not whatever its `PATH` finds later), and every file it names is recorded with its
    /// SHA-256 — the program found on `PATH` too when it lies inside the manifest's repository
    /// (a program of the system may be upgraded; one of the repository is code the user
    /// approved, and an edit to it must not run).
    /// `Err(program)`: a bare program name that is not on `PATH` (nothing could be pinned).
    pub fn pin_revoke_command(
        &mut self,
        argv: &[String],
        dir: &std::path::Path,
    ) -> Result<(), String> {
        let mut argv = argv.to_vec();
        self.programs = Revocation::digests_of(&argv, dir);
        let bare = argv.first().filter(|p| !p.contains('/'));
        // The file itself, not a symlink to it: a link in the repository that a `git pull`
        // points elsewhere (or turns into a script) must not change what runs.
        let found = match bare {
            Some(name) => match crate::process::on_path(name) {
                Some(p) => Some(std::fs::canonicalize(&p).unwrap_or(p)),
                None => return Err(name.clone()),
            },
            None => None,
        };
        if let Some(found) = found.as_deref().and_then(|p| p.to_str()) {
            let root = crate::trust::canonical(&crate::trust::repository_at(dir));
            let path = std::path::Path::new(found);
            if crate::trust::canonical(path).starts_with(&root) {
                if let Some(digest) = digest_of_file(path) {
                    self.programs.push((found.to_string(), digest));
                }
            }
            argv[0] = found.to_string();
        }
        self.argv = Some(argv);
        Ok(())
    }

    /// The first recorded program that is no longer what it was when the lease was made (edited,
    /// replaced or gone): the revoke command must not run.
    pub fn changed_program(&self) -> Option<&str> {
        self.programs
            .iter()
            .find(|(path, digest)| {
                digest_of_file(std::path::Path::new(path)).as_deref() != Some(digest.as_str())
            })
            .map(|(path, _)| path.as_str())
    }
}

fn digest_of_file(path: &std::path::Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).ok()?;
    Some(
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// A clone is wiped on drop like the original (a holder joining rewrites a copy).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    pub manifest: String,
    pub profile: String,
    pub name: String,
    pub kind: String,
    /// The backend's id for it (an accessor, a lease id, an access key id): never a secret.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    pub expires: i64,
    pub on_exit: bool,
    pub revocable: bool,
    /// VAR → value: what the shells receive.
    pub vars: BTreeMap<String, String>,
    pub revocation: Revocation,
    pub holders: Vec<Holder>,
}

impl Drop for Record {
    fn drop(&mut self) {
        for v in self.vars.values_mut() {
            v.zeroize();
        }
    }
}

impl Record {
    pub fn seconds_left(&self) -> i64 {
        self.expires - crate::time::now()
    }

    pub fn live_holders(&self) -> Vec<Holder> {
        self.holders
            .iter()
            .copied()
            .filter(Holder::is_alive)
            .collect()
    }
}

/// A record found in the keyring.
pub struct Stored {
    pub serial: i32,
    pub description: String,
    pub record: Record,
}

/// Reads the record under `description`, if there is one we can read.
pub fn load(description: &str) -> Option<Stored> {
    let serial = keyring::search(description)?;
    let record = read_serial(serial)?;
    Some(Stored {
        serial,
        description: description.to_string(),
        record,
    })
}

fn read_serial(serial: i32) -> Option<Record> {
    let payload = keyring::read(serial)?;
    serde_json::from_slice(&payload).ok()
}

/// A record without its values: what the keeper reads (it revokes, it hands nothing out, so the
/// credentials the shells receive are never decoded in it).
#[derive(Deserialize)]
struct WithoutValues {
    manifest: String,
    profile: String,
    name: String,
    kind: String,
    id: String,
    created: i64,
    expires: i64,
    on_exit: bool,
    revocable: bool,
    revocation: Revocation,
    holders: Vec<Holder>,
}

fn read_serial_without_values(serial: i32) -> Option<Record> {
    let payload = keyring::read(serial)?;
    let r: WithoutValues = serde_json::from_slice(&payload).ok()?;
    Some(Record {
        manifest: r.manifest,
        profile: r.profile,
        name: r.name,
        kind: r.kind,
        id: r.id,
        created: r.created,
        expires: r.expires,
        on_exit: r.on_exit,
        revocable: r.revocable,
        vars: BTreeMap::new(),
        revocation: r.revocation,
        holders: r.holders,
    })
}

/// [`load`], without the values (see [`WithoutValues`]).
pub fn load_without_values(description: &str) -> Option<Stored> {
    let serial = keyring::search(description)?;
    let record = read_serial_without_values(serial)?;
    Some(Stored {
        serial,
        description: description.to_string(),
        record,
    })
}

/// Writes `record` under `description`, replacing what was there, for as long as it lives.
pub fn save(description: &str, record: &Record) -> Result<(), String> {
    let left = record.seconds_left();
    if left <= 0 {
        return Err("the lease has already expired".into());
    }
    let payload = crate::secret::json_to_wiping(record);
    if payload.len() > 32_000 {
        return Err("the lease's credentials are too large for one kernel key".into());
    }
    keyring::add(description, &payload, Duration::from_secs(left as u64))
}

pub fn remove(serial: i32) {
    keyring::unlink(serial);
}

/// Every lease record of ours whose description starts with `prefix` (all: [`PREFIX`]).
pub fn scan(prefix: &str) -> Result<Vec<Stored>, String> {
    scan_with(prefix, read_serial)
}

/// [`scan`], without the values (the keeper's).
pub fn scan_without_values(prefix: &str) -> Result<Vec<Stored>, String> {
    scan_with(prefix, read_serial_without_values)
}

fn scan_with(prefix: &str, read: fn(i32) -> Option<Record>) -> Result<Vec<Stored>, String> {
    let mut found = Vec::new();
    for serial in keyring::user_keys()? {
        let Some(description) = keyring::describe(serial) else {
            continue;
        };
        // "type;uid;gid;perm;description"
        let mut parts = description.splitn(5, ';');
        let (Some("user"), Some(name)) = (parts.next(), parts.nth(3)) else {
            continue;
        };
        if !name.starts_with(prefix) || !name.starts_with(PREFIX) {
            continue;
        }
        let Some(record) = read(serial) else {
            // Expired (unreadable until the kernel's collector runs): nothing to revoke.
            continue;
        };
        found.push(Stored {
            serial,
            description: name.to_string(),
            record,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_a_pid_and_its_start_time_and_lives_while_that_process_runs() {
        let me = Holder::of(std::process::id()).expect("this process runs");
        assert!(me.is_alive());
        assert!(
            !Holder {
                start: me.start + 1,
                ..me
            }
            .is_alive(),
            "a reused pid is another process"
        );
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Exited but not reaped (a zombie): not a holder any more.
        while std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.contains(") Z "))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(Holder::of(pid), None);
        child.wait().unwrap();
        assert_eq!(Holder::of(pid), None);
    }

    #[test]
    fn live_holders_and_time_left() {
        let me = Holder::of(std::process::id()).unwrap();
        let gone = Holder {
            pid: me.pid,
            start: me.start + 7,
        };
        let mut record = Record::default();
        record.expires = crate::time::now() + 100;
        record.holders = vec![gone, me];
        assert_eq!(record.live_holders(), vec![me]);
        assert!((99..=100).contains(&record.seconds_left()));
    }
}
