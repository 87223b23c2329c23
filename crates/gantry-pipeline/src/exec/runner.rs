//! [`run_step`]: start the shell, stream and interpret its output, apply the
//! environment files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::commands::{self, Command};
use super::files;
use super::mask::Masker;
use super::process::{self, Stream};
use super::{
    Annotation, AnnotationLevel, ExecError, JobState, LogLine, Outcome, StepResult, StepSpec,
};

/// How long output is still read after the shell exits, for pipes that a
/// background process keeps open.
pub const POST_EXIT_DRAIN: Duration = Duration::from_secs(1);

/// GitHub's limit for one step's summary.
const SUMMARY_LIMIT: u64 = 1024 * 1024;

/// `PATH` when `base_env` has none.
const FALLBACK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs one step. See the [module docs](super) for the protocol.
///
/// `cancel` flips to `true` to cancel the step (a dropped sender never
/// cancels). `log` receives every log line, masked, in order per stream.
/// Returns `Err` only when the step could not be started.
pub async fn run_step(
    spec: &StepSpec,
    job: &mut JobState,
    mut cancel: watch::Receiver<bool>,
    log: &mut (dyn FnMut(LogLine) + Send),
) -> Result<StepResult, ExecError> {
    let started = Instant::now();
    let mut masker = Masker::new(&job.masks);
    if *cancel.borrow_and_update() {
        return Ok(empty_result(Outcome::Cancelled, started.elapsed()));
    }

    let cwd = match &spec.working_directory {
        Some(dir) => job.workspace.join(dir),
        None => job.workspace.clone(),
    };
    if !cwd.is_dir() {
        return Err(ExecError::WorkingDirectory { path: cwd });
    }

    job.steps_started += 1;
    let files_dir = job.temp.join("_runner_file_commands");
    std::fs::create_dir_all(&files_dir).map_err(|e| io_err(&files_dir, "create", e))?;
    let unique = format!("{}_{}", job.steps_started, unique_suffix());
    let step_files = StepFiles {
        output: files_dir.join(format!("set_output_{unique}")),
        env: files_dir.join(format!("set_env_{unique}")),
        path: files_dir.join(format!("add_path_{unique}")),
        summary: files_dir.join(format!("step_summary_{unique}")),
        state: files_dir.join(format!("save_state_{unique}")),
    };

    let env = build_env(spec, job, &step_files);
    let path_var = env.get("PATH").map(String::as_str).unwrap_or(FALLBACK_PATH);
    let (plan, program) = spec.shell.plan(path_var, &cwd)?;

    let script_path = job.temp.join(format!("{unique}{}", plan.extension));
    let script = if plan.powershell {
        format!(
            "$ErrorActionPreference = 'stop'\n{}\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) {{ exit $LASTEXITCODE }}\n",
            spec.script
        )
    } else {
        spec.script.clone()
    };
    std::fs::write(&script_path, script).map_err(|e| io_err(&script_path, "write", e))?;
    for f in step_files.all() {
        std::fs::write(f, b"").map_err(|e| io_err(f, "create", e))?;
    }
    let _cleanup = RemoveOnDrop(
        std::iter::once(script_path.clone())
            .chain(step_files.all().into_iter().cloned())
            .collect(),
    );

    let inv = plan.invocation(program, &script_path);
    let mut cmd = tokio::process::Command::new(&inv.program);
    cmd.args(&inv.args)
        .current_dir(&cwd)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| ExecError::Io {
        context: format!("could not start `{}`", inv.program.display()),
        source: e,
    })?;
    // The group id is the child's pid (process_group(0)).
    let pgid = child.id().unwrap_or(0);

    let (tx, mut rx) = mpsc::channel::<(Stream, String)>(256);
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(process::read_lines(
            out,
            Stream::Out,
            tx.clone(),
        )));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(process::read_lines(
            err,
            Stream::Err,
            tx.clone(),
        )));
    }
    drop(tx);

    let mut proto = Protocol::default();
    let far = Instant::now() + Duration::from_secs(60 * 60 * 24 * 365);
    let deadline = spec.timeout.and_then(|t| Instant::now().checked_add(t));
    let timeout_sleep = tokio::time::sleep_until(deadline.unwrap_or(far));
    tokio::pin!(timeout_sleep);
    let drain_sleep = tokio::time::sleep_until(far);
    tokio::pin!(drain_sleep);

    let mut status: Option<std::io::Result<std::process::ExitStatus>> = None;
    let mut stopped: Option<Outcome> = None;
    let mut killer: Option<tokio::task::JoinHandle<()>> = None;
    let mut output_done = false;
    let mut cancel_open = true;

    loop {
        if status.is_some() && output_done {
            break;
        }
        tokio::select! {
            biased;
            msg = rx.recv(), if !output_done => match msg {
                Some((stream, line)) => proto.line(stream, line, &mut masker, job, log),
                None => output_done = true,
            },
            st = child.wait(), if status.is_none() => {
                status = Some(st);
                drain_sleep.as_mut().reset(Instant::now() + POST_EXIT_DRAIN);
            }
            _ = &mut timeout_sleep, if deadline.is_some() && stopped.is_none() => {
                stopped = Some(Outcome::TimedOut);
                killer = Some(tokio::spawn(process::terminate_group(pgid, spec.kill_grace)));
            }
            changed = cancel.changed(), if cancel_open && stopped.is_none() => match changed {
                Ok(()) => {
                    if *cancel.borrow_and_update() {
                        stopped = Some(Outcome::Cancelled);
                        killer = Some(tokio::spawn(process::terminate_group(pgid, spec.kill_grace)));
                    }
                }
                Err(_) => cancel_open = false,
            },
            _ = &mut drain_sleep, if status.is_some() => {
                tracing::debug!(pgid, "output still open after the shell exited; stop reading");
                break;
            }
        }
    }
    for r in &readers {
        r.abort();
    }
    // Lines already queued are still shown.
    while let Ok((stream, line)) = rx.try_recv() {
        proto.line(stream, line, &mut masker, job, log);
    }
    if let Some(k) = killer {
        let _ = k.await;
    } else if pgid > 1
        && !process::group_members(pgid).await.is_empty()
        && !job.process_groups.contains(&pgid)
    {
        job.process_groups.push(pgid);
    }

    // Environment files.
    let mut failed = proto.failed;
    let mut annotations = std::mem::take(&mut proto.annotations);
    let mut outputs = std::mem::take(&mut proto.outputs);
    let mut state = std::mem::take(&mut proto.state);
    let file_error = |kind: &str,
                      msg: String,
                      masker: &Masker,
                      ann: &mut Vec<Annotation>,
                      log: &mut (dyn FnMut(LogLine) + Send)| {
        let a = Annotation::plain(
            AnnotationLevel::Error,
            masker.mask(&format!(
                "unable to process file command '{kind}' successfully: {msg}"
            )),
        );
        log(LogLine::Annotation(a.clone()));
        ann.push(a);
    };

    let (pairs, err) = files::parse_key_values(&read_file(&step_files.output));
    outputs.extend(pairs);
    if let Some(e) = err {
        failed = true;
        file_error("output", e, &masker, &mut annotations, log);
    }
    let (pairs, err) = files::parse_key_values(&read_file(&step_files.state));
    state.extend(pairs);
    if let Some(e) = err {
        failed = true;
        file_error("state", e, &masker, &mut annotations, log);
    }
    let (pairs, err) = files::parse_key_values(&read_file(&step_files.env));
    for (k, v) in pairs {
        if k.eq_ignore_ascii_case("NODE_OPTIONS") {
            // GitHub's wording; an error annotation that does not fail the step.
            let a = Annotation::plain(
                AnnotationLevel::Error,
                "can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command",
            );
            log(LogLine::Annotation(a.clone()));
            annotations.push(a);
            continue;
        }
        job.env.insert(k, v);
    }
    if let Some(e) = err {
        failed = true;
        file_error("env", e, &masker, &mut annotations, log);
    }
    for p in files::parse_path_lines(&read_file(&step_files.path)) {
        job.path.retain(|x| *x != p);
        job.path.insert(0, p);
    }
    let mut summary = String::new();
    let size = std::fs::metadata(&step_files.summary)
        .map(|m| m.len())
        .unwrap_or(0);
    if size > SUMMARY_LIMIT {
        let a = Annotation::plain(
            AnnotationLevel::Error,
            format!(
                "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of {}k, got {}k",
                SUMMARY_LIMIT / 1024,
                size / 1024
            ),
        );
        log(LogLine::Annotation(a.clone()));
        annotations.push(a);
    } else {
        summary = masker.mask(&read_file(&step_files.summary));
        job.summary.push_str(&summary);
    }

    let outcome = match (stopped, status) {
        (Some(o), _) => o,
        (None, Some(Ok(st))) => match st.code() {
            Some(0) if !failed => Outcome::Success,
            code => Outcome::Failure { exit_code: code },
        },
        (None, Some(Err(e))) => {
            return Err(ExecError::Io {
                context: "waiting for the shell".into(),
                source: e,
            });
        }
        // Output drained and the loop left without a status: impossible (the
        // loop only breaks after the status arrived).
        (None, None) => Outcome::Failure { exit_code: None },
    };

    Ok(StepResult {
        outcome,
        outputs,
        state,
        annotations,
        summary,
        duration: started.elapsed(),
    })
}

