//! Expressions: literals, collections, references, operators,
//! conditionals, `for` expressions, splats and function calls.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Range;

use gantry_config::Diagnostic;
use gantry_config::suggest::did_you_mean;
use hcl_edit::Decorated;
use hcl_edit::Span as _;
use hcl_edit::expr::{
    Array, BinaryOp, BinaryOperator, Conditional, Expression, ForExpr, FuncCall, Object, ObjectKey,
    Traversal, TraversalOperator, UnaryOp, UnaryOperator,
};

use super::{Evaluator, Root};
use crate::funcs;
use crate::syntax::{Mode, Src};
use crate::value::{Type, Value, unify};

/// Errors travel boxed inside the evaluator (a `Diagnostic` is large and
/// results pass through deep recursion).
pub(crate) type Error = Box<Diagnostic>;

type R = Result<Value, Error>;

/// Deeper expressions than this are refused instead of risking the stack
/// (the parser already limits nesting; this guards built trees).
const MAX_DEPTH: usize = 256;

/// Names bound by `for` expressions, template `for` directives and
/// `dynamic` iterators; inner frames shadow outer ones and the scope.
pub(crate) struct Env<'p> {
    vars: Vec<(String, Value)>,
    parent: Option<&'p Env<'p>>,
}

impl<'p> Env<'p> {
    pub(crate) fn root() -> Env<'static> {
        Env {
            vars: Vec::new(),
            parent: None,
        }
    }

    pub(crate) fn with(vars: Vec<(String, Value)>) -> Env<'static> {
        Env { vars, parent: None }
    }

    pub(crate) fn child<'q>(&'q self, vars: Vec<(String, Value)>) -> Env<'q>
    where
        'p: 'q,
    {
        Env {
            vars,
            parent: Some(self),
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Some(v),
            None => self.parent.and_then(|p| p.get(name)),
        }
    }
}

/// One evaluation: the evaluator, the file the expressions are in, and
/// whether names resolve only through bound names (`templatefile`).
pub(crate) struct Ctx<'a> {
    pub(crate) ev: &'a Evaluator<'a>,
    pub(crate) src: &'a Src,
    isolated: bool,
    depth: Cell<usize>,
}

/// How a traversal's first steps name a root, and how many operators
/// after the first name that took.
pub(crate) fn parse_root(
    name: &str,
    ops: &[Decorated<TraversalOperator>],
) -> Result<(Root, usize), String> {
    let attr = |i: usize| match ops.get(i).map(Decorated::value) {
        Some(TraversalOperator::GetAttr(a)) => Some(a.value().as_str().to_owned()),
        _ => None,
    };
    let one = |what: &str, make: fn(String) -> Root| match attr(0) {
        Some(a) => Ok((make(a), 1)),
        None => Err(format!(
            "invalid reference; the {what:?} object cannot be accessed directly, instead access one of its attributes"
        )),
    };
    match name {
        "var" => one("var", Root::Var),
        "local" => one("local", Root::Local),
        "module" => one("module", Root::Module),
        "path" => match attr(0) {
            Some(a) if matches!(a.as_str(), "module" | "root" | "cwd") => Ok((Root::Path(a), 1)),
            Some(a) => Err(format!(
                "invalid \"path\" attribute; the \"path\" object does not have an attribute named {a:?}, the supported attributes are path.cwd, path.module, and path.root"
            )),
            None => Err("invalid reference; the \"path\" object cannot be accessed directly, instead access one of its attributes".to_owned()),
        },
        "count" => match attr(0) {
            Some(a) if a == "index" => Ok((Root::CountIndex, 1)),
            Some(a) => Err(format!(
                "invalid \"count\" attribute; the \"count\" object does not have an attribute named {a:?}, the only supported attribute is count.index"
            )),
            None => Err("invalid reference; the \"count\" object cannot be accessed directly, instead access count.index".to_owned()),
        },
        "each" => match attr(0) {
            Some(a) if a == "key" => Ok((Root::EachKey, 1)),
            Some(a) if a == "value" => Ok((Root::EachValue, 1)),
            Some(a) => Err(format!(
                "invalid \"each\" attribute; the \"each\" object does not have an attribute named {a:?}, the supported attributes are each.key and each.value"
            )),
            None => Err("invalid reference; the \"each\" object cannot be accessed directly, instead access each.key or each.value".to_owned()),
        },
        "terraform" => match attr(0) {
            Some(a) if a == "workspace" => Ok((Root::Workspace, 1)),
            Some(a) => Err(format!(
                "invalid \"terraform\" attribute; the \"terraform\" object does not have an attribute named {a:?}, the only supported attribute is terraform.workspace"
            )),
            None => Err("invalid reference; the \"terraform\" object cannot be accessed directly, instead access terraform.workspace".to_owned()),
        },
        "self" => Ok((Root::SelfRef, 0)),
        "data" => match (attr(0), attr(1)) {
            (Some(t), Some(n)) => Ok((
                Root::Resource {
                    mode: Mode::Data,
                    type_name: t,
                    name: n,
                },
                2,
            )),
            _ => Err("invalid reference; the \"data\" object must be followed by two attribute names: the data source type and the resource name".to_owned()),
        },
        _ => match attr(0) {
            Some(n) => Ok((
                Root::Resource {
                    mode: Mode::Managed,
                    type_name: name.to_owned(),
                    name: n,
                },
                1,
            )),
            None => Err("invalid reference; a reference to a resource type must be followed by at least one attribute access, specifying the resource name".to_owned()),
        },
    }
}

