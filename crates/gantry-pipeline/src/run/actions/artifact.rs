//! actions/upload-artifact@v4 and actions/download-artifact@v4, stored under
//! `state_dir/artifacts/<run_id>/<name>/`: `artifact.json` (id, digest,
//! size, expiry) and `files/` (the uploaded tree).
//!
//! As in v4, artifacts are immutable and visible to later jobs of the same
//! run at once; uploading an existing name fails unless `overwrite: true`.
//! An artifact is built in `artifacts/.tmp/` and renamed into place, so two
//! legs uploading one name cannot mix their files. Expired artifacts
//! (`retention-days`, default 90) are deleted when a later upload happens.
//!
//! `artifact-digest` is the SHA-256 over the stored files (each relative
//! path, a NUL, the SHA-256 of its content, in path order), not of a zip:
//! nothing here is zipped. `compression-level` is accepted and has no effect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::context::glob_match;
use super::files::{self, Log, Patterns, Roots, flag, input};
use super::{ActionEnv, ActionOutcome, check_inputs};

/// Inputs actions/upload-artifact@v4 documents.
const UPLOAD_INPUTS: &[&str] = &[
    "name",
    "path",
    "if-no-files-found",
    "retention-days",
    "compression-level",
    "overwrite",
    "include-hidden-files",
];

/// Inputs actions/download-artifact@v4 documents.
const DOWNLOAD_INPUTS: &[&str] = &[
    "name",
    "path",
    "pattern",
    "merge-multiple",
    "github-token",
    "repository",
    "run-id",
];

/// Retention when `retention-days` is unset or 0, and the most allowed.
pub const DEFAULT_RETENTION_DAYS: u64 = 90;

const META: &str = "artifact.json";
const DAY_MS: u64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    name: String,
    id: u64,
    run_id: String,
    digest: String,
    size: u64,
    files: u64,
    created_ms: u64,
    retention_days: u64,
    expires_ms: u64,
}

fn artifacts_root(env: &ActionEnv<'_>) -> PathBuf {
    files::state_dir(env).join("artifacts")
}

/// v4's name rules, plus no `..`: a name is one directory.
fn validate_name(name: &str) -> Result<(), String> {
    const BAD: &[char] = &['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];
    if name == "." || name == ".." || name.contains("..") {
        return Err(format!(
            "artifact name `{name}` is not valid: it cannot contain `..`"
        ));
    }
    if let Some(c) = name.chars().find(|c| BAD.contains(c)) {
        return Err(format!(
            "artifact name `{name}` is not valid: it contains `{}`; these are not allowed: \" : < > | * ? \\r \\n \\ /",
            c.escape_default()
        ));
    }
    Ok(())
}

/// A run id names a directory: plain characters only.
fn validate_run_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || id.starts_with('.')
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!("`run-id: {id}` is not a run id"));
    }
    Ok(())
}

pub(super) async fn upload(
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    check_inputs(env, with, UPLOAD_INPUTS);
    let name = input(with, "name").unwrap_or("artifact").to_string();
    validate_name(&name).map_err(|e| format!("actions/upload-artifact: {e}"))?;
    let path = input(with, "path")
        .ok_or("actions/upload-artifact: input required and not supplied: path")?
        .to_string();
    let if_no_files = match input(with, "if-no-files-found").unwrap_or("warn") {
        v @ ("warn" | "error" | "ignore") => v.to_string(),
        other => {
            return Err(format!(
                "actions/upload-artifact: unrecognized if-no-files-found input. Provided: {other}. Available options: warn, error, ignore"
            ));
        }
    };
    let retention_days = match input(with, "retention-days") {
        None => DEFAULT_RETENTION_DAYS,
        Some(v) => match v.parse::<u64>() {
            Ok(0) => DEFAULT_RETENTION_DAYS,
            Ok(d) if d > DEFAULT_RETENTION_DAYS => {
                env.warn(format!(
                    "retention days cannot be greater than the maximum allowed retention; using {DEFAULT_RETENTION_DAYS} instead"
                ));
                DEFAULT_RETENTION_DAYS
            }
            Ok(d) => d,
            Err(_) => {
                return Err(format!(
                    "actions/upload-artifact: invalid retention-days `{v}`: expected a whole number of days"
                ));
            }
        },
    };
    if let Some(v) = input(with, "compression-level")
        && !matches!(v.parse::<u8>(), Ok(0..=9))
    {
        return Err(format!(
            "actions/upload-artifact: invalid compression-level `{v}`: valid values are 0-9"
        ));
    }
    let overwrite = flag(with, "overwrite", false)?;
    let include_hidden = flag(with, "include-hidden-files", false)?;
    let roots = Roots::of(env);
    let patterns =
        Patterns::parse(&path, &roots).map_err(|e| format!("actions/upload-artifact: {e}"))?;
    let root = artifacts_root(env);
    let run_id = env.opts.run_id.clone();
    validate_run_id(&run_id)?;

    let done = files::blocking(env, move |log| {
        let found = patterns.find(!include_hidden)?;
        if found.is_empty() {
            let msg = format!(
                "No files were found with the provided path: {}. No artifacts will be uploaded.",
                path.trim()
            );
            match if_no_files.as_str() {
                "error" => return Err(format!("actions/upload-artifact: {msg}")),
                "warn" => log.warn(msg),
                _ => log.info(msg),
            }
            return Ok(None);
        }
        expire(&root, log);
        let base = upload_root(&patterns, &found);
        let dest = root.join(&run_id).join(&name);
        let scratch = root.join(".tmp");
        if dest.exists() {
            if !overwrite {
                return Err(conflict(&name));
            }
            files::remove_tree(&dest, &scratch)?;
            log.info(format!("Deleted the existing artifact `{name}` (overwrite: true)"));
        }
        let tmp = scratch.join(files::unique());
        let built = build(&tmp, &found, &base, &name, &run_id, retention_days);
        let meta = match built {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        if let Err(e) = std::fs::rename(&tmp, &dest) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(if dest.exists() {
                conflict(&name)
            } else {
                format!("storing artifact `{name}`: {e}")
            });
        }
        log.info(format!(
            "Artifact {name} has been successfully uploaded! Final size is {} bytes ({} file(s)). Artifact ID is {}",
            meta.size, meta.files, meta.id
        ));
        Ok(Some((meta, dest)))
    })
    .await??;

    let mut out = ActionOutcome::success();
    if let Some((meta, dest)) = done {
        out.outputs
            .insert("artifact-id".into(), meta.id.to_string());
        out.outputs
            .insert("artifact-url".into(), format!("file://{}", dest.display()));
        out.outputs.insert("artifact-digest".into(), meta.digest);
    }
    Ok(out)
}

