//! aws_ecr_repository.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, NestedBlock, Nesting, ProviderError, Schema};
use gantry_iac::value::{PathStep, Type, Value};

use super::logs::check_one_of;
use super::values::{
    attr, blocks, get_bool, get_str, null_object, object, opt_string, req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, block, path, planned_tags, tag_changes};
use crate::service::ecr;

pub(super) fn resources() -> super::Resources {
    vec![("aws_ecr_repository", Box::new(Repository))]
}

pub(super) struct Repository;

/// A nested value read from AWS: null when the prior block left it unset
/// and AWS holds what it picks by itself (`default`, or anything when the
/// default is empty), so a setting the configuration never wrote does not
/// show as a change.
pub(super) fn keep_unset(
    prior: Option<&Value>,
    name: &str,
    remote: Option<String>,
    default: &str,
) -> Value {
    let unset = prior.is_some_and(|p| attr(p, name).is_null());
    match remote {
        Some(r) if unset && (default.is_empty() || r == default) => Value::Null,
        r => opt_string(r),
    }
}

fn encryption_block() -> NestedBlock {
    NestedBlock {
        force_new: true,
        ..block(
            Nesting::List,
            Schema::new()
                .attr("encryption_type", Attribute::optional(Type::String))
                .attr("kms_key", Attribute::optional_computed(Type::String)),
            0,
            Some(1),
        )
    }
}

#[async_trait]
impl ResourceType for Repository {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("image_tag_mutability", Attribute::optional(Type::String))
            .attr("force_delete", Attribute::optional(Type::Bool))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("registry_id", Attribute::computed(Type::String))
            .attr("repository_url", Attribute::computed(Type::String))
            .block(
                "image_scanning_configuration",
                block(
                    Nesting::List,
                    Schema::new().attr("scan_on_push", Attribute::required(Type::Bool)),
                    0,
                    Some(1),
                ),
            )
            .block("encryption_configuration", encryption_block())
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("image_tag_mutability", Value::string("MUTABLE")),
            ("force_delete", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        out.extend(check_one_of(
            config,
            "image_tag_mutability",
            &["MUTABLE", "IMMUTABLE"],
        ));
        if let Some(n) = get_str(config, "name") {
            let ok = (2..=256).contains(&n.len())
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
                && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
            if !ok {
                out.push(
                    ProviderError::new("invalid repository name")
                        .with_detail(format!(
                            "{n:?} must be 2 to 256 lowercase letters, digits and ._-/, starting with a letter or digit"
                        ))
                        .at(path("name")),
                );
            }
        }
        for e in blocks(config, "encryption_configuration") {
            if let Some(t) = get_str(e, "encryption_type")
                && !["AES256", "KMS"].contains(&t)
            {
                out.push(
                    ProviderError::new("invalid value for encryption_type")
                        .with_detail(format!(
                            "expected encryption_type to be one of [AES256, KMS], got {t:?}"
                        ))
                        .at(vec![
                            PathStep::Attr("encryption_configuration".into()),
                            PathStep::Index(0),
                            PathStep::Attr("encryption_type".into()),
                        ]),
                );
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = req_str(planned, "name")?;
        let enc = blocks(planned, "encryption_configuration");
        let enc = enc.first();
        let tags = planned_tags(planned);
        ecr::create_repository(
            &ctx.client,
            &ecr::NewRepository {
                name,
                image_tag_mutability: get_str(planned, "image_tag_mutability").unwrap_or("MUTABLE"),
                scan_on_push: blocks(planned, "image_scanning_configuration")
                    .first()
                    .and_then(|b| get_bool(b, "scan_on_push"))
                    .unwrap_or(false),
                encryption_type: enc
                    .and_then(|e| get_str(e, "encryption_type"))
                    .unwrap_or("AES256"),
                kms_key: enc.and_then(|e| get_str(e, "kms_key")),
                tags: &tags,
            },
        )
        .await
        .map_err(aws_err(format!("creating ECR Repository ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(r) = ecr::describe_repository(&ctx.client, name)
            .await
            .map_err(aws_err(format!("reading ECR Repository ({name})")))?
        else {
            return Ok(None);
        };
        let tags = ecr::list_tags(&ctx.client, &r.arn)
            .await
            .map_err(aws_err(format!("listing tags for ECR Repository ({name})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", r.name.clone());
        set(&mut v, "name", r.name);
        set(&mut v, "arn", r.arn);
        set(&mut v, "registry_id", r.registry_id);
        set(&mut v, "repository_url", r.uri);
        set(&mut v, "image_tag_mutability", r.image_tag_mutability);
        set(
            &mut v,
            "force_delete",
            get_bool(state, "force_delete").unwrap_or(false),
        );
        // AWS always has both settings; a block the configuration never
        // wrote stays absent while AWS keeps the default.
        let had = |k: &str| !blocks(state, k).is_empty();
        if r.scan_on_push || had("image_scanning_configuration") {
            set(
                &mut v,
                "image_scanning_configuration",
                Value::List(vec![object([(
                    "scan_on_push",
                    Value::Bool(r.scan_on_push),
                )])]),
            );
        }
        let prior_enc = blocks(state, "encryption_configuration").first().copied();
        if r.encryption_type != "AES256" || had("encryption_configuration") {
            set(
                &mut v,
                "encryption_configuration",
                Value::List(vec![object([
                    (
                        "encryption_type",
                        keep_unset(
                            prior_enc,
                            "encryption_type",
                            Some(r.encryption_type),
                            "AES256",
                        ),
                    ),
                    ("kms_key", keep_unset(prior_enc, "kms_key", r.kms_key, "")),
                ])]),
            );
        }
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        if changed("image_tag_mutability") {
            ecr::put_image_tag_mutability(
                &ctx.client,
                name,
                get_str(planned, "image_tag_mutability").unwrap_or("MUTABLE"),
            )
            .await
            .map_err(aws_err(format!(
                "updating ECR Repository ({name}) image tag mutability"
            )))?;
        }
        if changed("image_scanning_configuration") {
            let scan = blocks(planned, "image_scanning_configuration")
                .first()
                .and_then(|b| get_bool(b, "scan_on_push"))
                .unwrap_or(false);
            ecr::put_image_scanning_configuration(&ctx.client, name, scan)
                .await
                .map_err(aws_err(format!(
                    "updating ECR Repository ({name}) image scanning configuration"
                )))?;
        }
        let arn = req_str(prior, "arn")?;
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            ecr::untag_resource(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!("untagging ECR Repository ({name})")))?;
        }
        if !set_tags.is_empty() {
            ecr::tag_resource(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging ECR Repository ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        ecr::delete_repository(
            &ctx.client,
            name,
            get_bool(state, "force_delete").unwrap_or(false),
        )
        .await
        .map_err(aws_err(format!("deleting ECR Repository ({name})")))
    }
}
