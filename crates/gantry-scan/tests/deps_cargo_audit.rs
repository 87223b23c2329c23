//! Differential test against cargo-audit, the peer that is the spec for
//! crates.io: for each Cargo.lock under tests/fixtures/deps/audit (and the
//! known-answer one), Gantry with ../shared/data/osv/crates.io.zip imported
//! reports exactly the advisory IDs cargo-audit reports from
//! ../shared/data/rustsec-advisory-db.zip.
//!
//! How informational advisories are compared: cargo-audit lists real
//! vulnerabilities under `vulnerabilities` and informational advisories
//! (unmaintained, unsound, notice) under `warnings`. Gantry reports both as
//! findings; informational ones get severity `info` (the RustSec
//! `informational` flag), everything else is above `info`. So the test
//! checks two equalities: cargo-audit's vulnerabilities == Gantry's
//! findings above info, and cargo-audit's unmaintained/unsound/notice
//! warnings == Gantry's info findings. (`yanked` warnings come from the
//! crates.io index, not from advisories; `--no-fetch` leaves them out.)
//!
//! Runs when GANTRY_CARGO_AUDIT names the cargo-audit binary (scripts/test
//! installs it and sets it); otherwise it prints a notice and returns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use gantry_scan::deps::Database;
use gantry_scan::{LockfileKind, Severity, parse_lockfile};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deps")
}

fn lockfiles() -> Vec<PathBuf> {
    let mut out = vec![fixtures().join("lockfiles/cargo/Cargo.lock")];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures().join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path().join("Cargo.lock"))
        .collect();
    dirs.sort();
    out.extend(dirs);
    out
}

#[derive(Debug, Default, PartialEq)]
struct Ids {
    vulnerabilities: BTreeSet<String>,
    informational: BTreeSet<String>,
}

fn cargo_audit(bin: &str, db: &Path, lockfile: &Path) -> Ids {
    let out = Command::new(bin)
        .args(["audit", "--db"])
        .arg(db)
        .args(["--no-fetch", "--stale", "--json", "-f"])
        .arg(lockfile)
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "cargo-audit on {} gave no JSON report ({e}); stderr:\n{}",
            lockfile.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut ids = Ids::default();
    for v in report["vulnerabilities"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        ids.vulnerabilities
            .insert(v["advisory"]["id"].as_str().unwrap().to_string());
    }
    if let Some(warnings) = report["warnings"].as_object() {
        for (kind, list) in warnings {
            if !matches!(kind.as_str(), "unmaintained" | "unsound" | "notice") {
                continue;
            }
            for w in list.as_array().into_iter().flatten() {
                if let Some(id) = w["advisory"]["id"].as_str() {
                    ids.informational.insert(id.to_string());
                }
            }
        }
    }
    ids
}

fn unzip(zip_path: &Path, into: &Path) {
    let f = std::fs::File::open(zip_path).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    zip.extract(into).unwrap();
}

#[test]
fn gantry_reports_exactly_what_cargo_audit_reports() {
    let Ok(bin) = std::env::var("GANTRY_CARGO_AUDIT") else {
        println!(
            "notice: GANTRY_CARGO_AUDIT is unset (scripts/test installs cargo-audit and sets it); skipping the cross-check"
        );
        return;
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        data.join("rustsec-advisory-db.zip").is_file() && data.join("osv/crates.io.zip").is_file(),
        "GANTRY_CARGO_AUDIT is set but {} lacks rustsec-advisory-db.zip or osv/crates.io.zip",
        data.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let advisory_db = tmp.path().join("advisory-db");
    unzip(&data.join("rustsec-advisory-db.zip"), &advisory_db);
    let gantry_db = tmp.path().join("osv");
    Database::import(&gantry_db, &[data.join("osv/crates.io.zip")], None).unwrap();
    let db = Database::open(&gantry_db).unwrap();

    let mut total_vulns = 0;
    let mut total_info = 0;
    for lockfile in lockfiles() {
        let text = std::fs::read_to_string(&lockfile).unwrap();
        let packages = parse_lockfile(LockfileKind::CargoLock, "Cargo.lock", &text).unwrap();
        let findings = db.scan(&packages).unwrap();
        let gantry = Ids {
            vulnerabilities: findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .map(|f| f.rule_id.clone())
                .collect(),
            informational: findings
                .iter()
                .filter(|f| f.severity == Severity::Info)
                .map(|f| f.rule_id.clone())
                .collect(),
        };
        let peer = cargo_audit(&bin, &advisory_db, &lockfile);
        println!(
            "{}: {} vulnerabilities, {} informational",
            lockfile.display(),
            peer.vulnerabilities.len(),
            peer.informational.len()
        );
        assert_eq!(gantry, peer, "{}", lockfile.display());
        total_vulns += peer.vulnerabilities.len();
        total_info += peer.informational.len();
    }
    // The fixtures are chosen to exercise both kinds in quantity.
    assert!(
        total_vulns >= 20 && total_info >= 10,
        "{total_vulns} vulnerabilities, {total_info} informational"
    );
}
