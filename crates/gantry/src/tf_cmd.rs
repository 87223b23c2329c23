//! `gantry tf <terraform command>` and the top-level IaC commands
//! (`gantry plan`, `gantry apply`, ...): Terraform's flags and exit codes
//! (0 ok, 1 error, 2 changes present with `-detailed-exitcode`, 3 `fmt
//! -check` found unformatted files), Terraform's terminal output.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gantry_core::{EventKind, NewEvent};
use gantry_iac::engine::planfile::{SavedPlan, config_digest};
use gantry_iac::engine::render::{self, TERRAFORM_VERSION};
use gantry_iac::engine::stack::{Stack, backend_settings, world_from_state};
use gantry_iac::engine::vars::{CliVar, Inputs};
use gantry_iac::engine::{
    self, Config, InstanceAddr, Op, Options, Plan, PlanMode, Progress, ProgressEvent, World,
    parse_instance, parse_target,
};
use gantry_iac::provider::Registry;
use gantry_iac::state::State;
use gantry_iac::state::backend::{
    Backend, LockInfo, lock_with_timeout, select_workspace, validate_workspace_name,
};
use gantry_store::Store;
use serde_json::json;

use crate::tf_args::{self, Args, Spec};
use crate::{CmdResult, Failure};

/// Runs a Terraform-style command line (`["plan", "-out=x"]`).
pub fn run(args: Vec<String>) -> CmdResult {
    let (chdir, rest) = match tf_args::split_global(&args) {
        Ok(x) => x,
        Err(e) => return fail(1, &e),
    };
    let Some((command, rest)) = rest.split_first() else {
        print!("{}", USAGE);
        return Err(Failure::Reported(1));
    };
    if rest
        .iter()
        .any(|a| matches!(a.as_str(), "-help" | "--help" | "-h"))
    {
        print!("{USAGE}");
        return Ok(());
    }
    let dir = PathBuf::from(chdir.unwrap_or_else(|| ".".into()));
    if !dir.is_dir() {
        return fail(
            1,
            &format!(
                "error handling -chdir option: chdir {}: no such file or directory",
                dir.display()
            ),
        );
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(1, &format!("starting the async runtime: {e}")),
    };
    let code = rt.block_on(dispatch(command, rest, &dir));
    match code {
        Ok(0) => Ok(()),
        Ok(n) => Err(Failure::Reported(n)),
        Err(e) => fail(1, &e),
    }
}

fn fail(code: u8, message: &str) -> CmdResult {
    let message = message.trim_end();
    if message.starts_with("error") || message.starts_with("warning") {
        eprintln!("{message}");
    } else {
        eprintln!("error: {message}");
    }
    Err(Failure::Reported(code))
}

const USAGE: &str = "Usage: gantry tf [-chdir=DIR] <command> [args]

Main commands:
  init          Prepare the working directory (backend, state migration)
  validate      Check whether the configuration is valid
  plan          Show changes required by the current configuration
  apply         Create or update infrastructure
  destroy       Destroy previously-created infrastructure

All other commands:
  fmt           Reformat your configuration in the standard style
  force-unlock  Release a stuck lock on the current workspace
  graph         Generate a Graphviz graph of the steps in an operation
  import        Associate existing infrastructure with a resource
  output        Show output values from your root module
  refresh       Update the state to match remote systems
  show          Show the current state or a saved plan
  state         Advanced state management
  version       Show the current version
  workspace     Workspace management
";

async fn dispatch(command: &str, args: &[String], dir: &Path) -> Result<u8, String> {
    match command {
        "plan" => plan_cmd(args, dir).await,
        "apply" => apply_cmd(args, dir, PlanMode::Normal).await,
        "destroy" => apply_cmd(args, dir, PlanMode::Destroy).await,
        "refresh" => refresh_cmd(args, dir).await,
        "import" => import_cmd(args, dir).await,
        "output" => output_cmd(args, dir).await,
        "show" => show_cmd(args, dir).await,
        "state" => state_cmd(args, dir).await,
        "workspace" => workspace_cmd(args, dir).await,
        "graph" => graph_cmd(args, dir),
        "fmt" => fmt_cmd(args, dir),
        "validate" => validate_cmd(args, dir),
        "force-unlock" => force_unlock_cmd(args, dir).await,
        "init" => init_cmd(args, dir).await,
        "version" => version_cmd(args),
        "help" | "-help" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            let known = [
                "apply",
                "destroy",
                "fmt",
                "force-unlock",
                "graph",
                "import",
                "init",
                "output",
                "plan",
                "refresh",
                "show",
                "state",
                "validate",
                "version",
                "workspace",
            ];
            let hint = gantry_config::suggest::did_you_mean(other, &known)
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            Err(format!(
                "{other:?} is not a gantry tf command{hint}\n\n{USAGE}"
            ))
        }
    }
}

fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.add(gantry_aws::factory());
    r
}

const PLAN_VALUES: &[&str] = &[
    "var",
    "var-file",
    "out",
    "target",
    "replace",
    "parallelism",
    "lock-timeout",
    "state",
];
const PLAN_BOOLS: &[&str] = &[
    "json",
    "detailed-exitcode",
    "refresh",
    "refresh-only",
    "destroy",
    "lock",
    "input",
    "no-color",
    "compact-warnings",
    "auto-approve",
    "allow-findings",
];

fn load_config(dir: &Path) -> Result<Config, String> {
    Config::load(dir, registry()).map_err(|f| f.render())
}

