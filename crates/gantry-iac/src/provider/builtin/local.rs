//! The `local` provider (`registry.terraform.io/hashicorp/local`): the
//! `local_file` and `local_sensitive_file` resources, which write a file,
//! and the data sources of the same names, which read one.
//!
//! Relative filenames are relative to the current directory of the
//! process, as in Terraform (configurations usually write
//! `"${path.module}/name"`). Creating a file creates missing parent
//! directories with `directory_permission`; both permissions are applied
//! through the process umask, as Terraform's provider does. Deleting
//! removes the file but not the directories.
//!
//! Refresh (`read`) returns `None` when the file is gone, so the engine
//! plans to create it again. When the file's content no longer matches
//! state, the refreshed state carries the content found on disk (in the
//! content attribute that was used) and its checksums; every content
//! argument forces replacement, so the next plan rewrites the file. For
//! `source`, whose path does not change, `plan` asks for replacement
//! through `id` when the file no longer matches.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{
    Factory, attr, fill_defaults, get_str, is_set, path, replaces, set_attr, unknown_computed,
    unsupported,
};
use crate::provider::{
    ApplyRequest, Attribute, PlanRequest, PlanResponse, Provider, ProviderError, ProviderFactory,
    ProviderSchema, Schema,
};
use crate::value::{Type, Value};

const NAME: &str = "local";

pub(super) fn factory() -> Arc<dyn ProviderFactory> {
    Arc::new(Factory {
        name: NAME,
        source: "registry.terraform.io/hashicorp/local",
        schema: || &SCHEMA,
        build: || Arc::new(LocalProvider),
    })
}

/// The checksum attributes every file resource and data source computes,
/// with `id` (the SHA-1 in hex).
const HASHES: [(&str, &str); 6] = [
    ("content_md5", "md5 checksum of file content"),
    ("content_sha1", "sha1 checksum of file content"),
    ("content_sha256", "sha256 checksum of file content"),
    (
        "content_base64sha256",
        "base64 encoded sha256 checksum of file content",
    ),
    ("content_sha512", "sha512 checksum of file content"),
    (
        "content_base64sha512",
        "base64 encoded sha512 checksum of file content",
    ),
];

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| ProviderSchema {
    provider: Schema::new(),
    resources: [
        ("local_file".to_owned(), file_schema(false)),
        ("local_sensitive_file".to_owned(), file_schema(true)),
    ]
    .into(),
    data_sources: [
        ("local_file".to_owned(), data_schema(false)),
        ("local_sensitive_file".to_owned(), data_schema(true)),
    ]
    .into(),
});

fn with_hashes(mut s: Schema) -> Schema {
    s = s.attr(
        "id",
        Attribute::computed(Type::String)
            .describe("the hexadecimal encoding of the sha1 checksum of the file content"),
    );
    for (name, d) in HASHES {
        s = s.attr(name, Attribute::computed(Type::String).describe(d));
    }
    s
}

fn file_schema(sensitive: bool) -> Schema {
    let content = |d| Attribute::optional(Type::String).force_new().describe(d);
    let perm = |d| {
        Attribute::optional_computed(Type::String)
            .force_new()
            .describe(d)
    };
    let mut content_attr =
        content("content to store in the file, expected to be a utf-8 encoded string");
    let mut base64_attr =
        content("content to store in the file, expected to be binary encoded as base64 string");
    if sensitive {
        content_attr = content_attr.sensitive();
        base64_attr = base64_attr.sensitive();
    }
    let mut s = Schema::new()
        .attr(
            "filename",
            Attribute::required(Type::String)
                .force_new()
                .describe("the path to the file that will be created; missing parent directories are created"),
        )
        .attr("content", content_attr)
        .attr("content_base64", base64_attr)
        .attr(
            "source",
            content("path to file to use as source for the one we are creating"),
        )
        .attr(
            "file_permission",
            perm("permissions to set for the output file, in numeric notation (default \"0777\", \"0700\" for local_sensitive_file)"),
        )
        .attr(
            "directory_permission",
            perm("permissions to set for directories created, in numeric notation (default \"0777\", \"0700\" for local_sensitive_file)"),
        );
    if !sensitive {
        s = s.attr(
            "sensitive_content",
            content(
                "sensitive content to store in the file (deprecated: use local_sensitive_file)",
            )
            .sensitive(),
        );
    }
    with_hashes(s)
}

