//! Manifest edits (`add`, `remove`, `init`) change exactly the entry they name: through a
//! symlink to its target, keeping owner, group, mode and hard links, one edit at a time, and
//! never replacing an entry unasked.

mod support;
use std::os::unix::fs::MetadataExt;
use support::*;

#[test]
fn add_writes_through_a_symlink_and_keeps_owner_mode_and_hard_links() {
    let sb = Sandbox::new();
    let real = sb.write("config/real.toml", "[secrets]\nA = \"env:HOME\"\n");
    std::os::unix::fs::symlink("config/real.toml", sb.path().join("manifest.toml")).unwrap();
    assert_code(&sb.jit_m(&["add", "B", "env:HOME"]), 0);
    let link = std::fs::symlink_metadata(sb.path().join("manifest.toml")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("B = \"env:HOME\""));

    // A hard link and a foreign owner and mode survive.
    let other = sb.path().join("config/also.toml");
    std::fs::hard_link(&real, &other).unwrap();
    std::fs::set_permissions(&real, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    // Tests run as root in CI; elsewhere the chown is skipped and only mode and links are checked.
    let chowned = std::os::unix::fs::chown(&real, Some(4321), Some(4321)).is_ok();
    assert_code(&sb.jit_m(&["add", "C", "env:HOME"]), 0);
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(meta.nlink(), 2, "the hard link was cut");
    assert_eq!(meta.mode() & 0o777, 0o640);
    if chowned {
        assert_eq!(
            (meta.uid(), meta.gid()),
            (4321, 4321),
            "owner and group kept"
        );
    }
    assert!(std::fs::read_to_string(&other)
        .unwrap()
        .contains("C = \"env:HOME\""));
    assert_code(&sb.jit_m(&["remove", "C"]), 0);
    assert!(!std::fs::read_to_string(&other).unwrap().contains("C = "));
}

#[test]
fn twenty_concurrent_adds_all_land() {
    let sb = Sandbox::requiring_trust();
    assert_code(&sb.jit(&["init"]), 0);
    let children: Vec<_> = (0..20)
        .map(|i| {
            sb.command(BIN)
                .args(["add", &format!("NAME_{i}"), "env:HOME"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let text = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    for i in 0..20 {
        assert!(
            text.contains(&format!("NAME_{i} = ")),
            "NAME_{i} lost:\n{text}"
        );
    }
    // Each edit kept the manifest trusted: the trust record follows the last one.
    assert_code(&sb.jit(&["activate", "--shell", "json"]), 0);
}

const ENTRY: &str = r#"[secrets]
# the deploy token, rotated by ops
[secrets.DEPLOY]
from = ["env:CI_DEPLOY", "pass:deploy"]   # CI first
required = false
description = "deploy token"
rotate_after = "30d"
cache = "10m"

[secrets.options]
timeout = "5s"
"#;

#[test]
fn add_never_replaces_an_entry_unasked_and_replace_keeps_the_rest() {
    let sb = Sandbox::new();
    sb.manifest(ENTRY);
    let out = sb.jit_m(&["add", "DEPLOY", "keyring:deploy"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("already in") && stderr(&out).contains("--replace"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap(),
        ENTRY
    );

    assert_code(
        &sb.jit_m(&["add", "DEPLOY", "keyring:deploy", "--replace"]),
        0,
    );
    let text = std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap();
    assert_eq!(
        text,
        ENTRY.replace(
            "from = [\"env:CI_DEPLOY\", \"pass:deploy\"]   # CI first",
            "from = \"keyring:deploy\"   # CI first"
        ),
        "only `from` changed"
    );
    // A bare reference keeps its trailing comment.
    sb.manifest("[secrets]\nA = \"env:HOME\"   # keep me\n");
    assert_code(&sb.jit_m(&["add", "A", "env:PATH", "--replace"]), 0);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("manifest.toml")).unwrap(),
        "[secrets]\nA = \"env:PATH\"   # keep me\n"
    );
}
