//! `aws-sm:SECRET_ID[#JSON_KEY]` — AWS Secrets Manager. Up to 20 ids go in one
//! `batch-get-secret-value` call; a single id uses `get-secret-value` (which needs one permission
//! less). If the batch call is refused (an older CLI, or no `BatchGetSecretValue` permission), each
//! id is fetched on its own.

use super::aws_common::call;
use super::{wipe_json, Outcome, Store, StoreError};
use crate::context::Context;
use crate::net::aws::{fix_for, AwsFailure, Call};
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct AwsSecretsManager;

fn secret_id(r: &Reference) -> &str {
    match r {
        Reference::AwsSm { secret_id, .. } => secret_id,
        other => unreachable!("aws-sm store got {other}"),
    }
}

/// Picks the value (or its JSON key) out of a secret's `SecretString`.
fn pick(secret_string: Option<&str>, r: &Reference) -> Outcome {
    let Reference::AwsSm { json_key, .. } = r else {
        unreachable!()
    };
    let Some(s) = secret_string else {
        return Outcome::Failed(
            StoreError::new(format!(
                "{r} is a binary secret (SecretBinary); only SecretString is supported"
            ))
            .fix("store the value as a string secret"),
        );
    };
    match json_key {
        None => Outcome::Found(SecretValue::from_str_value(s)),
        Some(key) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(doc) => {
                let out = match doc.get(key.as_str()) {
                    Some(v) if !v.is_null() => Outcome::Found(super::json_field_value(v)),
                    _ => Outcome::NotFound,
                };
                wipe_json(doc);
                out
            }
            Err(_) => Outcome::Failed(
                StoreError::new(format!(
                    "{} is not a JSON object, so `#{key}` cannot be taken from it",
                    secret_id(r)
                ))
                .fix("drop the `#key` to take the whole string"),
            ),
        },
    }
}

