//! The terminal rendering: findings grouped by severity, worst first, then
//! files that could not be scanned, notices and a summary line.

use std::fmt::Write as _;

use crate::finding::{Finding, Severity};
use crate::report::Report;

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

fn where_(f: &Finding) -> String {
    let mut out = match &f.location {
        Some(l) => l.to_string(),
        None => String::new(),
    };
    if let Some(r) = &f.resource {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(r);
    }
    if let Some(c) = &f.commit {
        let short: String = c.chars().take(12).collect();
        let _ = write!(out, " (commit {short})");
    }
    out
}

pub fn table(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for sev in Severity::ALL.iter().rev() {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == *sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", sev.as_str().to_uppercase(), group.len());
        let _ = writeln!(out, "{}", paint(color, severity_code(*sev), &heading));
        for f in group {
            let _ = writeln!(
                out,
                "  {}  {}  {}",
                paint(color, "1", &f.rule_id),
                f.title,
                paint(color, "2", &where_(f))
            );
            if f.message != f.title && !f.message.is_empty() {
                let _ = writeln!(out, "      {}", f.message);
            }
            if !f.aliases.is_empty() {
                let _ = writeln!(out, "      aliases: {}", f.aliases.join(", "));
            }
            if let Some(v) = &f.fixed_version {
                let _ = writeln!(out, "      fixed in: {v}");
            }
            if let Some(r) = &f.redacted {
                let _ = writeln!(out, "      secret: {r}");
            }
            if let Some(r) = &f.remediation {
                let _ = writeln!(out, "      fix: {r}");
            }
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                color,
                "1;31",
                &format!("Not scanned ({})", report.errors.len())
            )
        );
        for e in &report.errors {
            let _ = writeln!(out, "  {e}");
        }
        out.push('\n');
    }
    for n in &report.notices {
        let _ = writeln!(out, "{} {n}", paint(color, "33", "notice:"));
    }
    let counts = report.counts();
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {}", counts[s], s.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "{} finding{} ({}); {} file{} scanned, {} package{}{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        parts.join(", "),
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
        report.packages.len(),
        if report.packages.len() == 1 { "" } else { "s" },
        if report.suppressed.is_empty() {
            String::new()
        } else {
            format!(", {} suppressed", report.suppressed.len())
        }
    );
    out
}
