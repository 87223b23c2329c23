//! The Prometheus-compatible API of a real server: it scrapes its own
//! `/metrics`, answers the requests Grafana sends (GET and POST forms),
//! accepts remote write, and reports errors in Prometheus's envelope.

use std::sync::Arc;
use std::time::Duration;

use gantry_core::Role;
use gantry_monitor::labels::Labels;
use gantry_server::prom::MonitoringOptions;
use gantry_server::{ServerOptions, auth::issue_token};
use gantry_store::{SqliteStore, Store};
use reqwest::StatusCode;
use serde_json::Value;

const RULES: &str = r#"
groups:
  - name: self
    interval: 200ms
    rules:
      - record: gantry:up
        expr: sum(up{job="gantry"})
      - alert: GantryIsUp
        expr: up{job="gantry"} == 1
        labels:
          severity: info
        annotations:
          summary: "{{ $labels.instance }} is up"
"#;

fn rule_groups() -> Vec<gantry_monitor::rules::eval::Group> {
    let file = gantry_monitor::rules::check_file("rules.yml", RULES).unwrap();
    file.groups
        .iter()
        .map(|g| {
            gantry_monitor::rules::eval::Group::from_config("rules.yml", g, Duration::from_secs(60))
        })
        .collect()
}

struct Srv {
    base: String,
    store: Arc<dyn Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Srv {
    async fn start() -> Srv {
        let dir = tempfile::tempdir().unwrap();
        Srv::start_in(dir).await
    }

    async fn start_in(dir: tempfile::TempDir) -> Srv {
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("gantry.db"))
                .await
                .unwrap(),
        );
        let listener = gantry_server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let opts = ServerOptions {
            listen: listener.local_addr().unwrap(),
            data_dir: dir.path().to_path_buf(),
            body_limit: 1 << 20,
            retention: None,
            site_name: None,
            site_description: None,
            monitoring: Some(MonitoringOptions {
                self_scrape_interval: Duration::from_millis(200),
                rule_groups: rule_groups(),
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
        Srv {
            base,
            store,
            stop: Some(tx),
            task: Some(task),
            http: reqwest::Client::new(),
            dir,
        }
    }

    async fn token(&self, role: Role) -> String {
        issue_token(&*self.store, &format!("t-{role}"), role)
            .await
            .unwrap()
            .0
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post_form(
        &self,
        token: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.task.take().unwrap())
            .await
            .expect("server stopped")
            .unwrap();
        self.dir
    }
}

async fn wait_for_up(srv: &Srv, token: &str) -> Value {
    for _ in 0..100 {
        let (status, v) = srv.get(token, "/api/v1/query?query=up").await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server never scraped itself");
}

fn now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn grafana_requests_get_prometheus_answers() {
    let srv = Srv::start().await;
    let viewer = srv.token(Role::Viewer).await;
    let up = wait_for_up(&srv, &viewer).await;
    assert_eq!(up["status"], "success");
    assert_eq!(up["data"]["resultType"], "vector");
    let r = &up["data"]["result"][0];
    assert_eq!(r["metric"]["__name__"], "up");
    assert_eq!(r["metric"]["job"], "gantry");
    assert_eq!(r["value"][1], "1");

    // Grafana's "Save & test": POST /api/v1/query with 1+1.
    let now = format!("{:.3}", now_s());
    let (status, v) = srv
        .post_form(
            &viewer,
            "/api/v1/query",
            &[("query", "1+1"), ("time", &now)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"]["resultType"], "scalar");
    assert_eq!(v["data"]["result"][1], "2");

    let (status, v) = srv.get(&viewer, "/api/v1/status/buildinfo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(v["data"]["version"].is_string());

    // A range query over the last few seconds, as a panel asks for it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = now_s();
    let (start, end_s) = (format!("{:.3}", end - 5.0), format!("{end:.3}"));
    let (status, v) = srv
        .post_form(
            &viewer,
            "/api/v1/query_range",
            &[
                ("query", "sum by (job) (up)"),
                ("start", &start),
                ("end", &end_s),
                ("step", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["resultType"], "matrix");
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    assert!(
        !values.is_empty() && values.iter().all(|p| p[1] == "1"),
        "{v}"
    );

    // Metric browser: labels, values, series, metadata.
    let (_, v) = srv
        .get(
            &viewer,
            &format!("/api/v1/labels?start={start}&end={end_s}"),
        )
        .await;
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"__name__") && names.contains(&"job") && names.contains(&"instance"),
        "{names:?}"
    );
    let (_, v) = srv.get(&viewer, "/api/v1/label/__name__/values").await;
    let metrics: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        metrics.contains(&"gantry_http_requests_total")
            && metrics.contains(&"scrape_duration_seconds"),
        "{metrics:?}"
    );
    let (status, v) = srv
        .post_form(
            &viewer,
            "/api/v1/series",
            &[
                ("match[]", "up{job=\"gantry\"}"),
                ("match[]", "scrape_series_added"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    let (_, v) = srv
        .get(&viewer, "/api/v1/metadata?metric=gantry_http_requests")
        .await;
    assert_eq!(
        v["data"]["gantry_http_requests"][0]["type"], "counter",
        "{v}"
    );
    let (_, v) = srv.get(&viewer, "/api/v1/targets").await;
    let t = &v["data"]["activeTargets"][0];
    assert_eq!(
        (t["health"].as_str(), t["scrapePool"].as_str()),
        (Some("up"), Some("gantry")),
        "{v}"
    );
    let (_, v) = srv.get(&viewer, "/api/v1/status/runtimeinfo").await;
    assert_eq!(v["data"]["storageRetention"], "15d");
    srv.stop().await;
}

#[tokio::test]
async fn errors_use_prometheus_types_and_positions() {
    let srv = Srv::start().await;
    let viewer = srv.token(Role::Viewer).await;
    let (status, v) = srv.get(&viewer, "/api/v1/query?query=sum(up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    assert!(v["error"].as_str().unwrap().starts_with("1:"), "{v}");
    let (status, v) = srv.get(&viewer, "/api/v1/query").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "invalid parameter \"query\": parameter is required"
    );
    let (_, v) = srv
        .get(&viewer, "/api/v1/query?query=up&time=yesterday")
        .await;
    assert_eq!(
        v["error"],
        "invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"
    );
    let (_, v) = srv
        .get(
            &viewer,
            "/api/v1/query_range?query=up&start=10&end=5&step=1",
        )
        .await;
    assert_eq!(v["errorType"], "bad_data", "{v}");
    let (_, v) = srv.get(&viewer, "/api/v1/series").await;
    assert_eq!(v["error"], "no match[] parameter provided");
    let (status, _) = srv.get(&viewer, "/api/v1/label/bad-name/values").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    srv.stop().await;
}

#[tokio::test]
async fn remote_write_in_is_stored_queryable_and_survives_restart() {
    let srv = Srv::start().await;
    let viewer = srv.token(Role::Viewer).await;
    let operator = srv.token(Role::Operator).await;
    let t = (now_s() * 1000.0) as i64 - 1000;
    let body = gantry_monitor::remote::encode_request(&[(
        Labels::new([("__name__", "pushed_total"), ("source", "prom")]),
        t,
        42.0,
    )]);
    let post = |token: &str| {
        srv.http
            .post(format!("{}/api/v1/write", srv.base))
            .bearer_auth(token)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .body(body.clone())
    };
    assert_eq!(
        post(&viewer).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&operator).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let bad = srv
        .http
        .post(format!("{}/api/v1/write", srv.base))
        .bearer_auth(&operator)
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let (_, v) = srv.get(&viewer, "/api/v1/query?query=pushed_total").await;
    assert_eq!(v["data"]["result"][0]["value"][1], "42", "{v}");
    let dir = srv.stop().await;
    // The sample was synced to the WAL: a new server on the same data dir has it.
    let srv = Srv::start_in(dir).await;
    let viewer = srv.token(Role::Viewer).await;
    let (_, v) = srv
        .get(
            &viewer,
            &format!(
                "/api/v1/query?query=pushed_total&time={}",
                t as f64 / 1000.0
            ),
        )
        .await;
    assert_eq!(v["data"]["result"][0]["metric"]["source"], "prom", "{v}");
    srv.stop().await;
}

#[tokio::test]
async fn rules_record_and_alerts_fire_with_events() {
    let srv = Srv::start().await;
    let viewer = srv.token(Role::Viewer).await;
    wait_for_up(&srv, &viewer).await;
    let mut alerts = Value::Null;
    for _ in 0..100 {
        let (_, v) = srv.get(&viewer, "/api/v1/alerts").await;
        if v["data"]["alerts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            alerts = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = &alerts["data"]["alerts"][0];
    assert_eq!(a["state"], "firing", "{alerts}");
    assert_eq!(a["labels"]["alertname"], "GantryIsUp");
    assert_eq!(a["labels"]["severity"], "info");
    assert!(
        a["annotations"]["summary"]
            .as_str()
            .unwrap()
            .ends_with(" is up"),
        "{a}"
    );
    let (_, v) = srv.get(&viewer, "/api/v1/rules").await;
    let rules = v["data"]["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(
        (rules[0]["type"].as_str(), rules[0]["health"].as_str()),
        (Some("recording"), Some("ok")),
        "{v}"
    );
    assert_eq!(rules[1]["state"], "firing");
    let (_, v) = srv.get(&viewer, "/api/v1/rules?type=alert").await;
    assert_eq!(v["data"]["groups"][0]["rules"].as_array().unwrap().len(), 1);
    for _ in 0..50 {
        let (_, v) = srv.get(&viewer, "/api/v1/query?query=gantry:up").await;
        if v["data"]["result"][0]["value"][1] == "1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = srv.get(&viewer, "/api/v1/query?query=gantry:up").await;
    assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    let (_, v) = srv.get(&viewer, "/api/v1/query?query=ALERTS").await;
    assert_eq!(
        v["data"]["result"][0]["metric"]["alertstate"], "firing",
        "{v}"
    );
    let (_, v) = srv.get(&viewer, "/api/v1/events?kind=alert.firing").await;
    assert_eq!(v["events"][0]["subject"], "alert/GantryIsUp", "{v}");
    srv.stop().await;
}
