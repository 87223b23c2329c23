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

/// Every page of an IAM list operation (`Marker`/`IsTruncated`), each
/// page's result element handed to `take`.
async fn all_pages(
    c: &Client,
    op: &'static str,
    key: &str,
    value: &str,
    mut take: impl FnMut(&Element),
) -> Result<(), Error> {
    let mut marker: Option<String> = None;
    loop {
        let mut p = Params::new();
        p.set(key, value).opt("Marker", marker.take());
        let e = query(c, &IAM, op, VERSION, &p).await?;
        take(&e);
        match (e.text_at("IsTruncated"), e.text_at("Marker")) {
            (Some("true"), Some(m)) => marker = Some(m.to_owned()),
            _ => return Ok(()),
        }
    }
}

/// Managed policy ARNs attached to the role (all pages).
pub async fn list_attached_role_policies(c: &Client, name: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    all_pages(c, "ListAttachedRolePolicies", "RoleName", name, |e| {
        out.extend(
            e.list("AttachedPolicies")
                .into_iter()
                .filter_map(|m| m.text_at("PolicyArn").map(str::to_owned)),
        );
    })
    .await?;
    Ok(out)
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
    all_pages(c, "ListRolePolicies", "RoleName", name, |e| {
        out.extend(e.list("PolicyNames").into_iter().map(|m| m.text.clone()));
    })
    .await?;
    Ok(out)
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

// ---- managed policies, inline role policies, attachments, instance profiles

/// A managed policy as `GetPolicy` describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Policy {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub path: String,
    pub description: Option<String>,
    pub default_version_id: String,
    pub attachment_count: i64,
    pub tags: Tags,
}

fn policy_of(op: &str, result: &Element) -> Result<Policy, Error> {
    let p = result
        .child("Policy")
        .ok_or_else(|| Error::response(op, "missing Policy"))?;
    let t = |k: &str| p.text_at(k).unwrap_or_default().to_owned();
    Ok(Policy {
        name: t("PolicyName"),
        arn: t("Arn"),
        id: t("PolicyId"),
        path: t("Path"),
        description: p.text_at("Description").map(str::to_owned),
        default_version_id: t("DefaultVersionId"),
        attachment_count: t("AttachmentCount").parse().unwrap_or(0),
        tags: tags_of(p, "Tags"),
    })
}

/// Input of [`create_policy`].
#[derive(Debug, Clone)]
pub struct NewPolicy<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub document: &'a str,
    pub description: Option<&'a str>,
    pub tags: &'a Tags,
}

pub async fn create_policy(c: &Client, n: &NewPolicy<'_>) -> Result<Policy, Error> {
    let mut p = Params::new();
    p.set("PolicyName", n.name)
        .set("Path", n.path)
        .set("PolicyDocument", n.document)
        .opt("Description", n.description)
        .member_pairs("Tags", "Key", "Value", n.tags.iter());
    let e = query(c, &IAM, "CreatePolicy", VERSION, &p).await?;
    policy_of("CreatePolicy", &e)
}

/// The policy, or `None` when it does not exist.
pub async fn get_policy(c: &Client, arn: &str) -> Result<Option<Policy>, Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn);
    match query(c, &IAM, "GetPolicy", VERSION, &p).await {
        Ok(e) => policy_of("GetPolicy", &e).map(Some),
        Err(e) if e.is(&["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The tags of a managed policy (all pages).
pub async fn list_policy_tags(c: &Client, arn: &str) -> Result<Tags, Error> {
    let mut out = Tags::new();
    all_pages(c, "ListPolicyTags", "PolicyArn", arn, |e| {
        out.extend(tags_of(e, "Tags"));
    })
    .await?;
    Ok(out)
}

/// The (decoded) document of one version of a managed policy.
pub async fn get_policy_version(c: &Client, arn: &str, version: &str) -> Result<String, Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn).set("VersionId", version);
    let e = query(c, &IAM, "GetPolicyVersion", VERSION, &p).await?;
    e.text_at("PolicyVersion/Document")
        .map(url_decode)
        .ok_or_else(|| Error::response("GetPolicyVersion", "missing PolicyVersion/Document"))
}

/// One version of a managed policy, as `ListPolicyVersions` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub id: String,
    pub is_default: bool,
    pub create_date: String,
}

