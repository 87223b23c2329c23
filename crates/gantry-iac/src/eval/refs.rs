//! Finding the references in expressions and bodies, for the dependency
//! graph.

use hcl_edit::Decorated;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::{Directive, Element, Template};

use super::Reference;
use super::expr::parse_root;
use crate::value::PathStep;

/// Adds every reference in `e` to `out`; `bound` holds the names bound by
/// enclosing `for` expressions and iterators (not references).
pub(crate) fn walk_expr(e: &Expression, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match e {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => {}
        Expression::Array(a) => {
            for x in a.iter() {
                walk_expr(x, bound, out);
            }
        }
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(ke) = k
                    && !matches!(ke, Expression::Variable(_))
                {
                    walk_expr(ke, bound, out);
                }
                walk_expr(v.expr(), bound, out);
            }
        }
        Expression::StringTemplate(t) => walk_template(t, bound, out),
        Expression::HeredocTemplate(h) => walk_template(&h.template, bound, out),
        Expression::Parenthesis(p) => walk_expr(p.inner(), bound, out),
        Expression::Variable(v) => traversal_ref(v.value().as_str(), e.span(), &[], bound, out),
        Expression::Conditional(c) => {
            walk_expr(&c.cond_expr, bound, out);
            walk_expr(&c.true_expr, bound, out);
            walk_expr(&c.false_expr, bound, out);
        }
        Expression::FuncCall(f) => {
            for a in f.args.iter() {
                walk_expr(a, bound, out);
            }
        }
        Expression::Traversal(t) => {
            match &t.expr {
                Expression::Variable(v) => {
                    traversal_ref(v.value().as_str(), t.span(), &t.operators, bound, out);
                }
                other => walk_expr(other, bound, out),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(ie) = op.value() {
                    walk_expr(ie, bound, out);
                }
            }
        }
        Expression::UnaryOp(u) => walk_expr(&u.expr, bound, out),
        Expression::BinaryOp(b) => {
            walk_expr(&b.lhs_expr, bound, out);
            walk_expr(&b.rhs_expr, bound, out);
        }
        Expression::ForExpr(f) => {
            walk_expr(&f.intro.collection_expr, bound, out);
            let n = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.value().as_str().to_owned());
            }
            bound.push(f.intro.value_var.value().as_str().to_owned());
            if let Some(k) = &f.key_expr {
                walk_expr(k, bound, out);
            }
            walk_expr(&f.value_expr, bound, out);
            if let Some(c) = &f.cond {
                walk_expr(&c.expr, bound, out);
            }
            bound.truncate(n);
        }
    }
}

fn walk_template(t: &Template, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for el in t.iter() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk_expr(&i.expr, bound, out),
            Element::Directive(d) => match &**d {
                Directive::If(d) => {
                    walk_expr(&d.if_expr.cond_expr, bound, out);
                    walk_template(&d.if_expr.template, bound, out);
                    if let Some(e) = &d.else_expr {
                        walk_template(&e.template, bound, out);
                    }
                }
                Directive::For(d) => {
                    let f = &d.for_expr;
                    walk_expr(&f.collection_expr, bound, out);
                    let n = bound.len();
                    if let Some(k) = &f.key_var {
                        bound.push(k.value().as_str().to_owned());
                    }
                    bound.push(f.value_var.value().as_str().to_owned());
                    walk_template(&f.template, bound, out);
                    bound.truncate(n);
                }
            },
        }
    }
}

fn traversal_ref(
    name: &str,
    span: Option<std::ops::Range<usize>>,
    ops: &[Decorated<TraversalOperator>],
    bound: &[String],
    out: &mut Vec<Reference>,
) {
    if bound.iter().any(|b| b == name) {
        return;
    }
    let Ok((root, n)) = parse_root(name, ops) else {
        return;
    };
    let mut rest = Vec::new();
    for op in ops.get(n..).unwrap_or_default() {
        let step = match op.value() {
            TraversalOperator::GetAttr(a) => PathStep::Attr(a.value().as_str().to_owned()),
            TraversalOperator::LegacyIndex(i) => match i64::try_from(*i.value()) {
                Ok(i) => PathStep::Index(i),
                Err(_) => break,
            },
            TraversalOperator::Index(Expression::Number(num)) => match num.value().as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => PathStep::Index(f as i64),
                _ => break,
            },
            TraversalOperator::Index(Expression::String(s)) => PathStep::Key(s.value().clone()),
            _ => break,
        };
        rest.push(step);
    }
    out.push(super::Reference {
        root,
        rest,
        range: span.unwrap_or(0..0),
    });
}

/// Adds every reference in a body: attributes, nested blocks, and
/// `dynamic` blocks (whose iterator name is bound inside `content`).
pub(crate) fn walk_body(body: &Body, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => walk_expr(&a.value, bound, out),
            Structure::Block(b) if b.ident.value().as_str() == "dynamic" => {
                let mut iterator = b.labels.first().map(|l| l.as_str().to_owned());
                for a in b.body.attributes() {
                    match a.key.value().as_str() {
                        "iterator" => {
                            if let Expression::Variable(v) = &a.value {
                                iterator = Some(v.value().as_str().to_owned());
                            }
                        }
                        _ => walk_expr(&a.value, bound, out),
                    }
                }
                let n = bound.len();
                if let Some(it) = iterator {
                    bound.push(it);
                }
                for c in b.body.blocks() {
                    walk_body(&c.body, bound, out);
                }
                bound.truncate(n);
            }
            Structure::Block(b) => walk_body(&b.body, bound, out),
        }
    }
}
