//! `gantry drift`: a refresh-only plan of one Terraform directory, listing
//! what changed outside Gantry per resource and attribute (exit 0 none, 2
//! drift, 1 error); and the server's scheduled checks of the `stacks:` in
//! gantry.yml, each result an `infra.drift` event.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_config::Schedule;
use gantry_core::{EventKind, NewEvent, Timestamp};
use gantry_iac::engine::drift::ResourceDrift;
use gantry_store::Store;
use serde::Serialize;
use serde_json::json;

use crate::cli::DriftArgs;
use crate::{CmdResult, Failure};

/// The outcome of one check.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub stack: String,
    pub workspace: String,
    /// Resource instances in the state.
    pub checked: usize,
    /// Those that drifted.
    pub resources: Vec<ResourceDrift>,
}

pub fn run(args: DriftArgs) -> CmdResult {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::Failed(anyhow::anyhow!("starting the async runtime: {e}")))?;
    let dir = args.dir;
    if !dir.is_dir() {
        eprintln!("error: {}: no such directory", dir.display());
        return Err(Failure::Reported(1));
    }
    let outcome = rt.block_on(async {
        let store = crate::tf_cmd::open_store(&dir).await;
        let result = crate::tf_cmd::drift_check(&dir, store.clone()).await;
        if let Some(store) = &store {
            record(&**store, &dir, &result).await;
        }
        result
    });
    match outcome {
        Err(e) => {
            let e = e.trim_end();
            if e.starts_with("error") {
                eprintln!("{e}");
            } else {
                eprintln!("error: {e}");
            }
            Err(Failure::Reported(1))
        }
        Ok(c) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&c).unwrap_or_else(|_| "{}".into())
                );
            } else {
                print!("{}", render(&c));
            }
            if c.resources.is_empty() {
                Ok(())
            } else {
                Err(Failure::Reported(2))
            }
        }
    }
}

/// The text report.
pub fn render(c: &Checked) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let ws = if c.workspace == "default" {
        String::new()
    } else {
        format!(" (workspace {})", c.workspace)
    };
    if c.resources.is_empty() {
        let _ = writeln!(
            out,
            "No drift: the {} resource instance(s) of stack {}{ws} match the real infrastructure.",
            c.checked, c.stack
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Drift in stack {}{ws}: {} of {} resource instance(s) changed outside Gantry.\n",
        c.stack,
        c.resources.len(),
        c.checked
    );
    for r in &c.resources {
        match r.change {
            "deleted" => {
                let _ = writeln!(out, "  - {} was deleted", r.address);
            }
            _ => {
                let _ = writeln!(out, "  ~ {}", r.address);
                for a in &r.attributes {
                    let _ = writeln!(out, "      {}: {} -> {}", a.path, a.before, a.after);
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\nRun `gantry apply` to put the infrastructure back as configured, or\n`gantry apply -refresh-only` to accept the changes into the state."
    );
    out
}

/// The `infra.drift` event data: which resources and attribute paths
/// drifted (values stay out of the event log), or the error.
pub fn event_data(dir: &Path, result: &Result<Checked, String>) -> serde_json::Value {
    match result {
        Ok(c) => json!({
            "stack": c.stack,
            "dir": dir.display().to_string(),
            "workspace": c.workspace,
            "checked": c.checked,
            "drifted": c.resources.len(),
            "resources": c.resources.iter().map(|r| json!({
                "address": r.address,
                "change": r.change,
                "attributes": r.attributes.iter().map(|a| a.path.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        Err(e) => json!({
            "dir": dir.display().to_string(),
            "error": e.trim_end(),
        }),
    }
}

async fn record(store: &dyn Store, dir: &Path, result: &Result<Checked, String>) {
    let data = event_data(dir, result);
    let stack = match result {
        Ok(c) => c.stack.clone(),
        Err(_) => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "root".into()),
    };
    append(store, &stack, data).await;
}

async fn append(store: &dyn Store, stack: &str, data: serde_json::Value) {
    let Ok(kind) = EventKind::new("infra.drift") else {
        return;
    };
    let event = NewEvent::new(kind, format!("stack/{stack}"), "gantry:drift", data);
    if let Err(e) = store.append(vec![event]).await {
        tracing::warn!(error = %e, "could not record a drift check in the event log");
    }
}

/// A `stacks:` entry the server checks: its name, resolved directory and
/// schedule.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub name: String,
    pub dir: PathBuf,
    pub schedule: Schedule,
}

/// How long from `now` until the next check.
fn until_next(
    schedule: &Schedule,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<std::time::Duration> {
    match schedule {
        Schedule::Every(d) => Some(*d),
        Schedule::Cron(c) => c.next_after(now).and_then(|t| (t - now).to_std().ok()),
    }
}

/// How long a replica's claim on one scheduled check lasts: most of an
/// interval (so replicas started at different times do not each check),
/// half a minute for a cron fire time (minute granularity).
fn claim_ttl(schedule: &Schedule) -> std::time::Duration {
    match schedule {
        Schedule::Every(d) => d.mul_f64(0.9),
        Schedule::Cron(_) => std::time::Duration::from_secs(30),
    }
}

/// Checks each stack on its schedule until the task is dropped, recording
/// every result as an `infra.drift` event (subject `stack/NAME`). Replicas
/// sharing a store claim each check through a lease, so one of them runs it.
pub async fn schedule(stacks: Vec<Scheduled>, store: Arc<dyn Store>) {
    let holder = format!("drift-{}", gantry_core::Id::new());
    let mut tasks = tokio::task::JoinSet::new();
    for s in stacks {
        let store = store.clone();
        let holder = holder.clone();
        tasks.spawn(async move {
            // An interval schedule checks at start and then every
            // interval; a cron schedule at its next fire time.
            let mut wait = match s.schedule {
                Schedule::Every(_) => Some(std::time::Duration::ZERO),
                Schedule::Cron(_) => until_next(&s.schedule, chrono::Utc::now()),
            };
            while let Some(w) = wait {
                tokio::time::sleep(w).await;
                wait = until_next(&s.schedule, chrono::Utc::now());
                let lease = format!("drift/{}", s.name);
                match store
                    .try_acquire_lease(&lease, &holder, claim_ttl(&s.schedule))
                    .await
                {
                    Ok(Some(_)) => {}
                    Ok(None) => continue, // another replica runs this one
                    Err(e) => {
                        tracing::warn!(stack = %s.name, error = %e, "cannot claim the drift check");
                        continue;
                    }
                }
                let started = Timestamp::now();
                let result = crate::tf_cmd::drift_check(&s.dir, Some(store.clone())).await;
                let mut data = event_data(&s.dir, &result);
                data["stack"] = json!(s.name);
                data["started_at"] = json!(started.to_string());
                match &result {
                    Ok(c) if !c.resources.is_empty() => tracing::warn!(
                        stack = %s.name,
                        drifted = c.resources.len(),
                        "drift detected"
                    ),
                    Ok(_) => tracing::info!(stack = %s.name, "no drift"),
                    Err(e) => tracing::warn!(stack = %s.name, error = %e, "drift check failed"),
                }
                append(&*store, &s.name, data).await;
            }
            tracing::warn!(stack = %s.name, "the schedule never fires again; drift checks stop");
        });
    }
    while tasks.join_next().await.is_some() {}
}
