//! Monitoring in the server: the time-series store under the data dir, the
//! scrape manager (Gantry's own `/metrics` by default), remote write out
//! and in, store maintenance, and the Prometheus-compatible HTTP API so
//! Grafana can use Gantry as a Prometheus data source.
//!
//! Responses use Prometheus's envelope (`{"status":"success","data":...}`,
//! errors as `{"status":"error","errorType","error"}` with its status
//! codes), not Gantry's own error shape: clients of this API are
//! Prometheus clients.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use gantry_core::{EventKind, NewEvent};
use gantry_monitor::LabeledSample;
use gantry_monitor::labels::Matcher;
use gantry_monitor::probe::Monitor;
use gantry_monitor::probe::runner::{MonitorStatus, ProbeRunner, ProbeTransition};
use gantry_monitor::promql::{Engine, QueryError};
use gantry_monitor::remote::{self, Endpoint, QueueHandle};
use gantry_monitor::rules::eval::{Alert, AlertState, Group, RuleKind};
use gantry_monitor::scrape::manager::{SampleSink, ScrapeManager, TargetsView};
use gantry_monitor::scrape::{ScrapeConfig, TargetGroup};
use gantry_monitor::tsdb::db::{AppendOutcome, Db, DbError, DbOptions};
use gantry_store::Store;
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;

/// How the server runs monitoring.
#[derive(Debug, Clone)]
pub struct MonitoringOptions {
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Adds a `gantry` job scraping this server's `/metrics`.
    pub self_scrape: bool,
    pub self_scrape_interval: Duration,
    pub db: DbOptions,
    pub remote_write: Vec<Endpoint>,
    /// Probes from gantry.yml `monitors:`.
    pub monitors: Vec<Monitor>,
    /// Rule groups from gantry.yml `rule_files:`.
    pub rule_groups: Vec<Group>,
    /// Labels added to alerts' templates as `$externalLabels`.
    pub external_labels: BTreeMap<String, String>,
}

impl Default for MonitoringOptions {
    fn default() -> Self {
        MonitoringOptions {
            scrape_configs: Vec::new(),
            self_scrape: true,
            self_scrape_interval: Duration::from_secs(15),
            db: DbOptions::default(),
            remote_write: Vec::new(),
            monitors: Vec::new(),
            rule_groups: Vec::new(),
            external_labels: BTreeMap::new(),
        }
    }
}

/// The running monitoring subsystem, shared by handlers.
pub struct Monitoring {
    pub db: Arc<RwLock<Db>>,
    pub engine: Engine,
    targets: Box<dyn Fn() -> TargetsView + Send + Sync>,
    started: SystemTime,
    retention: Option<i64>,
    sink: Arc<DbSink>,
    monitors: Box<dyn Fn() -> Vec<MonitorStatus> + Send + Sync>,
    /// The rule groups as their last evaluation left them.
    groups: Vec<Arc<RwLock<Group>>>,
}

/// Writes scraped and received samples to the store, durably, then offers
/// them to the remote-write queues.
///
/// Durability is a group commit: a writer appends and flushes under the
/// store's lock, then fsyncs outside it. A writer that finds its bytes
/// already covered by another's fsync returns at once; otherwise one fsync
/// covers every writer that appended meanwhile. Queries and other writers
/// never wait for an fsync.
pub struct DbSink {
    db: Arc<RwLock<Db>>,
    queues: Vec<QueueHandle>,
    /// WAL bytes known durable. Held while syncing, so writers queue here
    /// and share the next fsync.
    synced: Mutex<u64>,
}

impl SampleSink for DbSink {
    fn append(&self, batch: Vec<LabeledSample>) -> Result<(), String> {
        self.durably(|db| db.append(&batch))?;
        for q in &self.queues {
            q.offer(&batch);
        }
        Ok(())
    }
}

