//! The `s3` state backend, as Terraform's: the state of the default
//! workspace is the object `key` in `bucket`, another workspace's is
//! `<workspace_key_prefix>/<workspace>/<key>` (prefix `env:` by default).
//!
//! Locking, either or both:
//! - `use_lockfile = true`: a lock object `<state key>.tflock` written with
//!   `If-None-Match: *`, so exactly one writer creates it; it holds the
//!   holder's lock info as JSON.
//! - `dynamodb_table = "T"`: an item `LockID = "<bucket>/<state key>"` put
//!   with `attribute_not_exists(LockID)`, its `Info` the lock info. Every
//!   state write also records the state's MD5 under `LockID =
//!   "<bucket>/<state key>-md5"` (`Digest`), and reads check it, as
//!   Terraform does, so a state written behind the table's back is noticed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::state::backend::{Backend, LockInfo, validate_workspace_name};
use gantry_iac::state::{State, StateError};
use gantry_iac::value::Value;
use md5::{Digest, Md5};
use serde_json::{Value as J, json};
use tokio::sync::OnceCell;

use crate::client::{Client, DYNAMODB, error_chain};
use crate::error::Error;
use crate::protocol::json as json_call;
use crate::provider::config::{ClientOptions, build_client};
use crate::service::s3::{self, PutOptions};

/// The arguments the `s3` backend takes.
const ARGUMENTS: &[&str] = &[
    "bucket",
    "key",
    "region",
    "workspace_key_prefix",
    "encrypt",
    "kms_key_id",
    "acl",
    "use_lockfile",
    "dynamodb_table",
    "endpoints",
    "use_path_style",
    "force_path_style",
    "access_key",
    "secret_key",
    "token",
    "profile",
    "assume_role",
    "max_retries",
    "skip_credentials_validation",
    "skip_region_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_s3_checksum",
];

/// Keys of the `endpoints` object.
const ENDPOINTS: &[&str] = &["s3", "dynamodb", "sts", "iam"];

/// State in S3, locked by a lock object and/or a DynamoDB item.
pub struct S3Backend {
    bucket: String,
    key: String,
    prefix: String,
    encrypt: bool,
    kms_key_id: Option<String>,
    acl: Option<String>,
    use_lockfile: bool,
    table: Option<String>,
    opts: ClientOptions,
    client: OnceCell<Client>,
}

fn config_error(msg: impl Into<String>) -> StateError {
    StateError::Config(msg.into())
}

/// Builds the backend from a `backend "s3"` block's settings; registered
/// with gantry-iac by the binary.
pub fn s3_backend(
    settings: &BTreeMap<String, Value>,
    _working_dir: &Path,
) -> Result<Box<dyn Backend>, StateError> {
    S3Backend::from_settings(settings).map(|b| Box::new(b) as Box<dyn Backend>)
}

fn unsupported(k: &str, within: &str) -> StateError {
    config_error(format!(
        "unsupported argument \"{k}\" in {within}: an argument named \"{k}\" is not expected here"
    ))
}

fn get_string(
    settings: &BTreeMap<String, Value>,
    name: &str,
    within: &str,
) -> Result<Option<String>, StateError> {
    match settings.get(name).map(Value::unmarked) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(config_error(format!(
            "invalid value for \"{name}\" in {within}: a string is required, not {}",
            other.kind_name()
        ))),
    }
}

fn get_flag(
    settings: &BTreeMap<String, Value>,
    name: &str,
    within: &str,
) -> Result<bool, StateError> {
    match settings.get(name).map(Value::unmarked) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(config_error(format!(
            "invalid value for \"{name}\" in {within}: a bool is required, not {}",
            other.kind_name()
        ))),
    }
}

/// An object-valued argument (`endpoints = { s3 = "..." }`) as a map of
/// its string values, checking its keys.
fn get_object(
    settings: &BTreeMap<String, Value>,
    name: &str,
    allowed: &[&str],
) -> Result<BTreeMap<String, Value>, StateError> {
    let within = format!("backend \"s3\" argument \"{name}\"");
    match settings.get(name).map(Value::unmarked) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(v) => {
            let m = v.as_map().ok_or_else(|| {
                config_error(format!(
                    "invalid value for \"{name}\" in backend \"s3\": an object is required, not {}",
                    v.kind_name()
                ))
            })?;
            if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(unsupported(k, &within));
            }
            Ok(m.clone())
        }
    }
}

