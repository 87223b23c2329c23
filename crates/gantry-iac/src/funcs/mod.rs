//! Terraform's built-in functions (all but `try` and `can`, which the
//! evaluator handles because their arguments are evaluated lazily).
//!
//! Every function is described by a [`Def`]: its parameters (name, type,
//! whether null is allowed), a variadic parameter, how its result type is
//! found when an argument is unknown, and its implementation. [`call`] does
//! the common work the way Terraform's function machinery does: it checks
//! the argument count, rejects nulls, converts each argument to its
//! parameter type, removes sensitive marks (marking the result when any
//! argument had one) and returns an unknown result when an argument is not
//! known, unless the function asks to see marks or unknowns itself.

use std::path::Path;
use std::sync::OnceLock;

use crate::value::{Type, Value};

mod collections;
mod conversion;
mod encoding;
mod files;
mod format;
mod net;
mod numeric;
mod strings;
mod time;

/// When a function runs: `timestamp()` and `uuid()` are unknown during a
/// plan, as in Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Plan,
    Apply,
}

/// What a function may need from the evaluator.
pub trait FuncHost {
    /// The directory file functions resolve relative paths against
    /// (`path.module`).
    fn base_dir(&self) -> &Path;
    fn phase(&self) -> Phase;
    /// `templatefile`: parses `text` (read from `path`) as a template and
    /// renders it with `vars` (an object or map) as its only variables.
    fn render_template(&self, path: &Path, text: &str, vars: &Value) -> Result<Value, String>;
    /// `plantimestamp()`: the time the plan was made (RFC 3339), when the
    /// host knows it; without one the function's result is unknown.
    fn plan_timestamp(&self) -> Option<String> {
        None
    }
}

/// Why a call failed. `param` is the index and name of the argument the
/// error is about, when there is one (the evaluator points at it and says
/// `invalid value for "NAME" parameter: MESSAGE`); otherwise it says
/// `call to function "F" failed: MESSAGE`.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    pub message: String,
    pub param: Option<(usize, &'static str)>,
}

impl FuncError {
    /// An error about the call as a whole.
    pub(crate) fn call(message: impl Into<String>) -> FuncError {
        FuncError {
            message: message.into(),
            param: None,
        }
    }

