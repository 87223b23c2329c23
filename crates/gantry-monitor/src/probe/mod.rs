//! Synthetic probes from gantry.yml `monitors:` — http(s), tcp, tls and
//! dns — with Gatus-style [`condition`]s, results as `probe_*` samples and
//! up/down transitions with thresholds ([`runner`]).
//!
//! A probe's success means: no error (connection, TLS, timeout, protocol)
//! and every condition holds. A monitor without conditions gets one:
//! `[STATUS] < 400` (http), `[CONNECTED] == true` (tcp, tls) or
//! `[DNS_RCODE] == NOERROR` (dns).

pub mod condition;
pub mod der;
pub mod dns;
mod net;
pub mod runner;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gantry_config::{Diagnostic, MonitorKind, Span};

use crate::LabeledSample;
use crate::labels::{Labels, METRIC_NAME};
use condition::{Condition, Observation, Placeholder};

pub use runner::{MonitorStatus, ProbeRunner, ProbeTransition};

/// What an http monitor sends.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpTarget {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub follow_redirects: bool,
    pub tls_verify: bool,
}

/// Where a monitor points.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Http(HttpTarget),
    Tcp {
        host: String,
        port: u16,
    },
    Tls {
        host: String,
        port: u16,
        verify: bool,
    },
    Dns {
        /// `host[:port]`; `None` is the system resolver's first nameserver.
        server: Option<String>,
        name: String,
        qtype: String,
    },
}

/// One checked monitor.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub name: String,
    pub kind: MonitorKind,
    pub target: Target,
    pub interval: Duration,
    pub timeout: Duration,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub conditions: Vec<Condition>,
    /// Condition texts, as written (for status output).
    pub condition_texts: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl Monitor {
    /// A monitor with the defaults (60s interval, 10s timeout, thresholds 3
    /// and 2) and the type's default condition.
    pub fn new(name: impl Into<String>, target: Target) -> Monitor {
        let kind = match &target {
            Target::Http(_) => MonitorKind::Http,
            Target::Tcp { .. } => MonitorKind::Tcp,
            Target::Tls { .. } => MonitorKind::Tls,
            Target::Dns { .. } => MonitorKind::Dns,
        };
        let mut m = Monitor {
            name: name.into(),
            kind,
            target,
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            failure_threshold: 3,
            success_threshold: 2,
            conditions: Vec::new(),
            condition_texts: Vec::new(),
            labels: BTreeMap::new(),
        };
        m.set_default_condition();
        m
    }

    fn set_default_condition(&mut self) {
        let text = match self.kind {
            MonitorKind::Http => "[STATUS] < 400",
            MonitorKind::Tcp | MonitorKind::Tls => "[CONNECTED] == true",
            MonitorKind::Dns => "[DNS_RCODE] == NOERROR",
        };
        // The default texts are valid conditions.
        self.conditions = vec![Condition::parse(text).expect("default condition parses")];
        self.condition_texts = vec![text.to_string()];
    }

    /// Replaces the conditions; an error names the condition and column.
    pub fn with_conditions(mut self, texts: &[&str]) -> Result<Monitor, String> {
        let mut out = Vec::new();
        for t in texts {
            let c = Condition::parse(t).map_err(|e| format!("`{t}`: {e}"))?;
            if let Some(msg) = applicability(self.kind, c.placeholder()) {
                return Err(format!("`{t}`: {msg}"));
            }
            out.push(c);
        }
        self.conditions = out;
        self.condition_texts = texts.iter().map(|t| t.to_string()).collect();
        if self.conditions.is_empty() {
            self.set_default_condition();
        }
        Ok(self)
    }
}

/// Why a placeholder cannot be used with a monitor type, if it cannot.
fn applicability(kind: MonitorKind, p: Placeholder) -> Option<String> {
    let ok = match p {
        Placeholder::Status => kind == MonitorKind::Http,
        Placeholder::Body => matches!(kind, MonitorKind::Http | MonitorKind::Dns),
        Placeholder::CertificateExpiration => {
            matches!(kind, MonitorKind::Http | MonitorKind::Tls)
        }
        Placeholder::DnsRcode => kind == MonitorKind::Dns,
        Placeholder::Connected | Placeholder::Ip | Placeholder::ResponseTime => true,
    };
    (!ok).then(|| format!("`[{}]` is not available for {kind} monitors", p.name()))
}

/// One condition's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionResult {
    pub success: bool,
    /// Like `[STATUS] (503) == 200`.
    pub result: String,
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    pub success: bool,
    pub duration: Duration,
    pub observation: Observation,
    pub conditions: Vec<ConditionResult>,
    /// Connection, TLS, timeout or protocol error.
    pub error: Option<String>,
    /// Earliest `notAfter` of the peer's certificates, unix seconds.
    pub cert_not_after: Option<i64>,
}

impl ProbeResult {
    /// Why the probe failed: the error, else the failed conditions.
    pub fn reason(&self) -> String {
        if let Some(e) = &self.error {
            return e.clone();
        }
        let failed: Vec<&str> = self
            .conditions
            .iter()
            .filter(|c| !c.success)
            .map(|c| c.result.as_str())
            .collect();
        if failed.is_empty() {
            self.conditions
                .iter()
                .map(|c| c.result.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            failed.join("; ")
        }
    }
}

/// What a probe measured before conditions are applied.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    pub observation: Observation,
    pub error: Option<String>,
    pub cert_not_after: Option<i64>,
}

/// A monitor ready to probe: its HTTP client is built once.
pub struct Prober {
    monitor: Monitor,
    client: Option<reqwest::Client>,
}

