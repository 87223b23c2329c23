//! The finding model every scanner produces and every output format reads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS v3 qualitative rating of a base score (0.0 → info).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" | "none" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{s}` (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// Which scanner produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A package version affected by an advisory.
    Vulnerability,
    /// A credential in a file or in git history.
    Secret,
    /// A risky setting in Terraform, a workflow, a Dockerfile or a manifest.
    Misconfig,
    /// A risky setting in a live cloud account.
    Posture,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vulnerability => "vulnerability",
            Kind::Secret => "secret",
            Kind::Misconfig => "misconfig",
            Kind::Posture => "posture",
        }
    }
}

/// Where in the scanned tree a finding is. `path` is relative to the scan
/// root with `/` separators, as SARIF and GitHub code scanning want it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    /// 1-based; 0 when the finding concerns the whole file.
    pub line: u32,
    /// 1-based; 0 when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub column: u32,
    /// The last line of a multi-line match, 0 when the same as `line`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub end_line: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Location {
    pub fn new(path: impl Into<String>, line: u32) -> Location {
        Location {
            path: path.into(),
            line,
            column: 0,
            end_line: 0,
        }
    }

    pub fn with_column(mut self, column: u32) -> Location {
        self.column = column;
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.path),
            (l, 0) => write!(f, "{}:{l}", self.path),
            (l, c) => write!(f, "{}:{l}:{c}", self.path),
        }
    }
}

/// A package ecosystem, named as OSV names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    #[serde(rename = "Maven")]
    Maven,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 7] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::Maven,
    ];

    /// OSV's name, which is also the folder of its `all.zip` export.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Maven => "Maven",
        }
    }

    /// The package-URL type (`pkg:TYPE/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::Maven => "maven",
        }
    }

    /// Parses OSV's name, ignoring case; `None` for an ecosystem we do not scan.
    pub fn from_osv_name(s: &str) -> Option<Ecosystem> {
        Ecosystem::ALL
            .into_iter()
            .find(|e| e.osv_name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// One package found in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The lockfile and the line the package's entry starts on.
    pub location: Location,
}

impl Package {
    /// The package URL (purl spec), e.g. `pkg:cargo/smallvec@0.6.9`,
    /// `pkg:npm/%40babel/core@7.0.0`, `pkg:maven/org.apache/commons@1.0`.
    pub fn purl(&self) -> String {
        let ty = self.ecosystem.purl_type();
        let version = purl_escape(&self.version);
        match self.ecosystem {
            Ecosystem::Maven => {
                let (group, artifact) = self.name.split_once(':').unwrap_or(("", &self.name));
                format!(
                    "pkg:{ty}/{}/{}@{version}",
                    purl_escape(group),
                    purl_escape(artifact)
                )
            }
            Ecosystem::PyPI => format!(
                "pkg:{ty}/{}@{version}",
                purl_escape(&normalize_pypi(&self.name))
            ),
            _ => {
                // Namespaced names (`@scope/name`, `vendor/name`, Go module
                // paths) keep their `/` as purl namespace separators.
                let name = self
                    .name
                    .split('/')
                    .map(purl_escape)
                    .collect::<Vec<_>>()
                    .join("/");
                format!("pkg:{ty}/{name}@{version}")
            }
        }
    }
}

/// PEP 503 normalisation: lowercase, runs of `-_.` become `-`.
pub(crate) fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn purl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'+') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One problem a scanner found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    /// The rule, check or advisory: `RUSTSEC-2019-0009`, `aws-access-key-id`,
    /// `GNT-AWS-S3-001`.
    pub rule_id: String,
    pub severity: Severity,
    /// One line naming the problem, the same for every finding of the rule.
    pub title: String,
    /// What is wrong in this instance.
    pub message: String,
    /// Where, in the scanned tree; `None` for cloud posture findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What the finding is about: a Terraform address (`aws_s3_bucket.logs`),
    /// a package (`smallvec@0.6.9`), a workflow job step, an AWS ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// Links to advisories or documentation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Other names of the same problem: CVE/GHSA aliases of an advisory,
    /// Checkov and Trivy IDs of a misconfiguration check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The package a vulnerability concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// The first version that is not affected, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// A secret's value, redacted: its first 4 characters, then `…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    /// The commit a secret was found in by a history scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// What identifies the finding across line moves: a hash of the rule,
    /// the path, the resource and the matched content (never the raw
    /// secret). Baselines and ignore entries compare this.
    pub fingerprint: String,
}