fn options(a: &Args, mode: PlanMode, workspace: &str) -> Result<Options, String> {
    let targets = a
        .all("target")
        .iter()
        .map(|t| parse_target(t).map_err(|e| format!("invalid target {t:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let replace = a
        .all("replace")
        .iter()
        .map(|t| parse_instance(t).map_err(|e| format!("invalid replace address {t:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let parallelism = match a.value("parallelism") {
        Some(p) => p.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("invalid value {p:?} for -parallelism: a positive integer is required")
        })?,
        None => 10,
    };
    let mode = if a.flag("destroy") {
        PlanMode::Destroy
    } else if a.flag("refresh-only") {
        PlanMode::RefreshOnly
    } else {
        mode
    };
    Ok(Options {
        mode,
        refresh: a.flag_default_true("refresh"),
        targets,
        replace,
        parallelism,
        workspace: workspace.to_owned(),
    })
}

fn inputs(a: &Args, dir: &Path, cfg: &Config) -> Result<Inputs, String> {
    let cli: Vec<CliVar> = a
        .ordered_vars
        .iter()
        .map(|(k, v)| {
            if k == "var" {
                CliVar::Var(v.clone())
            } else {
                CliVar::File(PathBuf::from(v))
            }
        })
        .collect();
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("TF_VAR_"))
        .collect();
    match Inputs::collect(dir, &cfg.tree.module, &cli, &env) {
        Ok((inputs, warnings)) => {
            for w in warnings {
                eprint!("{}", w.render(""));
            }
            Ok(inputs)
        }
        Err(errors) => Err(cfg.failure(errors).render()),
    }
}

/// The event log of the data dir, when there is one.
pub async fn open_store(dir: &Path) -> Option<Arc<dyn Store>> {
    // GANTRY_DATA_DIR, else the nearest `.gantry/gantry.db` here or above
    // (the demo's infra lives inside the server's data dir).
    let data_dir = match std::env::var("GANTRY_DATA_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            start
                .ancestors()
                .map(|a| a.join(".gantry"))
                .find(|d| d.join("gantry.db").is_file())
                .unwrap_or_else(|| dir.join(".gantry"))
        }
    };
    open_data_store(&data_dir).await
}

/// The event log: PostgreSQL when GANTRY_DATABASE_URL names one, else the
/// SQLite store in `data_dir` if it exists (never created here).
pub async fn open_data_store(data_dir: &Path) -> Option<Arc<dyn Store>> {
    if let Ok(url) = std::env::var("GANTRY_DATABASE_URL")
        && url.starts_with("postgres")
    {
        return gantry_store::PgStore::connect(&url)
            .await
            .ok()
            .map(|s| Arc::new(s) as Arc<dyn Store>);
    }
    let db = data_dir.join("gantry.db");
    if !db.is_file() {
        return None;
    }
    gantry_store::SqliteStore::open(&db)
        .await
        .ok()
        .map(|s| Arc::new(s) as Arc<dyn Store>)
}

fn stack_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "root".into())
}

async fn record(store: &Option<Arc<dyn Store>>, kind: &str, dir: &Path, data: serde_json::Value) {
    let (Some(store), Ok(kind)) = (store, EventKind::new(kind)) else {
        return;
    };
    let subject = format!("stack/{}", stack_name(dir));
    if let Err(e) = store
        .append(vec![NewEvent::new(kind, subject, "cli:gantry-tf", data)])
        .await
    {
        eprintln!("warning: could not record the operation in the event log: {e}");
    }
}

async fn open_stack(dir: &Path, store: &Option<Arc<dyn Store>>) -> Result<Stack, String> {
    check_init(dir)?;
    let store = match store {
        Some(s) => Some(s.clone()),
        None if backend_settings(dir)?.0 == "gantry" => Some(create_store(dir).await?),
        None => None,
    };
    Stack::open(dir, store)
}

/// The embedded store for a `gantry` backend when no data dir exists yet.
async fn create_store(dir: &Path) -> Result<Arc<dyn Store>, String> {
    let data_dir = std::env::var("GANTRY_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join(".gantry"));
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let db = data_dir.join("gantry.db");
    gantry_store::SqliteStore::open(&db)
        .await
        .map(|s| Arc::new(s) as Arc<dyn Store>)
        .map_err(|e| format!("opening {}: {e}", db.display()))
}

/// Holds the state lock for an operation; released on drop by `release`.
struct Held {
    backend: Arc<dyn Backend>,
    workspace: String,
    id: Option<String>,
}

impl Held {
    async fn release(mut self) {
        if let Some(id) = self.id.take()
            && let Err(e) = self.backend.unlock(&self.workspace, &id).await
        {
            eprintln!("error releasing the state lock: {e}");
        }
    }
}

async fn lock(stack: &Stack, a: &Args, operation: &str) -> Result<Held, String> {
    let mut held = Held {
        backend: stack.backend.clone(),
        workspace: stack.workspace.clone(),
        id: None,
    };
    if !a.flag_default_true("lock") {
        return Ok(held);
    }
    let timeout = match a.value("lock-timeout") {
        Some(t) => tf_args::parse_duration(t)?,
        None => Duration::ZERO,
    };
    let info = LockInfo::new(operation);
    lock_with_timeout(&*stack.backend, &stack.workspace, &info, timeout)
        .await
        .map_err(|e| e.to_string())?;
    held.id = Some(info.id);
    Ok(held)
}

async fn plan_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: PLAN_VALUES,
            bools: PLAN_BOOLS,
        },
    )?;
    let store = open_store(dir).await;
    let cfg = load_config(dir)?;
    let stack = open_stack(dir, &store).await?;
    let opts = options(&a, PlanMode::Normal, &stack.workspace)?;
    let inputs = inputs(&a, dir, &cfg)?;
    let held = lock(&stack, &a, "OperationTypePlan").await?;
    let result = async {
        let world = stack.read_world(&cfg.registry).await?;
        let plan = engine::plan(&cfg, &world, &inputs, &opts)
            .await
            .map_err(|f| f.render())?;
        Ok::<_, String>((world, plan))
    }
    .await;
    held.release().await;
    let (world, plan) = result?;
    for w in &plan.warnings {
        eprint!("{}", w.render(""));
    }
    if a.flag("json") {
        print!("{}", render::plan_json_lines(&plan));
    } else {
        print!("{}", render::plan_text(&plan));
    }
    if let Some(out) = a.value("out") {
        let saved = SavedPlan {
            plan: plan.clone(),
            lineage: world.lineage.clone(),
            serial: world.serial,
            workspace: stack.workspace.clone(),
            config_digest: config_digest(&cfg.tree),
            refresh: opts.refresh,
            parallelism: opts.parallelism,
        };
        write_private(Path::new(out), &saved.to_bytes())
            .map_err(|e| format!("failed to write plan file {out}: {e}"))?;
        if !a.flag("json") {
            println!(
                "\n─────────────────────────────────────────────────────────────────────────────\n\nSaved the plan to: {out}\n\nTo perform exactly these actions, run the following command to apply:\n    gantry tf apply {out:?}"
            );
        }
    } else if !a.flag("json") && plan.has_changes() {
        println!(
            "\n─────────────────────────────────────────────────────────────────────────────\n\nNote: You didn't use the -out option to save this plan, so Gantry can't\nguarantee to take exactly these actions if you run \"gantry tf apply\" now."
        );
    }
    let (add, change, destroy) = plan.counts();
    record(
        &store,
        "infra.plan",
        dir,
        json!({ "stack": stack_name(dir), "workspace": stack.workspace, "add": add, "change": change, "destroy": destroy, "mode": mode_name(plan.mode) }),
    )
    .await;
    Ok(if a.flag("detailed-exitcode") && plan.has_changes() {
        2
    } else {
        0
    })
}

