//! Workflow loading and checking.
//!
//! Golden tests over `tests/workflows/`:
//! - every `*.bad.yml` must fail to load, and its rendered diagnostics must
//!   equal the sibling `*.expected` file byte for byte;
//! - every `*.good.yml` must load with no diagnostics.
//!
//! To accept new output after reviewing it, run with `GANTRY_BLESS=1`, which
//! rewrites the `.expected` files:
//! `GANTRY_BLESS=1 cargo test -p gantry-pipeline --test workflow`

use std::fs;
use std::path::{Path, PathBuf};

use gantry_config::testing;
use gantry_pipeline::workflow::{
    Access, BoolOrExpr, CallSecrets, InputType, Leg, MAX_LEGS, Matrix, NumberOrExpr, Permissions,
    StepAction, Workflow, expand_matrix, load_dir, load_file, load_str,
};
use serde_json::{Value, json};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workflows")
}

fn cases(suffix: &str) -> Vec<PathBuf> {
    testing::cases(&cases_dir(), suffix)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn bad_cases_render_the_expected_diagnostics() {
    testing::check_golden(&cases_dir(), 20, |name, text| {
        load_str(name, text).map(|loaded| format!("{loaded:?}"))
    });
}

#[test]
fn good_cases_load_without_diagnostics() {
    let good = cases(".good.yml");
    assert!(good.len() >= 8, "expected at least 8 good cases");
    for path in good {
        let name = file_name(&path);
        if let Err(diags) = load_file(&path, &name) {
            panic!("{name} should load:\n{}", diags.render_all());
        }
    }
}

fn good(name: &str) -> Workflow {
    let path = cases_dir().join(name);
    load_file(&path, name).unwrap_or_else(|d| panic!("{name}:\n{}", d.render_all()))
}

#[test]
fn ci_matrix_values() {
    let wf = good("ci-matrix.good.yml");
    assert_eq!(wf.file, "ci-matrix.good.yml");
    assert_eq!(wf.name.as_ref().map(|n| n.value.as_str()), Some("CI"));
    let push = wf.on.push.as_ref().expect("push");
    assert_eq!(push.branches, ["main", "release/**"]);
    assert_eq!(push.paths_ignore, ["docs/**"]);
    assert_eq!(
        wf.on.pull_request.as_ref().map(|p| p.types.clone()),
        Some(vec!["opened".to_string(), "synchronize".to_string()])
    );
    let env: Vec<(&str, &str)> = wf
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        env,
        [("CARGO_TERM_COLOR", "always"), ("RUST_BACKTRACE", "1")]
    );
    assert_eq!(
        wf.defaults.run.shell.as_ref().map(|s| s.value.as_str()),
        Some("bash")
    );
    let job = wf.job("test").expect("job test");
    assert_eq!((job.span.line, job.span.col), (16, 3));
    assert_eq!(job.timeout_minutes, Some(NumberOrExpr::Number(30.0)));
    let strategy = job.strategy.as_ref().expect("strategy");
    assert_eq!(strategy.fail_fast, Some(BoolOrExpr::Bool(false)));
    assert_eq!(strategy.max_parallel, Some(NumberOrExpr::Number(4.0)));
    let legs = expand_matrix(strategy.matrix.as_ref().expect("matrix")).expect("expands");
    let names: Vec<&str> = legs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "(ubuntu-latest, 18)",
            "(ubuntu-latest, 20, true)",
            "(macos-latest, 20)"
        ]
    );
    assert_eq!(job.steps.len(), 3);
    assert_eq!(job.steps[0].uses(), Some("actions/checkout@v4"));
    assert_eq!(job.steps[1].run(), Some("npm ci\nnpm run build\n"));
    let cond = job.steps[2].condition.as_ref().expect("if");
    assert_eq!(cond.value, "${{ matrix.coverage }}");
    assert_eq!((cond.span.line, cond.span.col), (40, 13));
}

#[test]
fn dispatch_inputs_values() {
    let wf = good("dispatch-inputs.good.yml");
    let dispatch = wf.on.workflow_dispatch.as_ref().expect("dispatch");
    let names: Vec<&str> = dispatch.inputs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["target", "dry-run", "replicas", "notes"]);
    let target = &dispatch.inputs[0].1;
    assert_eq!(target.ty, InputType::Choice);
    assert!(target.required);
    assert_eq!(target.options, ["staging", "production"]);
    assert_eq!(target.default, Some(json!("staging")));
    assert_eq!(dispatch.inputs[1].1.ty, InputType::Boolean);
    assert_eq!(dispatch.inputs[1].1.default, Some(json!(false)));
    assert_eq!(dispatch.inputs[2].1.default, Some(json!(3)));
    assert_eq!(dispatch.inputs[3].1.ty, InputType::String);
    let env = wf.jobs[0].1.environment.as_ref().expect("environment");
    assert_eq!(env.name.value, "${{ inputs.target }}");
    assert!(env.url.is_some());
}

