//! Turns a manifest's entries into values: plan → batches per store → parallel execution →
//! one result per entry.
//!
//! Each entry walks its `from` chain. Local references (`env:`, `file:`) answer on the spot, so a
//! chain passes a local miss before any store is asked. Remote references are deduplicated (the
//! same reference is fetched once per run), grouped by store and batch key, and run on a bounded
//! pool. When a call answers "not found" for an entry, that entry's next reference is queued at
//! once: a fallback waits only for its own previous step, never for other stores.

use crate::context::Context;
use crate::manifest::{Entry, Manifest};
use crate::reference::{Reference, StoreKind};
use crate::secret::{Scrubber, SecretValue};
use crate::store_error::StoreError;
use crate::stores::{store_for, Outcome};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// What became of one entry.
#[derive(Debug)]
pub enum Status {
    /// `source` is the index into the entry's `from` list that answered.
    Found { value: SecretValue, source: usize },
    /// Every reference said "not found".
    Missing,
    /// A store failed on reference `source`.
    Failed { source: usize, error: StoreError },
    /// The value cannot be an environment variable.
    Invalid { source: usize, reason: String },
}

pub struct EntryResult<'m> {
    pub entry: &'m Entry,
    pub status: Status,
}

impl EntryResult<'_> {
    /// A failure that must stop `activate`/`run`: a store error, or a required secret missing.
    pub fn is_fatal(&self) -> bool {
        match self.status {
            Status::Found { .. } => false,
            Status::Missing => self.entry.required,
            Status::Failed { .. } | Status::Invalid { .. } => true,
        }
    }

    pub fn value(&self) -> Option<&SecretValue> {
        match &self.status {
            Status::Found { value, .. } => Some(value),
            _ => None,
        }
    }
}

pub struct Resolution<'m> {
    pub results: Vec<EntryResult<'m>>,
    /// The manifest's leases, when the command asked for them (`resolve_with_leases`).
    pub leases: Vec<crate::lease::Acquired<'m>>,
    /// Every value found, for scrubbing messages.
    pub scrubber: Scrubber,
    /// Things worth one line on stderr that are not failures (the cache could not be used).
    pub notes: Vec<String>,
}

impl Resolution<'_> {
    pub fn has_fatal(&self) -> bool {
        self.results.iter().any(EntryResult::is_fatal)
            || self
                .leases
                .iter()
                .any(|l| l.spec.required && l.outcome.is_err())
    }

    /// The variables of the leases granted, in the manifest's order.
    pub fn lease_values(&self) -> Vec<(&str, &[u8])> {
        self.leases
            .iter()
            .filter_map(|l| l.outcome.as_ref().ok())
            .flat_map(|g| g.vars.iter().map(|(k, v)| (k.as_str(), v.expose())))
            .collect()
    }
}

/// One call to one store: several references that share a batch key.
struct Job {
    kind: StoreKind,
    refs: Vec<Reference>,
    timeout: Duration,
}

/// Where every entry's chain stands, shared by the pool's workers.
struct Progress<'m> {
    entries: Vec<&'m Entry>,
    default_timeout: Duration,
    cursor: Vec<usize>,
    status: Vec<Option<Status>>,
    /// Every reference answered so far (each is fetched once per run).
    answered: HashMap<Reference, Outcome>,
    /// References handed to the pool and not answered yet.
    asked: HashSet<Reference>,
    /// Remote references some entry caches: the shortest of their entries' TTLs, and the first
    /// entry's name (shown by `cache list`).
    cached: HashMap<Reference, (Duration, String, Option<Vec<String>>)>,
    /// How long each entry's remote values may be cached.
    cache_ttl: Vec<Option<Duration>>,
}

impl<'m> Progress<'m> {
    fn timeout_of(&self, i: usize) -> Duration {
        self.entries[i].timeout.unwrap_or(self.default_timeout)
    }

