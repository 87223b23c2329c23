//! The built-in `terraform` provider (`terraform.io/builtin/terraform`):
//! the `terraform_data` resource, which stores `input` and reflects it as
//! `output` after apply, and is replaced when `triggers_replace` changes.
//!
//! Planning follows Terraform: on create or replacement `id` is unknown
//! and `output` is an unknown of `input`'s type (null when `input` is
//! null); when only `input` changes, the resource is updated in place and
//! `output` becomes unknown until apply.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;

use super::{Factory, attr, new_uuid, path, set_attr, unsupported};
use crate::provider::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory,
    ProviderSchema, Schema,
};
use crate::value::{Type, Value};

const NAME: &str = "terraform";

pub(super) fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(Factory {
        name: NAME,
        source: "terraform.io/builtin/terraform",
        schema: || &SCHEMA,
        build: || Arc::new(TerraformProvider),
    })
}

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| ProviderSchema {
    provider: Schema::new(),
    resources: [(
        "terraform_data".to_owned(),
        Schema::new()
            .attr(
                "input",
                Attribute::optional(Type::Any).describe(
                    "a value to store in the instance state; reflected in output after apply",
                ),
            )
            .attr(
                "output",
                Attribute::computed(Type::Any).describe(
                    "the value of input after apply; unknown (of input's type) while input changes",
                ),
            )
            .attr(
                "triggers_replace",
                Attribute::optional(Type::Any)
                    .force_new()
                    .describe("a value whose change replaces the resource"),
            )
            .attr(
                "id",
                Attribute::computed(Type::String)
                    .describe("a string value unique to the resource instance"),
            ),
    )]
    .into(),
    data_sources: Default::default(),
});

struct TerraformProvider;

fn check_type(type_name: &str) -> Result<(), ProviderError> {
    if type_name == "terraform_data" {
        Ok(())
    } else {
        Err(unsupported("resource", type_name, NAME))
    }
}

/// Equal and both wholly known (an unknown is always a change).
/// The state keeps `input` as plain JSON (a set reads back as a tuple), so
/// equal JSON counts as equal.
fn same(a: &Value, b: &Value) -> bool {
    a.is_wholly_known() && b.is_wholly_known() && (a.equals(b) || a.to_json() == b.to_json())
}

/// The planned `output` for a new `input`: unknown of its type, or null.
fn pending_output(input: &Value) -> Value {
    if input.is_null() {
        Value::Null
    } else {
        Value::Unknown(input.type_of())
    }
}

#[async_trait]
impl Provider for TerraformProvider {
    /// Its resources live only in the state.
    fn external_objects(&self, _type_name: &str) -> bool {
        false
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        check_type(req.type_name)?;
        let mut planned = req.proposed.clone();
        let input = attr(req.config, "input").clone();
        let mut requires_replace = Vec::new();
        match req.prior {
            None => {
                set_attr(&mut planned, "id", Value::Unknown(Type::String));
                set_attr(&mut planned, "output", pending_output(&input));
            }
            Some(prior) => {
                let triggers = attr(req.config, "triggers_replace");
                if !same(attr(prior, "triggers_replace"), triggers) {
                    requires_replace.push(path("triggers_replace"));
                    set_attr(&mut planned, "id", Value::Unknown(Type::String));
                    set_attr(&mut planned, "output", pending_output(&input));
                } else if !same(attr(prior, "input"), &input) {
                    set_attr(&mut planned, "output", pending_output(&input));
                }
            }
        }
        Ok(PlanResponse {
            planned,
            requires_replace,
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        check_type(req.type_name)?;
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        let mut state = planned.clone();
        let id = attr(planned, "id");
        if id.is_null() || !id.is_known() {
            set_attr(&mut state, "id", Value::String(new_uuid()));
        }
        let input = attr(planned, "input").clone();
        set_attr(&mut state, "output", input);
        Ok(Some(state))
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        check_type(type_name)?;
        Ok(Some(state.clone()))
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        check_type(type_name)?;
        if id.is_empty() {
            return Err(ProviderError::new("invalid import id")
                .with_detail("the id of a terraform_data resource to import must not be empty"));
        }
        Ok(Value::Object(
            [
                ("id".to_owned(), Value::string(id)),
                ("input".to_owned(), Value::Null),
                ("output".to_owned(), Value::Null),
                ("triggers_replace".to_owned(), Value::Null),
            ]
            .into(),
        ))
    }

    async fn read_data(&self, type_name: &str, _config: &Value) -> Result<Value, ProviderError> {
        Err(unsupported("data source", type_name, NAME))
    }
}
