//! Monitoring through the binary: a server scrapes itself and probes a
//! dead target; `gantry query`, `gantry monitors` and the monitor events
//! show it.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, gantry};

fn cli(dir: &Path, url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = gantry()
        .args(args)
        .args(["--server", url, "--data-dir", ".gantry"])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `args` until `pred` holds on its stdout, for up to 30 s.
fn eventually(dir: &Path, url: &str, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = cli(dir, url, args);
        if code == Some(0) && pred(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "gantry {args:?} never matched; last output:\n{out}{err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn query_monitors_and_monitor_events() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens there.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        dir.path().join("gantry.yml"),
        format!(
            "version: 1\nmonitoring:\n  scrape-interval: 1s\nmonitors:\n  - name: dead-end\n    url: tcp://{dead}\n    interval: 1s\n    timeout: 500ms\n    failure-threshold: 1\n"
        ),
    )
    .unwrap();
    let server = Server::start(dir.path(), &["up"]);
    let url = server.url.clone();

    let out = eventually(dir.path(), &url, &["query", "up"], |o| {
        o.contains("job=\"gantry\"")
    });
    assert!(out.trim_end().ends_with(" 1"), "{out}");
    let out = eventually(dir.path(), &url, &["monitors"], |o| o.contains(" down "));
    assert!(out.contains("dead-end") && out.contains("tcp"), "{out}");
    let out = eventually(
        dir.path(),
        &url,
        &["events", "list", "--kind", "monitor.down"],
        |o| o.contains("monitor/dead-end"),
    );
    assert!(out.contains("monitor.down"), "{out}");
    let out = eventually(
        dir.path(),
        &url,
        &["query", "probe_success", "--json"],
        |o| o.contains("dead-end"),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "0", "{v}");
    let out = eventually(
        dir.path(),
        &url,
        &["query", "up", "--start", "-30s", "--step", "1s"],
        |o| o.contains("max 1"),
    );
    assert!(out.contains("up{"), "{out}");

    let (code, _, err) = cli(dir.path(), &url, &["query", "sum("]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("parse error"), "{err}");
    let (code, _, err) = cli(dir.path(), &url, &["query", "up", "--step", "1s"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = cli(dir.path(), &url, &["query", "up", "--start", "-banana"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(server.terminate().code(), Some(0));
}
