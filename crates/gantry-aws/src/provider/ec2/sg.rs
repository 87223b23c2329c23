//! aws_security_group (with inline `ingress`/`egress` rules),
//! aws_vpc_security_group_ingress_rule and
//! aws_vpc_security_group_egress_rule.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{PathStep, Type, Value};

use super::super::values::{
    attr, blocks, get_bool, get_int, get_str, get_strings, null_object, object, opt_string,
    req_str, set, string_map,
};
use super::super::{Ctx, ResourceType, aws_err, block, path, planned_tags};
use super::{arn, delete_with_retry, ipv4_cidr_problem, ipv6_cidr_problem, update_tags, wait_for};
use crate::protocol::Params;
use crate::service::ec2::{self, IpPermission, RuleRequest, text};
use crate::xml::Element;

pub(super) fn resources() -> super::super::Resources {
    vec![
        ("aws_security_group", Box::new(SecurityGroup)),
        (
            "aws_vpc_security_group_ingress_rule",
            Box::new(Rule { egress: false }),
        ),
        (
            "aws_vpc_security_group_egress_rule",
            Box::new(Rule { egress: true }),
        ),
    ]
}

/// Protocols as Terraform keeps them: `-1` for all, names for the
/// well-known numbers, otherwise as given (lowercase).
pub(crate) fn normalise_protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.to_owned(),
    }
}

/// The kinds of peer a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Ipv4,
    Ipv6,
    PrefixList,
    Group,
}

/// One peer of one permission: the unit AWS authorizes and revokes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    protocol: String,
    from: i64,
    to: i64,
    peer: Peer,
    target: String,
    description: String,
}

impl Atom {
    fn permission(&self) -> IpPermission {
        let d = (!self.description.is_empty()).then(|| self.description.clone());
        let one = vec![(self.target.clone(), d)];
        let mut p = IpPermission {
            protocol: self.protocol.clone(),
            from_port: (self.protocol != "-1").then_some(self.from),
            to_port: (self.protocol != "-1").then_some(self.to),
            ..IpPermission::default()
        };
        match self.peer {
            Peer::Ipv4 => p.cidr_ipv4 = one,
            Peer::Ipv6 => p.cidr_ipv6 = one,
            Peer::PrefixList => p.prefix_lists = one,
            Peer::Group => p.groups = one,
        }
        p
    }
}

