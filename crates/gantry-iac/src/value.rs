//! The value model of the Terraform language: values that may be unknown
//! ("known after apply") or marked sensitive, their types, and Terraform's
//! type conversion rules.
//!
//! Marks: [`Value::Sensitive`] wraps any value, at any depth. An operation
//! on marked values yields a marked result; the simple way to get that right
//! is [`Value::unmark_deep`] on the inputs, compute, then [`Value::mark_if`].
//!
//! Unknowns: [`Value::Unknown`] carries the type it will have. An operation
//! with an unknown operand yields an unknown of the result type, never an
//! error (unless the known operands are already wrong).

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `any`: no constraint (cty's DynamicPseudoType).
    Any,
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    /// `object({...})`. `optional` holds the attributes declared with
    /// `optional(T)` or `optional(T, default)`, with their default value.
    Object {
        attrs: BTreeMap<String, Type>,
        optional: BTreeMap<String, Option<Value>>,
    },
}

impl Type {
    pub fn object(attrs: BTreeMap<String, Type>) -> Type {
        Type::Object {
            attrs,
            optional: BTreeMap::new(),
        }
    }

    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// True when the type contains `any` somewhere.
    pub fn has_any(&self) -> bool {
        match self {
            Type::Any => true,
            Type::Bool | Type::Number | Type::String => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_any(),
            Type::Tuple(ts) => ts.iter().any(Type::has_any),
            Type::Object { attrs, .. } => attrs.values().any(Type::has_any),
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// The element type of a list, set or map.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    /// Terraform's type expression syntax: `list(string)`, `object({a=number})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object { attrs, optional } => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if optional.contains_key(k) {
                        write!(f, "{k}=optional({t})")?;
                    } else {
                        write!(f, "{k}={t}")?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

/// A value of the Terraform language.
///
/// Invariants kept by the constructors in this module: `Set` elements are
/// distinct and sorted by [`Value::cmp_total`]; `Map`/`Object` keys are
/// sorted (BTreeMap). `Null` is typeless: conversion to any type keeps it
/// null.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Known after apply; the type it will have.
    Unknown(Type),
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    /// A sensitive value.
    Sensitive(Box<Value>),
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// Why a conversion failed: the attribute path (`["a"][0]` style, empty for
/// the top level) and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ConvertError {
    pub path: String,
    pub message: String,
}

impl ConvertError {
    fn new(path: &str, message: impl Into<String>) -> Self {
        ConvertError {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

impl Value {
    /// The (key, value) pairs a `for` expression or `for_each` walks: list
    /// and tuple elements by index, set elements by themselves, map and
    /// object attributes by name. Any other value is handed back.
    pub fn keyed_items(self) -> Result<Vec<(Value, Value)>, Value> {
        Ok(match self {
            Value::List(xs) | Value::Tuple(xs) => xs
                .into_iter()
                .enumerate()
                .map(|(i, x)| (Value::Number(i as f64), x))
                .collect(),
            Value::Set(xs) => xs.into_iter().map(|x| (x.clone(), x)).collect(),
            Value::Map(m) | Value::Object(m) => {
                m.into_iter().map(|(k, x)| (Value::String(k), x)).collect()
            }
            other => return Err(other),
        })
    }

    /// A set from any elements: deduplicated and sorted.
    pub fn set_from(mut items: Vec<Value>) -> Value {
        items.sort_by(Value::cmp_total);
        items.dedup();
        Value::Set(items)
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Sensitive(v) => v.is_null(),
            _ => false,
        }
    }

    /// False when this value (not looking inside collections) is unknown.
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(v) => v.is_known(),
            _ => true,
        }
    }

    /// False when this value or anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(v) => v.is_wholly_known(),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                xs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// True when this value itself carries the sensitive mark.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when this value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                xs.iter().any(Value::contains_sensitive)
            }
            Value::Map(m) | Value::Object(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// Marks the value sensitive (idempotent).
    pub fn mark(self) -> Value {
        match self {
            v @ Value::Sensitive(_) => v,
            v => Value::Sensitive(Box::new(v)),
        }
    }

    pub fn mark_if(self, sensitive: bool) -> Value {
        if sensitive { self.mark() } else { self }
    }

    /// Removes the top-level mark: the value and whether it was marked.
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(v) => (v.unmark().0, true),
            v => (v, false),
        }
    }

