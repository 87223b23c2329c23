//! The engine through its library API, with a provider written for the
//! test: what is persisted when, what a failure leaves in the state, how
//! parallelism is bounded, and how unknowns and marks flow between
//! resources.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use gantry_iac::engine::vars::Inputs;
use gantry_iac::engine::{self, Action, Config, Options, PlanMode, StateSink, World, no_progress};
use gantry_iac::provider::{
    ApplyRequest, Attribute, Provider, ProviderError, ProviderFactory, ProviderSchema, Registry,
    Schema,
};
use gantry_iac::value::{Type, Value};

/// `thing_item`: `name` (required, forces replacement), `fail` (optional:
/// apply fails when true), `id` (computed). Counts concurrent applies.
struct Things {
    schema: ProviderSchema,
    live: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    created: Arc<Mutex<Vec<String>>>,
}

static SCHEMA: LazyLock<ProviderSchema> = LazyLock::new(|| {
    let item = Schema::new()
        .attr("name", Attribute::required(Type::String).force_new())
        .attr("fail", Attribute::optional(Type::Bool))
        .attr("note", Attribute::optional(Type::String))
        .attr("id", Attribute::computed(Type::String));
    ProviderSchema {
        provider: Schema::new(),
        resources: BTreeMap::from([("thing_item".to_string(), item)]),
        data_sources: BTreeMap::new(),
    }
});

#[async_trait]
impl ProviderFactory for Things {
    fn name(&self) -> &'static str {
        "thing"
    }
    fn source(&self) -> &'static str {
        "example.com/test/thing"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    async fn configure(&self, _config: &Value) -> Result<Arc<dyn Provider>, ProviderError> {
        Ok(Arc::new(ThingProvider {
            live: self.live.clone(),
            peak: self.peak.clone(),
            created: self.created.clone(),
        }))
    }
}

struct ThingProvider {
    live: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    created: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Provider for ThingProvider {
    async fn apply(&self, req: ApplyRequest<'_>) -> Result<Option<Value>, ProviderError> {
        let now = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.live.fetch_sub(1, Ordering::SeqCst);
        let Some(planned) = req.planned else {
            return Ok(None);
        };
        if planned.get_attr("fail").and_then(|v| v.as_bool()) == Some(true) {
            return Err(ProviderError::new("the thing refused to be created"));
        }
        let name = planned
            .get_attr("name")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.created.lock().unwrap().push(name.clone());
        let mut m = planned.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::String(format!("id-{name}")));
        Ok(Some(Value::Object(m)))
    }

    async fn read(&self, _type_name: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }

    async fn read_data(&self, type_name: &str, _config: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("no data source {type_name}")))
    }
}

/// Records every world it is asked to persist.
#[derive(Default)]
struct Recorder {
    worlds: Mutex<Vec<World>>,
}

#[async_trait]
impl StateSink for Recorder {
    async fn persist(&self, world: &World) -> Result<(), String> {
        self.worlds.lock().unwrap().push(world.clone());
        Ok(())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    cfg: Config,
    peak: Arc<AtomicUsize>,
    created: Arc<Mutex<Vec<String>>>,
}

fn fixture(tf: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let peak = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::builtin();
    registry.add(Arc::new(Things {
        schema: SCHEMA.clone(),
        live: Arc::new(AtomicUsize::new(0)),
        peak: peak.clone(),
        created: created.clone(),
    }));
    let cfg = match Config::load(dir.path(), registry) {
        Ok(c) => c,
        Err(f) => panic!("{}", f.render()),
    };
    Fixture {
        _dir: dir,
        cfg,
        peak,
        created,
    }
}

fn inputs(dir: &Path, cfg: &Config) -> Inputs {
    Inputs::collect(dir, &cfg.tree.module, &[], &[]).unwrap().0
}

async fn plan_apply(
    f: &Fixture,
    prior: &World,
    opts: &Options,
) -> (engine::Plan, Result<World, (World, String)>, Arc<Recorder>) {
    let inputs = inputs(&f.cfg.dir, &f.cfg);
    let plan = engine::plan(&f.cfg, prior, &inputs, opts)
        .await
        .map_err(|e| e.render())
        .unwrap();
    let sink = Arc::new(Recorder::default());
    let r = engine::apply(&f.cfg, &plan, &inputs, opts, sink.clone(), no_progress())
        .await
        .map_err(|(w, e)| (w, e.render()));
    (plan, r, sink)
}

#[tokio::test]
async fn parallelism_bounds_concurrent_operations() {
    let f = fixture(
        r#"
resource "thing_item" "t" {
  for_each = toset([for i in range(40) : "n${i}"])
  name     = each.key
}
"#,
    );
    let opts = Options {
        parallelism: 3,
        ..Options::default()
    };
    let (plan, r, _) = plan_apply(&f, &World::default(), &opts).await;
    assert_eq!(plan.counts(), (40, 0, 0));
    let world = r.unwrap();
    assert_eq!(world.instances.len(), 40);
    let peak = f.peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "at most 3 operations at once, saw {peak}");
    assert!(peak >= 2, "operations ran in parallel, saw {peak}");
}