#[test]
fn needs_chain_values() {
    let wf = good("needs-outputs.good.yml");
    let ids: Vec<&str> = wf.jobs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["version", "build", "package", "publish"]);
    let needs: Vec<&str> = wf.jobs[2]
        .1
        .needs
        .iter()
        .map(|n| n.value.as_str())
        .collect();
    assert_eq!(needs, ["version", "build"]);
    assert_eq!(wf.jobs[0].1.outputs[0].0, "tag");
    let publish = &wf.jobs[3].1;
    let runs_on = publish.runs_on.as_ref().expect("runs-on");
    assert_eq!(runs_on.group.as_deref(), Some("releasers"));
    assert_eq!(runs_on.labels, ["linux"]);
    assert_eq!(
        publish.condition.as_ref().map(|c| c.value.as_str()),
        Some("github.ref == 'refs/heads/main' && success()")
    );
    assert_eq!(
        wf.jobs[2].1.runs_on.as_ref().map(|r| r.labels.len()),
        Some(2)
    );
}

#[test]
fn reusable_call_values() {
    let wf = good("reusable-call.good.yml");
    let checks = wf.job("checks").expect("checks");
    assert!(checks.is_workflow_call());
    assert_eq!(checks.secrets, Some(CallSecrets::Inherit));
    let with: Vec<(&str, &Value)> = checks
        .with
        .iter()
        .map(|(k, v)| (k.as_str(), &v.value))
        .collect();
    assert_eq!(with, [("strict", &json!(true)), ("level", &json!(3))]);
    let release = wf.job("release").expect("release");
    assert_eq!(
        release.permissions,
        Permissions::Scopes(vec![("contents".to_string(), Access::Write)])
    );
    assert!(matches!(release.secrets, Some(CallSecrets::Map(ref m)) if m.len() == 1));
}

#[test]
fn schedule_concurrency_permissions_values() {
    let wf = good("schedule.good.yml");
    let crons: Vec<&str> = wf.on.schedule.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(crons, ["30 2 * * *", "0 */6 * * MON-FRI"]);
    assert!(wf.on.has("workflow_dispatch") && wf.on.has("schedule") && !wf.on.has("push"));
    assert_eq!(wf.jobs[0].1.continue_on_error, Some(BoolOrExpr::Bool(true)));
    assert!(matches!(
        wf.jobs[0].1.steps[0].continue_on_error,
        Some(BoolOrExpr::Expr(_))
    ));

    let wf = good("concurrency-permissions.good.yml");
    assert!(wf.on.has("push") && wf.on.has("pull_request"));
    let c = wf.concurrency.as_ref().expect("concurrency");
    assert_eq!(c.group.value, "${{ github.workflow }}-${{ github.ref }}");
    assert_eq!(c.cancel_in_progress, Some(BoolOrExpr::Bool(true)));
    assert_eq!(
        wf.permissions,
        Permissions::Scopes(vec![
            ("contents".to_string(), Access::Read),
            ("pull-requests".to_string(), Access::Write),
            ("id-token".to_string(), Access::None),
        ])
    );
    assert_eq!(wf.jobs[0].1.permissions, Permissions::ReadAll);
    assert_eq!(wf.jobs[1].1.permissions, Permissions::Scopes(vec![]));
    assert_eq!(
        wf.jobs[0]
            .1
            .concurrency
            .as_ref()
            .map(|c| c.group.value.as_str()),
        Some("lint-${{ github.ref }}")
    );
    assert_eq!(wf.jobs[0].1.steps[0].with[0].0, "fetch-depth");
}

