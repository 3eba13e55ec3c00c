//! Leases: short-lived credentials created at activation, shared by the project's shells, and —
//! with `revoke = "on-exit"` — revoked when the last process that received them has exited.
//!
//! The room beside the cache. The resolver asks it for the manifest's leases while the stores
//! fetch the rest (in parallel); it answers from the kernel keyring when a live lease is there
//! (`record`), else creates one (`kinds`: the master credential, fetched by the resolver, then
//! one backend call), keeps it in the keyring until it expires, and hands revocation to a
//! `keeper` process that watches the holders.
//!
//! Create, reuse and renew of one lease take turns on an `flock` of a file of its own in the
//! user's lease directory (`$XDG_RUNTIME_DIR/jit-secrets/leases`, 0700 and ours, checked like the
//! scoped directory: nobody else can open it, so nobody else can stall us): fifty shells opened
//! at once create one lease, and the other forty-nine reuse it; two leases of one activation are
//! made side by side.

mod github_app;
mod holder;
pub mod keeper;
mod kinds;
pub mod record;

use crate::context::Context;
use crate::manifest::{LeaseKind, LeaseSpec, RevokeWhen};
use crate::secret::SecretValue;
use crate::store_error::StoreError;
pub use kinds::DEFAULT_DURATION;
use record::{Holder, Record, Stored};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a command uses leases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `activate`, `run`: reuse a live lease, else create one.
    Use,
    /// `lease renew`: create a new one whatever is there.
    Renew,
    /// `verify --leases`: create one and revoke it at once; keep nothing.
    Probe,
}

/// The leases of one manifest, as one command sees them.
pub struct Leases {
    manifest: PathBuf,
    profile: String,
    /// The process that receives the credentials (registered for `on-exit`).
    holder: Option<Holder>,
    pub mode: Mode,
}

/// What became of one lease.
pub struct Acquired<'m> {
    pub spec: &'m LeaseSpec,
    pub outcome: Result<Granted, StoreError>,
}

pub struct Granted {
    /// VAR → value, what the shell receives.
    pub vars: Vec<(String, SecretValue)>,
    pub reused: bool,
    pub id: String,
    pub expires: i64,
    /// Worth one line on stderr (kept without the keyring; revoked at once by a probe).
    pub note: Option<String>,
}

/// Resolves a lease's master credential (the resolver's job: references are its business).
pub type MasterFetch<'a> =
    dyn Fn(&LeaseSpec) -> Result<BTreeMap<String, SecretValue>, StoreError> + Sync + 'a;

/// Where the holder comes from, for `activate`: `JIT_SECRETS_LEASE_HOLDER` = `parent` (the
/// shell evaluating our output: the default), `session` (the session leader: the terminal's
/// shell; the default under direnv, whose own bash exits at once) or a pid.
pub fn activation_holder() -> Option<Holder> {
    let choice = std::env::var("JIT_SECRETS_LEASE_HOLDER").unwrap_or_default();
    let under_direnv = std::env::var_os("DIRENV_IN_ENVRC").is_some();
    let pid = match choice.as_str() {
        "session" => session_leader(),
        "" if under_direnv => session_leader(),
        "parent" | "" => match holder::evaluating_shell(std::os::unix::process::parent_id()) {
            Ok(pid) => pid,
            Err(why) => {
                let _ = HOLDER_UNKNOWN.set(why);
                return None;
            }
        },
        other => match other.parse() {
            Ok(pid) => pid,
            Err(_) => {
                let _ = HOLDER_UNKNOWN.set(format!(
                    "JIT_SECRETS_LEASE_HOLDER={} is not `parent`, `session` or a pid",
                    crate::printable::escaped(other)
                ));
                return None;
            }
        },
    };
    Holder::of(pid)
}

/// Why [`activation_holder`] found none, for the line that says the lease will expire instead.
static HOLDER_UNKNOWN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `run`: the program runs as us (exec keeps the pid).
pub fn own_holder() -> Option<Holder> {
    Holder::of(std::process::id())
}

