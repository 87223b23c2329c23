//! The environment files a step writes: `$GITHUB_OUTPUT`, `$GITHUB_ENV`,
//! `$GITHUB_STATE` (`name=value` / `name<<DELIM` form) and `$GITHUB_PATH`.

/// Parses `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks, the
/// way the runner does: empty lines are skipped; whichever of `=` and `<<`
/// comes first decides the form; multi-line values are joined with `\n`.
///
/// Parsing stops at the first malformed entry: the pairs read so far are
/// returned together with the error message (the runner applies the earlier
/// entries and fails the step).
pub(crate) fn parse_key_values(content: &str) -> (Vec<(String, String)>, Option<String>) {
    let mut pairs = Vec::new();
    let mut lines = content
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let key = &line[..e];
                if key.is_empty() {
                    return (pairs, Some(format!("invalid format '{line}'")));
                }
                pairs.push((key.to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let key = &line[..h];
                let delimiter = &line[h + 2..];
                if key.is_empty() || delimiter.is_empty() {
                    return (pairs, Some(format!("invalid format '{line}'")));
                }
                let mut value: Vec<&str> = Vec::new();
                let mut closed = false;
                for l in lines.by_ref() {
                    if l == delimiter {
                        closed = true;
                        break;
                    }
                    value.push(l);
                }
                if !closed {
                    return (
                        pairs,
                        Some(format!(
                            "invalid value: matching delimiter not found '{delimiter}'"
                        )),
                    );
                }
                pairs.push((key.to_string(), value.join("\n")));
            }
            _ => return (pairs, Some(format!("invalid format '{line}'"))),
        }
    }
    (pairs, None)
}

/// The non-empty, trimmed lines of a `$GITHUB_PATH` file, in file order.
pub(crate) fn parse_path_lines(content: &str) -> Vec<String> {
    content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_errors() {
        let (p, e) = parse_key_values("a=1\r\n\nb<<EOF\nx\ny=z\nEOF\nc=d<<e\nf<<g=h\ng=h\n");
        assert_eq!(e, None);
        assert_eq!(
            p,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x\ny=z".into()),
                ("c".into(), "d<<e".into()),
                ("f".into(), "".into()),
            ]
        );
        let (p, e) = parse_key_values("a=1\nnoequals\nb=2");
        assert_eq!(p.len(), 1);
        assert_eq!(e.as_deref(), Some("invalid format 'noequals'"));
        let (_, e) = parse_key_values("a<<EOF\nx\n");
        assert!(e.is_some_and(|e| e.contains("'EOF'")));
        let (_, e) = parse_key_values("=x");
        assert!(e.is_some());
    }
}
