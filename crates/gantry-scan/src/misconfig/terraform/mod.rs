//! Terraform: a configuration evaluated statically through gantry-iac's
//! loader and evaluator (variables with defaults and tfvars, locals, local
//! modules, count and for_each), or the planned values of a real plan,
//! become a list of [`TfResource`]s that the AWS checks read.
//!
//! Static evaluation knows no provider: every managed resource's
//! attributes are unknown when referenced (they are computed by the
//! provider), data sources too, except `aws_iam_policy_document`, which
//! Terraform also renders locally and whose `json` this module renders.

mod checks;
mod eval;
mod policy;

use gantry_iac::engine::config::join_display;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_iac::engine::{Key, ModuleNode, Plan};
use gantry_iac::eval::{Root, references};
use gantry_iac::syntax::{Mode, Module, load_sources};
use gantry_iac::value::Value;
use hcl_edit::structure::Structure;

use crate::finding::{FileError, Finding, Location};

pub use checks::check_resources;

/// One evaluated resource instance (or provider configuration) as the
/// checks see it.
#[derive(Debug, Clone)]
pub struct TfResource {
    /// `module.net["a"].aws_s3_bucket.logs[0]`; a provider is
    /// `provider["aws"]` or `provider["aws.west"]`.
    pub address: String,
    /// The module instance the resource is in (`module.net["a"]`), empty
    /// for the root: resources that refer to each other do it within one.
    pub module: String,
    /// `managed`, `data` or `provider`.
    pub mode: &'static str,
    pub type_name: String,
    pub name: String,
    /// The attributes: an object; nested blocks are lists of objects (a
    /// planned value may hold a single nested block as an object). Values
    /// not determined before apply are `Value::Unknown`.
    pub values: Value,
    /// Where the block starts.
    pub location: Location,
    /// For each top-level argument, the resources its expression refers to
    /// (`aws_s3_bucket.logs`, `data.x.y`), within the same module.
    pub refs: BTreeMap<String, Vec<String>>,
}

impl TfResource {
    /// `TYPE.NAME` (`data.TYPE.NAME`), as references name it.
    fn config_key(&self) -> String {
        if self.mode == "data" {
            format!("data.{}.{}", self.type_name, self.name)
        } else {
            format!("{}.{}", self.type_name, self.name)
        }
    }

    /// The resources argument `arg` refers to, with those of `for_each`.
    fn arg_refs(&self, arg: &str) -> impl Iterator<Item = &String> {
        self.refs
            .get(arg)
            .into_iter()
            .chain(self.refs.get("for_each"))
            .flatten()
    }

    /// Whether argument `arg` refers to `other` (by expression) or holds
    /// one of `other`'s known identifying values.
    fn points_to(&self, arg: &str, other: &TfResource, other_ids: &[&str]) -> bool {
        if self.module != other.module {
            return false;
        }
        if self.arg_refs(arg).any(|r| *r == other.config_key()) {
            return true;
        }
        match self.values.get_attr(arg).as_ref().and_then(|v| v.as_str()) {
            Some(v) => other_ids.iter().any(|field| {
                other
                    .values
                    .get_attr(field)
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|o| o == v)
            }),
            None => false,
        }
    }
}

/// Scans the module in `root/dir_rel` (every `.tf` file of the directory)
/// and the local modules it calls, evaluated with the variables' defaults
/// and `terraform.tfvars` / `*.auto.tfvars`. A file that cannot be read or
/// parsed is a [`FileError`] and the rest is still scanned; so is an
/// expression that fails to evaluate (its value is then unknown).
pub fn scan_terraform(root: &Path, dir_rel: &str) -> (Vec<Finding>, Vec<FileError>) {
    let mut errors = Vec::new();
    let dir_rel = dir_rel.trim_matches('/');
    let dir = if dir_rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(dir_rel)
    };
    let prefix = if dir_rel.is_empty() {
        String::new()
    } else {
        format!("{dir_rel}/")
    };
    let mut stack = Vec::new();
    let Some(tree) = load_node(&dir, &prefix, Vec::new(), &mut stack, &mut errors) else {
        return (Vec::new(), errors);
    };
    let (resources, eval_errors) = eval::evaluate(&tree, &dir);
    errors.extend(eval_errors);
    errors.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    errors.dedup();
    (check_resources(&resources), errors)
}

