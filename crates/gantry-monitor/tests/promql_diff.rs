//! Differential test: the same samples in real Prometheus 2.42 (blocks
//! built by `promtool tsdb create-blocks-from openmetrics`) and in our
//! head (the same OpenMetrics file through `exposition::parse`), then
//! hundreds of instant and range queries on both. Label sets must match
//! exactly and values within 1e-9 relative; a mismatch prints both answers.
//!
//! Needs the Debian package `prometheus` (scripts/test installs it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gantry_monitor::exposition::{Format, parse};
use gantry_monitor::labels::Labels;
use gantry_monitor::promql::{Engine, QueryError, Value};
use gantry_monitor::tsdb::Series;
use gantry_monitor::tsdb::head::Head;
use serde_json::Value as Json;

/// Start of the data, in seconds.
const T0: i64 = 1_700_000_000;
/// Two hours of samples.
const SPAN: i64 = 7200;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Three decimals keep the file readable; values stay exact either way.
fn r3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn fmt_ts(ms: i64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

struct Family {
    name: &'static str,
    series: Vec<(String, Vec<(i64, f64)>)>,
}

fn labels_text(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(","))
}

/// Timestamps (ms) every 15 s with a per-series phase, optionally with gaps.
fn times(phase_ms: i64, keep: impl Fn(i64) -> bool) -> Vec<i64> {
    (0..SPAN / 15)
        .map(|i| (T0 + i * 15) * 1000 + phase_ms)
        .filter(|t| keep(*t / 1000 - T0))
        .collect()
}

