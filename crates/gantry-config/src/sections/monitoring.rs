//! `monitoring:` (store and defaults, kebab-case like the rest of
//! gantry.yml), `scrape_configs:` and `rule_files:` (Prometheus's shape and
//! spelling, so a Prometheus configuration's entries can be pasted in).
//!
//! Values are read as written; rules that need the monitoring engine (a
//! relabel regex, an action's required fields) are checked by the code
//! that compiles them, which reports at the entry's [`Origin`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::check::{Checker, Field, error_at};
use crate::diagnostic::Span;
use crate::values::{SIZE_EXPECTED, parse_size};
use crate::yaml::{Kind, Node, ScalarType, join};

/// Where an entry was written, for diagnostics raised after loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub span: Span,
}

impl Origin {
    pub(crate) fn of(node: &Node) -> Origin {
        Origin {
            file: node.file.to_string(),
            span: node.span,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringConfig {
    /// `scrape-interval`: the default for jobs that set none (Prometheus: 1m).
    pub scrape_interval: Option<Duration>,
    /// `scrape-timeout` (Prometheus: 10s).
    pub scrape_timeout: Option<Duration>,
    /// `evaluation-interval` for rule groups (Prometheus: 1m).
    pub evaluation_interval: Option<Duration>,
    /// `retention`: how long samples are kept (default 15d).
    pub retention: Option<Duration>,
    /// `retention-size`: the most bytes blocks may take.
    pub retention_size: Option<u64>,
    /// `self-scrape`: scrape Gantry's own `/metrics` (default true).
    pub self_scrape: Option<bool>,
    /// `external-labels`: added to alerts and remote writes.
    pub external_labels: BTreeMap<String, String>,
}

/// One `static_configs` or file_sd group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticConfig {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSdConfig {
    pub files: Vec<String>,
    pub refresh_interval: Option<Duration>,
}

/// One `relabel_configs` / `metric_relabel_configs` entry as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelabelEntry {
    pub source_labels: Vec<String>,
    pub separator: Option<String>,
    pub target_label: Option<String>,
    pub regex: Option<String>,
    pub modulus: Option<u64>,
    pub replacement: Option<String>,
    pub action: Option<String>,
    pub origin: Origin,
}

/// One `scrape_configs` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrapeJob {
    pub job_name: String,
    pub scrape_interval: Option<Duration>,
    pub scrape_timeout: Option<Duration>,
    pub metrics_path: Option<String>,
    pub scheme: Option<String>,
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: Option<bool>,
    pub honor_timestamps: Option<bool>,
    pub sample_limit: Option<u64>,
    pub body_size_limit: Option<u64>,
    pub static_configs: Vec<StaticConfig>,
    pub file_sd_configs: Vec<FileSdConfig>,
    pub relabel_configs: Vec<RelabelEntry>,
    pub metric_relabel_configs: Vec<RelabelEntry>,
    pub origin: Origin,
}

/// A Prometheus duration: `[0-9]+(ms|s|m|h|d|w|y)` parts, largest unit
/// first, like `1h30m` or `500ms`; `0s` is allowed.
pub fn parse_prom_duration(text: &str) -> Result<Duration, Option<String>> {
    const UNITS: &[(&str, u64)] = &[
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let text = text.trim();
    if text.is_empty() {
        return Err(None);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Some(format!("add a unit, like `{text}s` or `{text}m`")));
    }
    let mut rest = text;
    let mut ms: u64 = 0;
    let mut last_scale = u64::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(None);
        }
        let n: u64 = rest[..digits].parse().map_err(|_| None)?;
        let tail = &rest[digits..];
        let Some((unit, scale)) = UNITS.iter().find(|(u, _)| tail.starts_with(u)) else {
            return Err(Some("units are ms, s, m, h, d, w and y".into()));
        };
        if *scale >= last_scale {
            return Err(Some("write the largest unit first, each unit once".into()));
        }
        last_scale = *scale;
        ms = n
            .checked_mul(*scale)
            .and_then(|v| ms.checked_add(v))
            .ok_or_else(|| Some("the duration is too large".to_string()))?;
        rest = &tail[unit.len()..];
    }
    Ok(Duration::from_millis(ms))
}

