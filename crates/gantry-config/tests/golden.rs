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

#[test]
fn monitors_good_case_has_the_written_values() {
    use gantry_config::MonitorKind;
    let text = fs::read_to_string(cases_dir().join("monitors.good.yml")).expect("case");
    let config = load_str("monitors.good.yml", &text).expect("loads");
    let m = &config.monitors;
    assert_eq!(m.len(), 4);
    assert_eq!(m[0].kind, MonitorKind::Http);
    assert_eq!(m[0].interval, Some(Duration::from_secs(30)));
    assert_eq!(m[0].failure_threshold, Some(2));
    assert_eq!(m[0].follow_redirects, Some(false));
    assert_eq!(m[0].headers["Authorization"], "Bearer x");
    assert_eq!(m[0].conditions[3].text, "len([BODY].items) > 0");
    // Quoted scalars start one column after the span.
    assert_eq!(m[0].conditions[0].offset, 1);
    assert_eq!(m[0].conditions[3].offset, 0);
    assert_eq!(m[0].conditions[0].origin.span.line, 18);
    assert_eq!(m[1].kind, MonitorKind::Tcp);
    assert_eq!(
        (m[1].host.as_deref(), m[1].port),
        (Some("db.internal"), Some(5432))
    );
    assert_eq!(m[2].kind, MonitorKind::Tls);
    assert_eq!(m[2].port, Some(443));
    assert_eq!(m[3].kind, MonitorKind::Dns);
    let dns = m[3].dns.as_ref().expect("dns block");
    assert_eq!(dns.query_type.as_deref(), Some("MX"));
    assert_eq!(dns.server.as_deref(), Some("127.0.0.1:5353"));
}
