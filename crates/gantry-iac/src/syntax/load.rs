//! Reading a module directory into [`Module`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_config::suggest::did_you_mean;
use gantry_config::{Diagnostic, Diagnostics, SourceFile};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::template::Template;

use super::dupkeys::{self, Rewrites, Start};
use super::types::{find_reference_or_call, key_name, literal_value, parse_type, template_literal};
use super::{
    Backend, BlockBody, Expr, IgnoreChanges, Import, Lifecycle, Loc, Local, Mode, Module,
    ModuleCall, Moved, Output, ProviderBlock, ProviderRef, RequiredProvider, Resource, Src,
    Validation, Variable,
};
use crate::value::{PathStep, Type, Value};

/// hcl-edit's parse error message, reworded where Terraform says it
/// differently. `text` is the text as written (of the file shown as
/// `path`, which may be empty) and `rewrites` the rewrites of the text
/// that was parsed.
pub(crate) fn parse_message(
    e: &hcl_edit::parser::Error,
    path: &str,
    text: &str,
    rewrites: &Rewrites,
) -> String {
    let text_len = text.trim_end().len();
    let offset = rewrites.original(e.location().offset());
    let raw = e.message();
    if raw.contains("redefined attribute") {
        let name: String = text
            .get(offset..)
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        match dupkeys::first_definition(text, offset) {
            Some(first) => {
                let at = gantry_config::Span::from_byte_range(text, first..first);
                let file = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}:")
                };
                format!(
                    "attribute redefined; the argument \"{name}\" was already set at {file}{}:{}, an argument may be set only once in a block",
                    at.line, at.col
                )
            }
            None => "attribute redefined; an argument may be set only once in a block".to_owned(),
        }
    } else if raw.contains("redefined object key") {
        "duplicate object attribute; an attribute may be defined only once in an object".to_owned()
    } else if raw.contains("expected `}`") && offset + 2 >= text_len {
        "unclosed configuration block; there is no closing brace for this block before the end of the file".to_owned()
    } else if raw.starts_with("invalid expression; expected") && raw.contains("letter or digit") {
        "invalid expression; expected the start of an expression".to_owned()
    } else {
        raw.to_owned()
    }
}

/// The diagnostic for an hcl-edit parse error, pointing at its location,
/// or, as Terraform does, at the opening quote of a string left open on
/// its line or at the opening brace of a block left unclosed.
pub(crate) fn parse_error(src: &Arc<Src>, e: &hcl_edit::parser::Error) -> Diagnostic {
    // With rewritten keys the parser's offsets are in the rewritten text
    // (`src.error` maps them back); the lexical scan below reads the
    // original text, so it is only used without rewrites.
    let plain = src.rewrites.is_empty();
    let start = if plain {
        e.location().offset().min(src.text.len())
    } else {
        e.location().offset()
    };
    let (open_quote, open_braces) = scan_open(&src.text);
    // The parser may report the error where the attribute starts.
    let line_of = |o: usize| {
        src.text[..o.min(src.text.len())]
            .rfind('\n')
            .map_or(0, |n| n + 1)
    };
    if let Some(q) = open_quote.filter(|q| plain && line_of(*q) <= start) {
        return src.error(
            Some(&(q..q + 1)),
            "unterminated template string; no closing marker was found for the string",
        );
    }
    let message = parse_message(e, &src.path, &src.text, &src.rewrites);
    if plain
        && message.starts_with("unclosed configuration block")
        && let Some(b) = open_braces.last()
    {
        return src.error(Some(&(*b..*b + 1)), message);
    }
    src.error(Some(&(start..start + 1)), message)
}

/// A rough lexical pass: the offset of the first `"` whose string is not
/// closed on its line, and the offsets of the `{` never closed. Comments
/// and heredoc bodies are skipped; `${ "..." }` inside strings balances.
fn scan_open(text: &str) -> (Option<usize>, Vec<usize>) {
    let mut braces: Vec<usize> = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut in_block_comment = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        if let Some(marker) = &heredoc {
            if line.trim() == marker {
                heredoc = None;
            }
            continue;
        }
        let bytes = line.as_bytes();
        let mut quote: Option<usize> = None;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if in_block_comment {
                if c == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    in_block_comment = false;
                    i += 1;
                }
            } else if quote.is_some() {
                if c == b'\\' {
                    i += 1;
                } else if c == b'"' {
                    quote = None;
                }
            } else if c == b'"' {
                quote = Some(line_start + i);
            } else if c == b'#' || (c == b'/' && bytes.get(i + 1) == Some(&b'/')) {
                break;
            } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
                in_block_comment = true;
                i += 1;
            } else if c == b'{' {
                braces.push(line_start + i);
            } else if c == b'}' {
                braces.pop();
            } else if c == b'<' && bytes.get(i + 1) == Some(&b'<') {
                let rest = line[i + 2..].trim_start_matches('-');
                let marker: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !marker.is_empty() {
                    heredoc = Some(marker);
                    break;
                }
            }
            i += 1;
        }
        if let Some(q) = quote {
            return (Some(q), braces);
        }
    }
    (None, braces)
}

/// Parses a body as Terraform does, accepting duplicate object keys (see
/// `dupkeys`): the source (with its rewrites) and the body, or the error
/// with the source to report it against.
pub(crate) fn parse_src(
    path_display: &str,
    text: &str,
) -> (Arc<Src>, Result<Body, hcl_edit::parser::Error>) {
    let (result, rewrites) =
        match dupkeys::parse_lenient(text, Start::Body, hcl_edit::parser::parse_body) {
            Ok((body, rw)) => (Ok(body), rw),
            Err((e, rw)) => (Err(e), rw),
        };
    let src = Arc::new(Src {
        path: path_display.to_owned(),
        text: text.to_owned(),
        rewrites,
    });
    (src, result)
}

