//! The HTTP API against a real server on loopback with a real SQLite store.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gantry_core::Role;
use gantry_server::{Access, ServerOptions, auth::issue_token, routes};
use gantry_store::testing::TestDatabase;
use gantry_store::{PgStore, SqliteStore, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A store of the given kind, with whatever keeps it alive.
async fn open_store(
    backend: Backend,
    dir: &std::path::Path,
) -> (Arc<dyn Store>, Option<TestDatabase>) {
    match backend {
        Backend::Sqlite => (
            Arc::new(SqliteStore::open(&dir.join("gantry.db")).await.unwrap()),
            None,
        ),
        Backend::Postgres => {
            let db = TestDatabase::create().await;
            (Arc::new(PgStore::connect(&db.url).await.unwrap()), Some(db))
        }
    }
}

struct TestServer {
    base: String,
    store: Arc<dyn Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

impl TestServer {
    async fn start(backend: Backend, body_limit: usize) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (store, db) = open_store(backend, dir.path()).await;
        let listener = gantry_server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let opts = ServerOptions {
            listen: listener.local_addr().unwrap(),
            data_dir: dir.path().to_path_buf(),
            body_limit,
            retention: None,
            site_name: Some("Test site <b>".into()),
            site_description: Some("About this site".into()),
            monitoring: Some(gantry_server::prom::MonitoringOptions {
                self_scrape: false,
                ..Default::default()
            }),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = store.clone();
        let task = tokio::spawn(async move {
            gantry_server::serve(s, listener, &opts, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            store,
            stop: Some(tx),
            task: Some(task),
            http: reqwest::Client::new(),
            _dir: dir,
            _db: db,
        }
    }

    async fn token(&self, role: Role) -> String {
        issue_token(&*self.store, &format!("test-{role}"), role)
            .await
            .unwrap()
            .0
    }

    fn req(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task.take().unwrap())
            .await
            .expect("server shut down within 10s")
            .unwrap();
    }
}

async fn error_of(resp: reqwest::Response) -> (StatusCode, String, String) {
    let status = resp.status();
    let v: Value = resp.json().await.expect("error bodies are JSON");
    let code = v["error"]["code"].as_str().expect("error.code").to_string();
    let msg = v["error"]["message"]
        .as_str()
        .expect("error.message")
        .to_string();
    (status, code, msg)
}

async fn every_route_enforces_its_declared_role(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let mut tokens = vec![(None, None)];
    for role in Role::ALL {
        tokens.push((Some(role), Some(srv.token(role).await)));
    }
    let table = routes();
    assert!(table.len() >= 15, "route table shrank: {}", table.len());
    for r in &table {
        let path = r.path.replace("{id}", &gantry_core::Id::new().to_string());
        for (role, token) in &tokens {
            let mut req = srv.req(r.method.clone(), &path, token.as_deref());
            if r.method == Method::POST {
                req = req.json(&json!({}));
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            drop(resp);
            let what = format!("{} {} as {:?}", r.method, r.path, role);
            match (r.access, role) {
                (Access::Public, _) => {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{what}: {status}"
                    )
                }
                (Access::AtLeast(_), None) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}")
                }
                (Access::AtLeast(min), Some(have)) if have < &min => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}")
                }
                (Access::AtLeast(_), Some(_)) => {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{what}: {status}"
                    )
                }
            }
        }
    }
    srv.shutdown().await;
}

