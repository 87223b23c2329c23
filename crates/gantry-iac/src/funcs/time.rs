//! Time functions: timestamp, timeadd, timecmp, formatdate.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike, Utc};

use super::{Def, FuncError, FuncHost, Phase, Pt, p, r_number, r_string, s};
use crate::value::{Type, Value};

pub(super) const DEFS: &[Def] = &[
    Def::new(
        "formatdate",
        &[p("format", Pt::String), p("time", Pt::String)],
        r_string,
        formatdate,
    ),
    Def::new(
        "timeadd",
        &[p("timestamp", Pt::String), p("duration", Pt::String)],
        r_string,
        timeadd,
    ),
    Def::new(
        "timecmp",
        &[p("timestamp_a", Pt::String), p("timestamp_b", Pt::String)],
        r_number,
        timecmp,
    ),
    Def::new("plantimestamp", &[], r_string, plantimestamp),
    Def::new("timestamp", &[], r_string, timestamp),
];

fn timestamp(_: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    if host.phase() == Phase::Plan {
        return Ok(Value::Unknown(Type::String));
    }
    Ok(Value::String(
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ))
}

fn plantimestamp(_: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    Ok(host
        .plan_timestamp()
        .map_or(Value::Unknown(Type::String), Value::String))
}

/// Parses an RFC 3339 timestamp with Terraform's error wording.
fn parse_rfc3339(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if !digits(0..4) {
        return Err(format!("cannot use {text:?} as year"));
    }
    if b.get(4) != Some(&b'-') || !digits(5..7) {
        return Err("missing required month".into());
    }
    if b.get(7) != Some(&b'-') || !digits(8..10) {
        return Err("missing required day".into());
    }
    if b.get(10) != Some(&b'T') {
        return Err("missing required time introducer 'T'".into());
    }
    if b.len() < 19
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return Err("missing required hour, minute or second".into());
    }
    let last = b.last().copied().unwrap_or(b'0');
    let has_offset = last == b'Z' || (last.is_ascii_digit() && text[19..].contains(['+', '-']));
    if !has_offset {
        return Err("missing required timezone offset (use Z for UTC)".into());
    }
    DateTime::parse_from_rfc3339(text).map_err(|e| format!("{e}"))
}

fn parse_arg(text: &str, i: usize, name: &'static str) -> Result<DateTime<FixedOffset>, FuncError> {
    parse_rfc3339(text)
        .map_err(|e| FuncError::arg(i, name, format!("not a valid RFC3339 timestamp: {e}")))
}

/// RFC 3339 without fractional seconds, keeping the offset (`Z` for UTC).
fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    let off = t.offset().local_minus_utc();
    let zone = if off == 0 {
        "Z".to_string()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    };
    format!("{}{zone}", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn parse_duration(text: &str) -> Result<i128, String> {
    let bad = || format!("time: invalid duration {text:?}");
    let (neg, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        let value: f64 = num.parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration {text:?}")),
            _ => return Err(format!("time: unknown unit {unit:?} in duration {text:?}")),
        };
        total += value * scale;
    }
    if total > 9.223_372_036_854_775e18 {
        return Err(bad());
    }
    let ns = total.round() as i128;
    Ok(if neg { -ns } else { ns })
}

fn timeadd(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let t = parse_arg(s(&args[0]), 0, "timestamp")?;
    let ns = parse_duration(s(&args[1])).map_err(|e| FuncError::arg(1, "duration", e))?;
    let d = Duration::nanoseconds(ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
    let out = t
        .checked_add_signed(d)
        .ok_or_else(|| FuncError::call("the resulting time is out of range"))?;
    Ok(Value::String(rfc3339(&out)))
}

fn timecmp(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let a = parse_arg(s(&args[0]), 0, "timestamp_a")?;
    let b = parse_arg(s(&args[1]), 1, "timestamp_b")?;
    Ok(Value::Number(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1.0,
        std::cmp::Ordering::Equal => 0.0,
        std::cmp::Ordering::Greater => 1.0,
    }))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn offset(t: &DateTime<FixedOffset>, colon: bool) -> String {
    let off = t.offset().local_minus_utc();
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
    }
}

fn formatdate(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let spec = s(&args[0]);
    let t = parse_arg(s(&args[1]), 1, "time")?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let bad = |seq: &str, why: &str| {
        FuncError::arg(
            0,
            "format",
            format!("invalid date format verb {seq:?}: {why}"),
        )
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // A quoted literal; '' is a literal quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            let mut closed = false;
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                out.push(chars[j]);
                j += 1;
            }
            if !closed {
                return Err(FuncError::arg(0, "format", "unterminated literal '"));
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let seq: String = chars[i..j].iter().collect();
        i = j;
        let len = seq.len();
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let text = match (c, len) {
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
            ('Y', _) => return Err(bad(&seq, "year must either be \"YY\" or \"YYYY\"")),
            ('M', 4) => MONTHS[t.month0() as usize].to_string(),
            ('M', 3) => MONTHS[t.month0() as usize][..3].to_string(),
            ('M', 2) => format!("{:02}", t.month()),
            ('M', 1) => t.month().to_string(),
            ('M', _) => {
                return Err(bad(
                    &seq,
                    "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"",
                ));
            }
            ('D', 2) => format!("{:02}", t.day()),
            ('D', 1) => t.day().to_string(),
            ('D', _) => return Err(bad(&seq, "day of month must either be \"D\" or \"DD\"")),
            ('E', 4) => DAYS[t.weekday().num_days_from_monday() as usize].to_string(),
            ('E', 3) => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_string(),
            ('E', _) => return Err(bad(&seq, "day of week must either be \"EEE\" or \"EEEE\"")),
            ('h', 2) => format!("{:02}", t.hour()),
            ('h', 1) => t.hour().to_string(),
            ('H', 2) => format!("{hour12:02}"),
            ('H', 1) => hour12.to_string(),
            ('h' | 'H', _) => {
                return Err(bad(
                    &seq,
                    "hour must either be \"h\"/\"hh\" or \"H\"/\"HH\"",
                ));
            }
            ('A', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            ('A' | 'a', _) => return Err(bad(&seq, "AM/PM must either be \"AA\" or \"aa\"")),
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', 1) => t.minute().to_string(),
            ('m', _) => return Err(bad(&seq, "minute must either be \"m\" or \"mm\"")),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', 1) => t.second().to_string(),
            ('s', _) => return Err(bad(&seq, "second must either be \"s\" or \"ss\"")),
            ('Z', 5) => offset(&t, true),
            ('Z', 4) => offset(&t, false),
            ('Z', 3) => {
                if t.offset().local_minus_utc() == 0 {
                    "UTC".to_string()
                } else {
                    offset(&t, false)
                }
            }
            ('Z', 1) => {
                if t.offset().local_minus_utc() == 0 {
                    "Z".to_string()
                } else {
                    offset(&t, true)
                }
            }
            ('Z', _) => {
                return Err(bad(&seq, "timezone must be Z, ZZZZ, or ZZZZZ"));
            }
            _ => {
                return Err(FuncError::arg(
                    0,
                    "format",
                    format!("unsupported date format verb {seq:?}; literal letters must be quoted"),
                ));
            }
        };
        out.push_str(&text);
    }
    Ok(Value::String(out))
}
