//! What the cache and artifact actions share: path inputs resolved the way
//! `@actions/glob` does, tree copies, atomic writes, and running file work
//! off the async runtime.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::super::context::glob_match;
use super::ActionEnv;
use crate::exec::LogLine;

/// Log lines gathered by blocking work, shown when it ends.
#[derive(Default)]
pub(super) struct Log(Vec<LogLine>);

impl Log {
    pub fn info(&mut self, line: impl Into<String>) {
        self.0.push(LogLine::Out(line.into()));
    }

    pub fn warn(&mut self, line: impl Into<String>) {
        self.0
            .push(LogLine::Err(format!("warning: {}", line.into())));
    }
}

/// Runs file work on a blocking thread, then shows its log lines.
pub(super) async fn blocking<T: Send + 'static>(
    env: &mut ActionEnv<'_>,
    work: impl FnOnce(&mut Log) -> T + Send + 'static,
) -> Result<T, String> {
    let (out, log) = tokio::task::spawn_blocking(move || {
        let mut log = Log::default();
        let out = work(&mut log);
        (out, log)
    })
    .await
    .map_err(|e| format!("the action's file work stopped: {e}"))?;
    for line in log.0 {
        (env.log)(line);
    }
    Ok(out)
}

/// `core.getBooleanInput`: YAML 1.2 core-schema booleans; empty is `default`.
pub(super) fn flag(
    with: &BTreeMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool, String> {
    match with.get(name).map(|v| v.trim()).unwrap_or("") {
        "" => Ok(default),
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        other => Err(format!(
            "input `{name}` is `{other}`; expected one of true | True | TRUE | false | False | FALSE"
        )),
    }
}

/// A non-empty, trimmed input.
pub(super) fn input<'a>(with: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    with.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Where path inputs are resolved: relative to the workspace; `~` to HOME.
#[derive(Clone, Debug)]
pub(super) struct Roots {
    pub workspace: PathBuf,
    pub home: Option<PathBuf>,
}

impl Roots {
    pub fn of(env: &ActionEnv<'_>) -> Roots {
        Roots {
            workspace: normalize(&env.state.workspace),
            home: env
                .state
                .base_env
                .get("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| normalize(Path::new(h))),
        }
    }

    /// An absolute path for a path input. A relative path must stay inside
    /// the workspace; absolute paths and `~` (HOME) are allowed, as in the
    /// real actions.
    pub fn resolve(&self, input: &str) -> Result<PathBuf, String> {
        let rest = if input == "~" {
            Some("")
        } else {
            input.strip_prefix("~/")
        };
        if let Some(rest) = rest {
            let home = self
                .home
                .as_ref()
                .ok_or_else(|| format!("`{input}`: HOME is not set, so `~` cannot be expanded"))?;
            return Ok(normalize(&home.join(rest)));
        }
        let path = Path::new(input);
        if path.is_absolute() {
            return Ok(normalize(path));
        }
        let joined = normalize(&self.workspace.join(path));
        if joined.starts_with(&self.workspace) {
            Ok(joined)
        } else {
            Err(format!(
                "`{input}` leaves the workspace; use an absolute path or `~` for files outside it"
            ))
        }
    }
}

/// Where built-in actions keep their stores, as an absolute path (the state
/// dir may be given relative to the current directory).
pub(super) fn state_dir(env: &ActionEnv<'_>) -> PathBuf {
    let dir = env.state_dir();
    std::path::absolute(&dir).map_or(dir, |d| normalize(&d))
}

/// Lexical normalisation: no `.`, `..` applied, no trailing slash.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A multi-line path input: globs, `!` excludes, `#` comments.
#[derive(Clone, Debug, Default)]
pub(super) struct Patterns {
    pub include: Vec<PathBuf>,
    pub exclude: Vec<PathBuf>,
}

impl Patterns {
    pub fn parse(input: &str, roots: &Roots) -> Result<Patterns, String> {
        let mut p = Patterns::default();
        for line in input.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.strip_prefix('!') {
                Some(rest) => p.exclude.push(roots.resolve(rest.trim())?),
                None => p.include.push(roots.resolve(line)?),
            }
        }
        Ok(p)
    }

    /// `@actions/glob`'s search paths: the literal part of each include
    /// pattern, without those under another.
    pub fn search_paths(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = self.include.iter().map(|p| search_root(p)).collect();
        all.sort();
        all.dedup();
        let mut kept: Vec<PathBuf> = Vec::new();
        for p in all {
            if !kept.iter().any(|k| p.starts_with(k)) {
                kept.push(p);
            }
        }
        kept
    }

    /// Regular files matching an include pattern (a matching directory
    /// includes everything under it) and no exclude pattern, sorted.
    /// `exclude_hidden` skips files and directories whose name starts with
    /// a dot, as `@actions/glob`'s `excludeHiddenFiles` does, except a
    /// search path named literally in the input. Symbolic links
    /// to files are followed; links to directories are not descended.
    pub fn find(&self, exclude_hidden: bool) -> Result<Vec<PathBuf>, String> {
        let mut candidates = BTreeSet::new();
        for root in self.search_paths() {
            if std::fs::symlink_metadata(&root).is_err() {
                continue;
            }
            let mut stack = vec![root.clone()];
            while let Some(path) = stack.pop() {
                if exclude_hidden
                    && path != root
                    && path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                let Ok(link) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if link.is_dir() {
                    let entries = std::fs::read_dir(&path)
                        .map_err(|e| format!("reading {}: {e}", path.display()))?;
                    for entry in entries {
                        let entry =
                            entry.map_err(|e| format!("reading {}: {e}", path.display()))?;
                        stack.push(entry.path());
                    }
                } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                    candidates.insert(path);
                }
            }
        }
        Ok(candidates.into_iter().filter(|f| self.covers(f)).collect())
    }
}

