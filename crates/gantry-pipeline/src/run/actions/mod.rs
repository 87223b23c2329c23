//! Built-in actions, run natively: no network, no Node. `uses:` names one
//! with any version (`@v4`, a SHA) or none (`gantry/scan`); anything else
//! is refused before a run starts. Besides GitHub's own actions there is
//! Gantry's `gantry/scan` (the security scan as a gate).
//!
//! An action is a function of its `with:` inputs and an [`ActionEnv`]; it
//! returns outputs and, optionally, a [`PostStep`] that the job runs after its
//! last step (GitHub's `post:`), such as saving a cache.

mod artifact;
mod cache;
mod checkout;
pub(crate) mod composite;
mod files;
pub(crate) mod scan;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::exec::{JobState, LogLine};

use super::{Conclusion, RunOptions};

/// Actions `uses:` may name.
pub const BUILT_IN_ACTIONS: &[&str] = &[
    "actions/checkout",
    "actions/cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    scan::NAME,
];

/// What a built-in action may use.
pub(crate) struct ActionEnv<'a> {
    pub opts: &'a RunOptions,
    pub state: &'a mut JobState,
    pub log: &'a mut (dyn FnMut(LogLine) + Send),
}

impl ActionEnv<'_> {
    pub fn info(&mut self, line: impl Into<String>) {
        (self.log)(LogLine::Out(line.into()));
    }

    pub fn warn(&mut self, line: impl Into<String>) {
        (self.log)(LogLine::Err(format!("warning: {}", line.into())));
    }

    /// Where built-in actions keep what outlives a job (caches, artifacts).
    pub fn state_dir(&self) -> PathBuf {
        self.opts.state_dir.clone()
    }
}

/// When a post step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PostIf {
    /// Only if every step so far succeeded (GitHub's default `post-if: success()`).
    Success,
    Always,
}

/// Work an action leaves for the end of the job.
#[derive(Clone, Debug)]
pub(crate) struct PostStep {
    pub action: &'static str,
    pub with: BTreeMap<String, String>,
    /// What the main step recorded for the post step.
    pub saved: BTreeMap<String, String>,
    pub condition: PostIf,
}

pub(crate) struct ActionOutcome {
    pub conclusion: Conclusion,
    pub outputs: BTreeMap<String, String>,
    /// Post steps this action (or, for a composite, its steps) left.
    pub posts: Vec<PostStep>,
}

impl ActionOutcome {
    pub fn success() -> Self {
        ActionOutcome {
            conclusion: Conclusion::Success,
            outputs: BTreeMap::new(),
            posts: Vec::new(),
        }
    }
}

/// The built-in action a `uses:` value names, if any.
pub(crate) fn builtin(uses: &str) -> Option<&'static str> {
    let name = uses.split('@').next().unwrap_or(uses);
    BUILT_IN_ACTIONS
        .iter()
        .copied()
        .find(|b| b.eq_ignore_ascii_case(name))
}

/// Warns about inputs an action does not document, like GitHub's
/// "Unexpected input(s)".
pub(crate) fn check_inputs(
    env: &mut ActionEnv<'_>,
    with: &BTreeMap<String, String>,
    known: &[&str],
) {
    let unexpected: Vec<&str> = with
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if !unexpected.is_empty() {
        env.warn(format!(
            "unexpected input(s) {}, valid inputs are [{}]",
            unexpected.join(", "),
            known.join(", ")
        ));
    }
}

pub(crate) async fn run(
    uses: &str,
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    match builtin(uses) {
        Some("actions/checkout") => checkout::run(with, env).await,
        Some("actions/cache") => cache::run(with, env).await,
        Some("actions/upload-artifact") => artifact::upload(with, env).await,
        Some("actions/download-artifact") => artifact::download(with, env).await,
        Some(scan::NAME) => scan::run(with, env).await,
        _ => Err(format!("`{uses}` is not a built-in action")),
    }
}

pub(crate) async fn run_post(
    post: &PostStep,
    env: &mut ActionEnv<'_>,
) -> Result<Conclusion, String> {
    // Each action with a post step adds its arm here.
    match post.action {
        "actions/cache" => cache::post(post, env).await,
        other => Err(format!("`{other}` has no post step")),
    }
}
