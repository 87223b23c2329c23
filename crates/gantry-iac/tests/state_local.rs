//! The local backend: files, workspaces, atomic writes, backups, locks
//! (between instances and between processes), and backend selection.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gantry_iac::state::{
    Backend, LocalBackend, LockInfo, State, StateError, backend_from_config, current_workspace,
    lock_with_timeout, select_workspace,
};
use gantry_iac::value::Value;

/// Set in a child process of this test binary: what the child does.
const CHILD_ENV: &str = "GANTRY_STATE_TEST_CHILD";
const CHILD_DIR_ENV: &str = "GANTRY_STATE_TEST_DIR";

fn state_with_serial(serial: u64) -> State {
    let mut s = State::new();
    s.serial = serial;
    s
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn write_is_atomic_and_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::new(dir.path(), None);
    assert_eq!(b.describe(), "local (terraform.tfstate)");
    assert!(b.read("default").await.unwrap().is_none());

    let first = state_with_serial(1);
    b.write("default", &first).await.unwrap();
    // Nothing to back up on the first write; no temporary files left.
    assert_eq!(files_in(dir.path()), ["terraform.tfstate"]);
    assert_eq!(b.read("default").await.unwrap().unwrap(), first);

    let mut second = first.clone();
    second.serial = 2;
    b.write("default", &second).await.unwrap();
    assert_eq!(
        files_in(dir.path()),
        ["terraform.tfstate", "terraform.tfstate.backup"]
    );
    let backup = std::fs::read(dir.path().join("terraform.tfstate.backup")).unwrap();
    assert_eq!(State::from_json(&backup).unwrap().serial, 1);
    let current = std::fs::read(dir.path().join("terraform.tfstate")).unwrap();
    assert_eq!(current, second.to_json_pretty());
}

#[tokio::test]
async fn reads_empty_and_reports_corrupt_state_files() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::new(dir.path(), Some(PathBuf::from("custom.tfstate")));
    assert_eq!(b.describe(), "local (custom.tfstate)");
    std::fs::write(dir.path().join("custom.tfstate"), "  \n").unwrap();
    assert!(b.read("default").await.unwrap().is_none());
    std::fs::write(dir.path().join("custom.tfstate"), "{\"version\": 4,").unwrap();
    let err = b.read("default").await.unwrap_err().to_string();
    assert!(err.contains("custom.tfstate"), "{err}");
    assert!(err.starts_with("failed to read state"), "{err}");
}

#[tokio::test]
async fn workspaces_are_created_listed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::new(dir.path(), None);
    assert_eq!(b.workspaces().await.unwrap(), ["default"]);
    b.write("staging", &state_with_serial(3)).await.unwrap();
    b.write("dev", &state_with_serial(4)).await.unwrap();
    assert_eq!(b.workspaces().await.unwrap(), ["default", "dev", "staging"]);
    assert!(
        dir.path()
            .join("terraform.tfstate.d/staging/terraform.tfstate")
            .is_file()
    );
    assert_eq!(b.read("staging").await.unwrap().unwrap().serial, 3);
    // The default workspace is not touched by others.
    assert!(b.read("default").await.unwrap().is_none());

    b.delete_workspace("staging").await.unwrap();
    assert_eq!(b.workspaces().await.unwrap(), ["default", "dev"]);
    assert!(b.read("staging").await.unwrap().is_none());
    assert!(matches!(
        b.delete_workspace("staging").await,
        Err(StateError::WorkspaceNotFound(_))
    ));
    let err = b.delete_workspace("default").await.unwrap_err();
    assert!(matches!(err, StateError::DeleteDefault));

    for bad in ["", "a/b", "..", "a b", "x\\y", "é"] {
        assert!(
            matches!(b.read(bad).await, Err(StateError::InvalidWorkspace(_))),
            "{bad:?}"
        );
    }

    // A custom workspace_dir.
    let b2 = LocalBackend::new(dir.path(), None).with_workspace_dir("envs");
    b2.write("prod", &state_with_serial(1)).await.unwrap();
    assert!(dir.path().join("envs/prod/terraform.tfstate").is_file());
    assert_eq!(b2.workspaces().await.unwrap(), ["default", "prod"]);
}

