//! aws_sns_topic.

use std::collections::BTreeMap;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::iam::keep_equivalent_json;
use super::logs::{check_conflict, check_json_object, remote_json};
use super::values::{attr, get_bool, get_str, null_object, opt_string, req_str, set, string_map};
use super::values::{name_prefix_of, unique_name};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::sns;

pub(super) fn resources() -> super::Resources {
    vec![("aws_sns_topic", Box::new(Topic))]
}

pub(super) struct Topic;

/// String arguments: (attribute, SNS attribute name, is a JSON document).
const STRINGS: [(&str, &str, bool); 4] = [
    ("display_name", "DisplayName", false),
    ("policy", "Policy", true),
    ("delivery_policy", "DeliveryPolicy", true),
    ("kms_master_key_id", "KmsMasterKeyId", false),
];

/// The topic name at the end of its ARN.
fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

#[async_trait]
impl ResourceType for Topic {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("name_prefix", Attribute::optional(Type::String).force_new())
            .attr("fifo_topic", Attribute::optional(Type::Bool).force_new())
            .attr("display_name", Attribute::optional(Type::String))
            .attr("policy", Attribute::optional_computed(Type::String))
            .attr("delivery_policy", Attribute::optional(Type::String))
            .attr("kms_master_key_id", Attribute::optional(Type::String))
            .attr(
                "content_based_deduplication",
                Attribute::optional(Type::Bool),
            )
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("owner", Attribute::computed(Type::String))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("fifo_topic", Value::Bool(false)),
            ("content_based_deduplication", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = ["policy", "delivery_policy"]
            .into_iter()
            .filter_map(|n| check_json_object(config, n))
            .collect();
        out.extend(check_conflict(config, "name", "name_prefix"));
        let fifo = get_bool(config, "fifo_topic") == Some(true);
        if let Some(n) = get_str(config, "name") {
            let base = n.strip_suffix(".fifo").unwrap_or(n);
            let ok = !base.is_empty()
                && n.len() <= 256
                && base
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && fifo == n.ends_with(".fifo");
            if !ok {
                out.push(
                    ProviderError::new("invalid topic name")
                        .with_detail(if fifo {
                            format!("{n:?}: a FIFO topic name must end with .fifo and have at most 256 alphanumeric characters, hyphens or underscores")
                        } else {
                            format!("{n:?}: a topic name must have at most 256 alphanumeric characters, hyphens or underscores")
                        })
                        .at(path("name")),
                );
            }
        }
        if get_bool(config, "content_based_deduplication") == Some(true) && !fifo {
            out.push(
                ProviderError::new("invalid value for content_based_deduplication")
                    .with_detail("content-based deduplication can only be set for FIFO topics")
                    .at(path("content_based_deduplication")),
            );
        }
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        keep_equivalent_json(prior, planned, "policy");
        keep_equivalent_json(prior, planned, "delivery_policy");
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let fifo = get_bool(planned, "fifo_topic") == Some(true);
        let name = match get_str(planned, "name") {
            Some(n) => n.to_owned(),
            None => {
                let n = unique_name(get_str(planned, "name_prefix").unwrap_or("terraform-"));
                if fifo { format!("{n}.fifo") } else { n }
            }
        };
        let mut attributes = BTreeMap::new();
        for (a, sns_name, _) in STRINGS {
            if let Some(s) = get_str(planned, a) {
                attributes.insert(sns_name.to_owned(), s.to_owned());
            }
        }
        if fifo {
            attributes.insert("FifoTopic".into(), "true".into());
            if get_bool(planned, "content_based_deduplication") == Some(true) {
                attributes.insert("ContentBasedDeduplication".into(), "true".into());
            }
        }
        let arn = sns::create_topic(&ctx.client, &name, &attributes, &planned_tags(planned))
            .await
            .map_err(aws_err(format!("creating SNS Topic ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", arn.clone());
        set(&mut v, "arn", arn);
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let arn = req_str(state, "id")?;
        let Some(a) = sns::get_topic_attributes(&ctx.client, arn)
            .await
            .map_err(aws_err(format!("reading SNS Topic ({arn})")))?
        else {
            return Ok(None);
        };
        let tags = sns::list_tags(&ctx.client, arn)
            .await
            .map_err(aws_err(format!("listing tags for SNS Topic ({arn})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", arn);
        set(&mut v, "arn", arn);
        set(&mut v, "name", name_of(arn));
        let prefix = match attr(state, "name_prefix") {
            Value::Null => opt_string(name_prefix_of(name_of(arn).trim_end_matches(".fifo"))),
            p => p.clone(),
        };
        set(&mut v, "name_prefix", prefix);
        set(&mut v, "owner", a.get("Owner").cloned().unwrap_or_default());
        for (attr_name, sns_name, is_json) in STRINGS {
            let remote = a.get(sns_name).map(String::as_str);
            let value = if is_json {
                remote_json(state, attr_name, remote)
            } else {
                opt_string(remote.filter(|s| !s.is_empty()))
            };
            set(&mut v, attr_name, value);
        }
        let flag = |k: &str| a.get(k).is_some_and(|s| s.eq_ignore_ascii_case("true"));
        set(&mut v, "fifo_topic", flag("FifoTopic"));
        set(
            &mut v,
            "content_based_deduplication",
            flag("ContentBasedDeduplication"),
        );
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let arn = req_str(prior, "id")?;
        let err = || format!("updating SNS Topic ({arn})");
        for (a, sns_name, _) in STRINGS {
            if !attr(prior, a).equals(attr(planned, a)) {
                // Unset means empty (AWS then restores its default policy).
                let value = get_str(planned, a).unwrap_or_default();
                sns::set_topic_attribute(&ctx.client, arn, sns_name, value)
                    .await
                    .map_err(aws_err(err()))?;
            }
        }
        if !attr(prior, "content_based_deduplication")
            .equals(attr(planned, "content_based_deduplication"))
        {
            let b = get_bool(planned, "content_based_deduplication").unwrap_or(false);
            sns::set_topic_attribute(
                &ctx.client,
                arn,
                "ContentBasedDeduplication",
                &b.to_string(),
            )
            .await
            .map_err(aws_err(err()))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            sns::untag_resource(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!("untagging SNS Topic ({arn})")))?;
        }
        if !set_tags.is_empty() {
            sns::tag_resource(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging SNS Topic ({arn})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let arn = req_str(state, "id")?;
        sns::delete_topic(&ctx.client, arn)
            .await
            .map_err(aws_err(format!("deleting SNS Topic ({arn})")))
    }
}
