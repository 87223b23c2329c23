//! gantry-pipeline: GitHub Actions–compatible workflows.
//!
//! Owns: the workflow model parsed from `.gantry/workflows/*.yml` and
//! `.github/workflows/*.yml` with source spans and diagnostics
//! ([`workflow`]); the `${{ }}` expression language with GitHub's grammar and
//! coercion rules ([`expr`]); and the host-shell executor with the step
//! protocol (`$GITHUB_OUTPUT`, `$GITHUB_ENV`, workflow commands) and secret
//! masking ([`exec`]); and the local run: the needs DAG, matrix legs,
//! conditions, contexts and the built-in actions ([`run`]).
//!
//! Invariants: parsing never panics on input and never runs anything;
//! expression values reach a shell only as rendered by GitHub's rules or
//! through environment variables; secrets never leave the executor unmasked.
//!
//! Entry points: [`workflow::load_dir`], [`expr::parse`], [`exec::run_step`],
//! [`run::run_workflow`].

pub mod exec;
pub mod expr;
pub mod run;
pub mod workflow;
