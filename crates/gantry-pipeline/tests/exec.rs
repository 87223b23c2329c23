//! Host-shell executor tests: real shells, real processes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gantry_pipeline::exec::{
    AnnotationLevel, ExecError, JobState, LogLine, MAX_LINE_BYTES, Outcome, Shell, StepResult,
    StepSpec, cleanup_job, run_step,
};
use tokio::sync::watch;

struct Job {
    _dir: tempfile::TempDir,
    state: JobState,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = dir.path().join("workspace");
        let temp = dir.path().join("temp");
        std::fs::create_dir_all(&ws).expect("workspace");
        std::fs::create_dir_all(&temp).expect("temp");
        let mut base = BTreeMap::new();
        base.insert(
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        );
        base.insert(
            "HOME".to_string(),
            std::env::var("HOME").unwrap_or("/root".into()),
        );
        base.insert("CI".to_string(), "true".to_string());
        base.insert("GITHUB_RUN_ID".to_string(), "42".to_string());
        Job {
            _dir: dir,
            state: JobState::new(ws, temp, base),
        }
    }

    fn ws(&self) -> &Path {
        &self.state.workspace
    }

    async fn run(&mut self, spec: &StepSpec) -> (StepResult, Vec<LogLine>) {
        let (_tx, rx) = watch::channel(false);
        self.run_with(spec, rx).await
    }

    async fn run_with(
        &mut self,
        spec: &StepSpec,
        rx: watch::Receiver<bool>,
    ) -> (StepResult, Vec<LogLine>) {
        let mut lines = Vec::new();
        let res = run_step(spec, &mut self.state, rx, &mut |l| lines.push(l))
            .await
            .expect("step starts");
        (res, lines)
    }
}

fn bash(script: &str) -> StepSpec {
    StepSpec::new(Shell::Bash, script)
}

fn out(lines: &[LogLine]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Out(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn err(lines: &[LogLine]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Err(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn all_text(lines: &[LogLine]) -> String {
    format!("{lines:?}")
}

/// A process that exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_string));
            !matches!(state.as_deref(), Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

fn read_pid(p: &Path) -> u32 {
    std::fs::read_to_string(p)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid")
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{}-{nanos}", std::process::id())
}

// ---------------------------------------------------------------- shells

#[tokio::test]
async fn bash_step_succeeds_and_sees_workspace() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash(
            "echo hello; pwd; echo \"$GITHUB_WORKSPACE\"; echo \"$BASH_VERSION\" | cut -c1",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    let o = out(&lines);
    assert_eq!(o[0], "hello");
    let ws = job.ws().to_string_lossy().to_string();
    assert_eq!(o[1], ws);
    assert_eq!(o[2], ws);
    assert!(!o[3].is_empty(), "bash sets BASH_VERSION");
}

#[tokio::test]
async fn sh_step_runs_with_errexit() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&StepSpec::new(Shell::Sh, "echo one\nfalse\necho two"))
        .await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(1) });
    assert_eq!(out(&lines), vec!["one"]);
    // The script file has the .sh extension.
    let (_, lines) = job.run(&StepSpec::new(Shell::Sh, "echo \"$0\"")).await;
    assert!(out(&lines)[0].ends_with(".sh"), "{lines:?}");
}

#[tokio::test]
async fn python_step_runs_and_writes_output() {
    let mut job = Job::new();
    let script = "import os, sys\nprint('py', sys.version_info[0])\nprint(os.path.splitext(sys.argv[0])[1])\nwith open(os.environ['GITHUB_OUTPUT'], 'a') as f:\n    f.write('answer=42\\n')\n";
    let (res, lines) = job.run(&StepSpec::new(Shell::Python, script)).await;
    assert_eq!(res.outcome, Outcome::Success, "{lines:?}");
    assert_eq!(out(&lines), vec!["py 3", ".py"]);
    assert_eq!(res.outputs.get("answer").map(String::as_str), Some("42"));
}

#[tokio::test]
async fn python_exception_fails_step() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&StepSpec::new(Shell::Python, "raise SystemExit(3)"))
        .await;
    assert_eq!(
        res.outcome,
        Outcome::Failure { exit_code: Some(3) },
        "{lines:?}"
    );
}

