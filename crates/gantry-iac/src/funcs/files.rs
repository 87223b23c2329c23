//! Filesystem and path functions.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::encoding::{hash_b64, hash_hex};
use super::{Def, FuncError, FuncHost, Pt, RAW_UNKNOWN, p, r_any, r_bool, r_string, s};
use crate::value::{Type, Value};

pub(super) const DEFS: &[Def] = &[
    Def::new("abspath", &[p("path", Pt::String)], r_string, abspath),
    Def::new("basename", &[p("path", Pt::String)], r_string, basename),
    Def::new("dirname", &[p("path", Pt::String)], r_string, dirname),
    Def::new("file", &[p("path", Pt::String)], r_string, file),
    Def::new("filebase64", &[p("path", Pt::String)], r_string, filebase64),
    Def::new(
        "filebase64sha256",
        &[p("path", Pt::String)],
        r_string,
        filebase64sha256,
    ),
    Def::new(
        "filebase64sha512",
        &[p("path", Pt::String)],
        r_string,
        filebase64sha512,
    ),
    Def::new("fileexists", &[p("path", Pt::String)], r_bool, fileexists),
    Def::new("filemd5", &[p("path", Pt::String)], r_string, filemd5),
    Def::new(
        "fileset",
        &[p("path", Pt::String), p("pattern", Pt::String)],
        r_fileset,
        fileset,
    ),
    Def::new("filesha1", &[p("path", Pt::String)], r_string, filesha1),
    Def::new("filesha256", &[p("path", Pt::String)], r_string, filesha256),
    Def::new("filesha512", &[p("path", Pt::String)], r_string, filesha512),
    Def::new("pathexpand", &[p("path", Pt::String)], r_string, pathexpand),
    Def::new(
        "templatefile",
        &[p("path", Pt::String), p("vars", Pt::Any)],
        r_any,
        templatefile,
    )
    .flags(RAW_UNKNOWN),
    Def::new(
        "templatestring",
        &[p("template", Pt::String), p("vars", Pt::Any)],
        r_any,
        templatestring,
    )
    .flags(RAW_UNKNOWN),
];

fn string(t: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(t.into()))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `~` and `~/...` become the home directory.
fn expand_home(path: &str) -> String {
    if (path == "~" || path.starts_with("~/"))
        && let Some(home) = home_dir()
    {
        return format!("{}{}", home.to_string_lossy(), &path[1..]);
    }
    path.to_owned()
}

/// The path a file function reads: home expanded, relative paths against
/// the host's base directory.
fn resolve(host: &dyn FuncHost, path: &str) -> PathBuf {
    let expanded = PathBuf::from(expand_home(path));
    if expanded.is_absolute() {
        expanded
    } else {
        host.base_dir().join(expanded)
    }
}

fn read(host: &dyn FuncHost, path: &str) -> Result<Vec<u8>, FuncError> {
    let full = resolve(host, path);
    match std::fs::metadata(&full) {
        Err(_) => {
            return Err(FuncError::arg(
                0,
                "path",
                format!(
                    "no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"
                ),
            ));
        }
        Ok(m) if m.is_dir() => {
            return Err(FuncError::arg(
                0,
                "path",
                format!("{path:?} is a directory, not a file"),
            ));
        }
        Ok(_) => {}
    }
    std::fs::read(&full)
        .map_err(|e| FuncError::arg(0, "path", format!("failed to read file {path:?}: {e}")))
}

fn read_text(host: &dyn FuncHost, path: &str) -> Result<String, FuncError> {
    String::from_utf8(read(host, path)?).map_err(|_| {
        FuncError::arg(
            0,
            "path",
            format!(
                "contents of {path:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"
            ),
        )
    })
}

fn file(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(read_text(host, s(&args[0]))?)
}

fn filebase64(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(B64.encode(read(host, s(&args[0]))?))
}

fn filemd5(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<md5::Md5>(&read(host, s(&args[0]))?))
}

fn filesha1(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha1::Sha1>(&read(host, s(&args[0]))?))
}

fn filesha256(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha2::Sha256>(&read(host, s(&args[0]))?))
}

fn filesha512(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_hex::<sha2::Sha512>(&read(host, s(&args[0]))?))
}

fn filebase64sha256(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_b64::<sha2::Sha256>(&read(host, s(&args[0]))?))
}

fn filebase64sha512(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    string(hash_b64::<sha2::Sha512>(&read(host, s(&args[0]))?))
}

fn fileexists(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    let path = s(&args[0]);
    match std::fs::metadata(resolve(host, path)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(FuncError::arg(
            0,
            "path",
            format!("failed to stat {path:?}: {e}"),
        )),
        Ok(m) if m.is_file() => Ok(Value::Bool(true)),
        Ok(m) => Err(FuncError::arg(
            0,
            "path",
            format!(
                "{path} is not a regular file, but {:?}",
                if m.is_dir() {
                    "directory"
                } else {
                    "special file"
                }
            ),
        )),
    }
}

fn r_fileset(_: &[Value]) -> Type {
    Type::set(Type::String)
}

