//! Client commands: talk to a running server's API.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cli::{ClientArgs, EventsCmd, TokenCmd};
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
            let msg = value
                .pointer("/error/message")
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