#[tokio::test]
async fn custom_shell_template() {
    let mut job = Job::new();
    let shell = Shell::parse("bash -e {0}").expect("custom shell");
    assert_eq!(shell, Shell::Custom("bash -e {0}".into()));
    // No pipefail in `bash -e`: the pipeline's status is `true`'s.
    let (res, lines) = job
        .run(&StepSpec::new(
            shell.clone(),
            "false | true\necho \"$0\"\nfalse\necho unreachable",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(1) });
    let o = out(&lines);
    assert_eq!(o.len(), 1, "{o:?}");
    assert!(o[0].ends_with(".sh"));
}

#[tokio::test]
async fn bash_uses_pipefail() {
    let mut job = Job::new();
    let (res, lines) = job.run(&bash("false | true\necho after")).await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(1) });
    assert!(out(&lines).is_empty());
}

#[tokio::test]
async fn default_shell_is_bash_without_pipefail() {
    let shell = Shell::default_for_host();
    assert_eq!(shell, Shell::Custom("bash -e {0}".into()));
    let mut job = Job::new();
    let (res, _) = job.run(&StepSpec::new(shell, "false | true")).await;
    assert_eq!(res.outcome, Outcome::Success);
}

#[test]
fn shell_parse_rejects_unknown() {
    assert_eq!(Shell::parse("bash"), Ok(Shell::Bash));
    assert_eq!(Shell::parse(" python "), Ok(Shell::Python));
    assert!(Shell::parse("fish").is_err());
    assert!(Shell::parse("cmd").is_err());
    assert!(Shell::parse("perl '{0}").is_err());
}

#[tokio::test]
async fn missing_shell_is_an_exec_error() {
    let mut job = Job::new();
    let spec = StepSpec::new(Shell::Custom("no-such-shell-xyz -e {0}".into()), "echo hi");
    let (_tx, rx) = watch::channel(false);
    let r = run_step(&spec, &mut job.state, rx, &mut |_| {}).await;
    match r {
        Err(ExecError::ShellNotFound { program, .. }) => assert_eq!(program, "no-such-shell-xyz"),
        other => panic!("expected ShellNotFound, got {other:?}"),
    }
    // pwsh is not installed here: a clear error naming it.
    let path = std::env::var("PATH").unwrap_or_default();
    if !path.split(':').any(|d| Path::new(d).join("pwsh").exists()) {
        let (_tx, rx) = watch::channel(false);
        let r = run_step(
            &StepSpec::new(Shell::Pwsh, "echo hi"),
            &mut job.state,
            rx,
            &mut |_| {},
        )
        .await;
        let e = r.expect_err("pwsh missing");
        assert!(e.to_string().contains("`pwsh`"), "{e}");
    }
}

#[tokio::test]
async fn exit_codes_are_reported() {
    let mut job = Job::new();
    let (res, _) = job.run(&bash("exit 7")).await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(7) });
    let (res, _) = job.run(&bash("kill -KILL $$")).await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: None });
    let (res, _) = job.run(&bash("true")).await;
    assert_eq!(res.outcome, Outcome::Success);
}

// ---------------------------------------------------------------- files

#[tokio::test]
async fn outputs_single_and_multiline() {
    let mut job = Job::new();
    let script = r#"
echo "single=one two" >> "$GITHUB_OUTPUT"
{
  echo "multi<<EOF_DELIM"
  echo "line 1"
  echo "a=b"
  echo "EOF_DELIM"
} >> "$GITHUB_OUTPUT"
echo "empty=" >> "$GITHUB_OUTPUT"
echo "single=overridden" >> "$GITHUB_OUTPUT"
"#;
    let (res, _) = job.run(&bash(script)).await;
    assert_eq!(res.outcome, Outcome::Success);
    assert_eq!(res.outputs["single"], "overridden");
    assert_eq!(res.outputs["multi"], "line 1\na=b");
    assert_eq!(res.outputs["empty"], "");
    assert!(res.annotations.is_empty());
}