const PROM_DURATION: &str = "a duration like `15s`, `1m30s` or `500ms`";

pub(crate) fn duration(ck: &mut Checker, node: &Node, path: &str) -> Option<Duration> {
    ck.value(node, path, PROM_DURATION, parse_prom_duration)
}

pub(crate) fn boolean(ck: &mut Checker, node: &Node, path: &str) -> Option<bool> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Bool,
            text,
        } => Some(matches!(text.as_str(), "true" | "True" | "TRUE")),
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected `true` or `false` for `{path}`, found {found}"),
            ));
            None
        }
    }
}

pub(crate) fn count(ck: &mut Checker, node: &Node, path: &str) -> Option<u64> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Int(n),
            ..
        } if *n >= 0 && *n <= u64::MAX as i128 => Some(*n as u64),
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected a non-negative integer for `{path}`, found {found}"),
            ));
            None
        }
    }
}

/// The items of a sequence, or an error naming `path`.
pub(crate) fn seq<'a>(ck: &mut Checker, node: &'a Node, path: &str) -> &'a [Node] {
    match &node.kind {
        Kind::Seq(items) => items,
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected a sequence for `{path}`, found {found}"),
            ));
            &[]
        }
    }
}

pub(crate) fn strings(ck: &mut Checker, node: &Node, path: &str) -> Vec<String> {
    seq(ck, node, path)
        .iter()
        .enumerate()
        .filter_map(|(i, item)| ck.string(item, &format!("{path}[{i}]")))
        .collect()
}

pub(crate) fn string_map(ck: &mut Checker, node: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Kind::Map(entries) = &node.kind else {
        let found = node.describe();
        ck.push(error_at(
            node,
            format!("expected a mapping for `{path}`, found {found}"),
        ));
        return out;
    };
    for e in entries {
        if let Some(v) = ck.string(&e.value, &join(path, &e.key)) {
            out.insert(e.key.clone(), v);
        }
    }
    out
}

pub(crate) fn label_map(ck: &mut Checker, node: &Node, path: &str) -> BTreeMap<String, String> {
    let map = string_map(ck, node, path);
    if let Kind::Map(entries) = &node.kind {
        for e in entries.iter().filter(|e| !is_label_name(&e.key)) {
            ck.push(
                error_at(
                    &e.value,
                    format!("invalid label name `{}` in `{path}`", e.key),
                )
                .with_span(e.key_span)
                .with_help("label names match [a-zA-Z_][a-zA-Z0-9_]*"),
            );
        }
    }
    map
}

pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) const FIELDS: &[Field<MonitoringConfig>] = &[
    ("scrape-interval", |ck, node, path, out| {
        out.scrape_interval = duration(ck, node, path)
    }),
    ("scrape-timeout", |ck, node, path, out| {
        out.scrape_timeout = duration(ck, node, path)
    }),
    ("evaluation-interval", |ck, node, path, out| {
        out.evaluation_interval = duration(ck, node, path)
    }),
    ("retention", |ck, node, path, out| {
        out.retention = duration(ck, node, path)
    }),
    ("retention-size", |ck, node, path, out| {
        out.retention_size = ck.value(node, path, SIZE_EXPECTED, parse_size)
    }),
    ("self-scrape", |ck, node, path, out| {
        out.self_scrape = boolean(ck, node, path)
    }),
    ("external-labels", |ck, node, path, out| {
        out.external_labels = label_map(ck, node, path)
    }),
];

const STATIC_FIELDS: &[Field<StaticConfig>] = &[
    ("targets", |ck, node, path, out| {
        out.targets = strings(ck, node, path)
    }),
    ("labels", |ck, node, path, out| {
        out.labels = label_map(ck, node, path)
    }),
];

