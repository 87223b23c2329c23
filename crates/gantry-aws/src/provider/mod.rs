//! The `aws` provider (`registry.terraform.io/hashicorp/aws`).
//!
//! Each resource type is one [`ResourceType`] value in [`RESOURCES`]; each
//! data source one [`DataSourceType`] in [`DATA_SOURCES`]. Adding a
//! resource is one module implementing the trait and one table line: the
//! shared code here does defaults, `tags`/`tags_all` with the provider's
//! `default_tags`, unknown computed values on create and replace, the
//! read-back after every write, waiting out eventual consistency, and
//! import.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{
    ApplyRequest, Attribute, NestedBlock, Nesting, PlanRequest, PlanResponse, Provider,
    ProviderError, ProviderFactory, ProviderSchema, Schema,
};
use gantry_iac::value::{PathStep, Type, Value};

use crate::client::Client;
use crate::error::Error;
use crate::service::Tags;

mod cloudwatch;
pub(crate) mod config;
mod data;
mod dynamodb;
mod ec2;
mod ecr;
mod iam;
mod iam_policy;
mod kms;
mod lambda;
mod logs;
mod policy_document;
mod route53;
mod s3;
mod sns;
mod sqs;
mod ssm;
pub(crate) mod values;

use values::{attr, get_string_map, set, string_map};

pub const SOURCE: &str = "registry.terraform.io/hashicorp/aws";

/// The `aws` provider factory.
pub fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(AwsFactory)
}

/// What a configured provider hands each resource operation.
pub(crate) struct Ctx {
    pub client: Client,
    pub region: String,
    /// Empty when `skip_requesting_account_id` is set.
    pub account_id: String,
    pub caller_arn: String,
    pub caller_user_id: String,
    pub default_tags: Tags,
}

impl Ctx {
    pub fn partition(&self) -> &'static str {
        self.client.partition().id
    }

    pub fn dns_suffix(&self) -> &'static str {
        self.client.partition().dns_suffix
    }
}

/// One managed resource type.
#[async_trait]
pub(crate) trait ResourceType: Send + Sync {
    fn schema(&self) -> Schema;

    /// Values of optional attributes the configuration leaves null.
    fn defaults(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }

    /// True when the type has `tags` and `tags_all`.
    fn tagged(&self) -> bool {
        false
    }

    /// Checks beyond the schema (value rules Terraform checks at plan).
    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let _ = config;
        Vec::new()
    }

    /// Adjusts the plan after the shared steps (for example keeping a
    /// prior JSON document that is semantically equal to the new one).
    fn plan(
        &self,
        ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        let _ = (ctx, prior, config, planned);
        Ok(())
    }

    /// Creates the object; returns the planned value with its id set (the
    /// provider reads the rest back).
    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError>;

    /// The object as it is now, from a state with at least `id` set;
    /// `None` when it is gone. Arguments AWS does not report are kept
    /// from `state`.
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError>;

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError>;

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError>;

    /// The state an import id stands for, before the read.
    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let mut v = values::null_object(&self.schema());
        set(&mut v, "id", id);
        Ok(v)
    }
}

/// One data source.
#[async_trait]
pub(crate) trait DataSourceType: Send + Sync {
    fn schema(&self) -> Schema;
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError>;
}

type ResourceTable = BTreeMap<&'static str, Box<dyn ResourceType>>;
type DataTable = BTreeMap<&'static str, Box<dyn DataSourceType>>;