fn conflict(name: &str) -> String {
    format!(
        "actions/upload-artifact: an artifact named `{name}` already exists in this run; artifacts are immutable, so upload under another name or set `overwrite: true`"
    )
}

/// The directory uploaded paths are relative to, as upload-artifact
/// computes it: the common ancestor of several search paths; a lone file
/// named without wildcards keeps only its name; else the search path.
fn upload_root(patterns: &Patterns, found: &[PathBuf]) -> PathBuf {
    let search = patterns.search_paths();
    if search.len() > 1 {
        return files::common_ancestor(&search);
    }
    match (search.first(), found) {
        (Some(s), [only]) if s == only => only
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        (Some(s), _) => s.clone(),
        (None, _) => PathBuf::from("/"),
    }
}

fn build(
    tmp: &Path,
    found: &[PathBuf],
    base: &Path,
    name: &str,
    run_id: &str,
    retention_days: u64,
) -> Result<Meta, String> {
    let mut size = 0;
    for f in found {
        let rel = f
            .strip_prefix(base)
            .ok()
            .filter(|r| files::is_plain_relative(r))
            .map_or_else(
                || PathBuf::from(f.file_name().unwrap_or_default()),
                Path::to_path_buf,
            );
        size += files::copy_file(f, &tmp.join("files").join(rel))?;
    }
    let digest = files::tree_digest(&tmp.join("files"))?;
    let created_ms = files::now_ms();
    let meta = Meta {
        name: name.to_string(),
        id: artifact_id(run_id, name, created_ms),
        run_id: run_id.to_string(),
        digest,
        size,
        files: found.len() as u64,
        created_ms,
        retention_days,
        expires_ms: created_ms.saturating_add(retention_days.saturating_mul(DAY_MS)),
    };
    let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
    files::write_atomic(&tmp.join(META), &bytes)?;
    Ok(meta)
}

/// A numeric id, like GitHub's: 48 bits of a hash of what names the upload.
fn artifact_id(run_id: &str, name: &str, created_ms: u64) -> u64 {
    let mut h = Sha256::new();
    h.update(run_id.as_bytes());
    h.update([0u8]);
    h.update(name.as_bytes());
    h.update(created_ms.to_be_bytes());
    h.update(files::unique().as_bytes());
    let d = h.finalize();
    let mut id = 0u64;
    for b in d.iter().take(6) {
        id = (id << 8) | u64::from(*b);
    }
    id.max(1)
}

/// Deletes artifacts past their retention, and run directories left empty.
fn expire(root: &Path, log: &mut Log) {
    let now = files::now_ms();
    let Ok(runs) = std::fs::read_dir(root) else {
        return;
    };
    let mut gone = 0;
    for run in runs.filter_map(Result::ok) {
        if run.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(arts) = std::fs::read_dir(run.path()) else {
            continue;
        };
        for art in arts.filter_map(Result::ok) {
            if read_meta(&art.path()).is_some_and(|m| m.expires_ms <= now)
                && files::remove_tree(&art.path(), &root.join(".tmp")).is_ok()
            {
                gone += 1;
            }
        }
        // Only succeeds when empty.
        let _ = std::fs::remove_dir(run.path());
    }
    if gone > 0 {
        log.info(format!(
            "Deleted {gone} expired artifact(s) past their retention"
        ));
    }
}

