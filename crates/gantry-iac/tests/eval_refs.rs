//! Finding references in expressions and bodies.
#![allow(clippy::result_large_err)] // `Evaluator::eval` returns a plain `Diagnostic`

mod eval_support;

use eval_support::*;
use gantry_iac::eval::{Reference, Root, body_references, references};
use gantry_iac::syntax::Mode;
use gantry_iac::value::PathStep;

/// A reference without its range.
type Found = (Root, Vec<PathStep>);

fn refs(text: &str) -> Vec<Found> {
    references(&parse(text).expr)
        .into_iter()
        .map(|r| (r.root, r.rest))
        .collect()
}

fn var(n: &str) -> Root {
    Root::Var(n.to_owned())
}

fn res(t: &str, n: &str) -> Root {
    Root::Resource {
        mode: Mode::Managed,
        type_name: t.to_owned(),
        name: n.to_owned(),
    }
}

fn attr(a: &str) -> PathStep {
    PathStep::Attr(a.to_owned())
}

#[test]
fn references_table() {
    let rows: Vec<(&str, Vec<Found>)> = vec![
        ("1 + 2", vec![]),
        ("var.a", vec![(var("a"), vec![])]),
        (
            "var.a.b[0]",
            vec![(var("a"), vec![attr("b"), PathStep::Index(0)])],
        ),
        ("local.x", vec![(Root::Local("x".into()), vec![])]),
        (
            "aws_instance.web.id",
            vec![(res("aws_instance", "web"), vec![attr("id")])],
        ),
        (
            "aws_instance.web[0].id",
            vec![(
                res("aws_instance", "web"),
                vec![PathStep::Index(0), attr("id")],
            )],
        ),
        (
            "aws_instance.web.0.id",
            vec![(
                res("aws_instance", "web"),
                vec![PathStep::Index(0), attr("id")],
            )],
        ),
        (
            "aws_instance.web[\"k\"].id",
            vec![(
                res("aws_instance", "web"),
                vec![PathStep::Key("k".into()), attr("id")],
            )],
        ),
        (
            "aws_instance.web[var.i].id",
            vec![(res("aws_instance", "web"), vec![]), (var("i"), vec![])],
        ),
        (
            "aws_instance.web[*].id",
            vec![(res("aws_instance", "web"), vec![])],
        ),
        (
            "aws_instance.web.*.id",
            vec![(res("aws_instance", "web"), vec![])],
        ),
        (
            "data.aws_ami.x.id",
            vec![(
                Root::Resource {
                    mode: Mode::Data,
                    type_name: "aws_ami".into(),
                    name: "x".into(),
                },
                vec![attr("id")],
            )],
        ),
        (
            "module.m.out",
            vec![(Root::Module("m".into()), vec![attr("out")])],
        ),
        ("count.index", vec![(Root::CountIndex, vec![])]),
        (
            "each.value.name",
            vec![(Root::EachValue, vec![attr("name")])],
        ),
        ("each.key", vec![(Root::EachKey, vec![])]),
        ("path.module", vec![(Root::Path("module".into()), vec![])]),
        ("terraform.workspace", vec![(Root::Workspace, vec![])]),
        ("self.id", vec![(Root::SelfRef, vec![attr("id")])]),
        ("[for x in var.l : x.id]", vec![(var("l"), vec![])]),
        (
            "{for k, v in var.m : k => v if v != local.skip}",
            vec![(var("m"), vec![]), (Root::Local("skip".into()), vec![])],
        ),
        ("[for var in [1] : var.x]", vec![]),
        (
            "\"${local.a}-%{for v in var.l}${v}${local.b}%{endfor}\"",
            vec![
                (Root::Local("a".into()), vec![]),
                (var("l"), vec![]),
                (Root::Local("b".into()), vec![]),
            ],
        ),
        ("upper(var.x)", vec![(var("x"), vec![])]),
        (
            "var.c ? var.t : var.f",
            vec![(var("c"), vec![]), (var("t"), vec![]), (var("f"), vec![])],
        ),
        (
            "{(var.k) = -var.v, x = !var.b}",
            vec![(var("k"), vec![]), (var("v"), vec![]), (var("b"), vec![])],
        ),
        ("(var.o).a", vec![(var("o"), vec![])]),
        ("try(var.a.b, null)", vec![(var("a"), vec![attr("b")])]),
        // Not references: invalid roots are skipped.
        ("var", vec![]),
        ("count.foo", vec![]),
    ];
    for (text, want) in rows {
        assert_eq!(refs(text), want, "{text}");
    }
}

#[test]
fn references_carry_byte_ranges() {
    // `x` alone is a bare resource type, not a reference.
    let text = "x + aws_instance.web[0].id";
    let r = references(&parse(text).expr);
    assert_eq!(
        r,
        vec![Reference {
            root: res("aws_instance", "web"),
            rest: vec![PathStep::Index(0), attr("id")],
            range: 4..26,
        }]
    );
    assert_eq!(&text[r[0].range.clone()], "aws_instance.web[0].id");
}

#[test]
fn body_references_include_dynamic_blocks() {
    let body = parse_body(
        "name = var.name\nebs {\n  size = local.size\n}\ndynamic \"rule\" {\n  for_each = var.rules\n  iterator = r\n  content {\n    port = r.value.port\n    cidr = local.cidr\n  }\n}\ndynamic \"tag\" {\n  for_each = var.tags\n  content {\n    key = tag.key\n  }\n}\n",
    );
    let got: Vec<Root> = body_references(&body).into_iter().map(|r| r.root).collect();
    assert_eq!(
        got,
        vec![
            var("name"),
            Root::Local("size".into()),
            var("rules"),
            Root::Local("cidr".into()),
            var("tags"),
        ]
    );
    let r = body_references(&body);
    let text = &body.src.text;
    assert_eq!(&text[r[2].range.clone()], "var.rules");
}
