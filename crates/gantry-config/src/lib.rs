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
//! [`Diagnostic::render`] for output. Other loaders (workflow YAML) reuse
//! the span-carrying tree ([`yaml`]), the schema helpers ([`check`]), the
//! did-you-mean helper ([`suggest`]) and [`read_source`].

pub mod check;
mod config;
mod diagnostic;
mod load;
pub mod rules;
mod sections;
pub mod suggest;
#[cfg(feature = "test-support")]
pub mod testing;
mod values;
pub mod yaml;

pub use config::Config;
pub use diagnostic::{Diagnostic, Diagnostics, Severity, SourceFile, Span};
pub use load::{Loaded, MAX_FILE_BYTES, ReadError, load_dir, load_str, read_source};
pub use sections::demo::DemoConfig;
pub use sections::events::EventsConfig;
pub use sections::monitoring::parse_prom_duration;
pub use sections::monitoring::{
    Authorization, BasicAuth, FileSdConfig, MonitoringConfig, Origin, QueueConfig, RelabelEntry,
    RemoteWriteConfig, ScrapeJob, StaticConfig,
};
pub use sections::monitors::{
    ConditionEntry, DNS_QUERY_TYPES, DnsEntry, MonitorEntry, MonitorKind,
};
pub use sections::server::{LogFormat, ServerConfig};
pub use sections::stacks::{Schedule, StackEntry};
