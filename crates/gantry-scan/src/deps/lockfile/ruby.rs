//! `Gemfile.lock`: the `specs:` of `GEM` and `GIT` sections (`PATH` gems are
//! local code). Platform-specific gems (`nokogiri (1.15.4-x86_64-linux)`)
//! keep only their version.

use super::{ParseResult, Sink, at};

const PLATFORM_PREFIXES: &[&str] = &[
    "x86",
    "x64",
    "i386",
    "i686",
    "arm",
    "aarch64",
    "universal",
    "java",
    "jruby",
    "mswin",
    "mingw",
    "darwin",
    "linux",
    "ruby",
    "powerpc",
    "ppc64",
    "s390",
    "sparc",
    "wasm",
];

pub(super) fn gemfile_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let mut section = "";
    let mut in_specs = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            section = line.trim();
            in_specs = false;
            continue;
        }
        if indent == 2 {
            in_specs = line.trim() == "specs:";
            continue;
        }
        if indent != 4 || !in_specs || !matches!(section, "GEM" | "GIT") {
            continue;
        }
        let spec = line.trim();
        let Some((name, rest)) = spec.split_once(" (") else {
            return Err(at(
                line_no,
                5,
                format!("expected `name (version)`, found `{spec}`"),
            ));
        };
        let Some(version) = rest.strip_suffix(')') else {
            return Err(at(
                line_no,
                (5 + spec.len()) as u32,
                "expected `)` after the version",
            ));
        };
        out.push(name, strip_platform(version), line_no);
    }
    Ok(())
}

fn strip_platform(version: &str) -> &str {
    match version.split_once('-') {
        Some((v, platform)) if PLATFORM_PREFIXES.iter().any(|p| platform.starts_with(p)) => v,
        _ => version,
    }
}
