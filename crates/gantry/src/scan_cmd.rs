//! `gantry scan`: dependencies, secrets and misconfigurations of a tree,
//! and the posture of an AWS account, rendered as a table, JSON, SARIF or
//! CycloneDX; `gantry scan db import|update|status` manages the offline
//! advisory database under the data dir.
//!
//! Exit codes: 0 nothing at or above `--fail-on` (or no `--fail-on`), 1
//! findings reach it, 2 usage or configuration errors, or nothing could be
//! scanned.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use gantry_core::{EventKind, NewEvent};
use gantry_scan::output::{self, Format, Tool};
use gantry_scan::{Ecosystem, Report, ScanOptions, Severity};
use serde_json::json;

use crate::cli::{ScanArgs, ScanDbCmd, ScanSub};
use crate::{CmdResult, Failure};

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(anyhow!(msg.into()))
}

/// Where the advisory database lives under the data dir.
pub fn db_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("scan").join("osv")
}

/// A progress bar on stderr, drawn only on a terminal and only once the
/// total reaches `min_total`; created at the first update, from any thread.
struct LazyBar {
    what: &'static str,
    min_total: usize,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl LazyBar {
    fn new(what: &'static str, min_total: usize) -> LazyBar {
        LazyBar {
            what,
            min_total,
            bar: std::sync::Mutex::new(None),
        }
    }

    fn set(&self, done: usize, total: usize) {
        if total < self.min_total || !std::io::stderr().is_terminal() {
            return;
        }
        if let Ok(mut slot) = self.bar.lock() {
            let b = slot.get_or_insert_with(|| {
                let pb = indicatif::ProgressBar::new(total as u64);
                if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
                    "{} [{{bar:30}}] {{pos}}/{{len}} ({{eta}})",
                    self.what
                )) {
                    pb.set_style(style.progress_chars("=> "));
                }
                pb
            });
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    }

    fn finish(&self) {
        if let Ok(Some(b)) = self.bar.lock().map(|mut s| s.take()) {
            b.finish_and_clear();
        }
    }
}