/// Does `arn` name the secret `id` (a name, a full ARN, or a partial ARN without AWS's suffix)?
/// A partial ARN matches only with exactly `-` and the six characters AWS appends: a prefix
/// match would hand `…:secret:prod/api` the value of `prod/api-v2-AbCdEf`.
fn arn_matches(arn: &str, id: &str) -> bool {
    if arn == id {
        return true;
    }
    let Some(rest) = arn.strip_prefix(id) else {
        return false;
    };
    id.starts_with("arn:")
        && rest.len() == 7
        && rest.starts_with('-')
        && rest[1..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The batch call itself was refused — an older CLI that lacks it, or an identity without
/// `secretsmanager:BatchGetSecretValue` — so single gets may still work.
fn batch_call_refused(failure: &AwsFailure) -> bool {
    failure.is("InvalidChoice") || failure.access_denied()
}

fn conflict(secret_id: &str) -> StoreError {
    StoreError::new(format!(
        "{secret_id} changed since it was read (another writer); nothing written"
    ))
    .fix("run the command again")
}

/// `put-secret-value`: a new version, current at once.
fn put_string(
    secret_id: &str,
    string: &[u8],
    timeout: Duration,
    ctx: &Context,
) -> Result<(), AwsFailure> {
    call(ctx, timeout, Call::PutSecretValue { secret_id, string }).map(drop)
}

/// The whole secret string: put it, or create the secret when there is none.
fn put_or_create(
    secret_id: &str,
    value: &SecretValue,
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    match put_string(secret_id, value.expose(), timeout, ctx) {
        Ok(()) => Ok(()),
        Err(f) if f.is("ResourceNotFoundException") => {
            create(secret_id, value.expose(), timeout, ctx)
        }
        Err(f) => Err(f.error),
    }
}

fn create(
    secret_id: &str,
    string: &[u8],
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    match call(
        ctx,
        timeout,
        Call::CreateSecret {
            name: secret_id,
            string,
        },
    ) {
        Ok(_) => Ok(()),
        // Created by someone else since we found none.
        Err(f) if f.is("ResourceExistsException") => Err(conflict(secret_id)),
        Err(f) => Err(f.error),
    }
}

/// One key of a JSON secret, exactly: read the secret and its version; start from `{}` only when
/// Secrets Manager says the secret does not exist (any other read failure stops the write, which
/// would otherwise replace every other key); change that member's text alone (the others keep
/// their bytes, numbers as written); put it.
///
/// Secrets Manager has no conditional put, so a concurrent writer is caught right after ours:
/// `put-secret-value` moves `AWSPREVIOUS` to the version that was current when it landed. If that
/// is not the version we read, another writer's value landed in between and ours, built from the
/// older document, replaced it: we put theirs back as current and fail with "changed since
/// read". (A true compare-and-swap — upload under a staging label, then move `AWSCURRENT` with
/// `--remove-from-version-id` — is what AWS documents, but moto, which the tests run against,
/// keeps serving the old version after such a move.)
fn set_member(
    secret_id: &str,
    key: &str,
    value: &SecretValue,
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    let value_text = std::str::from_utf8(value.expose()).expect("checked UTF-8 above");
    let read = call(
        ctx,
        timeout,
        Call::GetSecretValue {
            secret_id,
            version_id: None,
        },
    );
    let doc = match read {
        Ok(doc) => doc,
        Err(f) if f.is("ResourceNotFoundException") => {
            let object = with_member("{}", key, value_text).expect("{} is an object");
            return create(secret_id, &object, timeout, ctx);
        }
        Err(f) => {
            let mut e = f.error;
            e.message = format!(
                "nothing written: {secret_id} could not be read, and setting `#{key}` must keep its other keys ({})",
                e.message
            );
            return Err(e);
        }
    };
    let version_read = doc["VersionId"].as_str().map(str::to_string);
    let updated = doc["SecretString"]
        .as_str()
        .map(|text| with_member(text, key, value_text));
    wipe_json(doc);
    let (Some(version_read), Some(Ok(updated))) = (version_read, updated) else {
        return Err(StoreError::new(format!(
            "{secret_id} is not a JSON object string, so `#{key}` cannot be set; nothing written"
        ))
        .fix("drop the `#key` to replace the whole string"));
    };
    put_string(secret_id, &updated, timeout, ctx).map_err(|f| f.error)?;
    let replaced = version_labelled(secret_id, "AWSPREVIOUS", timeout, ctx)?;
    match replaced {
        Some(replaced) if replaced != version_read => {
            restore(secret_id, &replaced, timeout, ctx)?;
            Err(conflict(secret_id))
        }
        _ => Ok(()),
    }
}

/// `describe-secret`'s answer (metadata: versions, stages, dates; no value).
fn describe(
    secret_id: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<serde_json::Value, StoreError> {
    call(ctx, timeout, Call::DescribeSecret { secret_id }).map_err(|f| f.error)
}

/// The version that carries `label` now.
fn version_labelled(
    secret_id: &str,
    label: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<Option<String>, StoreError> {
    let doc = describe(secret_id, timeout, ctx)?;
    let found = doc["VersionIdsToStages"].as_object().and_then(|versions| {
        versions
            .iter()
            .find(|(_, stages)| {
                stages
                    .as_array()
                    .is_some_and(|s| s.iter().any(|l| l.as_str() == Some(label)))
            })
            .map(|(id, _)| id.clone())
    });
    Ok(found)
}

/// Makes `version`'s value current again (a new version with its string).
fn restore(
    secret_id: &str,
    version: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<(), StoreError> {
    let doc = call(
        ctx,
        timeout,
        Call::GetSecretValue {
            secret_id,
            version_id: Some(version),
        },
    )
    .map_err(|f| f.error)?;
    let theirs = doc["SecretString"]
        .as_str()
        .map(SecretValue::from_str_value);
    wipe_json(doc);
    let Some(theirs) = theirs else {
        return Err(StoreError::new(format!(
            "{secret_id}: the other writer's version has no SecretString"
        )));
    };
    match put_string(secret_id, theirs.expose(), timeout, ctx) {
        Ok(()) => Ok(()),
        Err(f) => {
            let mut e = f.error;
            e.message = format!(
            "{secret_id} changed since it was read, and putting the other writer's value back failed: {}",
            e.message
        );
            Err(e)
        }
    }
}

/// `object_text` (a JSON object) with its member `key` set to the string `value`, and every other
/// byte as it was: member order, spacing and untouched values (`123456789012345678901234567890`
/// stays that, not `1.2345678901234568e+29`). A new key goes last. Err: not a JSON object.
pub(crate) fn with_member(
    object_text: &str,
    key: &str,
    value: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ()> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;
    struct Members<'a>(Vec<(String, &'a RawValue)>);
    struct MembersVisitor;
    impl<'de> Visitor<'de> for MembersVisitor {
        type Value = Members<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::new();
            while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                members.push(member);
            }
            Ok(Members(members))
        }
    }
    let mut de = serde_json::Deserializer::from_str(object_text);
    let Members(members) = de.deserialize_map(MembersVisitor).map_err(drop)?;
    de.end().map_err(drop)?;
    let encoded = super::json_to_wiping(&serde_json::Value::String(value.to_string()));
    let base = object_text.as_ptr() as usize;
    let spans: Vec<std::ops::Range<usize>> = members
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, raw)| {
            let start = raw.get().as_ptr() as usize - base;
            start..start + raw.get().len()
        })
        .collect();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(
        object_text.len() + encoded.len() + key.len() + 8,
    ));
    let push = |out: &mut zeroize::Zeroizing<Vec<u8>>, bytes: &[u8]| {
        crate::secret::extend_wiping(out, bytes)
    };
    if spans.is_empty() {
        let close = object_text.rfind('}').ok_or(())?;
        push(&mut out, object_text[..close].trim_end().as_bytes());
        if !members.is_empty() {
            push(&mut out, b",");
        }
        push(
            &mut out,
            serde_json::to_string(key)
                .expect("a string serializes")
                .as_bytes(),
        );
        push(&mut out, b":");
        push(&mut out, &encoded);
        push(&mut out, &object_text.as_bytes()[close..]);
    } else {
        let mut from = 0;
        for span in spans {
            push(&mut out, &object_text.as_bytes()[from..span.start]);
            push(&mut out, &encoded);
            from = span.end;
        }
        push(&mut out, &object_text.as_bytes()[from..]);
    }
    Ok(out)
}