#[tokio::test]
async fn a_failed_create_leaves_a_tainted_record_and_the_rest_applied() {
    let f = fixture(
        r#"
resource "thing_item" "ok" {
  name = "ok"
}

resource "thing_item" "bad" {
  name = "bad"
  fail = true
}

resource "thing_item" "after" {
  name = "after-${thing_item.bad.id}"
}
"#,
    );
    let (_, r, sink) = plan_apply(&f, &World::default(), &Options::default()).await;
    let (world, err) = r.unwrap_err();
    assert!(
        err.contains("thing_item.bad: the thing refused to be created"),
        "{err}"
    );
    let ok = world
        .instances
        .keys()
        .find(|a| a.resource.name == "ok")
        .expect("ok applied");
    assert!(!world.instances[ok].tainted);
    // The failed create was recorded before it was attempted, tainted.
    let bad = world
        .instances
        .iter()
        .find(|(a, _)| a.resource.name == "bad")
        .expect("intent record kept");
    assert!(bad.1.tainted);
    // What depends on the failure did not run.
    assert!(!world.instances.keys().any(|a| a.resource.name == "after"));
    assert!(
        !f.created
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.starts_with("after"))
    );
    // The last persisted world is the returned one.
    let last = sink.worlds.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.instances.len(), world.instances.len());
    // The next plan replaces the tainted instance and creates the rest.
    let inputs = inputs(&f.cfg.dir, &f.cfg);
    let plan = engine::plan(&f.cfg, &world, &inputs, &Options::default())
        .await
        .unwrap();
    let bad_change = plan
        .changes
        .iter()
        .find(|c| c.addr.resource.name == "bad")
        .unwrap();
    assert_eq!(bad_change.action, Action::DeleteThenCreate);
    assert_eq!(bad_change.reason.as_deref(), Some("because it is tainted"));
}

#[tokio::test]
async fn every_operation_is_persisted_with_a_growing_serial() {
    let f = fixture(
        r#"
resource "thing_item" "a" {
  name = "a"
}

resource "thing_item" "b" {
  name = thing_item.a.id
}
"#,
    );
    let (_, r, sink) = plan_apply(&f, &World::default(), &Options::default()).await;
    let world = r.unwrap();
    let worlds = sink.worlds.lock().unwrap();
    // b depends on a: a's intent record, then a done (possibly in the same
    // write as b's intent), then b done.
    assert!(worlds.len() >= 3, "{} writes", worlds.len());
    let serials: Vec<u64> = worlds.iter().map(|w| w.serial).collect();
    assert!(serials.windows(2).all(|p| p[1] == p[0] + 1), "{serials:?}");
    let first_with_b = worlds
        .iter()
        .position(|w| w.instances.keys().any(|a| a.resource.name == "b"))
        .unwrap();
    let a_done = worlds
        .iter()
        .position(|w| {
            w.instances
                .iter()
                .any(|(a, o)| a.resource.name == "a" && !o.tainted)
        })
        .unwrap();
    assert!(
        a_done <= first_with_b,
        "a is stored done no later than b appears"
    );
    assert_eq!(world.serial, *serials.last().unwrap());
    // b's name came from a's id, known only after a was applied.
    let b = world
        .instances
        .iter()
        .find(|(a, _)| a.resource.name == "b")
        .unwrap()
        .1;
    assert_eq!(b.value.get_attr("name"), Some(Value::from("id-a")));
}

#[tokio::test]
async fn unknowns_flow_to_dependents_and_force_replacement() {
    let f = fixture(
        r#"
variable "n" {
  default = "one"
}

resource "thing_item" "a" {
  name = var.n
}

resource "thing_item" "b" {
  name = "b-${thing_item.a.id}"
}
"#,
    );
    let (_, r, _) = plan_apply(&f, &World::default(), &Options::default()).await;
    let world = r.unwrap();
    let mut inputs = std::collections::BTreeMap::new();
    inputs.insert("n".to_string(), Value::from("two"));
    let plan = engine::plan(
        &f.cfg,
        &world,
        &Inputs::from_values(&inputs),
        &Options::default(),
    )
    .await
    .unwrap();
    let a = plan
        .changes
        .iter()
        .find(|c| c.addr.resource.name == "a")
        .unwrap();
    let b = plan
        .changes
        .iter()
        .find(|c| c.addr.resource.name == "b")
        .unwrap();
    assert_eq!(a.action, Action::DeleteThenCreate);
    // b's name is unknown until a is replaced, and name forces replacement.
    assert_eq!(b.action, Action::DeleteThenCreate);
    assert!(
        !b.after
            .as_ref()
            .unwrap()
            .get_attr("name")
            .unwrap()
            .is_known()
    );
}

#[tokio::test]
async fn sensitive_values_stay_marked_through_resources() {
    let f = fixture(
        r#"
variable "secret" {
  default   = "s3cr3t"
  sensitive = true
}

resource "thing_item" "a" {
  name = "a"
  note = "token=${var.secret}"
}

output "note" {
  value = thing_item.a.note
}
"#,
    );
    let inputs = inputs(&f.cfg.dir, &f.cfg);
    let err = engine::plan(&f.cfg, &World::default(), &inputs, &Options::default())
        .await
        .unwrap_err();
    assert!(
        err.render().contains("output refers to sensitive values"),
        "{}",
        err.render()
    );
}

#[tokio::test]
async fn destroy_plans_delete_everything_and_apply_empties_the_state() {
    let f = fixture(
        r#"
resource "thing_item" "t" {
  count = 5
  name  = "n${count.index}"
}
"#,
    );
    let (_, r, _) = plan_apply(&f, &World::default(), &Options::default()).await;
    let world = r.unwrap();
    let opts = Options {
        mode: PlanMode::Destroy,
        ..Options::default()
    };
    let (plan, r, _) = plan_apply(&f, &world, &opts).await;
    assert_eq!(plan.counts(), (0, 0, 5));
    assert!(r.unwrap().instances.is_empty());
}
