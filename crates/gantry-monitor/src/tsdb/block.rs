//! Immutable on-disk blocks: the samples of a time range, written once
//! when the head is cut or blocks are compacted, deleted by retention.
//!
//! A block is a directory `blocks/<id>/` with
//! - `meta.json`: id, `minTime`/`maxTime` (ms, max exclusive), counts,
//!   compaction level and the source blocks;
//! - `chunks`: [`XorChunk`] bytes, each prefixed by its length (u32 LE);
//! - `index`: a symbol table, then series (label symbol refs and chunk
//!   references: min/max time, offset into `chunks`), then a CRC-32C.
//!
//! Blocks are written into `<id>.tmp`, fsynced and renamed, so a crash
//! leaves either a whole block or a `.tmp` that open removes. Opening
//! reads the index into memory (labels interned, postings built); chunk
//! bytes are read from disk per query.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Series;
use super::chunk::{self, XorChunk};
use super::head::SAMPLES_PER_CHUNK;
use super::wal::crc32c;
use crate::labels::{Labels, MatchOp, Matcher};

const INDEX_MAGIC: &[u8; 8] = b"GTSIDX01";

#[derive(Debug, Error)]
pub enum BlockError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlockError + '_ {
    move |source| BlockError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> BlockError {
    BlockError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    pub id: String,
    pub min_time: i64,
    /// Exclusive.
    pub max_time: i64,
    pub stats: BlockStats,
    pub compaction: Compaction,
    pub version: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    pub num_series: u64,
    pub num_samples: u64,
    pub num_chunks: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Compaction {
    pub level: u32,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct ChunkRef {
    min_t: i64,
    max_t: i64,
    offset: u64,
}

#[derive(Debug)]
struct BlockSeries {
    labels: Labels,
    chunks: Vec<ChunkRef>,
}

/// An open block.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    series: Vec<BlockSeries>,
    postings: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<u32>>>,
    chunks: File,
    size: u64,
}

/// A new block id: milliseconds and random bits in hex, sortable by time.
fn new_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    format!("{ms:013x}{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    // Uniqueness, not secrecy: the process id and a clock read mixed.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = nanos ^ ((std::process::id() as u64) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

struct Reader<'a> {
    b: &'a [u8],
}

impl Reader<'_> {
    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for (i, &byte) in self.b.iter().enumerate().take(10) {
            v |= ((byte & 0x7f) as u64) << (7 * i);
            if byte < 0x80 {
                self.b = &self.b[i + 1..];
                return Some(v);
            }
        }
        None
    }

    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(..n)?;
        self.b = &self.b[n..];
        Some(s)
    }
}

fn sync_dir(dir: &Path) -> Result<(), BlockError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes a block of `series` (each with samples sorted by time, all in
/// `min_time..max_time`) under `blocks_dir` and opens it.
/// Part of one series' data for a block, in time order.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Sorted, deduplicated samples, encoded into chunks when written.
    Samples(Vec<(i64, f64)>),
    /// A chunk already encoded (its bytes as [`XorChunk::to_bytes`] writes
    /// them) with its first and last timestamps, copied as it is.
    Chunk {
        min_t: i64,
        max_t: i64,
        bytes: Vec<u8>,
    },
}

