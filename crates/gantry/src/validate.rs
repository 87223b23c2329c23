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

pub fn run(dir: &Path) -> CmdResult {
    check_dir(dir)?;
    let mut failed = false;
    let mut checked = 0;
    let mut printed_diags = false;
    match gantry_config::load_dir(dir) {
        Ok(loaded) => {
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
