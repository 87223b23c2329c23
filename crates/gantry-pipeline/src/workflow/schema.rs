//! Reads a workflow's YAML tree into the typed model, reporting unknown
//! keys, wrong types and invalid values through gantry-config's [`Checker`].

use gantry_config::Diagnostic;
use gantry_config::check::{Checker, Field, error_at, quoted_list};
use gantry_config::suggest::did_you_mean;
use gantry_config::yaml::{Entry, Kind, Node, ScalarType, join, place};
use serde_json::Value;

use super::events::{EVENTS, check_cron};
use super::matrix::{Combination, Matrix, expand_matrix};
use super::model::*;

/// Shells GitHub knows by name; anything else must contain `{0}`.
const SHELLS: &[&str] = &["bash", "sh", "pwsh", "python", "powershell", "cmd"];

/// Permission scopes of the `GITHUB_TOKEN`.
const SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
];

/// Reads the whole file. The result means something only when no error was
/// pushed.
pub(crate) fn workflow(ck: &mut Checker, root: &Node) -> Workflow {
    if root.is_absent() {
        ck.push(Diagnostic::error(
            &*root.file,
            "empty workflow: expected a mapping with `on` and `jobs`",
        ));
        return Workflow::default();
    }
    let mut wf: Workflow = ck.mapping(root, "", TOP);
    wf.file = root.file.to_string();
    if let Kind::Map(entries) = &root.kind {
        for key in ["on", "jobs"] {
            if !entries.iter().any(|e| e.key == key) {
                ck.push(error_at(
                    root,
                    format!("missing required key `{key}` in the top level"),
                ));
            }
        }
    }
    wf
}

const TOP: &[Field<Workflow>] = &[
    ("name", |ck, n, p, out| out.name = string(ck, n, p)),
    ("run-name", |ck, n, p, out| out.run_name = string(ck, n, p)),
    ("on", |ck, n, p, out| out.on = triggers(ck, n, p)),
    ("env", |ck, n, p, out| out.env = pairs(ck, n, p)),
    ("defaults", |ck, n, p, out| {
        out.defaults = defaults(ck, n, p)
    }),
    ("concurrency", |ck, n, p, out| {
        out.concurrency = concurrency(ck, n, p)
    }),
    ("permissions", |ck, n, p, out| {
        out.permissions = permissions(ck, n, p)
    }),
    ("jobs", |ck, n, p, out| out.jobs = jobs(ck, n, p)),
];

// ---------------------------------------------------------------- scalars

fn has_expr(text: &str) -> bool {
    text.contains("${{")
}

fn text_of(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar { text, ty } if *ty != ScalarType::Null => Some(text),
        _ => None,
    }
}

fn string(ck: &mut Checker, node: &Node, path: &str) -> Option<Spanned<String>> {
    ck.string(node, path).map(|s| Spanned::new(s, node.span))
}

/// A non-empty string.
fn name(ck: &mut Checker, node: &Node, path: &str) -> Option<Spanned<String>> {
    ck.value(node, path, "a non-empty string", |t| {
        (!t.trim().is_empty()).then(|| t.to_string()).ok_or(None)
    })
    .map(|s| Spanned::new(s, node.span))
}

fn boolean(ck: &mut Checker, node: &Node, path: &str) -> Option<bool> {
    if let Kind::Scalar {
        ty: ScalarType::Bool,
        text,
    } = &node.kind
    {
        // YAML 1.1 spellings (`yes`, `on`) are strings to GitHub.
        match text.as_str() {
            "true" | "True" | "TRUE" => return Some(true),
            "false" | "False" | "FALSE" => return Some(false),
            other => {
                ck.push(
                    error_at(
                        node,
                        format!("expected `true` or `false` for `{path}`, found `{other}`"),
                    )
                    .with_help("workflows are YAML 1.2: `yes`, `no`, `on` and `off` are strings"),
                );
                return None;
            }
        }
    }
    let found = node.describe();
    ck.push(error_at(
        node,
        format!("expected `true` or `false` for `{path}`, found {found}"),
    ));
    None
}

fn bool_or_expr(ck: &mut Checker, node: &Node, path: &str) -> Option<BoolOrExpr> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Str,
            text,
        } if has_expr(text) => Some(BoolOrExpr::Expr(Spanned::new(text.clone(), node.span))),
        Kind::Scalar {
            ty: ScalarType::Bool,
            ..
        } => boolean(ck, node, path).map(BoolOrExpr::Bool),
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!(
                    "expected a boolean or a `${{{{ }}}}` expression for `{path}`, found {found}"
                ),
            ));
            None
        }
    }
}

fn number(node: &Node) -> Option<f64> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Int(n),
            ..
        } => Some(*n as f64),
        Kind::Scalar {
            ty: ScalarType::Float,
            text,
        } => text.parse().ok(),
        _ => None,
    }
}

