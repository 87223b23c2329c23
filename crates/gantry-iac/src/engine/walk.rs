//! The graph walk shared by plan and apply.
//!
//! Nodes run in dependency order. Variables, locals, outputs, module
//! expansions and provider configurations are evaluated on the walk's own
//! task; each resource node evaluates its instances' configurations there
//! too and then hands the provider calls to a task of its own, so
//! independent resources and the instances of one resource proceed in
//! parallel, bounded by `parallelism`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gantry_config::Diagnostic;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::addr::{InstanceAddr, Key, ModulePath, ModuleStep, ResourceAddr, module_path_string};
use super::config::ModuleNode;
use super::graph::{Kind, NodeId, ProviderConfigAddr};
use super::vars::Inputs;
use super::{Action, Change, Config, Failure, InstanceObj, OutputChange, Plan, PlanMode, World};
use crate::eval::{Evaluator, Root, Scope};
use crate::funcs::Phase;
use crate::provider::{ApplyRequest, PlanRequest, Provider, Schema, default_proposed};
use crate::syntax::{Expr, IgnoreChanges, Mode, ProviderRef, Resource};
use crate::value::{PathStep, Type, Value};

/// What is happening to an instance, for progress lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Modify,
    Destroy,
    Read,
    Refresh,
    Import,
}

impl Op {
    /// `Creating`, `Modifying`, ...
    pub fn verb(self) -> &'static str {
        match self {
            Op::Create => "Creating",
            Op::Modify => "Modifying",
            Op::Destroy => "Destroying",
            Op::Read => "Reading",
            Op::Refresh => "Refreshing state",
            Op::Import => "Importing",
        }
    }

    /// `Creation`, `Modifications`, ...
    pub fn noun(self) -> &'static str {
        match self {
            Op::Create => "Creation",
            Op::Modify => "Modifications",
            Op::Destroy => "Destruction",
            Op::Read => "Read",
            Op::Refresh => "Refresh",
            Op::Import => "Import",
        }
    }
}

/// A progress report from the walk.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    Start {
        addr: InstanceAddr,
        op: Op,
    },
    Done {
        addr: InstanceAddr,
        op: Op,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        addr: InstanceAddr,
        op: Op,
        error: String,
    },
}

/// Receives progress reports (the binary renders them).
pub trait Progress: Send + Sync {
    fn report(&self, event: ProgressEvent);
}

/// Where apply saves the world after each resource operation.
#[async_trait]
pub trait StateSink: Send + Sync {
    async fn persist(&self, world: &World) -> Result<(), String>;
}

/// A sink that keeps nothing (plans, tests).
pub struct NoSink;

#[async_trait]
impl StateSink for NoSink {
    async fn persist(&self, _world: &World) -> Result<(), String> {
        Ok(())
    }
}

struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _event: ProgressEvent) {}
}

/// Values of one module instance.
#[derive(Default)]
struct ModVals {
    vars: HashMap<String, Value>,
    locals: HashMap<String, Value>,
    outputs: HashMap<String, Value>,
    resources: HashMap<String, Value>,
}

/// How a resource or module call repeats.
#[derive(Debug, Clone)]
enum Expansion {
    Single,
    Count(i64),
    ForEach(BTreeMap<String, Value>),
}

/// An instance key with its `count.index` or `each.key`/`each.value`.
type KeyRep = (Key, Option<i64>, Option<(Value, Value)>);

impl Expansion {
    fn keys(&self) -> Vec<KeyRep> {
        match self {
            Expansion::Single => vec![(Key::None, None, None)],
            Expansion::Count(n) => (0..*n).map(|i| (Key::Int(i), Some(i), None)).collect(),
            Expansion::ForEach(m) => m
                .iter()
                .map(|(k, v)| {
                    (
                        Key::Str(k.clone()),
                        None,
                        Some((Value::String(k.clone()), v.clone())),
                    )
                })
                .collect(),
        }
    }
}

/// Per-instance repetition context (`count.index`, `each`).
#[derive(Debug, Clone, Default)]
struct Rep {
    count: Option<i64>,
    each: Option<(Value, Value)>,
}

struct Walker<'c> {
    cfg: &'c Config,
    phase: Phase,
    inputs: &'c Inputs,
    workspace: String,
    refresh: bool,
    targets: &'c [super::Target],
    replace: &'c [InstanceAddr],
    /// Static module path → its instances.
    instances: HashMap<Vec<String>, Vec<ModulePath>>,
    /// Child module instance → repetition of its call.
    call_rep: HashMap<ModulePath, Rep>,
    /// Module call (parent instance, name) → expansion kind.
    call_kind: HashMap<(ModulePath, String), Expansion>,
    vals: HashMap<ModulePath, ModVals>,
    providers: HashMap<(Vec<String>, ProviderRef), Arc<dyn Provider>>,
    errors: Vec<Diagnostic>,
    failed: HashSet<NodeId>,
    /// Plan: the refreshed prior world. Apply: the live world is in the
    /// persister; this is the prior world the plan was made from.
    world: World,
    changes: BTreeMap<InstanceAddr, Change>,
    drift: Vec<Change>,
    /// Apply: the plan's changes by address.
    planned: HashMap<InstanceAddr, Change>,
    outputs: BTreeMap<String, OutputChange>,
    warnings: Vec<Diagnostic>,
    /// Resource nodes included by `-target` (None: all).
    included: Option<HashSet<NodeId>>,
    /// Root variable values (for plan files).
    root_vars: BTreeMap<String, Value>,
    parallelism: usize,
    /// Instances moved by `moved` blocks: new address → old address.
    moved: HashMap<InstanceAddr, InstanceAddr>,
    /// Instances imported by `import` blocks, with their ids.
    importing: HashMap<InstanceAddr, String>,
    /// Plan: deletes of deposed objects.
    deposed_changes: Vec<Change>,
}

/// Plans the configuration against `prior`.
pub async fn plan(
    cfg: &Config,
    prior: &World,
    inputs: &Inputs,
    opts: &super::Options,
) -> Result<Plan, Failure> {
    let mut w = Walker::new(cfg, Phase::Plan, prior.clone(), inputs, opts);
    w.apply_moved();
    if opts.mode == PlanMode::Destroy {
        // Evaluate variables and providers (deletes need configured
        // providers), then plan a delete for every managed instance.
        w.walk_nodes(None, true).await;
        if !w.errors.is_empty() {
            return Err(cfg.failure(std::mem::take(&mut w.errors)));
        }
        w.refresh_all().await;
        let mut protected = Vec::new();
        for (addr, obj) in &w.world.instances {
            if addr.resource.mode != Mode::Managed || !w.targeted(addr) {
                continue;
            }
            let static_path: Vec<String> = addr
                .resource
                .module
                .iter()
                .map(|s| s.name.clone())
                .collect();
            if let Some(r) = cfg
                .tree
                .find(&static_path)
                .and_then(|n| n.module.resources.get(&addr.resource.local()))
                && r.lifecycle.prevent_destroy
            {
                protected.push(r.loc.error(format!(
                    "instance cannot be destroyed: resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed; to avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag"
                )));
            }
            w.changes.insert(
                addr.clone(),
                Change::new(
                    addr.clone(),
                    Action::Delete,
                    Some(obj.value.clone()),
                    None,
                    obj.provider.clone(),
                ),
            );
        }
        w.errors.extend(protected);
        w.plan_deposed().await;
        for (name, (v, sensitive)) in &w.world.outputs {
            w.outputs.insert(
                name.clone(),
                OutputChange {
                    before: Some(v.clone()),
                    after: None,
                    sensitive: *sensitive,
                },
            );
        }
    } else {
        w.imports().await;
        w.walk_nodes(None, false).await;
        if w.errors.is_empty() {
            w.orphans().await;
            // Outputs in the state that the configuration no longer has.
            for (name, (v, sensitive)) in &w.world.outputs {
                if !w.outputs.contains_key(name) && !cfg.tree.module.outputs.contains_key(name) {
                    w.outputs.insert(
                        name.clone(),
                        OutputChange {
                            before: Some(v.clone()),
                            after: None,
                            sensitive: *sensitive,
                        },
                    );
                }
            }
        }
        if w.errors.is_empty() && opts.mode == PlanMode::Normal {
            w.plan_deposed().await;
        }
    }
    if !w.errors.is_empty() {
        return Err(cfg.failure(std::mem::take(&mut w.errors)));
    }
    if opts.mode == PlanMode::RefreshOnly {
        // A refresh-only plan proposes no changes to resources: only the
        // refreshed state (and outputs) are written.
        for c in w.changes.values_mut() {
            c.action = Action::NoOp;
            c.after = c.before.clone();
            c.replace_paths.clear();
        }
    }
    let mut changes: Vec<Change> = std::mem::take(&mut w.changes).into_values().collect();
    changes.append(&mut w.deposed_changes);
    // Current objects first, then an address's deposed objects by key.
    changes.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| a.deposed.cmp(&b.deposed)));
    Ok(Plan {
        mode: opts.mode,
        changes,
        drift: std::mem::take(&mut w.drift),
        outputs: std::mem::take(&mut w.outputs),
        prior: w.world.clone(),
        variables: std::mem::take(&mut w.root_vars),
        targets: opts.targets.clone(),
        replace: opts.replace.clone(),
        warnings: std::mem::take(&mut w.warnings),
    })
}

/// Applies `plan`. The world is saved through `sink` after every resource
/// operation; on failure the returned world still describes reality.
pub async fn apply(
    cfg: &Config,
    plan: &Plan,
    inputs: &Inputs,
    opts: &super::Options,
    sink: Arc<dyn StateSink>,
    progress: Arc<dyn Progress>,
) -> Result<World, (World, Failure)> {
    let persister = Arc::new(Persister::new(plan.prior.clone(), sink));
    let writer = persister.clone().spawn_writer();
    let mut w = Walker::new(cfg, Phase::Apply, plan.prior.clone(), inputs, opts);
    w.planned = plan
        .changes
        .iter()
        .filter(|c| c.deposed.is_none())
        .map(|c| (c.addr.clone(), c.clone()))
        .collect();
    let ctx = ApplyCtx {
        persister: persister.clone(),
        progress,
        semaphore: Arc::new(Semaphore::new(opts.parallelism.max(1))),
    };
    // Imported and moved instances enter the state first.
    persister.update(|world| {
        let mut changed = false;
        for c in &plan.changes {
            if let Some(from) = &c.moved_from
                && let Some(obj) = world.instances.remove(from)
            {
                world.instances.insert(c.addr.clone(), obj);
                changed = true;
            }
        }
        changed
    });
    if plan.mode == PlanMode::RefreshOnly {
        persister.update(|world| {
            let before = world.clone();
            let (lineage, serial) = (world.lineage.clone(), world.serial);
            *world = plan.prior.clone();
            world.lineage = lineage;
            world.serial = serial;
            for (k, o) in &plan.outputs {
                if let Some(v) = &o.after {
                    world.outputs.insert(k.clone(), (v.clone(), o.sensitive));
                }
            }
            *world != before
        });
    } else if plan.mode == PlanMode::Destroy {
        w.walk_nodes(None, true).await;
        if w.errors.is_empty() {
            let deletes: Vec<Change> = plan
                .changes
                .iter()
                .filter(|c| c.action == Action::Delete)
                .cloned()
                .collect();
            w.delete_ordered(&deletes, &ctx).await;
        }
        if w.errors.is_empty() {
            // As Terraform: a destroyed configuration leaves no data
            // sources or outputs in the state either.
            persister.update(|world| {
                let before = world.instances.len();
                world.instances.retain(|a, _| a.resource.mode != Mode::Data);
                let changed = !world.outputs.is_empty() || world.instances.len() != before;
                world.outputs.clear();
                changed
            });
        }
    } else {
        for c in &plan.changes {
            if let Some(id) = &c.importing {
                let obj = InstanceObj {
                    value: c.before.clone().unwrap_or(Value::Null),
                    provider: c.provider.clone(),
                    schema_version: 0,
                    dependencies: Vec::new(),
                    create_before_destroy: false,
                    tainted: false,
                };
                ctx.progress.report(ProgressEvent::Start {
                    addr: c.addr.clone(),
                    op: Op::Import,
                });
                persister.update(|world| put(world, &c.addr, obj));
                ctx.progress.report(ProgressEvent::Done {
                    addr: c.addr.clone(),
                    op: Op::Import,
                    elapsed: Duration::ZERO,
                    id: Some(id.clone()),
                });
            }
        }
        // Replacements destroy their old objects first, dependents before
        // what they depend on (a zone after its records, a policy after
        // its attachments), as Terraform orders destroy-then-create; the
        // walk then only creates their new objects.
        let replaced: Vec<Change> = plan
            .changes
            .iter()
            .filter(|c| {
                c.deposed.is_none() && c.action == Action::DeleteThenCreate && c.before.is_some()
            })
            .map(|c| Change {
                action: Action::Delete,
                after: None,
                ..c.clone()
            })
            .collect();
        if !replaced.is_empty() {
            w.delete_ordered(&replaced, &ctx).await;
            for c in &replaced {
                if let Some(p) = w.planned.get_mut(&c.addr) {
                    p.action = Action::Create;
                    p.before = None;
                }
            }
        }
        if w.errors.is_empty() {
            w.walk_nodes(Some(&ctx), false).await;
        }
        // Orphans go last, dependents first.
        if w.errors.is_empty() {
            let deletes: Vec<Change> = plan
                .changes
                .iter()
                .filter(|c| c.action == Action::Delete)
                .cloned()
                .collect();
            w.delete_ordered(&deletes, &ctx).await;
        }
        let outputs = std::mem::take(&mut w.outputs);
        let outputs: BTreeMap<String, (Value, bool)> = outputs
            .into_iter()
            .filter_map(|(k, o)| match o.after {
                Some(v) if v.is_wholly_known() => Some((k, (v, o.sensitive))),
                _ => None,
            })
            .collect();
        persister.update(|world| {
            let changed = world.outputs != outputs;
            world.outputs = outputs;
            changed
        });
    }
    let written = persister.flush().await;
    writer.abort();
    let world = persister.snapshot();
    if let Err(e) = written {
        w.errors.push(Diagnostic::error(
            "",
            format!("failed to persist state: {e}"),
        ));
    }
    if w.errors.is_empty() {
        Ok(world)
    } else {
        Err((world, cfg.failure(std::mem::take(&mut w.errors))))
    }
}

