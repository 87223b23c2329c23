//! `gantry plan` on a configuration with duplicate object keys: accepted
//! as Terraform accepts them (the last one wins), while an argument set
//! twice in a block is refused with both positions.

mod common;

use std::path::Path;

fn run(args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let out = common::gantry()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("gantry binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plan_uses_the_last_duplicate_key_and_refuses_redefined_arguments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        r#"locals {
  tags = { env = "dev", team = "a", env = "prod" }
}

resource "terraform_data" "d" {
  input = local.tags
}

output "tags" {
  value = jsonencode(local.tags)
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("terraform.tfvars"),
        "unused = { a = 1, a = 2 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("variables.tf"),
        "variable \"unused\" {\n  type = map(number)\n}\n",
    )
    .unwrap();
    let (code, out, err) = run(&["plan", "-no-color", "-detailed-exitcode"], dir.path());
    assert_eq!(code, Some(2), "changes planned\n{out}\n{err}");
    assert!(out.contains("+ env  = \"prod\""), "{out}");
    assert!(!out.contains("\"dev\""), "{out}");
    assert!(
        out.contains(r#"+ tags = "{\"env\":\"prod\",\"team\":\"a\"}""#),
        "{out}"
    );
    assert!(
        out.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    // `fmt -check` accepts the file as it is written.
    let main = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    let (code, _, err) = run(&["tf", "fmt", "-check"], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        main
    );

    std::fs::write(
        dir.path().join("main.tf"),
        "locals {\n  m = { a = 1, a = 2 }\n  a = 1\n  a = 2\n}\n",
    )
    .unwrap();
    let (code, _, err) = run(&["plan", "-no-color"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--> main.tf:4:3"), "{err}");
    assert!(
        err.contains("the argument \"a\" was already set at main.tf:3:3"),
        "{err}"
    );
}
