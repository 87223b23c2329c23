//! Encoding and hashing functions: JSON, YAML, base64, URL, CSV, digests,
//! UUIDs.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::Digest;

use super::{Def, FuncError, FuncHost, Phase, Pt, p, pn, r_any, r_string, s};
use crate::value::{Value, format_number};

pub(super) const DEFS: &[Def] = &[
    Def::new(
        "base64decode",
        &[p("str", Pt::String)],
        r_string,
        base64decode,
    ),
    Def::new(
        "base64encode",
        &[p("str", Pt::String)],
        r_string,
        base64encode,
    ),
    Def::new(
        "base64sha256",
        &[p("str", Pt::String)],
        r_string,
        base64sha256,
    ),
    Def::new(
        "base64sha512",
        &[p("str", Pt::String)],
        r_string,
        base64sha512,
    ),
    Def::new("csvdecode", &[p("str", Pt::String)], r_any, csvdecode),
    Def::new("jsondecode", &[p("str", Pt::String)], r_any, jsondecode),
    Def::new("jsonencode", &[pn("val", Pt::Any)], r_string, jsonencode),
    Def::new("md5", &[p("str", Pt::String)], r_string, md5),
    Def::new("sha1", &[p("str", Pt::String)], r_string, sha1),
    Def::new("sha256", &[p("str", Pt::String)], r_string, sha256),
    Def::new("sha512", &[p("str", Pt::String)], r_string, sha512),
    Def::new(
        "textdecodebase64",
        &[p("source", Pt::String), p("encoding", Pt::String)],
        r_string,
        textdecodebase64,
    ),
    Def::new(
        "textencodebase64",
        &[p("string", Pt::String), p("encoding", Pt::String)],
        r_string,
        textencodebase64,
    ),
    Def::new("urlencode", &[p("str", Pt::String)], r_string, urlencode),
    Def::new("uuid", &[], r_string, uuid),
    Def::new(
        "uuidv5",
        &[p("namespace", Pt::String), p("name", Pt::String)],
        r_string,
        uuidv5,
    ),
    Def::new("yamldecode", &[p("src", Pt::String)], r_any, yamldecode),
    Def::new("yamlencode", &[pn("value", Pt::Any)], r_string, yamlencode),
];

fn string(t: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(t.into()))
}

fn base64encode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(B64.encode(s(&args[0])))
}

fn base64decode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let input = s(&args[0]);
    // Go's decoder, which Terraform uses, skips line breaks.
    let compact: String = input.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let bytes = B64
        .decode(compact)
        .map_err(|_| FuncError::arg(0, "str", format!("failed to decode base64 data {input:?}")))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        FuncError::arg(
            0,
            "str",
            "the result of decoding the provided string is not valid UTF-8",
        )
    })
}

pub(crate) fn hash_hex<D: Digest>(data: &[u8]) -> String {
    hex::encode(D::digest(data))
}

pub(crate) fn hash_b64<D: Digest>(data: &[u8]) -> String {
    B64.encode(D::digest(data))
}

fn md5(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<md5::Md5>(s(&args[0]).as_bytes()))
}

fn sha1(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha1::Sha1>(s(&args[0]).as_bytes()))
}

fn sha256(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha2::Sha256>(s(&args[0]).as_bytes()))
}

fn sha512(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha2::Sha512>(s(&args[0]).as_bytes()))
}

fn base64sha256(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_b64::<sha2::Sha256>(s(&args[0]).as_bytes()))
}

fn base64sha512(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_b64::<sha2::Sha512>(s(&args[0]).as_bytes()))
}

/// Go's `url.QueryEscape`.
fn urlencode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut out = String::new();
    for b in s(&args[0]).bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    string(out)
}

fn uuid(_: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    if host.phase() == Phase::Plan {
        return Ok(Value::Unknown(crate::value::Type::String));
    }
    let bytes: [u8; 16] = rand::random();
    string(
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string(),
    )
}

fn uuidv5(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let ns = match s(&args[0]) {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|e| {
            FuncError::arg(
                0,
                "namespace",
                format!("uuidv5() doesn't support namespace {other} ({e})"),
            )
        })?,
    };
    let mut h = sha1::Sha1::new();
    h.update(ns.as_bytes());
    h.update(s(&args[1]).as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    string(
        uuid::Builder::from_sha1_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string(),
    )
}

// ---- JSON ----

