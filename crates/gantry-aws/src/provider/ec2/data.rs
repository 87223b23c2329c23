//! Data sources aws_availability_zones and aws_ami.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::super::values::{
    attr, blocks, get_bool, get_str, get_strings, opt_string, set, string_map,
};
use super::super::{Ctx, DataSourceType, aws_err, block};
use crate::service::ec2::{self, text};

pub(super) fn data_sources() -> super::super::DataSources {
    vec![
        ("aws_availability_zones", Box::new(AvailabilityZones)),
        ("aws_ami", Box::new(Ami)),
    ]
}

fn filter_block() -> gantry_iac::provider::NestedBlock {
    block(
        Nesting::Set,
        Schema::new()
            .attr("name", Attribute::required(Type::String))
            .attr("values", Attribute::required(Type::set(Type::String))),
        0,
        None,
    )
}

/// The `filter` blocks as (name, values).
fn filters_of(config: &Value) -> Vec<(String, Vec<String>)> {
    blocks(config, "filter")
        .into_iter()
        .filter_map(|f| Some((get_str(f, "name")?.to_owned(), get_strings(f, "values"))))
        .collect()
}

fn strings(xs: Vec<String>) -> Value {
    Value::List(xs.into_iter().map(Value::String).collect())
}

pub(super) struct AvailabilityZones;

#[async_trait]
impl DataSourceType for AvailabilityZones {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("all_availability_zones", Attribute::optional(Type::Bool))
            .attr(
                "exclude_names",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "exclude_zone_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr("state", Attribute::optional(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("names", Attribute::computed(Type::list(Type::String)))
            .attr("zone_ids", Attribute::computed(Type::list(Type::String)))
            .attr("group_names", Attribute::computed(Type::set(Type::String)))
            .block("filter", filter_block())
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        if let Some(s) = get_str(config, "state")
            && !["available", "information", "impaired", "unavailable"].contains(&s)
        {
            return Err(ProviderError::new("invalid value for state")
                .with_detail(format!(
                    "expected state to be one of [\"available\" \"information\" \"impaired\" \"unavailable\"], got {s}"
                ))
                .at(super::super::path("state")));
        }
        let zones = ec2::describe_availability_zones(
            &ctx.client,
            get_bool(config, "all_availability_zones") == Some(true),
            &filters_of(config),
        )
        .await
        .map_err(aws_err("reading EC2 Availability Zones"))?;
        let exclude_names = get_strings(config, "exclude_names");
        let exclude_ids = get_strings(config, "exclude_zone_ids");
        let state = get_str(config, "state");
        let mut names = Vec::new();
        let mut ids = Vec::new();
        let mut groups = Vec::new();
        for z in &zones {
            let name = z.text_at("zoneName").unwrap_or_default().to_owned();
            let id = z.text_at("zoneId").unwrap_or_default().to_owned();
            if exclude_names.contains(&name)
                || exclude_ids.contains(&id)
                || state.is_some_and(|s| z.text_at("zoneState") != Some(s))
            {
                continue;
            }
            if let Some(g) = text(z, "groupName") {
                groups.push(Value::String(g));
            }
            names.push(name);
            ids.push(id);
        }
        names.sort();
        ids.sort();
        let mut v = config.clone();
        set(&mut v, "id", ctx.region.clone());
        set(&mut v, "names", strings(names));
        set(&mut v, "zone_ids", strings(ids));
        set(&mut v, "group_names", Value::set_from(groups));
        Ok(v)
    }
}

pub(super) struct Ami;

/// String attributes of `aws_ami` read from `DescribeImages`.
const AMI_STRINGS: &[(&str, &str)] = &[
    ("architecture", "architecture"),
    ("boot_mode", "bootMode"),
    ("creation_date", "creationDate"),
    ("deprecation_time", "deprecationTime"),
    ("description", "description"),
    ("hypervisor", "hypervisor"),
    ("image_id", "imageId"),
    ("image_location", "imageLocation"),
    ("image_owner_alias", "imageOwnerAlias"),
    ("image_type", "imageType"),
    ("kernel_id", "kernelId"),
    ("name", "name"),
    ("owner_id", "imageOwnerId"),
    ("platform", "platform"),
    ("platform_details", "platformDetails"),
    ("ramdisk_id", "ramdiskId"),
    ("root_device_name", "rootDeviceName"),
    ("root_device_type", "rootDeviceType"),
    ("sriov_net_support", "sriovNetSupport"),
    ("state", "imageState"),
    ("tpm_support", "tpmSupport"),
    ("usage_operation", "usageOperation"),
    ("virtualization_type", "virtualizationType"),
];