impl Prober {
    pub fn new(monitor: Monitor) -> Result<Prober, String> {
        let client = match &monitor.target {
            Target::Http(h) => Some(net::http_client(h, monitor.timeout)?),
            _ => None,
        };
        Ok(Prober { monitor, client })
    }

    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// Probes once and applies the conditions.
    pub async fn probe(&self) -> ProbeResult {
        let m = &self.monitor;
        let start = Instant::now();
        let mut measured = match (&m.target, &self.client) {
            (Target::Http(h), Some(client)) => net::http(client, h, m.timeout).await,
            (Target::Tcp { host, port }, _) => net::tcp(host, *port, m.timeout).await,
            (Target::Tls { host, port, verify }, _) => {
                net::tls(host, *port, *verify, m.timeout).await
            }
            (
                Target::Dns {
                    server,
                    name,
                    qtype,
                },
                _,
            ) => net::dns(server.as_deref(), name, qtype, m.timeout).await,
            (Target::Http(_), None) => Measured {
                error: Some("http client missing".into()),
                ..Measured::default()
            },
        };
        let duration = start.elapsed();
        measured.observation.response_time = duration;
        let conditions: Vec<ConditionResult> = m
            .conditions
            .iter()
            .map(|c| {
                let (success, result) = c.evaluate(&measured.observation);
                ConditionResult { success, result }
            })
            .collect();
        let success = measured.error.is_none() && conditions.iter().all(|c| c.success);
        ProbeResult {
            success,
            duration,
            observation: measured.observation,
            conditions,
            error: measured.error,
            cert_not_after: measured.cert_not_after,
        }
    }
}

/// The `probe_*` samples of one result, at `ts_ms`.
pub fn samples(monitor: &Monitor, result: &ProbeResult, ts_ms: i64) -> Vec<LabeledSample> {
    let series = |name: &str| {
        Labels::new(
            monitor
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain([
                    (METRIC_NAME, name),
                    ("monitor", monitor.name.as_str()),
                    ("type", monitor.kind.as_str()),
                ]),
        )
    };
    let mut out = vec![
        (
            series("probe_success"),
            ts_ms,
            if result.success { 1.0 } else { 0.0 },
        ),
        (
            series("probe_duration_seconds"),
            ts_ms,
            result.duration.as_secs_f64(),
        ),
    ];
    if monitor.kind == MonitorKind::Http {
        let code = result.observation.status.map_or(0.0, f64::from);
        out.push((series("probe_http_status_code"), ts_ms, code));
    }
    if let Some(t) = result.cert_not_after {
        out.push((series("probe_ssl_earliest_cert_expiry"), ts_ms, t as f64));
    }
    out
}

/// Builds checked monitors from gantry.yml. Condition errors point at the
/// column inside the condition string.
pub fn from_config(config: &gantry_config::Config) -> Result<Vec<Monitor>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    for (i, e) in config.monitors.iter().enumerate() {
        let target = match e.kind {
            MonitorKind::Http => Target::Http(HttpTarget {
                url: e.url.clone().unwrap_or_default(),
                method: e.method.clone().unwrap_or_else(|| "GET".into()),
                headers: e.headers.clone(),
                body: e.body.clone(),
                follow_redirects: e.follow_redirects.unwrap_or(true),
                tls_verify: e.tls_verify.unwrap_or(true),
            }),
            MonitorKind::Tcp => Target::Tcp {
                host: e.host.clone().unwrap_or_default(),
                port: e.port.unwrap_or_default(),
            },
            MonitorKind::Tls => Target::Tls {
                host: e.host.clone().unwrap_or_default(),
                port: e.port.unwrap_or_default(),
                verify: e.tls_verify.unwrap_or(true),
            },
            MonitorKind::Dns => {
                let dns = e.dns.clone().unwrap_or_default();
                Target::Dns {
                    server: dns.server,
                    name: dns.query_name,
                    qtype: dns.query_type.unwrap_or_else(|| "A".into()),
                }
            }
        };
        if let Target::Http(h) = &target
            && let Err(err) = reqwest::Url::parse(&h.url)
        {
            diags.push(
                Diagnostic::error(
                    e.origin.file.as_str(),
                    format!("invalid `monitors[{i}].url` `{}`: {err}", h.url),
                )
                .with_span(e.origin.span),
            );
        }
        let mut m = Monitor::new(e.name.clone(), target);
        m.interval = e.interval.unwrap_or(m.interval);
        m.timeout = e.timeout.unwrap_or(m.timeout.min(m.interval));
        m.failure_threshold = e
            .failure_threshold
            .map_or(3, |n| n.min(u32::MAX as u64) as u32);
        m.success_threshold = e
            .success_threshold
            .map_or(2, |n| n.min(u32::MAX as u64) as u32);
        m.labels = e.labels.clone();
        let mut conditions = Vec::new();
        for (j, c) in e.conditions.iter().enumerate() {
            let at = format!("monitors[{i}].conditions[{j}]");
            let start_col = c.origin.span.col + c.offset;
            match Condition::parse(&c.text) {
                Ok(parsed) => {
                    if let Some(msg) = applicability(e.kind, parsed.placeholder()) {
                        diags.push(
                            Diagnostic::error(
                                c.origin.file.as_str(),
                                format!("invalid condition in `{at}`: {msg}"),
                            )
                            .with_span(c.origin.span),
                        );
                    }
                    conditions.push(parsed);
                }
                Err(err) => diags.push(
                    Diagnostic::error(
                        c.origin.file.as_str(),
                        format!("invalid condition in `{at}`: {}", err.message),
                    )
                    .with_span(Span::new(
                        c.origin.span.line,
                        start_col + err.col - 1,
                        1,
                    )),
                ),
            }
        }
        if !e.conditions.is_empty() {
            m.conditions = conditions;
            m.condition_texts = e.conditions.iter().map(|c| c.text.clone()).collect();
        }
        out.push(m);
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}
