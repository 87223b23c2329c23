//! `gantry validate`: every configuration file Gantry knows, with diagnostics:
//! gantry.yml and gantry.d/*.yml, plus every workflow in `.gantry/workflows`
//! and `.github/workflows`, and the Terraform files of the directory.

use std::path::Path;

use crate::{CmdResult, Failure};

/// Loads the workspace's configuration; on errors prints the diagnostics and
/// fails with exit code 2.
pub fn load(dir: &Path) -> Result<gantry_config::Loaded, Failure> {
    check_dir(dir)?;
    gantry_config::load_dir(dir).map_err(|diags| {
        eprint!("{}", diags.render_all());
        Failure::Reported(2)
    })
}

fn check_dir(dir: &Path) -> Result<(), Failure> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Failure::Usage(anyhow::anyhow!(
            "{} is not a directory",
            dir.display()
        )))
    }
}

/// The monitoring settings of a loaded gantry.yml, checked the way the
/// server uses them (relabel rules compiled, probe conditions parsed), with
/// Prometheus's defaults. Every problem is reported, not just the first.
pub fn monitoring(
    loaded: &gantry_config::Loaded,
    dir: &Path,
) -> Result<gantry_server::prom::MonitoringOptions, gantry_config::Diagnostics> {
    let c = &loaded.config;
    let evaluation_interval = c
        .monitoring
        .evaluation_interval
        .unwrap_or(std::time::Duration::from_secs(60));
    let rule_groups = gantry_monitor::rules::load_groups(dir, &c.rule_files, evaluation_interval)?;
    let scrape = gantry_monitor::scrape::from_config(c);
    let monitors = gantry_monitor::probe::from_config(c);
    let remote = gantry_monitor::remote::from_config(c);
    let (scrape_configs, monitors, remote_write) = match (scrape, monitors, remote) {
        (Ok(s), Ok(m), Ok(r)) => (s, m, r),
        (s, m, r) => {
            let mut diags = gantry_config::Diagnostics::new();
            for f in &loaded.files {
                diags.add_source(f.clone());
            }
            for d in s.err().into_iter().chain(m.err()).chain(r.err()).flatten() {
                diags.push(d);
            }
            return Err(diags);
        }
    };
    let mut db = gantry_monitor::tsdb::db::DbOptions::default();
    if let Some(r) = c.monitoring.retention {
        db.retention = Some(i64::try_from(r.as_millis()).unwrap_or(i64::MAX));
    }
    db.retention_bytes = c.monitoring.retention_size;
    Ok(gantry_server::prom::MonitoringOptions {
        scrape_configs,
        self_scrape: c.monitoring.self_scrape.unwrap_or(true),
        self_scrape_interval: c
            .monitoring
            .scrape_interval
            .unwrap_or(std::time::Duration::from_secs(15)),
        db,
        remote_write,
        monitors,
        rule_groups,
        external_labels: c.monitoring.external_labels.clone(),
    })
}

pub fn run(dir: &Path) -> CmdResult {
    check_dir(dir)?;
    let mut failed = false;
    let mut checked = 0;
    let mut printed_diags = false;
    match gantry_config::load_dir(dir) {
        Ok(loaded) => match monitoring(&loaded, dir) {
            Ok(_) => {
                for f in &loaded.files {
                    println!("ok  {}", f.path.display());
                }
                checked += loaded.files.len();
            }
            Err(diags) => {
                eprint!("{}", diags.render_all());
                printed_diags = true;
                failed = true;
            }
        },
        Err(diags) => {
            eprint!("{}", diags.render_all());
            printed_diags = true;
            failed = true;
        }
    }
    let (workflows, diags) = gantry_pipeline::workflow::load_dir(dir);
    for workflow in &workflows {
        println!("ok  {}", workflow.file);
    }
    checked += workflows.len();
    if !diags.is_empty() {
        if printed_diags {
            eprintln!();
        }
        eprint!("{}", diags.render_all());
        failed |= diags.has_errors();
    }
    let has_tf = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().ends_with(".tf"))
        })
        .unwrap_or(false);
    if has_tf {
        let loaded =
            gantry_iac::engine::Config::load(dir, gantry_iac::provider::Registry::builtin())
                .and_then(|cfg| {
                    let errors = gantry_iac::engine::validate::validate(&cfg);
                    if errors.is_empty() {
                        Ok(cfg)
                    } else {
                        Err(cfg.failure(errors))
                    }
                });
        match loaded {
            Ok(cfg) => {
                for node in cfg.tree.walk() {
                    for f in &node.module.files {
                        println!("ok  {}", f.path);
                        checked += 1;
                    }
                }
            }
            Err(f) => {
                eprint!("{}", f.render());
                failed = true;
            }
        }
    }
    if failed {
        return Err(Failure::Reported(2));
    }
    if checked == 0 {
        println!(
            "no configuration files in {} (looked for gantry.yml, gantry.d/*.yml, .gantry/workflows, .github/workflows and *.tf)",
            dir.display()
        );
        return Ok(());
    }
    println!("{checked} file(s) checked, no problems");
    Ok(())
}

/// `gantry rules check FILE...`: each file checked, promtool's report
/// shape, exit 1 when any file has problems.
pub fn rules_check(files: &[std::path::PathBuf]) -> CmdResult {
    let mut failed = 0;
    for path in files {
        println!("Checking {}", path.display());
        let text = match gantry_config::read_source(path) {
            Ok(t) => t,
            Err(e) => {
                let why = match e {
                    gantry_config::ReadError::Io(kind) => format!("cannot read file: {kind}"),
                    gantry_config::ReadError::TooLarge => format!(
                        "the file is larger than {} bytes",
                        gantry_config::MAX_FILE_BYTES
                    ),
                    gantry_config::ReadError::NotUtf8 { valid_up_to, .. } => {
                        format!("the file is not UTF-8 (at byte {valid_up_to})")
                    }
                };
                println!("  FAILED:");
                eprintln!("error: {}: {why}", path.display());
                failed += 1;
                println!();
                continue;
            }
        };
        let name = path.display().to_string();
        match gantry_monitor::rules::check_file(&name, &text) {
            Ok(file) => {
                let n: usize = file.groups.iter().map(|g| g.rules.len()).sum();
                println!("  SUCCESS: {n} rules found");
            }
            Err(diags) => {
                println!("  FAILED:");
                eprint!("{}", diags.render_all());
                failed += 1;
            }
        }
        println!();
    }
    if failed > 0 {
        return Err(Failure::Reported(1));
    }
    Ok(())
}
