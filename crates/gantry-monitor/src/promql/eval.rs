//! The evaluator: one expression at one timestamp at a time.
//!
//! Before evaluating, [`Evaluator::new`] walks the tree once and selects
//! every selector's series over the whole time range any step will need
//! (offsets, `@`, lookback, ranges and subqueries included). Steps then
//! binary-search those samples. Subquery steps are memoized per inner
//! timestamp, so a range query over a subquery evaluates each inner step
//! once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_DIV, T_EQLC, T_GROUP, T_GTE,
    T_GTR, T_LAND, T_LIMITK, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MAX, T_MIN, T_MOD, T_MUL, T_NEQ,
    T_POW, T_QUANTILE, T_STDDEV, T_STDVAR, T_SUB, T_SUM, T_TOPK,
};
use promql_parser::parser::{
    AggregateExpr, AtModifier, BinaryExpr, Expr, LabelModifier, Offset, SubqueryExpr,
    VectorMatchCardinality, VectorSelector,
};

use super::{EngineOptions, QueryError, Sample, Value, is_stale_nan};
use crate::labels::{FastMap, Labels, METRIC_NAME, MatchOp, Matcher};
use crate::tsdb::{Queryable, Series};

/// An intermediate value.
#[derive(Debug, Clone)]
pub(super) enum V {
    Scalar(f64),
    Str(String),
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl V {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            V::Scalar(_) => "scalar",
            V::Str(_) => "string",
            V::Vector(_) => "instant vector",
            V::Matrix(_) => "range vector",
        }
    }
}

pub(super) fn err<T>(msg: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError::Execution(msg.into()))
}

pub(super) fn expect_vector(v: V) -> Result<Vec<Sample>, QueryError> {
    match v {
        V::Vector(v) => Ok(v),
        other => err(format!(
            "expected instant vector, got {}",
            other.type_name()
        )),
    }
}

pub(super) fn expect_scalar(v: V) -> Result<f64, QueryError> {
    match v {
        V::Scalar(s) => Ok(s),
        other => err(format!("expected scalar, got {}", other.type_name())),
    }
}

pub(super) fn expect_string(v: V) -> Result<String, QueryError> {
    match v {
        V::Str(s) => Ok(s),
        other => err(format!("expected string, got {}", other.type_name())),
    }
}

pub(super) fn duration_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(d),
        Some(Offset::Neg(d)) => -duration_ms(d),
    }
}

fn system_time_ms(t: &SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => duration_ms(&d),
        Err(e) => -duration_ms(&e.duration()),
    }
}

/// Labels without `__name__`.
pub(super) fn drop_name(l: &Labels) -> Labels {
    if l.metric_name().is_none() {
        return l.clone();
    }
    Labels::new(l.iter().filter(|(k, _)| *k != METRIC_NAME))
}

/// Labels formatted the way Prometheus's Go code prints them in errors.
pub(super) fn go_labels(l: &Labels) -> String {
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

pub(super) fn check_duplicates(v: &[Sample]) -> Result<(), QueryError> {
    let mut seen = HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.labels) {
            return err("vector cannot contain metrics with the same labelset");
        }
    }
    Ok(())
}

/// The depth of an expression tree, computed without recursion.
pub(super) fn depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match e {
            Expr::Aggregate(a) => {
                stack.push((&a.expr, d + 1));
                if let Some(p) = &a.param {
                    stack.push((p, d + 1));
                }
            }
            Expr::Unary(u) => stack.push((&u.expr, d + 1)),
            Expr::Binary(b) => {
                stack.push((&b.lhs, d + 1));
                stack.push((&b.rhs, d + 1));
            }
            Expr::Paren(p) => stack.push((&p.expr, d + 1)),
            Expr::Subquery(s) => stack.push((&s.expr, d + 1)),
            Expr::Call(c) => stack.extend(c.args.args.iter().map(|a| (&**a, d + 1))),
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_)
            | Expr::Extension(_) => {}
        }
    }
    max
}

/// The labels an aggregation groups `l` by: those named (`by`), or all
/// but those named and `__name__` (`without`).
fn group_labels(l: &Labels, without: bool, grouping: &[String]) -> Labels {
    if without {
        Labels::new(
            l.iter()
                .filter(|(k, _)| *k != METRIC_NAME && !grouping.iter().any(|g| g == k)),
        )
    } else {
        Labels::new(l.iter().filter(|(k, _)| grouping.iter().any(|g| g == k)))
    }
}

