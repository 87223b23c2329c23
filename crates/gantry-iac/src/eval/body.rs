//! Block bodies against a schema: attributes, nested blocks and `dynamic`
//! blocks.

use std::collections::BTreeMap;
use std::ops::Range;

use gantry_config::Diagnostic;
use gantry_config::suggest::did_you_mean;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};

use super::expr::{Ctx, Env};
use crate::provider::{NestedBlock, Nesting, Schema};
use crate::value::{Type, Value};

/// The blocks of one type found in a body.
#[derive(Default)]
struct Found {
    items: Vec<Value>,
    unknown: bool,
    last_span: Option<Range<usize>>,
}

fn with_suggestion(d: Diagnostic, word: &str, candidates: &[&str]) -> Diagnostic {
    match did_you_mean(word, candidates) {
        Some(s) => d.with_help(format!("did you mean {s:?}?")),
        None => d,
    }
}

impl Ctx<'_> {
    /// The value of `body` as an object of `schema.object_type()`; errors
    /// go to `errs` (the value is then partial).
    pub(crate) fn body_value(
        &self,
        body: &Body,
        schema: &Schema,
        env: &Env,
        block_span: Option<Range<usize>>,
        errs: &mut Vec<Diagnostic>,
    ) -> Value {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        let attr_names: Vec<&str> = schema.attributes.keys().map(String::as_str).collect();
        let block_names: Vec<&str> = schema.blocks.keys().map(String::as_str).collect();
        let mut found: BTreeMap<String, Found> = BTreeMap::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.value().as_str();
                    let span = a.key.span().or_else(|| a.span());
                    let Some(def) = schema.attributes.get(name) else {
                        let d = if schema.blocks.contains_key(name) {
                            self.diag(
                                span,
                                format!(
                                    "unsupported argument; an argument named {name:?} is not expected here, did you mean to define a block of type {name:?}?"
                                ),
                            )
                        } else {
                            with_suggestion(
                                self.diag(
                                    span,
                                    format!(
                                        "unsupported argument; an argument named {name:?} is not expected here"
                                    ),
                                ),
                                name,
                                &attr_names,
                            )
                        };
                        errs.push(d);
                        continue;
                    };
                    if def.computed && !def.optional && !def.required {
                        errs.push(self.diag(
                            span,
                            format!(
                                "value for unconfigurable attribute; can't configure a value for {name:?}: its value will be decided automatically based on the result of applying this configuration"
                            ),
                        ));
                        continue;
                    }
                    let v = match self.eval(&a.value, env) {
                        Ok(v) => v,
                        Err(d) => {
                            errs.push(*d);
                            continue;
                        }
                    };
                    if def.required && v.is_null() {
                        errs.push(self.diag(
                            a.value.span().or(span),
                            format!(
                                "missing required argument; the argument {name:?} is required, but it is set to null"
                            ),
                        ));
                        continue;
                    }
                    match v.convert(&def.ty) {
                        Ok(v) => {
                            out.insert(name.to_owned(), v.mark_if(def.sensitive));
                        }
                        Err(e) => errs.push(self.diag(
                            a.value.span().or(span),
                            format!(
                                "incorrect attribute value type; inappropriate value for attribute {name:?}: {e}"
                            ),
                        )),
                    }
                }
                Structure::Block(b) => {
                    let ident = b.ident.value().as_str();
                    if ident == "dynamic" && !schema.blocks.contains_key("dynamic") {
                        self.expand_dynamic(b, schema, env, &mut found, errs);
                        continue;
                    }
                    let span = b.ident.span().or_else(|| b.span());
                    let Some(nb) = schema.blocks.get(ident) else {
                        errs.push(with_suggestion(
                            self.diag(
                                span,
                                format!(
                                    "unsupported block type; blocks of type {ident:?} are not expected here"
                                ),
                            ),
                            ident,
                            &block_names,
                        ));
                        continue;
                    };
                    if let Some(l) = b.labels.first() {
                        errs.push(self.diag(
                            l.span().or(span),
                            format!(
                                "extraneous label for {ident:?}; no labels are expected for {ident:?} blocks"
                            ),
                        ));
                        continue;
                    }
                    let v = self.body_value(&b.body, &nb.schema, env, span.clone(), errs);
                    let f = found.entry(ident.to_owned()).or_default();
                    f.items.push(v);
                    f.last_span = span;
                }
            }
        }
        for (name, def) in &schema.attributes {
            if out.contains_key(name) {
                continue;
            }
            let written = body.get_attribute(name).is_some();
            // A written but failed attribute has its error already.
            if def.required && !written {
                errs.push(self.diag(
                    block_span.clone(),
                    format!(
                        "missing required argument; the argument {name:?} is required, but no definition was found"
                    ),
                ));
            }
            out.insert(name.clone(), Value::Null);
        }
        for (name, nb) in &schema.blocks {
            let f = found.remove(name).unwrap_or_default();
            let span = f.last_span.clone().or(block_span.clone());
            out.insert(name.clone(), self.assemble(name, nb, f, span, errs));
        }
        Value::Object(out)
    }

    fn assemble(
        &self,
        name: &str,
        nb: &NestedBlock,
        f: Found,
        span: Option<Range<usize>>,
        errs: &mut Vec<Diagnostic>,
    ) -> Value {
        let obj = nb.schema.object_type();
        if f.unknown {
            return Value::Unknown(match nb.nesting {
                Nesting::Single => obj,
                Nesting::List => Type::list(obj),
                Nesting::Set => Type::set(obj),
            });
        }
        let n = f.items.len();
        let max = match nb.nesting {
            Nesting::Single => Some(nb.max_items.unwrap_or(1).min(1)),
            _ => nb.max_items,
        };
        if n < nb.min_items {
            errs.push(self.diag(
                span.clone(),
                format!(
                    "insufficient {name:?} blocks; at least {} {name:?} block(s) are required",
                    nb.min_items
                ),
            ));
        }
        if let Some(max) = max
            && n > max
        {
            errs.push(self.diag(
                span,
                format!(
                    "too many {name:?} blocks; no more than {max} {name:?} block(s) are allowed"
                ),
            ));
        }
        match nb.nesting {
            Nesting::Single => f.items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(f.items),
            Nesting::Set => Value::set_from(f.items),
        }
    }

    fn expand_dynamic(
        &self,
        b: &Block,
        schema: &Schema,
        env: &Env,
        found: &mut BTreeMap<String, Found>,
        errs: &mut Vec<Diagnostic>,
    ) {
        let span = b.ident.span().or_else(|| b.span());
        let Some(label) = b.labels.first() else {
            errs.push(self.diag(
                span,
                "missing block label; a dynamic block must have a label naming the block type to generate",
            ));
            return;
        };
        let bt = label.as_str();
        let lspan = label.span().or(span.clone());
        let Some(nb) = schema.blocks.get(bt) else {
            let names: Vec<&str> = schema.blocks.keys().map(String::as_str).collect();
            errs.push(with_suggestion(
                self.diag(
                    lspan,
                    format!("unsupported block type; blocks of type {bt:?} are not expected here"),
                ),
                bt,
                &names,
            ));
            return;
        };
        let mut iterator = bt.to_owned();
        let mut for_each = None;
        let mut content = None;
        let mut ok = true;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.value().as_str() {
                    "for_each" => for_each = Some(&a.value),
                    "iterator" => match &a.value {
                        Expression::Variable(v) => iterator = v.value().as_str().to_owned(),
                        other => {
                            errs.push(self.diag(
                                other.span(),
                                "invalid dynamic iterator name; the iterator must be a single identifier",
                            ));
                            ok = false;
                        }
                    },
                    "labels" => {}
                    other => {
                        errs.push(self.diag(
                            a.key.span(),
                            format!(
                                "unsupported argument; an argument named {other:?} is not expected here"
                            ),
                        ));
                        ok = false;
                    }
                },
                Structure::Block(c) if c.ident.value().as_str() == "content" => {
                    if content.is_some() {
                        errs.push(self.diag(
                            c.ident.span(),
                            "duplicate content block; only one \"content\" block is allowed in a dynamic block",
                        ));
                        ok = false;
                    }
                    content = Some(c);
                }
                Structure::Block(c) => {
                    errs.push(self.diag(
                        c.ident.span(),
                        format!(
                            "unsupported block type; blocks of type {:?} are not expected here",
                            c.ident.value().as_str()
                        ),
                    ));
                    ok = false;
                }
            }
        }
        let Some(fe) = for_each else {
            errs.push(self.diag(
                span,
                "missing required argument; the argument \"for_each\" is required, but no definition was found",
            ));
            return;
        };
        let Some(content) = content else {
            errs.push(self.diag(
                span,
                "missing required block; a \"content\" block is required in a dynamic block",
            ));
            return;
        };
        if !ok {
            return;
        }
        let (coll, marked) = match self.eval(fe, env) {
            Ok(v) => v.unmark(),
            Err(d) => {
                errs.push(*d);
                return;
            }
        };
        let f = found.entry(bt.to_owned()).or_default();
        f.last_span = span;
        if coll.is_null() {
            errs.push(self.diag(
                fe.span(),
                "invalid dynamic for_each value; cannot use a null value in for_each",
            ));
            return;
        }
        if matches!(coll, Value::Bool(_) | Value::Number(_) | Value::String(_)) {
            errs.push(self.diag(
                fe.span(),
                format!(
                    "invalid dynamic for_each value; cannot use a {} value in for_each, an iterable collection is required",
                    coll.kind_name()
                ),
            ));
            return;
        }
        let items = match self.iter_items(coll, fe.span(), "a dynamic block's for_each") {
            Ok(Some(items)) => items,
            Ok(None) => {
                f.unknown = true;
                return;
            }
            Err(d) => {
                errs.push(*d);
                return;
            }
        };
        for (k, v) in items {
            let it = Value::Object(BTreeMap::from([
                ("key".to_owned(), k),
                ("value".to_owned(), v),
            ]));
            let child = env.child(vec![(iterator.clone(), it)]);
            let v = self.body_value(
                &content.body,
                &nb.schema,
                &child,
                content.ident.span(),
                errs,
            );
            if let Some(f) = found.get_mut(bt) {
                f.items.push(v.mark_if(marked));
            }
        }
    }
}
