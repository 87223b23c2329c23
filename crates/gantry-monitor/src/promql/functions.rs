//! PromQL functions, with Prometheus 2.x's arithmetic (extrapolation,
//! regression, bucket interpolation) and label handling.

use std::collections::{BTreeMap, HashMap, HashSet};

use promql_parser::parser::{Call, Expr, VectorSelector};
use regex::Regex;

use super::QueryError;
use super::Sample;
use super::eval::{
    Evaluator, V, check_duplicates, drop_name, duration_ms, err, expect_scalar, expect_string,
    expect_vector, incremental_mean, quantile, valid_label_name, welford_var,
};
use crate::labels::{Labels, METRIC_NAME};
use crate::tsdb::Series;

fn unwrap_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Go's `math.Max`: NaN wins, +0 beats -0.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, -0 beats +0.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// Go's `strconv.ParseFloat` for the spellings bucket bounds use.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (sign, rest) = match lower.as_bytes().first() {
        Some(b'+') => (1.0, &lower[1..]),
        Some(b'-') => (-1.0, &lower[1..]),
        _ => (1.0, &lower[..]),
    };
    match rest {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if rest.is_empty()
        || !rest
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Labels `absent` and `absent_over_time` give their result: the
/// selector's equality matchers, minus names matched more than once or
/// any other way.
fn absent_labels(e: &Expr) -> Labels {
    let vs: &VectorSelector = match unwrap_parens(e) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut has: HashSet<&str> = HashSet::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, promql_parser::label::MatchOp::Equal) && !has.contains(m.name.as_str()) {
            out.insert(m.name.clone(), m.value.clone());
            has.insert(&m.name);
        } else {
            out.remove(&m.name);
        }
    }
    Labels::new(out)
}

/// The civil date of a day number since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `int64(f)` on amd64: truncation, and the minimum for NaN and
/// values out of range.
fn go_int64(v: f64) -> i64 {
    // 2^63, exactly representable.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&v) {
        v.trunc() as i64
    } else {
        i64::MIN
    }
}

/// Seconds from Go's absolute time origin to the Unix epoch. Go's calendar
/// works on this offset in 64-bit unsigned arithmetic, so the oldest
/// timestamps wrap around into the far future; this follows it.
const GO_UNIX_TO_ABSOLUTE: i128 = 9_223_372_028_715_321_600;

fn date_part(name: &str, secs: i64) -> f64 {
    let abs = (secs as i128 + GO_UNIX_TO_ABSOLUTE).rem_euclid(1 << 64);
    let secs = abs - GO_UNIX_TO_ABSOLUTE;
    // |secs| < 2^64, so the day number fits in an i64.
    let days = secs.div_euclid(86_400) as i64;
    let sod = secs.rem_euclid(86_400) as i64;
    let (y, m, d) = civil(days);
    match name {
        "day_of_month" => d as f64,
        "day_of_week" => (days + 4).rem_euclid(7) as f64,
        "day_of_year" => {
            let cum: u32 = (1..m).map(|mm| days_in_month(y, mm)).sum();
            (cum + d) as f64
        }
        "days_in_month" => days_in_month(y, m) as f64,
        "hour" => (sod / 3600) as f64,
        "minute" => (sod % 3600 / 60) as f64,
        "month" => m as f64,
        // year
        _ => y as f64,
    }
}

fn simple(name: &str, v: f64) -> Option<f64> {
    Some(match name {
        "abs" => v.abs(),
        "ceil" => v.ceil(),
        "floor" => v.floor(),
        "exp" => v.exp(),
        "sqrt" => v.sqrt(),
        "ln" => v.ln(),
        "log2" => v.log2(),
        "log10" => v.log10(),
        "sgn" => {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        }
        "acos" => v.acos(),
        "acosh" => v.acosh(),
        "asin" => v.asin(),
        "asinh" => v.asinh(),
        "atan" => v.atan(),
        "atanh" => v.atanh(),
        "cos" => v.cos(),
        "cosh" => v.cosh(),
        "sin" => v.sin(),
        "sinh" => v.sinh(),
        "tan" => v.tan(),
        "tanh" => v.tanh(),
        "deg" => v * 180.0 / std::f64::consts::PI,
        "rad" => v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

fn map_vector(v: Vec<Sample>, ts: i64, f: impl Fn(f64) -> f64) -> Result<V, QueryError> {
    let out: Vec<Sample> = v
        .into_iter()
        .map(|s| Sample {
            labels: drop_name(&s.labels),
            t: ts,
            v: f(s.v),
        })
        .collect();
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

#[inline(never)]
fn f_simple(ev: &mut Evaluator, name: &str, arg: &Expr, ts: i64) -> Result<V, QueryError> {
    let v = expect_vector(ev.eval(arg, ts)?)?;
    map_vector(v, ts, |x| simple(name, x).unwrap_or(x))
}

const MATRIX_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "predict_linear",
    "changes",
    "resets",
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
    "double_exponential_smoothing",
];

/// Argument `i` of a call.
fn nth<'e>(args: &[&'e Expr], name: &str, i: usize) -> Result<&'e Expr, QueryError> {
    args.get(i)
        .copied()
        .ok_or_else(|| QueryError::Execution(format!("missing argument {i} of {name}")))
}

