//! gantry-core: the domain types every other crate speaks.
//!
//! Owns: identifiers ([`Id`]), timestamps ([`Timestamp`]), the event model
//! ([`Event`], [`NewEvent`], [`EventKind`]), access roles ([`Role`]) and
//! cron schedules ([`Cron`]).
//!
//! Invariant: no I/O of any kind — no files, no sockets, no SQL, no HTTP, no
//! clocks other than [`Timestamp::now`]. Everything here is plain data with
//! validation, so it can be used from any crate and any thread.

mod cron;
mod event;
mod id;
mod role;
mod time;

pub use cron::Cron;
pub use event::{Event, EventKind, EventKindError, MAX_SUBJECT_LEN, NewEvent};
pub use id::{Id, IdParseError};
pub use role::{Role, RoleParseError};
pub use time::Timestamp;
