//! aws_iam_policy, aws_iam_role_policy, aws_iam_role_policy_attachment
//! and aws_iam_instance_profile.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::iam::{check_json, keep_equivalent_json};
use super::values::unique_name;
use super::values::{
    attr, get_str, json_equivalent, null_object, opt_string, req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, path, planned_tags, tag_changes};
use crate::service::iam;

pub(super) fn resources() -> super::Resources {
    vec![
        ("aws_iam_policy", Box::new(Policy)),
        ("aws_iam_role_policy", Box::new(RolePolicy)),
        (
            "aws_iam_role_policy_attachment",
            Box::new(RolePolicyAttachment),
        ),
        ("aws_iam_instance_profile", Box::new(InstanceProfile)),
    ]
}

/// IAM allows at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// The name to create: `name`, else `name_prefix` (or `terraform-`) with
/// a unique suffix.
fn name_to_create(planned: &Value) -> String {
    match get_str(planned, "name") {
        Some(n) => n.to_owned(),
        None => unique_name(get_str(planned, "name_prefix").unwrap_or("terraform-")),
    }
}

/// `name_prefix` not in the configuration keeps what the prior state had
/// (null for a new object), as it only shapes the generated name.
fn keep_name_prefix(prior: Option<&Value>, config: &Value, planned: &mut Value) {
    if attr(config, "name_prefix").is_null() {
        let keep = prior
            .map(|p| attr(p, "name_prefix").clone())
            .unwrap_or(Value::Null);
        set(planned, "name_prefix", keep);
    }
}

/// Checks `name` (and `name_prefix`, which leaves room for the 26
/// character suffix) against IAM's name rules; `name` and `name_prefix`
/// conflict.
fn check_names(config: &Value, what: &str, max: usize, out: &mut Vec<ProviderError>) {
    let ok_chars = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    };
    if let Some(n) = get_str(config, "name")
        && (n.is_empty() || n.len() > max || !ok_chars(n))
    {
        out.push(
            ProviderError::new(format!("invalid {what} name"))
                .with_detail(format!(
                    "{n:?} must be 1 to {max} characters of letters, digits and +=,.@_-"
                ))
                .at(path("name")),
        );
    }
    if let Some(n) = get_str(config, "name_prefix")
        && (n.len() > max - 26 || !ok_chars(n))
    {
        out.push(
            ProviderError::new(format!("invalid {what} name_prefix"))
                .with_detail(format!(
                    "{n:?} must be at most {} characters of letters, digits and +=,.@_-",
                    max - 26
                ))
                .at(path("name_prefix")),
        );
    }
    if !attr(config, "name").is_null() && !attr(config, "name_prefix").is_null() {
        out.push(
            ProviderError::new("conflicting configuration arguments")
                .with_detail("\"name\": conflicts with name_prefix")
                .at(path("name")),
        );
    }
}

/// Checks an IAM path: `/`, or `/` … `/` of printable ASCII, at most 512.
fn check_iam_path(config: &Value, out: &mut Vec<ProviderError>) {
    if let Some(p) = get_str(config, "path")
        && (p.len() > 512
            || !p.starts_with('/')
            || !p.ends_with('/')
            || !p.chars().all(|c| ('!'..='~').contains(&c)))
    {
        out.push(
            ProviderError::new("invalid IAM path")
                .with_detail(format!(
                    "{p:?} must begin and end with / and have at most 512 printable ASCII characters"
                ))
                .at(path("path")),
        );
    }
}

/// The document read from AWS, written as the state had it when it
/// means the same.
fn document_as_state(state: &Value, name: &str, remote: String) -> String {
    match get_str(state, name) {
        Some(p) if json_equivalent(p, &remote) => p.to_owned(),
        _ => remote,
    }
}

// ---- aws_iam_policy

pub(super) struct Policy;

