//! Prometheus rules. So far: checking rule files as `promtool check rules`
//! does ([`check_file`]); evaluation of recording and alerting rules comes
//! next.

pub mod eval;
pub mod template;

use gantry_config::rules::{Rule, RuleFile, parse_rule_file};
use gantry_config::{Diagnostic, Diagnostics, SourceFile};

/// What checking one rule file found: the rules it has, or diagnostics
/// (with the file's text attached for rendering).
pub fn check_file(name: &str, text: &str) -> Result<RuleFile, Diagnostics> {
    let (file, mut found) = parse_rule_file(name, text);
    for g in &file.groups {
        for r in &g.rules {
            check_rule(name, r, &mut found);
        }
    }
    if !found.iter().any(Diagnostic::is_error) {
        return Ok(file);
    }
    found.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    let mut diags = Diagnostics::new();
    for d in found {
        diags.push(d);
    }
    diags.add_source(SourceFile {
        path: name.into(),
        text: text.to_string(),
    });
    Err(diags)
}

fn check_rule(name: &str, r: &Rule, found: &mut Vec<Diagnostic>) {
    if !r.expr.trim().is_empty()
        && let Err(e) = crate::promql::parse(&r.expr)
    {
        found.push(
            Diagnostic::error(name, format!("could not parse expression: {e}"))
                .with_span(r.expr_origin.span),
        );
    }
    let templated = r.labels.iter().map(|(k, v)| (k, v, &r.origin)).chain(
        r.annotations
            .iter()
            .map(|(k, v)| (k, v, r.annotation_origins.get(k).unwrap_or(&r.origin))),
    );
    for (key, text, at) in templated {
        if let Err(e) = check_template(text) {
            found.push(
                Diagnostic::error(name, format!("template of `{key}`: {e}")).with_span(at.span),
            );
        }
    }
}

/// Checks a template the way evaluation will expand it (with empty labels
/// and a zero value), so unsupported actions and functions show up here.
pub fn check_template(text: &str) -> Result<(), String> {
    let empty = std::collections::BTreeMap::new();
    template::expand(
        text,
        &template::Data {
            labels: &empty,
            external_labels: &empty,
            value: 0.0,
        },
    )
    .map(|_| ())
}

/// Loads and checks every rule file gantry.yml's `rule_files` names
/// (paths relative to `dir`, `*`/`?` allowed in the last part) into
/// groups. Problems come back as diagnostics with the files' texts.
pub fn load_groups(
    dir: &std::path::Path,
    patterns: &[String],
    default_interval: std::time::Duration,
) -> Result<Vec<eval::Group>, Diagnostics> {
    let mut groups = Vec::new();
    let mut problems = Diagnostics::new();
    for pattern in patterns {
        let full = dir.join(pattern);
        let files = crate::scrape::discovery::expand(&full.to_string_lossy());
        for path in files {
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let text = match gantry_config::read_source(&path) {
                Ok(t) => t,
                Err(_) => {
                    problems.push(Diagnostic::error(name, "cannot read rule file"));
                    continue;
                }
            };
            match check_file(&name, &text) {
                Ok(file) => groups.extend(
                    file.groups
                        .iter()
                        .map(|g| eval::Group::from_config(&name, g, default_interval)),
                ),
                Err(found) => {
                    for d in &found {
                        problems.push(d.clone());
                    }
                    problems.add_source(SourceFile {
                        path: name.into(),
                        text,
                    });
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(groups)
    } else {
        Err(problems)
    }
}
