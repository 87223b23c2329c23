//! Evaluating rule groups at given timestamps, with Prometheus 2.x
//! semantics: recording rules write their result under a new name;
//! alerting rules move alerts pending → firing after `for`, keep firing for
//! `keep_firing_for` after the condition clears, are reported resolved and
//! kept 15 minutes for notifiers; `ALERTS` and `ALERTS_FOR_STATE` series
//! are written each evaluation. The clock is the caller's, so tests and
//! the scheduler drive it the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use gantry_config::rules::RuleGroup;

use super::template::{self, Data};
use crate::LabeledSample;
use crate::labels::{Labels, METRIC_NAME};
use crate::promql::{Engine, Value};
use crate::scrape::stale_nan;
use crate::tsdb::Queryable;

/// How long a resolved alert stays listed (Prometheus's resolvedRetention).
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub value: f64,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum RuleKind {
    Recording,
    Alerting {
        for_ms: i64,
        keep_firing_for_ms: i64,
        annotations: BTreeMap<String, String>,
        active: BTreeMap<Labels, Alert>,
    },
}

/// A rule and what its last evaluation left.
#[derive(Debug, Clone)]
pub struct RuleState {
    pub name: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
    pub kind: RuleKind,
    pub last_error: Option<String>,
    pub last_eval_ms: Option<i64>,
    /// Series this rule wrote last time, for staleness markers.
    written: BTreeSet<Labels>,
}

/// A group: rules evaluated in order at one interval.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub file: String,
    pub interval: Duration,
    pub limit: usize,
    pub rules: Vec<RuleState>,
}

impl Group {
    pub fn from_config(file: &str, g: &RuleGroup, default_interval: Duration) -> Group {
        let rules = g
            .rules
            .iter()
            .map(|r| {
                let mut labels = g.labels.clone();
                labels.extend(r.labels.clone());
                let kind = match &r.alert {
                    Some(_) => RuleKind::Alerting {
                        for_ms: r.for_.map_or(0, |d| d.as_millis() as i64),
                        keep_firing_for_ms: r.keep_firing_for.map_or(0, |d| d.as_millis() as i64),
                        annotations: r.annotations.clone(),
                        active: BTreeMap::new(),
                    },
                    None => RuleKind::Recording,
                };
                RuleState {
                    name: r
                        .alert
                        .clone()
                        .or_else(|| r.record.clone())
                        .unwrap_or_default(),
                    expr: r.expr.clone(),
                    labels,
                    kind,
                    last_error: None,
                    last_eval_ms: None,
                    written: BTreeSet::new(),
                }
            })
            .collect();
        Group {
            name: g.name.clone(),
            file: file.to_string(),
            interval: g.interval.unwrap_or(default_interval),
            limit: g.limit as usize,
            rules,
        }
    }

    /// Evaluates every rule at `ts` (ms). Returns the samples to store:
    /// recording results, `ALERTS`/`ALERTS_FOR_STATE`, and staleness
    /// markers for series a rule no longer produces. Rule errors are kept
    /// on the rule (`last_error`), as Prometheus reports them.
    pub fn eval(
        &mut self,
        engine: &Engine,
        q: &dyn Queryable,
        ts: i64,
        external_labels: &BTreeMap<String, String>,
    ) -> Vec<LabeledSample> {
        let mut out = Vec::new();
        let limit = self.limit;
        for rule in &mut self.rules {
            let written = match rule.eval(engine, q, ts, limit, external_labels) {
                Ok(samples) => {
                    rule.last_error = None;
                    samples
                }
                Err(e) => {
                    rule.last_error = Some(e);
                    Vec::new()
                }
            };
            let now: BTreeSet<Labels> = written.iter().map(|(l, _, _)| l.clone()).collect();
            for gone in rule.written.difference(&now) {
                out.push((gone.clone(), ts, stale_nan()));
            }
            rule.written = now;
            rule.last_eval_ms = Some(ts);
            out.extend(written);
        }
        out
    }
}

fn vector(
    engine: &Engine,
    q: &dyn Queryable,
    expr: &str,
    ts: i64,
) -> Result<Vec<(Labels, f64)>, String> {
    match engine
        .instant_query(q, expr, ts)
        .map_err(|e| e.to_string())?
    {
        Value::Vector(v) => Ok(v.into_iter().map(|s| (s.labels, s.v)).collect()),
        Value::Scalar { v, .. } => Ok(vec![(Labels::default(), v)]),
        other => Err(format!(
            "rule result is not a vector or scalar: {}",
            other.type_name()
        )),
    }
}

fn with_labels(base: &Labels, drop_name: bool, extra: &[(String, String)]) -> Labels {
    Labels::new(
        base.iter()
            .filter(|(k, _)| !(drop_name && *k == METRIC_NAME))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(extra.iter().cloned()),
    )
}

