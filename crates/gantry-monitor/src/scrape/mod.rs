//! Scraping, with Prometheus's `scrape_configs` semantics: targets from
//! static and file-based discovery, target relabeling, HTTP scrapes with
//! content negotiation and gzip, metric relabeling, `honor_labels`,
//! `honor_timestamps`, `sample_limit`, the synthetic `up` and `scrape_*`
//! series, and staleness markers when a series or a target goes away.

pub mod discovery;
pub mod manager;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::LabeledSample;
use crate::exposition::{self, Format};
use crate::labels::{Labels, METRIC_NAME};
use crate::relabel::{self, Rule};

pub use crate::promql::{STALE_NAN_BITS, is_stale_nan};

/// The NaN Prometheus writes to mark a series stale.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// A group of targets sharing labels, from a static config or a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Where the group came from, for messages (`static_configs[0]`, a file).
    pub source: String,
}

/// `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSdConfig {
    /// Paths; the last component may contain `*` and `?` wildcards.
    pub files: Vec<String>,
    pub refresh_interval: Duration,
}

/// One `scrape_configs` entry, checked.
#[derive(Debug, Clone)]
pub struct ScrapeConfig {
    pub job_name: String,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub metrics_path: String,
    pub scheme: String,
    pub params: BTreeMap<String, Vec<String>>,
    pub static_configs: Vec<TargetGroup>,
    pub file_sd_configs: Vec<FileSdConfig>,
    pub relabel_configs: Vec<Rule>,
    pub metric_relabel_configs: Vec<Rule>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    /// 0 means no limit.
    pub sample_limit: usize,
    /// Largest uncompressed body accepted; 0 means no limit.
    pub body_size_limit: usize,
}

impl ScrapeConfig {
    /// A job with Prometheus's defaults: every 1m, 10s timeout, `/metrics`
    /// over http, timestamps honoured.
    pub fn new(job_name: impl Into<String>) -> ScrapeConfig {
        ScrapeConfig {
            job_name: job_name.into(),
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            metrics_path: "/metrics".into(),
            scheme: "http".into(),
            params: BTreeMap::new(),
            static_configs: Vec::new(),
            file_sd_configs: Vec::new(),
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
            honor_labels: false,
            honor_timestamps: true,
            sample_limit: 0,
            body_size_limit: 0,
        }
    }
}

/// A target after relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The labels every scraped sample gets (no `__` labels).
    pub labels: Labels,
    /// The labels before relabeling, as `/api/v1/targets` shows them.
    pub discovered: BTreeMap<String, String>,
    pub url: String,
}

/// A discovered target that relabeling dropped or that has no address.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    pub discovered: BTreeMap<String, String>,
    pub reason: Option<String>,
}

/// A duration as Prometheus prints one (`model.Duration`): units from
/// years to milliseconds, years and weeks only when exact (`90d`, not
/// `12w6d`), `0s` for zero.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let units: [(&str, u64, bool); 7] = [
        ("y", 365 * 86_400_000, true),
        ("w", 7 * 86_400_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units {
        if exact && !ms.is_multiple_of(mult) {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
            ms -= v * mult;
        }
    }
    out
}

