//! aws_kms_key.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::iam::keep_equivalent_json;
use super::logs::{check_json_object, check_one_of, check_range, remote_json};
use super::values::{attr, get_bool, get_int, get_str, null_object, req_str, set, string_map};
use super::{Ctx, ResourceType, aws_err, planned_tags, tag_changes};
use crate::service::kms;

pub(super) fn resources() -> super::Resources {
    vec![("aws_kms_key", Box::new(Key))]
}

pub(super) struct Key;

const KEY_USAGES: [&str; 4] = [
    "ENCRYPT_DECRYPT",
    "SIGN_VERIFY",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
];

const KEY_SPECS: [&str; 17] = [
    "SYMMETRIC_DEFAULT",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
];

/// Days a deleted key waits before AWS removes it, unless configured.
const DEFAULT_DELETION_WINDOW: i64 = 30;

#[async_trait]
impl ResourceType for Key {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("description", Attribute::optional_computed(Type::String))
            .attr("key_usage", Attribute::optional(Type::String).force_new())
            .attr(
                "customer_master_key_spec",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("policy", Attribute::optional_computed(Type::String))
            .attr(
                "bypass_policy_lockout_safety_check",
                Attribute::optional(Type::Bool),
            )
            .attr("enable_key_rotation", Attribute::optional(Type::Bool))
            .attr("is_enabled", Attribute::optional(Type::Bool))
            .attr("deletion_window_in_days", Attribute::optional(Type::Number))
            .attr(
                "multi_region",
                Attribute::optional_computed(Type::Bool).force_new(),
            )
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("key_id", Attribute::computed(Type::String))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("key_usage", Value::string("ENCRYPT_DECRYPT")),
            (
                "customer_master_key_spec",
                Value::string("SYMMETRIC_DEFAULT"),
            ),
            ("bypass_policy_lockout_safety_check", Value::Bool(false)),
            ("enable_key_rotation", Value::Bool(false)),
            ("is_enabled", Value::Bool(true)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        out.extend(check_range(config, "deletion_window_in_days", 7, 30));
        out.extend(check_one_of(config, "key_usage", &KEY_USAGES));
        out.extend(check_one_of(config, "customer_master_key_spec", &KEY_SPECS));
        out.extend(check_json_object(config, "policy"));
        if let Some(d) = get_str(config, "description")
            && d.chars().count() > 8192
        {
            out.push(
                ProviderError::new("invalid value for description")
                    .with_detail("description must be at most 8192 characters")
                    .at(super::path("description")),
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
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let tags = planned_tags(planned);
        let k = kms::create_key(
            &ctx.client,
            &kms::NewKey {
                description: get_str(planned, "description"),
                key_usage: get_str(planned, "key_usage").unwrap_or("ENCRYPT_DECRYPT"),
                key_spec: get_str(planned, "customer_master_key_spec")
                    .unwrap_or("SYMMETRIC_DEFAULT"),
                policy: get_str(planned, "policy"),
                multi_region: get_bool(planned, "multi_region").unwrap_or(false),
                bypass_policy_lockout_safety_check: get_bool(
                    planned,
                    "bypass_policy_lockout_safety_check",
                )
                .unwrap_or(false),
                tags: &tags,
            },
        )
        .await
        .map_err(aws_err("creating KMS Key"))?;
        let id = k.key_id;
        let err = || format!("updating KMS Key ({id})");
        if get_bool(planned, "enable_key_rotation") == Some(true) {
            kms::set_key_rotation(&ctx.client, &id, true)
                .await
                .map_err(aws_err(err()))?;
        }
        if get_bool(planned, "is_enabled") == Some(false) {
            kms::set_key_enabled(&ctx.client, &id, false)
                .await
                .map_err(aws_err(err()))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", id.clone());
        set(&mut v, "key_id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let err = || format!("reading KMS Key ({id})");
        let Some(k) = kms::describe_key(&ctx.client, id)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        // A key waiting for deletion is gone as far as Terraform is concerned.
        if k.key_state == "PendingDeletion" {
            return Ok(None);
        }
        let policy = kms::get_key_policy(&ctx.client, id)
            .await
            .map_err(aws_err(err()))?;
        let rotation = kms::get_key_rotation_status(&ctx.client, id)
            .await
            .map_err(aws_err(err()))?;
        let tags = kms::list_resource_tags(&ctx.client, id)
            .await
            .map_err(aws_err(format!("listing tags for KMS Key ({id})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", k.key_id.clone());
        set(&mut v, "key_id", k.key_id);
        set(&mut v, "arn", k.arn);
        set(&mut v, "description", k.description);
        set(&mut v, "key_usage", k.key_usage);
        set(&mut v, "customer_master_key_spec", k.key_spec);
        set(
            &mut v,
            "policy",
            remote_json(state, "policy", Some(&policy)),
        );
        set(&mut v, "enable_key_rotation", rotation);
        set(&mut v, "is_enabled", k.enabled);
        set(&mut v, "multi_region", k.multi_region);
        set(
            &mut v,
            "bypass_policy_lockout_safety_check",
            get_bool(state, "bypass_policy_lockout_safety_check").unwrap_or(false),
        );
        set(
            &mut v,
            "deletion_window_in_days",
            attr(state, "deletion_window_in_days").clone(),
        );
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let err = || format!("updating KMS Key ({id})");
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        let enabled = get_bool(planned, "is_enabled").unwrap_or(true);
        // A disabled key cannot change its rotation: enable it first.
        if changed("is_enabled") && enabled {
            kms::set_key_enabled(&ctx.client, id, true)
                .await
                .map_err(aws_err(err()))?;
        }
        if changed("description") {
            kms::update_key_description(
                &ctx.client,
                id,
                get_str(planned, "description").unwrap_or_default(),
            )
            .await
            .map_err(aws_err(err()))?;
        }
        if changed("policy")
            && let Some(p) = get_str(planned, "policy")
        {
            kms::put_key_policy(&ctx.client, id, p)
                .await
                .map_err(aws_err(format!("updating KMS Key ({id}) policy")))?;
        }
        if changed("enable_key_rotation") {
            kms::set_key_rotation(
                &ctx.client,
                id,
                get_bool(planned, "enable_key_rotation").unwrap_or(false),
            )
            .await
            .map_err(aws_err(format!("updating KMS Key ({id}) rotation")))?;
        }
        if changed("is_enabled") && !enabled {
            kms::set_key_enabled(&ctx.client, id, false)
                .await
                .map_err(aws_err(err()))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            kms::untag_resource(&ctx.client, id, &removed)
                .await
                .map_err(aws_err(format!("untagging KMS Key ({id})")))?;
        }
        if !set_tags.is_empty() {
            kms::tag_resource(&ctx.client, id, &set_tags)
                .await
                .map_err(aws_err(format!("tagging KMS Key ({id})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        let days = get_int(state, "deletion_window_in_days").unwrap_or(DEFAULT_DELETION_WINDOW);
        kms::schedule_key_deletion(&ctx.client, id, days)
            .await
            .map_err(aws_err(format!("deleting KMS Key ({id})")))
    }
}
