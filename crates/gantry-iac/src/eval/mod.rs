//! Evaluation of Terraform expressions and block bodies.

use std::ops::Range;
use std::path::Path;

use gantry_config::Diagnostic;
use hcl_edit::expr::Expression;

use crate::funcs::Phase;
use crate::provider::Schema;
use crate::syntax::{BlockBody, Expr, Mode};
use crate::value::{PathStep, Value};

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
    pub fn eval(&self, e: &Expr) -> Result<Value, Diagnostic> {
        let _ = e;
        Err(Diagnostic::error(
            e.src.path.clone(),
            "expressions are not evaluated yet",
        ))
    }

    /// Evaluates a block body against a schema into an object of
    /// `schema.object_type()`: unset attributes are null, nested and
    /// `dynamic` blocks are expanded.
    pub fn eval_body(&self, body: &BlockBody, schema: &Schema) -> Result<Value, Vec<Diagnostic>> {
        let _ = schema;
        Err(vec![Diagnostic::error(
            body.src.path.clone(),
            "bodies are not evaluated yet",
        )])
    }
}

/// Every reference in an expression.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let _ = expr;
    Vec::new()
}

/// Every reference in a block body (attributes and nested blocks,
/// including `dynamic` blocks' `for_each` and `content`).
pub fn body_references(body: &BlockBody) -> Vec<Reference> {
    let _ = body;
    Vec::new()
}