async fn bad_credentials_are_401_and_revocation_is_immediate(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let (status, code, _) = error_of(
        srv.req(Method::GET, "/api/v1/events", Some("gantry_00"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let resp = srv
        .req(Method::GET, "/api/v1/events", None)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"gantry\""
    );
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let admin = srv.token(Role::Admin).await;
    let created: Value = srv
        .req(Method::POST, "/api/v1/tokens", Some(&admin))
        .json(&json!({"name": "ci", "role": "operator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["role"], "operator");
    let who: Value = srv
        .req(Method::GET, "/api/v1/whoami", Some(&secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["name"], "ci");
    assert_eq!(who["role"], "operator");

    // The list never shows secrets or hashes.
    let list = srv
        .req(Method::GET, "/api/v1/tokens", Some(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&secret[7..]), "token list leaks the secret");
    assert!(list.contains(&id));

    let resp = srv
        .req(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _, _) = error_of(
        srv.req(Method::GET, "/api/v1/whoami", Some(&secret))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, code, _) = error_of(
        srv.req(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    // Access changes are in the event log, with the admin as actor.
    let events: Value = srv
        .req(Method::GET, "/api/v1/events?kind=access.*", Some(&admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["access.token.created", "access.token.revoked"]);
    assert_eq!(events["events"][0]["actor"], "token:test-admin");
    srv.shutdown().await;
}

async fn errors_have_a_stable_shape(backend: Backend) {
    let srv = TestServer::start(backend, 4096).await;
    let op = srv.token(Role::Operator).await;

    let (status, code, _) =
        error_of(srv.req(Method::GET, "/nope", None).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let (status, code, _) = error_of(
        srv.req(Method::PUT, "/api/v1/events", Some(&op))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );

    let big = json!({"kind": "test.big", "subject": "s", "data": {"blob": "x".repeat(10_000)}});
    let (status, code, _) = error_of(
        srv.req(Method::POST, "/api/v1/events", Some(&op))
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );

    let resp = srv
        .req(Method::POST, "/api/v1/events", Some(&op))
        .header("content-type", "application/json")
        .body("{\n  \"kind\": \"test.x\",\n  \"subject\": oops\n}")
        .send()
        .await
        .unwrap();
    let (status, code, msg) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(msg.starts_with("invalid JSON at line 3 column 14"), "{msg}");

    let resp = srv
        .req(Method::POST, "/api/v1/events", Some(&op))
        .header("content-type", "application/json")
        .body("{\"kind\": \"test.x\",\n \"subject\": 5}")
        .send()
        .await
        .unwrap();
    let (_, _, msg) = error_of(resp).await;
    assert!(
        msg.contains("line 2") && msg.contains("expected a string"),
        "{msg}"
    );

    for (body, needle) in [
        (
            json!({"kind": "Bad.Kind", "subject": "s"}),
            "invalid segment",
        ),
        (
            json!({"kind": "deploy", "subject": "s"}),
            "at least two dot-separated segments",
        ),
        (
            json!({"kind": "a.b", "subject": ""}),
            "subject: must not be empty",
        ),
        (
            json!({"kind": "a.b", "subject": "s", "extra": 1}),
            "unknown field `extra`",
        ),
        (json!({"events": []}), "expected 1 to 1000 events"),
        (
            json!({"events": [{"kind": "a.b", "subject": "s"}, {"kind": "a.b", "subject": ""}]}),
            "events[1].subject",
        ),
    ] {
        let (status, _, msg) = error_of(
            srv.req(Method::POST, "/api/v1/events", Some(&op))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(msg.contains(needle), "{body}: {msg}");
    }

    let resp = srv
        .req(Method::POST, "/api/v1/events", Some(&op))
        .body("kind=a.b")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );

    for q in [
        "limit=0",
        "limit=abc",
        "kind=NOPE",
        "order=sideways",
        "colour=red",
    ] {
        let (status, _, _) = error_of(
            srv.req(Method::GET, &format!("/api/v1/events?{q}"), Some(&op))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
    }
    // Nothing from the rejected requests reached the log.
    assert_eq!(
        srv.store
            .list(&Default::default())
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind.matches("test.*"))
            .count(),
        0
    );
    srv.shutdown().await;
}

async fn events_append_list_and_paginate(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let op = srv.token(Role::Operator).await;
    let viewer = srv.token(Role::Viewer).await;
    let one: Value = srv
        .req(Method::POST, "/api/v1/events", Some(&op))
        .json(&json!({"kind": "deploy.finished", "subject": "service/api", "data": {"version": "1.2.3", "ok": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["actor"], "token:test-operator");
    assert_eq!(one["data"]["version"], "1.2.3");
    let batch: Value = srv
        .req(Method::POST, "/api/v1/events", Some(&op))
        .json(&json!({"events": (0..25).map(|i| json!({"kind": "test.batch", "subject": format!("item/{i}")})).collect::<Vec<_>>()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = batch["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 25);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // Walk the batch in pages of 10 by cursor.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page: Value = srv
            .req(
                Method::GET,
                &format!("/api/v1/events?kind=test.batch&limit=10&after={after}"),
                Some(&viewer),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            assert!(page["next_cursor"].is_null());
            break;
        }
        seen.extend(
            events
                .iter()
                .map(|e| e["subject"].as_str().unwrap().to_string()),
        );
        after = page["next_cursor"].as_i64().unwrap();
    }
    assert_eq!(
        seen,
        (0..25).map(|i| format!("item/{i}")).collect::<Vec<_>>()
    );

    let by_subject: Value = srv
        .req(
            Method::GET,
            "/api/v1/events?subject=service/api",
            Some(&viewer),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_subject["events"].as_array().unwrap().len(), 1);
    let newest: Value = srv
        .req(
            Method::GET,
            "/api/v1/events?order=desc&limit=1",
            Some(&viewer),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(newest["events"][0]["subject"], "item/24");
    srv.shutdown().await;
}

/// Reads SSE frames until `n` events arrived; returns (id, data) pairs.
async fn read_sse(resp: reqwest::Response, n: usize) -> Vec<(i64, Value)> {
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("SSE event within 10s")
            .expect("stream open")
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().parse().unwrap());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = Some(serde_json::from_str(v.trim()).unwrap());
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                out.push((id, data));
            }
        }
    }
    out
}

async fn sse_streams_live_and_resumes_with_last_event_id(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let op = srv.token(Role::Operator).await;
    let post = |i: usize| {
        srv.req(Method::POST, "/api/v1/events", Some(&op))
            .json(&json!({"kind": "test.sse", "subject": format!("n/{i}")}))
            .send()
    };
    let live = srv
        .req(
            Method::GET,
            "/api/v1/events/stream?kind=test.sse",
            Some(&op),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    for i in 0..3 {
        assert_eq!(post(i).await.unwrap().status(), StatusCode::CREATED);
    }
    let got = read_sse(live, 3).await;
    let subjects: Vec<&str> = got
        .iter()
        .map(|(_, d)| d["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["n/0", "n/1", "n/2"]);
    assert!(got.iter().all(|(id, d)| d["seq"].as_i64() == Some(*id)));

    // A client that saw the first event reconnects with Last-Event-ID and
    // gets exactly the rest, then new ones.
    for i in 3..5 {
        post(i).await.unwrap();
    }
    let resumed = srv
        .req(
            Method::GET,
            "/api/v1/events/stream?kind=test.sse",
            Some(&op),
        )
        .header("Last-Event-ID", got[0].0.to_string())
        .send()
        .await
        .unwrap();
    let got = read_sse(resumed, 4).await;
    let subjects: Vec<&str> = got
        .iter()
        .map(|(_, d)| d["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["n/1", "n/2", "n/3", "n/4"]);

    let bad = srv
        .req(Method::GET, "/api/v1/events/stream", Some(&op))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // An open stream does not hold up shutdown.
    let _open = srv
        .req(Method::GET, "/api/v1/events/stream", Some(&op))
        .send()
        .await
        .unwrap();
    srv.shutdown().await;
}

async fn health_ready_and_metrics(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let op = srv.token(Role::Operator).await;
    let h: Value = srv
        .req(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let r: Value = srv
        .req(Method::GET, "/readyz", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["store"], srv.store.backend());
    assert_eq!(r["store"], format!("{backend:?}").to_lowercase());
    for _ in 0..3 {
        srv.req(Method::POST, "/api/v1/events", Some(&op))
            .json(&json!({"kind": "test.m", "subject": "s"}))
            .send()
            .await
            .unwrap();
    }
    let text = srv
        .req(Method::GET, "/metrics", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("gantry_events_appended_total 3"), "{text}");
    assert!(
        text.contains(
            r#"gantry_http_requests_total{method="POST",route="/api/v1/events",status="201"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains("gantry_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
    srv.shutdown().await;
}

async fn dashboard_signs_in_with_a_cookie_that_only_reads(backend: Backend) {
    let srv = TestServer::start(backend, 1 << 20).await;
    let admin = srv.token(Role::Admin).await;
    srv.req(Method::POST, "/api/v1/events", Some(&admin))
        .json(&json!({"kind": "test.html", "subject": "<script>alert(1)</script>"}))
        .send()
        .await
        .unwrap();
    let login = srv.http.get(format!("{}/", srv.base)).send().await.unwrap();
    assert!(
        login.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(login.text().await.unwrap().contains("name=\"token\""));

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bad = no_redirect
        .post(format!("{}/login", srv.base))
        .form(&[("token", "gantry_wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let ok = no_redirect
        .post(format!("{}/login", srv.base))
        .form(&[("token", admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();

    let page = srv
        .http
        .get(format!("{}/", srv.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("test.html"), "dashboard lists events");
    assert!(
        page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
        "subject is escaped"
    );
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(
        page.contains("Test site &#60;b&#62;") || page.contains("Test site &lt;b&gt;"),
        "site name shown, escaped"
    );
    // The cookie works for reads but never for writes.
    let read = srv
        .http
        .get(format!("{}/api/v1/events", srv.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let write = srv
        .http
        .post(format!("{}/api/v1/events", srv.base))
        .header("cookie", &pair)
        .json(&json!({"kind": "test.csrf", "subject": "s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::UNAUTHORIZED);
    srv.shutdown().await;
}

async fn bootstrap_creates_one_private_admin_token(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open_store(backend, dir.path()).await;
    let path = gantry_server::bootstrap_admin_token(&*store, dir.path())
        .await
        .unwrap()
        .expect("created");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let secret = std::fs::read_to_string(&path).unwrap().trim().to_string();
    let t = store
        .token_by_hash(&gantry_server::auth::hash_token(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.role, Role::Admin);
    // A second start finds an active token and creates none.
    assert!(
        gantry_server::bootstrap_admin_token(&*store, dir.path())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.list_tokens().await.unwrap().len(), 1);
    store.close().await;
}

async fn retention_prunes_old_events_and_says_so(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _db) = open_store(backend, dir.path()).await;
    let kind = gantry_core::EventKind::new("test.retention").unwrap();
    let old = gantry_core::NewEvent {
        time: "2020-01-01T00:00:00Z".parse().unwrap(),
        ..gantry_core::NewEvent::new(kind.clone(), "old", "system", json!({}))
    };
    let fresh = gantry_core::NewEvent::new(kind, "fresh", "system", json!({}));
    store.append(vec![old.clone(), fresh]).await.unwrap();
    let keep = Duration::from_secs(90 * 86400);
    assert_eq!(
        gantry_server::enforce_retention(&*store, keep)
            .await
            .unwrap(),
        1
    );
    let left = store.list(&Default::default()).await.unwrap();
    let subjects: Vec<&str> = left.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["fresh", "events"]);
    assert_eq!(left[1].kind.as_str(), "events.pruned");
    assert_eq!(left[1].data["count"], 1);
    // Nothing more to do: no second pruned event.
    assert_eq!(
        gantry_server::enforce_retention(&*store, keep)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.list(&Default::default()).await.unwrap().len(), 2);
    store.close().await;
}

/// Every test above, once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(
    retention_prunes_old_events_and_says_so,
    every_route_enforces_its_declared_role,
    bad_credentials_are_401_and_revocation_is_immediate,
    errors_have_a_stable_shape,
    events_append_list_and_paginate,
    sse_streams_live_and_resumes_with_last_event_id,
    health_ready_and_metrics,
    dashboard_signs_in_with_a_cookie_that_only_reads,
    bootstrap_creates_one_private_admin_token,
);
