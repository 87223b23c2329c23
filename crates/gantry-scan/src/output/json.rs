//! Gantry's JSON report. The shape is documented in docs/scan-json.md and
//! versioned by `schema_version`; fields are only ever added.

use serde_json::json as j;

use super::Tool;
use crate::report::Report;

/// Bumped only when a field changes meaning or goes away.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub fn json(report: &Report, tool: &Tool) -> String {
    let counts = report.counts_by_name();
    let doc = j!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": tool.name, "version": tool.version},
        "root": report.root,
        "summary": {
            "total": report.findings.len(),
            "by_severity": counts,
            "files_scanned": report.files_scanned,
            "packages": report.packages.len(),
            "errors": report.errors.len(),
            "suppressed": report.suppressed.len(),
        },
        "findings": report.findings,
        "packages": report.packages,
        "errors": report.errors,
        "notices": report.notices,
        "suppressed": report.suppressed,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
