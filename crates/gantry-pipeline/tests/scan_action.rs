//! The built-in `gantry/scan` action through a real run: workflows whose
//! earlier `run:` steps write a fixture tree into the workspace (a secret
//! assembled at run time, so this file holds no credential-shaped string,
//! and a Dockerfile running as root), then scan it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_pipeline::run::{RunOptions, RunSummary, run_workflow};
use gantry_pipeline::workflow;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// A GitHub classic token's tail: 36 letters and digits, varied enough to
/// pass the rule's entropy threshold. Built here, never written down.
fn token_tail() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..36)
        .map(|i| ALPHABET[(i * 17 + 5) % ALPHABET.len()] as char)
        .collect()
}

/// Steps writing `app/`: `settings.toml` with a GitHub token (the `ghp`
/// prefix and the tail come from separate env values) and a Dockerfile
/// without USER.
fn fixture_steps() -> String {
    format!(
        r#"      - name: fixture
        env:
          HEAD: ghp
          TAIL: {tail}
        run: |
          mkdir -p app
          printf 'FROM alpine:3.19\nRUN echo hello\n' > app/Dockerfile
          printf 'token = "%s_%s"\n' "$HEAD" "$TAIL" > app/settings.toml
"#,
        tail = token_tail()
    )
}

/// A workflow: the fixture, a `gantry/scan` step (id `scan`) with `with`,
/// then `after` (more steps, already indented).
fn workflow_with(with: &str, after: &str) -> String {
    let mut with_block = String::new();
    for line in with.lines().filter(|l| !l.trim().is_empty()) {
        with_block.push_str("          ");
        with_block.push_str(line.trim());
        with_block.push('\n');
    }
    format!(
        "on: push\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n{}      - name: scan\n        id: scan\n        uses: gantry/scan@v1\n        with:\n{with_block}{after}",
        fixture_steps()
    )
}

struct Run {
    summary: RunSummary,
    events: Vec<Value>,
    workspace_root: PathBuf,
    _dirs: Vec<tempfile::TempDir>,
}

impl Run {
    fn finished(&self, step: &str) -> &Value {
        self.events
            .iter()
            .find(|e| e["event"] == "step_finished" && e["step"] == step)
            .unwrap_or_else(|| panic!("no step_finished for {step:?} in {:#?}", self.events))
    }

    fn output(&self, step: &str, key: &str) -> Option<String> {
        self.finished(step)["outputs"][key]
            .as_str()
            .map(String::from)
    }

    fn logs(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "log")
            .filter_map(|e| e["text"].as_str().map(String::from))
            .collect()
    }

    fn has_log(&self, needle: &str) -> bool {
        self.logs().iter().any(|l| l.contains(needle))
    }
}

/// Prepares the state dir before the run (e.g. imports an advisory database).
type PrepareState = Box<dyn FnOnce(&Path)>;

#[derive(Default)]
struct Setup {
    secrets: BTreeMap<String, String>,
    state: Option<PrepareState>,
    /// Files in the repository: (relative path, contents).
    repo_files: Vec<(String, String)>,
}

async fn run(yaml: &str) -> Run {
    run_with(yaml, Setup::default()).await
}

async fn run_with(yaml: &str, setup: Setup) -> Run {
    let wf = workflow::load_str(".github/workflows/scan.yml", yaml)
        .unwrap_or_else(|d| panic!("workflow does not load:\n{}", d.render_all()));
    let repo = tempfile::tempdir().unwrap();
    for (rel, text) in &setup.repo_files {
        let p = repo.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    // HOME for the steps; `$HOME/repo` holds the repository's path.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("repo"), repo.path().display().to_string()).unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join(".gantry");
    if let Some(prepare) = setup.state {
        prepare(&state_dir);
    }
    let opts = RunOptions {
        repo_root: repo.path().to_path_buf(),
        work_dir: work.path().to_path_buf(),
        state_dir,
        run_id: "1".into(),
        event_name: "push".into(),
        event: json!({}),
        inputs: BTreeMap::new(),
        secrets: setup.secrets,
        vars: BTreeMap::new(),
        job: None,
        matrix_filter: Vec::new(),
        parallel: 1,
        host_labels: Vec::new(),
        git: Default::default(),
        path: std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        home: home.path().display().to_string(),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_cancel_tx, cancel) = watch::channel(false);
    let summary = run_workflow(wf, opts, tx, cancel)
        .await
        .expect("the run starts");
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(serde_json::to_value(&e).unwrap());
    }
    Run {
        summary,
        events,
        workspace_root: work.path().to_path_buf(),
        _dirs: vec![repo, work, home, state],
    }
}