impl DbSink {
    fn new(db: Arc<RwLock<Db>>, queues: Vec<QueueHandle>) -> DbSink {
        DbSink {
            db,
            queues,
            synced: Mutex::new(0),
        }
    }

    /// Runs `append` on the store, then returns once what it wrote is
    /// durable.
    fn durably(
        &self,
        append: impl FnOnce(&mut Db) -> Result<AppendOutcome, DbError>,
    ) -> Result<(), String> {
        let mine = {
            let mut db = self
                .db
                .write()
                .map_err(|_| "the store lock is poisoned".to_string())?;
            let out = append(&mut db).map_err(|e| e.to_string())?;
            if out.rejected_count > 0 {
                tracing::debug!(rejected = out.rejected_count, first = ?out.rejected.first(), "samples refused by the store");
            }
            db.flush().map_err(|e| e.to_string())?
        };
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if *synced >= mine.upto {
            return Ok(());
        }
        // Everything flushed so far, this writer's bytes included.
        let latest = self
            .db
            .read()
            .map_err(|_| "the store lock is poisoned".to_string())?
            .sync_point();
        latest.sync().map_err(|e| e.to_string())?;
        *synced = latest.upto;
        Ok(())
    }

    /// Stores a received remote-write request durably, then offers it to
    /// the remote-write queues.
    fn append_view(&self, req: &remote::WriteView<'_>) -> Result<(), String> {
        self.durably(|db| db.append_series(req.series()))?;
        if !self.queues.is_empty() {
            let batch = req.to_samples();
            for q in &self.queues {
                q.offer(&batch);
            }
        }
        Ok(())
    }
}

