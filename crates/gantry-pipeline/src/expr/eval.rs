//! Evaluation with GitHub's coercion, comparison, filter and function rules.
//!
//! Values borrowed from the [`Context`] keep their identity (`Val::Ref`), so
//! `github.event == github.event` is true while two arrays built at run time
//! (`fromJSON(..)`, `a.*`) are never equal to anything: GitHub compares
//! arrays and objects by reference.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::number::{format_number, parse_number};
use super::parse::{CmpOp, Func, Node, NodeKind};
use super::{Context, ExprError, Status};

/// Largest string `format`, `join` or `toJSON` may build (a guard against
/// `format('{0}{0}…', toJSON(github))` blowing up memory).
const MAX_STRING: usize = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub(crate) enum Val<'c> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'c, str>),
    /// An array or object borrowed from the context.
    Ref(&'c Value),
    /// An array or object created during evaluation (`fromJSON`).
    Own(Rc<Value>),
    /// The array an object filter (`.*`) produces.
    Filtered(Rc<Vec<Val<'c>>>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Null,
    Bool,
    Num,
    Str,
    Array,
    Object,
}

impl<'c> Val<'c> {
    pub(crate) fn from_ref(v: &'c Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Ref(v),
        }
    }

    fn from_owned(v: Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            v @ (Value::Array(_) | Value::Object(_)) => Val::Own(Rc::new(v)),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Val::Null => Kind::Null,
            Val::Bool(_) => Kind::Bool,
            Val::Num(_) => Kind::Num,
            Val::Str(_) => Kind::Str,
            Val::Ref(v) if v.is_array() => Kind::Array,
            Val::Own(v) if v.is_array() => Kind::Array,
            Val::Ref(_) | Val::Own(_) => Kind::Object,
            Val::Filtered(_) => Kind::Array,
        }
    }

    fn is_primitive(&self) -> bool {
        !matches!(self.kind(), Kind::Array | Kind::Object)
    }

    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(x) => *x != 0.0 && !x.is_nan(),
            Val::Str(s) => !s.is_empty(),
            Val::Ref(_) | Val::Own(_) | Val::Filtered(_) => true,
        }
    }

    fn to_number(&self) -> f64 {
        match self {
            Val::Null => 0.0,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Num(x) => *x,
            Val::Str(s) => parse_number(s),
            Val::Ref(_) | Val::Own(_) | Val::Filtered(_) => f64::NAN,
        }
    }

    /// GitHub's `ConvertToString`.
    pub(crate) fn to_display(&self) -> Cow<'_, str> {
        match self {
            Val::Null => Cow::Borrowed(""),
            Val::Bool(true) => Cow::Borrowed("true"),
            Val::Bool(false) => Cow::Borrowed("false"),
            Val::Num(x) => Cow::Owned(format_number(*x)),
            Val::Str(s) => Cow::Borrowed(s),
            _ if self.kind() == Kind::Array => Cow::Borrowed("Array"),
            _ => Cow::Borrowed("Object"),
        }
    }

    /// Elements, if this is an array.
    fn array_items(&self) -> Option<Vec<Val<'c>>> {
        match self {
            Val::Ref(Value::Array(a)) => Some(a.iter().map(Val::from_ref).collect()),
            Val::Own(rc) => match rc.as_ref() {
                Value::Array(a) => Some(a.iter().cloned().map(Val::from_owned).collect()),
                _ => None,
            },
            Val::Filtered(items) => Some(items.as_ref().clone()),
            _ => None,
        }
    }

    /// Elements of an array or values of an object (what `.*` yields).
    fn wildcard_items(&self) -> Option<Vec<Val<'c>>> {
        match self {
            Val::Ref(Value::Object(m)) => Some(m.values().map(Val::from_ref).collect()),
            Val::Own(rc) => match rc.as_ref() {
                Value::Object(m) => Some(m.values().cloned().map(Val::from_owned).collect()),
                _ => self.array_items(),
            },
            _ => self.array_items(),
        }
    }

    /// `self[key]` on an array or object; None if absent or not a collection.
    fn get(&self, key: &Val<'c>) -> Option<Val<'c>> {
        match self {
            Val::Ref(v) => lookup(v, key).map(Val::from_ref),
            Val::Own(rc) => lookup(rc, key).cloned().map(Val::from_owned),
            Val::Filtered(items) => integer_index(key).and_then(|i| items.get(i).cloned()),
            _ => None,
        }
    }

    fn same_instance(&self, other: &Val<'c>) -> bool {
        match (self, other) {
            (Val::Ref(a), Val::Ref(b)) => std::ptr::eq(*a, *b),
            (Val::Own(a), Val::Own(b)) => Rc::ptr_eq(a, b),
            (Val::Filtered(a), Val::Filtered(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(x) => number_value(*x),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Ref(v) => (*v).clone(),
            Val::Own(v) => v.as_ref().clone(),
            Val::Filtered(items) => Value::Array(items.iter().map(Val::to_value).collect()),
        }
    }
}

/// A number as JSON: integral values become JSON integers; NaN has no JSON
/// form and becomes null (both are falsy); ±Infinity become the strings
/// `"Infinity"`/`"-Infinity"` (truthy, and parsed back to ±Infinity by
/// GitHub's number coercion).
fn number_value(x: f64) -> Value {
    if x.is_nan() {
        Value::Null
    } else if x.is_infinite() {
        Value::String(format_number(x))
    } else if x.fract() == 0.0
        && x.abs() < 9_007_199_254_740_992.0
        && !(x == 0.0 && x.is_sign_negative())
    {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

fn string_index(key: &Val<'_>) -> Option<String> {
    key.is_primitive().then(|| key.to_display().into_owned())
}

fn integer_index(key: &Val<'_>) -> Option<usize> {
    let x = key.to_number();
    if x.is_nan() || x < 0.0 {
        return None;
    }
    let x = x.floor();
    if x > f64::from(i32::MAX) {
        return None;
    }
    Some(x as usize)
}

fn lookup<'v>(v: &'v Value, key: &Val<'_>) -> Option<&'v Value> {
    match v {
        Value::Object(m) => get_ignore_case(m, &string_index(key)?),
        Value::Array(a) => a.get(integer_index(key)?),
        _ => None,
    }
}

/// Object property lookup: exact key first, else the first key equal
/// ignoring case.
pub(crate) fn get_ignore_case<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| eq_ignore_case(k, key))
            .map(|(_, v)| v)
    })
}

