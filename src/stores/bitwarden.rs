//! `bitwarden:ITEM[#FIELD]` — the Bitwarden password manager through `bw`, with the user's
//! unlocked session (`BW_SESSION`). jit-secrets never asks for the master password: `bw` runs
//! with `--nointeraction`, and a locked vault is an error that says `bw unlock`.
//!
//! Which call: every `bw` start costs about 0.6 s of Node.js CPU (measured with `bw` 2026.6.0:
//! `bw --version` 0.69 s, `bw get item x` 0.58 s), so several items come from ONE
//! `bw list items`; a single item by id from `bw get item ID`, and a single item by name from
//! `bw list items --search=NAME`. Names are matched exactly here: `bw get item NAME` is a
//! substring search (it would hand back "GitHub Enterprise" for `github` when that is the only
//! match), which is not a reference.

use super::{
    cli_failed, decode_json_items, json_field_value, parse_json, run_cli, wipe_json, Outcome,
    Store, StoreError,
};
use crate::context::Context;
use crate::process::Child;
use crate::reference::{is_uuid, Reference};
use crate::secret::SecretValue;
use serde_json::Value;
use std::time::Duration;

pub struct Bitwarden;

const INSTALL: &str = "install the Bitwarden CLI (`npm install -g @bitwarden/cli`)";

/// The fix for what `bw` said.
fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("Vault is locked") {
        "run `bw unlock` and export the BW_SESSION it prints (jit-secrets never asks for your master password)"
    } else if stderr.contains("You are not logged in") {
        "run `bw login`, then `bw unlock`, and export the BW_SESSION it prints"
    } else {
        "run the `bw` command by hand to see; check BW_SESSION"
    }
}

fn parts(reference: &Reference) -> (&str, &str) {
    match reference {
        Reference::Bitwarden { item, field } => (item, field.as_deref().unwrap_or("password")),
        other => unreachable!("bitwarden store got {other}"),
    }
}

fn bw(ctx: &Context, timeout: Duration) -> Child<'static> {
    Child::new(ctx.command("bw"), timeout).arg("--nointeraction")
}

/// The value of `field` in one item: `password`, `username`, `totp` (the TOTP secret, not a
/// current code, which would expire half a minute after activation) and `notes` are the item's
/// own; anything else is a custom field of that exact name (a linked custom field gives the
/// login property it links to).
fn field_of(item: &Value, field: &str) -> Option<SecretValue> {
    let login = &item["login"];
    let v = match field {
        "password" => &login["password"],
        "username" => &login["username"],
        "totp" => &login["totp"],
        "notes" => &item["notes"],
        name => {
            let custom = item["fields"]
                .as_array()?
                .iter()
                .find(|f| f["name"].as_str() == Some(name))?;
            // Linked fields (type 3) carry no value, only which login property they show.
            match (custom["type"].as_u64(), custom["linkedId"].as_u64()) {
                (Some(3), Some(100)) => &login["username"],
                (Some(3), Some(101)) => &login["password"],
                _ => &custom["value"],
            }
        }
    };
    (!v.is_null()).then(|| json_field_value(v))
}

/// The items `item` names: the one with that id, else every one with exactly that name.
fn matching<'a>(items: &'a [Value], item: &str) -> Vec<&'a Value> {
    let by_id: Vec<&Value> = items
        .iter()
        .filter(|i| {
            i["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(item))
        })
        .collect();
    if !by_id.is_empty() {
        return by_id;
    }
    items
        .iter()
        .filter(|i| i["name"].as_str() == Some(item))
        .collect()
}

/// One outcome from the items that matched.
fn outcome(reference: &Reference, found: &[&Value]) -> Outcome {
    let (item, field) = parts(reference);
    match found {
        [] => Outcome::NotFound,
        [one] => match field_of(one, field) {
            Some(v) => Outcome::Found(v),
            None => Outcome::NotFound,
        },
        many => {
            let ids: Vec<&str> = many.iter().filter_map(|i| i["id"].as_str()).collect();
            Outcome::Failed(
                StoreError::new(format!("{} Bitwarden items are named `{item}`", many.len())).fix(
                    format!(
                        "name one by its id instead, e.g. `bitwarden:{}#{field}` (the ids: {})",
                        ids.first().unwrap_or(&"ID"),
                        ids.join(", ")
                    ),
                ),
            )
        }
    }
}

