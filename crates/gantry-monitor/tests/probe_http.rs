//! http and tcp probes against loopback servers started here: status and
//! body conditions, method/headers/body sent, redirects on and off,
//! timeouts, refused connections, the `probe_*` samples, and the runner's
//! thresholds, transitions, status snapshot and shutdown.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_monitor::labels::Labels;
use gantry_monitor::probe::{HttpTarget, Monitor, ProbeRunner, Prober, Target, samples};
use gantry_monitor::scrape::manager::SampleSink;
use tokio::sync::{mpsc, watch};

struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

fn read_request(conn: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(conn: &mut TcpStream, status: &str, extra: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(msg.as_bytes());
}

/// A server with a few routes; `/flaky` answers with the status in `flaky`.
fn serve(flaky: Arc<AtomicU16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some(req) = read_request(&mut conn) else {
                continue;
            };
            match req.path.as_str() {
                "/ok" => respond(
                    &mut conn,
                    "200 OK",
                    "Content-Type: application/json\r\n",
                    r#"{"status":"ok","items":[1,2],"data":{"version":"1.2"}}"#,
                ),
                "/fail" => respond(
                    &mut conn,
                    "503 Service Unavailable",
                    "",
                    "down for maintenance",
                ),
                "/redirect" => respond(&mut conn, "302 Found", "Location: /ok\r\n", ""),
                "/echo" => {
                    let body = format!(
                        r#"{{"method":"{}","probe":"{}","body":"{}"}}"#,
                        req.method,
                        req.headers.get("x-probe").map_or("", String::as_str),
                        req.body
                    );
                    respond(&mut conn, "200 OK", "", &body)
                }
                "/hang" => held.push(conn),
                "/flaky" => {
                    let code = flaky.load(Ordering::SeqCst);
                    respond(&mut conn, &format!("{code} X"), "", "flaky")
                }
                _ => respond(&mut conn, "404 Not Found", "", ""),
            }
        }
    });
    base
}

fn http(url: &str) -> HttpTarget {
    HttpTarget {
        url: url.into(),
        method: "GET".into(),
        headers: BTreeMap::new(),
        body: None,
        follow_redirects: true,
        tls_verify: true,
    }
}

fn monitor(name: &str, target: HttpTarget, conditions: &[&str]) -> Monitor {
    Monitor::new(name, Target::Http(target))
        .with_conditions(conditions)
        .unwrap()
}