/// Whether `e` holds a subquery anywhere.
fn has_subquery(e: &Expr) -> bool {
    match e {
        Expr::Subquery(_) => true,
        Expr::Aggregate(a) => has_subquery(&a.expr) || a.param.as_deref().is_some_and(has_subquery),
        Expr::Unary(u) => has_subquery(&u.expr),
        Expr::Binary(b) => has_subquery(&b.lhs) || has_subquery(&b.rhs),
        Expr::Paren(p) => has_subquery(&p.expr),
        Expr::Call(c) => c.args.args.iter().any(|a| has_subquery(a)),
        Expr::MatrixSelector(_)
        | Expr::VectorSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => false,
    }
}

/// Identity of a selector node in the (immutable, borrowed) tree.
fn key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

pub(super) struct Evaluator<'a> {
    pub(super) opts: &'a EngineOptions,
    /// The query's start and end, for `@ start()` and `@ end()`.
    start: i64,
    end: i64,
    data: HashMap<usize, Rc<Vec<Series>>>,
    memo: HashMap<(usize, i64), V>,
    /// Samples loaded for the current top-level step.
    loaded: usize,
    /// Label sets derived from a source set (without `__name__`, or an
    /// aggregation's grouping), keyed by the deriving node (0 for
    /// dropping the name) and the source's identity. Selected series keep
    /// their label sets across steps, so a range query derives each once
    /// instead of at every step. The source is kept alive beside the
    /// result, so its identity cannot be reused while cached.
    derived: FastMap<(usize, usize), (Labels, Labels)>,
    /// Per aggregation node, one shared label set per distinct group, so
    /// that with `memoize` the series of one group share their group's
    /// labels and steps find groups by identity instead of by content.
    groups: FastMap<(usize, Labels), Labels>,
    /// Whether derived label sets are worth remembering: only when
    /// something is evaluated at more than one time (a range query, a
    /// subquery); for one instant the bookkeeping would cost more than it
    /// saves.
    memoize: bool,
    /// Per selector: whether its series stay distinct without `__name__`
    /// (then a function's output over them needs no duplicate check).
    distinct_without_name: HashMap<usize, bool>,
    /// Per range selector: where the last window of each series began and
    /// ended, and the window's bounds. Steps move forward in time, so the
    /// next window is found by stepping on from there, which reads memory
    /// in order instead of binary-searching every series at every step.
    cursors: HashMap<usize, Cursor>,
}

#[derive(Default)]
struct Cursor {
    from: i64,
    to: i64,
    /// `(lo, hi)` per series: the window is `samples[lo..hi]`.
    at: Vec<(usize, usize)>,
    /// Per series: whether any of its selected samples is a staleness
    /// marker (windows of the others need no filtering).
    stale: Vec<bool>,
}

