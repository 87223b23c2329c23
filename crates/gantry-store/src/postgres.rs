//! PostgreSQL backend: one database shared by several server replicas.
//!
//! Appends go to a writer task per process that batches concurrent appends
//! into one transaction (group commit). Every append transaction, from every
//! replica, first takes a transaction-scoped advisory lock, so transactions
//! that insert events run one at a time and commit in `seq` order: a reader
//! following by cursor never skips an event that commits later with a
//! smaller `seq`. The transaction ends with `NOTIFY gantry_events, '<max
//! seq>'`; a listener task per process turns those notifications (its own
//! and other replicas') into [`crate::EventLog::watch_seq`] updates, and
//! re-reads `max(seq)` after reconnecting so nothing is missed.
//!
//! Other writes are single statements straight on the pool. Leases are
//! judged by the database clock (`now()`), so replicas agree on expiry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::{Event, Id, NewEvent, Role, Timestamp};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::common::{
    self, Bind, MAX_BATCH_EVENTS, MAX_BATCH_REQUESTS, QUEUE_DEPTH, corrupt, db_err,
};
use crate::{
    Access, ApiToken, EventLog, EventQuery, IacStateVersion, IacStates, Lease, Leases, NewToken,
    Result, Settings, Store, StoreError, StoredIacState, User,
};

/// The NOTIFY channel carrying the highest committed `seq`.
const EVENTS_CHANNEL: &str = "gantry_events";
/// Advisory lock key serialising append transactions across replicas
/// ("gantry" in ASCII, then 1).
const APPEND_LOCK_KEY: i64 = 0x6761_6e74_7279_0001;
const MAX_CONNECTIONS: u32 = 10;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store. See the module docs for how appends commit.
pub struct PgStore {
    pool: PgPool,
    writer: common::Writer<AppendRequest>,
    listener_task: Mutex<Option<JoinHandle<()>>>,
    seq: watch::Receiver<i64>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("closed", &self.writer.is_closed())
            .finish_non_exhaustive()
    }
}

struct AppendRequest {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<Event>>>,
}

impl PgStore {
    /// Connects, runs pending migrations (safe when several replicas start
    /// at once: sqlx takes an advisory lock) and starts the writer and
    /// listener tasks.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        // `run_direct` rather than `run`: see the same call in sqlite.rs.
        MIGRATOR
            .run_direct(None, &mut *pool.acquire().await?, false)
            .await?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
            .fetch_one(&pool)
            .await?;
        let (seq_tx, seq) = watch::channel(last);
        let seq_tx = Arc::new(seq_tx);
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let commits = Arc::new(AtomicU64::new(0));
        let writer_task = tokio::spawn(writer(pool.clone(), rx, seq_tx.clone(), commits.clone()));
        let listener_task = tokio::spawn(listen(pool.clone(), seq_tx));
        Ok(PgStore {
            pool,
            writer: common::Writer::new(tx, writer_task),
            listener_task: Mutex::new(Some(listener_task)),
            seq,
            commits,
        })
    }

    /// How many append transactions this process has committed (to show
    /// group commit at work).
    #[doc(hidden)]
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    fn check_open(&self) -> Result<()> {
        self.writer.check_open()
    }

    fn take_listener(&self) -> Option<JoinHandle<()>> {
        self.listener_task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // The writer ends by itself once its sender is dropped; the listener
        // would otherwise wait for notifications forever.
        if let Some(task) = self.take_listener() {
            task.abort();
        }
    }
}

