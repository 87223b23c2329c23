//! Errors and warnings that point into a source file, and their rendering.
//!
//! Nothing here knows about gantry.yml: workflow YAML and Terraform loading
//! reuse these types.

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A region of a source file: `line` and `col` are 1-based and count
/// characters; `len` counts characters (0 still draws one caret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

impl Span {
    pub fn new(line: usize, col: usize, len: usize) -> Self {
        Span { line, col, len }
    }

    /// The span covering the byte range `range` of `source`. Offsets past the
    /// end or inside a character are moved back to a character boundary.
    pub fn from_byte_range(source: &str, range: Range<usize>) -> Self {
        let start = source.floor_char_boundary(range.start);
        let end = source.floor_char_boundary(range.end.max(start));
        let before = &source[..start];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Span {
            line: before.matches('\n').count() + 1,
            col: before[line_start..].chars().count() + 1,
            len: source[start..end].chars().count(),
        }
    }
}

/// `file:line:col`.
pub(crate) fn position(file: &str, span: Span) -> String {
    format!("{file}:{}:{}", span.line, span.col)
}

/// One source file: its display path and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path shown to people, relative to the loaded directory.
    pub path: PathBuf,
    pub text: String,
}

/// An error or warning about a source file, with an optional location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Lowercase, no trailing period, says what was expected.
    pub message: String,
    /// The file's display path, as in [`SourceFile::path`].
    pub file: String,
    pub span: Option<Span>,
    pub note: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file.into(), message.into())
    }

    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file.into(), message.into())
    }

    fn new(severity: Severity, file: String, message: String) -> Self {
        Diagnostic {
            severity,
            message,
            file,
            span: None,
            note: None,
            help: None,
        }
    }

    #[must_use]
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col` (or just `file` without a span).
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => position(&self.file, span),
            None => self.file.clone(),
        }
    }

    /// The form for logs: `file:line:col: error: message`.
    pub fn one_line(&self) -> String {
        format!("{}: {}: {}", self.location(), self.severity, self.message)
    }

    /// Renders the diagnostic with the offending source line and a caret
    /// under the span. `source` is the text of [`Diagnostic::file`].
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("{}: {}\n", self.severity, self.message);
        let width = self.span.map_or(1, |s| s.line.to_string().len());
        let pad = " ".repeat(width);
        // Writing to a String cannot fail.
        let _ = writeln!(out, " {pad}--> {}", self.location());
        if let Some(span) = self.span {
            let source = source.strip_prefix('\u{feff}').unwrap_or(source);
            let text = source
                .lines()
                .nth(span.line.saturating_sub(1))
                .unwrap_or("");
            let (shown, start, len) = caret_layout(text, span);
            let _ = writeln!(out, " {pad} |");
            if shown.is_empty() {
                let _ = writeln!(out, " {:>width$} |", span.line);
            } else {
                let _ = writeln!(out, " {:>width$} | {shown}", span.line);
            }
            let _ = writeln!(out, " {pad} | {}{}", " ".repeat(start), "^".repeat(len));
        }
        if let Some(note) = &self.note {
            let _ = writeln!(out, " {pad} = note: {note}");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, " {pad} = help: {help}");
        }
        out
    }
}

/// The line as shown (tabs expanded to four spaces), the caret's start
/// column and its width, all in displayed characters.
fn caret_layout(text: &str, span: Span) -> (String, usize, usize) {
    let mut shown = String::new();
    let mut start = None;
    let mut end = None;
    for (i, c) in text.trim_end().chars().enumerate() {
        if i + 1 == span.col {
            start = Some(shown.chars().count());
        }
        if i + 1 == span.col.saturating_add(span.len) {
            end = Some(shown.chars().count());
        }
        if c == '\t' {
            shown.push_str("    ");
        } else {
            shown.push(c);
        }
    }
    let line_end = shown.chars().count();
    let start = start.unwrap_or(line_end);
    let end = end.unwrap_or(line_end);
    (shown, start, end.saturating_sub(start).max(1))
}

/// A list of diagnostics plus the text of every file they point into, so
/// that they can be rendered on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    sources: Vec<SourceFile>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Records the text of a file, used when rendering its diagnostics.
    pub fn add_source(&mut self, file: SourceFile) {
        self.sources.push(file);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// The recorded text of `file`, if any.
    pub fn source(&self, file: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|s| s.path == Path::new(file))
            .map(|s| s.text.as_str())
    }

    /// Every diagnostic rendered with [`Diagnostic::render`], separated by
    /// blank lines.
    pub fn render_all(&self) -> String {
        let rendered: Vec<String> = self
            .items
            .iter()
            .map(|d| d.render(self.source(&d.file).unwrap_or("")))
            .collect();
        rendered.join("\n")
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_all())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_documented_shape() {
        let source = "version: 1\nserver: {}\nmonitros:\n";
        let d = Diagnostic::error("gantry.yml", "unknown key `monitros` in the top level")
            .with_span(Span::new(3, 1, 8))
            .with_help("did you mean `monitors`?");
        let expected = "\
error: unknown key `monitros` in the top level
  --> gantry.yml:3:1
   |
 3 | monitros:
   | ^^^^^^^^
   = help: did you mean `monitors`?
";
        assert_eq!(d.render(source), expected);
        assert_eq!(
            d.one_line(),
            "gantry.yml:3:1: error: unknown key `monitros` in the top level"
        );
    }

    #[test]
    fn gutter_widens_with_the_line_number() {
        let source = "a\n".repeat(11) + "\tkey: x\n";
        let d = Diagnostic::warning("f.yml", "careful").with_span(Span::new(12, 2, 3));
        let expected = "\
warning: careful
   --> f.yml:12:2
    |
 12 |     key: x
    |     ^^^
";
        assert_eq!(d.render(&source), expected);
    }

    #[test]
    fn spans_outside_the_source_still_render() {
        let d = Diagnostic::error("f.yml", "x").with_span(Span::new(9, 40, 0));
        assert!(d.render("short\n").contains(" 9 |\n"));
        let d = Diagnostic::error("f.yml", "x").with_span(Span::new(0, 0, 0));
        assert!(d.render("").contains("f.yml:0:0"));
    }

    #[test]
    fn byte_ranges_become_line_and_column() {
        let source = "ab\nкл: x\n";
        let start = source.find('x').unwrap_or(0);
        assert_eq!(
            Span::from_byte_range(source, start..start + 1),
            Span::new(2, 5, 1)
        );
        assert_eq!(Span::from_byte_range(source, 4..100), Span::new(2, 1, 6));
    }
}
