//! The dependency graph of a configuration tree: one node per variable,
//! local, output, resource, module call and provider configuration at
//! each static module path; references, `depends_on` and provider use
//! become edges. A cycle is an error that lists its members with their
//! locations.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use gantry_config::Diagnostic;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use super::config::ModuleNode;
use crate::eval::{Reference, Root, body_references, references};
use crate::provider::implied_provider;
use crate::syntax::{Expr, Loc, Mode, ProviderRef, Resource};

/// What a node stands for, within its static module path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Var(String),
    Local(String),
    Output(String),
    /// `TYPE.NAME` or `data.TYPE.NAME`.
    Resource(String),
    /// Expands `module "NAME"` into its instances.
    Call(String),
    Provider(ProviderRef),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub module: Vec<String>,
    pub kind: Kind,
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.module {
            write!(f, "module.{m}.")?;
        }
        match &self.kind {
            Kind::Var(n) => write!(f, "var.{n}"),
            Kind::Local(n) => write!(f, "local.{n}"),
            Kind::Output(n) => write!(f, "output.{n}"),
            Kind::Resource(k) => f.write_str(k),
            Kind::Call(n) => write!(f, "module.{n}"),
            Kind::Provider(p) => write!(f, "provider[{:?}]", p.to_string()),
        }
    }
}

/// Where the provider configuration a resource uses is declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderConfigAddr {
    /// The static module path of the `provider` block (root when implied
    /// with no block anywhere).
    pub module: Vec<String>,
    pub provider: ProviderRef,
    /// False when no `provider` block exists: an empty configuration.
    pub declared: bool,
}

pub struct Graph {
    pub graph: DiGraph<NodeId, ()>,
    pub index: HashMap<NodeId, NodeIndex>,
    pub locs: HashMap<NodeId, Loc>,
    /// Each resource node's provider configuration.
    pub resource_providers: HashMap<NodeId, ProviderConfigAddr>,
}

impl Graph {
    /// Nodes in an order where every node comes after what it depends on.
    pub fn order(&self) -> Result<Vec<NodeId>, Diagnostic> {
        match toposort(&self.graph, None) {
            // Edges point from a node to what it depends on.
            Ok(mut order) => {
                order.reverse();
                Ok(order.into_iter().map(|i| self.graph[i].clone()).collect())
            }
            Err(_) => Err(self.cycle_error()),
        }
    }

    fn cycle_error(&self) -> Diagnostic {
        let scc = tarjan_scc(&self.graph)
            .into_iter()
            .find(|c| c.len() > 1 || self.graph.contains_edge(c[0], c[0]))
            .unwrap_or_default();
        let mut members: Vec<&NodeId> = scc.iter().map(|i| &self.graph[*i]).collect();
        members.sort();
        let list: Vec<String> = members
            .iter()
            .map(|n| match self.locs.get(n) {
                Some(loc) => format!("{n} ({})", loc.position()),
                None => n.to_string(),
            })
            .collect();
        let message = format!("cycle: {}", list.join(", "));
        match members.first().and_then(|n| self.locs.get(*n)) {
            Some(loc) => loc.error(message),
            None => Diagnostic::error("", message),
        }
    }

    /// The direct dependencies of a node.
    pub fn deps(&self, id: &NodeId) -> Vec<NodeId> {
        match self.index.get(id) {
            Some(&i) => self
                .graph
                .neighbors(i)
                .map(|j| self.graph[j].clone())
                .collect(),
            None => Vec::new(),
        }
    }

    /// The graph in DOT, as `terraform graph` prints it.
    pub fn dot(&self) -> String {
        let mut out = String::from(
            "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n",
        );
        let mut nodes: Vec<&NodeId> = self.index.keys().collect();
        nodes.sort();
        for n in &nodes {
            out.push_str(&format!(
                "\t\t\"[root] {n}\" [label = \"{n}\", shape = \"box\"]\n"
            ));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].to_string(), self.graph[b].to_string()))
            .collect();
        edges.sort();
        for (a, b) in edges {
            out.push_str(&format!("\t\t\"[root] {a}\" -> \"[root] {b}\"\n"));
        }
        out.push_str("\t}\n}\n");
        out
    }
}

