//! `monitors:`: synthetic probes (http, tcp, tls, dns) with Gatus-style
//! conditions. Keys are kebab-case like the rest of gantry.yml.
//!
//! This module checks the shape (required keys, the type and its target,
//! keys that only apply to one type); the condition language is parsed by
//! gantry-monitor, which reports errors at each condition's [`Origin`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::check::{Checker, Field, error_at};
use crate::sections::monitoring::{Origin, boolean, count, duration, label_map, seq, string_map};
use crate::yaml::{Kind, Node, ScalarType};

/// What a monitor probes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MonitorKind {
    #[default]
    Http,
    Tcp,
    Tls,
    Dns,
}

impl MonitorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorKind::Http => "http",
            MonitorKind::Tcp => "tcp",
            MonitorKind::Tls => "tls",
            MonitorKind::Dns => "dns",
        }
    }
}

impl fmt::Display for MonitorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The DNS record types a dns monitor can ask for.
pub const DNS_QUERY_TYPES: &[&str] = &["A", "AAAA", "CNAME", "MX", "TXT", "NS"];

/// One condition string and where it was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionEntry {
    pub text: String,
    /// The scalar's position; `origin.span.col + offset` is the column of
    /// the condition's first character (`offset` is 1 for a quoted scalar).
    pub origin: Origin,
    pub offset: usize,
}

/// A dns monitor's `dns:` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsEntry {
    /// `server`: `host` or `host:port` (port 53 by default); unset means
    /// the first nameserver of the system's resolver configuration.
    pub server: Option<String>,
    pub query_name: String,
    /// One of [`DNS_QUERY_TYPES`]; `A` when unset.
    pub query_type: Option<String>,
}

/// One `monitors` entry as written, with its type resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorEntry {
    pub name: String,
    /// `type`, or inferred from the `url` scheme.
    pub kind: MonitorKind,
    /// http(s) URL for http monitors; `tcp://` and `tls://` URLs are read
    /// into `host` and `port`.
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dns: Option<DnsEntry>,
    /// Default 60s.
    pub interval: Option<Duration>,
    /// Default 10s.
    pub timeout: Option<Duration>,
    /// Default 3.
    pub failure_threshold: Option<u64>,
    /// Default 2.
    pub success_threshold: Option<u64>,
    pub conditions: Vec<ConditionEntry>,
    pub method: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// Default true.
    pub follow_redirects: Option<bool>,
    /// Default true.
    pub tls_verify: Option<bool>,
    pub labels: BTreeMap<String, String>,
    pub origin: Origin,
}