const FILE_SD_FIELDS: &[Field<FileSdConfig>] = &[
    ("files", |ck, node, path, out| {
        out.files = strings(ck, node, path)
    }),
    ("refresh_interval", |ck, node, path, out| {
        out.refresh_interval = duration(ck, node, path)
    }),
];

const RELABEL_FIELDS: &[Field<RelabelEntry>] = &[
    ("source_labels", |ck, node, path, out| {
        out.source_labels = strings(ck, node, path)
    }),
    ("separator", |ck, node, path, out| {
        out.separator = ck.string(node, path)
    }),
    ("target_label", |ck, node, path, out| {
        out.target_label = ck.string(node, path)
    }),
    ("regex", |ck, node, path, out| {
        out.regex = ck.string(node, path)
    }),
    ("modulus", |ck, node, path, out| {
        out.modulus = count(ck, node, path)
    }),
    ("replacement", |ck, node, path, out| {
        out.replacement = ck.string(node, path)
    }),
    ("action", |ck, node, path, out| {
        out.action = ck.string(node, path)
    }),
];

fn relabels(ck: &mut Checker, node: &Node, path: &str) -> Vec<RelabelEntry> {
    seq(ck, node, path)
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut r: RelabelEntry = ck.mapping(item, &format!("{path}[{i}]"), RELABEL_FIELDS);
            r.origin = Origin::of(item);
            r
        })
        .collect()
}

const JOB_FIELDS: &[Field<ScrapeJob>] = &[
    ("job_name", |ck, node, path, out| {
        out.job_name = ck.string(node, path).unwrap_or_default()
    }),
    ("scrape_interval", |ck, node, path, out| {
        out.scrape_interval = duration(ck, node, path)
    }),
    ("scrape_timeout", |ck, node, path, out| {
        out.scrape_timeout = duration(ck, node, path)
    }),
    ("metrics_path", |ck, node, path, out| {
        out.metrics_path = ck.value(node, path, "a path starting with `/`", |t| {
            t.starts_with('/').then(|| t.to_string()).ok_or(None)
        })
    }),
    ("scheme", |ck, node, path, out| {
        out.scheme = ck.value(node, path, "`http` or `https`", |t| match t {
            "http" | "https" => Ok(t.to_string()),
            _ => Err(None),
        })
    }),
    ("params", |ck, node, path, out| {
        if let Kind::Map(entries) = &node.kind {
            for e in entries {
                let values = strings(ck, &e.value, &join(path, &e.key));
                out.params.insert(e.key.clone(), values);
            }
        } else {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected a mapping for `{path}`, found {found}"),
            ));
        }
    }),
    ("honor_labels", |ck, node, path, out| {
        out.honor_labels = boolean(ck, node, path)
    }),
    ("honor_timestamps", |ck, node, path, out| {
        out.honor_timestamps = boolean(ck, node, path)
    }),
    ("sample_limit", |ck, node, path, out| {
        out.sample_limit = count(ck, node, path)
    }),
    ("body_size_limit", |ck, node, path, out| {
        out.body_size_limit = ck.value(node, path, SIZE_EXPECTED, parse_size)
    }),
    ("static_configs", |ck, node, path, out| {
        out.static_configs = seq(ck, node, path)
            .iter()
            .enumerate()
            .map(|(i, item)| ck.mapping(item, &format!("{path}[{i}]"), STATIC_FIELDS))
            .collect()
    }),
    ("file_sd_configs", |ck, node, path, out| {
        out.file_sd_configs = seq(ck, node, path)
            .iter()
            .enumerate()
            .map(|(i, item)| ck.mapping(item, &format!("{path}[{i}]"), FILE_SD_FIELDS))
            .collect()
    }),
    ("relabel_configs", |ck, node, path, out| {
        out.relabel_configs = relabels(ck, node, path)
    }),
    ("metric_relabel_configs", |ck, node, path, out| {
        out.metric_relabel_configs = relabels(ck, node, path)
    }),
];

