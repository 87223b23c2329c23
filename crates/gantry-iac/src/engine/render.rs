//! Plans as people and programs read them: Terraform's text layout
//! (symbols, "(known after apply)", "(sensitive value)", "# forces
//! replacement", the summary line) and its JSON plan representation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value as J, json};

use super::{Action, Change, InstanceAddr, Key, OutputChange, Plan, PlanMode};
use crate::syntax::Mode;
use crate::value::{PathStep, Value, format_number};

/// The version Gantry reports where Terraform reports its own.
pub const TERRAFORM_VERSION: &str = "1.9.8";

/// The whole plan as text, ending with the summary line.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.drift.is_empty() && plan.mode != PlanMode::Destroy {
        out.push_str("\nNote: Objects have changed outside of Gantry\n\n");
        out.push_str("Gantry detected the following changes made outside of Gantry since the\nlast \"gantry apply\" which may have affected this plan:\n\n");
        for c in &plan.drift {
            render_change(&mut out, c, true);
        }
        if plan.mode == PlanMode::RefreshOnly {
            out.push_str("\nThis is a refresh-only plan, so Gantry will not take any actions to undo\nthese. If you were expecting these changes then you can apply this plan to\nrecord the updated values in the Gantry state without changing any remote\nobjects.\n");
        } else {
            out.push_str("\nUnless you have made equivalent changes to your configuration, or ignored the\nrelevant attributes using ignore_changes, the following plan may include\nactions to undo or respond to these changes.\n");
        }
        out.push_str(
            "\n─────────────────────────────────────────────────────────────────────────────\n",
        );
    }
    let shown: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.importing.is_some() || c.moved_from.is_some())
        .filter(|c| !(c.addr.resource.mode == Mode::Data && c.action == Action::NoOp))
        .collect();
    let output_changes: Vec<(&String, &OutputChange)> = plan
        .outputs
        .iter()
        .filter(|(_, o)| !output_unchanged(o))
        .collect();
    if shown.is_empty() && output_changes.is_empty() {
        if plan.mode == PlanMode::RefreshOnly && !plan.drift.is_empty() {
            out.push_str(
                "\nWould you like to update the Gantry state to reflect these detected changes?\n",
            );
            return out;
        }
        out.push_str("\nNo changes. Your infrastructure matches the configuration.\n\n");
        out.push_str("Gantry has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n");
        return out;
    }
    if !shown.is_empty() {
        let actions: BTreeSet<Action> = shown.iter().map(|c| c.action).collect();
        out.push_str("\nGantry used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n");
        for (a, text) in [
            (Action::Create, "  + create"),
            (Action::Update, "  ~ update in-place"),
            (Action::Delete, "  - destroy"),
            (
                Action::DeleteThenCreate,
                "-/+ destroy and then create replacement",
            ),
            (
                Action::CreateThenDelete,
                "+/- create replacement and then destroy",
            ),
            (Action::Read, " <= read (data resources)"),
        ] {
            if actions.contains(&a) {
                out.push_str(text);
                out.push('\n');
            }
        }
        out.push_str("\nGantry will perform the following actions:\n\n");
        for c in &shown {
            render_change(&mut out, c, false);
        }
        let (add, change, destroy) = plan.counts();
        let imports = shown.iter().filter(|c| c.importing.is_some()).count();
        if imports > 0 {
            let _ = writeln!(
                out,
                "Plan: {imports} to import, {add} to add, {change} to change, {destroy} to destroy."
            );
        } else {
            let _ = writeln!(
                out,
                "Plan: {add} to add, {change} to change, {destroy} to destroy."
            );
        }
    }
    if !output_changes.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        let width = output_changes
            .iter()
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0);
        for (name, o) in output_changes {
            let (sym, text) = match (&o.before, &o.after) {
                (None, Some(a)) => ("+", value_text_sym(a, 4, "+")),
                (Some(b), None) => ("-", format!("{} -> null", value_text_sym(b, 4, "-"))),
                (Some(b), Some(a)) => {
                    ("~", format!("{} -> {}", value_text(b, 4), value_text(a, 4)))
                }
                (None, None) => continue,
            };
            let _ = writeln!(out, "  {sym} {name:<width$} = {text}");
        }
    }
    out
}

