//! Expression evaluation: a table of expression text → value or error.
#![allow(clippy::result_large_err)] // `Evaluator::eval` returns a plain `Diagnostic`

mod eval_support;

use eval_support::Want::{Err as E, Val as V};
use eval_support::*;
use gantry_iac::value::{Type, Value};

#[test]
fn literals_and_collections() {
    run_table(&[
        ("null", V(Value::Null)),
        ("true", V(b(true))),
        ("false", V(b(false))),
        ("42", V(n(42.0))),
        ("1.5e3", V(n(1500.0))),
        ("-3", V(n(-3.0))),
        ("99999999999999999999999", V(n(1e23))),
        (r#""hi""#, V(s("hi"))),
        (r#""a\nb\t\"""#, V(s("a\nb\t\""))),
        (r#""\u00e9🦀""#, V(s("é🦀"))),
        ("[]", V(tup(vec![]))),
        (
            r#"[1, "a", true, null]"#,
            V(tup(vec![n(1.0), s("a"), b(true), Value::Null])),
        ),
        (
            "[[1], [2, 3]]",
            V(tup(vec![tup(vec![n(1.0)]), tup(vec![n(2.0), n(3.0)])])),
        ),
        ("{}", V(obj(&[]))),
        (
            r#"{a = 1, "b-c" = 2}"#,
            V(obj(&[("a", n(1.0)), ("b-c", n(2.0))])),
        ),
        (
            "{a: 1, b: [2]}",
            V(obj(&[("a", n(1.0)), ("b", tup(vec![n(2.0)]))])),
        ),
        ("{(local.greeting) = 1}", V(obj(&[("hello", n(1.0))]))),
        ("{(var.num) = true}", V(obj(&[("3", b(true))]))),
        // Later keys win, as in Terraform's object constructor.
        (r#"{a = 1, "a" = 2}"#, V(obj(&[("a", n(2.0))]))),
        ("{(var.null) = 1}", E("null value as key", "1:2")),
        (
            "{(var.list) = 1}",
            E("can't use this value as a key: string required", "1:2"),
        ),
        ("{(var.unknown_str) = 1}", V(unk(Type::Any))),
        ("{(var.secret) = 1}", V(obj(&[("hunter2", n(1.0))]).mark())),
        ("(((1)))", V(n(1.0))),
    ]);
}

#[test]
fn references_and_traversals() {
    run_table(&[
        ("var.name", V(s("web"))),
        ("local.greeting", V(s("hello"))),
        ("var.obj.name", V(s("x"))),
        ("var.obj.tags.env", V(s("prod"))),
        (r#"var.obj["tags"]["env"]"#, V(s("prod"))),
        ("var.list[1]", V(s("b"))),
        ("var.list.1", V(s("b"))),
        (r#"var.list["2"]"#, V(s("c"))),
        ("var.list[var.num - 2]", V(s("b"))),
        ("var.map.a", V(n(1.0))),
        ("var.map[local.key]", V(n(2.0))),
        ("var.obj.ports[1]", V(n(443.0))),
        ("aws_instance.web.id", V(s("i-123"))),
        ("aws_instance.web.tags.Name", V(s("web"))),
        ("aws_instance.many[1].id", V(s("i-2"))),
        ("data.aws_ami.ubuntu.id", V(s("ami-1"))),
        ("module.net.vpc_id", V(s("vpc-1"))),
        ("count.index", V(n(0.0))),
        ("each.key", V(s("k"))),
        ("each.value", V(s("v"))),
        ("path.module", V(s("./mod"))),
        ("terraform.workspace", V(s("default"))),
        ("self.id", V(s("self-id"))),
        ("[var.name, local.greeting][1]", V(s("hello"))),
        ("{a = {b = 7}}.a.b", V(n(7.0))),
    ]);
}

#[test]
fn reference_errors() {
    run_table(&[
        (
            "var.nope",
            E("reference to undeclared input variable \"nope\"", "1:1"),
        ),
        (
            "local.nope",
            E("reference to undeclared local value \"nope\"", "1:1"),
        ),
        (
            "module.nope.x",
            E("reference to undeclared module \"nope\"", "1:1"),
        ),
        (
            "aws_s3_bucket.b.id",
            E("reference to undeclared resource", "1:1"),
        ),
        (
            "data.aws_vpc.x.id",
            E("a data resource \"aws_vpc\" \"x\"", "1:1"),
        ),
        (
            "var.obj.nope",
            E(
                "unsupported attribute; this object does not have an attribute named \"nope\"",
                "1:8",
            ),
        ),
        (
            "var.map.zz",
            E(
                "missing map element; this map does not have an element with the key \"zz\"",
                "1:8",
            ),
        ),
        (
            "var.list[5]",
            E(
                "invalid index; the given key does not identify an element in this collection value",
                "1:9",
            ),
        ),
        ("var.list[-1]", E("invalid index", "1:9")),
        ("var.list[1.5]", E("a whole number is required", "1:9")),
        (r#"var.list["x"]"#, E("a number is required", "1:9")),
        (
            r#"var.map["zz"]"#,
            E(
                "invalid index; the given key does not identify an element",
                "1:8",
            ),
        ),
        (
            "var.null.a",
            E("attempt to get attribute from null value", "1:9"),
        ),
        ("var.null[0]", E("attempt to index null value", "1:9")),
        (
            "var.set[0]",
            E(
                "elements of a set are identified only by their value",
                "1:8",
            ),
        ),
        (
            "var.name.foo",
            E(
                "can't access attributes on a primitive-typed value (string)",
                "1:9",
            ),
        ),
        (
            "var.list.foo",
            E("can't access attributes on a list of objects", "1:9"),
        ),
        (
            "var.name[0]",
            E("this value does not have any indices", "1:9"),
        ),
        (
            "var.list[var.null]",
            E("can't use a null value as an indexing key", "1:9"),
        ),
        (
            "var",
            E("the \"var\" object cannot be accessed directly", "1:1"),
        ),
        (
            "var[0]",
            E("the \"var\" object cannot be accessed directly", "1:1"),
        ),
        (
            "count.foo",
            E(
                "the \"count\" object does not have an attribute named \"foo\"",
                "1:1",
            ),
        ),
        (
            "each.nope",
            E(
                "the supported attributes are each.key and each.value",
                "1:1",
            ),
        ),
        (
            "path.nope",
            E(
                "the \"path\" object does not have an attribute named \"nope\"",
                "1:1",
            ),
        ),
        (
            "terraform.x",
            E("the only supported attribute is terraform.workspace", "1:1"),
        ),
        (
            "aws_instance",
            E(
                "a reference to a resource type must be followed by at least one attribute access",
                "1:1",
            ),
        ),
        (
            "data.aws_ami",
            E(
                "the \"data\" object must be followed by two attribute names",
                "1:1",
            ),
        ),
        (
            "[\n  1,\n  var.nope,\n]",
            E("undeclared input variable", "3:3"),
        ),
        ("\"🦀${var.nope}\"", E("undeclared input variable", "1:5")),
        (
            "var.unknown_obj.nope",
            E(
                "this object does not have an attribute named \"nope\"",
                "1:16",
            ),
        ),
    ]);
}

#[test]
fn splats() {
    run_table(&[
        ("var.objs[*].name", V(list(vec![s("a"), s("b")]))),
        ("var.objs.*.name", V(list(vec![s("a"), s("b")]))),
        ("var.objs[*].tags.env", V(list(vec![s("dev"), s("prod")]))),
        ("var.objs.*.tags.env", V(list(vec![s("dev"), s("prod")]))),
        // An attribute-only splat ends before an index; a full splat does not.
        ("var.objs.*.name[1]", V(s("b"))),
        (
            "var.objs[*].name[1]",
            E("this value does not have any indices", "1:17"),
        ),
        ("aws_instance.many[*].id", V(tup(vec![s("i-1"), s("i-2")]))),
        ("aws_instance.many.*.id", V(tup(vec![s("i-1"), s("i-2")]))),
        ("var.obj[*].name", V(tup(vec![s("x")]))),
        ("var.null[*]", V(tup(vec![]))),
        ("var.null[*].id", V(tup(vec![]))),
        ("var.list[*]", V(list(vec![s("a"), s("b"), s("c")]))),
        ("var.unknown_objs[*].id", V(unk(Type::list(Type::String)))),
        ("var.unknown_any[*].id", V(unk(Type::Any))),
        ("var.secret_list[*]", V(list(vec![s("s1"), s("s2")]).mark())),
        (
            "var.objs[*].nope",
            E("does not have an attribute named \"nope\"", "1:12"),
        ),
    ]);
}

#[test]
fn unknowns_propagate() {
    let ub = || unk(Type::Bool);
    run_table(&[
        ("var.unknown_str", V(unk(Type::String))),
        ("var.unknown_obj.id", V(unk(Type::String))),
        ("var.unknown_obj.n + 1", V(unk(Type::Number))),
        ("var.unknown_list[0]", V(unk(Type::String))),
        ("var.unknown_list[var.unknown_num]", V(unk(Type::String))),
        ("var.list[var.unknown_num]", V(unk(Type::String))),
        ("var.unknown_map.anything", V(unk(Type::Number))),
        ("var.unknown_any.a.b[0]", V(unk(Type::Any))),
        ("aws_instance.pending.id", V(unk(Type::String))),
        ("var.unknown_str + 1", V(unk(Type::Number))),
        ("var.unknown_num > 1", V(ub())),
        ("var.unknown_str == \"a\"", V(ub())),
        ("var.partly == [\"a\", \"b\"]", V(ub())),
        ("-var.unknown_num", V(unk(Type::Number))),
        ("!var.unknown_bool", V(ub())),
        ("true || var.unknown_bool", V(b(true))),
        ("var.unknown_bool || true", V(b(true))),
        ("false && var.unknown_bool", V(b(false))),
        ("var.unknown_bool && false", V(b(false))),
        ("true && var.unknown_bool", V(ub())),
        ("var.unknown_bool ? 1 : 2", V(unk(Type::Number))),
        ("var.unknown_bool ? \"a\" : 1", V(unk(Type::String))),
        (
            "var.unknown_bool ? var.secret : \"x\"",
            V(unk(Type::String).mark()),
        ),
        ("[for x in var.unknown_list : x]", V(unk(Type::Any))),
        (
            "{for k, v in var.map : k => v if var.unknown_bool}",
            V(unk(Type::Any)),
        ),
        (
            "{for k, v in var.map : var.unknown_str => v}",
            V(unk(Type::Any)),
        ),
        ("\"a-${var.unknown_str}\"", V(unk(Type::String))),
        ("\"${var.unknown_str}\"", V(unk(Type::String))),
        ("\"%{if var.unknown_bool}a%{endif}\"", V(unk(Type::String))),
        (
            "\"%{for x in var.unknown_list}${x}%{endfor}\"",
            V(unk(Type::String)),
        ),
        (
            "[var.unknown_str, \"a\"]",
            V(tup(vec![unk(Type::String), s("a")])),
        ),
        ("can(var.unknown_str)", V(ub())),
        ("try(var.unknown_str, \"x\")", V(unk(Type::Any))),
        ("try(var.partly, \"x\")", V(unk(Type::Any))),
        (
            "var.unknown_str + \"a\"",
            E("unsuitable value for right operand", "1:19"),
        ),
    ]);
}

#[test]
fn sensitive_marks_propagate() {
    run_table(&[
        ("var.secret", V(s("hunter2").mark())),
        ("\"pw: ${var.secret}\"", V(s("pw: hunter2").mark())),
        ("var.secret == \"x\"", V(b(false).mark())),
        ("var.secret_num + 1", V(n(6.0).mark())),
        ("-var.secret_num", V(n(-5.0).mark())),
        ("!var.secret_bool", V(b(false).mark())),
        ("var.secret_list[0]", V(s("s1").mark())),
        ("var.secret_obj.field", V(s("f").mark())),
        ("var.list[var.secret_num - 4]", V(s("b").mark())),
        ("true ? var.secret : \"x\"", V(s("hunter2").mark())),
        ("false ? var.secret : \"x\"", V(s("x"))),
        ("var.secret_bool ? 1 : 2", V(n(1.0).mark())),
        (
            "[for x in var.secret_list : x]",
            V(tup(vec![s("s1"), s("s2")]).mark()),
        ),
        (
            "[for x in var.mixed : x]",
            V(tup(vec![s("a"), s("b").mark()])),
        ),
        ("{a = var.secret}", V(obj(&[("a", s("hunter2").mark())]))),
        ("[var.secret]", V(tup(vec![s("hunter2").mark()]))),
        ("\"%{if var.secret_bool}a%{endif}\"", V(s("a").mark())),
        ("\"%{for x in var.mixed}${x}%{endfor}\"", V(s("ab").mark())),
        ("var.secret_bool || var.unknown_bool", V(b(true).mark())),
        (
            "[for x in [1] : x if var.secret_bool]",
            V(tup(vec![n(1.0)]).mark()),
        ),
        ("try(var.secret, \"x\")", V(s("hunter2").mark())),
    ]);
}

#[test]
fn operators() {
    run_table(&[
        ("1 + 2", V(n(3.0))),
        ("\"3\" + 4", V(n(7.0))),
        ("5 - 7", V(n(-2.0))),
        ("2 * 3.5", V(n(7.0))),
        ("7 / 2", V(n(3.5))),
        ("7 % 3", V(n(1.0))),
        ("-7 % 3", V(n(-1.0))),
        ("1 + 2 * 3", V(n(7.0))),
        ("(1 + 2) * 3", V(n(9.0))),
        ("-\"2\"", V(n(-2.0))),
        ("!true", V(b(false))),
        ("!\"true\"", V(b(false))),
        ("1 < 2", V(b(true))),
        ("\"10\" > 9", V(b(true))),
        ("2 <= 2", V(b(true))),
        ("3 >= 4", V(b(false))),
        ("1 == 1.0", V(b(true))),
        ("1 == \"1\"", V(b(false))),
        ("\"a\" != \"b\"", V(b(true))),
        ("[1, 2] == [1, 2]", V(b(true))),
        ("[1, 2] == [2, 1]", V(b(false))),
        ("{a = 1} == {a = 1}", V(b(true))),
        ("null == null", V(b(true))),
        ("var.null == null", V(b(true))),
        ("var.list != null", V(b(true))),
        ("true && false", V(b(false))),
        ("false || true", V(b(true))),
        ("\"true\" && true", V(b(true))),
        // The right operand is not evaluated when the left decides.
        ("false && var.nope", V(b(false))),
        ("true || 1 / 0 == 1", V(b(true))),
        // ... and in both directions, when the other side decides.
        ("var.nope && false", V(b(false))),
        ("var.list[9] == \"x\" || true", V(b(true))),
        ("var.nope || false", E("undeclared input variable", "1:1")),
        ("true && var.nope", E("undeclared input variable", "1:9")),
        ("1 / 0", E("can't divide by zero", "1:1")),
        ("5 % 0", E("can't divide by zero", "1:1")),
        ("var.big * 10", E("too large", "1:1")),
        (
            "1 + \"a\"",
            E(
                "unsuitable value for right operand: a number is required, but \"a\" is not a number",
                "1:5",
            ),
        ),
        (
            "null + 1",
            E(
                "unsuitable value for left operand: a number is required, but have null",
                "1:1",
            ),
        ),
        (
            "[1] + 1",
            E(
                "unsuitable value for left operand: number required, but have tuple",
                "1:1",
            ),
        ),
        (
            "!1",
            E("unsuitable value for the operand: bool required", "1:2"),
        ),
        (
            "\"x\" && true",
            E("unsuitable value for left operand", "1:1"),
        ),
        ("true && 5", E("unsuitable value for right operand", "1:9")),
        (
            "\"a\" < \"b\"",
            E("unsuitable value for left operand", "1:1"),
        ),
    ]);
}

#[test]
fn conditionals() {
    run_table(&[
        ("true ? 1 : 2", V(n(1.0))),
        ("false ? 1 : 2", V(n(2.0))),
        ("false ? \"a\" : 1", V(s("1"))),
        ("\"true\" ? 1 : 2", V(n(1.0))),
        ("true ? null : \"x\"", V(Value::Null)),
        ("false ? null : \"x\"", V(s("x"))),
        ("true ? [1] : [1, 2]", V(list(vec![n(1.0)]))),
        ("true ? {a = 1} : {b = 2}", V(map(&[("a", n(1.0))]))),
        ("var.list != null ? var.list[0] : \"none\"", V(s("a"))),
        ("false ? var.null.a : \"safe\"", V(s("safe"))),
        ("true ? \"safe\" : var.nope", V(s("safe"))),
        ("var.num > 2 ? \"big\" : \"small\"", V(s("big"))),
        (
            "null ? 1 : 2",
            E("invalid condition; the condition value is null", "1:1"),
        ),
        (
            "\"maybe\" ? 1 : 2",
            E("the condition expression must be of type bool", "1:1"),
        ),
        (
            "true ? \"a\" : [1]",
            E("inconsistent conditional result types", "1:1"),
        ),
        ("true ? var.nope : 1", E("undeclared input variable", "1:8")),
    ]);
}

#[test]
fn for_expressions() {
    run_table(&[
        (
            "[for x in [1, 2, 3] : x * 2]",
            V(tup(vec![n(2.0), n(4.0), n(6.0)])),
        ),
        (
            "[for i, x in [\"a\", \"b\"] : \"${i}=${x}\"]",
            V(tup(vec![s("0=a"), s("1=b")])),
        ),
        (
            "[for x in [1, 2, 3, 4] : x if x % 2 == 0]",
            V(tup(vec![n(2.0), n(4.0)])),
        ),
        (
            "{for k, v in var.map : k => v * 10}",
            V(obj(&[("a", n(10.0)), ("b", n(20.0))])),
        ),
        (
            "{for x in [\"a\", \"b\"] : x => \"${x}!\"}",
            V(obj(&[("a", s("a!")), ("b", s("b!"))])),
        ),
        (
            "[for k, v in {b = 2, a = 1} : k]",
            V(tup(vec![s("a"), s("b")])),
        ),
        (
            "[for x in {b = 2, a = 1} : x]",
            V(tup(vec![n(1.0), n(2.0)])),
        ),
        (
            "[for k, v in var.set : \"${k}${v}\"]",
            V(tup(vec![s("pp"), s("qq")])),
        ),
        (
            "{for x in [\"a\", \"a\", \"b\"] : x => x...}",
            V(obj(&[
                ("a", tup(vec![s("a"), s("a")])),
                ("b", tup(vec![s("b")])),
            ])),
        ),
        (
            "{for i, x in [\"a\", \"b\"] : x => i}",
            V(obj(&[("a", n(0.0)), ("b", n(1.0))])),
        ),
        (
            "[for x in [[1, 2], [3]] : [for y in x : y * 10]]",
            V(tup(vec![tup(vec![n(10.0), n(20.0)]), tup(vec![n(30.0)])])),
        ),
        // Bound names shadow scope roots.
        ("[for var in [1, 2] : var]", V(tup(vec![n(1.0), n(2.0)]))),
        (
            "[for x in var.objs : x.tags.env]",
            V(tup(vec![s("dev"), s("prod")])),
        ),
        ("[for x in [] : x]", V(tup(vec![]))),
        ("[for x in [1] : var.name]", V(tup(vec![s("web")]))),
        (
            "{for x in [\"a\", \"a\", \"b\"] : x => 1}",
            E(
                "duplicate object key; two different items produced the key \"a\"",
                "1:29",
            ),
        ),
        (
            "[for x in null : x]",
            E("iteration over null value", "1:11"),
        ),
        (
            "[for x in \"abc\" : x]",
            E(
                "a value of type string cannot be used as the collection",
                "1:11",
            ),
        ),
        (
            "[for x in [1] : x if \"yes\"]",
            E("the 'if' clause value is invalid", "1:22"),
        ),
        ("[for x in [1] : x if null]", E("must not be null", "1:22")),
        (
            "{for x in [1] : null => x}",
            E("must not produce a null value", "1:17"),
        ),
        (
            "{for x in [1] : [x] => x}",
            E("string required, but have tuple", "1:17"),
        ),
        (
            "[for x in [1] : y]",
            E("a reference to a resource type must be followed", "1:17"),
        ),
    ]);
}

#[test]
fn templates() {
    run_table(&[
        ("\"a ${1 + 1} b\"", V(s("a 2 b"))),
        ("\"${var.list}\"", V(list(vec![s("a"), s("b"), s("c")]))),
        ("\"${var.num}\"", V(n(3.0))),
        ("\"${true}-${1.5}-${var.num}\"", V(s("true-1.5-3"))),
        ("\"$${x} %%{y}\"", V(s("${x} %{y}"))),
        ("\"%{if true}yes%{else}no%{endif}\"", V(s("yes"))),
        ("\"%{if false}yes%{else}no%{endif}\"", V(s("no"))),
        ("\"[%{if false}yes%{endif}]\"", V(s("[]"))),
        ("\"%{for x in [\"a\", \"b\"]}${x},%{endfor}\"", V(s("a,b,"))),
        (
            "\"%{for i, x in [\"a\", \"b\"]}${i}${x} %{endfor}\"",
            V(s("0a 1b ")),
        ),
        (
            "\"%{for x in var.list}%{if x != \"b\"}${x}%{endif}%{endfor}\"",
            V(s("ac")),
        ),
        ("\"a  ${\"b\"}  c\"", V(s("a  b  c"))),
        ("\"a  ${~ \"b\" ~}  c\"", V(s("abc"))),
        ("\"a  ${~ \"b\"}  c\"", V(s("ab  c"))),
        (
            "\"%{ for x in [\"a\", \"b\"] ~}\n  ${x}\n%{~ endfor }\"",
            V(s("ab")),
        ),
        ("\"x %{ if true ~}  y  %{~ endif } z\"", V(s("x y z"))),
        (
            "\"x %{~ if false }  y  %{ else ~}  n  %{~ endif ~}  z\"",
            V(s("xnz")),
        ),
        ("\"🦀${\"é\"}\"", V(s("🦀é"))),
        ("<<EOT\nhello\n  world\nEOT", V(s("hello\n  world\n"))),
        (
            "<<-EOT\n    hello\n      world\n    EOT",
            V(s("hello\n  world\n")),
        ),
        ("<<EOT\nname=${var.name}\nEOT", V(s("name=web\n"))),
        (
            "<<EOT\n%{for x in var.list}${x}\n%{endfor ~}\nEOT",
            V(s("a\nb\nc\n")),
        ),
        (
            "<<-EOT\n  %{ for x in var.list ~}\n  - ${x}\n  %{ endfor ~}\n  EOT",
            V(s("- a\n- b\n- c\n")),
        ),
        (
            "\"x${var.list}\"",
            E(
                "cannot include the given value in a string template: string required",
                "1:5",
            ),
        ),
        (
            "\"x${var.null}\"",
            E("cannot include a null value in a string template", "1:5"),
        ),
        (
            "\"%{if \"x\"}a%{endif}\"",
            E("the 'if' condition must be a bool", "1:7"),
        ),
        (
            "\"%{if null}a%{endif}\"",
            E("the condition value is null", "1:7"),
        ),
        (
            "\"%{for x in 1}a%{endfor}\"",
            E("a value of type number cannot be used", "1:13"),
        ),
        (
            "\"%{for x in [1]}${y}%{endfor}\"",
            E("a reference to a resource type", "1:19"),
        ),
    ]);
}

#[test]
fn try_and_can() {
    run_table(&[
        ("try(var.obj.nope, \"fallback\")", V(s("fallback"))),
        ("try(var.obj.name, \"fallback\")", V(s("x"))),
        ("try(var.nope, var.list[9], 3)", V(n(3.0))),
        ("try(var.null.a, null)", V(Value::Null)),
        ("can(var.obj.nope)", V(b(false))),
        ("can(var.obj.name)", V(b(true))),
        ("can(1 / 0)", V(b(false))),
        (
            "[for x in var.objs : x.name if can(x.tags.env)]",
            V(tup(vec![s("a"), s("b")])),
        ),
        (
            "try(var.nope, var.obj.nope)",
            E(
                "call to function \"try\" failed: no expression succeeded",
                "1:1",
            ),
        ),
        ("try()", E("at least one argument is required", "1:1")),
        ("can()", E("not enough function arguments", "1:1")),
        ("can(1, 2)", E("too many function arguments", "1:1")),
        (
            "try(var.list...)",
            E("does not accept an expanded argument", "1:1"),
        ),
        (
            "nosuchfunction(1)",
            E(
                "call to unknown function; there is no function named \"nosuchfunction\"",
                "1:1",
            ),
        ),
        (
            "provider::aws::arn_parse(1)",
            E(
                "there is no function named \"provider::aws::arn_parse\"",
                "1:1",
            ),
        ),
        ("try(nosuch(), 1)", V(n(1.0))),
    ]);
}

#[test]
fn unknown_function_suggests_a_name() {
    let d = eval("cna(1)").unwrap_err();
    assert_eq!(d.help.as_deref(), Some("did you mean \"can\"?"));
    let d = eval("try(var.nope, var.obj.nope)").unwrap_err();
    let note = d.note.unwrap_or_default();
    assert!(
        note.contains("undeclared input variable \"nope\""),
        "{note}"
    );
    assert!(note.contains("main.tf:1:22"), "{note}");
}

#[test]
fn errors_carry_file_and_position() {
    let d = eval("[\n  1,\n  var.obj.nope,\n]").unwrap_err();
    assert_eq!(d.location(), "main.tf:3:10");
    assert!(d.is_error());
}

#[test]
fn bad_input_never_panics() {
    // Deep nesting within the parser's limits evaluates.
    let deep = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let mut want = n(1.0);
    for _ in 0..60 {
        want = tup(vec![want]);
    }
    assert_eq!(eval(&deep), Ok(want));
    let parens = format!("{}1{}", "(".repeat(60), ")".repeat(60));
    assert_eq!(eval(&parens), Ok(n(1.0)));
    let sum = vec!["1"; 120].join(" + ");
    assert_eq!(eval(&sum), Ok(n(120.0)));
    for text in [
        "var.list[99999999999999999999999]",
        "var.list[-99999999999999999999999]",
        "var.list[1e300]",
        "\"\\u{10FFFF}${var.nope}\"",
        "{\"\u{202e}\" = 1}[\"\u{202e}\"]",
        "[for x in var.list : x][100]",
        "var.objs[*][*][*].name",
    ] {
        if let Ok(e) = hcl_edit::parser::parse_expr(text) {
            let expr = gantry_iac::syntax::Expr {
                expr: e,
                src: src(text),
            };
            let _ = with_evaluator(|ev| ev.eval(&expr));
        }
    }
}

#[test]
fn eval_with_binds_names() {
    let e = parse("x.a + var.num");
    let got = with_evaluator(|ev| ev.eval_with(&e, &[("x".to_owned(), obj(&[("a", n(1.0))]))]));
    assert_eq!(got, Ok(n(4.0)));
}