fn session_leader() -> u32 {
    // SAFETY: getsid(0) has no preconditions.
    let sid = unsafe { libc::getsid(0) };
    if sid > 0 {
        sid as u32
    } else {
        std::os::unix::process::parent_id()
    }
}

impl Leases {
    pub fn new(
        manifest: &Path,
        profile: Option<&str>,
        holder: Option<Holder>,
        mode: Mode,
    ) -> Leases {
        Leases {
            manifest: crate::trust::as_reached(manifest),
            profile: profile.unwrap_or_default().to_string(),
            holder,
            mode,
        }
    }

    /// The key description of `spec`'s lease: a change of manifest, profile, settings or the
    /// environment the backend reads makes it another lease.
    fn description(&self, spec: &LeaseSpec) -> String {
        self.description_in(spec, |name| std::env::var_os(name))
    }

    /// [`Self::description`] with the environment read through `var`.
    fn description_in(
        &self,
        spec: &LeaseSpec,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> String {
        let mut h = Sha256::new();
        let settings = format!("{spec:?}");
        let mut environment = String::new();
        for name in environment_of(&spec.kind, !spec.master.is_empty()) {
            environment.push_str(name);
            environment.push('=');
            if let Some(v) = var(name) {
                environment.push_str(&v.to_string_lossy());
            }
            environment.push('\n');
        }
        for part in [
            self.manifest.to_string_lossy().as_bytes(),
            self.profile.as_bytes(),
            spec.name.as_bytes(),
            settings.as_bytes(),
            environment.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{}", record::PREFIX, &hex[..32])
    }
}

/// The variables that change what a kind's backend issues, as its CLI reads them. (Not the
/// credentials the lease itself exports: a second activation in a shell that holds them must
/// find the same lease.)
fn environment_of(kind: &LeaseKind, has_master: bool) -> &'static [&'static str] {
    match kind {
        LeaseKind::AwsSts { .. } if has_master => &["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"],
        LeaseKind::AwsSts { .. } => &[
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_STS",
        ],
        LeaseKind::Vault { .. } => &["VAULT_ADDR", "VAULT_NAMESPACE"],
        LeaseKind::Gcp { .. } => &[
            "CLOUDSDK_CONFIG",
            "CLOUDSDK_CORE_ACCOUNT",
            "CLOUDSDK_ACTIVE_CONFIG_NAME",
            "CLOUDSDK_CORE_PROJECT",
        ],
        LeaseKind::Azure { .. } => &["AZURE_CONFIG_DIR"],
        // `api_url` is a setting; the proxy variables change the route, not what is issued.
        LeaseKind::Command { .. } | LeaseKind::GithubApp(_) => &[],
    }
}

/// What the first, cheap pass found for each lease: `Some` answered (a live lease reused), `None`
/// still to be created.
pub type FirstPass<'m> = Vec<(&'m LeaseSpec, Option<Result<Granted, StoreError>>)>;

/// The cheap pass, on the caller's thread: every live lease that needs no renewal is reused from
/// the keyring (a second shell's whole cost for its leases: no thread, no backend).
pub fn reuse_live<'m>(specs: &'m [LeaseSpec], leases: &Leases) -> FirstPass<'m> {
    specs
        .iter()
        .map(|spec| (spec, try_reuse(spec, leases)))
        .collect()
}

/// Does the first pass leave anything to create?
pub fn all_answered(first: &FirstPass) -> bool {
    first.iter().all(|(_, answer)| answer.is_some())
}

/// Creates, in parallel, what the first pass left (each creation is one backend call after its
/// master credential), and returns every lease in the manifest's order.
pub fn acquire_rest<'m>(
    first: FirstPass<'m>,
    leases: &Leases,
    ctx: &Context,
    default_timeout: Duration,
    master: &MasterFetch,
) -> Vec<Acquired<'m>> {
    std::thread::scope(|scope| {
        let running: Vec<_> = first
            .into_iter()
            .map(|(spec, answer)| match answer {
                Some(outcome) => (spec, Err(Some(outcome))),
                None => (
                    spec,
                    Ok(scope.spawn(move || {
                        acquire(
                            spec,
                            leases,
                            ctx,
                            spec.timeout.unwrap_or(default_timeout),
                            master,
                        )
                    })),
                ),
            })
            .collect();
        running
            .into_iter()
            .map(|(spec, work)| Acquired {
                spec,
                outcome: match work {
                    Err(answered) => answered.expect("answered in the first pass"),
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|_| Err(StoreError::new("the lease's thread panicked"))),
                },
            })
            .collect()
    })
}