fn number_or_expr(ck: &mut Checker, node: &Node, path: &str) -> Option<NumberOrExpr> {
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Str,
            text,
        } if has_expr(text) => Some(NumberOrExpr::Expr(Spanned::new(text.clone(), node.span))),
        _ => {
            match number(node) {
                Some(n) => Some(NumberOrExpr::Number(n)),
                None => {
                    let found = node.describe();
                    ck.push(error_at(
                    node,
                    format!("expected a number or a `${{{{ }}}}` expression for `{path}`, found {found}"),
                ));
                    None
                }
            }
        }
    }
}

/// `timeout-minutes`: a positive number or an expression.
fn timeout(ck: &mut Checker, node: &Node, path: &str) -> Option<NumberOrExpr> {
    let value = number_or_expr(ck, node, path)?;
    if let NumberOrExpr::Number(n) = value
        && n <= 0.0
    {
        ck.push(error_at(
            node,
            format!("invalid `{path}`: expected a number of minutes greater than 0"),
        ));
    }
    Some(value)
}

/// A string, or a list of strings.
fn strings(ck: &mut Checker, node: &Node, path: &str) -> Vec<Spanned<String>> {
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| string(ck, item, &format!("{path}[{i}]")))
            .collect(),
        _ => string(ck, node, path).into_iter().collect(),
    }
}

fn plain_strings(ck: &mut Checker, node: &Node, path: &str) -> Vec<String> {
    strings(ck, node, path)
        .into_iter()
        .map(|s| s.value)
        .collect()
}

/// The mapping entries of `node`, or an error.
fn entries<'a>(ck: &mut Checker, node: &'a Node, path: &str) -> &'a [Entry] {
    match &node.kind {
        Kind::Map(entries) => entries,
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected a mapping for {}, found {found}", place(path)),
            ));
            &[]
        }
    }
}

/// A mapping of names to scalar values (`env`, `outputs`, `with`); a null
/// value reads as the empty string.
fn pairs(ck: &mut Checker, node: &Node, path: &str) -> Pairs {
    let mut out = Vec::new();
    for entry in entries(ck, node, path) {
        let value = &entry.value;
        let text = match &value.kind {
            Kind::Scalar {
                ty: ScalarType::Null,
                ..
            } => Some(String::new()),
            _ => ck.string(value, &join(path, &entry.key)),
        };
        if let Some(text) = text {
            out.push((entry.key.clone(), Spanned::new(text, value.span)));
        }
    }
    out
}

/// Any YAML value as JSON.
pub(crate) fn json(node: &Node) -> Value {
    match &node.kind {
        Kind::Scalar { text, ty } => match ty {
            ScalarType::Null => Value::Null,
            // Workflows are YAML 1.2 (GitHub reads `on:` as a string): only
            // true/false are booleans; `yes`, `on`, `y` stay strings.
            ScalarType::Bool => match text.as_str() {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => Value::String(text.clone()),
            },
            ScalarType::Int(n) => i64::try_from(*n)
                .map(Value::from)
                .or_else(|_| u64::try_from(*n).map(Value::from))
                .unwrap_or_else(|_| Value::String(text.clone())),
            ScalarType::Float => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(text.clone()), Value::Number),
            ScalarType::Str => Value::String(text.clone()),
        },
        Kind::Seq(items) => Value::Array(items.iter().map(json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), json(&e.value)))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------- on

fn triggers(ck: &mut Checker, node: &Node, path: &str) -> Triggers {
    let mut out = Triggers {
        span: Some(node.span),
        ..Triggers::default()
    };
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Str,
            text,
        } => event(ck, text, node, None, path, &mut out),
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if let Some(text) = ck.string(item, &item_path) {
                    event(ck, &text, item, None, path, &mut out);
                }
            }
        }
        Kind::Map(entries) => {
            for entry in entries {
                let key = Node {
                    kind: Kind::Scalar {
                        text: entry.key.clone(),
                        ty: ScalarType::Str,
                    },
                    file: entry.value.file.clone(),
                    span: entry.key_span,
                };
                event(ck, &entry.key, &key, Some(&entry.value), path, &mut out);
            }
        }
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!("expected an event name, a list or a mapping of events for `{path}`, found {found}"),
            ));
        }
    }
    out
}

