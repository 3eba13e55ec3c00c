//! Linux: the freedesktop Secret Service over D-Bus (gnome-keyring, KeePassXC, KWallet's bridge),
//! with a Diffie-Hellman session so secrets never cross the bus in clear.

use super::Lookup;
use crate::secret::SecretValue;
use crate::stores::{Outcome, StoreError};
use secret_service::blocking::{Item, SecretService};
use secret_service::{EncryptionType, Error};
use std::collections::HashMap;

const ALTERNATIVES: &str = "start a Secret Service (gnome-keyring, KeePassXC) in this session, or use pass:, file: or env: (in CI) instead";

/// One line for any failure: what went wrong and what to do, never a stack of D-Bus errors.
fn explain(e: Error) -> StoreError {
    match e {
        Error::Unavailable => no_service(),
        Error::Locked => locked(),
        Error::Prompt | Error::PromptDisconnected => {
            StoreError::new("the keyring unlock prompt was dismissed")
                .fix("unlock the keyring and try again")
        }
        Error::Zbus(z) => {
            let text = z.to_string();
            if text.contains("ServiceUnknown")
                || text.contains("NameHasNoOwner")
                || text.contains("was not provided by any .service")
                || text.contains("Failed to connect")
                || text.contains("Connection refused")
            {
                no_service()
            } else if text.contains("IsLocked") {
                locked()
            } else if text.contains("NoReply") || text.contains("Timeout") {
                StoreError::new(NO_REPLY)
                    .fix("check gnome-keyring (or your Secret Service) is responsive")
            } else {
                StoreError::new(format!("the Secret Service refused: {}", first_line(&text)))
                    .fix(ALTERNATIVES)
            }
        }
        other => StoreError::new(format!(
            "the Secret Service failed: {}",
            first_line(&other.to_string())
        ))
        .fix(ALTERNATIVES),
    }
}

const NO_REPLY: &str = "the Secret Service did not reply";