pub fn run(args: ScanArgs) -> CmdResult {
    if let Some(ScanSub::Db(cmd)) = args.sub {
        return run_db(cmd, &args.data_dir);
    }
    let format: Format = args.format.parse().map_err(usage)?;
    let fail_on: Option<Severity> = match &args.fail_on {
        Some(s) => Some(s.parse().map_err(usage)?),
        None => None,
    };
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !path.exists() {
        return Err(usage(format!(
            "{}: no such file or directory",
            path.display()
        )));
    }
    // No scanner named: deps, secrets and misconfig (not the cloud).
    let any = args.deps || args.secrets || args.misconfig || args.cloud;
    let (deps, secrets, misconfig) = if any {
        (args.deps, args.secrets, args.misconfig)
    } else {
        (true, true, true)
    };
    if args.git && !secrets {
        return Err(usage(
            "--git scans history for secrets: it needs --secrets (or no scanner flags)",
        ));
    }
    let secret_rules = match &args.config {
        Some(file) => Some(
            gantry_scan::secrets::Rules::from_gitleaks_file(file)
                .map_err(|e| usage(e.to_string()))?,
        ),
        None => None,
    };
    let baseline = match &args.baseline {
        Some(b) => Some(gantry_scan::suppress::load_baseline(b).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    // A bar only for trees big enough to wait for.
    let bar = LazyBar::new("scanning files", 2_000);
    let progress = |done: usize, total: usize| bar.set(done, total);
    let history_bar = LazyBar::new("scanning commits", 50);
    let history_progress = |done: usize, total: usize| history_bar.set(done, total);
    let mut report = if deps || secrets || misconfig {
        let opts = ScanOptions {
            deps,
            secrets,
            misconfig,
            git_history: args.git,
            db_dir: Some(db_dir(&args.data_dir)),
            secret_rules,
            baseline: baseline.clone(),
            progress: Some(&progress),
            history_progress: Some(&history_progress),
            ..ScanOptions::default()
        };
        let r = gantry_scan::scan_tree(&path, opts);
        bar.finish();
        history_bar.finish();
        // A missing database, a bad ignore file, not a git repository:
        // all things the user must fix before a scan can run.
        r.map_err(|e| usage(e.to_string()))?
    } else {
        Report {
            root: path.display().to_string(),
            ..Report::default()
        }
    };
    if args.cloud {
        cloud(&mut report, &args.regions, baseline.as_ref())?;
    }
    let scanned_nothing = report.files_scanned > 0 && {
        let failed: std::collections::HashSet<&str> =
            report.errors.iter().map(|e| e.path.as_str()).collect();
        failed.len() >= report.files_scanned
    };
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = output::render(&report, format, &Tool::default(), color);
    match &args.output {
        Some(file) => std::fs::write(file, &text)
            .map_err(|e| Failure::Failed(anyhow!("writing {}: {e}", file.display())))?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
        }
    }
    if format != Format::Table {
        // The machine-readable document went to stdout or a file; people
        // still need to hear about files that were not scanned.
        for e in &report.errors {
            eprintln!("warning: not scanned: {e}");
        }
        for n in &report.notices {
            eprintln!("notice: {n}");
        }
    }
    record(&args.data_dir, &report);
    if scanned_nothing {
        eprintln!(
            "error: none of the {} files could be scanned",
            report.files_scanned
        );
        return Err(Failure::Reported(2));
    }
    if let Some(t) = fail_on
        && report.reaches(t)
    {
        let n = report.findings.iter().filter(|f| f.severity >= t).count();
        eprintln!("{n} finding(s) at or above {t}");
        return Err(Failure::Reported(1));
    }
    Ok(())
}

fn cloud(
    report: &mut Report,
    regions: &[String],
    baseline: Option<&std::collections::HashSet<String>>,
) -> Result<(), Failure> {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::Failed(anyhow!("starting the async runtime: {e}")))?;
    let posture = rt
        .block_on(async {
            let mut opts = gantry_scan::PostureOptions::from_standard_chain(None, None).await?;
            opts.regions = if regions.iter().any(|r| r == "all") {
                gantry_scan::posture::enabled_regions(&opts).await?
            } else {
                regions.to_vec()
            };
            gantry_scan::scan_account(&opts).await
        })
        .map_err(|e| usage(format!("cloud posture: {e}")))?;
    let mut found = Report {
        findings: posture.findings,
        ..Report::default()
    };
    if let Some(b) = baseline {
        gantry_scan::suppress::apply_baseline(&mut found, b);
    }
    report.findings.extend(found.findings);
    report.suppressed.extend(found.suppressed);
    for n in posture.not_run {
        report.notices.push(format!(
            "cloud check {} could not run{}{}: {}",
            n.check_id,
            n.region.map(|r| format!(" in {r}")).unwrap_or_default(),
            n.resource.map(|r| format!(" on {r}")).unwrap_or_default(),
            n.reason
        ));
    }
    report.sort();
    Ok(())
}

