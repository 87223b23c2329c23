//! Crash safety: every acknowledged append survives `kill -9`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, admin_token};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_string();
    let server = Server::start(dir.path(), &["up", "--data-dir", &data_arg]);
    let token = admin_token(&data);
    let url = server.url.clone();
    let http = reqwest::Client::new();

    // Writers append as fast as they can and record what was acknowledged.
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..16 {
        let (http, url, token, acked) = (http.clone(), url.clone(), token.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let subject = format!("writer/{w}/{i}");
                let resp = http
                    .post(format!("{url}/api/v1/events"))
                    .bearer_auth(&token)
                    .json(&json!({"kind": "test.crash", "subject": subject, "data": {"i": i}}))
                    .send()
                    .await;
                let Ok(resp) = resp else { break };
                if resp.status() != 201 {
                    break;
                }
                let Ok(body) = resp.json::<Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap()
                    .push((body["seq"].as_i64().unwrap(), subject));
            }
        }));
    }
    // Let them run until a good number of appends are in, then pull the plug.
    let acked = kill_when(server, writers, &acked, |a| a.len() >= 2000).await;
    assert!(
        acked.len() > 100,
        "too few appends before the kill: {}",
        acked.len()
    );

    // Restart on the same data dir: every acknowledged event is there, at its seq.
    let server = Server::start(dir.path(), &["up", "--data-dir", &data_arg]);
    let mut stored = std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let page: Value = http
            .get(format!(
                "{}/api/v1/events?kind=test.crash&limit=1000&after={after}",
                server.url
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for e in events {
            let seq = e["seq"].as_i64().unwrap();
            assert!(seq > after, "events out of order");
            after = seq;
            stored.insert(seq, e["subject"].as_str().unwrap().to_string());
        }
    }
    for (seq, subject) in &acked {
        assert_eq!(
            stored.get(seq),
            Some(subject),
            "acknowledged event {seq} ({subject}) lost"
        );
    }
    // Each writer's events are in the order it wrote them.
    let mut last_i: std::collections::HashMap<String, i64> = Default::default();
    let mut seqs: Vec<_> = stored.iter().collect();
    seqs.sort();
    for (_, subject) in seqs {
        let mut parts = subject.rsplitn(2, '/');
        let i: i64 = parts.next().unwrap().parse().unwrap();
        let writer = parts.next().unwrap().to_string();
        let prev = last_i.insert(writer, i);
        assert!(
            prev.is_none_or(|p| p < i),
            "writer order broken at {subject}"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));

    let store = gantry_store::SqliteStore::open(&data.join("gantry.db"))
        .await
        .unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    gantry_store::Store::close(&store).await;
}

/// Remote-write requests from concurrent writers share fsyncs (a group
/// commit); every request answered 204 must still be in the store after
/// `kill -9` and a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_remote_writes_survive_kill_9() {
    use gantry_monitor::labels::Labels;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_string();
    let server = Server::start(dir.path(), &["up", "--data-dir", &data_arg]);
    let token = admin_token(&data);
    let http = reqwest::Client::new();
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 3_600_000;

    // Writer w sends samples 0, 1, 2, ... of `crash_rw{writer="w"}`, one
    // request each; the highest acknowledged one is recorded.
    let acked: Arc<Mutex<Vec<i64>>> = Arc::new(Mutex::new(vec![-1; 8]));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (http, url, token, acked) = (
            http.clone(),
            server.url.clone(),
            token.clone(),
            acked.clone(),
        );
        writers.push(tokio::spawn(async move {
            let labels = Labels::new([
                ("__name__", "crash_rw".to_string()),
                ("writer", w.to_string()),
            ]);
            for i in 0..100_000i64 {
                let body =
                    gantry_monitor::remote::encode_request(&[(labels.clone(), base + i, i as f64)]);
                let resp = http
                    .post(format!("{url}/api/v1/write"))
                    .bearer_auth(&token)
                    .header("Content-Encoding", "snappy")
                    .header("Content-Type", "application/x-protobuf")
                    .body(body)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == 204 => acked.lock().unwrap()[w] = i,
                    _ => break,
                }
            }
        }));
    }
    let acked = kill_when(server, writers, &acked, |a| a.iter().all(|&i| i >= 100)).await;
    assert!(
        acked.iter().all(|&i| i >= 10),
        "too few writes before the kill: {acked:?}"
    );

    let server = Server::start(dir.path(), &["up", "--data-dir", &data_arg]);
    for (w, &last) in acked.iter().enumerate() {
        // Every sample up to the last acknowledged one is there: as many
        // as were sent in order, the newest at least that value.
        let expr = format!("count_over_time(crash_rw{{writer=\"{w}\"}}[2h])");
        let ms = base + last;
        let at = format!("{}.{:03}", ms / 1000, ms % 1000);
        let body: Value = http
            .get(format!("{}/api/v1/query", server.url))
            .bearer_auth(&token)
            .query(&[("query", expr.as_str()), ("time", at.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let got: f64 = body["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or_else(|| panic!("writer {w}: {body}"))
            .parse()
            .unwrap();
        assert_eq!(
            got,
            (last + 1) as f64,
            "writer {w} lost acknowledged samples"
        );
    }
    server.terminate();
}

/// Waits (at most 5 s) until `enough` holds for what the writers recorded,
/// then kills the server with SIGKILL and returns the record once every
/// writer has stopped.
async fn kill_when<T: Clone>(
    server: Server,
    writers: Vec<tokio::task::JoinHandle<()>>,
    acked: &Mutex<T>,
    enough: impl Fn(&T) -> bool,
) -> T {
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        if enough(&acked.lock().unwrap()) {
            break;
        }
    }
    server.kill9();
    for w in writers {
        let _ = w.await;
    }
    acked.lock().unwrap().clone()
}