/// Builds the graph of a tree. Errors: references to things that are not
/// declared (with did-you-mean), unknown providers.
pub fn build(root: &ModuleNode) -> Result<Graph, Vec<Diagnostic>> {
    let mut b = Builder {
        graph: DiGraph::new(),
        index: HashMap::new(),
        locs: HashMap::new(),
        resource_providers: HashMap::new(),
        errors: Vec::new(),
    };
    let nodes = root.walk();
    for node in &nodes {
        b.declare(node);
    }
    for node in &nodes {
        b.connect(root, node);
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    Ok(Graph {
        graph: b.graph,
        index: b.index,
        locs: b.locs,
        resource_providers: b.resource_providers,
    })
}

struct Builder {
    graph: DiGraph<NodeId, ()>,
    index: HashMap<NodeId, NodeIndex>,
    locs: HashMap<NodeId, Loc>,
    resource_providers: HashMap<NodeId, ProviderConfigAddr>,
    errors: Vec<Diagnostic>,
}

impl Builder {
    fn add(&mut self, module: &[String], kind: Kind, loc: Option<&Loc>) -> NodeIndex {
        let id = NodeId {
            module: module.to_vec(),
            kind,
        };
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.graph.add_node(id.clone());
        if let Some(loc) = loc {
            self.locs.insert(id.clone(), loc.clone());
        }
        self.index.insert(id, i);
        i
    }

    fn declare(&mut self, node: &ModuleNode) {
        let m = &node.module;
        let p = &node.path;
        for (n, v) in &m.variables {
            self.add(p, Kind::Var(n.clone()), Some(&v.loc));
        }
        for (n, l) in &m.locals {
            self.add(p, Kind::Local(n.clone()), Some(&l.loc));
        }
        for (n, o) in &m.outputs {
            self.add(p, Kind::Output(n.clone()), Some(&o.loc));
        }
        for (k, r) in &m.resources {
            self.add(p, Kind::Resource(k.clone()), Some(&r.loc));
        }
        for (n, c) in &m.module_calls {
            self.add(p, Kind::Call(n.clone()), Some(&c.loc));
        }
        for pb in &m.providers {
            let r = ProviderRef {
                name: pb.name.clone(),
                alias: pb.alias.clone(),
            };
            self.add(p, Kind::Provider(r), Some(&pb.loc));
        }
    }

    fn edge(&mut self, from: &NodeId, to: NodeId) {
        if let (Some(&a), Some(&b)) = (self.index.get(from), self.index.get(&to))
            && !self.graph.contains_edge(a, b)
        {
            self.graph.add_edge(a, b, ());
        }
    }

    fn connect(&mut self, root: &ModuleNode, node: &ModuleNode) {
        let m = &node.module;
        let p = &node.path;
        let id = |kind: Kind| NodeId {
            module: p.clone(),
            kind,
        };
        // Everything in a called module waits for the call's expansion.
        if let Some((name, parent)) = p.split_last() {
            let call = NodeId {
                module: parent.to_vec(),
                kind: Kind::Call(name.clone()),
            };
            let all: Vec<NodeId> = self
                .index
                .keys()
                .filter(|n| &n.module == p)
                .cloned()
                .collect();
            for n in all {
                self.edge(&n, call.clone());
            }
            // A child variable depends on its input expression's references
            // in the parent.
            if let Some(parent_node) = root.find(parent)
                && let Some(c) = parent_node.module.module_calls.get(name)
            {
                for (var, expr) in &c.inputs {
                    let refs = references(&expr.expr);
                    let from = id(Kind::Var(var.clone()));
                    self.refs_to_edges(parent_node, &from, &refs, &expr.src.path);
                }
            }
        }
        for (n, l) in &m.locals {
            let refs = references(&l.expr.expr);
            self.refs_to_edges(node, &id(Kind::Local(n.clone())), &refs, &l.expr.src.path);
        }
        for (n, v) in &m.variables {
            let from = id(Kind::Var(n.clone()));
            for val in &v.validations {
                let refs: Vec<Reference> = references(&val.condition.expr)
                    .into_iter()
                    .chain(references(&val.error_message.expr))
                    .filter(|r| r.root != Root::Var(n.clone()))
                    .collect();
                self.refs_to_edges(node, &from, &refs, &val.condition.src.path);
            }
        }
        for (n, o) in &m.outputs {
            let from = id(Kind::Output(n.clone()));
            self.expr_edges(node, &from, &o.value);
            for d in &o.depends_on {
                self.expr_edges(node, &from, d);
            }
            for pc in &o.preconditions {
                self.expr_edges(node, &from, &pc.condition);
            }
        }
        for (n, c) in &m.module_calls {
            let from = id(Kind::Call(n.clone()));
            for e in c.count.iter().chain(&c.for_each).chain(&c.depends_on) {
                self.expr_edges(node, &from, e);
            }
        }
        for pb in &m.providers {
            let from = id(Kind::Provider(ProviderRef {
                name: pb.name.clone(),
                alias: pb.alias.clone(),
            }));
            let refs = body_references(&pb.body);
            self.refs_to_edges(node, &from, &refs, &pb.body.src.path);
        }
        for (k, r) in &m.resources {
            let from = id(Kind::Resource(k.clone()));
            for e in r.count.iter().chain(&r.for_each).chain(&r.depends_on) {
                self.expr_edges(node, &from, e);
            }
            for e in &r.lifecycle.replace_triggered_by {
                self.expr_edges(node, &from, e);
            }
            for v in r
                .lifecycle
                .preconditions
                .iter()
                .chain(&r.lifecycle.postconditions)
            {
                let refs: Vec<Reference> = references(&v.condition.expr)
                    .into_iter()
                    .filter(|x| x.root != Root::SelfRef)
                    .collect();
                self.refs_to_edges(node, &from, &refs, &v.condition.src.path);
            }
            let refs = body_references(&r.body);
            self.refs_to_edges(node, &from, &refs, &r.body.src.path);
            match resolve_provider(root, node, r) {
                Ok(pc) => {
                    if pc.declared {
                        self.edge(
                            &from,
                            NodeId {
                                module: pc.module.clone(),
                                kind: Kind::Provider(pc.provider.clone()),
                            },
                        );
                    }
                    self.resource_providers.insert(from, pc);
                }
                Err(d) => self.errors.push(d),
            }
        }
    }

    fn expr_edges(&mut self, node: &ModuleNode, from: &NodeId, e: &Expr) {
        let refs = references(&e.expr);
        self.refs_to_edges(node, from, &refs, &e.src.path);
    }

    fn refs_to_edges(&mut self, node: &ModuleNode, from: &NodeId, refs: &[Reference], file: &str) {
        let m = &node.module;
        let p = &node.path;
        for r in refs {
            let target = match &r.root {
                Root::Var(n) => {
                    if !m.variables.contains_key(n) {
                        self.undeclared(node, file, r, "input variable", n, m.variables.keys());
                        continue;
                    }
                    Kind::Var(n.clone())
                }
                Root::Local(n) => {
                    if !m.locals.contains_key(n) {
                        self.undeclared(node, file, r, "local value", n, m.locals.keys());
                        continue;
                    }
                    Kind::Local(n.clone())
                }
                Root::Resource {
                    mode,
                    type_name,
                    name,
                } => {
                    let key = match mode {
                        Mode::Managed => format!("{type_name}.{name}"),
                        Mode::Data => format!("data.{type_name}.{name}"),
                    };
                    if !m.resources.contains_key(&key) {
                        let what = match mode {
                            Mode::Managed => "resource",
                            Mode::Data => "data resource",
                        };
                        self.undeclared(node, file, r, what, &key, m.resources.keys());
                        continue;
                    }
                    Kind::Resource(key)
                }
                Root::Module(n) => {
                    let Some(child) = node.children.get(n) else {
                        self.undeclared(node, file, r, "module", n, m.module_calls.keys());
                        continue;
                    };
                    // A module's value is the object of all its outputs.
                    let mut child_path = p.clone();
                    child_path.push(n.clone());
                    for o in child.module.outputs.keys() {
                        self.edge(
                            from,
                            NodeId {
                                module: child_path.clone(),
                                kind: Kind::Output(o.clone()),
                            },
                        );
                    }
                    self.edge(
                        from,
                        NodeId {
                            module: p.clone(),
                            kind: Kind::Call(n.clone()),
                        },
                    );
                    continue;
                }
                _ => continue,
            };
            let to = NodeId {
                module: p.clone(),
                kind: target,
            };
            if &to == from && !matches!(from.kind, Kind::Resource(_)) {
                // A self-reference is a cycle of one.
                if let Some(&i) = self.index.get(from) {
                    self.graph.add_edge(i, i, ());
                }
                continue;
            }
            if &to == from {
                let src = node.module.files.iter().find(|f| f.path == file);
                let message = format!(
                    "self-referential block: configuration for {} may not refer to itself",
                    r_display(&r.root)
                );
                self.errors.push(match src {
                    Some(s) => s.error(Some(&r.range), message),
                    None => Diagnostic::error(file, message),
                });
                continue;
            }
            self.edge(from, to);
        }
    }

    fn undeclared<'a>(
        &mut self,
        node: &ModuleNode,
        file: &str,
        r: &Reference,
        what: &str,
        name: &str,
        candidates: impl Iterator<Item = &'a String>,
    ) {
        let names: Vec<&str> = candidates.map(String::as_str).collect();
        let where_ = if node.path.is_empty() {
            "the root module".to_owned()
        } else {
            format!("module.{}", node.path.join(".module."))
        };
        let mut message = format!(
            "reference to undeclared {what}: {what} {name:?} has not been declared in {where_}"
        );
        if let Some(s) = gantry_config::suggest::did_you_mean(name, &names) {
            message.push_str(&format!("; did you mean {s:?}?"));
        }
        let src = node.module.files.iter().find(|f| f.path == file);
        self.errors.push(match src {
            Some(s) => s.error(Some(&r.range), message),
            None => Diagnostic::error(file, message),
        });
    }
}