/// A refresh-only plan of `dir` with its variables from files and
/// `TF_VAR_*`, under the state lock, as `plan -refresh-only` takes it:
/// the drift, the workspace and the stack's name. `store` receives no
/// event here; the caller records the outcome.
pub async fn drift_check(
    dir: &Path,
    store: Option<Arc<dyn Store>>,
) -> Result<crate::drift::Checked, String> {
    let store = match store {
        Some(s) => Some(s),
        None => open_store(dir).await,
    };
    let cfg = load_config(dir)?;
    let stack = open_stack(dir, &store).await?;
    let a = Args::default();
    let opts = options(&a, PlanMode::RefreshOnly, &stack.workspace)?;
    let inputs = inputs(&a, dir, &cfg)?;
    let held = lock(&stack, &a, "OperationTypePlan").await?;
    let result = async {
        let world = stack.read_world(&cfg.registry).await?;
        let checked = world
            .instances
            .keys()
            .filter(|a| a.resource.mode == gantry_iac::syntax::Mode::Managed)
            .count();
        engine::plan(&cfg, &world, &inputs, &opts)
            .await
            .map_err(|f| f.render())
            .map(|plan| (plan, checked))
    }
    .await;
    held.release().await;
    let (plan, checked) = result?;
    for w in &plan.warnings {
        eprint!("{}", w.render(""));
    }
    Ok(crate::drift::Checked {
        stack: stack_name(dir),
        workspace: stack.workspace.clone(),
        checked,
        resources: engine::drift::report(&plan, &cfg.registry),
    })
}

fn mode_name(m: PlanMode) -> &'static str {
    match m {
        PlanMode::Normal => "normal",
        PlanMode::Destroy => "destroy",
        PlanMode::RefreshOnly => "refresh-only",
    }
}

/// Writes a file readable only by its owner (plan files hold secrets),
/// through a temp file and rename.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = parent.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

async fn refresh_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let mut args = args.to_vec();
    args.push("-refresh-only".into());
    args.push("-auto-approve".into());
    apply_cmd(&args, dir, PlanMode::RefreshOnly).await
}

async fn apply_cmd(args: &[String], dir: &Path, mode: PlanMode) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: PLAN_VALUES,
            bools: PLAN_BOOLS,
        },
    )?;
    if a.positional.len() > 1 {
        return Err("too many command line arguments: expected at most one positional argument, the saved plan file".into());
    }
    let store = open_store(dir).await;
    let cfg = load_config(dir)?;
    let stack = open_stack(dir, &store).await?;
    let saved = match a.positional.first() {
        Some(file) => {
            if !a.ordered_vars.is_empty() {
                return Err("can't set variables when applying a saved plan: the -var and -var-file options cannot be used when applying a saved plan file, because the variables were already set when the plan was created".into());
            }
            let bytes = std::fs::read(file)
                .map_err(|e| format!("failed to load {file:?} as a plan file: {e}"))?;
            Some(
                SavedPlan::from_bytes(&bytes)
                    .map_err(|e| format!("failed to load {file:?} as a plan file: {e}"))?,
            )
        }
        None => None,
    };
    let opts = match &saved {
        Some(s) => Options {
            mode: s.plan.mode,
            refresh: s.refresh,
            targets: s.plan.targets.clone(),
            replace: s.plan.replace.clone(),
            parallelism: a
                .value("parallelism")
                .and_then(|p| p.parse().ok())
                .unwrap_or(s.parallelism),
            workspace: stack.workspace.clone(),
        },
        None => options(&a, mode, &stack.workspace)?,
    };
    let inputs = match &saved {
        Some(s) => Inputs::from_values(&s.plan.variables),
        None => inputs(&a, dir, &cfg)?,
    };
    let held = lock(&stack, &a, "OperationTypeApply").await?;
    let outcome = apply_locked(&a, dir, &cfg, &stack, saved, &opts, &inputs, &store).await;
    held.release().await;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn apply_locked(
    a: &Args,
    dir: &Path,
    cfg: &Config,
    stack: &Stack,
    saved: Option<SavedPlan>,
    opts: &Options,
    inputs: &Inputs,
    store: &Option<Arc<dyn Store>>,
) -> Result<u8, String> {
    let world = stack.read_world(&cfg.registry).await?;
    let plan: Plan = match saved {
        Some(s) => {
            if s.workspace != stack.workspace {
                return Err(format!(
                    "saved plan is for workspace {:?}, but the selected workspace is {:?}",
                    s.workspace, stack.workspace
                ));
            }
            // No state when planned and none now: a fresh state gets a new
            // lineage on every read, so only the serials can be compared.
            let both_fresh = s.serial == 0 && world.serial == 0;
            if (s.lineage != world.lineage && !both_fresh) || s.serial != world.serial {
                return Err("saved plan is stale: the given plan file can no longer be applied because the state was changed by another operation after the plan was created".into());
            }
            if s.config_digest != config_digest(&cfg.tree) {
                return Err("saved plan does not match the configuration: the configuration has changed since the plan was created; run plan again".into());
            }
            findings_gate(a, cfg, &s.plan)?;
            s.plan
        }
        None => {
            let plan = engine::plan(cfg, &world, inputs, opts)
                .await
                .map_err(|f| f.render())?;
            for w in &plan.warnings {
                eprint!("{}", w.render(""));
            }
            print!("{}", render::plan_text(&plan));
            if !plan.has_changes() {
                if opts.mode != PlanMode::RefreshOnly {
                    let mut w = world.clone();
                    let outputs_changed = plan
                        .outputs
                        .iter()
                        .any(|(k, o)| w.outputs.get(k).map(|x| &x.0) != o.after.as_ref());
                    // Deposed objects the refresh found gone leave the state.
                    let deposed_gone = plan.prior.deposed.len() != w.deposed.len();
                    if deposed_gone {
                        w.deposed = plan.prior.deposed.clone();
                    }
                    if outputs_changed || deposed_gone {
                        w.outputs = plan
                            .outputs
                            .iter()
                            .filter_map(|(k, o)| {
                                o.after.clone().map(|v| (k.clone(), (v, o.sensitive)))
                            })
                            .collect();
                        w.serial += 1;
                        stack.write_world(&w).await?;
                    }
                    println!("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.");
                    print_outputs(&w);
                }
                return Ok(0);
            }
            findings_gate(a, cfg, &plan)?;
            if !a.flag("auto-approve") && !confirm(opts.mode)? {
                println!("\nApply cancelled.");
                return Ok(1);
            }
            plan
        }
    };
    let progress = Arc::new(TermProgress::new(
        plan.changes
            .iter()
            .filter(|c| c.action != engine::Action::NoOp)
            .count(),
    ));
    let ticker = progress.clone().start_ticker();
    let result = engine::apply(cfg, &plan, inputs, opts, stack.sink(), progress.clone()).await;
    ticker.abort();
    progress.finish();
    let (add, change, destroy) = plan.counts();
    match result {
        Ok(world) => {
            match plan.mode {
                PlanMode::Destroy => {
                    println!("\nDestroy complete! Resources: {destroy} destroyed.")
                }
                _ => {
                    let imported = plan
                        .changes
                        .iter()
                        .filter(|c| c.importing.is_some())
                        .count();
                    let imported = if imported > 0 {
                        format!("{imported} imported, ")
                    } else {
                        String::new()
                    };
                    println!(
                        "\nApply complete! Resources: {imported}{add} added, {change} changed, {destroy} destroyed."
                    );
                }
            }
            print_outputs(&world);
            record(
                store,
                "infra.apply.finished",
                dir,
                json!({ "stack": stack_name(dir), "workspace": stack.workspace, "ok": true, "added": add, "changed": change, "destroyed": destroy, "mode": mode_name(plan.mode) }),
            )
            .await;
            Ok(0)
        }
        Err((_, failure)) => {
            eprint!("{}", failure.render());
            record(
                store,
                "infra.apply.finished",
                dir,
                json!({ "stack": stack_name(dir), "workspace": stack.workspace, "ok": false, "errors": failure.diagnostics.len(), "mode": mode_name(plan.mode) }),
            )
            .await;
            Ok(1)
        }
    }
}

