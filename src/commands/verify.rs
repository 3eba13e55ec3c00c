//! `jit-secrets verify`: does every secret resolve, does this shell hold the current value, is any
//! overdue for rotation? Never prints a value: values are only compared, in constant time.

use super::{EXIT_OK, EXIT_SECRET_FAILURE, EXIT_STALE};
use crate::cli::{Global, VerifyArgs};
use crate::context::Context;
use crate::resolve::{last_changed, resolve, run_bounded, EntryResult, Resolution, Status};
use crate::run_context::{Needs, RunContext};
use crate::time;
use serde_json::json;
use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Current,
    Stale,
    NotActive,
    Unknown,
}

impl Freshness {
    fn word(self) -> &'static str {
        match self {
            Freshness::Current => "current",
            Freshness::Stale => "stale",
            Freshness::NotActive => "not-active",
            Freshness::Unknown => "unknown",
        }
    }
}

enum Age {
    NotChecked,
    Unknown(Option<String>),
    Known { last_changed: i64, limit: u64 },
}

impl Age {
    fn overdue(&self, now: i64) -> bool {
        matches!(self, Age::Known { last_changed, limit } if now - last_changed > *limit as i64)
    }
}

struct Row<'a> {
    result: &'a EntryResult<'a>,
    current: Freshness,
    age: Age,
}

impl Row<'_> {
    fn resolves(&self) -> &'static str {
        match self.result.status {
            Status::Found { .. } => "ok",
            Status::Missing => "missing",
            Status::Failed { .. } | Status::Invalid { .. } => "error",
        }
    }

    fn source(&self) -> Option<&crate::reference::Reference> {
        match &self.result.status {
            Status::Found { source, .. }
            | Status::Failed { source, .. }
            | Status::Invalid { source, .. } => Some(&self.result.entry.from[*source]),
            Status::Missing => None,
        }
    }
}

pub fn run(global: &Global, args: VerifyArgs) -> anyhow::Result<u8> {
    let needs = Needs::trusted()
        .cache(crate::cache::Mode::Verify)
        .leases(crate::lease::Mode::Probe, None)
        .refusing(|manifest| Ok(super::only_known(manifest, &args.only).map(|_| ())?));
    let run = RunContext::build(global, needs)?;
    let (manifest, ctx) = (&run.manifest, &run.ctx);
    let only = super::only_known(manifest, &args.only)?;
    let resolution = resolve(manifest, only, ctx);
    let ages = check_ages(&resolution, manifest, ctx);
    let rows: Vec<Row> = resolution
        .results
        .iter()
        .zip(ages)
        .map(|(result, age)| Row {
            result,
            current: compare_with_environment(result),
            age,
        })
        .collect();

    let leases = check_leases(&run, args.leases);
    let now = time::now();
    let code = if resolution.has_fatal() || leases.iter().any(|l| l.failed()) {
        EXIT_SECRET_FAILURE
    } else if rows
        .iter()
        .any(|r| r.current == Freshness::Stale || r.age.overdue(now))
    {
        EXIT_STALE
    } else {
        EXIT_OK
    };
    let _printing = crate::process::output();
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = json!({
            "version": 1,
            "manifest": manifest.path.display().to_string(),
            "exit_code": code,
            "secrets": rows.iter().map(|r| row_json(r, &resolution, now)).collect::<Vec<_>>(),
            "leases": leases.iter().map(LeaseRow::to_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        let colour = out.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        write_table(&mut out, &rows, &resolution, now, colour)?;
        for l in &leases {
            writeln!(out, "{}", l.line())?;
        }
        let hint = match code {
            EXIT_STALE if rows.iter().any(|r| r.current == Freshness::Stale) => {
                "stale: the store changed since this shell was activated; activate again (source <(jit-secrets activate))"
            }
            EXIT_STALE => "overdue: rotate the secret in its store, then activate again",
            EXIT_SECRET_FAILURE if leases.iter().any(|l| l.failed()) => {
                "some secrets or leases do not resolve: see the fixes above"
            }
            EXIT_SECRET_FAILURE => "some secrets do not resolve: see the fixes above",
            _ => "all secrets resolve",
        };
        writeln!(out, "{hint}")?;
    }
    Ok(code)
}

/// What `verify` says of one lease: can its master credential be read, is one live (and for
/// how long), and with `--leases`, did creating and revoking one work.
struct LeaseRow {
    name: String,
    kind: &'static str,
    required: bool,
    master: Result<(), crate::store_error::StoreError>,
    seconds_left: Option<i64>,
    probe: Option<Result<String, crate::store_error::StoreError>>,
    /// Its on-exit lease was orphaned (its keeper killed), and what was done about it.
    orphan: Option<String>,
}

impl LeaseRow {
    fn failed(&self) -> bool {
        self.required && (self.master.is_err() || self.probe.as_ref().is_some_and(|p| p.is_err()))
    }

    fn line(&self) -> String {
        let mut s = format!("lease {} ({}): ", self.name, self.kind);
        // "ok" only once a lease was made with it: reading its references proves nothing more.
        match (&self.master, &self.probe) {
            (Err(e), _) => s.push_str(&format!("master credential: {}", e.message)),
            (Ok(()), Some(Ok(_))) => s.push_str("master credential ok"),
            (Ok(()), _) => s.push_str("master credential not checked (`verify --leases` makes and revokes a lease with it)"),
        }
        match self.seconds_left {
            Some(left) => s.push_str(&format!("; live, {} left", time::human(left))),
            None => s.push_str("; no live lease"),
        }
        if let Some(orphan) = &self.orphan {
            s.push_str(&format!("; {orphan}"));
        }
        match &self.probe {
            Some(Ok(note)) => s.push_str(&format!("; probe: {note}")),
            Some(Err(e)) => s.push_str(&format!("; probe failed: {}", e.message)),
            None => {}
        }
        let fix = match (&self.master, &self.probe) {
            (Err(e), _) | (_, Some(Err(e))) => e.fix.as_deref(),
            _ => None,
        };
        if let Some(fix) = fix {
            s.push_str(&format!("\n  fix: {fix}"));
        }
        s
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "kind": self.kind,
            "master": if self.master.is_ok() { "ok" } else { "error" },
            "error": self.master.as_ref().err().map(|e| e.message.clone()),
            "seconds_left": self.seconds_left,
            "probe": self.probe.as_ref().map(|p| match p {
                Ok(note) => json!({"ok": true, "note": note}),
                Err(e) => json!({"ok": false, "error": e.message}),
            }),
        })
    }
}