impl Finding {
    /// A finding with no location, resource or details yet; chain the
    /// `with_*` setters, then [`Finding::seal`] with the evidence.
    pub fn new(
        kind: Kind,
        rule_id: impl Into<String>,
        severity: Severity,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            kind,
            rule_id: rule_id.into(),
            severity,
            title: title.into(),
            message: message.into(),
            location: None,
            resource: None,
            remediation: None,
            references: Vec::new(),
            aliases: Vec::new(),
            package: None,
            fixed_version: None,
            redacted: None,
            commit: None,
            fingerprint: String::new(),
        }
    }

    pub fn with_location(mut self, location: Location) -> Finding {
        self.location = Some(location);
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Finding {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Finding {
        self.remediation = Some(remediation.into());
        self
    }

    /// Computes the fingerprint from the rule, the location's path, the
    /// resource and `evidence` (the matched text or the offending value;
    /// hashed, never stored). Call it last.
    pub fn seal(mut self, evidence: &[u8]) -> Finding {
        self.fingerprint = fingerprint(
            &self.rule_id,
            self.location.as_ref().map(|l| l.path.as_str()),
            self.resource.as_deref(),
            evidence,
        );
        self
    }
}

/// SHA-256 over the parts, each length-prefixed so `("ab","c")` and
/// `("a","bc")` differ; 32 hex characters.
pub(crate) fn fingerprint(
    rule_id: &str,
    path: Option<&str>,
    resource: Option<&str>,
    evidence: &[u8],
) -> String {
    let mut h = Sha256::new();
    for part in [
        rule_id.as_bytes(),
        path.unwrap_or("").as_bytes(),
        resource.unwrap_or("").as_bytes(),
        evidence,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex::encode(&h.finalize()[..16])
}

/// A file that could not be scanned, and why. The scan goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    /// `line:col: message` when the position is known.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            ecosystem: eco,
            name: name.into(),
            version: version.into(),
            location: Location::new("x", 1),
        }
    }

    #[test]
    fn purls() {
        assert_eq!(
            pkg(Ecosystem::CratesIo, "smallvec", "0.6.9").purl(),
            "pkg:cargo/smallvec@0.6.9"
        );
        assert_eq!(
            pkg(Ecosystem::Npm, "@babel/core", "7.0.0").purl(),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(
            pkg(Ecosystem::PyPI, "Django_REST.framework", "3.0").purl(),
            "pkg:pypi/django-rest-framework@3.0"
        );
        assert_eq!(
            pkg(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            )
            .purl(),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            pkg(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.0").purl(),
            "pkg:golang/github.com/gin-gonic/gin@v1.9.0"
        );
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!("MODERATE".parse::<Severity>(), Ok(Severity::Medium));
        assert!("urgent".parse::<Severity>().is_err());
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(7.0), Severity::High);
        assert_eq!(Severity::from_cvss_score(0.1), Severity::Low);
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(
            fingerprint("ab", Some("c"), None, b""),
            fingerprint("a", Some("bc"), None, b"")
        );
        assert_eq!(fingerprint("r", None, None, b"x").len(), 32);
    }

    #[test]
    fn ecosystem_names_round_trip() {
        for e in Ecosystem::ALL {
            assert_eq!(Ecosystem::from_osv_name(e.osv_name()), Some(e));
        }
        assert_eq!(Ecosystem::from_osv_name("pypi"), Some(Ecosystem::PyPI));
        assert_eq!(Ecosystem::from_osv_name("Hex"), None);
    }
}
