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

/// The README's sections that plug it into a shell or a host.
const PLUG_IN: &[&str] = &["Your shell", "Flox, nix, direnv"];

/// The README's per-shell lines, run in each real shell in a project directory: the secret
/// arrives, exactly. The Flox `[profile]` lines run the same way, vouched for by Flox.
#[test]
fn the_readmes_snippets_load_a_secret_in_their_real_shells() {
    let shells = ["bash", "zsh", "sh", "fish", "tcsh", "nu", "elvish"];
    let plug_in: Vec<Block> = blocks()
        .into_iter()
        .filter(|b| b.file == "README.md" && PLUG_IN.contains(&b.section.as_str()))
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

/// `jit-secrets man`, as roff.
fn man_page() -> String {
    let out = Sandbox::new().jit(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// The lines of one `.SH` section of the man page.
fn man_section(page: &str, name: &str) -> Vec<String> {
    let heading = |l: &str| l.starts_with(".SH ");
    let wanted = |l: &str| heading(l) && l[4..].trim_matches('"') == name;
    let lines: Vec<String> = page
        .lines()
        .skip_while(|l| !wanted(l))
        .skip(1)
        .take_while(|l| !heading(l))
        .map(String::from)
        .collect();
    assert!(!lines.is_empty(), "the man page has no {name} section");
    lines
}

/// Roff as a reader sees it: escapes and font changes undone.
fn unroff(line: &str) -> String {
    line.replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
        .replace("\\&", "")
        .replace("\\-", "-")
        .replace("\\*(Aq", "'")
        .replace("\\e", "\\")
}

/// Each `.TP` item of a section: (its tag, its text).
fn man_items(section: &[String]) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut lines = section.iter();
    while let Some(line) = lines.next() {
        if line == ".TP" {
            let tag = unroff(lines.next().expect("a tag after .TP"));
            let text = unroff(lines.next().expect("a text after the tag"));
            items.push((tag, text));
        }
    }
    items
}

/// The exit codes: the man page's EXIT STATUS says what the README's table says, and both hold
/// exactly the constants the commands exit with.
#[test]
fn the_man_pages_exit_status_is_the_readmes_table_and_the_code() {
    use jit_secrets::commands::*;
    let readme = readme();
    let table: Vec<(String, String)> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| exit code |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').splitn(2, " | ").collect();
            let meaning = cells[1].trim().replace('`', "").replace("\\|", "|");
            (cells[0].trim().to_string(), meaning)
        })
        .collect();
    let man = man_items(&man_section(&man_page(), "EXIT STATUS"));
    assert_eq!(
        man, table,
        "the man page's EXIT STATUS and the README's table"
    );
    let codes: Vec<String> = [
        EXIT_OK,
        EXIT_SECRET_FAILURE,
        EXIT_USAGE,
        EXIT_STALE,
        EXIT_BROKEN_PIPE,
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    let listed: Vec<String> = man.into_iter().map(|(code, _)| code).collect();
    assert_eq!(listed, codes);
}

/// Every `JIT_SECRETS_*` variable named anywhere in src/ (read, or set for a program we start)
/// is explained in the man page's ENVIRONMENT, and nothing there is a name the code never uses.
#[test]
fn the_man_pages_environment_names_every_variable_in_the_code() {
    fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|x| x == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(&repo_root().join("src"), &mut files);
    let mut in_code = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("JIT_SECRETS_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            // A prefix the code builds names from, not a variable (none today).
            if !name.ends_with('_') {
                in_code.insert(name);
            }
        }
    }
    for wanted in [
        "JIT_SECRETS_MANIFEST",
        "JIT_SECRETS_TRUST_ALL_MANIFESTS",
        "JIT_SECRETS_PROFILE",
        "JIT_SECRETS_AGE_IDENTITY",
        "JIT_SECRETS_LEASE_HOLDER",
    ] {
        assert!(
            in_code.contains(wanted),
            "{wanted} is not in src/: {in_code:?}"
        );
    }
    let man: std::collections::BTreeSet<String> =
        man_items(&man_section(&man_page(), "ENVIRONMENT"))
            .into_iter()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(name, _)| name)
            .filter(|name| name.starts_with("JIT_SECRETS_"))
            .collect();
    assert_eq!(
        man, in_code,
        "the man page's ENVIRONMENT and the variables in src/"
    );
}

/// The man page has the sections a user looks for, and lists no command `--help` does not.
#[test]
fn the_man_page_has_files_and_examples_and_only_the_commands_help_lists() {
    let page = man_page();
    let files = man_items(&man_section(&page, "FILES"));
    assert!(
        files
            .iter()
            .any(|(path, _)| path.contains("jit-secrets/trusted")),
        "{files:?}"
    );
    assert!(man_section(&page, "EXAMPLES")
        .iter()
        .any(|l| unroff(l).contains("jit-secrets activate --shell bash")));
    let help = stdout(&Sandbox::new().jit(&["--help"]));
    let in_man: Vec<String> = man_section(&page, "SUBCOMMANDS")
        .iter()
        .filter_map(|l| unroff(l).strip_prefix("jit-secrets ").map(String::from))
        .collect();
    assert!(in_man.len() > 10, "{in_man:?}");
    for command in &in_man {
        assert!(
            help.lines()
                .any(|l| l.starts_with(&format!("  {command} "))),
            "the man page lists `{command}`, which --help does not:\n{help}"
        );
    }
}

