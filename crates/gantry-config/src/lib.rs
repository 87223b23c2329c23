//! gantry-config owns loading Gantry's configuration — `gantry.yml` plus
//! `gantry.d/*.yml` — into a typed [`Config`], keeping source spans so that
//! every problem becomes a [`Diagnostic`] with `file:line:col` and a caret.
//! The diagnostic types are generic and meant for every source file Gantry
//! reads (workflow YAML, Terraform).
//!
//! **Invariant:** never performs network I/O; reads only the files it is asked
//! to; never panics on input. Unknown keys are errors everywhere.
//!
//! Entry points: [`load_dir`], [`load_str`]; [`Diagnostics::render_all`] and
//! [`Diagnostic::render`] for output.

mod check;
mod config;
mod diagnostic;
mod load;
mod sections;
mod suggest;
mod values;
mod yaml;

pub use config::Config;
pub use diagnostic::{Diagnostic, Diagnostics, Severity, SourceFile, Span};
pub use load::{Loaded, load_dir, load_str};
pub use sections::demo::DemoConfig;
pub use sections::events::EventsConfig;
pub use sections::server::{LogFormat, ServerConfig};
