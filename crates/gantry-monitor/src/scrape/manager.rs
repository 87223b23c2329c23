//! Runs the scrape loops: one task per target, targets re-resolved when
//! discovery changes, results handed to a [`SampleSink`], health kept for
//! `/api/v1/targets`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::discovery::FileSd;
use super::{
    DroppedTarget, MetricMetadata, ScrapeConfig, ScrapeLoop, Target, resolve_targets, scrape,
};
use crate::LabeledSample;
use crate::labels::Labels;

/// Where scraped samples go (the store, in the server).
pub trait SampleSink: Send + Sync {
    /// Stores a batch durably; an error is recorded on the target.
    fn append(&self, batch: Vec<LabeledSample>) -> Result<(), String>;
}

/// Stores a batch from an async task: on the blocking pool, because a
/// sink fsyncs.
pub async fn store(sink: &Arc<dyn SampleSink>, batch: Vec<LabeledSample>) -> Result<(), String> {
    let sink = sink.clone();
    tokio::task::spawn_blocking(move || sink.append(batch))
        .await
        .unwrap_or_else(|e| Err(format!("the storing task failed: {e}")))
}

/// How often file-based discovery checks its files for changes.
pub const FILE_SD_POLL: Duration = Duration::from_secs(5);

/// A target's health, as `/api/v1/targets` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetHealth {
    pub scrape_pool: String,
    pub scrape_url: String,
    pub labels: Labels,
    pub discovered: BTreeMap<String, String>,
    /// `up`, `down` or `unknown` (not scraped yet).
    pub health: &'static str,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_scrape_duration: Duration,
    pub interval: Duration,
    pub timeout: Duration,
}

/// Everything the targets API shows.
#[derive(Debug, Clone, Default)]
pub struct TargetsView {
    pub active: Vec<TargetHealth>,
    /// Metadata of scraped families, by metric name.
    pub metadata: BTreeMap<String, Vec<MetricMetadata>>,
    pub dropped: Vec<(String, DroppedTarget)>,
    /// Discovery problems (unreadable file_sd files).
    pub discovery_errors: Vec<String>,
}

/// What the pools and target loops report, read by [`ScrapeManager::view`].
#[derive(Default)]
struct Shared {
    health: RwLock<BTreeMap<(String, String, Labels), TargetHealth>>,
    dropped: RwLock<BTreeMap<String, Vec<DroppedTarget>>>,
    discovery_errors: RwLock<BTreeMap<String, Vec<String>>>,
    metadata: RwLock<BTreeMap<String, Vec<MetricMetadata>>>,
}

