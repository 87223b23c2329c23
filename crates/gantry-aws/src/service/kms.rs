//! KMS (JSON 1.1, `TrentService.*`).

use serde_json::{Value as J, json};

use crate::client::{Client, KMS};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;
use crate::service::dynamodb::{tag_list, tags_from_list};

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &KMS, "TrentService", "1.1", op, &input).await
}

const GONE: &[&str] = &["NotFoundException"];

/// A key as `DescribeKey` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Key {
    pub key_id: String,
    pub arn: String,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub enabled: bool,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub key_state: String,
    pub multi_region: bool,
    /// `CUSTOMER` or `AWS` (AWS-managed keys rotate on AWS's schedule).
    pub key_manager: String,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`.
    pub origin: String,
}

fn key_of(op: &str, out: &J) -> Result<Key, Error> {
    let m = out
        .get("KeyMetadata")
        .ok_or_else(|| Error::response(op, "missing KeyMetadata"))?;
    let s = |k: &str| m.get(k).and_then(J::as_str).unwrap_or("").to_owned();
    let spec = match s("KeySpec") {
        x if x.is_empty() => s("CustomerMasterKeySpec"),
        x => x,
    };
    Ok(Key {
        key_id: s("KeyId"),
        arn: s("Arn"),
        description: s("Description"),
        key_usage: s("KeyUsage"),
        key_spec: spec,
        enabled: m.get("Enabled").and_then(J::as_bool).unwrap_or(false),
        key_state: s("KeyState"),
        multi_region: m.get("MultiRegion").and_then(J::as_bool).unwrap_or(false),
        key_manager: s("KeyManager"),
        origin: s("Origin"),
    })
}

/// Input of [`create_key`].
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub description: Option<&'a str>,
    pub key_usage: &'a str,
    pub key_spec: &'a str,
    pub policy: Option<&'a str>,
    pub multi_region: bool,
    pub bypass_policy_lockout_safety_check: bool,
    pub tags: &'a Tags,
}

pub async fn create_key(c: &Client, k: &NewKey<'_>) -> Result<Key, Error> {
    let mut input = json!({
        "KeyUsage": k.key_usage,
        "KeySpec": k.key_spec,
        "MultiRegion": k.multi_region,
    });
    if let Some(d) = k.description {
        input["Description"] = json!(d);
    }
    if let Some(p) = k.policy {
        input["Policy"] = json!(p);
    }
    if k.bypass_policy_lockout_safety_check {
        input["BypassPolicyLockoutSafetyCheck"] = json!(true);
    }
    if !k.tags.is_empty() {
        input["Tags"] = tag_list(k.tags, "TagKey", "TagValue");
    }
    let out = call(c, "CreateKey", input).await?;
    key_of("CreateKey", &out)
}

/// The key, or `None` when there is no such key.
pub async fn describe_key(c: &Client, key_id: &str) -> Result<Option<Key>, Error> {
    match call(c, "DescribeKey", json!({ "KeyId": key_id })).await {
        Ok(out) => key_of("DescribeKey", &out).map(Some),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `default` key policy.
pub async fn get_key_policy(c: &Client, key_id: &str) -> Result<String, Error> {
    let out = call(
        c,
        "GetKeyPolicy",
        json!({ "KeyId": key_id, "PolicyName": "default" }),
    )
    .await?;
    Ok(out
        .get("Policy")
        .and_then(J::as_str)
        .unwrap_or("")
        .to_owned())
}

pub async fn put_key_policy(c: &Client, key_id: &str, policy: &str) -> Result<(), Error> {
    call(
        c,
        "PutKeyPolicy",
        json!({ "KeyId": key_id, "PolicyName": "default", "Policy": policy }),
    )
    .await
    .map(drop)
}

pub async fn get_key_rotation_status(c: &Client, key_id: &str) -> Result<bool, Error> {
    let out = call(c, "GetKeyRotationStatus", json!({ "KeyId": key_id })).await?;
    Ok(out
        .get("KeyRotationEnabled")
        .and_then(J::as_bool)
        .unwrap_or(false))
}

pub async fn set_key_rotation(c: &Client, key_id: &str, enabled: bool) -> Result<(), Error> {
    let op = if enabled {
        "EnableKeyRotation"
    } else {
        "DisableKeyRotation"
    };
    call(c, op, json!({ "KeyId": key_id })).await.map(drop)
}

pub async fn set_key_enabled(c: &Client, key_id: &str, enabled: bool) -> Result<(), Error> {
    let op = if enabled { "EnableKey" } else { "DisableKey" };
    call(c, op, json!({ "KeyId": key_id })).await.map(drop)
}

pub async fn update_key_description(
    c: &Client,
    key_id: &str,
    description: &str,
) -> Result<(), Error> {
    call(
        c,
        "UpdateKeyDescription",
        json!({ "KeyId": key_id, "Description": description }),
    )
    .await
    .map(drop)
}

pub async fn list_resource_tags(c: &Client, key_id: &str) -> Result<Tags, Error> {
    let mut tags = Tags::new();
    let mut marker: Option<String> = None;
    loop {
        let mut input = json!({ "KeyId": key_id });
        if let Some(m) = &marker {
            input["Marker"] = json!(m);
        }
        let out = call(c, "ListResourceTags", input).await?;
        tags.extend(tags_from_list(out.get("Tags"), "TagKey", "TagValue"));
        match (
            out.get("Truncated").and_then(J::as_bool),
            out.get("NextMarker").and_then(J::as_str),
        ) {
            (Some(true), Some(m)) => marker = Some(m.to_owned()),
            _ => return Ok(tags),
        }
    }
}

pub async fn tag_resource(c: &Client, key_id: &str, tags: &Tags) -> Result<(), Error> {
    call(
        c,
        "TagResource",
        json!({ "KeyId": key_id, "Tags": tag_list(tags, "TagKey", "TagValue") }),
    )
    .await
    .map(drop)
}

pub async fn untag_resource(c: &Client, key_id: &str, keys: &[String]) -> Result<(), Error> {
    call(
        c,
        "UntagResource",
        json!({ "KeyId": key_id, "TagKeys": keys }),
    )
    .await
    .map(drop)
}

/// Schedules the key's deletion after `days` (7 to 30); a key already
/// gone or already pending deletion is not an error.
pub async fn schedule_key_deletion(c: &Client, key_id: &str, days: i64) -> Result<(), Error> {
    match call(
        c,
        "ScheduleKeyDeletion",
        json!({ "KeyId": key_id, "PendingWindowInDays": days }),
    )
    .await
    {
        Err(e) if e.is(GONE) => Ok(()),
        Err(e) if e.is(&["KMSInvalidStateException"]) => Ok(()),
        r => r.map(drop),
    }
}

/// The ids of every key in the region (all pages).
pub async fn list_keys(c: &Client) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut input = json!({});
        if let Some(m) = &marker {
            input["Marker"] = json!(m);
        }
        let out = call(c, "ListKeys", input).await?;
        let keys = out
            .get("Keys")
            .and_then(J::as_array)
            .ok_or_else(|| Error::response("ListKeys", "missing Keys list"))?;
        for k in keys {
            let id = k
                .get("KeyId")
                .and_then(J::as_str)
                .ok_or_else(|| Error::response("ListKeys", "a key without KeyId"))?;
            ids.push(id.to_owned());
        }
        match (
            out.get("Truncated").and_then(J::as_bool),
            out.get("NextMarker").and_then(J::as_str),
        ) {
            (Some(true), Some(m)) => marker = Some(m.to_owned()),
            _ => return Ok(ids),
        }
    }
}
