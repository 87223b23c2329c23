//! OSV records: reading, validating, and matching a package against them
//! exactly as the OSV schema says (affected[].package, SEMVER/ECOSYSTEM
//! ranges with introduced/fixed/last_affected/limit events evaluated in
//! version order, `versions` lists, withdrawn records never match).

use std::cmp::Ordering;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::version::{Scheme, Version};
use crate::finding::{Ecosystem, Finding, Kind, Package, Severity, normalize_pypi};

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An OSV record as published (only the fields matching needs).
#[derive(Debug, Deserialize)]
pub(crate) struct RawRecord {
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    modified: String,
    #[serde(default, deserialize_with = "null_default")]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    summary: String,
    #[serde(default, deserialize_with = "null_default")]
    details: String,
    #[serde(default, deserialize_with = "null_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_default")]
    affected: Vec<RawAffected>,
    #[serde(default, deserialize_with = "null_default")]
    references: Vec<RawReference>,
    #[serde(default, deserialize_with = "null_default")]
    database_specific: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "null_default")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "null_default")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "null_default")]
    database_specific: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "null_default")]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct RawReference {
    #[serde(default, deserialize_with = "null_default")]
    url: String,
}

/// A validated record, trimmed to what scanning needs; what the database
/// stores (one copy per ecosystem, holding that ecosystem's entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Advisory {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modified: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub withdrawn: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    pub affected: Vec<Affected>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Affected {
    pub ecosystem: Ecosystem,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RangeKind {
    #[serde(rename = "S")]
    Semver,
    #[serde(rename = "E")]
    Ecosystem,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Range {
    #[serde(rename = "t")]
    pub kind: RangeKind,
    #[serde(rename = "e")]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Event {
    #[serde(rename = "i")]
    Introduced(String),
    #[serde(rename = "f")]
    Fixed(String),
    #[serde(rename = "l")]
    LastAffected(String),
    #[serde(rename = "x")]
    Limit(String),
}

impl Event {
    fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
    /// Among events at the same version, apply introduced first.
    fn tie_rank(&self) -> u8 {
        match self {
            Event::Introduced(_) => 0,
            Event::LastAffected(_) => 1,
            Event::Fixed(_) => 2,
            Event::Limit(_) => 3,
        }
    }
}

/// The outcome of reading one record.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Valid; the advisory holds only entries of ecosystems Gantry scans
    /// (possibly none).
    Valid(Advisory),
    /// Not a valid OSV record; the reason.
    Invalid { id: Option<String>, reason: String },
}

/// Parses and validates one OSV record's JSON.
pub(crate) fn parse_record(bytes: &[u8]) -> Parsed {
    let raw: RawRecord = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            // Name the record if its id at least can be read.
            let id = serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string));
            return Parsed::Invalid {
                id,
                reason: format!("not an OSV record: {e}"),
            };
        }
    };
    let id = raw.id.clone();
    match validate(raw) {
        Ok(adv) => Parsed::Valid(adv),
        Err(reason) => Parsed::Invalid {
            id: Some(id),
            reason,
        },
    }
}