#[tokio::test]
async fn malformed_output_fails_with_error_annotation() {
    let mut job = Job::new();
    let (res, _) = job
        .run(&bash(
            "echo good=1 >> $GITHUB_OUTPUT\necho 'not a pair' >> $GITHUB_OUTPUT",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(0) });
    assert_eq!(res.outputs["good"], "1");
    assert_eq!(res.annotations.len(), 1);
    assert_eq!(res.annotations[0].level, AnnotationLevel::Error);
    assert!(
        res.annotations[0].message.contains("'not a pair'"),
        "{:?}",
        res.annotations
    );

    let (res, _) = job
        .run(&bash("printf 'x<<END\\nvalue\\n' >> $GITHUB_OUTPUT"))
        .await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(0) });
    assert!(
        res.annotations[0]
            .message
            .contains("matching delimiter not found 'END'")
    );
    assert!(!res.outputs.contains_key("x"));
}

#[tokio::test]
async fn env_propagates_to_later_steps() {
    let mut job = Job::new();
    let script = "echo FOO=bar >> $GITHUB_ENV\nprintf 'ML<<X\\na\\nb\\nX\\n' >> $GITHUB_ENV\necho GITHUB_RUN_ID=hijack >> $GITHUB_ENV\necho \"now:${FOO:-unset}\"";
    let (res, lines) = job.run(&bash(script)).await;
    assert_eq!(res.outcome, Outcome::Success);
    assert_eq!(
        out(&lines),
        vec!["now:unset"],
        "GITHUB_ENV applies to later steps only"
    );
    assert_eq!(job.state.env["FOO"], "bar");

    let (_, lines) = job
        .run(&bash(
            "echo \"$FOO\"; echo \"$ML\" | tr '\\n' ,; echo; echo \"$GITHUB_RUN_ID\"",
        ))
        .await;
    assert_eq!(out(&lines), vec!["bar", "a,b,", "42"]);

    // Step env wins over GITHUB_ENV.
    let mut spec = bash("echo \"$FOO\"");
    spec.env.insert("FOO".into(), "from-step".into());
    let (_, lines) = job.run(&spec).await;
    assert_eq!(out(&lines), vec!["from-step"]);
}