/// One event: `at` is its name's node, `config` its value in the mapping
/// form.
fn event(
    ck: &mut Checker,
    name: &str,
    at: &Node,
    config: Option<&Node>,
    path: &str,
    out: &mut Triggers,
) {
    if !EVENTS.contains(&name) {
        let help = match did_you_mean(name, EVENTS) {
            Some(event) => format!("did you mean `{event}`?"),
            None => "see GitHub's list of events that trigger workflows".to_string(),
        };
        ck.push(error_at(at, format!("unknown event `{name}` in `{path}`")).with_help(help));
        return;
    }
    let path = join(path, name);
    let config = config.filter(|c| {
        !matches!(
            &c.kind,
            Kind::Scalar {
                ty: ScalarType::Null,
                ..
            }
        )
    });
    match name {
        "push" | "pull_request" | "pull_request_target" => {
            let filter = match config {
                Some(c) if name == "push" => ref_filter(ck, c, &path, PUSH_FILTERS),
                Some(c) => ref_filter(ck, c, &path, PR_FILTERS),
                None => RefFilter::default(),
            };
            match name {
                "push" => out.push = Some(filter),
                "pull_request" => out.pull_request = Some(filter),
                _ => out.pull_request_target = Some(filter),
            }
        }
        "schedule" => match config {
            Some(c) => out.schedule = schedule(ck, c, &path),
            None => ck.push(
                error_at(at, "`schedule` needs a list of `cron` entries")
                    .with_help("write `schedule:` followed by `- cron: '0 3 * * *'`"),
            ),
        },
        "workflow_dispatch" => {
            out.workflow_dispatch = Some(match config {
                Some(c) => ck.mapping(c, &path, DISPATCH),
                None => WorkflowDispatch::default(),
            });
        }
        "workflow_call" => {
            out.workflow_call = Some(match config {
                Some(c) => ck.mapping(c, &path, CALL),
                None => WorkflowCall::default(),
            });
        }
        _ => {
            let mut other = OtherEvent {
                name: name.to_string(),
                span: at.span,
                types: Vec::new(),
            };
            if let Some(c) = config {
                let fields = if name == "workflow_run" {
                    WORKFLOW_RUN
                } else {
                    TYPES_ONLY
                };
                other.types = ck.mapping::<RefFilter>(c, &path, fields).types;
            }
            out.other.push(other);
        }
    }
}

const PUSH_FILTERS: &[Field<RefFilter>] = &[
    ("branches", |ck, n, p, o| {
        o.branches = plain_strings(ck, n, p)
    }),
    ("branches-ignore", |ck, n, p, o| {
        o.branches_ignore = plain_strings(ck, n, p)
    }),
    ("tags", |ck, n, p, o| o.tags = plain_strings(ck, n, p)),
    ("tags-ignore", |ck, n, p, o| {
        o.tags_ignore = plain_strings(ck, n, p)
    }),
    ("paths", |ck, n, p, o| o.paths = plain_strings(ck, n, p)),
    ("paths-ignore", |ck, n, p, o| {
        o.paths_ignore = plain_strings(ck, n, p)
    }),
];

const PR_FILTERS: &[Field<RefFilter>] = &[
    ("branches", |ck, n, p, o| {
        o.branches = plain_strings(ck, n, p)
    }),
    ("branches-ignore", |ck, n, p, o| {
        o.branches_ignore = plain_strings(ck, n, p)
    }),
    ("paths", |ck, n, p, o| o.paths = plain_strings(ck, n, p)),
    ("paths-ignore", |ck, n, p, o| {
        o.paths_ignore = plain_strings(ck, n, p)
    }),
    ("types", |ck, n, p, o| o.types = plain_strings(ck, n, p)),
];

const TYPES_ONLY: &[Field<RefFilter>] =
    &[("types", |ck, n, p, o| o.types = plain_strings(ck, n, p))];

const WORKFLOW_RUN: &[Field<RefFilter>] = &[
    ("types", |ck, n, p, o| o.types = plain_strings(ck, n, p)),
    ("workflows", |ck, n, p, _| {
        strings(ck, n, p);
    }),
    ("branches", |ck, n, p, o| {
        o.branches = plain_strings(ck, n, p)
    }),
    ("branches-ignore", |ck, n, p, o| {
        o.branches_ignore = plain_strings(ck, n, p)
    }),
];

fn ref_filter(ck: &mut Checker, node: &Node, path: &str, fields: &[Field<RefFilter>]) -> RefFilter {
    let filter = ck.mapping(node, path, fields);
    if let Kind::Map(entries) = &node.kind {
        for (a, b) in [
            ("branches", "branches-ignore"),
            ("tags", "tags-ignore"),
            ("paths", "paths-ignore"),
        ] {
            if entries.iter().any(|e| e.key == a)
                && let Some(second) = entries.iter().find(|e| e.key == b)
            {
                ck.push(
                    Diagnostic::error(
                        &*node.file,
                        format!("`{a}` and `{b}` cannot both be set in `{path}`"),
                    )
                    .with_span(second.key_span)
                    .with_help(format!("use `{a}` with `!pattern` entries to exclude")),
                );
            }
        }
    }
    filter
}

