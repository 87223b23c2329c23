//! GitHub's event names and `schedule` cron syntax.

/// Every event that can trigger a GitHub Actions workflow.
pub(crate) const EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "push",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

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

/// Checks a POSIX cron expression as GitHub reads it: five fields of `*`,
/// numbers, ranges `a-b`, steps `/n` and lists `a,b`; months and week days
/// may be three-letter names. The error says what is wrong.
pub(crate) fn check_cron(text: &str) -> Result<(), String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    for (field, (name, low, high, names)) in fields.iter().zip(FIELDS) {
        for part in field.split(',') {
            check_part(part, low, high, names)
                .map_err(|why| format!("invalid {name} field `{field}`: {why}"))?;
        }
    }
    Ok(())
}

fn check_part(part: &str, low: u32, high: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n > 0 => {}
            _ => {
                return Err(format!(
                    "expected a positive step after `/`, found `{step}`"
                ));
            }
        }
    }
    if range == "*" {
        return Ok(());
    }
    let value = |text: &str| -> Result<u32, String> {
        if let Ok(n) = text.parse::<u32>() {
            // Day of week 7 is Sunday, as in most crons.
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
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("range `{range}` goes backwards"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_cron;

    #[test]
    fn crons() {
        for ok in [
            "* * * * *",
            "30 5 * * 1,3",
            "0 */6 * * *",
            "15 2 1-15/2 JAN-jun sun",
            "0 0 * * 7",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "*/0 * * * *",
            "5-1 * * * *",
            "x * * * *",
            "* * * * * *",
        ] {
            assert!(check_cron(bad).is_err(), "{bad}");
        }
    }
}