#[tokio::test]
async fn counts_are_step_outputs_and_the_table_is_in_the_log() {
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app",
        "      - run: echo \"seen total=${{ steps.scan.outputs.total }} high=${{ steps.scan.outputs.high }} medium=${{ steps.scan.outputs.medium }}\"\n",
    );
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.events
    );
    assert_eq!(r.output("scan", "total").as_deref(), Some("2"));
    assert_eq!(r.output("scan", "critical").as_deref(), Some("0"));
    assert_eq!(r.output("scan", "high").as_deref(), Some("1"));
    assert_eq!(r.output("scan", "medium").as_deref(), Some("1"));
    assert_eq!(r.output("scan", "low").as_deref(), Some("0"));
    assert_eq!(r.output("scan", "info").as_deref(), Some("0"));
    assert_eq!(r.output("scan", "files-scanned").as_deref(), Some("2"));
    // No report file was asked for.
    assert_eq!(r.output("scan", "output"), None);
    assert_eq!(r.output("scan", "sarif"), None);
    // The table names both findings; the token is redacted.
    assert!(r.has_log("github-pat"), "{:#?}", r.logs());
    assert!(r.has_log("GNT-DF-001"), "{:#?}", r.logs());
    let tail = token_tail();
    assert!(
        !r.logs().iter().any(|l| l.contains(&tail)),
        "the secret leaked into the log: {:#?}",
        r.logs()
    );
    // Later steps read the outputs through the steps context.
    assert!(r.has_log("seen total=2 high=1 medium=1"), "{:#?}", r.logs());
    assert!(!r.summary.failed());
}

#[tokio::test]
async fn fail_on_high_fails_the_step_and_keeps_its_outputs() {
    let yaml = workflow_with(
        "scanners: secrets, misconfig\npath: app\nfail-on: high",
        "      - if: failure()\n        run: echo \"gate failed with high=${{ steps.scan.outputs.high }} outcome=${{ steps.scan.outcome }}\"\n      - run: echo should-not-run\n",
    );
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert_eq!(r.output("scan", "high").as_deref(), Some("1"));
    assert!(
        r.has_log("1 finding(s) at or above high"),
        "{:#?}",
        r.logs()
    );
    assert!(
        r.has_log("gate failed with high=1 outcome=failure"),
        "{:#?}",
        r.logs()
    );
    assert!(!r.has_log("should-not-run"));
    assert!(r.summary.failed());
}

#[tokio::test]
async fn fail_on_medium_counts_everything_at_or_above_it() {
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app\nfail-on: MEDIUM",
        "",
    );
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(
        r.has_log("2 finding(s) at or above medium"),
        "{:#?}",
        r.logs()
    );
}

#[tokio::test]
async fn fail_on_critical_passes_with_only_high_findings() {
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app\nfail-on: critical",
        "      - run: echo next-step-ran\n",
    );
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    assert_eq!(r.output("scan", "high").as_deref(), Some("1"));
    assert!(r.has_log("next-step-ran"));
    assert!(!r.summary.failed());
}

