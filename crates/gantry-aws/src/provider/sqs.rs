//! aws_sqs_queue.

use std::collections::BTreeMap;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::iam::keep_equivalent_json;
use super::values::{attr, get_bool, get_int, get_str, json_equivalent, null_object, req_str, set};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::sqs;

pub(super) fn resources() -> super::Resources {
    vec![("aws_sqs_queue", Box::new(Queue))]
}

pub(super) struct Queue;

/// Number arguments: (attribute, SQS attribute name, default).
const NUMBERS: [(&str, &str, i64); 6] = [
    ("delay_seconds", "DelaySeconds", 0),
    ("max_message_size", "MaximumMessageSize", 262_144),
    (
        "message_retention_seconds",
        "MessageRetentionPeriod",
        345_600,
    ),
    (
        "receive_wait_time_seconds",
        "ReceiveMessageWaitTimeSeconds",
        0,
    ),
    ("visibility_timeout_seconds", "VisibilityTimeout", 30),
    (
        "kms_data_key_reuse_period_seconds",
        "KmsDataKeyReusePeriodSeconds",
        300,
    ),
];

/// String arguments: (attribute, SQS attribute name).
const STRINGS: [(&str, &str); 3] = [
    ("policy", "Policy"),
    ("redrive_policy", "RedrivePolicy"),
    ("kms_master_key_id", "KmsMasterKeyId"),
];

/// The queue name at the end of a queue URL.
fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The SQS attributes a planned value asks for.
fn attributes(planned: &Value, fifo_create: bool) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (a, sqs, _) in NUMBERS {
        if let Some(n) = get_int(planned, a) {
            m.insert(sqs.to_owned(), n.to_string());
        }
    }
    for (a, sqs) in STRINGS {
        if let Some(s) = get_str(planned, a) {
            m.insert(sqs.to_owned(), s.to_owned());
        }
    }
    if let Some(b) = get_bool(planned, "sqs_managed_sse_enabled")
        && get_str(planned, "kms_master_key_id").is_none()
    {
        m.insert("SqsManagedSseEnabled".into(), b.to_string());
    }
    if get_bool(planned, "fifo_queue") == Some(true) {
        if fifo_create {
            m.insert("FifoQueue".into(), "true".into());
        }
        if let Some(b) = get_bool(planned, "content_based_deduplication") {
            m.insert("ContentBasedDeduplication".into(), b.to_string());
        }
    }
    m
}

