//! Type constraint expressions (`list(string)`, `object({a=optional(number, 1)})`)
//! and the constant-literal reader shared with tfvars files.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use gantry_config::Diagnostic;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};

use super::Src;
use crate::value::{Type, Value};

/// Why an expression is not a constant: where and what.
#[derive(Debug, Clone, PartialEq)]
pub struct NotLiteral {
    pub range: Option<Range<usize>>,
    pub message: String,
}

impl NotLiteral {
    fn new(range: Option<Range<usize>>, message: impl Into<String>) -> Self {
        NotLiteral {
            range,
            message: message.into(),
        }
    }
}

/// The text of a constant template: literal text, and interpolations of
/// quoted strings, with their `~` strip markers applied (a rewritten
/// duplicate object key is one, see `dupkeys`). `None` for anything else.
pub fn template_literal(t: &Template) -> Option<String> {
    let mut out = String::new();
    // Bytes at the end of `out` from literal text: what a strip marker
    // before an interpolation removes.
    let mut lit_tail = 0;
    let mut strip_next = false;
    for e in t.iter() {
        match e {
            Element::Literal(s) => {
                let text = if strip_next {
                    s.value().trim_start()
                } else {
                    s.value().as_str()
                };
                strip_next = false;
                out.push_str(text);
                lit_tail += text.len();
            }
            Element::Interpolation(i) => {
                let Expression::String(s) = &i.expr else {
                    return None;
                };
                if i.strip.strip_start() {
                    let start = out.len() - lit_tail;
                    let kept = out[start..].trim_end().len();
                    out.truncate(start + kept);
                }
                out.push_str(s.value());
                lit_tail = 0;
                strip_next = i.strip.strip_end();
            }
            Element::Directive(_) => return None,
        }
    }
    Some(out)
}

/// The name an object key stands for without evaluating anything: an
/// identifier, a quoted string or a constant template.
pub fn key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(i) => Some(i.as_str().to_owned()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().clone()),
        ObjectKey::Expression(Expression::StringTemplate(t)) => template_literal(t),
        ObjectKey::Expression(_) => None,
    }
}

/// The value of a constant expression: strings (templates and heredocs
/// without interpolation), numbers, bools, null, tuples and objects of
/// those, negated numbers and parentheses. References and function calls
/// are refused with Terraform's wording.
pub fn literal_value(expr: &Expression) -> Result<Value, NotLiteral> {
    match expr {
        Expression::Null(_) => Ok(Value::Null),
        Expression::Bool(b) => Ok(Value::Bool(*b.value())),
        Expression::Number(n) => n
            .value()
            .as_f64()
            .map(Value::Number)
            .ok_or_else(|| NotLiteral::new(expr.span(), "invalid number literal")),
        Expression::String(s) => Ok(Value::String(s.value().clone())),
        Expression::StringTemplate(t) => template_literal(t)
            .map(Value::String)
            .ok_or_else(|| not_allowed_in_template(expr)),
        Expression::HeredocTemplate(h) => template_literal(&h.template)
            .map(Value::String)
            .ok_or_else(|| not_allowed_in_template(expr)),
        Expression::Parenthesis(p) => literal_value(p.inner()),
        Expression::Array(a) => a
            .iter()
            .map(literal_value)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Tuple),
        Expression::Object(o) => {
            let mut out = BTreeMap::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_owned(),
                    ObjectKey::Expression(e) => match literal_value(e)? {
                        Value::String(s) => s,
                        Value::Number(n) => crate::value::format_number(n),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(NotLiteral::new(
                                e.span(),
                                "invalid object key; an object key must be a string",
                            ));
                        }
                    },
                };
                out.insert(key, literal_value(v.expr())?);
            }
            Ok(Value::Object(out))
        }
        Expression::UnaryOp(u) => match (u.operator.value(), literal_value(&u.expr)?) {
            (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
            (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            (UnaryOperator::Neg, _) => Err(NotLiteral::new(
                expr.span(),
                "invalid operand; a number is required after \"-\"",
            )),
            (UnaryOperator::Not, _) => Err(NotLiteral::new(
                expr.span(),
                "invalid operand; a bool is required after \"!\"",
            )),
        },
        Expression::Variable(_) | Expression::Traversal(_) => Err(NotLiteral::new(
            expr.span(),
            "variables not allowed; variables may not be used here",
        )),
        Expression::FuncCall(_) => Err(NotLiteral::new(
            expr.span(),
            "function calls not allowed; functions may not be called here",
        )),
        Expression::Conditional(_) | Expression::BinaryOp(_) | Expression::ForExpr(_) => {
            Err(NotLiteral::new(
                expr.span(),
                "invalid expression; only a literal value is allowed here",
            ))
        }
    }
}

