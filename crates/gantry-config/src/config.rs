//! The gantry.yml model and its top-level schema.

use crate::check::{Checker, Field, error_at};
use crate::diagnostic::Diagnostic;
use crate::sections::demo::{self, DemoConfig};
use crate::sections::events::{self, EventsConfig};
use crate::sections::monitoring::{self, MonitoringConfig, ScrapeJob};
use crate::sections::monitors::{self, MonitorEntry};
use crate::sections::server::{self, ServerConfig};
use crate::sections::stacks::{self, StackEntry};
use crate::yaml::{Kind, Node, ScalarType};

/// The configuration, merged from every loaded file. Unset values are `None`;
/// defaults are for the code that uses them to choose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub server: ServerConfig,
    pub demo: DemoConfig,
    pub events: EventsConfig,
    pub monitoring: MonitoringConfig,
    /// `scrape_configs`, in Prometheus's shape.
    pub scrape_configs: Vec<ScrapeJob>,
    /// `rule_files`: paths or globs of Prometheus rule files.
    pub rule_files: Vec<String>,
    /// `remote_write`: where to send samples, in Prometheus's shape.
    pub remote_write: Vec<monitoring::RemoteWriteConfig>,
    /// `monitors`: synthetic probes.
    pub monitors: Vec<MonitorEntry>,
    /// `stacks`: Terraform directories checked for drift.
    pub stacks: Vec<StackEntry>,
}

/// The only `version:` this code reads.
const VERSION: i128 = 1;

const FIELDS: &[Field<Config>] = &[
    ("version", |ck, node, _, _| check_version(ck, node)),
    ("server", |ck, node, path, out| {
        out.server = ck.mapping(node, path, server::FIELDS);
    }),
    ("demo", |ck, node, path, out| {
        out.demo = ck.mapping(node, path, demo::FIELDS);
    }),
    ("events", |ck, node, path, out| {
        out.events = ck.mapping(node, path, events::FIELDS);
    }),
    ("monitoring", |ck, node, path, out| {
        out.monitoring = ck.mapping(node, path, monitoring::FIELDS);
    }),
    ("scrape_configs", |ck, node, path, out| {
        out.scrape_configs = monitoring::scrape_configs(ck, node, path);
    }),
    ("rule_files", |ck, node, path, out| {
        out.rule_files = monitoring::rule_files(ck, node, path);
    }),
    ("remote_write", |ck, node, path, out| {
        out.remote_write = monitoring::remote_write(ck, node, path);
    }),
    ("monitors", |ck, node, path, out| {
        out.monitors = monitors::monitors(ck, node, path);
    }),
    ("stacks", |ck, node, path, out| {
        out.stacks = stacks::stacks(ck, node, path);
    }),
];

/// Reads one file's tree (or the merged tree). The result means something
/// only when no error was pushed.
pub(crate) fn check(ck: &mut Checker, root: &Node) -> Config {
    if root.is_absent() {
        let message = "empty file: expected a mapping with `version: 1`";
        ck.push(Diagnostic::error(&*root.file, message));
        return Config::default();
    }
    let config = ck.mapping(root, "", FIELDS);
    if let Kind::Map(entries) = &root.kind
        && !entries.iter().any(|e| e.key == "version")
    {
        let message = "missing required key `version` in the top level";
        ck.push(error_at(root, message).with_help("add `version: 1` at the top of the file"));
    }
    config
}

fn check_version(ck: &mut Checker, node: &Node) {
    let help = match &node.kind {
        Kind::Scalar {
            ty: ScalarType::Int(VERSION),
            ..
        } => return,
        Kind::Scalar {
            ty: ScalarType::Int(other),
            ..
        } => {
            ck.push(
                error_at(
                    node,
                    format!("unsupported version {other}: expected `version: 1`"),
                )
                .with_help("version 1 is the only version this gantry reads"),
            );
            return;
        }
        Kind::Scalar {
            ty: ScalarType::Str,
            text,
        } if text.trim() == "1" => Some("remove the quotes: `version: 1`"),
        _ => None,
    };
    let found = node.describe();
    let mut diag = error_at(
        node,
        format!("expected the integer 1 for `version`, found {found}"),
    );
    if let Some(help) = help {
        diag = diag.with_help(help);
    }
    ck.push(diag);
}