/// The versions of a managed policy.
pub async fn list_policy_versions(c: &Client, arn: &str) -> Result<Vec<PolicyVersion>, Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn);
    let e = query(c, &IAM, "ListPolicyVersions", VERSION, &p).await?;
    Ok(e.list("Versions")
        .into_iter()
        .map(|m| PolicyVersion {
            id: m.text_at("VersionId").unwrap_or_default().to_owned(),
            is_default: m.text_at("IsDefaultVersion") == Some("true"),
            create_date: m.text_at("CreateDate").unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Creates a new default version of a managed policy.
pub async fn create_policy_version(c: &Client, arn: &str, document: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn)
        .set("PolicyDocument", document)
        .set("SetAsDefault", "true");
    query(c, &IAM, "CreatePolicyVersion", VERSION, &p)
        .await
        .map(drop)
}

pub async fn delete_policy_version(c: &Client, arn: &str, version: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn).set("VersionId", version);
    query(c, &IAM, "DeletePolicyVersion", VERSION, &p)
        .await
        .map(drop)
}

pub async fn delete_policy(c: &Client, arn: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn);
    query(c, &IAM, "DeletePolicy", VERSION, &p).await.map(drop)
}

pub async fn tag_policy(c: &Client, arn: &str, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &IAM, "TagPolicy", VERSION, &p).await.map(drop)
}

pub async fn untag_policy(c: &Client, arn: &str, keys: &[String]) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("PolicyArn", arn).member_list("TagKeys", keys.iter());
    query(c, &IAM, "UntagPolicy", VERSION, &p).await.map(drop)
}

/// Creates or replaces an inline policy of a role.
pub async fn put_role_policy(
    c: &Client,
    role: &str,
    name: &str,
    document: &str,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", role)
        .set("PolicyName", name)
        .set("PolicyDocument", document);
    query(c, &IAM, "PutRolePolicy", VERSION, &p).await.map(drop)
}