async fn probe(m: Monitor) -> gantry_monitor::probe::ProbeResult {
    Prober::new(m).unwrap().probe().await
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn status_body_and_json_conditions() {
    let base = serve(Arc::default());
    let r = probe(monitor(
        "ok",
        http(&format!("{base}/ok")),
        &[
            "[STATUS] == 200",
            "[BODY].status == ok",
            "len([BODY].items) > 0",
            "[BODY].data.version == pat(1.*)",
            "[RESPONSE_TIME] < 10s",
            "[IP] == 127.0.0.1",
            "[CONNECTED] == true",
        ],
    ))
    .await;
    assert!(r.success, "{r:?}");
    assert_eq!(r.observation.status, Some(200));
    assert!(r.error.is_none());
    assert_eq!(r.conditions[1].result, "[BODY].status == ok");

    let r = probe(monitor(
        "fail",
        http(&format!("{base}/fail")),
        &["[STATUS] == 200", "[BODY] == pat(*maintenance*)"],
    ))
    .await;
    assert!(!r.success);
    assert!(r.error.is_none(), "a 503 is an answer, not an error");
    assert_eq!(r.conditions[0].result, "[STATUS] (503) == 200");
    assert!(r.conditions[1].success);
    assert_eq!(r.reason(), "[STATUS] (503) == 200");
}

#[tokio::test]
async fn default_condition_is_status_below_400() {
    let base = serve(Arc::default());
    let ok = probe(Monitor::new("a", Target::Http(http(&format!("{base}/ok"))))).await;
    assert!(ok.success);
    let missing = probe(Monitor::new(
        "b",
        Target::Http(http(&format!("{base}/nope"))),
    ))
    .await;
    assert!(!missing.success);
    assert_eq!(missing.reason(), "[STATUS] (404) < 400");
}

#[tokio::test]
async fn method_headers_and_body_are_sent() {
    let base = serve(Arc::default());
    let mut t = http(&format!("{base}/echo"));
    t.method = "POST".into();
    t.headers.insert("X-Probe".into(), "gantry".into());
    t.body = Some("ping".into());
    let r = probe(monitor(
        "echo",
        t,
        &[
            "[BODY].method == POST",
            "[BODY].probe == gantry",
            "[BODY].body == ping",
        ],
    ))
    .await;
    assert!(r.success, "{:?}", r.conditions);
}

#[tokio::test]
async fn redirects_followed_or_not() {
    let base = serve(Arc::default());
    let followed = probe(monitor(
        "r",
        http(&format!("{base}/redirect")),
        &["[STATUS] == 200", "[BODY].status == ok"],
    ))
    .await;
    assert!(followed.success, "{followed:?}");
    let mut t = http(&format!("{base}/redirect"));
    t.follow_redirects = false;
    let not = probe(monitor("r", t, &["[STATUS] == 302"])).await;
    assert!(not.success, "{not:?}");
    assert_eq!(not.observation.status, Some(302));
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let base = serve(Arc::default());
    let mut m = monitor("hang", http(&format!("{base}/hang")), &["[STATUS] == 200"]);
    m.timeout = Duration::from_millis(300);
    let r = probe(m).await;
    assert!(!r.success);
    assert_eq!(r.error.as_deref(), Some("timed out after 300ms"));
    assert_eq!(r.observation.status, None);
    assert_eq!(r.reason(), "timed out after 300ms");
}

#[tokio::test]
async fn connection_refused_is_an_error() {
    let port = free_port();
    let r = probe(monitor(
        "down",
        http(&format!("http://127.0.0.1:{port}/")),
        &["[STATUS] == 200"],
    ))
    .await;
    assert!(!r.success);
    let e = r.error.unwrap();
    assert!(e.contains("Connection refused"), "{e}");
    assert_eq!(r.conditions[0].result, "[STATUS] (n/a) == 200");
}

#[tokio::test]
async fn tcp_connect_and_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let m = Monitor::new(
        "tcp",
        Target::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
    );
    let r = probe(m.clone()).await;
    assert!(r.success, "{r:?}");
    assert!(r.observation.connected);
    assert_eq!(r.observation.ip.as_deref(), Some("127.0.0.1"));
    drop(listener);
    let r = probe(m).await;
    assert!(!r.success);
    assert!(!r.observation.connected);
    let e = r.error.unwrap();
    assert!(
        e.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")) && e.contains("refused"),
        "{e}"
    );
}

#[test]
fn placeholders_must_fit_the_type() {
    let m = Monitor::new(
        "t",
        Target::Tcp {
            host: "h".into(),
            port: 1,
        },
    );
    let e = m.with_conditions(&["[STATUS] == 200"]).unwrap_err();
    assert_eq!(
        e,
        "`[STATUS] == 200`: `[STATUS]` is not available for tcp monitors"
    );
}

#[derive(Default)]
struct Collect(Mutex<Vec<(Labels, i64, f64)>>);

