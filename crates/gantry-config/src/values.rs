//! Parsers for value formats shared by sections: sizes and durations.
//! Each returns `Err` with an optional help line.

use std::time::Duration;

use crate::suggest::did_you_mean;

pub(crate) const SIZE_EXPECTED: &str = "a size like `512KiB`, `1MiB` or a number of bytes";
pub(crate) const DURATION_EXPECTED: &str = "a duration like `90d`, `12h` or `30m`";

const SIZE_UNITS: &[(&str, u64)] = &[
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("B", 1),
];
const DURATION_UNITS: &[(&str, u64)] = &[
    ("s", 1),
    ("m", 60),
    ("h", 60 * 60),
    ("d", 24 * 60 * 60),
    ("w", 7 * 24 * 60 * 60),
];

/// A byte count: `1048576`, `512KiB`, `1 MiB`, `2GiB`; never zero.
pub(crate) fn parse_size(text: &str) -> Result<u64, Option<String>> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number.parse().map_err(|_| None)?;
    let unit = unit.trim_start();
    let scale = match SIZE_UNITS.iter().find(|(name, _)| *name == unit) {
        Some((_, scale)) => *scale,
        None if unit.is_empty() => 1,
        None => {
            let names: Vec<&str> = SIZE_UNITS.iter().map(|(name, _)| *name).collect();
            return Err(did_you_mean(unit, &names).map(|u| format!("did you mean `{number}{u}`?")));
        }
    };
    match number.checked_mul(scale) {
        Some(0) => Err(Some("the size must be greater than zero".to_string())),
        Some(bytes) => Ok(bytes),
        None => Err(Some("the size is too large".to_string())),
    }
}

/// A duration made of `<number><unit>` parts with units `s`, `m`, `h`, `d`
/// and `w`, like `90d` or `1h30m`; never zero.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, Option<String>> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Some(format!("add a unit, like `{text}d` or `{text}h`")));
    }
    let mut rest = text;
    let mut seconds: u64 = 0;
    while !rest.is_empty() {
        let (number, tail) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let (unit, next) = tail.split_at(
            tail.find(|c: char| c.is_ascii_digit())
                .unwrap_or(tail.len()),
        );
        let number: u64 = number.parse().map_err(|_| None)?;
        let Some((_, scale)) = DURATION_UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(Some("the units are `s`, `m`, `h`, `d` and `w`".to_string()));
        };
        let too_long = || Some("the duration is too long".to_string());
        seconds = number
            .checked_mul(*scale)
            .and_then(|s| seconds.checked_add(s))
            .ok_or_else(too_long)?;
        rest = next;
    }
    match seconds {
        0 if text.is_empty() => Err(None),
        0 => Err(Some("the duration must be greater than zero".to_string())),
        _ => Ok(Duration::from_secs(seconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("7B"), Ok(7));
        assert_eq!(
            parse_size("1MB"),
            Err(Some("did you mean `1MiB`?".to_string()))
        );
        assert!(parse_size("0").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("1.5MiB").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("99999999999999999w").is_err());
    }
}
