//! The gantry backend against both store backends: SQLite in a temporary
//! directory and PostgreSQL (a fresh database per test, via gantry-store's
//! test support; the server at GANTRY_TEST_DATABASE_URL or 127.0.0.1:5432).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gantry_iac::state::{
    Backend, GantryBackend, InstanceAddr, InstanceState, LockInfo, State, StateError,
    backend_from_config, lock_with_timeout,
};
use gantry_iac::value::Value;
use gantry_store::testing::TestDatabase;
use gantry_store::{PgStore, SqliteStore, Store};

async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Store>, Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gantry.db");
    let a: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    body(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
}

async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Store>, Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::create().await;
    let a: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    body(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
    drop(db);
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::on_sqlite(super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::on_postgres(super::$name).await
                }
            )*
        }
    };
}

both!(
    read_write_and_history,
    refuses_other_lineage_and_lower_serial,
    workspaces,
    locks_across_handles,
    selected_from_config,
);

fn sample_state() -> State {
    let mut s = State::new();
    let addr: InstanceAddr = "random_id.x".parse().unwrap();
    let mut inst = InstanceState::new(0, serde_json::Value::Null);
    inst.set_value(&Value::Object(
        [
            ("id".to_string(), Value::string("abc")),
            ("secret".to_string(), Value::string("s").mark()),
        ]
        .into(),
    ));
    s.set_instance(
        &addr,
        r#"provider["registry.terraform.io/hashicorp/random"]"#,
        inst,
    );
    s
}

async fn read_write_and_history(store: Arc<dyn Store>, other: Arc<dyn Store>) {
    let b = GantryBackend::new(store, "web".to_string());
    assert_eq!(b.describe(), "gantry (stack web)");
    assert!(b.read("default").await.unwrap().is_none());

    let mut s = sample_state();
    s.serial = 1;
    b.write("default", &s).await.unwrap();
    s.serial = 2;
    s.outputs.insert(
        "o".to_string(),
        gantry_iac::state::OutputState::from_value(&Value::string("v"), false),
    );
    b.write("default", &s).await.unwrap();

    // Another handle (process or replica) reads the same state, marks and
    // all.
    let b2 = GantryBackend::new(other.clone(), "web".to_string());
    let got = b2.read("default").await.unwrap().unwrap();
    assert_eq!(got, s);
    let addr: InstanceAddr = "random_id.x".parse().unwrap();
    let v = got.instance(&addr).unwrap().value(None).unwrap();
    assert!(v.get_attr("secret").unwrap().is_sensitive());

    let hist = b2.history("default", 10).await.unwrap();
    let serials: Vec<u64> = hist.iter().map(|(s, _)| s.serial).collect();
    assert_eq!(serials, [2, 1]);
    assert!(hist[1].0.outputs.is_empty());
    // Another stack sees nothing.
    let other_stack = GantryBackend::new(other, "db".to_string());
    assert!(other_stack.read("default").await.unwrap().is_none());
}

async fn refuses_other_lineage_and_lower_serial(store: Arc<dyn Store>, _other: Arc<dyn Store>) {
    let b = GantryBackend::new(store, "web".to_string());
    let mut s = sample_state();
    s.serial = 5;
    b.write("default", &s).await.unwrap();

    let mut stranger = State::new();
    stranger.serial = 9;
    let err = b.write("default", &stranger).await.unwrap_err();
    assert!(matches!(err, StateError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("lineage"), "{err}");

    let mut older = s.clone();
    older.serial = 4;
    let err = b.write("default", &older).await.unwrap_err();
    assert!(matches!(err, StateError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("serial 4 is lower"), "{err}");

    assert_eq!(b.read("default").await.unwrap().unwrap().serial, 5);
    assert_eq!(b.history("default", 10).await.unwrap().len(), 1);
}

async fn workspaces(store: Arc<dyn Store>, _other: Arc<dyn Store>) {
    let b = GantryBackend::new(store, "web".to_string());
    assert_eq!(b.workspaces().await.unwrap(), ["default"]);
    b.write("staging", &sample_state()).await.unwrap();
    b.write("default", &sample_state()).await.unwrap();
    b.write("dev", &sample_state()).await.unwrap();
    assert_eq!(b.workspaces().await.unwrap(), ["default", "dev", "staging"]);
    b.delete_workspace("staging").await.unwrap();
    assert_eq!(b.workspaces().await.unwrap(), ["default", "dev"]);
    assert!(b.read("staging").await.unwrap().is_none());
    assert!(matches!(
        b.delete_workspace("staging").await,
        Err(StateError::WorkspaceNotFound(_))
    ));
    assert!(matches!(
        b.delete_workspace("default").await,
        Err(StateError::DeleteDefault)
    ));
    assert!(matches!(
        b.read("a/b").await,
        Err(StateError::InvalidWorkspace(_))
    ));
}

async fn locks_across_handles(store: Arc<dyn Store>, other: Arc<dyn Store>) {
    let a = GantryBackend::new(store, "web".to_string());
    let b = GantryBackend::new(other, "web".to_string());
    let ia = LockInfo::new("OperationTypeApply");
    a.lock("default", &ia).await.unwrap();
    match b.lock("default", &LockInfo::new("OperationTypePlan")).await {
        Err(StateError::Locked(holder)) => {
            assert_eq!(holder.id, ia.id);
            assert_eq!(holder.path, "web/default");
            assert_eq!(holder.who, ia.who);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // Timeout: waits, then names the holder.
    let start = std::time::Instant::now();
    let err = lock_with_timeout(
        &b,
        "default",
        &LockInfo::new("OperationTypePlan"),
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(
        err.to_string().contains(&format!("ID:        {}", ia.id)),
        "{err}"
    );

    let err = b.unlock("default", "wrong").await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    // Force-unlock from the other handle with the right id.
    b.unlock("default", &ia.id).await.unwrap();
    let err = a.unlock("default", &ia.id).await.unwrap_err();
    assert!(err.to_string().contains("not locked"), "{err}");
    let ib = LockInfo::new("OperationTypePlan");
    b.lock("default", &ib).await.unwrap();
    b.unlock("default", &ib.id).await.unwrap();
}

async fn selected_from_config(store: Arc<dyn Store>, _other: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let settings: BTreeMap<String, Value> = [("stack".to_string(), Value::string("net"))].into();
    let b = backend_from_config("gantry", &settings, dir.path(), Some(store)).unwrap();
    assert_eq!(b.describe(), "gantry (stack net)");
    b.write("default", &sample_state()).await.unwrap();
    assert!(b.read("default").await.unwrap().is_some());
    // Nothing on disk.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
