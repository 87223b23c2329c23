//! Static evaluation of a module tree with gantry-iac's evaluator: one
//! context per module instance resolves variables, locals (lazily, in
//! whatever order they refer to each other), module outputs and the
//! `aws_iam_policy_document` data sources; everything else a provider
//! would compute is unknown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gantry_config::Diagnostic;
use gantry_iac::engine::vars::Inputs;
use gantry_iac::engine::{Key, ModuleNode};
use gantry_iac::eval::{Evaluator, Root, Scope};
use gantry_iac::funcs::Phase;
use gantry_iac::syntax::{Expr, Mode, Resource, Src};
use gantry_iac::value::{Type, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};

use super::{TfResource, diag_error, key_suffix, resource_refs};
use crate::finding::{FileError, Location};

/// More instances than this from one `count`/`for_each` are not expanded
/// (a scan is not the place to materialise a million resources).
const MAX_INSTANCES: usize = 1000;
/// Module nesting deeper than this is not followed.
const MAX_DEPTH: usize = 16;

/// Every resource instance and provider configuration of the tree.
pub(super) fn evaluate(tree: &ModuleNode, dir: &Path) -> (Vec<TfResource>, Vec<FileError>) {
    let errors = Mutex::new(Vec::new());
    let vars = root_vars(tree, dir, &errors);
    let ctx = ModCtx::new(
        tree,
        dir.to_path_buf(),
        dir,
        String::new(),
        vars,
        &errors,
        0,
    );
    let mut out = Vec::new();
    collect(&ctx, &mut out);
    drop(ctx);
    let errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    (out, errors)
}

fn collect(ctx: &ModCtx<'_>, out: &mut Vec<TfResource>) {
    for p in &ctx.node.module.providers {
        let ev = ctx.evaluator(ctx);
        let mut errs = Vec::new();
        let values = body_value(&ev, &p.body.body, &p.body.src, &mut Vec::new(), &mut errs);
        ctx.push_errors(errs);
        let name = match &p.alias {
            Some(a) => format!("{}.{a}", p.name),
            None => p.name.clone(),
        };
        let s = p.loc.src.span(&p.loc.range);
        let prefix = if ctx.module.is_empty() {
            String::new()
        } else {
            format!("{}.", ctx.module)
        };
        out.push(TfResource {
            address: format!("{prefix}provider[\"{name}\"]"),
            module: ctx.module.clone(),
            mode: "provider",
            type_name: p.name.clone(),
            name,
            values,
            location: Location::new(p.loc.src.path.clone(), s.line as u32),
            refs: BTreeMap::new(),
        });
    }
    for r in ctx.node.module.resources.values() {
        out.extend(ctx.instances(r).iter().cloned());
    }
    for name in ctx.node.module.module_calls.keys() {
        for (_, child) in ctx.call(name).iter() {
            collect(child, out);
        }
    }
}

/// Root variables: tfvars files, then defaults; unknown otherwise.
fn root_vars(
    tree: &ModuleNode,
    dir: &Path,
    errors: &Mutex<Vec<FileError>>,
) -> BTreeMap<String, Value> {
    let inputs = match Inputs::collect(dir, &tree.module, &[], &[]) {
        Ok((inputs, _warnings)) => Some(inputs),
        Err(diags) => {
            push(errors, diags.iter().map(diag_error));
            None
        }
    };
    let mut out = BTreeMap::new();
    for (name, var) in &tree.module.variables {
        let given = inputs.as_ref().and_then(|i| i.get(name, &var.ty));
        let v = match given {
            Some(Ok(v)) => v,
            Some(Err(msg)) => {
                let s = var.loc.src.span(&var.loc.range);
                push(
                    errors,
                    [crate::misconfig::file_error(
                        &var.loc.src.path,
                        s.line,
                        s.col,
                        msg,
                    )],
                );
                Value::Unknown(var.ty.clone())
            }
            None => default_value(var, dir, errors),
        };
        out.insert(name.clone(), v);
    }
    out
}

fn default_value(
    var: &gantry_iac::syntax::Variable,
    dir: &Path,
    errors: &Mutex<Vec<FileError>>,
) -> Value {
    let Some(d) = &var.default else {
        return Value::Unknown(var.ty.clone());
    };
    let ev = Evaluator {
        scope: &NoScope,
        phase: Phase::Plan,
        base_dir: dir,
    };
    match ev.eval(d) {
        Ok(v) => v.convert(&var.ty).unwrap_or(v),
        Err(d) => {
            push(errors, [diag_error(&d)]);
            Value::Unknown(var.ty.clone())
        }
    }
}

