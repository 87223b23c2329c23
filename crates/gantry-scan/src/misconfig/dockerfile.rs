//! Dockerfiles: a parser that keeps line numbers (parser directives, the
//! escape character, line continuations, comments inside continuations,
//! heredocs) and the checks over its instructions.

use crate::finding::{FileError, Finding, Location};
use crate::misconfig::catalog as c;
use crate::misconfig::{file_error, literal_secret, report, secret_name};

/// One instruction: `RUN apt-get update` on line 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Upper-cased: `FROM`, `RUN`, ...
    pub keyword: String,
    /// The arguments with continuations joined (the escape character and
    /// the newline removed), heredoc bodies appended after a newline.
    pub args: String,
    /// 1-based line where the instruction starts.
    pub line: u32,
    /// 1-based last line (continuations and heredocs included).
    pub end_line: u32,
}

const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses a Dockerfile into instructions. Errors (an unknown instruction,
/// an unterminated heredoc, a continuation at the end of the file) carry
/// `line:col`.
pub fn parse_dockerfile(text: &str) -> Result<Vec<Instruction>, (usize, usize, String)> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives: `# directive=value` lines at the very top.
    while i < lines.len() {
        let l = lines[i].trim();
        let Some(rest) = l.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().to_ascii_lowercase();
        if k.is_empty() || k.contains(' ') {
            break;
        }
        if k == "escape" {
            escape = match v.trim() {
                "`" => '`',
                "\\" => '\\',
                other => {
                    return Err((
                        i + 1,
                        1,
                        format!("invalid escape directive {other:?}: expected \\ or `"),
                    ));
                }
            };
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let col = raw.len() - trimmed.len() + 1;
        // Join continuation lines.
        let mut joined = String::new();
        let mut cur = trimmed.to_owned();
        loop {
            let t = cur.trim_end();
            if let Some(body) = t.strip_suffix(escape) {
                // As Docker does: the escape and the newline go, nothing
                // else (the next line's indentation stays).
                joined.push_str(body);
                i += 1;
                // Skip comment and empty lines inside a continuation.
                while i < lines.len() {
                    let n = lines[i].trim_start();
                    if n.starts_with('#') || n.trim().is_empty() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                cur = lines[i].to_owned();
            } else {
                joined.push_str(t);
                break;
            }
        }
        let (kw, args) = match joined.split_once(|ch: char| ch.is_whitespace()) {
            Some((k, a)) => (k.to_ascii_uppercase(), a.trim().to_owned()),
            None => (joined.trim().to_ascii_uppercase(), String::new()),
        };
        if !KEYWORDS.contains(&kw.as_str()) {
            return Err((start + 1, col, format!("unknown instruction {kw:?}")));
        }
        let mut args = args;
        // Heredocs: `<<EOF`, `<<-EOF`, `<<"EOF"`: bodies follow the line.
        let mut end = i.min(lines.len().saturating_sub(1));
        if matches!(kw.as_str(), "RUN" | "COPY" | "ADD") {
            for tag in heredoc_tags(&args) {
                let mut j = end + 1;
                let mut body = String::new();
                let mut closed = false;
                while j < lines.len() {
                    let l = lines[j];
                    if l.trim_start_matches('\t') == tag {
                        closed = true;
                        break;
                    }
                    body.push_str(l);
                    body.push('\n');
                    j += 1;
                }
                if !closed {
                    return Err((
                        start + 1,
                        col,
                        format!("unterminated heredoc: no line {tag:?} closes it"),
                    ));
                }
                args.push('\n');
                args.push_str(&body);
                end = j;
            }
        }
        out.push(Instruction {
            keyword: kw,
            args,
            line: (start + 1) as u32,
            end_line: (end + 1) as u32,
        });
        i = end + 1;
    }
    Ok(out)
}

/// The heredoc delimiters opened on an instruction line, in order.
fn heredoc_tags(args: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = args;
    while let Some(p) = rest.find("<<") {
        let after = &rest[p + 2..];
        let after = after.strip_prefix('-').unwrap_or(after);
        let (tag, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(e) => (q[..e].to_owned(), &q[e + 1..]),
                None => break,
            }
        } else if let Some(q) = after.strip_prefix('\'') {
            match q.find('\'') {
                Some(e) => (q[..e].to_owned(), &q[e + 1..]),
                None => break,
            }
        } else {
            let e = after
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(after.len());
            (after[..e].to_owned(), &after[e..])
        };
        if !tag.is_empty()
            && tag
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic())
        {
            tags.push(tag);
        }
        rest = tail;
    }
    tags
}