impl<'a> Evaluator<'a> {
    fn new(
        opts: &'a EngineOptions,
        q: &dyn Queryable,
        expr: &Expr,
        start: i64,
        end: i64,
    ) -> Result<Evaluator<'a>, QueryError> {
        let mut ev = Evaluator {
            opts,
            start,
            end,
            data: HashMap::new(),
            memo: HashMap::new(),
            loaded: 0,
            derived: FastMap::default(),
            groups: FastMap::default(),
            memoize: start != end || has_subquery(expr),
            distinct_without_name: HashMap::new(),
            cursors: HashMap::new(),
        };
        let mut ranges: HashMap<usize, (i64, i64, &VectorSelector)> = HashMap::new();
        ev.plan(expr, start, end, &mut ranges);
        for (k, (mint, maxt, vs)) in ranges {
            let matchers = selector_matchers(vs)?;
            let series = q.select(&matchers, mint, maxt);
            ev.data.insert(k, Rc::new(series));
        }
        Ok(ev)
    }

    pub(super) fn at_of(&self, at: &Option<AtModifier>) -> Option<i64> {
        self.at_ms(at)
    }

    fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.start),
            Some(AtModifier::End) => Some(self.end),
            Some(AtModifier::At(t)) => Some(system_time_ms(t)),
        }
    }

    /// Records the time range each selector needs when its node is
    /// evaluated at every time in `start..=end`.
    fn plan<'e>(
        &self,
        e: &'e Expr,
        start: i64,
        end: i64,
        out: &mut HashMap<usize, (i64, i64, &'e VectorSelector)>,
    ) {
        let mut add = |vs: &'e VectorSelector, back: i64| {
            let off = offset_ms(&vs.offset);
            let (s, e) = match self.at_ms(&vs.at) {
                Some(t) => (t, t),
                None => (start, end),
            };
            let (mint, maxt) = (
                s.saturating_sub(off).saturating_sub(back),
                e.saturating_sub(off),
            );
            let entry = out.entry(key(vs)).or_insert((mint, maxt, vs));
            entry.0 = entry.0.min(mint);
            entry.1 = entry.1.max(maxt);
        };
        match e {
            Expr::VectorSelector(vs) => add(vs, self.opts.lookback_delta_ms),
            Expr::MatrixSelector(ms) => add(&ms.vs, duration_ms(&ms.range)),
            Expr::Subquery(sq) => {
                let off = offset_ms(&sq.offset);
                let range = duration_ms(&sq.range);
                let (s, en) = match self.at_ms(&sq.at) {
                    Some(t) => (t, t),
                    None => (start, end),
                };
                self.plan(
                    &sq.expr,
                    s.saturating_sub(off).saturating_sub(range),
                    en.saturating_sub(off),
                    out,
                );
            }
            Expr::Aggregate(a) => {
                self.plan(&a.expr, start, end, out);
                if let Some(p) = &a.param {
                    self.plan(p, start, end, out);
                }
            }
            Expr::Unary(u) => self.plan(&u.expr, start, end, out),
            Expr::Binary(b) => {
                self.plan(&b.lhs, start, end, out);
                self.plan(&b.rhs, start, end, out);
            }
            Expr::Paren(p) => self.plan(&p.expr, start, end, out),
            Expr::Call(c) => {
                for a in &c.args.args {
                    self.plan(a, start, end, out);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    fn count(&mut self, n: usize) -> Result<(), QueryError> {
        self.loaded = self.loaded.saturating_add(n);
        if self.loaded > self.opts.max_samples {
            return Err(QueryError::TooManySamples);
        }
        Ok(())
    }

    /// `l` without `__name__`, derived once per source label set.
    pub(super) fn drop_name(&mut self, l: &Labels) -> Labels {
        if !self.memoize {
            return drop_name(l);
        }
        let key = (0, l.identity());
        if let Some((_, d)) = self.derived.get(&key) {
            return d.clone();
        }
        if l.metric_name().is_none() {
            return l.clone();
        }
        let d = drop_name(l);
        self.derived.insert(key, (l.clone(), d.clone()));
        d
    }

    /// The group an aggregation node puts `l` in, derived once per source
    /// label set.
    fn group_of(&mut self, node: usize, l: &Labels, without: bool, grouping: &[String]) -> Labels {
        let key = (node, l.identity());
        if self.memoize
            && let Some((_, g)) = self.derived.get(&key)
        {
            return g.clone();
        }
        let mut g = group_labels(l, without, grouping);
        if self.memoize {
            g = self.groups.entry((node, g.clone())).or_insert(g).clone();
            self.derived.insert(key, (l.clone(), g.clone()));
        }
        g
    }

    /// Whether `vs`'s series stay distinct once `__name__` is dropped.
    pub(super) fn distinct_without_name(&mut self, vs: &VectorSelector) -> bool {
        if let Some(&d) = self.distinct_without_name.get(&key(vs)) {
            return d;
        }
        let data = self.series_of(vs);
        let mut seen = HashSet::with_capacity(data.len());
        let distinct = data.iter().all(|s| seen.insert(drop_name(&s.labels)));
        self.distinct_without_name.insert(key(vs), distinct);
        distinct
    }

    /// Calls `f` with each series of the range selector `vs` at `ts` and
    /// its samples in `[ref - range, ref]` without staleness markers,
    /// borrowing the selected samples instead of copying them; series
    /// without samples in the window are skipped. Counts the samples
    /// against the query's limit.
    pub(super) fn for_each_window(
        &mut self,
        vs: &VectorSelector,
        range: i64,
        ts: i64,
        mut f: impl FnMut(&mut Self, &Labels, &[(i64, f64)]),
    ) -> Result<(), QueryError> {
        let data = self.series_of(vs);
        let ref_t = self
            .at_ms(&vs.at)
            .unwrap_or(ts)
            .saturating_sub(offset_ms(&vs.offset));
        let from = ref_t.saturating_sub(range);
        let mut n = 0;
        let mut buf: Vec<(i64, f64)> = Vec::new();
        let mut cursor = self.cursors.remove(&key(vs)).unwrap_or_default();
        let forward = cursor.at.len() == data.len() && from >= cursor.from && ref_t >= cursor.to;
        if !forward {
            cursor.at.clear();
            cursor.at.resize(data.len(), (0, 0));
            cursor.stale = data
                .iter()
                .map(|s| s.samples.iter().any(|(_, v)| is_stale_nan(*v)))
                .collect();
        }
        cursor.from = from;
        cursor.to = ref_t;
        for ((s, (lo, hi)), &stale) in data.iter().zip(cursor.at.iter_mut()).zip(&cursor.stale) {
            let samples = &s.samples;
            if forward {
                while *lo < samples.len() && samples[*lo].0 < from {
                    *lo += 1;
                }
                *hi = (*hi).max(*lo);
                while *hi < samples.len() && samples[*hi].0 <= ref_t {
                    *hi += 1;
                }
            } else {
                *lo = samples.partition_point(|(t, _)| *t < from);
                *hi = samples.partition_point(|(t, _)| *t <= ref_t).max(*lo);
            }
            let window = &samples[*lo..*hi];
            let pts: &[(i64, f64)] = if stale && window.iter().any(|(_, v)| is_stale_nan(*v)) {
                buf.clear();
                buf.extend(window.iter().copied().filter(|(_, v)| !is_stale_nan(*v)));
                &buf
            } else {
                window
            };
            if pts.is_empty() {
                continue;
            }
            n += pts.len();
            f(self, &s.labels, pts);
        }
        self.cursors.insert(key(vs), cursor);
        self.count(n)
    }

    fn series_of(&self, vs: &VectorSelector) -> Rc<Vec<Series>> {
        // `new` planned and selected every selector of the tree.
        self.data.get(&key(vs)).cloned().unwrap_or_default()
    }

    /// An instant selector at `ts`. Samples carry their own timestamps.
    pub(super) fn instant_selector(
        &mut self,
        vs: &VectorSelector,
        ts: i64,
    ) -> Result<Vec<Sample>, QueryError> {
        let data = self.series_of(vs);
        let ref_t = self
            .at_ms(&vs.at)
            .unwrap_or(ts)
            .saturating_sub(offset_ms(&vs.offset));
        let lookback = self.opts.lookback_delta_ms;
        let mut out = Vec::new();
        for s in data.iter() {
            let idx = s.samples.partition_point(|(t, _)| *t <= ref_t);
            if idx == 0 {
                continue;
            }
            let (t, v) = s.samples[idx - 1];
            if t < ref_t.saturating_sub(lookback) || is_stale_nan(v) {
                continue;
            }
            out.push(Sample {
                labels: s.labels.clone(),
                t,
                v,
            });
        }
        self.count(out.len())?;
        Ok(out)
    }

    /// A range selector at `ts`: samples in `[ref - range, ref]` without
    /// staleness markers; series without samples are left out.
    pub(super) fn range_selector(
        &mut self,
        vs: &VectorSelector,
        range: i64,
        ts: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let data = self.series_of(vs);
        let ref_t = self
            .at_ms(&vs.at)
            .unwrap_or(ts)
            .saturating_sub(offset_ms(&vs.offset));
        let mut out = Vec::new();
        let mut n = 0;
        for s in data.iter() {
            let lo = s
                .samples
                .partition_point(|(t, _)| *t < ref_t.saturating_sub(range));
            let hi = s.samples.partition_point(|(t, _)| *t <= ref_t);
            let samples: Vec<(i64, f64)> = s.samples[lo..hi.max(lo)]
                .iter()
                .copied()
                .filter(|(_, v)| !is_stale_nan(*v))
                .collect();
            if !samples.is_empty() {
                n += samples.len();
                out.push(Series {
                    labels: s.labels.clone(),
                    samples,
                });
            }
        }
        self.count(n)?;
        Ok(out)
    }

    /// A subquery at `ts`: the inner expression at every multiple of the
    /// step in `[ref - range, ref]`.
    pub(super) fn subquery(
        &mut self,
        sq: &SubqueryExpr,
        ts: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let step = sq
            .step
            .as_ref()
            .map(duration_ms)
            .filter(|s| *s > 0)
            .unwrap_or(self.opts.default_subquery_step_ms)
            .max(1);
        let end = self
            .at_ms(&sq.at)
            .unwrap_or(ts)
            .saturating_sub(offset_ms(&sq.offset));
        let range = duration_ms(&sq.range);
        let lo = end.saturating_sub(range);
        // Every inner step costs at least a sample of the budget.
        if (end as i128 - lo as i128) / step as i128 > self.opts.max_samples as i128 {
            return Err(QueryError::TooManySamples);
        }
        let mut t = step * (lo / step);
        if t < lo {
            t = t.saturating_add(step);
        }
        let node = &*sq.expr as *const Expr as usize;
        let mut series: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut n = 0;
        while t <= end {
            let v = match self.memo.get(&(node, t)) {
                Some(v) => v.clone(),
                None => {
                    let v = self.eval(&sq.expr, t)?;
                    self.memo.insert((node, t), v.clone());
                    v
                }
            };
            match v {
                V::Scalar(v) => {
                    series.entry(Labels::default()).or_default().push((t, v));
                    n += 1;
                }
                V::Vector(samples) => {
                    n += samples.len();
                    for s in samples {
                        series.entry(s.labels).or_default().push((t, s.v));
                    }
                }
                other => {
                    return err(format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        other.type_name()
                    ));
                }
            }
            match t.checked_add(step) {
                Some(next) => t = next,
                None => break,
            }
        }
        self.count(n)?;
        Ok(series
            .into_iter()
            .map(|(labels, samples)| Series { labels, samples })
            .collect())
    }

    pub(super) fn eval(&mut self, e: &Expr, ts: i64) -> Result<V, QueryError> {
        match e {
            Expr::NumberLiteral(n) => Ok(V::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(V::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, ts),
            Expr::Unary(u) => match self.eval(&u.expr, ts)? {
                V::Scalar(v) => Ok(V::Scalar(-v)),
                V::Vector(v) => {
                    let out: Vec<Sample> = v
                        .into_iter()
                        .map(|s| Sample {
                            labels: drop_name(&s.labels),
                            t: ts,
                            v: -s.v,
                        })
                        .collect();
                    check_duplicates(&out)?;
                    Ok(V::Vector(out))
                }
                other => err(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                    other.type_name()
                )),
            },
            Expr::VectorSelector(vs) => {
                let mut v = self.instant_selector(vs, ts)?;
                for s in &mut v {
                    s.t = ts;
                }
                Ok(V::Vector(v))
            }
            Expr::MatrixSelector(ms) => Ok(V::Matrix(self.range_selector(
                &ms.vs,
                duration_ms(&ms.range),
                ts,
            )?)),
            Expr::Subquery(sq) => Ok(V::Matrix(self.subquery(sq, ts)?)),
            Expr::Aggregate(a) => self.aggregate(a, ts),
            Expr::Binary(b) => self.binary(b, ts),
            Expr::Call(c) => super::functions::call(self, c, ts),
            Expr::Extension(_) => err("extension expressions are not supported"),
        }
    }

    fn aggregate(&mut self, a: &AggregateExpr, ts: i64) -> Result<V, QueryError> {
        let op = a.op.id();
        let param = match &a.param {
            Some(p) => Some(self.eval(p, ts)?),
            None => None,
        };
        let input = expect_vector(self.eval(&a.expr, ts)?)?;
        let (without, mut grouping): (bool, Vec<String>) = match &a.modifier {
            None => (false, Vec::new()),
            Some(LabelModifier::Include(l)) => (false, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (true, l.labels.clone()),
        };
        let mut k: i64 = 0;
        let mut q = 0.0;
        let mut value_label = String::new();
        match op {
            T_TOPK | T_BOTTOMK | T_LIMITK => {
                let f = expect_scalar(param.unwrap_or(V::Scalar(f64::NAN)))?;
                if !(f > -9.223_372_036_854_776e18 && f < 9.223_372_036_854_776e18) {
                    return err(format!("Scalar value {} overflows int64", go_v_float(f)));
                }
                k = f as i64;
                if k < 1 {
                    return Ok(V::Vector(Vec::new()));
                }
            }
            T_QUANTILE => q = expect_scalar(param.unwrap_or(V::Scalar(f64::NAN)))?,
            T_COUNT_VALUES => {
                value_label = expect_string(param.unwrap_or(V::Str(String::new())))?;
                if !valid_label_name(&value_label) {
                    return err(format!("invalid label name {value_label:?}"));
                }
                if !without {
                    grouping.push(value_label.clone());
                }
            }
            T_SUM | T_AVG | T_COUNT | T_MIN | T_MAX | T_GROUP | T_STDDEV | T_STDVAR => {}
            _ => return err(format!("aggregation {} is not supported", a.op)),
        }

        struct Group {
            labels: Labels,
            members: Vec<Sample>,
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut index: FastMap<Labels, usize> = FastMap::default();
        // Memoized groups are shared label sets: found by identity.
        let shared = self.memoize && op != T_COUNT_VALUES;
        let mut by_identity: FastMap<usize, usize> = FastMap::default();
        let node = a as *const AggregateExpr as usize;
        for mut s in input {
            let g = if op == T_COUNT_VALUES {
                // The value is part of the labels: nothing to reuse.
                s.labels = Labels::new(
                    s.labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .chain(std::iter::once((value_label.clone(), go_float(s.v)))),
                );
                group_labels(&s.labels, without, &grouping)
            } else {
                self.group_of(node, &s.labels, without, &grouping)
            };
            let found = if shared {
                by_identity.get(&g.identity())
            } else {
                index.get(&g)
            };
            match found {
                Some(&i) => groups[i].members.push(s),
                None => {
                    if shared {
                        by_identity.insert(g.identity(), groups.len());
                    } else {
                        index.insert(g.clone(), groups.len());
                    }
                    groups.push(Group {
                        labels: g,
                        members: vec![s],
                    });
                }
            }
        }

        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let vals = || g.members.iter().map(|s| s.v);
            let value = match op {
                T_SUM => vals().fold(0.0, |a, b| a + b),
                T_AVG => incremental_mean(vals()),
                T_COUNT | T_COUNT_VALUES => g.members.len() as f64,
                T_GROUP => 1.0,
                T_MIN => fold_first(
                    vals(),
                    |acc, v| if acc > v || acc.is_nan() { v } else { acc },
                ),
                T_MAX => fold_first(
                    vals(),
                    |acc, v| if acc < v || acc.is_nan() { v } else { acc },
                ),
                T_STDVAR => welford_var(vals()),
                T_STDDEV => welford_var(vals()).sqrt(),
                T_QUANTILE => quantile(q, vals().collect()),
                T_LIMITK => {
                    // Any k series of the group: the first ones, in input
                    // (label) order.
                    let n = usize::try_from(k).unwrap_or(usize::MAX);
                    for mut s in g.members.into_iter().take(n) {
                        s.t = ts;
                        out.push(s);
                    }
                    continue;
                }
                T_TOPK | T_BOTTOMK => {
                    let mut m = g.members;
                    let top = op == T_TOPK;
                    m.sort_by(|a, b| {
                        use std::cmp::Ordering;
                        match (a.v.is_nan(), b.v.is_nan()) {
                            (true, true) => Ordering::Equal,
                            (true, false) => Ordering::Greater,
                            (false, true) => Ordering::Less,
                            _ if top => b.v.partial_cmp(&a.v).unwrap_or(Ordering::Equal),
                            _ => a.v.partial_cmp(&b.v).unwrap_or(Ordering::Equal),
                        }
                    });
                    m.truncate(usize::try_from(k).unwrap_or(usize::MAX));
                    for mut s in m {
                        s.t = ts;
                        out.push(s);
                    }
                    continue;
                }
                _ => unreachable!("checked above"),
            };
            out.push(Sample {
                labels: g.labels,
                t: ts,
                v: value,
            });
        }
        Ok(V::Vector(out))
    }

    fn binary(&mut self, b: &BinaryExpr, ts: i64) -> Result<V, QueryError> {
        let op = b.op.id();
        let lhs = self.eval(&b.lhs, ts)?;
        let rhs = self.eval(&b.rhs, ts)?;
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let comparison = is_comparison(op);
        match (lhs, rhs) {
            (V::Scalar(l), V::Scalar(r)) => {
                let (v, keep) = elem_binop(op, l, r)?;
                Ok(V::Scalar(if comparison {
                    if keep { 1.0 } else { 0.0 }
                } else {
                    v
                }))
            }
            (V::Vector(l), V::Scalar(r)) => {
                vector_scalar(op, l, r, false, return_bool, ts).map(V::Vector)
            }
            (V::Scalar(l), V::Vector(r)) => {
                vector_scalar(op, r, l, true, return_bool, ts).map(V::Vector)
            }
            (V::Vector(l), V::Vector(r)) => {
                let (on, names) = match b.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
                    Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
                    Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
                    None => (false, Vec::new()),
                };
                let card = b
                    .modifier
                    .as_ref()
                    .map(|m| m.card.clone())
                    .unwrap_or(VectorMatchCardinality::OneToOne);
                let out = match op {
                    T_LAND | T_LOR | T_LUNLESS => set_op(op, l, r, on, &names),
                    _ => vector_binop(op, l, r, on, &names, &card, return_bool)?,
                };
                let out: Vec<Sample> = out.into_iter().map(|s| Sample { t: ts, ..s }).collect();
                check_duplicates(&out)?;
                Ok(V::Vector(out))
            }
            (l, r) => err(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            )),
        }
    }
}

