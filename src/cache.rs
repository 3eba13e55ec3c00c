//! The memory-only cache: values from slow remote stores kept in the Linux kernel's key retention
//! service, so the second shell of the day does not pay every store's round trip again.
//!
//! Keys of type `user` live in kernel memory (never swapped, never written to disk), carry their
//! own expiry (the kernel removes them when it passes), and are limited to our uid: possessor
//! all, user view/read/write/search, nobody else anything. They sit in the user keyring (`@u`),
//! which every process of the user shares, under `jit-secrets:<sha256>`, where the digest covers
//! the manifest's path, the profile, the reference and the store context that changes what the
//! same reference returns (`AWS_PROFILE`, `VAULT_ADDR`, …; each store lists its own): change any
//! of them and the entry misses.
//!
//! A key's payload is a small header (`manifest`, `entry`, `reference`, expiry) and the value;
//! `cache list` reads the header, never shows the value. Where the kernel keyring is unavailable
//! (macOS, a seccomp profile that blocks `add_key`) values are fetched directly: there is no
//! fallback to a file.

use crate::kernel_keyring as sys;
use crate::reference::Reference;
use crate::secret::SecretValue;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

pub const PREFIX: &str = "jit-secrets:";
const HEADER_MAGIC: &[u8] = b"jit-secrets-cache-1\n";

/// How a command uses the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `activate`, `run`: serve hits, store what is fetched.
    Use,
    /// `--refresh`: never serve, store what is fetched.
    Refresh,
    /// `verify`: never serve; drop an entry whose value the store no longer has.
    Verify,
}

/// The cache as one command sees it: which manifest and profile its keys belong to.
pub struct Cache {
    manifest: PathBuf,
    profile: String,
    pub mode: Mode,
    /// What this command may still take of the user's kernel key quota (keys, bytes): half of
    /// what was left when it first stored a value, so Kerberos caches, ecryptfs and sssd, which
    /// share the quota, never find it full because of us.
    budget: std::sync::Mutex<Option<(u64, u64)>>,
}

/// One cached value's description, as `cache list` shows it: never the value.
#[derive(Debug)]
pub struct Listed {
    pub serial: i32,
    pub manifest: String,
    pub entry: String,
    pub reference: String,
    pub expires_at: u64,
}

impl Cache {
    pub fn new(manifest: &Path, profile: Option<&str>, mode: Mode) -> Cache {
        Cache {
            manifest: crate::trust::as_reached(manifest),
            profile: profile.unwrap_or_default().to_string(),
            mode,
            budget: std::sync::Mutex::new(None),
        }
    }