#[test]
fn services_container_and_other_events() {
    let wf = good("environment-services.good.yml");
    let job = &wf.jobs[0].1;
    assert_eq!(job.services[0].0, "postgres");
    assert_eq!(job.services[0].1["image"], json!("postgres:16"));
    assert_eq!(
        job.container.as_ref().map(|c| c["env"]["CI"].clone()),
        Some(json!(true))
    );
    assert!(matches!(
        wf.jobs[1].1.timeout_minutes,
        Some(NumberOrExpr::Expr(_))
    ));
    assert_eq!(
        wf.jobs[1]
            .1
            .environment
            .as_ref()
            .map(|e| e.name.value.as_str()),
        Some("production")
    );

    let wf = good("workflow-call.good.yml");
    let call = wf.on.workflow_call.as_ref().expect("workflow_call");
    assert_eq!(call.inputs[1].1.ty, InputType::Number);
    assert!(call.inputs[1].1.required);
    assert_eq!(call.outputs[0].0, "report");
    assert!(wf.on.has("issues") && wf.on.has("release"));
    assert_eq!(wf.on.other[0].types, ["opened"]);

    let wf = good("dynamic-matrix.good.yml");
    let m = wf.jobs[1]
        .1
        .strategy
        .as_ref()
        .and_then(|s| s.matrix.as_ref());
    let m = m.expect("matrix");
    assert!(m.expression.is_some() && m.is_dynamic());
    assert!(expand_matrix(m).is_err());
    let m = wf.jobs[2]
        .1
        .strategy
        .as_ref()
        .and_then(|s| s.matrix.as_ref());
    assert_eq!(m.map(|m| m.dynamic.len()), Some(1));
}

#[test]
fn step_actions() {
    let wf = load_str(
        "s.yml",
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: a\n      - uses: ./local\n",
    )
    .expect("loads");
    let steps = &wf.jobs[0].1.steps;
    assert!(matches!(&steps[0].action, StepAction::Run(s) if s.value == "a"));
    assert!(matches!(&steps[1].action, StepAction::Uses(s) if s.value == "./local"));
    assert_eq!((steps[1].span.line, steps[1].span.col), (7, 9));
}

// ---------------------------------------------------------------- matrix

/// The matrix of the only job of a workflow whose `strategy.matrix` is
/// `yaml` (indented under `matrix:`).
fn matrix(yaml: &str) -> Matrix {
    let indented: String = yaml.lines().map(|l| format!("        {l}\n")).collect();
    let text = format!(
        "on: push\njobs:\n  j:\n    runs-on: x\n    strategy:\n      matrix:\n{indented}    steps:\n      - run: x\n"
    );
    let (wf, _) = gantry_pipeline::workflow::parse_unchecked("m.yml", &text);
    wf.jobs
        .first()
        .and_then(|(_, j)| j.strategy.clone())
        .and_then(|s| s.matrix)
        .unwrap_or_else(|| panic!("no matrix in\n{text}"))
}

fn legs(yaml: &str) -> Vec<Value> {
    expand_matrix(&matrix(yaml))
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(Leg::to_json)
        .collect()
}

#[test]
fn documented_single_and_multi_dimension() {
    // "Using a multi-dimension matrix": version varies slowest.
    let got = legs("version: [10, 12, 14]\nos: [ubuntu-22.04, ubuntu-20.04]");
    assert_eq!(
        got,
        [
            json!({"version": 10, "os": "ubuntu-22.04"}),
            json!({"version": 10, "os": "ubuntu-20.04"}),
            json!({"version": 12, "os": "ubuntu-22.04"}),
            json!({"version": 12, "os": "ubuntu-20.04"}),
            json!({"version": 14, "os": "ubuntu-22.04"}),
            json!({"version": 14, "os": "ubuntu-20.04"}),
        ]
    );
    let got = legs("version: [10, 12, 14]");
    assert_eq!(got.len(), 3);
}

#[test]
fn documented_include_example() {
    // "Example: Expanding configurations" (the fruit/animal example).
    let got = legs(
        "fruit: [apple, pear]\nanimal: [cat, dog]\ninclude:\n  - color: green\n  - color: pink\n    animal: cat\n  - fruit: apple\n    shape: circle\n  - fruit: banana\n  - fruit: banana\n    animal: cat",
    );
    assert_eq!(
        got,
        [
            json!({"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"}),
            json!({"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"}),
            json!({"fruit": "pear", "animal": "cat", "color": "pink"}),
            json!({"fruit": "pear", "animal": "dog", "color": "green"}),
            json!({"fruit": "banana"}),
            json!({"fruit": "banana", "animal": "cat"}),
        ]
    );
}

