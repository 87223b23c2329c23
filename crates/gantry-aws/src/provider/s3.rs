//! aws_s3_bucket, aws_s3_bucket_versioning,
//! aws_s3_bucket_public_access_block,
//! aws_s3_bucket_server_side_encryption_configuration and
//! aws_s3_bucket_policy.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{
    attr, blocks, get_bool, get_str, null_object, object, opt_string, req_str, set, unique_name,
};
use super::{Ctx, ResourceType, aws_err, block, path, planned_tags, tag_changes};
use crate::service::s3;

/// Bucket name rules S3 enforces, checked at plan time as Terraform does.
pub(super) fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "{name:?} must contain 3 to 63 characters, not {}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "only lowercase alphanumeric characters, dots and hyphens are allowed in {name:?}, not {c:?}"
        ));
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return Err(format!(
            "{name:?} must begin and end with a letter or number"
        ));
    }
    if name.contains("..") {
        return Err(format!("{name:?} must not contain two adjacent periods"));
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err(format!("{name:?} must not be formatted as an IP address"));
    }
    Ok(())
}

/// S3's Route 53 hosted zone id per region (for `hosted_zone_id`).
fn hosted_zone_id(region: &str) -> &'static str {
    match region {
        "us-east-1" => "Z3AQBSTGFYJSTF",
        "us-east-2" => "Z2O1EMRO9K5GLX",
        "us-west-1" => "Z2F56UZL2M1ACD",
        "us-west-2" => "Z3BJ6K6RIION7M",
        "ca-central-1" => "Z1QDHH18159H29",
        "eu-west-1" => "Z1BKCTXD74EZPE",
        "eu-west-2" => "Z3GKZC51ZF0DB4",
        "eu-west-3" => "Z3R1K369G5AVDG",
        "eu-central-1" => "Z21DNDUVLTQW6Q",
        "eu-north-1" => "Z3BAZG2TWCNX0D",
        "ap-northeast-1" => "Z2M4EHUR26P7ZW",
        "ap-northeast-2" => "Z3W03O7B5YMIYP",
        "ap-southeast-1" => "Z3O0J2DXBE1FTB",
        "ap-southeast-2" => "Z1WCIGYICN2BYD",
        "ap-south-1" => "Z11RGJOFQNVJUP",
        "sa-east-1" => "Z7KQH4QJS55SO",
        _ => "",
    }
}

/// Reads "does this bucket exist" as `None` for a missing bucket.
fn missing_bucket(e: &crate::Error) -> bool {
    e.is(&["NoSuchBucket", "NotFound"])
}

pub(super) fn resources() -> super::Resources {
    vec![
        ("aws_s3_bucket", Box::new(Bucket)),
        ("aws_s3_bucket_versioning", Box::new(Versioning)),
        (
            "aws_s3_bucket_public_access_block",
            Box::new(PublicAccessBlock),
        ),
        (
            "aws_s3_bucket_server_side_encryption_configuration",
            Box::new(Encryption),
        ),
        ("aws_s3_bucket_policy", Box::new(BucketPolicy)),
    ]
}

pub(super) struct Bucket;

