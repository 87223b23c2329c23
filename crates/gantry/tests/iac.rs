//! Golden end-to-end tests of the Terraform engine through the `gantry`
//! binary: one table-driven checker over the case directories in
//! `tests/iac/<case>/`.
//!
//! A GOOD case holds `.tf` files (and any `terraform.tfvars`,
//! `*.auto.tfvars`, modules, data files) plus:
//! - `args` (optional): extra plan flags, one argument per line;
//! - `env` (optional): `KEY=VALUE` lines for the environment (`TF_VAR_*`);
//! - `plan.txt`: stdout of `gantry plan -no-color -out=plan.bin ARGS`;
//! - `plan.json`: `gantry show -json plan.bin`, pretty-printed;
//! - `apply.txt`: stdout of `gantry apply -auto-approve plan.bin`;
//! - then `gantry plan -detailed-exitcode ARGS` (without `-replace`) must
//!   exit 0 and say "No changes";
//! - `step2/` (optional): files copied over the working copy after the
//!   first apply (`step2/args` replaces `args`, `step2/rm` lists files to
//!   delete first), with `plan2.txt` and `apply2.txt` goldens and again a
//!   converging re-plan.
//!
//! A BAD case holds the files and `expected.txt`: the first line is
//! `exit: N`, the rest is the exact stderr of `gantry plan -no-color
//! -input=false ARGS`. Every diagnostic in a bad case must name a
//! `file:line:col`.
//!
//! Applies run with `-parallelism=1` so that progress lines come in the
//! engine's deterministic scheduling order.
//!
//! Normalisation (applied to every captured text before comparing):
//! - the working copy's path becomes `$DIR`;
//! - every value a random source produced (the string attributes `id`,
//!   `hex`, `b64_std`, `b64_url`, `dec`, `result` of `random_*` resources
//!   and the `id` of `null_resource` and `terraform_data`, read from the
//!   state after each apply) becomes `<ADDRESS.ATTR>` (`#2` appended when
//!   the value comes from the second apply);
//! - UUIDs become `<uuid>` and RFC 3339 timestamps `<timestamp>`;
//! - durations `after 3s` become `after Ns`, `[10s elapsed]` `[Ns elapsed]`;
//! - the `random` attribute of `null_data_source` (read while planning, so
//!   not in any state yet) becomes `<random>`;
//! - apply progress lines (`ADDR: Creating...`, `ADDR: Creation complete
//!   ...`) are stably sorted by address: independent resources finish in
//!   any order, while each address keeps the order of its own lines
//!   (dependency order is covered by gantry-iac's engine tests).
//!
//! `GANTRY_BLESS=1 cargo test -p gantry --test iac` rewrites the goldens;
//! `GANTRY_IAC_CASE=substring` runs only the matching cases.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use regex::Regex;

const GOLDEN_FILES: &[&str] = &[
    "plan.txt",
    "plan.json",
    "apply.txt",
    "plan2.txt",
    "apply2.txt",
    "expected.txt",
    "args",
    "env",
    "rm",
];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/iac")
}

fn bless() -> bool {
    std::env::var("GANTRY_BLESS").is_ok_and(|v| v == "1")
}

/// Copies a case's configuration (not its goldens, not `step2/`).
fn copy_case(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create working copy");
    let mut entries: Vec<_> = fs::read_dir(from)
        .expect("read case dir")
        .map(|e| e.expect("dir entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if GOLDEN_FILES.contains(&name.as_str()) || name == "step2" {
            continue;
        }
        let path = e.path();
        if path.is_dir() {
            copy_case(&path, &to.join(&name));
        } else {
            fs::copy(&path, to.join(&name)).expect("copy case file");
        }
    }
}

fn lines_of(path: &Path) -> Vec<String> {
    match fs::read_to_string(path) {
        Ok(t) => t
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect(),
        Err(_) => Vec::new(),
    }
}

struct Normaliser {
    dir: String,
    randoms: Vec<(String, String)>,
    uuid: Regex,
    timestamp: Regex,
    after: Regex,
    elapsed: Regex,
    data_random: Regex,
}

