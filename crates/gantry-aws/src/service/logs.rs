//! CloudWatch Logs (JSON 1.1, `Logs_20140328.*`).

use serde_json::{Value as J, json};

use crate::client::{Client, LOGS};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &LOGS, "Logs_20140328", "1.1", op, &input).await
}

const GONE: &[&str] = &["ResourceNotFoundException"];

/// A log group as `DescribeLogGroups` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogGroup {
    pub name: String,
    /// Without the trailing `:*` AWS adds.
    pub arn: String,
    /// 0 when logs never expire.
    pub retention_in_days: i64,
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
}

pub async fn create_log_group(
    c: &Client,
    name: &str,
    kms_key_id: Option<&str>,
    log_group_class: Option<&str>,
    tags: &Tags,
) -> Result<(), Error> {
    let mut input = json!({ "logGroupName": name });
    if let Some(k) = kms_key_id {
        input["kmsKeyId"] = json!(k);
    }
    if let Some(k) = log_group_class {
        input["logGroupClass"] = json!(k);
    }
    if !tags.is_empty() {
        input["tags"] = json!(tags);
    }
    call(c, "CreateLogGroup", input).await.map(drop)
}

/// The log group of exactly this name, or `None`.
pub async fn describe_log_group(c: &Client, name: &str) -> Result<Option<LogGroup>, Error> {
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({ "logGroupNamePrefix": name });
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let out = call(c, "DescribeLogGroups", input).await?;
        let found = out.get("logGroups").and_then(J::as_array).and_then(|xs| {
            xs.iter()
                .find(|g| g.get("logGroupName").and_then(J::as_str) == Some(name))
        });
        if let Some(g) = found {
            let s = |k: &str| g.get(k).and_then(J::as_str).map(str::to_owned);
            let arn = s("arn").unwrap_or_default();
            return Ok(Some(LogGroup {
                name: name.to_owned(),
                arn: arn.strip_suffix(":*").unwrap_or(&arn).to_owned(),
                retention_in_days: g.get("retentionInDays").and_then(J::as_i64).unwrap_or(0),
                kms_key_id: s("kmsKeyId").filter(|k| !k.is_empty()),
                log_group_class: s("logGroupClass").unwrap_or_else(|| "STANDARD".into()),
            }));
        }
        match out.get("nextToken").and_then(J::as_str) {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// Sets the retention; 0 removes it (logs never expire).
pub async fn set_retention(c: &Client, name: &str, days: i64) -> Result<(), Error> {
    if days == 0 {
        call(c, "DeleteRetentionPolicy", json!({ "logGroupName": name }))
            .await
            .map(drop)
    } else {
        call(
            c,
            "PutRetentionPolicy",
            json!({ "logGroupName": name, "retentionInDays": days }),
        )
        .await
        .map(drop)
    }
}

/// Associates a KMS key, or disassociates the current one for `None`.
pub async fn set_kms_key(c: &Client, name: &str, key: Option<&str>) -> Result<(), Error> {
    match key {
        Some(k) => call(
            c,
            "AssociateKmsKey",
            json!({ "logGroupName": name, "kmsKeyId": k }),
        )
        .await
        .map(drop),
        None => call(c, "DisassociateKmsKey", json!({ "logGroupName": name }))
            .await
            .map(drop),
    }
}

pub async fn delete_log_group(c: &Client, name: &str) -> Result<(), Error> {
    match call(c, "DeleteLogGroup", json!({ "logGroupName": name })).await {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}

pub async fn list_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let out = call(c, "ListTagsForResource", json!({ "resourceArn": arn })).await?;
    Ok(out
        .get("tags")
        .and_then(J::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default())
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    call(
        c,
        "TagResource",
        json!({ "resourceArn": arn, "tags": tags }),
    )
    .await
    .map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    call(
        c,
        "UntagResource",
        json!({ "resourceArn": arn, "tagKeys": keys }),
    )
    .await
    .map(drop)
}
