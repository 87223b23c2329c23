//! The OSV database end to end: import fixture records (valid and invalid),
//! scan packages of every ecosystem against them, status and staleness, the
//! missing-database error, re-imports, the real corpora in ../shared/data/osv
//! and the README's known answer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use gantry_scan::deps::{Database, DbError, STALE_AFTER};
use gantry_scan::{Ecosystem, Kind, Location, LockfileKind, Package, Severity, parse_lockfile};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deps")
        .join(p)
}

/// ../shared/data beside the project root, or None with a notice.
fn shared_data() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared/data");
    if dir.join("osv").is_dir() {
        Some(dir)
    } else {
        println!(
            "notice: {} is absent; skipping the real-corpus part of this test",
            dir.display()
        );
        None
    }
}

fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
    Package {
        ecosystem: eco,
        name: name.into(),
        version: version.into(),
        location: Location::new("lock", 7),
    }
}

fn fixture_db() -> (tempfile::TempDir, Database) {
    let tmp = tempfile::tempdir().unwrap();
    let report = Database::import(
        tmp.path(),
        &[fixture("osv/valid"), fixture("osv/invalid")],
        None,
    )
    .unwrap();
    assert_eq!(report.read, 13);
    let db = Database::open(tmp.path()).unwrap();
    (tmp, db)
}

