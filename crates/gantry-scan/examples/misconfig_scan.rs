//! Scans one Terraform directory with the misconfiguration checks and
//! prints the findings per check, the file errors and the time taken
//! (used by benches/scan/misconfig).
//!
//! `cargo run --release -p gantry-scan --example misconfig_scan -- DIR`

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: misconfig_scan DIR");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let (findings, errors) = gantry_scan::misconfig::scan_terraform(Path::new(&dir), "");
    let elapsed = start.elapsed();
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &findings {
        *per_rule.entry(f.rule_id.as_str()).or_default() += 1;
    }
    for (rule, n) in &per_rule {
        println!("{rule}\t{n}");
    }
    for e in errors.iter().take(5) {
        eprintln!("error: {e}");
    }
    println!(
        "findings\t{}\nerrors\t{}\nseconds\t{:.3}",
        findings.len(),
        errors.len(),
        elapsed.as_secs_f64()
    );
    ExitCode::SUCCESS
}