#[tokio::test]
async fn node_options_is_refused_in_github_env() {
    let mut job = Job::new();
    let (res, _) = job
        .run(&bash(
            "echo NODE_OPTIONS=--require=/tmp/evil.js >> $GITHUB_ENV\necho OK=1 >> $GITHUB_ENV",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    assert!(!job.state.env.contains_key("NODE_OPTIONS"));
    assert_eq!(job.state.env["OK"], "1");
    assert!(
        res.annotations
            .iter()
            .any(|a| a.message.contains("NODE_OPTIONS"))
    );
}

#[tokio::test]
async fn github_path_is_prepended_for_later_steps() {
    let mut job = Job::new();
    for name in ["one", "two"] {
        let dir = job.ws().join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        let tool = dir.join("mytool");
        std::fs::write(&tool, format!("#!/bin/sh\necho tool-{name}\n")).expect("tool");
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&tool)
            .status()
            .expect("chmod");
    }
    let (res, _) = job
        .run(&bash("echo \"$GITHUB_WORKSPACE/one\" >> \"$GITHUB_PATH\""))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    let (_, lines) = job.run(&bash("mytool")).await;
    assert_eq!(out(&lines), vec!["tool-one"]);
    job.run(&bash("echo \"$GITHUB_WORKSPACE/two\" >> \"$GITHUB_PATH\""))
        .await;
    let (_, lines) = job.run(&bash("mytool; echo \"$PATH\"")).await;
    let o = out(&lines);
    assert_eq!(o[0], "tool-two", "most recent entry first");
    let ws = job.ws().to_string_lossy().to_string();
    assert!(o[1].starts_with(&format!("{ws}/two:{ws}/one:")), "{}", o[1]);
    assert_eq!(job.state.path.len(), 2);
}

#[tokio::test]
async fn summary_accumulates_across_steps() {
    let mut job = Job::new();
    let (r1, _) = job
        .run(&bash("echo '# Title' >> $GITHUB_STEP_SUMMARY"))
        .await;
    let (r2, _) = job
        .run(&bash("echo 'second' >> $GITHUB_STEP_SUMMARY"))
        .await;
    assert_eq!(r1.summary, "# Title\n");
    assert_eq!(r2.summary, "second\n");
    assert_eq!(job.state.summary, "# Title\nsecond\n");
}

#[tokio::test]
async fn state_file_and_save_state() {
    let mut job = Job::new();
    let (res, _) = job
        .run(&bash(
            "echo pid=123 >> $GITHUB_STATE\necho '::save-state name=other::v'",
        ))
        .await;
    assert_eq!(res.state["pid"], "123");
    assert_eq!(res.state["other"], "v");
}

#[tokio::test]
async fn per_step_files_are_fresh() {
    let mut job = Job::new();
    let (_, l1) = job
        .run(&bash("echo $GITHUB_OUTPUT; echo a=1 >> $GITHUB_OUTPUT"))
        .await;
    let (r2, l2) = job
        .run(&bash("echo $GITHUB_OUTPUT; wc -c < $GITHUB_OUTPUT"))
        .await;
    assert_ne!(out(&l1)[0], out(&l2)[0]);
    assert_eq!(out(&l2)[1].trim(), "0");
    assert!(r2.outputs.is_empty());
    // The command files are removed after the step.
    assert!(!Path::new(&out(&l1)[0]).exists());
}

// ---------------------------------------------------------------- commands

#[tokio::test]
async fn set_output_command_is_supported_with_a_warning() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash(
            "echo '::set-output name=x::a%0Ab'\necho '::set-output::no name'",
        ))
        .await;
    assert_eq!(res.outputs["x"], "a\nb");
    assert!(
        res.annotations
            .iter()
            .any(|a| a.level == AnnotationLevel::Warning && a.message.contains("deprecated"))
    );
    // Missing name: the command fails the step, like the runner.
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(0) });
    assert!(
        out(&lines).is_empty(),
        "command lines are not printed: {lines:?}"
    );
}

#[tokio::test]
async fn group_endgroup_and_debug() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash("echo '::group::Build %25 it'\necho inside\necho '::endgroup::'\necho '::debug::dbg msg'"))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    assert_eq!(
        lines,
        vec![
            LogLine::Group("Build % it".into()),
            LogLine::Out("inside".into()),
            LogLine::EndGroup,
            LogLine::Debug("dbg msg".into()),
        ]
    );
}