fn check_leases(run: &RunContext, probe: bool) -> Vec<LeaseRow> {
    let (manifest, ctx) = (&run.manifest, &run.ctx);
    if manifest.leases.is_empty() {
        return Vec::new();
    }
    let live = crate::lease::list(Some(&manifest.path)).unwrap_or_default();
    let mut probes = if probe {
        let mut only_leases = manifest.clone();
        only_leases.entries.clear();
        crate::resolve::resolve_with_leases(&only_leases, None, ctx, run.lease_settings())
            .leases
            .into_iter()
            .map(|a| {
                (
                    a.spec.name.clone(),
                    a.outcome.map(|g| g.note.unwrap_or_default()),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    manifest
        .leases
        .iter()
        .map(|spec| LeaseRow {
            name: spec.name.clone(),
            kind: spec.kind.name(),
            required: spec.required,
            master: crate::resolve::master_of(manifest, spec, ctx).map(|_| ()),
            seconds_left: live
                .iter()
                .find(|s| s.record.name == spec.name && !s.description.contains('~'))
                .map(|s| s.record.seconds_left()),
            orphan: live
                .iter()
                .filter(|s| s.record.name == spec.name)
                .find_map(crate::lease::tend_orphan)
                .map(|o| match o {
                    crate::lease::Orphan::KeeperStarted => {
                        "orphaned (its keeper was gone): a new keeper watches it".to_string()
                    }
                    crate::lease::Orphan::Revoked => {
                        "orphaned (its keeper was gone, no holder lives): revoked now".to_string()
                    }
                    crate::lease::Orphan::NotRevoked(why) => {
                        format!("orphaned (its keeper was gone, no holder lives): {why}")
                    }
                }),
            probe: probes
                .iter()
                .position(|(n, _)| n == &spec.name)
                .map(|i| probes.swap_remove(i).1),
        })
        .collect()
}

/// Is the variable in our environment the store's value now? Compared in constant time.
fn compare_with_environment(result: &EntryResult) -> Freshness {
    use std::os::unix::ffi::OsStrExt;
    let Some(held) = std::env::var_os(&result.entry.name) else {
        return Freshness::NotActive;
    };
    match result.value() {
        Some(value) if value.ct_eq(held.as_bytes()) => Freshness::Current,
        Some(_) => Freshness::Stale,
        None => Freshness::Unknown,
    }
}

/// Asks each store that answered, for entries with `rotate_after`, when the value last changed:
/// on the same bounded pool as fetching, so a store that may prompt is asked once at a time.
fn check_ages(
    resolution: &Resolution,
    manifest: &crate::manifest::Manifest,
    ctx: &Context,
) -> Vec<Age> {
    let mut ages: Vec<Age> = resolution.results.iter().map(|_| Age::NotChecked).collect();
    let tasks: Vec<_> = resolution
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let limit = r.entry.rotate_after.or(manifest.options.rotate_after)?;
            let Status::Found { source, .. } = &r.status else {
                return None;
            };
            let reference = &r.entry.from[*source];
            let timeout = r.entry.timeout.unwrap_or(manifest.options.timeout);
            Some((reference.store(), (i, reference, timeout, limit)))
        })
        .collect();
    let checked = run_bounded(
        tasks,
        manifest.options.concurrency,
        &crate::resolve::prompting_stores(ctx),
        |(i, reference, timeout, limit)| {
            let age = match last_changed(reference, timeout, ctx) {
                Ok(Some(t)) => Age::Known {
                    last_changed: t,
                    limit: limit.as_secs(),
                },
                Ok(None) => Age::Unknown(None),
                Err(e) => Age::Unknown(Some(e.message)),
            };
            (i, age)
        },
    );
    for (i, age) in checked {
        ages[i] = age;
    }
    ages
}

fn problem_text(r: &Row, resolution: &Resolution) -> Option<(String, Option<String>)> {
    match &r.result.status {
        Status::Found { .. } => None,
        Status::Missing => Some((
            format!(
                "not found in {}",
                r.result
                    .entry
                    .from
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(
                "create it in the store, correct the reference, or mark it `required = false`"
                    .into(),
            ),
        )),
        Status::Failed { error, .. } => {
            let mut message = error.message.clone();
            if let Some(stderr) = &error.stderr {
                let text = stderr.scrubbed(&resolution.scrubber);
                if let Some(first) = text.lines().find(|l| !l.trim().is_empty()) {
                    message.push_str(": ");
                    message.push_str(first.trim());
                }
            }
            Some((message, error.fix.clone()))
        }
        Status::Invalid { reason, .. } => Some((
            reason.clone(),
            Some("store a value without NUL bytes".into()),
        )),
    }
}

fn row_json(r: &Row, resolution: &Resolution, now: i64) -> serde_json::Value {
    let source = r.source();
    let age = match &r.age {
        Age::NotChecked => {
            json!({"status": "not-checked", "last_changed": null, "age_seconds": null, "rotate_after_seconds": null})
        }
        Age::Unknown(error) => {
            json!({"status": "unknown", "last_changed": null, "age_seconds": null,
            "rotate_after_seconds": r.result.entry.rotate_after.map(|d| d.as_secs()), "error": error})
        }
        Age::Known {
            last_changed,
            limit,
        } => json!({
            "status": if r.age.overdue(now) { "overdue" } else { "ok" },
            "last_changed": time::format_rfc3339(*last_changed),
            "age_seconds": now - last_changed,
            "rotate_after_seconds": limit,
        }),
    };
    json!({
        "name": r.result.entry.name,
        "required": r.result.entry.required,
        "resolves": r.resolves(),
        "source": source.map(|s| s.to_string()),
        "store": source.map(|s| s.store().name()),
        "error": problem_text(r, resolution).map(|(message, fix)| json!({"message": message, "fix": fix})),
        "current": r.current.word(),
        "age": age,
    })
}

fn write_table(
    out: &mut impl Write,
    rows: &[Row],
    resolution: &Resolution,
    now: i64,
    colour: bool,
) -> std::io::Result<()> {
    let paint = |text: String, code: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let width = rows
        .iter()
        .map(|r| r.result.entry.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:width$}  {:9}  {:10}  {:22}  SOURCE",
        "NAME", "RESOLVES", "CURRENT", "AGE"
    )?;
    for r in rows {
        let resolves = match r.resolves() {
            "ok" => paint(format!("{:9}", "ok"), "32"),
            "missing" if !r.result.entry.required => paint(format!("{:9}", "missing"), "33"),
            other => paint(format!("{:9}", other.to_uppercase()), "31"),
        };
        let current = match r.current {
            Freshness::Stale => paint(format!("{:10}", "STALE"), "33"),
            c => format!("{:10}", c.word()),
        };
        let age = match &r.age {
            Age::NotChecked => format!("{:22}", "-"),
            Age::Unknown(_) => format!("{:22}", "age unknown"),
            Age::Known {
                last_changed,
                limit,
            } if r.age.overdue(now) => paint(
                format!(
                    "{:22}",
                    format!(
                        "OVERDUE {} > {}",
                        time::human(now - last_changed),
                        time::human(*limit as i64)
                    )
                ),
                "33",
            ),
            Age::Known {
                last_changed,
                limit,
            } => {
                format!(
                    "{:22}",
                    format!(
                        "{} (limit {})",
                        time::human(now - last_changed),
                        time::human(*limit as i64)
                    )
                )
            }
        };
        let source = r
            .source()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let optional = if r.result.entry.required {
            ""
        } else {
            " (optional)"
        };
        writeln!(
            out,
            "{:width$}  {resolves}  {current}  {age}  {source}{optional}",
            r.result.entry.name
        )?;
        if let Some((message, fix)) = problem_text(r, resolution) {
            writeln!(out, "{:width$}    {message}", "")?;
            if let Some(fix) = fix {
                writeln!(out, "{:width$}    fix: {fix}", "")?;
            }
        }
        if let Age::Unknown(Some(e)) = &r.age {
            writeln!(out, "{:width$}    age: {e}", "")?;
        }
    }
    Ok(())
}
