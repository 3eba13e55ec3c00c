//! `jit-secrets import FILE --store STORE [--replace]`: move a dotenv file's values into a store.
//!
//! Everything that can be checked is checked before anything is written: the file parses, its
//! names are valid and new to the manifest (or `--replace`), each derived reference is one the
//! store can write, and the manifest as edited parses. Then each value is written to the store,
//! in the file's order, and only when all are in is the manifest rewritten (under its edit lock,
//! comments kept). A write that fails stops the import: the values stored before it stay (a
//! re-run writes the same references again), the manifest is not touched. FILE is never changed.

use super::{UsageError, EXIT_OK, EXIT_SECRET_FAILURE};
use crate::cli::{Global, ImportArgs, ImportStore};
use crate::manifest_edit::{lock, read, secrets_table, validate, write_edit};
use crate::reference::Reference;
use crate::resolve::write_value;
use crate::run_context::{Needs, RunContext};
use crate::secret::{Scrubber, SecretValue};
use std::path::Path;
use toml_edit::{value, Item};
use zeroize::Zeroizing;

/// One variable of the file, on its way to the store.
struct Import {
    name: String,
    reference: Reference,
    value: SecretValue,
}

pub fn run(global: &Global, args: ImportArgs) -> anyhow::Result<u8> {
    let run = RunContext::build(global, Needs::trusted())?;
    let manifest = &run.manifest;
    let file = crate::printable::path(&args.file);
    let pairs = read_dotenv(&args.file)?;
    if let Some(problem) = pairs
        .iter()
        .find_map(|(name, _)| crate::manifest::name_problem(name))
    {
        return Err(UsageError(format!("{file}: {problem}; nothing imported")).into());
    }
    let project = project_name(&manifest.path);
    let (empty, pairs): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(_, v)| v.is_empty());
    let mut imports = Vec::new();
    for (name, value) in pairs {
        let text = reference_for(args.store, &project, &name);
        let reference = Reference::parse(&text)
            .map_err(|e| UsageError(format!("{name}: the derived reference {text}: {e}")))?;
        if !super::setup::writable(&reference) {
            return Err(UsageError(format!(
                "{name}: {reference}: jit-secrets cannot write there; nothing imported"
            ))
            .into());
        }
        imports.push(Import {
            name,
            reference,
            value,
        });
    }
    if imports.is_empty() {
        return Err(UsageError(format!(
            "{file}: no value to import (no KEY=value line with a value)"
        ))
        .into());
    }

    // From the read to the write: another edit of this manifest waits for ours.
    let _lock = lock(&manifest.path)?;
    let (old, text) = edited_manifest(manifest, &imports, args.replace)?;

    let ctx = &run.ctx;
    let mut scrub = Scrubber::new();
    for import in &imports {
        scrub.add(import.value.expose());
    }
    for (done, import) in imports.iter().enumerate() {
        if let Err(e) = write_value(
            &import.reference,
            &import.value,
            manifest.options.timeout,
            ctx,
        ) {
            eprint!(
                "{}",
                super::describe_store_error(&import.name, &import.reference, &e, &scrub)
            );
            report_partial(&imports[..done], &file);
            return Ok(EXIT_SECRET_FAILURE);
        }
    }
    write_edit(&manifest.path, Some(&old), &text)?;
    eprintln!(
        "jit-secrets: imported {} value{} from {file} into {}, and added {} to {}:",
        imports.len(),
        if imports.len() == 1 { "" } else { "s" },
        imports[0].reference.store().name(),
        if imports.len() == 1 {
            "its entry"
        } else {
            "their entries"
        },
        crate::printable::path(&manifest.path)
    );
    for import in &imports {
        eprintln!("  {} = \"{}\"", import.name, import.reference);
    }
    for (name, _) in &empty {
        eprintln!("  skipped {name}: its value is empty");
    }
    eprintln!(
        "jit-secrets: {file} is unchanged and still holds the values in clear: once `jit-secrets verify` passes, delete it (`rm {}`), and take it out of version control if it was ever committed",
        shell_word(&file)
    );
    Ok(EXIT_OK)
}

