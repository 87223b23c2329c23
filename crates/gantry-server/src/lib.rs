//! gantry-server: the HTTP face of Gantry — REST API, dashboard, auth.
//!
//! Owns: the route table ([`routes`]) with each route's minimum role, the
//! axum [`router`], bearer-token and session authentication ([`auth`]), the
//! server's own metrics, the dashboard pages and assets, first-start
//! bootstrap of the admin token ([`bootstrap_admin_token`]) and graceful
//! shutdown ([`serve`]).
//!
//! Invariants: the only crate that knows HTTP routing; every route declares
//! an [`Access`] and the role check runs before any handler; tokens are
//! compared only as SHA-256 hashes and never logged; errors leave as
//! `{"error": {"code", "message"}}`.
//!
//! Entry points: [`ServerOptions`], [`serve`], [`router`], [`routes`].

pub mod auth;
mod dashboard;
mod error;
mod events;
mod extract;
mod metrics;
pub mod prom;
mod tokens;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, delete, get, post};
use gantry_core::{EventKind, NewEvent, Role};
use gantry_store::Store;
use tokio::net::TcpListener;

pub use auth::{Access, Caller};
pub use error::ApiError;
pub use metrics::Metrics;

/// Default request-body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    touch: Arc<auth::TouchThrottle>,
    tokens: Arc<auth::TokenCache>,
    /// Becomes `true` when shutdown begins; long-lived responses end then.
    shutdown: tokio::sync::watch::Receiver<bool>,
    site_name: Option<Arc<str>>,
    site_description: Option<Arc<str>>,
    /// The time-series store and scraping; `None` when not started.
    monitoring: Option<Arc<prom::Monitoring>>,
}

/// One route: method, path, who may call it, and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        access,
        handler,
    }
}

/// Every route the server serves. The router is built from this table and a
/// test walks it with every role, so a route cannot exist without a declared
/// minimum role.
pub fn routes() -> Vec<Route> {
    use Access::{AtLeast, Public};
    use Role::{Admin, Operator, Viewer};
    vec![
        route(Method::GET, "/healthz", Public, get(healthz)),
        route(Method::GET, "/readyz", Public, get(readyz)),
        route(Method::GET, "/metrics", Public, get(metrics_text)),
        route(Method::GET, "/", Public, get(dashboard::index)),
        route(Method::POST, "/login", Public, post(dashboard::login)),
        route(Method::POST, "/logout", Public, post(dashboard::logout)),
        route(
            Method::GET,
            "/assets/dashboard.js",
            Public,
            get(dashboard::script),
        ),
        route(
            Method::GET,
            "/assets/dashboard.css",
            Public,
            get(dashboard::stylesheet),
        ),
        route(
            Method::GET,
            "/api/v1/query",
            AtLeast(Viewer),
            get(prom::query),
        ),
        route(
            Method::POST,
            "/api/v1/query",
            AtLeast(Viewer),
            post(prom::query),
        ),
        route(
            Method::GET,
            "/api/v1/query_range",
            AtLeast(Viewer),
            get(prom::query_range),
        ),
        route(
            Method::POST,
            "/api/v1/query_range",
            AtLeast(Viewer),
            post(prom::query_range),
        ),
        route(
            Method::GET,
            "/api/v1/series",
            AtLeast(Viewer),
            get(prom::series),
        ),
        route(
            Method::POST,
            "/api/v1/series",
            AtLeast(Viewer),
            post(prom::series),
        ),
        route(
            Method::GET,
            "/api/v1/labels",
            AtLeast(Viewer),
            get(prom::labels),
        ),
        route(
            Method::POST,
            "/api/v1/labels",
            AtLeast(Viewer),
            post(prom::labels),
        ),
        route(
            Method::GET,
            "/api/v1/label/{name}/values",
            AtLeast(Viewer),
            get(prom::label_values),
        ),
        route(
            Method::GET,
            "/api/v1/metadata",
            AtLeast(Viewer),
            get(prom::metadata),
        ),
        route(
            Method::GET,
            "/api/v1/targets",
            AtLeast(Viewer),
            get(prom::targets),
        ),
        route(
            Method::GET,
            "/api/v1/status/buildinfo",
            AtLeast(Viewer),
            get(prom::buildinfo),
        ),
        route(
            Method::GET,
            "/api/v1/status/runtimeinfo",
            AtLeast(Viewer),
            get(prom::runtimeinfo),
        ),
        route(
            Method::POST,
            "/api/v1/write",
            AtLeast(Operator),
            post(prom::write),
        ),
        route(
            Method::GET,
            "/api/v1/monitors",
            AtLeast(Viewer),
            get(prom::monitors),
        ),
        route(
            Method::GET,
            "/api/v1/rules",
            AtLeast(Viewer),
            get(prom::rules),
        ),
        route(
            Method::GET,
            "/api/v1/alerts",
            AtLeast(Viewer),
            get(prom::alerts),
        ),
        route(
            Method::GET,
            "/api/v1/whoami",
            AtLeast(Viewer),
            get(tokens::whoami),
        ),
        route(
            Method::GET,
            "/api/v1/events",
            AtLeast(Viewer),
            get(events::list),
        ),
        route(
            Method::POST,
            "/api/v1/events",
            AtLeast(Operator),
            post(events::append),
        ),
        route(
            Method::GET,
            "/api/v1/events/stream",
            AtLeast(Viewer),
            get(events::stream),
        ),
        route(
            Method::GET,
            "/api/v1/tokens",
            AtLeast(Admin),
            get(tokens::list),
        ),
        route(
            Method::POST,
            "/api/v1/tokens",
            AtLeast(Admin),
            post(tokens::create),
        ),
        route(
            Method::DELETE,
            "/api/v1/tokens/{id}",
            AtLeast(Admin),
            delete(tokens::revoke),
        ),
    ]
}

