//! EC2 and VPC checks in one region: security groups, the default group,
//! instance metadata (IMDSv1), EBS encryption by default, flow logs.

use std::collections::BTreeSet;

use gantry_aws::Client;
use gantry_aws::protocol::Params;
use gantry_aws::service::ec2::{self, IpPermission};
use gantry_aws::xml::Element;

use super::catalog::{
    DEFAULT_SG, EBS_DEFAULT_ENCRYPTION, IMDSV1, SG_ADMIN_PORTS, SG_ALL_PORTS, VPC_FLOW_LOGS,
};
use super::{Ctx, Out};

pub(crate) async fn run(ctx: &Ctx, region: &str, c: &Client) -> Out {
    let mut out = Out::default();
    security_groups(ctx, region, c, &mut out).await;
    instances(ctx, region, c, &mut out).await;
    match ec2::get_ebs_encryption_by_default(c).await {
        Ok(true) => {}
        Ok(false) => out.report(
            EBS_DEFAULT_ENCRYPTION,
            &ctx.regional(region),
            format!("EBS encryption by default is off in {region}"),
            "",
        ),
        Err(e) => out.failed(EBS_DEFAULT_ENCRYPTION, Some(region), None, &e),
    }
    flow_logs(ctx, region, c, &mut out).await;
    out
}

async fn security_groups(ctx: &Ctx, region: &str, c: &Client, out: &mut Out) {
    let groups = match ec2::describe_all(
        c,
        "DescribeSecurityGroups",
        &Params::new(),
        "securityGroupInfo",
    )
    .await
    {
        Ok(g) => g,
        Err(e) => {
            for id in [SG_ADMIN_PORTS, SG_ALL_PORTS, DEFAULT_SG] {
                out.failed(id, Some(region), None, &e);
            }
            return;
        }
    };
    for g in &groups {
        let id = g.text_at("groupId").unwrap_or_default();
        let name = g.text_at("groupName").unwrap_or_default();
        let arn = format!(
            "arn:{}:ec2:{region}:{}:security-group/{id}",
            ctx.partition, ctx.account
        );
        let ingress: Vec<IpPermission> = g
            .list("ipPermissions")
            .into_iter()
            .map(IpPermission::parse)
            .collect();
        let egress_count = g.list("ipPermissionsEgress").len();
        let open = open_to_world(&ingress);
        if !open.admin.is_empty() {
            out.report(
                SG_ADMIN_PORTS,
                &arn,
                format!(
                    "security group {id} ({name}) allows {}",
                    open.admin.join(", ")
                ),
                &open.admin.join(","),
            );
        }
        if !open.all.is_empty() {
            out.report(
                SG_ALL_PORTS,
                &arn,
                format!(
                    "security group {id} ({name}) allows {}",
                    open.all.join(", ")
                ),
                &open.all.join(","),
            );
        }
        if name == "default" && (!ingress.is_empty() || egress_count > 0) {
            let vpc = g.text_at("vpcId").unwrap_or("no VPC");
            out.report(
                DEFAULT_SG,
                &arn,
                format!(
                    "default security group {id} of {vpc} has {} inbound and {egress_count} outbound rules",
                    ingress.len()
                ),
                "",
            );
        }
    }
}

/// The world-open rules of a group's inbound permissions, described.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct OpenRules {
    /// Rules reaching port 22 or 3389 from anywhere.
    pub admin: Vec<String>,
    /// Rules reaching every port from anywhere.
    pub all: Vec<String>,
}

pub(crate) fn open_to_world(perms: &[IpPermission]) -> OpenRules {
    let mut open = OpenRules::default();
    for p in perms {
        let sources: Vec<&str> = p
            .cidr_ipv4
            .iter()
            .map(|(c, _)| c.as_str())
            .filter(|c| *c == "0.0.0.0/0")
            .chain(
                p.cidr_ipv6
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .filter(|c| *c == "::/0"),
            )
            .collect();
        if sources.is_empty() {
            continue;
        }
        let proto = p.protocol.to_ascii_lowercase();
        let any_protocol = matches!(proto.as_str(), "-1" | "all");
        let tcp = proto == "tcp" || proto == "6";
        let udp = proto == "udp" || proto == "17";
        let from = p.from_port.unwrap_or(0);
        let to = p.to_port.unwrap_or(65535);
        let from = if from < 0 { 0 } else { from };
        let to = if to < 0 { 65535 } else { to };
        let covers = |port: i64| from <= port && port <= to;
        let ports = if any_protocol {
            "all traffic".to_owned()
        } else if from == to {
            format!("{proto} port {from}")
        } else {
            format!("{proto} ports {from}-{to}")
        };
        for src in sources {
            let rule = format!("{ports} from {src}");
            if any_protocol || ((tcp || udp) && from <= 0 && to >= 65535) {
                open.all.push(rule.clone());
            }
            let ssh = (any_protocol || tcp) && covers(22);
            let rdp = (any_protocol || tcp || udp) && covers(3389);
            if ssh || rdp {
                open.admin.push(rule);
            }
        }
    }
    open
}

