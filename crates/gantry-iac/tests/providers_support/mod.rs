//! Shared helpers for the built-in provider tests: they drive a provider
//! the way the engine does (configure → validate → plan → apply).

#![allow(dead_code)]

use std::sync::Arc;

use gantry_iac::provider::{
    ApplyRequest, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory, Registry,
    Schema, default_proposed,
};
use gantry_iac::value::{PathStep, Value};

/// Attribute values of a configuration, by name.
pub type Pairs = Vec<(&'static str, Value)>;

/// An expected validation error: attribute and part of the detail.
pub type Expect = Option<(&'static str, &'static str)>;

pub struct Harness {
    pub factory: Arc<dyn ProviderFactory>,
    pub provider: Arc<dyn Provider>,
}

/// A configured built-in provider by local name.
pub async fn harness(name: &str) -> Harness {
    let registry = Registry::builtin();
    let factory = registry
        .get(name)
        .unwrap_or_else(|| panic!("no built-in provider {name}"))
        .clone();
    let provider = factory.configure(&Value::Null).await.expect("configure");
    Harness { factory, provider }
}

pub fn attr_path(name: &str) -> Vec<PathStep> {
    vec![PathStep::Attr(name.to_owned())]
}

/// A string-valued map.
pub fn smap(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::string(*v)))
            .collect(),
    )
}

pub fn slist(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::string(*s)).collect())
}

/// The attribute of an object value (null when missing).
pub fn get(v: &Value, name: &str) -> Value {
    v.get_attr(name).unwrap_or(Value::Null)
}

/// A known string attribute.
pub fn s(v: &Value, name: &str) -> String {
    get(v, name)
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a known string in {v:?}"))
        .to_owned()
}

pub fn n(v: &Value, name: &str) -> f64 {
    get(v, name)
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a known number in {v:?}"))
}

impl Harness {
    pub fn resource_schema(&self, type_name: &str) -> &Schema {
        self.factory
            .schema()
            .resources
            .get(type_name)
            .unwrap_or_else(|| panic!("no resource type {type_name}"))
    }

    pub fn data_schema(&self, type_name: &str) -> &Schema {
        self.factory
            .schema()
            .data_sources
            .get(type_name)
            .unwrap_or_else(|| panic!("no data source {type_name}"))
    }

    /// A configuration object: every attribute of the schema null except
    /// the given ones.
    pub fn config(&self, type_name: &str, pairs: &[(&str, Value)]) -> Value {
        object(self.resource_schema(type_name), pairs)
    }

    pub fn data_config(&self, type_name: &str, pairs: &[(&str, Value)]) -> Value {
        object(self.data_schema(type_name), pairs)
    }

    pub fn validate(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        self.provider.validate_resource(type_name, config)
    }

    pub async fn plan(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: &Value,
    ) -> Result<PlanResponse, ProviderError> {
        let proposed = default_proposed(self.resource_schema(type_name), prior, config);
        self.provider
            .plan(PlanRequest {
                type_name,
                prior,
                config,
                proposed: &proposed,
            })
            .await
    }

    pub async fn apply(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        planned: Option<&Value>,
        config: &Value,
    ) -> Result<Option<Value>, ProviderError> {
        self.provider
            .apply(ApplyRequest {
                type_name,
                prior,
                planned,
                config,
            })
            .await
    }

    /// Validate, plan a create and apply it; the new state.
    pub async fn create(&self, type_name: &str, config: &Value) -> Value {
        let errs = self.validate(type_name, config);
        assert!(errs.is_empty(), "validation: {errs:?}");
        let plan = self.plan(type_name, None, config).await.expect("plan");
        let state = self
            .apply(type_name, None, Some(&plan.planned), config)
            .await
            .expect("apply")
            .expect("a state after create");
        assert!(state.is_wholly_known(), "unknowns after apply: {state:?}");
        state
    }
}

fn object(schema: &Schema, pairs: &[(&str, Value)]) -> Value {
    let mut m: std::collections::BTreeMap<String, Value> = schema
        .object_type()
        .as_object_attrs()
        .into_iter()
        .map(|k| (k, Value::Null))
        .collect();
    for (k, v) in pairs {
        assert!(m.contains_key(*k), "{k} is not an attribute");
        m.insert((*k).to_owned(), v.clone());
    }
    Value::Object(m)
}

trait ObjectAttrs {
    fn as_object_attrs(&self) -> Vec<String>;
}

impl ObjectAttrs for gantry_iac::value::Type {
    fn as_object_attrs(&self) -> Vec<String> {
        match self {
            gantry_iac::value::Type::Object { attrs, .. } => attrs.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}
