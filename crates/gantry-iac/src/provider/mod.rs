//! The `Provider` trait every resource type is reached through, its schema
//! types, and the registry of built-in providers.
//!
//! The engine owns the configuration language and the diff; a provider owns
//! what a resource *is*: which attributes it has, which are computed, which
//! force replacement, and how to create, read, update, delete and import it.
//! Values crossing this boundary are [`Value`]s shaped as the schema's
//! object type ([`Schema::object_type`]); unknowns appear only in planned
//! values, never in applied ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::value::{PathStep, Type, Value};

pub mod builtin;

/// One attribute of a resource, data source or provider configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    /// Set by the provider (possibly also settable when `optional`).
    pub computed: bool,
    /// A change to this attribute replaces the resource.
    pub force_new: bool,
    pub sensitive: bool,
    pub description: &'static str,
}

impl Attribute {
    pub fn required(ty: Type) -> Self {
        Attribute {
            ty,
            required: true,
            optional: false,
            computed: false,
            force_new: false,
            sensitive: false,
            description: "",
        }
    }

    pub fn optional(ty: Type) -> Self {
        Attribute {
            required: false,
            optional: true,
            ..Attribute::required(ty)
        }
    }

    pub fn computed(ty: Type) -> Self {
        Attribute {
            required: false,
            computed: true,
            ..Attribute::required(ty)
        }
    }

    /// Optional and computed: the provider fills it in when unset.
    pub fn optional_computed(ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Attribute::computed(ty)
        }
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn describe(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; the value is an object or null.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub nesting: Nesting,
    pub schema: Schema,
    pub min_items: usize,
    pub max_items: Option<usize>,
    pub force_new: bool,
}

/// The shape of a resource, data source or provider configuration block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub version: u64,
    pub attributes: BTreeMap<String, Attribute>,
    pub blocks: BTreeMap<String, NestedBlock>,
}

impl Schema {
    pub fn new() -> Self {
        Schema::default()
    }

    pub fn attr(mut self, name: &str, a: Attribute) -> Self {
        self.attributes.insert(name.to_owned(), a);
        self
    }

    pub fn block(mut self, name: &str, b: NestedBlock) -> Self {
        self.blocks.insert(name.to_owned(), b);
        self
    }

    /// The object type of a value of this schema: attributes plus blocks
    /// (Single → object, List → list(object), Set → set(object)).
    pub fn object_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.ty.clone()))
            .collect();
        for (k, b) in &self.blocks {
            let t = b.schema.object_type();
            attrs.insert(
                k.clone(),
                match b.nesting {
                    Nesting::Single => t,
                    Nesting::List => Type::list(t),
                    Nesting::Set => Type::set(t),
                },
            );
        }
        Type::object(attrs)
    }
}

/// Everything a provider offers.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    /// The `provider "name" { ... }` block.
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
}

/// An error from a provider, shown under the resource address.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{summary}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
pub struct ProviderError {
    pub summary: String,
    pub detail: String,
    /// The attribute the error is about, when there is one.
    pub attribute: Option<Vec<PathStep>>,
}

impl ProviderError {
    pub fn new(summary: impl Into<String>) -> Self {
        ProviderError {
            summary: summary.into(),
            detail: String::new(),
            attribute: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn at(mut self, path: Vec<PathStep>) -> Self {
        self.attribute = Some(path);
        self
    }
}

/// Input to [`Provider::plan`].
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    pub type_name: &'a str,
    /// The current state, `None` when the resource is to be created.
    pub prior: Option<&'a Value>,
    /// The configuration as written (object of the schema type; unset
    /// attributes are null; may contain unknowns).
    pub config: &'a Value,
    /// The engine's proposal: `config` with computed attributes that are
    /// null in config taken from `prior` (or unknown when creating).
    pub proposed: &'a Value,
}

/// Output of [`Provider::plan`].
#[derive(Debug, Clone)]
pub struct PlanResponse {
    /// The planned new state; computed attributes the provider cannot know
    /// yet are `Value::Unknown`.
    pub planned: Value,
    /// Attribute paths whose change forces replacement, beyond the schema's
    /// `force_new` attributes (which the engine checks itself).
    pub requires_replace: Vec<Vec<PathStep>>,
}

/// Input to [`Provider::apply`].
#[derive(Debug, Clone)]
pub struct ApplyRequest<'a> {
    pub type_name: &'a str,
    /// `None` for a create.
    pub prior: Option<&'a Value>,
    /// `None` for a delete.
    pub planned: Option<&'a Value>,
    pub config: &'a Value,
}

