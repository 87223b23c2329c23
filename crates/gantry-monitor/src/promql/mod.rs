//! PromQL evaluation with Prometheus 2.x semantics.
//!
//! Expressions are parsed by the `promql-parser` crate; everything after
//! that is ours: [`Engine`] evaluates the syntax tree against any
//! [`Queryable`] (the head, blocks, or both), one evaluation timestamp at a
//! time. Selector data is fetched once per query for the whole time range
//! it needs (see `eval::plan`) and sliced per step.
//!
//! Results are [`Value`]s; [`Value::to_json`] and [`matrix_json`] render
//! them in the shape of Prometheus's HTTP API `data` object.

mod eval;
mod functions;
mod json;

use thiserror::Error;

use crate::labels::Labels;
use crate::tsdb::{Queryable, Series};

pub use json::matrix_json;

/// The NaN bit pattern Prometheus writes to mark a series as stale.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether a value is a staleness marker (not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Prometheus refuses range queries with more points per series than this.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Tunables of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (5 m).
    pub lookback_delta_ms: i64,
    /// The most samples one query may hold in memory at once.
    pub max_samples: usize,
    /// The step of a subquery written without one (`x[1h:]`); Prometheus
    /// uses the global evaluation interval, 1 m by default.
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            default_subquery_step_ms: 60 * 1000,
        }
    }
}

/// Why a query failed. Messages follow Prometheus's wording.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QueryError {
    /// The expression does not parse; `line` and `col` are 1-based and
    /// point at the offending character (or the start when unknown).
    #[error("{line}:{col}: parse error: {message}")]
    Parse {
        line: usize,
        col: usize,
        message: String,
    },
    /// Evaluation failed (matching errors, invalid function arguments).
    #[error("{0}")]
    Execution(String),
    /// The query would hold more than `max_samples` samples.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples,
    /// The query's parameters are invalid (step, time range, result type).
    #[error("{0}")]
    BadData(String),
}

impl QueryError {
    /// Prometheus's `errorType` for this error in API responses.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse { .. } | QueryError::BadData(_) => "bad_data",
            QueryError::Execution(_) | QueryError::TooManySamples => "execution",
        }
    }
}

/// One element of an instant vector. `t` is the evaluation time for query
/// results.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// A query result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// Prometheus's name of the result type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }

    /// `{"resultType":...,"result":...}` as Prometheus's API returns it.
    pub fn to_json(&self) -> String {
        json::value_json(self)
    }
}

/// Evaluates PromQL expressions.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub options: EngineOptions,
}

impl Engine {
    pub fn new(options: EngineOptions) -> Engine {
        Engine { options }
    }

