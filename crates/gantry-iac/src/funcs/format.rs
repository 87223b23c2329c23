//! `format` and `formatlist`: Go-style verbs as Terraform implements them.

use super::{Def, FuncError, FuncHost, Pt, p, pn, r_list_string, r_string, s};
use crate::value::{Type, Value, format_number};

pub(super) const DEFS: &[Def] = &[
    Def::new("format", &[p("format", Pt::String)], r_string, format).var(pn("args", Pt::Any)),
    Def::new(
        "formatlist",
        &[p("format", Pt::String)],
        r_list_string,
        formatlist,
    )
    .var(pn("args", Pt::Any)),
];

fn format(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    sprintf(s(&args[0]), &args[1..]).map(Value::String)
}

fn formatlist(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let rest = &args[1..];
    let mut len: Option<(usize, usize)> = None;
    for (i, a) in rest.iter().enumerate() {
        if let Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) = a {
            match len {
                None => len = Some((i, xs.len())),
                Some((j, l)) if l != xs.len() => {
                    return Err(FuncError::arg(
                        i + 1,
                        "args",
                        format!(
                            "argument {} has length {}, which is inconsistent with argument {} of length {l}",
                            i + 1,
                            xs.len(),
                            j + 1
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let count = len.map_or(1, |(_, l)| l);
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let row: Vec<Value> = rest
            .iter()
            .map(|a| match a {
                Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) => {
                    xs.get(k).cloned().unwrap_or(Value::Null)
                }
                v => v.clone(),
            })
            .collect();
        out.push(Value::String(sprintf(s(&args[0]), &row).map_err(|e| {
            FuncError::call(format!("error on format iteration {k}: {}", e.message))
        })?));
    }
    Ok(Value::List(out))
}

#[derive(Default)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `fmt` as Terraform's `format` does.
pub(crate) fn sprintf(fmt: &str, args: &[Value]) -> Result<String, FuncError> {
    let chars: Vec<(usize, char)> = fmt.char_indices().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut used_max = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let start_off = chars[i].0;
        i += 1;
        if chars.get(i).map(|c| c.1) == Some('%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.get(i) {
            match f {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i).map(|c| c.1) == Some('[') {
            let mut j = i + 1;
            let mut num = String::new();
            while let Some(&(_, d)) = chars.get(j) {
                if d.is_ascii_digit() {
                    num.push(d);
                    j += 1;
                } else {
                    break;
                }
            }
            if chars.get(j).map(|c| c.1) != Some(']') || num.is_empty() {
                return Err(FuncError::call(format!(
                    "unrecognized format character '[' at offset {}",
                    chars[i].0
                )));
            }
            let idx: usize = num.parse().unwrap_or(0);
            if idx == 0 {
                return Err(FuncError::call(format!(
                    "argument index {idx} at offset {start_off} is invalid; indexes start at 1"
                )));
            }
            next_arg = idx - 1;
            i = j + 1;
        }
        let mut width = String::new();
        while let Some(&(_, d)) = chars.get(i) {
            if d.is_ascii_digit() {
                width.push(d);
                i += 1;
            } else {
                break;
            }
        }
        if !width.is_empty() {
            spec.width = width.parse().ok();
        }
        if chars.get(i).map(|c| c.1) == Some('.') {
            i += 1;
            let mut prec = String::new();
            while let Some(&(_, d)) = chars.get(i) {
                if d.is_ascii_digit() {
                    prec.push(d);
                    i += 1;
                } else {
                    break;
                }
            }
            spec.prec = Some(prec.parse().unwrap_or(0));
        }
        let Some(&(_, verb)) = chars.get(i) else {
            return Err(FuncError::call(format!(
                "invalid format string starting at offset {start_off}"
            )));
        };
        i += 1;
        let verb_text = &fmt[start_off..chars.get(i).map_or(fmt.len(), |c| c.0)];
        if !"vtbdoxXeEfgGsq".contains(verb) {
            return Err(FuncError::call(format!(
                "unrecognized format character {verb:?} at offset {}",
                chars[i - 1].0
            )));
        }
        let Some(arg) = args.get(next_arg) else {
            return Err(FuncError::call(format!(
                "not enough arguments for {verb_text:?} at {start_off}: need index {} but have {} total",
                next_arg + 1,
                args.len()
            )));
        };
        next_arg += 1;
        used_max = used_max.max(next_arg);
        let unsupported = |why: String| {
            FuncError::arg(
                next_arg,
                "args",
                format!("unsupported value for {verb_text:?} at {start_off}: {why}"),
            )
        };
        let text = format_one(verb, &spec, arg).map_err(unsupported)?;
        out.push_str(&text);
    }
    if used_max < args.len() {
        return Err(FuncError::call(format!(
            "too many arguments; only {used_max} used by format string"
        )));
    }
    Ok(out)
}

fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else {
        return body;
    };
    let len = body.chars().count();
    if len >= w {
        return body;
    }
    let fill = w - len;
    if spec.minus {
        return body + &" ".repeat(fill);
    }
    if spec.zero && numeric {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (c.to_string(), &body[1..]),
            _ => (String::new(), body.as_str()),
        };
        return format!("{sign}{}{digits}", "0".repeat(fill));
    }
    " ".repeat(fill) + &body
}

fn number(v: &Value) -> Result<f64, String> {
    match v.convert(&Type::Number) {
        Ok(Value::Number(x)) => Ok(x),
        Ok(Value::Null) => Err("null value cannot be formatted".into()),
        Ok(_) => Err("number required".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn string_of(v: &Value) -> Result<String, String> {
    match v.convert(&Type::String) {
        Ok(Value::String(t)) => Ok(t),
        Ok(Value::Null) => Err("null value cannot be formatted".into()),
        Ok(_) | Err(_) => Err(format!("string required, but have {}", v.kind_name())),
    }
}

fn sign_prefix(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_one(verb: char, spec: &Spec, v: &Value) -> Result<String, String> {
    let v = v.unmarked();
    match verb {
        'v' => {
            let body = if spec.sharp {
                super::encoding::json_encode(v)
            } else {
                match v {
                    Value::String(t) => t.clone(),
                    Value::Number(x) => format_number(*x),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "null".into(),
                    other => super::encoding::json_encode(other),
                }
            };
            Ok(pad(body, spec, false))
        }
        't' => match v.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => Ok(pad(b.to_string(), spec, false)),
            Ok(_) => Err("null value cannot be formatted".into()),
            Err(e) => Err(e.to_string()),
        },
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let x = number(v)?;
            if x.fract() != 0.0 || !x.is_finite() {
                return Err("value must be a whole number".into());
            }
            let mag = x.abs() as u128;
            let mut digits = match verb {
                'b' => format!("{mag:b}"),
                'o' => format!("{mag:o}"),
                'x' => format!("{mag:x}"),
                'X' => format!("{mag:X}"),
                _ => format!("{mag}"),
            };
            if let Some(p) = spec.prec
                && digits.len() < p
            {
                digits = "0".repeat(p - digits.len()) + &digits;
            }
            let prefix = if spec.sharp {
                match verb {
                    'b' => "0b",
                    'o' => "0",
                    'x' => "0x",
                    'X' => "0X",
                    _ => "",
                }
            } else {
                ""
            };
            let body = format!("{}{prefix}{digits}", sign_prefix(x < 0.0, spec));
            Ok(pad(body, spec, spec.prec.is_none()))
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let x = number(v)?;
            let mag = x.abs();
            let body = match verb {
                'e' | 'E' => fmt_e(mag, spec.prec.unwrap_or(6), verb == 'E'),
                'f' => format!("{:.*}", spec.prec.unwrap_or(6), mag),
                _ => fmt_g(mag, spec.prec, verb == 'G'),
            };
            let body = format!(
                "{}{body}",
                sign_prefix(x.is_sign_negative() && x != 0.0, spec)
            );
            Ok(pad(body, spec, true))
        }
        's' => {
            let mut t = string_of(v)?;
            if let Some(p) = spec.prec {
                t = t.chars().take(p).collect();
            }
            Ok(pad(t, spec, false))
        }
        'q' => {
            let t = string_of(v)?;
            Ok(pad(go_quote(&t), spec, false))
        }
        _ => Err(format!("unsupported verb {verb:?}")),
    }
}

/// `%e` in Go's style: `1.500000e+02`.
fn fmt_e(x: f64, prec: usize, upper: bool) -> String {
    let raw = format!("{x:.prec$e}");
    fix_exponent(&raw, upper)
}

/// Rewrites Rust's exponent (`e2`, `e-7`) as Go's (`e+02`, `e-07`).
fn fix_exponent(raw: &str, upper: bool) -> String {
    let (mant, exp) = raw.split_once('e').unwrap_or((raw, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

/// `%g` in Go's style: shortest (or `prec` significant digits), `%e` form
/// for exponents below -4 or at least the precision (6 when shortest).
fn fmt_g(x: f64, prec: Option<usize>, upper: bool) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let raw = match prec {
        Some(p) => format!("{:.*e}", p.max(1) - 1, x),
        None => format!("{x:e}"),
    };
    let (mant, exp) = raw.split_once('e').unwrap_or((&raw, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut eprec = match prec {
        None => 6,
        Some(p) => p.max(1) as i32,
    };
    if prec.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    if exp < -4 || exp >= eprec {
        let mut m = digits[..1].to_string();
        if nd > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        return fix_exponent(&format!("{m}e{exp}"), upper);
    }
    let decimals = (nd - dp).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Go's `strconv.Quote`.
fn go_quote(t: &str) -> String {
    let mut out = String::from('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
