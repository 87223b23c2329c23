//! The workflow fixture suite: every `tests/fixtures/NAME.yml` runs through
//! the real `gantry run --json` in a fresh git repository, and the rendered
//! result must equal `tests/fixtures/NAME.expected` (format: see
//! `fixtures/harness.rs`). Each snapshot was reviewed against what GitHub
//! Actions does; GitHub is the spec.
//!
//! After a deliberate behaviour change, rewrite the snapshots with
//!
//! ```sh
//! GANTRY_BLESS=1 cargo test -p gantry --test fixtures
//! ```
//!
//! and review the diff by eye (`git diff crates/gantry/tests/fixtures`).
//! A fixture where Gantry disagrees with GitHub keeps the GitHub-correct
//! snapshot and is listed in [`KNOWN_GAPS`]: the test then asserts it still
//! differs, so fixing the gap fails the test until it is moved back.

#[path = "fixtures/harness.rs"]
mod harness;

use std::sync::Mutex;

use harness::{fixture_args, fixture_names, fixtures_dir, make_repo, render, run_gantry};

/// Fixtures whose `.expected` holds what GitHub Actions does, which Gantry
/// does not do yet (name, what differs).
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Runs one fixture; returns the rendered result.
fn run_fixture(name: &str) -> String {
    let repo = make_repo(name);
    let out = run_gantry(repo.path(), &fixture_args(name));
    render(&out, repo.path())
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let names = fixture_names();
    assert!(names.len() >= 40, "only {} fixtures", names.len());
    for (gap, _) in KNOWN_GAPS {
        assert!(
            names.iter().any(|n| n == gap),
            "KNOWN_GAPS names a missing fixture {gap}"
        );
    }
    let bless = std::env::var_os("GANTRY_BLESS").is_some();
    let queue = Mutex::new(names.clone());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(name) = queue.lock().unwrap().pop() else { break };
                    let actual = run_fixture(&name);
                    let path = fixtures_dir().join(format!("{name}.expected"));
                    let gap = KNOWN_GAPS.iter().find(|(g, _)| *g == name);
                    if bless && gap.is_none() {
                        std::fs::write(&path, &actual).unwrap();
                        continue;
                    }
                    let expected = std::fs::read_to_string(&path).unwrap_or_default();
                    let msg = match gap {
                        None if actual != expected => Some(format!(
                            "fixture {name} differs from {}\n--- expected\n{expected}--- actual\n{actual}",
                            path.display()
                        )),
                        Some((_, what)) if actual == expected => Some(format!(
                            "fixture {name} now matches GitHub ({what}): remove it from KNOWN_GAPS"
                        )),
                        _ => None,
                    };
                    if let Some(msg) = msg {
                        failures.lock().unwrap().push(msg);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}