/// Ends the background processes that steps of this job left running
/// (SIGTERM, then SIGKILL after `grace`). Call when the job is over.
pub async fn cleanup_job(job: &mut JobState, grace: Duration) {
    for pgid in std::mem::take(&mut job.process_groups) {
        process::terminate_group(pgid, grace).await;
    }
}

struct StepFiles {
    output: PathBuf,
    env: PathBuf,
    path: PathBuf,
    summary: PathBuf,
    state: PathBuf,
}

impl StepFiles {
    fn all(&self) -> [&PathBuf; 5] {
        [
            &self.output,
            &self.env,
            &self.path,
            &self.summary,
            &self.state,
        ]
    }
}

struct RemoveOnDrop(Vec<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn build_env(spec: &StepSpec, job: &JobState, f: &StepFiles) -> BTreeMap<String, String> {
    let path_str = |p: &Path| p.to_string_lossy().into_owned();
    let mut defaults = job.base_env.clone();
    defaults.insert("GITHUB_WORKSPACE".into(), path_str(&job.workspace));
    defaults.insert("RUNNER_TEMP".into(), path_str(&job.temp));

    let mut env = defaults.clone();
    env.extend(job.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    for (k, v) in &defaults {
        if k.starts_with("GITHUB_") || k.starts_with("RUNNER_") {
            env.insert(k.clone(), v.clone());
        }
    }
    let base_path = env
        .get("PATH")
        .cloned()
        .unwrap_or_else(|| FALLBACK_PATH.to_string());
    let mut path: Vec<String> = job.path.clone();
    if !base_path.is_empty() {
        path.push(base_path);
    }
    env.insert("PATH".into(), path.join(":"));
    env.insert("GITHUB_OUTPUT".into(), path_str(&f.output));
    env.insert("GITHUB_ENV".into(), path_str(&f.env));
    env.insert("GITHUB_PATH".into(), path_str(&f.path));
    env.insert("GITHUB_STEP_SUMMARY".into(), path_str(&f.summary));
    env.insert("GITHUB_STATE".into(), path_str(&f.state));
    env.insert(
        "GITHUB_ACTION".into(),
        spec.id.clone().unwrap_or_else(|| "__run".into()),
    );
    env
}

fn read_file(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn io_err(p: &Path, what: &str, e: std::io::Error) -> ExecError {
    ExecError::Io {
        context: format!("could not {what} `{}`", p.display()),
        source: e,
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{nanos:x}", std::process::id())
}

fn empty_result(outcome: Outcome, duration: Duration) -> StepResult {
    StepResult {
        outcome,
        outputs: BTreeMap::new(),
        state: BTreeMap::new(),
        annotations: Vec::new(),
        summary: String::new(),
        duration,
    }
}

/// Interprets the output stream: workflow commands, masking, logging.
#[derive(Default)]
struct Protocol {
    outputs: BTreeMap<String, String>,
    state: BTreeMap<String, String>,
    annotations: Vec<Annotation>,
    failed: bool,
    echo: bool,
    stop_token: Option<String>,
    warned_set_output: bool,
    warned_save_state: bool,
}

impl Protocol {
    fn line(
        &mut self,
        stream: Stream,
        line: String,
        masker: &mut Masker,
        job: &mut JobState,
        log: &mut (dyn FnMut(LogLine) + Send),
    ) {
        let plain = |masker: &Masker, log: &mut (dyn FnMut(LogLine) + Send), text: &str| {
            let text = masker.mask(text);
            log(match stream {
                Stream::Out => LogLine::Out(text),
                Stream::Err => LogLine::Err(text),
            });
        };
        if let Some(token) = &self.stop_token {
            if line.trim() == format!("::{token}::") {
                self.stop_token = None;
                if self.echo {
                    plain(masker, log, &line);
                }
            } else {
                plain(masker, log, &line);
            }
            return;
        }
        let Some(cmd) = commands::parse(&line) else {
            plain(masker, log, &line);
            return;
        };
        // add-mask first so an echoed add-mask line is already masked.
        if cmd.name == "add-mask" {
            self.add_mask(&cmd, masker, job, log);
            if self.echo {
                plain(masker, log, &line);
            }
            return;
        }
        if self.echo {
            plain(masker, log, &line);
        }
        if let Err(msg) = self.command(&cmd, masker, log) {
            self.failed = true;
            let a = Annotation::plain(
                AnnotationLevel::Error,
                masker.mask(&format!(
                    "unable to process command '{line}' successfully: {msg}"
                )),
            );
            log(LogLine::Annotation(a.clone()));
            self.annotations.push(a);
        }
    }

    fn add_mask(
        &mut self,
        cmd: &Command,
        masker: &mut Masker,
        job: &mut JobState,
        log: &mut (dyn FnMut(LogLine) + Send),
    ) {
        if cmd.data.trim().is_empty() {
            self.annotate(
                Annotation::plain(
                    AnnotationLevel::Warning,
                    "can't add secret mask for empty string in ##[add-mask] command",
                ),
                log,
            );
            return;
        }
        masker.add(&cmd.data);
        if !job.masks.contains(&cmd.data) {
            job.masks.push(cmd.data.clone());
        }
    }

    fn annotate(&mut self, a: Annotation, log: &mut (dyn FnMut(LogLine) + Send)) {
        log(LogLine::Annotation(a.clone()));
        self.annotations.push(a);
    }

    fn command(
        &mut self,
        cmd: &Command,
        masker: &Masker,
        log: &mut (dyn FnMut(LogLine) + Send),
    ) -> Result<(), String> {
        match cmd.name.as_str() {
            "set-output" | "save-state" => {
                let Some(name) = cmd.prop("name") else {
                    return Err(format!(
                        "required field 'name' is missing in ##[{}] command",
                        cmd.name
                    ));
                };
                let (map, warned) = if cmd.name == "set-output" {
                    (&mut self.outputs, &mut self.warned_set_output)
                } else {
                    (&mut self.state, &mut self.warned_save_state)
                };
                map.insert(name.to_string(), cmd.data.clone());
                if !*warned {
                    *warned = true;
                    let a = Annotation::plain(
                        AnnotationLevel::Warning,
                        format!(
                            "the `{}` command is deprecated; write to ${} instead",
                            cmd.name,
                            if cmd.name == "set-output" {
                                "GITHUB_OUTPUT"
                            } else {
                                "GITHUB_STATE"
                            }
                        ),
                    );
                    self.annotate(a, log);
                }
                Ok(())
            }
            "set-env" | "add-path" => Err(format!(
                "the `{}` command is disabled; use ${} instead",
                cmd.name,
                if cmd.name == "set-env" {
                    "GITHUB_ENV"
                } else {
                    "GITHUB_PATH"
                }
            )),
            "error" | "warning" | "notice" => {
                let level = match cmd.name.as_str() {
                    "error" => AnnotationLevel::Error,
                    "warning" => AnnotationLevel::Warning,
                    _ => AnnotationLevel::Notice,
                };
                let num = |k: &str| cmd.prop(k).and_then(|v| v.trim().parse::<u64>().ok());
                let text = |k: &str| cmd.prop(k).map(|v| masker.mask(v));
                let a = Annotation {
                    level,
                    message: masker.mask(&cmd.data),
                    title: text("title"),
                    file: text("file"),
                    line: num("line"),
                    col: num("col"),
                    end_line: num("endLine"),
                    end_column: num("endColumn"),
                };
                self.annotate(a, log);
                Ok(())
            }
            "debug" => {
                log(LogLine::Debug(masker.mask(&cmd.data)));
                Ok(())
            }
            "group" => {
                log(LogLine::Group(masker.mask(&cmd.data)));
                Ok(())
            }
            "endgroup" => {
                log(LogLine::EndGroup);
                Ok(())
            }
            "echo" => match cmd.data.trim().to_ascii_lowercase().as_str() {
                "on" => {
                    self.echo = true;
                    Ok(())
                }
                "off" => {
                    self.echo = false;
                    Ok(())
                }
                _ => Err("invalid echo command value: expected 'on' or 'off'".into()),
            },
            "stop-commands" => {
                if commands::is_reserved_token(&cmd.data) {
                    return Err(
                        "invalid stop-commands token: it must be non-empty and not a command name"
                            .into(),
                    );
                }
                self.stop_token = Some(cmd.data.clone());
                Ok(())
            }
            "add-matcher" | "remove-matcher" => {
                log(LogLine::Debug(format!(
                    "problem matchers are not supported; ignoring ::{}::",
                    cmd.name
                )));
                Ok(())
            }
            // `parse` only returns registered commands, all handled above.
            other => Err(format!("unsupported command '{other}'")),
        }
    }
}
