//! The house plan, checked from the source: which room (a top-level module of `src/`) imports
//! which, read from the `crate::ROOM` paths in each room's code (comments and unit-test modules
//! left out). The rooms form no circle, and the rules docs/testing.md's layout states hold:
//! the network helper and leases take nothing from the stores, the stores nothing from the
//! rooms that call them, the shell renderers nothing but values, and only `process/` spawns.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// A file's code: its unit-test module (by convention last, `#[cfg(test)] mod tests`) and its
/// comment lines dropped.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Room → the rooms its code names as `crate::ROOM`; and room → its code, for other rules.
fn rooms() -> (Graph, BTreeMap<String, String>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    let mut code = BTreeMap::<String, String>::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap();
        let room = first.as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if ["main", "lib", "bin"].contains(&room) {
            continue;
        }
        let text = code_of(&file);
        let imports = graph.entry(room.to_string()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            assert!(
                !name.is_empty(),
                "{}: a grouped `crate::{{…}}` import: name each room's path",
                file.display()
            );
            if name != room {
                imports.insert(name);
            }
        }
        code.entry(room.to_string()).or_default().push_str(&text);
    }
    (graph, code)
}

/// A circle through `room`, if any (depth-first, `path` the rooms on the way).
fn circle(
    graph: &Graph,
    room: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|r| r == room) {
        let mut found = path[at..].to_vec();
        found.push(room.to_string());
        return Some(found);
    }
    if !done.insert(room.to_string()) {
        return None;
    }
    path.push(room.to_string());
    for next in graph.get(room).into_iter().flatten() {
        if let Some(found) = circle(graph, next, path, done) {
            return Some(found);
        }
    }
    path.pop();
    None
}

#[test]
fn the_rooms_import_each_other_in_no_circle() {
    let (graph, _) = rooms();
    assert!(graph.len() > 10, "the rooms were not found: {graph:?}");
    let mut done = BTreeSet::new();
    for room in graph.keys() {
        // `done` is kept across starts, so a room reached before is not walked again; a circle
        // is found from whichever of its rooms comes first.
        if let Some(found) = circle(&graph, room, &mut Vec::new(), &mut done) {
            panic!(
                "the rooms import each other in a circle: {}",
                found.join(" → ")
            );
        }
    }
}

#[test]
fn each_room_imports_only_what_the_plan_allows() {
    let (graph, _) = rooms();
    let imports = |room: &str| graph.get(room).unwrap_or_else(|| panic!("no room {room}"));
    let never = [
        // The helper is both sides of a pipe: it knows neither who asks nor why.
        (
            "net",
            &["stores", "lease", "context", "resolve", "commands"][..],
        ),
        // Leases make their own calls (a CLI, the helper); the stores are not theirs.
        ("lease", &["stores", "resolve", "commands"]),
        ("stores", &["lease", "resolve", "commands", "shell"]),
        (
            "process",
            &["stores", "net", "lease", "context", "commands"],
        ),
        (
            "context",
            &["stores", "net", "lease", "resolve", "commands"],
        ),
        // The run's context is built for the commands, from what they need: it asks no store and
        // renders nothing.
        (
            "run_context",
            &["commands", "stores", "net", "resolve", "shell"],
        ),
        (
            "store_error",
            &["stores", "net", "lease", "process", "context"],
        ),
    ];
    for (room, forbidden) in never {
        for other in forbidden {
            assert!(
                !imports(room).contains(*other),
                "src/{room} imports crate::{other}: {:?}",
                imports(room)
            );
        }
    }
    // The renderers turn (name, bytes) into text: they fetch nothing.
    assert_eq!(imports("shell").iter().collect::<Vec<_>>(), ["secret"]);
    // A control run of the check itself: these imports exist, so the reader sees them.
    assert!(imports("stores").contains("net") && imports("lease").contains("net"));
    assert!(imports("lease").contains("process") && imports("net").contains("store_error"));
}

#[test]
fn only_process_spawns() {
    let (_, code) = rooms();
    for (room, text) in &code {
        if room == "process" {
            assert!(
                text.contains("Command::new"),
                "process/ should be where children start"
            );
            continue;
        }
        for spawning in ["Command::new", "libc::fork", "libc::execv"] {
            assert!(
                !text.contains(spawning),
                "src/{room} spawns ({spawning}): only src/process/ may"
            );
        }
    }
}

/// No function over 120 lines outside unit-test modules (`scripts/long-functions.sh`, which
/// lists the ones that are, longest first): a long function is several decisions that want
/// names of their own.
#[test]
fn no_function_is_over_120_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/long-functions.sh"))
        .args(["120", "src"])
        .current_dir(root)
        .output()
        .expect("bash runs scripts/long-functions.sh");
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "functions over 120 lines:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
