//! `strategy.matrix` and its expansion into legs, with GitHub's documented
//! semantics: the cartesian product of the axes in declaration order (the
//! last axis varies fastest), minus every combination that matches an
//! `exclude` entry on all of that entry's keys, then each `include` entry
//! merged into every *original* combination whose original (axis) values it
//! does not overwrite — values added by earlier includes may be overwritten
//! — or, when it fits none, appended as a new combination. At most 256 legs.

use gantry_config::Span;
use serde_json::Value;

use super::model::Spanned;

/// GitHub's limit on the jobs one matrix generates.
pub const MAX_LEGS: usize = 256;

/// The product is never built when it exceeds this, whatever `exclude` says.
const MAX_PRODUCT: usize = 1 << 16;

/// One `key: value` combination, in order.
pub type Combination = Vec<(String, Value)>;

/// `strategy.matrix` as written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    /// The `matrix:` value.
    pub span: Span,
    /// Axes in declaration order.
    pub axes: Vec<(String, Vec<Value>)>,
    pub include: Vec<Combination>,
    pub exclude: Vec<Combination>,
    /// The whole matrix written as one `${{ }}` string (`${{ fromJSON(..) }}`).
    pub expression: Option<Spanned<String>>,
    /// Axes, `include` or `exclude` written as a `${{ }}` string, by key.
    pub dynamic: Vec<(String, Spanned<String>)>,
}

impl Matrix {
    /// Whether expansion needs expressions evaluated first.
    pub fn is_dynamic(&self) -> bool {
        self.expression.is_some() || !self.dynamic.is_empty()
    }
}

/// One combination of a matrix: the job runs once per leg.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// Values in order: the axes, then keys added by `include`.
    pub values: Combination,
    /// How GitHub shows the leg after the job name: `(ubuntu-latest, 18)`.
    pub name: String,
}

impl Leg {
    fn new(values: Combination) -> Self {
        let shown: Vec<String> = values.iter().map(|(_, v)| display(v)).collect();
        Leg {
            name: format!("({})", shown.join(", ")),
            values,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The `matrix` context: a JSON object of the leg's values.
    pub fn to_json(&self) -> Value {
        Value::Object(self.values.iter().cloned().collect())
    }
}

/// A value as shown in a leg's name.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Matrix values are equal as JSON, numbers by value (`12` equals `12.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|other| same(v, other)))
        }
        _ => a == b,
    }
}

fn lookup<'a>(combo: &'a Combination, key: &str) -> Option<&'a Value> {
    combo.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Expands `m` into its legs, in GitHub's order. Errors say what is wrong
/// (an empty matrix or axis, an `exclude` key that is no axis, more than 256
/// legs, or parts that are expressions not yet evaluated).
pub fn expand_matrix(m: &Matrix) -> Result<Vec<Leg>, String> {
    if m.is_dynamic() {
        return Err("the matrix uses expressions: evaluate them before expanding".to_string());
    }
    if m.axes.is_empty() && m.include.is_empty() {
        return Err("the matrix is empty: expected at least one axis or `include`".to_string());
    }
    let mut size: usize = 1;
    for (key, values) in &m.axes {
        if values.is_empty() {
            return Err(format!("matrix axis `{key}` has no values"));
        }
        size = size.saturating_mul(values.len());
    }
    if size > MAX_PRODUCT {
        return Err(format!(
            "the matrix has {size} combinations: expected at most {MAX_LEGS}"
        ));
    }
    for entry in &m.exclude {
        for (key, _) in entry {
            if !m.axes.iter().any(|(axis, _)| axis == key) {
                return Err(format!("`exclude` key `{key}` is not a matrix axis"));
            }
        }
    }
    let mut combos: Vec<Combination> = if m.axes.is_empty() {
        Vec::new()
    } else {
        let mut product: Vec<Combination> = vec![Vec::new()];
        for (key, values) in &m.axes {
            product = product
                .iter()
                .flat_map(|combo| {
                    values.iter().map(move |value| {
                        let mut next = combo.clone();
                        next.push((key.clone(), value.clone()));
                        next
                    })
                })
                .collect();
        }
        product
    };
    combos.retain(|combo| {
        !m.exclude.iter().any(|entry| {
            entry
                .iter()
                .all(|(k, v)| lookup(combo, k).is_some_and(|have| same(have, v)))
        })
    });
    let is_axis = |key: &str| m.axes.iter().any(|(axis, _)| axis == key);
    let mut added: Vec<Combination> = Vec::new();
    for entry in &m.include {
        let mut fitted = false;
        for combo in &mut combos {
            let fits = entry
                .iter()
                .all(|(k, v)| !is_axis(k) || lookup(combo, k).is_some_and(|have| same(have, v)));
            if !fits {
                continue;
            }
            fitted = true;
            for (k, v) in entry {
                match combo.iter_mut().find(|(have, _)| have == k) {
                    Some((_, slot)) => *slot = v.clone(),
                    None => combo.push((k.clone(), v.clone())),
                }
            }
        }
        if !fitted {
            added.push(entry.clone());
        }
    }
    combos.extend(added);
    if combos.is_empty() {
        return Err("the matrix is empty: `exclude` removes every combination".to_string());
    }
    if combos.len() > MAX_LEGS {
        return Err(format!(
            "the matrix has {} combinations: expected at most {MAX_LEGS}",
            combos.len()
        ));
    }
    Ok(combos.into_iter().map(Leg::new).collect())
}
