//! The store as a whole: the head, fed and rebuilt through the WAL, and
//! the blocks it is cut into, compacted and expired.
//!
//! Lifecycle ([`Db::maintain`], called periodically): once the head spans
//! 1.5 block ranges, its oldest aligned range is written as a block, the
//! head is truncated and the WAL checkpointed; adjacent blocks are merged
//! into blocks of 3×, 9×, ... the range; blocks past the time retention,
//! or the oldest ones while the store is over its size retention, are
//! deleted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::block::{self, Block, BlockError, BlockMeta, Compaction, Part};
use super::head::{self, Head, SeriesRef};
use super::wal::{Record, RefSample, ReplayStats, SyncPoint, Wal, WalError};
use super::{Queryable, Series};
use crate::LabeledSample;
use crate::labels::{Labels, Matcher};

#[derive(Debug, Error)]
pub enum DbError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error(transparent)]
    Head(#[from] head::AppendError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How an append batch went: samples stored, and the first few refused
/// (out of order, duplicates, out of bounds) with their reason.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AppendOutcome {
    pub appended: usize,
    pub new_series: usize,
    pub rejected: Vec<head::AppendError>,
    pub rejected_count: usize,
}

/// Rejections kept in an [`AppendOutcome`] (the count has them all).
const KEEP_REJECTED: usize = 10;

/// Store settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// The time range of a block cut from the head (ms; Prometheus: 2h).
    pub block_range: i64,
    /// Largest block compaction makes (ms).
    pub max_block_range: i64,
    /// Blocks whose data is older than this (relative to the newest
    /// sample) are deleted (ms).
    pub retention: Option<i64>,
    /// Blocks are deleted oldest first while blocks and WAL take more.
    pub retention_bytes: Option<u64>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            block_range: 2 * 3_600_000,
            max_block_range: 31 * 86_400_000,
            retention: Some(15 * 86_400_000),
            retention_bytes: None,
        }
    }
}

/// What [`Db::maintain`] did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Maintenance {
    pub cut: Vec<BlockMeta>,
    pub compacted: Vec<BlockMeta>,
    pub deleted: Vec<String>,
}

/// A store directory: `wal/` and `blocks/`.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    opts: DbOptions,
    head: Head,
    wal: Wal,
    blocks: Vec<Block>,
    /// WAL id of each head series, by head ref.
    wal_ids: Vec<u64>,
    next_id: u64,
    /// The samples record being built, kept for its capacity.
    logged: Vec<RefSample>,
}

fn set_id(ids: &mut Vec<u64>, r: SeriesRef, id: u64) {
    let r = r as usize;
    if ids.len() <= r {
        ids.resize(r + 1, u64::MAX);
    }
    ids[r] = id;
}

fn open_blocks(dir: &Path) -> Result<Vec<Block>, DbError> {
    let io = |source| DbError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(io)?;
    let mut blocks = Vec::new();
    for e in fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") || name.ends_with(".deleting") {
            // An unfinished write or delete from before a crash.
            fs::remove_dir_all(&path).map_err(|source| DbError::Io { path, source })?;
            continue;
        }
        if e.file_type().map_err(io)?.is_dir() {
            blocks.push(Block::open(&path)?);
        }
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
    Ok(blocks)
}

impl Db {
    /// Opens the store in `dir` with default options.
    pub fn open(dir: &Path) -> Result<(Db, ReplayStats), DbError> {
        Db::open_with(dir, DbOptions::default())
    }