/// The misconfiguration gate before an apply: the security checks run on
/// the planned values, and a critical finding stops the apply unless
/// `-allow-findings` is given. Destroying is never gated.
fn findings_gate(a: &Args, cfg: &Config, plan: &Plan) -> Result<(), String> {
    if plan.mode == PlanMode::Destroy {
        return Ok(());
    }
    let findings = gantry_scan::misconfig::check_planned(plan, &cfg.tree, "");
    let critical: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == gantry_scan::Severity::Critical)
        .collect();
    if critical.is_empty() {
        return Ok(());
    }
    eprintln!();
    for f in &critical {
        eprintln!(
            "critical: {} {}: {} ({})",
            f.rule_id,
            f.resource.as_deref().unwrap_or(""),
            f.title,
            f.location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default()
        );
        if let Some(r) = &f.remediation {
            eprintln!("  fix: {r}");
        }
    }
    if a.flag("allow-findings") {
        eprintln!(
            "warning: applying with {} critical finding(s), as -allow-findings asks",
            critical.len()
        );
        return Ok(());
    }
    Err(format!(
        "error: refusing to apply: the plan has {} critical misconfiguration finding(s) (listed above); fix them, or pass -allow-findings to apply anyway",
        critical.len()
    ))
}

fn print_outputs(world: &World) {
    if world.outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    print!("{}", render::outputs_text(&world.outputs));
}

fn confirm(mode: PlanMode) -> Result<bool, String> {
    let (question, what) = match mode {
        PlanMode::Destroy => (
            "Do you really want to destroy all resources?",
            "  Gantry will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.",
        ),
        _ => (
            "Do you want to perform these actions?",
            "  Gantry will perform the actions described above.\n  Only 'yes' will be accepted to approve.",
        ),
    };
    print!("\n{question}\n{what}\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(line.trim() == "yes")
}

/// Terraform-style progress lines, a "Still creating..." line every 10s
/// for operations in flight, and on a terminal a live done/remaining count.
struct TermProgress {
    inflight: Mutex<HashMap<InstanceAddr, (Op, Instant)>>,
    done: Mutex<usize>,
    total: usize,
    tty: bool,
}

impl TermProgress {
    fn new(total: usize) -> Self {
        TermProgress {
            inflight: Mutex::new(HashMap::new()),
            done: Mutex::new(0),
            total,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn start_ticker(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let now = Instant::now();
                let lines: Vec<String> = {
                    let inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
                    let mut v: Vec<String> = inflight
                        .iter()
                        .filter(|(_, (_, t))| now.duration_since(*t) >= Duration::from_secs(10))
                        .map(|(a, (op, t))| {
                            format!(
                                "{a}: Still {}... [{}s elapsed]",
                                op.verb().to_lowercase(),
                                now.duration_since(*t).as_secs() / 10 * 10
                            )
                        })
                        .collect();
                    v.sort();
                    v
                };
                for l in lines {
                    self.line(&l);
                }
            }
        })
    }

    fn line(&self, text: &str) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        println!("{text}");
        let _ = std::io::stdout().flush();
        if self.tty && self.total > 0 {
            let done = *self.done.lock().unwrap_or_else(|e| e.into_inner());
            eprint!(
                "[{done}/{} done, {} remaining]",
                self.total,
                self.total.saturating_sub(done)
            );
        }
    }

    fn finish(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

impl Progress for TermProgress {
    fn report(&self, event: ProgressEvent) {
        match event {
            ProgressEvent::Start { addr, op } => {
                let verb = op.verb();
                self.inflight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(addr.clone(), (op, Instant::now()));
                self.line(&format!("{addr}: {verb}..."));
            }
            ProgressEvent::Done {
                addr,
                op,
                elapsed,
                id,
            } => {
                self.inflight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&addr);
                *self.done.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                self.line(&format!(
                    "{addr}: {} complete after {}s{id}",
                    op.noun(),
                    elapsed.as_secs()
                ));
            }
            ProgressEvent::Failed { addr, .. } => {
                self.inflight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&addr);
            }
        }
    }
}

async fn import_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: PLAN_VALUES,
            bools: PLAN_BOOLS,
        },
    )?;
    let [addr, id] = a.positional.as_slice() else {
        return Err("the import command expects two arguments: ADDR ID".into());
    };
    let addr = parse_instance(addr)?;
    let store = open_store(dir).await;
    let cfg = load_config(dir)?;
    let stack = open_stack(dir, &store).await?;
    let opts = options(&a, PlanMode::Normal, &stack.workspace)?;
    let inputs = inputs(&a, dir, &cfg)?;
    let held = lock(&stack, &a, "OperationTypeImport").await?;
    let result = async {
        let world = stack.read_world(&cfg.registry).await?;
        println!("{addr}: Importing from ID {id:?}...");
        let mut new = engine::import(&cfg, &world, &inputs, &opts, &addr, id).await.map_err(|f| f.render())?;
        new.serial += 1;
        stack.write_world(&new).await?;
        println!("{addr}: Import prepared!\n  Prepared {} for import\n{addr}: Refreshing state... [id={id}]\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour Gantry state and will henceforth be managed by Gantry.", addr.resource.type_name);
        Ok::<_, String>(0)
    }
    .await;
    held.release().await;
    result
}