/// The (decoded) document of a role's inline policy, or `None` when the
/// role or the policy does not exist.
pub async fn get_role_policy(c: &Client, role: &str, name: &str) -> Result<Option<String>, Error> {
    let mut p = Params::new();
    p.set("RoleName", role).set("PolicyName", name);
    match query(c, &IAM, "GetRolePolicy", VERSION, &p).await {
        Ok(e) => e
            .text_at("PolicyDocument")
            .map(|d| Some(url_decode(d)))
            .ok_or_else(|| Error::response("GetRolePolicy", "missing PolicyDocument")),
        Err(e) if e.is(&["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn attach_role_policy(c: &Client, role: &str, arn: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", role).set("PolicyArn", arn);
    query(c, &IAM, "AttachRolePolicy", VERSION, &p)
        .await
        .map(drop)
}

/// An instance profile as `GetInstanceProfile` describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceProfile {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub path: String,
    pub create_date: String,
    /// Names of the roles in the profile (at most one).
    pub roles: Vec<String>,
    pub tags: Tags,
}

fn instance_profile_of(op: &str, result: &Element) -> Result<InstanceProfile, Error> {
    let p = result
        .child("InstanceProfile")
        .ok_or_else(|| Error::response(op, "missing InstanceProfile"))?;
    let t = |k: &str| p.text_at(k).unwrap_or_default().to_owned();
    Ok(InstanceProfile {
        name: t("InstanceProfileName"),
        arn: t("Arn"),
        id: t("InstanceProfileId"),
        path: t("Path"),
        create_date: t("CreateDate"),
        roles: p
            .list("Roles")
            .into_iter()
            .filter_map(|r| r.text_at("RoleName").map(str::to_owned))
            .collect(),
        tags: tags_of(p, "Tags"),
    })
}

pub async fn create_instance_profile(
    c: &Client,
    name: &str,
    path: &str,
    tags: &Tags,
) -> Result<InstanceProfile, Error> {
    let mut p = Params::new();
    p.set("InstanceProfileName", name)
        .set("Path", path)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    let e = query(c, &IAM, "CreateInstanceProfile", VERSION, &p).await?;
    instance_profile_of("CreateInstanceProfile", &e)
}

/// The instance profile, or `None` when it does not exist.
pub async fn get_instance_profile(
    c: &Client,
    name: &str,
) -> Result<Option<InstanceProfile>, Error> {
    let mut p = Params::new();
    p.set("InstanceProfileName", name);
    match query(c, &IAM, "GetInstanceProfile", VERSION, &p).await {
        Ok(e) => instance_profile_of("GetInstanceProfile", &e).map(Some),
        Err(e) if e.is(&["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn add_role_to_instance_profile(
    c: &Client,
    role: &str,
    profile: &str,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RoleName", role).set("InstanceProfileName", profile);
    query(c, &IAM, "AddRoleToInstanceProfile", VERSION, &p)
        .await
        .map(drop)
}

pub async fn delete_instance_profile(c: &Client, name: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("InstanceProfileName", name);
    query(c, &IAM, "DeleteInstanceProfile", VERSION, &p)
        .await
        .map(drop)
}

pub async fn tag_instance_profile(c: &Client, name: &str, tags: &Tags) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("InstanceProfileName", name)
        .member_pairs("Tags", "Key", "Value", tags.iter());
    query(c, &IAM, "TagInstanceProfile", VERSION, &p)
        .await
        .map(drop)
}

pub async fn untag_instance_profile(c: &Client, name: &str, keys: &[String]) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("InstanceProfileName", name)
        .member_list("TagKeys", keys.iter());
    query(c, &IAM, "UntagInstanceProfile", VERSION, &p)
        .await
        .map(drop)
}

// ---- account posture reads (summary, password policy, users, keys)

/// Parses an IAM/ISO-8601 timestamp (`2024-01-02T03:04:05Z`, with or
/// without fractional seconds or an offset).
pub fn parse_timestamp(s: &str) -> Option<std::time::SystemTime> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| std::time::SystemTime::from(t.with_timezone(&chrono::Utc)))
}

/// `GetAccountSummary`: the `SummaryMap` (`AccountMFAEnabled`,
/// `AccountAccessKeysPresent`, `Users`, ...).
pub async fn get_account_summary(
    c: &Client,
) -> Result<std::collections::BTreeMap<String, i64>, Error> {
    let e = query(c, &IAM, "GetAccountSummary", VERSION, &Params::new()).await?;
    let map = e
        .child("SummaryMap")
        .ok_or_else(|| Error::response("GetAccountSummary", "missing SummaryMap"))?;
    Ok(map
        .children_named("entry")
        .filter_map(|en| {
            let k = en.text_at("key")?;
            let v = en.text_at("value")?.trim().parse().ok()?;
            Some((k.to_owned(), v))
        })
        .collect())
}

/// The account's password policy as `GetAccountPasswordPolicy` gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PasswordPolicy {
    pub minimum_password_length: Option<i64>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub expire_passwords: bool,
    pub max_password_age: Option<i64>,
    pub password_reuse_prevention: Option<i64>,
    pub hard_expiry: bool,
}

