//! The offline advisory database.
//!
//! Layout under the directory the caller gives (the CLI passes
//! `<data dir>/scan/osv`):
//!
//! - `meta.json`: per ecosystem, the current generation, counts and import
//!   time;
//! - `<ecosystem>-<generation>.records`: that ecosystem's advisories, one
//!   compact JSON object per line, sorted by id (details dropped; only the
//!   ecosystem's own `affected` entries kept);
//! - `<ecosystem>-<generation>.index`: normalised package name → the byte
//!   ranges of its records.
//!
//! A scan reads `meta.json`, then only the index of each ecosystem its
//! packages need, then only the records of packages that have any. An
//! import writes a new generation beside the old one (temp file, fsync,
//! rename), switches `meta.json` to it the same way, and only then deletes
//! the old generation, so a crash leaves either the old or the new database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::osv::{self, Advisory, Parsed};
use crate::finding::{Ecosystem, Finding, Package};

/// OSV's public bucket of per-ecosystem `all.zip` exports.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// A database older than this is stale: the CLI warns, never passes silently.
pub const STALE_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The largest single record read from an archive (a guard against zip bombs).
const MAX_RECORD_BYTES: u64 = 32 * 1024 * 1024;

const FORMAT: u32 = 1;
const META: &str = "meta.json";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "no advisory database in {}: import one with `gantry scan db import FILE.zip` or download one with `gantry scan db update`",
        dir.display()
    )]
    Missing { dir: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: corrupt advisory database: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("downloading {url}: {message}")]
    Download { url: String, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DbError + '_ {
    move |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidRecord {
    /// `archive.zip!entry.json` or the JSON file's path.
    pub source: String,
    /// The record's id, when it could be read.
    pub id: Option<String>,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Valid records read from the inputs.
    pub read: usize,
    /// Valid records with no package in an ecosystem Gantry scans.
    pub unsupported: usize,
    /// Invalid records, skipped.
    pub invalid: Vec<InvalidRecord>,
    /// Per ecosystem touched: the records it holds after the import.
    pub ecosystems: BTreeMap<String, usize>,
}

/// One ecosystem's part of the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcosystemStatus {
    pub ecosystem: Ecosystem,
    pub records: usize,
    /// Of `records`, how many are withdrawn (kept, never matched).
    pub withdrawn: usize,
    /// Distinct package names with at least one record.
    pub packages: usize,
    pub imported_at: SystemTime,
    pub age: Duration,
    pub stale: bool,
    /// Bytes on disk (records and index).
    pub size: u64,
}

/// `gantry scan db status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub ecosystems: Vec<EcosystemStatus>,
    pub records: usize,
    /// The oldest ecosystem import's age; stale when over [`STALE_AFTER`].
    pub age: Duration,
    pub stale: bool,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    format: u32,
    ecosystems: BTreeMap<String, EcoMeta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EcoMeta {
    generation: String,
    records: usize,
    withdrawn: usize,
    packages: usize,
    /// Seconds since the Unix epoch.
    imported_at: u64,
}

type IndexMap = HashMap<String, Vec<[u64; 2]>>;