async fn output_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &["state"],
            bools: &["json", "raw", "no-color"],
        },
    )?;
    let store = open_store(dir).await;
    let stack = open_stack(dir, &store).await?;
    let world = stack.read_world(&registry()).await?;
    match a.positional.first() {
        Some(name) => {
            let Some((v, _)) = world.outputs.get(name) else {
                return Err(format!(
                    "output {name:?} not found: the output variable requested could not be found in the state file; if you recently added it to your configuration, be sure to run `gantry tf apply`, since the state won't be updated with new output variables until that command is run"
                ));
            };
            if a.flag("json") {
                println!("{}", v.to_json());
            } else if a.flag("raw") {
                match v.unmarked().to_template_string() {
                    Some(s) => print!("{s}"),
                    None => {
                        return Err(format!(
                            "unsupported value for raw output: the -raw option only supports strings, numbers, and boolean values, but output value {name:?} is {}",
                            v.kind_name()
                        ));
                    }
                }
            } else {
                println!("{}", render::output_value_text(v.unmarked()));
            }
        }
        None => {
            if a.flag("json") {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&render::outputs_json(&world.outputs))
                        .unwrap_or_default()
                );
            } else if world.outputs.is_empty() {
                eprintln!(
                    "warning: no outputs found\n\nThe state file either has no outputs defined, or all the defined outputs are\nempty."
                );
            } else {
                print!("{}", render::outputs_text(&world.outputs));
            }
        }
    }
    Ok(0)
}

async fn show_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[],
            bools: &["json", "no-color"],
        },
    )?;
    if let Some(file) = a.positional.first() {
        let bytes = std::fs::read(file).map_err(|e| format!("failed to read {file}: {e}"))?;
        if let Ok(saved) = SavedPlan::from_bytes(&bytes) {
            if a.flag("json") {
                println!("{}", render::plan_json(&saved.plan));
            } else {
                print!("{}", render::plan_text(&saved.plan));
            }
            return Ok(0);
        }
        let state = State::from_json(&bytes)
            .map_err(|e| format!("{file} is neither a plan file nor a state file: {e}"))?;
        let world = world_from_state(&state, &registry()).map_err(|e| e.to_string())?;
        show_world(&world, a.flag("json"));
        return Ok(0);
    }
    let store = open_store(dir).await;
    let stack = open_stack(dir, &store).await?;
    let world = stack.read_world(&registry()).await?;
    show_world(&world, a.flag("json"));
    Ok(0)
}

fn show_world(world: &World, json_out: bool) {
    if json_out {
        let resources: Vec<serde_json::Value> = world
            .instances
            .iter()
            .map(|(addr, o)| (addr, None, o))
            .chain(
                world
                    .deposed
                    .iter()
                    .map(|((addr, key), o)| (addr, Some(key), o)),
            )
            .map(|(addr, deposed, o)| {
                let mut m = json!({
                    "address": addr.to_string(),
                    "mode": if addr.resource.mode == gantry_iac::syntax::Mode::Managed { "managed" } else { "data" },
                    "type": addr.resource.type_name,
                    "name": addr.resource.name,
                    "provider_name": o.provider.split("provider[\"").nth(1).and_then(|r| r.split("\"]").next()).unwrap_or(&o.provider),
                    "schema_version": o.schema_version,
                    "values": o.value.to_json(),
                    "sensitive_values": render::sensitive_map(&o.value),
                });
                if let engine::Key::Int(i) = &addr.key {
                    m["index"] = json!(i);
                } else if let engine::Key::Str(s) = &addr.key {
                    m["index"] = json!(s);
                }
                if let Some(key) = deposed {
                    m["deposed_key"] = json!(key);
                }
                m
            })
            .collect();
        let outputs: serde_json::Map<String, serde_json::Value> = world
            .outputs
            .iter()
            .map(|(k, (v, s))| (k.clone(), json!({ "sensitive": s, "value": if *s { serde_json::Value::Null } else { v.to_json() } })))
            .collect();
        println!(
            "{}",
            json!({ "format_version": "1.0", "terraform_version": TERRAFORM_VERSION, "values": { "outputs": outputs, "root_module": { "resources": resources } } })
        );
        return;
    }
    if world.instances.is_empty() && world.deposed.is_empty() && world.outputs.is_empty() {
        println!("The state file is empty. No resources are represented.");
        return;
    }
    let current = world.instances.iter().map(|(a, o)| (a, None, o));
    let deposed = world
        .deposed
        .iter()
        .map(|((a, k), o)| (a, Some(k.as_str()), o));
    let mut objects: Vec<_> = current.chain(deposed).collect();
    objects.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (addr, deposed, o) in objects {
        match deposed {
            Some(key) => println!("# {addr}: (deposed object {key})"),
            None => println!("# {addr}:"),
        }
        let kw = if addr.resource.mode == gantry_iac::syntax::Mode::Managed {
            "resource"
        } else {
            "data"
        };
        println!(
            "{kw} \"{}\" \"{}\" {{",
            addr.resource.type_name, addr.resource.name
        );
        if let Some(m) = o.value.as_map() {
            let width = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.len())
                .max()
                .unwrap_or(0);
            for (k, v) in m {
                if v.is_null() {
                    continue;
                }
                println!("    {k:<width$} = {}", render::plain_value_text(v, 4));
            }
        }
        println!("}}\n");
    }
    if !world.outputs.is_empty() {
        println!("\nOutputs:\n");
        print!("{}", render::outputs_text(&world.outputs));
    }
}

