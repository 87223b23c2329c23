//! S3 checks: public buckets (ACL, policy), public access blocks (bucket
//! and account), default encryption.

use std::sync::Arc;

use gantry_aws::Client;
use gantry_aws::service::s3::{self, PUBLIC_ACCESS_BLOCK_FIELDS, PublicAccessBlock};

use super::catalog::{
    S3_ACCOUNT_PAB, S3_BUCKET_PAB, S3_ENCRYPTION, S3_PUBLIC_ACL, S3_PUBLIC_POLICY,
};
use super::policy::public_statements;
use super::{Ctx, Out, each};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Index of each flag in a [`PublicAccessBlock`].
const IGNORE_PUBLIC_ACLS: usize = 1;
const RESTRICT_PUBLIC_BUCKETS: usize = 3;

pub(crate) async fn run(ctx: Arc<Ctx>) -> Out {
    let mut out = Out::default();
    let home = &ctx.home;

    // The account's block: `Some(flags)` when known (all false when there
    // is none), `None` when it could not be read.
    let account_pab = match s3::get_account_public_access_block(home, &ctx.account).await {
        Ok(pab) => {
            let flags = pab.unwrap_or([false; 4]);
            let missing = missing_flags(&flags);
            if pab.is_none() {
                out.report(
                    S3_ACCOUNT_PAB,
                    &ctx.account,
                    format!(
                        "account {} has no account-level S3 public access block",
                        ctx.account
                    ),
                    "",
                );
            } else if !missing.is_empty() {
                out.report(
                    S3_ACCOUNT_PAB,
                    &ctx.account,
                    format!(
                        "account-level S3 public access block does not enable {}",
                        missing.join(", ")
                    ),
                    "",
                );
            }
            Some(flags)
        }
        Err(e) => {
            out.failed(S3_ACCOUNT_PAB, None, None, &e);
            None
        }
    };

    let buckets = match s3::list_buckets(home).await {
        Ok(b) => b,
        Err(e) => {
            for id in [
                S3_PUBLIC_ACL,
                S3_PUBLIC_POLICY,
                S3_BUCKET_PAB,
                S3_ENCRYPTION,
            ] {
                out.failed(id, None, None, &e);
            }
            return out;
        }
    };
    let per_bucket = each(buckets, |b| {
        let ctx = ctx.clone();
        async move { bucket_checks(&ctx, &b.name, account_pab).await }
    })
    .await;
    out.findings.extend(per_bucket.findings);
    out.not_run.extend(per_bucket.not_run);
    out
}

async fn bucket_checks(ctx: &Ctx, name: &str, account_pab: Option<PublicAccessBlock>) -> Out {
    let mut out = Out::default();
    let arn = format!("arn:{}:s3:::{name}", ctx.partition);
    let all = [
        S3_PUBLIC_ACL,
        S3_PUBLIC_POLICY,
        S3_BUCKET_PAB,
        S3_ENCRYPTION,
    ];
    // Bucket calls go to the bucket's own region.
    let region = match s3::get_bucket_location(&ctx.home, name).await {
        Ok(r) => r,
        Err(e) => {
            for id in all {
                out.failed(id, None, Some(&arn), &e);
            }
            return out;
        }
    };
    match ctx.client(&region) {
        Ok(c) => bucket(&c, name, &arn, account_pab, &mut out).await,
        Err(e) => {
            for id in all {
                out.failed(id, Some(&region), Some(&arn), &e);
            }
        }
    }
    out
}

async fn bucket(
    c: &Client,
    name: &str,
    arn: &str,
    account_pab: Option<PublicAccessBlock>,
    out: &mut Out,
) {
    // The bucket's own block: all false when it has none, `None` unknown.
    let bucket_pab = match s3::get_public_access_block(c, name).await {
        Ok(p) => Some(p.unwrap_or([false; 4])),
        Err(e) => {
            out.failed(S3_BUCKET_PAB, None, Some(arn), &e);
            None
        }
    };
    // What is in effect: a flag is on when either level turns it on; a
    // flag neither level is known to turn on counts as off for the public
    // checks (a bucket that might be public is reported).
    let effective: PublicAccessBlock = std::array::from_fn(|i| {
        account_pab.is_some_and(|a| a[i]) || bucket_pab.is_some_and(|b| b[i])
    });
    if bucket_pab.is_some() {
        let missing = missing_flags(&effective);
        if !missing.is_empty() {
            if account_pab.is_some() {
                out.report(
                    S3_BUCKET_PAB,
                    arn,
                    format!(
                        "bucket {name}: public access block does not enable {} (neither on the bucket nor account-wide)",
                        missing.join(", ")
                    ),
                    &missing.join(","),
                );
            } else {
                out.cannot(
                    S3_BUCKET_PAB,
                    None,
                    Some(arn),
                    format!(
                        "bucket {name} does not enable {} itself and the account-level block could not be read",
                        missing.join(", ")
                    ),
                );
            }
        }
    }

    match s3::get_bucket_acl(c, name).await {
        Ok(grants) => {
            let public: Vec<String> = grants
                .iter()
                .filter_map(|g| {
                    let who = match g.uri.as_deref()? {
                        ALL_USERS => "AllUsers",
                        AUTHENTICATED_USERS => "AuthenticatedUsers",
                        _ => return None,
                    };
                    Some(format!("{who}:{}", g.permission))
                })
                .collect();
            if !public.is_empty() && !effective[IGNORE_PUBLIC_ACLS] {
                out.report(
                    S3_PUBLIC_ACL,
                    arn,
                    format!("bucket {name}: ACL grants {}", public.join(", ")),
                    &public.join(","),
                );
            }
        }
        Err(e) => out.failed(S3_PUBLIC_ACL, None, Some(arn), &e),
    }

    match s3::get_bucket_policy(c, name).await {
        Ok(Some(doc)) => match public_statements(&doc) {
            Ok(public) if !public.is_empty() && !effective[RESTRICT_PUBLIC_BUCKETS] => {
                out.report(
                    S3_PUBLIC_POLICY,
                    arn,
                    format!(
                        "bucket {name}: policy allows everyone without a condition in {}",
                        public.join("; ")
                    ),
                    &public.join(";"),
                );
            }
            Ok(_) => {}
            Err(why) => out.cannot(
                S3_PUBLIC_POLICY,
                None,
                Some(arn),
                format!("bucket {name}: {why}"),
            ),
        },
        Ok(None) => {}
        Err(e) => out.failed(S3_PUBLIC_POLICY, None, Some(arn), &e),
    }

    match s3::get_bucket_encryption(c, name).await {
        Ok(Some(rules)) if rules.iter().any(|r| r.sse_algorithm.is_some()) => {}
        Ok(_) => out.report(
            S3_ENCRYPTION,
            arn,
            format!("bucket {name} has no default server-side encryption"),
            "",
        ),
        Err(e) => out.failed(S3_ENCRYPTION, None, Some(arn), &e),
    }
}

/// The names of the flags that are off.
fn missing_flags(flags: &PublicAccessBlock) -> Vec<&'static str> {
    PUBLIC_ACCESS_BLOCK_FIELDS
        .iter()
        .zip(flags)
        .filter(|(_, on)| !**on)
        .map(|(name, _)| *name)
        .collect()
}
