//! The expression context a job or step sees, and `hashFiles`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::expr::{Context, Status};

/// Named contexts (`github`, `env`, `matrix`, …) plus the status the status
/// functions read and the workspace `hashFiles` reads.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub named: BTreeMap<&'static str, Value>,
    pub status: Status,
    pub workspace: PathBuf,
}

impl Ctx {
    pub fn set(&mut self, name: &'static str, value: Value) {
        self.named.insert(name, value);
    }
}

impl Context for Ctx {
    fn named(&self, name: &str) -> Option<&Value> {
        self.named.get(name)
    }

    fn status(&self) -> Status {
        self.status
    }

    fn hash_files(&self, patterns: &[String]) -> Result<String, String> {
        hash_files(&self.workspace, patterns)
    }
}

/// A JSON object from string pairs.
pub(crate) fn object<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// GitHub's `hashFiles`: the SHA-256 of the concatenated SHA-256 digests of
/// every regular file under `root` matching any pattern (a leading `!`
/// excludes), in sorted path order; empty when nothing matches.
pub(crate) fn hash_files(root: &Path, patterns: &[String]) -> Result<String, String> {
    let (include, exclude): (Vec<&str>, Vec<&str>) = {
        let mut inc = Vec::new();
        let mut exc = Vec::new();
        for p in patterns {
            let p = p.trim();
            match p.strip_prefix('!') {
                Some(rest) => exc.push(rest.trim_start_matches("./")),
                None => inc.push(p.trim_start_matches("./")),
            }
        }
        (inc, exc)
    };
    let mut files = Vec::new();
    walk(root, root, &mut files).map_err(|e| format!("hashFiles: {e}"))?;
    files.sort();
    let mut outer = Sha256::new();
    let mut any = false;
    for rel in files {
        let matches = include.iter().any(|p| glob_match(p, &rel))
            && !exclude.iter().any(|p| glob_match(p, &rel));
        if !matches {
            continue;
        }
        let bytes = std::fs::read(root.join(&rel)).map_err(|e| format!("hashFiles: {rel}: {e}"))?;
        outer.update(Sha256::digest(&bytes));
        any = true;
    }
    Ok(if any {
        hex::encode(outer.finalize())
    } else {
        String::new()
    })
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let path = entry.path();
        if ty.is_dir() {
            if entry.file_name() != ".git" {
                walk(root, &path, out)?;
            }
        } else if ty.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Glob matching on `/`-separated paths: `*` and `?` stay within a segment,
/// `**` spans segments.
pub(crate) fn glob_match(pattern: &str, path: &str) -> bool {
    fn segs(p: &str) -> Vec<&str> {
        p.split('/').filter(|s| !s.is_empty()).collect()
    }
    fn seg_match(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => seg_match(&p[1..], s) || (!s.is_empty() && seg_match(p, &s[1..])),
            (Some(b'?'), Some(_)) => seg_match(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => seg_match(&p[1..], &s[1..]),
            _ => false,
        }
    }
    fn go(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(ps), Some(ss)) => seg_match(ps.as_bytes(), ss.as_bytes()) && go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(&segs(pattern), &segs(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("**/*.lock", "a/b/Cargo.lock"));
        assert!(glob_match("**/*.lock", "Cargo.lock"));
        assert!(glob_match("src/*.rs", "src/main.rs"));
        assert!(!glob_match("src/*.rs", "src/a/main.rs"));
        assert!(glob_match("src/**", "src/a/main.rs"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
    }

    #[test]
    fn hash_files_is_stable_and_empty_without_matches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.lock"), "one").unwrap();
        std::fs::write(dir.path().join("b.lock"), "two").unwrap();
        let all = hash_files(dir.path(), &["**/*.lock".into()]).unwrap();
        assert_eq!(all.len(), 64);
        // Sorted order: b.lock, then sub/a.lock.
        let mut outer = Sha256::new();
        outer.update(Sha256::digest(b"two"));
        outer.update(Sha256::digest(b"one"));
        assert_eq!(all, hex::encode(outer.finalize()));
        let only_b = hash_files(dir.path(), &["**/*.lock".into(), "!sub/**".into()]).unwrap();
        assert_ne!(only_b, all);
        assert_eq!(hash_files(dir.path(), &["*.none".into()]).unwrap(), "");
    }
}
