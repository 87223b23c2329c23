//! Terraform's command-line conventions: single-dash long flags
//! (`-out=FILE`, `-out FILE`, `-auto-approve`, `-refresh=false`), also
//! accepted with two dashes, a global `-chdir=DIR` before the command,
//! repeatable flags (`-var`, `-target`), and positional arguments.

use std::collections::BTreeMap;

/// What a command accepts: flags that take a value, and boolean flags.
pub struct Spec {
    pub values: &'static [&'static str],
    pub bools: &'static [&'static str],
}

/// Parsed arguments.
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    /// Every value of each value flag, in order.
    pub values: BTreeMap<String, Vec<String>>,
    pub bools: BTreeMap<String, bool>,
    pub positional: Vec<String>,
    /// `-var` and `-var-file` in command-line order (`("var", "k=v")`).
    pub ordered_vars: Vec<(String, String)>,
}

impl Args {
    pub fn flag(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }

    /// A boolean flag that defaults to true (`-refresh`, `-lock`).
    pub fn flag_default_true(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(true)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Parses `args` against `spec`. Errors name the flag.
pub fn parse(args: &[String], spec: &Spec) -> Result<Args, String> {
    let mut out = Args::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positional || !a.starts_with('-') || a == "-" {
            out.positional.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positional = true;
            continue;
        }
        let body = a.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        if spec.values.contains(&name) {
            let value = match inline {
                Some(v) => v,
                None => {
                    let Some(v) = args.get(i) else {
                        return Err(format!("flag -{name} needs a value"));
                    };
                    i += 1;
                    v.clone()
                }
            };
            if name == "var" || name == "var-file" {
                out.ordered_vars.push((name.to_owned(), value.clone()));
            }
            out.values.entry(name.to_owned()).or_default().push(value);
        } else if spec.bools.contains(&name) {
            let v = match inline.as_deref() {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(other) => {
                    return Err(format!("flag -{name} takes true or false, not {other:?}"));
                }
            };
            out.bools.insert(name.to_owned(), v);
        } else {
            let mut known: Vec<&str> = spec.values.iter().chain(spec.bools).copied().collect();
            known.sort_unstable();
            let hint = gantry_config::suggest::did_you_mean(name, &known)
                .map(|s| format!("; did you mean -{s}?"))
                .unwrap_or_default();
            return Err(format!("flag provided but not defined: -{name}{hint}"));
        }
    }
    Ok(out)
}

/// Splits off global options before the command (`-chdir=DIR`, `-help`,
/// `-version`): returns chdir and the rest.
pub fn split_global(args: &[String]) -> Result<(Option<String>, Vec<String>), String> {
    let mut chdir = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].trim_start_matches('-');
        if !args[i].starts_with('-') {
            break;
        }
        if let Some(v) = a.strip_prefix("chdir=") {
            chdir = Some(v.to_owned());
        } else if a == "chdir" {
            chdir = Some(args.get(i + 1).ok_or("flag -chdir needs a value")?.clone());
            i += 1;
        } else if a == "version" || a == "v" {
            return Ok((chdir, vec!["version".into()]));
        } else if a == "help" || a == "h" {
            return Ok((chdir, vec!["help".into()]));
        } else {
            return Err(format!("unknown global option {}", args[i]));
        }
        i += 1;
    }
    Ok((chdir, args[i..].to_vec()))
}

/// `10s`, `1m30s`, `500ms`, `0s` → duration.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    while !rest.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            rest = &rest[1..];
            continue;
        }
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return Err(format!(
                "invalid duration {s:?}: use a number with s, m, h or ms (e.g. 10s)"
            ));
        };
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        total += n * unit;
        num.clear();
        rest = &rest[len..];
    }
    if !num.is_empty() {
        return Err(format!("invalid duration {s:?}: missing unit (e.g. 10s)"));
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        values: &["out", "var", "var-file", "target", "parallelism"],
        bools: &["auto-approve", "refresh", "json"],
    };

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn terraform_spellings_parse() {
        let a = parse(
            &s(&[
                "-out=p.plan",
                "--var",
                "a=1",
                "-var-file=x.tfvars",
                "-target",
                "r.x",
                "-target=r.y",
                "-refresh=false",
                "--auto-approve",
                "dir",
            ]),
            &SPEC,
        )
        .unwrap();
        assert_eq!(a.value("out"), Some("p.plan"));
        assert_eq!(a.all("target"), &["r.x".to_string(), "r.y".to_string()]);
        assert!(!a.flag_default_true("refresh"));
        assert!(a.flag("auto-approve"));
        assert_eq!(a.positional, vec!["dir".to_string()]);
        assert_eq!(
            a.ordered_vars,
            vec![
                ("var".into(), "a=1".into()),
                ("var-file".into(), "x.tfvars".into())
            ]
        );
    }

    #[test]
    fn bad_flags_are_named() {
        assert!(
            parse(&s(&["-outt=x"]), &SPEC)
                .unwrap_err()
                .contains("did you mean -out")
        );
        assert!(
            parse(&s(&["-out"]), &SPEC)
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(parse(&s(&["-json=maybe"]), &SPEC).is_err());
    }

    #[test]
    fn global_chdir_splits_off() {
        let (c, rest) = split_global(&s(&["-chdir=infra", "plan", "-out=x"])).unwrap();
        assert_eq!(c.as_deref(), Some("infra"));
        assert_eq!(rest, s(&["plan", "-out=x"]));
        assert!(split_global(&s(&["-bogus", "plan"])).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap().as_secs(), 10);
        assert_eq!(parse_duration("1m30s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("0s").unwrap().as_secs(), 0);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("abc").is_err());
    }
}
