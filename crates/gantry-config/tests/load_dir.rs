//! `load_dir` over real directories: merging, conflicts, and files that
//! cannot be read as configuration.

use std::fs;
use std::path::Path;
use std::time::Duration;

use gantry_config::{Config, load_dir};
use tempfile::TempDir;

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create dir");
    }
    fs::write(path, contents).expect("write file");
}

fn errors_of(dir: &Path) -> String {
    match load_dir(dir) {
        Ok(loaded) => panic!("expected errors, loaded {:?}", loaded.config),
        Err(diags) => {
            assert!(diags.has_errors());
            diags.render_all()
        }
    }
}

#[test]
fn main_file_and_drop_ins_merge_section_by_section() {
    let dir = TempDir::new().expect("temp dir");
    write(
        dir.path(),
        "gantry.yml",
        "version: 1\nserver:\n  listen: 127.0.0.1:8080\n",
    );
    write(
        dir.path(),
        "gantry.d/20-b.yml",
        "version: 1\nevents:\n  retention: 30d\nserver:\n  log-format: json\n",
    );
    write(
        dir.path(),
        "gantry.d/10-a.yml",
        "version: 1\nserver:\n  data-dir: /srv/gantry\ndemo:\n  name: shop\n",
    );
    write(dir.path(), "gantry.d/README.md", "not configuration");
    write(dir.path(), "gantry.d/.10-a.yml.swp", "not configuration");
    write(dir.path(), "gantry.d/.hidden.yml", "not: configuration");

    let loaded = load_dir(dir.path()).unwrap_or_else(|d| panic!("{}", d.render_all()));
    let names: Vec<&Path> = loaded.files.iter().map(|f| f.path.as_path()).collect();
    let expected = ["gantry.yml", "gantry.d/10-a.yml", "gantry.d/20-b.yml"].map(Path::new);
    assert_eq!(names, expected);
    let server = &loaded.config.server;
    assert_eq!(
        server.listen,
        Some("127.0.0.1:8080".parse().expect("address"))
    );
    assert_eq!(server.data_dir.as_deref(), Some(Path::new("/srv/gantry")));
    assert_eq!(server.log_format, Some(gantry_config::LogFormat::Json));
    assert_eq!(loaded.config.demo.name.as_deref(), Some("shop"));
    assert_eq!(
        loaded.config.events.retention,
        Some(Duration::from_secs(30 * 86_400))
    );
}

#[test]
fn a_value_set_in_two_files_names_both_places() {
    let dir = TempDir::new().expect("temp dir");
    write(
        dir.path(),
        "gantry.yml",
        "version: 1\nserver:\n  listen: 127.0.0.1:8080\n",
    );
    write(
        dir.path(),
        "gantry.d/10-a.yml",
        "version: 1\ndemo:\n  name: a\n",
    );
    write(
        dir.path(),
        "gantry.d/20-b.yml",
        "version: 1\nserver:\n  log-format: text\n  listen: 0.0.0.0:80\n",
    );
    let expected = "\
error: `server.listen` is already set in gantry.yml:3:3
  --> gantry.d/20-b.yml:4:3
   |
 4 |   listen: 0.0.0.0:80
   |   ^^^^^^
   = help: set each value in one file only
";
    assert_eq!(errors_of(dir.path()), expected);
}

#[test]
fn a_section_set_to_a_scalar_in_one_file_is_a_type_error_not_a_merge() {
    let dir = TempDir::new().expect("temp dir");
    write(
        dir.path(),
        "gantry.yml",
        "version: 1\nserver:\n  listen: 127.0.0.1:8080\n",
    );
    write(dir.path(), "gantry.d/a.yml", "version: 1\nserver: on\n");
    let rendered = errors_of(dir.path());
    assert!(
        rendered.starts_with(
            "error: expected a mapping for `server`, found a boolean\n  --> gantry.d/a.yml:2:9\n"
        ),
        "{rendered}"
    );
}

#[test]
fn errors_in_several_files_are_all_reported_with_their_source() {
    let dir = TempDir::new().expect("temp dir");
    write(dir.path(), "gantry.yml", "version: 1\nsevrer: {}\n");
    write(dir.path(), "gantry.d/a.yml", "demo:\n  name: x\n");
    let rendered = errors_of(dir.path());
    assert!(
        rendered.contains("--> gantry.yml:2:1\n   |\n 2 | sevrer: {}\n"),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "missing required key `version` in the top level\n  --> gantry.d/a.yml:1:1\n"
        ),
        "{rendered}"
    );
}

#[test]
fn drop_ins_alone_are_enough() {
    let dir = TempDir::new().expect("temp dir");
    write(
        dir.path(),
        "gantry.d/only.yml",
        "version: 1\ndemo:\n  name: solo\n",
    );
    let loaded = load_dir(dir.path()).unwrap_or_else(|d| panic!("{}", d.render_all()));
    assert_eq!(loaded.config.demo.name.as_deref(), Some("solo"));
    assert_eq!(loaded.files.len(), 1);
}

#[test]
fn no_files_at_all_is_an_empty_default_config() {
    let dir = TempDir::new().expect("temp dir");
    let loaded = load_dir(dir.path()).unwrap_or_else(|d| panic!("{}", d.render_all()));
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.files.is_empty());
    let missing = dir.path().join("does-not-exist");
    assert!(load_dir(&missing).is_ok());
}

#[test]
fn an_empty_main_file_is_an_error() {
    let dir = TempDir::new().expect("temp dir");
    write(dir.path(), "gantry.yml", "");
    assert_eq!(
        errors_of(dir.path()),
        "error: empty file: expected a mapping with `version: 1`\n  --> gantry.yml\n"
    );
}

#[test]
fn non_utf8_is_reported_at_the_first_bad_byte() {
    let dir = TempDir::new().expect("temp dir");
    write(
        dir.path(),
        "gantry.yml",
        b"version: 1\ndemo:\n  name: caf\xe9\n",
    );
    let expected = "\
error: file is not valid UTF-8
  --> gantry.yml:3:12
   |
 3 |   name: caf\u{fffd}
   |            ^
   = help: save the file as UTF-8
";
    assert_eq!(errors_of(dir.path()), expected);
}

#[test]
fn huge_files_are_rejected_without_reading_them() {
    let dir = TempDir::new().expect("temp dir");
    let file = fs::File::create(dir.path().join("gantry.yml")).expect("create");
    // Sparse: 64 GiB on paper, nothing on disk. Reading it whole would not finish.
    file.set_len(64 << 30).expect("set length");
    assert_eq!(
        errors_of(dir.path()),
        "error: file is too large: expected at most 4 MiB\n  --> gantry.yml\n   = help: split the configuration into files in `gantry.d/`\n"
    );
}

#[test]
fn huge_strings_are_rejected_too() {
    let text = format!(
        "version: 1\ndemo:\n  description: {}\n",
        "x".repeat(5 << 20)
    );
    let diags = gantry_config::load_str("big.yml", &text).expect_err("too large");
    assert!(diags.render_all().starts_with("error: file is too large"));
}

#[test]
fn a_directory_named_like_a_file_is_an_error_not_a_panic() {
    let dir = TempDir::new().expect("temp dir");
    fs::create_dir_all(dir.path().join("gantry.yml")).expect("mkdir");
    let rendered = errors_of(dir.path());
    assert!(
        rendered.starts_with("error: cannot read file: "),
        "{rendered}"
    );
}
