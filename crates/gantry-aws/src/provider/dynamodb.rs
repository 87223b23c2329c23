//! aws_dynamodb_table.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use gantry_iac::provider::{Attribute, NestedBlock, Nesting, ProviderError, Schema};
use gantry_iac::value::{PathStep, Type, Value};
use serde_json::{Value as J, json};

use super::ecr::keep_unset;
use super::logs::check_one_of;
use super::values::{
    attr, blocks, get_bool, get_int, get_str, get_strings, null_object, object, opt_string,
    req_str, set, string_map,
};
use super::{Ctx, ResourceType, aws_err, block, path, planned_tags, tag_changes};
use crate::client::Client;
use crate::service::dynamodb;

pub(super) fn resources() -> super::Resources {
    vec![("aws_dynamodb_table", Box::new(Table))]
}

pub(super) struct Table;

const PROVISIONED: &str = "PROVISIONED";
const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";
const PROJECTIONS: [&str; 3] = ["ALL", "INCLUDE", "KEYS_ONLY"];
const STREAM_VIEW_TYPES: [&str; 4] = ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

fn max_one(schema: Schema) -> NestedBlock {
    block(Nesting::List, schema, 0, Some(1))
}

fn gsi_schema() -> Schema {
    Schema::new()
        .attr("name", Attribute::required(Type::String))
        .attr("hash_key", Attribute::required(Type::String))
        .attr("range_key", Attribute::optional(Type::String))
        .attr("projection_type", Attribute::required(Type::String))
        .attr(
            "non_key_attributes",
            Attribute::optional(Type::set(Type::String)),
        )
        .attr("read_capacity", Attribute::optional(Type::Number))
        .attr("write_capacity", Attribute::optional(Type::Number))
}

fn lsi_schema() -> Schema {
    Schema::new()
        .attr("name", Attribute::required(Type::String))
        .attr("range_key", Attribute::required(Type::String))
        .attr("projection_type", Attribute::required(Type::String))
        .attr(
            "non_key_attributes",
            Attribute::optional(Type::list(Type::String)),
        )
}

fn at(steps: &[&str]) -> Vec<PathStep> {
    steps.iter().map(|s| PathStep::Attr((*s).into())).collect()
}

/// `KeySchema` of a hash key and an optional range key.
fn key_schema(hash: &str, range: Option<&str>) -> J {
    let mut ks = vec![json!({ "AttributeName": hash, "KeyType": "HASH" })];
    if let Some(r) = range {
        ks.push(json!({ "AttributeName": r, "KeyType": "RANGE" }));
    }
    J::Array(ks)
}

fn projection(ix: &Value) -> J {
    let mut p = json!({ "ProjectionType": get_str(ix, "projection_type").unwrap_or("ALL") });
    let nk = get_strings(ix, "non_key_attributes");
    if !nk.is_empty() {
        p["NonKeyAttributes"] = json!(nk);
    }
    p
}

fn throughput(read: i64, write: i64) -> J {
    json!({ "ReadCapacityUnits": read, "WriteCapacityUnits": write })
}

fn provisioned(v: &Value) -> bool {
    get_str(v, "billing_mode").unwrap_or(PROVISIONED) == PROVISIONED
}

fn attribute_definitions(v: &Value) -> J {
    J::Array(
        blocks(v, "attribute")
            .into_iter()
            .map(|a| {
                json!({
                    "AttributeName": get_str(a, "name").unwrap_or_default(),
                    "AttributeType": get_str(a, "type").unwrap_or_default(),
                })
            })
            .collect(),
    )
}

/// The `GlobalSecondaryIndexes` entry (or `Create` update) of one block.
fn gsi_input(ix: &Value, provisioned: bool) -> J {
    let mut g = json!({
        "IndexName": get_str(ix, "name").unwrap_or_default(),
        "KeySchema": key_schema(get_str(ix, "hash_key").unwrap_or_default(), get_str(ix, "range_key")),
        "Projection": projection(ix),
    });
    if provisioned {
        g["ProvisionedThroughput"] = throughput(
            get_int(ix, "read_capacity").unwrap_or(0),
            get_int(ix, "write_capacity").unwrap_or(0),
        );
    }
    g
}

fn by_name<'a>(v: &'a Value, block: &str) -> BTreeMap<String, &'a Value> {
    blocks(v, block)
        .into_iter()
        .filter_map(|b| Some((get_str(b, "name")?.to_owned(), b)))
        .collect()
}

