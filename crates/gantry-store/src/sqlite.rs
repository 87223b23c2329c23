//! SQLite backend: the embedded default.
//!
//! Reads go to a small pool. Every write goes, as a [`Op`], to one writer
//! task that owns the only write connection and commits in groups: it takes
//! one request, drains whatever else is queued, runs them all in one
//! transaction with a savepoint per request (a failing request rolls back to
//! its savepoint and gets its error; the others still commit), commits once
//! (WAL with `synchronous=FULL`, so a commit survives power loss), then
//! publishes the new highest `seq` and answers every request. One writer
//! means commit order is `seq` order.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use gantry_core::{Event, Id, NewEvent, Role, Timestamp};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Row};
use tokio::sync::{mpsc, oneshot, watch};

use crate::common::{
    self, Bind, MAX_BATCH_EVENTS, MAX_BATCH_REQUESTS, QUEUE_DEPTH, corrupt, db_err,
};
use crate::{
    Access, ApiToken, EventLog, EventQuery, IacStateVersion, IacStates, Lease, Leases, NewToken,
    Result, Settings, Store, StoreError, StoredIacState, User,
};

const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store. See the module docs for how writes are committed.
pub struct SqliteStore {
    reads: SqlitePool,
    writer: common::Writer<Request>,
    seq: watch::Receiver<i64>,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("closed", &self.writer.is_closed())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing, with its parent directory) and migrates
    /// the database at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);

        let mut conn = SqliteConnection::connect_with(&options).await?;
        // `run_direct` rather than `run`: `run`'s `Acquire` bound makes this
        // future not `Send` ("implementation of `Acquire` is not general
        // enough"), and servers open stores inside spawned tasks.
        MIGRATOR.run_direct(None, &mut conn, false).await?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&mut conn)
            .await?;

        let reads = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options)
            .await?;

        let (seq_tx, seq) = watch::channel(last);
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let commits = Arc::new(AtomicU64::new(0));
        let writer_task = tokio::spawn(writer(conn, rx, seq_tx, commits.clone()));
        Ok(SqliteStore {
            reads,
            writer: common::Writer::new(tx, writer_task),
            seq,
            commits,
        })
    }

    /// Runs `PRAGMA integrity_check`: `"ok"` when the database is sound,
    /// otherwise the problems found, one per line.
    pub async fn integrity_check(&self) -> Result<String> {
        self.check_open()?;
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.reads)
            .await
            .map_err(db_err)?;
        Ok(rows.join("\n"))
    }

    /// How many write transactions have committed since open (to show group
    /// commit at work).
    #[doc(hidden)]
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    fn check_open(&self) -> Result<()> {
        self.writer.check_open()
    }

    async fn write(&self, op: Op) -> Result<Reply> {
        self.writer.call(|reply| Request { op, reply }).await
    }
}

/// One write, executed by the writer task.
#[derive(Clone)]
enum Op {
    Append(Vec<NewEvent>),
    SetSetting(String, String),
    DeleteSetting(String),
    CreateUser(User),
    SetUserRole(String, Role),
    CreateToken(ApiToken, [u8; 32]),
    RevokeToken(Id),
    TouchToken(Id, Timestamp),
    AcquireLease {
        name: String,
        holder: String,
        ttl_micros: i64,
    },
    ReleaseLease {
        name: String,
        holder: String,
    },
    PruneEvents {
        before_micros: i64,
        max_rows: i64,
    },
    WriteState {
        stack: String,
        workspace: String,
        serial: i64,
        lineage: String,
        body: Vec<u8>,
    },
    DeleteWorkspace {
        stack: String,
        workspace: String,
    },
    LockState {
        stack: String,
        workspace: String,
        lock_id: String,
        info: String,
    },
    UnlockState {
        stack: String,
        workspace: String,
        lock_id: String,
        force: bool,
    },
}

impl Op {
    fn events(&self) -> usize {
        match self {
            Op::Append(events) => events.len(),
            _ => 1,
        }
    }
}