/// Imports the object `id` into `addr` (which must be in the
/// configuration) and returns the new world.
pub async fn import(
    cfg: &Config,
    prior: &World,
    inputs: &Inputs,
    opts: &super::Options,
    addr: &InstanceAddr,
    id: &str,
) -> Result<World, Failure> {
    if prior.instances.contains_key(addr) {
        return Err(cfg.failure(vec![Diagnostic::error(
            "",
            format!(
                "resource already managed by Gantry: {addr} is already in the state; to import to this address you must first remove the existing object from the state"
            ),
        )]));
    }
    let static_path: Vec<String> = addr
        .resource
        .module
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let node_id = NodeId {
        module: static_path.clone(),
        kind: Kind::Resource(addr.resource.local()),
    };
    let Some(node) = cfg.tree.find(&static_path) else {
        return Err(cfg.failure(vec![Diagnostic::error(
            "",
            format!("import to non-existent module: {addr}"),
        )]));
    };
    if addr.resource.mode != Mode::Managed
        || !node.module.resources.contains_key(&addr.resource.local())
    {
        return Err(cfg.failure(vec![Diagnostic::error(
            "",
            format!(
                "configuration for import target does not exist: the configuration for the given import address {addr} does not exist; add a resource block for it first"
            ),
        )]));
    }
    let mut w = Walker::new(cfg, Phase::Plan, prior.clone(), inputs, opts);
    w.walk_nodes(None, true).await;
    if !w.errors.is_empty() {
        return Err(cfg.failure(std::mem::take(&mut w.errors)));
    }
    let Some(pc) = cfg.graph.resource_providers.get(&node_id).cloned() else {
        return Err(cfg.failure(vec![Diagnostic::error(
            "",
            format!("no provider for {addr}"),
        )]));
    };
    let provider = match w.provider(&pc).await {
        Ok(p) => p,
        Err(d) => return Err(cfg.failure(vec![d])),
    };
    let schema = match w.resource_schema(&pc, Mode::Managed, &addr.resource.type_name) {
        Some(s) => s,
        None => {
            return Err(cfg.failure(vec![Diagnostic::error(
                "",
                format!("unknown resource type {}", addr.resource.type_name),
            )]));
        }
    };
    let imported = provider
        .import(&addr.resource.type_name, id)
        .await
        .map(|v| v.convert(&schema.object_type()).unwrap_or(v));
    let value = match imported {
        Ok(v) => v,
        Err(e) => {
            return Err(cfg.failure(vec![Diagnostic::error(
                "",
                format!("{addr}: import failed: {e}"),
            )]));
        }
    };
    let value = match provider.read(&addr.resource.type_name, &value).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Err(cfg.failure(vec![Diagnostic::error(
                "",
                format!(
                    "cannot import non-existent remote object: {addr} with id {id:?} does not exist"
                ),
            )]));
        }
        Err(e) => return Err(cfg.failure(vec![Diagnostic::error("", format!("{addr}: {e}"))])),
    };
    let mut world = prior.clone();
    world.instances.insert(
        addr.clone(),
        InstanceObj {
            value: mark_schema_sensitive(&schema, value),
            provider: w.provider_string(&pc),
            schema_version: schema.version,
            dependencies: Vec::new(),
            create_before_destroy: false,
            tainted: false,
        },
    );
    Ok(world)
}

/// Apply-time context for resource operations.
#[derive(Clone)]
struct ApplyCtx {
    persister: Arc<Persister>,
    progress: Arc<dyn Progress>,
    semaphore: Arc<Semaphore>,
}

/// What a resource node's task returns: per instance, its change (plan) or
/// its new state (apply).
struct NodeResult {
    id: NodeId,
    /// Each module instance's expansion of the resource.
    exps: Vec<(ModulePath, Expansion)>,
    results: Vec<(InstanceAddr, Result<InstanceOutcome, String>)>,
}

enum InstanceOutcome {
    /// `refreshed`: None when not refreshed; Some(None) when the object
    /// is gone.
    Planned {
        change: Box<Change>,
        refreshed: Option<Option<Value>>,
        value: Value,
    },
    Applied {
        value: Option<Value>,
    },
}

impl<'c> Walker<'c> {
    fn new(
        cfg: &'c Config,
        phase: Phase,
        world: World,
        inputs: &'c Inputs,
        opts: &'c super::Options,
    ) -> Self {
        let included = if opts.targets.is_empty() {
            None
        } else {
            Some(included_nodes(cfg, &opts.targets))
        };
        Walker {
            cfg,
            phase,
            inputs,
            workspace: opts.workspace.clone(),
            refresh: opts.refresh,
            targets: &opts.targets,
            replace: &opts.replace,
            instances: HashMap::from([(Vec::new(), vec![Vec::new()])]),
            call_rep: HashMap::new(),
            call_kind: HashMap::new(),
            vals: HashMap::new(),
            providers: HashMap::new(),
            errors: Vec::new(),
            failed: HashSet::new(),
            world,
            changes: BTreeMap::new(),
            drift: Vec::new(),
            planned: HashMap::new(),
            outputs: BTreeMap::new(),
            warnings: Vec::new(),
            included,
            root_vars: BTreeMap::new(),
            parallelism: opts.parallelism.max(1),
            moved: HashMap::new(),
            importing: HashMap::new(),
            deposed_changes: Vec::new(),
        }
    }

    fn targeted(&self, addr: &InstanceAddr) -> bool {
        self.targets.is_empty() || self.targets.iter().any(|t| t.matches(addr))
    }

    /// Runs every node in dependency order. With `skip_resources`, resource
    /// nodes only record their prior values (destroy, import).
    async fn walk_nodes(&mut self, apply: Option<&ApplyCtx>, skip_resources: bool) {
        let graph = &self.cfg.graph;
        let mut pending: HashMap<NodeId, usize> = HashMap::new();
        let mut dependents: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for id in graph.index.keys() {
            let deps = graph.deps(id);
            pending.insert(id.clone(), deps.len());
            for d in deps {
                dependents.entry(d).or_default().push(id.clone());
            }
        }
        let mut ready: Vec<NodeId> = pending
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| k.clone())
            .collect();
        ready.sort();
        let mut running: JoinSet<NodeResult> = JoinSet::new();
        let semaphore = Arc::new(Semaphore::new(self.parallelism));
        loop {
            while let Some(id) = ready.pop() {
                let upstream_failed = graph.deps(&id).iter().any(|d| self.failed.contains(d));
                if upstream_failed {
                    self.failed.insert(id.clone());
                    self.complete(&id, &mut pending, &dependents, &mut ready);
                    continue;
                }
                let before = self.errors.len();
                if let Kind::Resource(_) = id.kind {
                    if let Some(fut) = self
                        .start_resource(&id, apply, skip_resources, &semaphore)
                        .await
                    {
                        running.spawn(fut);
                        continue;
                    }
                } else if !(skip_resources && matches!(id.kind, Kind::Output(_))) {
                    // A destroy walk removes every output: evaluating them
                    // would read resources that may no longer exist.
                    self.eval_node(&id).await;
                }
                if self.errors.len() > before {
                    self.failed.insert(id.clone());
                }
                self.complete(&id, &mut pending, &dependents, &mut ready);
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            match joined {
                Ok(result) => {
                    let id = result.id.clone();
                    let before = self.errors.len();
                    self.finish_resource(result, apply);
                    if self.errors.len() > before {
                        self.failed.insert(id.clone());
                    }
                    self.complete(&id, &mut pending, &dependents, &mut ready);
                }
                Err(e) => self.errors.push(Diagnostic::error(
                    "",
                    format!("internal error: a resource task failed: {e}"),
                )),
            }
        }
    }

