//! Local composite actions: `uses: ./path` naming a directory with an
//! `action.yml` whose `runs.using` is `composite`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::exec::{self, Outcome, Shell, StepSpec};
use crate::expr::{self, Status};

use super::super::context::{Ctx, object};
use super::{ActionEnv, ActionOutcome};
use crate::run::Conclusion;

/// Composite actions may use composite actions, this deep.
const MAX_DEPTH: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFile {
    #[allow(dead_code)] // documented metadata, shown nowhere yet
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    #[allow(dead_code)]
    author: Option<String>,
    #[allow(dead_code)]
    branding: Option<serde_json::Value>,
    #[serde(default)]
    inputs: BTreeMap<String, InputSpec>,
    #[serde(default)]
    outputs: BTreeMap<String, OutputSpec>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSpec {
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    required: bool,
    default: Option<String>,
    #[serde(rename = "deprecationMessage")]
    deprecation_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputSpec {
    #[allow(dead_code)]
    description: Option<String>,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    using: String,
    #[serde(default)]
    steps: Vec<CompositeStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompositeStep {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    run: Option<String>,
    shell: Option<String>,
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(rename = "working-directory")]
    working_directory: Option<String>,
    #[serde(rename = "continue-on-error", default)]
    continue_on_error: bool,
}

/// Whether `uses` names a local action (`./dir`).
pub(crate) fn is_local(uses: &str) -> bool {
    uses.starts_with("./")
}

/// Loads and checks `DIR/action.yml` (or `action.yaml`) under `root`.
fn load(root: &Path, uses: &str) -> Result<(PathBuf, ActionFile), String> {
    let rel = uses.trim_start_matches("./").trim_end_matches('/');
    if rel.split('/').any(|c| c == "..") {
        return Err(format!(
            "`uses: {uses}`: a local action must stay inside the repository"
        ));
    }
    let dir = root.join(rel);
    let file = ["action.yml", "action.yaml"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "`uses: {uses}`: no action.yml or action.yaml in {}",
                dir.display()
            )
        })?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let action: ActionFile =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if action.runs.using != "composite" {
        return Err(format!(
            "{}: `runs.using: {}` needs a JavaScript or container runtime; only composite actions run here",
            file.display(),
            action.runs.using
        ));
    }
    for (n, step) in action.runs.steps.iter().enumerate() {
        match (&step.run, &step.uses) {
            (Some(_), None) if step.shell.is_none() => {
                return Err(format!(
                    "{}: runs.steps[{n}]: a composite `run` step needs `shell`",
                    file.display()
                ));
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(format!(
                    "{}: runs.steps[{n}]: expected exactly one of `run` or `uses`",
                    file.display()
                ));
            }
        }
    }
    Ok((file, action))
}

/// Checks before a run that a local action exists and is composite.
pub(crate) fn check(repo_root: &Path, uses: &str) -> Result<(), String> {
    load(repo_root, uses).map(|_| ())
}