/// The bus answers NoReply for the service when it dropped a call unanswered, which gnome-keyring
/// does now and then on a loaded machine. Every operation here is safe to repeat (a read, a
/// replace with the same value, a delete), so it is asked once more before that becomes the error.
fn once_more_if_dropped<T>(op: impl Fn() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match op() {
        Err(e) if e.message == NO_REPLY => op(),
        done => done,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn no_service() -> StoreError {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_else(|_| "unset".into());
    StoreError::new(format!(
        "no Secret Service is reachable on the D-Bus session bus (DBUS_SESSION_BUS_ADDRESS={bus})"
    ))
    .fix(ALTERNATIVES)
}

fn locked() -> StoreError {
    StoreError::new("the login keyring is locked").fix("unlock it (log in to the desktop, or run on a terminal without --no-prompt), or use pass:/vault:")
}

fn connect() -> Result<SecretService<'static>, StoreError> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR").is_none()
    {
        return Err(no_service());
    }
    SecretService::connect(EncryptionType::Dh).map_err(explain)
}

/// The attribute a project-scoped item carries (`keyring_scope = "project"`): the canonical path
/// of the manifest's directory, so two checkouts of one app keep separate values.
pub const PROJECT_ATTRIBUTE: &str = "jit-secrets-project";

/// The attribute sets a lookup tries, in order: secret-tool's, then the keyring crate's. A
/// project-scoped lookup requires the project attribute too: a global item does not match it.
fn attribute_sets(l: &Lookup) -> Vec<HashMap<&str, &str>> {
    let mut sets = vec![
        HashMap::from([
            ("service", l.service.as_str()),
            ("account", l.account.as_str()),
        ]),
        HashMap::from([
            ("service", l.service.as_str()),
            ("username", l.account.as_str()),
        ]),
    ];
    if let Some(project) = &l.project {
        for set in &mut sets {
            set.insert(PROJECT_ATTRIBUTE, project.as_str());
        }
    }
    sets
}

/// Is there an item for `l` without the project attribute (a global one)? For the not-found note
/// of a project-scoped lookup.
pub fn global_item_exists(l: &Lookup) -> bool {
    let global = Lookup {
        project: None,
        ..l.clone()
    };
    let Ok(ss) = connect() else {
        return false;
    };
    attribute_sets(&global).into_iter().any(|attrs| {
        ss.search_items(attrs)
            .map(|r| r.unlocked.into_iter().chain(r.locked).collect::<Vec<_>>())
            .map_err(explain)
            .and_then(|items| scoped(items, &global))
            .is_ok_and(|items| !items.is_empty())
    })
}

/// Does `item` belong to the scope `l` asks for? The Secret Service matches items that carry *at
/// least* the attributes asked for, so a global lookup would also match every project's scoped
/// item of the same service: a global lookup takes only items without the project attribute, a
/// scoped one only its own project's (the search already required that).
fn in_scope(item: &Item<'_>, l: &Lookup) -> Result<bool, StoreError> {
    let attributes = item.get_attributes().map_err(explain)?;
    Ok(attributes.get(PROJECT_ATTRIBUTE).map(String::as_str) == l.project.as_deref())
}

/// The items of `found` in `l`'s scope.
fn scoped<'a>(items: Vec<Item<'a>>, l: &Lookup) -> Result<Vec<Item<'a>>, StoreError> {
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if in_scope(&item, l)? {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// The schema secret-tool and the keyring libraries give generic passwords.
const GENERIC_SCHEMA: &str = "org.freedesktop.Secret.Generic";

/// Is an item with `attributes` exactly what lookup `l` means — ours to replace or delete? Its
/// attributes are the service, the account (as `account`, `username` or both), the project
/// attribute exactly when `l` is scoped, and at most the generic schema. Anything more (another
/// application's schema, an `application` attribute, any extra key) is another program's item:
/// it may be read, never changed, re-labelled or deleted.
fn is_exactly(attributes: &HashMap<String, String>, l: &Lookup) -> bool {
    let mut names_account = false;
    for (key, value) in attributes {
        match key.as_str() {
            "service" if *value == l.service => {}
            "account" | "username" if *value == l.account => names_account = true,
            "xdg:schema" if value == GENERIC_SCHEMA => {}
            PROJECT_ATTRIBUTE if Some(value.as_str()) == l.project.as_deref() => {}
            _ => return false,
        }
    }
    names_account
        && attributes.contains_key("service")
        && attributes.contains_key(PROJECT_ATTRIBUTE) == l.project.is_some()
}

/// Is an item with `attributes` exactly a `secret-tool:` reference's: the attributes asked for,
/// and at most the generic schema besides.
fn is_exactly_these(attributes: &HashMap<String, String>, wanted: &[(String, String)]) -> bool {
    attributes.iter().all(|(k, v)| {
        wanted.iter().any(|(wk, wv)| wk == k && wv == v)
            || (k == "xdg:schema" && v == GENERIC_SCHEMA)
    }) && wanted.iter().all(|(k, v)| attributes.get(k) == Some(v))
}

/// Items exactly matching (`is_ours`) the union of the `searches`: (unlocked, locked), each item
/// once, with its attributes.
#[allow(clippy::type_complexity)]
fn exact_items<'a>(
    ss: &'a SecretService<'a>,
    searches: Vec<HashMap<&str, &str>>,
    is_ours: &dyn Fn(&HashMap<String, String>) -> bool,
) -> Result<
    (
        Vec<(Item<'a>, HashMap<String, String>)>,
        Vec<(Item<'a>, HashMap<String, String>)>,
    ),
    StoreError,
> {
    let mut unlocked = Vec::new();
    let mut locked = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for attrs in searches {
        let result = ss.search_items(attrs).map_err(explain)?;
        for (item, is_locked) in result
            .unlocked
            .into_iter()
            .map(|i| (i, false))
            .chain(result.locked.into_iter().map(|i| (i, true)))
        {
            if !seen.insert(item.item_path.to_string()) {
                continue;
            }
            let attributes = item.get_attributes().map_err(explain)?;
            if is_ours(&attributes) {
                if is_locked {
                    locked.push((item, attributes));
                } else {
                    unlocked.push((item, attributes));
                }
            }
        }
    }
    Ok((unlocked, locked))
}

/// The items whose attributes are exactly `attributes` (a `secret-tool:` reference's).
#[allow(clippy::type_complexity)]
fn exactly_these<'a>(
    ss: &'a SecretService<'a>,
    attributes: &[(String, String)],
) -> Result<
    (
        Vec<(Item<'a>, HashMap<String, String>)>,
        Vec<(Item<'a>, HashMap<String, String>)>,
    ),
    StoreError,
> {
    let search: HashMap<&str, &str> = attributes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    exact_items(ss, vec![search], &|a| is_exactly_these(a, attributes))
}

/// Items as a person is shown them before a delete: unlocked ones, then locked ones, marked.
fn named(
    unlocked: &[(Item<'_>, HashMap<String, String>)],
    locked: &[(Item<'_>, HashMap<String, String>)],
) -> Vec<String> {
    unlocked
        .iter()
        .map(|(i, _)| describe(i))
        .chain(
            locked
                .iter()
                .map(|(i, _)| format!("{} (locked)", describe(i))),
        )
        .collect()
}

/// How an item is named to a person: its label and where it is.
fn describe(item: &Item<'_>) -> String {
    let label = item.get_label().unwrap_or_default();
    format!(
        "\"{}\" ({})",
        crate::printable::escaped(&label),
        item.item_path.as_str()
    )
}

enum Found<'a> {
    Item(Item<'a>),
    Locked(Vec<Item<'a>>),
    Nothing,
}

/// Items in the default collection first, then any other unlocked collection.
fn find<'a>(
    ss: &'a SecretService<'a>,
    default_path: Option<&str>,
    attrs: &HashMap<&str, &str>,
    l: &Lookup,
) -> Result<Found<'a>, StoreError> {
    let result = ss.search_items(attrs.clone()).map_err(explain)?;
    let mut unlocked = scoped(result.unlocked, l)?;
    let locked = scoped(result.locked, l)?;
    // Our own item (the one `set` writes) before another program's with the same service and
    // account; then the default collection's before any other's.
    let mut ranked = Vec::with_capacity(unlocked.len());
    for item in unlocked.drain(..) {
        let exact = item
            .get_attributes()
            .map(|a| is_exactly(&a, l))
            .unwrap_or(false);
        let in_default =
            default_path.is_some_and(|d| item.item_path.as_str().starts_with(&format!("{d}/")));
        ranked.push(((!exact, !in_default), item));
    }
    ranked.sort_by_key(|(rank, _)| *rank);
    unlocked = ranked.into_iter().map(|(_, item)| item).collect();
    if let Some(item) = unlocked.into_iter().next() {
        return Ok(Found::Item(item));
    }
    if !locked.is_empty() {
        return Ok(Found::Locked(locked));
    }
    Ok(Found::Nothing)
}

fn lookup_one<'a>(
    ss: &'a SecretService<'a>,
    default_path: Option<&str>,
    l: &Lookup,
    prompt: bool,
) -> Result<Option<Item<'a>>, StoreError> {
    let mut locked_items = Vec::new();
    for attrs in attribute_sets(l) {
        match find(ss, default_path, &attrs, l)? {
            Found::Item(item) => return Ok(Some(item)),
            Found::Locked(items) => locked_items.extend(items),
            Found::Nothing => {}
        }
    }
    if locked_items.is_empty() {
        return Ok(None);
    }
    if !prompt {
        return Err(locked());
    }
    let first = locked_items.remove(0);
    ss.unlock_all(&[&first]).map_err(explain)?;
    Ok(Some(first))
}

/// The object path of the default collection (the `default` alias), if there is one.
fn default_collection_path(ss: &SecretService<'_>) -> Option<String> {
    ss.get_default_collection()
        .ok()
        .map(|c| c.collection_path.to_string())
}

/// Lookups in flight at once on the one connection: each lookup is a few round trips to the
/// Secret Service, and overlapping them hides most of that latency.
const IN_FLIGHT: usize = 8;

fn fetch_one(
    ss: &SecretService<'_>,
    default_path: Option<&str>,
    l: &Lookup,
    prompt: bool,
) -> Outcome {
    // Each lookup is its own few calls: one the service drops is asked again here, not by
    // failing the whole batch.
    let found = once_more_if_dropped(|| match lookup_one(ss, default_path, l, prompt)? {
        Some(item) => item.get_secret().map(Some).map_err(explain),
        None => Ok(None),
    });
    match found {
        Ok(Some(bytes)) => Outcome::Found(SecretValue::new(bytes)),
        Ok(None) => Outcome::NotFound,
        Err(e) => Outcome::Failed(e),
    }
}

pub fn fetch_all(lookups: &[Lookup], prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    once_more_if_dropped(|| fetch_all_once(lookups, prompt))
}

fn fetch_all_once(lookups: &[Lookup], prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    let ss = connect()?;
    let default_path = default_collection_path(&ss);
    let default_path = default_path.as_deref();
    if prompt || lookups.len() == 1 {
        // An unlock prompt must not race another: one at a time.
        return Ok(lookups
            .iter()
            .map(|l| fetch_one(&ss, default_path, l, prompt))
            .collect());
    }
    let chunk = lookups.len().div_ceil(IN_FLIGHT);
    let ss = &ss;
    Ok(std::thread::scope(|scope| {
        let handles: Vec<_> = lookups
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|l| fetch_one(ss, default_path, l, false))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("keyring lookup thread"))
            .collect()
    }))
}

/// The label `set` gives new items, readable in Seahorse and `secret-tool search`.
fn label(lookup: &Lookup) -> String {
    match &lookup.project {
        Some(project) => format!(
            "jit-secrets: {} ({}) for {project}",
            lookup.service, lookup.account
        ),
        None => format!("jit-secrets: {} ({})", lookup.service, lookup.account),
    }
}

/// The item's `Modified` property (Unix seconds).
pub fn modified(l: &Lookup, prompt: bool) -> Result<Option<i64>, StoreError> {
    once_more_if_dropped(|| modified_once(l, prompt))
}

fn modified_once(l: &Lookup, prompt: bool) -> Result<Option<i64>, StoreError> {
    let ss = connect()?;
    let default_path = default_collection_path(&ss);
    let found = lookup_one(&ss, default_path.as_deref(), l, prompt)?;
    let modified = match found {
        Some(item) => Some(item.get_modified().map_err(explain)? as i64),
        None => None,
    };
    Ok(modified)
}

/// The attributes an item we write carries: secret-tool's convention (`service`, `account`, what
/// Flox documents) and the one the Python `keyring` library, the Rust `keyring` crate and fnox
/// look up (`service`, `username`), on the one item, so every one of them finds what we store.
fn written_attributes(l: &Lookup) -> HashMap<&str, &str> {
    let mut attrs = HashMap::from([
        ("service", l.service.as_str()),
        ("account", l.account.as_str()),
        ("username", l.account.as_str()),
        ("xdg:schema", "org.freedesktop.Secret.Generic"),
    ]);
    if let Some(project) = &l.project {
        attrs.insert(PROJECT_ATTRIBUTE, project.as_str());
    }
    attrs
}

/// Replaces the secret of the item a lookup finds (adding whichever of `account` / `username` it
/// lacks, keeping its other attributes), or creates one in the default collection. Never a
/// second item for the same lookup.
pub fn store(l: &Lookup, value: &SecretValue, prompt: bool) -> Result<(), StoreError> {
    once_more_if_dropped(|| store_once(l, value, prompt))
}

fn store_once(l: &Lookup, value: &SecretValue, prompt: bool) -> Result<(), StoreError> {
    let ss = connect()?;
    let (mut unlocked, locked) = exact_items(&ss, searches_for(l), &|a| is_exactly(a, l))?;
    if unlocked.len() + locked.len() > 1 {
        let all: Vec<String> = unlocked
            .iter()
            .chain(&locked)
            .map(|(i, _)| describe(i))
            .collect();
        return Err(StoreError::new(format!(
            "{} items are exactly {} ({}): {}; nothing written",
            all.len(),
            l.service,
            l.account,
            all.join(", ")
        ))
        .fix(
            "delete the ones you do not want (Seahorse, or `jit-secrets delete`), then set again",
        ));
    }
    if let Some((item, _)) = locked.into_iter().next() {
        if !prompt {
            return Err(locked_error());
        }
        ss.unlock_all(&[&item]).map_err(explain)?;
        unlocked.push((item, HashMap::new()));
    }
    if let Some((item, attributes)) = unlocked.into_iter().next() {
        item.set_secret(value.expose(), "text/plain")
            .map_err(explain)?;
        // Adds whichever of `account` / `username` it lacks (so secret-tool and the keyring
        // libraries all find it); its label, its schema and everything else stay as they were.
        let attributes = if attributes.is_empty() {
            item.get_attributes().map_err(explain)?
        } else {
            attributes
        };
        let missing: Vec<&str> = ["account", "username"]
            .into_iter()
            .filter(|k| !attributes.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            let mut kept: HashMap<&str, &str> = attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            for key in missing {
                kept.insert(key, l.account.as_str());
            }
            // The value is stored: the item is already found by this lookup (it names the
            // account one way), so a refusal here is not the write failing, and is not reported
            // as one. Other tools may just not find it by the other attribute name.
            let _ = item.set_attributes(kept);
        }
        return Ok(());
    }
    let collection = collection_for_new_items(&ss, prompt)?;
    // `replace = false`: gnome-keyring's replace takes any item whose attributes include the new
    // item's, so a global item created with it would replace a project's scoped item (or another
    // application's). No item of ours exists (looked up above), so there is nothing to replace.
    collection
        .create_item(
            &label(l),
            written_attributes(l),
            value.expose(),
            false,
            "text/plain",
        )
        .map_err(explain)?;
    Ok(())
}

/// Where a new item goes: the default collection (else any), unlocked if a person may be asked.
fn collection_for_new_items<'a>(
    ss: &'a SecretService<'a>,
    prompt: bool,
) -> Result<secret_service::blocking::Collection<'a>, StoreError> {
    let collection = ss
        .get_default_collection()
        .or_else(|_| ss.get_any_collection())
        .map_err(explain)?;
    if collection.is_locked().map_err(explain)? {
        if !prompt {
            return Err(locked());
        }
        collection.unlock().map_err(explain)?;
    }
    Ok(collection)
}

