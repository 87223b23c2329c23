//! `composer.lock`: `packages` and `packages-dev`.

use super::{ParseResult, Sink, at};
use crate::deps::json;

pub(super) fn composer_lock(text: &str, out: &mut Sink<'_>) -> ParseResult {
    let root = json::parse(text).map_err(|e| e.to_string())?;
    if root.as_object().is_none() {
        return Err(at(
            root.line,
            1,
            format!("expected an object, found {}", root.type_name()),
        ));
    }
    for section in ["packages", "packages-dev"] {
        let Some(list) = root.get(section) else {
            continue;
        };
        let Some(items) = list.as_array() else {
            return Err(at(
                list.line,
                1,
                format!("`{section}` must be an array, found {}", list.type_name()),
            ));
        };
        for (i, p) in items.iter().enumerate() {
            let field = |f: &str| -> Result<&str, String> {
                match p.get(f) {
                    Some(n) => n.as_str().ok_or_else(|| {
                        at(
                            n.line,
                            1,
                            format!(
                                "`{section}[{i}].{f}` must be a string, found {}",
                                n.type_name()
                            ),
                        )
                    }),
                    None => Err(at(p.line, 1, format!("`{section}[{i}]` has no `{f}`"))),
                }
            };
            if p.as_object().is_none() {
                return Err(at(p.line, 1, format!("`{section}[{i}]` must be an object")));
            }
            let name = field("name")?;
            let version = field("version")?;
            out.push(name, version, p.line);
        }
    }
    Ok(())
}
