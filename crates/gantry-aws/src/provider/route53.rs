//! aws_route53_zone and aws_route53_record.

use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::unique_name;
use super::values::{
    attr, blocks, get_bool, get_int, get_str, get_strings, null_object, object, opt_string,
    req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, block, path, planned_tags, tag_changes};
use crate::service::route53::{self, AliasTarget, RecordSet, Vpc};

pub(super) fn resources() -> super::Resources {
    vec![
        ("aws_route53_zone", Box::new(Zone)),
        ("aws_route53_record", Box::new(Record)),
    ]
}

/// Record types Route 53 accepts.
const RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
    "SSHFP", "SVCB", "TLSA", "TXT",
];

/// A zone or record name as Terraform keeps it: Route 53's octal escapes
/// undone, no trailing dot, lowercase.
pub(super) fn normalize_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i + 1..i + 4).unwrap_or_default();
        match u8::from_str_radix(esc, 8) {
            Ok(b) if esc.len() == 3 => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            _ => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out.trim_end_matches('.').to_lowercase()
}

/// The fully qualified record name: `name`, or `name.zone` when it does
/// not already end with the zone's name.
fn expand_record_name(name: &str, zone: &str) -> String {
    let n = normalize_name(name);
    let z = normalize_name(zone);
    if n.is_empty() {
        z
    } else if n == z || n.ends_with(&format!(".{z}")) {
        n
    } else {
        format!("{n}.{z}")
    }
}

