//! `gantry/scan`: the security scan of `gantry scan` as a step, run in
//! process through gantry-scan.
//!
//! Inputs mirror the CLI's flags:
//! - `path`: what to scan, relative to the workspace (an absolute path is
//!   used as is) [default `.`];
//! - `scanners`: a comma- or space-separated list of `deps`, `secrets`,
//!   `misconfig` [default: all three] (one list input rather than three
//!   booleans, so "which scanners" has one spelling);
//! - `git`: also every commit's added lines, for secrets (`true`/`false`);
//! - `config`: gitleaks TOML secret rules (a workspace path);
//! - `format`: `table`, `json`, `sarif` or `cyclonedx` [default `table`];
//! - `output`: write the report in `format` to this workspace path;
//! - `fail-on`: fail the step when a finding is at or above this severity
//!   (`info`, `low`, `medium`, `high`, `critical`);
//! - `baseline`: a JSON report of an earlier scan; only new findings count.
//!
//! The step log always gets the table when `output` is given, and the
//! report in `format` otherwise (like the CLI's stdout); every line passes
//! through the job's secret masker. Outputs: `total`, `critical`, `high`,
//! `medium`, `low`, `info`, `files-scanned`, and `output` (plus `sarif` when
//! the format is SARIF) holding the written file's absolute path.
//!
//! The advisory database is the one under the run's state dir
//! (`STATE_DIR/scan/osv`, where `gantry scan --data-dir STATE_DIR db
//! import` puts it). With `deps` on and no database the step fails and says
//! how to import one: a missing database is never "0 findings".
//!
//! An unknown input or a bad value fails the step with a message naming the
//! input; the workflow loader reports the same problems at `file:line:col`
//! when the value is written without an expression.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_config::suggest::did_you_mean;
use gantry_scan::output::{self, Format, Tool};
use gantry_scan::{DbError, Report, ScanError, ScanOptions, Severity};

use super::files::{self, Roots, flag, input};
use super::{ActionEnv, ActionOutcome};
use crate::exec::{LogLine, Masker};
use crate::run::Conclusion;

/// The action's name in `uses:`.
pub(crate) const NAME: &str = "gantry/scan";

/// Inputs gantry/scan takes.
pub(crate) const INPUTS: &[&str] = &[
    "path", "scanners", "git", "config", "format", "output", "fail-on", "baseline",
];

/// What `scanners` may name.
const SCANNERS: &[&str] = &["deps", "secrets", "misconfig"];

/// Formats `format` may name.
const FORMATS: &[&str] = &["table", "json", "sarif", "cyclonedx"];

/// Severities `fail-on` may name.
const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

fn unknown_input(name: &str) -> String {
    let hint = did_you_mean(name, INPUTS)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    format!(
        "gantry/scan: unknown input `{name}`{hint}; valid inputs are {}",
        INPUTS.join(", ")
    )
}

/// The scanners a `scanners` value turns on: (deps, secrets, misconfig).
fn parse_scanners(value: &str) -> Result<(bool, bool, bool), String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok((true, true, true));
    }
    let (mut deps, mut secrets, mut misconfig) = (false, false, false);
    for word in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        match word.to_ascii_lowercase().as_str() {
            "deps" => deps = true,
            "secrets" => secrets = true,
            "misconfig" => misconfig = true,
            _ => {
                let hint = did_you_mean(word, SCANNERS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "gantry/scan: input `scanners` names an unknown scanner `{word}`{hint}; expected a comma-separated list of {}",
                    SCANNERS.join(", ")
                ));
            }
        }
    }
    if !(deps || secrets || misconfig) {
        return Err(format!(
            "gantry/scan: input `scanners` is `{value}`, which names no scanner; expected a comma-separated list of {}",
            SCANNERS.join(", ")
        ));
    }
    Ok((deps, secrets, misconfig))
}

