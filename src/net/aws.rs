//! AWS calls as both sides of the helper's pipe see them: the [`Call`]s the stores make, the
//! [`AwsFailure`] a refused one comes back as, and the fix each refusal calls for. The store side
//! (`crate::stores::aws_common`: which route a call takes, and the CLI route) and the helper's
//! side (`super::aws_sdk`) both take these from here, so neither imports the other.

use crate::store_error::StoreError;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_sso_session_names_the_profile_to_sign_in_with() {
        assert!(fix_for("the SSO session has expired").contains("aws sso login --profile"));
        assert!(fix_for("CredentialsNotLoaded").contains("aws configure"));
        assert!(fix_for("AccessDeniedException").contains("IAM"));
    }
}
