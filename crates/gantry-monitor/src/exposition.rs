//! Parsers for what scrape targets return: the Prometheus text format 0.0.4
//! and OpenMetrics 1.0 text.
//!
//! Both produce [`Family`]s: metadata (`# HELP`, `# TYPE`, `# UNIT`) and
//! the samples that belong to it, in input order. Errors carry the 1-based
//! line and column of the offending character.

use std::collections::HashMap;
use std::fmt;

use thiserror::Error;

/// The `Accept` header a scraper sends: OpenMetrics preferred, then the
/// classic text format.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.9,\
                          text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Which text format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4` (and anything unrecognised, as
    /// Prometheus does).
    Text,
    /// `application/openmetrics-text`.
    OpenMetrics,
}

impl Format {
    /// The format a response's `Content-Type` names.
    pub fn from_content_type(ct: Option<&str>) -> Format {
        match ct {
            Some(ct)
                if ct.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/openmetrics-text")
                }) =>
            {
                Format::OpenMetrics
            }
            _ => Format::Text,
        }
    }
}

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    fn parse(s: &str, format: Format) -> Option<MetricType> {
        Some(match (s, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", Format::Text) | ("unknown", Format::OpenMetrics) => MetricType::Unknown,
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("info", Format::OpenMetrics) => MetricType::Info,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            _ => return None,
        })
    }

    /// The name Prometheus's metadata API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Sample-name suffixes that belong to a family of this type.
    fn suffixes(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (MetricType::Counter, Format::OpenMetrics) => &["_total", "_created"],
            (MetricType::Histogram, Format::OpenMetrics) => {
                &["_bucket", "_count", "_sum", "_created"]
            }
            (MetricType::Histogram, Format::Text) => &["_bucket", "_count", "_sum"],
            (MetricType::GaugeHistogram, _) => &["_bucket", "_gcount", "_gsum"],
            (MetricType::Summary, Format::OpenMetrics) => &["_count", "_sum", "_created"],
            (MetricType::Summary, Format::Text) => &["_count", "_sum"],
            (MetricType::Info, _) => &["_info"],
            _ => &[],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OpenMetrics exemplar attached to a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full sample name (`http_requests_total`, `latency_bucket`).
    pub name: String,
    /// Labels in input order (without `__name__`).
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    pub exemplar: Option<Exemplar>,
    /// 1-based line the sample came from.
    pub line: usize,
}

/// A metric family: metadata and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub ty: MetricType,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub samples: Vec<Sample>,
}

/// A parse error at a position in the body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Parses a whole scrape body.
pub fn parse(body: &str, format: Format) -> Result<Vec<Family>, ParseError> {
    Parser {
        format,
        families: Vec::new(),
        by_name: HashMap::new(),
        current: None,
        saw_eof: false,
    }
    .run(body)
}

struct Parser {
    format: Format,
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
    /// Index of the family that the last metadata or sample line touched.
    current: Option<usize>,
    saw_eof: bool,
}

/// A cursor over one line.
struct Line<'a> {
    text: &'a str,
    pos: usize,
    no: usize,
}

impl<'a> Line<'a> {
    fn err(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.no,
            col: self.text[..at.min(self.text.len())].chars().count() + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_blanks(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Exactly one space (OpenMetrics) or one or more blanks (text).
    fn separator(&mut self, format: Format, what: &str) -> Result<(), ParseError> {
        let at = self.pos;
        let n = self.skip_blanks();
        let ok = match format {
            Format::Text => n > 0,
            Format::OpenMetrics => n == 1 && self.text.as_bytes()[at] == b' ',
        };
        if ok {
            Ok(())
        } else if n == 0 {
            Err(self.err(at, format!("expected a space before {what}")))
        } else {
            Err(self.err(at, "expected exactly one space"))
        }
    }

    fn name(&mut self, metric: bool) -> Option<&'a str> {
        let start = self.pos;
        for (i, c) in self.text[start..].char_indices() {
            let ok = c.is_ascii_alphabetic()
                || c == '_'
                || (metric && c == ':')
                || (i > 0 && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos = start + i + 1;
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.text[start..self.pos]
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            let found = match self.peek() {
                Some(f) => format!("{f:?}"),
                None => "end of line".to_string(),
            };
            Err(self.err(self.pos, format!("expected {c:?}, found {found}")))
        }
    }

    /// A double-quoted label value; `\\`, `\"` and `\n` are unescaped.
    fn quoted(&mut self) -> Result<String, ParseError> {
        self.expect('"')?;
        let mut out = String::new();
        let start = self.pos;
        let mut chars = self.text[start..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    // Other escapes stay as written, as Prometheus keeps them.
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.err(self.text.len(), "unterminated label value: expected '\"'"))
    }

    fn labels(&mut self, format: Format) -> Result<Vec<(String, String)>, ParseError> {
        self.expect('{')?;
        let mut labels: Vec<(String, String)> = Vec::new();
        loop {
            if format == Format::Text {
                self.skip_blanks();
            }
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(labels);
            }
            let at = self.pos;
            let Some(name) = self.name(false) else {
                return Err(self.err(at, "expected a label name"));
            };
            if labels.iter().any(|(n, _)| n == name) {
                return Err(self.err(at, format!("duplicate label name {name:?}")));
            }
            if format == Format::Text {
                self.skip_blanks();
            }
            self.expect('=')?;
            if format == Format::Text {
                self.skip_blanks();
            }
            let value = self.quoted()?;
            labels.push((name.to_string(), value));
            if format == Format::Text {
                self.skip_blanks();
            }
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => {
                    return Err(self.err(self.pos, "expected ',' or '}' after a label value"));
                }
            }
        }
    }

    fn float(&mut self, what: &str) -> Result<f64, ParseError> {
        let at = self.pos;
        let tok = self.token();
        parse_float(tok).ok_or_else(|| self.err(at, format!("invalid {what} {tok:?}")))
    }

    fn timestamp(&mut self, format: Format) -> Result<i64, ParseError> {
        let at = self.pos;
        let tok = self.token();
        let ms = match format {
            Format::Text => tok.parse::<i64>().ok(),
            Format::OpenMetrics => parse_float(tok)
                .filter(|s| s.is_finite())
                .map(|s| (s * 1000.0).round())
                .filter(|ms| ms.abs() < 9.2e18)
                .map(|ms| ms as i64),
        };
        ms.ok_or_else(|| self.err(at, format!("invalid timestamp {tok:?}")))
    }
}

