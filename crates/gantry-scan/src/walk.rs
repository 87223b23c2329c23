//! The files a scan reads: a parallel walk of the tree that honours
//! `.gitignore`, `.ignore` and `.git/info/exclude` (also outside a git
//! repository), skips `.git` and Gantry's own state directory, and never
//! follows symbolic links, so a link loop cannot trap it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::finding::FileError;

/// One regular file found by [`walk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedFile {
    /// Relative to the root, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
}

/// Every regular file under `root` (or `root` itself when it is a file),
/// sorted by path, and the entries that could not be read.
pub fn walk(root: &Path, threads: usize) -> (Vec<WalkedFile>, Vec<FileError>) {
    if root.is_file() {
        let size = root.metadata().map(|m| m.len()).unwrap_or(0);
        let rel = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return (
            vec![WalkedFile {
                rel,
                abs: root.to_path_buf(),
                size,
            }],
            Vec::new(),
        );
    }
    let files = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .threads(threads.max(1))
        .filter_entry(|e| {
            let name = e.file_name();
            !(e.file_type().is_some_and(|t| t.is_dir()) && (name == ".git" || name == ".gantry"))
        })
        .build_parallel();
    walker.run(|| {
        let files = &files;
        let errors = &errors;
        Box::new(move |entry| {
            match entry {
                Ok(e) => {
                    if e.file_type().is_some_and(|t| t.is_file()) {
                        let rel = relative(root, e.path());
                        let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                        if let Ok(mut f) = files.lock() {
                            f.push(WalkedFile {
                                rel,
                                abs: e.path().to_path_buf(),
                                size,
                            });
                        }
                    }
                }
                Err(err) => {
                    let path = error_path(&err)
                        .map(|p| relative(root, p))
                        .unwrap_or_else(|| ".".into());
                    if let Ok(mut es) = errors.lock() {
                        es.push(FileError {
                            path,
                            message: strip_path(&err.to_string()),
                        });
                    }
                }
            }
            ignore::WalkState::Continue
        })
    });
    let mut files = files.into_inner().unwrap_or_default();
    files.sort_by(|a: &WalkedFile, b| a.rel.cmp(&b.rel));
    let mut errors = errors.into_inner().unwrap_or_default();
    errors.sort_by(|a: &FileError, b| a.path.cmp(&b.path));
    (files, errors)
}

/// `path` relative to `root`, with `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// The walker's messages start with the path, which the error already names.
fn strip_path(msg: &str) -> String {
    match msg.split_once(": ") {
        Some((head, tail)) if head.contains('/') => tail.to_string(),
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_gitignore_without_git_and_skips_state_dirs() {
        let d = tempfile::tempdir().expect("tempdir");
        let root = d.path();
        std::fs::write(root.join(".gitignore"), "build/\n*.log\n").expect("write");
        for f in [
            "a.txt",
            "x.log",
            "build/out.txt",
            ".env",
            "src/deep/b.rs",
            ".git/config",
            ".gantry/state.db",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, "x").expect("write");
        }
        let (files, errors) = walk(root, 2);
        let rels: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, [".env", ".gitignore", "a.txt", "src/deep/b.rs"]);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_do_not_trap_the_walk() {
        let d = tempfile::tempdir().expect("tempdir");
        let root = d.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::write(root.join("a/b/f.txt"), "x").expect("write");
        std::os::unix::fs::symlink(root.join("a"), root.join("a/b/loop")).expect("symlink");
        std::os::unix::fs::symlink(root.join("self"), root.join("self")).expect("symlink");
        let (files, _) = walk(root, 2);
        let rels: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a/b/f.txt"]);
    }

    #[test]
    fn a_single_file_root_is_scanned_as_itself() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("Cargo.lock");
        std::fs::write(&p, "x").expect("write");
        let (files, _) = walk(&p, 1);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].rel, "Cargo.lock");
    }
}
