//! A CycloneDX 1.5 JSON SBOM: every package found (deduplicated by purl),
//! and a vulnerabilities section linking advisories to the packages they
//! affect.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Tool;
use crate::finding::{Ecosystem, Finding, Kind, Package, Severity};
use crate::report::Report;

fn component(p: &Package, purl: &str) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": purl,
        "name": p.name,
        "version": p.version,
        "purl": purl,
        "properties": [{"name": "gantry:lockfile", "value": format!("{}:{}", p.location.path, p.location.line)}],
    });
    // Maven's group is the part before `:`; npm's scope stays in the name
    // as CycloneDX recommends for npm.
    if p.ecosystem == Ecosystem::Maven
        && let Some((group, artifact)) = p.name.split_once(':')
    {
        c["group"] = json!(group);
        c["name"] = json!(artifact);
    }
    c
}

fn rating(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

fn source_of(id: &str) -> (&'static str, String) {
    if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        ("GitHub", format!("https://github.com/advisories/{id}"))
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    }
}

fn vulnerability(id: &str, findings: &[&Finding], refs: &BTreeMap<String, String>) -> Value {
    let first = findings[0];
    let (name, url) = source_of(id);
    let mut affects: Vec<Value> = Vec::new();
    for f in findings {
        if let Some(p) = &f.package
            && let Some(r) = refs.get(&p.purl())
            && !affects.iter().any(|a| a["ref"] == json!(r))
        {
            affects.push(json!({"ref": r}));
        }
    }
    let mut v = json!({
        "bom-ref": format!("vuln:{id}"),
        "id": id,
        "source": {"name": name, "url": url},
        "ratings": [{"severity": rating(first.severity), "method": "other"}],
        "description": first.title,
        "affects": affects,
    });
    if !first.aliases.is_empty() {
        v["references"] = Value::Array(
            first
                .aliases
                .iter()
                .map(|a| {
                    let (name, url) = source_of(a);
                    json!({"id": a, "source": {"name": name, "url": url}})
                })
                .collect(),
        );
    }
    let advisories: Vec<Value> = first
        .references
        .iter()
        .filter(|r| r.starts_with("http"))
        .map(|r| json!({"url": r}))
        .collect();
    if !advisories.is_empty() {
        v["advisories"] = Value::Array(advisories);
    }
    if let Some(fixed) = &first.fixed_version {
        v["recommendation"] = json!(format!("Upgrade to {fixed} or later."));
    }
    v
}

pub fn cyclonedx(report: &Report, tool: &Tool) -> String {
    // purl → bom-ref; one component per distinct package.
    let mut refs: BTreeMap<String, String> = BTreeMap::new();
    let mut components = Vec::new();
    for p in &report.packages {
        let purl = p.purl();
        if refs.contains_key(&purl) {
            continue;
        }
        refs.insert(purl.clone(), purl.clone());
        components.push(component(p, &purl));
    }
    let mut by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Vulnerability)
    {
        by_id.entry(f.rule_id.as_str()).or_default().push(f);
    }
    let vulnerabilities: Vec<Value> = by_id
        .iter()
        .map(|(id, fs)| vulnerability(id, fs, &refs))
        .collect();
    let root_name = std::path::Path::new(&report.root)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&report.root)
        .to_string();
    let doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::now_v7()),
        "version": 1,
        "metadata": {
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tools": {"components": [{"type": "application", "name": tool.name, "version": tool.version}]},
            "component": {"type": "application", "bom-ref": "root", "name": if root_name.is_empty() { "." } else { root_name.as_str() }},
        },
        "components": components,
        "dependencies": [{"ref": "root", "dependsOn": refs.values().collect::<Vec<_>>()}],
        "vulnerabilities": vulnerabilities,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