fn parse_format(value: &str) -> Result<Format, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(Format::Table);
    }
    value.to_ascii_lowercase().parse().map_err(|_| {
        let hint = did_you_mean(value, FORMATS)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        format!(
            "gantry/scan: input `format` is `{value}`{hint}; expected one of {}",
            FORMATS.join(", ")
        )
    })
}

fn parse_fail_on(value: &str) -> Result<Option<Severity>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        let hint = did_you_mean(value, SEVERITIES)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        format!(
            "gantry/scan: input `fail-on` is `{value}`{hint}; expected one of {}",
            SEVERITIES.join(", ")
        )
    })
}

fn parse_git(with: &BTreeMap<String, String>) -> Result<bool, String> {
    flag(with, "git", false).map_err(|e| format!("gantry/scan: {e}"))
}

/// Checks one input: its name, and its value unless the value is computed
/// at run time. Used by the workflow loader for values written literally
/// and by the step for every value.
pub(crate) fn check_input(name: &str, value: &str) -> Result<(), String> {
    match name {
        "scanners" => parse_scanners(value).map(|_| ()),
        "format" => parse_format(value).map(|_| ()),
        "fail-on" => parse_fail_on(value).map(|_| ()),
        "git" => {
            let one = BTreeMap::from([("git".to_string(), value.to_string())]);
            parse_git(&one).map(|_| ())
        }
        "path" | "config" | "output" | "baseline" => Ok(()),
        _ => Err(unknown_input(name)),
    }
}

/// A workspace path input, resolved.
fn path_input(
    with: &BTreeMap<String, String>,
    name: &str,
    roots: &Roots,
) -> Result<Option<PathBuf>, String> {
    input(with, name)
        .map(|v| {
            roots
                .resolve(v)
                .map_err(|e| format!("gantry/scan: input `{name}`: {e}"))
        })
        .transpose()
}

/// The inputs, checked and resolved.
struct Request {
    /// `path` as written, for display.
    shown: String,
    root: PathBuf,
    deps: bool,
    secrets: bool,
    misconfig: bool,
    git: bool,
    config: Option<PathBuf>,
    format: Format,
    output: Option<PathBuf>,
    fail_on: Option<Severity>,
    baseline: Option<PathBuf>,
}

impl Request {
    fn parse(with: &BTreeMap<String, String>, roots: &Roots) -> Result<Request, String> {
        let unknown: Vec<&str> = with
            .keys()
            .map(String::as_str)
            .filter(|k| !INPUTS.contains(k))
            .collect();
        if let Some(first) = unknown.first() {
            let mut msg = unknown_input(first);
            if unknown.len() > 1 {
                msg.push_str(&format!(" (also unknown: {})", unknown[1..].join(", ")));
            }
            return Err(msg);
        }
        let (deps, secrets, misconfig) =
            parse_scanners(with.get("scanners").map_or("", String::as_str))?;
        let git = parse_git(with)?;
        if git && !secrets {
            return Err(
                "gantry/scan: input `git` scans history for secrets: it needs `secrets` in `scanners`"
                    .into(),
            );
        }
        let format = parse_format(with.get("format").map_or("", String::as_str))?;
        let fail_on = parse_fail_on(with.get("fail-on").map_or("", String::as_str))?;
        let shown = input(with, "path").unwrap_or(".").to_string();
        let root = roots
            .resolve(&shown)
            .map_err(|e| format!("gantry/scan: input `path`: {e}"))?;
        if std::fs::symlink_metadata(&root).is_err() {
            return Err(format!(
                "gantry/scan: input `path`: `{shown}` does not exist ({})",
                root.display()
            ));
        }
        let config = path_input(with, "config", roots)?;
        let baseline = path_input(with, "baseline", roots)?;
        let output = path_input(with, "output", roots)?;
        if let Some(out) = &output
            && out.is_dir()
        {
            return Err(format!(
                "gantry/scan: input `output`: {} is a directory; expected a file path",
                out.display()
            ));
        }
        Ok(Request {
            shown,
            root,
            deps,
            secrets,
            misconfig,
            git,
            config,
            format,
            output,
            fail_on,
            baseline,
        })
    }
}