/// Parses one file's text into a body. `path_display` is the path shown
/// in diagnostics.
// Diagnostic is large, but the error path runs once per failed load and
// the crate's interfaces return it by value.
#[allow(clippy::result_large_err)]
pub fn parse_file(path_display: &str, text: &str) -> Result<(Arc<Src>, Body), Diagnostic> {
    let (src, result) = parse_src(path_display, text);
    match result {
        Ok(body) => Ok((src, body)),
        Err(e) => Err(parse_error(&src, &e)),
    }
}

/// Parses a template (`templatefile`), accepting duplicate object keys in
/// its interpolations.
pub(crate) fn parse_template(
    path_display: &str,
    text: &str,
) -> (Src, Result<Template, hcl_edit::parser::Error>) {
    let (result, rewrites) =
        match dupkeys::parse_lenient(text, Start::Template, hcl_edit::parser::parse_template) {
            Ok((t, rw)) => (Ok(t), rw),
            Err((e, rw)) => (Err(e), rw),
        };
    let src = Src {
        path: path_display.to_owned(),
        text: text.to_owned(),
        rewrites,
    };
    (src, result)
}

/// Parses one expression (a `-var` value), accepting duplicate object
/// keys. The error is hcl-edit's message and the 1-based column in `text`.
pub(crate) fn parse_expr(text: &str) -> Result<Expression, (String, usize)> {
    dupkeys::parse_lenient(text, Start::Expr, hcl_edit::parser::parse_expr)
        .map(|(e, _)| e)
        .map_err(|(e, rw)| {
            let at = rw.original(e.location().offset());
            let col = gantry_config::Span::from_byte_range(text, at..at).col;
            (e.message().to_owned(), col)
        })
}

/// A `providers` key repeated in its object, which was rewritten as a
/// template for hcl-edit (see `dupkeys`): the reference as written
/// (`aws`, `aws.west`).
fn rewritten_provider_key(src: &Src, e: &Expression) -> Option<ProviderRef> {
    if src.rewrites.is_empty() {
        return None;
    }
    let written = hcl_edit::parser::parse_expr(src.slice(&e.span()?)?).ok()?;
    let (name, steps) = static_traversal(&written)?;
    match steps.as_slice() {
        [] => Some(ProviderRef { name, alias: None }),
        [Step::Attr(alias)] => Some(ProviderRef {
            name,
            alias: Some(alias.clone()),
        }),
        _ => None,
    }
}

/// Loads every `*.tf` file of `dir` (not recursive, by name order).
pub fn load_module(dir: &Path) -> Result<Module, Diagnostics> {
    load_module_as(dir, "")
}

/// As [`load_module`], showing each file as `prefix` + its name (a called
/// module's files as `modules/net/main.tf`).
pub fn load_module_as(dir: &Path, prefix: &str) -> Result<Module, Diagnostics> {
    let mut diags = Diagnostics::new();
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(Diagnostic::error(
                shown,
                format!("failed to read module directory: {e}"),
            ));
            return Err(diags);
        }
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let is_file = entry.file_type().map(|t| !t.is_dir()).unwrap_or(false);
                if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                    names.push(name.to_owned());
                }
            }
            Err(e) => diags.push(Diagnostic::error(
                shown.clone(),
                format!("failed to read module directory: {e}"),
            )),
        }
    }
    names.sort();
    let mut files = Vec::new();
    for name in names {
        if name.ends_with(".tf.json") {
            diags.push(Diagnostic::warning(
                name,
                "JSON configuration syntax is not supported yet; this file is ignored",
            ));
            continue;
        }
        if !name.ends_with(".tf") || name.starts_with('.') {
            continue;
        }
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(text) => files.push((format!("{prefix}{name}"), text)),
            Err(e) => diags.push(Diagnostic::error(name, format!("failed to read file: {e}"))),
        }
    }
    load_sources_into(dir, files, diags)
}

/// Loads a module from in-memory files (`(display path, text)`), as
/// [`load_module`] does for a directory.
pub fn load_sources(dir: &Path, files: Vec<(String, String)>) -> Result<Module, Diagnostics> {
    load_sources_into(dir, files, Diagnostics::new())
}

fn load_sources_into(
    dir: &Path,
    files: Vec<(String, String)>,
    mut diags: Diagnostics,
) -> Result<Module, Diagnostics> {
    let mut l = Loader {
        module: Module {
            dir: PathBuf::from(dir),
            ..Module::default()
        },
        diags: Vec::new(),
        backend_loc: None,
    };
    for (name, text) in files {
        // A UTF-8 byte order mark is not part of the configuration.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        diags.add_source(SourceFile {
            path: PathBuf::from(&name),
            text: text.clone(),
        });
        let file_name = Path::new(&name)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or(&name);
        if file_name == "override.tf" || file_name.ends_with("_override.tf") {
            l.diags.push(Diagnostic::error(
                name.clone(),
                format!(
                    "override files are not supported; merge the contents of \"{file_name}\" into the file it overrides"
                ),
            ));
            continue;
        }
        match parse_file(&name, &text) {
            Ok((src, body)) => {
                l.module.files.push(src.clone());
                l.file(&src, &body);
            }
            Err(d) => l.diags.push(d),
        }
    }
    let (warnings, errors): (Vec<_>, Vec<_>) = diags
        .iter()
        .cloned()
        .chain(l.diags)
        .partition(|d| !d.is_error());
    if errors.is_empty() {
        l.module.warnings = warnings;
        Ok(l.module)
    } else {
        let mut out = Diagnostics::new();
        for s in l.module.files.iter() {
            out.add_source(SourceFile {
                path: PathBuf::from(&s.path),
                text: s.text.clone(),
            });
        }
        // Sources of files that did not parse.
        for d in errors.iter().chain(warnings.iter()) {
            if out.source(&d.file).is_none()
                && let Some(text) = diags.source(&d.file)
            {
                out.add_source(SourceFile {
                    path: PathBuf::from(&d.file),
                    text: text.to_owned(),
                });
            }
        }
        for d in errors.into_iter().chain(warnings) {
            out.push(d);
        }
        Err(out)
    }
}

