//! The trust check's cost: a manifest with ten `cmd:` scripts of its repository, each hashed at
//! every check. Prints the median of 2,000 checks (`cargo bench --bench trust_check`); the
//! target is 0.3 ms. A benchmark, not a test: no assertion on time.

use std::time::{Duration, Instant};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    let mut manifest = String::from("[secrets]\n");
    for i in 0..10 {
        // A few KiB each, like a real helper script.
        let body = format!("#!/bin/sh\n# helper {i}\n{}", "echo line\n".repeat(300));
        std::fs::write(repo.join(format!("scripts/get-{i}")), body).unwrap();
        manifest.push_str(&format!("S{i} = \"cmd:sh scripts/get-{i}\"\n"));
    }
    let path = repo.join("manifest.toml");
    std::fs::write(&path, &manifest).unwrap();
    std::env::set_var("XDG_DATA_HOME", dir.path().join("data"));
    std::env::remove_var(jit_secrets::trust::TRUST_ALL_VAR);
    let parsed = jit_secrets::manifest::parse(&path, &manifest).unwrap();
    let code = jit_secrets::trust::code_files(&parsed);
    assert_eq!(code.len(), 10, "{code:?}");
    jit_secrets::trust::allow(&path, manifest.as_bytes(), &code).unwrap();
    let vouch = jit_secrets::trust::Vouch::default();
    let mut times: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            // What `load_trusted_manifest` does beyond reading and parsing the manifest.
            let code = jit_secrets::trust::code_files(&parsed);
            jit_secrets::trust::check(&path, manifest.as_bytes(), &code, &vouch).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    println!(
        "trust check, 10 scripts of ~3 KiB: median {:.3} ms, p95 {:.3} ms (target: 0.3 ms)",
        median.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0
    );
}