/// Go's `strconv.ParseFloat` spellings that exposition formats use:
/// decimal and exponent forms, `NaN`, `+Inf`, `-Inf`, `Inf`.
fn parse_float(tok: &str) -> Option<f64> {
    if tok.is_empty() || tok.contains('_') {
        return None;
    }
    tok.parse::<f64>().ok()
}

impl Parser {
    fn run(mut self, body: &str) -> Result<Vec<Family>, ParseError> {
        let mut lines = body.split('\n').enumerate().peekable();
        while let Some((i, raw)) = lines.next() {
            let no = i + 1;
            let text = raw.strip_suffix('\r').unwrap_or(raw);
            if self.saw_eof {
                let last = lines.peek().is_none();
                if text.is_empty() && last {
                    break;
                }
                return Err(ParseError {
                    line: no,
                    col: 1,
                    message: "unexpected data after # EOF".into(),
                });
            }
            let mut line = Line { text, pos: 0, no };
            if self.format == Format::Text {
                line.skip_blanks();
            }
            if line.at_end() {
                if self.format == Format::OpenMetrics && lines.peek().is_some() {
                    return Err(line.err(0, "empty lines are not allowed in OpenMetrics"));
                }
                continue;
            }
            if line.peek() == Some('#') {
                self.comment(&mut line)?;
            } else {
                self.sample(&mut line)?;
            }
        }
        if self.format == Format::OpenMetrics && !self.saw_eof {
            let n = body.split('\n').count();
            return Err(ParseError {
                line: n,
                col: 1,
                message: "missing # EOF at the end of an OpenMetrics body".into(),
            });
        }
        Ok(self.families)
    }