    /// A borrowed view without the top-level mark.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(v) => v.unmarked(),
            v => v,
        }
    }

    /// Removes every mark at any depth: the value and whether any was found.
    pub fn unmark_deep(self) -> (Value, bool) {
        let mut found = false;
        let v = self.unmark_deep_into(&mut found);
        (v, found)
    }

    fn unmark_deep_into(self, found: &mut bool) -> Value {
        match self {
            Value::Sensitive(v) => {
                *found = true;
                v.unmark_deep_into(found)
            }
            Value::List(xs) => {
                Value::List(xs.into_iter().map(|x| x.unmark_deep_into(found)).collect())
            }
            Value::Set(xs) => {
                Value::set_from(xs.into_iter().map(|x| x.unmark_deep_into(found)).collect())
            }
            Value::Tuple(xs) => {
                Value::Tuple(xs.into_iter().map(|x| x.unmark_deep_into(found)).collect())
            }
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, x)| (k, x.unmark_deep_into(found)))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, x.unmark_deep_into(found)))
                    .collect(),
            ),
            v => v,
        }
    }

    /// The paths (as JSON-pointer-like step lists) of every sensitive value
    /// inside, for state's `sensitive_attributes`.
    pub fn sensitive_paths(&self) -> Vec<Vec<PathStep>> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.collect_sensitive(&mut path, &mut out);
        out
    }

    fn collect_sensitive(&self, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        match self {
            Value::Sensitive(_) => out.push(path.clone()),
            Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    path.push(PathStep::Index(i as i64));
                    x.collect_sensitive(path, out);
                    path.pop();
                }
            }
            Value::Map(m) => {
                for (k, x) in m {
                    path.push(PathStep::Key(k.clone()));
                    x.collect_sensitive(path, out);
                    path.pop();
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(PathStep::Attr(k.clone()));
                    x.collect_sensitive(path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The type of this value (tuples and objects keep their structure).
    /// `Null` reports `Any`.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Any,
            Value::Unknown(t) => t.clone(),
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(xs) => Type::list(unify_all(xs.iter().map(Value::type_of))),
            Value::Set(xs) => Type::set(unify_all(xs.iter().map(Value::type_of))),
            Value::Map(m) => Type::map(unify_all(m.values().map(Value::type_of))),
            Value::Tuple(xs) => Type::Tuple(xs.iter().map(Value::type_of).collect()),
            Value::Object(m) => {
                Type::object(m.iter().map(|(k, v)| (k.clone(), v.type_of())).collect())
            }
            Value::Sensitive(v) => v.type_of(),
        }
    }

    /// A short name of the value's kind for error messages: "string",
    /// "number", "bool", "list", "set", "tuple", "map", "object", "null".
    pub fn kind_name(&self) -> &'static str {
        match self.unmarked() {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Tuple(_) => "tuple",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Sensitive(_) => "sensitive",
        }
    }

    /// Elements of a list, set or tuple (None for anything else).
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => Some(xs),
            _ => None,
        }
    }

    /// Attributes/entries of a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmarked() {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unmarked() {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Attribute or map-key lookup (marks of the container carry over).
    pub fn get_attr(&self, name: &str) -> Option<Value> {
        match self {
            Value::Sensitive(v) => v.get_attr(name).map(Value::mark),
            Value::Map(m) | Value::Object(m) => m.get(name).cloned(),
            _ => None,
        }
    }

    /// A total order used for sets and `sort`-like operations: by kind, then
    /// by value. Numbers compare numerically, strings lexically.
    pub fn cmp_total(a: &Value, b: &Value) -> std::cmp::Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::List(_) => 4,
                Value::Set(_) => 5,
                Value::Tuple(_) => 6,
                Value::Map(_) => 7,
                Value::Object(_) => 8,
                Value::Unknown(_) => 9,
                Value::Sensitive(_) => 10,
            }
        }
        use std::cmp::Ordering;
        match (a, b) {
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::List(x), Value::List(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::Tuple(x), Value::Tuple(y)) => {
                for (p, q) in x.iter().zip(y) {
                    let o = Value::cmp_total(p, q);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.len().cmp(&y.len())
            }
            (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
                for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                    let o = k1.cmp(k2).then_with(|| Value::cmp_total(v1, v2));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.len().cmp(&y.len())
            }
            (Value::Sensitive(x), Value::Sensitive(y)) => Value::cmp_total(x, y),
            _ => rank(a).cmp(&rank(b)),
        }
    }

    /// Terraform's `==`: true when both are known and equal after removing
    /// marks. Lists and tuples with equal elements are equal; so are maps
    /// and objects. The caller handles unknowns (the result is unknown).
    pub fn equals(&self, other: &Value) -> bool {
        match (self.unmarked(), other.unmarked()) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b))
            | (Value::Tuple(a), Value::Tuple(b))
            | (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && v1.equals(v2))
            }
            _ => false,
        }
    }

    /// Converts to `ty` with Terraform's rules: primitives convert between
    /// each other where the text allows (`"1"`→1, `"true"`→true, 1→`"1"`),
    /// tuples become lists/sets (elements unified), objects become maps,
    /// lists/sets/tuples convert between each other, missing `optional()`
    /// attributes get their default or null. Marks are kept in place;
    /// unknowns become unknowns of `ty`.
    pub fn convert(&self, ty: &Type) -> Result<Value, ConvertError> {
        convert_at(self, ty, "")
    }

    /// Renders a primitive as Terraform's string interpolation does
    /// (`1`, `1.5`, `true`); None for collections, null and unknowns.
    pub fn to_template_string(&self) -> Option<String> {
        match self.unmarked() {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The value as JSON (for state, plan files and `jsonencode`). Unknowns
    /// become null; marks are dropped (the caller records them separately).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => J::String(s.clone()),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                J::Array(xs.iter().map(Value::to_json).collect())
            }
            Value::Map(m) | Value::Object(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Sensitive(v) => v.to_json(),
        }
    }

    /// A value from JSON with its structure inferred: arrays become tuples,
    /// objects become objects (as `jsondecode` does).
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::String(s.clone()),
            J::Array(xs) => Value::Tuple(xs.iter().map(Value::from_json).collect()),
            J::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// A value from JSON shaped by a type (for reading state against a
    /// schema): arrays become lists/sets/tuples as the type says.
    pub fn from_json_typed(j: &serde_json::Value, ty: &Type) -> Result<Value, ConvertError> {
        Value::from_json(j).convert(ty)
    }
}

