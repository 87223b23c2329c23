//! The configuration tree: the root module and the modules it calls
//! (local sources only), loaded recursively.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_config::Diagnostics;

use crate::syntax::{Module, load_module_as};

/// One module in the tree, at a static path of call names (`["net",
/// "subnets"]` for `module.net.module.subnets`).
#[derive(Debug)]
pub struct ModuleNode {
    pub path: Vec<String>,
    pub module: Module,
    pub children: BTreeMap<String, Arc<ModuleNode>>,
}

impl ModuleNode {
    /// The node at `path` below this one.
    pub fn find(&self, path: &[String]) -> Option<&ModuleNode> {
        match path.split_first() {
            None => Some(self),
            Some((first, rest)) => self.children.get(first)?.find(rest),
        }
    }

    /// This node and every node below it, parents first.
    pub fn walk(&self) -> Vec<&ModuleNode> {
        let mut out = vec![self];
        for c in self.children.values() {
            out.extend(c.walk());
        }
        out
    }
}

/// Loads `dir` and every module it calls.
pub fn load_tree(dir: &Path) -> Result<ModuleNode, Diagnostics> {
    let mut stack = Vec::new();
    load_node(dir, "", Vec::new(), &mut stack)
}

/// `prefix` + `source`, without `.` steps and with `x/..` folded:
/// `modules/` + `./net` → `modules/net/`.
pub fn join_display(prefix: &str, source: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in prefix.split('/').chain(source.split('/')) {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{}/", parts.join("/"))
    }
}

fn load_node(
    dir: &Path,
    prefix: &str,
    path: Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<ModuleNode, Diagnostics> {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let module = load_module_as(dir, prefix)?;
    stack.push(canonical);
    let mut children = BTreeMap::new();
    let mut diags = Diagnostics::new();
    for (name, call) in &module.module_calls {
        let source = call.source.as_str();
        if !(source.starts_with("./") || source.starts_with("../")) {
            diags.push(call.loc.error(format!(
                "module source {source:?} is not supported: Gantry loads modules from local paths starting with \"./\" or \"../\""
            )));
            continue;
        }
        let child_dir = dir.join(source);
        if !child_dir.is_dir() {
            diags.push(call.loc.error(format!(
                "unreadable module directory: the directory {} does not exist",
                child_dir.display()
            )));
            continue;
        }
        let child_canonical = child_dir
            .canonicalize()
            .unwrap_or_else(|_| child_dir.clone());
        if stack.contains(&child_canonical) {
            diags.push(call.loc.error(format!(
                "module {name:?} calls {source:?}, which is one of its own callers: module calls must not be recursive"
            )));
            continue;
        }
        let mut child_path = path.clone();
        child_path.push(name.clone());
        match load_node(&child_dir, &join_display(prefix, source), child_path, stack) {
            Ok(node) => {
                children.insert(name.clone(), Arc::new(node));
            }
            Err(d) => merge(&mut diags, d),
        }
    }
    stack.pop();
    if diags.has_errors() {
        for src in &module.files {
            diags.add_source(gantry_config::SourceFile {
                path: PathBuf::from(&src.path),
                text: src.text.clone(),
            });
        }
        return Err(diags);
    }
    Ok(ModuleNode {
        path,
        module,
        children,
    })
}

/// Appends `from`'s diagnostics and sources to `into`.
pub fn merge(into: &mut Diagnostics, from: Diagnostics) {
    for d in from.iter() {
        if let Some(text) = from.source(&d.file) {
            into.add_source(gantry_config::SourceFile {
                path: PathBuf::from(&d.file),
                text: text.to_owned(),
            });
        }
    }
    for d in from.iter() {
        into.push(d.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::join_display;

    #[test]
    fn display_paths_of_called_modules() {
        assert_eq!(join_display("", "./modules/net"), "modules/net/");
        assert_eq!(join_display("modules/net/", "../sub"), "modules/sub/");
        assert_eq!(join_display("", "../shared"), "../shared/");
        assert_eq!(join_display("a/", "./"), "a/");
    }
}
