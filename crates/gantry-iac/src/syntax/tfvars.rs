//! Variable values from outside the configuration: `.tfvars` files,
//! `-var name=value` arguments and `TF_VAR_name` environment variables.

use std::collections::BTreeMap;

use gantry_config::Diagnostic;
use hcl_edit::Span as _;
use hcl_edit::structure::Structure;

use super::Loc;
use super::load::{parse_error, parse_expr, parse_src};
use super::types::literal_value;
use crate::value::{Type, Value};

/// Parses a `.tfvars` file: `name = value` lines whose values are
/// constants. Returns the assignments in file order.
// Diagnostic is large, but the error path runs once per failed load and
// the crate's interfaces return it by value.
#[allow(clippy::result_large_err)]
pub fn parse_tfvars(
    path_display: &str,
    text: &str,
) -> Result<Vec<(String, Value, Loc)>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (src, body) = parse_src(path_display, text);
    let body = body.map_err(|e| parse_error(&src, &e))?;
    let mut out: Vec<(String, Value, Loc)> = Vec::new();
    let mut seen: BTreeMap<String, Loc> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Block(b) => {
                let range = b.ident.span();
                return Err(src.error(
                    range.as_ref(),
                    format!(
                        "unexpected \"{}\" block; blocks are not allowed here",
                        b.ident.as_str()
                    ),
                ));
            }
            Structure::Attribute(a) => {
                let name = a.key.as_str().to_owned();
                let loc = Loc {
                    src: src.clone(),
                    range: a.span().unwrap_or(0..0),
                };
                if let Some(prev) = seen.get(&name) {
                    return Err(loc.error(format!(
                        "attribute redefined; the argument \"{name}\" was already set at {}",
                        prev.position()
                    )));
                }
                let value = literal_value(&a.value).map_err(|e| {
                    src.error(e.range.as_ref().or(a.value.span().as_ref()), e.message)
                })?;
                seen.insert(name.clone(), loc.clone());
                out.push((name, value, loc));
            }
        }
    }
    Ok(out)
}

/// Splits a `-var` argument `name=value` at the first `=`.
pub fn parse_cli_var(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "invalid -var option; the given -var option \"{arg}\" is not correctly specified: it must be a variable name and value separated by an equals sign, like -var=\"key=value\""
        )),
    }
}

/// The value of a `-var` or `TF_VAR_` text for a variable of type `ty`:
/// for `string` and unconstrained (`any`) variables the text itself, for
/// other types the text parsed as a constant HCL expression and converted.
pub fn cli_value(raw: &str, ty: &Type) -> Result<Value, String> {
    if matches!(ty, Type::String | Type::Any) {
        return Ok(Value::String(raw.to_owned()));
    }
    let expr = parse_expr(raw.trim()).map_err(|(message, col)| {
        format!("invalid expression for variable value: {message} at column {col}")
    })?;
    let v = literal_value(&expr).map_err(|e| e.message)?;
    v.convert(ty)
        .map_err(|e| format!("invalid value for variable; {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfvars_files() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("a = \"x\"\n", Ok("a=\"x\"")),
            ("a = 1\nb = -2.5\n", Ok("a=1 b=-2.5")),
            ("a = true\nb = null\n", Ok("a=true b=null")),
            ("l = [\"a\", \"b\"]\n", Ok("l=[\"a\",\"b\"]")),
            (
                "m = { k = 1, \"q r\" = [] }\n",
                Ok("m={\"k\":1,\"q r\":[]}"),
            ),
            (
                "h = <<EOT\nline1\nline2\nEOT\n",
                Ok("h=\"line1\\nline2\\n\""),
            ),
            (
                "h = <<-EOT\n    a\n      b\n    EOT\n",
                Ok("h=\"a\\n  b\\n\""),
            ),
            ("s = \"esc $${x} \\n\"\n", Ok("s=\"esc ${x} \\n\"")),
            ("# comment\n\n", Ok("")),
            ("\u{feff}b = false\n", Ok("b=false")),
            (
                "a = var.x\n",
                Err("t.tfvars:1:5: variables not allowed; variables may not be used here"),
            ),
            (
                "a = x\n",
                Err("t.tfvars:1:5: variables not allowed; variables may not be used here"),
            ),
            (
                "a = [1, upper(\"x\")]\n",
                Err("t.tfvars:1:9: function calls not allowed; functions may not be called here"),
            ),
            (
                "a = \"${b}\"\n",
                Err(
                    "t.tfvars:1:5: variables not allowed; template interpolation and directives may not be used here",
                ),
            ),
            (
                "a = 1\na = 2\n",
                Err(
                    "t.tfvars:2:1: attribute redefined; the argument \"a\" was already set at t.tfvars:1:1, an argument may be set only once in a block",
                ),
            ),
            (
                "blk {\n}\n",
                Err("t.tfvars:1:1: unexpected \"blk\" block; blocks are not allowed here"),
            ),
            (
                "a = \n",
                Err("t.tfvars:1:5: invalid expression; expected the start of an expression"),
            ),
        ];
        for (input, want) in cases {
            let got = parse_tfvars("t.tfvars", input)
                .map(|vs| {
                    vs.iter()
                        .map(|(k, v, _)| format!("{k}={}", v.to_json()))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .map_err(|d| d.one_line().replace(": error: ", ": "));
            let want = want.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn tfvars_locations() {
        let vs = parse_tfvars("x.tfvars", "a = 1\n\n  b = 2\n").expect("valid tfvars");
        let positions: Vec<String> = vs.iter().map(|(_, _, l)| l.position()).collect();
        assert_eq!(positions, ["x.tfvars:1:1", "x.tfvars:3:3"]);
    }

    #[test]
    fn cli_vars() {
        assert_eq!(parse_cli_var("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_cli_var("a="), Ok(("a".into(), String::new())));
        assert!(parse_cli_var("novalue").is_err());
        assert!(parse_cli_var("=x").is_err());

        let list = Type::list(Type::String);
        let cases: Vec<(&str, Type, Result<Value, &str>)> = vec![
            (
                "hello world",
                Type::String,
                Ok(Value::string("hello world")),
            ),
            ("[\"a\"]", Type::Any, Ok(Value::string("[\"a\"]"))),
            (
                "[\"a\",\"b\"]",
                list.clone(),
                Ok(Value::List(vec![Value::string("a"), Value::string("b")])),
            ),
            ("42", Type::Number, Ok(Value::Number(42.0))),
            ("\"7\"", Type::Number, Ok(Value::Number(7.0))),
            ("true", Type::Bool, Ok(Value::Bool(true))),
            (
                "{a=1}",
                Type::map(Type::Number),
                Ok(Value::Map(BTreeMap::from([(
                    "a".into(),
                    Value::Number(1.0),
                )]))),
            ),
            (
                "abc",
                Type::Number,
                Err("variables not allowed; variables may not be used here"),
            ),
            (
                "\"x\"",
                Type::Number,
                Err("invalid value for variable; a number is required, but \"x\" is not a number"),
            ),
        ];
        for (raw, ty, want) in cases {
            let got = cli_value(raw, &ty);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{raw}"),
                (Err(g), Err(w)) => assert_eq!(g, w, "{raw}"),
                _ => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
    }
}