/// Of the directories holding `.tf` files (relative to `root`, `/`
/// separators), those that no other listed directory calls as a local
/// module: each is scanned with [`scan_terraform`], which evaluates the
/// modules it calls with their inputs (scanning a called module on its own
/// too would report its resources twice, once with unknown inputs).
pub fn terraform_roots(root: &Path, dirs: &[String]) -> Vec<String> {
    let norm = |d: &str| join_display("", d);
    let mut called: Vec<String> = Vec::new();
    for d in dirs {
        let dir = root.join(d);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".tf") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok((_, body)) = gantry_iac::syntax::parse_file(&name, &text) else {
                continue;
            };
            for s in body.iter() {
                let Structure::Block(b) = s else { continue };
                if b.ident.value().as_str() != "module" {
                    continue;
                }
                let source = b.body.get_attribute("source").and_then(|a| match &a.value {
                    hcl_edit::expr::Expression::String(s) => Some(s.value().to_string()),
                    _ => None,
                });
                if let Some(src) = source
                    && (src.starts_with("./") || src.starts_with("../"))
                {
                    called.push(join_display(&norm(d), &src));
                }
            }
        }
    }
    dirs.iter()
        .filter(|d| !called.contains(&norm(d)))
        .cloned()
        .collect()
}

/// Loads the module in `dir` (files shown as `prefix` + name) and its local
/// module calls, skipping files that fail to parse.
fn load_node(
    dir: &Path,
    prefix: &str,
    path: Vec<String>,
    stack: &mut Vec<PathBuf>,
    errors: &mut Vec<FileError>,
) -> Option<ModuleNode> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n.ends_with(".tf") && !n.starts_with('.'))
            .collect(),
        Err(e) => {
            errors.push(FileError {
                path: prefix.trim_end_matches('/').to_owned(),
                message: format!("cannot read the module directory: {e}"),
            });
            return None;
        }
    };
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let shown = format!("{prefix}{name}");
        match std::fs::read(dir.join(&name)) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push((shown, text)),
                Err(_) => errors.push(FileError {
                    path: shown,
                    message: "the file is not valid UTF-8".into(),
                }),
            },
            Err(e) => errors.push(FileError {
                path: shown,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    if files.is_empty() {
        return None;
    }
    let module = load_tolerant(dir, files, errors)?;
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    stack.push(canonical);
    let mut children = BTreeMap::new();
    for (name, call) in &module.module_calls {
        let source = call.source.as_str();
        if !(source.starts_with("./") || source.starts_with("../")) {
            // Registry and remote modules cannot be fetched offline.
            continue;
        }
        let child_dir = dir.join(source);
        let child_canonical = child_dir
            .canonicalize()
            .unwrap_or_else(|_| child_dir.clone());
        if stack.contains(&child_canonical) {
            let s = call.loc.src.span(&call.loc.range);
            errors.push(crate::misconfig::file_error(
                &call.loc.src.path,
                s.line,
                s.col,
                format!("module {name:?} calls {source:?}, one of its own callers"),
            ));
            continue;
        }
        if !child_dir.is_dir() {
            let s = call.loc.src.span(&call.loc.range);
            errors.push(crate::misconfig::file_error(
                &call.loc.src.path,
                s.line,
                s.col,
                format!("module {name:?}: the directory {source:?} does not exist"),
            ));
            continue;
        }
        let mut child_path = path.clone();
        child_path.push(name.clone());
        if let Some(node) = load_node(
            &child_dir,
            &join_display(prefix, source),
            child_path,
            stack,
            errors,
        ) {
            children.insert(name.clone(), Arc::new(node));
        }
    }
    stack.pop();
    Some(ModuleNode {
        path,
        module,
        children,
    })
}

/// `load_sources`, retried without the files that had errors.
fn load_tolerant(
    dir: &Path,
    files: Vec<(String, String)>,
    errors: &mut Vec<FileError>,
) -> Option<Module> {
    let mut files = files;
    for _ in 0..3 {
        match load_sources(dir, files.clone()) {
            Ok(m) => return Some(m),
            Err(diags) => {
                let mut bad: Vec<String> = Vec::new();
                for d in diags.iter().filter(|d| d.is_error()) {
                    errors.push(diag_error(d));
                    bad.push(d.file.clone());
                }
                let before = files.len();
                files.retain(|(n, _)| !bad.contains(n));
                if files.is_empty() || files.len() == before {
                    return None;
                }
            }
        }
    }
    None
}

fn diag_error(d: &gantry_config::Diagnostic) -> FileError {
    match d.span {
        Some(s) => crate::misconfig::file_error(&d.file, s.line, s.col, &d.message),
        None => FileError {
            path: d.file.clone(),
            message: d.message.clone(),
        },
    }
}

/// For each top-level argument of a resource, the resources it refers to;
/// the references of `for_each`/`count` are under `for_each` (an argument
/// set from `each.value` refers to what the for_each iterates).
fn resource_refs(r: &gantry_iac::syntax::Resource) -> BTreeMap<String, Vec<String>> {
    let mut out = body_refs(&r.body.body);
    for e in r.for_each.iter().chain(&r.count) {
        let keys = expr_refs(&e.expr);
        if !keys.is_empty() {
            out.insert("for_each".to_owned(), keys);
        }
    }
    out
}

fn body_refs(body: &hcl_edit::structure::Body) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in body.iter() {
        if let Structure::Attribute(a) = s {
            let keys = expr_refs(&a.value);
            if !keys.is_empty() {
                out.insert(a.key.value().as_str().to_owned(), keys);
            }
        }
    }
    out
}