    /// Moves every unfinished entry as far as the answers so far allow: through found values,
    /// failures and "not found"s, answering local references on the spot. Returns the remote
    /// references the entries now wait for that nobody has asked for yet, as jobs.
    fn advance(&mut self, ctx: &Context) -> Vec<Job> {
        let mut wanted: BTreeMap<Reference, Duration> = BTreeMap::new();
        for i in 0..self.entries.len() {
            while self.status[i].is_none() {
                let source = self.cursor[i];
                let r = &self.entries[i].from[source];
                if !self.answered.contains_key(r) && store_for(r.store()).is_instant() {
                    let outcome = store_for(r.store()).fetch_one(r, self.timeout_of(i), ctx);
                    self.answered.insert(r.clone(), outcome);
                }
                if let (Some(ttl), false) = (self.cache_ttl[i], r.is_local()) {
                    let entry = self.entries[i];
                    let slot = self
                        .cached
                        .entry(r.clone())
                        .or_insert_with(|| (ttl, entry.name.clone(), entry.cache_env.clone()));
                    slot.0 = slot.0.min(ttl);
                    if !self.answered.contains_key(r) && !self.asked.contains(r) {
                        if let Some(cache) = &ctx.cache {
                            let context = crate::stores::cache_context(ctx, r, slot.2.as_deref());
                            if let Some(v) = cache.get(r, &context, slot.0) {
                                self.answered.insert(r.clone(), Outcome::Found(v));
                            }
                        }
                    }
                }
                let Some(outcome) = self.answered.get(r) else {
                    if !self.asked.contains(r) {
                        let t = wanted.entry(r.clone()).or_insert(self.timeout_of(i));
                        *t = (*t).max(self.timeout_of(i));
                    }
                    break;
                };
                self.status[i] = match outcome {
                    Outcome::Found(v) => Some(finish(self.entries[i], v.clone(), source)),
                    Outcome::Failed(err) => Some(Status::Failed {
                        source,
                        error: err.clone(),
                    }),
                    Outcome::NotFound if source + 1 < self.entries[i].from.len() => {
                        self.cursor[i] += 1;
                        None
                    }
                    Outcome::NotFound => Some(Status::Missing),
                };
            }
        }
        self.add_ride_alongs(&mut wanted);
        self.asked.extend(wanted.keys().cloned());
        plan(&wanted)
    }

    /// Where one call returns a whole document (a vault path, a sops file, a doppler config),
    /// later references of a fallback chain into a document about to be fetched ride along for
    /// free, so a fallback never costs a second call to the same document.
    fn add_ride_alongs(&self, wanted: &mut BTreeMap<Reference, Duration>) {
        let documents: BTreeSet<(StoreKind, String)> = wanted
            .keys()
            .filter(|r| store_for(r.store()).fetches_whole_document())
            .map(|r| (r.store(), store_for(r.store()).batch_key(r)))
            .collect();
        if documents.is_empty() {
            return;
        }
        for (i, e) in self.entries.iter().enumerate() {
            if self.status[i].is_some() {
                continue;
            }
            for r in &e.from[self.cursor[i] + 1..] {
                let doc = (r.store(), store_for(r.store()).batch_key(r));
                if documents.contains(&doc)
                    && !self.answered.contains_key(r)
                    && !self.asked.contains(r)
                {
                    let t = wanted.entry(r.clone()).or_insert(self.timeout_of(i));
                    *t = (*t).max(self.timeout_of(i));
                }
            }
        }
    }

