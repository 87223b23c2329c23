//! Pieces both backends share: event query SQL, validation, error mapping.

use std::time::Duration;

use gantry_core::{EventKind, Id, MAX_SUBJECT_LEN, NewEvent, Role};

use crate::{EventQuery, Order, Result, StoreError};

/// Most requests one group commit takes from the queue.
pub(crate) const MAX_BATCH_REQUESTS: usize = 1024;
/// A group commit stops taking requests once it holds this many events.
pub(crate) const MAX_BATCH_EVENTS: usize = 8192;
/// Queued write requests before callers wait for room.
pub(crate) const QUEUE_DEPTH: usize = 4096;

/// A value to bind to a placeholder of [`EventSelect::sql`].
pub(crate) enum Bind {
    I64(i64),
    Text(String),
}

/// `SELECT seq, id, time, kind, subject, actor, data FROM events ...` for a
/// query, with its bind values in placeholder order.
pub(crate) struct EventSelect {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// Builds the listing SQL; `placeholder(n)` renders the n-th (1-based)
/// placeholder (`?` for SQLite, `$n` for PostgreSQL).
///
/// A kind pattern `a.b.*` becomes the range `kind >= 'a.b.' AND kind < 'a.b/'`
/// ('/' follows '.' in byte order): index-friendly and free of LIKE
/// wildcards, so `_` and `%` in a pattern match only themselves.
pub(crate) fn event_select(q: &EventQuery, placeholder: impl Fn(usize) -> String) -> EventSelect {
    let mut binds = Vec::new();
    let mut bind = |b: Bind| {
        binds.push(b);
        placeholder(binds.len())
    };
    let mut sql =
        String::from("SELECT seq, id, time, kind, subject, actor, data FROM events WHERE TRUE");
    if let Some(after) = q.after {
        sql += &format!(" AND seq > {}", bind(Bind::I64(after)));
    }
    if let Some(before) = q.before {
        sql += &format!(" AND seq < {}", bind(Bind::I64(before)));
    }
    if let Some(kind) = &q.kind {
        match kind.strip_suffix(".*") {
            Some(stem) => {
                sql += &format!(" AND kind >= {}", bind(Bind::Text(format!("{stem}."))));
                sql += &format!(" AND kind < {}", bind(Bind::Text(format!("{stem}/"))));
            }
            None => sql += &format!(" AND kind = {}", bind(Bind::Text(kind.clone()))),
        }
    }
    if let Some(subject) = &q.subject {
        sql += &format!(" AND subject = {}", bind(Bind::Text(subject.clone())));
    }
    sql += match q.order {
        Order::Asc => " ORDER BY seq ASC",
        Order::Desc => " ORDER BY seq DESC",
    };
    sql += &format!(" LIMIT {}", bind(Bind::I64(i64::from(q.effective_limit()))));
    EventSelect { sql, binds }
}

/// Rejects events no backend should store.
pub(crate) fn validate_events(events: &[NewEvent]) -> Result<()> {
    for e in events {
        if e.subject.len() > MAX_SUBJECT_LEN {
            return Err(StoreError::Invalid(format!(
                "event subject is {} bytes long; at most {MAX_SUBJECT_LEN} are accepted",
                e.subject.len()
            )));
        }
    }
    Ok(())
}

/// A lease TTL in microseconds, which must be positive and representable.
pub(crate) fn ttl_micros(ttl: Duration) -> Result<i64> {
    match i64::try_from(ttl.as_micros()) {
        Ok(m) if m > 0 => Ok(m),
        Ok(_) => Err(StoreError::Invalid(
            "lease ttl must be at least one microsecond".into(),
        )),
        Err(_) => Err(StoreError::Invalid("lease ttl is too long".into())),
    }
}

/// Raises the published highest `seq` to `seq` (never lowers it).
pub(crate) fn raise_seq(watch: &tokio::sync::watch::Sender<i64>, seq: i64) {
    watch.send_if_modified(|cur| {
        let newer = seq > *cur;
        if newer {
            *cur = seq;
        }
        newer
    });
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// Maps a failed read of a column to [`StoreError::Corrupt`].
pub(crate) fn corrupt(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn parse_id(s: &str) -> Result<Id> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored id: {e}")))
}

pub(crate) fn parse_role(s: &str) -> Result<Role> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored role: {e}")))
}

pub(crate) fn parse_kind(s: String) -> Result<EventKind> {
    EventKind::new(s).map_err(|e| StoreError::Corrupt(format!("stored event kind: {e}")))
}

/// Maps errors from the pool after [`crate::Store::close`] to
/// [`StoreError::Closed`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Closed,
        e => StoreError::Database(e),
    }
}

