//! Test support (feature `test-support`) for every crate whose parser
//! reports [`Diagnostics`]: golden diagnostic files and garbled inputs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Diagnostics;

/// The files in `dir` whose names end with `suffix`, sorted.
pub fn cases(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Golden diagnostics: every `*.bad.yml` in `dir` must fail to load (`load`
/// gives `Err`, or `Ok(description)` for an unexpected success), and its
/// rendered diagnostics must equal the sibling `*.expected` byte for byte.
/// With `GANTRY_BLESS=1` the `.expected` files are rewritten instead: review
/// the diff before committing. Panics listing every mismatch, a missing or
/// orphaned `.expected`, or fewer than `min_cases` cases.
pub fn check_golden(
    dir: &Path,
    min_cases: usize,
    load: impl Fn(&str, &str) -> Result<String, Diagnostics>,
) {
    let bless = std::env::var_os("GANTRY_BLESS").is_some_and(|v| v == "1");
    let bad = cases(dir, ".bad.yml");
    assert!(
        bad.len() >= min_cases,
        "expected at least {min_cases} bad cases in {}, found {}",
        dir.display(),
        bad.len()
    );
    let mut failures = Vec::new();
    for path in &bad {
        let name = file_name(path);
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rendered = match load(&name, &text) {
            Ok(loaded) => format!("unexpectedly loaded: {loaded}\n"),
            Err(diags) => {
                assert!(diags.has_errors(), "{name}: diagnostics without an error");
                diags.render_all()
            }
        };
        let expected_path = path.with_file_name(name.replace(".bad.yml", ".expected"));
        if bless {
            fs::write(&expected_path, &rendered).expect("write .expected");
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{name}: rendered output differs\n--- expected\n{expected}--- actual\n{rendered}"
            )),
            Err(_) => failures.push(format!("{name}: missing {}", expected_path.display())),
        }
    }
    for expected in cases(dir, ".expected") {
        let source = expected.with_file_name(file_name(&expected).replace(".expected", ".bad.yml"));
        if !source.exists() {
            failures.push(format!("{}: no matching .bad.yml", expected.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// xorshift64: a deterministic generator for garbled-input tests.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