/// Loads rules and baseline, scans, and writes `output`; runs on a
/// blocking thread.
fn scan(req: &Request, data_dir: &Path) -> Result<Report, String> {
    let secret_rules = match &req.config {
        Some(file) => Some(
            gantry_scan::secrets::Rules::from_gitleaks_file(file)
                .map_err(|e| format!("gantry/scan: input `config`: {e}"))?,
        ),
        None => None,
    };
    let baseline = match &req.baseline {
        Some(file) => Some(
            gantry_scan::suppress::load_baseline(file)
                .map_err(|e| format!("gantry/scan: input `baseline`: {e}"))?,
        ),
        None => None,
    };
    let db_dir = data_dir.join("scan").join("osv");
    let opts = ScanOptions {
        deps: req.deps,
        secrets: req.secrets,
        misconfig: req.misconfig,
        git_history: req.git,
        db_dir: Some(db_dir.clone()),
        secret_rules,
        baseline,
        ..ScanOptions::default()
    };
    let mut report = gantry_scan::scan_tree(&req.root, opts).map_err(|e| match e {
        ScanError::Database(DbError::Missing { .. }) => format!(
            "gantry/scan: the deps scanner needs an advisory database and there is none in {}: import OSV's exports with `gantry scan --data-dir {} db import FILE.zip` (or download them with `gantry scan --data-dir {} db update`), or leave `deps` out of `scanners`",
            db_dir.display(),
            data_dir.display(),
            data_dir.display()
        ),
        ScanError::Database(e) => format!("gantry/scan: advisory database: {e}"),
        ScanError::NoSuchPath(_) => format!(
            "gantry/scan: input `path`: `{}` does not exist ({})",
            req.shown,
            req.root.display()
        ),
        other => format!("gantry/scan: {other}"),
    })?;
    report.root = req.shown.clone();
    if let Some(file) = &req.output {
        let text = output::render(&report, req.format, &Tool::default(), false);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "gantry/scan: input `output`: creating {}: {e}",
                    dir.display()
                )
            })?;
        }
        files::write_atomic(file, text.as_bytes())
            .map_err(|e| format!("gantry/scan: input `output`: {e}"))?;
    }
    Ok(report)
}