#[async_trait]
impl DataSourceType for Ami {
    fn schema(&self) -> Schema {
        let mut s = Schema::new()
            .attr("owners", Attribute::optional(Type::list(Type::String)))
            .attr(
                "executable_users",
                Attribute::optional(Type::list(Type::String)),
            )
            .attr("most_recent", Attribute::optional(Type::Bool))
            .attr("name_regex", Attribute::optional(Type::String))
            .attr("include_deprecated", Attribute::optional(Type::Bool))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("public", Attribute::computed(Type::Bool))
            .attr("ena_support", Attribute::computed(Type::Bool))
            .attr("root_snapshot_id", Attribute::computed(Type::String))
            .attr("tags", Attribute::computed(Type::map(Type::String)))
            .block("filter", filter_block());
        for (a, _) in AMI_STRINGS {
            s = s.attr(a, Attribute::computed(Type::String));
        }
        s
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        let owners = get_strings(config, "owners");
        let users = get_strings(config, "executable_users");
        let filters = filters_of(config);
        if owners.is_empty() && users.is_empty() && filters.is_empty() {
            return Err(ProviderError::new("missing search criteria").with_detail(
                "one of executable_users, filter or owners must be given to find an AMI",
            ));
        }
        let name_regex = match get_str(config, "name_regex") {
            Some(r) => Some(regex::Regex::new(r).map_err(|e| {
                ProviderError::new("invalid value for name_regex")
                    .with_detail(e.to_string())
                    .at(super::super::path("name_regex"))
            })?),
            None => None,
        };
        let images = ec2::describe_images(
            &ctx.client,
            &owners,
            &users,
            &filters,
            get_bool(config, "include_deprecated") == Some(true),
        )
        .await
        .map_err(aws_err("reading EC2 AMIs"))?;
        let mut found: Vec<_> = images
            .into_iter()
            .filter(|i| {
                name_regex
                    .as_ref()
                    .is_none_or(|r| r.is_match(i.text_at("name").unwrap_or_default()))
            })
            .collect();
        if found.is_empty() {
            return Err(ProviderError::new("no matching EC2 AMI found").with_detail(
                "your query returned no results; change your search criteria and try again",
            ));
        }
        if found.len() > 1 && get_bool(config, "most_recent") != Some(true) {
            return Err(ProviderError::new("multiple EC2 AMIs matched").with_detail(format!(
                "your query returned {} results; use more specific search criteria or set most_recent = true",
                found.len()
            )));
        }
        // The most recent by creation date (RFC 3339 text sorts by
        // time); ties go to the greatest name, then image id, so the
        // same images always give the same answer.
        let key = |i: &crate::xml::Element| {
            ["creationDate", "name", "imageId"].map(|k| i.text_at(k).unwrap_or_default().to_owned())
        };
        found.sort_by_key(|i| std::cmp::Reverse(key(i)));
        let image = &found[0];
        let id = image.text_at("imageId").unwrap_or_default().to_owned();
        let mut v = config.clone();
        for (a, x) in AMI_STRINGS {
            set(&mut v, a, opt_string(text(image, x)));
        }
        set(&mut v, "id", id.clone());
        set(
            &mut v,
            "arn",
            format!("arn:{}:ec2:{}::image/{id}", ctx.partition(), ctx.region),
        );
        set(&mut v, "public", image.text_at("isPublic") == Some("true"));
        set(
            &mut v,
            "ena_support",
            image.text_at("enaSupport") == Some("true"),
        );
        let root = image.text_at("rootDeviceName").unwrap_or_default();
        let snapshot = image
            .list("blockDeviceMapping")
            .into_iter()
            .find(|m| m.text_at("deviceName") == Some(root))
            .and_then(|m| text(m, "ebs/snapshotId"));
        set(&mut v, "root_snapshot_id", opt_string(snapshot));
        set(&mut v, "tags", string_map(&ec2::tags_of(image)));
        if attr(config, "most_recent").is_null() {
            set(&mut v, "most_recent", false);
        }
        Ok(v)
    }
}
