//! `gantry run` end to end: real workflows, real shells, the real binary.

mod common;

use std::path::Path;

use common::{events, gantry, repo, run_in};
use serde_json::Value;

const PIPELINE: &str = r#"
name: CI
on: [push, workflow_dispatch]
env:
  GREETING: hello
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - uses: actions/checkout@v4
      - id: v
        run: |
          echo "version=1.2.${{ github.run_number }}" >> "$GITHUB_OUTPUT"
          cat README.md
      - name: multi-line output
        id: notes
        run: |
          {
            echo "text<<EOF"
            echo "line one"
            echo "line two"
            echo "EOF"
          } >> "$GITHUB_OUTPUT"
      - run: test "${{ steps.notes.outputs.text }}" = "$(printf 'line one\nline two')"
  test:
    needs: build
    runs-on: ${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, windows-latest]
        n: [1, 2]
        include:
          - os: ubuntu-latest
            extra: yes
    steps:
      - run: echo "leg ${{ matrix.n }} ${{ matrix.os }} ${{ matrix.extra }} v=${{ needs.build.outputs.version }} $GREETING"
      - run: exit 3
        if: matrix.n == 2
        continue-on-error: true
"#;

#[test]
fn a_pipeline_runs_with_needs_outputs_matrix_and_checkout() {
    let dir = repo(&[("ci.yml", PIPELINE)]);
    let (code, out, err) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    let logs: Vec<String> = ev
        .iter()
        .filter(|e| e["event"] == "log")
        .map(|e| {
            format!(
                "{} {}",
                e["job"].as_str().unwrap(),
                e["text"].as_str().unwrap_or("")
            )
        })
        .collect();
    // checkout brought the committed README into the workspace.
    assert!(
        logs.contains(&"build committed content".to_string()),
        "{logs:#?}"
    );
    for expect in [
        "test leg 1 ubuntu-latest yes v=1.2.1 hello",
        "test leg 2 ubuntu-latest yes v=1.2.1 hello",
    ] {
        assert!(
            logs.iter().any(|l| l == expect),
            "missing {expect:?} in {logs:#?}"
        );
    }
    let legs: Vec<(String, Value, String)> = ev
        .iter()
        .filter(|e| e["event"] == "leg_finished")
        .map(|e| {
            (
                e["job"].as_str().unwrap().to_string(),
                e["leg"].clone(),
                e["conclusion"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(legs.len(), 5, "{legs:?}");
    assert!(legs.contains(&("build".into(), Value::Null, "success".into())));
    assert!(legs.contains(&(
        "test".into(),
        "(windows-latest, 1)".into(),
        "skipped".into()
    )));
    assert!(
        legs.contains(&(
            "test".into(),
            "(ubuntu-latest, 2, yes)".into(),
            "success".into()
        )),
        "{legs:?}"
    );
    // continue-on-error: outcome failure, conclusion success.
    let coe = ev
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "Run exit 3")
        .expect("the exit 3 step ran");
    assert_eq!(
        (coe["outcome"].as_str(), coe["conclusion"].as_str()),
        (Some("failure"), Some("success"))
    );
}

#[test]
fn failures_skip_dependents_unless_always_and_exit_1() {
    let wf = r#"
on: push
jobs:
  fails:
    runs-on: ubuntu-latest
    steps:
      - run: echo about to fail; exit 1
      - run: echo never runs
      - if: failure()
        run: echo cleanup after failure
  dependent:
    needs: fails
    runs-on: ubuntu-latest
    steps:
      - run: echo should not run
  reporter:
    needs: [fails, dependent]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "fails=${{ needs.fails.result }} dependent=${{ needs.dependent.result }}"
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, _) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("fails | cleanup after failure"), "{out}");
    assert!(!out.contains("never runs\n"), "{out}");
    assert!(!out.contains("should not run\n"), "{out}");
    assert!(
        out.contains("reporter | fails=failure dependent=skipped"),
        "{out}"
    );
    let summary = out.split("\njob ").nth(1).expect("summary table");
    assert!(
        summary.contains("fails") && summary.contains("failure"),
        "{summary}"
    );
}

#[test]
fn secrets_are_masked_and_untrusted_values_cannot_inject() {
    let wf = r#"
on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "token is ${{ secrets.API_TOKEN }}"
      - env:
          TITLE: ${{ github.event.inputs.title }}
        run: echo "title is $TITLE"
    "#;
    let dir = repo(&[("ci.yml", wf)]);
    let marker = dir.path().join("pwned");
    let hostile = format!("\"; touch {}; echo \"", marker.display());
    let wf_with_input = wf.replace(
        "on: workflow_dispatch",
        "on:\n  workflow_dispatch:\n    inputs:\n      title: {}",
    );
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), wf_with_input).unwrap();
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "--event",
            "workflow_dispatch",
            "--input",
            &format!("title={hostile}"),
            "--secret",
            "API_TOKEN=s3cr3t-value",
        ],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("token is ***"), "{out}");
    assert!(!out.contains("s3cr3t-value"));
    assert!(out.contains("title is \"; touch"), "{out}");
    assert!(!marker.exists(), "an input value ran as shell code");
}

