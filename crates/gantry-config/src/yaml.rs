//! A YAML document as a tree whose every node and key knows its file and
//! span, built on serde-saphyr's `Spanned`. Schemas walk this tree, so every
//! diagnostic can point at the exact token.

use std::fmt;
use std::rc::Rc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, MessageFormatter, Spanned, UserMessageFormatter};

use crate::diagnostic::{Diagnostic, Span, position};

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    /// Display path of the file the node came from.
    pub file: Rc<str>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// `text` is the string for string scalars and the source text for the
    /// others, so `name: yes` can still be read as the string "yes".
    Scalar { text: String, ty: ScalarType },
    /// Items in source order.
    Seq(Vec<Node>),
    /// Entries in source order, without duplicates.
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    Null,
    Bool,
    Int(i128),
    Float,
    Str,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// What the node is, for "found ..." in messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a sequence",
            Kind::Scalar { ty, .. } => match ty {
                ScalarType::Null => "null",
                ScalarType::Bool => "a boolean",
                ScalarType::Int(_) => "an integer",
                ScalarType::Float => "a float",
                ScalarType::Str => "a string",
            },
        }
    }

    /// Whether the node is an implicit null: no text at all, as in an empty
    /// file or `key:` with no value.
    pub fn is_absent(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, ty: ScalarType::Null } if text.is_empty())
    }
}

/// `parent.key`, or `key` at the top level.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// How a path reads in a message: "the top level" or "`server`".
pub fn place(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("`{path}`")
    }
}

/// Parses one YAML document. Syntax errors and duplicate keys are pushed to
/// `diags`; the tree is `None` only when the YAML could not be parsed.
pub fn parse(file: &Rc<str>, text: &str, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(text, options) {
        Ok(raw) => {
            let mut builder = Builder { file, text, diags };
            Some(builder.node(raw, ""))
        }
        Err(err) => {
            diags.push(syntax_error(file, &err));
            None
        }
    }
}

fn syntax_error(file: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let message = UserMessageFormatter.format_message(err.without_snippet());
    let message = message.trim_end_matches('.');
    let mut diag = Diagnostic::error(file, format!("invalid yaml: {message}"));
    if let Some(location) = err.location() {
        diag = diag.with_span(span_of(&location));
    }
    if message.contains("tabs") {
        diag = diag.with_help("indent with spaces: yaml does not allow tabs for indentation");
    }
    diag
}

fn span_of(location: &Location) -> Span {
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Span::new(
        size(location.line()),
        size(location.column()),
        size(location.span().len()),
    )
}

struct Builder<'a> {
    file: &'a Rc<str>,
    text: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn node(&mut self, raw: Spanned<Raw>, path: &str) -> Node {
        let kind = match raw.value {
            Raw::Scalar { ty, text } if ty != ScalarType::Str => Kind::Scalar {
                // Aliased and merged values take their text from the definition.
                text: self.source_text(&raw.defined).unwrap_or(text),
                ty,
            },
            Raw::Scalar { ty, text } => Kind::Scalar { text, ty },
            Raw::Seq(items) => Kind::Seq(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| self.node(item, &format!("{path}[{i}]")))
                    .collect(),
            ),
            Raw::Map(pairs) => Kind::Map(self.entries(pairs, path)),
        };
        Node {
            kind,
            file: self.file.clone(),
            span: span_of(&raw.referenced),
        }
    }

    fn entries(&mut self, pairs: Vec<(Spanned<Raw>, Spanned<Raw>)>, path: &str) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for (key, value) in pairs {
            let key = self.node(key, path);
            let found = key.describe();
            let Kind::Scalar { text: name, .. } = key.kind else {
                let message = format!("expected a string key in {}, found {found}", place(path));
                self.diags
                    .push(Diagnostic::error(&**self.file, message).with_span(key.span));
                continue;
            };
            let mut value = self.node(value, &join(path, &name));
            if value.is_absent() {
                // `key:` with nothing after it: point at the key.
                value.span = key.span;
            }
            if let Some(first) = entries.iter().find(|e| e.key == name) {
                let message = format!("duplicate key `{name}` in {}", place(path));
                let note = format!("first set at {}", position(self.file, first.key_span));
                self.diags.push(
                    Diagnostic::error(&**self.file, message)
                        .with_span(key.span)
                        .with_note(note),
                );
                continue;
            }
            entries.push(Entry {
                key: name,
                key_span: key.span,
                value,
            });
        }
        entries
    }

    /// The source text at `location`, when the parser reported byte offsets.
    fn source_text(&self, location: &Location) -> Option<String> {
        let span = location.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        self.text
            .get(start..start.checked_add(len)?)
            .map(str::to_string)
    }
}

/// What serde-saphyr hands us: any YAML value, every node with its location.
enum Raw {
    Scalar { ty: ScalarType, text: String },
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl Raw {
    fn scalar(ty: ScalarType, text: impl Into<String>) -> Self {
        Raw::Scalar {
            ty,
            text: text.into(),
        }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any yaml value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Null, ""))
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Null, ""))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        Raw::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Bool, v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Int(v.into()), v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Int(v.into()), v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Float, v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Str, v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::scalar(ScalarType::Str, v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry()? {
            pairs.push(pair);
        }
        Ok(Raw::Map(pairs))
    }
}
