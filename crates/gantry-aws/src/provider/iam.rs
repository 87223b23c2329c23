//! aws_iam_role.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{
    attr, get_bool, get_int, get_str, json_equivalent, null_object, opt_string, req_str, set,
};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::iam;

pub(super) fn resources() -> super::Resources {
    vec![("aws_iam_role", Box::new(Role))]
}

pub(super) struct Role;

/// Keeps `prior`'s JSON text when `new` means the same document, so
/// whitespace and key order never show as a change.
pub(super) fn keep_equivalent_json(prior: Option<&Value>, planned: &mut Value, name: &str) {
    if let (Some(p), Some(n)) = (prior.and_then(|p| get_str(p, name)), get_str(planned, name))
        && p != n
        && json_equivalent(p, n)
    {
        let p = p.to_owned();
        set(planned, name, p);
    }
}

pub(super) fn check_json(config: &Value, name: &str) -> Option<ProviderError> {
    let s = get_str(config, name)?;
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(_)) => None,
        Ok(_) => Some(
            ProviderError::new("invalid JSON policy")
                .with_detail(format!("{name} must be a JSON object"))
                .at(path(name)),
        ),
        Err(e) => Some(
            ProviderError::new("invalid JSON policy")
                .with_detail(format!("{name}: {e}"))
                .at(path(name)),
        ),
    }
}

#[async_trait]
impl ResourceType for Role {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "name_prefix",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "path",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("assume_role_policy", Attribute::required(Type::String))
            .attr("description", Attribute::optional(Type::String))
            .attr(
                "max_session_duration",
                Attribute::optional_computed(Type::Number),
            )
            .attr("permissions_boundary", Attribute::optional(Type::String))
            .attr(
                "force_detach_policies",
                Attribute::optional_computed(Type::Bool),
            )
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("unique_id", Attribute::computed(Type::String))
            .attr("create_date", Attribute::computed(Type::String))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("path", Value::string("/")),
            ("max_session_duration", Value::Number(3600.0)),
            ("force_detach_policies", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = check_json(config, "assume_role_policy")
            .into_iter()
            .collect();
        if let Some(n) = get_str(config, "name")
            && (n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)))
        {
            out.push(
                ProviderError::new("invalid role name")
                    .with_detail(format!(
                        "{n:?} must be 1 to 64 characters of letters, digits and +=,.@_-"
                    ))
                    .at(path("name")),
            );
        }
        if let Some(d) = get_int(config, "max_session_duration")
            && !(3600..=43200).contains(&d)
        {
            out.push(
                ProviderError::new("invalid value for max_session_duration")
                    .with_detail(format!(
                        "expected max_session_duration to be in the range (3600 - 43200), got {d}"
                    ))
                    .at(path("max_session_duration")),
            );
        }
        if !attr(config, "name").is_null() && !attr(config, "name_prefix").is_null() {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail("\"name\": conflicts with name_prefix")
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
        keep_equivalent_json(prior, planned, "assume_role_policy");
        if attr(config, "name_prefix").is_null() {
            let keep = prior
                .map(|p| attr(p, "name_prefix").clone())
                .unwrap_or(Value::Null);
            set(planned, "name_prefix", keep);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = match get_str(planned, "name") {
            Some(n) => n.to_owned(),
            None => {
                super::values::unique_name(get_str(planned, "name_prefix").unwrap_or("terraform-"))
            }
        };
        let tags = planned_tags(planned);
        iam::create_role(
            &ctx.client,
            &iam::NewRole {
                name: &name,
                path: get_str(planned, "path").unwrap_or("/"),
                assume_role_policy: req_str(planned, "assume_role_policy")?,
                description: get_str(planned, "description"),
                max_session_duration: get_int(planned, "max_session_duration"),
                permissions_boundary: get_str(planned, "permissions_boundary"),
                tags: &tags,
            },
        )
        .await
        .map_err(aws_err(format!("creating IAM Role ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", name.clone());
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(r) = iam::get_role(&ctx.client, name)
            .await
            .map_err(aws_err(format!("reading IAM Role ({name})")))?
        else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", r.name.clone());
        set(&mut v, "name", r.name.clone());
        set(&mut v, "name_prefix", attr(state, "name_prefix").clone());
        set(&mut v, "path", r.path);
        set(&mut v, "arn", r.arn);
        set(&mut v, "unique_id", r.id);
        set(&mut v, "create_date", r.create_date);
        set(
            &mut v,
            "description",
            opt_string(r.description.filter(|d| !d.is_empty())),
        );
        set(&mut v, "max_session_duration", r.max_session_duration);
        set(
            &mut v,
            "permissions_boundary",
            opt_string(r.permissions_boundary),
        );
        set(
            &mut v,
            "force_detach_policies",
            get_bool(state, "force_detach_policies").unwrap_or(false),
        );
        let policy = match get_str(state, "assume_role_policy") {
            Some(p) if json_equivalent(p, &r.assume_role_policy) => p.to_owned(),
            _ => r.assume_role_policy,
        };
        set(&mut v, "assume_role_policy", policy);
        set(&mut v, "tags_all", super::values::string_map(&r.tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let err = || format!("updating IAM Role ({name})");
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        if changed("assume_role_policy") {
            iam::update_assume_role_policy(
                &ctx.client,
                name,
                req_str(planned, "assume_role_policy")?,
            )
            .await
            .map_err(aws_err(format!(
                "updating IAM Role ({name}) assume role policy"
            )))?;
        }
        if changed("description") || changed("max_session_duration") {
            iam::update_role(
                &ctx.client,
                name,
                get_str(planned, "description"),
                get_int(planned, "max_session_duration"),
            )
            .await
            .map_err(aws_err(err()))?;
        }
        if changed("permissions_boundary") {
            iam::put_role_permissions_boundary(
                &ctx.client,
                name,
                get_str(planned, "permissions_boundary"),
            )
            .await
            .map_err(aws_err(err()))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            iam::untag_role(&ctx.client, name, &removed)
                .await
                .map_err(aws_err(format!("untagging IAM Role ({name})")))?;
        }
        if !set_tags.is_empty() {
            iam::tag_role(&ctx.client, name, &set_tags)
                .await
                .map_err(aws_err(format!("tagging IAM Role ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        let err = || format!("deleting IAM Role ({name})");
        // A role in an instance profile cannot be deleted; Terraform
        // removes it from them first.
        for p in iam::list_instance_profiles_for_role(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?
        {
            iam::remove_role_from_instance_profile(&ctx.client, name, &p)
                .await
                .map_err(aws_err(err()))?;
        }
        if get_bool(state, "force_detach_policies") == Some(true) {
            for arn in iam::list_attached_role_policies(&ctx.client, name)
                .await
                .map_err(aws_err(err()))?
            {
                iam::detach_role_policy(&ctx.client, name, &arn)
                    .await
                    .map_err(aws_err(err()))?;
            }
            for p in iam::list_role_policies(&ctx.client, name)
                .await
                .map_err(aws_err(err()))?
            {
                iam::delete_role_policy(&ctx.client, name, &p)
                    .await
                    .map_err(aws_err(err()))?;
            }
        }
        match iam::delete_role(&ctx.client, name).await {
            Err(e) if e.is(&["NoSuchEntity"]) => Ok(()),
            r => r.map_err(aws_err(err())),
        }
    }
}
