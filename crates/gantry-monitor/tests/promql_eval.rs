//! PromQL evaluation table tests over a head with small, hand-checkable
//! data: every function, aggregation and operator, lookback and staleness,
//! offset and `@`, subqueries, errors and the JSON rendering.

use gantry_monitor::labels::Labels;
use gantry_monitor::promql::{
    Engine, EngineOptions, QueryError, STALE_NAN_BITS, Value, matrix_json,
};
use gantry_monitor::tsdb::head::Head;

const S: i64 = 1000;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().map(|(k, v)| (*k, *v)))
}

/// The data every test reads:
/// - `ctr{job="a"}`: 1 per second, a sample every 10 s from 0 to 600 s.
/// - `ctr{job="b"}`: `i` at `10i` s, reset to 0 at 300 s.
/// - `g{i="1"|"2"|"3"}`: constants 1, 2, 3 every 10 s from 0 to 1000 s.
/// - `neg{i="1"}`: -2.5 every 10 s from 0 to 1000 s.
/// - `stale{}`: 5 at 0..=100 s, then a staleness marker at 110 s.
/// - `h_bucket{le=...}`: a histogram with 2, 6, 10 observations at
///   `le` 1, 2, +Inf.
/// - `info{version="v1.22", path="a-b-c"}`: 1.
/// - `date{}`: the unix time 2024-02-29T13:45:30Z as a value.
/// - `lin{}`: 2t + 7 (t in seconds) every 10 s from 0 to 600 s.
/// - `flap{}`: 0, 1, 0, 1, ... every 10 s from 0 to 600 s.
fn head() -> Head {
    let mut h = Head::new();
    let mut add = |labels: Labels, t: i64, v: f64| {
        h.append_labels(&labels, t, v).unwrap();
    };
    for i in 0..=60 {
        let t = i * 10 * S;
        add(l(&[("__name__", "ctr"), ("job", "a")]), t, (i * 10) as f64);
        let b = if i >= 30 { i - 30 } else { i };
        add(l(&[("__name__", "ctr"), ("job", "b")]), t, b as f64);
        add(l(&[("__name__", "lin")]), t, 2.0 * (i * 10) as f64 + 7.0);
        add(l(&[("__name__", "flap")]), t, (i % 2) as f64);
    }
    for i in 0..=100 {
        let t = i * 10 * S;
        for (n, v) in [("1", 1.0), ("2", 2.0), ("3", 3.0)] {
            add(l(&[("__name__", "g"), ("i", n)]), t, v);
        }
        add(l(&[("__name__", "neg"), ("i", "1")]), t, -2.5);
        for (le, v) in [("1", 2.0), ("2", 6.0), ("+Inf", 10.0)] {
            add(l(&[("__name__", "h_bucket"), ("le", le)]), t, v);
        }
        add(
            l(&[
                ("__name__", "info"),
                ("version", "v1.22"),
                ("path", "a-b-c"),
            ]),
            t,
            1.0,
        );
        add(l(&[("__name__", "date")]), t, 1_709_214_330.0);
    }
    for i in 0..=10 {
        add(l(&[("__name__", "stale")]), i * 10 * S, 5.0);
    }
    add(
        l(&[("__name__", "stale")]),
        110 * S,
        f64::from_bits(STALE_NAN_BITS),
    );
    h
}