#[tokio::test]
async fn workspace_selection_is_kept_in_dot_terraform() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(current_workspace(dir.path()), "default");
    select_workspace(dir.path(), "staging").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".terraform/environment")).unwrap(),
        "staging"
    );
    assert_eq!(current_workspace(dir.path()), "staging");
    assert!(select_workspace(dir.path(), "a/b").is_err());
    assert_eq!(current_workspace(dir.path()), "staging");

    // TF_WORKSPACE overrides the file: checked in a child process so this
    // test's environment stays untouched.
    let out = child("workspace_env", dir.path(), &[("TF_WORKSPACE", "from-env")])
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn info(op: &str) -> LockInfo {
    let mut i = LockInfo::new(op);
    i.info = format!("{op} by test");
    i
}

#[tokio::test]
async fn lock_contention_between_instances() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalBackend::new(dir.path(), None);
    let b = LocalBackend::new(dir.path(), None);
    let ia = info("OperationTypeApply");
    a.lock("default", &ia).await.unwrap();

    // The lock info file holds the holder's info, with Terraform's names.
    let raw = std::fs::read_to_string(dir.path().join(".terraform.tfstate.lock.info")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["ID"], ia.id.as_str());
    assert_eq!(json["Operation"], "OperationTypeApply");
    assert_eq!(json["Path"], "terraform.tfstate");
    for key in ["Info", "Who", "Version", "Created"] {
        assert!(json.get(key).is_some(), "{key} missing: {raw}");
    }

    match b.lock("default", &info("OperationTypePlan")).await {
        Err(StateError::Locked(holder)) => {
            assert_eq!(holder.id, ia.id);
            assert_eq!(holder.operation, "OperationTypeApply");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // The same instance can't take it twice either.
    assert!(matches!(
        a.lock("default", &info("OperationTypePlan")).await,
        Err(StateError::Locked(_))
    ));
    // Other workspaces are independent.
    b.lock("dev", &info("OperationTypePlan")).await.unwrap();

    // A wrong id is refused, by the holder and by others.
    for backend in [&a, &b] {
        let err = backend.unlock("default", "not-the-id").await.unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
    a.unlock("default", &ia.id).await.unwrap();
    assert!(!dir.path().join(".terraform.tfstate.lock.info").exists());
    let ib = info("OperationTypePlan");
    b.lock("default", &ib).await.unwrap();
    b.unlock("default", &ib.id).await.unwrap();
    let err = b.unlock("default", &ib.id).await.unwrap_err();
    assert!(err.to_string().contains("not locked"), "{err}");
}

#[tokio::test]
async fn force_unlock_from_another_instance() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalBackend::new(dir.path(), None);
    let b = LocalBackend::new(dir.path(), None);
    let c = LocalBackend::new(dir.path(), None);
    let ia = info("OperationTypeApply");
    a.lock("default", &ia).await.unwrap();
    assert!(b.unlock("default", "wrong").await.is_err());
    // The right id breaks the lock, as Terraform's force-unlock does.
    b.unlock("default", &ia.id).await.unwrap();
    let ic = info("OperationTypePlan");
    c.lock("default", &ic).await.unwrap();
    // The old holder's unlock leaves the new holder's lock alone.
    a.unlock("default", &ia.id).await.unwrap();
    match b.lock("default", &info("OperationTypePlan")).await {
        Err(StateError::Locked(holder)) => assert_eq!(holder.id, ic.id),
        other => panic!("expected Locked by c, got {other:?}"),
    }
}

#[tokio::test]
async fn lock_timeout_waits_then_names_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalBackend::new(dir.path(), None);
    let b = LocalBackend::new(dir.path(), None);
    let ia = info("OperationTypeApply");
    a.lock("default", &ia).await.unwrap();

    // Zero timeout: one try.
    let start = Instant::now();
    assert!(matches!(
        lock_with_timeout(&b, "default", &info("OperationTypePlan"), Duration::ZERO).await,
        Err(StateError::Locked(_))
    ));
    assert!(start.elapsed() < Duration::from_millis(200));

    let start = Instant::now();
    let err = lock_with_timeout(
        &b,
        "default",
        &info("OperationTypePlan"),
        Duration::from_millis(400),
    )
    .await
    .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(400));
    let msg = err.to_string();
    assert!(msg.starts_with("error acquiring the state lock"), "{msg}");
    for want in [
        format!("ID:        {}", ia.id),
        "Path:      terraform.tfstate".to_string(),
        "Operation: OperationTypeApply".to_string(),
        format!("Who:       {}", ia.who),
        format!("Created:   {}", ia.created),
        "Info:      OperationTypeApply by test".to_string(),
    ] {
        assert!(msg.contains(&want), "missing {want:?} in:\n{msg}");
    }

    // Released while waiting: the waiter gets it.
    let id = ia.id.clone();
    let releaser = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.unlock("default", &id).await.unwrap();
    };
    let ib = info("OperationTypePlan");
    let (got, ()) = tokio::join!(
        lock_with_timeout(&b, "default", &ib, Duration::from_secs(10)),
        releaser
    );
    got.unwrap();
    b.unlock("default", &ib.id).await.unwrap();
}

