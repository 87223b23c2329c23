//! Finding, reading and merging the files of a configuration directory.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::check::Checker;
use crate::config::{self, Config};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, position};
use crate::yaml::{self, Entry, Kind, Node, join};

/// Files larger than this are rejected without being read whole.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// What [`load_dir`] read: the merged configuration and the files it came
/// from, in load order.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub files: Vec<SourceFile>,
}

/// Loads `dir/gantry.yml`, then every `dir/gantry.d/*.yml` sorted by file
/// name (names starting with `.` are skipped), and merges them section by
/// section. Each file must have `version: 1`. A value set in two files is an
/// error. With neither present the result is an empty default configuration.
pub fn load_dir(dir: &Path) -> Result<Loaded, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut files = Vec::new();
    for (name, path) in discover(dir, &mut diags) {
        match read_source(&path) {
            Ok(text) => files.push(SourceFile {
                path: name.into(),
                text,
            }),
            Err(ReadError::Io(kind)) if kind == io::ErrorKind::NotFound && name == MAIN => {}
            Err(ReadError::Io(kind)) => {
                diags.push(Diagnostic::error(name, format!("cannot read file: {kind}")));
            }
            Err(ReadError::TooLarge) => diags.push(too_large(&name)),
            Err(ReadError::NotUtf8 { text, valid_up_to }) => {
                let span = Span::from_byte_range(&text, valid_up_to..valid_up_to);
                diags.push(
                    Diagnostic::error(&name, "file is not valid UTF-8")
                        .with_span(span)
                        .with_help("save the file as UTF-8"),
                );
                diags.add_source(SourceFile {
                    path: name.into(),
                    text,
                });
            }
        }
    }
    let roots: Vec<Node> = files
        .iter()
        .filter_map(|file| check_file(file, &mut diags))
        .collect();
    let mut roots = roots.into_iter();
    let config = match roots.next() {
        Some(mut merged) if !diags.has_errors() => {
            roots.for_each(|root| merge(&mut merged, root, &mut diags));
            config_from(&merged, &mut diags)
        }
        _ => Config::default(),
    };
    if diags.has_errors() {
        files.into_iter().for_each(|file| diags.add_source(file));
        return Err(diags);
    }
    Ok(Loaded { config, files })
}

/// Loads one file's text; `name` is used in diagnostics.
pub fn load_str(name: &str, text: &str) -> Result<Config, Diagnostics> {
    let file = SourceFile {
        path: name.into(),
        text: text.to_string(),
    };
    let mut diags = Diagnostics::new();
    let config = match check_file(&file, &mut diags) {
        Some(root) => config_from(&root, &mut diags),
        None => Config::default(),
    };
    if diags.has_errors() {
        diags.add_source(file);
        return Err(diags);
    }
    Ok(config)
}

const MAIN: &str = "gantry.yml";
const DROP_IN_DIR: &str = "gantry.d";

/// The display name and path of every file to load, in load order.
fn discover(dir: &Path, diags: &mut Diagnostics) -> Vec<(String, PathBuf)> {
    let mut found = vec![(MAIN.to_string(), dir.join(MAIN))];
    let entries = match fs::read_dir(dir.join(DROP_IN_DIR)) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return found,
        Err(err) => {
            let message = format!("cannot read directory: {}", err.kind());
            diags.push(Diagnostic::error(DROP_IN_DIR, message));
            return found;
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => names.push(entry.file_name()),
            Err(err) => {
                let message = format!("cannot read directory: {}", err.kind());
                diags.push(Diagnostic::error(DROP_IN_DIR, message));
            }
        }
    }
    names.sort();
    for name in names {
        let shown = name.to_string_lossy();
        if shown.ends_with(".yml") && !shown.starts_with('.') {
            let path = dir.join(DROP_IN_DIR).join(&name);
            found.push((format!("{DROP_IN_DIR}/{shown}"), path));
        }
    }
    found
}

/// Why [`read_source`] could not return a file's text.
#[derive(Debug)]
pub enum ReadError {
    Io(io::ErrorKind),
    TooLarge,
    /// `text` is the lossy decoding, for rendering.
    NotUtf8 {
        text: String,
        valid_up_to: usize,
    },
}

/// Reads a source file as UTF-8, never more than [`MAX_FILE_BYTES`] + 1
/// bytes of it.
pub fn read_source(path: &Path) -> Result<String, ReadError> {
    let io_error = |err: io::Error| ReadError::Io(err.kind());
    let file = File::open(path).map_err(io_error)?;
    if file.metadata().map_err(io_error)?.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|err| ReadError::NotUtf8 {
        valid_up_to: err.utf8_error().valid_up_to(),
        text: String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

fn too_large(name: &str) -> Diagnostic {
    Diagnostic::error(name, "file is too large: expected at most 4 MiB")
        .with_help("split the configuration into files in `gantry.d/`")
}

/// Parses and checks one file, pushing its diagnostics in source order.
/// Returns the tree when the file has no errors.
fn check_file(file: &SourceFile, diags: &mut Diagnostics) -> Option<Node> {
    let name: Rc<str> = Rc::from(file.path.to_string_lossy());
    let mut found = Vec::new();
    let root = if file.text.len() as u64 > MAX_FILE_BYTES {
        found.push(too_large(&name));
        None
    } else {
        yaml::parse(&name, &file.text, &mut found)
    };
    if let Some(root) = &root {
        let mut ck = Checker::default();
        config::check(&mut ck, root);
        found.append(&mut ck.diags);
    }
    found.sort_by_key(|d| d.span.map(|s| (s.line, s.col)));
    let ok = !found.iter().any(Diagnostic::is_error);
    found.into_iter().for_each(|d| diags.push(d));
    root.filter(|_| ok)
}

/// Reads the (merged) tree into a [`Config`].
fn config_from(root: &Node, diags: &mut Diagnostics) -> Config {
    let mut ck = Checker::default();
    let config = config::check(&mut ck, root);
    ck.diags.into_iter().for_each(|d| diags.push(d));
    config
}

/// Merges the top level of `other` into `into`. `version` belongs to each
/// file and is not merged. Both are checked files, so both are mappings.
fn merge(into: &mut Node, other: Node, diags: &mut Diagnostics) {
    if let (Kind::Map(target), Kind::Map(entries)) = (&mut into.kind, other.kind) {
        let entries = entries.into_iter().filter(|e| e.key != "version");
        merge_entries(target, entries, "", diags);
    }
}

/// Mappings merge key by key; any other value set on both sides is an error
/// at the second place, naming the first.
fn merge_entries(
    target: &mut Vec<Entry>,
    entries: impl IntoIterator<Item = Entry>,
    path: &str,
    diags: &mut Diagnostics,
) {
    for entry in entries {
        let child = join(path, &entry.key);
        let Some(first) = target.iter_mut().find(|e| e.key == entry.key) else {
            target.push(entry);
            continue;
        };
        match (&mut first.value.kind, entry.value.kind) {
            (Kind::Map(inner), Kind::Map(more)) => merge_entries(inner, more, &child, diags),
            _ => {
                let earlier = position(&first.value.file, first.key_span);
                let message = format!("`{child}` is already set in {earlier}");
                diags.push(
                    Diagnostic::error(&*entry.value.file, message)
                        .with_span(entry.key_span)
                        .with_help("set each value in one file only"),
                );
            }
        }
    }
}
