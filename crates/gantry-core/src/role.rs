use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a caller may do. Ordered: `Viewer < Responder < Operator < Admin`;
/// a route that needs a role admits every role at or above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything that is not a secret.
    Viewer,
    /// Acknowledges and resolves incidents, adds notes, silences alerts.
    Responder,
    /// Runs pipelines, applies infrastructure, writes events.
    Operator,
    /// Manages users, tokens and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Responder, Role::Operator, Role::Admin];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// True when a caller holding `self` may use something that needs `required`.
    pub fn allows(&self, required: Role) -> bool {
        *self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {input:?}: expected one of viewer, responder, operator, admin")]
pub struct RoleParseError {
    input: String,
}

impl FromStr for Role {
    type Err = RoleParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| RoleParseError {
                input: s.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Responder);
        assert!(Role::Responder < Role::Operator);
        assert!(Role::Operator < Role::Admin);
        assert!(Role::Admin.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Operator));
        assert!(!Role::Responder.allows(Role::Operator));
    }

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert_eq!("ADMIN".parse::<Role>().unwrap(), Role::Admin);
        let err = "root".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("viewer, responder, operator, admin"), "{err}");
    }
}
