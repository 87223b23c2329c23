//! The exposition parsers against hand-written bodies in both formats:
//! what each line becomes, which family it joins, and where errors point.

use gantry_monitor::exposition::{Format, MetricType, parse};
use proptest::prelude::*;

const TEXT: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
nan_gauge NaN
trailing_comma{a="1",} 2
"#;

#[test]
fn text_format_example_parses_into_families() {
    let fams = parse(TEXT, Format::Text).unwrap();
    let names: Vec<_> = fams
        .iter()
        .map(|f| (f.name.as_str(), f.ty, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("http_requests_total", MetricType::Counter, 2),
            ("msdos_file_access_time_seconds", MetricType::Unknown, 1),
            (
                "metric_without_timestamp_and_labels",
                MetricType::Unknown,
                1
            ),
            ("something_weird", MetricType::Unknown, 1),
            ("http_request_duration_seconds", MetricType::Histogram, 4),
            ("rpc_duration_seconds", MetricType::Summary, 3),
            ("nan_gauge", MetricType::Unknown, 1),
            ("trailing_comma", MetricType::Unknown, 1),
        ]
    );
    let req = &fams[0];
    assert_eq!(
        req.help.as_deref(),
        Some("The total number of HTTP requests.")
    );
    assert_eq!(
        req.samples[1].labels,
        vec![
            ("method".into(), "post".into()),
            ("code".into(), "400".into())
        ]
    );
    assert_eq!(req.samples[1].value, 3.0);
    assert_eq!(req.samples[1].timestamp_ms, Some(1395066363000));
    assert_eq!(req.samples[1].line, 4);
    let msdos = &fams[1].samples[0];
    assert_eq!(msdos.labels[0].1, r"C:\DIR\FILE.TXT");
    assert_eq!(msdos.labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
    assert_eq!(fams[3].samples[0].value, f64::INFINITY);
    assert_eq!(fams[3].samples[0].timestamp_ms, Some(-3982045));
    assert_eq!(fams[4].samples[1].labels[0].1, "+Inf");
    assert_eq!(fams[4].samples[2].name, "http_request_duration_seconds_sum");
    assert!(fams[6].samples[0].value.is_nan());
}

const OM: &str = "# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32
acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0
acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0
# TYPE go_goroutines gauge
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
process_cpu_seconds_total 4.20072246e+06 1605281325.5
# TYPE foo histogram
foo_bucket{le=\"0.1\"} 8 # {trace_id=\"KOO5S4vxi0o\"} 0.067 1605281325.25
foo_bucket{le=\"+Inf\"} 17 # {trace_id=\"oHg5SJYRHA0\"} 9.8
foo_count 17
foo_sum 324789.3
# TYPE build info
build_info{version=\"1.2\"} 1
# TYPE door stateset
door{door=\"open\"} 1
# EOF
";

#[test]
fn openmetrics_example_parses_with_units_exemplars_and_second_timestamps() {
    let fams = parse(OM, Format::OpenMetrics).unwrap();
    let summary: Vec<_> = fams
        .iter()
        .map(|f| (f.name.as_str(), f.ty, f.samples.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("acme_http_router_request_seconds", MetricType::Summary, 3),
            ("go_goroutines", MetricType::Gauge, 1),
            ("process_cpu_seconds", MetricType::Counter, 1),
            ("foo", MetricType::Histogram, 4),
            ("build", MetricType::Info, 1),
            ("door", MetricType::StateSet, 1),
        ]
    );
    assert_eq!(fams[0].unit.as_deref(), Some("seconds"));
    assert_eq!(fams[2].samples[0].timestamp_ms, Some(1605281325500));
    let ex = fams[3].samples[0].exemplar.as_ref().unwrap();
    assert_eq!(ex.labels, vec![("trace_id".into(), "KOO5S4vxi0o".into())]);
    assert_eq!(ex.value, 0.067);
    assert_eq!(ex.timestamp_ms, Some(1605281325250));
    assert_eq!(
        fams[3].samples[1].exemplar.as_ref().unwrap().timestamp_ms,
        None
    );
}

fn err(body: &str, format: Format) -> String {
    parse(body, format).unwrap_err().to_string()
}

#[test]
fn errors_point_at_line_and_column() {
    let cases: &[(&str, Format, &str)] = &[
        (
            "a 1\nb{x=\"1\" 2\n",
            Format::Text,
            "2:9: expected ',' or '}' after a label value",
        ),
        (
            "a{x=\"1\",x=\"2\"} 1\n",
            Format::Text,
            "1:9: duplicate label name \"x\"",
        ),
        (
            "a{x=\"1} 1\n",
            Format::Text,
            "1:10: unterminated label value: expected '\"'",
        ),
        ("a one\n", Format::Text, "1:3: invalid value \"one\""),
        ("a 1 2.5\n", Format::Text, "1:5: invalid timestamp \"2.5\""),
        (
            "a 1 2 3\n",
            Format::Text,
            "1:7: unexpected text after the timestamp",
        ),
        (
            "a\n",
            Format::Text,
            "1:2: expected a space before the value",
        ),
        (
            "1a 2\n",
            Format::Text,
            "1:1: expected a metric name or a comment",
        ),
        (
            "# TYPE a counter\n# TYPE a gauge\n",
            Format::Text,
            "2:3: second TYPE line for metric name \"a\", or TYPE reported after samples",
        ),
        (
            "a 1\n# TYPE a counter\n",
            Format::Text,
            "2:3: second TYPE line for metric name \"a\", or TYPE reported after samples",
        ),
        (
            "# TYPE a countr\n",
            Format::Text,
            "1:10: invalid metric type \"countr\"",
        ),
        (
            "# HELP a x\n# HELP a y\n",
            Format::Text,
            "2:3: second HELP line for metric name \"a\"",
        ),
        (
            "a 1\n",
            Format::OpenMetrics,
            "2:1: missing # EOF at the end of an OpenMetrics body",
        ),
        (
            "# EOF\na 1\n",
            Format::OpenMetrics,
            "2:1: unexpected data after # EOF",
        ),
        (
            "a  1\n# EOF\n",
            Format::OpenMetrics,
            "1:2: expected exactly one space",
        ),
        (
            "# TYPE a counter\na 1\n# EOF\n",
            Format::OpenMetrics,
            "2:1: sample name \"a\" is not allowed in counter family \"a\"",
        ),
        (
            "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n",
            Format::OpenMetrics,
            "2:8: unit \"bytes\" is not a suffix of metric name \"a_seconds\"",
        ),
        (
            "# TYPE a gauge\nb 1\n# HELP a x\n# EOF\n",
            Format::OpenMetrics,
            "3:3: metadata for metric family \"a\" is not contiguous",
        ),
        (
            "a 1\n\n# EOF\n",
            Format::OpenMetrics,
            "2:1: empty lines are not allowed in OpenMetrics",
        ),
        (
            "# TYPE a untyped\n# EOF\n",
            Format::OpenMetrics,
            "1:10: invalid metric type \"untyped\"",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(body, format, want)| {
            let got = err(body, *format);
            (got != *want).then(|| format!("{body:?}\n  got:  {got}\n  want: {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn crlf_and_missing_final_newline_are_accepted_in_text() {
    let fams = parse("a 1\r\nb 2", Format::Text).unwrap();
    assert_eq!(fams.len(), 2);
    assert_eq!(fams[1].samples[0].value, 2.0);
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(body in "(?s).{0,300}") {
        let _ = parse(&body, Format::Text);
        let _ = parse(&body, Format::OpenMetrics);
    }

    #[test]
    fn exposition_like_input_never_panics(
        lines in prop::collection::vec(
            "(# (HELP|TYPE|UNIT) [a-z_]{1,4} [a-z ]{0,8}|[a-z_:]{1,5}(\\{([a-z]{1,3}=\"[^\"\\n]{0,4}\",?){0,3}\\})? [-+0-9.eInfa]{1,6}( [0-9.]{1,5})?( # \\{[a-z]=\"x\"\\} 1)?|# EOF|)",
            0..20,
        )
    ) {
        let body = lines.join("\n");
        let _ = parse(&body, Format::Text);
        let _ = parse(&body, Format::OpenMetrics);
    }
}
