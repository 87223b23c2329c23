//! `validate`: checks every expression and block body of the tree
//! without variable values or state, as `terraform validate` does. Every
//! reference evaluates to an unknown value, so what is left to fail is
//! what is wrong whatever the inputs: unsupported or missing arguments,
//! type errors in constants, unknown functions, wrong argument counts.

use std::path::Path;

use gantry_config::Diagnostic;

use super::Config;
use super::graph::{Kind, NodeId};
use crate::eval::{Evaluator, Root, Scope};
use crate::funcs::Phase;
use crate::syntax::{Expr, Mode};
use crate::value::{Type, Value};

struct Unknowns<'a> {
    dir: &'a Path,
}

impl Scope for Unknowns<'_> {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        Ok(match root {
            Root::Path(_) => Value::String(self.dir.display().to_string()),
            Root::Workspace => Value::String("default".into()),
            _ => Value::Unknown(Type::Any),
        })
    }
}

/// Every problem found; empty when the configuration is valid.
pub fn validate(cfg: &Config) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for node in cfg.tree.walk() {
        let dir = if node.module.dir.as_os_str().is_empty() {
            cfg.dir.as_path()
        } else {
            node.module.dir.as_path()
        };
        let scope = Unknowns { dir };
        let ev = Evaluator {
            scope: &scope,
            phase: Phase::Plan,
            base_dir: dir,
        };
        let mut exprs: Vec<&Expr> = Vec::new();
        exprs.extend(node.module.locals.values().map(|l| &l.expr));
        exprs.extend(node.module.outputs.values().map(|o| &o.value));
        for c in node.module.module_calls.values() {
            exprs.extend(c.inputs.values().chain(&c.count).chain(&c.for_each));
        }
        for r in node.module.resources.values() {
            exprs.extend(r.count.iter().chain(&r.for_each));
        }
        for e in exprs {
            if let Err(d) = ev.eval(e) {
                errors.push(d);
            }
        }
        for r in node.module.resources.values() {
            let id = NodeId {
                module: node.path.clone(),
                kind: Kind::Resource(r.key()),
            };
            let Some(pc) = cfg.graph.resource_providers.get(&id) else {
                continue;
            };
            let Some(f) = cfg.registry.get(&pc.provider.name) else {
                continue;
            };
            let schema = match r.mode {
                Mode::Managed => f.schema().resources.get(&r.type_name),
                Mode::Data => f.schema().data_sources.get(&r.type_name),
            };
            if let Some(schema) = schema
                && let Err(ds) = ev.eval_body(&r.body, schema)
            {
                errors.extend(ds.into_iter().map(|d| at_block(d, &r.loc)));
            }
        }
        for p in &node.module.providers {
            if let Some(f) = cfg.registry.get(&p.name)
                && let Err(ds) = ev.eval_body(&p.body, &f.schema().provider)
            {
                errors.extend(ds);
            }
        }
    }
    errors
}

/// A body diagnostic without a position points at its block.
pub(crate) fn at_block(d: Diagnostic, loc: &crate::syntax::Loc) -> Diagnostic {
    if d.span.is_none() && d.file == loc.src.path {
        d.with_span(loc.src.span(&loc.range))
    } else {
        d
    }
}
