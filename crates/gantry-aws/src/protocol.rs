//! The wire protocols: query (EC2 and IAM/STS/SNS flavours) with XML
//! answers, JSON 1.0/1.1 (`X-Amz-Target`), REST-XML (S3) and REST-JSON.
//! Each helper builds a [`Request`], sends it through the [`Client`] and
//! hands back the parsed answer.

use crate::client::{Client, Request, Response, Service, uri_encode};
use crate::error::Error;
use crate::xml::{self, Element};

/// Query parameters in order, with the two list flavours.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    pub fn set(&mut self, k: impl Into<String>, v: impl Into<String>) -> &mut Self {
        self.0.push((k.into(), v.into()));
        self
    }

    pub fn opt(&mut self, k: &str, v: Option<impl Into<String>>) -> &mut Self {
        if let Some(v) = v {
            self.set(k, v);
        }
        self
    }

    /// IAM/STS/SNS flavour: `Tags.member.1.Key=k`, `Tags.member.1.Value=v`.
    pub fn member_pairs<'a>(
        &mut self,
        prefix: &str,
        key: &str,
        value: &str,
        items: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> &mut Self {
        for (i, (k, v)) in items.into_iter().enumerate() {
            let n = i + 1;
            self.set(format!("{prefix}.member.{n}.{key}"), k.clone());
            self.set(format!("{prefix}.member.{n}.{value}"), v.clone());
        }
        self
    }

    /// IAM/STS/SNS flavour list of scalars: `TagKeys.member.1=k`.
    pub fn member_list<'a>(
        &mut self,
        prefix: &str,
        items: impl IntoIterator<Item = &'a String>,
    ) -> &mut Self {
        for (i, v) in items.into_iter().enumerate() {
            self.set(format!("{prefix}.member.{}", i + 1), v.clone());
        }
        self
    }

    /// EC2 flavour list of scalars: `GroupId.1=sg-1`.
    pub fn ec2_list<'a>(
        &mut self,
        prefix: &str,
        items: impl IntoIterator<Item = &'a String>,
    ) -> &mut Self {
        for (i, v) in items.into_iter().enumerate() {
            self.set(format!("{prefix}.{}", i + 1), v.clone());
        }
        self
    }

    fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A query-protocol call (`Action=...&Version=...`). Returns the
/// `<ActionResult>` element for the IAM flavour, or the root for EC2
/// (which has no result wrapper).
pub async fn query(
    client: &Client,
    service: &'static Service,
    operation: &'static str,
    version: &str,
    params: &Params,
) -> Result<Element, Error> {
    let mut body = format!("Action={operation}&Version={version}");
    let rest = params.encode();
    if !rest.is_empty() {
        body.push('&');
        body.push_str(&rest);
    }
    let req = Request::new(operation, service, reqwest::Method::POST)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body);
    let resp = client.send(&req).await?;
    let root = parse_xml(operation, &resp)?;
    let wrapper = format!("{operation}Result");
    Ok(match root.child(&wrapper) {
        Some(r) => r.clone(),
        None => root,
    })
}

/// A JSON 1.0/1.1 call: `POST /` with `X-Amz-Target: prefix.Operation`.
pub async fn json(
    client: &Client,
    service: &'static Service,
    target_prefix: &str,
    json_version: &str,
    operation: &'static str,
    input: &serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let req = Request::new(operation, service, reqwest::Method::POST)
        .header(
            "content-type",
            format!("application/x-amz-json-{json_version}"),
        )
        .header("x-amz-target", format!("{target_prefix}.{operation}"))
        .body(input.to_string());
    let resp = client.send(&req).await?;
    parse_json(operation, &resp)
}

/// A REST-JSON call: the caller gives method, path and query; the body is
/// JSON both ways.
pub async fn rest_json(
    client: &Client,
    mut req: Request,
    input: Option<&serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    if let Some(b) = input {
        req.body = b.to_string().into_bytes();
        req.headers
            .push(("content-type".into(), "application/json".into()));
    }
    let resp = client.send(&req).await?;
    parse_json(req.operation, &resp)
}

/// A REST-XML call whose answer (if any) is an XML document.
pub async fn rest_xml(client: &Client, req: Request) -> Result<Option<Element>, Error> {
    let resp = client.send(&req).await?;
    if resp.body.trim_ascii().is_empty() {
        return Ok(None);
    }
    parse_xml(req.operation, &resp).map(Some)
}

pub fn parse_xml(operation: &str, resp: &Response) -> Result<Element, Error> {
    xml::parse(&resp.body).map_err(|m| Error::response(operation, m))
}

pub fn parse_json(operation: &str, resp: &Response) -> Result<serde_json::Value, Error> {
    if resp.body.trim_ascii().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_slice(&resp.body)
        .map_err(|e| Error::response(operation, format!("invalid JSON: {e}")))
}
