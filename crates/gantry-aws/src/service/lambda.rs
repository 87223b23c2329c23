//! Lambda (REST-JSON, API 2015-03-31; tags under 2017-03-31).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value as J, json};

use crate::client::{Client, LAMBDA, Request, uri_encode};
use crate::error::Error;
use crate::protocol::rest_json;
use crate::service::Tags;

const API: &str = "/2015-03-31";
const TAGS_API: &str = "/2017-03-31";

fn req(op: &'static str, method: Method, path: String) -> Request {
    let mut r = Request::new(op, &LAMBDA, method);
    r.path = path;
    r
}

fn function_path(name: &str) -> String {
    format!("{API}/functions/{}", uri_encode(name, false))
}

/// Where a function's code comes from.
#[derive(Clone, PartialEq)]
pub enum Code {
    /// The bytes of a .zip deployment package.
    Zip(Vec<u8>),
    S3 {
        bucket: String,
        key: String,
        version: Option<String>,
    },
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Zip(b) => write!(f, "Zip({} bytes)", b.len()),
            Code::S3 {
                bucket,
                key,
                version,
            } => write!(f, "S3({bucket}/{key} {version:?})"),
        }
    }
}

impl Code {
    fn to_json(&self) -> J {
        use base64::Engine as _;
        match self {
            Code::Zip(b) => json!({
                "ZipFile": base64::engine::general_purpose::STANDARD.encode(b)
            }),
            Code::S3 {
                bucket,
                key,
                version,
            } => {
                let mut j = json!({ "S3Bucket": bucket, "S3Key": key });
                if let Some(v) = version {
                    j["S3ObjectVersion"] = json!(v);
                }
                j
            }
        }
    }
}

/// The configuration arguments of CreateFunction and
/// UpdateFunctionConfiguration. `None` leaves a setting out of the
/// request.
#[derive(Clone, Default, PartialEq)]
pub struct FunctionSettings {
    pub role: Option<String>,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    /// `Some(empty)` clears the variables.
    pub environment: Option<BTreeMap<String, String>>,
    pub layers: Option<Vec<String>>,
}

// Environment variables often hold secrets: never print them.
impl std::fmt::Debug for FunctionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionSettings")
            .field("role", &self.role)
            .field("handler", &self.handler)
            .field("runtime", &self.runtime)
            .field("timeout", &self.timeout)
            .field("memory_size", &self.memory_size)
            .field(
                "environment",
                &self
                    .environment
                    .as_ref()
                    .map(|e| e.keys().collect::<Vec<_>>()),
            )
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

impl FunctionSettings {
    fn write(&self, j: &mut J) {
        let mut put = |k: &str, v: J| {
            j[k] = v;
        };
        if let Some(v) = &self.role {
            put("Role", json!(v));
        }
        if let Some(v) = &self.handler {
            put("Handler", json!(v));
        }
        if let Some(v) = &self.runtime {
            put("Runtime", json!(v));
        }
        if let Some(v) = &self.description {
            put("Description", json!(v));
        }
        if let Some(v) = self.timeout {
            put("Timeout", json!(v));
        }
        if let Some(v) = self.memory_size {
            put("MemorySize", json!(v));
        }
        if let Some(v) = &self.environment {
            put("Environment", json!({ "Variables": v }));
        }
        if let Some(v) = &self.layers {
            put("Layers", json!(v));
        }
    }
}

/// A function's configuration as GetFunction describes it.
#[derive(Clone, PartialEq, Default)]
pub struct Function {
    pub name: String,
    pub arn: String,
    pub role: String,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub description: String,
    pub timeout: i64,
    pub memory_size: i64,
    pub last_modified: String,
    /// Base64 of the SHA-256 of the deployment package.
    pub code_sha256: String,
    pub code_size: i64,
    pub version: String,
    pub package_type: String,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    /// Layer version ARNs.
    pub layers: Vec<String>,
    /// `Pending`, `Active`, `Inactive` or `Failed`.
    pub state: String,
    pub state_reason: String,
    /// `InProgress`, `Successful` or `Failed` (absent right after create).
    pub last_update_status: String,
    pub last_update_status_reason: String,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("arn", &self.arn)
            .field("version", &self.version)
            .field("state", &self.state)
            .field("last_update_status", &self.last_update_status)
            .finish_non_exhaustive()
    }
}