    /// Takes a job's answers: each is no longer waited for and is kept for the rest of the
    /// run. A reference some entry caches also goes to the cache: checked against it under
    /// `verify`, put in it otherwise (counted in `tally`), and dropped from it when the store
    /// says it is gone.
    fn record(
        &mut self,
        answers: Vec<(Reference, Outcome)>,
        ctx: &Context,
        tally: &Mutex<CacheTally>,
    ) {
        for (r, outcome) in answers {
            self.asked.remove(&r);
            if let (Some(cache), Some((ttl, entry, cache_env))) = (&ctx.cache, self.cached.get(&r))
            {
                let context = crate::stores::cache_context(ctx, &r, cache_env.as_deref());
                match &outcome {
                    Outcome::Found(v) if cache.mode == crate::cache::Mode::Verify => {
                        cache.drop_if_stale(&r, &context, *ttl, v)
                    }
                    Outcome::Found(v) => {
                        let mut tally = tally.lock().expect("lock");
                        tally.offered += 1;
                        match cache.put(&r, &context, entry, v, *ttl) {
                            Ok(()) => tally.kept += 1,
                            Err(why) => tally.refused.push(why),
                        }
                    }
                    // Gone from the store: a verify or refresh must not leave the old value
                    // to be served for the rest of its TTL.
                    outcome if says_not_found(outcome) => cache.drop_entry(&r, &context, *ttl),
                    _ => {}
                }
            }
            self.answered.insert(r, outcome);
        }
    }

    /// The run's outcome: one result per entry (one never answered counts as missing), a
    /// scrubber holding every value found, and the notes worth a line on stderr.
    fn into_resolution(self, tally: CacheTally, ctx: &Context) -> Resolution<'m> {
        let mut scrubber = Scrubber::new();
        for outcome in self.answered.values() {
            if let Outcome::Found(v) = outcome {
                scrubber.add(v.expose());
            }
        }
        let results = self
            .entries
            .into_iter()
            .zip(self.status)
            .map(|(entry, s)| EntryResult {
                entry,
                status: s.unwrap_or(Status::Missing),
            })
            .collect();
        let CacheTally {
            offered,
            kept,
            mut refused,
        } = tally;
        refused.sort();
        refused.dedup();
        let mut notes: Vec<String> = Vec::new();
        if kept < offered {
            // Exactly what happened: how many, and each distinct reason.
            notes.push(format!(
                "{kept} of {offered} values cached: {}",
                refused.join("; ")
            ));
        }
        notes.extend(ctx.take_notes());
        Resolution {
            results,
            leases: Vec::new(),
            scrubber,
            notes,
        }
    }
}

pub fn resolve<'m>(
    manifest: &'m Manifest,
    only: Option<&[String]>,
    ctx: &Context,
) -> Resolution<'m> {
    resolve_entries(manifest, only, ctx)
}

/// [`resolve`], and the manifest's leases (see `crate::lease`) at the same time: each lease's
/// master credential and backend call run beside the stores' calls, not after them.
pub fn resolve_with_leases<'m>(
    manifest: &'m Manifest,
    only: Option<&[String]>,
    ctx: &Context,
    leases: &crate::lease::Leases,
) -> Resolution<'m> {
    if manifest.leases.is_empty() {
        return resolve_entries(manifest, only, ctx);
    }
    let master = |spec: &crate::manifest::LeaseSpec| master_of(manifest, spec, ctx);
    let timeout = manifest.options.timeout;
    // Live leases are reused on this thread first: a second shell starts no thread for them.
    let first = crate::lease::reuse_live(&manifest.leases, leases);
    let mut resolution = if crate::lease::all_answered(&first) {
        let mut resolution = resolve_entries(manifest, only, ctx);
        resolution.leases = crate::lease::acquire_rest(first, leases, ctx, timeout, &master);
        resolution
    } else {
        std::thread::scope(|scope| {
            let granted =
                scope.spawn(|| crate::lease::acquire_rest(first, leases, ctx, timeout, &master));
            let mut resolution = resolve_entries(manifest, only, ctx);
            resolution.leases = granted.join().unwrap_or_default();
            resolution
        })
    };
    for granted in resolution
        .leases
        .iter()
        .filter_map(|l| l.outcome.as_ref().ok())
    {
        for (_, value) in &granted.vars {
            resolution.scrubber.add(value.expose());
        }
    }
    resolution
}

