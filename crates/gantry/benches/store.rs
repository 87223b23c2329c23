//! Durable event appends per second: Gantry over HTTP (SQLite and
//! PostgreSQL) against raw SQLite floors measured in the same run.
//!
//! Run it with `bash benches/store/run.sh` (builds the release binary first);
//! `benches/store/README.md` explains the scenarios and the knobs. This is
//! not a test: `test = false` keeps it out of `cargo test`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gantry_core::{EventKind, NewEvent};
use gantry_store::{EventLog, PgStore, SqliteStore};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};

/// The issue's goal for `gantry up` over HTTP.
const TARGET_EVENTS_PER_SEC: f64 = 5000.0;
const WARMUP: Duration = Duration::from_secs(1);

struct Config {
    events: usize,
    floor_events: usize,
    runs: usize,
    clients: usize,
    bin: PathBuf,
    pg_admin_url: String,
    tmp: PathBuf,
}

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| anyhow!("{name}={v:?} is not a positive integer")),
        Err(_) => Ok(default),
    }
}

impl Config {
    fn from_env() -> anyhow::Result<Config> {
        let events = env_usize("BENCH_EVENTS", 20_000)?;
        let floor_events = env_usize("BENCH_FLOOR_EVENTS", events.min(10_000))?;
        let runs = env_usize("BENCH_RUNS", 3)?;
        let clients = env_usize("BENCH_CLIENTS", 32)?;
        let bin = match std::env::var_os("GANTRY_BIN") {
            Some(p) => PathBuf::from(p),
            None => {
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
                target.join("release/gantry")
            }
        };
        if !bin.is_file() {
            bail!(
                "no gantry binary at {}: run `cargo build --release -p gantry` or set GANTRY_BIN \
                 (benches/store/run.sh does both)",
                bin.display()
            );
        }
        // GANTRY_TEST_DATABASE_URL, else the local server on 127.0.0.1:5432.
        let pg_admin_url = gantry_store::testing::admin_url();
        let tmp = std::env::var_os("BENCH_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        Ok(Config {
            events,
            floor_events,
            runs,
            clients,
            bin,
            pg_admin_url,
            tmp,
        })
    }
}

// ---------------------------------------------------------------- results

