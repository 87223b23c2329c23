//! Route 53 (REST-XML, API 2013-04-01; one global endpoint).

use reqwest::Method;

use crate::client::{Client, ROUTE53, Request, uri_encode};
use crate::error::Error;
use crate::protocol::rest_xml;
use crate::service::Tags;
use crate::xml::{Element, Writer};

const API: &str = "/2013-04-01";
const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// The hosted zone id without its `/hostedzone/` prefix.
pub fn clean_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

fn req(op: &'static str, method: Method, path: String) -> Request {
    let mut r = Request::new(op, &ROUTE53, method);
    r.path = path;
    r
}

fn zone_path(id: &str) -> String {
    format!("{API}/hostedzone/{}", uri_encode(clean_zone_id(id), false))
}

/// A request document: `root` in the Route 53 namespace around what
/// `body` writes.
fn document(root: &str, body: impl FnOnce(&mut Writer)) -> String {
    let mut w = Writer::default();
    body(&mut w);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root} xmlns=\"{NS}\">{}</{root}>",
        w.finish()
    )
}

fn with_xml(mut r: Request, body: String) -> Request {
    r.headers
        .push(("content-type".into(), "application/xml".into()));
    r.body = body.into_bytes();
    r
}

fn need<'a>(op: &str, e: Option<&'a Element>, what: &str) -> Result<&'a Element, Error> {
    e.ok_or_else(|| Error::response(op, format!("missing {what}")))
}

/// A VPC a private zone is associated with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Vpc {
    pub id: String,
    pub region: String,
}

/// A hosted zone as GetHostedZone describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Zone {
    /// Without the `/hostedzone/` prefix.
    pub id: String,
    /// With the trailing dot Route 53 adds.
    pub name: String,
    pub comment: String,
    pub private: bool,
    pub name_servers: Vec<String>,
    pub vpcs: Vec<Vpc>,
}