#[tokio::test]
async fn annotations_with_properties_and_escapes() {
    let mut job = Job::new();
    let script = r#"
echo '::error file=src/a%2Cb.rs,line=10,col=5,endLine=12,endColumn=7,title=Bad%3A thing::first%0Asecond'
echo '::warning::just a warning'
echo '::notice file=x.md::note' >&2
echo '::error line=oops::bad line number'
"#;
    let (res, lines) = job.run(&bash(script)).await;
    assert_eq!(
        res.outcome,
        Outcome::Success,
        "an ::error:: does not fail the step"
    );
    let a = &res.annotations;
    assert_eq!(a.len(), 4, "{a:?}");
    assert_eq!(a[0].level, AnnotationLevel::Error);
    assert_eq!(a[0].file.as_deref(), Some("src/a,b.rs"));
    assert_eq!(
        (a[0].line, a[0].col, a[0].end_line, a[0].end_column),
        (Some(10), Some(5), Some(12), Some(7))
    );
    assert_eq!(a[0].title.as_deref(), Some("Bad: thing"));
    assert_eq!(a[0].message, "first\nsecond");
    assert_eq!(a[1].level, AnnotationLevel::Warning);
    assert_eq!(a[1].message, "just a warning");
    // The notice came on stderr (commands there count too); its position
    // relative to stdout lines is not defined.
    let notice = a
        .iter()
        .find(|x| x.level == AnnotationLevel::Notice)
        .expect("notice from stderr");
    assert_eq!(notice.file.as_deref(), Some("x.md"));
    assert_eq!(notice.message, "note");
    let bad = a
        .iter()
        .find(|x| x.message == "bad line number")
        .expect("4th");
    assert_eq!(bad.line, None);
    assert_eq!(
        lines
            .iter()
            .filter(|l| matches!(l, LogLine::Annotation(_)))
            .count(),
        4
    );
}

#[tokio::test]
async fn stop_commands_suspends_processing() {
    let mut job = Job::new();
    let script = r#"
echo '::stop-commands::tok123'
echo '::set-output name=ignored::x'
echo '::error::not an annotation'
echo '::tok123::'
echo '::set-output name=after::y'
"#;
    let (res, lines) = job.run(&bash(script)).await;
    assert!(!res.outputs.contains_key("ignored"));
    assert_eq!(res.outputs["after"], "y");
    assert!(
        res.annotations
            .iter()
            .all(|a| a.message != "not an annotation")
    );
    assert_eq!(
        out(&lines),
        vec!["::set-output name=ignored::x", "::error::not an annotation"]
    );
}

#[tokio::test]
async fn unknown_commands_and_lookalikes_print_as_plain_lines() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash(
            "echo '::frobnicate::x'\necho '::ERROR::upper'\necho ':: not ::'\necho '::error'",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    assert!(res.annotations.is_empty());
    assert_eq!(
        out(&lines),
        vec!["::frobnicate::x", "::ERROR::upper", ":: not ::", "::error"]
    );
}

#[tokio::test]
async fn set_env_and_add_path_commands_are_disabled() {
    let mut job = Job::new();
    let (res, _) = job.run(&bash("echo '::set-env name=A::b'")).await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(0) });
    assert!(!job.state.env.contains_key("A"));
    assert!(res.annotations[0].message.contains("disabled"));
    let (res, _) = job.run(&bash("echo '::add-path::/evil'")).await;
    assert_eq!(res.outcome, Outcome::Failure { exit_code: Some(0) });
    assert!(job.state.path.is_empty());
}

#[tokio::test]
async fn echo_on_prints_commands() {
    let mut job = Job::new();
    let (_, lines) = job
        .run(&bash("echo '::echo::on'\necho '::debug::d'\necho '::add-mask::hideme'\necho '::echo::off'\necho '::debug::e'"))
        .await;
    assert_eq!(
        lines,
        vec![
            LogLine::Out("::debug::d".into()),
            LogLine::Debug("d".into()),
            LogLine::Out("::add-mask::***".into()),
            LogLine::Out("::echo::off".into()),
            LogLine::Debug("e".into()),
        ]
    );
}

// ---------------------------------------------------------------- masking