/// One module's resource types, by Terraform type name.
pub(crate) type Resources = Vec<(&'static str, Box<dyn ResourceType>)>;

static RESOURCES: LazyLock<ResourceTable> = LazyLock::new(|| {
    // One line per module: each module lists its own types.
    [
        s3::resources(),
        sqs::resources(),
        iam::resources(),
        dynamodb::resources(),
        kms::resources(),
        ssm::resources(),
        ecr::resources(),
        logs::resources(),
        sns::resources(),
        cloudwatch::resources(),
        iam_policy::resources(),
        lambda::resources(),
        route53::resources(),
        ec2::resources(),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// One module's data source types, by Terraform type name.
pub(crate) type DataSources = Vec<(&'static str, Box<dyn DataSourceType>)>;

static DATA_SOURCES: LazyLock<DataTable> = LazyLock::new(|| {
    [
        data::data_sources(),
        policy_document::data_sources(),
        ec2::data_sources(),
    ]
    .into_iter()
    .flatten()
    .collect()
});

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| ProviderSchema {
    provider: config::schema(),
    resources: RESOURCES
        .iter()
        .map(|(k, r)| {
            let mut s = r.schema();
            if r.tagged() {
                s = s
                    .attr("tags", Attribute::optional(Type::map(Type::String)))
                    .attr("tags_all", Attribute::computed(Type::map(Type::String)));
            }
            ((*k).to_owned(), s)
        })
        .collect(),
    data_sources: DATA_SOURCES
        .iter()
        .map(|(k, d)| ((*k).to_owned(), d.schema()))
        .collect(),
});

struct AwsFactory;

#[async_trait]
impl ProviderFactory for AwsFactory {
    fn name(&self) -> &'static str {
        "aws"
    }

    fn source(&self) -> &'static str {
        SOURCE
    }

    fn schema(&self) -> &ProviderSchema {
        &SCHEMA
    }

    async fn configure(&self, cfg: &Value) -> Result<Arc<dyn Provider>, ProviderError> {
        let ctx = config::configure(cfg).await?;
        Ok(Arc::new(AwsProvider { ctx }))
    }
}

struct AwsProvider {
    ctx: Ctx,
}

fn resource(type_name: &str) -> Result<&'static dyn ResourceType, ProviderError> {
    RESOURCES.get(type_name).map(|b| b.as_ref()).ok_or_else(|| {
        ProviderError::new("invalid resource type").with_detail(format!(
            "the provider hashicorp/aws does not support resource type {type_name:?}"
        ))
    })
}

fn schema_of(type_name: &str) -> Result<&'static Schema, ProviderError> {
    SCHEMA.resources.get(type_name).ok_or_else(|| {
        ProviderError::new("invalid resource type").with_detail(format!(
            "the provider hashicorp/aws does not support resource type {type_name:?}"
        ))
    })
}

/// `tags_all`: the provider's default tags overlaid with the resource's.
fn merged_tags(ctx: &Ctx, obj: &Value) -> Result<Option<Tags>, ProviderError> {
    let tags = attr(obj, "tags");
    if !tags.is_wholly_known() {
        return Ok(None);
    }
    let mut all = ctx.default_tags.clone();
    all.extend(get_string_map(obj, "tags")?);
    Ok(Some(all))
}

/// Splits tags read from AWS into `tags` (what the configuration owns)
/// and `tags_all` (everything): a default tag with its default value is
/// not repeated in `tags` unless the prior `tags` had it.
fn split_tags(ctx: &Ctx, prior: &Value, remote: &Tags, out: &mut Value) {
    let prior_tags = get_string_map(prior, "tags").unwrap_or_default();
    let own: Tags = remote
        .iter()
        .filter(|(k, v)| prior_tags.contains_key(*k) || ctx.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags = if own.is_empty() && attr(prior, "tags").is_null() {
        Value::Null
    } else {
        string_map(&own)
    };
    set(out, "tags", tags);
    set(out, "tags_all", string_map(remote));
}

/// What a resource should tag itself with: `tags_all` of the plan.
pub(crate) fn planned_tags(planned: &Value) -> Tags {
    get_string_map(planned, "tags_all").unwrap_or_default()
}

/// The tag changes from `prior` to `planned`: (to set, keys to remove).
pub(crate) fn tag_changes(prior: &Value, planned: &Value) -> (Tags, Vec<String>) {
    let old = get_string_map(prior, "tags_all").unwrap_or_default();
    let new = planned_tags(planned);
    let set: Tags = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, removed)
}

/// The error for a failed AWS call while acting on a resource:
/// `creating S3 Bucket (name): CreateBucket: AccessDenied: ...`.
pub(crate) fn aws_err(what: impl Into<String>) -> impl FnOnce(Error) -> ProviderError {
    let what = what.into();
    move |e| ProviderError::new(what).with_detail(e.to_string())
}

fn replaces(schema: &Schema, prior: &Value, planned: &Value) -> bool {
    schema.attributes.iter().any(|(name, a)| {
        a.force_new && {
            let (p, n) = (attr(prior, name), attr(planned, name));
            !(p.is_wholly_known() && n.is_wholly_known() && p.equals(n))
        }
    }) || schema.blocks.iter().any(|(name, b)| {
        b.force_new && {
            let (p, n) = (attr(prior, name), attr(planned, name));
            !(p.is_wholly_known() && n.is_wholly_known() && p.equals(n))
        }
    })
}

