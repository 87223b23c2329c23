//! Duplicate keys in object constructors.
//!
//! Terraform accepts `{ a = 1, a = 2 }`: HCL evaluates every item of an
//! object constructor and the last one with a given key wins. hcl-edit
//! refuses the second `a` at parse time ("redefined object key"), because
//! its objects are maps. When a parse fails for that reason, the text is
//! scanned once for every object constructor, and each key that repeats an
//! earlier key of the same object is rewritten, by inserting text only,
//! into a quoted template that evaluates to the same string but is a
//! different key to hcl-edit:
//!
//! ```text
//! a          "\t${~""}a"
//! "a-${x}"   " ${~""}a-${x}"
//! (expr)     "\n${~""}${(expr)}"
//! ```
//!
//! The template starts with a tag: whitespace (written with escapes, so no
//! line is added) that is unique in the file and that the strip marker of
//! the empty interpolation after it removes. The tag comes first because
//! hcl-edit looks keys up by comparing them one by one with every earlier
//! key of the object: a first element that differs keeps each comparison
//! short (a tag at the end made an object of 5,000 equal keys take seconds
//! to parse).
//!
//! The copy is parsed instead of the text, and [`Rewrites`] maps every
//! position in the copy back to the text as written, so diagnostics point
//! at the original line and column. The scan is linear; a duplicate it
//! misses (keys equal to hcl-edit but written differently) is rewritten
//! from the position of the parse error, a bounded number of times.
//!
//! Duplicate arguments of a block body (`a = 1` twice as attributes) are
//! not touched: Terraform refuses those too.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Where the text given to hcl-edit differs from the text as written:
/// the inserted chunks, by position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrites {
    chunks: Vec<Chunk>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    /// Position in the original text where the chunk was inserted.
    at: usize,
    len: usize,
    /// Bytes inserted before this chunk.
    before: usize,
}

impl Rewrites {
    /// Whether the parsed text is the text as written.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The number of places where text was inserted.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// The original position of `offset` in the rewritten text. A position
    /// inside inserted text maps to where it was inserted.
    pub fn original(&self, offset: usize) -> usize {
        let i = self.chunks.partition_point(|c| c.at + c.before <= offset);
        let Some(c) = i.checked_sub(1).map(|i| &self.chunks[i]) else {
            return offset;
        };
        let start = c.at + c.before;
        if offset < start + c.len {
            c.at
        } else {
            offset - c.before - c.len
        }
    }

    /// The original range of `range` of the rewritten text.
    pub fn original_range(&self, range: &Range<usize>) -> Range<usize> {
        if self.is_empty() {
            return range.clone();
        }
        let start = self.original(range.start);
        start..self.original(range.end).max(start)
    }
}

/// What a text is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// A configuration body (`.tf`, `.tfvars`).
    Body,
    /// One expression (`-var` values).
    Expr,
    /// A template (`templatefile`).
    Template,
}

/// At most this many parses after the scan, for duplicates the scan did
/// not see.
const MAX_RETRIES: usize = 16;

fn is_duplicate_key(e: &hcl_edit::parser::Error) -> bool {
    e.message().contains("redefined object key")
}

/// Parses `text` with `parse`, rewriting duplicate object keys when the
/// parse fails because of one. The error carries the rewrites in effect
/// when it was found, to map its position.
pub(crate) fn parse_lenient<T>(
    text: &str,
    start: Start,
    parse: impl Fn(&str) -> Result<T, hcl_edit::parser::Error>,
) -> Result<(T, Rewrites), (hcl_edit::parser::Error, Rewrites)> {
    let first = match parse(text) {
        Ok(v) => return Ok((v, Rewrites::default())),
        Err(e) if is_duplicate_key(&e) => e,
        Err(e) => return Err((e, Rewrites::default())),
    };
    let mut plan = Plan::default();
    for key in Scanner::new(text, start, None).run() {
        plan.add(text, key);
    }
    for _ in 0..=MAX_RETRIES {
        let (copy, rewrites) = plan.apply(text);
        let e = match parse(&copy) {
            Ok(v) => return Ok((v, rewrites)),
            Err(e) => e,
        };
        if !is_duplicate_key(&e) {
            return Err((e, rewrites));
        }
        // A duplicate the scan did not recognise: rewrite the key hcl-edit
        // points at, unless that key was rewritten already.
        let at = rewrites.original(e.location().offset());
        if plan.starts.contains(&at) {
            break;
        }
        match Scanner::new(text, start, Some(at)).run().into_iter().next() {
            Some(key) if key.start == at => plan.add(text, key),
            _ => break,
        }
    }
    Err((first, Rewrites::default()))
}