enum Reply {
    Events(Vec<Event>),
    Unit,
    Bool(bool),
    User(User),
    Token(ApiToken),
    Lease(Option<Lease>),
    Count(u64),
    Holder(Option<String>),
}

struct Request {
    op: Op,
    reply: oneshot::Sender<Result<Reply>>,
}

fn wrong_reply() -> StoreError {
    StoreError::Invalid("internal: the sqlite writer answered with the wrong reply type".into())
}

/// The writer task: group commit until every sender is gone, then a final
/// WAL checkpoint.
async fn writer(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Request>,
    seq: watch::Sender<i64>,
    commits: Arc<AtomicU64>,
) {
    while let Some(first) = rx.recv().await {
        let mut events = first.op.events();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_REQUESTS && events < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(req) => {
                    events += req.op.events();
                    batch.push(req);
                }
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|r| (r.op, r.reply)).unzip();
        let n = ops.len();
        let results = match run_batch(&mut conn, ops).await {
            Ok(results) => {
                commits.fetch_add(1, Ordering::Relaxed);
                results
            }
            Err(e) => {
                tracing::error!(error = %e, "sqlite write transaction failed");
                // Best effort: the transaction may already be gone.
                let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                let msg = e.to_string();
                (0..n)
                    .map(|_| Err(StoreError::Transaction(msg.clone())))
                    .collect()
            }
        };
        let max = results
            .iter()
            .filter_map(|r| match r {
                Ok(Reply::Events(evs)) => evs.last().map(|e| e.seq),
                _ => None,
            })
            .max();
        if let Some(max) = max {
            common::raise_seq(&seq, max);
        }
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away; its write is committed anyway.
            let _ = reply.send(result);
        }
    }
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
    {
        tracing::warn!(error = %e, "sqlite checkpoint on close failed");
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the sqlite write connection failed");
    }
}

/// Runs `ops` in one transaction. Optimistically first, without savepoints
/// (three fewer statements per request); if any request fails, that
/// transaction is rolled back and the batch runs again with a savepoint per
/// request, so only the failing ones fail. `Err` when the transaction itself
/// failed (nothing committed).
async fn run_batch(
    conn: &mut SqliteConnection,
    ops: Vec<Op>,
) -> Result<Vec<Result<Reply>>, sqlx::Error> {
    let retry = (ops.len() > 1).then(|| ops.clone());
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let result = apply(conn, op).await;
        let failed = result.is_err();
        results.push(result);
        if failed {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            return match retry {
                Some(ops) => run_batch_isolated(conn, ops).await,
                // A lone request: its error is the whole answer.
                None => Ok(results),
            };
        }
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(results)
}

/// Runs `ops` in one transaction, a savepoint each: a failing request rolls
/// back to its savepoint and the others still commit.
async fn run_batch_isolated(
    conn: &mut SqliteConnection,
    ops: Vec<Op>,
) -> Result<Vec<Result<Reply>>, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        sqlx::query("SAVEPOINT req").execute(&mut *conn).await?;
        let result = apply(conn, op).await;
        if result.is_err() {
            sqlx::query("ROLLBACK TO req").execute(&mut *conn).await?;
        }
        sqlx::query("RELEASE req").execute(&mut *conn).await?;
        results.push(result);
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(results)
}