fn push(errors: &Mutex<Vec<FileError>>, items: impl IntoIterator<Item = FileError>) {
    if let Ok(mut e) = errors.lock() {
        e.extend(items);
    }
}

struct NoScope;

impl Scope for NoScope {
    fn resolve(&self, _root: &Root) -> Result<Value, String> {
        Ok(Value::Unknown(Type::Any))
    }
}

enum Slot<T> {
    Busy,
    Done(T),
}

type Instances = Arc<Vec<TfResource>>;
type Children<'a> = Arc<Vec<(Option<Key>, Arc<ModCtx<'a>>)>>;

/// One module instance.
struct ModCtx<'a> {
    node: &'a ModuleNode,
    dir: PathBuf,
    root_dir: &'a Path,
    /// `module.a["x"].module.b`, empty for the root.
    module: String,
    vars: BTreeMap<String, Value>,
    locals: Mutex<BTreeMap<String, Slot<Value>>>,
    resources: Mutex<BTreeMap<String, Slot<Instances>>>,
    calls: Mutex<BTreeMap<String, Slot<Children<'a>>>>,
    errors: &'a Mutex<Vec<FileError>>,
    depth: usize,
}

/// A resource or module call instance: the module's names plus
/// `count.index` or `each`.
struct InstScope<'c, 'a> {
    base: &'c ModCtx<'a>,
    count: Option<Value>,
    each: Option<(Value, Value)>,
}

impl Scope for InstScope<'_, '_> {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        match root {
            Root::CountIndex => self
                .count
                .clone()
                .ok_or_else(|| "reference to \"count\" in non-counted context".to_owned()),
            Root::EachKey => self
                .each
                .as_ref()
                .map(|e| e.0.clone())
                .ok_or_else(|| "reference to \"each\" in context without for_each".to_owned()),
            Root::EachValue => self
                .each
                .as_ref()
                .map(|e| e.1.clone())
                .ok_or_else(|| "reference to \"each\" in context without for_each".to_owned()),
            other => self.base.resolve(other),
        }
    }
}

impl Scope for ModCtx<'_> {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        match root {
            Root::Var(n) => self.vars.get(n).cloned().ok_or_else(|| {
                format!("reference to undeclared input variable: an input variable with the name {n:?} has not been declared")
            }),
            Root::Local(n) => self.local(n),
            Root::Module(n) => Ok(self.module_value(n)),
            Root::Resource {
                mode: Mode::Data,
                type_name,
                name,
            } if type_name == "aws_iam_policy_document" => {
                Ok(self.resource_value(&format!("data.{type_name}.{name}")))
            }
            Root::Resource { .. } | Root::SelfRef => Ok(Value::Unknown(Type::Any)),
            Root::CountIndex | Root::EachKey | Root::EachValue => {
                Err("\"count\" and \"each\" can only be used in blocks that set count or for_each".into())
            }
            Root::Path(p) => match p.as_str() {
                "module" => Ok(Value::String(self.dir.display().to_string())),
                "root" | "cwd" => Ok(Value::String(self.root_dir.display().to_string())),
                other => Err(format!(
                    "unsupported attribute: the \"path\" object does not have an attribute named {other:?}"
                )),
            },
            Root::Workspace => Ok(Value::String("default".into())),
        }
    }
}