/// Appends a `scan.completed` event (counts and the findings, secrets
/// redacted) to the event log, when there is one (the data dir's store,
/// or PostgreSQL with GANTRY_DATABASE_URL).
fn record(data_dir: &Path, report: &Report) {
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        return;
    };
    let counts = report.counts_by_name();
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .take(500)
        .map(|f| {
            json!({
                "kind": f.kind.as_str(),
                "rule_id": f.rule_id,
                "severity": f.severity.as_str(),
                "title": f.title,
                "location": f.location.as_ref().map(|l| l.to_string()),
                "resource": f.resource,
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    let data = json!({
        "root": report.root,
        "total": report.findings.len(),
        "by_severity": counts,
        "files_scanned": report.files_scanned,
        "packages": report.packages.len(),
        "errors": report.errors.len(),
        "suppressed": report.suppressed.len(),
        "findings": findings,
        "findings_truncated": report.findings.len() > 500,
    });
    rt.block_on(async {
        let (Some(store), Ok(kind)) = (
            crate::tf_cmd::open_data_store(data_dir).await,
            EventKind::new("scan.completed"),
        ) else {
            return;
        };
        let event = NewEvent::new(kind, format!("scan/{}", report.root), "gantry:scan", data);
        if let Err(e) = store.append(vec![event]).await {
            eprintln!("warning: could not record the scan in the event log: {e}");
        }
    });
}

fn run_db(cmd: ScanDbCmd, data_dir: &Path) -> CmdResult {
    let dir = db_dir(data_dir);
    match cmd {
        ScanDbCmd::Import { files } => {
            let bar = LazyBar::new("importing records", 0);
            let progress = |done: usize, total: usize| bar.set(done, total);
            let r = gantry_scan::Database::import(&dir, &files, Some(&progress));
            bar.finish();
            let r = r.map_err(|e| usage(e.to_string()))?;
            print_import(&r);
            Ok(())
        }
        ScanDbCmd::Update {
            ecosystems,
            base_url,
        } => {
            let mut ecos = Vec::new();
            for e in &ecosystems {
                ecos.push(Ecosystem::from_osv_name(e).ok_or_else(|| {
                    usage(format!(
                        "unknown ecosystem `{e}` (expected one of: {})",
                        Ecosystem::ALL.map(|e| e.osv_name()).join(", ")
                    ))
                })?);
            }
            let rt = tokio::runtime::Runtime::new()
                .map_err(|e| Failure::Failed(anyhow!("starting the async runtime: {e}")))?;
            let bar = LazyBar::new("importing records", 0);
            let progress = |done: usize, total: usize| bar.set(done, total);
            let r = rt.block_on(gantry_scan::Database::update(
                &dir,
                &base_url,
                &ecos,
                Some(&progress),
            ));
            bar.finish();
            let r = r.map_err(|e| Failure::Failed(anyhow!("{e}")))?;
            print_import(&r);
            Ok(())
        }
        ScanDbCmd::Status { json } => {
            let s = gantry_scan::Database::status(&dir).map_err(|e| usage(e.to_string()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                println!(
                    "{:<12} {:>9} {:>9} {:>9} {:>10}  imported",
                    "ecosystem", "records", "withdrawn", "packages", "size"
                );
                for e in &s.ecosystems {
                    println!(
                        "{:<12} {:>9} {:>9} {:>9} {:>10}  {} ago{}",
                        e.ecosystem.osv_name(),
                        e.records,
                        e.withdrawn,
                        e.packages,
                        human_bytes(e.size),
                        human_age(e.age),
                        if e.stale { " (stale)" } else { "" }
                    );
                }
                println!("{} records, {}", s.records, human_bytes(s.size));
            }
            if s.stale {
                eprintln!(
                    "warning: the advisory database is {} old (over 7 days): run `gantry scan db update`",
                    human_age(s.age)
                );
            }
            Ok(())
        }
    }
}

fn print_import(r: &gantry_scan::ImportReport) {
    for inv in &r.invalid {
        eprintln!(
            "warning: skipped invalid record {}{}: {}",
            inv.source,
            inv.id
                .as_deref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default(),
            inv.reason
        );
    }
    let per: Vec<String> = r
        .ecosystems
        .iter()
        .map(|(e, n)| format!("{e} {n}"))
        .collect();
    println!(
        "imported {} records ({} invalid, {} for ecosystems not scanned); database now holds: {}",
        r.read,
        r.invalid.len(),
        r.unsupported,
        per.join(", ")
    );
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

fn human_age(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3_600 {
        format!("{}h", s / 3_600)
    } else {
        format!("{}m", s / 60)
    }
}