fn validate(raw: RawRecord) -> Result<Advisory, String> {
    let id = raw.id.trim();
    if id.is_empty() {
        return Err("`id` is empty".into());
    }
    if id.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(format!("`id` `{id}` contains whitespace or `/`"));
    }
    let mut affected = Vec::new();
    let mut record_severity_from_entries = Vec::new();
    for (ai, a) in raw.affected.iter().enumerate() {
        let Some(pkg) = &a.package else { continue }; // git-only entries
        if pkg.name.trim().is_empty() {
            return Err(format!("affected[{ai}].package.name is empty"));
        }
        if pkg.ecosystem.trim().is_empty() {
            return Err(format!("affected[{ai}].package.ecosystem is empty"));
        }
        let mut ranges = Vec::new();
        for (ri, r) in a.ranges.iter().enumerate() {
            let kind = match r.kind.as_str() {
                "SEMVER" => RangeKind::Semver,
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "GIT" => continue, // commit ranges need the repository
                other => {
                    return Err(format!(
                        "affected[{ai}].ranges[{ri}].type `{other}` is not SEMVER, ECOSYSTEM or GIT"
                    ));
                }
            };
            if r.events.is_empty() {
                return Err(format!("affected[{ai}].ranges[{ri}] has no events"));
            }
            let mut events = Vec::new();
            for (ei, ev) in r.events.iter().enumerate() {
                let at = || format!("affected[{ai}].ranges[{ri}].events[{ei}]");
                if ev.len() != 1 {
                    return Err(format!(
                        "{} must have exactly one of introduced, fixed, last_affected, limit",
                        at()
                    ));
                }
                let Some((key, value)) = ev.iter().next() else {
                    return Err(format!("{} is empty", at()));
                };
                let Some(v) = value.as_str().map(str::trim).filter(|v| !v.is_empty()) else {
                    return Err(format!("{}.{key} must be a non-empty string", at()));
                };
                let v = v.to_string();
                events.push(match key.as_str() {
                    "introduced" => Event::Introduced(v),
                    "fixed" => Event::Fixed(v),
                    "last_affected" => Event::LastAffected(v),
                    "limit" => Event::Limit(v),
                    other => return Err(format!("{}: unknown event `{other}`", at())),
                });
            }
            if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                return Err(format!(
                    "affected[{ai}].ranges[{ri}] has no `introduced` event"
                ));
            }
            if kind == RangeKind::Semver {
                for e in &events {
                    let v = e.version();
                    if !(v == "0" || v == "*" && matches!(e, Event::Limit(_)))
                        && Scheme::Semver.parse(v).is_none()
                    {
                        return Err(format!(
                            "affected[{ai}].ranges[{ri}]: `{v}` is not a SemVer version"
                        ));
                    }
                }
            }
            ranges.push(Range { kind, events });
        }
        record_severity_from_entries.extend(a.severity.iter());
        // Entries of ecosystems Gantry does not scan (Debian, Hex, ...) are
        // valid but dropped.
        let Some(ecosystem) = Ecosystem::from_osv_name(pkg.ecosystem.trim()) else {
            continue;
        };
        affected.push(Affected {
            ecosystem,
            name: pkg.name.trim().to_string(),
            ranges,
            versions: a.versions.iter().map(|v| v.trim().to_string()).collect(),
        });
    }
    let severity = severity_of(&raw, &record_severity_from_entries);
    let summary = if raw.summary.trim().is_empty() {
        // PyPA records often have details only: their first sentence-ish line.
        let first = raw.details.trim().lines().next().unwrap_or("").trim();
        let mut s: String = first.chars().take(160).collect();
        if first.chars().count() > 160 {
            s.push('…');
        }
        s
    } else {
        raw.summary.trim().to_string()
    };
    Ok(Advisory {
        id: id.to_string(),
        modified: raw.modified.clone(),
        withdrawn: raw
            .withdrawn
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty()),
        aliases: raw.aliases.clone(),
        summary,
        severity,
        references: raw
            .references
            .iter()
            .map(|r| r.url.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect(),
        affected,
    })
}

/// The default when a record states no severity at all (as Go's and many
/// PyPA records do): medium, so `--fail-on high` does not silently pass it
/// as if it were low.
pub(crate) const DEFAULT_SEVERITY: Severity = Severity::Medium;