/// The password policy, or `None` when the account has none.
pub async fn get_account_password_policy(c: &Client) -> Result<Option<PasswordPolicy>, Error> {
    const OP: &str = "GetAccountPasswordPolicy";
    let e = match query(c, &IAM, OP, VERSION, &Params::new()).await {
        Ok(e) => e,
        Err(e) if e.is(&["NoSuchEntity"]) => return Ok(None),
        Err(e) => return Err(e),
    };
    let p = e
        .child("PasswordPolicy")
        .ok_or_else(|| Error::response(OP, "missing PasswordPolicy"))?;
    let flag = |k: &str| p.text_at(k) == Some("true");
    let num = |k: &str| p.text_at(k).and_then(|v| v.trim().parse().ok());
    Ok(Some(PasswordPolicy {
        minimum_password_length: num("MinimumPasswordLength"),
        require_symbols: flag("RequireSymbols"),
        require_numbers: flag("RequireNumbers"),
        require_uppercase_characters: flag("RequireUppercaseCharacters"),
        require_lowercase_characters: flag("RequireLowercaseCharacters"),
        allow_users_to_change_password: flag("AllowUsersToChangePassword"),
        expire_passwords: flag("ExpirePasswords"),
        max_password_age: num("MaxPasswordAge"),
        password_reuse_prevention: num("PasswordReusePrevention"),
        hard_expiry: flag("HardExpiry"),
    }))
}

/// An IAM user as `ListUsers` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub create_date: String,
    pub password_last_used: Option<String>,
}

/// Every IAM user (all pages).
pub async fn list_users(c: &Client) -> Result<Vec<User>, Error> {
    let mut out = Vec::new();
    all_pages(c, "ListUsers", "PathPrefix", "/", |e| {
        out.extend(e.list("Users").into_iter().map(|m| {
            let t = |k: &str| m.text_at(k).unwrap_or_default().to_owned();
            User {
                name: t("UserName"),
                arn: t("Arn"),
                id: t("UserId"),
                create_date: t("CreateDate"),
                password_last_used: m
                    .text_at("PasswordLastUsed")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            }
        }));
    })
    .await?;
    Ok(out)
}

/// The creation date of the user's console password, or `None` when the
/// user has no console password.
pub async fn get_login_profile(c: &Client, user: &str) -> Result<Option<String>, Error> {
    let mut p = Params::new();
    p.set("UserName", user);
    match query(c, &IAM, "GetLoginProfile", VERSION, &p).await {
        Ok(e) => Ok(Some(
            e.text_at("LoginProfile/CreateDate")
                .unwrap_or_default()
                .to_owned(),
        )),
        Err(e) if e.is(&["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Serial numbers of the user's MFA devices (all pages).
pub async fn list_mfa_devices(c: &Client, user: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    all_pages(c, "ListMFADevices", "UserName", user, |e| {
        out.extend(
            e.list("MFADevices")
                .into_iter()
                .filter_map(|m| m.text_at("SerialNumber").map(str::to_owned)),
        );
    })
    .await?;
    Ok(out)
}

/// An access key's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessKey {
    pub id: String,
    pub user: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: String,
}

/// The user's access keys (all pages).
pub async fn list_access_keys(c: &Client, user: &str) -> Result<Vec<AccessKey>, Error> {
    let mut out = Vec::new();
    all_pages(c, "ListAccessKeys", "UserName", user, |e| {
        out.extend(e.list("AccessKeyMetadata").into_iter().map(|m| {
            let t = |k: &str| m.text_at(k).unwrap_or_default().to_owned();
            AccessKey {
                id: t("AccessKeyId"),
                user: t("UserName"),
                status: t("Status"),
                create_date: t("CreateDate"),
            }
        }));
    })
    .await?;
    Ok(out)
}

/// When the key was last used, or `None` when it never was.
pub async fn get_access_key_last_used(c: &Client, key_id: &str) -> Result<Option<String>, Error> {
    let mut p = Params::new();
    p.set("AccessKeyId", key_id);
    let e = query(c, &IAM, "GetAccessKeyLastUsed", VERSION, &p).await?;
    Ok(e.text_at("AccessKeyLastUsed/LastUsedDate")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "N/A")
        .map(str::to_owned))
}
