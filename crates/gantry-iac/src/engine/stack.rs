//! A working directory as the commands see it: the root module, its
//! backend and the selected workspace; and the conversion between the
//! engine's [`World`] and state v4.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use super::addr::parse_instance;
use super::{InstanceObj, StateSink, World};
use crate::eval::{Evaluator, Root, Scope};
use crate::funcs::Phase;
use crate::provider::Registry;
use crate::state::backend::{Backend, backend_from_config, current_workspace};
use crate::state::{
    EachMode, IndexKey, InstanceState, InstanceStatus, OutputState, ResourceState, State,
    StateError, cty_type_from_json, cty_type_json, paths_to_json,
};
use crate::syntax::{Expr, Mode, load_module};
use crate::value::{Type, Value};

/// The engine's world from a state file. Attributes are shaped by the
/// resource type's schema when the provider is known.
pub fn world_from_state(state: &State, registry: &Registry) -> Result<World, StateError> {
    let mut world = World {
        lineage: state.lineage.clone(),
        serial: state.serial,
        ..World::default()
    };
    for r in &state.resources {
        let provider_name = provider_local_name(&r.provider);
        let schema_ty = registry.get(&provider_name).and_then(|f| {
            let s = f.schema();
            match r.mode {
                Mode::Managed => s.resources.get(&r.type_),
                Mode::Data => s.data_sources.get(&r.type_),
            }
            .map(|s| s.object_type())
        });
        for inst in &r.instances {
            let key = match &inst.index_key {
                None => String::new(),
                Some(IndexKey::Int(i)) => format!("[{i}]"),
                Some(IndexKey::Str(s)) => {
                    format!("[{}]", serde_json::to_string(s).unwrap_or_default())
                }
            };
            let local = match r.mode {
                Mode::Managed => format!("{}.{}", r.type_, r.name),
                Mode::Data => format!("data.{}.{}", r.type_, r.name),
            };
            let text = if r.module.is_empty() {
                format!("{local}{key}")
            } else {
                format!("{}.{local}{key}", r.module)
            };
            let addr = parse_instance(&text).map_err(|e| StateError::Address(text.clone(), e))?;
            let value = match inst.value(schema_ty.as_ref()) {
                Ok(v) => v,
                // A state written by another version of the schema: keep
                // what it says rather than refuse to work.
                Err(_) => inst.value(None)?,
            };
            let obj = InstanceObj {
                value,
                provider: r.provider.clone(),
                schema_version: inst.schema_version,
                dependencies: inst.dependencies.clone(),
                create_before_destroy: inst.create_before_destroy,
                tainted: inst.status == Some(InstanceStatus::Tainted),
            };
            match &inst.deposed {
                // Deposed objects: the old halves of create_before_destroy
                // replacements whose destroy failed or was interrupted.
                Some(key) => {
                    world.deposed.insert((addr, key.clone()), obj);
                }
                None => {
                    world.instances.insert(addr, obj);
                }
            }
        }
    }
    for (name, o) in &state.outputs {
        let ty = cty_type_from_json(&o.type_).unwrap_or(Type::Any);
        let v =
            Value::from_json_typed(&o.value, &ty).unwrap_or_else(|_| Value::from_json(&o.value));
        let v = if o.sensitive { v.mark() } else { v };
        world.outputs.insert(name.clone(), (v, o.sensitive));
    }
    Ok(world)
}

