//! `gantry up` and `gantry serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use gantry_server::ServerOptions;
use gantry_store::Store;

use crate::cli::{LogFormat, ServeArgs, ServerArgs, UpArgs, init_logging};
use crate::{CmdResult, Failure};

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = ".gantry";

/// The demo workspace, compiled in so the binary works from any directory.
const DEMO_FILES: &[(&str, &str)] = &[
    (
        "gantry.yml",
        include_str!("../../../examples/demo/gantry.yml"),
    ),
    (
        "README.md",
        include_str!("../../../examples/demo/README.md"),
    ),
    (
        "infra/main.tf",
        include_str!("../../../examples/demo/infra/main.tf"),
    ),
    (
        "infra/variables.tf",
        include_str!("../../../examples/demo/infra/variables.tf"),
    ),
    (
        "infra/outputs.tf",
        include_str!("../../../examples/demo/infra/outputs.tf"),
    ),
    (
        "infra/modules/service/main.tf",
        include_str!("../../../examples/demo/infra/modules/service/main.tf"),
    ),
    (
        "aws/main.tf",
        include_str!("../../../examples/demo/aws/main.tf"),
    ),
    (
        "aws/variables.tf",
        include_str!("../../../examples/demo/aws/variables.tf"),
    ),
    (
        "aws/outputs.tf",
        include_str!("../../../examples/demo/aws/outputs.tf"),
    ),
    (
        "rules/demo.yml",
        include_str!("../../../examples/demo/rules/demo.yml"),
    ),
];

/// Settings after flags, gantry.yml and defaults are combined (in that order).
struct Resolved {
    opts: ServerOptions,
    database_url: Option<String>,
    /// `stacks:` with a schedule: checked for drift while serving.
    stacks: Vec<crate::drift::Scheduled>,
}

fn resolve(
    args: &ServerArgs,
    workspace: &Path,
    data_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
) -> Result<Resolved, Failure> {
    let loaded = crate::validate::load(workspace)?;
    let monitoring = crate::validate::monitoring(&loaded, workspace).map_err(|diags| {
        eprint!("{}", diags.render_all());
        Failure::Reported(2)
    })?;
    let config = loaded.config;
    let mut stacks = Vec::new();
    for entry in &config.stacks {
        let dir = workspace.join(&entry.dir);
        if !dir.is_dir() {
            return Err(Failure::Usage(anyhow!(
                "{}:{}:{}: stack {:?}: the directory {} does not exist",
                entry.origin.file,
                entry.origin.span.line,
                entry.origin.span.col,
                entry.name,
                dir.display()
            )));
        }
        if let Some(schedule) = &entry.schedule {
            stacks.push(crate::drift::Scheduled {
                name: entry.name.clone(),
                dir,
                schedule: schedule.clone(),
            });
        }
    }
    let server = config.server;
    init_logging(log_format.unwrap_or(match server.log_format {
        Some(gantry_config::LogFormat::Json) => LogFormat::Json,
        _ => LogFormat::Text,
    }));
    let listen: SocketAddr = match &args.listen {
        Some(s) => s.parse().map_err(|_| {
            Failure::Usage(anyhow!(
                "--listen {s:?} is not an address such as 127.0.0.1:8080"
            ))
        })?,
        None => server.listen.unwrap_or_else(|| {
            DEFAULT_LISTEN
                .parse()
                .expect("default listen address parses")
        }),
    };
    let data_dir = data_dir
        .or_else(|| args.data_dir.clone())
        .or_else(|| server.data_dir.map(|d| workspace.join(d)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let body_limit = match server.body_limit {
        Some(n) => usize::try_from(n)
            .map_err(|_| Failure::Usage(anyhow!("server.body-limit is too large")))?,
        None => gantry_server::DEFAULT_BODY_LIMIT,
    };
    Ok(Resolved {
        opts: ServerOptions {
            listen,
            data_dir,
            body_limit,
            retention: config.events.retention,
            site_name: config.demo.name,
            site_description: config.demo.description,
            monitoring: Some(monitoring),
        },
        database_url: server.database_url,
        stacks,
    })
}

/// Copies the demo workspace into `DATA_DIR/demo` unless it is already there.
fn ensure_demo(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, contents) in DEMO_FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        if !path.exists() {
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(dir)
}

/// Holds an exclusive lock on the data dir for the life of the process, so
/// two embedded servers never share one SQLite file.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, Failure> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let path = data_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::Failed(anyhow!(
            "another gantry server is using {}; stop it first or pass a different --data-dir",
            data_dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::Failed(anyhow!("locking {}: {e}", path.display())))
        }
    }
}