impl Patterns {
    /// Whether `file` is one [`Patterns::find`] could return (ignoring
    /// hidden-file rules).
    pub fn covers(&self, file: &Path) -> bool {
        self.include.iter().any(|p| matches_or_under(p, file))
            && !self.exclude.iter().any(|p| matches_or_under(p, file))
    }
}

/// Whether `file` or one of its ancestors matches `pattern`.
fn matches_or_under(pattern: &Path, file: &Path) -> bool {
    let pattern = pattern.to_string_lossy();
    file.ancestors()
        .any(|a| glob_match(&pattern, &a.to_string_lossy()))
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The literal directories before the first component with a wildcard.
pub(super) fn search_root(pattern: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in pattern.components() {
        if has_glob(&c.as_os_str().to_string_lossy()) {
            break;
        }
        out.push(c.as_os_str());
    }
    out
}

/// The deepest directory containing every path.
pub(super) fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let Some(first) = paths.first() else {
        return PathBuf::from("/");
    };
    let mut common: Vec<Component<'_>> = first.components().collect();
    for p in &paths[1..] {
        let n = common
            .iter()
            .zip(p.components())
            .take_while(|(a, b)| *a == b)
            .count();
        common.truncate(n);
    }
    common.iter().map(|c| c.as_os_str()).collect()
}

/// Only plain names: nothing that could climb out of the directory the
/// relative path is joined to.
pub(super) fn is_plain_relative(rel: &Path) -> bool {
    rel.components().all(|c| matches!(c, Component::Normal(_))) && rel.components().next().is_some()
}

