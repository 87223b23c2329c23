//! Cloud posture: read-only checks of a live AWS account (root user, IAM
//! users and keys, S3 buckets, security groups, CloudTrail, KMS, EC2
//! instance metadata, EBS and VPC flow logs).
//!
//! [`scan_account`] makes only read calls (`Get*`, `List*`, `Describe*`)
//! through gantry-aws. A check that cannot run (access denied, an
//! operation the endpoint does not support, a failed call) is reported in
//! [`PostureReport::not_run`] with the reason, never counted as a pass.
//! [`posture_checks`] is the catalog output formats list rules from.

mod catalog;
mod ec2;
mod iam;
mod kms;
mod policy;
mod s3;
mod trail;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use gantry_aws::{Client, CredentialSource, Settings};
use serde::Serialize;

pub use catalog::{CheckInfo, Scope, posture_checks};
pub use policy::public_statements;

use crate::finding::{Finding, Kind};

/// What [`scan_account`] reads and how it reaches AWS.
#[derive(Clone, Debug)]
pub struct PostureOptions {
    /// The home region, endpoint overrides (`iam`, `s3`, `s3control`,
    /// `ec2`, `kms`, `cloudtrail`, `sts`), path-style S3, retries.
    pub settings: Settings,
    pub credentials: CredentialSource,
    /// The regions the regional checks (EC2, KMS) and trail listing run
    /// in; empty means the settings' region only.
    pub regions: Vec<String>,
    /// The clock the 90-day key checks compare with; `None` is now.
    pub now: Option<SystemTime>,
}

impl PostureOptions {
    pub fn new(settings: Settings, credentials: CredentialSource) -> PostureOptions {
        PostureOptions {
            settings,
            credentials,
            regions: Vec::new(),
            now: None,
        }
    }

    /// Options from aws-config's standard credential and region chain.
    pub async fn from_standard_chain(
        profile: Option<&str>,
        region: Option<&str>,
    ) -> Result<PostureOptions, Error> {
        let (settings, credentials) = Settings::from_standard_chain(profile, region)
            .await
            .map_err(Error::Credentials)?;
        Ok(PostureOptions::new(settings, credentials))
    }
}

/// The regions enabled for the account (EC2 `DescribeRegions` in the
/// settings' region), sorted: what to put in [`PostureOptions::regions`]
/// to scan every region.
pub async fn enabled_regions(opts: &PostureOptions) -> Result<Vec<String>, Error> {
    let c = Client::new(opts.settings.clone(), opts.credentials.clone()).map_err(Error::Client)?;
    gantry_aws::service::ec2::describe_regions(&c)
        .await
        .map_err(Error::Regions)
}

/// Why a posture scan could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot load AWS credentials: {0}")]
    Credentials(gantry_aws::Error),
    #[error("cannot identify the AWS account (sts GetCallerIdentity): {0}")]
    Identity(gantry_aws::Error),
    #[error("invalid region {0:?}: expected a name like us-east-1")]
    Region(String),
    #[error("cannot list the enabled regions (ec2 DescribeRegions): {0}")]
    Regions(gantry_aws::Error),
    #[error("cannot build an AWS client: {0}")]
    Client(gantry_aws::Error),
}

/// Why a check (or a check on one resource) could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotRunKind {
    /// The credentials may not make the call.
    AccessDenied,
    /// The endpoint does not offer the operation (or the region is not
    /// enabled for the account).
    Unsupported,
    /// Any other failure: network, throttling past retries, a bad answer.
    Failed,
}

/// A check that could not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRun {
    pub check_id: String,
    /// The region, for regional calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The resource, when only the check on one resource failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: NotRunKind,
    /// The AWS error code, when AWS gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub reason: String,
}

/// What a posture scan found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostureReport {
    pub account_id: String,
    /// Who the scan ran as.
    pub caller_arn: String,
    pub regions: Vec<String>,
    /// Sorted by severity (worst first), then rule and resource.
    pub findings: Vec<Finding>,
    /// Checks, or checks on single resources, that could not run.
    pub not_run: Vec<NotRun>,
}

impl PostureReport {
    /// True when `check_id` ran everywhere it should have (it may still
    /// have findings).
    pub fn ran(&self, check_id: &str) -> bool {
        !self.not_run.iter().any(|n| n.check_id == check_id)
    }
}

