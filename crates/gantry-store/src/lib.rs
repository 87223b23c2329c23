//! gantry-store: everything Gantry keeps, behind backend-neutral traits.
//!
//! Owns: the [`Store`] traits ([`EventLog`], [`Settings`], [`Access`],
//! [`Leases`], [`IacStates`]), their SQLite implementation ([`SqliteStore`], the embedded
//! default) and PostgreSQL implementation ([`PgStore`], for several server
//! replicas sharing one database), each with its own migrations, and
//! [`follow`], which turns any event log into a live stream.
//!
//! Invariants:
//! - an append that returned `Ok` is durable (committed and synced) and its
//!   events are visible to every reader, in `seq` order, with no later commit
//!   ever receiving a smaller `seq` (so a cursor never skips an event);
//! - nothing outside this crate writes SQL or knows which backend is in use;
//! - secrets are never stored in plain form: tokens arrive here already hashed.
//!
//! Entry points: [`open`] (by URL), [`SqliteStore::open`], [`PgStore::connect`].

mod common;
mod error;
mod follow;
mod model;
mod postgres;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gantry_core::{Event, Id, NewEvent, Role, Timestamp};

pub use error::{Result, StoreError};
pub use follow::follow;
pub use model::{
    ApiToken, EventQuery, IacStateVersion, Lease, MAX_PAGE, NewToken, Order, StoredIacState, User,
};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The append-only event log.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends all of `events` atomically (all or none) and durably, assigning
    /// each a `seq` greater than any event committed before; returns them in
    /// the order given. Concurrent callers are batched into shared
    /// transactions (group commit).
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Event>>;

    /// One page of events matching `query`.
    async fn list(&self, query: &EventQuery) -> Result<Vec<Event>>;

    /// The highest committed `seq`, or 0 for an empty log.
    async fn last_seq(&self) -> Result<i64>;

    /// Retention: deletes up to `max_rows` of the oldest events, stopping at
    /// the first event (in `seq` order) whose time is at or after `before`,
    /// and never deleting the newest event (so `seq` keeps counting from
    /// it). Returns how many were deleted; call again while it returns
    /// `max_rows`.
    async fn prune_events(&self, before: Timestamp, max_rows: u32) -> Result<u64>;

    /// A receiver whose value is (at least) the highest committed `seq`; it
    /// changes after events commit — through this handle or, for a shared
    /// backend, through any other replica.
    fn watch_seq(&self) -> tokio::sync::watch::Receiver<i64>;
}

/// Small JSON settings, by key.
#[async_trait]
pub trait Settings: Send + Sync {
    async fn get_setting(&self, key: &str) -> Result<Option<serde_json::Value>>;
    async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()>;
    /// True when the key existed.
    async fn delete_setting(&self, key: &str) -> Result<bool>;
    /// All settings, ordered by key.
    async fn list_settings(&self) -> Result<Vec<(String, serde_json::Value)>>;
}

/// Users and API tokens.
#[async_trait]
pub trait Access: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the name is taken.
    async fn create_user(&self, name: &str, role: Role) -> Result<User>;
    async fn get_user(&self, name: &str) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Fails with [`StoreError::NotFound`] when there is no such user.
    async fn set_user_role(&self, name: &str, role: Role) -> Result<User>;

    /// Stores a token's hash and metadata. Fails with [`StoreError::Conflict`]
    /// when the hash is already stored.
    async fn create_token(&self, token: NewToken) -> Result<ApiToken>;
    /// The token with this SHA-256 hash, revoked or not.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>>;
    async fn get_token(&self, id: Id) -> Result<Option<ApiToken>>;
    /// All tokens, oldest first, revoked ones included.
    async fn list_tokens(&self) -> Result<Vec<ApiToken>>;
    /// True when the token existed and was not yet revoked.
    async fn revoke_token(&self, id: Id) -> Result<bool>;
    /// Records a use of the token.
    async fn touch_token(&self, id: Id, at: Timestamp) -> Result<()>;
}

/// Named, expiring leases for job claims and leader election.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease if it is free, expired, or already held by `holder`
    /// (which renews it). A fresh acquisition gets a fencing token greater
    /// than any earlier holder's; a renewal keeps the token. `None` when
    /// another holder has it and it has not expired. Expiry is judged by the
    /// database's clock.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>>;
    /// True when `holder` held the lease and gave it up.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool>;
    /// The current unexpired lease, if any.
    async fn get_lease(&self, name: &str) -> Result<Option<Lease>>;
}

/// Terraform-language state (the `gantry` state backend): per stack and
/// workspace, the current state body with its serial and lineage, the
/// history of every version written, and a lock row.
///
/// The store treats bodies as opaque bytes; serial and lineage are given
/// alongside so it can refuse a write that would go backwards.
#[async_trait]
pub trait IacStates: Send + Sync {
    /// The workspaces of `stack` that have a state, sorted by name.
    async fn list_workspaces(&self, stack: &str) -> Result<Vec<String>>;

    /// The current state of a workspace, if one was written.
    async fn read_state(&self, stack: &str, workspace: &str) -> Result<Option<StoredIacState>>;

    /// Stores a new current state and records it in the history, in one
    /// transaction. Refused with [`StoreError::LineageMismatch`] when a state
    /// with another lineage is stored, and with
    /// [`StoreError::SerialRegression`] when `serial` is lower than the
    /// stored one (an equal serial is accepted: Terraform rewrites a state
    /// without bumping it when only metadata changed).
    async fn write_state(
        &self,
        stack: &str,
        workspace: &str,
        serial: i64,
        lineage: &str,
        body: &[u8],
    ) -> Result<()>;

    /// Up to `limit` versions written to a workspace, newest first.
    async fn state_history(
        &self,
        stack: &str,
        workspace: &str,
        limit: u32,
    ) -> Result<Vec<IacStateVersion>>;

    /// Removes a workspace's state, history and lock. True when it had a
    /// state.
    async fn delete_workspace(&self, stack: &str, workspace: &str) -> Result<bool>;

    /// Takes the workspace's lock for `lock_id`, recording `info` (the
    /// holder's lock info JSON). `Ok(None)` when taken (or already held with
    /// the same `lock_id`); `Ok(Some(holder_info))` when another lock holds
    /// it.
    async fn lock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        info: &str,
    ) -> Result<Option<String>>;

    /// Releases the lock when it is held with `lock_id`, or whatever holds
    /// it when `force`. Fails with [`StoreError::NotFound`] when the
    /// workspace is not locked and with [`StoreError::Conflict`] (naming the
    /// holder's info) when another id holds it and `force` is false.
    async fn unlock_state(
        &self,
        stack: &str,
        workspace: &str,
        lock_id: &str,
        force: bool,
    ) -> Result<()>;
}

/// Everything Gantry keeps.
#[async_trait]
pub trait Store: EventLog + Settings + Access + Leases + IacStates {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Succeeds when the database answers a query.
    async fn ping(&self) -> Result<()>;
    /// Finishes queued writes, then closes connections. Later calls fail with
    /// [`StoreError::Closed`].
    async fn close(&self);
}

/// Opens a store from a URL: `sqlite:PATH` / `sqlite://PATH` (created when
/// missing) or `postgres://...` / `postgresql://...` (migrated on open).
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        Err(StoreError::Invalid(
            "database URL must start with sqlite: or postgres://".into(),
        ))
    }
}
