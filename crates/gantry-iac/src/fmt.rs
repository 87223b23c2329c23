//! `terraform fmt`: the canonical layout of a configuration file.
//!
//! The text is checked with hcl-edit's parser, then re-laid out token by
//! token: two spaces of indentation per open bracket line, one space around
//! `=` and binary operators, none inside `()` and `[]`, one inside
//! single-line `{ }`, the `=` of adjacent single-line attributes aligned,
//! blank lines collapsed to one, trailing whitespace removed. Strings,
//! heredocs and comments are kept as written.

/// Formats a configuration (or tfvars) file. The error is
/// `line:col: message` for a file that does not parse.
pub fn format(text: &str) -> Result<String, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Parsed as loading does (duplicate object keys are accepted); the
    // layout works on the text as written, never on a rewritten copy.
    let (src, parsed) = crate::syntax::parse_src("", text);
    if let Err(e) = parsed {
        let at = e.location().offset();
        let span = src.span(&(at..at));
        return Err(format!(
            "{}:{}: {}",
            span.line,
            span.col,
            crate::syntax::parse_message(&e, "", text, &src.rewrites)
        ));
    }
    let tokens = tokenize(text);
    Ok(layout(&tokens))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Newline,
    /// A comment (line comments without their newline).
    Comment,
    /// A multi-line token kept verbatim (heredoc, block comment).
    Raw,
    Str,
    Word,
    Number,
    Punct,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    text: String,
    /// A unary `-`/`!` or a splat `*`: no space after (and, for splats,
    /// before).
    tight: bool,
}

fn is_id_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_id_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The index just past a quoted string starting at `i` (at the `"`).
fn scan_string(cs: &[char], mut i: usize) -> usize {
    i += 1;
    while let Some(&c) = cs.get(i) {
        match c {
            '\\' => i += 2,
            '"' => return i + 1,
            '$' | '%' if cs.get(i + 1) == Some(&'{') => {
                if cs.get(i.wrapping_sub(1)) == Some(&c) {
                    // `$${` / `%%{` escapes: literal.
                    i += 2;
                } else {
                    i = scan_interp(cs, i + 2);
                }
            }
            '\n' => return i,
            _ => i += 1,
        }
    }
    i
}

