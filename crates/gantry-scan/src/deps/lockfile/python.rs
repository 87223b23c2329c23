//! Python: `requirements*.txt`, `poetry.lock`, `uv.lock`, `Pipfile.lock`.

use serde::Deserialize;
use toml::Spanned;

use super::{ParseResult, Sink, at, toml_entry_line, toml_error};
use crate::deps::json;

/// Only exact pins (`name==1.2.3`, `name===1.2.3`) name one version; other
/// requirements, options (`-r`, `-e`, `--hash`), URLs and wildcard pins are
/// skipped. Backslash continuations join lines.
pub(super) fn requirements(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let mut logical = String::new();
    let mut start_line = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        if logical.is_empty() {
            start_line = line_no;
        }
        // A comment starts at `#` preceded by whitespace or at line start.
        let mut line = raw;
        if let Some(pos) = find_comment(line) {
            line = &line[..pos];
        }
        if let Some(stripped) = line.trim_end().strip_suffix('\\') {
            logical.push_str(stripped);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        requirement(&logical, start_line, out)?;
        logical.clear();
    }
    if !logical.is_empty() {
        requirement(&logical, start_line, out)?;
    }
    Ok(())
}

fn find_comment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))
}

fn requirement(line: &str, line_no: u32, out: &mut Sink<'_>) -> ParseResult {
    let line = line.trim();
    if line.is_empty() || line.starts_with('-') || line.contains("://") {
        return Ok(());
    }
    // Drop environment markers and per-requirement options.
    let spec = line.split(';').next().unwrap_or("");
    let spec = spec.split(" --").next().unwrap_or("").trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() {
        // A path (`./pkg`, `pkg.whl`) or something that is not a requirement.
        if spec.starts_with(['.', '/', '~']) {
            return Ok(());
        }
        return Err(at(
            line_no,
            1,
            format!("expected a requirement, found `{}`", clip(spec)),
        ));
    }
    let mut rest = spec[name_end..].trim_start();
    if rest.starts_with('[') {
        let Some(close) = rest.find(']') else {
            return Err(at(line_no, (name_end + 1) as u32, "unclosed `[` in extras"));
        };
        rest = rest[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(()); // a direct URL reference
    }
    // Only a single exact clause pins a version.
    if rest.contains(',') {
        return Ok(());
    }
    let version = if let Some(v) = rest.strip_prefix("===") {
        v
    } else if let Some(v) = rest.strip_prefix("==") {
        v
    } else {
        return Ok(());
    };
    let version = version.trim();
    if version.is_empty() || version.contains('*') || version.contains(char::is_whitespace) {
        return Ok(());
    }
    out.push(name, version, line_no);
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: Spanned<String>,
    version: Option<String>,
    source: Option<toml::Value>,
}

/// Poetry: local directory and file packages are the project's own code.
pub(super) fn poetry_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let lock: TomlLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    for p in lock.package {
        let local = p
            .source
            .as_ref()
            .and_then(|s| s.get("type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| matches!(t, "directory" | "file"));
        if local {
            continue;
        }
        let Some(version) = p.version else {
            return Err(missing_version(text, &p.name));
        };
        let line = toml_entry_line(text, p.name.span().start, "[[package]]");
        out.push(p.name.get_ref(), &version, line);
    }
    Ok(())
}

/// uv: editable, virtual, directory and path sources are local code; their
/// version may be absent.
pub(super) fn uv_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let lock: TomlLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    for p in lock.package {
        let local = p
            .source
            .as_ref()
            .and_then(|s| s.as_table())
            .is_some_and(|t| {
                ["editable", "virtual", "directory", "path"]
                    .iter()
                    .any(|k| t.contains_key(*k))
            });
        if local {
            continue;
        }
        let Some(version) = p.version else {
            return Err(missing_version(text, &p.name));
        };
        let line = toml_entry_line(text, p.name.span().start, "[[package]]");
        out.push(p.name.get_ref(), &version, line);
    }
    Ok(())
}

fn missing_version(text: &str, name: &Spanned<String>) -> String {
    let (l, c) = super::line_col(text, name.span().start);
    at(
        l,
        c,
        format!("package `{}` has no `version`", name.get_ref()),
    )
}

/// `Pipfile.lock`: the `default` and `develop` sections, versions as `==X`.
pub(super) fn pipfile_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let root = json::parse(text).map_err(|e| e.to_string())?;
    if root.as_object().is_none() {
        return Err(at(
            root.line,
            1,
            format!("expected an object, found {}", root.type_name()),
        ));
    }
    for section in ["default", "develop"] {
        let Some(sec) = root.get(section) else {
            continue;
        };
        let Some(members) = sec.as_object() else {
            return Err(at(
                sec.line,
                1,
                format!("`{section}` must be an object, found {}", sec.type_name()),
            ));
        };
        for (name, entry) in members {
            let Some(v) = entry.get("version") else {
                continue;
            }; // git/path/editable entries
            let Some(v) = v.as_str() else {
                return Err(at(
                    v.line,
                    1,
                    format!("`{section}.{name}.version` must be a string"),
                ));
            };
            let Some(version) = v.strip_prefix("===").or_else(|| v.strip_prefix("==")) else {
                continue;
            };
            out.push(name, version, entry.line);
        }
    }
    Ok(())
}