pub(super) fn selector_matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
    let bad = |e: crate::labels::MatcherError| QueryError::Execution(e.to_string());
    if !vs.matchers.or_matchers.is_empty() {
        return err("'or' between label matchers is not supported");
    }
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(Matcher::new(MatchOp::Equal, METRIC_NAME, name.as_str()).map_err(bad)?);
    }
    for m in &vs.matchers.matchers {
        let op = match m.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::Re(_) => MatchOp::Regex,
            PMatchOp::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(Matcher::new(op, m.name.as_str(), m.value.as_str()).map_err(bad)?);
    }
    Ok(out)
}

pub(super) fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(super) fn go_float(v: f64) -> String {
    super::json::format_value(v)
}

/// Go's `%v` for a float64 (shortest digits; exponent form below 1e-4
/// and from 1e21 on, with a sign and at least two exponent digits).
pub(super) fn go_v_float(v: f64) -> String {
    if !v.is_finite() || v == 0.0 || (1e-4..1e21).contains(&v.abs()) {
        return go_float(v);
    }
    let e = format!("{v:e}");
    let Some((mantissa, exp)) = e.split_once('e') else {
        return e;
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

fn fold_first(mut it: impl Iterator<Item = f64>, f: impl Fn(f64, f64) -> f64) -> f64 {
    let first = it.next().unwrap_or(f64::NAN);
    it.fold(first, f)
}

/// Prometheus's running mean (robust against overflow and infinities).
pub(super) fn incremental_mean(it: impl Iterator<Item = f64>) -> f64 {
    let mut mean = 0.0;
    let mut count = 0.0;
    for v in it {
        count += 1.0;
        if count == 1.0 {
            mean = v;
            continue;
        }
        if mean.is_infinite() {
            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                continue;
            }
            if !v.is_infinite() && !v.is_nan() {
                continue;
            }
        }
        mean += v / count - mean / count;
    }
    mean
}

/// Population variance by Welford's method.
pub(super) fn welford_var(it: impl Iterator<Item = f64>) -> f64 {
    let (mut count, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for v in it {
        count += 1.0;
        let delta = v - mean;
        mean += delta / count;
        m2 += delta * (v - mean);
    }
    m2 / count
}

/// The φ-quantile with linear interpolation between closest ranks.
pub(super) fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

pub(super) fn is_comparison(op: u16) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Operators whose result drops the metric name (Prometheus 2.x keeps it
/// for `atan2`).
fn is_arithmetic(op: u16) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_MOD | T_POW)
}

/// The value of `l op r` and whether a comparison keeps the element.
fn elem_binop(op: u16, l: f64, r: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        T_MOD => (l % r, true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => return err(format!("operator {op} not allowed between these operands")),
    })
}