#[async_trait]
impl ResourceType for Policy {
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
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr("policy", Attribute::required(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("policy_id", Attribute::computed(Type::String))
            .attr("attachment_count", Attribute::computed(Type::Number))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("path", Value::string("/"))]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = check_json(config, "policy").into_iter().collect();
        check_names(config, "IAM policy", 128, &mut out);
        check_iam_path(config, &mut out);
        if let Some(d) = get_str(config, "description")
            && d.chars().count() > 1000
        {
            out.push(
                ProviderError::new("invalid value for description")
                    .with_detail("expected length of description to be in the range (0 - 1000)")
                    .at(path("description")),
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
        keep_name_prefix(prior, config, planned);
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = name_to_create(planned);
        let tags = planned_tags(planned);
        let p = iam::create_policy(
            &ctx.client,
            &iam::NewPolicy {
                name: &name,
                path: get_str(planned, "path").unwrap_or("/"),
                document: req_str(planned, "policy")?,
                description: get_str(planned, "description").filter(|d| !d.is_empty()),
                tags: &tags,
            },
        )
        .await
        .map_err(aws_err(format!("creating IAM Policy ({name})")))?;
        let mut v = planned.clone();
        set(&mut v, "id", p.arn.clone());
        set(&mut v, "arn", p.arn);
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let arn = req_str(state, "id")?;
        let err = || format!("reading IAM Policy ({arn})");
        let Some(p) = iam::get_policy(&ctx.client, arn)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        let document = match iam::get_policy_version(&ctx.client, arn, &p.default_version_id).await
        {
            Ok(d) => d,
            Err(e) if e.is(&["NoSuchEntity"]) => return Ok(None),
            Err(e) => return Err(aws_err(err())(e)),
        };
        let tags = iam::list_policy_tags(&ctx.client, arn)
            .await
            .map_err(aws_err(format!("listing tags for IAM Policy ({arn})")))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", p.arn.clone());
        set(&mut v, "arn", p.arn);
        set(&mut v, "name", p.name);
        set(&mut v, "name_prefix", attr(state, "name_prefix").clone());
        set(&mut v, "path", p.path);
        set(
            &mut v,
            "description",
            opt_string(p.description.filter(|d| !d.is_empty())),
        );
        set(&mut v, "policy_id", p.id);
        set(&mut v, "attachment_count", p.attachment_count);
        set(
            &mut v,
            "policy",
            document_as_state(state, "policy", document),
        );
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let arn = req_str(prior, "id")?;
        if !attr(prior, "policy").equals(attr(planned, "policy")) {
            let err = || format!("updating IAM Policy ({arn})");
            // IAM keeps at most five versions: make room by deleting the
            // oldest version that is not the default.
            let mut versions = iam::list_policy_versions(&ctx.client, arn)
                .await
                .map_err(aws_err(err()))?;
            if versions.len() >= MAX_POLICY_VERSIONS {
                versions.retain(|v| !v.is_default);
                versions.sort_by_key(|v| {
                    let n: u64 = v.id.trim_start_matches('v').parse().unwrap_or(u64::MAX);
                    (v.create_date.clone(), n)
                });
                if let Some(oldest) = versions.first() {
                    iam::delete_policy_version(&ctx.client, arn, &oldest.id)
                        .await
                        .map_err(aws_err(err()))?;
                }
            }
            iam::create_policy_version(&ctx.client, arn, req_str(planned, "policy")?)
                .await
                .map_err(aws_err(err()))?;
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            iam::untag_policy(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!("untagging IAM Policy ({arn})")))?;
        }
        if !set_tags.is_empty() {
            iam::tag_policy(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging IAM Policy ({arn})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let arn = req_str(state, "id")?;
        let err = || format!("deleting IAM Policy ({arn})");
        // A policy with versions besides the default cannot be deleted.
        let versions = match iam::list_policy_versions(&ctx.client, arn).await {
            Ok(v) => v,
            Err(e) if e.is(&["NoSuchEntity"]) => return Ok(()),
            Err(e) => return Err(aws_err(err())(e)),
        };
        for v in versions.iter().filter(|v| !v.is_default) {
            match iam::delete_policy_version(&ctx.client, arn, &v.id).await {
                Err(e) if !e.is(&["NoSuchEntity"]) => return Err(aws_err(err())(e)),
                _ => {}
            }
        }
        match iam::delete_policy(&ctx.client, arn).await {
            Err(e) if e.is(&["NoSuchEntity"]) => Ok(()),
            r => r.map_err(aws_err(err())),
        }
    }
}

// ---- aws_iam_role_policy

pub(super) struct RolePolicy;

/// Splits a `ROLE:NAME` id.
fn parse_role_policy_id(id: &str) -> Result<(&str, &str), ProviderError> {
    match id.split_once(':') {
        Some((r, n)) if !r.is_empty() && !n.is_empty() && !n.contains(':') => Ok((r, n)),
        _ => Err(ProviderError::new("unexpected format for ID")
            .with_detail(format!("{id:?}: expected ROLE-NAME:POLICY-NAME"))),
    }
}

#[async_trait]
impl ResourceType for RolePolicy {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("name_prefix", Attribute::optional(Type::String).force_new())
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy", Attribute::required(Type::String))
            .attr("id", Attribute::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = check_json(config, "policy").into_iter().collect();
        check_names(config, "IAM role policy", 128, &mut out);
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
        keep_name_prefix(prior, config, planned);
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let role = req_str(planned, "role")?;
        let name = name_to_create(planned);
        iam::put_role_policy(&ctx.client, role, &name, req_str(planned, "policy")?)
            .await
            .map_err(aws_err(format!(
                "creating IAM Role ({role}) Policy ({name})"
            )))?;
        let mut v = planned.clone();
        set(&mut v, "id", format!("{role}:{name}"));
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let (role, name) = parse_role_policy_id(id)?;
        let Some(doc) = iam::get_role_policy(&ctx.client, role, name)
            .await
            .map_err(aws_err(format!(
                "reading IAM Role ({role}) Policy ({name})"
            )))?
        else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "role", role);
        set(&mut v, "name", name);
        set(&mut v, "name_prefix", attr(state, "name_prefix").clone());
        set(&mut v, "policy", document_as_state(state, "policy", doc));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let (role, name) = parse_role_policy_id(req_str(prior, "id")?)?;
        iam::put_role_policy(&ctx.client, role, name, req_str(planned, "policy")?)
            .await
            .map_err(aws_err(format!(
                "updating IAM Role ({role}) Policy ({name})"
            )))
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let (role, name) = parse_role_policy_id(req_str(state, "id")?)?;
        match iam::delete_role_policy(&ctx.client, role, name).await {
            Err(e) if e.is(&["NoSuchEntity"]) => Ok(()),
            r => r.map_err(aws_err(format!(
                "deleting IAM Role ({role}) Policy ({name})"
            ))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let (role, name) = parse_role_policy_id(id)?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "role", role);
        set(&mut v, "name", name);
        Ok(v)
    }
}

// ---- aws_iam_role_policy_attachment

/// The id is `ROLE-<unique suffix>` after create and `ROLE-POLICYARN`
/// after an import of `ROLE/POLICYARN`, as Terraform makes them; reads go
/// by `role` and `policy_arn`.
pub(super) struct RolePolicyAttachment;

#[async_trait]
impl ResourceType for RolePolicyAttachment {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy_arn", Attribute::required(Type::String).force_new())
            .attr("id", Attribute::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        match get_str(config, "policy_arn") {
            Some(a) if !a.starts_with("arn:") || a.split(':').count() < 6 => {
                vec![
                    ProviderError::new("invalid value for policy_arn")
                        .with_detail(format!("{a:?} is not a valid ARN"))
                        .at(path("policy_arn")),
                ]
            }
            _ => Vec::new(),
        }
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let role = req_str(planned, "role")?;
        let arn = req_str(planned, "policy_arn")?;
        iam::attach_role_policy(&ctx.client, role, arn)
            .await
            .map_err(aws_err(format!(
                "attaching IAM Policy ({arn}) to IAM Role ({role})"
            )))?;
        let mut v = planned.clone();
        set(&mut v, "id", unique_name(&format!("{role}-")));
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let role = req_str(state, "role")?;
        let arn = req_str(state, "policy_arn")?;
        let attached = match iam::list_attached_role_policies(&ctx.client, role).await {
            Ok(a) => a,
            Err(e) if e.is(&["NoSuchEntity"]) => return Ok(None),
            Err(e) => {
                return Err(aws_err(format!(
                    "reading IAM Role Policy Attachment ({role}/{arn})"
                ))(e));
            }
        };
        if !attached.iter().any(|a| a == arn) {
            return Ok(None);
        }
        Ok(Some(state.unmarked().clone()))
    }

    async fn update(&self, _: &Ctx, _: &Value, _: &Value) -> Result<(), ProviderError> {
        // Every argument forces a new attachment.
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let role = req_str(state, "role")?;
        let arn = req_str(state, "policy_arn")?;
        match iam::detach_role_policy(&ctx.client, role, arn).await {
            Err(e) if e.is(&["NoSuchEntity"]) => Ok(()),
            r => r.map_err(aws_err(format!(
                "detaching IAM Policy ({arn}) from IAM Role ({role})"
            ))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let Some((role, arn)) = id
            .split_once('/')
            .filter(|(r, a)| !r.is_empty() && !a.is_empty())
        else {
            return Err(ProviderError::new("unexpected format for ID")
                .with_detail(format!("{id:?}: expected <role-name>/<policy_arn>")));
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", format!("{role}-{arn}"));
        set(&mut v, "role", role);
        set(&mut v, "policy_arn", arn);
        Ok(v)
    }
}

// ---- aws_iam_instance_profile

pub(super) struct InstanceProfile;

#[async_trait]
impl ResourceType for InstanceProfile {
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
            .attr("role", Attribute::optional(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("unique_id", Attribute::computed(Type::String))
            .attr("create_date", Attribute::computed(Type::String))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("path", Value::string("/"))]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        check_names(config, "IAM instance profile", 128, &mut out);
        check_iam_path(config, &mut out);
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        keep_name_prefix(prior, config, planned);
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = name_to_create(planned);
        let err = || format!("creating IAM Instance Profile ({name})");
        iam::create_instance_profile(
            &ctx.client,
            &name,
            get_str(planned, "path").unwrap_or("/"),
            &planned_tags(planned),
        )
        .await
        .map_err(aws_err(err()))?;
        if let Some(role) = get_str(planned, "role") {
            iam::add_role_to_instance_profile(&ctx.client, role, &name)
                .await
                .map_err(aws_err(err()))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", name.clone());
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let Some(p) = iam::get_instance_profile(&ctx.client, name)
            .await
            .map_err(aws_err(format!("reading IAM Instance Profile ({name})")))?
        else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", p.name.clone());
        set(&mut v, "name", p.name);
        set(&mut v, "name_prefix", attr(state, "name_prefix").clone());
        set(&mut v, "path", p.path);
        set(&mut v, "arn", p.arn);
        set(&mut v, "unique_id", p.id);
        set(&mut v, "create_date", p.create_date);
        set(&mut v, "role", opt_string(p.roles.into_iter().next()));
        set(&mut v, "tags_all", string_map(&p.tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let err = || format!("updating IAM Instance Profile ({name})");
        let (old, new) = (get_str(prior, "role"), get_str(planned, "role"));
        if old != new {
            if let Some(r) = old {
                match iam::remove_role_from_instance_profile(&ctx.client, r, name).await {
                    Err(e) if !e.is(&["NoSuchEntity"]) => return Err(aws_err(err())(e)),
                    _ => {}
                }
            }
            if let Some(r) = new {
                iam::add_role_to_instance_profile(&ctx.client, r, name)
                    .await
                    .map_err(aws_err(err()))?;
            }
        }
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            iam::untag_instance_profile(&ctx.client, name, &removed)
                .await
                .map_err(aws_err(format!("untagging IAM Instance Profile ({name})")))?;
        }
        if !set_tags.is_empty() {
            iam::tag_instance_profile(&ctx.client, name, &set_tags)
                .await
                .map_err(aws_err(format!("tagging IAM Instance Profile ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        let err = || format!("deleting IAM Instance Profile ({name})");
        // A profile with a role cannot be deleted: take the role out first.
        let roles = match iam::get_instance_profile(&ctx.client, name).await {
            Ok(Some(p)) => p.roles,
            Ok(None) => return Ok(()),
            Err(e) => return Err(aws_err(err())(e)),
        };
        for r in roles {
            match iam::remove_role_from_instance_profile(&ctx.client, &r, name).await {
                Err(e) if !e.is(&["NoSuchEntity"]) => return Err(aws_err(err())(e)),
                _ => {}
            }
        }
        match iam::delete_instance_profile(&ctx.client, name).await {
            Err(e) if e.is(&["NoSuchEntity"]) => Ok(()),
            r => r.map_err(aws_err(err())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_policy_ids() {
        assert_eq!(parse_role_policy_id("r:p").unwrap(), ("r", "p"));
        assert!(parse_role_policy_id("r").is_err());
        assert!(parse_role_policy_id(":p").is_err());
        assert!(parse_role_policy_id("r:").is_err());
    }

    #[test]
    fn attachment_import_ids() {
        let v = RolePolicyAttachment
            .import("r1/arn:aws:iam::aws:policy/ReadOnlyAccess")
            .unwrap();
        assert_eq!(get_str(&v, "role"), Some("r1"));
        assert_eq!(
            get_str(&v, "policy_arn"),
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
        assert!(RolePolicyAttachment.import("no-slash").is_err());
    }
}