fn fileset(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    let (dir, pattern) = (s(&args[0]), s(&args[1]));
    let pattern = pattern.trim_start_matches("./");
    let patterns = expand_braces(pattern).map_err(|e| {
        FuncError::arg(
            1,
            "pattern",
            format!("failed to glob pattern ({pattern}): {e}"),
        )
    })?;
    for p in &patterns {
        validate_glob(p).map_err(|e| {
            FuncError::arg(
                1,
                "pattern",
                format!("failed to glob pattern ({pattern}): {e}"),
            )
        })?;
    }
    let root = resolve(host, dir);
    let mut files = Vec::new();
    walk(&root, "", &mut files, 0);
    let matched = files
        .into_iter()
        .filter(|f| patterns.iter().any(|p| glob_match(p, f)))
        .map(Value::String)
        .collect();
    Ok(Value::set_from(matched))
}

/// Every regular file under `dir`, as paths relative to the walk's root
/// with forward slashes.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, &rel, out, depth + 1),
            Ok(m) if m.is_file() => out.push(rel),
            _ => {}
        }
    }
}

/// Expands `{a,b}` alternatives into separate patterns.
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let Some(open) = chars.iter().position(|&c| c == '{') else {
        if pattern.contains('}') {
            return Err("syntax error in pattern".into());
        }
        return Ok(vec![pattern.to_owned()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut splits = Vec::new();
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => splits.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return Err("syntax error in pattern".into());
    };
    let head: String = chars[..open].iter().collect();
    let tail: String = chars[close + 1..].iter().collect();
    let mut bounds = vec![open];
    bounds.extend(splits);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt: String = chars[w[0] + 1..w[1]].iter().collect();
        out.extend(expand_braces(&format!("{head}{alt}{tail}"))?);
    }
    Ok(out)
}

fn validate_glob(p: &str) -> Result<(), String> {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let mut closed = false;
                let mut first = true;
                for d in chars.by_ref() {
                    if d == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                }
                if !closed {
                    return Err("syntax error in pattern".into());
                }
            }
            '\\' if chars.next().is_none() => return Err("syntax error in pattern".into()),
            _ => {}
        }
    }
    Ok(())
}

/// Matches a relative path against a glob: `*` and `?` within one path
/// segment, `**` as a whole segment for any number of segments, `[...]`
/// classes (`!` or `^` negates, `a-z` ranges), `\` escapes.
pub(crate) fn glob_match(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|k| match_segments(rest, &segs[k..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                let pc: Vec<char> = p.chars().collect();
                let sc: Vec<char> = s.chars().collect();
                match_chars(&pc, &sc) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

fn match_chars(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|k| match_chars(rest, &s[k..])),
        Some(('?', rest)) => !s.is_empty() && match_chars(rest, &s[1..]),
        Some(('[', rest)) => {
            let Some((&c, srest)) = s.split_first() else {
                return false;
            };
            let (negate, body) = match rest.first() {
                Some('!' | '^') => (true, &rest[1..]),
                _ => (false, rest),
            };
            let mut i = 0;
            let mut hit = false;
            while i < body.len() {
                if body[i] == ']' && i > 0 {
                    break;
                }
                if i + 2 < body.len() && body[i + 1] == '-' && body[i + 2] != ']' {
                    if body[i] <= c && c <= body[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if body[i] == c {
                        hit = true;
                    }
                    i += 1;
                }
            }
            if i >= body.len() {
                return false;
            }
            hit != negate && match_chars(&body[i + 1..], srest)
        }
        Some(('\\', rest)) if !rest.is_empty() => {
            s.first() == Some(&rest[0]) && match_chars(&rest[1..], &s[1..])
        }
        Some((c, rest)) => s.first() == Some(c) && match_chars(rest, &s[1..]),
    }
}

fn templatefile(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    if !args[0].is_known() {
        return Ok(Value::Unknown(Type::Any));
    }
    let path = s(&args[0]);
    let vars = &args[1];
    check_vars(vars)?;
    let text = read_text(host, path)?;
    if !vars.is_known() {
        return Ok(Value::Unknown(Type::Any));
    }
    host.render_template(&resolve(host, path), &text, vars)
        .map_err(FuncError::call)
}

fn check_vars(vars: &Value) -> Result<(), FuncError> {
    if vars.is_known() && vars.as_map().is_none() {
        return Err(FuncError::arg(
            1,
            "vars",
            "invalid vars value: must be a map",
        ));
    }
    Ok(())
}

/// Renders a template held in a string (the evaluator checks that the
/// template argument is a reference, as Terraform requires).
fn templatestring(args: Vec<Value>, host: &dyn FuncHost) -> Result<Value, FuncError> {
    check_vars(&args[1])?;
    if !args[0].is_known() || !args[1].is_known() {
        return Ok(Value::Unknown(Type::Any));
    }
    host.render_template(Path::new("<templatestring>"), s(&args[0]), &args[1])
        .map_err(FuncError::call)
}

/// Go's `filepath.Clean` for slash-separated paths.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn abspath(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let path = s(&args[0]).replace('\\', "/");
    if path.starts_with('/') {
        return string(clean(&path));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| FuncError::call(format!("failed to find the current directory: {e}")))?;
    string(clean(&format!(
        "{}/{path}",
        cwd.to_string_lossy().replace('\\', "/")
    )))
}

/// Go's `filepath.Base`.
fn basename(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let path = s(&args[0]);
    if path.is_empty() {
        return string(".");
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return string("/");
    }
    string(trimmed.rsplit('/').next().unwrap_or(trimmed))
}

/// Go's `filepath.Dir`.
fn dirname(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    let path = s(&args[0]);
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    string(clean(dir))
}

fn pathexpand(args: Vec<Value>, _: &dyn FuncHost) -> Result<Value, FuncError> {
    string(expand_home(s(&args[0])))
}
