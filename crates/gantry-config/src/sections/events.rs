//! `events:` — how long the event log is kept.

use std::time::Duration;

use crate::check::Field;
use crate::values::{DURATION_EXPECTED, parse_duration};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsConfig {
    /// `retention`, like `90d`.
    pub retention: Option<Duration>,
}

pub(crate) const FIELDS: &[Field<EventsConfig>] = &[("retention", |ck, node, path, out| {
    out.retention = ck.value(node, path, DURATION_EXPECTED, parse_duration);
})];
