//! The AWS checks over evaluated resource instances. Each check decides
//! only from known values: an attribute that is unknown until apply makes
//! the check pass silently rather than guess.

use std::collections::BTreeMap;

use gantry_iac::value::Value;

use super::TfResource;
use super::policy::{Stmt, block_list, document_statements, parse_policy};
use crate::finding::{Finding, Severity};
use crate::misconfig::catalog::{self as c, CheckInfo};
use crate::misconfig::{find_aws_key_id, literal_secret, report, secret_name};

/// What an attribute holds.
#[derive(Debug, Clone, Copy)]
enum F<'a> {
    Absent,
    Unknown,
    Val(&'a Value),
}

/// The attribute at a dotted path; a list of blocks on the way is entered
/// at its first element (a block that may appear once).
fn get<'a>(v: &'a Value, path: &str) -> F<'a> {
    let mut cur = v.unmarked();
    for step in path.split('.') {
        cur = match cur {
            Value::Unknown(_) => return F::Unknown,
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => match xs.first() {
                Some(x) => x.unmarked(),
                None => return F::Absent,
            },
            other => other,
        };
        cur = match cur {
            Value::Unknown(_) => return F::Unknown,
            Value::Object(m) | Value::Map(m) => match m.get(step) {
                Some(x) => x.unmarked(),
                None => return F::Absent,
            },
            _ => return F::Absent,
        };
    }
    match cur {
        Value::Null => F::Absent,
        Value::Unknown(_) => F::Unknown,
        v => F::Val(v),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum B {
    True,
    False,
    Absent,
    Unknown,
}

fn boolean(v: &Value, path: &str) -> B {
    match get(v, path) {
        F::Absent => B::Absent,
        F::Unknown => B::Unknown,
        F::Val(Value::Bool(b)) => {
            if *b {
                B::True
            } else {
                B::False
            }
        }
        F::Val(Value::String(s)) if s == "true" => B::True,
        F::Val(Value::String(s)) if s == "false" => B::False,
        F::Val(_) => B::Unknown,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S<'a> {
    Val(&'a str),
    Absent,
    Unknown,
}

fn string<'a>(v: &'a Value, path: &str) -> S<'a> {
    match get(v, path) {
        F::Absent => S::Absent,
        F::Val(Value::String(s)) => S::Val(s),
        _ => S::Unknown,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v.unmarked() {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list of strings; None when unknown.
fn strings(v: &Value, path: &str) -> Option<Vec<String>> {
    match get(v, path) {
        F::Absent => Some(Vec::new()),
        F::Unknown => None,
        F::Val(x) => match x {
            Value::String(s) => Some(vec![s.clone()]),
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                xs.iter().map(|x| x.as_str().map(str::to_owned)).collect()
            }
            _ => None,
        },
    }
}

struct Ctx<'r> {
    all: &'r [TfResource],
    by_type: BTreeMap<&'r str, Vec<&'r TfResource>>,
    out: Vec<Finding>,
}

impl<'r> Ctx<'r> {
    fn of(&self, type_name: &str) -> impl Iterator<Item = &'r TfResource> + '_ {
        self.by_type
            .get(type_name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|r| r.mode == "managed")
    }

    fn emit(
        &mut self,
        check: &CheckInfo,
        severity: Option<Severity>,
        r: &TfResource,
        message: String,
        evidence: &str,
    ) {
        self.out.push(report(
            check,
            severity,
            message,
            r.location.clone(),
            &r.address,
            evidence,
        ));
    }

    /// The companions of type `ty` (argument `arg`) that belong to
    /// `target`, and whether some companion's target cannot be told.
    fn companions(
        &self,
        ty: &str,
        arg: &str,
        target: &TfResource,
        target_ids: &[&str],
    ) -> (Vec<&'r TfResource>, bool) {
        let mut linked = Vec::new();
        let mut undecided = false;
        for comp in self.of(ty) {
            if comp.points_to(arg, target, target_ids) {
                linked.push(comp);
                continue;
            }
            let prefix = format!("{}.", target.type_name);
            let refers_to_type = comp.arg_refs(arg).any(|r| r.starts_with(&prefix));
            let known = matches!(string(&comp.values, arg), S::Val(_));
            if !known && !refers_to_type {
                undecided = true;
            }
        }
        (linked, undecided)
    }
}

/// Runs every Terraform check over evaluated resource instances.
pub fn check_resources(resources: &[TfResource]) -> Vec<Finding> {
    let mut by_type: BTreeMap<&str, Vec<&TfResource>> = BTreeMap::new();
    for r in resources {
        by_type.entry(r.type_name.as_str()).or_default().push(r);
    }
    let mut cx = Ctx {
        all: resources,
        by_type,
        out: Vec::new(),
    };
    s3(&mut cx);
    ebs_ec2(&mut cx);
    rds(&mut cx);
    security_groups(&mut cx);
    iam(&mut cx);
    logging_and_keys(&mut cx);
    secrets(&mut cx);
    messaging_and_ecr(&mut cx);
    let mut out = cx.out;
    out.sort_by(|a, b| {
        (
            &a.location.as_ref().map(|l| (&l.path, l.line)),
            &a.rule_id,
            &a.resource,
        )
            .cmp(&(
                &b.location.as_ref().map(|l| (&l.path, l.line)),
                &b.rule_id,
                &b.resource,
            ))
    });
    out
}

const PUBLIC_ACLS: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];

fn s3(cx: &mut Ctx<'_>) {
    // Public ACLs, inline or separate.
    let acl_holders: Vec<&TfResource> = cx
        .of("aws_s3_bucket")
        .chain(cx.of("aws_s3_bucket_acl"))
        .collect();
    for r in acl_holders {
        if let S::Val(acl) = string(&r.values, "acl")
            && PUBLIC_ACLS.contains(&acl)
        {
            let sev = (acl == "public-read-write").then_some(Severity::Critical);
            cx.emit(
                &c::S3_PUBLIC_ACL,
                sev,
                r,
                format!("{} sets the canned ACL {acl:?}", r.address),
                acl,
            );
            continue;
        }
        let grants = match get(&r.values, "access_control_policy") {
            F::Val(acp) => block_list(Some(acp))
                .into_iter()
                .flat_map(|a| {
                    block_list(a.get_attr("grant").as_ref())
                        .into_iter()
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<Value>>(),
            _ => Vec::new(),
        };
        for g in &grants {
            if let S::Val(uri) = string(g, "grantee.uri")
                && (uri.ends_with("/global/AllUsers")
                    || uri.ends_with("/global/AuthenticatedUsers"))
            {
                let perm = match string(g, "permission") {
                    S::Val(p) => p.to_owned(),
                    _ => "some".to_owned(),
                };
                let sev = matches!(perm.as_str(), "WRITE" | "FULL_CONTROL" | "WRITE_ACP")
                    .then_some(Severity::Critical);
                cx.emit(
                    &c::S3_PUBLIC_ACL,
                    sev,
                    r,
                    format!("{} grants {perm} access to {uri}", r.address),
                    uri,
                );
                break;
            }
        }
    }
    // Public bucket policies.
    let policy_holders: Vec<&TfResource> = cx
        .of("aws_s3_bucket_policy")
        .chain(cx.of("aws_s3_bucket"))
        .collect();
    for r in policy_holders {
        let S::Val(text) = string(&r.values, "policy") else {
            continue;
        };
        let Some(stmts) = parse_policy(text) else {
            continue;
        };
        if let Some(s) = stmts
            .iter()
            .find(|s| s.allow && s.any_principal && !s.has_condition)
        {
            cx.emit(
                &c::S3_PUBLIC_POLICY,
                None,
                r,
                format!(
                    "{}: a policy statement allows {} to any principal without a condition",
                    r.address,
                    s.actions.join(", ")
                ),
                &s.actions.join(","),
            );
        }
    }
    // Public access blocks with a setting off.
    let pabs: Vec<&TfResource> = cx
        .of("aws_s3_bucket_public_access_block")
        .chain(cx.of("aws_s3_account_public_access_block"))
        .collect();
    let mut account_pab = false;
    for r in &pabs {
        let mut off = Vec::new();
        for flag in [
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ] {
            if matches!(boolean(&r.values, flag), B::False | B::Absent) {
                off.push(flag);
            }
        }
        if r.type_name == "aws_s3_account_public_access_block" && off.is_empty() {
            account_pab = true;
        }
        if !off.is_empty() {
            cx.emit(
                &c::S3_PAB_DISABLED,
                None,
                r,
                format!("{}: {} not true", r.address, off.join(", ")),
                &off.join(","),
            );
        }
    }
    let buckets: Vec<&TfResource> = cx.of("aws_s3_bucket").collect();
    let ids: &[&str] = &["bucket", "id"];
    for b in buckets {
        let addr = &b.address;
        if !account_pab {
            let (linked, undecided) =
                cx.companions("aws_s3_bucket_public_access_block", "bucket", b, ids);
            if linked.is_empty() && !undecided {
                cx.emit(
                    &c::S3_NO_PAB,
                    None,
                    b,
                    format!("{addr} has no aws_s3_bucket_public_access_block"),
                    "",
                );
            }
        }
        // Encryption.
        let inline_sse = match get(&b.values, "server_side_encryption_configuration") {
            F::Val(v) => !block_list(Some(v)).is_empty(),
            F::Unknown => true,
            F::Absent => false,
        };
        if !inline_sse {
            let (linked, undecided) = cx.companions(
                "aws_s3_bucket_server_side_encryption_configuration",
                "bucket",
                b,
                ids,
            );
            if linked.is_empty() && !undecided {
                cx.emit(
                    &c::S3_NO_ENCRYPTION,
                    None,
                    b,
                    format!("{addr} declares no server-side encryption configuration"),
                    "",
                );
            }
        }
        // Versioning.
        match boolean(&b.values, "versioning.enabled") {
            B::True | B::Unknown => {}
            B::False | B::Absent => {
                let (linked, undecided) =
                    cx.companions("aws_s3_bucket_versioning", "bucket", b, ids);
                let mut status = None;
                let mut enabled = false;
                let mut unknown = undecided;
                for v in &linked {
                    match string(&v.values, "versioning_configuration.status") {
                        S::Val("Enabled") => enabled = true,
                        S::Val(s) => status = Some(s.to_owned()),
                        S::Unknown => unknown = true,
                        S::Absent => {}
                    }
                }
                if !enabled && !unknown {
                    let msg = match status {
                        Some(s) => format!("{addr}: versioning status is {s:?}"),
                        None => format!("{addr} does not enable versioning"),
                    };
                    cx.emit(&c::S3_NO_VERSIONING, None, b, msg, "");
                }
            }
        }
        // Access logging (log target buckets themselves are not asked to log).
        let is_log_target = cx
            .of("aws_s3_bucket_logging")
            .any(|l| l.points_to("target_bucket", b, ids))
            || cx
                .of("aws_s3_bucket")
                .any(|o| o.module == b.module && logging_target_is(o, b));
        let inline_logging = !matches!(get(&b.values, "logging"), F::Absent);
        if !inline_logging && !is_log_target {
            let (linked, undecided) = cx.companions("aws_s3_bucket_logging", "bucket", b, ids);
            if linked.is_empty() && !undecided {
                cx.emit(
                    &c::S3_NO_LOGGING,
                    None,
                    b,
                    format!("{addr} has no access logging"),
                    "",
                );
            }
        }
    }
}

/// Whether bucket `o`'s inline logging block targets bucket `b`.
fn logging_target_is(o: &TfResource, b: &TfResource) -> bool {
    match (
        string(&o.values, "logging.target_bucket"),
        string(&b.values, "bucket"),
    ) {
        (S::Val(t), S::Val(name)) => t == name,
        _ => false,
    }
}

fn ebs_ec2(cx: &mut Ctx<'_>) {
    let default_on = cx
        .of("aws_ebs_encryption_by_default")
        .any(|r| matches!(boolean(&r.values, "enabled"), B::True | B::Absent));
    let defaults: Vec<&TfResource> = cx.of("aws_ebs_encryption_by_default").collect();
    for r in defaults {
        if boolean(&r.values, "enabled") == B::False {
            cx.emit(
                &c::EBS_DEFAULT_ENCRYPTION_OFF,
                None,
                r,
                format!("{}: enabled = false", r.address),
                "",
            );
        }
    }
    let vols: Vec<&TfResource> = cx.of("aws_ebs_volume").collect();
    for r in vols {
        let e = boolean(&r.values, "encrypted");
        if e == B::False || (e == B::Absent && !default_on) {
            cx.emit(
                &c::EBS_UNENCRYPTED,
                None,
                r,
                format!("{} is not encrypted", r.address),
                "",
            );
        }
    }
    let hosts: Vec<&TfResource> = cx
        .of("aws_instance")
        .chain(cx.of("aws_launch_configuration"))
        .chain(cx.of("aws_launch_template"))
        .collect();
    for r in hosts {
        // Block devices.
        let mut devices: Vec<(String, B)> = Vec::new();
        for kind in ["root_block_device", "ebs_block_device"] {
            for d in block_list(r.values.get_attr(kind).as_ref()) {
                devices.push((kind.to_owned(), boolean(d, "encrypted")));
            }
        }
        for m in block_list(r.values.get_attr("block_device_mappings").as_ref()) {
            for e in block_list(m.get_attr("ebs").as_ref()) {
                devices.push((
                    "block_device_mappings.ebs".to_owned(),
                    boolean(e, "encrypted"),
                ));
            }
        }
        if let Some((kind, _)) = devices
            .iter()
            .find(|(_, e)| *e == B::False || (*e == B::Absent && !default_on))
        {
            cx.emit(
                &c::EC2_BLOCK_UNENCRYPTED,
                None,
                r,
                format!("{}: a {kind} is not encrypted", r.address),
                kind,
            );
        }
        // IMDSv1.
        let endpoint_off =
            string(&r.values, "metadata_options.http_endpoint") == S::Val("disabled");
        match string(&r.values, "metadata_options.http_tokens") {
            S::Val("required") | S::Unknown => {}
            _ if endpoint_off => {}
            other => {
                let what = match other {
                    S::Val(v) => format!("http_tokens is {v:?}"),
                    _ => "metadata_options.http_tokens is not set".to_owned(),
                };
                cx.emit(
                    &c::IMDSV1,
                    None,
                    r,
                    format!("{}: {what}, so IMDSv1 is allowed", r.address),
                    "",
                );
            }
        }
        // Public IP.
        let public = boolean(&r.values, "associate_public_ip_address") == B::True
            || block_list(r.values.get_attr("network_interfaces").as_ref())
                .iter()
                .any(|n| boolean(n, "associate_public_ip_address") == B::True);
        if public {
            cx.emit(
                &c::EC2_PUBLIC_IP,
                None,
                r,
                format!("{} associates a public IP address", r.address),
                "",
            );
        }
    }
}

fn rds(cx: &mut Ctx<'_>) {
    let dbs: Vec<&TfResource> = cx.of("aws_db_instance").collect();
    for r in dbs {
        let replica = !matches!(get(&r.values, "replicate_source_db"), F::Absent);
        if !replica
            && matches!(
                boolean(&r.values, "storage_encrypted"),
                B::False | B::Absent
            )
        {
            cx.emit(
                &c::RDS_UNENCRYPTED,
                None,
                r,
                format!("{} does not set storage_encrypted = true", r.address),
                "",
            );
        }
    }
    let clusters: Vec<&TfResource> = cx.of("aws_rds_cluster").collect();
    for r in clusters {
        let serverless_v1 = string(&r.values, "engine_mode") == S::Val("serverless");
        let replica = !matches!(get(&r.values, "replication_source_identifier"), F::Absent);
        if !serverless_v1
            && !replica
            && matches!(
                boolean(&r.values, "storage_encrypted"),
                B::False | B::Absent
            )
        {
            cx.emit(
                &c::RDS_CLUSTER_UNENCRYPTED,
                None,
                r,
                format!("{} does not set storage_encrypted = true", r.address),
                "",
            );
        }
    }
    let public: Vec<&TfResource> = cx
        .of("aws_db_instance")
        .chain(cx.of("aws_rds_cluster_instance"))
        .collect();
    for r in public {
        if boolean(&r.values, "publicly_accessible") == B::True {
            cx.emit(
                &c::RDS_PUBLIC,
                None,
                r,
                format!("{} sets publicly_accessible = true", r.address),
                "",
            );
        }
    }
}

/// One ingress rule: protocol, ports, sources.
struct Rule {
    protocol: String,
    from: Option<f64>,
    to: Option<f64>,
    /// None when unknown.
    cidrs: Option<Vec<String>>,
}

fn protocol(v: &Value, path: &str) -> Option<String> {
    match get(v, path) {
        F::Absent => Some("-1".into()),
        F::Unknown => None,
        F::Val(x) => {
            let p = match x {
                Value::Number(n) => gantry_iac::value::format_number(*n),
                Value::String(s) => s.to_ascii_lowercase(),
                _ => return None,
            };
            Some(match p.as_str() {
                "all" | "-1" => "-1".into(),
                "6" => "tcp".into(),
                "17" => "udp".into(),
                "1" => "icmp".into(),
                "58" => "icmpv6".into(),
                _ => p,
            })
        }
    }
}

fn port(v: &Value, path: &str) -> Option<f64> {
    match get(v, path) {
        F::Val(x) => number(x),
        _ => None,
    }
}

fn rule_of(v: &Value, proto_field: &str, cidr_fields: &[&str]) -> Option<Rule> {
    let protocol = protocol(v, proto_field)?;
    let mut cidrs = Some(Vec::new());
    for f in cidr_fields {
        match (strings(v, f), cidrs.as_mut()) {
            (Some(xs), Some(all)) => all.extend(xs),
            _ => cidrs = None,
        }
    }
    Some(Rule {
        protocol,
        from: port(v, "from_port"),
        to: port(v, "to_port"),
        cidrs,
    })
}

fn security_groups(cx: &mut Ctx<'_>) {
    let mut rules: Vec<(&TfResource, Rule)> = Vec::new();
    for ty in ["aws_security_group", "aws_default_security_group"] {
        for r in cx.of(ty) {
            for b in block_list(r.values.get_attr("ingress").as_ref()) {
                if let Some(rule) = rule_of(b, "protocol", &["cidr_blocks", "ipv6_cidr_blocks"]) {
                    rules.push((r, rule));
                }
            }
        }
    }
    for r in cx.of("aws_security_group_rule") {
        if string(&r.values, "type") != S::Val("ingress") {
            continue;
        }
        if let Some(rule) = rule_of(&r.values, "protocol", &["cidr_blocks", "ipv6_cidr_blocks"]) {
            rules.push((r, rule));
        }
    }
    for r in cx.of("aws_vpc_security_group_ingress_rule") {
        if let Some(rule) = rule_of(&r.values, "ip_protocol", &["cidr_ipv4", "cidr_ipv6"]) {
            rules.push((r, rule));
        }
    }
    let mut seen: Vec<(String, &'static str)> = Vec::new();
    for (r, rule) in rules {
        let Some(cidrs) = &rule.cidrs else { continue };
        let Some(world) = cidrs.iter().find(|c| *c == "0.0.0.0/0" || *c == "::/0") else {
            continue;
        };
        if rule.protocol.starts_with("icmp") {
            continue;
        }
        let all_proto = rule.protocol == "-1";
        let (from, to) = match (rule.from, rule.to) {
            (Some(f), Some(t)) => (f, t),
            _ if all_proto => (0.0, 65535.0),
            _ => continue,
        };
        let mut hits: Vec<(&CheckInfo, String)> = Vec::new();
        if all_proto || (from <= 0.0 && to >= 65535.0) || (from < 0.0 && to < 0.0) {
            hits.push((&c::SG_ALL_WORLD, format!("all ports are open to {world}")));
        } else {
            let covers = |p: f64| from <= p && p <= to;
            if covers(22.0) && rule.protocol != "udp" {
                hits.push((&c::SG_SSH_WORLD, format!("port 22 is open to {world}")));
            }
            if covers(3389.0) {
                hits.push((&c::SG_RDP_WORLD, format!("port 3389 is open to {world}")));
            }
            let web_only = (from == 80.0 || from == 443.0) && from == to;
            if hits.is_empty() && !web_only {
                let ports = if from == to {
                    format!("port {}", gantry_iac::value::format_number(from))
                } else {
                    format!(
                        "ports {}-{}",
                        gantry_iac::value::format_number(from),
                        gantry_iac::value::format_number(to)
                    )
                };
                hits.push((&c::SG_PORT_WORLD, format!("{ports} are open to {world}")));
            }
        }
        for (check, what) in hits {
            let key = (format!("{}|{what}", r.address), check.id);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            cx.emit(
                check,
                None,
                r,
                format!("{}: {what} ({})", r.address, rule.protocol),
                &what,
            );
        }
    }
    // The default security group should have no rules.
    let defaults: Vec<&TfResource> = cx.of("aws_default_security_group").collect();
    for r in &defaults {
        let mut n = 0;
        let mut unknown = false;
        for kind in ["ingress", "egress"] {
            match get(&r.values, kind) {
                F::Unknown => unknown = true,
                F::Val(v) => n += block_list(Some(v)).len(),
                F::Absent => {}
            }
        }
        if n > 0 && !unknown {
            cx.emit(
                &c::DEFAULT_SG_RULES,
                None,
                r,
                format!("{} has {n} rule(s)", r.address),
                "",
            );
        }
    }
    let rules_on_default: Vec<&TfResource> = cx
        .of("aws_security_group_rule")
        .chain(cx.of("aws_vpc_security_group_ingress_rule"))
        .chain(cx.of("aws_vpc_security_group_egress_rule"))
        .filter(|r| {
            r.refs.get("security_group_id").is_some_and(|rs| {
                rs.iter()
                    .any(|x| x.starts_with("aws_default_security_group."))
            })
        })
        .collect();
    for r in rules_on_default {
        cx.emit(
            &c::DEFAULT_SG_RULES,
            None,
            r,
            format!("{} adds a rule to the default security group", r.address),
            "",
        );
    }
}

fn read_only(action: &str) -> bool {
    let verb = action.rsplit(':').next().unwrap_or(action);
    [
        "Get", "List", "Describe", "BatchGet", "Head", "View", "Search", "Query", "Select", "Scan",
    ]
    .iter()
    .any(|p| verb.starts_with(p) && verb != "*")
}

fn policy_findings(cx: &mut Ctx<'_>, r: &TfResource, stmts: &[Stmt]) {
    let allows: Vec<&Stmt> = stmts
        .iter()
        .filter(|s| s.allow && !s.any_principal)
        .collect();
    let star_res = |s: &Stmt| s.resources.iter().any(|x| x == "*");
    if let Some(s) = allows
        .iter()
        .find(|s| !s.not_action && s.actions.iter().any(|a| a == "*" || a == "*:*") && star_res(s))
    {
        let _ = s;
        cx.emit(
            &c::IAM_ADMIN,
            None,
            r,
            format!("{} allows Action \"*\" on Resource \"*\"", r.address),
            "*",
        );
        return;
    }
    if let Some(s) = allows
        .iter()
        .find(|s| s.not_action || s.actions.iter().any(|a| a == "*" || a.ends_with(":*")))
    {
        let what = if s.not_action {
            format!("Allow with NotAction {}", s.actions.join(", "))
        } else {
            let w: Vec<&str> = s
                .actions
                .iter()
                .filter(|a| *a == "*" || a.ends_with(":*"))
                .map(String::as_str)
                .collect();
            format!("wildcard action(s) {}", w.join(", "))
        };
        cx.emit(
            &c::IAM_WILDCARD_ACTION,
            None,
            r,
            format!("{} allows {what}", r.address),
            &what,
        );
        return;
    }
    if let Some(s) = allows
        .iter()
        .find(|s| star_res(s) && s.actions.iter().any(|a| !read_only(a)))
    {
        let writes: Vec<&str> = s
            .actions
            .iter()
            .filter(|a| !read_only(a))
            .map(String::as_str)
            .collect();
        cx.emit(
            &c::IAM_WILDCARD_RESOURCE,
            None,
            r,
            format!(
                "{} allows {} on Resource \"*\"",
                r.address,
                writes.join(", ")
            ),
            &writes.join(","),
        );
    }
}

const ADMIN_ARN_SUFFIX: &str = ":iam::aws:policy/AdministratorAccess";

fn iam(cx: &mut Ctx<'_>) {
    let mut holders: Vec<&TfResource> = Vec::new();
    for ty in [
        "aws_iam_policy",
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
    ] {
        holders.extend(cx.of(ty));
    }
    for r in holders {
        if let S::Val(text) = string(&r.values, "policy")
            && let Some(stmts) = parse_policy(text)
        {
            policy_findings(cx, r, &stmts);
        }
    }
    let roles: Vec<&TfResource> = cx.of("aws_iam_role").collect();
    for r in &roles {
        for p in block_list(r.values.get_attr("inline_policy").as_ref()) {
            if let S::Val(text) = string(p, "policy")
                && let Some(stmts) = parse_policy(text)
            {
                policy_findings(cx, r, &stmts);
            }
        }
        if let Some(arns) = strings(&r.values, "managed_policy_arns")
            && arns.iter().any(|a| a.ends_with(ADMIN_ARN_SUFFIX))
        {
            cx.emit(
                &c::IAM_ADMIN_ATTACHED,
                None,
                r,
                format!("{} has the AdministratorAccess managed policy", r.address),
                "",
            );
        }
    }
    let docs: Vec<&TfResource> = cx
        .by_type
        .get("aws_iam_policy_document")
        .into_iter()
        .flatten()
        .copied()
        .filter(|r| r.mode == "data")
        .collect();
    for d in docs {
        policy_findings(cx, d, &document_statements(&d.values));
    }
    let mut attachments: Vec<&TfResource> = Vec::new();
    for ty in [
        "aws_iam_role_policy_attachment",
        "aws_iam_user_policy_attachment",
        "aws_iam_group_policy_attachment",
        "aws_iam_policy_attachment",
    ] {
        attachments.extend(cx.of(ty));
    }
    for r in attachments {
        if let S::Val(arn) = string(&r.values, "policy_arn")
            && arn.ends_with(ADMIN_ARN_SUFFIX)
        {
            cx.emit(
                &c::IAM_ADMIN_ATTACHED,
                None,
                r,
                format!("{} attaches {arn}", r.address),
                arn,
            );
        }
    }
}

fn logging_and_keys(cx: &mut Ctx<'_>) {
    let trails: Vec<&TfResource> = cx.of("aws_cloudtrail").collect();
    for r in trails {
        let a = &r.address;
        if matches!(
            boolean(&r.values, "is_multi_region_trail"),
            B::False | B::Absent
        ) {
            cx.emit(
                &c::CLOUDTRAIL_SINGLE_REGION,
                None,
                r,
                format!("{a} is not multi-region"),
                "",
            );
        }
        if matches!(
            boolean(&r.values, "enable_log_file_validation"),
            B::False | B::Absent
        ) {
            cx.emit(
                &c::CLOUDTRAIL_NO_VALIDATION,
                None,
                r,
                format!("{a} does not validate log files"),
                "",
            );
        }
        if matches!(get(&r.values, "kms_key_id"), F::Absent) {
            cx.emit(
                &c::CLOUDTRAIL_NO_KMS,
                None,
                r,
                format!("{a} has no kms_key_id"),
                "",
            );
        }
    }
    let keys: Vec<&TfResource> = cx.of("aws_kms_key").collect();
    for r in keys {
        let symmetric = matches!(
            string(&r.values, "customer_master_key_spec"),
            S::Absent | S::Val("SYMMETRIC_DEFAULT")
        );
        if symmetric
            && matches!(
                boolean(&r.values, "enable_key_rotation"),
                B::False | B::Absent
            )
        {
            cx.emit(
                &c::KMS_NO_ROTATION,
                None,
                r,
                format!("{} does not enable key rotation", r.address),
                "",
            );
        }
    }
    let vpcs: Vec<&TfResource> = cx.of("aws_vpc").collect();
    for v in vpcs {
        let (linked, undecided) = cx.companions("aws_flow_log", "vpc_id", v, &["id"]);
        if linked.is_empty() && !undecided {
            cx.emit(
                &c::VPC_NO_FLOW_LOGS,
                None,
                v,
                format!("no aws_flow_log captures {}", v.address),
                "",
            );
        }
    }
    let groups: Vec<&TfResource> = cx.of("aws_cloudwatch_log_group").collect();
    for r in groups {
        let a = &r.address;
        match get(&r.values, "retention_in_days") {
            F::Absent => cx.emit(
                &c::LOG_GROUP_NO_RETENTION,
                None,
                r,
                format!("{a} does not set retention_in_days"),
                "",
            ),
            F::Val(v) => {
                if let Some(n) = number(v)
                    && n > 0.0
                    && n < 365.0
                {
                    cx.emit(
                        &c::LOG_GROUP_SHORT_RETENTION,
                        None,
                        r,
                        format!(
                            "{a} keeps events for {} days",
                            gantry_iac::value::format_number(n)
                        ),
                        "",
                    );
                }
            }
            F::Unknown => {}
        }
        if matches!(get(&r.values, "kms_key_id"), F::Absent) {
            cx.emit(
                &c::LOG_GROUP_NO_KMS,
                None,
                r,
                format!("{a} has no kms_key_id"),
                "",
            );
        }
    }
}

/// A secret assignment in a script: `AWS_SECRET_ACCESS_KEY=...`,
/// `password: ...`; the variable name when found.
fn script_secret(text: &str) -> Option<String> {
    if let Some(i) = find_aws_key_id(text) {
        return Some(format!("AWS access key {}…", &text[i..i + 4]));
    }
    for line in text.lines() {
        let line = line.trim().trim_start_matches("export ");
        let Some((name, value)) = line.split_once('=').or_else(|| line.split_once(": ")) else {
            continue;
        };
        let name = name.trim();
        if name.is_empty()
            || name.contains(' ')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        if secret_name(name) && literal_secret(value) {
            return Some(name.to_owned());
        }
    }
    None
}

/// The text a base64 string decodes to, when it is base64 of UTF-8.
fn decode_base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    let compact: String = s.split_whitespace().collect();
    if compact.len() < 8 || !compact.len().is_multiple_of(4) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn secrets(cx: &mut Ctx<'_>) {
    let providers: Vec<&TfResource> = cx
        .all
        .iter()
        .filter(|r| r.mode == "provider" && r.type_name == "aws")
        .collect();
    for p in providers {
        let mut set = Vec::new();
        for k in ["access_key", "secret_key"] {
            if let S::Val(v) = string(&p.values, k)
                && !v.is_empty()
            {
                set.push(k);
            }
        }
        if !set.is_empty() {
            cx.emit(
                &c::PROVIDER_CREDENTIALS,
                None,
                p,
                format!(
                    "{} sets {} to a literal value",
                    p.address,
                    set.join(" and ")
                ),
                &set.join(","),
            );
        }
    }
    let hosts: Vec<&TfResource> = cx
        .of("aws_instance")
        .chain(cx.of("aws_launch_configuration"))
        .chain(cx.of("aws_launch_template"))
        .collect();
    for r in hosts {
        let found = ["user_data", "user_data_base64"].iter().find_map(|field| {
            let S::Val(ud) = string(&r.values, field) else {
                return None;
            };
            // Launch templates (and `base64encode(...)`) carry user data
            // base64-encoded: look at the decoded script too.
            script_secret(ud).or_else(|| decode_base64(ud).and_then(|t| script_secret(&t)))
        });
        if let Some(what) = found {
            cx.emit(
                &c::USER_DATA_SECRETS,
                None,
                r,
                format!("{}: user_data contains {what}", r.address),
                &what,
            );
        }
    }
    let lambdas: Vec<&TfResource> = cx.of("aws_lambda_function").collect();
    for r in lambdas {
        let vars = match get(&r.values, "environment.variables") {
            F::Val(v) => v.as_map().cloned().unwrap_or_default(),
            _ => continue,
        };
        let mut names: Vec<String> = Vec::new();
        for (k, v) in &vars {
            if let Some(s) = v.as_str()
                && ((secret_name(k) && literal_secret(s)) || find_aws_key_id(s).is_some())
            {
                names.push(k.clone());
            }
        }
        if !names.is_empty() {
            cx.emit(
                &c::LAMBDA_ENV_SECRETS,
                None,
                r,
                format!(
                    "{}: environment variable(s) {} hold literal secrets",
                    r.address,
                    names.join(", ")
                ),
                &names.join(","),
            );
        }
    }
}

fn messaging_and_ecr(cx: &mut Ctx<'_>) {
    let queues: Vec<&TfResource> = cx.of("aws_sqs_queue").collect();
    for r in queues {
        // SQS-managed SSE is on by default for new queues; only an explicit
        // `false` without a KMS key leaves a queue unencrypted.
        if matches!(get(&r.values, "kms_master_key_id"), F::Absent)
            && boolean(&r.values, "sqs_managed_sse_enabled") == B::False
        {
            cx.emit(
                &c::SQS_UNENCRYPTED,
                None,
                r,
                format!("{} disables SSE and has no KMS key", r.address),
                "",
            );
        }
    }
    let topics: Vec<&TfResource> = cx.of("aws_sns_topic").collect();
    for r in topics {
        if matches!(get(&r.values, "kms_master_key_id"), F::Absent) {
            cx.emit(
                &c::SNS_UNENCRYPTED,
                None,
                r,
                format!("{} has no kms_master_key_id", r.address),
                "",
            );
        }
    }
    let repos: Vec<&TfResource> = cx.of("aws_ecr_repository").collect();
    for r in repos {
        if matches!(
            boolean(&r.values, "image_scanning_configuration.scan_on_push"),
            B::False | B::Absent
        ) {
            cx.emit(
                &c::ECR_NO_SCAN,
                None,
                r,
                format!("{} does not scan images on push", r.address),
                "",
            );
        }
        match string(&r.values, "image_tag_mutability") {
            S::Val(m) if m.starts_with("IMMUTABLE") => {}
            S::Unknown => {}
            _ => cx.emit(
                &c::ECR_MUTABLE_TAGS,
                None,
                r,
                format!("{} has mutable image tags", r.address),
                "",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_secrets() {
        assert!(script_secret("export AWS_SECRET_ACCESS_KEY=abcd1234abcd").is_some());
        assert!(script_secret("echo AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(script_secret("DB_PASSWORD=$(aws ssm get-parameter)").is_none());
        assert!(script_secret("#!/bin/bash\napt-get update\n").is_none());
        assert!(script_secret("DB_PASSWORD=${PW}").is_none());
    }

    #[test]
    fn read_only_actions() {
        assert!(read_only("s3:GetObject"));
        assert!(read_only("ec2:DescribeInstances"));
        assert!(!read_only("s3:PutObject"));
        assert!(!read_only("*"));
    }
}