const TOP_BLOCKS: &[&str] = &[
    "terraform",
    "provider",
    "variable",
    "locals",
    "output",
    "resource",
    "data",
    "module",
    "moved",
    "import",
];

const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
];

/// The byte range of a block's header: its type and labels.
fn header(b: &Block) -> Range<usize> {
    let start = b.ident.span().map_or(0, |r| r.start);
    let end = b
        .labels
        .last()
        .and_then(|l| l.span())
        .or_else(|| b.ident.span())
        .map_or(start, |r| r.end);
    start..end.max(start)
}

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn expr(src: &Arc<Src>, e: &Expression) -> Expr {
    Expr {
        expr: e.clone(),
        src: src.clone(),
    }
}

/// One step of a static traversal.
enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// `root.a["k"][0]`: the root name and the steps, when the expression is a
/// reference with only constant keys.
fn static_traversal(e: &Expression) -> Option<(String, Vec<Step>)> {
    match e {
        Expression::Variable(v) => Some((v.as_str().to_owned(), Vec::new())),
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return None;
            };
            let mut steps = Vec::new();
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(a) => steps.push(Step::Attr(a.as_str().to_owned())),
                    TraversalOperator::LegacyIndex(i) => {
                        steps.push(Step::Index(i64::try_from(*i.value()).ok()?));
                    }
                    TraversalOperator::Index(ix) => match literal_value(ix).ok()? {
                        Value::String(s) => steps.push(Step::Key(s)),
                        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                            // Checked integral and in range just above.
                            #[allow(clippy::cast_possible_truncation)]
                            steps.push(Step::Index(n as i64));
                        }
                        _ => return None,
                    },
                    TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                        return None;
                    }
                }
            }
            Some((root.as_str().to_owned(), steps))
        }
        _ => None,
    }
}

const STATIC_REF: &str = "invalid expression; a single static variable reference is required: only attribute access and indexing with constant keys, no calculations, function calls or template expressions";

struct Loader {
    module: Module,
    diags: Vec<Diagnostic>,
    backend_loc: Option<Loc>,
}

impl Loader {
    fn err(&mut self, src: &Arc<Src>, range: Option<Range<usize>>, msg: impl Into<String>) {
        self.diags.push(src.error(range.as_ref(), msg));
    }

    fn loc(src: &Arc<Src>, range: Range<usize>) -> Loc {
        Loc {
            src: src.clone(),
            range,
        }
    }

    fn attr_loc(src: &Arc<Src>, a: &Attribute) -> Loc {
        Self::loc(src, a.span().unwrap_or(0..0))
    }

