//! Built-in actions/cache, actions/upload-artifact and
//! actions/download-artifact end to end: real workflows through the real
//! binary, state kept in the repository's `.gantry`.

mod common;

use std::path::Path;

use common::{events, repo, run_in, run_in_env};
use serde_json::Value;

/// `step_finished` for the step named `name` (in any job).
fn finished<'a>(ev: &'a [Value], name: &str) -> &'a Value {
    ev.iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == name)
        .unwrap_or_else(|| panic!("no step_finished for {name:?} in {ev:#?}"))
}

fn output(ev: &[Value], step: &str, key: &str) -> Option<String> {
    finished(ev, step)["outputs"][key]
        .as_str()
        .map(String::from)
}

/// Every log line's text.
fn logs(ev: &[Value]) -> Vec<String> {
    ev.iter()
        .filter(|e| e["event"] == "log")
        .filter_map(|e| e["text"].as_str().map(String::from))
        .collect()
}

fn has_log(ev: &[Value], needle: &str) -> bool {
    logs(ev).iter().any(|l| l.contains(needle))
}

fn dispatch(dir: &Path, inputs: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, Vec<Value>) {
    let mut args = vec!["--json", "--event", "workflow_dispatch"];
    for i in inputs {
        args.push("--input");
        args.push(i);
    }
    let (code, out, err) = run_in_env(dir, &args, vars);
    assert!(!out.is_empty(), "no events; stderr: {err}");
    (code, events(&out))
}

