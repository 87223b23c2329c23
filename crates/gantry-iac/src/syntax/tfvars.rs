use crate::value::{Type, Value};
use super::Loc;
use gantry_config::Diagnostic;
pub fn parse_tfvars(p: &str, t: &str) -> Result<Vec<(String, Value, Loc)>, Diagnostic> { let _ = (p, t); Ok(Vec::new()) }
pub fn parse_cli_var(a: &str) -> Result<(String, String), String> { let _ = a; Err(String::new()) }
pub fn cli_value(r: &str, t: &Type) -> Result<Value, String> { let _ = (r, t); Err(String::new()) }
