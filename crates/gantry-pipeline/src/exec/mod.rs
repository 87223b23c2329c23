//! Host-shell executor and the GitHub Actions step protocol.
//!
//! [`run_step`] runs one `run:` step whose script is already rendered, inside
//! a job's [`JobState`], and reports what the step did ([`StepResult`]).
//!
//! What a step sees and does, matching the GitHub runner:
//! - **Shell** ([`Shell`]): `bash --noprofile --norc -eo pipefail {0}`,
//!   `sh -e {0}`, `python {0}` (falling back to `python3`),
//!   `pwsh -command ". '{0}'"`, or a custom template with `{0}`. The script is
//!   written to a file in `RUNNER_TEMP` with the shell's extension; the shell
//!   is looked up on the step's own `PATH`.
//! - **Environment**: cleared, then `base_env`, the job's `$GITHUB_ENV`
//!   values, the step's `env`; `GITHUB_*`/`RUNNER_*` values from `base_env`
//!   cannot be overridden (GitHub's rule for default variables); `PATH` gets
//!   the `$GITHUB_PATH` entries prepended (most recent first); the per-step
//!   files `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`,
//!   `GITHUB_STEP_SUMMARY`, `GITHUB_STATE` and `GITHUB_ACTION` are set last.
//!   Nothing else of the calling process is inherited.
//! - **Environment files** are read after the step. A malformed
//!   `$GITHUB_OUTPUT`/`$GITHUB_ENV`/`$GITHUB_STATE` entry (or a heredoc without
//!   its closing delimiter) is an error annotation and fails the step; the
//!   entries before it still apply, as in the runner. `NODE_OPTIONS` is refused
//!   in `$GITHUB_ENV` (error annotation, step not failed), as GitHub does since
//!   2023-10. A step summary over 1 MiB is refused with an error annotation.
//! - **Workflow commands** on stdout *and* stderr: `add-mask`, `set-output`
//!   and `save-state` (deprecated: they work and add a warning), `group`,
//!   `endgroup`, `error`/`warning`/`notice` with `file,line,col,endLine,
//!   endColumn,title`, `debug`, `echo`, `stop-commands`. `set-env` and
//!   `add-path` are disabled (an error that fails the step, as on GitHub;
//!   there is no `ACTIONS_ALLOW_UNSECURE_COMMANDS` opt-in). `add-matcher` and
//!   `remove-matcher` are accepted and ignored (problem matchers are not
//!   implemented). Other `::x::` lines are printed as they are. A command that
//!   cannot be processed (e.g. `set-output` without `name`) is an error
//!   annotation and fails the step, as in the runner.
//! - **Masking**: every log line, annotation and the summary pass through the
//!   [`Masker`]; outputs, env values and state are returned unmasked.
//! - **Termination**: the shell runs in its own process group. On timeout or
//!   cancellation the group gets SIGTERM, then SIGKILL after
//!   [`StepSpec::kill_grace`]. Background processes still alive after a
//!   normal exit are left running (a later step may use them) and recorded in
//!   [`JobState::process_groups`]; [`cleanup_job`] ends them.
//! - **Output**: stdout and stderr are read concurrently, line by line; lines
//!   over [`MAX_LINE_BYTES`] are split; invalid UTF-8 is replaced with U+FFFD.
//!   After the shell exits, output is drained for at most [`POST_EXIT_DRAIN`]
//!   (a background process that keeps the pipes open must not hang the step).

mod commands;
mod files;
mod mask;
mod process;
mod runner;
mod shell;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use mask::{MASK, Masker};
pub use process::MAX_LINE_BYTES;
pub use runner::{POST_EXIT_DRAIN, cleanup_job, run_step};
pub use shell::Shell;

