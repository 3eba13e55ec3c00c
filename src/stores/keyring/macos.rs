//! macOS: generic-password items in the login Keychain, the ones
//! `security add-generic-password -s SERVICE -a ACCOUNT -w` creates.

use super::Lookup;
use crate::secret::SecretValue;
use crate::stores::{Outcome, StoreError};
use security_framework::passwords::{
    delete_generic_password, get_generic_password, set_generic_password,
};

const ITEM_NOT_FOUND: i32 = -25300; // errSecItemNotFound
const INTERACTION_NOT_ALLOWED: i32 = -25308; // errSecInteractionNotAllowed: locked, no UI

fn explain(e: security_framework::base::Error) -> StoreError {
    if e.code() == INTERACTION_NOT_ALLOWED {
        StoreError::new("the login keychain is locked")
            .fix("unlock it (`security unlock-keychain`), or use pass:/vault:")
    } else {
        StoreError::new(format!("the Keychain refused: {e}"))
            .fix("run `security find-generic-password -s SERVICE -a ACCOUNT` to see")
    }
}

/// The Keychain item's account: project-scoped items (`keyring_scope = "project"`) carry the
/// project's path after the account, as generic passwords have no other attribute to hold it.
fn account(l: &Lookup) -> String {
    match &l.project {
        Some(project) => format!("{} [{project}]", l.account),
        None => l.account.clone(),
    }
}

/// Is there a global item for `l` (for the not-found note of a project-scoped lookup)?
pub fn global_item_exists(l: &Lookup) -> bool {
    get_generic_password(&l.service, &l.account).is_ok()
}

pub fn fetch_all(lookups: &[Lookup], prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    Ok(lookups
        .iter()
        .map(|l| {
            let found = if prompt {
                get_generic_password(&l.service, &account(l))
            } else {
                get_without_ui(l)
            };
            match found {
                Ok(bytes) => Outcome::Found(SecretValue::new(bytes)),
                Err(e) if e.code() == ITEM_NOT_FOUND => Outcome::NotFound,
                Err(e) => Outcome::Failed(explain(e)),
            }
        })
        .collect())
}

/// `--no-prompt` (or no terminal): the search skips items that would need the person to
/// authenticate, so no Keychain dialog appears; a locked keychain reports
/// errSecInteractionNotAllowed instead of asking.
fn get_without_ui(l: &Lookup) -> security_framework::base::Result<Vec<u8>> {
    use security_framework::item::{ItemClass, ItemSearchOptions, Limit, SearchResult};
    let results = ItemSearchOptions::new()
        .class(ItemClass::generic_password())
        .service(&l.service)
        .account(&account(l))
        .load_data(true)
        .limit(Limit::Max(1))
        .skip_authenticated_items(true)
        .search()?;
    results
        .into_iter()
        .find_map(|r| match r {
            SearchResult::Data(bytes) => Some(bytes),
            _ => None,
        })
        .ok_or_else(|| security_framework::base::Error::from_code(ITEM_NOT_FOUND))
}

pub fn store(l: &Lookup, value: &SecretValue, _prompt: bool) -> Result<(), StoreError> {
    set_generic_password(&l.service, &account(l), value.expose()).map_err(explain)
}

pub fn delete(l: &Lookup, _prompt: bool) -> Result<usize, StoreError> {
    match delete_generic_password(&l.service, &account(l)) {
        Ok(()) => Ok(1),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(0),
        Err(e) => Err(explain(e)),
    }
}