/// A lease's master credential: its references, resolved like entries (never cached).
pub fn master_of(
    manifest: &Manifest,
    spec: &crate::manifest::LeaseSpec,
    ctx: &Context,
) -> Result<BTreeMap<String, SecretValue>, StoreError> {
    if spec.master.is_empty() {
        return Ok(BTreeMap::new());
    }
    let entries = spec
        .master
        .iter()
        .map(|(part, reference)| Entry {
            name: part.clone(),
            from: vec![reference.clone()],
            required: true,
            timeout: spec.timeout,
            trim: true,
            description: None,
            rotate_after: None,
            cache: crate::manifest::CacheSetting::Off,
            cache_env: None,
            only: Vec::new(),
        })
        .collect();
    let masters = Manifest {
        path: manifest.path.clone(),
        home: manifest.home,
        entries,
        options: manifest.options.clone(),
        profiles: BTreeMap::new(),
        leases: Vec::new(),
        profile_leases: BTreeMap::new(),
        profile: None,
    };
    let resolution = resolve_entries(&masters, None, ctx);
    let mut parts = BTreeMap::new();
    for r in resolution.results {
        let part = &r.entry.name;
        let reference = &r.entry.from[0];
        match r.status {
            Status::Found { value, .. } => {
                parts.insert(part.clone(), value);
            }
            Status::Missing => {
                return Err(StoreError::new(format!(
                    "its master credential's {part} is not in {reference}"
                ))
                .fix("store it there (`jit-secrets set`), or correct the lease's `master`"))
            }
            Status::Failed { error, .. } => {
                let mut e = error;
                e.message = format!(
                    "its master credential's {part} ({reference}): {}",
                    e.message
                );
                return Err(e);
            }
            Status::Invalid { reason, .. } => {
                return Err(StoreError::new(format!(
                    "its master credential's {part} ({reference}): {reason}"
                )))
            }
        }
    }
    Ok(parts)
}

fn resolve_entries<'m>(
    manifest: &'m Manifest,
    only: Option<&[String]>,
    ctx: &Context,
) -> Resolution<'m> {
    let entries: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| only.is_none_or(|names| names.iter().any(|n| n == &e.name)))
        .collect();
    let (progress, first, _turn) = first_round(manifest, entries, ctx);
    let progress = Mutex::new(progress);
    let tasks = first.into_iter().map(|j| (j.kind, j)).collect();
    let cache_tally = Mutex::new(CacheTally::default());
    // A prompting store whose first call failed: its other calls are not tried.
    let prompt_failed: Mutex<HashMap<StoreKind, StoreError>> = Mutex::new(HashMap::new());
    let prompting = prompting_stores(ctx);
    run_dynamic(
        tasks,
        manifest.options.concurrency,
        &prompting,
        &|job: Job| {
            let gated = prompting.contains(&job.kind);
            let (answers, failure) = answer_job(job, gated, &prompt_failed, ctx);
            let mut p = progress.lock().expect("progress lock");
            p.record(answers, ctx, &cache_tally);
            let more = p.advance(ctx).into_iter().map(|j| (j.kind, j)).collect();
            (more, failure.is_none())
        },
    );
    let progress = progress.into_inner().expect("progress lock");
    progress.into_resolution(cache_tally.into_inner().expect("lock"), ctx)
}

/// Values offered to the cache, values it kept, and why it refused the others.
#[derive(Default)]
struct CacheTally {
    offered: usize,
    kept: usize,
    refused: Vec<String>,
}