    fn comment(&mut self, line: &mut Line<'_>) -> Result<(), ParseError> {
        let rest = &line.text[line.pos..];
        if self.format == Format::OpenMetrics && rest == "# EOF" {
            self.saw_eof = true;
            return Ok(());
        }
        line.pos += 1;
        let at = line.pos;
        let blanks = line.skip_blanks();
        let kw_at = line.pos;
        let kw = line.token();
        let kind = match kw {
            "HELP" | "TYPE" => kw,
            "UNIT" if self.format == Format::OpenMetrics => kw,
            _ if self.format == Format::Text => return Ok(()),
            _ => return Err(line.err(at, "expected HELP, TYPE, UNIT or EOF after '#'")),
        };
        if self.format == Format::OpenMetrics && blanks != 1 {
            return Err(line.err(at, "expected exactly one space"));
        }
        line.separator(self.format, "a metric name")?;
        let name_at = line.pos;
        let Some(name) = line.name(true) else {
            return Err(line.err(name_at, "expected a metric name"));
        };
        let name = name.to_string();
        let text = if line.at_end() {
            String::new()
        } else {
            line.separator(self.format, "the text")?;
            line.text[line.pos..].to_string()
        };
        let idx = self.family_for_metadata(line, &name, kw_at)?;
        let fam = &mut self.families[idx];
        match kind {
            "HELP" => {
                if fam.help.is_some() {
                    return Err(
                        line.err(kw_at, format!("second HELP line for metric name {name:?}"))
                    );
                }
                fam.help = Some(unescape_help(&text));
            }
            "TYPE" => {
                let ty = MetricType::parse(text.trim_end(), self.format).ok_or_else(|| {
                    line.err(
                        line.pos,
                        format!("invalid metric type {:?}", text.trim_end()),
                    )
                })?;
                if fam.ty != MetricType::Unknown || !fam.samples.is_empty() {
                    return Err(line.err(kw_at, format!("second TYPE line for metric name {name:?}, or TYPE reported after samples")));
                }
                fam.ty = ty;
            }
            _ => {
                if fam.unit.is_some() {
                    return Err(
                        line.err(kw_at, format!("second UNIT line for metric name {name:?}"))
                    );
                }
                if !text.is_empty() && !name.ends_with(&format!("_{text}")) {
                    return Err(line.err(
                        name_at,
                        format!("unit {text:?} is not a suffix of metric name {name:?}"),
                    ));
                }
                fam.unit = Some(text);
            }
        }
        Ok(())
    }

    /// The family metadata for `name` goes to, created if new. OpenMetrics
    /// wants a family's metadata together, before its samples.
    fn family_for_metadata(
        &mut self,
        line: &Line<'_>,
        name: &str,
        at: usize,
    ) -> Result<usize, ParseError> {
        if let Some(&i) = self.by_name.get(name) {
            if self.format == Format::OpenMetrics && self.current != Some(i) {
                return Err(line.err(
                    at,
                    format!("metadata for metric family {name:?} is not contiguous"),
                ));
            }
            self.current = Some(i);
            return Ok(i);
        }
        Ok(self.new_family(name, MetricType::Unknown))
    }