const CACHE: &str = r#"
on:
  workflow_dispatch:
    inputs:
      k: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: cache
        id: c
        uses: actions/cache@v4
        with:
          path: |
            deps
            !deps/*.log
            ~/tool
          key: deps-${{ inputs.k }}
      - name: build
        if: steps.c.outputs.cache-hit != 'true'
        run: |
          mkdir -p deps ~/tool
          echo "built ${{ inputs.k }}" > deps/lib.txt
          echo noise > deps/build.log
          echo tool > ~/tool/bin
      - name: show
        run: |
          echo "hit=${{ steps.c.outputs.cache-hit }} lib=$(cat deps/lib.txt) log=$(test -e deps/build.log && echo yes || echo no) tool=$(cat ~/tool/bin)"
"#;

#[test]
fn a_cache_misses_then_hits_in_the_next_run() {
    let dir = repo(&[("ci.yml", CACHE)]);
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().to_str().unwrap();
    let (code, ev) = dispatch(dir.path(), &["k=one"], &[("HOME", home_s)]);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("false"));
    assert_eq!(
        output(&ev, "cache", "cache-primary-key").as_deref(),
        Some("deps-one")
    );
    assert_eq!(output(&ev, "cache", "cache-matched-key"), None);
    assert!(
        has_log(&ev, "Cache not found for input keys: deps-one"),
        "{:#?}",
        logs(&ev)
    );
    assert_eq!(finished(&ev, "Post cache")["conclusion"], "success");
    assert!(
        has_log(&ev, "Cache saved with key: deps-one"),
        "{:#?}",
        logs(&ev)
    );

    // The next run starts from a clean workspace and HOME: the cache brings
    // the files back (not the excluded log), and the build step is skipped.
    std::fs::remove_dir_all(home.path().join("tool")).unwrap();
    let (code, ev) = dispatch(dir.path(), &["k=one"], &[("HOME", home_s)]);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("true"));
    assert_eq!(
        output(&ev, "cache", "cache-matched-key").as_deref(),
        Some("deps-one")
    );
    assert!(
        has_log(&ev, "hit=true lib=built one log=no tool=tool"),
        "{:#?}",
        logs(&ev)
    );
    assert!(
        !ev.iter()
            .any(|e| e["event"] == "step_finished" && e["step"] == "build")
    );
    assert!(has_log(
        &ev,
        "Cache hit occurred on the primary key deps-one, not saving cache."
    ));
    let entries = std::fs::read_dir(dir.path().join(".gantry/cache/entries"))
        .unwrap()
        .count();
    assert_eq!(entries, 1);
}

#[test]
fn restore_keys_restore_the_newest_prefix_match_without_a_hit() {
    let wf = CACHE.replace(
        "          key: deps-${{ inputs.k }}\n",
        "          key: deps-${{ inputs.k }}\n          restore-keys: |\n            nothing-\n            deps-\n",
    );
    let dir = repo(&[("ci.yml", &wf)]);
    let home = tempfile::tempdir().unwrap();
    let vars = [("HOME", home.path().to_str().unwrap())];
    let (code, _) = dispatch(dir.path(), &["k=a"], &vars);
    assert_eq!(code, Some(0));
    // A prefix match restores but is not a hit: the build runs and the post
    // step saves under the new key.
    let (code, ev) = dispatch(dir.path(), &["k=b"], &vars);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("false"));
    assert_eq!(
        output(&ev, "cache", "cache-matched-key").as_deref(),
        Some("deps-a")
    );
    assert!(
        has_log(&ev, "Cache restored from key: deps-a"),
        "{:#?}",
        logs(&ev)
    );
    assert!(has_log(&ev, "hit=false lib=built b"), "{:#?}", logs(&ev));
    assert!(has_log(&ev, "Cache saved with key: deps-b"));
    // Two entries match `deps-`: the newest (deps-b) wins.
    let (code, ev) = dispatch(dir.path(), &["k=c"], &vars);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert_eq!(
        output(&ev, "cache", "cache-matched-key").as_deref(),
        Some("deps-b")
    );
}

#[test]
fn fail_on_cache_miss_fails_the_step_and_saves_nothing() {
    let wf = CACHE.replace(
        "          key: deps-${{ inputs.k }}\n",
        "          key: deps-${{ inputs.k }}\n          fail-on-cache-miss: true\n",
    );
    let dir = repo(&[("ci.yml", &wf)]);
    let home = tempfile::tempdir().unwrap();
    let (code, ev) = dispatch(
        dir.path(),
        &["k=x"],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(code, Some(1), "{ev:#?}");
    assert_eq!(finished(&ev, "cache")["conclusion"], "failure");
    assert!(
        has_log(&ev, "fail-on-cache-miss is set. Input key: deps-x"),
        "{:#?}",
        logs(&ev)
    );
    assert!(!dir.path().join(".gantry/cache/entries").exists());
}

#[test]
fn a_failed_job_saves_no_cache() {
    let wf = format!("{CACHE}      - name: fail\n        run: exit 1\n");
    let dir = repo(&[("ci.yml", &wf)]);
    let home = tempfile::tempdir().unwrap();
    let (code, ev) = dispatch(
        dir.path(),
        &["k=x"],
        &[("HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(code, Some(1));
    assert!(
        !ev.iter()
            .any(|e| e["event"] == "step_finished" && e["step"] == "Post cache")
    );
    assert!(!dir.path().join(".gantry/cache/entries").exists());
}

#[test]
fn least_recently_used_entries_are_evicted_over_the_cap() {
    let wf = r#"
on:
  workflow_dispatch:
    inputs:
      k: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: cache
        id: c
        uses: actions/cache@v4
        with:
          path: blob
          key: blob-${{ inputs.k }}
      - if: steps.c.outputs.cache-hit != 'true'
        run: head -c 1000 /dev/zero > blob
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let cap = [("GANTRY_CACHE_MAX_BYTES", "2500")];
    for k in ["k=a", "k=b"] {
        let (code, ev) = dispatch(dir.path(), &[k], &cap);
        assert_eq!(code, Some(0), "{ev:#?}");
    }
    // Touch a: now b is the least recently used.
    let (_, ev) = dispatch(dir.path(), &["k=a"], &cap);
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("true"));
    let (_, ev) = dispatch(dir.path(), &["k=c"], &cap);
    assert!(
        has_log(&ev, "Cache saved with key: blob-c"),
        "{:#?}",
        logs(&ev)
    );
    assert!(
        has_log(&ev, "Evicted cache entry blob-b"),
        "{:#?}",
        logs(&ev)
    );
    // b is gone; saving it again evicts the next least recently used, a.
    let (_, ev) = dispatch(dir.path(), &["k=b"], &cap);
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("false"));
    assert!(
        has_log(&ev, "Evicted cache entry blob-a"),
        "{:#?}",
        logs(&ev)
    );
    let (_, ev) = dispatch(dir.path(), &["k=c"], &cap);
    assert_eq!(output(&ev, "cache", "cache-hit").as_deref(), Some("true"));
    // An entry larger than the whole cap is not saved.
    let (_, ev) = dispatch(dir.path(), &["k=big"], &[("GANTRY_CACHE_MAX_BYTES", "10")]);
    assert!(
        has_log(&ev, "over the 10 byte limit, not saving cache"),
        "{:#?}",
        logs(&ev)
    );
}

const ARTIFACTS: &str = r#"
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p out/bin out/doc out/.secret
          echo app > out/bin/app
          echo readme > out/doc/README
          echo key > out/.secret/key
          echo single > report.txt
      - name: upload dir
        id: up
        uses: actions/upload-artifact@v4
        with:
          name: build
          path: |
            out/bin
            out/doc
          retention-days: 5
      - name: upload file
        uses: actions/upload-artifact@v4
        with:
          name: report
          path: report.txt
  B:
    needs: A
    runs-on: ubuntu-latest
    steps:
      - name: download
        id: down
        uses: actions/download-artifact@v4
        with:
          name: build
          path: got
      - run: find got -type f | sort | sed 's/^/file /'
      - run: echo "path=${{ steps.down.outputs.download-path }}"
      - name: download report
        uses: actions/download-artifact@v4
        with:
          name: report
      - run: echo "report=$(cat report.txt)"
"#;

#[test]
fn an_artifact_uploaded_in_one_job_downloads_in_the_next() {
    let dir = repo(&[("ci.yml", ARTIFACTS)]);
    let (code, out, err) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    let id = output(&ev, "upload dir", "artifact-id").unwrap();
    assert!(id.parse::<u64>().is_ok(), "{id}");
    let digest = output(&ev, "upload dir", "artifact-digest").unwrap();
    assert_eq!(digest.len(), 64);
    let url = output(&ev, "upload dir", "artifact-url").unwrap();
    let stored = Path::new(url.strip_prefix("file://").unwrap());
    assert!(
        stored.starts_with(dir.path().join(".gantry/artifacts")),
        "{url}"
    );
    assert!(stored.ends_with("build"));
    // Two search paths: relative to their common ancestor `out`; hidden
    // files stay out unless include-hidden-files.
    let files: Vec<String> = logs(&ev)
        .iter()
        .filter_map(|l| l.strip_prefix("file ").map(String::from))
        .collect();
    assert_eq!(files, ["got/bin/app", "got/doc/README"]);
    let got = ev
        .iter()
        .find(|e| e["event"] == "log" && e["text"].as_str().is_some_and(|t| t.starts_with("path=")))
        .unwrap();
    assert!(got["text"].as_str().unwrap().ends_with("/got"), "{got}");
    assert_eq!(got["job"], "B");
    // A lone file uploads as just that file.
    assert!(has_log(&ev, "report=single"), "{:#?}", logs(&ev));
}

#[test]
fn if_no_files_found_warns_by_default_and_fails_on_error() {
    let wf = r#"
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps:
      - name: warn
        id: w
        uses: actions/upload-artifact@v4
        with:
          path: nothing/here
      - run: echo "id=[${{ steps.w.outputs.artifact-id }}]"
      - name: ignore
        uses: actions/upload-artifact@v4
        with:
          path: nothing/here
          if-no-files-found: ignore
      - name: error
        uses: actions/upload-artifact@v4
        with:
          path: nothing/here
          if-no-files-found: error
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, _) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(1));
    let ev = events(&out);
    assert_eq!(finished(&ev, "warn")["conclusion"], "success");
    assert!(ev.iter().any(|e| e["kind"] == "err"
        && e["text"].as_str().is_some_and(|t| {
            t.starts_with("warning: No files were found with the provided path: nothing/here")
        })));
    assert!(has_log(&ev, "id=[]"));
    assert_eq!(finished(&ev, "ignore")["conclusion"], "success");
    assert_eq!(finished(&ev, "error")["conclusion"], "failure");
    assert!(
        has_log(&ev, "error: actions/upload-artifact: No files were found"),
        "{:#?}",
        logs(&ev)
    );
}

#[test]
fn uploading_an_existing_name_is_refused_unless_overwrite() {
    let wf = r#"
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps:
      - run: echo one > f.txt
      - name: first
        uses: actions/upload-artifact@v4
        with: { name: same, path: f.txt }
      - run: echo two > f.txt
      - name: again
        continue-on-error: true
        uses: actions/upload-artifact@v4
        with: { name: same, path: f.txt }
      - name: replace
        uses: actions/upload-artifact@v4
        with: { name: same, path: f.txt, overwrite: true }
      - name: escape
        continue-on-error: true
        uses: actions/upload-artifact@v4
        with: { name: "..", path: f.txt }
  B:
    needs: A
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with: { name: same }
      - run: echo "got=$(cat f.txt)"
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, err) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    assert_eq!(finished(&ev, "again")["outcome"], "failure");
    assert!(
        has_log(&ev, "an artifact named `same` already exists in this run"),
        "{:#?}",
        logs(&ev)
    );
    assert_eq!(finished(&ev, "replace")["outcome"], "success");
    assert_eq!(finished(&ev, "escape")["outcome"], "failure");
    assert!(has_log(&ev, "artifact name `..` is not valid"));
    assert!(has_log(&ev, "got=two"), "{:#?}", logs(&ev));
}

#[test]
fn download_without_a_name_takes_all_or_a_pattern_merged() {
    let wf = r#"
on: push
jobs:
  up:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: echo "leg ${{ matrix.n }}" > "part-${{ matrix.n }}.txt"
      - uses: actions/upload-artifact@v4
        with:
          name: part-${{ matrix.n }}
          path: part-${{ matrix.n }}.txt
      - uses: actions/upload-artifact@v4
        if: matrix.n == 1
        with: { name: other, path: part-1.txt }
  down:
    needs: up
    runs-on: ubuntu-latest
    steps:
      - name: all
        uses: actions/download-artifact@v4
        with: { path: all }
      - name: merged
        uses: actions/download-artifact@v4
        with: { path: merged, pattern: "part-*", merge-multiple: true }
      - run: find all merged -type f | sort | sed 's/^/file /'
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, err) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    let files: Vec<String> = logs(&ev)
        .iter()
        .filter_map(|l| l.strip_prefix("file ").map(String::from))
        .collect();
    assert_eq!(
        files,
        [
            "all/other/part-1.txt",
            "all/part-1/part-1.txt",
            "all/part-2/part-2.txt",
            "merged/part-1.txt",
            "merged/part-2.txt",
        ]
    );
    assert!(has_log(&ev, "Total of 3 artifact(s) downloaded"));
    assert!(has_log(&ev, "Total of 2 artifact(s) downloaded"));
}

#[test]
fn a_missing_artifact_fails_naming_it_and_those_available() {
    let wf = r#"
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps:
      - run: echo x > x.txt
      - uses: actions/upload-artifact@v4
        with: { name: present, path: x.txt }
      - name: fetch
        uses: actions/download-artifact@v4
        with: { name: absent }
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, _) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(1));
    let ev = events(&out);
    assert_eq!(finished(&ev, "fetch")["conclusion"], "failure");
    assert!(
        has_log(&ev, "artifact not found for name: absent") && has_log(&ev, "available: present"),
        "{:#?}",
        logs(&ev)
    );
}

#[test]
fn another_runs_artifacts_download_by_run_id_and_expired_ones_are_deleted() {
    let wf = r#"
on:
  workflow_dispatch:
    inputs:
      from: { default: "" }
jobs:
  A:
    runs-on: ubuntu-latest
    steps:
      - run: echo "made in ${{ github.run_id }}" > x.txt
      - name: upload
        if: inputs.from == ''
        uses: actions/upload-artifact@v4
        with: { name: keep, path: x.txt }
      - name: fetch
        if: inputs.from != ''
        uses: actions/download-artifact@v4
        with: { name: keep, path: fetched, run-id: "${{ inputs.from }}", github-token: unused }
      - if: inputs.from != ''
        run: echo "fetched=$(cat fetched/x.txt)"
"#;
    let dir = repo(&[("ci.yml", wf)]);
    // A stale artifact of an older run, past its retention.
    let stale = dir.path().join(".gantry/artifacts/old-run/gone");
    std::fs::create_dir_all(stale.join("files")).unwrap();
    std::fs::write(
        stale.join("artifact.json"),
        r#"{"name":"gone","id":1,"run_id":"old-run","digest":"","size":0,"files":0,"created_ms":0,"retention_days":1,"expires_ms":86400000}"#,
    )
    .unwrap();
    let (code, ev) = dispatch(dir.path(), &[], &[]);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert!(!dir.path().join(".gantry/artifacts/old-run").exists());
    assert!(
        has_log(&ev, "Deleted 1 expired artifact(s)"),
        "{:#?}",
        logs(&ev)
    );
    let url = output(&ev, "upload", "artifact-url").unwrap();
    let run_id = Path::new(&url)
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    let from = format!("from={run_id}");
    let (code, ev) = dispatch(dir.path(), &[&from], &[]);
    assert_eq!(code, Some(0), "{ev:#?}");
    assert!(
        has_log(&ev, &format!("fetched=made in {run_id}")),
        "{:#?}",
        logs(&ev)
    );
    let (code, ev) = dispatch(dir.path(), &["from=../escape"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        has_log(&ev, "`run-id: ../escape` is not a run id"),
        "{:#?}",
        logs(&ev)
    );
}

#[test]
fn legs_saving_one_key_at_once_leave_one_whole_entry() {
    let wf = r#"
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2, 3, 4]
    steps:
      - name: cache
        uses: actions/cache@v4
        with: { path: out, key: shared }
      - run: |
          mkdir -p out
          for i in 1 2 3 4 5 6 7 8; do echo "leg ${{ matrix.n }}" > "out/f$i"; done
  check:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - name: cache
        uses: actions/cache@v4
        with: { path: out, key: shared }
      - run: cat out/f* | sort -u | wc -l | sed 's/^/distinct /'
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let (code, out, err) = run_in(dir.path(), &["--json", "--parallel", "4"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    let saved = logs(&ev)
        .iter()
        .filter(|l| l.contains("Cache saved with key: shared"))
        .count();
    assert_eq!(saved, 1, "{:#?}", logs(&ev));
    // Every file of the restored entry comes from the same leg.
    assert!(has_log(&ev, "distinct 1"), "{:#?}", logs(&ev));
    assert_eq!(
        std::fs::read_dir(dir.path().join(".gantry/cache/entries"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn a_cache_inside_a_composite_action_is_saved_after_the_job() {
    let wf = r#"
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: warm
        uses: ./.github/actions/warm
      - run: ls deps/ready
"#;
    let action = r#"
runs:
  using: composite
  steps:
    - uses: actions/cache@v4
      with:
        path: deps
        key: deps-v1
    - shell: bash
      run: mkdir -p deps && touch deps/ready
"#;
    let dir = repo(&[("ci.yml", wf)]);
    let p = dir.path().join(".github/actions/warm/action.yml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, action).unwrap();
    let ok = std::process::Command::new("sh")
        .args([
            "-c",
            "git add -A && git -c user.name=t -c user.email=t@e commit -qm action",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(ok.success());
    let (code, out, err) = run_in(dir.path(), &["--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let ev = events(&out);
    // The composite's cache step left a post step that saved the entry.
    assert!(has_log(&ev, "Cache saved"), "{:#?}", logs(&ev));
    let entries = std::fs::read_dir(dir.path().join(".gantry/cache/entries"))
        .unwrap()
        .count();
    assert_eq!(entries, 1);
}
