//! Table-driven tests for GitHub Actions expressions (`gantry_pipeline::expr`).
//! Expected values follow GitHub's runner behaviour (see `src/expr/mod.rs`).

use gantry_pipeline::expr::{
    self, Context, Status, Value, evaluate, evaluate_if, find_embedded, interpolate, is_truthy,
    parse, to_display_string, uses_status_function,
};
use serde_json::json;

struct Fixture {
    contexts: serde_json::Map<String, Value>,
    status: Status,
}

impl Context for Fixture {
    fn named(&self, name: &str) -> Option<&Value> {
        self.contexts.get(name)
    }
    fn status(&self) -> Status {
        self.status
    }
    fn hash_files(&self, patterns: &[String]) -> Result<String, String> {
        if patterns.iter().any(|p| p == "boom") {
            return Err("cannot read boom: permission denied".to_string());
        }
        if patterns.iter().all(|p| p.starts_with("none/")) {
            return Ok(String::new());
        }
        Ok(format!("hash:{}", patterns.join("|")))
    }
}

/// Every context except `vars`, which is "unavailable here".
fn fixture(status: Status) -> Fixture {
    let v = json!({
        "github": {
            "event_name": "push",
            "ref": "refs/heads/main",
            "sha": "abc123",
            "repository": "octo/repo",
            "run_number": 42,
            "event": {
                "number": 7,
                "labels": [{"name": "bug", "color": "red"}, {"name": "Docs", "color": "blue"}],
                "commits": [{"id": "c1", "files": ["a.rs", "b.rs"]}, {"id": "c2", "files": ["c.rs"]}],
                "pull_request": {"head": {"ref": "feature"}, "draft": false, "title": "Fix: Stuff"},
                "empty": [],
                "nested": {"a": {"x": 1}, "b": {"x": 2}},
                "big": 1234567890123456_u64,
                "pi": std::f64::consts::PI,
                "neg": -0.5,
                "zero": 0,
                "str_num": "42"
            }
        },
        "env": {"CI": "true", "NAME": "World", "EMPTY": "", "NUM": "3"},
        "matrix": {"os": "ubuntu-latest", "node": 18},
        "needs": {
            "build": {"result": "success", "outputs": {"version": "1.2.3", "json": "{\"a\":[1,2]}"}},
            "test": {"result": "failure", "outputs": {}}
        },
        "steps": {
            "checkout": {"outcome": "success", "conclusion": "success", "outputs": {}},
            "my-step": {"outcome": "failure", "conclusion": "success", "outputs": {"value": "out"}}
        },
        "secrets": {"TOKEN": "s3cr3t"},
        "inputs": {"debug": true, "level": "info", "count": 0},
        "job": {"status": "success"},
        "runner": {"os": "Linux"},
        "strategy": {"fail-fast": true}
    });
    let Value::Object(contexts) = v else {
        unreachable!("fixture is an object literal")
    };
    Fixture { contexts, status }
}

fn eval_str(src: &str, ctx: &dyn Context) -> Result<Value, expr::ExprError> {
    evaluate(&parse(src)?, ctx)
}

