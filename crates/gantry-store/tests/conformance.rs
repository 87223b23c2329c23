//! One conformance suite, run against both backends: SQLite (a temporary
//! directory) and PostgreSQL (a fresh database per test on the server at
//! `GANTRY_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, dropped afterwards).
//!
//! PostgreSQL tests fail, never skip, when the server is unreachable.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use gantry_core::{Event, EventKind, Id, NewEvent, Role, Timestamp};
use gantry_store::testing::TestDatabase;
use gantry_store::{
    EventLog, EventQuery, MAX_PAGE, NewToken, Order, PgStore, Settings, SqliteStore, Store,
    StoreError, follow,
};
use serde_json::{Value, json};

/// Upper bound for anything a test waits on, so a bug fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- harness

#[derive(Clone)]
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

/// What a test body gets: an open store, and a way to open another handle
/// on the same database (a reopen, or for PostgreSQL a second replica).
#[derive(Clone)]
struct Harness {
    store: Arc<dyn Store>,
    target: Target,
}

impl Harness {
    async fn open_again(&self) -> Arc<dyn Store> {
        match &self.target {
            Target::Sqlite(path) => Arc::new(SqliteStore::open(path).await.expect("reopen sqlite")),
            Target::Postgres(url) => Arc::new(PgStore::connect(url).await.expect("connect again")),
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self.target, Target::Postgres(_))
    }
}

async fn run_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested").join("gantry.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.expect("open sqlite"));
    let h = Harness {
        store: store.clone(),
        target: Target::Sqlite(path),
    };
    let outcome = tokio::spawn(body(h)).await;
    store.close().await;
    drop(dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn run_postgres<F, Fut>(body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::create().await;
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("PgStore::connect failed: {e}")),
    );
    let h = Harness {
        store: store.clone(),
        target: Target::Postgres(db.url.clone()),
    };
    let outcome = tokio::spawn(body(h)).await;
    store.close().await;
    drop(db);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares each test body once and instantiates it for both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run_sqlite(super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run_postgres(super::$name).await
                }
            )*
        }
    };
}

conformance!(
    append_assigns_increasing_seqs,
    list_orders_and_pages_with_cursors,
    kind_filters,
    subject_filter,
    limits_are_clamped,
    values_round_trip_exactly,
    appends_are_atomic,
    concurrent_appends_keep_order,
    follow_yields_old_then_new_events,
    settings_crud,
    users,
    tokens,
    leases,
    close_finishes_and_rejects_later_calls,
    prune_removes_only_old_events,
    iac_state_write_read_history,
    iac_state_refuses_lineage_and_serial,
    iac_state_locks,
    iac_state_concurrent_locks_have_one_winner,
);

// ---------------------------------------------------------------- helpers

fn kind(k: &str) -> EventKind {
    EventKind::new(k).expect("valid kind")
}

fn ev(k: &str, subject: &str, data: Value) -> NewEvent {
    NewEvent::new(kind(k), subject, "system", data)
}