/// The first reference or function call in `expr`: what Terraform refuses
/// where an expression is evaluated without any context (variable
/// defaults). Operators and constant interpolations are fine; `for`
/// expressions are not looked into (their symbols are their own).
pub fn find_reference_or_call(expr: &Expression) -> Option<NotLiteral> {
    let walk_template = |t: &Template| {
        t.iter().find_map(|e| match e {
            Element::Interpolation(i) => find_reference_or_call(&i.expr),
            Element::Literal(_) | Element::Directive(_) => None,
        })
    };
    match expr {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_)
        | Expression::ForExpr(_) => None,
        Expression::Variable(_) => Some(NotLiteral::new(
            expr.span(),
            "variables not allowed; variables may not be used here",
        )),
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(_) => Some(NotLiteral::new(
                expr.span(),
                "variables not allowed; variables may not be used here",
            )),
            inner => find_reference_or_call(inner).or_else(|| {
                t.operators.iter().find_map(|op| match op.value() {
                    TraversalOperator::Index(ix) => find_reference_or_call(ix),
                    _ => None,
                })
            }),
        },
        Expression::FuncCall(_) => Some(NotLiteral::new(
            expr.span(),
            "function calls not allowed; functions may not be called here",
        )),
        Expression::StringTemplate(t) => walk_template(t),
        Expression::HeredocTemplate(h) => walk_template(&h.template),
        Expression::Parenthesis(p) => find_reference_or_call(p.inner()),
        Expression::Array(a) => a.iter().find_map(find_reference_or_call),
        Expression::Object(o) => o.iter().find_map(|(k, v)| {
            let key = match k {
                ObjectKey::Ident(_) => None,
                ObjectKey::Expression(e) => find_reference_or_call(e),
            };
            key.or_else(|| find_reference_or_call(v.expr()))
        }),
        Expression::UnaryOp(u) => find_reference_or_call(&u.expr),
        Expression::BinaryOp(b) => {
            find_reference_or_call(&b.lhs_expr).or_else(|| find_reference_or_call(&b.rhs_expr))
        }
        Expression::Conditional(c) => find_reference_or_call(&c.cond_expr)
            .or_else(|| find_reference_or_call(&c.true_expr))
            .or_else(|| find_reference_or_call(&c.false_expr)),
    }
}

fn not_allowed_in_template(expr: &Expression) -> NotLiteral {
    NotLiteral::new(
        expr.span(),
        "variables not allowed; template interpolation and directives may not be used here",
    )
}

const TYPE_HINT: &str = "a type specification is either a primitive type keyword (bool, number, string), `any`, or a complex type constructor call, like list(string)";

fn type_err(src: &Arc<Src>, expr: &Expression, message: impl Into<String>) -> Diagnostic {
    src.error(expr.span().as_ref(), message)
}

/// Parses a type constraint expression.
// Diagnostic is large, but the error path runs once per failed load and
// the crate's interfaces return it by value.
#[allow(clippy::result_large_err)]
pub fn parse_type(expr: &Expression, src: &Arc<Src>) -> Result<Type, Diagnostic> {
    // Terraform accepts a bare collection keyword as the whole constraint,
    // meaning a collection of `any` (`terraform fmt` writes `list(any)`).
    if let Expression::Variable(v) = expr {
        match v.as_str() {
            "list" => return Ok(Type::list(Type::Any)),
            "map" => return Ok(Type::map(Type::Any)),
            "set" => return Ok(Type::set(Type::Any)),
            _ => {}
        }
    }
    parse_type_inner(expr, src, false).map(|(t, _)| t)
}

