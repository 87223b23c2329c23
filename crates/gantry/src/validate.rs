//! `gantry validate`: every configuration file Gantry knows, with diagnostics.

use std::path::Path;

use crate::{CmdResult, Failure};

/// Loads the workspace's configuration; on errors prints the diagnostics and
/// fails with exit code 2.
pub fn load(dir: &Path) -> Result<gantry_config::Loaded, Failure> {
    if !dir.is_dir() {
        return Err(Failure::Usage(anyhow::anyhow!(
            "{} is not a directory",
            dir.display()
        )));
    }
    gantry_config::load_dir(dir).map_err(|diags| {
        eprint!("{}", diags.render_all());
        Failure::Reported(2)
    })
}

pub fn run(dir: &Path) -> CmdResult {
    let loaded = load(dir)?;
    if loaded.files.is_empty() {
        println!(
            "no configuration files in {} (looked for gantry.yml and gantry.d/*.yml)",
            dir.display()
        );
        return Ok(());
    }
    for f in &loaded.files {
        println!("ok  {}", f.path.display());
    }
    println!("{} file(s) checked, no problems", loaded.files.len());
    Ok(())
}