/// Evaluates a function call. Each function lives in its own
/// `#[inline(never)]` function so that nested calls only stack the frame
/// of the function in use (deep trees must fit a thread's stack).
pub(super) fn call(ev: &mut Evaluator, c: &Call, ts: i64) -> Result<V, QueryError> {
    let name = c.func.name;
    let args: Vec<&Expr> = c.args.args.iter().map(|a| unwrap_parens(a)).collect();
    let arg = |i: usize| nth(&args, name, i);
    if MATRIX_FUNCTIONS.contains(&name) {
        return matrix_call(ev, name, &args, ts);
    }
    if simple(name, 0.0).is_some() {
        return f_simple(ev, name, arg(0)?, ts);
    }
    match name {
        "time" => Ok(V::Scalar(ts as f64 / 1000.0)),
        "pi" => Ok(V::Scalar(std::f64::consts::PI)),
        "vector" => f_vector(ev, name, &args, ts),
        "scalar" => f_scalar(ev, name, &args, ts),
        "timestamp" => f_timestamp(ev, name, &args, ts),
        "absent" => f_absent(ev, name, &args, ts),
        "absent_over_time" => f_absent_over_time(ev, name, &args, ts),
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => f_date(ev, name, &args, ts),
        "round" => f_round(ev, name, &args, ts),
        "clamp" => f_clamp(ev, name, &args, ts),
        "clamp_max" => f_clamp_max(ev, name, &args, ts),
        "clamp_min" => f_clamp_min(ev, name, &args, ts),
        "sort" | "sort_desc" => f_sort(ev, name, &args, ts),
        "label_replace" => f_label_replace(ev, name, &args, ts),
        "label_join" => f_label_join(ev, name, &args, ts),
        "histogram_quantile" => f_histogram_quantile(ev, name, &args, ts),
        other => err(format!("function {other}() is not supported")),
    }
}

#[inline(never)]
fn f_vector(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_scalar(ev.eval(arg(0)?, ts)?)?;
    Ok(V::Vector(vec![Sample {
        labels: Labels::default(),
        t: ts,
        v,
    }]))
}

#[inline(never)]
fn f_scalar(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    Ok(V::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }))
}

