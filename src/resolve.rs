//! Turns a manifest's entries into values: plan → batches per store → parallel execution →
//! one result per entry.
//!
//! Resolution runs in rounds. Round k asks, for every unresolved entry, its current `from`
//! reference; references are deduplicated (the same reference is fetched once per run, whatever
//! the round), grouped by store and batch key, and run on a bounded pool. An entry whose
//! reference is "not found" moves to its next reference in the following round.

use crate::manifest::{Entry, Manifest};
use crate::reference::{Reference, StoreKind};
use crate::secret::{Scrubber, SecretValue};
use crate::stores::{store_for, Context, Outcome, StoreError};
use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// Every value found, for scrubbing messages.
    pub scrubber: Scrubber,
}

impl Resolution<'_> {
    pub fn has_fatal(&self) -> bool {
        self.results.iter().any(EntryResult::is_fatal)
    }
}

/// One call to one store: several references that share a batch key.
struct Job {
    kind: StoreKind,
    refs: Vec<Reference>,
    timeout: Duration,
}

pub fn resolve<'m>(
    manifest: &'m Manifest,
    only: Option<&[String]>,
    ctx: &Context,
) -> Resolution<'m> {
    let entries: Vec<&Entry> = manifest
        .entries
        .iter()
        .filter(|e| only.is_none_or(|names| names.iter().any(|n| n == &e.name)))
        .collect();
    let timeout_of = |e: &Entry| e.timeout.unwrap_or(manifest.options.timeout);
    let mut cursor = vec![0usize; entries.len()];
    let mut status: Vec<Option<Status>> = entries.iter().map(|_| None).collect();
    let mut cache: HashMap<Reference, Outcome> = HashMap::new();

    loop {
        // The references this round still needs, each with the longest timeout asking for it.
        let mut wanted: BTreeMap<&Reference, Duration> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            if status[i].is_none() {
                let r = &e.from[cursor[i]];
                if !cache.contains_key(r) {
                    let t = wanted.entry(r).or_insert(timeout_of(e));
                    *t = (*t).max(timeout_of(e));
                }
            }
        }
        // Where one call returns a whole document (a vault path, a sops file, a doppler config),
        // later references of a fallback chain into a document already being fetched ride along
        // for free, so a fallback never costs a second call to the same document.
        let documents: std::collections::BTreeSet<(StoreKind, String)> = wanted
            .keys()
            .filter(|r| store_for(r.store()).fetches_whole_document())
            .map(|r| (r.store(), store_for(r.store()).batch_key(r)))
            .collect();
        if !documents.is_empty() {
            for (i, e) in entries.iter().enumerate() {
                if status[i].is_some() {
                    continue;
                }
                for r in &e.from[cursor[i] + 1..] {
                    let doc = (r.store(), store_for(r.store()).batch_key(r));
                    if documents.contains(&doc) && !cache.contains_key(r) {
                        let t = wanted.entry(r).or_insert(timeout_of(e));
                        *t = (*t).max(timeout_of(e));
                    }
                }
            }
        }
        if !wanted.is_empty() {
            for (r, outcome) in execute(plan(&wanted), manifest.options.concurrency, ctx) {
                cache.insert(r, outcome);
            }
        }
        let mut progressed = false;
        for (i, e) in entries.iter().enumerate() {
            if status[i].is_some() {
                continue;
            }
            let source = cursor[i];
            let Some(outcome) = cache.get(&e.from[source]) else {
                continue;
            };
            progressed = true;
            status[i] = match outcome {
                Outcome::Found(v) => Some(finish(e, v.clone(), source)),
                Outcome::Failed(err) => Some(Status::Failed {
                    source,
                    error: err.clone(),
                }),
                Outcome::NotFound if source + 1 < e.from.len() => {
                    cursor[i] += 1;
                    None
                }
                Outcome::NotFound => Some(Status::Missing),
            };
        }
        if status.iter().all(Option::is_some) || !progressed {
            break;
        }
    }

    let mut scrubber = Scrubber::new();
    for outcome in cache.values() {
        if let Outcome::Found(v) = outcome {
            scrubber.add(v.expose());
        }
    }
    let results = entries
        .into_iter()
        .zip(status)
        .map(|(entry, s)| EntryResult {
            entry,
            status: s.unwrap_or(Status::Missing),
        })
        .collect();
    Resolution { results, scrubber }
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
fn plan(wanted: &BTreeMap<&Reference, Duration>) -> Vec<Job> {
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

/// Runs jobs on at most `concurrency` threads, never more than a store's `max_parallel` of one
/// store at once.
fn execute(jobs: Vec<Job>, concurrency: usize, ctx: &Context) -> Vec<(Reference, Outcome)> {
    let (instant, jobs): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| store_for(j.kind).is_instant());
    let mut done: Vec<(Reference, Outcome)> =
        instant.into_iter().flat_map(|j| run_job(j, ctx)).collect();
    if jobs.is_empty() {
        return done;
    }
    done.extend(execute_pooled(jobs, concurrency, ctx));
    done
}

