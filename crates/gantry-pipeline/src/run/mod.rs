//! Running a workflow here, now: the needs DAG, matrix legs, job and step
//! conditions, the contexts, and the host-shell executor for each step.
//!
//! Every job leg is a self-contained unit ([`crate::exec::JobState`] plus
//! rendered [`crate::exec::StepSpec`]s), so a later agent can run it in
//! another process.

mod actions;
mod context;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::exec::{self, JobState, LogLine, Outcome, Shell, StepSpec};
use crate::expr::{self, Status};
use crate::workflow::{
    BoolOrExpr, Job, Leg, Matrix, NumberOrExpr, Step, StepAction, Workflow, expand_matrix,
};
use context::{Ctx, object};

pub use actions::BUILT_IN_ACTIONS;

/// The inputs of a built-in action whose `with:` is checked when the
/// workflow loads (`gantry/scan`); `None` for actions that only warn.
pub(crate) fn strict_inputs(uses: &str) -> Option<&'static [&'static str]> {
    (actions::builtin(uses) == Some(actions::scan::NAME)).then_some(actions::scan::INPUTS)
}

/// Checks a literal `with:` value of an action [`strict_inputs`] knows.
pub(crate) fn check_strict_input(uses: &str, name: &str, value: &str) -> Result<(), String> {
    match actions::builtin(uses) {
        Some(actions::scan::NAME) => actions::scan::check_input(name, value),
        _ => Ok(()),
    }
}

/// What to run and with what.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The repository the workflow belongs to (checked out by `actions/checkout`).
    pub repo_root: PathBuf,
    /// Where job workspaces and temp dirs are created (removed after the run).
    pub work_dir: PathBuf,
    /// What outlives a run: the cache and artifact stores of built-in actions.
    pub state_dir: PathBuf,
    /// This run's id (names its artifacts).
    pub run_id: String,
    pub event_name: String,
    pub event: Value,
    pub inputs: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub vars: BTreeMap<String, String>,
    /// Run only this job (and the jobs it needs).
    pub job: Option<String>,
    /// Run only legs whose matrix values match (`os=ubuntu-latest`).
    pub matrix_filter: Vec<(String, String)>,
    /// Legs running at once, over all jobs.
    pub parallel: usize,
    /// `runs-on` labels to run here besides ubuntu-*, linux and self-hosted.
    pub host_labels: Vec<String>,
    pub git: GitInfo,
    /// `PATH` and `HOME` for steps (nothing else of the caller's environment is passed).
    pub path: String,
    pub home: String,
}

/// The commit under test.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GitInfo {
    pub sha: String,
    /// `refs/heads/main`.
    pub git_ref: String,
    pub ref_name: String,
    pub repository: String,
    pub actor: String,
}

impl GitInfo {
    /// `branch` or `tag`, from the ref; empty without one.
    pub fn ref_type(&self) -> &'static str {
        if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else if self.git_ref.starts_with("refs/heads/") {
            "branch"
        } else {
            ""
        }
    }
}

/// A job's or leg's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    Cancelled,
    Skipped,
}

impl Conclusion {
    pub fn as_str(&self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
        }
    }
}

/// What happens during a run, in order per leg: for terminals and `--json`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    JobSkipped {
        job: String,
        reason: String,
    },
    LegStarted {
        job: String,
        leg: Option<String>,
    },
    StepStarted {
        job: String,
        leg: Option<String>,
        step: String,
    },
    Log {
        job: String,
        leg: Option<String>,
        #[serde(flatten)]
        line: LogLine,
    },
    StepFinished {
        job: String,
        leg: Option<String>,
        step: String,
        outcome: Conclusion,
        conclusion: Conclusion,
        outputs: BTreeMap<String, String>,
        duration_ms: u128,
    },
    LegFinished {
        job: String,
        leg: Option<String>,
        conclusion: Conclusion,
        duration_ms: u128,
    },
    /// The leg's `$GITHUB_STEP_SUMMARY` contents (Markdown, masked).
    Summary {
        job: String,
        leg: Option<String>,
        markdown: String,
    },
}

/// One row of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct LegResult {
    pub job: String,
    pub leg: Option<String>,
    pub conclusion: Conclusion,
    pub duration: Duration,
    pub reason: Option<String>,
    /// Job-level `continue-on-error`: a failure here does not fail the run.
    pub allowed_to_fail: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    pub legs: Vec<LegResult>,
}

