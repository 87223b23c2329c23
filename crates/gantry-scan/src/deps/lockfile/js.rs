//! npm: `package-lock.json` / `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`.

use super::{ParseResult, Sink, at, split_at_version};
use crate::deps::json::{self, Node};

/// Versions that name a registry release start with a digit; `file:`,
/// `link:`, git and tarball references do not.
fn is_registry_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
}

pub(super) fn package_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let root = json::parse(text).map_err(|e| e.to_string())?;
    if root.as_object().is_none() {
        return Err(at(
            root.line,
            1,
            format!("expected an object, found {}", root.type_name()),
        ));
    }
    // lockfileVersion 2 and 3 list every install under `packages`; 1 nests
    // them under `dependencies`.
    if let Some(packages) = root.get("packages") {
        let Some(members) = packages.as_object() else {
            return Err(at(packages.line, 1, "`packages` must be an object"));
        };
        for (key, entry) in members {
            if key.is_empty() {
                continue; // the project itself
            }
            if entry.as_object().is_none() {
                return Err(at(
                    entry.line,
                    1,
                    format!("`packages.{key}` must be an object"),
                ));
            }
            if entry.get("link").and_then(Node::as_bool) == Some(true) {
                continue;
            }
            // Workspace folders (`packages/app`) are local code.
            let Some(idx) = key.rfind("node_modules/") else {
                continue;
            };
            let name = match entry.get("name").and_then(Node::as_str) {
                Some(n) => n,
                None => &key[idx + "node_modules/".len()..],
            };
            let version = version_of(entry, key)?;
            if let Some(v) = version
                && is_registry_version(v)
            {
                out.push(name, v, entry.line);
            }
        }
        return Ok(());
    }
    if let Some(deps) = root.get("dependencies") {
        v1_dependencies(deps, out)?;
    }
    Ok(())
}

fn version_of<'a>(entry: &'a Node, key: &str) -> Result<Option<&'a str>, String> {
    match entry.get("version") {
        None => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) => Ok(Some(s)),
            None => Err(at(
                v.line,
                1,
                format!("`{key}.version` must be a string, found {}", v.type_name()),
            )),
        },
    }
}

fn v1_dependencies(deps: &Node, out: &mut Sink<'_>) -> ParseResult {
    let Some(members) = deps.as_object() else {
        return Err(at(deps.line, 1, "`dependencies` must be an object"));
    };
    for (name, entry) in members {
        if entry.as_object().is_none() {
            return Err(at(
                entry.line,
                1,
                format!("`dependencies.{name}` must be an object"),
            ));
        }
        if let Some(v) = version_of(entry, name)? {
            // Aliases are written `npm:real-name@1.2.3`.
            if let Some(alias) = v.strip_prefix("npm:") {
                if let Some((real, ver)) = split_at_version(alias) {
                    out.push(real, ver, entry.line);
                }
            } else if is_registry_version(v) {
                out.push(name, v, entry.line);
            }
        }
        if let Some(nested) = entry.get("dependencies") {
            // The JSON reader bounds nesting, so recursion here is bounded too.
            v1_dependencies(nested, out)?;
        }
    }
    Ok(())
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(s)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Both yarn formats share a shape: an unindented header listing the
/// specifiers (`"a@^1", a@^1.1:`), then indented fields. Classic writes
/// `version "1.2.3"`, berry (YAML) writes `version: 1.2.3` and a
/// `resolution: "a@npm:1.2.3"` that names the real package.
pub(super) fn yarn_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    struct Entry<'t> {
        line: u32,
        spec: &'t str,
        version: Option<&'t str>,
        resolution: Option<&'t str>,
    }
    let berry = text.lines().any(|l| l.starts_with("__metadata:"));
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = indent_of(line);
        if line.starts_with('\t') {
            return Err(at(
                line_no,
                1,
                "tabs are not valid indentation in yarn.lock",
            ));
        }
        if indent == 0 {
            let Some(header) = trimmed.strip_suffix(':') else {
                return Err(at(line_no, 1, "expected an entry header ending in `:`"));
            };
            let first = header.split(',').next().unwrap_or("");
            entries.push(Entry {
                line: line_no,
                spec: unquote(first),
                version: None,
                resolution: None,
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            return Err(at(
                line_no,
                (indent + 1) as u32,
                "indented line before any entry",
            ));
        };
        if indent != 2 {
            continue; // nested maps: dependencies, checksums, metadata
        }
        let (key, value) = match trimmed.split_once(':') {
            Some((k, v)) if berry => (k.trim(), v.trim()),
            _ => match trimmed.split_once(' ') {
                Some((k, v)) => (k.trim_end_matches(':'), v.trim()),
                None => (trimmed.trim_end_matches(':'), ""),
            },
        };
        match key {
            "version" => entry.version = Some(unquote(value)),
            "resolution" => entry.resolution = Some(unquote(value)),
            _ => {}
        }
    }
    for e in entries {
        if e.spec == "__metadata" {
            continue;
        }
        let Some(version) = e.version else {
            return Err(at(e.line, 1, format!("entry `{}` has no version", e.spec)));
        };
        if berry {
            // Only registry packages: workspace, link, portal, patch, git,
            // file and exec resolutions are local or derived code.
            let Some(res) = e.resolution else { continue };
            let Some((name, reference)) = split_at_version(res) else {
                continue;
            };
            if reference.starts_with("npm:") && is_registry_version(version) {
                out.push(name, version, e.line);
            }
        } else {
            let Some((name, _range)) = yarn_v1_name(e.spec) else {
                return Err(at(
                    e.line,
                    1,
                    format!(
                        "expected `name@range` in the entry header, found `{}`",
                        e.spec
                    ),
                ));
            };
            if is_registry_version(version) {
                out.push(name, version, e.line);
            }
        }
    }
    Ok(())
}