/// The state of one job run, carried from step to step. Serialisable so a
/// job can be handed to another process (a remote agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    /// `GITHUB_WORKSPACE`: fresh per job, created by the caller.
    pub workspace: PathBuf,
    /// `RUNNER_TEMP`: per-job temp dir for scripts and command files, created
    /// by the caller.
    pub temp: PathBuf,
    /// `GITHUB_*`, `RUNNER_*`, `CI`, `HOME`, `PATH`: the whole environment a
    /// step starts from.
    pub base_env: BTreeMap<String, String>,
    /// Accumulated from `$GITHUB_ENV` by earlier steps.
    pub env: BTreeMap<String, String>,
    /// Accumulated from `$GITHUB_PATH`, most recent first, no duplicates.
    pub path: Vec<String>,
    /// Secret values and `::add-mask::` values.
    pub masks: Vec<String>,
    /// The job's step summaries so far (masked).
    pub summary: String,
    /// Process groups of steps that left background processes running.
    #[serde(default)]
    pub process_groups: Vec<u32>,
    /// Number of steps started so far (names the per-step files).
    #[serde(default)]
    pub steps_started: u64,
}

impl JobState {
    /// A job with nothing accumulated yet.
    pub fn new(workspace: PathBuf, temp: PathBuf, base_env: BTreeMap<String, String>) -> Self {
        JobState {
            workspace,
            temp,
            base_env,
            env: BTreeMap::new(),
            path: Vec::new(),
            masks: Vec::new(),
            summary: String::new(),
            process_groups: Vec::new(),
            steps_started: 0,
        }
    }
}

/// One `run:` step, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSpec {
    /// `id:`; also `GITHUB_ACTION` (`__run` without one).
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    pub shell: Shell,
    /// The script, expressions already rendered.
    pub script: String,
    /// Relative to the workspace (an absolute path is used as is); must exist.
    pub working_directory: Option<PathBuf>,
    /// Workflow + job + step `env`, merged and rendered.
    pub env: BTreeMap<String, String>,
    /// `timeout-minutes`.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL on timeout or cancellation.
    pub kill_grace: Duration,
}

/// Default [`StepSpec::kill_grace`].
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

impl StepSpec {
    /// A step running `script` with `shell`, no env, no timeout.
    pub fn new(shell: Shell, script: impl Into<String>) -> Self {
        StepSpec {
            id: None,
            name: "run".into(),
            shell,
            script: script.into(),
            working_directory: None,
            env: BTreeMap::new(),
            timeout: None,
            kill_grace: DEFAULT_KILL_GRACE,
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Non-zero exit (`exit_code: None` when killed by a signal), or a
    /// protocol error (bad environment file, failed command) with the
    /// shell's own exit code, possibly 0.
    Failure {
        exit_code: Option<i32>,
    },
    TimedOut,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

/// An `::error`/`::warning`/`::notice` command, or a problem the executor
/// reports about the step. Masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub level: AnnotationLevel,
    pub message: String,
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub col: Option<u64>,
    pub end_line: Option<u64>,
    pub end_column: Option<u64>,
}

impl Annotation {
    pub(crate) fn plain(level: AnnotationLevel, message: impl Into<String>) -> Self {
        Annotation {
            level,
            message: message.into(),
            title: None,
            file: None,
            line: None,
            col: None,
            end_line: None,
            end_column: None,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub outcome: Outcome,
    /// From `$GITHUB_OUTPUT` and `::set-output` (unmasked).
    pub outputs: BTreeMap<String, String>,
    /// From `$GITHUB_STATE` and `::save-state` (unmasked; for post steps).
    pub state: BTreeMap<String, String>,
    pub annotations: Vec<Annotation>,
    /// This step's `$GITHUB_STEP_SUMMARY` (masked); also appended to
    /// [`JobState::summary`].
    pub summary: String,
    pub duration: Duration,
}

/// One line of a step's log, already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum LogLine {
    Out(String),
    Err(String),
    Group(String),
    EndGroup,
    Debug(String),
    Annotation(Annotation),
}

/// Why a step could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("shell program `{program}` not found on PATH `{path}`")]
    ShellNotFound { program: String, path: String },
    #[error("invalid shell `{shell}`: {reason}")]
    InvalidShell { shell: String, reason: String },
    #[error("working directory `{}` does not exist or is not a directory", path.display())]
    WorkingDirectory { path: PathBuf },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}
