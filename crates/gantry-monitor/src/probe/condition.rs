//! Gatus-style conditions: `[STATUS] == 200`, `[RESPONSE_TIME] < 300`,
//! `[BODY].data.items[0].id == 7`, `len([BODY].items) > 0`,
//! `has([BODY].x) == true`, `[CERTIFICATE_EXPIRATION] > 48h`,
//! `[CONNECTED] == true`, `[DNS_RCODE] == NOERROR`, `[IP] == 1.2.3.4`, with
//! `pat(*ok*)` and `any(a, b)` on the right.
//!
//! The left side is always a placeholder (optionally inside `len()` or
//! `has()`); the right side is the rest of the string, trimmed. Ordering
//! operators compare numbers: milliseconds for `[RESPONSE_TIME]` and
//! `[CERTIFICATE_EXPIRATION]`, which also accept durations like `48h`.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// A value a condition reads from a probe's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    Status,
    ResponseTime,
    Body,
    CertificateExpiration,
    Connected,
    DnsRcode,
    Ip,
}

const PLACEHOLDERS: &[(&str, Placeholder)] = &[
    ("STATUS", Placeholder::Status),
    ("RESPONSE_TIME", Placeholder::ResponseTime),
    ("BODY", Placeholder::Body),
    ("CERTIFICATE_EXPIRATION", Placeholder::CertificateExpiration),
    ("CONNECTED", Placeholder::Connected),
    ("DNS_RCODE", Placeholder::DnsRcode),
    ("IP", Placeholder::Ip),
];

