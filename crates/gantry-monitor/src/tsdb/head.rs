//! The head: recent samples of every active series, in memory.
//!
//! Each series keeps closed chunks (immutable bytes) and one open
//! [`XorChunk`] it appends to; a chunk is closed after
//! [`SAMPLES_PER_CHUNK`] samples. An inverted index (postings: label name →
//! value → sorted series refs) answers label matchers without scanning
//! every series. Label strings are interned, so a label shared by many
//! series is stored once.
//!
//! A head opened with a directory ([`Head::with_spill`]) writes closed
//! chunks to append-only segment files there and reads them back with
//! positioned reads, as Prometheus memory-maps its full head chunks: only
//! the open chunk of each series stays in memory. The files are a cache,
//! not a source of truth — the WAL is; they are cleared at start and a
//! segment is deleted once truncation has dropped every chunk in it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use super::block::Part;
use super::chunk::{self, XorChunk};
use crate::labels::{FastHasher, FastMap, Labels, Matcher};

/// Samples per chunk before it is closed (Prometheus uses 120: two hours
/// of 1-minute samples, or 30 minutes at 15 s).
pub const SAMPLES_PER_CHUNK: usize = 120;

/// Up to this many candidates from equality matchers, the other matchers
/// are checked on each candidate's labels.
const DIRECT_MATCH_LIMIT: usize = 4096;

/// A series' index in the head.
pub type SeriesRef = u32;

/// Why a sample was not stored.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AppendError {
    #[error("out of order sample for {series}: timestamp {t} is before {last}")]
    OutOfOrder { series: String, t: i64, last: i64 },
    #[error("duplicate sample for timestamp {t} of {series}")]
    Duplicate { series: String, t: i64 },
    #[error("unknown series reference {0}")]
    UnknownSeries(SeriesRef),
    #[error("too many series: the head holds at most {0}")]
    TooManySeries(usize),
    #[error("out of bounds: timestamp {t} of {series} is before {min_valid}, already in a block")]
    OutOfBounds {
        series: String,
        t: i64,
        min_valid: i64,
    },
}

#[derive(Debug, Clone)]
struct ClosedChunk {
    min_t: i64,
    max_t: i64,
    data: ChunkData,
}

/// Where a closed chunk's bytes are.
#[derive(Debug, Clone)]
enum ChunkData {
    Mem(Box<[u8]>),
    /// In spill segment `seg` at `offset`.
    Disk {
        seg: u32,
        offset: u64,
        len: u32,
    },
}

impl ChunkData {
    fn len(&self) -> usize {
        match self {
            ChunkData::Mem(b) => b.len(),
            ChunkData::Disk { len, .. } => *len as usize,
        }
    }
}

/// Bytes buffered before a spill segment is written to.
const SPILL_BUFFER: usize = 1 << 20;

/// The segment files closed chunks are written to.
#[derive(Debug)]
struct Spill {
    dir: PathBuf,
    next_id: u32,
    segs: Vec<Segment>,
}

#[derive(Debug)]
struct Segment {
    id: u32,
    path: PathBuf,
    file: File,
    /// Bytes in the file; bytes after it are still in `buf`.
    flushed: u64,
    buf: Vec<u8>,
    /// The newest sample of any chunk in the segment.
    max_t: i64,
}

