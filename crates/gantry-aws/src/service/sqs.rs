//! SQS (JSON 1.0, `AmazonSQS.*`).

use std::collections::BTreeMap;

use serde_json::{Value as J, json};

use crate::client::{Client, SQS};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &SQS, "AmazonSQS", "1.0", op, &input).await
}

fn str_map(j: &J, field: &str) -> BTreeMap<String, String> {
    j.get(field)
        .and_then(J::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Creates a queue; returns its URL.
pub async fn create_queue(
    c: &Client,
    name: &str,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
) -> Result<String, Error> {
    const OP: &str = "CreateQueue";
    let mut input = json!({ "QueueName": name, "Attributes": attributes });
    if !tags.is_empty() {
        input["tags"] = json!(tags);
    }
    let out = call(c, OP, input).await?;
    out.get("QueueUrl")
        .and_then(J::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::response(OP, "missing QueueUrl"))
}

const GONE: &[&str] = &[
    "QueueDoesNotExist",
    "NonExistentQueue",
    "AWS.SimpleQueueService.NonExistentQueue",
];

/// The queue's URL, or `None` when there is no such queue.
pub async fn get_queue_url(c: &Client, name: &str) -> Result<Option<String>, Error> {
    match call(c, "GetQueueUrl", json!({ "QueueName": name })).await {
        Ok(out) => Ok(out.get("QueueUrl").and_then(J::as_str).map(str::to_owned)),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

/// All attributes, or `None` when the queue no longer exists.
pub async fn get_queue_attributes(
    c: &Client,
    url: &str,
) -> Result<Option<BTreeMap<String, String>>, Error> {
    match call(
        c,
        "GetQueueAttributes",
        json!({ "QueueUrl": url, "AttributeNames": ["All"] }),
    )
    .await
    {
        Ok(out) => Ok(Some(str_map(&out, "Attributes"))),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn set_queue_attributes(
    c: &Client,
    url: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<(), Error> {
    call(
        c,
        "SetQueueAttributes",
        json!({ "QueueUrl": url, "Attributes": attributes }),
    )
    .await
    .map(drop)
}

pub async fn list_queue_tags(c: &Client, url: &str) -> Result<Tags, Error> {
    let out = call(c, "ListQueueTags", json!({ "QueueUrl": url })).await?;
    Ok(str_map(&out, "Tags"))
}

pub async fn tag_queue(c: &Client, url: &str, tags: &Tags) -> Result<(), Error> {
    call(c, "TagQueue", json!({ "QueueUrl": url, "Tags": tags }))
        .await
        .map(drop)
}

pub async fn untag_queue(c: &Client, url: &str, keys: &[String]) -> Result<(), Error> {
    call(c, "UntagQueue", json!({ "QueueUrl": url, "TagKeys": keys }))
        .await
        .map(drop)
}

pub async fn delete_queue(c: &Client, url: &str) -> Result<(), Error> {
    match call(c, "DeleteQueue", json!({ "QueueUrl": url })).await {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}
