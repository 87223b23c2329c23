//! The command line: help, completions, validate and exit codes.

mod common;

use common::{Server, admin_token, gantry};

fn run(args: &[&str], cwd: &std::path::Path) -> (Option<i32>, String, String) {
    let out = gantry()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("gantry runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&["--help"], dir.path());
    assert_eq!(code, Some(0));
    for sub in ["up", "serve", "validate", "token", "events", "completions"] {
        assert!(out.contains(sub), "top-level help lists {sub}");
    }
    for args in [
        &["up", "--help"][..],
        &["serve", "--help"],
        &["validate", "--help"],
        &["token", "create", "--help"],
        &["events", "list", "--help"],
        &["events", "emit", "--help"],
        &["completions", "--help"],
    ] {
        let (code, out, _) = run(args, dir.path());
        assert_eq!(code, Some(0), "{args:?}");
        assert!(out.contains("Examples:"), "{args:?} has examples");
    }
}

#[test]
fn completions_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(&["completions", shell], dir.path());
        assert_eq!(code, Some(0));
        assert!(out.contains("validate") && out.contains("token"), "{shell}");
    }
    let (code, _, err) = run(&["completions", "cmd.exe"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid value"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(&["frobnicate"], dir.path()).0, Some(2));
    assert_eq!(
        run(&["token", "create", "--role", "root"], dir.path()).0,
        Some(2)
    );
    let (code, _, err) = run(&["up", "--listen", "nowhere"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("--listen"), "{err}");
    let (code, _, err) = run(&["serve", "--database-url", "sqlite:x.db"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("postgres://"), "{err}");
    // No token anywhere: a usage problem, said plainly.
    let (code, _, err) = run(&["token", "list"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("GANTRY_TOKEN"), "{err}");
}

#[test]
fn validate_reports_diagnostics_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&["validate"], dir.path());
    assert_eq!(code, Some(0));
    assert!(out.contains("no configuration files"));

    std::fs::write(
        dir.path().join("gantry.yml"),
        "version: 1\nserver:\n  listen: 127.0.0.1:9000\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("gantry.d")).unwrap();
    std::fs::write(
        dir.path().join("gantry.d/10-events.yml"),
        "version: 1\nevents:\n  retention: 30d\n",
    )
    .unwrap();
    let (code, out, _) = run(
        &["validate", "-C", dir.path().to_str().unwrap()],
        std::path::Path::new("/"),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 file(s) checked"), "{out}");

    std::fs::write(
        dir.path().join("gantry.d/20-bad.yml"),
        "version: 1\nserver:\n  listne: 127.0.0.1:1\n",
    )
    .unwrap();
    let (code, _, err) = run(&["validate"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("gantry.d/20-bad.yml:3:3"), "{err}");
    assert!(err.contains("did you mean `listen`?"), "{err}");
    assert!(err.contains("^^^^^^"), "{err}");

    let (code, _, err) = run(&["validate", "-C", "/nonexistent/dir"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn client_commands_against_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(".gantry");
    let server = Server::start(dir.path(), &["up"]);
    let url = server.url.clone();
    let client = |args: &[&str], token: Option<&str>| {
        let mut cmd = gantry();
        cmd.args(args)
            .env("GANTRY_SERVER", &url)
            .current_dir(dir.path());
        if let Some(t) = token {
            cmd.env("GANTRY_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The admin token is found in the data dir.
    let (code, viewer, _) = client(
        &[
            "token", "create", "--role", "viewer", "--name", "grafana", "--quiet",
        ],
        None,
    );
    assert_eq!(code, Some(0));
    let viewer = viewer.trim().to_string();
    assert!(
        viewer.starts_with("gantry_") && viewer.len() == 71,
        "{viewer}"
    );
    assert_ne!(viewer, admin_token(&data));

    let (code, out, _) = client(&["token", "list"], None);
    assert_eq!(code, Some(0));
    assert!(out.contains("grafana") && out.contains("viewer") && !out.contains(&viewer));

    // A viewer may read but not write: exit 1 with the server's reason.
    let (code, _, err) = client(
        &["events", "emit", "deploy.finished", "service/api"],
        Some(&viewer),
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("403") && err.contains("operator role"),
        "{err}"
    );
    let (code, out, _) = client(
        &[
            "events",
            "emit",
            "deploy.finished",
            "service/api",
            "--data",
            "{\"v\":2}",
        ],
        None,
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = client(&["events", "list", "--kind", "deploy.*"], Some(&viewer));
    assert_eq!(code, Some(0));
    assert!(
        out.contains("deploy.finished") && out.contains("service/api") && out.contains("{\"v\":2}"),
        "{out}"
    );
    let (code, _, err) = client(
        &["events", "emit", "deploy.finished", "x", "--data", "{oops"],
        None,
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("--data is not valid JSON"), "{err}");

    // Revoking: the id from the list; afterwards the token is refused.
    let (_, json, _) = client(&["token", "list", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let id = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "grafana")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(client(&["token", "revoke", &id], None).0, Some(0));
    let (code, _, err) = client(&["events", "list"], Some(&viewer));
    assert_eq!(code, Some(1));
    assert!(err.contains("401"), "{err}");
    drop(server);

    // No server: exit 1, saying where it looked.
    let (code, _, err) = client(&["events", "list"], Some(&viewer));
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot reach the server"), "{err}");
}

#[test]
fn json_logs_are_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = gantry()
        .args(["--log-format", "json", "up", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("GANTRY_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id().to_string();
    // Wait until the token file exists: the server is up and has logged.
    let token = dir.path().join(".gantry/admin-token");
    for _ in 0..600 {
        if token.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let out = out.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let secret = std::fs::read_to_string(&token).unwrap();
    assert!(
        !stderr.contains(secret.trim()),
        "the admin token must never reach the log"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() >= 2, "{stderr}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}

#[test]
fn validate_checks_workflows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(root.join(".gantry/workflows")).unwrap();
    let ok =
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n";
    std::fs::write(root.join(".github/workflows/ci.yml"), ok).unwrap();
    std::fs::write(root.join(".gantry/workflows/deploy.yaml"), ok).unwrap();
    std::fs::write(root.join("gantry.yml"), "version: 1\n").unwrap();
    let (code, out, err) = run(
        &["validate", "-C", root.to_str().unwrap()],
        std::path::Path::new("/"),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "ok  gantry.yml",
            "ok  .gantry/workflows/deploy.yaml",
            "ok  .github/workflows/ci.yml",
            "3 file(s) checked, no problems",
        ],
        "{out}"
    );

    // A workflow with errors: listed diagnostics, exit 2, the good ones
    // still listed.
    std::fs::write(
        root.join(".github/workflows/release.yml"),
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n  publish:\n    needs: biuld\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.ref == }}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["validate"], root);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.contains("ok  .github/workflows/ci.yml"), "{out}");
    assert!(!out.contains("release.yml"), "{out}");
    assert!(err.contains(".github/workflows/release.yml:8:12"), "{err}");
    assert!(err.contains("did you mean `build`?"), "{err}");
    assert!(err.contains(".github/workflows/release.yml:11:37"), "{err}");
    assert!(err.contains("invalid expression"), "{err}");

    // Workflows alone (no gantry.yml) are checked too.
    std::fs::remove_file(root.join("gantry.yml")).unwrap();
    std::fs::remove_file(root.join(".github/workflows/release.yml")).unwrap();
    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 file(s) checked"), "{out}");
}