/// RustSec's informational advisories (unmaintained, unsound, notice; the
/// flag sits in the record's or an entry's `database_specific`) rank as info; then the highest CVSS v2/v3/v4 score in `severity[]`; then
/// `database_specific.severity` (GHSA: LOW, MODERATE, HIGH, CRITICAL); then
/// [`DEFAULT_SEVERITY`].
fn severity_of(raw: &RawRecord, entry_severities: &[&RawSeverity]) -> Severity {
    let informational = |v: &serde_json::Value| {
        v.get("informational")
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty())
    };
    if informational(&raw.database_specific)
        || raw
            .affected
            .iter()
            .any(|a| informational(&a.database_specific))
    {
        return Severity::Info;
    }
    let best = raw
        .severity
        .iter()
        .chain(entry_severities.iter().copied())
        .filter(|s| s.kind.starts_with("CVSS"))
        .filter_map(|s| cvss::Cvss::from_str(s.score.trim()).ok())
        .map(|c| c.score())
        .fold(None::<f64>, |acc, s| Some(acc.map_or(s, |a| a.max(s))));
    if let Some(score) = best {
        return Severity::from_cvss_score(score);
    }
    if let Some(s) = raw
        .database_specific
        .get("severity")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Severity>().ok())
    {
        return s;
    }
    DEFAULT_SEVERITY
}

/// The name a package is indexed and compared under.
pub(crate) fn normalize_name(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::PyPI => normalize_pypi(name),
        Ecosystem::Packagist => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// A record that affects a package.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    /// The lowest `fixed` version above the installed one.
    pub fixed: Option<String>,
}

impl Advisory {
    /// Whether this record affects the package, per the OSV schema.
    pub fn matches(&self, pkg: &Package) -> Option<Match> {
        if self.withdrawn {
            return None;
        }
        let name = normalize_name(pkg.ecosystem, &pkg.name);
        let mut hit = false;
        let mut fixed: Option<(Version, String)> = None;
        for a in &self.affected {
            if a.ecosystem != pkg.ecosystem || normalize_name(a.ecosystem, &a.name) != name {
                continue;
            }
            let eco_scheme = Scheme::of(pkg.ecosystem);
            let installed_eco = eco_scheme.parse(&pkg.version);
            if in_versions(
                &a.versions,
                &pkg.version,
                installed_eco.as_ref(),
                eco_scheme,
            ) {
                hit = true;
            }
            for r in &a.ranges {
                let scheme = match r.kind {
                    RangeKind::Semver => Scheme::Semver,
                    RangeKind::Ecosystem => eco_scheme,
                };
                let Some(installed) = scheme.parse(&pkg.version) else {
                    continue;
                };
                if let Some(in_range) = evaluate(r, scheme, &installed) {
                    hit |= in_range;
                    if in_range {
                        // The lowest fix above the installed version.
                        for e in &r.events {
                            if let Event::Fixed(f) = e
                                && let Some(fv) = scheme.parse(f)
                                && fv.partial_cmp(&installed) == Some(Ordering::Greater)
                                && fixed.as_ref().is_none_or(|(cur, _)| {
                                    fv.partial_cmp(cur) == Some(Ordering::Less)
                                })
                            {
                                fixed = Some((fv, f.clone()));
                            }
                        }
                    }
                }
            }
        }
        hit.then(|| Match {
            fixed: fixed.map(|(_, s)| s),
        })
    }

    /// The finding for a package this record affects.
    pub fn finding(&self, pkg: &Package, m: &Match) -> Finding {
        let title = if self.summary.is_empty() {
            format!("{} in {}", self.id, pkg.name)
        } else {
            self.summary.clone()
        };
        let fix = match &m.fixed {
            Some(f) => format!("fixed in {f}"),
            None => "no fixed version is known".to_string(),
        };
        let message = format!(
            "{} {} is affected by {} ({fix})",
            pkg.name, pkg.version, self.id
        );
        let resource = format!("{}@{}", pkg.name, pkg.version);
        let mut f = Finding::new(Kind::Vulnerability, &self.id, self.severity, title, message)
            .with_location(pkg.location.clone())
            .with_resource(resource.clone());
        if let Some(fixed) = &m.fixed {
            f = f.with_remediation(format!("upgrade {} to {fixed} or later", pkg.name));
        }
        f.aliases = self.aliases.clone();
        f.references = self.references.clone();
        f.package = Some(pkg.clone());
        f.fixed_version = m.fixed.clone();
        f.seal(resource.as_bytes())
    }
}

