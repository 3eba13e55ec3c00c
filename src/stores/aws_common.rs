//! What the two AWS stores share: how the `aws` CLI is run and how its errors read.

use super::{run_cli, Context, StoreError};
use crate::process::{Child, Output};
use std::time::Duration;

/// What selects the account and region a reference is read from (the cache key includes them).
pub const CONTEXT: &[&str] = &[
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
];

pub const INSTALL: &str = "install the AWS CLI (https://docs.aws.amazon.com/cli/)";

pub fn aws(ctx: &Context, timeout: Duration, args: &[&str]) -> Result<Output, StoreError> {
    // No pager, JSON output (exact bytes: `--output text` appends a newline).
    let child = Child::new(ctx.command("aws"), timeout)
        .args(args.iter().copied())
        .args(["--output", "json"])
        .env("AWS_PAGER", "");
    run_cli(child, INSTALL)
}

pub fn fix_for(stderr: &str) -> &'static str {
    if stderr.contains("Unable to locate credentials")
        || stderr.contains("ExpiredToken")
        || stderr.contains("token has expired")
    {
        "sign in: `aws sso login` (or `aws configure`), and check AWS_PROFILE"
    } else if stderr.contains("AccessDenied") {
        "your AWS identity lacks permission for this secret: check the IAM policy"
    } else if stderr.contains("region") {
        "set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile)"
    } else {
        "run the `aws` command by hand to see; check AWS_PROFILE and AWS_REGION"
    }
}

/// `aws ARGS…` where the last argument is `file:///dev/stdin` and `value` comes on stdin: the
/// CLI reads a `file://` parameter from that path, so the value never goes on argv.
/// (`--cli-input-json file:///dev/stdin` does not work: the CLI reads that file twice.)
pub fn aws_value_on_stdin(
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
