//! Workflow commands (`::name key=value,key=value::data`) read from a step's
//! stdout and stderr, parsed the way the GitHub runner parses them.

use std::collections::BTreeMap;

/// Commands the runner recognises; any other `::x::` line is printed as is.
const REGISTERED: &[&str] = &[
    "add-mask",
    "set-output",
    "save-state",
    "set-env",
    "add-path",
    "error",
    "warning",
    "notice",
    "debug",
    "group",
    "endgroup",
    "echo",
    "stop-commands",
    "add-matcher",
    "remove-matcher",
];

/// One parsed workflow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub name: String,
    /// Property names lower-cased (the runner looks them up case-insensitively),
    /// values unescaped.
    pub props: BTreeMap<String, String>,
    pub data: String,
}

impl Command {
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// True when `token` may not be used as a `::stop-commands::` token.
pub(crate) fn is_reserved_token(token: &str) -> bool {
    token.is_empty() || REGISTERED.contains(&token) || token.eq_ignore_ascii_case("pause-logging")
}

/// Parses a line as a workflow command. Leading whitespace is allowed; the
/// command name is case-sensitive and must be a registered one.
pub(crate) fn parse(line: &str) -> Option<Command> {
    let msg = line.trim_start();
    let body = msg.strip_prefix("::")?;
    let end = body.find("::")?;
    let info = &body[..end];
    let data = &body[end + 2..];
    let (name, props_str) = match info.find(' ') {
        Some(i) => (&info[..i], Some(info[i + 1..].trim())),
        None => (info, None),
    };
    if !REGISTERED.contains(&name) {
        return None;
    }
    let mut props = BTreeMap::new();
    if let Some(ps) = props_str {
        for pair in ps.split(',').filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once('=')
                && !k.is_empty()
                && !v.is_empty()
            {
                props.insert(k.to_ascii_lowercase(), unescape_property(v));
            }
        }
    }
    Some(Command {
        name: name.to_string(),
        props,
        data: unescape_data(data),
    })
}

/// Decodes `%25`, `%0D`, `%0A` in command data (single pass, so `%250A`
/// stays `%0A`).
pub(crate) fn unescape_data(s: &str) -> String {
    unescape(s, false)
}

/// Decodes `%25`, `%0D`, `%0A`, `%3A`, `%2C` in property values.
pub(crate) fn unescape_property(s: &str) -> String {
    unescape(s, true)
}

fn unescape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail.get(1..3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("25") => Some('%'),
            Some("0D") => Some('\r'),
            Some("0A") => Some('\n'),
            Some("3A") if property => Some(':'),
            Some("2C") if property => Some(','),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[3..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_properties_and_escapes() {
        let c = parse("  ::error file=a%2Cb.rs,line=3,endLine=4,title=x%3Ay::m%0Ab%25 %3A")
            .expect("command");
        assert_eq!(c.name, "error");
        assert_eq!(c.prop("file"), Some("a,b.rs"));
        assert_eq!(c.prop("endLine"), Some("4"));
        assert_eq!(c.prop("title"), Some("x:y"));
        assert_eq!(c.data, "m\nb% %3A");
        assert!(parse("::unknown::x").is_none());
        assert!(parse("::ERROR::x").is_none());
        assert!(parse("::error").is_none());
        assert_eq!(unescape_data("%250A%"), "%0A%");
        assert_eq!(
            parse("::endgroup::").map(|c| c.name),
            Some("endgroup".into())
        );
    }
}
