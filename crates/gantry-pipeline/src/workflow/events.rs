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

/// Checks a POSIX cron expression as GitHub reads it (see
/// [`gantry_core::Cron`]); the error says what is wrong.
pub(crate) fn check_cron(text: &str) -> Result<(), String> {
    gantry_core::Cron::parse(text).map(drop)
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