fn dataset() -> String {
    let mut rng = Rng(42);
    let mut fams: Vec<Family> = Vec::new();

    // Counters with resets.
    let mut f = Family {
        name: "http_requests_total",
        series: vec![],
    };
    let mut phase = 0;
    for job in ["api", "web"] {
        for instance in ["i1", "i2"] {
            for method in ["get", "post"] {
                for code in ["200", "500"] {
                    if code == "500" && method == "post" {
                        continue;
                    }
                    phase += 1370;
                    let mut v = r3(rng.next() * 100.0);
                    let reset_at = (rng.next() * SPAN as f64) as i64;
                    let pts = times(phase % 15000, |_| true)
                        .into_iter()
                        .map(|t| {
                            let s = t / 1000 - T0;
                            if s >= reset_at && s < reset_at + 15 {
                                v = r3(rng.next() * 5.0);
                            } else {
                                v = r3(v + rng.next() * if code == "500" { 0.5 } else { 12.0 });
                            }
                            (t, v)
                        })
                        .collect();
                    f.series.push((
                        labels_text(&[
                            ("code", code),
                            ("instance", instance),
                            ("job", job),
                            ("method", method),
                        ]),
                        pts,
                    ));
                }
            }
        }
    }
    fams.push(f);

    // Gauges: a random walk per instance and zone.
    let mut f = Family {
        name: "cpu_temp",
        series: vec![],
    };
    for (i, instance) in ["i1", "i2", "i3"].iter().enumerate() {
        for zone in ["a", "b"] {
            let mut v = 40.0 + 10.0 * rng.next();
            let pts = times(i as i64 * 2500, |_| true)
                .into_iter()
                .map(|t| {
                    v = r3(v + (rng.next() - 0.5) * 3.0);
                    (t, v)
                })
                .collect();
            f.series
                .push((labels_text(&[("instance", instance), ("zone", zone)]), pts));
        }
    }
    fams.push(f);

    // Signed values, and one account that is exactly zero sometimes.
    let mut f = Family {
        name: "balance",
        series: vec![],
    };
    for (i, account) in ["a1", "a2", "a3"].iter().enumerate() {
        let mut v = (rng.next() - 0.5) * 100.0;
        let pts = times(i as i64 * 700, |_| true)
            .into_iter()
            .map(|t| {
                v = if i == 2 && (t / 1000) % 600 < 120 {
                    0.0
                } else {
                    r3(v + (rng.next() - 0.5) * 20.0)
                };
                (t, v)
            })
            .collect();
        f.series.push((labels_text(&[("account", account)]), pts));
    }
    fams.push(f);

    // A classic histogram's cumulative buckets, count and sum.
    let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"];
    let mut buckets = Family {
        name: "req_latency_seconds_bucket",
        series: vec![],
    };
    let mut counts = Family {
        name: "req_latency_seconds_count",
        series: vec![],
    };
    let mut sums = Family {
        name: "req_latency_seconds_sum",
        series: vec![],
    };
    for (j, job) in ["api", "web"].iter().enumerate() {
        let ts = times(j as i64 * 4000, |_| true);
        let mut cum = vec![0.0; bounds.len()];
        let mut sum = 0.0;
        let mut per_bucket: Vec<Vec<(i64, f64)>> = vec![vec![]; bounds.len()];
        let mut count_pts = vec![];
        let mut sum_pts = vec![];
        for &t in &ts {
            let n = (rng.next() * 20.0) as usize;
            for _ in 0..n {
                let x = rng.next().powi(2) * 1.5;
                sum += x;
                for (b, bound) in bounds.iter().enumerate() {
                    let ub: f64 = if *bound == "+Inf" {
                        f64::INFINITY
                    } else {
                        bound.parse().unwrap()
                    };
                    if x <= ub {
                        cum[b] += 1.0;
                    }
                }
            }
            for b in 0..bounds.len() {
                per_bucket[b].push((t, cum[b]));
            }
            count_pts.push((t, cum[bounds.len() - 1]));
            sum_pts.push((t, r3(sum)));
        }
        for (b, bound) in bounds.iter().enumerate() {
            buckets.series.push((
                labels_text(&[("job", job), ("le", bound)]),
                per_bucket[b].clone(),
            ));
        }
        counts
            .series
            .push((labels_text(&[("job", job)]), count_pts));
        sums.series.push((labels_text(&[("job", job)]), sum_pts));
    }
    fams.push(buckets);
    fams.push(counts);
    fams.push(sums);

    // Series with gaps longer than the lookback, and one that ends early.
    let mut f = Family {
        name: "flaky_up",
        series: vec![],
    };
    f.series.push((
        labels_text(&[("instance", "i1")]),
        times(0, |s| !(3000..5000).contains(&s))
            .into_iter()
            .map(|t| (t, 1.0))
            .collect(),
    ));
    f.series.push((
        labels_text(&[("instance", "i2")]),
        times(500, |s| s < 5400)
            .into_iter()
            .map(|t| (t, if (t / 1000) % 900 < 450 { 1.0 } else { 0.0 }))
            .collect(),
    ));
    fams.push(f);

    let mut f = Family {
        name: "const_metric",
        series: vec![],
    };
    f.series.push((
        labels_text(&[("a", "x")]),
        times(0, |_| true).into_iter().map(|t| (t, 42.0)).collect(),
    ));
    fams.push(f);

    // Info-style series for group_left and label functions.
    let mut f = Family {
        name: "node_meta",
        series: vec![],
    };
    for (instance, region, version) in [
        ("i1", "eu", "v1.2.3"),
        ("i2", "us", "v1.10.0"),
        ("i3", "eu", "v2.0.1"),
    ] {
        f.series.push((
            labels_text(&[
                ("instance", instance),
                ("path", "/srv/app-data"),
                ("region", region),
                ("version", version),
            ]),
            times(100, |_| true).into_iter().map(|t| (t, 1.0)).collect(),
        ));
    }
    fams.push(f);

    for name in ["mem_used", "mem_free"] {
        let mut f = Family {
            name,
            series: vec![],
        };
        for instance in ["i1", "i2", "i3"] {
            let pts = times(300, |_| true)
                .into_iter()
                .map(|t| (t, r3(1000.0 + rng.next() * 4000.0)))
                .collect();
            f.series.push((labels_text(&[("instance", instance)]), pts));
        }
        fams.push(f);
    }

    // Unix times spread over years, for the date functions.
    let mut f = Family {
        name: "event_time",
        series: vec![],
    };
    for (k, instance) in ["i1", "i2"].iter().enumerate() {
        let pts = times(0, |_| true)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let secs =
                    951_782_400 + (i as i64 * 86_400 * 13 + k as i64 * 3_599_777) % 1_200_000_000;
                (t, secs as f64)
            })
            .collect();
        f.series.push((labels_text(&[("instance", instance)]), pts));
    }
    fams.push(f);

    // Gauges with NaN values now and then.
    let mut f = Family {
        name: "nan_gauge",
        series: vec![],
    };
    for (k, instance) in ["i1", "i2", "i3"].iter().enumerate() {
        let pts = times(k as i64 * 1000, |_| true)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let v = if (i + k) % 7 == 0 {
                    f64::NAN
                } else {
                    r3(rng.next() * 10.0)
                };
                (t, v)
            })
            .collect();
        f.series.push((labels_text(&[("instance", instance)]), pts));
    }
    fams.push(f);

    let mut out = String::new();
    for f in fams {
        out.push_str(&format!("# TYPE {} gauge\n", f.name));
        for (labels, pts) in &f.series {
            for (t, v) in pts {
                out.push_str(&format!("{}{} {} {}\n", f.name, labels, v, fmt_ts(*t)));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Every expression of the differential run.
fn expressions() -> Vec<&'static str> {
    vec![
        // Selectors, lookback, offset, @.
        "http_requests_total",
        "http_requests_total{job=\"api\"}",
        "http_requests_total{job!=\"api\",method=~\"g.*\"}",
        "http_requests_total{code!~\"2..\"}",
        "{__name__=~\"mem_.*\"}",
        "{__name__=~\"mem_.*\", instance=\"i2\"}",
        "cpu_temp offset 5m",
        "cpu_temp offset -2m",
        "cpu_temp @ 1700003000",
        "cpu_temp @ 1700003000 offset 10m",
        "cpu_temp @ start()",
        "cpu_temp @ end()",
        "flaky_up",
        "flaky_up offset 1h",
        "cpu_temp[2m]",
        "cpu_temp[1m] offset 3m",
        "http_requests_total{instance=\"i1\"}[45s] @ 1700004000",
        "nonexistent_metric",
        "nonexistent_metric[5m]",
        // Literals and scalar arithmetic.
        "1",
        "-2.5",
        "1 + 2 * 3",
        "2 ^ 3 ^ 2",
        "7 % 3",
        "-7 % 3",
        "1 / 0",
        "-1 / 0",
        "0 / 0",
        "1 == bool 1",
        "2 > bool 3",
        "\"a string\"",
        "time()",
        "pi()",
        "2 atan2 3",
        // Unary.
        "-cpu_temp",
        "-(-balance)",
        // Vector/scalar arithmetic and comparison.
        "cpu_temp * 2",
        "2 * cpu_temp",
        "cpu_temp / 0",
        "balance % 7",
        "balance ^ 2",
        "100 - cpu_temp",
        "cpu_temp > 45",
        "45 < cpu_temp",
        "cpu_temp >= bool 45",
        "45 >= bool cpu_temp",
        "balance == 0",
        "balance != bool 0",
        "cpu_temp <= 44",
        "balance atan2 3",
        // Vector/vector arithmetic.
        "mem_used + mem_free",
        "mem_used / (mem_used + mem_free)",
        "mem_used - on(instance) mem_free",
        "mem_used * ignoring(foo) mem_free",
        "mem_used > mem_free",
        "mem_used > bool mem_free",
        "mem_used == bool on(instance) mem_free",
        "cpu_temp - on(instance, zone) cpu_temp offset 5m",
        "cpu_temp / ignoring(zone) group_left node_meta",
        "cpu_temp * on(instance) group_left(region, version) node_meta",
        "node_meta * on(instance) group_right(region) cpu_temp",
        "node_meta + on(instance) group_right cpu_temp",
        "cpu_temp > on(instance) group_left max by(instance) (cpu_temp) - 1",
        "http_requests_total / on(job, instance, method) group_left sum by(job, instance, method) (http_requests_total)",
        "sum by(job) (http_requests_total) / on(job) group_right sum by(job, code) (http_requests_total)",
        "cpu_temp + on(instance) node_meta",
        "cpu_temp + node_meta",
        "mem_used + on() group_left sum(mem_free)",
        "mem_used atan2 mem_free",
        // Set operators.
        "cpu_temp and on(instance) node_meta{region=\"eu\"}",
        "cpu_temp and cpu_temp > 45",
        "cpu_temp or node_meta",
        "mem_used or on(instance) mem_free",
        "mem_used or mem_free",
        "cpu_temp unless cpu_temp > 45",
        "cpu_temp unless on(instance) node_meta{region=\"us\"}",
        "node_meta unless ignoring(path, region, version) cpu_temp",
        "flaky_up or vector(0)",
        "(cpu_temp > 44) and ignoring(zone) (cpu_temp < 46)",
        "http_requests_total and on(code) http_requests_total{code=\"500\"}",
        // Matching errors.
        "cpu_temp + on(instance) cpu_temp",
        "cpu_temp + on(zone) group_left node_meta",
        "node_meta * on(region) group_right cpu_temp",
        "http_requests_total + ignoring(method) http_requests_total",
        // Aggregations.
        "sum(http_requests_total)",
        "sum by(job) (http_requests_total)",
        "sum without(instance, method) (http_requests_total)",
        "sum by(__name__) ({__name__=~\"mem_.*\"})",
        "avg(cpu_temp)",
        "avg by(zone) (cpu_temp)",
        "min(cpu_temp)",
        "max by(instance) (cpu_temp)",
        "min without(zone) (cpu_temp)",
        "count(cpu_temp)",
        "count by(job) (http_requests_total)",
        "group by(job, code) (http_requests_total)",
        "group(cpu_temp)",
        "stddev(cpu_temp)",
        "stdvar by(zone) (cpu_temp)",
        "stddev without(instance) (balance)",
        "topk(3, cpu_temp)",
        "topk by(zone) (1, cpu_temp)",
        "bottomk(2, cpu_temp)",
        "bottomk without(zone) (1, cpu_temp)",
        "topk(0, cpu_temp)",
        "topk(100, balance)",
        "quantile(0.5, cpu_temp)",
        "quantile by(zone) (0.9, cpu_temp)",
        "quantile(0, balance)",
        "quantile(1.5, balance)",
        "quantile(-1, balance)",
        "count_values(\"value\", flaky_up)",
        "count_values by(zone) (\"temp\", round(cpu_temp))",
        "count_values without(instance) (\"v\", node_meta)",
        "sum(rate(http_requests_total[5m])) by (job)",
        "max(max_over_time(cpu_temp[10m]))",
        "sum(nonexistent_metric)",
        "count(nonexistent_metric)",
        // Rates and counter functions.
        "rate(http_requests_total[5m])",
        "rate(http_requests_total[1m])",
        "rate(http_requests_total[20s])",
        "rate(http_requests_total[1h])",
        "rate(http_requests_total[5m] offset 10m)",
        "rate(http_requests_total[5m] @ 1700004000)",
        "increase(http_requests_total[5m])",
        "increase(http_requests_total[15m])",
        "delta(cpu_temp[5m])",
        "delta(balance[10m])",
        "irate(http_requests_total[5m])",
        "idelta(cpu_temp[5m])",
        "idelta(balance[1m])",
        "changes(flaky_up[30m])",
        "changes(balance[10m])",
        "resets(http_requests_total[2h])",
        "resets(cpu_temp[10m])",
        "deriv(cpu_temp[10m])",
        "deriv(const_metric[10m])",
        "deriv(http_requests_total[5m])",
        "predict_linear(cpu_temp[10m], 600)",
        "predict_linear(balance[30m], 3600)",
        "predict_linear(const_metric[5m], 100)",
        "rate(flaky_up[10m])",
        // *_over_time.
        "avg_over_time(cpu_temp[10m])",
        "min_over_time(balance[10m])",
        "max_over_time(balance[10m])",
        "sum_over_time(cpu_temp[3m])",
        "count_over_time(flaky_up[10m])",
        "count_over_time(http_requests_total[1m])",
        "quantile_over_time(0.9, cpu_temp[10m])",
        "quantile_over_time(0.25, balance[30m])",
        "stddev_over_time(cpu_temp[10m])",
        "stdvar_over_time(balance[10m])",
        "last_over_time(cpu_temp[5m])",
        "last_over_time(flaky_up[10m])",
        "present_over_time(flaky_up[10m])",
        "absent_over_time(flaky_up{instance=\"i1\"}[10m])",
        "absent_over_time(nonexistent_metric{job=\"x\"}[5m])",
        "absent_over_time(nonexistent_metric{job=\"x\",job=\"y\",a=~\"b\"}[5m])",
        // Subqueries.
        "max_over_time(rate(http_requests_total[5m])[30m:1m])",
        "avg_over_time(cpu_temp[10m:30s])",
        "min_over_time(cpu_temp[10m:])",
        "rate(http_requests_total[5m:1m])",
        "deriv(sum(cpu_temp)[20m:2m])",
        "max_over_time(cpu_temp[10m:1m] offset 5m)",
        "sum_over_time(sum by(job) (http_requests_total)[15m:5m])",
        "count_over_time((cpu_temp > 45)[20m:1m])",
        "max_over_time(deriv(cpu_temp[5m])[15m:1m] @ 1700005000)",
        "cpu_temp[10m:2m]",
        "sum(cpu_temp)[5m:1m]",
        "absent_over_time(nonexistent_metric[5m:1m])",
        "quantile_over_time(0.5, rate(http_requests_total[2m])[20m:1m])",
        // Math functions.
        "abs(balance)",
        "ceil(cpu_temp)",
        "floor(balance)",
        "exp(cpu_temp / 10)",
        "sqrt(cpu_temp)",
        "sqrt(balance)",
        "ln(cpu_temp)",
        "ln(balance)",
        "log2(mem_used)",
        "log10(mem_free)",
        "sgn(balance)",
        "round(cpu_temp)",
        "round(cpu_temp, 0.5)",
        "round(balance, 5)",
        "clamp(cpu_temp, 42, 48)",
        "clamp(cpu_temp, 50, 40)",
        "clamp_max(balance, 0)",
        "clamp_min(balance, 0)",
        "abs(-const_metric)",
        // Date functions.
        "day_of_month(event_time)",
        "day_of_week(event_time)",
        "day_of_year(event_time)",
        "days_in_month(event_time)",
        "hour(event_time)",
        "minute(event_time)",
        "month(event_time)",
        "year(event_time)",
        "year()",
        "month()",
        "day_of_month()",
        "day_of_week()",
        "hour()",
        "minute()",
        "days_in_month()",
        "day_of_year()",
        // Other functions.
        "timestamp(cpu_temp)",
        "timestamp(flaky_up)",
        "timestamp(cpu_temp offset 5m)",
        "timestamp(sum(cpu_temp))",
        "timestamp(cpu_temp @ 1700003333)",
        "vector(1)",
        "vector(time())",
        "scalar(const_metric)",
        "scalar(cpu_temp)",
        "scalar(sum(cpu_temp)) * 2",
        "cpu_temp * scalar(const_metric)",
        "absent(nonexistent_metric)",
        "absent(nonexistent_metric{job=\"a\", instance=~\"x\"})",
        "absent(cpu_temp)",
        "absent(flaky_up{instance=\"i2\"})",
        "sort(cpu_temp)",
        "sort_desc(balance)",
        "sort_desc(sum by(job) (http_requests_total))",
        "histogram_quantile(0.9, req_latency_seconds_bucket)",
        "histogram_quantile(0.5, rate(req_latency_seconds_bucket[5m]))",
        "histogram_quantile(0.99, sum by(le) (rate(req_latency_seconds_bucket[10m])))",
        "histogram_quantile(0, req_latency_seconds_bucket)",
        "histogram_quantile(1, req_latency_seconds_bucket)",
        "histogram_quantile(1.5, req_latency_seconds_bucket)",
        "histogram_quantile(0.5, req_latency_seconds_bucket{le!=\"+Inf\"})",
        "rate(req_latency_seconds_sum[5m]) / rate(req_latency_seconds_count[5m])",
        "label_replace(node_meta, \"major\", \"$1\", \"version\", \"v(\\\\d+)\\\\..*\")",
        "label_replace(node_meta, \"instance\", \"host-$1\", \"instance\", \"i(.*)\")",
        "label_replace(node_meta, \"nomatch\", \"x\", \"version\", \"zzz\")",
        "label_replace(node_meta, \"region\", \"\", \"region\", \".*\")",
        "label_replace(cpu_temp, \"foo\", \"$1-$2\", \"zone\", \"(a)|(b)\")",
        "label_join(node_meta, \"joined\", \"/\", \"region\", \"version\")",
        "label_join(node_meta, \"instance\", \"-\", \"instance\", \"region\")",
        "label_join(cpu_temp, \"empty\", \",\", \"nothere\")",
        "label_replace(cpu_temp, \"zone\", \"same\", \"zone\", \".*\")",
        // Metric-name handling and duplicate label sets.
        "abs({__name__=~\"mem_.*\"})",
        "last_over_time({__name__=~\"mem_.*\"}[5m])",
        "{__name__=~\"mem_.*\"} * 1",
        "{__name__=~\"mem_.*\"} > 0",
        // Combinations.
        "sum by(job) (rate(http_requests_total{code=\"500\"}[5m])) / sum by(job) (rate(http_requests_total[5m]))",
        "topk(2, sum by(instance) (rate(http_requests_total[5m])))",
        "avg_over_time(sum by(zone) (cpu_temp)[30m:5m])",
        "max by(region) (cpu_temp * on(instance) group_left(region) node_meta)",
        "count(count by(version) (node_meta))",
        "sum(flaky_up) or vector(0)",
        "1 - avg without(zone) (cpu_temp) / 100",
        "(mem_used / (mem_used + mem_free)) * 100 > 50",
        "increase(http_requests_total[10m]) > bool 100",
        "abs(delta(cpu_temp[15m])) > 1",
        "sum(changes(balance[30m])) by (account)",
        "quantile(0.5, rate(http_requests_total[5m]))",
        "stddev_over_time(rate(http_requests_total[1m])[10m:1m])",
        "resets(http_requests_total[1h]) > 0",
        "time() - timestamp(cpu_temp)",
        "hour(timestamp(cpu_temp))",
        "minute(vector(time()))",
        "-cpu_temp offset 1m + cpu_temp",
        "sum(cpu_temp @ 1700002000) - sum(cpu_temp)",
        "rate(http_requests_total[5m] @ end())",
        "last_over_time(balance[10m] @ start())",
        "group_left_bad_name_is_fine + 1",
        // NaN values.
        "nan_gauge",
        "max(nan_gauge)",
        "min(nan_gauge)",
        "sum(nan_gauge)",
        "avg(nan_gauge)",
        "count(nan_gauge)",
        "nan_gauge > 5",
        "nan_gauge == bool nan_gauge",
        "max_over_time(nan_gauge[1m])",
        "min_over_time(nan_gauge[1m])",
        "sum_over_time(nan_gauge[1m])",
        "changes(nan_gauge[2m])",
        "count_values(\"v\", nan_gauge)",
        "clamp(nan_gauge, 2, 8)",
        "clamp_min(nan_gauge, 5)",
        "sort_desc(nan_gauge)",
        "sort(nan_gauge)",
        "quantile(0.5, nan_gauge)",
        "quantile_over_time(0.5, nan_gauge[1m])",
        "stddev(nan_gauge)",
        // More @, nesting and precedence.
        // Instant only: see INSTANT_ONLY.
        "predict_linear(cpu_temp[10m] @ 1700004000, 600)",
        "hour(event_time @ 1700004000)",
        "absent(nonexistent_metric{job=\"q\"} @ 1700000000)",
        "max_over_time(max_over_time(cpu_temp[5m:1m])[20m:5m])",
        "avg_over_time(rate(http_requests_total[2m] @ 1700003000)[10m:1m])",
        "sum_over_time(cpu_temp[10m:1m] @ 1700006000 offset 5m)",
        "rate(http_requests_total[5m:30s] @ start())",
        "timestamp(cpu_temp[5m:1m])",
        "timestamp(last_over_time(cpu_temp[5m]))",
        "scalar(vector(1)) + vector(scalar(const_metric))",
        "-time() + 1",
        "1 - -1",
        "2 * -cpu_temp",
        "50 > bool cpu_temp",
        "1e308 * 10",
        "sgn(vector(-0))",
        "histogram_quantile(0.75, sum by(job, le) (rate(req_latency_seconds_bucket[5m])))",
        "histogram_quantile(0.5, sum without(job) (req_latency_seconds_bucket))",
        "label_replace(node_meta, \"minor\", \"${minor}\", \"version\", \"v\\\\d+\\\\.(?P<minor>\\\\d+).*\")",
        "label_replace(node_meta, \"x\", \"$1x\", \"version\", \"(.*)\")",
        "label_join(node_meta, \"j\", \"\", \"instance\", \"region\", \"instance\")",
        "bottomk by(zone) (2, cpu_temp)",
        "topk(2, sum without(instance) (rate(http_requests_total[10m])))",
        "count_values(\"code\", http_requests_total > 1e9) or vector(0)",
        "sum by(job) (http_requests_total) and on(job) sum by(job) (rate(http_requests_total[5m])) > 1",
        "group without(instance, method, code) (http_requests_total)",
        "sum(http_requests_total) without (instance)",
        "max without() (cpu_temp)",
        "avg by(region) (cpu_temp * on(instance) group_left(region) node_meta)",
        "cpu_temp - ignoring(zone) group_left avg without(zone) (cpu_temp)",
        "(cpu_temp unless cpu_temp > 47) or cpu_temp * 0",
        "stddev by(zone) (cpu_temp) > 0.5",
        "changes(cpu_temp[10m] offset 1h)",
        "resets(http_requests_total[30m] @ end())",
        "irate(http_requests_total[1m:15s])",
        "delta(sum(cpu_temp)[10m:30s])",
        "quantile_over_time(0.99, balance[1h] offset 30m)",
        "idelta(http_requests_total[30s] offset 1m)",
        "day_of_week(vector(1700000000 + 86400 * 3))",
        "days_in_month(vector(951782400))",
        "count(rate(http_requests_total[5m]) > 0.5) by (job)",
        "sum by(job) (increase(http_requests_total[1h])) / 3600",
        "last_over_time(flaky_up[1h])",
        // Trigonometry.
        "sin(cpu_temp)",
        "cos(balance)",
        "tan(balance / 10)",
        "asin(nan_gauge / 10)",
        "acos(nan_gauge / 10)",
        "atan(balance)",
        "sinh(nan_gauge)",
        "cosh(nan_gauge)",
        "tanh(balance)",
        "asinh(balance)",
        "acosh(cpu_temp)",
        "atanh(nan_gauge / 20)",
        "deg(balance)",
        "rad(cpu_temp)",
        "pi() * 2",
        // Date functions on values Go's calendar handles oddly.
        "hour(vector(NaN))",
        "year(vector(1/0))",
        "month(vector(-1/0))",
        "day_of_month(vector(1e30))",
        "day_of_week(vector(NaN))",
        "day_of_year(vector(NaN))",
        "days_in_month(vector(-1e12))",
        "year(vector(-1e12))",
        "year(vector(1e15))",
        "minute(vector(-9.2233720368e18))",
        "day_of_year(vector(-62135596801))",
        "year(nan_gauge)",
        // Errors raised while evaluating, compared word for word.
        "topk(1e21, cpu_temp)",
        "bottomk(-1e30, cpu_temp)",
        "label_replace(node_meta, \"x\", \"y\", \"version\", \"(\")",
        "label_replace(node_meta, \"1x\", \"y\", \"version\", \".*\")",
        "label_join(node_meta, \"j\", \",\", \"1bad\")",
        "label_join(node_meta, \"1j\", \",\", \"region\")",
        "count_values(\"1x\", cpu_temp)",
        "count_values(\"\", cpu_temp)",
        // Parse errors (only the error type is compared).
        "sum(cpu_temp",
        "rate(cpu_temp)",
        "cpu_temp +",
        "sum by by (job) (cpu_temp)",
        // Sub-second offsets and odd steps.
        "rate(http_requests_total[90s] offset 7s)",
        "cpu_temp offset 1500ms",
        "avg_over_time(cpu_temp[61s:7s])",
        "increase(req_latency_seconds_count[2m:20s])",
    ]
}

/// Expressions compared as instant queries only. Prometheus 2.42 slides the
/// window of an `@` range selector by the step's distance from the start
/// when the function is one it evaluates per step (predict_linear), and
/// the window then runs out of selected data; we keep the window at `@`,
/// as instant queries (which agree) define it.
const INSTANT_ONLY: &[&str] = &["predict_linear(cpu_temp[10m] @ 1700004000, 600)"];

/// A running Prometheus, stopped when dropped.
struct Prometheus {
    child: Child,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("running {cmd:?} failed ({e}); install the Debian package prometheus")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start_prometheus(dir: &Path, data: &str) -> Prometheus {
    let om = dir.join("data.om");
    std::fs::write(&om, data).unwrap();
    let tsdb = dir.join("tsdb");
    std::fs::create_dir_all(&tsdb).unwrap();
    run_ok(
        Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
            .arg(&om)
            .arg(&tsdb),
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  evaluation_interval: 1m\n").unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("starting prometheus (install the Debian package prometheus)");
    let p = Prometheus { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(body) = http_get(port, "/-/ready")
            && body.contains("Ready")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not become ready: {}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    p
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn load_head(data: &str) -> Head {
    let mut head = Head::new();
    for fam in parse(data, Format::OpenMetrics).expect("the dataset parses") {
        for s in fam.samples {
            let labels = Labels::new(
                std::iter::once(("__name__".to_string(), s.name.clone())).chain(s.labels.clone()),
            );
            head.append_labels(&labels, s.timestamp_ms.unwrap(), s.value)
                .unwrap();
        }
    }
    head
}

/// Prometheus's answer in a comparable form.
#[derive(Debug)]
enum Answer {
    Error(String, String),
    Scalar(i64, f64),
    Str(String),
    Vector(Vec<(Labels, f64)>),
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
}

fn pf(s: &Json) -> f64 {
    match s.as_str().unwrap() {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap(),
    }
}

fn pt(s: &Json) -> i64 {
    (s.as_f64().unwrap() * 1000.0).round() as i64
}

fn metric(m: &Json) -> Labels {
    Labels::new(
        m.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())),
    )
}

fn from_json(body: &str) -> Answer {
    let j: Json = serde_json::from_str(body).unwrap_or_else(|e| panic!("bad json {e}: {body}"));
    if j["status"] != "success" {
        return Answer::Error(
            j["errorType"].as_str().unwrap_or("").to_string(),
            j["error"].as_str().unwrap_or("").to_string(),
        );
    }
    let data = &j["data"];
    let result = &data["result"];
    match data["resultType"].as_str().unwrap() {
        "scalar" => Answer::Scalar(pt(&result[0]), pf(&result[1])),
        "string" => Answer::Str(result[1].as_str().unwrap().to_string()),
        "vector" => Answer::Vector(
            result
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (metric(&s["metric"]), pf(&s["value"][1])))
                .collect(),
        ),
        _ => Answer::Matrix(
            result
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        metric(&s["metric"]),
                        s["values"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| (pt(&p[0]), pf(&p[1])))
                            .collect(),
                    )
                })
                .collect(),
        ),
    }
}