fn vector_scalar(
    op: u16,
    vector: Vec<Sample>,
    scalar: f64,
    swap: bool,
    return_bool: bool,
    ts: i64,
) -> Result<Vec<Sample>, QueryError> {
    let mut out = Vec::with_capacity(vector.len());
    for s in vector {
        let (l, r) = if swap { (scalar, s.v) } else { (s.v, scalar) };
        let (mut value, mut keep) = elem_binop(op, l, r)?;
        if is_comparison(op) && swap {
            value = r;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            let labels = if is_arithmetic(op) || return_bool {
                drop_name(&s.labels)
            } else {
                s.labels
            };
            out.push(Sample {
                labels,
                t: ts,
                v: value,
            });
        }
    }
    check_duplicates(&out)?;
    Ok(out)
}

/// The labels two sides are matched on.
fn signature(l: &Labels, on: bool, names: &[String]) -> Labels {
    if on {
        Labels::new(l.iter().filter(|(k, _)| names.iter().any(|n| n == k)))
    } else {
        Labels::new(
            l.iter()
                .filter(|(k, _)| *k != METRIC_NAME && !names.iter().any(|n| n == k)),
        )
    }
}

fn set_op(op: u16, l: Vec<Sample>, r: Vec<Sample>, on: bool, names: &[String]) -> Vec<Sample> {
    match op {
        T_LAND => {
            let rs: HashSet<Labels> = r.iter().map(|s| signature(&s.labels, on, names)).collect();
            l.into_iter()
                .filter(|s| rs.contains(&signature(&s.labels, on, names)))
                .collect()
        }
        T_LUNLESS => {
            let rs: HashSet<Labels> = r.iter().map(|s| signature(&s.labels, on, names)).collect();
            l.into_iter()
                .filter(|s| !rs.contains(&signature(&s.labels, on, names)))
                .collect()
        }
        _ => {
            let ls: HashSet<Labels> = l.iter().map(|s| signature(&s.labels, on, names)).collect();
            let mut out = l;
            out.extend(
                r.into_iter()
                    .filter(|s| !ls.contains(&signature(&s.labels, on, names))),
            );
            out
        }
    }
}