/// (ecosystem, name, version, expected ids with their fixed versions)
#[allow(clippy::type_complexity)]
const CASES: &[(Ecosystem, &str, &str, &[(&str, Option<&str>)])] = &[
    // unsorted events; the withdrawn record on lodash never matches
    (
        Ecosystem::Npm,
        "lodash",
        "4.17.15",
        &[("GHSA-p6mc-m468-83gw", Some("4.17.19"))],
    ),
    (Ecosystem::Npm, "lodash", "4.17.19", &[]),
    (Ecosystem::Npm, "lodash", "3.6.0", &[]),
    // last_affected is inclusive; pre-releases below `introduced` are outside
    (
        Ecosystem::Npm,
        "@scope/widget",
        "1.2.5",
        &[("TEST-NPM-LAST", None)],
    ),
    (
        Ecosystem::Npm,
        "@scope/widget",
        "1.0.0-beta.1",
        &[("TEST-NPM-LAST", None)],
    ),
    (Ecosystem::Npm, "@scope/widget", "1.0.0-alpha", &[]),
    (Ecosystem::Npm, "@scope/widget", "1.2.6", &[]),
    (Ecosystem::Npm, "@scope/widget", "1.3.0-rc.1", &[]),
    // limit: only versions below it; GIT ranges ignored
    (
        Ecosystem::Npm,
        "limited",
        "2.5.0",
        &[("TEST-NPM-LIMIT", None)],
    ),
    (
        Ecosystem::Npm,
        "limited",
        "1.0.0",
        &[("TEST-NPM-LIMIT", None)],
    ),
    (Ecosystem::Npm, "limited", "3.0.0", &[]),
    // Go: pseudo-versions, v prefix, +incompatible
    (
        Ecosystem::Go,
        "golang.org/x/net",
        "v0.0.0-20210405180319-a5a99cb37ef4",
        &[("GO-TEST-0001", Some("0.0.0-20220906165146-f3363e06e74c"))],
    ),
    (
        Ecosystem::Go,
        "golang.org/x/net",
        "v0.0.0-20220906165146-f3363e06e74c",
        &[],
    ),
    (Ecosystem::Go, "golang.org/x/net", "v0.1.0", &[]),
    (
        Ecosystem::Go,
        "github.com/gin-gonic/gin",
        "v1.7.0",
        &[("GO-TEST-0002", Some("1.7.7"))],
    ),
    (Ecosystem::Go, "github.com/gin-gonic/gin", "v1.7.7", &[]),
    (
        Ecosystem::Go,
        "github.com/quoted/mod",
        "v2.0.0+incompatible",
        &[("GO-TEST-0002", Some("2.0.1"))],
    ),
    // PEP 440: two ranges, explicit versions, pre-releases, local versions, name normalisation
    (
        Ecosystem::PyPI,
        "Django",
        "3.2.3",
        &[("PYSEC-TEST-1", Some("3.2.4"))],
    ),
    (
        Ecosystem::PyPI,
        "django",
        "3.2.0rc1",
        &[("PYSEC-TEST-1", Some("3.2.4"))],
    ),
    (
        Ecosystem::PyPI,
        "Django",
        "2.2.23",
        &[("PYSEC-TEST-1", Some("2.2.24"))],
    ),
    (Ecosystem::PyPI, "Django", "2.2.24", &[]),
    (Ecosystem::PyPI, "Django", "3.1.0", &[]),
    (Ecosystem::PyPI, "Django", "3.2.4", &[]),
    (
        Ecosystem::PyPI,
        "torch",
        "2.0.0+cpu",
        &[("PYSEC-TEST-LOCAL", Some("2.0.1"))],
    ),
    (Ecosystem::PyPI, "torch", "2.0.1+cu118", &[]),
    (
        Ecosystem::PyPI,
        "Py-YAML_Extra",
        "5.3.1",
        &[("PYSEC-TEST-VERSIONS", None)],
    ),
    (
        Ecosystem::PyPI,
        "py-yaml-extra",
        "5.4.0rc1",
        &[("PYSEC-TEST-VERSIONS", None)],
    ),
    (Ecosystem::PyPI, "py-yaml-extra", "5.4.0", &[]),
    // RubyGems pre-releases
    (
        Ecosystem::RubyGems,
        "nokogiri",
        "1.13.9",
        &[("GHSA-RUBY-TEST", Some("1.13.10.rc1"))],
    ),
    (
        Ecosystem::RubyGems,
        "nokogiri",
        "1.13.10.beta",
        &[("GHSA-RUBY-TEST", Some("1.13.10.rc1"))],
    ),
    (Ecosystem::RubyGems, "nokogiri", "1.13.10.rc1", &[]),
    (Ecosystem::RubyGems, "nokogiri", "1.13.10", &[]),
    // Packagist: v prefix, case-insensitive names
    (
        Ecosystem::Packagist,
        "symfony/http-kernel",
        "v5.4.3",
        &[("GHSA-PHP-TEST", Some("5.4.20"))],
    ),
    (Ecosystem::Packagist, "symfony/http-kernel", "v5.4.20", &[]),
    (Ecosystem::Packagist, "symfony/http-kernel", "4.4.0", &[]),
    // Maven qualifiers
    (
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.14.1",
        &[("GHSA-MAVEN-TEST", Some("2.15.0"))],
    ),
    (
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.0-rc1",
        &[("GHSA-MAVEN-TEST", Some("2.15.0"))],
    ),
    (
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.0-beta9",
        &[("GHSA-MAVEN-TEST", Some("2.15.0"))],
    ),
    (
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.0-beta8",
        &[],
    ),
    (
        Ecosystem::Maven,
        "org.apache.logging.log4j:log4j-core",
        "2.15.0",
        &[],
    ),
    // the same name in another ecosystem never matches
    (Ecosystem::PyPI, "lodash", "4.17.15", &[]),
];

#[test]
fn fixture_records_match_exactly() {
    let (_tmp, db) = fixture_db();
    for (eco, name, version, want) in CASES {
        let p = pkg(*eco, name, version);
        let findings = db.scan(std::slice::from_ref(&p)).unwrap();
        let got: Vec<(&str, Option<&str>)> = findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.fixed_version.as_deref()))
            .collect();
        assert_eq!(&got, want, "{eco} {name} {version}");
    }
}