fn schedule(ck: &mut Checker, node: &Node, path: &str) -> Vec<Spanned<String>> {
    let Kind::Seq(items) = &node.kind else {
        let found = node.describe();
        ck.push(error_at(
            node,
            format!("expected a list of `cron` entries for `{path}`, found {found}"),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let cron: Option<Spanned<String>> = ck.mapping(item, &item_path, CRON);
        let has_cron = matches!(&item.kind, Kind::Map(e) if e.iter().any(|e| e.key == "cron"));
        if matches!(item.kind, Kind::Map(_)) && !has_cron {
            ck.push(error_at(
                item,
                format!("missing required key `cron` in `{item_path}`"),
            ));
        }
        out.extend(cron);
    }
    out
}

const CRON: &[Field<Option<Spanned<String>>>] = &[("cron", |ck, n, p, out| {
    *out = string(ck, n, p);
    if let Some(cron) = out
        && let Err(why) = check_cron(&cron.value)
    {
        ck.push(
            error_at(n, format!("invalid cron expression `{}`: {why}", cron.value))
                .with_help("write five fields: minute hour day-of-month month day-of-week, like `30 5 * * 1-5`"),
        );
    }
})];

const DISPATCH: &[Field<WorkflowDispatch>] = &[("inputs", |ck, n, p, out| {
    out.inputs = inputs(ck, n, p, DISPATCH_TYPES);
})];

const DISPATCH_TYPES: &[&str] = &["string", "boolean", "choice", "number", "environment"];
const CALL_TYPES: &[&str] = &["string", "boolean", "number"];

const CALL: &[Field<WorkflowCall>] = &[
    ("inputs", |ck, n, p, out| {
        out.inputs = inputs(ck, n, p, CALL_TYPES)
    }),
    ("outputs", |ck, n, p, out| {
        for entry in entries(ck, n, p) {
            let path = join(p, &entry.key);
            let output: CallOutput = ck.mapping(&entry.value, &path, CALL_OUTPUT);
            if output.value.is_none() && matches!(entry.value.kind, Kind::Map(_)) {
                ck.push(error_at(
                    &entry.value,
                    format!("missing required key `value` in `{path}`"),
                ));
            }
            out.outputs.push((entry.key.clone(), output));
        }
    }),
    ("secrets", |ck, n, p, out| {
        for entry in entries(ck, n, p) {
            let path = join(p, &entry.key);
            let secret = if entry.value.is_absent() {
                CallSecret::default()
            } else {
                ck.mapping(&entry.value, &path, CALL_SECRET)
            };
            out.secrets.push((entry.key.clone(), secret));
        }
    }),
];

const CALL_OUTPUT: &[Field<CallOutput>] = &[
    ("description", |ck, n, p, o| o.description = ck.string(n, p)),
    ("value", |ck, n, p, o| o.value = string(ck, n, p)),
];

const CALL_SECRET: &[Field<CallSecret>] = &[
    ("description", |ck, n, p, o| o.description = ck.string(n, p)),
    ("required", |ck, n, p, o| {
        o.required = boolean(ck, n, p).unwrap_or(false)
    }),
];

const INPUT: &[Field<Input>] = &[
    ("description", |ck, n, p, o| o.description = ck.string(n, p)),
    ("required", |ck, n, p, o| {
        o.required = boolean(ck, n, p).unwrap_or(false)
    }),
    ("default", |ck, n, p, o| {
        if matches!(n.kind, Kind::Scalar { .. }) {
            o.default = Some(json(n));
        } else {
            let found = n.describe();
            ck.push(error_at(
                n,
                format!("expected a string, number or boolean for `{p}`, found {found}"),
            ));
        }
    }),
    ("type", |_, _, _, _| {}),
    ("options", |ck, n, p, o| o.options = plain_strings(ck, n, p)),
];

fn inputs(ck: &mut Checker, node: &Node, path: &str, types: &[&str]) -> Vec<(String, Input)> {
    let mut out = Vec::new();
    for entry in entries(ck, node, path) {
        let path = join(path, &entry.key);
        let value = &entry.value;
        let mut input: Input = if value.is_absent() {
            Input::default()
        } else {
            ck.mapping(value, &path, INPUT)
        };
        input.span = entry.key_span;
        let fields = match &value.kind {
            Kind::Map(fields) => fields.as_slice(),
            _ => &[],
        };
        let ty_node = fields.iter().find(|e| e.key == "type").map(|e| &e.value);
        match ty_node {
            Some(n) => {
                let ty_path = join(&path, "type");
                let expected = format!("one of {}", quoted_list(types));
                input.ty = ck
                    .value(n, &ty_path, &expected, |t| {
                        input_type(t, types).ok_or_else(|| {
                            did_you_mean(t, types).map(|s| format!("did you mean `{s}`?"))
                        })
                    })
                    .unwrap_or_default();
            }
            None if types == CALL_TYPES && matches!(value.kind, Kind::Map(_)) => {
                ck.push(error_at(
                    value,
                    format!("missing required key `type` in `{path}`"),
                ));
            }
            None => {}
        }
        if input.ty == InputType::Choice && input.options.is_empty() {
            ck.push(
                Diagnostic::error(
                    &*value.file,
                    format!("input `{}` of type `choice` has no `options`", entry.key),
                )
                .with_span(entry.key_span),
            );
        }
        if input.ty == InputType::Choice
            && let Some(Value::String(default)) = &input.default
            && !input.options.contains(default)
            && let Some(at) = fields.iter().find(|e| e.key == "default")
        {
            ck.push(
                error_at(
                    &at.value,
                    format!(
                        "default `{default}` of input `{}` is not one of its options",
                        entry.key
                    ),
                )
                .with_help(format!("expected one of {}", {
                    let options: Vec<&str> = input.options.iter().map(String::as_str).collect();
                    quoted_list(&options)
                })),
            );
        }
        out.push((entry.key.clone(), input));
    }
    out
}

fn input_type(text: &str, allowed: &[&str]) -> Option<InputType> {
    if !allowed.contains(&text) {
        return None;
    }
    Some(match text {
        "boolean" => InputType::Boolean,
        "choice" => InputType::Choice,
        "number" => InputType::Number,
        "environment" => InputType::Environment,
        _ => InputType::String,
    })
}

// ---------------------------------------------------------------- shared sections

fn defaults(ck: &mut Checker, node: &Node, path: &str) -> Defaults {
    ck.mapping(node, path, DEFAULTS)
}

const DEFAULTS: &[Field<Defaults>] = &[("run", |ck, n, p, o| {
    o.run = ck.mapping(n, p, RUN_DEFAULTS);
})];

const RUN_DEFAULTS: &[Field<RunDefaults>] = &[
    ("shell", |ck, n, p, o| o.shell = shell(ck, n, p)),
    ("working-directory", |ck, n, p, o| {
        o.working_directory = name(ck, n, p)
    }),
];

fn shell(ck: &mut Checker, node: &Node, path: &str) -> Option<Spanned<String>> {
    let value = string(ck, node, path)?;
    let text = value.value.trim();
    if !(SHELLS.contains(&text) || text.contains("{0}") || has_expr(text)) {
        let help = match did_you_mean(text, SHELLS) {
            Some(shell) => format!("did you mean `{shell}`?"),
            None => "a custom shell is a command with `{0}` for the script file, like `perl {0}`"
                .to_string(),
        };
        ck.push(
            error_at(
                node,
                format!(
                    "invalid `{path}`: expected one of {} or a command containing `{{0}}`",
                    quoted_list(SHELLS)
                ),
            )
            .with_help(help),
        );
    }
    Some(value)
}

fn concurrency(ck: &mut Checker, node: &Node, path: &str) -> Option<Concurrency> {
    if let Kind::Map(entries) = &node.kind {
        let out: PartialConcurrency = ck.mapping(node, path, CONCURRENCY);
        if !entries.iter().any(|e| e.key == "group") {
            ck.push(error_at(
                node,
                format!("missing required key `group` in `{path}`"),
            ));
        }
        return Some(Concurrency {
            group: out.group?,
            cancel_in_progress: out.cancel,
        });
    }
    name(ck, node, path).map(|group| Concurrency {
        group,
        cancel_in_progress: None,
    })
}

#[derive(Default)]
struct PartialConcurrency {
    group: Option<Spanned<String>>,
    cancel: Option<BoolOrExpr>,
}

const CONCURRENCY: &[Field<PartialConcurrency>] = &[
    ("group", |ck, n, p, o| o.group = name(ck, n, p)),
    ("cancel-in-progress", |ck, n, p, o| {
        o.cancel = bool_or_expr(ck, n, p)
    }),
];

fn permissions(ck: &mut Checker, node: &Node, path: &str) -> Permissions {
    match &node.kind {
        Kind::Map(entries) => {
            let mut scopes = Vec::new();
            for entry in entries {
                let scope = entry.key.as_str();
                if !SCOPES.contains(&scope) {
                    let help = match did_you_mean(scope, SCOPES) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("expected one of {}", quoted_list(SCOPES)),
                    };
                    ck.push(
                        Diagnostic::error(
                            &*entry.value.file,
                            format!("unknown permission scope `{scope}` in `{path}`"),
                        )
                        .with_span(entry.key_span)
                        .with_help(help),
                    );
                    continue;
                }
                let expected = "`read`, `write` or `none`";
                let access = ck.value(&entry.value, &join(path, scope), expected, |t| match t {
                    "read" => Ok(Access::Read),
                    "write" => Ok(Access::Write),
                    "none" => Ok(Access::None),
                    other => Err(did_you_mean(other, &["read", "write", "none"])
                        .map(|s| format!("did you mean `{s}`?"))),
                });
                if let Some(access) = access {
                    scopes.push((scope.to_string(), access));
                }
            }
            Permissions::Scopes(scopes)
        }
        _ => {
            let expected = "`read-all`, `write-all` or a mapping of scopes";
            ck.value(node, path, expected, |t| match t {
                "read-all" => Ok(Permissions::ReadAll),
                "write-all" => Ok(Permissions::WriteAll),
                other => Err(did_you_mean(other, &["read-all", "write-all"])
                    .map(|s| format!("did you mean `{s}`?"))),
            })
            .unwrap_or_default()
        }
    }
}

// ---------------------------------------------------------------- jobs

/// Whether `id` is a valid job or step id: a letter or `_`, then letters,
/// digits, `-` or `_`.
pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn jobs(ck: &mut Checker, node: &Node, path: &str) -> Vec<(String, Job)> {
    let entries = entries(ck, node, path);
    if entries.is_empty() && matches!(node.kind, Kind::Map(_)) {
        ck.push(error_at(node, "`jobs` is empty: expected at least one job"));
    }
    let mut out = Vec::new();
    for entry in entries {
        if !valid_id(&entry.key) {
            ck.push(
                Diagnostic::error(&*entry.value.file, format!("invalid job id `{}`", entry.key))
                    .with_span(entry.key_span)
                    .with_help("a job id starts with a letter or `_` and contains only letters, digits, `-` and `_`"),
            );
        }
        let path = join(path, &entry.key);
        let mut job = job(ck, entry, &path);
        job.id = entry.key.clone();
        job.span = entry.key_span;
        out.push((entry.key.clone(), job));
    }
    out
}

fn job(ck: &mut Checker, entry: &Entry, path: &str) -> Job {
    let node = &entry.value;
    let at_id = |message: String| Diagnostic::error(&*node.file, message).with_span(entry.key_span);
    let job: Job = ck.mapping(node, path, JOB);
    let Kind::Map(entries) = &node.kind else {
        return job;
    };
    let has = |key: &str| entries.iter().find(|e| e.key == key);
    if has("uses").is_some() {
        for key in ["runs-on", "steps"] {
            if let Some(entry) = has(key) {
                ck.push(
                    Diagnostic::error(
                        &*entry.value.file,
                        format!("`{key}` cannot be used in a job that calls a reusable workflow with `uses`"),
                    )
                    .with_span(entry.key_span),
                );
            }
        }
    } else {
        if has("runs-on").is_none() {
            ck.push(
                at_id(format!("missing required key `runs-on` in `{path}`"))
                    .with_help("add `runs-on: ubuntu-latest` (or a reusable workflow with `uses`)"),
            );
        }
        if has("steps").is_none() {
            ck.push(at_id(format!("missing required key `steps` in `{path}`")));
        }
        for key in ["with", "secrets"] {
            if let Some(entry) = has(key) {
                ck.push(
                    Diagnostic::error(
                        &*entry.value.file,
                        format!("`{key}` is only valid in a job that calls a reusable workflow with `uses`"),
                    )
                    .with_span(entry.key_span),
                );
            }
        }
    }
    job
}

const JOB: &[Field<Job>] = &[
    ("name", |ck, n, p, o| o.name = string(ck, n, p)),
    ("runs-on", |ck, n, p, o| o.runs_on = runs_on(ck, n, p)),
    ("needs", |ck, n, p, o| o.needs = strings(ck, n, p)),
    ("if", |ck, n, p, o| o.condition = string(ck, n, p)),
    ("outputs", |ck, n, p, o| o.outputs = pairs(ck, n, p)),
    ("env", |ck, n, p, o| o.env = pairs(ck, n, p)),
    ("defaults", |ck, n, p, o| o.defaults = defaults(ck, n, p)),
    ("timeout-minutes", |ck, n, p, o| {
        o.timeout_minutes = timeout(ck, n, p)
    }),
    ("continue-on-error", |ck, n, p, o| {
        o.continue_on_error = bool_or_expr(ck, n, p)
    }),
    ("strategy", |ck, n, p, o| {
        o.strategy = Some(strategy(ck, n, p))
    }),
    ("environment", |ck, n, p, o| {
        o.environment = environment(ck, n, p)
    }),
    ("concurrency", |ck, n, p, o| {
        o.concurrency = concurrency(ck, n, p)
    }),
    ("permissions", |ck, n, p, o| {
        o.permissions = permissions(ck, n, p)
    }),
    ("services", |ck, n, p, o| {
        o.services = entries(ck, n, p)
            .iter()
            .map(|e| (e.key.clone(), json(&e.value)))
            .collect();
    }),
    ("container", |ck, n, p, o| {
        if matches!(n.kind, Kind::Map(_)) || text_of(n).is_some() {
            o.container = Some(json(n));
        } else {
            let found = n.describe();
            ck.push(error_at(
                n,
                format!("expected an image name or a mapping for `{p}`, found {found}"),
            ));
        }
    }),
    ("steps", |ck, n, p, o| o.steps = steps(ck, n, p)),
    ("uses", |ck, n, p, o| o.uses = name(ck, n, p)),
    ("with", |ck, n, p, o| {
        o.with = entries(ck, n, p)
            .iter()
            .map(|e| (e.key.clone(), Spanned::new(json(&e.value), e.value.span)))
            .collect();
    }),
    ("secrets", |ck, n, p, o| {
        o.secrets = match text_of(n) {
            Some("inherit") => Some(CallSecrets::Inherit),
            _ if matches!(n.kind, Kind::Map(_)) => Some(CallSecrets::Map(pairs(ck, n, p))),
            _ => {
                let found = n.describe();
                ck.push(error_at(
                    n,
                    format!("expected `inherit` or a mapping of secrets for `{p}`, found {found}"),
                ));
                None
            }
        };
    }),
];

fn runs_on(ck: &mut Checker, node: &Node, path: &str) -> Option<RunsOn> {
    let mut out = RunsOn {
        span: node.span,
        ..RunsOn::default()
    };
    match &node.kind {
        Kind::Map(_) => {
            let fields: RunsOn = ck.mapping(node, path, RUNS_ON);
            out.labels = fields.labels;
            out.group = fields.group;
        }
        _ => out.labels = plain_strings(ck, node, path),
    }
    Some(out)
}

const RUNS_ON: &[Field<RunsOn>] = &[
    ("group", |ck, n, p, o| o.group = ck.string(n, p)),
    ("labels", |ck, n, p, o| o.labels = plain_strings(ck, n, p)),
];

fn environment(ck: &mut Checker, node: &Node, path: &str) -> Option<Environment> {
    if let Kind::Map(entries) = &node.kind {
        let env: PartialEnvironment = ck.mapping(node, path, ENVIRONMENT);
        if !entries.iter().any(|e| e.key == "name") {
            ck.push(error_at(
                node,
                format!("missing required key `name` in `{path}`"),
            ));
        }
        return Some(Environment {
            name: env.name?,
            url: env.url,
        });
    }
    name(ck, node, path).map(|name| Environment { name, url: None })
}

#[derive(Default)]
struct PartialEnvironment {
    name: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

const ENVIRONMENT: &[Field<PartialEnvironment>] = &[
    ("name", |ck, n, p, o| o.name = name(ck, n, p)),
    ("url", |ck, n, p, o| o.url = string(ck, n, p)),
];

const STRATEGY: &[Field<Strategy>] = &[
    ("matrix", |ck, n, p, o| o.matrix = matrix(ck, n, p)),
    ("fail-fast", |ck, n, p, o| {
        o.fail_fast = bool_or_expr(ck, n, p)
    }),
    ("max-parallel", |ck, n, p, o| {
        o.max_parallel = number_or_expr(ck, n, p);
        if let Some(NumberOrExpr::Number(x)) = o.max_parallel
            && x < 1.0
        {
            ck.push(error_at(
                n,
                format!("invalid `{p}`: expected a number greater than 0"),
            ));
        }
    }),
];

fn combinations(ck: &mut Checker, node: &Node, path: &str) -> Vec<Combination> {
    let Kind::Seq(items) = &node.kind else {
        let found = node.describe();
        ck.push(error_at(
            node,
            format!("expected a list of mappings for `{path}`, found {found}"),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let entries = entries(ck, item, &format!("{path}[{i}]"));
        out.push(
            entries
                .iter()
                .map(|e| (e.key.clone(), json(&e.value)))
                .collect(),
        );
    }
    out
}

fn matrix(ck: &mut Checker, node: &Node, path: &str) -> Option<Matrix> {
    let mut m = Matrix {
        span: node.span,
        ..Matrix::default()
    };
    match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Str,
            text,
        } if has_expr(text) => {
            m.expression = Some(Spanned::new(text.clone(), node.span));
            return Some(m);
        }
        Kind::Map(_) => {}
        _ => {
            let found = node.describe();
            ck.push(error_at(
                node,
                format!(
                    "expected a mapping or a `${{{{ }}}}` expression for `{path}`, found {found}"
                ),
            ));
            return None;
        }
    }
    for entry in entries(ck, node, path) {
        let value = &entry.value;
        let entry_path = join(path, &entry.key);
        if let Some(text) = text_of(value).filter(|t| has_expr(t)) {
            m.dynamic.push((
                entry.key.clone(),
                Spanned::new(text.to_string(), value.span),
            ));
            continue;
        }
        match entry.key.as_str() {
            "include" => m.include = combinations(ck, value, &entry_path),
            "exclude" => m.exclude = combinations(ck, value, &entry_path),
            axis => match &value.kind {
                Kind::Seq(items) => m
                    .axes
                    .push((axis.to_string(), items.iter().map(json).collect())),
                _ => {
                    let found = value.describe();
                    ck.push(
                        error_at(
                            value,
                            format!("expected a list of values for matrix axis `{entry_path}`, found {found}"),
                        )
                        .with_help(format!("write `{axis}: [a, b]`")),
                    );
                }
            },
        }
    }
    Some(m)
}

/// `strategy`; a static matrix that read without errors is expanded here,
/// so that its problems point at the `matrix` key.
fn strategy(ck: &mut Checker, node: &Node, path: &str) -> Strategy {
    let before = ck.diags.len();
    let strategy: Strategy = ck.mapping(node, path, STRATEGY);
    let key = match &node.kind {
        Kind::Map(entries) => entries.iter().find(|e| e.key == "matrix"),
        _ => None,
    };
    if ck.diags.len() == before
        && let (Some(m), Some(key)) = (&strategy.matrix, key)
        && !m.is_dynamic()
        && let Err(why) = expand_matrix(m)
    {
        ck.push(
            Diagnostic::error(&*node.file, format!("invalid `{path}.matrix`: {why}"))
                .with_span(key.key_span),
        );
    }
    strategy
}

// ---------------------------------------------------------------- steps

fn steps(ck: &mut Checker, node: &Node, path: &str) -> Vec<Step> {
    let Kind::Seq(items) = &node.kind else {
        let found = node.describe();
        ck.push(error_at(
            node,
            format!("expected a list of steps for `{path}`, found {found}"),
        ));
        return Vec::new();
    };
    if items.is_empty() {
        ck.push(error_at(
            node,
            format!("`{path}` is empty: expected at least one step"),
        ));
    }
    let mut out: Vec<Step> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let raw: RawStep = ck.mapping(item, &path, STEP);
        if !matches!(item.kind, Kind::Map(_)) {
            continue;
        }
        let action = match (raw.run, raw.uses) {
            (Some(run), None) => StepAction::Run(run),
            (None, Some(uses)) => StepAction::Uses(uses),
            (Some(_), Some(uses)) => {
                ck.push(
                    error_at(item, format!("step `{path}` has both `run` and `uses`"))
                        .with_help("split it into two steps"),
                );
                StepAction::Uses(uses)
            }
            (None, None) => {
                // Only when neither key was written: a bad value has its own error.
                if let Kind::Map(e) = &item.kind
                    && !e.iter().any(|e| e.key == "run" || e.key == "uses")
                {
                    ck.push(error_at(
                        item,
                        format!("step `{path}` has neither `run` nor `uses`: expected exactly one"),
                    ));
                }
                StepAction::Run(Spanned::new(String::new(), item.span))
            }
        };
        if let Some(id) = &raw.id {
            if !valid_id(&id.value) {
                ck.push(
                    Diagnostic::error(&*item.file, format!("invalid step id `{}`", id.value))
                        .with_span(id.span)
                        .with_help("a step id starts with a letter or `_` and contains only letters, digits, `-` and `_`"),
                );
            } else if let Some(first) = out
                .iter()
                .filter_map(|s| s.id.as_ref())
                .find(|other| other.value == id.value)
            {
                ck.push(
                    Diagnostic::error(
                        &*item.file,
                        format!("duplicate step id `{}` in `{path}`", id.value),
                    )
                    .with_span(id.span)
                    .with_note(format!(
                        "first used at {}:{}:{}",
                        item.file, first.span.line, first.span.col
                    )),
                );
            }
        }
        if let StepAction::Uses(uses) = &action
            && raw.shell.is_some()
        {
            ck.push(
                Diagnostic::error(
                    &*item.file,
                    format!("`shell` is only valid with `run` in `{path}`"),
                )
                .with_span(uses.span),
            );
        }
        if let StepAction::Uses(uses) = &action {
            strict_with(ck, item, &uses.value, &path);
        }
        out.push(Step {
            span: item.span,
            id: raw.id,
            name: raw.name,
            condition: raw.condition,
            action,
            shell: raw.shell,
            working_directory: raw.working_directory,
            env: raw.env,
            with: raw.with,
            timeout_minutes: raw.timeout_minutes,
            continue_on_error: raw.continue_on_error,
        });
    }
    out
}

/// The `with:` of a built-in action that declares its inputs
/// (`gantry/scan`): unknown names, and values written without an
/// expression that the action would refuse.
fn strict_with(ck: &mut Checker, item: &Node, uses: &str, path: &str) {
    let Some(known) = crate::run::strict_inputs(uses) else {
        return;
    };
    let Kind::Map(entries) = &item.kind else {
        return;
    };
    let Some(with) = entries.iter().find(|e| e.key == "with") else {
        return;
    };
    let Kind::Map(inputs) = &with.value.kind else {
        return;
    };
    for input in inputs {
        if !known.contains(&input.key.as_str()) {
            let mut d = Diagnostic::error(
                &*item.file,
                format!(
                    "unknown input `{}` for `{uses}` in `{path}.with`",
                    input.key
                ),
            )
            .with_span(input.key_span);
            d = match did_you_mean(&input.key, known) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("valid inputs are {}", quoted_list(known))),
            };
            ck.push(d);
            continue;
        }
        let Some(text) = text_of(&input.value) else {
            continue;
        };
        if has_expr(text) {
            continue;
        }
        if let Err(e) = crate::run::check_strict_input(uses, &input.key, text) {
            ck.push(error_at(&input.value, e));
        }
    }
}

