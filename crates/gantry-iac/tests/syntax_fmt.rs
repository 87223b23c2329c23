//! Golden pairs for `fmt::format`: `tests/syntax/fmt/NAME.in.tf` formats
//! to `NAME.out.tf`, and formatting is idempotent.

use std::path::PathBuf;

use gantry_iac::fmt::format;

#[test]
fn golden_pairs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/syntax/fmt");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/syntax/fmt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".in.tf"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 15, "only {} golden pairs", inputs.len());
    let mut failures = Vec::new();
    for input in &inputs {
        let shown = input.display().to_string();
        let expected_path = PathBuf::from(shown.replace(".in.tf", ".out.tf"));
        let text = std::fs::read_to_string(input).expect("read input");
        let want = std::fs::read_to_string(&expected_path).expect("read expected output");
        match format(&text) {
            Ok(got) => {
                if got != want {
                    failures.push(format!("--- {shown}\n=== want\n{want}=== got\n{got}"));
                }
                match format(&got) {
                    Ok(again) if again == got => {}
                    other => failures.push(format!("--- {shown}: not idempotent: {other:?}")),
                }
            }
            Err(e) => failures.push(format!("--- {shown}: {e}")),
        }
        // The expected output is itself canonical.
        if format(&want).as_deref() != Ok(want.as_str()) {
            failures.push(format!("--- {shown}: expected output is not a fixed point"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn syntax_errors_have_positions() {
    let cases: &[(&str, &str)] = &[
        (
            "locals {\n  a = 1 +\n}\n",
            "2:10: invalid expression; expected the start of an expression",
        ),
        (
            "a = 1\na = 2\n",
            "2:1: attribute redefined; the argument \"a\" was already set at 1:1, an argument may be set only once in a block",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(format(input), Err((*want).to_owned()), "{input:?}");
    }
}

/// Every loader input that parses formats to text that still parses and
/// is a fixed point.
#[test]
fn loader_inputs_format_idempotently() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/syntax/load");
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in std::fs::read_dir(&root).expect("tests/syntax/load exists") {
        let dir = dir.expect("dir entry").path();
        for file in std::fs::read_dir(&dir).expect("case dir") {
            let path = file.expect("file entry").path();
            if path.extension().is_none_or(|e| e != "tf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read case");
            let Ok(once) = format(&text) else { continue };
            checked += 1;
            if hcl_edit::parser::parse_body(&once).is_err() {
                failures.push(format!(
                    "{}: formatted text does not parse:\n{once}",
                    path.display()
                ));
            }
            if format(&once).as_deref() != Ok(once.as_str()) {
                failures.push(format!("{}: not idempotent", path.display()));
            }
        }
    }
    assert!(checked >= 40, "only {checked} inputs checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