    /// Evaluates `expr` at one instant (milliseconds).
    pub fn instant_query(
        &self,
        q: &dyn Queryable,
        expr: &str,
        time_ms: i64,
    ) -> Result<Value, QueryError> {
        on_query_stack(|| {
            let ast = parse(expr)?;
            eval::instant(&self.options, q, &ast, time_ms)
        })
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms`
    /// (inclusive), returning one series per distinct label set, sorted by
    /// labels.
    pub fn range_query(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<Series>, QueryError> {
        if end_ms < start_ms {
            return Err(QueryError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        if step_ms <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if (end_ms as i128 - start_ms as i128) / step_ms as i128 > MAX_POINTS_PER_SERIES as i128 {
            return Err(QueryError::BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        on_query_stack(|| {
            let ast = parse(expr)?;
            eval::range(&self.options, q, &ast, start_ms, end_ms, step_ms)
        })
    }
}

/// The stack a query is parsed and evaluated on. Both recurse over the
/// tree; [`MAX_DEPTH`] and [`MAX_OPERATORS`] are sized for this stack, so
/// the limits hold whatever thread (a test harness's, a blocking pool's)
/// asks. Untouched stack pages cost nothing.
pub const QUERY_STACK: usize = 64 << 20;

thread_local! {
    /// Set on threads started with a [`QUERY_STACK`]-sized stack.
    static ON_QUERY_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Declares that the calling thread was started with a stack of at least
/// [`QUERY_STACK`] bytes, so queries on it run in place instead of on a
/// thread of their own (a server's runtime threads: spawning a thread per
/// query costs more than evaluating a small one).
pub fn mark_query_stack_thread() {
    ON_QUERY_STACK.with(|c| c.set(true));
}

fn on_query_stack<T: Send>(
    f: impl FnOnce() -> Result<T, QueryError> + Send,
) -> Result<T, QueryError> {
    if ON_QUERY_STACK.with(|c| c.get()) {
        return f();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("promql".into())
            .stack_size(QUERY_STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| QueryError::Execution(format!("cannot start a query thread: {e}")))?;
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Parses an expression, turning the parser's message into a positioned
/// [`QueryError::Parse`].
pub fn parse(expr: &str) -> Result<promql_parser::parser::Expr, QueryError> {
    // The parser and the evaluator recurse over the tree: refuse trees
    // deep enough to exhaust a thread's stack instead of aborting.
    if let Some(offset) = too_many_operators(expr) {
        let (line, col) = line_col(expr, offset);
        return Err(QueryError::Parse {
            line,
            col,
            message: format!("expression is too complex: more than {MAX_OPERATORS} operators"),
        });
    }
    let ast = parse_unchecked(expr)?;
    if eval::depth(&ast) > MAX_DEPTH {
        return Err(QueryError::Parse {
            line: 1,
            col: 1,
            message: format!("expression is nested too deeply: more than {MAX_DEPTH} levels"),
        });
    }
    Ok(ast)
}

/// The most operators, brackets, commas and words outside string literals
/// a query may have (the parser recurses over them).
pub const MAX_OPERATORS: usize = 2000;

/// The deepest expression tree the evaluator accepts.
pub const MAX_DEPTH: usize = 256;

/// The offset of the operator past [`MAX_OPERATORS`], if there is one.
fn too_many_operators(expr: &str) -> Option<usize> {
    let mut count = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev_word = false;
    for (i, c) in expr.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            prev_word = false;
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' | '+' | '-' | '*' | '/' | '%' | '^' | '<' | '>' | '=' | '!' | ',' => {
                count += 1
            }
            // A word (keyword operators like `or` are words) counts once.
            c if (c.is_alphabetic() || c == '_') && !prev_word => count += 1,
            _ => {}
        }
        prev_word = c.is_alphanumeric() || c == '_' || c == ':' || c == '.';
        if count > MAX_OPERATORS {
            return Some(i);
        }
    }
    None
}

fn parse_unchecked(expr: &str) -> Result<promql_parser::parser::Expr, QueryError> {
    promql_parser::parser::parse(expr).map_err(|mut message| {
        let offset = error_offset(expr, &message);
        let (line, col) = line_col(expr, offset);
        // The parser says only this for every grammar error; name what is
        // at the position instead, as Prometheus does.
        if message == "invalid promql query" {
            message = match token_at(expr, offset) {
                None => "unexpected end of input".to_string(),
                Some(tok) => format!("unexpected {tok:?}"),
            };
        }
        QueryError::Parse { line, col, message }
    })
}

/// The token-like text starting at a byte offset: a run of word
/// characters, or one other character.
fn token_at(input: &str, offset: usize) -> Option<&str> {
    let rest = input.get(offset..)?;
    let first = rest.chars().next()?;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let end = if word(first) {
        rest.char_indices()
            .find(|(_, c)| !word(*c))
            .map(|(i, _)| i)
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    Some(&rest[..end])
}

/// Where in `input` a parse error most likely is (a byte offset).
///
/// The parser reports messages without positions. For errors of the
/// lexer, the shortest prefix that yields the same message ends right
/// after the offending character. For grammar errors, the shortest prefix
/// after which no appended closing brackets or operand makes the input
/// parse points at the first token that cannot continue it; when all of
/// the input could continue, the error is at its end.
fn error_offset(input: &str, message: &str) -> usize {
    // Quadratic in the length; long inputs get the start.
    if input.len() > 300 {
        return 0;
    }
    let bounds: Vec<usize> = input
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    let lex_error = promql_parser::parser::lexer(input).err();
    if lex_error.as_deref() == Some(message) {
        for &end in &bounds {
            if promql_parser::parser::lexer(&input[..end]).err().as_deref() == Some(message) {
                let start = input[..end]
                    .char_indices()
                    .last()
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                return start;
            }
        }
        return 0;
    }
    // Grammar or type error: find the longest prefix that some simple
    // completion (plus the brackets it leaves open) turns into a valid
    // expression; the error is just after it. Prefixes end where a token
    // can end: before a space, a bracket or a change of character class.
    const COMPLETIONS: [&str; 7] = ["", " 1", "()", "}", "]", "\"}", "\")"];
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let class = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut best = 0;
    for (n, &(i, c)) in chars.iter().enumerate() {
        let end = i + c.len_utf8();
        if let Some(&(_, next)) = chars.get(n + 1)
            && class(next) == class(c)
            && class(c)
        {
            continue;
        }
        let prefix = &input[..end];
        let open = prefix
            .matches('(')
            .count()
            .saturating_sub(prefix.matches(')').count());
        let ok = COMPLETIONS.iter().any(|c| {
            let mut s = String::with_capacity(prefix.len() + c.len() + open);
            s.push_str(prefix);
            s.push_str(c);
            s.push_str(&")".repeat(open));
            promql_parser::parser::parse(&s).is_ok()
        });
        if ok {
            best = end;
        }
    }
    if best >= input.len() {
        // Everything so far could continue: the input ended too early.
        return input.len();
    }
    // Skip whitespace to land on the next token.
    best + input[best..]
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(input: &str, offset: usize) -> (usize, usize) {
    let before = &input[..offset.min(input.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// The matchers of a series selector, as the HTTP API's `match[]`
/// parameters take them (`up`, `{job="a"}`, `http_requests_total{code=~"5.."}`).
pub fn selector_matchers(selector: &str) -> Result<Vec<crate::labels::Matcher>, QueryError> {
    match parse(selector)? {
        promql_parser::parser::Expr::VectorSelector(vs) => eval::selector_matchers(&vs),
        _ => Err(QueryError::BadData(format!(
            "invalid parameter \"match[]\": {selector:?} is not a series selector"
        ))),
    }
}