/// Runs jobs that wait on other processes or services on the bounded pool.
fn execute_pooled(jobs: Vec<Job>, concurrency: usize, ctx: &Context) -> Vec<(Reference, Outcome)> {
    if jobs.len() == 1 {
        // The common small case: no threads at all.
        return run_job(jobs.into_iter().next().expect("one job"), ctx);
    }
    let tasks = jobs.into_iter().map(|j| (j.kind, j)).collect();
    run_bounded(tasks, concurrency, |job| run_job(job, ctx))
        .into_iter()
        .flatten()
        .collect()
}

/// Runs each task on at most `concurrency` threads, never more than a store's `max_parallel` for
/// one store at once (stores that may prompt get one call at a time). Results in task order.
/// Every store call a command makes goes through here: fetching (`resolve`) and `verify`'s ages.
pub fn run_bounded<T: Send, R: Send>(
    tasks: Vec<(StoreKind, T)>,
    concurrency: usize,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    struct Queue<T> {
        pending: VecDeque<(usize, StoreKind, T)>,
        running: HashMap<StoreKind, usize>,
    }
    let count = tasks.len();
    let workers = concurrency.min(count).max(1);
    let queue = Mutex::new(Queue {
        pending: tasks
            .into_iter()
            .enumerate()
            .map(|(i, (kind, t))| (i, kind, t))
            .collect(),
        running: HashMap::new(),
    });
    let ready = Condvar::new();
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let (index, kind, task) = {
                    let mut q = queue.lock().expect("queue lock");
                    loop {
                        if q.pending.is_empty() {
                            return;
                        }
                        let pick = q.pending.iter().position(|(_, kind, _)| {
                            q.running.get(kind).copied().unwrap_or(0)
                                < store_for(*kind).max_parallel()
                        });
                        if let Some(i) = pick {
                            let picked = q.pending.remove(i).expect("picked task exists");
                            *q.running.entry(picked.1).or_insert(0) += 1;
                            break picked;
                        }
                        q = ready.wait(q).expect("queue lock");
                    }
                };
                let out = work(task);
                results.lock().expect("results lock")[index] = Some(out);
                let mut q = queue.lock().expect("queue lock");
                *q.running.get_mut(&kind).expect("counted") -= 1;
                ready.notify_all();
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

fn run_job(job: Job, ctx: &Context) -> Vec<(Reference, Outcome)> {
    let store = store_for(job.kind);
    let refs: Vec<&Reference> = job.refs.iter().collect();
    let outcomes = if refs.len() == 1 {
        vec![store.fetch_one(refs[0], job.timeout, ctx)]
    } else {
        store.fetch_batch(&refs, job.timeout, ctx)
    };
    debug_assert_eq!(outcomes.len(), job.refs.len());
    job.refs.into_iter().zip(outcomes).collect()
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

/// Removes what `reference` reads (`delete`); how many items went.
pub fn remove_value(
    reference: &Reference,
    timeout: Duration,
    ctx: &Context,
) -> Result<usize, StoreError> {
    store_for(reference.store()).remove(reference, timeout, ctx)
}
