//! One scan of a tree: walk it once, hand each file to the scanners that
//! want it (files in parallel), evaluate Terraform root modules, match the
//! packages found against the advisory database, then apply the ignore
//! file and the baseline.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::deps::{self, Database, DbError};
use crate::finding::{FileError, Finding, Package};
use crate::misconfig;
use crate::report::Report;
use crate::secrets::{self, Scanner};
use crate::suppress::{self, IgnoreFile, SuppressError};
use crate::walk::{self, WalkedFile};

/// Lockfiles, workflows, Dockerfiles and manifests larger than this are
/// not parsed (a file error says so); secrets have their own, streamed
/// limit.
pub const MAX_PARSED_FILE: u64 = 64 << 20;

/// What to scan and with what.
pub struct ScanOptions<'a> {
    pub deps: bool,
    pub secrets: bool,
    pub misconfig: bool,
    /// Also scan every commit's added lines (needs `secrets`).
    pub git_history: bool,
    /// Where the advisory database is; required when `deps` is on.
    pub db_dir: Option<PathBuf>,
    /// Secret rules; the built-in set when `None`.
    pub secret_rules: Option<secrets::Rules>,
    /// Findings whose fingerprints are here are left out.
    pub baseline: Option<HashSet<String>>,
    /// Worker threads for the walk and the per-file scanners.
    pub threads: usize,
    /// Called as files are scanned: (done, total).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Called as a history scan goes through commits: (done, total).
    pub history_progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Today, for ignore-file expiry.
    pub today: chrono::NaiveDate,
}

impl Default for ScanOptions<'_> {
    fn default() -> Self {
        ScanOptions {
            deps: true,
            secrets: true,
            misconfig: true,
            git_history: false,
            db_dir: None,
            secret_rules: None,
            baseline: None,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            progress: None,
            history_progress: None,
            today: chrono::Utc::now().date_naive(),
        }
    }
}

/// Why a scan could not run at all (as opposed to a file it could not
/// read, which is part of the report).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0} does not exist")]
    NoSuchPath(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("the dependency scan needs an advisory database directory")]
    NoDatabaseDir,
    #[error(transparent)]
    Suppress(#[from] SuppressError),
    #[error("git history: {0}")]
    History(String),
}

#[derive(Default)]
struct Collected {
    findings: Vec<Finding>,
    packages: Vec<Package>,
    errors: Vec<FileError>,
}

fn is_misconfig_candidate(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yml")
        || lower.ends_with(".yaml")
        || lower.contains("dockerfile")
        || lower == "containerfile"
}

