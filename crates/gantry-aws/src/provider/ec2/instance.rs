//! aws_instance.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};
use sha1::Digest as _;

use super::super::values::{
    attr, blocks, get_bool, get_int, get_str, get_strings, null_object, object, opt_string,
    req_str, set, string_map,
};
use super::super::{Ctx, ResourceType, aws_err, block, planned_tags};
use super::{arn, update_tags, wait_for};
use crate::protocol::Params;
use crate::service::ec2::{self, text};
use crate::xml::Element;

pub(super) fn resources() -> super::super::Resources {
    vec![("aws_instance", Box::new(Instance))]
}

pub(super) struct Instance;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What Terraform keeps in state for `user_data`: the SHA-1 (hex) of the
/// data, base64-decoded first when it is base64.
pub(crate) fn user_data_hash(s: &str) -> String {
    let bytes = B64.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec());
    sha1::Sha1::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `user_data` as the API takes it: base64, not encoded twice.
fn user_data_wire(s: &str) -> String {
    if B64.decode(s).is_ok() {
        s.to_owned()
    } else {
        B64.encode(s)
    }
}

/// metadata_options fields: (attribute, API name, element, type).
const METADATA: &[(&str, &str, &str, bool)] = &[
    ("http_endpoint", "HttpEndpoint", "httpEndpoint", false),
    ("http_tokens", "HttpTokens", "httpTokens", false),
    (
        "http_put_response_hop_limit",
        "HttpPutResponseHopLimit",
        "httpPutResponseHopLimit",
        true,
    ),
    (
        "instance_metadata_tags",
        "InstanceMetadataTags",
        "instanceMetadataTags",
        false,
    ),
    (
        "http_protocol_ipv6",
        "HttpProtocolIpv6",
        "httpProtocolIpv6",
        false,
    ),
];

fn metadata_schema() -> Schema {
    METADATA.iter().fold(Schema::new(), |s, (a, _, _, num)| {
        s.attr(
            a,
            Attribute::optional_computed(if *num { Type::Number } else { Type::String }),
        )
    })
}

fn root_schema() -> Schema {
    Schema::new()
        .attr("volume_size", Attribute::optional_computed(Type::Number))
        .attr("volume_type", Attribute::optional_computed(Type::String))
        .attr("iops", Attribute::optional_computed(Type::Number))
        .attr("throughput", Attribute::optional_computed(Type::Number))
        .attr(
            "delete_on_termination",
            Attribute::optional_computed(Type::Bool),
        )
        .attr("encrypted", Attribute::computed(Type::Bool))
        .attr("device_name", Attribute::computed(Type::String))
        .attr("volume_id", Attribute::computed(Type::String))
}

/// Fills the unset attributes of a configured single nested block from
/// the prior block (or unknown before the object exists).
fn fill_block(schema: &Schema, config: &Value, prior: Option<&Value>) -> Value {
    let mut m = BTreeMap::new();
    for (name, a) in &schema.attributes {
        let c = attr(config, name);
        let v = if !c.is_null() {
            c.clone()
        } else {
            match prior {
                Some(p) => attr(p, name).clone(),
                None if a.computed => Value::Unknown(a.ty.clone()),
                None => Value::Null,
            }
        };
        m.insert(name.clone(), v);
    }
    Value::Object(m)
}

fn state_name(e: &Element) -> &str {
    e.text_at("instanceState/name").unwrap_or_default()
}

async fn wait_state(ctx: &Ctx, id: &str, want: &str) -> Result<(), ProviderError> {
    wait_for(
        &format!("EC2 Instance ({id}) to become {want}"),
        Duration::from_secs(600),
        move || async move {
            let e = ec2::describe_instance(&ctx.client, id)
                .await
                .map_err(aws_err(format!("reading EC2 Instance ({id})")))?;
            let done = match e {
                Some(e) => state_name(&e) == want,
                None => want == "terminated",
            };
            Ok(done.then_some(()))
        },
    )
    .await
}

/// The root volume's mapping: the one on the root device name, or the
/// only one.
fn root_mapping(e: &Element) -> Option<&Element> {
    let root = e.text_at("rootDeviceName").unwrap_or_default();
    let maps = e.list("blockDeviceMapping");
    maps.iter()
        .find(|m| m.text_at("deviceName") == Some(root))
        .or_else(|| maps.first())
        .copied()
}

