//! Values for root module variables, from every source Terraform reads,
//! in its precedence order (later wins): `TF_VAR_*` environment
//! variables, `terraform.tfvars`, `*.auto.tfvars` (by name), then `-var`
//! and `-var-file` in command-line order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_config::Diagnostic;

use crate::syntax::tfvars::{cli_value, parse_cli_var, parse_tfvars};
use crate::syntax::{Loc, Module};
use crate::value::{Type, Value};

/// A `-var` or `-var-file` argument, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliVar {
    /// `-var 'name=value'`.
    Var(String),
    /// `-var-file=FILE`.
    File(PathBuf),
}

/// Where a value came from, for messages.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    /// From a tfvars file: already a value.
    Value(Value),
    /// From `-var` or the environment: text converted by the variable's
    /// type (strings as they are, other types parsed as HCL).
    Text(String),
}

/// Variable values from every source, before type conversion.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    values: BTreeMap<String, (Raw, String)>,
    /// Where the value was assigned, when it came from a `.tfvars` file.
    locs: BTreeMap<String, Loc>,
}

impl Inputs {
    /// Reads every source for the module in `dir`. `env` is the process
    /// environment (passed in so tests control it).
    pub fn collect(
        dir: &Path,
        module: &Module,
        cli: &[CliVar],
        env: &[(String, String)],
    ) -> Result<(Inputs, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut inputs = Inputs::default();
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        for (k, v) in env {
            if let Some(name) = k.strip_prefix("TF_VAR_")
                && module.variables.contains_key(name)
            {
                inputs.values.insert(
                    name.to_owned(),
                    (Raw::Text(v.clone()), format!("environment variable {k}")),
                );
            }
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for name in ["terraform.tfvars", "terraform.tfvars.json"] {
            let default_file = dir.join(name);
            if default_file.is_file() {
                files.push(default_file);
            }
        }
        let mut autos: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        autos.sort();
        files.extend(autos);
        for f in &files {
            inputs.read_file(f, module, &mut warnings, &mut errors);
        }
        for arg in cli {
            match arg {
                CliVar::File(f) => inputs.read_file(f, module, &mut warnings, &mut errors),
                CliVar::Var(text) => match parse_cli_var(text) {
                    Ok((name, value)) => {
                        if !module.variables.contains_key(&name) {
                            errors.push(Diagnostic::error(
                                "-var",
                                format!(
                                    "value for undeclared variable: a variable named {name:?} was assigned on the command line, but the root module does not declare a variable of that name"
                                ),
                            ));
                            continue;
                        }
                        inputs.locs.remove(&name);
                        inputs
                            .values
                            .insert(name, (Raw::Text(value), "-var".into()));
                    }
                    Err(e) => errors.push(Diagnostic::error("-var", e)),
                },
            }
        }
        if errors.is_empty() {
            Ok((inputs, warnings))
        } else {
            Err(errors)
        }
    }

    fn read_file(
        &mut self,
        path: &Path,
        module: &Module,
        warnings: &mut Vec<Diagnostic>,
        errors: &mut Vec<Diagnostic>,
    ) {
        let shown = path
            .strip_prefix("./")
            .unwrap_or(path)
            .display()
            .to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(Diagnostic::error(
                    shown.clone(),
                    format!("failed to read variables file: {e}"),
                ));
                return;
            }
        };
        if shown.ends_with(".json") {
            // The JSON variant: one object of variable names to values.
            let object = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(o)) => o,
                Ok(_) => {
                    errors.push(Diagnostic::error(
                        shown,
                        "invalid variables file: the root value of a JSON variables file must be an object",
                    ));
                    return;
                }
                Err(e) => {
                    let mut d =
                        Diagnostic::error(shown, format!("invalid JSON in variables file: {e}"));
                    d.span = Some(gantry_config::Span {
                        line: e.line(),
                        col: e.column(),
                        len: 1,
                    });
                    errors.push(d);
                    return;
                }
            };
            for (name, value) in object {
                if !module.variables.contains_key(&name) {
                    warnings.push(as_warning(Diagnostic::error(
                        shown.clone(),
                        format!(
                            "value for undeclared variable: the root module does not declare a variable named {name:?}"
                        ),
                    )));
                    continue;
                }
                self.locs.remove(&name);
                self.values
                    .insert(name, (Raw::Value(Value::from_json(&value)), shown.clone()));
            }
            return;
        }
        match parse_tfvars(&shown, &text) {
            Ok(items) => {
                for (name, value, loc) in items {
                    if !module.variables.contains_key(&name) {
                        let d = loc.error(format!(
                            "value for undeclared variable: the root module does not declare a variable named {name:?}"
                        ));
                        // Terraform warns (for -var-file too), it does not fail.
                        warnings.push(as_warning(d));
                        continue;
                    }
                    self.locs.insert(name.clone(), loc);
                    self.values.insert(name, (Raw::Value(value), shown.clone()));
                }
            }
            Err(d) => errors.push(d),
        }
    }

    /// The value given for `name`, converted to `ty`; `None` when no
    /// source set it.
    pub fn get(&self, name: &str, ty: &Type) -> Option<Result<Value, String>> {
        let (raw, source) = self.values.get(name)?;
        Some(match raw {
            Raw::Value(v) => v
                .convert(ty)
                .map_err(|e| format!("invalid value for variable {name:?} from {source}: {e}")),
            Raw::Text(t) => cli_value(t, ty)
                .map_err(|e| format!("invalid value for variable {name:?} from {source}: {e}")),
        })
    }

    /// The assignment of `name` in a `.tfvars` file, for messages about
    /// its value.
    pub fn loc(&self, name: &str) -> Option<&Loc> {
        self.locs.get(name)
    }

    /// Inputs from already-typed values (a saved plan's variables).
    pub fn from_values(values: &BTreeMap<String, Value>) -> Inputs {
        Inputs {
            values: values
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        (Raw::Value(v.clone()), "the saved plan".to_owned()),
                    )
                })
                .collect(),
            locs: BTreeMap::new(),
        }
    }
}

fn as_warning(d: Diagnostic) -> Diagnostic {
    Diagnostic {
        severity: gantry_config::Severity::Warning,
        ..d
    }
}