/// The summary line alone.
pub fn summary_line(plan: &Plan) -> String {
    let (add, change, destroy) = plan.counts();
    format!("Plan: {add} to add, {change} to change, {destroy} to destroy.")
}

fn output_unchanged(o: &OutputChange) -> bool {
    match (&o.before, &o.after) {
        (Some(a), Some(b)) => {
            a.is_wholly_known()
                && b.is_wholly_known()
                && a.equals(b)
                && a.is_sensitive() == b.is_sensitive()
        }
        (None, None) => true,
        _ => false,
    }
}

fn header(c: &Change, drift: bool) -> String {
    let a = &c.addr;
    if drift {
        return match c.action {
            Action::Delete => format!("  # {a} has been deleted\n"),
            _ => format!("  # {a} has changed\n"),
        };
    }
    if let (Some(key), Action::Delete) = (&c.deposed, c.action) {
        return format!(
            "  # {a} (deposed object {key}) will be destroyed\n  # (left over from a partially-failed replacement of this instance)\n"
        );
    }
    let mut h = match c.action {
        Action::Create => format!("  # {a} will be created\n"),
        Action::Update => format!("  # {a} will be updated in-place\n"),
        Action::Delete => format!("  # {a} will be destroyed\n"),
        Action::Read => format!("  # {a} will be read during apply\n"),
        Action::DeleteThenCreate | Action::CreateThenDelete => match c.reason.as_deref() {
            Some("because of -replace") => format!("  # {a} will be replaced, as requested\n"),
            Some("because it is tainted") => format!("  # {a} is tainted, so must be replaced\n"),
            Some("because of lifecycle.replace_triggered_by") => {
                format!("  # {a} will be replaced due to changes in replace_triggered_by\n")
            }
            _ => format!("  # {a} must be replaced\n"),
        },
        Action::NoOp => match (&c.importing, &c.moved_from) {
            (Some(_), _) => format!("  # {a} will be imported\n"),
            (_, Some(from)) => format!("  # {from} has moved to {a}\n"),
            _ => String::new(),
        },
    };
    if c.action != Action::NoOp {
        if let Some(id) = &c.importing {
            let _ = writeln!(h, "    # (imported from \"{id}\")");
        }
        if let Some(from) = &c.moved_from {
            let _ = writeln!(h, "    # (moved from {from})");
        }
    }
    match (c.action, c.reason.as_deref()) {
        (Action::Delete, Some(r)) => {
            let _ = writeln!(h, "  # ({r})");
        }
        (Action::Read, Some(r)) => {
            let _ = writeln!(h, "  # ({r})");
        }
        _ => {}
    }
    h
}

fn render_change(out: &mut String, c: &Change, drift: bool) {
    out.push_str(&header(c, drift));
    let symbol = if drift {
        match c.action {
            Action::Delete => "-",
            _ => "~",
        }
    } else if c.action == Action::NoOp {
        " "
    } else {
        c.action.symbol()
    };
    let kw = match c.addr.resource.mode {
        Mode::Managed => "resource",
        Mode::Data => "data",
    };
    let _ = writeln!(
        out,
        "{symbol:>3} {kw} \"{}\" \"{}\" {{",
        c.addr.resource.type_name, c.addr.resource.name
    );
    let before = c.before.as_ref();
    let after = c.after.as_ref();
    let lines = attr_lines(before, after, &c.replace_paths, c.action, 6);
    out.push_str(&lines);
    out.push_str("    }\n\n");
}