/// .NET `OrdinalIgnoreCase`: compare simple upper-case mappings char by char.
fn fold(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn folded(s: &str) -> String {
    s.chars().map(fold).collect()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.chars().map(fold).cmp(b.chars().map(fold))
}

/// GitHub's type coercion before comparing: number vs string → the string
/// becomes a number; a boolean or null on either side becomes a number
/// (repeatedly); arrays/objects are never coerced.
fn coerce<'a, 'c>(l: &'a Val<'c>, r: &'a Val<'c>) -> (Cow<'a, Val<'c>>, Cow<'a, Val<'c>>) {
    let (mut l, mut r) = (Cow::Borrowed(l), Cow::Borrowed(r));
    loop {
        let (lk, rk) = (l.kind(), r.kind());
        if lk == rk {
            return (l, r);
        }
        match (lk, rk) {
            (Kind::Num, Kind::Str) => r = Cow::Owned(Val::Num(r.to_number())),
            (Kind::Str, Kind::Num) => l = Cow::Owned(Val::Num(l.to_number())),
            (Kind::Bool | Kind::Null, _) => l = Cow::Owned(Val::Num(l.to_number())),
            (_, Kind::Bool | Kind::Null) => r = Cow::Owned(Val::Num(r.to_number())),
            _ => return (l, r),
        }
    }
}

pub(crate) fn abstract_eq(l: &Val<'_>, r: &Val<'_>) -> bool {
    let (l, r) = coerce(l, r);
    match (l.as_ref(), r.as_ref()) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Num(a), Val::Num(b)) => a == b,
        (Val::Str(a), Val::Str(b)) => eq_ignore_case(a, b),
        (a, b) => a.same_instance(b),
    }
}

/// Ordering after coercion; None when the operands do not compare (NaN,
/// different kinds, arrays, objects, null).
fn abstract_cmp(l: &Val<'_>, r: &Val<'_>) -> Option<Ordering> {
    let (l, r) = coerce(l, r);
    match (l.as_ref(), r.as_ref()) {
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Str(a), Val::Str(b)) => Some(cmp_ignore_case(a, b)),
        _ => None,
    }
}

fn compare(op: CmpOp, l: &Val<'_>, r: &Val<'_>) -> bool {
    match op {
        CmpOp::Eq => abstract_eq(l, r),
        CmpOp::Ne => !abstract_eq(l, r),
        CmpOp::Lt => abstract_cmp(l, r) == Some(Ordering::Less),
        CmpOp::Gt => abstract_cmp(l, r) == Some(Ordering::Greater),
        CmpOp::Le => abstract_eq(l, r) || abstract_cmp(l, r) == Some(Ordering::Less),
        CmpOp::Ge => abstract_eq(l, r) || abstract_cmp(l, r) == Some(Ordering::Greater),
    }
}