async fn apply(conn: &mut SqliteConnection, op: Op) -> Result<Reply> {
    match op {
        Op::Append(events) => append(conn, events).await.map(Reply::Events),
        Op::SetSetting(key, value) => {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await?;
            Ok(Reply::Unit)
        }
        Op::DeleteSetting(key) => {
            let done = sqlx::query("DELETE FROM settings WHERE key = ?1")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            Ok(Reply::Bool(done.rows_affected() > 0))
        }
        Op::CreateUser(user) => {
            sqlx::query("INSERT INTO users (id, name, role, created_at) VALUES (?1, ?2, ?3, ?4)")
                .bind(user.id.to_string())
                .bind(&user.name)
                .bind(user.role.as_str())
                .bind(user.created_at.unix_micros())
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    if common::is_unique_violation(&e) {
                        StoreError::Conflict(format!("user {:?} already exists", user.name))
                    } else {
                        e.into()
                    }
                })?;
            Ok(Reply::User(user))
        }
        Op::SetUserRole(name, role) => {
            let row = sqlx::query(
                "UPDATE users SET role = ?1 WHERE name = ?2 \
                 RETURNING id, name, role, created_at",
            )
            .bind(role.as_str())
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                Some(row) => user_from_row(&row).map(Reply::User),
                None => Err(StoreError::NotFound(format!("user {name:?}"))),
            }
        }
        Op::CreateToken(token, hash) => {
            sqlx::query(
                "INSERT INTO api_tokens (id, name, role, user_id, hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(token.id.to_string())
            .bind(&token.name)
            .bind(token.role.as_str())
            .bind(token.user_id.map(|id| id.to_string()))
            .bind(&hash[..])
            .bind(token.created_at.unix_micros())
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if common::is_unique_violation(&e) {
                    StoreError::Conflict("a token with this hash already exists".into())
                } else if common::is_foreign_key_violation(&e) {
                    StoreError::NotFound(format!(
                        "user with id {}",
                        token.user_id.map(|id| id.to_string()).unwrap_or_default()
                    ))
                } else {
                    e.into()
                }
            })?;
            Ok(Reply::Token(token))
        }
        Op::RevokeToken(id) => {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            )
            .bind(Timestamp::now().unix_micros())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
            Ok(Reply::Bool(done.rows_affected() > 0))
        }
        Op::TouchToken(id, at) => {
            let done = sqlx::query(
                "UPDATE api_tokens SET last_used_at = max(coalesce(last_used_at, ?1), ?1) \
                 WHERE id = ?2",
            )
            .bind(at.unix_micros())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("token {id}")));
            }
            Ok(Reply::Unit)
        }
        Op::AcquireLease {
            name,
            holder,
            ttl_micros,
        } => {
            let now = Timestamp::now().unix_micros();
            let expires = now.saturating_add(ttl_micros);
            // Renewal (same holder, unexpired) keeps the token; a fresh
            // acquisition of an expired or released lease bumps it.
            let row = sqlx::query(
                "INSERT INTO leases (name, holder, token, expires_at) VALUES (?1, ?2, 1, ?3) \
                 ON CONFLICT (name) DO UPDATE SET \
                   token = CASE WHEN holder = excluded.holder AND expires_at > ?4 \
                                THEN token ELSE token + 1 END, \
                   holder = excluded.holder, \
                   expires_at = excluded.expires_at \
                 WHERE expires_at <= ?4 OR holder = excluded.holder \
                 RETURNING name, holder, token, expires_at",
            )
            .bind(&name)
            .bind(&holder)
            .bind(expires)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            row.as_ref()
                .map(lease_from_row)
                .transpose()
                .map(Reply::Lease)
        }
        Op::ReleaseLease { name, holder } => {
            let now = Timestamp::now().unix_micros();
            let done = sqlx::query(
                "UPDATE leases SET expires_at = ?1 \
                 WHERE name = ?2 AND holder = ?3 AND expires_at > ?1",
            )
            .bind(now)
            .bind(name)
            .bind(holder)
            .execute(&mut *conn)
            .await?;
            Ok(Reply::Bool(done.rows_affected() > 0))
        }
        Op::PruneEvents {
            before_micros,
            max_rows,
        } => {
            let done = sqlx::query(PRUNE_SQL)
                .bind(before_micros)
                .bind(max_rows)
                .execute(&mut *conn)
                .await?;
            Ok(Reply::Count(done.rows_affected()))
        }
        Op::WriteState {
            stack,
            workspace,
            serial,
            lineage,
            body,
        } => {
            let stored = sqlx::query(
                "SELECT serial, lineage FROM iac_states WHERE stack = ?1 AND workspace = ?2",
            )
            .bind(&stack)
            .bind(&workspace)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(row) = stored {
                let stored_serial: i64 = row.try_get("serial").map_err(corrupt("serial"))?;
                let stored_lineage = text(&row, "lineage")?;
                common::check_state_write(&stored_lineage, stored_serial, &lineage, serial)?;
            }
            let now = Timestamp::now().unix_micros();
            sqlx::query(
                "INSERT INTO iac_states (stack, workspace, serial, lineage, body, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (stack, workspace) DO UPDATE SET serial = excluded.serial, \
                   lineage = excluded.lineage, body = excluded.body, \
                   updated_at = excluded.updated_at",
            )
            .bind(&stack)
            .bind(&workspace)
            .bind(serial)
            .bind(&lineage)
            .bind(&body)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO iac_state_history \
                 (stack, workspace, serial, lineage, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&stack)
            .bind(&workspace)
            .bind(serial)
            .bind(&lineage)
            .bind(&body)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(Reply::Unit)
        }
        Op::DeleteWorkspace { stack, workspace } => {
            let done = sqlx::query("DELETE FROM iac_states WHERE stack = ?1 AND workspace = ?2")
                .bind(&stack)
                .bind(&workspace)
                .execute(&mut *conn)
                .await?;
            for table in ["iac_state_history", "iac_state_locks"] {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE stack = ?1 AND workspace = ?2"
                )))
                .bind(&stack)
                .bind(&workspace)
                .execute(&mut *conn)
                .await?;
            }
            Ok(Reply::Bool(done.rows_affected() > 0))
        }
        Op::LockState {
            stack,
            workspace,
            lock_id,
            info,
        } => {
            let held = sqlx::query(
                "SELECT lock_id, info FROM iac_state_locks WHERE stack = ?1 AND workspace = ?2",
            )
            .bind(&stack)
            .bind(&workspace)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(row) = held {
                let held_id = text(&row, "lock_id")?;
                return if held_id == lock_id {
                    Ok(Reply::Holder(None))
                } else {
                    Ok(Reply::Holder(Some(text(&row, "info")?)))
                };
            }
            sqlx::query(
                "INSERT INTO iac_state_locks (stack, workspace, lock_id, info, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(&stack)
            .bind(&workspace)
            .bind(&lock_id)
            .bind(&info)
            .bind(Timestamp::now().unix_micros())
            .execute(&mut *conn)
            .await?;
            Ok(Reply::Holder(None))
        }
        Op::UnlockState {
            stack,
            workspace,
            lock_id,
            force,
        } => {
            let held: Option<String> = sqlx::query_scalar(
                "SELECT lock_id FROM iac_state_locks WHERE stack = ?1 AND workspace = ?2",
            )
            .bind(&stack)
            .bind(&workspace)
            .fetch_optional(&mut *conn)
            .await?;
            common::check_unlock(&stack, &workspace, held.as_deref(), &lock_id, force)?;
            sqlx::query("DELETE FROM iac_state_locks WHERE stack = ?1 AND workspace = ?2")
                .bind(&stack)
                .bind(&workspace)
                .execute(&mut *conn)
                .await?;
            Ok(Reply::Unit)
        }
    }
}

