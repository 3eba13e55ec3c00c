//! `plugin:NAME/KEY` — any store, through an executable that speaks envref's plugin protocol:
//! one JSON request on stdin per run, one JSON object back on stdout.
//!
//! The executable is `[secrets.options] commands`' `jit-secrets-plugin-NAME` (or
//! `envref-backend-NAME`), else `jit-secrets-plugin-NAME` on `$PATH`, else `envref-backend-NAME`
//! on `$PATH`, so envref's plugins work unchanged.
//!
//! | request | answer |
//! |---|---|
//! | `{"operation": "get", "key": K}` | `{"value": V}` or `{"error": E}` (E containing "not found", any case, is not found) |
//! | `{"operation": "set", "key": K, "value": V}` | `{}` or `{"error": E}` |
//! | `{"operation": "delete", "key": K}` | `{}` or `{"error": E}` |
//! | `{"operation": "list"}` | `{"keys": [...]}` |
//!
//! Our extension, asked of `jit-secrets-plugin-*` only: `{"operation": "capabilities"}` →
//! `{"protocol": 1, "operations": ["get", "get_many", …]}`; when `get_many` is listed, all of a
//! plugin's keys go in ONE run: `{"operation": "get_many", "keys": [...]}` →
//! `{"values": {K: V}, "missing": [K2], "errors": {K3: E}}`. A plugin that does not answer
//! `capabilities` is driven one key per run (the runs in parallel).

use super::{parse_json, run_cli, wipe_json, Outcome, Store, StoreError};
use crate::context::Context;
use crate::process::{Child, Output};
use crate::reference::Reference;
use crate::secret::{SecretValue, Tainted};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Plugin;

/// How many one-key runs of a plugin without `get_many` may be under way at once.
const PARALLEL_GETS: usize = 16;

fn parts(reference: &Reference) -> (&str, &str) {
    match reference {
        Reference::Plugin { name, key } => (name, key),
        other => unreachable!("plugin store got {other}"),
    }
}

/// Which executable answers for plugin `name`, and whether it is one of ours (and so may be
/// asked our extension).
struct Executable {
    path: PathBuf,
    ours: bool,
}

/// The executable that would answer for plugin `name` (for `allow`'s summary).
pub fn executable_path(name: &str, ctx: &Context) -> Option<PathBuf> {
    executable(name, ctx).ok().map(|e| e.path)
}

fn executable(name: &str, ctx: &Context) -> Result<Executable, StoreError> {
    let [ours, envref] = crate::reference::plugin_program_names(name);
    let found = ctx
        .command_override(&ours)
        .map(|p| (p.to_path_buf(), true))
        .or_else(|| {
            ctx.command_override(&envref)
                .map(|p| (p.to_path_buf(), false))
        })
        .or_else(|| crate::process::on_path(&ours).map(|p| (p, true)))
        .or_else(|| crate::process::on_path(&envref).map(|p| (p, false)));
    match found {
        Some((path, ours)) => Ok(Executable { path, ours }),
        None => Err(StoreError::new(format!("no plugin `{name}`: neither {ours} nor {envref} is on PATH"))
            .fix(format!("install the plugin as an executable named {ours} on PATH, or name it in [secrets.options] commands = {{ \"{ours}\" = \"/path/to/it\" }}"))),
    }
}

fn program_name(exe: &Path) -> String {
    exe.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| exe.display().to_string())
}

/// A protocol failure: the plugin's name, what went wrong, and the fix.
fn broken(exe: &Path, what: &str) -> StoreError {
    StoreError::new(format!("plugin `{}` {what}", program_name(exe)))
        .fix("run the plugin by hand with the request on stdin (`echo '{\"operation\":\"get\",\"key\":\"K\"}' | PLUGIN`) and check it prints one JSON object")
}

/// Runs one request; the answer as JSON, or why there is none.
fn ask(exe: &Executable, request: &[u8], timeout: Duration) -> Result<Value, StoreError> {
    let child = Child::new(&exe.path, timeout).stdin(request);
    let out: Output = run_cli(child, "install the plugin on PATH")?;
    if !out.exit.success() {
        return Err(StoreError::new(format!(
            "plugin `{}` failed ({})",
            program_name(&exe.path),
            out.exit
        ))
        .with_stderr(out.stderr)
        .fix("run the plugin by hand to see; it must exit 0 and answer with one JSON object"));
    }
    if out.stdout.expose().iter().all(u8::is_ascii_whitespace) {
        return Err(broken(
            &exe.path,
            "printed output that is not the JSON expected: it answered nothing",
        ));
    }
    let answer = parse_json(out.stdout.expose(), &program_name(&exe.path))?;
    if !answer.is_object() {
        wipe_json(answer);
        return Err(broken(
            &exe.path,
            "answered with JSON that is not an object",
        ));
    }
    Ok(answer)
}

/// `{"error": E}`: the plugin's own words, shown scrubbed like a CLI's stderr.
fn plugin_error(exe: &Path, error: &str) -> StoreError {
    StoreError::new(format!("plugin `{}` reported an error", program_name(exe)))
        .with_stderr(Tainted::new(error.as_bytes().to_vec()))
        .fix("see the plugin's message; run it by hand to see more")
}

fn is_not_found(error: &str) -> bool {
    error.to_lowercase().contains("not found")
}