/// The index just past the `}` closing an interpolation whose body starts
/// at `i`.
fn scan_interp(cs: &[char], mut i: usize) -> usize {
    let mut depth = 1usize;
    while let Some(&c) = cs.get(i) {
        match c {
            '"' => i = scan_string(cs, i),
            '{' => {
                depth += 1;
                i += 1;
            }
            '}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    i
}

/// A heredoc starting at `i` (`<<` or `<<-` then a delimiter and a
/// newline): the index just past its closing delimiter line (before the
/// newline).
fn scan_heredoc(cs: &[char], i: usize) -> Option<usize> {
    let mut j = i + 2;
    if cs.get(j) == Some(&'-') {
        j += 1;
    }
    let start = j;
    while cs.get(j).is_some_and(|c| is_id_continue(*c)) {
        j += 1;
    }
    let delim: String = cs.get(start..j)?.iter().collect();
    if delim.is_empty() || !delim.starts_with(is_id_start) {
        return None;
    }
    // Skip to the end of the opening line.
    while cs.get(j).is_some_and(|c| *c != '\n') {
        j += 1;
    }
    loop {
        // j is at a '\n' (or the end).
        cs.get(j)?;
        let line_start = j + 1;
        let mut k = line_start;
        while cs.get(k).is_some_and(|c| *c != '\n') {
            k += 1;
        }
        let line: String = cs.get(line_start..k)?.iter().collect();
        if line.trim() == delim {
            return Some(k);
        }
        j = k;
    }
}

const PUNCTS: &[&str] = &[
    "...", "==", "!=", "<=", ">=", "=>", "&&", "||", "::", "{", "}", "[", "]", "(", ")", ",", ".",
    "=", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":",
];

fn tokenize(text: &str) -> Vec<Tok> {
    let cs: Vec<char> = text.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let take = |a: usize, b: usize| -> String {
        cs.get(a..b).map(|s| s.iter().collect()).unwrap_or_default()
    };
    while let Some(&c) = cs.get(i) {
        let start = i;
        let kind = match c {
            '\n' => {
                i += 1;
                Kind::Newline
            }
            ' ' | '\t' | '\r' => {
                i += 1;
                continue;
            }
            '#' => {
                while cs.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
                Kind::Comment
            }
            '/' if cs.get(i + 1) == Some(&'/') => {
                while cs.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
                Kind::Comment
            }
            '/' if cs.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < cs.len() && !(cs.get(i) == Some(&'*') && cs.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(cs.len());
                if take(start, i).contains('\n') {
                    Kind::Raw
                } else {
                    Kind::Comment
                }
            }
            '"' => {
                i = scan_string(&cs, i);
                Kind::Str
            }
            '<' if cs.get(i + 1) == Some(&'<') => match scan_heredoc(&cs, i) {
                Some(end) => {
                    i = end;
                    Kind::Raw
                }
                None => {
                    i += 1;
                    Kind::Punct
                }
            },
            c if c.is_ascii_digit() => {
                while cs.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                if cs.get(i) == Some(&'.') && cs.get(i + 1).is_some_and(char::is_ascii_digit) {
                    i += 1;
                    while cs.get(i).is_some_and(char::is_ascii_digit) {
                        i += 1;
                    }
                }
                if matches!(cs.get(i), Some('e' | 'E')) {
                    let mut j = i + 1;
                    if matches!(cs.get(j), Some('+' | '-')) {
                        j += 1;
                    }
                    if cs.get(j).is_some_and(char::is_ascii_digit) {
                        i = j;
                        while cs.get(i).is_some_and(char::is_ascii_digit) {
                            i += 1;
                        }
                    }
                }
                Kind::Number
            }
            c if is_id_start(c) => {
                while cs.get(i).is_some_and(|c| is_id_continue(*c)) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                let rest = take(i, (i + 3).min(cs.len()));
                let p = PUNCTS
                    .iter()
                    .find(|p| rest.starts_with(*p))
                    .map_or(1, |p| p.len());
                i += p;
                Kind::Punct
            }
        };
        let text = take(start, i).trim_end().to_owned();
        let tight = match (kind, text.as_str()) {
            (Kind::Punct, "!") => true,
            (Kind::Punct, "-") => operand_expected(out.last()),
            (Kind::Punct, "*") => out
                .last()
                .is_some_and(|p| p.kind == Kind::Punct && (p.text == "." || p.text == "[")),
            _ => false,
        };
        out.push(Tok { kind, text, tight });
    }
    out
}

/// Whether an operand (not an operator) comes next after `prev`.
fn operand_expected(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(p) => match p.kind {
            Kind::Punct => !matches!(p.text.as_str(), ")" | "]" | "}") && !p.tight || p.text == "!",
            Kind::Word => matches!(p.text.as_str(), "in" | "if" | "else"),
            Kind::Newline | Kind::Comment => true,
            Kind::Raw | Kind::Str | Kind::Number => false,
        },
    }
}

fn is_open(t: &Tok) -> bool {
    t.kind == Kind::Punct && matches!(t.text.as_str(), "{" | "[" | "(")
}

fn is_close(t: &Tok) -> bool {
    t.kind == Kind::Punct && matches!(t.text.as_str(), "}" | "]" | ")")
}

/// Whether one space goes between adjacent tokens `a` and `b`.
fn space_between(a: &Tok, b: &Tok) -> bool {
    let (at, bt) = (a.text.as_str(), b.text.as_str());
    let ap = a.kind == Kind::Punct;
    let bp = b.kind == Kind::Punct;
    if b.kind == Kind::Comment {
        return true;
    }
    if ap && matches!(at, "(" | "[") || bp && matches!(bt, ")" | "]") {
        return false;
    }
    if ap && at == "{" {
        return !(bp && bt == "}");
    }
    if bp && bt == "}" {
        return true;
    }
    if bp && bt == "," {
        return false;
    }
    if ap && at == "," {
        return true;
    }
    if ap && matches!(at, "." | "::") || bp && matches!(bt, "." | "..." | "::") {
        return false;
    }
    if a.tight || b.tight && bt == "*" {
        return false;
    }
    if bp && bt == "(" {
        return a.kind != Kind::Word || matches!(at, "in" | "if" | "else");
    }
    if bp && bt == "[" {
        let index = match a.kind {
            Kind::Word => !matches!(at, "in" | "if" | "else"),
            Kind::Punct => matches!(at, ")" | "]" | "}") || a.tight,
            Kind::Str => true,
            _ => false,
        };
        return !index;
    }
    true
}

struct Line {
    /// Indentation in levels; None for a blank line.
    indent: Option<usize>,
    /// Key text and the rest (`= value...`) for an alignable attribute
    /// line, else the whole content in `rest`.
    key: Option<String>,
    rest: String,
    /// A comment after the content, aligned with those of adjacent lines.
    comment: Option<String>,
    /// The line holds a multi-line token (its width is not one line's).
    multi_line: bool,
}

fn render(tokens: &[&Tok]) -> String {
    let mut s = String::new();
    let mut prev: Option<&Tok> = None;
    for t in tokens {
        if let Some(p) = prev
            && space_between(p, t)
        {
            s.push(' ');
        }
        s.push_str(&t.text);
        prev = Some(t);
    }
    s
}

fn word(text: &str) -> Tok {
    Tok {
        kind: Kind::Word,
        text: text.to_owned(),
        tight: false,
    }
}

fn punct(text: &str) -> Tok {
    Tok {
        kind: Kind::Punct,
        text: text.to_owned(),
        tight: false,
    }
}

/// The expression inside a string that is exactly one interpolation
/// (`"${var.x}"` → `var.x`), when it fits on one line.
fn interpolation_only(s: &str) -> Option<String> {
    let cs: Vec<char> = s.chars().collect();
    let n = cs.len();
    if n < 5 || !s.starts_with("\"${") || !s.ends_with("}\"") || s.starts_with("\"${~") {
        return None;
    }
    if scan_interp(&cs, 3) != n - 1 {
        return None;
    }
    let inner: String = cs.get(3..n - 2)?.iter().collect();
    if inner.ends_with('~') || inner.contains('\n') || inner.trim().is_empty() {
        return None;
    }
    Some(inner)
}

/// Terraform's rewrites to the modern idiom: block labels in quotes,
/// interpolation-only argument values unwrapped (`"${x}"` → `x`), and in
/// `variable` blocks `type = "string"` → `string` and `list` → `list(any)`.
fn modernise(lines: &mut [Vec<Tok>]) {
    let mut depth = 0usize;
    // (bracket depth of the block's body, block type)
    let mut blocks: Vec<(usize, String)> = Vec::new();
    for line in lines.iter_mut() {
        while blocks.last().is_some_and(|(d, _)| *d > depth) {
            blocks.pop();
        }
        let brace = line
            .iter()
            .position(|t| t.kind == Kind::Punct && t.text == "{");
        let header = match (line.first(), brace) {
            (Some(first), Some(b)) if first.kind == Kind::Word && b >= 1 => line
                .get(1..b)
                .is_some_and(|ts| ts.iter().all(|t| matches!(t.kind, Kind::Word | Kind::Str))),
            _ => false,
        };
        let is_attr = line.len() >= 3
            && line.first().is_some_and(|t| t.kind == Kind::Word)
            && line
                .get(1)
                .is_some_and(|t| t.kind == Kind::Punct && t.text == "=");
        if header {
            for t in line.iter_mut().skip(1) {
                if t.kind == Kind::Word {
                    t.text = format!("\"{}\"", t.text);
                    t.kind = Kind::Str;
                } else if t.kind != Kind::Str {
                    break;
                }
            }
        } else if is_attr {
            let value_len = match line.last() {
                Some(t) if t.kind == Kind::Comment => line.len() - 3,
                _ => line.len() - 2,
            };
            let in_variable = blocks
                .last()
                .is_some_and(|(d, n)| *d == depth && n == "variable");
            let is_type = line.first().is_some_and(|t| t.text == "type");
            if value_len == 1
                && let Some(v) = line.get(2).cloned()
            {
                let replacement: Option<Vec<Tok>> = if in_variable && is_type {
                    match (v.kind, v.text.as_str()) {
                        (Kind::Str, "\"string\"") => Some(vec![word("string")]),
                        (Kind::Word, kw @ ("list" | "map" | "set")) => {
                            Some(vec![word(kw), punct("("), word("any"), punct(")")])
                        }
                        _ => None,
                    }
                } else if v.kind == Kind::Str {
                    // Unwrap repeatedly: `"${"${x}"}"` is `x` too.
                    let mut inner = interpolation_only(&v.text);
                    while let Some(again) =
                        inner.as_deref().and_then(|i| interpolation_only(i.trim()))
                    {
                        inner = Some(again);
                    }
                    inner.map(|i| tokenize(i.trim()))
                } else {
                    None
                };
                if let Some(r) = replacement {
                    line.splice(2..3, r);
                }
            }
        }
        let before = depth;
        for t in line.iter() {
            if is_open(t) {
                depth += 1;
            } else if is_close(t) {
                depth = depth.saturating_sub(1);
            }
        }
        if header
            && depth > before
            && let Some(first) = line.first()
        {
            blocks.push((before + 1, first.text.clone()));
        }
    }
}

fn layout(tokens: &[Tok]) -> String {
    let mut owned: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in tokens {
        if t.kind == Kind::Newline {
            owned.push(Vec::new());
        } else if let Some(last) = owned.last_mut() {
            last.push(t.clone());
        }
    }
    modernise(&mut owned);
    let lines: Vec<Vec<&Tok>> = owned.iter().map(|l| l.iter().collect()).collect();
    // Each entry: how many brackets a still-open line opened.
    let mut stack: Vec<usize> = Vec::new();
    let mut out: Vec<Line> = Vec::new();
    for line in &lines {
        if line.is_empty() {
            out.push(Line {
                indent: None,
                key: None,
                rest: String::new(),
                comment: None,
                multi_line: false,
            });
            continue;
        }
        let (line, comment) = match line.split_last() {
            Some((last, before)) if last.kind == Kind::Comment && !before.is_empty() => {
                (before, Some(last.text.clone()))
            }
            _ => (line.as_slice(), None),
        };
        let multi_line = line.iter().any(|t| t.kind == Kind::Raw);
        let net: isize = line
            .iter()
            .map(|t| {
                if is_open(t) {
                    1
                } else if is_close(t) {
                    -1
                } else {
                    0
                }
            })
            .sum();
        let indent;
        if net > 0 {
            indent = stack.len();
            stack.push(net.unsigned_abs());
        } else {
            let mut closed = net.unsigned_abs();
            while closed > 0 {
                let Some(top) = stack.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    stack.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            indent = stack.len();
        }
        let alignable = net == 0
            && line.len() >= 3
            && matches!(line.first().map(|t| t.kind), Some(Kind::Word | Kind::Str))
            && line
                .get(1)
                .is_some_and(|t| t.kind == Kind::Punct && t.text == "=")
            && !multi_line;
        let (key, rest) = match (alignable, line.split_first()) {
            (true, Some((k, rest))) => (Some(k.text.clone()), render(rest)),
            _ => (None, render(line)),
        };
        out.push(Line {
            indent: Some(indent),
            key,
            rest,
            comment,
            multi_line,
        });
    }

    // Align the `=` of runs of adjacent attribute lines at one indent.
    let mut widths: Vec<usize> = vec![0; out.len()];
    let mut i = 0;
    while i < out.len() {
        let Some(l) = out.get(i) else { break };
        if l.key.is_none() {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut max = 0;
        while let Some(m) = out.get(j) {
            match &m.key {
                Some(k) if m.indent == l.indent => {
                    max = max.max(k.chars().count());
                    j += 1;
                }
                _ => break,
            }
        }
        for w in widths.iter_mut().take(j).skip(i) {
            *w = max;
        }
        i = j;
    }

    // Each line's content (None for blank lines).
    let contents: Vec<Option<String>> = out
        .iter()
        .zip(widths)
        .map(|(l, width)| {
            let indent = l.indent?;
            let mut t = "  ".repeat(indent);
            if let Some(k) = &l.key {
                t.push_str(k);
                t.push_str(&" ".repeat(width.saturating_sub(k.chars().count()) + 1));
            }
            t.push_str(&l.rest);
            Some(t.trim_end_matches([' ', '\t']).to_owned())
        })
        .collect();

    // Align the trailing comments of runs of adjacent lines that have one.
    let mut comment_cols: Vec<usize> = vec![0; out.len()];
    let has_comment = |i: usize| {
        out.get(i)
            .is_some_and(|l| l.comment.is_some() && !l.multi_line && l.indent.is_some())
    };
    let mut i = 0;
    while i < out.len() {
        if !has_comment(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut max = 0;
        while has_comment(j) {
            let w = contents
                .get(j)
                .and_then(|c| c.as_ref())
                .map_or(0, |c| c.chars().count());
            max = max.max(w);
            j += 1;
        }
        for c in comment_cols.iter_mut().take(j).skip(i) {
            *c = max;
        }
        i = j;
    }

    let mut text = String::new();
    let mut blank_pending = false;
    let mut started = false;
    for ((l, content), col) in out.iter().zip(contents).zip(comment_cols) {
        let Some(content) = content else {
            blank_pending = started;
            continue;
        };
        if blank_pending {
            text.push('\n');
            blank_pending = false;
        }
        started = true;
        let width = content.chars().count();
        text.push_str(&content);
        if let Some(c) = &l.comment {
            text.push_str(&" ".repeat(col.saturating_sub(width) + 1));
            text.push_str(c);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_rules() {
        let cases: &[(&str, &str)] = &[
            ("a=1", "a = 1\n"),
            ("a = [ 1,2 , 3 ]", "a = [1, 2, 3]\n"),
            ("a = {x=1}", "a = { x = 1 }\n"),
            ("a = {}", "a = {}\n"),
            ("a = f( x , y )", "a = f(x, y)\n"),
            ("a = x[ 0 ].y", "a = x[0].y\n"),
            ("a = -1", "a = -1\n"),
            ("a = b-1", "a = b-1\n"),
            ("a = b - -1", "a = b - -1\n"),
            ("a = !b&&c", "a = !b && c\n"),
            ("a = x.*.id", "a = x.*.id\n"),
            ("a = x[*].id", "a = x[*].id\n"),
            ("a = b?c:d", "a = b ? c : d\n"),
            (
                "a = [for x in y: x*2 if x>1]",
                "a = [for x in y : x * 2 if x > 1]\n",
            ),
            (
                "a = {for k,v in m: k=>v}",
                "a = { for k, v in m : k => v }\n",
            ),
            ("a = f(l...)", "a = f(l...)\n"),
            ("a = (1+2)*3", "a = (1 + 2) * 3\n"),
            ("a = \"x ${ y }\"", "a = \"x ${ y }\"\n"),
            ("a = \"${ x }\"", "a = x\n"),
            ("a = \"${\"${x}\"}\"", "a = x\n"),
            ("a = \"${x}${y}\"", "a = \"${x}${y}\"\n"),
            ("a = provider::p::f(1)", "a = provider::p::f(1)\n"),
            ("a = 1e3 + 2.5", "a = 1e3 + 2.5\n"),
        ];
        for (input, want) in cases {
            assert_eq!(format(input).as_deref(), Ok(*want), "{input}");
        }
    }

    #[test]
    fn errors_carry_position() {
        let err = format("a = 1\nb = 1 +\n").expect_err("invalid input");
        assert!(err.starts_with("2:"), "{err}");
        assert!(format("resource \"a\" {\n").is_err());
    }
}
