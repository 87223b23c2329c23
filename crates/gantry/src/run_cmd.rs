//! `gantry run`: a workflow here, now.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use gantry_core::{EventKind, NewEvent};
use gantry_pipeline::exec::LogLine;
use gantry_pipeline::run::{self, Conclusion, GitInfo, RunEvent, RunOptions, RunSummary};
use gantry_pipeline::workflow::{self, Workflow};
use gantry_store::Store;
use serde_json::{Value, json};

use crate::cli::RunArgs;
use crate::{CmdResult, Failure};

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(anyhow!(msg.into()))
}

/// `k=v` pairs from repeated flags.
fn pairs(flag: &str, items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| usage(format!("{flag} {s:?}: expected NAME=VALUE")))
        })
        .collect()
}

/// `--map-label LABEL` or `LABEL=host`: jobs with that `runs-on` label run
/// here. (This machine's shell is the only executor so far.)
fn host_labels(items: &[String]) -> Result<Vec<String>, Failure> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            None => Ok(item.clone()),
            Some((label, "host")) => Ok(label.to_string()),
            Some((_, other)) => Err(usage(format!(
                "--map-label {item}: unknown executor `{other}`; the only one is `host`"
            ))),
        })
        .collect()
}

/// A dotenv file: `NAME=VALUE` lines, `#` comments, optional `export `,
/// values optionally in single or double quotes (double quotes understand
/// `\n`).
fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--secret-file {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(usage(format!(
                "{}:{}: expected NAME=VALUE",
                path.display(),
                n + 1
            )));
        };
        let v = v.trim();
        let v = if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            inner.replace("\\n", "\n").replace("\\\"", "\"")
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.to_string()
        } else {
            v.to_string()
        };
        out.push((k.trim().to_string(), v));
    }
    Ok(out)
}

