//! DynamoDB (JSON 1.0, `DynamoDB_20120810.*`).
//!
//! Also home of the tag-list helpers the other JSON services share
//! ([`tag_list`], [`tags_from_list`]): DynamoDB, SSM and ECR take tags as
//! `[{"Key": k, "Value": v}]`, KMS as `[{"TagKey": k, "TagValue": v}]`.

use serde_json::{Value as J, json};

use crate::client::{Client, DYNAMODB};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &DYNAMODB, "DynamoDB_20120810", "1.0", op, &input).await
}

/// Tags as a JSON list of `{key: k, value: v}` objects.
pub fn tag_list(tags: &Tags, key: &str, value: &str) -> J {
    J::Array(
        tags.iter()
            .map(|(k, v)| json!({ key: k, value: v }))
            .collect(),
    )
}

/// Tags from a JSON list of `{key: k, value: v}` objects (missing or
/// malformed entries are skipped).
pub fn tags_from_list(list: Option<&J>, key: &str, value: &str) -> Tags {
    list.and_then(J::as_array)
        .map(|xs| {
            xs.iter()
                .filter_map(|t| {
                    Some((
                        t.get(key)?.as_str()?.to_owned(),
                        t.get(value).and_then(J::as_str).unwrap_or("").to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

const GONE: &[&str] = &["ResourceNotFoundException"];

/// `CreateTable` with the input as the API takes it; returns the
/// `TableDescription`.
pub async fn create_table(c: &Client, input: J) -> Result<J, Error> {
    let out = call(c, "CreateTable", input).await?;
    Ok(out.get("TableDescription").cloned().unwrap_or(J::Null))
}

/// The `Table` of `DescribeTable`, or `None` when there is no such table.
pub async fn describe_table(c: &Client, name: &str) -> Result<Option<J>, Error> {
    match call(c, "DescribeTable", json!({ "TableName": name })).await {
        Ok(out) => Ok(out.get("Table").cloned()),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `UpdateTable`; `input` holds everything but `TableName`.
pub async fn update_table(c: &Client, name: &str, mut input: J) -> Result<(), Error> {
    input["TableName"] = json!(name);
    call(c, "UpdateTable", input).await.map(drop)
}

/// Deletes the table; a table already gone is not an error.
pub async fn delete_table(c: &Client, name: &str) -> Result<(), Error> {
    match call(c, "DeleteTable", json!({ "TableName": name })).await {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}

/// The TTL setting: (enabled, attribute name).
pub async fn describe_time_to_live(c: &Client, name: &str) -> Result<(bool, String), Error> {
    let out = call(c, "DescribeTimeToLive", json!({ "TableName": name })).await?;
    let d = out.get("TimeToLiveDescription");
    let status = d
        .and_then(|d| d.get("TimeToLiveStatus"))
        .and_then(J::as_str)
        .unwrap_or("DISABLED");
    let attr = d
        .and_then(|d| d.get("AttributeName"))
        .and_then(J::as_str)
        .unwrap_or("");
    Ok((
        matches!(status, "ENABLED" | "ENABLING"),
        if matches!(status, "ENABLED" | "ENABLING") {
            attr.to_owned()
        } else {
            String::new()
        },
    ))
}

pub async fn update_time_to_live(
    c: &Client,
    name: &str,
    enabled: bool,
    attribute: &str,
) -> Result<(), Error> {
    call(
        c,
        "UpdateTimeToLive",
        json!({
            "TableName": name,
            "TimeToLiveSpecification": { "Enabled": enabled, "AttributeName": attribute },
        }),
    )
    .await
    .map(drop)
}

/// Whether point-in-time recovery is on.
pub async fn point_in_time_recovery(c: &Client, name: &str) -> Result<bool, Error> {
    let out = call(c, "DescribeContinuousBackups", json!({ "TableName": name })).await?;
    Ok(out
        .pointer("/ContinuousBackupsDescription/PointInTimeRecoveryDescription/PointInTimeRecoveryStatus")
        .and_then(J::as_str)
        == Some("ENABLED"))
}

pub async fn set_point_in_time_recovery(
    c: &Client,
    name: &str,
    enabled: bool,
) -> Result<(), Error> {
    call(
        c,
        "UpdateContinuousBackups",
        json!({
            "TableName": name,
            "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": enabled },
        }),
    )
    .await
    .map(drop)
}

pub async fn list_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({ "ResourceArn": arn });
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let out = call(c, "ListTagsOfResource", input).await?;
        tags.extend(tags_from_list(out.get("Tags"), "Key", "Value"));
        match out.get("NextToken").and_then(J::as_str) {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(tags),
        }
    }
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    call(
        c,
        "TagResource",
        json!({ "ResourceArn": arn, "Tags": tag_list(tags, "Key", "Value") }),
    )
    .await
    .map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    call(
        c,
        "UntagResource",
        json!({ "ResourceArn": arn, "TagKeys": keys }),
    )
    .await
    .map(drop)
}