/// Runs a composite action: its steps in order with the `inputs` context
/// from `with` and the defaults, then its outputs.
pub(crate) async fn run(
    uses: &str,
    with: &BTreeMap<String, String>,
    outer: &Ctx,
    step_env: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
    cancel: watch::Receiver<bool>,
    depth: usize,
) -> Result<ActionOutcome, String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "`uses: {uses}`: composite actions nest deeper than {MAX_DEPTH}"
        ));
    }
    let (file, action) = load(&env.state.workspace, uses)?;
    let mut ctx = outer.clone();
    let mut inputs = BTreeMap::new();
    for (name, spec) in &action.inputs {
        match with.get(name) {
            Some(v) => {
                inputs.insert(name.clone(), v.clone());
                if let Some(msg) = &spec.deprecation_message {
                    env.warn(format!("input `{name}` is deprecated: {msg}"));
                }
            }
            None => match &spec.default {
                Some(d) => {
                    let d = expr::interpolate(d, &ctx).map_err(|e| {
                        format!("{}: input `{name}` default: {}", file.display(), e.message)
                    })?;
                    inputs.insert(name.clone(), d);
                }
                None if spec.required => {
                    return Err(format!("`uses: {uses}`: input `{name}` is required"));
                }
                None => {
                    inputs.insert(name.clone(), String::new());
                }
            },
        }
    }
    super::check_inputs(
        env,
        with,
        &action.inputs.keys().map(String::as_str).collect::<Vec<_>>(),
    );
    ctx.set("inputs", object(&inputs));
    let mut steps_ctx = serde_json::Map::new();
    let mut status = Status::Success;
    let mut posts = Vec::new();
    for step in &action.runs.steps {
        ctx.status = if *cancel.borrow() {
            Status::Cancelled
        } else {
            status
        };
        ctx.set("steps", Value::Object(steps_ctx.clone()));
        let mut senv = step_env.clone();
        for (k, v) in &step.env {
            let v = expr::interpolate(v, &ctx)
                .map_err(|e| format!("{}: env `{k}`: {}", file.display(), e.message))?;
            senv.insert(k.clone(), v);
        }
        ctx.set("env", object(&senv));
        let run_it = match &step.condition {
            Some(c) => expr::evaluate_if(c, &ctx)
                .map_err(|e| format!("{}: `if`: {}", file.display(), e.message))?,
            None => ctx.status == Status::Success,
        };
        if !run_it {
            if let Some(id) = &step.id {
                steps_ctx.insert(
                    id.clone(),
                    json!({"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}),
                );
            }
            continue;
        }
        let (outcome, outputs) = if let Some(script) = &step.run {
            let script = expr::interpolate(script, &ctx)
                .map_err(|e| format!("{}: `run`: {}", file.display(), e.message))?;
            let shell = Shell::parse(step.shell.as_deref().unwrap_or("bash"))?;
            let spec = StepSpec {
                id: step.id.clone(),
                name: step.name.clone().unwrap_or_else(|| "composite step".into()),
                shell,
                script,
                working_directory: step
                    .working_directory
                    .as_ref()
                    .map(|w| expr::interpolate(w, &ctx).map(PathBuf::from))
                    .transpose()
                    .map_err(|e| e.message)?,
                env: senv.clone(),
                timeout: None,
                kill_grace: exec::DEFAULT_KILL_GRACE,
            };
            let result = exec::run_step(&spec, env.state, cancel.clone(), &mut *env.log)
                .await
                .map_err(|e| e.to_string())?;
            let outcome = match result.outcome {
                Outcome::Success => Conclusion::Success,
                Outcome::Cancelled => Conclusion::Cancelled,
                Outcome::Failure { .. } | Outcome::TimedOut => Conclusion::Failure,
            };
            (outcome, result.outputs)
        } else if let Some(inner) = &step.uses {
            let with = step
                .with
                .iter()
                .map(|(k, v)| expr::interpolate(v, &ctx).map(|s| (k.clone(), s)))
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map_err(|e| format!("{}: `with`: {}", file.display(), e.message))?;
            let done = if is_local(inner) {
                Box::pin(run(
                    inner,
                    &with,
                    &ctx,
                    &senv,
                    env,
                    cancel.clone(),
                    depth + 1,
                ))
                .await?
            } else {
                super::run(inner, &with, env).await?
            };
            posts.extend(done.posts);
            (done.conclusion, done.outputs)
        } else {
            (Conclusion::Skipped, BTreeMap::new())
        };
        let conclusion = if outcome == Conclusion::Failure && step.continue_on_error {
            Conclusion::Success
        } else {
            outcome
        };
        if conclusion == Conclusion::Failure {
            status = Status::Failure;
        } else if conclusion == Conclusion::Cancelled && status == Status::Success {
            status = Status::Cancelled;
        }
        if let Some(id) = &step.id {
            steps_ctx.insert(
                id.clone(),
                json!({"outputs": object(&outputs), "outcome": outcome.as_str(), "conclusion": conclusion.as_str()}),
            );
        }
    }
    ctx.set("steps", Value::Object(steps_ctx));
    let mut outputs = BTreeMap::new();
    for (name, spec) in &action.outputs {
        let v = expr::interpolate(&spec.value, &ctx)
            .map_err(|e| format!("{}: output `{name}`: {}", file.display(), e.message))?;
        outputs.insert(name.clone(), v);
    }
    Ok(ActionOutcome {
        conclusion: match status {
            Status::Success => Conclusion::Success,
            Status::Failure => Conclusion::Failure,
            Status::Cancelled => Conclusion::Cancelled,
            Status::Skipped => Conclusion::Skipped,
        },
        outputs,
        posts,
    })
}