/// An input's default as the `inputs` context shows it.
fn input_default(input: &workflow::Input) -> Option<String> {
    match input.default.as_ref()? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn git_info(dir: &Path) -> GitInfo {
    let sha = git_output(dir, &["rev-parse", "HEAD"]).unwrap_or_default();
    let branch = git_output(dir, &["symbolic-ref", "--short", "-q", "HEAD"]);
    let repository = git_output(dir, &["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .or_else(|| dir.canonicalize().ok())
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "local".into());
    GitInfo {
        sha,
        git_ref: branch
            .as_ref()
            .map_or(String::new(), |b| format!("refs/heads/{b}")),
        ref_name: branch.unwrap_or_default(),
        repository: format!("local/{repository}"),
        actor: std::env::var("USER").unwrap_or_else(|_| "gantry".into()),
    }
}

/// The workflow WORKFLOW names: a path, a file name or stem, or its `name:`.
fn pick<'a>(workflows: &'a [Workflow], want: Option<&str>) -> Result<&'a Workflow, Failure> {
    let names = || {
        workflows
            .iter()
            .map(|w| w.file.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(want) = want else {
        return match workflows {
            [one] => Ok(one),
            [] => Err(usage(
                "no workflows found in .gantry/workflows or .github/workflows",
            )),
            _ => Err(usage(format!(
                "several workflows; name one of: {}",
                names()
            ))),
        };
    };
    let want_path = want.trim_start_matches("./");
    workflows
        .iter()
        .find(|w| {
            let file = Path::new(&w.file);
            w.file == want_path
                || file.file_name().is_some_and(|n| n == want)
                || file.file_stem().is_some_and(|n| n == want)
                || w.name.as_ref().is_some_and(|n| n.value == want)
        })
        .ok_or_else(|| usage(format!("no workflow {want:?}; there are: {}", names())))
}

fn print_list(wf: &Workflow, jobs: &[String]) -> CmdResult {
    println!("{}", wf.file);
    for id in jobs {
        let Some(job) = wf.job(id) else { continue };
        let needs: Vec<&str> = job.needs.iter().map(|n| n.value.as_str()).collect();
        let legs = run::list_legs(job).map_err(|e| usage(format!("job `{id}`: {e}")))?;
        let after = if needs.is_empty() {
            String::new()
        } else {
            format!("  (needs {})", needs.join(", "))
        };
        for leg in legs {
            match leg {
                Some(l) => println!("  {id} {}{after}", l.name),
                None => println!("  {id}{after}"),
            }
        }
    }
    Ok(())
}

pub fn run(args: RunArgs) -> CmdResult {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let (workflows, diags) = workflow::load_dir(&dir);
    if diags.has_errors() {
        eprint!("{}", diags.render_all());
        return Err(Failure::Reported(2));
    }
    let wf = pick(&workflows, args.workflow.as_deref())?.clone();
    let jobs = run::selected_jobs(&wf, args.job.as_deref()).map_err(|e| usage(e.to_string()))?;
    if args.list {
        return print_list(&wf, &jobs);
    }
    run::check_supported(&wf, &jobs, &dir).map_err(|e| usage(e.to_string()))?;

    let event_name = args.event.clone();
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    let given = pairs("--input", &args.input)?;
    if let Some(dispatch) = &wf.on.workflow_dispatch {
        for (name, input) in &dispatch.inputs {
            if let Some(default) = input_default(input) {
                inputs.insert(name.clone(), default);
            }
        }
        for (k, v) in &given {
            if !dispatch.inputs.iter().any(|(name, _)| name == k) {
                return Err(usage(format!(
                    "--input {k}: the workflow has no such input"
                )));
            }
            inputs.insert(k.clone(), v.clone());
        }
        if event_name == "workflow_dispatch"
            && let Some((missing, _)) = dispatch
                .inputs
                .iter()
                .find(|(name, i)| i.required && !inputs.contains_key(name))
        {
            return Err(usage(format!(
                "input `{missing}` is required: pass --input {missing}=VALUE"
            )));
        }
    } else if let Some((k, _)) = given.first() {
        return Err(usage(format!(
            "--input {k}: the workflow takes no workflow_dispatch inputs"
        )));
    }

    let mut secrets: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("GANTRY_SECRET_") {
            secrets.insert(name.to_string(), v);
        }
    }
    for file in &args.secret_file {
        secrets.extend(read_dotenv(file)?);
    }
    secrets.extend(pairs("--secret", &args.secret)?);

    let git = git_info(&dir);
    let event = match event_name.as_str() {
        "workflow_dispatch" => json!({ "inputs": inputs, "ref": git.git_ref }),
        "push" => {
            json!({ "ref": git.git_ref, "after": git.sha, "repository": { "full_name": git.repository } })
        }
        _ => json!({}),
    };
    let work = tempfile::Builder::new()
        .prefix("gantry-run-")
        .tempdir()
        .context("creating the run's work directory")?;
    let opts = RunOptions {
        repo_root: dir.canonicalize().unwrap_or(dir.clone()),
        work_dir: work.path().to_path_buf(),
        state_dir: args.data_dir.clone().unwrap_or_else(|| dir.join(".gantry")),
        run_id: gantry_core::Id::new().to_string(),
        event_name: event_name.clone(),
        event,
        inputs,
        secrets,
        vars: BTreeMap::new(),
        job: args.job.clone(),
        matrix_filter: pairs("--matrix", &args.matrix)?,
        parallel: args
            .parallel
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        host_labels: host_labels(&args.map_label)?,
        git,
        path: std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        home: std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
    };

    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let summary = rt.block_on(execute(wf, opts, &args, &dir))?;
    if summary.failed() {
        return Err(Failure::Reported(1));
    }
    Ok(())
}

/// The event log of the workspace's data dir, when there is one.
async fn open_log(args: &RunArgs, dir: &Path) -> Option<Arc<dyn Store>> {
    let data_dir = args.data_dir.clone().unwrap_or_else(|| dir.join(".gantry"));
    let db = data_dir.join("gantry.db");
    if !db.exists() {
        return None;
    }
    match gantry_store::SqliteStore::open(&db).await {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            eprintln!("warning: not recording the run in {}: {e}", db.display());
            None
        }
    }
}

