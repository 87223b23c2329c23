//! The engine: configuration tree → graph → plan → apply, over an
//! in-memory [`World`] (resource instances and outputs) that `state`
//! converts to and from Terraform's state v4.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_config::{Diagnostic, Diagnostics, SourceFile};

use crate::provider::Registry;
use crate::syntax::Mode;
use crate::value::{PathStep, Value};

pub mod addr;
pub mod config;
pub mod drift;
pub mod graph;
pub mod planfile;
pub mod render;
pub mod stack;
pub mod validate;
pub mod vars;
mod walk;

pub use addr::{
    InstanceAddr, Key, ModulePath, ModuleStep, ResourceAddr, Target, parse_instance, parse_target,
};
pub use config::{ModuleNode, load_tree};
pub use walk::{NoSink, Op, Progress, ProgressEvent, StateSink, apply, import, no_progress, plan};

/// One resource instance as the engine keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceObj {
    /// The attributes, with sensitive values marked.
    pub value: Value,
    /// The provider address as state writes it:
    /// `provider["registry.terraform.io/hashicorp/random"]`.
    pub provider: String,
    pub schema_version: u64,
    /// Addresses of the resources this one depended on when applied.
    pub dependencies: Vec<String>,
    pub create_before_destroy: bool,
    pub tainted: bool,
}

/// How a resource's instances are keyed (for state's `each`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EachMode {
    Single,
    List,
    Map,
}

/// Everything state records: instances, root outputs, and the identity of
/// the state they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct World {
    pub instances: BTreeMap<InstanceAddr, InstanceObj>,
    /// Root module outputs: value (marked when sensitive) and whether the
    /// output was declared sensitive.
    pub outputs: BTreeMap<String, (Value, bool)>,
    /// Deposed objects: old objects of a `create_before_destroy`
    /// replacement whose destroy failed or was interrupted, by instance
    /// address and deposed key (8 hex digits). They are destroyed by the
    /// next apply.
    pub deposed: BTreeMap<(InstanceAddr, String), InstanceObj>,
    pub lineage: String,
    pub serial: u64,
}

impl World {
    pub fn each_mode(&self, r: &ResourceAddr) -> EachMode {
        let mut mode = EachMode::Single;
        for a in self.instances.keys().filter(|a| &a.resource == r) {
            mode = match a.key {
                Key::None => EachMode::Single,
                Key::Int(_) => EachMode::List,
                Key::Str(_) => EachMode::Map,
            };
        }
        mode
    }

    /// Moves the current object of `addr` aside as a deposed object and
    /// returns its new deposed key (None when there is no current object).
    pub fn depose(&mut self, addr: &InstanceAddr) -> Option<String> {
        let obj = self.instances.remove(addr)?;
        let key = loop {
            let k = new_deposed_key();
            if !self.deposed.contains_key(&(addr.clone(), k.clone())) {
                break k;
            }
        };
        self.deposed.insert((addr.clone(), key.clone()), obj);
        Some(key)
    }

    /// True when `addr` has a current or a deposed object.
    pub fn has_any(&self, addr: &InstanceAddr) -> bool {
        self.instances.contains_key(addr) || self.deposed.keys().any(|(a, _)| a == addr)
    }
}

/// A fresh deposed key: 8 lowercase hex digits, as Terraform makes them.
pub fn new_deposed_key() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// What an instance's planned change does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    /// A data source read deferred to apply (config not known at plan).
    Read,
    Update,
    /// Replace: delete first, then create (`-/+`).
    DeleteThenCreate,
    /// Replace with `create_before_destroy` (`+/-`).
    CreateThenDelete,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    /// Terraform's JSON `actions` list.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

/// One instance's planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub addr: InstanceAddr,
    pub action: Action,
    /// The (refreshed) prior state; None for creates.
    pub before: Option<Value>,
    /// The planned state (may hold unknowns); None for deletes.
    pub after: Option<Value>,
    /// Attribute paths that force replacement.
    pub replace_paths: Vec<Vec<PathStep>>,
    /// Why, when Terraform would say (`because var.x changed`...).
    pub reason: Option<String>,
    pub provider: String,
    /// The id this instance is imported with (an `import` block).
    pub importing: Option<String>,
    /// The address it moved from (a `moved` block).
    pub moved_from: Option<InstanceAddr>,
    /// Set when this change destroys a deposed object (the key), not the
    /// instance's current object.
    pub deposed: Option<String>,
}

impl Change {
    /// A change with no replacement paths, reason, import or move.
    pub fn new(
        addr: InstanceAddr,
        action: Action,
        before: Option<Value>,
        after: Option<Value>,
        provider: String,
    ) -> Change {
        Change {
            addr,
            action,
            before,
            after,
            replace_paths: Vec::new(),
            reason: None,
            provider,
            importing: None,
            moved_from: None,
            deposed: None,
        }
    }
}

/// An output's planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// What kind of plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    RefreshOnly,
}

/// Everything that shapes a plan.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: PlanMode,
    pub refresh: bool,
    pub targets: Vec<Target>,
    pub replace: Vec<InstanceAddr>,
    pub parallelism: usize,
    pub workspace: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: PlanMode::Normal,
            refresh: true,
            targets: Vec::new(),
            replace: Vec::new(),
            parallelism: 10,
            workspace: "default".into(),
        }
    }
}

