//! aws_lambda_function.
//!
//! Code comes from `filename` (a local .zip, read at apply) or from
//! `s3_bucket`/`s3_key`; a change to either, or to `source_code_hash`,
//! is an UpdateFunctionCode. Environment variables are never logged nor
//! put in error messages.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{
    attr, blocks, get_bool, get_int, get_str, get_string_map, get_strings, null_object, object,
    opt_string, req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, block, path, planned_tags, tag_changes};
use crate::service::lambda::{self, Code, FunctionSettings};

pub(super) fn resources() -> super::Resources {
    vec![("aws_lambda_function", Box::new(Function))]
}

pub(super) struct Function;

/// Runtime identifiers Lambda accepts (current and deprecated ones,
/// which existing functions may still use).
const RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// Arguments whose change is an UpdateFunctionCode.
const CODE_ARGS: [&str; 6] = [
    "filename",
    "s3_bucket",
    "s3_key",
    "s3_object_version",
    "source_code_hash",
    "architectures",
];

/// Arguments whose change is an UpdateFunctionConfiguration.
const CONFIG_ARGS: [&str; 8] = [
    "role",
    "handler",
    "runtime",
    "description",
    "timeout",
    "memory_size",
    "environment",
    "layers",
];

fn changed(prior: &Value, planned: &Value, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| !attr(prior, n).equals(attr(planned, n)))
}

fn invoke_arn(ctx: &Ctx, function_arn: &str) -> String {
    format!(
        "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        ctx.partition(),
        ctx.region
    )
}

fn range_error(name: &str, lo: i64, hi: i64, got: i64) -> ProviderError {
    ProviderError::new(format!("invalid value for {name}"))
        .with_detail(format!(
            "expected {name} to be in the range ({lo} - {hi}), got {got}"
        ))
        .at(path(name))
}

/// The environment variables a value asks for (empty when none).
fn environment(v: &Value) -> Result<BTreeMap<String, String>, ProviderError> {
    match blocks(v, "environment").first() {
        Some(e) => get_string_map(e, "variables"),
        None => Ok(BTreeMap::new()),
    }
}

/// The configuration settings of a planned value; `full` also sends the
/// settings that are empty (to clear them on update).
fn settings(planned: &Value, full: bool) -> Result<FunctionSettings, ProviderError> {
    let env = environment(planned)?;
    let layers = get_strings(planned, "layers");
    let description = get_str(planned, "description").unwrap_or_default();
    Ok(FunctionSettings {
        role: Some(req_str(planned, "role")?.to_owned()),
        handler: get_str(planned, "handler").map(str::to_owned),
        runtime: get_str(planned, "runtime").map(str::to_owned),
        description: (full || !description.is_empty()).then(|| description.to_owned()),
        timeout: get_int(planned, "timeout"),
        memory_size: get_int(planned, "memory_size"),
        environment: (full || !env.is_empty()).then_some(env),
        layers: (full || !layers.is_empty()).then_some(layers),
    })
}

/// The deployment package a planned value names.
fn code(planned: &Value) -> Result<Code, ProviderError> {
    if let Some(f) = get_str(planned, "filename") {
        let bytes = std::fs::read(f).map_err(|e| {
            ProviderError::new("cannot read the deployment package")
                .with_detail(format!("filename {f:?}: {e}"))
                .at(path("filename"))
        })?;
        return Ok(Code::Zip(bytes));
    }
    match (get_str(planned, "s3_bucket"), get_str(planned, "s3_key")) {
        (Some(bucket), Some(key)) => Ok(Code::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: get_str(planned, "s3_object_version").map(str::to_owned),
        }),
        _ => Err(ProviderError::new("missing deployment package")
            .with_detail("one of filename, or s3_bucket and s3_key, must be specified")),
    }
}