async fn state_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Err("usage: gantry tf state <list|show|mv|rm|pull|push> [options] [args]".into());
    };
    let a = tf_args::parse(
        rest,
        &Spec {
            values: &["lock-timeout", "state", "id"],
            bools: &["lock", "dry-run", "force", "json"],
        },
    )?;
    let store = open_store(dir).await;
    let stack = open_stack(dir, &store).await?;
    let reg = registry();
    match sub.as_str() {
        "list" => {
            let world = stack.read_world(&reg).await?;
            let filters = a
                .positional
                .iter()
                .map(|t| parse_target(t))
                .collect::<Result<Vec<_>, _>>()?;
            // Instances with a current or only deposed objects, once each.
            let addrs: std::collections::BTreeSet<&InstanceAddr> = world
                .instances
                .keys()
                .chain(world.deposed.keys().map(|(a, _)| a))
                .collect();
            for addr in addrs {
                if filters.is_empty() || filters.iter().any(|t| t.matches(addr)) {
                    println!("{addr}");
                }
            }
            Ok(0)
        }
        "show" => {
            let [addr] = a.positional.as_slice() else {
                return Err("usage: gantry tf state show ADDRESS".into());
            };
            let addr = parse_instance(addr)?;
            let world = stack.read_world(&reg).await?;
            let Some(o) = world.instances.get(&addr) else {
                return Err(format!("no instance found for the given address: {addr}"));
            };
            let one = World {
                instances: BTreeMap::from([(addr.clone(), o.clone())]),
                ..World::default()
            };
            show_world(&one, false);
            Ok(0)
        }
        "mv" => {
            let [from, to] = a.positional.as_slice() else {
                return Err("usage: gantry tf state mv SOURCE DESTINATION".into());
            };
            let from_t = parse_target(from)?;
            let to_t = parse_target(to)?;
            let held = lock(&stack, &a, "OperationTypeInvalid").await?;
            let r = async {
                let mut world = stack.read_world(&reg).await?;
                let sources: std::collections::BTreeSet<InstanceAddr> = world
                    .instances
                    .keys()
                    .chain(world.deposed.keys().map(|(a, _)| a))
                    .cloned()
                    .collect();
                let moves: Vec<(InstanceAddr, InstanceAddr)> = sources
                    .iter()
                    .filter_map(|a| moved(a, &from_t, &to_t).map(|b| (a.clone(), b)))
                    .collect();
                if moves.is_empty() {
                    return Err(format!("invalid source address: cannot move {from}: does not match anything in the current state"));
                }
                for (_, b) in &moves {
                    if world.has_any(b) && !moves.iter().any(|(x, _)| x == b) {
                        return Err(format!("invalid target address: cannot move to {b}: there is already a resource instance at that address in the current state"));
                    }
                }
                if a.flag("dry-run") {
                    for (x, y) in &moves {
                        println!("Would move {x:?} to {y:?}", x = x.to_string(), y = y.to_string());
                    }
                    return Ok(0);
                }
                let objs: Vec<_> = moves.iter().filter_map(|(x, y)| world.instances.remove(x).map(|o| (y.clone(), o))).collect();
                // Deposed objects go with their instance.
                let deposed: Vec<_> = world
                    .deposed
                    .keys()
                    .filter_map(|(x, k)| {
                        moves.iter().find(|(from, _)| from == x).map(|(_, y)| (x.clone(), k.clone(), y.clone()))
                    })
                    .collect();
                let deposed: Vec<_> = deposed
                    .into_iter()
                    .filter_map(|(x, k, y)| world.deposed.remove(&(x, k.clone())).map(|o| ((y, k), o)))
                    .collect();
                for (y, o) in objs {
                    world.instances.insert(y, o);
                }
                world.deposed.extend(deposed);
                world.serial += 1;
                stack.write_world(&world).await?;
                println!("Successfully moved {} object(s).", moves.len());
                Ok(0)
            }
            .await;
            held.release().await;
            r
        }
        "rm" => {
            if a.positional.is_empty() {
                return Err(
                    "at least one address is required: gantry tf state rm ADDRESS...".into(),
                );
            }
            let targets = a
                .positional
                .iter()
                .map(|t| parse_target(t))
                .collect::<Result<Vec<_>, _>>()?;
            let held = lock(&stack, &a, "OperationTypeInvalid").await?;
            let r = async {
                let mut world = stack.read_world(&reg).await?;
                let gone: Vec<InstanceAddr> = world
                    .instances
                    .keys()
                    .chain(world.deposed.keys().map(|(a, _)| a))
                    .filter(|addr| targets.iter().any(|t| t.matches(addr)))
                    .cloned()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if gone.is_empty() {
                    return Err(format!(
                        "invalid target address: no matching objects found for {}",
                        a.positional.join(", ")
                    ));
                }
                for g in &gone {
                    if a.flag("dry-run") {
                        println!("Would remove {g}");
                    } else {
                        world.instances.remove(g);
                        world.deposed.retain(|(a, _), _| a != g);
                        println!("Removed {g}");
                    }
                }
                if !a.flag("dry-run") {
                    world.serial += 1;
                    stack.write_world(&world).await?;
                    println!("Successfully removed {} resource instance(s).", gone.len());
                }
                Ok(0)
            }
            .await;
            held.release().await;
            r
        }
        "pull" => {
            let state = stack
                .backend
                .read(&stack.workspace)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(s) = state {
                std::io::stdout()
                    .write_all(&s.to_json_pretty())
                    .map_err(|e| e.to_string())?;
            }
            Ok(0)
        }
        "push" => {
            let [file] = a.positional.as_slice() else {
                return Err("usage: gantry tf state push [-force] PATH".into());
            };
            let bytes = if file == "-" {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
                    .map_err(|e| e.to_string())?;
                b
            } else {
                std::fs::read(file).map_err(|e| format!("failed to read {file}: {e}"))?
            };
            let new = State::from_json(&bytes).map_err(|e| e.to_string())?;
            let held = lock(&stack, &a, "OperationTypeInvalid").await?;
            let r = async {
                let cur = stack.backend.read(&stack.workspace).await.map_err(|e| e.to_string())?;
                if let Some(cur) = cur
                    && !a.flag("force")
                {
                    if cur.lineage != new.lineage {
                        return Err(format!(
                            "failed to write state: cannot import state with lineage {:?} over unrelated state with lineage {:?}",
                            new.lineage, cur.lineage
                        ));
                    }
                    if cur.serial > new.serial {
                        return Err(format!(
                            "failed to write state: cannot overwrite existing state with serial {} with a different state that has a lower serial ({})",
                            cur.serial, new.serial
                        ));
                    }
                }
                stack.backend.write(&stack.workspace, &new).await.map_err(|e| e.to_string())?;
                Ok(0)
            }
            .await;
            held.release().await;
            r
        }
        other => Err(format!(
            "unknown state subcommand {other:?}: use list, show, mv, rm, pull or push"
        )),
    }
}

