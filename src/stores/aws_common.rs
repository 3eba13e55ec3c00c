//! What the two AWS stores share: the two routes a call ([`Call`], in `crate::net::aws`) can take.
//!
//! By default a call goes to AWS through the official AWS SDK for Rust (`crate::net::aws_sdk`), run
//! by our own helper `jit-secrets-net` (`crate::net`, which says why it is a helper): no 0.6 s
//! Python start per call. A manifest that names the CLI
//! (`[secrets.options] commands = { aws = "…" }`, for a wrapper such as `aws-vault exec`) takes
//! the CLI route instead. Both routes answer with the JSON the CLI prints (the fields the stores
//! read), or an [`AwsFailure`] carrying AWS's error code, so the stores have one code path.

use super::{parse_json, run_cli, StoreError};
use crate::context::Context;
use crate::net::aws::{fix_for, AwsFailure, Call};
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
}
