//! Shared helpers for the evaluator tests: a small scope, parsing, and
//! value builders.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use gantry_config::Diagnostic;
use gantry_iac::eval::{Evaluator, Root, Scope};
use gantry_iac::funcs::Phase;
use gantry_iac::syntax::{BlockBody, Expr, Mode, Src};
use gantry_iac::value::{Type, Value};

pub fn s(x: &str) -> Value {
    Value::from(x)
}

pub fn n(x: f64) -> Value {
    Value::Number(x)
}

pub fn b(x: bool) -> Value {
    Value::Bool(x)
}

pub fn tup(xs: Vec<Value>) -> Value {
    Value::Tuple(xs)
}

pub fn list(xs: Vec<Value>) -> Value {
    Value::List(xs)
}

pub fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub fn unk(t: Type) -> Value {
    Value::Unknown(t)
}

pub fn obj_type(pairs: &[(&str, Type)]) -> Type {
    Type::object(
        pairs
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
    )
}

/// Variables, locals, resources and the rest, as a module instance would
/// see them.
pub struct TestScope {
    vars: BTreeMap<String, Value>,
    locals: BTreeMap<String, Value>,
}

impl TestScope {
    pub fn new() -> Self {
        let objs = list(vec![
            obj(&[("name", s("a")), ("tags", obj(&[("env", s("dev"))]))]),
            obj(&[("name", s("b")), ("tags", obj(&[("env", s("prod"))]))]),
        ]);
        let vars = [
            ("name", s("web")),
            ("num", n(3.0)),
            ("list", list(vec![s("a"), s("b"), s("c")])),
            ("empty", list(vec![])),
            ("map", map(&[("a", n(1.0)), ("b", n(2.0))])),
            (
                "obj",
                obj(&[
                    ("name", s("x")),
                    ("tags", obj(&[("env", s("prod"))])),
                    ("ports", list(vec![n(80.0), n(443.0)])),
                ]),
            ),
            ("objs", objs),
            ("set", Value::set_from(vec![s("q"), s("p")])),
            ("null", Value::Null),
            ("t", b(true)),
            ("secret", s("hunter2").mark()),
            ("secret_num", n(5.0).mark()),
            ("secret_bool", b(true).mark()),
            ("secret_list", list(vec![s("s1"), s("s2")]).mark()),
            ("secret_obj", obj(&[("field", s("f"))]).mark()),
            ("mixed", list(vec![s("a"), s("b").mark()])),
            ("unknown_str", unk(Type::String)),
            ("unknown_num", unk(Type::Number)),
            ("unknown_bool", unk(Type::Bool)),
            ("unknown_list", unk(Type::list(Type::String))),
            ("unknown_map", unk(Type::map(Type::Number))),
            ("unknown_any", unk(Type::Any)),
            (
                "unknown_obj",
                unk(obj_type(&[("id", Type::String), ("n", Type::Number)])),
            ),
            (
                "unknown_objs",
                unk(Type::list(obj_type(&[("id", Type::String)]))),
            ),
            ("partly", list(vec![s("a"), unk(Type::String)])),
            ("big", n(1e308)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let locals = [("greeting", s("hello")), ("key", s("b"))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        TestScope { vars, locals }
    }
}

impl Default for TestScope {
    fn default() -> Self {
        Self::new()
    }
}

impl Scope for TestScope {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        match root {
            Root::Var(v) => self
                .vars
                .get(v)
                .cloned()
                .ok_or_else(|| format!("reference to undeclared input variable {v:?}")),
            Root::Local(l) => self
                .locals
                .get(l)
                .cloned()
                .ok_or_else(|| format!("reference to undeclared local value {l:?}")),
            Root::Module(m) if m == "net" => Ok(obj(&[("vpc_id", s("vpc-1"))])),
            Root::Module(m) => Err(format!("reference to undeclared module {m:?}")),
            Root::Resource {
                mode: Mode::Managed,
                type_name,
                name,
            } => match (type_name.as_str(), name.as_str()) {
                ("aws_instance", "web") => Ok(obj(&[
                    ("id", s("i-123")),
                    ("tags", map(&[("Name", s("web"))])),
                ])),
                ("aws_instance", "many") => Ok(tup(vec![
                    obj(&[("id", s("i-1"))]),
                    obj(&[("id", s("i-2"))]),
                ])),
                ("aws_instance", "pending") => Ok(unk(obj_type(&[("id", Type::String)]))),
                _ => Err(format!(
                    "reference to undeclared resource; a managed resource {type_name:?} {name:?} has not been declared in the root module"
                )),
            },
            Root::Resource {
                mode: Mode::Data,
                type_name,
                name,
            } => {
                if type_name == "aws_ami" && name == "ubuntu" {
                    Ok(obj(&[("id", s("ami-1"))]))
                } else {
                    Err(format!(
                        "reference to undeclared resource; a data resource {type_name:?} {name:?} has not been declared in the root module"
                    ))
                }
            }
            Root::CountIndex => Ok(n(0.0)),
            Root::EachKey => Ok(s("k")),
            Root::EachValue => Ok(s("v")),
            Root::Path(p) => Ok(s(if p == "module" { "./mod" } else { "." })),
            Root::Workspace => Ok(s("default")),
            Root::SelfRef => Ok(obj(&[("id", s("self-id"))])),
        }
    }
}

pub fn src(text: &str) -> Arc<Src> {
    Arc::new(Src::new("main.tf", text))
}

pub fn parse(text: &str) -> Expr {
    let expr = hcl_edit::parser::parse_expr(text)
        .unwrap_or_else(|e| panic!("test expression {text:?} does not parse: {e}"));
    Expr {
        expr,
        src: src(text),
    }
}

pub fn parse_body(text: &str) -> BlockBody {
    let body = hcl_edit::parser::parse_body(text)
        .unwrap_or_else(|e| panic!("test body {text:?} does not parse: {e}"));
    BlockBody {
        body,
        src: src(text),
    }
}

pub fn with_evaluator<T>(f: impl FnOnce(&Evaluator) -> T) -> T {
    let scope = TestScope::new();
    let ev = Evaluator {
        scope: &scope,
        phase: Phase::Plan,
        base_dir: Path::new("."),
    };
    f(&ev)
}

pub fn eval(text: &str) -> Result<Value, Diagnostic> {
    with_evaluator(|ev| ev.eval(&parse(text)))
}

/// What an expression should give.
pub enum Want {
    Val(Value),
    /// A message fragment and `line:col`.
    Err(&'static str, &'static str),
}

/// Runs a table; reports every failing row at once.
pub fn run_table(rows: &[(&str, Want)]) {
    let mut failures = Vec::new();
    for (text, want) in rows {
        let got = eval(text);
        match (want, &got) {
            (Want::Val(v), Ok(g)) if g == v => {}
            (Want::Err(msg, pos), Err(d))
                if d.message.contains(msg)
                    && d.span.map(|s| format!("{}:{}", s.line, s.col)).as_deref() == Some(pos) => {}
            (Want::Val(v), _) => failures.push(format!("{text}\n  want {v:?}\n  got  {got:?}")),
            (Want::Err(m, p), _) => {
                failures.push(format!("{text}\n  want error {m:?} at {p}\n  got  {got:?}"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