fn data_schema(sensitive: bool) -> Schema {
    let mut content =
        Attribute::computed(Type::String).describe("raw content of the file that was read");
    let mut b64 =
        Attribute::computed(Type::String).describe("base64 encoded version of the file content");
    if sensitive {
        content = content.sensitive();
        b64 = b64.sensitive();
    }
    with_hashes(
        Schema::new()
            .attr(
                "filename",
                Attribute::required(Type::String).describe("path to the file that will be read"),
            )
            .attr("content", content)
            .attr("content_base64", b64),
    )
}

/// The content arguments of a resource type, exactly one of which is set.
fn content_args(type_name: &str) -> &'static [&'static str] {
    if type_name == "local_file" {
        &["content", "sensitive_content", "content_base64", "source"]
    } else {
        &["content", "content_base64", "source"]
    }
}

fn default_permission(type_name: &str) -> &'static str {
    if type_name == "local_file" {
        "0777"
    } else {
        "0700"
    }
}

struct LocalProvider;

fn schema_of(type_name: &str) -> Result<&'static Schema, ProviderError> {
    SCHEMA
        .resources
        .get(type_name)
        .ok_or_else(|| unsupported("resource", type_name, NAME))
}

/// Parses a permission string: 3 or 4 octal digits, at most 0777.
fn parse_mode(name: &str, s: &str) -> Result<u32, ProviderError> {
    let bad = |what: &str| {
        ProviderError::new("invalid attribute value")
            .with_detail(format!("bad mode for file - {what}: {s}"))
            .at(path(name))
    };
    if s.len() < 3 || s.len() > 4 {
        return Err(bad("string length should be 3 or 4 digits"));
    }
    match u32::from_str_radix(s, 8) {
        Ok(m) if m <= 0o777 && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) => Ok(m),
        _ => Err(bad("must be three octal digits")),
    }
}

/// The file checksums as attribute values, `id` included.
fn hashes(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let sha1 = hex::encode(Sha1::digest(bytes));
    let sha256 = Sha256::digest(bytes);
    let sha512 = Sha512::digest(bytes);
    vec![
        ("id", sha1.clone()),
        ("content_md5", hex::encode(Md5::digest(bytes))),
        ("content_sha1", sha1),
        ("content_sha256", hex::encode(sha256)),
        ("content_base64sha256", STANDARD.encode(sha256)),
        ("content_sha512", hex::encode(sha512)),
        ("content_base64sha512", STANDARD.encode(sha512)),
    ]
}

fn set_hashes(obj: &mut Value, bytes: &[u8]) {
    for (k, v) in hashes(bytes) {
        set_attr(obj, k, Value::String(v));
    }
}

/// The argument that supplies the content, when exactly one is set.
fn content_arg<'a>(type_name: &str, obj: &Value) -> Option<&'a str> {
    let mut set = content_args(type_name).iter().filter(|n| is_set(obj, n));
    match (set.next(), set.next()) {
        (Some(n), None) => Some(n),
        _ => None,
    }
}

/// What the content will be, when it can be known now. For `source`,
/// the source file is read (`None` when it cannot be).
async fn desired_content(
    type_name: &str,
    obj: &Value,
    read_source: bool,
) -> Result<Option<Vec<u8>>, ProviderError> {
    let Some(arg) = content_arg(type_name, obj) else {
        return Ok(None);
    };
    let v = attr(obj, arg);
    if !v.is_known() {
        return Ok(None);
    }
    let Some(text) = get_str(obj, arg)? else {
        return Ok(None);
    };
    match arg {
        "content_base64" => STANDARD.decode(text).map(Some).map_err(|e| {
            ProviderError::new("invalid attribute value")
                .with_detail(format!("content_base64 is not valid base64: {e}"))
                .at(path(arg))
        }),
        "source" if read_source => Ok(tokio::fs::read(text).await.ok()),
        "source" => Ok(None),
        _ => Ok(Some(text.as_bytes().to_vec())),
    }
}

