//! Remote write: the wire format round trip, hostile bodies, the queue's
//! retry rules against a loopback receiver, and both directions with a real
//! Prometheus 2.42 (Debian package): Gantry → Prometheus's receiver, and
//! Prometheus → Gantry's decoder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gantry_monitor::LabeledSample;
use gantry_monitor::labels::Labels;
use gantry_monitor::remote::{self, DecodeError, Endpoint, decode_request, encode_request};

fn s(name: &str, job: &str, t: i64, v: f64) -> LabeledSample {
    (Labels::new([("__name__", name), ("job", job)]), t, v)
}

#[test]
fn round_trip_groups_series_and_keeps_values() {
    let samples = vec![
        s("a", "x", 1000, 1.5),
        s("b", "x", 1000, -2.0),
        s("a", "x", 2000, f64::INFINITY),
    ];
    let back = decode_request(&encode_request(&samples)).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back[0], samples[0]);
    assert_eq!(back[1], samples[2]);
    assert_eq!(back[2], samples[1]);
}

#[test]
fn hostile_bodies_are_refused_with_reasons() {
    assert!(matches!(
        decode_request(b"not snappy at all"),
        Err(DecodeError::Snappy(_))
    ));
    let junk = snap::raw::Encoder::new()
        .compress_vec(&[0xff, 0xff, 0xff, 0x07])
        .unwrap();
    assert!(matches!(
        decode_request(&junk),
        Err(DecodeError::Protobuf(_))
    ));
    let nameless = encode_request(&[(Labels::new([("job", "x")]), 1, 1.0)]);
    assert_eq!(
        decode_request(&nameless),
        Err(DecodeError::NoName { index: 0 })
    );
    // A tiny body that claims a huge decompressed size.
    let mut bomb = Vec::new();
    let mut n: u64 = 1 << 40;
    while n >= 0x80 {
        bomb.push(n as u8 | 0x80);
        n >>= 7;
    }
    bomb.push(n as u8);
    assert!(matches!(
        decode_request(&bomb),
        Err(DecodeError::TooLarge { .. } | DecodeError::Snappy(_))
    ));
}

/// The receiver's decoder as prost and [`Labels::new`] define it: the
/// reference the hand-written wire decoder must agree with.
fn reference_decode(raw: &[u8]) -> Result<Vec<LabeledSample>, DecodeError> {
    use prost::Message;
    let req =
        remote::WriteRequest::decode(raw).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    let mut out = Vec::new();
    for (index, ts) in req.timeseries.into_iter().enumerate() {
        if ts.labels.is_empty() {
            return Err(DecodeError::NoLabels { index });
        }
        if let Some(bad) = ts.labels.iter().find(|l| {
            let mut c = l.name.chars();
            !(c.next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && c.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        }) {
            return Err(DecodeError::BadLabel {
                index,
                name: bad.name.clone(),
            });
        }
        let labels = Labels::new(ts.labels.into_iter().map(|l| (l.name, l.value)));
        if labels.metric_name().is_none() {
            return Err(DecodeError::NoName { index });
        }
        out.extend(
            ts.samples
                .iter()
                .map(|s| (labels.clone(), s.timestamp, s.value)),
        );
    }
    Ok(out)
}

fn same_outcome(
    a: &Result<Vec<LabeledSample>, DecodeError>,
    b: &Result<Vec<LabeledSample>, DecodeError>,
) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2.to_bits() == y.2.to_bits())
        }
        // Both refuse; the protobuf messages' wording differs.
        (Err(DecodeError::Protobuf(_)), Err(DecodeError::Protobuf(_))) => true,
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

fn decode_raw(raw: &[u8]) -> Result<Vec<LabeledSample>, DecodeError> {
    decode_request(&snap::raw::Encoder::new().compress_vec(raw).unwrap())
}

proptest::proptest! {
    #[test]
    fn wire_decoder_agrees_with_prost(
        series in proptest::collection::vec(
            (
                proptest::collection::vec(
                    (
                        proptest::prop_oneof![
                            proptest::strategy::Just("__name__".to_string()),
                            "[a-c]{1,2}",
                            proptest::strategy::Just("0bad".to_string()),
                        ],
                        proptest::prop_oneof![proptest::strategy::Just(String::new()), "[a-zé]{0,3}"],
                    ),
                    0..5,
                ),
                proptest::collection::vec((proptest::num::i64::ANY, proptest::num::f64::ANY), 0..4),
            ),
            0..6,
        ),
        extra in proptest::collection::vec(proptest::num::u8::ANY, 0..3),
    ) {
        use prost::Message;
        let req = remote::WriteRequest {
            timeseries: series
                .into_iter()
                .map(|(labels, samples)| remote::TimeSeries {
                    labels: labels
                        .into_iter()
                        .map(|(name, value)| remote::Label { name, value })
                        .collect(),
                    samples: samples
                        .into_iter()
                        .map(|(timestamp, value)| remote::Sample { value, timestamp })
                        .collect(),
                })
                .collect(),
            metadata: Vec::new(),
        };
        let mut raw = req.encode_to_vec();
        let got = decode_raw(&raw);
        let want = reference_decode(&raw);
        proptest::prop_assert!(same_outcome(&got, &want), "{got:?} vs {want:?}");
        // Trailing bytes, usually a broken field: both refuse or both accept.
        raw.extend(extra);
        let got = decode_raw(&raw);
        let want = reference_decode(&raw);
        proptest::prop_assert!(same_outcome(&got, &want), "{got:?} vs {want:?}");
    }

    #[test]
    fn wire_decoder_never_panics(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = decode_raw(&raw);
    }
}