fn moved(a: &InstanceAddr, from: &engine::Target, to: &engine::Target) -> Option<InstanceAddr> {
    use engine::Target as T;
    match (from, to) {
        (T::Resource(r1), T::Resource(r2)) if &a.resource == r1 => Some(r2.instance(a.key.clone())),
        (T::Resource(r1), T::Instance(i2)) if *a == r1.instance(engine::Key::None) => {
            Some(i2.clone())
        }
        (T::Instance(i1), T::Instance(i2)) if a == i1 => Some(i2.clone()),
        (T::Instance(i1), T::Resource(r2)) if a == i1 => Some(r2.instance(engine::Key::None)),
        (T::Module(m1), T::Module(m2)) if a.resource.module.starts_with(m1) => {
            let mut module = m2.clone();
            module.extend(a.resource.module[m1.len()..].iter().cloned());
            let mut b = a.clone();
            b.resource.module = module;
            Some(b)
        }
        _ => None,
    }
}

async fn workspace_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Err("usage: gantry tf workspace <new|select|list|show|delete> [NAME]".into());
    };
    let a = tf_args::parse(
        rest,
        &Spec {
            values: &["lock-timeout", "state"],
            bools: &["lock", "force", "or-create"],
        },
    )?;
    let store = open_store(dir).await;
    let stack = open_stack(dir, &store).await?;
    let name = a.positional.first().cloned();
    match (sub.as_str(), name) {
        ("show", _) => {
            println!("{}", stack.workspace);
            Ok(0)
        }
        ("list", _) => {
            for w in stack
                .backend
                .workspaces()
                .await
                .map_err(|e| e.to_string())?
            {
                let mark = if w == stack.workspace { "*" } else { " " };
                println!("{mark} {w}");
            }
            Ok(0)
        }
        ("new", Some(n)) => {
            validate_workspace_name(&n).map_err(|e| e.to_string())?;
            let existing = stack
                .backend
                .workspaces()
                .await
                .map_err(|e| e.to_string())?;
            if existing.contains(&n) {
                return Err(format!("workspace {n:?} already exists"));
            }
            let fresh = State::new();
            stack
                .backend
                .write(&n, &fresh)
                .await
                .map_err(|e| e.to_string())?;
            select_workspace(dir, &n).map_err(|e| e.to_string())?;
            println!(
                "Created and switched to workspace {n:?}!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"gantry tf plan\" Gantry will not see any existing state\nfor this configuration."
            );
            Ok(0)
        }
        ("select", Some(n)) => {
            let existing = stack
                .backend
                .workspaces()
                .await
                .map_err(|e| e.to_string())?;
            if !existing.contains(&n) {
                if a.flag("or-create") {
                    validate_workspace_name(&n).map_err(|e| e.to_string())?;
                    stack
                        .backend
                        .write(&n, &State::new())
                        .await
                        .map_err(|e| e.to_string())?;
                } else {
                    return Err(format!(
                        "workspace {n:?} doesn't exist; you can create this workspace with the \"new\" subcommand or include the \"-or-create\" flag with the \"select\" subcommand"
                    ));
                }
            }
            select_workspace(dir, &n).map_err(|e| e.to_string())?;
            println!("Switched to workspace {n:?}.");
            Ok(0)
        }
        ("delete", Some(n)) => {
            if n == stack.workspace {
                return Err(format!(
                    "workspace {n:?} is your active workspace: you cannot delete the currently active workspace; please switch to another workspace and try again"
                ));
            }
            if !a.flag("force")
                && let Some(s) = stack.backend.read(&n).await.map_err(|e| e.to_string())?
                && !s.resources.is_empty()
            {
                return Err(format!(
                    "workspace {n:?} is not empty: deleting it would leave its {} resource(s) unmanaged; destroy them first or use -force",
                    s.resources.len()
                ));
            }
            stack
                .backend
                .delete_workspace(&n)
                .await
                .map_err(|e| e.to_string())?;
            println!("Deleted workspace {n:?}!");
            Ok(0)
        }
        (s @ ("new" | "select" | "delete"), None) => {
            Err(format!("usage: gantry tf workspace {s} NAME"))
        }
        (other, _) => Err(format!(
            "unknown workspace subcommand {other:?}: use new, select, list, show or delete"
        )),
    }
}

fn graph_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let _ = tf_args::parse(
        args,
        &Spec {
            values: &["type", "plan"],
            bools: &["draw-cycles"],
        },
    )?;
    let cfg = load_config(dir)?;
    print!("{}", cfg.graph.dot());
    Ok(0)
}

fn fmt_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[],
            bools: &["check", "diff", "recursive", "write", "list", "no-color"],
        },
    )?;
    let roots: Vec<PathBuf> = if a.positional.is_empty() {
        vec![dir.to_path_buf()]
    } else {
        a.positional.iter().map(|p| dir.join(p)).collect()
    };
    let mut files = Vec::new();
    for r in &roots {
        collect_tf(r, a.flag("recursive"), &mut files)
            .map_err(|e| format!("{}: {e}", r.display()))?;
    }
    files.sort();
    let write = a.flag_default_true("write") && !a.flag("check");
    let mut unformatted = false;
    let mut errors = false;
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        match gantry_iac::fmt::format(&text) {
            Ok(out) if out != text => {
                unformatted = true;
                if a.flag_default_true("list") {
                    println!("{}", f.display());
                }
                if a.flag("diff") {
                    print!("{}", simple_diff(&f, &text, &out));
                }
                if write {
                    std::fs::write(&f, out).map_err(|e| format!("{}: {e}", f.display()))?;
                }
            }
            Ok(_) => {}
            Err(e) => {
                errors = true;
                eprintln!("error: {}:{e}", f.display());
            }
        }
    }
    Ok(if errors {
        2
    } else if a.flag("check") && unformatted {
        3
    } else {
        0
    })
}

fn collect_tf(p: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    for e in std::fs::read_dir(p)? {
        let e = e?;
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if recursive && !name.starts_with('.') {
                collect_tf(&path, true, out)?;
            }
        } else if name.ends_with(".tf") || name.ends_with(".tfvars") {
            out.push(path);
        }
    }
    Ok(())
}

fn simple_diff(path: &Path, old: &str, new: &str) -> String {
    let mut s = format!("--- old/{p}\n+++ new/{p}\n", p = path.display());
    for l in old.lines() {
        s.push_str(&format!("-{l}\n"));
    }
    for l in new.lines() {
        s.push_str(&format!("+{l}\n"));
    }
    s
}

