//! `gantry/scan` end to end: `gantry run` on a repository whose workflow
//! checks the repository out, adds a secret at run time (assembled from
//! pieces, so no credential-shaped string is committed anywhere), and gates
//! on the scan.

mod common;

use std::path::Path;

use common::{events, repo, run_in};
use serde_json::Value;

/// 36 varied letters and digits: a GitHub classic token's tail.
fn token_tail() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..36)
        .map(|i| ALPHABET[(i * 17 + 5) % ALPHABET.len()] as char)
        .collect()
}

fn gate_workflow() -> String {
    format!(
        r#"on: push
jobs:
  gate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: add a secret
        env:
          HEAD: ghp
          TAIL: {tail}
        run: printf 'token = "%s_%s"\n' "$HEAD" "$TAIL" > app/settings.toml
      - name: scan
        id: scan
        uses: gantry/scan@v1
        with:
          scanners: secrets,misconfig
          path: app
          format: sarif
          output: reports/scan.sarif
          fail-on: high
      - if: always()
        run: echo "counts ${{{{ steps.scan.outputs.total }}}}/${{{{ steps.scan.outputs.high }}}}/${{{{ steps.scan.outputs.medium }}}} sarif=$(grep -c '"ruleId"' reports/scan.sarif)"
"#,
        tail = token_tail()
    )
}

const DEPS: &str = r#"on: push
jobs:
  deps:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: gantry/scan
        with:
          path: app
"#;

const TYPO: &str = r#"on: push
jobs:
  typo:
    runs-on: ubuntu-latest
    steps:
      - uses: gantry/scan@v1
        with:
          scanners: secrets
          fial-on: high
"#;

fn commit(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", "fixture"]] {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }
}

fn logs(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .filter(|e| e["event"] == "log")
        .filter_map(|e| e["text"].as_str().map(String::from))
        .collect()
}

#[test]
fn gantry_run_gates_on_the_scan() {
    let wf = gate_workflow();
    let dir = repo(&[("gate.yml", &wf), ("deps.yml", DEPS)]);
    commit(
        dir.path(),
        &[("app/Dockerfile", "FROM alpine:3.19\nRUN echo hello\n")],
    );

    // The gate: high findings reach `fail-on: high`, so the run fails (exit
    // 1) after the `always()` step reads the outputs and the SARIF file.
    let (code, out, err) = run_in(dir.path(), &["gate", "--json"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    let ev = events(&out);
    let scan = ev
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "scan")
        .unwrap_or_else(|| panic!("no scan step in {ev:#?}"));
    assert_eq!(scan["conclusion"], "failure");
    assert_eq!(scan["outputs"]["total"], "2");
    assert_eq!(scan["outputs"]["high"], "1");
    assert_eq!(scan["outputs"]["medium"], "1");
    assert_eq!(scan["outputs"]["critical"], "0");
    assert!(
        scan["outputs"]["sarif"]
            .as_str()
            .is_some_and(|p| p.ends_with("reports/scan.sarif")),
        "{scan:#}"
    );
    let lines = logs(&ev);
    assert!(
        lines.iter().any(|l| l.contains("counts 2/1/1 sarif=2")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 finding(s) at or above high")),
        "{lines:#?}"
    );
    assert!(
        !out.contains(&token_tail()),
        "the secret reached the output"
    );

    // deps (on by default) with no advisory database in the data dir: the
    // step fails and says where the database goes and how to import one.
    let (code, out, err) = run_in(dir.path(), &["deps", "--json"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    let lines = logs(&events(&out));
    let data_dir = dir.path().join(".gantry");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("needs an advisory database")
                && l.contains(&format!("--data-dir {}", data_dir.display()))
                && l.contains("db import")),
        "{lines:#?}"
    );

    // A misspelled input is refused before anything runs, at file:line:col.
    let dir = repo(&[("typo.yml", TYPO)]);
    let (code, out, err) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(
        err.contains(".github/workflows/typo.yml:9:11") && err.contains("unknown input `fial-on`"),
        "{err}"
    );
    assert!(err.contains("did you mean `fail-on`?"), "{err}");
}