fn read_text(f: &WalkedFile) -> Result<String, FileError> {
    let err = |message: String| FileError {
        path: f.rel.clone(),
        message,
    };
    if f.size > MAX_PARSED_FILE {
        return Err(err(format!(
            "{} bytes is over the {} MiB limit for parsed files; not scanned for dependencies or misconfigurations",
            f.size,
            MAX_PARSED_FILE >> 20
        )));
    }
    let bytes = std::fs::read(&f.abs).map_err(|e| err(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn scan_one(
    f: &WalkedFile,
    root: &Path,
    opts: &ScanOptions,
    secrets: Option<&Scanner>,
    out: &mut Collected,
) {
    let name = f.rel.rsplit('/').next().unwrap_or(&f.rel);
    let lockfile = if opts.deps {
        deps::lockfile_kind(name)
    } else {
        None
    };
    let wants_text = lockfile.is_some() || (opts.misconfig && is_misconfig_candidate(&f.rel));
    if wants_text {
        match read_text(f) {
            Ok(text) => {
                if let Some(kind) = lockfile {
                    match deps::parse_lockfile(kind, &f.rel, &text) {
                        Ok(p) => out.packages.extend(p),
                        Err(e) => out.errors.push(e),
                    }
                }
                if opts.misconfig {
                    match misconfig::scan_file(&f.rel, &text) {
                        Some(Ok(found)) => out.findings.extend(found),
                        Some(Err(e)) => out.errors.push(e),
                        None => {}
                    }
                }
            }
            Err(e) => out.errors.push(e),
        }
    }
    if let Some(s) = secrets {
        match s.scan_file(root, &f.rel) {
            Ok(found) => out.findings.extend(found),
            Err(e) => out.errors.push(e),
        }
    }
}

/// Scans `root` (a directory or one file).
pub fn scan_tree(root: &Path, opts: ScanOptions) -> Result<Report, ScanError> {
    if !root.exists() {
        return Err(ScanError::NoSuchPath(root.display().to_string()));
    }
    // The database is opened first: scanning without one is an error,
    // never a report of zero vulnerabilities.
    let db = if opts.deps {
        let dir = opts.db_dir.as_deref().ok_or(ScanError::NoDatabaseDir)?;
        Some(Database::open(dir)?)
    } else {
        None
    };
    let scan_root: PathBuf = if root.is_file() {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        root.to_path_buf()
    };
    let ignore_file = IgnoreFile::load(&scan_root.join(suppress::IGNORE_FILE))?;
    let scanner = if opts.secrets {
        Some(Scanner::new(
            opts.secret_rules
                .clone()
                .unwrap_or_else(secrets::Rules::builtin),
        ))
    } else {
        None
    };

    let (files, walk_errors) = walk::walk(root, opts.threads);
    let total = files.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results = Mutex::new(Collected::default());
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.max(1) {
            scope.spawn(|| {
                let mut mine = Collected::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    scan_one(f, &scan_root, &opts, scanner.as_ref(), &mut mine);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = opts.progress {
                        p(n, total);
                    }
                }
                if let Ok(mut all) = results.lock() {
                    all.findings.append(&mut mine.findings);
                    all.packages.append(&mut mine.packages);
                    all.errors.append(&mut mine.errors);
                }
            });
        }
    });
    let mut c = results.into_inner().unwrap_or_default();
    c.errors.extend(walk_errors);

    if opts.misconfig {
        let dirs: BTreeSet<String> = files
            .iter()
            .filter(|f| f.rel.ends_with(".tf"))
            .map(|f| match f.rel.rfind('/') {
                Some(i) => f.rel[..i].to_string(),
                None => ".".to_string(),
            })
            .collect();
        let dirs: Vec<String> = dirs.into_iter().collect();
        for dir in misconfig::terraform_roots(&scan_root, &dirs) {
            let (found, errors) = misconfig::scan_terraform(&scan_root, &dir);
            c.findings.extend(found);
            c.errors.extend(errors);
        }
    }

    let mut notices = Vec::new();
    if let Some(db) = &db {
        c.findings.extend(db.scan(&c.packages)?);
        for e in db.missing_ecosystems(&c.packages) {
            notices.push(format!(
                "the advisory database has no {e} records: {e} packages were not checked (gantry scan db update --ecosystem {e})"
            ));
        }
        if db.is_stale() {
            notices.push(format!(
                "the advisory database is {} days old: run `gantry scan db update` (or import a newer export)",
                db.age().as_secs() / 86_400
            ));
        }
    }

    if opts.git_history
        && let Some(s) = &scanner
    {
        let mut report_progress = |p: secrets::HistoryProgress| {
            if let Some(f) = opts.history_progress {
                f(p.commits_done as usize, p.commits_total as usize);
            }
        };
        let found = secrets::scan_git_history(&scan_root, s, &mut report_progress)
            .map_err(|e| ScanError::History(e.to_string()))?;
        c.findings.extend(found);
    }

    let mut report = Report {
        root: root.display().to_string(),
        findings: c.findings,
        packages: c.packages,
        errors: c.errors,
        notices,
        suppressed: Vec::new(),
        files_scanned: total,
    };
    ignore_file.apply(&mut report, opts.today);
    if let Some(b) = &opts.baseline {
        suppress::apply_baseline(&mut report, b);
    }
    report.sort();
    Ok(report)
}