/// `text` as one word for a POSIX shell, for a command the user may paste.
fn shell_word(text: &str) -> String {
    // A leading `-` would be read as an option.
    let text = if text.starts_with('-') {
        format!("./{text}")
    } else {
        text.to_string()
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/-+=:,@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// After a failed write: what is stored already, and that the manifest was not changed.
fn report_partial(stored: &[Import], file: &str) {
    if stored.is_empty() {
        eprintln!("jit-secrets: nothing imported; the manifest is unchanged");
        return;
    }
    eprintln!("jit-secrets: import stopped; the manifest is unchanged. Stored before the failure (they stay; running the import again writes the same places):");
    for import in stored {
        eprintln!("  {} in {}", import.name, import.reference);
    }
    eprintln!("  fix: correct the error above and run `jit-secrets import {file} …` again");
}

/// The manifest's text as it was (for trust) and with one entry per import, checked to parse.
/// A name already there is refused unless `replace`, all of them named at once.
fn edited_manifest(
    manifest: &crate::manifest::Manifest,
    imports: &[Import],
    replace: bool,
) -> anyhow::Result<(String, String)> {
    let (old, mut doc) = read(&manifest.path)?;
    let table = secrets_table(&mut doc, manifest.home).ok_or_else(|| {
        UsageError(format!(
            "{} has no {} table; nothing imported",
            crate::printable::path(&manifest.path),
            manifest.home.table_name()
        ))
    })?;
    let present: Vec<&str> = imports
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| table.contains_key(n))
        .collect();
    if !present.is_empty() && !replace {
        return Err(UsageError(format!(
            "already in {}: {}; nothing imported\n  fix: pass --replace to point those entries at the imported values (their other settings and comments are kept)",
            crate::printable::path(&manifest.path),
            present.join(", ")
        ))
        .into());
    }
    for import in imports {
        let reference = import.reference.to_string();
        match table.get_mut(&import.name) {
            Some(existing) => point_at(existing, &reference),
            None => {
                table.insert(&import.name, value(reference));
            }
        }
    }
    let text = doc.to_string();
    validate(&manifest.path, &text).map_err(|e| {
        UsageError(format!(
            "{}: nothing imported: with these entries it would not be valid: {}",
            crate::printable::path(&manifest.path),
            e.message()
        ))
    })?;
    Ok((old, text))
}

/// `--replace`: a table entry gets the new `from` and keeps every other key; a bare reference is
/// replaced. Either way the comment and spacing around the old value stay.
fn point_at(existing: &mut Item, reference: &str) {
    match existing.as_table_like_mut() {
        Some(table) => {
            if let Some(from) = table.get_mut("from") {
                replace_keeping_decor(from, reference);
            } else {
                table.insert("from", value(reference));
            }
        }
        None => replace_keeping_decor(existing, reference),
    }
}

fn replace_keeping_decor(slot: &mut Item, reference: &str) {
    let decor = slot.as_value().map(|v| v.decor().clone());
    *slot = value(reference);
    if let (Some(decor), Some(v)) = (decor, slot.as_value_mut()) {
        *v.decor_mut() = decor;
    }
}

/// The project part of a derived reference: the name of the manifest's project directory (the
/// one holding `.flox` for a Flox manifest), lower-case, anything but letters and digits
/// turned into `-`.
pub fn project_name(manifest_path: &Path) -> String {
    let dir = manifest_path.parent().unwrap_or(Path::new("/"));
    let dir = match (dir.file_name(), dir.parent()) {
        (Some(env), Some(flox))
            if env == "env" && flox.file_name().is_some_and(|f| f == ".flox") =>
        {
            flox.parent().unwrap_or(dir)
        }
        _ => dir,
    };
    let slug = slug(&dir.file_name().unwrap_or_default().to_string_lossy());
    if slug.is_empty() {
        "project".to_string()
    } else {
        slug
    }
}

/// Lower-case letters and digits, every other run of characters one `-`, none at either end.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Where `import` stores `name` of `project` in `store` (documented in docs/commands.md):
/// the key is the name in lower case with `_` as `-` (`DATABASE_URL` is `database-url`).
pub fn reference_for(store: ImportStore, project: &str, name: &str) -> String {
    let key = name.to_ascii_lowercase().replace('_', "-");
    match store {
        ImportStore::Keyring => format!("keyring:{project}/{key}"),
        ImportStore::SecretTool => format!("secret-tool:service={project}&account={key}"),
        ImportStore::Pass => format!("pass:{project}/{key}"),
        ImportStore::AwsSm => format!("aws-sm:{project}/{key}"),
        ImportStore::AwsSsm => format!("aws-ssm:/{project}/{key}"),
        // Secret Manager ids hold letters, digits, `-` and `_` only.
        ImportStore::Gcp => format!("gcp:{project}-{key}"),
        ImportStore::Bitwarden => format!("bitwarden:{project}/{key}"),
    }
}

/// The file's variables in order, each value in a zeroizing buffer as soon as the parser hands
/// it over. A value the dotenv parser would expand (`$VAR`, `${VAR}`: from this process's
/// environment or earlier lines) is refused: the tools that read dotenv files disagree on `$`,
/// and a secret must be stored exactly as written.
fn read_dotenv(path: &Path) -> anyhow::Result<Vec<(String, SecretValue)>> {
    let file = crate::printable::path(path);
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| UsageError(format!("{file}: cannot read it: {e}")))?,
    );
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Err(UsageError(format!("{file}: not UTF-8 text; nothing imported")).into());
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let pairs = parse_dotenv(text, &file)?;
    // The same text with every `$` hidden behind a character the file does not hold: a value
    // that comes out different was expanded (a `\$` escape makes this parse fail: refused too).
    let marker = ('\u{e000}'..='\u{f8ff}')
        .find(|c| !text.contains(*c))
        .expect("a file lacks some private-use character");
    let hidden = Zeroizing::new(text.replace('$', &marker.to_string()));
    let as_written = parse_dotenv(&hidden, &file).ok();
    let expanded: Vec<&str> = match &as_written {
        Some(literal) if literal.len() == pairs.len() => pairs
            .iter()
            .zip(literal)
            .filter(|((name, value), (literal_name, literal_value))| {
                let restored = Zeroizing::new(
                    String::from_utf8_lossy(literal_value.expose())
                        .replace(marker, "$")
                        .into_bytes(),
                );
                name != literal_name || value.expose() != restored.as_slice()
            })
            .map(|((name, _), _)| name.as_str())
            .collect(),
        _ => vec!["a value"],
    };
    if !expanded.is_empty() {
        return Err(UsageError(format!(
            "{file}: {}: a `$` that dotenv expands (`$VAR`, `${{VAR}}`, `\\$`); jit-secrets imports values exactly as written, so nothing was imported\n  fix: put such a value in single quotes ('…'), where `$` is literal",
            expanded.join(", ")
        ))
        .into());
    }
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &pairs {
        if seen.contains(&name.as_str()) {
            return Err(UsageError(format!(
                "{file}: {name} is set twice; keep one and import again"
            ))
            .into());
        }
        seen.push(name);
    }
    Ok(pairs)
}