impl<'a> ModCtx<'a> {
    fn new(
        node: &'a ModuleNode,
        dir: PathBuf,
        root_dir: &'a Path,
        module: String,
        vars: BTreeMap<String, Value>,
        errors: &'a Mutex<Vec<FileError>>,
        depth: usize,
    ) -> ModCtx<'a> {
        ModCtx {
            node,
            dir,
            root_dir,
            module,
            vars,
            locals: Mutex::new(BTreeMap::new()),
            resources: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(BTreeMap::new()),
            errors,
            depth,
        }
    }

    fn evaluator<'s>(&'s self, scope: &'s dyn Scope) -> Evaluator<'s> {
        Evaluator {
            scope,
            phase: Phase::Plan,
            base_dir: &self.dir,
        }
    }

    fn push_errors(&self, diags: Vec<Diagnostic>) {
        push(self.errors, diags.iter().map(diag_error));
    }

    fn local(&self, name: &str) -> Result<Value, String> {
        let Some(l) = self.node.module.locals.get(name) else {
            return Err(format!(
                "reference to undeclared local value: a local value with the name {name:?} has not been declared"
            ));
        };
        {
            let Ok(mut m) = self.locals.lock() else {
                return Ok(Value::Unknown(Type::Any));
            };
            match m.get(name) {
                Some(Slot::Done(v)) => return Ok(v.clone()),
                // A cycle: Terraform rejects it; here the value is unknown.
                Some(Slot::Busy) => return Ok(Value::Unknown(Type::Any)),
                None => {
                    m.insert(name.to_owned(), Slot::Busy);
                }
            }
        }
        let v = match self.evaluator(self).eval(&l.expr) {
            Ok(v) => v,
            Err(d) => {
                self.push_errors(vec![d]);
                Value::Unknown(Type::Any)
            }
        };
        if let Ok(mut m) = self.locals.lock() {
            m.insert(name.to_owned(), Slot::Done(v.clone()));
        }
        Ok(v)
    }

    /// The value a reference to a resource has: its instance's attributes
    /// (an object), a list under count, a map under for_each. Used for the
    /// data sources evaluated locally.
    fn resource_value(&self, key: &str) -> Value {
        let Some(r) = self.node.module.resources.get(key) else {
            return Value::Unknown(Type::Any);
        };
        let insts = self.instances(r);
        let rendered = |t: &TfResource| super::policy::document_object(&t.values);
        if r.count.is_some() {
            if insts.iter().any(|i| i.address.ends_with("[*]")) {
                return Value::Unknown(Type::Any);
            }
            Value::Tuple(insts.iter().map(rendered).collect())
        } else if r.for_each.is_some() {
            if insts.iter().any(|i| i.address.ends_with("[*]")) {
                return Value::Unknown(Type::Any);
            }
            let mut m = BTreeMap::new();
            for i in insts.iter() {
                let k = i
                    .address
                    .rsplit_once("[\"")
                    .and_then(|(_, k)| k.strip_suffix("\"]"))
                    .map(unquote)
                    .unwrap_or_default();
                m.insert(k, rendered(i));
            }
            Value::Object(m)
        } else {
            insts.first().map(rendered).unwrap_or(Value::Null)
        }
    }

    /// The instances of a resource, evaluated once.
    fn instances(&self, r: &Resource) -> Instances {
        let key = r.key();
        {
            let Ok(mut m) = self.resources.lock() else {
                return Arc::new(Vec::new());
            };
            match m.get(&key) {
                Some(Slot::Done(v)) => return v.clone(),
                Some(Slot::Busy) => return Arc::new(Vec::new()),
                None => {
                    m.insert(key.clone(), Slot::Busy);
                }
            }
        }
        let reps = self.expand(r.count.as_ref(), r.for_each.as_ref());
        let s = r.loc.src.span(&r.loc.range);
        let location = Location::new(r.loc.src.path.clone(), s.line as u32);
        let refs = resource_refs(r);
        let prefix = if self.module.is_empty() {
            String::new()
        } else {
            format!("{}.", self.module)
        };
        let mut out = Vec::new();
        for rep in reps {
            let scope = InstScope {
                base: self,
                count: rep.count.clone(),
                each: rep.each.clone(),
            };
            let ev = self.evaluator(&scope);
            let mut errs = Vec::new();
            let values = body_value(&ev, &r.body.body, &r.body.src, &mut Vec::new(), &mut errs);
            self.push_errors(errs);
            out.push(TfResource {
                address: format!("{prefix}{key}{}", rep.suffix),
                module: self.module.clone(),
                mode: if r.mode == Mode::Data {
                    "data"
                } else {
                    "managed"
                },
                type_name: r.type_name.clone(),
                name: r.name.clone(),
                values,
                location: location.clone(),
                refs: refs.clone(),
            });
        }
        let out = Arc::new(out);
        if let Ok(mut m) = self.resources.lock() {
            m.insert(key, Slot::Done(out.clone()));
        }
        out
    }

    /// The instances of a `count`/`for_each` (one, without either).
    fn expand(&self, count: Option<&Expr>, for_each: Option<&Expr>) -> Vec<Rep> {
        let ev = self.evaluator(self);
        if let Some(c) = count {
            return match ev.eval(c).map(|v| v.unmark().0) {
                Ok(Value::Number(n)) if n >= 0.0 => (0..(n as usize).min(MAX_INSTANCES))
                    .map(|i| Rep {
                        suffix: key_suffix(Some(&Key::Int(i as i64))),
                        count: Some(Value::Number(i as f64)),
                        each: None,
                        key: Some(Key::Int(i as i64)),
                    })
                    .collect(),
                Ok(Value::Number(_)) => Vec::new(),
                Ok(_) => vec![Rep::unknown(Some(Value::Unknown(Type::Number)), None)],
                Err(d) => {
                    self.push_errors(vec![d]);
                    vec![Rep::unknown(Some(Value::Unknown(Type::Number)), None)]
                }
            };
        }
        if let Some(fe) = for_each {
            let unknown_each = || {
                vec![Rep::unknown(
                    None,
                    Some((Value::Unknown(Type::String), Value::Unknown(Type::Any))),
                )]
            };
            let v = match ev.eval(fe) {
                Ok(v) => v.unmark_deep().0,
                Err(d) => {
                    self.push_errors(vec![d]);
                    return unknown_each();
                }
            };
            let pairs: Vec<(String, Value)> = match v {
                Value::Map(m) | Value::Object(m) => m.into_iter().collect(),
                Value::Set(xs) | Value::List(xs) | Value::Tuple(xs) => {
                    let mut out = Vec::new();
                    for x in xs {
                        match x.as_str() {
                            Some(s) => out.push((s.to_owned(), x.clone())),
                            None => return unknown_each(),
                        }
                    }
                    out
                }
                Value::Null => Vec::new(),
                _ => return unknown_each(),
            };
            return pairs
                .into_iter()
                .take(MAX_INSTANCES)
                .map(|(k, v)| Rep {
                    suffix: key_suffix(Some(&Key::Str(k.clone()))),
                    count: None,
                    each: Some((Value::String(k.clone()), v)),
                    key: Some(Key::Str(k)),
                })
                .collect();
        }
        vec![Rep {
            suffix: String::new(),
            count: None,
            each: None,
            key: None,
        }]
    }

    /// The instances of module call `name`, evaluated once.
    fn call(&self, name: &str) -> Children<'a> {
        {
            let Ok(mut m) = self.calls.lock() else {
                return Arc::new(Vec::new());
            };
            match m.get(name) {
                Some(Slot::Done(v)) => return v.clone(),
                Some(Slot::Busy) => return Arc::new(Vec::new()),
                None => {
                    m.insert(name.to_owned(), Slot::Busy);
                }
            }
        }
        let mut out = Vec::new();
        if let (Some(call), Some(child), true) = (
            self.node.module.module_calls.get(name),
            self.node.children.get(name),
            self.depth < MAX_DEPTH,
        ) {
            let child: &'a ModuleNode = child;
            let child_dir = self.dir.join(&call.source);
            for rep in self.expand(call.count.as_ref(), call.for_each.as_ref()) {
                let scope = InstScope {
                    base: self,
                    count: rep.count.clone(),
                    each: rep.each.clone(),
                };
                let ev = self.evaluator(&scope);
                let mut vars = BTreeMap::new();
                for (vname, var) in &child.module.variables {
                    let v = match call.inputs.get(vname) {
                        Some(e) => match ev.eval(e) {
                            Ok(v) if v.is_null() && !var.nullable => {
                                default_value(var, &child_dir, self.errors)
                            }
                            Ok(v) if v.is_null() && var.default.is_some() => {
                                default_value(var, &child_dir, self.errors)
                            }
                            Ok(v) => v.convert(&var.ty).unwrap_or(v),
                            Err(d) => {
                                self.push_errors(vec![d]);
                                Value::Unknown(var.ty.clone())
                            }
                        },
                        None => default_value(var, &child_dir, self.errors),
                    };
                    vars.insert(vname.clone(), v);
                }
                let prefix = if self.module.is_empty() {
                    String::new()
                } else {
                    format!("{}.", self.module)
                };
                let module = format!("{prefix}module.{name}{}", rep.suffix);
                let ctx = ModCtx::new(
                    child,
                    child_dir.clone(),
                    self.root_dir,
                    module,
                    vars,
                    self.errors,
                    self.depth + 1,
                );
                out.push((rep.key.clone(), Arc::new(ctx)));
            }
        }
        let out = Arc::new(out);
        if let Ok(mut m) = self.calls.lock() {
            m.insert(name.to_owned(), Slot::Done(out.clone()));
        }
        out
    }

    /// `module.NAME`: an object of its outputs (a tuple or map of them
    /// under count/for_each).
    fn module_value(&self, name: &str) -> Value {
        let Some(call) = self.node.module.module_calls.get(name) else {
            return Value::Unknown(Type::Any);
        };
        let children = self.call(name);
        if children.is_empty() && !self.node.children.contains_key(name) {
            // A registry module: not loaded, so unknown.
            return Value::Unknown(Type::Any);
        }
        let outputs = |c: &ModCtx<'_>| {
            let mut m = BTreeMap::new();
            for (oname, o) in &c.node.module.outputs {
                let v = match c.evaluator(c).eval(&o.value) {
                    Ok(v) => v,
                    Err(d) => {
                        c.push_errors(vec![d]);
                        Value::Unknown(Type::Any)
                    }
                };
                m.insert(oname.clone(), v);
            }
            Value::Object(m)
        };
        if call.count.is_some() {
            if children.iter().any(|(k, _)| k.is_none()) {
                return Value::Unknown(Type::Any);
            }
            Value::Tuple(children.iter().map(|(_, c)| outputs(c)).collect())
        } else if call.for_each.is_some() {
            let mut m = BTreeMap::new();
            for (k, c) in children.iter() {
                match k {
                    Some(Key::Str(s)) => {
                        m.insert(s.clone(), outputs(c));
                    }
                    _ => return Value::Unknown(Type::Any),
                }
            }
            Value::Object(m)
        } else {
            children
                .first()
                .map(|(_, c)| outputs(c))
                .unwrap_or(Value::Unknown(Type::Any))
        }
    }
}