/// The application: every route behind its role check, metrics, the body
/// limit and JSON fallbacks for 404 and 405.
pub fn router(state: AppState, body_limit: usize) -> Router {
    let mut router = Router::new();
    for r in routes() {
        let check = middleware::from_fn_with_state((state.clone(), r.access), auth::authorize);
        router = router.route(r.path, r.handler.route_layer(check));
    }
    router
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(serde_json::json!({
            "status": "ready",
            "store": state.store.backend(),
        }))),
        Ok(Err(e)) => Err(ApiError::unavailable(format!("store unreachable: {e}"))),
        Err(_) => Err(ApiError::unavailable("store did not answer within 2s")),
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub body_limit: usize,
    /// Events older than this are pruned hourly (`events.retention`); `None`
    /// keeps everything.
    pub retention: Option<Duration>,
    /// Shown in the dashboard's header (`demo.name`).
    pub site_name: Option<String>,
    /// Shown above the dashboard's feed (`demo.description`).
    pub site_description: Option<String>,
    /// Scraping, the time-series store and its API; `None` turns them off.
    pub monitoring: Option<prom::MonitoringOptions>,
}

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] gantry_store::StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Monitoring(String),
}

/// Binds the listener (so the caller learns the real port before serving).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serves until `stop` resolves, then stops accepting, ends live streams,
/// finishes in-flight requests and closes the store (flushing queued writes).
pub async fn serve(
    store: Arc<dyn Store>,
    listener: TcpListener,
    opts: &ServerOptions,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let addr = listener.local_addr()?;
    let (monitoring, monitor_tasks) = match &opts.monitoring {
        Some(m) => {
            let (m, tasks) =
                prom::start(m, &opts.data_dir, addr, store.clone(), shutdown_rx.clone())
                    .map_err(ServeError::Monitoring)?;
            (Some(m), tasks)
        }
        None => (None, Vec::new()),
    };
    let state = AppState {
        store: store.clone(),
        metrics: Arc::new(Metrics::new()),
        touch: Arc::default(),
        tokens: Arc::default(),
        shutdown: shutdown_rx.clone(),
        site_name: opts.site_name.clone().map(Arc::from),
        site_description: opts.site_description.clone().map(Arc::from),
        monitoring: monitoring.clone(),
    };
    let retention = opts
        .retention
        .map(|keep| tokio::spawn(retention_loop(store.clone(), keep, shutdown_rx)));
    record(&*store, "server.started", &addr.to_string()).await;
    let app = router(state, opts.body_limit);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            tracing::info!("shutting down: draining requests");
            let _ = shutdown_tx.send(true);
        })
        .await;
    if let Some(task) = retention {
        let _ = task.await;
    }
    // Scrape loops write their staleness markers and queues drain first.
    for task in monitor_tasks {
        let _ = task.await;
    }
    if let Some(m) = &monitoring
        && let Ok(mut db) = m.db.write()
        && let Err(e) = db.commit()
    {
        tracing::error!(error = %e, "could not sync the time-series store");
    }
    record(&*store, "server.stopped", &addr.to_string()).await;
    store.close().await;
    tracing::info!("store closed");
    result.map_err(ServeError::Io)
}