/// A store's single writer task and the way to reach it: requests go over a
/// channel and come back on a oneshot; closing drops the sender, so the task
/// finishes what is queued, commits and exits.
pub(crate) struct Writer<T> {
    closed: std::sync::atomic::AtomicBool,
    sender: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<T>>>,
    task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl<T> Writer<T> {
    pub fn new(sender: tokio::sync::mpsc::Sender<T>, task: tokio::task::JoinHandle<()>) -> Self {
        Writer {
            closed: std::sync::atomic::AtomicBool::new(false),
            sender: std::sync::Mutex::new(Some(sender)),
            task: tokio::sync::Mutex::new(Some(task)),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// `Err(Closed)` once [`Writer::close`] has begun.
    pub fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    }

    /// Sends the request built around a reply channel and waits for the answer.
    pub async fn call<R>(
        &self,
        request: impl FnOnce(tokio::sync::oneshot::Sender<Result<R>>) -> T,
    ) -> Result<R> {
        self.check_open()?;
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        sender
            .send(request(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Refuses new requests, then waits for the writer to drain and exit.
    pub async fn close(&self, backend: &str) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        drop(
            self.sender
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        if let Some(task) = self.task.lock().await.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the {backend} writer task failed");
        }
    }
}

/// Refuses a state write that would change the lineage or lower the serial
/// of the stored state.
pub(crate) fn check_state_write(
    stored_lineage: &str,
    stored_serial: i64,
    lineage: &str,
    serial: i64,
) -> Result<()> {
    if stored_lineage != lineage {
        return Err(StoreError::LineageMismatch {
            stored: stored_lineage.to_string(),
            given: lineage.to_string(),
        });
    }
    if serial < stored_serial {
        return Err(StoreError::SerialRegression {
            stored: stored_serial,
            given: serial,
        });
    }
    Ok(())
}

/// Whether `lock_id` may release the lock `held` (the held lock id, if any).
pub(crate) fn check_unlock(
    stack: &str,
    workspace: &str,
    held: Option<&str>,
    lock_id: &str,
    force: bool,
) -> Result<()> {
    match held {
        None => Err(StoreError::NotFound(format!(
            "lock on state {stack:?} workspace {workspace:?}"
        ))),
        Some(held) if held != lock_id && !force => Err(StoreError::Conflict(format!(
            "lock id {lock_id:?} does not match the existing lock id {held:?}"
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_range_for_prefix_patterns() {
        let q = EventQuery {
            after: Some(3),
            kind: Some("pipe_line.*".into()),
            subject: Some("s".into()),
            limit: 0,
            order: Order::Desc,
            ..EventQuery::default()
        };
        let s = event_select(&q, |n| format!("${n}"));
        assert_eq!(
            s.sql,
            "SELECT seq, id, time, kind, subject, actor, data FROM events WHERE TRUE \
             AND seq > $1 AND kind >= $2 AND kind < $3 AND subject = $4 \
             ORDER BY seq DESC LIMIT $5"
        );
        assert!(matches!(&s.binds[1], Bind::Text(t) if t == "pipe_line."));
        assert!(matches!(&s.binds[2], Bind::Text(t) if t == "pipe_line/"));
        assert!(matches!(s.binds[4], Bind::I64(1)));
    }

    #[test]
    fn plain_query_has_only_a_limit() {
        let s = event_select(&EventQuery::default(), |_| "?".into());
        assert_eq!(
            s.sql,
            "SELECT seq, id, time, kind, subject, actor, data FROM events WHERE TRUE \
             ORDER BY seq ASC LIMIT ?"
        );
    }
}