/// The span of a traversal operator, wherever the parser recorded it.
fn op_span(op: &Decorated<TraversalOperator>) -> Option<Range<usize>> {
    op.span().or_else(|| op.value().span())
}

fn join(a: Option<Range<usize>>, b: Option<Range<usize>>) -> Option<Range<usize>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.start.min(b.start)..a.end.max(b.end)),
        (a, b) => a.or(b),
    }
}

/// The element type of a collection type for an index with `key`, when
/// the collection is unknown.
fn element_type(t: &Type, key: &Value) -> Type {
    match t {
        Type::List(e) | Type::Set(e) | Type::Map(e) => (**e).clone(),
        Type::Tuple(ts) => key
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0)
            .and_then(|n| ts.get(n as usize))
            .cloned()
            .unwrap_or(Type::Any),
        Type::Object { attrs, .. } => key
            .as_str()
            .and_then(|k| attrs.get(k))
            .cloned()
            .unwrap_or(Type::Any),
        _ => Type::Any,
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(ev: &'a Evaluator<'a>, src: &'a Src, isolated: bool) -> Ctx<'a> {
        Ctx {
            ev,
            src,
            isolated,
            depth: Cell::new(0),
        }
    }

    pub(crate) fn err(&self, span: Option<Range<usize>>, msg: impl Into<String>) -> Error {
        Box::new(self.src.error(span.as_ref(), msg))
    }

    /// The same, unboxed (for lists of errors).
    pub(crate) fn diag(&self, span: Option<Range<usize>>, msg: impl Into<String>) -> Diagnostic {
        self.src.error(span.as_ref(), msg)
    }

    pub(crate) fn eval(&self, e: &Expression, env: &Env) -> R {
        let d = self.depth.get();
        if d >= MAX_DEPTH {
            return Err(self.err(e.span(), "expression is nested too deeply"));
        }
        self.depth.set(d + 1);
        let r = self.eval_inner(e, env);
        self.depth.set(d);
        r
    }

    fn eval_inner(&self, e: &Expression, env: &Env) -> R {
        match e {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => match n.value().as_f64() {
                Some(f) if f.is_finite() => Ok(Value::Number(f)),
                _ => Err(self.err(e.span(), "invalid number; the number is too large")),
            },
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(a) => self.eval_tuple(a, env),
            Expression::Object(o) => self.eval_object(o, env),
            Expression::StringTemplate(t) => self.eval_template(t, env),
            Expression::HeredocTemplate(h) => {
                self.eval_template_indented(&h.template, h.indent(), env)
            }
            Expression::Parenthesis(p) => self.eval(p.inner(), env),
            Expression::Variable(v) => {
                let (value, _) = self.resolve_root(v.value().as_str(), e.span(), &[], env)?;
                Ok(value)
            }
            Expression::Conditional(c) => self.eval_conditional(c, env),
            Expression::FuncCall(f) => self.eval_call(f, env),
            Expression::Traversal(t) => self.eval_traversal(t, env),
            Expression::UnaryOp(u) => self.eval_unary(u, env),
            Expression::BinaryOp(b) => self.eval_binary(b, env),
            Expression::ForExpr(f) => self.eval_for(f, env),
        }
    }

    fn eval_tuple(&self, a: &Array, env: &Env) -> R {
        a.iter()
            .map(|x| self.eval(x, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Tuple)
    }

    fn eval_object(&self, o: &Object, env: &Env) -> R {
        let mut out = BTreeMap::new();
        let mut marked = false;
        let mut unknown = false;
        for (k, v) in o.iter() {
            let key = match k {
                ObjectKey::Ident(i) => i.value().as_str().to_owned(),
                ObjectKey::Expression(Expression::Variable(i)) => i.value().as_str().to_owned(),
                ObjectKey::Expression(ke) => {
                    let (kv, m) = self.eval(ke, env)?.unmark();
                    marked |= m;
                    if kv.is_null() {
                        return Err(self.err(
                            ke.span(),
                            "null value as key; can't use a null value as a key",
                        ));
                    }
                    if !kv.is_known() {
                        unknown = true;
                        self.eval(v.expr(), env)?;
                        continue;
                    }
                    match kv.convert(&Type::String) {
                        Ok(Value::String(s)) => s,
                        _ => {
                            return Err(self.err(
                                ke.span(),
                                format!(
                                    "incorrect key type; can't use this value as a key: string required, but have {}",
                                    kv.kind_name()
                                ),
                            ));
                        }
                    }
                }
            };
            // Later keys replace earlier ones, as in Terraform.
            out.insert(key, self.eval(v.expr(), env)?);
        }
        if unknown {
            return Ok(Value::Unknown(Type::Any).mark_if(marked));
        }
        Ok(Value::Object(out).mark_if(marked))
    }

    // ---- references ----

    /// The value a root name stands for, consuming the operators that
    /// name the root (`var.x` takes `.x`).
    fn resolve_root(
        &self,
        name: &str,
        span: Option<Range<usize>>,
        ops: &[Decorated<TraversalOperator>],
        env: &Env,
    ) -> Result<(Value, usize), Error> {
        if let Some(v) = env.get(name) {
            return Ok((v.clone(), 0));
        }
        if self.isolated {
            return Err(self.err(
                span,
                format!("invalid reference; vars map does not contain key {name:?}"),
            ));
        }
        let (root, n) = parse_root(name, ops).map_err(|m| {
            let s = ops
                .first()
                .map_or(span.clone(), |o| join(span.clone(), op_span(o)));
            self.err(s, m)
        })?;
        let root_span = ops
            .get(..n)
            .and_then(|o| o.last())
            .map_or(span.clone(), |o| join(span.clone(), op_span(o)));
        let v = self
            .ev
            .scope
            .resolve(&root)
            .map_err(|m| self.err(root_span, m))?;
        Ok((v, n))
    }

    fn eval_traversal(&self, t: &Traversal, env: &Env) -> R {
        let (value, n) = match &t.expr {
            Expression::Variable(v) => {
                self.resolve_root(v.value().as_str(), t.expr.span(), &t.operators, env)?
            }
            other => (self.eval(other, env)?, 0),
        };
        let ops = t.operators.get(n..).unwrap_or_default();
        self.apply_ops(value, ops, env)
    }

    pub(crate) fn apply_ops(
        &self,
        mut v: Value,
        ops: &[Decorated<TraversalOperator>],
        env: &Env,
    ) -> R {
        let mut i = 0;
        while let Some(op) = ops.get(i) {
            let span = op_span(op);
            match op.value() {
                TraversalOperator::GetAttr(a) => v = self.get_attr(v, a.value().as_str(), span)?,
                TraversalOperator::Index(e) => {
                    let k = self.eval(e, env)?;
                    v = self.index(v, k, span)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    v = self.index(v, Value::Number(*n.value() as f64), span)?;
                }
                TraversalOperator::FullSplat(_) => {
                    let rest = ops.get(i + 1..).unwrap_or_default();
                    return self.splat(v, rest, env);
                }
                TraversalOperator::AttrSplat(_) => {
                    let mut j = i + 1;
                    while let Some(o) = ops.get(j) {
                        if !matches!(
                            o.value(),
                            TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                        ) {
                            break;
                        }
                        j += 1;
                    }
                    let rest = ops.get(i + 1..j).unwrap_or_default();
                    v = self.splat(v, rest, env)?;
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
        Ok(v)
    }

    fn splat(&self, v: Value, rest: &[Decorated<TraversalOperator>], env: &Env) -> R {
        let (v, marked) = v.unmark();
        let each = |xs: Vec<Value>| -> Result<Vec<Value>, Error> {
            xs.into_iter()
                .map(|x| self.apply_ops(x, rest, env))
                .collect()
        };
        let out = match v {
            Value::Null => Value::Tuple(Vec::new()),
            Value::Unknown(t) => {
                let ty = match &t {
                    Type::List(e) | Type::Set(e) => Type::list(
                        self.apply_ops(Value::Unknown((**e).clone()), rest, env)?
                            .type_of(),
                    ),
                    Type::Tuple(ts) => Type::Tuple(
                        ts.iter()
                            .map(|e| {
                                self.apply_ops(Value::Unknown(e.clone()), rest, env)
                                    .map(|x| x.type_of())
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    Type::Any => Type::Any,
                    other => Type::Tuple(vec![
                        self.apply_ops(Value::Unknown(other.clone()), rest, env)?
                            .type_of(),
                    ]),
                };
                Value::Unknown(ty)
            }
            Value::List(xs) | Value::Set(xs) => Value::List(each(xs)?),
            Value::Tuple(xs) => Value::Tuple(each(xs)?),
            other => Value::Tuple(each(vec![other])?),
        };
        Ok(out.mark_if(marked))
    }

    pub(crate) fn get_attr(&self, v: Value, name: &str, span: Option<Range<usize>>) -> R {
        let (v, marked) = v.unmark();
        let r = match v {
            Value::Object(mut m) => m.remove(name).ok_or_else(|| {
                self.err(
                    span,
                    format!(
                        "unsupported attribute; this object does not have an attribute named {name:?}"
                    ),
                )
            })?,
            Value::Map(mut m) => m.remove(name).ok_or_else(|| {
                self.err(
                    span,
                    format!("missing map element; this map does not have an element with the key {name:?}"),
                )
            })?,
            Value::Unknown(t) => match &t {
                Type::Object { attrs, .. } => match attrs.get(name) {
                    Some(at) => Value::Unknown(at.clone()),
                    None => {
                        return Err(self.err(
                            span,
                            format!(
                                "unsupported attribute; this object does not have an attribute named {name:?}"
                            ),
                        ));
                    }
                },
                Type::Map(e) => Value::Unknown((**e).clone()),
                Type::Any => Value::Unknown(Type::Any),
                other => return Err(self.attr_on_wrong_kind(other_kind(other), name, span)),
            },
            Value::Null => {
                return Err(self.err(
                    span,
                    "attempt to get attribute from null value; this value is null, so it does not have any attributes",
                ));
            }
            other => return Err(self.attr_on_wrong_kind(other.kind_name(), name, span)),
        };
        Ok(r.mark_if(marked))
    }

    fn attr_on_wrong_kind(&self, kind: &str, name: &str, span: Option<Range<usize>>) -> Error {
        let msg = match kind {
            "list" | "tuple" | "set" => format!(
                "unsupported attribute; can't access attributes on a {kind} of objects, did you mean to access attribute {name:?} for a specific element of the {kind}, or across all elements of the {kind}?"
            ),
            _ => format!(
                "unsupported attribute; can't access attributes on a primitive-typed value ({kind})"
            ),
        };
        self.err(span, msg)
    }

    pub(crate) fn index(&self, v: Value, k: Value, span: Option<Range<usize>>) -> R {
        let (coll, m1) = v.unmark();
        let (key, m2) = k.unmark();
        let marked = m1 || m2;
        let invalid = |detail: &str| {
            self.err(
                span.clone(),
                format!(
                    "invalid index; the given key does not identify an element in this collection value{detail}"
                ),
            )
        };
        if coll.is_null() {
            return Err(self.err(
                span,
                "attempt to index null value; this value is null, so it does not have any indices",
            ));
        }
        if key.is_null() {
            return Err(self.err(
                span,
                "invalid index; can't use a null value as an indexing key",
            ));
        }
        if let Value::Unknown(t) = &coll {
            return Ok(Value::Unknown(element_type(t, &key)).mark_if(marked));
        }
        let r = match coll {
            Value::List(mut xs) | Value::Tuple(mut xs) => {
                if !key.is_known() {
                    let t = crate::value::unify_all(xs.iter().map(Value::type_of));
                    return Ok(Value::Unknown(t).mark_if(marked));
                }
                let n = match key.convert(&Type::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => return Err(invalid(": a number is required")),
                };
                if n.fract() != 0.0 {
                    return Err(invalid(": a whole number is required"));
                }
                if n < 0.0 || n >= xs.len() as f64 {
                    return Err(invalid(""));
                }
                xs.swap_remove(n as usize)
            }
            Value::Map(mut m) | Value::Object(mut m) => {
                if !key.is_known() {
                    let t = crate::value::unify_all(m.values().map(Value::type_of));
                    return Ok(Value::Unknown(t).mark_if(marked));
                }
                let k = match key.convert(&Type::String) {
                    Ok(Value::String(s)) => s,
                    _ => return Err(invalid(": a string is required")),
                };
                match m.remove(&k) {
                    Some(x) => x,
                    None => return Err(invalid("")),
                }
            }
            Value::Set(_) => {
                return Err(self.err(
                    span,
                    "invalid index; elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set",
                ));
            }
            _ => {
                return Err(self.err(span, "invalid index; this value does not have any indices"));
            }
        };
        Ok(r.mark_if(marked))
    }

    // ---- operators ----

    /// A number operand: `None` when unknown.
    fn number_operand(
        &self,
        v: Value,
        side: &str,
        span: Option<Range<usize>>,
    ) -> Result<(Option<f64>, bool), Error> {
        let (v, m) = v.unmark();
        if v.is_null() {
            return Err(self.err(
                span,
                format!("invalid operand; unsuitable value for {side} operand: a number is required, but have null"),
            ));
        }
        match v.convert(&Type::Number) {
            Ok(Value::Number(n)) => Ok((Some(n), m)),
            Ok(_) => Ok((None, m)),
            Err(e) => Err(self.err(
                span,
                format!(
                    "invalid operand; unsuitable value for {side} operand: {}",
                    e.message
                ),
            )),
        }
    }

    fn bool_operand(
        &self,
        v: Value,
        side: &str,
        span: Option<Range<usize>>,
    ) -> Result<(Option<bool>, bool), Error> {
        let (v, m) = v.unmark();
        if v.is_null() {
            return Err(self.err(
                span,
                format!("invalid operand; unsuitable value for {side} operand: a bool is required, but have null"),
            ));
        }
        match v.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => Ok((Some(b), m)),
            Ok(_) => Ok((None, m)),
            Err(e) => Err(self.err(
                span,
                format!(
                    "invalid operand; unsuitable value for {side} operand: {}",
                    e.message
                ),
            )),
        }
    }

    fn eval_unary(&self, u: &UnaryOp, env: &Env) -> R {
        let v = self.eval(&u.expr, env)?;
        let span = u.expr.span();
        match u.operator.value() {
            UnaryOperator::Neg => {
                let (n, m) = self.number_operand(v, "the", span)?;
                Ok(
                    n.map_or(Value::Unknown(Type::Number), |n| Value::Number(-n))
                        .mark_if(m),
                )
            }
            UnaryOperator::Not => {
                let (b, m) = self.bool_operand(v, "the", span)?;
                Ok(b.map_or(Value::Unknown(Type::Bool), |b| Value::Bool(!b))
                    .mark_if(m))
            }
        }
    }

    fn eval_binary(&self, b: &BinaryOp, env: &Env) -> R {
        use BinaryOperator as Op;
        let op = *b.operator.value();
        let (ls, rs) = (b.lhs_expr.span(), b.rhs_expr.span());
        let whole = b.span();
        if matches!(op, Op::And | Op::Or) {
            return self.eval_logical(b, op == Op::Or, env);
        }
        let lhs = self.eval(&b.lhs_expr, env)?;
        let rhs = self.eval(&b.rhs_expr, env)?;
        if matches!(op, Op::Eq | Op::NotEq) {
            let (l, lm) = lhs.unmark_deep();
            let (r, rm) = rhs.unmark_deep();
            let out = if !l.is_wholly_known() || !r.is_wholly_known() {
                Value::Unknown(Type::Bool)
            } else {
                Value::Bool(l.equals(&r) == (op == Op::Eq))
            };
            return Ok(out.mark_if(lm || rm));
        }
        let (l, lm) = self.number_operand(lhs, "left", ls)?;
        let (r, rm) = self.number_operand(rhs, "right", rs)?;
        let marked = lm || rm;
        let (Some(l), Some(r)) = (l, r) else {
            let t = if matches!(op, Op::Less | Op::LessEq | Op::Greater | Op::GreaterEq) {
                Type::Bool
            } else {
                Type::Number
            };
            return Ok(Value::Unknown(t).mark_if(marked));
        };
        let out = match op {
            Op::Plus => Value::Number(l + r),
            Op::Minus => Value::Number(l - r),
            Op::Mul => Value::Number(l * r),
            Op::Div | Op::Mod if r == 0.0 => {
                return Err(self.err(
                    whole,
                    "operation failed; error during operation: can't divide by zero",
                ));
            }
            Op::Div => Value::Number(l / r),
            Op::Mod => Value::Number(l % r),
            Op::Less => Value::Bool(l < r),
            Op::LessEq => Value::Bool(l <= r),
            Op::Greater => Value::Bool(l > r),
            Op::GreaterEq => Value::Bool(l >= r),
            Op::Eq | Op::NotEq | Op::And | Op::Or => {
                // Handled above; kept for exhaustiveness.
                Value::Unknown(Type::Bool)
            }
        };
        if let Value::Number(n) = out
            && !n.is_finite()
        {
            return Err(self.err(
                whole,
                "operation failed; error during operation: the result is too large to represent",
            ));
        }
        Ok(out.mark_if(marked))
    }

    /// `&&` (`decisive` false) and `||` (`decisive` true), short-circuiting
    /// in both directions as Terraform does: when one operand alone decides
    /// the result, errors evaluating the other are dropped, and an unknown
    /// operand does not make the result unknown.
    fn eval_logical(&self, b: &BinaryOp, decisive: bool, env: &Env) -> R {
        let (ls, rs) = (b.lhs_expr.span(), b.rhs_expr.span());
        let l = self
            .eval(&b.lhs_expr, env)
            .and_then(|v| self.bool_operand(v, "left", ls));
        if let Ok((Some(lv), lm)) = &l
            && *lv == decisive
        {
            return Ok(Value::Bool(decisive).mark_if(*lm));
        }
        let r = self
            .eval(&b.rhs_expr, env)
            .and_then(|v| self.bool_operand(v, "right", rs));
        if let Ok((Some(rv), rm)) = &r
            && *rv == decisive
        {
            let lm = l.as_ref().is_ok_and(|(_, m)| *m);
            return Ok(Value::Bool(decisive).mark_if(*rm || lm));
        }
        let (l, lm) = l?;
        let (r, rm) = r?;
        let out = match (l, r) {
            (Some(_), Some(r)) => Value::Bool(r),
            _ => Value::Unknown(Type::Bool),
        };
        Ok(out.mark_if(lm || rm))
    }

    fn eval_conditional(&self, c: &Conditional, env: &Env) -> R {
        let cspan = c.cond_expr.span();
        let (cond, cm) = self.eval(&c.cond_expr, env)?.unmark();
        if cond.is_null() {
            return Err(self.err(
                cspan,
                "invalid condition; the condition value is null, conditions must either be true or false",
            ));
        }
        let known = match cond.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => Some(b),
            Ok(_) => None,
            Err(e) => {
                return Err(self.err(
                    cspan,
                    format!("incorrect condition type; the condition expression must be of type bool: {}", e.message),
                ));
            }
        };
        let t = self.eval(&c.true_expr, env);
        let f = self.eval(&c.false_expr, env);
        let (chosen, other) = match known {
            Some(true) => (t?, f.ok()),
            Some(false) => (f?, t.ok()),
            None => {
                let (tv, fv) = (t?, f?);
                let ty = self.unify_branches(&tv, &fv, c)?;
                let marked = cm || tv.contains_sensitive() || fv.contains_sensitive();
                return Ok(Value::Unknown(ty).mark_if(marked));
            }
        };
        let Some(other) = other else {
            return Ok(chosen.mark_if(cm));
        };
        let (tv, fv) = if known == Some(true) {
            (&chosen, &other)
        } else {
            (&other, &chosen)
        };
        let ty = self.unify_branches(tv, fv, c)?;
        let out = chosen.convert(&ty).map_err(|e| {
            self.err(
                c.span(),
                format!("inconsistent conditional result types; {e}"),
            )
        })?;
        Ok(out.mark_if(cm))
    }

    fn unify_branches(&self, t: &Value, f: &Value, c: &Conditional) -> Result<Type, Error> {
        let (tt, ft) = (t.type_of(), f.type_of());
        if let Some(u) = unify(&tt, &ft) {
            return Ok(u);
        }
        // Sequences of different lengths unify as a list when their
        // elements do.
        if let (Some(a), Some(b)) = (t.as_seq(), f.as_seq()) {
            let mut u = Type::Any;
            let mut ok = true;
            for x in a.iter().chain(b) {
                match unify(&u, &x.type_of()) {
                    Some(n) => u = n,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return Ok(Type::list(u));
            }
        }
        Err(self.err(
            c.span(),
            format!(
                "inconsistent conditional result types; the true and false result expressions must have consistent types, the 'true' value is {}, but the 'false' value is {}",
                describe(t),
                describe(f)
            ),
        ))
    }

    // ---- for expressions ----

    /// The (key, value) pairs of a collection a `for` iterates over, or
    /// `None` when it is unknown. Marks of the collection itself are the
    /// caller's business.
    pub(crate) fn iter_items(
        &self,
        coll: Value,
        span: Option<Range<usize>>,
        what: &str,
    ) -> Result<Option<Vec<(Value, Value)>>, Error> {
        match coll {
            Value::Null => Err(self.err(
                span,
                format!("iteration over null value; a null value cannot be used as the collection in {what}"),
            )),
            Value::Unknown(_) => Ok(None),
            other => other.keyed_items().map(Some).map_err(|other| {
                self.err(
                    span,
                    format!(
                        "iteration over non-iterable value; a value of type {} cannot be used as the collection in {what}",
                        other.kind_name()
                    ),
                )
            }),
        }
    }

    fn eval_for(&self, f: &ForExpr, env: &Env) -> R {
        let cspan = f.intro.collection_expr.span();
        let (coll, mut marked) = self.eval(&f.intro.collection_expr, env)?.unmark();
        let Some(items) = self.iter_items(coll, cspan, "a 'for' expression")? else {
            return Ok(Value::Unknown(Type::Any).mark_if(marked));
        };
        let kname = f
            .intro
            .key_var
            .as_ref()
            .map(|k| k.value().as_str().to_owned());
        let vname = f.intro.value_var.value().as_str().to_owned();
        let mut unknown = false;
        let mut tuple = Vec::new();
        let mut obj: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in items {
            let mut vars = Vec::with_capacity(2);
            if let Some(kn) = &kname {
                vars.push((kn.clone(), k));
            }
            vars.push((vname.clone(), v));
            let child = env.child(vars);
            if let Some(cond) = &f.cond {
                let (c, m) = self.eval(&cond.expr, &child)?.unmark();
                marked |= m;
                if c.is_null() {
                    return Err(self.err(
                        cond.expr.span(),
                        "invalid 'for' condition; the value of the 'if' clause must not be null",
                    ));
                }
                match c.convert(&Type::Bool) {
                    Ok(Value::Bool(true)) => {}
                    Ok(Value::Bool(false)) => continue,
                    Ok(_) => {
                        unknown = true;
                        continue;
                    }
                    Err(e) => {
                        return Err(self.err(
                            cond.expr.span(),
                            format!(
                                "invalid 'for' condition; the 'if' clause value is invalid: {}",
                                e.message
                            ),
                        ));
                    }
                }
            }
            let Some(ke) = &f.key_expr else {
                tuple.push(self.eval(&f.value_expr, &child)?);
                continue;
            };
            let (key, m) = self.eval(ke, &child)?.unmark();
            marked |= m;
            let val = self.eval(&f.value_expr, &child)?;
            if key.is_null() {
                return Err(self.err(
                    ke.span(),
                    "invalid object key; key expression in 'for' expression must not produce a null value",
                ));
            }
            if !key.is_known() {
                unknown = true;
                continue;
            }
            let key = match key.convert(&Type::String) {
                Ok(Value::String(s)) => s,
                _ => {
                    return Err(self.err(
                        ke.span(),
                        format!(
                            "invalid object key; the key expression produced an invalid result: string required, but have {}",
                            key.kind_name()
                        ),
                    ));
                }
            };
            if f.grouping {
                groups.entry(key).or_default().push(val);
                continue;
            }
            match obj.entry(key) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(val);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    return Err(self.err(
                        ke.span(),
                        format!(
                            "duplicate object key; two different items produced the key {:?} in this 'for' expression, if duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key",
                            slot.key()
                        ),
                    ));
                }
            }
        }
        let out = if unknown {
            Value::Unknown(Type::Any)
        } else if f.key_expr.is_none() {
            Value::Tuple(tuple)
        } else if f.grouping {
            Value::Object(
                groups
                    .into_iter()
                    .map(|(k, vs)| (k, Value::Tuple(vs)))
                    .collect(),
            )
        } else {
            Value::Object(obj)
        };
        Ok(out.mark_if(marked))
    }

    // ---- function calls ----

    fn eval_call(&self, f: &FuncCall, env: &Env) -> R {
        let mut name = String::new();
        for ns in &f.name.namespace {
            name.push_str(ns.value().as_str());
            name.push_str("::");
        }
        name.push_str(f.name.name.value().as_str());
        let span = f.span();
        let args: Vec<&Expression> = f.args.iter().collect();
        match name.as_str() {
            "try" | "can" if f.args.expand_final() => {
                return Err(self.err(
                    span,
                    format!("invalid use of expansion; the {name:?} function does not accept an expanded argument"),
                ));
            }
            "templatefile" if self.isolated => {
                // Without this a template that renders itself would recurse
                // until the stack runs out.
                return Err(self.err(
                    span,
                    "call to function \"templatefile\" failed: cannot recursively call templatefile from inside a template",
                ));
            }
            "try" => return self.eval_try(&args, span, env),
            "can" => return self.eval_can(&args, span, env),
            _ => {}
        }
        if !funcs::exists(&name) {
            let name_span = f
                .name
                .namespace
                .first()
                .map_or(f.name.name.span(), |ns| join(ns.span(), f.name.name.span()));
            let mut d = self.err(
                name_span.or(span),
                format!("call to unknown function; there is no function named {name:?}"),
            );
            if let Some(s) = did_you_mean(&name, funcs::names()) {
                d = Box::new(d.with_help(format!("did you mean {s:?}?")));
            }
            return Err(d);
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in &args {
            vals.push(self.eval(a, env)?);
        }
        if f.args.expand_final()
            && let Some(last) = vals.pop()
        {
            let lspan = args.last().and_then(|a| a.span());
            let (last, m) = last.unmark();
            match last {
                Value::Null => {
                    return Err(self.err(
                        lspan,
                        "invalid expanding argument value; the expanding argument (indicated by ...) must not be null",
                    ));
                }
                Value::Unknown(_) => return Ok(Value::Unknown(Type::Any).mark_if(m)),
                Value::List(xs) | Value::Set(xs) | Value::Tuple(xs) => {
                    vals.extend(xs.into_iter().map(|x| x.mark_if(m)));
                }
                other => {
                    return Err(self.err(
                        lspan,
                        format!(
                            "invalid expanding argument value; the expanding argument (indicated by ...) must be of a tuple, list, or set type, but have {}",
                            other.kind_name()
                        ),
                    ));
                }
            }
        }
        let nargs = args.len();
        funcs::call(&name, vals, self.ev).map_err(|e| match e.param {
            Some((i, pname)) => {
                let i = if f.args.expand_final() {
                    i.min(nargs.saturating_sub(1))
                } else {
                    i
                };
                let s = args.get(i).and_then(|a| a.span()).or(span);
                self.err(
                    s,
                    format!("invalid value for {pname:?} parameter: {}", e.message),
                )
            }
            None => self.err(
                span,
                format!("call to function {name:?} failed: {}", e.message),
            ),
        })
    }

    fn eval_try(&self, args: &[&Expression], span: Option<Range<usize>>, env: &Env) -> R {
        if args.is_empty() {
            return Err(self.err(
                span,
                "call to function \"try\" failed: at least one argument is required",
            ));
        }
        let mut errors = Vec::new();
        for a in args {
            match self.eval(a, env) {
                Ok(v) if !v.is_wholly_known() => {
                    // A later conversion of an unknown could still fail, so
                    // the choice cannot be made yet.
                    return Ok(Value::Unknown(Type::Any).mark_if(v.contains_sensitive()));
                }
                Ok(v) => return Ok(v),
                Err(d) => errors.push(d),
            }
        }
        let detail: Vec<String> = errors
            .iter()
            .map(|d| format!("- {} (at {})", d.message, d.location()))
            .collect();
        Err(Box::new(
            self.diag(
                span,
                "call to function \"try\" failed: no expression succeeded, at least one expression must produce a successful result",
            )
            .with_note(detail.join("\n")),
        ))
    }

    fn eval_can(&self, args: &[&Expression], span: Option<Range<usize>>, env: &Env) -> R {
        let [a] = args else {
            let msg = if args.is_empty() {
                "not enough function arguments; function \"can\" expects 1 argument(s), missing value for \"expression\""
            } else {
                "too many function arguments; function \"can\" expects only 1 argument(s)"
            };
            return Err(self.err(span, msg));
        };
        match self.eval(a, env) {
            Ok(v) if !v.is_wholly_known() => Ok(Value::Unknown(Type::Bool)),
            Ok(_) => Ok(Value::Bool(true)),
            Err(_) => Ok(Value::Bool(false)),
        }
    }
}

fn other_kind(t: &Type) -> &'static str {
    match t {
        Type::Bool => "bool",
        Type::Number => "number",
        Type::String => "string",
        Type::List(_) => "list",
        Type::Set(_) => "set",
        Type::Tuple(_) => "tuple",
        Type::Map(_) => "map",
        Type::Object { .. } | Type::Any => "object",
    }
}

/// A value's type for messages: `string`, `tuple`, `object`, ...
fn describe(v: &Value) -> String {
    match v.unmarked() {
        Value::Unknown(t) => t.to_string(),
        Value::Tuple(_) => "tuple".to_owned(),
        Value::Object(_) => "object".to_owned(),
        other => other.type_of().to_string(),
    }
}
