//! The time-series store. [`chunk`] holds the sample encoding every other
//! layer stores samples in; [`head`] keeps recent samples in memory.
//! [`Queryable`] is what query evaluation reads through.

pub mod block;
pub mod chunk;
pub mod db;
pub mod head;
pub mod wal;

use crate::labels::{Labels, Matcher};

/// One series and its samples in a queried time range.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// Timestamps in milliseconds, strictly increasing.
    pub samples: Vec<(i64, f64)>,
}

/// Read access to stored samples.
/// `Sync` because a query is evaluated on its own thread (see
/// `promql::Engine`).
pub trait Queryable: Sync {
    /// Series matching every matcher, sorted by labels, with their samples
    /// in `mint..=maxt` (milliseconds). Series without samples in the
    /// range may be omitted.
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series>;
}

impl Queryable for head::Head {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
        self.select_refs(matchers)
            .into_iter()
            .filter_map(|r| {
                let samples = self.samples(r, mint, maxt);
                let labels = self.labels(r)?.clone();
                (!samples.is_empty()).then_some(Series { labels, samples })
            })
            .collect()
    }
}