fn read_meta(dir: &Path) -> Option<Meta> {
    let bytes = std::fs::read(dir.join(META)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The run's unexpired artifacts, by name.
fn list(run_dir: &Path) -> Vec<(Meta, PathBuf)> {
    let now = files::now_ms();
    let Ok(rd) = std::fs::read_dir(run_dir) else {
        return Vec::new();
    };
    let mut out: Vec<(Meta, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter_map(|e| read_meta(&e.path()).map(|m| (m, e.path())))
        .filter(|(m, _)| m.expires_ms > now && validate_name(&m.name).is_ok())
        .collect();
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
}

pub(super) async fn download(
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    check_inputs(env, with, DOWNLOAD_INPUTS);
    if let Some(repo) = input(with, "repository").filter(|r| *r != env.opts.git.repository) {
        return Err(format!(
            "actions/download-artifact: `repository: {repo}` needs the network; only this repository's artifacts are stored here"
        ));
    }
    let name = input(with, "name").map(String::from);
    if let Some(n) = &name {
        validate_name(n).map_err(|e| format!("actions/download-artifact: {e}"))?;
    }
    let pattern = input(with, "pattern").map(String::from);
    let merge = flag(with, "merge-multiple", false)?;
    let run_id = input(with, "run-id")
        .unwrap_or(&env.opts.run_id)
        .to_string();
    validate_run_id(&run_id).map_err(|e| format!("actions/download-artifact: {e}"))?;
    let roots = Roots::of(env);
    let dest = match input(with, "path") {
        Some(p) => roots
            .resolve(p)
            .map_err(|e| format!("actions/download-artifact: {e}"))?,
        None => roots.workspace.clone(),
    };
    if name.is_some() && pattern.is_some() {
        env.info("Both `name` and `pattern` are set; `name` wins and `pattern` is ignored");
    }
    let run_dir = artifacts_root(env).join(&run_id);
    let to = dest.clone();
    files::blocking(env, move |log| {
        let all = list(&run_dir);
        let chosen: Vec<(Meta, PathBuf, PathBuf)> = match &name {
            Some(n) => {
                let Some((m, dir)) = all.iter().find(|(m, _)| m.name == *n) else {
                    let available: Vec<&str> = all.iter().map(|(m, _)| m.name.as_str()).collect();
                    return Err(format!(
                        "actions/download-artifact: unable to download artifact(s): artifact not found for name: {n} (run {run_id}); available: {}",
                        if available.is_empty() {
                            "none".to_string()
                        } else {
                            available.join(", ")
                        }
                    ));
                };
                vec![(m.clone(), dir.clone(), to.clone())]
            }
            None => {
                let picked: Vec<(Meta, PathBuf, PathBuf)> = all
                    .iter()
                    .filter(|(m, _)| pattern.as_deref().is_none_or(|p| glob_match(p, &m.name)))
                    .map(|(m, dir)| {
                        let into = if merge { to.clone() } else { to.join(&m.name) };
                        (m.clone(), dir.clone(), into)
                    })
                    .collect();
                if picked.is_empty() {
                    log.info(match &pattern {
                        Some(p) => format!("No artifacts found matching pattern `{p}` in run {run_id}"),
                        None => format!("No artifacts found in run {run_id}"),
                    });
                }
                picked
            }
        };
        for (meta, dir, into) in &chosen {
            let stored = dir.join("files");
            match files::tree_digest(&stored) {
                Ok(d) if d == meta.digest => {}
                Ok(d) => log.warn(format!(
                    "the digest of artifact {} is {d}, expected {}; it may have been changed on disk",
                    meta.name, meta.digest
                )),
                Err(e) => return Err(format!("actions/download-artifact: {e}")),
            }
            let n = files::copy_tree(&stored, into)?;
            log.info(format!(
                "Artifact {} ({n} file(s)) downloaded to {}",
                meta.name,
                into.display()
            ));
        }
        log.info(format!("Total of {} artifact(s) downloaded", chosen.len()));
        Ok(())
    })
    .await??;
    let mut out = ActionOutcome::success();
    out.outputs
        .insert("download-path".into(), dest.display().to_string());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        for bad in ["..", "a/b", "a\\b", "x..y", "a:b", "a*"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        for good in ["artifact", "build-linux_x64", "v1.2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        assert!(validate_run_id("0190a2b4-7c1d-7000-8000-000000000000").is_ok());
        assert!(validate_run_id("../x").is_err());
        assert!(validate_run_id("..").is_err());
    }

    #[test]
    fn upload_root_follows_upload_artifact() {
        let roots = Roots {
            workspace: PathBuf::from("/ws"),
            home: None,
        };
        let p = Patterns::parse("out/a.txt", &roots).unwrap();
        let found = vec![PathBuf::from("/ws/out/a.txt")];
        assert_eq!(upload_root(&p, &found), PathBuf::from("/ws/out"));
        let p = Patterns::parse("out/\n", &roots).unwrap();
        assert_eq!(upload_root(&p, &found), PathBuf::from("/ws/out"));
        let p = Patterns::parse("out/a/**\nout/b/x.txt", &roots).unwrap();
        assert_eq!(upload_root(&p, &found), PathBuf::from("/ws/out"));
    }
}