// ------------------------------------------------------------ processes

fn child(role: &str, dir: &Path, env: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, role)
    .env(CHILD_DIR_ENV, dir)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Does nothing in a normal run; in a child process started by the tests
/// above, plays the part named by `GANTRY_STATE_TEST_CHILD`.
#[tokio::test]
async fn child_process() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(std::env::var(CHILD_DIR_ENV).unwrap());
    match role.as_str() {
        "workspace_env" => assert_eq!(current_workspace(&dir), "from-env"),
        "holder" => {
            let b = LocalBackend::new(&dir, None);
            let mut i = LockInfo::new("OperationTypeApply");
            i.id = "child-lock".to_string();
            b.lock("default", &i).await.unwrap();
            println!("LOCKED");
            // Hold the lock until killed (or until stdin closes).
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        other => panic!("unknown child role {other}"),
    }
}

#[tokio::test]
async fn lock_contention_between_processes_and_no_stale_lock_after_kill() {
    let dir = tempfile::tempdir().unwrap();
    let mut holder = child("holder", dir.path(), &[]);
    let stdout = holder.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("LOCKED") => break,
            Some(Ok(_)) => continue,
            other => panic!("the child ended before locking: {other:?}"),
        }
    }
    let b = LocalBackend::new(dir.path(), None);
    match b.lock("default", &info("OperationTypePlan")).await {
        Err(StateError::Locked(h)) => assert_eq!(h.id, "child-lock"),
        other => panic!("expected Locked by the child, got {other:?}"),
    }
    // Killed without unlocking: the OS drops its flock, the info file stays
    // but is stale, and the next locker takes over.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(dir.path().join(".terraform.tfstate.lock.info").exists());
    let mine = info("OperationTypePlan");
    b.lock("default", &mine).await.unwrap();
    b.unlock("default", &mine.id).await.unwrap();
}

// ------------------------------------------------------------ selection

#[tokio::test]
async fn backend_selection() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |pairs: &[(&str, Value)]| -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };

    let b = backend_from_config("local", &BTreeMap::new(), dir.path(), None).unwrap();
    assert_eq!(b.describe(), "local (terraform.tfstate)");
    let b = backend_from_config(
        "local",
        &settings(&[
            ("path", Value::string("state/main.tfstate")),
            ("workspace_dir", Value::string("ws")),
        ]),
        dir.path(),
        None,
    )
    .unwrap();
    assert_eq!(b.describe(), "local (state/main.tfstate)");
    b.write("default", &state_with_serial(1)).await.unwrap();
    b.write("other", &state_with_serial(1)).await.unwrap();
    assert!(dir.path().join("state/main.tfstate").is_file());
    assert!(dir.path().join("ws/other/terraform.tfstate").is_file());

    let cases: Vec<(&str, BTreeMap<String, Value>, &str)> = vec![
        (
            "s3",
            BTreeMap::new(),
            "backend \"s3\" is not supported; the supported backends are: gantry, local",
        ),
        (
            "local",
            settings(&[("bucket", Value::string("x"))]),
            "unsupported argument \"bucket\"",
        ),
        (
            "local",
            settings(&[("path", Value::Number(1.0))]),
            "invalid value for \"path\"",
        ),
        ("gantry", BTreeMap::new(), "requires the argument \"stack\""),
        (
            "gantry",
            settings(&[("stack", Value::string("web"))]),
            "needs the Gantry store",
        ),
    ];
    for (kind, s, want) in cases {
        let err = match backend_from_config(kind, &s, dir.path(), None) {
            Err(e) => e.to_string(),
            Ok(b) => panic!("{kind}: expected an error, got {}", b.describe()),
        };
        assert!(err.contains(want), "{kind}: {err}");
    }
}