fn function_of(j: &J) -> Function {
    let s = |k: &str| j.get(k).and_then(J::as_str).map(str::to_owned);
    let n = |k: &str| j.get(k).and_then(J::as_i64).unwrap_or(0);
    let strings = |k: &str| -> Vec<String> {
        j.get(k)
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Function {
        name: s("FunctionName").unwrap_or_default(),
        arn: s("FunctionArn").unwrap_or_default(),
        role: s("Role").unwrap_or_default(),
        handler: s("Handler"),
        runtime: s("Runtime"),
        description: s("Description").unwrap_or_default(),
        timeout: n("Timeout"),
        memory_size: n("MemorySize"),
        last_modified: s("LastModified").unwrap_or_default(),
        code_sha256: s("CodeSha256").unwrap_or_default(),
        code_size: n("CodeSize"),
        version: s("Version").unwrap_or_default(),
        package_type: s("PackageType").unwrap_or_else(|| "Zip".to_owned()),
        environment: j
            .pointer("/Environment/Variables")
            .and_then(J::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
        architectures: strings("Architectures"),
        layers: j
            .get("Layers")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.get("Arn").and_then(J::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        state: s("State").unwrap_or_default(),
        state_reason: s("StateReason").unwrap_or_default(),
        last_update_status: s("LastUpdateStatus").unwrap_or_default(),
        last_update_status_reason: s("LastUpdateStatusReason").unwrap_or_default(),
    }
}

/// Input of [`create_function`].
#[derive(Debug, Clone)]
pub struct NewFunction<'a> {
    pub name: &'a str,
    pub code: Code,
    pub settings: FunctionSettings,
    pub package_type: &'a str,
    pub architectures: Vec<String>,
    pub publish: bool,
    pub tags: &'a Tags,
}

pub async fn create_function(c: &Client, f: &NewFunction<'_>) -> Result<Function, Error> {
    let mut input = json!({
        "FunctionName": f.name,
        "Code": f.code.to_json(),
        "PackageType": f.package_type,
        "Publish": f.publish,
    });
    f.settings.write(&mut input);
    if !f.architectures.is_empty() {
        input["Architectures"] = json!(f.architectures);
    }
    if !f.tags.is_empty() {
        input["Tags"] = json!(f.tags);
    }
    let r = req("CreateFunction", Method::POST, format!("{API}/functions"));
    rest_json(c, r, Some(&input)).await.map(|j| function_of(&j))
}

/// The function's configuration and tags, or `None` when it does not
/// exist.
pub async fn get_function(c: &Client, name: &str) -> Result<Option<(Function, Tags)>, Error> {
    let r = req("GetFunction", Method::GET, function_path(name));
    match rest_json(c, r, None).await {
        Ok(j) => {
            let f = function_of(j.get("Configuration").unwrap_or(&J::Null));
            let tags = j
                .get("Tags")
                .and_then(J::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Some((f, tags)))
        }
        Err(e) if e.is(&["ResourceNotFoundException"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The unqualified function's configuration alone (for waiting).
pub async fn get_function_configuration(c: &Client, name: &str) -> Result<Function, Error> {
    let r = req(
        "GetFunctionConfiguration",
        Method::GET,
        format!("{}/configuration", function_path(name)),
    );
    rest_json(c, r, None).await.map(|j| function_of(&j))
}

/// Every version of the function, `$LATEST` first (all pages).
pub async fn list_versions_by_function(c: &Client, name: &str) -> Result<Vec<Function>, Error> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut r = req(
            "ListVersionsByFunction",
            Method::GET,
            format!("{}/versions", function_path(name)),
        );
        if let Some(m) = marker.take() {
            r = r.query("Marker", m);
        }
        let j = rest_json(c, r, None).await?;
        out.extend(
            j.get("Versions")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .map(function_of),
        );
        match j.get("NextMarker").and_then(J::as_str) {
            Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

pub async fn update_function_code(
    c: &Client,
    name: &str,
    code: &Code,
    architectures: &[String],
) -> Result<Function, Error> {
    let mut input = code.to_json();
    if !architectures.is_empty() {
        input["Architectures"] = json!(architectures);
    }
    let r = req(
        "UpdateFunctionCode",
        Method::PUT,
        format!("{}/code", function_path(name)),
    );
    rest_json(c, r, Some(&input)).await.map(|j| function_of(&j))
}

pub async fn update_function_configuration(
    c: &Client,
    name: &str,
    settings: &FunctionSettings,
) -> Result<Function, Error> {
    let mut input = json!({});
    settings.write(&mut input);
    let r = req(
        "UpdateFunctionConfiguration",
        Method::PUT,
        format!("{}/configuration", function_path(name)),
    );
    rest_json(c, r, Some(&input)).await.map(|j| function_of(&j))
}

/// Publishes `$LATEST` as a new version; returns that version.
pub async fn publish_version(c: &Client, name: &str) -> Result<Function, Error> {
    let r = req(
        "PublishVersion",
        Method::POST,
        format!("{}/versions", function_path(name)),
    );
    rest_json(c, r, Some(&json!({})))
        .await
        .map(|j| function_of(&j))
}

pub async fn delete_function(c: &Client, name: &str) -> Result<(), Error> {
    let r = req("DeleteFunction", Method::DELETE, function_path(name));
    rest_json(c, r, None).await.map(drop)
}

fn tags_path(arn: &str) -> String {
    format!("{TAGS_API}/tags/{}", uri_encode(arn, false))
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    let r = req("TagResource", Method::POST, tags_path(arn));
    rest_json(c, r, Some(&json!({ "Tags": tags })))
        .await
        .map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    let mut r = req("UntagResource", Method::DELETE, tags_path(arn));
    for k in keys {
        r = r.query("tagKeys", k.clone());
    }
    rest_json(c, r, None).await.map(drop)
}