fn stored_state_from_row(row: &SqliteRow) -> Result<StoredIacState> {
    Ok(StoredIacState {
        serial: row.try_get("serial").map_err(corrupt("serial"))?,
        lineage: text(row, "lineage")?,
        body: row.try_get("body").map_err(corrupt("body"))?,
        updated_at: micros(row, "updated_at")?,
    })
}

fn state_version_from_row(row: &SqliteRow) -> Result<IacStateVersion> {
    Ok(IacStateVersion {
        serial: row.try_get("serial").map_err(corrupt("serial"))?,
        lineage: text(row, "lineage")?,
        body: row.try_get("body").map_err(corrupt("body"))?,
        created_at: micros(row, "created_at")?,
    })
}

/// Walks from the oldest event (primary-key order, so no index on time is
/// needed) to the first one inside retention, keeping the newest event.
const PRUNE_SQL: &str = "DELETE FROM events WHERE seq IN ( \
       SELECT seq FROM events WHERE seq < COALESCE( \
         (SELECT seq FROM events WHERE time >= ?1 ORDER BY seq LIMIT 1), \
         (SELECT MAX(seq) FROM events)) \
       ORDER BY seq LIMIT ?2)";

async fn append(conn: &mut SqliteConnection, events: Vec<NewEvent>) -> Result<Vec<Event>> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let data = serde_json::to_string(&e.data)
            .map_err(|err| StoreError::Invalid(format!("event data: {err}")))?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO events (id, time, kind, subject, actor, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )
        .bind(e.id.to_string())
        .bind(e.time.unix_micros())
        .bind(e.kind.as_str())
        .bind(&e.subject)
        .bind(&e.actor)
        .bind(data)
        .fetch_one(&mut *conn)
        .await
        .map_err(|err| {
            if common::is_unique_violation(&err) {
                StoreError::Conflict(format!("an event with id {} already exists", e.id))
            } else {
                err.into()
            }
        })?;
        out.push(Event::from_new(seq, e));
    }
    Ok(out)
}

