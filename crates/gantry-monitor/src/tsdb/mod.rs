//! The time-series store. [`chunk`] holds the sample encoding every other
//! layer (head, write-ahead log, blocks) stores samples in.

pub mod chunk;
pub mod head;
