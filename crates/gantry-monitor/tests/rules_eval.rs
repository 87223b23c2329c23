//! Rule evaluation at exact timestamps: recording results, alert states
//! pending → firing → (kept firing) → resolved, `ALERTS` and
//! `ALERTS_FOR_STATE`, templates, staleness and Prometheus's errors.

use std::collections::BTreeMap;
use std::time::Duration;

use gantry_monitor::labels::Labels;
use gantry_monitor::promql::Engine;
use gantry_monitor::rules::eval::{AlertState, Group};
use gantry_monitor::scrape::is_stale_nan;
use gantry_monitor::tsdb::head::Head;

const RULES: &str = r#"
groups:
  - name: g
    interval: 15s
    rules:
      - record: job:errors:sum
        expr: sum by (job) (errors)
      - alert: HighErrors
        expr: errors > 5
        for: 1m
        keep_firing_for: 30s
        labels:
          severity: page
          where: "{{ $labels.instance }}"
        annotations:
          summary: "{{ $labels.instance }} has {{ $value }} errors"
"#;

fn head() -> Head {
    let mut h = Head::new();
    let l = Labels::new([("__name__", "errors"), ("job", "api"), ("instance", "a")]);
    for i in 0..=40 {
        let t = i * 15_000;
        let v = if (60_000..180_000).contains(&t) {
            10.0
        } else {
            0.0
        };
        h.append_labels(&l, t, v).unwrap();
    }
    h
}

fn group() -> Group {
    let file = gantry_config::rules::load_rule_file("rules.yml", RULES).unwrap();
    Group::from_config("rules.yml", &file.groups[0], Duration::from_secs(60))
}

