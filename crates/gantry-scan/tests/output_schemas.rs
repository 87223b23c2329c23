//! The SARIF and CycloneDX renderings validate against the published
//! schemas (SARIF 2.1.0 from the @microsoft/jest-sarif npm package,
//! CycloneDX 1.5 through cyclonedx-python-lib's strict validator), and
//! carry what GitHub code scanning and SBOM consumers read.
//!
//! Needs GANTRY_VENV (a venv with `jsonschema` and
//! `cyclonedx-python-lib[json-validation]`) and GANTRY_SARIF_SCHEMA;
//! scripts/test provides both.

use std::io::Write;
use std::process::{Command, Stdio};

use gantry_scan::output::{Tool, cyclonedx, json, sarif, table};
use gantry_scan::{Ecosystem, FileError, Finding, Kind, Location, Package, Report, Severity};

fn report() -> Report {
    let pkg = |name: &str, version: &str, line| Package {
        ecosystem: Ecosystem::CratesIo,
        name: name.into(),
        version: version.into(),
        location: Location::new("Cargo.lock", line),
    };
    let smallvec = pkg("smallvec", "0.6.9", 10);
    let mut vuln = Finding::new(
        Kind::Vulnerability,
        "RUSTSEC-2019-0009",
        Severity::High,
        "Double-free and use-after-free in SmallVec::grow()",
        "smallvec 0.6.9 is affected; upgrade to 0.6.10",
    )
    .with_location(smallvec.location.clone())
    .with_resource("smallvec@0.6.9")
    .seal(b"smallvec@0.6.9");
    vuln.aliases = vec!["CVE-2019-15551".into(), "GHSA-jr9m-rgcj-8ghx".into()];
    vuln.fixed_version = Some("0.6.10".into());
    vuln.references = vec!["https://rustsec.org/advisories/RUSTSEC-2019-0009.html".into()];
    vuln.package = Some(smallvec.clone());
    // The same advisory through a second lockfile: one rule, one component.
    let mut vuln2 = vuln.clone();
    vuln2.location = Some(Location::new("sub dir/Cargo.lock", 4));
    let mut secret = Finding::new(
        Kind::Secret,
        "github-pat",
        Severity::Critical,
        "GitHub personal access token",
        "A GitHub personal access token is committed",
    )
    .with_location(Location::new("src/config.rs", 12).with_column(17))
    .seal(b"not-a-real-token");
    secret.redacted = Some("ghp_…".into());
    let misconfig = Finding::new(
        Kind::Misconfig,
        "GNT-AWS-001",
        Severity::Medium,
        "S3 bucket versioning is off",
        "aws_s3_bucket.logs has no versioning",
    )
    .with_location(Location::new("infra/main.tf", 3))
    .with_resource("aws_s3_bucket.logs")
    .with_remediation("Add an aws_s3_bucket_versioning resource with status Enabled.")
    .seal(b"");
    let posture = Finding::new(
        Kind::Posture,
        "GNT-AWSP-001",
        Severity::Low,
        "KMS key rotation is off",
        "Key 1234 does not rotate",
    )
    .with_resource("arn:aws:kms:us-east-1:123456789012:key/1234")
    .seal(b"");
    let mut r = Report {
        root: "project".into(),
        findings: vec![vuln, vuln2, secret, misconfig, posture],
        packages: vec![
            smallvec.clone(),
            Package {
                location: Location::new("sub dir/Cargo.lock", 4),
                ..smallvec
            },
            pkg("serde", "1.0.200", 30),
        ],
        errors: vec![FileError {
            path: "broken/package-lock.json".into(),
            message: "3:7: expected `,`".into(),
        }],
        files_scanned: 7,
        ..Report::default()
    };
    r.sort();
    r
}

fn python() -> String {
    let venv = std::env::var("GANTRY_VENV").unwrap_or_else(|_| {
        panic!(
            "GANTRY_VENV is not set: scripts/test creates the venv with jsonschema and \
             cyclonedx-python-lib[json-validation] and sets it"
        )
    });
    format!("{venv}/bin/python")
}

fn run_python(script: &str, args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

const SARIF_CHECK: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(sys.stdin)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print(list(e.path), e.message)
sys.exit(1 if errors else 0)
"#;

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let schema = std::env::var("GANTRY_SARIF_SCHEMA")
        .unwrap_or_else(|_| panic!("GANTRY_SARIF_SCHEMA is not set (scripts/test sets it)"));
    let out = sarif(&report(), &Tool::default());
    let (ok, msg) = run_python(SARIF_CHECK, &[&schema], &out);
    assert!(ok, "SARIF does not validate:\n{msg}\n{out}");
    // The validator itself must reject a broken log.
    let broken = out.replace("\"startLine\": 3", "\"startLine\": 0");
    assert_ne!(broken, out);
    let (ok, _) = run_python(SARIF_CHECK, &[&schema], &broken);
    assert!(!ok, "a startLine of 0 must not validate");
}