/// Every event, walking forward with the cursor.
async fn all_events(store: &dyn Store) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    loop {
        let page = store
            .list(&EventQuery {
                after: out.last().map(|e| e.seq),
                limit: MAX_PAGE,
                ..EventQuery::default()
            })
            .await
            .expect("list");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn seqs(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

fn assert_strictly_increasing(s: &[i64]) {
    for w in s.windows(2) {
        assert!(w[0] < w[1], "seqs not strictly increasing: {s:?}");
    }
}

async fn list_kind(store: &dyn Store, pattern: &str) -> Vec<String> {
    store
        .list(&EventQuery {
            kind: Some(pattern.to_string()),
            limit: MAX_PAGE,
            ..EventQuery::default()
        })
        .await
        .expect("list by kind")
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect()
}

// ---------------------------------------------------------------- event log

async fn append_assigns_increasing_seqs(h: Harness) {
    let s = &*h.store;
    assert_eq!(s.last_seq().await.unwrap(), 0);
    assert!(s.append(vec![]).await.unwrap().is_empty());
    let batch: Vec<NewEvent> = (0..5)
        .map(|i| ev("test.step", &format!("s{i}"), json!({ "i": i })))
        .collect();
    let out = s.append(batch.clone()).await.unwrap();
    assert_eq!(out.len(), 5);
    assert_strictly_increasing(&seqs(&out));
    for (given, got) in batch.iter().zip(&out) {
        assert_eq!(given.id, got.id, "events come back in the order given");
        assert_eq!(given.subject, got.subject);
    }
    let more = s
        .append(vec![ev("test.step", "later", json!(null))])
        .await
        .unwrap();
    assert!(more[0].seq > out[4].seq);
    assert_eq!(s.last_seq().await.unwrap(), more[0].seq);
    assert!(*h.store.watch_seq().borrow() >= more[0].seq);
    let all = all_events(s).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[..5], out[..]);
    assert_eq!(all[5], more[0]);
}

async fn list_orders_and_pages_with_cursors(h: Harness) {
    let s = &*h.store;
    let mut appended = Vec::new();
    for chunk in 0..5 {
        let batch = (0..5)
            .map(|i| ev("test.page", "p", json!({ "n": chunk * 5 + i })))
            .collect();
        appended.extend(s.append(batch).await.unwrap());
    }
    let ids: Vec<Id> = appended.iter().map(|e| e.id).collect();

    let asc = s.list(&EventQuery::default()).await.unwrap();
    assert_eq!(asc.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    let desc = s
        .list(&EventQuery {
            order: Order::Desc,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    let mut rev = ids.clone();
    rev.reverse();
    assert_eq!(desc.iter().map(|e| e.id).collect::<Vec<_>>(), rev);

    // Forward with `after`, 3 at a time.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list(&EventQuery {
                after,
                limit: 3,
                ..EventQuery::default()
            })
            .await
            .unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        seen.extend(page.iter().map(|e| e.id));
    }
    assert_eq!(seen, ids, "forward paging yields each event once, in order");

    // Backward with `before`, 4 at a time.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .list(&EventQuery {
                before,
                limit: 4,
                order: Order::Desc,
                ..EventQuery::default()
            })
            .await
            .unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        before = Some(last.seq);
        seen.extend(page.iter().map(|e| e.id));
    }
    assert_eq!(
        seen, rev,
        "backward paging yields each event once, newest first"
    );

    // A window between two cursors.
    let window = s
        .list(&EventQuery {
            after: Some(appended[4].seq),
            before: Some(appended[10].seq),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(seqs(&window), seqs(&appended[5..10]));
}

async fn kind_filters(h: Harness) {
    let s = &*h.store;
    let kinds = [
        "pipeline.run.started",
        "pipeline.run.finished",
        "pipeline.x",
        "pipelinex.y",
        "pipe.z",
        "pipe-line.a",
        "ab_c.x",
        "abxc.x",
        "alert.firing",
    ];
    s.append(kinds.iter().map(|k| ev(k, "k", json!({}))).collect())
        .await
        .unwrap();

    assert_eq!(list_kind(s, "pipeline.x").await, ["pipeline.x"]);
    assert_eq!(list_kind(s, "pipeline.run").await, Vec::<String>::new());
    assert_eq!(
        list_kind(s, "pipeline.*").await,
        [
            "pipeline.run.started",
            "pipeline.run.finished",
            "pipeline.x"
        ]
    );
    assert_eq!(
        list_kind(s, "pipeline.run.*").await,
        ["pipeline.run.started", "pipeline.run.finished"]
    );
    assert_eq!(list_kind(s, "pipe.*").await, ["pipe.z"]);
    assert_eq!(list_kind(s, "ab_c.*").await, ["ab_c.x"]);
    // `_` and `%` are not wildcards.
    assert_eq!(list_kind(s, "ab_c.x").await, ["ab_c.x"]);
    assert_eq!(list_kind(s, "a__c.*").await, Vec::<String>::new());
    assert_eq!(list_kind(s, "ab%.*").await, Vec::<String>::new());
    assert_eq!(list_kind(s, "%.*").await, Vec::<String>::new());
    assert_eq!(list_kind(s, "pipe%").await, Vec::<String>::new());
    assert_eq!(list_kind(s, "alert.*").await, ["alert.firing"]);
    assert_eq!(list_kind(s, "nothing.*").await, Vec::<String>::new());

    // Every prefix answer agrees with EventKind::matches.
    for pattern in ["pipeline.*", "pipe.*", "pipeline.run.*", "ab_c.*", "a.*"] {
        let expected: Vec<String> = kinds
            .iter()
            .filter(|k| kind(k).matches(pattern))
            .map(|k| k.to_string())
            .collect();
        assert_eq!(list_kind(s, pattern).await, expected, "{pattern}");
    }
}

async fn subject_filter(h: Harness) {
    let s = &*h.store;
    let mut batch = Vec::new();
    for i in 0..12 {
        let subject = if i % 3 == 0 {
            "workflow/ci.yml"
        } else {
            "workflow/other.yml"
        };
        batch.push(ev(
            if i % 2 == 0 {
                "pipeline.run.started"
            } else {
                "alert.firing"
            },
            subject,
            json!(i),
        ));
    }
    s.append(batch).await.unwrap();
    let ci = s
        .list(&EventQuery {
            subject: Some("workflow/ci.yml".into()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ci.iter().map(|e| e.data.clone()).collect::<Vec<_>>(),
        [json!(0), json!(3), json!(6), json!(9)]
    );
    let both = s
        .list(&EventQuery {
            subject: Some("workflow/ci.yml".into()),
            kind: Some("pipeline.*".into()),
            order: Order::Desc,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|e| e.data.clone()).collect::<Vec<_>>(),
        [json!(6), json!(0)]
    );
    let none = s
        .list(&EventQuery {
            subject: Some("workflow/".into()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty(), "subject matches exactly, not by prefix");
}

async fn limits_are_clamped(h: Harness) {
    let s = &*h.store;
    let batch: Vec<NewEvent> = (0..1005).map(|i| ev("test.limit", "l", json!(i))).collect();
    s.append(batch).await.unwrap();
    let page = |limit| {
        let q = EventQuery {
            limit,
            ..EventQuery::default()
        };
        async move { s.list(&q).await.unwrap().len() }
    };
    assert_eq!(page(0).await, 1);
    assert_eq!(page(1).await, 1);
    assert_eq!(page(7).await, 7);
    assert_eq!(page(1000).await, 1000);
    assert_eq!(page(5000).await, 1000);
    assert_eq!(page(u32::MAX).await, 1000);
    assert_eq!(all_events(s).await.len(), 1005);
}

async fn values_round_trip_exactly(h: Harness) {
    let s = &*h.store;
    let big = "x".repeat(100 * 1024);
    let data = json!({
        "nested": { "a": [1, 2, { "b": null, "c": [true, false] }], "d": { "e": { "f": "g" } } },
        "unicode": "héllo wörld ✓ 日本語 🚀 \"quoted\" \\ back\nslash\ttab",
        "numbers": [0, -1, 9007199254740991i64, 1.5, -2.25e-10],
        "empty": {},
        "list": [],
    });
    let time: Timestamp = "2026-03-04T05:06:07.123456Z".parse().unwrap();
    let with_time = NewEvent {
        time,
        ..ev("test.values", "subject/ünïcode ✓", data.clone())
    };
    let large = ev("test.values", "big", json!({ "blob": big }));
    let scalar = ev("test.values", "scalar", json!("just a string"));
    let given = vec![with_time.clone(), large.clone(), scalar.clone()];
    let out = s.append(given.clone()).await.unwrap();
    let read = all_events(s).await;
    assert_eq!(read, out);
    for (g, r) in given.iter().zip(&read) {
        assert_eq!(g.id, r.id);
        assert_eq!(g.time, r.time);
        assert_eq!(g.kind, r.kind);
        assert_eq!(g.subject, r.subject);
        assert_eq!(g.actor, r.actor);
        assert_eq!(g.data, r.data);
    }
    assert_eq!(read[0].time.to_string(), "2026-03-04T05:06:07.123456Z");
    assert_eq!(
        read[1].data["blob"].as_str().map(str::len),
        Some(100 * 1024)
    );

    // Ancient and far-future times survive too.
    let old = NewEvent {
        time: "1970-01-01T00:00:00.000001Z".parse().unwrap(),
        ..ev("test.values", "old", json!(1))
    };
    let future = NewEvent {
        time: "2999-12-31T23:59:59.999999Z".parse().unwrap(),
        ..ev("test.values", "future", json!(2))
    };
    s.append(vec![old.clone(), future.clone()]).await.unwrap();
    let read = s
        .list(&EventQuery {
            order: Order::Desc,
            limit: 2,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(read[1].time, old.time);
    assert_eq!(read[0].time, future.time);
}

async fn appends_are_atomic(h: Harness) {
    let s = h.store.clone();
    let first = s
        .append(vec![ev("test.atomic", "a", json!(1))])
        .await
        .unwrap();
    let before = s.last_seq().await.unwrap();

    // A duplicate of a stored id, in the middle of a batch.
    let dup = NewEvent {
        id: first[0].id,
        ..ev("test.atomic", "dup", json!(2))
    };
    let err = s
        .append(vec![
            ev("test.atomic", "b", json!(3)),
            dup,
            ev("test.atomic", "c", json!(4)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    // A duplicate within one append.
    let twice = ev("test.atomic", "twice", json!(5));
    let err = s
        .append(vec![twice.clone(), twice.clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        all_events(&*s).await.len(),
        1,
        "failed appends added nothing"
    );
    assert_eq!(s.last_seq().await.unwrap(), before);

    // Failing appends batched with good ones fail alone.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        let id = first[0].id;
        tasks.push(tokio::spawn(async move {
            let mut batch = vec![ev("test.atomic", "many", json!(i))];
            if i % 4 == 0 {
                batch.push(NewEvent {
                    id,
                    ..ev("test.atomic", "many-dup", json!(i))
                });
            }
            (i, s.append(batch).await)
        }));
    }
    let mut good = 0;
    for t in tasks {
        let (i, result) = t.await.unwrap();
        if i % 4 == 0 {
            assert!(
                matches!(result, Err(StoreError::Conflict(_))),
                "{i}: {result:?}"
            );
        } else {
            assert_eq!(result.unwrap().len(), 1);
            good += 1;
        }
    }
    let all = all_events(&*s).await;
    assert_eq!(all.len(), 1 + good);
    assert!(all.iter().all(|e| e.subject != "many-dup"));
    assert_eq!(
        all.iter().map(|e| e.id).collect::<HashSet<_>>().len(),
        all.len()
    );
}

async fn concurrent_appends_keep_order(h: Harness) {
    let tasks = 32;
    let per_task = 50;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let s = h.store.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..per_task {
                let out = s
                    .append(vec![ev("test.concurrent", &format!("task{t}"), json!(i))])
                    .await
                    .expect("append");
                got.push(out[0].seq);
            }
            got
        }));
    }
    let mut returned = HashSet::new();
    for handle in handles {
        let got = handle.await.unwrap();
        assert_strictly_increasing(&got);
        returned.extend(got);
    }
    assert_eq!(returned.len(), tasks * per_task, "every seq unique");
    let all = all_events(&*h.store).await;
    assert_eq!(all.len(), tasks * per_task);
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<HashSet<_>>(),
        returned,
        "the log holds exactly the returned seqs"
    );
    assert_strictly_increasing(&seqs(&all));
    let mut per_subject: HashMap<&str, Vec<i64>> = HashMap::new();
    for e in &all {
        per_subject
            .entry(e.subject.as_str())
            .or_default()
            .push(e.data.as_i64().expect("data is the index"));
    }
    assert_eq!(per_subject.len(), tasks);
    let expected: Vec<i64> = (0..per_task as i64).collect();
    for (subject, order) in per_subject {
        assert_eq!(order, expected, "{subject}'s events in its own order");
    }
}

async fn follow_yields_old_then_new_events(h: Harness) {
    let s = h.store.clone();
    let old = s
        .append(vec![
            ev("pipeline.run.started", "f", json!(1)),
            ev("alert.firing", "f", json!(2)),
            ev("pipeline.run.finished", "f", json!(3)),
        ])
        .await
        .unwrap();
    let mut all = follow(s.clone(), EventQuery::default()).boxed();
    let mut pipelines = follow(
        s.clone(),
        EventQuery {
            kind: Some("pipeline.*".into()),
            limit: 1,
            ..EventQuery::default()
        },
    )
    .boxed();
    for e in &old {
        assert_eq!(next(&mut all).await, *e);
    }
    assert_eq!(next(&mut pipelines).await, old[0]);
    assert_eq!(next(&mut pipelines).await, old[2]);

    // Appended after the followers caught up, from another task.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..5 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                out.extend(
                    s.append(vec![ev("pipeline.step", "f", json!(10 + i))])
                        .await
                        .unwrap(),
                );
            }
            out
        })
    };
    let mut live = Vec::new();
    for _ in 0..5 {
        live.push(next(&mut all).await);
    }
    let new = writer.await.unwrap();
    assert_eq!(live, new);
    for e in &new {
        assert_eq!(next(&mut pipelines).await, *e);
    }

    // A follower starting from a cursor sees only what comes after it.
    let mut from = follow(
        s.clone(),
        EventQuery {
            after: Some(old[2].seq),
            ..EventQuery::default()
        },
    )
    .boxed();
    assert_eq!(next(&mut from).await, new[0]);
}