/// True when two index blocks differ in more than their capacities.
fn gsi_shape_differs(a: &Value, b: &Value) -> bool {
    [
        "hash_key",
        "range_key",
        "projection_type",
        "non_key_attributes",
    ]
    .iter()
    .any(|k| !attr(a, k).equals(attr(b, k)))
}

/// A flag read from AWS: null when the prior block left it unset and AWS
/// holds the default `false`.
fn keep_unset_bool(prior: Option<&Value>, name: &str, remote: bool) -> Value {
    if !remote && prior.is_some_and(|p| attr(p, name).is_null()) {
        Value::Null
    } else {
        Value::Bool(remote)
    }
}

fn s<'a>(j: &'a J, p: &str) -> Option<&'a str> {
    j.pointer(p).and_then(J::as_str)
}

fn key_of(schema: Option<&J>, kind: &str) -> Option<String> {
    schema?.as_array()?.iter().find_map(|k| {
        (k.get("KeyType")?.as_str()? == kind)
            .then(|| k.get("AttributeName")?.as_str().map(str::to_owned))
            .flatten()
    })
}

fn non_key_attributes(ix: &J, as_set: bool) -> Value {
    let xs: Vec<Value> = ix
        .pointer("/Projection/NonKeyAttributes")
        .and_then(J::as_array)
        .map(|xs| {
            xs.iter()
                .filter_map(|x| x.as_str().map(Value::string))
                .collect()
        })
        .unwrap_or_default();
    match (xs.is_empty(), as_set) {
        (true, _) => Value::Null,
        (false, true) => Value::set_from(xs),
        (false, false) => Value::List(xs),
    }
}