/// Builds targets from groups as Prometheus's `PopulateLabels` does.
pub fn resolve_targets(
    cfg: &ScrapeConfig,
    groups: &[TargetGroup],
) -> (Vec<Target>, Vec<DroppedTarget>) {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let mut seen = HashSet::new();
    for g in groups {
        for addr in &g.targets {
            let mut l: BTreeMap<String, String> = g.labels.clone();
            l.insert("__address__".into(), addr.clone());
            let defaults = [
                ("job", cfg.job_name.clone()),
                ("__scrape_interval__", format_duration(cfg.scrape_interval)),
                ("__scrape_timeout__", format_duration(cfg.scrape_timeout)),
                ("__metrics_path__", cfg.metrics_path.clone()),
                ("__scheme__", cfg.scheme.clone()),
            ];
            for (k, v) in defaults {
                l.entry(k.to_string()).or_insert(v);
            }
            for (k, vs) in &cfg.params {
                if let Some(first) = vs.first() {
                    l.entry(format!("__param_{k}"))
                        .or_insert_with(|| first.clone());
                }
            }
            let discovered = l.clone();
            let Some(mut l) = relabel::process(&cfg.relabel_configs, l) else {
                dropped.push(DroppedTarget {
                    discovered,
                    reason: None,
                });
                continue;
            };
            let Some(address) = l.get("__address__").filter(|a| !a.is_empty()).cloned() else {
                dropped.push(DroppedTarget {
                    discovered,
                    reason: Some("no address".into()),
                });
                continue;
            };
            let scheme = l
                .get("__scheme__")
                .cloned()
                .unwrap_or_else(|| "http".into());
            if address.contains('/') || address.contains(char::is_whitespace) {
                dropped.push(DroppedTarget {
                    discovered,
                    reason: Some(format!("{address:?} is not a valid hostname")),
                });
                continue;
            }
            // Prometheus 2.x adds the scheme's default port when none is given.
            let has_port = match address.strip_prefix('[') {
                Some(v6) => v6.contains("]:"),
                None => address.contains(':'),
            };
            let address = if has_port {
                address
            } else {
                format!("{address}:{}", if scheme == "https" { 443 } else { 80 })
            };
            l.insert("__address__".into(), address.clone());
            l.entry("instance".into())
                .or_insert_with(|| address.clone());
            let path = l
                .get("__metrics_path__")
                .cloned()
                .unwrap_or_else(|| "/metrics".into());
            // The configured params, each `__param_<name>` label replacing
            // the first value of its param or adding it; sorted by name.
            let mut params = cfg.params.clone();
            for (k, v) in &l {
                if let Some(name) = k.strip_prefix("__param_") {
                    let vs = params.entry(name.to_string()).or_default();
                    match vs.first_mut() {
                        Some(first) => *first = v.clone(),
                        None => vs.push(v.clone()),
                    }
                }
            }
            let query: Vec<(String, String)> = params
                .into_iter()
                .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
                .collect();
            let mut url = format!("{scheme}://{address}{path}");
            if !query.is_empty() {
                url.push('?');
                let q: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{}={}", url_escape(k), url_escape(v)))
                    .collect();
                url.push_str(&q.join("&"));
            }
            let public = Labels::new(l.into_iter().filter(|(k, _)| !k.starts_with("__")));
            if !seen.insert(public.clone()) {
                // Prometheus keeps one target per label set.
                continue;
            }
            active.push(Target {
                labels: public,
                discovered,
                url,
            });
        }
    }
    (active, dropped)
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What one scrape produced.
#[derive(Debug, Clone, Default)]
pub struct ScrapeOutcome {
    /// Samples with final labels; empty when the scrape failed.
    pub samples: Vec<LabeledSample>,
    /// `# TYPE`/`# HELP`/`# UNIT` of the families the body declared.
    pub metadata: Vec<MetricMetadata>,
    pub error: Option<String>,
    pub duration: Duration,
    /// Samples in the body before metric relabeling.
    pub scraped: usize,
}

/// Fetches and parses one target.
pub async fn scrape(
    client: &reqwest::Client,
    cfg: &ScrapeConfig,
    target: &Target,
    now_ms: i64,
) -> ScrapeOutcome {
    let started = Instant::now();
    let mut out = ScrapeOutcome::default();
    match fetch(client, cfg, target).await {
        Ok((body, format)) => match process_body(cfg, target, &body, format, now_ms) {
            Ok((samples, scraped, metadata)) => {
                out.samples = samples;
                out.scraped = scraped;
                out.metadata = metadata;
            }
            Err((e, scraped)) => {
                out.error = Some(e);
                out.scraped = scraped;
            }
        },
        Err(e) => out.error = Some(e),
    }
    out.duration = started.elapsed();
    out
}

async fn fetch(
    client: &reqwest::Client,
    cfg: &ScrapeConfig,
    target: &Target,
) -> Result<(String, Format), String> {
    let timeout = cfg.scrape_timeout;
    let req = client
        .get(&target.url)
        .header(reqwest::header::ACCEPT, exposition::ACCEPT)
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        )
        .timeout(timeout);
    let resp = req
        .send()
        .await
        .map_err(|e| describe_reqwest(&e, timeout))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("server returned HTTP status {status}"));
    }
    let format = Format::from_content_type(
        resp.headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut body = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| describe_reqwest(&e, timeout))?
    {
        body.extend_from_slice(&chunk);
        if cfg.body_size_limit > 0 && body.len() > cfg.body_size_limit {
            return Err(format!(
                "body size limit exceeded ({} bytes)",
                cfg.body_size_limit
            ));
        }
    }
    let text = String::from_utf8(body).map_err(|e| {
        format!(
            "body is not UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((text, format))
}

fn describe_reqwest(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!(
            "context deadline exceeded (timeout {}s)",
            timeout.as_secs_f64()
        )
    } else if e.is_connect() {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        msg
    } else {
        e.to_string()
    }
}

/// A failed parse or limit: the message and how many samples the body had.
pub type ScrapeError = (String, usize);

/// Parses a body and applies target labels, `honor_labels`, metric
/// relabeling, timestamps and `sample_limit`. On error returns the message
/// and how many samples the body had.
pub fn samples_from_body(
    cfg: &ScrapeConfig,
    target: &Target,
    body: &str,
    format: Format,
    now_ms: i64,
) -> Result<(Vec<LabeledSample>, usize), ScrapeError> {
    process_body(cfg, target, body, format, now_ms).map(|(samples, scraped, _)| (samples, scraped))
}

/// A metric family's metadata, as `/api/v1/metadata` reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricMetadata {
    pub metric: String,
    pub kind: &'static str,
    pub help: String,
    pub unit: String,
}

