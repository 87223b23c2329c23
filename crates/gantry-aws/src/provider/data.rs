//! aws_caller_identity, aws_region and aws_partition.

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{get_str, set};
use super::{Ctx, DataSourceType, aws_err};
use crate::service::sts;

pub(super) fn data_sources() -> super::DataSources {
    vec![
        ("aws_caller_identity", Box::new(CallerIdentity)),
        ("aws_region", Box::new(Region)),
        ("aws_partition", Box::new(Partition)),
    ]
}

pub(super) struct CallerIdentity;

#[async_trait]
impl DataSourceType for CallerIdentity {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("account_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("user_id", Attribute::computed(Type::String))
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        let id = sts::get_caller_identity(&ctx.client)
            .await
            .map_err(aws_err("reading STS Caller Identity"))?;
        let mut v = config.clone();
        set(&mut v, "id", id.account.clone());
        set(&mut v, "account_id", id.account);
        set(&mut v, "arn", id.arn);
        set(&mut v, "user_id", id.user_id);
        Ok(v)
    }
}

pub(super) struct Region;

#[async_trait]
impl DataSourceType for Region {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::optional_computed(Type::String))
            .attr("region", Attribute::optional_computed(Type::String))
            .attr("endpoint", Attribute::optional_computed(Type::String))
            .attr("description", Attribute::computed(Type::String))
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        let name = get_str(config, "region")
            .or_else(|| get_str(config, "name"))
            .unwrap_or(&ctx.region)
            .to_owned();
        let endpoint = format!("ec2.{name}.{}", ctx.dns_suffix());
        if let Some(e) = get_str(config, "endpoint")
            && e != endpoint
        {
            return Err(ProviderError::new("no matching region")
                .with_detail(format!("no region found with endpoint {e:?}")));
        }
        let mut v = config.clone();
        set(&mut v, "id", name.clone());
        set(&mut v, "name", name.clone());
        set(&mut v, "region", name.clone());
        set(&mut v, "endpoint", endpoint);
        set(&mut v, "description", description(&name));
        Ok(v)
    }
}

/// The descriptions AWS gives its regions.
fn description(region: &str) -> String {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "Europe (Ireland)",
        "eu-west-2" => "Europe (London)",
        "eu-west-3" => "Europe (Paris)",
        "eu-central-1" => "Europe (Frankfurt)",
        "eu-north-1" => "Europe (Stockholm)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "sa-east-1" => "South America (Sao Paulo)",
        "ca-central-1" => "Canada (Central)",
        _ => "",
    }
    .to_owned()
}

pub(super) struct Partition;

#[async_trait]
impl DataSourceType for Partition {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("partition", Attribute::computed(Type::String))
            .attr("dns_suffix", Attribute::computed(Type::String))
            .attr("reverse_dns_prefix", Attribute::computed(Type::String))
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ProviderError> {
        let mut v = config.clone();
        let suffix = ctx.dns_suffix();
        let reverse: Vec<&str> = suffix.split('.').rev().collect();
        set(&mut v, "id", ctx.partition());
        set(&mut v, "partition", ctx.partition());
        set(&mut v, "dns_suffix", suffix);
        set(&mut v, "reverse_dns_prefix", reverse.join("."));
        Ok(v)
    }
}
