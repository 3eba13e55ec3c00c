//! The README and docs/ are true: every fenced block parses in the tool it is written for, the
//! README's snippets load a secret in their real shells, and the lists that mirror the code
//! (stores and which can be written, shells, exit codes) match it.

mod support;
use std::path::Path;
use std::process::Command;
use support::*;

struct Block {
    file: String,
    section: String,
    lang: String,
    text: String,
}

/// Every fenced block of README.md and docs/*.md, with the `## ` section it stands in.
fn blocks() -> Vec<Block> {
    let mut files = vec![repo_root().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(repo_root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 6, "{docs:?}");
    files.extend(docs);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        let mut section = String::new();
        let mut open: Option<(String, String)> = None;
        for line in text.lines() {
            match &mut open {
                None if line.starts_with("```") => {
                    open = Some((
                        line.trim_start_matches('`').trim().to_string(),
                        String::new(),
                    ))
                }
                None if line.starts_with("## ") => section = line[3..].to_string(),
                None => {}
                Some(_) if line.starts_with("```") => {
                    let (lang, text) = open.take().unwrap();
                    found.push(Block {
                        file: name.clone(),
                        section: section.clone(),
                        lang,
                        text,
                    });
                }
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
        assert!(open.is_none(), "{name}: a fence is never closed");
    }
    found
}

fn syntax_check(sb: &Sandbox, block: &Block) -> Result<(), String> {
    let file = sb.write("block", &block.text);
    let run = |mut c: Command| -> Result<String, String> {
        let out = c.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(stdout(&out))
        } else {
            Err(format!("{}{}", stdout(&out), stderr(&out)))
        }
    };
    let tool = |program: &str, args: &[&str]| {
        let mut c = sb.command(require(program));
        c.args(args).arg(&file);
        c
    };
    match block.lang.as_str() {
        "toml" => {
            block
                .text
                .parse::<toml_edit::DocumentMut>()
                .map_err(|e| e.to_string())?;
            let is_manifest = block
                .text
                .lines()
                .any(|l| l.starts_with("[secrets") || l.starts_with("[plugins.jit-secrets"));
            if is_manifest {
                let m = sb.write("docs-manifest.toml", &block.text);
                let out = sb.jit(&["--manifest", m.to_str().unwrap(), "list"]);
                if !out.status.success() || !out.stderr.is_empty() {
                    return Err(stderr(&out));
                }
            }
            Ok(())
        }
        "sh" => run(tool("dash", &["-n"])).map(drop),
        "bash" => run(tool("bash", &["-n"])).map(drop),
        "zsh" => run(tool("zsh", &["-n"])).map(drop),
        "fish" => run(tool("fish", &["--no-execute"])).map(drop),
        "tcsh" => run(tool("tcsh", &["-f", "-n"])).map(drop),
        "elvish" => run(tool("elvish", &["-compileonly"])).map(drop),
        "nu" => {
            let mut c = sb.command(require("nu"));
            c.args(["--no-config-file", "-c"])
                .arg(format!("nu-check '{}'", file.display()));
            match run(c)?.trim() {
                "true" => Ok(()),
                other => Err(format!("nu-check says {other}")),
            }
        }
        "nix" => {
            // A fragment of a flake (attribute bindings) parses inside braces.
            let parses = |text: &str| {
                let mut c = sb.command(require("nix-instantiate"));
                c.args(["--parse", "-E", text])
                    .env("NIX_CONFIG", "build-users-group =");
                run(c)
            };
            parses(&block.text)
                .or_else(|_| {
                    parses(&format!(
                        "{{ pkgs, jit-secrets, system, ... }}: {{ {} }}",
                        block.text
                    ))
                })
                .map(drop)
        }
        // One document, or one per line (a protocol's requests and answers).
        "json" => serde_json::from_str::<serde_json::Value>(&block.text)
            .map(drop)
            .or_else(|_| {
                block
                    .text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .try_for_each(|l| serde_json::from_str::<serde_json::Value>(l).map(drop))
            })
            .map_err(|e| e.to_string()),
        other => Err(format!(
            "no checker for a ```{other} block: tag it with its language"
        )),
    }
}

/// Blocks that are data for another program, not ours to run: CI YAML, a crontab line.
const NOT_CHECKED: &[&str] = &["yaml", "cron", "text"];

#[test]
fn every_fenced_block_in_the_readme_and_docs_parses_in_its_own_tool() {
    let sb = Sandbox::new();
    let mut checked = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for block in blocks() {
        if NOT_CHECKED.contains(&block.lang.as_str()) {
            continue;
        }
        *checked.entry(block.lang.clone()).or_insert(0) += 1;
        if let Err(why) = syntax_check(&sb, &block) {
            failures.push(format!(
                "{} ({}), ```{}:\n{}\n=> {why}",
                block.file, block.section, block.lang, block.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for lang in [
        "toml", "sh", "bash", "zsh", "fish", "tcsh", "nu", "elvish", "nix",
    ] {
        assert!(
            checked.contains_key(lang),
            "no ```{lang} block was checked: {checked:?}"
        );
    }
    // The options example (every option, `keepassxc` too) is among the manifests parsed.
    assert!(blocks()
        .iter()
        .any(|b| b.lang == "toml" && b.text.contains("keepassxc = {")));
}

/// `jit-secrets` first on the sandbox's PATH, as an installed one would be.
fn with_jit_on_path(sb: &mut Sandbox) {
    let bin_dir = sb.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("jit-secrets")).unwrap();
    let path = format!("{}:{}", bin_dir.display(), sb.env["PATH"].to_string_lossy());
    sb.set_env("PATH", path);
}

/// How each shell runs a snippet and then prints `$V`.
fn shell_command(lang: &str, snippet: &str) -> (String, Vec<String>) {
    let line = |print: &str| format!("{snippet}{print}");
    let (program, args): (&str, Vec<String>) = match lang {
        "bash" => (
            "bash",
            vec![
                "--norc".into(),
                "-e".into(),
                "-c".into(),
                line("printf '%s' \"$V\"\n"),
            ],
        ),
        "zsh" => (
            "zsh",
            vec![
                "-f".into(),
                "-e".into(),
                "-c".into(),
                line("printf '%s' \"$V\"\n"),
            ],
        ),
        "sh" => (
            "dash",
            vec!["-e".into(), "-c".into(), line("printf '%s' \"$V\"\n")],
        ),
        "fish" => (
            "fish",
            vec![
                "--no-config".into(),
                "-c".into(),
                line("printf '%s' \"$V\"\n"),
            ],
        ),
        "tcsh" => (
            "tcsh",
            vec![
                "-f".into(),
                "-e".into(),
                "-c".into(),
                line("printf '%s' \"$V\"\n"),
            ],
        ),
        "nu" => (
            "nu",
            vec![
                "--no-config-file".into(),
                "-c".into(),
                line("print --no-newline $env.V\n"),
            ],
        ),
        "elvish" => (
            "elvish",
            vec!["-norc".into(), "-c".into(), line("print $E:V\n")],
        ),
        other => panic!("no shell for {other}"),
    };
    (program.to_string(), args)
}

/// The README's per-shell lines, run in each real shell in a project directory: the secret
/// arrives, exactly. The Flox `[profile]` lines run the same way, vouched for by Flox.
#[test]
fn the_readmes_snippets_load_a_secret_in_their_real_shells() {
    let shells = ["bash", "zsh", "sh", "fish", "tcsh", "nu", "elvish"];
    let plug_in: Vec<Block> = blocks()
        .into_iter()
        .filter(|b| b.file == "README.md" && b.section == "Plug it in")
        .collect();
    let mut ran = Vec::new();
    for block in plug_in.iter().filter(|b| shells.contains(&b.lang.as_str())) {
        let mut sb = Sandbox::new();
        with_jit_on_path(&mut sb);
        sb.set_env("SRC", "from the README's snippet");
        sb.manifest("[secrets]\nV = \"env:SRC\"\n");
        let (program, args) = shell_command(&block.lang, &block.text);
        let out = sb.command(require(&program)).args(&args).output().unwrap();
        assert_eq!(
            stdout(&out),
            "from the README's snippet",
            "```{} snippet:\n{}{}",
            block.lang,
            block.text,
            stderr(&out)
        );
        ran.push(block.lang.clone());
    }
    ran.sort();
    let mut wanted: Vec<String> = shells.iter().map(|s| s.to_string()).collect();
    wanted.sort();
    assert_eq!(ran, wanted, "one snippet per shell");

    // Flox [profile]: each line in its own shell, with Flox's FLOX_ENV_PROJECT (no `allow`).
    let flox = plug_in
        .iter()
        .find(|b| b.lang == "toml" && b.text.contains("[profile]"))
        .expect("the Flox [profile] example");
    let profile = flox.text.split("[profile]").nth(1).unwrap();
    let mut flox_shells = 0;
    for line in profile.lines().filter(|l| l.contains(" = '")) {
        let (shell, snippet) = line.split_once(" = ").unwrap();
        let snippet = snippet.trim().trim_matches('\'');
        let mut sb = Sandbox::requiring_trust();
        with_jit_on_path(&mut sb);
        sb.set_env("SRC", "from Flox");
        let project = sb.path().join("proj");
        sb.write(
            "proj/.flox/env/manifest.toml",
            "version = 1\n[install]\n[plugins.jit-secrets]\nV = \"env:SRC\"\n",
        );
        sb.set_env("FLOX_ENV_PROJECT", &project);
        let (program, args) = shell_command(shell.trim(), &format!("{snippet}\n"));
        let out = sb.command(require(&program)).args(&args).output().unwrap();
        assert_eq!(stdout(&out), "from Flox", "{line}\n{}", stderr(&out));
        flox_shells += 1;
    }
    assert_eq!(flox_shells, 4, "bash, zsh, fish and tcsh lines");
}

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).unwrap()
}

/// The README's store table names every store once, and says which ones `set` and `rotate`
/// write to exactly as the code decides it; `rotate --help` lists the same ones.
#[test]
fn the_store_table_and_rotate_help_match_the_code() {
    let readme = readme();
    let schemes: Vec<&str> = jit_secrets::reference::SCHEMES.split(", ").collect();
    let writable = jit_secrets::stores::writable_schemes();
    let mut rows = 0;
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let reference = cells[0].trim_start_matches("| `");
        let Some(scheme) = schemes.iter().find(|s| reference.starts_with(**s)) else {
            continue;
        };
        rows += 1;
        let says = cells.last().unwrap().trim_end_matches(" |").trim();
        let can = writable.contains(scheme);
        assert_eq!(says, if can { "yes" } else { "no" }, "{scheme}: {line}");
    }
    assert_eq!(rows, schemes.len(), "one row per store");

    let sb = Sandbox::new();
    let help = stdout(&sb.jit(&["rotate", "--help"]));
    // The list runs from "Writes to:" to the paragraph's end (clap wraps it).
    let listed: Vec<&str> = help
        .split("Writes to: ")
        .nth(1)
        .expect("rotate --help says where it writes")
        .split("\n\n")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    for scheme in &schemes {
        assert_eq!(
            listed.contains(scheme),
            writable.contains(scheme),
            "rotate --help and the code disagree about {scheme}:\n{help}"
        );
    }
}

/// The shells `--shell` takes and the exit codes, as the README lists them.
#[test]
fn shells_and_exit_codes_in_the_readme_match_the_code() {
    use clap::ValueEnum;
    let readme = readme();
    let line = readme
        .lines()
        .skip_while(|l| !l.starts_with("`--shell` takes"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    for shell in jit_secrets::shell::Shell::value_variants() {
        let value = shell.to_possible_value().unwrap();
        for name in value.get_name_and_aliases() {
            assert!(
                line.contains(&format!("`{name}`")),
                "`{name}` missing from: {line}"
            );
        }
    }
    use jit_secrets::commands::*;
    for code in [
        EXIT_OK,
        EXIT_SECRET_FAILURE,
        EXIT_USAGE,
        EXIT_STALE,
        EXIT_BROKEN_PIPE,
    ] {
        assert!(
            readme.contains(&format!("\n| {code} | ")),
            "exit code {code} is not in the README's table"
        );
    }
    let table_rows = readme
        .lines()
        .skip_while(|l| !l.starts_with("| exit code |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .count();
    assert_eq!(
        table_rows, 5,
        "no code in the table that the code does not have"
    );
}

#[test]
fn the_readme_is_short_and_for_users() {
    let lines = readme().lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the rest belongs in docs/"
    );
    for link in readme().split("](").skip(1) {
        let target = link.split(')').next().unwrap();
        if !target.starts_with("http") {
            assert!(
                Path::new(&repo_root().join(target)).exists(),
                "broken link {target}"
            );
        }
    }
}
