//! gantry-scan: security scanning of a source tree and of an AWS account.
//!
//! Owns: the finding model ([`Finding`], [`Severity`], [`Location`],
//! [`Package`]); dependency scanning against an offline OSV database
//! (`deps`), secret detection (`secrets`), misconfiguration checks for
//! Terraform, GitHub Actions workflows, Dockerfiles and Kubernetes manifests
//! (`misconfig`), and the output formats (table, JSON, SARIF 2.1.0,
//! CycloneDX 1.5).
//!
//! Never: prints (callers render), writes outside the paths it is given
//! (the advisory database directory, an output file), or lets one bad input
//! file stop a scan: a file that cannot be read or parsed becomes a
//! [`FileError`] and the other files are still scanned. A secret's value
//! never leaves this crate unredacted.

pub mod deps;
mod finding;
pub mod misconfig;
pub mod posture;
pub mod secrets;

pub use deps::{Database, DbError, ImportReport, LockfileKind, lockfile_kind, parse_lockfile};
pub use finding::{Ecosystem, FileError, Finding, Kind, Location, Package, Severity};
pub mod output;
mod report;

pub use posture::{PostureOptions, PostureReport, posture_checks, scan_account};
pub use report::{Report, Suppressed};
pub mod scan;
pub mod suppress;
pub mod walk;

pub use scan::{ScanError, ScanOptions, scan_tree};
