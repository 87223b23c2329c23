//! SNS (query protocol, 2010-03-31).

use std::collections::BTreeMap;

use crate::client::{Client, SNS};
use crate::error::Error;
use crate::protocol::{Params, query};
use crate::service::Tags;
use crate::xml::Element;

const VERSION: &str = "2010-03-31";

const GONE: &[&str] = &["NotFound", "NotFoundException"];

/// Query-protocol tags (`Tags.member.N.Key/Value`) from a `<Tags>` list;
/// shared with CloudWatch, which answers in the same shape.
pub fn tags_of(e: &Element, path: &str) -> Tags {
    e.list(path)
        .into_iter()
        .filter_map(|m| {
            Some((
                m.text_at("Key")?.to_owned(),
                m.text_at("Value").unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// Creates a topic (or finds the one of that name); returns its ARN.
pub async fn create_topic(
    c: &Client,
    name: &str,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
) -> Result<String, Error> {
    let mut p = Params::new();
    p.set("Name", name);
    for (i, (k, v)) in attributes.iter().enumerate() {
        p.set(format!("Attributes.entry.{}.key", i + 1), k.clone());
        p.set(format!("Attributes.entry.{}.value", i + 1), v.clone());
    }
    p.member_pairs("Tags", "Key", "Value", tags.iter());
    let e = query(c, &SNS, "CreateTopic", VERSION, &p).await?;
    e.text_at("TopicArn")
        .map(str::to_owned)
        .ok_or_else(|| Error::response("CreateTopic", "missing TopicArn"))
}

/// Every attribute of the topic, or `None` when it does not exist.
pub async fn get_topic_attributes(
    c: &Client,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>, Error> {
    let mut p = Params::new();
    p.set("TopicArn", arn);
    match query(c, &SNS, "GetTopicAttributes", VERSION, &p).await {
        Ok(e) => Ok(Some(
            e.path("Attributes")
                .map(|a| {
                    a.children_named("entry")
                        .filter_map(|en| {
                            Some((
                                en.text_at("key")?.to_owned(),
                                en.text_at("value").unwrap_or_default().to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn set_topic_attribute(
    c: &Client,
    arn: &str,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("TopicArn", arn)
        .set("AttributeName", name)
        .set("AttributeValue", value);
    query(c, &SNS, "SetTopicAttributes", VERSION, &p)
        .await
        .map(drop)
}

pub async fn delete_topic(c: &Client, arn: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("TopicArn", arn);
    match query(c, &SNS, "DeleteTopic", VERSION, &p).await {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}

pub async fn list_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let mut p = Params::new();
    p.set("ResourceArn", arn);
    let e = query(c, &SNS, "ListTagsForResource", VERSION, &p).await?;
    Ok(tags_of(&e, "Tags"))
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("ResourceArn", arn)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &SNS, "TagResource", VERSION, &p).await.map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("ResourceArn", arn).member_list("TagKeys", keys);
    query(c, &SNS, "UntagResource", VERSION, &p).await.map(drop)
}