fn in_versions(list: &[String], version: &str, parsed: Option<&Version>, scheme: Scheme) -> bool {
    list.iter().any(|v| {
        v == version
            || parsed.is_some_and(|p| {
                scheme
                    .parse(v)
                    .is_some_and(|q| q.partial_cmp(p) == Some(Ordering::Equal))
            })
    })
}

/// OSV's evaluation: sort the events by version, then walk them; a version
/// is inside after an `introduced` at or below it, outside after a `fixed`
/// at or below it or a `last_affected` below it. With `limit` events the
/// version must also be below one of them. `None` when an event's version
/// does not parse under the scheme (the range cannot be ordered).
fn evaluate(range: &Range, scheme: Scheme, installed: &Version) -> Option<bool> {
    // `0` (introduced) is below every version; `*` (limit) above.
    enum Bound {
        Min,
        Max,
        V(Version),
    }
    let mut events: Vec<(Bound, &Event)> = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let v = e.version();
        let b = match (e, v) {
            (Event::Introduced(_), "0") => Bound::Min,
            (Event::Limit(_), "*") => Bound::Max,
            _ => Bound::V(scheme.parse(v)?),
        };
        events.push((b, e));
    }
    let cmp = |a: &Bound, b: &Bound| -> Ordering {
        match (a, b) {
            (Bound::Min, Bound::Min) | (Bound::Max, Bound::Max) => Ordering::Equal,
            (Bound::Min, _) | (_, Bound::Max) => Ordering::Less,
            (_, Bound::Min) | (Bound::Max, _) => Ordering::Greater,
            (Bound::V(x), Bound::V(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        }
    };
    events.sort_by(|(a, ea), (b, eb)| cmp(a, b).then(ea.tie_rank().cmp(&eb.tie_rank())));
    let installed_vs = |b: &Bound| -> Ordering {
        match b {
            Bound::Min => Ordering::Greater,
            Bound::Max => Ordering::Less,
            Bound::V(v) => installed.partial_cmp(v).unwrap_or(Ordering::Less),
        }
    };
    let limits: Vec<&Bound> = events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Limit(_)))
        .map(|(b, _)| b)
        .collect();
    if !limits.is_empty() && !limits.iter().any(|b| installed_vs(b) == Ordering::Less) {
        return Some(false);
    }
    let mut affected = false;
    for (b, e) in &events {
        let o = installed_vs(b);
        match e {
            Event::Introduced(_) if o != Ordering::Less => affected = true,
            Event::Fixed(_) if o != Ordering::Less => affected = false,
            Event::LastAffected(_) if o == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    Some(affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;

    fn adv(json: &str) -> Advisory {
        match parse_record(json.as_bytes()) {
            Parsed::Valid(a) => a,
            Parsed::Invalid { reason, .. } => panic!("invalid: {reason}"),
        }
    }

    fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            ecosystem: eco,
            name: name.into(),
            version: version.into(),
            location: Location::new("Cargo.lock", 3),
        }
    }

    #[test]
    fn unsorted_events_and_fix() {
        let a = adv(
            r#"{"id":"X-1","affected":[{"package":{"ecosystem":"crates.io","name":"foo"},
            "ranges":[{"type":"SEMVER","events":[{"fixed":"1.2.0"},{"introduced":"1.0.0"},{"fixed":"0.9.5"},{"introduced":"0"}]}]}]}"#,
        );
        let m = |v: &str| a.matches(&pkg(Ecosystem::CratesIo, "foo", v));
        assert_eq!(m("0.9.0").unwrap().fixed.as_deref(), Some("0.9.5"));
        assert!(m("0.9.5").is_none());
        assert_eq!(m("1.1.9").unwrap().fixed.as_deref(), Some("1.2.0"));
        assert!(m("1.2.0").is_none());
        assert!(
            a.matches(&pkg(Ecosystem::CratesIo, "bar", "1.1.0"))
                .is_none()
        );
        assert!(a.matches(&pkg(Ecosystem::Npm, "foo", "1.1.0")).is_none());
    }

    #[test]
    fn last_affected_and_limit() {
        let a = adv(
            r#"{"id":"X-2","affected":[{"package":{"ecosystem":"npm","name":"p"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0.0"},{"last_affected":"1.4.0"}]}]}]}"#,
        );
        assert!(a.matches(&pkg(Ecosystem::Npm, "p", "1.4.0")).is_some());
        assert!(a.matches(&pkg(Ecosystem::Npm, "p", "1.4.1")).is_none());
        assert!(a.matches(&pkg(Ecosystem::Npm, "p", "0.9.0")).is_none());
        let b = adv(
            r#"{"id":"X-3","affected":[{"package":{"ecosystem":"npm","name":"p"},
            "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"limit":"2.0.0"}]}]}]}"#,
        );
        assert!(b.matches(&pkg(Ecosystem::Npm, "p", "1.9.9")).is_some());
        assert!(b.matches(&pkg(Ecosystem::Npm, "p", "2.0.0")).is_none());
    }

    #[test]
    fn severity_sources() {
        let cvss = adv(
            r#"{"id":"S-1","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        );
        assert_eq!(cvss.severity, Severity::Critical);
        let ghsa = adv(r#"{"id":"S-2","database_specific":{"severity":"MODERATE"}}"#);
        assert_eq!(ghsa.severity, Severity::Medium);
        let none = adv(r#"{"id":"S-3","details":"Line one.\nMore."}"#);
        assert_eq!(none.severity, DEFAULT_SEVERITY);
        assert_eq!(none.summary, "Line one.");
        let info = adv(r#"{"id":"S-4","database_specific":{"informational":"unmaintained"}}"#);
        assert_eq!(info.severity, Severity::Info);
    }

    proptest::proptest! {
        #[test]
        fn no_panic_on_arbitrary_records(s in "\\PC{0,200}") {
            let _ = parse_record(s.as_bytes());
        }

        #[test]
        fn no_panic_matching_arbitrary_versions(
            intro in "[0-9a-z.+\\-]{0,12}",
            fixed in "[0-9a-z.+\\-]{0,12}",
            installed in "[0-9a-zA-Z.+!\\-]{0,14}",
            eco in 0usize..7,
            semver in proptest::bool::ANY,
        ) {
            let kind = if semver { "SEMVER" } else { "ECOSYSTEM" };
            let eco = Ecosystem::ALL[eco];
            let json = serde_json::json!({"id": "P", "affected": [{"package": {"ecosystem": eco.osv_name(), "name": "n"},
                "ranges": [{"type": kind, "events": [{"introduced": intro}, {"fixed": fixed}, {"limit": "*"}]}],
                "versions": [installed.clone()]}]});
            if let Parsed::Valid(a) = parse_record(json.to_string().as_bytes()) {
                // The explicit versions list always contains the installed version.
                proptest::prop_assert!(installed.trim().is_empty() || a.matches(&pkg(eco, "n", &installed)).is_some());
            }
        }
    }

    #[test]
    fn invalid_records_say_why() {
        let reason = |j: &str| match parse_record(j.as_bytes()) {
            Parsed::Invalid { reason, .. } => reason,
            Parsed::Valid(_) => panic!("accepted {j}"),
        };
        assert!(reason("{").contains("not an OSV record"));
        assert!(reason(r#"{"id":""}"#).contains("empty"));
        assert!(reason(r#"{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}"#).contains("no `introduced`"));
        assert!(reason(r#"{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}"#).contains("exactly one"));
        assert!(reason(r#"{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"WEIRD","events":[{"introduced":"0"}]}]}]}"#).contains("WEIRD"));
        assert!(reason(r#"{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"banana"}]}]}]}"#).contains("SemVer"));
    }
}
