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
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        if acked.lock().unwrap().len() >= 2000 {
            break;
        }
    }
    server.kill9();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
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