#[test]
fn sarif_has_what_github_code_scanning_reads() {
    let doc: serde_json::Value =
        serde_json::from_str(&sarif(&report(), &Tool::default())).expect("json");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    // One rule per id, though RUSTSEC-2019-0009 is found twice.
    assert_eq!(rules.len(), 4);
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    for r in results {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let rule = &rules[idx];
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(rule[key]["text"].as_str().is_some_and(|t| !t.is_empty()));
        }
        assert!(rule["properties"]["security-severity"].as_str().is_some());
        assert!(
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .is_some_and(|h| h.ends_with(":1"))
        );
    }
    let secret = results
        .iter()
        .find(|r| r["ruleId"] == "github-pat")
        .expect("secret result");
    assert_eq!(secret["level"], "error");
    let loc = &secret["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/config.rs");
    assert_eq!(loc["region"]["startLine"], 12);
    assert_eq!(loc["region"]["startColumn"], 17);
    assert!(
        !secret["message"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("not-a-real-token")
    );
    let spaced = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "sub%20dir/Cargo.lock"
        })
        .expect("a path with a space is percent-encoded");
    assert_eq!(spaced["ruleId"], "RUSTSEC-2019-0009");
    let medium = results
        .iter()
        .find(|r| r["ruleId"] == "GNT-AWS-001")
        .expect("misconfig");
    assert_eq!(medium["level"], "warning");
    let crit = rules
        .iter()
        .find(|r| r["id"] == "github-pat")
        .expect("rule");
    assert_eq!(crit["properties"]["security-severity"], "9.5");
}

const CDX_CHECK: &str = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(sys.stdin.read())
if err is not None:
    print(err)
    sys.exit(1)
"#;

#[test]
fn cyclonedx_validates_against_the_1_5_schema() {
    let out = cyclonedx(&report(), &Tool::default());
    let (ok, msg) = run_python(CDX_CHECK, &[], &out);
    assert!(ok, "CycloneDX does not validate:\n{msg}\n{out}");
    let broken = out.replace("\"bomFormat\": \"CycloneDX\"", "\"bomFormat\": \"SPDX\"");
    let (ok, _) = run_python(CDX_CHECK, &[], &broken);
    assert!(!ok, "a wrong bomFormat must not validate");
}

#[test]
fn cyclonedx_lists_each_package_once_and_links_vulnerabilities() {
    let doc: serde_json::Value =
        serde_json::from_str(&cyclonedx(&report(), &Tool::default())).expect("json");
    let comps = doc["components"].as_array().expect("components");
    let purls: Vec<&str> = comps.iter().filter_map(|c| c["purl"].as_str()).collect();
    assert_eq!(
        purls,
        ["pkg:cargo/smallvec@0.6.9", "pkg:cargo/serde@1.0.200"]
    );
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    assert_eq!(
        vulns.len(),
        1,
        "secrets and misconfigurations are not vulnerabilities"
    );
    assert_eq!(vulns[0]["id"], "RUSTSEC-2019-0009");
    assert_eq!(
        vulns[0]["affects"],
        serde_json::json!([{"ref": "pkg:cargo/smallvec@0.6.9"}])
    );
    assert_eq!(vulns[0]["ratings"][0]["severity"], "high");
    assert_eq!(vulns[0]["references"][0]["id"], "CVE-2019-15551");
    assert_eq!(vulns[0]["recommendation"], "Upgrade to 0.6.10 or later.");
}

#[test]
fn json_report_is_stable_and_counts_by_severity() {
    let doc: serde_json::Value =
        serde_json::from_str(&json(&report(), &Tool::default())).expect("json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["summary"]["total"], 5);
    assert_eq!(doc["summary"]["by_severity"]["high"], 2);
    assert_eq!(doc["summary"]["by_severity"]["info"], 0);
    assert_eq!(doc["summary"]["errors"], 1);
    // Worst first.
    assert_eq!(doc["findings"][0]["rule_id"], "github-pat");
    assert_eq!(doc["findings"][0]["redacted"], "ghp_…");
    // A report reads back (baselines are JSON reports).
    let back: Report = serde_json::from_value(doc.clone()).expect("reads back");
    assert_eq!(back.findings.len(), 5);
}

#[test]
fn table_groups_by_severity_and_colours_only_when_asked() {
    let plain = table(&report(), false);
    let crit = plain.find("CRITICAL (1)").expect("critical group");
    let high = plain.find("HIGH (2)").expect("high group");
    let low = plain.find("LOW (1)").expect("low group");
    assert!(crit < high && high < low, "{plain}");
    assert!(!plain.contains('\x1b'));
    assert!(plain.contains("src/config.rs:12:17"));
    assert!(plain.contains("broken/package-lock.json: 3:7: expected `,`"));
    assert!(plain.contains("5 findings (1 critical, 2 high, 1 medium, 1 low, 0 info)"));
    assert!(table(&report(), true).contains("\x1b[1;35mCRITICAL (1)"));
}