#[test]
fn list_and_bad_input_exit_2_without_running() {
    let dir = repo(&[("ci.yml", PIPELINE)]);
    let (code, out, _) = run_in(dir.path(), &["--list"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("test (ubuntu-latest, 1, yes)  (needs build)"),
        "{out}"
    );
    assert!(out.contains("test (windows-latest, 2)"), "{out}");

    let (code, _, err) = run_in(dir.path(), &["nope"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no workflow \"nope\""), "{err}");
    let (code, _, err) = run_in(dir.path(), &["--input", "x=1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no workflow_dispatch inputs") || err.contains("no such input"),
        "{err}"
    );

    let unknown_action = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-node@v4\n";
    let dir2 = repo(&[("ci.yml", unknown_action)]);
    let (code, out, err) = run_in(dir2.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "nothing ran: {out}");
    assert!(
        err.contains("actions/setup-node@v4") && err.contains("built in: actions/checkout"),
        "{err}"
    );

    let broken = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    needs: missing\n    steps:\n      - run: echo hi\n";
    let dir3 = repo(&[("ci.yml", broken)]);
    let (code, out, err) = run_in(dir3.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("ci.yml:5:"), "{err}");
}

#[test]
fn job_filter_and_matrix_filter() {
    let dir = repo(&[("ci.yml", PIPELINE)]);
    let (code, out, _) = run_in(dir.path(), &["-j", "test", "--matrix", "n=1", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let ev = events(&out);
    let legs: Vec<String> = ev
        .iter()
        .filter(|e| e["event"] == "leg_finished")
        .map(|e| {
            format!(
                "{} {}",
                e["job"].as_str().unwrap(),
                e["leg"].as_str().unwrap_or("-")
            )
        })
        .collect();
    // The job it needs runs too; only n=1 legs.
    assert_eq!(legs.len(), 3, "{legs:?}");
    assert!(legs.contains(&"build -".to_string()));
    assert!(legs.iter().all(|l| !l.contains(", 2")), "{legs:?}");
}

#[test]
fn the_demo_pipeline_runs() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo");
    let out = gantry().args(["run", "-C"]).arg(&demo).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("release | releasing gantry-demo 1.0.1"),
        "{stdout}"
    );
    assert!(stdout.contains("### integration tests passed"), "{stdout}");
    for leg in [
        "build    -",
        "test     (unit)",
        "test     (integration, true)",
        "release  -",
    ] {
        assert!(stdout.contains(leg), "summary row {leg:?} in {stdout}");
    }
}

#[test]
fn runs_are_recorded_in_the_event_log() {
    let dir = repo(&[(
        "ci.yml",
        "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi ${{ secrets.S }}\n",
    )]);
    let data = dir.path().join(".gantry");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A data dir with a store: the run appends its events there.
    rt.block_on(async {
        let s = gantry_store::SqliteStore::open(&data.join("gantry.db"))
            .await
            .unwrap();
        gantry_store::Store::close(&s).await;
    });
    let (code, _, _) = run_in(dir.path(), &["--secret", "S=hush-hush"]);
    assert_eq!(code, Some(0));
    let events = rt.block_on(async {
        let s = gantry_store::SqliteStore::open(&data.join("gantry.db"))
            .await
            .unwrap();
        let events = gantry_store::EventLog::list(&s, &Default::default())
            .await
            .unwrap();
        gantry_store::Store::close(&s).await;
        events
    });
    let kinds: Vec<String> = events.iter().map(|e| e.kind.to_string()).collect();
    let job = events
        .iter()
        .find(|e| e.kind.as_str() == "pipeline.job.finished")
        .unwrap();
    assert_eq!(
        job.data["log"],
        serde_json::json!(["hi ***"]),
        "the stored log is masked"
    );
    assert!(
        !serde_json::to_string(&events.iter().map(|e| &e.data).collect::<Vec<_>>())
            .unwrap()
            .contains("hush-hush")
    );
    assert_eq!(
        kinds,
        [
            "pipeline.run.started",
            "pipeline.step.finished",
            "pipeline.job.finished",
            "pipeline.run.finished"
        ]
    );
}

#[test]
fn fail_fast_cancels_running_siblings() {
    let wf = r#"
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        kind: [quick-fail, slow]
    steps:
      - run: |
          if [ "${{ matrix.kind }}" = quick-fail ]; then sleep 0.5; exit 1; fi
          sleep 60
          echo slow finished
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, _) = run_in(dir.path(), &["--parallel", "2", "--json"]);
    assert_eq!(code, Some(1));
    let ev = events(&out);
    let conclusion = |leg: &str| {
        ev.iter()
            .find(|e| e["event"] == "leg_finished" && e["leg"] == leg)
            .map(|e| e["conclusion"].as_str().unwrap().to_string())
    };
    assert_eq!(conclusion("(quick-fail)").as_deref(), Some("failure"));
    assert_eq!(conclusion("(slow)").as_deref(), Some("cancelled"), "{out}");
    assert!(!out.contains("slow finished"));
}

