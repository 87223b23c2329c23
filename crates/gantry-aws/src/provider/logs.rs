//! aws_cloudwatch_log_group.
//!
//! Also the plan-time checks the service modules (dynamodb, kms, ssm,
//! ecr, logs, sns, cloudwatch) share: [`check_one_of`], [`check_range`],
//! [`check_conflict`], and [`remote_json`].

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{
    attr, get_bool, get_int, get_str, json_equivalent, name_prefix_of, null_object, opt_string,
    req_str, set, string_map, unique_name,
};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::logs;

pub(super) fn resources() -> super::Resources {
    vec![("aws_cloudwatch_log_group", Box::new(LogGroup))]
}

/// An error when the string `name` is set to none of `allowed`.
pub(super) fn check_one_of(config: &Value, name: &str, allowed: &[&str]) -> Option<ProviderError> {
    let v = get_str(config, name)?;
    (!allowed.contains(&v)).then(|| {
        ProviderError::new(format!("invalid value for {name}"))
            .with_detail(format!(
                "expected {name} to be one of [{}], got {v:?}",
                allowed.join(", ")
            ))
            .at(path(name))
    })
}

/// An error when the number `name` is set outside `lo..=hi`.
pub(super) fn check_range(config: &Value, name: &str, lo: i64, hi: i64) -> Option<ProviderError> {
    let n = get_int(config, name)?;
    (!(lo..=hi).contains(&n)).then(|| {
        ProviderError::new(format!("invalid value for {name}"))
            .with_detail(format!(
                "expected {name} to be in the range ({lo} - {hi}), got {n}"
            ))
            .at(path(name))
    })
}

/// An error when both `a` and `b` are set.
pub(super) fn check_conflict(config: &Value, a: &str, b: &str) -> Option<ProviderError> {
    (!attr(config, a).is_null() && !attr(config, b).is_null()).then(|| {
        ProviderError::new("conflicting configuration arguments")
            .with_detail(format!("{a:?}: conflicts with {b}"))
            .at(path(a))
    })
}

/// An error when `name` is set but is not a JSON object.
pub(super) fn check_json_object(config: &Value, name: &str) -> Option<ProviderError> {
    let s = get_str(config, name)?;
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(_)) => None,
        Ok(_) => Some(
            ProviderError::new("invalid JSON")
                .with_detail(format!("{name} must be a JSON object"))
                .at(path(name)),
        ),
        Err(e) => Some(
            ProviderError::new("invalid JSON")
                .with_detail(format!("{name}: {e}"))
                .at(path(name)),
        ),
    }
}

/// A JSON document read from AWS: the state's text when it means the same
/// document (so formatting never shows as a change), else AWS's; null
/// when AWS has none.
pub(super) fn remote_json(state: &Value, name: &str, remote: Option<&str>) -> Value {
    match (get_str(state, name), remote.filter(|r| !r.is_empty())) {
        (Some(p), Some(r)) if json_equivalent(p, r) => Value::string(p),
        (_, Some(r)) => Value::string(r),
        (_, None) => Value::Null,
    }
}

/// The retention periods CloudWatch Logs accepts (0: never expire).
const RETENTION_DAYS: [i64; 23] = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(super) struct LogGroup;

#[async_trait]
impl ResourceType for LogGroup {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("name_prefix", Attribute::optional(Type::String).force_new())
            .attr("retention_in_days", Attribute::optional(Type::Number))
            .attr("kms_key_id", Attribute::optional(Type::String))
            .attr(
                "log_group_class",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("skip_destroy", Attribute::optional(Type::Bool))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("retention_in_days", Value::Number(0.0)),
            ("skip_destroy", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if let Some(n) = get_int(config, "retention_in_days")
            && !RETENTION_DAYS.contains(&n)
        {
            let allowed: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
            out.push(
                ProviderError::new("invalid value for retention_in_days")
                    .with_detail(format!(
                        "expected retention_in_days to be one of [{}], got {n}",
                        allowed.join(" ")
                    ))
                    .at(path("retention_in_days")),
            );
        }
        out.extend(check_one_of(
            config,
            "log_group_class",
            &["STANDARD", "INFREQUENT_ACCESS"],
        ));
        out.extend(check_conflict(config, "name", "name_prefix"));
        if let Some(n) = get_str(config, "name")
            && (n.is_empty()
                || n.len() > 512
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c)))
        {
            out.push(
                ProviderError::new("invalid log group name")
                    .with_detail(format!(
                        "{n:?} must be 1 to 512 characters of letters, digits and _-/.#"
                    ))
                    .at(path("name")),
            );
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = match get_str(planned, "name") {
            Some(n) => n.to_owned(),
            None => unique_name(get_str(planned, "name_prefix").unwrap_or("terraform-")),
        };
        let err = || format!("creating CloudWatch Logs Log Group ({name})");
        logs::create_log_group(
            &ctx.client,
            &name,
            get_str(planned, "kms_key_id"),
            get_str(planned, "log_group_class"),
            &planned_tags(planned),
        )
        .await
        .map_err(aws_err(err()))?;
        if let Some(days) = get_int(planned, "retention_in_days").filter(|d| *d > 0) {
            logs::set_retention(&ctx.client, &name, days)
                .await
                .map_err(aws_err(format!(
                    "setting CloudWatch Logs Log Group ({name}) retention policy"
                )))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", name.clone());
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(g) = logs::describe_log_group(&ctx.client, name)
            .await
            .map_err(aws_err(format!(
                "reading CloudWatch Logs Log Group ({name})"
            )))?
        else {
            return Ok(None);
        };
        let tags = logs::list_tags(&ctx.client, &g.arn)
            .await
            .map_err(aws_err(format!(
                "listing tags for CloudWatch Logs Log Group ({name})"
            )))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", g.name.clone());
        set(&mut v, "name", g.name.clone());
        let prefix = match attr(state, "name_prefix") {
            Value::Null => opt_string(name_prefix_of(&g.name)),
            p => p.clone(),
        };
        set(&mut v, "name_prefix", prefix);
        set(&mut v, "arn", g.arn);
        set(&mut v, "retention_in_days", g.retention_in_days);
        set(&mut v, "kms_key_id", opt_string(g.kms_key_id));
        set(&mut v, "log_group_class", g.log_group_class);
        set(
            &mut v,
            "skip_destroy",
            get_bool(state, "skip_destroy").unwrap_or(false),
        );
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        if changed("retention_in_days") {
            logs::set_retention(
                &ctx.client,
                name,
                get_int(planned, "retention_in_days").unwrap_or(0),
            )
            .await
            .map_err(aws_err(format!(
                "setting CloudWatch Logs Log Group ({name}) retention policy"
            )))?;
        }
        if changed("kms_key_id") {
            logs::set_kms_key(&ctx.client, name, get_str(planned, "kms_key_id"))
                .await
                .map_err(aws_err(format!(
                    "updating CloudWatch Logs Log Group ({name}) KMS key"
                )))?;
        }
        let arn = req_str(prior, "arn")?;
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            logs::untag_resource(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!(
                    "untagging CloudWatch Logs Log Group ({name})"
                )))?;
        }
        if !set_tags.is_empty() {
            logs::tag_resource(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!(
                    "tagging CloudWatch Logs Log Group ({name})"
                )))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        // skip_destroy: the log group stays in AWS and only leaves the state.
        if get_bool(state, "skip_destroy") == Some(true) {
            return Ok(());
        }
        logs::delete_log_group(&ctx.client, name)
            .await
            .map_err(aws_err(format!(
                "deleting CloudWatch Logs Log Group ({name})"
            )))
    }
}