impl Placeholder {
    pub fn name(self) -> &'static str {
        PLACEHOLDERS
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }

    fn is_duration(self) -> bool {
        matches!(
            self,
            Placeholder::ResponseTime | Placeholder::CertificateExpiration
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Plain,
    Len,
    Has,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Right {
    Literal(String),
    Pattern(String),
    Any(Vec<String>),
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    func: Func,
    placeholder: Placeholder,
    path: Vec<Step>,
    /// The left side as written, for results.
    left_text: String,
    op: Op,
    right: Right,
    right_text: String,
    /// The right side as a number (ms for durations), when it is one.
    right_number: Option<f64>,
}

/// A syntax error; `col` is the 1-based character column in the condition.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} (at column {col})")]
pub struct ConditionError {
    pub col: usize,
    pub message: String,
}

/// What a probe observed, as conditions see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    pub status: Option<u16>,
    pub response_time: Duration,
    /// The response body (http) or the answers' data, one a line (dns).
    pub body: Option<String>,
    /// Milliseconds until the earliest certificate expiry (negative once
    /// expired).
    pub cert_expiry_ms: Option<i64>,
    pub connected: bool,
    pub dns_rcode: Option<String>,
    pub ip: Option<String>,
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn col(&self, at: usize) -> usize {
        self.text[..at].chars().count() + 1
    }

    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, ConditionError> {
        Err(ConditionError {
            col: self.col(at),
            message: message.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn placeholder(&mut self) -> Result<(Placeholder, Vec<Step>), ConditionError> {
        let start = self.pos;
        if !self.eat("[") {
            return self.err(
                start,
                "expected a placeholder like `[STATUS]`, `[BODY]` or `len([BODY])`",
            );
        }
        let Some(close) = self.rest().find(']') else {
            return self.err(start, "unclosed `[` in placeholder");
        };
        let name = &self.rest()[..close];
        let Some((_, ph)) = PLACEHOLDERS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<String> = PLACEHOLDERS.iter().map(|(n, _)| format!("[{n}]")).collect();
            return self.err(
                start,
                format!(
                    "unknown placeholder `[{name}]`: expected one of {}",
                    names.join(", ")
                ),
            );
        };
        self.pos += close + 1;
        let mut path = Vec::new();
        loop {
            let at = self.pos;
            if self.eat(".") {
                let key_len = self
                    .rest()
                    .find(|c: char| c == '.' || c == '[' || c == ')' || c.is_whitespace())
                    .unwrap_or(self.rest().len());
                let key = &self.rest()[..key_len];
                if key.is_empty() {
                    return self.err(at, "expected a key after `.`");
                }
                path.push(Step::Key(key.to_string()));
                self.pos += key_len;
            } else if self.rest().starts_with('[') {
                self.pos += 1;
                let digits = self
                    .rest()
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(self.rest().len());
                let index = self.rest()[..digits].parse::<usize>();
                self.pos += digits;
                match index {
                    Ok(i) if self.eat("]") => path.push(Step::Index(i)),
                    _ => return self.err(at, "expected an array index like `[0]`"),
                }
            } else {
                break;
            }
            if *ph != Placeholder::Body {
                return self.err(at, format!("only `[BODY]` takes a path, not `[{name}]`"));
            }
        }
        Ok((*ph, path))
    }

    fn op(&mut self) -> Result<Op, ConditionError> {
        const OPS: &[(&str, Op)] = &[
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let at = self.pos;
        for (s, op) in OPS {
            if self.eat(s) {
                return Ok(*op);
            }
        }
        self.err(
            at,
            "expected an operator (==, !=, <, <=, >, >=) after the placeholder",
        )
    }
}

/// Parses a duration like `48h`, `1h30m`, `500ms`, `7d` into milliseconds.
fn parse_duration_ms(text: &str) -> Option<f64> {
    const UNITS: &[(&str, f64)] = &[
        ("ms", 1.0),
        ("s", 1_000.0),
        ("m", 60_000.0),
        ("h", 3_600_000.0),
        ("d", 86_400_000.0),
        ("w", 604_800_000.0),
    ];
    let mut rest = text;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        // `ms` before `m` so `500ms` is not 500 minutes and an `s`.
        let (unit, scale) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        total += value * scale;
        rest = &rest[unit.len()..];
    }
    Some(total)
}

fn parse_number(text: &str, durations: bool) -> Option<f64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<f64>()
        && n.is_finite()
        && !t.eq_ignore_ascii_case("nan")
        && !t.to_ascii_lowercase().contains("inf")
    {
        return Some(n);
    }
    if durations {
        return parse_duration_ms(t);
    }
    None
}

impl Condition {
    /// Parses one condition, or says what is wrong and at which column.
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let mut p = Parser { text, pos: 0 };
        p.skip_ws();
        let left_start = p.pos;
        let func = if p.eat("len(") {
            Func::Len
        } else if p.eat("has(") {
            Func::Has
        } else {
            Func::Plain
        };
        let func_at = left_start;
        let (placeholder, path) = p.placeholder()?;
        if func != Func::Plain {
            p.skip_ws();
            if !p.eat(")") {
                let name = if func == Func::Len { "len" } else { "has" };
                return p.err(p.pos, format!("expected `)` to close `{name}(`"));
            }
            if placeholder != Placeholder::Body {
                return p.err(
                    func_at,
                    "`len()` and `has()` take `[BODY]` or a path under it",
                );
            }
        }
        let left_text = text[left_start..p.pos].to_string();
        p.skip_ws();
        let op = p.op()?;
        let op_at = p.pos;
        p.skip_ws();
        let right_start = p.pos;
        let right_text = p.rest().trim_end().to_string();
        if right_text.is_empty() {
            return p.err(op_at, format!("expected a value after `{op}`"));
        }
        let mut right = Right::Literal(right_text.clone());
        for (name, is_pat) in [("pat(", true), ("any(", false)] {
            if let Some(inner) = right_text.strip_prefix(name) {
                let Some(inner) = inner.strip_suffix(')') else {
                    let end = right_start + right_text.len();
                    return p.err(end, format!("expected `)` to close `{name}`"));
                };
                right = if is_pat {
                    Right::Pattern(inner.to_string())
                } else {
                    let items: Vec<String> =
                        inner.split(',').map(|s| s.trim().to_string()).collect();
                    if items.iter().any(String::is_empty) {
                        return p.err(right_start, "empty value in `any()`");
                    }
                    Right::Any(items)
                };
            }
        }
        let durations = func == Func::Plain && placeholder.is_duration();
        let right_number = match &right {
            Right::Literal(t) => parse_number(t, durations),
            _ => None,
        };
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) {
            if !matches!(right, Right::Literal(_)) {
                return p.err(
                    right_start,
                    format!("`{op}` compares numbers; `pat()` and `any()` work with `==` and `!=`"),
                );
            }
            if right_number.is_none() {
                let what = if durations {
                    "a number of milliseconds or a duration like `48h`"
                } else {
                    "a number"
                };
                return p.err(right_start, format!("expected {what} after `{op}`"));
            }
            if func == Func::Has
                || matches!(
                    placeholder,
                    Placeholder::Connected | Placeholder::DnsRcode | Placeholder::Ip
                ) && func == Func::Plain
            {
                return p.err(
                    op_at - op.to_string().len(),
                    format!("`{left_text}` is not a number; use `==` or `!=`"),
                );
            }
        }
        if (func == Func::Has || (func == Func::Plain && placeholder == Placeholder::Connected))
            && !matches!(&right, Right::Literal(t) if t == "true" || t == "false")
        {
            return p.err(right_start, format!("`{left_text}` is `true` or `false`"));
        }
        Ok(Condition {
            func,
            placeholder,
            path,
            left_text,
            op,
            right,
            right_text,
            right_number,
        })
    }

    /// The placeholder the condition reads.
    pub fn placeholder(&self) -> Placeholder {
        self.placeholder
    }

    /// Whether the observation satisfies the condition, and a result line:
    /// the condition as written, with the observed value in parentheses
    /// when it fails (`[STATUS] (503) == 200`).
    pub fn evaluate(&self, obs: &Observation) -> (bool, String) {
        let (shown, number) = self.resolve(obs);
        let ok = match (&self.right, self.op) {
            (Right::Literal(lit), Op::Eq | Op::Ne) => {
                let equal = match (&shown, number, self.right_number) {
                    (_, Some(a), Some(b)) => a == b,
                    (Some(s), _, _) => s == lit,
                    (None, _, _) => false,
                };
                equal == (self.op == Op::Eq)
            }
            (Right::Pattern(pat), Op::Eq | Op::Ne) => {
                let m = shown.as_deref().is_some_and(|s| glob(pat, s));
                m == (self.op == Op::Eq)
            }
            (Right::Any(items), Op::Eq | Op::Ne) => {
                let m = shown
                    .as_deref()
                    .is_some_and(|s| items.iter().any(|i| i == s));
                m == (self.op == Op::Eq)
            }
            (_, op) => match (number, self.right_number) {
                (Some(a), Some(b)) => match op {
                    Op::Lt => a < b,
                    Op::Le => a <= b,
                    Op::Gt => a > b,
                    _ => a >= b,
                },
                _ => false,
            },
        };
        let line = if ok {
            format!("{} {} {}", self.left_text, self.op, self.right_text)
        } else {
            let value = shown.map_or_else(|| "n/a".to_string(), |s| truncate(&s, 80));
            format!(
                "{} ({value}) {} {}",
                self.left_text, self.op, self.right_text
            )
        };
        (ok, line)
    }

    /// The left side's value as text and, when numeric, as a number.
    fn resolve(&self, obs: &Observation) -> (Option<String>, Option<f64>) {
        let num = |s: &str| parse_number(s, false);
        match self.placeholder {
            Placeholder::Status => {
                let s = obs.status.map(|s| s.to_string());
                let n = obs.status.map(f64::from);
                (s, n)
            }
            Placeholder::ResponseTime => {
                let ms = obs.response_time.as_secs_f64() * 1000.0;
                let ms = ms.round();
                (Some(format!("{ms}")), Some(ms))
            }
            Placeholder::CertificateExpiration => match obs.cert_expiry_ms {
                Some(ms) => (Some(format!("{ms}")), Some(ms as f64)),
                None => (None, None),
            },
            Placeholder::Connected => (Some(obs.connected.to_string()), None),
            Placeholder::DnsRcode => (obs.dns_rcode.clone(), None),
            Placeholder::Ip => (obs.ip.clone(), None),
            Placeholder::Body => {
                let body = obs.body.as_deref();
                let target = match (body, self.path.is_empty()) {
                    (None, _) => None,
                    (Some(b), true) => Some(Target::Text(b.to_string())),
                    (Some(b), false) => serde_json::from_str::<serde_json::Value>(b)
                        .ok()
                        .and_then(|v| walk(&v, &self.path).cloned())
                        .map(Target::Json),
                };
                match self.func {
                    Func::Has => (Some(target.is_some().to_string()), None),
                    Func::Len => {
                        let n = target.as_ref().map(Target::len);
                        (n.map(|n| n.to_string()), n.map(|n| n as f64))
                    }
                    Func::Plain => {
                        let s = target.map(Target::text);
                        let n = s.as_deref().and_then(num);
                        (s, n)
                    }
                }
            }
        }
    }
}

