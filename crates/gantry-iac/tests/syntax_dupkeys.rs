//! Duplicate keys in object constructors, accepted as Terraform accepts
//! them (HCL evaluates every item; the last one with a key wins), while
//! duplicate arguments of a block stay an error, and positions in files
//! whose keys were rewritten for hcl-edit still point at the text as
//! written.

use std::path::Path;

use gantry_iac::engine::vars::Inputs;
use gantry_iac::engine::{self, Config, Options, World};
use gantry_iac::provider::Registry;
use gantry_iac::syntax::tfvars::{cli_value, parse_tfvars};
use gantry_iac::value::{Type, Value};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write fixture file");
    }
}

/// Loads and plans `files`: the plan, or every diagnostic on one line each.
async fn plan(files: &[(&str, &str)]) -> Result<engine::Plan, Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), files);
    let lines = |f: engine::Failure| -> Vec<String> {
        f.diagnostics
            .iter()
            .map(|d| d.one_line().replace(": error: ", ": "))
            .collect()
    };
    let cfg = Config::load(dir.path(), Registry::builtin()).map_err(lines)?;
    let inputs = Inputs::collect(dir.path(), &cfg.tree.module, &[], &[])
        .map_err(|ds| ds.iter().map(|d| d.one_line()).collect::<Vec<_>>())?
        .0;
    engine::plan(&cfg, &World::default(), &inputs, &Options::default())
        .await
        .map_err(lines)
}

async fn plan_ok(files: &[(&str, &str)]) -> engine::Plan {
    match plan(files).await {
        Ok(p) => p,
        Err(e) => panic!("plan failed:\n{}", e.join("\n")),
    }
}

/// An output's planned value as JSON text.
fn output(plan: &engine::Plan, name: &str) -> String {
    let o = plan
        .outputs
        .get(name)
        .unwrap_or_else(|| panic!("no output {name}"));
    o.after
        .as_ref()
        .unwrap_or_else(|| panic!("output {name} has no value"))
        .to_json()
        .to_string()
}