#[tokio::test]
async fn secrets_are_masked_on_stdout_and_stderr() {
    let mut job = Job::new();
    job.state.masks.push("s3cr3t-Value".into());
    let mut spec = bash(
        "echo \"token=$TOKEN!\"\necho \"$TOKEN\" >&2\necho \"::group::$TOKEN\"\necho '::endgroup::'",
    );
    spec.env.insert("TOKEN".into(), "s3cr3t-Value".into());
    let (res, lines) = job.run(&spec).await;
    assert_eq!(res.outcome, Outcome::Success);
    assert!(!all_text(&lines).contains("s3cr3t"), "{lines:?}");
    assert_eq!(out(&lines), vec!["token=***!"]);
    assert_eq!(err(&lines), vec!["***"]);
    // stdout and stderr interleave arbitrarily; only per-stream order is kept.
    assert!(lines.contains(&LogLine::Group("***".into())), "{lines:?}");
}

#[tokio::test]
async fn multi_line_secret_is_masked_line_by_line() {
    let mut job = Job::new();
    job.state
        .masks
        .push("-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----".into());
    let (_, lines) = job
        .run(&bash(
            "printf -- '-----BEGIN KEY-----\\nAAAAbbbbCCCC\\n-----END KEY-----\\nplain\\n'",
        ))
        .await;
    assert_eq!(out(&lines), vec!["***", "***", "***", "plain"]);
}

#[tokio::test]
async fn add_mask_hides_value_from_then_on_and_in_later_steps() {
    let mut job = Job::new();
    let script = "echo 'before dyn-secret-77'\necho '::add-mask::dyn-secret-77'\necho 'after dyn-secret-77'\necho dyn-secret-77 >&2\necho out=dyn-secret-77 >> $GITHUB_OUTPUT";
    let (res, lines) = job.run(&bash(script)).await;
    assert_eq!(out(&lines), vec!["before dyn-secret-77", "after ***"]);
    assert_eq!(err(&lines), vec!["***"]);
    assert!(
        !all_text(&lines).contains("::add-mask::"),
        "the add-mask line is hidden"
    );
    assert_eq!(
        res.outputs["out"], "dyn-secret-77",
        "outputs are not masked"
    );
    assert!(job.state.masks.contains(&"dyn-secret-77".to_string()));
    let (_, lines) = job.run(&bash("echo dyn-secret-77")).await;
    assert_eq!(out(&lines), vec!["***"]);
    // Empty add-mask: a warning, nothing registered.
    let (res, _) = job.run(&bash("echo '::add-mask::'")).await;
    assert_eq!(res.outcome, Outcome::Success);
    assert_eq!(res.annotations[0].level, AnnotationLevel::Warning);
}

#[tokio::test]
async fn secrets_are_masked_in_annotations_and_summary() {
    let mut job = Job::new();
    job.state.masks.push("hunter2xyz".into());
    let script = "echo '::error file=hunter2xyz.rs,title=t hunter2xyz::leak hunter2xyz'\necho 'pw: hunter2xyz' >> $GITHUB_STEP_SUMMARY\necho 'bad hunter2xyz line' >> $GITHUB_OUTPUT";
    let (res, lines) = job.run(&bash(script)).await;
    let a = &res.annotations[0];
    assert_eq!(a.message, "leak ***");
    assert_eq!(a.file.as_deref(), Some("***.rs"));
    assert_eq!(a.title.as_deref(), Some("t ***"));
    assert_eq!(res.summary, "pw: ***\n");
    assert_eq!(job.state.summary, "pw: ***\n");
    // The file-command error quotes the bad line, masked.
    assert!(res.annotations[1].message.contains("bad *** line"));
    assert!(!all_text(&lines).contains("hunter2"));
}

// ---------------------------------------------------------------- environment

#[tokio::test]
async fn environment_is_clean() {
    // Every variable of the test process that the job did not pass on.
    let leaked: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| {
            !matches!(
                k.as_str(),
                "PATH" | "HOME" | "CI" | "PWD" | "SHLVL" | "_" | "OLDPWD"
            )
        })
        .filter(|k| !k.starts_with("GITHUB_") && !k.starts_with("RUNNER_"))
        .collect();
    assert!(
        std::env::var("CARGO_MANIFEST_DIR").is_ok() || !leaked.is_empty(),
        "the test process should have variables of its own"
    );
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash("env -0 | tr '\\0' '\\n' | cut -d= -f1"))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    let seen = out(&lines);
    for k in &leaked {
        assert!(!seen.contains(k), "{k} leaked into the step: {seen:?}");
    }
    for k in [
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_STATE",
        "GITHUB_WORKSPACE",
        "RUNNER_TEMP",
        "GITHUB_ACTION",
        "CI",
        "HOME",
        "PATH",
    ] {
        assert!(seen.iter().any(|s| s == k), "{k} missing: {seen:?}");
    }
}