impl Spill {
    fn open_segment(&mut self) -> std::io::Result<()> {
        let id = self.next_id;
        let path = self.dir.join(format!("{id:08}"));
        let file = File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)?;
        self.next_id += 1;
        self.segs.push(Segment {
            id,
            path,
            file,
            flushed: 0,
            buf: Vec::new(),
            max_t: i64::MIN,
        });
        Ok(())
    }

    /// Stores a chunk; `None` when no segment can take it (the caller
    /// keeps it in memory).
    fn write(&mut self, bytes: &[u8], max_t: i64) -> Option<ChunkData> {
        let len = u32::try_from(bytes.len()).ok()?;
        let seg = self.segs.last_mut()?;
        let offset = seg.flushed + seg.buf.len() as u64;
        seg.buf.extend_from_slice(bytes);
        seg.max_t = seg.max_t.max(max_t);
        if seg.buf.len() >= SPILL_BUFFER {
            seg.flush();
        }
        Some(ChunkData::Disk {
            seg: seg.id,
            offset,
            len,
        })
    }

    fn read(&self, seg: u32, offset: u64, len: u32) -> std::io::Result<Cow<'_, [u8]>> {
        let s = self
            .segs
            .iter()
            .find(|s| s.id == seg)
            .ok_or_else(|| std::io::Error::other(format!("spill segment {seg} is gone")))?;
        if offset >= s.flushed {
            let at = (offset - s.flushed) as usize;
            return s
                .buf
                .get(at..at + len as usize)
                .map(Cow::Borrowed)
                .ok_or_else(|| std::io::Error::other("chunk beyond the spill buffer"));
        }
        let mut out = vec![0u8; len as usize];
        s.file.read_exact_at(&mut out, offset)?;
        Ok(Cow::Owned(out))
    }

    /// Deletes segments whose every chunk ends before `before` (those
    /// chunks are gone from the head), then starts a new segment so the
    /// current one can go at the next truncation.
    fn truncate(&mut self, before: i64) {
        let current = self.segs.last().map(|s| s.id);
        self.segs.retain(|s| {
            let keep = Some(s.id) == current || s.max_t >= before;
            if !keep {
                let _ = std::fs::remove_file(&s.path);
            }
            keep
        });
        if self.segs.last().is_some_and(|s| s.max_t != i64::MIN) {
            if let Some(s) = self.segs.last_mut() {
                s.flush();
            }
            if let Err(e) = self.open_segment() {
                tracing::warn!(error = %e, dir = %self.dir.display(), "cannot start a head chunk segment; chunks stay in memory");
            }
        }
    }
}

impl Segment {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        // On failure the bytes stay buffered (and readable); the next
        // flush tries again.
        match self.file.write_all(&self.buf) {
            Ok(()) => {
                self.flushed += self.buf.len() as u64;
                self.buf.clear();
            }
            Err(e) => {
                tracing::warn!(error = %e, path = %self.path.display(), "writing head chunks failed; keeping them in memory");
            }
        }
    }
}

#[derive(Debug, Clone)]
struct MemSeries {
    labels: Labels,
    closed: Vec<ClosedChunk>,
    open: XorChunk,
    open_min_t: i64,
    last: Option<(i64, u64)>,
}

/// The in-memory part of the store.
#[derive(Debug, Default)]
pub struct Head {
    /// Slots by ref; `None` for series removed by [`Head::truncate`], whose
    /// refs wait in `free` for reuse.
    series: Vec<Option<MemSeries>>,
    free: Vec<SeriesRef>,
    /// Samples before this are in blocks; appends before it are refused.
    min_valid: i64,
    max_t: Option<i64>,
    by_hash: FastMap<u64, Vec<SeriesRef>>,
    postings: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<SeriesRef>>>,
    symbols: HashSet<Arc<str>>,
    samples: u64,
    spill: Option<Spill>,
}

impl Head {
    pub fn new() -> Head {
        Head::default()
    }

