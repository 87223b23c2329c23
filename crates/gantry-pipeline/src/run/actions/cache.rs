//! actions/cache (v3/v4 semantics), stored under `state_dir/cache`.
//!
//! Restore: each of `key` then the `restore-keys` in order is tried as an
//! exact key, then as a prefix (the newest entry whose key starts with it
//! wins). Only entries saved with the same `path` input match (GitHub's
//! cache "version"). `cache-hit` is `true` only for an exact match of `key`.
//!
//! Save (post step, after a successful job unless `save-always`): when `key`
//! was not an exact hit, the matched files are copied into a new entry.
//! Entries are immutable: an existing key is never overwritten. An entry is
//! built in `cache/tmp/` and renamed into `cache/entries/<sha256>/`, so two
//! legs saving the same key at once leave one whole entry. After a save,
//! least recently used entries (by last restore or save) are evicted until
//! the store is under its cap: [`DEFAULT_MAX_BYTES`], or
//! `GANTRY_CACHE_MAX_BYTES` from the environment of the gantry process.
//!
//! Layout of an entry: `meta.json` (the original key, version, sizes,
//! times) and `files/ws/…` (paths in the workspace), `files/home/…` (under
//! HOME) and `files/abs/…` (other absolute paths), each restored where it
//! was. Differences from GitHub: excludes (`!`) also apply to files under an
//! included directory, and the cap evicts locally instead of per repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::{self, Log, Patterns, Roots, flag, input};
use super::{ActionEnv, ActionOutcome, PostIf, PostStep, check_inputs};
use crate::run::Conclusion;

/// Inputs actions/cache documents.
const CACHE_INPUTS: &[&str] = &[
    "path",
    "key",
    "restore-keys",
    "upload-chunk-size",
    "enableCrossOsArchive",
    "fail-on-cache-miss",
    "lookup-only",
    "save-always",
];

/// The store's size cap unless `GANTRY_CACHE_MAX_BYTES` says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// Environment variable (of the gantry process) overriding the cap.
pub const MAX_BYTES_ENV: &str = "GANTRY_CACHE_MAX_BYTES";

const MAX_KEY_LEN: usize = 512;
const MAX_KEYS: usize = 10;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    key: String,
    version: String,
    paths: Vec<String>,
    size: u64,
    files: u64,
    created_ms: u64,
    accessed_ms: u64,
}

/// What the main step and the post step both need.
struct Request {
    key: String,
    paths: Vec<String>,
    patterns: Patterns,
    roots: Roots,
    store: Store,
}

impl Request {
    fn parse(with: &BTreeMap<String, String>, env: &ActionEnv<'_>) -> Result<Request, String> {
        let key = input(with, "key")
            .ok_or("actions/cache: input required and not supplied: key")?
            .to_string();
        validate_key(&key)?;
        let path =
            input(with, "path").ok_or("actions/cache: input required and not supplied: path")?;
        let paths: Vec<String> = path
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let roots = Roots::of(env);
        let patterns = Patterns::parse(path, &roots).map_err(|e| format!("actions/cache: {e}"))?;
        if patterns.include.is_empty() {
            return Err(
                "actions/cache: path validation error: at least one directory or file path is required"
                    .into(),
            );
        }
        Ok(Request {
            key,
            paths,
            patterns,
            roots,
            store: Store {
                root: files::state_dir(env).join("cache"),
            },
        })
    }

    /// GitHub's cache version: entries match only for the same `path` input.
    fn version(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.paths.join("|").as_bytes());
        h.update(b"|gantry-dir-v1");
        hex::encode(h.finalize())
    }
}

fn validate_key(key: &str) -> Result<(), String> {
    if key.len() > MAX_KEY_LEN {
        return Err(format!(
            "actions/cache: key validation error: `{key}` cannot be larger than {MAX_KEY_LEN} characters"
        ));
    }
    if key.contains(',') {
        return Err(format!(
            "actions/cache: key validation error: `{key}` cannot contain commas"
        ));
    }
    Ok(())
}