/// dotenvy's reading of `text`. Its errors quote the line, which may hold a value: they become
/// a line number instead.
fn parse_dotenv(text: &str, file: &str) -> Result<Vec<(String, SecretValue)>, UsageError> {
    let mut pairs = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            // Moved, not copied, into memory that is wiped when dropped.
            Ok((name, value)) => pairs.push((name, SecretValue::new(value.into_bytes()))),
            Err(dotenvy::Error::LineParse(line, _)) => {
                let line = Zeroizing::new(line);
                let number = text
                    .find(line.as_str())
                    .map(|at| text[..at].matches('\n').count() + 1);
                let at = number
                    .map(|n| format!(" near line {n}"))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "{file}: cannot parse it{at} (the line is not shown: it may hold a secret); nothing imported\n  fix: write it as KEY=value, quoting a value that holds spaces or `#`"
                )));
            }
            Err(e) => {
                return Err(UsageError(format!(
                    "{file}: cannot read it ({}); nothing imported",
                    match e {
                        dotenvy::Error::Io(io) => io.to_string(),
                        _ => "not a dotenv file".to_string(),
                    }
                )))
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(String, String)> {
        parse_dotenv(text, "t")
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v.expose().to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn dotenv_quotes_comments_export_and_empty_values_read_as_dotenv_tools_read_them() {
        let text = "# a comment\nexport A=plain\nB='single # not a comment'\nC=\"double # kept\" # a comment\nD=value # comment\nE=\nF=\"two\nlines\"\nG='it''s'\nH=\"a\\nb \\\"q\\\"\"\nI=crlf\r\n";
        assert_eq!(
            parsed(text),
            [
                ("A", "plain"),
                ("B", "single # not a comment"),
                ("C", "double # kept"),
                ("D", "value"),
                ("E", ""),
                ("F", "two\nlines"),
                ("G", "its"),
                ("H", "a\nb \"q\""),
                ("I", "crlf"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn the_delete_command_quotes_an_unusual_file_name() {
        assert_eq!(shell_word(".env"), ".env");
        assert_eq!(shell_word("my secrets.env"), "'my secrets.env'");
        assert_eq!(shell_word("it's.env"), "'it'\\''s.env'");
        assert_eq!(shell_word("-x.env"), "./-x.env");
        assert_eq!(shell_word("-x y"), "'./-x y'");
    }

    #[test]
    fn a_parse_error_names_a_line_and_never_its_text() {
        let err = parse_dotenv("A=1\nB=sec ret-value\n", "f.env").unwrap_err();
        assert!(err.0.contains("near line 2"), "{}", err.0);
        assert!(!err.0.contains("ret-value"), "{}", err.0);
    }

    #[test]
    fn derived_references_parse_and_name_the_project_and_the_variable() {
        for store in [
            ImportStore::Keyring,
            ImportStore::SecretTool,
            ImportStore::Pass,
            ImportStore::AwsSm,
            ImportStore::AwsSsm,
            ImportStore::Gcp,
            ImportStore::Bitwarden,
        ] {
            let text = reference_for(store, "my-app", "DATABASE_URL");
            assert!(
                text.contains("my-app") && text.contains("database-url"),
                "{text}"
            );
            let reference = Reference::parse(&text).unwrap();
            assert!(super::super::setup::writable(&reference), "{text}");
        }
        assert_eq!(
            reference_for(ImportStore::Keyring, "app", "API_KEY"),
            "keyring:app/api-key"
        );
        assert_eq!(
            project_name(Path::new("/src/My App.v2/manifest.toml")),
            "my-app-v2"
        );
        assert_eq!(
            project_name(Path::new("/src/shop/.flox/env/manifest.toml")),
            "shop"
        );
        assert_eq!(project_name(Path::new("/manifest.toml")), "project");
    }
}