/// For an argument set again at `at` (hcl-edit's "redefined attribute"),
/// where the same body set it first.
pub(crate) fn first_definition(text: &str, at: usize) -> Option<usize> {
    let mut scanner = Scanner::new(text, Start::Body, None);
    scanner.attr_at = Some(at);
    scanner.run();
    scanner.first_attr
}

/// A key to rewrite, in the original text.
#[derive(Debug, Clone)]
struct KeySite {
    start: usize,
    end: usize,
    /// The key is one quoted string.
    quoted: bool,
}

#[derive(Debug, Default)]
struct Plan {
    inserts: Vec<(usize, String)>,
    starts: HashSet<usize>,
    next_tag: usize,
}

impl Plan {
    fn add(&mut self, text: &str, key: KeySite) {
        self.next_tag += 1;
        let prefix = format!("{}${{~\"\"}}", tag(self.next_tag));
        let raw = &text[key.start..key.end];
        if key.quoted {
            self.inserts.push((key.start + 1, prefix));
        } else if is_identifier(raw) {
            self.inserts.push((key.start, format!("\"{prefix}")));
            self.inserts.push((key.end, "\"".to_owned()));
        } else {
            self.inserts.push((key.start, format!("\"{prefix}${{")));
            self.inserts.push((key.end, "}\"".to_owned()));
        }
        self.starts.insert(key.start);
    }

    fn apply(&self, text: &str) -> (String, Rewrites) {
        let mut order: Vec<&(usize, String)> = self.inserts.iter().collect();
        // Stable: inserts at one position stay in the order they were made.
        order.sort_by_key(|(at, _)| *at);
        let extra: usize = order.iter().map(|(_, s)| s.len()).sum();
        let mut out = String::with_capacity(text.len() + extra);
        let mut chunks: Vec<Chunk> = Vec::with_capacity(order.len());
        let mut done = 0;
        let mut before = 0;
        for (at, s) in order {
            out.push_str(&text[done..*at]);
            out.push_str(s);
            done = *at;
            match chunks.last_mut() {
                Some(c) if c.at == *at => c.len += s.len(),
                _ => chunks.push(Chunk {
                    at: *at,
                    len: s.len(),
                    before,
                }),
            }
            before += s.len();
        }
        out.push_str(&text[done..]);
        (out, Rewrites { chunks })
    }
}

