//! AWS through the official AWS SDK for Rust (`aws-config`'s credential chain,
//! `aws-sdk-secretsmanager`, `aws-sdk-ssm`), answering a [`Call`] with the JSON the CLI would
//! print. It runs in `jit-secrets-net` (see `super::helper`), one call per helper process: the
//! runtime (`super::runtime`), the configuration (environment, `~/.aws/config` and `credentials`,
//! SSO token cache, `credential_process`, web identity, container and instance metadata,
//! `AWS_ENDPOINT_URL` and its per-service variants) and the one client it needs are built for it.
//!
//! Where a value lives that we cannot wipe (see docs/security.md): the SDK reads the response
//! body into its own buffer and parses it into its output type; we move the `String` out of that
//! type into the JSON the stores wipe, but the body buffer is freed by the SDK unwiped, at the
//! end of the call. On writes, the request input and its serialized body are the SDK's, also
//! freed unwiped when the call returns.

use super::aws::{fix_for, AwsFailure, Call};
use crate::store_error::StoreError;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The configuration as the CLI would build it, with rustls (ring) for TLS.
async fn config() -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// Makes `call`, within `timeout` (configuration and credentials included).
pub fn call(timeout: Duration, call: &Call<'_>) -> Result<Value, AwsFailure> {
    let work = async { send(&config().await, call).await };
    match super::runtime::block_on(timeout, work)? {
        Some(result) => result,
        None => Err(StoreError::new(format!(
            "AWS did not answer {} within {}s",
            call.action(),
            timeout.as_secs()
        ))
        .fix("check your network and AWS_ENDPOINT_URL, or raise `timeout` in [secrets.options]")
        .into()),
    }
}

/// The value bytes of a write as the `String` the SDK takes (UTF-8 is checked by the stores).
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Value {
    t.map_or(Value::Null, |t| json!(t.secs()))
}

fn string(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// A JSON object of `pairs`, moved in: `json!` would copy each value (`to_value(&v)`) and drop
/// the original, a secret among them, unwiped.
fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

async fn send(config: &aws_config::SdkConfig, call: &Call<'_>) -> Result<Value, AwsFailure> {
    match call {
        Call::GetSecretValue { .. }
        | Call::BatchGetSecretValue { .. }
        | Call::DescribeSecret { .. }
        | Call::PutSecretValue { .. }
        | Call::CreateSecret { .. } => secrets_manager(config, call).await,
        Call::GetParameters { .. }
        | Call::GetParameter { .. }
        | Call::DescribeParameter { .. }
        | Call::PutParameter { .. } => parameter_store(config, call).await,
    }
}

/// A Secrets Manager call (`send` gives it no other).
async fn secrets_manager(
    config: &aws_config::SdkConfig,
    call: &Call<'_>,
) -> Result<Value, AwsFailure> {
    let failed = |e| failure(call, e);
    match *call {
        Call::GetSecretValue {
            secret_id,
            version_id,
        } => {
            let mut out = aws_sdk_secretsmanager::Client::new(config)
                .get_secret_value()
                .secret_id(secret_id)
                .set_version_id(version_id.map(str::to_string))
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            Ok(object([
                ("Name", string(out.name.take())),
                ("ARN", string(out.arn.take())),
                ("VersionId", string(out.version_id.take())),
                ("SecretString", string(out.secret_string.take())),
            ]))
        }
        Call::BatchGetSecretValue { secret_ids } => {
            let mut out = aws_sdk_secretsmanager::Client::new(config)
                .batch_get_secret_value()
                .set_secret_id_list(Some(secret_ids.iter().map(|s| s.to_string()).collect()))
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            let values: Vec<Value> = out
                .secret_values
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|mut v| {
                    object([
                        ("Name", string(v.name.take())),
                        ("ARN", string(v.arn.take())),
                        ("SecretString", string(v.secret_string.take())),
                    ])
                })
                .collect();
            let errors: Vec<Value> = out
                .errors
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|e| json!({ "SecretId": e.secret_id, "ErrorCode": e.error_code }))
                .collect();
            Ok(object([
                ("SecretValues", Value::Array(values)),
                ("Errors", Value::Array(errors)),
            ]))
        }
        Call::DescribeSecret { secret_id } => {
            let out = aws_sdk_secretsmanager::Client::new(config)
                .describe_secret()
                .secret_id(secret_id)
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            let versions: Map<String, Value> = out
                .version_ids_to_stages
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(id, stages)| (id, json!(stages)))
                .collect();
            Ok(json!({
                "LastChangedDate": time(out.last_changed_date.as_ref()),
                "VersionIdsToStages": versions,
            }))
        }
        Call::PutSecretValue { secret_id, string } => {
            aws_sdk_secretsmanager::Client::new(config)
                .put_secret_value()
                .secret_id(secret_id)
                .secret_string(text(string))
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            Ok(Value::Null)
        }
        Call::CreateSecret { name, string } => {
            aws_sdk_secretsmanager::Client::new(config)
                .create_secret()
                .name(name)
                .secret_string(text(string))
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            Ok(Value::Null)
        }
        _ => unreachable!("secrets_manager is given Secrets Manager calls only"),
    }
}