/// A plan: the changes, the refreshed prior world and what produced it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: PlanMode,
    /// Every instance of the configuration and of the prior state, NoOps
    /// included, sorted by address.
    pub changes: Vec<Change>,
    /// Instances whose refreshed state differs from the stored one.
    pub drift: Vec<Change>,
    pub outputs: BTreeMap<String, OutputChange>,
    /// The prior world after refresh (what a refresh-only apply writes).
    pub prior: World,
    /// Root variable values used (for plan files).
    pub variables: BTreeMap<String, Value>,
    pub targets: Vec<Target>,
    pub replace: Vec<InstanceAddr>,
    pub warnings: Vec<Diagnostic>,
}

impl Plan {
    /// `(add, change, destroy)` as in "Plan: N to add, N to change, N to
    /// destroy."
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for ch in &self.changes {
            match ch.action {
                Action::Create => c.0 += 1,
                Action::Update => c.1 += 1,
                Action::Delete => c.2 += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    c.0 += 1;
                    c.2 += 1;
                }
                Action::NoOp | Action::Read => {}
            }
        }
        c
    }

    /// True when applying would change resources or outputs.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| {
            (!matches!(c.action, Action::NoOp) && c.addr.resource.mode == Mode::Managed)
                || c.importing.is_some()
                || c.moved_from.is_some()
        }) || self.outputs.values().any(|o| !output_equal(o))
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }
}

fn output_equal(o: &OutputChange) -> bool {
    match (&o.before, &o.after) {
        (Some(a), Some(b)) => a.is_wholly_known() && b.is_wholly_known() && a.equals(b),
        (None, None) => true,
        _ => false,
    }
}

/// A failed operation: diagnostics with the sources they point into.
#[derive(Debug, Clone)]
pub struct Failure {
    pub diagnostics: Diagnostics,
}

impl Failure {
    pub fn render(&self) -> String {
        self.diagnostics.render_all()
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl From<Diagnostics> for Failure {
    fn from(diagnostics: Diagnostics) -> Self {
        Failure { diagnostics }
    }
}

/// A loaded configuration: the tree, its graph and the providers.
pub struct Config {
    pub dir: PathBuf,
    pub tree: ModuleNode,
    pub graph: graph::Graph,
    pub registry: Registry,
}

impl Config {
    /// Loads and checks the configuration in `dir`.
    pub fn load(dir: &Path, registry: Registry) -> Result<Config, Failure> {
        let tree = load_tree(dir)?;
        let graph = match graph::build(&tree) {
            Ok(g) => g,
            Err(diags) => return Err(failure(&tree, diags)),
        };
        if let Err(d) = graph.order() {
            return Err(failure(&tree, vec![d]));
        }
        let cfg = Config {
            dir: dir.to_path_buf(),
            tree,
            graph,
            registry,
        };
        let errors = cfg.check_providers();
        if !errors.is_empty() {
            return Err(failure(&cfg.tree, errors));
        }
        Ok(cfg)
    }

    /// Every resource's provider must exist.
    fn check_providers(&self) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        let names: Vec<&str> = self.registry.names().collect();
        for node in self.tree.walk() {
            for r in node.module.resources.values() {
                let id = graph::NodeId {
                    module: node.path.clone(),
                    kind: graph::Kind::Resource(r.key()),
                };
                let Some(pc) = self.graph.resource_providers.get(&id) else {
                    continue;
                };
                let Some(f) = self.registry.get(&pc.provider.name) else {
                    errors.push(r.loc.error(format!(
                        "{}: provider {:?} is not available; Gantry has these providers built in: {}",
                        r.key(),
                        pc.provider.name,
                        names.join(", ")
                    )));
                    continue;
                };
                let schema = f.schema();
                let known = match r.mode {
                    Mode::Managed => schema.resources.contains_key(&r.type_name),
                    Mode::Data => schema.data_sources.contains_key(&r.type_name),
                };
                if !known {
                    let list: Vec<&str> = match r.mode {
                        Mode::Managed => schema.resources.keys().map(String::as_str).collect(),
                        Mode::Data => schema.data_sources.keys().map(String::as_str).collect(),
                    };
                    let mut msg = format!(
                        "invalid {} type: the provider {} does not support {} {:?}",
                        if r.mode == Mode::Managed {
                            "resource"
                        } else {
                            "data source"
                        },
                        f.source(),
                        if r.mode == Mode::Managed {
                            "resource type"
                        } else {
                            "data source"
                        },
                        r.type_name
                    );
                    if let Some(s) = gantry_config::suggest::did_you_mean(&r.type_name, &list) {
                        msg.push_str(&format!("; did you mean {s:?}?"));
                    }
                    errors.push(r.loc.error(msg));
                }
            }
        }
        errors
    }

    /// Diagnostics with the sources of every file in the tree.
    pub fn failure(&self, diags: Vec<Diagnostic>) -> Failure {
        failure(&self.tree, diags)
    }
}

pub(crate) fn failure(tree: &ModuleNode, diags: Vec<Diagnostic>) -> Failure {
    let mut out = Diagnostics::new();
    for node in tree.walk() {
        for f in &node.module.files {
            out.add_source(SourceFile {
                path: PathBuf::from(&f.path),
                text: f.text.clone(),
            });
        }
    }
    // Values files (`terraform.tfvars`, `-var-file`) are not part of the
    // tree; show their lines too.
    let mut extra: Vec<String> = Vec::new();
    for d in &diags {
        if (d.file.ends_with(".tfvars") || d.file.ends_with(".tfvars.json"))
            && d.span.is_some()
            && !extra.contains(&d.file)
            && let Ok(text) = std::fs::read_to_string(&d.file)
        {
            out.add_source(SourceFile {
                path: PathBuf::from(&d.file),
                text,
            });
            extra.push(d.file.clone());
        }
    }
    for d in diags {
        out.push(d);
    }
    Failure { diagnostics: out }
}