/// Owns the scrape pools.
pub struct ScrapeManager {
    configs: Vec<ScrapeConfig>,
    sink: Arc<dyn SampleSink>,
    client: reqwest::Client,
    shared: Arc<Shared>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl ScrapeManager {
    pub fn new(configs: Vec<ScrapeConfig>, sink: Arc<dyn SampleSink>) -> ScrapeManager {
        let client = reqwest::Client::builder()
            .user_agent(concat!("Gantry/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building a client without custom TLS roots or proxies cannot fail.
            .unwrap_or_default();
        ScrapeManager {
            configs,
            sink,
            client,
            shared: Arc::default(),
        }
    }

    /// A snapshot for the targets API.
    pub fn view(&self) -> impl Fn() -> TargetsView + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || TargetsView {
            metadata: shared
                .metadata
                .read()
                .map(|m| m.clone())
                .unwrap_or_default(),
            active: shared
                .health
                .read()
                .map(|h| h.values().cloned().collect())
                .unwrap_or_default(),
            dropped: shared
                .dropped
                .read()
                .map(|d| {
                    d.iter()
                        .flat_map(|(job, ts)| ts.iter().map(|t| (job.clone(), t.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            discovery_errors: shared
                .discovery_errors
                .read()
                .map(|e| e.values().flatten().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// Scrapes until `shutdown` becomes true, then writes stale markers for
    /// every target and returns.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut pools = Vec::new();
        for cfg in self.configs.clone() {
            let pool = Pool {
                cfg: Arc::new(cfg),
                sink: self.sink.clone(),
                client: self.client.clone(),
                shared: self.shared.clone(),
            };
            pools.push(tokio::spawn(pool.run(shutdown.clone())));
        }
        for p in pools {
            let _ = p.await;
        }
    }
}

struct Pool {
    cfg: Arc<ScrapeConfig>,
    sink: Arc<dyn SampleSink>,
    client: reqwest::Client,
    shared: Arc<Shared>,
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Pool {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut file_sd: Vec<FileSd> = self
            .cfg
            .file_sd_configs
            .iter()
            .map(|_| FileSd::default())
            .collect();
        let mut running: HashMap<(String, Labels), Running> = HashMap::new();
        let mut first = true;
        loop {
            let mut changed = first;
            first = false;
            let mut errors = Vec::new();
            for (sd, cfg) in file_sd.iter_mut().zip(&self.cfg.file_sd_configs) {
                changed |= sd.refresh(cfg);
                errors.extend(sd.errors.iter().cloned());
            }
            if let Ok(mut e) = self.shared.discovery_errors.write() {
                e.insert(self.cfg.job_name.clone(), errors);
            }
            if changed {
                let mut groups = self.cfg.static_configs.clone();
                for sd in &file_sd {
                    groups.extend(sd.groups());
                }
                let (active, dropped) = resolve_targets(&self.cfg, &groups);
                if let Ok(mut d) = self.shared.dropped.write() {
                    d.insert(self.cfg.job_name.clone(), dropped);
                }
                let keys: Vec<(String, Labels)> = active
                    .iter()
                    .map(|t| (t.url.clone(), t.labels.clone()))
                    .collect();
                let gone: Vec<(String, Labels)> = running
                    .keys()
                    .filter(|k| !keys.contains(k))
                    .cloned()
                    .collect();
                for k in gone {
                    if let Some(r) = running.remove(&k) {
                        let _ = r.stop.send(true);
                        let _ = r.task.await;
                    }
                }
                for t in active {
                    let key = (t.url.clone(), t.labels.clone());
                    if running.contains_key(&key) {
                        continue;
                    }
                    let (stop, stop_rx) = watch::channel(false);
                    let task = tokio::spawn(target_loop(
                        self.cfg.clone(),
                        t,
                        self.sink.clone(),
                        self.client.clone(),
                        self.shared.clone(),
                        stop_rx,
                    ));
                    running.insert(key, Running { stop, task });
                }
            }
            let wait = if self.cfg.file_sd_configs.is_empty() {
                Duration::from_secs(3600)
            } else {
                self.cfg
                    .file_sd_configs
                    .iter()
                    .map(|c| c.refresh_interval)
                    .min()
                    .unwrap_or(FILE_SD_POLL)
                    .min(FILE_SD_POLL)
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        for (_, r) in running.drain() {
            let _ = r.stop.send(true);
            let _ = r.task.await;
        }
    }
}

/// The offset of a target's scrapes within the interval: spread by a hash
/// of its URL and labels, so targets do not all fire at once.
fn offset(interval: Duration, target: &Target) -> Duration {
    let h = target.labels.stable_hash() ^ Labels::new([("u", target.url.as_str())]).stable_hash();
    let ms = interval.as_millis().max(1) as u64;
    Duration::from_millis(h % ms)
}

async fn target_loop(
    cfg: Arc<ScrapeConfig>,
    target: Target,
    sink: Arc<dyn SampleSink>,
    client: reqwest::Client,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let health = &shared.health;
    let key = (
        cfg.job_name.clone(),
        target.url.clone(),
        target.labels.clone(),
    );
    let mut status = TargetHealth {
        scrape_pool: cfg.job_name.clone(),
        scrape_url: target.url.clone(),
        labels: target.labels.clone(),
        discovered: target.discovered.clone(),
        health: "unknown",
        last_error: String::new(),
        last_scrape: None,
        last_scrape_duration: Duration::ZERO,
        interval: cfg.scrape_interval,
        timeout: cfg.scrape_timeout,
    };
    if let Ok(mut h) = health.write() {
        h.insert(key.clone(), status.clone());
    }
    let mut state = ScrapeLoop::default();
    let start = tokio::time::Instant::now() + offset(cfg.scrape_interval, &target);
    let mut ticker = tokio::time::interval_at(start, cfg.scrape_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let now = now_ms();
        let outcome = scrape(&client, &cfg, &target, now).await;
        let batch = state.finish(&target, &outcome, now);
        let stored = store(&sink, batch).await;
        if !outcome.metadata.is_empty()
            && let Ok(mut m) = shared.metadata.write()
        {
            for md in &outcome.metadata {
                let list = m.entry(md.metric.clone()).or_default();
                if !list.contains(md) {
                    list.push(md.clone());
                    list.sort();
                }
            }
        }
        status.health = if outcome.error.is_none() {
            "up"
        } else {
            "down"
        };
        status.last_error = match (&outcome.error, stored) {
            (Some(e), _) => e.clone(),
            (None, Err(e)) => format!("storing samples: {e}"),
            (None, Ok(())) => String::new(),
        };
        status.last_scrape = Some(SystemTime::now());
        status.last_scrape_duration = outcome.duration;
        if let Ok(mut h) = health.write() {
            h.insert(key.clone(), status.clone());
        }
    }
    // Out of the targets view first: once its staleness markers are
    // stored, the target is gone.
    if let Ok(mut h) = health.write() {
        h.remove(&key);
    }
    let _ = store(&sink, state.stop(&target, now_ms())).await;
}