/// Fields as read, before the type is resolved.
#[derive(Default)]
struct Raw {
    entry: MonitorEntry,
    kind: Option<MonitorKind>,
    /// Keys present, with their key nodes' spans, for per-type checks.
    present: Vec<(&'static str, Origin)>,
}

fn mark(out: &mut Raw, key: &'static str, node: &Node) {
    out.present.push((key, Origin::of(node)));
}

const HTTP_ONLY: &[&str] = &["method", "headers", "body", "follow-redirects"];

const FIELDS: &[Field<Raw>] = &[
    ("name", |ck, node, path, out| {
        out.entry.name = ck.string(node, path).unwrap_or_default()
    }),
    ("type", |ck, node, path, out| {
        out.kind = ck.value(node, path, "`http`, `tcp`, `tls` or `dns`", |t| match t {
            "http" => Ok(MonitorKind::Http),
            "tcp" => Ok(MonitorKind::Tcp),
            "tls" => Ok(MonitorKind::Tls),
            "dns" => Ok(MonitorKind::Dns),
            "https" => Err(Some("https monitors have `type: http`".into())),
            _ => Err(None),
        })
    }),
    ("url", |ck, node, path, out| {
        mark(out, "url", node);
        out.entry.url = ck.string(node, path)
    }),
    ("host", |ck, node, path, out| {
        mark(out, "host", node);
        out.entry.host = ck.value(node, path, "a host name or address", |t| {
            (!t.is_empty() && !t.contains(char::is_whitespace))
                .then(|| t.to_string())
                .ok_or(None)
        })
    }),
    ("port", |ck, node, path, out| {
        mark(out, "port", node);
        out.entry.port = port(ck, node, path)
    }),
    ("dns", |ck, node, path, out| {
        mark(out, "dns", node);
        let dns: DnsEntry = ck.mapping(node, path, DNS_FIELDS);
        if matches!(node.kind, Kind::Map(_)) && dns.query_name.is_empty() {
            let has =
                matches!(&node.kind, Kind::Map(es) if es.iter().any(|e| e.key == "query-name"));
            if !has {
                ck.push(error_at(
                    node,
                    format!("missing required key `query-name` in `{path}`"),
                ));
            }
        }
        out.entry.dns = Some(dns);
    }),
    ("interval", |ck, node, path, out| {
        out.entry.interval = positive(ck, node, path)
    }),
    ("timeout", |ck, node, path, out| {
        out.entry.timeout = positive(ck, node, path)
    }),
    ("failure-threshold", |ck, node, path, out| {
        out.entry.failure_threshold = threshold(ck, node, path)
    }),
    ("success-threshold", |ck, node, path, out| {
        out.entry.success_threshold = threshold(ck, node, path)
    }),
    ("conditions", |ck, node, path, out| {
        out.entry.conditions = seq(ck, node, path)
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let text = ck.string(item, &format!("{path}[{i}]"))?;
                // A quoted scalar's span starts at the quote.
                let offset = usize::from(item.span.len > text.chars().count());
                Some(ConditionEntry {
                    text,
                    origin: Origin::of(item),
                    offset,
                })
            })
            .collect()
    }),
    ("method", |ck, node, path, out| {
        mark(out, "method", node);
        out.entry.method = ck.value(node, path, "an HTTP method like `GET` or `POST`", |t| {
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_uppercase()) {
                Ok(t.to_string())
            } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphabetic()) {
                Err(Some(format!(
                    "methods are uppercase: `{}`",
                    t.to_ascii_uppercase()
                )))
            } else {
                Err(None)
            }
        })
    }),
    ("headers", |ck, node, path, out| {
        mark(out, "headers", node);
        out.entry.headers = string_map(ck, node, path);
        if let Kind::Map(entries) = &node.kind {
            for e in entries {
                if !is_header_name(&e.key) {
                    ck.push(
                        error_at(
                            &e.value,
                            format!("invalid header name `{}` in `{path}`", e.key),
                        )
                        .with_span(e.key_span)
                        .with_help("header names are letters, digits and !#$%&'*+-.^_`|~"),
                    );
                } else if out
                    .entry
                    .headers
                    .get(&e.key)
                    .is_some_and(|v| v.chars().any(|c| c.is_control() && c != '\t'))
                {
                    ck.push(error_at(
                        &e.value,
                        format!("header `{}` in `{path}` has a control character", e.key),
                    ));
                }
            }
        }
    }),
    ("body", |ck, node, path, out| {
        mark(out, "body", node);
        out.entry.body = ck.string(node, path)
    }),
    ("follow-redirects", |ck, node, path, out| {
        mark(out, "follow-redirects", node);
        out.entry.follow_redirects = boolean(ck, node, path)
    }),
    ("tls-verify", |ck, node, path, out| {
        mark(out, "tls-verify", node);
        out.entry.tls_verify = boolean(ck, node, path)
    }),
    ("labels", |ck, node, path, out| {
        out.entry.labels = label_map(ck, node, path);
        if let Kind::Map(entries) = &node.kind {
            for e in entries
                .iter()
                .filter(|e| e.key == "monitor" || e.key == "type")
            {
                ck.push(
                    error_at(
                        &e.value,
                        format!("label `{}` is set by gantry in `{path}`", e.key),
                    )
                    .with_span(e.key_span)
                    .with_help("every probe metric has `monitor=<name>` and `type=<type>`"),
                );
            }
        }
    }),
];

