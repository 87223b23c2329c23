//! POSIX cron expressions (five fields, UTC), as GitHub Actions' `schedule`
//! and crontab read them: `*`, numbers, ranges `a-b`, steps `/n`, lists
//! `a,b`, three-letter month and week-day names, and day of week 7 as
//! Sunday. When both day fields are restricted a day matching either one
//! matches, as in cron.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

/// The five cron fields: name, lowest, highest, and the names allowed.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        6,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// A parsed cron expression: one bit set per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether each day field was `*` (or `*/1`).
    any_day: bool,
    any_weekday: bool,
}

impl Cron {
    /// Parses five fields; the error names the field and what is wrong.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ));
        }
        let mut sets = [0u64; 5];
        for ((field, (name, low, high, names)), set) in
            fields.iter().zip(FIELDS).zip(sets.iter_mut())
        {
            for part in field.split(',') {
                *set |= parse_part(part, low, high, names)
                    .map_err(|why| format!("invalid {name} field `{field}`: {why}"))?;
            }
        }
        // Day of week 7 is Sunday.
        if sets[4] & (1 << 7) != 0 {
            sets[4] = (sets[4] & !(1 << 7)) | 1;
        }
        let unrestricted = |f: &str| f == "*" || f == "*/1";
        Ok(Cron {
            minutes: sets[0],
            hours: sets[1],
            days: sets[2],
            months: sets[3],
            weekdays: sets[4],
            any_day: unrestricted(fields[2]),
            any_weekday: unrestricted(fields[4]),
        })
    }

    fn day_matches(&self, t: &DateTime<Utc>) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        match (self.any_day, self.any_weekday) {
            (false, false) => dom || dow,
            _ => dom && dow,
        }
    }

    /// The first matching minute strictly after `t`; `None` when the
    /// expression never matches (`0 0 30 2 *`).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = t.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let mut c = start;
        // Five years of months, days, hours and minutes is a few thousand
        // steps at most; anything beyond never matches.
        let limit = start + Duration::days(5 * 366);
        while c < limit {
            if self.months & (1 << c.month()) == 0 {
                let (y, m) = if c.month() == 12 {
                    (c.year() + 1, 1)
                } else {
                    (c.year(), c.month() + 1)
                };
                c = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()?;
                continue;
            }
            if !self.day_matches(&c) {
                c = Utc
                    .with_ymd_and_hms(c.year(), c.month(), c.day(), 0, 0, 0)
                    .single()?
                    + Duration::days(1);
                continue;
            }
            if self.hours & (1 << c.hour()) == 0 {
                c = c.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << c.minute()) == 0 {
                c += Duration::minutes(1);
                continue;
            }
            return Some(c);
        }
        None
    }
}

fn parse_part(part: &str, low: u32, high: u32, names: &[&str]) -> Result<u64, String> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => match step.parse::<u32>() {
            Ok(n) if n > 0 => (range, n),
            _ => {
                return Err(format!(
                    "expected a positive step after `/`, found `{step}`"
                ));
            }
        },
        None => (part, 1),
    };
    let value = |text: &str| -> Result<u32, String> {
        if let Ok(n) = text.parse::<u32>() {
            let top = if names.len() == 7 { 7 } else { high };
            return if (low..=top).contains(&n) {
                Ok(n)
            } else {
                Err(format!("`{n}` is out of range {low}-{high}"))
            };
        }
        let lower = text.to_ascii_lowercase();
        match names.iter().position(|n| *n == lower) {
            Some(i) => Ok(low + u32::try_from(i).unwrap_or(0)),
            None => Err(format!("expected a number {low}-{high}, found `{text}`")),
        }
    };
    let (a, b) = if range == "*" {
        (low, high)
    } else {
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b {
                    return Err(format!("range `{range}` goes backwards"));
                }
                (a, b)
            }
            // `5/15` means from 5 to the top in steps of 15.
            None if step > 1 => (value(range)?, high),
            None => {
                let v = value(range)?;
                (v, v)
            }
        }
    };
    Ok((a..=b).step_by(step as usize).fold(0, |m, v| m | (1 << v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, from: &str) -> String {
        Cron::parse(expr)
            .unwrap()
            .next_after(at(from))
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into())
    }

    #[test]
    fn next_fire_times() {
        assert_eq!(
            next("*/15 * * * *", "2026-12-04T10:07:30Z"),
            "2026-12-04T10:15:00+00:00"
        );
        assert_eq!(
            next("0 3 * * *", "2026-12-04T03:00:00Z"),
            "2026-12-05T03:00:00+00:00"
        );
        assert_eq!(
            next("30 9 * * mon-fri", "2026-12-04T10:00:00Z"),
            "2026-12-07T09:30:00+00:00"
        );
        assert_eq!(
            next("0 0 1 jan *", "2026-12-04T10:00:00Z"),
            "2027-01-01T00:00:00+00:00"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-12-04T10:00:00Z"),
            "2028-02-29T00:00:00+00:00"
        );
        // Either day field matches when both are restricted.
        assert_eq!(
            next("0 0 13 * 5", "2026-12-04T10:00:00Z"),
            "2026-12-11T00:00:00+00:00"
        );
        // Sunday as 7.
        assert_eq!(
            next("0 12 * * 7", "2026-12-04T10:00:00Z"),
            "2026-12-06T12:00:00+00:00"
        );
        assert_eq!(
            next("5/20 * * * *", "2026-12-04T10:46:00Z"),
            "2026-12-04T11:05:00+00:00"
        );
        assert_eq!(next("0 0 30 2 *", "2026-12-04T10:00:00Z"), "never");
    }

    #[test]
    fn bad_expressions_say_why() {
        for (bad, why) in [
            ("* * * *", "expected 5 fields"),
            ("60 * * * *", "invalid minute field `60`"),
            ("* 24 * * *", "out of range 0-23"),
            ("* * 0 * *", "day of month"),
            ("* * * foo *", "found `foo`"),
            ("*/0 * * * *", "positive step"),
            ("* * * * 5-1", "goes backwards"),
        ] {
            let e = Cron::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
