//! Scraping: target label population, sample labelling rules, staleness,
//! and real HTTP scrapes of a loopback exporter (plain, gzip, OpenMetrics,
//! errors, a hanging target) including the manager's loop.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_monitor::exposition::Format;
use gantry_monitor::labels::Labels;
use gantry_monitor::relabel::{RelabelConfig, compile};
use gantry_monitor::scrape::manager::{SampleSink, ScrapeManager};
use gantry_monitor::scrape::{
    FileSdConfig, ScrapeConfig, ScrapeLoop, ScrapeOutcome, TargetGroup, is_stale_nan,
    resolve_targets, samples_from_body, scrape,
};

fn group(targets: &[&str], labels: &[(&str, &str)]) -> TargetGroup {
    TargetGroup {
        targets: targets.iter().map(|s| s.to_string()).collect(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        source: "static_configs[0]".into(),
    }
}

fn rule(action: &str, f: impl FnOnce(&mut RelabelConfig)) -> RelabelConfig {
    let mut c = RelabelConfig {
        action: Some(action.into()),
        ..Default::default()
    };
    f(&mut c);
    c
}

#[test]
fn targets_get_prometheus_default_labels_ports_and_urls() {
    let mut cfg = ScrapeConfig::new("node");
    cfg.params.insert("module".into(), vec!["http_2xx".into()]);
    cfg.relabel_configs = compile(&[
        rule("drop", |c| {
            c.source_labels = vec!["env".into()];
            c.regex = Some("test".into());
        }),
        rule("replace", |c| {
            c.source_labels = vec!["__address__".into()];
            c.target_label = Some("__param_target".into());
        }),
    ])
    .unwrap();
    let (active, dropped) = resolve_targets(
        &cfg,
        &[
            group(&["a.example:9100", "b.example"], &[("env", "prod")]),
            group(&["c.example:1"], &[("env", "test")]),
        ],
    );
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].discovered["__address__"], "c.example:1");
    assert_eq!(active.len(), 2);
    assert_eq!(
        active[0].url,
        "http://a.example:9100/metrics?module=http_2xx&target=a.example%3A9100"
    );
    assert_eq!(
        active[0].labels.to_string(),
        r#"{env="prod", instance="a.example:9100", job="node"}"#
    );
    // No port: 2.x adds the scheme's default.
    assert_eq!(active[1].labels.get("instance"), Some("b.example:80"));
    assert_eq!(active[0].discovered["__scrape_interval__"], "1m");
    assert_eq!(active[0].discovered["__param_module"], "http_2xx");
}

fn target(labels: &[(&str, &str)]) -> gantry_monitor::scrape::Target {
    gantry_monitor::scrape::Target {
        labels: Labels::new(labels.iter().copied()),
        discovered: BTreeMap::new(),
        url: "http://x/metrics".into(),
    }
}

const BODY: &str = "# TYPE reqs counter\nreqs{job=\"inner\",code=\"200\"} 5 1000\nreqs{code=\"500\"} 1\ntemp 21.5\n";

#[test]
fn honor_labels_timestamps_metric_relabeling_and_limits() {
    let t = target(&[("job", "outer"), ("instance", "h:1")]);
    let mut cfg = ScrapeConfig::new("outer");
    let (s, scraped) = samples_from_body(&cfg, &t, BODY, Format::Text, 5000).unwrap();
    assert_eq!(scraped, 3);
    let shown: Vec<String> = s.iter().map(|(l, t, v)| format!("{l} {t} {v}")).collect();
    assert_eq!(
        shown,
        vec![
            r#"reqs{code="200", exported_job="inner", instance="h:1", job="outer"} 1000 5"#,
            r#"reqs{code="500", instance="h:1", job="outer"} 5000 1"#,
            r#"temp{instance="h:1", job="outer"} 5000 21.5"#,
        ]
    );
    cfg.honor_labels = true;
    cfg.honor_timestamps = false;
    cfg.metric_relabel_configs = compile(&[rule("drop", |c| {
        c.source_labels = vec!["__name__".into()];
        c.regex = Some("temp".into());
    })])
    .unwrap();
    let (s, _) = samples_from_body(&cfg, &t, BODY, Format::Text, 5000).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].0.get("job"), Some("inner"));
    assert_eq!(s[0].1, 5000);
    cfg.sample_limit = 1;
    let (err, n) = samples_from_body(&cfg, &t, BODY, Format::Text, 5000).unwrap_err();
    assert_eq!((err.as_str(), n), ("sample limit exceeded (2 > 1)", 3));
    let (err, _) = samples_from_body(&cfg, &t, "ok 1\nbad{ 2\n", Format::Text, 0).unwrap_err();
    assert_eq!(err, "2:6: expected a label name");
}