const DNS_FIELDS: &[Field<DnsEntry>] = &[
    ("server", |ck, node, path, out| {
        out.server = ck.value(node, path, "`host` or `host:port`", |t| {
            (!t.is_empty() && !t.contains(char::is_whitespace) && !t.contains("://"))
                .then(|| t.to_string())
                .ok_or(None)
        })
    }),
    ("query-name", |ck, node, path, out| {
        out.query_name = ck
            .value(node, path, "a domain name like `example.com`", |t| {
                let ok = !t.is_empty()
                    && t.len() <= 253
                    && t.trim_end_matches('.')
                        .split('.')
                        .all(|l| !l.is_empty() && l.len() <= 63);
                ok.then(|| t.to_string()).ok_or(None)
            })
            .unwrap_or_default()
    }),
    ("query-type", |ck, node, path, out| {
        out.query_type = ck.value(
            node,
            path,
            "`A`, `AAAA`, `CNAME`, `MX`, `TXT` or `NS`",
            |t| {
                if DNS_QUERY_TYPES.contains(&t) {
                    Ok(t.to_string())
                } else if DNS_QUERY_TYPES.contains(&t.to_ascii_uppercase().as_str()) {
                    Err(Some(format!(
                        "record types are uppercase: `{}`",
                        t.to_ascii_uppercase()
                    )))
                } else {
                    Err(None)
                }
            },
        )
    }),
];

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn positive(ck: &mut Checker, node: &Node, path: &str) -> Option<Duration> {
    let d = duration(ck, node, path)?;
    if d.is_zero() {
        ck.push(error_at(
            node,
            format!("`{path}` must be greater than zero"),
        ));
        return None;
    }
    Some(d)
}

fn threshold(ck: &mut Checker, node: &Node, path: &str) -> Option<u64> {
    let n = count(ck, node, path)?;
    if n == 0 {
        ck.push(error_at(node, format!("`{path}` must be at least 1")));
        return None;
    }
    Some(n)
}

fn port(ck: &mut Checker, node: &Node, path: &str) -> Option<u16> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Int(n),
            ..
        } if (1..=65535).contains(n) => Some(*n as u16),
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected a port number from 1 to 65535 for `{path}`, found {found}"),
            ));
            None
        }
    }
}

/// Splits `scheme://host:port[/...]` into its parts; IPv6 hosts are
/// written in brackets.
fn split_url(url: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        match tail.strip_prefix(':') {
            Some(p) => (host, Some(p.parse().ok()?)),
            None if tail.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse().ok()?)),
            None => (authority, None),
        }
    };
    (!host.is_empty() && port != Some(0)).then_some((scheme, host, port))
}

/// Reads `monitors`: a sequence of entries with unique, present names.
pub(crate) fn monitors(ck: &mut Checker, node: &Node, path: &str) -> Vec<MonitorEntry> {
    let mut out: Vec<MonitorEntry> = Vec::new();
    for (i, item) in seq(ck, node, path).iter().enumerate() {
        let at = format!("{path}[{i}]");
        let mut raw: Raw = ck.mapping(item, &at, FIELDS);
        let Kind::Map(entries) = &item.kind else {
            continue;
        };
        raw.entry.origin = Origin::of(item);
        if !entries.iter().any(|e| e.key == "name") {
            ck.push(error_at(
                item,
                format!("missing required key `name` in `{at}`"),
            ));
        } else if let Some(prev) = out
            .iter()
            .find(|m| !raw.entry.name.is_empty() && m.name == raw.entry.name)
        {
            ck.push(
                error_at(
                    item,
                    format!("found multiple monitors named `{}`", raw.entry.name),
                )
                .with_help(format!("the first is at line {}", prev.origin.span.line)),
            );
        }
        let value_of = |key: &str| entries.iter().find(|e| e.key == key).map(|e| &e.value);
        resolve_kind(ck, &mut raw, item, &at, value_of("url"));
        if let (Some(interval), Some(timeout)) = (raw.entry.interval, raw.entry.timeout)
            && timeout > interval
        {
            let node = value_of("timeout").unwrap_or(item);
            ck.push(error_at(
                node,
                format!("`{at}.timeout` is longer than its interval"),
            ));
        }
        out.push(raw.entry);
    }
    out
}

