//! The store as a whole: the head, fed and rebuilt through the WAL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::head::{self, Head, SeriesRef};
use super::wal::{Record, RefSample, ReplayStats, Wal, WalError};
use crate::LabeledSample;

#[derive(Debug, Error)]
pub enum DbError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error(transparent)]
    Head(#[from] head::AppendError),
}

/// How an append batch went: samples stored, and the first few refused
/// (out of order, duplicates) with their reason.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AppendOutcome {
    pub appended: usize,
    pub new_series: usize,
    pub rejected: Vec<head::AppendError>,
    pub rejected_count: usize,
}

/// Rejections kept in an [`AppendOutcome`] (the count has them all).
const KEEP_REJECTED: usize = 10;

/// A store directory: `wal/` now; blocks join it later.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    head: Head,
    wal: Wal,
    /// WAL id of each head series, by head ref.
    wal_ids: Vec<u64>,
    next_id: u64,
}

impl Db {
    /// Opens the store in `dir`, replaying the WAL into a fresh head.
    pub fn open(dir: &Path) -> Result<(Db, ReplayStats), DbError> {
        let mut head = Head::new();
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
                                wal_ids.push(id);
                            }
                        }
                        Err(e) => err = err.take().or(Some(e)),
                    }
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    // Samples of unknown series or already present (logged
                    // twice around a checkpoint) are skipped, as Prometheus does.
                    if let Some(&r) = by_id.get(&s.id) {
                        let _ = head.append(r, s.t, s.v);
                    }
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e.into());
        }
        let db = Db {
            dir: dir.to_path_buf(),
            head,
            wal,
            wal_ids,
            next_id: max_id.map_or(0, |m| m + 1),
        };
        Ok((db, stats))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Appends a batch: new series and accepted samples are logged (not yet
    /// synced), then applied to the head. Refused samples are reported,
    /// not fatal. Call [`Db::commit`] to make the batch durable.
    pub fn append(&mut self, batch: &[LabeledSample]) -> Result<AppendOutcome, DbError> {
        let mut out = AppendOutcome::default();
        let mut new_series = Vec::new();
        let mut refs = Vec::with_capacity(batch.len());
        for (labels, _, _) in batch {
            let (r, created) = self.head.get_or_create(labels)?;
            if created {
                let id = self.next_id;
                self.next_id += 1;
                self.wal_ids.push(id);
                new_series.push((id, labels.clone()));
            }
            refs.push(r);
        }
        out.new_series = new_series.len();
        if !new_series.is_empty() {
            self.wal.log(&Record::Series(new_series))?;
        }
        let mut logged = Vec::with_capacity(batch.len());
        for (&r, (_, t, v)) in refs.iter().zip(batch) {
            match self.head.append(r, *t, *v) {
                Ok(()) => {
                    out.appended += 1;
                    logged.push(RefSample {
                        id: self.wal_ids[r as usize],
                        t: *t,
                        v: *v,
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
            self.wal.log(&Record::Samples(logged))?;
        }
        Ok(out)
    }

    /// Makes everything appended so far durable.
    pub fn commit(&mut self) -> Result<(), DbError> {
        self.wal.sync()?;
        Ok(())
    }

    /// Writes a WAL checkpoint of every series and of samples at or after
    /// `min_t`, dropping the segments it replaces.
    pub fn checkpoint(&mut self, min_t: i64) -> Result<(), DbError> {
        let upto = self.wal.current_segment();
        self.wal.checkpoint(upto, |_| true, min_t)?;
        Ok(())
    }
}