pub(super) async fn run(
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    check_inputs(env, with, CACHE_INPUTS);
    let req = Request::parse(with, env)?;
    let restore_keys: Vec<String> = with
        .get("restore-keys")
        .map(|r| {
            r.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    for k in &restore_keys {
        validate_key(k)?;
    }
    if restore_keys.len() + 1 > MAX_KEYS {
        return Err(format!(
            "actions/cache: key validation error: keys are limited to a maximum of {MAX_KEYS}"
        ));
    }
    let fail_on_miss = flag(with, "fail-on-cache-miss", false)?;
    let lookup_only = flag(with, "lookup-only", false)?;
    let save_always = flag(with, "save-always", false)?;
    flag(with, "enableCrossOsArchive", false)?; // the same on Linux either way
    if save_always {
        env.warn(
            "the `save-always` input is deprecated and will be removed in a future version; use actions/cache/save with `if: always()` instead",
        );
    }

    let mut keys = vec![req.key.clone()];
    keys.extend(restore_keys);
    let version = req.version();
    let key = req.key.clone();
    let primary = req.key.clone();
    let lookup_keys = keys.clone();
    let matched = files::blocking(env, move |log| {
        let found = req.store.lookup(&lookup_keys, &version)?;
        if lookup_only {
            return Some(found.1.key);
        }
        match req.store.restore(&found.0, &found.1, &req, log) {
            Ok(n) => {
                log.info(format!("Restored {n} file(s) ({} bytes)", found.1.size));
                Some(found.1.key)
            }
            Err(e) => {
                log.warn(format!("Failed to restore: {e}"));
                None
            }
        }
    })
    .await?;

    let mut out = ActionOutcome::success();
    out.outputs
        .insert("cache-primary-key".into(), primary.clone());
    out.outputs.insert("cache-hit".into(), "false".into());
    match &matched {
        None => {
            if fail_on_miss {
                return Err(format!(
                    "actions/cache: failed to restore cache entry; exiting as fail-on-cache-miss is set. Input key: {key}"
                ));
            }
            env.info(format!(
                "Cache not found for input keys: {}",
                keys.join(", ")
            ));
        }
        Some(m) => {
            let exact = *m == primary;
            out.outputs.insert("cache-hit".into(), exact.to_string());
            out.outputs.insert("cache-matched-key".into(), m.clone());
            env.info(if lookup_only {
                format!("Cache found and can be restored from key: {m}")
            } else {
                format!("Cache restored from key: {m}")
            });
        }
    }
    out.posts.push(PostStep {
        action: "actions/cache",
        with: with.clone(),
        saved: [
            ("primary-key".to_string(), primary),
            ("matched-key".to_string(), matched.unwrap_or_default()),
        ]
        .into_iter()
        .collect(),
        condition: if save_always {
            PostIf::Always
        } else {
            PostIf::Success
        },
    });
    Ok(out)
}

/// The post step: saves the paths under the primary key unless it was hit.
pub(super) async fn post(post: &PostStep, env: &mut ActionEnv<'_>) -> Result<Conclusion, String> {
    let mut req = Request::parse(&post.with, env)?;
    if let Some(primary) = post.saved.get("primary-key") {
        // The key as the main step saw it, like the real action's state.
        req.key = primary.clone();
    }
    if post.saved.get("matched-key") == Some(&req.key) {
        env.info(format!(
            "Cache hit occurred on the primary key {}, not saving cache.",
            req.key
        ));
        return Ok(Conclusion::Success);
    }
    let cap = match std::env::var(MAX_BYTES_ENV) {
        Ok(v) => v.trim().parse::<u64>().unwrap_or_else(|_| {
            env.warn(format!(
                "{MAX_BYTES_ENV}=`{v}` is not a number of bytes; using {DEFAULT_MAX_BYTES}"
            ));
            DEFAULT_MAX_BYTES
        }),
        Err(_) => DEFAULT_MAX_BYTES,
    };
    files::blocking(env, move |log| {
        if let Err(e) = save(&req, cap, log) {
            // The real action never fails a job over a save: it warns.
            log.warn(format!("Failed to save: {e}"));
        }
    })
    .await?;
    Ok(Conclusion::Success)
}

fn save(req: &Request, cap: u64, log: &mut Log) -> Result<(), String> {
    let version = req.version();
    let dest = req.store.entry_dir(&req.key, &version);
    if dest.exists() {
        log.warn(format!(
            "Failed to save: Unable to reserve cache with key {}, another job may be creating this cache. More details: Cache already exists.",
            req.key
        ));
        return Ok(());
    }
    let found = req.patterns.find(false)?;
    if found.is_empty() {
        log.warn(
            "Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.",
        );
        return Ok(());
    }
    let mut size = 0u64;
    for f in &found {
        size += std::fs::metadata(f)
            .map_err(|e| format!("reading {}: {e}", f.display()))?
            .len();
    }
    if size > cap {
        log.warn(format!(
            "Cache size of {size} bytes is over the {cap} byte limit, not saving cache."
        ));
        return Ok(());
    }
    let scratch = req.store.root.join("tmp");
    req.store.clean_scratch();
    let tmp = scratch.join(files::unique());
    let built = (|| -> Result<(), String> {
        for f in &found {
            files::copy_file(f, &tmp.join("files").join(stored_path(f, &req.roots)))?;
        }
        let now = files::now_ms();
        let meta = Meta {
            key: req.key.clone(),
            version: version.clone(),
            paths: req.paths.clone(),
            size,
            files: found.len() as u64,
            created_ms: now,
            accessed_ms: now,
        };
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
        files::write_atomic(&tmp.join("meta.json"), &bytes)?;
        std::fs::create_dir_all(req.store.entries())
            .map_err(|e| format!("creating {}: {e}", req.store.entries().display()))
    })();
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, &dest) {
        let _ = std::fs::remove_dir_all(&tmp);
        if dest.exists() {
            log.warn(format!(
                "Failed to save: Unable to reserve cache with key {}, another job may be creating this cache. More details: Cache already exists.",
                req.key
            ));
            return Ok(());
        }
        return Err(format!("storing the entry: {e}"));
    }
    log.info(format!(
        "Cache saved with key: {} ({} file(s), {size} bytes)",
        req.key,
        found.len()
    ));
    req.store.evict(cap, &dest, log);
    Ok(())
}

/// Where a file lives inside an entry's `files/`.
fn stored_path(file: &Path, roots: &Roots) -> PathBuf {
    if let Ok(rel) = file.strip_prefix(&roots.workspace) {
        return Path::new("ws").join(rel);
    }
    if let Some(home) = &roots.home
        && let Ok(rel) = file.strip_prefix(home)
    {
        return Path::new("home").join(rel);
    }
    let rel: PathBuf = file
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    Path::new("abs").join(rel)
}

/// Where a stored file goes back to.
fn restore_path(stored: &Path, roots: &Roots) -> Option<PathBuf> {
    if !files::is_plain_relative(stored) {
        return None;
    }
    let mut parts = stored.components();
    let bucket = parts.next()?.as_os_str().to_str()?;
    let rest = parts.as_path();
    match bucket {
        "ws" => Some(roots.workspace.join(rest)),
        "home" => roots.home.as_ref().map(|h| h.join(rest)),
        "abs" => Some(Path::new("/").join(rest)),
        _ => None,
    }
}

#[derive(Debug, Clone)]
struct Store {
    root: PathBuf,
}

impl Store {
    fn entries(&self) -> PathBuf {
        self.root.join("entries")
    }

    /// The file-system name of a key: hashed, the key itself in the metadata.
    fn entry_dir(&self, key: &str, version: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(version.as_bytes());
        h.update(b"\n");
        h.update(key.as_bytes());
        self.entries().join(hex::encode(h.finalize()))
    }

    fn read_meta(dir: &Path) -> Option<Meta> {
        let bytes = std::fs::read(dir.join("meta.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn list(&self) -> Vec<(PathBuf, Meta)> {
        let Ok(rd) = std::fs::read_dir(self.entries()) else {
            return Vec::new();
        };
        rd.filter_map(Result::ok)
            .filter_map(|e| {
                let dir = e.path();
                Store::read_meta(&dir).map(|m| (dir, m))
            })
            .collect()
    }

    /// Each key exactly, then as a prefix (newest first), in order.
    fn lookup(&self, keys: &[String], version: &str) -> Option<(PathBuf, Meta)> {
        let mut all: Option<Vec<(PathBuf, Meta)>> = None;
        for key in keys {
            let dir = self.entry_dir(key, version);
            if let Some(m) = Store::read_meta(&dir).filter(|m| m.key == *key) {
                return Some((dir, m));
            }
            let all = all.get_or_insert_with(|| self.list());
            if let Some(hit) = all
                .iter()
                .filter(|(_, m)| m.version == version && m.key.starts_with(key.as_str()))
                .max_by(|a, b| (a.1.created_ms, &a.1.key).cmp(&(b.1.created_ms, &b.1.key)))
            {
                return Some(hit.clone());
            }
        }
        None
    }

    /// Copies an entry's files back; records the access for LRU eviction.
    /// Only files the `path` input covers are written: an entry edited on
    /// disk cannot place files elsewhere.
    fn restore(
        &self,
        dir: &Path,
        meta: &Meta,
        req: &Request,
        log: &mut Log,
    ) -> Result<u64, String> {
        let stored = dir.join("files");
        let rels = files::files_under(&stored)
            .map_err(|e| format!("reading {}: {e}", stored.display()))?;
        let mut n = 0;
        for rel in rels {
            match restore_path(&rel, &req.roots) {
                Some(to) if req.patterns.covers(&to) => {
                    files::copy_file(&stored.join(&rel), &to)?;
                    n += 1;
                }
                _ => log.warn(format!(
                    "not restoring {}: HOME is not set, or `path` does not cover it",
                    rel.display()
                )),
            }
        }
        let mut touched = meta.clone();
        touched.accessed_ms = files::now_ms().max(meta.accessed_ms);
        if let Ok(bytes) = serde_json::to_vec_pretty(&touched) {
            // Best effort: a failed touch only makes eviction less accurate.
            let _ = files::write_atomic(&dir.join("meta.json"), &bytes);
        }
        Ok(n)
    }

    /// Removes least recently used entries (never `keep`) until the store
    /// fits in `cap`.
    fn evict(&self, cap: u64, keep: &Path, log: &mut Log) {
        let mut all = self.list();
        let mut total: u64 = all.iter().map(|(_, m)| m.size).sum();
        if total <= cap {
            return;
        }
        all.sort_by(|a, b| {
            (a.1.accessed_ms, a.1.created_ms, &a.1.key).cmp(&(
                b.1.accessed_ms,
                b.1.created_ms,
                &b.1.key,
            ))
        });
        for (dir, meta) in all {
            if total <= cap {
                break;
            }
            if dir == keep {
                continue;
            }
            match files::remove_tree(&dir, &self.root.join("tmp")) {
                Ok(()) => {
                    total = total.saturating_sub(meta.size);
                    log.info(format!(
                        "Evicted cache entry {} ({} bytes, least recently used) to stay under {cap} bytes",
                        meta.key, meta.size
                    ));
                }
                Err(e) => log.warn(format!("could not evict cache entry {}: {e}", meta.key)),
            }
        }
    }

    /// Leftovers of saves that crashed more than a day ago.
    fn clean_scratch(&self) {
        let Ok(rd) = std::fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        let day = std::time::Duration::from_secs(24 * 3600);
        for e in rd.filter_map(Result::ok) {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > day);
            if old {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_round_trip() {
        let roots = Roots {
            workspace: PathBuf::from("/tmp/ws"),
            home: Some(PathBuf::from("/home/u")),
        };
        for f in ["/tmp/ws/target/a", "/home/u/.cargo/x", "/opt/tool/bin"] {
            let s = stored_path(Path::new(f), &roots);
            assert_eq!(restore_path(&s, &roots), Some(PathBuf::from(f)), "{f}");
        }
        assert_eq!(restore_path(Path::new("ws/../etc"), &roots), None);
        assert_eq!(restore_path(Path::new("other/x"), &roots), None);
    }

    #[test]
    fn keys_are_validated() {
        assert!(validate_key("a,b").is_err());
        assert!(validate_key(&"k".repeat(513)).is_err());
        assert!(validate_key("Linux-cargo-abc").is_ok());
    }
}