/// Waits until a change is INSYNC.
async fn wait_change(ctx: &Ctx, change_id: &str, what: &str) -> Result<(), ProviderError> {
    if change_id.is_empty() {
        return Ok(());
    }
    let mut delay = Duration::from_millis(500);
    for _ in 0..120 {
        let status = route53::get_change(&ctx.client, change_id)
            .await
            .map_err(aws_err(format!("waiting for {what}")))?;
        if status == "INSYNC" {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    Err(ProviderError::new(format!("waiting for {what}"))
        .with_detail(format!("change {change_id} did not become INSYNC")))
}

/// The shared planning marks computed attributes unknown when a
/// force-new argument differs before normalisation (`Example.com.` against
/// `example.com`). When the normalised arguments match the prior state
/// the object stays: its computed attributes are the prior ones.
fn keep_prior_computed(
    prior: Option<&Value>,
    planned: &mut Value,
    force_new: &[&str],
    computed: &[&str],
) {
    let Some(p) = prior else {
        return;
    };
    if force_new
        .iter()
        .any(|k| !(attr(p, k).is_wholly_known() && attr(p, k).equals(attr(planned, k))))
    {
        return;
    }
    for k in computed {
        if !attr(planned, k).is_known() {
            set(planned, k, attr(p, k).clone());
        }
    }
}

// ---- aws_route53_zone

pub(super) struct Zone;

fn zone_arn(ctx: &Ctx, id: &str) -> String {
    format!("arn:{}:route53:::hostedzone/{id}", ctx.partition())
}

/// The VPCs of a value's `vpc` blocks (`vpc_region` defaulting to the
/// provider's region).
fn vpcs(ctx: &Ctx, v: &Value) -> Vec<Vpc> {
    let mut out: Vec<Vpc> = blocks(v, "vpc")
        .into_iter()
        .filter_map(|b| {
            Some(Vpc {
                id: get_str(b, "vpc_id")?.to_owned(),
                region: get_str(b, "vpc_region").unwrap_or(&ctx.region).to_owned(),
            })
        })
        .collect();
    out.sort();
    out
}

fn vpc_blocks(vs: &[Vpc]) -> Value {
    Value::set_from(
        vs.iter()
            .map(|v| {
                object([
                    ("vpc_id", Value::string(v.id.clone())),
                    ("vpc_region", Value::string(v.region.clone())),
                ])
            })
            .collect(),
    )
}

#[async_trait]
impl ResourceType for Zone {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("comment", Attribute::optional_computed(Type::String))
            .attr("force_destroy", Attribute::optional_computed(Type::Bool))
            .attr("id", Attribute::computed(Type::String))
            .attr("zone_id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("primary_name_server", Attribute::computed(Type::String))
            .attr(
                "name_servers",
                Attribute::computed(Type::list(Type::String)),
            )
            .block(
                "vpc",
                block(
                    Nesting::Set,
                    Schema::new()
                        .attr("vpc_id", Attribute::required(Type::String))
                        .attr("vpc_region", Attribute::optional_computed(Type::String)),
                    0,
                    None,
                ),
            )
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("comment", Value::string("Managed by Terraform")),
            ("force_destroy", Value::Bool(false)),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if let Some(n) = get_str(config, "name")
            && (n.trim_end_matches('.').is_empty() || n.len() > 1024)
        {
            out.push(
                ProviderError::new("invalid zone name")
                    .with_detail(format!(
                        "{n:?} must be a domain name of 1 to 1024 characters"
                    ))
                    .at(path("name")),
            );
        }
        if let Some(c) = get_str(config, "comment")
            && c.chars().count() > 256
        {
            out.push(
                ProviderError::new("invalid value for comment")
                    .with_detail("expected length of comment to be in the range (0 - 256)")
                    .at(path("comment")),
            );
        }
        out
    }

    fn plan(
        &self,
        ctx: &Ctx,
        prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        // Terraform keeps the name without its trailing dot, in lowercase.
        if let Some(n) = get_str(planned, "name") {
            let n = normalize_name(n);
            set(planned, "name", n);
        }
        keep_prior_computed(
            prior,
            planned,
            &["name"],
            &[
                "id",
                "zone_id",
                "arn",
                "name_servers",
                "primary_name_server",
            ],
        );
        // A vpc block without vpc_region means the provider's region.
        let vs = attr(planned, "vpc");
        if vs.is_wholly_known() && !blocks(planned, "vpc").is_empty() {
            let filled = vpc_blocks(&vpcs(ctx, planned));
            set(planned, "vpc", filled);
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = req_str(planned, "name")?;
        let err = || format!("creating Route53 Hosted Zone ({name})");
        let vs = vpcs(ctx, planned);
        let (zone, change) = route53::create_hosted_zone(
            &ctx.client,
            name,
            get_str(planned, "comment").unwrap_or("Managed by Terraform"),
            &unique_name("terraform-"),
            &vs,
        )
        .await
        .map_err(aws_err(err()))?;
        wait_change(
            ctx,
            &change,
            &format!("Route53 Hosted Zone ({}) create", zone.id),
        )
        .await?;
        for v in vs.iter().skip(1) {
            let change = route53::associate_vpc(&ctx.client, &zone.id, v)
                .await
                .map_err(aws_err(err()))?;
            wait_change(
                ctx,
                &change,
                &format!("Route53 Hosted Zone ({}) VPC", zone.id),
            )
            .await?;
        }
        let tags = planned_tags(planned);
        if !tags.is_empty() {
            route53::change_tags(&ctx.client, &zone.id, &tags, &[])
                .await
                .map_err(aws_err(format!(
                    "tagging Route53 Hosted Zone ({})",
                    zone.id
                )))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", zone.id.clone());
        set(&mut v, "zone_id", zone.id);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let id = route53::clean_zone_id(req_str(state, "id")?).to_owned();
        let err = || format!("reading Route53 Hosted Zone ({id})");
        let Some(z) = route53::get_hosted_zone(&ctx.client, &id)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        let tags = route53::list_tags(&ctx.client, &id)
            .await
            .map_err(aws_err(format!(
                "listing tags for Route53 Hosted Zone ({id})"
            )))?;
        let mut v = null_object(&self.schema());
        set(&mut v, "id", id.clone());
        set(&mut v, "zone_id", id.clone());
        set(&mut v, "arn", zone_arn(ctx, &id));
        set(&mut v, "name", normalize_name(&z.name));
        set(&mut v, "comment", z.comment);
        set(
            &mut v,
            "force_destroy",
            get_bool(state, "force_destroy").unwrap_or(false),
        );
        let mut ns = z.name_servers;
        set(
            &mut v,
            "primary_name_server",
            opt_string(ns.first().cloned()),
        );
        ns.sort();
        set(
            &mut v,
            "name_servers",
            Value::List(ns.into_iter().map(Value::String).collect()),
        );
        let mut vs = z.vpcs;
        vs.sort();
        set(&mut v, "vpc", vpc_blocks(&vs));
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let id = route53::clean_zone_id(req_str(prior, "id")?).to_owned();
        let err = || format!("updating Route53 Hosted Zone ({id})");
        if !attr(prior, "comment").equals(attr(planned, "comment")) {
            route53::update_hosted_zone_comment(
                &ctx.client,
                &id,
                get_str(planned, "comment").unwrap_or_default(),
            )
            .await
            .map_err(aws_err(err()))?;
        }
        let (old, new) = (vpcs(ctx, prior), vpcs(ctx, planned));
        // Associate first: a private zone must keep at least one VPC.
        for v in new.iter().filter(|v| !old.contains(v)) {
            let change = route53::associate_vpc(&ctx.client, &id, v)
                .await
                .map_err(aws_err(err()))?;
            wait_change(ctx, &change, &format!("Route53 Hosted Zone ({id}) VPC")).await?;
        }
        for v in old.iter().filter(|v| !new.contains(v)) {
            let change = route53::disassociate_vpc(&ctx.client, &id, v)
                .await
                .map_err(aws_err(err()))?;
            wait_change(ctx, &change, &format!("Route53 Hosted Zone ({id}) VPC")).await?;
        }
        let (add, remove) = tag_changes(prior, planned);
        if !add.is_empty() || !remove.is_empty() {
            route53::change_tags(&ctx.client, &id, &add, &remove)
                .await
                .map_err(aws_err(format!("tagging Route53 Hosted Zone ({id})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let id = route53::clean_zone_id(req_str(state, "id")?).to_owned();
        let err = || format!("deleting Route53 Hosted Zone ({id})");
        if get_bool(state, "force_destroy") == Some(true) {
            let apex = match route53::get_hosted_zone(&ctx.client, &id).await {
                Ok(Some(z)) => normalize_name(&z.name),
                Ok(None) => return Ok(()),
                Err(e) => return Err(aws_err(err())(e)),
            };
            let records = route53::list_all_record_sets(&ctx.client, &id)
                .await
                .map_err(aws_err(err()))?;
            // Everything but the zone's own NS and SOA records.
            let doomed: Vec<&RecordSet> = records
                .iter()
                .filter(|r| {
                    !(normalize_name(&r.name) == apex && (r.r#type == "NS" || r.r#type == "SOA"))
                })
                .collect();
            for chunk in doomed.chunks(100) {
                let changes: Vec<(&str, &RecordSet)> =
                    chunk.iter().map(|r| ("DELETE", *r)).collect();
                let change = route53::change_resource_record_sets(&ctx.client, &id, &changes)
                    .await
                    .map_err(aws_err(err()))?;
                wait_change(ctx, &change, &format!("Route53 Hosted Zone ({id}) records")).await?;
            }
        }
        match route53::delete_hosted_zone(&ctx.client, &id).await {
            Err(e) if e.is(&["NoSuchHostedZone"]) => Ok(()),
            r => r.map_err(aws_err(err())),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let mut v = null_object(&self.schema());
        set(&mut v, "id", route53::clean_zone_id(id));
        Ok(v)
    }
}

// ---- aws_route53_record

pub(super) struct Record;

/// `ZONEID_name_TYPE` or `ZONEID_name_TYPE_SETIDENTIFIER`.
fn record_id(zone: &str, name: &str, typ: &str, set_identifier: Option<&str>) -> String {
    match set_identifier.filter(|s| !s.is_empty()) {
        Some(s) => format!("{zone}_{name}_{typ}_{s}"),
        None => format!("{zone}_{name}_{typ}"),
    }
}

/// Splits a record id: (zone, name, type, set identifier). The name may
/// itself hold underscores (`_dmarc.example.com`); the type is the part
/// that is a record type, last or next to last.
fn parse_record_id(id: &str) -> Result<(String, String, String, Option<String>), ProviderError> {
    let bad = || {
        ProviderError::new("unexpected format for ID").with_detail(format!(
            "{id:?}: expected ZONEID_RECORDNAME_TYPE or ZONEID_RECORDNAME_TYPE_SETIDENTIFIER"
        ))
    };
    let (zone, rest) = id.split_once('_').ok_or_else(bad)?;
    if zone.is_empty() {
        return Err(bad());
    }
    let parts: Vec<&str> = rest.split('_').collect();
    let n = parts.len();
    let is_type = |s: &str| RECORD_TYPES.contains(&s.to_ascii_uppercase().as_str());
    let (name_parts, typ, set_id) = if n >= 2 && is_type(parts[n - 1]) {
        (&parts[..n - 1], parts[n - 1], None)
    } else if n >= 3 && is_type(parts[n - 2]) {
        (&parts[..n - 2], parts[n - 2], Some(parts[n - 1].to_owned()))
    } else {
        return Err(bad());
    };
    Ok((
        zone.to_owned(),
        normalize_name(&name_parts.join("_")),
        typ.to_ascii_uppercase(),
        set_id,
    ))
}

/// TXT and SPF values go to Route 53 quoted (in 255-character strings).
fn expand_record_value(typ: &str, v: &str) -> String {
    if (typ == "TXT" || typ == "SPF") && !v.starts_with('"') {
        let chunks: Vec<String> = v
            .as_bytes()
            .chunks(255)
            .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
            .collect();
        if chunks.is_empty() {
            "\"\"".to_owned()
        } else {
            chunks.join(" ")
        }
    } else {
        v.to_owned()
    }
}

/// Undoes [`expand_record_value`].
fn flatten_record_value(typ: &str, v: &str) -> String {
    if (typ == "TXT" || typ == "SPF") && v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        v[1..v.len() - 1].replace("\" \"", "")
    } else {
        v.to_owned()
    }
}

/// Normalised alias target name (as Terraform stores it).
fn normalize_alias_name(s: &str) -> String {
    s.trim_end_matches('.').to_lowercase()
}

impl Record {
    /// The record set a value describes, for a zone named `zone_name`.
    fn record_set(v: &Value, zone_name: &str) -> Result<RecordSet, ProviderError> {
        let typ = req_str(v, "type")?.to_owned();
        let alias = blocks(v, "alias").first().map(|a| AliasTarget {
            zone_id: get_str(a, "zone_id").unwrap_or_default().to_owned(),
            dns_name: get_str(a, "name").unwrap_or_default().to_owned(),
            evaluate_target_health: get_bool(a, "evaluate_target_health").unwrap_or(false),
        });
        let weight = blocks(v, "weighted_routing_policy")
            .first()
            .and_then(|w| get_int(w, "weight"));
        Ok(RecordSet {
            name: expand_record_name(req_str(v, "name")?, zone_name),
            records: get_strings(v, "records")
                .iter()
                .map(|r| expand_record_value(&typ, r))
                .collect(),
            r#type: typ,
            set_identifier: get_str(v, "set_identifier").map(str::to_owned),
            weight,
            ttl: get_int(v, "ttl"),
            alias,
        })
    }

    async fn zone_name(ctx: &Ctx, zone_id: &str) -> Result<Option<String>, ProviderError> {
        route53::get_hosted_zone(&ctx.client, zone_id)
            .await
            .map(|z| z.map(|z| z.name))
            .map_err(aws_err(format!("reading Route53 Hosted Zone ({zone_id})")))
    }

    /// The record set matching name, type and set identifier, if any.
    async fn find(
        ctx: &Ctx,
        zone_id: &str,
        fqdn: &str,
        typ: &str,
        set_identifier: Option<&str>,
    ) -> Result<Option<RecordSet>, ProviderError> {
        let found =
            route53::list_resource_record_sets(&ctx.client, zone_id, Some(fqdn), Some(typ), 100)
                .await;
        let found = match found {
            Ok(f) => f,
            Err(e) if e.is(&["NoSuchHostedZone"]) => return Ok(None),
            Err(e) => {
                return Err(aws_err(format!(
                    "reading Route53 Record ({})",
                    record_id(zone_id, fqdn, typ, set_identifier)
                ))(e));
            }
        };
        Ok(found.into_iter().find(|r| {
            normalize_name(&r.name) == fqdn
                && r.r#type == typ
                && r.set_identifier.as_deref().filter(|s| !s.is_empty())
                    == set_identifier.filter(|s| !s.is_empty())
        }))
    }
}

#[async_trait]
impl ResourceType for Record {
    fn schema(&self) -> Schema {
        Schema::new()
            .attr("zone_id", Attribute::required(Type::String).force_new())
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("type", Attribute::required(Type::String))
            .attr("ttl", Attribute::optional(Type::Number))
            .attr("records", Attribute::optional(Type::set(Type::String)))
            .attr("set_identifier", Attribute::optional(Type::String))
            .attr("allow_overwrite", Attribute::optional_computed(Type::Bool))
            .attr("id", Attribute::computed(Type::String))
            .attr("fqdn", Attribute::computed(Type::String))
            .block(
                "alias",
                block(
                    Nesting::List,
                    Schema::new()
                        .attr("name", Attribute::required(Type::String))
                        .attr("zone_id", Attribute::required(Type::String))
                        .attr("evaluate_target_health", Attribute::required(Type::Bool)),
                    0,
                    Some(1),
                ),
            )
            .block(
                "weighted_routing_policy",
                block(
                    Nesting::List,
                    Schema::new().attr("weight", Attribute::required(Type::Number)),
                    0,
                    Some(1),
                ),
            )
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("allow_overwrite", Value::Bool(false))]
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        if let Some(t) = get_str(config, "type")
            && !RECORD_TYPES.contains(&t)
        {
            out.push(
                ProviderError::new("invalid value for type")
                    .with_detail(format!(
                        "expected type to be one of {:?}, got {t}",
                        RECORD_TYPES
                    ))
                    .at(path("type")),
            );
        }
        if let Some(t) = get_int(config, "ttl")
            && !(0..=2_147_483_647).contains(&t)
        {
            out.push(
                ProviderError::new("invalid value for ttl")
                    .with_detail(format!(
                        "expected ttl to be in the range (0 - 2147483647), got {t}"
                    ))
                    .at(path("ttl")),
            );
        }
        let has = |n: &str| !attr(config, n).is_null();
        let alias = attr(config, "alias");
        let has_alias = match alias.as_seq() {
            Some(a) => !a.is_empty(),
            None => !alias.is_null(),
        };
        if has_alias && (has("records") || has("ttl")) {
            out.push(
                ProviderError::new("conflicting configuration arguments")
                    .with_detail("\"alias\": conflicts with records and ttl")
                    .at(path("alias")),
            );
        }
        if !has_alias && !has("records") {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail("one of records or alias must be specified")
                    .at(path("records")),
            );
        }
        if has("records") && !has("ttl") && !has_alias {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail("\"records\": all of `records,ttl` must be specified")
                    .at(path("ttl")),
            );
        }
        out
    }

    fn plan(
        &self,
        _ctx: &Ctx,
        prior: Option<&Value>,
        _config: &Value,
        planned: &mut Value,
    ) -> Result<(), ProviderError> {
        if let Some(n) = get_str(planned, "name") {
            let n = normalize_name(n);
            set(planned, "name", n);
        }
        keep_prior_computed(prior, planned, &["zone_id", "name"], &["fqdn"]);
        // The id follows name, type and set_identifier.
        let (z, n, t) = (
            get_str(planned, "zone_id"),
            get_str(planned, "name"),
            get_str(planned, "type"),
        );
        let s = attr(planned, "set_identifier");
        if let (Some(z), Some(n), Some(t)) = (z, n, t)
            && s.is_known()
        {
            let id = record_id(route53::clean_zone_id(z), n, t, s.as_str());
            set(planned, "id", id);
        }
        // Alias names are kept as Terraform keeps them.
        if let Some(a) = blocks(planned, "alias").first().copied()
            && let Some(n) = get_str(a, "name")
        {
            let mut a = a.clone();
            set(&mut a, "name", normalize_alias_name(n));
            set(planned, "alias", Value::List(vec![a]));
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let zone_id = route53::clean_zone_id(req_str(planned, "zone_id")?).to_owned();
        let Some(zone_name) = Self::zone_name(ctx, &zone_id).await? else {
            return Err(ProviderError::new("creating Route53 Record")
                .with_detail(format!("no Route53 Hosted Zone with id {zone_id}")));
        };
        let rs = Self::record_set(planned, &zone_name)?;
        let fqdn = normalize_name(&rs.name);
        let id = record_id(
            &zone_id,
            &normalize_name(req_str(planned, "name")?),
            &rs.r#type,
            rs.set_identifier.as_deref(),
        );
        let action = if get_bool(planned, "allow_overwrite") == Some(true) {
            "UPSERT"
        } else {
            "CREATE"
        };
        let change = route53::change_resource_record_sets(&ctx.client, &zone_id, &[(action, &rs)])
            .await
            .map_err(aws_err(format!("creating Route53 Record ({id})")))?;
        wait_change(ctx, &change, &format!("Route53 Record ({id})")).await?;
        let mut v = planned.clone();
        set(&mut v, "id", id);
        set(&mut v, "zone_id", zone_id);
        set(&mut v, "fqdn", fqdn);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let (zone_id, name, typ, set_id) = match (
            get_str(state, "zone_id"),
            get_str(state, "name"),
            get_str(state, "type"),
        ) {
            (Some(z), Some(n), Some(t)) => (
                route53::clean_zone_id(z).to_owned(),
                normalize_name(n),
                t.to_owned(),
                get_str(state, "set_identifier").map(str::to_owned),
            ),
            _ => parse_record_id(req_str(state, "id")?)?,
        };
        let Some(zone_name) = Self::zone_name(ctx, &zone_id).await? else {
            return Ok(None);
        };
        let fqdn = expand_record_name(&name, &zone_name);
        let Some(rs) = Self::find(ctx, &zone_id, &fqdn, &typ, set_id.as_deref()).await? else {
            return Ok(None);
        };
        let mut v = null_object(&self.schema());
        set(
            &mut v,
            "id",
            record_id(&zone_id, &name, &typ, set_id.as_deref()),
        );
        set(&mut v, "zone_id", zone_id);
        set(&mut v, "name", name);
        set(&mut v, "type", typ.clone());
        set(&mut v, "fqdn", fqdn);
        set(&mut v, "set_identifier", opt_string(set_id));
        set(
            &mut v,
            "allow_overwrite",
            get_bool(state, "allow_overwrite").unwrap_or(false),
        );
        set(&mut v, "ttl", rs.ttl.map_or(Value::Null, Value::from));
        let records = if rs.records.is_empty() {
            Value::Null
        } else {
            Value::set_from(
                rs.records
                    .iter()
                    .map(|r| Value::string(flatten_record_value(&typ, r)))
                    .collect(),
            )
        };
        set(&mut v, "records", records);
        let alias = match rs.alias {
            Some(a) => vec![object([
                ("name", Value::string(normalize_alias_name(&a.dns_name))),
                ("zone_id", Value::string(a.zone_id)),
                (
                    "evaluate_target_health",
                    Value::Bool(a.evaluate_target_health),
                ),
            ])],
            None => Vec::new(),
        };
        set(&mut v, "alias", Value::List(alias));
        let weighted = match rs.weight {
            Some(w) => vec![object([("weight", Value::from(w))])],
            None => Vec::new(),
        };
        set(&mut v, "weighted_routing_policy", Value::List(weighted));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let zone_id = route53::clean_zone_id(req_str(prior, "zone_id")?).to_owned();
        let id = req_str(prior, "id")?;
        let Some(zone_name) = Self::zone_name(ctx, &zone_id).await? else {
            return Err(
                ProviderError::new(format!("updating Route53 Record ({id})"))
                    .with_detail(format!("no Route53 Hosted Zone with id {zone_id}")),
            );
        };
        let old = Self::record_set(prior, &zone_name)?;
        let new = Self::record_set(planned, &zone_name)?;
        // Same identity: one UPSERT. A new type or set identifier is a
        // different record set: delete the old one and create the new
        // one in the same batch.
        let changes: Vec<(&str, &RecordSet)> =
            if old.r#type == new.r#type && old.set_identifier == new.set_identifier {
                vec![("UPSERT", &new)]
            } else {
                vec![("DELETE", &old), ("CREATE", &new)]
            };
        let change = route53::change_resource_record_sets(&ctx.client, &zone_id, &changes)
            .await
            .map_err(aws_err(format!("updating Route53 Record ({id})")))?;
        wait_change(ctx, &change, &format!("Route53 Record ({id})")).await
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let zone_id = route53::clean_zone_id(req_str(state, "zone_id")?).to_owned();
        let id = req_str(state, "id")?;
        let Some(zone_name) = Self::zone_name(ctx, &zone_id).await? else {
            return Ok(());
        };
        let rs = Self::record_set(state, &zone_name)?;
        match route53::change_resource_record_sets(&ctx.client, &zone_id, &[("DELETE", &rs)]).await
        {
            Ok(change) => wait_change(ctx, &change, &format!("Route53 Record ({id})")).await,
            // Already gone.
            Err(e)
                if e.is(&["InvalidChangeBatch", "NoSuchHostedZone"])
                    && (e.to_string().contains("not found") || e.is(&["NoSuchHostedZone"])) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_err(format!("deleting Route53 Record ({id})"))(e)),
        }
    }

    fn import(&self, id: &str) -> Result<Value, ProviderError> {
        let (zone, name, typ, set_id) = parse_record_id(id)?;
        let mut v = null_object(&self.schema());
        set(
            &mut v,
            "id",
            record_id(&zone, &name, &typ, set_id.as_deref()),
        );
        set(&mut v, "zone_id", zone);
        set(&mut v, "name", name);
        set(&mut v, "type", typ);
        set(&mut v, "set_identifier", opt_string(set_id));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_name("Example.COM."), "example.com");
        assert_eq!(normalize_name("\\052.example.com."), "*.example.com");
        assert_eq!(expand_record_name("www", "example.com."), "www.example.com");
        assert_eq!(
            expand_record_name("WWW.example.com.", "example.com."),
            "www.example.com"
        );
        assert_eq!(expand_record_name("", "example.com."), "example.com");
    }

    #[test]
    fn record_ids_parse() {
        assert_eq!(
            parse_record_id("Z1_www.example.com_A").unwrap(),
            ("Z1".into(), "www.example.com".into(), "A".into(), None)
        );
        assert_eq!(
            parse_record_id("Z1__dmarc.example.com_TXT_eu").unwrap(),
            (
                "Z1".into(),
                "_dmarc.example.com".into(),
                "TXT".into(),
                Some("eu".into())
            )
        );
        assert!(parse_record_id("Z1_www.example.com").is_err());
        assert!(parse_record_id("nothing").is_err());
    }

    #[test]
    fn txt_values_quote() {
        assert_eq!(expand_record_value("TXT", "v=spf1 -all"), "\"v=spf1 -all\"");
        assert_eq!(expand_record_value("A", "1.2.3.4"), "1.2.3.4");
        let long = "x".repeat(300);
        let e = expand_record_value("TXT", &long);
        assert_eq!(flatten_record_value("TXT", &e), long);
    }
}