/// `--flag=value` options at the start of the arguments, skipped.
fn strip_flags(args: &str) -> &str {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        rest = match rest.find(char::is_whitespace) {
            Some(e) => rest[e..].trim_start(),
            None => "",
        };
    }
    rest
}

/// `KEY=VALUE ...` pairs (or the legacy `KEY VALUE` form) of ENV / ARG /
/// LABEL. Quotes are removed.
fn pairs(args: &str, legacy: bool) -> Vec<(String, Option<String>)> {
    let args = args.trim();
    let first_token = args.split_whitespace().next().unwrap_or("");
    if legacy && !first_token.contains('=') {
        let mut it = args.splitn(2, char::is_whitespace);
        let k = it.next().unwrap_or("").to_owned();
        let v = it.next().map(|v| unquote(v.trim()));
        return vec![(k, v)];
    }
    let mut out = Vec::new();
    let mut chars = args.chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|ch| ch.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&ch) = chars.peek() {
            if ch == '=' || ch.is_whitespace() {
                break;
            }
            key.push(ch);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        if chars.peek() != Some(&'=') {
            out.push((key, None));
            continue;
        }
        chars.next();
        let mut val = String::new();
        let mut quote: Option<char> = None;
        while let Some(&ch) = chars.peek() {
            match quote {
                Some(q) if ch == q => {
                    quote = None;
                    chars.next();
                }
                Some(_) => {
                    val.push(ch);
                    chars.next();
                }
                None if ch == '"' || ch == '\'' => {
                    quote = Some(ch);
                    chars.next();
                }
                None if ch.is_whitespace() => break,
                None => {
                    val.push(ch);
                    chars.next();
                }
            }
        }
        out.push((key, Some(val)));
    }
    out
}

/// `$NAME` / `${NAME}` replaced by the ARG defaults; None when a name has
/// no default (or the syntax is more than plain substitution).
fn substitute(s: &str, args: &[(String, String)]) -> Option<String> {
    if !s.contains('$') {
        return Some(s.to_owned());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (name, tail) = if let Some(b) = after.strip_prefix('{') {
            let e = b.find('}')?;
            (&b[..e], &b[e + 1..])
        } else {
            let e = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..e], &after[e..])
        };
        let (_, v) = args.iter().rev().find(|(k, _)| k == name)?;
        out.push_str(v);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    t.to_owned()
}