/// The resources an expression refers to (`TYPE.NAME`, `data.TYPE.NAME`).
fn expr_refs(e: &hcl_edit::expr::Expression) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for r in references(e) {
        if let Root::Resource {
            mode,
            type_name,
            name,
        } = r.root
        {
            let k = match mode {
                Mode::Managed => format!("{type_name}.{name}"),
                Mode::Data => format!("data.{type_name}.{name}"),
            };
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// Runs the checks on the planned values of a plan (the apply gate).
/// `tree` is the configuration the plan was made from (for each
/// resource's file:line and references) and `dir_rel` its directory
/// relative to the scan root (`""` when it is the root). Deleted
/// instances are not checked; planned values that are unknown until apply
/// make their checks undecided.
pub fn check_planned(plan: &Plan, tree: &ModuleNode, dir_rel: &str) -> Vec<Finding> {
    let dir_rel = dir_rel.trim_matches('/');
    let mut resources = Vec::new();
    for ch in &plan.changes {
        let Some(after) = &ch.after else { continue };
        let r = &ch.addr.resource;
        let static_path: Vec<String> = r.module.iter().map(|m| m.name.clone()).collect();
        let node = tree.find(&static_path);
        let config = node.and_then(|n| n.module.resources.get(&r.local()));
        let location = match config {
            Some(c) => {
                let s = c.loc.src.span(&c.loc.range);
                let path = if dir_rel.is_empty() {
                    c.loc.src.path.clone()
                } else {
                    format!("{dir_rel}/{}", c.loc.src.path)
                };
                Location::new(path, s.line as u32)
            }
            None => Location::new(dir_rel, 0),
        };
        let module = gantry_iac::engine::addr::module_path_string(&r.module);
        resources.push(TfResource {
            address: ch.addr.to_string(),
            module,
            mode: if r.mode == Mode::Data {
                "data"
            } else {
                "managed"
            },
            type_name: r.type_name.clone(),
            name: r.name.clone(),
            values: after.clone(),
            location,
            refs: config.map(resource_refs).unwrap_or_default(),
        });
    }
    check_resources(&resources)
}

/// `[0]`, `["a"]`, or `[*]` when the key is not known before apply.
fn key_suffix(key: Option<&Key>) -> String {
    match key {
        Some(k) => k.to_string(),
        None => "[*]".to_owned(),
    }
}
