//! The evaluator as a `FuncHost`: `templatefile` rendering with only the
//! given variables in scope.
#![allow(clippy::result_large_err)] // `Evaluator::eval` returns a plain `Diagnostic`

mod eval_support;

use std::path::Path;

use eval_support::*;
use gantry_iac::funcs::{FuncHost, Phase};
use gantry_iac::value::Value;

fn render(text: &str, vars: Value) -> Result<Value, String> {
    with_evaluator(|ev| ev.render_template(Path::new("t.tpl"), text, &vars))
}

#[test]
fn renders_with_only_the_given_vars() {
    assert_eq!(
        render("Hello ${name}!", obj(&[("name", s("x"))])),
        Ok(s("Hello x!"))
    );
    assert_eq!(
        render(
            "%{ for i, p in ports ~}\nport ${i}: ${p}\n%{ endfor ~}\n",
            map(&[("ports", tup(vec![n(80.0), n(443.0)]))])
        ),
        Ok(s("port 0: 80\nport 1: 443\n"))
    );
    // A lone interpolation yields the value itself.
    assert_eq!(
        render("${items}", obj(&[("items", tup(vec![n(1.0)]))])),
        Ok(tup(vec![n(1.0)]))
    );
    assert_eq!(
        render("pw=${pw}", obj(&[("pw", s("s").mark())])),
        Ok(s("pw=s").mark())
    );
    assert_eq!(
        render("${a}", obj(&[("a", s("1"))]).mark()),
        Ok(s("1").mark())
    );
    assert_eq!(render("no vars", obj(&[])), Ok(s("no vars")));
}

#[test]
fn template_errors_name_the_file() {
    let e = render("x ${var.name}", obj(&[])).unwrap_err();
    assert_eq!(
        e,
        "t.tpl:1:5: invalid reference; vars map does not contain key \"var\""
    );
    let e = render("line\n${missing}", obj(&[("other", n(1.0))])).unwrap_err();
    assert!(e.starts_with("t.tpl:2:3: "), "{e}");
    let e = render("${", obj(&[])).unwrap_err();
    assert!(e.starts_with("t.tpl: failed to parse template"), "{e}");
    let e = render("${templatefile(\"t.tpl\", {})}", obj(&[])).unwrap_err();
    assert_eq!(
        e,
        "t.tpl:1:3: call to function \"templatefile\" failed: cannot recursively call templatefile from inside a template"
    );
    let e = render("x", s("str")).unwrap_err();
    assert!(e.contains("a map or object is required"), "{e}");
    let e = render("x", obj(&[("bad key", n(1.0))])).unwrap_err();
    assert!(
        e.contains("invalid template variable name \"bad key\""),
        "{e}"
    );
}

#[test]
fn host_reports_phase_and_base_dir() {
    with_evaluator(|ev| {
        assert_eq!(FuncHost::phase(ev), Phase::Plan);
        assert_eq!(FuncHost::base_dir(ev), Path::new("."));
    });
}