impl S3Backend {
    pub fn from_settings(settings: &BTreeMap<String, Value>) -> Result<S3Backend, StateError> {
        const WITHIN: &str = "backend \"s3\"";
        if let Some(k) = settings.keys().find(|k| !ARGUMENTS.contains(&k.as_str())) {
            return Err(unsupported(k, WITHIN));
        }
        let s = |name: &str| get_string(settings, name, WITHIN);
        let required = |name: &str| {
            s(name)?.filter(|v| !v.is_empty()).ok_or_else(|| {
                config_error(format!(
                    "the backend \"s3\" requires the argument \"{name}\""
                ))
            })
        };
        let bucket = required("bucket")?;
        let key = required("key")?;
        if key.starts_with('/') || key.ends_with('/') || key.contains("//") {
            return Err(config_error(format!(
                "invalid value for \"key\" in backend \"s3\": {key:?} must not start or end with \"/\" or contain \"//\""
            )));
        }
        let prefix = s("workspace_key_prefix")?.unwrap_or_else(|| "env:".to_owned());
        if prefix.starts_with('/') || prefix.ends_with('/') {
            return Err(config_error(format!(
                "invalid value for \"workspace_key_prefix\" in backend \"s3\": {prefix:?} must not start or end with \"/\""
            )));
        }
        let endpoints = get_object(settings, "endpoints", ENDPOINTS)?
            .into_iter()
            .map(|(k, v)| match v.unmarked() {
                Value::String(url) => Ok((k, url.clone())),
                other => Err(config_error(format!(
                    "invalid value for \"endpoints.{k}\" in backend \"s3\": a string is required, not {}",
                    other.kind_name()
                ))),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let ar = get_object(
            settings,
            "assume_role",
            &["role_arn", "session_name", "external_id"],
        )?;
        let ar_within = "backend \"s3\" argument \"assume_role\"";
        let assume_role = match get_string(&ar, "role_arn", ar_within)? {
            Some(arn) => Some((
                arn,
                get_string(&ar, "session_name", ar_within)?,
                get_string(&ar, "external_id", ar_within)?,
            )),
            None => None,
        };
        let max_retries = match settings.get("max_retries").map(Value::unmarked) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_f64().map(|n| n as i64).ok_or_else(|| {
                config_error(format!(
                    "invalid value for \"max_retries\" in backend \"s3\": a number is required, not {}",
                    v.kind_name()
                ))
            })?),
        };
        let opts = ClientOptions {
            profile: s("profile")?,
            region: s("region")?,
            access_key: s("access_key")?,
            secret_key: s("secret_key")?,
            token: s("token")?,
            skip_metadata_api_check: get_flag(settings, "skip_metadata_api_check", WITHIN)?,
            max_retries,
            use_path_style: get_flag(settings, "use_path_style", WITHIN)?
                || get_flag(settings, "force_path_style", WITHIN)?,
            endpoints,
            assume_role,
        };
        // Checked now so a bad value fails before any request.
        for f in [
            "skip_credentials_validation",
            "skip_region_validation",
            "skip_requesting_account_id",
            "skip_s3_checksum",
        ] {
            get_flag(settings, f, WITHIN)?;
        }
        Ok(S3Backend {
            bucket,
            key,
            prefix,
            encrypt: get_flag(settings, "encrypt", WITHIN)?,
            kms_key_id: s("kms_key_id")?,
            acl: s("acl")?,
            use_lockfile: get_flag(settings, "use_lockfile", WITHIN)?,
            table: s("dynamodb_table")?.filter(|t| !t.is_empty()),
            opts,
            client: OnceCell::new(),
        })
    }

    async fn client(&self) -> Result<&Client, StateError> {
        self.client
            .get_or_try_init(|| async {
                build_client(&self.opts)
                    .await
                    .map_err(|(summary, detail, _)| {
                        config_error(format!("backend \"s3\": {summary}: {detail}"))
                    })
            })
            .await
    }