/// Relative paths of the regular files under `root`, sorted.
pub(super) fn files_under(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file()
                && let Ok(rel) = entry.path().strip_prefix(root)
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies one file (with its permissions), creating parent directories.
pub(super) fn copy_file(from: &Path, to: &Path) -> Result<u64, String> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// Copies every file under `from` to the same place under `to`.
pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<u64, String> {
    let files = files_under(from).map_err(|e| format!("reading {}: {e}", from.display()))?;
    let mut n = 0;
    for rel in files {
        copy_file(&from.join(&rel), &to.join(&rel))?;
        n += 1;
    }
    Ok(n)
}

/// SHA-256 over the files under `root`: each relative path, a NUL, and the
/// SHA-256 of its content, in path order.
pub(super) fn tree_digest(root: &Path) -> Result<String, String> {
    let files = files_under(root).map_err(|e| format!("reading {}: {e}", root.display()))?;
    let mut outer = Sha256::new();
    for rel in files {
        let bytes = std::fs::read(root.join(&rel))
            .map_err(|e| format!("reading {}: {e}", root.join(&rel).display()))?;
        outer.update(rel.to_string_lossy().as_bytes());
        outer.update([0u8]);
        outer.update(Sha256::digest(&bytes));
    }
    Ok(hex::encode(outer.finalize()))
}

/// Writes a file through a temp file, fsync and rename.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", unique()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("writing {}: {e}", path.display())
    })
}

/// Removes a directory tree by first renaming it aside, so readers see it
/// whole or not at all.
pub(super) fn remove_tree(dir: &Path, scratch: &Path) -> Result<(), String> {
    std::fs::create_dir_all(scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;
    let aside = scratch.join(format!("gone-{}", unique()));
    std::fs::rename(dir, &aside).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    std::fs::remove_dir_all(&aside).map_err(|e| format!("removing {}: {e}", aside.display()))
}

/// A name no other writer in this or another process uses.
pub(super) fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots() -> Roots {
        Roots {
            workspace: PathBuf::from("/ws"),
            home: Some(PathBuf::from("/home/u")),
        }
    }

    #[test]
    fn resolves_relative_absolute_and_home() {
        let r = roots();
        assert_eq!(r.resolve("a/./b").unwrap(), PathBuf::from("/ws/a/b"));
        assert_eq!(r.resolve("a/../b").unwrap(), PathBuf::from("/ws/b"));
        assert_eq!(
            r.resolve("~/.cargo").unwrap(),
            PathBuf::from("/home/u/.cargo")
        );
        assert_eq!(r.resolve("/opt/x").unwrap(), PathBuf::from("/opt/x"));
        assert!(r.resolve("../outside").is_err());
        assert!(r.resolve("a/../../outside").is_err());
    }

    #[test]
    fn search_paths_and_ancestors() {
        let p = Patterns::parse("dist/**/*.js\n!dist/x\nbuild/out\n# note\n", &roots()).unwrap();
        assert_eq!(
            p.search_paths(),
            vec![PathBuf::from("/ws/build/out"), PathBuf::from("/ws/dist")]
        );
        assert_eq!(p.exclude, vec![PathBuf::from("/ws/dist/x")]);
        assert_eq!(common_ancestor(&p.search_paths()), PathBuf::from("/ws"));
        assert!(is_plain_relative(Path::new("a/b")));
        assert!(!is_plain_relative(Path::new("../b")));
        assert!(!is_plain_relative(Path::new("/b")));
    }

    #[test]
    fn finds_files_with_excludes_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().to_path_buf();
        for f in [
            "a/one.txt",
            "a/two.log",
            "a/.hidden/three.txt",
            "b/four.txt",
        ] {
            let p = ws.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let r = Roots {
            workspace: ws.clone(),
            home: None,
        };
        let p = Patterns::parse("a\n!a/*.log", &r).unwrap();
        let rel = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|f| f.strip_prefix(&ws).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(p.find(false).unwrap()),
            vec!["a/.hidden/three.txt", "a/one.txt"]
        );
        assert_eq!(rel(p.find(true).unwrap()), vec!["a/one.txt"]);
        let p = Patterns::parse("**/*.txt", &r).unwrap();
        assert_eq!(rel(p.find(true).unwrap()), vec!["a/one.txt", "b/four.txt"]);
    }
}