struct Rep {
    suffix: String,
    count: Option<Value>,
    each: Option<(Value, Value)>,
    /// None when the instance key is not known.
    key: Option<Key>,
}

impl Rep {
    fn unknown(count: Option<Value>, each: Option<(Value, Value)>) -> Rep {
        Rep {
            suffix: key_suffix(None),
            count,
            each,
            key: None,
        }
    }
}

fn unquote(s: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap_or_else(|_| s.to_owned())
}

/// A block body without a schema: arguments evaluated, nested blocks as
/// lists of objects under their type, `dynamic` blocks expanded.
fn body_value(
    ev: &Evaluator<'_>,
    body: &Body,
    src: &Arc<Src>,
    names: &mut Vec<(String, Value)>,
    errs: &mut Vec<Diagnostic>,
) -> Value {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let v = eval_expr(ev, &a.value, src, names, errs);
                out.insert(a.key.value().as_str().to_owned(), v);
            }
            Structure::Block(b) => {
                let ident = b.ident.value().as_str();
                if ident == "dynamic" {
                    let Some(label) = b.labels.first() else {
                        continue;
                    };
                    let label = label.as_str().to_owned();
                    match dynamic_items(ev, &b.body, &label, src, names, errs) {
                        Some(items) => blocks.entry(label).or_default().extend(items),
                        None => {
                            // Unknown for_each: the blocks are unknown.
                            out.insert(label, Value::Unknown(Type::Any));
                        }
                    }
                    continue;
                }
                let v = body_value(ev, &b.body, src, names, errs);
                blocks.entry(ident.to_owned()).or_default().push(v);
            }
        }
    }
    for (k, items) in blocks {
        out.entry(k).or_insert(Value::List(items));
    }
    Value::Object(out)
}

