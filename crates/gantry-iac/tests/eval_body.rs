//! Block bodies against schemas: attributes, nested and dynamic blocks.
#![allow(clippy::result_large_err)] // `Evaluator::eval` returns a plain `Diagnostic`

mod eval_support;

use eval_support::*;
use gantry_iac::provider::{Attribute, NestedBlock, Nesting, Schema};
use gantry_iac::value::{Type, Value};

fn nested(nesting: Nesting, schema: Schema, min: usize, max: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting,
        schema,
        min_items: min,
        max_items: max,
        force_new: false,
    }
}

fn ebs_schema() -> Schema {
    Schema::new()
        .attr("size", Attribute::required(Type::Number))
        .attr("kind", Attribute::optional(Type::String))
}

fn schema() -> Schema {
    Schema::new()
        .attr("name", Attribute::required(Type::String))
        .attr("size", Attribute::optional(Type::Number))
        .attr("id", Attribute::computed(Type::String))
        .attr("arn", Attribute::optional_computed(Type::String))
        .attr("password", Attribute::optional(Type::String).sensitive())
        .attr("tags", Attribute::optional(Type::map(Type::String)))
        .attr("ports", Attribute::optional(Type::list(Type::Number)))
        .block("ebs", nested(Nesting::List, ebs_schema(), 0, None))
        .block(
            "root",
            nested(
                Nesting::Single,
                Schema::new().attr("size", Attribute::optional(Type::Number)),
                0,
                None,
            ),
        )
        .block(
            "rule",
            nested(
                Nesting::Set,
                Schema::new().attr("port", Attribute::required(Type::Number)),
                0,
                None,
            ),
        )
        .block(
            "limited",
            nested(
                Nesting::List,
                Schema::new().attr("v", Attribute::optional(Type::String)),
                0,
                Some(1),
            ),
        )
}

fn eval_body(text: &str) -> Result<Value, Vec<gantry_config::Diagnostic>> {
    let body = parse_body(text);
    with_evaluator(|ev| ev.eval_body(&body, &schema()))
}

/// The object with every attribute and block at its empty value, then
/// `pairs` on top.
fn full(pairs: &[(&str, Value)]) -> Value {
    let mut base = vec![
        ("name", Value::Null),
        ("size", Value::Null),
        ("id", Value::Null),
        ("arn", Value::Null),
        ("password", Value::Null),
        ("tags", Value::Null),
        ("ports", Value::Null),
        ("ebs", list(vec![])),
        ("root", Value::Null),
        ("rule", Value::Set(vec![])),
        ("limited", list(vec![])),
    ];
    for (k, v) in pairs {
        if let Some(slot) = base.iter_mut().find(|(n, _)| n == k) {
            slot.1 = v.clone();
        }
    }
    obj(&base)
}

fn ebs(size: f64, kind: Value) -> Value {
    obj(&[("size", n(size)), ("kind", kind)])
}

/// Asserts the body fails with exactly one error containing `msg` at `pos`.
fn assert_error(text: &str, msg: &str, pos: &str) {
    let errs = eval_body(text).expect_err(text);
    assert!(
        errs.iter().any(|d| d.message.contains(msg)
            && d.span.map(|s| format!("{}:{}", s.line, s.col)).as_deref() == Some(pos)),
        "{text}\nwant {msg:?} at {pos}\ngot {errs:#?}"
    );
}

#[test]
fn attributes_convert_to_schema_types() {
    let got = eval_body(
        "name = \"web\"\nsize = \"10\"\ntags = { a = 1 }\nports = [80, \"443\"]\narn = var.name\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("web")),
            ("size", n(10.0)),
            ("tags", map(&[("a", s("1"))])),
            ("ports", list(vec![n(80.0), n(443.0)])),
            ("arn", s("web")),
        ]))
    );
}

#[test]
fn sensitive_attributes_are_marked_and_unknowns_kept() {
    let got = eval_body("name = var.unknown_str\npassword = \"pw\"\n");
    assert_eq!(
        got,
        Ok(full(&[
            ("name", unk(Type::String)),
            ("password", s("pw").mark())
        ]))
    );
}