#[inline(never)]
fn f_timestamp(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = match arg(0)? {
        Expr::VectorSelector(vs) => ev.instant_selector(vs, ts)?,
        other => expect_vector(ev.eval(other, ts)?)?,
    };
    let out: Vec<Sample> = v
        .into_iter()
        .map(|s| Sample {
            labels: drop_name(&s.labels),
            t: ts,
            v: s.t as f64 / 1000.0,
        })
        .collect();
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

#[inline(never)]
fn f_absent(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    Ok(V::Vector(if v.is_empty() {
        vec![Sample {
            labels: absent_labels(arg(0)?),
            t: ts,
            v: 1.0,
        }]
    } else {
        Vec::new()
    }))
}

#[inline(never)]
fn f_absent_over_time(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let m = match ev.eval(arg(0)?, ts)? {
        V::Matrix(m) => m,
        other => return err(format!("expected range vector, got {}", other.type_name())),
    };
    Ok(V::Vector(if m.is_empty() {
        vec![Sample {
            labels: absent_labels(arg(0)?),
            t: ts,
            v: 1.0,
        }]
    } else {
        Vec::new()
    }))
}

#[inline(never)]
fn f_date(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    if args.is_empty() {
        return Ok(V::Vector(vec![Sample {
            labels: Labels::default(),
            t: ts,
            v: date_part(name, ts.div_euclid(1000)),
        }]));
    }
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    map_vector(v, ts, |x| date_part(name, go_int64(x)))
}

#[inline(never)]
fn f_round(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let to_nearest = match args.get(1) {
        Some(e) => expect_scalar(ev.eval(e, ts)?)?,
        None => 1.0,
    };
    let inv = 1.0 / to_nearest;
    map_vector(v, ts, |x| (x * inv + 0.5).floor() / inv)
}

#[inline(never)]
fn f_clamp(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let min = expect_scalar(ev.eval(arg(1)?, ts)?)?;
    let max = expect_scalar(ev.eval(arg(2)?, ts)?)?;
    if max < min {
        return Ok(V::Vector(Vec::new()));
    }
    map_vector(v, ts, |x| go_max(min, go_min(max, x)))
}

#[inline(never)]
fn f_clamp_max(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let max = expect_scalar(ev.eval(arg(1)?, ts)?)?;
    map_vector(v, ts, |x| go_min(x, max))
}

#[inline(never)]
fn f_clamp_min(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let min = expect_scalar(ev.eval(arg(1)?, ts)?)?;
    map_vector(v, ts, |x| go_max(x, min))
}

#[inline(never)]
fn f_sort(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let mut v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let desc = name == "sort_desc";
    v.sort_by(|a, b| {
        use std::cmp::Ordering;
        match (a.v.is_nan(), b.v.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if desc => b.v.partial_cmp(&a.v).unwrap_or(Ordering::Equal),
            _ => a.v.partial_cmp(&b.v).unwrap_or(Ordering::Equal),
        }
    });
    for s in &mut v {
        s.t = ts;
    }
    Ok(V::Vector(v))
}

#[inline(never)]
fn f_label_replace(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let dst = expect_string(ev.eval(arg(1)?, ts)?)?;
    let repl = expect_string(ev.eval(arg(2)?, ts)?)?;
    let src = expect_string(ev.eval(arg(3)?, ts)?)?;
    let re_str = expect_string(ev.eval(arg(4)?, ts)?)?;
    let re = Regex::new(&format!("^(?s:{re_str})$")).map_err(|_| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {re_str}"
        ))
    })?;
    if !valid_label_name(&dst) {
        return err(format!(
            "invalid destination label name in label_replace(): {dst}"
        ));
    }
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let src_val = s.labels.get(&src).unwrap_or("");
        let labels = match re.captures(src_val) {
            None => s.labels.clone(),
            Some(caps) => {
                let mut res = String::new();
                caps.expand(&repl, &mut res);
                let mut pairs: BTreeMap<String, String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                pairs.insert(dst.clone(), res);
                Labels::new(pairs)
            }
        };
        out.push(Sample {
            labels,
            t: ts,
            v: s.v,
        });
    }
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

#[inline(never)]
fn f_label_join(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let dst = expect_string(ev.eval(arg(1)?, ts)?)?;
    let sep = expect_string(ev.eval(arg(2)?, ts)?)?;
    let mut srcs = Vec::new();
    for e in args.iter().skip(3) {
        let src = expect_string(ev.eval(e, ts)?)?;
        if !valid_label_name(&src) {
            return err(format!("invalid source label name in label_join(): {src}"));
        }
        srcs.push(src);
    }
    if !valid_label_name(&dst) {
        return err(format!(
            "invalid destination label name in label_join(): {dst}"
        ));
    }
    let v = expect_vector(ev.eval(arg(0)?, ts)?)?;
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        let joined = srcs
            .iter()
            .map(|n| s.labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&sep);
        let mut pairs: BTreeMap<String, String> = s
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pairs.insert(dst.clone(), joined);
        out.push(Sample {
            labels: Labels::new(pairs),
            t: ts,
            v: s.v,
        });
    }
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

#[inline(never)]
fn f_histogram_quantile(
    ev: &mut Evaluator,
    name: &'static str,
    args: &[&Expr],
    ts: i64,
) -> Result<V, QueryError> {
    let arg = |i: usize| nth(args, name, i);
    let q = expect_scalar(ev.eval(arg(0)?, ts)?)?;
    let v = expect_vector(ev.eval(arg(1)?, ts)?)?;
    histogram_quantile(q, v, ts)
}