/// Runs every posture check against the account the credentials belong
/// to. Fails only when the account cannot be identified; everything after
/// that is a finding or a [`NotRun`].
pub async fn scan_account(opts: &PostureOptions) -> Result<PostureReport, Error> {
    let mut regions: Vec<String> = if opts.regions.is_empty() {
        vec![opts.settings.region.clone()]
    } else {
        opts.regions.clone()
    };
    for r in &regions {
        let valid = !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(Error::Region(r.clone()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    let home =
        Client::new(opts.settings.clone(), opts.credentials.clone()).map_err(Error::Client)?;
    let me = gantry_aws::service::sts::get_caller_identity(&home)
        .await
        .map_err(Error::Identity)?;
    let ctx = Arc::new(Ctx {
        account: me.account.clone(),
        partition: home.partition().id.to_owned(),
        now: opts.now.unwrap_or_else(SystemTime::now),
        settings: opts.settings.clone(),
        credentials: opts.credentials.clone(),
        home,
        clients: Mutex::new(BTreeMap::new()),
    });
    let mut clients = BTreeMap::new();
    for r in &regions {
        clients.insert(r.clone(), ctx.client(r).map_err(Error::Client)?);
    }

    let mut tasks = JoinSet::new();
    tasks.spawn(iam::run(ctx.clone()));
    tasks.spawn(s3::run(ctx.clone()));
    {
        let (c, cl) = (ctx.clone(), clients.clone());
        tasks.spawn(async move { trail::run(&c, &cl).await });
    }
    for (region, client) in &clients {
        let (c, r, cl) = (ctx.clone(), region.clone(), client.clone());
        tasks.spawn(async move { ec2::run(&c, &r, &cl).await });
        tasks.spawn(kms::run(ctx.clone(), region.clone(), client.clone()));
    }
    let mut out = join_all(tasks).await;
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.message.cmp(&b.message))
    });
    out.not_run.sort_by(|a, b| {
        (&a.check_id, &a.region, &a.resource).cmp(&(&b.check_id, &b.region, &b.resource))
    });
    out.not_run.dedup();
    Ok(PostureReport {
        account_id: me.account,
        caller_arn: me.arn,
        regions,
        findings: out.findings,
        not_run: out.not_run,
    })
}

/// What every check runs with.
pub(crate) struct Ctx {
    pub account: String,
    pub partition: String,
    pub now: SystemTime,
    settings: Settings,
    credentials: CredentialSource,
    /// A client for the settings' region (global services, S3 listing).
    pub home: Client,
    /// Clients of other regions, made on first use (each holds its own
    /// connection pool and credential cache).
    clients: Mutex<BTreeMap<String, Client>>,
}

impl Ctx {
    /// A client for a region, same endpoints and credentials.
    pub fn client(&self, region: &str) -> Result<Client, gantry_aws::Error> {
        if region == self.settings.region {
            return Ok(self.home.clone());
        }
        // A poisoned lock only means another task panicked mid-insert; the
        // map is still usable.
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(region) {
            return Ok(c.clone());
        }
        let mut s = self.settings.clone();
        s.region = region.to_owned();
        let c = Client::new(s, self.credentials.clone())?;
        map.insert(region.to_owned(), c.clone());
        Ok(c)
    }

    /// `account/region`: the resource of a regional account setting.
    pub fn regional(&self, region: &str) -> String {
        format!("{}/{region}", self.account)
    }

    /// How long ago `t` was (zero when in the future).
    pub fn age(&self, t: SystemTime) -> Duration {
        self.now.duration_since(t).unwrap_or_default()
    }
}

/// How many resources of one kind are checked at once.
const CONCURRENCY: usize = 8;

/// Runs `check` on every item, [`CONCURRENCY`] at a time, and gathers
/// what they report.
pub(crate) async fn each<T, F, Fut>(items: Vec<T>, check: F) -> Out
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Out> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for item in items {
        let fut = check(item);
        let limit = limit.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = limit.acquire_owned().await.ok();
            fut.await
        });
    }
    join_all(tasks).await
}

/// Waits for every task; a task that panicked becomes a not-run entry.
async fn join_all(mut tasks: JoinSet<Out>) -> Out {
    let mut out = Out::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(o) => {
                out.findings.extend(o.findings);
                out.not_run.extend(o.not_run);
            }
            Err(e) => out.not_run.push(NotRun {
                check_id: "GNT-AWSP".into(),
                region: None,
                resource: None,
                kind: NotRunKind::Failed,
                error_code: None,
                reason: format!("a check task stopped: {e}"),
            }),
        }
    }
    out
}