fn vector_binop(
    op: u16,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    on: bool,
    names: &[String],
    card: &VectorMatchCardinality,
    return_bool: bool,
) -> Result<Vec<Sample>, QueryError> {
    let (one_to_many, include): (bool, &[String]) = match card {
        VectorMatchCardinality::OneToMany(l) => (true, &l.labels),
        VectorMatchCardinality::ManyToOne(l) => (false, &l.labels),
        _ => (false, &[]),
    };
    let one_to_one = matches!(
        card,
        VectorMatchCardinality::OneToOne | VectorMatchCardinality::ManyToMany
    );
    let (lhs, rhs) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut right: FastMap<Labels, &Sample> =
        FastMap::with_capacity_and_hasher(rhs.len(), Default::default());
    for rs in &rhs {
        let sig = signature(&rs.labels, on, names);
        if let Some(dup) = right.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            return err(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                go_labels(&sig),
                go_labels(&rs.labels),
                go_labels(&dup.labels)
            ));
        }
        right.insert(sig, rs);
    }
    let mut matched: HashMap<Labels, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ls in &lhs {
        let sig = signature(&ls.labels, on, names);
        let Some(rs) = right.get(&sig) else {
            continue;
        };
        let (vl, vr) = if one_to_many {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let (mut value, keep) = elem_binop(op, vl, vr)?;
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let mut metric = result_metric(&ls.labels, &rs.labels, op, on, names, one_to_one, include);
        if return_bool {
            metric = drop_name(&metric);
        }
        let exists = matched.contains_key(&sig);
        if one_to_one {
            if exists {
                return err(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                );
            }
            matched.insert(sig, HashSet::new());
        } else {
            let set = matched.entry(sig).or_default();
            if !set.insert(metric.clone()) {
                return err(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                );
            }
        }
        out.push(Sample {
            labels: metric,
            t: 0,
            v: value,
        });
    }
    Ok(out)
}