#[test]
fn a_matrix_can_come_from_a_job_output() {
    let wf = r#"
on: push
jobs:
  plan:
    runs-on: ubuntu-latest
    outputs:
      targets: ${{ steps.t.outputs.targets }}
    steps:
      - id: t
        run: echo 'targets=["api","web","worker"]' >> "$GITHUB_OUTPUT"
  deploy:
    needs: plan
    runs-on: ubuntu-latest
    strategy:
      matrix:
        target: ${{ fromJSON(needs.plan.outputs.targets) }}
    steps:
      - run: echo "deploying ${{ matrix.target }}"
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, err) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    for t in ["api", "web", "worker"] {
        assert!(
            out.contains(&format!("deploy ({t}) | deploying {t}")),
            "{out}"
        );
    }
}

#[test]
fn local_composite_actions_run_with_inputs_and_outputs() {
    let wf = r#"
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: greet
        uses: ./.github/actions/greet
        with:
          who: world
      - run: echo "got ${{ steps.greet.outputs.greeting }}"
"#;
    let action = r#"
name: greet
description: says hello
inputs:
  who:
    description: whom to greet
    required: true
  punctuation:
    description: the end
    default: "!"
outputs:
  greeting:
    description: what was said
    value: ${{ steps.say.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        echo "hello ${{ inputs.who }}${{ inputs.punctuation }}"
        echo "text=hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    - uses: ./.github/actions/inner
"#;
    let inner = "runs:\n  using: composite\n  steps:\n    - run: echo inner ran\n      shell: sh\n";
    let dir = repo(&[("ci.yml", wf)]);
    for (path, text) in [
        (".github/actions/greet/action.yml", action),
        (".github/actions/inner/action.yaml", inner),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let commit = std::process::Command::new("sh")
        .args([
            "-c",
            "git add -A && git -c user.name=t -c user.email=t@e commit -qm actions",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(commit.success());
    let (code, out, err) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("j | hello world!"), "{out}");
    assert!(out.contains("j | inner ran"), "{out}");
    assert!(out.contains("j | got hello world"), "{out}");

    // A missing local action is refused before anything runs.
    let missing = wf.replace("./.github/actions/greet", "./.github/actions/nope");
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), missing).unwrap();
    let (code, out, err) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("ci.yml:9:15") && err.contains("no action.yml"),
        "{err}"
    );
}

#[test]
fn map_label_runs_other_labels_here() {
    let wf = "on: push\njobs:\n  mac:\n    runs-on: macos-latest\n    steps:\n      - run: echo on the mac\n";
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, _) = run_in(dir.path(), &[]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("is not this machine") && !out.contains("mac | on the mac"),
        "{out}"
    );
    let (code, out, _) = run_in(dir.path(), &["--map-label", "macos-latest=host"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("mac | on the mac"), "{out}");
    let (code, _, err) = run_in(dir.path(), &["--map-label", "macos-latest=docker"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown executor `docker`"), "{err}");
}