/// A live lease with more than `renew_before` left, reused; `None`: there is none (or the mode
/// does not reuse), create one.
fn try_reuse(spec: &LeaseSpec, leases: &Leases) -> Option<Result<Granted, StoreError>> {
    if leases.mode != Mode::Use {
        return None;
    }
    let description = leases.description(spec);
    let stored =
        record::load(&description).filter(|s| shareable(spec, &s.record, crate::time::now()))?;
    if !stored.record.on_exit {
        return Some(reuse(spec, leases, &stored));
    }
    // An orphan (its keeper was killed) that nobody holds is revoked, not handed to this shell.
    if let Some(Orphan::Revoked | Orphan::NotRevoked(_)) = tend_orphan(&stored) {
        return None;
    }
    // Joining an on-exit lease: on its turn, so its keeper cannot revoke it between our read
    // and our registration.
    let _turn = turn(
        &description,
        spec.timeout.unwrap_or(Duration::from_secs(30)),
    );
    let stored =
        record::load(&description).filter(|s| shareable(spec, &s.record, crate::time::now()))?;
    Some(reuse(spec, leases, &stored))
}

/// The user's own directory of lease locks: `leases` beside the scoped directory, created 0700
/// and checked (ours, not a symlink, closed to others) at every use.
pub(crate) fn lease_dir() -> std::io::Result<PathBuf> {
    let base = crate::scoped::base_dir();
    let dir = base.parent().unwrap_or(&base).join("leases");
    crate::scoped::private_dir(&dir)?;
    Ok(dir)
}

/// The lease a (possibly retired, `…~N`) description belongs to: its keeper and its turn.
pub(crate) fn base_description(description: &str) -> &str {
    description.split('~').next().unwrap_or(description)
}

/// The digest part of a description (a file name: hex only).
pub(crate) fn digest_of(description: &str) -> String {
    base_description(description)
        .trim_start_matches(record::PREFIX)
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect()
}

/// The lease's turn: an `flock` of its file in [`lease_dir`]. `None` after `patience` (or when
/// the directory is not ours alone): go ahead alone.
pub(crate) fn turn(description: &str, patience: Duration) -> Option<crate::file_lock::FileLock> {
    let path = lease_dir()
        .ok()?
        .join(format!("{}.lock", digest_of(description)));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .ok()?;
    crate::file_lock::FileLock::exclusive_dir_within(&path, patience)
        .ok()
        .and_then(|(turn, _)| turn)
}

/// Is `record` still handed to new shells at `now`: more than [`renew_before`] of its life left?
fn shareable(spec: &LeaseSpec, record: &Record, now: i64) -> bool {
    record.expires - now > renew_before(spec, record.expires - record.created)
}

/// Renew once less than this is left: the manifest's `renew_before`, else 10% of the lease's
/// life, at least a minute — and never more than half its life, so a short lease is shared too.
pub fn renew_before(spec: &LeaseSpec, life: i64) -> i64 {
    match spec.renew_before {
        Some(d) => d.as_secs() as i64,
        None => (life / 10).max(60).min(life / 2),
    }
}