    fn complete(
        &self,
        id: &NodeId,
        pending: &mut HashMap<NodeId, usize>,
        dependents: &HashMap<NodeId, Vec<NodeId>>,
        ready: &mut Vec<NodeId>,
    ) {
        for d in dependents.get(id).into_iter().flatten() {
            if let Some(n) = pending.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.push(d.clone());
                }
            }
        }
    }

    fn node(&self, path: &[String]) -> &'c ModuleNode {
        // Every NodeId comes from the tree the graph was built from.
        self.cfg.tree.find(path).unwrap_or(&self.cfg.tree)
    }

    fn module_instances(&self, path: &[String]) -> Vec<ModulePath> {
        self.instances.get(path).cloned().unwrap_or_default()
    }

    fn scope<'s>(&'s self, module: &'s ModulePath, rep: Rep) -> InstScope<'s, 'c> {
        InstScope {
            w: self,
            module,
            rep,
            self_value: None,
        }
    }

    fn module_dir(&self, static_path: &[String]) -> PathBuf {
        let node = self.node(static_path);
        if node.module.dir.as_os_str().is_empty() {
            self.cfg.dir.clone()
        } else {
            node.module.dir.clone()
        }
    }

    fn eval_in(&self, module: &ModulePath, rep: Rep, e: &Expr) -> Result<Value, Diagnostic> {
        let base = self.cfg.dir.clone();
        let scope = self.scope(module, rep);
        let ev = Evaluator {
            scope: &scope,
            phase: self.phase,
            base_dir: &base,
        };
        ev.eval(e)
    }

    fn vals_mut(&mut self, module: &ModulePath) -> &mut ModVals {
        self.vals.entry(module.clone()).or_default()
    }

    async fn eval_node(&mut self, id: &NodeId) {
        let node = self.node(&id.module);
        match &id.kind {
            Kind::Var(name) => {
                let Some(var) = node.module.variables.get(name) else {
                    return;
                };
                for inst in self.module_instances(&id.module) {
                    match self.var_value(&inst, var) {
                        Ok(v) => {
                            if inst.is_empty() {
                                self.root_vars.insert(name.clone(), v.clone());
                            }
                            self.vals_mut(&inst).vars.insert(name.clone(), v);
                        }
                        Err(d) => self.errors.push(d),
                    }
                }
            }
            Kind::Local(name) => {
                let Some(local) = node.module.locals.get(name) else {
                    return;
                };
                for inst in self.module_instances(&id.module) {
                    match self.eval_in(&inst, Rep::default(), &local.expr) {
                        Ok(v) => {
                            self.vals_mut(&inst).locals.insert(name.clone(), v);
                        }
                        Err(d) => self.errors.push(d),
                    }
                }
            }
            Kind::Output(name) => {
                let Some(out) = node.module.outputs.get(name) else {
                    return;
                };
                for inst in self.module_instances(&id.module) {
                    let v = match self.eval_in(&inst, Rep::default(), &out.value) {
                        Ok(v) => v,
                        Err(d) => {
                            self.errors.push(d);
                            continue;
                        }
                    };
                    if v.contains_sensitive() && !out.sensitive && inst.is_empty() {
                        self.errors.push(out.loc.error(format!(
                            "output refers to sensitive values: output {name:?} includes sensitive values; to show them anyway add `sensitive = true` to the output (their values will be redacted)"
                        )));
                        continue;
                    }
                    for pc in &out.preconditions {
                        self.check_condition(
                            &inst,
                            Rep::default(),
                            pc,
                            "output precondition failed",
                        );
                    }
                    let v = if out.sensitive { v.mark() } else { v };
                    if inst.is_empty() {
                        let before = self.world.outputs.get(name).map(|(v, _)| v.clone());
                        self.outputs.insert(
                            name.clone(),
                            OutputChange {
                                before,
                                after: Some(v.clone()),
                                sensitive: out.sensitive,
                            },
                        );
                    }
                    self.vals_mut(&inst).outputs.insert(name.clone(), v);
                }
            }
            Kind::Call(name) => {
                let Some(call) = node.module.module_calls.get(name) else {
                    return;
                };
                let mut child_static = id.module.clone();
                child_static.push(name.clone());
                let child = self.node(&child_static);
                for input in call.inputs.keys() {
                    if !child.module.variables.contains_key(input) {
                        let mut msg = format!(
                            "unsupported argument: an argument named {input:?} is not expected here"
                        );
                        let names: Vec<&str> =
                            child.module.variables.keys().map(String::as_str).collect();
                        if let Some(s) = gantry_config::suggest::did_you_mean(input, &names) {
                            msg.push_str(&format!("; did you mean {s:?}?"));
                        }
                        self.errors.push(call.loc.error(msg));
                    }
                }
                for (vname, var) in &child.module.variables {
                    if var.default.is_none() && !call.inputs.contains_key(vname) {
                        self.errors.push(call.loc.error(format!(
                            "missing required argument: the argument {vname:?} is required, but no definition was found"
                        )));
                    }
                }
                let mut children = Vec::new();
                for inst in self.module_instances(&id.module) {
                    let exp =
                        match self.expansion(&inst, call.count.as_ref(), call.for_each.as_ref()) {
                            Ok(e) => e,
                            Err(d) => {
                                self.errors.push(d);
                                continue;
                            }
                        };
                    for (key, count, each) in exp.keys() {
                        let mut child_inst = inst.clone();
                        child_inst.push(ModuleStep {
                            name: name.clone(),
                            key,
                        });
                        self.call_rep
                            .insert(child_inst.clone(), Rep { count, each });
                        self.vals.entry(child_inst.clone()).or_default();
                        children.push(child_inst);
                    }
                    self.call_kind.insert((inst.clone(), name.clone()), exp);
                }
                self.instances.insert(child_static, children);
            }
            Kind::Provider(r) => {
                let pc = ProviderConfigAddr {
                    module: id.module.clone(),
                    provider: r.clone(),
                    declared: true,
                };
                if let Err(d) = self.provider(&pc).await {
                    self.errors.push(d);
                }
            }
            Kind::Resource(_) => {}
        }
    }

    fn var_value(
        &self,
        inst: &ModulePath,
        var: &crate::syntax::Variable,
    ) -> Result<Value, Diagnostic> {
        let name = &var.name;
        let given: Option<Result<Value, String>> = if inst.is_empty() {
            self.inputs.get(name, &var.ty)
        } else {
            let (parent, step) = inst.split_at(inst.len() - 1);
            let parent = parent.to_vec();
            let parent_static: Vec<String> = parent.iter().map(|s| s.name.clone()).collect();
            let call = self
                .node(&parent_static)
                .module
                .module_calls
                .get(&step[0].name);
            match call.and_then(|c| c.inputs.get(name)) {
                Some(e) => {
                    let rep = self.call_rep.get(inst).cloned().unwrap_or_default();
                    let v = self.eval_in(&parent, rep, e)?;
                    Some(v.convert(&var.ty).map_err(|err| {
                        format!("invalid value for input variable: the given value is not suitable for var.{name}: {err}")
                    }))
                }
                None => None,
            }
        };
        let default = || -> Result<Option<Value>, Diagnostic> {
            match &var.default {
                Some(e) => {
                    let v = self.eval_in(inst, Rep::default(), e)?;
                    v.convert(&var.ty).map(Some).map_err(|err| {
                        var.loc.error(format!(
                            "invalid default value for variable: this default value is not compatible with the variable's type constraint: {err}"
                        ))
                    })
                }
                None => Ok(None),
            }
        };
        let mut value = match given {
            Some(Ok(v)) => v,
            Some(Err(msg)) => {
                // Point at the assignment in a .tfvars file when there is one.
                let at = match self.inputs.loc(name) {
                    Some(l) if inst.is_empty() => l,
                    _ => &var.loc,
                };
                return Err(at.error(msg));
            }
            None => match default()? {
                Some(v) => v,
                None => {
                    return Err(var.loc.error(format!(
                        "no value for required variable: the root module input variable {name:?} is not set, and has no default value; use a -var or -var-file command line argument to provide a value for this variable"
                    )));
                }
            },
        };
        if value.is_null() && !var.nullable {
            value = match default()? {
                Some(v) if !v.is_null() => v,
                _ => {
                    return Err(var.loc.error(format!(
                        "required variable not set: unsuitable value for var.{name}: the given value is null, and this variable is not nullable"
                    )));
                }
            };
        }
        if var.sensitive {
            value = value.mark();
        }
        // Validations see the variable itself.
        for v in &var.validations {
            let mut vals = ModVals::default();
            vals.vars.insert(name.clone(), value.clone());
            let scope = VarScope {
                name,
                value: &value,
            };
            let base = self.cfg.dir.clone();
            let ev = Evaluator {
                scope: &scope,
                phase: self.phase,
                base_dir: &base,
            };
            let ok = ev.eval(&v.condition)?;
            if !ok.is_known() {
                continue;
            }
            match ok.unmarked() {
                Value::Bool(true) => {}
                Value::Bool(false) => {
                    let msg = ev
                        .eval(&v.error_message)
                        .ok()
                        .and_then(|m| m.to_template_string())
                        .unwrap_or_else(|| "the value failed validation".into());
                    return Err(v.loc.error(format!(
                        "invalid value for variable: {msg}; this was checked by the validation rule at {}",
                        v.loc.position()
                    )));
                }
                _ => {
                    return Err(v
                        .loc
                        .error("invalid validation result: the condition must be a bool"));
                }
            }
        }
        Ok(value)
    }

    fn check_condition(
        &mut self,
        inst: &ModulePath,
        rep: Rep,
        v: &crate::syntax::Validation,
        what: &str,
    ) {
        match self.eval_in(inst, rep.clone(), &v.condition) {
            Ok(ok) if ok.is_known() => {
                if ok.unmarked() == &Value::Bool(false) {
                    let msg = self
                        .eval_in(inst, rep, &v.error_message)
                        .ok()
                        .and_then(|m| m.to_template_string())
                        .unwrap_or_default();
                    self.errors.push(v.loc.error(format!("{what}: {msg}")));
                }
            }
            Ok(_) => {}
            Err(d) => self.errors.push(d),
        }
    }

    /// Evaluates `count`/`for_each` in a module instance.
    fn expansion(
        &self,
        inst: &ModulePath,
        count: Option<&Expr>,
        for_each: Option<&Expr>,
    ) -> Result<Expansion, Diagnostic> {
        if let Some(e) = count {
            let v = self.eval_in(inst, Rep::default(), e)?;
            let err = |m: &str| {
                e.src.error(
                    expr_range(e).as_ref(),
                    format!("invalid count argument: {m}"),
                )
            };
            if !v.is_known() {
                return Err(err(
                    "the \"count\" value depends on resource attributes that cannot be determined until apply, so Gantry cannot predict how many instances will be created; use -target to first apply only the resources that the count depends on",
                ));
            }
            if v.is_sensitive() {
                return Err(err(
                    "sensitive values, or values derived from sensitive values, cannot be used as count arguments",
                ));
            }
            let n = match v.convert(&Type::Number) {
                Ok(Value::Number(n)) => n,
                Ok(Value::Null) => {
                    return Err(err(
                        "the given \"count\" argument value is null; an integer is required",
                    ));
                }
                _ => {
                    return Err(err(&format!(
                        "the given \"count\" argument value is unsuitable: number required, but have {}",
                        v.kind_name()
                    )));
                }
            };
            if n < 0.0 {
                return Err(err(
                    "the given \"count\" argument value is unsuitable: must be greater than or equal to zero",
                ));
            }
            if n.fract() != 0.0 {
                return Err(err(
                    "the given \"count\" argument value is unsuitable: must be a whole number",
                ));
            }
            return Ok(Expansion::Count(n as i64));
        }
        if let Some(e) = for_each {
            let v = self.eval_in(inst, Rep::default(), e)?;
            let err = |m: &str| {
                e.src.error(
                    expr_range(e).as_ref(),
                    format!("invalid for_each argument: {m}"),
                )
            };
            if !v.is_known() {
                return Err(err(
                    "the \"for_each\" map includes keys derived from resource attributes that cannot be determined until apply, and so Gantry cannot determine the full set of keys that will identify the instances of this resource; use -target to first apply only the resources that the for_each value depends on",
                ));
            }
            if v.is_sensitive() {
                return Err(err(
                    "sensitive values, or values derived from sensitive values, cannot be used as for_each arguments",
                ));
            }
            let mut map = BTreeMap::new();
            match v.unmarked() {
                Value::Null => {
                    return Err(err(
                        "the given \"for_each\" argument value is null; a map, or set of strings is allowed",
                    ));
                }
                Value::Map(m) | Value::Object(m) => {
                    for (k, x) in m {
                        map.insert(k.clone(), x.clone());
                    }
                }
                Value::Set(items) => {
                    for x in items {
                        if !x.is_known() {
                            return Err(err(
                                "the given \"for_each\" set includes values that cannot be determined until apply",
                            ));
                        }
                        match x.unmarked() {
                            Value::String(s) => {
                                map.insert(s.clone(), x.clone());
                            }
                            Value::Null => {
                                return Err(err(
                                    "the given \"for_each\" argument value is unsuitable: \"for_each\" sets must not contain null values",
                                ));
                            }
                            other => {
                                return Err(err(&format!(
                                    "the given \"for_each\" argument value is unsuitable: \"for_each\" supports maps and sets of strings, but you have provided a set containing type {}",
                                    other.kind_name()
                                )));
                            }
                        }
                    }
                }
                other => {
                    return Err(err(&format!(
                        "the given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}",
                        other.kind_name()
                    )));
                }
            }
            return Ok(Expansion::ForEach(map));
        }
        Ok(Expansion::Single)
    }

    /// The configured provider for `pc`, configuring it on first use.
    async fn provider(&mut self, pc: &ProviderConfigAddr) -> Result<Arc<dyn Provider>, Diagnostic> {
        let key = (pc.module.clone(), pc.provider.clone());
        if let Some(p) = self.providers.get(&key) {
            return Ok(p.clone());
        }
        let Some(factory) = self.cfg.registry.get(&pc.provider.name).cloned() else {
            let names: Vec<&str> = self.cfg.registry.names().collect();
            return Err(Diagnostic::error(
                "",
                format!(
                    "provider {:?} is not available; Gantry has these providers built in: {}",
                    pc.provider.name,
                    names.join(", ")
                ),
            ));
        };
        let schema = &factory.schema().provider;
        let config = if pc.declared {
            let node = self.node(&pc.module);
            let Some(block) = node
                .module
                .providers
                .iter()
                .find(|b| b.name == pc.provider.name && b.alias == pc.provider.alias)
            else {
                return Err(Diagnostic::error(
                    "",
                    format!("provider configuration {} not found", pc.provider),
                ));
            };
            let inst = self
                .module_instances(&pc.module)
                .into_iter()
                .next()
                .unwrap_or_default();
            let base = self.cfg.dir.clone();
            let scope = self.scope(&inst, Rep::default());
            let ev = Evaluator {
                scope: &scope,
                phase: self.phase,
                base_dir: &base,
            };
            match ev.eval_body(&block.body, schema) {
                Ok(v) => v,
                Err(mut ds) => return Err(ds.remove(0)),
            }
        } else {
            null_object(schema)
        };
        let provider = factory.configure(&config).await.map_err(|e| {
            Diagnostic::error(
                "",
                format!(
                    "failed to configure provider {:?}: {e}",
                    pc.provider.to_string()
                ),
            )
        })?;
        self.providers.insert(key, provider.clone());
        Ok(provider)
    }

    fn resource_schema(
        &self,
        pc: &ProviderConfigAddr,
        mode: Mode,
        type_name: &str,
    ) -> Option<Arc<Schema>> {
        let f = self.cfg.registry.get(&pc.provider.name)?;
        let s = match mode {
            Mode::Managed => f.schema().resources.get(type_name)?,
            Mode::Data => f.schema().data_sources.get(type_name)?,
        };
        Some(Arc::new(s.clone()))
    }

    /// `provider["registry.terraform.io/hashicorp/random"]`, with the module
    /// prefix and alias as state writes them.
    fn provider_string(&self, pc: &ProviderConfigAddr) -> String {
        let source = self.cfg.registry.get(&pc.provider.name).map_or_else(
            || format!("registry.terraform.io/hashicorp/{}", pc.provider.name),
            |f| f.source().to_owned(),
        );
        let mut s = String::new();
        for m in &pc.module {
            s.push_str(&format!("module.{m}."));
        }
        s.push_str(&format!("provider[\"{source}\"]"));
        if let Some(a) = &pc.provider.alias {
            s.push('.');
            s.push_str(a);
        }
        s
    }

    /// The provider configuration a state provider string names.
    fn provider_addr_from_string(&self, s: &str) -> Option<ProviderConfigAddr> {
        let start = s.find("provider[\"")?;
        let module: Vec<String> = s[..start]
            .split('.')
            .collect::<Vec<_>>()
            .chunks(2)
            .filter_map(|c| {
                if c.len() == 2 && c[0] == "module" {
                    Some(c[1].to_owned())
                } else {
                    None
                }
            })
            .collect();
        let rest = &s[start + "provider[\"".len()..];
        let end = rest.find("\"]")?;
        let source = &rest[..end];
        let alias = rest[end + 2..].strip_prefix('.').map(str::to_owned);
        let name = source.rsplit('/').next()?.to_owned();
        let provider = ProviderRef { name, alias };
        let declared = self.cfg.tree.find(&module).is_some_and(|n| {
            n.module
                .providers
                .iter()
                .any(|p| p.name == provider.name && p.alias == provider.alias)
        });
        Some(ProviderConfigAddr {
            module,
            provider,
            declared,
        })
    }

    /// Applies `moved` blocks of every module to the prior world.
    fn apply_moved(&mut self) {
        for node in self.cfg.tree.walk() {
            for m in &node.module.moved {
                let (Some(from), Some(to)) = (expr_text(&m.from), expr_text(&m.to)) else {
                    self.errors.push(m.loc.error(
                        "invalid \"moved\" address: from and to must be resource addresses",
                    ));
                    continue;
                };
                let prefix = node
                    .path
                    .iter()
                    .map(|p| format!("module.{p}."))
                    .collect::<String>();
                let (from_t, to_t) = match (
                    super::addr::parse_target(&format!("{prefix}{from}")),
                    super::addr::parse_target(&format!("{prefix}{to}")),
                ) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(e), _) | (_, Err(e)) => {
                        self.errors
                            .push(m.loc.error(format!("invalid \"moved\" address: {e}")));
                        continue;
                    }
                };
                let moves: Vec<(InstanceAddr, InstanceAddr)> = self
                    .world
                    .instances
                    .keys()
                    .filter_map(|a| moved_addr(a, &from_t, &to_t).map(|b| (a.clone(), b)))
                    .collect();
                for (a, b) in moves {
                    if self.world.instances.contains_key(&b) {
                        continue;
                    }
                    if let Some(obj) = self.world.instances.remove(&a) {
                        self.world.instances.insert(b.clone(), obj);
                        let keys: Vec<String> = self
                            .world
                            .deposed
                            .keys()
                            .filter(|(x, _)| x == &a)
                            .map(|(_, k)| k.clone())
                            .collect();
                        for k in keys {
                            if let Some(o) = self.world.deposed.remove(&(a.clone(), k.clone())) {
                                self.world.deposed.insert((b.clone(), k), o);
                            }
                        }
                        self.moved.insert(b, a);
                    }
                }
            }
        }
    }

    /// Plans `import` blocks: imported objects join the prior world.
    async fn imports(&mut self) {
        let root = &self.cfg.tree;
        for imp in &root.module.imports {
            let Some(to) = expr_text(&imp.to) else {
                self.errors.push(
                    imp.loc
                        .error("invalid import address: \"to\" must be a resource address"),
                );
                continue;
            };
            let addr = match super::addr::parse_instance(&to) {
                Ok(a) => a,
                Err(e) => {
                    self.errors
                        .push(imp.loc.error(format!("invalid import address: {e}")));
                    continue;
                }
            };
            if self.world.instances.contains_key(&addr) {
                continue;
            }
            let id = match self.eval_in(&Vec::new(), Rep::default(), &imp.id) {
                Ok(v) => {
                    match v.unmarked() {
                        Value::String(s) => s.clone(),
                        _ if !v.is_known() => {
                            self.errors.push(imp.loc.error("invalid import id argument: the import id cannot be known until apply"));
                            continue;
                        }
                        other => {
                            self.errors.push(imp.loc.error(format!(
                                "invalid import id argument: a string is required, but have {}",
                                other.kind_name()
                            )));
                            continue;
                        }
                    }
                }
                Err(d) => {
                    self.errors.push(d);
                    continue;
                }
            };
            let static_path: Vec<String> = addr
                .resource
                .module
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let node_id = NodeId {
                module: static_path,
                kind: Kind::Resource(addr.resource.local()),
            };
            let Some(pc) = self.cfg.graph.resource_providers.get(&node_id).cloned() else {
                self.errors.push(imp.loc.error(format!(
                    "configuration for import target does not exist: the configuration for the given import {addr} does not exist"
                )));
                continue;
            };
            let provider = match self.provider(&pc).await {
                Ok(p) => p,
                Err(d) => {
                    self.errors.push(d);
                    continue;
                }
            };
            let Some(schema) = self.resource_schema(&pc, Mode::Managed, &addr.resource.type_name)
            else {
                continue;
            };
            let value = match provider.import(&addr.resource.type_name, &id).await {
                Ok(v) => v,
                Err(e) => {
                    self.errors
                        .push(imp.loc.error(format!("{addr}: import failed: {e}")));
                    continue;
                }
            };
            let value = match provider.read(&addr.resource.type_name, &value).await {
                Ok(Some(v)) => v,
                Ok(None) => {
                    self.errors.push(imp.loc.error(format!(
                        "cannot import non-existent remote object: {addr} with id {id:?} does not exist"
                    )));
                    continue;
                }
                Err(e) => {
                    self.errors.push(imp.loc.error(format!("{addr}: {e}")));
                    continue;
                }
            };
            let obj = InstanceObj {
                value: mark_schema_sensitive(&schema, value),
                provider: self.provider_string(&pc),
                schema_version: schema.version,
                dependencies: Vec::new(),
                create_before_destroy: false,
                tainted: false,
            };
            self.world.instances.insert(addr.clone(), obj);
            self.importing.insert(addr, id);
        }
    }

    /// Prepares a resource node: evaluates each instance's configuration
    /// and returns the task that talks to the provider.
    async fn start_resource(
        &mut self,
        id: &NodeId,
        apply: Option<&ApplyCtx>,
        skip: bool,
        semaphore: &Arc<Semaphore>,
    ) -> Option<impl std::future::Future<Output = NodeResult> + Send + 'static> {
        let Kind::Resource(key) = &id.kind else {
            return None;
        };
        let node = self.node(&id.module);
        let res: &'c Resource = node.module.resources.get(key)?;
        let pc = self.cfg.graph.resource_providers.get(id)?.clone();
        let included = self.included.as_ref().is_none_or(|s| s.contains(id));
        if skip || !included {
            // Destroy/import walks and untargeted resources: the prior
            // values stand in for the resource.
            self.record_prior_values(id, res);
            return None;
        }
        let provider = match self.provider(&pc).await {
            Ok(p) => p,
            Err(d) => {
                self.errors
                    .push(res.loc.error(format!("{}: {}", res.key(), d.message)));
                return None;
            }
        };
        let schema = self.resource_schema(&pc, res.mode, &res.type_name)?;
        let provider_str = self.provider_string(&pc);
        let deps = self.dependencies_of(id);
        let mut jobs = Vec::new();
        let mut module_exps = Vec::new();
        for inst in self.module_instances(&id.module) {
            let exp = match self.expansion(&inst, res.count.as_ref(), res.for_each.as_ref()) {
                Ok(e) => e,
                Err(d) => {
                    self.errors.push(d);
                    continue;
                }
            };
            let raddr = ResourceAddr {
                module: inst.clone(),
                mode: res.mode,
                type_name: res.type_name.clone(),
                name: res.name.clone(),
            };
            for (k, count, each) in exp.keys() {
                let addr = raddr.instance(k);
                let rep = Rep { count, each };
                let config = {
                    let base = self.cfg.dir.clone();
                    let scope = self.scope(&inst, rep.clone());
                    let ev = Evaluator {
                        scope: &scope,
                        phase: self.phase,
                        base_dir: &base,
                    };
                    match ev.eval_body(&res.body, &schema) {
                        Ok(v) => v,
                        Err(ds) => {
                            self.errors.extend(
                                ds.into_iter()
                                    .map(|d| super::validate::at_block(d, &res.loc)),
                            );
                            continue;
                        }
                    }
                };
                // Data sources share type names with resources (local_file)
                // but not their rules.
                if res.mode == Mode::Managed {
                    for e in provider.validate_resource(&res.type_name, &config) {
                        self.errors.push(res.loc.error(format!("{addr}: {e}")));
                    }
                }
                let prior = self.world.instances.get(&addr).cloned();
                let forced = if self.replace.contains(&addr) {
                    Some("because of -replace".to_owned())
                } else if prior.as_ref().is_some_and(|p| p.tainted) {
                    Some("because it is tainted".to_owned())
                } else if prior.is_some() && self.replace_triggered(&inst, res) {
                    Some("because of lifecycle.replace_triggered_by".to_owned())
                } else {
                    None
                };
                let targeted = self.instance_selected(&addr);
                let deps_pending = res.mode == Mode::Data
                    && self.changes.values().any(|c| {
                        c.action != Action::NoOp && deps.contains(&config_address(&c.addr))
                    });
                jobs.push(Job {
                    addr,
                    mode: res.mode,
                    type_name: res.type_name.clone(),
                    config,
                    prior,
                    forced,
                    cbd: res.lifecycle.create_before_destroy,
                    prevent_destroy: res.lifecycle.prevent_destroy,
                    ignore: res.lifecycle.ignore_changes.clone(),
                    provider_str: provider_str.clone(),
                    deps: deps.clone(),
                    refresh: self.refresh,
                    planned: None,
                    targeted,
                    deps_pending,
                });
            }
            module_exps.push((inst, exp));
        }
        if jobs.is_empty() && module_exps.is_empty() {
            return None;
        }
        if apply.is_some() {
            for j in &mut jobs {
                j.planned = self.planned.get(&j.addr).cloned();
            }
        }
        let phase = self.phase;
        let ctx = apply.cloned();
        let sem = ctx
            .as_ref()
            .map_or_else(|| semaphore.clone(), |c| c.semaphore.clone());
        let id = id.clone();
        let fut = async move {
            let mut set = JoinSet::new();
            let addrs: Vec<InstanceAddr> = jobs.iter().map(|j| j.addr.clone()).collect();
            let mut results: Vec<Option<Result<InstanceOutcome, String>>> =
                addrs.iter().map(|_| None).collect();
            let mut store = |r: Result<(usize, Result<InstanceOutcome, String>), _>| {
                if let Ok((i, r)) = r
                    && let Some(slot) = results.get_mut(i)
                {
                    *slot = Some(r);
                }
            };
            // A task is spawned only once it holds a permit, so at most
            // `parallelism` instance tasks (each holding its job's values)
            // exist at a time, not one per instance.
            for (i, job) in jobs.into_iter().enumerate() {
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    store(Ok((i, Err("the walk was cancelled".to_owned()))));
                    continue;
                };
                while let Some(r) = set.try_join_next() {
                    store(r);
                }
                let provider = provider.clone();
                let schema = schema.clone();
                let ctx = ctx.clone();
                set.spawn(async move {
                    let _permit = permit;
                    let r = match (phase, ctx) {
                        (Phase::Apply, Some(ctx)) => {
                            apply_job(&*provider, &schema, job, &ctx).await
                        }
                        _ => plan_job(&*provider, &schema, job).await,
                    };
                    (i, r)
                });
            }
            while let Some(r) = set.join_next().await {
                store(r);
            }
            NodeResult {
                id,
                exps: module_exps,
                results: addrs
                    .into_iter()
                    .zip(results)
                    .map(|(a, r)| {
                        (
                            a,
                            r.unwrap_or_else(|| {
                                Err("internal error: a resource task panicked".to_owned())
                            }),
                        )
                    })
                    .collect(),
            }
        };
        Some(fut)
    }
}

