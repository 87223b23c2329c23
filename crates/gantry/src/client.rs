//! Client commands: talk to a running server's API.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cli::{ClientArgs, EventsCmd, MonitorsArgs, QueryArgs, TokenCmd};
use crate::{CmdResult, Failure};

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(args: &ClientArgs) -> Result<Self, Failure> {
        let token = match std::env::var("GANTRY_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                let path = args.data_dir.join(gantry_server::ADMIN_TOKEN_FILE);
                std::fs::read_to_string(&path)
                    .map(|s| s.trim().to_string())
                    .map_err(|e| {
                        Failure::Usage(anyhow!(
                            "no token: set GANTRY_TOKEN or pass --data-dir pointing at a server's data dir ({}: {e})",
                            path.display()
                        ))
                    })?
            }
        };
        let base = args.server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Usage(anyhow!(
                "--server must be an http:// or https:// URL, got {base:?}"
            )));
        }
        Ok(Client {
            http: reqwest::Client::new(),
            base,
            token,
        })
    }

    /// Sends a request; a non-2xx answer becomes an error carrying the
    /// server's message.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.call_with(method, path, &[], body).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .query(query)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        let status = resp.status();
        let bytes = resp.bytes().await.context("reading the server's answer")?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if !status.is_success() {
            // Gantry's `{"error": {"message"}}` or Prometheus's `{"error": "..."}`.
            let msg = value
                .pointer("/error/message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .map_or_else(|| value.to_string(), str::to_owned);
            return Err(anyhow!("server answered {status}: {msg}"));
        }
        Ok((status, value))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(e.into()))
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

pub fn token(cmd: TokenCmd) -> CmdResult {
    let rt = runtime()?;
    match cmd {
        TokenCmd::Create {
            role,
            name,
            quiet,
            client,
        } => {
            let c = Client::new(&client)?;
            let (_, v) = rt.block_on(c.call(
                Method::POST,
                "/api/v1/tokens",
                Some(serde_json::json!({ "name": name, "role": role })),
            ))?;
            let secret = v.get("token").and_then(Value::as_str).unwrap_or_default();
            if quiet {
                println!("{secret}");
            } else {
                println!(
                    "created token {} ({}, role {})",
                    text(&v, "id"),
                    text(&v, "name"),
                    text(&v, "role")
                );
                println!("{secret}");
                eprintln!("store it now: the secret is not shown again");
            }
        }
        TokenCmd::List { json, client } => {
            let c = Client::new(&client)?;
            let (_, v) = rt.block_on(c.call(Method::GET, "/api/v1/tokens", None))?;
            if json {
                print_json(&v);
            } else {
                let empty = Vec::new();
                let tokens = v.get("tokens").and_then(Value::as_array).unwrap_or(&empty);
                println!(
                    "{:<36}  {:<20}  {:<9}  {:<27}  {:<27}  status",
                    "id", "name", "role", "created", "last used"
                );
                for t in tokens {
                    let status = if t.get("revoked_at").is_some_and(|r| !r.is_null()) {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{:<36}  {:<20}  {:<9}  {:<27}  {:<27}  {status}",
                        text(t, "id"),
                        text(t, "name"),
                        text(t, "role"),
                        text(t, "created_at"),
                        text(t, "last_used_at"),
                    );
                }
            }
        }
        TokenCmd::Revoke { id, client } => {
            let c = Client::new(&client)?;
            rt.block_on(c.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), None))?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

pub fn events(cmd: EventsCmd) -> CmdResult {
    let rt = runtime()?;
    match cmd {
        EventsCmd::List {
            kind,
            subject,
            after,
            limit,
            desc,
            json,
            client,
        } => {
            let c = Client::new(&client)?;
            let mut query = vec![("limit", limit.to_string())];
            if desc {
                query.push(("order", "desc".into()));
            }
            query.extend(after.map(|a| ("after", a.to_string())));
            query.extend(kind.map(|k| ("kind", k)));
            query.extend(subject.map(|s| ("subject", s)));
            let (_, v) = rt.block_on(c.call_with(Method::GET, "/api/v1/events", &query, None))?;
            if json {
                print_json(&v);
            } else {
                let empty = Vec::new();
                for e in v.get("events").and_then(Value::as_array).unwrap_or(&empty) {
                    println!(
                        "{:>8}  {}  {:<28}  {:<32}  {:<16}  {}",
                        text(e, "seq"),
                        text(e, "time"),
                        text(e, "kind"),
                        text(e, "subject"),
                        text(e, "actor"),
                        e.get("data").map(Value::to_string).unwrap_or_default()
                    );
                }
            }
        }
        EventsCmd::Emit {
            kind,
            subject,
            data,
            client,
        } => {
            let data: Value = serde_json::from_str(&data)
                .map_err(|e| Failure::Usage(anyhow!("--data is not valid JSON: {e}")))?;
            let c = Client::new(&client)?;
            let (_, v) = rt.block_on(c.call(
                Method::POST,
                "/api/v1/events",
                Some(serde_json::json!({ "kind": kind, "subject": subject, "data": data })),
            ))?;
            println!("appended event {} ({})", text(&v, "seq"), text(&v, "id"));
        }
    }
    Ok(())
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A time argument for the API: `now`, `-DURATION` (before now), or passed
/// through (Unix seconds, RFC 3339) for the server to check.
fn time_arg(name: &str, text: &str) -> Result<String, Failure> {
    if text == "now" {
        return Ok(format!("{:.3}", now_secs()));
    }
    if let Some(ago) = text.strip_prefix('-') {
        return gantry_config::parse_prom_duration(ago)
            .ok()
            .map(|d| format!("{:.3}", now_secs() - d.as_secs_f64()))
            .ok_or_else(|| Failure::Usage(anyhow!("--{name} {text:?}: expected `now`, `-DURATION` like -1h, Unix seconds or RFC 3339")));
    }
    Ok(text.to_string())
}

fn labels_text(metric: &Value) -> String {
    let Some(obj) = metric.as_object() else {
        return "{}".into();
    };
    let name = obj.get("__name__").and_then(Value::as_str).unwrap_or("");
    let rest: Vec<String> = obj
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", v))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// One line of block characters scaled between the series' min and max.
fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if !v.is_finite() {
                ' '
            } else if hi <= lo {
                BARS[3]
            } else {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            }
        })
        .collect()
}

