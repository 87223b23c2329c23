//! aws_iam_policy_document: an IAM policy built locally, serialised
//! exactly as Terraform's provider does (Go's `encoding/json`: struct
//! field order, sorted map keys, HTML-safe escapes, two-space indent;
//! one-element lists as a bare string, longer lists in reverse order).

use std::collections::BTreeMap;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use super::values::{attr, blocks, get_str, get_strings, set};
use super::{Ctx, DataSourceType, block};

pub(super) fn data_sources() -> super::DataSources {
    vec![("aws_iam_policy_document", Box::new(PolicyDocument))]
}

pub(super) struct PolicyDocument;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Doc {
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none", default)]
    version: Option<String>,
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none", default)]
    id: Option<String>,
    #[serde(
        rename = "Statement",
        skip_serializing_if = "Vec::is_empty",
        default,
        deserialize_with = "one_or_many"
    )]
    statement: Vec<Statement>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Statement {
    #[serde(rename = "Sid", skip_serializing_if = "is_empty", default)]
    sid: Option<String>,
    #[serde(rename = "Effect", skip_serializing_if = "is_empty", default)]
    effect: Option<String>,
    #[serde(rename = "Action", skip_serializing_if = "Option::is_none", default)]
    action: Option<J>,
    #[serde(rename = "NotAction", skip_serializing_if = "Option::is_none", default)]
    not_action: Option<J>,
    #[serde(rename = "Resource", skip_serializing_if = "Option::is_none", default)]
    resource: Option<J>,
    #[serde(
        rename = "NotResource",
        skip_serializing_if = "Option::is_none",
        default
    )]
    not_resource: Option<J>,
    #[serde(rename = "Principal", skip_serializing_if = "Option::is_none", default)]
    principal: Option<J>,
    #[serde(
        rename = "NotPrincipal",
        skip_serializing_if = "Option::is_none",
        default
    )]
    not_principal: Option<J>,
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none", default)]
    condition: Option<J>,
}

fn is_empty(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Box<Statement>),
        Many(Vec<Statement>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![*s],
        OneOrMany::Many(v) => v,
    })
}

/// One element as a string, more in reverse order (as Terraform's
/// provider does), none as nothing.
fn string_or_list(mut items: Vec<String>) -> Option<J> {
    match items.len() {
        0 => None,
        1 => items.pop().map(J::String),
        _ => {
            items.sort();
            items.reverse();
            Some(J::Array(items.into_iter().map(J::String).collect()))
        }
    }
}

/// `&{aws:username}` is how a configuration writes a literal `${...}`.
fn unescape_vars(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|s| s.replace("&{", "${")).collect()
}

fn principals(blocks_: &[&Value]) -> Option<J> {
    if blocks_.is_empty() {
        return None;
    }
    let mut raw: BTreeMap<String, J> = BTreeMap::new();
    for b in blocks_ {
        let ty = get_str(b, "type").unwrap_or_default().to_owned();
        let ids = unescape_vars(get_strings(b, "identifiers"));
        let Some(new) = string_or_list(ids) else {
            continue;
        };
        let merged = match (raw.remove(&ty), new) {
            (None, n) => n,
            (Some(J::String(a)), J::String(b)) => J::Array(vec![J::String(a), J::String(b)]),
            (Some(J::String(a)), J::Array(bs)) => {
                J::Array(std::iter::once(J::String(a)).chain(bs).collect())
            }
            (Some(J::Array(mut a)), J::String(b)) => {
                a.push(J::String(b));
                J::Array(a)
            }
            (Some(J::Array(mut a)), J::Array(bs)) => {
                a.extend(bs);
                J::Array(a)
            }
            (Some(_), n) => n,
        };
        raw.insert(ty, merged);
    }
    if raw.len() == 1 && raw.get("*") == Some(&J::String("*".into())) {
        return Some(J::String("*".into()));
    }
    Some(J::Object(raw.into_iter().collect()))
}

