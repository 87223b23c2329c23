//! The `random` provider (`registry.terraform.io/hashicorp/random`):
//! `random_id`, `random_string`, `random_password`, `random_integer`,
//! `random_pet`, `random_uuid` and `random_shuffle`.
//!
//! Every argument forces replacement (`keepers` is how a configuration
//! asks for a new value). Results are unknown in a plan that creates or
//! replaces, and are generated at apply. Without `seed` they come from the
//! operating system's generator; with `seed` (`random_integer`,
//! `random_shuffle`) the same seed gives the same result.
//!
//! Not implemented: `random_password.bcrypt_hash` (no bcrypt implementation
//! among the dependencies), the deprecated `number` flag of
//! `random_string`/`random_password` (use `numeric`), and the deprecated
//! `b64` attribute of `random_id`.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::{
    Factory, Rng, attr, fill_defaults, get_bool, get_int, get_str, get_strings, is_unknown,
    needs_compute, new_uuid, path, replaces, set_attr, unknown_computed, unsupported,
};
use crate::provider::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory,
    ProviderSchema, Schema,
};
use crate::value::{Type, Value, format_number};

const NAME: &str = "random";

/// The largest `byte_length`, `length` or `result_count` accepted: a
/// guard against configurations that would exhaust memory.
const MAX_LENGTH: i64 = 1 << 20;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";
/// The special characters used unless `override_special` is set.
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

