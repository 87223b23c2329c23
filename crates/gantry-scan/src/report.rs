//! What one scan found, before it is rendered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::{FileError, Finding, Package, Severity};

/// The outcome of a scan: findings (after suppression), the packages seen
/// (for the SBOM), files that could not be scanned, and notices the user
/// must see (a stale advisory database, an expired ignore entry).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// The scanned root as given (for display), e.g. `.`.
    pub root: String,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub packages: Vec<Package>,
    #[serde(default)]
    pub errors: Vec<FileError>,
    #[serde(default)]
    pub notices: Vec<String>,
    /// Findings an ignore entry or the baseline hid, with the reason.
    #[serde(default)]
    pub suppressed: Vec<Suppressed>,
    #[serde(default)]
    pub files_scanned: usize,
}

/// A finding left out of the report, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    pub rule_id: String,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub reason: String,
}

impl Report {
    /// Findings per severity, every severity present (zero when none).
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut out: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for f in &self.findings {
            *out.entry(f.severity).or_default() += 1;
        }
        out
    }

    /// [`Report::counts`] keyed by severity name, as the JSON report and
    /// the scan event show them.
    pub fn counts_by_name(&self) -> BTreeMap<&'static str, usize> {
        self.counts()
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect()
    }

    /// Whether any finding is at or above `threshold`.
    pub fn reaches(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// Sorts findings for stable output: severity (worst first), then
    /// path, line, rule and fingerprint; packages by lockfile and line.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| loc_key(a).cmp(&loc_key(b)))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.resource.cmp(&b.resource))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        self.packages.sort_by(|a, b| {
            (&a.location.path, a.location.line, &a.name, &a.version).cmp(&(
                &b.location.path,
                b.location.line,
                &b.name,
                &b.version,
            ))
        });
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

fn loc_key(f: &Finding) -> (&str, u32, u32) {
    match &f.location {
        Some(l) => (l.path.as_str(), l.line, l.column),
        None => ("", 0, 0),
    }
}