fn validate_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[],
            bools: &["json", "no-color"],
        },
    )?;
    let loaded = Config::load(dir, registry()).and_then(|cfg| {
        let errors = engine::validate::validate(&cfg);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(cfg.failure(errors))
        }
    });
    match loaded {
        Ok(_) => {
            if a.flag("json") {
                println!(
                    "{}",
                    json!({ "format_version": "1.0", "valid": true, "error_count": 0, "warning_count": 0, "diagnostics": [] })
                );
            } else {
                println!("Success! The configuration is valid.");
            }
            Ok(0)
        }
        Err(f) => {
            if a.flag("json") {
                let diags: Vec<serde_json::Value> = f
                    .diagnostics
                    .iter()
                    .map(|d| {
                        json!({
                            "severity": d.severity.to_string(),
                            "summary": d.message,
                            "range": d.span.map(|s| json!({ "filename": d.file, "start": { "line": s.line, "column": s.col } })),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({ "format_version": "1.0", "valid": false, "error_count": diags.len(), "warning_count": 0, "diagnostics": diags })
                );
            } else {
                eprint!("{}", f.render());
            }
            Ok(1)
        }
    }
}

async fn force_unlock_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[],
            bools: &["force"],
        },
    )?;
    let [id] = a.positional.as_slice() else {
        return Err("usage: gantry tf force-unlock LOCK_ID".into());
    };
    let store = open_store(dir).await;
    let stack = open_stack(dir, &store).await?;
    stack
        .backend
        .unlock(&stack.workspace, id)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Gantry state has been successfully unlocked!\n\nThe state has been unlocked, and Gantry commands should now be able to\nobtain a new lock on the remote state."
    );
    Ok(0)
}

/// Where `init` records the backend it configured.
fn backend_record(dir: &Path) -> PathBuf {
    dir.join(".terraform").join("gantry-backend.json")
}

fn settings_json(
    kind: &str,
    settings: &BTreeMap<String, gantry_iac::value::Value>,
) -> serde_json::Value {
    json!({ "kind": kind, "settings": settings.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>() })
}

/// Refuses to work when the backend changed since `init`.
fn check_init(dir: &Path) -> Result<(), String> {
    let Ok(text) = std::fs::read_to_string(backend_record(dir)) else {
        return Ok(());
    };
    let recorded: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let (kind, settings) = backend_settings(dir)?;
    if recorded != settings_json(&kind, &settings) {
        return Err("backend initialization required, please run \"gantry tf init\": the backend configuration has changed since the last init (run init -migrate-state to copy the state to the new backend, or -reconfigure to start fresh)".into());
    }
    Ok(())
}

async fn init_cmd(args: &[String], dir: &Path) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[
                "backend-config",
                "lock-timeout",
                "plugin-dir",
                "from-module",
            ],
            bools: &[
                "migrate-state",
                "force-copy",
                "reconfigure",
                "upgrade",
                "input",
                "lock",
                "backend",
                "get",
                "no-color",
            ],
        },
    )?;
    let cfg = load_config(dir)?;
    let (kind, settings) = backend_settings(dir)?;
    let store = open_store(dir).await;
    println!("Initializing the backend...");
    let new_record = settings_json(&kind, &settings);
    let old = std::fs::read_to_string(backend_record(dir))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let new_backend =
        gantry_iac::state::backend::backend_from_config(&kind, &settings, dir, store.clone())
            .map_err(|e| e.to_string())?;
    if let Some(old) = old.filter(|o| o != &new_record)
        && !a.flag("reconfigure")
    {
        let old_kind = old["kind"].as_str().unwrap_or("local").to_owned();
        let old_settings: BTreeMap<String, gantry_iac::value::Value> = old["settings"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), gantry_iac::value::Value::from_json(v)))
                    .collect()
            })
            .unwrap_or_default();
        let old_backend = gantry_iac::state::backend::backend_from_config(
            &old_kind,
            &old_settings,
            dir,
            store.clone(),
        )
        .map_err(|e| e.to_string())?;
        let mut to_copy = Vec::new();
        for ws in old_backend.workspaces().await.map_err(|e| e.to_string())? {
            if let Some(s) = old_backend.read(&ws).await.map_err(|e| e.to_string())? {
                to_copy.push((ws, s));
            }
        }
        if !to_copy.is_empty() {
            if !(a.flag("migrate-state") || a.flag("force-copy")) {
                return Err(format!(
                    "backend configuration changed: the backend changed from {old_kind:?} to {kind:?} and the old backend has state; run init with -migrate-state to copy it to the new backend, or -reconfigure to ignore it"
                ));
            }
            for (ws, s) in &to_copy {
                if let Some(existing) = new_backend.read(ws).await.map_err(|e| e.to_string())?
                    && !existing.resources.is_empty()
                    && !a.flag("force-copy")
                {
                    return Err(format!(
                        "the {kind:?} backend already has state for workspace {ws:?}; use -force-copy to overwrite it"
                    ));
                }
                new_backend.write(ws, s).await.map_err(|e| e.to_string())?;
            }
            println!(
                "Successfully migrated {} workspace state(s) from {old_kind:?} to {kind:?}.",
                to_copy.len()
            );
        }
    }
    std::fs::create_dir_all(dir.join(".terraform")).map_err(|e| e.to_string())?;
    // Owner-only: backend settings may hold credentials (an s3 backend's
    // secret_key), as Terraform's own record of them does.
    write_private(
        &backend_record(dir),
        &serde_json::to_vec_pretty(&new_record).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    println!(
        "\nSuccessfully configured the backend {kind:?}! Gantry will automatically\nuse this backend unless the backend configuration changes."
    );
    println!("\nInitializing provider plugins...");
    let mut names: Vec<String> = cfg
        .graph
        .resource_providers
        .values()
        .map(|p| p.provider.name.clone())
        .collect();
    names.sort();
    names.dedup();
    for n in &names {
        if let Some(f) = &cfg.registry.get(n) {
            println!(
                "- Using built-in provider {} (nothing to download)",
                f.source()
            );
        }
    }
    println!("\nGantry has been successfully initialized!");
    Ok(0)
}

fn version_cmd(args: &[String]) -> Result<u8, String> {
    let a = tf_args::parse(
        args,
        &Spec {
            values: &[],
            bools: &["json"],
        },
    )?;
    let platform = format!(
        "{}_{}",
        std::env::consts::OS,
        match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }
    );
    if a.flag("json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "terraform_version": TERRAFORM_VERSION,
                "gantry_version": env!("CARGO_PKG_VERSION"),
                "platform": platform,
                "provider_selections": {},
                "terraform_outdated": false,
            }))
            .unwrap_or_default()
        );
    } else {
        println!(
            "Gantry v{} (Terraform language {TERRAFORM_VERSION})\non {platform}",
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(0)
}
