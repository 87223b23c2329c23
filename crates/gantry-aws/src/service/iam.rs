//! IAM (query protocol, IAM flavour; one global endpoint).

use crate::client::{Client, IAM};
use crate::error::Error;
use crate::protocol::{Params, query};
use crate::service::Tags;
use crate::xml::Element;

const VERSION: &str = "2010-05-08";

/// A role as `GetRole` describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub path: String,
    pub create_date: String,
    /// Decoded (IAM returns it URL-encoded).
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    pub tags: Tags,
}

fn tags_of(e: &Element, path: &str) -> Tags {
    e.list(path)
        .into_iter()
        .filter_map(|m| Some((m.text_at("Key")?.to_owned(), m.text_at("Value")?.to_owned())))
        .collect()
}

/// Undoes the percent-encoding IAM applies to policy documents.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        if b[i] == b'+' {
            out.push(b' ');
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Input of [`create_role`].
#[derive(Debug, Clone)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub assume_role_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: Option<i64>,
    pub permissions_boundary: Option<&'a str>,
    pub tags: &'a Tags,
}

pub async fn create_role(c: &Client, r: &NewRole<'_>) -> Result<Role, Error> {
    let mut p = Params::new();
    p.set("RoleName", r.name)
        .set("Path", r.path)
        .set("AssumeRolePolicyDocument", r.assume_role_policy)
        .opt("Description", r.description)
        .opt(
            "MaxSessionDuration",
            r.max_session_duration.map(|d| d.to_string()),
        )
        .opt("PermissionsBoundary", r.permissions_boundary)
        .member_pairs("Tags", "Key", "Value", r.tags.iter());
    let e = query(c, &IAM, "CreateRole", VERSION, &p).await?;
    role_of("CreateRole", &e)
}

fn role_of(op: &str, result: &Element) -> Result<Role, Error> {
    let r = result
        .child("Role")
        .ok_or_else(|| Error::response(op, "missing Role"))?;
    let t = |k: &str| r.text_at(k).unwrap_or_default().to_owned();
    Ok(Role {
        name: t("RoleName"),
        arn: t("Arn"),
        id: t("RoleId"),
        path: t("Path"),
        create_date: t("CreateDate"),
        assume_role_policy: url_decode(&t("AssumeRolePolicyDocument")),
        description: r.text_at("Description").map(str::to_owned),
        max_session_duration: t("MaxSessionDuration").parse().unwrap_or(3600),
        permissions_boundary: r
            .text_at("PermissionsBoundary/PermissionsBoundaryArn")
            .map(str::to_owned),
        tags: tags_of(r, "Tags"),
    })
}

/// The role, or `None` when it does not exist.
pub async fn get_role(c: &Client, name: &str) -> Result<Option<Role>, Error> {
    let mut p = Params::new();
    p.set("RoleName", name);
    match query(c, &IAM, "GetRole", VERSION, &p).await {
        Ok(e) => role_of("GetRole", &e).map(Some),
        Err(e) if e.is(&["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn update_role(
    c: &Client,
    name: &str,
    description: Option<&str>,
    max_session_duration: Option<i64>,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name)
        .set("Description", description.unwrap_or_default())
        .opt(
            "MaxSessionDuration",
            max_session_duration.map(|d| d.to_string()),
        );
    query(c, &IAM, "UpdateRole", VERSION, &p).await.map(drop)
}

pub async fn update_assume_role_policy(c: &Client, name: &str, doc: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name).set("PolicyDocument", doc);
    query(c, &IAM, "UpdateAssumeRolePolicy", VERSION, &p)
        .await
        .map(drop)
}

pub async fn put_role_permissions_boundary(
    c: &Client,
    name: &str,
    arn: Option<&str>,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name);
    match arn {
        Some(a) => {
            p.set("PermissionsBoundary", a);
            query(c, &IAM, "PutRolePermissionsBoundary", VERSION, &p).await
        }
        None => query(c, &IAM, "DeleteRolePermissionsBoundary", VERSION, &p).await,
    }
    .map(drop)
}

pub async fn tag_role(c: &Client, name: &str, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &IAM, "TagRole", VERSION, &p).await.map(drop)
}

pub async fn untag_role(c: &Client, name: &str, keys: &[String]) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name).member_list("TagKeys", keys.iter());
    query(c, &IAM, "UntagRole", VERSION, &p).await.map(drop)
}

/// Managed policy ARNs attached to the role (all pages).
pub async fn list_attached_role_policies(c: &Client, name: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut p = Params::new();
        p.set("RoleName", name).opt("Marker", marker.take());
        let e = query(c, &IAM, "ListAttachedRolePolicies", VERSION, &p).await?;
        out.extend(
            e.list("AttachedPolicies")
                .into_iter()
                .filter_map(|m| m.text_at("PolicyArn").map(str::to_owned)),
        );
        match (e.text_at("IsTruncated"), e.text_at("Marker")) {
            (Some("true"), Some(m)) => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

pub async fn detach_role_policy(c: &Client, name: &str, arn: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name).set("PolicyArn", arn);
    query(c, &IAM, "DetachRolePolicy", VERSION, &p)
        .await
        .map(drop)
}

/// Inline policy names of the role (all pages).
pub async fn list_role_policies(c: &Client, name: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut p = Params::new();
        p.set("RoleName", name).opt("Marker", marker.take());
        let e = query(c, &IAM, "ListRolePolicies", VERSION, &p).await?;
        out.extend(e.list("PolicyNames").into_iter().map(|m| m.text.clone()));
        match (e.text_at("IsTruncated"), e.text_at("Marker")) {
            (Some("true"), Some(m)) => marker = Some(m.to_owned()),
            _ => return Ok(out),
        }
    }
}

pub async fn delete_role_policy(c: &Client, role: &str, policy: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", role).set("PolicyName", policy);
    query(c, &IAM, "DeleteRolePolicy", VERSION, &p)
        .await
        .map(drop)
}

/// Names of the instance profiles the role is in.
pub async fn list_instance_profiles_for_role(c: &Client, name: &str) -> Result<Vec<String>, Error> {
    let mut p = Params::new();
    p.set("RoleName", name);
    let e = query(c, &IAM, "ListInstanceProfilesForRole", VERSION, &p).await?;
    Ok(e.list("InstanceProfiles")
        .into_iter()
        .filter_map(|m| m.text_at("InstanceProfileName").map(str::to_owned))
        .collect())
}

pub async fn remove_role_from_instance_profile(
    c: &Client,
    role: &str,
    profile: &str,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", role).set("InstanceProfileName", profile);
    query(c, &IAM, "RemoveRoleFromInstanceProfile", VERSION, &p)
        .await
        .map(drop)
}

pub async fn delete_role(c: &Client, name: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", name);
    query(c, &IAM, "DeleteRole", VERSION, &p).await.map(drop)
}
