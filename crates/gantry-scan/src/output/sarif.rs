//! SARIF 2.1.0, in the subset GitHub code scanning reads: rules with
//! descriptions, help and `security-severity`; results with a level, a
//! message, a repository-relative location and a partial fingerprint.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Tool;
use crate::finding::{Finding, Severity};
use crate::report::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps this score to its severity labels: ≥ 9.0 critical,
/// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

fn rule(f: &Finding) -> Value {
    let mut full = f.title.clone();
    if !f.aliases.is_empty() {
        full.push_str(&format!(" ({})", f.aliases.join(", ")));
    }
    let mut help = String::new();
    if let Some(r) = &f.remediation {
        help.push_str(r);
    }
    if !f.references.is_empty() {
        if !help.is_empty() {
            help.push_str("\n\n");
        }
        help.push_str("References:\n");
        for r in &f.references {
            help.push_str(&format!("- {r}\n"));
        }
    }
    if help.is_empty() {
        help = f.title.clone();
    }
    let mut r = json!({
        "id": f.rule_id,
        "name": f.rule_id,
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": full},
        "help": {"text": help, "markdown": help},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {
            "tags": ["security", f.kind.as_str()],
            "security-severity": security_severity(f.severity),
            "precision": "high",
        },
    });
    if let Some(uri) = f.references.iter().find(|r| r.starts_with("http")) {
        r["helpUri"] = json!(uri);
    }
    r
}

fn result(f: &Finding, index: usize) -> Value {
    let mut text = f.message.clone();
    if let Some(v) = &f.fixed_version {
        text.push_str(&format!(" Fixed in {v}."));
    }
    if let Some(r) = &f.redacted {
        text.push_str(&format!(" Secret: {r}"));
    }
    let mut location = json!({});
    if let Some(l) = &f.location {
        let mut physical = json!({
            "artifactLocation": {"uri": uri_path(&l.path), "uriBaseId": "%SRCROOT%"},
        });
        if l.line > 0 {
            let mut region = json!({"startLine": l.line});
            if l.column > 0 {
                region["startColumn"] = json!(l.column);
            }
            if l.end_line > l.line {
                region["endLine"] = json!(l.end_line);
            }
            physical["region"] = region;
        }
        location["physicalLocation"] = physical;
    }
    if let Some(r) = &f.resource {
        location["logicalLocations"] = json!([{"fullyQualifiedName": r, "kind": "resource"}]);
    }
    let mut out = json!({
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": text},
        "partialFingerprints": {
            "primaryLocationLineHash": format!("{}:1", &f.fingerprint[..f.fingerprint.len().min(16)]),
        },
        "properties": {
            "security-severity": security_severity(f.severity),
            "kind": f.kind.as_str(),
        },
    });
    if location.as_object().is_some_and(|o| !o.is_empty()) {
        out["locations"] = json!([location]);
    }
    if let Some(c) = &f.commit {
        out["properties"]["commit"] = json!(c);
    }
    out
}

/// Percent-encodes what a URI reference may not hold; `/` stays.
fn uri_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn sarif(report: &Report, tool: &Tool) -> String {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for f in &report.findings {
        if !index.contains_key(f.rule_id.as_str()) {
            index.insert(&f.rule_id, rules.len());
            rules.push(rule(f));
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, index[f.rule_id.as_str()]))
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri_path(&e.path), "uriBaseId": "%SRCROOT%"}}}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool.name,
                "version": tool.version,
                "semanticVersion": tool.version,
                "informationUri": tool.information_uri,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