impl RuleState {
    fn eval(
        &mut self,
        engine: &Engine,
        q: &dyn Queryable,
        ts: i64,
        limit: usize,
        external_labels: &BTreeMap<String, String>,
    ) -> Result<Vec<LabeledSample>, String> {
        let result = vector(engine, q, &self.expr, ts)?;
        match &mut self.kind {
            RuleKind::Recording => {
                let mut extra: Vec<(String, String)> = self
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                extra.push((METRIC_NAME.to_string(), self.name.clone()));
                let mut seen = BTreeSet::new();
                let mut out = Vec::with_capacity(result.len());
                for (l, v) in result {
                    let l = with_labels(&l, true, &extra);
                    if !seen.insert(l.clone()) {
                        return Err("vector contains metrics with the same labelset after applying rule labels".into());
                    }
                    out.push((l, ts, v));
                }
                if limit > 0 && out.len() > limit {
                    return Err(format!(
                        "exceeded limit of {limit} with {} series",
                        out.len()
                    ));
                }
                Ok(out)
            }
            RuleKind::Alerting {
                for_ms,
                keep_firing_for_ms,
                annotations,
                active,
            } => {
                let mut current: BTreeMap<Labels, (f64, BTreeMap<String, String>)> =
                    BTreeMap::new();
                for (l, v) in result {
                    let sample_labels: BTreeMap<String, String> = l
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    let data = Data {
                        labels: &sample_labels,
                        external_labels,
                        value: v,
                    };
                    let mut extra = Vec::new();
                    for (k, t) in &self.labels {
                        let expanded =
                            template::expand(t, &data).map_err(|e| format!("label {k}: {e}"))?;
                        extra.push((k.clone(), expanded));
                    }
                    extra.push(("alertname".to_string(), self.name.clone()));
                    let labels = with_labels(&l, true, &extra);
                    let mut ann = BTreeMap::new();
                    for (k, t) in annotations.iter() {
                        let expanded = template::expand(t, &data)
                            .map_err(|e| format!("annotation {k}: {e}"))?;
                        ann.insert(k.clone(), expanded);
                    }
                    if current.insert(labels, (v, ann)).is_some() {
                        return Err("vector contains metrics with the same labelset after applying alert labels".into());
                    }
                }
                for (labels, (v, ann)) in &current {
                    match active.get_mut(labels) {
                        Some(a) if a.state != AlertState::Inactive => {
                            a.value = *v;
                            a.annotations = ann.clone();
                        }
                        _ => {
                            active.insert(
                                labels.clone(),
                                Alert {
                                    labels: labels.clone(),
                                    annotations: ann.clone(),
                                    state: AlertState::Pending,
                                    value: *v,
                                    active_at: ts,
                                    fired_at: None,
                                    resolved_at: None,
                                    keep_firing_since: None,
                                },
                            );
                        }
                    }
                }
                let mut remove = Vec::new();
                let mut pending_or_firing = 0;
                for (key, a) in active.iter_mut() {
                    if !current.contains_key(key) {
                        let mut keep_firing = false;
                        if a.state == AlertState::Firing && *keep_firing_for_ms > 0 {
                            let since = *a.keep_firing_since.get_or_insert(ts);
                            keep_firing = ts - since < *keep_firing_for_ms;
                        }
                        if a.state == AlertState::Pending
                            || a.resolved_at
                                .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                        {
                            remove.push(key.clone());
                        }
                        if a.state != AlertState::Inactive && !keep_firing {
                            a.state = AlertState::Inactive;
                            a.resolved_at = Some(ts);
                        }
                        if !keep_firing {
                            continue;
                        }
                    } else {
                        a.keep_firing_since = None;
                    }
                    pending_or_firing += 1;
                    if a.state == AlertState::Pending && ts - a.active_at >= *for_ms {
                        a.state = AlertState::Firing;
                        a.fired_at = Some(ts);
                    }
                }
                for key in remove {
                    active.remove(&key);
                }
                if limit > 0 && pending_or_firing > limit {
                    active.clear();
                    return Err(format!(
                        "exceeded limit of {limit} with {pending_or_firing} alerts"
                    ));
                }
                let mut out = Vec::new();
                for a in active.values().filter(|a| a.state != AlertState::Inactive) {
                    let state = ("alertstate".to_string(), a.state.as_str().to_string());
                    let alerts = with_labels(
                        &a.labels,
                        true,
                        &[(METRIC_NAME.to_string(), "ALERTS".to_string()), state],
                    );
                    out.push((alerts, ts, 1.0));
                    let for_state = with_labels(
                        &a.labels,
                        true,
                        &[(METRIC_NAME.to_string(), "ALERTS_FOR_STATE".to_string())],
                    );
                    out.push((for_state, ts, a.active_at as f64 / 1000.0));
                }
                Ok(out)
            }
        }
    }

    /// The alerts of an alerting rule (empty for recording rules).
    pub fn alerts(&self) -> Vec<&Alert> {
        match &self.kind {
            RuleKind::Alerting { active, .. } => active.values().collect(),
            RuleKind::Recording => Vec::new(),
        }
    }
}

/// How far back a restart looks for `ALERTS_FOR_STATE` (Prometheus's
/// default `rules.alert.for-outage-tolerance`).
pub const FOR_OUTAGE_TOLERANCE_MS: i64 = 3_600_000;

impl Group {
    /// After the first evaluation following a start: pending alerts of
    /// rules with a `for` duration take back the `activeAt` they had
    /// before (from `ALERTS_FOR_STATE`, up to an hour old), so a restart
    /// does not reset how long an alert has been pending. The next
    /// evaluation then fires those that have waited long enough.
    pub fn restore_for_state(&mut self, engine: &Engine, q: &dyn Queryable, ts: i64) {
        for rule in &mut self.rules {
            let RuleKind::Alerting { for_ms, active, .. } = &mut rule.kind else {
                continue;
            };
            if *for_ms == 0 || active.is_empty() {
                continue;
            }
            let expr = format!(
                "last_over_time(ALERTS_FOR_STATE{{alertname={:?}}}[{}ms])",
                rule.name, FOR_OUTAGE_TOLERANCE_MS
            );
            let Ok(Value::Vector(found)) = engine.instant_query(q, &expr, ts) else {
                continue;
            };
            for s in found {
                let labels = with_labels(&s.labels, true, &[]);
                if let Some(a) = active.get_mut(&labels)
                    && a.state == AlertState::Pending
                    && s.v.is_finite()
                {
                    a.active_at = a.active_at.min((s.v * 1000.0) as i64);
                }
            }
        }
    }
}