#[async_trait]
impl ResourceType for Bucket {
    fn schema(&self) -> Schema {
        let computed = || Attribute::computed(Type::String);
        Schema::new()
            .attr(
                "bucket",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "bucket_prefix",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("force_destroy", Attribute::optional_computed(Type::Bool))
            .attr(
                "object_lock_enabled",
                Attribute::optional_computed(Type::Bool).force_new(),
            )
            .attr("id", computed())
            .attr("arn", computed())
            .attr("bucket_domain_name", computed())
            .attr("bucket_regional_domain_name", computed())
            .attr("hosted_zone_id", computed())
            .attr("region", computed())
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("force_destroy", Value::Bool(false))]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if let Some(name) = get_str(config, "bucket")
            && let Err(m) = check_bucket_name(name)
        {
            out.push(
                ProviderError::new("invalid bucket name")
                    .with_detail(m)
                    .at(path("bucket")),
            );
        }
        if !attr(config, "bucket").is_null() && !attr(config, "bucket_prefix").is_null() {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail("\"bucket\": conflicts with bucket_prefix")
                    .at(path("bucket")),
            );
        }
        if let Some(p) = get_str(config, "bucket_prefix")
            && p.len() > 37
        {
            out.push(
                ProviderError::new("invalid bucket prefix")
                    .with_detail(format!("{p:?} must be at most 37 characters"))
                    .at(path("bucket_prefix")),
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
        if attr(config, "object_lock_enabled").is_null() {
            // Not set: false for a new bucket, whatever it is for an old one.
            let keep = prior
                .map(|p| attr(p, "object_lock_enabled").clone())
                .filter(|v| !v.is_null() && attr(planned, "object_lock_enabled").is_known());
            set(
                planned,
                "object_lock_enabled",
                keep.unwrap_or(Value::Bool(false)),
            );
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = match get_str(planned, "bucket") {
            Some(n) => n.to_owned(),
            None => unique_name(get_str(planned, "bucket_prefix").unwrap_or("terraform-")),
        };
        let lock = get_bool(planned, "object_lock_enabled").unwrap_or(false);
        s3::create_bucket(&ctx.client, &name, lock)
            .await
            .map_err(aws_err(format!("creating S3 Bucket ({name})")))?;
        let tags = planned_tags(planned);
        if !tags.is_empty() {
            s3::put_bucket_tagging(&ctx.client, &name, &tags)
                .await
                .map_err(aws_err(format!("setting S3 Bucket ({name}) tags")))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", name.clone());
        set(&mut v, "bucket", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?.to_owned();
        let err = || format!("reading S3 Bucket ({name})");
        if !s3::head_bucket(&ctx.client, &name)
            .await
            .map_err(aws_err(err()))?
        {
            return Ok(None);
        }
        let region = match s3::get_bucket_location(&ctx.client, &name).await {
            Ok(r) => r,
            Err(e) if missing_bucket(&e) => return Ok(None),
            Err(e) => return Err(aws_err(err())(e)),
        };
        let tags = s3::get_bucket_tagging(&ctx.client, &name)
            .await
            .map_err(aws_err(format!("listing tags for S3 Bucket ({name})")))?;
        let mut v = null_object(&self.schema());
        if let Value::Object(m) = state.unmarked() {
            for k in ["bucket_prefix", "force_destroy", "object_lock_enabled"] {
                if let Some(x) = m.get(k) {
                    set(&mut v, k, x.clone());
                }
            }
        }
        if attr(&v, "object_lock_enabled").is_null() {
            set(&mut v, "object_lock_enabled", false);
        }
        if attr(&v, "force_destroy").is_null() {
            set(&mut v, "force_destroy", false);
        }
        set(&mut v, "id", name.clone());
        set(&mut v, "bucket", name.clone());
        set(
            &mut v,
            "arn",
            format!("arn:{}:s3:::{name}", ctx.partition()),
        );
        set(
            &mut v,
            "bucket_domain_name",
            format!("{name}.s3.{}", ctx.dns_suffix()),
        );
        set(
            &mut v,
            "bucket_regional_domain_name",
            format!("{name}.s3.{region}.{}", ctx.dns_suffix()),
        );
        set(&mut v, "hosted_zone_id", hosted_zone_id(&region));
        set(&mut v, "region", region);
        set(&mut v, "tags_all", super::values::string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let (changed, removed) = tag_changes(prior, planned);
        if !changed.is_empty() || !removed.is_empty() {
            s3::put_bucket_tagging(&ctx.client, name, &planned_tags(planned))
                .await
                .map_err(aws_err(format!("updating S3 Bucket ({name}) tags")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        if get_bool(state, "force_destroy") == Some(true) {
            s3::empty_bucket(&ctx.client, name)
                .await
                .map_err(aws_err(format!("emptying S3 Bucket ({name})")))?;
        }
        match s3::delete_bucket(&ctx.client, name).await {
            Err(e) if missing_bucket(&e) => Ok(()),
            r => r.map_err(aws_err(format!("deleting S3 Bucket ({name})"))),
        }
    }
}

/// The id of the bucket-configuration resources: `bucket` or
/// `bucket,expected_bucket_owner`.
fn config_id(v: &Value) -> Result<String, ProviderError> {
    let bucket = req_str(v, "bucket")?;
    Ok(match get_str(v, "expected_bucket_owner") {
        Some(o) if !o.is_empty() => format!("{bucket},{o}"),
        _ => bucket.to_owned(),
    })
}

/// Splits an id made by [`config_id`].
fn parse_config_id(id: &str) -> Result<(String, Option<String>), ProviderError> {
    let mut parts = id.split(',');
    let bucket = parts.next().unwrap_or_default();
    let owner = parts.next();
    if bucket.is_empty() || parts.next().is_some() || owner.is_some_and(str::is_empty) {
        return Err(
            ProviderError::new("unexpected format for ID").with_detail(format!(
                "{id:?}: expected BUCKET or BUCKET,EXPECTED_BUCKET_OWNER"
            )),
        );
    }
    Ok((bucket.to_owned(), owner.map(str::to_owned)))
}

fn import_config(schema: &Schema, id: &str) -> Result<Value, ProviderError> {
    let (bucket, owner) = parse_config_id(id)?;
    let mut v = null_object(schema);
    set(&mut v, "id", id);
    set(&mut v, "bucket", bucket);
    set(&mut v, "expected_bucket_owner", opt_string(owner));
    Ok(v)
}

fn bucket_arg() -> Attribute {
    Attribute::required(Type::String).force_new()
}

fn owner_arg() -> Attribute {
    Attribute::optional(Type::String).force_new()
}

/// Starts a read: the state's bucket and the result value with the
/// identity attributes copied.
fn read_base(schema: &Schema, state: &Value) -> Result<(String, Value), ProviderError> {
    let bucket = req_str(state, "bucket")?.to_owned();
    let mut v = null_object(schema);
    for k in ["id", "bucket", "expected_bucket_owner"] {
        set(&mut v, k, attr(state, k).clone());
    }
    Ok((bucket, v))
}

pub(super) struct Versioning;

#[async_trait]
impl ResourceType for Versioning {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("bucket", bucket_arg())
            .attr("expected_bucket_owner", owner_arg())
            .attr("mfa", Attribute::optional(Type::String))
            .block(
                "versioning_configuration",
                block(
                    Nesting::List,
                    Schema::new()
                        .attr("status", Attribute::required(Type::String))
                        .attr("mfa_delete", Attribute::optional_computed(Type::String)),
                    1,
                    Some(1),
                ),
            )
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        for vc in blocks(config, "versioning_configuration") {
            if let Some(s) = get_str(vc, "status")
                && !["Enabled", "Suspended", "Disabled"].contains(&s)
            {
                out.push(
                    ProviderError::new("invalid value for status").with_detail(format!(
                        "expected versioning_configuration.0.status to be one of [\"Enabled\" \"Suspended\" \"Disabled\"], got {s}"
                    )),
                );
            }
            if let Some(s) = get_str(vc, "mfa_delete")
                && !["Enabled", "Disabled"].contains(&s)
            {
                out.push(
                    ProviderError::new("invalid value for mfa_delete").with_detail(format!(
                        "expected versioning_configuration.0.mfa_delete to be one of [\"Enabled\" \"Disabled\"], got {s}"
                    )),
                );
            }
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
        if let Some(b) = get_str(planned, "bucket") {
            let owner = get_str(planned, "expected_bucket_owner").filter(|o| !o.is_empty());
            let id = match owner {
                Some(o) => format!("{b},{o}"),
                None => b.to_owned(),
            };
            set(planned, "id", id);
        }
        // mfa_delete left unset keeps whatever S3 reports.
        let prior_mfa = prior
            .and_then(|p| blocks(p, "versioning_configuration").first().copied())
            .map(|b| attr(b, "mfa_delete").clone())
            .unwrap_or(Value::Null);
        let cfg = blocks(config, "versioning_configuration");
        if let (Some(c), Value::Object(m)) = (cfg.first(), planned)
            && attr(c, "mfa_delete").is_null()
        {
            let mut b = (*c).clone();
            set(&mut b, "mfa_delete", prior_mfa);
            m.insert("versioning_configuration".into(), Value::List(vec![b]));
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let id = config_id(planned)?;
        self.put(ctx, None, planned).await?;
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (bucket, mut v) = read_base(&self.schema(), state)?;
        let (status, mfa) = match s3::get_bucket_versioning(&ctx.client, &bucket).await {
            Ok(x) => x,
            Err(e) if missing_bucket(&e) => return Ok(None),
            Err(e) => {
                return Err(aws_err(format!("reading S3 Bucket Versioning ({bucket})"))(
                    e,
                ));
            }
        };
        let prior = blocks(state, "versioning_configuration");
        let prior_status = prior.first().and_then(|b| get_str(b, "status"));
        let status = match status {
            Some(s) => s,
            // Never versioned: "Disabled" is what the configuration says.
            None if prior_status == Some("Disabled") => "Disabled".to_owned(),
            None if prior.is_empty() => return Ok(None),
            None => "Disabled".to_owned(),
        };
        set(
            &mut v,
            "versioning_configuration",
            Value::List(vec![object([
                ("status", Value::string(status)),
                ("mfa_delete", opt_string(mfa)),
            ])]),
        );
        set(&mut v, "mfa", attr(state, "mfa").clone());
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        self.put(ctx, Some(prior), planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let bucket = req_str(state, "bucket")?;
        let status = blocks(state, "versioning_configuration")
            .first()
            .and_then(|b| get_str(b, "status"));
        if status == Some("Disabled") {
            return Ok(());
        }
        // A bucket cannot go back to unversioned: suspend, as Terraform does.
        match s3::put_bucket_versioning(&ctx.client, bucket, "Suspended", None, None).await {
            Err(e) if missing_bucket(&e) => Ok(()),
            r => r.map_err(aws_err(format!("deleting S3 Bucket Versioning ({bucket})"))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        import_config(&self.schema(), id)
    }
}

impl Versioning {
    async fn put(
        &self,
        ctx: &Ctx,
        prior: Option<&Value>,
        planned: &Value,
    ) -> Result<(), ProviderError> {
        let bucket = req_str(planned, "bucket")?;
        let Some(vc) = blocks(planned, "versioning_configuration").first().copied() else {
            return Err(ProviderError::new("missing required block")
                .with_detail("a versioning_configuration block is required"));
        };
        let status = req_str(vc, "status")?;
        if status == "Disabled" {
            if prior.is_none() {
                // Creating with "Disabled" only records the bucket as unversioned.
                return Ok(());
            }
            return Err(ProviderError::new("invalid versioning status").with_detail(format!(
                "versioning on S3 Bucket ({bucket}) cannot be changed to Disabled once enabled or suspended; use Suspended"
            )));
        }
        s3::put_bucket_versioning(
            &ctx.client,
            bucket,
            status,
            get_str(vc, "mfa_delete"),
            get_str(planned, "mfa"),
        )
        .await
        .map_err(aws_err(format!("putting S3 Bucket Versioning ({bucket})")))
    }
}

pub(super) struct PublicAccessBlock;

const PAB: [&str; 4] = [
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
];

#[async_trait]
impl ResourceType for PublicAccessBlock {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("bucket", bucket_arg())
            .attr("skip_destroy", Attribute::optional(Type::Bool));
        for f in PAB {
            s = s.attr(f, Attribute::optional_computed(Type::Bool));
        }
        s
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        PAB.iter().map(|f| (*f, Value::Bool(false))).collect()
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        _prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        let b = attr(planned, "bucket").clone();
        set(planned, "id", b);
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        self.update(ctx, planned, planned).await?;
        let mut v = planned.clone();
        set(&mut v, "id", req_str(planned, "bucket")?);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let bucket = get_str(state, "bucket")
            .or_else(|| get_str(state, "id"))
            .unwrap_or_default()
            .to_owned();
        let flags = match s3::get_public_access_block(&ctx.client, &bucket).await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) if missing_bucket(&e) => return Ok(None),
            Err(e) => {
                return Err(aws_err(format!(
                    "reading S3 Bucket Public Access Block ({bucket})"
                ))(e));
            }
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", bucket.clone());
        set(&mut v, "bucket", bucket);
        set(&mut v, "skip_destroy", attr(state, "skip_destroy").clone());
        for (f, on) in PAB.iter().zip(flags) {
            set(&mut v, f, on);
        }
        Ok(Some(v))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
    ) -> Result<(), ProviderError> {
        let bucket = req_str(planned, "bucket")?;
        let flags = PAB.map(|f| get_bool(planned, f).unwrap_or(false));
        s3::put_public_access_block(&ctx.client, bucket, flags)
            .await
            .map_err(aws_err(format!(
                "putting S3 Bucket Public Access Block ({bucket})"
            )))
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let bucket = req_str(state, "bucket")?;
        if get_bool(state, "skip_destroy") == Some(true) {
            return Ok(());
        }
        match s3::delete_public_access_block(&ctx.client, bucket).await {
            Err(e) if missing_bucket(&e) || e.is(&["NoSuchPublicAccessBlockConfiguration"]) => {
                Ok(())
            }
            r => r.map_err(aws_err(format!(
                "deleting S3 Bucket Public Access Block ({bucket})"
            ))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "bucket", id);
        Ok(v)
    }
}

pub(super) struct Encryption;

fn sse_default_schema() -> Schema {
    Schema::new()
        .attr("sse_algorithm", Attribute::required(Type::String))
        .attr("kms_master_key_id", Attribute::optional(Type::String))
}

#[async_trait]
impl ResourceType for Encryption {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("bucket", bucket_arg())
            .attr("expected_bucket_owner", owner_arg())
            .block(
                "rule",
                block(
                    Nesting::Set,
                    Schema::new()
                        .attr("bucket_key_enabled", Attribute::optional(Type::Bool))
                        .block(
                            "apply_server_side_encryption_by_default",
                            block(Nesting::List, sse_default_schema(), 0, Some(1)),
                        ),
                    1,
                    None,
                ),
            )
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        for rule in blocks(config, "rule") {
            for d in blocks(rule, "apply_server_side_encryption_by_default") {
                if let Some(a) = get_str(d, "sse_algorithm")
                    && !["AES256", "aws:kms", "aws:kms:dsse"].contains(&a)
                {
                    out.push(ProviderError::new("invalid value for sse_algorithm").with_detail(
                        format!("expected sse_algorithm to be one of [\"AES256\" \"aws:kms\" \"aws:kms:dsse\"], got {a}"),
                    ));
                }
            }
        }
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        _prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        if attr(planned, "bucket").is_known() && !attr(planned, "bucket").is_null() {
            let id = config_id(planned)?;
            set(planned, "id", id);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        self.update(ctx, planned, planned).await?;
        let mut v = planned.clone();
        set(&mut v, "id", config_id(planned)?);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (bucket, mut v) = read_base(&self.schema(), state)?;
        let rules = match s3::get_bucket_encryption(&ctx.client, &bucket).await {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err(e) if missing_bucket(&e) => return Ok(None),
            Err(e) => {
                return Err(aws_err(format!(
                    "reading S3 Bucket Server-side Encryption Configuration ({bucket})"
                ))(e));
            }
        };
        // bucket_key_enabled = false reads back as unset unless the
        // configuration said false (S3 reports false for "not set").
        let said_false = blocks(state, "rule")
            .iter()
            .any(|r| get_bool(r, "bucket_key_enabled") == Some(false));
        let items = rules
            .into_iter()
            .map(|r| {
                let defaults = match r.sse_algorithm {
                    Some(a) => vec![object([
                        ("sse_algorithm", Value::string(a)),
                        ("kms_master_key_id", opt_string(r.kms_master_key_id)),
                    ])],
                    None => Vec::new(),
                };
                let bke = match r.bucket_key_enabled {
                    Some(true) => Value::Bool(true),
                    _ if said_false => Value::Bool(false),
                    _ => Value::Null,
                };
                object([
                    ("bucket_key_enabled", bke),
                    (
                        "apply_server_side_encryption_by_default",
                        Value::List(defaults),
                    ),
                ])
            })
            .collect();
        set(&mut v, "rule", Value::set_from(items));
        Ok(Some(v))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
    ) -> Result<(), ProviderError> {
        let bucket = req_str(planned, "bucket")?;
        let rules: Vec<s3::SseRule> = blocks(planned, "rule")
            .into_iter()
            .map(|r| {
                let d = blocks(r, "apply_server_side_encryption_by_default");
                s3::SseRule {
                    sse_algorithm: d
                        .first()
                        .and_then(|d| get_str(d, "sse_algorithm"))
                        .map(str::to_owned),
                    kms_master_key_id: d
                        .first()
                        .and_then(|d| get_str(d, "kms_master_key_id"))
                        .map(str::to_owned),
                    bucket_key_enabled: get_bool(r, "bucket_key_enabled"),
                }
            })
            .collect();
        s3::put_bucket_encryption(&ctx.client, bucket, &rules)
            .await
            .map_err(aws_err(format!(
                "putting S3 Bucket Server-side Encryption Configuration ({bucket})"
            )))
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let bucket = req_str(state, "bucket")?;
        match s3::delete_bucket_encryption(&ctx.client, bucket).await {
            Err(e) if missing_bucket(&e) => Ok(()),
            r => r.map_err(aws_err(format!(
                "deleting S3 Bucket Server-side Encryption Configuration ({bucket})"
            ))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        import_config(&self.schema(), id)
    }
}

// ---- aws_s3_bucket_policy

/// aws_s3_bucket_policy: the bucket's policy document; id = bucket name.
pub(super) struct BucketPolicy;

#[async_trait]
impl ResourceType for BucketPolicy {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("bucket", bucket_arg())
            .attr("policy", Attribute::required(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        super::iam::check_json(config, "policy")
            .into_iter()
            .collect()
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        super::iam::keep_equivalent_json(prior, planned, "policy");
        if let Some(b) = get_str(planned, "bucket") {
            let b = b.to_owned();
            set(planned, "id", b);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let bucket = req_str(planned, "bucket")?;
        self.put(ctx, planned).await?;
        let mut v = planned.clone();
        set(&mut v, "id", bucket);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let bucket = req_str(state, "id")?;
        let remote = match s3::get_bucket_policy(&ctx.client, bucket).await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) if missing_bucket(&e) => return Ok(None),
            Err(e) => return Err(aws_err(format!("reading S3 Bucket Policy ({bucket})"))(e)),
        };
        let policy = match get_str(state, "policy") {
            Some(p) if super::values::json_equivalent(p, &remote) => p.to_owned(),
            _ => remote,
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", bucket);
        set(&mut v, "bucket", bucket);
        set(&mut v, "policy", policy);
        Ok(Some(v))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
    ) -> Result<(), ProviderError> {
        self.put(ctx, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let bucket = req_str(state, "id")?;
        match s3::delete_bucket_policy(&ctx.client, bucket).await {
            Err(e) if missing_bucket(&e) || e.is(&["NoSuchBucketPolicy"]) => Ok(()),
            r => r.map_err(aws_err(format!("deleting S3 Bucket Policy ({bucket})"))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "bucket", id);
        Ok(v)
    }
}

impl BucketPolicy {
    /// PutBucketPolicy, retried briefly while a just-created principal is
    /// not yet known to S3 (`MalformedPolicy: Invalid principal`).
    async fn put(&self, ctx: &Ctx, planned: &Value) -> Result<(), ProviderError> {
        let bucket = req_str(planned, "bucket")?;
        let policy = req_str(planned, "policy")?;
        let mut delay = std::time::Duration::from_millis(500);
        let mut tries = 0;
        loop {
            match s3::put_bucket_policy(&ctx.client, bucket, policy).await {
                Err(e)
                    if tries < 5
                        && e.is(&["MalformedPolicy"])
                        && e.to_string().contains("Invalid principal") =>
                {
                    tries += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                r => {
                    return r.map_err(aws_err(format!("putting S3 Bucket Policy ({bucket})")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        assert!(check_bucket_name("my-bucket.logs").is_ok());
        assert!(check_bucket_name("ab").is_err());
        assert!(check_bucket_name("My-Bucket").is_err());
        assert!(check_bucket_name("-abc").is_err());
        assert!(check_bucket_name("a..b").is_err());
        assert!(check_bucket_name("192.168.1.1").is_err());
        assert!(check_bucket_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn config_ids() {
        assert_eq!(parse_config_id("b").unwrap(), ("b".into(), None));
        assert_eq!(
            parse_config_id("b,123").unwrap(),
            ("b".into(), Some("123".into()))
        );
        assert!(parse_config_id("b,").is_err());
        assert!(parse_config_id("a,b,c").is_err());
    }
}