/// The searches that find every item that could be exactly `l`'s (by `account`, by `username`).
fn searches_for(l: &Lookup) -> Vec<HashMap<&str, &str>> {
    attribute_sets(l)
}

/// [`locked`], where a local of that name shadows it.
fn locked_error() -> StoreError {
    locked()
}

/// What `delete` would remove for `l`: each item exactly `l`'s, named (label and path).
pub fn matching(l: &Lookup) -> Result<Vec<String>, StoreError> {
    once_more_if_dropped(|| {
        let ss = connect()?;
        let (unlocked, locked) = exact_items(&ss, searches_for(l), &|a| is_exactly(a, l))?;
        Ok(named(&unlocked, &locked))
    })
}

pub fn delete(l: &Lookup, prompt: bool) -> Result<usize, StoreError> {
    once_more_if_dropped(|| delete_once(l, prompt))
}

fn delete_once(l: &Lookup, _prompt: bool) -> Result<usize, StoreError> {
    let ss = connect()?;
    let (unlocked, locked) = exact_items(&ss, searches_for(l), &|a| is_exactly(a, l))?;
    delete_items(unlocked, locked)
}

/// Deletes exactly these items, or nothing when any is locked: a locked collection is not
/// unlocked to delete from it. How many went.
fn delete_items(
    unlocked: Vec<(Item<'_>, HashMap<String, String>)>,
    locked: Vec<(Item<'_>, HashMap<String, String>)>,
) -> Result<usize, StoreError> {
    if !locked.is_empty() {
        let names: Vec<String> = locked.iter().map(|(i, _)| describe(i)).collect();
        return Err(StoreError::new(format!(
            "{} is in a locked collection; nothing deleted",
            names.join(", ")
        ))
        .fix("unlock the keyring (log in to the desktop, or Seahorse), then delete again"));
    }
    let mut deleted = 0;
    for (item, _) in &unlocked {
        item.delete().map_err(explain)?;
        deleted += 1;
    }
    Ok(deleted)
}

/// `secret-tool:` writes, in-process: the one item whose attributes are exactly these (plus the
/// generic schema) gets the new secret, keeping its label; none: a new item. Never `secret-tool
/// store`, whose "replace" takes any item that merely includes these attributes (another
/// application's, with its own schema).
pub fn store_exactly(
    attributes: &[(String, String)],
    label: &str,
    value: &SecretValue,
    prompt: bool,
) -> Result<(), StoreError> {
    once_more_if_dropped(|| {
        let ss = connect()?;
        let (unlocked, locked) = exactly_these(&ss, attributes)?;
        let all: Vec<&Item> = unlocked.iter().chain(&locked).map(|(i, _)| i).collect();
        match all.as_slice() {
            [] => {
                let collection = collection_for_new_items(&ss, prompt)?;
                let mut written: HashMap<&str, &str> = attributes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                written.insert("xdg:schema", GENERIC_SCHEMA);
                collection
                    .create_item(label, written, value.expose(), false, "text/plain")
                    .map_err(explain)?;
                Ok(())
            }
            [item] => {
                if !locked.is_empty() {
                    if !prompt {
                        return Err(locked_error());
                    }
                    ss.unlock_all(&[item]).map_err(explain)?;
                }
                item.set_secret(value.expose(), "text/plain")
                    .map_err(explain)
            }
            many => Err(StoreError::new(format!(
                "{} items have exactly these attributes: {}; nothing written",
                many.len(),
                many.iter()
                    .map(|i| describe(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .fix("delete the ones you do not want, then set again")),
        }
    })
}

/// `secret-tool:` deletes: exactly these attributes' items (see [`store_exactly`]), none locked.
pub fn delete_exactly(attributes: &[(String, String)]) -> Result<usize, StoreError> {
    once_more_if_dropped(|| {
        let ss = connect()?;
        let (unlocked, locked) = exactly_these(&ss, attributes)?;
        delete_items(unlocked, locked)
    })
}

/// What deleting a `secret-tool:` reference would remove, named.
pub fn matching_exactly(attributes: &[(String, String)]) -> Result<Vec<String>, StoreError> {
    once_more_if_dropped(|| {
        let ss = connect()?;
        let (unlocked, locked) = exactly_these(&ss, attributes)?;
        Ok(named(&unlocked, &locked))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_dropped_call_is_asked_once_more_and_only_once() {
        let calls = Cell::new(0);
        let answered = once_more_if_dropped(|| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                Err(StoreError::new(NO_REPLY))
            } else {
                Ok(7)
            }
        });
        assert_eq!((answered.ok(), calls.get()), (Some(7), 2));

        let calls = Cell::new(0);
        let answered: Result<(), _> = once_more_if_dropped(|| {
            calls.set(calls.get() + 1);
            Err(StoreError::new(NO_REPLY))
        });
        assert_eq!(
            (answered.unwrap_err().message, calls.get()),
            (NO_REPLY.to_string(), 2)
        );

        let calls = Cell::new(0);
        let answered: Result<(), _> = once_more_if_dropped(|| {
            calls.set(calls.get() + 1);
            Err(locked())
        });
        assert!(answered.is_err());
        assert_eq!(
            calls.get(),
            1,
            "only a dropped call is repeated, never a refusal"
        );
    }
}
