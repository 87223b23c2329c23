//! ECR (JSON 1.1, `AmazonEC2ContainerRegistry_V20150921.*`).

use serde_json::{Value as J, json};

use crate::client::{Client, ECR};
use crate::error::Error;
use crate::protocol::json;
use crate::service::Tags;
use crate::service::dynamodb::{tag_list, tags_from_list};

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(
        c,
        &ECR,
        "AmazonEC2ContainerRegistry_V20150921",
        "1.1",
        op,
        &input,
    )
    .await
}

const GONE: &[&str] = &["RepositoryNotFoundException"];

/// A repository as `DescribeRepositories` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub registry_id: String,
    pub uri: String,
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

fn repository_of(r: &J) -> Repository {
    let s = |p: &str| r.pointer(p).and_then(J::as_str).map(str::to_owned);
    Repository {
        name: s("/repositoryName").unwrap_or_default(),
        arn: s("/repositoryArn").unwrap_or_default(),
        registry_id: s("/registryId").unwrap_or_default(),
        uri: s("/repositoryUri").unwrap_or_default(),
        image_tag_mutability: s("/imageTagMutability").unwrap_or_else(|| "MUTABLE".into()),
        scan_on_push: r
            .pointer("/imageScanningConfiguration/scanOnPush")
            .and_then(J::as_bool)
            .unwrap_or(false),
        encryption_type: s("/encryptionConfiguration/encryptionType")
            .unwrap_or_else(|| "AES256".into()),
        kms_key: s("/encryptionConfiguration/kmsKey").filter(|k| !k.is_empty()),
    }
}

/// Input of [`create_repository`].
#[derive(Debug, Clone)]
pub struct NewRepository<'a> {
    pub name: &'a str,
    pub image_tag_mutability: &'a str,
    pub scan_on_push: bool,
    pub encryption_type: &'a str,
    pub kms_key: Option<&'a str>,
    pub tags: &'a Tags,
}

pub async fn create_repository(c: &Client, r: &NewRepository<'_>) -> Result<Repository, Error> {
    let mut enc = json!({ "encryptionType": r.encryption_type });
    if let Some(k) = r.kms_key {
        enc["kmsKey"] = json!(k);
    }
    let mut input = json!({
        "repositoryName": r.name,
        "imageTagMutability": r.image_tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": r.scan_on_push },
        "encryptionConfiguration": enc,
    });
    if !r.tags.is_empty() {
        input["tags"] = tag_list(r.tags, "Key", "Value");
    }
    let out = call(c, "CreateRepository", input).await?;
    Ok(repository_of(out.get("repository").unwrap_or(&J::Null)))
}

/// The repository, or `None` when there is no such repository.
pub async fn describe_repository(c: &Client, name: &str) -> Result<Option<Repository>, Error> {
    match call(
        c,
        "DescribeRepositories",
        json!({ "repositoryNames": [name] }),
    )
    .await
    {
        Ok(out) => Ok(out
            .get("repositories")
            .and_then(J::as_array)
            .and_then(|xs| xs.first())
            .map(repository_of)),
        Err(e) if e.is(GONE) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn put_image_tag_mutability(c: &Client, name: &str, value: &str) -> Result<(), Error> {
    call(
        c,
        "PutImageTagMutability",
        json!({ "repositoryName": name, "imageTagMutability": value }),
    )
    .await
    .map(drop)
}

pub async fn put_image_scanning_configuration(
    c: &Client,
    name: &str,
    scan_on_push: bool,
) -> Result<(), Error> {
    call(
        c,
        "PutImageScanningConfiguration",
        json!({
            "repositoryName": name,
            "imageScanningConfiguration": { "scanOnPush": scan_on_push },
        }),
    )
    .await
    .map(drop)
}

pub async fn list_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let out = call(c, "ListTagsForResource", json!({ "resourceArn": arn })).await?;
    Ok(tags_from_list(out.get("tags"), "Key", "Value"))
}

pub async fn tag_resource(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    call(
        c,
        "TagResource",
        json!({ "resourceArn": arn, "tags": tag_list(tags, "Key", "Value") }),
    )
    .await
    .map(drop)
}

pub async fn untag_resource(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    call(
        c,
        "UntagResource",
        json!({ "resourceArn": arn, "tagKeys": keys }),
    )
    .await
    .map(drop)
}

/// Deletes the repository (with its images when `force`); a repository
/// already gone is not an error.
pub async fn delete_repository(c: &Client, name: &str, force: bool) -> Result<(), Error> {
    match call(
        c,
        "DeleteRepository",
        json!({ "repositoryName": name, "force": force }),
    )
    .await
    {
        Err(e) if e.is(GONE) => Ok(()),
        r => r.map(drop),
    }
}