type Processed = (Vec<LabeledSample>, usize, Vec<MetricMetadata>);

fn process_body(
    cfg: &ScrapeConfig,
    target: &Target,
    body: &str,
    format: Format,
    now_ms: i64,
) -> Result<Processed, ScrapeError> {
    let families = exposition::parse(body, format).map_err(|e| (e.to_string(), 0))?;
    let metadata = families
        .iter()
        .filter(|f| f.help.is_some() || f.unit.is_some() || f.ty != exposition::MetricType::Unknown)
        .map(|f| MetricMetadata {
            metric: f.name.clone(),
            kind: f.ty.as_str(),
            help: f.help.clone().unwrap_or_default(),
            unit: f.unit.clone().unwrap_or_default(),
        })
        .collect();
    let mut out = Vec::new();
    let mut scraped = 0;
    let mut seen: HashSet<Labels> = HashSet::new();
    for fam in families {
        for s in fam.samples {
            scraped += 1;
            let mut l: BTreeMap<String, String> = s.labels.into_iter().collect();
            l.insert(METRIC_NAME.into(), s.name);
            for (k, v) in target.labels.iter() {
                if cfg.honor_labels {
                    l.entry(k.to_string()).or_insert_with(|| v.to_string());
                } else {
                    if let Some(old) = l.remove(k)
                        && !old.is_empty()
                    {
                        l.insert(format!("exported_{k}"), old);
                    }
                    l.insert(k.to_string(), v.to_string());
                }
            }
            let Some(l) = relabel::process(&cfg.metric_relabel_configs, l) else {
                continue;
            };
            let labels = Labels::new(l);
            if !seen.insert(labels.clone()) {
                // A second sample of one series in one scrape: Prometheus
                // keeps the first and counts the rest as duplicates.
                continue;
            }
            let t = match s.timestamp_ms {
                Some(t) if cfg.honor_timestamps => t,
                _ => now_ms,
            };
            out.push((labels, t, s.value));
        }
    }
    if cfg.sample_limit > 0 && out.len() > cfg.sample_limit {
        return Err((
            format!(
                "sample limit exceeded ({} > {})",
                out.len(),
                cfg.sample_limit
            ),
            scraped,
        ));
    }
    Ok((out, scraped, metadata))
}

/// Per-target state between scrapes: which series the last scrape had,
/// to write staleness markers for those that disappear.
#[derive(Debug, Default)]
pub struct ScrapeLoop {
    last: HashSet<Labels>,
}

impl ScrapeLoop {
    /// Everything to store for one scrape: its samples, stale markers for
    /// series gone since the last one (all of them when the scrape failed),
    /// and the report series (`up`, `scrape_duration_seconds`, ...).
    pub fn finish(
        &mut self,
        target: &Target,
        outcome: &ScrapeOutcome,
        now_ms: i64,
    ) -> Vec<LabeledSample> {
        let mut batch = outcome.samples.clone();
        let current: HashSet<Labels> = outcome.samples.iter().map(|(l, _, _)| l.clone()).collect();
        let added = current.difference(&self.last).count();
        let mut gone: Vec<&Labels> = self.last.difference(&current).collect();
        gone.sort();
        batch.extend(gone.into_iter().map(|l| (l.clone(), now_ms, stale_nan())));
        self.last = current;
        let up = if outcome.error.is_none() { 1.0 } else { 0.0 };
        let report = [
            ("up", up),
            ("scrape_duration_seconds", outcome.duration.as_secs_f64()),
            ("scrape_samples_scraped", outcome.scraped as f64),
            (
                "scrape_samples_post_metric_relabeling",
                outcome.samples.len() as f64,
            ),
            ("scrape_series_added", added as f64),
        ];
        for (name, v) in report {
            let l = Labels::new(
                target
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .chain([(METRIC_NAME.to_string(), name.to_string())]),
            );
            batch.push((l, now_ms, v));
        }
        batch
    }

