//! Prometheus rule files: `groups:` of recording and alerting rules, read
//! with spans. Checks that need the monitoring engine (PromQL parsing,
//! templates) are done by gantry-monitor against the [`Origin`]s kept here.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::check::{Checker, Field, error_at};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::load::MAX_FILE_BYTES;
use crate::sections::monitoring::{
    Origin, count, duration, is_label_name, label_map, seq, string_map,
};
use crate::yaml::{self, Kind, Node};

/// A rule file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleGroup {
    pub name: String,
    pub interval: Option<Duration>,
    /// 0 means no limit.
    pub limit: u64,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
    pub origin: Origin,
}

/// One rule: `record` or `alert`, never both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub record: Option<String>,
    pub alert: Option<String>,
    pub expr: String,
    /// Where the expression's text starts.
    pub expr_origin: Origin,
    pub for_: Option<Duration>,
    pub keep_firing_for: Option<Duration>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Where each annotation's text starts.
    pub annotation_origins: BTreeMap<String, Origin>,
    pub origin: Origin,
}

const RULE_FIELDS: &[Field<Rule>] = &[
    ("record", |ck, node, path, out| {
        out.record = ck.string(node, path)
    }),
    ("alert", |ck, node, path, out| {
        out.alert = ck.string(node, path)
    }),
    ("expr", |ck, node, path, out| {
        out.expr = ck.string(node, path).unwrap_or_default();
        out.expr_origin = Origin::of(node);
    }),
    ("for", |ck, node, path, out| {
        out.for_ = duration(ck, node, path)
    }),
    ("keep_firing_for", |ck, node, path, out| {
        out.keep_firing_for = duration(ck, node, path)
    }),
    ("labels", |ck, node, path, out| {
        out.labels = label_map(ck, node, path)
    }),
    ("annotations", |ck, node, path, out| {
        out.annotations = string_map(ck, node, path);
        if let Kind::Map(entries) = &node.kind {
            for e in entries {
                out.annotation_origins
                    .insert(e.key.clone(), Origin::of(&e.value));
            }
        }
    }),
];

const GROUP_FIELDS: &[Field<RuleGroup>] = &[
    ("name", |ck, node, path, out| {
        out.name = ck.string(node, path).unwrap_or_default()
    }),
    ("interval", |ck, node, path, out| {
        out.interval = duration(ck, node, path)
    }),
    ("limit", |ck, node, path, out| {
        out.limit = count(ck, node, path).unwrap_or(0)
    }),
    ("labels", |ck, node, path, out| {
        out.labels = label_map(ck, node, path)
    }),
    ("rules", |ck, node, path, out| {
        out.rules = seq(ck, node, path)
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("{path}[{i}]");
                let mut r: Rule = ck.mapping(item, &at, RULE_FIELDS);
                r.origin = Origin::of(item);
                check_rule(ck, item, &at, &r);
                r
            })
            .collect()
    }),
];

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// promtool's rule checks that need no PromQL.
fn check_rule(ck: &mut Checker, item: &Node, at: &str, r: &Rule) {
    let has = |key: &str| matches!(&item.kind, Kind::Map(es) if es.iter().any(|e| e.key == key));
    match (&r.record, &r.alert) {
        (Some(_), Some(_)) => ck.push(error_at(
            item,
            format!("only one of `record` and `alert` must be set in `{at}`"),
        )),
        (None, None) if matches!(item.kind, Kind::Map(_)) => ck.push(error_at(
            item,
            format!("one of `record` or `alert` must be set in `{at}`"),
        )),
        _ => {}
    }
    if !has("expr") && matches!(item.kind, Kind::Map(_)) {
        ck.push(error_at(
            item,
            format!("missing required key `expr` in `{at}`"),
        ));
    } else if has("expr") && r.expr.trim().is_empty() {
        ck.push(error_at(
            item,
            format!("field `expr` must be set in `{at}`"),
        ));
    }
    if let Some(name) = &r.record {
        if !is_metric_name(name) {
            ck.push(error_at(
                item,
                format!("invalid recording rule name: {name}"),
            ));
        }
        for key in ["for", "keep_firing_for", "annotations"] {
            if has(key) {
                ck.push(error_at(
                    item,
                    format!("invalid field `{key}` in recording rule `{name}`"),
                ));
            }
        }
    }
    if let Some(name) = &r.alert
        && name.trim().is_empty()
    {
        ck.push(error_at(item, format!("invalid alert name in `{at}`")));
    }
    for k in r.annotations.keys().filter(|k| !is_label_name(k)) {
        ck.push(error_at(item, format!("invalid annotation name: {k}")));
    }
}

/// Reads a rule file's text. Every problem is a diagnostic with the
/// file's text attached for rendering.
pub fn load_rule_file(name: &str, text: &str) -> Result<RuleFile, Diagnostics> {
    let (file, found) = parse_rule_file(name, text);
    if !found.iter().any(Diagnostic::is_error) {
        return Ok(file);
    }
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

/// Reads what it can of a rule file and every problem found on the way,
/// sorted by position, so callers can add their own checks of the rules
/// that were read.
pub fn parse_rule_file(name: &str, text: &str) -> (RuleFile, Vec<Diagnostic>) {
    let file: Rc<str> = Rc::from(name);
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut out = RuleFile::default();
    if text.len() as u64 > MAX_FILE_BYTES {
        found.push(Diagnostic::error(
            name,
            format!("file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    } else if let Some(root) = yaml::parse(&file, text, &mut found) {
        let mut ck = Checker::default();
        out = ck.mapping(
            &root,
            "",
            &[("groups", |ck, node, path, out: &mut RuleFile| {
                out.groups = seq(ck, node, path)
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut g: RuleGroup =
                            ck.mapping(item, &format!("{path}[{i}]"), GROUP_FIELDS);
                        g.origin = Origin::of(item);
                        g
                    })
                    .collect();
            })],
        );
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for g in &out.groups {
            if g.name.is_empty() {
                ck.push(
                    Diagnostic::error(name, "group name must not be empty")
                        .with_span(g.origin.span),
                );
            } else if let Some(line) = seen.insert(g.name.clone(), g.origin.span.line) {
                ck.push(
                    Diagnostic::error(
                        name,
                        format!("groupname: \"{}\" is repeated in the same file", g.name),
                    )
                    .with_span(g.origin.span)
                    .with_help(format!("the first is at line {line}")),
                );
            }
        }
        found.append(&mut ck.diags);
    }
    found.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    (out, found)
}