pub(super) fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(Factory {
        name: NAME,
        source: "registry.terraform.io/hashicorp/random",
        schema: || &SCHEMA,
        build: || Arc::new(RandomProvider),
    })
}

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| ProviderSchema {
    provider: Schema::new(),
    resources: [
        ("random_id", id_schema()),
        ("random_string", string_schema(false)),
        ("random_password", string_schema(true)),
        ("random_integer", integer_schema()),
        ("random_pet", pet_schema()),
        ("random_uuid", uuid_schema()),
        ("random_shuffle", shuffle_schema()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect(),
    data_sources: Default::default(),
});

fn keepers() -> Attribute {
    Attribute::optional(Type::map(Type::String))
        .force_new()
        .describe(
            "arbitrary map of values that, when changed, will trigger recreation of the resource",
        )
}

fn computed_string(d: &'static str) -> Attribute {
    Attribute::computed(Type::String).describe(d)
}

fn id_schema() -> Schema {
    Schema::new()
        .attr("keepers", keepers())
        .attr(
            "byte_length",
            Attribute::required(Type::Number)
                .force_new()
                .describe("the number of random bytes to produce (at least 1)"),
        )
        .attr(
            "prefix",
            Attribute::optional(Type::String)
                .force_new()
                .describe("arbitrary string to prefix the output value with"),
        )
        .attr("id", computed_string("the generated id presented in base64 without padding"))
        .attr("b64_url", computed_string("the generated id presented in base64, using the URL-friendly character set, without padding"))
        .attr("b64_std", computed_string("the generated id presented in padded base64, using the standard character set"))
        .attr("hex", computed_string("the generated id presented in padded hexadecimal digits"))
        .attr("dec", computed_string("the generated id presented in non-padded decimal digits"))
}

fn string_schema(password: bool) -> Schema {
    let flag = |d| {
        Attribute::optional_computed(Type::Bool)
            .force_new()
            .describe(d)
    };
    let min = |d| {
        Attribute::optional_computed(Type::Number)
            .force_new()
            .describe(d)
    };
    let mut result = Attribute::computed(Type::String).describe("the generated random string");
    if password {
        result = result.sensitive();
    }
    Schema::new()
        .attr("keepers", keepers())
        .attr(
            "length",
            Attribute::required(Type::Number)
                .force_new()
                .describe("the length of the string desired (at least 1, and at least the sum of the min_* values)"),
        )
        .attr("special", flag("include special characters in the result (default true)"))
        .attr("upper", flag("include uppercase alphabet characters in the result (default true)"))
        .attr("lower", flag("include lowercase alphabet characters in the result (default true)"))
        .attr("numeric", flag("include numeric characters in the result (default true)"))
        .attr("min_special", min("minimum number of special characters in the result (default 0)"))
        .attr("min_upper", min("minimum number of uppercase alphabet characters in the result (default 0)"))
        .attr("min_lower", min("minimum number of lowercase alphabet characters in the result (default 0)"))
        .attr("min_numeric", min("minimum number of numeric characters in the result (default 0)"))
        .attr(
            "override_special",
            Attribute::optional(Type::String)
                .force_new()
                .describe("the special characters to use instead of the default !@#$%&*()-_=+[]{}<>:?"),
        )
        .attr("result", result)
        .attr(
            "id",
            computed_string(if password {
                "a static value used internally by terraform: \"none\""
            } else {
                "the generated random string"
            }),
        )
}

fn integer_schema() -> Schema {
    Schema::new()
        .attr("keepers", keepers())
        .attr(
            "min",
            Attribute::required(Type::Number)
                .force_new()
                .describe("the minimum inclusive value of the range"),
        )
        .attr(
            "max",
            Attribute::required(Type::Number)
                .force_new()
                .describe("the maximum inclusive value of the range"),
        )
        .attr(
            "seed",
            Attribute::optional(Type::String)
                .force_new()
                .describe("a custom seed to always produce the same value"),
        )
        .attr(
            "result",
            Attribute::computed(Type::Number).describe("the random integer result"),
        )
        .attr(
            "id",
            computed_string("the string representation of the integer result"),
        )
}

fn pet_schema() -> Schema {
    Schema::new()
        .attr("keepers", keepers())
        .attr(
            "length",
            Attribute::optional_computed(Type::Number)
                .force_new()
                .describe("the length (in words) of the pet name (default 2)"),
        )
        .attr(
            "prefix",
            Attribute::optional(Type::String)
                .force_new()
                .describe("a string to prefix the name with"),
        )
        .attr(
            "separator",
            Attribute::optional_computed(Type::String)
                .force_new()
                .describe("the character to separate words in the pet name (default \"-\")"),
        )
        .attr("id", computed_string("the random pet name"))
}

fn uuid_schema() -> Schema {
    Schema::new()
        .attr("keepers", keepers())
        .attr("result", computed_string("the generated uuid"))
        .attr("id", computed_string("the generated uuid"))
}

fn shuffle_schema() -> Schema {
    Schema::new()
        .attr("keepers", keepers())
        .attr(
            "input",
            Attribute::required(Type::list(Type::String))
                .force_new()
                .describe("the list of strings to shuffle"),
        )
        .attr(
            "seed",
            Attribute::optional(Type::String)
                .force_new()
                .describe("arbitrary string with which to seed the random number generator"),
        )
        .attr(
            "result_count",
            Attribute::optional(Type::Number).force_new().describe(
                "the number of results to return (default: the number of items in input)",
            ),
        )
        .attr(
            "result",
            Attribute::computed(Type::list(Type::String))
                .describe("random permutation of the list of strings given in input"),
        )
        .attr(
            "id",
            computed_string("a static value used internally by terraform: \"-\""),
        )
}

/// Defaults of the optional+computed attributes, filled in at plan.
fn defaults(type_name: &str) -> Vec<(&'static str, Value)> {
    match type_name {
        "random_string" | "random_password" => vec![
            ("special", Value::Bool(true)),
            ("upper", Value::Bool(true)),
            ("lower", Value::Bool(true)),
            ("numeric", Value::Bool(true)),
            ("min_special", Value::Number(0.0)),
            ("min_upper", Value::Number(0.0)),
            ("min_lower", Value::Number(0.0)),
            ("min_numeric", Value::Number(0.0)),
        ],
        "random_pet" => vec![
            ("length", Value::Number(2.0)),
            ("separator", Value::string("-")),
        ],
        _ => Vec::new(),
    }
}

struct RandomProvider;

fn schema_of(type_name: &str) -> Result<&'static Schema, ProviderError> {
    SCHEMA
        .resources
        .get(type_name)
        .ok_or_else(|| unsupported("resource", type_name, NAME))
}