async fn next(stream: &mut BoxStream<'static, gantry_store::Result<Event>>) -> Event {
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("follow timed out")
        .expect("follow ended")
        .expect("follow failed")
}

// ---------------------------------------------------------------- settings

async fn settings_crud(h: Harness) {
    let s = &*h.store;
    assert_eq!(s.get_setting("missing").await.unwrap(), None);
    assert!(s.list_settings().await.unwrap().is_empty());
    s.set_setting("b.key", &json!({ "n": 1, "list": [1, "two"] }))
        .await
        .unwrap();
    s.set_setting("a.key", &json!("ünïcode ✓")).await.unwrap();
    s.set_setting("C.key", &json!(3.5)).await.unwrap();
    assert_eq!(
        s.get_setting("b.key").await.unwrap(),
        Some(json!({ "n": 1, "list": [1, "two"] }))
    );
    s.set_setting("b.key", &json!(false)).await.unwrap();
    assert_eq!(s.get_setting("b.key").await.unwrap(), Some(json!(false)));
    assert_eq!(
        s.list_settings().await.unwrap(),
        vec![
            ("C.key".to_string(), json!(3.5)),
            ("a.key".to_string(), json!("ünïcode ✓")),
            ("b.key".to_string(), json!(false)),
        ],
        "ordered by key, bytewise"
    );
    assert!(s.delete_setting("a.key").await.unwrap());
    assert!(!s.delete_setting("a.key").await.unwrap());
    assert_eq!(s.get_setting("a.key").await.unwrap(), None);
    assert_eq!(s.list_settings().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------- access

async fn users(h: Harness) {
    let s = &*h.store;
    let alice = s.create_user("alice", Role::Admin).await.unwrap();
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.role, Role::Admin);
    let bob = s.create_user("bob", Role::Viewer).await.unwrap();
    let err = s.create_user("alice", Role::Viewer).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(s.get_user("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(s.get_user("carol").await.unwrap(), None);

    let promoted = s.set_user_role("bob", Role::Operator).await.unwrap();
    assert_eq!(promoted.role, Role::Operator);
    assert_eq!(promoted.id, bob.id);
    assert_eq!(promoted.created_at, bob.created_at);
    assert_eq!(s.get_user("bob").await.unwrap(), Some(promoted.clone()));
    let err = s.set_user_role("carol", Role::Admin).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(s.list_users().await.unwrap(), vec![alice, promoted]);
}

fn hash(n: u8) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[0] = n;
    h[31] = 0xff - n;
    h
}

async fn tokens(h: Harness) {
    let s = &*h.store;
    let owner = s.create_user("owner", Role::Operator).await.unwrap();
    let a = s
        .create_token(NewToken {
            name: "ci".into(),
            role: Role::Operator,
            user_id: Some(owner.id),
            hash: hash(1),
        })
        .await
        .unwrap();
    assert_eq!(a.user_id, Some(owner.id));
    assert!(a.is_active());
    assert_eq!(a.last_used_at, None);
    let b = s
        .create_token(NewToken {
            name: "deploy".into(),
            role: Role::Viewer,
            user_id: None,
            hash: hash(2),
        })
        .await
        .unwrap();
    let err = s
        .create_token(NewToken {
            name: "copy".into(),
            role: Role::Admin,
            user_id: None,
            hash: hash(1),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(s.token_by_hash(&hash(1)).await.unwrap(), Some(a.clone()));
    assert_eq!(s.token_by_hash(&hash(2)).await.unwrap(), Some(b.clone()));
    assert_eq!(s.token_by_hash(&hash(3)).await.unwrap(), None);
    assert_eq!(s.get_token(b.id).await.unwrap(), Some(b.clone()));
    assert_eq!(s.get_token(Id::new()).await.unwrap(), None);
    assert_eq!(s.list_tokens().await.unwrap(), vec![a.clone(), b.clone()]);

    let used: Timestamp = "2026-05-06T07:08:09.101112Z".parse().unwrap();
    s.touch_token(a.id, used).await.unwrap();
    let touched = s.get_token(a.id).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, Some(used));

    assert!(s.revoke_token(a.id).await.unwrap());
    assert!(!s.revoke_token(a.id).await.unwrap());
    assert!(!s.revoke_token(Id::new()).await.unwrap());
    let revoked = s.token_by_hash(&hash(1)).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(!revoked.is_active());
    assert_eq!(revoked.last_used_at, Some(used));
    let listed = s.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 2, "revoked tokens are still listed");
    assert_eq!(listed[0].id, a.id);
    assert!(listed[0].revoked_at.is_some());
    assert!(listed[1].is_active());
}

// ---------------------------------------------------------------- leases

async fn leases(h: Harness) {
    let s = &*h.store;
    let long = Duration::from_secs(60);
    assert_eq!(s.get_lease("leader").await.unwrap(), None);

    let a = s
        .try_acquire_lease("leader", "a", long)
        .await
        .unwrap()
        .expect("free lease is taken");
    assert_eq!(a.holder, "a");
    assert_eq!(a.name, "leader");
    assert!(a.expires_at > Timestamp::now());
    assert_eq!(s.get_lease("leader").await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.try_acquire_lease("leader", "b", long).await.unwrap(),
        None
    );

    let renewed = s
        .try_acquire_lease("leader", "a", long)
        .await
        .unwrap()
        .expect("holder renews");
    assert_eq!(renewed.token, a.token, "renewal keeps the fencing token");
    assert!(renewed.expires_at >= a.expires_at);

    // Other leases are independent.
    assert!(
        s.try_acquire_lease("job/1", "b", long)
            .await
            .unwrap()
            .is_some()
    );

    // Expiry.
    let short = s
        .try_acquire_lease("short", "a", Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.try_acquire_lease("short", "b", long).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.get_lease("short").await.unwrap(), None, "expired");
    assert!(
        !s.release_lease("short", "a").await.unwrap(),
        "an expired lease is not held"
    );
    let b = s
        .try_acquire_lease("short", "b", long)
        .await
        .unwrap()
        .expect("expired lease is taken over");
    assert_eq!(b.holder, "b");
    assert!(b.token > short.token, "{} > {}", b.token, short.token);

    // Release only by the holder.
    assert!(!s.release_lease("short", "a").await.unwrap());
    assert!(s.get_lease("short").await.unwrap().is_some());
    assert!(s.release_lease("short", "b").await.unwrap());
    assert!(!s.release_lease("short", "b").await.unwrap());
    assert_eq!(s.get_lease("short").await.unwrap(), None, "released");
    let c = s
        .try_acquire_lease("short", "c", long)
        .await
        .unwrap()
        .expect("released lease is free");
    assert!(c.token > b.token);
    let b_again = s.try_acquire_lease("short", "b", long).await.unwrap();
    assert_eq!(b_again, None);
    assert!(!s.release_lease("missing", "a").await.unwrap());

    let err = s
        .try_acquire_lease("zero", "a", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
}

// ---------------------------------------------------------------- close

async fn close_finishes_and_rejects_later_calls(h: Harness) {
    let s = h.store.clone();
    // Writes queued when close starts still commit.
    let mut pending = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        pending.push(tokio::spawn(async move {
            s.append(vec![ev("test.close", "c", json!(i))]).await
        }));
    }
    let mut ok = Vec::new();
    let mut follower = follow(s.clone(), EventQuery::default()).boxed();
    tokio::time::sleep(Duration::from_millis(5)).await;
    s.close().await;
    for p in pending {
        match p.await.unwrap() {
            Ok(evs) => ok.extend(evs),
            Err(StoreError::Closed) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    let err = s
        .append(vec![ev("test.close", "late", json!(null))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Closed), "{err:?}");
    assert!(matches!(
        s.list(&EventQuery::default()).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        s.set_setting("k", &json!(1)).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(s.ping().await, Err(StoreError::Closed)));
    s.close().await; // twice is fine

    // A follower ends once the store is closed (possibly after an error).
    let ended = tokio::time::timeout(PATIENCE, async {
        while let Some(item) = follower.next().await {
            if let Err(e) = item {
                assert!(matches!(e, StoreError::Closed), "{e:?}");
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "follow kept waiting after close");

    let reopened = h.open_again().await;
    let all = all_events(&*reopened).await;
    let mut committed = seqs(&ok);
    committed.sort();
    assert_eq!(
        seqs(&all),
        committed,
        "every acknowledged append is there after reopening"
    );
    assert_eq!(
        reopened.backend(),
        if h.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    reopened.ping().await.unwrap();
    reopened.close().await;
}

// ---------------------------------------------------------------- sqlite only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reopens_intact_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("gantry.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let mut appended = Vec::new();
    for i in 0..10 {
        appended.extend(
            store
                .append(vec![ev("test.reopen", "r", json!(i))])
                .await
                .unwrap(),
        );
    }
    store.set_setting("k", &json!({ "v": 1 })).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    store.close().await;
    assert!(matches!(
        store.integrity_check().await,
        Err(StoreError::Closed)
    ));
    let wal = path.with_file_name("gantry.db-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() == 0)
            .unwrap_or(true),
        "close checkpoints the WAL"
    );

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    assert_eq!(all_events(&store).await, appended);
    assert_eq!(
        store.get_setting("k").await.unwrap(),
        Some(json!({ "v": 1 }))
    );
    assert_eq!(*store.watch_seq().borrow(), appended[9].seq);
    let next = store
        .append(vec![ev("test.reopen", "r", json!(10))])
        .await
        .unwrap();
    assert!(next[0].seq > appended[9].seq);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_group_commits_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("g.db")).await.unwrap());
    let before = store.commit_count();
    let mut handles = Vec::new();
    for t in 0..64 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..20 {
                s.append(vec![ev("test.group", &format!("t{t}"), json!(i))])
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let appends = 64 * 20;
    let commits = store.commit_count() - before;
    assert_eq!(all_events(&*store).await.len(), appends);
    assert!(
        commits * 4 <= appends as u64,
        "{commits} commits for {appends} appends: writes are not grouped"
    );
    store.close().await;
}

// ---------------------------------------------------------------- postgres only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_see_each_others_events() {
    run_postgres(|h: Harness| async move {
        let a = h.store.clone();
        let b = h.open_again().await;
        let mut on_b = follow(b.clone(), EventQuery::default()).boxed();
        let appended = a
            .append(vec![ev("test.replica", "a", json!(1))])
            .await
            .unwrap();
        let seen = tokio::time::timeout(PATIENCE, on_b.next())
            .await
            .expect("replica B saw the event in time")
            .expect("stream open")
            .expect("no error");
        assert_eq!(seen, appended[0]);
        // B's watch moves on A's commit (via NOTIFY).
        let more = a
            .append(vec![ev("test.replica", "a", json!(2))])
            .await
            .unwrap();
        let mut watch = b.watch_seq();
        tokio::time::timeout(PATIENCE, watch.wait_for(|s| *s >= more[0].seq))
            .await
            .expect("watch on B moved")
            .expect("watch open");
        b.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_share_one_order_and_followers_miss_nothing() {
    run_postgres(|h: Harness| async move {
        let a = h.store.clone();
        let b = h.open_again().await;
        let writers_per_replica = 8;
        let per_writer: usize = 40;
        // Every fifth append carries three events.
        let per_writer_events = per_writer + 2 * per_writer.div_ceil(5);
        let total = 2 * writers_per_replica * per_writer_events;

        // Follow on B while both replicas append.
        let follower = {
            let b = b.clone();
            tokio::spawn(async move {
                let mut stream = follow(b, EventQuery::default()).boxed();
                let mut got = Vec::new();
                while got.len() < total {
                    got.push(next(&mut stream).await.seq);
                }
                got
            })
        };
        let mut handles = Vec::new();
        for (r, store) in [a.clone(), b.clone()].into_iter().enumerate() {
            for w in 0..writers_per_replica {
                let store = store.clone();
                handles.push(tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for i in 0..per_writer {
                        let n = if i % 5 == 0 { 3 } else { 1 };
                        let batch = (0..n)
                            .map(|k| ev("test.replicas", &format!("r{r}w{w}"), json!([i, k])))
                            .collect();
                        let out = store.append(batch).await.expect("append");
                        assert_strictly_increasing(&seqs(&out));
                        mine.extend(out.iter().map(|e| e.seq));
                    }
                    mine
                }));
            }
        }
        let mut written = Vec::new();
        for h in handles {
            let mine = h.await.unwrap();
            assert_strictly_increasing(&mine);
            written.extend(mine);
        }
        assert_eq!(written.len(), total);
        written.sort();
        written.dedup();
        assert_eq!(written.len(), total, "seqs unique across replicas");

        let all = all_events(&*a).await;
        assert_eq!(seqs(&all), written);
        let got = follower.await.unwrap();
        assert_eq!(
            got, written,
            "the follower on B saw every event once, in order"
        );
        assert!(a.last_seq().await.unwrap() == b.last_seq().await.unwrap());
        b.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_watch_recovers_after_connections_are_killed() {
    run_postgres(|h: Harness| async move {
        let a = h.store.clone();
        let b = h.open_again().await;
        let mut on_b = follow(b.clone(), EventQuery::default()).boxed();
        let first = a
            .append(vec![ev("test.reconnect", "r", json!(1))])
            .await
            .unwrap();
        assert_eq!(next(&mut on_b).await, first[0]);

        // Kill every connection to the test database (B's listener too).
        let Target::Postgres(url) = &h.target else {
            unreachable!("postgres harness")
        };
        let mut killer = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut killer)
        .await
        .unwrap();
        assert!(!killed.is_empty());

        // Appends work again once the pool notices, and B's follower sees
        // them: the listener reconnected and caught up.
        let mut second = None;
        for _ in 0..50 {
            match a.append(vec![ev("test.reconnect", "r", json!(2))]).await {
                Ok(out) => {
                    second = Some(out);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let second = second.expect("appends recover after connections are killed");
        // B learns of it only through its listener.
        let mut watch = b.watch_seq();
        tokio::time::timeout(PATIENCE, watch.wait_for(|s| *s >= second[0].seq))
            .await
            .expect("B's listener reconnected and caught up")
            .expect("watch open");
        assert_eq!(next(&mut on_b).await, second[0]);
        b.close().await;
    })
    .await;
}

async fn prune_removes_only_old_events(h: Harness) {
    let store = h.store.clone();
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let aged = |subject: &str, time: &str| NewEvent {
        time: at(time),
        ..ev("test.prune", subject, json!({}))
    };
    // Nothing to prune in an empty log.
    assert_eq!(
        store
            .prune_events(at("2030-01-01T00:00:00Z"), 100)
            .await
            .unwrap(),
        0
    );
    store
        .append(vec![
            aged("old1", "2020-01-01T00:00:00Z"),
            aged("old2", "2020-01-02T00:00:00Z"),
            aged("old3", "2020-01-03T00:00:00Z"),
            aged("new1", "2024-01-01T00:00:00Z"),
            // Out of order: older than the cutoff but after a newer event,
            // so it stays (retention walks seq order).
            aged("late", "2019-01-01T00:00:00Z"),
            aged("new2", "2024-01-02T00:00:00Z"),
        ])
        .await
        .unwrap();
    let cutoff = at("2023-01-01T00:00:00Z");
    assert_eq!(
        store.prune_events(cutoff, 2).await.unwrap(),
        2,
        "bounded by max_rows"
    );
    assert_eq!(store.prune_events(cutoff, 2).await.unwrap(), 1);
    assert_eq!(store.prune_events(cutoff, 2).await.unwrap(), 0);
    let left: Vec<String> = all_events(&*store)
        .await
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert_eq!(left, ["new1", "late", "new2"]);

    // Everything is old: all but the newest go, and seq keeps counting.
    let last = store.last_seq().await.unwrap();
    assert_eq!(
        store
            .prune_events(at("2030-01-01T00:00:00Z"), 100)
            .await
            .unwrap(),
        2
    );
    let left = all_events(&*store).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].seq, last);
    let next = store
        .append(vec![ev("test.prune", "after", json!({}))])
        .await
        .unwrap();
    assert!(next[0].seq > last);
}

// ---------------------------------------------------------------- iac states

async fn iac_state_write_read_history(h: Harness) {
    let store = h.store.clone();
    assert!(store.list_workspaces("web").await.unwrap().is_empty());
    assert!(store.read_state("web", "default").await.unwrap().is_none());

    store
        .write_state("web", "default", 1, "lin-a", b"{\"serial\":1}")
        .await
        .unwrap();
    store
        .write_state("web", "default", 2, "lin-a", b"{\"serial\":2}")
        .await
        .unwrap();
    // An equal serial is accepted (a rewrite without changes).
    store
        .write_state("web", "default", 2, "lin-a", b"{\"serial\":2,\"x\":1}")
        .await
        .unwrap();
    store
        .write_state("web", "staging", 7, "lin-b", b"staging")
        .await
        .unwrap();
    // Another stack with the same workspace name is separate.
    store
        .write_state("db", "default", 1, "lin-c", b"db")
        .await
        .unwrap();

    let cur = store.read_state("web", "default").await.unwrap().unwrap();
    assert_eq!(cur.serial, 2);
    assert_eq!(cur.lineage, "lin-a");
    assert_eq!(cur.body, b"{\"serial\":2,\"x\":1}");
    assert_eq!(
        store.list_workspaces("web").await.unwrap(),
        ["default", "staging"]
    );
    assert_eq!(store.list_workspaces("db").await.unwrap(), ["default"]);

    let hist = store.state_history("web", "default", 10).await.unwrap();
    let serials: Vec<i64> = hist.iter().map(|v| v.serial).collect();
    assert_eq!(serials, [2, 2, 1], "newest first");
    assert_eq!(hist[2].body, b"{\"serial\":1}");
    assert!(hist[0].created_at >= hist[2].created_at);
    assert_eq!(
        store
            .state_history("web", "default", 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // Seen from another handle (a reopen, or another replica).
    let other = h.open_again().await;
    assert_eq!(
        other
            .read_state("web", "staging")
            .await
            .unwrap()
            .unwrap()
            .body,
        b"staging"
    );
    other.close().await;

    store
        .lock_state("web", "staging", "L1", "{}")
        .await
        .unwrap();
    assert!(store.delete_workspace("web", "staging").await.unwrap());
    assert!(!store.delete_workspace("web", "staging").await.unwrap());
    assert!(store.read_state("web", "staging").await.unwrap().is_none());
    assert!(
        store
            .state_history("web", "staging", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Its lock went with it.
    assert_eq!(
        store
            .lock_state("web", "staging", "L2", "{}")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.list_workspaces("web").await.unwrap(), ["default"]);
}

async fn iac_state_refuses_lineage_and_serial(h: Harness) {
    let store = h.store.clone();
    store
        .write_state("s", "default", 5, "lin-a", b"five")
        .await
        .unwrap();
    match store
        .write_state("s", "default", 6, "lin-b", b"other")
        .await
    {
        Err(StoreError::LineageMismatch { stored, given }) => {
            assert_eq!(stored, "lin-a");
            assert_eq!(given, "lin-b");
        }
        other => panic!("expected a lineage mismatch, got {other:?}"),
    }
    match store.write_state("s", "default", 4, "lin-a", b"four").await {
        Err(StoreError::SerialRegression { stored, given }) => {
            assert_eq!((stored, given), (5, 4));
        }
        other => panic!("expected a serial regression, got {other:?}"),
    }
    // Nothing of the refused writes was kept.
    let cur = store.read_state("s", "default").await.unwrap().unwrap();
    assert_eq!((cur.serial, cur.body.as_slice()), (5, &b"five"[..]));
    assert_eq!(
        store.state_history("s", "default", 10).await.unwrap().len(),
        1
    );
    // After deleting the workspace, any lineage starts fresh.
    store.delete_workspace("s", "default").await.unwrap();
    store
        .write_state("s", "default", 0, "lin-b", b"new")
        .await
        .unwrap();
}

async fn iac_state_locks(h: Harness) {
    let store = h.store.clone();
    assert_eq!(
        store
            .lock_state("s", "default", "L1", r#"{"ID":"L1"}"#)
            .await
            .unwrap(),
        None
    );
    // The same id again: still held by it.
    assert_eq!(
        store
            .lock_state("s", "default", "L1", r#"{"ID":"L1"}"#)
            .await
            .unwrap(),
        None
    );
    // Another id sees the holder's info, also from another handle.
    assert_eq!(
        store
            .lock_state("s", "default", "L2", "{}")
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"ID":"L1"}"#)
    );
    let other = h.open_again().await;
    assert_eq!(
        other
            .lock_state("s", "default", "L3", "{}")
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"ID":"L1"}"#)
    );
    // Other workspaces are independent.
    assert_eq!(
        other.lock_state("s", "dev", "L3", "{}").await.unwrap(),
        None
    );
    other.close().await;

    match store.unlock_state("s", "default", "L2", false).await {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("L1"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    store
        .unlock_state("s", "default", "L1", false)
        .await
        .unwrap();
    assert!(matches!(
        store.unlock_state("s", "default", "L1", false).await,
        Err(StoreError::NotFound(_))
    ));
    // Force releases whatever holds it.
    store.lock_state("s", "default", "L4", "{}").await.unwrap();
    store
        .unlock_state("s", "default", "anything", true)
        .await
        .unwrap();
    assert_eq!(
        store.lock_state("s", "default", "L5", "{}").await.unwrap(),
        None
    );
    assert!(matches!(
        store.unlock_state("s", "nope", "x", true).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn iac_state_concurrent_locks_have_one_winner(h: Harness) {
    let store = h.store.clone();
    let other = h.open_again().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let id = format!("L{i}");
            s.lock_state("race", "default", &id, &id)
                .await
                .unwrap()
                .is_none()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if tokio::time::timeout(PATIENCE, t).await.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    other.close().await;
}