/// Reads `scrape_configs`: a sequence of jobs with unique, present names
/// and a timeout no longer than the interval.
pub(crate) fn scrape_configs(ck: &mut Checker, node: &Node, path: &str) -> Vec<ScrapeJob> {
    let mut jobs: Vec<ScrapeJob> = Vec::new();
    for (i, item) in seq(ck, node, path).iter().enumerate() {
        let at = format!("{path}[{i}]");
        let mut job: ScrapeJob = ck.mapping(item, &at, JOB_FIELDS);
        job.origin = Origin::of(item);
        let has_name =
            matches!(&item.kind, Kind::Map(es) if es.iter().any(|e| e.key == "job_name"));
        if !has_name && matches!(item.kind, Kind::Map(_)) {
            ck.push(error_at(
                item,
                format!("missing required key `job_name` in `{at}`"),
            ));
        }
        if let Some(prev) = jobs
            .iter()
            .find(|j| !job.job_name.is_empty() && j.job_name == job.job_name)
        {
            ck.push(
                error_at(
                    item,
                    format!(
                        "found multiple scrape configs with job name `{}`",
                        job.job_name
                    ),
                )
                .with_help(format!("the first is at line {}", prev.origin.span.line)),
            );
        }
        if let (Some(interval), Some(timeout)) = (job.scrape_interval, job.scrape_timeout)
            && timeout > interval
        {
            ck.push(error_at(
                item,
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name `{}`",
                    job.job_name
                ),
            ));
        }
        jobs.push(job);
    }
    jobs
}

/// Reads `rule_files`: non-empty paths (globs allowed in the last part).
pub(crate) fn rule_files(ck: &mut Checker, node: &Node, path: &str) -> Vec<String> {
    let files = strings(ck, node, path);
    for (i, f) in files.iter().enumerate() {
        if f.is_empty()
            && let Kind::Seq(items) = &node.kind
        {
            ck.push(error_at(&items[i], format!("empty path in `{path}[{i}]`")));
        }
    }
    files
}

/// One `remote_write` entry, in Prometheus's shape. Credentials are best
/// given as files (`password_file`, `credentials_file`) so gantry.yml
/// holds no secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteWriteConfig {
    pub url: String,
    pub name: Option<String>,
    pub remote_timeout: Option<Duration>,
    pub headers: BTreeMap<String, String>,
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub write_relabel_configs: Vec<RelabelEntry>,
    pub queue_config: QueueConfig,
    pub origin: Origin,
}

/// `Debug` hides the password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<String>,
}

/// `Debug` hides the credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Authorization {
    /// Defaults to `Bearer`.
    pub kind: Option<String>,
    pub credentials: Option<String>,
    pub credentials_file: Option<String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .finish()
    }
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("kind", &self.kind)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .field("credentials_file", &self.credentials_file)
            .finish()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueConfig {
    pub capacity: Option<u64>,
    pub max_samples_per_send: Option<u64>,
    pub batch_send_deadline: Option<Duration>,
    pub min_backoff: Option<Duration>,
    pub max_backoff: Option<Duration>,
}

const BASIC_AUTH_FIELDS: &[Field<BasicAuth>] = &[
    ("username", |ck, node, path, out| {
        out.username = ck.string(node, path).unwrap_or_default()
    }),
    ("password", |ck, node, path, out| {
        out.password = ck.string(node, path)
    }),
    ("password_file", |ck, node, path, out| {
        out.password_file = ck.string(node, path)
    }),
];

const AUTHORIZATION_FIELDS: &[Field<Authorization>] = &[
    ("type", |ck, node, path, out| {
        out.kind = ck.string(node, path)
    }),
    ("credentials", |ck, node, path, out| {
        out.credentials = ck.string(node, path)
    }),
    ("credentials_file", |ck, node, path, out| {
        out.credentials_file = ck.string(node, path)
    }),
];

