//! IAM policy documents: JSON policies (inline, `jsonencode`, rendered
//! `aws_iam_policy_document`) read into statements, and the
//! `aws_iam_policy_document` data source rendered to its `json` as
//! Terraform's AWS provider does (locally, without an API call).

use std::collections::BTreeMap;

use gantry_iac::value::{Type, Value};
use serde_json::{Map, Value as J};

/// One statement, as far as the checks need it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stmt {
    pub allow: bool,
    /// `Action`, or `NotAction` when `not_action`.
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    /// Principal is `*` or `{"AWS": "*"}` (any AWS principal).
    pub any_principal: bool,
    pub has_condition: bool,
}

fn strings(j: Option<&J>) -> Vec<String> {
    match j {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(xs)) => xs
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn any_principal(p: Option<&J>) -> bool {
    match p {
        Some(J::String(s)) => s == "*",
        Some(J::Object(m)) => m
            .iter()
            .filter(|(k, _)| k.as_str() == "AWS" || k.as_str() == "*")
            .any(|(_, v)| strings(Some(v)).iter().any(|s| s == "*")),
        _ => false,
    }
}

/// The statements of a JSON policy; None when it is not a policy.
pub(super) fn parse_policy(text: &str) -> Option<Vec<Stmt>> {
    let j: J = serde_json::from_str(text).ok()?;
    let stmts = match j.get("Statement")? {
        J::Array(xs) => xs.clone(),
        o @ J::Object(_) => vec![o.clone()],
        _ => return None,
    };
    Some(
        stmts
            .iter()
            .filter_map(|s| {
                let s = s.as_object()?;
                let not_action = s.contains_key("NotAction");
                Some(Stmt {
                    allow: s.get("Effect").and_then(J::as_str) == Some("Allow"),
                    actions: strings(s.get(if not_action { "NotAction" } else { "Action" })),
                    not_action,
                    resources: strings(s.get("Resource")),
                    any_principal: any_principal(s.get("Principal")),
                    has_condition: s
                        .get("Condition")
                        .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty())),
                })
            })
            .collect(),
    )
}

/// The value a reference to an `aws_iam_policy_document` instance has:
/// `json` and `minified_json` rendered when the document is wholly known.
pub(super) fn document_object(values: &Value) -> Value {
    let json = match render_document(values) {
        Some(j) => Value::String(serde_json::to_string_pretty(&j).unwrap_or_default()),
        None => Value::Unknown(Type::String),
    };
    let minified = match &json {
        Value::String(s) => serde_json::from_str::<J>(s)
            .ok()
            .and_then(|j| serde_json::to_string(&j).ok())
            .map(Value::String)
            .unwrap_or(Value::Unknown(Type::String)),
        _ => Value::Unknown(Type::String),
    };
    Value::Object(BTreeMap::from([
        ("id".to_owned(), Value::Unknown(Type::String)),
        ("json".to_owned(), json),
        ("minified_json".to_owned(), minified),
    ]))
}

/// A list of blocks: a list/set of objects, or a single object.
pub(super) fn block_list(v: Option<&Value>) -> Vec<&Value> {
    match v.map(Value::unmarked) {
        Some(Value::List(xs) | Value::Set(xs) | Value::Tuple(xs)) => xs.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

fn attr<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.as_map()?.get(name).map(Value::unmarked)
}

/// A string or a list of strings (None when unknown or not strings).
fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(x) => match x.unmarked() {
            Value::String(s) => Some(vec![s.clone()]),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                xs.iter().map(|x| x.as_str().map(str::to_owned)).collect()
            }
            _ => None,
        },
    }
}

fn one_or_many(mut xs: Vec<String>) -> J {
    if xs.len() == 1 {
        J::String(xs.remove(0))
    } else {
        xs.sort();
        xs.dedup();
        J::Array(xs.into_iter().map(J::String).collect())
    }
}