enum Target {
    Text(String),
    Json(serde_json::Value),
}

impl Target {
    fn len(&self) -> usize {
        match self {
            Target::Text(s) => s.chars().count(),
            Target::Json(serde_json::Value::Array(a)) => a.len(),
            Target::Json(serde_json::Value::Object(o)) => o.len(),
            Target::Json(serde_json::Value::String(s)) => s.chars().count(),
            Target::Json(other) => other.to_string().chars().count(),
        }
    }

    fn text(self) -> String {
        match self {
            Target::Text(s) | Target::Json(serde_json::Value::String(s)) => s,
            Target::Json(other) => other.to_string(),
        }
    }
}

fn walk<'v>(mut v: &'v serde_json::Value, path: &[Step]) -> Option<&'v serde_json::Value> {
    for step in path {
        v = match step {
            Step::Key(k) => v.as_object()?.get(k)?,
            Step::Index(i) => v.as_array()?.get(*i)?,
        };
    }
    Some(v)
}

fn truncate(s: &str, max: usize) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// `*` matches any run of characters, `?` exactly one; everything else is
/// literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*ok*", "all ok here"));
        assert!(glob("h?llo", "hello"));
        assert!(!glob("h?llo", "hllo"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acbd"));
        assert!(glob("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("48h"), Some(172_800_000.0));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000.0));
        assert_eq!(parse_duration_ms("500ms"), Some(500.0));
        assert_eq!(parse_duration_ms("7d"), Some(604_800_000.0));
        assert_eq!(parse_duration_ms("x"), None);
        assert_eq!(parse_duration_ms("5"), None);
    }
}
