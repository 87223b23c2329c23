//! CloudTrail (JSON 1.1, `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*`).

use serde_json::{Value as J, json};

use crate::client::{CLOUDTRAIL, Client};
use crate::error::Error;
use crate::protocol::json;

const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

async fn call(c: &Client, op: &'static str, input: J) -> Result<J, Error> {
    json(c, &CLOUDTRAIL, TARGET, "1.1", op, &input).await
}

/// A trail as `DescribeTrails` describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub s3_bucket_name: Option<String>,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    pub log_file_validation_enabled: bool,
    pub include_global_service_events: bool,
    pub kms_key_id: Option<String>,
}

/// Every trail visible from the client's region, shadow trails of other
/// regions' multi-region trails included.
pub async fn describe_trails(c: &Client) -> Result<Vec<Trail>, Error> {
    const OP: &str = "DescribeTrails";
    let out = call(c, OP, json!({ "includeShadowTrails": true })).await?;
    let list = out
        .get("trailList")
        .and_then(J::as_array)
        .ok_or_else(|| Error::response(OP, "missing trailList"))?;
    Ok(list
        .iter()
        .map(|t| {
            let s = |k: &str| {
                t.get(k)
                    .and_then(J::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let b = |k: &str| t.get(k).and_then(J::as_bool).unwrap_or(false);
            Trail {
                name: s("Name").unwrap_or_default(),
                arn: s("TrailARN").unwrap_or_default(),
                home_region: s("HomeRegion").unwrap_or_default(),
                s3_bucket_name: s("S3BucketName"),
                is_multi_region: b("IsMultiRegionTrail"),
                is_organization_trail: b("IsOrganizationTrail"),
                log_file_validation_enabled: b("LogFileValidationEnabled"),
                include_global_service_events: b("IncludeGlobalServiceEvents"),
                kms_key_id: s("KmsKeyId"),
            }
        })
        .collect())
}

/// Whether the trail (by name or ARN) is recording events.
pub async fn get_trail_status(c: &Client, trail: &str) -> Result<bool, Error> {
    const OP: &str = "GetTrailStatus";
    let out = call(c, OP, json!({ "Name": trail })).await?;
    out.get("IsLogging")
        .and_then(J::as_bool)
        .ok_or_else(|| Error::response(OP, "missing IsLogging"))
}