#[async_trait]
impl Provider for RandomProvider {
    /// Its resources live only in the state.
    fn external_objects(&self, _type_name: &str) -> bool {
        false
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        let mut errs = Vec::new();
        if let Err(e) = validate(type_name, config, &mut errs) {
            errs.push(e);
        }
        errs
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let schema = schema_of(req.type_name)?;
        let mut planned = req.proposed.clone();
        fill_defaults(req.config, &mut planned, &defaults(req.type_name));
        match req.prior {
            Some(prior) if !replaces(schema, prior, &planned) => {}
            _ => unknown_computed(schema, &mut planned),
        }
        Ok(PlanResponse {
            planned,
            requires_replace: Vec::new(),
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let schema = schema_of(req.type_name)?;
        let Some(planned) = req.planned else {
            // Delete: random values live only in state.
            return Ok(None);
        };
        if !needs_compute(schema, planned) {
            return Ok(Some(planned.clone()));
        }
        let mut state = planned.clone();
        fill_defaults(&state.clone(), &mut state, &defaults(req.type_name));
        match req.type_name {
            "random_id" => create_id(&mut state)?,
            "random_string" | "random_password" => {
                let s = generate_string(&state)?;
                let id = if req.type_name == "random_password" {
                    Value::string("none")
                } else {
                    Value::string(s.clone())
                };
                set_attr(&mut state, "result", Value::String(s));
                set_attr(&mut state, "id", id);
            }
            "random_integer" => {
                let n = generate_integer(&state)?;
                set_attr(&mut state, "result", Value::Number(n as f64));
                set_attr(&mut state, "id", Value::String(n.to_string()));
            }
            "random_pet" => {
                let pet = generate_pet(&state)?;
                set_attr(&mut state, "id", Value::String(pet));
            }
            "random_uuid" => {
                let u = new_uuid();
                set_attr(&mut state, "result", Value::string(u.clone()));
                set_attr(&mut state, "id", Value::String(u));
            }
            "random_shuffle" => {
                let items = generate_shuffle(&state)?;
                set_attr(
                    &mut state,
                    "result",
                    Value::List(items.into_iter().map(Value::String).collect()),
                );
                set_attr(&mut state, "id", Value::string("-"));
            }
            other => return Err(unsupported("resource", other, NAME)),
        }
        Ok(Some(state))
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        schema_of(type_name)?;
        // Random values exist only in state: nothing to refresh.
        Ok(Some(state.clone()))
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let schema = schema_of(type_name)?;
        let mut state = null_object(schema);
        match type_name {
            "random_id" => import_id(&mut state, id)?,
            "random_string" | "random_password" => {
                for (k, v) in defaults(type_name) {
                    set_attr(&mut state, k, v);
                }
                set_attr(
                    &mut state,
                    "length",
                    Value::Number(id.chars().count() as f64),
                );
                set_attr(&mut state, "result", Value::string(id));
                let state_id = if type_name == "random_password" {
                    "none"
                } else {
                    id
                };
                set_attr(&mut state, "id", Value::string(state_id));
            }
            "random_integer" => import_integer(&mut state, id)?,
            "random_uuid" => {
                if !is_uuid(id) {
                    return Err(ProviderError::new("import random uuid error").with_detail(
                        format!(
                            "{id:?} is not a valid uuid (expected 8-4-4-4-12 hexadecimal digits)"
                        ),
                    ));
                }
                set_attr(&mut state, "result", Value::string(id));
                set_attr(&mut state, "id", Value::string(id));
            }
            other => {
                return Err(ProviderError::new(format!(
                    "resource type {other} does not support import"
                )));
            }
        }
        Ok(state)
    }

    async fn read_data(&self, type_name: &str, _config: &Value) -> Result<Value, ProviderError> {
        Err(unsupported("data source", type_name, NAME))
    }
}

/// An object of the schema's type with every attribute null.
fn null_object(schema: &Schema) -> Value {
    Value::Object(
        schema
            .attributes
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect(),
    )
}

fn too_small(name: &str, min: i64, got: i64) -> ProviderError {
    ProviderError::new("invalid attribute value")
        .with_detail(format!(
            "attribute {name} value must be at least {min}, got: {got}"
        ))
        .at(path(name))
}

fn too_large(name: &str, got: i64) -> ProviderError {
    ProviderError::new("invalid attribute value")
        .with_detail(format!(
            "attribute {name} value must be at most {MAX_LENGTH}, got: {got}"
        ))
        .at(path(name))
}

/// Checks a whole-number attribute against `min..=MAX_LENGTH`.
fn check_count(
    config: &Value,
    name: &str,
    min: i64,
    errs: &mut Vec<ProviderError>,
) -> Result<Option<i64>, ProviderError> {
    let Some(n) = get_int(config, name)? else {
        return Ok(None);
    };
    if n < min {
        errs.push(too_small(name, min, n));
    } else if n > MAX_LENGTH {
        errs.push(too_large(name, n));
    }
    Ok(Some(n))
}

/// Collects validation errors into `errs`; an `Err` is a value of the
/// wrong type (reported too).
fn validate(
    type_name: &str,
    config: &Value,
    errs: &mut Vec<ProviderError>,
) -> Result<(), ProviderError> {
    match type_name {
        "random_id" => {
            check_count(config, "byte_length", 1, errs)?;
        }
        "random_string" | "random_password" => {
            let length = check_count(config, "length", 1, errs)?;
            let mut sum = Some(0i64);
            for name in ["min_upper", "min_lower", "min_numeric", "min_special"] {
                if is_unknown(config, name) {
                    sum = None;
                }
                let n = check_count(config, name, 0, errs)?.unwrap_or(0);
                sum = sum.map(|s| s.saturating_add(n.max(0)));
            }
            if let (Some(length), Some(sum)) = (length, sum)
                && length < sum
            {
                errs.push(
                    ProviderError::new("invalid attribute value")
                        .with_detail(format!(
                            "attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: {length}"
                        ))
                        .at(path("length")),
                );
            }
            let mut any_class = false;
            let mut all_known = true;
            for name in ["special", "upper", "lower", "numeric"] {
                match get_bool(config, name)? {
                    Some(b) => any_class |= b,
                    None if attr(config, name).is_null() => any_class = true,
                    None => all_known = false,
                }
            }
            if all_known
                && !any_class
                && let (Some(length), Some(sum)) = (length, sum)
                && length > sum
            {
                errs.push(
                    ProviderError::new("invalid attribute combination")
                        .with_detail(
                            "at least one of special, upper, lower or numeric must be true when length is more than the sum of the min_* values",
                        )
                        .at(path("special")),
                );
            }
        }
        "random_integer" => {
            let min = get_int(config, "min")?;
            let max = get_int(config, "max")?;
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                errs.push(
                    ProviderError::new("invalid attribute value")
                        .with_detail(format!(
                            "the minimum (min) value needs to be smaller than or equal to maximum (max) value, got: min {min}, max {max}"
                        ))
                        .at(path("min")),
                );
            }
        }
        "random_pet" => {
            check_count(config, "length", 1, errs)?;
        }
        "random_shuffle" => {
            check_count(config, "result_count", 0, errs)?;
            get_strings(config, "input")?;
        }
        "random_uuid" => {}
        other => return Err(unsupported("resource", other, NAME)),
    }
    Ok(())
}

/// A required whole-number attribute that must be known at apply.
fn required_int(obj: &Value, name: &str) -> Result<i64, ProviderError> {
    get_int(obj, name)?.ok_or_else(|| {
        ProviderError::new("missing required argument")
            .with_detail(format!(
                "the argument {name:?} is required, but no definition was found"
            ))
            .at(path(name))
    })
}

fn create_id(state: &mut Value) -> Result<(), ProviderError> {
    let n = required_int(state, "byte_length")?;
    if n < 1 {
        return Err(too_small("byte_length", 1, n));
    }
    if n > MAX_LENGTH {
        return Err(too_large("byte_length", n));
    }
    // n is within 1..=MAX_LENGTH, so the cast is exact.
    let mut bytes = vec![0u8; n as usize];
    rand::fill(bytes.as_mut_slice());
    let prefix = get_str(state, "prefix")?.unwrap_or("").to_owned();
    set_id_encodings(state, &prefix, &bytes);
    Ok(())
}

/// Sets `id`, `b64_url`, `b64_std`, `hex` and `dec` from the bytes.
fn set_id_encodings(state: &mut Value, prefix: &str, bytes: &[u8]) {
    let url = URL_SAFE_NO_PAD.encode(bytes);
    set_attr(state, "b64_url", Value::String(format!("{prefix}{url}")));
    set_attr(state, "id", Value::String(url));
    set_attr(
        state,
        "b64_std",
        Value::String(format!("{prefix}{}", STANDARD.encode(bytes))),
    );
    set_attr(
        state,
        "hex",
        Value::String(format!("{prefix}{}", hex::encode(bytes))),
    );
    set_attr(
        state,
        "dec",
        Value::String(format!("{prefix}{}", bytes_to_decimal(bytes))),
    );
}

/// The big-endian unsigned integer in `bytes`, in decimal.
fn bytes_to_decimal(bytes: &[u8]) -> String {
    // Little-endian base-10^9 limbs.
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u64> = vec![0];
    for &b in bytes {
        let mut carry = u64::from(b);
        for limb in &mut limbs {
            let v = *limb * 256 + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    let mut out = String::new();
    for (i, limb) in limbs.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&limb.to_string());
        } else {
            out.push_str(&format!("{limb:09}"));
        }
    }
    out
}

