//! KMS check: customer-managed symmetric keys rotate automatically.

use gantry_aws::Client;
use gantry_aws::service::kms;

use super::catalog::KMS_ROTATION;
use super::{Ctx, Out};

pub(crate) async fn run(_ctx: &Ctx, region: &str, c: &Client) -> Out {
    let mut out = Out::default();
    let ids = match kms::list_keys(c).await {
        Ok(ids) => ids,
        Err(e) => {
            out.failed(KMS_ROTATION, Some(region), None, &e);
            return out;
        }
    };
    for id in ids {
        let key = match kms::describe_key(c, &id).await {
            Ok(Some(k)) => k,
            // Deleted between the listing and now.
            Ok(None) => continue,
            Err(e) => {
                out.failed(KMS_ROTATION, Some(region), Some(&id), &e);
                continue;
            }
        };
        let rotatable = key.key_manager == "CUSTOMER"
            && key.key_state == "Enabled"
            && key.key_spec == "SYMMETRIC_DEFAULT"
            && (key.origin.is_empty() || key.origin == "AWS_KMS");
        if !rotatable {
            continue;
        }
        let resource = if key.arn.is_empty() { &id } else { &key.arn };
        match kms::get_key_rotation_status(c, &id).await {
            Ok(true) => {}
            Ok(false) => out.report(
                KMS_ROTATION,
                resource,
                format!("KMS key {id} does not rotate automatically"),
                "",
            ),
            Err(e) => out.failed(KMS_ROTATION, Some(region), Some(resource), &e),
        }
    }
    out
}