/// Formats a number as Terraform prints it: integers without a fraction,
/// other numbers in the shortest form that reads back the same.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        format!("{n}")
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(i64),
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Attr(a) => write!(f, ".{a}"),
            PathStep::Key(k) => write!(f, "[{k:?}]"),
            PathStep::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// The most specific type both `a` and `b` convert to, if any (Terraform's
/// unification for list/map elements and conditional results).
pub fn unify(a: &Type, b: &Type) -> Option<Type> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Type::Any, t) | (t, Type::Any) => Some(t.clone()),
        (Type::String, Type::Number | Type::Bool) | (Type::Number | Type::Bool, Type::String) => {
            Some(Type::String)
        }
        (Type::List(x), Type::List(y)) => unify(x, y).map(Type::list),
        (Type::Set(x), Type::Set(y)) => unify(x, y).map(Type::set),
        (Type::Map(x), Type::Map(y)) => unify(x, y).map(Type::map),
        (Type::Tuple(xs), Type::Tuple(ys)) if xs.len() == ys.len() => xs
            .iter()
            .zip(ys)
            .map(|(x, y)| unify(x, y))
            .collect::<Option<Vec<_>>>()
            .map(Type::Tuple),
        (Type::Tuple(xs), Type::List(y)) | (Type::List(y), Type::Tuple(xs)) => {
            let mut t = (**y).clone();
            for x in xs {
                t = unify(&t, x)?;
            }
            Some(Type::list(t))
        }
        (Type::Object { attrs: xa, .. }, Type::Object { attrs: ya, .. }) => {
            if xa.keys().eq(ya.keys()) {
                xa.iter()
                    .map(|(k, x)| unify(x, &ya[k]).map(|t| (k.clone(), t)))
                    .collect::<Option<BTreeMap<_, _>>>()
                    .map(Type::object)
            } else {
                // Objects with different attributes unify as a map when
                // all attribute types do.
                let mut t = Type::Any;
                for x in xa.values().chain(ya.values()) {
                    t = unify(&t, x)?;
                }
                Some(Type::map(t))
            }
        }
        (Type::Object { attrs, .. }, Type::Map(e)) | (Type::Map(e), Type::Object { attrs, .. }) => {
            let mut t = (**e).clone();
            for x in attrs.values() {
                t = unify(&t, x)?;
            }
            Some(Type::map(t))
        }
        _ => None,
    }
}

