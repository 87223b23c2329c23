//! `gantry scan` through the binary: the advisory database commands, every
//! scanner over one tree, the output formats, exit codes, the ignore file,
//! baselines, bad input and the scan event; and the apply gate (critical
//! misconfigurations in a plan stop `gantry apply`) against moto.

mod common;

use std::process::Stdio;

use common::moto::{Moto, Stack, block_on};

/// A secret-shaped value assembled at run time, so this file holds none.
fn github_token() -> String {
    let body = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    let prefix = ["g", "h", "p", "_"].concat();
    format!("{prefix}{body}")
}

const OSV_SMALLVEC: &str = r#"{
  "schema_version": "1.4.0",
  "id": "RUSTSEC-2019-0009",
  "modified": "2021-10-19T22:14:35Z",
  "published": "2019-06-06T12:00:00Z",
  "aliases": ["CVE-2019-15551", "GHSA-jr9m-rgcj-8ghx"],
  "summary": "Double-free and use-after-free in SmallVec::grow()",
  "affected": [{
    "package": {"ecosystem": "crates.io", "name": "smallvec", "purl": "pkg:cargo/smallvec"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.6.5"}, {"fixed": "0.6.10"}]}]
  }],
  "references": [{"type": "ADVISORY", "url": "https://rustsec.org/advisories/RUSTSEC-2019-0009.html"}],
  "database_specific": {"severity": "HIGH"}
}"#;

const CARGO_LOCK: &str = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["smallvec"]

[[package]]
name = "smallvec"
version = "0.6.9"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "c4488ae950c49d403731982257768f48fada354a5203fe81f9bb6f43ca9002be"
"#;