/// The state v4 form of a world.
pub fn state_from_world(world: &World) -> State {
    let mut state = State::new();
    state.lineage = world.lineage.clone();
    state.serial = world.serial;
    // Resources by (module, mode, type, name); `state.sort()` orders them.
    let mut resources: BTreeMap<(String, String, String, String), ResourceState> = BTreeMap::new();
    let current = world.instances.iter().map(|(a, o)| (a, None, o));
    let deposed = world
        .deposed
        .iter()
        .map(|((a, k), o)| (a, Some(k.clone()), o));
    for (addr, deposed_key, obj) in current.chain(deposed) {
        let module = super::addr::module_path_string(&addr.resource.module);
        let mode = match addr.resource.mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        };
        let r = resources
            .entry((
                module.clone(),
                mode.to_owned(),
                addr.resource.type_name.clone(),
                addr.resource.name.clone(),
            ))
            .or_insert_with(|| ResourceState {
                module,
                mode: addr.resource.mode,
                type_: addr.resource.type_name.clone(),
                name: addr.resource.name.clone(),
                each: None,
                provider: obj.provider.clone(),
                instances: Vec::new(),
            });
        match addr.key {
            super::Key::None => {}
            super::Key::Int(_) => r.each = Some(EachMode::List),
            super::Key::Str(_) => r.each = Some(EachMode::Map),
        }
        let mut inst = InstanceState::new(obj.schema_version, obj.value.to_json());
        inst.sensitive_attributes = paths_to_json(&obj.value.sensitive_paths());
        inst.index_key = match &addr.key {
            super::Key::None => None,
            super::Key::Int(i) => Some(IndexKey::Int(*i)),
            super::Key::Str(s) => Some(IndexKey::Str(s.clone())),
        };
        inst.status = obj.tainted.then_some(InstanceStatus::Tainted);
        inst.deposed = deposed_key;
        inst.dependencies = obj.dependencies.clone();
        inst.create_before_destroy = obj.create_before_destroy;
        r.instances.push(inst);
    }
    state.resources = resources.into_values().collect();
    for (name, (v, sensitive)) in &world.outputs {
        let (plain, _) = v.clone().unmark_deep();
        state.outputs.insert(
            name.clone(),
            OutputState {
                value: plain.to_json(),
                type_: cty_type_json(&plain.type_of()),
                sensitive: *sensitive,
            },
        );
    }
    state.sort();
    state
}

/// `random` from `provider["registry.terraform.io/hashicorp/random"]`.
pub fn provider_local_name(provider: &str) -> String {
    provider
        .split("provider[\"")
        .nth(1)
        .and_then(|r| r.split("\"]").next())
        .and_then(|src| src.rsplit('/').next())
        .unwrap_or(provider)
        .to_owned()
}

/// Saves worlds through a backend.
pub struct BackendSink {
    pub backend: Arc<dyn Backend>,
    pub workspace: String,
}

#[async_trait]
impl StateSink for BackendSink {
    async fn persist(&self, world: &World) -> Result<(), String> {
        self.backend
            .write(&self.workspace, &state_from_world(world))
            .await
            .map_err(|e| e.to_string())
    }
}

/// A working directory: root module dir, backend, workspace.
pub struct Stack {
    pub dir: PathBuf,
    pub workspace: String,
    pub backend: Arc<dyn Backend>,
    /// `local`, `gantry`, ...
    pub backend_kind: String,
    pub backend_settings: BTreeMap<String, Value>,
}

impl Stack {
    /// Opens `dir`: reads its `terraform { backend }` block (constants
    /// only, as Terraform requires) and the selected workspace.
    pub fn open(dir: &Path, store: Option<Arc<dyn gantry_store::Store>>) -> Result<Stack, String> {
        let (kind, settings) = backend_settings(dir)?;
        let backend =
            backend_from_config(&kind, &settings, dir, store).map_err(|e| e.to_string())?;
        Ok(Stack {
            dir: dir.to_path_buf(),
            workspace: current_workspace(dir),
            backend: Arc::from(backend),
            backend_kind: kind,
            backend_settings: settings,
        })
    }