impl SampleSink for Collect {
    fn append(&self, batch: Vec<(Labels, i64, f64)>) -> Result<(), String> {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

#[tokio::test]
async fn results_become_samples() {
    let base = serve(Arc::default());
    let mut m = monitor("api", http(&format!("{base}/fail")), &["[STATUS] == 200"]);
    m.labels.insert("team".into(), "core".into());
    let r = probe(m.clone()).await;
    let s = samples(&m, &r, 1_000);
    let find = |name: &str| {
        s.iter()
            .find(|(l, _, _)| l.metric_name() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(
        find("probe_success").0.to_string(),
        r#"probe_success{monitor="api", team="core", type="http"}"#
    );
    assert_eq!(find("probe_success").2, 0.0);
    assert_eq!(find("probe_http_status_code").2, 503.0);
    assert_eq!(find("probe_duration_seconds").1, 1_000);
    assert!(find("probe_duration_seconds").2 >= 0.0);
    assert!(
        !s.iter()
            .any(|(l, _, _)| l.metric_name() == Some("probe_ssl_earliest_cert_expiry")),
        "plain http has no certificate"
    );
}

async fn next(
    rx: &mut mpsc::UnboundedReceiver<gantry_monitor::probe::ProbeTransition>,
) -> gantry_monitor::probe::ProbeTransition {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("a transition within 30s")
        .expect("runner still running")
}

#[tokio::test]
async fn runner_reports_transitions_with_thresholds() {
    let flaky = Arc::new(AtomicU16::new(503));
    let base = serve(flaky.clone());
    let mut m = monitor(
        "flaky",
        http(&format!("{base}/flaky")),
        &["[STATUS] == 200"],
    );
    m.interval = Duration::from_millis(20);
    m.timeout = Duration::from_secs(5);
    m.failure_threshold = 3;
    m.success_threshold = 2;
    let sink = Arc::new(Collect::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = ProbeRunner::new(vec![m], sink.clone()).with_transitions(tx);
    let status = runner.status_view();
    assert_eq!(status()[0].state, "unknown");
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(runner.run(stop_rx));

    let down = next(&mut rx).await;
    assert_eq!(down.monitor, "flaky");
    assert!(!down.up);
    assert_eq!(down.reason, "[STATUS] (503) == 200");
    {
        let s = &status()[0];
        assert_eq!(s.state, "down");
        assert_eq!(s.kind, "http");
        assert!(s.consecutive_failures >= 3);
        assert_eq!(s.last_result, vec!["[STATUS] (503) == 200".to_string()]);
        assert!(s.last_duration.is_some());
    }
    // At least three failed probes were stored before the transition.
    let failures = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, _, v)| l.metric_name() == Some("probe_success") && *v == 0.0)
        .count();
    assert!(failures >= 3, "{failures}");

    flaky.store(200, Ordering::SeqCst);
    let up = next(&mut rx).await;
    assert!(up.up);
    assert_eq!(up.reason, "[STATUS] == 200");
    assert_eq!(status()[0].state, "up");
    assert!(status()[0].consecutive_successes >= 2);

    flaky.store(500, Ordering::SeqCst);
    let down = next(&mut rx).await;
    assert!(!down.up);
    assert_eq!(down.reason, "[STATUS] (500) == 200");

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("runner stops on shutdown")
        .unwrap();
    let codes: Vec<f64> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, _, _)| l.metric_name() == Some("probe_http_status_code"))
        .map(|(_, _, v)| *v)
        .collect();
    assert!(codes.contains(&503.0) && codes.contains(&200.0) && codes.contains(&500.0));
}

struct Failing;

impl SampleSink for Failing {
    fn append(&self, _batch: Vec<(Labels, i64, f64)>) -> Result<(), String> {
        Err("disk full".into())
    }
}

#[tokio::test]
async fn a_sink_error_is_recorded_in_the_status() {
    let base = serve(Arc::default());
    let mut m = monitor("ok", http(&format!("{base}/ok")), &["[STATUS] == 200"]);
    m.interval = Duration::from_millis(20);
    m.success_threshold = 1;
    let runner = ProbeRunner::new(vec![m], Arc::new(Failing));
    let status = runner.status_view();
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(runner.run(stop_rx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while status()[0].last_probe_ms.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no probe within 30s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = &status()[0];
    assert_eq!(s.last_success, Some(true));
    assert_eq!(s.state, "up");
    assert_eq!(
        s.last_error.as_deref(),
        Some("storing probe results: disk full")
    );
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap();
}
