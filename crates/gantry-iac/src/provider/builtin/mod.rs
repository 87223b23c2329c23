//! The built-in providers: random, null, local and terraform.
//!
//! Each provider keeps Terraform's resource type names, attribute names and
//! state shapes, so configurations and state written for Terraform read the
//! same here. Values are returned without sensitive marks: the engine marks
//! attributes the schema declares `sensitive` (as Terraform core does).
//!
//! Shared here: the factory type every built-in provider is built from,
//! attribute accessors over schema-shaped objects, the planning helpers
//! (defaults, "this plan replaces the object") and the random source.

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{Provider, ProviderError, ProviderFactory, ProviderSchema, Schema};
use crate::value::{PathStep, Value};

mod local;
mod null;
mod random;
mod terraform;
pub mod words;

/// Every built-in provider factory.
pub fn factories() -> Vec<Arc<dyn ProviderFactory>> {
    vec![
        random::factory(),
        null::factory(),
        local::factory(),
        terraform::factory(),
    ]
}

/// A built-in provider before configuration. None of the built-in
/// providers take settings: their provider schemas are empty.
struct Factory {
    name: &'static str,
    source: &'static str,
    schema: fn() -> &'static ProviderSchema,
    build: fn() -> Arc<dyn Provider>,
}

#[async_trait]
impl ProviderFactory for Factory {
    fn name(&self) -> &'static str {
        self.name
    }

    fn source(&self) -> &'static str {
        self.source
    }

    fn schema(&self) -> &ProviderSchema {
        (self.schema)()
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn Provider>, ProviderError> {
        match config.unmarked() {
            Value::Null => {}
            Value::Object(m) | Value::Map(m) => {
                // Null entries are what an engine may pass for an empty
                // block; anything set is an argument these providers lack.
                if let Some(k) = m.iter().find(|(_, v)| !v.is_null()).map(|(k, _)| k) {
                    return Err(ProviderError::new("unsupported argument")
                        .with_detail(format!(
                            "an argument named {k:?} is not expected here: the {} provider has no settings",
                            self.name
                        ))
                        .at(path(k)));
                }
            }
            other => {
                return Err(
                    ProviderError::new("invalid provider configuration").with_detail(format!(
                        "an object is required, but have {}",
                        other.kind_name()
                    )),
                );
            }
        }
        Ok((self.build)())
    }
}

/// The error for a resource or data source type a provider does not have.
fn unsupported(kind: &str, type_name: &str, provider: &str) -> ProviderError {
    ProviderError::new(format!("invalid {kind} type")).with_detail(format!(
        "the provider {provider} does not support {kind} type {type_name:?}"
    ))
}

/// The path of a top-level attribute.
fn path(name: &str) -> Vec<PathStep> {
    vec![PathStep::Attr(name.to_owned())]
}

/// An attribute of an object value; null when missing.
fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    obj.as_map().and_then(|m| m.get(name)).unwrap_or(&NULL)
}

/// True when the attribute is set (known or not) in `obj`.
fn is_set(obj: &Value, name: &str) -> bool {
    !attr(obj, name).is_null()
}

/// True when the attribute's value is unknown (at the top level).
fn is_unknown(obj: &Value, name: &str) -> bool {
    !attr(obj, name).is_known()
}

/// Replaces (or adds) an attribute of an object value. Does nothing to a
/// value that is not an object (callers only pass schema-shaped objects).
fn set_attr(obj: &mut Value, name: &str, v: Value) {
    if let Value::Object(m) = obj {
        m.insert(name.to_owned(), v);
    }
}

/// A known string attribute; `Ok(None)` when null or unknown.
fn get_str<'a>(obj: &'a Value, name: &str) -> Result<Option<&'a str>, ProviderError> {
    let v = attr(obj, name);
    if v.is_null() || !v.is_known() {
        return Ok(None);
    }
    v.as_str().map(Some).ok_or_else(|| {
        ProviderError::new("incorrect attribute value type")
            .with_detail(format!("string required, but have {}", v.kind_name()))
            .at(path(name))
    })
}

/// A known bool attribute; `Ok(None)` when null or unknown.
fn get_bool(obj: &Value, name: &str) -> Result<Option<bool>, ProviderError> {
    let v = attr(obj, name);
    if v.is_null() || !v.is_known() {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| {
        ProviderError::new("incorrect attribute value type")
            .with_detail(format!("bool required, but have {}", v.kind_name()))
            .at(path(name))
    })
}

/// The largest integer an f64 holds exactly (2^53).
const MAX_SAFE_INT: f64 = 9_007_199_254_740_992.0;

/// A known whole-number attribute; `Ok(None)` when null or unknown.
fn get_int(obj: &Value, name: &str) -> Result<Option<i64>, ProviderError> {
    let v = attr(obj, name);
    if v.is_null() || !v.is_known() {
        return Ok(None);
    }
    let Some(n) = v.as_f64() else {
        return Err(ProviderError::new("incorrect attribute value type")
            .with_detail(format!("number required, but have {}", v.kind_name()))
            .at(path(name)));
    };
    if n.fract() != 0.0 || !n.is_finite() || n.abs() > MAX_SAFE_INT {
        return Err(ProviderError::new("invalid attribute value")
            .with_detail(format!(
                "attribute {name} must be a whole number, got: {}",
                crate::value::format_number(n)
            ))
            .at(path(name)));
    }
    // Exact: n is whole and within ±2^53.
    Ok(Some(n as i64))
}

