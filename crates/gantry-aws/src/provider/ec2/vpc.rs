//! aws_vpc, aws_subnet, aws_internet_gateway, aws_route_table,
//! aws_route_table_association and aws_route.

use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::super::values::{
    attr, blocks, get_bool, get_str, null_object, opt_string, req_str, set, string_map,
};
use super::super::{Ctx, ResourceType, aws_err, block, path, planned_tags};
use super::{arn, check_cidr, delete_with_retry, hashcode, str_or_empty, update_tags, wait_for};
use crate::protocol::Params;
use crate::service::ec2::{self, text};
use crate::xml::Element;

pub(super) fn resources() -> super::super::Resources {
    vec![
        ("aws_vpc", Box::new(Vpc)),
        ("aws_subnet", Box::new(Subnet)),
        ("aws_internet_gateway", Box::new(InternetGateway)),
        ("aws_route_table", Box::new(RouteTable)),
        ("aws_route_table_association", Box::new(Association)),
        ("aws_route", Box::new(Route)),
    ]
}

fn computed() -> Attribute {
    Attribute::computed(Type::String)
}

fn one_filter(p: &mut Params, pairs: &[(&str, &str)]) {
    let owned: Vec<(String, Vec<String>)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
        .collect();
    ec2::filters(p, owned.iter().map(|(k, v)| (k.as_str(), &v[..])));
}

/// The first item of a filtered describe call.
async fn first(
    ctx: &Ctx,
    operation: &'static str,
    set_name: &str,
    pairs: &[(&str, &str)],
) -> Result<Option<Element>, crate::Error> {
    let mut p = Params::new();
    one_filter(&mut p, pairs);
    Ok(ec2::describe_all(&ctx.client, operation, &p, set_name)
        .await?
        .into_iter()
        .next())
}

// ---- aws_vpc ----

pub(super) struct Vpc;