fn conditions(blocks_: &[&Value]) -> Option<J> {
    if blocks_.is_empty() {
        return None;
    }
    let mut raw: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for b in blocks_ {
        let test = get_str(b, "test").unwrap_or_default().to_owned();
        let var = get_str(b, "variable").unwrap_or_default().to_owned();
        raw.entry(test)
            .or_default()
            .entry(var)
            .or_default()
            .extend(unescape_vars(get_strings(b, "values")));
    }
    Some(J::Object(
        raw.into_iter()
            .map(|(t, vars)| {
                (
                    t,
                    J::Object(
                        vars.into_iter()
                            .map(|(k, vs)| (k, string_or_list(vs).unwrap_or(J::Array(vec![]))))
                            .collect(),
                    ),
                )
            })
            .collect(),
    ))
}

fn statement(b: &Value) -> Statement {
    Statement {
        sid: get_str(b, "sid").map(str::to_owned),
        effect: Some(get_str(b, "effect").unwrap_or("Allow").to_owned()),
        action: string_or_list(get_strings(b, "actions")),
        not_action: string_or_list(get_strings(b, "not_actions")),
        resource: string_or_list(unescape_vars(get_strings(b, "resources"))),
        not_resource: string_or_list(unescape_vars(get_strings(b, "not_resources"))),
        principal: principals(&blocks(b, "principals")),
        not_principal: principals(&blocks(b, "not_principals")),
        condition: conditions(&blocks(b, "condition")),
    }
}

/// Go's `encoding/json` escapes these inside strings; serde_json does not.
fn go_escape(s: &str) -> String {
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Terraform's id for the document: the CRC-32 (IEEE) of its JSON.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn parse_doc(field: &str, i: usize, s: &str) -> Result<Doc, ProviderError> {
    serde_json::from_str(s).map_err(|e| {
        ProviderError::new("invalid policy document").with_detail(format!("{field}[{i}]: {e}"))
    })
}

/// Puts `s` in place of the statement with the same non-empty Sid, or
/// appends it.
fn merge(into: &mut Vec<Statement>, s: Statement) {
    if let Some(sid) = s.sid.as_deref().filter(|x| !x.is_empty())
        && let Some(slot) = into.iter_mut().find(|x| x.sid.as_deref() == Some(sid))
    {
        *slot = s;
        return;
    }
    into.push(s);
}

pub(super) fn build(config: &Value) -> Result<(String, String), ProviderError> {
    let mut statements: Vec<Statement> = Vec::new();
    for (i, src) in get_strings(config, "source_policy_documents")
        .iter()
        .enumerate()
    {
        for s in parse_doc("source_policy_documents", i, src)?.statement {
            if let Some(sid) = s.sid.as_deref().filter(|x| !x.is_empty())
                && statements.iter().any(|x| x.sid.as_deref() == Some(sid))
            {
                return Err(ProviderError::new("duplicate Sid").with_detail(format!(
                    "found duplicate sid ({sid}) in source_policy_documents; either remove the sid or ensure the sid is unique across all statements"
                )));
            }
            statements.push(s);
        }
    }
    for b in blocks(config, "statement") {
        merge(&mut statements, statement(b));
    }
    for (i, o) in get_strings(config, "override_policy_documents")
        .iter()
        .enumerate()
    {
        for s in parse_doc("override_policy_documents", i, o)?.statement {
            merge(&mut statements, s);
        }
    }
    let doc = Doc {
        version: Some(
            get_str(config, "version")
                .unwrap_or("2012-10-17")
                .to_owned(),
        ),
        id: get_str(config, "policy_id").map(str::to_owned),
        statement: statements,
    };
    // Serialising plain structs and JSON values cannot fail.
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let minified = serde_json::to_string(&doc).unwrap_or_default();
    Ok((go_escape(&pretty), go_escape(&minified)))
}