impl RunSummary {
    /// Whether a job that had to succeed failed or was cancelled.
    pub fn failed(&self) -> bool {
        self.legs.iter().any(|l| {
            !l.allowed_to_fail
                && matches!(l.conclusion, Conclusion::Failure | Conclusion::Cancelled)
        })
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no job named `{0}` in this workflow")]
    UnknownJob(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Io(String),
}

/// A job's result as the `needs` context shows it.
#[derive(Clone, Debug)]
struct Finished {
    result: Conclusion,
    outputs: BTreeMap<String, String>,
}

/// Checks what `gantry run` cannot do before running anything: actions other
/// than the built-in ones, and reusable-workflow calls.
pub fn check_supported(
    wf: &Workflow,
    jobs: &[String],
    repo_root: &std::path::Path,
) -> Result<(), RunError> {
    for id in jobs {
        let Some(job) = wf.job(id) else { continue };
        if let Some(uses) = &job.uses {
            return Err(RunError::Unsupported(format!(
                "{}:{}:{}: job `{id}` calls the reusable workflow `{}`, which `gantry run` does not run yet",
                wf.file, uses.span.line, uses.span.col, uses.value
            )));
        }
        for step in &job.steps {
            if let StepAction::Uses(u) = &step.action
                && actions::composite::is_local(&u.value)
            {
                actions::composite::check(repo_root, &u.value).map_err(|e| {
                    RunError::Unsupported(format!(
                        "{}:{}:{}: {e}",
                        wf.file, u.span.line, u.span.col
                    ))
                })?;
            } else if let StepAction::Uses(u) = &step.action
                && actions::builtin(&u.value).is_none()
            {
                return Err(RunError::Unsupported(format!(
                    "{}:{}:{}: `uses: {}` is not a built-in action; built in: {}",
                    wf.file,
                    u.span.line,
                    u.span.col,
                    u.value,
                    BUILT_IN_ACTIONS.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// The jobs a run covers: all, or `only` and everything it needs.
pub fn selected_jobs(wf: &Workflow, only: Option<&str>) -> Result<Vec<String>, RunError> {
    let Some(only) = only else {
        return Ok(wf.jobs.iter().map(|(id, _)| id.clone()).collect());
    };
    if wf.job(only).is_none() {
        return Err(RunError::UnknownJob(only.to_string()));
    }
    let mut keep = HashSet::new();
    let mut todo = vec![only.to_string()];
    while let Some(id) = todo.pop() {
        if keep.insert(id.clone())
            && let Some(job) = wf.job(&id)
        {
            todo.extend(job.needs.iter().map(|n| n.value.clone()));
        }
    }
    Ok(wf
        .jobs
        .iter()
        .filter(|(id, _)| keep.contains(id))
        .map(|(id, _)| id.clone())
        .collect())
}

/// The legs a job would run, for `--list` (a dynamic matrix shows as one
/// line, expanded at run time).
pub fn list_legs(job: &Job) -> Result<Vec<Option<Leg>>, String> {
    match job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
        Some(m) if m.is_dynamic() => Ok(vec![None]),
        Some(m) => Ok(expand_matrix(m)?.into_iter().map(Some).collect()),
        None => Ok(vec![None]),
    }
}

struct Shared {
    wf: Workflow,
    opts: RunOptions,
    events: mpsc::UnboundedSender<RunEvent>,
    slots: Semaphore,
    cancel: watch::Receiver<bool>,
}

/// Runs the workflow's selected jobs, as many legs at once as
/// `opts.parallel` allows, and reports every step through `events`.
/// Cancelling (`cancel` set to true) stops running steps and skips the rest.
pub async fn run_workflow(
    wf: Workflow,
    opts: RunOptions,
    events: mpsc::UnboundedSender<RunEvent>,
    cancel: watch::Receiver<bool>,
) -> Result<RunSummary, RunError> {
    let jobs = selected_jobs(&wf, opts.job.as_deref())?;
    check_supported(&wf, &jobs, &opts.repo_root)?;
    let shared = Arc::new(Shared {
        slots: Semaphore::new(opts.parallel.max(1)),
        wf,
        opts,
        events,
        cancel,
    });
    let mut done: HashMap<String, Finished> = HashMap::new();
    let mut pending: Vec<String> = jobs;
    let mut running = tokio::task::JoinSet::new();
    let mut summary = RunSummary::default();
    loop {
        let (ready, waiting): (Vec<String>, Vec<String>) = pending.into_iter().partition(|id| {
            shared
                .wf
                .job(id)
                .is_some_and(|j| j.needs.iter().all(|n| done.contains_key(&n.value)))
        });
        pending = waiting;
        for id in ready {
            let needs = shared.wf.job(&id).map_or_else(Vec::new, |j| {
                j.needs
                    .iter()
                    .filter_map(|n| done.get(&n.value).map(|f| (n.value.clone(), f.clone())))
                    .collect()
            });
            let shared = shared.clone();
            running.spawn(async move {
                let (finished, legs) = run_job(&shared, &id, needs).await;
                (id, finished, legs)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (id, finished, legs) =
            joined.map_err(|e| RunError::Io(format!("a job task failed: {e}")))?;
        summary.legs.extend(legs);
        done.insert(id, finished);
    }
    // Jobs whose needs never finished (only possible with a cycle, which
    // validation rejects) are reported, not silently dropped.
    for id in pending {
        summary.legs.push(LegResult {
            job: id,
            leg: None,
            conclusion: Conclusion::Skipped,
            duration: Duration::ZERO,
            reason: Some("its needs never finished".into()),
            allowed_to_fail: false,
        });
    }
    Ok(summary)
}

fn base_ctx(shared: &Shared, job_id: &str, workspace: PathBuf) -> Ctx {
    let o = &shared.opts;
    let mut ctx = Ctx {
        named: BTreeMap::new(),
        status: Status::Success,
        workspace: workspace.clone(),
    };
    ctx.set(
        "github",
        json!({
            "event_name": o.event_name,
            "event": o.event,
            "sha": o.git.sha,
            "ref": o.git.git_ref,
            "ref_name": o.git.ref_name,
            "ref_type": o.git.ref_type(),
            "repository": o.git.repository,
            "actor": o.git.actor,
            "workspace": workspace,
            "job": job_id,
            "workflow": shared.wf.name.as_ref().map_or(shared.wf.file.as_str(), |n| n.value.as_str()),
            "run_id": o.run_id,
            "run_number": "1",
            "run_attempt": "1",
            "server_url": "",
        }),
    );
    ctx.set("inputs", typed_inputs(&shared.wf, &o.inputs));
    ctx.set("secrets", object(&o.secrets));
    ctx.set("vars", object(&o.vars));
    ctx.set("env", json!({}));
    ctx
}

/// The `inputs` context: workflow_dispatch inputs keep their declared types
/// (`boolean` and `number` are not strings), unlike `github.event.inputs`.
fn typed_inputs(wf: &Workflow, inputs: &BTreeMap<String, String>) -> Value {
    use crate::workflow::InputType;
    let declared = wf.on.workflow_dispatch.as_ref().map(|d| &d.inputs);
    Value::Object(
        inputs
            .iter()
            .map(|(k, v)| {
                let ty = declared
                    .and_then(|d| d.iter().find(|(n, _)| n == k))
                    .map(|(_, i)| i.ty);
                let value = match ty {
                    Some(InputType::Boolean) if v == "true" => Value::Bool(true),
                    Some(InputType::Boolean) if v == "false" => Value::Bool(false),
                    Some(InputType::Number) => v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map_or_else(|| Value::String(v.clone()), Value::Number),
                    _ => Value::String(v.clone()),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Renders `env` pairs in order on top of `into`; each value sees the env
/// context so far.
fn render_env(
    pairs: &[(String, crate::workflow::Spanned<String>)],
    ctx: &mut Ctx,
    into: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in pairs {
        let value =
            expr::interpolate(&v.value, ctx).map_err(|e| format!("env `{k}`: {}", e.message))?;
        into.insert(k.clone(), value);
        ctx.set("env", object(into.iter()));
    }
    Ok(())
}

fn bool_or_expr(v: Option<&BoolOrExpr>, ctx: &Ctx, default: bool) -> Result<bool, String> {
    match v {
        None => Ok(default),
        Some(BoolOrExpr::Bool(b)) => Ok(*b),
        Some(BoolOrExpr::Expr(e)) => expr::interpolate(&e.value, ctx)
            .map(|s| s.trim() == "true")
            .map_err(|e| e.message),
    }
}

fn number_or_expr(v: Option<&NumberOrExpr>, ctx: &Ctx) -> Result<Option<f64>, String> {
    match v {
        None => Ok(None),
        Some(NumberOrExpr::Number(n)) => Ok(Some(*n)),
        Some(NumberOrExpr::Expr(e)) => {
            let s = expr::interpolate(&e.value, ctx).map_err(|e| e.message)?;
            s.trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("expected a number, got `{s}`"))
        }
    }
}

/// Runs one job: its `if`, then every leg. Returns what `needs` will see and
/// the summary rows.
async fn run_job(
    shared: &Shared,
    id: &str,
    needs: Vec<(String, Finished)>,
) -> (Finished, Vec<LegResult>) {
    let skipped = |reason: String| {
        let _ = shared.events.send(RunEvent::JobSkipped {
            job: id.to_string(),
            reason: reason.clone(),
        });
        (
            Finished {
                result: Conclusion::Skipped,
                outputs: BTreeMap::new(),
            },
            vec![LegResult {
                job: id.to_string(),
                leg: None,
                conclusion: Conclusion::Skipped,
                duration: Duration::ZERO,
                reason: Some(reason),
                allowed_to_fail: false,
            }],
        )
    };
    let Some(job) = shared.wf.job(id) else {
        return skipped("not in the workflow".into());
    };
    if *shared.cancel.borrow() {
        return skipped("the run was cancelled".into());
    }
    let mut ctx = base_ctx(shared, id, shared.opts.work_dir.clone());
    let needs_ctx: serde_json::Map<String, Value> = needs
        .iter()
        .map(|(n, f)| {
            (
                n.clone(),
                json!({ "result": f.result.as_str(), "outputs": object(&f.outputs) }),
            )
        })
        .collect();
    ctx.set("needs", Value::Object(needs_ctx));
    let need_was = |c: Conclusion| needs.iter().any(|(_, f)| f.result == c);
    ctx.status = if need_was(Conclusion::Failure) {
        Status::Failure
    } else if need_was(Conclusion::Cancelled) {
        Status::Cancelled
    } else if need_was(Conclusion::Skipped) {
        Status::Skipped
    } else {
        Status::Success
    };
    let condition = job.condition.as_ref().map(|c| c.value.as_str());
    let run = match condition {
        None => ctx.status == Status::Success,
        Some(c) => match expr::evaluate_if(c, &ctx) {
            Ok(b) => b,
            Err(e) => {
                return failed_job(shared, id, format!("`if`: {}", e.message));
            }
        },
    };
    if !run {
        let reason = match condition {
            Some(c) => format!("`if: {c}` was false"),
            None if ctx.status == Status::Skipped => "a job it needs was skipped".into(),
            None => "a job it needs did not succeed".into(),
        };
        return skipped(reason);
    }
    // runs-on: run here when a label says so.
    let legs = match job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) {
        None => vec![None],
        Some(m) => match resolve_matrix(m, &ctx) {
            Ok(legs) => legs
                .into_iter()
                .filter(|leg| {
                    shared.opts.matrix_filter.iter().all(|(k, v)| {
                        leg.get(k).is_some_and(|x| {
                            x.as_str().map_or_else(|| x.to_string(), str::to_owned) == *v
                        })
                    })
                })
                .map(Some)
                .collect(),
            Err(e) => return failed_job(shared, id, format!("matrix: {e}")),
        },
    };
    let strategy = job.strategy.clone().unwrap_or_default();
    let fail_fast = bool_or_expr(strategy.fail_fast.as_ref(), &ctx, true).unwrap_or(true);
    let max_parallel = number_or_expr(strategy.max_parallel.as_ref(), &ctx)
        .ok()
        .flatten()
        .map_or(usize::MAX, |n| n.max(1.0) as usize);
    let total = legs.len();
    ctx.set(
        "strategy",
        json!({ "fail-fast": fail_fast, "max-parallel": max_parallel.min(total), "job-total": total }),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let job_slots = Arc::new(Semaphore::new(max_parallel.min(Semaphore::MAX_PERMITS)));
    let mut results: Vec<(usize, LegResult, BTreeMap<String, String>)> = Vec::new();
    let mut tasks = join_all_unordered(legs.into_iter().enumerate().map(|(index, leg)| {
        let job_slots = job_slots.clone();
        let stop_rx = stop_rx.clone();
        let stop_tx = stop_tx.clone();
        let ctx = ctx.clone();
        async move {
            let _job_permit = job_slots.acquire_owned().await;
            let _permit = shared.slots.acquire().await;
            let (result, outputs) = if *stop_rx.borrow() {
                (
                    LegResult {
                        job: id.to_string(),
                        leg: leg.as_ref().map(|l| l.name.clone()),
                        conclusion: Conclusion::Cancelled,
                        duration: Duration::ZERO,
                        reason: Some("fail-fast: a sibling leg failed".into()),
                        allowed_to_fail: false,
                    },
                    BTreeMap::new(),
                )
            } else {
                run_leg(shared, job, id, leg.as_ref(), index, total, ctx, stop_rx).await
            };
            if fail_fast && result.conclusion == Conclusion::Failure && !result.allowed_to_fail {
                let _ = stop_tx.send(true);
            }
            (index, result, outputs)
        }
    }));
    while let Some(r) = tasks.next().await {
        results.push(r);
    }
    results.sort_by_key(|(i, _, _)| *i);
    let any = |c: Conclusion| {
        results
            .iter()
            .any(|(_, r, _)| r.conclusion == c && !r.allowed_to_fail)
    };
    let result = if any(Conclusion::Failure) {
        Conclusion::Failure
    } else if any(Conclusion::Cancelled) {
        Conclusion::Cancelled
    } else if results
        .iter()
        .all(|(_, r, _)| r.conclusion == Conclusion::Skipped)
    {
        // Every leg skipped (runs-on not here): dependents are skipped too.
        Conclusion::Skipped
    } else {
        Conclusion::Success
    };
    // A matrix job's outputs come from its last leg that set them.
    let outputs = results
        .iter()
        .rev()
        .map(|(_, _, o)| o)
        .find(|o| !o.is_empty())
        .cloned()
        .unwrap_or_default();
    (
        Finished { result, outputs },
        results.into_iter().map(|(_, r, _)| r).collect(),
    )
}

/// The value of a string that is exactly one `${{ }}` expression.
fn eval_whole(text: &str, ctx: &Ctx) -> Result<Value, String> {
    let trimmed = text.trim();
    let found = expr::find_embedded(trimmed);
    match found.as_slice() {
        [one] if one.range == (0..trimmed.len()) => {
            let e = one.expr.as_ref().map_err(|e| e.message.clone())?;
            expr::evaluate(e, ctx).map_err(|e| e.message)
        }
        _ => Err(format!(
            "expected one `${{{{ }}}}` expression, got `{trimmed}`"
        )),
    }
}

fn combinations(v: &Value, what: &str) -> Result<Vec<crate::workflow::Combination>, String> {
    let Value::Array(items) = v else {
        return Err(format!("matrix `{what}` must be a list of mappings"));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            _ => Err(format!("matrix `{what}` must be a list of mappings")),
        })
        .collect()
}

/// Expands a matrix, evaluating its `${{ }}` parts first (a whole matrix from
/// `fromJSON(...)`, or single axes, `include` or `exclude`).
fn resolve_matrix(m: &Matrix, ctx: &Ctx) -> Result<Vec<Leg>, String> {
    if !m.is_dynamic() {
        return expand_matrix(m);
    }
    let mut resolved = Matrix {
        span: m.span,
        axes: m.axes.clone(),
        include: m.include.clone(),
        exclude: m.exclude.clone(),
        expression: None,
        dynamic: Vec::new(),
    };
    let mut parts: Vec<(String, Value)> = Vec::new();
    if let Some(e) = &m.expression {
        match eval_whole(&e.value, ctx)? {
            Value::Object(map) => parts.extend(map),
            other => {
                return Err(format!(
                    "the matrix expression gave {other}, expected a mapping"
                ));
            }
        }
    }
    for (key, e) in &m.dynamic {
        parts.push((key.clone(), eval_whole(&e.value, ctx)?));
    }
    for (key, value) in parts {
        match key.as_str() {
            "include" => resolved.include = combinations(&value, "include")?,
            "exclude" => resolved.exclude = combinations(&value, "exclude")?,
            _ => {
                let Value::Array(values) = value else {
                    return Err(format!("matrix axis `{key}` must be a list"));
                };
                match resolved.axes.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, slot)) => *slot = values,
                    None => resolved.axes.push((key, values)),
                }
            }
        }
    }
    expand_matrix(&resolved)
}

/// Polls a set of futures concurrently, yielding each result as it finishes.
fn join_all_unordered<F: std::future::Future>(
    futs: impl Iterator<Item = F>,
) -> futures::stream::FuturesUnordered<F> {
    futs.collect()
}

fn failed_job(shared: &Shared, id: &str, reason: String) -> (Finished, Vec<LegResult>) {
    let _ = shared.events.send(RunEvent::LegFinished {
        job: id.to_string(),
        leg: None,
        conclusion: Conclusion::Failure,
        duration_ms: 0,
    });
    (
        Finished {
            result: Conclusion::Failure,
            outputs: BTreeMap::new(),
        },
        vec![LegResult {
            job: id.to_string(),
            leg: None,
            conclusion: Conclusion::Failure,
            duration: Duration::ZERO,
            reason: Some(reason),
            allowed_to_fail: false,
        }],
    )
}

/// The labels that mean "this machine".
fn runs_here(labels: &[String], host_labels: &[String]) -> bool {
    labels.iter().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("ubuntu-")
            || l == "linux"
            || l == "self-hosted"
            || host_labels.iter().any(|h| h.eq_ignore_ascii_case(&l))
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_leg(
    shared: &Shared,
    job: &Job,
    id: &str,
    leg: Option<&Leg>,
    index: usize,
    total: usize,
    mut ctx: Ctx,
    stop: watch::Receiver<bool>,
) -> (LegResult, BTreeMap<String, String>) {
    let start = Instant::now();
    let leg_name = leg.map(|l| l.name.clone());
    let send = |e: RunEvent| {
        let _ = shared.events.send(e);
    };
    let finish = |conclusion: Conclusion, reason: Option<String>, allowed: bool| {
        let _ = shared.events.send(RunEvent::LegFinished {
            job: id.to_string(),
            leg: leg_name.clone(),
            conclusion,
            duration_ms: start.elapsed().as_millis(),
        });
        LegResult {
            job: id.to_string(),
            leg: leg_name.clone(),
            conclusion,
            duration: start.elapsed(),
            reason,
            allowed_to_fail: allowed,
        }
    };
    ctx.set("matrix", leg.map_or_else(|| json!({}), Leg::to_json));
    if let Some(Value::Object(strategy)) = ctx.named.get_mut("strategy") {
        strategy.insert("job-index".into(), json!(index));
        strategy.insert("job-total".into(), json!(total));
    }
    // runs-on, rendered for this leg.
    let labels: Vec<String> = job
        .runs_on
        .as_ref()
        .map(|r| {
            r.labels
                .iter()
                .map(|l| expr::interpolate(l, &ctx).unwrap_or_else(|_| l.clone()))
                .collect()
        })
        .unwrap_or_default();
    if !runs_here(&labels, &shared.opts.host_labels) {
        let reason = format!(
            "runs-on `{}` is not this machine (map it with --map-label LABEL)",
            labels.join(", ")
        );
        return (
            finish(Conclusion::Skipped, Some(reason), false),
            BTreeMap::new(),
        );
    }
    send(RunEvent::LegStarted {
        job: id.to_string(),
        leg: leg_name.clone(),
    });

    // A fresh workspace and temp dir per leg.
    let slug: String = format!("{id}-{index}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let workspace = shared.opts.work_dir.join(&slug).join("workspace");
    let temp = shared.opts.work_dir.join(&slug).join("temp");
    for d in [&workspace, &temp] {
        if let Err(e) = std::fs::create_dir_all(d) {
            return (
                finish(
                    Conclusion::Failure,
                    Some(format!("creating {}: {e}", d.display())),
                    false,
                ),
                BTreeMap::new(),
            );
        }
    }
    ctx.workspace = workspace.clone();
    if let Some(Value::Object(g)) = ctx.named.get_mut("github") {
        g.insert("workspace".into(), json!(workspace));
    }
    ctx.set(
        "runner",
        json!({ "os": "Linux", "arch": "X64", "name": "gantry", "temp": temp, "tool_cache": temp.join("tool-cache") }),
    );
    let o = &shared.opts;
    let event_path = temp.join("event.json");
    if let Err(e) = std::fs::write(
        &event_path,
        serde_json::to_vec_pretty(&o.event).unwrap_or_default(),
    ) {
        return (
            finish(
                Conclusion::Failure,
                Some(format!("writing the event payload: {e}")),
                false,
            ),
            BTreeMap::new(),
        );
    }
    let base_env: BTreeMap<String, String> = [
        ("CI", "true".to_string()),
        ("HOME", o.home.clone()),
        ("PATH", o.path.clone()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_WORKSPACE", workspace.display().to_string()),
        ("GITHUB_SHA", o.git.sha.clone()),
        ("GITHUB_REF", o.git.git_ref.clone()),
        ("GITHUB_REF_NAME", o.git.ref_name.clone()),
        ("GITHUB_REF_TYPE", o.git.ref_type().to_string()),
        ("GITHUB_REPOSITORY", o.git.repository.clone()),
        ("GITHUB_ACTOR", o.git.actor.clone()),
        ("GITHUB_EVENT_NAME", o.event_name.clone()),
        ("GITHUB_EVENT_PATH", event_path.display().to_string()),
        ("GITHUB_JOB", id.to_string()),
        (
            "GITHUB_WORKFLOW",
            shared
                .wf
                .name
                .as_ref()
                .map_or(shared.wf.file.clone(), |n| n.value.clone()),
        ),
        ("GITHUB_RUN_ID", o.run_id.clone()),
        ("GITHUB_RUN_NUMBER", "1".into()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
        ("RUNNER_NAME", "gantry".into()),
        ("RUNNER_TEMP", temp.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut state = JobState::new(workspace.clone(), temp.clone(), base_env);
    state
        .masks
        .extend(o.secrets.values().filter(|v| !v.is_empty()).cloned());

    // Workflow env, then job env.
    let mut env = BTreeMap::new();
    if let Err(e) = render_env(&shared.wf.env, &mut ctx, &mut env)
        .and_then(|()| render_env(&job.env, &mut ctx, &mut env))
    {
        return (finish(Conclusion::Failure, Some(e), false), BTreeMap::new());
    }
    let allowed_to_fail =
        bool_or_expr(job.continue_on_error.as_ref(), &ctx, false).unwrap_or(false);
    let job_timeout = number_or_expr(job.timeout_minutes.as_ref(), &ctx)
        .ok()
        .flatten()
        .unwrap_or(360.0);
    let deadline = Instant::now() + Duration::from_secs_f64((job_timeout * 60.0).max(0.0));

    // Cancelled by the user or by fail-fast: running steps are stopped too.
    let (leg_cancel_tx, leg_cancel) = watch::channel(false);
    let forward = {
        let mut user = shared.cancel.clone();
        let mut sibling = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = until_true(&mut user) => {}
                () = until_true(&mut sibling) => {}
            }
            let _ = leg_cancel_tx.send(true);
        })
    };

    let mut steps_ctx = serde_json::Map::new();
    let mut job_status = Status::Success;
    let mut timed_out = false;
    let mut posts: Vec<(String, actions::PostStep)> = Vec::new();
    for step in &job.steps {
        if *leg_cancel.borrow() || timed_out {
            job_status = Status::Cancelled;
        }
        ctx.status = job_status;
        ctx.set("job", json!({ "status": status_str(job_status) }));
        ctx.set("steps", Value::Object(steps_ctx.clone()));
        let name = step_name(step, &ctx);
        // $GITHUB_ENV from earlier steps overrides workflow and job env;
        // the step's own env overrides both.
        let mut step_env = env.clone();
        step_env.extend(state.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut step_ctx = ctx.clone();
        step_ctx.set("env", object(&step_env));
        let step_start = Instant::now();
        let ran = prepare_and_run(
            shared,
            job,
            step,
            &name,
            &mut step_ctx,
            &mut step_env,
            &mut state,
            deadline,
            (id, leg_name.clone()),
            leg_cancel.clone(),
        )
        .await;
        let ran = match ran {
            Ok(ran) => ran,
            Err(reason) => {
                // The reason may quote an input rendered from a secret.
                let masker = exec::Masker::new(state.masks.iter());
                send(RunEvent::Log {
                    job: id.to_string(),
                    leg: leg_name.clone(),
                    line: LogLine::Err(masker.mask(&format!("error: {reason}"))),
                });
                Some(StepRun {
                    outcome: Conclusion::Failure,
                    outputs: BTreeMap::new(),
                    timed_out: false,
                    posts: Vec::new(),
                })
            }
        };
        let Some(ran) = ran else {
            if let Some(sid) = &step.id {
                steps_ctx.insert(
                    sid.value.clone(),
                    json!({ "outputs": {}, "outcome": "skipped", "conclusion": "skipped" }),
                );
            }
            continue;
        };
        timed_out |= ran.timed_out && Instant::now() >= deadline;
        posts.extend(ran.posts.into_iter().map(|p| (format!("Post {name}"), p)));
        let continue_on_error =
            bool_or_expr(step.continue_on_error.as_ref(), &ctx, false).unwrap_or(false);
        let outcome = ran.outcome;
        let conclusion = if outcome == Conclusion::Failure && continue_on_error {
            Conclusion::Success
        } else {
            outcome
        };
        match conclusion {
            Conclusion::Failure => job_status = Status::Failure,
            Conclusion::Cancelled if job_status == Status::Success => {
                job_status = Status::Cancelled
            }
            _ => {}
        }
        if let Some(sid) = &step.id {
            steps_ctx.insert(
                sid.value.clone(),
                json!({
                    "outputs": object(&ran.outputs),
                    "outcome": outcome.as_str(),
                    "conclusion": conclusion.as_str(),
                }),
            );
        }
        // Reported outputs are masked; the steps context keeps the values.
        let masker = exec::Masker::new(state.masks.iter());
        send(RunEvent::StepFinished {
            job: id.to_string(),
            leg: leg_name.clone(),
            step: name,
            outcome,
            conclusion,
            outputs: ran
                .outputs
                .into_iter()
                .map(|(k, v)| (k, masker.mask(&v)))
                .collect(),
            duration_ms: step_start.elapsed().as_millis(),
        });
    }
    // Post steps, last first, like GitHub's post-job cleanup.
    for (name, post) in posts.into_iter().rev() {
        if post.condition == actions::PostIf::Success && job_status != Status::Success {
            continue;
        }
        let step_start = Instant::now();
        send(RunEvent::StepStarted {
            job: id.to_string(),
            leg: leg_name.clone(),
            step: name.clone(),
        });
        let mut log = |line: LogLine| {
            let _ = shared.events.send(RunEvent::Log {
                job: id.to_string(),
                leg: leg_name.clone(),
                line,
            });
        };
        let mut env = actions::ActionEnv {
            opts: &shared.opts,
            state: &mut state,
            log: &mut log,
        };
        let outcome = match actions::run_post(&post, &mut env).await {
            Ok(c) => c,
            Err(reason) => {
                log(LogLine::Err(format!("error: {reason}")));
                Conclusion::Failure
            }
        };
        if outcome == Conclusion::Failure {
            job_status = Status::Failure;
        }
        send(RunEvent::StepFinished {
            job: id.to_string(),
            leg: leg_name.clone(),
            step: name,
            outcome,
            conclusion: outcome,
            outputs: BTreeMap::new(),
            duration_ms: step_start.elapsed().as_millis(),
        });
    }
    forward.abort();
    exec::cleanup_job(&mut state, exec::DEFAULT_KILL_GRACE).await;
    if !state.summary.trim().is_empty() {
        send(RunEvent::Summary {
            job: id.to_string(),
            leg: leg_name.clone(),
            markdown: std::mem::take(&mut state.summary),
        });
    }

    // Job outputs, rendered with the final steps context.
    ctx.set("steps", Value::Object(steps_ctx));
    ctx.status = job_status;
    let mut outputs = BTreeMap::new();
    let masker = exec::Masker::new(state.masks.iter());
    for (k, v) in &job.outputs {
        match expr::interpolate(&v.value, &ctx) {
            // Like GitHub, an output that holds a secret is not passed on.
            Ok(s) if masker.mask(&s) != s => {
                send(RunEvent::Log {
                    job: id.to_string(),
                    leg: leg_name.clone(),
                    line: LogLine::Err(format!(
                        "warning: skip output `{k}` since it may contain secret"
                    )),
                });
            }
            Ok(s) => {
                outputs.insert(k.clone(), s);
            }
            Err(e) => {
                return (
                    finish(
                        Conclusion::Failure,
                        Some(format!("output `{k}`: {}", e.message)),
                        allowed_to_fail,
                    ),
                    outputs,
                );
            }
        }
    }
    let conclusion = match job_status {
        Status::Success => Conclusion::Success,
        Status::Failure => Conclusion::Failure,
        Status::Cancelled => Conclusion::Cancelled,
        Status::Skipped => Conclusion::Skipped,
    };
    let reason = timed_out.then(|| format!("timed out after {job_timeout} minutes"));
    (finish(conclusion, reason, allowed_to_fail), outputs)
}

/// Resolves when the flag becomes true; never, if its sender goes away first.
async fn until_true(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Success => "success",
        Status::Failure => "failure",
        Status::Cancelled => "cancelled",
        Status::Skipped => "skipped",
    }
}

/// The step's display name: `name:`, else `Run <first line>` like GitHub.
fn step_name(step: &Step, ctx: &Ctx) -> String {
    if let Some(name) = &step.name {
        return expr::interpolate(&name.value, ctx).unwrap_or_else(|_| name.value.clone());
    }
    let what = match &step.action {
        StepAction::Run(r) => r
            .value
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim(),
        StepAction::Uses(u) => u.value.as_str(),
    };
    format!("Run {}", what.chars().take(72).collect::<String>())
}

/// How a step that ran ended.
struct StepRun {
    outcome: Conclusion,
    outputs: BTreeMap<String, String>,
    timed_out: bool,
    posts: Vec<actions::PostStep>,
}

/// Decides whether a step runs, renders it and runs it. `Ok(None)` when its
/// `if` was false; `Err` when it could not be prepared or started.
#[allow(clippy::too_many_arguments)]
async fn prepare_and_run(
    shared: &Shared,
    job: &Job,
    step: &Step,
    name: &str,
    ctx: &mut Ctx,
    env: &mut BTreeMap<String, String>,
    state: &mut JobState,
    deadline: Instant,
    (job_id, leg): (&str, Option<String>),
    cancel: watch::Receiver<bool>,
) -> Result<Option<StepRun>, String> {
    // The step's env is visible to its own `if`, like GitHub.
    render_env(&step.env, ctx, env)?;
    let run = match &step.condition {
        Some(c) => expr::evaluate_if(&c.value, ctx).map_err(|e| format!("`if`: {}", e.message))?,
        None => ctx.status == Status::Success,
    };
    if !run {
        return Ok(None);
    }
    let _ = shared.events.send(RunEvent::StepStarted {
        job: job_id.to_string(),
        leg: leg.clone(),
        step: name.to_string(),
    });
    let mut log = |line: LogLine| {
        let _ = shared.events.send(RunEvent::Log {
            job: job_id.to_string(),
            leg: leg.clone(),
            line,
        });
    };
    let script = match &step.action {
        StepAction::Run(r) => {
            expr::interpolate(&r.value, ctx).map_err(|e| format!("`run`: {}", e.message))?
        }
        StepAction::Uses(u) => {
            let with = step
                .with
                .iter()
                .map(|(k, v)| expr::interpolate(&v.value, ctx).map(|s| (k.clone(), s)))
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map_err(|e| format!("`with`: {}", e.message))?;
            let step_env = env.clone();
            let mut action_env = actions::ActionEnv {
                opts: &shared.opts,
                state,
                log: &mut log,
            };
            let done = if actions::composite::is_local(&u.value) {
                actions::composite::run(&u.value, &with, ctx, &step_env, &mut action_env, cancel, 0)
                    .await?
            } else {
                actions::run(&u.value, &with, &mut action_env).await?
            };
            return Ok(Some(StepRun {
                outcome: done.conclusion,
                outputs: done.outputs,
                timed_out: false,
                posts: done.posts,
            }));
        }
    };
    let shell_text = step
        .shell
        .as_ref()
        .or(job.defaults.run.shell.as_ref())
        .or(shared.wf.defaults.run.shell.as_ref())
        .map(|s| s.value.clone());
    let shell = match shell_text {
        Some(s) => Shell::parse(&s)?,
        None => Shell::default_for_host(),
    };
    let working_directory = step
        .working_directory
        .as_ref()
        .or(job.defaults.run.working_directory.as_ref())
        .or(shared.wf.defaults.run.working_directory.as_ref())
        .map(|w| expr::interpolate(&w.value, ctx).map(PathBuf::from))
        .transpose()
        .map_err(|e| format!("`working-directory`: {}", e.message))?;
    let step_timeout = number_or_expr(step.timeout_minutes.as_ref(), ctx)?
        .map(|m| Duration::from_secs_f64((m * 60.0).max(0.0)));
    let left = deadline.saturating_duration_since(Instant::now());
    let timeout = Some(step_timeout.map_or(left, |t| t.min(left)));
    let spec = StepSpec {
        id: step.id.as_ref().map(|i| i.value.clone()),
        name: name.to_string(),
        shell,
        script,
        working_directory,
        env: env.clone(),
        timeout,
        kill_grace: exec::DEFAULT_KILL_GRACE,
    };
    let result = exec::run_step(&spec, state, cancel, &mut log)
        .await
        .map_err(|e| e.to_string())?;
    let (outcome, timed_out) = match result.outcome {
        Outcome::Success => (Conclusion::Success, false),
        Outcome::Failure { .. } => (Conclusion::Failure, false),
        Outcome::TimedOut => (Conclusion::Failure, true),
        Outcome::Cancelled => (Conclusion::Cancelled, false),
    };
    Ok(Some(StepRun {
        outcome,
        outputs: result.outputs,
        timed_out,
        posts: Vec::new(),
    }))
}
