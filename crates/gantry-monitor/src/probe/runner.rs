//! Runs every monitor on its interval: samples to a [`SampleSink`],
//! up/down [`ProbeTransition`]s through a channel, a status snapshot for
//! `gantry monitors`.
//!
//! A monitor starts `unknown`. It goes `down` after `failure-threshold`
//! consecutive failures and `up` after `success-threshold` consecutive
//! successes. Every change to `down`, and every change from `down` to `up`,
//! is a transition; the first `up` after start is not (nothing recovered).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{Monitor, ProbeResult, Prober, samples};
use crate::scrape::manager::{SampleSink, now_ms};

/// A monitor went down or came back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTransition {
    pub monitor: String,
    pub up: bool,
    /// The failing result or error (down), or the passing results (up).
    pub reason: String,
}

/// `up`, `down` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Unknown,
    Up,
    Down,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Down => "down",
        }
    }
}

/// Consecutive-result counting with thresholds.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub state: State,
    pub failures: u32,
    pub successes: u32,
    failure_threshold: u32,
    success_threshold: u32,
}

impl Tracker {
    pub fn new(failure_threshold: u32, success_threshold: u32) -> Tracker {
        Tracker {
            state: State::Unknown,
            failures: 0,
            successes: 0,
            failure_threshold: failure_threshold.max(1),
            success_threshold: success_threshold.max(1),
        }
    }

    /// Counts one result; returns `Some(up)` when the state changes in a
    /// way that is reported.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        if success {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
            if self.state != State::Up && self.successes >= self.success_threshold {
                let was = self.state;
                self.state = State::Up;
                return (was == State::Down).then_some(true);
            }
        } else {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
            if self.state != State::Down && self.failures >= self.failure_threshold {
                self.state = State::Down;
                return Some(false);
            }
        }
        None
    }
}

/// One monitor's status for `gantry monitors`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorStatus {
    pub name: String,
    /// `http`, `tcp`, `tls` or `dns`.
    pub kind: &'static str,
    /// `up`, `down` or `unknown`.
    pub state: &'static str,
    /// Condition results of the last probe, like `[STATUS] (503) == 200`.
    pub last_result: Vec<String>,
    pub last_success: Option<bool>,
    pub last_error: Option<String>,
    pub last_duration: Option<Duration>,
    /// When the last probe finished, unix ms.
    pub last_probe_ms: Option<i64>,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
}

type Shared = Arc<RwLock<BTreeMap<String, MonitorStatus>>>;

/// Runs monitors until shutdown.
pub struct ProbeRunner {
    monitors: Vec<Monitor>,
    sink: Arc<dyn SampleSink>,
    transitions: Option<mpsc::UnboundedSender<ProbeTransition>>,
    status: Shared,
}

impl ProbeRunner {
    pub fn new(monitors: Vec<Monitor>, sink: Arc<dyn SampleSink>) -> ProbeRunner {
        let status: BTreeMap<String, MonitorStatus> = monitors
            .iter()
            .map(|m| {
                let s = MonitorStatus {
                    name: m.name.clone(),
                    kind: m.kind.as_str(),
                    state: State::Unknown.as_str(),
                    last_result: Vec::new(),
                    last_success: None,
                    last_error: None,
                    last_duration: None,
                    last_probe_ms: None,
                    consecutive_failures: 0,
                    consecutive_successes: 0,
                };
                (m.name.clone(), s)
            })
            .collect();
        ProbeRunner {
            monitors,
            sink,
            transitions: None,
            status: Arc::new(RwLock::new(status)),
        }
    }

    /// Sends every transition to `tx` (the server records `monitor.down`
    /// and `monitor.up` events from it).
    pub fn with_transitions(mut self, tx: mpsc::UnboundedSender<ProbeTransition>) -> ProbeRunner {
        self.transitions = Some(tx);
        self
    }

    /// A snapshot function for status listings, in monitor name order.
    pub fn status_view(&self) -> impl Fn() -> Vec<MonitorStatus> + Send + Sync + 'static {
        let status = self.status.clone();
        move || {
            status
                .read()
                .map(|s| s.values().cloned().collect())
                .unwrap_or_default()
        }
    }

    /// Probes every monitor right away and then on its interval, until
    /// `shutdown` becomes true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for m in self.monitors {
            let name = m.name.clone();
            let prober = match Prober::new(m) {
                Ok(p) => p,
                Err(e) => {
                    if let Ok(mut s) = self.status.write()
                        && let Some(st) = s.get_mut(&name)
                    {
                        st.last_error = Some(e);
                    }
                    continue;
                }
            };
            tasks.push(tokio::spawn(monitor_loop(
                prober,
                self.sink.clone(),
                self.transitions.clone(),
                self.status.clone(),
                shutdown.clone(),
            )));
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

async fn monitor_loop(
    prober: Prober,
    sink: Arc<dyn SampleSink>,
    transitions: Option<mpsc::UnboundedSender<ProbeTransition>>,
    status: Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let m = prober.monitor().clone();
    let mut tracker = Tracker::new(m.failure_threshold, m.success_threshold);
    let mut ticker = tokio::time::interval(m.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = ticker.tick() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
                continue;
            }
        }
        let result = tokio::select! {
            r = prober.probe() => r,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
                continue;
            }
        };
        let ts = now_ms();
        let mut error = result.error.clone();
        if let Err(e) = crate::scrape::manager::store(&sink, samples(&m, &result, ts)).await {
            error.get_or_insert(format!("storing probe results: {e}"));
        }
        let changed = tracker.record(result.success);
        record_status(&status, &m, &tracker, &result, error, ts);
        if let (Some(up), Some(tx)) = (changed, &transitions) {
            let _ = tx.send(ProbeTransition {
                monitor: m.name.clone(),
                up,
                reason: result.reason(),
            });
        }
    }
}

fn record_status(
    status: &Shared,
    m: &Monitor,
    tracker: &Tracker,
    result: &ProbeResult,
    error: Option<String>,
    ts: i64,
) {
    let Ok(mut map) = status.write() else {
        return;
    };
    if let Some(s) = map.get_mut(&m.name) {
        s.state = tracker.state.as_str();
        s.last_result = result.conditions.iter().map(|c| c.result.clone()).collect();
        s.last_success = Some(result.success);
        s.last_error = error;
        s.last_duration = Some(result.duration);
        s.last_probe_ms = Some(ts);
        s.consecutive_failures = tracker.failures;
        s.consecutive_successes = tracker.successes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_transitions() {
        let mut t = Tracker::new(3, 2);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.state, State::Unknown);
        assert_eq!(t.record(false), Some(false));
        assert_eq!(t.state, State::Down);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None);
        // A failure resets the success count.
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None);
        assert_eq!(t.record(true), Some(true));
        assert_eq!(t.state, State::Up);
        assert_eq!(t.record(true), None);
    }

    #[test]
    fn first_up_is_not_a_transition() {
        let mut t = Tracker::new(1, 1);
        assert_eq!(t.record(true), None);
        assert_eq!(t.state, State::Up);
        assert_eq!(t.record(false), Some(false));
        assert_eq!(t.record(true), Some(true));
    }
}
