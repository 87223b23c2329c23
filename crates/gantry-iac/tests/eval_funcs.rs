//! Function-call plumbing with real built-in functions. These need
//! `crate::funcs` to implement `upper`, `length`, `concat`, `max`; with the
//! placeholder they fail (by design: names start with `eval_funcs_`).
#![allow(clippy::result_large_err)] // `Evaluator::eval` returns a plain `Diagnostic`

mod eval_support;

use eval_support::*;
use gantry_iac::value::{Type, Value};

fn seq(v: Value) -> Vec<Value> {
    v.as_seq().map(<[Value]>::to_vec).unwrap_or_default()
}

#[test]
fn eval_funcs_calls_builtins() {
    assert_eq!(eval("upper(\"x\")"), Ok(s("X")));
    assert_eq!(eval("length(var.list)"), Ok(n(3.0)));
    assert_eq!(
        eval("length(var.list) > 0 ? var.list[0] : \"\""),
        Ok(s("a"))
    );
    assert_eq!(
        eval("concat([1], [2, 3])").map(seq),
        Ok(vec![n(1.0), n(2.0), n(3.0)])
    );
    assert_eq!(
        eval("[for x in var.list : upper(x)]"),
        Ok(tup(vec![s("A"), s("B"), s("C")]))
    );
    assert_eq!(eval("\"${upper(var.name)}!\""), Ok(s("WEB!")));
}

#[test]
fn eval_funcs_expand_final_argument() {
    assert_eq!(eval("max([1, 5, 3]...)"), Ok(n(5.0)));
    assert_eq!(eval("max(var.num, [1, 7]...)"), Ok(n(7.0)));
    assert_eq!(eval("max(var.unknown_list...)"), Ok(unk(Type::Any)));
    let d = eval("max(1, var.null...)").unwrap_err();
    assert!(d.message.contains("must not be null"), "{d:?}");
    assert_eq!(d.span.map(|s| (s.line, s.col)), Some((1, 8)));
    let d = eval("max(\"x\"...)").unwrap_err();
    assert!(
        d.message.contains("must be of a tuple, list, or set type"),
        "{d:?}"
    );
}

#[test]
fn eval_funcs_unknowns_and_marks_pass_through() {
    assert_eq!(eval("upper(var.unknown_str)"), Ok(unk(Type::String)));
    assert_eq!(eval("upper(var.secret)"), Ok(s("HUNTER2").mark()));
    assert_eq!(eval("try(upper(var.obj.nope), \"d\")"), Ok(s("d")));
}

#[test]
fn eval_funcs_errors_point_at_the_call_or_argument() {
    let d = eval("uper(\"x\")").unwrap_err();
    assert_eq!(
        d.message,
        "call to unknown function; there is no function named \"uper\""
    );
    assert_eq!(d.help.as_deref(), Some("did you mean \"upper\"?"));
    let d = eval("upper([1])").unwrap_err();
    let at_arg = d.message.starts_with("invalid value for \"") && d.span.map(|s| s.col) == Some(7);
    let at_call = d.message.starts_with("call to function \"upper\" failed: ")
        && d.span.map(|s| s.col) == Some(1);
    assert!(at_arg || at_call, "{d:?}");
}
