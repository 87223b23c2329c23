//! Alert label and annotation templates: the Go-template subset Prometheus
//! rules use. `{{ $labels.name }}`, `{{ $value }}`, `{{ $externalLabels.x }}`
//! (and `.Labels.x`, `.Value`), string and number literals, and pipelines
//! through humanize, humanizePercentage, humanizeDuration, printf, title,
//! toUpper and toLower. Other actions (`if`, `range`) are refused.

use std::collections::BTreeMap;

/// What a template can refer to.
pub struct Data<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub external_labels: &'a BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(f64),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(n) => go_g(*n, -1),
        }
    }

    fn num(&self) -> Result<f64, String> {
        match self {
            Val::Num(n) => Ok(*n),
            Val::Str(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("can't convert {s:?} to float")),
        }
    }
}

/// Expands a template.
pub fn expand(text: &str, data: &Data<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or("unclosed action")?;
        let mut inner = &after[..close];
        // `{{-` and `-}}` trim the text around the action.
        if let Some(i) = inner.strip_prefix('-') {
            inner = i;
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
        }
        let mut trim_after = false;
        if let Some(i) = inner.strip_suffix('-') {
            inner = i;
            trim_after = true;
        }
        out.push_str(&pipeline(inner.trim(), data)?.text());
        rest = &after[close + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `a "b c" | f x` into words, keeping quoted strings whole.
fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut w = String::from(c);
            let mut closed = false;
            while let Some(d) = chars.next() {
                if d == '\\' && c == '"' {
                    if let Some(e) = chars.next() {
                        w.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    continue;
                }
                if d == c {
                    closed = true;
                    break;
                }
                w.push(d);
            }
            if !closed {
                return Err("unterminated quoted string".into());
            }
            out.push(w);
        } else if c == '|' {
            chars.next();
            out.push("|".into());
        } else {
            let mut w = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || d == '|' {
                    break;
                }
                w.push(d);
                chars.next();
            }
            out.push(w);
        }
    }
    Ok(out)
}

fn operand(w: &str, data: &Data<'_>) -> Result<Val, String> {
    if let Some(q) = w.strip_prefix('"').or_else(|| w.strip_prefix('`')) {
        return Ok(Val::Str(q.to_string()));
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Val::Num(n));
    }
    let label = |map: &BTreeMap<String, String>, key: &str| {
        Val::Str(map.get(key).cloned().unwrap_or_default())
    };
    match w {
        "$value" | ".Value" => Ok(Val::Num(data.value)),
        _ => {
            if let Some(k) = w
                .strip_prefix("$labels.")
                .or_else(|| w.strip_prefix(".Labels."))
            {
                Ok(label(data.labels, k))
            } else if let Some(k) = w
                .strip_prefix("$externalLabels.")
                .or_else(|| w.strip_prefix(".ExternalLabels."))
            {
                Ok(label(data.external_labels, k))
            } else {
                Err(format!("unsupported template operand {w:?}"))
            }
        }
    }
}

fn call(name: &str, args: &[Val]) -> Result<Val, String> {
    let one = || -> Result<&Val, String> {
        match args {
            [v] => Ok(v),
            _ => Err(format!(
                "wrong number of args for {name}: want 1 got {}",
                args.len()
            )),
        }
    };
    Ok(match name {
        "humanize" => Val::Str(humanize(one()?.num()?)),
        "humanizePercentage" => Val::Str(format!("{}%", go_g(one()?.num()? * 100.0, 4))),
        "humanizeDuration" => Val::Str(humanize_duration(one()?.num()?)),
        "title" => {
            let s = one()?.text();
            let mut out = String::new();
            let mut start = true;
            for c in s.chars() {
                out.extend(if start {
                    c.to_uppercase().collect::<Vec<_>>()
                } else {
                    vec![c]
                });
                start = !c.is_alphanumeric();
            }
            Val::Str(out)
        }
        "toUpper" => Val::Str(one()?.text().to_uppercase()),
        "toLower" => Val::Str(one()?.text().to_lowercase()),
        "printf" => {
            let (fmt, rest) = args
                .split_first()
                .ok_or("wrong number of args for printf: want at least 1 got 0")?;
            Val::Str(printf(&fmt.text(), rest)?)
        }
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn pipeline(src: &str, data: &Data<'_>) -> Result<Val, String> {
    let ws = words(src)?;
    if ws.is_empty() {
        return Err("missing value for command".into());
    }
    if matches!(
        ws[0].as_str(),
        "if" | "range" | "with" | "end" | "else" | "define" | "template" | "block"
    ) {
        return Err(format!(
            "the {:?} action is not supported in alert templates",
            ws[0]
        ));
    }
    let mut prev: Option<Val> = None;
    for cmd in ws.split(|w| w == "|") {
        let Some((head, args)) = cmd.split_first() else {
            return Err("missing command in pipeline".into());
        };
        let is_fn = head.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let v = if is_fn {
            let mut vals: Vec<Val> = args
                .iter()
                .map(|a| operand(a, data))
                .collect::<Result<_, _>>()?;
            vals.extend(prev.take());
            call(head, &vals)?
        } else {
            if !args.is_empty() || prev.is_some() {
                return Err(format!("{head:?} is not a function"));
            }
            operand(head, data)?
        };
        prev = Some(v);
    }
    prev.ok_or_else(|| "empty pipeline".to_string())
}

/// Go's `%.Ng` (or `%v` with `prec` < 0: shortest round-trip form).
pub fn go_g(v: f64, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let (digits, exp) = if prec < 0 {
        // Shortest representation that round-trips.
        let e = format!("{v:e}");
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        (m.replace(['.', '-'], ""), x.parse::<i32>().unwrap_or(0))
    } else {
        let p = prec.max(1);
        let e = format!("{:.*e}", (p - 1) as usize, v.abs());
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        (m.replace('.', ""), x.parse::<i32>().unwrap_or(0))
    };
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits
    };
    let limit = if prec < 0 { 21 } else { prec.max(1) };
    let sign = if v < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= limit {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{es}{:02}", exp.abs())
    } else if exp < 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
        }
    }
}