impl<'c> Walker<'c> {
    /// With `-target`, whether this instance itself is planned: selected
    /// by a target, or in a resource that is only a dependency of one.
    fn instance_selected(&self, addr: &InstanceAddr) -> bool {
        if self.targets.is_empty() || self.targets.iter().any(|t| t.matches(addr)) {
            return true;
        }
        let names_this_resource = self.targets.iter().any(|t| match t {
            super::Target::Module(_) => t.matches(addr),
            super::Target::Resource(r) => same_resource(r, &addr.resource),
            super::Target::Instance(i) => same_resource(&i.resource, &addr.resource),
        });
        !names_this_resource
    }

    /// Records the prior state's values for a resource that is not being
    /// planned (destroy walks, resources outside `-target`).
    fn record_prior_values(&mut self, id: &NodeId, res: &Resource) {
        for inst in self.module_instances(&id.module) {
            let raddr = ResourceAddr {
                module: inst.clone(),
                mode: res.mode,
                type_name: res.type_name.clone(),
                name: res.name.clone(),
            };
            let items: Vec<(Key, Value)> = self
                .world
                .instances
                .iter()
                .filter(|(a, _)| a.resource == raddr)
                .map(|(a, o)| (a.key.clone(), o.value.clone()))
                .collect();
            let agg = if res.count.is_some() {
                Value::Tuple(items.into_iter().map(|(_, v)| v).collect())
            } else if res.for_each.is_some() {
                Value::Object(
                    items
                        .into_iter()
                        .filter_map(|(k, v)| match k {
                            Key::Str(s) => Some((s, v)),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                items.into_iter().next().map_or(Value::Null, |(_, v)| v)
            };
            self.vals_mut(&inst).resources.insert(res.key(), agg);
        }
    }

    /// The resources a node depends on, through locals, variables, outputs
    /// and module calls, as state's `dependencies` lists them.
    /// Resources (by [`config_address`]) that `id` depends on, directly or
    /// through locals, variables and outputs.
    fn dependencies_of(&self, id: &NodeId) -> Vec<String> {
        let mut out = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut stack = self.cfg.graph.deps(id);
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            match &n.kind {
                Kind::Resource(k) => {
                    let prefix: String = n.module.iter().map(|m| format!("module.{m}.")).collect();
                    out.insert(format!("{prefix}{k}"));
                }
                Kind::Provider(_) => {}
                _ => stack.extend(self.cfg.graph.deps(&n)),
            }
        }
        out.into_iter().collect()
    }

    /// True when a resource named in `replace_triggered_by` has a planned
    /// update or replacement in this module instance.
    fn replace_triggered(&self, inst: &ModulePath, res: &Resource) -> bool {
        for e in &res.lifecycle.replace_triggered_by {
            for r in crate::eval::references(&e.expr) {
                let Root::Resource {
                    mode,
                    type_name,
                    name,
                } = &r.root
                else {
                    continue;
                };
                let triggered = self.changes.values().any(|c| {
                    &c.addr.resource.module == inst
                        && c.addr.resource.mode == *mode
                        && &c.addr.resource.type_name == type_name
                        && &c.addr.resource.name == name
                        && matches!(
                            c.action,
                            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
                        )
                });
                if triggered {
                    return true;
                }
            }
        }
        false
    }

    fn finish_resource(&mut self, r: NodeResult, apply: Option<&ApplyCtx>) {
        let Kind::Resource(key) = &r.id.kind else {
            return;
        };
        let node = self.node(&r.id.module);
        let Some(res) = node.module.resources.get(key) else {
            return;
        };
        let mut values: HashMap<InstanceAddr, Value> = HashMap::new();
        for (addr, outcome) in r.results {
            match outcome {
                Err(msg) => {
                    if let Some(ctx) = apply {
                        ctx.progress.report(ProgressEvent::Failed {
                            addr: addr.clone(),
                            op: Op::Create,
                            error: msg.clone(),
                        });
                    }
                    self.errors.push(res.loc.error(format!("{addr}: {msg}")));
                }
                Ok(InstanceOutcome::Planned {
                    mut change,
                    refreshed,
                    value,
                }) => {
                    if let Some(new) = refreshed {
                        self.note_refresh(&addr, new);
                    }
                    change.importing = self.importing.get(&addr).cloned();
                    change.moved_from = self.moved.get(&addr).cloned();
                    values.insert(addr.clone(), value);
                    self.changes.insert(addr, *change);
                }
                Ok(InstanceOutcome::Applied { value }) => {
                    values.insert(addr, value.unwrap_or(Value::Null));
                }
            }
        }
        for (inst, exp) in r.exps {
            let raddr = ResourceAddr {
                module: inst.clone(),
                mode: res.mode,
                type_name: res.type_name.clone(),
                name: res.name.clone(),
            };
            let get = |k: Key| {
                values
                    .get(&raddr.instance(k))
                    .cloned()
                    .unwrap_or(Value::Unknown(Type::Any))
            };
            let agg = match &exp {
                Expansion::Single => get(Key::None),
                Expansion::Count(n) => Value::Tuple((0..*n).map(|i| get(Key::Int(i))).collect()),
                Expansion::ForEach(m) => Value::Object(
                    m.keys()
                        .map(|k| (k.clone(), get(Key::Str(k.clone()))))
                        .collect(),
                ),
            };
            self.vals_mut(&inst).resources.insert(res.key(), agg);
        }
    }

    /// Records what a refresh found: the new prior value, or the instance's
    /// disappearance, and the drift either way.
    fn note_refresh(&mut self, addr: &InstanceAddr, new: Option<Value>) {
        let Some(obj) = self.world.instances.get(addr).cloned() else {
            return;
        };
        match new {
            Some(v) => {
                if !obj.value.equals(&v) {
                    self.drift.push(Change::new(
                        addr.clone(),
                        Action::Update,
                        Some(obj.value.clone()),
                        Some(v.clone()),
                        obj.provider.clone(),
                    ));
                }
                if let Some(o) = self.world.instances.get_mut(addr) {
                    o.value = v;
                }
            }
            None => {
                self.drift.push(Change::new(
                    addr.clone(),
                    Action::Delete,
                    Some(obj.value.clone()),
                    None,
                    obj.provider.clone(),
                ));
                self.world.instances.remove(addr);
            }
        }
    }

    /// Plans deletes for instances in the prior world that the
    /// configuration no longer has.
    async fn orphans(&mut self) {
        let orphans: Vec<(InstanceAddr, InstanceObj)> = self
            .world
            .instances
            .iter()
            .filter(|(a, _)| !self.changes.contains_key(*a))
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (addr, obj) in orphans {
            if addr.resource.mode == Mode::Data {
                // Data sources leave the state without a planned action.
                self.world.instances.remove(&addr);
                continue;
            }
            if !self.targeted(&addr) {
                continue;
            }
            let static_path: Vec<String> = addr
                .resource
                .module
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let node_id = NodeId {
                module: static_path.clone(),
                kind: Kind::Resource(addr.resource.local()),
            };
            if self.failed.contains(&node_id) {
                continue;
            }
            let mut before = obj.value.clone();
            if self.refresh
                && let Some(pc) = self.provider_addr_from_string(&obj.provider)
                && let Ok(p) = self.provider(&pc).await
            {
                match p.read(&addr.resource.type_name, &obj.value).await {
                    Ok(Some(v)) => {
                        before = v.clone();
                        self.note_refresh(&addr, Some(v));
                    }
                    Ok(None) => {
                        self.note_refresh(&addr, None);
                        continue;
                    }
                    Err(e) => {
                        self.errors.push(Diagnostic::error(
                            "",
                            format!("{addr}: error refreshing: {e}"),
                        ));
                        continue;
                    }
                }
            }
            let module_exists = self.cfg.tree.find(&static_path).is_some()
                && self
                    .instances
                    .get(&static_path)
                    .is_some_and(|v| v.contains(&addr.resource.module));
            let reason = if !module_exists {
                format!(
                    "because {} is not in configuration",
                    module_path_string(&addr.resource.module)
                )
            } else if self
                .node(&static_path)
                .module
                .resources
                .contains_key(&addr.resource.local())
            {
                match &addr.key {
                    Key::Int(i) => format!("because index [{i}] is out of range for count"),
                    Key::Str(s) => format!("because key [{s:?}] is not in for_each map"),
                    Key::None => "because the resource now uses count or for_each".to_owned(),
                }
            } else {
                format!("because {} is not in configuration", addr.resource)
            };
            self.changes.insert(
                addr.clone(),
                Change {
                    reason: Some(reason),
                    ..Change::new(
                        addr.clone(),
                        Action::Delete,
                        Some(before),
                        None,
                        obj.provider.clone(),
                    )
                },
            );
        }
    }

    /// Plans the destroy of every deposed object (refreshed first: one
    /// that is gone leaves the state without a planned action).
    async fn plan_deposed(&mut self) {
        let items: Vec<((InstanceAddr, String), InstanceObj)> = self
            .world
            .deposed
            .iter()
            .filter(|((a, _), _)| self.targeted(a))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        for ((addr, key), obj) in items {
            let mut before = obj.value.clone();
            if self.refresh {
                let Some(pc) = self.provider_addr_from_string(&obj.provider) else {
                    self.errors.push(Diagnostic::error(
                        "",
                        format!(
                            "{addr} (deposed object {key}): invalid provider address {:?} in state",
                            obj.provider
                        ),
                    ));
                    continue;
                };
                let p = match self.provider(&pc).await {
                    Ok(p) => p,
                    Err(d) => {
                        self.errors.push(d);
                        continue;
                    }
                };
                match p.read(&addr.resource.type_name, &obj.value).await {
                    Ok(Some(v)) => {
                        before = v.clone();
                        if let Some(o) = self.world.deposed.get_mut(&(addr.clone(), key.clone())) {
                            o.value = v;
                        }
                    }
                    Ok(None) => {
                        self.world.deposed.remove(&(addr.clone(), key.clone()));
                        continue;
                    }
                    Err(e) => {
                        self.errors.push(Diagnostic::error(
                            "",
                            format!("{addr} (deposed object {key}): error refreshing: {e}"),
                        ));
                        continue;
                    }
                }
            }
            let mut c = Change::new(
                addr.clone(),
                Action::Delete,
                Some(before),
                None,
                obj.provider.clone(),
            );
            c.deposed = Some(key);
            self.deposed_changes.push(c);
        }
    }

    /// Refreshes every managed instance (destroy plans), in parallel.
    async fn refresh_all(&mut self) {
        if !self.refresh {
            return;
        }
        let mut set = JoinSet::new();
        let sem = Arc::new(Semaphore::new(self.parallelism));
        let items: Vec<(InstanceAddr, InstanceObj)> = self
            .world
            .instances
            .iter()
            .filter(|(a, _)| a.resource.mode == Mode::Managed)
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (addr, obj) in items {
            let Some(pc) = self.provider_addr_from_string(&obj.provider) else {
                continue;
            };
            let p = match self.provider(&pc).await {
                Ok(p) => p,
                Err(d) => {
                    self.errors.push(d);
                    continue;
                }
            };
            let sem = sem.clone();
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = p.read(&addr.resource.type_name, &obj.value).await;
                (addr, r)
            });
        }
        while let Some(r) = set.join_next().await {
            match r {
                Ok((addr, Ok(v))) => self.note_refresh(&addr, v),
                Ok((addr, Err(e))) => self.errors.push(Diagnostic::error(
                    "",
                    format!("{addr}: error refreshing: {e}"),
                )),
                Err(e) => self
                    .errors
                    .push(Diagnostic::error("", format!("internal error: {e}"))),
            }
        }
    }