#[test]
fn findings_carry_everything_the_outputs_need() {
    let (_tmp, db) = fixture_db();
    let p = pkg(Ecosystem::Npm, "lodash", "4.17.15");
    let f = db.scan(std::slice::from_ref(&p)).unwrap().remove(0);
    assert_eq!(f.kind, Kind::Vulnerability);
    assert_eq!(f.rule_id, "GHSA-p6mc-m468-83gw");
    assert_eq!(
        f.severity,
        Severity::High,
        "CVSS 3.1 base 7.4 wins over database_specific"
    );
    assert_eq!(f.title, "Prototype Pollution in lodash");
    assert_eq!(f.resource.as_deref(), Some("lodash@4.17.15"));
    assert_eq!(f.location, Some(Location::new("lock", 7)));
    assert_eq!(f.aliases, vec!["CVE-2020-8203"]);
    assert_eq!(
        f.references,
        vec!["https://nvd.nist.gov/vuln/detail/CVE-2020-8203"]
    );
    assert_eq!(f.package.as_ref(), Some(&p));
    for part in ["lodash", "4.17.15", "4.17.19"] {
        assert!(f.message.contains(part), "{}", f.message);
    }
    assert_eq!(f.fingerprint.len(), 32);

    let sev = |eco, name: &str, v: &str| db.scan(&[pkg(eco, name, v)]).unwrap()[0].severity;
    assert_eq!(
        sev(Ecosystem::Packagist, "symfony/http-kernel", "5.4.3"),
        Severity::Critical,
        "CVSS v4"
    );
    assert_eq!(
        sev(Ecosystem::RubyGems, "nokogiri", "1.0"),
        Severity::Critical,
        "GHSA database_specific"
    );
    assert_eq!(sev(Ecosystem::Npm, "@scope/widget", "1.1.0"), Severity::Low);
    assert_eq!(
        sev(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.7.0"),
        Severity::Medium,
        "default"
    );
    // PyPA records without a summary take the details' first line.
    let d = &db.scan(&[pkg(Ecosystem::PyPI, "django", "3.2.3")]).unwrap()[0];
    assert_eq!(
        d.title,
        "Django before 3.2.4 has a potential directory traversal."
    );
}

#[test]
fn invalid_records_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let report = Database::import(
        tmp.path(),
        &[fixture("osv/valid"), fixture("osv/invalid")],
        None,
    )
    .unwrap();
    let reasons: Vec<(String, String)> = report
        .invalid
        .iter()
        .map(|i| {
            let file = Path::new(&i.source)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            (file, i.reason.clone())
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    let reason_of = |f: &str| &reasons.iter().find(|(n, _)| n == f).unwrap().1;
    assert!(reason_of("bad-json.json").contains("not an OSV record"));
    assert!(reason_of("no-id.json").contains("id"));
    assert!(reason_of("no-introduced.json").contains("no `introduced`"));
    assert!(reason_of("wrong-type.json").contains("non-empty string"));
    assert!(reason_of("unknown-event.json").contains("patched"));
    let ids: BTreeSet<_> = report.invalid.iter().filter_map(|i| i.id.clone()).collect();
    // Records that parse as JSON are named by their id; truncated JSON is not.
    assert!(ids.contains("BAD-NOINTRO") && ids.contains("BAD-EVENT") && !ids.contains("BAD-JSON"));
    // The Debian-only record is valid but has nothing Gantry scans.
    assert_eq!(report.unsupported, 1);
    let counts: Vec<(String, usize)> = report.ecosystems.into_iter().collect();
    assert_eq!(
        counts,
        vec![
            ("Go".to_string(), 2),
            ("Maven".to_string(), 1),
            ("Packagist".to_string(), 1),
            ("PyPI".to_string(), 3),
            ("RubyGems".to_string(), 1),
            ("npm".to_string(), 4),
        ]
    );
    // Invalid records are not in the database.
    let db = Database::open(tmp.path()).unwrap();
    assert!(
        db.scan(&[pkg(Ecosystem::Npm, "x", "0.5.0")])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn no_database_is_an_error_not_zero_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Database::open(tmp.path()).unwrap_err();
    assert!(matches!(err, DbError::Missing { .. }));
    assert!(err.to_string().contains("gantry scan db import"), "{err}");
    assert!(matches!(
        Database::status(tmp.path()),
        Err(DbError::Missing { .. })
    ));
    // A corrupt meta file is an error too, naming the file.
    std::fs::write(tmp.path().join("meta.json"), "{not json").unwrap();
    let err = Database::open(tmp.path()).unwrap_err();
    assert!(
        matches!(err, DbError::Corrupt { .. }) && err.to_string().contains("meta.json"),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let not_zip = tmp.path().join("junk.zip");
    std::fs::write(&not_zip, b"this is not a zip").unwrap();
    let err = Database::import(&tmp.path().join("db"), &[not_zip], None).unwrap_err();
    assert!(
        err.to_string().contains("junk.zip") && err.to_string().contains("zip"),
        "{err}"
    );
    let err = Database::import(
        &tmp.path().join("db"),
        &[tmp.path().join("absent.zip")],
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("absent.zip"), "{err}");
    // Nothing was written by the failed imports.
    assert!(Database::open(&tmp.path().join("db")).is_err());
}

#[test]
fn status_ages_and_staleness() {
    let tmp = tempfile::tempdir().unwrap();
    // Import times are kept in whole seconds.
    let secs = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let t0 = std::time::UNIX_EPOCH + Duration::from_secs(secs);
    Database::import_at(tmp.path(), &[fixture("osv/valid")], None, t0).unwrap();
    let s = Database::status_at(tmp.path(), t0 + Duration::from_secs(60)).unwrap();
    assert_eq!(s.records, 12);
    assert!(!s.stale);
    assert_eq!(s.age, Duration::from_secs(60));
    let npm = s
        .ecosystems
        .iter()
        .find(|e| e.ecosystem == Ecosystem::Npm)
        .unwrap();
    assert_eq!((npm.records, npm.withdrawn, npm.packages), (4, 1, 3));
    assert!(npm.size > 0);
    let later = Database::status_at(tmp.path(), t0 + STALE_AFTER + Duration::from_secs(1)).unwrap();
    assert!(later.stale && later.ecosystems.iter().all(|e| e.stale));
    let db = Database::open(tmp.path()).unwrap();
    assert!(!db.is_stale() && db.age() >= Duration::from_secs(3600));

    // Imported eight days ago: stale for status and for an opened database.
    let old = tempfile::tempdir().unwrap();
    let t_old = SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
    Database::import_at(old.path(), &[fixture("osv/valid")], None, t_old).unwrap();
    assert!(Database::status(old.path()).unwrap().stale);
    assert!(Database::open(old.path()).unwrap().is_stale());
}

#[test]
fn reimport_replaces_by_id_and_keeps_other_ecosystems() {
    let tmp = tempfile::tempdir().unwrap();
    Database::import(tmp.path(), &[fixture("osv/valid")], None).unwrap();
    // A newer copy of one record that no longer affects 4.17.15, alone in a folder.
    let upd = tempfile::tempdir().unwrap();
    std::fs::write(
        upd.path().join("r.json"),
        r#"{"id":"GHSA-p6mc-m468-83gw","modified":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"4.17.10"}]}]}]}"#,
    )
    .unwrap();
    let calls = std::cell::Cell::new(0);
    let progress = |done: usize, total: usize| {
        assert!(done <= total && total == 1);
        calls.set(calls.get() + 1);
    };
    let r = Database::import(tmp.path(), &[upd.path().to_path_buf()], Some(&progress)).unwrap();
    assert_eq!(calls.get(), 1);
    assert_eq!(
        r.ecosystems.get("npm"),
        Some(&4),
        "merged, not replaced wholesale"
    );
    let db = Database::open(tmp.path()).unwrap();
    assert!(
        db.scan(&[pkg(Ecosystem::Npm, "lodash", "4.17.15")])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.scan(&[pkg(Ecosystem::Npm, "lodash", "4.17.5")])
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db.scan(&[pkg(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.7.0")])
            .unwrap()
            .len(),
        1
    );
    // An older copy does not overwrite the newer one.
    Database::import(tmp.path(), &[fixture("osv/valid")], None).unwrap();
    let db = Database::open(tmp.path()).unwrap();
    assert!(
        db.scan(&[pkg(Ecosystem::Npm, "lodash", "4.17.15")])
            .unwrap()
            .is_empty()
    );
    // Old generations are cleaned up: meta.json, the import lock, and one
    // records file and one index per ecosystem.
    let files = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(files, 2 + 2 * 6);
    assert_eq!(
        db.missing_ecosystems(&[pkg(Ecosystem::CratesIo, "x", "1.0.0")]),
        vec![Ecosystem::CratesIo]
    );
}

#[test]
fn real_corpora_import_with_counts() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = ["crates.io", "PyPI", "Go"]
        .iter()
        .map(|e| data.join(format!("osv/{e}.zip")))
        .collect();
    let report = Database::import(tmp.path(), &inputs, None).unwrap();
    for i in &report.invalid {
        println!("invalid: {} {:?}: {}", i.source, i.id, i.reason);
    }
    // The README's record counts: every record is read, valid or reported.
    assert_eq!(report.read + report.invalid.len(), 1206 + 2661 + 4291);
    let s = Database::status(tmp.path()).unwrap();
    let count = |e: Ecosystem| {
        s.ecosystems
            .iter()
            .find(|x| x.ecosystem == e)
            .map_or(0, |x| x.records)
    };
    println!(
        "stored: {:?} invalid: {} size: {} bytes",
        report.ecosystems,
        report.invalid.len(),
        s.size
    );
    // Every published record is valid OSV and lands in its ecosystem.
    assert_eq!(report.invalid.len(), 0);
    assert_eq!(count(Ecosystem::CratesIo), 1206);
    assert_eq!(count(Ecosystem::PyPI), 2661);
    assert_eq!(count(Ecosystem::Go), 4291);
}

#[test]
fn known_answer_smallvec_and_time() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    Database::import(tmp.path(), &[data.join("osv/crates.io.zip")], None).unwrap();
    let db = Database::open(tmp.path()).unwrap();
    let lock = std::fs::read_to_string(fixture("lockfiles/cargo/Cargo.lock")).unwrap();
    let packages = parse_lockfile(LockfileKind::CargoLock, "Cargo.lock", &lock).unwrap();
    let findings = db.scan(&packages).unwrap();
    let ids: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "RUSTSEC-2019-0009",
            "RUSTSEC-2019-0012",
            "RUSTSEC-2020-0071",
            "RUSTSEC-2021-0003"
        ])
    );
    let smallvec = findings
        .iter()
        .find(|f| f.rule_id == "RUSTSEC-2019-0009")
        .unwrap();
    assert_eq!(smallvec.location.as_ref().map(|l| l.line), Some(13));
    assert_eq!(smallvec.fixed_version.as_deref(), Some("0.6.10"));
    assert!(smallvec.aliases.contains(&"CVE-2019-15551".to_string()));
    assert_eq!(smallvec.severity, Severity::Critical);
}

#[test]
fn directory_import_survives_symlink_loops() {
    let src = tempfile::tempdir().unwrap();
    let nested = src.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(
        fixture("osv/valid/GO-TEST-0002.json"),
        nested.join("GO-TEST-0002.json"),
    )
    .unwrap();
    std::fs::write(nested.join("README.md"), "not a record").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(src.path(), nested.join("loop")).unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    let r = Database::import(db_dir.path(), &[src.path().to_path_buf()], None).unwrap();
    assert_eq!((r.read, r.invalid.len()), (1, 0));
    assert_eq!(r.ecosystems.get("Go"), Some(&1));
}

#[test]
fn a_damaged_database_is_an_error_not_silence() {
    let (tmp, db) = fixture_db();
    let records = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("npm-") && n.ends_with(".records")
        })
        .unwrap();
    std::fs::write(&records, b"{}").unwrap();
    let err = db
        .scan(&[pkg(Ecosystem::Npm, "lodash", "4.17.15")])
        .unwrap_err();
    assert!(matches!(err, DbError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(".records"), "{err}");
    // Other ecosystems still scan.
    assert_eq!(
        db.scan(&[pkg(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.7.0")])
            .unwrap()
            .len(),
        1
    );
    std::fs::remove_file(&records).unwrap();
    let err = Database::open(tmp.path())
        .unwrap()
        .scan(&[pkg(Ecosystem::Npm, "lodash", "1.0.0")])
        .unwrap_err();
    assert!(matches!(err, DbError::Io { .. }), "{err}");
}

#[test]
fn concurrent_imports_leave_a_consistent_database() {
    let tmp = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| Database::import(tmp.path(), &[fixture("osv/valid")], None).unwrap());
        }
    });
    let status = Database::status(tmp.path()).unwrap();
    assert_eq!(status.records, 12);
    let db = Database::open(tmp.path()).unwrap();
    assert_eq!(
        db.scan(&[pkg(Ecosystem::Npm, "lodash", "4.17.15")])
            .unwrap()
            .len(),
        1
    );
    // Exactly one generation per ecosystem is left.
    let records = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".records")
        })
        .count();
    assert_eq!(records, 6);
}
