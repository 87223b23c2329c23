//! actions/checkout, from the local repository.

use std::collections::BTreeMap;

use super::{ActionEnv, ActionOutcome, check_inputs};

/// Inputs actions/checkout documents.
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

/// actions/checkout from the local repository: a clone of `repo_root` into
/// the workspace (or `path` under it), detached at `ref` (default: the
/// commit under test). The clone has full history, so `fetch-depth` is
/// satisfied whatever it says; uncommitted changes are not part of the
/// commit and are not copied.
pub(super) async fn run(
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    check_inputs(env, with, CHECKOUT_INPUTS);
    let opts = env.opts;
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
    let dest = env.state.workspace.join(rel);
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
    env.info(format!(
        "Checking out {} at {git_ref} into {}",
        opts.repo_root.display(),
        dest.display()
    ));
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
    Ok(ActionOutcome::success())
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
