//! The configuration of one Terraform module: every `.tf` file of a
//! directory parsed with hcl-edit into typed blocks that keep their source
//! spans. Expressions stay hcl-edit `Expression`s; `crate::eval` evaluates
//! them.
//!
//! Loading never evaluates anything and never touches the network.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use gantry_config::{Diagnostic, Span};
use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;

use crate::value::{PathStep, Type};

mod dupkeys;
mod load;
pub mod tfvars;
pub mod types;

pub use dupkeys::Rewrites;
pub use load::{load_module, load_module_as, load_sources, parse_file};
pub(crate) use load::{parse_message, parse_src, parse_template};

/// One source file: the path shown to people and its text.
#[derive(Debug)]
pub struct Src {
    pub path: String,
    /// The text as written.
    pub text: String,
    /// Where the text hcl-edit parsed differs from `text` (duplicate
    /// object keys rewritten, see `dupkeys`): the byte ranges of parsed
    /// nodes go through it before they are used with `text`.
    pub rewrites: Rewrites,
}

impl Src {
    /// A source parsed as written.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Src {
        Src {
            path: path.into(),
            text: text.into(),
            rewrites: Rewrites::default(),
        }
    }

    /// The range of `text` that the parsed range `range` stands for.
    pub fn original_range(&self, range: &Range<usize>) -> Range<usize> {
        self.rewrites.original_range(range)
    }

    /// The text as written of a parsed range (of an expression's span).
    pub fn slice(&self, range: &Range<usize>) -> Option<&str> {
        self.text.get(self.original_range(range))
    }

    /// The line and column of a parsed range.
    pub fn span(&self, range: &Range<usize>) -> Span {
        Span::from_byte_range(&self.text, self.original_range(range))
    }

    /// An error diagnostic at `range` of this file.
    pub fn error(&self, range: Option<&Range<usize>>, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(self.path.clone(), message);
        match range {
            Some(r) => d.with_span(self.span(r)),
            None => d,
        }
    }
}

/// Where a block or expression came from.
#[derive(Debug, Clone)]
pub struct Loc {
    pub src: Arc<Src>,
    /// Byte range as parsed (of the block header or the attribute); see
    /// [`Src::span`] and [`Src::slice`].
    pub range: Range<usize>,
}

impl Loc {
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        self.src.error(Some(&self.range), message)
    }

    /// `file:line:col`.
    pub fn position(&self) -> String {
        let s = self.src.span(&self.range);
        format!("{}:{}:{}", self.src.path, s.line, s.col)
    }
}

/// An expression and the file it is in.
#[derive(Debug, Clone)]
pub struct Expr {
    pub expr: Expression,
    pub src: Arc<Src>,
}

/// A block body (for resource, data, provider and backend blocks, whose
/// shape depends on a schema) and the file it is in.
#[derive(Debug, Clone)]
pub struct BlockBody {
    pub body: Body,
    pub src: Arc<Src>,
}

/// A parsed module directory.
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<Arc<Src>>,
    pub terraform: TerraformBlock,
    pub providers: Vec<ProviderBlock>,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Local>,
    pub outputs: BTreeMap<String, Output>,
    /// Managed resources and data sources, keyed by `TYPE.NAME` and
    /// `data.TYPE.NAME`.
    pub resources: BTreeMap<String, Resource>,
    pub module_calls: BTreeMap<String, ModuleCall>,
    pub moved: Vec<Moved>,
    pub imports: Vec<Import>,
    /// Warnings found while loading (deprecated syntax, ignored files).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Default)]
pub struct TerraformBlock {
    pub required_version: Option<String>,
    pub required_providers: BTreeMap<String, RequiredProvider>,
    pub backend: Option<Backend>,
}

#[derive(Debug, Clone)]
pub struct RequiredProvider {
    /// `hashicorp/random`, normalised without the registry host.
    pub source: String,
    pub version: Option<String>,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Backend {
    /// `local`, `gantry`, `s3`, ...
    pub kind: String,
    pub body: BlockBody,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct ProviderBlock {
    pub name: String,
    pub alias: Option<String>,
    /// The body without `alias` (and without `version`).
    pub body: BlockBody,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Variable {
    pub name: String,
    /// `any` when no `type` is given.
    pub ty: Type,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Expr>,
    pub preconditions: Vec<Validation>,
    pub loc: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Managed,
    Data,
}

/// A `provider = aws.west` reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderRef {
    pub name: String,
    pub alias: Option<String>,
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}.{a}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum IgnoreChanges {
    #[default]
    None,
    All,
    Paths(Vec<Vec<PathStep>>),
}

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
    pub ignore_changes: IgnoreChanges,
    /// Each a reference expression (`aws_instance.a`, `x.y.id`).
    pub replace_triggered_by: Vec<Expr>,
    pub preconditions: Vec<Validation>,
    pub postconditions: Vec<Validation>,
}

#[derive(Debug)]
pub struct Resource {
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
    pub provider: Option<ProviderRef>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// The body without the meta-arguments (count, for_each, provider,
    /// depends_on, lifecycle, provisioner, connection).
    pub body: BlockBody,
    pub loc: Loc,
}

impl Resource {
    /// `TYPE.NAME` or `data.TYPE.NAME`.
    pub fn key(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.type_name, self.name),
            Mode::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }
}

#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    /// The `source` as written (`./modules/net`).
    pub source: String,
    /// The `version` constraint (registry sources only).
    pub version: Option<String>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    /// `providers = { aws = aws.west }`: child name → parent reference.
    pub providers: Vec<(ProviderRef, ProviderRef)>,
    pub depends_on: Vec<Expr>,
    /// Every other argument: the child's input variables.
    pub inputs: BTreeMap<String, Expr>,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Moved {
    pub from: Expr,
    pub to: Expr,
    pub loc: Loc,
}

#[derive(Debug)]
pub struct Import {
    pub to: Expr,
    pub id: Expr,
    pub provider: Option<ProviderRef>,
    pub loc: Loc,
}
