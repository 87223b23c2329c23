//! S3 (REST-XML). Bucket operations address the bucket by host or by
//! path, as the client decides ([`crate::client::Settings::s3_use_path_style`]).

use base64::Engine as _;
use md5::{Digest, Md5};
use reqwest::Method;

use crate::client::{Client, Request, S3, uri_encode};
use crate::error::Error;
use crate::protocol::rest_xml;
use crate::service::Tags;
use crate::xml::{Element, Writer};

fn bucket_req(op: &'static str, method: Method, bucket: &str, sub: &str) -> Request {
    let mut r = Request::new(op, &S3, method);
    r.bucket = Some(bucket.to_owned());
    if !sub.is_empty() {
        r.query.push((sub.to_owned(), String::new()));
    }
    r
}

/// Attaches an XML body with the `Content-MD5` S3 requires on
/// configuration writes.
fn with_xml(mut r: Request, body: String) -> Request {
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    r.headers.push(("content-md5".into(), md5));
    r.headers
        .push(("content-type".into(), "application/xml".into()));
    r.body = body.into_bytes();
    r
}

/// Maps the "not configured" error codes of a GET to `None`.
fn absent<T>(r: Result<T, Error>, codes: &[&str]) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(codes) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn create_bucket(c: &Client, bucket: &str, object_lock: bool) -> Result<(), Error> {
    let mut r = bucket_req("CreateBucket", Method::PUT, bucket, "");
    if object_lock {
        r.headers
            .push(("x-amz-bucket-object-lock-enabled".into(), "true".into()));
    }
    if c.region() != "us-east-1" {
        let mut w = Writer::s3("CreateBucketConfiguration");
        w.elem("LocationConstraint", c.region());
        r = with_xml(r, w.finish());
    }
    rest_xml(c, r).await.map(drop)
}

