//! String functions.

use std::collections::BTreeMap;

use regex::Regex;

use super::{
    Def, El, FuncError, FuncHost, Pt, graphemes, int, p, r_bool, r_list_string, r_string, s, seq,
};
use crate::value::{Type, Value};

pub(super) const DEFS: &[Def] = &[
    Def::new("chomp", &[p("str", Pt::String)], r_string, chomp),
    Def::new(
        "endswith",
        &[p("str", Pt::String), p("suffix", Pt::String)],
        r_bool,
        endswith,
    ),
    Def::new(
        "indent",
        &[p("spaces", Pt::Number), p("str", Pt::String)],
        r_string,
        indent,
    ),
    Def::new("join", &[p("separator", Pt::String)], r_string, join)
        .var(p("lists", Pt::List(El::String))),
    Def::new("lower", &[p("str", Pt::String)], r_string, lower),
    Def::new(
        "regex",
        &[p("pattern", Pt::String), p("string", Pt::String)],
        r_regex,
        regex,
    ),
    Def::new(
        "regexall",
        &[p("pattern", Pt::String), p("string", Pt::String)],
        r_regexall,
        regexall,
    ),
    Def::new(
        "replace",
        &[
            p("str", Pt::String),
            p("substr", Pt::String),
            p("replace", Pt::String),
        ],
        r_string,
        replace,
    ),
    Def::new(
        "split",
        &[p("separator", Pt::String), p("str", Pt::String)],
        r_list_string,
        split,
    ),
    Def::new(
        "startswith",
        &[p("str", Pt::String), p("prefix", Pt::String)],
        r_bool,
        startswith,
    ),
    Def::new(
        "strcontains",
        &[p("str", Pt::String), p("substr", Pt::String)],
        r_bool,
        strcontains,
    ),
    Def::new("strrev", &[p("str", Pt::String)], r_string, strrev),
    Def::new(
        "substr",
        &[
            p("str", Pt::String),
            p("offset", Pt::Number),
            p("length", Pt::Number),
        ],
        r_string,
        substr,
    ),
    Def::new("title", &[p("str", Pt::String)], r_string, title),
    Def::new(
        "trim",
        &[p("str", Pt::String), p("cutset", Pt::String)],
        r_string,
        trim,
    ),
    Def::new(
        "trimprefix",
        &[p("str", Pt::String), p("prefix", Pt::String)],
        r_string,
        trimprefix,
    ),
    Def::new("trimspace", &[p("str", Pt::String)], r_string, trimspace),
    Def::new(
        "trimsuffix",
        &[p("str", Pt::String), p("suffix", Pt::String)],
        r_string,
        trimsuffix,
    ),
    Def::new("upper", &[p("str", Pt::String)], r_string, upper),
];

fn string(t: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(t.into()))
}

fn chomp(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(s(&args[0]).trim_end_matches(['\n', '\r']))
}

fn endswith(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::Bool(s(&args[0]).ends_with(s(&args[1]))))
}

fn startswith(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::Bool(s(&args[0]).starts_with(s(&args[1]))))
}

fn strcontains(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(Value::Bool(s(&args[0]).contains(s(&args[1]))))
}

fn indent(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let spaces = int(&args[0], 0, "spaces")?;
    let pad = " ".repeat(spaces.clamp(0, 1 << 16) as usize);
    string(s(&args[1]).replace('\n', &format!("\n{pad}")))
}

fn join(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    if args.len() < 2 {
        return Err(FuncError::call("at least one list is required"));
    }
    let mut parts = Vec::new();
    for (i, list) in args.iter().enumerate().skip(1) {
        for x in seq(list) {
            match x.as_str() {
                Some(t) => parts.push(t),
                None => {
                    return Err(FuncError::arg(
                        i,
                        "lists",
                        format!(
                            "element {} is null; cannot concatenate null values",
                            parts.len()
                        ),
                    ));
                }
            }
        }
    }
    string(parts.join(s(&args[0])))
}

fn lower(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(s(&args[0]).to_lowercase())
}

fn upper(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(s(&args[0]).to_uppercase())
}

fn compile(pattern: &str) -> Result<Regex, FuncError> {
    Regex::new(pattern)
        .map_err(|e| FuncError::arg(0, "pattern", format!("error parsing pattern: {e}")))
}

enum Captures {
    None,
    Unnamed,
    Named(Vec<(usize, String)>),
}

