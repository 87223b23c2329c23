//! The README's commands still exist: every `gantry` invocation in its shell
//! blocks names real subcommands and flags, and the test command is real.

mod common;

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("README.md")
}

/// Lines of the README's ```sh blocks, with `\` continuations joined.
fn shell_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
        } else {
            pending.push_str(line);
            lines.push(std::mem::take(&mut pending));
        }
    }
    lines
}

#[test]
fn quickstart_has_the_two_commands() {
    let lines = shell_lines(&readme());
    assert!(
        lines
            .iter()
            .any(|l| l == "cargo run --release -p gantry -- up --demo"),
        "README quickstart builds and runs the demo: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l == "bash scripts/test"),
        "README names the test command: {lines:?}"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run exists");
    assert!(
        ci.contains("scripts/test"),
        ".ci/run runs the README's test command"
    );
    assert!(root.join("scripts/test").is_file());
    assert!(root.join("examples/demo/gantry.yml").is_file());
}

#[test]
fn every_gantry_command_in_the_readme_exists() {
    let lines = shell_lines(&readme());
    let invocations: Vec<Vec<String>> = lines
        .iter()
        .filter_map(|l| l.split_once("-p gantry -- ").map(|(_, rest)| rest))
        .map(|rest| rest.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert!(invocations.len() >= 2, "{lines:?}");
    for words in invocations {
        // Subcommands are the leading words that are not flags and not values.
        let mut path: Vec<&str> = Vec::new();
        for w in &words {
            if w.starts_with('-') || w.contains('.') || w.contains('/') {
                break;
            }
            path.push(w);
        }
        let out = common::gantry().args(&path).arg("--help").output().unwrap();
        assert!(
            out.status.success(),
            "`gantry {} --help` fails",
            path.join(" ")
        );
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(flag.as_str()),
                "`gantry {}` has no {flag}",
                path.join(" ")
            );
        }
    }
}