#[async_trait]
impl ResourceType for Vpc {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr(
                "cidr_block",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "instance_tenancy",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "enable_dns_support",
                Attribute::optional_computed(Type::Bool),
            )
            .attr(
                "enable_dns_hostnames",
                Attribute::optional_computed(Type::Bool),
            )
            .attr("id", computed())
            .attr("arn", computed())
            .attr("default_security_group_id", computed())
            .attr("default_route_table_id", computed())
            .attr("main_route_table_id", computed())
            .attr("default_network_acl_id", computed())
            .attr("dhcp_options_id", computed())
            .attr("owner_id", computed())
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("instance_tenancy", Value::string("default")),
            ("enable_dns_support", Value::Bool(true)),
            ("enable_dns_hostnames", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = check_cidr(config, "cidr_block", false)
            .into_iter()
            .collect();
        if attr(config, "cidr_block").is_null() {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail(
                        "\"cidr_block\" is required (IPAM pool allocation is not supported)",
                    )
                    .at(path("cidr_block")),
            );
        }
        if let Some(t) = get_str(config, "instance_tenancy")
            && !["default", "dedicated"].contains(&t)
        {
            out.push(
                ProviderError::new("invalid value for instance_tenancy")
                    .with_detail(format!(
                        "expected instance_tenancy to be one of [\"default\" \"dedicated\"], got {t}"
                    ))
                    .at(path("instance_tenancy")),
            );
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let cidr = req_str(planned, "cidr_block")?;
        let id = ec2::create_vpc(
            &ctx.client,
            cidr,
            get_str(planned, "instance_tenancy"),
            &planned_tags(planned),
        )
        .await
        .map_err(aws_err(format!("creating EC2 VPC ({cidr})")))?;
        let idr = id.as_str();
        wait_for(
            &format!("EC2 VPC ({id}) to become available"),
            Duration::from_secs(300),
            move || async move {
                let v = ec2::describe_vpc(&ctx.client, idr)
                    .await
                    .map_err(aws_err(format!("reading EC2 VPC ({idr})")))?;
                Ok(v.is_some_and(|v| v.text_at("state") == Some("available"))
                    .then_some(()))
            },
        )
        .await?;
        let mut v = planned.clone();
        set(&mut v, "id", id.clone());
        // AWS creates a VPC with DNS support on and DNS host names off.
        if get_bool(planned, "enable_dns_support") == Some(false) {
            ec2::modify_vpc_attribute(&ctx.client, &id, "EnableDnsSupport", false)
                .await
                .map_err(aws_err(format!(
                    "modifying EC2 VPC ({id}) enable_dns_support"
                )))?;
        }
        if get_bool(planned, "enable_dns_hostnames") == Some(true) {
            ec2::modify_vpc_attribute(&ctx.client, &id, "EnableDnsHostnames", true)
                .await
                .map_err(aws_err(format!(
                    "modifying EC2 VPC ({id}) enable_dns_hostnames"
                )))?;
        }
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let err = || aws_err(format!("reading EC2 VPC ({id})"));
        let Some(e) = ec2::describe_vpc(&ctx.client, id).await.map_err(err())? else {
            return Ok(None);
        };
        let owner = text(&e, "ownerId");
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "arn", arn(ctx, owner.as_deref(), "vpc", id));
        set(&mut v, "cidr_block", opt_string(text(&e, "cidrBlock")));
        set(
            &mut v,
            "instance_tenancy",
            text(&e, "instanceTenancy").unwrap_or_else(|| "default".into()),
        );
        set(
            &mut v,
            "dhcp_options_id",
            opt_string(text(&e, "dhcpOptionsId")),
        );
        set(&mut v, "owner_id", opt_string(owner));
        for (a, api) in [
            ("enable_dns_support", "enableDnsSupport"),
            ("enable_dns_hostnames", "enableDnsHostnames"),
        ] {
            let b = ec2::vpc_attribute(&ctx.client, id, api)
                .await
                .map_err(err())?;
            set(&mut v, a, b);
        }
        let main = first(
            ctx,
            "DescribeRouteTables",
            "routeTableSet",
            &[("vpc-id", id), ("association.main", "true")],
        )
        .await
        .map_err(err())?
        .and_then(|t| text(&t, "routeTableId"));
        set(&mut v, "main_route_table_id", opt_string(main.clone()));
        set(&mut v, "default_route_table_id", opt_string(main));
        let acl = first(
            ctx,
            "DescribeNetworkAcls",
            "networkAclSet",
            &[("vpc-id", id), ("default", "true")],
        )
        .await
        .map_err(err())?
        .and_then(|a| text(&a, "networkAclId"));
        set(&mut v, "default_network_acl_id", opt_string(acl));
        let sg = first(
            ctx,
            "DescribeSecurityGroups",
            "securityGroupInfo",
            &[("vpc-id", id), ("group-name", "default")],
        )
        .await
        .map_err(err())?
        .and_then(|g| text(&g, "groupId"));
        set(&mut v, "default_security_group_id", opt_string(sg));
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        for (a, api) in [
            ("enable_dns_support", "EnableDnsSupport"),
            ("enable_dns_hostnames", "EnableDnsHostnames"),
        ] {
            if let Some(b) = get_bool(planned, a)
                && get_bool(prior, a) != Some(b)
            {
                ec2::modify_vpc_attribute(&ctx.client, id, api, b)
                    .await
                    .map_err(aws_err(format!("modifying EC2 VPC ({id}) {a}")))?;
            }
        }
        update_tags(ctx, id, "EC2 VPC", prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        delete_with_retry(
            ctx,
            "DeleteVpc",
            "VpcId",
            id,
            ec2::VPC_NOT_FOUND,
            &format!("EC2 VPC ({id})"),
        )
        .await
    }
}

// ---- aws_subnet ----

pub(super) struct Subnet;

