//! `keepassxc:PATH#ENTRY[?attribute=NAME]` — an entry of a KeePass database (`.kdbx`) through
//! `keepassxc-cli`.
//!
//! One unlock per database per activation: `keepassxc-cli export -f xml` decrypts the database
//! once and prints it whole; the entries wanted are picked here and everything else is wiped.
//! (Measured with a database made by `db-create` at its default one-second decryption time: ten
//! `show` calls unlock ten times — see the README — and `open`'s interactive mode echoes prompts
//! into the values' stream and loses commands piped before the password is read.)
//!
//! The database password: `[secrets.options] keepassxc = { password_from = "REF" }` (any other
//! reference, resolved first), else a hidden prompt on the terminal, else none when a `keyfile`
//! alone unlocks it. It reaches `keepassxc-cli` on stdin, never argv.

use super::{cli_failed, run_cli, store_for, Outcome, Store, StoreError};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use crate::secret::SecretValue;
use quick_xml::events::Event;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

pub struct Keepassxc;

const INSTALL: &str =
    "install KeePassXC's CLI (`apt install keepassxc`; on macOS it ships in KeePassXC.app)";

fn parts(reference: &Reference) -> (&Path, &str, &str) {
    match reference {
        Reference::Keepassxc {
            file,
            entry,
            attribute,
        } => (file, entry, attribute.as_deref().unwrap_or("Password")),
        other => unreachable!("keepassxc store got {other}"),
    }
}

/// How to open one database: the password line for stdin (if any) and the key file (if any).
struct Unlock {
    password: Option<Zeroizing<Vec<u8>>>,
    keyfile: Option<PathBuf>,
}

fn needs_password(db: &Path) -> StoreError {
    StoreError::new(format!("the KeePassXC database {} needs its password, and there is no terminal to ask on", db.display()))
        .fix("set [secrets.options] keepassxc = { password_from = \"keyring:kdbx-master\" } (any reference holding the password), or a `keyfile` alone for a database without a password")
}

fn unlock(db: &Path, timeout: Duration, ctx: &Context) -> Result<Unlock, StoreError> {
    let options = ctx.keepassxc.clone().unwrap_or_default();
    let password = if let Some(from) = &options.password_from {
        match store_for(from.store()).fetch_one(from, timeout, ctx) {
            Outcome::Found(v) => Some(Zeroizing::new(v.expose().to_vec())),
            Outcome::NotFound => {
                return Err(StoreError::new(format!("the database password was not found in {from} (keepassxc.password_from)"))
                    .fix(format!("store it there (`jit-secrets set --ref {from} …`) or correct keepassxc.password_from")))
            }
            Outcome::Failed(e) => {
                return Err(StoreError::new(format!("cannot read the database password from {from}: {}", e.message))
                    .fix(e.fix.unwrap_or_else(|| "check keepassxc.password_from".into())))
            }
        }
    } else if ctx.may_ask_on_terminal() {
        let name = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let hint = if options.keyfile.is_some() {
            " (empty if it has none)"
        } else {
            ""
        };
        let typed =
            crate::tty::prompt_hidden(&format!("Password for {name}{hint}: ")).map_err(|e| {
                StoreError::new(format!("cannot ask for the database password: {e}"))
                    .fix("run it on a terminal, or set keepassxc.password_from")
            })?;
        (!typed.is_empty() || options.keyfile.is_none()).then_some(typed)
    } else if options.keyfile.is_some() {
        None
    } else {
        return Err(needs_password(db));
    };
    if password.as_ref().is_some_and(|p| p.contains(&b'\n')) {
        return Err(StoreError::new(
            "the database password holds a newline, which keepassxc-cli cannot read on stdin",
        )
        .fix("change the database password"));
    }
    Ok(Unlock {
        password,
        keyfile: options.keyfile,
    })
}