    /// Deletes instances, each after every instance that depends on it.
    ///
    /// Runs in rounds: a round deletes, in parallel, every instance of the
    /// resources that no remaining instance of another resource depends on.
    /// Linear in the number of deletes plus their dependency lists: each
    /// resource keeps a count of the remaining instances (of other resources)
    /// that depend on it, decremented as they go.
    async fn delete_ordered(&mut self, deletes: &[Change], ctx: &ApplyCtx) {
        let static_name = |a: &InstanceAddr| -> String {
            let prefix: String = a
                .resource
                .module
                .iter()
                .map(|m| format!("module.{}.", m.name))
                .collect();
            format!("{prefix}{}", a.resource.local())
        };
        // Resource names, densely numbered, and each delete's resource.
        let mut ids: HashMap<String, usize> = HashMap::new();
        let names: Vec<usize> = deletes
            .iter()
            .map(|c| {
                let n = ids.len();
                *ids.entry(static_name(&c.addr)).or_insert(n)
            })
            .collect();
        // For each delete, the other resources (among those being deleted)
        // that it depends on; for each resource, how many remaining deletes
        // depend on it.
        let depends_on: Vec<Vec<usize>> = deletes
            .iter()
            .zip(&names)
            .map(|(c, &me)| {
                let obj = match &c.deposed {
                    Some(key) => self.world.deposed.get(&(c.addr.clone(), key.clone())),
                    None => self.world.instances.get(&c.addr),
                };
                let mut d: Vec<usize> = obj
                    .map(|o| {
                        o.dependencies
                            .iter()
                            .filter_map(|dep| ids.get(dep).copied())
                            .filter(|&r| r != me)
                            .collect()
                    })
                    .unwrap_or_default();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        let mut blockers = vec![0usize; ids.len()];
        for d in &depends_on {
            for &r in d {
                blockers[r] += 1;
            }
        }
        let mut remaining: Vec<usize> = (0..deletes.len()).collect();
        while !remaining.is_empty() {
            // Ready: nothing else still to be deleted depends on it.
            let (mut ready, mut blocked): (Vec<usize>, Vec<usize>) =
                remaining.iter().partition(|&&i| blockers[names[i]] == 0);
            // A dependency cycle in old state: delete the rest together.
            if ready.is_empty() {
                std::mem::swap(&mut ready, &mut blocked);
            }
            for &i in &ready {
                for &r in &depends_on[i] {
                    blockers[r] -= 1;
                }
            }
            let ready: Vec<Change> = ready.into_iter().map(|i| deletes[i].clone()).collect();
            let mut set = JoinSet::new();
            for c in ready {
                let Some(pc) = self.provider_addr_from_string(&c.provider) else {
                    self.errors.push(Diagnostic::error(
                        "",
                        format!(
                            "{}: invalid provider address {:?} in state",
                            c.addr, c.provider
                        ),
                    ));
                    continue;
                };
                let p = match self.provider(&pc).await {
                    Ok(p) => p,
                    Err(d) => {
                        self.errors.push(d);
                        continue;
                    }
                };
                let ctx = ctx.clone();
                set.spawn(async move {
                    let _permit = ctx.semaphore.clone().acquire_owned().await;
                    let addr = c.addr.clone();
                    let r = delete_one(&*p, &c, &ctx).await;
                    (addr, r)
                });
            }
            let mut failed = false;
            while let Some(r) = set.join_next().await {
                match r {
                    Ok((_, Ok(()))) => {}
                    Ok((addr, Err(e))) => {
                        failed = true;
                        self.errors
                            .push(Diagnostic::error("", format!("{addr}: {e}")));
                    }
                    Err(e) => {
                        failed = true;
                        self.errors
                            .push(Diagnostic::error("", format!("internal error: {e}")));
                    }
                }
            }
            if failed {
                // What depends on a failed delete stays.
                return;
            }
            remaining = blocked;
        }
    }
}

fn same_resource(a: &ResourceAddr, b: &ResourceAddr) -> bool {
    a.mode == b.mode
        && a.type_name == b.type_name
        && a.name == b.name
        && a.module.len() == b.module.len()
        && a.module
            .iter()
            .zip(&b.module)
            .all(|(x, y)| x.name == y.name && (x.key == Key::None || x.key == y.key))
}

async fn delete_one(p: &dyn Provider, c: &Change, ctx: &ApplyCtx) -> Result<(), String> {
    let Some(before) = &c.before else {
        return Ok(());
    };
    let start = Instant::now();
    ctx.progress.report(ProgressEvent::Start {
        addr: c.addr.clone(),
        op: Op::Destroy,
    });
    let req = ApplyRequest {
        type_name: &c.addr.resource.type_name,
        prior: Some(before),
        planned: None,
        config: &Value::Null,
    };
    match p.apply(req).await {
        Ok(_) => {
            ctx.persister.update(|w| match &c.deposed {
                Some(key) => w.deposed.remove(&(c.addr.clone(), key.clone())).is_some(),
                None => w.instances.remove(&c.addr).is_some(),
            });
            ctx.progress.report(ProgressEvent::Done {
                addr: c.addr.clone(),
                op: Op::Destroy,
                elapsed: start.elapsed(),
                id: None,
            });
            Ok(())
        }
        Err(e) => {
            let msg = e.to_string();
            ctx.progress.report(ProgressEvent::Failed {
                addr: c.addr.clone(),
                op: Op::Destroy,
                error: msg.clone(),
            });
            Err(msg)
        }
    }
}

/// One instance's work for a provider.
struct Job {
    addr: InstanceAddr,
    mode: Mode,
    type_name: String,
    config: Value,
    prior: Option<InstanceObj>,
    /// Why replacement is forced (`-replace`, tainted, replace_triggered_by).
    forced: Option<String>,
    cbd: bool,
    prevent_destroy: bool,
    ignore: IgnoreChanges,
    provider_str: String,
    deps: Vec<String>,
    refresh: bool,
    /// Apply: the change the plan decided.
    planned: Option<Change>,
    /// False for instances outside `-target`: they keep their prior value.
    targeted: bool,
    /// Data sources: a resource this one depends on has changes pending,
    /// so the read waits for the apply.
    deps_pending: bool,
}

impl Job {
    fn change(&self, action: Action, before: Option<Value>, after: Option<Value>) -> Change {
        Change::new(
            self.addr.clone(),
            action,
            before,
            after,
            self.provider_str.clone(),
        )
    }
}

async fn plan_job(p: &dyn Provider, schema: &Schema, job: Job) -> Result<InstanceOutcome, String> {
    let prior_value = job.prior.as_ref().map(|o| o.value.clone());
    if !job.targeted {
        let v = prior_value.clone().unwrap_or(Value::Null);
        return Ok(InstanceOutcome::Planned {
            change: Box::new(job.change(Action::NoOp, prior_value.clone(), prior_value)),
            refreshed: None,
            value: v,
        });
    }
    if job.mode == Mode::Data {
        if job.config.is_wholly_known() && !job.deps_pending {
            let v = p
                .read_data(&job.type_name, &job.config)
                .await
                .map_err(|e| e.to_string())?;
            let v = mark_schema_sensitive(schema, conform(schema, v));
            return Ok(InstanceOutcome::Planned {
                change: Box::new(job.change(Action::NoOp, Some(v.clone()), Some(v.clone()))),
                refreshed: None,
                value: v,
            });
        }
        let after = mark_schema_sensitive(schema, default_proposed(schema, None, &job.config));
        let mut change = job.change(Action::Read, None, Some(after.clone()));
        change.reason = Some(if job.config.is_wholly_known() {
            "depends on a resource or a module with changes pending".into()
        } else {
            "config refers to values not yet known".into()
        });
        return Ok(InstanceOutcome::Planned {
            change: Box::new(change),
            refreshed: None,
            value: after,
        });
    }
    let mut refreshed = None;
    let mut prior = prior_value;
    if job.refresh
        && let Some(pv) = &prior
    {
        let v = p
            .read(&job.type_name, pv)
            .await
            .map_err(|e| format!("error refreshing state: {e}"))?;
        let v = v.map(|v| mark_schema_sensitive(schema, conform(schema, v)));
        refreshed = Some(v.clone());
        prior = v;
    }
    let config = match &prior {
        Some(pv) => ignore_changes(&job.config, pv, &job.ignore),
        None => job.config.clone(),
    };
    let Some(pv) = prior else {
        let after = plan_create(p, schema, &job.type_name, &config).await?;
        return Ok(InstanceOutcome::Planned {
            change: Box::new(job.change(Action::Create, None, Some(after.clone()))),
            refreshed,
            value: after,
        });
    };
    let proposed = default_proposed(schema, Some(&pv), &config);
    let resp = p
        .plan(PlanRequest {
            type_name: &job.type_name,
            prior: Some(&pv),
            config: &config,
            proposed: &proposed,
        })
        .await
        .map_err(|e| e.to_string())?;
    let planned = mark_schema_sensitive(schema, conform(schema, resp.planned));
    let changed = diff_paths(&pv, &planned);
    let mut replace_paths: Vec<Vec<PathStep>> = changed
        .iter()
        .filter(|path| forces_new(schema, path))
        .cloned()
        .collect();
    for extra in resp.requires_replace {
        if changed
            .iter()
            .any(|c| extra.starts_with(c) || c.starts_with(&extra))
            && !replace_paths.contains(&extra)
        {
            replace_paths.push(extra);
        }
    }
    if job.forced.is_some() || !replace_paths.is_empty() {
        if job.prevent_destroy {
            return Err(format!(
                "instance cannot be destroyed: resource {} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed; to avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag",
                job.addr
            ));
        }
        let after = plan_create(p, schema, &job.type_name, &config).await?;
        // A tainted object goes first even under create_before_destroy: it
        // never finished being created (a failed or interrupted create), so
        // nothing relies on it staying up, and it may well be the very
        // object its replacement would make (same file, same name), which
        // destroying it afterwards would take away again.
        let tainted = job.prior.as_ref().is_some_and(|o| o.tainted);
        let action = if job.cbd && !tainted {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        let mut change = job.change(action, Some(pv), Some(after.clone()));
        change.replace_paths = replace_paths;
        change.reason = job.forced.clone();
        return Ok(InstanceOutcome::Planned {
            change: Box::new(change),
            refreshed,
            value: after,
        });
    }
    if changed.is_empty() {
        return Ok(InstanceOutcome::Planned {
            change: Box::new(job.change(Action::NoOp, Some(pv.clone()), Some(pv.clone()))),
            refreshed,
            value: pv,
        });
    }
    Ok(InstanceOutcome::Planned {
        change: Box::new(job.change(Action::Update, Some(pv), Some(planned.clone()))),
        refreshed,
        value: planned,
    })
}

async fn plan_create(
    p: &dyn Provider,
    schema: &Schema,
    type_name: &str,
    config: &Value,
) -> Result<Value, String> {
    let proposed = default_proposed(schema, None, config);
    let resp = p
        .plan(PlanRequest {
            type_name,
            prior: None,
            config,
            proposed: &proposed,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(mark_schema_sensitive(schema, conform(schema, resp.planned)))
}

async fn apply_job(
    p: &dyn Provider,
    schema: &Schema,
    job: Job,
    ctx: &ApplyCtx,
) -> Result<InstanceOutcome, String> {
    let action = job.planned.as_ref().map_or(Action::NoOp, |c| c.action);
    let prior_value = job.prior.as_ref().map(|o| o.value.clone());
    match action {
        Action::NoOp => {
            let planned_after = || job.planned.as_ref().and_then(|c| c.after.clone());
            // A data source read at plan time has its new value there; the
            // state may still hold what an earlier configuration read.
            let v = if job.mode == Mode::Data {
                planned_after().or(prior_value)
            } else {
                prior_value.or_else(planned_after)
            };
            if job.mode == Mode::Data
                && let Some(v) = &v
            {
                // Data read at plan time enters the state now.
                let obj = new_obj(&job, schema, v.clone());
                ctx.persister.update(|w| put(w, &job.addr, obj));
            }
            Ok(InstanceOutcome::Applied { value: v })
        }
        Action::Read => {
            let start = Instant::now();
            ctx.progress.report(ProgressEvent::Start {
                addr: job.addr.clone(),
                op: Op::Read,
            });
            let v = p
                .read_data(&job.type_name, &job.config)
                .await
                .map_err(|e| e.to_string())?;
            let v = mark_schema_sensitive(schema, conform(schema, v));
            let obj = new_obj(&job, schema, v.clone());
            ctx.persister.update(|w| put(w, &job.addr, obj));
            ctx.progress.report(ProgressEvent::Done {
                addr: job.addr.clone(),
                op: Op::Read,
                elapsed: start.elapsed(),
                id: id_of(&v),
            });
            Ok(InstanceOutcome::Applied { value: Some(v) })
        }
        Action::Delete => Ok(InstanceOutcome::Applied { value: None }),
        Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => {
            let before = job.planned.as_ref().and_then(|c| c.before.clone());
            if action == Action::DeleteThenCreate
                && let Some(b) = &before
            {
                let change = job.change(Action::Delete, Some(b.clone()), None);
                delete_one(p, &change, ctx).await?;
            }
            let prior = if action == Action::Update {
                prior_value
            } else {
                None
            };
            // create_before_destroy: the current object steps aside as a
            // deposed object before its replacement is created, so the
            // state accounts for both until the old one is destroyed.
            let deposed_key = if action == Action::CreateThenDelete && before.is_some() {
                let mut key = None;
                ctx.persister.update(|w| {
                    key = w.depose(&job.addr);
                    key.is_some()
                });
                ctx.persister
                    .flush()
                    .await
                    .map_err(|e| format!("failed to persist state: {e}"))?;
                key
            } else {
                None
            };
            let op = if action == Action::Update {
                Op::Modify
            } else {
                Op::Create
            };
            let start = Instant::now();
            ctx.progress.report(ProgressEvent::Start {
                addr: job.addr.clone(),
                op,
            });
            let config = match &prior {
                Some(pv) => ignore_changes(&job.config, pv, &job.ignore),
                None => job.config.clone(),
            };
            let result = create_or_update(p, schema, &job, prior.as_ref(), &config, ctx).await;
            let v = match result {
                Ok(v) => v,
                Err(e) => {
                    if let Some(key) = &deposed_key {
                        // Nothing new took the old object's place: it is
                        // current again (a tainted intent record of an
                        // external object stays, and the old object with
                        // it as deposed).
                        ctx.persister.update(|w| {
                            if !w.instances.contains_key(&job.addr)
                                && let Some(o) = w.deposed.remove(&(job.addr.clone(), key.clone()))
                            {
                                w.instances.insert(job.addr.clone(), o);
                                return true;
                            }
                            false
                        });
                    }
                    ctx.progress.report(ProgressEvent::Failed {
                        addr: job.addr.clone(),
                        op,
                        error: e.clone(),
                    });
                    return Err(e);
                }
            };
            // The new object is in the state (and reported) before the old
            // one of a create_before_destroy replacement is destroyed.
            let obj = new_obj(&job, schema, v.clone());
            ctx.persister.update(|w| put(w, &job.addr, obj));
            ctx.progress.report(ProgressEvent::Done {
                addr: job.addr.clone(),
                op,
                elapsed: start.elapsed(),
                id: id_of(&v),
            });
            if action == Action::CreateThenDelete
                && let Some(b) = &before
            {
                let req = ApplyRequest {
                    type_name: &job.type_name,
                    prior: Some(b),
                    planned: None,
                    config: &Value::Null,
                };
                ctx.progress.report(ProgressEvent::Start {
                    addr: job.addr.clone(),
                    op: Op::Destroy,
                });
                let t = Instant::now();
                if let Err(e) = p.apply(req).await {
                    ctx.progress.report(ProgressEvent::Failed {
                        addr: job.addr.clone(),
                        op: Op::Destroy,
                        error: e.to_string(),
                    });
                    // The old object stays in the state as deposed; the
                    // next plan destroys it.
                    return Err(format!(
                        "the replacement was created, but destroying the previous object (id {}, now deposed object {}) failed: {e}",
                        id_of(b).unwrap_or_default(),
                        deposed_key.as_deref().unwrap_or("-")
                    ));
                }
                if let Some(key) = &deposed_key {
                    ctx.persister
                        .update(|w| w.deposed.remove(&(job.addr.clone(), key.clone())).is_some());
                }
                ctx.progress.report(ProgressEvent::Done {
                    addr: job.addr.clone(),
                    op: Op::Destroy,
                    elapsed: t.elapsed(),
                    id: None,
                });
            }
            Ok(InstanceOutcome::Applied { value: Some(v) })
        }
    }
}

async fn create_or_update(
    p: &dyn Provider,
    schema: &Schema,
    job: &Job,
    prior: Option<&Value>,
    config: &Value,
    ctx: &ApplyCtx,
) -> Result<Value, String> {
    let proposed = default_proposed(schema, prior, config);
    let resp = p
        .plan(PlanRequest {
            type_name: &job.type_name,
            prior,
            config,
            proposed: &proposed,
        })
        .await
        .map_err(|e| e.to_string())?;
    let planned = conform(schema, resp.planned);
    if prior.is_none() && p.external_objects(&job.type_name) {
        // Record the instance (tainted, with what is known of it) before
        // it exists, so a crash during the create leaves it in the state;
        // the next plan refreshes and replaces it.
        let mut obj = new_obj(job, schema, unknown_to_null(&planned));
        obj.tainted = true;
        ctx.persister.update(|w| put(w, &job.addr, obj));
        ctx.persister
            .flush()
            .await
            .map_err(|e| format!("failed to persist state: {e}"))?;
    }
    let new = p
        .apply(ApplyRequest {
            type_name: &job.type_name,
            prior,
            planned: Some(&planned),
            config,
        })
        .await
        .map_err(|e| e.to_string())?;
    let Some(v) = new else {
        return Err(
            "provider produced an invalid result: the object is missing after apply".into(),
        );
    };
    let v = conform(schema, v);
    if !v.is_wholly_known() {
        return Err(
            "provider produced an invalid result: the applied object has unknown values".into(),
        );
    }
    Ok(mark_schema_sensitive(schema, v))
}

fn new_obj(job: &Job, schema: &Schema, value: Value) -> InstanceObj {
    InstanceObj {
        value,
        provider: job.provider_str.clone(),
        schema_version: schema.version,
        dependencies: job.deps.clone(),
        create_before_destroy: job.cbd,
        tainted: false,
    }
}

fn id_of(v: &Value) -> Option<String> {
    v.get_attr("id").and_then(|id| {
        if id.is_sensitive() {
            None
        } else {
            id.to_template_string()
        }
    })
}

fn unknown_to_null(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::Sensitive(x) => unknown_to_null(x).mark(),
        Value::List(xs) => Value::List(xs.iter().map(unknown_to_null).collect()),
        Value::Set(xs) => Value::Set(xs.iter().map(unknown_to_null).collect()),
        Value::Tuple(xs) => Value::Tuple(xs.iter().map(unknown_to_null).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), unknown_to_null(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), unknown_to_null(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Shapes a provider's value as the schema's object type (so state read
/// back compares equal to what was planned).
fn conform(schema: &Schema, v: Value) -> Value {
    v.convert(&schema.object_type()).unwrap_or(v)
}

/// Marks the schema's sensitive attributes, through nested blocks.
pub(crate) fn mark_schema_sensitive(schema: &Schema, v: Value) -> Value {
    let (inner, marked) = v.unmark();
    let out = match inner {
        Value::Object(mut m) => {
            for (name, a) in &schema.attributes {
                if a.sensitive
                    && let Some(x) = m.remove(name)
                {
                    m.insert(name.clone(), if x.is_null() { x } else { x.mark() });
                }
            }
            for (name, b) in &schema.blocks {
                if let Some(x) = m.remove(name) {
                    let x = match x {
                        Value::List(xs) => Value::List(
                            xs.into_iter()
                                .map(|x| mark_schema_sensitive(&b.schema, x))
                                .collect(),
                        ),
                        Value::Set(xs) => Value::Set(
                            xs.into_iter()
                                .map(|x| mark_schema_sensitive(&b.schema, x))
                                .collect(),
                        ),
                        Value::Object(_) => mark_schema_sensitive(&b.schema, x),
                        other => other,
                    };
                    m.insert(name.clone(), x);
                }
            }
            Value::Object(m)
        }
        other => other,
    };
    out.mark_if(marked)
}

/// An object of the schema's type with every attribute null and every
/// repeated block empty.
fn null_object(schema: &Schema) -> Value {
    let mut m = BTreeMap::new();
    for name in schema.attributes.keys() {
        m.insert(name.clone(), Value::Null);
    }
    for (name, b) in &schema.blocks {
        m.insert(
            name.clone(),
            match b.nesting {
                crate::provider::Nesting::Single => Value::Null,
                crate::provider::Nesting::List => Value::List(Vec::new()),
                crate::provider::Nesting::Set => Value::Set(Vec::new()),
            },
        );
    }
    Value::Object(m)
}

/// The top-level attribute paths whose values differ (an unknown planned
/// value always differs).
fn diff_paths(before: &Value, after: &Value) -> Vec<Vec<PathStep>> {
    let (Some(b), Some(a)) = (before.as_map(), after.as_map()) else {
        return if values_equal(before, after) {
            Vec::new()
        } else {
            vec![Vec::new()]
        };
    };
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| {
            let x = b.get(*k).unwrap_or(&Value::Null);
            let y = a.get(*k).unwrap_or(&Value::Null);
            !values_equal(x, y)
        })
        .map(|k| vec![PathStep::Attr(k.clone())])
        .collect()
}

fn values_equal(a: &Value, b: &Value) -> bool {
    // The state keeps dynamic (`any`) attributes as plain JSON, so a set
    // or an object read back is a tuple or a map: equal JSON is equal.
    a.is_wholly_known() && b.is_wholly_known() && (a.equals(b) || a.to_json() == b.to_json())
}

fn forces_new(schema: &Schema, path: &[PathStep]) -> bool {
    match path.first() {
        Some(PathStep::Attr(name)) => {
            schema.attributes.get(name).is_some_and(|a| a.force_new)
                || schema.blocks.get(name).is_some_and(|b| b.force_new)
        }
        _ => false,
    }
}

/// `lifecycle.ignore_changes`: the prior values replace the configured ones
/// at the ignored paths.
fn ignore_changes(config: &Value, prior: &Value, ignore: &IgnoreChanges) -> Value {
    match ignore {
        IgnoreChanges::None => config.clone(),
        IgnoreChanges::All => {
            let (Some(c), Some(p)) = (config.as_map(), prior.as_map()) else {
                return config.clone();
            };
            let mut out = c.clone();
            for (k, v) in out.iter_mut() {
                if let Some(pv) = p.get(k) {
                    *v = pv.clone();
                }
            }
            Value::Object(out)
        }
        IgnoreChanges::Paths(paths) => {
            let mut out = config.clone();
            for path in paths {
                if let Some(pv) = get_path(prior, path) {
                    set_path(&mut out, path, pv);
                }
            }
            out
        }
    }
}

fn get_path(v: &Value, path: &[PathStep]) -> Option<Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v.clone());
    };
    let next = match (first, v.unmarked()) {
        (PathStep::Attr(k) | PathStep::Key(k), Value::Object(m) | Value::Map(m)) => {
            m.get(k)?.clone()
        }
        (PathStep::Index(i), Value::List(xs) | Value::Tuple(xs)) => {
            xs.get(usize::try_from(*i).ok()?)?.clone()
        }
        _ => return None,
    };
    get_path(&next, rest)
}

fn set_path(v: &mut Value, path: &[PathStep], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    match (first, v) {
        (PathStep::Attr(k) | PathStep::Key(k), Value::Object(m) | Value::Map(m)) => {
            if let Some(x) = m.get_mut(k) {
                set_path(x, rest, new);
            } else if rest.is_empty() {
                m.insert(k.clone(), new);
            }
        }
        (PathStep::Index(i), Value::List(xs) | Value::Tuple(xs)) => {
            if let Some(x) = usize::try_from(*i).ok().and_then(|i| xs.get_mut(i)) {
                set_path(x, rest, new);
            }
        }
        (_, Value::Sensitive(x)) => set_path(x, path, new),
        _ => {}
    }
}

/// The source text of an expression (for address-like expressions in
/// `moved` and `import` blocks).
fn expr_text(e: &Expr) -> Option<String> {
    let r = expr_range(e)?;
    e.src.slice(&r).map(|s| s.trim().to_owned())
}

fn expr_range(e: &Expr) -> Option<std::ops::Range<usize>> {
    use hcl_edit::Span;
    e.expr.span()
}

fn moved_addr(a: &InstanceAddr, from: &super::Target, to: &super::Target) -> Option<InstanceAddr> {
    use super::Target as T;
    match (from, to) {
        (T::Resource(r1), T::Resource(r2)) if &a.resource == r1 => Some(r2.instance(a.key.clone())),
        (T::Resource(r1), T::Instance(i2)) if *a == r1.instance(Key::None) => Some(i2.clone()),
        (T::Instance(i1), T::Instance(i2)) if a == i1 => Some(i2.clone()),
        (T::Instance(i1), T::Resource(r2)) if a == i1 => Some(r2.instance(Key::None)),
        (T::Module(m1), T::Module(m2)) if a.resource.module.starts_with(m1) => {
            let mut module = m2.clone();
            module.extend(a.resource.module[m1.len()..].iter().cloned());
            Some(InstanceAddr {
                resource: ResourceAddr {
                    module,
                    ..a.resource.clone()
                },
                key: a.key.clone(),
            })
        }
        _ => None,
    }
}

/// Resource nodes selected by `-target`, plus everything they depend on.
fn included_nodes(cfg: &Config, targets: &[super::Target]) -> HashSet<NodeId> {
    use super::Target as T;
    let mut out = HashSet::new();
    let mut stack: Vec<NodeId> = Vec::new();
    for id in cfg.graph.index.keys() {
        let Kind::Resource(key) = &id.kind else {
            continue;
        };
        let hit = targets.iter().any(|t| {
            let names = |m: &ModulePath| m.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
            match t {
                T::Module(m) => id.module.starts_with(&names(m)),
                T::Resource(r) => id.module == names(&r.module) && &r.local() == key,
                T::Instance(i) => {
                    id.module == names(&i.resource.module) && &i.resource.local() == key
                }
            }
        });
        if hit {
            stack.push(id.clone());
        }
    }
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if matches!(n.kind, Kind::Resource(_)) {
            out.insert(n.clone());
        }
        stack.extend(cfg.graph.deps(&n));
    }
    out
}

/// Names as one module instance sees them.
struct InstScope<'s, 'c> {
    w: &'s Walker<'c>,
    module: &'s ModulePath,
    rep: Rep,
    self_value: Option<Value>,
}

impl Scope for InstScope<'_, '_> {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        let vals = self.w.vals.get(self.module);
        match root {
            Root::Var(n) => vals
                .and_then(|v| v.vars.get(n).cloned())
                .ok_or_else(|| format!("reference to undeclared input variable: an input variable with the name {n:?} has not been declared")),
            Root::Local(n) => vals
                .and_then(|v| v.locals.get(n).cloned())
                .ok_or_else(|| format!("reference to undeclared local value: a local value with the name {n:?} has not been declared")),
            Root::Module(n) => Ok(self.w.module_value(self.module, n)),
            Root::Resource { mode, type_name, name } => {
                let key = match mode {
                    Mode::Managed => format!("{type_name}.{name}"),
                    Mode::Data => format!("data.{type_name}.{name}"),
                };
                Ok(vals
                    .and_then(|v| v.resources.get(&key).cloned())
                    .unwrap_or(Value::Unknown(Type::Any)))
            }
            Root::CountIndex => self.rep.count.map(Value::from).ok_or_else(|| {
                "reference to \"count\" in non-counted context: the \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set".to_owned()
            }),
            Root::EachKey => self.rep.each.as_ref().map(|(k, _)| k.clone()).ok_or_else(|| {
                "reference to \"each\" in context without for_each: the \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set".to_owned()
            }),
            Root::EachValue => self.rep.each.as_ref().map(|(_, v)| v.clone()).ok_or_else(|| {
                "reference to \"each\" in context without for_each: the \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set".to_owned()
            }),
            Root::Path(p) => {
                let static_path: Vec<String> = self.module.iter().map(|s| s.name.clone()).collect();
                let dir = match p.as_str() {
                    "module" => self.w.module_dir(&static_path),
                    "root" => self.w.cfg.dir.clone(),
                    "cwd" => std::env::current_dir().map_err(|e| format!("path.cwd: {e}"))?,
                    other => return Err(format!("unsupported attribute: the \"path\" object does not have an attribute named {other:?}")),
                };
                Ok(Value::String(path_string(&dir)))
            }
            Root::Workspace => Ok(Value::String(self.w.workspace.clone())),
            Root::SelfRef => self
                .self_value
                .clone()
                .ok_or_else(|| "invalid \"self\" reference: the \"self\" object is not available in this context".to_owned()),
        }
    }
}

/// The resource's address without instance keys (`module.m.type.name`), as
/// [`Walker::dependencies_of`] names it.
fn config_address(addr: &InstanceAddr) -> String {
    let prefix: String = addr
        .resource
        .module
        .iter()
        .map(|m| format!("module.{}.", m.name))
        .collect();
    format!("{prefix}{}", addr.resource.local())
}

/// `path.module` and friends, cleaned as Terraform shows them:
/// `modules/x` rather than `././modules/x`, `.` for the root.
fn path_string(p: &Path) -> String {
    let clean: PathBuf = p
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let s = clean.to_string_lossy().into_owned();
    if s.is_empty() { ".".into() } else { s }
}

impl Walker<'_> {
    /// The value of `module.NAME` as seen from module instance `module`.
    fn module_value(&self, module: &ModulePath, call: &str) -> Value {
        let Some(exp) = self.call_kind.get(&(module.clone(), call.to_owned())) else {
            return Value::Unknown(Type::Any);
        };
        let outputs = |key: Key| -> Value {
            let mut child = module.clone();
            child.push(ModuleStep {
                name: call.to_owned(),
                key,
            });
            let m = self
                .vals
                .get(&child)
                .map(|v| {
                    v.outputs
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            Value::Object(m)
        };
        match exp {
            Expansion::Single => outputs(Key::None),
            Expansion::Count(n) => Value::Tuple((0..*n).map(|i| outputs(Key::Int(i))).collect()),
            Expansion::ForEach(m) => Value::Object(
                m.keys()
                    .map(|k| (k.clone(), outputs(Key::Str(k.clone()))))
                    .collect(),
            ),
        }
    }
}

/// Validation conditions see only their own variable.
struct VarScope<'a> {
    name: &'a str,
    value: &'a Value,
}

impl Scope for VarScope<'_> {
    fn resolve(&self, root: &Root) -> Result<Value, String> {
        match root {
            Root::Var(n) if n == self.name => Ok(self.value.clone()),
            _ => Err(format!(
                "invalid reference in variable validation: the condition for variable {:?} can only refer to the variable itself, using var.{}",
                self.name, self.name
            )),
        }
    }
}

/// Saves the world through a sink: every change bumps a version; a flush
/// writes the latest version once for everyone waiting (group commit), and
/// a background writer keeps the stored copy close behind.
///
/// Only one world is kept: updates say whether they changed anything, so a
/// flush needs no copy of what was last written to skip writes that would
/// change nothing but the serial. (A flush still takes a transient snapshot
/// to write while updates go on.)
struct Persister {
    state: Mutex<Versioned>,
    /// The version last written (or found to need no write), and whether
    /// anything was written yet.
    written: tokio::sync::Mutex<(u64, bool)>,
    sink: Arc<dyn StateSink>,
    notify: tokio::sync::Notify,
}

struct Versioned {
    world: World,
    /// Bumped by every update.
    version: u64,
    /// Some update since the last write changed the world.
    dirty: bool,
}

/// Inserts an instance; false when the same object was already there.
fn put(w: &mut World, addr: &InstanceAddr, obj: InstanceObj) -> bool {
    if w.instances.get(addr) == Some(&obj) {
        return false;
    }
    w.instances.insert(addr.clone(), obj);
    true
}

impl Persister {
    fn new(world: World, sink: Arc<dyn StateSink>) -> Self {
        Persister {
            written: tokio::sync::Mutex::new((0, false)),
            state: Mutex::new(Versioned {
                world,
                version: 0,
                dirty: false,
            }),
            sink,
            notify: tokio::sync::Notify::new(),
        }
    }

