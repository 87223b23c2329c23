//! Git history scanning against real temporary repositories.

use std::path::Path;
use std::process::Command;

use gantry_scan::secrets::{HistoryError, HistoryProgress, Rules, Scanner, scan_git_history};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@localhost"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed (apt-get install git)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit_all(dir: &Path, msg: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

fn ghp(tail: &str) -> String {
    let body: String = tail.chars().cycle().take(36).collect();
    ["gh", "p_", &body].concat()
}

struct Repo {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    added: String,
    c_branch: String,
    d_main: String,
    key_commit: String,
}

fn build_repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    git(&path, &["init", "-q"]);
    let s1 = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let s2 = ghp("Mn3Pq7Rs1Tu5Vw9Xy2Za4Bc6De8Fg0Hi");

    // A: the secret is added on line 3.
    std::fs::write(
        path.join("config.env"),
        format!("A=1\nB=2\nTOKEN={s1}\nC=3\n"),
    )
    .unwrap();
    let added = commit_all(&path, "add config");
    // B: the secret is removed (and another line changes).
    std::fs::write(path.join("config.env"), "A=1\nB=2\nTOKEN=${TOKEN}\nC=4\n").unwrap();
    commit_all(&path, "remove secret");

    // The same file content (one blob) added on two branches.
    let shared = format!("# notes\nkey: {s2}\n");
    git(&path, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(path.join("notes.txt"), &shared).unwrap();
    let c_branch = commit_all(&path, "notes on feature");
    git(&path, &["checkout", "-q", "main"]);
    std::fs::write(path.join("notes.txt"), &shared).unwrap();
    let d_main = commit_all(&path, "notes on main");

    // A private key added as a block in the middle of an existing file.
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0";
    let mut text = String::from("keep1\nkeep2\n");
    std::fs::write(path.join("deploy.txt"), &text).unwrap();
    commit_all(&path, "deploy notes");
    text = format!(
        "keep1\n{}\n{body}\n{body}\n{}\nkeep2\n",
        ["-----BEGIN RSA PRIVATE", " KEY-----"].concat(),
        ["-----END RSA PRIVATE", " KEY-----"].concat()
    );
    std::fs::write(path.join("deploy.txt"), &text).unwrap();
    let key_commit = commit_all(&path, "add key");

    // A binary file with a token in it is skipped.
    let mut bin = b"\x00\x01\x02".to_vec();
    bin.extend_from_slice(ghp("Bn4Cm5Dl6Ek7Fj8Gi9Hh0Ig1Jf2Ke3Ld").as_bytes());
    std::fs::write(path.join("blob.bin"), bin).unwrap();
    commit_all(&path, "binary");

    // A file path with a space and a non-ASCII character.
    std::fs::write(
        path.join("dir é x.txt"),
        format!("t = {}\n", ghp("Pp1Oo2Ii3Uu4Yy5Tt6Rr7Ee8Ww9Qq0Aa")),
    )
    .unwrap();
    commit_all(&path, "odd path");
    Repo {
        _dir: dir,
        path,
        added,
        c_branch,
        d_main,
        key_commit,
    }
}

#[test]
fn history_finds_each_added_secret_once_with_its_commit() {
    let repo = build_repo();
    let scanner = Scanner::new(Rules::builtin());
    let mut calls: Vec<HistoryProgress> = Vec::new();
    let findings = scan_git_history(&repo.path, &scanner, &mut |p| calls.push(p)).unwrap();

    let summary: Vec<(String, String, u32, String)> = findings
        .iter()
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (
                f.rule_id.clone(),
                l.path.clone(),
                l.line,
                f.commit.clone().unwrap(),
            )
        })
        .collect();

    // Added then removed: found once, in the commit that added it, line 3.
    let cfg: Vec<_> = summary.iter().filter(|s| s.1 == "config.env").collect();
    assert_eq!(cfg.len(), 1, "{summary:?}");
    assert_eq!(
        (cfg[0].0.as_str(), cfg[0].2, cfg[0].3.as_str()),
        ("github-pat", 3, repo.added.as_str())
    );

    // One blob on two branches: found once, in one of the two commits.
    let notes: Vec<_> = summary.iter().filter(|s| s.1 == "notes.txt").collect();
    assert_eq!(notes.len(), 1, "{summary:?}");
    assert_eq!(notes[0].2, 2);
    assert!(notes[0].3 == repo.c_branch || notes[0].3 == repo.d_main);

    // The key block: lines of the file at that commit, start and end.
    let key = findings
        .iter()
        .find(|f| f.rule_id == "private-key")
        .expect("key found");
    let loc = key.location.as_ref().unwrap();
    assert_eq!(
        (loc.path.as_str(), loc.line, loc.end_line),
        ("deploy.txt", 2, 5)
    );
    assert_eq!(key.commit.as_deref(), Some(repo.key_commit.as_str()));

    // Binary content is skipped; the quoted path is decoded.
    assert!(summary.iter().all(|s| s.1 != "blob.bin"), "{summary:?}");
    assert!(summary.iter().any(|s| s.1 == "dir é x.txt"), "{summary:?}");
    assert_eq!(findings.len(), 4, "{summary:?}");

    // Progress: one call per commit, ending at the total.
    let total = git(&repo.path, &["rev-list", "--all", "--count"])
        .parse::<u64>()
        .unwrap();
    assert_eq!(calls.len() as u64, total);
    assert_eq!(calls.last().unwrap().commits_done, total);
    assert_eq!(calls.last().unwrap().commits_total, total);

    // Redacted, never the secret.
    for f in &findings {
        assert!(f.redacted.as_deref().unwrap().ends_with('…'));
    }
}

#[test]
fn commit_allowlist_skips_that_commit() {
    let repo = build_repo();
    let config = format!(
        "[extend]\nuseDefault = true\n\n[[allowlists]]\ncommits = [\"{}\"]\n",
        repo.added
    );
    let rules = Rules::from_gitleaks_toml(&config, Path::new("gitleaks.toml")).unwrap();
    let findings = scan_git_history(&repo.path, &Scanner::new(rules), &mut |_| {}).unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f.location.as_ref().unwrap().path != "config.env")
    );
    assert_eq!(findings.len(), 3);
}

#[test]
fn not_a_repository_and_empty_repository() {
    let dir = tempfile::tempdir().unwrap();
    let scanner = Scanner::new(Rules::builtin());
    match scan_git_history(dir.path(), &scanner, &mut |_| {}) {
        Err(HistoryError::Git { stderr, .. }) => {
            assert!(stderr.contains("not a git repository"), "{stderr}")
        }
        other => panic!("{other:?}"),
    }
    git(dir.path(), &["init", "-q"]);
    let f = scan_git_history(dir.path(), &scanner, &mut |_| {}).unwrap();
    assert!(f.is_empty());
}
