//! Evaluation of Terraform expressions and block bodies.

use std::ops::Range;
use std::path::Path;

use gantry_config::Diagnostic;
use hcl_edit::expr::Expression;

use hcl_edit::Span as _;

use crate::funcs::{FuncHost, Phase};
use crate::provider::Schema;
use crate::syntax::{BlockBody, Expr, Mode};
use crate::value::{PathStep, Value};

mod body;
mod expr;
mod refs;
mod template;

use expr::{Ctx, Env};

/// The first step of a reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Root {
    Var(String),
    Local(String),
    /// `module.NAME` (the call's outputs; a list or map of them under
    /// count/for_each).
    Module(String),
    Resource {
        mode: Mode,
        type_name: String,
        name: String,
    },
    CountIndex,
    EachKey,
    EachValue,
    /// `path.module`, `path.root`, `path.cwd`: the word after `path.`.
    Path(String),
    /// `terraform.workspace`.
    Workspace,
    /// `self` (provisioners and postconditions).
    SelfRef,
}

/// A reference found in an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub root: Root,
    /// Static steps after the root (`aws_instance.a[0].id` → `[0]`, `.id`),
    /// up to the first dynamic index or splat.
    pub rest: Vec<PathStep>,
    /// Byte range of the whole traversal in its file.
    pub range: Range<usize>,
}

/// What names resolve to.
pub trait Scope: Sync {
    /// The value of a reference root; `Err(message)` when it does not
    /// exist (e.g. `reference to undeclared input variable "x"`).
    fn resolve(&self, root: &Root) -> Result<Value, String>;
}

/// Evaluates expressions of one module instance.
pub struct Evaluator<'a> {
    pub scope: &'a dyn Scope,
    pub phase: Phase,
    /// `path.module`, for file functions.
    pub base_dir: &'a Path,
}

impl Evaluator<'_> {
    /// Evaluates one expression.
    #[allow(clippy::result_large_err)] // the interface others code against
    pub fn eval(&self, e: &Expr) -> Result<Value, Diagnostic> {
        Ctx::new(self, &e.src, false)
            .eval(&e.expr, &Env::root())
            .map_err(|d| *d)
    }

    /// Evaluates one expression with extra names bound (as a `for`
    /// expression or `dynamic` iterator would bind them); they shadow the
    /// scope's roots.
    #[allow(clippy::result_large_err)] // as `eval`
    pub fn eval_with(&self, e: &Expr, names: &[(String, Value)]) -> Result<Value, Diagnostic> {
        let env = Env::with(names.to_vec());
        Ctx::new(self, &e.src, false)
            .eval(&e.expr, &env)
            .map_err(|d| *d)
    }

    /// Evaluates a block body against a schema into an object of
    /// `schema.object_type()`: unset attributes are null, nested and
    /// `dynamic` blocks are expanded.
    pub fn eval_body(&self, body: &BlockBody, schema: &Schema) -> Result<Value, Vec<Diagnostic>> {
        let ctx = Ctx::new(self, &body.src, false);
        let mut errs = Vec::new();
        let v = ctx.body_value(
            &body.body,
            schema,
            &Env::root(),
            body.body.span(),
            &mut errs,
        );
        if errs.is_empty() { Ok(v) } else { Err(errs) }
    }
}

impl FuncHost for Evaluator<'_> {
    fn base_dir(&self) -> &Path {
        self.base_dir
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn render_template(&self, path: &Path, text: &str, vars: &Value) -> Result<Value, String> {
        let shown = path.display().to_string();
        let (src, template) = crate::syntax::parse_template(&shown, text);
        let template =
            template.map_err(|e| format!("{shown}: failed to parse template: {}", e.message()))?;
        let Some(map) = vars.as_map() else {
            return Err(format!(
                "invalid vars value: a map or object is required, but have {}",
                vars.kind_name()
            ));
        };
        let mut names = Vec::new();
        for (k, v) in map {
            if !is_identifier(k) {
                return Err(format!(
                    "invalid template variable name {k:?}: must start with a letter, followed by zero or more letters, digits, and underscores"
                ));
            }
            names.push((k.clone(), v.clone().mark_if(vars.is_sensitive())));
        }
        let env = Env::with(names);
        Ctx::new(self, &src, true)
            .eval_template(&template, &env)
            .map_err(|d| format!("{}: {}", d.location(), d.message))
    }
}

fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Every reference in an expression.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let mut out = Vec::new();
    refs::walk_expr(expr, &mut Vec::new(), &mut out);
    out
}

/// Every reference in a block body (attributes and nested blocks,
/// including `dynamic` blocks' `for_each` and `content`).
pub fn body_references(body: &BlockBody) -> Vec<Reference> {
    let mut out = Vec::new();
    refs::walk_body(&body.body, &mut Vec::new(), &mut out);
    out
}