#[tokio::test]
async fn the_last_item_with_a_key_wins() {
    let p = plan_ok(&[(
        "main.tf",
        r#"
locals {
  k      = "dyn"
  m      = { a = 1, b = 2, a = 3 }
  quoted = { "k" = "x", k = "y", "k" = "z" }
  colons = { a: 1, a: 2 }
  many   = { a = 1, a = 2, a = 3, a = 4, a = 5 }
  lines = {
    x = "first"
    y = "kept"
    x = "second"
  }
}

output "m" { value = local.m }
output "quoted" { value = local.quoted }
output "colons" { value = local.colons }
output "many" { value = local.many }
output "lines" { value = local.lines }
output "exprkey" { value = { (local.k) = 1, (local.k) = 2 } }
output "templatekey" { value = { "${local.k}-t" = 1, "${local.k}-t" = 2 } }
output "keys" { value = keys({ z = 1, a = 2, z = 3, m = 4 }) }
output "json" { value = jsonencode({ b = 1, a = 2, b = { c = 1, c = 2 } }) }
output "nested" { value = { o = { x = 1, x = 2 }, o = { y = 3, y = 4 } } }
output "interp" { value = "${jsonencode({ q = 1, q = 2 })}" }
output "heredoc" {
  value = <<-EOT
    ${jsonencode({ h = "a", h = "b" })}
    EOT
}

resource "terraform_data" "d" {
  input = { tag = "old", other = 1, tag = "new" }
}
"#,
    )])
    .await;
    assert_eq!(output(&p, "m"), r#"{"a":3,"b":2}"#);
    assert_eq!(output(&p, "quoted"), r#"{"k":"z"}"#);
    assert_eq!(output(&p, "colons"), r#"{"a":2}"#);
    assert_eq!(output(&p, "many"), r#"{"a":5}"#);
    assert_eq!(output(&p, "lines"), r#"{"x":"second","y":"kept"}"#);
    assert_eq!(output(&p, "exprkey"), r#"{"dyn":2}"#);
    assert_eq!(output(&p, "templatekey"), r#"{"dyn-t":2}"#);
    // Object attributes are ordered by name, whatever the order written.
    assert_eq!(output(&p, "keys"), r#"["a","m","z"]"#);
    assert_eq!(output(&p, "json"), r#""{\"a\":2,\"b\":{\"c\":2}}""#);
    assert_eq!(output(&p, "nested"), r#"{"o":{"y":4}}"#);
    assert_eq!(output(&p, "interp"), r#""{\"q\":2}""#);
    assert_eq!(output(&p, "heredoc"), r#""{\"h\":\"b\"}\n""#);

    let d = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "terraform_data.d")
        .expect("terraform_data.d is planned");
    let input = d
        .after
        .as_ref()
        .and_then(|a| a.get_attr("input"))
        .expect("input is planned");
    assert_eq!(input.to_json().to_string(), r#"{"other":1,"tag":"new"}"#);
}

#[tokio::test]
async fn every_item_is_evaluated_and_errors_point_at_the_text_as_written() {
    // The first `a` is dropped but still evaluated, as in HCL.
    let text = "locals {\n  m = { a = local.nope, a = 1 }\n}\noutput \"m\" { value = local.m }\n";
    let err = plan(&[("main.tf", text)])
        .await
        .expect_err("undeclared local");
    assert!(
        err.iter().any(|e| e.starts_with("main.tf:2:13: ")),
        "{err:?}"
    );

    // An error after rewritten keys, on their line and on a later line.
    let text = "locals {\n  m = { a = 1, a = 2, a = 3, b = local.nope1 }\n  n = { c = 1, c = 2 }\n  o = local.nope2\n}\noutput \"m\" { value = [local.m, local.n, local.o] }\n";
    let err = plan(&[("main.tf", text)])
        .await
        .expect_err("undeclared locals");
    let col = text.lines().nth(1).unwrap().find("local.nope1").unwrap() + 1;
    assert!(
        err.iter()
            .any(|e| e.starts_with(&format!("main.tf:2:{col}: "))),
        "{err:?}"
    );
    assert!(
        err.iter().any(|e| e.starts_with("main.tf:4:7: ")),
        "{err:?}"
    );
}

/// The position hcl-edit reports for `text`, and for the same text with
/// the duplicate keys renamed (same length, so no rewrite): they must
/// agree.
#[tokio::test]
async fn parse_errors_after_rewritten_keys_keep_their_position() {
    let with_dups = "locals {\n  m = { a = 1, a = 2 }\n  n = { b = 1, b = 2, c = [1, 2 }\n}\n";
    let renamed = "locals {\n  m = { a = 1, q = 2 }\n  n = { b = 1, r = 2, c = [1, 2 }\n}\n";
    let got = plan(&[("main.tf", with_dups)])
        .await
        .expect_err("syntax error");
    let want = plan(&[("main.tf", renamed)])
        .await
        .expect_err("syntax error");
    assert_eq!(got, want);
    assert!(got[0].starts_with("main.tf:3:"), "{got:?}");
}

#[tokio::test]
async fn block_arguments_set_twice_stay_an_error_with_both_positions() {
    let err = plan(&[("main.tf", "locals {\n  a = { x = 1, x = 2 }\n  a = 2\n}\n")])
        .await
        .expect_err("argument set twice");
    assert_eq!(
        err,
        [
            "main.tf:3:3: attribute redefined; the argument \"a\" was already set at main.tf:2:3, an argument may be set only once in a block"
        ]
    );
    let err = plan(&[(
        "main.tf",
        "resource \"terraform_data\" \"d\" {\n  input = 1\n  triggers_replace = { t = 1, t = 2 }\n  input = 2\n}\n",
    )])
    .await
    .expect_err("argument set twice");
    assert_eq!(
        err,
        [
            "main.tf:4:3: attribute redefined; the argument \"input\" was already set at main.tf:2:3, an argument may be set only once in a block"
        ]
    );
}

#[test]
fn tfvars_files_and_cli_values_accept_duplicate_keys() {
    let vs = parse_tfvars(
        "t.tfvars",
        "m = { a = 1, a = 2 }\nn = {\n  x = { y = 1, y = 2 }\n  x = { z = 3 }\n}\ns = { \"k\" = \"v1\", \"k\" = \"v2\" }\n",
    )
    .expect("duplicate keys are accepted in tfvars");
    let got: Vec<String> = vs
        .iter()
        .map(|(k, v, l)| format!("{k}={} at {}", v.to_json(), l.position()))
        .collect();
    assert_eq!(
        got,
        [
            r#"m={"a":2} at t.tfvars:1:1"#,
            r#"n={"x":{"z":3}} at t.tfvars:2:1"#,
            r#"s={"k":"v2"} at t.tfvars:6:1"#,
        ]
    );
    // Errors after rewritten keys point at the text as written.
    let err = parse_tfvars("t.tfvars", "m = { a = 1, a = 2, b = var.x }\n")
        .expect_err("variables are not allowed");
    assert_eq!(
        err.one_line().replace(": error: ", ": "),
        "t.tfvars:1:25: variables not allowed; variables may not be used here"
    );
    // Arguments set twice are still refused.
    let err = parse_tfvars("t.tfvars", "m = { a = 1, a = 2 }\nm = 3\n").expect_err("set twice");
    assert!(
        err.one_line().contains("t.tfvars:2:1: "),
        "{}",
        err.one_line()
    );

    assert_eq!(
        cli_value("{ a = 1, b = 2, a = 3 }", &Type::map(Type::Number)),
        Ok(Value::Map(
            [
                ("a".to_owned(), Value::Number(3.0)),
                ("b".to_owned(), Value::Number(2.0))
            ]
            .into()
        ))
    );
    let err =
        cli_value("{ a = 1, a = 2, b = }", &Type::map(Type::Number)).expect_err("a syntax error");
    assert!(err.ends_with("at column 21"), "{err}");
}

#[tokio::test]
async fn variable_files_templates_and_type_constraints() {
    let p = plan_ok(&[
        (
            "main.tf",
            r#"
variable "m" {
  type = map(number)
}
variable "typed" {
  type    = object({ a = string, a = number })
  default = { a = 1 }
}
output "m" { value = var.m }
output "typed" { value = var.typed }
output "tpl" { value = templatefile("${path.module}/t.tpl", { x = 2 }) }
"#,
        ),
        ("terraform.tfvars", "m = { one = 1, two = 2, one = 11 }\n"),
        ("t.tpl", "v=${jsonencode({ a = 1, a = x })}\n"),
    ])
    .await;
    assert_eq!(output(&p, "m"), r#"{"one":11,"two":2}"#);
    // The last definition of `a` (number) is the attribute's type.
    assert_eq!(output(&p, "typed"), r#"{"a":1}"#);
    assert_eq!(output(&p, "tpl"), r#""v={\"a\":2}\n""#);
}

#[test]
fn fmt_keeps_the_keys_as_written() {
    let got = gantry_iac::fmt::format("a = {x=1,x=2}\nb = {\n  y = 1\n  y = 2\n}\n")
        .expect("duplicate keys format");
    assert_eq!(got, "a = { x = 1, x = 2 }\nb = {\n  y = 1\n  y = 2\n}\n");
    // A later syntax error is reported where it is in the text as written:
    // where it is in the same text without duplicates.
    let got = gantry_iac::fmt::format("a = { x = 1, x = 2 }\nb = { y = 1, y = 2, z = ]\n");
    let want = gantry_iac::fmt::format("a = { x = 1, q = 2 }\nb = { y = 1, r = 2, z = ]\n");
    assert!(
        want.as_ref().is_err_and(|e| e.starts_with("2:")),
        "{want:?}"
    );
    assert_eq!(got, want);
}

#[tokio::test]
async fn thousands_of_duplicate_keys_load() {
    // One object with 5,000 items of the same key, and 5,000 objects of
    // two items with one key.
    let mut big = String::from("locals {\n  big = {\n");
    for i in 0..5000 {
        big.push_str(&format!("    k = {i}\n"));
    }
    big.push_str("  }\n  small = [\n");
    for i in 0..5000 {
        big.push_str(&format!("    {{ \"s\" = {i}, \"s\" = {} }},\n", i + 1));
    }
    big.push_str("  ]\n}\n");
    big.push_str("output \"big\" { value = local.big }\n");
    big.push_str("output \"small\" { value = [length(local.small), local.small[0].s, local.small[4999].s] }\n");
    big.push_str("output \"bad\" { value = local.nope }\n");
    let err = plan(&[("main.tf", &big)])
        .await
        .expect_err("undeclared local");
    let line = big.lines().count();
    assert!(
        err.iter()
            .any(|e| e.starts_with(&format!("main.tf:{line}:24: "))),
        "{err:?}"
    );
    let ok = big.replace("output \"bad\" { value = local.nope }\n", "");
    let p = plan_ok(&[("main.tf", &ok)]).await;
    assert_eq!(output(&p, "big"), r#"{"k":4999}"#);
    assert_eq!(output(&p, "small"), "[5000,1,5000]");
}

#[test]
fn keys_equal_only_once_unescaped_are_found_from_the_parse_error() {
    // `"\u0061"` is `"a"` to hcl-edit, but not to the scan for repeated
    // keys: the key is rewritten from the position of the parse error.
    let vs = parse_tfvars(
        "t.tfvars",
        "m = { \"a\" = 1, \"\\u0061\" = 2, b = 3, \"b\" = 4, \"\\u0062\" = 5 }\n",
    )
    .expect("keys equal after unescaping are accepted");
    assert_eq!(vs[0].1.to_json().to_string(), r#"{"a":2,"b":5}"#);
}

#[test]
fn repeated_module_provider_keys_keep_their_references() {
    let m = gantry_iac::syntax::load_sources(
        Path::new("."),
        vec![(
            "main.tf".to_owned(),
            "module \"m\" {\n  source = \"./m\"\n  providers = {\n    random = random.a\n    random = random\n    random.x = random.b\n    random.x = random.c\n  }\n}\n"
                .to_owned(),
        )],
    )
    .unwrap_or_else(|d| panic!("{}", d.render_all()));
    let pairs: Vec<String> = m.module_calls["m"]
        .providers
        .iter()
        .map(|(child, parent)| format!("{child}={parent}"))
        .collect();
    assert_eq!(
        pairs,
        [
            "random=random.a",
            "random=random",
            "random.x=random.b",
            "random.x=random.c"
        ]
    );
}