/// Where `entries` stand before any store is called, and the first jobs. A cold fetch of
/// cached values takes this manifest's turn (see `Cache::take_turn`): if another shell was
/// fetching, its values are in the cache now, so the round is planned again. The turn is
/// returned for the caller to hold until its fetches are done.
fn first_round<'m>(
    manifest: &Manifest,
    entries: Vec<&'m Entry>,
    ctx: &Context,
) -> (Progress<'m>, Vec<Job>, Option<crate::file_lock::FileLock>) {
    let count = entries.len();
    let cache_ttl: Vec<Option<Duration>> = entries.iter().map(|e| manifest.cache_ttl(e)).collect();
    let longest_timeout = entries
        .iter()
        .map(|e| e.timeout.unwrap_or(manifest.options.timeout))
        .max()
        .unwrap_or(manifest.options.timeout);
    let start = || Progress {
        entries: entries.clone(),
        default_timeout: manifest.options.timeout,
        cursor: vec![0; count],
        status: (0..count).map(|_| None).collect(),
        answered: HashMap::new(),
        asked: HashSet::new(),
        cached: HashMap::new(),
        cache_ttl: cache_ttl.clone(),
    };
    let mut progress = start();
    let mut first = progress.advance(ctx);
    let turn = match &ctx.cache {
        Some(cache)
            if cache.mode == crate::cache::Mode::Use
                && first
                    .iter()
                    .any(|job| job.refs.iter().any(|r| progress.cached.contains_key(r))) =>
        {
            let (turn, waited) = cache.take_turn(longest_timeout + Duration::from_secs(1));
            if waited {
                progress = start();
                first = progress.advance(ctx);
            }
            turn
        }
        _ => None,
    };
    (progress, first, turn)
}

/// Runs one job and returns its answers and its first failure. A store that may prompt
/// (`gated`) and already failed once is not called again: every reference gets that failure,
/// so the person is not asked again for what they just refused or could not give.
fn answer_job(
    job: Job,
    gated: bool,
    prompt_failed: &Mutex<HashMap<StoreKind, StoreError>>,
    ctx: &Context,
) -> (Vec<(Reference, Outcome)>, Option<StoreError>) {
    let kind = job.kind;
    let earlier = gated
        .then(|| prompt_failed.lock().expect("lock").get(&kind).cloned())
        .flatten();
    let answers = match earlier {
        Some(error) => job
            .refs
            .into_iter()
            .map(|r| (r, Outcome::Failed(error.clone())))
            .collect(),
        None => run_job(job, ctx),
    };
    let failure = answers.iter().find_map(|(_, o)| match o {
        Outcome::Failed(e) => Some(e.clone()),
        _ => None,
    });
    if let (true, Some(e)) = (gated, &failure) {
        prompt_failed
            .lock()
            .expect("lock")
            .entry(kind)
            .or_insert_with(|| e.clone());
    }
    (answers, failure)
}

fn finish(entry: &Entry, value: SecretValue, source: usize) -> Status {
    let value = if entry.trim {
        value.trim_one_newline()
    } else {
        value
    };
    if let Some(at) = value.position_of_nul() {
        return Status::Invalid {
            source,
            reason: format!(
                "the value has a NUL byte (at byte {at}), which no environment variable can hold"
            ),
        };
    }
    Status::Found { value, source }
}

/// Groups references by store and batch key, and cuts groups to each store's batch size.
fn plan(wanted: &BTreeMap<Reference, Duration>) -> Vec<Job> {
    let mut groups: BTreeMap<(StoreKind, String), Vec<(&Reference, Duration)>> = BTreeMap::new();
    for (r, t) in wanted {
        let kind = r.store();
        groups
            .entry((kind, store_for(kind).batch_key(r)))
            .or_default()
            .push((r, *t));
    }
    let mut jobs = Vec::new();
    for ((kind, _), members) in groups {
        for chunk in members.chunks(store_for(kind).max_batch().max(1)) {
            jobs.push(Job {
                kind,
                refs: chunk.iter().map(|(r, _)| (*r).clone()).collect(),
                timeout: chunk.iter().map(|(_, t)| *t).max().unwrap_or_default(),
            });
        }
    }
    jobs
}

/// The stores that may ask the person something in this run (see `Store::may_prompt`).
pub fn prompting_stores(ctx: &Context) -> HashSet<StoreKind> {
    StoreKind::ALL
        .into_iter()
        .filter(|kind| store_for(*kind).may_prompt(ctx))
        .collect()
}