fn acquire(
    spec: &LeaseSpec,
    leases: &Leases,
    ctx: &Context,
    timeout: Duration,
    master: &MasterFetch,
) -> Result<Granted, StoreError> {
    let dir = leases.manifest.parent().unwrap_or(Path::new("/"));
    if leases.mode == Mode::Probe {
        let grant = kinds::create(spec, &master(spec)?, ctx, timeout, dir)?;
        let record = record_of(spec, leases, &grant, None, &[]);
        let id = record.id.clone();
        let revoked = kinds::revoke(&record, timeout)?;
        return Ok(Granted {
            vars: Vec::new(),
            reused: false,
            id,
            expires: record.expires,
            note: Some(if revoked {
                "created and revoked".into()
            } else {
                format!(
                    "created ({} credentials cannot be revoked: they expire)",
                    spec.kind.name()
                )
            }),
        });
    }
    let description = leases.description(spec);
    if let Err(why) = crate::kernel_keyring::user_keys() {
        // No keyring (macOS, a locked-down container): the lease lives as long as this shell's
        // copy of it, unshared, and expires on its own.
        let grant = kinds::create(spec, &master(spec)?, ctx, timeout, dir)?;
        let vars = exports_of(spec, &grant)?;
        return Ok(Granted {
            vars,
            reused: false,
            id: grant.id.clone(),
            expires: grant.expires,
            note: Some(format!(
                "{why}: lease `{}` is not shared with other shells and is left to expire",
                spec.name
            )),
        });
    }
    // One shell at a time creates; the others then find its lease.
    let _turn = turn(&description, timeout * 2 + Duration::from_secs(5));
    let old = record::load(&description);
    if let (Mode::Use, Some(stored)) = (leases.mode, &old) {
        if shareable(spec, &stored.record, crate::time::now()) {
            return reuse(spec, leases, stored);
        }
    }
    let grant = kinds::create(spec, &master(spec)?, ctx, timeout, dir)?;
    let vars = match exports_of(spec, &grant) {
        Ok(vars) => vars,
        Err(e) => {
            // Made but unusable (an `exports` field it does not have): not left alive.
            let _ = kinds::revoke(&record_of(spec, leases, &grant, None, &[]), timeout);
            return Err(e);
        }
    };
    let mut record = record_of(spec, leases, &grant, leases.holder, &vars);
    let mut note = None;
    if record.on_exit && !record.revocable {
        note = Some(format!(
            "lease `{}`: revoke = \"on-exit\" cannot be kept: {} credentials cannot be revoked (they expire at {})",
            spec.name,
            spec.kind.name(),
            crate::time::format_rfc3339(record.expires)
        ));
    }
    if record.on_exit && record.holders.is_empty() {
        record.on_exit = false;
        let why = HOLDER_UNKNOWN
            .get()
            .map(|w| format!("{w}; "))
            .unwrap_or_default();
        note = Some(format!("lease `{}`: cannot tell which process receives it ({why}see JIT_SECRETS_LEASE_HOLDER in docs/leases.md): it will expire instead of being revoked on exit", spec.name));
    }
    if let Some(old) = old {
        note = retire(old, timeout).or(note);
    }
    if let Err(why) = record::save(&description, &record) {
        note = Some(format!(
            "lease `{}` is not kept for other shells: {why}",
            spec.name
        ));
    } else if record.on_exit {
        keeper::ensure(&description, &record);
    }
    Ok(Granted {
        vars,
        reused: false,
        id: record.id.clone(),
        expires: record.expires,
        note,
    })
}

/// A live lease: this holder joins it.
fn reuse(spec: &LeaseSpec, leases: &Leases, stored: &Stored) -> Result<Granted, StoreError> {
    let r = &stored.record;
    if r.on_exit {
        if let Some(h) = leases.holder {
            if !r.holders.contains(&h) {
                let mut updated = r.clone();
                updated.holders.retain(Holder::is_alive);
                updated.holders.push(h);
                record::save(&stored.description, &updated).map_err(|e| {
                    StoreError::new(format!(
                        "cannot register this shell with lease `{}`: {e}",
                        spec.name
                    ))
                })?;
            }
        }
        keeper::ensure(&stored.description, r);
    }
    let vars = r
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), SecretValue::from_str_value(v)))
        .collect();
    Ok(Granted {
        vars,
        reused: true,
        id: r.id.clone(),
        expires: r.expires,
        note: None,
    })
}