/// A security group id from `sg-...` or `owner/sg-...`.
fn group_id(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The atoms of an inline rule (already normalised); `own` is the
/// group's id for `self = true`.
fn rule_atoms(rule: &Value, own: &str) -> Vec<Atom> {
    let protocol = normalise_protocol(get_str(rule, "protocol").unwrap_or("-1"));
    let from = get_int(rule, "from_port").unwrap_or(0);
    let to = get_int(rule, "to_port").unwrap_or(0);
    let description = get_str(rule, "description").unwrap_or_default().to_owned();
    let mut out = Vec::new();
    let mut add = |peer: Peer, target: String| {
        out.push(Atom {
            protocol: protocol.clone(),
            from,
            to,
            peer,
            target,
            description: description.clone(),
        });
    };
    for c in get_strings(rule, "cidr_blocks") {
        add(Peer::Ipv4, c);
    }
    for c in get_strings(rule, "ipv6_cidr_blocks") {
        add(Peer::Ipv6, c);
    }
    for c in get_strings(rule, "prefix_list_ids") {
        add(Peer::PrefixList, c);
    }
    for g in get_strings(rule, "security_groups") {
        add(Peer::Group, group_id(&g).to_owned());
    }
    if get_bool(rule, "self") == Some(true) {
        add(Peer::Group, own.to_owned());
    }
    out
}

/// The atoms of the permissions AWS reports.
fn permission_atoms(perms: &[IpPermission]) -> Vec<Atom> {
    let mut out = Vec::new();
    for p in perms {
        let protocol = normalise_protocol(&p.protocol);
        let lists = [
            (Peer::Ipv4, &p.cidr_ipv4),
            (Peer::Ipv6, &p.cidr_ipv6),
            (Peer::PrefixList, &p.prefix_lists),
            (Peer::Group, &p.groups),
        ];
        for (peer, items) in lists {
            for (target, d) in items {
                out.push(Atom {
                    protocol: protocol.clone(),
                    from: p.from_port.unwrap_or(0),
                    to: p.to_port.unwrap_or(0),
                    peer,
                    target: if peer == Peer::Group {
                        group_id(target).to_owned()
                    } else {
                        target.clone()
                    },
                    description: d.clone().unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn strings(xs: Vec<String>) -> Value {
    Value::List(xs.into_iter().map(Value::String).collect())
}

/// An inline rule in the form reads produce: every field set, lists
/// empty rather than null, the protocol normalised.
fn normalise_rule(r: &Value) -> Value {
    object([
        (
            "from_port",
            Value::Number(get_int(r, "from_port").unwrap_or(0) as f64),
        ),
        (
            "to_port",
            Value::Number(get_int(r, "to_port").unwrap_or(0) as f64),
        ),
        (
            "protocol",
            Value::string(normalise_protocol(get_str(r, "protocol").unwrap_or("-1"))),
        ),
        ("cidr_blocks", strings(get_strings(r, "cidr_blocks"))),
        (
            "ipv6_cidr_blocks",
            strings(get_strings(r, "ipv6_cidr_blocks")),
        ),
        (
            "prefix_list_ids",
            strings(get_strings(r, "prefix_list_ids")),
        ),
        (
            "security_groups",
            Value::set_from(
                get_strings(r, "security_groups")
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
        ),
        ("self", Value::Bool(get_bool(r, "self").unwrap_or(false))),
        (
            "description",
            Value::string(get_str(r, "description").unwrap_or_default()),
        ),
    ])
}

/// Rebuilds the inline rules from what AWS reports: a rule of `prior`
/// whose every peer is still there is kept as written; the rest are
/// grouped by protocol, ports and description, as Terraform does.
fn rebuild_rules(prior: &[&Value], remote: Vec<Atom>, own: &str) -> Value {
    let mut left = remote;
    let mut out = Vec::new();
    for r in prior {
        let n = normalise_rule(r);
        let atoms = rule_atoms(&n, own);
        if atoms.is_empty() || !atoms.iter().all(|a| left.contains(a)) {
            continue;
        }
        for a in &atoms {
            if let Some(i) = left.iter().position(|x| x == a) {
                left.remove(i);
            }
        }
        out.push(n);
    }
    let mut groups: BTreeMap<(String, i64, i64, String), Vec<Atom>> = BTreeMap::new();
    for a in left {
        groups
            .entry((a.protocol.clone(), a.from, a.to, a.description.clone()))
            .or_default()
            .push(a);
    }
    for ((protocol, from, to, description), atoms) in groups {
        let of = |peer: Peer| -> Vec<String> {
            atoms
                .iter()
                .filter(|a| a.peer == peer && !(peer == Peer::Group && a.target == own))
                .map(|a| a.target.clone())
                .collect()
        };
        let is_self = atoms
            .iter()
            .any(|a| a.peer == Peer::Group && a.target == own);
        out.push(object([
            ("from_port", Value::Number(from as f64)),
            ("to_port", Value::Number(to as f64)),
            ("protocol", Value::string(protocol)),
            ("cidr_blocks", strings(of(Peer::Ipv4))),
            ("ipv6_cidr_blocks", strings(of(Peer::Ipv6))),
            ("prefix_list_ids", strings(of(Peer::PrefixList))),
            (
                "security_groups",
                Value::set_from(of(Peer::Group).into_iter().map(Value::String).collect()),
            ),
            ("self", Value::Bool(is_self)),
            ("description", Value::string(description)),
        ]));
    }
    Value::set_from(out)
}

fn rule_schema() -> Schema {
    Schema::new()
        .attr("from_port", Attribute::required(Type::Number))
        .attr("to_port", Attribute::required(Type::Number))
        .attr("protocol", Attribute::required(Type::String))
        .attr("cidr_blocks", Attribute::optional(Type::list(Type::String)))
        .attr(
            "ipv6_cidr_blocks",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "prefix_list_ids",
            Attribute::optional(Type::list(Type::String)),
        )
        .attr(
            "security_groups",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr("self", Attribute::optional(Type::Bool))
        .attr("description", Attribute::optional(Type::String))
}

fn rule_error(name: &str, summary: &str, detail: String) -> ProviderError {
    ProviderError::new(summary.to_owned())
        .with_detail(format!("{name}: {detail}"))
        .at(vec![PathStep::Attr(name.to_owned())])
}

/// Plan-time checks of inline rules.
fn check_rules(config: &Value, name: &str, out: &mut Vec<ProviderError>) {
    for r in blocks(config, name) {
        if let Some(p) = get_str(r, "protocol")
            && normalise_protocol(p) == "-1"
            && let (Some(f), Some(t)) = (get_int(r, "from_port"), get_int(r, "to_port"))
            && (f != 0 || t != 0)
        {
            out.push(rule_error(
                name,
                "invalid port range",
                format!(
                    "from_port ({f}) and to_port ({t}) must both be 0 to use the 'ALL' \"-1\" protocol"
                ),
            ));
        }
        for c in get_strings(r, "cidr_blocks") {
            if let Some(p) = ipv4_cidr_problem(&c) {
                out.push(rule_error(name, "invalid value for cidr_blocks", p));
            }
        }
        for c in get_strings(r, "ipv6_cidr_blocks") {
            if let Some(p) = ipv6_cidr_problem(&c) {
                out.push(rule_error(name, "invalid value for ipv6_cidr_blocks", p));
            }
        }
    }
}

/// Reads a group's permissions in one direction.
fn permissions(e: &Element, egress: bool) -> Vec<IpPermission> {
    let set = if egress {
        "ipPermissionsEgress"
    } else {
        "ipPermissions"
    };
    e.list(set).into_iter().map(IpPermission::parse).collect()
}

// ---- aws_security_group ----

pub(super) struct SecurityGroup;

const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

#[async_trait]
impl ResourceType for SecurityGroup {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "name_prefix",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "description",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "vpc_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "revoke_rules_on_delete",
                Attribute::optional_computed(Type::Bool),
            )
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("owner_id", Attribute::computed(Type::String))
            .block("ingress", block(Nesting::Set, rule_schema(), 0, None))
            .block("egress", block(Nesting::Set, rule_schema(), 0, None))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("description", Value::string(DEFAULT_DESCRIPTION)),
            ("revoke_rules_on_delete", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if !attr(config, "name").is_null() && !attr(config, "name_prefix").is_null() {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail("\"name\": conflicts with name_prefix")
                    .at(path("name")),
            );
        }
        if let Some(n) = get_str(config, "name")
            && (n.len() > 255 || n.to_ascii_lowercase().starts_with("sg-"))
        {
            out.push(
                ProviderError::new("invalid value for name")
                    .with_detail(format!(
                        "{n:?}: a security group name has at most 255 characters and cannot begin with sg-"
                    ))
                    .at(path("name")),
            );
        }
        if let Some(d) = get_str(config, "description")
            && d.len() > 255
        {
            out.push(
                ProviderError::new("invalid value for description")
                    .with_detail("expected length of description to be in the range (0 - 255)")
                    .at(path("description")),
            );
        }
        check_rules(config, "ingress", &mut out);
        check_rules(config, "egress", &mut out);
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        if attr(config, "name_prefix").is_null() {
            let keep = prior
                .map(|p| attr(p, "name_prefix").clone())
                .unwrap_or(Value::Null);
            set(planned, "name_prefix", keep);
        }
        // `ingress` and `egress` are optional and computed: without
        // blocks, the rules in AWS are left as they are.
        for name in ["ingress", "egress"] {
            let rules = blocks(config, name);
            let v = if rules.is_empty() {
                match prior {
                    Some(p) => attr(p, name).clone(),
                    None => Value::Set(Vec::new()),
                }
            } else if rules.iter().all(|r| r.is_wholly_known()) {
                Value::set_from(rules.into_iter().map(normalise_rule).collect())
            } else {
                attr(config, name).clone()
            };
            set(planned, name, v);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = match get_str(planned, "name") {
            Some(n) => n.to_owned(),
            None => crate::provider::values::unique_name(
                get_str(planned, "name_prefix").unwrap_or("terraform-"),
            ),
        };
        let mut p = Params::new();
        p.set("GroupName", name.clone())
            .set(
                "GroupDescription",
                get_str(planned, "description").unwrap_or(DEFAULT_DESCRIPTION),
            )
            .opt("VpcId", get_str(planned, "vpc_id"));
        ec2::tag_specification(&mut p, "security-group", &planned_tags(planned));
        let e = ec2::call(&ctx.client, "CreateSecurityGroup", &p)
            .await
            .map_err(aws_err(format!("creating Security Group ({name})")))?;
        let id = text(&e, "groupId").ok_or_else(|| {
            ProviderError::new("creating Security Group: no groupId in the answer")
        })?;
        let g = loop_describe(ctx, &id).await?;
        // Terraform removes the allow-all egress rule AWS adds to a new
        // group in a VPC; configured egress rules are added back below.
        let defaults: Vec<Atom> = permission_atoms(&permissions(&g, true))
            .into_iter()
            .filter(|a| {
                a.protocol == "-1"
                    && ((a.peer == Peer::Ipv4 && a.target == "0.0.0.0/0")
                        || (a.peer == Peer::Ipv6 && a.target == "::/0"))
            })
            .collect();
        let perms: Vec<IpPermission> = defaults.iter().map(Atom::permission).collect();
        ec2::change_permissions(&ctx.client, &id, true, true, &perms, &Default::default())
            .await
            .map_err(aws_err(format!(
                "revoking default egress rule for Security Group ({id})"
            )))?;
        for (name, egress) in [("ingress", false), ("egress", true)] {
            let atoms: Vec<Atom> = blocks(planned, name)
                .into_iter()
                .flat_map(|r| rule_atoms(r, &id))
                .collect();
            let perms: Vec<IpPermission> = atoms.iter().map(Atom::permission).collect();
            ec2::change_permissions(&ctx.client, &id, egress, false, &perms, &Default::default())
                .await
                .map_err(aws_err(format!(
                    "authorizing Security Group ({id}) {name} rules"
                )))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", id);
        set(&mut v, "name", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let Some(g) = ec2::describe_security_group(&ctx.client, id)
            .await
            .map_err(aws_err(format!("reading Security Group ({id})")))?
        else {
            return Ok(None);
        };
        let owner = text(&g, "ownerId");
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(
            &mut v,
            "arn",
            text(&g, "securityGroupArn")
                .unwrap_or_else(|| arn(ctx, owner.as_deref(), "security-group", id)),
        );
        set(&mut v, "owner_id", opt_string(owner));
        let name = text(&g, "groupName");
        let prefix = match attr(state, "name_prefix") {
            Value::Null => opt_string(
                name.as_deref()
                    .and_then(crate::provider::values::name_prefix_of)
                    .map(str::to_owned),
            ),
            p => p.clone(),
        };
        set(&mut v, "name", opt_string(name));
        set(&mut v, "name_prefix", prefix);
        set(
            &mut v,
            "description",
            g.text_at("groupDescription").unwrap_or_default(),
        );
        set(&mut v, "vpc_id", opt_string(text(&g, "vpcId")));
        set(
            &mut v,
            "revoke_rules_on_delete",
            get_bool(state, "revoke_rules_on_delete").unwrap_or(false),
        );
        for (name, egress) in [("ingress", false), ("egress", true)] {
            let atoms = permission_atoms(&permissions(&g, egress));
            set(&mut v, name, rebuild_rules(&blocks(state, name), atoms, id));
        }
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&g)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        for (name, egress) in [("ingress", false), ("egress", true)] {
            let old: Vec<Atom> = blocks(prior, name)
                .into_iter()
                .flat_map(|r| rule_atoms(r, id))
                .collect();
            let new: Vec<Atom> = blocks(planned, name)
                .into_iter()
                .flat_map(|r| rule_atoms(r, id))
                .collect();
            let revoke: Vec<IpPermission> = old
                .iter()
                .filter(|a| !new.contains(a))
                .map(Atom::permission)
                .collect();
            let grant: Vec<IpPermission> = new
                .iter()
                .filter(|a| !old.contains(a))
                .map(Atom::permission)
                .collect();
            ec2::change_permissions(&ctx.client, id, egress, true, &revoke, &Default::default())
                .await
                .map_err(aws_err(format!(
                    "revoking Security Group ({id}) {name} rules"
                )))?;
            ec2::change_permissions(&ctx.client, id, egress, false, &grant, &Default::default())
                .await
                .map_err(aws_err(format!(
                    "authorizing Security Group ({id}) {name} rules"
                )))?;
        }
        update_tags(ctx, id, "Security Group", prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        if get_bool(state, "revoke_rules_on_delete") == Some(true)
            && let Some(g) = ec2::describe_security_group(&ctx.client, id)
                .await
                .map_err(aws_err(format!("reading Security Group ({id})")))?
        {
            for egress in [false, true] {
                ec2::change_permissions(
                    &ctx.client,
                    id,
                    egress,
                    true,
                    &permissions(&g, egress),
                    &Default::default(),
                )
                .await
                .map_err(aws_err(format!("revoking Security Group ({id}) rules")))?;
            }
        }
        delete_with_retry(
            ctx,
            "DeleteSecurityGroup",
            "GroupId",
            id,
            ec2::SG_NOT_FOUND,
            &format!("Security Group ({id})"),
        )
        .await
    }
}

/// Describes a just-created group, waiting until it is visible.
async fn loop_describe(ctx: &Ctx, id: &str) -> Result<Element, ProviderError> {
    wait_for(
        &format!("Security Group ({id}) to be visible"),
        Duration::from_secs(120),
        move || async move {
            ec2::describe_security_group(&ctx.client, id)
                .await
                .map_err(aws_err(format!("reading Security Group ({id})")))
        },
    )
    .await
}

// ---- aws_vpc_security_group_{ingress,egress}_rule ----

pub(super) struct Rule {
    egress: bool,
}

/// (attribute, peer) of the rule resources' exactly-one-of peers.
const RULE_PEERS: [&str; 4] = [
    "cidr_ipv4",
    "cidr_ipv6",
    "prefix_list_id",
    "referenced_security_group_id",
];

fn rule_request(v: &Value) -> Result<RuleRequest, ProviderError> {
    let s = |k: &str| get_str(v, k).map(str::to_owned);
    Ok(RuleRequest {
        protocol: normalise_protocol(req_str(v, "ip_protocol")?),
        from_port: get_int(v, "from_port"),
        to_port: get_int(v, "to_port"),
        cidr_ipv4: s("cidr_ipv4"),
        cidr_ipv6: s("cidr_ipv6"),
        prefix_list: s("prefix_list_id"),
        referenced_group: s("referenced_security_group_id").map(|g| group_id(&g).to_owned()),
        description: s("description"),
    })
}

impl Rule {
    fn what(&self) -> &'static str {
        if self.egress {
            "VPC Security Group Egress Rule"
        } else {
            "VPC Security Group Ingress Rule"
        }
    }
}

#[async_trait]
impl ResourceType for Rule {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr(
                "security_group_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr("ip_protocol", Attribute::required(Type::String))
            .attr("from_port", Attribute::optional(Type::Number))
            .attr("to_port", Attribute::optional(Type::Number))
            .attr("description", Attribute::optional(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("security_group_rule_id", Attribute::computed(Type::String));
        for p in RULE_PEERS {
            s = s.attr(p, Attribute::optional(Type::String));
        }
        s
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = [("cidr_ipv4", false), ("cidr_ipv6", true)]
            .into_iter()
            .filter_map(|(a, v6)| super::check_cidr(config, a, v6))
            .collect();
        if RULE_PEERS.iter().all(|p| attr(config, p).is_known()) {
            let n = RULE_PEERS
                .iter()
                .filter(|p| !attr(config, p).is_null())
                .count();
            if n != 1 {
                out.push(
                    ProviderError::new("invalid combination of arguments")
                        .with_detail(format!(
                            "exactly one of cidr_ipv4, cidr_ipv6, prefix_list_id or referenced_security_group_id must be specified, {n} given"
                        ))
                        .at(path("cidr_ipv4")),
                );
            }
        }
        for p in ["from_port", "to_port"] {
            if let Some(n) = get_int(config, p)
                && !(-1..=65535).contains(&n)
            {
                out.push(
                    ProviderError::new(format!("invalid value for {p}"))
                        .with_detail(format!(
                            "expected {p} to be in the range (-1 - 65535), got {n}"
                        ))
                        .at(path(p)),
                );
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let group = req_str(planned, "security_group_id")?;
        let r = rule_request(planned)?;
        let created = ec2::change_permissions(
            &ctx.client,
            group,
            self.egress,
            false,
            &[r.permission()],
            &planned_tags(planned),
        )
        .await
        .map_err(aws_err(format!(
            "authorizing Security Group ({group}) Rule ({})",
            self.what()
        )))?;
        let id = created
            .first()
            .and_then(|e| text(e, "securityGroupRuleId"))
            .ok_or_else(|| {
                ProviderError::new(format!("creating {}", self.what()))
                    .with_detail("AWS did not report the new rule's id")
            })?;
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let Some(e) = ec2::describe_security_group_rule(&ctx.client, id)
            .await
            .map_err(aws_err(format!("reading {} ({id})", self.what())))?
        else {
            return Ok(None);
        };
        if (e.text_at("isEgress") == Some("true")) != self.egress {
            return Ok(None);
        }
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "security_group_rule_id", id);
        let owner = text(&e, "groupOwnerId");
        set(
            &mut v,
            "arn",
            arn(ctx, owner.as_deref(), "security-group-rule", id),
        );
        set(&mut v, "security_group_id", opt_string(text(&e, "groupId")));
        let remote_protocol = e.text_at("ipProtocol").unwrap_or("-1");
        let protocol = match get_str(state, "ip_protocol") {
            Some(p) if normalise_protocol(p) == normalise_protocol(remote_protocol) => p.to_owned(),
            _ => normalise_protocol(remote_protocol),
        };
        set(&mut v, "ip_protocol", protocol);
        for (a, x) in [("from_port", "fromPort"), ("to_port", "toPort")] {
            let n = e.text_at(x).and_then(|s| s.parse::<i64>().ok());
            // AWS reports -1 for ports a rule does not have.
            let value = match n {
                Some(-1) if attr(state, a).is_null() => Value::Null,
                Some(n) => Value::Number(n as f64),
                None => Value::Null,
            };
            set(&mut v, a, value);
        }
        set(&mut v, "cidr_ipv4", opt_string(text(&e, "cidrIpv4")));
        set(&mut v, "cidr_ipv6", opt_string(text(&e, "cidrIpv6")));
        set(
            &mut v,
            "prefix_list_id",
            opt_string(text(&e, "prefixListId")),
        );
        set(
            &mut v,
            "referenced_security_group_id",
            opt_string(text(&e, "referencedGroupInfo/groupId")),
        );
        set(&mut v, "description", opt_string(text(&e, "description")));
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let group = req_str(planned, "security_group_id")?;
        let (old, new) = (rule_request(prior)?, rule_request(planned)?);
        if old != new {
            ec2::modify_security_group_rule(&ctx.client, group, id, &new)
                .await
                .map_err(aws_err(format!("updating {} ({id})", self.what())))?;
        }
        update_tags(ctx, id, self.what(), prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        let group = req_str(state, "security_group_id")?;
        ec2::revoke_rules(&ctx.client, group, self.egress, &[id.to_owned()])
            .await
            .map_err(aws_err(format!("deleting {} ({id})", self.what())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_regroup_around_the_configured_ones() {
        let cfg = object([
            ("from_port", Value::Number(22.0)),
            ("to_port", Value::Number(22.0)),
            ("protocol", Value::string("6")),
            (
                "cidr_blocks",
                Value::List(vec![
                    Value::string("10.0.0.0/8"),
                    Value::string("10.1.0.0/16"),
                ]),
            ),
            ("ipv6_cidr_blocks", Value::Null),
            ("prefix_list_ids", Value::Null),
            ("security_groups", Value::Null),
            ("self", Value::Bool(true)),
            ("description", Value::Null),
        ]);
        let mut remote = rule_atoms(&normalise_rule(&cfg), "sg-1");
        assert_eq!(remote.len(), 3);
        remote.push(Atom {
            protocol: "tcp".into(),
            from: 443,
            to: 443,
            peer: Peer::Ipv4,
            target: "0.0.0.0/0".into(),
            description: String::new(),
        });
        let rebuilt = rebuild_rules(&[&cfg], remote, "sg-1");
        let items = rebuilt.as_seq().unwrap();
        assert_eq!(items.len(), 2);
        assert!(items.contains(&normalise_rule(&cfg)));
    }
}