#[test]
fn disappearing_series_and_failed_scrapes_get_stale_markers() {
    let t = target(&[("job", "j"), ("instance", "i")]);
    let cfg = ScrapeConfig::new("j");
    let mut lp = ScrapeLoop::default();
    let (s, n) = samples_from_body(&cfg, &t, "a 1\nb 2\n", Format::Text, 1000).unwrap();
    let first = lp.finish(
        &t,
        &ScrapeOutcome {
            samples: s,
            scraped: n,
            ..Default::default()
        },
        1000,
    );
    let up = first
        .iter()
        .find(|(l, _, _)| l.metric_name() == Some("up"))
        .unwrap();
    assert_eq!(up.2, 1.0);
    let added = first
        .iter()
        .find(|(l, _, _)| l.metric_name() == Some("scrape_series_added"))
        .unwrap();
    assert_eq!(added.2, 2.0);
    let (s, n) = samples_from_body(&cfg, &t, "a 1\n", Format::Text, 2000).unwrap();
    let second = lp.finish(
        &t,
        &ScrapeOutcome {
            samples: s,
            scraped: n,
            ..Default::default()
        },
        2000,
    );
    let stale: Vec<_> = second.iter().filter(|(_, _, v)| is_stale_nan(*v)).collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].0.metric_name(), Some("b"));
    let failed = lp.finish(
        &t,
        &ScrapeOutcome {
            error: Some("boom".into()),
            ..Default::default()
        },
        3000,
    );
    assert!(
        failed
            .iter()
            .any(|(l, _, v)| l.metric_name() == Some("a") && is_stale_nan(*v))
    );
    assert_eq!(
        failed
            .iter()
            .find(|(l, _, _)| l.metric_name() == Some("up"))
            .unwrap()
            .2,
        0.0
    );
}

/// A one-thread HTTP server on loopback answering every request with the
/// given status line, headers and body; `None` never answers.
/// Status line, headers and body of a canned reply.
type Reply = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

fn serve(reply: Option<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            seen2
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            match &reply {
                Some((status, headers, body)) => {
                    let mut head = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = conn.write_all(head.as_bytes());
                    let _ = conn.write_all(body);
                }
                None => held.push(conn),
            }
        }
    });
    (addr, seen)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip(1) is needed for this test");
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap().stdout
}

fn one_target(addr: &str, cfg: &ScrapeConfig) -> gantry_monitor::scrape::Target {
    resolve_targets(cfg, &[group(&[addr], &[])]).0.remove(0)
}