/// A result as `labels value` lines, sorted unless the order matters.
fn show(v: &Value, keep_order: bool) -> String {
    match v {
        Value::Scalar { v, .. } => format!("scalar {v}"),
        Value::String { v, .. } => format!("string {v}"),
        Value::Vector(samples) => {
            let mut lines: Vec<String> = samples
                .iter()
                .map(|s| format!("{} {}", s.labels, s.v))
                .collect();
            if !keep_order {
                lines.sort();
            }
            lines.join("; ")
        }
        Value::Matrix(m) => m
            .iter()
            .map(|s| {
                let pts: Vec<String> = s
                    .samples
                    .iter()
                    .map(|(t, v)| format!("{v}@{}", t / S))
                    .collect();
                format!("{} [{}]", s.labels, pts.join(" "))
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn eval_at(h: &Head, expr: &str, t: i64) -> String {
    let v = Engine::default()
        .instant_query(h, expr, t)
        .unwrap_or_else(|e| panic!("{expr}: {e}"));
    show(&v, expr.starts_with("sort") || expr.starts_with("topk"))
}

fn check(cases: &[(&str, i64, &str)]) {
    let h = head();
    let mut bad = Vec::new();
    for (expr, t_s, want) in cases {
        let got = eval_at(&h, expr, t_s * S);
        if got != *want {
            bad.push(format!("{expr} @ {t_s}s\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

fn error_of(expr: &str, t_s: i64) -> QueryError {
    Engine::default()
        .instant_query(&head(), expr, t_s * S)
        .expect_err(expr)
}

#[test]
fn selectors_lookback_staleness_offset_and_at() {
    check(&[
        ("g", 500, "g{i=\"1\"} 1; g{i=\"2\"} 2; g{i=\"3\"} 3"),
        ("g{i=~\"1|3\"}", 500, "g{i=\"1\"} 1; g{i=\"3\"} 3"),
        ("g{i!=\"1\", i!~\"3\"}", 500, "g{i=\"2\"} 2"),
        ("{__name__=\"neg\"}", 500, "neg{i=\"1\"} -2.5"),
        // The newest sample is at 1000 s; 5 minutes later it still counts.
        ("neg", 1300, "neg{i=\"1\"} -2.5"),
        ("neg", 1301, ""),
        // A staleness marker ends the series at once.
        ("stale", 105, "stale{} 5"),
        ("stale", 110, ""),
        ("stale", 200, ""),
        ("stale offset 10s", 115, "stale{} 5"),
        ("ctr{job=\"a\"} offset 1m", 300, "ctr{job=\"a\"} 240"),
        ("ctr{job=\"a\"} offset -1m", 300, "ctr{job=\"a\"} 360"),
        ("ctr{job=\"a\"} @ 100", 550, "ctr{job=\"a\"} 100"),
        ("ctr{job=\"a\"} @ 100 offset 20s", 550, "ctr{job=\"a\"} 80"),
        ("ctr{job=\"a\"} @ start()", 250, "ctr{job=\"a\"} 250"),
        ("ctr{job=\"a\"} @ end()", 250, "ctr{job=\"a\"} 250"),
        (
            "ctr{job=\"a\"}[30s]",
            100,
            "ctr{job=\"a\"} [70@70 80@80 90@90 100@100]",
        ),
        ("stale[1m]", 130, "stale{} [5@70 5@80 5@90 5@100]"),
        (
            "ctr{job=\"a\"}[20s] offset 50s",
            100,
            "ctr{job=\"a\"} [30@30 40@40 50@50]",
        ),
        ("nothing", 100, ""),
    ]);
}

#[test]
fn at_start_and_end_in_range_queries() {
    let h = head();
    let e = Engine::default();
    let m = e
        .range_query(
            &h,
            "ctr{job=\"a\"} @ start() - ctr{job=\"a\"} @ end()",
            100 * S,
            300 * S,
            100 * S,
        )
        .unwrap();
    assert_eq!(
        show(&Value::Matrix(m), false),
        "{job=\"a\"} [-200@100 -200@200 -200@300]"
    );
    let m = e.range_query(&h, "time()", 0, 20 * S, 10 * S).unwrap();
    assert_eq!(show(&Value::Matrix(m), false), "{} [0@0 10@10 20@20]");
    // Series appear and disappear within a range query.
    let m = e.range_query(&h, "stale", 90 * S, 120 * S, 10 * S).unwrap();
    assert_eq!(show(&Value::Matrix(m), false), "stale{} [5@90 5@100]");
}

#[test]
fn arithmetic_comparison_and_bool() {
    check(&[
        ("1 + 2 * 3 - 4 / 2", 0, "scalar 5"),
        ("2 ^ 3 ^ 2", 0, "scalar 512"),
        ("-7 % 3", 0, "scalar -1"),
        ("1 / 0", 0, "scalar inf"),
        ("0 / 0", 0, "scalar NaN"),
        ("3 > bool 2", 0, "scalar 1"),
        ("3 < bool 2", 0, "scalar 0"),
        ("2 == bool 2", 0, "scalar 1"),
        ("2 != bool 2", 0, "scalar 0"),
        ("2 >= bool 3", 0, "scalar 0"),
        ("2 <= bool 3", 0, "scalar 1"),
        ("1 atan2 1", 0, "scalar 0.7853981633974483"),
        ("\"hello\"", 0, "string hello"),
        ("-g{i=\"2\"}", 10, "{i=\"2\"} -2"),
        ("g * 2", 10, "{i=\"1\"} 2; {i=\"2\"} 4; {i=\"3\"} 6"),
        ("10 - g", 10, "{i=\"1\"} 9; {i=\"2\"} 8; {i=\"3\"} 7"),
        ("g % 2", 10, "{i=\"1\"} 1; {i=\"2\"} 0; {i=\"3\"} 1"),
        ("g ^ 2", 10, "{i=\"1\"} 1; {i=\"2\"} 4; {i=\"3\"} 9"),
        ("g / 0", 10, "{i=\"1\"} inf; {i=\"2\"} inf; {i=\"3\"} inf"),
        // Comparisons filter and keep the name; `bool` returns 0/1 without it.
        ("g > 1", 10, "g{i=\"2\"} 2; g{i=\"3\"} 3"),
        ("2 < g", 10, "g{i=\"3\"} 3"),
        ("g == 2", 10, "g{i=\"2\"} 2"),
        ("g != 2", 10, "g{i=\"1\"} 1; g{i=\"3\"} 3"),
        ("g >= 2", 10, "g{i=\"2\"} 2; g{i=\"3\"} 3"),
        ("g <= 2", 10, "g{i=\"1\"} 1; g{i=\"2\"} 2"),
        ("g > bool 1", 10, "{i=\"1\"} 0; {i=\"2\"} 1; {i=\"3\"} 1"),
        (
            "g atan2 0",
            10,
            "g{i=\"1\"} 1.5707963267948966; g{i=\"2\"} 1.5707963267948966; g{i=\"3\"} 1.5707963267948966",
        ),
    ]);
}

#[test]
fn vector_matching() {
    check(&[
        ("g + g", 10, "{i=\"1\"} 2; {i=\"2\"} 4; {i=\"3\"} 6"),
        ("g - on(i) g", 10, "{i=\"1\"} 0; {i=\"2\"} 0; {i=\"3\"} 0"),
        ("neg * on(i) g", 10, "{i=\"1\"} -2.5"),
        ("g > bool on(i) neg", 10, "{i=\"1\"} 1"),
        ("g == on(i) neg", 10, ""),
        // group_left: many g to one summed series; include labels from the one side.
        (
            "g / ignoring(i) group_left sum(g)",
            10,
            "{i=\"1\"} 0.16666666666666666; {i=\"2\"} 0.3333333333333333; {i=\"3\"} 0.5",
        ),
        (
            "g * on() group_left(version) info",
            10,
            "{i=\"1\", version=\"v1.22\"} 1; {i=\"2\", version=\"v1.22\"} 2; {i=\"3\", version=\"v1.22\"} 3",
        ),
        (
            "info * on() group_right(path) g",
            10,
            "{i=\"1\", path=\"a-b-c\"} 1; {i=\"2\", path=\"a-b-c\"} 2; {i=\"3\", path=\"a-b-c\"} 3",
        ),
        // Comparisons with group_left keep the many side's value and name.
        (
            "g > on() group_left max(neg)",
            10,
            "g{i=\"1\"} 1; g{i=\"2\"} 2; g{i=\"3\"} 3",
        ),
        // Set operators.
        ("g and g > 1", 10, "g{i=\"2\"} 2; g{i=\"3\"} 3"),
        ("g and on(i) neg", 10, "g{i=\"1\"} 1"),
        ("g unless g > 1", 10, "g{i=\"1\"} 1"),
        ("g unless on(i) neg", 10, "g{i=\"2\"} 2; g{i=\"3\"} 3"),
        (
            "neg or g",
            10,
            "g{i=\"2\"} 2; g{i=\"3\"} 3; neg{i=\"1\"} -2.5",
        ),
        ("neg or on() g", 10, "neg{i=\"1\"} -2.5"),
        ("g{i=\"1\"} or ignoring(i) g", 10, "g{i=\"1\"} 1"),
        ("nothing or vector(7)", 10, "{} 7"),
    ]);
}

#[test]
fn matching_errors_use_prometheus_messages() {
    assert_eq!(
        error_of("g + on() g", 10).to_string(),
        "found duplicate series for the match group {} on the right hand-side of the operation: \
         [{__name__=\"g\", i=\"2\"}, {__name__=\"g\", i=\"1\"}];many-to-many matching not allowed: \
         matching labels must be unique on one side"
    );
    assert_eq!(
        error_of("g + on() group_right sum(g)", 10).to_string(),
        "found duplicate series for the match group {} on the left hand-side of the operation: \
         [{__name__=\"g\", i=\"2\"}, {__name__=\"g\", i=\"1\"}];many-to-many matching not allowed: \
         matching labels must be unique on one side"
    );
    assert_eq!(
        error_of("-{__name__=~\"g|neg\"}", 10).to_string(),
        "vector cannot contain metrics with the same labelset"
    );
    assert_eq!(
        error_of("g * ignoring(i) neg", 10).to_string(),
        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
    );
    assert_eq!(
        error_of("{__name__=~\"g|neg\"} * on() group_left sum(g)", 10).to_string(),
        "multiple matches for labels: grouping labels must ensure unique matches"
    );
    let e = error_of("{__name__=~\"g|neg\"} * 2", 10);
    assert_eq!(
        e.to_string(),
        "vector cannot contain metrics with the same labelset"
    );
    assert_eq!(e.error_type(), "execution");
}

#[test]
fn aggregations() {
    check(&[
        ("sum(g)", 10, "{} 6"),
        ("sum by(i) (g)", 10, "{i=\"1\"} 1; {i=\"2\"} 2; {i=\"3\"} 3"),
        ("sum without(i) (g)", 10, "{} 6"),
        (
            "sum by(__name__) ({__name__=~\"g|neg\"})",
            10,
            "g{} 6; neg{} -2.5",
        ),
        ("avg(g)", 10, "{} 2"),
        ("min(g)", 10, "{} 1"),
        ("max(g)", 10, "{} 3"),
        ("count(g)", 10, "{} 3"),
        ("group(g)", 10, "{} 1"),
        ("stdvar(g)", 10, "{} 0.6666666666666666"),
        ("stddev(g)", 10, "{} 0.816496580927726"),
        ("topk(2, g)", 10, "g{i=\"3\"} 3; g{i=\"2\"} 2"),
        ("bottomk(1, g)", 10, "g{i=\"1\"} 1"),
        ("topk(0, g)", 10, ""),
        ("limitk(2, g)", 10, "g{i=\"1\"} 1; g{i=\"2\"} 2"),
        (
            "limitk by(i) (1, g)",
            10,
            "g{i=\"1\"} 1; g{i=\"2\"} 2; g{i=\"3\"} 3",
        ),
        ("limitk(0, g)", 10, ""),
        (
            "topk by(i) (1, g)",
            10,
            "g{i=\"1\"} 1; g{i=\"2\"} 2; g{i=\"3\"} 3",
        ),
        ("quantile(0.5, g)", 10, "{} 2"),
        ("quantile(0.75, g)", 10, "{} 2.5"),
        ("quantile(2, g)", 10, "{} inf"),
        (
            "count_values(\"value\", g)",
            10,
            "{value=\"1\"} 1; {value=\"2\"} 1; {value=\"3\"} 1",
        ),
        ("count_values(\"v\", g * 0 + 4)", 10, "{v=\"4\"} 3"),
        (
            "count_values without(i) (\"v\", g)",
            10,
            "{v=\"1\"} 1; {v=\"2\"} 1; {v=\"3\"} 1",
        ),
        ("sum(nothing)", 10, ""),
        ("max by(job) (ctr)", 100, "{job=\"a\"} 100; {job=\"b\"} 10"),
    ]);
    assert_eq!(
        error_of("count_values(\"1x\", g)", 10).to_string(),
        "invalid label name \"1x\""
    );
}

#[test]
fn counter_and_range_functions() {
    check(&[
        // 1 per second, samples at both ends of the window.
        ("rate(ctr{job=\"a\"}[1m])", 300, "{job=\"a\"} 1"),
        ("increase(ctr{job=\"a\"}[1m])", 300, "{job=\"a\"} 60"),
        ("delta(ctr{job=\"a\"}[1m])", 300, "{job=\"a\"} 60"),
        ("irate(ctr{job=\"a\"}[1m])", 300, "{job=\"a\"} 1"),
        ("idelta(ctr{job=\"a\"}[1m])", 300, "{job=\"a\"} 10"),
        // The window 245..305 s has samples 250..300: 50 over 50 s,
        // extrapolated by 5 s at each end.
        ("increase(ctr{job=\"a\"}[1m])", 305, "{job=\"a\"} 60"),
        // A reset: 27, 28, 29, 0, 1 is 1 - 27 + 29 (the value before the reset).
        ("increase(ctr{job=\"b\"}[40s])", 310, "{job=\"b\"} 3"),
        ("resets(ctr{job=\"b\"}[1h])", 600, "{job=\"b\"} 1"),
        ("irate(ctr{job=\"b\"}[1m])", 300, "{job=\"b\"} 0"),
        ("changes(flap[1m])", 60, "{} 6"),
        ("changes(g{i=\"1\"}[1m])", 60, "{i=\"1\"} 0"),
        ("resets(flap[1m])", 60, "{} 3"),
        ("deriv(lin[1m])", 300, "{} 2"),
        ("predict_linear(lin[1m], 100)", 300, "{} 807"),
        ("deriv(g{i=\"2\"}[1m])", 300, "{i=\"2\"} 0"),
        // One sample is not enough for rates.
        ("rate(ctr{job=\"a\"}[5s])", 300, ""),
        ("avg_over_time(flap[1m])", 60, "{} 0.4285714285714286"),
        ("min_over_time(lin[30s])", 100, "{} 147"),
        ("max_over_time(lin[30s])", 100, "{} 207"),
        ("sum_over_time(flap[1m])", 60, "{} 3"),
        ("count_over_time(flap[1m])", 60, "{} 7"),
        ("quantile_over_time(0.5, lin[30s])", 100, "{} 177"),
        ("stdvar_over_time(flap[10s])", 10, "{} 0.25"),
        ("stddev_over_time(flap[10s])", 10, "{} 0.5"),
        ("last_over_time(lin[1m])", 65, "lin{} 127"),
        ("present_over_time(lin[1m])", 65, "{} 1"),
        ("present_over_time(nothing[1m])", 65, ""),
        ("absent_over_time(lin[1m])", 65, ""),
        (
            "absent_over_time(nothing{a=\"b\", c=~\"d\"}[1m])",
            65,
            "{a=\"b\"} 1",
        ),
        ("absent_over_time(stale[1m])", 200, "{} 1"),
    ]);
}

#[test]
fn subqueries() {
    check(&[
        // Steps at multiples of 20 s in [60, 100].
        ("lin[40s:20s]", 100, "lin{} [127@60 167@80 207@100]"),
        ("max_over_time(lin[40s:20s])", 110, "{} 207"),
        ("count_over_time(lin[1m:])", 600, "{} 2"),
        ("rate(ctr{job=\"a\"}[1m:10s])", 300, "{job=\"a\"} 1"),
        ("sum_over_time(sum(g)[30s:10s] offset 10s)", 100, "{} 24"),
        ("max_over_time(lin[20s:10s] @ 50)", 500, "{} 107"),
        (
            "min_over_time((g > 1)[30s:10s])",
            100,
            "{i=\"2\"} 2; {i=\"3\"} 3",
        ),
    ]);
}

#[test]
fn math_and_clamp_functions() {
    check(&[
        ("abs(neg)", 10, "{i=\"1\"} 2.5"),
        ("ceil(neg)", 10, "{i=\"1\"} -2"),
        ("floor(neg)", 10, "{i=\"1\"} -3"),
        ("round(neg)", 10, "{i=\"1\"} -2"),
        (
            "round(g / 3, 0.5)",
            10,
            "{i=\"1\"} 0.5; {i=\"2\"} 0.5; {i=\"3\"} 1",
        ),
        ("exp(g{i=\"1\"} - 1)", 10, "{i=\"1\"} 1"),
        ("sqrt(g{i=\"1\"} * 16)", 10, "{i=\"1\"} 4"),
        ("sqrt(neg)", 10, "{i=\"1\"} NaN"),
        ("ln(g{i=\"1\"})", 10, "{i=\"1\"} 0"),
        ("log2(g{i=\"2\"} * 4)", 10, "{i=\"2\"} 3"),
        ("log10(g{i=\"1\"} * 1000)", 10, "{i=\"1\"} 3"),
        ("sgn(neg)", 10, "{i=\"1\"} -1"),
        ("sgn(g{i=\"1\"} - 1)", 10, "{i=\"1\"} 0"),
        (
            "clamp(g, 1.5, 2.5)",
            10,
            "{i=\"1\"} 1.5; {i=\"2\"} 2; {i=\"3\"} 2.5",
        ),
        ("clamp(g, 3, 1)", 10, ""),
        (
            "clamp_max(g, 2)",
            10,
            "{i=\"1\"} 1; {i=\"2\"} 2; {i=\"3\"} 2",
        ),
        (
            "clamp_min(g, 2)",
            10,
            "{i=\"1\"} 2; {i=\"2\"} 2; {i=\"3\"} 3",
        ),
    ]);
}

#[test]
fn time_and_date_functions() {
    check(&[
        ("time()", 90, "scalar 90"),
        ("timestamp(g{i=\"1\"})", 95, "{i=\"1\"} 90"),
        ("timestamp(g{i=\"1\"} offset 20s)", 95, "{i=\"1\"} 70"),
        ("timestamp(-g{i=\"1\"})", 95, "{i=\"1\"} 95"),
        // 2024-02-29T13:45:30Z, a Thursday in a leap year.
        ("year(date)", 10, "{} 2024"),
        ("month(date)", 10, "{} 2"),
        ("day_of_month(date)", 10, "{} 29"),
        ("day_of_week(date)", 10, "{} 4"),
        ("day_of_year(date)", 10, "{} 60"),
        ("days_in_month(date)", 10, "{} 29"),
        ("hour(date)", 10, "{} 13"),
        ("minute(date)", 10, "{} 45"),
        // Without an argument: the evaluation time (1970-01-01T00:01:30Z).
        ("year()", 90, "{} 1970"),
        ("minute()", 90, "{} 1"),
        ("day_of_week()", 90, "{} 4"),
        ("days_in_month()", 90, "{} 31"),
        // Go's calendar wraps NaN (int64 minimum) into the far future.
        ("year(vector(NaN))", 0, "{} 292277026596"),
        ("day_of_week(vector(NaN))", 0, "{} 0"),
        ("year(vector(-1e12))", 0, "{} -29719"),
    ]);
}

#[test]
fn label_sort_vector_scalar_absent_and_histogram_functions() {
    check(&[
        (
            "label_replace(info, \"major\", \"$1\", \"version\", \"v(\\\\d+)\\\\..*\")",
            10,
            "info{major=\"1\", path=\"a-b-c\", version=\"v1.22\"} 1",
        ),
        (
            "label_replace(info, \"x\", \"$1\", \"version\", \"nomatch(.*)\")",
            10,
            "info{path=\"a-b-c\", version=\"v1.22\"} 1",
        ),
        (
            "label_replace(info, \"path\", \"\", \"path\", \".*\")",
            10,
            "info{version=\"v1.22\"} 1",
        ),
        (
            "label_join(info, \"j\", \"/\", \"version\", \"path\", \"none\")",
            10,
            "info{j=\"v1.22/a-b-c/\", path=\"a-b-c\", version=\"v1.22\"} 1",
        ),
        ("sort(g)", 10, "g{i=\"1\"} 1; g{i=\"2\"} 2; g{i=\"3\"} 3"),
        (
            "sort_desc(g)",
            10,
            "g{i=\"3\"} 3; g{i=\"2\"} 2; g{i=\"1\"} 1",
        ),
        ("vector(3)", 10, "{} 3"),
        ("scalar(neg)", 10, "scalar -2.5"),
        ("scalar(g)", 10, "scalar NaN"),
        (
            "absent(nothing{job=\"x\", job=\"y\", a=\"b\"})",
            10,
            "{a=\"b\"} 1",
        ),
        ("absent(g)", 10, ""),
        // Rank 5 of 10 is in the (1, 2] bucket: 1 + (5 - 2) / 4.
        ("histogram_quantile(0.5, h_bucket)", 10, "{} 1.75"),
        ("histogram_quantile(0.1, h_bucket)", 10, "{} 0.5"),
        // Rank 9.9 is in the +Inf bucket: the highest finite bound.
        ("histogram_quantile(0.99, h_bucket)", 10, "{} 2"),
        ("histogram_quantile(-1, h_bucket)", 10, "{} -inf"),
        (
            "histogram_quantile(0.5, h_bucket{le!=\"+Inf\"})",
            10,
            "{} NaN",
        ),
    ]);
    assert_eq!(
        error_of("label_replace(g, \"1bad\", \"x\", \"i\", \".*\")", 10).to_string(),
        "invalid destination label name in label_replace(): 1bad"
    );
    assert_eq!(
        error_of("label_replace(g, \"i\", \"x\", \"i\", \".*\")", 10).to_string(),
        "vector cannot contain metrics with the same labelset"
    );
}

#[test]
fn parse_errors_carry_a_position() {
    let e = Engine::default();
    let h = head();
    for (expr, line, col) in [
        // The unclosed parenthesis.
        ("sum(g", 1, 4),
        ("g $ 2", 1, 3),
        ("g +", 1, 4),
        ("rate(g)", 1, 5),
        ("g\n  + )", 2, 5),
    ] {
        match e.instant_query(&h, expr, 0) {
            Err(QueryError::Parse {
                line: l, col: c, ..
            }) => assert_eq!((l, c), (line, col), "{expr}"),
            other => panic!("{expr}: {other:?}"),
        }
    }
    let err = e.instant_query(&h, "g $ 2", 0).unwrap_err();
    assert_eq!(err.error_type(), "bad_data");
    assert!(err.to_string().starts_with("1:3: parse error: "), "{err}");
    assert_eq!(
        e.instant_query(&h, "g +", 0).unwrap_err().to_string(),
        "1:4: parse error: unexpected end of input"
    );
    assert_eq!(
        e.instant_query(&h, "sum(g) by by (x)", 0)
            .unwrap_err()
            .to_string(),
        "1:11: parse error: unexpected \"by\""
    );
}

#[test]
fn range_query_checks_its_parameters() {
    let e = Engine::default();
    let h = head();
    assert_eq!(
        e.range_query(&h, "g", 10, 0, 1).unwrap_err().to_string(),
        "end timestamp must not be before start time"
    );
    assert!(
        e.range_query(&h, "g", 0, 10, 0)
            .unwrap_err()
            .to_string()
            .starts_with("zero or negative")
    );
    assert!(
        e.range_query(&h, "g", 0, 20_000, 1)
            .unwrap_err()
            .to_string()
            .starts_with("exceeded maximum resolution")
    );
    assert_eq!(
        e.range_query(&h, "g[1m]", 0, 10, 1)
            .unwrap_err()
            .to_string(),
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
    );
    let small = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    assert_eq!(
        small
            .instant_query(&h, "count_over_time(g[1m])", 100 * S)
            .unwrap_err(),
        QueryError::TooManySamples
    );
    assert!(small.instant_query(&h, "g", 100 * S).is_ok());
}

#[test]
fn json_matches_the_prometheus_api_shape() {
    let e = Engine::default();
    let h = head();
    let v = e.instant_query(&h, "g{i=\"1\"} / 0", 1_500).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"resultType":"vector","result":[{"metric":{"i":"1"},"value":[1.500,"+Inf"]}]}"#
    );
    let v = e.instant_query(&h, "-1/0", 2_000).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"resultType":"scalar","result":[2,"-Inf"]}"#
    );
    let v = e.instant_query(&h, "0/0", 2_000).unwrap();
    assert_eq!(v.to_json(), r#"{"resultType":"scalar","result":[2,"NaN"]}"#);
    let v = e.instant_query(&h, "\"a\\\"b\"", 2_000).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"resultType":"string","result":[2,"a\"b"]}"#
    );
    let v = e.instant_query(&h, "stale[15s]", 100_000).unwrap();
    assert_eq!(
        v.to_json(),
        r#"{"resultType":"matrix","result":[{"metric":{"__name__":"stale"},"values":[[90,"5"],[100,"5"]]}]}"#
    );
    let m = e
        .range_query(&h, "g{i=\"2\"} * 0.1", 0, 20_050, 10_025)
        .unwrap();
    assert_eq!(
        matrix_json(&m),
        r#"{"resultType":"matrix","result":[{"metric":{"i":"2"},"values":[[0,"0.2"],[10.025,"0.2"],[20.050,"0.2"]]}]}"#
    );
}

/// A range query is its instant queries at each step, however the
/// evaluator shares work across steps (range-selector cursors, labels
/// derived once per series): the same selector read forward, read again
/// by a subquery that starts earlier at each outer step, with `offset`,
/// with `@`, through a staleness marker, and with a counter reset.
#[test]
fn range_queries_equal_their_instant_queries_at_every_step() {
    let h = head();
    let e = Engine::new(EngineOptions::default());
    let exprs = [
        "rate(ctr[1m])",
        "sum by (job) (increase(ctr[2m]))",
        "rate(ctr[1m]) / rate(ctr[1m] offset 30s)",
        "max_over_time(rate(ctr[1m])[3m:20s])",
        "avg_over_time(stale[30s])",
        "count_over_time(flap[45s]) + rate(ctr[1m] @ 300)",
        "last_over_time(g[25s])",
        "sum without (i) (g)",
        "topk(1, rate(ctr[1m]))",
        "count_values(\"v\", flap)",
    ];
    for expr in exprs {
        let (start, end, step) = (40 * S, 700 * S, 15 * S);
        let range = e.range_query(&h, expr, start, end, step).unwrap();
        let mut expected: std::collections::BTreeMap<String, Vec<(i64, f64)>> = Default::default();
        let mut t = start;
        while t <= end {
            match e.instant_query(&h, expr, t).unwrap() {
                Value::Vector(v) => {
                    for s in v {
                        expected
                            .entry(s.labels.to_string())
                            .or_default()
                            .push((t, s.v));
                    }
                }
                Value::Scalar { v, .. } => expected.entry("{}".into()).or_default().push((t, v)),
                other => panic!("{expr}: unexpected {}", other.type_name()),
            }
            t += step;
        }
        let got: std::collections::BTreeMap<String, Vec<(i64, f64)>> = range
            .into_iter()
            .map(|s| (s.labels.to_string(), s.samples))
            .collect();
        assert_eq!(got, expected, "{expr}");
    }
}