/// pnpm: the `packages:` map. Keys are `/name/1.2.3` (lockfileVersion 5),
/// `/name@1.2.3(peer@1)` (6) or `name@1.2.3` (9); `name:`/`version:` fields
/// inside an entry (tarball dependencies) take precedence.
pub(super) fn pnpm_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let mut lockfile_version: Option<f64> = None;
    let mut in_packages = false;
    struct Entry<'t> {
        line: u32,
        key: &'t str,
        name: Option<&'t str>,
        version: Option<&'t str>,
    }
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with('\t') {
            return Err(at(line_no, 1, "tabs are not valid YAML indentation"));
        }
        let indent = indent_of(line);
        if indent == 0 {
            in_packages = false;
            let Some((key, value)) = trimmed.split_once(':') else {
                return Err(at(line_no, 1, "expected `key:` at the top level"));
            };
            match key {
                "lockfileVersion" => {
                    let v = unquote(value);
                    let parsed = v.parse::<f64>().map_err(|_| {
                        at(
                            line_no,
                            (key.len() + 3) as u32,
                            format!("expected a lockfile version number, found `{v}`"),
                        )
                    })?;
                    lockfile_version = Some(parsed);
                }
                "packages" => in_packages = true,
                _ => {}
            }
            continue;
        }
        if !in_packages {
            continue;
        }
        if indent == 2 {
            let Some(key) = trimmed
                .strip_suffix(':')
                .or_else(|| trimmed.strip_suffix(": {}"))
            else {
                return Err(at(line_no, 3, "expected a package key ending in `:`"));
            };
            entries.push(Entry {
                line: line_no,
                key: unquote(key),
                name: None,
                version: None,
            });
        } else if indent == 4
            && let Some(entry) = entries.last_mut()
            && let Some((k, v)) = trimmed.split_once(':')
        {
            match k {
                "name" => entry.name = Some(unquote(v)),
                "version" => entry.version = Some(unquote(v)),
                _ => {}
            }
        }
    }
    let Some(lockfile_version) = lockfile_version else {
        return Err("no `lockfileVersion`: not a pnpm lockfile".to_string());
    };
    for e in entries {
        let (name, version) = match (e.name, e.version) {
            (Some(n), Some(v)) => (n, v),
            _ => match pnpm_key(e.key, lockfile_version) {
                Some(nv) => nv,
                None => continue,
            },
        };
        if is_registry_version(version) {
            out.push(name, version, e.line);
        }
    }
    Ok(())
}

/// `name@range`, or for an alias `alias@npm:real@range` the real name.
fn yarn_v1_name(spec: &str) -> Option<(&str, &str)> {
    let idx = spec.get(1..)?.find('@')? + 1;
    let (name, range) = (&spec[..idx], &spec[idx + 1..]);
    match range.strip_prefix("npm:").and_then(split_at_version) {
        Some(real) => Some(real),
        None => Some((name, range)),
    }
}

fn pnpm_key(key: &str, lockfile_version: f64) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if lockfile_version < 6.0 {
        // `name/1.2.3_peer@x` or `@scope/name/1.2.3`.
        let (name, version) = key.rsplit_once('/')?;
        let version = version.split('_').next().unwrap_or(version);
        Some((name, version))
    } else {
        let key = key.split('(').next().unwrap_or(key);
        split_at_version(key)
    }
}