/// True when the bucket exists (and the caller may see it).
pub async fn head_bucket(c: &Client, bucket: &str) -> Result<bool, Error> {
    let r = bucket_req("HeadBucket", Method::HEAD, bucket, "");
    match c.send(&r).await {
        Ok(_) => Ok(true),
        Err(e) if e.is(&["NotFound", "NoSuchBucket"]) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The bucket's region (`us-east-1` for the empty constraint).
pub async fn get_bucket_location(c: &Client, bucket: &str) -> Result<String, Error> {
    let r = bucket_req("GetBucketLocation", Method::GET, bucket, "location");
    let doc = rest_xml(c, r).await?;
    let loc = doc.map(|d| d.text).unwrap_or_default();
    Ok(match loc.as_str() {
        "" => "us-east-1".to_owned(),
        "EU" => "eu-west-1".to_owned(),
        _ => loc,
    })
}

pub async fn delete_bucket(c: &Client, bucket: &str) -> Result<(), Error> {
    rest_xml(c, bucket_req("DeleteBucket", Method::DELETE, bucket, ""))
        .await
        .map(drop)
}

pub async fn get_bucket_tagging(c: &Client, bucket: &str) -> Result<Tags, Error> {
    let r = rest_xml(
        c,
        bucket_req("GetBucketTagging", Method::GET, bucket, "tagging"),
    )
    .await;
    Ok(absent(r, &["NoSuchTagSet", "NoSuchTagSetError"])?
        .flatten()
        .map(|doc| {
            doc.path("TagSet")
                .map(|s| {
                    s.children_named("Tag")
                        .filter_map(|t| {
                            Some((t.text_at("Key")?.to_owned(), t.text_at("Value")?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default())
}

/// Replaces the bucket's tags (deletes them when `tags` is empty).
pub async fn put_bucket_tagging(c: &Client, bucket: &str, tags: &Tags) -> Result<(), Error> {
    if tags.is_empty() {
        return rest_xml(
            c,
            bucket_req("DeleteBucketTagging", Method::DELETE, bucket, "tagging"),
        )
        .await
        .map(drop);
    }
    let mut w = Writer::s3("Tagging");
    w.start("TagSet");
    for (k, v) in tags {
        w.start("Tag").elem("Key", k).elem("Value", v).end();
    }
    let r = with_xml(
        bucket_req("PutBucketTagging", Method::PUT, bucket, "tagging"),
        w.finish(),
    );
    rest_xml(c, r).await.map(drop)
}

/// `(Status, MFADelete)`; both `None` for a bucket never versioned.
pub async fn get_bucket_versioning(
    c: &Client,
    bucket: &str,
) -> Result<(Option<String>, Option<String>), Error> {
    let doc = rest_xml(
        c,
        bucket_req("GetBucketVersioning", Method::GET, bucket, "versioning"),
    )
    .await?
    .unwrap_or_default();
    Ok((
        doc.text_at("Status").map(str::to_owned),
        doc.text_at("MfaDelete").map(str::to_owned),
    ))
}

pub async fn put_bucket_versioning(
    c: &Client,
    bucket: &str,
    status: &str,
    mfa_delete: Option<&str>,
    mfa: Option<&str>,
) -> Result<(), Error> {
    let mut w = Writer::s3("VersioningConfiguration");
    w.elem("Status", status);
    if let Some(m) = mfa_delete {
        w.elem("MfaDelete", m);
    }
    let mut r = with_xml(
        bucket_req("PutBucketVersioning", Method::PUT, bucket, "versioning"),
        w.finish(),
    );
    if let Some(m) = mfa {
        r.headers.push(("x-amz-mfa".into(), m.to_owned()));
    }
    rest_xml(c, r).await.map(drop)
}

/// The four public access block flags, in the order
/// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
pub type PublicAccessBlock = [bool; 4];

const PAB_FIELDS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

pub async fn get_public_access_block(
    c: &Client,
    bucket: &str,
) -> Result<Option<PublicAccessBlock>, Error> {
    let r = rest_xml(
        c,
        bucket_req(
            "GetPublicAccessBlock",
            Method::GET,
            bucket,
            "publicAccessBlock",
        ),
    )
    .await;
    let Some(doc) = absent(r, &["NoSuchPublicAccessBlockConfiguration"])?.flatten() else {
        return Ok(None);
    };
    Ok(Some(PAB_FIELDS.map(|f| doc.text_at(f) == Some("true"))))
}

pub async fn put_public_access_block(
    c: &Client,
    bucket: &str,
    flags: PublicAccessBlock,
) -> Result<(), Error> {
    let mut w = Writer::s3("PublicAccessBlockConfiguration");
    for (f, v) in PAB_FIELDS.iter().zip(flags) {
        w.elem(f, if v { "true" } else { "false" });
    }
    let r = with_xml(
        bucket_req(
            "PutPublicAccessBlock",
            Method::PUT,
            bucket,
            "publicAccessBlock",
        ),
        w.finish(),
    );
    rest_xml(c, r).await.map(drop)
}

pub async fn delete_public_access_block(c: &Client, bucket: &str) -> Result<(), Error> {
    rest_xml(
        c,
        bucket_req(
            "DeletePublicAccessBlock",
            Method::DELETE,
            bucket,
            "publicAccessBlock",
        ),
    )
    .await
    .map(drop)
}

/// One server-side encryption rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SseRule {
    pub sse_algorithm: Option<String>,
    pub kms_master_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

pub async fn get_bucket_encryption(
    c: &Client,
    bucket: &str,
) -> Result<Option<Vec<SseRule>>, Error> {
    let r = rest_xml(
        c,
        bucket_req("GetBucketEncryption", Method::GET, bucket, "encryption"),
    )
    .await;
    let Some(doc) = absent(r, &["ServerSideEncryptionConfigurationNotFoundError"])?.flatten()
    else {
        return Ok(None);
    };
    Ok(Some(
        doc.children_named("Rule")
            .map(|rule: &Element| SseRule {
                sse_algorithm: rule
                    .text_at("ApplyServerSideEncryptionByDefault/SSEAlgorithm")
                    .map(str::to_owned),
                kms_master_key_id: rule
                    .text_at("ApplyServerSideEncryptionByDefault/KMSMasterKeyID")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                bucket_key_enabled: rule.text_at("BucketKeyEnabled").map(|b| b == "true"),
            })
            .collect(),
    ))
}

pub async fn put_bucket_encryption(
    c: &Client,
    bucket: &str,
    rules: &[SseRule],
) -> Result<(), Error> {
    let mut w = Writer::s3("ServerSideEncryptionConfiguration");
    for r in rules {
        w.start("Rule");
        if let Some(alg) = &r.sse_algorithm {
            w.start("ApplyServerSideEncryptionByDefault")
                .elem("SSEAlgorithm", alg);
            if let Some(k) = &r.kms_master_key_id {
                w.elem("KMSMasterKeyID", k);
            }
            w.end();
        }
        if let Some(b) = r.bucket_key_enabled {
            w.elem("BucketKeyEnabled", if b { "true" } else { "false" });
        }
        w.end();
    }
    let r = with_xml(
        bucket_req("PutBucketEncryption", Method::PUT, bucket, "encryption"),
        w.finish(),
    );
    rest_xml(c, r).await.map(drop)
}

pub async fn delete_bucket_encryption(c: &Client, bucket: &str) -> Result<(), Error> {
    rest_xml(
        c,
        bucket_req(
            "DeleteBucketEncryption",
            Method::DELETE,
            bucket,
            "encryption",
        ),
    )
    .await
    .map(drop)
}

pub async fn put_bucket_policy(c: &Client, bucket: &str, policy: &str) -> Result<(), Error> {
    let r = bucket_req("PutBucketPolicy", Method::PUT, bucket, "policy")
        .header("content-type", "application/json")
        .body(policy);
    c.send(&r).await.map(drop)
}

/// The bucket's policy document, or `None` when it has none.
pub async fn get_bucket_policy(c: &Client, bucket: &str) -> Result<Option<String>, Error> {
    let r = bucket_req("GetBucketPolicy", Method::GET, bucket, "policy");
    match c.send(&r).await {
        Ok(resp) => Ok(Some(String::from_utf8_lossy(&resp.body).into_owned())),
        Err(e) if e.is(&["NoSuchBucketPolicy"]) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn delete_bucket_policy(c: &Client, bucket: &str) -> Result<(), Error> {
    c.send(&bucket_req(
        "DeleteBucketPolicy",
        Method::DELETE,
        bucket,
        "policy",
    ))
    .await
    .map(drop)
}

pub async fn put_object(c: &Client, bucket: &str, key: &str, body: &[u8]) -> Result<(), Error> {
    let mut r = bucket_req("PutObject", Method::PUT, bucket, "").body(body.to_vec());
    r.path = format!("/{}", uri_encode(key, true));
    c.send(&r).await.map(drop)
}

/// Deletes every object version and delete marker (for `force_destroy`).
pub async fn empty_bucket(c: &Client, bucket: &str) -> Result<(), Error> {
    loop {
        let r = bucket_req("ListObjectVersions", Method::GET, bucket, "versions");
        let doc = rest_xml(c, r).await?.unwrap_or_default();
        let mut objects: Vec<(String, Option<String>)> = Vec::new();
        for e in doc
            .children
            .iter()
            .filter(|e| e.name == "Version" || e.name == "DeleteMarker")
        {
            if let Some(k) = e.text_at("Key") {
                objects.push((
                    k.to_owned(),
                    e.text_at("VersionId")
                        .filter(|v| *v != "null")
                        .map(str::to_owned),
                ));
            }
        }
        if objects.is_empty() {
            return Ok(());
        }
        for chunk in objects.chunks(1000) {
            let mut w = Writer::s3("Delete");
            w.elem("Quiet", "true");
            for (k, v) in chunk {
                w.start("Object").elem("Key", k);
                if let Some(v) = v {
                    w.elem("VersionId", v);
                }
                w.end();
            }
            let req = with_xml(
                bucket_req("DeleteObjects", Method::POST, bucket, "delete"),
                w.finish(),
            );
            rest_xml(c, req).await?;
        }
    }
}

fn object_req(op: &'static str, method: Method, bucket: &str, key: &str) -> Request {
    let mut r = bucket_req(op, method, bucket, "");
    r.path = format!("/{}", uri_encode(key, true));
    r
}

/// An object's bytes, or `None` when there is no such key.
pub async fn get_object(c: &Client, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
    let r = object_req("GetObject", Method::GET, bucket, key);
    absent(c.send(&r).await.map(|resp| resp.body), &["NoSuchKey"])
}

/// How [`put_object_if`] writes.
#[derive(Debug, Default, Clone)]
pub struct PutOptions<'a> {
    /// Only when the key does not exist yet (`If-None-Match: *`); S3
    /// answers `PreconditionFailed` otherwise.
    pub if_none_match: bool,
    pub content_type: Option<&'a str>,
    /// Server-side encryption: `AES256`, or `aws:kms` with the key id.
    pub sse: Option<(&'a str, Option<&'a str>)>,
    /// A canned ACL (`private`, `bucket-owner-full-control`, ...).
    pub acl: Option<&'a str>,
}

/// Writes an object, with an MD5 of the body for integrity.
pub async fn put_object_if(
    c: &Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    o: &PutOptions<'_>,
) -> Result<(), Error> {
    let mut r = object_req("PutObject", Method::PUT, bucket, key).body(body.to_vec());
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
    r.headers.push(("content-md5".into(), md5));
    if o.if_none_match {
        r.headers.push(("if-none-match".into(), "*".into()));
    }
    if let Some(t) = o.content_type {
        r.headers.push(("content-type".into(), t.into()));
    }
    if let Some((alg, key_id)) = o.sse {
        r.headers
            .push(("x-amz-server-side-encryption".into(), alg.into()));
        if let Some(k) = key_id {
            r.headers.push((
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                k.into(),
            ));
        }
    }
    if let Some(acl) = o.acl {
        r.headers.push(("x-amz-acl".into(), acl.into()));
    }
    c.send(&r).await.map(drop)
}

/// Deletes an object; deleting a missing key succeeds, as in S3.
pub async fn delete_object(c: &Client, bucket: &str, key: &str) -> Result<(), Error> {
    let r = object_req("DeleteObject", Method::DELETE, bucket, key);
    match c.send(&r).await {
        Err(e) if e.is(&["NoSuchKey"]) => Ok(()),
        r => r.map(drop),
    }
}

/// Every key under `prefix` (ListObjectsV2, all pages).
pub async fn list_keys(c: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut r = bucket_req("ListObjectsV2", Method::GET, bucket, "");
        r.query.push(("list-type".into(), "2".into()));
        r.query.push(("prefix".into(), prefix.into()));
        if let Some(t) = &token {
            r.query.push(("continuation-token".into(), t.clone()));
        }
        let doc = rest_xml(c, r).await?.unwrap_or_default();
        keys.extend(
            doc.children_named("Contents")
                .filter_map(|e| e.text_at("Key"))
                .map(str::to_owned),
        );
        token = match (
            doc.text_at("IsTruncated"),
            doc.text_at("NextContinuationToken"),
        ) {
            (Some("true"), Some(t)) => Some(t.to_owned()),
            _ => return Ok(keys),
        };
    }
}

// ---- account posture reads

/// One bucket as `ListBuckets` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucketSummary {
    pub name: String,
    pub creation_date: String,
}

/// Every bucket of the account (following `ContinuationToken` when S3
/// pages the answer).
pub async fn list_buckets(c: &Client) -> Result<Vec<BucketSummary>, Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut r = Request::new("ListBuckets", &S3, Method::GET);
        if let Some(t) = token.take() {
            r.query.push(("continuation-token".into(), t));
        }
        let doc = rest_xml(c, r).await?.unwrap_or_default();
        if doc.name != "ListAllMyBucketsResult" {
            return Err(Error::response(
                "ListBuckets",
                format!("expected ListAllMyBucketsResult, got {:?}", doc.name),
            ));
        }
        if let Some(buckets) = doc.child("Buckets") {
            out.extend(buckets.children_named("Bucket").map(|b| BucketSummary {
                name: b.text_at("Name").unwrap_or_default().to_owned(),
                creation_date: b.text_at("CreationDate").unwrap_or_default().to_owned(),
            }));
        }
        match doc.text_at("ContinuationToken").filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
}

/// One grant of a bucket ACL. A group grantee has `uri`, a canonical
/// user `id`, an e-mail grantee `email`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grant {
    pub uri: Option<String>,
    pub id: Option<String>,
    pub email: Option<String>,
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`.
    pub permission: String,
}

/// The grants of the bucket's ACL.
pub async fn get_bucket_acl(c: &Client, bucket: &str) -> Result<Vec<Grant>, Error> {
    let doc = rest_xml(c, bucket_req("GetBucketAcl", Method::GET, bucket, "acl"))
        .await?
        .unwrap_or_default();
    let opt = |e: &Element, k: &str| {
        e.text_at(k)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(doc
        .child("AccessControlList")
        .map(|l| {
            l.children_named("Grant")
                .map(|g| {
                    let grantee = g.child("Grantee").cloned().unwrap_or_default();
                    Grant {
                        uri: opt(&grantee, "URI"),
                        id: opt(&grantee, "ID"),
                        email: opt(&grantee, "EmailAddress"),
                        permission: g.text_at("Permission").unwrap_or_default().to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The account-level public access block (S3 Control), or `None` when the
/// account has none.
pub async fn get_account_public_access_block(
    c: &Client,
    account_id: &str,
) -> Result<Option<PublicAccessBlock>, Error> {
    let mut r = Request::new(
        "GetPublicAccessBlock",
        &crate::client::S3CONTROL,
        Method::GET,
    )
    .header("x-amz-account-id", account_id);
    r.host_prefix = Some(format!("{account_id}."));
    r.path = "/v20180820/configuration/publicAccessBlock".into();
    let r = rest_xml(c, r).await;
    let Some(doc) = absent(r, &["NoSuchPublicAccessBlockConfiguration"])?.flatten() else {
        return Ok(None);
    };
    // The answer wraps the flags in `PublicAccessBlockConfiguration`.
    let flags = doc.find("PublicAccessBlockConfiguration").unwrap_or(&doc);
    Ok(Some(PAB_FIELDS.map(|f| flags.text_at(f) == Some("true"))))
}

/// Field names of a [`PublicAccessBlock`], in its order.
pub const PUBLIC_ACCESS_BLOCK_FIELDS: [&str; 4] = PAB_FIELDS;