    /// The object key of a workspace's state.
    pub fn state_key(&self, workspace: &str) -> String {
        if workspace == "default" {
            self.key.clone()
        } else {
            format!("{}/{workspace}/{}", self.prefix, self.key)
        }
    }

    fn lock_id(&self, workspace: &str) -> String {
        format!("{}/{}", self.bucket, self.state_key(workspace))
    }

    fn remote(&self, what: &str, key: &str, e: Error) -> StateError {
        StateError::Remote(format!(
            "{what} s3://{}/{key}: {}",
            self.bucket,
            error_chain(&e)
        ))
    }

    fn put_options(&self) -> PutOptions<'_> {
        PutOptions {
            if_none_match: false,
            content_type: Some("application/json"),
            sse: self.encrypt.then_some(match &self.kms_key_id {
                Some(k) => ("aws:kms", Some(k.as_str())),
                None => ("AES256", None),
            }),
            acl: self.acl.as_deref(),
        }
    }

    async fn dynamo(&self, op: &'static str, input: J) -> Result<J, StateError> {
        let c = self.client().await?;
        json_call(c, &DYNAMODB, "DynamoDB_20120810", "1.0", op, &input)
            .await
            .map_err(|e| {
                StateError::Remote(format!(
                    "DynamoDB table {:?}: {}",
                    self.table.as_deref().unwrap_or_default(),
                    error_chain(&e)
                ))
            })
    }

    /// The string attribute `attr` of the table's item `id`.
    async fn dynamo_get(&self, id: &str, attr: &str) -> Result<Option<String>, StateError> {
        let Some(table) = &self.table else {
            return Ok(None);
        };
        let out = self
            .dynamo(
                "GetItem",
                json!({ "TableName": table, "Key": { "LockID": { "S": id } }, "ConsistentRead": true }),
            )
            .await?;
        Ok(out
            .pointer(&format!("/Item/{attr}/S"))
            .and_then(J::as_str)
            .map(str::to_owned))
    }

    async fn put_digest(&self, workspace: &str, body: Option<&[u8]>) -> Result<(), StateError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        let id = format!("{}-md5", self.lock_id(workspace));
        match body {
            Some(b) => {
                self.dynamo(
                    "PutItem",
                    json!({ "TableName": table, "Item": { "LockID": { "S": id }, "Digest": { "S": md5_hex(b) } } }),
                )
                .await?;
            }
            None => {
                self.dynamo(
                    "DeleteItem",
                    json!({ "TableName": table, "Key": { "LockID": { "S": id } } }),
                )
                .await?;
            }
        }
        Ok(())
    }

    fn lock_key(&self, workspace: &str) -> String {
        format!("{}.tflock", self.state_key(workspace))
    }

    /// The lock object's holder, if there is one.
    async fn lockfile_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError> {
        let key = self.lock_key(workspace);
        let c = self.client().await?;
        let body = s3::get_object(c, &self.bucket, &key)
            .await
            .map_err(|e| self.remote("reading the lock", &key, e))?;
        Ok(body.map(|b| parse_info(&b)))
    }

    async fn dynamo_holder(&self, workspace: &str) -> Result<Option<LockInfo>, StateError> {
        Ok(self
            .dynamo_get(&self.lock_id(workspace), "Info")
            .await?
            .map(|i| parse_info(i.as_bytes())))
    }

    async fn lock_file(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError> {
        let key = self.lock_key(workspace);
        let body = serde_json::to_vec(info).unwrap_or_default();
        let c = self.client().await?;
        let opts = PutOptions {
            if_none_match: true,
            ..self.put_options()
        };
        match s3::put_object_if(c, &self.bucket, &key, &body, &opts).await {
            Ok(()) => Ok(()),
            Err(e) if e.is(&["PreconditionFailed", "ConditionalRequestConflict"]) => {
                match self.lockfile_holder(workspace).await? {
                    Some(holder) => Err(StateError::Locked(Box::new(holder))),
                    // Released between the two requests: try once more.
                    None => s3::put_object_if(c, &self.bucket, &key, &body, &opts)
                        .await
                        .map_err(|e| self.remote("locking", &key, e)),
                }
            }
            Err(e) => Err(self.remote("locking", &key, e)),
        }
    }

    async fn lock_item(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        let c = self.client().await?;
        let input = json!({
            "TableName": table,
            "Item": {
                "LockID": { "S": self.lock_id(workspace) },
                "Info": { "S": serde_json::to_string(info).unwrap_or_default() },
            },
            "ConditionExpression": "attribute_not_exists(LockID)",
        });
        match json_call(c, &DYNAMODB, "DynamoDB_20120810", "1.0", "PutItem", &input).await {
            Ok(_) => Ok(()),
            Err(e) if e.is(&["ConditionalCheckFailedException"]) => {
                let holder = self.dynamo_holder(workspace).await?.unwrap_or_else(|| {
                    let mut unknown = LockInfo::new("OperationTypeInvalid");
                    unknown.id = String::new();
                    unknown.who = "unknown (the lock item was removed meanwhile)".into();
                    unknown
                });
                Err(StateError::Locked(Box::new(holder)))
            }
            Err(e) => Err(StateError::Remote(format!(
                "locking in DynamoDB table {table:?}: {}",
                error_chain(&e)
            ))),
        }
    }

    async fn unlock_file(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        let key = self.lock_key(workspace);
        let holder = self.lockfile_holder(workspace).await?.ok_or_else(|| {
            StateError::Unlock(format!("no lock object s3://{}/{key}", self.bucket))
        })?;
        if holder.id != id {
            return Err(StateError::Unlock(format!(
                "lock ID {id:?} does not match existing lock ID {:?}",
                holder.id
            )));
        }
        let c = self.client().await?;
        s3::delete_object(c, &self.bucket, &key)
            .await
            .map_err(|e| self.remote("unlocking", &key, e))
    }

    async fn unlock_item(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        let lock_id = self.lock_id(workspace);
        let info = self.dynamo_get(&lock_id, "Info").await?.ok_or_else(|| {
            StateError::Unlock(format!(
                "no lock item {lock_id:?} in DynamoDB table {table:?}"
            ))
        })?;
        let holder = parse_info(info.as_bytes());
        if holder.id != id {
            return Err(StateError::Unlock(format!(
                "lock ID {id:?} does not match existing lock ID {:?}",
                holder.id
            )));
        }
        self.dynamo(
            "DeleteItem",
            json!({
                "TableName": table,
                "Key": { "LockID": { "S": lock_id } },
                "ConditionExpression": "Info = :info",
                "ExpressionAttributeValues": { ":info": { "S": info } },
            }),
        )
        .await
        .map(drop)
    }
}