fn node_err(n: &Node, message: impl Into<String>) -> ExprError {
    ExprError {
        offset: n.offset,
        len: n.len,
        message: message.into(),
    }
}

fn check_size(n: &Node, f: Func, len: usize) -> Result<(), ExprError> {
    if len > MAX_STRING {
        return Err(node_err(
            n,
            format!(
                "`{}` result is too large: more than {MAX_STRING} bytes",
                f.name()
            ),
        ));
    }
    Ok(())
}

/// Applies `[key]` (or `.*` when `key` is None) with GitHub's filter rules.
fn index<'c>(target: &Val<'c>, key: Option<&Val<'c>>) -> Val<'c> {
    if let Val::Filtered(items) = target {
        let mut out = Vec::new();
        for item in items.iter() {
            match key {
                None => out.extend(item.wildcard_items().unwrap_or_default()),
                Some(k) => out.extend(item.get(k)),
            }
        }
        return Val::Filtered(Rc::new(out));
    }
    match key {
        None => Val::Filtered(Rc::new(target.wildcard_items().unwrap_or_default())),
        Some(k) => target.get(k).unwrap_or(Val::Null),
    }
}

pub(crate) fn eval<'c>(n: &Node, ctx: &'c dyn Context) -> Result<Val<'c>, ExprError> {
    Ok(match &n.kind {
        NodeKind::Null => Val::Null,
        NodeKind::Bool(b) => Val::Bool(*b),
        NodeKind::Number(x) => Val::Num(*x),
        NodeKind::String(s) => Val::Str(Cow::Owned(s.clone())),
        NodeKind::Named(name) => match ctx.named(name) {
            Some(v) => Val::from_ref(v),
            None => {
                return Err(node_err(
                    n,
                    format!("unrecognized named-value: `{name}` is not available here"),
                ));
            }
        },
        NodeKind::Index(target, key) => {
            let t = eval(target, ctx)?;
            let k = eval(key, ctx)?;
            index(&t, Some(&k))
        }
        NodeKind::Wildcard(target) => index(&eval(target, ctx)?, None),
        NodeKind::Not(inner) => Val::Bool(!eval(inner, ctx)?.truthy()),
        NodeKind::Compare(op, l, r) => {
            let l = eval(l, ctx)?;
            let r = eval(r, ctx)?;
            Val::Bool(compare(*op, &l, &r))
        }
        NodeKind::And(items) => {
            let mut last = Val::Bool(true);
            for item in items {
                last = eval(item, ctx)?;
                if !last.truthy() {
                    break;
                }
            }
            last
        }
        NodeKind::Or(items) => {
            let mut last = Val::Bool(false);
            for item in items {
                last = eval(item, ctx)?;
                if last.truthy() {
                    break;
                }
            }
            last
        }
        NodeKind::Call(f, args) => call(n, *f, args, ctx)?,
    })
}

fn call<'c>(n: &Node, f: Func, args: &[Node], ctx: &'c dyn Context) -> Result<Val<'c>, ExprError> {
    let arg = |i: usize| -> Result<Val<'c>, ExprError> {
        match args.get(i) {
            Some(a) => eval(a, ctx),
            None => Ok(Val::Null),
        }
    };
    Ok(match f {
        Func::Success => Val::Bool(ctx.status() == Status::Success),
        Func::Failure => Val::Bool(ctx.status() == Status::Failure),
        Func::Cancelled => Val::Bool(ctx.status() == Status::Cancelled),
        Func::Always => Val::Bool(true),
        Func::Contains => {
            let search = arg(0)?;
            if search.is_primitive() {
                let item = arg(1)?;
                Val::Bool(
                    item.is_primitive()
                        && folded(&search.to_display()).contains(&folded(&item.to_display())),
                )
            } else {
                match search.array_items() {
                    Some(items) if !items.is_empty() => {
                        let item = arg(1)?;
                        Val::Bool(items.iter().any(|x| abstract_eq(&item, x)))
                    }
                    _ => Val::Bool(false),
                }
            }
        }
        Func::StartsWith | Func::EndsWith => {
            let s = arg(0)?;
            if !s.is_primitive() {
                return Ok(Val::Bool(false));
            }
            let v = arg(1)?;
            if !v.is_primitive() {
                return Ok(Val::Bool(false));
            }
            let (s, v) = (folded(&s.to_display()), folded(&v.to_display()));
            Val::Bool(if f == Func::StartsWith {
                s.starts_with(&v)
            } else {
                s.ends_with(&v)
            })
        }
        Func::Format => Val::Str(Cow::Owned(format(n, args, ctx)?)),
        Func::Join => {
            let items = arg(0)?;
            if let Some(list) = items.array_items() {
                let sep = if list.len() > 1 && args.len() > 1 {
                    let s = arg(1)?;
                    if s.is_primitive() {
                        s.to_display().into_owned()
                    } else {
                        ",".to_string()
                    }
                } else {
                    ",".to_string()
                };
                let mut out = String::new();
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&sep);
                    }
                    out.push_str(&item.to_display());
                    check_size(n, f, out.len())?;
                }
                Val::Str(Cow::Owned(out))
            } else if items.is_primitive() {
                Val::Str(Cow::Owned(items.to_display().into_owned()))
            } else {
                Val::Str(Cow::Borrowed(""))
            }
        }
        Func::ToJson => {
            let v = arg(0)?;
            let mut out = String::new();
            write_json(&v, 0, &mut out);
            check_size(n, f, out.len())?;
            Val::Str(Cow::Owned(out))
        }
        Func::FromJson => {
            let s = arg(0)?;
            let text = s.to_display();
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => Val::from_owned(v),
                Err(e) => {
                    return Err(node_err(
                        n,
                        format!("fromJSON: the argument is not valid JSON: {e}"),
                    ));
                }
            }
        }
        Func::HashFiles => {
            let mut patterns = Vec::with_capacity(args.len());
            for i in 0..args.len() {
                patterns.push(arg(i)?.to_display().into_owned());
            }
            match ctx.hash_files(&patterns) {
                Ok(h) => Val::Str(Cow::Owned(h)),
                Err(e) => return Err(node_err(n, format!("hashFiles failed: {e}"))),
            }
        }
    })
}