/// The writer task: group commit of appends until every sender is gone.
async fn writer(
    pool: PgPool,
    mut rx: mpsc::Receiver<AppendRequest>,
    seq: Arc<watch::Sender<i64>>,
    commits: Arc<AtomicU64>,
) {
    while let Some(first) = rx.recv().await {
        let mut events = first.events.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_REQUESTS && events < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(req) => {
                    events += req.events.len();
                    batch.push(req);
                }
                Err(_) => break,
            }
        }
        let (appends, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|r| (r.events, r.reply)).unzip();
        let n = appends.len();
        let results = match run_batch(&pool, appends).await {
            Ok(results) => {
                commits.fetch_add(1, Ordering::Relaxed);
                results
            }
            Err(e) => {
                tracing::error!(error = %e, "postgres append transaction failed");
                let msg = e.to_string();
                (0..n)
                    .map(|_| Err(StoreError::Transaction(msg.clone())))
                    .collect()
            }
        };
        let max = results
            .iter()
            .filter_map(|r| r.as_ref().ok().and_then(|evs| evs.last()).map(|e| e.seq))
            .max();
        if let Some(max) = max {
            common::raise_seq(&seq, max);
        }
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away; its events are committed anyway.
            let _ = reply.send(result);
        }
    }
}

/// Appends a batch of requests in one transaction holding the append lock.
/// Optimistically first: every request's events in one multi-row insert (one
/// round trip for the whole batch). If that fails, it is rolled back and the
/// batch runs again with a savepoint per request, so only the failing
/// requests fail. `Err` when the transaction itself failed.
async fn run_batch(
    pool: &PgPool,
    appends: Vec<Vec<NewEvent>>,
) -> Result<Vec<Result<Vec<Event>>>, sqlx::Error> {
    if appends.len() > 1 {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        let all: Vec<NewEvent> = appends.iter().flatten().cloned().collect();
        if let Ok(stored) = insert_events(&mut tx, all).await {
            if let Some(last) = stored.last() {
                notify(&mut tx, last.seq).await?;
            }
            tx.commit().await?;
            let mut stored = stored.into_iter();
            return Ok(appends
                .iter()
                .map(|req| Ok(stored.by_ref().take(req.len()).collect()))
                .collect());
        }
        tx.rollback().await?;
    }
    run_batch_isolated(pool, appends).await
}

async fn notify(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    max: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(EVENTS_CHANNEL)
        .bind(max.to_string())
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Appends each request's events under its own savepoint.
async fn run_batch_isolated(
    pool: &PgPool,
    appends: Vec<Vec<NewEvent>>,
) -> Result<Vec<Result<Vec<Event>>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    let mut results = Vec::with_capacity(appends.len());
    let mut max = None;
    for events in appends {
        sqlx::query("SAVEPOINT req").execute(&mut *tx).await?;
        let result = insert_events(&mut tx, events).await;
        match &result {
            Ok(evs) => max = max.max(evs.last().map(|e| e.seq)),
            Err(_) => {
                sqlx::query("ROLLBACK TO SAVEPOINT req")
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("RELEASE SAVEPOINT req")
            .execute(&mut *tx)
            .await?;
        results.push(result);
    }
    if let Some(max) = max {
        notify(&mut tx, max).await?;
    }
    tx.commit().await?;
    Ok(results)
}

async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    events: Vec<NewEvent>,
) -> Result<Vec<Event>> {
    let mut ids = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut subjects = Vec::with_capacity(events.len());
    let mut actors = Vec::with_capacity(events.len());
    let mut data = Vec::with_capacity(events.len());
    for e in &events {
        ids.push(e.id.as_uuid());
        times.push(e.time.as_datetime());
        kinds.push(e.kind.as_str().to_string());
        subjects.push(e.subject.clone());
        actors.push(e.actor.clone());
        data.push(
            serde_json::to_string(&e.data)
                .map_err(|err| StoreError::Invalid(format!("event data: {err}")))?,
        );
    }
    // Rows are inserted, and take identity values, in ORDER BY ord: the
    // order given.
    let rows = sqlx::query(
        "INSERT INTO events (id, time, kind, subject, actor, data) \
         SELECT id, time, kind, subject, actor, data::jsonb \
         FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], \
                     $6::text[]) WITH ORDINALITY AS t(id, time, kind, subject, actor, data, ord) \
         ORDER BY ord \
         RETURNING seq, id",
    )
    .bind(ids)
    .bind(times)
    .bind(kinds)
    .bind(subjects)
    .bind(actors)
    .bind(data)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| {
        if common::is_unique_violation(&e) {
            StoreError::Conflict("an event with one of these ids already exists".into())
        } else {
            e.into()
        }
    })?;
    let mut seqs = HashMap::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.try_get("seq").map_err(corrupt("seq"))?;
        let id: Uuid = row.try_get("id").map_err(corrupt("id"))?;
        seqs.insert(id, seq);
    }
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let seq = seqs
            .get(&e.id.as_uuid())
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("no seq returned for event {}", e.id)))?;
        if out.last().is_some_and(|prev: &Event| prev.seq >= seq) {
            return Err(StoreError::Corrupt(
                "postgres assigned seqs out of the given order".into(),
            ));
        }
        out.push(Event::from_new(seq, e));
    }
    Ok(out)
}

