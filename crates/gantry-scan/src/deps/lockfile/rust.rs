//! `Cargo.lock`.

use serde::Deserialize;
use toml::Spanned;

use super::{ParseResult, Sink, toml_entry_line, toml_error};

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: Spanned<String>,
    version: String,
    source: Option<String>,
}

/// Registry and git packages are kept; workspace members and path
/// dependencies (no `source`) are local code, not published packages.
pub(super) fn cargo_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let lock: CargoLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    for p in lock.package {
        if p.source.is_none() {
            continue;
        }
        let line = toml_entry_line(text, p.name.span().start, "[[package]]");
        out.push(p.name.get_ref(), &p.version, line);
    }
    Ok(())
}
