//! Monitoring: the time-series store, the exposition-format parsers that
//! feed it, and (as they land) probes, scraping, PromQL evaluation and rules.
//!
//! Owns: [`tsdb`] (compressed sample chunks; the head, WAL and blocks build
//! on them) and [`exposition`] (Prometheus text format 0.0.4 and
//! OpenMetrics 1.0 parsing into [`exposition::Family`]s).
//!
//! Never: serves HTTP (gantry-server routes requests here), writes SQL, or
//! talks to AWS.

pub mod exposition;
pub mod labels;
pub mod probe;
pub mod promql;
pub mod relabel;
pub mod remote;
pub mod rules;
pub mod scrape;
pub mod tsdb;

/// One sample of a labelled series: labels, timestamp (ms), value.
pub type LabeledSample = (labels::Labels, i64, f64);
