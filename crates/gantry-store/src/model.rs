use gantry_core::{Id, Role, Timestamp};
use serde::{Deserialize, Serialize};

/// Largest page [`crate::EventLog::list`] returns.
pub const MAX_PAGE: u32 = 1000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first: for reading forward from a cursor.
    #[default]
    Asc,
    /// Newest first: for "recent events".
    Desc,
}

/// Which events to list. All filters combine with AND.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only events with `seq > after`.
    pub after: Option<i64>,
    /// Only events with `seq < before`.
    pub before: Option<i64>,
    /// An exact kind, or a prefix pattern ending in `.*` (`pipeline.*`).
    pub kind: Option<String>,
    /// An exact subject.
    pub subject: Option<String>,
    /// At most this many (clamped to 1..=[`MAX_PAGE`]).
    pub limit: u32,
    pub order: Order,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            after: None,
            before: None,
            kind: None,
            subject: None,
            limit: 100,
            order: Order::Asc,
        }
    }
}

impl EventQuery {
    pub fn effective_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// A token to store. The secret itself never reaches the store: only its
/// SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub user_id: Option<Id>,
    pub hash: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Id,
    pub name: String,
    pub role: Role,
    pub user_id: Option<Id>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    /// Fencing token: increases with every fresh acquisition of this lease.
    pub token: i64,
    pub expires_at: Timestamp,
}

/// The current state of one workspace in [`crate::IacStates`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIacState {
    pub serial: i64,
    pub lineage: String,
    pub body: Vec<u8>,
    pub updated_at: Timestamp,
}

/// One version in a workspace's state history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IacStateVersion {
    pub serial: i64,
    pub lineage: String,
    pub body: Vec<u8>,
    pub created_at: Timestamp,
}