/// The attribute lines of a resource block, indented by `indent`.
fn attr_lines(
    before: Option<&Value>,
    after: Option<&Value>,
    replace: &[Vec<PathStep>],
    action: Action,
    indent: usize,
) -> String {
    let empty = BTreeMap::new();
    let b = before.and_then(Value::as_map).unwrap_or(&empty);
    let a = after.and_then(Value::as_map).unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut hidden = 0;
    for k in keys {
        let bv = b.get(k).filter(|v| !v.is_null());
        let av = a.get(k).filter(|v| !v.is_null());
        let forces = replace
            .iter()
            .any(|p| p.first() == Some(&PathStep::Attr(k.clone())));
        let suffix = if forces { " # forces replacement" } else { "" };
        let pad = indent + 2;
        let (sym, text) = match (bv, av) {
            (None, None) => continue,
            (None, Some(x)) => ("+", value_text_sym(x, pad, "+")),
            (Some(x), None) => ("-", format!("{} -> null", value_text_sym(x, pad, "-"))),
            (Some(x), Some(y)) => {
                if x.is_wholly_known() && y.is_wholly_known() && x.equals(y) {
                    if k == "id" && action != Action::Delete {
                        (" ", value_text(x, pad))
                    } else {
                        hidden += 1;
                        continue;
                    }
                } else if let Some(nested) = nested_diff(x, y, pad, suffix) {
                    rows.push(("~".to_owned(), k.clone(), nested));
                    continue;
                } else {
                    ("~", change_text(x, y, pad))
                }
            }
        };
        let sym = if action == Action::Delete { "-" } else { sym };
        rows.push((sym.to_owned(), k.clone(), format!("{text}{suffix}")));
    }
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = String::new();
    let pad = " ".repeat(indent);
    for (sym, k, text) in rows {
        let name = if is_ident(&k) {
            k.clone()
        } else {
            format!("{k:?}")
        };
        let _ = writeln!(out, "{pad}{sym} {name:<width$} = {text}");
    }
    if hidden > 0 && action != Action::Create && action != Action::Delete {
        let _ = writeln!(
            out,
            "{pad}  # ({hidden} unchanged attribute{} hidden)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    out
}

/// An element-wise diff of two known maps/objects or two known
/// lists/sets/tuples, opening with `{` or `[` (and `suffix`), items at
/// `base + 2`, the closing bracket at `base`. None for anything else.
fn nested_diff(before: &Value, after: &Value, base: usize, suffix: &str) -> Option<String> {
    if before.is_sensitive() || after.is_sensitive() || !before.is_known() || !after.is_known() {
        return None;
    }
    let pad = " ".repeat(base + 2);
    let mut out = String::new();
    let mut hidden = 0;
    match (
        before.as_map(),
        after.as_map(),
        before.as_seq(),
        after.as_seq(),
    ) {
        (Some(b), Some(a), _, _) => {
            out.push('{');
            out.push_str(suffix);
            out.push('\n');
            let is_map = matches!(after.unmarked(), Value::Map(_));
            let show = |k: &str| if is_map { quote(k) } else { quote_key(k) };
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let width = keys.iter().map(|k| show(k).len()).max().unwrap_or(0);
            for k in keys {
                let key = show(k);
                match (b.get(k), a.get(k)) {
                    (Some(x), Some(y))
                        if x.is_wholly_known() && y.is_wholly_known() && x.equals(y) =>
                    {
                        hidden += 1
                    }
                    (Some(x), Some(y)) => {
                        let text = nested_diff(x, y, base + 4, "")
                            .unwrap_or_else(|| change_text(x, y, base + 4));
                        let _ = writeln!(out, "{pad}~ {key:<width$} = {text}");
                    }
                    (Some(x), None) => {
                        let _ = writeln!(
                            out,
                            "{pad}- {key:<width$} = {} -> null",
                            value_text_sym(x, base + 4, "-")
                        );
                    }
                    (None, Some(y)) => {
                        let _ = writeln!(
                            out,
                            "{pad}+ {key:<width$} = {}",
                            value_text_sym(y, base + 4, "+")
                        );
                    }
                    (None, None) => {}
                }
            }
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "{pad}  # ({hidden} unchanged element{} hidden)",
                    if hidden == 1 { "" } else { "s" }
                );
            }
            let _ = write!(out, "{}}}", " ".repeat(base));
        }
        (_, _, Some(b), Some(a)) => {
            out.push('[');
            out.push_str(suffix);
            out.push('\n');
            for x in b {
                if a.iter()
                    .any(|y| x.is_wholly_known() && y.is_wholly_known() && x.equals(y))
                {
                    hidden += 1;
                } else {
                    let _ = writeln!(out, "{pad}- {},", value_text_sym(x, base + 4, "-"));
                }
            }
            for y in a {
                if !b
                    .iter()
                    .any(|x| x.is_wholly_known() && y.is_wholly_known() && x.equals(y))
                {
                    let _ = writeln!(out, "{pad}+ {},", value_text_sym(y, base + 4, "+"));
                }
            }
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "{pad}  # ({hidden} unchanged element{} hidden)",
                    if hidden == 1 { "" } else { "s" }
                );
            }
            let _ = write!(out, "{}]", " ".repeat(base));
        }
        _ => return None,
    }
    Some(out)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A value as the plan shows it. Collections span several lines: their