#[tokio::test]
async fn a_continue_on_error_gate_lets_the_job_pass() {
    let yaml = workflow_with("scanners: secrets\npath: app\nfail-on: low", "").replace(
        "        uses: gantry/scan@v1\n",
        "        uses: gantry/scan@v1\n        continue-on-error: true\n",
    );
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["outcome"], "failure");
    assert_eq!(r.finished("scan")["conclusion"], "success");
    assert!(!r.summary.failed());
}

#[tokio::test]
async fn sarif_output_is_written_and_its_path_is_an_output() {
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app\nformat: sarif\noutput: reports/scan.sarif",
        "      - run: test -s \"${{ steps.scan.outputs.sarif }}\" && echo sarif-exists\n",
    );
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    let sarif = r.output("scan", "sarif").expect("sarif output");
    assert_eq!(r.output("scan", "output").as_deref(), Some(sarif.as_str()));
    assert!(sarif.ends_with("reports/scan.sarif"), "{sarif}");
    assert!(
        Path::new(&sarif).starts_with(&r.workspace_root),
        "{sarif} is not in the workspace"
    );
    assert!(r.has_log("sarif-exists"), "{:#?}", r.logs());
    // The log still shows the table, not the SARIF document.
    assert!(r.has_log("GNT-DF-001"));
    assert!(!r.has_log("\"$schema\""));
    assert!(r.has_log("Wrote the sarif report to"));
}

#[tokio::test]
async fn the_sarif_file_holds_the_findings() {
    // The workspace is removed with the run, so the file is copied out by
    // a step into a directory the test owns.
    let keep = tempfile::tempdir().unwrap();
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app\nformat: sarif\noutput: out/scan.sarif",
        &format!(
            "      - run: cp out/scan.sarif '{}/scan.sarif'\n",
            keep.path().display()
        ),
    );
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    let text = std::fs::read_to_string(keep.path().join("scan.sarif")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let mut rules: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    rules.sort();
    assert_eq!(rules, ["GNT-DF-001", "github-pat"]);
    assert!(
        !text.contains(&token_tail()),
        "the SARIF file holds the secret"
    );
}

#[tokio::test]
async fn json_format_without_output_goes_to_the_log() {
    let yaml = workflow_with("scanners: misconfig\npath: app\nformat: json", "");
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    let step_logs: Vec<String> = r
        .logs()
        .into_iter()
        .skip_while(|l| !l.starts_with('{'))
        .collect();
    let mut doc = String::new();
    let mut depth = 0i64;
    for line in &step_logs {
        doc.push_str(line);
        doc.push('\n');
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if depth == 0 {
            break;
        }
    }
    let v: Value = serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
    assert_eq!(r.output("scan", "total").as_deref(), Some("1"));
    assert!(doc.contains("GNT-DF-001"), "{v:#}");
    assert_eq!(r.output("scan", "output"), None);
}