/// The type and, for an `optional(...)` attribute (only allowed when
/// `in_object_attr`), `Some(default)`.
// Diagnostic is large, but the error path runs once per failed load and
// the crate's interfaces return it by value.
#[allow(clippy::result_large_err)]
fn parse_type_inner(
    expr: &Expression,
    src: &Arc<Src>,
    in_object_attr: bool,
) -> Result<(Type, Option<Option<Value>>), Diagnostic> {
    match expr {
        Expression::Parenthesis(p) => parse_type_inner(p.inner(), src, in_object_attr),
        Expression::Variable(v) => match v.as_str() {
            "string" => Ok((Type::String, None)),
            "number" => Ok((Type::Number, None)),
            "bool" => Ok((Type::Bool, None)),
            "any" => Ok((Type::Any, None)),
            kw @ ("list" | "set" | "map") => Err(type_err(
                src,
                expr,
                format!(
                    "invalid type specification; the {kw} type constraint requires one argument specifying the element type"
                ),
            )),
            kw @ ("object" | "tuple") => Err(type_err(
                src,
                expr,
                format!(
                    "invalid type specification; the {kw} type constraint requires one argument specifying the {} types",
                    if kw == "object" {
                        "attribute"
                    } else {
                        "element"
                    }
                ),
            )),
            other => Err(type_err(
                src,
                expr,
                format!(
                    "invalid type specification; the keyword \"{other}\" is not a valid type specification"
                ),
            )),
        },
        // Terraform 0.11 quoted type constraints.
        Expression::String(s) => match s.value().as_str() {
            "string" => Ok((Type::String, None)),
            "list" => Ok((Type::list(Type::Any), None)),
            "map" => Ok((Type::map(Type::Any), None)),
            other => Err(type_err(
                src,
                expr,
                format!(
                    "invalid quoted type constraint; \"{other}\" is not a legacy type constraint: write the type without quotes, like string or list(string)"
                ),
            )),
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            if !call.name.namespace.is_empty() {
                return Err(type_err(src, expr, TYPE_HINT));
            }
            let args: Vec<&Expression> = call.args.iter().collect();
            match name {
                "list" | "set" | "map" => {
                    let [arg] = args.as_slice() else {
                        return Err(type_err(
                            src,
                            expr,
                            format!(
                                "invalid type specification; the {name} type constraint requires one argument specifying the element type"
                            ),
                        ));
                    };
                    let (t, _) = parse_type_inner(arg, src, false)?;
                    Ok((
                        match name {
                            "list" => Type::list(t),
                            "set" => Type::set(t),
                            _ => Type::map(t),
                        },
                        None,
                    ))
                }
                "tuple" => {
                    let [Expression::Array(items)] = args.as_slice() else {
                        return Err(type_err(
                            src,
                            expr,
                            "invalid type specification; the tuple type constraint requires one argument specifying the element types as a list",
                        ));
                    };
                    let mut ts = Vec::new();
                    for item in items.iter() {
                        ts.push(parse_type_inner(item, src, false)?.0);
                    }
                    Ok((Type::Tuple(ts), None))
                }
                "object" => {
                    let [Expression::Object(obj)] = args.as_slice() else {
                        return Err(type_err(
                            src,
                            expr,
                            "invalid type specification; the object type constraint requires one argument specifying the attribute types as an object",
                        ));
                    };
                    let mut attrs = BTreeMap::new();
                    let mut optional = BTreeMap::new();
                    for (k, v) in obj.iter() {
                        let Some(key) = key_name(k) else {
                            return Err(src.error(
                                k.span().as_ref(),
                                "invalid type specification; object constructor map keys must be attribute names",
                            ));
                        };
                        let (t, opt) = parse_type_inner(v.expr(), src, true)?;
                        if let Some(default) = opt {
                            optional.insert(key.clone(), default);
                        }
                        attrs.insert(key, t);
                    }
                    Ok((Type::Object { attrs, optional }, None))
                }
                "optional" => {
                    if !in_object_attr {
                        return Err(type_err(
                            src,
                            expr,
                            "invalid type specification; keyword \"optional\" is valid only as a modifier for object type attributes",
                        ));
                    }
                    let (ty_expr, default_expr) = match args.as_slice() {
                        [t] => (*t, None),
                        [t, d] => (*t, Some(*d)),
                        _ => {
                            return Err(type_err(
                                src,
                                expr,
                                "invalid type specification; the optional modifier takes the attribute type and an optional default value",
                            ));
                        }
                    };
                    let (t, _) = parse_type_inner(ty_expr, src, false)?;
                    let default = match default_expr {
                        None => None,
                        Some(d) => {
                            let v = literal_value(d).map_err(|e| {
                                src.error(
                                    e.range.as_ref().or(d.span().as_ref()),
                                    format!(
                                        "invalid default value for optional attribute; {}",
                                        e.message
                                    ),
                                )
                            })?;
                            let v = v.convert(&t).map_err(|e| {
                                type_err(
                                    src,
                                    d,
                                    format!(
                                        "invalid default value for optional attribute; this default value is not compatible with the attribute's type constraint: {e}"
                                    ),
                                )
                            })?;
                            if v.is_null() { None } else { Some(v) }
                        }
                    };
                    Ok((t, Some(default)))
                }
                other => Err(type_err(
                    src,
                    expr,
                    format!(
                        "invalid type specification; keyword \"{other}\" is not a valid type constructor"
                    ),
                )),
            }
        }
        _ => Err(type_err(
            src,
            expr,
            format!("invalid type specification; {TYPE_HINT}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Arc<Src> {
        Arc::new(Src::new("t.tf", text))
    }

    /// Parses `t = <type>` and returns the type or the error `line:col: message`.
    fn ty(text: &str) -> Result<String, String> {
        let full = format!("t = {text}\n");
        let body = hcl_edit::parser::parse_body(&full).map_err(|e| e.to_string())?;
        let attr = body.get_attribute("t").ok_or("no attribute")?;
        let s = src(&full);
        parse_type(&attr.value, &s)
            .map(|t| match &t {
                Type::Object { optional, .. } if !optional.is_empty() => {
                    let defaults: Vec<String> = optional
                        .iter()
                        .map(|(k, v)| match v {
                            Some(v) => format!("{k}:{}", v.to_json()),
                            None => format!("{k}:-"),
                        })
                        .collect();
                    format!("{t} defaults[{}]", defaults.join(","))
                }
                _ => t.to_string(),
            })
            .map_err(|d| {
                let span = d.span.unwrap_or_default();
                format!("{}:{}: {}", span.line, span.col, d.message)
            })
    }

    #[test]
    fn type_expressions() {
        let ok: &[(&str, &str)] = &[
            ("string", "string"),
            ("number", "number"),
            ("bool", "bool"),
            ("any", "any"),
            ("list(string)", "list(string)"),
            ("set(number)", "set(number)"),
            ("map(bool)", "map(bool)"),
            ("list(map(any))", "list(map(any))"),
            (
                "tuple([string, number, bool])",
                "tuple([string, number, bool])",
            ),
            ("tuple([])", "tuple([])"),
            (
                "object({name = string, port = number})",
                "object({name=string, port=number})",
            ),
            (
                "object({\n  a = optional(string)\n  b = optional(number, 8080)\n})",
                "object({a=optional(string), b=optional(number)}) defaults[a:-,b:8080]",
            ),
            (
                "object({b = optional(string, 5)})",
                "object({b=optional(string)}) defaults[b:\"5\"]",
            ),
            (
                "object({l = optional(list(string), [\"x\"])})",
                "object({l=optional(list(string))}) defaults[l:[\"x\"]]",
            ),
            (
                "object({o = optional(object({x = number}), { x = -1 })})",
                "object({o=optional(object({x=number}))}) defaults[o:{\"x\":-1}]",
            ),
            ("object({\"quoted\" = string})", "object({quoted=string})"),
            ("\"string\"", "string"),
            ("\"list\"", "list(any)"),
            ("\"map\"", "map(any)"),
            ("(list(string))", "list(string)"),
            ("list", "list(any)"),
            ("map", "map(any)"),
            (
                "map(object({x = list(number)}))",
                "map(object({x=list(number)}))",
            ),
        ];
        for (input, want) in ok {
            assert_eq!(ty(input).as_deref(), Ok(*want), "{input}");
        }
        let bad: &[(&str, &str)] = &[
            (
                "strin",
                "1:5: invalid type specification; the keyword \"strin\" is not a valid type specification",
            ),
            (
                "map(list)",
                "1:9: invalid type specification; the list type constraint requires one argument specifying the element type",
            ),
            (
                "list(string, number)",
                "1:5: invalid type specification; the list type constraint requires one argument specifying the element type",
            ),
            (
                "optional(string)",
                "1:5: invalid type specification; keyword \"optional\" is valid only as a modifier for object type attributes",
            ),
            (
                "list(optional(string))",
                "1:10: invalid type specification; keyword \"optional\" is valid only as a modifier for object type attributes",
            ),
            (
                "object({a = optional(number, \"x\")})",
                "1:34: invalid default value for optional attribute; this default value is not compatible with the attribute's type constraint: a number is required, but \"x\" is not a number",
            ),
            (
                "object({a = optional(number, var.x)})",
                "1:34: invalid default value for optional attribute; variables not allowed; variables may not be used here",
            ),
            (
                "tuple(string)",
                "1:5: invalid type specification; the tuple type constraint requires one argument specifying the element types as a list",
            ),
            (
                "object(string)",
                "1:5: invalid type specification; the object type constraint requires one argument specifying the attribute types as an object",
            ),
            (
                "\"bool\"",
                "1:5: invalid quoted type constraint; \"bool\" is not a legacy type constraint: write the type without quotes, like string or list(string)",
            ),
            (
                "foo(string)",
                "1:5: invalid type specification; keyword \"foo\" is not a valid type constructor",
            ),
            (
                "1",
                "1:5: invalid type specification; a type specification is either a primitive type keyword (bool, number, string), `any`, or a complex type constructor call, like list(string)",
            ),
        ];
        for (input, want) in bad {
            assert_eq!(ty(input), Err((*want).to_owned()), "{input}");
        }
    }

    #[test]
    fn references_and_calls() {
        let cases: &[(&str, Option<&str>)] = &[
            ("1 + 2 * 3", None),
            ("true ? \"a\" : \"b\"", None),
            ("\"x${1}\"", None),
            ("[for x in [1] : x]", None),
            (
                "[1, var.x]",
                Some("variables not allowed; variables may not be used here"),
            ),
            (
                "{ a = { b = x } }",
                Some("variables not allowed; variables may not be used here"),
            ),
            (
                "\"${local.a}\"",
                Some("variables not allowed; variables may not be used here"),
            ),
            (
                "[1, 2][each.key]",
                Some("variables not allowed; variables may not be used here"),
            ),
            (
                "-abs(1)",
                Some("function calls not allowed; functions may not be called here"),
            ),
        ];
        for (input, want) in cases {
            let e = hcl_edit::parser::parse_expr(input).expect("test input parses");
            let got = find_reference_or_call(&e).map(|n| n.message);
            assert_eq!(got.as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn literals() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("-1.5", Ok("-1.5")),
            ("!false", Ok("true")),
            ("[1, \"a\", null]", Ok("[1,\"a\",null]")),
            ("{ a = { b = true } }", Ok("{\"a\":{\"b\":true}}")),
            ("\"x$${y}\"", Ok("\"x${y}\"")),
            (
                "\"${a}\"",
                Err(
                    "variables not allowed; template interpolation and directives may not be used here",
                ),
            ),
            (
                "upper(\"a\")",
                Err("function calls not allowed; functions may not be called here"),
            ),
            (
                "1 + 2",
                Err("invalid expression; only a literal value is allowed here"),
            ),
        ];
        for (input, want) in cases {
            let e = hcl_edit::parser::parse_expr(input).expect("test input parses");
            let got = literal_value(&e)
                .map(|v| v.to_json().to_string())
                .map_err(|e| e.message);
            let want = want.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(got, want, "{input}");
        }
    }
}
