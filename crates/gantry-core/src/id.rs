use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A globally unique, time-ordered identifier (UUIDv7).
///
/// Ids created later compare greater (to the millisecond; within one
/// millisecond the random tail decides), so they sort roughly by creation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(uuid::Uuid);

impl Id {
    /// A fresh UUIDv7 from the current time.
    pub fn new() -> Self {
        Id(uuid::Uuid::now_v7())
    }

    pub fn from_uuid(u: uuid::Uuid) -> Self {
        Id(u)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0.hyphenated())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid id {input:?}: expected a UUID such as 0190d2a4-6c1e-7b3a-9f00-2c4d5e6f7a8b")]
pub struct IdParseError {
    input: String,
}

impl FromStr for Id {
    type Err = IdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Id).map_err(|_| IdParseError {
            input: s.chars().take(64).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_round_trip() {
        let a = Id::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        let parsed: Id = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{a}\""));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = Id::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Id::new();
        assert!(b > a);
    }

    #[test]
    fn bad_ids_are_rejected() {
        let err = "not-a-uuid".parse::<Id>().unwrap_err();
        assert!(err.to_string().contains("not-a-uuid"));
    }
}