impl AwsSecretsManager {
    fn get_one(&self, r: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let read = call(
            ctx,
            timeout,
            Call::GetSecretValue {
                secret_id: secret_id(r),
                version_id: None,
            },
        );
        let doc = match read {
            Ok(doc) => doc,
            Err(f) if f.is("ResourceNotFoundException") => return Outcome::NotFound,
            Err(f) => return Outcome::Failed(f.error),
        };
        let outcome = pick(doc.get("SecretString").and_then(|v| v.as_str()), r);
        wipe_json(doc);
        outcome
    }
}

impl Store for AwsSecretsManager {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("Secrets Manager keeps it as the AWSPREVIOUS version".to_string())
    }

    fn can_write(&self) -> bool {
        true
    }

    fn cache_context(&self) -> &'static [&'static str] {
        super::aws_common::CONTEXT
    }

    fn batch_key(&self, _reference: &Reference) -> String {
        String::new()
    }

    /// The API's limit for `--secret-id-list`.
    fn max_batch(&self) -> usize {
        20
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.get_one(reference, timeout, ctx)
    }

    /// `put-secret-value` (or `create-secret` for a new id), the value on stdin. With a
    /// `#key`, the current JSON object is read, that key set, and the object written back.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        let Reference::AwsSm {
            secret_id,
            json_key,
        } = reference
        else {
            unreachable!("aws-sm store got {reference}")
        };
        if std::str::from_utf8(value.expose()).is_err() {
            return Err(StoreError::new("Secrets Manager strings must be UTF-8")
                .fix("use --charset alnum, hex, base64 or ascii"));
        }
        match json_key {
            None => put_or_create(secret_id, value, timeout, ctx),
            Some(key) => set_member(secret_id, key, value, timeout, ctx),
        }
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let doc = describe(secret_id(reference), timeout, ctx)?;
        // LastChangedDate moves when the value is rotated (put-secret-value), not on a read.
        Ok(crate::time::from_json(&doc["LastChangedDate"]))
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        if refs.len() == 1 {
            return vec![self.get_one(refs[0], timeout, ctx)];
        }
        let mut ids: Vec<&str> = refs.iter().map(|r| secret_id(r)).collect();
        ids.sort_unstable();
        ids.dedup();
        let doc = match call(ctx, timeout, Call::BatchGetSecretValue { secret_ids: &ids }) {
            Ok(doc) => doc,
            Err(f) if batch_call_refused(&f) => {
                // An older CLI without the command, or no permission for it: one by one.
                return refs.iter().map(|r| self.get_one(r, timeout, ctx)).collect();
            }
            // Expired credentials, throttling, no network: N single calls would fail N times
            // in a row, each after its own wait. Fail the batch once.
            Err(f) => return super::fail_batch(refs, f.error),
        };
        let empty = Vec::new();
        let values = doc["SecretValues"].as_array().unwrap_or(&empty);
        let errors = doc["Errors"].as_array().unwrap_or(&empty);
        let matches = |item: &serde_json::Value, id: &str| {
            item["Name"].as_str() == Some(id)
                || item["ARN"].as_str().is_some_and(|arn| arn_matches(arn, id))
        };
        let outcomes = refs
            .iter()
            .map(|r| {
                let id = secret_id(r);
                if let Some(v) = values.iter().find(|v| matches(v, id)) {
                    return pick(v["SecretString"].as_str(), r);
                }
                match errors.iter().find(|e| e["SecretId"].as_str() == Some(id)) {
                    Some(e) if e["ErrorCode"].as_str() == Some("ResourceNotFoundException") => {
                        Outcome::NotFound
                    }
                    Some(e) => {
                        let code = e["ErrorCode"].as_str().unwrap_or("error").to_string();
                        Outcome::Failed(
                            StoreError::new(format!("AWS answered {code} for {id}"))
                                .fix(fix_for(&code)),
                        )
                    }
                    None => Outcome::NotFound,
                }
            })
            .collect();
        wipe_json(doc);
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_arn_matches_only_with_the_six_character_suffix() {
        let partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api";
        assert!(arn_matches(&format!("{partial}-AbCdEf"), partial));
        assert!(!arn_matches(&format!("{partial}-v2-AbCdEf"), partial));
        assert!(!arn_matches(&format!("{partial}-v2"), partial));
        assert!(arn_matches(
            &format!("{partial}-AbCdEf"),
            &format!("{partial}-AbCdEf")
        ));
        assert!(!arn_matches("arn:x:secret:prod/api-AbCdEf", "prod/api"));
    }

    #[test]
    fn only_a_refused_call_falls_back_to_single_gets() {
        let refusal = |code: &str| AwsFailure {
            code: code.to_string(),
            error: StoreError::new("refused"),
        };
        assert!(batch_call_refused(&refusal("InvalidChoice")));
        assert!(batch_call_refused(&refusal("AccessDeniedException")));
        assert!(!batch_call_refused(&refusal("ExpiredTokenException")));
        assert!(!batch_call_refused(&refusal("ThrottlingException")));
        assert!(!batch_call_refused(&refusal("")));
    }
}