    fn new_family(&mut self, name: &str, ty: MetricType) -> usize {
        let i = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            ty,
            help: None,
            unit: None,
            samples: Vec::new(),
        });
        self.by_name.insert(name.to_string(), i);
        self.current = Some(i);
        i
    }

    /// The family a sample name belongs to: the current family when the
    /// name is its name plus one of its type's suffixes, else the family
    /// of that exact name, else a new untyped one.
    fn family_for_sample(&mut self, sample: &str) -> usize {
        if let Some(i) = self.current {
            let fam = &self.families[i];
            if fam.name == sample {
                return i;
            }
            if let Some(suffix) = sample.strip_prefix(fam.name.as_str())
                && fam.ty.suffixes(self.format).contains(&suffix)
            {
                return i;
            }
        }
        if let Some(&i) = self.by_name.get(sample) {
            self.current = Some(i);
            return i;
        }
        self.new_family(sample, MetricType::Unknown)
    }

    fn sample(&mut self, line: &mut Line<'_>) -> Result<(), ParseError> {
        let format = self.format;
        let at = line.pos;
        let Some(name) = line.name(true) else {
            return Err(line.err(at, "expected a metric name or a comment"));
        };
        let labels = if line.peek() == Some('{') {
            line.labels(format)?
        } else {
            Vec::new()
        };
        line.separator(format, "the value")?;
        let value = line.float("value")?;
        let mut timestamp_ms = None;
        let mut exemplar = None;
        let sep_at = line.pos;
        let blanks = line.skip_blanks();
        if !line.at_end() {
            if blanks == 0 {
                return Err(line.err(sep_at, "expected a space after the value"));
            }
            line.pos = sep_at;
            line.separator(format, "the timestamp")?;
            if line.peek() != Some('#') {
                timestamp_ms = Some(line.timestamp(format)?);
                let sep_at = line.pos;
                let blanks = line.skip_blanks();
                if !line.at_end() {
                    if blanks == 0 {
                        return Err(line.err(sep_at, "expected a space after the timestamp"));
                    }
                    line.pos = sep_at;
                    line.separator(format, "an exemplar")?;
                }
            }
            if !line.at_end() {
                if format == Format::Text {
                    return Err(line.err(line.pos, "unexpected text after the timestamp"));
                }
                exemplar = Some(self.exemplar(line)?);
            }
        }
        let fam = self.family_for_sample(name);
        let family = &mut self.families[fam];
        if format == Format::OpenMetrics {
            check_om_sample(line, at, family, name)?;
        }
        family.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
            timestamp_ms,
            exemplar,
            line: line.no,
        });
        Ok(())
    }

    fn exemplar(&self, line: &mut Line<'_>) -> Result<Exemplar, ParseError> {
        line.expect('#')?;
        line.separator(self.format, "the exemplar's labels")?;
        let labels = line.labels(self.format)?;
        let runes: usize = labels
            .iter()
            .map(|(k, v)| k.chars().count() + v.chars().count())
            .sum();
        if runes > 128 {
            return Err(line.err(line.pos, "exemplar labels are longer than 128 characters"));
        }
        line.separator(self.format, "the exemplar's value")?;
        let value = line.float("exemplar value")?;
        let timestamp_ms = if line.at_end() {
            None
        } else {
            line.separator(self.format, "the exemplar's timestamp")?;
            Some(line.timestamp(self.format)?)
        };
        if !line.at_end() {
            return Err(line.err(line.pos, "unexpected text after the exemplar"));
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp_ms,
        })
    }
}

/// OpenMetrics rules about which sample names a family may have.
fn check_om_sample(
    line: &Line<'_>,
    at: usize,
    family: &Family,
    name: &str,
) -> Result<(), ParseError> {
    let suffix = &name[family.name.len()..];
    let bad = match family.ty {
        MetricType::Counter => !matches!(suffix, "_total" | "_created"),
        MetricType::Info => suffix != "_info",
        MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary => {
            suffix.is_empty() && family.ty != MetricType::Summary
        }
        _ => false,
    };
    if bad {
        return Err(line.err(
            at,
            format!(
                "sample name {name:?} is not allowed in {} family {:?}",
                family.ty, family.name
            ),
        ));
    }
    Ok(())
}

/// `# HELP` text escapes: `\\` and `\n`.
fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_selects_the_parser() {
        assert_eq!(
            Format::from_content_type(Some(
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            )),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_content_type(Some("text/plain; version=0.0.4")),
            Format::Text
        );
        assert_eq!(Format::from_content_type(None), Format::Text);
    }

    #[test]
    fn help_escapes() {
        assert_eq!(unescape_help(r"a\\b\nc\q"), "a\\b\nc\\q");
    }
}