/// Findings and not-run entries one group of checks produced.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub findings: Vec<Finding>,
    pub not_run: Vec<NotRun>,
}

impl Out {
    /// Reports a finding of check `id` on `resource`. `evidence` (the
    /// offending setting, not volatile details like ages) goes into the
    /// fingerprint.
    pub fn report(&mut self, id: &str, resource: &str, message: String, evidence: &str) {
        let c = catalog::check(id);
        let mut f = Finding::new(Kind::Posture, c.id, c.severity, c.title, message)
            .with_resource(resource)
            .with_remediation(c.remediation);
        f.aliases = c.aliases.iter().map(|a| (*a).to_owned()).collect();
        self.findings.push(f.seal(evidence.as_bytes()));
    }

    /// Records that check `id` could not run because a call failed.
    pub fn failed(
        &mut self,
        id: &str,
        region: Option<&str>,
        resource: Option<&str>,
        err: &gantry_aws::Error,
    ) {
        self.not_run.push(NotRun {
            check_id: id.to_owned(),
            region: region.map(str::to_owned),
            resource: resource.map(str::to_owned),
            kind: classify(err),
            error_code: err.code().map(str::to_owned),
            reason: err.to_string(),
        });
    }

    /// Records that check `id` could not run for a reason of our own.
    pub fn cannot(
        &mut self,
        id: &str,
        region: Option<&str>,
        resource: Option<&str>,
        reason: String,
    ) {
        self.not_run.push(NotRun {
            check_id: id.to_owned(),
            region: region.map(str::to_owned),
            resource: resource.map(str::to_owned),
            kind: NotRunKind::Failed,
            error_code: None,
            reason,
        });
    }
}

const DENIED: &[&str] = &[
    "AccessDenied",
    "AuthFailure",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AllAccessDisabled",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
];

const UNSUPPORTED: &[&str] = &[
    "InvalidAction",
    "UnknownOperationException",
    "UnknownOperation",
    "NotImplemented",
    "UnsupportedOperation",
    "UnsupportedOperationException",
    "OptInRequired",
    "MethodNotAllowed",
];

fn classify(err: &gantry_aws::Error) -> NotRunKind {
    if err.is(DENIED) || err.status() == Some(403) {
        NotRunKind::AccessDenied
    } else if err.is(UNSUPPORTED) || matches!(err.status(), Some(404 | 405 | 501)) {
        NotRunKind::Unsupported
    } else {
        NotRunKind::Failed
    }
}

/// Whole days in a duration.
pub(crate) fn days(d: Duration) -> u64 {
    d.as_secs() / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, status: u16) -> gantry_aws::Error {
        gantry_aws::Error::Api {
            operation: "X".into(),
            status,
            code: code.into(),
            message: "m".into(),
            request_id: None,
        }
    }

    #[test]
    fn errors_classify() {
        assert_eq!(
            classify(&api("AccessDenied", 403)),
            NotRunKind::AccessDenied
        );
        assert_eq!(
            classify(&api("UnauthorizedOperation", 400)),
            NotRunKind::AccessDenied
        );
        assert_eq!(
            classify(&api("InvalidAction", 400)),
            NotRunKind::Unsupported
        );
        assert_eq!(classify(&api("Whatever", 404)), NotRunKind::Unsupported);
        assert_eq!(classify(&api("InternalError", 500)), NotRunKind::Failed);
        let t = gantry_aws::Error::Transport {
            operation: "X".into(),
            message: "refused".into(),
        };
        assert_eq!(classify(&t), NotRunKind::Failed);
    }

    #[test]
    fn findings_carry_catalog_metadata() {
        let mut out = Out::default();
        out.report(catalog::ROOT_MFA, "arn:aws:iam::1:root", "m".into(), "");
        let f = &out.findings[0];
        assert_eq!(f.kind, Kind::Posture);
        assert_eq!(f.rule_id, "GNT-AWSP-002");
        assert!(f.location.is_none());
        assert!(f.aliases.contains(&"AVD-AWS-0142".to_owned()));
        assert!(f.remediation.is_some());
        assert_eq!(f.fingerprint.len(), 32);
    }
}