/// A leg's log as kept for the event log: at most [`MAX_LOG_BYTES`].
#[derive(Default)]
struct LegLog {
    lines: Vec<String>,
    bytes: usize,
    truncated: bool,
}

const MAX_LOG_BYTES: usize = 1 << 20;

impl LegLog {
    fn push(&mut self, line: &LogLine) {
        let text = match line {
            LogLine::Out(s) | LogLine::Err(s) | LogLine::Debug(s) => s.clone(),
            LogLine::Group(s) => format!("::group::{s}"),
            LogLine::EndGroup => "::endgroup::".into(),
            LogLine::Annotation(a) => format!("{:?}: {}", a.level, a.message),
        };
        if self.bytes + text.len() > MAX_LOG_BYTES {
            self.truncated = true;
            return;
        }
        self.bytes += text.len();
        self.lines.push(text);
    }
}

async fn record_all(store: &Option<Arc<dyn Store>>, subject: &str, records: Vec<(&str, Value)>) {
    let Some(store) = store else { return };
    let events: Vec<NewEvent> = records
        .into_iter()
        .filter_map(|(kind, data)| {
            EventKind::new(kind)
                .ok()
                .map(|k| NewEvent::new(k, subject, "cli:gantry-run", data))
        })
        .collect();
    if events.is_empty() {
        return;
    }
    if let Err(e) = store.append(events).await {
        eprintln!("warning: could not record the run's jobs in the event log: {e}");
    }
}

async fn record(store: &Option<Arc<dyn Store>>, kind: &str, subject: &str, data: Value) {
    let (Some(store), Ok(kind)) = (store, EventKind::new(kind)) else {
        return;
    };
    if let Err(e) = store
        .append(vec![NewEvent::new(kind, subject, "cli:gantry-run", data)])
        .await
    {
        eprintln!("warning: could not record {subject} in the event log: {e}");
    }
}

async fn execute(
    wf: Workflow,
    opts: RunOptions,
    args: &RunArgs,
    dir: &Path,
) -> Result<RunSummary, Failure> {
    let store = open_log(args, dir).await;
    let subject = format!("workflow/{}", wf.file);
    let run_id = opts.run_id.clone();
    record(
        &store,
        "pipeline.run.started",
        &subject,
        json!({ "run": run_id, "event": opts.event_name, "sha": opts.git.sha }),
    )
    .await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("cancelling: stopping running steps");
            let _ = cancel_tx.send(true);
        }
    });
    let json_out = args.json;
    let printer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        let mut kept = Vec::new();
        let mut logs: BTreeMap<String, LegLog> = BTreeMap::new();
        while let Some(event) = rx.recv().await {
            if json_out {
                let _ = writeln!(out, "{}", serde_json::to_string(&event).unwrap_or_default());
            } else {
                print_event(&mut out, &event);
            }
            match &event {
                RunEvent::Log { job, leg, line } => {
                    logs.entry(label(job, leg)).or_default().push(line)
                }
                RunEvent::LegFinished { .. }
                | RunEvent::Summary { .. }
                | RunEvent::StepFinished { .. } => kept.push(event),
                _ => {}
            }
        }
        let _ = out.flush();
        (kept, logs)
    });
    let result = run::run_workflow(wf, opts, tx, cancel_rx).await;
    let (kept, mut logs) = printer.await.unwrap_or_default();
    let summary = result.map_err(|e| Failure::Failed(anyhow!(e.to_string())))?;
    // Steps, jobs and their (already masked) logs go to the event log.
    let mut summaries = Vec::new();
    let mut records = Vec::new();
    for e in kept {
        match e {
            RunEvent::Summary { job, leg, markdown } => {
                summaries.push((label(&job, &leg), markdown))
            }
            RunEvent::StepFinished {
                job,
                leg,
                step,
                outcome,
                conclusion,
                duration_ms,
                ..
            } => records.push((
                "pipeline.step.finished",
                json!({ "run": run_id, "job": job, "leg": leg, "step": step, "outcome": outcome,
                        "conclusion": conclusion, "duration_ms": duration_ms }),
            )),
            RunEvent::LegFinished {
                job,
                leg,
                conclusion,
                duration_ms,
            } => {
                let log = logs.remove(&label(&job, &leg)).unwrap_or_default();
                records.push((
                    "pipeline.job.finished",
                    json!({ "run": run_id, "job": job, "leg": leg, "conclusion": conclusion,
                            "duration_ms": duration_ms, "log": log.lines, "log_truncated": log.truncated }),
                ));
            }
            _ => {}
        }
    }
    record_all(&store, &subject, records).await;
    let conclusion = if summary.failed() {
        "failure"
    } else {
        "success"
    };
    record(
        &store,
        "pipeline.run.finished",
        &subject,
        json!({ "run": run_id, "conclusion": conclusion }),
    )
    .await;
    if let Some(s) = &store {
        s.close().await;
    }
    if !json_out {
        print_summary(&summary);
        for (who, markdown) in summaries {
            println!("\n── summary: {who} ──\n{}", markdown.trim_end());
        }
    }
    Ok(summary)
}