#[test]
fn documented_expanding_and_adding_configurations() {
    // "Example: Expanding configurations": npm 6 only on windows + node 16.
    let got = legs(
        "os: [windows-latest, ubuntu-latest]\nnode: [14, 16]\ninclude:\n  - os: windows-latest\n    node: 16\n    npm: 6",
    );
    assert_eq!(
        got,
        [
            json!({"os": "windows-latest", "node": 14}),
            json!({"os": "windows-latest", "node": 16, "npm": 6}),
            json!({"os": "ubuntu-latest", "node": 14}),
            json!({"os": "ubuntu-latest", "node": 16}),
        ]
    );
    // "Example: Adding configurations": a seventh job.
    let got = legs(
        "os: [windows-latest, ubuntu-latest]\nversion: [10, 12, 14]\ninclude:\n  - os: windows-latest\n    version: 17",
    );
    assert_eq!(got.len(), 7);
    assert_eq!(got[6], json!({"os": "windows-latest", "version": 17}));
    // Only `include`: every entry is a job.
    let got = legs(
        "include:\n  - site: production\n    datacenter: site-a\n  - site: staging\n    datacenter: site-b",
    );
    assert_eq!(
        got,
        [
            json!({"site": "production", "datacenter": "site-a"}),
            json!({"site": "staging", "datacenter": "site-b"}),
        ]
    );
}

#[test]
fn documented_exclude_example() {
    // "Excluding matrix configurations": 12 - 1 - 2 = 9 jobs; a partial
    // match is enough.
    let got = legs(
        "os: [macos-latest, windows-latest]\nversion: [12, 14, 16]\nenvironment: [staging, production]\nexclude:\n  - os: macos-latest\n    version: 12\n    environment: production\n  - os: windows-latest\n    version: 16",
    );
    assert_eq!(got.len(), 9);
    assert!(
        !got.contains(&json!({"os": "macos-latest", "version": 12, "environment": "production"}))
    );
    assert!(
        !got.iter()
            .any(|l| l["os"] == "windows-latest" && l["version"] == 16)
    );
    assert!(got.contains(&json!({"os": "macos-latest", "version": 12, "environment": "staging"})));
}

#[test]
fn include_runs_after_exclude_and_values_may_be_objects() {
    let got = legs("os: [linux, mac]\nexclude:\n  - os: mac\ninclude:\n  - os: mac\n    extra: 1");
    assert_eq!(
        got,
        [json!({"os": "linux"}), json!({"os": "mac", "extra": 1})]
    );
    let m = matrix("node:\n  - version: 14\n  - version: 20\n    env: NODE_OPTIONS=x\nos: [a]");
    let legs = expand_matrix(&m).expect("expands");
    assert_eq!(
        legs[1].get("node"),
        Some(&json!({"version": 20, "env": "NODE_OPTIONS=x"}))
    );
    assert_eq!(legs[0].name, "({\"version\":14}, a)");
    // Numbers match by value.
    assert_eq!(
        expand_matrix(&matrix("v: [1.0, 2]\nexclude:\n  - v: 1")).map(|l| l.len()),
        Ok(1)
    );
}

#[test]
fn the_256_leg_limit() {
    let axis = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let ok = matrix(&format!("a: [{}]\nb: [{}]", axis(16), axis(16)));
    assert_eq!(expand_matrix(&ok).map(|l| l.len()), Ok(MAX_LEGS));
    let over = matrix(&format!(
        "a: [{}]\nb: [{}]\ninclude:\n  - a: new",
        axis(16),
        axis(16)
    ));
    let err = expand_matrix(&over).expect_err("257 legs");
    assert!(err.contains("257") && err.contains("256"), "{err}");
    // A huge product is refused without being built.
    let huge = matrix(&format!(
        "a: [{0}]\nb: [{0}]\nc: [{0}]\nd: [{0}]\ne: [{0}]",
        axis(40)
    ));
    assert!(expand_matrix(&huge).is_err());
    // Excluding everything, and nothing at all.
    assert!(expand_matrix(&matrix("a: [1]\nexclude:\n  - a: 1")).is_err());
    assert!(expand_matrix(&Matrix::default()).is_err());
}

// ---------------------------------------------------------------- load_dir