async fn profile_association(
    ctx: &Ctx,
    id: &str,
) -> Result<Option<(String, String)>, crate::Error> {
    let mut p = Params::new();
    let ids = [id.to_owned()];
    ec2::filters(&mut p, [("instance-id", &ids[..])]);
    let list = ec2::describe_all(
        &ctx.client,
        "DescribeIamInstanceProfileAssociations",
        &p,
        "iamInstanceProfileAssociationSet",
    )
    .await?;
    Ok(list
        .iter()
        .filter(|a| {
            matches!(
                a.text_at("state"),
                Some("associated") | Some("associating") | None
            )
        })
        .find_map(|a| {
            Some((
                text(a, "associationId")?,
                text(a, "iamInstanceProfile/arn").unwrap_or_default(),
            ))
        }))
}

fn profile_param(p: &mut Params, profile: &str) {
    if profile.starts_with("arn:") {
        p.set("IamInstanceProfile.Arn", profile);
    } else {
        p.set("IamInstanceProfile.Name", profile);
    }
}

/// The name at the end of an instance profile ARN.
fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[async_trait]
impl ResourceType for Instance {
    fn schema(&self) -> Schema {
        let s = |t: Type| Attribute::optional_computed(t);
        Schema::new()
            .attr("ami", Attribute::required(Type::String).force_new())
            .attr("instance_type", s(Type::String))
            .attr("subnet_id", s(Type::String).force_new())
            .attr("vpc_security_group_ids", s(Type::set(Type::String)))
            .attr("key_name", s(Type::String).force_new())
            .attr("user_data", Attribute::optional(Type::String))
            .attr("iam_instance_profile", s(Type::String))
            .attr("associate_public_ip_address", s(Type::Bool).force_new())
            .attr("availability_zone", s(Type::String).force_new())
            .attr("private_ip", s(Type::String).force_new())
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("public_ip", Attribute::computed(Type::String))
            .attr("public_dns", Attribute::computed(Type::String))
            .attr("private_dns", Attribute::computed(Type::String))
            .attr("instance_state", Attribute::computed(Type::String))
            .attr(
                "primary_network_interface_id",
                Attribute::computed(Type::String),
            )
            .block(
                "metadata_options",
                block(Nesting::List, metadata_schema(), 0, Some(1)),
            )
            .block(
                "root_block_device",
                block(Nesting::List, root_schema(), 0, Some(1)),
            )
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        for m in blocks(config, "metadata_options") {
            for (a, allowed) in [
                ("http_endpoint", &["enabled", "disabled"][..]),
                ("http_tokens", &["optional", "required"][..]),
                ("instance_metadata_tags", &["enabled", "disabled"][..]),
                ("http_protocol_ipv6", &["enabled", "disabled"][..]),
            ] {
                if let Some(v) = get_str(m, a)
                    && !allowed.contains(&v)
                {
                    out.push(
                        ProviderError::new(format!("invalid value for metadata_options.{a}"))
                            .with_detail(format!("expected {a} to be one of {allowed:?}, got {v}"))
                            .at(super::super::path("metadata_options")),
                    );
                }
            }
            if let Some(n) = get_int(m, "http_put_response_hop_limit")
                && !(1..=64).contains(&n)
            {
                out.push(
                    ProviderError::new(
                        "invalid value for metadata_options.http_put_response_hop_limit",
                    )
                    .with_detail(format!(
                        "expected http_put_response_hop_limit to be in the range (1 - 64), got {n}"
                    ))
                    .at(super::super::path("metadata_options")),
                );
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
        // Terraform keeps a hash of user_data in state: the same data
        // plans as the hash in state; changed data plans as itself (the
        // read after the write stores its hash).
        if let (Some(c), Some(p)) = (
            get_str(config, "user_data"),
            prior.and_then(|p| get_str(p, "user_data")),
        ) && user_data_hash(c) == p
        {
            let p = p.to_owned();
            set(planned, "user_data", p);
        }
        // Optional, computed blocks: without a block the object's own
        // settings stay; a block's unset fields come from the object.
        for (name, schema) in [
            ("metadata_options", metadata_schema()),
            ("root_block_device", root_schema()),
        ] {
            let cfg = blocks(config, name);
            let prior_block = prior.and_then(|p| blocks(p, name).into_iter().next());
            let v = match cfg.first() {
                None => match prior {
                    Some(p) => attr(p, name).clone(),
                    None => Value::List(Vec::new()),
                },
                Some(c) => Value::List(vec![fill_block(&schema, c, prior_block)]),
            };
            set(planned, name, v);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let ami = req_str(planned, "ami")?;
        let mut p = Params::new();
        p.set("ImageId", ami)
            .set("MinCount", "1")
            .set("MaxCount", "1")
            .opt("InstanceType", get_str(planned, "instance_type"))
            .opt("KeyName", get_str(planned, "key_name"))
            .opt(
                "Placement.AvailabilityZone",
                get_str(planned, "availability_zone"),
            );
        if let Some(ud) = get_str(planned, "user_data") {
            p.set("UserData", user_data_wire(ud));
        }
        let groups = get_strings(planned, "vpc_security_group_ids");
        match get_bool(planned, "associate_public_ip_address") {
            Some(public) => {
                p.set("NetworkInterface.1.DeviceIndex", "0")
                    .set(
                        "NetworkInterface.1.AssociatePublicIpAddress",
                        public.to_string(),
                    )
                    .opt("NetworkInterface.1.SubnetId", get_str(planned, "subnet_id"))
                    .opt(
                        "NetworkInterface.1.PrivateIpAddress",
                        get_str(planned, "private_ip"),
                    )
                    .ec2_list("NetworkInterface.1.SecurityGroupId", groups.iter());
            }
            None => {
                p.opt("SubnetId", get_str(planned, "subnet_id"))
                    .opt("PrivateIpAddress", get_str(planned, "private_ip"))
                    .ec2_list("SecurityGroupId", groups.iter());
            }
        }
        if let Some(profile) = get_str(planned, "iam_instance_profile") {
            profile_param(&mut p, profile);
        }
        if let Some(m) = blocks(planned, "metadata_options").first() {
            for (a, api, _, _) in METADATA {
                if let Some(s) = attr(m, a).to_template_string() {
                    p.set(format!("MetadataOptions.{api}"), s);
                }
            }
        }
        if let Some(r) = blocks(planned, "root_block_device").first() {
            let device = root_device_name(ctx, ami).await?;
            p.set("BlockDeviceMapping.1.DeviceName", device);
            for (a, api) in [
                ("volume_size", "VolumeSize"),
                ("volume_type", "VolumeType"),
                ("iops", "Iops"),
                ("throughput", "Throughput"),
                ("delete_on_termination", "DeleteOnTermination"),
            ] {
                if let Some(s) = attr(r, a).to_template_string() {
                    p.set(format!("BlockDeviceMapping.1.Ebs.{api}"), s);
                }
            }
        }
        ec2::tag_specification(&mut p, "instance", &planned_tags(planned));
        let e = ec2::call(&ctx.client, "RunInstances", &p)
            .await
            .map_err(aws_err(format!("creating EC2 Instance (AMI {ami})")))?;
        let id = e
            .list("instancesSet")
            .first()
            .and_then(|i| text(i, "instanceId"))
            .ok_or_else(|| {
                ProviderError::new("creating EC2 Instance: no instanceId in the answer")
            })?;
        // Terraform waits for the instance to run before it is created.
        wait_state(ctx, &id, "running").await?;
        let mut v = planned.clone();
        set(&mut v, "id", id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = req_str(state, "id")?;
        let err = || aws_err(format!("reading EC2 Instance ({id})"));
        let Some(e) = ec2::describe_instance(&ctx.client, id)
            .await
            .map_err(err())?
        else {
            return Ok(None);
        };
        let st = state_name(&e);
        if st == "terminated" || st == "shutting-down" {
            return Ok(None);
        }
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id);
        set(&mut v, "arn", arn(ctx, None, "instance", id));
        set(&mut v, "ami", opt_string(text(&e, "imageId")));
        set(
            &mut v,
            "instance_type",
            opt_string(text(&e, "instanceType")),
        );
        set(&mut v, "subnet_id", opt_string(text(&e, "subnetId")));
        set(&mut v, "key_name", opt_string(text(&e, "keyName")));
        set(
            &mut v,
            "availability_zone",
            opt_string(text(&e, "placement/availabilityZone")),
        );
        set(
            &mut v,
            "private_ip",
            opt_string(text(&e, "privateIpAddress")),
        );
        let public_ip = text(&e, "ipAddress");
        set(&mut v, "public_ip", opt_string(public_ip.clone()));
        set(&mut v, "public_dns", opt_string(text(&e, "dnsName")));
        set(
            &mut v,
            "private_dns",
            opt_string(text(&e, "privateDnsName")),
        );
        set(&mut v, "instance_state", st);
        let primary = e
            .list("networkInterfaceSet")
            .into_iter()
            .find(|n| n.text_at("attachment/deviceIndex") == Some("0"));
        set(
            &mut v,
            "primary_network_interface_id",
            opt_string(primary.and_then(|n| text(n, "networkInterfaceId"))),
        );
        let mut groups: Vec<Value> = e
            .list("groupSet")
            .into_iter()
            .filter_map(|g| text(g, "groupId").map(Value::String))
            .collect();
        if groups.is_empty()
            && let Some(n) = primary
        {
            groups = n
                .list("groupSet")
                .into_iter()
                .filter_map(|g| text(g, "groupId").map(Value::String))
                .collect();
        }
        set(&mut v, "vpc_security_group_ids", Value::set_from(groups));
        let associate = match get_bool(state, "associate_public_ip_address") {
            Some(b) => b,
            None => public_ip.is_some(),
        };
        set(&mut v, "associate_public_ip_address", associate);
        let profile = text(&e, "iamInstanceProfile/arn").map(|a| profile_name(&a).to_owned());
        set(&mut v, "iam_instance_profile", opt_string(profile));
        let ud = ec2::instance_attribute(&ctx.client, id, "userData")
            .await
            .map_err(err())?;
        set(
            &mut v,
            "user_data",
            opt_string(ud.map(|u| user_data_hash(&u))),
        );
        let md = e.path("metadataOptions");
        let metadata = match md {
            Some(m) => {
                let mut o = BTreeMap::new();
                for (a, _, x, num) in METADATA {
                    let t = text(m, x);
                    let val = match (t, num) {
                        (Some(t), true) => {
                            t.parse::<f64>().map(Value::Number).unwrap_or(Value::Null)
                        }
                        (Some(t), false) => Value::String(t),
                        (None, _) => Value::Null,
                    };
                    o.insert((*a).to_owned(), val);
                }
                vec![Value::Object(o)]
            }
            None => Vec::new(),
        };
        set(&mut v, "metadata_options", Value::List(metadata));
        let mut root = Vec::new();
        if let Some(m) = root_mapping(&e)
            && let Some(vol) = text(m, "ebs/volumeId")
        {
            let d = ec2::describe_volume(&ctx.client, &vol)
                .await
                .map_err(err())?;
            let num = |x: Option<String>| {
                x.and_then(|s| s.parse::<f64>().ok())
                    .map_or(Value::Null, Value::Number)
            };
            let d = d.as_ref();
            root.push(object([
                ("volume_size", num(d.and_then(|d| text(d, "size")))),
                (
                    "volume_type",
                    opt_string(d.and_then(|d| text(d, "volumeType"))),
                ),
                ("iops", num(d.and_then(|d| text(d, "iops")))),
                ("throughput", num(d.and_then(|d| text(d, "throughput")))),
                (
                    "delete_on_termination",
                    Value::Bool(m.text_at("ebs/deleteOnTermination") == Some("true")),
                ),
                (
                    "encrypted",
                    Value::Bool(d.and_then(|d| d.text_at("encrypted")) == Some("true")),
                ),
                ("device_name", opt_string(text(m, "deviceName"))),
                ("volume_id", Value::String(vol)),
            ]));
        }
        set(&mut v, "root_block_device", Value::List(root));
        set(&mut v, "tags_all", string_map(&ec2::tags_of(&e)));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = req_str(prior, "id")?;
        let err = |what: &str| aws_err(format!("updating EC2 Instance ({id}) {what}"));
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        update_tags(ctx, id, "EC2 Instance", prior, planned).await?;
        if changed("vpc_security_group_ids") {
            let mut p = Params::new();
            let groups = get_strings(planned, "vpc_security_group_ids");
            p.set("InstanceId", id).ec2_list("GroupId", groups.iter());
            ec2::call(&ctx.client, "ModifyInstanceAttribute", &p)
                .await
                .map_err(err("vpc_security_group_ids"))?;
        }
        if changed("iam_instance_profile") {
            let current = profile_association(ctx, id)
                .await
                .map_err(err("iam_instance_profile"))?;
            let mut p = Params::new();
            let op = match (get_str(planned, "iam_instance_profile"), &current) {
                (Some(profile), Some((assoc, _))) => {
                    p.set("AssociationId", assoc.clone());
                    profile_param(&mut p, profile);
                    Some("ReplaceIamInstanceProfileAssociation")
                }
                (Some(profile), None) => {
                    p.set("InstanceId", id);
                    profile_param(&mut p, profile);
                    Some("AssociateIamInstanceProfile")
                }
                (None, Some((assoc, _))) => {
                    p.set("AssociationId", assoc.clone());
                    Some("DisassociateIamInstanceProfile")
                }
                (None, None) => None,
            };
            if let Some(op) = op {
                ec2::call(&ctx.client, op, &p)
                    .await
                    .map_err(err("iam_instance_profile"))?;
            }
        }
        if changed("metadata_options")
            && let Some(m) = blocks(planned, "metadata_options").first()
        {
            let mut p = Params::new();
            p.set("InstanceId", id);
            for (a, api, _, _) in METADATA {
                if let Some(s) = attr(m, a).to_template_string() {
                    p.set(*api, s);
                }
            }
            ec2::call(&ctx.client, "ModifyInstanceMetadataOptions", &p)
                .await
                .map_err(err("metadata_options"))?;
        }
        if changed("root_block_device")
            && let (Some(old), Some(new)) = (
                blocks(prior, "root_block_device").first().copied(),
                blocks(planned, "root_block_device").first().copied(),
            )
            && let Some(vol) = get_str(old, "volume_id")
        {
            let mut p = Params::new();
            p.set("VolumeId", vol);
            let mut modify = false;
            for (a, api) in [
                ("volume_size", "Size"),
                ("volume_type", "VolumeType"),
                ("iops", "Iops"),
                ("throughput", "Throughput"),
            ] {
                if !attr(old, a).equals(attr(new, a))
                    && let Some(s) = attr(new, a).to_template_string()
                {
                    p.set(api, s);
                    modify = true;
                }
            }
            if modify {
                ec2::call(&ctx.client, "ModifyVolume", &p)
                    .await
                    .map_err(err("root_block_device"))?;
            }
            if let (Some(d), Some(dev)) = (
                get_bool(new, "delete_on_termination"),
                get_str(old, "device_name"),
            ) && get_bool(old, "delete_on_termination") != Some(d)
            {
                let mut p = Params::new();
                p.set("InstanceId", id)
                    .set("BlockDeviceMapping.1.DeviceName", dev)
                    .set(
                        "BlockDeviceMapping.1.Ebs.DeleteOnTermination",
                        d.to_string(),
                    );
                ec2::call(&ctx.client, "ModifyInstanceAttribute", &p)
                    .await
                    .map_err(err("root_block_device"))?;
            }
        }
        let new_type = changed("instance_type")
            .then(|| get_str(planned, "instance_type"))
            .flatten();
        let new_user_data =
            changed("user_data").then(|| get_str(planned, "user_data").map(user_data_wire));
        if new_type.is_some() || new_user_data.is_some() {
            // Both need the instance stopped, as Terraform does it.
            ec2::instance_action(&ctx.client, "StopInstances", id)
                .await
                .map_err(err("(stopping)"))?;
            wait_state(ctx, id, "stopped").await?;
            if let Some(t) = new_type {
                ec2::modify_instance_attribute(&ctx.client, id, "InstanceType", t)
                    .await
                    .map_err(err("instance_type"))?;
            }
            if let Some(ud) = new_user_data {
                ec2::modify_instance_attribute(
                    &ctx.client,
                    id,
                    "UserData",
                    &ud.unwrap_or_default(),
                )
                .await
                .map_err(err("user_data"))?;
            }
            ec2::instance_action(&ctx.client, "StartInstances", id)
                .await
                .map_err(err("(starting)"))?;
            wait_state(ctx, id, "running").await?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = req_str(state, "id")?;
        match ec2::instance_action(&ctx.client, "TerminateInstances", id).await {
            Err(e) if e.is(ec2::INSTANCE_NOT_FOUND) => return Ok(()),
            r => r.map_err(aws_err(format!("terminating EC2 Instance ({id})")))?,
        }
        wait_state(ctx, id, "terminated").await
    }
}

/// The root device name of an AMI (for `root_block_device`).
async fn root_device_name(ctx: &Ctx, ami: &str) -> Result<String, ProviderError> {
    let e = ec2::describe_one(
        &ctx.client,
        "DescribeImages",
        "ImageId",
        ami,
        "imagesSet",
        &["InvalidAMIID.NotFound", "InvalidAMIID.Malformed"],
    )
    .await
    .map_err(aws_err(format!("reading EC2 AMI ({ami})")))?;
    e.and_then(|e| text(&e, "rootDeviceName")).ok_or_else(|| {
        ProviderError::new(format!("EC2 AMI ({ami}) not found")).at(super::super::path("ami"))
    })
}
