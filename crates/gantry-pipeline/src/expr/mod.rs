//! GitHub Actions expressions: the language inside `${{ }}` and `if:`,
//! evaluated the way GitHub's runner evaluates it.
//!
//! - [`parse`] turns source text into an [`Expr`]; [`evaluate`] runs it
//!   against a [`Context`].
//! - [`find_embedded`] / [`interpolate`] handle strings with `${{ }}` parts;
//!   [`evaluate_if`] handles `if:` conditions (implicit `success() && (..)`).
//! - [`to_display_string`] and [`is_truthy`] are GitHub's conversions.
//!
//! Semantics follow GitHub's engine: numbers print with 15 significant
//! digits (`G15`, so `1234567890123456` prints as `1.23456789012346E+15`),
//! string comparisons ignore case, mixed-type comparisons coerce to numbers,
//! arrays and objects are equal only when they are the same value from the
//! context (two values built during evaluation are never equal), object
//! property names are matched ignoring case, and `a.*.b` filters.
//!
//! Limits: expressions longer than 21,000 bytes or nested deeper than 50
//! levels are parse errors; `format`, `join` and `toJSON` refuse to build
//! strings over 10 MiB.

mod eval;
mod number;
mod parse;

pub use serde_json::Value;

use std::ops::Range;

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    root: parse::Node,
}

/// A parse or evaluation error; `offset`/`len` are a byte range in the
/// source given to [`parse`] (or in the template, for [`find_embedded`],
/// [`interpolate`] and [`evaluate_if`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

impl ExprError {
    fn shifted(mut self, by: usize) -> Self {
        self.offset += by;
        self
    }
}

/// What `success()`, `failure()` and `cancelled()` look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Cancelled,
    /// A job this one needs was skipped: `success()`, `failure()` and
    /// `cancelled()` are all false, so only `always()` (or a condition
    /// without status functions that is skipped anyway) lets the job run.
    Skipped,
}

/// What an expression can see while it is evaluated.
pub trait Context {
    /// A named context: github, env, vars, secrets, inputs, matrix, needs,
    /// steps, job, runner, strategy (always asked for in lower case). None if
    /// unavailable here (→ error "unrecognized named-value").
    fn named(&self, name: &str) -> Option<&Value>;
    /// The status that success()/failure()/cancelled() look at (job-level:
    /// previous steps; for job `if`: the `needs` jobs).
    fn status(&self) -> Status;
    /// hashFiles(patterns): SHA-256 over the matching files under the
    /// workspace, GitHub's algorithm (hash of each file's sha256
    /// concatenated, in sorted path order; empty string if no match);
    /// Err(message) on failure.
    fn hash_files(&self, patterns: &[String]) -> Result<String, String>;
}

/// Parses an expression: the text inside `${{ }}`, or an `if:` condition.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    parse::parse_node(src).map(|root| Expr { root })
}

/// Evaluates `expr`. Runtime errors (bad JSON for `fromJSON`, a bad
/// `format` string, an unavailable context, a failing `hashFiles`) carry the
/// offending node's range.
pub fn evaluate(expr: &Expr, ctx: &dyn Context) -> Result<Value, ExprError> {
    eval::eval(&expr.root, ctx).map(|v| v.to_value())
}

/// GitHub's conversion of a value interpolated into a string: null → "",
/// booleans → "true"/"false", numbers as GitHub prints them, arrays and
/// objects → "Array"/"Object".
pub fn to_display_string(v: &Value) -> String {
    eval::Val::from_ref(v).to_display().into_owned()
}

/// False for false, 0, -0, NaN, '' and null; true for everything else.
pub fn is_truthy(v: &Value) -> bool {
    eval::Val::from_ref(v).truthy()
}

/// One `${{ }}` in a template string.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// From `${{` to just after `}}` (to the end of the template when unclosed).
    pub range: Range<usize>,
    /// Offsets inside the error are relative to the template.
    pub expr: Result<Expr, ExprError>,
}

/// Every `${{ }}` in `template`, in order. A `}}` inside a quoted string
/// literal does not close the expression. An unclosed `${{` yields a final
/// error entry.
pub fn find_embedded(template: &str) -> Vec<Embedded> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(found) = template[pos..].find("${{") {
        let start = pos + found;
        let inner_start = start + 3;
        let mut in_string = false;
        let mut close = None;
        for (i, c) in template[inner_start..].char_indices() {
            if c == '\'' {
                in_string = !in_string;
            } else if !in_string && template[inner_start + i..].starts_with("}}") {
                close = Some(inner_start + i);
                break;
            }
        }
        let Some(close) = close else {
            out.push(Embedded {
                range: start..template.len(),
                expr: Err(ExprError {
                    offset: start,
                    len: 3,
                    message: "unclosed expression: `${{` without a matching `}}`".to_string(),
                }),
            });
            break;
        };
        let expr = parse(&template[inner_start..close]).map_err(|e| e.shifted(inner_start));
        out.push(Embedded {
            range: start..close + 2,
            expr,
        });
        pos = close + 2;
    }
    out
}

/// Replaces each `${{ }}` in `template` with the display string of its value.
pub fn interpolate(template: &str, ctx: &dyn Context) -> Result<String, ExprError> {
    let mut out = String::with_capacity(template.len());
    let mut pos = 0;
    for e in find_embedded(template) {
        out.push_str(&template[pos..e.range.start]);
        let expr = e.expr?;
        let v = eval::eval(&expr.root, ctx).map_err(|err| err.shifted(e.range.start + 3))?;
        out.push_str(&v.to_display());
        pos = e.range.end;
    }
    out.push_str(&template[pos..]);
    Ok(out)
}

/// Evaluates an `if:` condition, with or without `${{ }}`. Without a status
/// function it means `success() && (cond)`, like GitHub; an empty condition
/// means `success()`. When `${{ }}` is mixed with other text the condition
/// is a string (GitHub's well-known pitfall), true whenever it is non-empty.
pub fn evaluate_if(cond: &str, ctx: &dyn Context) -> Result<bool, ExprError> {
    let success = ctx.status() == Status::Success;
    let trimmed = cond.trim();
    if trimmed.is_empty() {
        return Ok(success);
    }
    let lead = cond.len() - cond.trim_start().len();
    let embedded = find_embedded(cond);
    let (expr, base) = match embedded.as_slice() {
        [] => (parse(cond)?, 0),
        [only] if only.range == (lead..lead + trimmed.len()) => {
            let inner = only.range.start + 3..only.range.end - 2;
            if cond[inner].trim().is_empty() {
                return Ok(success);
            }
            (only.expr.clone()?, only.range.start + 3)
        }
        many => {
            let mut has_status = false;
            for e in many {
                has_status |= e
                    .expr
                    .as_ref()
                    .map_err(Clone::clone)
                    .map(uses_status_function)?;
            }
            if !has_status && !success {
                return Ok(false);
            }
            return Ok(!interpolate(cond, ctx)?.is_empty());
        }
    };
    if !uses_status_function(&expr) && !success {
        return Ok(false);
    }
    eval::eval(&expr.root, ctx)
        .map(|v| v.truthy())
        .map_err(|e| e.shifted(base))
}

/// Whether `expr` calls success(), failure(), always() or cancelled().
pub fn uses_status_function(expr: &Expr) -> bool {
    let mut stack = vec![&expr.root];
    while let Some(n) = stack.pop() {
        if let parse::NodeKind::Call(f, _) = &n.kind
            && f.is_status()
        {
            return true;
        }
        stack.extend(n.children());
    }
    false
}