#[async_trait]
impl ResourceType for Subnet {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("vpc_id", Attribute::required(Type::String).force_new())
            .attr("cidr_block", Attribute::optional(Type::String).force_new())
            .attr(
                "availability_zone",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "availability_zone_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "map_public_ip_on_launch",
                Attribute::optional_computed(Type::Bool),
            )
            .attr("id", computed())
            .attr("arn", computed())
            .attr("owner_id", computed())
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("map_public_ip_on_launch", Value::Bool(false))]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = check_cidr(config, "cidr_block", false)
            .into_iter()
            .collect();
        if attr(config, "cidr_block").is_null() {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail(
                        "\"cidr_block\" is required (IPv6-native subnets are not supported)",
                    )
                    .at(path("cidr_block")),
            );
        }
        if !attr(config, "availability_zone").is_null()
            && !attr(config, "availability_zone_id").is_null()
        {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail("\"availability_zone\": conflicts with availability_zone_id")
                    .at(path("availability_zone")),
            );
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let cidr = req_str(planned, "cidr_block")?;
        let mut p = Params::new();
        p.set("VpcId", req_str(planned, "vpc_id")?)
            .set("CidrBlock", cidr)
            .opt("AvailabilityZone", get_str(planned, "availability_zone"))
            .opt(
                "AvailabilityZoneId",
                get_str(planned, "availability_zone_id"),
            );
        ec2::tag_specification(&mut p, "subnet", &planned_tags(planned));
        let e = ec2::call(&ctx.client, "CreateSubnet", &p)
            .await
            .map_err(aws_err(format!("creating EC2 Subnet ({cidr})")))?;
        let id = text(&e, "subnet/subnetId")
            .ok_or_else(|| ProviderError::new("creating EC2 Subnet: no subnetId in the answer"))?;
        if get_bool(planned, "map_public_ip_on_launch") == Some(true) {
            let mut p = Params::new();
            p.set("SubnetId", id.clone())
                .set("MapPublicIpOnLaunch.Value", "true");
            ec2::call(&ctx.client, "ModifySubnetAttribute", &p)
                .await
                .map_err(aws_err(format!("modifying EC2 Subnet ({id})")))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let Some(e) = ec2::describe_subnet(&ctx.client, id)
            .await
            .map_err(aws_err(format!("reading EC2 Subnet ({id})")))?
        else {
            return Ok(None);
        };
        let owner = text(&e, "ownerId");
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(
            &mut v,
            "arn",
            text(&e, "subnetArn").unwrap_or_else(|| arn(ctx, owner.as_deref(), "subnet", id)),
        );
        set(&mut v, "owner_id", opt_string(owner));
        set(&mut v, "vpc_id", opt_string(text(&e, "vpcId")));
        set(&mut v, "cidr_block", opt_string(text(&e, "cidrBlock")));
        set(
            &mut v,
            "availability_zone",
            opt_string(text(&e, "availabilityZone")),
        );
        set(
            &mut v,
            "availability_zone_id",
            opt_string(text(&e, "availabilityZoneId")),
        );
        set(
            &mut v,
            "map_public_ip_on_launch",
            e.text_at("mapPublicIpOnLaunch") == Some("true"),
        );
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        if let Some(b) = get_bool(planned, "map_public_ip_on_launch")
            && get_bool(prior, "map_public_ip_on_launch") != Some(b)
        {
            let mut p = Params::new();
            p.set("SubnetId", id)
                .set("MapPublicIpOnLaunch.Value", b.to_string());
            ec2::call(&ctx.client, "ModifySubnetAttribute", &p)
                .await
                .map_err(aws_err(format!("modifying EC2 Subnet ({id})")))?;
        }
        update_tags(ctx, id, "EC2 Subnet", prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        delete_with_retry(
            ctx,
            "DeleteSubnet",
            "SubnetId",
            id,
            ec2::SUBNET_NOT_FOUND,
            &format!("EC2 Subnet ({id})"),
        )
        .await
    }
}

// ---- aws_internet_gateway ----

pub(super) struct InternetGateway;

const IGW_NOT_FOUND: &[&str] = &["InvalidInternetGatewayID.NotFound"];

async fn igw_attach(ctx: &Ctx, id: &str, vpc: &str, attach: bool) -> Result<(), ProviderError> {
    let mut p = Params::new();
    p.set("InternetGatewayId", id).set("VpcId", vpc);
    let (op, verb) = if attach {
        ("AttachInternetGateway", "attaching")
    } else {
        ("DetachInternetGateway", "detaching")
    };
    match ec2::call(&ctx.client, op, &p).await {
        Err(e)
            if !attach && e.is(&["Gateway.NotAttached", "InvalidInternetGatewayID.NotFound"]) =>
        {
            Ok(())
        }
        r => r.map(drop).map_err(aws_err(format!(
            "{verb} EC2 Internet Gateway ({id}) to VPC ({vpc})"
        ))),
    }
}