#[tokio::test]
async fn scrapes_plain_gzip_openmetrics_and_reports_errors() {
    let client = reqwest::Client::new();
    let mut cfg = ScrapeConfig::new("t");
    cfg.scrape_timeout = Duration::from_millis(500);

    let (addr, seen) = serve(Some((
        "200 OK",
        vec![("Content-Type", "text/plain; version=0.0.4".into())],
        BODY.into(),
    )));
    let out = scrape(&client, &cfg, &one_target(&addr, &cfg), 7).await;
    assert_eq!(out.error, None);
    assert_eq!(out.samples.len(), 3);
    let req = seen.lock().unwrap()[0].to_lowercase();
    assert!(req.starts_with("get /metrics http/1.1"), "{req}");
    assert!(
        req.contains("accept: application/openmetrics-text"),
        "{req}"
    );
    assert!(
        req.contains("x-prometheus-scrape-timeout-seconds: 0.5"),
        "{req}"
    );

    let om = "# TYPE c counter\nc_total 3 1.5\n# EOF\n";
    let (addr, _) = serve(Some((
        "200 OK",
        vec![
            (
                "Content-Type",
                "application/openmetrics-text; version=1.0.0".into(),
            ),
            ("Content-Encoding", "gzip".into()),
        ],
        gzip(om.as_bytes()),
    )));
    let out = scrape(&client, &cfg, &one_target(&addr, &cfg), 7).await;
    assert_eq!(out.error, None);
    assert_eq!(out.samples[0].1, 1500);
    assert_eq!(out.samples[0].0.metric_name(), Some("c_total"));

    let (addr, _) = serve(Some(("503 Service Unavailable", vec![], b"down".to_vec())));
    let out = scrape(&client, &cfg, &one_target(&addr, &cfg), 7).await;
    assert_eq!(
        out.error.as_deref(),
        Some("server returned HTTP status 503 Service Unavailable")
    );

    let (addr, _) = serve(None);
    let out = scrape(&client, &cfg, &one_target(&addr, &cfg), 7).await;
    assert_eq!(
        out.error.as_deref(),
        Some("context deadline exceeded (timeout 0.5s)")
    );

    // Nothing listens on a port that was just freed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = scrape(
        &client,
        &cfg,
        &one_target(&format!("127.0.0.1:{port}"), &cfg),
        7,
    )
    .await;
    assert!(
        out.error.as_deref().unwrap().contains("onnect"),
        "{:?}",
        out.error
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
async fn manager_scrapes_file_sd_targets_and_marks_them_stale_when_removed() {
    let (addr, _) = serve(Some((
        "200 OK",
        vec![],
        b"# TYPE g gauge\n# HELP g A gauge.\ng 1\n".to_vec(),
    )));
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().join("targets.json");
    std::fs::write(
        &sd,
        format!(r#"[{{"targets": ["{addr}"], "labels": {{"team": "a"}}}}]"#),
    )
    .unwrap();
    let mut cfg = ScrapeConfig::new("sd");
    cfg.scrape_interval = Duration::from_millis(100);
    cfg.file_sd_configs = vec![FileSdConfig {
        files: vec![dir.path().join("*.json").display().to_string()],
        refresh_interval: Duration::from_millis(100),
    }];
    let sink = Arc::new(Collect::default());
    let manager = ScrapeManager::new(vec![cfg], sink.clone());
    let view = manager.view();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(manager.run(rx));
    let has = |pred: &dyn Fn(&(Labels, i64, f64)) -> bool| sink.0.lock().unwrap().iter().any(pred);
    for _ in 0..100 {
        if has(&|(l, _, v)| l.metric_name() == Some("g") && l.get("team") == Some("a") && *v == 1.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(has(&|(l, _, v)| l.metric_name() == Some("up")
        && l.get("job") == Some("sd")
        && *v == 1.0));
    let v = view();
    assert_eq!(v.active.len(), 1);
    assert_eq!(v.active[0].health, "up");
    let md = &v.metadata["g"][0];
    assert_eq!((md.kind, md.help.as_str()), ("gauge", "A gauge."));
    assert_eq!(
        v.active[0].discovered["__meta_filepath"],
        sd.display().to_string()
    );
    // The file empties: the target goes and its series get stale markers.
    std::fs::write(&sd, "[]").unwrap();
    for _ in 0..100 {
        if has(&|(l, _, v)| l.metric_name() == Some("g") && is_stale_nan(*v)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(has(
        &|(l, _, v)| l.metric_name() == Some("g") && is_stale_nan(*v)
    ));
    assert!(has(
        &|(l, _, v)| l.metric_name() == Some("up") && is_stale_nan(*v)
    ));
    assert!(view().active.is_empty());
    tx.send(true).unwrap();
    task.await.unwrap();
}

#[test]
fn gantry_yml_scrape_configs_become_checked_configs_with_positions() {
    let yml = "version: 1
monitoring:
  scrape-interval: 5s
scrape_configs:
  - job_name: ok
    static_configs:
      - targets: [a:1]
    relabel_configs:
      - source_labels: [__address__]
        target_label: x
  - job_name: broken
    relabel_configs:
      - action: hashmod
        target_label: h
";
    let config = gantry_config::load_str("gantry.yml", yml).unwrap();
    let diags = gantry_monitor::scrape::from_config(&config).unwrap_err();
    assert_eq!(diags.len(), 1);
    let shown = diags[0].render(yml);
    assert!(
        shown.contains("relabel configuration for hashmod requires non-zero modulus"),
        "{shown}"
    );
    assert!(shown.contains("gantry.yml:13:9"), "{shown}");
    let ok = gantry_config::load_str(
        "gantry.yml",
        &yml[..yml.find("  - job_name: broken").unwrap()],
    )
    .unwrap();
    let jobs = gantry_monitor::scrape::from_config(&ok).unwrap();
    assert_eq!(jobs[0].scrape_interval, Duration::from_secs(5));
    // The default timeout (10s) is capped at the interval.
    assert_eq!(jobs[0].scrape_timeout, Duration::from_secs(5));
    assert_eq!(jobs[0].relabel_configs.len(), 1);
}

#[test]
fn durations_print_as_prometheus_prints_them() {
    use gantry_monitor::scrape::format_duration as f;
    assert_eq!(f(Duration::from_secs(15 * 86_400)), "15d");
    assert_eq!(f(Duration::from_secs(14 * 86_400)), "2w");
    assert_eq!(f(Duration::from_secs(365 * 86_400)), "1y");
    assert_eq!(f(Duration::from_secs(90)), "1m30s");
    assert_eq!(f(Duration::from_millis(1500)), "1s500ms");
    assert_eq!(f(Duration::ZERO), "0s");
}