#[async_trait]
impl Provider for AwsProvider {
    fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        // The engine validates data blocks through here too.
        if DATA_SOURCES.contains_key(type_name) {
            return Vec::new();
        }
        match resource(type_name) {
            Ok(r) => r.validate(config),
            Err(e) => vec![e],
        }
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let r = resource(req.type_name)?;
        let schema = schema_of(req.type_name)?;
        let mut planned = req.proposed.clone();
        let new_object = match req.prior {
            None => true,
            Some(prior) => {
                let mut probe = planned.clone();
                for (name, d) in r.defaults() {
                    if attr(req.config, name).is_null() {
                        set(&mut probe, name, d);
                    }
                }
                replaces(schema, prior, &probe)
            }
        };
        if new_object {
            // Everything AWS computes is new; optional+computed values the
            // configuration does not set come from the new object too.
            for (name, a) in &schema.attributes {
                if a.computed && attr(req.config, name).is_null() {
                    set(&mut planned, name, Value::Unknown(a.ty.clone()));
                }
            }
        }
        for (name, d) in r.defaults() {
            if attr(req.config, name).is_null() {
                set(&mut planned, name, d);
            }
        }
        if r.tagged() {
            let all = match merged_tags(&self.ctx, req.config)? {
                Some(t) => string_map(&t),
                None => Value::Unknown(Type::map(Type::String)),
            };
            set(&mut planned, "tags_all", all);
        }
        r.plan(&self.ctx, req.prior, req.config, &mut planned)?;
        Ok(PlanResponse {
            planned,
            requires_replace: Vec::new(),
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let r = resource(req.type_name)?;
        match (req.prior, req.planned) {
            (Some(prior), None) => {
                r.delete(&self.ctx, prior).await?;
                Ok(None)
            }
            (None, Some(planned)) => {
                let created = r.create(&self.ctx, planned).await?;
                self.read_back(r, req.type_name, &created).await.map(Some)
            }
            (Some(prior), Some(planned)) => {
                r.update(&self.ctx, prior, planned).await?;
                self.read_back(r, req.type_name, planned).await.map(Some)
            }
            (None, None) => Ok(None),
        }
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let r = resource(type_name)?;
        let Some(mut v) = r.read(&self.ctx, state).await? else {
            return Ok(None);
        };
        if r.tagged()
            && let Ok(remote) = get_string_map(&v, "tags_all")
        {
            split_tags(&self.ctx, state, &remote, &mut v);
        }
        Ok(Some(v))
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let r = resource(type_name)?;
        let mut v = r.import(id)?;
        for (name, d) in r.defaults() {
            set(&mut v, name, d);
        }
        Ok(v)
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let d = DATA_SOURCES.get(type_name).ok_or_else(|| {
            ProviderError::new("invalid data source type").with_detail(format!(
                "the provider hashicorp/aws does not support data source type {type_name:?}"
            ))
        })?;
        d.read(&self.ctx, config).await
    }
}

impl AwsProvider {
    /// Reads an object after a write, waiting out eventual consistency: a
    /// just-created object may take a moment to become visible.
    async fn read_back(
        &self,
        r: &dyn ResourceType,
        type_name: &str,
        state: &Value,
    ) -> Result<Value, ProviderError> {
        let mut delay = Duration::from_millis(200);
        for _ in 0..8 {
            if let Some(v) = self.read(type_name, state).await? {
                return Ok(v);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        let _ = r;
        Err(
            ProviderError::new("provider produced an invalid result").with_detail(format!(
                "the {type_name} {:?} cannot be found after it was written",
                values::get_str(state, "id").unwrap_or_default()
            )),
        )
    }
}

/// A nested block description.
pub(crate) fn block(
    nesting: Nesting,
    schema: Schema,
    min: usize,
    max: Option<usize>,
) -> NestedBlock {
    NestedBlock {
        nesting,
        schema,
        min_items: min,
        max_items: max,
        force_new: false,
    }
}

/// The path of a top-level attribute.
pub(crate) fn path(name: &str) -> Vec<PathStep> {
    vec![PathStep::Attr(name.to_owned())]
}