fn zone_of(op: &str, root: &Element) -> Result<Zone, Error> {
    let z = need(op, root.child("HostedZone"), "HostedZone")?;
    let t = |k: &str| z.text_at(k).unwrap_or_default().to_owned();
    Ok(Zone {
        id: clean_zone_id(&t("Id")).to_owned(),
        name: t("Name"),
        comment: t("Config/Comment"),
        private: z.text_at("Config/PrivateZone") == Some("true"),
        name_servers: root
            .path("DelegationSet/NameServers")
            .map(|n| {
                n.children_named("NameServer")
                    .map(|s| s.text.clone())
                    .collect()
            })
            .unwrap_or_default(),
        vpcs: root
            .path("VPCs")
            .map(|v| {
                v.children_named("VPC")
                    .map(|x| Vpc {
                        id: x.text_at("VPCId").unwrap_or_default().to_owned(),
                        region: x.text_at("VPCRegion").unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn write_vpc(w: &mut Writer, v: &Vpc) {
    w.start("VPC")
        .elem("VPCRegion", &v.region)
        .elem("VPCId", &v.id)
        .end();
}

/// Creates a hosted zone (private when `vpcs` is not empty; the first
/// VPC goes with the create, the others are associated after). Returns
/// the zone and the change id.
pub async fn create_hosted_zone(
    c: &Client,
    name: &str,
    comment: &str,
    caller_reference: &str,
    vpcs: &[Vpc],
) -> Result<(Zone, String), Error> {
    const OP: &str = "CreateHostedZone";
    let body = document("CreateHostedZoneRequest", |w| {
        w.elem("Name", name);
        if let Some(v) = vpcs.first() {
            write_vpc(w, v);
        }
        w.elem("CallerReference", caller_reference);
        w.start("HostedZoneConfig").elem("Comment", comment);
        if !vpcs.is_empty() {
            w.elem("PrivateZone", "true");
        }
        w.end();
    });
    let r = with_xml(req(OP, Method::POST, format!("{API}/hostedzone")), body);
    let root = need(OP, rest_xml(c, r).await?.as_ref(), "a response")?.clone();
    let zone = zone_of(OP, &root)?;
    let change = root.text_at("ChangeInfo/Id").unwrap_or_default().to_owned();
    Ok((zone, change))
}

/// The zone, or `None` when it does not exist.
pub async fn get_hosted_zone(c: &Client, id: &str) -> Result<Option<Zone>, Error> {
    const OP: &str = "GetHostedZone";
    match rest_xml(c, req(OP, Method::GET, zone_path(id))).await {
        Ok(root) => zone_of(OP, need(OP, root.as_ref(), "a response")?).map(Some),
        Err(e) if e.is(&["NoSuchHostedZone"]) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn update_hosted_zone_comment(c: &Client, id: &str, comment: &str) -> Result<(), Error> {
    let body = document("UpdateHostedZoneCommentRequest", |w| {
        w.elem("Comment", comment);
    });
    let r = with_xml(
        req("UpdateHostedZoneComment", Method::POST, zone_path(id)),
        body,
    );
    rest_xml(c, r).await.map(drop)
}

pub async fn associate_vpc(c: &Client, id: &str, vpc: &Vpc) -> Result<String, Error> {
    let body = document("AssociateVPCWithHostedZoneRequest", |w| write_vpc(w, vpc));
    let r = with_xml(
        req(
            "AssociateVPCWithHostedZone",
            Method::POST,
            format!("{}/associatevpc", zone_path(id)),
        ),
        body,
    );
    let root = rest_xml(c, r).await?;
    Ok(root
        .and_then(|e| e.text_at("ChangeInfo/Id").map(str::to_owned))
        .unwrap_or_default())
}

pub async fn disassociate_vpc(c: &Client, id: &str, vpc: &Vpc) -> Result<String, Error> {
    let body = document("DisassociateVPCFromHostedZoneRequest", |w| {
        write_vpc(w, vpc)
    });
    let r = with_xml(
        req(
            "DisassociateVPCFromHostedZone",
            Method::POST,
            format!("{}/disassociatevpc", zone_path(id)),
        ),
        body,
    );
    let root = rest_xml(c, r).await?;
    Ok(root
        .and_then(|e| e.text_at("ChangeInfo/Id").map(str::to_owned))
        .unwrap_or_default())
}

pub async fn delete_hosted_zone(c: &Client, id: &str) -> Result<(), Error> {
    rest_xml(c, req("DeleteHostedZone", Method::DELETE, zone_path(id)))
        .await
        .map(drop)
}

/// `PENDING` or `INSYNC`.
pub async fn get_change(c: &Client, change_id: &str) -> Result<String, Error> {
    const OP: &str = "GetChange";
    let id = change_id.trim_start_matches("/change/");
    let root = rest_xml(
        c,
        req(
            OP,
            Method::GET,
            format!("{API}/change/{}", uri_encode(id, false)),
        ),
    )
    .await?;
    Ok(need(OP, root.as_ref(), "a response")?
        .text_at("ChangeInfo/Status")
        .unwrap_or_default()
        .to_owned())
}

pub async fn list_tags(c: &Client, zone_id: &str) -> Result<Tags, Error> {
    let r = req(
        "ListTagsForResource",
        Method::GET,
        format!(
            "{API}/tags/hostedzone/{}",
            uri_encode(clean_zone_id(zone_id), false)
        ),
    );
    let root = rest_xml(c, r).await?;
    Ok(root
        .and_then(|e| e.path("ResourceTagSet/Tags").cloned())
        .map(|t| {
            t.children_named("Tag")
                .filter_map(|x| {
                    Some((x.text_at("Key")?.to_owned(), x.text_at("Value")?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default())
}

pub async fn change_tags(
    c: &Client,
    zone_id: &str,
    add: &Tags,
    remove: &[String],
) -> Result<(), Error> {
    let body = document("ChangeTagsForResourceRequest", |w| {
        if !add.is_empty() {
            w.start("AddTags");
            for (k, v) in add {
                w.start("Tag").elem("Key", k).elem("Value", v).end();
            }
            w.end();
        }
        if !remove.is_empty() {
            w.start("RemoveTagKeys");
            for k in remove {
                w.elem("Key", k);
            }
            w.end();
        }
    });
    let r = with_xml(
        req(
            "ChangeTagsForResource",
            Method::POST,
            format!(
                "{API}/tags/hostedzone/{}",
                uri_encode(clean_zone_id(zone_id), false)
            ),
        ),
        body,
    );
    rest_xml(c, r).await.map(drop)
}

/// Where an alias record points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTarget {
    pub zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

/// One resource record set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordSet {
    /// Fully qualified, as Route 53 gives it (trailing dot, `\052` for
    /// a leading `*`).
    pub name: String,
    pub r#type: String,
    pub set_identifier: Option<String>,
    pub weight: Option<i64>,
    pub ttl: Option<i64>,
    pub records: Vec<String>,
    pub alias: Option<AliasTarget>,
}

fn record_set_of(e: &Element) -> RecordSet {
    let t = |k: &str| e.text_at(k).map(str::to_owned);
    RecordSet {
        name: t("Name").unwrap_or_default(),
        r#type: t("Type").unwrap_or_default(),
        set_identifier: t("SetIdentifier"),
        weight: t("Weight").and_then(|w| w.parse().ok()),
        ttl: t("TTL").and_then(|w| w.parse().ok()),
        records: e
            .path("ResourceRecords")
            .map(|r| {
                r.children_named("ResourceRecord")
                    .filter_map(|x| x.text_at("Value").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        alias: e.path("AliasTarget").map(|a| AliasTarget {
            zone_id: a.text_at("HostedZoneId").unwrap_or_default().to_owned(),
            dns_name: a.text_at("DNSName").unwrap_or_default().to_owned(),
            evaluate_target_health: a.text_at("EvaluateTargetHealth") == Some("true"),
        }),
    }
}

fn write_record_set(w: &mut Writer, r: &RecordSet) {
    w.start("ResourceRecordSet")
        .elem("Name", &r.name)
        .elem("Type", &r.r#type);
    if let Some(s) = &r.set_identifier {
        w.elem("SetIdentifier", s);
    }
    if let Some(x) = r.weight {
        w.elem("Weight", &x.to_string());
    }
    if let Some(t) = r.ttl {
        w.elem("TTL", &t.to_string());
    }
    if !r.records.is_empty() {
        w.start("ResourceRecords");
        for v in &r.records {
            w.start("ResourceRecord").elem("Value", v).end();
        }
        w.end();
    }
    if let Some(a) = &r.alias {
        w.start("AliasTarget")
            .elem("HostedZoneId", &a.zone_id)
            .elem("DNSName", &a.dns_name)
            .elem(
                "EvaluateTargetHealth",
                if a.evaluate_target_health {
                    "true"
                } else {
                    "false"
                },
            )
            .end();
    }
    w.end();
}

/// Applies `(action, record set)` changes (`CREATE`, `UPSERT`, `DELETE`)
/// in one batch; returns the change id.
pub async fn change_resource_record_sets(
    c: &Client,
    zone_id: &str,
    changes: &[(&str, &RecordSet)],
) -> Result<String, Error> {
    let body = document("ChangeResourceRecordSetsRequest", |w| {
        w.start("ChangeBatch").start("Changes");
        for (action, r) in changes {
            w.start("Change").elem("Action", action);
            write_record_set(w, r);
            w.end();
        }
        w.end().end();
    });
    let r = with_xml(
        req(
            "ChangeResourceRecordSets",
            Method::POST,
            format!("{}/rrset/", zone_path(zone_id)),
        ),
        body,
    );
    let root = rest_xml(c, r).await?;
    Ok(root
        .and_then(|e| e.text_at("ChangeInfo/Id").map(str::to_owned))
        .unwrap_or_default())
}

/// Record sets in name order starting at `name`/`type` (one page of up
/// to `max` items).
pub async fn list_resource_record_sets(
    c: &Client,
    zone_id: &str,
    name: Option<&str>,
    r#type: Option<&str>,
    max: usize,
) -> Result<Vec<RecordSet>, Error> {
    let mut r = req(
        "ListResourceRecordSets",
        Method::GET,
        format!("{}/rrset", zone_path(zone_id)),
    );
    if let Some(n) = name {
        r = r.query("name", n);
    }
    if let Some(t) = r#type {
        r = r.query("type", t);
    }
    r = r.query("maxitems", max.to_string());
    let root = rest_xml(c, r).await?;
    Ok(root
        .and_then(|e| e.path("ResourceRecordSets").cloned())
        .map(|s| {
            s.children_named("ResourceRecordSet")
                .map(record_set_of)
                .collect()
        })
        .unwrap_or_default())
}

/// Every record set of the zone (all pages).
pub async fn list_all_record_sets(c: &Client, zone_id: &str) -> Result<Vec<RecordSet>, Error> {
    let mut out = Vec::new();
    let mut start: Option<(String, String, Option<String>)> = None;
    loop {
        let mut r = req(
            "ListResourceRecordSets",
            Method::GET,
            format!("{}/rrset", zone_path(zone_id)),
        );
        if let Some((n, t, i)) = start.take() {
            r = r.query("name", n).query("type", t);
            if let Some(i) = i {
                r = r.query("identifier", i);
            }
        }
        let root = rest_xml(c, r).await?.unwrap_or_default();
        if let Some(s) = root.path("ResourceRecordSets") {
            out.extend(s.children_named("ResourceRecordSet").map(record_set_of));
        }
        match (
            root.text_at("IsTruncated"),
            root.text_at("NextRecordName"),
            root.text_at("NextRecordType"),
        ) {
            (Some("true"), Some(n), Some(t)) => {
                start = Some((
                    n.to_owned(),
                    t.to_owned(),
                    root.text_at("NextRecordIdentifier").map(str::to_owned),
                ))
            }
            _ => return Ok(out),
        }
    }
}
