//! EC2 (query protocol, EC2 flavour: `Name.N` lists, `item` elements,
//! no result wrapper). The describe calls hand back the XML `item`
//! elements as AWS documents them (`vpcId`, `tagSet`, ...); the provider
//! reads the fields it needs.

use crate::client::{Client, EC2};
use crate::error::Error;
use crate::protocol::{Params, query};
use crate::service::Tags;
use crate::xml::Element;

const VERSION: &str = "2016-11-15";

/// One EC2 call; the answer's root element.
pub async fn call(c: &Client, operation: &'static str, p: &Params) -> Result<Element, Error> {
    query(c, &EC2, operation, VERSION, p).await
}

/// A `Filter.N.Name` / `Filter.N.Value.M` list.
pub fn filters<'a>(
    p: &mut Params,
    items: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> &mut Params {
    for (i, (name, values)) in items.into_iter().enumerate() {
        let n = i + 1;
        p.set(format!("Filter.{n}.Name"), name);
        p.ec2_list(&format!("Filter.{n}.Value"), values.iter());
    }
    p
}

/// `TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.N.Key=...`
/// (nothing when `tags` is empty).
pub fn tag_specification<'a>(
    p: &'a mut Params,
    resource_type: &str,
    tags: &Tags,
) -> &'a mut Params {
    if tags.is_empty() {
        return p;
    }
    p.set("TagSpecification.1.ResourceType", resource_type);
    for (i, (k, v)) in tags.iter().enumerate() {
        p.set(format!("TagSpecification.1.Tag.{}.Key", i + 1), k.clone());
        p.set(format!("TagSpecification.1.Tag.{}.Value", i + 1), v.clone());
    }
    p
}

/// The `tagSet` of a described object.
pub fn tags_of(e: &Element) -> Tags {
    e.list("tagSet")
        .into_iter()
        .filter_map(|t| Some((t.text_at("key")?.to_owned(), t.text_at("value")?.to_owned())))
        .collect()
}

/// The text of a child, when present and not empty.
pub fn text(e: &Element, path: &str) -> Option<String> {
    e.text_at(path).filter(|s| !s.is_empty()).map(str::to_owned)
}

pub async fn create_tags(c: &Client, id: &str, tags: &Tags) -> Result<(), Error> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut p = Params::new();
    p.set("ResourceId.1", id);
    for (i, (k, v)) in tags.iter().enumerate() {
        p.set(format!("Tag.{}.Key", i + 1), k.clone());
        p.set(format!("Tag.{}.Value", i + 1), v.clone());
    }
    call(c, "CreateTags", &p).await.map(drop)
}

pub async fn delete_tags(c: &Client, id: &str, keys: &[String]) -> Result<(), Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut p = Params::new();
    p.set("ResourceId.1", id);
    for (i, k) in keys.iter().enumerate() {
        p.set(format!("Tag.{}.Key", i + 1), k.clone());
    }
    call(c, "DeleteTags", &p).await.map(drop)
}

