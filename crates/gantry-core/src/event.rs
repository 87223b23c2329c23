use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{Id, Timestamp};

/// Longest accepted subject, in bytes.
pub const MAX_SUBJECT_LEN: usize = 512;
const MAX_KIND_LEN: usize = 128;

/// What happened, as dotted lowercase words from the general to the specific:
/// `pipeline.run.started`, `infra.apply.finished`, `alert.firing`.
///
/// Two to eight segments of `[a-z0-9_-]`, each starting with a letter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EventKind(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventKindError {
    #[error("event kind is empty")]
    Empty,
    #[error("event kind is longer than {MAX_KIND_LEN} bytes")]
    TooLong,
    #[error(
        "event kind {0:?} needs at least two dot-separated segments, such as \"pipeline.run.started\""
    )]
    OneSegment(String),
    #[error(
        "event kind {0:?} has an invalid segment: segments are lowercase letters, digits, '_' or '-', and start with a letter"
    )]
    BadSegment(String),
}

impl EventKind {
    pub fn new(s: impl Into<String>) -> Result<Self, EventKindError> {
        let s = s.into();
        if s.is_empty() {
            return Err(EventKindError::Empty);
        }
        if s.len() > MAX_KIND_LEN {
            return Err(EventKindError::TooLong);
        }
        let segments: Vec<&str> = s.split('.').collect();
        if segments.len() < 2 {
            return Err(EventKindError::OneSegment(s));
        }
        let valid = |seg: &str| {
            let mut chars = seg.chars();
            matches!(chars.next(), Some('a'..='z'))
                && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
        };
        if segments.len() > 8 || !segments.iter().all(|seg| valid(seg)) {
            return Err(EventKindError::BadSegment(s));
        }
        Ok(EventKind(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when this kind equals `pattern` or, for a pattern ending in `.*`,
    /// lies under that prefix (`pipeline.*` matches `pipeline.run.started`).
    pub fn matches(&self, pattern: &str) -> bool {
        match pattern.strip_suffix(".*") {
            Some(prefix) => self
                .0
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.')),
            None => self.0 == pattern,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventKind({})", self.0)
    }
}

impl FromStr for EventKind {
    type Err = EventKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::new(s)
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventKind::new(s).map_err(serde::de::Error::custom)
    }
}

/// An event before the log has accepted it: everything but its position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: Id,
    pub time: Timestamp,
    pub kind: EventKind,
    /// What the event is about: `workflow/ci.yml`, `aws_s3_bucket.logs`, `monitor/api`.
    pub subject: String,
    /// Who caused it: `token:<name>`, `user:<name>`, `system`.
    pub actor: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    /// Stamps a fresh id and the current time.
    pub fn new(
        kind: EventKind,
        subject: impl Into<String>,
        actor: impl Into<String>,
        data: serde_json::Value,
    ) -> Self {
        NewEvent {
            id: Id::new(),
            time: Timestamp::now(),
            kind,
            subject: subject.into(),
            actor: actor.into(),
            data,
        }
    }
}

/// An event in the log. `seq` is its position: strictly increasing in the
/// order the log committed events, and the cursor for reading and following.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub id: Id,
    pub time: Timestamp,
    pub kind: EventKind,
    pub subject: String,
    pub actor: String,
    pub data: serde_json::Value,
}

impl Event {
    pub fn from_new(seq: i64, e: NewEvent) -> Self {
        Event {
            seq,
            id: e.id,
            time: e.time,
            kind: e.kind,
            subject: e.subject,
            actor: e.actor,
            data: e.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_validate() {
        for ok in [
            "pipeline.run.started",
            "infra.apply.finished",
            "alert.firing",
            "a.b",
            "scan.finding_new",
            "x1.y-2",
        ] {
            assert!(EventKind::new(ok).is_ok(), "{ok}");
        }
        assert_eq!(EventKind::new(""), Err(EventKindError::Empty));
        assert!(matches!(
            EventKind::new("alert"),
            Err(EventKindError::OneSegment(_))
        ));
        for bad in [
            "Alert.firing",
            "alert..firing",
            "alert.firing.",
            ".alert",
            "alert.1x",
            "alert firing.x",
            "a.b.c.d.e.f.g.h.i",
        ] {
            assert!(
                matches!(EventKind::new(bad), Err(EventKindError::BadSegment(_))),
                "{bad}"
            );
        }
        assert_eq!(
            EventKind::new("a.".repeat(70) + "b"),
            Err(EventKindError::TooLong)
        );
    }

    #[test]
    fn kind_patterns() {
        let k = EventKind::new("pipeline.run.started").unwrap();
        assert!(k.matches("pipeline.run.started"));
        assert!(k.matches("pipeline.*"));
        assert!(k.matches("pipeline.run.*"));
        assert!(!k.matches("pipeline.run"));
        assert!(!k.matches("pipe.*"));
        assert!(!k.matches("pipeline.run.started.*"));
    }

    #[test]
    fn kinds_deserialize_with_validation() {
        let e: Result<EventKind, _> = serde_json::from_str("\"BAD\"");
        assert!(e.is_err());
        let k: EventKind = serde_json::from_str("\"alert.firing\"").unwrap();
        assert_eq!(k.as_str(), "alert.firing");
    }
}
