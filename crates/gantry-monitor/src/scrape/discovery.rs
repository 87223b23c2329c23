//! File-based service discovery (`file_sd_configs`): JSON or YAML files
//! listing target groups, re-read when they change.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::{FileSdConfig, TargetGroup};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Reads one file of target groups. Each group gets `__meta_filepath`.
pub fn read_file(path: &Path) -> Result<Vec<TargetGroup>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let groups: Vec<FileGroup> = match ext {
        "json" => serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?,
        "yml" | "yaml" => {
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => {
            return Err(format!(
                "{}: file_sd files must end in .json, .yml or .yaml",
                path.display()
            ));
        }
    };
    let mut out = Vec::with_capacity(groups.len());
    for (i, g) in groups.into_iter().enumerate() {
        let mut labels = g.labels;
        labels.insert("__meta_filepath".into(), path.display().to_string());
        out.push(TargetGroup {
            targets: g.targets,
            labels,
            source: format!("{}:{i}", path.display()),
        });
    }
    Ok(out)
}

/// Matches `*` (any run) and `?` (one character) in a file name.
fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// The files a pattern names, sorted; wildcards only in the last component.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?']) {
        return vec![path.to_path_buf()];
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(name, n)))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// The groups of one `file_sd_configs` entry, re-read when a file's
/// modification time or the set of matching files changes. A file that
/// fails to read or parse keeps its previous groups, as Prometheus does.
#[derive(Debug, Default)]
pub struct FileSd {
    files: BTreeMap<PathBuf, (Option<SystemTime>, Vec<TargetGroup>)>,
    /// The most recent read errors, for logs and the targets API.
    pub errors: Vec<String>,
}

impl FileSd {
    /// Re-checks the files; `true` when the groups changed.
    pub fn refresh(&mut self, cfg: &FileSdConfig) -> bool {
        let mut changed = false;
        self.errors.clear();
        let wanted: Vec<PathBuf> = cfg.files.iter().flat_map(|f| expand(f)).collect();
        let before = self.files.len();
        self.files.retain(|p, _| wanted.contains(p));
        changed |= self.files.len() != before;
        for path in wanted {
            let mtime = match fs::metadata(&path).and_then(|m| m.modified()) {
                Ok(t) => Some(t),
                Err(e) => {
                    // A file that is gone takes its targets with it.
                    changed |= self.files.remove(&path).is_some();
                    self.errors.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let known = self.files.get(&path).map(|(t, _)| *t);
            if known.is_some() && known == Some(mtime) {
                continue;
            }
            match read_file(&path) {
                Ok(groups) => {
                    let old = self.files.insert(path, (mtime, groups.clone()));
                    changed |= old.is_none_or(|(_, g)| g != groups);
                }
                Err(e) => self.errors.push(e),
            }
        }
        changed
    }

    pub fn groups(&self) -> Vec<TargetGroup> {
        self.files.values().flat_map(|(_, g)| g.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.json", "a.json"));
        assert!(wildcard("t?-*.yml", "t1-x.yml"));
        assert!(!wildcard("*.json", "a.yml"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*b", "acbd"));
    }
}