#[async_trait]
impl ResourceType for Queue {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "name_prefix",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "fifo_queue",
                Attribute::optional_computed(Type::Bool).force_new(),
            )
            .attr(
                "content_based_deduplication",
                Attribute::optional_computed(Type::Bool),
            )
            .attr(
                "sqs_managed_sse_enabled",
                Attribute::optional_computed(Type::Bool),
            )
            .attr("policy", Attribute::optional_computed(Type::String))
            .attr("redrive_policy", Attribute::optional_computed(Type::String))
            .attr(
                "kms_master_key_id",
                Attribute::optional_computed(Type::String),
            )
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("url", Attribute::computed(Type::String));
        for (a, _, _) in NUMBERS {
            s = s.attr(a, Attribute::optional_computed(Type::Number));
        }
        s
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        let mut d: Vec<(&'static str, Value)> = NUMBERS
            .iter()
            .map(|(a, _, n)| (*a, Value::Number(*n as f64)))
            .collect();
        d.push(("fifo_queue", Value::Bool(false)));
        d.push(("content_based_deduplication", Value::Bool(false)));
        d
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        let fifo = get_bool(config, "fifo_queue") == Some(true);
        if let Some(n) = get_str(config, "name") {
            let base = n.strip_suffix(".fifo").unwrap_or(n);
            let ok_chars = base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if n.len() > 80 || base.is_empty() || !ok_chars || (fifo != n.ends_with(".fifo")) {
                out.push(
                    ProviderError::new("invalid queue name")
                        .with_detail(if fifo {
                            format!("{n:?}: a FIFO queue name must end with .fifo and have at most 80 alphanumeric characters, hyphens or underscores")
                        } else {
                            format!("{n:?}: a queue name must have at most 80 alphanumeric characters, hyphens or underscores")
                        })
                        .at(path("name")),
                );
            }
        }
        if let Some(n) = get_int(config, "delay_seconds")
            && !(0..=900).contains(&n)
        {
            out.push(
                ProviderError::new("invalid value for delay_seconds")
                    .with_detail(format!(
                        "expected delay_seconds to be in the range (0 - 900), got {n}"
                    ))
                    .at(path("delay_seconds")),
            );
        }
        if let Some(n) = get_int(config, "visibility_timeout_seconds")
            && !(0..=43200).contains(&n)
        {
            out.push(
                ProviderError::new("invalid value for visibility_timeout_seconds")
                    .with_detail(format!(
                        "expected visibility_timeout_seconds to be in the range (0 - 43200), got {n}"
                    ))
                    .at(path("visibility_timeout_seconds")),
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
        keep_equivalent_json(prior, planned, "policy");
        keep_equivalent_json(prior, planned, "redrive_policy");
        if prior.is_none() {
            for a in [
                "policy",
                "redrive_policy",
                "kms_master_key_id",
                "name_prefix",
            ] {
                if attr(config, a).is_null() {
                    set(planned, a, Value::Null);
                }
            }
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let fifo = get_bool(planned, "fifo_queue") == Some(true);
        let name = match get_str(planned, "name") {
            Some(n) => n.to_owned(),
            None => {
                let n = super::values::unique_name(
                    get_str(planned, "name_prefix").unwrap_or("terraform-"),
                );
                if fifo { format!("{n}.fifo") } else { n }
            }
        };
        let url = sqs::create_queue(
            &ctx.client,
            &name,
            &attributes(planned, true),
            &planned_tags(planned),
        )
        .await
        .map_err(aws_err(format!("creating SQS Queue ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", url.clone());
        set(&mut v, "url", url);
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let url = req_str(state, "id")?;
        let err = || format!("reading SQS Queue ({url})");
        let Some(a) = sqs::get_queue_attributes(&ctx.client, url)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        let tags = sqs::list_queue_tags(&ctx.client, url)
            .await
            .map_err(aws_err(format!("listing tags for SQS Queue ({url})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", url);
        set(&mut v, "url", url);
        set(&mut v, "name", name_of(url));
        set(&mut v, "name_prefix", attr(state, "name_prefix").clone());
        set(
            &mut v,
            "arn",
            a.get("QueueArn").cloned().unwrap_or_default(),
        );
        for (attr_name, sqs_name, default) in NUMBERS {
            let n = a
                .get(sqs_name)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(default);
            set(&mut v, attr_name, n);
        }
        for (attr_name, sqs_name) in STRINGS {
            let remote = a.get(sqs_name).filter(|s| !s.is_empty());
            let value = match (get_str(state, attr_name), remote) {
                (Some(p), Some(r)) if json_equivalent(p, r) => Value::string(p),
                (_, Some(r)) => Value::string(r.clone()),
                (_, None) => Value::Null,
            };
            set(&mut v, attr_name, value);
        }
        let flag = |k: &str| a.get(k).is_some_and(|s| s == "true");
        set(&mut v, "fifo_queue", flag("FifoQueue"));
        set(
            &mut v,
            "content_based_deduplication",
            flag("ContentBasedDeduplication"),
        );
        set(
            &mut v,
            "sqs_managed_sse_enabled",
            flag("SqsManagedSseEnabled"),
        );
        set(&mut v, "tags_all", super::values::string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let url = req_str(prior, "id")?;
        let old = attributes(prior, false);
        let mut changed: BTreeMap<String, String> = attributes(planned, false)
            .into_iter()
            .filter(|(k, v)| old.get(k) != Some(v))
            .collect();
        // An attribute removed from the configuration goes back to empty.
        for (a, sqs_name) in STRINGS {
            if get_str(planned, a).is_none() && get_str(prior, a).is_some() {
                changed.insert(sqs_name.to_owned(), String::new());
            }
        }
        if !changed.is_empty() {
            sqs::set_queue_attributes(&ctx.client, url, &changed)
                .await
                .map_err(aws_err(format!("updating SQS Queue ({url}) attributes")))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            sqs::untag_queue(&ctx.client, url, &removed)
                .await
                .map_err(aws_err(format!("untagging SQS Queue ({url})")))?;
        }
        if !set_tags.is_empty() {
            sqs::tag_queue(&ctx.client, url, &set_tags)
                .await
                .map_err(aws_err(format!("tagging SQS Queue ({url})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let url = req_str(state, "id")?;
        sqs::delete_queue(&ctx.client, url)
            .await
            .map_err(aws_err(format!("deleting SQS Queue ({url})")))
    }
}