/// The policy JSON of an `aws_iam_policy_document`'s evaluated arguments;
/// None when some part is unknown or merged from other documents.
fn render_document(v: &Value) -> Option<J> {
    for merged in ["source_policy_documents", "override_policy_documents"] {
        if !str_list(attr(v, merged))?.is_empty() {
            return None;
        }
    }
    for merged in ["source_json", "override_json"] {
        if attr(v, merged).is_some_and(|x| !x.is_null()) {
            return None;
        }
    }
    let mut doc = Map::new();
    let version = match attr(v, "version") {
        None | Some(Value::Null) => "2012-10-17".to_owned(),
        Some(x) => x.as_str()?.to_owned(),
    };
    doc.insert("Version".into(), J::String(version));
    if let Some(id) = attr(v, "policy_id").filter(|x| !x.is_null()) {
        doc.insert("Id".into(), J::String(id.as_str()?.to_owned()));
    }
    let mut stmts = Vec::new();
    if matches!(attr(v, "statement"), Some(Value::Unknown(_))) {
        return None;
    }
    for s in block_list(attr(v, "statement")) {
        if !s.is_wholly_known() {
            return None;
        }
        let mut o = Map::new();
        if let Some(sid) = attr(s, "sid").and_then(Value::as_str) {
            o.insert("Sid".into(), J::String(sid.to_owned()));
        }
        let effect = attr(s, "effect")
            .and_then(Value::as_str)
            .unwrap_or("Allow")
            .to_owned();
        o.insert("Effect".into(), J::String(effect));
        for (tf, js) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            let xs = str_list(attr(s, tf))?;
            if !xs.is_empty() {
                o.insert(js.into(), one_or_many(xs));
            }
        }
        for (tf, js) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let blocks = block_list(attr(s, tf));
            if blocks.is_empty() {
                continue;
            }
            let mut p = Map::new();
            let mut star = false;
            for b in blocks {
                let ty = attr(b, "type").and_then(Value::as_str)?.to_owned();
                let ids = str_list(attr(b, "identifiers"))?;
                if ty == "*" {
                    star = true;
                    continue;
                }
                p.insert(ty, one_or_many(ids));
            }
            if star && p.is_empty() {
                o.insert(js.into(), J::String("*".into()));
            } else {
                o.insert(js.into(), J::Object(p));
            }
        }
        let conds = block_list(attr(s, "condition"));
        if !conds.is_empty() {
            let mut c: Map<String, J> = Map::new();
            for b in conds {
                let test = attr(b, "test").and_then(Value::as_str)?.to_owned();
                let var = attr(b, "variable").and_then(Value::as_str)?.to_owned();
                let vals = str_list(attr(b, "values"))?;
                let entry = c.entry(test).or_insert_with(|| J::Object(Map::new()));
                if let J::Object(m) = entry {
                    m.insert(var, one_or_many(vals));
                }
            }
            o.insert("Condition".into(), J::Object(c));
        }
        stmts.push(J::Object(o));
    }
    doc.insert("Statement".into(), J::Array(stmts));
    Some(J::Object(doc))
}

/// The statements of an `aws_iam_policy_document` as written (each one
/// decided only when its own parts are known).
pub(super) fn document_statements(v: &Value) -> Vec<Stmt> {
    let mut out = Vec::new();
    for s in block_list(attr(v, "statement")) {
        let effect = match attr(s, "effect") {
            None | Some(Value::Null) => "Allow",
            Some(x) => match x.as_str() {
                Some(e) => e,
                None => continue,
            },
        };
        let not_action = attr(s, "not_actions").is_some_and(|x| !x.is_null());
        let Some(actions) = str_list(attr(s, if not_action { "not_actions" } else { "actions" }))
        else {
            continue;
        };
        let Some(resources) = str_list(attr(s, "resources")) else {
            continue;
        };
        let mut any_principal = false;
        for p in block_list(attr(s, "principals")) {
            let ty = attr(p, "type").and_then(Value::as_str).unwrap_or("");
            let ids = str_list(attr(p, "identifiers")).unwrap_or_default();
            if (ty == "*" || ty == "AWS") && ids.iter().any(|i| i == "*") {
                any_principal = true;
            }
        }
        out.push(Stmt {
            allow: effect == "Allow",
            actions,
            not_action,
            resources,
            any_principal,
            has_condition: !block_list(attr(s, "condition")).is_empty(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_list_statements() {
        let p = parse_policy(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#)
            .unwrap_or_default();
        assert_eq!(p.len(), 1);
        assert!(p[0].allow && p[0].actions == ["*"] && p[0].resources == ["*"]);
        let p = parse_policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}]}"#,
        )
        .unwrap_or_default();
        assert!(p[0].any_principal && !p[0].has_condition);
        assert!(parse_policy("not json").is_none());
    }

    #[test]
    fn renders_documents() {
        let stmt = Value::Object(BTreeMap::from([
            (
                "actions".to_owned(),
                Value::Set(vec![Value::from("s3:GetObject")]),
            ),
            ("resources".to_owned(), Value::List(vec![Value::from("*")])),
        ]));
        let doc = Value::Object(BTreeMap::from([(
            "statement".to_owned(),
            Value::List(vec![stmt]),
        )]));
        let o = document_object(&doc);
        let json = o
            .get_attr("json")
            .and_then(|j| j.as_str().map(str::to_owned));
        let parsed = json.as_deref().and_then(parse_policy).unwrap_or_default();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].actions, ["s3:GetObject"]);
        let unknown = Value::Object(BTreeMap::from([(
            "statement".to_owned(),
            Value::Unknown(Type::Any),
        )]));
        assert!(matches!(
            document_object(&unknown).get_attr("json"),
            Some(Value::Unknown(_))
        ));
    }
}
