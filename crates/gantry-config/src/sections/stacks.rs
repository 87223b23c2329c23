//! `stacks:` — Terraform working directories Gantry watches for drift:
//! `[{ name, dir, schedule }]`. `dir` is relative to the workspace (the
//! directory of gantry.yml); `schedule` is a five-field cron expression
//! (UTC, as GitHub's `schedule`) or an interval such as `6h`.

use std::time::Duration;

use gantry_core::Cron;

use crate::check::{Checker, Field, error_at};
use crate::sections::monitoring::{Origin, parse_prom_duration, seq};
use crate::yaml::{Kind, Node};

/// When a stack's drift is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every this long, from when the server starts.
    Every(Duration),
    Cron(Cron),
}

/// One `stacks` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackEntry {
    pub name: String,
    /// As written (relative to the workspace unless absolute).
    pub dir: String,
    /// `None`: checked only on demand (`gantry drift -C DIR`).
    pub schedule: Option<Schedule>,
    pub origin: Origin,
}

const FIELDS: &[Field<StackEntry>] = &[
    ("name", |ck, node, path, out| {
        out.name = ck.string(node, path).unwrap_or_default();
    }),
    ("dir", |ck, node, path, out| {
        out.dir = ck.string(node, path).unwrap_or_default();
    }),
    ("schedule", |ck, node, path, out| {
        out.schedule = ck.value(
            node,
            path,
            "a cron expression (`0 */6 * * *`) or an interval (`6h`)",
            |text| {
                if text.split_whitespace().count() > 1 {
                    return Cron::parse(text).map(Schedule::Cron).map_err(Some);
                }
                match parse_prom_duration(text) {
                    Ok(d) if d >= Duration::from_secs(60) => Ok(Schedule::Every(d)),
                    Ok(_) => Err(Some("the shortest interval is 1m".to_owned())),
                    Err(help) => Err(help),
                }
            },
        );
    }),
];

pub(crate) fn stacks(ck: &mut Checker, node: &Node, path: &str) -> Vec<StackEntry> {
    let mut out: Vec<StackEntry> = Vec::new();
    for (i, item) in seq(ck, node, path).iter().enumerate() {
        let at = format!("{path}[{i}]");
        let mut entry: StackEntry = ck.mapping(item, &at, FIELDS);
        let Kind::Map(entries) = &item.kind else {
            continue;
        };
        entry.origin = Origin::of(item);
        for required in ["name", "dir"] {
            if !entries.iter().any(|e| e.key == required) {
                ck.push(error_at(
                    item,
                    format!("missing required key `{required}` in `{at}`"),
                ));
            }
        }
        if let Some(prev) = out
            .iter()
            .find(|s| !entry.name.is_empty() && s.name == entry.name)
        {
            ck.push(
                error_at(
                    item,
                    format!("found multiple stacks named `{}`", entry.name),
                )
                .with_help(format!("the first is at line {}", prev.origin.span.line)),
            );
        }
        out.push(entry);
    }
    out
}