/// Unifies every type in `types`; `Any` when empty or when they do not
/// unify (the collection then keeps mixed elements as `any`).
pub fn unify_all(types: impl Iterator<Item = Type>) -> Type {
    let mut acc: Option<Type> = None;
    for t in types {
        acc = Some(match acc {
            None => t,
            Some(a) => match unify(&a, &t) {
                Some(u) => u,
                None => return Type::Any,
            },
        });
    }
    acc.unwrap_or(Type::Any)
}

fn join_path(path: &str, step: &PathStep) -> String {
    format!("{path}{step}")
}

fn convert_at(v: &Value, ty: &Type, path: &str) -> Result<Value, ConvertError> {
    if let Value::Sensitive(inner) = v {
        return Ok(convert_at(inner, ty, path)?.mark());
    }
    if let Value::Null = v {
        return Ok(Value::Null);
    }
    if let Value::Unknown(t) = v {
        return Ok(Value::Unknown(if *ty == Type::Any {
            t.clone()
        } else {
            ty.clone()
        }));
    }
    match ty {
        Type::Any => Ok(v.clone()),
        Type::String => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::String(format_number(*n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(ConvertError::new(
                path,
                format!("string required, but have {}", v.kind_name()),
            )),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => parse_number(s).map(Value::Number).ok_or_else(|| {
                ConvertError::new(
                    path,
                    format!("a number is required, but {s:?} is not a number"),
                )
            }),
            _ => Err(ConvertError::new(
                path,
                format!("number required, but have {}", v.kind_name()),
            )),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            Value::String(s) => Err(ConvertError::new(
                path,
                format!("a bool is required, but {s:?} is not \"true\" or \"false\""),
            )),
            _ => Err(ConvertError::new(
                path,
                format!("bool required, but have {}", v.kind_name()),
            )),
        },
        Type::List(et) | Type::Set(et) => {
            let items: &[Value] = match v {
                Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => xs,
                _ => {
                    return Err(ConvertError::new(
                        path,
                        format!(
                            "{} required, but have {}",
                            if matches!(ty, Type::List(_)) {
                                "list"
                            } else {
                                "set"
                            },
                            v.kind_name()
                        ),
                    ));
                }
            };
            let et = if et.has_any() && **et == Type::Any {
                unify_all(items.iter().map(Value::type_of))
            } else {
                (**et).clone()
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                out.push(convert_at(
                    x,
                    &et,
                    &join_path(path, &PathStep::Index(i as i64)),
                )?);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::set_from(out)
            })
        }
        Type::Map(et) => {
            let m = match v {
                Value::Map(m) | Value::Object(m) => m,
                _ => {
                    return Err(ConvertError::new(
                        path,
                        format!("map required, but have {}", v.kind_name()),
                    ));
                }
            };
            let et = if **et == Type::Any {
                unify_all(m.values().map(Value::type_of))
            } else {
                (**et).clone()
            };
            let mut out = BTreeMap::new();
            for (k, x) in m {
                out.insert(
                    k.clone(),
                    convert_at(x, &et, &join_path(path, &PathStep::Key(k.clone())))?,
                );
            }
            Ok(Value::Map(out))
        }
        Type::Tuple(ts) => {
            let items = match v {
                Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) => xs,
                _ => {
                    return Err(ConvertError::new(
                        path,
                        format!("tuple required, but have {}", v.kind_name()),
                    ));
                }
            };
            if items.len() != ts.len() {
                return Err(ConvertError::new(
                    path,
                    format!(
                        "tuple required with {} elements, but have {}",
                        ts.len(),
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .zip(ts)
                .enumerate()
                .map(|(i, (x, t))| convert_at(x, t, &join_path(path, &PathStep::Index(i as i64))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Tuple)
        }
        Type::Object { attrs, optional } => {
            let m = match v {
                Value::Map(m) | Value::Object(m) => m,
                _ => {
                    return Err(ConvertError::new(
                        path,
                        format!("object required, but have {}", v.kind_name()),
                    ));
                }
            };
            let mut out = BTreeMap::new();
            for (k, t) in attrs {
                let sub = join_path(path, &PathStep::Attr(k.clone()));
                match m.get(k) {
                    Some(x) if !(x.is_null() && optional.contains_key(k)) => {
                        out.insert(k.clone(), convert_at(x, t, &sub)?);
                    }
                    _ => match optional.get(k) {
                        Some(Some(default)) => {
                            out.insert(k.clone(), convert_at(default, t, &sub)?);
                        }
                        Some(None) => {
                            out.insert(k.clone(), Value::Null);
                        }
                        None => {
                            return Err(ConvertError::new(
                                path,
                                format!("attribute {k:?} is required"),
                            ));
                        }
                    },
                }
            }
            Ok(Value::Object(out))
        }
    }
}

/// Parses a number as Terraform's string-to-number conversion does.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn primitives_convert_like_terraform() {
        assert_eq!(
            Value::from("12").convert(&Type::Number),
            Ok(Value::Number(12.0))
        );
        assert_eq!(
            Value::from(1.5).convert(&Type::String),
            Ok(Value::from("1.5"))
        );
        assert_eq!(
            Value::from(3.0).convert(&Type::String),
            Ok(Value::from("3"))
        );
        assert_eq!(
            Value::from("true").convert(&Type::Bool),
            Ok(Value::Bool(true))
        );
        assert!(Value::from("yes").convert(&Type::Bool).is_err());
        assert!(Value::from("abc").convert(&Type::Number).is_err());
        assert!(Value::from("inf").convert(&Type::Number).is_err());
    }

    #[test]
    fn tuples_unify_into_lists() {
        let t = Value::Tuple(vec![Value::from("a"), Value::from(1.0)]);
        assert_eq!(
            t.convert(&Type::list(Type::Any)),
            Ok(Value::List(vec![Value::from("a"), Value::from("1")]))
        );
        let s = Value::Tuple(vec![Value::from("b"), Value::from("a"), Value::from("b")]);
        assert_eq!(
            s.convert(&Type::set(Type::String)),
            Ok(Value::Set(vec![Value::from("a"), Value::from("b")]))
        );
    }

    #[test]
    fn optional_attributes_get_defaults() {
        let ty = Type::Object {
            attrs: [
                ("a".to_string(), Type::String),
                ("b".to_string(), Type::Number),
            ]
            .into(),
            optional: [("b".to_string(), Some(Value::from(5.0)))].into(),
        };
        let v = obj(&[("a", Value::from("x"))]);
        assert_eq!(
            v.convert(&ty),
            Ok(obj(&[("a", Value::from("x")), ("b", Value::from(5.0))]))
        );
        let err = obj(&[("b", Value::from(1.0))]).convert(&ty).unwrap_err();
        assert_eq!(err.to_string(), "attribute \"a\" is required");
    }

    #[test]
    fn marks_and_unknowns_survive_conversion() {
        let v = Value::from("1").mark();
        assert_eq!(v.convert(&Type::Number), Ok(Value::Number(1.0).mark()));
        let u = Value::Unknown(Type::String);
        assert_eq!(u.convert(&Type::Number), Ok(Value::Unknown(Type::Number)));
        let l = Value::List(vec![Value::from("a").mark(), Value::from("b")]);
        assert!(l.contains_sensitive());
        assert_eq!(l.sensitive_paths(), vec![vec![PathStep::Index(0)]]);
        let (plain, found) = l.unmark_deep();
        assert!(found && !plain.contains_sensitive());
    }

    #[test]
    fn numbers_format_without_trailing_fraction() {
        assert_eq!(format_number(10.0), "10");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(Value::from(3.0).to_json(), serde_json::json!(3));
    }
}