    /// Opens the store: blocks, then the WAL replayed into a fresh head
    /// (samples already in blocks are skipped).
    pub fn open_with(dir: &Path, opts: DbOptions) -> Result<(Db, ReplayStats), DbError> {
        let blocks = open_blocks(&dir.join("blocks"))?;
        let mut head = Head::with_spill(&dir.join("chunks_head"));
        if let Some(end) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.truncate(end);
        }
        let mut wal_ids: Vec<u64> = Vec::new();
        let mut by_id: HashMap<u64, SeriesRef> = HashMap::new();
        let mut max_id = None::<u64>;
        let mut err = None;
        let (wal, stats) = Wal::open(&dir.join("wal"), |rec| match rec {
            Record::Series(series) => {
                for (id, labels) in series {
                    max_id = max_id.max(Some(id));
                    match head.get_or_create(&labels) {
                        Ok((r, created)) => {
                            by_id.insert(id, r);
                            if created {
                                set_id(&mut wal_ids, r, id);
                            }
                        }
                        Err(e) => err = err.take().or(Some(e)),
                    }
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    // Samples of unknown series, already present (logged
                    // twice around a checkpoint) or already in a block are
                    // skipped, as Prometheus does.
                    if let Some(&r) = by_id.get(&s.id) {
                        let _ = head.append(r, s.t, s.v);
                    }
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e.into());
        }
        // Series whose every sample was in a block.
        let min_valid = head.min_valid();
        head.truncate(min_valid);
        let db = Db {
            dir: dir.to_path_buf(),
            opts,
            head,
            wal,
            blocks,
            wal_ids,
            next_id: max_id.map_or(0, |m| m + 1),
            logged: Vec::new(),
        };
        Ok((db, stats))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    pub fn blocks(&self) -> impl Iterator<Item = &BlockMeta> {
        self.blocks.iter().map(Block::meta)
    }

    /// Appends a batch: new series and accepted samples are logged (not yet
    /// synced), then applied to the head. Refused samples are reported,
    /// not fatal. Call [`Db::commit`] to make the batch durable.
    pub fn append(&mut self, batch: &[LabeledSample]) -> Result<AppendOutcome, DbError> {
        let mut new_series = Vec::new();
        let mut refs = Vec::with_capacity(batch.len());
        // Samples of one series usually arrive together and share one label
        // set (a clone): those skip the hash lookup.
        let mut prev: Option<(usize, SeriesRef)> = None;
        for (labels, _, _) in batch {
            if let Some((id, r)) = prev
                && id == labels.identity()
            {
                refs.push(r);
                continue;
            }
            let found = self.head.get_or_create(labels)?;
            let r = self.note_series(found, &mut new_series);
            prev = Some((labels.identity(), r));
            refs.push(r);
        }
        let samples = refs.iter().zip(batch).map(|(&r, (_, t, v))| (r, *t, *v));
        self.append_refs(new_series, samples)
    }

    /// [`Db::append`] for series given as label pairs in [`Labels`] order
    /// (sorted by name, no duplicate names, no empty values), each with its
    /// samples, as a remote-write request arrives: series already in the
    /// head are found without building their label sets.
    pub fn append_series<'a, 'b: 'a>(
        &mut self,
        series: impl IntoIterator<Item = (&'a [(&'b str, &'b str)], &'a [(i64, f64)])>,
    ) -> Result<AppendOutcome, DbError> {
        let mut new_series = Vec::new();
        let mut found = Vec::new();
        for (pairs, samples) in series {
            let got = self.head.get_or_create_pairs(pairs)?;
            found.push((self.note_series(got, &mut new_series), samples));
        }
        let samples = found
            .iter()
            .flat_map(|&(r, samples)| samples.iter().map(move |&(t, v)| (r, t, v)));
        self.append_refs(new_series, samples)
    }

    /// Gives a series the head just created its WAL id, to be logged.
    fn note_series(
        &mut self,
        (r, created): (SeriesRef, bool),
        new_series: &mut Vec<(u64, Labels)>,
    ) -> SeriesRef {
        if created && let Some(labels) = self.head.labels(r) {
            let id = self.next_id;
            self.next_id += 1;
            set_id(&mut self.wal_ids, r, id);
            new_series.push((id, labels.clone()));
        }
        r
    }

    fn append_refs(
        &mut self,
        new_series: Vec<(u64, Labels)>,
        samples: impl Iterator<Item = (SeriesRef, i64, f64)>,
    ) -> Result<AppendOutcome, DbError> {
        let mut out = AppendOutcome {
            new_series: new_series.len(),
            ..AppendOutcome::default()
        };
        if !new_series.is_empty() {
            self.wal.log(&Record::Series(new_series))?;
        }
        let mut logged = std::mem::take(&mut self.logged);
        logged.clear();
        for (r, t, v) in samples {
            match self.head.append(r, t, v) {
                Ok(()) => {
                    out.appended += 1;
                    logged.push(RefSample {
                        id: self.wal_ids[r as usize],
                        t,
                        v,
                    });
                }
                Err(e) => {
                    out.rejected_count += 1;
                    if out.rejected.len() < KEEP_REJECTED {
                        out.rejected.push(e);
                    }
                }
            }
        }
        if !logged.is_empty() {
            let rec = Record::Samples(logged);
            let done = self.wal.log(&rec);
            if let Record::Samples(buf) = rec {
                self.logged = buf;
            }
            done?;
        }
        // Series created for samples that were all refused stay empty until
        // the next truncation removes them.
        Ok(out)
    }

    /// Makes everything appended so far durable.
    pub fn commit(&mut self) -> Result<(), DbError> {
        self.wal.sync()?;
        Ok(())
    }

    /// Hands everything appended so far to the operating system and says
    /// where it ends: [`SyncPoint::sync`] then makes it durable without
    /// holding the store, and one sync covers every append before it (a
    /// group commit; see `gantry-server`'s `DbSink`).
    pub fn flush(&mut self) -> Result<SyncPoint, DbError> {
        Ok(self.wal.flush()?)
    }

    /// Where flushed appends end now.
    pub fn sync_point(&self) -> SyncPoint {
        self.wal.sync_point()
    }

    /// Writes a WAL checkpoint of every series and of samples at or after
    /// `min_t`, dropping the segments it replaces.
    pub fn checkpoint(&mut self, min_t: i64) -> Result<(), DbError> {
        let upto = self.wal.current_segment();
        self.wal.checkpoint(upto, |_| true, min_t)?;
        Ok(())
    }

    /// Cuts blocks from the head, compacts and applies retention.
    pub fn maintain(&mut self) -> Result<Maintenance, DbError> {
        let mut done = Maintenance::default();
        while let Some(meta) = self.cut_head()? {
            done.cut.push(meta);
        }
        while let Some(meta) = self.compact_once()? {
            done.compacted.push(meta);
        }
        done.deleted = self.apply_retention()?;
        Ok(done)
    }

    /// Writes the head's oldest block range once the head spans 1.5 ranges.
    fn cut_head(&mut self) -> Result<Option<BlockMeta>, DbError> {
        let (Some(min), Some(max)) = (self.head.min_time(), self.head.max_time()) else {
            return Ok(None);
        };
        let range = self.opts.block_range;
        let min = min.max(self.head.min_valid());
        if max - min <= range / 2 * 3 {
            return Ok(None);
        }
        let start = min.div_euclid(range) * range;
        let end = start + range;
        let head = &self.head;
        let series: Vec<(Labels, SeriesRef)> = head
            .select_refs(&[])
            .into_iter()
            .filter_map(|r| Some((head.labels(r)?.clone(), r)))
            .collect();
        let block = block::write(
            &self.dir.join("blocks"),
            series,
            |r| Ok(head.block_parts(*r, min, end - 1)),
            start,
            end,
            Compaction {
                level: 1,
                sources: Vec::new(),
            },
        )?;
        let meta = block.meta().clone();
        self.blocks.push(block);
        self.blocks
            .sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
        self.head.truncate(end);
        let alive: HashSet<u64> = (0..self.wal_ids.len() as SeriesRef)
            .filter(|r| self.head.labels(*r).is_some())
            .map(|r| self.wal_ids[r as usize])
            .collect();
        let upto = self.wal.current_segment();
        self.wal.checkpoint(upto, |id| alive.contains(&id), end)?;
        Ok(Some(meta))
    }

    /// Merges the blocks of one complete aligned window, the smallest
    /// level first.
    fn compact_once(&mut self) -> Result<Option<BlockMeta>, DbError> {
        let newest = self
            .blocks
            .iter()
            .map(|b| b.meta().max_time)
            .max()
            .unwrap_or(i64::MIN);
        let mut range = self.opts.block_range * 3;
        while range <= self.opts.max_block_range {
            let mut windows: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            for (i, b) in self.blocks.iter().enumerate() {
                let w = b.meta().min_time.div_euclid(range);
                if b.meta().max_time <= (w + 1) * range
                    && b.meta().max_time - b.meta().min_time < range
                {
                    windows.entry(w).or_default().push(i);
                }
            }
            for (w, members) in windows {
                let end = (w + 1) * range;
                if members.len() < 2 || end > newest {
                    continue;
                }
                return self.merge(&members, w * range, end).map(Some);
            }
            range *= 3;
        }
        Ok(None)
    }

    fn merge(&mut self, members: &[usize], start: i64, end: i64) -> Result<BlockMeta, DbError> {
        // Label sets → where each member block keeps that series; the
        // samples are read one series at a time while writing.
        let mut merged: BTreeMap<Labels, Vec<(usize, u32)>> = BTreeMap::new();
        let mut sources = Vec::new();
        let mut level = 0;
        for &i in members {
            let b = &self.blocks[i];
            sources.push(b.meta().id.clone());
            sources.extend(b.meta().compaction.sources.iter().cloned());
            level = level.max(b.meta().compaction.level);
            for (index, labels) in b.series_labels() {
                merged.entry(labels.clone()).or_default().push((i, index));
            }
        }
        let blocks = &self.blocks;
        let block = block::write(
            &self.dir.join("blocks"),
            merged.into_iter().collect(),
            |parts: &Vec<(usize, u32)>| {
                let mut samples = Vec::new();
                for &(b, index) in parts {
                    samples.extend(blocks[b].samples(index, start, end - 1)?);
                }
                samples.sort_by_key(|s| s.0);
                samples.dedup_by_key(|s| s.0);
                Ok(vec![Part::Samples(samples)])
            },
            start,
            end,
            Compaction {
                level: level + 1,
                sources,
            },
        )?;
        let meta = block.meta().clone();
        let mut old: Vec<usize> = members.to_vec();
        old.sort_unstable_by(|a, b| b.cmp(a));
        for i in old {
            let b = self.blocks.remove(i);
            remove_block(b.dir())?;
        }
        self.blocks.push(block);
        self.blocks
            .sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
        Ok(meta)
    }

    fn apply_retention(&mut self) -> Result<Vec<String>, DbError> {
        let mut deleted = Vec::new();
        if let Some(keep) = self.opts.retention {
            let newest = self
                .blocks
                .iter()
                .map(|b| b.meta().max_time)
                .chain(self.head.max_time())
                .max()
                .unwrap_or(i64::MIN);
            while let Some(b) = self.blocks.first() {
                if b.meta().max_time > newest.saturating_sub(keep) {
                    break;
                }
                let b = self.blocks.remove(0);
                remove_block(b.dir())?;
                deleted.push(b.meta().id.clone());
            }
        }
        if let Some(limit) = self.opts.retention_bytes {
            let wal = dir_size(&self.dir.join("wal"));
            let mut total: u64 = wal + self.blocks.iter().map(Block::size).sum::<u64>();
            while total > limit && !self.blocks.is_empty() {
                let b = self.blocks.remove(0);
                total -= b.size();
                remove_block(b.dir())?;
                deleted.push(b.meta().id.clone());
            }
        }
        Ok(deleted)
    }

    /// Every label name, sorted.
    pub fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .head
            .label_names()
            .into_iter()
            .map(String::from)
            .collect();
        for b in &self.blocks {
            names.extend(b.label_names().map(String::from));
        }
        names.sort();
        names.dedup();
        names
    }

