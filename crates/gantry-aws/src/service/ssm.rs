//! SSM Parameter Store (JSON 1.1, `AmazonSSM.*`).

use serde_json::{Value as J, json};

use crate::client::{Client, SSM};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;
use crate::service::dynamodb::{tag_list, tags_from_list};

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &SSM, "AmazonSSM", "1.1", op, &input).await
}

const GONE: &[&str] = &["ParameterNotFound"];

/// A parameter as `GetParameter` (decrypted) and `DescribeParameters`
/// report it together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameter {
    pub name: String,
    pub type_: String,
    pub value: String,
    pub version: i64,
    pub arn: String,
    pub data_type: String,
    pub description: Option<String>,
    pub key_id: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
}

/// Input of [`put_parameter`].
#[derive(Debug, Clone)]
pub struct PutParameter<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub type_: &'a str,
    pub description: Option<&'a str>,
    pub key_id: Option<&'a str>,
    pub allowed_pattern: Option<&'a str>,
    pub tier: Option<&'a str>,
    pub data_type: Option<&'a str>,
    pub overwrite: bool,
    /// Only on create (AWS refuses tags together with `Overwrite`).
    pub tags: Option<&'a Tags>,
}

/// `PutParameter`; returns the new version.
pub async fn put_parameter(c: &Client, p: &PutParameter<'_>) -> Result<i64, Error> {
    let mut input = json!({
        "Name": p.name,
        "Value": p.value,
        "Type": p.type_,
        "Overwrite": p.overwrite,
    });
    for (k, v) in [
        ("Description", p.description),
        ("KeyId", p.key_id),
        ("AllowedPattern", p.allowed_pattern),
        ("Tier", p.tier),
        ("DataType", p.data_type),
    ] {
        if let Some(v) = v {
            input[k] = json!(v);
        }
    }
    if let Some(t) = p.tags.filter(|t| !t.is_empty()) {
        input["Tags"] = tag_list(t, "Key", "Value");
    }
    let out = call(c, "PutParameter", input).await?;
    Ok(out.get("Version").and_then(J::as_i64).unwrap_or(0))
}

/// The parameter, or `None` when there is no such parameter.
pub async fn get_parameter(c: &Client, name: &str) -> Result<Option<Parameter>, Error> {
    let out = match call(
        c,
        "GetParameter",
        json!({ "Name": name, "WithDecryption": true }),
    )
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(GONE) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(p) = out.get("Parameter") else {
        return Ok(None);
    };
    let s = |j: &J, k: &str| j.get(k).and_then(J::as_str).map(str::to_owned);
    let mut param = Parameter {
        name: s(p, "Name").unwrap_or_else(|| name.to_owned()),
        type_: s(p, "Type").unwrap_or_default(),
        value: s(p, "Value").unwrap_or_default(),
        version: p.get("Version").and_then(J::as_i64).unwrap_or(0),
        arn: s(p, "ARN").unwrap_or_default(),
        data_type: s(p, "DataType").unwrap_or_else(|| "text".into()),
        tier: "Standard".into(),
        ..Parameter::default()
    };
    let described = call(
        c,
        "DescribeParameters",
        json!({
            "ParameterFilters": [{ "Key": "Name", "Option": "Equals", "Values": [name] }],
        }),
    )
    .await?;
    if let Some(d) = described
        .get("Parameters")
        .and_then(J::as_array)
        .and_then(|xs| xs.iter().find(|x| s(x, "Name").as_deref() == Some(name)))
    {
        param.description = s(d, "Description");
        param.key_id = s(d, "KeyId");
        param.allowed_pattern = s(d, "AllowedPattern");
        if let Some(t) = s(d, "Tier") {
            param.tier = t;
        }
    }
    Ok(Some(param))
}

pub async fn delete_parameter(c: &Client, name: &str) -> Result<(), Error> {
    match call(c, "DeleteParameter", json!({ "Name": name })).await {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}

pub async fn list_tags(c: &Client, name: &str) -> Result<Tags, Error> {
    let out = call(
        c,
        "ListTagsForResource",
        json!({ "ResourceType": "Parameter", "ResourceId": name }),
    )
    .await?;
    Ok(tags_from_list(out.get("TagList"), "Key", "Value"))
}

pub async fn add_tags(c: &Client, name: &str, tags: &Tags) -> Result<(), Error> {
    call(
        c,
        "AddTagsToResource",
        json!({
            "ResourceType": "Parameter",
            "ResourceId": name,
            "Tags": tag_list(tags, "Key", "Value"),
        }),
    )
    .await
    .map(drop)
}

pub async fn remove_tags(c: &Client, name: &str, keys: &[String]) -> Result<(), Error> {
    call(
        c,
        "RemoveTagsFromResource",
        json!({ "ResourceType": "Parameter", "ResourceId": name, "TagKeys": keys }),
    )
    .await
    .map(drop)
}
