//! Prometheus HTTP API rendering of query results.

use std::fmt::Write;

use super::Value;
use crate::labels::Labels;
use crate::tsdb::Series;

/// A float as Prometheus writes sample values: shortest round-trip
/// decimal without exponent, `NaN`, `+Inf`, `-Inf`.
pub(crate) fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Milliseconds as seconds with up to three decimals, as Prometheus
/// writes timestamps (`1.5` is `1.500`, whole seconds have no point).
fn format_ts(out: &mut String, t: i64) {
    let mut t = t as i128;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let _ = write!(out, "{}", t / 1000);
    let frac = t % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

fn push_str(out: &mut String, s: &str) {
    // Serializing a str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn push_metric(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        push_str(out, v);
    }
    out.push('}');
}

fn push_point(out: &mut String, t: i64, v: &str) {
    out.push('[');
    format_ts(out, t);
    out.push(',');
    push_str(out, v);
    out.push(']');
}

fn push_matrix(out: &mut String, m: &[Series]) {
    out.push('[');
    for (i, s) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        push_metric(out, &s.labels);
        out.push_str(",\"values\":[");
        for (j, (t, v)) in s.samples.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            push_point(out, *t, &format_value(*v));
        }
        out.push_str("]}");
    }
    out.push(']');
}

pub(crate) fn value_json(v: &Value) -> String {
    let mut out = String::new();
    let _ = write!(out, "{{\"resultType\":\"{}\",\"result\":", v.type_name());
    match v {
        Value::Scalar { t, v } => push_point(&mut out, *t, &format_value(*v)),
        Value::String { t, v } => push_point(&mut out, *t, v),
        Value::Vector(samples) => {
            out.push('[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_metric(&mut out, &s.labels);
                out.push_str(",\"value\":");
                push_point(&mut out, s.t, &format_value(s.v));
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(m) => push_matrix(&mut out, m),
    }
    out.push('}');
    out
}

/// The `data` object of a range query response.
pub fn matrix_json(m: &[Series]) -> String {
    let mut out = String::from("{\"resultType\":\"matrix\",\"result\":");
    push_matrix(&mut out, m);
    out.push('}');
    out
}
