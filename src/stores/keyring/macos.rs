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

pub fn fetch_all(lookups: &[Lookup], _prompt: bool) -> Result<Vec<Outcome>, StoreError> {
    Ok(lookups
        .iter()
        .map(|l| match get_generic_password(&l.service, &l.account) {
            Ok(bytes) => Outcome::Found(SecretValue::new(bytes)),
            Err(e) if e.code() == ITEM_NOT_FOUND => Outcome::NotFound,
            Err(e) => Outcome::Failed(explain(e)),
        })
        .collect())
}

pub fn store(l: &Lookup, value: &SecretValue, _prompt: bool) -> Result<(), StoreError> {
    set_generic_password(&l.service, &l.account, value.expose()).map_err(explain)
}

pub fn delete(l: &Lookup, _prompt: bool) -> Result<usize, StoreError> {
    match delete_generic_password(&l.service, &l.account) {
        Ok(()) => Ok(1),
        Err(e) if e.code() == ITEM_NOT_FOUND => Ok(0),
        Err(e) => Err(explain(e)),
    }
}