    /// Applies `f`, which returns whether it changed the world.
    fn update(&self, f: impl FnOnce(&mut World) -> bool) {
        {
            // A poisoned lock means a panic elsewhere; keep the data.
            let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let changed = f(&mut g.world);
            g.dirty |= changed;
            g.version += 1;
        }
        self.notify.notify_one();
    }

    fn snapshot(&self) -> World {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .world
            .clone()
    }

    /// Writes everything changed so far (or waits for a write that does).
    /// The first write happens even when no update changed anything:
    /// nothing is known to be stored yet, and the world handed in is the
    /// plan's prior, which may already differ from the stored state
    /// (refreshed, moved, imported).
    async fn flush(&self) -> Result<(), String> {
        let target = self.state.lock().unwrap_or_else(|e| e.into_inner()).version;
        let mut written = self.written.lock().await;
        if written.0 >= target {
            return Ok(());
        }
        let (mut snap, version) = {
            let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if written.1 && !g.dirty {
                written.0 = g.version;
                return Ok(());
            }
            g.dirty = false;
            (g.world.clone(), g.version)
        };
        snap.serial += 1;
        if let Err(e) = self.sink.persist(&snap).await {
            // Still to be written.
            self.state.lock().unwrap_or_else(|e| e.into_inner()).dirty = true;
            return Err(e);
        }
        {
            let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            g.world.serial = snap.serial;
        }
        written.0 = version;
        written.1 = true;
        Ok(())
    }

    fn spawn_writer(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                self.notify.notified().await;
                // Errors surface from the final flush.
                let _ = self.flush().await;
            }
        })
    }
}

/// A progress sink that ignores everything.
pub fn no_progress() -> Arc<dyn Progress> {
    Arc::new(NoProgress)
}