/// Runs the scan and reports it; a failed gate is a failed step with its
/// outputs still set.
pub(super) async fn run(
    with: &BTreeMap<String, String>,
    env: &mut ActionEnv<'_>,
) -> Result<ActionOutcome, String> {
    let req = Request::parse(with, &Roots::of(env))?;
    let data_dir = files::state_dir(env);
    let (req, scanned) = tokio::task::spawn_blocking(move || {
        let r = scan(&req, &data_dir);
        (req, r)
    })
    .await
    .map_err(|e| format!("gantry/scan: the scan stopped: {e}"))?;
    let report = scanned?;

    let masker = Masker::new(env.state.masks.iter());
    let mut say = |line: LogLine| (env.log)(line);
    // When the document went to a file, the log gets the table.
    let log_format = if req.output.is_some() {
        Format::Table
    } else {
        req.format
    };
    let shown = output::render(&report, log_format, &Tool::default(), false);
    for line in shown.lines() {
        say(LogLine::Out(masker.mask(line)));
    }
    for e in &report.errors {
        say(LogLine::Err(
            masker.mask(&format!("warning: not scanned: {e}")),
        ));
    }
    for n in &report.notices {
        say(LogLine::Err(masker.mask(&format!("notice: {n}"))));
    }

    let mut out = ActionOutcome::success();
    let counts = report.counts();
    out.outputs
        .insert("total".into(), report.findings.len().to_string());
    for (severity, n) in &counts {
        out.outputs
            .insert(severity.as_str().to_string(), n.to_string());
    }
    out.outputs
        .insert("files-scanned".into(), report.files_scanned.to_string());
    if let Some(file) = &req.output {
        let path = file.display().to_string();
        say(LogLine::Out(masker.mask(&format!(
            "Wrote the {} report to {path}",
            req.format
        ))));
        if req.format == Format::Sarif {
            out.outputs.insert("sarif".into(), path.clone());
        }
        out.outputs.insert("output".into(), path);
    }

    let failed: std::collections::HashSet<&str> =
        report.errors.iter().map(|e| e.path.as_str()).collect();
    if report.files_scanned > 0 && failed.len() >= report.files_scanned {
        say(LogLine::Err(format!(
            "error: gantry/scan: none of the {} files could be scanned",
            report.files_scanned
        )));
        out.conclusion = Conclusion::Failure;
        return Ok(out);
    }
    if let Some(threshold) = req.fail_on
        && report.reaches(threshold)
    {
        let n = report
            .findings
            .iter()
            .filter(|f| f.severity >= threshold)
            .count();
        say(LogLine::Err(format!(
            "error: gantry/scan: {n} finding(s) at or above {threshold} (fail-on: {threshold})"
        )));
        out.conclusion = Conclusion::Failure;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanners_parse_lists_and_reject_unknown_names() {
        assert_eq!(parse_scanners(""), Ok((true, true, true)));
        assert_eq!(parse_scanners("secrets"), Ok((false, true, false)));
        assert_eq!(
            parse_scanners(" misconfig , Secrets deps"),
            Ok((true, true, true))
        );
        let e = parse_scanners("secret,deps").unwrap_err();
        assert!(
            e.contains("`scanners`") && e.contains("did you mean `secrets`"),
            "{e}"
        );
        let e = parse_scanners(" , ").unwrap_err();
        assert!(e.contains("names no scanner"), "{e}");
    }

    #[test]
    fn values_are_checked_with_the_input_named() {
        assert!(check_input("format", "sarif").is_ok());
        assert!(check_input("format", "").is_ok());
        let e = check_input("format", "sraif").unwrap_err();
        assert!(
            e.contains("input `format`") && e.contains("did you mean `sarif`"),
            "{e}"
        );
        assert!(check_input("fail-on", "High").is_ok());
        let e = check_input("fail-on", "severe").unwrap_err();
        assert!(e.contains("input `fail-on`"), "{e}");
        let e = check_input("git", "yes").unwrap_err();
        assert!(e.contains("input `git`"), "{e}");
        let e = check_input("fial-on", "high").unwrap_err();
        assert!(
            e.contains("unknown input `fial-on`") && e.contains("did you mean `fail-on`"),
            "{e}"
        );
        assert!(check_input("output", "anything/at/all.sarif").is_ok());
    }

    use proptest::prelude::*;

    proptest! {
        /// Arbitrary `with:` maps never panic; every refusal names the
        /// input it is about.
        #[test]
        fn arbitrary_inputs_never_panic(
            pairs in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        proptest::sample::select(INPUTS.to_vec()).prop_map(String::from),
                        "[a-z-]{1,10}",
                    ],
                    ".{0,40}",
                ),
                0..6,
            )
        ) {
            let dir = std::env::temp_dir();
            let roots = Roots { workspace: dir.clone(), home: Some(dir) };
            let with: BTreeMap<String, String> = pairs.into_iter().collect();
            for (k, v) in &with {
                if let Err(e) = check_input(k, v) {
                    prop_assert!(e.contains(&format!("`{k}`")), "{e}");
                }
            }
            if let Err(e) = Request::parse(&with, &roots) {
                prop_assert!(e.starts_with("gantry/scan: "), "{e}");
                prop_assert!(e.contains("input `"), "{e}");
            }
        }
    }
}
