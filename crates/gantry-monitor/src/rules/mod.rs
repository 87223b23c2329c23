//! Prometheus rules. So far: checking rule files as `promtool check rules`
//! does ([`check_file`]); evaluation of recording and alerting rules comes
//! next.

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

/// Checks that every `{{` action is closed and not empty, as Go's template
/// parser would. The full template language is checked when rules are
/// evaluated.
pub fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!("unclosed action at byte {}", offset + open));
        };
        let inner = after[..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner.is_empty() {
            return Err(format!(
                "missing value for command at byte {}",
                offset + open
            ));
        }
        if inner.contains("{{") {
            return Err(format!(
                "unexpected \"{{{{\" in action at byte {}",
                offset + open
            ));
        }
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    Ok(())
}
