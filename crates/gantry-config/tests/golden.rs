//! Golden tests over `tests/cases/`:
//! - every `*.bad.yml` must fail to load, and its rendered diagnostics must
//!   equal the sibling `*.expected` file byte for byte;
//! - every `*.good.yml` must load with no diagnostics.
//!
//! To accept new output after reviewing it, run with `GANTRY_BLESS=1`, which
//! rewrites the `.expected` files:
//! `GANTRY_BLESS=1 cargo test -p gantry-config --test golden`

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_config::testing;
use gantry_config::{LogFormat, load_str};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn cases(suffix: &str) -> Vec<PathBuf> {
    testing::cases(&cases_dir(), suffix)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn bad_cases_render_the_expected_diagnostics() {
    testing::check_golden(&cases_dir(), 14, |name, text| {
        load_str(name, text).map(|loaded| format!("{loaded:?}"))
    });
}

#[test]
fn good_cases_load_without_diagnostics() {
    let good = cases(".good.yml");
    assert!(!good.is_empty(), "no good cases found");
    for path in good {
        let name = file_name(&path);
        let text = fs::read_to_string(&path).expect("case is UTF-8");
        if let Err(diags) = load_str(&name, &text) {
            panic!("{name} should load:\n{}", diags.render_all());
        }
    }
}

#[test]
fn full_good_case_has_the_written_values() {
    let text = fs::read_to_string(cases_dir().join("full.good.yml")).expect("full.good.yml");
    let config = load_str("full.good.yml", &text).expect("loads");
    let server = &config.server;
    assert_eq!(
        server.listen,
        Some("127.0.0.1:8080".parse().expect("address"))
    );
    assert_eq!(
        server.data_dir.as_deref(),
        Some(Path::new("/var/lib/gantry"))
    );
    assert_eq!(
        server.database_url.as_deref(),
        Some("sqlite:/var/lib/gantry/gantry.db")
    );
    assert_eq!(server.body_limit, Some(1 << 20));
    assert_eq!(server.log_format, Some(LogFormat::Json));
    assert_eq!(config.demo.name.as_deref(), Some("yes"));
    assert_eq!(
        config.events.retention,
        Some(Duration::from_secs(90 * 24 * 3600))
    );
}