fn import_id(state: &mut Value, id: &str) -> Result<(), ProviderError> {
    // base64url never contains a comma, so the last one ends the prefix.
    let (prefix, b64) = match id.rsplit_once(',') {
        Some((p, b)) => (p, b),
        None => ("", id),
    };
    let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|e| {
        ProviderError::new("import random id error").with_detail(format!(
            "while attempting to import a random id there was a decoding error: {e}"
        ))
    })?;
    if bytes.is_empty() {
        return Err(ProviderError::new("import random id error").with_detail(
            "the id to import is empty: expected base64url text, optionally as \"prefix,id\"",
        ));
    }
    set_attr(state, "byte_length", Value::Number(bytes.len() as f64));
    if !prefix.is_empty() {
        set_attr(state, "prefix", Value::string(prefix));
    }
    set_id_encodings(state, prefix, &bytes);
    Ok(())
}

/// A character class of `random_string`: whether it is in the pool, the
/// minimum count, and its characters.
struct Class {
    enabled: bool,
    min: i64,
    chars: Vec<char>,
}

fn generate_string(state: &Value) -> Result<String, ProviderError> {
    let length = required_int(state, "length")?;
    if length < 1 {
        return Err(too_small("length", 1, length));
    }
    if length > MAX_LENGTH {
        return Err(too_large("length", length));
    }
    let flag = |name| get_bool(state, name).map(|b| b.unwrap_or(true));
    let min = |name| -> Result<i64, ProviderError> {
        let n = get_int(state, name)?.unwrap_or(0);
        if n < 0 {
            return Err(too_small(name, 0, n));
        }
        Ok(n)
    };
    let special_chars = get_str(state, "override_special")?.unwrap_or(SPECIAL);
    let classes = [
        Class {
            enabled: flag("upper")?,
            min: min("min_upper")?,
            chars: UPPER.chars().collect(),
        },
        Class {
            enabled: flag("lower")?,
            min: min("min_lower")?,
            chars: LOWER.chars().collect(),
        },
        Class {
            enabled: flag("numeric")?,
            min: min("min_numeric")?,
            chars: NUMERIC.chars().collect(),
        },
        Class {
            enabled: flag("special")?,
            min: min("min_special")?,
            chars: special_chars.chars().collect(),
        },
    ];
    let sum: i64 = classes.iter().map(|c| c.min).fold(0, i64::saturating_add);
    if sum > length {
        return Err(ProviderError::new("invalid attribute value")
            .with_detail(format!(
                "attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: {length}"
            ))
            .at(path("length")));
    }
    let mut rng = Rng::new(None);
    // Within 0..=MAX_LENGTH: the cast is exact.
    let mut out: Vec<char> = Vec::with_capacity(length as usize);
    for c in &classes {
        for _ in 0..c.min {
            let Some(&ch) = rng.pick(&c.chars) else {
                return Err(ProviderError::new("invalid attribute value")
                    .with_detail(
                        "override_special is empty, so min_special characters cannot be chosen",
                    )
                    .at(path("override_special")));
            };
            out.push(ch);
        }
    }
    let pool: Vec<char> = classes
        .iter()
        .filter(|c| c.enabled)
        .flat_map(|c| c.chars.iter().copied())
        .collect();
    while (out.len() as i64) < length {
        let Some(&ch) = rng.pick(&pool) else {
            return Err(ProviderError::new("invalid attribute combination")
                .with_detail("no characters to choose from: at least one of special, upper, lower or numeric must be true (with a non-empty override_special for special)")
                .at(path("special")));
        };
        out.push(ch);
    }
    rng.shuffle(&mut out);
    Ok(out.into_iter().collect())
}