/// Whitespace unique to `n`, as quoted-string text: its digits in base 4,
/// each one of four whitespace characters.
fn tag(mut n: usize) -> String {
    let mut out = String::new();
    loop {
        out.push_str(["\\t", " ", "\\n", "\\r"][n % 4]);
        n /= 4;
        if n == 0 {
            return out;
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b >= 0x80
}

/// An object constructor being scanned.
#[derive(Debug, Default)]
struct Obj {
    /// The keys seen, with whitespace removed.
    seen: HashMap<String, ()>,
    key_start: Option<usize>,
    /// End of a quoted string that started at `key_start`.
    key_quoted_end: Option<usize>,
    in_value: bool,
}

#[derive(Debug)]
enum Frame {
    /// A body: the file, or a block's. `header` while reading a block's
    /// labels; `attrs`: where each argument was first set.
    Body {
        nested: bool,
        header: bool,
        attrs: HashMap<String, usize>,
    },
    /// An attribute's expression; ends at a newline.
    Attr,
    Object(Obj),
    /// Brackets, parentheses, `{for ...}` and the root of an expression:
    /// closed by this byte (0: never).
    Group(u8),
    Quoted {
        start: usize,
    },
    Heredoc {
        delim: Range<usize>,
    },
    /// The root of a template: never closed.
    TemplateRoot,
    /// `${ ... }` or `%{ ... }` in a template.
    Interp,
}

/// A one-pass scanner for object constructor keys. It understands enough
/// of HCL's lexical structure (strings, templates, heredocs, comments,
/// brackets, block bodies) to find each object's items; it never fails,
/// it only may miss keys in text that does not parse anyway.
struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    stack: Vec<Frame>,
    found: Vec<KeySite>,
    /// Scan only the key starting at this position (of an object).
    only: bool,
    /// Find where the argument set again at this position was set first.
    attr_at: Option<usize>,
    first_attr: Option<usize>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, start: Start, key_at: Option<usize>) -> Self {
        let mut stack = Vec::new();
        let mut i = 0;
        match key_at {
            Some(at) => {
                stack.push(Frame::Group(0));
                stack.push(Frame::Object(Obj::default()));
                i = at;
            }
            None => stack.push(match start {
                Start::Body => Frame::Body {
                    nested: false,
                    header: false,
                    attrs: HashMap::new(),
                },
                Start::Expr => Frame::Group(0),
                Start::Template => Frame::TemplateRoot,
            }),
        }
        Scanner {
            text,
            b: text.as_bytes(),
            i,
            stack,
            found: Vec::new(),
            only: key_at.is_some(),
            attr_at: None,
            first_attr: None,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn run(&mut self) -> Vec<KeySite> {
        while self.i < self.b.len() {
            if self.only && (!self.found.is_empty() || self.stack.len() < 2) {
                break;
            }
            if self.first_attr.is_some() {
                break;
            }
            match self.stack.last() {
                Some(Frame::Body { .. }) => self.body_step(),
                Some(Frame::Quoted { .. } | Frame::Heredoc { .. } | Frame::TemplateRoot) => {
                    self.template_step()
                }
                Some(_) => self.expr_step(),
                None => break,
            }
        }
        std::mem::take(&mut self.found)
    }

    /// Skips a comment at `i`, if there is one; returns whether it did.
    fn skip_comment(&mut self) -> bool {
        let (c, d) = (self.at(self.i), self.at(self.i + 1));
        if c == b'#' || (c == b'/' && d == b'/') {
            while self.i < self.b.len() && self.b[self.i] != b'\n' {
                self.i += 1;
            }
            true
        } else if c == b'/' && d == b'*' {
            self.i = match self.text[self.i + 2..].find("*/") {
                Some(p) => self.i + 2 + p + 2,
                None => self.b.len(),
            };
            true
        } else {
            false
        }
    }

    fn body_step(&mut self) {
        let c = self.b[self.i];
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            if c == b'\n' {
                self.set_header(false);
            }
            self.i += 1;
            return;
        }
        if self.skip_comment() {
            return;
        }
        let Some(&Frame::Body { nested, header, .. }) = self.stack.last() else {
            return;
        };
        if header {
            match c {
                b'{' => {
                    self.set_header(false);
                    self.stack.push(Frame::Body {
                        nested: true,
                        header: false,
                        attrs: HashMap::new(),
                    });
                }
                b'"' => self.stack.push(Frame::Quoted { start: self.i }),
                _ => {}
            }
            self.i += 1;
            return;
        }
        if c == b'}' {
            if nested {
                self.stack.pop();
            }
            self.i += 1;
            return;
        }
        if !is_id_byte(c) {
            self.i += 1;
            return;
        }
        let mut j = self.i;
        while j < self.b.len() && is_id_byte(self.b[j]) {
            j += 1;
        }
        let mut k = j;
        while matches!(self.at(k), b' ' | b'\t') {
            k += 1;
        }
        if self.at(k) == b'=' && self.at(k + 1) != b'=' {
            let at = self.i;
            let name = &self.text[at..j];
            if let Some(Frame::Body { attrs, .. }) = self.stack.last_mut() {
                if self.attr_at == Some(at) {
                    self.first_attr = attrs.get(name).copied();
                }
                attrs.entry(name.to_owned()).or_insert(at);
            }
            self.stack.push(Frame::Attr);
            self.i = k + 1;
        } else {
            self.set_header(true);
            self.i = j;
        }
    }

    fn set_header(&mut self, to: bool) {
        if let Some(Frame::Body { header, .. }) = self.stack.last_mut() {
            *header = to;
        }
    }

    fn template_step(&mut self) {
        let c = self.b[self.i];
        let d = self.at(self.i + 1);
        if c == b'$' || c == b'%' {
            if d == c && self.at(self.i + 2) == b'{' {
                self.i += 3;
                return;
            }
            if d == b'{' {
                self.stack.push(Frame::Interp);
                self.i += 2;
                return;
            }
        }
        match self.stack.last() {
            Some(Frame::Quoted { start }) => {
                let start = *start;
                match c {
                    b'\\' => self.i += 2,
                    b'"' => {
                        self.stack.pop();
                        self.i += 1;
                        if let Some(Frame::Object(o)) = self.stack.last_mut()
                            && !o.in_value
                            && o.key_start == Some(start)
                        {
                            o.key_quoted_end = Some(self.i);
                        }
                    }
                    // An unterminated string: the parse fails anyway.
                    b'\n' => {
                        self.stack.pop();
                    }
                    _ => self.i += 1,
                }
            }
            Some(Frame::Heredoc { delim }) => {
                let delim = delim.clone();
                self.i += 1;
                if c == b'\n' {
                    self.heredoc_end(&delim);
                }
            }
            _ => self.i += 1,
        }
    }

    /// At the start of a heredoc line: closes the heredoc if the line is
    /// its delimiter.
    fn heredoc_end(&mut self, delim: &Range<usize>) {
        let mut q = self.i;
        while matches!(self.at(q), b' ' | b'\t') {
            q += 1;
        }
        let word = &self.b[delim.clone()];
        if self.b[q..].starts_with(word) && !is_id_byte(self.at(q + word.len())) {
            self.stack.pop();
            self.i = q + word.len();
        }
    }

    /// `<<EOT` or `<<-EOT` and a newline at `i`: the delimiter's range and
    /// the position after the newline.
    fn heredoc_start(&self) -> Option<(Range<usize>, usize)> {
        let mut j = self.i + 2;
        if self.at(j) == b'-' {
            j += 1;
        }
        let s = j;
        while is_id_byte(self.at(j)) {
            j += 1;
        }
        if j == s {
            return None;
        }
        let mut k = j;
        if self.at(k) == b'\r' {
            k += 1;
        }
        (self.at(k) == b'\n').then_some((s..j, k + 1))
    }

    fn expr_step(&mut self) {
        let c = self.b[self.i];
        if matches!(c, b' ' | b'\t' | b'\r') {
            self.i += 1;
            return;
        }
        if c == b'\n' {
            match self.stack.last_mut() {
                Some(Frame::Attr) => {
                    self.stack.pop();
                }
                Some(Frame::Object(o)) if o.in_value => {
                    o.in_value = false;
                    o.key_start = None;
                }
                _ => {}
            }
            self.i += 1;
            return;
        }
        if self.skip_comment() {
            return;
        }
        let i = self.i;
        if let Some(Frame::Object(o)) = self.stack.last_mut()
            && !o.in_value
            && o.key_start.is_none()
            && !matches!(c, b'}' | b',')
        {
            o.key_start = Some(i);
            o.key_quoted_end = None;
        }
        match c {
            b'"' => {
                self.stack.push(Frame::Quoted { start: i });
                self.i += 1;
            }
            b'<' if self.at(i + 1) == b'<' => match self.heredoc_start() {
                Some((delim, after)) => {
                    self.i = after;
                    self.stack.push(Frame::Heredoc {
                        delim: delim.clone(),
                    });
                    self.heredoc_end(&delim);
                }
                None => self.i += 2,
            },
            b'{' => {
                let frame = if self.is_for(i + 1) {
                    Frame::Group(b'}')
                } else {
                    Frame::Object(Obj::default())
                };
                self.stack.push(frame);
                self.i += 1;
            }
            b'[' => {
                self.stack.push(Frame::Group(b']'));
                self.i += 1;
            }
            b'(' => {
                self.stack.push(Frame::Group(b')'));
                self.i += 1;
            }
            // A one-line block (`b { x = 1 }`): the brace closes the block.
            b'}' if matches!(self.stack.last(), Some(Frame::Attr)) => {
                self.stack.pop();
            }
            b'}' | b']' | b')' => {
                let closes = match self.stack.last() {
                    Some(Frame::Interp | Frame::Object(_)) => c == b'}',
                    Some(Frame::Group(g)) => *g == c,
                    _ => false,
                };
                if closes {
                    self.stack.pop();
                }
                self.i += 1;
            }
            b'=' | b':' => {
                let d = self.at(i + 1);
                let depth = self.stack.len();
                let is_assign = c == b':' || (d != b'=' && d != b'>');
                if let Some(Frame::Object(o)) = self.stack.last_mut()
                    && !o.in_value
                    && is_assign
                    && let Some(start) = o.key_start
                {
                    o.in_value = true;
                    let end = start + self.text[start..i].trim_end().len();
                    let quoted = o.key_quoted_end == Some(end);
                    let norm: String = self.text[start..end]
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    let repeated = o.seen.insert(norm, ()).is_some();
                    if (repeated || (self.only && depth == 2)) && end > start {
                        self.found.push(KeySite { start, end, quoted });
                    }
                }
                self.i += if c == b'=' && (d == b'=' || d == b'>') {
                    2
                } else {
                    1
                };
            }
            b',' => {
                if let Some(Frame::Object(o)) = self.stack.last_mut()
                    && o.in_value
                {
                    o.in_value = false;
                    o.key_start = None;
                }
                self.i += 1;
            }
            _ => {
                // Skip a whole word at once.
                self.i += 1;
                while self.i < self.b.len() && is_id_byte(self.b[self.i]) && is_id_byte(c) {
                    self.i += 1;
                }
            }
        }
    }

    /// Whether the brace before `i` opens a `for` expression.
    fn is_for(&self, mut i: usize) -> bool {
        while matches!(self.at(i), b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        self.b[i.min(self.b.len())..].starts_with(b"for")
            && matches!(self.at(i + 3), b' ' | b'\t' | b'\r' | b'\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str) -> String {
        let mut plan = Plan::default();
        for key in Scanner::new(text, Start::Body, None).run() {
            plan.add(text, key);
        }
        plan.apply(text).0
    }

    #[test]
    fn rewrites_repeated_keys_only() {
        let cases = [
            ("a = { x = 1, x = 2 }\n", r#"a = { x = 1, " ${~""}x" = 2 }"#),
            (
                "a = {\n  \"k\" = 1\n  \"k\" = 2\n}\n",
                "a = {\n  \"k\" = 1\n  \" ${~\"\"}k\" = 2\n}\n",
            ),
            (
                "a = { (var.k) = 1, ( var.k ) = 2 }\n",
                r#"a = { (var.k) = 1, " ${~""}${( var.k )}" = 2 }"#,
            ),
            ("a = { x: 1, x: 2 }\n", r#"a = { x: 1, " ${~""}x": 2 }"#),
            // Block attributes are not object keys.
            ("a = 1\na = 2\n", "a = 1\na = 2\n"),
            ("b {\n  x = 1\n  x = 2\n}\n", "b {\n  x = 1\n  x = 2\n}\n"),
            (
                "b { x = { y = 1 } }\nc = { y = 2 }\n",
                "b { x = { y = 1 } }\nc = { y = 2 }\n",
            ),
            // Separate objects, for expressions, strings and comments.
            (
                "a = [{ x = 1 }, { x = 2 }]\nb = { for k, v in {} : k => v }\n# { x = 1, x = 2 }\n",
                "a = [{ x = 1 }, { x = 2 }]\nb = { for k, v in {} : k => v }\n# { x = 1, x = 2 }\n",
            ),
            (
                "a = \"{ x = 1, x = 2 }\"\nb = <<EOT\n{ x = 1, x = 2 }\nEOT\n",
                "a = \"{ x = 1, x = 2 }\"\nb = <<EOT\n{ x = 1, x = 2 }\nEOT\n",
            ),
            // Objects in templates, heredocs and nested objects.
            (
                "a = \"${ {x = 1, x = 2}[\"x\"] }\"\n",
                r#"a = "${ {x = 1, " ${~""}x" = 2}["x"] }""#,
            ),
            (
                "a = { o = { y = 1, y = 2 }, o = 3 }\n",
                r#"a = { o = { y = 1, " ${~""}y" = 2 }, "\n${~""}o" = 3 }"#,
            ),
            (
                "a = <<-EOT\n  ${jsonencode({q = 1, q = 2})}\n  EOT\n",
                "a = <<-EOT\n  ${jsonencode({q = 1, \" ${~\"\"}q\" = 2})}\n  EOT\n",
            ),
            (
                "a = { c = x == 1 ? 2 : 3, c = 4 }\n",
                r#"a = { c = x == 1 ? 2 : 3, " ${~""}c" = 4 }"#,
            ),
        ];
        for (input, want) in cases {
            let want = if want.ends_with('\n') {
                want.to_owned()
            } else {
                format!("{want}\n")
            };
            assert_eq!(rewrite(input), want, "{input:?}");
        }
    }

    #[test]
    fn tags_are_unique() {
        let tags: HashSet<String> = (1..5000).map(tag).collect();
        assert_eq!(tags.len(), 4999);
        assert_eq!(tag(1), " ");
        assert_eq!(tag(4), "\\t ");
    }

    #[test]
    fn maps_positions_back() {
        let text = "a = { x = 1, x = 2, y = z }\n";
        let mut plan = Plan::default();
        for key in Scanner::new(text, Start::Body, None).run() {
            plan.add(text, key);
        }
        let (copy, rw) = plan.apply(text);
        let z_new = copy.find('z').expect("z is in the copy");
        assert_eq!(
            rw.original(z_new),
            text.find('z').expect("z is in the text")
        );
        // The rewritten key covers exactly the original key.
        let key_new = copy.find("\" ").expect("rewritten key");
        let key_end = copy.find("\" = 2").expect("rewritten key end") + 1;
        assert_eq!(rw.original_range(&(key_new..key_end)), 13..14);
        assert_eq!(rw.original(0), 0);
        assert_eq!(rw.original(copy.len()), text.len());
    }
}