    /// A head that keeps closed chunks in segment files under `dir`
    /// (cleared first). If the directory cannot be prepared, the head
    /// keeps everything in memory and says so in the log.
    pub fn with_spill(dir: &Path) -> Head {
        let mut head = Head::default();
        let prepared = std::fs::remove_dir_all(dir)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .and_then(|_| std::fs::create_dir_all(dir));
        let mut spill = Spill {
            dir: dir.to_path_buf(),
            next_id: 0,
            segs: Vec::new(),
        };
        match prepared.and_then(|_| spill.open_segment()) {
            Ok(()) => head.spill = Some(spill),
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot keep head chunks on disk; they stay in memory")
            }
        }
        head
    }

    /// A closed chunk's bytes, from memory or its segment.
    fn bytes_of<'a>(&'a self, c: &'a ClosedChunk) -> Cow<'a, [u8]> {
        match &c.data {
            ChunkData::Mem(b) => Cow::Borrowed(b),
            ChunkData::Disk { seg, offset, len } => {
                let read = match &self.spill {
                    Some(sp) => sp.read(*seg, *offset, *len),
                    None => Err(std::io::Error::other("no spill directory")),
                };
                read.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "reading a head chunk failed; its samples are left out");
                    Cow::Borrowed(&[])
                })
            }
        }
    }

    pub fn series_count(&self) -> usize {
        self.series.len() - self.free.len()
    }

    fn get(&self, r: SeriesRef) -> Option<&MemSeries> {
        self.series.get(r as usize).and_then(Option::as_ref)
    }

    /// The newest sample's timestamp.
    pub fn max_time(&self) -> Option<i64> {
        self.max_t
    }

    /// The oldest sample's timestamp.
    pub fn min_time(&self) -> Option<i64> {
        self.series
            .iter()
            .flatten()
            .filter_map(|s| match s.closed.first() {
                Some(c) => Some(c.min_t),
                None => (!s.open.is_empty()).then_some(s.open_min_t),
            })
            .min()
    }

    /// The earliest timestamp an append may have.
    pub fn min_valid(&self) -> i64 {
        self.min_valid
    }

    /// Samples appended since the head was created.
    pub fn sample_count(&self) -> u64 {
        self.samples
    }

    fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        if let Some(have) = self.symbols.get(s) {
            return have.clone();
        }
        self.symbols.insert(s.clone());
        s.clone()
    }

    /// The series for `labels`, created when new (`true` in the result).
    pub fn get_or_create(&mut self, labels: &Labels) -> Result<(SeriesRef, bool), AppendError> {
        let hash = series_hash(labels.iter());
        if let Some(r) = self.find(hash, |l| l == labels) {
            return Ok((r, false));
        }
        self.create(hash, labels)
    }

    /// [`Head::get_or_create`] for label pairs already in [`Labels`] order
    /// (sorted by name, no duplicate names, no empty values): an existing
    /// series is found without building a label set.
    pub fn get_or_create_pairs(
        &mut self,
        pairs: &[(&str, &str)],
    ) -> Result<(SeriesRef, bool), AppendError> {
        debug_assert!(
            pairs.windows(2).all(|w| w[0].0 < w[1].0) && pairs.iter().all(|p| !p.1.is_empty()),
            "label pairs not in Labels order: {pairs:?}"
        );
        let hash = series_hash(pairs.iter().copied());
        if let Some(r) = self.find(hash, |l| l.iter().eq(pairs.iter().copied())) {
            return Ok((r, false));
        }
        self.create(hash, &Labels::new(pairs.iter().copied()))
    }

    fn find(&self, hash: u64, same: impl Fn(&Labels) -> bool) -> Option<SeriesRef> {
        let refs = self.by_hash.get(&hash)?;
        refs.iter()
            .copied()
            .find(|&r| self.get(r).is_some_and(|s| same(&s.labels)))
    }

    fn create(&mut self, hash: u64, labels: &Labels) -> Result<(SeriesRef, bool), AppendError> {
        let r = match self.free.pop() {
            Some(r) => r,
            None => SeriesRef::try_from(self.series.len())
                .map_err(|_| AppendError::TooManySeries(SeriesRef::MAX as usize))?,
        };
        let pairs: Vec<(Arc<str>, Arc<str>)> = labels
            .pairs()
            .iter()
            .map(|(k, v)| (self.intern(k), self.intern(v)))
            .collect();
        for (k, v) in &pairs {
            let list = self
                .postings
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default();
            // New refs are usually the largest; a reused one is inserted in order.
            match list.last() {
                Some(&last) if last > r => {
                    let at = list.partition_point(|&x| x < r);
                    list.insert(at, r);
                }
                _ => list.push(r),
            }
        }
        let series = MemSeries {
            labels: Labels::new(pairs),
            closed: Vec::new(),
            open: XorChunk::new(),
            open_min_t: 0,
            last: None,
        };
        if (r as usize) < self.series.len() {
            self.series[r as usize] = Some(series);
        } else {
            self.series.push(Some(series));
        }
        self.by_hash.entry(hash).or_default().push(r);
        Ok((r, true))
    }

    /// Appends one sample. A sample equal to the newest one (same
    /// timestamp, same value bits) is accepted and ignored, as Prometheus
    /// does for repeated scrapes of an explicit timestamp.
    pub fn append(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        let spill = &mut self.spill;
        let s = self
            .series
            .get_mut(r as usize)
            .and_then(Option::as_mut)
            .ok_or(AppendError::UnknownSeries(r))?;
        if t < self.min_valid {
            return Err(AppendError::OutOfBounds {
                series: s.labels.to_string(),
                t,
                min_valid: self.min_valid,
            });
        }
        if let Some((last_t, last_v)) = s.last {
            if t < last_t {
                return Err(AppendError::OutOfOrder {
                    series: s.labels.to_string(),
                    t,
                    last: last_t,
                });
            }
            if t == last_t {
                if last_v == v.to_bits() {
                    return Ok(());
                }
                return Err(AppendError::Duplicate {
                    series: s.labels.to_string(),
                    t,
                });
            }
        }
        if s.open.len() >= SAMPLES_PER_CHUNK {
            let full = std::mem::take(&mut s.open);
            // A full chunk has samples, so it has a last timestamp.
            let max_t = full.last_timestamp().unwrap_or(s.open_min_t);
            let bytes = full.to_bytes();
            let data = spill
                .as_mut()
                .and_then(|sp| sp.write(&bytes, max_t))
                .unwrap_or_else(|| ChunkData::Mem(bytes.into_boxed_slice()));
            s.closed.push(ClosedChunk {
                min_t: s.open_min_t,
                max_t,
                data,
            });
        }
        if s.open.is_empty() {
            s.open_min_t = t;
        }
        s.open.append(t, v).map_err(|e| match e {
            // Checked above against `last`, which mirrors the open chunk.
            chunk::AppendError::OutOfOrder { t, last } => AppendError::OutOfOrder {
                series: s.labels.to_string(),
                t,
                last,
            },
            chunk::AppendError::Full { .. } => unreachable!("chunks are cut at SAMPLES_PER_CHUNK"),
        })?;
        s.last = Some((t, v.to_bits()));
        self.samples += 1;
        self.max_t = Some(self.max_t.map_or(t, |m| m.max(t)));
        Ok(())
    }

    /// Appends a sample to the series with these labels, creating it.
    pub fn append_labels(
        &mut self,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let (r, _) = self.get_or_create(labels)?;
        self.append(r, t, v)?;
        Ok(r)
    }

    pub fn labels(&self, r: SeriesRef) -> Option<&Labels> {
        self.get(r).map(|s| &s.labels)
    }

    /// Series whose labels satisfy every matcher, sorted by labels.
    pub fn select_refs(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        // Equality matchers first, the shortest postings first: the
        // candidates only shrink, and longer lists are probed, not copied.
        let mut lists: Vec<&[SeriesRef]> = Vec::new();
        let mut rest: Vec<&Matcher> = Vec::new();
        for m in matchers {
            if m.op == crate::labels::MatchOp::Equal && !m.matches("") {
                lists.push(
                    self.postings
                        .get(m.name.as_str())
                        .and_then(|values| values.get(m.value.as_str()))
                        .map_or(&[][..], Vec::as_slice),
                );
            } else {
                rest.push(m);
            }
        }
        lists.sort_by_key(|l| l.len());
        let mut set: Option<Vec<SeriesRef>> = None;
        for list in lists {
            set = Some(match set {
                None => list.to_vec(),
                Some(s) => s
                    .into_iter()
                    .filter(|r| list.binary_search(r).is_ok())
                    .collect(),
            });
        }
        // Few candidates: check the other matchers on their labels
        // instead of gathering every matching value's postings.
        if let Some(s) = &mut set
            && s.len() <= DIRECT_MATCH_LIMIT
        {
            s.retain(|r| {
                self.labels(*r)
                    .is_some_and(|l| rest.iter().all(|m| m.matches_labels(l)))
            });
            rest.clear();
        }
        let mut exclude: Vec<SeriesRef> = Vec::new();
        for m in rest {
            let values = self.postings.get(m.name.as_str());
            if m.matches("") {
                // Matches series without the label too: remove those whose
                // value fails instead.
                if let Some(values) = values {
                    let failing = values
                        .iter()
                        .filter(|(v, _)| !m.matches(v))
                        .map(|(_, p)| p.as_slice());
                    exclude = union(std::iter::once(exclude.as_slice()).chain(failing));
                }
                continue;
            }
            let postings = match (values, m.op) {
                (None, _) => Vec::new(),
                (Some(values), crate::labels::MatchOp::Equal) => {
                    values.get(m.value.as_str()).cloned().unwrap_or_default()
                }
                (Some(values), _) => union(
                    values
                        .iter()
                        .filter(|(v, _)| m.matches(v))
                        .map(|(_, p)| p.as_slice()),
                ),
            };
            set = Some(match set {
                None => postings,
                Some(s) => intersect(&s, &postings),
            });
        }
        let base = set.unwrap_or_else(|| {
            (0..self.series.len() as SeriesRef)
                .filter(|r| self.get(*r).is_some())
                .collect()
        });
        let mut out = difference(&base, &exclude);
        // Every ref in the postings or the base set is a live series.
        out.sort_by(|a, b| self.labels(*a).cmp(&self.labels(*b)));
        out
    }

    /// A series' data in `mint..=maxt` for a block: chunks lying wholly
    /// inside the range as they are stored, the samples in range of a
    /// chunk that straddles an edge decoded. Copying chunks spares
    /// decoding and re-encoding most of a block.
    pub fn block_parts(&self, r: SeriesRef, mint: i64, maxt: i64) -> Vec<Part> {
        let Some(s) = self.get(r) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let in_range = |(t, _): &(i64, f64)| *t >= mint && *t <= maxt;
        for c in s
            .closed
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
        {
            let bytes = self.bytes_of(c);
            if c.min_t >= mint && c.max_t <= maxt && bytes.len() > 2 {
                out.push(Part::Chunk {
                    min_t: c.min_t,
                    max_t: c.max_t,
                    bytes: bytes.into_owned(),
                });
            } else if let Ok(it) = chunk::iter_bytes(&bytes) {
                let samples: Vec<(i64, f64)> = it.filter(in_range).collect();
                if !samples.is_empty() {
                    out.push(Part::Samples(samples));
                }
            }
        }
        if !s.open.is_empty() && s.open_min_t <= maxt {
            let samples: Vec<(i64, f64)> = s.open.iter().filter(in_range).collect();
            if !samples.is_empty() {
                out.push(Part::Samples(samples));
            }
        }
        out
    }

    /// A series' samples with `mint <= t <= maxt`, in order.
    pub fn samples(&self, r: SeriesRef, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
        let Some(s) = self.get(r) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for c in s
            .closed
            .iter()
            .filter(|c| c.max_t >= mint && c.min_t <= maxt)
        {
            // Closed chunks are bytes this head encoded itself.
            if let Ok(it) = chunk::iter_bytes(&self.bytes_of(c)) {
                out.reserve(it.size_hint().1.unwrap_or(0));
                out.extend(it.filter(|(t, _)| *t >= mint && *t <= maxt));
            }
        }
        if !s.open.is_empty() && s.open_min_t <= maxt {
            out.reserve(s.open.len());
            out.extend(s.open.iter().filter(|(t, _)| *t >= mint && *t <= maxt));
        }
        out
    }

    /// Every label name in use, sorted.
    pub fn label_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.postings.keys().map(|k| &**k).collect();
        v.sort_unstable();
        v
    }

    /// Every value of a label, sorted.
    pub fn label_values(&self, name: &str) -> Vec<&str> {
        self.postings
            .get(name)
            .map(|vals| vals.keys().map(|v| &**v).collect())
            .unwrap_or_default()
    }

    /// Bytes held by sample chunks (closed and open), for size accounting.
    pub fn chunk_bytes(&self) -> usize {
        self.series
            .iter()
            .flatten()
            .map(|s| s.closed.iter().map(|c| c.data.len()).sum::<usize>() + s.open.encoded_len())
            .sum()
    }

    /// Drops samples before `before` that are now in a block: whole chunks
    /// that end before it (a chunk that straddles it stays; readers merge
    /// duplicates). Series left empty are removed and their refs freed.
    /// Returns the removed refs. Appends before `before` are refused from
    /// now on.
    pub fn truncate(&mut self, before: i64) -> Vec<SeriesRef> {
        self.min_valid = self.min_valid.max(before);
        let mut removed = Vec::new();
        for i in 0..self.series.len() {
            let Some(s) = self.series[i].as_mut() else {
                continue;
            };
            s.closed.retain(|c| c.max_t >= before);
            // A chunk that straddles the cut is re-encoded without the
            // samples now in a block (kept in memory: it is small and goes
            // at the next truncation).
            let straddling: Vec<usize> = (0..s.closed.len())
                .filter(|&j| s.closed[j].min_t < before)
                .collect();
            for j in straddling {
                let Some(c) = self.series[i].as_ref().and_then(|s| s.closed.get(j)) else {
                    continue;
                };
                let mut kept = XorChunk::new();
                if let Ok(it) = chunk::iter_bytes(&self.bytes_of(c)) {
                    for (t, v) in it.filter(|(t, _)| *t >= before) {
                        // Decoded in order from a valid chunk.
                        let _ = kept.append(t, v);
                    }
                }
                if let Some(c) = self.series[i].as_mut().and_then(|s| s.closed.get_mut(j)) {
                    c.min_t = kept.iter().next().map_or(c.max_t, |(t, _)| t);
                    c.data = ChunkData::Mem(kept.to_bytes().into_boxed_slice());
                }
            }
            let Some(s) = self.series[i].as_mut() else {
                continue;
            };
            s.closed.retain(|c| c.data.len() > 2);
            if !s.open.is_empty() && s.open_min_t < before {
                let mut kept = XorChunk::new();
                for (t, v) in s.open.iter().filter(|(t, _)| *t >= before) {
                    let _ = kept.append(t, v);
                }
                s.open_min_t = kept.iter().next().map_or(0, |(t, _)| t);
                s.open = kept;
            }
            if s.closed.is_empty() && s.open.is_empty() {
                removed.push(i as SeriesRef);
            }
        }
        if let Some(sp) = &mut self.spill {
            sp.truncate(before);
        }
        for &r in &removed {
            // Collected above from live slots.
            let Some(s) = self.series[r as usize].take() else {
                continue;
            };
            for (k, v) in s.labels.pairs() {
                if let Some(values) = self.postings.get_mut(k) {
                    if let Some(list) = values.get_mut(v) {
                        if let Ok(at) = list.binary_search(&r) {
                            list.remove(at);
                        }
                        if list.is_empty() {
                            values.remove(v);
                        }
                    }
                    if values.is_empty() {
                        self.postings.remove(k);
                    }
                }
            }
            let hash = series_hash(s.labels.iter());
            if let Some(refs) = self.by_hash.get_mut(&hash) {
                refs.retain(|x| *x != r);
                if refs.is_empty() {
                    self.by_hash.remove(&hash);
                }
            }
            self.free.push(r);
        }
        if self.series_count() == 0 {
            self.max_t = None;
        }
        removed
    }
}

/// The key of `Head::by_hash`: label pairs in order. Only this process
/// uses it (equal sets are then compared), so it trades
/// [`Labels::stable_hash`]'s stability for speed.
fn series_hash<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    use std::hash::Hasher;
    let mut h = FastHasher::default();
    for (k, v) in pairs {
        h.write(k.as_bytes());
        h.write(v.as_bytes());
    }
    h.finish()
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn difference(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|x| {
            while j < b.len() && b[j] < *x {
                j += 1;
            }
            !(j < b.len() && b[j] == *x)
        })
        .collect()
}

fn union<'a>(lists: impl Iterator<Item = &'a [SeriesRef]>) -> Vec<SeriesRef> {
    let mut out: Vec<SeriesRef> = lists.flatten().copied().collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        assert_eq!(difference(&[1, 3, 5, 7], &[0, 3, 7, 9]), vec![1, 5]);
        assert_eq!(union([&[5u32, 9][..], &[1, 5]].into_iter()), vec![1, 5, 9]);
    }
}
