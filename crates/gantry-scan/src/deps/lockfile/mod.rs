//! Lockfile parsers: each turns one lockfile's text into the packages it
//! pins, each with the line its entry starts on. A file that cannot be
//! parsed is a [`FileError`] (with `line:col` when known); parsers never
//! panic on any input.

mod go;
mod js;
mod php;
mod python;
mod ruby;
mod rust;

use std::collections::HashSet;

use crate::finding::{Ecosystem, FileError, Location, Package};

/// The lockfile formats Gantry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockfileKind {
    /// `Cargo.lock` (v1 to v4).
    CargoLock,
    /// `package-lock.json` (lockfileVersion 1, 2 and 3) and `npm-shrinkwrap.json`.
    NpmLock,
    /// `yarn.lock`, classic (v1) and berry (v2+).
    YarnLock,
    /// `pnpm-lock.yaml` (lockfileVersion 5 to 9).
    PnpmLock,
    /// `requirements*.txt`: only exact `==`/`===` pins count.
    Requirements,
    /// `poetry.lock`.
    PoetryLock,
    /// `uv.lock`.
    UvLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `go.mod`: require blocks, replace directives, `// indirect`.
    GoMod,
    /// `Gemfile.lock` (and `gems.locked`).
    GemfileLock,
    /// `composer.lock`.
    ComposerLock,
}

impl LockfileKind {
    pub const ALL: [LockfileKind; 11] = [
        LockfileKind::CargoLock,
        LockfileKind::NpmLock,
        LockfileKind::YarnLock,
        LockfileKind::PnpmLock,
        LockfileKind::Requirements,
        LockfileKind::PoetryLock,
        LockfileKind::UvLock,
        LockfileKind::PipfileLock,
        LockfileKind::GoMod,
        LockfileKind::GemfileLock,
        LockfileKind::ComposerLock,
    ];

    /// The ecosystem whose advisories apply to the packages.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            LockfileKind::CargoLock => Ecosystem::CratesIo,
            LockfileKind::NpmLock | LockfileKind::YarnLock | LockfileKind::PnpmLock => {
                Ecosystem::Npm
            }
            LockfileKind::Requirements
            | LockfileKind::PoetryLock
            | LockfileKind::UvLock
            | LockfileKind::PipfileLock => Ecosystem::PyPI,
            LockfileKind::GoMod => Ecosystem::Go,
            LockfileKind::GemfileLock => Ecosystem::RubyGems,
            LockfileKind::ComposerLock => Ecosystem::Packagist,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LockfileKind::CargoLock => "Cargo.lock",
            LockfileKind::NpmLock => "package-lock.json",
            LockfileKind::YarnLock => "yarn.lock",
            LockfileKind::PnpmLock => "pnpm-lock.yaml",
            LockfileKind::Requirements => "requirements.txt",
            LockfileKind::PoetryLock => "poetry.lock",
            LockfileKind::UvLock => "uv.lock",
            LockfileKind::PipfileLock => "Pipfile.lock",
            LockfileKind::GoMod => "go.mod",
            LockfileKind::GemfileLock => "Gemfile.lock",
            LockfileKind::ComposerLock => "composer.lock",
        }
    }
}

/// Which lockfile format a file name (the last path component) is, if any.
/// `requirements.txt`, `requirements-dev.txt` and `dev-requirements.txt`
/// all count as requirements files.
pub fn lockfile_kind(file_name: &str) -> Option<LockfileKind> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    Some(match name {
        "Cargo.lock" => LockfileKind::CargoLock,
        "package-lock.json" | "npm-shrinkwrap.json" => LockfileKind::NpmLock,
        "yarn.lock" => LockfileKind::YarnLock,
        "pnpm-lock.yaml" => LockfileKind::PnpmLock,
        "poetry.lock" => LockfileKind::PoetryLock,
        "uv.lock" => LockfileKind::UvLock,
        "Pipfile.lock" => LockfileKind::PipfileLock,
        "go.mod" => LockfileKind::GoMod,
        "Gemfile.lock" | "gems.locked" => LockfileKind::GemfileLock,
        "composer.lock" => LockfileKind::ComposerLock,
        n if n.ends_with(".txt")
            && (n.starts_with("requirements")
                || n.ends_with("-requirements.txt")
                || n.ends_with("_requirements.txt")) =>
        {
            LockfileKind::Requirements
        }
        _ => return None,
    })
}

