//! GitHub Actions workflows, read with gantry-config's span-keeping YAML
//! tree: script injection, `pull_request_target` checking out the PR head,
//! actions not pinned to a commit SHA, and token permissions.
//!
//! Pinning policy: a third-party action must be pinned to a full 40-hex
//! commit SHA (medium). Actions owned by GitHub (`actions/*`, `github/*`)
//! are reported too, at low severity: their tags are moved by GitHub only,
//! but a SHA is still the one reference that cannot change. Local actions
//! (`./path`) are not reported; `docker://` images are unless pinned by
//! digest.

use std::rc::Rc;

use gantry_config::yaml::{Entry, Kind as YKind, Node};

use crate::finding::{FileError, Finding, Location, Severity};
use crate::misconfig::catalog as c;
use crate::misconfig::{file_error, report};

fn map(n: &Node) -> Option<&[Entry]> {
    match &n.kind {
        YKind::Map(es) => Some(es),
        _ => None,
    }
}

fn entry<'n>(n: &'n Node, key: &str) -> Option<&'n Entry> {
    map(n)?.iter().find(|e| e.key == key)
}

fn child<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    entry(n, key).map(|e| &e.value)
}

fn scalar(n: &Node) -> Option<&str> {
    match &n.kind {
        YKind::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// Parses YAML with gantry-config's tree; a syntax error becomes a
/// FileError with `line:col`.
pub(super) fn parse_yaml(path: &str, text: &str) -> Result<Node, FileError> {
    let file: Rc<str> = Rc::from(path);
    let mut diags = Vec::new();
    match gantry_config::yaml::parse(&file, text, &mut diags) {
        Some(n) => Ok(n),
        None => Err(match diags.first() {
            Some(d) => match d.span {
                Some(s) => file_error(path, s.line, s.col, &d.message),
                None => FileError {
                    path: path.to_owned(),
                    message: d.message.clone(),
                },
            },
            None => FileError {
                path: path.to_owned(),
                message: "invalid yaml".into(),
            },
        }),
    }
}

/// The events of `on:` (a string, a list or a map's keys).
fn events(root: &Node) -> Vec<String> {
    // YAML 1.1 readers turn the key `on` into `true`.
    let Some(on) = child(root, "on").or_else(|| child(root, "true")) else {
        return Vec::new();
    };
    match &on.kind {
        YKind::Scalar { text, .. } => vec![text.clone()],
        YKind::Seq(items) => items
            .iter()
            .filter_map(|i| scalar(i).map(str::to_owned))
            .collect(),
        YKind::Map(es) => es.iter().map(|e| e.key.clone()).collect(),
    }
}

/// The `${{ ... }}` expressions of a string with their byte offsets.
fn expressions(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = s[from..].find("${{") {
        let start = from + p;
        let Some(e) = s[start + 3..].find("}}") else {
            break;
        };
        out.push((start, &s[start + 3..start + 3 + e]));
        from = start + 3 + e + 2;
    }
    out
}

/// The context paths an outsider controls that an expression reads:
/// `github.event.issue.title`, `github.head_ref`, ...
pub(super) fn untrusted_inputs(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = expr.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_word = c.is_ascii_alphabetic() && (i == 0 || !is_path_byte(bytes[i - 1]));
        if !starts_word {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && is_path_byte(bytes[j]) {
            j += 1;
        }
        let token = &lower[i..j];
        if is_untrusted(token) && !out.iter().any(|o| o == token) {
            out.push(token.to_owned());
        }
        i = j;
    }
    out
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'*' | b'[' | b']' | b'\'')
}

fn is_untrusted(token: &str) -> bool {
    if token == "github.head_ref" {
        return true;
    }
    let Some(rest) = token.strip_prefix("github.event.") else {
        return false;
    };
    // Normalise `commits[0]`, `pages.*` to plain segments.
    let segs: Vec<&str> = rest
        .split(['.', '['])
        .map(|s| s.trim_end_matches(']').trim_matches('\''))
        .filter(|s| !s.is_empty() && *s != "*" && !s.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let Some(last) = segs.last() else {
        return false;
    };
    let prev = segs.len().checked_sub(2).map(|i| segs[i]).unwrap_or("");
    match *last {
        "title" | "body" | "message" | "page_name" | "head_branch" | "default_branch" => true,
        "email" | "name" => matches!(prev, "author" | "committer" | "pusher"),
        "ref" | "label" => prev == "head",
        "head_ref" => true,
        _ => false,
    }
}

/// The line of byte `offset` of a scalar's text: block scalars (`|`, `>`)
/// start on the line after their indicator.
fn line_in_scalar(source_lines: &[&str], node: &Node, text: &str, offset: usize) -> u32 {
    let start_line = node.span.line;
    let first = source_lines
        .get(start_line.saturating_sub(1))
        .map(|l| {
            let col = node.span.col.saturating_sub(1);
            l.chars().skip(col).collect::<String>()
        })
        .unwrap_or_default();
    let block = first.trim_start().starts_with('|') || first.trim_start().starts_with('>');
    let nl = text[..offset.min(text.len())].matches('\n').count();
    (start_line + nl + usize::from(block)) as u32
}

fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn scan(path: &str, text: &str) -> Result<Vec<Finding>, FileError> {
    let root = parse_yaml(path, text)?;
    if map(&root).is_none() {
        return Err(file_error(
            path,
            root.span.line,
            root.span.col,
            format!("expected a workflow mapping, found {}", root.describe()),
        ));
    }
    let Some(jobs) = entry(&root, "jobs") else {
        return Err(file_error(path, 1, 1, "not a workflow: no `jobs` key"));
    };
    let Some(job_entries) = map(&jobs.value) else {
        return Err(file_error(
            path,
            jobs.value.span.line,
            jobs.value.span.col,
            format!("`jobs` must be a mapping, found {}", jobs.value.describe()),
        ));
    };
    let lines: Vec<&str> = text.lines().collect();
    let events = events(&root);
    let pr_target = events.iter().any(|e| e == "pull_request_target");
    let mut out = Vec::new();
    let at = |line: usize| Location::new(path, line as u32);

    let top_perm = entry(&root, "permissions");
    if let Some(p) = top_perm
        && scalar(&p.value) == Some("write-all")
    {
        out.push(report(
            &c::GHA_WRITE_ALL,
            None,
            "the workflow sets `permissions: write-all`",
            at(p.key_span.line),
            "permissions",
            "write-all",
        ));
    }
    for job in job_entries {
        let jid = &job.key;
        let jperm = entry(&job.value, "permissions");
        if let Some(p) = jperm
            && scalar(&p.value) == Some("write-all")
        {
            out.push(report(
                &c::GHA_WRITE_ALL,
                None,
                format!("job {jid} sets `permissions: write-all`"),
                at(p.key_span.line),
                &format!("{jid}.permissions"),
                "write-all",
            ));
        }
        if top_perm.is_none() && jperm.is_none() {
            out.push(report(
                &c::GHA_NO_PERMISSIONS,
                None,
                format!("job {jid} runs with the default token permissions: neither the workflow nor the job sets `permissions`"),
                at(job.key_span.line),
                jid,
                "",
            ));
        }
        // A reusable workflow called at job level.
        if let Some(u) = entry(&job.value, "uses")
            && let Some(r) = scalar(&u.value)
        {
            unpinned(&mut out, path, r, u.value.span.line, jid);
        }
        let Some(steps) = child(&job.value, "steps") else {
            continue;
        };
        let YKind::Seq(steps) = &steps.kind else {
            continue;
        };
        for (n, step) in steps.iter().enumerate() {
            let label = child(step, "id")
                .or_else(|| child(step, "name"))
                .and_then(scalar)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("steps[{n}]"));
            let resource = format!("{jid}.{label}");
            let uses_name = child(step, "uses").and_then(scalar).unwrap_or("");
            // `run:` scripts, and `actions/github-script`'s JavaScript.
            let script_node = child(step, "run").or_else(|| {
                uses_name
                    .to_ascii_lowercase()
                    .starts_with("actions/github-script@")
                    .then(|| child(step, "with").and_then(|w| child(w, "script")))
                    .flatten()
            });
            if let Some(run) = script_node
                && let Some(script) = scalar(run)
            {
                for (off, expr) in expressions(script) {
                    let bad = untrusted_inputs(expr);
                    if bad.is_empty() {
                        continue;
                    }
                    let line = line_in_scalar(&lines, run, script, off);
                    out.push(report(
                        &c::GHA_SCRIPT_INJECTION,
                        None,
                        format!("step {resource} expands {} into its script", bad.join(", ")),
                        Location::new(path, line),
                        &resource,
                        &bad.join(","),
                    ));
                }
            }
            let Some(uses) = entry(step, "uses") else {
                continue;
            };
            let Some(action) = scalar(&uses.value) else {
                continue;
            };
            unpinned(&mut out, path, action, uses.value.span.line, &resource);
            if pr_target && action.to_ascii_lowercase().starts_with("actions/checkout@") {
                let r = child(step, "with")
                    .and_then(|w| child(w, "ref"))
                    .and_then(scalar)
                    .unwrap_or("");
                let lower = r.to_ascii_lowercase();
                let head = lower.contains("github.event.pull_request.head.")
                    || lower.contains("github.head_ref")
                    || (lower.contains("refs/pull/") && lower.contains("/head"));
                if head {
                    out.push(report(
                        &c::GHA_PR_TARGET_CHECKOUT,
                        None,
                        format!("step {resource} checks out {r} in a pull_request_target workflow"),
                        at(uses.key_span.line),
                        &resource,
                        r,
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn unpinned(out: &mut Vec<Finding>, path: &str, action: &str, line: usize, resource: &str) {
    if action.starts_with("./") || action.starts_with("../") {
        return;
    }
    if let Some(image) = action.strip_prefix("docker://") {
        if !image.contains("@sha256:") {
            out.push(report(
                &c::GHA_UNPINNED_ACTION,
                None,
                format!("{action} is not pinned to an image digest"),
                Location::new(path, line as u32),
                resource,
                action,
            ));
        }
        return;
    }
    let (name, r) = match action.rsplit_once('@') {
        Some((n, r)) => (n, r),
        None => (action, ""),
    };
    if is_sha(r) {
        return;
    }
    let owner = name.split('/').next().unwrap_or("").to_ascii_lowercase();
    let sev = (owner == "actions" || owner == "github").then_some(Severity::Low);
    let what = if r.is_empty() {
        "has no version".to_owned()
    } else {
        format!("is pinned to {r:?}, not a commit SHA")
    };
    out.push(report(
        &c::GHA_UNPINNED_ACTION,
        sev,
        format!("{name} {what}"),
        Location::new(path, line as u32),
        resource,
        action,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_contexts() {
        assert_eq!(
            untrusted_inputs(" github.event.issue.title "),
            vec!["github.event.issue.title"]
        );
        assert!(!untrusted_inputs("github.event.commits[0].message").is_empty());
        assert!(!untrusted_inputs("github.event.pages.*.page_name").is_empty());
        assert!(!untrusted_inputs("github.event.head_commit.author.email").is_empty());
        assert!(!untrusted_inputs("github.head_ref").is_empty());
        assert!(!untrusted_inputs("github.event.pull_request.head.ref").is_empty());
        assert!(untrusted_inputs("github.event.pull_request.number").is_empty());
        assert!(untrusted_inputs("github.event.repository.name").is_empty());
        assert!(untrusted_inputs("github.sha").is_empty());
    }

    #[test]
    fn expression_offsets() {
        let e = expressions("echo ${{ a }} and ${{b}}");
        assert_eq!(e, vec![(5, " a "), (18, "b")]);
    }
}
