//! `aws-ssm:NAME` — SSM Parameter Store, decrypted; up to 10 names in one `get-parameters` call
//! (missing ones come back under `InvalidParameters`).

use super::aws_common::call;
use super::{wipe_json, Outcome, Store, StoreError};
use crate::context::Context;
use crate::net::aws::Call;
use crate::reference::Reference;
use crate::secret::SecretValue;
use std::time::Duration;

pub struct AwsSsm;

fn name(r: &Reference) -> &str {
    match r {
        Reference::AwsSsm { name } => name,
        other => unreachable!("aws-ssm store got {other}"),
    }
}

impl Store for AwsSsm {
    fn keeps_history(&self, _reference: &Reference, _ctx: &Context) -> Option<String> {
        Some("Parameter Store keeps it: `aws ssm get-parameter-history`".to_string())
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

    /// The API's limit for `--names`.
    fn max_batch(&self) -> usize {
        10
    }

    /// `put-parameter --overwrite` as a SecureString, the value on stdin.
    fn write(
        &self,
        reference: &Reference,
        value: &SecretValue,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<(), StoreError> {
        if std::str::from_utf8(value.expose()).is_err() {
            return Err(StoreError::new("SSM parameters must be UTF-8")
                .fix("use --charset alnum, hex, base64 or ascii"));
        }
        let name = name(reference);
        // An existing parameter keeps its type (String, StringList, SecureString) and its KMS
        // key: `put-parameter --overwrite` without them would turn a String into a SecureString
        // (breaking `{{resolve:ssm:…}}` readers) and re-encrypt under the account's default key.
        let described = call(ctx, timeout, Call::DescribeParameter { name });
        let doc = described.map_err(|f| {
            let mut e = f.error;
            e.message = format!(
                "nothing written: the type and key of {name} could not be read ({})",
                e.message
            );
            e
        })?;
        let existing = doc["Parameters"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["Name"].as_str() == Some(name)))
            .map(|p| {
                (
                    p["Type"].as_str().unwrap_or("SecureString").to_string(),
                    p["KeyId"].as_str().map(str::to_string),
                )
            });
        let put = match &existing {
            Some((kind, key)) => Call::PutParameter {
                name,
                kind,
                overwrite: true,
                key_id: key.as_deref().filter(|_| kind == "SecureString"),
                value: value.expose(),
            },
            // New: SecureString under the default key, and no overwrite, so a parameter
            // created by someone else meanwhile is an error rather than replaced.
            None => Call::PutParameter {
                name,
                kind: "SecureString",
                overwrite: false,
                key_id: None,
                value: value.expose(),
            },
        };
        match call(ctx, timeout, put) {
            Ok(_) => Ok(()),
            Err(f) if f.is("ParameterAlreadyExists") => Err(StoreError::new(format!(
                "{name} was created by someone else since it was looked up; nothing written"
            ))
            .fix("run the command again")),
            Err(f) => Err(f.error),
        }
    }

    fn last_changed(
        &self,
        reference: &Reference,
        timeout: Duration,
        ctx: &Context,
    ) -> Result<Option<i64>, StoreError> {
        // Without --with-decryption: only the metadata is wanted.
        let doc = call(
            ctx,
            timeout,
            Call::GetParameter {
                name: name(reference),
            },
        )
        .map_err(|f| f.error)?;
        let when = crate::time::from_json(&doc["Parameter"]["LastModifiedDate"]);
        wipe_json(doc);
        Ok(when)
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let mut names: Vec<&str> = refs.iter().map(|r| name(r)).collect();
        names.sort_unstable();
        names.dedup();
        let doc = match call(ctx, timeout, Call::GetParameters { names: &names }) {
            Ok(doc) => doc,
            Err(f) => return super::fail_batch(refs, f.error),
        };
        let empty = Vec::new();
        let params = doc["Parameters"].as_array().unwrap_or(&empty);
        let outcomes = refs
            .iter()
            .map(|r| {
                // A parameter may be asked for by name or ARN; the answer carries both.
                let n = name(r);
                match params
                    .iter()
                    .find(|p| p["Name"].as_str() == Some(n) || p["ARN"].as_str() == Some(n))
                {
                    Some(p) => match p["Value"].as_str() {
                        Some(v) => Outcome::Found(SecretValue::from_str_value(v)),
                        None => Outcome::Failed(StoreError::new(format!(
                            "parameter {n} has no value in the answer"
                        ))),
                    },
                    None => Outcome::NotFound,
                }
            })
            .collect();
        wipe_json(doc);
        outcomes
    }
}