fn result_metric(
    l: &Labels,
    r: &Labels,
    op: u16,
    on: bool,
    names: &[String],
    one_to_one: bool,
    include: &[String],
) -> Labels {
    let mut pairs: BTreeMap<String, String> = l
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if is_arithmetic(op) {
        pairs.remove(METRIC_NAME);
    }
    if one_to_one {
        if on {
            pairs.retain(|k, _| names.iter().any(|n| n == k));
        } else {
            pairs.retain(|k, _| !names.iter().any(|n| n == k));
        }
    }
    for name in include {
        match r.get(name) {
            Some(v) => {
                pairs.insert(name.clone(), v.to_string());
            }
            None => {
                pairs.remove(name);
            }
        }
    }
    Labels::new(pairs)
}

pub(super) fn instant(
    opts: &EngineOptions,
    q: &dyn Queryable,
    expr: &Expr,
    t: i64,
) -> Result<Value, QueryError> {
    let mut ev = Evaluator::new(opts, q, expr, t, t)?;
    Ok(match ev.eval(expr, t)? {
        V::Scalar(v) => Value::Scalar { t, v },
        V::Str(v) => Value::String { t, v },
        V::Vector(mut v) => {
            for s in &mut v {
                s.t = t;
            }
            Value::Vector(v)
        }
        V::Matrix(mut m) => {
            m.sort_by(|a, b| a.labels.cmp(&b.labels));
            Value::Matrix(m)
        }
    })
}