/// Opens the store and starts scraping, remote write and maintenance.
/// The tasks end when `shutdown` turns true.
pub fn start(
    opts: &MonitoringOptions,
    data_dir: &Path,
    listen: SocketAddr,
    store: Arc<dyn Store>,
    shutdown: watch::Receiver<bool>,
) -> Result<(Arc<Monitoring>, Vec<JoinHandle<()>>), String> {
    let dir = data_dir.join("tsdb");
    let (db, replay) =
        Db::open_with(&dir, opts.db).map_err(|e| format!("opening the time-series store: {e}"))?;
    if let Some((seg, offset, later)) = replay.repaired {
        tracing::warn!(
            segment = seg,
            offset,
            later_segments_removed = later,
            "write-ahead log repaired after a crash"
        );
    }
    let db = Arc::new(RwLock::new(db));
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    let mut queues = Vec::new();
    for ep in &opts.remote_write {
        let (q, task) = remote::start(ep.clone(), client.clone(), shutdown.clone());
        queues.push(q);
        tasks.push(task);
    }
    let sink = Arc::new(DbSink::new(db.clone(), queues));
    let mut configs = opts.scrape_configs.clone();
    if opts.self_scrape && !configs.iter().any(|c| c.job_name == "gantry") {
        let host = if listen.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listen.port())
        } else {
            listen
        };
        let mut own = ScrapeConfig::new("gantry");
        own.scrape_interval = opts.self_scrape_interval;
        own.scrape_timeout = opts.self_scrape_interval.min(Duration::from_secs(10));
        own.static_configs.push(TargetGroup {
            targets: vec![host.to_string()],
            labels: BTreeMap::new(),
            source: "self-scrape".into(),
        });
        configs.push(own);
    }
    let manager = ScrapeManager::new(configs, sink.clone());
    let targets = Box::new(manager.view());
    tasks.push(tokio::spawn(manager.run(shutdown.clone())));
    let runner = ProbeRunner::new(opts.monitors.clone(), sink.clone());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = runner.with_transitions(tx);
    let monitors = Box::new(runner.status_view());
    tasks.push(tokio::spawn(runner.run(shutdown.clone())));
    tasks.push(tokio::spawn(record_transitions(store.clone(), rx)));
    let mut groups = Vec::new();
    for g in &opts.rule_groups {
        let g = Arc::new(RwLock::new(g.clone()));
        groups.push(g.clone());
        tasks.push(tokio::spawn(rule_loop(
            g,
            db.clone(),
            sink.clone(),
            store.clone(),
            Arc::new(opts.external_labels.clone()),
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(maintain_loop(db.clone(), shutdown)));
    let monitoring = Monitoring {
        db,
        engine: Engine::default(),
        targets,
        started: SystemTime::now(),
        retention: opts.db.retention,
        sink,
        monitors,
        groups,
    };
    Ok((Arc::new(monitoring), tasks))
}

/// Records each probe up/down transition as a `monitor.up` or
/// `monitor.down` event. Ends when the probe runner drops its sender.
async fn record_transitions(
    store: Arc<dyn Store>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<ProbeTransition>,
) {
    while let Some(t) = rx.recv().await {
        let kind = if t.up { "monitor.up" } else { "monitor.down" };
        let Ok(kind) = EventKind::new(kind) else {
            continue;
        };
        let event = NewEvent::new(
            kind,
            format!("monitor/{}", t.monitor),
            "system",
            json!({ "monitor": t.monitor, "reason": t.reason }),
        );
        if let Err(e) = store.append(vec![event]).await {
            tracing::error!(error = %e, monitor = %t.monitor, "could not record a monitor transition");
        }
    }
}

/// Evaluates one rule group on its interval, stores what it produces and
/// records `alert.firing` / `alert.resolved` events when alerts change.
async fn rule_loop(
    group: Arc<RwLock<Group>>,
    db: Arc<RwLock<Db>>,
    sink: Arc<DbSink>,
    store: Arc<dyn Store>,
    external_labels: Arc<BTreeMap<String, String>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let interval = group
        .read()
        .map(|g| g.interval)
        .unwrap_or(Duration::from_secs(60));
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let engine = Engine::default();
    let mut first = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let (g, db, sink, ext, engine) = (
            group.clone(),
            db.clone(),
            sink.clone(),
            external_labels.clone(),
            engine.clone(),
        );
        let changes = tokio::task::spawn_blocking(move || {
            let ts = now_ms();
            let mut g = g
                .write()
                .map_err(|_| "rule group lock poisoned".to_string())?;
            let before = alert_states(&g);
            let samples = {
                let db = db.read().map_err(|_| "store lock poisoned".to_string())?;
                let samples = g.eval(&engine, &*db, ts, &ext);
                if first {
                    // Alerts pending before a restart keep their activeAt.
                    g.restore_for_state(&engine, &*db, ts);
                }
                samples
            };
            sink.append(samples)?;
            let after = alert_states(&g);
            Ok::<_, String>(alert_changes(&g.name, &before, &after))
        })
        .await;
        let events = match changes {
            Ok(Ok(events)) => {
                first = false;
                events
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "rule evaluation failed");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "rule evaluation panicked");
                continue;
            }
        };
        if !events.is_empty()
            && let Err(e) = store.append(events).await
        {
            tracing::error!(error = %e, "could not record alert events");
        }
    }
}

type AlertKey = (String, gantry_monitor::labels::Labels);

fn alert_states(g: &Group) -> BTreeMap<AlertKey, (AlertState, BTreeMap<String, String>)> {
    g.rules
        .iter()
        .flat_map(|r| {
            r.alerts().into_iter().map(|a| {
                (
                    (r.name.clone(), a.labels.clone()),
                    (a.state, a.annotations.clone()),
                )
            })
        })
        .collect()
}