/// Lock info as JSON; what cannot be parsed is shown as the holder.
fn parse_info(bytes: &[u8]) -> LockInfo {
    serde_json::from_slice(bytes).unwrap_or_else(|_| {
        let mut i = LockInfo::new("OperationTypeInvalid");
        i.id = String::new();
        i.info = String::from_utf8_lossy(bytes).chars().take(200).collect();
        i
    })
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl Backend for S3Backend {
    fn describe(&self) -> String {
        format!("s3 (s3://{}/{})", self.bucket, self.key)
    }

    async fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let c = self.client().await?;
        let list_prefix = format!("{}/", self.prefix);
        let keys = s3::list_keys(c, &self.bucket, &list_prefix)
            .await
            .map_err(|e| self.remote("listing workspaces in", &list_prefix, e))?;
        let suffix = format!("/{}", self.key);
        let mut names: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix(&list_prefix)?.strip_suffix(&suffix))
            .filter(|ws| !ws.is_empty() && !ws.contains('/'))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names.retain(|n| n != "default");
        names.insert(0, "default".to_owned());
        Ok(names)
    }

    async fn delete_workspace(&self, name: &str) -> Result<(), StateError> {
        validate_workspace_name(name)?;
        if name == "default" {
            return Err(StateError::DeleteDefault);
        }
        if !self.workspaces().await?.iter().any(|w| w == name) {
            return Err(StateError::WorkspaceNotFound(name.to_owned()));
        }
        let key = self.state_key(name);
        let c = self.client().await?;
        s3::delete_object(c, &self.bucket, &key)
            .await
            .map_err(|e| self.remote("deleting", &key, e))?;
        self.put_digest(name, None).await
    }

    async fn read(&self, workspace: &str) -> Result<Option<State>, StateError> {
        validate_workspace_name(workspace)?;
        let key = self.state_key(workspace);
        let c = self.client().await?;
        let mut delay = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let body = s3::get_object(c, &self.bucket, &key)
                .await
                .map_err(|e| self.remote("reading the state", &key, e))?;
            let expected = self
                .dynamo_get(&format!("{}-md5", self.lock_id(workspace)), "Digest")
                .await?;
            let got = body.as_deref().map(md5_hex);
            match (&expected, &got) {
                (Some(want), Some(have)) if want != have => {
                    if attempt < 5 {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                        continue;
                    }
                    return Err(StateError::Remote(format!(
                        "the state data in s3://{}/{key} does not have the expected content: its checksum is {have}, the DynamoDB table {:?} expects {want}; \
                         if the state was written without this table, update the Digest of item \"{}-md5\" to {have}",
                        self.bucket,
                        self.table.as_deref().unwrap_or_default(),
                        self.lock_id(workspace),
                    )));
                }
                _ => {}
            }
            return match body {
                Some(b) if !b.trim_ascii().is_empty() => State::from_json(&b).map(Some),
                _ => Ok(None),
            };
        }
    }

    async fn write(&self, workspace: &str, state: &State) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        let key = self.state_key(workspace);
        let body = state.to_json_pretty();
        let c = self.client().await?;
        s3::put_object_if(c, &self.bucket, &key, &body, &self.put_options())
            .await
            .map_err(|e| self.remote("writing the state", &key, e))?;
        self.put_digest(workspace, Some(&body)).await
    }

    async fn lock(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        let mut info = info.clone();
        if info.path.is_empty() {
            info.path = format!("{}/{}", self.bucket, self.state_key(workspace));
        }
        if !self.use_lockfile && self.table.is_none() {
            return Ok(());
        }
        if self.use_lockfile {
            self.lock_file(workspace, &info).await?;
        }
        if let Err(e) = self.lock_item(workspace, &info).await {
            if self.use_lockfile {
                // Do not keep half a lock.
                let _ = self.unlock_file(workspace, &info.id).await;
            }
            return Err(e);
        }
        Ok(())
    }

    async fn unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        if !self.use_lockfile && self.table.is_none() {
            return Ok(());
        }
        // Release both even if one fails; report the first failure.
        let file = if self.use_lockfile {
            self.unlock_file(workspace, id).await
        } else {
            Ok(())
        };
        let item = self.unlock_item(workspace, id).await;
        file.and(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn workspace_keys_follow_terraform() {
        let b = S3Backend::from_settings(&settings(&[
            ("bucket", Value::string("b")),
            ("key", Value::string("app/terraform.tfstate")),
        ]))
        .unwrap();
        assert_eq!(b.state_key("default"), "app/terraform.tfstate");
        assert_eq!(b.state_key("staging"), "env:/staging/app/terraform.tfstate");
        assert_eq!(b.lock_key("default"), "app/terraform.tfstate.tflock");
        assert_eq!(b.lock_id("default"), "b/app/terraform.tfstate");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = |pairs: &[(&str, Value)]| match S3Backend::from_settings(&settings(pairs)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {pairs:?}"),
        };
        assert!(err(&[("key", Value::string("k"))]).contains("requires the argument \"bucket\""));
        let e = err(&[("bucket", Value::string("b")), ("key", Value::string("/k"))]);
        assert!(e.contains("\"key\""), "{e}");
        let e = err(&[
            ("bucket", Value::string("b")),
            ("key", Value::string("k")),
            ("dynamo_table", Value::string("t")),
        ]);
        assert!(e.contains("unsupported argument \"dynamo_table\""), "{e}");
        let e = err(&[
            ("bucket", Value::string("b")),
            ("key", Value::string("k")),
            ("encrypt", Value::string("yes")),
        ]);
        assert!(e.contains("a bool is required"), "{e}");
        let e = err(&[
            ("bucket", Value::string("b")),
            ("key", Value::string("k")),
            (
                "endpoints",
                Value::Object([("ec2".to_owned(), Value::string("http://x"))].into()),
            ),
        ]);
        assert!(e.contains("unsupported argument \"ec2\""), "{e}");
    }
}