/// The lease being replaced: kept (as retired) while shells that received it live and it must be
/// revoked when they exit; revoked now when it must be and none does; else left to expire.
fn retire(old: Stored, timeout: Duration) -> Option<String> {
    let r = &old.record;
    let mut note = None;
    if r.on_exit && !r.live_holders().is_empty() {
        let retired = format!("{}~{}", old.description, old.serial);
        if record::save(&retired, r).is_ok() {
            keeper::ensure(&old.description, r);
        }
    } else if r.on_exit {
        if let Err(e) = kinds::revoke(r, timeout) {
            note = Some(format!(
                "the previous `{}` lease could not be revoked: {}",
                r.name, e.message
            ));
        }
    }
    record::remove(old.serial);
    note
}

/// The record of a lease just made, holding `vars` (what its shells receive).
fn record_of(
    spec: &LeaseSpec,
    leases: &Leases,
    grant: &kinds::Grant,
    holder: Option<Holder>,
    vars: &[(String, SecretValue)],
) -> Record {
    let on_exit = spec.revoke == RevokeWhen::OnExit;
    Record {
        manifest: leases.manifest.to_string_lossy().into_owned(),
        profile: leases.profile.clone(),
        name: spec.name.clone(),
        kind: spec.kind.name().to_string(),
        id: grant.id.clone(),
        created: crate::time::now(),
        expires: grant.expires,
        on_exit,
        revocable: spec.kind.revocable(),
        vars: vars
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v.expose()).into_owned()))
            .collect(),
        revocation: grant.revocation.clone(),
        holders: holder.filter(|_| on_exit).into_iter().collect(),
    }
}