fn eval_expr(
    ev: &Evaluator<'_>,
    e: &Expression,
    src: &Arc<Src>,
    names: &[(String, Value)],
    errs: &mut Vec<Diagnostic>,
) -> Value {
    let expr = Expr {
        expr: e.clone(),
        src: src.clone(),
    };
    let r = if names.is_empty() {
        ev.eval(&expr)
    } else {
        ev.eval_with(&expr, names)
    };
    r.unwrap_or_else(|d| {
        errs.push(d);
        Value::Unknown(Type::Any)
    })
}

/// The blocks a `dynamic "label"` block generates; None when its
/// `for_each` is unknown.
fn dynamic_items(
    ev: &Evaluator<'_>,
    body: &Body,
    label: &str,
    src: &Arc<Src>,
    names: &mut Vec<(String, Value)>,
    errs: &mut Vec<Diagnostic>,
) -> Option<Vec<Value>> {
    let mut iterator = label.to_owned();
    let mut for_each = None;
    let mut content = None;
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => match a.key.value().as_str() {
                "for_each" => for_each = Some(&a.value),
                "iterator" => {
                    if let Expression::Variable(v) = &a.value {
                        iterator = v.value().as_str().to_owned();
                    }
                }
                _ => {}
            },
            Structure::Block(c) if c.ident.value().as_str() == "content" => content = Some(c),
            Structure::Block(_) => {}
        }
    }
    let (fe, content) = (for_each?, content?);
    let coll = eval_expr(ev, fe, src, names, errs).unmark_deep().0;
    let items: Vec<(Value, Value)> = match coll {
        Value::Unknown(_) => return None,
        other => other.keyed_items().unwrap_or_default(),
    };
    let mut out = Vec::new();
    for (k, v) in items.into_iter().take(MAX_INSTANCES) {
        let it = Value::Object(BTreeMap::from([
            ("key".to_owned(), k),
            ("value".to_owned(), v),
        ]));
        names.push((iterator.clone(), it));
        out.push(body_value(ev, &content.body, src, names, errs));
        names.pop();
    }
    Some(out)
}
