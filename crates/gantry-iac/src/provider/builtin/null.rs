//! The `null` provider (`registry.terraform.io/hashicorp/null`): the
//! `null_resource` resource, which does nothing but hold an id that
//! changes whenever `triggers` change, and the `null_data_source` data
//! source, which echoes its `inputs` as `outputs`.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;

use super::{
    Factory, attr, is_set, needs_compute, random_decimal_id, replaces, set_attr, unknown_computed,
    unsupported,
};
use crate::provider::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory,
    ProviderSchema, Schema,
};
use crate::value::{Type, Value};

const NAME: &str = "null";

pub(super) fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(Factory {
        name: NAME,
        source: "registry.terraform.io/hashicorp/null",
        schema: || &SCHEMA,
        build: || Arc::new(NullProvider),
    })
}

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| {
    ProviderSchema {
    provider: Schema::new(),
    resources: [(
        "null_resource".to_owned(),
        Schema::new()
            .attr(
                "triggers",
                Attribute::optional(Type::map(Type::String))
                    .force_new()
                    .describe("a map of arbitrary strings that, when changed, will force the null resource to be replaced"),
            )
            .attr(
                "id",
                Attribute::computed(Type::String).describe("a random value assigned at create"),
            ),
    )]
    .into(),
    data_sources: [(
        "null_data_source".to_owned(),
        Schema::new()
            .attr(
                "inputs",
                Attribute::optional(Type::map(Type::String))
                    .describe("a map of arbitrary strings that is copied into the outputs attribute"),
            )
            .attr(
                "outputs",
                Attribute::computed(Type::map(Type::String))
                    .describe("after the data source is read, the same value as inputs"),
            )
            .attr(
                "random",
                Attribute::computed(Type::String)
                    .describe("a random value, new each time the data source is read"),
            )
            .attr(
                "has_computed_default",
                Attribute::optional_computed(Type::String)
                    .describe("if set, its literal value is kept; otherwise \"default\""),
            )
            .attr(
                "id",
                Attribute::computed(Type::String).describe("always \"static\""),
            ),
    )]
    .into(),
}
});

struct NullProvider;

fn schema_of(type_name: &str) -> Result<&'static Schema, ProviderError> {
    SCHEMA
        .resources
        .get(type_name)
        .ok_or_else(|| unsupported("resource", type_name, NAME))
}

#[async_trait]
impl Provider for NullProvider {
    /// Its resources live only in the state.
    fn external_objects(&self, _type_name: &str) -> bool {
        false
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let schema = schema_of(req.type_name)?;
        let mut planned = req.proposed.clone();
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
            return Ok(None);
        };
        let mut state = planned.clone();
        if needs_compute(schema, planned) {
            set_attr(&mut state, "id", Value::String(random_decimal_id()));
        }
        Ok(Some(state))
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        schema_of(type_name)?;
        Ok(Some(state.clone()))
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        if type_name != "null_data_source" {
            return Err(unsupported("data source", type_name, NAME));
        }
        let mut out = config.clone();
        set_attr(&mut out, "outputs", attr(config, "inputs").clone());
        set_attr(&mut out, "random", Value::String(random_decimal_id()));
        if !is_set(config, "has_computed_default") {
            set_attr(&mut out, "has_computed_default", Value::string("default"));
        }
        set_attr(&mut out, "id", Value::string("static"));
        Ok(out)
    }
}