/// `format(fmt, args...)`: `{N}` inserts argument N, `{{`/`}}` are literal
/// braces; anything else with a brace is an invalid format string.
fn format(n: &Node, args: &[Node], ctx: &dyn Context) -> Result<String, ExprError> {
    let Some(first) = args.first() else {
        return Ok(String::new());
    };
    let fmt_val = eval(first, ctx)?;
    let fmt = fmt_val.to_display();
    let invalid = || node_err(n, format!("the format string is invalid: `{fmt}`"));
    let mut cache: Vec<Option<String>> = vec![None; args.len()];
    let mut out = String::new();
    let mut i = 0;
    while i < fmt.len() {
        let rest = &fmt[i..];
        let l = rest.find('{');
        let r = rest.find('}');
        match (l, r) {
            (Some(l), r) if r.is_none_or(|r| r > l) => {
                out.push_str(&rest[..l]);
                let after = &rest[l + 1..];
                if after.starts_with('{') {
                    out.push('{');
                    i += l + 2;
                    continue;
                }
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 || after.as_bytes().get(digits) != Some(&b'}') {
                    return Err(invalid());
                }
                let index: usize = match after[..digits].parse::<u8>() {
                    Ok(x) => usize::from(x),
                    Err(_) => return Err(invalid()),
                };
                if index + 1 >= args.len() {
                    return Err(node_err(
                        n,
                        format!(
                            "the format string references more arguments than were supplied: `{fmt}`"
                        ),
                    ));
                }
                if cache[index + 1].is_none() {
                    let v = eval(&args[index + 1], ctx)?;
                    cache[index + 1] = Some(v.to_display().into_owned());
                }
                out.push_str(cache[index + 1].as_deref().unwrap_or(""));
                check_size(n, Func::Format, out.len())?;
                i += l + 1 + digits + 1;
            }
            (_, Some(r)) => {
                out.push_str(&rest[..r]);
                if rest[r + 1..].starts_with('}') {
                    out.push('}');
                    i += r + 2;
                } else {
                    return Err(invalid());
                }
            }
            _ => {
                out.push_str(rest);
                break;
            }
        }
    }
    Ok(out)
}

fn indent(out: &mut String, level: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', level * 2));
}

/// `toJSON`: two-space indented JSON; numbers printed like GitHub (`G15`).
fn write_json(v: &Val<'_>, level: usize, out: &mut String) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(x) => out.push_str(&format_number(*x)),
        Val::Str(s) => write_json_string(s, out),
        Val::Ref(Value::Object(m)) => write_json_object(m, level, out),
        Val::Own(rc) if rc.is_object() => {
            if let Value::Object(m) = rc.as_ref() {
                write_json_object(m, level, out);
            }
        }
        _ => {
            let items = v.array_items().unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_json(item, level + 1, out);
            }
            indent(out, level);
            out.push(']');
        }
    }
}

fn write_json_object(m: &Map<String, Value>, level: usize, out: &mut String) {
    if m.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        indent(out, level + 1);
        write_json_string(k, out);
        out.push_str(": ");
        write_json(&Val::from_ref(v), level + 1, out);
    }
    indent(out, level);
    out.push('}');
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