/// Runs each task on at most `concurrency` threads; a store in `prompting` gets its first call
/// alone (see `Store::may_prompt`). Results in task order. Every store call a command makes goes
/// through here: fetching (`resolve`) and `verify`'s ages.
pub fn run_bounded<T: Send, R: Send>(
    tasks: Vec<(StoreKind, T)>,
    concurrency: usize,
    prompting: &HashSet<StoreKind>,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..tasks.len()).map(|_| None).collect());
    let numbered = tasks
        .into_iter()
        .enumerate()
        .map(|(i, (kind, t))| (kind, (i, t)))
        .collect();
    run_dynamic(numbered, concurrency, prompting, &|(i, t): (usize, T)| {
        let out = work(t);
        results.lock().expect("results lock")[i] = Some(out);
        (Vec::new(), true)
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

/// What `work` returns: the tasks its completion adds, and whether the call succeeded (which
/// opens a prompting store to parallel calls).
type Done<T> = (Vec<(StoreKind, T)>, bool);

/// The pool: runs tasks, and the tasks each one's completion adds, on at most `concurrency`
/// threads. A store that may prompt runs one call at a time until one has succeeded. Threads are
/// started as work appears; a single task runs on the calling thread.
fn run_dynamic<T: Send>(
    tasks: Vec<(StoreKind, T)>,
    concurrency: usize,
    prompting: &HashSet<StoreKind>,
    work: &(dyn Fn(T) -> Done<T> + Sync),
) {
    if tasks.len() <= 1 {
        // The common small case: no threads at all, unless the task adds more.
        for (_, task) in tasks {
            let (more, _) = work(task);
            if !more.is_empty() {
                run_dynamic(more, concurrency, prompting, work);
            }
        }
        return;
    }
    struct Queue<T> {
        pending: VecDeque<(StoreKind, T)>,
        running: HashMap<StoreKind, usize>,
        /// Prompting stores one of whose calls has succeeded: no longer one at a time.
        proven: HashSet<StoreKind>,
        busy: usize,
        workers: usize,
    }
    let concurrency = concurrency.max(1);
    let initial_workers = concurrency.min(tasks.len());
    let queue = Mutex::new(Queue {
        pending: tasks.into(),
        running: HashMap::new(),
        proven: HashSet::new(),
        busy: 0,
        workers: initial_workers,
    });
    let changed = Condvar::new();

    fn worker<'scope, 'env, T: Send + 'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        queue: &'env Mutex<Queue<T>>,
        changed: &'env Condvar,
        concurrency: usize,
        prompting: &'env HashSet<StoreKind>,
        work: &'env (dyn Fn(T) -> Done<T> + Sync),
    ) {
        loop {
            let (kind, task) = {
                let mut q = queue.lock().expect("queue lock");
                loop {
                    let pick = q.pending.iter().position(|(kind, _)| {
                        !prompting.contains(kind)
                            || q.proven.contains(kind)
                            || q.running.get(kind).copied().unwrap_or(0) == 0
                    });
                    if let Some(i) = pick {
                        let picked = q.pending.remove(i).expect("picked task exists");
                        *q.running.entry(picked.0).or_insert(0) += 1;
                        q.busy += 1;
                        break picked;
                    }
                    if q.pending.is_empty() && q.busy == 0 {
                        changed.notify_all();
                        return;
                    }
                    q = changed.wait(q).expect("queue lock");
                }
            };
            let (more, succeeded) = work(task);
            let mut q = queue.lock().expect("queue lock");
            *q.running.get_mut(&kind).expect("counted") -= 1;
            q.busy -= 1;
            if succeeded {
                q.proven.insert(kind);
            }
            q.pending.extend(more);
            // New work that the idle threads cannot all take: start more, up to the limit.
            let idle = q.workers - q.busy;
            let extra = q
                .pending
                .len()
                .saturating_sub(idle)
                .min(concurrency - q.workers);
            q.workers += extra;
            drop(q);
            for _ in 0..extra {
                scope.spawn(move || worker(scope, queue, changed, concurrency, prompting, work));
            }
            changed.notify_all();
        }
    }

    std::thread::scope(|scope| {
        for _ in 0..initial_workers {
            scope.spawn(|| worker(scope, &queue, &changed, concurrency, prompting, work));
        }
    });
}

fn run_job(job: Job, ctx: &Context) -> Vec<(Reference, Outcome)> {
    let store = store_for(job.kind);
    let refs: Vec<&Reference> = job.refs.iter().collect();
    let outcomes = if refs.len() == 1 {
        vec![store.fetch_one(refs[0], job.timeout, ctx)]
    } else {
        store.fetch_batch(&refs, job.timeout, ctx)
    };
    pair_outcomes(job.kind, job.refs, outcomes)
}

/// One outcome per reference. A store that answers a different number (a bug) must not turn
/// secrets into "missing" by a short `zip`: every reference of the call fails, naming the store.
fn pair_outcomes(
    kind: StoreKind,
    refs: Vec<Reference>,
    outcomes: Vec<Outcome>,
) -> Vec<(Reference, Outcome)> {
    if outcomes.len() != refs.len() {
        let error = StoreError::new(format!(
            "the {} store answered {} of {} references in one call",
            kind.name(),
            outcomes.len(),
            refs.len()
        ))
        .fix("this is a bug in jit-secrets: please report it, with the store's CLI version");
        return refs
            .into_iter()
            .map(|r| (r, Outcome::Failed(error.clone())))
            .collect();
    }
    refs.into_iter().zip(outcomes).collect()
}

/// Stores `value` where `reference` reads it (`set`).
pub fn write_value(
    reference: &Reference,
    value: &SecretValue,
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    store_for(reference.store()).write(reference, value, timeout, ctx)
}

/// When the value behind `reference` last changed, where its store records it (`verify`).
pub fn last_changed(
    reference: &Reference,
    timeout: Duration,
    ctx: &Context,
) -> Result<Option<i64>, StoreError> {
    store_for(reference.store()).last_changed(reference, timeout, ctx)
}

/// Where the value a write to `reference` replaces stays readable, if its store keeps it.
pub fn keeps_history(reference: &Reference, ctx: &Context) -> Option<String> {
    store_for(reference.store()).keeps_history(reference, ctx)
}

/// What removing `reference` would delete, named (`delete` and `forget` list it before asking).
pub fn removal_preview(
    reference: &Reference,
    timeout: Duration,
    ctx: &Context,
) -> Result<Vec<String>, StoreError> {
    store_for(reference.store()).removal_preview(reference, timeout, ctx)
}

/// Removes what `reference` reads (`delete`); how many items went.
pub fn remove_value(
    reference: &Reference,
    timeout: Duration,
    ctx: &Context,
) -> Result<usize, StoreError> {
    store_for(reference.store()).remove(reference, timeout, ctx)
}

/// Did the store say the reference does not exist (an answer of its own, or a failure whose
/// message says "not found")?
fn says_not_found(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::NotFound => true,
        Outcome::Failed(e) => e.message.to_ascii_lowercase().contains("not found"),
        Outcome::Found(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_batch_fails_every_reference_naming_the_store() {
        let refs: Vec<Reference> = ["op://v/a/f", "op://v/b/f"]
            .iter()
            .map(|t| Reference::parse(t).unwrap())
            .collect();
        let paired = pair_outcomes(
            StoreKind::Op,
            refs,
            vec![Outcome::Found(SecretValue::from_str_value("x"))],
        );
        assert_eq!(paired.len(), 2);
        for (_, outcome) in &paired {
            match outcome {
                Outcome::Failed(e) => {
                    assert!(e.message.contains("1password store answered 1 of 2"))
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