fn histogram_quantile(q: f64, v: Vec<Sample>, ts: i64) -> Result<V, QueryError> {
    // Grouped by every label but `le` (the name included), in first-seen order.
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, (Labels, Vec<(f64, f64)>)> = HashMap::new();
    for s in v {
        let Some(upper) = s.labels.get("le").and_then(parse_go_float) else {
            continue;
        };
        let key = Labels::new(s.labels.iter().filter(|(k, _)| *k != "le"));
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (
                Labels::new(
                    s.labels
                        .iter()
                        .filter(|(k, _)| *k != "le" && *k != METRIC_NAME),
                ),
                Vec::new(),
            )
        });
        entry.1.push((upper, s.v));
    }
    let mut out = Vec::new();
    for key in order {
        if let Some((labels, buckets)) = groups.remove(&key) {
            out.push(Sample {
                labels,
                t: ts,
                v: bucket_quantile(q, buckets),
            });
        }
    }
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    match buckets.last() {
        Some((ub, _)) if *ub == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Coalesce equal bounds.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.0 == b.0 => last.1 += b.1,
            _ => merged.push(b),
        }
    }
    // Force counts to be monotonic.
    let mut max = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let n = merged.len() - 1;
    let b = merged[..n].partition_point(|b| b.1 < rank);
    if b == n {
        return merged[n - 1].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let mut start = 0.0;
    let end = merged[b].0;
    let mut count = merged[b].1;
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// The time range a matrix argument covers at `ts`: its reference time
/// (end) and its range.
fn matrix_window(ev: &Evaluator, e: &Expr, ts: i64) -> (i64, i64) {
    let (offset, at, range) = match e {
        Expr::MatrixSelector(ms) => (&ms.vs.offset, &ms.vs.at, duration_ms(&ms.range)),
        Expr::Subquery(sq) => (&sq.offset, &sq.at, duration_ms(&sq.range)),
        _ => return (ts, 0),
    };
    let off = match offset {
        None => 0,
        Some(promql_parser::parser::Offset::Pos(d)) => duration_ms(d),
        Some(promql_parser::parser::Offset::Neg(d)) => -duration_ms(d),
    };
    let at_t = ev.at_of(at);
    (at_t.unwrap_or(ts).saturating_sub(off), range)
}

fn matrix_call(ev: &mut Evaluator, name: &str, args: &[&Expr], ts: i64) -> Result<V, QueryError> {
    let mi = match name {
        "quantile_over_time" => 1,
        _ => 0,
    };
    let Some(m_expr) = args.get(mi).copied() else {
        return err(format!("missing range vector argument of {name}"));
    };
    let mut scalars = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != mi {
            scalars.push(expect_scalar(ev.eval(a, ts)?)?);
        }
    }
    // The parser checks the argument count; NaN stands in regardless.
    let param = |i: usize| scalars.get(i).copied().unwrap_or(f64::NAN);
    let (ref_t, range) = matrix_window(ev, m_expr, ts);
    if name == "double_exponential_smoothing" {
        let (sf, tf) = (param(0), param(1));
        if sf <= 0.0 || sf >= 1.0 {
            return err(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
            ));
        }
        if tf <= 0.0 || tf >= 1.0 {
            return err(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
            ));
        }
    }
    let keep_name = name == "last_over_time";
    let value_of = |pts: &[(i64, f64)]| window_value(name, pts, ref_t, range, ts, &scalars);
    let mut out = Vec::new();
    if let Expr::MatrixSelector(ms) = m_expr {
        // The common case: read the selected samples in place.
        ev.for_each_window(&ms.vs, duration_ms(&ms.range), ts, |ev, labels, pts| {
            if let Some(v) = value_of(pts) {
                let labels = if keep_name {
                    labels.clone()
                } else {
                    ev.drop_name(labels)
                };
                out.push(Sample { labels, t: ts, v });
            }
        })?;
        // Selected series are distinct; without their names they may not be.
        if !keep_name && !ev.distinct_without_name(&ms.vs) {
            check_duplicates(&out)?;
        }
        return Ok(V::Vector(out));
    }
    let matrix: Vec<Series> = match ev.eval(m_expr, ts)? {
        V::Matrix(m) => m,
        other => return err(format!("expected range vector, got {}", other.type_name())),
    };
    for s in matrix {
        if let Some(v) = value_of(&s.samples) {
            let labels = if keep_name {
                s.labels
            } else {
                ev.drop_name(&s.labels)
            };
            out.push(Sample { labels, t: ts, v });
        }
    }
    check_duplicates(&out)?;
    Ok(V::Vector(out))
}