async fn record(store: &dyn Store, kind: &str, subject: &str) {
    let Ok(kind) = EventKind::new(kind) else {
        return;
    };
    let event = NewEvent::new(
        kind,
        format!("server/{subject}"),
        "system",
        serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
        }),
    );
    if let Err(e) = store.append(vec![event]).await {
        tracing::error!(error = %e, "could not record server lifecycle event");
    }
}

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// Rows deleted per transaction, so pruning never holds the writer long.
const PRUNE_BATCH: u32 = 10_000;

async fn retention_loop(
    store: Arc<dyn Store>,
    keep: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        if let Err(e) = enforce_retention(&*store, keep).await {
            tracing::error!(error = %e, "event retention failed");
        }
    }
}

/// Deletes events older than `keep` (one replica at a time, under a lease)
/// and records how many went as an `events.pruned` event. Returns the count.
pub async fn enforce_retention(
    store: &dyn Store,
    keep: Duration,
) -> Result<u64, gantry_store::StoreError> {
    let holder = format!("retention-{}", gantry_core::Id::new());
    if store
        .try_acquire_lease("events.retention", &holder, Duration::from_secs(600))
        .await?
        .is_none()
    {
        return Ok(0);
    }
    let cutoff = chrono::TimeDelta::from_std(keep)
        .ok()
        .and_then(|d| {
            gantry_core::Timestamp::now()
                .as_datetime()
                .checked_sub_signed(d)
        })
        .map(gantry_core::Timestamp::from_datetime);
    let mut total = 0;
    if let Some(before) = cutoff {
        loop {
            let n = store.prune_events(before, PRUNE_BATCH).await?;
            total += n;
            if n < u64::from(PRUNE_BATCH) {
                break;
            }
        }
        if total > 0
            && let Ok(kind) = EventKind::new("events.pruned")
        {
            let data = serde_json::json!({ "count": total, "before": before });
            store
                .append(vec![NewEvent::new(kind, "events", "system", data)])
                .await?;
        }
    }
    store.release_lease("events.retention", &holder).await?;
    Ok(total)
}

/// Name of the file in the data dir that holds the first admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// On the first start against a store with no active token, creates an
/// admin token and writes it to `DATA_DIR/admin-token` (mode 0600, written
/// atomically) — never to a log. Replicas sharing a database take a lease
/// first, so exactly one of them does it. Returns the file's path when a
/// token was created.
pub async fn bootstrap_admin_token(
    store: &dyn Store,
    data_dir: &Path,
) -> Result<Option<PathBuf>, ServeError> {
    let holder = format!("bootstrap-{}", gantry_core::Id::new());
    while store
        .try_acquire_lease("server.bootstrap", &holder, Duration::from_secs(30))
        .await?
        .is_none()
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let result = async {
        if store.list_tokens().await?.iter().any(|t| t.is_active()) {
            return Ok(None);
        }
        let secret = auth::generate_token();
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        write_private(&path, format!("{secret}\n").as_bytes()).map_err(|source| {
            ServeError::Write {
                path: path.clone(),
                source,
            }
        })?;
        let created = store
            .create_token(gantry_store::NewToken {
                name: "admin".into(),
                role: Role::Admin,
                user_id: None,
                hash: auth::hash_token(&secret),
            })
            .await;
        if let Err(e) = created {
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(Some(path))
    }
    .await;
    if let Err(e) = store.release_lease("server.bootstrap", &holder).await {
        tracing::warn!(error = %e, "could not release the bootstrap lease");
    }
    result
}

/// Writes a file readable only by its owner: temp file, fsync, rename, fsync dir.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}