    /// An error about argument `index` (whose parameter is `name`).
    pub(crate) fn arg(index: usize, name: &'static str, message: impl Into<String>) -> FuncError {
        FuncError {
            message: message.into(),
            param: Some((index, name)),
        }
    }
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.param {
            Some((_, name)) => write!(f, "invalid value for {name:?} parameter: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FuncError {}

/// Element type of a collection parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum El {
    Any,
    String,
    Bool,
}

impl El {
    fn ty(self) -> Type {
        match self {
            El::Any => Type::Any,
            El::String => Type::String,
            El::Bool => Type::Bool,
        }
    }
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pt {
    /// Any value, passed as is.
    Any,
    String,
    Number,
    List(El),
    Set(El),
    Map(El),
    /// A list, set or tuple, passed as is.
    Seq,
    /// A map or object, passed as is.
    Mapping,
}

impl Pt {
    fn conversion(self) -> Option<Type> {
        match self {
            Pt::Any | Pt::Seq | Pt::Mapping => None,
            Pt::String => Some(Type::String),
            Pt::Number => Some(Type::Number),
            Pt::List(e) => Some(Type::list(e.ty())),
            Pt::Set(e) => Some(Type::set(e.ty())),
            Pt::Map(e) => Some(Type::map(e.ty())),
        }
    }
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub ty: Pt,
    pub allow_null: bool,
}

pub(crate) const fn p(name: &'static str, ty: Pt) -> Param {
    Param {
        name,
        ty,
        allow_null: false,
    }
}

/// A parameter that accepts null.
pub(crate) const fn pn(name: &'static str, ty: Pt) -> Param {
    Param {
        name,
        ty,
        allow_null: true,
    }
}

/// The function sees unknown arguments (otherwise any argument that is not
/// wholly known makes the result unknown).
pub(crate) const RAW_UNKNOWN: u8 = 1;
/// The function sees sensitive marks (otherwise they are removed and the
/// result is marked when any argument had one).
pub(crate) const RAW_MARKS: u8 = 2;
/// Only the arguments' own marks are removed (and put on the result);
/// marks of elements stay where they are, as Terraform does for functions
/// that move elements around without looking at them (`lookup`, `keys`,
/// `concat`…).
pub(crate) const SHALLOW_MARKS: u8 = 4;

pub(crate) type Impl = fn(Vec<Value>, &dyn FuncHost) -> Result<Value, FuncError>;
pub(crate) type RetType = fn(&[Value]) -> Type;

/// One built-in function.
pub(crate) struct Def {
    pub name: &'static str,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    /// The result type, from the (converted) arguments, for unknown results.
    pub ret: RetType,
    pub flags: u8,
    pub imp: Impl,
}

impl Def {
    pub(crate) const fn new(
        name: &'static str,
        params: &'static [Param],
        ret: RetType,
        imp: Impl,
    ) -> Def {
        Def {
            name,
            params,
            variadic: None,
            ret,
            flags: 0,
            imp,
        }
    }

    pub(crate) const fn var(mut self, param: Param) -> Def {
        self.variadic = Some(param);
        self
    }

    pub(crate) const fn flags(mut self, flags: u8) -> Def {
        self.flags = flags;
        self
    }
}

pub(crate) fn r_string(_: &[Value]) -> Type {
    Type::String
}
pub(crate) fn r_number(_: &[Value]) -> Type {
    Type::Number
}
pub(crate) fn r_bool(_: &[Value]) -> Type {
    Type::Bool
}
pub(crate) fn r_any(_: &[Value]) -> Type {
    Type::Any
}
pub(crate) fn r_list_string(_: &[Value]) -> Type {
    Type::list(Type::String)
}
/// The type of the first argument.
pub(crate) fn r_first(args: &[Value]) -> Type {
    args.first().map_or(Type::Any, Value::type_of)
}

fn all_defs() -> impl Iterator<Item = &'static Def> {
    [
        collections::DEFS,
        conversion::DEFS,
        encoding::DEFS,
        files::DEFS,
        format::DEFS,
        net::DEFS,
        numeric::DEFS,
        strings::DEFS,
        time::DEFS,
    ]
    .into_iter()
    .flatten()
}

fn find(name: &str) -> Option<&'static Def> {
    all_defs().find(|d| d.name == name)
}

/// Calls the built-in function `name`.
pub fn call(name: &str, args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    if name == "try" || name == "can" {
        return Err(FuncError::call(format!(
            "the function {name:?} is evaluated lazily by the evaluator and cannot be called directly"
        )));
    }
    let Some(def) = find(name) else {
        return Err(FuncError::call(format!(
            "there is no function named {name:?}"
        )));
    };
    let fixed = def.params.len();
    if args.len() < fixed {
        let missing = def.params.get(args.len()).map_or("", |p| p.name);
        return Err(FuncError::call(format!(
            "not enough function arguments: function {name:?} expects {}{fixed} argument(s); missing value for {missing:?}",
            if def.variadic.is_some() {
                "at least "
            } else {
                ""
            }
        )));
    }
    if def.variadic.is_none() && args.len() > fixed {
        return Err(FuncError::call(format!(
            "too many function arguments: function {name:?} expects only {fixed} argument(s)"
        )));
    }
    let mut converted = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        let param = match (def.params.get(i), def.variadic) {
            (Some(p), _) => *p,
            (None, Some(p)) => p,
            // Unreachable: extra arguments without a variadic parameter
            // were rejected above.
            (None, None) => return Err(FuncError::call("too many function arguments")),
        };
        converted.push(prepare_arg(i, &param, arg)?);
    }
    let mut marked = false;
    if def.flags & RAW_MARKS == 0 {
        let shallow = def.flags & SHALLOW_MARKS != 0;
        converted = converted
            .into_iter()
            .map(|v| {
                let (v, m) = if shallow { v.unmark() } else { v.unmark_deep() };
                marked |= m;
                v
            })
            .collect();
    }
    if def.flags & RAW_UNKNOWN == 0 && !converted.iter().all(Value::is_wholly_known) {
        return Ok(Value::Unknown((def.ret)(&converted)).mark_if(marked));
    }
    (def.imp)(converted, host).map(|v| v.mark_if(marked))
}