/// (expression, expected value) with status Success.
fn value_cases() -> Vec<(&'static str, Value)> {
    vec![
        // literals
        ("null", json!(null)),
        ("true", json!(true)),
        ("false", json!(false)),
        ("42", json!(42)),
        ("-7", json!(-7)),
        ("3.5", json!(3.5)),
        ("0xff", json!(255)),
        ("0x7fffffff", json!(2147483647)),
        ("0xffffffff", json!(-1)),
        ("0o17", json!(15)),
        ("1e3", json!(1000)),
        ("-1.5e-2", json!(-0.015)),
        (".5", json!(0.5)),
        ("+5", json!(5)),
        ("1.0", json!(1)),
        ("'hello'", json!("hello")),
        ("'it''s'", json!("it's")),
        ("''", json!("")),
        ("'say \"hi\"'", json!("say \"hi\"")),
        ("Infinity", json!("Infinity")),
        ("-Infinity", json!("-Infinity")),
        ("1e400", json!("Infinity")),
        ("NaN", json!(null)),
        ("(1)", json!(1)),
        ("((('x')))", json!("x")),
        // property access
        ("github.event_name", json!("push")),
        ("github.EVENT_NAME", json!("push")),
        ("GITHUB.event_name", json!("push")),
        ("  github . event_name  ", json!("push")),
        ("github['event_name']", json!("push")),
        ("github['EVENT_name']", json!("push")),
        ("github.event.labels[0].name", json!("bug")),
        ("github.event.labels[1]['name']", json!("Docs")),
        ("github.event.labels[5]", json!(null)),
        ("github.event.labels[-1]", json!(null)),
        ("github.event.labels['1'].name", json!("Docs")),
        ("github.event.labels[1.9].name", json!("Docs")),
        ("github.event.labels[true].name", json!("Docs")),
        ("github.event.labels[null].name", json!("bug")),
        ("github.event.labels.name", json!(null)),
        ("github.nonexistent", json!(null)),
        ("github.nonexistent.deeper", json!(null)),
        ("github.event_name.length", json!(null)),
        ("github.event.number[0]", json!(null)),
        ("steps.my-step.outputs.value", json!("out")),
        ("steps['my-step'].outcome", json!("failure")),
        ("needs.build.outputs.version", json!("1.2.3")),
        ("needs[format('{0}', 'build')].result", json!("success")),
        ("matrix.node", json!(18)),
        ("env.NAME", json!("World")),
        ("env.name", json!("World")),
        ("secrets.TOKEN", json!("s3cr3t")),
        ("inputs.debug", json!(true)),
        ("strategy.fail-fast", json!(true)),
        ("github.event.nested.a.x", json!(1)),
        ("github.event.commits[1].files[0]", json!("c.rs")),
        ("github.event.pull_request.head.ref", json!("feature")),
        (
            "github.event.labels",
            json!([{"name": "bug", "color": "red"}, {"name": "Docs", "color": "blue"}]),
        ),
        ("github.event.nested.true", json!(null)),
        // object filters
        ("github.event.labels.*.name", json!(["bug", "Docs"])),
        ("github.event.labels[*].name", json!(["bug", "Docs"])),
        ("github.event.nested.*.x", json!([1, 2])),
        ("github.event.nested.*", json!([{"x": 1}, {"x": 2}])),
        (
            "github.event.commits.*.files",
            json!([["a.rs", "b.rs"], ["c.rs"]]),
        ),
        (
            "github.event.commits.*.files.*",
            json!(["a.rs", "b.rs", "c.rs"]),
        ),
        ("github.event.commits.*.files[0]", json!(["a.rs", "c.rs"])),
        ("github.event.labels.*.missing", json!([])),
        ("github.event.labels.*[0]", json!([])),
        ("github.event.labels.*.name[1]", json!([])),
        ("github.event.empty.*", json!([])),
        ("github.event_name.*", json!([])),
        ("github.nonexistent.*.name", json!([])),
        (
            "fromJSON('[{\"n\":1},{\"n\":2},{\"m\":3}]').*.n",
            json!([1, 2]),
        ),
        (
            "github.event.labels.*.name == github.event.labels.*.name",
            json!(false),
        ),
        ("contains(github.event.labels.*.name, 'docs')", json!(true)),
        ("join(github.event.labels.*.name, ', ')", json!("bug, Docs")),
        (
            "toJSON(github.event.labels.*.name)",
            json!("[\n  \"bug\",\n  \"Docs\"\n]"),
        ),
        // not
        ("!true", json!(false)),
        ("!0", json!(true)),
        ("!''", json!(true)),
        ("!'a'", json!(false)),
        ("!null", json!(true)),
        ("!NaN", json!(true)),
        ("!!github.event", json!(true)),
        ("!github.event.empty", json!(false)),
        ("!1 == 0", json!(true)),
        // equality and coercion
        ("1 == 1", json!(true)),
        ("1 == 2", json!(false)),
        ("1 != 2", json!(true)),
        ("1 == 1.0", json!(true)),
        ("-0 == 0", json!(true)),
        ("'abc' == 'ABC'", json!(true)),
        ("'abc' != 'ABC'", json!(false)),
        ("'straße' == 'STRASSE'", json!(false)),
        ("'é' == 'É'", json!(true)),
        ("'1' == 1", json!(true)),
        ("'0x10' == 16", json!(true)),
        ("' 2 ' == 2", json!(true)),
        ("'' == 0", json!(true)),
        ("'abc' == 0", json!(false)),
        ("'1,000' == 1000", json!(false)),
        ("0.1 == '0.1'", json!(true)),
        ("'Infinity' == Infinity", json!(true)),
        ("null == 0", json!(true)),
        ("null == ''", json!(true)),
        ("null == false", json!(true)),
        ("null == null", json!(true)),
        ("true == 1", json!(true)),
        ("true == '1'", json!(true)),
        ("false == ''", json!(true)),
        ("true == 'true'", json!(false)),
        ("NaN == NaN", json!(false)),
        ("NaN != NaN", json!(true)),
        ("github.event == github.event", json!(true)),
        ("github.event.labels == github.event.labels", json!(true)),
        ("fromJSON('[1]') == fromJSON('[1]')", json!(false)),
        ("github.event == 'Object'", json!(false)),
        ("github.event.empty == 0", json!(false)),
        ("github.event != null", json!(true)),
        ("github.event.str_num == 42", json!(true)),
        ("inputs.count == false", json!(true)),
        // relational
        ("1 < 2", json!(true)),
        ("2 <= 2", json!(true)),
        ("3 > 2", json!(true)),
        ("2 >= 3", json!(false)),
        ("'a' < 'B'", json!(true)),
        ("'B' < 'a'", json!(false)),
        ("'abc' <= 'ABC'", json!(true)),
        ("'10' < 9", json!(false)),
        ("'10' > 9", json!(true)),
        ("'abc' < 1", json!(false)),
        ("'abc' >= 1", json!(false)),
        ("null < 1", json!(true)),
        ("true > false", json!(true)),
        ("null >= null", json!(true)),
        ("null > null", json!(false)),
        ("github.event >= github.event", json!(true)),
        ("github.event > github.event", json!(false)),
        ("matrix.node >= 16", json!(true)),
        ("env.NUM > 2", json!(true)),
        ("NaN < 1", json!(false)),
        ("NaN >= NaN", json!(false)),
        // precedence and associativity
        ("1 < 2 == true", json!(true)),
        ("1 < 2 < 3", json!(true)),
        ("3 > 2 > 1", json!(false)),
        ("true || false && false", json!(true)),
        ("(true || false) && false", json!(false)),
        ("1 == 1 && 2 == 2", json!(true)),
        // && and || return operands
        ("true && 'yes'", json!("yes")),
        ("false && 'yes'", json!(false)),
        ("'' && 'yes'", json!("")),
        ("0 || 'fallback'", json!("fallback")),
        ("'a' || 'b'", json!("a")),
        ("null || null", json!(null)),
        ("false || 0 || ''", json!("")),
        ("1 && 2 && 3", json!(3)),
        ("1 && 0 && 3", json!(0)),
        (
            "github.event_name == 'push' && 'deploy' || 'skip'",
            json!("deploy"),
        ),
        (
            "github.event_name == 'pull_request' && 'deploy' || 'skip'",
            json!("skip"),
        ),
        ("false && fromJSON('bad')", json!(false)),
        ("true || fromJSON('bad')", json!(true)),
        (
            "github.event.labels || 'x'",
            json!([{"name": "bug", "color": "red"}, {"name": "Docs", "color": "blue"}]),
        ),
        // contains / startsWith / endsWith
        ("contains('Hello World', 'WORLD')", json!(true)),
        ("contains('abc', 'd')", json!(false)),
        ("contains('abc', '')", json!(true)),
        ("contains(null, '')", json!(true)),
        ("contains(123, 2)", json!(true)),
        ("contains(true, 'ru')", json!(true)),
        ("contains(fromJSON('[\"a\",\"b\"]'), 'B')", json!(true)),
        ("contains(fromJSON('[1,2]'), '2')", json!(true)),
        ("contains(fromJSON('[1,2]'), 3)", json!(false)),
        ("contains(fromJSON('[]'), 1)", json!(false)),
        ("contains(fromJSON('[[1]]'), fromJSON('[1]'))", json!(false)),
        ("contains(github.event, 'number')", json!(false)),
        ("contains('abc', github.event)", json!(false)),
        (
            "contains(github.event.labels, github.event.labels[0])",
            json!(true),
        ),
        (
            "contains(github.event.empty, fromJSON('bad'))",
            json!(false),
        ),
        ("CONTAINS('abc', 'B')", json!(true)),
        ("startsWith('Hello', 'he')", json!(true)),
        ("startsWith('Hello', 'lo')", json!(false)),
        ("startsWith(12, 1)", json!(true)),
        ("startsWith(github.event, '')", json!(false)),
        ("startsWith('abc', github.event)", json!(false)),
        ("startswith(github.ref, 'refs/HEADS/')", json!(true)),
        ("endsWith('Hello', 'LO')", json!(true)),
        ("endsWith(github.ref, '/main')", json!(true)),
        ("endsWith('abc', 'abcd')", json!(false)),
        // format
        ("format('{0} {1}', 'Hello', 'World')", json!("Hello World")),
        ("format('{1}{0}{1}', 'a', 'b')", json!("bab")),
        ("format('{{0}} {0}', 'x')", json!("{0} x")),
        ("format('}}{{')", json!("}{")),
        ("format('no args')", json!("no args")),
        ("format('{00}', 'a')", json!("a")),
        ("format('{0}', null)", json!("")),
        ("format('{0}', true)", json!("true")),
        ("format('{0}', github.event)", json!("Object")),
        ("format('{0}', fromJSON('[1]'))", json!("Array")),
        ("format('{0}', 1.5)", json!("1.5")),
        ("format('{0}', -0.5)", json!("-0.5")),
        ("format('{0}', 100)", json!("100")),
        ("format('{0}', 123456789012345)", json!("123456789012345")),
        (
            "format('{0}', 1234567890123456)",
            json!("1.23456789012346E+15"),
        ),
        (
            "format('{0}', github.event.big)",
            json!("1.23456789012346E+15"),
        ),
        ("format('{0}', github.event.pi)", json!("3.14159265358979")),
        ("format('{0}', 1e15)", json!("1E+15")),
        ("format('{0}', 0.0001)", json!("0.0001")),
        ("format('{0}', 0.00001)", json!("1E-05")),
        ("format('{0}', Infinity)", json!("Infinity")),
        ("format('{0}', -Infinity)", json!("-Infinity")),
        ("format('{0}', NaN)", json!("NaN")),
        ("format('{0}', 0xff)", json!("255")),
        ("format(1, 2)", json!("1")),
        // join
        ("join(fromJSON('[\"a\",\"b\",\"c\"]'))", json!("a,b,c")),
        ("join(fromJSON('[\"a\",\"b\"]'), '-')", json!("a-b")),
        ("join(fromJSON('[\"x\"]'), '-')", json!("x")),
        ("join(fromJSON('[]'), '-')", json!("")),
        ("join('abc', '-')", json!("abc")),
        ("join(null)", json!("")),
        ("join(github.event, '-')", json!("")),
        (
            "join(fromJSON('[1,true,null,[1],{}]'), ' ')",
            json!("1 true  Array Object"),
        ),
        ("join(fromJSON('[1,2]'), github.event)", json!("1,2")),
        ("join(fromJSON('[1,2]'), 0)", json!("102")),
        // toJSON / fromJSON
        ("toJSON('a\"b')", json!("\"a\\\"b\"")),
        ("toJSON(1)", json!("1")),
        ("toJSON(null)", json!("null")),
        ("toJSON(true)", json!("true")),
        ("toJSON(github.event.big)", json!("1.23456789012346E+15")),
        (
            "toJSON(github.event.nested)",
            json!("{\n  \"a\": {\n    \"x\": 1\n  },\n  \"b\": {\n    \"x\": 2\n  }\n}"),
        ),
        ("toJSON(fromJSON('[]'))", json!("[]")),
        ("toJSON(fromJSON('{}'))", json!("{}")),
        (
            "toJSON(fromJSON('[1.5,\"x\\n\",[]]'))",
            json!("[\n  1.5,\n  \"x\\n\",\n  []\n]"),
        ),
        ("toJSON(steps.checkout.outputs)", json!("{}")),
        ("tojson(1)", json!("1")),
        ("fromJSON('{\"a\":1}').a", json!(1)),
        ("fromJSON('{\"A\":1}').a", json!(1)),
        ("fromJSON('true')", json!(true)),
        ("fromJSON('null')", json!(null)),
        ("fromJSON('\"s\"')", json!("s")),
        ("fromJSON('[1,2]')[1]", json!(2)),
        ("fromJSON('1.5')", json!(1.5)),
        ("fromJSON(' 42 ')", json!(42)),
        ("fromJSON(needs.build.outputs.json).a[1]", json!(2)),
        ("fromJSON('{\"a\":{\"b\":1}}')['a']['b']", json!(1)),
        ("FromJson('2')", json!(2)),
        ("fromJSON(toJSON(github.event.nested)).b.x", json!(2)),
        // hashFiles and status functions (status Success here)
        ("hashFiles('**/*.rs')", json!("hash:**/*.rs")),
        ("hashFiles('a', 'b')", json!("hash:a|b")),
        ("hashFiles('none/**')", json!("")),
        ("HASHFILES('x')", json!("hash:x")),
        ("always()", json!(true)),
        ("success()", json!(true)),
        ("failure()", json!(false)),
        ("cancelled()", json!(false)),
        ("Success()", json!(true)),
        ("success() && github.event_name", json!("push")),
        // numbers read from the context
        ("github.event.pi", json!(std::f64::consts::PI)),
        ("github.event.neg", json!(-0.5)),
        (
            "github.event.zero || 'zero is falsy'",
            json!("zero is falsy"),
        ),
    ]
}