pub fn query(a: QueryArgs) -> CmdResult {
    let rt = runtime()?;
    let c = Client::new(&a.client)?;
    let (path, mut params) = match &a.start {
        Some(start) => {
            let start = time_arg("start", start)?;
            let end = time_arg("end", a.end.as_deref().unwrap_or("now"))?;
            let step = match &a.step {
                Some(s) => s.clone(),
                None => {
                    let (s, e) = (start.parse::<f64>().ok(), end.parse::<f64>().ok());
                    match (s, e) {
                        (Some(s), Some(e)) if e > s => format!("{:.3}", ((e - s) / 60.0).max(1.0)),
                        _ => "60".to_string(),
                    }
                }
            };
            (
                "/api/v1/query_range",
                vec![("start", start), ("end", end), ("step", step)],
            )
        }
        None => {
            if a.end.is_some() || a.step.is_some() {
                return Err(Failure::Usage(anyhow!(
                    "--end and --step need --start (a range query)"
                )));
            }
            let mut p = Vec::new();
            if let Some(t) = &a.time {
                p.push(("time", time_arg("time", t)?));
            }
            ("/api/v1/query", p)
        }
    };
    params.push(("query", a.expr.clone()));
    let (_, v) = rt.block_on(c.call_with(Method::GET, path, &params, None))?;
    if a.json {
        print_json(&v);
        return Ok(());
    }
    let data = &v["data"];
    let empty = Vec::new();
    let result = data["result"].as_array().unwrap_or(&empty);
    match data["resultType"].as_str() {
        Some("scalar") | Some("string") => println!("{}", data["result"][1].as_str().unwrap_or("")),
        Some("vector") => {
            if result.is_empty() {
                println!("(no data)");
            }
            let rows: Vec<(String, String)> = result
                .iter()
                .map(|r| {
                    (
                        labels_text(&r["metric"]),
                        r["value"][1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let width = rows
                .iter()
                .map(|(l, _)| l.chars().count())
                .max()
                .unwrap_or(0);
            for (l, val) in rows {
                println!("{l:<width$}  {val}");
            }
        }
        Some("matrix") => {
            if result.is_empty() {
                println!("(no data)");
            }
            for r in result {
                let points = r["values"].as_array().unwrap_or(&empty);
                let values: Vec<f64> = points
                    .iter()
                    .map(|p| {
                        p[1].as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(f64::NAN)
                    })
                    .collect();
                let finite = values.iter().copied().filter(|v| v.is_finite());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                });
                println!("{}", labels_text(&r["metric"]));
                println!(
                    "  {}  min {lo} max {hi} last {}",
                    sparkline(&values),
                    values.last().copied().unwrap_or(f64::NAN)
                );
            }
        }
        other => {
            return Err(Failure::Failed(anyhow!(
                "unexpected answer from the server: resultType {other:?}"
            )));
        }
    }
    Ok(())
}

pub fn monitors(a: MonitorsArgs) -> CmdResult {
    let rt = runtime()?;
    let c = Client::new(&a.client)?;
    let (_, v) = rt.block_on(c.call(Method::GET, "/api/v1/monitors", None))?;
    if a.json {
        print_json(&v);
        return Ok(());
    }
    let empty = Vec::new();
    let list = v["monitors"].as_array().unwrap_or(&empty);
    if list.is_empty() {
        println!("no monitors: add them under `monitors:` in gantry.yml");
        return Ok(());
    }
    println!(
        "{:<24}  {:<5}  {:<7}  {:<24}  {:>9}  result",
        "name", "type", "state", "last probe", "duration"
    );
    for m in list {
        let duration = m["last_duration_seconds"]
            .as_f64()
            .map_or_else(|| "-".to_string(), |d| format!("{:.0}ms", d * 1000.0));
        let result = match m["last_error"].as_str() {
            Some(e) => e.to_string(),
            None => m["last_result"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default(),
        };
        println!(
            "{:<24}  {:<5}  {:<7}  {:<24}  {:>9}  {result}",
            text(m, "name"),
            text(m, "type"),
            text(m, "state"),
            text(m, "last_probe"),
            duration
        );
    }
    Ok(())
}