    /// Stale markers for everything this target reported, for when the
    /// target goes away.
    pub fn stop(&mut self, target: &Target, now_ms: i64) -> Vec<LabeledSample> {
        let mut out: Vec<LabeledSample> = self
            .last
            .drain()
            .map(|l| (l, now_ms, stale_nan()))
            .collect();
        for name in [
            "up",
            "scrape_duration_seconds",
            "scrape_samples_scraped",
            "scrape_samples_post_metric_relabeling",
            "scrape_series_added",
        ] {
            let l = Labels::new(
                target
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .chain([(METRIC_NAME.to_string(), name.to_string())]),
            );
            out.push((l, now_ms, stale_nan()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Builds checked scrape configs from gantry.yml: Prometheus's defaults
/// under `monitoring:`'s, relabel rules compiled, each problem a diagnostic
/// at the entry that has it.
pub fn from_config(
    config: &gantry_config::Config,
) -> Result<Vec<ScrapeConfig>, Vec<gantry_config::Diagnostic>> {
    let m = &config.monitoring;
    let interval = m.scrape_interval.unwrap_or(Duration::from_secs(60));
    let timeout = m.scrape_timeout.unwrap_or(Duration::from_secs(10));
    let mut diags = Vec::new();
    let mut out = Vec::new();
    for job in &config.scrape_configs {
        let mut c = ScrapeConfig::new(job.job_name.clone());
        c.scrape_interval = job.scrape_interval.unwrap_or(interval);
        // Prometheus caps the default timeout at the job's interval.
        c.scrape_timeout = job.scrape_timeout.unwrap_or(timeout.min(c.scrape_interval));
        if c.scrape_timeout > c.scrape_interval {
            diags.push(
                gantry_config::Diagnostic::error(
                    &*job.origin.file,
                    format!(
                        "scrape timeout greater than scrape interval for scrape config with job name `{}`",
                        job.job_name
                    ),
                )
                .with_span(job.origin.span),
            );
        }
        if let Some(p) = &job.metrics_path {
            c.metrics_path = p.clone();
        }
        if let Some(s) = &job.scheme {
            c.scheme = s.clone();
        }
        c.params = job.params.clone();
        c.honor_labels = job.honor_labels.unwrap_or(false);
        c.honor_timestamps = job.honor_timestamps.unwrap_or(true);
        c.sample_limit = job.sample_limit.unwrap_or(0) as usize;
        c.body_size_limit = job.body_size_limit.unwrap_or(0) as usize;
        c.static_configs = job
            .static_configs
            .iter()
            .enumerate()
            .map(|(i, s)| TargetGroup {
                targets: s.targets.clone(),
                labels: s.labels.clone(),
                source: format!("static_configs[{i}]"),
            })
            .collect();
        c.file_sd_configs = job
            .file_sd_configs
            .iter()
            .map(|f| FileSdConfig {
                files: f.files.clone(),
                refresh_interval: f.refresh_interval.unwrap_or(Duration::from_secs(300)),
            })
            .collect();
        c.relabel_configs = compile_entries(&job.relabel_configs, &mut diags);
        c.metric_relabel_configs = compile_entries(&job.metric_relabel_configs, &mut diags);
        out.push(c);
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

pub(crate) fn compile_entries(
    entries: &[gantry_config::RelabelEntry],
    diags: &mut Vec<gantry_config::Diagnostic>,
) -> Vec<Rule> {
    entries
        .iter()
        .filter_map(|e| {
            let raw = relabel::RelabelConfig {
                source_labels: e.source_labels.clone(),
                separator: e.separator.clone(),
                target_label: e.target_label.clone(),
                regex: e.regex.clone(),
                modulus: e.modulus,
                replacement: e.replacement.clone(),
                action: e.action.clone(),
            };
            Rule::new(&raw)
                .map_err(|err| {
                    diags.push(
                        gantry_config::Diagnostic::error(e.origin.file.as_str(), err.to_string())
                            .with_span(e.origin.span),
                    )
                })
                .ok()
        })
        .collect()
}