/// Parses one lockfile. `rel_path` is the file's path relative to the scan
/// root (`/`-separated); it goes into each package's location and into the
/// error. Each `(name, version)` appears once, at its first entry.
pub fn parse_lockfile(
    kind: LockfileKind,
    rel_path: &str,
    content: &str,
) -> Result<Vec<Package>, FileError> {
    let mut out = Sink {
        path: rel_path,
        ecosystem: kind.ecosystem(),
        seen: HashSet::new(),
        packages: Vec::new(),
    };
    let result = match kind {
        LockfileKind::CargoLock => rust::cargo_lock(content, &mut out),
        LockfileKind::NpmLock => js::package_lock(content, &mut out),
        LockfileKind::YarnLock => js::yarn_lock(content, &mut out),
        LockfileKind::PnpmLock => js::pnpm_lock(content, &mut out),
        LockfileKind::Requirements => python::requirements(content, &mut out),
        LockfileKind::PoetryLock => python::poetry_lock(content, &mut out),
        LockfileKind::UvLock => python::uv_lock(content, &mut out),
        LockfileKind::PipfileLock => python::pipfile_lock(content, &mut out),
        LockfileKind::GoMod => go::go_mod(content, &mut out),
        LockfileKind::GemfileLock => ruby::gemfile_lock(content, &mut out),
        LockfileKind::ComposerLock => php::composer_lock(content, &mut out),
    };
    match result {
        Ok(()) => Ok(out.packages),
        Err(message) => Err(FileError {
            path: rel_path.to_string(),
            message,
        }),
    }
}

/// Collects packages, dropping repeats of the same name and version.
pub(crate) struct Sink<'a> {
    path: &'a str,
    ecosystem: Ecosystem,
    seen: HashSet<(String, String)>,
    packages: Vec<Package>,
}

impl Sink<'_> {
    pub fn push(&mut self, name: &str, version: &str, line: u32) {
        let (name, version) = (name.trim(), version.trim());
        if name.is_empty() || version.is_empty() {
            return;
        }
        if !self.seen.insert((name.to_string(), version.to_string())) {
            return;
        }
        self.packages.push(Package {
            ecosystem: self.ecosystem,
            name: name.to_string(),
            version: version.to_string(),
            location: Location::new(self.path, line),
        });
    }
}

/// Parse errors inside a parser: `line:col: message`.
pub(crate) type ParseResult = Result<(), String>;

pub(crate) fn at(line: u32, col: u32, message: impl std::fmt::Display) -> String {
    format!("{line}:{col}: {message}")
}

/// 1-based line and column of a byte offset (clamped to the text).
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line as u32, col as u32)
}

/// A TOML parse error as `line:col: message`.
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            at(l, c, msg)
        }
        None => msg,
    }
}

/// The line of the nearest `[[header]]` at or before `offset` (the line the
/// TOML array-of-tables entry starts on); the offset's own line if none.
pub(crate) fn toml_entry_line(text: &str, offset: usize, header: &str) -> u32 {
    let (line, _) = line_col(text, offset);
    let offset = offset.min(text.len());
    let mut l = line;
    let mut end = offset;
    loop {
        let start = text
            .get(..end)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1);
        let this = text.get(start..).unwrap_or("").lines().next().unwrap_or("");
        if this.trim_start().starts_with(header) {
            return l;
        }
        if start == 0 || l <= 1 {
            return line;
        }
        end = start - 1;
        l -= 1;
    }
}

/// Splits `name@version`-style specifiers on the last `@` that is not the
/// first character (scoped npm names start with `@`).
pub(crate) fn split_at_version(spec: &str) -> Option<(&str, &str)> {
    let idx = spec.get(1..)?.rfind('@')? + 1;
    Some((&spec[..idx], &spec[idx + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        assert_eq!(lockfile_kind("Cargo.lock"), Some(LockfileKind::CargoLock));
        assert_eq!(
            lockfile_kind("a/b/npm-shrinkwrap.json"),
            Some(LockfileKind::NpmLock)
        );
        assert_eq!(
            lockfile_kind("requirements-dev.txt"),
            Some(LockfileKind::Requirements)
        );
        assert_eq!(
            lockfile_kind("dev-requirements.txt"),
            Some(LockfileKind::Requirements)
        );
        assert_eq!(lockfile_kind("notes.txt"), None);
        assert_eq!(lockfile_kind("package.json"), None);
        for k in LockfileKind::ALL {
            assert_eq!(lockfile_kind(k.as_str()), Some(k));
        }
    }

    #[test]
    fn positions() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 1), (1, 1));
        let t = "x\n[[package]]\nname = \"a\"\n";
        assert_eq!(
            toml_entry_line(t, t.find("name").unwrap(), "[[package]]"),
            2
        );
        assert_eq!(
            split_at_version("@babel/core@7.0.0"),
            Some(("@babel/core", "7.0.0"))
        );
        assert_eq!(split_at_version("@babel/core"), None);
    }
}
