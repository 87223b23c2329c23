//! Property tests: random expressions over PromQL's grammar (valid or not,
//! with any function, operator, modifier and argument), and arbitrary
//! text, never make the parser or the evaluator panic.

use gantry_monitor::labels::Labels;
use gantry_monitor::promql::{Engine, EngineOptions, QueryError};
use gantry_monitor::tsdb::head::Head;
use proptest::prelude::*;

fn head() -> Head {
    let mut h = Head::new();
    for i in 0..40i64 {
        for (name, job) in [("a", "x"), ("a", "y"), ("b", "x"), ("le_metric", "z")] {
            let le = ["0.1", "1", "+Inf"][(i % 3) as usize];
            let labels = Labels::new([("__name__", name), ("job", job), ("le", le)]);
            let v = match i % 9 {
                0 => f64::NAN,
                1 => -((i * 7) as f64),
                2 => f64::INFINITY,
                _ => (i * i) as f64 / 3.0,
            };
            h.append_labels(&labels, i * 15_000, v).unwrap();
        }
    }
    h
}

const FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_quantile",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "ln",
    "log10",
    "log2",
    "minute",
    "month",
    "predict_linear",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sort",
    "sort_desc",
    "sqrt",
    "time",
    "timestamp",
    "vector",
    "year",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "quantile_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "last_over_time",
    "present_over_time",
    "pi",
    "sin",
    "deg",
    "double_exponential_smoothing",
    "sort_by_label",
    "histogram_count",
    "info",
];

const AGGREGATIONS: &[&str] = &[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "limitk",
];

const BINOPS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2",
    "== bool", "> bool",
];

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec!["a", "b", "le_metric", "nothing", ""]),
            prop::sample::select(vec![
                "",
                "job=\"x\"",
                "job=~\"x|y\"",
                "job!=\"x\"",
                "job!~\".*\"",
                "__name__=~\"a|b\"",
                "job=~\"(\"",
                "le=\"+Inf\"",
            ]),
            prop::sample::select(vec![
                "",
                " offset 1m",
                " offset -30s",
                " @ 300",
                " @ start()",
                " @ end()"
            ]),
        )
            .prop_map(|(n, m, modifier)| {
                let braces = if m.is_empty() && !n.is_empty() {
                    String::new()
                } else {
                    format!("{{{m}}}")
                };
                format!("{n}{braces}{modifier}")
            }),
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "0.5",
            "2",
            "1e308",
            "NaN",
            "Inf",
            "-Inf",
            "100000000000",
            "\"job\"",
            "\"le\"",
            "\"x\"",
            "\"(.*)\"",
            "\"$1\"",
            "\"1bad\"",
        ])
        .prop_map(str::to_string),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 48, 4, |inner| {
        let range = prop::sample::select(vec![
            "[1m]",
            "[5m]",
            "[30s]",
            "[2m:15s]",
            "[10m:]",
            "[1s]",
            "[1000y:1ms]",
            "[100y]",
        ]);
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(BINOPS.to_vec()),
                prop::sample::select(vec![
                    "",
                    " on(job) ",
                    " ignoring(le) ",
                    " on() group_left ",
                    " ignoring(job) group_right(le) ",
                    " on(job) group_left(le) ",
                ]),
                inner.clone()
            )
                .prop_map(|(l, op, m, r)| format!("{l} {op}{m} {r}")),
            (
                prop::sample::select(AGGREGATIONS.to_vec()),
                prop::sample::select(vec!["", " by(job)", " without(le)", " by()",]),
                prop::option::of(inner.clone()),
                inner.clone()
            )
                .prop_map(|(a, g, p, e)| match p {
                    Some(p) => format!("{a}{g} ({p}, {e})"),
                    None => format!("{a}{g} ({e})"),
                }),
            (
                prop::sample::select(FUNCTIONS.to_vec()),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), range.clone()).prop_map(|(e, r)| format!("({e}){r}")),
            (
                prop::sample::select(FUNCTIONS.to_vec()),
                inner.clone(),
                range
            )
                .prop_map(|(f, e, r)| format!("{f}({e}{r})")),
            inner.clone().prop_map(|e| format!("-({e})")),
            inner.prop_map(|e| format!("({e}) offset 1m")),
        ]
    })
}