#[test]
fn wire_decoder_skips_fields_it_does_not_use() {
    fn field(tag: u64, wire: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(tag << 3 | wire) as u8];
        if wire == 2 {
            out.push(payload.len() as u8);
        }
        out.extend_from_slice(payload);
        out
    }
    let label = |k: &str, v: &str| {
        let mut l = field(1, 2, k.as_bytes());
        l.extend(field(2, 2, v.as_bytes()));
        field(1, 2, &l)
    };
    let mut sample = field(1, 1, &2.5f64.to_le_bytes());
    sample.extend(field(2, 0, &[0x90, 0x4e])); // 10000
    sample.extend(field(9, 5, &[1, 2, 3, 4])); // an unknown fixed32
    let mut ts = label("job", "x");
    ts.extend(label("__name__", "up"));
    ts.extend(field(2, 2, &sample));
    ts.extend(field(3, 2, &[0x0a, 0x00])); // an exemplar
    ts.extend(field(4, 2, &[])); // a native histogram
    let mut raw = field(3, 2, &[0x08, 0x01]); // metadata first
    raw.extend(field(1, 2, &ts));
    raw.extend(field(7, 0, &[0x05])); // an unknown varint
    let got = decode_raw(&raw).unwrap();
    assert_eq!(
        got,
        vec![(Labels::new([("__name__", "up"), ("job", "x")]), 10_000, 2.5)]
    );
    // A truncated sample is refused with where it broke.
    let cut = &raw[..raw.len() - 8];
    match decode_raw(cut) {
        Err(DecodeError::Protobuf(m)) => assert!(m.contains("at byte"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// Reads one HTTP/1.1 request with a Content-Length body.
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut head = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
        head.push_str(&line);
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

/// The receiver's URL, the samples it accepted and the request heads.
type Receiver = (
    String,
    Arc<Mutex<Vec<LabeledSample>>>,
    Arc<Mutex<Vec<String>>>,
);

/// A receiver answering with the given statuses in turn (the last one
/// repeats), recording decoded samples of accepted requests.
fn receiver(statuses: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (got2, heads2) = (got.clone(), heads.clone());
    std::thread::spawn(move || {
        let mut i = 0;
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            while let Some((head, body)) = read_request(&mut conn) {
                let status = statuses[i.min(statuses.len() - 1)];
                i += 1;
                heads2.lock().unwrap().push(head);
                if status == 204 {
                    got2.lock().unwrap().extend(decode_request(&body).unwrap());
                }
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                if conn.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (url, got, heads)
}

#[tokio::test]
async fn queue_retries_server_errors_and_drops_on_client_errors() {
    let (url, got, heads) = receiver(vec![500, 503, 204]);
    let mut ep = Endpoint::new(url);
    ep.batch_send_deadline = Duration::from_millis(50);
    ep.min_backoff = Duration::from_millis(5);
    ep.headers.push(("X-Scope-OrgID".into(), "tenant-1".into()));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (q, task) = remote::start(ep, reqwest::Client::new(), rx);
    q.offer(&[s("up", "a", 1000, 1.0), s("up", "b", 1000, 0.0)]);
    for _ in 0..200 {
        if got.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got.lock().unwrap().len(), 2);
    assert_eq!(
        q.stats.retries.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        head.contains("content-encoding: snappy")
            && head.contains("x-prometheus-remote-write-version: 0.1.0"),
        "{head}"
    );
    assert!(head.contains("x-scope-orgid: tenant-1"), "{head}");
    tx.send(true).unwrap();
    task.await.unwrap();

    let (url, got, heads) = receiver(vec![400]);
    let mut ep = Endpoint::new(url);
    ep.batch_send_deadline = Duration::from_millis(20);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (q, task) = remote::start(ep, reqwest::Client::new(), rx);
    q.offer(&[s("up", "a", 1000, 1.0)]);
    for _ in 0..200 {
        if q.stats
            .failed_batches
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        q.stats
            .failed_batches
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(heads.lock().unwrap().len(), 1, "a 400 is not retried");
    assert!(got.lock().unwrap().is_empty());
    tx.send(true).unwrap();
    task.await.unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Prom(Child);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A readiness probe without an async runtime: one GET over a socket.
fn blocking_ready(url: &str) -> bool {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut c) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = write!(c, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
}

#[tokio::test]
async fn gantry_writes_into_prometheus_and_prometheus_writes_into_gantry() {
    // Prometheus scrapes itself and remote-writes to our receiver; our
    // queue writes to Prometheus's receiver.
    let (url, got, _) = receiver(vec![204]);
    let tmp = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['PLACEHOLDER']\nremote_write:\n  - url: {url}\n    queue_config:\n      batch_send_deadline: 200ms\n"
    );
    // The placeholder becomes Prometheus's own address once we know it.
    let port = free_port();
    let config = config.replace("PLACEHOLDER", &format!("127.0.0.1:{port}"));
    std::fs::write(tmp.path().join("prometheus.yml"), &config).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", tmp.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", tmp.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian package `prometheus`) must be installed: apt-get install prometheus");
    let _prom = Prom(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !blocking_ready(&format!("{base}/-/ready")) {
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Gantry → Prometheus.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut ep = Endpoint::new(format!("{base}/api/v1/write"));
    ep.batch_send_deadline = Duration::from_millis(50);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (q, task) = remote::start(ep, reqwest::Client::new(), rx);
    q.offer(&[
        s("gantry_rw_test", "a", now - 2000, 1.25),
        s("gantry_rw_test", "b", now - 2000, 7.0),
        s("gantry_rw_test", "a", now - 1000, 2.5),
    ]);
    let client = reqwest::Client::new();
    let mut answer = serde_json::Value::Null;
    for _ in 0..100 {
        let r: serde_json::Value = client
            .get(format!("{base}/api/v1/query"))
            .query(&[
                ("query", "gantry_rw_test"),
                ("time", &format!("{}", now as f64 / 1000.0)),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if r["data"]["result"].as_array().is_some_and(|a| a.len() == 2) {
            answer = r;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = answer["data"]["result"]
        .as_array()
        .expect("prometheus has our samples");
    let a = result.iter().find(|r| r["metric"]["job"] == "a").unwrap();
    assert_eq!(a["value"][1], "2.5");
    assert_eq!(
        result.iter().find(|r| r["metric"]["job"] == "b").unwrap()["value"][1],
        "7"
    );
    tx.send(true).unwrap();
    task.await.unwrap();

    // Prometheus → Gantry: its own `up` arrives decoded.
    for _ in 0..150 {
        if got
            .lock()
            .unwrap()
            .iter()
            .any(|(l, _, v)| l.metric_name() == Some("up") && *v == 1.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = got.lock().unwrap();
    let up = got
        .iter()
        .find(|(l, _, _)| l.metric_name() == Some("up"))
        .expect("prometheus remote-wrote `up`");
    assert_eq!(up.0.get("job"), Some("self"));
    assert!(
        got.iter()
            .any(|(l, _, _)| l.metric_name() == Some("prometheus_build_info"))
    );
}

#[test]
fn gantry_yml_remote_write_becomes_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let yml = format!(
        "version: 1
remote_write:
  - url: http://127.0.0.1:9/api/v1/write
    authorization:
      credentials_file: {}
    queue_config:
      max_samples_per_send: 7
    write_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
  - url: http://127.0.0.1:9/other
    basic_auth:
      username: u
      password_file: {}/missing
",
        token.display(),
        dir.path().display()
    );
    let config = gantry_config::load_str("gantry.yml", &yml).unwrap();
    let diags = remote::from_config(&config).unwrap_err();
    assert_eq!(diags.len(), 1);
    let shown = diags[0].render(&yml);
    assert!(
        shown.contains("cannot read") && shown.contains("gantry.yml:12:5"),
        "{shown}"
    );
    let first_only = &yml[..yml.find("  - url: http://127.0.0.1:9/other").unwrap()];
    let config = gantry_config::load_str("gantry.yml", first_only).unwrap();
    let eps = remote::from_config(&config).unwrap();
    assert_eq!(eps[0].bearer_token.as_deref(), Some("s3cret"));
    assert_eq!(eps[0].max_samples_per_send, 7);
    assert_eq!(eps[0].write_relabel_configs.len(), 1);
}

#[test]
fn debug_output_never_shows_credentials() {
    let mut ep = Endpoint::new("https://example.invalid/push");
    ep.bearer_token = Some("tok-123".into());
    ep.basic_auth = Some(("user".into(), "pw-456".into()));
    ep.headers
        .push(("Authorization".into(), "Basic c2VjcmV0".into()));
    let shown = format!("{ep:?}");
    for secret in ["tok-123", "pw-456", "c2VjcmV0"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("user") && shown.contains("example.invalid"),
        "{shown}"
    );
    let yml = "version: 1\nremote_write:\n  - url: https://x.invalid/\n    basic_auth:\n      username: u\n      password: pw-789\n";
    let config = gantry_config::load_str("gantry.yml", yml).unwrap();
    assert!(!format!("{config:?}").contains("pw-789"));
}