fn generate_integer(state: &Value) -> Result<i64, ProviderError> {
    let min = required_int(state, "min")?;
    let max = required_int(state, "max")?;
    if min > max {
        return Err(ProviderError::new("create random integer error")
            .with_detail(
                "the minimum (min) value needs to be smaller than or equal to maximum (max) value",
            )
            .at(path("min")));
    }
    let mut rng = Rng::new(get_str(state, "seed")?);
    // Both bounds are within ±2^53, so the span fits in a u64.
    let span = (i128::from(max) - i128::from(min) + 1) as u64;
    Ok(min + rng.below(span) as i64)
}

fn generate_pet(state: &Value) -> Result<String, ProviderError> {
    let length = get_int(state, "length")?.unwrap_or(2);
    if length < 1 {
        return Err(too_small("length", 1, length));
    }
    if length > MAX_LENGTH {
        return Err(too_large("length", length));
    }
    let sep = get_str(state, "separator")?.unwrap_or("-");
    let mut rng = Rng::new(None);
    let mut words: Vec<&str> = Vec::new();
    if let Some(prefix) = get_str(state, "prefix")?
        && !prefix.is_empty()
    {
        words.push(prefix);
    }
    // The word lists are non-empty constants: pick always finds a word.
    for _ in 2..length {
        words.extend(rng.pick(super::words::ADVERBS).copied());
    }
    if length >= 2 {
        words.extend(rng.pick(super::words::ADJECTIVES).copied());
    }
    words.extend(rng.pick(super::words::NAMES).copied());
    Ok(words.join(sep))
}