const TF: &str = r#"
resource "aws_security_group" "open" {
  name = "open"
  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

/// A tree with one problem per scanner, and a data dir with a database.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let t = Tree { dir };
        t.write("src/Cargo.lock", CARGO_LOCK);
        t.write("docker/Dockerfile", "FROM debian:12\nRUN echo hi\n");
        t.write("infra/main.tf", TF);
        t.write(
            "config/settings.env",
            &format!("GITHUB_TOKEN={}\n", github_token()),
        );
        t.write(
            "web/package-lock.json",
            "{\"lockfileVersion\": 3, \"packages\": {\n",
        );
        t.write("osv/RUSTSEC-2019-0009.json", OSV_SMALLVEC);
        t
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, body: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    /// `gantry ARGS` in the tree with the data dir `data/` (outside the
    /// scanned `src`, `docker`, ... folders but inside the tree).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = common::gantry()
            .args(args)
            .current_dir(self.dir.path())
            .env("GANTRY_DATA_DIR", self.path(".gantry"))
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn import(&self) {
        let (code, out, err) = self.run(&["scan", "db", "import", "osv"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("imported 1 records"), "{out}");
    }

    fn json(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let mut all = vec!["scan"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json"]);
        let (code, out, err) = self.run(&all);
        let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
        (code, doc, err)
    }
}

fn rules(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_scanner_reports_into_one_report_and_secrets_stay_redacted() {
    let t = Tree::new();
    t.import();
    let (code, out, _) = t.run(&["scan", "db", "status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("crates.io") && out.contains("1 records"),
        "{out}"
    );

    let (code, doc, err) = t.json(&["."]);
    assert_eq!(
        code, 0,
        "no --fail-on: findings do not fail the scan\n{err}"
    );
    let kinds: std::collections::BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["misconfig", "secret", "vulnerability"]
    );
    let vuln = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "vulnerability")
        .unwrap();
    assert_eq!(vuln["rule_id"], "RUSTSEC-2019-0009");
    assert_eq!(vuln["fixed_version"], "0.6.10");
    assert_eq!(vuln["location"]["path"], "src/Cargo.lock");
    assert!(
        vuln["aliases"]
            .as_array()
            .unwrap()
            .contains(&"CVE-2019-15551".into())
    );
    let r = rules(&doc);
    assert!(r.iter().any(|r| r.starts_with("GNT-DF-")), "{r:?}");
    assert!(r.iter().any(|r| r.starts_with("GNT-AWS-")), "{r:?}");
    // The corrupt lockfile is an error for that file; the rest is scanned.
    assert_eq!(doc["errors"][0]["path"], "web/package-lock.json");
    assert!(err.contains("not scanned: web/package-lock.json"), "{err}");
    let text = doc.to_string();
    assert!(
        !text.contains(&github_token()),
        "a secret leaked into the report"
    );
    assert!(text.contains("ghp_…"));

    // The table, and the same findings as SARIF and CycloneDX files.
    let (_, table, _) = t.run(&["scan"]);
    assert!(
        table.contains("RUSTSEC-2019-0009") && table.contains("findings ("),
        "{table}"
    );
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let (code, _, err) = t.run(&["scan", "--format", "sarif", "--output", "out.sarif"]);
    assert_eq!(code, 0, "{err}");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        doc["findings"].as_array().unwrap().len()
    );
    let (code, sbom, _) = t.run(&["scan", "src", "--deps", "--format", "cyclonedx"]);
    assert_eq!(code, 0);
    let sbom: serde_json::Value = serde_json::from_str(&sbom).unwrap();
    let purls: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(purls.contains(&"pkg:cargo/smallvec@0.6.9"), "{purls:?}");
    assert_eq!(sbom["vulnerabilities"][0]["id"], "RUSTSEC-2019-0009");
}

#[test]
fn fail_on_sets_the_exit_code_and_bad_usage_exits_2() {
    let t = Tree::new();
    let (code, doc, _) = t.json(&["docker", "--misconfig"]);
    assert_eq!(code, 0);
    let worst = doc["findings"][0]["severity"].as_str().unwrap().to_string();
    let (code, _, err) = t.run(&["scan", "docker", "--misconfig", "--fail-on", &worst]);
    assert_eq!(
        code, 1,
        "findings at {worst} reach --fail-on {worst}: {err}"
    );
    assert!(err.contains("at or above"), "{err}");
    if worst != "critical" {
        let (code, _, err) = t.run(&["scan", "docker", "--misconfig", "--fail-on", "critical"]);
        assert_eq!(code, 0, "{err}");
    }
    for bad in [
        &["scan", "--format", "xml"][..],
        &["scan", "--fail-on", "urgent"],
        &["scan", "no/such/dir"],
        &["scan", "--git", "--deps"],
    ] {
        let (code, _, err) = t.run(bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.starts_with("error: "), "{bad:?}: {err}");
    }
    // No database: an error that says what to do, never "0 findings".
    let (code, out, err) = t.run(&["scan", "src", "--deps"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("gantry scan db"), "{err}");
    // Nothing scannable: the only file is corrupt.
    let (code, _, err) = t.run(&["scan", "web", "--deps", "--misconfig"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ignore_file_and_baseline_leave_out_what_they_name() {
    let t = Tree::new();
    let (_, doc, _) = t.json(&["--misconfig", "--secrets"]);
    let before = rules(&doc);
    let df: Vec<&String> = before.iter().filter(|r| r.starts_with("GNT-DF-")).collect();
    assert!(!df.is_empty());
    let df_rule = df[0].clone();
    t.write(
        ".gantry/scanignore.yml",
        &format!(
            "- id: {df_rule}\n  path: \"docker/**\"\n  reason: build image only\n\
             - id: GNT-AWS-016\n  reason: lab account\n  expires: 2020-01-01\n"
        ),
    );
    let (code, doc, err) = t.json(&["--misconfig", "--secrets"]);
    assert_eq!(code, 0, "{err}");
    let after = rules(&doc);
    assert!(!after.contains(&df_rule), "{after:?}");
    assert_eq!(after.len(), before.len() - 1);
    assert_eq!(doc["suppressed"][0]["rule_id"], df_rule.as_str());
    if before.iter().any(|r| r == "GNT-AWS-016") {
        assert!(
            after.iter().any(|r| r == "GNT-AWS-016"),
            "expired entries stop working"
        );
        assert!(err.contains("expired on 2020-01-01"), "{err}");
    }
    t.write(".gantry/scanignore.yml", "- id: X\n");
    let (code, _, err) = t.run(&["scan", "--misconfig"]);
    assert_eq!(code, 2, "an invalid ignore file is a usage error");
    assert!(err.contains("`reason` is required"), "{err}");
    std::fs::remove_file(t.path(".gantry/scanignore.yml")).unwrap();

    // A baseline hides what it holds; a new secret still shows.
    let (code, _, _) = t.run(&[
        "scan",
        "--secrets",
        "--format",
        "json",
        "--output",
        "base.json",
    ]);
    assert_eq!(code, 0);
    t.write(
        "config/more.env",
        &format!("TOKEN={}\n", github_token().replace('a', "b")),
    );
    let (_, doc, _) = t.json(&["--secrets", "--baseline", "base.json"]);
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    assert_eq!(paths, ["config/more.env"]);
    let (code, _, err) = t.run(&["scan", "--secrets", "--baseline", "nope.json"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_scan_is_recorded_in_the_event_log_when_a_store_exists() {
    let t = Tree::new();
    let db = t.path(".gantry/gantry.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    block_on(async {
        gantry_store::SqliteStore::open(&db).await.unwrap();
    });
    let (code, _, err) = t.run(&["scan", "--secrets"]);
    assert_eq!(code, 0, "{err}");
    let events = block_on(async {
        use gantry_store::EventLog;
        let store = gantry_store::SqliteStore::open(&db).await.unwrap();
        let q = gantry_store::EventQuery {
            kind: Some("scan.completed".into()),
            limit: 100,
            ..Default::default()
        };
        store.list(&q).await.unwrap()
    });
    let scan: Vec<_> = events
        .iter()
        .filter(|e| e.kind.as_str() == "scan.completed")
        .collect();
    assert_eq!(scan.len(), 1);
    assert_eq!(scan[0].data["total"], 1);
    assert_eq!(scan[0].data["findings"][0]["kind"], "secret");
    assert!(!scan[0].data.to_string().contains(&github_token()));
}

#[test]
fn apply_refuses_a_plan_with_critical_findings_unless_allowed() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    s.write(TF);
    let (code, out, err) = s.run(&["apply", "-auto-approve"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("refusing to apply") && err.contains("GNT-AWS-016"),
        "{err}"
    );
    assert!(
        err.contains("main.tf:"),
        "the finding names file:line: {err}"
    );
    let (_, listed, _) = s.run(&["state", "list"]);
    assert!(
        !listed.contains("aws_security_group.open"),
        "nothing was applied: {listed}"
    );
    let out = s.ok(&["apply", "-auto-approve", "-allow-findings"]);
    assert!(out.contains("1 added"), "{out}");
    let (_, listed, _) = s.run(&["state", "list"]);
    assert!(listed.contains("aws_security_group.open"), "{listed}");
}

#[test]
fn a_1_gb_file_is_skipped_or_refused_without_reading_it_into_memory() {
    let t = Tree::new();
    // Sparse files: 1 GiB each, no disk space used.
    for name in ["big/data.bin", "big/package-lock.json"] {
        let p = t.path(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::File::create(&p).unwrap().set_len(1 << 30).unwrap();
    }
    t.write("big/ok.txt", "nothing to see\n");
    let (code, doc2, err) = t.json(&["big", "--secrets", "--misconfig"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc2["summary"]["files_scanned"], 3);
    t.import();
    let (code, doc, err) = t.json(&["big", "--deps", "--secrets"]);
    assert_eq!(code, 0, "{err}");
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Paths are relative to the scanned root.
    assert_eq!(errors[0]["path"], "package-lock.json");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("limit"),
        "{errors:?}"
    );
}

/// `gantry scan` with AWS's environment pointed at moto.
fn scan_cloud(t: &Tree, moto: &Moto, args: &[&str]) -> std::process::Output {
    common::gantry()
        .arg("scan")
        .args(args)
        .current_dir(t.dir.path())
        .env("GANTRY_DATA_DIR", t.path(".gantry"))
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn cloud_regions_choose_where_regional_checks_run() {
    let moto = Moto::start();
    let t = Tree::new();
    // EBS encryption by default is off in every moto region: one finding
    // per region scanned.
    let ebs = |args: &[&str]| -> Vec<String> {
        let out = scan_cloud(&t, &moto, args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == "GNT-AWSP-021")
            .map(|f| f.to_string())
            .collect()
    };
    let home = ebs(&["--cloud", "--format", "json"]);
    assert_eq!(home.len(), 1, "{home:?}");
    assert!(home[0].contains("us-east-1"), "{home:?}");
    let two = ebs(&[
        "--cloud",
        "--region",
        "eu-west-1",
        "--region",
        "us-west-2",
        "--format",
        "json",
    ]);
    assert_eq!(two.len(), 2, "{two:?}");
    assert!(two.iter().any(|f| f.contains("eu-west-1")), "{two:?}");
    assert!(two.iter().any(|f| f.contains("us-west-2")), "{two:?}");
    assert!(!two.iter().any(|f| f.contains("us-east-1")), "{two:?}");
    let all = ebs(&["--cloud", "--region", "all", "--format", "json"]);
    assert!(all.len() > 2, "{all:?}");
    // A malformed region is refused before any call; --region needs --cloud.
    let out = scan_cloud(&t, &moto, &["--cloud", "--region", "EU West!"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid region \"EU West!\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = scan_cloud(&t, &moto, &["--region", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cloud"));
}

#[test]
fn cloud_posture_of_an_account_reaches_the_report() {
    let moto = Moto::start();
    let t = Tree::new();
    let out = scan_cloud(&t, &moto, &["--cloud", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let posture: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "posture")
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // moto's root user has no MFA and EBS encryption by default is off.
    assert!(posture.contains(&"GNT-AWSP-002"), "{posture:?}");
    assert!(posture.contains(&"GNT-AWSP-021"), "{posture:?}");
    // --cloud alone scans no files.
    assert_eq!(doc["summary"]["files_scanned"], 0);
}
