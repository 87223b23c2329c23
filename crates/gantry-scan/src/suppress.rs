//! What a scan leaves out on purpose: entries of the ignore file
//! (`.gantry/scanignore.yml`) and findings already in a baseline report.
//!
//! The ignore file is a YAML list; each entry names a rule, advisory alias
//! or finding fingerprint (`id`), optionally narrows it to paths (`path`,
//! a glob such as `vendor/**`), says why (`reason`, required) and until
//! when (`expires`, a date; from the day after it the entry stops
//! suppressing and the report says so).

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::finding::Finding;
use crate::report::{Report, Suppressed};

/// Where the ignore file lives, relative to the scanned root.
pub const IGNORE_FILE: &str = ".gantry/scanignore.yml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// One entry of the ignore file.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    pub id: String,
    pub path: Option<globset::GlobMatcher>,
    pub path_text: Option<String>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
}

/// The parsed ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    pub entries: Vec<IgnoreEntry>,
}

/// Why the ignore file or a baseline could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl IgnoreFile {
    /// Reads the ignore file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<IgnoreFile, SuppressError> {
        match std::fs::read_to_string(path) {
            Ok(text) => IgnoreFile::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IgnoreFile::default()),
            Err(source) => Err(SuppressError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Parses the ignore file's text; `name` is used in errors.
    pub fn parse(text: &str, name: &str) -> Result<IgnoreFile, SuppressError> {
        let invalid = |message: String| SuppressError::Invalid {
            path: name.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Ok(IgnoreFile::default());
        }
        let raw: Vec<RawEntry> =
            serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut entries = Vec::with_capacity(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            let n = i + 1;
            if r.id.trim().is_empty() {
                return Err(invalid(format!("entry {n}: `id` is empty")));
            }
            let reason = match r.reason {
                Some(s) if !s.trim().is_empty() => s,
                _ => {
                    return Err(invalid(format!(
                        "entry {n} ({}): `reason` is required: say why the finding is accepted",
                        r.id
                    )));
                }
            };
            let path = match &r.path {
                Some(p) => Some(
                    globset::GlobBuilder::new(p)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| invalid(format!("entry {n} ({}): `path`: {e}", r.id)))?
                        .compile_matcher(),
                ),
                None => None,
            };
            let expires = match &r.expires {
                Some(d) => Some(
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        invalid(format!(
                            "entry {n} ({}): `expires`: `{d}` is not a date like 2027-01-31",
                            r.id
                        ))
                    })?,
                ),
                None => None,
            };
            entries.push(IgnoreEntry {
                id: r.id,
                path,
                path_text: r.path,
                reason,
                expires,
            });
        }
        Ok(IgnoreFile { entries })
    }

    fn matches(e: &IgnoreEntry, f: &Finding) -> bool {
        let id_matches = e.id == f.rule_id || e.id == f.fingerprint || f.aliases.contains(&e.id);
        let path_matches = match (&e.path, &f.location) {
            (None, _) => true,
            (Some(g), Some(l)) => g.is_match(&l.path),
            (Some(_), None) => false,
        };
        id_matches && path_matches
    }

    /// Moves the findings an unexpired entry covers from `report.findings`
    /// to `report.suppressed`; an expired entry that would have matched
    /// adds a notice instead.
    pub fn apply(&self, report: &mut Report, today: NaiveDate) {
        let mut expired_used = vec![false; self.entries.len()];
        let findings = std::mem::take(&mut report.findings);
        for f in findings {
            let mut hidden = None;
            for (i, e) in self.entries.iter().enumerate() {
                if !IgnoreFile::matches(e, &f) {
                    continue;
                }
                if e.expires.is_some_and(|d| today > d) {
                    expired_used[i] = true;
                    continue;
                }
                hidden = Some(e);
                break;
            }
            match hidden {
                Some(e) => report.suppressed.push(Suppressed {
                    rule_id: f.rule_id.clone(),
                    fingerprint: f.fingerprint.clone(),
                    location: f.location.as_ref().map(|l| l.to_string()),
                    reason: match e.expires {
                        Some(d) => format!("{} (ignored until {d})", e.reason),
                        None => e.reason.clone(),
                    },
                }),
                None => report.findings.push(f),
            }
        }
        for (i, used) in expired_used.into_iter().enumerate() {
            if used {
                let e = &self.entries[i];
                report.notices.push(format!(
                    "{IGNORE_FILE}: the entry for {}{} expired on {}; its findings are reported again",
                    e.id,
                    e.path_text
                        .as_deref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default(),
                    e.expires.map(|d| d.to_string()).unwrap_or_default(),
                ));
            }
        }
    }
}