#[derive(Default)]
struct RawStep {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    condition: Option<Spanned<String>>,
    run: Option<Spanned<String>>,
    uses: Option<Spanned<String>>,
    shell: Option<Spanned<String>>,
    working_directory: Option<Spanned<String>>,
    env: Pairs,
    with: Pairs,
    timeout_minutes: Option<NumberOrExpr>,
    continue_on_error: Option<BoolOrExpr>,
}

const STEP: &[Field<RawStep>] = &[
    ("id", |ck, n, p, o| o.id = name(ck, n, p)),
    ("name", |ck, n, p, o| o.name = string(ck, n, p)),
    ("if", |ck, n, p, o| o.condition = string(ck, n, p)),
    ("run", |ck, n, p, o| o.run = name(ck, n, p)),
    ("uses", |ck, n, p, o| o.uses = name(ck, n, p)),
    ("shell", |ck, n, p, o| o.shell = shell(ck, n, p)),
    ("working-directory", |ck, n, p, o| {
        o.working_directory = name(ck, n, p)
    }),
    ("env", |ck, n, p, o| o.env = pairs(ck, n, p)),
    ("with", |ck, n, p, o| o.with = pairs(ck, n, p)),
    ("timeout-minutes", |ck, n, p, o| {
        o.timeout_minutes = timeout(ck, n, p)
    }),
    ("continue-on-error", |ck, n, p, o| {
        o.continue_on_error = bool_or_expr(ck, n, p)
    }),
];