fn generate_shuffle(state: &Value) -> Result<Vec<String>, ProviderError> {
    let input = get_strings(state, "input")?.ok_or_else(|| {
        ProviderError::new("missing required argument")
            .with_detail("the argument \"input\" is required, but no definition was found")
            .at(path("input"))
    })?;
    let count = match get_int(state, "result_count")? {
        None | Some(0) => input.len() as i64,
        Some(n) if n < 0 => return Err(too_small("result_count", 0, n)),
        Some(n) if n > MAX_LENGTH => return Err(too_large("result_count", n)),
        Some(n) => n,
    };
    // Within 0..=MAX_LENGTH (or the input's length): the cast is exact.
    let count = count as usize;
    let mut rng = Rng::new(get_str(state, "seed")?);
    let mut out = Vec::with_capacity(count);
    if input.is_empty() {
        return Ok(out);
    }
    // Whole permutations of the input, one after another, until there
    // are enough results.
    while out.len() < count {
        let mut perm: Vec<&String> = input.iter().collect();
        rng.shuffle(&mut perm);
        out.extend(perm.into_iter().take(count - out.len()).cloned());
    }
    Ok(out)
}

fn import_integer(state: &mut Value, id: &str) -> Result<(), ProviderError> {
    let bad = || {
        ProviderError::new("import random integer error").with_detail(format!(
            "invalid import specification {id:?}: expected result,min,max[,seed] with whole numbers"
        ))
    };
    let parts: Vec<&str> = id.splitn(4, ',').collect();
    let (result, min, max, seed) = match parts.as_slice() {
        [r, mn, mx] => (*r, *mn, *mx, None),
        [r, mn, mx, s] => (*r, *mn, *mx, Some(*s)),
        _ => return Err(bad()),
    };
    let num = |s: &str| {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| n.unsigned_abs() <= 1 << 53)
            .ok_or_else(bad)
    };
    let (result, min, max) = (num(result)?, num(min)?, num(max)?);
    if min > max || result < min || result > max {
        return Err(
            ProviderError::new("import random integer error").with_detail(format!(
                "invalid import specification {id:?}: the result must be between min and max"
            )),
        );
    }
    set_attr(state, "result", Value::Number(result as f64));
    set_attr(state, "id", Value::String(format_number(result as f64)));
    set_attr(state, "min", Value::Number(min as f64));
    set_attr(state, "max", Value::Number(max as f64));
    if let Some(seed) = seed {
        set_attr(state, "seed", Value::string(seed));
    }
    Ok(())
}

/// True for the hyphenated 8-4-4-4-12 hexadecimal form.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_bytes() {
        for (bytes, want) in [
            (&[][..], "0"),
            (&[0][..], "0"),
            (&[0, 0, 1][..], "1"),
            (&[1, 0][..], "256"),
            (&[0xff; 8][..], "18446744073709551615"),
            (&[0x01, 0, 0, 0, 0, 0, 0, 0, 0][..], "18446744073709551616"),
        ] {
            assert_eq!(bytes_to_decimal(bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("6f1d2a3b-0c4e-4f5a-8b6c-7d8e9f0a1b2c"));
        assert!(is_uuid("6F1D2A3B-0C4E-4F5A-8B6C-7D8E9F0A1B2C"));
        assert!(!is_uuid("6f1d2a3b0c4e4f5a8b6c7d8e9f0a1b2c"));
        assert!(!is_uuid("6f1d2a3b-0c4e-4f5a-8b6c-7d8e9f0a1b2g"));
        assert!(!is_uuid("6f1d2a3b-0c4e-4f5a-8b6c"));
    }
}