#[test]
fn load_dir_reads_both_directories_sorted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    assert!(load_dir(root).0.is_empty() && load_dir(root).1.is_empty());
    fs::create_dir_all(root.join(".github/workflows")).expect("mkdir");
    fs::create_dir_all(root.join(".gantry/workflows")).expect("mkdir");
    let ok = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: y\n";
    fs::write(root.join(".github/workflows/b.yaml"), ok).expect("write");
    fs::write(root.join(".github/workflows/a.yml"), ok).expect("write");
    fs::write(root.join(".gantry/workflows/z.yml"), ok).expect("write");
    fs::write(root.join(".github/workflows/notes.txt"), "x").expect("write");
    fs::write(root.join(".github/workflows/.hidden.yml"), "x").expect("write");
    fs::write(
        root.join(".github/workflows/bad.yml"),
        "on: push\njobs:\n  b:\n    runs-on: x\n    stpes: []\n",
    )
    .expect("write");
    fs::write(
        root.join(".gantry/workflows/latin1.yml"),
        b"on: push\n# caf\xe9\n",
    )
    .expect("write");
    let (workflows, diags) = load_dir(root);
    let files: Vec<&str> = workflows.iter().map(|w| w.file.as_str()).collect();
    assert_eq!(
        files,
        [
            ".gantry/workflows/z.yml",
            ".github/workflows/a.yml",
            ".github/workflows/b.yaml"
        ]
    );
    let rendered = diags.render_all();
    assert!(
        rendered.contains(".github/workflows/bad.yml:5:5"),
        "{rendered}"
    );
    assert!(rendered.contains("did you mean `steps`?"), "{rendered}");
    assert!(rendered.contains(" 5 |     stpes: []"), "{rendered}");
    assert!(
        rendered.contains(".gantry/workflows/latin1.yml:2:6"),
        "{rendered}"
    );
    assert!(rendered.contains("not valid UTF-8"), "{rendered}");
}

#[test]
fn too_large_files_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.yml");
    let mut text = String::from("on: push\n");
    while text.len() <= 4 << 20 {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    fs::write(&path, &text).expect("write");
    let err = load_file(&path, "big.yml").expect_err("too large");
    assert!(
        err.render_all().contains("too large"),
        "{}",
        err.render_all()
    );
    let err = load_str("big.yml", &text).expect_err("too large");
    assert!(err.render_all().contains("too large"));
    let err = load_file(&dir.path().join("missing.yml"), "missing.yml").expect_err("missing");
    assert!(err.render_all().contains("cannot read file"));
}

// ---------------------------------------------------------------- garbled

use gantry_config::testing::XorShift as Rng;

const ALPHABET: &[u8] =
    b" \t\n:-[]{},'\"&*!|>#?%@`\\~$()=<.0123456789abcdefjnosuv\xc3\xa9\xe2\x98\x95";

/// Loads `text`; returns whether it loaded.
fn check(text: &str) -> bool {
    match load_str("fuzz.yml", text) {
        Ok(_) => true,
        Err(diags) => {
            assert!(diags.has_errors());
            assert!(!diags.render_all().is_empty());
            for diag in &diags {
                assert!(
                    diag.one_line().starts_with("fuzz.yml"),
                    "{}",
                    diag.one_line()
                );
            }
            false
        }
    }
}

#[test]
fn garbled_inputs_never_panic() {
    let seeds: Vec<String> = cases(".good.yml")
        .iter()
        .chain(cases(".bad.yml").iter())
        .map(|p| fs::read_to_string(p).expect("UTF-8"))
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut loaded = 0;
    let mut total = 0;
    for _ in 0..60 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        check(&String::from_utf8_lossy(&bytes));
        total += 1;
    }
    for _ in 0..300 {
        let seed = &seeds[rng.below(seeds.len())];
        let mut bytes = seed.as_bytes().to_vec();
        if bytes.is_empty() {
            continue;
        }
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            }
            if bytes.is_empty() {
                break;
            }
        }
        loaded += usize::from(check(&String::from_utf8_lossy(&bytes)));
        total += 1;
    }
    assert!(total >= 300);
    // Both outcomes must occur, or the mutations test nothing interesting.
    assert!(loaded > 0 && loaded < total, "{loaded} of {total} loaded");
}

#[test]
fn deep_nesting_and_long_chains_do_not_overflow() {
    let text = format!(
        "on: push\njobs: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(load_str("deep.yml", &text).is_err());
    // A 5000-job needs chain closing into a cycle: iterative search.
    let mut text = String::from("on: push\njobs:\n");
    for i in 0..5000 {
        let need = if i == 0 { 4999 } else { i - 1 };
        text.push_str(&format!(
            "  j{i}:\n    needs: j{need}\n    runs-on: x\n    steps:\n      - run: x\n"
        ));
    }
    let err = load_str("chain.yml", &text).expect_err("cycle");
    assert_eq!(err.len(), 1);
    assert!(
        err.render_all()
            .contains("dependency cycle: j0 -> j4999 -> j4998")
    );
}