/// Every command's examples print exactly as written on a narrow terminal: clap's wrapping
/// would put the end of a `# comment` on a line of its own, which a copy-paste runs as a command.
#[test]
fn examples_in_help_never_wrap_at_a_narrow_width() {
    let mut sb = Sandbox::new();
    sb.set_env("COLUMNS", "30");
    let cmd = jit_secrets::cli::command();
    let mut checked = 0;
    let top = cmd.get_after_help().unwrap().to_string();
    let help = stdout(&sb.jit(&["--help"]));
    assert!(help.contains(&top), "--help at 30 columns:\n{help}");
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let after = sub.get_after_help().unwrap().to_string();
        assert!(after.contains("Examples:"), "{name} has no examples");
        let help = stdout(&sb.jit(&[name, "--help"]));
        assert!(
            help.contains(&after),
            "`{name} --help` at 30 columns:\n{help}"
        );
        // And the examples themselves: each line a command, or one with its whole comment.
        for line in after
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .take_while(|l| !l.is_empty())
        {
            assert!(line.starts_with("  "), "{name}: {line}");
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked} commands");
}

/// `list --json` holds what `list --help` says it holds: the keys of each secret and each lease.
#[test]
fn list_json_has_the_keys_list_help_names() {
    let sb = Sandbox::new();
    sb.manifest(concat!(
        "[secrets]\nA = { from = \"env:X\", only = [\"gh\"] }\n",
        "[secrets.leases.db]\nkind = \"vault\"\npath = \"database/creds/ro\"\nrevoke = \"on-exit\"\n",
        "[secrets.leases.aws]\nkind = \"aws-sts\"\n",
        "master = { access_key_id = \"env:I\", secret_access_key = \"env:K\" }\n",
    ));
    let out = sb.jit_m(&["list", "--json"]);
    assert_code(&out, 0);
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cmd = jit_secrets::cli::command();
    let help = cmd
        .find_subcommand("list")
        .and_then(|list| list.get_arguments().find(|a| a.get_id() == "json"))
        .and_then(|json| json.get_help())
        .expect("list --json has a help text")
        .to_string();
    let described = |kind: &str| -> Vec<String> {
        let from = help
            .find(&format!("{{\"type\": \"{kind}\""))
            .unwrap_or_else(|| panic!("list --help describes no {kind}: {help}"));
        let object = &help[from..from + help[from..].find('}').unwrap()];
        let mut keys: Vec<String> = object
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|k| *k != kind)
            .map(String::from)
            .collect();
        keys.sort();
        keys
    };
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["type"], "secret");
    assert_eq!(items[0]["only"], serde_json::json!(["gh"]));
    assert_eq!(keys(&items[0]), described("secret"));
    assert_eq!(items[1]["type"], "lease");
    assert_eq!(items[1]["revoke"], "on-exit");
    assert_eq!(items[1]["exports"], serde_json::Value::Null);
    assert_eq!(
        items[2]["exports"],
        serde_json::json!([
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN"
        ])
    );
    assert_eq!(keys(&items[2]), described("lease"));
}

/// docs/security.md: `allow` (and `list`) show a relative path as the absolute path it will read,
/// and `~/` as written.
#[test]
fn allow_and_list_show_a_relative_file_as_the_path_it_reads() {
    let sb = Sandbox::requiring_trust();
    let manifest = sb.manifest("[secrets]\nA = \"file:sub/tok\"\nB = \"file:~/tok\"\n");
    let dir = manifest.parent().unwrap().canonicalize().unwrap();
    let absolute = format!("file:{}/sub/tok", dir.display());
    for args in [&["allow"][..], &["list"]] {
        let out = sb.jit_m(args);
        assert_code(&out, 0);
        let text = stdout(&out);
        assert!(text.contains(&absolute), "{args:?}: {text}");
        assert!(text.contains("file:~/tok"), "{args:?}: {text}");
    }
}

/// The README's command table and `--help` name the same commands: every command `--help`
/// lists has a place in the table, and every command in the table exists.
#[test]
fn the_readmes_command_table_names_every_command_and_no_other() {
    let readme = readme();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Commands"))
        .skip_while(|l| !l.starts_with("| set up |"))
        .take_while(|l| l.starts_with("| "))
        .collect();
    assert_eq!(table.len(), 4, "set up, use, maintain, more: {table:?}");
    // The first word of each `code` item is a command's name.
    let mut in_table: Vec<String> = table
        .iter()
        .flat_map(|row| row.split('`').skip(1).step_by(2))
        .map(|item| item.split_whitespace().next().unwrap().to_string())
        .collect();
    in_table.sort();
    in_table.dedup();
    let cmd = jit_secrets::cli::command();
    let mut commands: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    commands.sort();
    assert_eq!(in_table, commands, "the README's command table and --help");
}