/// Keeps `seq` up to date from NOTIFY, reconnecting as needed.
async fn listen(pool: PgPool, seq: Arc<watch::Sender<i64>>) {
    loop {
        let Err(e) = listen_once(&pool, &seq).await;
        if pool.is_closed() {
            return;
        }
        tracing::warn!(error = %e, "listening for postgres event notifications failed; retrying");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn listen_once(
    pool: &PgPool,
    seq: &watch::Sender<i64>,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    // Listening first, then reading, so nothing committed in between is lost.
    catch_up(pool, seq).await?;
    loop {
        match listener.try_recv().await? {
            Some(n) => match n.payload().parse::<i64>() {
                Ok(v) => common::raise_seq(seq, v),
                Err(_) => catch_up(pool, seq).await?,
            },
            // The connection dropped and was re-established (and listens
            // again): notifications may have been lost meanwhile.
            None => catch_up(pool, seq).await?,
        }
    }
}

async fn catch_up(pool: &PgPool, seq: &watch::Sender<i64>) -> Result<(), sqlx::Error> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
        .fetch_one(pool)
        .await?;
    common::raise_seq(seq, max);
    Ok(())
}

fn ts(row: &PgRow, col: &str) -> Result<Timestamp> {
    let v: DateTime<Utc> = row.try_get(col).map_err(corrupt(col))?;
    Ok(Timestamp::from_datetime(v))
}

fn opt_ts(row: &PgRow, col: &str) -> Result<Option<Timestamp>> {
    let v: Option<DateTime<Utc>> = row.try_get(col).map_err(corrupt(col))?;
    Ok(v.map(Timestamp::from_datetime))
}

fn text(row: &PgRow, col: &str) -> Result<String> {
    row.try_get(col).map_err(corrupt(col))
}

fn id(row: &PgRow, col: &str) -> Result<Id> {
    let v: Uuid = row.try_get(col).map_err(corrupt(col))?;
    Ok(Id::from_uuid(v))
}

fn event_from_row(row: &PgRow) -> Result<Event> {
    Ok(Event {
        seq: row.try_get("seq").map_err(corrupt("seq"))?,
        id: id(row, "id")?,
        time: ts(row, "time")?,
        kind: common::parse_kind(text(row, "kind")?)?,
        subject: text(row, "subject")?,
        actor: text(row, "actor")?,
        data: row.try_get("data").map_err(corrupt("data"))?,
    })
}

fn user_from_row(row: &PgRow) -> Result<User> {
    Ok(User {
        id: id(row, "id")?,
        name: text(row, "name")?,
        role: common::parse_role(&text(row, "role")?)?,
        created_at: ts(row, "created_at")?,
    })
}

fn token_from_row(row: &PgRow) -> Result<ApiToken> {
    let user_id: Option<Uuid> = row.try_get("user_id").map_err(corrupt("user_id"))?;
    Ok(ApiToken {
        id: id(row, "id")?,
        name: text(row, "name")?,
        role: common::parse_role(&text(row, "role")?)?,
        user_id: user_id.map(Id::from_uuid),
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

fn lease_from_row(row: &PgRow) -> Result<Lease> {
    Ok(Lease {
        name: text(row, "name")?,
        holder: text(row, "holder")?,
        token: row.try_get("token").map_err(corrupt("token"))?,
        expires_at: ts(row, "expires_at")?,
    })
}

fn stored_state_from_row(row: &PgRow) -> Result<StoredIacState> {
    Ok(StoredIacState {
        serial: row.try_get("serial").map_err(corrupt("serial"))?,
        lineage: text(row, "lineage")?,
        body: row.try_get("body").map_err(corrupt("body"))?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn state_version_from_row(row: &PgRow) -> Result<IacStateVersion> {
    Ok(IacStateVersion {
        serial: row.try_get("serial").map_err(corrupt("serial"))?,
        lineage: text(row, "lineage")?,
        body: row.try_get("body").map_err(corrupt("body"))?,
        created_at: ts(row, "created_at")?,
    })
}

const TOKEN_COLUMNS: &str =
    "SELECT id, name, role, user_id, created_at, last_used_at, revoked_at FROM api_tokens";

#[async_trait]
impl EventLog for PgStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Event>> {
        self.check_open()?;
        common::validate_events(&events)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.writer
            .call(|reply| AppendRequest { events, reply })
            .await
    }

    async fn list(&self, query: &EventQuery) -> Result<Vec<Event>> {
        self.check_open()?;
        let select = common::event_select(query, |n| format!("${n}"));
        let mut q = sqlx::query(AssertSqlSafe(select.sql));
        for b in select.binds {
            q = match b {
                Bind::I64(v) => q.bind(v),
                Bind::Text(v) => q.bind(v),
            };
        }
        let rows = q.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn last_seq(&self) -> Result<i64> {
        self.check_open()?;
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?,
        )
    }

    async fn prune_events(&self, before: Timestamp, max_rows: u32) -> Result<u64> {
        self.check_open()?;
        // Walks from the oldest event in primary-key order to the first one
        // inside retention, keeping the newest event.
        let done = sqlx::query(
            "DELETE FROM events WHERE seq IN ( \
               SELECT seq FROM events WHERE seq < COALESCE( \
                 (SELECT seq FROM events WHERE time >= $1 ORDER BY seq LIMIT 1), \
                 (SELECT MAX(seq) FROM events)) \
               ORDER BY seq LIMIT $2)",
        )
        .bind(before.as_datetime())
        .bind(i64::from(max_rows))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    fn watch_seq(&self) -> watch::Receiver<i64> {
        self.seq.clone()
    }
}

#[async_trait]
impl Settings for PgStore {
    async fn get_setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.check_open()?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| r.try_get("value").map_err(corrupt("setting value")))
            .transpose()
    }

    async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        self.check_open()?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_setting(&self, key: &str) -> Result<bool> {
        self.check_open()?;
        let done = sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_settings(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.check_open()?;
        let rows = sqlx::query("SELECT key, value FROM settings ORDER BY key COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok((
                    text(row, "key")?,
                    row.try_get("value").map_err(corrupt("setting value"))?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl Access for PgStore {
    async fn create_user(&self, name: &str, role: Role) -> Result<User> {
        self.check_open()?;
        let user = User {
            id: Id::new(),
            name: name.to_string(),
            role,
            created_at: Timestamp::now(),
        };
        sqlx::query("INSERT INTO users (id, name, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user.id.as_uuid())
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(user.created_at.as_datetime())
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if common::is_unique_violation(&e) {
                    StoreError::Conflict(format!("user {name:?} already exists"))
                } else {
                    db_err(e)
                }
            })?;
        Ok(user)
    }

    async fn get_user(&self, name: &str) -> Result<Option<User>> {
        self.check_open()?;
        let row = sqlx::query("SELECT id, name, role, created_at FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.check_open()?;
        let rows =
            sqlx::query("SELECT id, name, role, created_at FROM users ORDER BY name COLLATE \"C\"")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_role(&self, name: &str, role: Role) -> Result<User> {
        self.check_open()?;
        let row = sqlx::query(
            "UPDATE users SET role = $1 WHERE name = $2 RETURNING id, name, role, created_at",
        )
        .bind(role.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(StoreError::NotFound(format!("user {name:?}"))),
        }
    }

    async fn create_token(&self, token: NewToken) -> Result<ApiToken> {
        self.check_open()?;
        let stored = ApiToken {
            id: Id::new(),
            name: token.name,
            role: token.role,
            user_id: token.user_id,
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, user_id, hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(stored.id.as_uuid())
        .bind(&stored.name)
        .bind(stored.role.as_str())
        .bind(stored.user_id.map(|id| id.as_uuid()))
        .bind(&token.hash[..])
        .bind(stored.created_at.as_datetime())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if common::is_unique_violation(&e) {
                StoreError::Conflict("a token with this hash already exists".into())
            } else if common::is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "user with id {}",
                    stored.user_id.map(|id| id.to_string()).unwrap_or_default()
                ))
            } else {
                db_err(e)
            }
        })?;
        Ok(stored)
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        self.check_open()?;
        let row = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE hash = $1")))
            .bind(&hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn get_token(&self, id: Id) -> Result<Option<ApiToken>> {
        self.check_open()?;
        let row = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE id = $1")))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        self.check_open()?;
        let rows = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} ORDER BY ord")))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, id: Id) -> Result<bool> {
        self.check_open()?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(Timestamp::now().as_datetime())
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_token(&self, id: Id, at: Timestamp) -> Result<()> {
        self.check_open()?;
        let done = sqlx::query(
            "UPDATE api_tokens SET last_used_at = GREATEST(last_used_at, $1) WHERE id = $2",
        )
        .bind(at.as_datetime())
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        Ok(())
    }
}

#[async_trait]
impl Leases for PgStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        self.check_open()?;
        let ttl_micros = common::ttl_micros(ttl)?;
        // Renewal (same holder, unexpired) keeps the token; a fresh
        // acquisition of an expired or released lease bumps it. The row
        // lock taken by ON CONFLICT makes concurrent attempts take turns.
        let row = sqlx::query(
            "INSERT INTO leases AS l (name, holder, token, expires_at) \
             VALUES ($1, $2, 1, now() + $3::bigint * interval '1 microsecond') \
             ON CONFLICT (name) DO UPDATE SET \
               token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() \
                            THEN l.token ELSE l.token + 1 END, \
               holder = excluded.holder, \
               expires_at = excluded.expires_at \
             WHERE l.expires_at <= now() OR l.holder = excluded.holder \
             RETURNING name, holder, token, expires_at",
        )
        .bind(name)
        .bind(holder)
        .bind(ttl_micros)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(lease_from_row).transpose()
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        self.check_open()?;
        let done = sqlx::query(
            "UPDATE leases SET expires_at = now() \
             WHERE name = $1 AND holder = $2 AND expires_at > now()",
        )
        .bind(name)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_lease(&self, name: &str) -> Result<Option<Lease>> {
        self.check_open()?;
        let row = sqlx::query(
            "SELECT name, holder, token, expires_at FROM leases \
             WHERE name = $1 AND expires_at > now()",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(lease_from_row).transpose()
    }
}

/// How often [`IacStates::lock_state`] retries when the lock row vanishes
/// between its insert attempt and its read (released meanwhile).
const LOCK_ATTEMPTS: usize = 5;

#[async_trait]
impl IacStates for PgStore {
    async fn list_workspaces(&self, stack: &str) -> Result<Vec<String>> {
        self.check_open()?;
        let mut names: Vec<String> =
            sqlx::query_scalar("SELECT workspace FROM iac_states WHERE stack = $1")
                .bind(stack)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        // Byte order, as SQLite sorts, whatever the database's collation.
        names.sort();
        Ok(names)
    }

    async fn read_state(&self, stack: &str, workspace: &str) -> Result<Option<StoredIacState>> {
        self.check_open()?;
        let row = sqlx::query(
            "SELECT serial, lineage, body, updated_at FROM iac_states \
             WHERE stack = $1 AND workspace = $2",
        )
        .bind(stack)
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(stored_state_from_row).transpose()
    }

    async fn write_state(
        &self,
        stack: &str,
        workspace: &str,
        serial: i64,
        lineage: &str,
        body: &[u8],
    ) -> Result<()> {
        self.check_open()?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The conditional upsert locks the row, so concurrent writers take
        // turns and each judges the state the previous one left.
        let written: Option<i64> = sqlx::query_scalar(
            "INSERT INTO iac_states AS s (stack, workspace, serial, lineage, body, updated_at) \
             VALUES ($1, $2, $3, $4, $5, now()) \
             ON CONFLICT (stack, workspace) DO UPDATE SET serial = excluded.serial, \
               lineage = excluded.lineage, body = excluded.body, updated_at = now() \
             WHERE s.lineage = excluded.lineage AND s.serial <= excluded.serial \
             RETURNING serial",
        )
        .bind(stack)
        .bind(workspace)
        .bind(serial)
        .bind(lineage)
        .bind(body)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if written.is_none() {
            let row = sqlx::query(
                "SELECT serial, lineage FROM iac_states WHERE stack = $1 AND workspace = $2",
            )
            .bind(stack)
            .bind(workspace)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            let stored_serial: i64 = row.try_get("serial").map_err(corrupt("serial"))?;
            let stored_lineage = text(&row, "lineage")?;
            common::check_state_write(&stored_lineage, stored_serial, lineage, serial)?;
            return Err(StoreError::Conflict(format!(
                "state {stack:?} workspace {workspace:?} changed during the write"
            )));
        }
        sqlx::query(
            "INSERT INTO iac_state_history (stack, workspace, serial, lineage, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, now())",
        )
        .bind(stack)
        .bind(workspace)
        .bind(serial)
        .bind(lineage)
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn state_history(
        &self,
        stack: &str,
        workspace: &str,
        limit: u32,
    ) -> Result<Vec<IacStateVersion>> {
        self.check_open()?;
        let rows = sqlx::query(
            "SELECT serial, lineage, body, created_at FROM iac_state_history \
             WHERE stack = $1 AND workspace = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(stack)
        .bind(workspace)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(state_version_from_row).collect()
    }

    async fn delete_workspace(&self, stack: &str, workspace: &str) -> Result<bool> {
        self.check_open()?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM iac_states WHERE stack = $1 AND workspace = $2")
            .bind(stack)
            .bind(workspace)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for table in ["iac_state_history", "iac_state_locks"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE stack = $1 AND workspace = $2"
            )))
            .bind(stack)
            .bind(workspace)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn lock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        info: &str,
    ) -> Result<Option<String>> {
        self.check_open()?;
        for _ in 0..LOCK_ATTEMPTS {
            let taken = sqlx::query(
                "INSERT INTO iac_state_locks (stack, workspace, lock_id, info, created_at) \
                 VALUES ($1, $2, $3, $4, now()) ON CONFLICT (stack, workspace) DO NOTHING",
            )
            .bind(stack)
            .bind(workspace)
            .bind(lock_id)
            .bind(info)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
            if taken.rows_affected() > 0 {
                return Ok(None);
            }
            let held = sqlx::query(
                "SELECT lock_id, info FROM iac_state_locks WHERE stack = $1 AND workspace = $2",
            )
            .bind(stack)
            .bind(workspace)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
            if let Some(row) = held {
                return if text(&row, "lock_id")? == lock_id {
                    Ok(None)
                } else {
                    Ok(Some(text(&row, "info")?))
                };
            }
        }
        Err(StoreError::Conflict(format!(
            "the lock on state {stack:?} workspace {workspace:?} kept changing hands"
        )))
    }

    async fn unlock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        force: bool,
    ) -> Result<()> {
        self.check_open()?;
        let done = sqlx::query(
            "DELETE FROM iac_state_locks \
             WHERE stack = $1 AND workspace = $2 AND (lock_id = $3 OR $4)",
        )
        .bind(stack)
        .bind(workspace)
        .bind(lock_id)
        .bind(force)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        let held: Option<String> = sqlx::query_scalar(
            "SELECT lock_id FROM iac_state_locks WHERE stack = $1 AND workspace = $2",
        )
        .bind(stack)
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        common::check_unlock(stack, workspace, held.as_deref(), lock_id, false)
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        self.check_open()?;
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn close(&self) {
        // The writer commits what is queued and exits.
        self.writer.close("postgres").await;
        if let Some(task) = self.take_listener() {
            task.abort();
            let _ = task.await;
        }
        self.pool.close().await;
    }
}