fn selector() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a", "b", "le_metric", "nothing"]),
        prop::sample::select(vec![
            "",
            "{job=\"x\"}",
            "{job=~\"x|y\"}",
            "{job!=\"y\"}",
            "{le=\"+Inf\"}",
        ]),
        prop::sample::select(vec!["", " offset 1m", " offset -30s", " @ 300", " @ end()"]),
    )
        .prop_map(|(n, m, modifier)| format!("{n}{m}{modifier}"))
}

fn scalar() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "0.5",
        "3",
        "NaN",
        "Inf",
        "time()",
        "(2 * 3)",
        "scalar(a)",
        "1e400",
    ])
    .prop_map(str::to_string)
}

/// Well-typed instant-vector expressions: most of them evaluate.
fn vector_expr() -> impl Strategy<Value = String> {
    selector().prop_recursive(4, 40, 3, |v| {
        let range = prop::sample::select(vec![
            "[1m]",
            "[5m]",
            "[2m:15s]",
            "[10m:]",
            "[45s] offset 1m",
        ]);
        let matrix = prop_oneof![
            (selector(), range.clone()).prop_map(|(s, r)| format!("{s}{r}")),
            (
                v.clone(),
                prop::sample::select(vec!["[2m:15s]", "[5m:1m]", "[1m:] @ 200"])
            )
                .prop_map(|(e, r)| format!("({e}){r}")),
        ];
        prop_oneof![
            (
                v.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<=", "> bool", "atan2",
                ]),
                prop::sample::select(vec![
                    "",
                    " on(job) ",
                    " ignoring(le) ",
                    " on(job) group_left ",
                    " ignoring(le) group_right(job) ",
                ]),
                v.clone()
            )
                .prop_map(|(l, op, m, r)| format!("({l}) {op}{m} ({r})")),
            (
                v.clone(),
                prop::sample::select(vec!["and", "or", "unless"]),
                prop::sample::select(vec!["", " on(job) ", " ignoring(le) "]),
                v.clone()
            )
                .prop_map(|(l, op, m, r)| format!("({l}) {op}{m} ({r})")),
            (
                v.clone(),
                prop::sample::select(vec!["+", "*", ">", "< bool", "^"]),
                scalar(),
                any::<bool>()
            )
                .prop_map(|(e, op, s, swap)| if swap {
                    format!("{s} {op} ({e})")
                } else {
                    format!("({e}) {op} {s}")
                }),
            (
                prop::sample::select(vec![
                    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"
                ]),
                prop::sample::select(vec!["", " by(job)", " without(le)", " by(__name__)"]),
                v.clone()
            )
                .prop_map(|(a, g, e)| format!("{a}{g} ({e})")),
            (
                prop::sample::select(vec!["topk", "bottomk", "quantile", "limitk"]),
                scalar(),
                v.clone()
            )
                .prop_map(|(a, p, e)| format!("{a} by(job) ({p}, {e})")),
            v.clone()
                .prop_map(|e| format!("count_values(\"val\", {e})")),
            (
                prop::sample::select(vec![
                    "abs",
                    "ceil",
                    "floor",
                    "exp",
                    "sqrt",
                    "ln",
                    "log2",
                    "log10",
                    "sgn",
                    "round",
                    "sort",
                    "sort_desc",
                    "timestamp",
                    "day_of_month",
                    "day_of_week",
                    "day_of_year",
                    "days_in_month",
                    "hour",
                    "minute",
                    "month",
                    "year",
                    "absent",
                ]),
                v.clone()
            )
                .prop_map(|(f, e)| format!("{f}({e})")),
            (
                prop::sample::select(vec!["clamp_max", "clamp_min", "round"]),
                v.clone(),
                scalar()
            )
                .prop_map(|(f, e, s)| format!("{f}({e}, {s})")),
            (v.clone(), scalar(), scalar()).prop_map(|(e, a, b)| format!("clamp({e}, {a}, {b})")),
            (scalar(), v.clone()).prop_map(|(q, e)| format!("histogram_quantile({q}, {e})")),
            v.clone().prop_map(|e| format!(
                "label_replace({e}, \"dst\", \"$1-$2\", \"job\", \"(x)|(.*)\")"
            )),
            v.clone()
                .prop_map(|e| format!("label_join({e}, \"job\", \",\", \"le\", \"job\")")),
            v.clone().prop_map(|e| format!("-({e})")),
            scalar().prop_map(|s| format!("vector({s})")),
            (
                prop::sample::select(vec![
                    "rate",
                    "increase",
                    "delta",
                    "irate",
                    "idelta",
                    "deriv",
                    "changes",
                    "resets",
                    "avg_over_time",
                    "min_over_time",
                    "max_over_time",
                    "sum_over_time",
                    "count_over_time",
                    "stddev_over_time",
                    "stdvar_over_time",
                    "last_over_time",
                    "present_over_time",
                    "absent_over_time",
                ]),
                matrix.clone()
            )
                .prop_map(|(f, m)| format!("{f}({m})")),
            (scalar(), matrix.clone()).prop_map(|(q, m)| format!("quantile_over_time({q}, {m})")),
            (matrix, scalar()).prop_map(|(m, d)| format!("predict_linear({m}, {d})")),
        ]
    })
}

