//! `go.mod`: `require` lines and blocks (direct and `// indirect`), with
//! `replace` directives applied: a module replaced by another module at a
//! version is reported as the replacement; one replaced by a local path is
//! local code and dropped.

use std::collections::HashMap;

use super::{ParseResult, Sink, at};

struct Require {
    path: String,
    version: String,
    line: u32,
}

enum Target {
    Module { path: String, version: String },
    Local,
}

pub(super) fn go_mod(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let mut requires: Vec<Require> = Vec::new();
    // (old path, Some(old version) or None for every version) → target
    let mut replaces: HashMap<(String, Option<String>), Target> = HashMap::new();
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let code = strip_comment(raw).trim();
        if code.is_empty() {
            continue;
        }
        let (verb, args) = if let Some(b) = &block {
            if code == ")" {
                block = None;
                continue;
            }
            (b.clone(), code)
        } else {
            let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
            let rest = rest.trim();
            if rest == "(" {
                block = Some(verb.to_string());
                continue;
            }
            if rest.starts_with('(') {
                // `require ( x v1 )` on one line is not valid go.mod.
                return Err(at(
                    line_no,
                    (verb.len() + 2) as u32,
                    "expected a newline after `(`",
                ));
            }
            (verb.to_string(), rest)
        };
        let words = tokens(args).map_err(|m| at(line_no, 1, m))?;
        match verb.as_str() {
            "require" => {
                let [path, version] = words.as_slice() else {
                    return Err(at(line_no, 1, "expected `module/path vX.Y.Z` in require"));
                };
                check_version(version, line_no)?;
                requires.push(Require {
                    path: path.clone(),
                    version: version.clone(),
                    line: line_no,
                });
            }
            "replace" => {
                let arrow = words
                    .iter()
                    .position(|w| w == "=>")
                    .ok_or_else(|| at(line_no, 1, "expected `=>` in replace"))?;
                let (old, new) = words.split_at(arrow);
                let new = &new[1..];
                let key = match old {
                    [p] => (p.clone(), None),
                    [p, v] => (p.clone(), Some(v.clone())),
                    _ => return Err(at(line_no, 1, "expected `path [version] =>` in replace")),
                };
                let target = match new {
                    [p] if is_local_path(p) => Target::Local,
                    [p, v] => {
                        check_version(v, line_no)?;
                        Target::Module {
                            path: p.clone(),
                            version: v.clone(),
                        }
                    }
                    _ => {
                        return Err(at(
                            line_no,
                            1,
                            "expected `=> path version` or `=> ./local/path` in replace",
                        ));
                    }
                };
                replaces.insert(key, target);
            }
            "module" | "go" | "toolchain" | "exclude" | "retract" | "godebug" | "tool"
            | "ignore" => {}
            other => {
                return Err(at(
                    line_no,
                    1,
                    format!("unknown go.mod directive `{other}`"),
                ));
            }
        }
    }
    if block.is_some() {
        return Err("unterminated `(` block at end of file".to_string());
    }
    for r in requires {
        let target = replaces
            .get(&(r.path.clone(), Some(r.version.clone())))
            .or_else(|| replaces.get(&(r.path.clone(), None)));
        match target {
            Some(Target::Local) => {}
            Some(Target::Module { path, version }) => out.push(path, version, r.line),
            None => out.push(&r.path, &r.version, r.line),
        }
    }
    Ok(())
}

fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
}

fn check_version(v: &str, line: u32) -> ParseResult {
    if v.starts_with('v') && v.len() > 1 {
        Ok(())
    } else {
        Err(at(
            line,
            1,
            format!("expected a version like `v1.2.3`, found `{v}`"),
        ))
    }
}

/// The text before a `//` comment that is not inside a quoted path.
fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    let b = line.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'"' => in_quote = !in_quote,
            b'/' if !in_quote && b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits on whitespace, honouring `"quoted"` and `` `raw` `` paths.
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut w = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted string".to_string()),
                    Some(q) if q == c => break,
                    Some('\\') if c == '"' => {
                        if let Some(n) = chars.next() {
                            w.push(n);
                        }
                    }
                    Some(x) => w.push(x),
                }
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() {
                    break;
                }
                w.push(x);
                chars.next();
            }
            out.push(w);
        }
    }
    Ok(out)
}