const QUEUE_FIELDS: &[Field<QueueConfig>] = &[
    ("capacity", |ck, node, path, out| {
        out.capacity = count(ck, node, path)
    }),
    ("max_samples_per_send", |ck, node, path, out| {
        out.max_samples_per_send = count(ck, node, path)
    }),
    ("batch_send_deadline", |ck, node, path, out| {
        out.batch_send_deadline = duration(ck, node, path)
    }),
    ("min_backoff", |ck, node, path, out| {
        out.min_backoff = duration(ck, node, path)
    }),
    ("max_backoff", |ck, node, path, out| {
        out.max_backoff = duration(ck, node, path)
    }),
];

const REMOTE_WRITE_FIELDS: &[Field<RemoteWriteConfig>] = &[
    ("url", |ck, node, path, out| {
        out.url = ck
            .value(node, path, "an http:// or https:// URL", |t| {
                (t.starts_with("http://") || t.starts_with("https://"))
                    .then(|| t.to_string())
                    .ok_or(None)
            })
            .unwrap_or_default()
    }),
    ("name", |ck, node, path, out| {
        out.name = ck.string(node, path)
    }),
    ("remote_timeout", |ck, node, path, out| {
        out.remote_timeout = duration(ck, node, path)
    }),
    ("headers", |ck, node, path, out| {
        out.headers = string_map(ck, node, path)
    }),
    ("basic_auth", |ck, node, path, out| {
        out.basic_auth = Some(ck.mapping(node, path, BASIC_AUTH_FIELDS))
    }),
    ("authorization", |ck, node, path, out| {
        out.authorization = Some(ck.mapping(node, path, AUTHORIZATION_FIELDS))
    }),
    ("write_relabel_configs", |ck, node, path, out| {
        out.write_relabel_configs = relabels(ck, node, path)
    }),
    ("queue_config", |ck, node, path, out| {
        out.queue_config = ck.mapping(node, path, QUEUE_FIELDS)
    }),
];

/// Reads `remote_write`: a sequence of endpoints, each with a `url`.
pub(crate) fn remote_write(ck: &mut Checker, node: &Node, path: &str) -> Vec<RemoteWriteConfig> {
    let mut out = Vec::new();
    for (i, item) in seq(ck, node, path).iter().enumerate() {
        let at = format!("{path}[{i}]");
        let mut rw: RemoteWriteConfig = ck.mapping(item, &at, REMOTE_WRITE_FIELDS);
        rw.origin = Origin::of(item);
        let has_url = matches!(&item.kind, Kind::Map(es) if es.iter().any(|e| e.key == "url"));
        if !has_url && matches!(item.kind, Kind::Map(_)) {
            ck.push(error_at(
                item,
                format!("missing required key `url` in `{at}`"),
            ));
        }
        if let Some(b) = &rw.basic_auth
            && b.password.is_some()
            && b.password_file.is_some()
        {
            ck.push(error_at(
                item,
                format!("at most one of `password` and `password_file` in `{at}.basic_auth`"),
            ));
        }
        if let Some(a) = &rw.authorization
            && a.credentials.is_some()
            && a.credentials_file.is_some()
        {
            ck.push(error_at(
                item,
                format!(
                    "at most one of `credentials` and `credentials_file` in `{at}.authorization`"
                ),
            ));
        }
        if rw.basic_auth.is_some() && rw.authorization.is_some() {
            ck.push(error_at(
                item,
                format!("at most one of `basic_auth` and `authorization` in `{at}`"),
            ));
        }
        out.push(rw);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        assert_eq!(parse_prom_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_prom_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_prom_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_prom_duration("1m500ms"),
            Ok(Duration::from_millis(60_500))
        );
        assert_eq!(parse_prom_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_prom_duration("15").is_err());
        assert!(parse_prom_duration("30m1h").is_err());
        assert!(parse_prom_duration("1.5s").is_err());
        assert!(parse_prom_duration("").is_err());
    }
}
