//! Workflow files in GitHub Actions syntax: loading `.gantry/workflows/*.yml`
//! and `.github/workflows/*.yml` into a typed [`Workflow`] with spans, and
//! checking them like actionlint does — unknown keys (with did-you-mean),
//! wrong types, `needs` naming missing jobs, dependency cycles, invalid ids,
//! duplicate step ids, steps without exactly one of `run`/`uses`, `${{ }}`
//! expressions that do not parse, bad matrices, timeouts, crons and shells.
//! Every problem is a [`gantry_config::Diagnostic`] at `file:line:col`.
//!
//! Parsing reuses gantry-config's span-carrying YAML tree and schema
//! helpers; nothing here runs anything. [`expand_matrix`] turns a
//! `strategy.matrix` into legs with GitHub's include/exclude rules.

mod events;
mod exprs;
mod graph;
mod matrix;
mod model;
mod schema;

use std::fs;
use std::io;
use std::path::Path;
use std::rc::Rc;

use gantry_config::check::Checker;
use gantry_config::{Diagnostic, Diagnostics, ReadError, SourceFile, Span, read_source};

pub use matrix::{Combination, Leg, MAX_LEGS, Matrix, expand_matrix};
pub use model::*;

/// Where workflows live, relative to the repository root.
pub const WORKFLOW_DIRS: &[&str] = &[".gantry/workflows", ".github/workflows"];

/// Checks one workflow's text; `display` names the file in diagnostics.
/// On errors the diagnostics carry the source for rendering.
pub fn load_str(display: &str, text: &str) -> Result<Workflow, Diagnostics> {
    let (workflow, found) = check_text(display, text);
    let mut diags = Diagnostics::new();
    let failed = found.iter().any(Diagnostic::is_error);
    found.into_iter().for_each(|d| diags.push(d));
    if failed {
        diags.add_source(SourceFile {
            path: display.into(),
            text: text.to_string(),
        });
        return Err(diags);
    }
    Ok(workflow)
}

/// Reads and checks one workflow file (at most 4 MiB of UTF-8);
/// `display` names it in diagnostics.
pub fn load_file(path: &Path, display: &str) -> Result<Workflow, Diagnostics> {
    match read_source(path) {
        Ok(text) => load_str(display, &text),
        Err(err) => {
            let mut diags = Diagnostics::new();
            let (diag, source) = read_error(display, err);
            diags.push(diag);
            if let Some(text) = source {
                diags.add_source(SourceFile {
                    path: display.into(),
                    text,
                });
            }
            Err(diags)
        }
    }
}

/// Loads every `*.yml` and `*.yaml` in `root/.gantry/workflows` and
/// `root/.github/workflows`, sorted by display path (`.github/workflows/ci.yml`).
/// A missing directory is fine. Returns the workflows that loaded and the
/// diagnostics of the others, with their sources added for rendering.
pub fn load_dir(root: &Path) -> (Vec<Workflow>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for dir in WORKFLOW_DIRS {
        let entries = match fs::read_dir(root.join(dir)) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                let message = format!("cannot read directory: {}", err.kind());
                diags.push(Diagnostic::error(*dir, message));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let message = format!("cannot read directory: {}", err.kind());
                    diags.push(Diagnostic::error(*dir, message));
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if (name.ends_with(".yml") || name.ends_with(".yaml")) && !name.starts_with('.') {
                files.push((format!("{dir}/{name}"), entry.path()));
            }
        }
    }
    files.sort();
    let mut workflows = Vec::new();
    for (display, path) in files {
        match load_file(&path, &display) {
            Ok(workflow) => workflows.push(workflow),
            Err(found) => {
                for diag in &found {
                    diags.push(diag.clone());
                }
                if let Some(text) = found.source(&display) {
                    diags.add_source(SourceFile {
                        path: display.clone().into(),
                        text: text.to_string(),
                    });
                }
            }
        }
    }
    (workflows, diags)
}

fn read_error(display: &str, err: ReadError) -> (Diagnostic, Option<String>) {
    match err {
        ReadError::Io(kind) => (
            Diagnostic::error(display, format!("cannot read file: {kind}")),
            None,
        ),
        ReadError::TooLarge => (
            Diagnostic::error(display, "file is too large: expected at most 4 MiB")
                .with_help("split the workflow, or move data out of it"),
            None,
        ),
        ReadError::NotUtf8 { text, valid_up_to } => (
            Diagnostic::error(display, "file is not valid UTF-8")
                .with_span(Span::from_byte_range(&text, valid_up_to..valid_up_to))
                .with_help("save the file as UTF-8"),
            Some(text),
        ),
    }
}

/// Parses and checks `text` like [`load_str`], but returns the model even
/// when there are errors (best effort: values with errors are left out),
/// with every diagnostic sorted by position.
pub fn parse_unchecked(display: &str, text: &str) -> (Workflow, Vec<Diagnostic>) {
    check_text(display, text)
}

/// Parses and checks `text`; diagnostics sorted by position.
fn check_text(display: &str, text: &str) -> (Workflow, Vec<Diagnostic>) {
    let file: Rc<str> = Rc::from(display);
    let mut found = Vec::new();
    if text.len() as u64 > gantry_config::MAX_FILE_BYTES {
        found.push(
            Diagnostic::error(display, "file is too large: expected at most 4 MiB")
                .with_help("split the workflow, or move data out of it"),
        );
        return (Workflow::default(), found);
    }
    let Some(root) = gantry_config::yaml::parse(&file, text, &mut found) else {
        return (Workflow::default(), found);
    };
    let mut ck = Checker::default();
    let mut workflow = schema::workflow(&mut ck, &root);
    workflow.file = display.to_string();
    found.append(&mut ck.diags);
    graph::check(&workflow, &mut found);
    exprs::check(&workflow, text, &mut found);
    found.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    (workflow, found)
}
