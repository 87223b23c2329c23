//! `gantry rules check`: promtool's report shape and exit codes, every
//! problem at file:line:col.

mod common;

use std::path::Path;

use common::gantry;

fn check(files: &[&str]) -> (Option<i32>, String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let out = gantry()
        .arg("rules")
        .arg("check")
        .args(files)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_valid_file_reports_its_rule_count() {
    let (code, out, err) = check(&["good.yml"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "Checking good.yml\n  SUCCESS: 2 rules found\n\n");
}

#[test]
fn every_problem_is_reported_at_its_position() {
    let (code, out, err) = check(&["good.yml", "bad.yml", "missing.yml"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("Checking good.yml\n  SUCCESS: 2 rules found"),
        "{out}"
    );
    assert!(out.contains("Checking bad.yml\n  FAILED:"), "{out}");
    for want in [
        "invalid recording rule name: bad name",
        "--> bad.yml:4:9",
        "invalid field `for` in recording rule `bad name`",
        "only one of `record` and `alert` must be set",
        "missing required key `expr`",
        "groupname: \"a\" is repeated in the same file",
        "error: missing.yml: cannot read file: entity not found",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    // PromQL and template errors point at the expression and the annotation.
    let (code, _, err) = check(&["bad.yml"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("could not parse expression"), "{err}");
    assert!(
        err.contains("template of `summary`: unclosed action"),
        "{err}"
    );
    let (code, _, _) = check(&[]);
    assert_eq!(code, Some(2));
}