async fn instances(ctx: &Ctx, region: &str, c: &Client, out: &mut Out) {
    let list = match ec2::describe_instances(c).await {
        Ok(l) => l,
        Err(e) => return out.failed(IMDSV1, Some(region), None, &e),
    };
    for i in &list {
        let state = i.text_at("instanceState/name").unwrap_or_default();
        if matches!(state, "terminated" | "shutting-down") {
            continue;
        }
        let id = i.text_at("instanceId").unwrap_or_default();
        let arn = format!(
            "arn:{}:ec2:{region}:{}:instance/{id}",
            ctx.partition, ctx.account
        );
        if let Some(why) = imdsv1_allowed(i) {
            out.report(IMDSV1, &arn, format!("instance {id}: {why}"), "");
        }
    }
}

/// Why the instance answers IMDSv1 requests, or `None` when it does not.
pub(crate) fn imdsv1_allowed(instance: &Element) -> Option<String> {
    let Some(m) = instance.child("metadataOptions") else {
        return Some("no metadata options reported; IMDSv1 is allowed by default".into());
    };
    if m.text_at("httpEndpoint") == Some("disabled") {
        return None;
    }
    match m.text_at("httpTokens") {
        Some("required") => None,
        Some(t) => Some(format!("HttpTokens is {t:?}, not \"required\"")),
        None => Some("HttpTokens is not set, so session tokens are optional".into()),
    }
}

async fn flow_logs(ctx: &Ctx, region: &str, c: &Client, out: &mut Out) {
    let vpcs = match ec2::describe_all(c, "DescribeVpcs", &Params::new(), "vpcSet").await {
        Ok(v) => v,
        Err(e) => return out.failed(VPC_FLOW_LOGS, Some(region), None, &e),
    };
    let logs = match ec2::describe_all(c, "DescribeFlowLogs", &Params::new(), "flowLogSet").await {
        Ok(l) => l,
        Err(e) => return out.failed(VPC_FLOW_LOGS, Some(region), None, &e),
    };
    let covered: BTreeSet<&str> = logs
        .iter()
        .filter(|l| l.text_at("flowLogStatus").is_none_or(|s| s == "ACTIVE"))
        .filter_map(|l| l.text_at("resourceId"))
        .collect();
    for v in &vpcs {
        let id = v.text_at("vpcId").unwrap_or_default();
        if covered.contains(id) {
            continue;
        }
        let arn = format!(
            "arn:{}:ec2:{region}:{}:vpc/{id}",
            ctx.partition, ctx.account
        );
        let default = if v.text_at("isDefault") == Some("true") {
            " (the default VPC)"
        } else {
            ""
        };
        out.report(
            VPC_FLOW_LOGS,
            &arn,
            format!("VPC {id}{default} has no flow log"),
            "",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(
        proto: &str,
        from: Option<i64>,
        to: Option<i64>,
        v4: &[&str],
        v6: &[&str],
    ) -> IpPermission {
        IpPermission {
            protocol: proto.into(),
            from_port: from,
            to_port: to,
            cidr_ipv4: v4.iter().map(|c| ((*c).to_owned(), None)).collect(),
            cidr_ipv6: v6.iter().map(|c| ((*c).to_owned(), None)).collect(),
            ..IpPermission::default()
        }
    }

    #[test]
    fn world_open_rules() {
        let open = open_to_world(&[
            perm("tcp", Some(22), Some(22), &["0.0.0.0/0", "10.0.0.0/8"], &[]),
            perm("tcp", Some(443), Some(443), &["0.0.0.0/0"], &["::/0"]),
            perm("tcp", Some(3000), Some(4000), &[], &["::/0"]),
            perm("-1", None, None, &["10.0.0.0/8"], &[]),
        ]);
        assert_eq!(
            open,
            OpenRules {
                admin: vec![
                    "tcp port 22 from 0.0.0.0/0".into(),
                    "tcp ports 3000-4000 from ::/0".into()
                ],
                all: vec![],
            }
        );
        let open = open_to_world(&[
            perm("-1", None, None, &["0.0.0.0/0"], &[]),
            perm("udp", Some(0), Some(65535), &[], &["::/0"]),
            perm("udp", Some(22), Some(22), &["0.0.0.0/0"], &[]),
        ]);
        assert_eq!(
            open.all,
            vec!["all traffic from 0.0.0.0/0", "udp ports 0-65535 from ::/0"]
        );
        // udp 22 is not SSH; udp 0-65535 does reach RDP's udp 3389.
        assert_eq!(
            open.admin,
            vec!["all traffic from 0.0.0.0/0", "udp ports 0-65535 from ::/0"]
        );
    }

    #[test]
    fn imds_options() {
        let parse = |x: &str| gantry_aws::xml::parse(x.as_bytes()).unwrap();
        assert!(imdsv1_allowed(&parse(
            "<item><metadataOptions><httpTokens>required</httpTokens><httpEndpoint>enabled</httpEndpoint></metadataOptions></item>"
        ))
        .is_none());
        assert!(
            imdsv1_allowed(&parse(
                "<item><metadataOptions><httpTokens>optional</httpTokens></metadataOptions></item>"
            ))
            .unwrap()
            .contains("optional")
        );
        assert!(imdsv1_allowed(&parse(
            "<item><metadataOptions><httpTokens>optional</httpTokens><httpEndpoint>disabled</httpEndpoint></metadataOptions></item>"
        ))
        .is_none());
        assert!(imdsv1_allowed(&parse("<item><instanceId>i-1</instanceId></item>")).is_some());
    }
}