/// `keepassxc-cli ARGS… [-k KEYFILE] [--no-password] DB [ENTRY]`, with the password line (and
/// then `extra_stdin`'s line) on stdin.
#[allow(clippy::too_many_arguments)]
fn cli(
    db: &Path,
    args: &[&str],
    entry: Option<&str>,
    unlock: &Unlock,
    extra_stdin: Option<&[u8]>,
    timeout: Duration,
    ctx: &Context,
) -> Result<crate::process::Output, StoreError> {
    // Not `-q`: it silences the error for a wrong password too, not just the prompt.
    let mut child = Child::new(ctx.command("keepassxc-cli"), timeout).args(args.iter().copied());
    if let Some(k) = &unlock.keyfile {
        child = child.arg("-k").arg(k);
    }
    if unlock.password.is_none() {
        child = child.arg("--no-password");
    }
    let mut input = Zeroizing::new(Vec::with_capacity(
        unlock.password.as_ref().map_or(0, |p| p.len() + 1)
            + extra_stdin.map_or(0, |e| e.len() + 1),
    ));
    if let Some(p) = &unlock.password {
        input.extend_from_slice(p);
        input.push(b'\n');
    }
    if let Some(extra) = extra_stdin {
        input.extend_from_slice(extra);
        input.push(b'\n');
    }
    let child = child.arg(db).args(entry).stdin(&input);
    run_cli(child, INSTALL)
}

fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("Invalid credentials") {
        "check the database password (keepassxc.password_from, or what you typed) and key file (keepassxc.keyfile)"
    } else if stderr.contains("key file") || stderr.contains("Key file") {
        "check keepassxc.keyfile: it must be the database's key file"
    } else {
        "run `keepassxc-cli show DB ENTRY` by hand to see"
    }
}

/// One entry of the export: its path (groups below the root, then the title), its attributes, and
/// when it was last changed.
#[derive(Default)]
struct ParsedEntry {
    path: String,
    attributes: Vec<(String, Zeroizing<Vec<u8>>)>,
    modified: Option<String>,
}

/// XML character data to bytes, into a wiping buffer sized up front (it only shrinks).
fn unescape_wiping(raw: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'&' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let end = i + raw[i..].iter().position(|&b| b == b';')?;
        let name = &raw[i + 1..end];
        let ch = match name {
            b"lt" => '<',
            b"gt" => '>',
            b"amp" => '&',
            b"quot" => '"',
            b"apos" => '\'',
            [b'#', b'x' | b'X', hex @ ..] => {
                char::from_u32(u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?)?
            }
            [b'#', dec @ ..] => char::from_u32(std::str::from_utf8(dec).ok()?.parse().ok()?)?,
            _ => return None,
        };
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        i = end + 1;
    }
    Some(out)
}

/// The entries at `wanted` paths, from `keepassxc-cli export -f xml`. History (older versions of
/// an entry) and the recycle bin's deleted entries are not entries.
fn parse_export(xml: &[u8], wanted: &[&str]) -> Result<Vec<ParsedEntry>, StoreError> {
    let bad = |what: &str| {
        StoreError::new(format!(
            "`keepassxc-cli export` printed output that is not the KeePass XML expected ({what})"
        ))
        .fix("check your keepassxc-cli version (2.7 or later)")
    };
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut walk = ExportWalk::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(&format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) => walk.start(e.name().as_ref().to_vec()),
            // `<Value/>`: an empty attribute value.
            Event::Empty(e) if e.name().as_ref() == b"Value" && walk.history_depth == 0 => {
                walk.empty_value()
            }
            Event::Text(t) => {
                walk.text = unescape_wiping(AsRef::<[u8]>::as_ref(&*t))
                    .ok_or_else(|| bad("an unknown entity"))?
            }
            Event::CData(c) => walk.text = Zeroizing::new(AsRef::<[u8]>::as_ref(&*c).to_vec()),
            Event::End(e) => walk.end(e.name().as_ref(), wanted),
            Event::Eof => break,
            _ => {}
        }
    }
    if !walk.saw_root {
        return Err(bad("it is not a KeePass XML export"));
    }
    Ok(walk.found)
}

/// Where `parse_export` stands in the export, element by element.
#[derive(Default)]
struct ExportWalk {
    /// The names of the open elements, outermost first.
    stack: Vec<Vec<u8>>,
    /// The open groups' names, the root group first.
    groups: Vec<String>,
    /// The open groups' UUIDs: an entry under the recycle bin's is deleted.
    group_uuids: Vec<String>,
    recycle_bin_uuid: String,
    /// The entry being read.
    entry: Option<ParsedEntry>,
    /// How many `<Entry>`s deep inside the current entry's history we are: none of it is kept.
    history_depth: usize,
    /// The key of the attribute being read (its `<Key>` comes before its `<Value>`).
    key: String,
    /// The character data just read: it may be a secret, so it is kept in a wiping buffer.
    text: Zeroizing<Vec<u8>>,
    /// The entries read at the wanted paths.
    found: Vec<ParsedEntry>,
    /// Whether the outermost element was `<KeePassFile>`.
    saw_root: bool,
}