fn ours(r: Result<Value, QueryError>) -> Answer {
    match r {
        Err(e) => Answer::Error(e.error_type().to_string(), e.to_string()),
        Ok(Value::Scalar { t, v }) => Answer::Scalar(t, v),
        Ok(Value::String { v, .. }) => Answer::Str(v),
        Ok(Value::Vector(v)) => Answer::Vector(v.into_iter().map(|s| (s.labels, s.v)).collect()),
        Ok(Value::Matrix(m)) => Answer::Matrix(matrix(m)),
    }
}

fn matrix(m: Vec<Series>) -> Vec<(Labels, Vec<(i64, f64)>)> {
    m.into_iter().map(|s| (s.labels, s.samples)).collect()
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Why two answers differ, if they do.
fn diff(expr: &str, want: &Answer, got: &Answer) -> Option<String> {
    match (want, got) {
        (Answer::Error(wt, wm), Answer::Error(gt, gm)) => {
            // Parse errors are worded by different parsers; execution
            // errors must match word for word.
            (wt != gt || (wt == "execution" && wm != gm))
                .then(|| format!("errors differ: {wt}: {wm} vs {gt}: {gm}"))
        }
        (Answer::Scalar(wt, wv), Answer::Scalar(gt, gv)) => {
            (wt != gt || !close(*wv, *gv)).then(|| "scalars differ".to_string())
        }
        (Answer::Str(w), Answer::Str(g)) => (w != g).then(|| "strings differ".to_string()),
        (Answer::Vector(w), Answer::Vector(g)) => {
            let ordered = expr.starts_with("sort");
            if ordered {
                let wv: Vec<f64> = w.iter().map(|s| s.1).collect();
                let gv: Vec<f64> = g.iter().map(|s| s.1).collect();
                if wv.len() != gv.len() || wv.iter().zip(&gv).any(|(a, b)| !close(*a, *b)) {
                    return Some("sort order differs".into());
                }
            }
            let mut w = w.clone();
            let mut g = g.clone();
            w.sort_by(|a, b| a.0.cmp(&b.0));
            g.sort_by(|a, b| a.0.cmp(&b.0));
            if w.len() != g.len() {
                return Some(format!("{} vs {} samples", w.len(), g.len()));
            }
            for (a, b) in w.iter().zip(&g) {
                if a.0 != b.0 {
                    return Some(format!("labels {} vs {}", a.0, b.0));
                }
                if !close(a.1, b.1) {
                    return Some(format!("value of {}: {} vs {}", a.0, a.1, b.1));
                }
            }
            None
        }
        (Answer::Matrix(w), Answer::Matrix(g)) => {
            let mut w = w.clone();
            let mut g = g.clone();
            w.sort_by(|a, b| a.0.cmp(&b.0));
            g.sort_by(|a, b| a.0.cmp(&b.0));
            if w.len() != g.len() {
                return Some(format!("{} vs {} series", w.len(), g.len()));
            }
            for (a, b) in w.iter().zip(&g) {
                if a.0 != b.0 {
                    return Some(format!("labels {} vs {}", a.0, b.0));
                }
                if a.1.len() != b.1.len() {
                    return Some(format!("{}: {} vs {} points", a.0, a.1.len(), b.1.len()));
                }
                for (p, q) in a.1.iter().zip(&b.1) {
                    if p.0 != q.0 || !close(p.1, q.1) {
                        return Some(format!("{} at {}: {:?} vs {:?}", a.0, p.0, p, q));
                    }
                }
            }
            None
        }
        _ => Some("result types differ".into()),
    }
}

#[test]
fn promql_matches_prometheus() {
    let started = Instant::now();
    let data = dataset();
    let dir = tempfile::tempdir().unwrap();
    let prom = start_prometheus(dir.path(), &data);
    let head = load_head(&data);
    let engine = Engine::default();

    let exprs = expressions();
    assert!(exprs.len() >= 200, "only {} expressions", exprs.len());
    let instants = [
        (T0 + 3603) * 1000 + 250,
        (T0 + SPAN + 200) * 1000,
        (T0 + 3100) * 1000,
    ];
    let (start, end, step) = ((T0 + 333) * 1000, (T0 + SPAN + 400) * 1000, 97_000);
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut substantial = 0;
    let mut record = |kind: String, expr: &str, want: Answer, got: Answer| {
        compared += 1;
        substantial += match &want {
            Answer::Vector(v) => usize::from(!v.is_empty()),
            Answer::Matrix(m) => usize::from(!m.is_empty()),
            Answer::Error(..) => 0,
            _ => 1,
        };
        if let Some(why) = diff(expr, &want, &got) {
            failures.push(format!(
                "{kind} {expr}\n  why: {why}\n  prometheus: {want:?}\n  gantry:     {got:?}"
            ));
        }
    };
    for expr in &exprs {
        for t in instants {
            let body = http_get(
                prom.port,
                &format!("/api/v1/query?query={}&time={}", encode(expr), secs(t)),
            )
            .unwrap();
            let want = from_json(&body);
            let got = ours(engine.instant_query(&head, expr, t));
            record(format!("instant@{t}"), expr, want, got);
        }
        if INSTANT_ONLY.contains(expr) {
            continue;
        }
        let body = http_get(
            prom.port,
            &format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}",
                encode(expr),
                secs(start),
                secs(end),
                secs(step)
            ),
        )
        .unwrap();
        let want = from_json(&body);
        let got = ours(
            engine
                .range_query(&head, expr, start, end, step)
                .map(Value::Matrix),
        );
        record("range".to_string(), expr, want, got);
        // A short range at the scrape interval, for subquery alignment.
        let (s2, e2, st2) = ((T0 + 5000) * 1000 + 1, (T0 + 5600) * 1000, 15_000);
        let body = http_get(
            prom.port,
            &format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}",
                encode(expr),
                secs(s2),
                secs(e2),
                secs(st2)
            ),
        )
        .unwrap();
        let got = ours(
            engine
                .range_query(&head, expr, s2, e2, st2)
                .map(Value::Matrix),
        );
        record("range15s".to_string(), expr, from_json(&body), got);
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} comparisons differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Guard against a dataset that went missing: most answers have data.
    assert!(
        substantial * 10 > compared * 8,
        "only {substantial} of {compared} answers have data"
    );
    eprintln!(
        "{compared} comparisons over {} expressions in {:?}",
        exprs.len(),
        started.elapsed()
    );
}