fn resolve_kind(ck: &mut Checker, raw: &mut Raw, item: &Node, at: &str, url_node: Option<&Node>) {
    let e = &mut raw.entry;
    let parsed = e.url.as_deref().map(|u| (u, split_url(u)));
    let inferred = match parsed {
        Some((_, Some(("http" | "https", _, _)))) => Some(MonitorKind::Http),
        Some((_, Some(("tcp", _, _)))) => Some(MonitorKind::Tcp),
        Some((_, Some(("tls", _, _)))) => Some(MonitorKind::Tls),
        _ => None,
    };
    let url_at = |ck: &mut Checker, message: String, help: &str| {
        let node = url_node.unwrap_or(item);
        ck.push(error_at(node, message).with_help(help.to_string()));
    };
    if let (Some((url, _)), None) = (parsed, inferred) {
        url_at(
            ck,
            format!("invalid `{at}.url` `{url}`"),
            "expected `http://`, `https://`, `tcp://host:port` or `tls://host:port`",
        );
    }
    let kind = match (raw.kind, inferred) {
        (Some(k), Some(i)) if k != i => {
            let scheme = parsed.and_then(|(_, p)| p).map_or("", |(s, _, _)| s);
            url_at(
                ck,
                format!("`{at}.url` has scheme `{scheme}` but the monitor has `type: {k}`"),
                "remove `type` to infer it from the url, or change the url's scheme",
            );
            k
        }
        (Some(k), _) => k,
        (None, Some(i)) => i,
        (None, None) if e.dns.is_some() => MonitorKind::Dns,
        (None, None) if e.host.is_some() => {
            ck.push(error_at(
                item,
                format!("missing `type` in `{at}`: a `host` monitor is `tcp` or `tls`"),
            ));
            MonitorKind::Tcp
        }
        (None, None) => {
            if e.url.is_none() {
                ck.push(
                    error_at(item, format!("missing required key `url` in `{at}`"))
                        .with_help("or set `type` with `host`/`port` (tcp, tls) or `dns`"),
                );
            }
            MonitorKind::Http
        }
    };
    e.kind = kind;
    // Keys that only make sense for another type.
    for (key, origin) in &raw.present {
        let wrong = match kind {
            MonitorKind::Http => matches!(*key, "host" | "port" | "dns"),
            MonitorKind::Tcp => HTTP_ONLY.contains(key) || matches!(*key, "dns" | "tls-verify"),
            MonitorKind::Tls => HTTP_ONLY.contains(key) || *key == "dns",
            MonitorKind::Dns => {
                HTTP_ONLY.contains(key) || matches!(*key, "url" | "host" | "port" | "tls-verify")
            }
        };
        if wrong {
            ck.push(
                crate::Diagnostic::error(
                    origin.file.as_str(),
                    format!("`{key}` does not apply to {kind} monitors (in `{at}`)"),
                )
                .with_span(origin.span),
            );
        }
    }
    match kind {
        MonitorKind::Http => {}
        MonitorKind::Tcp | MonitorKind::Tls => {
            if inferred.is_some_and(|i| i != kind) {
                // Reported above.
            } else if let Some((_, Some((_, host, port)))) = parsed {
                if e.host.is_some() || e.port.is_some() {
                    url_at(
                        ck,
                        format!("`{at}` sets both `url` and `host`/`port`"),
                        "keep one of them",
                    );
                }
                e.host = Some(host.to_string());
                e.port = port;
                if port.is_none() {
                    url_at(
                        ck,
                        format!("`{at}.url` has no port"),
                        &format!("write it as `{kind}://{host}:PORT`"),
                    );
                }
            } else if e.url.is_none() {
                if e.host.is_none() {
                    ck.push(error_at(
                        item,
                        format!(
                            "missing required key `host` in `{at}` (or a `{kind}://host:port` url)"
                        ),
                    ));
                }
                if e.port.is_none() {
                    ck.push(error_at(
                        item,
                        format!("missing required key `port` in `{at}`"),
                    ));
                }
            }
        }
        MonitorKind::Dns => {
            if e.dns.is_none() {
                ck.push(
                    error_at(item, format!("missing required key `dns` in `{at}`"))
                        .with_help("add `dns: {query-name: example.com, query-type: A}`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_and_port() {
        assert_eq!(split_url("tcp://db:5432"), Some(("tcp", "db", Some(5432))));
        assert_eq!(
            split_url("https://u@example.com/x?y"),
            Some(("https", "example.com", None))
        );
        assert_eq!(
            split_url("tls://[::1]:443"),
            Some(("tls", "::1", Some(443)))
        );
        assert_eq!(split_url("tcp://db:x"), None);
        assert_eq!(split_url("nope"), None);
        assert_eq!(split_url("tcp://:80"), None);
    }
}