#[tokio::test]
async fn log_lines_are_masked_like_other_step_output() {
    // A run secret that appears in the table: the directory the
    // Dockerfile is in, which the finding's location names.
    let yaml = workflow_with("scanners: misconfig\npath: app", "")
        .replace("mkdir -p app\n", "mkdir -p app/private-sub\n")
        .replace("> app/Dockerfile", "> app/private-sub/Dockerfile");
    let r = run_with(
        &yaml,
        Setup {
            secrets: BTreeMap::from([("DIR".into(), "private-sub".into())]),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    assert_eq!(r.output("scan", "medium").as_deref(), Some("1"));
    assert!(r.has_log("GNT-DF-001"), "{:#?}", r.logs());
    assert!(
        !r.logs().iter().any(|l| l.contains("private-sub")),
        "{:#?}",
        r.logs()
    );
    assert!(r.has_log("***/Dockerfile"), "{:#?}", r.logs());
}

#[tokio::test]
async fn deps_without_a_database_fails_and_says_how_to_import_one() {
    let yaml = workflow_with(
        "scanners: deps\npath: app",
        "      - if: always()\n        run: echo \"total=[${{ steps.scan.outputs.total }}]\"\n",
    );
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(
        r.has_log("the deps scanner needs an advisory database"),
        "{:#?}",
        r.logs()
    );
    assert!(r.has_log("db import"), "{:#?}", r.logs());
    assert!(r.has_log("scan/osv"), "{:#?}", r.logs());
    // Never "0 findings".
    assert!(r.has_log("total=[]"), "{:#?}", r.logs());
}

#[tokio::test]
async fn the_default_scanners_include_deps_and_need_the_database() {
    let yaml = workflow_with("path: app", "");
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("the deps scanner needs an advisory database"));
}

#[tokio::test]
async fn deps_use_the_database_under_the_state_dir() {
    let yaml = workflow_with("scanners: deps\npath: app", "").replace(
        "mkdir -p app\n",
        "mkdir -p app\n          printf 'version = 3\\n\\n[[package]]\\nname = \"smallvec\"\\nversion = \"0.6.1\"\\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\\n' > app/Cargo.lock\n",
    );
    let r = run_with(
        &yaml,
        Setup {
            state: Some(Box::new(|state: &Path| {
                let records = tempfile::tempdir().unwrap();
                let record = json!({
                    "id": "GANTRY-TEST-0001",
                    "modified": "2024-01-01T00:00:00Z",
                    "summary": "test advisory",
                    "affected": [{
                        "package": {"ecosystem": "crates.io", "name": "smallvec"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]
                    }],
                    "database_specific": {"severity": "HIGH"}
                });
                std::fs::write(records.path().join("GANTRY-TEST-0001.json"), record.to_string())
                    .unwrap();
                let imported = gantry_scan::Database::import(
                    &state.join("scan").join("osv"),
                    &[records.path().to_path_buf()],
                    None,
                )
                .unwrap();
                assert_eq!(imported.read, 1);
            })),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    assert_eq!(r.output("scan", "total").as_deref(), Some("1"));
    assert!(r.has_log("GANTRY-TEST-0001"), "{:#?}", r.logs());
}

#[tokio::test]
async fn a_bad_value_from_an_expression_fails_the_step_naming_the_input() {
    let yaml = workflow_with(
        "scanners: secrets\npath: app\nfail-on: ${{ github.event_name == 'push' && 'severe' || 'high' }}",
        "",
    );
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("input `fail-on` is `severe`"), "{:#?}", r.logs());
}

#[tokio::test]
async fn an_error_quoting_a_secret_input_is_masked() {
    let yaml = workflow_with(
        "scanners: secrets\npath: app\nfail-on: ${{ secrets.LEVEL }}",
        "",
    );
    let r = run_with(
        &yaml,
        Setup {
            secrets: BTreeMap::from([("LEVEL".into(), "hush-hush-level".into())]),
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("input `fail-on` is `***`"), "{:#?}", r.logs());
    assert!(!r.has_log("hush-hush-level"), "{:#?}", r.logs());
}

#[tokio::test]
async fn a_baseline_from_an_earlier_scan_leaves_only_new_findings() {
    let yaml = workflow_with(
        "scanners: secrets,misconfig\npath: app\nformat: json\noutput: before.json",
        r#"      - run: printf 'FROM alpine\n' > app/Dockerfile.extra
      - name: again
        id: again
        uses: gantry/scan
        with:
          scanners: secrets,misconfig
          path: app
          baseline: before.json
          fail-on: high
"#,
    );
    let r = run(&yaml).await;
    assert_eq!(r.output("scan", "total").as_deref(), Some("2"));
    assert_eq!(
        r.finished("again")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    // Only the new Dockerfile's findings (medium), not the baseline's
    // high secret, so `fail-on: high` passes.
    assert_eq!(r.output("again", "high").as_deref(), Some("0"));
    let total: usize = r.output("again", "total").unwrap().parse().unwrap();
    assert!(total >= 1, "the new Dockerfile's findings are reported");
    assert!(r.has_log("Dockerfile.extra"), "{:#?}", r.logs());
}

#[tokio::test]
async fn config_replaces_the_secret_rules() {
    let yaml = workflow_with(
        "scanners: secrets\npath: app\nconfig: rules/gitleaks.toml",
        "",
    )
    .replace(
        "mkdir -p app\n",
        "mkdir -p app rules\n          printf '[[rules]]\\nid = \"acme-key\"\\ndescription = \"ACME key\"\\nregex = \"acme_[0-9]{8}\"\\nkeywords = [\"acme_\"]\\n' > rules/gitleaks.toml\n          echo 'key = acme_12345678' > app/acme.txt\n",
    );
    let r = run(&yaml).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    // The custom rule finds its key; the built-in rules are not loaded, so
    // the GitHub token goes unreported.
    assert_eq!(
        r.output("scan", "total").as_deref(),
        Some("1"),
        "{:#?}",
        r.logs()
    );
    assert!(r.has_log("acme-key"), "{:#?}", r.logs());
    assert!(!r.has_log("github-pat"));
}

#[tokio::test]
async fn a_broken_config_fails_the_step_naming_the_input() {
    let yaml = workflow_with("scanners: secrets\npath: app\nconfig: missing.toml", "");
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("input `config`"), "{:#?}", r.logs());
}

#[tokio::test]
async fn git_also_scans_history() {
    // The token is committed, then deleted: only history still has it.
    let history = r#"      - name: history
        env:
          GIT_AUTHOR_NAME: t
          GIT_AUTHOR_EMAIL: t@example.invalid
          GIT_COMMITTER_NAME: t
          GIT_COMMITTER_EMAIL: t@example.invalid
        run: |
          cd app
          git init -q -b main
          git add settings.toml
          git commit -q -m token
          git rm -q settings.toml
          git commit -q -m gone
"#;
    let scan_with = |git: &str| {
        workflow_with(&format!("scanners: secrets\npath: app\ngit: {git}"), "").replace(
            "      - name: scan\n",
            &format!("{history}      - name: scan\n"),
        )
    };
    let r = run(&scan_with("false")).await;
    assert_eq!(
        r.finished("history")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    assert_eq!(
        r.output("scan", "total").as_deref(),
        Some("0"),
        "{:#?}",
        r.logs()
    );
    let r = run(&scan_with("true")).await;
    assert_eq!(
        r.finished("scan")["conclusion"],
        "success",
        "{:#?}",
        r.logs()
    );
    assert_eq!(
        r.output("scan", "high").as_deref(),
        Some("1"),
        "{:#?}",
        r.logs()
    );
    assert!(r.has_log("github-pat"), "{:#?}", r.logs());
}

#[tokio::test]
async fn git_without_secrets_is_refused() {
    let yaml = workflow_with("scanners: misconfig\npath: app\ngit: true", "");
    let r = run(&yaml).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("input `git`"), "{:#?}", r.logs());
}

#[tokio::test]
async fn a_path_outside_the_workspace_or_missing_is_refused() {
    let r = run(&workflow_with("scanners: secrets\npath: ../elsewhere", "")).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(r.has_log("input `path`"), "{:#?}", r.logs());
    let r = run(&workflow_with("scanners: secrets\npath: not-there", "")).await;
    assert_eq!(r.finished("scan")["conclusion"], "failure");
    assert!(
        r.has_log("input `path`: `not-there` does not exist"),
        "{:#?}",
        r.logs()
    );
}

#[tokio::test]
async fn a_misspelled_input_in_a_composite_action_fails_the_step() {
    // Composite steps are not checked when the workflow loads, so the
    // action itself refuses the input.
    let action = "runs:\n  using: composite\n  steps:\n    - uses: gantry/scan\n      with:\n        scaners: secrets\n        path: app\n";
    // The step copies the action from the repository (whose path the
    // setup leaves in `$HOME/repo`) into the workspace.
    let yaml = format!(
        "on: push\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n{}      - run: mkdir -p wrap && cp \"$(cat \"$HOME/repo\")/wrap/action.yml\" wrap/\n      - name: wrapped\n        uses: ./wrap\n",
        fixture_steps()
    );
    let r = run_with(
        &yaml,
        Setup {
            repo_files: vec![("wrap/action.yml".into(), action.into())],
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(
        r.finished("wrapped")["conclusion"],
        "failure",
        "{:#?}",
        r.logs()
    );
    assert!(
        r.has_log("unknown input `scaners` (did you mean `scanners`?)"),
        "{:#?}",
        r.logs()
    );
}

// ---------------------------------------------------------------- loading

fn load_errors(yaml: &str) -> String {
    match workflow::load_str(".github/workflows/scan.yml", yaml) {
        Ok(_) => panic!("the workflow loaded:\n{yaml}"),
        Err(d) => d
            .iter()
            .map(|d| d.one_line())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn a_misspelled_input_is_reported_at_file_line_col() {
    let yaml = workflow_with("scanners: secrets\nfial-on: high", "");
    let line = yaml
        .lines()
        .position(|l| l.contains("fial-on"))
        .expect("the line")
        + 1;
    let col = yaml.lines().nth(line - 1).unwrap().find("fial-on").unwrap() + 1;
    let errors = load_errors(&yaml);
    assert!(
        errors.contains(&format!(
            ".github/workflows/scan.yml:{line}:{col}: error: unknown input `fial-on` for `gantry/scan@v1`"
        )),
        "{errors}"
    );
    let diag = workflow::load_str(".github/workflows/scan.yml", &yaml).unwrap_err();
    assert!(
        diag.render_all().contains("did you mean `fail-on`?"),
        "{}",
        diag.render_all()
    );
}

#[test]
fn literal_bad_values_are_reported_where_they_are_written() {
    let yaml = workflow_with(
        "scanners: secrets,secret\nformat: xml\nfail-on: severe\ngit: yes",
        "",
    );
    let errors = load_errors(&yaml);
    for (needle, input) in [
        ("secrets,secret", "scanners"),
        ("xml", "format"),
        ("severe", "fail-on"),
        ("git: yes", "git"),
    ] {
        let line = yaml.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert!(
            errors
                .lines()
                .any(|e| e.contains(&format!("scan.yml:{line}:"))
                    && e.contains(&format!("input `{input}`"))),
            "no error for `{input}` at line {line}:\n{errors}"
        );
    }
}

#[test]
fn expressions_and_valid_inputs_load() {
    let yaml = workflow_with(
        "path: ${{ github.workspace }}\nscanners: ${{ 'secrets' }}\nformat: cyclonedx\noutput: sbom.json\nfail-on: ${{ 'high' }}\nbaseline: old.json\nconfig: gitleaks.toml\ngit: false",
        "",
    );
    workflow::load_str(".github/workflows/scan.yml", &yaml)
        .unwrap_or_else(|d| panic!("{}", d.render_all()));
    // Any ref, or none, names the action.
    for uses in [
        "gantry/scan",
        "gantry/scan@main",
        "Gantry/Scan@0123456789abcdef",
    ] {
        let y = yaml.replace("gantry/scan@v1", uses);
        let wf = workflow::load_str(".github/workflows/scan.yml", &y)
            .unwrap_or_else(|d| panic!("{}", d.render_all()));
        gantry_pipeline::run::check_supported(&wf, &["check".to_string()], Path::new("."))
            .unwrap_or_else(|e| panic!("{uses}: {e}"));
    }
}

#[test]
fn other_actions_keep_their_lenient_inputs() {
    // actions/checkout only warns about unknown inputs, like GitHub.
    let yaml = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-dpeth: 0\n";
    workflow::load_str("w.yml", yaml).unwrap_or_else(|d| panic!("{}", d.render_all()));
}