/// A configured provider: one per `provider` block (and alias).
#[async_trait]
pub trait Provider: Send + Sync {
    /// True when creating `type_name` makes something outside the state
    /// (a file, a cloud object). The engine then records the instance in
    /// the state before creating it, so a crash cannot leak it. Resources
    /// that live only in the state (random, null) say false.
    fn external_objects(&self, type_name: &str) -> bool {
        let _ = type_name;
        true
    }

    /// Checks a resource configuration beyond what the schema says
    /// (conflicting attributes, value ranges). Values may be unknown.
    fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        let _ = (type_name, config);
        Vec::new()
    }

    /// Plans a create or update. The default returns `proposed` unchanged
    /// (see [`default_proposed`] for how the engine builds it).
    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse {
            planned: req.proposed.clone(),
            requires_replace: Vec::new(),
        })
    }

    /// Carries out a create, update or delete. Returns the new state, or
    /// `None` after a delete. On a partial failure return the error; the
    /// engine keeps the prior state.
    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError>;

    /// Reads the current state of a resource (refresh). `None` when it no
    /// longer exists.
    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError>;

    /// Imports an existing object by its id: the state it has now.
    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let _ = id;
        Err(ProviderError::new(format!(
            "resource type {type_name} does not support import"
        )))
    }

    /// Reads a data source.
    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError>;
}

/// A provider implementation before configuration.
#[async_trait]
pub trait ProviderFactory: Send + Sync {
    /// The local name, as in `required_providers` (`random`, `aws`).
    fn name(&self) -> &'static str;
    /// The source address, as in state (`registry.terraform.io/hashicorp/random`).
    fn source(&self) -> &'static str;
    fn schema(&self) -> &ProviderSchema;
    /// Builds a configured provider from the `provider` block's value (an
    /// object of `schema().provider`'s type; may be all null).
    async fn configure(&self, config: &Value) -> Result<Arc<dyn Provider>, ProviderError>;
}

/// The providers Gantry knows, by local name.
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<&'static str, Arc<dyn ProviderFactory>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// The built-in providers: random, null, local, terraform.
    pub fn builtin() -> Self {
        let mut r = Registry::new();
        for f in builtin::factories() {
            r.add(f);
        }
        r
    }

    pub fn add(&mut self, f: Arc<dyn ProviderFactory>) {
        self.factories.insert(f.name(), f);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn ProviderFactory>> {
        self.factories.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.factories.keys().copied()
    }
}

/// The provider local name implied by a resource type: the part before
/// the first underscore (`random_id` → `random`), or the whole name
/// (`terraform_data` → `terraform`).
pub fn implied_provider(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

/// The engine's proposed new state: `config`, with each computed attribute
/// that is null in `config` taken from `prior` (or unknown when there is
/// no prior state), recursively through nested blocks of nesting Single.
pub fn default_proposed(schema: &Schema, prior: Option<&Value>, config: &Value) -> Value {
    let Some(cfg) = config.as_map() else {
        return config.clone();
    };
    let prior_map = prior.and_then(Value::as_map);
    let mut out = cfg.clone();
    for (name, attr) in &schema.attributes {
        if !attr.computed {
            continue;
        }
        let set = cfg.get(name).is_some_and(|v| !v.is_null());
        if set {
            continue;
        }
        let v = match prior_map {
            Some(p) => p.get(name).cloned().unwrap_or(Value::Null),
            None => Value::Unknown(attr.ty.clone()),
        };
        out.insert(name.clone(), v);
    }
    for (name, block) in &schema.blocks {
        if block.nesting == Nesting::Single
            && let Some(c) = cfg.get(name)
            && !c.is_null()
        {
            let p = prior_map.and_then(|p| p.get(name));
            out.insert(name.clone(), default_proposed(&block.schema, p, c));
        }
    }
    Value::Object(out)
}
