//! STS (query protocol, IAM flavour).

use aws_credential_types::Credentials;

use crate::client::{Client, STS};
use crate::error::Error;
use crate::protocol::{Params, query};

const VERSION: &str = "2011-06-15";

/// Who the caller is.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

pub async fn get_caller_identity(c: &Client) -> Result<Identity, Error> {
    const OP: &str = "GetCallerIdentity";
    let r = query(c, &STS, OP, VERSION, &Params::new()).await?;
    let get = |k: &str| {
        r.text_at(k)
            .map(str::to_owned)
            .ok_or_else(|| Error::response(OP, format!("missing {k}")))
    };
    Ok(Identity {
        account: get("Account")?,
        arn: get("Arn")?,
        user_id: get("UserId")?,
    })
}

/// Temporary credentials for `role_arn`.
pub async fn assume_role(
    c: &Client,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> Result<Credentials, Error> {
    const OP: &str = "AssumeRole";
    let mut p = Params::new();
    p.set("RoleArn", role_arn)
        .set("RoleSessionName", session_name)
        .opt("ExternalId", external_id);
    let r = query(c, &STS, OP, VERSION, &p).await?;
    let get = |k: &str| {
        r.text_at(&format!("Credentials/{k}"))
            .map(str::to_owned)
            .ok_or_else(|| Error::response(OP, format!("missing Credentials/{k}")))
    };
    let expiry = chrono::DateTime::parse_from_rfc3339(&get("Expiration")?)
        .map(|t| std::time::SystemTime::from(t.with_timezone(&chrono::Utc)))
        .ok();
    Ok(Credentials::new(
        get("AccessKeyId")?,
        get("SecretAccessKey")?,
        Some(get("SessionToken")?),
        expiry,
        "gantry-assume-role",
    ))
}