    /// The stored world of the selected workspace (empty, with a fresh
    /// lineage, when there is no state yet).
    pub async fn read_world(&self, registry: &Registry) -> Result<World, String> {
        match self
            .backend
            .read(&self.workspace)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(state) => world_from_state(&state, registry).map_err(|e| e.to_string()),
            None => {
                let fresh = State::new();
                Ok(World {
                    lineage: fresh.lineage,
                    serial: 0,
                    ..World::default()
                })
            }
        }
    }

    pub async fn write_world(&self, world: &World) -> Result<(), String> {
        self.backend
            .write(&self.workspace, &state_from_world(world))
            .await
            .map_err(|e| e.to_string())
    }

    pub fn sink(&self) -> Arc<dyn StateSink> {
        Arc::new(BackendSink {
            backend: self.backend.clone(),
            workspace: self.workspace.clone(),
        })
    }
}

/// The backend kind and its settings from the root module (`local` with
/// no settings when there is no backend block).
pub fn backend_settings(dir: &Path) -> Result<(String, BTreeMap<String, Value>), String> {
    let module = load_module(dir).map_err(|d| d.render_all())?;
    let Some(b) = &module.terraform.backend else {
        return Ok(("local".into(), BTreeMap::new()));
    };
    let mut settings = BTreeMap::new();
    for attr in b.body.body.attributes() {
        let e = Expr {
            expr: attr.value.clone(),
            src: b.body.src.clone(),
        };
        let ev = Evaluator {
            scope: &NoRefs,
            phase: Phase::Plan,
            base_dir: dir,
        };
        let v = ev.eval(&e).map_err(|d| {
            let mut ds = gantry_config::Diagnostics::new();
            ds.add_source(gantry_config::SourceFile {
                path: PathBuf::from(&b.body.src.path),
                text: b.body.src.text.clone(),
            });
            ds.push(d);
            ds.render_all()
        })?;
        settings.insert(attr.key.as_str().to_owned(), v);
    }
    Ok((b.kind.clone(), settings))
}

/// Backend blocks may not refer to anything.
struct NoRefs;

impl Scope for NoRefs {
    fn resolve(&self, _root: &Root) -> Result<Value, String> {
        Err("variables not allowed: a backend configuration may not refer to variables, locals or resources".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(id: &str) -> InstanceObj {
        InstanceObj {
            value: Value::Object(BTreeMap::from([("id".to_owned(), Value::string(id))])),
            provider: "provider[\"registry.terraform.io/hashicorp/null\"]".to_owned(),
            schema_version: 0,
            dependencies: Vec::new(),
            create_before_destroy: true,
            tainted: false,
        }
    }

    #[test]
    fn deposed_objects_survive_the_state_round_trip() {
        let a = parse_instance("null_resource.a[1]").unwrap();
        let b = parse_instance("module.m.null_resource.b").unwrap();
        let mut world = World {
            lineage: "l".into(),
            serial: 3,
            ..World::default()
        };
        world.instances.insert(a.clone(), obj("new"));
        let key = world.depose(&a).unwrap();
        assert_eq!(key.len(), 8);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(world.instances.is_empty());
        world.instances.insert(a.clone(), obj("newer"));
        // A deposed object whose instance has no current object.
        world
            .deposed
            .insert((b.clone(), "0badf00d".into()), obj("old"));
        let state = state_from_world(&world);
        let r = state
            .resources
            .iter()
            .find(|r| r.name == "b")
            .expect("a resource for the deposed-only instance");
        assert_eq!(r.module, "module.m");
        assert_eq!(r.instances.len(), 1);
        assert_eq!(r.instances[0].deposed.as_deref(), Some("0badf00d"));
        let ra = state.resources.iter().find(|r| r.name == "a").unwrap();
        assert_eq!(ra.instances.len(), 2);
        assert_eq!(ra.instances[0].deposed, None, "current first");
        assert_eq!(ra.instances[1].deposed.as_deref(), Some(key.as_str()));
        let back = world_from_state(&state, &Registry::default()).unwrap();
        assert_eq!(back.instances, world.instances);
        assert_eq!(back.deposed, world.deposed);
        assert!(back.has_any(&b) && back.has_any(&a));
    }
}