fn r_display(root: &Root) -> String {
    match root {
        Root::Resource {
            mode: Mode::Managed,
            type_name,
            name,
        } => format!("{type_name}.{name}"),
        Root::Resource {
            mode: Mode::Data,
            type_name,
            name,
        } => format!("data.{type_name}.{name}"),
        other => format!("{other:?}"),
    }
}

/// Finds the provider configuration a resource uses: its `provider`
/// argument or the implied one, looked up in its module, then through
/// `providers = {...}` maps and implicit inheritance up to the root.
pub fn resolve_provider(
    root: &ModuleNode,
    node: &ModuleNode,
    r: &Resource,
) -> Result<ProviderConfigAddr, Diagnostic> {
    let mut wanted = r.provider.clone().unwrap_or_else(|| ProviderRef {
        name: implied_local_name(node, &r.type_name),
        alias: None,
    });
    let mut path = node.path.clone();
    while let Some(here) = root.find(&path) {
        if here
            .module
            .providers
            .iter()
            .any(|p| p.name == wanted.name && p.alias == wanted.alias)
        {
            return Ok(ProviderConfigAddr {
                module: path,
                provider: wanted,
                declared: true,
            });
        }
        let Some((call_name, parent_path)) = path.split_last() else {
            break;
        };
        let parent_path = parent_path.to_vec();
        let Some(parent) = root.find(&parent_path) else {
            break;
        };
        let passed: BTreeMap<&ProviderRef, &ProviderRef> = parent
            .module
            .module_calls
            .get(call_name)
            .map(|c| c.providers.iter().map(|(a, b)| (a, b)).collect())
            .unwrap_or_default();
        if let Some(parent_ref) = passed.get(&wanted) {
            wanted = (*parent_ref).clone();
        } else if wanted.alias.is_some() {
            let message = format!(
                "provider configuration {wanted} is not present in this module and not passed from its caller in `providers`",
            );
            return Err(r.loc.error(message));
        }
        path = parent_path;
    }
    if wanted.alias.is_some() {
        return Err(r.loc.error(format!(
            "provider configuration {wanted} is not declared: add a `provider \"{}\"` block with `alias = \"{}\"`",
            wanted.name,
            wanted.alias.as_deref().unwrap_or_default()
        )));
    }
    Ok(ProviderConfigAddr {
        module: Vec::new(),
        provider: wanted,
        declared: false,
    })
}

/// The provider local name a resource type implies.
fn implied_local_name(_node: &ModuleNode, type_name: &str) -> String {
    implied_provider(type_name).to_owned()
}