#[async_trait]
impl DataSourceType for PolicyDocument {
    fn schema(&self) -> Schema {
        let strings = || Attribute::optional(Type::set(Type::String));
        let principal = || {
            block(
                Nesting::Set,
                Schema::new()
                    .attr("type", Attribute::required(Type::String))
                    .attr("identifiers", Attribute::required(Type::set(Type::String))),
                0,
                None,
            )
        };
        let statement = Schema::new()
            .attr("sid", Attribute::optional(Type::String))
            .attr("effect", Attribute::optional_computed(Type::String))
            .attr("actions", strings())
            .attr("not_actions", strings())
            .attr("resources", strings())
            .attr("not_resources", strings())
            .block("principals", principal())
            .block("not_principals", principal())
            .block(
                "condition",
                block(
                    Nesting::Set,
                    Schema::new()
                        .attr("test", Attribute::required(Type::String))
                        .attr("variable", Attribute::required(Type::String))
                        .attr("values", Attribute::required(Type::list(Type::String))),
                    0,
                    None,
                ),
            );
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("json", Attribute::computed(Type::String))
            .attr("minified_json", Attribute::computed(Type::String))
            .attr("policy_id", Attribute::optional(Type::String))
            .attr("version", Attribute::optional_computed(Type::String))
            .attr(
                "source_policy_documents",
                Attribute::optional(Type::list(Type::String)),
            )
            .attr(
                "override_policy_documents",
                Attribute::optional(Type::list(Type::String)),
            )
            .block("statement", block(Nesting::List, statement, 0, None))
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        let (pretty, minified) = build(config)?;
        let mut v = config.clone();
        set(&mut v, "id", crc32(pretty.as_bytes()).to_string());
        set(&mut v, "json", pretty);
        set(&mut v, "minified_json", minified);
        if attr(config, "version").is_null() {
            set(&mut v, "version", "2012-10-17");
        }
        if let Value::Object(m) = &mut v
            && let Some(Value::List(sts)) = m.get_mut("statement")
        {
            for s in sts.iter_mut() {
                if attr(s, "effect").is_null() {
                    set(s, "effect", "Allow");
                }
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn strs(xs: &[&str]) -> Value {
        Value::set_from(xs.iter().map(|x| Value::string(*x)).collect())
    }

    #[test]
    fn matches_terraform_output() {
        let cfg = obj(vec![(
            "statement",
            Value::List(vec![obj(vec![
                ("sid", Value::string("1")),
                (
                    "actions",
                    strs(&["s3:ListAllMyBuckets", "s3:GetBucketLocation"]),
                ),
                ("resources", strs(&["arn:aws:s3:::*"])),
                (
                    "principals",
                    Value::set_from(vec![obj(vec![
                        ("type", Value::string("Service")),
                        ("identifiers", strs(&["ec2.amazonaws.com"])),
                    ])]),
                ),
                (
                    "condition",
                    Value::set_from(vec![obj(vec![
                        ("test", Value::string("StringLike")),
                        ("variable", Value::string("s3:prefix")),
                        (
                            "values",
                            Value::List(vec![
                                Value::string("home/"),
                                Value::string("&{aws:username}/"),
                            ]),
                        ),
                    ])]),
                ),
            ])]),
        )]);
        let (pretty, minified) = build(&cfg).unwrap();
        let want = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*",
      "Principal": {
        "Service": "ec2.amazonaws.com"
      },
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "home/",
            "${aws:username}/"
          ]
        }
      }
    }
  ]
}"#;
        assert_eq!(pretty, want);
        assert!(minified.starts_with(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"1","Effect":"Allow","Action":["#
        ));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn overrides_replace_by_sid_and_escape_like_go() {
        let cfg = obj(vec![
            (
                "source_policy_documents",
                Value::List(vec![Value::string(
                    r#"{"Statement":{"Sid":"A","Effect":"Deny","Action":"x:<y>"}}"#,
                )]),
            ),
            (
                "override_policy_documents",
                Value::List(vec![Value::string(
                    r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"x:&"}]}"#,
                )]),
            ),
        ]);
        let (_, min) = build(&cfg).unwrap();
        assert_eq!(
            min,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"x:\u0026"}]}"#
        );
        let bad = obj(vec![(
            "source_policy_documents",
            Value::List(vec![Value::string("{nope")]),
        )]);
        assert!(
            build(&bad)
                .unwrap_err()
                .to_string()
                .contains("source_policy_documents[0]")
        );
    }
}