/// A range-vector function's value over one series' samples in the window
/// `[ref_t - range, ref_t]`; `None` when the function has no value there.
fn window_value(
    name: &str,
    pts: &[(i64, f64)],
    ref_t: i64,
    range: i64,
    ts: i64,
    scalars: &[f64],
) -> Option<f64> {
    let param = |i: usize| scalars.get(i).copied().unwrap_or(f64::NAN);
    let vals = || pts.iter().map(|p| p.1);
    match name {
        "rate" => extrapolated_rate(pts, ref_t.saturating_sub(range), ref_t, range, true, true),
        "increase" => {
            extrapolated_rate(pts, ref_t.saturating_sub(range), ref_t, range, true, false)
        }
        "delta" => extrapolated_rate(pts, ref_t.saturating_sub(range), ref_t, range, false, false),
        "irate" => instant_value(pts, true),
        "idelta" => instant_value(pts, false),
        "deriv" => (pts.len() >= 2).then(|| linear_regression(pts, pts[0].0).0),
        "predict_linear" => (pts.len() >= 2).then(|| {
            // Anchored at the evaluation time, also for an `@` argument
            // (Prometheus evaluates predict_linear at every step).
            let (slope, intercept) = linear_regression(pts, ts);
            slope * param(0) + intercept
        }),
        "changes" => Some(
            pts.windows(2)
                .filter(|w| w[0].1 != w[1].1 && !(w[0].1.is_nan() && w[1].1.is_nan()))
                .count() as f64,
        ),
        "resets" => Some(pts.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64),
        "avg_over_time" => Some(incremental_mean(vals())),
        "min_over_time" => vals().reduce(|acc, v| if v < acc || acc.is_nan() { v } else { acc }),
        "max_over_time" => vals().reduce(|acc, v| if v > acc || acc.is_nan() { v } else { acc }),
        "sum_over_time" => Some(kahan_sum(vals())),
        "count_over_time" => Some(pts.len() as f64),
        "quantile_over_time" => Some(quantile(param(0), vals().collect())),
        "stddev_over_time" => Some(welford_var(vals()).sqrt()),
        "stdvar_over_time" => Some(welford_var(vals())),
        "last_over_time" => pts.last().map(|p| p.1),
        "present_over_time" => Some(1.0),
        "double_exponential_smoothing" => smoothing(pts, param(0), param(1)),
        _ => unreachable!("MATRIX_FUNCTIONS lists the names handled here"),
    }
}

fn kahan_sum(it: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for v in it {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            c += (sum - t) + v;
        } else {
            c += (v - t) + sum;
        }
        sum = t;
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// `rate`, `increase` and `delta`: the change over the samples,
/// extrapolated towards the range's edges as Prometheus does.
fn extrapolated_rate(
    pts: &[(i64, f64)],
    range_start: i64,
    range_end: i64,
    range_ms: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (first_t, first_v) = pts[0];
    let (last_t, last_v) = pts[pts.len() - 1];
    let mut result = last_v - first_v;
    if is_counter {
        let mut last = 0.0;
        for &(_, v) in pts {
            if v < last {
                result += last;
            }
            last = v;
        }
    }
    let mut duration_to_start = (first_t - range_start) as f64 / 1000.0;
    let duration_to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg_between = sampled / (pts.len() - 1) as f64;
    if is_counter && result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < duration_to_start {
            duration_to_start = to_zero;
        }
    }
    let threshold = avg_between * 1.1;
    let mut interval = sampled;
    interval += if duration_to_start < threshold {
        duration_to_start
    } else {
        avg_between / 2.0
    };
    interval += if duration_to_end < threshold {
        duration_to_end
    } else {
        avg_between / 2.0
    };
    let mut factor = interval / sampled;
    if is_rate {
        factor /= range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` and `idelta`: the last two samples.
fn instant_value(pts: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (lt, lv) = pts[pts.len() - 1];
    let (pt, pv) = pts[pts.len() - 2];
    let mut result = if is_rate && lv < pv { lv } else { lv - pv };
    let interval = lt - pt;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares slope and intercept (at `intercept_t`), x in seconds.
fn linear_regression(pts: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut sy, mut sxy, mut sx2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = pts[0].1;
    let mut const_y = true;
    for (i, &(t, v)) in pts.iter().enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_t) as f64 / 1000.0;
        sx += x;
        sy += v;
        sxy += x * v;
        sx2 += x * x;
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

fn smoothing(pts: &[(i64, f64)], sf: f64, tf: f64) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, pts[0].1);
    let mut b = pts[1].1 - pts[0].1;
    for (i, &(_, v)) in pts.iter().enumerate().skip(1) {
        let x = sf * v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}
