//! `aws-sm:SECRET_ID[#JSON_KEY]` — AWS Secrets Manager. Up to 20 ids go in one
//! `batch-get-secret-value` call; a single id uses `get-secret-value` (which needs one permission
//! less). If the batch call is refused (an older CLI, or no `BatchGetSecretValue` permission), each
//! id is fetched on its own.

use super::aws_common::{aws, aws_value_on_stdin, fix_for};
use super::{parse_json, wipe_json, Context, Outcome, Store, StoreError};
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

/// The batch command itself was refused — an older CLI that lacks it, or an identity without
/// `secretsmanager:BatchGetSecretValue` — so single gets may still work.
fn batch_command_refused(stderr_text: &str) -> bool {
    stderr_text.contains("Invalid choice")
        || stderr_text.contains("invalid choice")
        || (stderr_text.contains("AccessDenied") && stderr_text.contains("BatchGetSecretValue"))
}

fn failed(stderr_text: &str, out: crate::process::Output) -> StoreError {
    super::cli_failed("aws", out, fix_for(stderr_text))
}

impl AwsSecretsManager {
    fn get_one(&self, r: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        let out = match aws(
            ctx,
            timeout,
            &[
                "secretsmanager",
                "get-secret-value",
                "--secret-id",
                secret_id(r),
            ],
        ) {
            Ok(out) => out,
            Err(e) => return Outcome::Failed(e),
        };
        if !out.exit.success() {
            let text = out.stderr.scrubbed(&Default::default());
            if text.contains("ResourceNotFoundException") {
                return Outcome::NotFound;
            }
            return Outcome::Failed(failed(&text, out));
        }
        let doc = match parse_json(out.stdout.expose(), "aws") {
            Ok(d) => d,
            Err(e) => return Outcome::Failed(e),
        };
        let outcome = pick(doc.get("SecretString").and_then(|v| v.as_str()), r);
        wipe_json(doc);
        outcome
    }
}

impl Store for AwsSecretsManager {
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
        let new_string: SecretValue = match json_key {
            None => value.clone(),
            Some(key) => {
                let current = aws(
                    ctx,
                    timeout,
                    &[
                        "secretsmanager",
                        "get-secret-value",
                        "--secret-id",
                        secret_id,
                    ],
                )?;
                let mut object = if current.exit.success() {
                    let doc = parse_json(current.stdout.expose(), "aws")?;
                    let parsed = doc["SecretString"]
                        .as_str()
                        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
                    wipe_json(doc);
                    match parsed {
                        Some(serde_json::Value::Object(map)) => map,
                        _ => {
                            return Err(StoreError::new(format!(
                                "{secret_id} is not a JSON object, so `#{key}` cannot be set"
                            ))
                            .fix("drop the `#key` to replace the whole string"))
                        }
                    }
                } else {
                    serde_json::Map::new()
                };
                object.insert(
                    key.clone(),
                    serde_json::Value::String(String::from_utf8_lossy(value.expose()).into_owned()),
                );
                let text = serde_json::Value::Object(object);
                let bytes = serde_json::to_vec(&text).expect("a JSON object serializes");
                wipe_json(text);
                SecretValue::new(bytes)
            }
        };
        let put = [
            "secretsmanager",
            "put-secret-value",
            "--secret-id",
            secret_id.as_str(),
            "--secret-string",
        ];
        let out = aws_value_on_stdin(ctx, timeout, &put, new_string.expose())?;
        if out.exit.success() {
            return Ok(());
        }
        let text = out.stderr.scrubbed(&Default::default());
        if !text.contains("ResourceNotFoundException") {
            return Err(failed(&text, out));
        }
        let create = [
            "secretsmanager",
            "create-secret",
            "--name",
            secret_id.as_str(),
            "--secret-string",
        ];
        let out = aws_value_on_stdin(ctx, timeout, &create, new_string.expose())?;
        if out.exit.success() {
            Ok(())
        } else {
            let text = out.stderr.scrubbed(&Default::default());
            Err(failed(&text, out))
        }
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        let out = aws(
            ctx,
            timeout,
            &[
                "secretsmanager",
                "describe-secret",
                "--secret-id",
                secret_id(reference),
            ],
        )?;
        if !out.exit.success() {
            let text = out.stderr.scrubbed(&Default::default());
            return Err(failed(&text, out));
        }
        let doc = parse_json(out.stdout.expose(), "aws")?;
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
        let mut args = vec![
            "secretsmanager",
            "batch-get-secret-value",
            "--secret-id-list",
        ];
        args.extend(ids.iter().copied());
        let out = match aws(ctx, timeout, &args) {
            Ok(out) => out,
            Err(e) => return super::fail_batch(refs, e),
        };
        if !out.exit.success() {
            let text = out.stderr.scrubbed(&Default::default());
            if batch_command_refused(&text) {
                // An older CLI without the command, or no permission for it: one by one.
                return refs.iter().map(|r| self.get_one(r, timeout, ctx)).collect();
            }
            // Expired credentials, throttling, no network: N single calls would fail N times
            // in a row, each after its own wait. Fail the batch once.
            return super::fail_batch(refs, failed(&text, out));
        }
        let doc = match parse_json(out.stdout.expose(), "aws") {
            Ok(d) => d,
            Err(e) => return super::fail_batch(refs, e),
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
    fn only_a_refused_command_falls_back_to_single_gets() {
        assert!(batch_command_refused(
            "aws: error: argument operation: Invalid choice, valid choices are:"
        ));
        assert!(batch_command_refused("An error occurred (AccessDeniedException) when calling the BatchGetSecretValue operation: not authorized"));
        assert!(!batch_command_refused("An error occurred (ExpiredTokenException) when calling the BatchGetSecretValue operation"));
        assert!(!batch_command_refused("An error occurred (ThrottlingException) when calling the BatchGetSecretValue operation: Rate exceeded"));
    }
}