/// A Systems Manager Parameter Store call (`send` gives it no other).
async fn parameter_store(
    config: &aws_config::SdkConfig,
    call: &Call<'_>,
) -> Result<Value, AwsFailure> {
    let failed = |e| failure(call, e);
    match *call {
        Call::GetParameters { names } => {
            let mut out = aws_sdk_ssm::Client::new(config)
                .get_parameters()
                .set_names(Some(names.iter().map(|s| s.to_string()).collect()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            let parameters: Vec<Value> = out
                .parameters
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|mut p| {
                    object([
                        ("Name", string(p.name.take())),
                        ("ARN", string(p.arn.take())),
                        ("Value", string(p.value.take())),
                    ])
                })
                .collect();
            Ok(object([("Parameters", Value::Array(parameters))]))
        }
        Call::GetParameter { name } => {
            let out = aws_sdk_ssm::Client::new(config)
                .get_parameter()
                .name(name)
                .with_decryption(false)
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            let modified = out
                .parameter
                .as_ref()
                .and_then(|p| p.last_modified_date.as_ref());
            Ok(json!({ "Parameter": { "LastModifiedDate": time(modified) } }))
        }
        Call::DescribeParameter { name } => {
            let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .values(name)
                .build()
                .map_err(|e| AwsFailure::from(StoreError::new(e.to_string())))?;
            let out = aws_sdk_ssm::Client::new(config)
                .describe_parameters()
                .parameter_filters(filter)
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            let parameters: Vec<Value> = out
                .parameters()
                .iter()
                .map(|p| {
                    json!({
                        "Name": p.name(),
                        "Type": p.r#type().map(|t| t.as_str()),
                        "KeyId": p.key_id(),
                    })
                })
                .collect();
            Ok(json!({ "Parameters": parameters }))
        }
        Call::PutParameter {
            name,
            kind,
            overwrite,
            key_id,
            value,
        } => {
            aws_sdk_ssm::Client::new(config)
                .put_parameter()
                .name(name)
                .r#type(aws_sdk_ssm::types::ParameterType::from(kind))
                .overwrite(overwrite)
                .set_key_id(key_id.map(str::to_string))
                .value(text(value))
                .send()
                .await
                .map_err(|e| failed(e.into()))?;
            Ok(Value::Null)
        }
        _ => unreachable!("parameter_store is given Parameter Store calls only"),
    }
}

/// An SDK error, reduced to what both services' errors share.
struct Refusal {
    code: Option<String>,
    message: Option<String>,
    /// The whole chain (credentials, dispatch, timeouts): never holds a value.
    chain: String,
}

impl<E, R> From<SdkError<E, R>> for Refusal
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn from(e: SdkError<E, R>) -> Self {
        Refusal {
            code: e.code().map(str::to_string),
            message: e.message().map(str::to_string),
            chain: chain_text(&e),
        }
    }
}

/// An error and its sources, each once, joined by ": " (the SDK's own rendering adds Debug
/// dumps that bury the reason).
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

fn failure(call: &Call<'_>, refusal: Refusal) -> AwsFailure {
    let code = refusal.code.unwrap_or_default();
    let error = if code.starts_with("AccessDenied") {
        denied(call)
    } else if !code.is_empty() {
        let message = refusal.message.unwrap_or_default();
        StoreError::new(format!(
            "AWS answered {code} to {}: {message}",
            call.action()
        ))
        .fix(fix_for(&format!("{code} {message}")))
    } else if refusal.chain.contains("no credentials found") {
        StoreError::new(
            "no AWS credentials found (tried: the environment, AWS_PROFILE's profile, web \
             identity, container and instance metadata)",
        )
        .fix(fix_for("no credentials"))
    } else {
        StoreError::new(format!("{} failed: {}", call.action(), refusal.chain))
            .fix(fix_for(&refusal.chain))
    };
    AwsFailure { code, error }
}

