//! Throughput runner for benches/scan/secrets.sh.
//!
//! Usage: `secrets_bench MODE LIST [THREADS]`, where LIST is a file with
//! one absolute path per line and MODE is `read` (the floor: read every
//! file whole) or `scan` (built-in rules, `Scanner::scan_file`). Prints one
//! line: mode, threads, files, bytes, seconds, MB/s, findings.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gantry_scan::secrets::{Rules, Scanner};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: secrets_bench read|scan LIST [THREADS]");
        std::process::exit(2);
    }
    let mode = args[1].as_str();
    let list = match std::fs::read_to_string(&args[2]) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot read {}: {e}", args[2]);
            std::process::exit(2);
        }
    };
    let threads: usize = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(1).max(1);
    let files: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    // SECRETS_BENCH_CONFIG=FILE scans with a gitleaks configuration instead
    // of the built-in rules.
    let rules = match std::env::var_os("SECRETS_BENCH_CONFIG") {
        Some(cfg) => match Rules::from_gitleaks_file(Path::new(&cfg)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        },
        None => Rules::builtin(),
    };
    let scanner = Scanner::new(rules);
    if mode == "rules" {
        per_rule(&files);
        return;
    }

    // SECRETS_BENCH_LIST=1 prints each finding (redacted) to stderr.
    let list_findings = std::env::var_os("SECRETS_BENCH_LIST").is_some();
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let findings = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    match mode {
                        "read" => {
                            if let Ok(d) = std::fs::read(f) {
                                bytes.fetch_add(d.len(), Ordering::Relaxed);
                            }
                        }
                        _ => {
                            let p = Path::new(f);
                            let len = std::fs::metadata(p).map(|m| m.len() as usize).unwrap_or(0);
                            let (dir, name) = (
                                p.parent().unwrap_or(Path::new("/")),
                                p.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                            );
                            if let Ok(found) = scanner.scan_file(dir, name) {
                                if list_findings {
                                    for x in &found {
                                        let l = x.location.as_ref().map(|l| l.line).unwrap_or(0);
                                        let r = x.redacted.as_deref().unwrap_or("");
                                        eprintln!("{f}:{l} {} {r}", x.rule_id);
                                    }
                                }
                                findings.fetch_add(found.len(), Ordering::Relaxed);
                            }
                            bytes.fetch_add(len, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let b = bytes.load(Ordering::Relaxed);
    println!(
        "{mode} threads={threads} files={} bytes={b} seconds={secs:.3} MB/s={:.1} findings={}",
        files.len(),
        b as f64 / 1e6 / secs,
        findings.load(Ordering::Relaxed)
    );
}

/// Time of each built-in rule alone over the files held in memory, slowest
/// first (for finding the rules that dominate a scan).
fn per_rule(files: &[&str]) {
    let data: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok().map(|d| (f.to_string(), d)))
        .collect();
    let total: usize = data.iter().map(|d| d.1.len()).sum();
    let all = Scanner::new(Rules::builtin());
    let t = Instant::now();
    let mut n = 0;
    for (p, d) in &data {
        n += all.scan_bytes(p, d).len();
    }
    println!(
        "all rules in memory: {:.3}s ({n} findings)",
        t.elapsed().as_secs_f64()
    );
    let mut kws: Vec<String> = Rules::builtin()
        .iter()
        .flat_map(|r| r.keywords.clone())
        .collect();
    kws.sort();
    kws.dedup();
    let ac = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&kws)
        .unwrap();
    let t = Instant::now();
    let mut hits = 0usize;
    for (_, d) in &data {
        hits += ac.find_overlapping_iter(d).count();
    }
    println!(
        "gate only (overlapping): {:.3}s, {hits} keyword hits",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut hits = 0usize;
    for (_, d) in &data {
        hits += ac.find_iter(d).count();
    }
    println!(
        "gate only (non-overlapping): {:.3}s, {hits} keyword hits",
        t.elapsed().as_secs_f64()
    );
    for (label, kind, pre) in [
        (
            "dfa+prefilter",
            Some(aho_corasick::AhoCorasickKind::DFA),
            true,
        ),
        ("dfa", Some(aho_corasick::AhoCorasickKind::DFA), false),
        (
            "contiguous",
            Some(aho_corasick::AhoCorasickKind::ContiguousNFA),
            false,
        ),
    ] {
        let ac2 = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(kind)
            .prefilter(pre)
            .build(&kws)
            .unwrap();
        let t = Instant::now();
        let mut hits = 0usize;
        for (_, d) in &data {
            hits += ac2.find_overlapping_iter(d).count();
        }
        println!(
            "gate {label}: {:.3}s, {hits} hits",
            t.elapsed().as_secs_f64()
        );
    }
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for (_, d) in &data {
        for m in ac.find_overlapping_iter(d) {
            *counts
                .entry(kws[m.pattern().as_usize()].clone())
                .or_default() += 1;
        }
    }
    let mut c: Vec<_> = counts.into_iter().collect();
    c.sort_by_key(|x| std::cmp::Reverse(x.1));
    println!("top keywords: {:?}", &c[..c.len().min(15)]);
    let mut times = Vec::new();
    for rule in Rules::builtin().iter() {
        let mut one = Rules::builtin();
        one.retain(|r| r.id == rule.id);
        let s = Scanner::new(one);
        let t = Instant::now();
        let mut n = 0;
        for (p, d) in &data {
            n += s.scan_bytes(p, d).len();
        }
        times.push((t.elapsed().as_secs_f64(), rule.id.clone(), n));
    }
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    let sum: f64 = times.iter().map(|t| t.0).sum();
    println!("{} MB, sum of per-rule times {sum:.3}s", total / 1_000_000);
    for (t, id, n) in times.iter().take(25) {
        println!("{t:8.3}s {id} ({n} findings)");
    }
}