fn alert_changes(
    group: &str,
    before: &BTreeMap<AlertKey, (AlertState, BTreeMap<String, String>)>,
    after: &BTreeMap<AlertKey, (AlertState, BTreeMap<String, String>)>,
) -> Vec<NewEvent> {
    let mut out = Vec::new();
    for (key, (state, annotations)) in after {
        let was = before.get(key).map(|(s, _)| *s);
        let kind = match (was, state) {
            (Some(AlertState::Firing), AlertState::Firing) => continue,
            (_, AlertState::Firing) => "alert.firing",
            (Some(AlertState::Firing), AlertState::Inactive) => "alert.resolved",
            _ => continue,
        };
        let Ok(kind) = EventKind::new(kind) else {
            continue;
        };
        out.push(NewEvent::new(
            kind,
            format!("alert/{}", key.0),
            "system",
            json!({ "group": group, "alertname": key.0, "labels": labels_json(&key.1), "annotations": annotations }),
        ));
    }
    out
}

/// How often blocks are cut, compacted and expired.
const MAINTAIN_EVERY: Duration = Duration::from_secs(60);

async fn maintain_loop(db: Arc<RwLock<Db>>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(MAINTAIN_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let db = db.clone();
        let done = tokio::task::spawn_blocking(move || {
            db.write()
                .map_err(|_| "poisoned".to_string())?
                .maintain()
                .map_err(|e| e.to_string())
        })
        .await;
        match done {
            Ok(Ok(m)) if !m.cut.is_empty() || !m.compacted.is_empty() || !m.deleted.is_empty() => {
                tracing::info!(
                    cut = m.cut.len(),
                    compacted = m.compacted.len(),
                    deleted = m.deleted.len(),
                    "time-series store maintained"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "time-series store maintenance failed"),
            Err(e) => tracing::error!(error = %e, "time-series store maintenance panicked"),
        }
    }
}

/// A Prometheus API error.
pub(crate) struct PromError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl PromError {
    fn bad_data(message: impl Into<String>) -> PromError {
        PromError {
            status: StatusCode::BAD_REQUEST,
            kind: "bad_data",
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> PromError {
        PromError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            message: message.into(),
        }
    }

    fn unavailable() -> PromError {
        PromError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "unavailable",
            message: "monitoring is not running on this server".into(),
        }
    }
}

impl From<QueryError> for PromError {
    fn from(e: QueryError) -> PromError {
        let status = match e.error_type() {
            "bad_data" => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        PromError {
            status,
            kind: e.error_type(),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for PromError {
    fn into_response(self) -> Response {
        let body = json!({"status": "error", "errorType": self.kind, "error": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}

fn success_raw(data_json: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"success\",\"data\":{data_json}}}"),
    )
        .into_response()
}

fn success(data: Json) -> Response {
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

fn monitoring(state: &AppState) -> Result<Arc<Monitoring>, PromError> {
    state.monitoring.clone().ok_or_else(PromError::unavailable)
}

/// Decodes `application/x-www-form-urlencoded` text (query strings too):
/// `+` is a space, `%XX` a byte; keys may repeat.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"),
                        16,
                    ) {
                        Ok(v) => {
                            out.push(v);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// Parameters from the query string and, for POST, a form body.
struct Params(Vec<(String, String)>);

impl Params {
    fn from_request(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Params, PromError> {
        let mut pairs = form_pairs(uri.query().unwrap_or(""));
        if method == Method::POST && !body.is_empty() {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !ct.starts_with("application/x-www-form-urlencoded") {
                return Err(PromError::bad_data(format!(
                    "unsupported content type {ct:?}: send parameters as application/x-www-form-urlencoded"
                )));
            }
            let text = std::str::from_utf8(body)
                .map_err(|_| PromError::bad_data("form body is not UTF-8"))?;
            pairs.extend(form_pairs(text));
        }
        Ok(Params(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn now_ms() -> i64 {
    gantry_monitor::scrape::manager::now_ms()
}

/// A timestamp parameter: Unix seconds (fractions allowed) or RFC 3339.
fn parse_time(name: &str, text: &str) -> Result<i64, PromError> {
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    Err(PromError::bad_data(format!(
        "invalid parameter \"{name}\": cannot parse \"{text}\" to a valid timestamp"
    )))
}

/// A step or duration parameter: seconds (fractions allowed) or a
/// Prometheus duration like `15s`, `1m30s`.
fn parse_step(name: &str, text: &str) -> Result<i64, PromError> {
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    gantry_config::parse_prom_duration(text)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| {
            PromError::bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{text}\" to a valid duration"
            ))
        })
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn labels_json(l: &gantry_monitor::labels::Labels) -> Json {
    Json::Object(
        l.iter()
            .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
            .collect(),
    )
}

/// `match[]` selectors parsed into matcher sets.
fn matcher_sets(params: &Params, required: bool) -> Result<Vec<Vec<Matcher>>, PromError> {
    let raw = params.all("match[]");
    if raw.is_empty() && required {
        return Err(PromError::bad_data("no match[] parameter provided"));
    }
    raw.into_iter()
        .map(|s| gantry_monitor::promql::selector_matchers(s).map_err(PromError::from))
        .collect()
}

fn time_range(params: &Params) -> Result<(i64, i64), PromError> {
    let start = params
        .get("start")
        .map(|s| parse_time("start", s))
        .transpose()?
        .unwrap_or(i64::MIN / 2);
    let end = params
        .get("end")
        .map(|s| parse_time("end", s))
        .transpose()?
        .unwrap_or(i64::MAX / 2);
    if end < start {
        return Err(PromError::bad_data(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    Ok((start, end))
}

/// Runs `f` with the store read-locked, on the blocking pool.
async fn with_db<T: Send + 'static>(
    m: Arc<Monitoring>,
    f: impl FnOnce(&Monitoring, &Db) -> Result<T, PromError> + Send + 'static,
) -> Result<T, PromError> {
    blocking(move || {
        let db =
            m.db.read()
                .map_err(|_| PromError::internal("the store lock is poisoned"))?;
        f(&m, &db)
    })
    .await
}

/// Series matching any of the `match[]` sets in the time range.
fn matching_series(
    db: &Db,
    sets: &[Vec<Matcher>],
    start: i64,
    end: i64,
) -> Result<Vec<gantry_monitor::tsdb::Series>, PromError> {
    let mut out = Vec::new();
    for set in sets {
        out.extend(
            db.try_select(set, start, end)
                .map_err(|e| PromError::internal(e.to_string()))?,
        );
    }
    Ok(out)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PromError> + Send + 'static,
) -> Result<T, PromError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PromError::internal(format!("query task failed: {e}")))?
}

/// `GET|POST /api/v1/query`
pub(crate) async fn query(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params::from_request(&method, &uri, &headers, &body)?;
    let expr = p
        .get("query")
        .ok_or_else(|| PromError::bad_data("invalid parameter \"query\": parameter is required"))?
        .to_string();
    let t = p
        .get("time")
        .map(|s| parse_time("time", s))
        .transpose()?
        .unwrap_or_else(now_ms);
    let json = with_db(m, move |m, db| {
        Ok(m.engine.instant_query(db, &expr, t)?.to_json())
    })
    .await?;
    Ok(success_raw(json))
}

/// `GET|POST /api/v1/query_range`
pub(crate) async fn query_range(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params::from_request(&method, &uri, &headers, &body)?;
    let expr = p
        .get("query")
        .ok_or_else(|| PromError::bad_data("invalid parameter \"query\": parameter is required"))?
        .to_string();
    let need = |k: &str| {
        p.get(k).ok_or_else(|| {
            PromError::bad_data(format!("invalid parameter \"{k}\": parameter is required"))
        })
    };
    let start = parse_time("start", need("start")?)?;
    let end = parse_time("end", need("end")?)?;
    let step = parse_step("step", need("step")?)?;
    let json = with_db(m, move |m, db| {
        let matrix = m.engine.range_query(db, &expr, start, end, step)?;
        Ok(gantry_monitor::promql::matrix_json(&matrix))
    })
    .await?;
    Ok(success_raw(json))
}

/// `GET|POST /api/v1/series`
pub(crate) async fn series(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params::from_request(&method, &uri, &headers, &body)?;
    let sets = matcher_sets(&p, true)?;
    let (start, end) = time_range(&p)?;
    let data = with_db(m, move |_, db| {
        let seen: std::collections::BTreeSet<_> = matching_series(db, &sets, start, end)?
            .into_iter()
            .map(|s| s.labels)
            .collect();
        Ok(Json::Array(seen.iter().map(labels_json).collect()))
    })
    .await?;
    Ok(success(data))
}

/// `GET|POST /api/v1/labels`
pub(crate) async fn labels(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params::from_request(&method, &uri, &headers, &body)?;
    let sets = matcher_sets(&p, false)?;
    let (start, end) = time_range(&p)?;
    let data = with_db(m, move |_, db| {
        if sets.is_empty() {
            return Ok(json!(db.label_names()));
        }
        let names: std::collections::BTreeSet<String> = matching_series(db, &sets, start, end)?
            .iter()
            .flat_map(|s| s.labels.iter().map(|(k, _)| k.to_string()))
            .collect();
        Ok(json!(names))
    })
    .await?;
    Ok(success(data))
}

/// `GET /api/v1/label/{name}/values`
pub(crate) async fn label_values(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
    uri: Uri,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(PromError::bad_data(format!(
            "invalid label name: \"{name}\""
        )));
    }
    let p = Params(form_pairs(uri.query().unwrap_or("")));
    let sets = matcher_sets(&p, false)?;
    let (start, end) = time_range(&p)?;
    let data = with_db(m, move |_, db| {
        if sets.is_empty() {
            return Ok(json!(db.label_values(&name)));
        }
        let values: std::collections::BTreeSet<String> = matching_series(db, &sets, start, end)?
            .iter()
            .filter_map(|s| s.labels.get(&name).map(str::to_string))
            .collect();
        Ok(json!(values))
    })
    .await?;
    Ok(success(data))
}

/// `GET /api/v1/metadata`
pub(crate) async fn metadata(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params(form_pairs(uri.query().unwrap_or("")));
    let only = p.get("metric");
    let limit = match p.get("limit") {
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| PromError::bad_data(format!("invalid parameter \"limit\": {l:?}")))?,
        ),
        None => None,
    };
    let view = (m.targets)();
    let mut out = serde_json::Map::new();
    for (metric, list) in view.metadata {
        if only.is_some_and(|o| o != metric) {
            continue;
        }
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let entries: Vec<Json> = list
            .iter()
            .map(|md| json!({"type": md.kind, "help": md.help, "unit": md.unit}))
            .collect();
        out.insert(metric, Json::Array(entries));
    }
    Ok(success(Json::Object(out)))
}

/// `GET /api/v1/targets`
pub(crate) async fn targets(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params(form_pairs(uri.query().unwrap_or("")));
    let which = p.get("state").unwrap_or("any");
    let view = (m.targets)();
    let active: Vec<Json> = view
        .active
        .iter()
        .map(|t| {
            json!({
                "discoveredLabels": t.discovered,
                "labels": labels_json(&t.labels),
                "scrapePool": t.scrape_pool,
                "scrapeUrl": t.scrape_url,
                "globalUrl": t.scrape_url,
                "lastError": t.last_error,
                "lastScrape": t.last_scrape.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), rfc3339),
                "lastScrapeDuration": t.last_scrape_duration.as_secs_f64(),
                "health": t.health,
                "scrapeInterval": gantry_monitor::scrape::format_duration(t.interval),
                "scrapeTimeout": gantry_monitor::scrape::format_duration(t.timeout),
            })
        })
        .collect();
    let dropped: Vec<Json> = view
        .dropped
        .iter()
        .map(|(_, d)| json!({"discoveredLabels": d.discovered}))
        .collect();
    let data = match which {
        "active" => json!({"activeTargets": active, "droppedTargets": []}),
        "dropped" => json!({"activeTargets": [], "droppedTargets": dropped}),
        _ => json!({"activeTargets": active, "droppedTargets": dropped}),
    };
    Ok(success(data))
}

/// `GET /api/v1/status/buildinfo`
pub(crate) async fn buildinfo() -> Response {
    success(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
        "application": "gantry",
    }))
}

/// `GET /api/v1/status/runtimeinfo`
pub(crate) async fn runtimeinfo(State(state): State<AppState>) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let retention = m.retention.map_or_else(String::new, |ms| {
        gantry_monitor::scrape::format_duration(Duration::from_millis(ms as u64))
    });
    Ok(success(json!({
        "startTime": rfc3339(m.started),
        "CWD": cwd,
        "reloadConfigSuccess": true,
        "lastConfigTime": rfc3339(m.started),
        "corruptionCount": 0,
        "goroutineCount": 0,
        "GOMAXPROCS": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": retention,
    })))
}

/// `POST /api/v1/write`: Prometheus remote write 1.0 into the store.
pub(crate) async fn write(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let sink = m.sink.clone();
    blocking(move || {
        let raw = remote::decompress(&body).map_err(|e| PromError::bad_data(e.to_string()))?;
        let req = remote::decode_view(&raw).map_err(|e| PromError::bad_data(e.to_string()))?;
        sink.append_view(&req).map_err(PromError::internal)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/monitors`: every probe's state and last result.
pub(crate) async fn monitors(State(state): State<AppState>) -> Result<Response, crate::ApiError> {
    let Some(m) = state.monitoring.clone() else {
        return Err(crate::ApiError::unavailable(
            "monitoring is not running on this server",
        ));
    };
    let list: Vec<Json> = (m.monitors)()
        .into_iter()
        .map(|s| {
            json!({
                "name": s.name,
                "type": s.kind,
                "state": s.state,
                "last_result": s.last_result,
                "last_success": s.last_success,
                "last_error": s.last_error,
                "last_duration_seconds": s.last_duration.map(|d| d.as_secs_f64()),
                "last_probe": s.last_probe_ms.map(|ms| {
                    rfc3339(std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
                }),
                "consecutive_failures": s.consecutive_failures,
                "consecutive_successes": s.consecutive_successes,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "monitors": list })).into_response())
}

fn alert_json(a: &Alert) -> Json {
    json!({
        "labels": labels_json(&a.labels),
        "annotations": a.annotations,
        "state": a.state.as_str(),
        "activeAt": rfc3339(std::time::UNIX_EPOCH + Duration::from_millis(a.active_at.max(0) as u64)),
        "value": gantry_monitor::rules::template::go_g(a.value, -1),
    })
}

/// `GET /api/v1/alerts`: pending and firing alerts of every rule.
pub(crate) async fn alerts(State(state): State<AppState>) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let mut list = Vec::new();
    for g in &m.groups {
        let g = g
            .read()
            .map_err(|_| PromError::internal("rule group lock poisoned"))?;
        for r in &g.rules {
            list.extend(
                r.alerts()
                    .into_iter()
                    .filter(|a| a.state != AlertState::Inactive)
                    .map(alert_json),
            );
        }
    }
    Ok(success(json!({ "alerts": list })))
}

/// `GET /api/v1/rules`: every group and rule with health and alerts.
pub(crate) async fn rules(State(state): State<AppState>, uri: Uri) -> Result<Response, PromError> {
    let m = monitoring(&state)?;
    let p = Params(form_pairs(uri.query().unwrap_or("")));
    let only = p.get("type");
    let mut groups = Vec::new();
    for g in &m.groups {
        let g = g
            .read()
            .map_err(|_| PromError::internal("rule group lock poisoned"))?;
        let mut rules = Vec::new();
        for r in &g.rules {
            let health = match (&r.last_error, r.last_eval_ms) {
                (Some(_), _) => "err",
                (None, Some(_)) => "ok",
                (None, None) => "unknown",
            };
            let last = r.last_eval_ms.map_or_else(
                || "0001-01-01T00:00:00Z".to_string(),
                |ms| rfc3339(std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)),
            );
            let mut v = json!({
                "name": r.name,
                "query": r.expr,
                "labels": r.labels,
                "health": health,
                "lastError": r.last_error.clone().unwrap_or_default(),
                "lastEvaluation": last,
                "evaluationTime": 0.0,
            });
            match &r.kind {
                RuleKind::Alerting {
                    for_ms,
                    keep_firing_for_ms,
                    annotations,
                    ..
                } => {
                    if only == Some("record") {
                        continue;
                    }
                    let alerts: Vec<Json> = r
                        .alerts()
                        .into_iter()
                        .filter(|a| a.state != AlertState::Inactive)
                        .map(alert_json)
                        .collect();
                    let state = r
                        .alerts()
                        .iter()
                        .map(|a| a.state)
                        .max()
                        .unwrap_or(AlertState::Inactive);
                    v["type"] = json!("alerting");
                    v["duration"] = json!(*for_ms as f64 / 1000.0);
                    v["keepFiringFor"] = json!(*keep_firing_for_ms as f64 / 1000.0);
                    v["annotations"] = json!(annotations);
                    v["alerts"] = json!(alerts);
                    v["state"] = json!(state.as_str());
                }
                RuleKind::Recording => {
                    if only == Some("alert") {
                        continue;
                    }
                    v["type"] = json!("recording");
                }
            }
            rules.push(v);
        }
        groups.push(json!({
            "name": g.name,
            "file": g.file,
            "interval": g.interval.as_secs_f64(),
            "limit": g.limit,
            "rules": rules,
        }));
    }
    Ok(success(json!({ "groups": groups })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_share_fsyncs_and_all_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open(dir.path()).unwrap();
        let sink = Arc::new(DbSink::new(Arc::new(RwLock::new(db)), Vec::new()));
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    let labels = gantry_monitor::labels::Labels::new([
                        ("__name__", "x".to_string()),
                        ("w", w.to_string()),
                    ]);
                    for i in 0..50 {
                        sink.append(vec![(labels.clone(), i, i as f64)]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        // Every flushed byte is known durable: the last fsync covered all.
        let end = sink.db.read().unwrap().sync_point().upto;
        assert!(end > 0);
        assert_eq!(*sink.synced.lock().unwrap(), end);
        drop(sink);
        let (db, _) = Db::open(dir.path()).unwrap();
        let m = Matcher::new(gantry_monitor::labels::MatchOp::Equal, "__name__", "x").unwrap();
        let all = db.try_select(&[m], 0, 100).unwrap();
        assert_eq!(all.len(), 8);
        assert!(all.iter().all(|s| s.samples.len() == 50));
    }

    #[test]
    fn forms_and_times() {
        assert_eq!(
            form_pairs("match%5B%5D=up%7Bjob%3D%22a%22%7D&match[]=x+y&empty"),
            vec![
                ("match[]".to_string(), "up{job=\"a\"}".to_string()),
                ("match[]".to_string(), "x y".to_string()),
                ("empty".to_string(), String::new()),
            ]
        );
        assert_eq!(
            form_pairs("a=%zz%4"),
            vec![("a".to_string(), "%zz%4".to_string())]
        );
        assert_eq!(
            parse_time("time", "1700000000.5").ok(),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_time("time", "2023-11-14T22:13:20Z").ok(),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_step("step", "1m30s").ok(), Some(90_000));
        assert_eq!(parse_step("step", "15").ok(), Some(15_000));
        assert_eq!(parse_step("step", "250ms").ok(), Some(250));
        assert!(parse_step("step", "abc").is_err());
    }
}