/// Waits until the function is Active and its last update is done.
async fn wait_ready(ctx: &Ctx, name: &str, what: &str) -> Result<(), ProviderError> {
    let mut delay = Duration::from_millis(250);
    for _ in 0..120 {
        let f = lambda::get_function_configuration(&ctx.client, name)
            .await
            .map_err(aws_err(format!(
                "waiting for Lambda Function ({name}) {what}"
            )))?;
        if f.state == "Failed" {
            return Err(
                ProviderError::new(format!("waiting for Lambda Function ({name}) {what}"))
                    .with_detail(format!("state Failed: {}", f.state_reason)),
            );
        }
        if f.last_update_status == "Failed" {
            return Err(
                ProviderError::new(format!("waiting for Lambda Function ({name}) {what}"))
                    .with_detail(format!(
                        "last update Failed: {}",
                        f.last_update_status_reason
                    )),
            );
        }
        if f.state != "Pending" && f.last_update_status != "InProgress" {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    Err(
        ProviderError::new(format!("waiting for Lambda Function ({name}) {what}"))
            .with_detail("timeout while waiting for the function to become ready"),
    )
}

/// IAM is eventually consistent: a role created a moment ago may not yet
/// be assumable by Lambda.
fn role_not_ready(e: &crate::Error) -> bool {
    e.is(&["InvalidParameterValueException"])
        && e.to_string().contains("cannot be assumed by Lambda")
}

#[async_trait]
impl ResourceType for Function {
    fn schema(&self) -> Schema {
        let s = || Attribute::optional(Type::String);
        let computed = || Attribute::computed(Type::String);
        Schema::new()
            .attr(
                "function_name",
                Attribute::required(Type::String).force_new(),
            )
            .attr("role", Attribute::required(Type::String))
            .attr("handler", s())
            .attr("runtime", s())
            .attr("description", s())
            .attr("filename", s())
            .attr("s3_bucket", s())
            .attr("s3_key", s())
            .attr("s3_object_version", s())
            .attr(
                "source_code_hash",
                Attribute::optional_computed(Type::String),
            )
            .attr("memory_size", Attribute::optional_computed(Type::Number))
            .attr("timeout", Attribute::optional_computed(Type::Number))
            .attr("publish", Attribute::optional_computed(Type::Bool))
            .attr(
                "architectures",
                Attribute::optional_computed(Type::list(Type::String)),
            )
            .attr("layers", Attribute::optional(Type::list(Type::String)))
            .attr(
                "package_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("id", computed())
            .attr("arn", computed())
            .attr("invoke_arn", computed())
            .attr("qualified_arn", computed())
            .attr("qualified_invoke_arn", computed())
            .attr("version", computed())
            .attr("last_modified", computed())
            .attr("code_sha256", computed())
            .attr("source_code_size", Attribute::computed(Type::Number))
            .block(
                "environment",
                block(
                    Nesting::List,
                    Schema::new().attr("variables", Attribute::optional(Type::map(Type::String))),
                    0,
                    Some(1),
                ),
            )
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("memory_size", Value::Number(128.0)),
            ("timeout", Value::Number(3.0)),
            ("publish", Value::Bool(false)),
            ("package_type", Value::string("Zip")),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if let Some(n) = get_str(config, "function_name")
            && (n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            out.push(
                ProviderError::new("invalid function name")
                    .with_detail(format!(
                        "{n:?} must be 1 to 64 characters of letters, digits, hyphens and underscores"
                    ))
                    .at(path("function_name")),
            );
        }
        if let Some(m) = get_int(config, "memory_size")
            && !(128..=10240).contains(&m)
        {
            out.push(range_error("memory_size", 128, 10240, m));
        }
        if let Some(t) = get_int(config, "timeout")
            && !(1..=900).contains(&t)
        {
            out.push(range_error("timeout", 1, 900, t));
        }
        if let Some(r) = get_str(config, "runtime")
            && !RUNTIMES.contains(&r)
        {
            out.push(
                ProviderError::new("invalid value for runtime")
                    .with_detail(format!("{r:?} is not a Lambda runtime"))
                    .at(path("runtime")),
            );
        }
        if let Some(p) = get_str(config, "package_type")
            && !["Zip", "Image"].contains(&p)
        {
            out.push(
                ProviderError::new("invalid value for package_type")
                    .with_detail(format!(
                        "expected package_type to be one of [\"Zip\" \"Image\"], got {p}"
                    ))
                    .at(path("package_type")),
            );
        }
        if get_str(config, "package_type") == Some("Image") {
            out.push(
                ProviderError::new("unsupported argument value")
                    .with_detail(
                        "package_type \"Image\" (image_uri) is not supported; use a .zip package",
                    )
                    .at(path("package_type")),
            );
        }
        let arch = attr(config, "architectures");
        if let Some(xs) = arch.as_seq() {
            if xs.len() > 1 {
                out.push(
                    ProviderError::new("too many list items")
                        .with_detail("architectures: at most 1 item is allowed")
                        .at(path("architectures")),
                );
            }
            for a in get_strings(config, "architectures") {
                if a != "x86_64" && a != "arm64" {
                    out.push(
                        ProviderError::new("invalid value for architectures")
                            .with_detail(format!(
                                "expected architectures to be one of [\"x86_64\" \"arm64\"], got {a}"
                            ))
                            .at(path("architectures")),
                    );
                }
            }
        }
        if attr(config, "layers").as_seq().is_some_and(|l| l.len() > 5) {
            out.push(
                ProviderError::new("too many list items")
                    .with_detail("layers: at most 5 items are allowed")
                    .at(path("layers")),
            );
        }
        let has = |n: &str| !attr(config, n).is_null();
        if has("filename") && (has("s3_bucket") || has("s3_key") || has("s3_object_version")) {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail(
                        "\"filename\": conflicts with s3_bucket, s3_key and s3_object_version",
                    )
                    .at(path("filename")),
            );
        }
        let package = has("filename") || (has("s3_bucket") && has("s3_key"));
        if !package {
            out.push(
                ProviderError::new("missing deployment package")
                    .with_detail("one of filename, or s3_bucket and s3_key, must be specified"),
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
        // An imported function has no filename or S3 location in its
        // state (AWS does not report them). When the configured hash is
        // the code AWS runs, the package is already deployed: nothing to
        // upload.
        let package_args = ["filename", "s3_bucket", "s3_key", "s3_object_version"];
        let unknown_package = package_args.iter().all(|a| attr(prior, a).is_null());
        let hash = attr(config, "source_code_hash");
        if unknown_package
            && hash.as_str().is_some()
            && hash.equals(attr(prior, "source_code_hash"))
        {
            for a in package_args {
                set(planned, a, Value::Null);
            }
        }
        let code_changed = changed(prior, planned, &CODE_ARGS);
        let config_changed = changed(prior, planned, &CONFIG_ARGS);
        let unknown = |planned: &mut Value, names: &[&str]| {
            for n in names {
                let ty = if *n == "source_code_size" {
                    Type::Number
                } else {
                    Type::String
                };
                set(planned, n, Value::Unknown(ty));
            }
        };
        if code_changed || config_changed {
            unknown(planned, &["last_modified"]);
        }
        if code_changed {
            unknown(planned, &["source_code_size", "code_sha256"]);
        }
        let publish = get_bool(planned, "publish") == Some(true);
        let publish_turned_on = get_bool(prior, "publish") != Some(true) && publish;
        if publish && (code_changed || config_changed || publish_turned_on) {
            unknown(
                planned,
                &["version", "qualified_arn", "qualified_invoke_arn"],
            );
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = req_str(planned, "function_name")?;
        let err = || format!("creating Lambda Function ({name})");
        let tags = planned_tags(planned);
        let input = lambda::NewFunction {
            name,
            code: code(planned)?,
            settings: settings(planned, false)?,
            package_type: get_str(planned, "package_type").unwrap_or("Zip"),
            architectures: get_strings(planned, "architectures"),
            publish: get_bool(planned, "publish") == Some(true),
            tags: &tags,
        };
        let mut delay = Duration::from_secs(1);
        let mut waited = Duration::ZERO;
        loop {
            match lambda::create_function(&ctx.client, &input).await {
                Err(e) if role_not_ready(&e) && waited < Duration::from_secs(120) => {
                    tokio::time::sleep(delay).await;
                    waited += delay;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                r => {
                    r.map_err(aws_err(err()))?;
                    break;
                }
            }
        }
        wait_ready(ctx, name, "create").await?;
        let mut v = planned.clone();
        set(&mut v, "id", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let err = || format!("reading Lambda Function ({name})");
        let Some((f, tags)) = lambda::get_function(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        // The latest published version ($LATEST when none is).
        let versions = lambda::list_versions_by_function(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?;
        let (version, qualified_arn) = match versions.last() {
            Some(l) if l.version != "$LATEST" => (l.version.clone(), l.arn.clone()),
            _ => ("$LATEST".to_owned(), format!("{}:$LATEST", f.arn)),
        };
        let mut v = null_object(&self.schema());
        // What AWS does not report stays as the state has it.
        for k in [
            "filename",
            "s3_bucket",
            "s3_key",
            "s3_object_version",
            "publish",
        ] {
            set(&mut v, k, attr(state, k).clone());
        }
        if attr(&v, "publish").is_null() {
            set(&mut v, "publish", false);
        }
        set(&mut v, "id", f.name.clone());
        set(&mut v, "function_name", f.name);
        set(&mut v, "role", f.role);
        set(&mut v, "handler", opt_string(f.handler));
        set(&mut v, "runtime", opt_string(f.runtime));
        set(
            &mut v,
            "description",
            opt_string(Some(f.description).filter(|d| !d.is_empty())),
        );
        set(&mut v, "memory_size", f.memory_size);
        set(&mut v, "timeout", f.timeout);
        set(&mut v, "package_type", f.package_type);
        set(&mut v, "source_code_hash", f.code_sha256.clone());
        set(&mut v, "code_sha256", f.code_sha256);
        set(&mut v, "source_code_size", f.code_size);
        set(&mut v, "last_modified", f.last_modified);
        let arch = if f.architectures.is_empty() {
            vec!["x86_64".to_owned()]
        } else {
            f.architectures
        };
        set(
            &mut v,
            "architectures",
            Value::List(arch.into_iter().map(Value::String).collect()),
        );
        let layers = if f.layers.is_empty() && attr(state, "layers").is_null() {
            Value::Null
        } else {
            Value::List(f.layers.into_iter().map(Value::String).collect())
        };
        set(&mut v, "layers", layers);
        let env = if f.environment.is_empty() {
            // No variables: keep an empty block the configuration wrote.
            match blocks(state, "environment").first() {
                Some(b) if get_string_map(b, "variables").is_ok_and(|m| m.is_empty()) => {
                    Value::List(vec![(*b).clone()])
                }
                _ => Value::List(Vec::new()),
            }
        } else {
            Value::List(vec![object([("variables", string_map(&f.environment))])])
        };
        set(&mut v, "environment", env);
        set(&mut v, "invoke_arn", invoke_arn(ctx, &f.arn));
        set(
            &mut v,
            "qualified_invoke_arn",
            invoke_arn(ctx, &qualified_arn),
        );
        set(&mut v, "arn", f.arn);
        set(&mut v, "version", version);
        set(&mut v, "qualified_arn", qualified_arn);
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let code_changed = changed(prior, planned, &CODE_ARGS);
        let config_changed = changed(prior, planned, &CONFIG_ARGS);
        if config_changed {
            lambda::update_function_configuration(&ctx.client, name, &settings(planned, true)?)
                .await
                .map_err(aws_err(format!(
                    "updating Lambda Function ({name}) configuration"
                )))?;
            wait_ready(ctx, name, "configuration update").await?;
        }
        if code_changed {
            lambda::update_function_code(
                &ctx.client,
                name,
                &code(planned)?,
                &get_strings(planned, "architectures"),
            )
            .await
            .map_err(aws_err(format!("updating Lambda Function ({name}) code")))?;
            wait_ready(ctx, name, "code update").await?;
        }
        let publish = get_bool(planned, "publish") == Some(true);
        let publish_turned_on = get_bool(prior, "publish") != Some(true) && publish;
        if publish && (code_changed || config_changed || publish_turned_on) {
            lambda::publish_version(&ctx.client, name)
                .await
                .map_err(aws_err(format!(
                    "publishing Lambda Function ({name}) version"
                )))?;
            wait_ready(ctx, name, "publish").await?;
        }
        let arn = req_str(prior, "arn")?;
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            lambda::untag_resource(&ctx.client, arn, &removed)
                .await
                .map_err(aws_err(format!("untagging Lambda Function ({name})")))?;
        }
        if !set_tags.is_empty() {
            lambda::tag_resource(&ctx.client, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging Lambda Function ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        match lambda::delete_function(&ctx.client, name).await {
            Err(e) if e.is(&["ResourceNotFoundException"]) => Ok(()),
            r => r.map_err(aws_err(format!("deleting Lambda Function ({name})"))),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "function_name", id);
        Ok(v)
    }
}