pub(super) fn scan(path: &str, text: &str) -> Result<Vec<Finding>, FileError> {
    let ins = parse_dockerfile(text).map_err(|(l, col, m)| file_error(path, l, col, m))?;
    let mut out = Vec::new();
    let loc = |i: &Instruction| Location::new(path, i.line);
    // Stages: names and where each starts.
    let mut stage_names: Vec<String> = Vec::new();
    let mut stage_starts: Vec<usize> = Vec::new();
    // ARGs before the first FROM may be used in FROM lines.
    let mut global_args: Vec<(String, String)> = Vec::new();
    for (n, i) in ins.iter().enumerate() {
        if i.keyword == "ARG" && stage_starts.is_empty() {
            for (k, v) in pairs(&i.args, false) {
                if let Some(v) = v {
                    global_args.push((k, v));
                }
            }
        }
        if i.keyword != "FROM" {
            continue;
        }
        stage_starts.push(n);
        let rest = strip_flags(&i.args);
        let mut words = rest.split_whitespace();
        let written = words.next().unwrap_or("");
        let substituted = substitute(written, &global_args);
        let image = substituted.as_deref().unwrap_or(written);
        let alias = match (words.next(), words.next()) {
            (Some(a), Some(name)) if a.eq_ignore_ascii_case("as") => {
                Some(name.to_ascii_lowercase())
            }
            _ => None,
        };
        let is_stage = stage_names.iter().any(|s| s.eq_ignore_ascii_case(image));
        let base = image.to_ascii_lowercase();
        if !is_stage && base != "scratch" && !image.contains('$') && !image.is_empty() {
            let (name_part, digest) = match image.split_once('@') {
                Some((n, _)) => (n, true),
                None => (image, false),
            };
            let last = name_part.rsplit('/').next().unwrap_or(name_part);
            let tag = last.split_once(':').map(|(_, t)| t);
            let bad = match tag {
                Some("latest") => Some("the latest tag"),
                None if !digest => Some("no tag"),
                _ => None,
            };
            if let Some(why) = bad {
                out.push(report(
                    &c::DF_LATEST_TAG,
                    None,
                    format!("FROM {image} uses {why}"),
                    loc(i),
                    &format!("FROM {image}"),
                    image,
                ));
            }
        }
        if let Some(a) = alias {
            stage_names.push(a);
        }
    }
    // Root user: the last USER of the final stage.
    if let Some(&last_start) = stage_starts.last() {
        let final_stage = &ins[last_start..];
        let last_user = final_stage.iter().rev().find(|i| i.keyword == "USER");
        let (bad, at, what) = match last_user {
            None => (
                true,
                &ins[last_start],
                "the final stage sets no USER".to_owned(),
            ),
            Some(u) => {
                let user = u.args.split(':').next().unwrap_or("").trim();
                (
                    user == "root" || user == "0",
                    u,
                    format!("the last USER is {user}"),
                )
            }
        };
        if bad {
            out.push(report(
                &c::DF_ROOT_USER,
                None,
                format!("{what}, so the container runs as root"),
                loc(at),
                &format!("{} {}", at.keyword, at.args.lines().next().unwrap_or("")),
                "root",
            ));
        }
    }
    for i in &ins {
        match i.keyword.as_str() {
            "ADD" => {
                let rest = strip_flags(&i.args);
                let has_checksum = i.args.contains("--checksum=");
                if let Some(src) = rest.split_whitespace().find(|w| {
                    w.starts_with("http://") || w.starts_with("https://") || w.starts_with("ftp://")
                }) && !has_checksum
                {
                    out.push(report(
                        &c::DF_ADD_URL,
                        None,
                        format!("ADD downloads {src} without a checksum"),
                        loc(i),
                        &format!("ADD {src}"),
                        src,
                    ));
                }
            }
            "ENV" | "ARG" => {
                for (k, v) in pairs(&i.args, i.keyword == "ENV") {
                    if let Some(v) = v
                        && secret_name(&k)
                        && literal_secret(&v)
                    {
                        out.push(report(
                            &c::DF_SECRET_ENV,
                            None,
                            format!("{} {k} has a literal value", i.keyword),
                            loc(i),
                            &format!("{} {k}", i.keyword),
                            &k,
                        ));
                    }
                }
            }
            "RUN" => {
                let body = &i.args;
                let installs = body.contains("apt-get install") || body.contains("apt install");
                let cleans = body.contains("/var/lib/apt/lists")
                    || body.contains("--mount=type=cache,target=/var/lib/apt");
                if installs && !cleans {
                    out.push(report(
                        &c::DF_APT_NO_CLEANUP,
                        None,
                        "RUN installs packages with apt-get but does not remove /var/lib/apt/lists",
                        loc(i),
                        &format!("RUN (line {})", i.line),
                        "apt-get install",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_heredocs() {
        let text = "# syntax=docker/dockerfile:1\n# escape=\\\nFROM alpine:3.19\n\nRUN apk add \\\n  # a comment\n  curl \\\n  git\nRUN <<EOF\necho hi\nEOF\nUSER app\n";
        let ins = parse_dockerfile(text).unwrap_or_default();
        let kws: Vec<(&str, u32)> = ins.iter().map(|i| (i.keyword.as_str(), i.line)).collect();
        assert_eq!(kws, vec![("FROM", 3), ("RUN", 5), ("RUN", 9), ("USER", 12)]);
        assert_eq!(ins[1].args, "apk add   curl   git");
        assert_eq!(ins[1].end_line, 8);
        assert!(ins[2].args.contains("echo hi"));
        assert_eq!(ins[2].end_line, 11);
    }

    #[test]
    fn backtick_escape() {
        let ins = parse_dockerfile("# escape=`\nFROM x:1\nRUN a `\n  b\n").unwrap_or_default();
        assert_eq!(ins[1].args, "a   b");
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            parse_dockerfile("FROM a:1\n  BOGUS x\n")
                .err()
                .map(|e| (e.0, e.1)),
            Some((2, 3))
        );
        assert!(parse_dockerfile("FROM a:1\nRUN <<EOF\nx\n").is_err());
    }

    #[test]
    fn env_pairs() {
        assert_eq!(
            pairs("A=1 B=\"two words\" C", false),
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("two words".into())),
                ("C".into(), None)
            ]
        );
        assert_eq!(
            pairs("KEY some value", true),
            vec![("KEY".into(), Some("some value".into()))]
        );
    }
}