/// VAR → value, as the manifest's `exports` (or the kind's default) maps the grant's fields.
fn exports_of(
    spec: &LeaseSpec,
    grant: &kinds::Grant,
) -> Result<Vec<(String, SecretValue)>, StoreError> {
    let value = |f: &str| SecretValue::from_str_value(grant.fields[f].as_str());
    match spec.exports() {
        Some(map) => map
            .iter()
            .map(|(var, field)| match grant.fields.get(field) {
                Some(_) => Ok((var.clone(), value(field))),
                None => Err(StoreError::new(format!(
                    "lease `{}` has no field `{field}` for {var} (it has: {})",
                    spec.name,
                    grant.fields.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .fix("correct `exports` in the manifest")),
            })
            .collect(),
        // A command names its variables; a Vault read's fields become LEASE_FIELD.
        None => {
            let prefix = match spec.kind {
                LeaseKind::Command { .. } => String::new(),
                _ => format!("{}_", spec.name.to_uppercase().replace('-', "_")),
            };
            grant
                .fields
                .keys()
                .map(|f| {
                    let var = format!("{prefix}{}", f.to_uppercase().replace('-', "_"));
                    // A program's output names these: one that says PATH or LD_PRELOAD would take
                    // over the shell, so such a name is refused as the manifest's would be.
                    if crate::reference::is_valid_env_name(&var)
                        && crate::manifest::name_problem(&var).is_none()
                        && !crate::manifest::is_dangerous_name(&var)
                    {
                        Ok((var, value(f)))
                    } else {
                        Err(StoreError::new(format!(
                            "lease `{}` gives `{f}`, which is not a variable name jit-secrets sets",
                            spec.name
                        ))
                        .fix("name the variables with `exports = { VAR = \"field\" }`"))
                    }
                })
                .collect()
        }
    }
}

/// This manifest's leases (`None`: every one of ours), current and retired.
pub fn list(manifest: Option<&Path>) -> Result<Vec<Stored>, String> {
    let manifest = manifest.map(|m| crate::trust::as_reached(m).to_string_lossy().into_owned());
    let mut found = record::scan(record::PREFIX)?;
    found.retain(|s| manifest.as_deref().is_none_or(|m| s.record.manifest == m));
    found.sort_by(|a, b| {
        (&a.record.manifest, &a.record.name, a.record.created).cmp(&(
            &b.record.manifest,
            &b.record.name,
            b.record.created,
        ))
    });
    Ok(found)
}

/// Drops holder `pid` from every `on-exit` lease of this manifest (current and retired): the
/// shell left the project. A lease left with no live holder is revoked by its keeper, which
/// looks again within a second. Returns how many leases it held.
pub fn release(manifest: &Path, pid: u32) -> Result<usize, String> {
    let mut released = 0;
    for stored in list(Some(manifest))? {
        let r = &stored.record;
        if !r.on_exit || !r.holders.iter().any(|h| h.pid == pid) {
            continue;
        }
        // Under the lease's turn, from the record as it is now: a shell joining meanwhile is not
        // lost by this rewrite.
        let _turn = turn(&stored.description, Duration::from_secs(35));
        let Some(current) = record::load(&stored.description) else {
            continue;
        };
        let mut updated = current.record.clone();
        updated.holders.retain(|h| h.pid != pid && h.is_alive());
        record::save(&stored.description, &updated)?;
        released += 1;
    }
    Ok(released)
}

/// Revokes one stored lease (when its kind can be) and forgets it. `Ok(false)`: forgotten only,
/// its credentials live until they expire.
pub fn revoke(stored: Stored, timeout: Duration) -> Result<bool, StoreError> {
    let _turn = turn(&stored.description, timeout + Duration::from_secs(5));
    let revoked = kinds::revoke(&stored.record, timeout)?;
    record::remove(stored.serial);
    Ok(revoked)
}

/// An on-exit lease whose keeper is gone (killed with SIGKILL, say) is *orphaned*: nothing
/// watches its holders. What [`tend_orphan`] did about it.
#[derive(Debug, PartialEq, Eq)]
pub enum Orphan {
    /// A holder lives: a new keeper watches it again.
    KeeperStarted,
    /// No holder lives: revoked (or, for a kind that cannot be revoked, forgotten) now.
    Revoked,
    /// No holder lives, and revoking failed (the reason): it stays until it expires or a later
    /// command revokes it.
    NotRevoked(String),
}

/// Is `stored` an orphaned on-exit lease (see [`Orphan`])?
pub fn is_orphaned(stored: &Stored) -> bool {
    stored.record.on_exit && !keeper::is_running(base_description(&stored.description))
}

/// Every command that reads lease records calls this for each: an orphan gets a keeper again,
/// or is revoked at once when none of its holders lives. `None`: not an orphan.
pub fn tend_orphan(stored: &Stored) -> Option<Orphan> {
    if !is_orphaned(stored) {
        return None;
    }
    if !stored.record.live_holders().is_empty() {
        keeper::ensure(&stored.description, &stored.record);
        return Some(Orphan::KeeperStarted);
    }
    Some(if keeper::revoke_if_unheld(&stored.description, false) {
        Orphan::Revoked
    } else {
        let why = match stored.record.revocation.changed_program() {
            Some(file) => kinds::program_changed(&stored.record, file).message,
            None => "its revocation failed".to_string(),
        };
        Orphan::NotRevoked(why)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> LeaseSpec {
        let m = crate::manifest::parse(
            Path::new("/p/manifest.toml"),
            &format!("[secrets]\n[secrets.leases.l]\n{text}\n"),
        )
        .unwrap();
        m.leases.into_iter().next().unwrap()
    }

    #[test]
    fn a_lease_is_shared_until_renew_before_its_end() {
        let spec = spec("kind = \"vault\"");
        let lease = |created: i64, expires: i64| {
            let mut r = Record::default();
            r.created = created;
            r.expires = expires;
            r
        };
        // An hour's lease: renewed in its last 6 minutes.
        assert!(shareable(&spec, &lease(0, 3600), 3000));
        assert!(!shareable(&spec, &lease(0, 3600), 3300));
        // The same hour, later on the clock: only the life counts, not when it began.
        let t = 1_700_000_000;
        assert!(shareable(&spec, &lease(t, t + 3600), t + 3000));
        assert!(!shareable(&spec, &lease(t, t + 3600), t + 3300));
    }

    #[test]
    fn renew_before_is_a_tenth_of_the_life_at_least_a_minute_at_most_half_unless_given() {
        let default = spec("kind = \"vault\"");
        assert_eq!(renew_before(&default, 3600), 360);
        assert_eq!(renew_before(&default, 7200), 720);
        assert_eq!(renew_before(&default, 300), 60);
        assert_eq!(
            renew_before(&default, 50),
            25,
            "a 50-s lease is shared for 25 s"
        );
        assert_eq!(renew_before(&default, 120), 60);
        let given = spec("kind = \"vault\"\nrenew_before = \"2h\"");
        assert_eq!(renew_before(&given, 3600), 7200);
    }

    #[test]
    fn a_lease_is_another_for_another_manifest_profile_name_setting_or_backend() {
        let leases = |m: &str, p: Option<&str>| Leases::new(Path::new(m), p, None, Mode::Use);
        let vault = spec("kind = \"vault\"");
        let base = leases("/p/manifest.toml", None).description(&vault);
        assert!(base.starts_with(record::PREFIX));
        assert_eq!(
            base,
            leases("/p/manifest.toml", None).description(&vault),
            "stable"
        );
        assert_ne!(base, leases("/q/manifest.toml", None).description(&vault));
        assert_ne!(
            base,
            leases("/p/manifest.toml", Some("prod")).description(&vault)
        );
        let mut renamed = vault.clone();
        renamed.name = "other".into();
        assert_ne!(base, leases("/p/manifest.toml", None).description(&renamed));
        let longer = spec("kind = \"vault\"\nduration = \"2h\"");
        assert_ne!(base, leases("/p/manifest.toml", None).description(&longer));
        // The backend's address is part of it; the credentials a lease exports are not.
        assert!(environment_of(&vault.kind, false).contains(&"VAULT_ADDR"));
        let sts = spec("kind = \"aws-sts\"");
        assert!(environment_of(&sts.kind, false).contains(&"AWS_PROFILE"));
        assert!(!environment_of(&sts.kind, false).contains(&"AWS_ACCESS_KEY_ID"));
        assert!(!environment_of(&sts.kind, true).contains(&"AWS_PROFILE"));
        // Without a master the CLI's profile chooses the account: another profile is another
        // lease. With one, the master's key does, and the profile changes nothing.
        let in_profile = |spec: &LeaseSpec, profile: &str| {
            leases("/p/manifest.toml", None)
                .description_in(spec, |name| (name == "AWS_PROFILE").then(|| profile.into()))
        };
        assert_ne!(in_profile(&sts, "dev"), in_profile(&sts, "prod"));
        let sts_master = spec(
            "kind = \"aws-sts\"\nmaster = { access_key_id = \"env:I\", secret_access_key = \"env:S\" }",
        );
        assert_eq!(
            in_profile(&sts_master, "dev"),
            in_profile(&sts_master, "prod")
        );
    }

    #[test]
    fn exports_map_fields_and_default_to_lease_field_names() {
        let grant = |fields: &[(&str, &str)]| kinds::Grant {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), zeroize::Zeroizing::new(v.to_string())))
                .collect(),
            id: "id".into(),
            expires: 0,
            revocation: record::Revocation::default(),
        };
        let db = spec("kind = \"vault\"\npath = \"database/creds/ro\"");
        let mut db = db;
        db.name = "my-db".into();
        let vars = exports_of(&db, &grant(&[("username", "u"), ("password", "p")])).unwrap();
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["MY_DB_PASSWORD", "MY_DB_USERNAME"]);
        assert_eq!(vars[1].1.expose(), b"u");
        let token = spec("kind = \"vault\"\ntoken = { ttl = \"1m\" }");
        let vars = exports_of(&token, &grant(&[("token", "t"), ("accessor", "a")])).unwrap();
        assert_eq!(vars.len(), 1);
        assert_eq!(
            (vars[0].0.as_str(), vars[0].1.expose()),
            ("VAULT_TOKEN", &b"t"[..])
        );
        let missing = exports_of(&token, &grant(&[("accessor", "a")])).unwrap_err();
        assert!(missing
            .message
            .contains("has no field `token` for VAULT_TOKEN (it has: accessor)"));
        let command = spec("kind = \"command\"\ncommand = \"x\"");
        let vars = exports_of(&command, &grant(&[("API_TOKEN", "v")])).unwrap();
        assert_eq!(vars[0].0, "API_TOKEN");
        assert!(
            exports_of(&command, &grant(&[("PATH", "v")])).is_err(),
            "a dangerous name"
        );
    }
}
