//! Dependency scanning: lockfiles → packages → OSV advisories.
//!
//! - [`lockfile_kind`] and [`parse_lockfile`] read the lockfiles of
//!   crates.io, npm (package-lock, yarn, pnpm), PyPI (requirements, poetry,
//!   uv, Pipfile), Go (go.mod), RubyGems and Packagist into [`Package`]s,
//!   each with the line its entry starts on.
//! - [`Database`] is the offline OSV database: [`Database::import`] from
//!   `all.zip` exports or directories of OSV JSON, [`Database::update`]
//!   from OSV's bucket, [`Database::status`], and [`Database::scan`], which
//!   matches packages exactly as the OSV schema says with each ecosystem's
//!   own version ordering ([`Scheme`]).
//!
//! [`Package`]: crate::Package

mod db;
pub(crate) mod json;
mod lockfile;
mod osv;
mod version;

pub use db::{
    DEFAULT_BASE_URL, Database, DbError, EcosystemStatus, ImportReport, InvalidRecord, STALE_AFTER,
    Status,
};
pub use lockfile::{LockfileKind, lockfile_kind, parse_lockfile};
pub use version::{Scheme, Version};

use std::cmp::Ordering;

use crate::finding::Ecosystem;

/// Compares two versions under an ecosystem's own ordering; `None` when
/// either does not parse.
pub fn compare_versions(ecosystem: Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    Scheme::of(ecosystem).compare(a, b)
}