/// items start at column `base + 2` with `sym` (`+`, `-` or ` `) and the
/// closing bracket is at column `base`.
pub fn value_text(v: &Value, base: usize) -> String {
    value_text_sym(v, base, " ")
}

/// `before -> after`; a sensitive value changed to another one shows only
/// `(sensitive value)`, as Terraform does.
fn change_text(x: &Value, y: &Value, base: usize) -> String {
    if matches!(x, Value::Sensitive(_)) && matches!(y, Value::Sensitive(_)) {
        return "(sensitive value)".into();
    }
    format!("{} -> {}", value_text(x, base), value_text(y, base))
}

/// `"+ "` for a symbol, nothing for none.
fn prefix(sym: &str) -> String {
    if sym.is_empty() {
        String::new()
    } else {
        format!("{sym} ")
    }
}

/// A value with no change symbols (outputs, state).
pub fn plain_value_text(v: &Value, base: usize) -> String {
    value_text_sym(v, base, "")
}

fn value_text_sym(v: &Value, base: usize, sym: &str) -> String {
    match v {
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) if s.contains('\n') => {
            let pad = " ".repeat(base + 4);
            let mut t = String::from("<<-EOT\n");
            for line in s.trim_end_matches('\n').split('\n') {
                let _ = writeln!(t, "{pad}{line}");
            }
            let _ = write!(t, "{}EOT", " ".repeat(base + 2));
            t
        }
        Value::String(s) => quote(s),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            if xs.is_empty() {
                return "[]".into();
            }
            let pad = " ".repeat(base + 2);
            let mut t = String::from("[\n");
            for x in xs {
                let _ = writeln!(
                    t,
                    "{pad}{}{},",
                    prefix(sym),
                    value_text_sym(x, base + 2 + prefix(sym).len(), sym)
                );
            }
            let _ = write!(t, "{}]", " ".repeat(base));
            t
        }
        Value::Map(m) | Value::Object(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let is_map = matches!(v, Value::Map(_));
            let show = |k: &str| if is_map { quote(k) } else { quote_key(k) };
            let pad = " ".repeat(base + 2);
            let width = m.keys().map(|k| show(k).len()).max().unwrap_or(0);
            let mut t = String::from("{\n");
            for (k, x) in m {
                let _ = writeln!(
                    t,
                    "{pad}{}{:<width$} = {}",
                    prefix(sym),
                    show(k),
                    value_text_sym(x, base + 2 + prefix(sym).len(), sym)
                );
            }
            let _ = write!(t, "{}}}", " ".repeat(base));
            t
        }
    }
}