fn label(job: &str, leg: &Option<String>) -> String {
    match leg {
        Some(l) => format!("{job} {l}"),
        None => job.to_string(),
    }
}

fn print_event(out: &mut impl Write, event: &RunEvent) {
    let _ = match event {
        RunEvent::JobSkipped { job, reason } => writeln!(out, "{job} | skipped: {reason}"),
        RunEvent::LegStarted { job, leg } => writeln!(out, "{} | ▶ job started", label(job, leg)),
        RunEvent::StepStarted { job, leg, step } => writeln!(out, "{} | ▶ {step}", label(job, leg)),
        RunEvent::Log { job, leg, line } => {
            let who = label(job, leg);
            match line {
                LogLine::Out(s) | LogLine::Err(s) => writeln!(out, "{who} | {s}"),
                LogLine::Group(s) => writeln!(out, "{who} | ▸ {s}"),
                LogLine::EndGroup => Ok(()),
                LogLine::Debug(s) => writeln!(out, "{who} | ##[debug] {s}"),
                LogLine::Annotation(a) => {
                    let place = match (&a.file, a.line) {
                        (Some(f), Some(l)) => format!(" {f}:{l}"),
                        (Some(f), None) => format!(" {f}"),
                        _ => String::new(),
                    };
                    writeln!(out, "{who} | {:?}{place}: {}", a.level, a.message)
                }
            }
        }
        RunEvent::StepFinished {
            job,
            leg,
            step,
            outcome,
            conclusion,
            ..
        } => {
            let mark = match conclusion {
                Conclusion::Success => "✓",
                Conclusion::Failure => "✗",
                _ => "-",
            };
            let note = if outcome != conclusion {
                format!(" ({} ignored: continue-on-error)", outcome.as_str())
            } else {
                String::new()
            };
            writeln!(out, "{} | {mark} {step}{note}", label(job, leg))
        }
        RunEvent::Summary { .. } => Ok(()),
        RunEvent::LegFinished {
            job,
            leg,
            conclusion,
            ..
        } => {
            writeln!(out, "{} | job {}", label(job, leg), conclusion.as_str())
        }
    };
}

fn fmt_duration(d: Duration) -> String {
    if d.as_secs() >= 60 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn print_summary(summary: &RunSummary) {
    let w_job = summary
        .legs
        .iter()
        .map(|l| l.job.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let w_leg = summary
        .legs
        .iter()
        .map(|l| l.leg.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    println!();
    println!(
        "{:<w_job$}  {:<w_leg$}  {:<9}  {:>8}  note",
        "job", "leg", "status", "duration"
    );
    for l in &summary.legs {
        let note = l.reason.clone().unwrap_or_default();
        let note = if l.allowed_to_fail && l.conclusion == Conclusion::Failure {
            format!("{note} (continue-on-error)").trim().to_string()
        } else {
            note
        };
        println!(
            "{:<w_job$}  {:<w_leg$}  {:<9}  {:>8}  {note}",
            l.job,
            l.leg.as_deref().unwrap_or("-"),
            l.conclusion.as_str(),
            fmt_duration(l.duration),
        );
    }
}