fn micros(row: &SqliteRow, col: &str) -> Result<Timestamp> {
    let v: i64 = row.try_get(col).map_err(corrupt(col))?;
    Timestamp::from_unix_micros(v)
        .ok_or_else(|| StoreError::Corrupt(format!("{col}: time {v} out of range")))
}

fn opt_micros(row: &SqliteRow, col: &str) -> Result<Option<Timestamp>> {
    let v: Option<i64> = row.try_get(col).map_err(corrupt(col))?;
    v.map(|v| {
        Timestamp::from_unix_micros(v)
            .ok_or_else(|| StoreError::Corrupt(format!("{col}: time {v} out of range")))
    })
    .transpose()
}

fn text(row: &SqliteRow, col: &str) -> Result<String> {
    row.try_get(col).map_err(corrupt(col))
}

fn event_from_row(row: &SqliteRow) -> Result<Event> {
    let data = text(row, "data")?;
    Ok(Event {
        seq: row.try_get("seq").map_err(corrupt("seq"))?,
        id: common::parse_id(&text(row, "id")?)?,
        time: micros(row, "time")?,
        kind: common::parse_kind(text(row, "kind")?)?,
        subject: text(row, "subject")?,
        actor: text(row, "actor")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
    })
}

fn user_from_row(row: &SqliteRow) -> Result<User> {
    Ok(User {
        id: common::parse_id(&text(row, "id")?)?,
        name: text(row, "name")?,
        role: common::parse_role(&text(row, "role")?)?,
        created_at: micros(row, "created_at")?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<ApiToken> {
    let user_id: Option<String> = row.try_get("user_id").map_err(corrupt("user_id"))?;
    Ok(ApiToken {
        id: common::parse_id(&text(row, "id")?)?,
        name: text(row, "name")?,
        role: common::parse_role(&text(row, "role")?)?,
        user_id: user_id.as_deref().map(common::parse_id).transpose()?,
        created_at: micros(row, "created_at")?,
        last_used_at: opt_micros(row, "last_used_at")?,
        revoked_at: opt_micros(row, "revoked_at")?,
    })
}

fn lease_from_row(row: &SqliteRow) -> Result<Lease> {
    Ok(Lease {
        name: text(row, "name")?,
        holder: text(row, "holder")?,
        token: row.try_get("token").map_err(corrupt("token"))?,
        expires_at: micros(row, "expires_at")?,
    })
}

const TOKEN_COLUMNS: &str =
    "SELECT id, name, role, user_id, created_at, last_used_at, revoked_at FROM api_tokens";

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Event>> {
        self.check_open()?;
        common::validate_events(&events)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        match self.write(Op::Append(events)).await? {
            Reply::Events(events) => Ok(events),
            _ => Err(wrong_reply()),
        }
    }

    async fn list(&self, query: &EventQuery) -> Result<Vec<Event>> {
        self.check_open()?;
        let select = common::event_select(query, |_| "?".to_string());
        let mut q = sqlx::query(AssertSqlSafe(select.sql));
        for b in select.binds {
            q = match b {
                Bind::I64(v) => q.bind(v),
                Bind::Text(v) => q.bind(v),
            };
        }
        let rows = q.fetch_all(&self.reads).await.map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn last_seq(&self) -> Result<i64> {
        self.check_open()?;
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                .fetch_one(&self.reads)
                .await
                .map_err(db_err)?,
        )
    }

    async fn prune_events(&self, before: Timestamp, max_rows: u32) -> Result<u64> {
        let op = Op::PruneEvents {
            before_micros: before.unix_micros(),
            max_rows: i64::from(max_rows),
        };
        match self.write(op).await? {
            Reply::Count(n) => Ok(n),
            _ => Err(wrong_reply()),
        }
    }

    fn watch_seq(&self) -> watch::Receiver<i64> {
        self.seq.clone()
    }
}

#[async_trait]
impl Settings for SqliteStore {
    async fn get_setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.check_open()?;
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.reads)
            .await
            .map_err(db_err)?;
        value
            .map(|v| {
                serde_json::from_str(&v)
                    .map_err(|e| StoreError::Corrupt(format!("setting {key:?}: {e}")))
            })
            .transpose()
    }

    async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        let value = serde_json::to_string(value)
            .map_err(|e| StoreError::Invalid(format!("setting {key:?}: {e}")))?;
        match self.write(Op::SetSetting(key.to_string(), value)).await? {
            Reply::Unit => Ok(()),
            _ => Err(wrong_reply()),
        }
    }

    async fn delete_setting(&self, key: &str) -> Result<bool> {
        match self.write(Op::DeleteSetting(key.to_string())).await? {
            Reply::Bool(b) => Ok(b),
            _ => Err(wrong_reply()),
        }
    }

    async fn list_settings(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.check_open()?;
        let rows = sqlx::query("SELECT key, value FROM settings ORDER BY key")
            .fetch_all(&self.reads)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let key = text(row, "key")?;
                let value = serde_json::from_str(&text(row, "value")?)
                    .map_err(|e| StoreError::Corrupt(format!("setting {key:?}: {e}")))?;
                Ok((key, value))
            })
            .collect()
    }
}