    /// Every value of a label, sorted.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .head
            .label_values(name)
            .into_iter()
            .map(String::from)
            .collect();
        for b in &self.blocks {
            values.extend(b.label_values(name).map(String::from));
        }
        values.sort();
        values.dedup();
        values
    }

    /// Like [`Queryable::select`], but reports unreadable blocks.
    pub fn try_select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, DbError> {
        let mut merged: BTreeMap<crate::labels::Labels, Vec<(i64, f64)>> = BTreeMap::new();
        // The head first: on equal timestamps its sample is kept.
        for s in Queryable::select(&self.head, matchers, mint, maxt) {
            merged.entry(s.labels).or_default().extend(s.samples);
        }
        for b in self
            .blocks
            .iter()
            .filter(|b| b.meta().max_time > mint && b.meta().min_time <= maxt)
        {
            for s in b.select(matchers, mint, maxt)? {
                merged.entry(s.labels).or_default().extend(s.samples);
            }
        }
        Ok(merged
            .into_iter()
            .map(|(labels, mut samples)| {
                samples.sort_by_key(|s| s.0);
                samples.dedup_by_key(|s| s.0);
                Series { labels, samples }
            })
            .collect())
    }
}

impl Queryable for Db {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
        match self.try_select(matchers, mint, maxt) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "reading a block failed; answering from the head only");
                Queryable::select(&self.head, matchers, mint, maxt)
            }
        }
    }
}

/// Renames the block away first, so a crash mid-delete never leaves a
/// half-deleted block that looks whole.
fn remove_block(dir: &Path) -> Result<(), DbError> {
    let gone = dir.with_extension("deleting");
    fs::rename(dir, &gone).map_err(|source| DbError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    fs::remove_dir_all(&gone).map_err(|source| DbError::Io { path: gone, source })
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => total += dir_size(&e.path()),
            Ok(m) => total += m.len(),
            Err(_) => {}
        }
    }
    total
}
