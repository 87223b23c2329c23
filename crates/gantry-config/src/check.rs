//! Helpers that section schemas use to read a [`Node`] tree into typed
//! values, reporting every problem as a [`Diagnostic`].

use crate::diagnostic::Diagnostic;
use crate::suggest::did_you_mean;
use crate::yaml::{Entry, Kind, Node, ScalarType, join, place};

/// One known key of a mapping and how its value is read into `T`. The
/// reader gets the value node and its dotted path, like `server.listen`.
pub type Field<T> = (&'static str, fn(&mut Checker, &Node, &str, &mut T));

/// Collects the diagnostics of one walk over a tree.
#[derive(Debug, Default)]
pub struct Checker {
    pub diags: Vec<Diagnostic>,
}

/// An error pointing at `node`.
pub fn error_at(node: &Node, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(&*node.file, message).with_span(node.span)
}

impl Checker {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Reads a mapping whose keys are `fields` into a `T`, reporting a value
    /// that is not a mapping and every unknown key.
    pub fn mapping<T: Default>(&mut self, node: &Node, path: &str, fields: &[Field<T>]) -> T {
        let mut out = T::default();
        let Kind::Map(entries) = &node.kind else {
            let found = node.describe();
            let message = format!("expected a mapping for {}, found {found}", place(path));
            self.push(error_at(node, message));
            return out;
        };
        for entry in entries {
            match fields.iter().find(|(key, _)| *key == entry.key) {
                Some((_, read)) => read(self, &entry.value, &join(path, &entry.key), &mut out),
                None => self.unknown_key(entry, path, fields),
            }
        }
        out
    }

    fn unknown_key<T>(&mut self, entry: &Entry, path: &str, fields: &[Field<T>]) {
        let keys: Vec<&str> = fields.iter().map(|(key, _)| *key).collect();
        let help = match did_you_mean(&entry.key, &keys) {
            Some(key) => format!("did you mean `{key}`?"),
            None => format!("expected one of {}", quoted_list(&keys)),
        };
        let message = format!("unknown key `{}` in {}", entry.key, place(path));
        self.push(
            Diagnostic::error(&*entry.value.file, message)
                .with_span(entry.key_span)
                .with_help(help),
        );
    }

    /// Reads a scalar with `parse`. `expected` says what a valid value looks
    /// like; `parse` may return a help line when it rejects the text.
    pub fn value<T>(
        &mut self,
        node: &Node,
        path: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, Option<String>>,
    ) -> Option<T> {
        let text = match &node.kind {
            Kind::Scalar { text, ty } if *ty != ScalarType::Null => text,
            _ => {
                let found = node.describe();
                self.push(error_at(
                    node,
                    format!("expected {expected} for `{path}`, found {found}"),
                ));
                return None;
            }
        };
        match parse(text) {
            Ok(value) => Some(value),
            Err(help) => {
                let mut diag = error_at(node, format!("invalid `{path}`: expected {expected}"));
                if let Some(help) = help {
                    diag = diag.with_help(help);
                }
                self.push(diag);
                None
            }
        }
    }

    /// Reads any non-null scalar as a string.
    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        self.value(node, path, "a string", |text| Ok(text.to_string()))
    }
}

/// "`a`, `b`, `c`".
pub fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    quoted.join(", ")
}