/// Creates the data dir readable by its owner only (it holds the database
/// and the admin token); an existing one is left as it is.
fn create_data_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating data dir {}", dir.display()))
}

pub fn up(args: UpArgs, log_format: Option<LogFormat>) -> CmdResult {
    let (workspace, data_dir_hint) = if args.demo {
        let data_dir = args
            .server
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let ws = ensure_demo(&data_dir)?;
        (ws, Some(data_dir))
    } else {
        (
            args.server
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(".")),
            None,
        )
    };
    let resolved = resolve(&args.server, &workspace, data_dir_hint, log_format)?;
    let data_dir = resolved.opts.data_dir.clone();
    let _lock = lock_data_dir(&data_dir)?;
    let db = data_dir.join("gantry.db");
    run(resolved.opts, resolved.stacks, async move {
        let store = gantry_store::SqliteStore::open(&db)
            .await
            .with_context(|| format!("opening {}", db.display()))?;
        Ok(Arc::new(store) as Arc<dyn Store>)
    })
}

pub fn serve(args: ServeArgs, log_format: Option<LogFormat>) -> CmdResult {
    let workspace = args
        .server
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let resolved = resolve(&args.server, &workspace, None, log_format)?;
    let url = args.database_url.or(resolved.database_url).ok_or_else(|| {
        Failure::Usage(anyhow!(
            "gantry serve needs --database-url postgres://... (or server.database-url)"
        ))
    })?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Failure::Usage(anyhow!(
            "gantry serve runs on PostgreSQL: the database URL must start with postgres:// (use `gantry up` for the embedded store)"
        )));
    }
    run(resolved.opts, resolved.stacks, async move {
        let store = gantry_store::PgStore::connect(&url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Arc::new(store) as Arc<dyn Store>)
    })
}

fn run(
    opts: ServerOptions,
    stacks: Vec<crate::drift::Scheduled>,
    open: impl std::future::Future<Output = anyhow::Result<Arc<dyn Store>>>,
) -> CmdResult {
    // Runtime threads get a stack PromQL evaluation fits in, so queries
    // run on them in place (untouched stack pages cost nothing).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(gantry_monitor::promql::QUERY_STACK)
        .on_thread_start(gantry_monitor::promql::mark_query_stack_thread)
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        create_data_dir(&opts.data_dir)?;
        let store = open.await?;
        let created = gantry_server::bootstrap_admin_token(&*store, &opts.data_dir)
            .await
            .map_err(anyhow::Error::from)?;
        if let Some(path) = &created {
            tracing::info!(path = %path.display(), "created the first admin token");
        }
        let stop = shutdown_signal()?;
        let listener = gantry_server::bind(opts.listen).await.map_err(anyhow::Error::from)?;
        let addr = listener.local_addr().context("reading the bound address")?;
        tracing::info!(%addr, backend = store.backend(), data_dir = %opts.data_dir.display(), "gantry is serving");
        // One line on stdout that scripts and tests can wait for.
        println!("gantry listening on http://{addr}");
        let token_file = opts.data_dir.join(gantry_server::ADMIN_TOKEN_FILE);
        if token_file.exists() {
            println!("sign in with the admin token in {}", token_file.display());
        }
        let _ = std::io::stdout().flush();
        if !stacks.is_empty() {
            tracing::info!(stacks = stacks.len(), "scheduling drift checks");
            tokio::spawn(crate::drift::schedule(stacks, store.clone()));
        }
        gantry_server::serve(store, listener, &opts, stop)
            .await
            .map_err(anyhow::Error::from)?;
        Ok::<(), Failure>(())
    })
}

/// Installs SIGINT and SIGTERM handlers now (so a signal that arrives
/// before serving starts is not fatal) and resolves on the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}