/// An opened database. Cheap to open: indexes load on first use, per
/// ecosystem.
pub struct Database {
    dir: PathBuf,
    meta: Meta,
    indexes: Mutex<HashMap<Ecosystem, Arc<IndexMap>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read_meta(dir: &Path) -> Result<Option<Meta>, DbError> {
    let path = dir.join(META);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
    };
    let meta: Meta = serde_json::from_str(&text).map_err(|e| DbError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if meta.format != FORMAT {
        return Err(DbError::Corrupt {
            path,
            message: format!(
                "format {} is not the supported format {FORMAT}; import again",
                meta.format
            ),
        });
    }
    for name in meta.ecosystems.keys() {
        if Ecosystem::from_osv_name(name).is_none() {
            return Err(DbError::Corrupt {
                path,
                message: format!("unknown ecosystem `{name}`"),
            });
        }
    }
    Ok(Some(meta))
}

fn file_stem(eco: &str, generation: &str) -> String {
    format!("{eco}-{generation}")
}

/// Writes a file so that a crash leaves either the old content or the new.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = File::open(parent)
    {
        // Persist the rename; not every platform can fsync a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

fn now_secs(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A source of OSV JSON documents.
enum Source {
    Zip { path: PathBuf, entries: Vec<usize> },
    Files(Vec<PathBuf>),
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DbError> {
    let rd = fs::read_dir(dir).map_err(io(dir))?;
    let mut entries: Vec<_> = rd.collect::<Result<_, _>>().map_err(io(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        // DirEntry::file_type does not follow symlinks, so a symlink loop
        // cannot send the walk in circles; symlinked files are read.
        let ft = e.file_type().map_err(io(&e.path()))?;
        let p = e.path();
        if ft.is_dir() {
            collect_json_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") && (ft.is_file() || p.is_file()) {
            out.push(p);
        }
    }
    Ok(())
}

fn open_sources(inputs: &[PathBuf]) -> Result<Vec<Source>, DbError> {
    let mut sources = Vec::new();
    for input in inputs {
        let md = fs::metadata(input).map_err(io(input))?;
        if md.is_dir() {
            let mut files = Vec::new();
            collect_json_files(input, &mut files)?;
            sources.push(Source::Files(files));
        } else {
            let f = File::open(input).map_err(io(input))?;
            let mut zip = zip::ZipArchive::new(f).map_err(|e| DbError::Input {
                path: input.clone(),
                message: format!("not a readable zip archive: {e}"),
            })?;
            let mut entries = Vec::new();
            for i in 0..zip.len() {
                let entry = zip.by_index_raw(i).map_err(|e| DbError::Input {
                    path: input.clone(),
                    message: format!("entry {i}: {e}"),
                })?;
                if entry.is_file() && entry.name().is_ok_and(|n| n.ends_with(".json")) {
                    entries.push(i);
                }
            }
            sources.push(Source::Zip {
                path: input.clone(),
                entries,
            });
        }
    }
    Ok(sources)
}

impl Database {
    /// Opens the database in `dir`; [`DbError::Missing`] when there is none
    /// (scanning without a database is an error, never "no findings").
    pub fn open(dir: &Path) -> Result<Database, DbError> {
        let meta = read_meta(dir)?.ok_or_else(|| DbError::Missing {
            dir: dir.to_path_buf(),
        })?;
        if meta.ecosystems.is_empty() {
            return Err(DbError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        Ok(Database {
            dir: dir.to_path_buf(),
            meta,
            indexes: Mutex::new(HashMap::new()),
        })
    }

    /// The ecosystems the database holds advisories for.
    pub fn ecosystems(&self) -> Vec<Ecosystem> {
        self.meta
            .ecosystems
            .keys()
            .filter_map(|n| Ecosystem::from_osv_name(n))
            .collect()
    }

    /// How long ago the oldest ecosystem was imported.
    pub fn age(&self) -> Duration {
        let now = SystemTime::now();
        self.meta
            .ecosystems
            .values()
            .map(|m| {
                now.duration_since(UNIX_EPOCH + Duration::from_secs(m.imported_at))
                    .unwrap_or_default()
            })
            .max()
            .unwrap_or_default()
    }

    /// Older than [`STALE_AFTER`]: the caller must warn (a stale database
    /// is never a silent pass).
    pub fn is_stale(&self) -> bool {
        self.age() > STALE_AFTER
    }

    /// Ecosystems of `packages` the database has no advisories for: the
    /// caller should warn that those packages were not checked.
    pub fn missing_ecosystems(&self, packages: &[Package]) -> Vec<Ecosystem> {
        let have: HashSet<Ecosystem> = self.ecosystems().into_iter().collect();
        let mut missing: Vec<Ecosystem> = packages
            .iter()
            .map(|p| p.ecosystem)
            .filter(|e| !have.contains(e))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        missing.sort();
        missing
    }

    /// Imports OSV records from `all.zip` exports and directories of OSV
    /// JSON. Invalid records are reported and skipped. Records replace
    /// stored ones with the same id unless the stored one was modified
    /// later. `progress(done, total)` is called as records are read.
    pub fn import(
        dir: &Path,
        inputs: &[PathBuf],
        progress: Option<&dyn Fn(usize, usize)>,
    ) -> Result<ImportReport, DbError> {
        Self::import_at(dir, inputs, progress, SystemTime::now())
    }

    #[doc(hidden)]
    pub fn import_at(
        dir: &Path,
        inputs: &[PathBuf],
        progress: Option<&dyn Fn(usize, usize)>,
        now: SystemTime,
    ) -> Result<ImportReport, DbError> {
        let sources = open_sources(inputs)?;
        let total: usize = sources
            .iter()
            .map(|s| match s {
                Source::Zip { entries, .. } => entries.len(),
                Source::Files(f) => f.len(),
            })
            .sum();
        let mut report = ImportReport::default();
        let mut by_eco: BTreeMap<Ecosystem, BTreeMap<String, Advisory>> = BTreeMap::new();
        let mut done = 0usize;
        let mut take =
            |source: String, bytes: Result<Vec<u8>, String>, report: &mut ImportReport| {
                let parsed = match bytes {
                    Ok(b) => osv::parse_record(&b),
                    Err(reason) => Parsed::Invalid { id: None, reason },
                };
                match parsed {
                    Parsed::Invalid { id, reason } => {
                        report.invalid.push(InvalidRecord { source, id, reason })
                    }
                    Parsed::Valid(adv) => {
                        report.read += 1;
                        let ecos: BTreeMap<Ecosystem, ()> =
                            adv.affected.iter().map(|a| (a.ecosystem, ())).collect();
                        if ecos.is_empty() {
                            report.unsupported += 1;
                        }
                        for eco in ecos.into_keys() {
                            let mut part = adv.clone();
                            part.affected.retain(|a| a.ecosystem == eco);
                            let slot = by_eco.entry(eco).or_default();
                            merge(slot, part);
                        }
                    }
                }
            };
        for source in sources {
            match source {
                Source::Zip { path, entries } => {
                    let f = File::open(&path).map_err(io(&path))?;
                    let mut zip = zip::ZipArchive::new(f).map_err(|e| DbError::Input {
                        path: path.clone(),
                        message: format!("not a readable zip archive: {e}"),
                    })?;
                    for i in entries {
                        let (name, bytes) = match zip.by_index(i) {
                            Ok(mut entry) => {
                                let name = entry
                                    .name()
                                    .map_or_else(|_| format!("#{i}"), |n| n.to_string());
                                let bytes = if entry.size() > MAX_RECORD_BYTES {
                                    Err(format!("record larger than {MAX_RECORD_BYTES} bytes"))
                                } else {
                                    let mut buf = Vec::with_capacity(entry.size() as usize);
                                    match (&mut entry)
                                        .take(MAX_RECORD_BYTES + 1)
                                        .read_to_end(&mut buf)
                                    {
                                        Ok(_) if buf.len() as u64 > MAX_RECORD_BYTES => Err(
                                            format!("record larger than {MAX_RECORD_BYTES} bytes"),
                                        ),
                                        Ok(_) => Ok(buf),
                                        Err(e) => Err(format!("cannot read the entry: {e}")),
                                    }
                                };
                                (name, bytes)
                            }
                            Err(e) => (format!("#{i}"), Err(format!("cannot read the entry: {e}"))),
                        };
                        take(format!("{}!{name}", path.display()), bytes, &mut report);
                        done += 1;
                        if let Some(p) = progress {
                            p(done, total);
                        }
                    }
                }
                Source::Files(files) => {
                    for file in files {
                        let bytes = match fs::metadata(&file) {
                            Ok(md) if md.len() > MAX_RECORD_BYTES => {
                                Err(format!("record larger than {MAX_RECORD_BYTES} bytes"))
                            }
                            _ => fs::read(&file).map_err(|e| format!("cannot read: {e}")),
                        };
                        take(file.display().to_string(), bytes, &mut report);
                        done += 1;
                        if let Some(p) = progress {
                            p(done, total);
                        }
                    }
                }
            }
        }

        fs::create_dir_all(dir).map_err(io(dir))?;
        // One import at a time per database: the lock is held until this
        // function returns (the OS releases it if the process dies).
        let lock_path = dir.join(".import.lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        let mut meta = read_meta(dir)?.unwrap_or(Meta {
            format: FORMAT,
            ecosystems: BTreeMap::new(),
        });
        let mut old_stems = Vec::new();
        // Named by the clock under the lock, so each import's files differ
        // from the live generation's.
        let mut generation = format!(
            "{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        if meta.ecosystems.values().any(|m| m.generation == generation) {
            generation.push_str("-1");
        }
        for (eco, mut new) in by_eco {
            let name = eco.osv_name();
            if let Some(old) = meta.ecosystems.get(name) {
                let stem = file_stem(name, &old.generation);
                for adv in load_all(&dir.join(format!("{stem}.records")))? {
                    let id = adv.id.clone();
                    match new.get(&id) {
                        Some(n) if n.modified.as_str() >= adv.modified.as_str() => {}
                        _ => {
                            new.insert(id, adv);
                        }
                    }
                }
                old_stems.push(stem);
            }
            let stem = file_stem(name, &generation);
            let encoded = encode(eco, &new)?;
            write_atomic(&dir.join(format!("{stem}.records")), &encoded.records)?;
            write_atomic(&dir.join(format!("{stem}.index")), &encoded.index)?;
            report.ecosystems.insert(name.to_string(), new.len());
            meta.ecosystems.insert(
                name.to_string(),
                EcoMeta {
                    generation: generation.clone(),
                    records: new.len(),
                    withdrawn: new.values().filter(|a| a.withdrawn).count(),
                    packages: encoded.packages,
                    imported_at: now_secs(now),
                },
            );
        }
        let meta_bytes = serde_json::to_vec_pretty(&meta).map_err(|e| DbError::Corrupt {
            path: dir.join(META),
            message: e.to_string(),
        })?;
        write_atomic(&dir.join(META), &meta_bytes)?;
        for stem in old_stems {
            // The new generation is live; failing to delete the old one
            // only wastes space.
            let _ = fs::remove_file(dir.join(format!("{stem}.records")));
            let _ = fs::remove_file(dir.join(format!("{stem}.index")));
        }
        Ok(report)
    }

    /// Downloads `{base_url}/{ecosystem}/all.zip` for each ecosystem (all
    /// that Gantry scans when `ecosystems` is empty) and imports them. The
    /// import itself runs on the calling task.
    pub async fn update(
        dir: &Path,
        base_url: &str,
        ecosystems: &[Ecosystem],
        progress: Option<&(dyn Fn(usize, usize) + Sync)>,
    ) -> Result<ImportReport, DbError> {
        let ecosystems: Vec<Ecosystem> = if ecosystems.is_empty() {
            Ecosystem::ALL.to_vec()
        } else {
            ecosystems.to_vec()
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let client = reqwest::Client::new();
        let mut files = Vec::new();
        let result = async {
            for eco in &ecosystems {
                let url = format!(
                    "{}/{}/all.zip",
                    base_url.trim_end_matches('/'),
                    eco.osv_name()
                );
                let derr = |message: String| DbError::Download {
                    url: url.clone(),
                    message,
                };
                let resp = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| derr(e.to_string()))?;
                if !resp.status().is_success() {
                    return Err(derr(format!("HTTP {}", resp.status())));
                }
                let body = resp.bytes().await.map_err(|e| derr(e.to_string()))?;
                let path = dir.join(format!(".download-{}.zip", eco.osv_name()));
                files.push(path.clone());
                write_atomic(&path, &body)?;
            }
            Database::import(dir, &files, progress.map(|p| p as &dyn Fn(usize, usize)))
        }
        .await;
        for f in &files {
            let _ = fs::remove_file(f);
        }
        result
    }

    /// Counts, import times and ages.
    pub fn status(dir: &Path) -> Result<Status, DbError> {
        Self::status_at(dir, SystemTime::now())
    }

    #[doc(hidden)]
    pub fn status_at(dir: &Path, now: SystemTime) -> Result<Status, DbError> {
        let meta = read_meta(dir)?.ok_or_else(|| DbError::Missing {
            dir: dir.to_path_buf(),
        })?;
        if meta.ecosystems.is_empty() {
            return Err(DbError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let mut ecosystems = Vec::new();
        for (name, m) in &meta.ecosystems {
            let Some(ecosystem) = Ecosystem::from_osv_name(name) else {
                continue;
            };
            let imported_at = UNIX_EPOCH + Duration::from_secs(m.imported_at);
            let age = now.duration_since(imported_at).unwrap_or_default();
            let stem = file_stem(name, &m.generation);
            let size = ["records", "index"]
                .iter()
                .map(|x| fs::metadata(dir.join(format!("{stem}.{x}"))).map_or(0, |md| md.len()))
                .sum();
            ecosystems.push(EcosystemStatus {
                ecosystem,
                records: m.records,
                withdrawn: m.withdrawn,
                packages: m.packages,
                imported_at,
                age,
                stale: age > STALE_AFTER,
                size,
            });
        }
        let age = ecosystems.iter().map(|e| e.age).max().unwrap_or_default();
        Ok(Status {
            records: ecosystems.iter().map(|e| e.records).sum(),
            size: ecosystems.iter().map(|e| e.size).sum(),
            stale: age > STALE_AFTER,
            age,
            ecosystems,
        })
    }

    fn index(&self, eco: Ecosystem) -> Result<Option<Arc<IndexMap>>, DbError> {
        let Some(m) = self.meta.ecosystems.get(eco.osv_name()) else {
            return Ok(None);
        };
        // A poisoned lock only means another scan panicked; the cache is
        // still a plain map of loaded indexes.
        let mut cache = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ix) = cache.get(&eco) {
            return Ok(Some(ix.clone()));
        }
        let path = self.dir.join(format!(
            "{}.index",
            file_stem(eco.osv_name(), &m.generation)
        ));
        let bytes = fs::read(&path).map_err(io(&path))?;
        let map: IndexMap = serde_json::from_slice(&bytes).map_err(|e| DbError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let ix = Arc::new(map);
        cache.insert(eco, ix.clone());
        Ok(Some(ix))
    }

    /// Every advisory affecting each package, as findings sorted by
    /// location then advisory id. Packages of ecosystems the database does
    /// not hold are not checked (see [`Database::missing_ecosystems`]).
    pub fn scan(&self, packages: &[Package]) -> Result<Vec<Finding>, DbError> {
        let mut findings = Vec::new();
        let mut by_eco: BTreeMap<Ecosystem, Vec<&Package>> = BTreeMap::new();
        for p in packages {
            by_eco.entry(p.ecosystem).or_default().push(p);
        }
        for (eco, pkgs) in by_eco {
            let Some(index) = self.index(eco)? else {
                continue;
            };
            let Some(m) = self.meta.ecosystems.get(eco.osv_name()) else {
                continue;
            };
            let path = self.dir.join(format!(
                "{}.records",
                file_stem(eco.osv_name(), &m.generation)
            ));
            let mut file: Option<File> = None;
            let mut cache: HashMap<u64, Arc<Advisory>> = HashMap::new();
            for p in pkgs {
                let Some(spans) = index.get(&osv::normalize_name(eco, &p.name)) else {
                    continue;
                };
                for &[offset, len] in spans {
                    let adv = match cache.get(&offset) {
                        Some(a) => a.clone(),
                        None => {
                            let f = match &mut file {
                                Some(f) => f,
                                None => file.insert(File::open(&path).map_err(io(&path))?),
                            };
                            let adv = Arc::new(read_record(f, &path, offset, len)?);
                            cache.insert(offset, adv.clone());
                            adv
                        }
                    };
                    if let Some(m) = adv.matches(p) {
                        findings.push(adv.finding(p, &m));
                    }
                }
            }
        }
        findings.sort_by(|a, b| {
            let la = a.location.as_ref().map(|l| (l.path.as_str(), l.line));
            let lb = b.location.as_ref().map(|l| (l.path.as_str(), l.line));
            la.cmp(&lb).then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        Ok(findings)
    }
}

fn read_record(f: &mut File, path: &Path, offset: u64, len: u64) -> Result<Advisory, DbError> {
    let corrupt = |message: String| DbError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    if len > MAX_RECORD_BYTES {
        return Err(corrupt(format!("record at {offset} claims {len} bytes")));
    }
    f.seek(SeekFrom::Start(offset)).map_err(io(path))?;
    let mut buf = vec![0; len as usize];
    f.read_exact(&mut buf)
        .map_err(|e| corrupt(format!("record at {offset}: {e}")))?;
    serde_json::from_slice(&buf).map_err(|e| corrupt(format!("record at {offset}: {e}")))
}

fn load_all(path: &Path) -> Result<Vec<Advisory>, DbError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| DbError::Corrupt {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// A newer copy of a record (by `modified`) replaces an older one.
fn merge(slot: &mut BTreeMap<String, Advisory>, adv: Advisory) {
    match slot.get(&adv.id) {
        Some(old) if old.modified > adv.modified => {}
        _ => {
            slot.insert(adv.id.clone(), adv);
        }
    }
}

/// A generation's files, encoded.
struct Encoded {
    records: Vec<u8>,
    index: Vec<u8>,
    /// Distinct package names.
    packages: usize,
}

/// The records file and the index.
fn encode(eco: Ecosystem, records: &BTreeMap<String, Advisory>) -> Result<Encoded, DbError> {
    let mut out = Vec::new();
    let mut index: BTreeMap<String, Vec<[u64; 2]>> = BTreeMap::new();
    for adv in records.values() {
        let offset = out.len() as u64;
        serde_json::to_writer(&mut out, adv).map_err(|e| DbError::Corrupt {
            path: PathBuf::from(eco.osv_name()),
            message: e.to_string(),
        })?;
        let len = out.len() as u64 - offset;
        out.push(b'\n');
        let names: HashSet<String> = adv
            .affected
            .iter()
            .map(|a| osv::normalize_name(eco, &a.name))
            .collect();
        for n in names {
            index.entry(n).or_default().push([offset, len]);
        }
    }
    let packages = index.len();
    let ix = serde_json::to_vec(&index).map_err(|e| DbError::Corrupt {
        path: PathBuf::from(eco.osv_name()),
        message: e.to_string(),
    })?;
    Ok(Encoded {
        records: out,
        index: ix,
        packages,
    })
}