impl ExportWalk {
    fn start(&mut self, name: Vec<u8>) {
        self.saw_root |= self.stack.is_empty() && name == b"KeePassFile";
        match name.as_slice() {
            b"Group" if self.entry.is_none() => {
                self.groups.push(String::new());
                self.group_uuids.push(String::new());
            }
            b"Entry" if self.entry.is_some() => self.history_depth += 1,
            b"Entry" => self.entry = Some(ParsedEntry::default()),
            _ => {}
        }
        self.text = Zeroizing::new(Vec::new());
        self.stack.push(name);
    }

    fn empty_value(&mut self) {
        if let Some(current) = self.entry.as_mut() {
            current
                .attributes
                .push((std::mem::take(&mut self.key), Zeroizing::new(Vec::new())));
        }
    }

    /// An element closes: what it held goes where it belongs, read by the element and its
    /// parent (a `<Name>` names a group, a `<Value>` in a `<String>` is an attribute's value).
    fn end(&mut self, name: &[u8], wanted: &[&str]) {
        self.stack.pop();
        let parent = self.stack.last().map(Vec::as_slice);
        let text_str = || String::from_utf8_lossy(&self.text).into_owned();
        match (name, parent) {
            (b"RecycleBinUUID", Some(b"Meta")) => self.recycle_bin_uuid = text_str(),
            (b"Name", Some(b"Group")) if self.entry.is_none() => {
                if let Some(g) = self.groups.last_mut() {
                    *g = text_str();
                }
            }
            (b"UUID", Some(b"Group")) if self.entry.is_none() => {
                if let Some(u) = self.group_uuids.last_mut() {
                    *u = text_str();
                }
            }
            (b"Group", _) if self.entry.is_none() => {
                self.groups.pop();
                self.group_uuids.pop();
            }
            (b"Entry", _) if self.history_depth > 0 => self.history_depth -= 1,
            _ if self.history_depth > 0 => {}
            (b"Key", Some(b"String")) => self.key = text_str(),
            (b"Value", Some(b"String")) => {
                if let Some(current) = self.entry.as_mut() {
                    current.attributes.push((
                        std::mem::take(&mut self.key),
                        std::mem::take(&mut self.text),
                    ));
                }
            }
            (b"LastModificationTime", Some(b"Times")) => {
                if let Some(current) = self.entry.as_mut() {
                    current.modified = Some(text_str());
                }
            }
            (b"Entry", _) => self.finish_entry(wanted),
            _ => {}
        }
        self.text = Zeroizing::new(Vec::new());
    }

    /// The current entry is complete: its path is the groups below the root and its title. It
    /// is kept when that path is wanted and it is not in the recycle bin.
    fn finish_entry(&mut self, wanted: &[&str]) {
        let mut done = self.entry.take().expect("an entry was started");
        let in_bin = !self.recycle_bin_uuid.is_empty()
            && self.recycle_bin_uuid != "AAAAAAAAAAAAAAAAAAAAAA=="
            && self.group_uuids.contains(&self.recycle_bin_uuid);
        let title = done
            .attributes
            .iter()
            .find(|(k, _)| k == "Title")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        // Below the root group: the root's own name is not part of a path.
        let mut path: Vec<&str> = self.groups.iter().skip(1).map(String::as_str).collect();
        path.push(&title);
        done.path = path.join("/");
        if !in_bin && wanted.contains(&done.path.as_str()) {
            self.found.push(done);
        }
    }
}