#[test]
fn attribute_errors() {
    assert_error(
        "name = \"a\"\nnmae = \"b\"\n",
        "unsupported argument; an argument named \"nmae\" is not expected here",
        "2:1",
    );
    let errs = eval_body("name = \"a\"\nnmae = \"b\"\n").unwrap_err();
    assert_eq!(errs[0].help.as_deref(), Some("did you mean \"name\"?"));
    assert_error(
        "size = 1\n",
        "missing required argument; the argument \"name\" is required, but no definition was found",
        "1:1",
    );
    assert_error(
        "name = var.null\n",
        "the argument \"name\" is required, but it is set to null",
        "1:8",
    );
    assert_error(
        "name = \"a\"\nid = \"x\"\n",
        "value for unconfigurable attribute; can't configure a value for \"id\"",
        "2:1",
    );
    assert_error(
        "name = \"a\"\nsize = \"big\"\n",
        "inappropriate value for attribute \"size\": a number is required",
        "2:8",
    );
    assert_error(
        "name = \"a\"\nports = [1, \"x\"]\n",
        "inappropriate value for attribute \"ports\": [1]",
        "2:9",
    );
    assert_error("name = var.nope\n", "undeclared input variable", "1:8");
    assert_error(
        "name = \"a\"\nebs = []\n",
        "did you mean to define a block of type \"ebs\"?",
        "2:1",
    );
    // Every error is reported, not only the first.
    let errs = eval_body("nmae = 1\nid = 2\nsize = \"x\"\n").unwrap_err();
    assert_eq!(errs.len(), 4, "{errs:#?}");
}

#[test]
fn nested_blocks_follow_their_nesting() {
    let got = eval_body(
        "name = \"a\"\nebs {\n  size = 1\n}\nebs {\n  size = \"2\"\n  kind = \"gp3\"\n}\nroot {\n  size = 8\n}\nrule {\n  port = 80\n}\nrule {\n  port = 80\n}\nrule {\n  port = 22\n}\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("a")),
            ("ebs", list(vec![ebs(1.0, Value::Null), ebs(2.0, s("gp3"))])),
            ("root", obj(&[("size", n(8.0))])),
            (
                "rule",
                Value::Set(vec![obj(&[("port", n(22.0))]), obj(&[("port", n(80.0))])])
            ),
        ]))
    );
}

#[test]
fn block_errors() {
    assert_error(
        "name = \"a\"\nroot {}\nroot {}\n",
        "too many \"root\" blocks",
        "3:1",
    );
    assert_error(
        "name = \"a\"\nlimited {}\nlimited {}\n",
        "no more than 1 \"limited\" block(s) are allowed",
        "3:1",
    );
    assert_error(
        "name = \"a\"\nebz {\n  size = 1\n}\n",
        "unsupported block type; blocks of type \"ebz\" are not expected here",
        "2:1",
    );
    let errs = eval_body("name = \"a\"\nebz {\n  size = 1\n}\n").unwrap_err();
    assert_eq!(errs[0].help.as_deref(), Some("did you mean \"ebs\"?"));
    assert_error(
        "name = \"a\"\nebs {\n  kind = \"x\"\n}\n",
        "the argument \"size\" is required",
        "2:1",
    );
    assert_error(
        "name = \"a\"\nebs \"x\" {\n  size = 1\n}\n",
        "extraneous label for \"ebs\"",
        "2:5",
    );
    let s2 = Schema::new().block(
        "need",
        nested(
            Nesting::List,
            Schema::new().attr("v", Attribute::optional(Type::String)),
            2,
            None,
        ),
    );
    let body = parse_body("need {}\n");
    let errs = with_evaluator(|ev| ev.eval_body(&body, &s2)).unwrap_err();
    assert!(
        errs[0]
            .message
            .contains("insufficient \"need\" blocks; at least 2"),
        "{errs:?}"
    );
}