fn quote_key(k: &str) -> String {
    if is_ident(k) { k.to_owned() } else { quote(k) }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

// ---------------------------------------------------------------------
// JSON

/// `after_unknown`: the value's shape with `true` where unknown.
fn unknown_map(v: &Value) -> J {
    match v {
        Value::Unknown(_) => J::Bool(true),
        Value::Sensitive(x) => unknown_map(x),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            J::Array(xs.iter().map(unknown_map).collect())
        }
        Value::Map(m) | Value::Object(m) => J::Object(
            m.iter()
                .filter_map(|(k, x)| {
                    let u = unknown_map(x);
                    (u != J::Bool(false)).then(|| (k.clone(), u))
                })
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

/// `before_sensitive`/`after_sensitive`: `true` where sensitive.
pub fn sensitive_map(v: &Value) -> J {
    match v {
        Value::Sensitive(_) => J::Bool(true),
        Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
            J::Array(xs.iter().map(sensitive_map).collect())
        }
        Value::Map(m) | Value::Object(m) => J::Object(
            m.iter()
                .filter_map(|(k, x)| {
                    let s = sensitive_map(x);
                    (s != J::Bool(false) && s != json!({}) && s != json!([]))
                        .then(|| (k.clone(), s))
                })
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

fn opt_json(v: Option<&Value>) -> J {
    v.map_or(J::Null, Value::to_json)
}

fn instance_json(addr: &InstanceAddr) -> serde_json::Map<String, J> {
    let mut m = serde_json::Map::new();
    m.insert("address".into(), J::String(addr.to_string()));
    if !addr.resource.module.is_empty() {
        m.insert(
            "module_address".into(),
            J::String(super::addr::module_path_string(&addr.resource.module)),
        );
    }
    m.insert(
        "mode".into(),
        J::String(match addr.resource.mode {
            Mode::Managed => "managed".into(),
            Mode::Data => "data".into(),
        }),
    );
    m.insert("type".into(), J::String(addr.resource.type_name.clone()));
    m.insert("name".into(), J::String(addr.resource.name.clone()));
    match &addr.key {
        Key::None => {}
        Key::Int(i) => {
            m.insert("index".into(), json!(i));
        }
        Key::Str(s) => {
            m.insert("index".into(), json!(s));
        }
    }
    m
}

fn provider_name(p: &str) -> String {
    p.split("provider[\"")
        .nth(1)
        .and_then(|r| r.split("\"]").next())
        .unwrap_or(p)
        .to_owned()
}

fn change_json(c: &Change) -> J {
    let mut m = instance_json(&c.addr);
    m.insert(
        "provider_name".into(),
        J::String(provider_name(&c.provider)),
    );
    let mut ch = serde_json::Map::new();
    ch.insert("actions".into(), json!(c.action.json_actions()));
    ch.insert("before".into(), opt_json(c.before.as_ref()));
    ch.insert("after".into(), opt_json(c.after.as_ref()));
    ch.insert(
        "after_unknown".into(),
        c.after.as_ref().map_or(J::Bool(false), unknown_map),
    );
    ch.insert(
        "before_sensitive".into(),
        c.before.as_ref().map_or(J::Bool(false), sensitive_map),
    );
    ch.insert(
        "after_sensitive".into(),
        c.after.as_ref().map_or(J::Bool(false), sensitive_map),
    );
    if !c.replace_paths.is_empty() {
        ch.insert(
            "replace_paths".into(),
            J::Array(c.replace_paths.iter().map(|p| path_json(p)).collect()),
        );
    }
    if let Some(id) = &c.importing {
        ch.insert("importing".into(), json!({ "id": id }));
    }
    m.insert("change".into(), J::Object(ch));
    if let Some(key) = &c.deposed {
        m.insert("deposed".into(), J::String(key.clone()));
    }
    if let Some(from) = &c.moved_from {
        m.insert("previous_address".into(), J::String(from.to_string()));
    }
    let reason = match (c.action, c.reason.as_deref()) {
        (_, Some("because of -replace")) => Some("replace_by_request"),
        (_, Some("because it is tainted")) => Some("replace_because_tainted"),
        (_, Some("because of lifecycle.replace_triggered_by")) => Some("replace_by_triggers"),
        (Action::DeleteThenCreate | Action::CreateThenDelete, _) => {
            Some("replace_because_cannot_update")
        }
        (Action::Delete, Some(r)) if r.contains("not in configuration") => {
            Some("delete_because_no_resource_config")
        }
        (Action::Delete, Some(r)) if r.contains("out of range") => {
            Some("delete_because_count_index")
        }
        (Action::Delete, Some(r)) if r.contains("for_each") => Some("delete_because_each_key"),
        (Action::Read, Some(r)) if r.contains("changes pending") => {
            Some("read_because_dependency_pending")
        }
        (Action::Read, _) => Some("read_because_config_unknown"),
        _ => None,
    };
    if let Some(r) = reason {
        m.insert("action_reason".into(), J::String(r.into()));
    }
    J::Object(m)
}

fn path_json(p: &[PathStep]) -> J {
    J::Array(
        p.iter()
            .map(|s| match s {
                PathStep::Attr(a) | PathStep::Key(a) => J::String(a.clone()),
                PathStep::Index(i) => json!(i),
            })
            .collect(),
    )
}

/// Terraform's JSON plan representation (`show -json PLANFILE`).
pub fn plan_json(plan: &Plan) -> J {
    let variables: serde_json::Map<String, J> = plan
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), json!({ "value": v.to_json() })))
        .collect();
    let resource_changes: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| !(c.addr.resource.mode == Mode::Data && c.action == Action::NoOp))
        .map(change_json)
        .collect();
    let output_changes: serde_json::Map<String, J> = plan
        .outputs
        .iter()
        .map(|(k, o)| {
            let actions: &[&str] = match (&o.before, &o.after) {
                (None, Some(_)) => &["create"],
                (Some(_), None) => &["delete"],
                _ if output_unchanged(o) => &["no-op"],
                _ => &["update"],
            };
            let redact = |v: Option<&Value>| if o.sensitive { J::Null } else { opt_json(v) };
            (
                k.clone(),
                json!({
                    "actions": actions,
                    "before": redact(o.before.as_ref()),
                    "after": redact(o.after.as_ref()),
                    "after_unknown": o.after.as_ref().map_or(J::Bool(false), unknown_map),
                    "before_sensitive": o.sensitive,
                    "after_sensitive": o.sensitive,
                }),
            )
        })
        .collect();
    let planned: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| c.deposed.is_none())
        .filter_map(|c| {
            let after = c.after.as_ref()?;
            let mut m = instance_json(&c.addr);
            m.insert(
                "provider_name".into(),
                J::String(provider_name(&c.provider)),
            );
            m.insert("schema_version".into(), json!(0));
            m.insert("values".into(), after.to_json());
            m.insert("sensitive_values".into(), sensitive_map(after));
            Some(J::Object(m))
        })
        .collect();
    json!({
        "format_version": "1.2",
        "terraform_version": TERRAFORM_VERSION,
        "variables": variables,
        "planned_values": { "root_module": { "resources": planned } },
        "resource_changes": resource_changes,
        "output_changes": output_changes,
        "resource_drift": plan.drift.iter().map(change_json).collect::<Vec<_>>(),
        "errored": false,
    })
}

