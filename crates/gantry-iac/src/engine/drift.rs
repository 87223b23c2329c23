//! What a refresh found changed outside Gantry, attribute by attribute:
//! the report behind `gantry drift` and the scheduled `infra.drift`
//! checks. Sensitive values are never shown, only that they changed.

use serde::Serialize;
use serde_json::Value as J;

use super::{Action, Change, Plan};
use crate::provider::{Registry, implied_provider};
use crate::value::Value;

/// One attribute that differs between the state and the real object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeDrift {
    /// `tags["team"]`, `versioning_configuration[0].status`.
    pub path: String,
    /// JSON of the value in the state; `"(sensitive value)"` when
    /// sensitive; null when absent.
    pub before: J,
    /// JSON of the value found; as `before`.
    pub after: J,
}

/// One resource instance that drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDrift {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// `changed` or `deleted`.
    pub change: &'static str,
    /// Empty for `deleted`.
    pub attributes: Vec<AttributeDrift>,
}

/// The drift of a refresh-only plan, sorted by address.
pub fn report(plan: &Plan, registry: &Registry) -> Vec<ResourceDrift> {
    let mut out: Vec<ResourceDrift> = plan
        .drift
        .iter()
        .map(|c| resource_drift(c, registry))
        .collect();
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

fn resource_drift(c: &Change, registry: &Registry) -> ResourceDrift {
    let type_name = c.addr.resource.type_name.clone();
    let sensitive_attr = |name: &str| {
        registry
            .get(implied_provider(&type_name))
            .and_then(|f| f.schema().resources.get(&type_name))
            .and_then(|s| s.attributes.get(name))
            .is_some_and(|a| a.sensitive)
    };
    let (change, attributes) = match (c.action, &c.before, &c.after) {
        (Action::Delete, _, _) | (_, _, None) => ("deleted", Vec::new()),
        (_, before, Some(after)) => {
            let mut attrs = Vec::new();
            let before = before.clone().unwrap_or(Value::Null);
            diff("", &before, after, false, &mut attrs, &sensitive_attr);
            ("changed", attrs)
        }
    };
    ResourceDrift {
        address: c.addr.to_string(),
        type_name,
        change,
        attributes,
    }
}

const SENSITIVE: &str = "(sensitive value)";

fn shown(v: &Value, sensitive: bool) -> J {
    if sensitive || v.is_sensitive() {
        J::String(SENSITIVE.into())
    } else {
        v.to_json()
    }
}

fn diff(
    path: &str,
    before: &Value,
    after: &Value,
    sensitive: bool,
    out: &mut Vec<AttributeDrift>,
    sensitive_attr: &dyn Fn(&str) -> bool,
) {
    if before.equals(after) && before.is_sensitive() == after.is_sensitive() {
        return;
    }
    let sensitive = sensitive || before.is_sensitive() || after.is_sensitive();
    let (b, a) = (before.unmarked(), after.unmarked());
    match (b, a) {
        (Value::Object(bm), Value::Object(am)) | (Value::Map(bm), Value::Map(am)) => {
            let object = matches!(b, Value::Object(_));
            let keys: std::collections::BTreeSet<&String> = bm.keys().chain(am.keys()).collect();
            for k in keys {
                let sub = if object {
                    if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    }
                } else {
                    format!("{path}[{}]", J::String(k.clone()))
                };
                let top = path.is_empty() && object && sensitive_attr(k);
                let null = Value::Null;
                diff(
                    &sub,
                    bm.get(k).unwrap_or(&null),
                    am.get(k).unwrap_or(&null),
                    sensitive || top,
                    out,
                    sensitive_attr,
                );
            }
        }
        (Value::List(bx), Value::List(ax)) | (Value::Tuple(bx), Value::Tuple(ax))
            if bx.len() == ax.len() && !path.is_empty() =>
        {
            for (i, (x, y)) in bx.iter().zip(ax).enumerate() {
                diff(
                    &format!("{path}[{i}]"),
                    x,
                    y,
                    sensitive,
                    out,
                    sensitive_attr,
                );
            }
        }
        _ => out.push(AttributeDrift {
            path: path.to_owned(),
            before: if b.is_null() {
                J::Null
            } else {
                shown(before, sensitive)
            },
            after: if a.is_null() {
                J::Null
            } else {
                shown(after, sensitive)
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn paths(before: &Value, after: &Value) -> Vec<(String, J, J)> {
        let mut out = Vec::new();
        diff("", before, after, false, &mut out, &|k| k == "password");
        out.into_iter()
            .map(|d| (d.path, d.before, d.after))
            .collect()
    }

    #[test]
    fn nested_attributes_are_named() {
        let tags = |v: &str| {
            Value::Map(
                [
                    ("team".to_owned(), Value::string(v)),
                    ("keep".to_owned(), Value::string("x")),
                ]
                .into(),
            )
        };
        let before = obj(&[
            ("id", Value::string("b")),
            ("tags", tags("a")),
            (
                "rule",
                Value::List(vec![obj(&[("status", Value::string("Enabled"))])]),
            ),
            ("password", Value::string("old")),
            ("secret", Value::Sensitive(Box::new(Value::string("s1")))),
        ]);
        let after = obj(&[
            ("id", Value::string("b")),
            ("tags", tags("b")),
            (
                "rule",
                Value::List(vec![obj(&[("status", Value::string("Suspended"))])]),
            ),
            ("password", Value::string("new")),
            ("secret", Value::string("s2")),
        ]);
        let s = |x: &str| J::String(x.into());
        assert_eq!(
            paths(&before, &after),
            vec![
                ("password".into(), s(SENSITIVE), s(SENSITIVE)),
                ("rule[0].status".into(), s("Enabled"), s("Suspended")),
                ("secret".into(), s(SENSITIVE), s(SENSITIVE)),
                ("tags[\"team\"]".into(), s("a"), s("b")),
            ]
        );
        assert!(paths(&before, &before).is_empty());
    }

    #[test]
    fn added_and_removed_values_show_null() {
        let before = obj(&[("a", Value::Null), ("b", Value::string("x"))]);
        let after = obj(&[("a", Value::string("y")), ("b", Value::Null)]);
        assert_eq!(
            paths(&before, &after),
            vec![
                ("a".into(), J::Null, J::String("y".into())),
                ("b".into(), J::String("x".into()), J::Null),
            ]
        );
    }
}