/// (expression, expected message substring, expected offset).
fn error_cases() -> Vec<(&'static str, &'static str, usize)> {
    vec![
        ("\"double\"", "unexpected symbol: `\"double\"`", 0),
        (
            "github.event_name == \"push\"",
            "unexpected symbol: `\"push\"`",
            21,
        ),
        ("1 +", "unexpected symbol: `+`", 2),
        ("1 ==", "unexpected end of expression", 4),
        ("(1", "unexpected end of expression", 2),
        ("1)", "unexpected symbol: `)`", 1),
        ("'abc", "unexpected symbol: `'abc`", 0),
        ("github.", "unexpected end of expression", 7),
        ("github..a", "unexpected symbol: `.`", 7),
        ("github.1", "unexpected symbol: `1`", 7),
        ("foo", "unrecognized named-value: `foo`", 0),
        ("1 == bar.baz", "unrecognized named-value: `bar`", 5),
        ("foo()", "unrecognized function: `foo`", 0),
        ("contains('a')", "expected 2 arguments, got 1", 0),
        ("contains('a', 'b', 'c')", "expected 2 arguments, got 3", 0),
        ("success(1)", "expected 0 arguments", 0),
        ("join()", "expected 1 to 2 arguments", 0),
        ("format()", "expected at least 1 argument", 0),
        ("toJSON(1, 2)", "expected 1 argument, got 2", 0),
        ("True", "unrecognized named-value: `True`", 0),
        ("NULL", "unrecognized named-value: `NULL`", 0),
        ("1 = 1", "unexpected symbol: `=`", 2),
        ("true & false", "unexpected symbol: `&`", 5),
        ("true | false", "unexpected symbol: `|`", 5),
        ("'a'.length", "unexpected symbol: `.`", 3),
        ("1[0]", "unexpected symbol: `[`", 1),
        ("github[", "unexpected end of expression", 7),
        ("github[]", "unexpected symbol: `]`", 7),
        ("github.*.", "unexpected end of expression", 9),
        ("github[*", "unexpected end of expression", 8),
        ("1 2", "unexpected symbol: `2`", 2),
        ("", "expected an expression", 0),
        ("   ", "expected an expression", 0),
        ("1-2", "unexpected symbol: `1-2`", 0),
        ("0x", "unexpected symbol: `0x`", 0),
        ("1.2.3", "unexpected symbol: `1.2.3`", 0),
        ("@", "unexpected symbol: `@`", 0),
        ("contains(", "unexpected end of expression", 9),
        ("contains('a',)", "unexpected symbol: `)`", 13),
        (",", "unexpected symbol: `,`", 0),
        ("!", "unexpected end of expression", 1),
        ("github.event_name ==", "unexpected end of expression", 20),
        // evaluation errors
        (
            "fromJSON('{bad')",
            "fromJSON: the argument is not valid JSON",
            0,
        ),
        ("1 == fromJSON('')", "not valid JSON", 5),
        (
            "format('{0}')",
            "references more arguments than were supplied",
            0,
        ),
        (
            "format('{1}', 'a')",
            "references more arguments than were supplied",
            0,
        ),
        ("format('{', 1)", "the format string is invalid", 0),
        ("format('}', 1)", "the format string is invalid", 0),
        ("format('{a}', 1)", "the format string is invalid", 0),
        ("format('{0', 1)", "the format string is invalid", 0),
        ("format('{0:x}', 1)", "the format string is invalid", 0),
        ("format('{256}', 1)", "the format string is invalid", 0),
        ("'x' == format('{1}', 'a')", "references more arguments", 7),
        (
            "vars.FOO",
            "unrecognized named-value: `vars` is not available here",
            0,
        ),
        ("hashFiles('boom')", "hashFiles failed: cannot read boom", 0),
        ("success() && toJSON(fromJSON('x'))", "not valid JSON", 20),
    ]
}