#[async_trait]
impl Provider for LocalProvider {
    fn validate_resource(&self, type_name: &str, config: &Value) -> Vec<ProviderError> {
        if schema_of(type_name).is_err() {
            return vec![unsupported("resource", type_name, NAME)];
        }
        let mut errs = Vec::new();
        let args = content_args(type_name);
        let set: Vec<&str> = args
            .iter()
            .copied()
            .filter(|n| is_set(config, n) && attr(config, n).is_known())
            .collect();
        let unknown = args.iter().any(|n| !attr(config, n).is_known());
        let list = args.join(",");
        if let [_, second, ..] = set.as_slice() {
            // Reported at the second one: the first is taken as intended.
            errs.push(
                ProviderError::new("invalid attribute combination")
                    .with_detail(format!(
                        "{} attributes specified when one (and only one) of [{list}] is required",
                        set.len()
                    ))
                    .at(path(second)),
            );
        } else if set.is_empty() && !unknown {
            errs.push(
                ProviderError::new("invalid attribute combination")
                    .with_detail(format!(
                        "no attribute specified when one (and only one) of [{list}] is required"
                    ))
                    .at(path("content")),
            );
        }
        for name in ["file_permission", "directory_permission"] {
            match get_str(config, name) {
                Ok(Some(s)) => {
                    if let Err(e) = parse_mode(name, s) {
                        errs.push(e);
                    }
                }
                Ok(None) => {}
                Err(e) => errs.push(e),
            }
        }
        match get_str(config, "filename") {
            Ok(Some("")) => errs.push(
                ProviderError::new("invalid attribute value")
                    .with_detail("filename must not be empty")
                    .at(path("filename")),
            ),
            Ok(_) => {}
            Err(e) => errs.push(e),
        }
        if let Ok(Some(b64)) = get_str(config, "content_base64")
            && let Err(e) = STANDARD.decode(b64)
        {
            errs.push(
                ProviderError::new("invalid attribute value")
                    .with_detail(format!("content_base64 is not valid base64: {e}"))
                    .at(path("content_base64")),
            );
        }
        errs
    }

    async fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let schema = schema_of(req.type_name)?;
        let mut planned = req.proposed.clone();
        let perm = Value::string(default_permission(req.type_name));
        fill_defaults(
            req.config,
            &mut planned,
            &[
                ("file_permission", perm.clone()),
                ("directory_permission", perm),
            ],
        );
        let is_source = content_arg(req.type_name, req.config) == Some("source");
        let mut requires_replace = Vec::new();
        match req.prior {
            Some(prior) if !replaces(schema, prior, &planned) => {
                // Same arguments: replace only when the file on disk (as
                // refreshed into `id`) no longer matches them.
                let desired = desired_content(req.type_name, req.config, true).await?;
                if let Some(bytes) = desired
                    && let Some((_, sha1)) = hashes(&bytes).into_iter().next()
                    && attr(prior, "id").as_str() != Some(sha1.as_str())
                {
                    requires_replace.push(path("id"));
                    unknown_computed(schema, &mut planned);
                    if !is_source {
                        set_hashes(&mut planned, &bytes);
                    }
                }
            }
            _ => {
                unknown_computed(schema, &mut planned);
                // Checksums of inline content are known now; a source
                // file is read at apply (it may not exist yet).
                if let Some(bytes) = desired_content(req.type_name, req.config, false).await? {
                    set_hashes(&mut planned, &bytes);
                }
            }
        }
        Ok(PlanResponse {
            planned,
            requires_replace,
        })
    }

    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        schema_of(req.type_name)?;
        let Some(planned) = req.planned else {
            let Some(prior) = req.prior else {
                return Ok(None);
            };
            if let Some(filename) = get_str(prior, "filename")? {
                match tokio::fs::remove_file(filename).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(ProviderError::new("delete local file error")
                            .with_detail(format!("could not remove {filename:?}: {e}")));
                    }
                }
            }
            return Ok(None);
        };
        let filename = required_str(planned, "filename")?;
        let Some(arg) = content_arg(req.type_name, planned) else {
            return Err(
                ProviderError::new("invalid attribute combination").with_detail(format!(
                    "exactly one of [{}] must be set",
                    content_args(req.type_name).join(",")
                )),
            );
        };
        let bytes = match arg {
            "source" => {
                let src = required_str(planned, "source")?;
                tokio::fs::read(&src).await.map_err(|e| {
                    ProviderError::new("create local file error")
                        .with_detail(format!("could not read source file {src:?}: {e}"))
                        .at(path("source"))
                })?
            }
            _ => desired_content(req.type_name, planned, false)
                .await?
                .ok_or_else(|| {
                    ProviderError::new("create local file error")
                        .with_detail(format!("the value of {arg} is not known"))
                        .at(path(arg))
                })?,
        };
        let default = default_permission(req.type_name);
        let file_mode = parse_mode(
            "file_permission",
            get_str(planned, "file_permission")?.unwrap_or(default),
        )?;
        let dir_mode = parse_mode(
            "directory_permission",
            get_str(planned, "directory_permission")?.unwrap_or(default),
        )?;
        let target = PathBuf::from(&filename);
        let data = bytes.clone();
        tokio::task::spawn_blocking(move || write_file(&target, &data, file_mode, dir_mode))
            .await
            .map_err(|e| ProviderError::new("create local file error").with_detail(e.to_string()))?
            .map_err(|e| {
                ProviderError::new("create local file error")
                    .with_detail(format!("could not write {filename:?}: {e}"))
            })?;
        let mut state = planned.clone();
        let perm = Value::string(default);
        fill_defaults(
            planned,
            &mut state,
            &[
                ("file_permission", perm.clone()),
                ("directory_permission", perm),
            ],
        );
        set_hashes(&mut state, &bytes);
        Ok(Some(state))
    }

    async fn read(&self, type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        schema_of(type_name)?;
        let filename = required_str(state, "filename")?;
        let bytes = match tokio::fs::read(&filename).await {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ProviderError::new("read local file error")
                    .with_detail(format!("could not read {filename:?}: {e}")));
            }
        };
        let sha1 = hex::encode(Sha1::digest(&bytes));
        if attr(state, "id").as_str() == Some(sha1.as_str()) {
            return Ok(Some(state.clone()));
        }
        let mut new = state.clone();
        match content_arg(type_name, state) {
            Some("content_base64") => {
                set_attr(
                    &mut new,
                    "content_base64",
                    Value::String(STANDARD.encode(&bytes)),
                );
            }
            Some(arg @ ("content" | "sensitive_content")) => {
                set_attr(
                    &mut new,
                    arg,
                    Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                );
            }
            _ => {}
        }
        set_hashes(&mut new, &bytes);
        Ok(Some(new))
    }

    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        if !SCHEMA.data_sources.contains_key(type_name) {
            return Err(unsupported("data source", type_name, NAME));
        }
        let filename = required_str(config, "filename")?;
        let bytes = tokio::fs::read(&filename).await.map_err(|e| {
            ProviderError::new("read local file data source error")
                .with_detail(format!(
                    "the file at given path cannot be read: {filename:?}: {e}"
                ))
                .at(path("filename"))
        })?;
        let mut out = config.clone();
        set_attr(
            &mut out,
            "content",
            Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        );
        set_attr(
            &mut out,
            "content_base64",
            Value::String(STANDARD.encode(&bytes)),
        );
        set_hashes(&mut out, &bytes);
        Ok(out)
    }
}