#[async_trait]
impl ResourceType for InternetGateway {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("vpc_id", Attribute::optional(Type::String))
            .attr("id", computed())
            .attr("arn", computed())
            .attr("owner_id", computed())
    }

    fn tagged(&self) -> bool {
        true
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let mut p = Params::new();
        ec2::tag_specification(&mut p, "internet-gateway", &planned_tags(planned));
        let e = ec2::call(&ctx.client, "CreateInternetGateway", &p)
            .await
            .map_err(aws_err("creating EC2 Internet Gateway"))?;
        let id = text(&e, "internetGateway/internetGatewayId").ok_or_else(|| {
            ProviderError::new("creating EC2 Internet Gateway: no internetGatewayId in the answer")
        })?;
        if let Some(vpc) = get_str(planned, "vpc_id") {
            igw_attach(ctx, &id, vpc, true).await?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let Some(e) = ec2::describe_one(
            &ctx.client,
            "DescribeInternetGateways",
            "InternetGatewayId",
            id,
            "internetGatewaySet",
            IGW_NOT_FOUND,
        )
        .await
        .map_err(aws_err(format!("reading EC2 Internet Gateway ({id})")))?
        else {
            return Ok(None);
        };
        let owner = text(&e, "ownerId");
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(
            &mut v,
            "arn",
            arn(ctx, owner.as_deref(), "internet-gateway", id),
        );
        set(&mut v, "owner_id", opt_string(owner));
        let vpc = e
            .list("attachmentSet")
            .into_iter()
            .find_map(|a| text(a, "vpcId"));
        set(&mut v, "vpc_id", opt_string(vpc));
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let (old, new) = (get_str(prior, "vpc_id"), get_str(planned, "vpc_id"));
        if old != new {
            if let Some(vpc) = old {
                igw_attach(ctx, id, vpc, false).await?;
            }
            if let Some(vpc) = new {
                igw_attach(ctx, id, vpc, true).await?;
            }
        }
        update_tags(ctx, id, "EC2 Internet Gateway", prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        if let Some(vpc) = get_str(state, "vpc_id") {
            igw_attach(ctx, id, vpc, false).await?;
        }
        delete_with_retry(
            ctx,
            "DeleteInternetGateway",
            "InternetGatewayId",
            id,
            IGW_NOT_FOUND,
            &format!("EC2 Internet Gateway ({id})"),
        )
        .await
    }
}

// ---- routes (shared by aws_route_table and aws_route) ----

/// Inline `route` fields: (attribute, API parameter, describe element);
/// the first three are destinations, the rest targets.
const ROUTE_FIELDS: &[(&str, &str, &str)] = &[
    ("cidr_block", "DestinationCidrBlock", "destinationCidrBlock"),
    (
        "ipv6_cidr_block",
        "DestinationIpv6CidrBlock",
        "destinationIpv6CidrBlock",
    ),
    (
        "destination_prefix_list_id",
        "DestinationPrefixListId",
        "destinationPrefixListId",
    ),
    ("gateway_id", "GatewayId", "gatewayId"),
    ("nat_gateway_id", "NatGatewayId", "natGatewayId"),
    (
        "network_interface_id",
        "NetworkInterfaceId",
        "networkInterfaceId",
    ),
    ("transit_gateway_id", "TransitGatewayId", "transitGatewayId"),
    (
        "vpc_peering_connection_id",
        "VpcPeeringConnectionId",
        "vpcPeeringConnectionId",
    ),
    (
        "egress_only_gateway_id",
        "EgressOnlyInternetGatewayId",
        "egressOnlyInternetGatewayId",
    ),
    ("vpc_endpoint_id", "VpcEndpointId", "vpcEndpointId"),
    ("carrier_gateway_id", "CarrierGatewayId", "carrierGatewayId"),
    ("local_gateway_id", "LocalGatewayId", "localGatewayId"),
    ("core_network_arn", "CoreNetworkArn", "coreNetworkArn"),
];

const DESTINATIONS: usize = 3;

/// True for routes Terraform does not manage inline: the VPC's local
/// route and propagated ones.
fn unmanaged_route(r: &Element) -> bool {
    r.text_at("gatewayId") == Some("local")
        || r.text_at("origin") == Some("EnableVgwRoutePropagation")
}

/// A described route as an inline `route` element.
fn route_element(r: &Element) -> Value {
    Value::Object(
        ROUTE_FIELDS
            .iter()
            .map(|(a, _, x)| {
                (
                    (*a).to_owned(),
                    Value::string(r.text_at(x).unwrap_or_default()),
                )
            })
            .collect(),
    )
}

/// A configured `route` element in the form reads produce (unset → "").
fn normalise_route(r: &Value) -> Value {
    Value::Object(
        ROUTE_FIELDS
            .iter()
            .map(|(a, _, _)| ((*a).to_owned(), Value::string(str_or_empty(r, a))))
            .collect(),
    )
}

/// The destination (API parameter, value) of an inline route.
fn route_destination(r: &Value) -> Option<(&'static str, String)> {
    ROUTE_FIELDS[..DESTINATIONS].iter().find_map(|(a, api, _)| {
        get_str(r, a)
            .filter(|s| !s.is_empty())
            .map(|s| (*api, s.to_owned()))
    })
}

/// Every set field of an inline route as (API parameter, value).
fn route_fields(r: &Value) -> Vec<(&'static str, String)> {
    ROUTE_FIELDS
        .iter()
        .filter_map(|(a, api, _)| {
            get_str(r, a)
                .filter(|s| !s.is_empty())
                .map(|s| (*api, s.to_owned()))
        })
        .collect()
}

fn route_schema() -> Schema {
    ROUTE_FIELDS.iter().fold(Schema::new(), |s, (a, _, _)| {
        s.attr(a, Attribute::optional(Type::String))
    })
}

// ---- aws_route_table ----

pub(super) struct RouteTable;

#[async_trait]
impl ResourceType for RouteTable {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("vpc_id", Attribute::required(Type::String).force_new())
            .attr("id", computed())
            .attr("arn", computed())
            .attr("owner_id", computed())
            .block("route", block(Nesting::Set, route_schema(), 0, None))
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        for r in blocks(config, "route") {
            let dests = ROUTE_FIELDS[..DESTINATIONS]
                .iter()
                .filter(|(a, _, _)| !attr(r, a).is_null())
                .count();
            if dests != 1 && r.is_wholly_known() {
                out.push(
                    ProviderError::new("invalid route")
                        .with_detail("each route needs exactly one of cidr_block, ipv6_cidr_block or destination_prefix_list_id")
                        .at(path("route")),
                );
            }
            for (a, v6) in [("cidr_block", false), ("ipv6_cidr_block", true)] {
                if let Some(mut e) = check_cidr(r, a, v6) {
                    e.attribute = Some(path("route"));
                    out.push(e);
                }
            }
        }
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        // `route` is optional and computed: without route blocks the
        // routes in AWS are left alone.
        let routes = blocks(config, "route");
        let value = if routes.is_empty() {
            match prior {
                Some(p) => attr(p, "route").clone(),
                None => Value::Set(Vec::new()),
            }
        } else if routes.iter().all(|r| r.is_wholly_known()) {
            Value::set_from(routes.into_iter().map(normalise_route).collect())
        } else {
            attr(config, "route").clone()
        };
        set(planned, "route", value);
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let vpc = req_str(planned, "vpc_id")?;
        let mut p = Params::new();
        p.set("VpcId", vpc);
        ec2::tag_specification(&mut p, "route-table", &planned_tags(planned));
        let e = ec2::call(&ctx.client, "CreateRouteTable", &p)
            .await
            .map_err(aws_err(format!("creating Route Table (VPC {vpc})")))?;
        let id = text(&e, "routeTable/routeTableId").ok_or_else(|| {
            ProviderError::new("creating Route Table: no routeTableId in the answer")
        })?;
        for r in blocks(planned, "route") {
            ec2::put_route(&ctx.client, false, &id, &route_fields(r))
                .await
                .map_err(aws_err(format!("creating Route in Route Table ({id})")))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let Some(e) = ec2::describe_route_table(&ctx.client, id)
            .await
            .map_err(aws_err(format!("reading Route Table ({id})")))?
        else {
            return Ok(None);
        };
        let owner = text(&e, "ownerId");
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "arn", arn(ctx, owner.as_deref(), "route-table", id));
        set(&mut v, "owner_id", opt_string(owner));
        set(&mut v, "vpc_id", opt_string(text(&e, "vpcId")));
        let routes = e
            .list("routeSet")
            .into_iter()
            .filter(|r| !unmanaged_route(r))
            .map(route_element)
            .collect();
        set(&mut v, "route", Value::set_from(routes));
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let err = || aws_err(format!("updating Route Table ({id}) routes"));
        let old = blocks(prior, "route");
        let new = blocks(planned, "route");
        let new_dests: Vec<_> = new.iter().filter_map(|r| route_destination(r)).collect();
        // Routes whose destination went away are deleted first.
        for r in &old {
            if let Some(d) = route_destination(r)
                && !new_dests.contains(&d)
            {
                ec2::delete_route(&ctx.client, id, (d.0, &d.1))
                    .await
                    .map_err(err())?;
            }
        }
        for r in &new {
            if old.iter().any(|o| o.equals(r)) {
                continue;
            }
            let d = route_destination(r);
            let exists = old.iter().any(|o| route_destination(o) == d);
            ec2::put_route(&ctx.client, exists, id, &route_fields(r))
                .await
                .map_err(err())?;
        }
        update_tags(ctx, id, "Route Table", prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        let err = || aws_err(format!("deleting Route Table ({id})"));
        // Terraform removes the table's subnet associations first.
        if let Some(e) = ec2::describe_route_table(&ctx.client, id)
            .await
            .map_err(err())?
        {
            for a in e.list("associationSet") {
                if a.text_at("main") == Some("true") {
                    continue;
                }
                if let Some(assoc) = text(a, "routeTableAssociationId") {
                    ec2::act_on(
                        &ctx.client,
                        "DisassociateRouteTable",
                        "AssociationId",
                        &assoc,
                        &["InvalidAssociationID.NotFound"],
                    )
                    .await
                    .map_err(err())?;
                }
            }
        }
        delete_with_retry(
            ctx,
            "DeleteRouteTable",
            "RouteTableId",
            id,
            ec2::ROUTE_TABLE_NOT_FOUND,
            &format!("Route Table ({id})"),
        )
        .await
    }
}

// ---- aws_route_table_association ----

pub(super) struct Association;

/// Finds the association of `subnet` or `gateway` with a route table:
/// (association id, route table id).
async fn find_association(
    ctx: &Ctx,
    id: Option<&str>,
    target: Option<&str>,
) -> Result<Option<(String, String)>, crate::Error> {
    let pairs: Vec<(&str, &str)> = match (id, target) {
        (Some(i), _) if i.starts_with("rtbassoc-") => {
            vec![("association.route-table-association-id", i)]
        }
        (_, Some(t)) if t.starts_with("subnet-") => vec![("association.subnet-id", t)],
        (_, Some(t)) => vec![("association.gateway-id", t)],
        _ => return Ok(None),
    };
    let mut p = Params::new();
    one_filter(&mut p, &pairs);
    let tables = ec2::describe_all(&ctx.client, "DescribeRouteTables", &p, "routeTableSet").await?;
    for t in &tables {
        for a in t.list("associationSet") {
            let Some(aid) = text(a, "routeTableAssociationId") else {
                continue;
            };
            let state = a.text_at("associationState/state").unwrap_or("associated");
            if state == "disassociated" || state == "failed" {
                continue;
            }
            let matches = match id.filter(|i| i.starts_with("rtbassoc-")) {
                Some(i) => aid == i,
                None => {
                    let t = target.unwrap_or_default();
                    a.text_at("subnetId") == Some(t) || a.text_at("gatewayId") == Some(t)
                }
            };
            if matches {
                let rtb = text(a, "routeTableId").or_else(|| text(t, "routeTableId"));
                return Ok(Some((aid, rtb.unwrap_or_default())));
            }
        }
    }
    Ok(None)
}

#[async_trait]
impl ResourceType for Association {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("subnet_id", Attribute::optional(Type::String).force_new())
            .attr("gateway_id", Attribute::optional(Type::String).force_new())
            .attr("route_table_id", Attribute::required(Type::String))
            .attr("id", computed())
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let (s, g) = (attr(config, "subnet_id"), attr(config, "gateway_id"));
        if s.is_known() && g.is_known() && s.is_null() == g.is_null() {
            return vec![
                ProviderError::new("invalid combination of arguments")
                    .with_detail("exactly one of subnet_id or gateway_id must be specified")
                    .at(path("subnet_id")),
            ];
        }
        Vec::new()
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let rtb = req_str(planned, "route_table_id")?;
        let mut p = Params::new();
        p.set("RouteTableId", rtb)
            .opt("SubnetId", get_str(planned, "subnet_id"))
            .opt("GatewayId", get_str(planned, "gateway_id"));
        let e = ec2::call(&ctx.client, "AssociateRouteTable", &p)
            .await
            .map_err(aws_err(format!("creating Route Table ({rtb}) Association")))?;
        let id = text(&e, "associationId").ok_or_else(|| {
            ProviderError::new("creating Route Table Association: no associationId in the answer")
        })?;
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = get_str(state, "id");
        let target = get_str(state, "subnet_id").or_else(|| get_str(state, "gateway_id"));
        let err = || {
            aws_err(format!(
                "reading Route Table Association ({})",
                id.unwrap_or_default()
            ))
        };
        let mut found = find_association(ctx, id, None).await.map_err(err())?;
        // An association replaced in place (or imported as
        // `subnet-.../rtb-...`) is found by its subnet or gateway.
        if found.is_none() {
            found = find_association(ctx, None, target)
                .await
                .map_err(err())?
                .filter(|(_, rtb)| Some(rtb.as_str()) == get_str(state, "route_table_id"));
        }
        let Some((aid, rtb)) = found else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", aid);
        set(&mut v, "route_table_id", rtb);
        set(&mut v, "subnet_id", attr(state, "subnet_id").clone());
        set(&mut v, "gateway_id", attr(state, "gateway_id").clone());
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let rtb = req_str(planned, "route_table_id")?;
        let mut p = Params::new();
        p.set("AssociationId", id).set("RouteTableId", rtb);
        ec2::call(&ctx.client, "ReplaceRouteTableAssociation", &p)
            .await
            .map_err(aws_err(format!("updating Route Table Association ({id})")))
            .map(drop)
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        ec2::act_on(
            &ctx.client,
            "DisassociateRouteTable",
            "AssociationId",
            id,
            &["InvalidAssociationID.NotFound"],
        )
        .await
        .map_err(aws_err(format!("deleting Route Table Association ({id})")))
    }

    /// `subnet-xxx/rtb-xxx` or `igw-xxx/rtb-xxx`.
    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let Some((target, rtb)) = id
            .split_once('/')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        else {
            return Err(
                ProviderError::new("unexpected format for import id").with_detail(format!(
                    "{id:?}: expected SUBNET_ID/ROUTE_TABLE_ID or GATEWAY_ID/ROUTE_TABLE_ID"
                )),
            );
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "route_table_id", rtb);
        let key = if target.starts_with("subnet-") {
            "subnet_id"
        } else {
            "gateway_id"
        };
        set(&mut v, key, target);
        Ok(v)
    }
}