#[async_trait]
impl Access for SqliteStore {
    async fn create_user(&self, name: &str, role: Role) -> Result<User> {
        let user = User {
            id: Id::new(),
            name: name.to_string(),
            role,
            created_at: Timestamp::now(),
        };
        match self.write(Op::CreateUser(user)).await? {
            Reply::User(u) => Ok(u),
            _ => Err(wrong_reply()),
        }
    }

    async fn get_user(&self, name: &str) -> Result<Option<User>> {
        self.check_open()?;
        let row = sqlx::query("SELECT id, name, role, created_at FROM users WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.reads)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.check_open()?;
        let rows = sqlx::query("SELECT id, name, role, created_at FROM users ORDER BY name")
            .fetch_all(&self.reads)
            .await
            .map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn set_user_role(&self, name: &str, role: Role) -> Result<User> {
        match self.write(Op::SetUserRole(name.to_string(), role)).await? {
            Reply::User(u) => Ok(u),
            _ => Err(wrong_reply()),
        }
    }

    async fn create_token(&self, token: NewToken) -> Result<ApiToken> {
        let stored = ApiToken {
            id: Id::new(),
            name: token.name,
            role: token.role,
            user_id: token.user_id,
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        };
        match self.write(Op::CreateToken(stored, token.hash)).await? {
            Reply::Token(t) => Ok(t),
            _ => Err(wrong_reply()),
        }
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        self.check_open()?;
        let row = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE hash = ?1")))
            .bind(&hash[..])
            .fetch_optional(&self.reads)
            .await
            .map_err(db_err)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn get_token(&self, id: Id) -> Result<Option<ApiToken>> {
        self.check_open()?;
        let row = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE id = ?1")))
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(db_err)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        self.check_open()?;
        let rows = sqlx::query(AssertSqlSafe(format!("{TOKEN_COLUMNS} ORDER BY ord")))
            .fetch_all(&self.reads)
            .await
            .map_err(db_err)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, id: Id) -> Result<bool> {
        match self.write(Op::RevokeToken(id)).await? {
            Reply::Bool(b) => Ok(b),
            _ => Err(wrong_reply()),
        }
    }

    async fn touch_token(&self, id: Id, at: Timestamp) -> Result<()> {
        match self.write(Op::TouchToken(id, at)).await? {
            Reply::Unit => Ok(()),
            _ => Err(wrong_reply()),
        }
    }
}

#[async_trait]
impl Leases for SqliteStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let ttl_micros = common::ttl_micros(ttl)?;
        let op = Op::AcquireLease {
            name: name.to_string(),
            holder: holder.to_string(),
            ttl_micros,
        };
        match self.write(op).await? {
            Reply::Lease(l) => Ok(l),
            _ => Err(wrong_reply()),
        }
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        let op = Op::ReleaseLease {
            name: name.to_string(),
            holder: holder.to_string(),
        };
        match self.write(op).await? {
            Reply::Bool(b) => Ok(b),
            _ => Err(wrong_reply()),
        }
    }

    async fn get_lease(&self, name: &str) -> Result<Option<Lease>> {
        self.check_open()?;
        let row = sqlx::query(
            "SELECT name, holder, token, expires_at FROM leases \
             WHERE name = ?1 AND expires_at > ?2",
        )
        .bind(name)
        .bind(Timestamp::now().unix_micros())
        .fetch_optional(&self.reads)
        .await
        .map_err(db_err)?;
        row.as_ref().map(lease_from_row).transpose()
    }
}

#[async_trait]
impl IacStates for SqliteStore {
    async fn list_workspaces(&self, stack: &str) -> Result<Vec<String>> {
        self.check_open()?;
        let mut names: Vec<String> =
            sqlx::query_scalar("SELECT workspace FROM iac_states WHERE stack = ?1")
                .bind(stack)
                .fetch_all(&self.reads)
                .await
                .map_err(db_err)?;
        names.sort();
        Ok(names)
    }