/// JSON as Terraform's `jsonencode` writes it: compact, keys sorted,
/// integers without a fraction, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(crate) fn json_encode(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v.unmarked() {
        Value::Null | Value::Unknown(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(x) => out.push_str(&json_number(*x)),
        Value::String(t) => json_string(t, out),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        Value::Map(m) | Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
        Value::Sensitive(_) => out.push_str("null"),
    }
}

fn json_number(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e21 {
        return format_number(x);
    }
    format!("{x}")
}

fn json_string(t: &str, out: &mut String) {
    out.push('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn jsonencode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(json_encode(&args[0]))
}

fn jsondecode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let j: serde_json::Value = serde_json::from_str(s(&args[0]))
        .map_err(|e| FuncError::arg(0, "str", format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&j))
}

// ---- YAML ----

fn yamldecode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let src = s(&args[0]);
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(src).map_err(|e| FuncError::arg(0, "src", yaml_error(&e)))?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(Value::from_json(&docs[0])),
        _ => Err(FuncError::arg(
            0,
            "src",
            "unsupported YAML: multiple documents in one string",
        )),
    }
}

/// Saphyr's "error: line L column C: MESSAGE" as Terraform words it:
/// "on line L, column C: MESSAGE".
fn yaml_error(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((line, rest)) = rest.split_once(" column ")
        && let Some((col, msg)) = rest.split_once(": ")
    {
        return format!("on line {line}, column {col}: {msg}");
    }
    first.to_owned()
}

/// YAML as Terraform's `yamlencode` writes it: block style, strings and
/// keys double-quoted, multi-line strings as literal blocks.
fn yamlencode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let mut out = String::new();
    match args[0].unmarked() {
        v @ (Value::List(xs) | Value::Set(xs) | Value::Tuple(xs)) if !xs.is_empty() => {
            let _ = v;
            yaml_seq(xs, 0, &mut out);
        }
        v @ (Value::Map(m) | Value::Object(m)) if !m.is_empty() => {
            let _ = v;
            yaml_map(m, 0, &mut out);
        }
        v => {
            out.push_str(&yaml_scalar(v, 0));
            out.push('\n');
        }
    }
    string(out)
}

fn yaml_quote(t: &str) -> String {
    let mut out = String::from('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar or empty collection; `indent` is the indentation of the
/// enclosing block (for literal block strings).
fn yaml_scalar(v: &Value, indent: usize) -> String {
    match v.unmarked() {
        Value::Null | Value::Unknown(_) | Value::Sensitive(_) => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(x) => json_number(*x),
        Value::String(t) => {
            let literal_ok = t.contains('\n')
                && !t
                    .chars()
                    .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
                && !t.starts_with(' ')
                && !t.contains(" \n");
            if literal_ok {
                let pad = " ".repeat(indent + 2);
                let (body, chomp) = match t.strip_suffix('\n') {
                    Some(b) if b.ends_with('\n') => (b, "+"),
                    Some(b) => (b, ""),
                    None => (t.as_str(), "-"),
                };
                let mut out = format!("|{chomp}");
                for line in body.split('\n') {
                    out.push('\n');
                    if !line.is_empty() {
                        out.push_str(&pad);
                        out.push_str(line);
                    }
                }
                if chomp == "+" {
                    out.push('\n');
                }
                out
            } else {
                yaml_quote(t)
            }
        }
        Value::List(_) | Value::Set(_) | Value::Tuple(_) => "[]".into(),
        Value::Map(_) | Value::Object(_) => "{}".into(),
    }
}

fn is_block(v: &Value) -> bool {
    match v.unmarked() {
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => !xs.is_empty(),
        Value::Map(m) | Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn yaml_seq(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for x in items {
        out.push_str(&pad);
        out.push('-');
        match x.unmarked() {
            Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) if !xs.is_empty() => {
                out.push(' ');
                let mut inner = String::new();
                yaml_seq(xs, indent + 2, &mut inner);
                out.push_str(inner.trim_start());
            }
            Value::Map(m) | Value::Object(m) if !m.is_empty() => {
                out.push(' ');
                let mut inner = String::new();
                yaml_map(m, indent + 2, &mut inner);
                out.push_str(inner.trim_start());
            }
            v => {
                out.push(' ');
                out.push_str(&yaml_scalar(v, indent));
                out.push('\n');
            }
        }
    }
}

fn yaml_map(m: &BTreeMap<String, Value>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (k, x) in m {
        out.push_str(&pad);
        out.push_str(&yaml_quote(k));
        out.push(':');
        if is_block(x) {
            out.push('\n');
            match x.unmarked() {
                Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => yaml_seq(xs, indent, out),
                Value::Map(m) | Value::Object(m) => yaml_map(m, indent + 2, out),
                _ => {}
            }
        } else {
            out.push(' ');
            out.push_str(&yaml_scalar(x, indent));
            out.push('\n');
        }
    }
}

// ---- CSV ----

fn csvdecode(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let records = parse_csv(s(&args[0])).map_err(|e| FuncError::arg(0, "str", e))?;
    let mut iter = records.into_iter();
    let Some(header) = iter.next() else {
        return Err(FuncError::arg(0, "str", "missing header line"));
    };
    let mut rows = Vec::new();
    for (i, rec) in iter.enumerate() {
        if rec.len() != header.len() {
            return Err(FuncError::arg(
                0,
                "str",
                format!("record on line {}: wrong number of fields", i + 2),
            ));
        }
        rows.push(Value::Object(
            header
                .iter()
                .cloned()
                .zip(rec.into_iter().map(Value::String))
                .collect(),
        ));
    }
    Ok(Value::List(rows))
}

/// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut rec: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        match c {
            '"' if field.is_empty() => {
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                        None => {
                            return Err(format!(
                                "parse error on line {line}, column 1: extraneous or missing \" in quoted-field"
                            ));
                        }
                    }
                }
                match chars.peek() {
                    Some(',') | Some('\n') | Some('\r') | None => {}
                    Some(_) => {
                        return Err(format!(
                            "parse error on line {line}: extraneous or missing \" in quoted-field"
                        ));
                    }
                }
            }
            ',' => rec.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                rec.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut rec));
                line += 1;
                any = false;
            }
            c => field.push(c),
        }
    }
    if any {
        rec.push(field);
        records.push(rec);
    }
    Ok(records)
}