/// The fingerprints of a baseline: a JSON report an earlier
/// `gantry scan --format json` wrote.
pub fn load_baseline(path: &Path) -> Result<HashSet<String>, SuppressError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SuppressError::Io {
        path: name.clone(),
        source,
    })?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| SuppressError::Invalid {
            path: name.clone(),
            message: format!("not a JSON report: {e}"),
        })?;
    let Some(findings) = doc.get("findings").and_then(|f| f.as_array()) else {
        return Err(SuppressError::Invalid {
            path: name,
            message: "not a gantry scan JSON report: no `findings` list".into(),
        });
    };
    Ok(findings
        .iter()
        .filter_map(|f| f.get("fingerprint").and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect())
}

/// Moves findings whose fingerprint is in `baseline` to `suppressed`.
pub fn apply_baseline(report: &mut Report, baseline: &HashSet<String>) {
    let findings = std::mem::take(&mut report.findings);
    for f in findings {
        if baseline.contains(&f.fingerprint) {
            report.suppressed.push(Suppressed {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                location: f.location.as_ref().map(|l| l.to_string()),
                reason: "in the baseline".into(),
            });
        } else {
            report.findings.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Kind, Location, Severity};

    fn finding(rule: &str, path: &str) -> Finding {
        Finding::new(Kind::Misconfig, rule, Severity::High, "t", "m")
            .with_location(Location::new(path, 1))
            .seal(path.as_bytes())
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn entries_suppress_by_id_path_alias_and_fingerprint_until_they_expire() {
        let mut vuln = finding("RUSTSEC-2020-0071", "Cargo.lock");
        vuln.aliases = vec!["CVE-2020-26235".into()];
        let fp_target = finding("GNT-DF-001", "Dockerfile");
        let text = format!(
            "- id: GNT-AWS-001\n  path: \"legacy/**\"\n  reason: retired stack\n\
             - id: CVE-2020-26235\n  reason: not reachable\n  expires: 2026-12-31\n\
             - id: {}\n  reason: base image is distroless\n",
            fp_target.fingerprint
        );
        let file = IgnoreFile::parse(&text, "scanignore.yml").expect("parses");
        let report = || Report {
            findings: vec![
                finding("GNT-AWS-001", "legacy/old/main.tf"),
                finding("GNT-AWS-001", "infra/main.tf"),
                vuln.clone(),
                fp_target.clone(),
                finding("GNT-DF-001", "other/Dockerfile"),
            ],
            ..Report::default()
        };
        let mut r = report();
        file.apply(&mut r, day("2026-12-31"));
        let left: Vec<String> = r
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f.rule_id,
                    f.location.as_ref().map(|l| l.path.as_str()).unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            left,
            ["GNT-AWS-001 infra/main.tf", "GNT-DF-001 other/Dockerfile"]
        );
        assert_eq!(r.suppressed.len(), 3);
        assert!(r.notices.is_empty());
        // The day after it expires, the entry stops working and says so.
        let mut r = report();
        file.apply(&mut r, day("2027-01-01"));
        assert!(r.findings.iter().any(|f| f.rule_id == "RUSTSEC-2020-0071"));
        assert_eq!(r.notices.len(), 1);
        assert!(
            r.notices[0].contains("CVE-2020-26235")
                && r.notices[0].contains("expired on 2026-12-31")
        );
    }

    #[test]
    fn bad_ignore_files_name_the_entry_and_field() {
        let e = IgnoreFile::parse("- id: X\n", "f.yml").expect_err("reason missing");
        assert!(
            e.to_string().contains("entry 1 (X): `reason` is required"),
            "{e}"
        );
        let e = IgnoreFile::parse("- id: X\n  reason: r\n  expires: soon\n", "f.yml")
            .expect_err("bad date");
        assert!(
            e.to_string().contains("`expires`: `soon` is not a date"),
            "{e}"
        );
        let e = IgnoreFile::parse("- id: X\n  reason: r\n  until: 2027-01-01\n", "f.yml")
            .expect_err("unknown key");
        assert!(e.to_string().contains("until"), "{e}");
        let e = IgnoreFile::parse("- id: X\n  reason: r\n  path: \"a/[\"\n", "f.yml")
            .expect_err("bad glob");
        assert!(e.to_string().contains("`path`"), "{e}");
        assert!(IgnoreFile::parse("id: X", "f.yml").is_err());
    }

    #[test]
    fn baseline_hides_known_findings_only() {
        let old = finding("A", "a.tf");
        let new = finding("A", "b.tf");
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("base.json");
        let base = Report {
            findings: vec![old.clone()],
            ..Report::default()
        };
        std::fs::write(
            &p,
            crate::output::json(&base, &crate::output::Tool::default()),
        )
        .expect("write");
        let set = load_baseline(&p).expect("loads");
        let mut r = Report {
            findings: vec![old, new],
            ..Report::default()
        };
        apply_baseline(&mut r, &set);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(
            r.findings[0].location.as_ref().map(|l| l.path.as_str()),
            Some("b.tf")
        );
        assert_eq!(r.suppressed[0].reason, "in the baseline");
        std::fs::write(&p, "{\"x\": 1}").expect("write");
        assert!(load_baseline(&p).is_err());
    }
}