/// `plan -json`: Terraform's machine-readable UI, one JSON object a line.
pub fn plan_json_lines(plan: &Plan) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut out = String::new();
    let mut line = |message: String, kind: &str, extra: J| {
        let mut m = serde_json::Map::new();
        m.insert("@level".into(), J::String("info".into()));
        m.insert("@message".into(), J::String(message));
        m.insert("@module".into(), J::String("gantry.ui".into()));
        m.insert("@timestamp".into(), J::String(now.clone()));
        m.insert("type".into(), J::String(kind.into()));
        if let J::Object(e) = extra {
            m.extend(e);
        }
        out.push_str(&J::Object(m).to_string());
        out.push('\n');
    };
    line(
        format!("Gantry {}", env!("CARGO_PKG_VERSION")),
        "version",
        json!({ "terraform": TERRAFORM_VERSION, "ui": "1.2" }),
    );
    for c in &plan.drift {
        line(
            format!(
                "{}: Drift detected ({})",
                c.addr,
                if c.action == Action::Delete {
                    "delete"
                } else {
                    "update"
                }
            ),
            "resource_drift",
            json!({ "change": { "resource": resource_json(&c.addr), "action": if c.action == Action::Delete { "delete" } else { "update" } } }),
        );
    }
    for c in &plan.changes {
        if c.action == Action::NoOp {
            continue;
        }
        let action = match c.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Read => "read",
            Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
            Action::NoOp => "noop",
        };
        let verb = match c.action {
            Action::Create => "Plan to create",
            Action::Update => "Plan to update",
            Action::Delete => "Plan to delete",
            Action::Read => "Plan to read",
            _ => "Plan to replace",
        };
        let mut change = json!({ "resource": resource_json(&c.addr), "action": action });
        let message = match &c.deposed {
            Some(key) => {
                change["deposed_key"] = J::String(key.clone());
                format!("{} (deposed object {key}): {verb}", c.addr)
            }
            None => format!("{}: {verb}", c.addr),
        };
        line(message, "planned_change", json!({ "change": change }));
    }
    let (add, change, destroy) = plan.counts();
    let op = match plan.mode {
        PlanMode::Destroy => "destroy",
        _ => "plan",
    };
    line(
        summary_line(plan),
        "change_summary",
        json!({ "changes": { "add": add, "change": change, "remove": destroy, "import": plan.changes.iter().filter(|c| c.importing.is_some()).count(), "operation": op } }),
    );
    let outputs: serde_json::Map<String, J> = plan
        .outputs
        .iter()
        .map(|(k, o)| {
            let action = match (&o.before, &o.after) {
                (None, Some(_)) => "create",
                (Some(_), None) => "delete",
                _ if output_unchanged(o) => "noop",
                _ => "update",
            };
            (
                k.clone(),
                json!({ "sensitive": o.sensitive, "action": action }),
            )
        })
        .collect();
    if !outputs.is_empty() {
        line(
            "Outputs: ".to_owned() + &outputs.len().to_string(),
            "outputs",
            json!({ "outputs": outputs }),
        );
    }
    out
}

