//! What the two AWS stores share: the calls they make, and the two routes a call can take.
//!
//! By default a call goes to AWS through the official AWS SDK for Rust ([`super::aws_sdk`]), run
//! by our own helper `jit-secrets-net` ([`super::net`], which says why it is a helper): no 0.6 s
//! Python start per call. A manifest that names the CLI
//! (`[secrets.options] commands = { aws = "…" }`, for a wrapper such as `aws-vault exec`) takes
//! the CLI route instead. Both routes answer with the JSON the CLI prints (the fields the stores
//! read), or an [`AwsFailure`] carrying AWS's error code, so the stores have one code path.

use super::{parse_json, run_cli, Context, StoreError};
use crate::process::{Child, Output};
use std::time::Duration;

/// What selects the account and region a reference is read from (the cache key includes them).
pub const CONTEXT: &[&str] = &[
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ACCESS_KEY_ID",
];

pub const INSTALL: &str = "install the AWS CLI (https://docs.aws.amazon.com/cli/)";

/// One AWS API call the stores make. Values to write are borrowed and go to AWS on stdin (CLI)
/// or in the request body (SDK), never on argv.
pub enum Call<'a> {
    GetSecretValue {
        secret_id: &'a str,
        version_id: Option<&'a str>,
    },
    BatchGetSecretValue {
        secret_ids: &'a [&'a str],
    },
    DescribeSecret {
        secret_id: &'a str,
    },
    PutSecretValue {
        secret_id: &'a str,
        string: &'a [u8],
    },
    CreateSecret {
        name: &'a str,
        string: &'a [u8],
    },
    /// Decrypted.
    GetParameters {
        names: &'a [&'a str],
    },
    /// Metadata only (not decrypted).
    GetParameter {
        name: &'a str,
    },
    DescribeParameter {
        name: &'a str,
    },
    PutParameter {
        name: &'a str,
        kind: &'a str,
        overwrite: bool,
        key_id: Option<&'a str>,
        value: &'a [u8],
    },
}

impl Call<'_> {
    /// The API operation, as IAM and AWS's errors name it.
    pub fn action(&self) -> &'static str {
        match self {
            Call::GetSecretValue { .. } => "secretsmanager:GetSecretValue",
            Call::BatchGetSecretValue { .. } => "secretsmanager:BatchGetSecretValue",
            Call::DescribeSecret { .. } => "secretsmanager:DescribeSecret",
            Call::PutSecretValue { .. } => "secretsmanager:PutSecretValue",
            Call::CreateSecret { .. } => "secretsmanager:CreateSecret",
            Call::GetParameters { .. } => "ssm:GetParameters",
            Call::GetParameter { .. } => "ssm:GetParameter",
            Call::DescribeParameter { .. } => "ssm:DescribeParameters",
            Call::PutParameter { .. } => "ssm:PutParameter",
        }
    }

    /// What the call is about, for an access-denied message.
    pub fn resource(&self) -> String {
        match self {
            Call::GetSecretValue { secret_id, .. }
            | Call::DescribeSecret { secret_id }
            | Call::PutSecretValue { secret_id, .. } => (*secret_id).to_string(),
            Call::CreateSecret { name, .. }
            | Call::GetParameter { name }
            | Call::DescribeParameter { name }
            | Call::PutParameter { name, .. } => (*name).to_string(),
            Call::BatchGetSecretValue { secret_ids } => secret_ids.join(", "),
            Call::GetParameters { names } => names.join(", "),
        }
    }
}

/// A call AWS (or the route to it) refused: AWS's error code when there is one
/// (`ResourceNotFoundException`, `AccessDeniedException`, …; `InvalidChoice` when an old CLI
/// lacks the command), and the error to show.
#[derive(Debug)]
pub struct AwsFailure {
    pub code: String,
    pub error: StoreError,
}

impl AwsFailure {
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    pub fn access_denied(&self) -> bool {
        self.code.starts_with("AccessDenied")
    }
}

impl From<StoreError> for AwsFailure {
    fn from(error: StoreError) -> Self {
        AwsFailure {
            code: String::new(),
            error,
        }
    }
}

/// Makes `call` through the SDK, or through the `aws` CLI when the manifest names one.
/// Ok: the answer as the CLI's JSON (the caller wipes it with `wipe_json`).
pub fn call(
    ctx: &Context,
    timeout: Duration,
    call: Call<'_>,
) -> Result<serde_json::Value, AwsFailure> {
    if ctx.command_override("aws").is_some() {
        call_cli(ctx, timeout, &call)
    } else {
        crate::net::aws(timeout, &call)
    }
}

/// The fix for a refusal, from AWS's error code or the text around it.
pub fn fix_for(code_or_text: &str) -> String {
    let text = code_or_text;
    if text.contains("sso") || text.contains("SSO") {
        if text.contains("expired") || text.contains("Expired") {
            let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
            return format!(
                "your SSO sign-in has expired: run `aws sso login --profile {profile}`"
            );
        }
        return "sign in: `aws sso login` (and check AWS_PROFILE)".to_string();
    }
    if text.contains("Unable to locate credentials")
        || text.contains("no credentials")
        || text.contains("CredentialsNotLoaded")
        || text.contains("ExpiredToken")
        || text.contains("token has expired")
        || text.contains("UnrecognizedClient")
        || text.contains("InvalidClientTokenId")
    {
        "sign in: `aws sso login` (or `aws configure`), and check AWS_PROFILE".to_string()
    } else if text.contains("AccessDenied") {
        "your AWS identity lacks permission for this secret: check the IAM policy".to_string()
    } else if text.contains("region") {
        "set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile)".to_string()
    } else {
        "check AWS_PROFILE, AWS_REGION and your network (for the CLI's view: the same `aws` command by hand)".to_string()
    }
}