impl Bitwarden {
    /// The items that may answer `refs`, as one JSON array; `Err` for a store failure.
    fn items(
        &self,
        refs: &[&Reference],
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Value, StoreError> {
        let child = match refs {
            [one] if is_uuid(parts(one).0) => bw(ctx, timeout).args(["get", "item", parts(one).0]),
            [one] => bw(ctx, timeout)
                .args(["list", "items"])
                .arg(format!("--search={}", parts(one).0)),
            _ => bw(ctx, timeout).args(["list", "items"]),
        };
        let out = run_cli(child, INSTALL)?;
        if !out.exit.success() {
            let said = out.stderr.scrubbed(&Default::default());
            if said.trim() == "Not found." {
                return Ok(Value::Array(Vec::new()));
            }
            let fix = fix_for(&said);
            return Err(cli_failed("bw", out, fix));
        }
        let doc = parse_json(out.stdout.expose(), "bw")?;
        super::as_item_list(doc, "bw", "an item or a list of items")
    }

    /// The one item `reference` names, for writing and for its age.
    fn the_item(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<Value>, StoreError> {
        let doc = self.items(&[reference], timeout, ctx)?;
        let items = decode_json_items(&doc);
        let found = matching(items, parts(reference).0);
        let result = match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            _ => match outcome(reference, &found) {
                Outcome::Failed(e) => Err(e),
                _ => unreachable!("several items are a failure"),
            },
        };
        wipe_json(doc);
        result
    }
}

impl Store for Bitwarden {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("Bitwarden keeps it in the item's password history".to_string())
    }

