//! EC2 and VPC: aws_vpc, aws_subnet, aws_internet_gateway,
//! aws_route_table, aws_route_table_association, aws_route,
//! aws_security_group, aws_vpc_security_group_ingress_rule,
//! aws_vpc_security_group_egress_rule and aws_instance; the
//! aws_availability_zones and aws_ami data sources.

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use gantry_iac::provider::ProviderError;
use gantry_iac::value::Value;

use super::values::get_str;
use super::{Ctx, aws_err, path, tag_changes};
use crate::service::ec2;

mod data;
mod instance;
mod sg;
mod vpc;

pub(super) fn resources() -> super::Resources {
    let mut r = vpc::resources();
    r.extend(sg::resources());
    r.extend(instance::resources());
    r
}

pub(super) fn data_sources() -> super::DataSources {
    data::data_sources()
}

/// `arn:aws:ec2:region:account:kind/id`; `owner` is the account that
/// owns the object when AWS reported it.
pub(crate) fn arn(ctx: &Ctx, owner: Option<&str>, kind: &str, id: &str) -> String {
    let account = owner.filter(|o| !o.is_empty()).unwrap_or(&ctx.account_id);
    format!(
        "arn:{}:ec2:{}:{account}:{kind}/{id}",
        ctx.partition(),
        ctx.region
    )
}

/// Why `s` is not an IPv4 CIDR block in network form (`10.0.0.0/16`).
pub(crate) fn ipv4_cidr_problem(s: &str) -> Option<String> {
    let Some((ip, bits)) = s.split_once('/') else {
        return Some(format!(
            "{s:?} is not a valid CIDR block: missing prefix length"
        ));
    };
    let (Ok(ip), Ok(bits)) = (ip.parse::<Ipv4Addr>(), bits.parse::<u8>()) else {
        return Some(format!(
            "{s:?} is not a valid CIDR block: invalid CIDR address"
        ));
    };
    if bits > 32 {
        return Some(format!(
            "{s:?} is not a valid CIDR block: prefix length {bits} is more than 32"
        ));
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    let net = Ipv4Addr::from(u32::from(ip) & mask);
    (net != ip)
        .then(|| format!("{s:?} is not a valid IPv4 CIDR block; did you mean \"{net}/{bits}\"?"))
}

/// Why `s` is not an IPv6 CIDR block in network form.
pub(crate) fn ipv6_cidr_problem(s: &str) -> Option<String> {
    let Some((ip, bits)) = s.split_once('/') else {
        return Some(format!(
            "{s:?} is not a valid CIDR block: missing prefix length"
        ));
    };
    let (Ok(ip), Ok(bits)) = (ip.parse::<Ipv6Addr>(), bits.parse::<u8>()) else {
        return Some(format!(
            "{s:?} is not a valid CIDR block: invalid CIDR address"
        ));
    };
    if bits > 128 {
        return Some(format!(
            "{s:?} is not a valid CIDR block: prefix length {bits} is more than 128"
        ));
    }
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    let net = Ipv6Addr::from(u128::from(ip) & mask);
    (net != ip)
        .then(|| format!("{s:?} is not a valid IPv6 CIDR block; did you mean \"{net}/{bits}\"?"))
}

/// A plan-time error for a bad CIDR in a top-level attribute.
pub(crate) fn check_cidr(config: &Value, name: &str, v6: bool) -> Option<ProviderError> {
    let s = get_str(config, name)?;
    let problem = if v6 {
        ipv6_cidr_problem(s)
    } else {
        ipv4_cidr_problem(s)
    }?;
    Some(
        ProviderError::new(format!("invalid value for {name}"))
            .with_detail(problem)
            .at(path(name)),
    )
}

/// Applies the `tags_all` change from `prior` to `planned` to an EC2 object.
pub(crate) async fn update_tags(
    ctx: &Ctx,
    id: &str,
    what: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), ProviderError> {
    let (set_tags, removed) = tag_changes(prior, planned);
    ec2::delete_tags(&ctx.client, id, &removed)
        .await
        .map_err(aws_err(format!("untagging {what} ({id})")))?;
    ec2::create_tags(&ctx.client, id, &set_tags)
        .await
        .map_err(aws_err(format!("tagging {what} ({id})")))
}

/// Polls `check` until it answers `Some`: up to about `limit`, backing
/// off from 200ms to 5s. The timeout error names what was awaited.
pub(crate) async fn wait_for<T, F, Fut>(
    what: &str,
    limit: Duration,
    mut check: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        if let Some(t) = check().await? {
            return Ok(t);
        }
        if start.elapsed() > limit {
            return Err(
                ProviderError::new(format!("timeout while waiting for {what}"))
                    .with_detail(format!("still not done after {}s", limit.as_secs())),
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Deletes an object with `operation`, retrying while AWS refuses with
/// `DependencyViolation` (dependents still going away), as Terraform does.
pub(crate) async fn delete_with_retry(
    ctx: &Ctx,
    operation: &'static str,
    id_param: &str,
    id: &str,
    not_found: &[&str],
    what: &str,
) -> Result<(), ProviderError> {
    let client = &ctx.client;
    wait_for(
        &format!(
            "{what} to be deleted (AWS reports DependencyViolation: dependent objects remain)"
        ),
        Duration::from_secs(300),
        move || async move {
            match ec2::act_on(client, operation, id_param, id, not_found).await {
                Ok(()) => Ok(Some(())),
                Err(e) if e.is(&["DependencyViolation"]) => Ok(None),
                Err(e) => Err(aws_err(format!("deleting {what}"))(e)),
            }
        },
    )
    .await
}

/// The CRC-32 (IEEE) of `s`, as Terraform's string hash code computes it
/// for ids such as a route's `r-rtb-...NNN`.
pub(crate) fn hashcode(s: &str) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in s.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A known string attribute of a nested block object, `""` when unset
/// (how Terraform keeps unset strings inside set elements).
pub(crate) fn str_or_empty(obj: &Value, name: &str) -> String {
    get_str(obj, name).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_checks() {
        assert_eq!(ipv4_cidr_problem("10.0.0.0/16"), None);
        assert_eq!(ipv4_cidr_problem("0.0.0.0/0"), None);
        assert!(
            ipv4_cidr_problem("10.0.0.1/16")
                .unwrap()
                .contains("10.0.0.0/16")
        );
        assert!(ipv4_cidr_problem("10.0.0.0/33").is_some());
        assert!(ipv4_cidr_problem("10.0.0.0").is_some());
        assert!(ipv4_cidr_problem("banana/8").is_some());
        assert_eq!(ipv6_cidr_problem("2001:db8::/32"), None);
        assert!(ipv6_cidr_problem("2001:db8::1/32").is_some());
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32/ISO-HDLC check value.
        assert_eq!(hashcode("123456789"), 0xCBF4_3926);
    }
}