// ---- aws_route ----

pub(super) struct Route;

/// Standalone route destinations: (attribute, API parameter, element).
const ROUTE_DESTS: &[(&str, &str, &str)] = &[
    (
        "destination_cidr_block",
        "DestinationCidrBlock",
        "destinationCidrBlock",
    ),
    (
        "destination_ipv6_cidr_block",
        "DestinationIpv6CidrBlock",
        "destinationIpv6CidrBlock",
    ),
    (
        "destination_prefix_list_id",
        "DestinationPrefixListId",
        "destinationPrefixListId",
    ),
];

/// The id Terraform gives a route: `r-` + table id + hash of destination.
pub(crate) fn route_id(table: &str, destination: &str) -> String {
    format!("r-{table}{}", hashcode(destination))
}

fn standalone_destination(v: &Value) -> Option<(&'static str, &'static str, String)> {
    ROUTE_DESTS
        .iter()
        .find_map(|(a, api, x)| get_str(v, a).map(|s| (*api, *x, s.to_owned())))
}

#[async_trait]
impl ResourceType for Route {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr(
                "route_table_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr("id", computed())
            .attr("instance_id", computed())
            .attr("instance_owner_id", computed())
            .attr("origin", computed())
            .attr("state", computed());
        for (a, _, _) in ROUTE_DESTS {
            s = s.attr(a, Attribute::optional(Type::String).force_new());
        }
        for (a, _, _) in &ROUTE_FIELDS[DESTINATIONS..] {
            let at = if *a == "network_interface_id" {
                Attribute::optional_computed(Type::String)
            } else {
                Attribute::optional(Type::String)
            };
            s = s.attr(a, at);
        }
        s
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out: Vec<ProviderError> = [
            check_cidr(config, "destination_cidr_block", false),
            check_cidr(config, "destination_ipv6_cidr_block", true),
        ]
        .into_iter()
        .flatten()
        .collect();
        let set_dests = ROUTE_DESTS
            .iter()
            .filter(|(a, _, _)| !attr(config, a).is_null())
            .count();
        let all_known = ROUTE_DESTS
            .iter()
            .all(|(a, _, _)| attr(config, a).is_known());
        if all_known && set_dests != 1 {
            out.push(
                ProviderError::new("invalid combination of arguments")
                    .with_detail("exactly one of destination_cidr_block, destination_ipv6_cidr_block or destination_prefix_list_id must be specified")
                    .at(path("destination_cidr_block")),
            );
        }
        out
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let rtb = req_str(planned, "route_table_id")?;
        let Some((api, _, dest)) = standalone_destination(planned) else {
            return Err(
                ProviderError::new("missing route destination").at(path("destination_cidr_block"))
            );
        };
        let mut fields = vec![(api, dest.clone())];
        for (a, api, _) in &ROUTE_FIELDS[DESTINATIONS..] {
            if let Some(s) = get_str(planned, a) {
                fields.push((*api, s.to_owned()));
            }
        }
        ec2::put_route(&ctx.client, false, rtb, &fields)
            .await
            .map_err(aws_err(format!(
                "creating Route in Route Table ({rtb}) with destination ({dest})"
            )))?;
        let mut v = planned.clone();
        set(&mut v, "id", route_id(rtb, &dest));
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let rtb = req_str(state, "route_table_id")?;
        let Some((_, elem, dest)) = standalone_destination(state) else {
            return Ok(None);
        };
        let Some(t) = ec2::describe_route_table(&ctx.client, rtb)
            .await
            .map_err(aws_err(format!("reading Route in Route Table ({rtb})")))?
        else {
            return Ok(None);
        };
        let Some(r) = t
            .list("routeSet")
            .into_iter()
            .find(|r| r.text_at(elem) == Some(dest.as_str()))
        else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", route_id(rtb, &dest));
        set(&mut v, "route_table_id", rtb);
        for (a, _, x) in ROUTE_DESTS.iter().chain(&ROUTE_FIELDS[DESTINATIONS..]) {
            set(&mut v, a, opt_string(text(r, x)));
        }
        set(&mut v, "instance_id", opt_string(text(r, "instanceId")));
        set(
            &mut v,
            "instance_owner_id",
            opt_string(text(r, "instanceOwnerId")),
        );
        set(&mut v, "origin", opt_string(text(r, "origin")));
        set(&mut v, "state", opt_string(text(r, "state")));
        Ok(Some(v))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
    ) -> Result<(), ProviderError> {
        let rtb = req_str(planned, "route_table_id")?;
        let Some((api, _, dest)) = standalone_destination(planned) else {
            return Ok(());
        };
        let mut fields = vec![(api, dest.clone())];
        let targets: Vec<(&str, &str)> = ROUTE_FIELDS[DESTINATIONS..]
            .iter()
            .filter_map(|(a, api, _)| get_str(planned, a).map(|_| (*a, *api)))
            .collect();
        let others = targets.iter().any(|(a, _)| *a != "network_interface_id");
        for (a, api) in targets {
            // A network interface AWS reported for another target is not
            // a target of its own.
            if a == "network_interface_id" && others {
                continue;
            }
            fields.push((api, str_or_empty(planned, a)));
        }
        ec2::put_route(&ctx.client, true, rtb, &fields)
            .await
            .map_err(aws_err(format!(
                "updating Route in Route Table ({rtb}) with destination ({dest})"
            )))
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let rtb = req_str(state, "route_table_id")?;
        let Some((api, _, dest)) = standalone_destination(state) else {
            return Ok(());
        };
        ec2::delete_route(&ctx.client, rtb, (api, &dest))
            .await
            .map_err(aws_err(format!(
                "deleting Route in Route Table ({rtb}) with destination ({dest})"
            )))
    }

    /// `rtb-xxx_0.0.0.0/0` (or an IPv6 CIDR or prefix list id).
    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let Some((rtb, dest)) = id
            .split_once('_')
            .filter(|(a, b)| a.starts_with("rtb-") && !b.is_empty())
        else {
            return Err(
                ProviderError::new("unexpected format for import id").with_detail(format!(
                    "{id:?}: expected ROUTETABLEID_DESTINATION (rtb-12345678_0.0.0.0/0)"
                )),
            );
        };
        let key = if dest.starts_with("pl-") {
            "destination_prefix_list_id"
        } else if dest.contains(':') {
            "destination_ipv6_cidr_block"
        } else {
            "destination_cidr_block"
        };
        let mut v = null_object(&self.schema());
        set(&mut v, "id", route_id(rtb, dest));
        set(&mut v, "route_table_id", rtb);
        set(&mut v, key, dest);
        Ok(v)
    }
}