    /// The key name for `reference` in `context` (the store's context, see `Store::cache_context`)
    /// cached for `ttl`: a changed TTL is another key, so an entry cached for 10 minutes is not
    /// served for 10 minutes after the manifest says 2 seconds.
    fn description(&self, reference: &Reference, context: &str, ttl: Duration) -> String {
        let mut h = Sha256::new();
        let ttl = ttl.as_secs().to_string();
        for part in [
            self.manifest.to_string_lossy().as_bytes(),
            self.profile.as_bytes(),
            reference.to_string().as_bytes(),
            context.as_bytes(),
            ttl.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{hex}")
    }

    /// The cached value, if there is one and the mode serves hits. The key's own header is
    /// checked too: a key past its expiry (one the kernel has not dropped yet, or one left
    /// without a timeout by a crash in an older version) is a miss, and goes.
    pub fn get(&self, reference: &Reference, context: &str, ttl: Duration) -> Option<SecretValue> {
        if self.mode != Mode::Use {
            return None;
        }
        let serial = sys::search(&self.description(reference, context, ttl))?;
        let payload = sys::read(serial)?;
        let (header, value) = split(&payload)?;
        let expires = expiry_of(header);
        if expires.is_none_or(|at| at <= now() || at > now() + ttl.as_secs() + 1) {
            sys::unlink(serial);
            return None;
        }
        Some(SecretValue::new(value.to_vec()))
    }

    /// Keeps `value` for `ttl`. Errors (no keyring, over the kernel's quota) are returned for the
    /// caller to mention once; the value is served from the store either way.
    pub fn put(
        &self,
        reference: &Reference,
        context: &str,
        entry: &str,
        value: &SecretValue,
        ttl: Duration,
    ) -> Result<(), String> {
        if value.len() + 512 > MAX_PAYLOAD {
            return Err(format!(
                "{entry} is {} bytes: over the kernel's {MAX_PAYLOAD}-byte limit for one key, not cached",
                value.len()
            ));
        }
        // The entry now reads `reference`: a key it cached from another reference goes, so
        // switching `k → k2 → k` cannot revive `k`'s old value.
        self.drop_other_references(entry, reference);
        let expires = now() + ttl.as_secs();
        let header = format!(
            "{}\n{entry}\n{reference}\n{expires}\n",
            self.manifest.display()
        );
        if header[..header.len() - 1].contains(['\0']) {
            return Ok(());
        }
        let mut payload = Zeroizing::new(Vec::with_capacity(
            HEADER_MAGIC.len() + header.len() + 1 + value.len(),
        ));
        payload.extend_from_slice(HEADER_MAGIC);
        payload.extend_from_slice(header.as_bytes());
        payload.push(0);
        payload.extend_from_slice(value.expose());
        let description = self.description(reference, context, ttl);
        self.charge(payload.len() + description.len())?;
        sys::add(&description, &payload, ttl)
    }

    /// Takes one key and `bytes` from this command's share of the quota, or says why not. The
    /// share is set at the first value stored: half of what the kernel says is left, after
    /// expired keys of ours (which hold quota until the kernel's collector runs) are unlinked.
    fn charge(&self, bytes: usize) -> Result<(), String> {
        let mut budget = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        if budget.is_none() {
            if let Ok(listed) = list_all() {
                for l in listed.iter().filter(|l| l.expires_at <= now()) {
                    sys::unlink(l.serial);
                }
            }
            *budget = Some(match quota_left() {
                Some((keys, bytes)) => (keys / 2, bytes / 2),
                None => (u64::MAX, u64::MAX),
            });
        }
        let (keys, left) = budget.as_mut().expect("set above");
        let bytes = bytes as u64;
        if *keys == 0 || *left < bytes {
            return Err("the rest would take more than half of what is left of your kernel key quota (/proc/key-users)".into());
        }
        *keys -= 1;
        *left -= bytes;
        Ok(())
    }

    /// Unlinks this manifest's keys for `entry` that hold another reference's value.
    fn drop_other_references(&self, entry: &str, reference: &Reference) {
        let manifest = self.manifest.display().to_string();
        let reference = reference.to_string();
        if let Ok(listed) = list_all() {
            for l in listed {
                if l.manifest == manifest && l.entry == entry && l.reference != reference {
                    sys::unlink(l.serial);
                }
            }
        }
    }

    /// `verify` found the store's value differs from the cached one: the cached entry goes.
    pub fn drop_if_stale(
        &self,
        reference: &Reference,
        context: &str,
        ttl: Duration,
        current: &SecretValue,
    ) {
        let Some(serial) = sys::search(&self.description(reference, context, ttl)) else {
            return;
        };
        let Some(payload) = sys::read(serial) else {
            return;
        };
        if let Some((_, cached)) = split(&payload) {
            if !current.ct_eq(cached) {
                sys::unlink(serial);
            }
        }
    }

    /// The store no longer has the value (`verify`, `--refresh`): the cached entry goes, so the
    /// next activation does not export a revoked value for the rest of its TTL.
    pub fn drop_entry(&self, reference: &Reference, context: &str, ttl: Duration) {
        if let Some(serial) = sys::search(&self.description(reference, context, ttl)) {
            sys::unlink(serial);
        }
    }

    /// One cold fetch at a time for this manifest: fifty shells started at once (tmux opening
    /// panes, a CI matrix) make one round of store calls, not fifty. The first takes the turn
    /// and fetches; the others wait for it (at most `patience`, about one fetch), then find the
    /// values it cached. The turn is an `flock` on the manifest's directory — nothing is created
    /// or written — so a leader that crashes lets go at once. Returns the turn (`None`: waited
    /// out, go ahead alone) and whether another shell held it first.
    pub fn take_turn(&self, patience: Duration) -> (Option<crate::file_lock::FileLock>, bool) {
        let Some(dir) = self.manifest.parent() else {
            return (None, false);
        };
        crate::file_lock::FileLock::exclusive_dir_within(dir, patience).unwrap_or((None, false))
    }

    pub fn manifest(&self) -> &Path {
        &self.manifest
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (keys, bytes) left of this user's kernel key quota, from `/proc/key-users`
/// (`uid: usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes`).
fn quota_left() -> Option<(u64, u64)> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let text = std::fs::read_to_string("/proc/key-users").ok()?;
    let Some(line) = text
        .lines()
        .find(|l| l.trim_start().split(':').next() == Some(&uid.to_string()))
    else {
        // No key of this user yet: the whole quota is left.
        let limit = |name: &str| -> Option<u64> {
            let prefix = if uid == 0 { "root_" } else { "" };
            std::fs::read_to_string(format!("/proc/sys/kernel/keys/{prefix}{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        return Some((limit("maxkeys")?, limit("maxbytes")?));
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let pair = |f: &str| -> Option<(u64, u64)> {
        let (used, max) = f.split_once('/')?;
        Some((used.parse().ok()?, max.parse().ok()?))
    };
    let (keys_used, keys_max) = pair(fields.get(3)?)?;
    let (bytes_used, bytes_max) = pair(fields.get(4)?)?;
    Some((
        keys_max.saturating_sub(keys_used),
        bytes_max.saturating_sub(bytes_used),
    ))
}

/// The kernel's cap on one `user` key's payload (`/proc/sys/kernel/keys` has no knob for it).
pub const MAX_PAYLOAD: usize = 32_767;

/// The expiry (Unix seconds) a header records.
fn expiry_of(header: &[u8]) -> Option<u64> {
    std::str::from_utf8(header)
        .ok()?
        .split('\n')
        .nth(3)?
        .parse()
        .ok()
}

/// (header, value) of a payload we wrote.
fn split(payload: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = payload.strip_prefix(HEADER_MAGIC)?;
    let at = rest.iter().position(|&b| b == 0)?;
    Some((&rest[..at], &rest[at + 1..]))
}

/// Every `jit-secrets:` key of this user, described from its header (the value is read into a
/// wiped buffer and never leaves this function).
pub fn list_all() -> Result<Vec<Listed>, String> {
    let mut listed = Vec::new();
    for serial in sys::user_keys()? {
        let Some(description) = sys::describe(serial) else {
            continue;
        };
        // "type;uid;gid;perm;description"
        let mut parts = description.splitn(5, ';');
        let (Some("user"), Some(name)) = (parts.next(), parts.nth(3)) else {
            continue;
        };
        if !name.starts_with(PREFIX) {
            continue;
        }
        // An expired key cannot be read, but still holds quota until the kernel's collector
        // runs: it is listed (as expired) so `cache clear --all` removes it too.
        let Some(payload) = sys::read(serial) else {
            listed.push(Listed {
                serial,
                manifest: String::new(),
                entry: "(expired)".into(),
                reference: String::new(),
                expires_at: 0,
            });
            continue;
        };
        let Some((header, _)) = split(&payload) else {
            continue;
        };
        let text = String::from_utf8_lossy(header);
        let fields: Vec<&str> = text.split('\n').collect();
        if fields.len() < 4 {
            continue;
        }
        listed.push(Listed {
            serial,
            manifest: fields[0].to_string(),
            entry: fields[1].to_string(),
            reference: fields[2].to_string(),
            expires_at: fields[3].parse().unwrap_or(0),
        });
    }
    Ok(listed)
}

/// Seconds left before the kernel drops `listed`.
pub fn remaining(listed: &Listed) -> u64 {
    listed.expires_at.saturating_sub(now())
}

/// Removes one key.
pub fn remove(serial: i32) {
    sys::unlink(serial);
}

/// The permission and type line the kernel reports for a key (`KEYCTL_DESCRIBE`), for tests.
pub fn describe(serial: i32) -> Option<String> {
    sys::describe(serial)
}

/// Is the kernel keyring usable here? (`Err` says why not.)
pub fn available() -> Result<(), String> {
    sys::user_keys().map(|_| ())
}
