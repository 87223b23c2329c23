//! Several `gantry serve` replicas sharing one PostgreSQL database.

mod common;

use std::time::Duration;

use common::{Server, admin_token};
use futures::StreamExt;
use gantry_store::testing::TestDatabase;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_log_and_one_admin_token() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shared");
    let data_arg = data.to_str().unwrap().to_string();
    let args = ["serve", "--database-url", &db.url, "--data-dir", &data_arg];
    // Both start at once; exactly one creates the admin token.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(dir.path(), &args));
        let b = s.spawn(|| Server::start(dir.path(), &args));
        (a.join().unwrap(), b.join().unwrap())
    });
    let token = admin_token(&data);
    let http = reqwest::Client::new();
    let tokens: Value = http
        .get(format!("{}/api/v1/tokens", b.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1, "{tokens}");
    let ready: Value = http
        .get(format!("{}/readyz", a.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["store"], "postgres");

    // A live stream on B sees what is appended through A, in order.
    let stream = http
        .get(format!("{}/api/v1/events/stream?kind=test.replica", b.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    for i in 0..5 {
        let target = if i % 2 == 0 { &a.url } else { &b.url };
        let resp = http
            .post(format!("{target}/api/v1/events"))
            .bearer_auth(&token)
            .json(&json!({"kind": "test.replica", "subject": format!("n/{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let mut body = stream.bytes_stream();
    let mut text = String::new();
    while text.matches("\n\n").count() < 5 {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("events reach the other replica within 10s")
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let subjects: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| {
            serde_json::from_str::<Value>(d.trim()).unwrap()["subject"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(subjects, ["n/0", "n/1", "n/2", "n/3", "n/4"]);
    drop(body);

    // A token revoked through one replica stops working on the other at once.
    let created: Value = http
        .post(format!("{}/api/v1/tokens", a.url))
        .bearer_auth(&token)
        .json(&json!({"name": "temp", "role": "viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let temp = created["token"].as_str().unwrap();
    assert_eq!(
        http.get(format!("{}/api/v1/events", b.url))
            .bearer_auth(temp)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let id = created["id"].as_str().unwrap();
    http.delete(format!("{}/api/v1/tokens/{id}", a.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        http.get(format!("{}/api/v1/events", b.url))
            .bearer_auth(temp)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    assert_eq!(a.terminate().code(), Some(0));
    assert_eq!(b.terminate().code(), Some(0));
}
