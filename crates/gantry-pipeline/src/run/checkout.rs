//! Built-in actions, run natively (no network, no Node).

use std::collections::BTreeMap;

use crate::exec::{JobState, LogLine};

use super::{Conclusion, RunOptions};

/// Actions `uses:` may name (any version: `@v4`, a SHA).
pub const BUILT_IN_ACTIONS: &[&str] = &["actions/checkout"];

/// Inputs actions/checkout documents; others get a warning like GitHub's
/// "Unexpected input(s)".
const CHECKOUT_INPUTS: &[&str] = &[
    "repository",
    "ref",
    "token",
    "ssh-key",
    "ssh-known-hosts",
    "ssh-strict",
    "ssh-user",
    "persist-credentials",
    "path",
    "clean",
    "filter",
    "sparse-checkout",
    "sparse-checkout-cone-mode",
    "fetch-depth",
    "fetch-tags",
    "show-progress",
    "lfs",
    "submodules",
    "set-safe-directory",
    "github-server-url",
];

/// The built-in action a `uses:` value names, if any.
pub(crate) fn builtin(uses: &str) -> Option<&'static str> {
    let name = uses.split('@').next().unwrap_or(uses);
    BUILT_IN_ACTIONS
        .iter()
        .copied()
        .find(|b| b.eq_ignore_ascii_case(name))
}

pub(crate) async fn run_builtin(
    uses: &str,
    with: &BTreeMap<String, String>,
    opts: &RunOptions,
    state: &mut JobState,
    log: &mut (dyn FnMut(LogLine) + Send),
) -> Result<Conclusion, String> {
    match builtin(uses) {
        Some("actions/checkout") => checkout(with, opts, state, log).await,
        _ => Err(format!("`{uses}` is not a built-in action")),
    }
}

/// actions/checkout from the local repository: a clone of `repo_root` into
/// the workspace (or `path` under it), detached at `ref` (default: the
/// commit under test). The clone has full history, so `fetch-depth` is
/// satisfied whatever it says; uncommitted changes are not part of the
/// commit and are not copied.
async fn checkout(
    with: &BTreeMap<String, String>,
    opts: &RunOptions,
    state: &mut JobState,
    log: &mut (dyn FnMut(LogLine) + Send),
) -> Result<Conclusion, String> {
    let unexpected: Vec<&str> = with
        .keys()
        .map(String::as_str)
        .filter(|k| !CHECKOUT_INPUTS.contains(k))
        .collect();
    if !unexpected.is_empty() {
        log(LogLine::Err(format!(
            "warning: unexpected input(s) {}, valid inputs are [{}]",
            unexpected.join(", "),
            CHECKOUT_INPUTS.join(", ")
        )));
    }
    if let Some(repo) = with
        .get("repository")
        .filter(|r| !r.is_empty() && **r != opts.git.repository)
    {
        return Err(format!(
            "actions/checkout: `repository: {repo}` needs the network; only this repository can be checked out"
        ));
    }
    let rel = with.get("path").map_or("", String::as_str);
    if rel.split('/').any(|c| c == "..") {
        return Err(format!(
            "actions/checkout: `path: {rel}` must stay inside the workspace"
        ));
    }
    let dest = state.workspace.join(rel);
    let git_ref = with
        .get("ref")
        .filter(|r| !r.is_empty())
        .cloned()
        .unwrap_or_else(|| opts.git.sha.clone());
    if git_ref.is_empty() {
        return Err(format!(
            "actions/checkout: {} is not a git repository with a commit",
            opts.repo_root.display()
        ));
    }
    log(LogLine::Out(format!(
        "Checking out {} at {git_ref} into {}",
        opts.repo_root.display(),
        dest.display()
    )));
    git(&[
        "clone",
        "--quiet",
        "--no-checkout",
        &opts.repo_root.display().to_string(),
        &dest.display().to_string(),
    ])
    .await?;
    git(&[
        "-C",
        &dest.display().to_string(),
        "checkout",
        "--quiet",
        "--detach",
        &git_ref,
    ])
    .await?;
    Ok(Conclusion::Success)
}

async fn git(args: &[&str]) -> Result<(), String> {
    let out = tokio::process::Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .await
        .map_err(|e| format!("actions/checkout: cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "actions/checkout: git {} failed: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
