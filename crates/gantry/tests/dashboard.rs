//! The dashboard in a real browser: headless Chromium driven through
//! chromedriver's WebDriver API. Sign in, see the feed, watch an event
//! arrive live, and prove event text cannot inject markup.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, admin_token};
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    async fn start() -> Driver {
        for bin in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: install Debian's chromium and chromium-driver (scripts/test does)"
            );
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = d.http.get(format!("{}/status", d.base)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready within 30s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(v["value"].get("error").is_none(), "webdriver {path}: {v}");
        v["value"].clone()
    }
}

struct Session<'a> {
    d: &'a Driver,
    id: String,
}

impl Session<'_> {
    async fn new<'d>(d: &'d Driver, profile: &std::path::Path) -> Session<'d> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let v = d.call(reqwest::Method::POST, "/session", Some(caps)).await;
        Session {
            d,
            id: v["sessionId"].as_str().expect("session id").to_string(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.d
            .call(
                reqwest::Method::POST,
                &format!("/session/{}{path}", self.id),
                Some(body),
            )
            .await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element id")
            .to_string()
    }

    async fn js(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Polls a script until it returns `want` (or fails after 15 s).
    async fn wait_for(&self, script: &str, want: Value) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.js(script).await;
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{script}: got {got}, want {want}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn close(self) {
        self.d
            .call(
                reqwest::Method::DELETE,
                &format!("/session/{}", self.id),
                None,
            )
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_watch_events_arrive_live() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["up", "--demo"]);
    let token = admin_token(&dir.path().join(".gantry"));
    let driver = Driver::start().await;
    let s = Session::new(&driver, &dir.path().join("profile")).await;

    s.goto(&format!("{}/", server.url)).await;
    s.wait_for("return document.title", json!("Sign in · Gantry"))
        .await;
    // A wrong token is refused with a message.
    let field = s.find("#token").await;
    s.post(
        &format!("/element/{field}/value"),
        json!({"text": "gantry_wrong"}),
    )
    .await;
    let button = s.find("button[type=submit]").await;
    s.post(&format!("/element/{button}/click"), json!({})).await;
    s.wait_for(
        "return document.querySelector('.error') !== null",
        json!(true),
    )
    .await;

    let field = s.find("#token").await;
    s.post(&format!("/element/{field}/value"), json!({"text": token}))
        .await;
    let button = s.find("button[type=submit]").await;
    s.post(&format!("/element/{button}/click"), json!({})).await;
    s.wait_for("return document.title", json!("Activity · Gantry"))
        .await;
    // The server's own start is already in the feed; the stream connects.
    s.wait_for(
        "return document.querySelector('#events tbody td.kind').textContent",
        json!("server.started"),
    )
    .await;
    s.wait_for(
        "return document.getElementById('live').textContent",
        json!("live"),
    )
    .await;

    // An event posted through the API appears without a reload, as text.
    let hostile = "<img src=x onerror=\"document.title='pwned'\">";
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&token)
        .json(&json!({"kind": "deploy.finished", "subject": hostile, "data": {"version": "1.4.2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    s.wait_for(
        "return document.querySelector('#events tbody tr:first-child td:nth-child(4)').textContent",
        json!(hostile),
    )
    .await;
    assert_eq!(
        s.js("return document.querySelectorAll('#events img').length")
            .await,
        json!(0)
    );
    assert_eq!(
        s.js("return document.title").await,
        json!("Activity · Gantry")
    );

    if let Ok(path) = std::env::var("GANTRY_SCREENSHOT") {
        let png = driver
            .call(
                reqwest::Method::GET,
                &format!("/session/{}/screenshot", s.id),
                None,
            )
            .await;
        std::fs::write(path, png.as_str().unwrap_or_default()).unwrap();
    }
    s.close().await;
    assert_eq!(server.terminate().code(), Some(0));
}