impl Normaliser {
    fn new(dir: &Path) -> Self {
        Normaliser {
            dir: dir.to_string_lossy().into_owned(),
            randoms: Vec::new(),
            // invariant: the patterns are literals that compile
            uuid: Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
                .unwrap(),
            timestamp: Regex::new(
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            )
            .unwrap(),
            after: Regex::new(r"after \d+(\.\d+)?m?s").unwrap(),
            elapsed: Regex::new(r"\[\d+s elapsed\]").unwrap(),
            data_random: Regex::new(r#""random": "\d+""#).unwrap(),
        }
    }

    /// Learns the random values in the state of `dir` after an apply.
    fn learn_state(&mut self, dir: &Path, suffix: &str) {
        let Ok(text) = fs::read_to_string(dir.join("terraform.tfstate")) else {
            return;
        };
        let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
        let mut found = Vec::new();
        for r in state["resources"].as_array().into_iter().flatten() {
            let ty = r["type"].as_str().unwrap_or_default();
            if r["mode"] != "managed" {
                continue;
            }
            let attrs: &[&str] = if ty.starts_with("random_") {
                &["id", "hex", "b64_std", "b64_url", "dec", "result"]
            } else if ty == "null_resource" || ty == "terraform_data" {
                &["id"]
            } else {
                continue;
            };
            let module = r["module"]
                .as_str()
                .map(|m| format!("{m}."))
                .unwrap_or_default();
            let base = format!("{module}{ty}.{}", r["name"].as_str().unwrap_or_default());
            for inst in r["instances"].as_array().into_iter().flatten() {
                let key = match &inst["index_key"] {
                    serde_json::Value::Number(n) => format!("[{n}]"),
                    serde_json::Value::String(s) => format!("[{s:?}]"),
                    _ => String::new(),
                };
                for a in attrs {
                    if let Some(v) = inst["attributes"][*a].as_str()
                        && v.len() >= 6
                    {
                        found.push((v.to_owned(), format!("<{base}{key}.{a}{suffix}>")));
                    }
                }
            }
        }
        for (v, name) in found {
            if !self.randoms.iter().any(|(known, _)| *known == v) {
                self.randoms.push((v, name));
            }
        }
        // Longest first, so that no value is replaced inside another.
        self.randoms
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    }

    fn apply(&self, text: &str) -> String {
        let mut t = text.replace(&self.dir, "$DIR");
        for (v, name) in &self.randoms {
            t = t.replace(v.as_str(), name);
        }
        let t = self.uuid.replace_all(&t, "<uuid>");
        let t = self.timestamp.replace_all(&t, "<timestamp>");
        let t = self.after.replace_all(&t, "after Ns");
        let t = self.elapsed.replace_all(&t, "[Ns elapsed]");
        self.data_random
            .replace_all(&t, r#""random": "<random>""#)
            .into_owned()
    }

    /// `apply` plus the stable sort of the progress lines by address.
    fn apply_output(&self, text: &str) -> String {
        let text = self.apply(text);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let is_progress = |l: &str| {
            l.split_once(": ").is_some_and(|(addr, rest)| {
                !addr.contains(' ') || addr.contains(" (deposed object ")
            } && (rest.ends_with("...\n") || rest.contains(" complete after ")))
        };
        let mut out = String::new();
        let mut i = 0;
        while i < lines.len() {
            if !is_progress(lines[i]) {
                out.push_str(lines[i]);
                i += 1;
                continue;
            }
            let start = i;
            while i < lines.len() && is_progress(lines[i]) {
                i += 1;
            }
            let mut block: Vec<&str> = lines[start..i].to_vec();
            block.sort_by_key(|l| l.split_once(": ").map_or(*l, |(a, _)| a));
            out.extend(block);
        }
        out
    }
}

struct Run<'a> {
    case: &'a Path,
    work: &'a Path,
    env: Vec<(String, String)>,
    failures: Vec<String>,
    blessed: Vec<String>,
}

impl Run<'_> {
    fn gantry(&self, args: &[String]) -> Output {
        let mut cmd = common::gantry();
        cmd.args(args).current_dir(self.work);
        for (k, _) in std::env::vars() {
            if k.starts_with("TF_VAR_") || k == "TF_WORKSPACE" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().expect("gantry runs")
    }

    fn name(&self) -> String {
        self.case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Compares `actual` with the golden file `file`, or rewrites it.
    fn golden(&mut self, file: &str, actual: &str) {
        let path = self.case.join(file);
        if bless() {
            let old = fs::read_to_string(&path).unwrap_or_default();
            if old != actual {
                fs::write(&path, actual).expect("write golden");
                self.blessed.push(format!("{}/{file}", self.name()));
            }
            return;
        }
        match fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => self.failures.push(format!(
                "{}/{file} differs\n{}",
                self.name(),
                diff(&expected, actual)
            )),
            Err(_) => self.failures.push(format!(
                "{}/{file} is missing (run with GANTRY_BLESS=1); actual:\n{actual}",
                self.name()
            )),
        }
    }

    fn fail(&mut self, what: &str, out: &Output) {
        self.failures.push(format!(
            "{}: {what} (exit {:?})\n--- stdout\n{}--- stderr\n{}",
            self.name(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
}

fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    let n = e.len().max(a.len());
    let mut shown = 0;
    for i in 0..n {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            out.push_str(&format!(
                "line {}:\n  expected: {}\n  actual:   {}\n",
                i + 1,
                x.unwrap_or(&"<end>"),
                y.unwrap_or(&"<end>")
            ));
            shown += 1;
            if shown == 8 {
                out.push_str("  ...\n");
                break;
            }
        }
    }
    if out.is_empty() {
        out.push_str("  (differs only in trailing newlines)\n");
    }
    out
}

fn pretty_json(text: &str) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
    let mut s = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}

/// One plan / show / apply / re-plan round; `n` is "" or "2".
fn round(run: &mut Run, norm: &mut Normaliser, args: &[String], n: &str) -> bool {
    let bin = format!("plan{n}.bin");
    let mut plan_args: Vec<String> = vec!["plan".into(), "-no-color".into(), format!("-out={bin}")];
    plan_args.extend(args.iter().cloned());
    let out = run.gantry(&plan_args);
    if !out.status.success() {
        run.fail(&format!("plan{n} failed"), &out);
        return false;
    }
    let text = norm.apply(&String::from_utf8_lossy(&out.stdout));
    run.golden(&format!("plan{n}.txt"), &text);
    if !out.stderr.is_empty() {
        run.fail(&format!("plan{n} wrote to stderr"), &out);
    }

    if n.is_empty() {
        let out = run.gantry(&["tf".into(), "show".into(), "-json".into(), bin.clone()]);
        if !out.status.success() {
            run.fail("show -json failed", &out);
            return false;
        }
        match pretty_json(&String::from_utf8_lossy(&out.stdout)) {
            Ok(json) => {
                let json = norm.apply(&json);
                run.golden("plan.json", &json);
            }
            Err(e) => {
                run.fail(&format!("show -json printed invalid JSON: {e}"), &out);
                return false;
            }
        }
    }

    let out = run.gantry(&[
        "apply".into(),
        "-no-color".into(),
        "-auto-approve".into(),
        "-parallelism=1".into(),
        bin,
    ]);
    if !out.status.success() {
        run.fail(&format!("apply{n} failed"), &out);
        return false;
    }
    norm.learn_state(run.work, if n.is_empty() { "" } else { "#2" });
    let text = norm.apply_output(&String::from_utf8_lossy(&out.stdout));
    run.golden(&format!("apply{n}.txt"), &text);

    let mut again: Vec<String> = vec![
        "plan".into(),
        "-no-color".into(),
        "-detailed-exitcode".into(),
    ];
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == "-replace" {
            skip = true;
            continue;
        }
        if a.starts_with("-replace=") {
            continue;
        }
        again.push(a.clone());
    }
    let out = run.gantry(&again);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(0) || !stdout.contains("No changes.") {
        run.fail(
            &format!("plan after apply{n} does not converge (expected exit 0 and \"No changes.\")"),
            &out,
        );
        return false;
    }
    true
}

fn good_case(run: &mut Run) {
    let mut norm = Normaliser::new(run.work);
    let args = lines_of(&run.case.join("args"));
    if !round(run, &mut norm, &args, "") {
        return;
    }
    let step2 = run.case.join("step2");
    if !step2.is_dir() {
        return;
    }
    for f in lines_of(&step2.join("rm")) {
        let p = run.work.join(&f);
        if p.is_dir() {
            fs::remove_dir_all(&p).expect("remove dir for step2");
        } else {
            fs::remove_file(&p).expect("remove file for step2");
        }
    }
    copy_case(&step2, run.work);
    let args2 = if step2.join("args").exists() {
        lines_of(&step2.join("args"))
    } else {
        args
    };
    if step2.join("expected.txt").exists() {
        // The second plan must fail (prevent_destroy and the like).
        failing_plan(run, &norm, &args2, "step2/expected.txt");
        return;
    }
    round(run, &mut norm, &args2, "2");
}

fn bad_case(run: &mut Run) {
    let norm = Normaliser::new(run.work);
    let args = lines_of(&run.case.join("args"));
    failing_plan(run, &norm, &args, "expected.txt");
}

/// A plan that must fail: its exit code and stderr are the golden `file`.
fn failing_plan(run: &mut Run, norm: &Normaliser, extra: &[String], file: &str) {
    let mut args: Vec<String> = vec!["plan".into(), "-no-color".into(), "-input=false".into()];
    args.extend(extra.iter().cloned());
    let out = run.gantry(&args);
    let stderr = norm.apply(&String::from_utf8_lossy(&out.stderr));
    let actual = format!(
        "exit: {}\n{stderr}",
        out.status
            .code()
            .map_or_else(|| "signal".to_string(), |c| c.to_string())
    );
    run.golden(file, &actual);
    if out.status.success() {
        run.fail("a bad case must fail", &out);
    }
    if stderr.contains("panicked") {
        run.fail("gantry panicked", &out);
    }
    // Every error names where it is (`--> FILE:LINE:COL`), except errors
    // about the command line itself (cases named `bad_cli_*`).
    if run.name().starts_with("bad_cli_") {
        return;
    }
    // invariant: literal patterns that compile
    let error = Regex::new(r"(?m)^error").unwrap();
    let located = Regex::new(r"(?m)^\s*--> [\w./-]+\.(tf|tfvars|json):\d+:\d+$").unwrap();
    let (errors, locations) = (
        error.find_iter(&stderr).count(),
        located.find_iter(&stderr).count(),
    );
    if errors == 0 || locations < errors {
        run.fail(
            &format!("{errors} error(s) but {locations} file:line:col location(s)"),
            &out,
        );
    }
}

#[test]
fn iac_golden_cases() {
    let filter = std::env::var("GANTRY_IAC_CASE").unwrap_or_default();
    let mut cases: Vec<PathBuf> = fs::read_dir(cases_dir())
        .expect("tests/iac exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let (mut good, mut bad) = (0, 0);
    let mut failures = Vec::new();
    let mut blessed = Vec::new();
    for case in &cases {
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let is_bad = case.join("expected.txt").exists() || name.starts_with("bad_");
        if is_bad {
            bad += 1;
        } else {
            good += 1;
        }
        if !name.contains(&filter) {
            continue;
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        let work = tmp.path().join(&name);
        copy_case(case, &work);
        let env: Vec<(String, String)> = lines_of(&case.join("env"))
            .into_iter()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let mut run = Run {
            case,
            work: &work,
            env,
            failures: Vec::new(),
            blessed: Vec::new(),
        };
        if is_bad {
            bad_case(&mut run);
        } else {
            good_case(&mut run);
        }
        failures.append(&mut run.failures);
        blessed.append(&mut run.blessed);
    }
    for b in &blessed {
        eprintln!("blessed {b}");
    }
    assert!(
        good >= 45 && bad >= 18,
        "expected at least 45 good and 18 bad cases, found {good} and {bad}"
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The normaliser replaces what varies between runs and nothing else.
#[test]
fn normaliser_replaces_only_nondeterminism() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = serde_json::json!({
        "version": 4,
        "resources": [
            { "mode": "managed", "type": "random_id", "name": "x", "instances": [
                { "attributes": { "hex": "a1b2c3d4e5f60718", "id": "obLD1OX2Bxg", "byte_length": 8 } } ] },
            { "mode": "managed", "type": "null_resource", "name": "n", "module": "module.m",
              "instances": [ { "index_key": "k", "attributes": { "id": "1234567890123" } } ] },
            { "mode": "managed", "type": "local_file", "name": "f", "instances": [
                { "attributes": { "id": "0123456789abcdef" } } ] }
        ]
    });
    fs::write(dir.path().join("terraform.tfstate"), state.to_string()).expect("write state");
    let mut n = Normaliser::new(dir.path());
    n.learn_state(dir.path(), "");
    let text = format!(
        "{}/x a1b2c3d4e5f60718 [id=1234567890123] 0123456789abcdef 2024-01-02T03:04:05Z after 12s 0190f0e0-1a2b-7c3d-8e4f-a0b1c2d3e4f5",
        dir.path().display()
    );
    assert_eq!(
        n.apply(&text),
        "$DIR/x <random_id.x.hex> [id=<module.m.null_resource.n[\"k\"].id>] 0123456789abcdef <timestamp> after Ns <uuid>"
    );
}