/// The attribute `name` of the entries at one path: exact name first, else the one that matches
/// regardless of case (`password` for `Password`).
fn outcome(reference: &Reference, entries: &[ParsedEntry]) -> Outcome {
    let (db, entry, attribute) = parts(reference);
    let at_path: Vec<&ParsedEntry> = entries.iter().filter(|e| e.path == entry).collect();
    let one = match at_path.as_slice() {
        [] => return Outcome::NotFound,
        [one] => one,
        many => {
            return Outcome::Failed(
                StoreError::new(format!(
                    "{} entries in {} are at `{entry}`",
                    many.len(),
                    db.display()
                ))
                .fix("rename or move one of them in KeePassXC so the path names one entry"),
            )
        }
    };
    let exact = one.attributes.iter().find(|(k, _)| k == attribute);
    let loose: Vec<_> = one
        .attributes
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(attribute))
        .collect();
    // KeePass entries always carry UserName, URL and Notes; empty means "not set", so a
    // fallback chain moves on rather than exporting an empty value.
    match (exact, loose.as_slice()) {
        (Some((_, v)), _) | (None, [(_, v)]) if !v.is_empty() => {
            Outcome::Found(SecretValue::new(v.to_vec()))
        }
        _ => Outcome::NotFound,
    }
}

impl Keepassxc {
    fn export(
        &self,
        db: &Path,
        refs: &[&Reference],
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Vec<ParsedEntry>, StoreError> {
        let unlock = unlock(db, timeout, ctx)?;
        self.export_with(db, &unlock, refs, timeout, ctx)
    }

    fn export_with(
        &self,
        db: &Path,
        unlock: &Unlock,
        refs: &[&Reference],
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Vec<ParsedEntry>, StoreError> {
        let out = cli(
            db,
            &["export", "-f", "xml"],
            None,
            unlock,
            None,
            timeout,
            ctx,
        )?;
        if !out.exit.success() {
            return Err(super::cli_failed_reading("keepassxc-cli", out, fix_for));
        }
        let wanted: Vec<&str> = refs.iter().map(|r| parts(r).1).collect();
        parse_export(out.stdout.expose(), &wanted)
    }
}

impl Store for Keepassxc {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("KeePassXC keeps it in the entry's history".to_string())
    }

    fn batch_key(&self, reference: &Reference) -> String {
        parts(reference).0.display().to_string()
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn fetches_whole_document(&self) -> bool {
        true
    }

    /// Asks for the database password on the terminal when nothing else gives it.
    fn may_prompt(&self, ctx: &Context) -> bool {
        match ctx
            .keepassxc
            .as_ref()
            .and_then(|o| o.password_from.as_ref())
        {
            // The password comes from that store: it prompts, or not, as that store does.
            Some(from) => store_for(from.store()).may_prompt(ctx),
            None => ctx.may_ask_on_terminal(),
        }
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &[]
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let Some(first) = refs.first() else {
            return Vec::new();
        };
        let db = parts(first).0;
        // A missing database is "not found", like file: and sops:, so a fallback chain goes on.
        if !db.exists() {
            return refs.iter().map(|_| Outcome::NotFound).collect();
        }
        match self.export(db, refs, timeout, ctx) {
            Ok(entries) => refs.iter().map(|r| outcome(r, &entries)).collect(),
            Err(e) => super::fail_batch(refs, e),
        }
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let (db, entry, _) = parts(reference);
        let entries = self.export(db, &[reference], timeout, ctx)?;
        Ok(entries
            .iter()
            .find(|e| e.path == entry)
            .and_then(|e| e.modified.as_deref())
            .and_then(crate::time::parse_rfc3339))
    }

    fn can_write(&self) -> bool {
        true
    }

    /// Only an entry's Password: keepassxc-cli takes every other attribute on argv.
    fn can_write_to(&self, reference: &Reference) -> bool {
        parts(reference).2 == "Password"
    }

    /// `keepassxc-cli edit -p DB ENTRY` (or `add -p` for a new entry), the database password and
    /// then the new value on stdin. Only the password can travel that way: keepassxc-cli takes
    /// every other attribute on argv, so writing one is refused.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let (db, entry, attribute) = parts(reference);
        if !self.can_write_to(reference) {
            return Err(StoreError::new(format!("keepassxc-cli takes `{attribute}` only on its command line, where other processes could read it"))
                .fix("set it in KeePassXC itself; jit-secrets writes only an entry's Password"));
        }
        if value.expose().contains(&b'\n') || value.expose().contains(&b'\r') {
            return Err(StoreError::new(
                "keepassxc-cli reads the new password as one line; this value has a line break",
            )
            .fix("store multi-line values in another store"));
        }
        if !db.exists() {
            return Err(
                StoreError::new(format!("there is no database at {}", db.display()))
                    .fix("create it with KeePassXC (or `keepassxc-cli db-create`) first"),
            );
        }
        let unlock = unlock(db, timeout, ctx)?;
        let exists = !self
            .export_with(db, &unlock, &[reference], timeout, ctx)?
            .is_empty();
        let verb = if exists { "edit" } else { "add" };
        let out = cli(
            db,
            &[verb, "-p"],
            Some(entry),
            &unlock,
            Some(value.expose()),
            timeout,
            ctx,
        )?;
        if out.exit.success() {
            Ok(())
        } else {
            let said = out.stderr.scrubbed(&Default::default());
            let fix = if said.contains("Could not create entry") {
                "create the entry's group in KeePassXC first (keepassxc-cli adds entries only to groups that exist)"
            } else {
                fix_for(&said)
            };
            Err(cli_failed("keepassxc-cli", out, fix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<KeePassFile><Meta><RecycleBinUUID>YmluYmluYmluYmluYmluYg==</RecycleBinUUID></Meta><Root>
<Group><UUID>cm9vdA==</UUID><Name>Root</Name>
 <Entry><String><Key>Title</Key><Value>a</Value></String>
  <String><Key>Password</Key><Value ProtectInMemory="True">x &lt;&amp;&gt; &#233;&#x263A; &quot;&apos;</Value></String>
  <String><Key>URL</Key><Value/></String>
  <Times><LastModificationTime>2021-01-01T00:00:00Z</LastModificationTime></Times>
  <History><Entry><String><Key>Title</Key><Value>a</Value></String><String><Key>Password</Key><Value>old</Value></String></Entry></History>
 </Entry>
 <Entry><String><Key>Title</Key><Value>twin</Value></String><String><Key>Password</Key><Value>1</Value></String></Entry>
 <Entry><String><Key>Title</Key><Value>twin</Value></String><String><Key>Password</Key><Value>2</Value></String></Entry>
 <Group><UUID>YmluYmluYmluYmluYmluYg==</UUID><Name>Recycle Bin</Name>
  <Entry><String><Key>Title</Key><Value>deleted</Value></String><String><Key>Password</Key><Value>gone</Value></String></Entry>
 </Group>
 <Group><UUID>Zw==</UUID><Name>G</Name><Group><UUID>aA==</UUID><Name>H</Name>
  <Entry><String><Key>Title</Key><Value>deep</Value></String><String><Key>Password</Key><Value>d</Value></String></Entry>
 </Group></Group>
</Group></Root></KeePassFile>"#;

    fn reference(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    fn value(o: Outcome) -> Option<Vec<u8>> {
        match o {
            Outcome::Found(v) => Some(v.expose().to_vec()),
            Outcome::NotFound => None,
            Outcome::Failed(e) => panic!("{}", e.message),
        }
    }

    #[test]
    fn paths_entities_history_bin_and_empty_values() {
        let wanted = ["a", "twin", "Recycle Bin/deleted", "G/H/deep"];
        let entries = parse_export(XML.as_bytes(), &wanted).unwrap();
        assert_eq!(
            value(outcome(&reference("keepassxc:d#a"), &entries)).unwrap(),
            "x <&> é☺ \"'".as_bytes()
        );
        assert_eq!(
            entries
                .iter()
                .find(|e| e.path == "a")
                .unwrap()
                .modified
                .as_deref(),
            Some("2021-01-01T00:00:00Z")
        );
        assert_eq!(
            value(outcome(&reference("keepassxc:d#a?attribute=URL"), &entries)),
            None,
            "empty is not set"
        );
        assert_eq!(
            value(outcome(&reference("keepassxc:d#G/H/deep"), &entries)).unwrap(),
            b"d"
        );
        assert_eq!(
            value(outcome(
                &reference("keepassxc:d#Recycle Bin/deleted"),
                &entries
            )),
            None,
            "the recycle bin is not read"
        );
        assert!(matches!(
            outcome(&reference("keepassxc:d#twin"), &entries),
            Outcome::Failed(_)
        ));
        assert!(
            !entries
                .iter()
                .any(|e| e.attributes.iter().any(|(_, v)| v.as_slice() == b"old")),
            "history is not read"
        );
        assert!(
            parse_export(b"", &wanted).is_err(),
            "nothing is not an export"
        );
        assert!(unescape_wiping(b"&bogus;").is_none());
    }
}