/// Prometheus's `humanize`: SI prefixes, 4 significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g(v, 4))
}

/// Prometheus's `humanizeDuration` of seconds.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v, 4);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let a = v.abs();
        let d = a as i64;
        let (days, hours, minutes, seconds) = (d / 86400, (d / 3600) % 24, (d / 60) % 60, d % 60);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", go_g(a, 4))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g(v, 4))
}

/// Go's `fmt.Sprintf` for the verbs alert templates use: `%s %v %d %f
/// %.Nf %g %.Ng %e %q %%`.
fn printf(fmt: &str, args: &[Val]) -> Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut prec: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            prec = Some(n.parse().unwrap_or(0));
        }
        let verb = chars.next().ok_or("printf: format ends in %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args
            .next()
            .ok_or_else(|| format!("printf: missing argument for %{verb}"))?;
        match verb {
            's' | 'v' => out.push_str(&arg.text()),
            'q' => out.push_str(&format!("{:?}", arg.text())),
            'd' => out.push_str(&format!("{}", arg.num()? as i64)),
            'f' => out.push_str(&format!("{:.*}", prec.unwrap_or(6), arg.num()?)),
            'e' => {
                let s = format!("{:.*e}", prec.unwrap_or(6), arg.num()?);
                let (m, x) = s.split_once('e').unwrap_or((&s, "0"));
                let x: i32 = x.parse().unwrap_or(0);
                out.push_str(&format!(
                    "{m}e{}{:02}",
                    if x < 0 { '-' } else { '+' },
                    x.abs()
                ));
            }
            'g' => out.push_str(&go_g(arg.num()?, prec.map_or(-1, |p| p as i32))),
            other => return Err(format!("printf: unsupported verb %{other}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(t: &str, v: f64) -> Result<String, String> {
        let mut labels = BTreeMap::new();
        labels.insert("instance".to_string(), "web-1".to_string());
        labels.insert("job".to_string(), "api".to_string());
        let ext = BTreeMap::from([("cluster".to_string(), "eu".to_string())]);
        expand(
            t,
            &Data {
                labels: &labels,
                external_labels: &ext,
                value: v,
            },
        )
    }

    #[test]
    fn expands_like_prometheus() {
        assert_eq!(
            ex("{{ $labels.instance }} down", 0.0).unwrap(),
            "web-1 down"
        );
        assert_eq!(
            ex("{{ .Labels.job }}/{{ $externalLabels.cluster }}", 0.0).unwrap(),
            "api/eu"
        );
        assert_eq!(ex("{{ $value }}", 0.25).unwrap(), "0.25");
        assert_eq!(ex("{{ $value | humanize }}", 1234567.0).unwrap(), "1.235M");
        assert_eq!(ex("{{ humanize $value }}", 0.000123).unwrap(), "123u");
        assert_eq!(
            ex("{{ $value | humanizePercentage }}", 0.1234).unwrap(),
            "12.34%"
        );
        assert_eq!(
            ex("{{ $value | humanizeDuration }}", 3725.0).unwrap(),
            "1h 2m 5s"
        );
        assert_eq!(
            ex("{{ $value | humanizeDuration }}", 90061.0).unwrap(),
            "1d 1h 1m 1s"
        );
        assert_eq!(ex("{{ $value | humanizeDuration }}", 1.5).unwrap(), "1.5s");
        assert_eq!(
            ex("{{ $value | humanizeDuration }}", 0.012).unwrap(),
            "12ms"
        );
        assert_eq!(
            ex("{{ printf \"%.2f\" $value }}", 12.3456).unwrap(),
            "12.35"
        );
        assert_eq!(
            ex(
                "{{ $labels.job | toUpper }} {{ title \"web server\" }}",
                0.0
            )
            .unwrap(),
            "API Web Server"
        );
        assert_eq!(ex("a {{- \" b \" -}} c", 0.0).unwrap(), "a b c");
        assert_eq!(ex("{{ $labels.missing }}", 0.0).unwrap(), "");
        assert!(
            ex("{{ if $value }}x{{ end }}", 1.0)
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            ex("{{ nope $value }}", 1.0)
                .unwrap_err()
                .contains("not defined")
        );
        assert!(ex("{{ $value", 1.0).is_err());
    }

    #[test]
    fn go_number_formats() {
        assert_eq!(go_g(1234.5678, 4), "1235");
        assert_eq!(go_g(12345.0, 4), "1.234e+04");
        assert_eq!(go_g(0.0001234, 4), "0.0001234");
        assert_eq!(go_g(0.00001234, 4), "1.234e-05");
        assert_eq!(go_g(100.0, 4), "100");
        assert_eq!(go_g(1e21, -1), "1e+21");
        assert_eq!(go_g(123456.0, -1), "123456");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(999.0), "999");
        assert_eq!(humanize(1000.0), "1k");
    }
}