#[tokio::test]
async fn env_value_injection_is_inert() {
    let marker = PathBuf::from(format!("/tmp/pwned-{}", unique("exec")));
    let value = format!("\"; touch {}; echo \"", marker.display());
    let mut job = Job::new();
    let mut spec = bash("echo \"$VALUE\"");
    spec.env.insert("VALUE".into(), value.clone());
    let (res, lines) = job.run(&spec).await;
    assert_eq!(res.outcome, Outcome::Success);
    assert_eq!(out(&lines), vec![value]);
    assert!(!marker.exists(), "injection created {}", marker.display());
}

#[tokio::test]
async fn step_id_is_github_action() {
    let mut job = Job::new();
    let mut spec = bash("echo $GITHUB_ACTION");
    let (_, lines) = job.run(&spec).await;
    assert_eq!(out(&lines), vec!["__run"]);
    spec.id = Some("build".into());
    let (_, lines) = job.run(&spec).await;
    assert_eq!(out(&lines), vec!["build"]);
}

#[tokio::test]
async fn working_directory_relative_to_workspace() {
    let mut job = Job::new();
    std::fs::create_dir_all(job.ws().join("sub/dir")).expect("mkdir");
    let mut spec = bash("pwd");
    spec.working_directory = Some("sub/dir".into());
    let (_, lines) = job.run(&spec).await;
    assert_eq!(
        out(&lines),
        vec![job.ws().join("sub/dir").to_string_lossy().to_string()]
    );

    spec.working_directory = Some("missing".into());
    let (_tx, rx) = watch::channel(false);
    let r = run_step(&spec, &mut job.state, rx, &mut |_| {}).await;
    assert!(
        matches!(r, Err(ExecError::WorkingDirectory { .. })),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- processes

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let mut job = Job::new();
    let mut spec = bash(
        "sleep 1000 &\necho $! > bg.pid\necho $$ > main.pid\necho started\nsleep 1000\necho never",
    );
    spec.timeout = Some(Duration::from_millis(1500));
    let t0 = std::time::Instant::now();
    let (res, lines) = job.run(&spec).await;
    assert_eq!(res.outcome, Outcome::TimedOut);
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(out(&lines), vec!["started"]);
    let bg = read_pid(&job.ws().join("bg.pid"));
    let main = read_pid(&job.ws().join("main.pid"));
    assert!(!alive(bg), "background grandchild {bg} survived");
    assert!(!alive(main), "shell {main} survived");
}

#[tokio::test]
async fn sigterm_ignoring_step_gets_sigkill_after_grace() {
    let mut job = Job::new();
    let mut spec = bash("trap '' TERM\necho $$ > main.pid\nwhile true; do sleep 0.1; done");
    spec.timeout = Some(Duration::from_millis(500));
    spec.kill_grace = Duration::from_millis(500);
    let (res, _) = job.run(&spec).await;
    assert_eq!(res.outcome, Outcome::TimedOut);
    assert!(!alive(read_pid(&job.ws().join("main.pid"))));
}

#[tokio::test]
async fn cancellation_via_watch_channel() {
    let mut job = Job::new();
    let (tx, rx) = watch::channel(false);
    let spec = bash("sleep 1000 &\necho $! > bg.pid\necho ready\nsleep 1000");
    let ws = job.ws().to_path_buf();
    let mut lines = Vec::new();
    let cancel = async {
        // Wait until the step is running, then cancel.
        for _ in 0..200 {
            if ws.join("bg.pid").exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tx.send(true).expect("receiver alive");
    };
    let mut sink = |l| lines.push(l);
    let (res, ()) = tokio::join!(run_step(&spec, &mut job.state, rx, &mut sink), cancel);
    let res = res.expect("started");
    assert_eq!(res.outcome, Outcome::Cancelled);
    assert!(!alive(read_pid(&ws.join("bg.pid"))));
}

#[tokio::test]
async fn already_cancelled_step_does_not_run() {
    let mut job = Job::new();
    let (_tx, rx) = watch::channel(true);
    let (res, lines) = job.run_with(&bash("touch ran"), rx).await;
    assert_eq!(res.outcome, Outcome::Cancelled);
    assert!(lines.is_empty());
    assert!(!job.ws().join("ran").exists());
}

#[tokio::test]
async fn background_process_survives_step_until_cleanup() {
    let mut job = Job::new();
    let t0 = std::time::Instant::now();
    let (res, _) = job
        .run(&bash("sleep 1000 &\necho $! > bg.pid\necho done"))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "a background process holding stdout must not hang the step"
    );
    let bg = read_pid(&job.ws().join("bg.pid"));
    assert!(alive(bg), "background process should outlive its step");
    assert_eq!(job.state.process_groups.len(), 1);
    cleanup_job(&mut job.state, Duration::from_secs(2)).await;
    assert!(!alive(bg));
    assert!(job.state.process_groups.is_empty());
}

// ---------------------------------------------------------------- output handling

#[tokio::test]
async fn huge_line_is_split() {
    let mut job = Job::new();
    let (res, lines) = job
        .run(&bash(
            "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo tail",
        ))
        .await;
    assert_eq!(res.outcome, Outcome::Success);
    let o = out(&lines);
    assert_eq!(o.last().map(String::as_str), Some("tail"));
    let pieces = &o[..o.len() - 1];
    assert_eq!(pieces.len(), 3);
    assert!(
        pieces
            .iter()
            .all(|p| p.len() <= MAX_LINE_BYTES && p.bytes().all(|b| b == b'a'))
    );
    assert_eq!(pieces.iter().map(String::len).sum::<usize>(), 3_000_000);
}

#[tokio::test]
async fn invalid_utf8_is_replaced() {
    let mut job = Job::new();
    let (_, lines) = job.run(&bash("printf 'a\\377b\\r\\n\\303\\251\\n'")).await;
    assert_eq!(out(&lines), vec!["a\u{FFFD}b", "é"]);
}

#[tokio::test]
async fn stream_order_is_kept_per_stream() {
    let mut job = Job::new();
    let (_, lines) = job
        .run(&bash(
            "for i in $(seq 1 500); do echo o$i; echo e$i >&2; done\nprintf 'no-newline'",
        ))
        .await;
    let o = out(&lines);
    let e = err(&lines);
    assert_eq!(o.len(), 501);
    assert_eq!(e.len(), 500);
    for i in 1..=500 {
        assert_eq!(o[i - 1], format!("o{i}"));
        assert_eq!(e[i - 1], format!("e{i}"));
    }
    assert_eq!(o[500], "no-newline");
}

#[tokio::test]
async fn job_state_round_trips_through_json() {
    let mut job = Job::new();
    job.run(&bash(
        "echo A=1 >> $GITHUB_ENV; echo /opt/x >> $GITHUB_PATH; echo s >> $GITHUB_STEP_SUMMARY",
    ))
    .await;
    let json = serde_json::to_string(&job.state).expect("serialise");
    let back: JobState = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, job.state);
    let spec = bash("echo hi");
    let back: StepSpec =
        serde_json::from_str(&serde_json::to_string(&spec).expect("ser")).expect("de");
    assert_eq!(back, spec);
}
