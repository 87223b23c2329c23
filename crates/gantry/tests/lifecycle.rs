//! Starting, stopping and guarding the embedded server.

mod common;

use common::{Server, admin_token, gantry};
use serde_json::Value;

#[tokio::test]
async fn sigterm_drains_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data_arg = data.to_str().unwrap();
    let server = Server::start(dir.path(), &["up", "--data-dir", data_arg]);
    let token = admin_token(&data);
    let http = reqwest::Client::new();
    // An open live stream must not keep the server from stopping.
    let stream = http
        .get(format!("{}/api/v1/events/stream", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    // A second server on the same data dir is refused while the first runs.
    let second = gantry()
        .args(["up", "--listen", "127.0.0.1:0", "--data-dir", data_arg])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another gantry server"));

    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "graceful exit");
    // The store was closed cleanly: the WAL was checkpointed away.
    assert!(!data.join("gantry.db-wal").exists());

    // Restart: the lifecycle events are in the log and the token still works.
    let server = Server::start(dir.path(), &["up", "--data-dir", data_arg]);
    let page: Value = http
        .get(format!("{}/api/v1/events?kind=server.*", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["server.started", "server.stopped", "server.started"]
    );
    // The first token is not replaced on restart.
    assert_eq!(admin_token(&data), token);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn demo_creates_its_workspace_once_and_keeps_edits() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["up", "--demo"]);
    let demo = dir.path().join(".gantry/demo/gantry.yml");
    let original = std::fs::read_to_string(&demo).unwrap();
    assert!(original.contains("version: 1"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join(".gantry/admin-token"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(server.terminate().code(), Some(0));

    std::fs::write(&demo, format!("{original}\n# edited\n")).unwrap();
    let server = Server::start(dir.path(), &["up", "--demo"]);
    assert!(
        std::fs::read_to_string(&demo)
            .unwrap()
            .ends_with("# edited\n")
    );
    assert_eq!(server.terminate().code(), Some(0));

    // A broken demo config stops the server with diagnostics and exit 2.
    std::fs::write(&demo, "version: 1\nsrever: {}\n").unwrap();
    let out = gantry()
        .args(["up", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gantry.yml:2:1") && err.contains("did you mean `server`?"),
        "{err}"
    );
}
