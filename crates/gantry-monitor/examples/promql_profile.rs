//! Evaluates the tsdb benchmark's queries against an in-memory head filled
//! with the same synthetic workload (`BENCH_SERIES` series, half counters,
//! half gauges, 15 s interval, `BENCH_HOURS` hours), printing the median
//! time of each. For profiling the evaluator without HTTP in the way:
//! `cargo run --release -p gantry-monitor --example promql_profile`.

use std::time::Instant;

use gantry_monitor::labels::Labels;
use gantry_monitor::promql::{Engine, EngineOptions};
use gantry_monitor::tsdb::head::Head;

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let series = env("BENCH_SERIES", 10_000);
    let hours = env("BENCH_HOURS", 4);
    let runs = env("BENCH_RUNS", 10) as usize;
    let step = 15_000i64;
    let steps = hours * 3600 * 1000 / step;
    let start = 1_700_000_000_000i64;
    let mut head = Head::new();
    let mut refs = Vec::new();
    for i in 0..series {
        let counter = i % 2 == 0;
        let name = if counter {
            "bench_requests_total"
        } else {
            "bench_latency_seconds"
        };
        let labels = Labels::new([
            ("__name__", name.to_string()),
            ("job", format!("job-{}", i % 10)),
            ("instance", format!("host-{}:9100", (i / 2) % 500)),
            ("series", format!("{}", i / 1000)),
        ]);
        let (r, _) = head.get_or_create(&labels).expect("series");
        refs.push((r, counter, i));
    }
    let t0 = Instant::now();
    for k in 0..steps {
        let t = start + k * step;
        for &(r, counter, i) in &refs {
            let v = if counter {
                (k * (1 + i % 7)) as f64
            } else {
                ((k + i) % 100) as f64 / 100.0
            };
            head.append(r, t, v).expect("append");
        }
    }
    let end = start + (steps - 1) * step;
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<i64>().ok()
        })
        .unwrap_or(0);
    eprintln!(
        "loaded {} samples in {:.2?}; RSS {rss_kib} KiB = {} bytes per series, of which chunks {}",
        series * steps,
        t0.elapsed(),
        rss_kib * 1024 / series,
        head.chunk_bytes() as i64 / series,
    );
    let engine = Engine::new(EngineOptions::default());
    let queries: &[(&str, &str, bool)] = &[
        (
            "rate over counters",
            "sum(rate(bench_requests_total[5m]))",
            false,
        ),
        ("sum by", "sum by (job) (bench_latency_seconds)", false),
        ("topk", "topk(5, bench_latency_seconds)", false),
        (
            "avg_over_time",
            "avg(avg_over_time(bench_latency_seconds[10m]))",
            false,
        ),
        (
            "selector",
            r#"bench_latency_seconds{job="job-3", instance="host-7:9100"}"#,
            false,
        ),
        (
            "regex",
            r#"count(bench_requests_total{instance=~"host-1.*"})"#,
            false,
        ),
        (
            "increase by",
            "sum by (instance) (increase(bench_requests_total[15m]))",
            false,
        ),
        ("quantile", "quantile(0.9, bench_latency_seconds)", false),
        (
            "binary",
            "sum(bench_requests_total) / count(bench_requests_total)",
            false,
        ),
        (
            "1h range",
            "sum by (job) (rate(bench_requests_total[5m]))",
            true,
        ),
    ];
    let only = std::env::var("BENCH_QUERY").ok();
    for (name, q, range) in queries {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            if *range {
                let r = engine
                    .range_query(&head, q, end - 3_600_000, end, 60_000)
                    .expect("query");
                std::hint::black_box(r);
            } else {
                let r = engine.instant_query(&head, q, end).expect("query");
                std::hint::black_box(r);
            }
            times.push(t.elapsed());
        }
        times.sort();
        println!("{name:>20}: p50 {:>10.2?}", times[times.len() / 2]);
    }
}