    fn unsupported_arg(&mut self, src: &Arc<Src>, a: &Attribute, expected: &[&str]) {
        let name = a.key.as_str();
        let mut d = src.error(
            a.key.span().as_ref(),
            format!("unsupported argument; an argument named \"{name}\" is not expected here"),
        );
        if let Some(s) = did_you_mean(name, expected) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        }
        self.diags.push(d);
    }

    fn unsupported_block(&mut self, src: &Arc<Src>, b: &Block, expected: &[&str]) {
        let name = b.ident.as_str();
        let mut d = src.error(
            b.ident.span().as_ref(),
            format!("unsupported block type; blocks of type \"{name}\" are not expected here"),
        );
        if let Some(s) = did_you_mean(name, expected) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        }
        self.diags.push(d);
    }

    fn missing_arg(&mut self, src: &Arc<Src>, b: &Block, name: &str) {
        self.err(
            src,
            Some(header(b)),
            format!(
                "missing required argument; the argument \"{name}\" is required, but no definition was found"
            ),
        );
    }

    /// Checks the labels of `b` against `names` (e.g. `["type", "name"]`);
    /// returns them when they are right.
    fn labels(
        &mut self,
        src: &Arc<Src>,
        b: &Block,
        names: &[&str],
        check_ident: bool,
    ) -> Option<Vec<String>> {
        let kind = b.ident.as_str();
        let n = names.len();
        let list = names.join(", ");
        if b.labels.len() < n {
            let missing = names.get(b.labels.len()).copied().unwrap_or("name");
            self.err(
                src,
                Some(header(b)),
                format!(
                    "missing {missing} for {kind}; all {kind} blocks must have {n} labels ({list})"
                ),
            );
            return None;
        }
        if let Some(extra) = b.labels.get(n) {
            let msg = if n == 0 {
                format!("extraneous label for {kind}; no labels are expected for {kind} blocks")
            } else {
                format!(
                    "extraneous label for {kind}; only {n} labels ({list}) are expected for {kind} blocks"
                )
            };
            self.err(src, extra.span(), msg);
            return None;
        }
        let mut out = Vec::new();
        for (label, what) in b.labels.iter().zip(names) {
            let s = label.as_str();
            if check_ident && !valid_identifier(s) {
                self.err(
                    src,
                    label.span(),
                    format!(
                        "invalid {kind} {what}; a {what} must start with a letter or underscore and may contain only letters, digits, underscores, and dashes"
                    ),
                );
                return None;
            }
            out.push(s.to_owned());
        }
        Some(out)
    }

    fn lit_string(&mut self, src: &Arc<Src>, a: &Attribute) -> Option<String> {
        let s = match &a.value {
            Expression::String(s) => Some(s.value().clone()),
            Expression::StringTemplate(t) => template_literal(t),
            Expression::HeredocTemplate(h) => template_literal(&h.template),
            _ => None,
        };
        if s.is_none() {
            self.err(
                src,
                a.value.span(),
                format!(
                    "invalid value for \"{}\"; a literal string is required here",
                    a.key.as_str()
                ),
            );
        }
        s
    }

    fn lit_bool(&mut self, src: &Arc<Src>, a: &Attribute) -> Option<bool> {
        if let Expression::Bool(b) = &a.value {
            return Some(*b.value());
        }
        self.err(
            src,
            a.value.span(),
            format!(
                "invalid value for \"{}\"; a literal bool (true or false) is required here",
                a.key.as_str()
            ),
        );
        None
    }

    fn provider_ref(&mut self, src: &Arc<Src>, e: &Expression) -> Option<ProviderRef> {
        match static_traversal(e) {
            Some((name, steps)) => match steps.as_slice() {
                [] => Some(ProviderRef { name, alias: None }),
                [Step::Attr(alias)] => Some(ProviderRef {
                    name,
                    alias: Some(alias.clone()),
                }),
                _ => {
                    self.bad_provider_ref(src, e);
                    None
                }
            },
            None => {
                self.bad_provider_ref(src, e);
                None
            }
        }
    }

    fn bad_provider_ref(&mut self, src: &Arc<Src>, e: &Expression) {
        self.err(
            src,
            e.span(),
            "invalid provider reference; a provider argument requires a provider name followed by an optional alias, like \"aws.foo\"",
        );
    }

    /// A static list of references (`depends_on`, `replace_triggered_by`).
    fn ref_list(&mut self, src: &Arc<Src>, a: &Attribute, require_static: bool) -> Vec<Expr> {
        let Expression::Array(items) = &a.value else {
            self.err(
                src,
                a.value.span(),
                "invalid expression; a static list expression is required",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            if require_static && static_traversal(item).is_none() {
                self.err(src, item.span(), STATIC_REF);
                continue;
            }
            out.push(expr(src, item));
        }
        out
    }

    fn file(&mut self, src: &Arc<Src>, body: &Body) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => self.unsupported_arg(src, a, &[]),
                Structure::Block(b) => match b.ident.as_str() {
                    "terraform" => self.terraform(src, b),
                    "provider" => self.provider(src, b),
                    "variable" => self.variable(src, b),
                    "locals" => self.locals(src, b),
                    "output" => self.output(src, b),
                    "resource" => self.resource(src, b, Mode::Managed),
                    "data" => self.resource(src, b, Mode::Data),
                    "module" => self.module_call(src, b),
                    "moved" => self.moved(src, b),
                    "import" => self.import(src, b),
                    _ => self.unsupported_block(src, b, TOP_BLOCKS),
                },
            }
        }
    }

    fn terraform(&mut self, src: &Arc<Src>, b: &Block) {
        if self.labels(src, b, &[], false).is_none() {
            return;
        }
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "required_version" => {
                        if let Some(v) = self.lit_string(src, a) {
                            self.module.terraform.required_version = Some(v);
                        }
                    }
                    _ => self.unsupported_arg(src, a, &["required_version"]),
                },
                Structure::Block(inner) => match inner.ident.as_str() {
                    "required_providers" => self.required_providers(src, inner),
                    "backend" => {
                        let Some(labels) = self.labels(src, inner, &["type"], false) else {
                            continue;
                        };
                        let loc = Self::loc(src, header(inner));
                        if let Some(prev) = &self.backend_loc {
                            let msg = format!(
                                "duplicate backend configuration; a module may have only one backend configuration, the backend was previously configured at {}",
                                prev.position()
                            );
                            self.diags.push(loc.error(msg));
                            continue;
                        }
                        self.backend_loc = Some(loc.clone());
                        self.module.terraform.backend = Some(Backend {
                            kind: labels.into_iter().next().unwrap_or_default(),
                            body: BlockBody {
                                body: inner.body.clone(),
                                src: src.clone(),
                            },
                            loc,
                        });
                    }
                    "cloud" => self.err(
                        src,
                        Some(header(inner)),
                        "the cloud block (HCP Terraform integration) is not supported; use a backend block",
                    ),
                    _ => self.unsupported_block(src, inner, &["required_providers", "backend"]),
                },
            }
        }
    }

    fn required_providers(&mut self, src: &Arc<Src>, b: &Block) {
        if self.labels(src, b, &[], false).is_none() {
            return;
        }
        for s in b.body.iter() {
            let a = match s {
                Structure::Attribute(a) => a,
                Structure::Block(inner) => {
                    self.unsupported_block(src, inner, &[]);
                    continue;
                }
            };
            let name = a.key.as_str().to_owned();
            let loc = Self::attr_loc(src, a);
            let (source, version) = match &a.value {
                // Terraform 0.12 form: `aws = "~> 3.0"`.
                Expression::String(v) => (None, Some(v.value().clone())),
                Expression::Object(obj) => {
                    let mut source = None;
                    let mut version = None;
                    let mut ok = true;
                    for (k, v) in obj.iter() {
                        let key = match key_name(k) {
                            Some(name) => name,
                            None => {
                                self.err(src, k.span(), "invalid required_providers object; object keys must be attribute names");
                                ok = false;
                                continue;
                            }
                        };
                        match key.as_str() {
                            "source" | "version" => {
                                let text = match v.expr() {
                                    Expression::String(s) => s.value().clone(),
                                    other => {
                                        self.err(
                                            src,
                                            other.span(),
                                            format!("invalid required_providers object; \"{key}\" must be a literal string"),
                                        );
                                        ok = false;
                                        continue;
                                    }
                                };
                                if key == "source" {
                                    source = Some(text);
                                } else {
                                    version = Some(text);
                                }
                            }
                            "configuration_aliases" => {}
                            other => {
                                self.err(
                                    src,
                                    k.span(),
                                    format!("invalid required_providers object; required_providers objects can only contain \"version\", \"source\" and \"configuration_aliases\" attributes, not \"{other}\""),
                                );
                                ok = false;
                            }
                        }
                    }
                    if !ok {
                        continue;
                    }
                    (source, version)
                }
                other => {
                    self.err(
                        src,
                        other.span(),
                        "invalid required_providers object; a provider requirement is an object with a source and a version, like { source = \"hashicorp/aws\", version = \"~> 5.0\" }",
                    );
                    continue;
                }
            };
            let source = match source {
                None => format!("hashicorp/{name}"),
                Some(s) => match normalise_source(&s) {
                    Some(s) => s,
                    None => {
                        self.diags.push(loc.error(format!(
                            "invalid provider source string; \"{s}\" is not a valid provider source: it must be of the form [HOSTNAME/]NAMESPACE/TYPE"
                        )));
                        continue;
                    }
                },
            };
            if let Some(prev) = self.module.terraform.required_providers.get(&name) {
                let msg = format!(
                    "duplicate required provider; provider \"{name}\" was already required at {}",
                    prev.loc.position()
                );
                self.diags.push(loc.error(msg));
                continue;
            }
            self.module.terraform.required_providers.insert(
                name,
                RequiredProvider {
                    source,
                    version,
                    loc,
                },
            );
        }
    }

    fn provider(&mut self, src: &Arc<Src>, b: &Block) {
        let Some(labels) = self.labels(src, b, &["name"], true) else {
            return;
        };
        let name = labels.into_iter().next().unwrap_or_default();
        let mut alias = None;
        let mut body = Body::new();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "alias" => {
                    if let Some(v) = self.lit_string(src, a) {
                        if valid_identifier(&v) {
                            alias = Some(v);
                        } else {
                            self.err(
                                src,
                                a.value.span(),
                                "invalid provider configuration alias; an alias must be a valid name: it must start with a letter or underscore and may contain only letters, digits, underscores, and dashes",
                            );
                        }
                    }
                }
                Structure::Attribute(a) if a.key.as_str() == "version" => {
                    self.diags.push(
                        Diagnostic::warning(
                            src.path.clone(),
                            "version constraints inside provider configuration blocks are deprecated; this constraint is ignored",
                        )
                        .with_span(src.span(&a.span().unwrap_or(0..0)))
                        .with_help("set the version in terraform { required_providers { ... } }"),
                    );
                }
                other => body.push(other.clone()),
            }
        }
        let loc = Self::loc(src, header(b));
        if let Some(prev) = self
            .module
            .providers
            .iter()
            .find(|p| p.name == name && p.alias == alias)
        {
            let msg = match &alias {
                None => format!(
                    "duplicate provider configuration; a default (non-aliased) provider configuration for \"{name}\" was already given at {}",
                    prev.loc.position()
                ),
                Some(a) => format!(
                    "duplicate provider configuration; a provider configuration for \"{name}\" with alias \"{a}\" was already given at {}",
                    prev.loc.position()
                ),
            };
            self.diags.push(loc.error(msg));
            return;
        }
        self.module.providers.push(ProviderBlock {
            name,
            alias,
            body: BlockBody {
                body,
                src: src.clone(),
            },
            loc,
        });
    }

    fn variable(&mut self, src: &Arc<Src>, b: &Block) {
        let Some(labels) = self.labels(src, b, &["name"], true) else {
            return;
        };
        let name = labels.into_iter().next().unwrap_or_default();
        let loc = Self::loc(src, header(b));
        if RESERVED_VARIABLE_NAMES.contains(&name.as_str()) {
            self.diags.push(loc.error(format!(
                "invalid variable name; the variable name \"{name}\" is reserved due to its special meaning inside module blocks"
            )));
            return;
        }
        let mut v = Variable {
            name: name.clone(),
            ty: Type::Any,
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
            loc: loc.clone(),
        };
        let mut type_given = false;
        let mut ok = true;
        const ARGS: &[&str] = &["type", "default", "description", "sensitive", "nullable"];
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "type" => match parse_type(&a.value, src) {
                        Ok(t) => {
                            v.ty = t;
                            type_given = true;
                        }
                        Err(d) => {
                            self.diags.push(d);
                            ok = false;
                        }
                    },
                    "default" => v.default = Some(expr(src, &a.value)),
                    "description" => v.description = self.lit_string(src, a),
                    "sensitive" => v.sensitive = self.lit_bool(src, a).unwrap_or(false),
                    "nullable" => v.nullable = self.lit_bool(src, a).unwrap_or(true),
                    _ => self.unsupported_arg(src, a, ARGS),
                },
                Structure::Block(inner) => match inner.ident.as_str() {
                    "validation" => {
                        if let Some(val) = self.validation(src, inner, "error_message") {
                            v.validations.push(val);
                        }
                    }
                    _ => self.unsupported_block(src, inner, &["validation"]),
                },
            }
        }
        // Defaults are evaluated without any context.
        if let Some(default) = &v.default
            && let Some(e) = find_reference_or_call(&default.expr)
        {
            self.err(src, e.range, e.message);
            ok = false;
        }
        // A constant default must suit the type (and nullability).
        if let Some(default) = &v.default
            && ok
            && let Ok(value) = literal_value(&default.expr)
        {
            let range = default.expr.span();
            if value.is_null() && !v.nullable {
                self.err(
                    src,
                    range,
                    "invalid default value for variable; a null default value is not valid when nullable=false",
                );
            } else if type_given && let Err(e) = value.convert(&v.ty) {
                self.err(
                    src,
                    range,
                    format!(
                        "invalid default value for variable; this default value is not compatible with the variable's type constraint: {e}"
                    ),
                );
            }
        }
        if let Some(prev) = self.module.variables.get(&name) {
            let msg = format!(
                "duplicate variable declaration; a variable named \"{name}\" was already declared at {}",
                prev.loc.position()
            );
            self.diags.push(loc.error(msg));
            return;
        }
        self.module.variables.insert(name, v);
    }

    /// A `validation`, `precondition` or `postcondition` block.
    fn validation(&mut self, src: &Arc<Src>, b: &Block, message_arg: &str) -> Option<Validation> {
        self.labels(src, b, &[], false)?;
        let mut condition = None;
        let mut message = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "condition" => {
                    condition = Some(expr(src, &a.value));
                }
                Structure::Attribute(a) if a.key.as_str() == message_arg => {
                    message = Some(expr(src, &a.value));
                }
                Structure::Attribute(a) => {
                    self.unsupported_arg(src, a, &["condition", message_arg])
                }
                Structure::Block(inner) => self.unsupported_block(src, inner, &[]),
            }
        }
        match (condition, message) {
            (Some(condition), Some(error_message)) => Some(Validation {
                condition,
                error_message,
                loc: Self::loc(src, header(b)),
            }),
            (None, _) => {
                self.missing_arg(src, b, "condition");
                None
            }
            (_, None) => {
                self.missing_arg(src, b, message_arg);
                None
            }
        }
    }

    fn locals(&mut self, src: &Arc<Src>, b: &Block) {
        if self.labels(src, b, &[], false).is_none() {
            return;
        }
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.as_str().to_owned();
                    let loc = Self::attr_loc(src, a);
                    if let Some(prev) = self.module.locals.get(&name) {
                        let msg = format!(
                            "duplicate local value definition; a local value named \"{name}\" was already defined at {}, local value names must be unique within a module",
                            prev.loc.position()
                        );
                        self.diags.push(loc.error(msg));
                        continue;
                    }
                    self.module.locals.insert(
                        name.clone(),
                        Local {
                            name,
                            expr: expr(src, &a.value),
                            loc,
                        },
                    );
                }
                Structure::Block(inner) => self.unsupported_block(src, inner, &[]),
            }
        }
    }

    fn output(&mut self, src: &Arc<Src>, b: &Block) {
        let Some(labels) = self.labels(src, b, &["name"], true) else {
            return;
        };
        let name = labels.into_iter().next().unwrap_or_default();
        let loc = Self::loc(src, header(b));
        let mut value = None;
        let mut description = None;
        let mut sensitive = false;
        let mut depends_on = Vec::new();
        let mut preconditions = Vec::new();
        const ARGS: &[&str] = &["value", "description", "sensitive", "depends_on"];
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "value" => value = Some(expr(src, &a.value)),
                    "description" => description = self.lit_string(src, a),
                    "sensitive" => sensitive = self.lit_bool(src, a).unwrap_or(false),
                    "depends_on" => depends_on = self.ref_list(src, a, true),
                    _ => self.unsupported_arg(src, a, ARGS),
                },
                Structure::Block(inner) => match inner.ident.as_str() {
                    "precondition" => {
                        if let Some(v) = self.validation(src, inner, "error_message") {
                            preconditions.push(v);
                        }
                    }
                    _ => self.unsupported_block(src, inner, &["precondition"]),
                },
            }
        }
        let Some(value) = value else {
            self.missing_arg(src, b, "value");
            return;
        };
        if let Some(prev) = self.module.outputs.get(&name) {
            let msg = format!(
                "duplicate output definition; an output named \"{name}\" was already defined at {}",
                prev.loc.position()
            );
            self.diags.push(loc.error(msg));
            return;
        }
        self.module.outputs.insert(
            name.clone(),
            Output {
                name,
                value,
                description,
                sensitive,
                depends_on,
                preconditions,
                loc,
            },
        );
    }

    fn resource(&mut self, src: &Arc<Src>, b: &Block, mode: Mode) {
        let kind = b.ident.as_str();
        let Some(labels) = self.labels(src, b, &["type", "name"], true) else {
            return;
        };
        let [type_name, name] = <[String; 2]>::try_from(labels).unwrap_or_default();
        let loc = Self::loc(src, header(b));
        let mut r = Resource {
            mode,
            type_name,
            name,
            provider: None,
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            lifecycle: Lifecycle::default(),
            body: BlockBody {
                body: Body::new(),
                src: src.clone(),
            },
            loc: loc.clone(),
        };
        let mut lifecycle_seen: Option<Loc> = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "count" => {
                        r.count = Some(expr(src, &a.value));
                    }
                    "for_each" => {
                        if b.body.has_attribute("count") {
                            self.err(
                                src,
                                a.key.span(),
                                "invalid combination of \"count\" and \"for_each\"; the \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created",
                            );
                        }
                        r.for_each = Some(expr(src, &a.value));
                    }
                    "provider" => r.provider = self.provider_ref(src, &a.value),
                    "depends_on" => r.depends_on = self.ref_list(src, a, true),
                    _ => r.body.body.push(s.clone()),
                },
                Structure::Block(inner) => match inner.ident.as_str() {
                    "lifecycle" => {
                        let here = Self::loc(src, header(inner));
                        if let Some(prev) = &lifecycle_seen {
                            let msg = format!(
                                "duplicate lifecycle block; a lifecycle block was already declared at {}",
                                prev.position()
                            );
                            self.diags.push(here.error(msg));
                            continue;
                        }
                        lifecycle_seen = Some(here);
                        r.lifecycle = self.lifecycle(src, inner, mode);
                    }
                    "provisioner" | "connection" => self.err(
                        src,
                        Some(header(inner)),
                        format!(
                            "provisioners are not supported; remove the {} block, or use a resource that does the work (for example local_file or null_resource with a provider)",
                            inner.ident.as_str()
                        ),
                    ),
                    _ => r.body.body.push(s.clone()),
                },
            }
        }
        let key = r.key();
        let noun = match mode {
            Mode::Managed => "resource",
            Mode::Data => "data resource",
        };
        if let Some(prev) = self.module.resources.get(&key) {
            let msg = format!(
                "duplicate {kind} \"{}\" \"{}\" configuration; a {} {noun} named \"{}\" was already declared at {}, {noun} names must be unique per type in each module",
                r.type_name,
                r.name,
                r.type_name,
                r.name,
                prev.loc.position()
            );
            self.diags.push(loc.error(msg));
            return;
        }
        self.module.resources.insert(key, r);
    }

    fn lifecycle(&mut self, src: &Arc<Src>, b: &Block, mode: Mode) -> Lifecycle {
        let mut lc = Lifecycle::default();
        if self.labels(src, b, &[], false).is_none() {
            return lc;
        }
        const MANAGED: &[&str] = &[
            "create_before_destroy",
            "prevent_destroy",
            "ignore_changes",
            "replace_triggered_by",
        ];
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match (mode, a.key.as_str()) {
                    (Mode::Managed, "create_before_destroy") => {
                        lc.create_before_destroy = self.lit_bool(src, a).unwrap_or(false);
                    }
                    (Mode::Managed, "prevent_destroy") => {
                        lc.prevent_destroy = self.lit_bool(src, a).unwrap_or(false);
                    }
                    (Mode::Managed, "ignore_changes") => {
                        lc.ignore_changes = self.ignore_changes(src, a)
                    }
                    (Mode::Managed, "replace_triggered_by") => {
                        lc.replace_triggered_by = self.ref_list(src, a, false);
                    }
                    (Mode::Managed, _) => self.unsupported_arg(src, a, MANAGED),
                    (Mode::Data, _) => self.unsupported_arg(src, a, &[]),
                },
                Structure::Block(inner) => match inner.ident.as_str() {
                    "precondition" => {
                        if let Some(v) = self.validation(src, inner, "error_message") {
                            lc.preconditions.push(v);
                        }
                    }
                    "postcondition" => {
                        if let Some(v) = self.validation(src, inner, "error_message") {
                            lc.postconditions.push(v);
                        }
                    }
                    _ => self.unsupported_block(src, inner, &["precondition", "postcondition"]),
                },
            }
        }
        lc
    }

    fn ignore_changes(&mut self, src: &Arc<Src>, a: &Attribute) -> IgnoreChanges {
        if let Expression::Variable(v) = &a.value
            && v.as_str() == "all"
        {
            return IgnoreChanges::All;
        }
        let Expression::Array(items) = &a.value else {
            self.err(
                src,
                a.value.span(),
                "invalid ignore_changes; a list of attribute references or the keyword all is required",
            );
            return IgnoreChanges::None;
        };
        let mut paths = Vec::new();
        for item in items.iter() {
            let Some((root, steps)) = static_traversal(item) else {
                self.err(src, item.span(), STATIC_REF);
                continue;
            };
            let mut path = vec![PathStep::Attr(root)];
            path.extend(steps.into_iter().map(|s| match s {
                Step::Attr(a) => PathStep::Attr(a),
                Step::Key(k) => PathStep::Key(k),
                Step::Index(i) => PathStep::Index(i),
            }));
            paths.push(path);
        }
        IgnoreChanges::Paths(paths)
    }

    fn module_call(&mut self, src: &Arc<Src>, b: &Block) {
        let Some(labels) = self.labels(src, b, &["name"], true) else {
            return;
        };
        let name = labels.into_iter().next().unwrap_or_default();
        let loc = Self::loc(src, header(b));
        let mut source = None;
        let mut version: Option<(String, Range<usize>)> = None;
        let mut call = ModuleCall {
            name: name.clone(),
            source: String::new(),
            version: None,
            count: None,
            for_each: None,
            providers: Vec::new(),
            depends_on: Vec::new(),
            inputs: BTreeMap::new(),
            loc: loc.clone(),
        };
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "source" => source = self.lit_string(src, a),
                    "version" => {
                        if let Some(v) = self.lit_string(src, a) {
                            version = Some((v, a.span().unwrap_or(0..0)));
                        }
                    }
                    "count" => call.count = Some(expr(src, &a.value)),
                    "for_each" => {
                        if b.body.has_attribute("count") {
                            self.err(
                                src,
                                a.key.span(),
                                "invalid combination of \"count\" and \"for_each\"; the \"count\" and \"for_each\" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of module instances to be created",
                            );
                        }
                        call.for_each = Some(expr(src, &a.value));
                    }
                    "providers" => call.providers = self.module_providers(src, a),
                    "depends_on" => call.depends_on = self.ref_list(src, a, true),
                    "lifecycle" | "locals" => self.err(
                        src,
                        a.key.span(),
                        format!(
                            "reserved argument name in module block; the name \"{}\" is reserved for use in a future version of Terraform",
                            a.key.as_str()
                        ),
                    ),
                    input => {
                        call.inputs.insert(input.to_owned(), expr(src, &a.value));
                    }
                },
                Structure::Block(inner) => self.unsupported_block(src, inner, &[]),
            }
        }
        let Some(source) = source else {
            if !b.body.has_attribute("source") {
                self.missing_arg(src, b, "source");
            }
            return;
        };
        let local = source.starts_with("./") || source.starts_with("../");
        if let Some((v, range)) = version {
            if local {
                self.err(
                    src,
                    Some(range),
                    format!(
                        "invalid version constraint; cannot apply a version constraint to module \"{name}\" because it has a local source: version constraints apply only to modules from a module registry"
                    ),
                );
                return;
            }
            call.version = Some(v);
        }
        call.source = source;
        if let Some(prev) = self.module.module_calls.get(&name) {
            let msg = format!(
                "duplicate module call; a module call named \"{name}\" was already defined at {}, module calls must have unique names within a module",
                prev.loc.position()
            );
            self.diags.push(loc.error(msg));
            return;
        }
        self.module.module_calls.insert(name, call);
    }

    fn module_providers(
        &mut self,
        src: &Arc<Src>,
        a: &Attribute,
    ) -> Vec<(ProviderRef, ProviderRef)> {
        let Expression::Object(obj) = &a.value else {
            self.err(
                src,
                a.value.span(),
                "invalid providers argument; a map of provider names to provider configurations is required, like { aws = aws.west }",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in obj.iter() {
            let child = match k {
                ObjectKey::Ident(i) => Some(ProviderRef {
                    name: i.as_str().to_owned(),
                    alias: None,
                }),
                ObjectKey::Expression(e) => match rewritten_provider_key(src, e) {
                    Some(r) => Some(r),
                    None => self.provider_ref(src, e),
                },
            };
            let parent = self.provider_ref(src, v.expr());
            if let (Some(c), Some(p)) = (child, parent) {
                out.push((c, p));
            }
        }
        out
    }

    fn moved(&mut self, src: &Arc<Src>, b: &Block) {
        if self.labels(src, b, &[], false).is_none() {
            return;
        }
        let mut from = None;
        let mut to = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    k @ ("from" | "to") => {
                        if static_traversal(&a.value).is_none() {
                            self.err(src, a.value.span(), STATIC_REF);
                            continue;
                        }
                        let e = Some(expr(src, &a.value));
                        if k == "from" {
                            from = e;
                        } else {
                            to = e;
                        }
                    }
                    _ => self.unsupported_arg(src, a, &["from", "to"]),
                },
                Structure::Block(inner) => self.unsupported_block(src, inner, &[]),
            }
        }
        match (from, to) {
            (Some(from), Some(to)) => self.module.moved.push(Moved {
                from,
                to,
                loc: Self::loc(src, header(b)),
            }),
            (None, _) if !b.body.has_attribute("from") => self.missing_arg(src, b, "from"),
            (_, None) if !b.body.has_attribute("to") => self.missing_arg(src, b, "to"),
            _ => {}
        }
    }

    fn import(&mut self, src: &Arc<Src>, b: &Block) {
        if self.labels(src, b, &[], false).is_none() {
            return;
        }
        let mut to = None;
        let mut id = None;
        let mut provider = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "to" => {
                        if static_traversal(&a.value).is_none() {
                            self.err(src, a.value.span(), STATIC_REF);
                            continue;
                        }
                        to = Some(expr(src, &a.value));
                    }
                    "id" => id = Some(expr(src, &a.value)),
                    "provider" => provider = self.provider_ref(src, &a.value),
                    _ => self.unsupported_arg(src, a, &["to", "id", "provider"]),
                },
                Structure::Block(inner) => self.unsupported_block(src, inner, &[]),
            }
        }
        match (to, id) {
            (Some(to), Some(id)) => self.module.imports.push(Import {
                to,
                id,
                provider,
                loc: Self::loc(src, header(b)),
            }),
            (None, _) if !b.body.has_attribute("to") => self.missing_arg(src, b, "to"),
            (_, None) => self.missing_arg(src, b, "id"),
            _ => {}
        }
    }
}

/// `registry.terraform.io/hashicorp/aws` → `hashicorp/aws`; `aws` →
/// `hashicorp/aws`; None when malformed.
fn normalise_source(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    if !parts.iter().all(ok) {
        return None;
    }
    match parts.as_slice() {
        [t] => Some(format!("hashicorp/{}", t.to_lowercase())),
        [ns, t] | [_, ns, t] => Some(format!("{}/{}", ns.to_lowercase(), t.to_lowercase())),
        _ => None,
    }
}