/// Waits until the table and all of its global indexes are `ACTIVE`.
async fn wait_active(c: &Client, name: &str) -> Result<J, ProviderError> {
    let mut delay = Duration::from_millis(200);
    // Bounded: 120 polls of at most 5 s.
    for _ in 0..120 {
        let t = dynamodb::describe_table(c, name)
            .await
            .map_err(aws_err(format!("waiting for DynamoDB Table ({name})")))?;
        if let Some(t) = t {
            let table_active = s(&t, "/TableStatus") == Some("ACTIVE");
            let gsis_active = t
                .get("GlobalSecondaryIndexes")
                .and_then(J::as_array)
                .is_none_or(|xs| {
                    xs.iter()
                        .all(|g| s(g, "/IndexStatus").is_none_or(|st| st == "ACTIVE"))
                });
            if table_active && gsis_active {
                return Ok(t);
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    Err(ProviderError::new(format!(
        "waiting for DynamoDB Table ({name}) to become active"
    ))
    .with_detail("the table did not reach ACTIVE in time"))
}

#[async_trait]
impl ResourceType for Table {
    fn schema(&self) -> Schema {
        let lsi = NestedBlock {
            force_new: true,
            ..block(Nesting::Set, lsi_schema(), 0, None)
        };
        Schema::new()
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("billing_mode", Attribute::optional(Type::String))
            .attr("hash_key", Attribute::required(Type::String).force_new())
            .attr("range_key", Attribute::optional(Type::String).force_new())
            .attr("read_capacity", Attribute::optional_computed(Type::Number))
            .attr("write_capacity", Attribute::optional_computed(Type::Number))
            .attr("stream_enabled", Attribute::optional(Type::Bool))
            .attr(
                "stream_view_type",
                Attribute::optional_computed(Type::String),
            )
            .attr("stream_arn", Attribute::computed(Type::String))
            .attr("stream_label", Attribute::computed(Type::String))
            .attr(
                "deletion_protection_enabled",
                Attribute::optional(Type::Bool),
            )
            .attr("table_class", Attribute::optional(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .block(
                "attribute",
                block(
                    Nesting::Set,
                    Schema::new()
                        .attr("name", Attribute::required(Type::String))
                        .attr("type", Attribute::required(Type::String)),
                    0,
                    None,
                ),
            )
            .block(
                "global_secondary_index",
                block(Nesting::Set, gsi_schema(), 0, None),
            )
            .block("local_secondary_index", lsi)
            .block(
                "ttl",
                max_one(
                    Schema::new()
                        .attr("attribute_name", Attribute::optional(Type::String))
                        .attr("enabled", Attribute::optional(Type::Bool)),
                ),
            )
            .block(
                "point_in_time_recovery",
                max_one(Schema::new().attr("enabled", Attribute::required(Type::Bool))),
            )
            .block(
                "server_side_encryption",
                max_one(
                    Schema::new()
                        .attr("enabled", Attribute::required(Type::Bool))
                        .attr("kms_key_arn", Attribute::optional_computed(Type::String)),
                ),
            )
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("billing_mode", Value::string(PROVISIONED)),
            ("stream_enabled", Value::Bool(false)),
            ("deletion_protection_enabled", Value::Bool(false)),
            ("table_class", Value::string("STANDARD")),
        ]
    }

    fn tagged(&self) -> bool {
        true
    }

    fn validate(&self, config: &Value) -> Vec<ProviderError> {
        let mut out = Vec::new();
        out.extend(check_one_of(
            config,
            "billing_mode",
            &[PROVISIONED, PAY_PER_REQUEST],
        ));
        out.extend(check_one_of(
            config,
            "table_class",
            &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
        ));
        out.extend(check_one_of(config, "stream_view_type", &STREAM_VIEW_TYPES));
        // Declared attributes: every key must be one, and (as AWS insists)
        // every one must be a key of the table or of an index.
        let attrs_known = attr(config, "attribute").is_wholly_known();
        let mut declared = BTreeMap::new();
        for a in blocks(config, "attribute") {
            if let (Some(n), Some(t)) = (get_str(a, "name"), get_str(a, "type")) {
                if !["S", "N", "B"].contains(&t) {
                    out.push(
                        ProviderError::new("invalid value for attribute type")
                            .with_detail(format!(
                                "attribute {n:?}: expected type to be one of [S, N, B], got {t:?}"
                            ))
                            .at(at(&["attribute"])),
                    );
                }
                declared.insert(n.to_owned(), t.to_owned());
            }
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut need = |key: Option<&str>, what: String, p: Vec<PathStep>| {
            if let Some(k) = key {
                used.insert(k.to_owned());
                if attrs_known && !declared.contains_key(k) {
                    out.push(
                        ProviderError::new("missing attribute definition")
                            .with_detail(format!(
                                "{what} {k:?} must be declared in an attribute block"
                            ))
                            .at(p),
                    );
                }
            }
        };
        need(
            get_str(config, "hash_key"),
            "hash_key".into(),
            path("hash_key"),
        );
        need(
            get_str(config, "range_key"),
            "range_key".into(),
            path("range_key"),
        );
        for g in blocks(config, "global_secondary_index") {
            let n = get_str(g, "name").unwrap_or_default();
            let p = at(&["global_secondary_index"]);
            need(
                get_str(g, "hash_key"),
                format!("hash_key of global_secondary_index {n:?}"),
                p.clone(),
            );
            need(
                get_str(g, "range_key"),
                format!("range_key of global_secondary_index {n:?}"),
                p,
            );
        }
        for l in blocks(config, "local_secondary_index") {
            let n = get_str(l, "name").unwrap_or_default();
            need(
                get_str(l, "range_key"),
                format!("range_key of local_secondary_index {n:?}"),
                at(&["local_secondary_index"]),
            );
        }
        if attrs_known {
            for n in declared.keys().filter(|n| !used.contains(*n)) {
                out.push(
                    ProviderError::new("unindexed attribute")
                        .with_detail(format!(
                            "attribute {n:?} is declared but is not a key of the table or of any index; DynamoDB only takes key attributes"
                        ))
                        .at(at(&["attribute"])),
                );
            }
        }
        for (b, kind) in [
            ("global_secondary_index", "global"),
            ("local_secondary_index", "local"),
        ] {
            for ix in blocks(config, b) {
                if let Some(p) = get_str(ix, "projection_type")
                    && !PROJECTIONS.contains(&p)
                {
                    out.push(
                        ProviderError::new("invalid value for projection_type")
                            .with_detail(format!(
                                "{kind} secondary index {:?}: expected projection_type to be one of [ALL, INCLUDE, KEYS_ONLY], got {p:?}",
                                get_str(ix, "name").unwrap_or_default()
                            ))
                            .at(at(&[b])),
                    );
                }
            }
        }
        if get_str(config, "billing_mode").unwrap_or(PROVISIONED) == PROVISIONED {
            for c in ["read_capacity", "write_capacity"] {
                if attr(config, c).is_null() {
                    out.push(
                        ProviderError::new("missing required argument")
                            .with_detail(format!(
                                "{c} must be set when billing_mode is \"PROVISIONED\""
                            ))
                            .at(path(c)),
                    );
                }
            }
        }
        if get_bool(config, "stream_enabled") == Some(true)
            && attr(config, "stream_view_type").is_null()
        {
            out.push(
                ProviderError::new("missing required argument")
                    .with_detail("stream_view_type must be set when stream_enabled is true")
                    .at(path("stream_view_type")),
            );
        }
        for t in blocks(config, "ttl") {
            if get_bool(t, "enabled") == Some(true)
                && get_str(t, "attribute_name").is_none_or(str::is_empty)
                && attr(t, "attribute_name").is_known()
            {
                out.push(
                    ProviderError::new("missing required argument")
                        .with_detail("ttl: attribute_name must be set when enabled is true")
                        .at(at(&["ttl"])),
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
        let Some(prior) = prior else {
            return Ok(());
        };
        // kms_key_arn is AWS's choice when unset: keep the one it made.
        if let (Some(new), Some(old)) = (
            blocks(planned, "server_side_encryption").first(),
            blocks(prior, "server_side_encryption").first(),
        ) && attr(new, "kms_key_arn").is_null()
            && attr(new, "enabled").equals(attr(old, "enabled"))
            && !attr(old, "kms_key_arn").is_null()
        {
            let block = object([
                ("enabled", attr(new, "enabled").clone()),
                ("kms_key_arn", attr(old, "kms_key_arn").clone()),
            ]);
            set(planned, "server_side_encryption", Value::List(vec![block]));
        }
        let changed = |p: &Value, k: &str| !attr(prior, k).equals(attr(p, k));
        // Capacities AWS picks itself change with the billing mode.
        if changed(planned, "billing_mode") {
            for c in ["read_capacity", "write_capacity"] {
                if attr(config, c).is_null() {
                    set(planned, c, Value::Unknown(Type::Number));
                }
            }
        }
        // A new stream has a new ARN and label.
        if changed(planned, "stream_enabled") || changed(planned, "stream_view_type") {
            set(planned, "stream_arn", Value::Unknown(Type::String));
            set(planned, "stream_label", Value::Unknown(Type::String));
        }
        Ok(())
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ProviderError> {
        let name = req_str(planned, "name")?;
        let err = || format!("creating DynamoDB Table ({name})");
        let prov = provisioned(planned);
        let mut input = json!({
            "TableName": name,
            "AttributeDefinitions": attribute_definitions(planned),
            "KeySchema": key_schema(req_str(planned, "hash_key")?, get_str(planned, "range_key")),
            "BillingMode": if prov { PROVISIONED } else { PAY_PER_REQUEST },
            "DeletionProtectionEnabled": get_bool(planned, "deletion_protection_enabled").unwrap_or(false),
            "TableClass": get_str(planned, "table_class").unwrap_or("STANDARD"),
        });
        if prov {
            input["ProvisionedThroughput"] = throughput(
                get_int(planned, "read_capacity").unwrap_or(0),
                get_int(planned, "write_capacity").unwrap_or(0),
            );
        }
        let gsis: Vec<J> = blocks(planned, "global_secondary_index")
            .into_iter()
            .map(|g| gsi_input(g, prov))
            .collect();
        if !gsis.is_empty() {
            input["GlobalSecondaryIndexes"] = J::Array(gsis);
        }
        let hash = req_str(planned, "hash_key")?;
        let lsis: Vec<J> = blocks(planned, "local_secondary_index")
            .into_iter()
            .map(|l| {
                json!({
                    "IndexName": get_str(l, "name").unwrap_or_default(),
                    "KeySchema": key_schema(hash, get_str(l, "range_key")),
                    "Projection": projection(l),
                })
            })
            .collect();
        if !lsis.is_empty() {
            input["LocalSecondaryIndexes"] = J::Array(lsis);
        }
        if get_bool(planned, "stream_enabled") == Some(true) {
            input["StreamSpecification"] = json!({
                "StreamEnabled": true,
                "StreamViewType": get_str(planned, "stream_view_type").unwrap_or("NEW_AND_OLD_IMAGES"),
            });
        }
        if let Some(sse) = blocks(planned, "server_side_encryption").first()
            && get_bool(sse, "enabled") == Some(true)
        {
            let mut spec = json!({ "Enabled": true, "SSEType": "KMS" });
            if let Some(k) = get_str(sse, "kms_key_arn") {
                spec["KMSMasterKeyId"] = json!(k);
            }
            input["SSESpecification"] = spec;
        }
        let tags = planned_tags(planned);
        if !tags.is_empty() {
            input["Tags"] = dynamodb::tag_list(&tags, "Key", "Value");
        }
        dynamodb::create_table(&ctx.client, input)
            .await
            .map_err(aws_err(err()))?;
        wait_active(&ctx.client, name).await?;
        if let Some(t) = blocks(planned, "ttl").first()
            && get_bool(t, "enabled") == Some(true)
        {
            dynamodb::update_time_to_live(
                &ctx.client,
                name,
                true,
                get_str(t, "attribute_name").unwrap_or_default(),
            )
            .await
            .map_err(aws_err(format!("enabling DynamoDB Table ({name}) TTL")))?;
        }
        if let Some(p) = blocks(planned, "point_in_time_recovery").first()
            && get_bool(p, "enabled") == Some(true)
        {
            dynamodb::set_point_in_time_recovery(&ctx.client, name, true)
                .await
                .map_err(aws_err(format!(
                    "enabling DynamoDB Table ({name}) point-in-time recovery"
                )))?;
        }
        let mut v = planned.clone();
        set(&mut v, "id", name);
        Ok(v)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ProviderError> {
        let name = req_str(state, "id")?;
        let err = || format!("reading DynamoDB Table ({name})");
        let Some(t) = dynamodb::describe_table(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?
        else {
            return Ok(None);
        };
        if s(&t, "/TableStatus") == Some("DELETING") {
            return Ok(None);
        }
        let arn = s(&t, "/TableArn").unwrap_or_default().to_owned();
        let (ttl_on, ttl_attr) = dynamodb::describe_time_to_live(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?;
        let pitr = dynamodb::point_in_time_recovery(&ctx.client, name)
            .await
            .map_err(aws_err(err()))?;
        let tags = dynamodb::list_tags(&ctx.client, &arn)
            .await
            .map_err(aws_err(format!("listing tags for DynamoDB Table ({name})")))?;

        let mut v = null_object(&self.schema());
        set(&mut v, "id", s(&t, "/TableName").unwrap_or(name));
        set(&mut v, "name", s(&t, "/TableName").unwrap_or(name));
        set(&mut v, "arn", arn);
        let billing = s(&t, "/BillingModeSummary/BillingMode").unwrap_or(PROVISIONED);
        let prov = billing == PROVISIONED;
        set(&mut v, "billing_mode", billing);
        let n = |p: &str| t.pointer(p).and_then(J::as_i64).unwrap_or(0);
        set(
            &mut v,
            "read_capacity",
            n("/ProvisionedThroughput/ReadCapacityUnits"),
        );
        set(
            &mut v,
            "write_capacity",
            n("/ProvisionedThroughput/WriteCapacityUnits"),
        );
        let ks = t.get("KeySchema");
        set(&mut v, "hash_key", opt_string(key_of(ks, "HASH")));
        set(&mut v, "range_key", opt_string(key_of(ks, "RANGE")));
        // Only key attributes are part of a table: AWS drops a definition
        // when its last index goes (moto keeps it; drop it here too).
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for schema in std::iter::once(t.get("KeySchema")).chain(
            ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"]
                .iter()
                .filter_map(|k| t.get(*k).and_then(J::as_array))
                .flatten()
                .map(|ix| ix.get("KeySchema")),
        ) {
            for kind in ["HASH", "RANGE"] {
                keys.extend(key_of(schema, kind));
            }
        }
        let attrs: Vec<Value> = t
            .get("AttributeDefinitions")
            .and_then(J::as_array)
            .map(|xs| {
                xs.iter()
                    .filter(|a| s(a, "/AttributeName").is_some_and(|n| keys.contains(n)))
                    .map(|a| {
                        object([
                            ("name", opt_string(s(a, "/AttributeName"))),
                            ("type", opt_string(s(a, "/AttributeType"))),
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        set(&mut v, "attribute", Value::set_from(attrs));
        let gsis: Vec<Value> = t
            .get("GlobalSecondaryIndexes")
            .and_then(J::as_array)
            .map(|xs| {
                xs.iter()
                    .map(|g| {
                        let cap = |p: &str| {
                            if prov {
                                Value::Number(g.pointer(p).and_then(J::as_f64).unwrap_or(0.0))
                            } else {
                                Value::Null
                            }
                        };
                        object([
                            ("name", opt_string(s(g, "/IndexName"))),
                            ("hash_key", opt_string(key_of(g.get("KeySchema"), "HASH"))),
                            ("range_key", opt_string(key_of(g.get("KeySchema"), "RANGE"))),
                            (
                                "projection_type",
                                opt_string(s(g, "/Projection/ProjectionType")),
                            ),
                            ("non_key_attributes", non_key_attributes(g, true)),
                            (
                                "read_capacity",
                                cap("/ProvisionedThroughput/ReadCapacityUnits"),
                            ),
                            (
                                "write_capacity",
                                cap("/ProvisionedThroughput/WriteCapacityUnits"),
                            ),
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        set(&mut v, "global_secondary_index", Value::set_from(gsis));
        let lsis: Vec<Value> = t
            .get("LocalSecondaryIndexes")
            .and_then(J::as_array)
            .map(|xs| {
                xs.iter()
                    .map(|l| {
                        object([
                            ("name", opt_string(s(l, "/IndexName"))),
                            ("range_key", opt_string(key_of(l.get("KeySchema"), "RANGE"))),
                            (
                                "projection_type",
                                opt_string(s(l, "/Projection/ProjectionType")),
                            ),
                            ("non_key_attributes", non_key_attributes(l, false)),
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        set(&mut v, "local_secondary_index", Value::set_from(lsis));

        let stream_on = t
            .pointer("/StreamSpecification/StreamEnabled")
            .and_then(J::as_bool)
            .unwrap_or(false);
        set(&mut v, "stream_enabled", stream_on);
        set(
            &mut v,
            "stream_view_type",
            if stream_on {
                opt_string(s(&t, "/StreamSpecification/StreamViewType"))
            } else {
                Value::Null
            },
        );
        set(&mut v, "stream_arn", opt_string(s(&t, "/LatestStreamArn")));
        set(
            &mut v,
            "stream_label",
            opt_string(s(&t, "/LatestStreamLabel")),
        );
        set(
            &mut v,
            "deletion_protection_enabled",
            t.get("DeletionProtectionEnabled")
                .and_then(J::as_bool)
                .unwrap_or(false),
        );
        // moto does not report the table class: keep what was configured.
        let class = s(&t, "/TableClassSummary/TableClass")
            .map(str::to_owned)
            .or_else(|| get_str(state, "table_class").map(str::to_owned))
            .unwrap_or_else(|| "STANDARD".into());
        set(&mut v, "table_class", class);

        // The three settings blocks: present when AWS has them on, or when
        // the configuration wrote them.
        let had = |k: &str| blocks(state, k).first().copied();
        let prior_ttl = had("ttl");
        if ttl_on || prior_ttl.is_some() {
            let name_v = if ttl_attr.is_empty() {
                prior_ttl.map_or(Value::Null, |p| attr(p, "attribute_name").clone())
            } else {
                Value::string(ttl_attr)
            };
            set(
                &mut v,
                "ttl",
                Value::List(vec![object([
                    ("attribute_name", name_v),
                    ("enabled", keep_unset_bool(prior_ttl, "enabled", ttl_on)),
                ])]),
            );
        }
        if pitr || had("point_in_time_recovery").is_some() {
            set(
                &mut v,
                "point_in_time_recovery",
                Value::List(vec![object([("enabled", Value::Bool(pitr))])]),
            );
        }
        let prior_sse = had("server_side_encryption");
        let sse_on =
            s(&t, "/SSEDescription/Status").is_some_and(|st| st == "ENABLED" || st == "ENABLING");
        if sse_on || prior_sse.is_some() {
            let key = if sse_on {
                s(&t, "/SSEDescription/KMSMasterKeyArn").map(str::to_owned)
            } else {
                None
            };
            set(
                &mut v,
                "server_side_encryption",
                Value::List(vec![object([
                    ("enabled", Value::Bool(sse_on)),
                    ("kms_key_arn", keep_unset(prior_sse, "kms_key_arn", key, "")),
                ])]),
            );
        }
        set(&mut v, "tags_all", string_map(&tags));
        Ok(Some(v))
    }

    async fn update(&self, ctx: &Ctx, prior: &Value, planned: &Value) -> Result<(), ProviderError> {
        let name = req_str(prior, "id")?;
        let c = &ctx.client;
        let err = || format!("updating DynamoDB Table ({name})");
        let changed = |k: &str| !attr(prior, k).equals(attr(planned, k));
        let prov = provisioned(planned);
        let old_gsi = by_name(prior, "global_secondary_index");
        let new_gsi = by_name(planned, "global_secondary_index");

        // Billing mode and table capacity (with the capacities of the
        // indexes that stay when switching to provisioned).
        if changed("billing_mode")
            || (prov && (changed("read_capacity") || changed("write_capacity")))
        {
            let mut input =
                json!({ "BillingMode": if prov { PROVISIONED } else { PAY_PER_REQUEST } });
            if prov {
                input["ProvisionedThroughput"] = throughput(
                    get_int(planned, "read_capacity").unwrap_or(0),
                    get_int(planned, "write_capacity").unwrap_or(0),
                );
                if changed("billing_mode") {
                    let updates: Vec<J> = new_gsi
                        .iter()
                        .filter(|(n, g)| old_gsi.get(*n).is_some_and(|o| !gsi_shape_differs(o, g)))
                        .map(|(n, g)| {
                            json!({ "Update": {
                                "IndexName": n,
                                "ProvisionedThroughput": throughput(
                                    get_int(g, "read_capacity").unwrap_or(0),
                                    get_int(g, "write_capacity").unwrap_or(0),
                                ),
                            }})
                        })
                        .collect();
                    if !updates.is_empty() {
                        input["GlobalSecondaryIndexUpdates"] = J::Array(updates);
                    }
                }
            }
            dynamodb::update_table(c, name, input)
                .await
                .map_err(aws_err(err()))?;
            wait_active(c, name).await?;
        }

        // Global secondary indexes: removed (or reshaped) ones go first,
        // then new ones one at a time, then capacity changes.
        for (n, o) in &old_gsi {
            if new_gsi.get(n).is_none_or(|g| gsi_shape_differs(o, g)) {
                dynamodb::update_table(
                    c,
                    name,
                    json!({ "GlobalSecondaryIndexUpdates": [{ "Delete": { "IndexName": n } }] }),
                )
                .await
                .map_err(aws_err(format!(
                    "deleting DynamoDB Table ({name}) global secondary index ({n})"
                )))?;
                wait_active(c, name).await?;
            }
        }
        for (n, g) in &new_gsi {
            if old_gsi.get(n).is_none_or(|o| gsi_shape_differs(o, g)) {
                dynamodb::update_table(
                    c,
                    name,
                    json!({
                        "AttributeDefinitions": attribute_definitions(planned),
                        "GlobalSecondaryIndexUpdates": [{ "Create": gsi_input(g, prov) }],
                    }),
                )
                .await
                .map_err(aws_err(format!(
                    "creating DynamoDB Table ({name}) global secondary index ({n})"
                )))?;
                wait_active(c, name).await?;
            } else if prov
                && !changed("billing_mode")
                && old_gsi.get(n).is_some_and(|o| {
                    !attr(o, "read_capacity").equals(attr(g, "read_capacity"))
                        || !attr(o, "write_capacity").equals(attr(g, "write_capacity"))
                })
            {
                dynamodb::update_table(
                    c,
                    name,
                    json!({ "GlobalSecondaryIndexUpdates": [{ "Update": {
                        "IndexName": n,
                        "ProvisionedThroughput": throughput(
                            get_int(g, "read_capacity").unwrap_or(0),
                            get_int(g, "write_capacity").unwrap_or(0),
                        ),
                    }}]}),
                )
                .await
                .map_err(aws_err(format!(
                    "updating DynamoDB Table ({name}) global secondary index ({n})"
                )))?;
                wait_active(c, name).await?;
            }
        }

        // Streams: a new view type needs the old stream off first.
        if changed("stream_enabled") || changed("stream_view_type") {
            let on = get_bool(planned, "stream_enabled") == Some(true);
            let was_on = get_bool(prior, "stream_enabled") == Some(true);
            if on && was_on {
                dynamodb::update_table(
                    c,
                    name,
                    json!({ "StreamSpecification": { "StreamEnabled": false } }),
                )
                .await
                .map_err(aws_err(err()))?;
                wait_active(c, name).await?;
            }
            let spec = if on {
                json!({
                    "StreamEnabled": true,
                    "StreamViewType": get_str(planned, "stream_view_type").unwrap_or("NEW_AND_OLD_IMAGES"),
                })
            } else {
                json!({ "StreamEnabled": false })
            };
            dynamodb::update_table(c, name, json!({ "StreamSpecification": spec }))
                .await
                .map_err(aws_err(err()))?;
            wait_active(c, name).await?;
        }

        if changed("server_side_encryption") {
            let sse = blocks(planned, "server_side_encryption").first().copied();
            let on = sse.and_then(|b| get_bool(b, "enabled")) == Some(true);
            let mut spec = json!({ "Enabled": on });
            if on {
                spec["SSEType"] = json!("KMS");
                if let Some(k) = sse.and_then(|b| get_str(b, "kms_key_arn")) {
                    spec["KMSMasterKeyId"] = json!(k);
                }
            }
            dynamodb::update_table(c, name, json!({ "SSESpecification": spec }))
                .await
                .map_err(aws_err(err()))?;
            wait_active(c, name).await?;
        }

        let mut misc = json!({});
        if changed("table_class") {
            misc["TableClass"] = json!(get_str(planned, "table_class").unwrap_or("STANDARD"));
        }
        if changed("deletion_protection_enabled") {
            misc["DeletionProtectionEnabled"] =
                json!(get_bool(planned, "deletion_protection_enabled").unwrap_or(false));
        }
        if misc.as_object().is_some_and(|m| !m.is_empty()) {
            dynamodb::update_table(c, name, misc)
                .await
                .map_err(aws_err(err()))?;
            wait_active(c, name).await?;
        }

        if changed("ttl") {
            let new = blocks(planned, "ttl").first().copied();
            let old = blocks(prior, "ttl").first().copied();
            let on = new.and_then(|b| get_bool(b, "enabled")) == Some(true);
            let was_on = old.and_then(|b| get_bool(b, "enabled")) == Some(true);
            let attr_name = new
                .and_then(|b| get_str(b, "attribute_name"))
                .filter(|s| !s.is_empty())
                .or_else(|| old.and_then(|b| get_str(b, "attribute_name")))
                .unwrap_or_default();
            if on || was_on {
                dynamodb::update_time_to_live(c, name, on, attr_name)
                    .await
                    .map_err(aws_err(format!("updating DynamoDB Table ({name}) TTL")))?;
            }
        }

        if changed("point_in_time_recovery") {
            let on = blocks(planned, "point_in_time_recovery")
                .first()
                .and_then(|b| get_bool(b, "enabled"))
                == Some(true);
            dynamodb::set_point_in_time_recovery(c, name, on)
                .await
                .map_err(aws_err(format!(
                    "updating DynamoDB Table ({name}) point-in-time recovery"
                )))?;
        }

        let arn = req_str(prior, "arn")?;
        let (set_tags, removed) = tag_changes(prior, planned);
        if !removed.is_empty() {
            dynamodb::untag_resource(c, arn, &removed)
                .await
                .map_err(aws_err(format!("untagging DynamoDB Table ({name})")))?;
        }
        if !set_tags.is_empty() {
            dynamodb::tag_resource(c, arn, &set_tags)
                .await
                .map_err(aws_err(format!("tagging DynamoDB Table ({name})")))?;
        }
        Ok(())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), ProviderError> {
        let name = req_str(state, "id")?;
        dynamodb::delete_table(&ctx.client, name)
            .await
            .map_err(aws_err(format!("deleting DynamoDB Table ({name})")))?;
        // Wait until the table is gone (bounded).
        let mut delay = Duration::from_millis(200);
        for _ in 0..120 {
            match dynamodb::describe_table(&ctx.client, name)
                .await
                .map_err(aws_err(format!(
                    "waiting for DynamoDB Table ({name}) deletion"
                )))? {
                None => return Ok(()),
                Some(_) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        Err(
            ProviderError::new(format!("waiting for DynamoDB Table ({name}) deletion"))
                .with_detail("the table still exists"),
        )
    }
}
