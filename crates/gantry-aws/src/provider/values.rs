//! Reading and building schema-shaped [`Value`] objects.

use std::collections::BTreeMap;

use gantry_iac::provider::{Nesting, ProviderError, Schema};
use gantry_iac::value::{PathStep, Value};

/// An attribute of an object value (through a sensitive mark); null when
/// missing.
pub fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    obj.unmarked()
        .as_map()
        .and_then(|m| m.get(name))
        .map(Value::unmarked)
        .unwrap_or(&NULL)
}

pub fn set(obj: &mut Value, name: &str, v: impl Into<Value>) {
    if let Value::Object(m) = obj {
        m.insert(name.to_owned(), v.into());
    }
}

fn type_error(name: &str, want: &str, v: &Value) -> ProviderError {
    ProviderError::new("incorrect attribute value type")
        .with_detail(format!("{want} required, but have {}", v.kind_name()))
        .at(vec![PathStep::Attr(name.to_owned())])
}

/// A known string; `None` when null or unknown.
pub fn get_str<'a>(obj: &'a Value, name: &str) -> Option<&'a str> {
    attr(obj, name).as_str()
}

/// A known string or an error naming the attribute.
pub fn req_str<'a>(obj: &'a Value, name: &str) -> Result<&'a str, ProviderError> {
    let v = attr(obj, name);
    v.as_str().ok_or_else(|| {
        if v.is_null() {
            ProviderError::new("missing required argument")
                .with_detail(format!("the argument {name:?} is required"))
                .at(vec![PathStep::Attr(name.to_owned())])
        } else {
            type_error(name, "string", v)
        }
    })
}

pub fn get_bool(obj: &Value, name: &str) -> Option<bool> {
    attr(obj, name).as_bool()
}

pub fn get_int(obj: &Value, name: &str) -> Option<i64> {
    attr(obj, name)
        .as_f64()
        .filter(|n| n.fract() == 0.0 && n.is_finite())
        .map(|n| n as i64)
}

/// A known map of strings (tags); empty when null.
pub fn get_string_map(obj: &Value, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let v = attr(obj, name);
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let Some(m) = v.as_map() else {
        return Err(type_error(name, "map of string", v));
    };
    m.iter()
        .map(|(k, x)| {
            x.unmarked()
                .to_template_string()
                .map(|s| (k.clone(), s))
                .ok_or_else(|| type_error(name, "map of string", v))
        })
        .collect()
}

/// A known list or set of known strings; empty when null.
pub fn get_strings(obj: &Value, name: &str) -> Vec<String> {
    attr(obj, name)
        .as_seq()
        .map(|xs| {
            xs.iter()
                .filter_map(|x| x.unmarked().to_template_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The objects of a nested block (list or set); a single object for
/// nesting Single; empty when null.
pub fn blocks<'a>(obj: &'a Value, name: &str) -> Vec<&'a Value> {
    let v = attr(obj, name);
    match v.as_seq() {
        Some(xs) => xs.iter().map(Value::unmarked).collect(),
        None if v.as_map().is_some() => vec![v],
        None => Vec::new(),
    }
}

pub fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v.clone())))
            .collect(),
    )
}

pub fn opt_string(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.into()))
}

/// An object of the schema's shape with every attribute null and every
/// list/set block empty.
pub fn null_object(schema: &Schema) -> Value {
    let mut m: BTreeMap<String, Value> = schema
        .attributes
        .keys()
        .map(|k| (k.clone(), Value::Null))
        .collect();
    for (k, b) in &schema.blocks {
        m.insert(
            k.clone(),
            match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::List => Value::List(Vec::new()),
                Nesting::Set => Value::Set(Vec::new()),
            },
        );
    }
    Value::Object(m)
}

/// An object from pairs (for nested block values).
pub fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Length of the suffix [`unique_name`] adds: Terraform's 14-digit UTC
/// time, 4 digits of the second's fraction, 8 hex digits of counter.
pub const UNIQUE_SUFFIX_LEN: usize = 26;

/// A generated name as Terraform makes them for `name_prefix` and
/// unnamed resources: the prefix, then a unique, time-ordered suffix.
pub fn unique_name(prefix: &str) -> String {
    let now = chrono::Utc::now();
    format!(
        "{prefix}{}{:04}{:08x}",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_micros() / 100,
        rand::random::<u32>()
    )
}

/// The prefix of a name [`unique_name`] made (what Terraform reads back
/// as `name_prefix` on import); `None` for other names.
pub fn name_prefix_of(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(UNIQUE_SUFFIX_LEN)?;
    let (prefix, suffix) = (name.get(..cut)?, name.get(cut..)?);
    let (time, counter) = suffix.split_at(18);
    (!prefix.is_empty()
        && time.bytes().all(|b| b.is_ascii_digit())
        && counter.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some(prefix)
}

/// Compares two JSON documents semantically: equal when they parse to the
/// same value regardless of whitespace and key order (and, as IAM
/// normalises them, a one-element array equals its element).
pub fn json_equivalent(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => normalise_json(x) == normalise_json(y),
        _ => a == b,
    }
}

fn normalise_json(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Array(xs) if xs.len() == 1 => normalise_json(xs.into_iter().next().unwrap_or(J::Null)),
        J::Array(xs) => {
            let mut ys: Vec<J> = xs.into_iter().map(normalise_json).collect();
            // Policy arrays are sets: order does not matter.
            ys.sort_by_key(|y| y.to_string());
            J::Array(ys)
        }
        J::Object(m) => J::Object(m.into_iter().map(|(k, v)| (k, normalise_json(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_have_terraforms_shape() {
        let n = unique_name("terraform-");
        let suffix = n.strip_prefix("terraform-").unwrap();
        assert_eq!(suffix.len(), UNIQUE_SUFFIX_LEN, "{n}");
        assert!(suffix[..18].chars().all(|c| c.is_ascii_digit()), "{n}");
        assert!(suffix[18..].chars().all(|c| c.is_ascii_hexdigit()), "{n}");
        assert_eq!(name_prefix_of(&n), Some("terraform-"));
        assert_eq!(name_prefix_of("web"), None);
        assert_eq!(name_prefix_of("plain-name-without-any-suffix"), None);
    }

    #[test]
    fn json_compares_semantically() {
        assert!(json_equivalent(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
            r#"{ "Statement": { "Action": ["sts:AssumeRole"], "Effect": "Allow" },
                 "Version": "2012-10-17" }"#
        ));
        assert!(json_equivalent(r#"{"A":["x","y"]}"#, r#"{"A":["y","x"]}"#));
        assert!(!json_equivalent(r#"{"A":"x"}"#, r#"{"A":"y"}"#));
        assert!(!json_equivalent("not json", "not  json"));
    }
}