/// A string attribute that must be known.
fn required_str(obj: &Value, name: &str) -> Result<String, ProviderError> {
    get_str(obj, name)?.map(str::to_owned).ok_or_else(|| {
        ProviderError::new("missing required argument")
            .with_detail(format!("the argument {name:?} must be set and known"))
            .at(path(name))
    })
}

/// Writes `data` to `target`, creating missing parent directories. Modes
/// apply to what is created, through the umask.
fn write_file(target: &Path, data: &[u8], file_mode: u32, dir_mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = target.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, dir_mode);
        b.create(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, file_mode);
    #[cfg(not(unix))]
    let _ = (file_mode, dir_mode);
    let mut f = o.open(target)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_terraform() {
        for (s, want) in [
            ("0644", Some(0o644)),
            ("755", Some(0o755)),
            ("0777", Some(0o777)),
        ] {
            assert_eq!(parse_mode("file_permission", s).ok(), want, "{s}");
        }
        for (s, msg) in [
            ("64", "string length should be 3 or 4 digits"),
            ("07777", "string length should be 3 or 4 digits"),
            ("0888", "must be three octal digits"),
            ("1777", "must be three octal digits"),
            ("+644", "must be three octal digits"),
        ] {
            let e = parse_mode("file_permission", s).unwrap_err();
            assert!(e.detail.contains(msg), "{s}: {}", e.detail);
            assert_eq!(e.attribute, Some(path("file_permission")));
        }
    }

    #[test]
    fn hashes_of_known_text() {
        let h: std::collections::BTreeMap<_, _> = hashes(b"foo!").into_iter().collect();
        assert_eq!(h["id"], h["content_sha1"]);
        assert_eq!(h["content_md5"], hex::encode(Md5::digest(b"foo!")));
        assert_eq!(h["content_sha1"].len(), 40);
        assert_eq!(h["content_sha256"].len(), 64);
        assert_eq!(h["content_sha512"].len(), 128);
        // sha1("") is well known.
        let e: std::collections::BTreeMap<_, _> = hashes(b"").into_iter().collect();
        assert_eq!(e["id"], "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