/// Every item of a paginated `Describe*` call: the `item` children of
/// `set` in each page, following `nextToken`.
pub async fn describe_all(
    c: &Client,
    operation: &'static str,
    p: &Params,
    set: &str,
) -> Result<Vec<Element>, Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut page = p.clone();
        page.opt("NextToken", token.take());
        let e = call(c, operation, &page).await?;
        out.extend(e.list(set).into_iter().cloned());
        match text(&e, "nextToken") {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// One object by id (`VpcId.1=vpc-...`); `None` when AWS answers with
/// one of `not_found` or an empty set.
pub async fn describe_one(
    c: &Client,
    operation: &'static str,
    id_param: &str,
    id: &str,
    set: &str,
    not_found: &[&str],
) -> Result<Option<Element>, Error> {
    let mut p = Params::new();
    p.set(format!("{id_param}.1"), id);
    match call(c, operation, &p).await {
        Ok(e) => Ok(e.list(set).into_iter().next().cloned()),
        Err(e) if e.is(not_found) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A call whose only input is one id parameter (`DeleteVpc VpcId=...`);
/// `not_found` errors count as done.
pub async fn act_on(
    c: &Client,
    operation: &'static str,
    id_param: &str,
    id: &str,
    not_found: &[&str],
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set(id_param, id);
    match call(c, operation, &p).await {
        Err(e) if e.is(not_found) => Ok(()),
        r => r.map(drop),
    }
}

// ---- VPC ----

pub const VPC_NOT_FOUND: &[&str] = &["InvalidVpcID.NotFound"];

pub async fn create_vpc(
    c: &Client,
    cidr: &str,
    tenancy: Option<&str>,
    tags: &Tags,
) -> Result<String, Error> {
    let mut p = Params::new();
    p.set("CidrBlock", cidr).opt("InstanceTenancy", tenancy);
    tag_specification(&mut p, "vpc", tags);
    let e = call(c, "CreateVpc", &p).await?;
    e.text_at("vpc/vpcId")
        .map(str::to_owned)
        .ok_or_else(|| Error::response("CreateVpc", "missing vpcId"))
}

pub async fn describe_vpc(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(c, "DescribeVpcs", "VpcId", id, "vpcSet", VPC_NOT_FOUND).await
}

/// `DescribeVpcAttribute` for a boolean attribute (`enableDnsSupport`).
pub async fn vpc_attribute(c: &Client, id: &str, attribute: &str) -> Result<bool, Error> {
    let mut p = Params::new();
    p.set("VpcId", id).set("Attribute", attribute);
    let e = call(c, "DescribeVpcAttribute", &p).await?;
    Ok(e.text_at(&format!("{attribute}/value")) == Some("true"))
}

/// `ModifyVpcAttribute` with `EnableDnsSupport.Value=true` (the
/// attribute name capitalised).
pub async fn modify_vpc_attribute(
    c: &Client,
    id: &str,
    attribute: &str,
    value: bool,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("VpcId", id)
        .set(format!("{attribute}.Value"), value.to_string());
    call(c, "ModifyVpcAttribute", &p).await.map(drop)
}

// ---- Subnets ----

pub const SUBNET_NOT_FOUND: &[&str] = &["InvalidSubnetID.NotFound"];

pub async fn describe_subnet(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(
        c,
        "DescribeSubnets",
        "SubnetId",
        id,
        "subnetSet",
        SUBNET_NOT_FOUND,
    )
    .await
}

// ---- Route tables ----

pub const ROUTE_TABLE_NOT_FOUND: &[&str] = &["InvalidRouteTableID.NotFound"];

pub async fn describe_route_table(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(
        c,
        "DescribeRouteTables",
        "RouteTableId",
        id,
        "routeTableSet",
        ROUTE_TABLE_NOT_FOUND,
    )
    .await
}

/// Route targets as (API parameter, describe element) pairs; the
/// provider's attribute names are the snake_case of the parameter.
pub const ROUTE_TARGETS: &[(&str, &str)] = &[
    ("GatewayId", "gatewayId"),
    ("NatGatewayId", "natGatewayId"),
    ("NetworkInterfaceId", "networkInterfaceId"),
    ("TransitGatewayId", "transitGatewayId"),
    ("VpcPeeringConnectionId", "vpcPeeringConnectionId"),
    ("EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId"),
    ("VpcEndpointId", "vpcEndpointId"),
    ("CarrierGatewayId", "carrierGatewayId"),
    ("LocalGatewayId", "localGatewayId"),
    ("CoreNetworkArn", "coreNetworkArn"),
];

/// Route destinations as (API parameter, describe element) pairs.
pub const ROUTE_DESTINATIONS: &[(&str, &str)] = &[
    ("DestinationCidrBlock", "destinationCidrBlock"),
    ("DestinationIpv6CidrBlock", "destinationIpv6CidrBlock"),
    ("DestinationPrefixListId", "destinationPrefixListId"),
];

/// `CreateRoute` / `ReplaceRoute`: `fields` are API parameter → value
/// (destination and target).
pub async fn put_route(
    c: &Client,
    replace: bool,
    route_table: &str,
    fields: &[(&str, String)],
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RouteTableId", route_table);
    for (k, v) in fields {
        p.set(*k, v.clone());
    }
    let op = if replace {
        "ReplaceRoute"
    } else {
        "CreateRoute"
    };
    call(c, op, &p).await.map(drop)
}

/// `DeleteRoute` for one destination (API parameter, value).
pub async fn delete_route(
    c: &Client,
    route_table: &str,
    destination: (&str, &str),
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("RouteTableId", route_table)
        .set(destination.0, destination.1);
    match call(c, "DeleteRoute", &p).await {
        Err(e) if e.is(&["InvalidRoute.NotFound", "InvalidRouteTableID.NotFound"]) => Ok(()),
        r => r.map(drop),
    }
}

// ---- Security groups ----

pub const SG_NOT_FOUND: &[&str] = &["InvalidGroup.NotFound", "InvalidSecurityGroupID.NotFound"];

pub async fn describe_security_group(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(
        c,
        "DescribeSecurityGroups",
        "GroupId",
        id,
        "securityGroupInfo",
        SG_NOT_FOUND,
    )
    .await
}

/// One `IpPermission`: a protocol and port range with its peers, each
/// with an optional description.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IpPermission {
    pub protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Vec<(String, Option<String>)>,
    pub cidr_ipv6: Vec<(String, Option<String>)>,
    pub prefix_lists: Vec<(String, Option<String>)>,
    /// Security group ids (`owner/sg-...` is reduced to the id).
    pub groups: Vec<(String, Option<String>)>,
}

impl IpPermission {
    /// Reads an `ipPermissions` item.
    pub fn parse(e: &Element) -> IpPermission {
        let pairs = |set: &str, key: &str| -> Vec<(String, Option<String>)> {
            e.list(set)
                .into_iter()
                .filter_map(|i| Some((i.text_at(key)?.to_owned(), text(i, "description"))))
                .collect()
        };
        IpPermission {
            protocol: e.text_at("ipProtocol").unwrap_or("-1").to_owned(),
            from_port: e.text_at("fromPort").and_then(|s| s.parse().ok()),
            to_port: e.text_at("toPort").and_then(|s| s.parse().ok()),
            cidr_ipv4: pairs("ipRanges", "cidrIp"),
            cidr_ipv6: pairs("ipv6Ranges", "cidrIpv6"),
            prefix_lists: pairs("prefixListIds", "prefixListId"),
            groups: pairs("groups", "groupId"),
        }
    }

    /// Adds `IpPermissions.N.*` parameters.
    pub fn encode(&self, p: &mut Params, n: usize) {
        let pre = format!("IpPermissions.{n}");
        p.set(format!("{pre}.IpProtocol"), self.protocol.clone());
        p.opt(
            &format!("{pre}.FromPort"),
            self.from_port.map(|x| x.to_string()),
        );
        p.opt(
            &format!("{pre}.ToPort"),
            self.to_port.map(|x| x.to_string()),
        );
        let lists = [
            ("IpRanges", "CidrIp", &self.cidr_ipv4),
            ("Ipv6Ranges", "CidrIpv6", &self.cidr_ipv6),
            ("PrefixListIds", "PrefixListId", &self.prefix_lists),
            ("Groups", "GroupId", &self.groups),
        ];
        for (list, key, items) in lists {
            for (i, (v, d)) in items.iter().enumerate() {
                let m = i + 1;
                p.set(format!("{pre}.{list}.{m}.{key}"), v.clone());
                p.opt(&format!("{pre}.{list}.{m}.Description"), d.clone());
            }
        }
    }
}

/// Authorizes (`revoke` false) or revokes ingress (`egress` false) or
/// egress permissions; returns the rule elements AWS reports created.
pub async fn change_permissions(
    c: &Client,
    group: &str,
    egress: bool,
    revoke: bool,
    perms: &[IpPermission],
    tags: &Tags,
) -> Result<Vec<Element>, Error> {
    if perms.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Params::new();
    p.set("GroupId", group);
    for (i, perm) in perms.iter().enumerate() {
        perm.encode(&mut p, i + 1);
    }
    if !revoke {
        tag_specification(&mut p, "security-group-rule", tags);
    }
    let op = match (egress, revoke) {
        (false, false) => "AuthorizeSecurityGroupIngress",
        (true, false) => "AuthorizeSecurityGroupEgress",
        (false, true) => "RevokeSecurityGroupIngress",
        (true, true) => "RevokeSecurityGroupEgress",
    };
    let e = call(c, op, &p).await?;
    Ok(e.list("securityGroupRuleSet")
        .into_iter()
        .cloned()
        .collect())
}

pub const RULE_NOT_FOUND: &[&str] = &[
    "InvalidSecurityGroupRuleId.NotFound",
    "InvalidSecurityGroupRuleId.Malformed",
    "InvalidGroup.NotFound",
];

pub async fn describe_security_group_rule(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(
        c,
        "DescribeSecurityGroupRules",
        "SecurityGroupRuleId",
        id,
        "securityGroupRuleSet",
        RULE_NOT_FOUND,
    )
    .await
}

/// The rules of a security group (both directions).
pub async fn security_group_rules(c: &Client, group: &str) -> Result<Vec<Element>, Error> {
    let mut p = Params::new();
    let ids = [group.to_owned()];
    filters(&mut p, [("group-id", &ids[..])]);
    describe_all(c, "DescribeSecurityGroupRules", &p, "securityGroupRuleSet").await
}

/// A rule as `ModifySecurityGroupRules` takes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleRequest {
    pub protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Option<String>,
    pub cidr_ipv6: Option<String>,
    pub prefix_list: Option<String>,
    pub referenced_group: Option<String>,
    pub description: Option<String>,
}

impl RuleRequest {
    /// The same rule as one `IpPermission` (for authorize).
    pub fn permission(&self) -> IpPermission {
        let one = |v: &Option<String>| {
            v.iter()
                .map(|x| (x.clone(), self.description.clone()))
                .collect()
        };
        IpPermission {
            protocol: self.protocol.clone(),
            from_port: self.from_port,
            to_port: self.to_port,
            cidr_ipv4: one(&self.cidr_ipv4),
            cidr_ipv6: one(&self.cidr_ipv6),
            prefix_lists: one(&self.prefix_list),
            groups: one(&self.referenced_group),
        }
    }
}

pub async fn modify_security_group_rule(
    c: &Client,
    group: &str,
    rule_id: &str,
    r: &RuleRequest,
) -> Result<(), Error> {
    let mut p = Params::new();
    let pre = "SecurityGroupRule.1.SecurityGroupRule";
    p.set("GroupId", group)
        .set("SecurityGroupRule.1.SecurityGroupRuleId", rule_id)
        .set(format!("{pre}.IpProtocol"), r.protocol.clone())
        .opt(
            &format!("{pre}.FromPort"),
            r.from_port.map(|x| x.to_string()),
        )
        .opt(&format!("{pre}.ToPort"), r.to_port.map(|x| x.to_string()))
        .opt(&format!("{pre}.CidrIpv4"), r.cidr_ipv4.clone())
        .opt(&format!("{pre}.CidrIpv6"), r.cidr_ipv6.clone())
        .opt(&format!("{pre}.PrefixListId"), r.prefix_list.clone())
        .opt(
            &format!("{pre}.ReferencedGroupId"),
            r.referenced_group.clone(),
        )
        .opt(&format!("{pre}.Description"), r.description.clone());
    call(c, "ModifySecurityGroupRules", &p).await.map(drop)
}

/// Revokes rules by id (`SecurityGroupRuleId.N`).
pub async fn revoke_rules(
    c: &Client,
    group: &str,
    egress: bool,
    ids: &[String],
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("GroupId", group)
        .ec2_list("SecurityGroupRuleId", ids.iter());
    let op = if egress {
        "RevokeSecurityGroupEgress"
    } else {
        "RevokeSecurityGroupIngress"
    };
    match call(c, op, &p).await {
        Err(e) if e.is(RULE_NOT_FOUND) => Ok(()),
        r => r.map(drop),
    }
}

// ---- Instances ----

pub const INSTANCE_NOT_FOUND: &[&str] = &["InvalidInstanceID.NotFound"];

pub async fn describe_instance(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    let mut p = Params::new();
    p.set("InstanceId.1", id);
    match call(c, "DescribeInstances", &p).await {
        Ok(e) => Ok(e
            .list("reservationSet")
            .into_iter()
            .flat_map(|r| r.list("instancesSet"))
            .next()
            .cloned()),
        Err(e) if e.is(INSTANCE_NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `DescribeInstanceAttribute` for a `{attribute}/value` attribute.
pub async fn instance_attribute(
    c: &Client,
    id: &str,
    attribute: &str,
) -> Result<Option<String>, Error> {
    let mut p = Params::new();
    p.set("InstanceId", id).set("Attribute", attribute);
    let e = call(c, "DescribeInstanceAttribute", &p).await?;
    Ok(text(&e, &format!("{attribute}/value")))
}

/// `ModifyInstanceAttribute` with `{name}.Value=value`.
pub async fn modify_instance_attribute(
    c: &Client,
    id: &str,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("InstanceId", id).set(format!("{name}.Value"), value);
    call(c, "ModifyInstanceAttribute", &p).await.map(drop)
}

/// Starts, stops or terminates one instance (`StopInstances`, ...).
pub async fn instance_action(c: &Client, operation: &'static str, id: &str) -> Result<(), Error> {
    let mut p = Params::new();
    p.set("InstanceId.1", id);
    call(c, operation, &p).await.map(drop)
}

pub async fn describe_volume(c: &Client, id: &str) -> Result<Option<Element>, Error> {
    describe_one(
        c,
        "DescribeVolumes",
        "VolumeId",
        id,
        "volumeSet",
        &["InvalidVolume.NotFound"],
    )
    .await
}

// ---- Availability zones and images ----

pub async fn describe_availability_zones(
    c: &Client,
    all: bool,
    filter: &[(String, Vec<String>)],
) -> Result<Vec<Element>, Error> {
    let mut p = Params::new();
    if all {
        p.set("AllAvailabilityZones", "true");
    }
    filters(&mut p, filter.iter().map(|(n, v)| (n.as_str(), &v[..])));
    let e = call(c, "DescribeAvailabilityZones", &p).await?;
    Ok(e.list("availabilityZoneInfo")
        .into_iter()
        .cloned()
        .collect())
}

pub async fn describe_images(
    c: &Client,
    owners: &[String],
    executable_users: &[String],
    filter: &[(String, Vec<String>)],
    include_deprecated: bool,
) -> Result<Vec<Element>, Error> {
    let mut p = Params::new();
    p.ec2_list("Owner", owners.iter())
        .ec2_list("ExecutableBy", executable_users.iter());
    if include_deprecated {
        p.set("IncludeDeprecated", "true");
    }
    filters(&mut p, filter.iter().map(|(n, v)| (n.as_str(), &v[..])));
    describe_all(c, "DescribeImages", &p, "imagesSet").await
}

// ---- account posture reads

/// Whether new EBS volumes in the region are encrypted by default.
pub async fn get_ebs_encryption_by_default(c: &Client) -> Result<bool, Error> {
    let e = call(c, "GetEbsEncryptionByDefault", &Params::new()).await?;
    e.text_at("ebsEncryptionByDefault")
        .map(|v| v.trim() == "true")
        .ok_or_else(|| {
            Error::response(
                "GetEbsEncryptionByDefault",
                "missing ebsEncryptionByDefault",
            )
        })
}

/// Every instance of the region (the `item`s of each reservation's
/// `instancesSet`, all pages).
pub async fn describe_instances(c: &Client) -> Result<Vec<Element>, Error> {
    let reservations =
        describe_all(c, "DescribeInstances", &Params::new(), "reservationSet").await?;
    Ok(reservations
        .iter()
        .flat_map(|r| r.list("instancesSet").into_iter().cloned())
        .collect())
}

/// The names of the regions enabled for the account (`DescribeRegions`
/// without `AllRegions`), sorted.
pub async fn describe_regions(c: &Client) -> Result<Vec<String>, Error> {
    let e = call(c, "DescribeRegions", &Params::new()).await?;
    if e.child("regionInfo").is_none() {
        return Err(Error::response("DescribeRegions", "missing regionInfo"));
    }
    let mut names: Vec<String> = e
        .list("regionInfo")
        .into_iter()
        .filter_map(|r| text(r, "regionName"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}