/// A known list or set of known strings; `Ok(None)` when null or when
/// the collection or any element is unknown.
fn get_strings(obj: &Value, name: &str) -> Result<Option<Vec<String>>, ProviderError> {
    let v = attr(obj, name);
    if v.is_null() || !v.is_wholly_known() {
        return Ok(None);
    }
    let Some(items) = v.as_seq() else {
        return Err(ProviderError::new("incorrect attribute value type")
            .with_detail(format!(
                "list of string required, but have {}",
                v.kind_name()
            ))
            .at(path(name)));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, x) in items.iter().enumerate() {
        match x.to_template_string() {
            Some(s) => out.push(s),
            None => {
                return Err(ProviderError::new("incorrect attribute value type")
                    .with_detail(format!("string required, but have {}", x.kind_name()))
                    .at(vec![
                        PathStep::Attr(name.to_owned()),
                        PathStep::Index(i as i64),
                    ]));
            }
        }
    }
    Ok(Some(out))
}

/// Sets each attribute that is null in `config` to its default in
/// `planned` (optional+computed attributes with a default value).
fn fill_defaults(config: &Value, planned: &mut Value, defaults: &[(&str, Value)]) {
    for (name, default) in defaults {
        if attr(config, name).is_null() {
            set_attr(planned, name, default.clone());
        }
    }
}

/// True when a `force_new` attribute differs between `prior` and
/// `planned`: the object will be replaced, so everything the provider
/// computes is new (an unknown value counts as a change).
fn replaces(schema: &Schema, prior: &Value, planned: &Value) -> bool {
    schema.attributes.iter().any(|(name, a)| {
        if !a.force_new {
            return false;
        }
        let (p, n) = (attr(prior, name), attr(planned, name));
        !(p.is_wholly_known() && n.is_wholly_known() && p.equals(n))
    })
}

/// Sets every computed-only attribute (computed and not optional) to
/// unknown: the values a create or replacement will produce.
fn unknown_computed(schema: &Schema, planned: &mut Value) {
    for (name, a) in &schema.attributes {
        if a.computed && !a.optional {
            set_attr(planned, name, Value::Unknown(a.ty.clone()));
        }
    }
}

/// True when any computed-only attribute of `planned` is unknown: apply
/// must produce it.
fn needs_compute(schema: &Schema, planned: &Value) -> bool {
    schema
        .attributes
        .iter()
        .any(|(name, a)| a.computed && !a.optional && !attr(planned, name).is_wholly_known())
}

/// A source of random numbers: the operating system's (via the thread
/// generator) or, with a `seed` attribute, a deterministic generator so
/// the same seed always gives the same result.
enum Rng {
    Os,
    /// SplitMix64 state, seeded from the SHA-256 of the seed text: stable
    /// across versions and platforms.
    Seeded(u64),
}

impl Rng {
    fn new(seed: Option<&str>) -> Rng {
        match seed {
            None => Rng::Os,
            Some(s) => {
                let digest = Sha256::digest(s.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                Rng::Seeded(u64::from_le_bytes(first))
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self {
            Rng::Os => rand::random::<u64>(),
            Rng::Seeded(state) => {
                *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = *state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
        }
    }

    /// A uniform number in `0..n` (0 when `n` is 0), without modulo bias.
    fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // Reject the top partial block of the u64 range.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Picks one element (None for an empty slice).
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// Fisher–Yates shuffle in place.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A random version-4 UUID in its hyphenated lowercase form.
fn new_uuid() -> String {
    uuid::Builder::from_random_bytes(rand::random::<[u8; 16]>())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A random non-negative 63-bit integer in decimal, as the ids of
/// `null_resource` and `null_data_source.random` are.
fn random_decimal_id() -> String {
    (rand::random::<u64>() >> 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_rng_is_deterministic_and_seed_dependent() {
        let draw = |seed| {
            let mut r = Rng::new(Some(seed));
            (0..8).map(|_| r.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw("a"), draw("a"));
        assert_ne!(draw("a"), draw("b"));
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(Some("range"));
        for n in [1u64, 2, 3, 7, 10, 1 << 40] {
            for _ in 0..200 {
                assert!(r.below(n) < n);
            }
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn shuffle_keeps_elements() {
        let mut r = Rng::new(Some("s"));
        let mut v: Vec<u32> = (0..50).collect();
        r.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted, "50 elements should not shuffle to identity");
    }

    #[test]
    fn uuid_is_v4_shaped() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(new_uuid(), u);
    }

    #[test]
    fn get_int_rejects_fractions() {
        let obj = Value::Object([("n".to_owned(), Value::Number(1.5))].into());
        let e = get_int(&obj, "n").unwrap_err();
        assert_eq!(e.attribute, Some(path("n")));
        let obj = Value::Object([("n".to_owned(), Value::Number(-3.0))].into());
        assert_eq!(get_int(&obj, "n"), Ok(Some(-3)));
        assert_eq!(get_int(&obj, "missing"), Ok(None));
    }
}
