//! Terraform's built-in functions (all but `try` and `can`, which the
//! evaluator handles because their arguments are evaluated lazily).

use std::path::Path;

use crate::value::Value;

/// When a function runs: `timestamp()` and `uuid()` are unknown during a
/// plan, as in Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Plan,
    Apply,
}

/// What a function may need from the evaluator.
pub trait FuncHost {
    /// The directory file functions resolve relative paths against
    /// (`path.module`).
    fn base_dir(&self) -> &Path;
    fn phase(&self) -> Phase;
    /// `templatefile`: parses `text` (read from `path`) as a template and
    /// renders it with `vars` (an object or map) as its only variables.
    fn render_template(&self, path: &Path, text: &str, vars: &Value) -> Result<Value, String>;
}

/// Why a call failed. `param` is the index and name of the argument the
/// error is about, when there is one (the evaluator points at it and says
/// `invalid value for "NAME" parameter: MESSAGE`); otherwise it says
/// `call to function "F" failed: MESSAGE`.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncError {
    pub message: String,
    pub param: Option<(usize, &'static str)>,
}

/// Calls the built-in function `name`.
pub fn call(name: &str, args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    let _ = (args, host);
    Err(FuncError {
        message: format!("there is no function named {name:?}"),
        param: None,
    })
}

/// True when `name` is a built-in function (including `try` and `can`).
pub fn exists(name: &str) -> bool {
    names().contains(&name)
}

/// Every function name, sorted (for "did you mean").
pub fn names() -> &'static [&'static str] {
    &["can", "try"]
}