/// The message and fix for an access-denied answer: the action and the resource, as IAM needs them.
pub fn denied(call: &Call<'_>) -> StoreError {
    StoreError::new(format!(
        "AWS denied {} on {}",
        call.action(),
        call.resource()
    ))
    .fix(format!(
        "allow {} on it in your identity's IAM policy (or use another AWS_PROFILE)",
        call.action()
    ))
}

/// An `aws-sts` lease (route `sts` of `jit-secrets-net`): AssumeRole when the request names a
/// role, else GetSessionToken; with the lease's master credential when given, else the usual
/// chain. Answers the session credentials, their expiry (Unix seconds, from the response) and the
/// identity they carry.
pub fn sts(timeout: Duration, request: &Value) -> Result<Value, AwsFailure> {
    let work = async {
        let s = |k: &str| request[k].as_str().map(str::to_string);
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
        if let Some(region) = s("region") {
            loader = loader.region(aws_config::Region::new(region));
        }
        let master = &request["master"];
        if let (Some(id), Some(secret)) = (
            master["access_key_id"].as_str(),
            master["secret_access_key"].as_str(),
        ) {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                id,
                secret,
                master["session_token"].as_str().map(str::to_string),
                None,
                "jit-secrets-lease-master",
            ));
        }
        let mut config = loader.load().await;
        // STS is global: without a configured region, the CLI's default (us-east-1) is used.
        if config.region().is_none() {
            config = config
                .to_builder()
                .region(aws_config::Region::from_static("us-east-1"))
                .build();
        }
        let client = aws_sdk_sts::Client::new(&config);
        let duration = request["duration_secs"].as_i64().map(|d| d as i32);
        fn denied<E, R>(action: &str, e: aws_sdk_sts::error::SdkError<E, R>) -> AwsFailure
        where
            E: ProvideErrorMetadata + std::error::Error + 'static,
            R: std::fmt::Debug + 'static,
        {
            let code = ProvideErrorMetadata::code(&e).unwrap_or("").to_string();
            let message = ProvideErrorMetadata::message(&e)
                .map(str::to_string)
                .unwrap_or_else(|| chain_text(&e));
            AwsFailure {
                code: code.clone(),
                error: StoreError::new(format!("AWS STS {action} failed: {code} {message}"))
                    .fix(match code.as_str() {
                        "AccessDenied" => "allow sts:AssumeRole on the role for the master credential (and the role's trust policy for it)",
                        "InvalidClientTokenId" | "SignatureDoesNotMatch" => "the master credential is not valid: check the lease's `master` references (or AWS_PROFILE)",
                        "ExpiredToken" => "the master credential expired: sign in again",
                        _ => "check the lease's role_arn, duration and master credential",
                    }),
            }
        }
        let (credentials, arn) = match s("role_arn") {
            Some(role) => {
                let mut out = client
                    .assume_role()
                    .role_arn(&role)
                    .role_session_name(s("session_name").unwrap_or_else(|| "jit-secrets".into()))
                    .set_duration_seconds(duration)
                    .set_external_id(s("external_id"))
                    .set_serial_number(s("mfa_serial"))
                    .set_token_code(s("token_code"))
                    .send()
                    .await
                    .map_err(|e| denied("AssumeRole", e))?;
                let arn = out
                    .assumed_role_user
                    .take()
                    .map(|u| u.arn)
                    .unwrap_or_default();
                (out.credentials.take(), arn)
            }
            None => {
                let mut out = client
                    .get_session_token()
                    .set_duration_seconds(duration)
                    .set_serial_number(s("mfa_serial"))
                    .set_token_code(s("token_code"))
                    .send()
                    .await
                    .map_err(|e| denied("GetSessionToken", e))?;
                (out.credentials.take(), String::new())
            }
        };
        let Some(c) = credentials else {
            return Err(StoreError::new("AWS STS answered without credentials").into());
        };
        let expiration = c.expiration.secs();
        Ok(object([
            ("access_key_id", Value::String(c.access_key_id)),
            ("secret_access_key", Value::String(c.secret_access_key)),
            ("session_token", Value::String(c.session_token)),
            ("expiration", json!(expiration)),
            ("arn", Value::String(arn)),
        ]))
    };
    match super::runtime::block_on(timeout, work)? {
        Some(result) => result,
        None => Err(StoreError::new(format!(
            "AWS STS did not answer within {}s",
            timeout.as_secs()
        ))
        .fix("check your network and AWS_ENDPOINT_URL, or raise the lease's `timeout`")
        .into()),
    }
}
