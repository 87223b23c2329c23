//! Renderings of a [`Report`]: a terminal table, Gantry's JSON, SARIF
//! 2.1.0 and a CycloneDX 1.5 SBOM. Each is a pure function to a string.

mod cyclonedx;
mod json;
mod sarif;
mod table;

pub use cyclonedx::cyclonedx;
pub use json::{JSON_SCHEMA_VERSION, json};
pub use sarif::sarif;
pub use table::table;

use std::fmt;
use std::str::FromStr;

use crate::report::Report;

/// The output formats `gantry scan --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    CycloneDx,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "cyclonedx" => Ok(Format::CycloneDx),
            _ => Err(format!(
                "unknown format `{s}` (expected table, json, sarif or cyclonedx)"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CycloneDx => "cyclonedx",
        })
    }
}

/// Facts about the scanning tool that outputs embed.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    pub information_uri: &'static str,
}

impl Default for Tool {
    fn default() -> Tool {
        Tool {
            name: "gantry",
            version: env!("CARGO_PKG_VERSION"),
            information_uri: "https://example.invalid/gantry",
        }
    }
}

/// Renders `report` in `format`; `color` applies to the table only.
pub fn render(report: &Report, format: Format, tool: &Tool, color: bool) -> String {
    match format {
        Format::Table => table(report, color),
        Format::Json => json(report, tool),
        Format::Sarif => sarif(report, tool),
        Format::CycloneDx => cyclonedx(report, tool),
    }
}
