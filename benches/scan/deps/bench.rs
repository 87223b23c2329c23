//! Dependency-scanning benchmark (not part of the test suite; run it with
//! `bash benches/scan/deps/run.sh`, which calls
//! `cargo bench -p gantry-scan --bench deps`).
//!
//! 1. Import time and on-disk size of each real OSV corpus in
//!    ../shared/data/osv and of all three together.
//! 2. A database of 100,000+ records: the real ones plus generated npm
//!    records (the shape of GHSA records: aliases, summary, details,
//!    CVSS, ranges with several events, references).
//! 3. A generated package-lock.json (v3) of 5,000 packages, 1,250 of them
//!    with advisories, scanned against that database: reading and parsing
//!    the lockfile, opening the database and scanning, each run in a fresh
//!    `Database` (page cache warm, process caches cold). Median of 9 runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gantry_scan::deps::Database;
use gantry_scan::{LockfileKind, parse_lockfile};

const RUNS: usize = 9;
const GENERATED: usize = 95_000;
const GEN_PACKAGES: usize = 20_000;
const LOCK_PACKAGES: usize = 5_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A GHSA-shaped npm record for package `gen-pkg-{i % GEN_PACKAGES}`.
fn generated_record(i: usize) -> String {
    let pkg = i % GEN_PACKAGES;
    let major = i / GEN_PACKAGES;
    format!(
        r#"{{"schema_version":"1.6.0","id":"GHSA-gen-{i:06}","modified":"2025-01-01T00:00:00Z","published":"2024-06-01T00:00:00Z",
"aliases":["CVE-2099-{i:06}"],"summary":"Generated advisory {i} in gen-pkg-{pkg}",
"details":"A generated advisory used to grow the benchmark database past 100,000 records. It has a details paragraph of a realistic length so that the importer reads as much text as it would for a real GitHub advisory, which typically explains the flaw, the affected API and the workaround in a few sentences.",
"severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}}],
"affected":[{{"package":{{"ecosystem":"npm","name":"gen-pkg-{pkg}","purl":"pkg:npm/gen-pkg-{pkg}"}},
"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"{major}.0.0"}},{{"fixed":"{major}.5.0"}},{{"introduced":"{major}.7.0"}},{{"last_affected":"{major}.8.3"}}]}}],
"database_specific":{{"source":"generated"}}}}],
"references":[{{"type":"ADVISORY","url":"https://example.invalid/advisories/GHSA-gen-{i:06}"}},{{"type":"WEB","url":"https://example.invalid/gen-pkg-{pkg}/issues/{i}"}}],
"database_specific":{{"severity":"HIGH","github_reviewed":true,"cwe_ids":["CWE-79"]}}}}"#
    )
}

fn write_generated_zip(path: &Path) {
    let f = std::fs::File::create(path).expect("create generated zip");
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(f));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..GENERATED {
        zip.start_file(format!("GHSA-gen-{i:06}.json"), opts)
            .expect("zip entry");
        zip.write_all(generated_record(i).as_bytes())
            .expect("zip write");
    }
    zip.finish().expect("zip finish");
}

/// package-lock.json v3: every fourth package has advisories (versions
/// inside the generated ranges), the rest are names with none.
fn write_lockfile(path: &Path) {
    let mut s = String::from(
        "{\n  \"name\": \"bench\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\"name\": \"bench\"}",
    );
    for j in 0..LOCK_PACKAGES {
        let (name, version) = if j % 4 == 0 {
            (
                format!("gen-pkg-{}", j * 3),
                format!("{}.{}.1", j % 4, j % 9),
            )
        } else {
            (format!("clean-pkg-{j}"), "1.0.0".to_string())
        };
        s.push_str(&format!(
            ",\n    \"node_modules/{name}\": {{\n      \"version\": \"{version}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz\"\n    }}"
        ));
    }
    s.push_str("\n  }\n}\n");
    std::fs::write(path, s).expect("write lockfile");
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    let corpora: Vec<(&str, PathBuf)> = ["crates.io", "PyPI", "Go"]
        .iter()
        .map(|e| (*e, data.join(format!("{e}.zip"))))
        .filter(|(_, p)| p.is_file())
        .collect();
    if corpora.is_empty() {
        println!(
            "notice: {} is absent; only generated records are used",
            data.display()
        );
    }
    let work = tempfile::tempdir().expect("tempdir");

    println!("## import of the real corpora (median of 3)");
    println!("| corpus | records | import | zip size | database size |");
    println!("|---|---:|---:|---:|---:|");
    let mut all_inputs = Vec::new();
    let mut sets: Vec<(String, Vec<PathBuf>)> = corpora
        .iter()
        .map(|(n, p)| (n.to_string(), vec![p.clone()]))
        .collect();
    if corpora.len() > 1 {
        sets.push((
            "all three".to_string(),
            corpora.iter().map(|(_, p)| p.clone()).collect(),
        ));
    }
    for (name, inputs) in &sets {
        let mut times = Vec::new();
        let mut records = 0;
        let mut size = 0;
        for run in 0..3 {
            let dir = work
                .path()
                .join(format!("imp-{}-{run}", name.replace(' ', "-")));
            let t = Instant::now();
            let r = Database::import(&dir, inputs, None).expect("import");
            times.push(t.elapsed());
            records = r.ecosystems.values().sum::<usize>();
            size = dir_size(&dir);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let zip: u64 = inputs
            .iter()
            .map(|p| p.metadata().map_or(0, |m| m.len()))
            .sum();
        println!(
            "| {name} | {records} | {} | {:.1} MB | {:.1} MB |",
            ms(median(times)),
            zip as f64 / 1e6,
            size as f64 / 1e6
        );
        if inputs.len() == corpora.len() {
            all_inputs = inputs.clone();
        }
    }

    let gen_zip = work.path().join("npm-generated.zip");
    write_generated_zip(&gen_zip);
    all_inputs.push(gen_zip.clone());
    let db_dir = work.path().join("big");
    let t = Instant::now();
    let report = Database::import(&db_dir, &all_inputs, None).expect("import big");
    let import_big = t.elapsed();
    let total: usize = report.ecosystems.values().sum();
    println!();
    println!("## 100,000+ records");
    println!(
        "import of {total} records ({GENERATED} generated npm + real): {} , database {:.1} MB",
        ms(import_big),
        dir_size(&db_dir) as f64 / 1e6
    );
    assert!(total >= 100_000, "only {total} records");

    let lock = work.path().join("package-lock.json");
    write_lockfile(&lock);
    let mut times = Vec::new();
    let mut findings = 0;
    let mut packages = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let text = std::fs::read_to_string(&lock).expect("read lockfile");
        let pkgs =
            parse_lockfile(LockfileKind::NpmLock, "package-lock.json", &text).expect("parse");
        let db = Database::open(&db_dir).expect("open");
        let f = db.scan(&pkgs).expect("scan");
        times.push(t.elapsed());
        findings = f.len();
        packages = pkgs.len();
    }
    println!();
    println!("## 5,000-package lockfile against {total} records (median of {RUNS})");
    println!(
        "{packages} packages, {findings} findings: {} (parse + open + scan; min {}, max {})",
        ms(median(times.clone())),
        ms(*times.iter().min().expect("runs")),
        ms(*times.iter().max().expect("runs"))
    );
}