pub(super) fn range(
    opts: &EngineOptions,
    q: &dyn Queryable,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<Series>, QueryError> {
    use promql_parser::parser::value::ValueType;
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => {}
        ValueType::Matrix => {
            return Err(QueryError::BadData(
                "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector".into(),
            ));
        }
        ValueType::String => {
            return Err(QueryError::BadData(
                "invalid expression type \"string\" for range query, must be Scalar or instant Vector".into(),
            ));
        }
    }
    let mut ev = Evaluator::new(opts, q, expr, start, end)?;
    // Series in order of first appearance, found by hash; sorted once at
    // the end (a sorted map would compare label strings at every step).
    let mut index: FastMap<Labels, usize> = FastMap::default();
    let mut out: Vec<Series> = Vec::new();
    let mut push = |labels: Labels, t: i64, v: f64| match index.get(&labels) {
        Some(&i) => out[i].samples.push((t, v)),
        None => {
            index.insert(labels.clone(), out.len());
            out.push(Series {
                labels,
                samples: vec![(t, v)],
            });
        }
    };
    let mut total = 0usize;
    let mut t = start;
    while t <= end {
        ev.loaded = 0;
        match ev.eval(expr, t)? {
            V::Scalar(v) => {
                push(Labels::default(), t, v);
                total += 1;
            }
            V::Vector(v) => {
                total += v.len();
                for s in v {
                    push(s.labels, t, s.v);
                }
            }
            other => {
                return Err(QueryError::BadData(format!(
                    "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                    other.type_name()
                )));
            }
        }
        if total > opts.max_samples {
            return Err(QueryError::TooManySamples);
        }
        match t.checked_add(step) {
            Some(next) => t = next,
            None => break,
        }
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}