#[cfg(test)]
mod write_tests {
    use super::with_member;

    fn set(text: &str, key: &str, value: &str) -> String {
        String::from_utf8(with_member(text, key, value).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn only_the_named_member_changes_byte_for_byte() {
        let text = "{\"db_password\": \"old\", \"big\": 123456789012345678901234567890,\n \"f\": 1.50, \"nested\": {\"a\": [1, 2]}}";
        assert_eq!(
            set(text, "db_password", "new\"v"),
            "{\"db_password\": \"new\\\"v\", \"big\": 123456789012345678901234567890,\n \"f\": 1.50, \"nested\": {\"a\": [1, 2]}}"
        );
        assert_eq!(set("{\"a\": 1}", "b", "x"), "{\"a\": 1,\"b\":\"x\"}");
        assert_eq!(set("{}", "b", "x"), "{\"b\":\"x\"}");
        assert_eq!(set(" { } ", "b", "x"), " {\"b\":\"x\"} ");
        // An escaped key is the same key.
        assert_eq!(
            set("{\"k\\u0065y\": 1}", "key", "v"),
            "{\"k\\u0065y\": \"v\"}"
        );
        assert!(with_member("[1]", "a", "b").is_err());
        assert!(with_member("{\"a\": 1} trailing", "a", "b").is_err());
        assert!(with_member("\"just a string\"", "a", "b").is_err());
    }
}
