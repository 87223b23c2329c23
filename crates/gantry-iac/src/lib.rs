//! Terraform-language infrastructure as code.
//!
//! Owns: the language (`syntax` loads `.tf` files with spans, `eval`
//! evaluates expressions over [`value::Value`]s that may be unknown or
//! sensitive, `funcs` the built-in functions), the engine (graph, plan,
//! apply), state v4 and its backends, the [`provider::Provider`] trait and
//! the built-in random/null/local/terraform providers.
//!
//! Never: talks to AWS (gantry-aws implements `Provider` for that), writes
//! SQL (state in the Gantry store goes through gantry-store), or prints to
//! a terminal (the binary renders what this crate returns).

// Diagnostics (136 bytes, with file and span) are this crate's error
// currency on cold paths; boxing every one would buy nothing measurable.
#![allow(clippy::result_large_err)]

pub mod engine;
pub mod eval;
pub mod fmt;
pub mod funcs;
pub mod provider;
pub mod state;
pub mod syntax;
pub mod value;