fn run(expr: &str) {
    let h = head();
    let engine = Engine::new(EngineOptions {
        max_samples: 100_000,
        ..EngineOptions::default()
    });
    if let Err(e) = gantry_monitor::promql::parse(expr) {
        let QueryError::Parse { line, col, .. } = e else {
            panic!("parse gave {e:?}");
        };
        assert!(line >= 1 && col >= 1);
        return;
    }
    for t in [0, 600_000, -5_000] {
        if let Err(e) = engine.instant_query(&h, expr, t) {
            assert!(!e.to_string().is_empty());
        }
    }
    let _ = engine.range_query(&h, expr, 0, 600_000, 100_000);
}

/// Deep trees at the limit evaluate on a test thread's stack; deeper
/// ones and operator floods are refused, not a stack overflow.
#[test]
fn deep_expressions_are_evaluated_or_refused() {
    use gantry_monitor::promql::MAX_DEPTH;
    let h = head();
    let e = Engine::default();
    let n = MAX_DEPTH - 1;
    let deep = [
        format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        format!("{}a", "-".repeat(n)),
        format!("a{}", " + a".repeat(n - 1)),
        format!("a{}", " or a".repeat(n - 1)),
        format!("{}a{}", "abs(".repeat(n), ")".repeat(n)),
        format!("{}a{}", "sum(".repeat(n), ")".repeat(n)),
        format!("{}a{}", "topk(2, ".repeat(n), ")".repeat(n)),
        format!("{}a{}", "count_values(\"v\", ".repeat(n), ")".repeat(n)),
        format!("{}a{}", "clamp(".repeat(n), ", 0, 1)".repeat(n)),
        format!("{}a{}", "histogram_quantile(0.5, ".repeat(n), ")".repeat(n)),
        format!(
            "{}a{}",
            "label_replace(".repeat(n),
            ", \"d\", \"$1\", \"job\", \"(.*)\")".repeat(n)
        ),
        format!("a{}", " * on(job) group_left a".repeat(n - 1)),
        format!("{}a{}", "timestamp(".repeat(n), ")".repeat(n)),
        format!(
            "{}a{}",
            "max_over_time((".repeat(n / 3),
            ")[1m:30s])".repeat(n / 3)
        ),
    ];
    for q in &deep {
        // Evaluation errors (matching) are fine; refusing is not.
        let refused = |r: &Result<(), QueryError>| matches!(r, Err(QueryError::Parse { .. }));
        let r = e.instant_query(&h, q, 300_000).map(|_| ());
        assert!(!refused(&r), "{}...: {r:?}", &q[..40]);
        let r = e.range_query(&h, q, 0, 300_000, 60_000).map(|_| ());
        assert!(!refused(&r), "{}...: {r:?}", &q[..40]);
    }
    for q in [
        format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        ),
        format!("a{}", " + a".repeat(MAX_DEPTH + 1)),
        format!("a{}", " + a".repeat(100_000)),
        format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("{}a", "-".repeat(100_000)),
    ] {
        let err = e.instant_query(&h, &q, 0).unwrap_err();
        assert!(
            matches!(&err, QueryError::Parse { message, .. } if message.contains("too")),
            "{err}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn grammar_expressions_never_panic(e in expr()) {
        run(&e);
    }

    #[test]
    fn typed_expressions_never_panic(e in vector_expr()) {
        run(&e);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
        run(&s);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(vec![
        "sum", "rate", "(", ")", "[", "]", "{", "}", "5m", ":", "a", "=", "=~", "\"x\"", ",",
        "by", "on", "group_left", "offset", "@", "1", "+", "bool", "and", "\n", "#c\n", "-",
        "start()", "'", "`", "!", "1e", ".", "0x1f",
    ]), 0..20)) {
        run(&tokens.join(" "));
    }
}
