//! aws_ssm_parameter.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::logs::{check_conflict, check_one_of};
use super::values::{attr, get_bool, get_str, null_object, opt_string, req_str, set, string_map};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::ssm;

pub(super) fn resources() -> super::Resources {
    vec![("aws_ssm_parameter", Box::new(Parameter))]
}

pub(super) struct Parameter;

/// Arguments whose change writes a new version of the parameter.
const VERSIONED: [&str; 8] = [
    "value",
    "insecure_value",
    "type",
    "description",
    "allowed_pattern",
    "tier",
    "key_id",
    "data_type",
];

#[async_trait]
impl ResourceType for Parameter {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("type", Attribute::required(Type::String))
            .attr(
                "value",
                Attribute::optional_computed(Type::String).sensitive(),
            )
            .attr("insecure_value", Attribute::optional(Type::String))
            .attr("description", Attribute::optional(Type::String))
            .attr("tier", Attribute::optional(Type::String))
            .attr("key_id", Attribute::optional_computed(Type::String))
            .attr("overwrite", Attribute::optional(Type::Bool))
            .attr("allowed_pattern", Attribute::optional(Type::String))
            .attr("data_type", Attribute::optional_computed(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::optional_computed(Type::String))
            .attr("version", Attribute::computed(Type::Number))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("tier", Value::string("Standard"))]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        out.extend(check_one_of(
            config,
            "type",
            &["String", "StringList", "SecureString"],
        ));
        out.extend(check_one_of(
            config,
            "tier",
            &["Standard", "Advanced", "Intelligent-Tiering"],
        ));
        out.extend(check_one_of(
            config,
            "data_type",
            &["text", "aws:ec2:image", "aws:ssm:integration"],
        ));
        out.extend(check_conflict(config, "value", "insecure_value"));
        if attr(config, "value").is_null() && attr(config, "insecure_value").is_null() {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail("one of `insecure_value` or `value` must be specified")
                    .at(path("value")),
            );
        }
        if get_str(config, "type") == Some("SecureString")
            && !attr(config, "insecure_value").is_null()
        {
            out.push(
                ProviderError::new("invalid value for insecure_value")
                    .with_detail(
                        "insecure_value cannot be used with a SecureString parameter; use value",
                    )
                    .at(path("insecure_value")),
            );
        }
        if let Some(n) = get_str(config, "name")
            && (n.is_empty() || n.len() > 2048)
        {
            out.push(
                ProviderError::new("invalid value for name")
                    .with_detail("name must be 1 to 2048 characters")
                    .at(path("name")),
            );
        }
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        let Some(prior) = prior else {
            return Ok(());
        };
        if VERSIONED
            .iter()
            .any(|k| !attr(prior, k).equals(attr(planned, k)))
        {
            set(planned, "version", Value::Unknown(Type::Number));
        }
        // A new type brings AWS's key choice with it.
        if !attr(prior, "type").equals(attr(planned, "type")) && attr(config, "key_id").is_null() {
            set(planned, "key_id", Value::Unknown(Type::String));
        }
        // insecure_value is the value when used.
        if let Some(v) = get_str(planned, "insecure_value") {
            let v = v.to_owned();
            set(planned, "value", v);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = req_str(planned, "name")?;
        let value = get_str(planned, "value")
            .or_else(|| get_str(planned, "insecure_value"))
            .unwrap_or_default();
        let tags = planned_tags(planned);
        ssm::put_parameter(
            &ctx.client,
            &ssm::PutParameter {
                name,
                value,
                type_: req_str(planned, "type")?,
                description: get_str(planned, "description"),
                key_id: get_str(planned, "key_id"),
                allowed_pattern: get_str(planned, "allowed_pattern"),
                tier: get_str(planned, "tier"),
                data_type: get_str(planned, "data_type"),
                overwrite: false,
                tags: Some(&tags),
            },
        )
        .await
        .map_err(aws_err(format!("creating SSM Parameter ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(p) = ssm::get_parameter(&ctx.client, name)
            .await
            .map_err(aws_err(format!("reading SSM Parameter ({name})")))?
        else {
            return Ok(None);
        };
        let tags = ssm::list_tags(&ctx.client, name)
            .await
            .map_err(aws_err(format!("listing tags for SSM Parameter ({name})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", p.name.clone());
        set(&mut v, "name", p.name);
        set(&mut v, "type", p.type_);
        set(&mut v, "arn", p.arn);
        set(&mut v, "version", p.version);
        set(&mut v, "data_type", p.data_type);
        set(&mut v, "tier", p.tier);
        set(&mut v, "description", opt_string(p.description));
        set(&mut v, "allowed_pattern", opt_string(p.allowed_pattern));
        set(&mut v, "key_id", opt_string(p.key_id));
        if get_str(state, "insecure_value").is_some() {
            set(&mut v, "insecure_value", p.value.clone());
        }
        set(&mut v, "value", Value::string(p.value).mark());
        if let Some(b) = get_bool(state, "overwrite") {
            set(&mut v, "overwrite", b);
        }
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        if VERSIONED
            .iter()
            .any(|k| !attr(prior, k).equals(attr(planned, k)))
        {
            let value = get_str(planned, "insecure_value")
                .or_else(|| get_str(planned, "value"))
                .unwrap_or_default();
            ssm::put_parameter(
                &ctx.client,
                &ssm::PutParameter {
                    name,
                    value,
                    type_: req_str(planned, "type")?,
                    description: get_str(planned, "description"),
                    key_id: get_str(planned, "key_id"),
                    allowed_pattern: get_str(planned, "allowed_pattern"),
                    tier: get_str(planned, "tier"),
                    data_type: get_str(planned, "data_type"),
                    overwrite: true,
                    tags: None,
                },
            )
            .await
            .map_err(aws_err(format!("updating SSM Parameter ({name})")))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            ssm::remove_tags(&ctx.client, name, &removed)
                .await
                .map_err(aws_err(format!("untagging SSM Parameter ({name})")))?;
        }
        if !set_tags.is_empty() {
            ssm::add_tags(&ctx.client, name, &set_tags)
                .await
                .map_err(aws_err(format!("tagging SSM Parameter ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        ssm::delete_parameter(&ctx.client, name)
            .await
            .map_err(aws_err(format!("deleting SSM Parameter ({name})")))
    }
}
