//! The typed workflow model. Every value a later diagnostic may point at
//! keeps its [`Span`]; the file is [`Workflow::file`].

use gantry_config::Span;
use serde_json::Value;

pub use super::matrix::Matrix;

/// A value with the place in the file it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// `key: value` pairs in file order (env, outputs, with).
pub type Pairs = Vec<(String, Spanned<String>)>;

/// One workflow file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workflow {
    /// Display path, as in diagnostics.
    pub file: String,
    pub name: Option<Spanned<String>>,
    pub run_name: Option<Spanned<String>>,
    pub on: Triggers,
    pub env: Pairs,
    pub defaults: Defaults,
    pub concurrency: Option<Concurrency>,
    pub permissions: Permissions,
    /// Jobs in file order.
    pub jobs: Vec<(String, Job)>,
}

impl Workflow {
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|(k, _)| k == id).map(|(_, j)| j)
    }
}

/// `on:`. Events Gantry triggers on are typed; the other GitHub events are
/// parsed into [`Triggers::other`] and never fire here.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Triggers {
    pub span: Option<Span>,
    pub push: Option<RefFilter>,
    pub pull_request: Option<RefFilter>,
    pub pull_request_target: Option<RefFilter>,
    pub schedule: Vec<Spanned<String>>,
    pub workflow_dispatch: Option<WorkflowDispatch>,
    pub workflow_call: Option<WorkflowCall>,
    pub other: Vec<OtherEvent>,
}

impl Triggers {
    /// Whether the workflow lists `event` (any GitHub event name).
    pub fn has(&self, event: &str) -> bool {
        match event {
            "push" => self.push.is_some(),
            "pull_request" => self.pull_request.is_some(),
            "pull_request_target" => self.pull_request_target.is_some(),
            "schedule" => !self.schedule.is_empty(),
            "workflow_dispatch" => self.workflow_dispatch.is_some(),
            "workflow_call" => self.workflow_call.is_some(),
            other => self.other.iter().any(|e| e.name == other),
        }
    }
}

/// Branch, tag and path filters of `push` and `pull_request`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefFilter {
    pub branches: Vec<String>,
    pub branches_ignore: Vec<String>,
    pub tags: Vec<String>,
    pub tags_ignore: Vec<String>,
    pub paths: Vec<String>,
    pub paths_ignore: Vec<String>,
    pub types: Vec<String>,
}

/// A GitHub event Gantry parses but does not trigger on.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherEvent {
    pub name: String,
    pub span: Span,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkflowDispatch {
    pub inputs: Vec<(String, Input)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputType {
    #[default]
    String,
    Boolean,
    Choice,
    Number,
    Environment,
}

/// An input of `workflow_dispatch` or `workflow_call`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    pub span: Span,
    pub description: Option<String>,
    pub required: bool,
    /// The default as written (scalars as JSON values).
    pub default: Option<Value>,
    pub ty: InputType,
    /// For `type: choice`.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkflowCall {
    pub inputs: Vec<(String, Input)>,
    pub outputs: Vec<(String, CallOutput)>,
    pub secrets: Vec<(String, CallSecret)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallOutput {
    pub description: Option<String>,
    pub value: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallSecret {
    pub description: Option<String>,
    pub required: bool,
}

/// `defaults:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Defaults {
    pub run: RunDefaults,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunDefaults {
    pub shell: Option<Spanned<String>>,
    pub working_directory: Option<Spanned<String>>,
}

/// `concurrency:`, as a string (the group) or a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Concurrency {
    pub group: Spanned<String>,
    pub cancel_in_progress: Option<BoolOrExpr>,
}

/// A boolean, or a `${{ }}` string evaluated at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum BoolOrExpr {
    Bool(bool),
    Expr(Spanned<String>),
}

/// A number, or a `${{ }}` string evaluated at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberOrExpr {
    Number(f64),
    Expr(Spanned<String>),
}

/// `permissions:`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Permissions {
    /// Not written: the default token permissions apply.
    #[default]
    Unset,
    ReadAll,
    WriteAll,
    /// A mapping of scope to access; `{}` is an empty list (no access).
    Scopes(Vec<(String, Access)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    None,
}

/// `runs-on:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunsOn {
    pub span: Span,
    pub labels: Vec<String>,
    pub group: Option<String>,
}

/// `environment:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: Spanned<String>,
    pub url: Option<Spanned<String>>,
}

/// `strategy:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strategy {
    pub matrix: Option<Matrix>,
    pub fail_fast: Option<BoolOrExpr>,
    pub max_parallel: Option<NumberOrExpr>,
}

/// `secrets:` of a reusable-workflow call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallSecrets {
    Inherit,
    Map(Pairs),
}

/// One job.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Job {
    pub id: String,
    /// The job id key.
    pub span: Span,
    pub name: Option<Spanned<String>>,
    pub runs_on: Option<RunsOn>,
    pub needs: Vec<Spanned<String>>,
    pub condition: Option<Spanned<String>>,
    pub outputs: Pairs,
    pub env: Pairs,
    pub defaults: Defaults,
    pub timeout_minutes: Option<NumberOrExpr>,
    pub continue_on_error: Option<BoolOrExpr>,
    pub strategy: Option<Strategy>,
    pub environment: Option<Environment>,
    pub concurrency: Option<Concurrency>,
    pub permissions: Permissions,
    /// Service containers, kept as written.
    pub services: Vec<(String, Value)>,
    /// The job container, kept as written.
    pub container: Option<Value>,
    pub steps: Vec<Step>,
    /// A reusable-workflow call (`uses: org/repo/.github/workflows/x.yml@v1`
    /// or `./.github/workflows/x.yml`). Parsed, not yet executable.
    pub uses: Option<Spanned<String>>,
    pub with: Vec<(String, Spanned<Value>)>,
    pub secrets: Option<CallSecrets>,
}

impl Job {
    /// Whether the job calls a reusable workflow instead of running steps.
    pub fn is_workflow_call(&self) -> bool {
        self.uses.is_some()
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    /// `run:` a script.
    Run(Spanned<String>),
    /// `uses:` an action.
    Uses(Spanned<String>),
}

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The step's item in the `steps` list.
    pub span: Span,
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub condition: Option<Spanned<String>>,
    pub action: StepAction,
    pub shell: Option<Spanned<String>>,
    pub working_directory: Option<Spanned<String>>,
    pub env: Pairs,
    pub with: Pairs,
    pub timeout_minutes: Option<NumberOrExpr>,
    pub continue_on_error: Option<BoolOrExpr>,
}

impl Step {
    /// The script of a `run:` step.
    pub fn run(&self) -> Option<&str> {
        match &self.action {
            StepAction::Run(s) => Some(&s.value),
            StepAction::Uses(_) => None,
        }
    }

    /// The action of a `uses:` step.
    pub fn uses(&self) -> Option<&str> {
        match &self.action {
            StepAction::Uses(s) => Some(&s.value),
            StepAction::Run(_) => None,
        }
    }
}