#[test]
fn dynamic_blocks_expand() {
    let got = eval_body(
        "name = \"a\"\nebs {\n  size = 100\n}\ndynamic \"ebs\" {\n  for_each = [1, 2]\n  content {\n    size = ebs.value * 10\n    kind = \"k${ebs.key}\"\n  }\n}\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("a")),
            (
                "ebs",
                list(vec![
                    ebs(100.0, Value::Null),
                    ebs(10.0, s("k0")),
                    ebs(20.0, s("k1"))
                ])
            ),
        ]))
    );
    // A named iterator over a map; the iterator shadows nothing else.
    let got = eval_body(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = var.map\n  iterator = d\n  labels = []\n  content {\n    size = d.value\n    kind = d.key\n  }\n}\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("a")),
            ("ebs", list(vec![ebs(1.0, s("a")), ebs(2.0, s("b"))])),
        ]))
    );
    // A single block from a dynamic one, and one from an empty collection.
    let got = eval_body(
        "name = \"a\"\ndynamic \"root\" {\n  for_each = var.num > 2 ? [8] : []\n  content {\n    size = root.value\n  }\n}\ndynamic \"rule\" {\n  for_each = []\n  content {\n    port = 1\n  }\n}\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("a")),
            ("root", obj(&[("size", n(8.0))]))
        ]))
    );
}

#[test]
fn dynamic_blocks_with_unknown_or_sensitive_for_each() {
    let got = eval_body(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = var.unknown_list\n  content {\n    size = 1\n  }\n}\n",
    );
    assert_eq!(
        got,
        Ok(full(&[
            ("name", s("a")),
            (
                "ebs",
                unk(Type::list(obj_type(&[
                    ("size", Type::Number),
                    ("kind", Type::String)
                ])))
            ),
        ]))
    );
    let got = eval_body(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = var.secret_list\n  content {\n    size = 1\n  }\n}\n",
    )
    .unwrap();
    let blocks = got.get_attr("ebs").unwrap();
    assert_eq!(blocks.as_seq().map(|x| x.len()), Some(2));
    assert!(blocks.as_seq().unwrap().iter().all(Value::is_sensitive));
}

#[test]
fn nested_dynamic_blocks_see_outer_iterators() {
    let inner = Schema::new().attr("v", Attribute::optional(Type::String));
    let outer = Schema::new()
        .attr("name", Attribute::optional(Type::String))
        .block("inner", nested(Nesting::List, inner, 0, None));
    let s2 = Schema::new().block("outer", nested(Nesting::List, outer, 0, None));
    let body = parse_body(
        "dynamic \"outer\" {\n  for_each = [\"a\", \"b\"]\n  content {\n    name = outer.value\n    dynamic \"inner\" {\n      for_each = [1, 2]\n      content {\n        v = \"${outer.value}${inner.value}\"\n      }\n    }\n  }\n}\n",
    );
    let got = with_evaluator(|ev| ev.eval_body(&body, &s2));
    let group = |o: &str| {
        obj(&[
            ("name", s(o)),
            (
                "inner",
                list(vec![
                    obj(&[("v", s(&format!("{o}1")))]),
                    obj(&[("v", s(&format!("{o}2")))]),
                ]),
            ),
        ])
    };
    assert_eq!(
        got,
        Ok(obj(&[("outer", list(vec![group("a"), group("b")]))]))
    );
}

#[test]
fn dynamic_block_errors() {
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = null\n  content {\n    size = 1\n  }\n}\n",
        "cannot use a null value in for_each",
        "3:14",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = \"x\"\n  content {\n    size = 1\n  }\n}\n",
        "cannot use a string value in for_each",
        "3:14",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebz\" {\n  for_each = []\n  content {}\n}\n",
        "unsupported block type; blocks of type \"ebz\"",
        "2:9",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  content {\n    size = 1\n  }\n}\n",
        "the argument \"for_each\" is required",
        "2:1",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = [1]\n}\n",
        "a \"content\" block is required",
        "2:1",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = [1]\n  iterator = \"x\"\n  content {\n    size = 1\n  }\n}\n",
        "invalid dynamic iterator name",
        "4:14",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = [\"x\"]\n  content {\n    size = ebs.value\n  }\n}\n",
        "inappropriate value for attribute \"size\"",
        "5:12",
    );
    assert_error(
        "name = \"a\"\ndynamic \"ebs\" {\n  for_each = [1]\n  content {\n    size = 1\n    bogus = 2\n  }\n}\n",
        "an argument named \"bogus\" is not expected here",
        "6:5",
    );
}
