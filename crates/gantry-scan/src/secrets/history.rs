//! Scanning git history: every commit's added lines, once per blob.
//!
//! Runs `git log --all --reverse -p -U0` and parses the patch stream: for
//! each file a commit changes, the added lines are joined into one fragment
//! (so a private key added as a block is still seen whole) and scanned, and
//! finding lines are mapped back to the lines of the file in that commit.
//! A post-image blob that was already scanned (the same content reached
//! through another branch or commit) is skipped, so each secret is
//! reported once, with the oldest commit that added it.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use super::Scanner;
use crate::Finding;

/// Where a history scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryProgress {
    pub commits_done: u64,
    pub commits_total: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot run git: {0}")]
    Spawn(String),
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Git {
        dir: String,
        args: String,
        stderr: String,
    },
    #[error("reading git output: {0}")]
    Io(String),
}

const COMMIT_MARK: &[u8] = b"\x01gantry-commit ";

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(repo)
        .args(["-c", "core.quotePath=false"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
    c
}

fn run(repo: &Path, args: &[&str]) -> Result<Vec<u8>, HistoryError> {
    let out = git(repo)
        .args(args)
        .output()
        .map_err(|e| HistoryError::Spawn(e.to_string()))?;
    if !out.status.success() {
        return Err(HistoryError::Git {
            dir: repo.display().to_string(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// Scans the added lines of every commit reachable from any ref of the
/// repository at `repo_dir`. `progress` is called after each commit.
pub fn scan_git_history(
    repo_dir: &Path,
    scanner: &Scanner,
    progress: &mut dyn FnMut(HistoryProgress),
) -> Result<Vec<Finding>, HistoryError> {
    run(repo_dir, &["rev-parse", "--git-dir"])?;
    let has_refs = !run(repo_dir, &["for-each-ref", "--count=1"])?.is_empty();
    let head_ok = git(repo_dir)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_refs && !head_ok {
        // An empty repository: no history to scan.
        return Ok(Vec::new());
    }
    let total = String::from_utf8_lossy(&run(repo_dir, &["rev-list", "--all", "--count"])?)
        .trim()
        .parse::<u64>()
        .unwrap_or(0);

    let args = [
        "log",
        "--all",
        "--reverse",
        "--topo-order",
        "-p",
        "-U0",
        "--no-color",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--full-index",
        "--format=%x01gantry-commit %H",
    ];
    let mut child = git(repo_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HistoryError::Spawn(e.to_string()))?;
    let stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| HistoryError::Io("git produced no output pipe".into()))?;

    let mut parser = Parser::new(scanner, total);
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| HistoryError::Io(e.to_string()))?;
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        parser.line(&line, progress);
    }
    parser.finish_commit(progress);
    let status = child.wait().map_err(|e| HistoryError::Io(e.to_string()))?;
    let err_text = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(HistoryError::Git {
            dir: repo_dir.display().to_string(),
            args: args.join(" "),
            stderr: err_text.trim().to_string(),
        });
    }
    Ok(parser.findings)
}

struct FileDiff {
    path: Option<String>,
    blob: Option<String>,
    skip: bool,
    /// Added lines, joined with `\n`.
    fragment: Vec<u8>,
    /// Fragment line index → line in the file at this commit.
    line_map: Vec<u32>,
    /// Lines of the current hunk still to come.
    old_left: u32,
    new_left: u32,
    next_new: u32,
}

struct Parser<'a> {
    scanner: &'a Scanner,
    seen_blobs: HashSet<String>,
    findings: Vec<Finding>,
    commit: Option<String>,
    file: Option<FileDiff>,
    done: u64,
    total: u64,
}

impl<'a> Parser<'a> {
    fn new(scanner: &'a Scanner, total: u64) -> Parser<'a> {
        Parser {
            scanner,
            seen_blobs: HashSet::new(),
            findings: Vec::new(),
            commit: None,
            file: None,
            done: 0,
            total,
        }
    }

    fn line(&mut self, line: &[u8], progress: &mut dyn FnMut(HistoryProgress)) {
        // Inside a hunk, every line is hunk content until the counts run out.
        if let Some(f) = &mut self.file
            && (f.old_left > 0 || f.new_left > 0)
        {
            match line.first() {
                Some(b'+') if f.new_left > 0 => {
                    if !f.skip {
                        if !f.fragment.is_empty() || !f.line_map.is_empty() {
                            f.fragment.push(b'\n');
                        }
                        f.fragment.extend_from_slice(&line[1..]);
                        f.line_map.push(f.next_new);
                    }
                    f.next_new = f.next_new.saturating_add(1);
                    f.new_left -= 1;
                    return;
                }
                Some(b'-') if f.old_left > 0 => {
                    f.old_left -= 1;
                    return;
                }
                Some(b'\\') => return,
                _ => {
                    // Malformed counts: leave the hunk and parse the line normally.
                    f.old_left = 0;
                    f.new_left = 0;
                }
            }
        }
        if let Some(sha) = line.strip_prefix(COMMIT_MARK) {
            self.finish_commit(progress);
            self.commit = Some(String::from_utf8_lossy(sha).trim().to_string());
            return;
        }
        if line.starts_with(b"diff --git ") {
            self.finish_file();
            self.file = Some(FileDiff {
                path: None,
                blob: None,
                skip: false,
                fragment: Vec::new(),
                line_map: Vec::new(),
                old_left: 0,
                new_left: 0,
                next_new: 0,
            });
            return;
        }
        let Some(f) = &mut self.file else { return };
        if let Some(rest) = line.strip_prefix(b"index ") {
            // `index OLD..NEW[ MODE]`
            let rest = String::from_utf8_lossy(rest);
            if let Some((_, new)) = rest.split_once("..") {
                let blob = new.split(' ').next().unwrap_or("").to_string();
                if !blob.is_empty() && blob.bytes().any(|b| b != b'0') {
                    if self.seen_blobs.contains(&blob) {
                        f.skip = true;
                    }
                    f.blob = Some(blob);
                }
            }
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            // git ends an unquoted name holding a space with a tab.
            let rest = rest.strip_suffix(b"\t").unwrap_or(rest);
            if rest != b"/dev/null" {
                let p = unquote(rest);
                f.path = Some(p.strip_prefix("b/").unwrap_or(&p).to_string());
            }
        } else if line.starts_with(b"@@ ")
            && let Some((old, new, start)) = parse_hunk(line)
        {
            f.old_left = old;
            f.new_left = new;
            f.next_new = start;
        }
    }

    fn finish_file(&mut self) {
        let Some(f) = self.file.take() else { return };
        if let Some(blob) = &f.blob {
            self.seen_blobs.insert(blob.clone());
        }
        if f.skip || f.line_map.is_empty() {
            return;
        }
        let Some(path) = &f.path else { return };
        let found = self
            .scanner
            .scan_fragment(path, self.commit.as_deref(), &f.fragment, 1);
        for mut finding in found {
            if let Some(loc) = &mut finding.location
                && loc.line > 0
            {
                let map = |l: u32| f.line_map.get(l as usize - 1).copied().unwrap_or(l);
                let start = map(loc.line);
                if loc.end_line > 0 {
                    let end = map(loc.end_line);
                    loc.end_line = if end != start { end } else { 0 };
                }
                loc.line = start;
            }
            self.findings.push(finding);
        }
    }

    fn finish_commit(&mut self, progress: &mut dyn FnMut(HistoryProgress)) {
        self.finish_file();
        if self.commit.take().is_some() {
            self.done += 1;
            progress(HistoryProgress {
                commits_done: self.done,
                commits_total: self.total.max(self.done),
            });
        }
    }
}

/// `@@ -a[,b] +c[,d] @@` → (b, d, c).
fn parse_hunk(line: &[u8]) -> Option<(u32, u32, u32)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split(' ');
    parts.next()?; // @@
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |s: &str| -> Option<(u32, u32)> {
        match s.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (_, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_count, new_count, new_start))
}

/// Undoes git's C-style quoting of unusual paths (`"b/a\tb"`).
fn unquote(raw: &[u8]) -> String {
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return String::from_utf8_lossy(raw).into_owned();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' || i + 1 >= inner.len() {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let c = inner[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut k = 0;
                while k < 2 && i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                    v = v * 8 + u32::from(inner[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_headers() {
        assert_eq!(parse_hunk(b"@@ -0,0 +1,3 @@"), Some((0, 3, 1)));
        assert_eq!(parse_hunk(b"@@ -4 +5 @@ fn x()"), Some((1, 1, 5)));
        assert_eq!(parse_hunk(b"@@ -4,2 +3,0 @@"), Some((2, 0, 3)));
        assert_eq!(parse_hunk(b"@@ garbage"), None);
    }

    fn parser_over(lines: &[Vec<u8>]) -> usize {
        let scanner = Scanner::new(crate::secrets::Rules::builtin());
        let mut p = Parser::new(&scanner, 0);
        let mut calls = 0;
        for l in lines {
            p.line(l, &mut |_| calls += 1);
        }
        p.finish_commit(&mut |_| calls += 1);
        p.findings.len()
    }

    #[test]
    fn parser_maps_lines_through_hunks() {
        let tok = ["gh", "p_", "Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7"].concat();
        let lines: Vec<Vec<u8>> = [
            "\x01gantry-commit abc".to_string(),
            "diff --git a/f b/f".into(),
            "index 1111111..2222222 100644".into(),
            "--- a/f".into(),
            "+++ b/f".into(),
            "@@ -3,2 +3,1 @@".into(),
            "-old".into(),
            "-old".into(),
            "+new".into(),
            "@@ -40 +39,2 @@".into(),
            "-x".into(),
            "+y".into(),
            format!("+t = {tok}"),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        let scanner = Scanner::new(crate::secrets::Rules::builtin());
        let mut p = Parser::new(&scanner, 0);
        for l in &lines {
            p.line(l, &mut |_| {});
        }
        p.finish_commit(&mut |_| {});
        assert_eq!(p.findings.len(), 1);
        let loc = p.findings[0].location.as_ref().unwrap();
        assert_eq!((loc.path.as_str(), loc.line), ("f", 40));
        assert_eq!(p.findings[0].commit.as_deref(), Some("abc"));
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        fn line() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                Just(b"\x01gantry-commit 0123".to_vec()),
                Just(b"diff --git a/x b/x".to_vec()),
                "index [0-9a-f]{0,8}\\.\\.[0-9a-f]{0,8}( 100644)?".prop_map(String::into_bytes),
                Just(b"+++ b/x".to_vec()),
                Just(b"+++ /dev/null".to_vec()),
                "\\+\\+\\+ \"[a-z\\\\0-9]{0,6}\"?".prop_map(String::into_bytes),
                "@@ -[0-9]{1,11}(,[0-9]{1,11})? \\+[0-9]{1,11}(,[0-9]{1,11})? @@"
                    .prop_map(String::into_bytes),
                "[+-][ -~]{0,40}".prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 0..40),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn arbitrary_patch_streams_never_panic(lines in proptest::collection::vec(line(), 0..60)) {
                let _ = parser_over(&lines);
            }
        }
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(unquote(br#""b/a\tb\"c\303\251""#), "b/a\tb\"cé");
        assert_eq!(unquote(b"b/plain name"), "b/plain name");
    }
}