/// Writes a block of `series`, each a label set and a source its samples
/// are read from (`samples_of`, sorted and deduplicated) when its turn
/// comes: one series' samples are in memory at a time, not the block's.
pub fn write<T>(
    blocks_dir: &Path,
    mut series: Vec<(Labels, T)>,
    mut samples_of: impl FnMut(&T) -> Result<Vec<Part>, BlockError>,
    min_time: i64,
    max_time: i64,
    compaction: Compaction,
) -> Result<Block, BlockError> {
    fs::create_dir_all(blocks_dir).map_err(io(blocks_dir))?;
    let id = new_id();
    let tmp = blocks_dir.join(format!("{id}.tmp"));
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let chunks_path = tmp.join("chunks");
    let mut chunks = BufWriter::new(File::create(&chunks_path).map_err(io(&chunks_path))?);
    let mut offset = 0u64;
    let mut stats = BlockStats::default();
    let mut symbols: BTreeMap<Arc<str>, u32> = BTreeMap::new();
    let mut entries: Vec<(Labels, Vec<ChunkRef>)> = Vec::new();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    for (labels, source) in series {
        let parts = samples_of(&source)?;
        let mut refs = Vec::new();
        let mut n_samples = 0u64;
        let mut put = |bytes: &[u8], min_t: i64, max_t: i64| -> Result<(), BlockError> {
            chunks
                .write_all(&(bytes.len() as u32).to_le_bytes())
                .and_then(|_| chunks.write_all(bytes))
                .map_err(io(&chunks_path))?;
            refs.push(ChunkRef {
                min_t,
                max_t,
                offset,
            });
            offset += 4 + bytes.len() as u64;
            stats.num_chunks += 1;
            Ok(())
        };
        for part in parts {
            match part {
                // Encoded already (a whole head chunk): copied as it is.
                Part::Chunk {
                    min_t,
                    max_t,
                    bytes,
                } => {
                    n_samples += bytes
                        .get(..2)
                        .map_or(0, |c| u16::from_be_bytes([c[0], c[1]]) as u64);
                    put(&bytes, min_t, max_t)?;
                }
                Part::Samples(samples) => {
                    for run in samples.chunks(SAMPLES_PER_CHUNK) {
                        let mut c = XorChunk::new();
                        for &(t, v) in run {
                            // Samples come sorted and deduplicated from the
                            // head or blocks.
                            if c.append(t, v).is_err() {
                                continue;
                            }
                        }
                        put(&c.to_bytes(), run[0].0, run[run.len() - 1].0)?;
                    }
                    n_samples += samples.len() as u64;
                }
            }
        }
        if refs.is_empty() {
            continue;
        }
        stats.num_samples += n_samples;
        stats.num_series += 1;
        for (k, v) in labels.pairs() {
            symbols.entry(k.clone()).or_insert(0);
            symbols.entry(v.clone()).or_insert(0);
        }
        entries.push((labels, refs));
    }
    let file = chunks
        .into_inner()
        .map_err(|e| io(&chunks_path)(e.into_error()))?;
    file.sync_all().map_err(io(&chunks_path))?;

    for (i, v) in symbols.values_mut().enumerate() {
        *v = i as u32;
    }
    let mut index = Vec::new();
    index.extend_from_slice(INDEX_MAGIC);
    put_uvarint(&mut index, symbols.len() as u64);
    for s in symbols.keys() {
        put_uvarint(&mut index, s.len() as u64);
        index.extend_from_slice(s.as_bytes());
    }
    put_uvarint(&mut index, entries.len() as u64);
    for (labels, refs) in &entries {
        put_uvarint(&mut index, labels.len() as u64);
        for (k, v) in labels.pairs() {
            put_uvarint(&mut index, symbols[k] as u64);
            put_uvarint(&mut index, symbols[v] as u64);
        }
        put_uvarint(&mut index, refs.len() as u64);
        for r in refs {
            put_varint(&mut index, r.min_t);
            put_varint(&mut index, r.max_t - r.min_t);
            put_uvarint(&mut index, r.offset);
        }
    }
    let crc = crc32c(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    let index_path = tmp.join("index");
    write_synced(&index_path, &index)?;
    let meta = BlockMeta {
        id: id.clone(),
        min_time,
        max_time,
        stats,
        compaction,
        version: 1,
    };
    let meta_path = tmp.join("meta.json");
    // Serializing a struct of numbers and strings cannot fail.
    let json = serde_json::to_vec_pretty(&meta).unwrap_or_default();
    write_synced(&meta_path, &json)?;
    sync_dir(&tmp)?;
    let dir = blocks_dir.join(&id);
    fs::rename(&tmp, &dir).map_err(io(&dir))?;
    sync_dir(blocks_dir)?;
    Block::open(&dir)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BlockError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Directory size in bytes (files directly inside it).
fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

impl Block {
    pub fn open(dir: &Path) -> Result<Block, BlockError> {
        let meta_path = dir.join("meta.json");
        let meta_bytes = fs::read(&meta_path).map_err(io(&meta_path))?;
        let meta: BlockMeta =
            serde_json::from_slice(&meta_bytes).map_err(|e| corrupt(&meta_path, e.to_string()))?;
        let index_path = dir.join("index");
        let index = fs::read(&index_path).map_err(io(&index_path))?;
        if index.len() < INDEX_MAGIC.len() + 4 || &index[..8] != INDEX_MAGIC {
            return Err(corrupt(&index_path, "not a block index"));
        }
        let (body, crc) = index.split_at(index.len() - 4);
        let want = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32c(body) != want {
            return Err(corrupt(&index_path, "checksum mismatch"));
        }
        let bad = || corrupt(&index_path, "truncated or malformed index");
        let mut r = Reader { b: &body[8..] };
        let n_symbols = r.uvarint().ok_or_else(bad)? as usize;
        if n_symbols > body.len() {
            return Err(bad());
        }
        let mut symbols: Vec<Arc<str>> = Vec::with_capacity(n_symbols);
        for _ in 0..n_symbols {
            let n = r.uvarint().ok_or_else(bad)? as usize;
            let s = std::str::from_utf8(r.bytes(n).ok_or_else(bad)?).map_err(|_| bad())?;
            symbols.push(Arc::from(s));
        }
        let sym = |i: u64| symbols.get(i as usize).cloned();
        let n_series = r.uvarint().ok_or_else(bad)? as usize;
        if n_series > body.len() {
            return Err(bad());
        }
        let mut series = Vec::with_capacity(n_series);
        let mut postings: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<u32>>> = HashMap::new();
        for i in 0..n_series {
            let nl = r.uvarint().ok_or_else(bad)? as usize;
            if nl > body.len() {
                return Err(bad());
            }
            let mut pairs = Vec::with_capacity(nl);
            for _ in 0..nl {
                let k = sym(r.uvarint().ok_or_else(bad)?).ok_or_else(bad)?;
                let v = sym(r.uvarint().ok_or_else(bad)?).ok_or_else(bad)?;
                postings
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(i as u32);
                pairs.push((k, v));
            }
            let nc = r.uvarint().ok_or_else(bad)? as usize;
            if nc > body.len() {
                return Err(bad());
            }
            let mut chunks = Vec::with_capacity(nc);
            for _ in 0..nc {
                let min_t = r.varint().ok_or_else(bad)?;
                let max_t = min_t.wrapping_add(r.varint().ok_or_else(bad)?);
                let offset = r.uvarint().ok_or_else(bad)?;
                chunks.push(ChunkRef {
                    min_t,
                    max_t,
                    offset,
                });
            }
            series.push(BlockSeries {
                labels: Labels::new(pairs),
                chunks,
            });
        }
        let chunks_path = dir.join("chunks");
        let chunks = File::open(&chunks_path).map_err(io(&chunks_path))?;
        Ok(Block {
            dir: dir.to_path_buf(),
            size: dir_size(dir),
            meta,
            series,
            postings,
            chunks,
        })
    }

    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes on disk.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn select_indexes(&self, matchers: &[Matcher]) -> Vec<u32> {
        let mut keep: Vec<bool> = vec![true; self.series.len()];
        for m in matchers {
            if m.op == MatchOp::Equal && !m.matches("") {
                let hit = self
                    .postings
                    .get(m.name.as_str())
                    .and_then(|vals| vals.get(m.value.as_str()));
                let mut mask = vec![false; self.series.len()];
                for &i in hit.into_iter().flatten() {
                    mask[i as usize] = true;
                }
                for (k, m) in keep.iter_mut().zip(mask) {
                    *k &= m;
                }
            } else {
                for (i, k) in keep.iter_mut().enumerate() {
                    if *k {
                        *k = m.matches_labels(&self.series[i].labels);
                    }
                }
            }
        }
        keep.iter()
            .enumerate()
            .filter_map(|(i, k)| k.then_some(i as u32))
            .collect()
    }

    /// Series matching every matcher with their samples in `mint..=maxt`.
    pub fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, BlockError> {
        let mut out = Vec::new();
        for i in self.select_indexes(matchers) {
            let samples = self.samples(i, mint, maxt)?;
            if !samples.is_empty() {
                out.push(Series {
                    labels: self.series[i as usize].labels.clone(),
                    samples,
                });
            }
        }
        Ok(out)
    }

    /// Every series' index and labels, in label order.
    pub(crate) fn series_labels(&self) -> impl Iterator<Item = (u32, &Labels)> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, &s.labels))
    }

    /// The samples of the series at `index` in `mint..=maxt`.
    pub(crate) fn samples(
        &self,
        index: u32,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(i64, f64)>, BlockError> {
        let path = self.dir.join("chunks");
        let mut samples = Vec::new();
        let Some(s) = self.series.get(index as usize) else {
            return Ok(samples);
        };
        for c in s
            .chunks
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
        {
            let mut len = [0u8; 4];
            self.chunks
                .read_exact_at(&mut len, c.offset)
                .map_err(io(&path))?;
            let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
            self.chunks
                .read_exact_at(&mut bytes, c.offset + 4)
                .map_err(io(&path))?;
            let mut it = chunk::iter_bytes(&bytes).map_err(|e| corrupt(&path, e.to_string()))?;
            samples.extend(it.by_ref().filter(|(t, _)| *t >= mint && *t <= maxt));
            if it.truncated() {
                return Err(corrupt(
                    &path,
                    format!("chunk at byte {} is truncated", c.offset),
                ));
            }
        }
        Ok(samples)
    }

    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.postings.keys().map(|k| &**k)
    }

    pub fn label_values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.postings
            .get(name)
            .into_iter()
            .flat_map(|vals| vals.keys().map(|v| &**v))
    }
}