// ---- text encodings ----

#[derive(Clone, Copy, PartialEq)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
    Ascii,
}

fn text_encoding(name: &str, index: usize) -> Result<TextEncoding, FuncError> {
    let norm: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Ok(match norm.as_str() {
        "utf8" => TextEncoding::Utf8,
        "utf16le" => TextEncoding::Utf16Le,
        "utf16be" => TextEncoding::Utf16Be,
        "iso88591" | "latin1" | "l1" | "isoir100" | "cp819" | "ibm819" => TextEncoding::Latin1,
        "usascii" | "ascii" | "usascii1" | "ansix341968" | "iso646us" | "us" => TextEncoding::Ascii,
        _ => {
            return Err(FuncError::arg(
                index,
                "encoding",
                format!(
                    "{name:?} is not a supported IANA encoding name or alias in this Terraform version"
                ),
            ));
        }
    })
}

fn textencodebase64(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (text, name) = (s(&args[0]), s(&args[1]));
    let enc = text_encoding(name, 1)?;
    let unrepresentable = || {
        FuncError::arg(
            0,
            "string",
            format!("the given string contains characters that cannot be represented in {name}"),
        )
    };
    let bytes: Vec<u8> = match enc {
        TextEncoding::Utf8 => text.as_bytes().to_vec(),
        TextEncoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        TextEncoding::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        TextEncoding::Latin1 | TextEncoding::Ascii => {
            let limit = if enc == TextEncoding::Latin1 {
                0xFF
            } else {
                0x7F
            };
            text.chars()
                .map(|c| {
                    u8::try_from(c as u32)
                        .ok()
                        .filter(|b| u32::from(*b) <= limit)
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(unrepresentable)?
        }
    };
    string(B64.encode(bytes))
}

fn textdecodebase64(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let (src, name) = (s(&args[0]), s(&args[1]));
    let enc = text_encoding(name, 1)?;
    let bytes = B64.decode(src).map_err(|e| {
        FuncError::arg(
            0,
            "source",
            format!("the given value has an invalid base64 symbol: {e}"),
        )
    })?;
    let invalid = || FuncError::arg(0, "source", format!("the given value is not valid {name}"));
    let text = match enc {
        TextEncoding::Utf8 => String::from_utf8(bytes).map_err(|_| invalid())?,
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
            if bytes.len() % 2 != 0 {
                return Err(invalid());
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| {
                    let pair = [c[0], c[1]];
                    if enc == TextEncoding::Utf16Le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                })
                .collect();
            String::from_utf16(&units).map_err(|_| invalid())?
        }
        TextEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        TextEncoding::Ascii => {
            if bytes.iter().any(|b| *b > 0x7F) {
                return Err(invalid());
            }
            bytes.iter().map(|&b| char::from(b)).collect()
        }
    };
    string(text)
}
