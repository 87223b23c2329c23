//! CloudTrail checks: a logging multi-region trail, and each trail's log
//! file validation, logging status and KMS encryption.

use std::collections::BTreeMap;

use gantry_aws::Client;
use gantry_aws::service::cloudtrail::{self, Trail};

use super::catalog::{TRAIL_KMS, TRAIL_LOGGING, TRAIL_MULTI_REGION, TRAIL_VALIDATION};
use super::{Ctx, Out};

pub(crate) async fn run(ctx: &Ctx, clients: &BTreeMap<String, Client>) -> Out {
    let mut out = Out::default();
    // Each region lists its own trails and the shadows of multi-region
    // trails homed elsewhere; one listing suffices to find those.
    let mut trails: BTreeMap<String, Trail> = BTreeMap::new();
    let mut listed = false;
    for (region, c) in clients {
        match cloudtrail::describe_trails(c).await {
            Ok(list) => {
                listed = true;
                for t in list {
                    trails.entry(t.arn.clone()).or_insert(t);
                }
            }
            Err(e) => {
                for id in [TRAIL_VALIDATION, TRAIL_LOGGING, TRAIL_KMS] {
                    out.failed(id, Some(region), None, &e);
                }
                if clients.len() == 1 {
                    out.failed(TRAIL_MULTI_REGION, Some(region), None, &e);
                }
            }
        }
    }
    if !listed {
        if clients.len() > 1 {
            out.cannot(
                TRAIL_MULTI_REGION,
                None,
                None,
                "DescribeTrails failed in every scanned region".into(),
            );
        }
        return out;
    }

    let mut multi_region_logging = false;
    let mut multi_region_unknown = Vec::new();
    for t in trails.values() {
        let name = if t.name.is_empty() { &t.arn } else { &t.name };
        if !t.log_file_validation_enabled {
            out.report(
                TRAIL_VALIDATION,
                &t.arn,
                format!("trail {name} does not validate log files"),
                "",
            );
        }
        if t.kms_key_id.is_none() {
            out.report(
                TRAIL_KMS,
                &t.arn,
                format!("trail {name} does not encrypt its logs with a KMS key"),
                "",
            );
        }
        // Ask the trail's home region: other regions only hold a shadow.
        let home = if t.home_region.is_empty() {
            Ok(ctx.home.clone())
        } else {
            ctx.client(&t.home_region)
        };
        let status = match home {
            Ok(c) => cloudtrail::get_trail_status(&c, &t.arn).await,
            Err(e) => Err(e),
        };
        match status {
            Ok(true) => multi_region_logging |= t.is_multi_region,
            Ok(false) => out.report(
                TRAIL_LOGGING,
                &t.arn,
                format!("trail {name} is not logging"),
                "",
            ),
            Err(e) => {
                let region = Some(t.home_region.as_str()).filter(|r| !r.is_empty());
                out.failed(TRAIL_LOGGING, region, Some(&t.arn), &e);
                if t.is_multi_region {
                    multi_region_unknown.push(t.arn.clone());
                }
            }
        }
    }
    if !multi_region_logging {
        if multi_region_unknown.is_empty() {
            let have = trails.values().filter(|t| t.is_multi_region).count();
            let message = if trails.is_empty() {
                format!("account {} has no CloudTrail trail", ctx.account)
            } else if have == 0 {
                format!(
                    "account {} has {} trail(s), none of them multi-region",
                    ctx.account,
                    trails.len()
                )
            } else {
                format!("account {}: no multi-region trail is logging", ctx.account)
            };
            out.report(TRAIL_MULTI_REGION, &ctx.account, message, "");
        } else {
            out.cannot(
                TRAIL_MULTI_REGION,
                None,
                None,
                format!(
                    "the logging status of multi-region trail(s) {} could not be read",
                    multi_region_unknown.join(", ")
                ),
            );
        }
    }
    out
}