fn value_of(exe: &Path, v: &Value) -> Outcome {
    match v {
        Value::String(s) => Outcome::Found(SecretValue::from_str_value(s)),
        _ => Outcome::Failed(broken(exe, "answered with a `value` that is not a string")),
    }
}

fn get(exe: &Executable, key: &str, timeout: Duration) -> Outcome {
    let request = super::json_to_wiping(&json!({"operation": "get", "key": key}));
    let answer = match ask(exe, &request, timeout) {
        Ok(a) => a,
        Err(e) => return Outcome::Failed(e),
    };
    let outcome = match (answer.get("value"), answer.get("error")) {
        (_, Some(Value::String(e))) if is_not_found(e) => Outcome::NotFound,
        (_, Some(Value::String(e))) => Outcome::Failed(plugin_error(&exe.path, e)),
        (Some(v), _) => value_of(&exe.path, v),
        _ => Outcome::Failed(broken(
            &exe.path,
            "answered `get` with neither `value` nor `error`",
        )),
    };
    wipe_json(answer);
    outcome
}

/// Does the plugin list `get_many` in its capabilities? Any failure to answer means no.
fn speaks_get_many(exe: &Executable, timeout: Duration) -> bool {
    if !exe.ours {
        return false;
    }
    let Ok(answer) = ask(exe, br#"{"operation": "capabilities"}"#, timeout) else {
        return false;
    };
    answer["protocol"] == 1
        && answer["operations"]
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o == "get_many"))
}

fn get_many(exe: &Executable, refs: &[&Reference], timeout: Duration) -> Vec<Outcome> {
    let keys: Vec<&str> = refs.iter().map(|r| parts(r).1).collect();
    let request = super::json_to_wiping(&json!({"operation": "get_many", "keys": keys}));
    let answer = match ask(exe, &request, timeout) {
        Ok(a) => a,
        Err(e) => return super::fail_batch(refs, e),
    };
    if let Some(Value::String(e)) = answer.get("error") {
        let e = plugin_error(&exe.path, e);
        wipe_json(answer);
        return super::fail_batch(refs, e);
    }
    let missing: Vec<&str> = answer["missing"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let outcomes = keys
        .iter()
        .map(|key| {
            if let Some(v) = answer["values"].get(*key) {
                value_of(&exe.path, v)
            } else if missing.contains(key) {
                Outcome::NotFound
            } else if let Some(e) = answer["errors"].get(*key).and_then(Value::as_str) {
                if is_not_found(e) {
                    Outcome::NotFound
                } else {
                    Outcome::Failed(plugin_error(&exe.path, e))
                }
            } else {
                Outcome::Failed(broken(
                    &exe.path,
                    &format!(
                        "answered `get_many` without `{key}` in `values`, `missing` or `errors`"
                    ),
                ))
            }
        })
        .collect();
    wipe_json(answer);
    outcomes
}

/// `set` or `delete`: `{}` (or anything without `error`) is success.
fn change(exe: &Executable, request: &[u8], timeout: Duration) -> Result<(), StoreError> {
    let answer = ask(exe, request, timeout)?;
    let result = match answer.get("error") {
        Some(Value::String(e)) => Err(plugin_error(&exe.path, e)),
        _ => Ok(()),
    };
    wipe_json(answer);
    result
}

impl Store for Plugin {
    fn batch_key(&self, reference: &Reference) -> String {
        parts(reference).0.to_string()
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        match executable(parts(reference).0, ctx) {
            Ok(exe) => get(&exe, parts(reference).1, timeout),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// One `get_many` when the plugin speaks it; else one `get` per key, in parallel.
    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let Some(first) = refs.first() else {
            return Vec::new();
        };
        let exe = match executable(parts(first).0, ctx) {
            Ok(exe) => exe,
            Err(e) => return super::fail_batch(refs, e),
        };
        if refs.len() == 1 {
            return vec![get(&exe, parts(first).1, timeout)];
        }
        if speaks_get_many(&exe, timeout) {
            return get_many(&exe, refs, timeout);
        }
        // A plugin without `get_many`: one run per key, at most PARALLEL_GETS at a time.
        let mut outcomes = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(PARALLEL_GETS) {
            std::thread::scope(|scope| {
                let runs: Vec<_> = chunk
                    .iter()
                    .map(|r| {
                        let exe = &exe;
                        scope.spawn(move || get(exe, parts(r).1, timeout))
                    })
                    .collect();
                outcomes.extend(
                    runs.into_iter()
                        .map(|run| run.join().expect("a plugin run does not panic")),
                );
            });
        }
        outcomes
    }

    fn can_write(&self) -> bool {
        true
    }

    fn can_remove(&self) -> bool {
        true
    }

    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let (name, key) = parts(reference);
        let exe = executable(name, ctx)?;
        let Ok(text) = std::str::from_utf8(value.expose()) else {
            return Err(StoreError::new(
                "the plugin protocol carries text; this value is not UTF-8",
            )
            .fix("store binary values base64-encoded"));
        };
        let mut request = json!({"operation": "set", "key": key, "value": text});
        let bytes = super::json_to_wiping(&request);
        wipe_json(std::mem::take(&mut request));
        change(&exe, &bytes, timeout)
    }

    fn remove(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<usize, StoreError> {
        let (name, key) = parts(reference);
        let exe = executable(name, ctx)?;
        let request = super::json_to_wiping(&json!({"operation": "delete", "key": key}));
        change(&exe, &request, timeout).map(|()| 1)
    }
}