#[test]
fn alerts_go_pending_firing_kept_and_resolved_at_the_right_evaluations() {
    let h = head();
    let e = Engine::default();
    let mut g = group();
    assert_eq!(g.interval, Duration::from_secs(15));
    let ext = BTreeMap::new();
    let mut states = Vec::new();
    let mut outputs = BTreeMap::new();
    for i in 0..=20 {
        let ts = i * 15_000;
        let out = g.eval(&e, &h, ts, &ext);
        assert!(
            g.rules.iter().all(|r| r.last_error.is_none()),
            "{:?}",
            g.rules[1].last_error
        );
        let alerts = g.rules[1].alerts();
        states.push((ts / 1000, alerts.first().map(|a| a.state)));
        outputs.insert(ts / 1000, out);
    }
    let at = |s: i64| states.iter().find(|(t, _)| *t == s).unwrap().1;
    assert_eq!(at(45), None);
    assert_eq!(at(60), Some(AlertState::Pending));
    assert_eq!(at(105), Some(AlertState::Pending));
    assert_eq!(at(120), Some(AlertState::Firing));
    assert_eq!(at(165), Some(AlertState::Firing));
    // The condition clears at 180 s; keep_firing_for holds it 30 s more.
    assert_eq!(at(180), Some(AlertState::Firing));
    assert_eq!(at(195), Some(AlertState::Firing));
    assert_eq!(at(210), Some(AlertState::Inactive));
    let alert = g.rules[1].alerts()[0].clone();
    assert_eq!(alert.active_at, 60_000);
    assert_eq!(alert.fired_at, Some(120_000));
    assert_eq!(alert.resolved_at, Some(210_000));
    assert_eq!(alert.annotations["summary"], "a has 10 errors");
    assert_eq!(
        alert.labels.to_string(),
        r#"{alertname="HighErrors", instance="a", job="api", severity="page", where="a"}"#
    );

    let series = |t: i64, name: &str| -> Vec<(String, f64)> {
        outputs[&t]
            .iter()
            .filter(|(l, _, _)| l.metric_name() == Some(name))
            .map(|(l, _, v)| (l.to_string(), *v))
            .collect()
    };
    let alerts_at_120: Vec<_> = series(120, "ALERTS")
        .into_iter()
        .filter(|(_, v)| !is_stale_nan(*v))
        .collect();
    assert_eq!(alerts_at_120.len(), 1);
    assert!(
        alerts_at_120[0].0.contains(r#"alertstate="firing""#),
        "{alerts_at_120:?}"
    );
    assert_eq!(series(120, "ALERTS_FOR_STATE")[0].1, 60.0);
    assert!(series(90, "ALERTS")[0].0.contains("pending"));
    // When an alert leaves a state its ALERTS series goes stale.
    let stale: Vec<_> = outputs[&120]
        .iter()
        .filter(|(_, _, v)| is_stale_nan(*v))
        .collect();
    assert_eq!(stale.len(), 1, "the pending series ends: {stale:?}");
    let at_210 = series(210, "ALERTS");
    assert!(
        !at_210.is_empty() && at_210.iter().all(|(_, v)| is_stale_nan(*v)),
        "{at_210:?}"
    );
    assert_eq!(
        series(150, "job:errors:sum"),
        vec![(r#"job:errors:sum{job="api"}"#.to_string(), 10.0)]
    );

    // Resolved alerts are listed for 15 minutes, then dropped.
    let _ = g.eval(&e, &h, 210_000 + 15 * 60_000 + 15_000, &ext);
    assert!(g.rules[1].alerts().is_empty());
}

#[test]
fn a_condition_that_clears_while_pending_never_fires() {
    let mut h = Head::new();
    let l = Labels::new([("__name__", "errors"), ("job", "api"), ("instance", "b")]);
    for (t, v) in [(0, 10.0), (15_000, 10.0), (30_000, 0.0), (45_000, 0.0)] {
        h.append_labels(&l, t, v).unwrap();
    }
    let e = Engine::default();
    let mut g = group();
    let ext = BTreeMap::new();
    g.eval(&e, &h, 0, &ext);
    assert_eq!(g.rules[1].alerts()[0].state, AlertState::Pending);
    g.eval(&e, &h, 30_000, &ext);
    assert!(g.rules[1].alerts().is_empty());
}

#[test]
fn rule_errors_are_kept_on_the_rule() {
    let yml = r#"
groups:
  - name: g
    limit: 1
    rules:
      - record: dup
        expr: errors
        labels:
          instance: x
      - record: many
        expr: errors
      - alert: BadTemplate
        expr: errors > 0
        annotations:
          summary: "{{ nope $value }}"
"#;
    let mut h = Head::new();
    for i in ["a", "b"] {
        let l = Labels::new([("__name__", "errors"), ("instance", i)]);
        h.append_labels(&l, 0, 1.0).unwrap();
    }
    let file = gantry_config::rules::load_rule_file("r.yml", yml).unwrap();
    let mut g = Group::from_config("r.yml", &file.groups[0], Duration::from_secs(60));
    let out = g.eval(&Engine::default(), &h, 1000, &BTreeMap::new());
    assert!(out.is_empty());
    let errs: Vec<_> = g
        .rules
        .iter()
        .map(|r| r.last_error.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        errs[0],
        "vector contains metrics with the same labelset after applying rule labels"
    );
    assert_eq!(errs[1], "exceeded limit of 1 with 2 series");
    assert!(errs[2].contains("not defined"), "{}", errs[2]);
}

#[test]
fn a_restart_keeps_how_long_an_alert_has_been_pending() {
    // Before the restart the alert had been pending since 30 s, and the
    // old server wrote ALERTS_FOR_STATE = 30 until 75 s.
    let mut h = head_with(&[
        (0, 0.0),
        (15_000, 0.0),
        (30_000, 10.0),
        (45_000, 10.0),
        (60_000, 10.0),
        (75_000, 10.0),
        (90_000, 10.0),
    ]);
    let state = Labels::new([
        ("__name__", "ALERTS_FOR_STATE"),
        ("alertname", "HighErrors"),
        ("instance", "a"),
        ("job", "api"),
        ("severity", "page"),
        ("where", "a"),
    ]);
    for t in [30_000, 45_000, 60_000, 75_000] {
        h.append_labels(&state, t, 30.0).unwrap();
    }
    let e = Engine::default();
    let ext = BTreeMap::new();
    // A fresh group (the new process) sees the alert for the first time at 90 s.
    let mut g = group();
    g.eval(&e, &h, 90_000, &ext);
    assert_eq!(g.rules[1].alerts()[0].active_at, 90_000);
    g.restore_for_state(&e, &h, 90_000);
    assert_eq!(g.rules[1].alerts()[0].active_at, 30_000);
    // 90 s after it became active (for: 1m): firing at the next evaluation.
    g.eval(&e, &h, 90_000 + 15_000, &ext);
    assert_eq!(g.rules[1].alerts()[0].state, AlertState::Firing);
}

fn head_with(points: &[(i64, f64)]) -> Head {
    let mut h = Head::new();
    let l = Labels::new([("__name__", "errors"), ("job", "api"), ("instance", "a")]);
    for &(t, v) in points {
        h.append_labels(&l, t, v).unwrap();
    }
    h
}