/// AWS's error code in the CLI's message: `An error occurred (CODE) when calling …`.
fn cli_error_code(stderr_text: &str) -> String {
    if stderr_text.contains("Invalid choice") || stderr_text.contains("invalid choice") {
        return "InvalidChoice".to_string();
    }
    stderr_text
        .split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_string())
        .unwrap_or_default()
}

fn call_cli(
    ctx: &Context,
    timeout: Duration,
    call: &Call<'_>,
) -> Result<serde_json::Value, AwsFailure> {
    let mut args: Vec<&str> = Vec::new();
    let mut on_stdin: Option<&[u8]> = None;
    let filter;
    match call {
        Call::GetSecretValue {
            secret_id,
            version_id,
        } => {
            args.extend([
                "secretsmanager",
                "get-secret-value",
                "--secret-id",
                secret_id,
            ]);
            if let Some(v) = version_id {
                args.extend(["--version-id", v]);
            }
        }
        Call::BatchGetSecretValue { secret_ids } => {
            args.extend([
                "secretsmanager",
                "batch-get-secret-value",
                "--secret-id-list",
            ]);
            args.extend(secret_ids.iter().copied());
        }
        Call::DescribeSecret { secret_id } => {
            args.extend([
                "secretsmanager",
                "describe-secret",
                "--secret-id",
                secret_id,
            ]);
        }
        Call::PutSecretValue { secret_id, string } => {
            args.extend([
                "secretsmanager",
                "put-secret-value",
                "--secret-id",
                secret_id,
                "--secret-string",
            ]);
            on_stdin = Some(string);
        }
        Call::CreateSecret { name, string } => {
            args.extend([
                "secretsmanager",
                "create-secret",
                "--name",
                name,
                "--secret-string",
            ]);
            on_stdin = Some(string);
        }
        Call::GetParameters { names } => {
            args.extend(["ssm", "get-parameters", "--with-decryption", "--names"]);
            args.extend(names.iter().copied());
        }
        Call::GetParameter { name } => {
            args.extend(["ssm", "get-parameter", "--name", name]);
        }
        Call::DescribeParameter { name } => {
            filter = format!("Key=Name,Option=Equals,Values={name}");
            args.extend([
                "ssm",
                "describe-parameters",
                "--parameter-filters",
                filter.as_str(),
            ]);
        }
        Call::PutParameter {
            name,
            kind,
            overwrite,
            key_id,
            value,
        } => {
            args.extend(["ssm", "put-parameter", "--name", name, "--type", kind]);
            if *overwrite {
                args.push("--overwrite");
            }
            if let Some(key) = key_id {
                args.extend(["--key-id", key]);
            }
            args.push("--value");
            on_stdin = Some(value);
        }
    }
    let out = match on_stdin {
        Some(value) => aws_value_on_stdin(ctx, timeout, &args, value)?,
        None => aws(ctx, timeout, &args)?,
    };
    if !out.exit.success() {
        let text = out.stderr.scrubbed(&Default::default());
        let code = cli_error_code(&text);
        let error = super::cli_failed("aws", out, &fix_for(&text));
        return Err(AwsFailure { code, error });
    }
    Ok(parse_json(out.stdout.expose(), "aws")?)
}

fn aws(ctx: &Context, timeout: Duration, args: &[&str]) -> Result<Output, StoreError> {
    // No pager, JSON output (exact bytes: `--output text` appends a newline).
    let child = Child::new(ctx.command("aws"), timeout)
        .args(args.iter().copied())
        .args(["--output", "json"])
        .env("AWS_PAGER", "");
    run_cli(child, INSTALL)
}

/// `aws ARGS…` where the last argument is `file:///dev/stdin` and `value` comes on stdin: the
/// CLI reads a `file://` parameter from that path, so the value never goes on argv.
/// (`--cli-input-json file:///dev/stdin` does not work: the CLI reads that file twice.)
fn aws_value_on_stdin(
    ctx: &Context,
    timeout: Duration,
    args: &[&str],
    value: &[u8],
) -> Result<Output, StoreError> {
    let child = Child::new(ctx.command("aws"), timeout)
        .args(args.iter().copied())
        .arg("file:///dev/stdin")
        .args(["--output", "json"])
        .env("AWS_PAGER", "")
        .stdin(value);
    run_cli(child, INSTALL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_error_code_is_read_from_its_message() {
        assert_eq!(
            cli_error_code("aws: error: argument operation: Invalid choice, valid choices are:"),
            "InvalidChoice"
        );
        assert_eq!(
            cli_error_code("\nAn error occurred (AccessDeniedException) when calling the BatchGetSecretValue operation: not authorized"),
            "AccessDeniedException"
        );
        assert_eq!(cli_error_code("Unable to locate credentials"), "");
    }

    #[test]
    fn an_expired_sso_session_names_the_profile_to_sign_in_with() {
        assert!(fix_for("the SSO session has expired").contains("aws sso login --profile"));
        assert!(fix_for("CredentialsNotLoaded").contains("aws configure"));
        assert!(fix_for("AccessDeniedException").contains("IAM"));
    }
}