/// Null check and conversion of one argument to its parameter type.
fn prepare_arg(i: usize, param: &Param, arg: Value) -> Result<Value, FuncError> {
    if arg.is_known() && arg.is_null() {
        if param.allow_null {
            return Ok(arg);
        }
        return Err(FuncError::arg(i, param.name, "argument must not be null"));
    }
    if let Some(ty) = param.ty.conversion() {
        return arg
            .convert(&ty)
            .map_err(|e| FuncError::arg(i, param.name, e.to_string()));
    }
    let ok = match (param.ty, arg.unmarked()) {
        (_, Value::Unknown(_) | Value::Null) => true,
        (Pt::Seq, v) => matches!(v, Value::List(_) | Value::Set(_) | Value::Tuple(_)),
        (Pt::Mapping, v) => matches!(v, Value::Map(_) | Value::Object(_)),
        _ => true,
    };
    if !ok {
        let what = if param.ty == Pt::Seq {
            "a list, set, or tuple"
        } else {
            "a map or object"
        };
        return Err(FuncError::arg(
            i,
            param.name,
            format!("{what} is required, but have {}", arg.kind_name()),
        ));
    }
    Ok(arg)
}

/// True when `name` is a built-in function (including `try` and `can`).
pub fn exists(name: &str) -> bool {
    names().binary_search(&name).is_ok()
}

/// Every function name, sorted (for "did you mean").
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<&'static str> = all_defs().map(|d| d.name).collect();
        v.push("try");
        v.push("can");
        v.sort_unstable();
        v.dedup();
        v
    })
}

// ---- helpers shared by the function modules ----

/// The string of a converted string argument ("" for anything else, which
/// the conversion rules out).
pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The number of a converted number argument.
pub(crate) fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// A whole number from a converted number argument.
pub(crate) fn int(v: &Value, i: usize, name: &'static str) -> Result<i64, FuncError> {
    let x = n(v);
    if x.fract() != 0.0 || !x.is_finite() {
        return Err(FuncError::arg(i, name, "value must be a whole number"));
    }
    if x.abs() > 9.007_199_254_740_992e15 {
        return Err(FuncError::arg(i, name, "value is too large"));
    }
    Ok(x as i64)
}

/// The elements of a converted sequence argument.
pub(crate) fn seq(v: &Value) -> &[Value] {
    v.as_seq().unwrap_or(&[])
}

/// Splits a string into user-perceived characters: a base character with
/// the combining marks, variation selectors, zero-width joiners and emoji
/// modifiers that follow it (an approximation of grapheme clusters).
pub(crate) fn graphemes(text: &str) -> Vec<&str> {
    fn extends(c: char) -> bool {
        matches!(c as u32,
            0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05BD
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x200C | 0x200D
            | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F
            | 0xFE20..=0xFE2F
            | 0x1F3FB..=0x1F3FF
            | 0xE0020..=0xE007F
            | 0xE0100..=0xE01EF)
    }
    let mut out: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut after_zwj = false;
    for (i, c) in text.char_indices() {
        if i == 0 {
            continue;
        }
        let joined = extends(c) || after_zwj || (c == '\n' && text[..i].ends_with('\r'));
        after_zwj = c == '\u{200D}';
        if !joined {
            out.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_unique() {
        let n = names();
        assert!(n.windows(2).all(|w| w[0] < w[1]));
        assert!(exists("try") && exists("can") && exists("cidrsubnet"));
        assert!(!exists("nope"));
        let defs: Vec<_> = all_defs().map(|d| d.name).collect();
        assert_eq!(defs.len() + 2, n.len(), "a function is defined twice");
    }

    #[test]
    fn errors_name_their_parameter() {
        let e = FuncError::arg(1, "hostnum", "too big");
        assert_eq!(
            e.to_string(),
            "invalid value for \"hostnum\" parameter: too big"
        );
        assert_eq!(FuncError::call("boom").to_string(), "boom");
    }

    #[test]
    fn graphemes_keep_combining_marks() {
        assert_eq!(graphemes("e\u{301}a"), vec!["e\u{301}", "a"]);
        assert_eq!(graphemes("ab"), vec!["a", "b"]);
        assert_eq!(graphemes("\r\n"), vec!["\r\n"]);
        assert!(graphemes("").is_empty());
    }
}
