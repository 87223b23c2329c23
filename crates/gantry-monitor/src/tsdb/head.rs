//! The head: recent samples of every active series, in memory.
//!
//! Each series keeps closed chunks (immutable bytes) and one open
//! [`XorChunk`] it appends to; a chunk is closed after
//! [`SAMPLES_PER_CHUNK`] samples. An inverted index (postings: label name →
//! value → sorted series refs) answers label matchers without scanning
//! every series. Label strings are interned, so a label shared by many
//! series is stored once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use thiserror::Error;

use super::chunk::{self, XorChunk};
use crate::labels::{Labels, Matcher};

/// Samples per chunk before it is closed (Prometheus uses 120: two hours
/// of 1-minute samples, or 30 minutes at 15 s).
pub const SAMPLES_PER_CHUNK: usize = 120;

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
    bytes: Box<[u8]>,
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
    by_hash: HashMap<u64, Vec<SeriesRef>>,
    postings: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<SeriesRef>>>,
    symbols: HashSet<Arc<str>>,
    samples: u64,
}

impl Head {
    pub fn new() -> Head {
        Head::default()
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
        let hash = labels.stable_hash();
        if let Some(refs) = self.by_hash.get(&hash)
            && let Some(&r) = refs
                .iter()
                .find(|&&r| self.get(r).is_some_and(|s| s.labels == *labels))
        {
            return Ok((r, false));
        }
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
            s.closed.push(ClosedChunk {
                min_t: s.open_min_t,
                // A full chunk has samples, so it has a last timestamp.
                max_t: full.last_timestamp().unwrap_or(s.open_min_t),
                bytes: full.to_bytes().into_boxed_slice(),
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
        let mut set: Option<Vec<SeriesRef>> = None;
        let mut exclude: Vec<SeriesRef> = Vec::new();
        for m in matchers {
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
            if let Ok(it) = chunk::iter_bytes(&c.bytes) {
                out.extend(it.filter(|(t, _)| *t >= mint && *t <= maxt));
            }
        }
        if !s.open.is_empty() && s.open_min_t <= maxt {
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
            .map(|s| s.closed.iter().map(|c| c.bytes.len()).sum::<usize>() + s.open.encoded_len())
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
        for (i, slot) in self.series.iter_mut().enumerate() {
            let Some(s) = slot else { continue };
            s.closed.retain(|c| c.max_t >= before);
            // A chunk that straddles the cut is re-encoded without the
            // samples now in a block.
            for c in s.closed.iter_mut().filter(|c| c.min_t < before) {
                let mut kept = XorChunk::new();
                if let Ok(it) = chunk::iter_bytes(&c.bytes) {
                    for (t, v) in it.filter(|(t, _)| *t >= before) {
                        // Decoded in order from a valid chunk.
                        let _ = kept.append(t, v);
                    }
                }
                c.min_t = kept.iter().next().map_or(c.max_t, |(t, _)| t);
                c.bytes = kept.to_bytes().into_boxed_slice();
            }
            s.closed.retain(|c| c.bytes.len() > 2);
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
            let hash = s.labels.stable_hash();
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
