//! Numeric functions.

use super::{Def, FuncError, FuncHost, Pt, int, n, p, r_number, s};
use crate::value::Value;

pub(super) const DEFS: &[Def] = &[
    Def::new("abs", &[p("num", Pt::Number)], r_number, abs),
    Def::new("ceil", &[p("num", Pt::Number)], r_number, ceil),
    Def::new("floor", &[p("num", Pt::Number)], r_number, floor),
    Def::new(
        "log",
        &[p("num", Pt::Number), p("base", Pt::Number)],
        r_number,
        log,
    ),
    Def::new("max", &[], r_number, max).var(p("numbers", Pt::Number)),
    Def::new("min", &[], r_number, min).var(p("numbers", Pt::Number)),
    Def::new(
        "parseint",
        &[p("number", Pt::String), p("base", Pt::Number)],
        r_number,
        parseint,
    ),
    Def::new(
        "pow",
        &[p("num", Pt::Number), p("power", Pt::Number)],
        r_number,
        pow,
    ),
    Def::new("signum", &[p("num", Pt::Number)], r_number, signum),
];

fn number(x: f64) -> Result<Value, FuncError> {
    if x.is_nan() {
        return Err(FuncError::call("the result is not a number"));
    }
    if x.is_infinite() {
        return Err(FuncError::call("the result is too large to represent"));
    }
    Ok(Value::Number(x))
}

fn abs(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    number(n(&args[0]).abs())
}

fn ceil(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    number(n(&args[0]).ceil())
}

fn floor(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    number(n(&args[0]).floor())
}

fn log(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (x, base) = (n(&args[0]), n(&args[1]));
    number(x.ln() / base.ln())
}

fn pow(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    number(n(&args[0]).powf(n(&args[1])))
}

fn signum(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let x = n(&args[0]);
    number(if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    })
}

fn max(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err(FuncError::call("must pass at least one number"));
    }
    number(args.iter().map(n).fold(f64::NEG_INFINITY, f64::max))
}

fn min(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err(FuncError::call("must pass at least one number"));
    }
    number(args.iter().map(n).fold(f64::INFINITY, f64::min))
}

/// Go's big.Int `SetString` digits: 0-9, a-z, then A-Z above base 36
/// (letters are case-insensitive up to base 36).
fn digit_value(c: char, base: u32) -> Option<u32> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (d < base).then_some(d)
}

fn parseint(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let text = s(&args[0]);
    let base = int(&args[1], 1, "base")?;
    if !(2..=62).contains(&base) {
        return Err(FuncError::arg(
            1,
            "base",
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let base = base as u32;
    let bad = || {
        FuncError::arg(
            0,
            "number",
            format!("cannot parse {text:?} as a base {base} integer"),
        )
    };
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let mut acc: f64 = 0.0;
    for c in digits.chars() {
        let d = digit_value(c, base).ok_or_else(bad)?;
        acc = acc * base as f64 + d as f64;
    }
    number(if neg { -acc } else { acc })
}