/// One measured run.
struct Run {
    events: usize,
    elapsed: Duration,
    /// Per request (HTTP, in-process) or per transaction (raw floors).
    latencies: Vec<Duration>,
    /// Transactions committed, when known (to show group-commit batch sizes).
    commits: Option<u64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Medians over the runs of one scenario.
struct Row {
    name: String,
    events: usize,
    secs: f64,
    rate: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    per_commit: Option<f64>,
    rates: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of a sorted slice.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summarize(name: &str, runs: &[Run]) -> Row {
    let lat = |p: f64| -> Option<f64> {
        if runs.iter().any(|r| r.latencies.is_empty()) {
            return None;
        }
        Some(median(
            runs.iter()
                .map(|r| {
                    let mut l = r.latencies.clone();
                    l.sort();
                    percentile(&l, p).as_secs_f64() * 1e3
                })
                .collect(),
        ))
    };
    let per_commit = if runs.iter().all(|r| r.commits.is_some_and(|c| c > 0)) {
        Some(median(
            runs.iter()
                .map(|r| r.events as f64 / r.commits.unwrap_or(1) as f64)
                .collect(),
        ))
    } else {
        None
    };
    Row {
        name: name.to_string(),
        events: runs[0].events,
        secs: median(runs.iter().map(|r| r.elapsed.as_secs_f64()).collect()),
        rate: median(runs.iter().map(Run::rate).collect()),
        p50_ms: lat(50.0),
        p99_ms: lat(99.0),
        per_commit,
        rates: runs.iter().map(Run::rate).collect(),
    }
}

fn print_table(rows: &[Row]) {
    let opt = |v: Option<f64>, prec: usize| v.map_or("-".to_string(), |v| format!("{v:.prec$}"));
    println!(
        "{:<44} {:>7} {:>8} {:>10} {:>8} {:>8} {:>9}  runs (events/s)",
        "scenario", "events", "seconds", "events/s", "p50 ms", "p99 ms", "ev/commit"
    );
    println!("{}", "-".repeat(124));
    for r in rows {
        let runs: Vec<String> = r.rates.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "{:<44} {:>7} {:>8.2} {:>10.0} {:>8} {:>8} {:>9}  {}",
            r.name,
            r.events,
            r.secs,
            r.rate,
            opt(r.p50_ms, 2),
            opt(r.p99_ms, 2),
            opt(r.per_commit, 1),
            runs.join(" ")
        );
    }
}

// ------------------------------------------------------- the gantry server

/// A running `gantry up` / `gantry serve`. Dropping it kills the process.
struct Server {
    child: Option<Child>,
    url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `gantry ARGS --listen 127.0.0.1:0` in `cwd` (an empty workspace,
    /// so no gantry.yml is picked up) and waits for its "listening" line.
    fn start(bin: &Path, args: &[&str], cwd: &Path, log: &Path) -> anyhow::Result<Server> {
        let log_file = std::fs::File::create(log)?;
        let mut cmd = Command::new(bin);
        for var in [
            "GANTRY_TOKEN",
            "GANTRY_SERVER",
            "GANTRY_DATA_DIR",
            "GANTRY_DATABASE_URL",
            "GANTRY_LOG_FORMAT",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("piped stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading to the end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("gantry listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            log: log.to_path_buf(),
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => server.url = url,
            Err(_) => bail!(
                "gantry did not report its address within 60s; its log:\n{}",
                server.log_tail()
            ),
        }
        Ok(server)
    }

    fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM (through the `kill` command), then waits for a clean exit.
    fn stop(mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .context("running kill")?
            .success();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    bail!("gantry exited with {status}; its log:\n{}", self.log_tail());
                }
                return Ok(());
            }
            if !sent || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("gantry did not stop within 30s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("admin-token");
    Ok(std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .to_string())
}

// ------------------------------------------------------------ HTTP clients

/// `clients` tasks share one keep-alive client and POST single events until
/// `total` have been acknowledged (or, with `until`, until that instant).
async fn http_load(
    url: &str,
    token: &str,
    clients: usize,
    total: usize,
    until: Option<Instant>,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let endpoint = format!("{url}/api/v1/events");
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for n in 0..clients {
        let (client, endpoint, token, next) = (
            client.clone(),
            endpoint.clone(),
            token.to_string(),
            next.clone(),
        );
        let capacity = if until.is_some() {
            1024
        } else {
            total / clients + 1
        };
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(capacity);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match until {
                    Some(t) if Instant::now() >= t => break,
                    None if i >= total => break,
                    _ => {}
                }
                let body = serde_json::json!({
                    "kind": "bench.append",
                    "subject": format!("client/{n}"),
                    "data": { "i": i },
                });
                let sent = Instant::now();
                let resp = client
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = resp.status();
                let bytes = resp.bytes().await?;
                if status != reqwest::StatusCode::CREATED {
                    bail!(
                        "POST /api/v1/events answered {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
                latencies.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok(Run {
        events: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
        commits: None,
    })
}

/// Starts a server, warms it up for a second, then measures.
async fn measure_server(
    cfg: &Config,
    args: &[&str],
    dir: &Path,
    data_dir: &Path,
) -> anyhow::Result<Run> {
    let server = Server::start(&cfg.bin, args, dir, &dir.join("server.log"))?;
    let token = admin_token(data_dir)?;
    http_load(
        &server.url,
        &token,
        cfg.clients,
        usize::MAX,
        Some(Instant::now() + WARMUP),
    )
    .await
    .context("warm-up")?;
    let run = http_load(&server.url, &token, cfg.clients, cfg.events, None).await?;
    tokio::task::block_in_place(|| server.stop())?;
    Ok(run)
}

async fn gantry_up_sqlite(cfg: &Config) -> anyhow::Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("gantry-bench-up-")
        .tempdir_in(&cfg.tmp)?;
    let data = dir.path().join("data");
    let data_s = data.to_str().context("temp path is not UTF-8")?;
    measure_server(cfg, &["up", "--data-dir", data_s], dir.path(), &data).await
}

async fn pg_admin(cfg: &Config, sql: String) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(&cfg.pg_admin_url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", cfg.pg_admin_url))?;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    let _ = conn.close().await;
    Ok(())
}

/// Runs `body` against a fresh database, dropped afterwards whatever happens.
async fn with_fresh_pg<T>(
    cfg: &Config,
    body: impl AsyncFnOnce(String) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let name = format!("gantry_bench_{}", gantry_core::Id::new().as_uuid().simple());
    pg_admin(cfg, format!("CREATE DATABASE {name}")).await?;
    let result = body(gantry_store::testing::with_database(
        &cfg.pg_admin_url,
        &name,
    ))
    .await;
    let dropped = pg_admin(cfg, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    let value = result?;
    dropped.with_context(|| format!("dropping database {name}"))?;
    Ok(value)
}

async fn gantry_serve_pg(cfg: &Config) -> anyhow::Result<Run> {
    with_fresh_pg(cfg, async |url: String| {
        let dir = tempfile::Builder::new()
            .prefix("gantry-bench-serve-")
            .tempdir_in(&cfg.tmp)?;
        let data = dir.path().join("data");
        let data_s = data.to_str().context("temp path is not UTF-8")?;
        measure_server(
            cfg,
            &["serve", "--database-url", &url, "--data-dir", data_s],
            dir.path(),
            &data,
        )
        .await
    })
    .await
}

// ------------------------------------------- gantry-store, no HTTP at all

/// The same load straight into the store's `append` (no HTTP, no auth): how
/// much of the HTTP figure the store itself allows, and its commit batching.
async fn store_load(
    log: Arc<dyn EventLog>,
    clients: usize,
    total: usize,
    commits: impl Fn() -> u64,
) -> anyhow::Result<Run> {
    let kind = EventKind::new("bench.append")?;
    let next = Arc::new(AtomicUsize::new(0));
    let before = commits();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for n in 0..clients {
        let (log, kind, next) = (log.clone(), kind.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total / clients + 1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let e = NewEvent::new(
                    kind.clone(),
                    format!("client/{n}"),
                    "token:bench",
                    serde_json::json!({ "i": i }),
                );
                let sent = Instant::now();
                log.append(vec![e]).await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok(Run {
        events: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
        commits: Some(commits() - before),
    })
}

async fn store_sqlite(cfg: &Config) -> anyhow::Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("gantry-bench-store-")
        .tempdir_in(&cfg.tmp)?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("gantry.db")).await?);
    let counter = store.clone();
    let run = store_load(store.clone(), cfg.clients, cfg.events, move || {
        counter.commit_count()
    })
    .await?;
    gantry_store::Store::close(&*store).await;
    Ok(run)
}

async fn store_pg(cfg: &Config) -> anyhow::Result<Run> {
    with_fresh_pg(cfg, async |url: String| {
        let store = Arc::new(PgStore::connect(&url).await?);
        let counter = store.clone();
        let run = store_load(store.clone(), cfg.clients, cfg.events, move || {
            counter.commit_count()
        })
        .await;
        gantry_store::Store::close(&*store).await;
        run
    })
    .await
}

// ---------------------------------------------------- raw SQLite floors

/// Gantry's own events table and indexes (crates/gantry-store/migrations).
const RAW_SCHEMA: &str = "\
    CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        id      TEXT    NOT NULL UNIQUE,
        time    INTEGER NOT NULL,
        kind    TEXT    NOT NULL,
        subject TEXT    NOT NULL,
        actor   TEXT    NOT NULL,
        data    TEXT    NOT NULL
    );
    CREATE INDEX events_kind_seq ON events (kind, seq);
    CREATE INDEX events_subject_seq ON events (subject, seq);";

const RAW_INSERT: &str = "INSERT INTO events (id, time, kind, subject, actor, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq";

/// Inserts `total` rows from one connection (WAL, synchronous=FULL), `per_txn`
/// rows per transaction (1 = autocommit, one durable commit per row).
async fn raw_sqlite(cfg: &Config, total: usize, per_txn: usize) -> anyhow::Result<Run> {
    let dir = tempfile::Builder::new()
        .prefix("gantry-bench-raw-")
        .tempdir_in(&cfg.tmp)?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    sqlx::raw_sql(RAW_SCHEMA).execute(&mut conn).await?;
    let mut latencies = Vec::with_capacity(total / per_txn + 1);
    let mut commits = 0u64;
    let start = Instant::now();
    let mut i = 0;
    while i < total {
        let n = per_txn.min(total - i);
        let began = Instant::now();
        if n > 1 {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
        }
        for j in i..i + n {
            let _seq: i64 = sqlx::query_scalar(RAW_INSERT)
                .bind(gantry_core::Id::new().to_string())
                .bind(gantry_core::Timestamp::now().unix_micros())
                .bind("bench.append")
                .bind(format!("client/{}", j % cfg.clients))
                .bind("token:bench")
                .bind(format!("{{\"i\":{j}}}"))
                .fetch_one(&mut conn)
                .await?;
        }
        if n > 1 {
            sqlx::query("COMMIT").execute(&mut conn).await?;
        }
        commits += 1;
        latencies.push(began.elapsed());
        i += n;
    }
    let elapsed = start.elapsed();
    conn.close().await?;
    Ok(Run {
        events: total,
        elapsed,
        // One latency for a single transaction says nothing.
        latencies: if commits > 1 { latencies } else { Vec::new() },
        commits: Some(commits),
    })
}

// -------------------------------------------------------------- machine

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn machine_facts(cfg: &Config) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let tmp = cfg.tmp.to_string_lossy();
    let fs = command_output("df", &["--output=source,fstype,target", &tmp])
        .and_then(|s| {
            s.lines()
                .nth(1)
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = command_output("uname", &["-r"]).unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    println!("machine: nproc={cpus}; cpu: {model}; kernel {kernel}; loadavg at start {load}");
    println!("temp dir: {tmp} on {fs} (source fstype mountpoint)");
    println!("gantry binary: {}", cfg.bin.display());
    println!(
        "load: {} events per HTTP/store run, {} clients, {} run(s) per scenario (medians shown), {}s warm-up per server",
        cfg.events,
        cfg.clients,
        cfg.runs,
        WARMUP.as_secs()
    );
}

// -------------------------------------------------------------------- main

fn repeat<F>(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    name: &str,
    mut f: F,
) -> anyhow::Result<Row>
where
    F: AsyncFnMut() -> anyhow::Result<Run>,
{
    let mut runs = Vec::with_capacity(cfg.runs);
    for i in 1..=cfg.runs {
        let run = rt
            .block_on(f())
            .with_context(|| format!("{name}, run {i}"))?;
        eprintln!(
            "  {name} run {i}/{}: {} events in {:.2}s = {:.0}/s",
            cfg.runs,
            run.events,
            run.elapsed.as_secs_f64(),
            run.rate()
        );
        runs.push(run);
    }
    Ok(summarize(name, &runs))
}

const UP_HTTP: &str = "A  gantry up (SQLite) via HTTP";
const SERVE_HTTP: &str = "B  gantry serve (PostgreSQL) via HTTP";
const RAW_ONE: &str = "C  raw SQLite, 1 txn per insert";
const RAW_32: &str = "D1 raw SQLite, 32 inserts per txn";
const RAW_ALL: &str = "D2 raw SQLite, all inserts in 1 txn";
const STORE_SQLITE: &str = "E  gantry-store SQLite in-process, no HTTP";
const STORE_PG: &str = "F  gantry-store PostgreSQL in-process";

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let cfg = Config::from_env()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!("== gantry store benchmark: durable event appends ==");
    machine_facts(&cfg);

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    rows.push(repeat(&rt, &cfg, UP_HTTP, async || {
        gantry_up_sqlite(&cfg).await
    })?);
    let pg_up = rt.block_on(pg_admin(&cfg, "SELECT 1".into()));
    match &pg_up {
        Ok(()) => {
            rows.push(repeat(&rt, &cfg, SERVE_HTTP, async || {
                gantry_serve_pg(&cfg).await
            })?);
        }
        Err(e) => notes.push(format!("B and F skipped: PostgreSQL unreachable ({e:#})")),
    }
    rows.push(repeat(&rt, &cfg, RAW_ONE, async || {
        raw_sqlite(&cfg, cfg.floor_events, 1).await
    })?);
    rows.push(repeat(&rt, &cfg, RAW_32, async || {
        raw_sqlite(&cfg, cfg.events, cfg.clients).await
    })?);
    rows.push(repeat(&rt, &cfg, RAW_ALL, async || {
        raw_sqlite(&cfg, cfg.events, cfg.events).await
    })?);
    rows.push(repeat(&rt, &cfg, STORE_SQLITE, async || {
        store_sqlite(&cfg).await
    })?);
    if pg_up.is_ok() {
        rows.push(repeat(&rt, &cfg, STORE_PG, async || store_pg(&cfg).await)?);
    }

    println!();
    print_table(&rows);
    println!();
    let rate = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.rate);
    let up = rate(UP_HTTP).unwrap_or(0.0);
    if let Some(one) = rate(RAW_ONE) {
        println!(
            "ratio gantry-SQLite-HTTP / raw-one-txn-per-insert: {:.2}x",
            up / one
        );
    }
    if let Some(b32) = rate(RAW_32) {
        println!(
            "ratio gantry-SQLite-HTTP / raw-batched-32:        {:.2}x",
            up / b32
        );
    }
    if let Some(pg) = rate(SERVE_HTTP) {
        println!(
            "ratio gantry-PostgreSQL-HTTP / gantry-SQLite-HTTP: {:.2}x",
            pg / up
        );
    }
    if let Some(store) = rate(STORE_SQLITE) {
        println!(
            "ratio gantry-SQLite-HTTP / gantry-store-SQLite-in-process: {:.2}x",
            up / store
        );
    }
    if cfg.floor_events != cfg.events {
        notes.push(format!(
            "C inserts {} rows, not {} (BENCH_FLOOR_EVENTS): one fsync per row is slow; its events/s is comparable",
            cfg.floor_events, cfg.events
        ));
    }
    notes.push(
        "p50/p99: per HTTP request (A, B), per append call (E, F), per transaction (C, D1); D2 has one transaction"
            .into(),
    );
    notes.push(
        "ev/commit: events per durable commit (group-commit batch size); unknown over HTTP".into(),
    );
    for n in &notes {
        println!("note: {n}");
    }
    println!(
        "target: >= {TARGET_EVENTS_PER_SEC:.0} events/s on SQLite via HTTP: {} ({up:.0} events/s)",
        if up >= TARGET_EVENTS_PER_SEC {
            "MET"
        } else {
            "NOT MET"
        }
    );
    Ok(())
}