#[test]
fn evaluates_table() {
    let ctx = fixture(Status::Success);
    let cases = value_cases();
    assert!(cases.len() >= 150, "only {} value cases", cases.len());
    let mut failures = Vec::new();
    for (src, want) in &cases {
        match eval_str(src, &ctx) {
            Ok(got) if &got == want => {}
            other => failures.push(format!("{src}: want {want}, got {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn errors_table() {
    let ctx = fixture(Status::Success);
    let mut failures = Vec::new();
    for (src, want, offset) in error_cases() {
        match eval_str(src, &ctx) {
            Err(e)
                if e.message.contains(want)
                    && e.offset == offset
                    && e.offset + e.len <= src.len() => {}
            other => failures.push(format!(
                "{src}: want error `{want}` at {offset}, got {other:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn status_functions_under_each_status() {
    let table = [
        (Status::Success, [true, false, false, true]),
        (Status::Failure, [false, true, false, true]),
        (Status::Cancelled, [false, false, true, true]),
    ];
    for (status, want) in table {
        let ctx = fixture(status);
        for (src, want) in ["success()", "failure()", "cancelled()", "always()"]
            .iter()
            .zip(want)
        {
            assert_eq!(
                eval_str(src, &ctx),
                Ok(json!(want)),
                "{src} under {status:?}"
            );
        }
    }
}

#[test]
fn if_conditions() {
    use Status::{Cancelled, Failure, Success};
    let cases: &[(&str, Status, bool)] = &[
        ("", Success, true),
        ("", Failure, false),
        ("  ", Cancelled, false),
        ("true", Success, true),
        ("true", Failure, false),
        ("true", Cancelled, false),
        ("${{ true }}", Failure, false),
        ("${{ }}", Success, true),
        (" ${{ 0 }} ", Success, false),
        ("always()", Failure, true),
        ("always()", Cancelled, true),
        ("failure()", Failure, true),
        ("failure()", Success, false),
        ("cancelled()", Cancelled, true),
        ("!cancelled()", Failure, true),
        ("!cancelled()", Cancelled, false),
        ("success() || failure()", Cancelled, false),
        (
            "${{ failure() && steps.my-step.outcome == 'failure' }}",
            Failure,
            true,
        ),
        ("github.event_name == 'push'", Success, true),
        ("github.event_name == 'PUSH'", Success, true),
        ("github.event_name != 'push'", Success, false),
        ("github.event_name == 'push'", Failure, false),
        ("steps.checkout.outcome == 'success'", Success, true),
        ("needs.test.result == 'failure'", Success, true),
        ("github.event.empty", Success, true),
        ("env.EMPTY", Success, false),
        ("inputs.count", Success, false),
        // text around ${{ }} turns the condition into a non-empty string
        ("${{ false }} && true", Success, true),
        ("${{ false }} && true", Failure, false),
        ("${{ always() }} x", Failure, true),
        // the implicit success() short-circuits: the bad JSON is never parsed
        ("fromJSON('bad')", Failure, false),
    ];
    for &(cond, status, want) in cases {
        assert_eq!(
            evaluate_if(cond, &fixture(status)),
            Ok(want),
            "if: {cond} under {status:?}"
        );
    }
    let ctx = fixture(Success);
    let err = evaluate_if("${{ foo }}", &ctx).expect_err("unknown context");
    assert_eq!((err.offset, err.len), (4, 3));
    let err = evaluate_if("  ${{ fromJSON('x') }}", &ctx).expect_err("bad JSON");
    assert_eq!(err.offset, 6);
    let err = evaluate_if("fromJSON('bad')", &ctx).expect_err("bad JSON");
    assert_eq!(err.offset, 0);
    let err = evaluate_if("x ${{ 1", &ctx).expect_err("unclosed");
    assert_eq!(err.offset, 2);
}

#[test]
fn interpolation() {
    let ctx = fixture(Status::Success);
    let ok: &[(&str, &str)] = &[
        ("Hello ${{ env.NAME }}!", "Hello World!"),
        ("${{ 1 }}-${{ 'a' }}-${{ null }}-${{ true }}", "1-a--true"),
        ("no expressions", "no expressions"),
        ("", ""),
        (
            "${{ github.event }} ${{ github.event.labels }}",
            "Object Array",
        ),
        ("a ${{ '}}' }} b", "a }} b"),
        ("${{ format('{0}', 1.5) }}", "1.5"),
        ("${{ 1e15 }}", "1E+15"),
        ("$${{ 1 }}", "$1"),
        ("${{1}}${{2}}", "12"),
        ("v${{ github.run_number }}.${{ matrix.node }}", "v42.18"),
        ("${{ github.event.labels.*.name }}", "Array"),
        ("${{ NaN }}", "NaN"),
        ("ünï ${{ 'cödé' }} ✓", "ünï cödé ✓"),
    ];
    for (t, want) in ok {
        assert_eq!(interpolate(t, &ctx).as_deref(), Ok(*want), "{t}");
    }
    let bad: &[(&str, &str, usize)] = &[
        ("x ${{ 1 ", "unclosed expression", 2),
        ("ok ${{ 1 }} then ${{ 'a }}", "unclosed expression", 17),
        ("x ${{ foo }}", "unrecognized named-value: `foo`", 6),
        ("x ${{ fromJSON('{') }}", "not valid JSON", 6),
        ("${{}}", "expected an expression", 3),
        ("ab ${{ 1 == }}", "unexpected end of expression", 12),
    ];
    for (t, want, offset) in bad {
        match interpolate(t, &ctx) {
            Err(e) if e.message.contains(want) && e.offset == *offset => {}
            other => panic!("{t}: want `{want}` at {offset}, got {other:?}"),
        }
    }
}

#[test]
fn embedded_ranges() {
    let t = "a ${{ 1 }} b ${{ 'x}}' }} c ${{ nope";
    let found = find_embedded(t);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].range, 2..10);
    assert_eq!(&t[found[0].range.clone()], "${{ 1 }}");
    assert_eq!(&t[found[1].range.clone()], "${{ 'x}}' }}");
    assert!(found[1].expr.is_ok());
    assert_eq!(found[2].range, 28..t.len());
    let err = found[2].expr.as_ref().expect_err("unclosed");
    assert_eq!(err.offset, 28);
    let found = find_embedded("${{ 1 == }}");
    let err = found[0].expr.as_ref().expect_err("incomplete");
    assert_eq!(err.offset, 9);
    assert!(find_embedded("plain $ {{ text }}").is_empty());
}

#[test]
fn conversions() {
    for (v, s) in [
        (json!(null), ""),
        (json!(true), "true"),
        (json!(false), "false"),
        (json!(3), "3"),
        (json!(-2.5), "-2.5"),
        (json!(1e21), "1E+21"),
        (json!(12345678901234567890_u64), "1.23456789012346E+19"),
        (json!("s"), "s"),
        (json!([1]), "Array"),
        (json!({"a": 1}), "Object"),
    ] {
        assert_eq!(to_display_string(&v), s, "{v}");
    }
    for (v, t) in [
        (json!(null), false),
        (json!(false), false),
        (json!(0), false),
        (json!(-0.0), false),
        (json!(""), false),
        (json!(true), true),
        (json!(0.1), true),
        (json!("0"), true),
        (json!("false"), true),
        (json!([]), true),
        (json!({}), true),
    ] {
        assert_eq!(is_truthy(&v), t, "{v}");
    }
}

#[test]
fn status_function_detection() {
    for (src, want) in [
        ("success()", true),
        ("ALWAYS()", true),
        ("github.event_name == 'push' || failure()", true),
        ("contains(format('{0}', cancelled()), 'x')", true),
        ("github.event_name == 'push'", false),
        ("steps.success.outputs.failure", false),
    ] {
        let expr = parse(src).expect("valid");
        assert_eq!(uses_status_function(&expr), want, "{src}");
    }
}

#[test]
fn limits() {
    let ctx = fixture(Status::Success);
    for src in [
        "(".repeat(100_000),
        format!("{}1{}", "(".repeat(60), ")".repeat(60)),
        format!("{}true", "!".repeat(60)),
        format!("github{}", ".a".repeat(60)),
        format!("1{}", " == 1".repeat(60)),
        format!("github{}", "[0]".repeat(60)),
        format!("{}1{}", "format('{0}', ".repeat(60), ")".repeat(60)),
    ] {
        let err = parse(&src).expect_err("too deep");
        assert!(
            err.message.contains("too deeply") || err.message.contains("too long"),
            "{}: {}",
            &src[..20],
            err.message
        );
    }
    let long = format!("'{}'", "a".repeat(21_000));
    assert!(
        parse(&long)
            .expect_err("too long")
            .message
            .contains("too long")
    );
    // within the limits: wide is fine, only deep is refused
    let wide = format!("1{}", " || 1".repeat(3000));
    assert_eq!(eval_str(&wide, &ctx), Ok(json!(1)));
    let nested = format!("{}1{}", "(".repeat(40), ")".repeat(40));
    assert_eq!(eval_str(&nested, &ctx), Ok(json!(1)));
    // deeply nested JSON is an error, not a stack overflow
    let deep_json = format!("fromJSON('{}{}')", "[".repeat(5000), "]".repeat(5000));
    assert!(eval_str(&deep_json, &ctx).is_err());
    // a string blow-up is refused
    let blowup = format!(
        "format('{}', format('{}', toJSON(github)))",
        "{0}".repeat(3000),
        "{0}".repeat(3000)
    );
    assert!(
        eval_str(&blowup, &ctx)
            .expect_err("too large")
            .message
            .contains("too large")
    );
}

use gantry_config::testing::XorShift;

#[test]
fn garbled_input_never_panics() {
    const FRAGMENTS: &[&str] = &[
        "github",
        "env",
        "steps",
        "vars",
        "event",
        "labels",
        "name",
        ".",
        "*",
        "[",
        "]",
        "(",
        ")",
        "'",
        "''",
        "'abc'",
        "\"",
        "==",
        "!=",
        "!",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "&",
        "|",
        "=",
        ",",
        "0x",
        "0xff",
        "1",
        "-",
        "+",
        ".5",
        "e",
        "1e308",
        "1e-400",
        "null",
        "true",
        "NaN",
        "Infinity",
        "contains",
        "startsWith",
        "format",
        "fromJSON",
        "toJSON",
        "join",
        "hashFiles",
        "success",
        "always",
        "'{0}'",
        "'{'",
        "'}}'",
        "'[1,{\"a\":2}]'",
        " ",
        "é",
        "💥",
        "\u{0}",
        "${{",
        "}}",
        "\t",
        "\n",
    ];
    let ctx = fixture(Status::Failure);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let seeds: Vec<&str> = value_cases().into_iter().map(|(s, _)| s).collect();
    let mut parsed_ok = 0;
    for i in 0..2000 {
        let input: String = if i % 2 == 0 {
            (0..1 + rng.below(40))
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect()
        } else {
            // mutate a valid expression: delete, duplicate or insert chars
            let mut chars: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 if at < chars.len() => {
                        let c = chars[at];
                        chars.insert(at, c);
                    }
                    _ => {
                        let f = FRAGMENTS[rng.below(FRAGMENTS.len())];
                        for (k, c) in f.chars().enumerate() {
                            chars.insert(at + k, c);
                        }
                    }
                }
            }
            chars.into_iter().collect()
        };
        match parse(&input) {
            Ok(e) => {
                parsed_ok += 1;
                let _ = evaluate(&e, &ctx);
                let _ = uses_status_function(&e);
            }
            Err(e) => {
                assert!(e.offset <= input.len(), "{input:?}: {e:?}");
                assert!(input.is_char_boundary(e.offset), "{input:?}: {e:?}");
            }
        }
        let _ = interpolate(&input, &ctx);
        let _ = evaluate_if(&input, &ctx);
        for emb in find_embedded(&input) {
            assert!(emb.range.end <= input.len());
        }
    }
    // the generator must exercise the evaluator, not only the error paths
    assert!(parsed_ok > 100, "only {parsed_ok} garbled inputs parsed");
}