    fn cache_context(&self) -> &'static [&'static str] {
        &["BITWARDENCLI_APPDATA_DIR"]
    }

    fn batch_key(&self, _reference: &Reference) -> String {
        String::new()
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn fetches_whole_document(&self) -> bool {
        true
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let doc = match self.items(refs, timeout, ctx) {
            Ok(doc) => doc,
            Err(e) => return super::fail_batch(refs, e),
        };
        let items = decode_json_items(&doc);
        let outcomes = refs
            .iter()
            .map(|r| outcome(r, &matching(items, parts(r).0)))
            .collect();
        wipe_json(doc);
        outcomes
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        match self.the_item(reference, timeout, ctx)? {
            Some(item) => {
                let when = crate::time::from_json(&item["revisionDate"]);
                wipe_json(item);
                Ok(when)
            }
            None => Ok(None),
        }
    }

    fn can_write(&self) -> bool {
        true
    }

    /// Edits the item (`bw edit item ID`, the changed item as base64 JSON on stdin) or, when no
    /// item has that name, creates a login item with it (`bw create item`, also on stdin).
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let (name, field) = parts(reference);
        let Ok(text) = std::str::from_utf8(value.expose()) else {
            return Err(
                StoreError::new("Bitwarden stores text; this value is not UTF-8")
                    .fix("store binary values base64-encoded"),
            );
        };
        let existing = self.the_item(reference, timeout, ctx)?;
        let (mut item, id) = match existing {
            Some(item) => {
                let id = item["id"].as_str().unwrap_or_default().to_string();
                (item, Some(id))
            }
            None if is_uuid(name) => {
                return Err(
                    StoreError::new(format!("no Bitwarden item has the id {name}"))
                        .fix("name a new item by its name, not an id"),
                )
            }
            None => (
                serde_json::json!({
                    "organizationId": null, "collectionIds": null, "folderId": null,
                    "type": 1, "name": name, "notes": null, "favorite": false, "fields": [],
                    "login": {"uris": [], "username": null, "password": null, "totp": null},
                    "secureNote": null, "card": null, "identity": null, "reprompt": 0
                }),
                None,
            ),
        };
        let new_value = Value::String(text.to_string());
        // Only a login item has a password, username or TOTP: on a secure note, card or identity
        // `bw` would accept `login.password` and ignore it, and "stored" would be a lie.
        if matches!(field, "password" | "username" | "totp") && item["type"].as_u64() != Some(1) {
            let kind = match item["type"].as_u64() {
                Some(2) => "a secure note",
                Some(3) => "a card",
                Some(4) => "an identity",
                _ => "not a login item",
            };
            wipe_json(item);
            return Err(StoreError::new(format!(
                "`{name}` is {kind}, which has no {field}; nothing written"
            ))
            .fix(format!(
                "write a custom field instead (bitwarden:{name}#FIELD), or the notes (#notes)"
            )));
        }
        match field {
            "password" | "username" | "totp" => item["login"][field] = new_value,
            "notes" => item["notes"] = new_value,
            custom => {
                if !item["fields"].is_array() {
                    item["fields"] = Value::Array(Vec::new());
                }
                let fields = item["fields"].as_array_mut().expect("made an array above");
                match fields.iter_mut().find(|f| f["name"].as_str() == Some(custom)) {
                    Some(f) => {
                        f["value"] = new_value;
                        f["type"] = 1.into();
                        f["linkedId"] = Value::Null;
                    }
                    // Type 1 is a hidden field: shown masked in Bitwarden's apps.
                    None => fields.push(serde_json::json!({"name": custom, "value": new_value, "type": 1, "linkedId": null})),
                }
            }
        }
        let json = super::json_to_wiping(&item);
        wipe_json(item);
        let encoded = super::encode_base64(&json);
        let child = match &id {
            Some(id) => bw(ctx, timeout).args(["edit", "item", id.as_str()]),
            None => bw(ctx, timeout).args(["create", "item"]),
        }
        .stdin(&encoded);
        // The answer is the whole item again, values and all: parse nothing, keep nothing.
        super::succeeded("bw", run_cli(child, INSTALL)?, fix_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, name: &str) -> Value {
        serde_json::json!({
            "object": "item", "id": id, "name": name, "type": 1, "notes": "n",
            "login": {"username": "u", "password": "p", "totp": null},
            "fields": [
                {"name": "API key", "value": "k", "type": 1, "linkedId": null},
                {"name": "who", "value": null, "type": 3, "linkedId": 100}
            ]
        })
    }

    #[test]
    fn fields_and_exact_matching() {
        let items = vec![
            item("99ee88d2-6046-4ea7-92c2-acac464b1412", "GitHub Enterprise"),
            item("0f0e88d2-6046-4ea7-92c2-acac464b1412", "twin"),
            item("1f0e88d2-6046-4ea7-92c2-acac464b1412", "twin"),
        ];
        assert!(
            matching(&items, "GitHub").is_empty(),
            "no substring matches"
        );
        assert_eq!(matching(&items, "GitHub Enterprise").len(), 1);
        assert_eq!(
            matching(&items, "99EE88D2-6046-4ea7-92c2-acac464b1412").len(),
            1
        );
        let one = &items[0];
        for (field, want) in [
            ("password", Some("p")),
            ("username", Some("u")),
            ("notes", Some("n")),
            ("API key", Some("k")),
            ("who", Some("u")),
            ("totp", None),
            ("nope", None),
        ] {
            assert_eq!(
                field_of(one, field).map(|v| v.expose().to_vec()),
                want.map(|w| w.as_bytes().to_vec()),
                "{field}"
            );
        }
        let twin = Reference::parse("bitwarden:twin").unwrap();
        match outcome(&twin, &matching(&items, "twin")) {
            Outcome::Failed(e) => assert!(e
                .fix
                .unwrap()
                .contains("0f0e88d2-6046-4ea7-92c2-acac464b1412")),
            other => panic!("{other:?}"),
        }
    }
}