fn resource_json(addr: &InstanceAddr) -> J {
    json!({
        "addr": addr.to_string(),
        "module": super::addr::module_path_string(&addr.resource.module),
        "resource": format!("{}{}", addr.resource.local(), addr.key),
        "implied_provider": crate::provider::implied_provider(&addr.resource.type_name),
        "resource_type": addr.resource.type_name,
        "resource_name": addr.resource.name,
        "resource_key": addr.key.to_value().to_json(),
    })
}

/// Root outputs as `output` prints them (`name = value`), sensitive ones
/// as `<sensitive>`.
pub fn outputs_text(outputs: &BTreeMap<String, (Value, bool)>) -> String {
    let mut out = String::new();
    for (k, (v, sensitive)) in outputs {
        if *sensitive || v.is_sensitive() {
            let _ = writeln!(out, "{k} = <sensitive>");
        } else {
            let _ = writeln!(out, "{k} = {}", plain_value_text(v, 0));
        }
    }
    out
}

/// One output as `output -raw`/`output NAME` prints it.
pub fn output_value_text(v: &Value) -> String {
    plain_value_text(v, 0)
}

/// `output -json`.
pub fn outputs_json(outputs: &BTreeMap<String, (Value, bool)>) -> J {
    J::Object(
        outputs
            .iter()
            .map(|(k, (v, s))| {
                (
                    k.clone(),
                    json!({
                        "sensitive": s,
                        "type": crate::state::cty_type_json(&v.type_of()),
                        "value": v.to_json(),
                    }),
                )
            })
            .collect(),
    )
}