fn captures_kind(re: &Regex) -> Result<Captures, FuncError> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Ok(Captures::None);
    }
    let named = names.iter().filter(|n| n.is_some()).count();
    if named == 0 {
        Ok(Captures::Unnamed)
    } else if named == names.len() {
        Ok(Captures::Named(
            names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (i + 1, n.to_owned())))
                .collect(),
        ))
    } else {
        Err(FuncError::arg(
            0,
            "pattern",
            "invalid regular expression pattern: cannot mix both named and unnamed capture groups",
        ))
    }
}

fn pattern_type(pattern: &str) -> Type {
    let Ok(re) = Regex::new(pattern) else {
        return Type::Any;
    };
    match captures_kind(&re) {
        Ok(Captures::None) => Type::String,
        Ok(Captures::Unnamed) => Type::list(Type::String),
        Ok(Captures::Named(names)) => {
            Type::object(names.into_iter().map(|(_, n)| (n, Type::String)).collect())
        }
        Err(_) => Type::Any,
    }
}

fn r_regex(args: &[Value]) -> Type {
    args.first()
        .and_then(Value::as_str)
        .map_or(Type::Any, pattern_type)
}

fn r_regexall(args: &[Value]) -> Type {
    Type::list(r_regex(args))
}

fn match_value(kind: &Captures, caps: &regex::Captures<'_>) -> Value {
    let group = |i: usize| {
        caps.get(i)
            .map_or(Value::Null, |m| Value::String(m.as_str().to_owned()))
    };
    match kind {
        Captures::None => group(0),
        Captures::Unnamed => Value::List((1..caps.len()).map(group).collect()),
        Captures::Named(names) => Value::Object(
            names
                .iter()
                .map(|(i, n)| (n.clone(), group(*i)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn regex(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let re = compile(s(&args[0]))?;
    let kind = captures_kind(&re)?;
    match re.captures(s(&args[1])) {
        Some(caps) => Ok(match_value(&kind, &caps)),
        None => Err(FuncError::call(
            "pattern did not match any part of the given string",
        )),
    }
}

fn regexall(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let re = compile(s(&args[0]))?;
    let kind = captures_kind(&re)?;
    Ok(Value::List(
        re.captures_iter(s(&args[1]))
            .map(|c| match_value(&kind, &c))
            .collect(),
    ))
}

fn replace(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (text, sub, rep) = (s(&args[0]), s(&args[1]), s(&args[2]));
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = Regex::new(&sub[1..sub.len() - 1]).map_err(|e| {
            FuncError::arg(
                1,
                "substr",
                format!("invalid regular expression pattern: {e}"),
            )
        })?;
        return string(re.replace_all(text, rep).into_owned());
    }
    if sub.is_empty() {
        // As Go's strings.Replace: an empty substring matches between
        // every character.
        let mut out = String::from(rep);
        for c in text.chars() {
            out.push(c);
            out.push_str(rep);
        }
        return string(out);
    }
    string(text.replace(sub, rep))
}

fn split(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (sep, text) = (s(&args[0]), s(&args[1]));
    let parts: Vec<Value> = if sep.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(sep)
            .map(|p| Value::String(p.to_owned()))
            .collect()
    };
    Ok(Value::List(parts))
}

fn strrev(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut g = graphemes(s(&args[0]));
    g.reverse();
    string(g.concat())
}

fn substr(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let g = graphemes(s(&args[0]));
    let mut offset = int(&args[1], 1, "offset")?;
    let length = int(&args[2], 2, "length")?;
    let total = g.len() as i64;
    if offset < 0 {
        offset = (total + offset).max(0);
    }
    if offset >= total {
        return string("");
    }
    let start = offset as usize;
    let end = if length < 0 {
        g.len()
    } else {
        (offset.saturating_add(length)).min(total) as usize
    };
    string(g[start..end].concat())
}

/// Go's `strings.Title`: the first letter of each word in upper case.
fn title(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    fn separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    }
    let mut out = String::new();
    let mut prev = ' ';
    for c in s(&args[0]).chars() {
        if separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    string(out)
}

fn trim(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let cut: Vec<char> = s(&args[1]).chars().collect();
    string(s(&args[0]).trim_matches(cut.as_slice()))
}

fn trimprefix(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (t, pre) = (s(&args[0]), s(&args[1]));
    string(t.strip_prefix(pre).unwrap_or(t))
}

fn trimsuffix(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (t, suf) = (s(&args[0]), s(&args[1]));
    string(t.strip_suffix(suf).unwrap_or(t))
}

fn trimspace(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(s(&args[0]).trim())
}