    async fn read_state(&self, stack: &str, workspace: &str) -> Result<Option<StoredIacState>> {
        self.check_open()?;
        let row = sqlx::query(
            "SELECT serial, lineage, body, updated_at FROM iac_states \
             WHERE stack = ?1 AND workspace = ?2",
        )
        .bind(stack)
        .bind(workspace)
        .fetch_optional(&self.reads)
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
        let op = Op::WriteState {
            stack: stack.to_string(),
            workspace: workspace.to_string(),
            serial,
            lineage: lineage.to_string(),
            body: body.to_vec(),
        };
        match self.write(op).await? {
            Reply::Unit => Ok(()),
            _ => Err(wrong_reply()),
        }
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
             WHERE stack = ?1 AND workspace = ?2 ORDER BY id DESC LIMIT ?3",
        )
        .bind(stack)
        .bind(workspace)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(db_err)?;
        rows.iter().map(state_version_from_row).collect()
    }

    async fn delete_workspace(&self, stack: &str, workspace: &str) -> Result<bool> {
        let op = Op::DeleteWorkspace {
            stack: stack.to_string(),
            workspace: workspace.to_string(),
        };
        match self.write(op).await? {
            Reply::Bool(b) => Ok(b),
            _ => Err(wrong_reply()),
        }
    }

    async fn lock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        info: &str,
    ) -> Result<Option<String>> {
        let op = Op::LockState {
            stack: stack.to_string(),
            workspace: workspace.to_string(),
            lock_id: lock_id.to_string(),
            info: info.to_string(),
        };
        match self.write(op).await? {
            Reply::Holder(h) => Ok(h),
            _ => Err(wrong_reply()),
        }
    }

    async fn unlock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        force: bool,
    ) -> Result<()> {
        let op = Op::UnlockState {
            stack: stack.to_string(),
            workspace: workspace.to_string(),
            lock_id: lock_id.to_string(),
            force,
        };
        match self.write(op).await? {
            Reply::Unit => Ok(()),
            _ => Err(wrong_reply()),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        self.check_open()?;
        sqlx::query("SELECT 1")
            .execute(&self.reads)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn close(&self) {
        // The writer finishes what is queued, commits, checkpoints and exits.
        self.writer.close("sqlite").await;
        self.reads.close().await;
    }
}
