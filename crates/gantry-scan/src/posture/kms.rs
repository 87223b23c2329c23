//! KMS check: customer-managed symmetric keys rotate automatically.

use std::sync::Arc;

use gantry_aws::Client;
use gantry_aws::service::kms;

use super::catalog::KMS_ROTATION;
use super::{Ctx, Out, each};

pub(crate) async fn run(_ctx: Arc<Ctx>, region: String, c: Client) -> Out {
    let ids = match kms::list_keys(&c).await {
        Ok(ids) => ids,
        Err(e) => {
            let mut out = Out::default();
            out.failed(KMS_ROTATION, Some(&region), None, &e);
            return out;
        }
    };
    each(ids, |id| {
        let (c, region) = (c.clone(), region.clone());
        async move { key_check(&c, &region, &id).await }
    })
    .await
}

async fn key_check(c: &Client, region: &str, id: &str) -> Out {
    let mut out = Out::default();
    let key = match kms::describe_key(c, id).await {
        Ok(Some(k)) => k,
        // Deleted between the listing and now.
        Ok(None) => return out,
        Err(e) => {
            out.failed(KMS_ROTATION, Some(region), Some(id), &e);
            return out;
        }
    };
    // Rotation applies to enabled customer-managed symmetric keys whose
    // material KMS generated.
    let rotatable = key.key_manager == "CUSTOMER"
        && key.key_state == "Enabled"
        && key.key_spec == "SYMMETRIC_DEFAULT"
        && (key.origin.is_empty() || key.origin == "AWS_KMS");
    if !rotatable {
        return out;
    }
    let resource = if key.arn.is_empty() { id } else { &key.arn };
    match kms::get_key_rotation_status(c, id).await {
        Ok(true) => {}
        Ok(false) => out.report(
            KMS_ROTATION,
            resource,
            format!("KMS key {id} does not rotate automatically"),
            "",
        ),
        Err(e) => out.failed(KMS_ROTATION, Some(region), Some(resource), &e),
    }
    out
}
