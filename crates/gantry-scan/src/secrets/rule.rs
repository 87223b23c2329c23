//! Compiled rules and allowlists, and the translation of Go (RE2) regex
//! syntax into what the `regex` crate accepts.

use regex::Regex;
use regex::bytes::Regex as BytesRegex;

use crate::Severity;

/// One secret-detection rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Kebab-case identifier, e.g. `github-pat`; the finding's `rule_id`.
    pub id: String,
    /// One sentence naming what the rule finds; the finding's title.
    pub description: String,
    pub severity: Severity,
    /// Lowercase keywords: the rule's regex only runs on text that contains
    /// at least one of them (ASCII case-insensitively). Empty: always runs.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy (bits per byte) of the secret; a match at or
    /// below it is dropped.
    pub entropy: Option<f64>,
    /// Which capture group is the secret; 0 means the first non-empty group,
    /// or the whole match when the regex has no groups.
    pub secret_group: usize,
    pub tags: Vec<String>,
    pub(crate) regex: Option<BytesRegex>,
    pub(crate) regex_src: Option<String>,
    /// The rule only applies to files whose path matches.
    pub(crate) path: Option<Regex>,
    pub(crate) allowlists: Vec<Allowlist>,
}

impl Rule {
    /// The regex source as compiled (after Go-syntax translation).
    pub fn regex_source(&self) -> Option<&str> {
        self.regex_src.as_deref()
    }

    /// The path regex, when the rule is restricted to some files.
    pub fn path_source(&self) -> Option<&str> {
        self.path.as_ref().map(|r| r.as_str())
    }

    /// How many allowlists the rule has of its own.
    pub fn allowlist_count(&self) -> usize {
        self.allowlists.len()
    }
}

/// How an allowlist's criteria combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Any criterion that matches allows the finding.
    #[default]
    Or,
    /// Every criterion the allowlist sets must match.
    And,
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegexTarget {
    /// The secret (the capture group).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The whole line(s) of the match.
    Line,
}

/// Reasons to drop a finding: paths, regexes, stopwords, commits.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    pub description: String,
    pub condition: Condition,
    pub regex_target: RegexTarget,
    pub(crate) paths: Vec<Regex>,
    pub(crate) regexes: Vec<BytesRegex>,
    /// Lowercase; a secret containing one (case-insensitively) is allowed.
    pub stopwords: Vec<String>,
    pub commits: Vec<String>,
    /// For global allowlists: only these rules (empty: all rules).
    pub target_rules: Vec<String>,
}

/// What an allowlist looks at for one candidate finding.
pub(crate) struct Candidate<'a> {
    pub path: &'a str,
    pub commit: Option<&'a str>,
    pub secret: &'a [u8],
    pub matched: &'a [u8],
    pub line: &'a [u8],
}

impl Allowlist {
    pub(crate) fn applies_to(&self, rule_id: &str) -> bool {
        self.target_rules.is_empty() || self.target_rules.iter().any(|r| r == rule_id)
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }

    pub(crate) fn path_allowed(&self, path: &str) -> bool {
        self.paths.iter().any(|r| r.is_match(path))
    }

    /// True when this allowlist consists only of paths (OR), so a matching
    /// file can be skipped before reading it.
    pub(crate) fn skips_whole_path(&self, path: &str) -> bool {
        match self.condition {
            Condition::Or => self.path_allowed(path),
            Condition::And => {
                self.regexes.is_empty()
                    && self.stopwords.is_empty()
                    && self.commits.is_empty()
                    && self.path_allowed(path)
            }
        }
    }

    pub(crate) fn allows(&self, c: &Candidate<'_>) -> bool {
        if self.is_empty() {
            return false;
        }
        let commit = || {
            c.commit
                .is_some_and(|commit| self.commits.iter().any(|a| a == commit))
        };
        let path = || self.path_allowed(c.path);
        let regex = || {
            let target = match self.regex_target {
                RegexTarget::Secret => c.secret,
                RegexTarget::Match => c.matched,
                RegexTarget::Line => c.line,
            };
            self.regexes.iter().any(|r| r.is_match(target))
        };
        let stopword = || {
            let lower = c.secret.to_ascii_lowercase();
            self.stopwords
                .iter()
                .any(|w| contains_bytes(&lower, w.as_bytes()))
        };
        match self.condition {
            Condition::Or => commit() || path() || regex() || stopword(),
            Condition::And => {
                (self.commits.is_empty() || commit())
                    && (self.paths.is_empty() || path())
                    && (self.regexes.is_empty() || regex())
                    && (self.stopwords.is_empty() || stopword())
            }
        }
    }
}

pub(crate) fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Rewrites Go RE2 syntax the `regex` crate reads differently: a `{` that
/// does not open a valid `{n}`, `{n,}` or `{n,m}` repetition is a literal in
/// Go and an error here, so it is escaped (and so is its `}`); `\Q...\E`
/// quoting becomes escaped literals; `\z` is kept; Go has no look-around or
/// backreferences, so nothing else needs rewriting.
pub fn translate_go_regex(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 8);
    let mut i = 0;
    let mut class_depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            if chars.get(i + 1) == Some(&'Q') {
                // \Q...\E: everything literal.
                let mut j = i + 2;
                while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                    let lit = chars[j].to_string();
                    out.push_str(&regex::escape(&lit));
                    j += 1;
                }
                i = if j < chars.len() { j + 2 } else { j };
                continue;
            }
            out.push(c);
            if let Some(&n) = chars.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if class_depth > 0 {
            if c == '[' && chars.get(i + 1) == Some(&':') {
                // [:alnum:] inside a class.
                if let Some(end) = find_posix_end(&chars, i + 2) {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
            }
            if c == '[' {
                // Go treats a nested `[` as a literal; the regex crate as a
                // nested class.
                out.push_str("\\[");
                i += 1;
                continue;
            }
            if c == ']' {
                class_depth -= 1;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                class_depth = 1;
                out.push('[');
                i += 1;
                // A leading `^` and a leading `]` are part of the class.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '{' => {
                if let Some(end) = valid_repetition(&chars, i) {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                } else {
                    out.push_str("\\{");
                    i += 1;
                }
            }
            '}' => {
                // A `}` outside a repetition is a literal.
                out.push_str("\\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn find_posix_end(chars: &[char], from: usize) -> Option<usize> {
    let mut j = from;
    while j + 1 < chars.len() {
        if chars[j] == ':' && chars[j + 1] == ']' {
            return Some(j + 1);
        }
        if !chars[j].is_ascii_alphabetic() && chars[j] != '^' {
            return None;
        }
        j += 1;
    }
    None
}

/// `{n}`, `{n,}`, `{n,m}` at `start` (Go's rule: n, m at most 1000, and the
/// repetition must follow something repeatable); returns the `}` index.
fn valid_repetition(chars: &[char], start: usize) -> Option<usize> {
    if start == 0 || matches!(chars[start - 1], '(' | '|') {
        return None;
    }
    let mut j = start + 1;
    let digits = |j: &mut usize| {
        let s = *j;
        while *j < chars.len() && chars[*j].is_ascii_digit() {
            *j += 1;
        }
        *j - s
    };
    let n_len = digits(&mut j);
    if n_len == 0 {
        return None;
    }
    let n: u32 = chars[j - n_len..j]
        .iter()
        .collect::<String>()
        .parse()
        .ok()?;
    if chars.get(j) == Some(&',') {
        j += 1;
        let m_len = digits(&mut j);
        if m_len > 0 {
            let m: u32 = chars[j - m_len..j]
                .iter()
                .collect::<String>()
                .parse()
                .ok()?;
            if m > 1000 || m < n {
                return None;
            }
        }
    }
    if n > 1000 {
        return None;
    }
    (chars.get(j) == Some(&'}')).then_some(j)
}

/// Compiles a content regex the way Go would read it: ASCII `\w`, `\d`,
/// `\s`, `\b` (Unicode-aware only when the pattern needs Unicode classes),
/// and large enough limits for long counted repetitions.
pub(crate) fn compile_bytes(src: &str) -> Result<(BytesRegex, String), String> {
    let translated = translate_go_regex(src);
    let build = |unicode: bool| {
        regex::bytes::RegexBuilder::new(&translated)
            .unicode(unicode)
            .size_limit(256 << 20)
            .dfa_size_limit(64 << 20)
            .build()
    };
    match build(false) {
        Ok(r) => Ok((r, translated)),
        Err(ascii_err) => match build(true) {
            Ok(r) => Ok((r, translated)),
            Err(_) => Err(first_line(&ascii_err.to_string())),
        },
    }
}

pub(crate) fn compile_str(src: &str) -> Result<Regex, String> {
    let translated = translate_go_regex(src);
    regex::RegexBuilder::new(&translated)
        .size_limit(64 << 20)
        .build()
        .map_err(|e| first_line(&e.to_string()))
}

fn first_line(s: &str) -> String {
    // The regex crate's errors are multi-line with a caret diagram; keep
    // the whole text but on one line so callers can prefix it.
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_braces_are_escaped() {
        assert_eq!(
            translate_go_regex(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+\})$"
        );
        assert_eq!(translate_go_regex(r"a{2,3}b{4}c{5,}"), r"a{2,3}b{4}c{5,}");
        assert_eq!(translate_go_regex(r"^\{\{x}}$"), r"^\{\{x\}\}$");
        assert_eq!(translate_go_regex(r"[{}]x{,3}"), r"[{}]x\{,3\}");
        assert!(compile_bytes(r"^\${(?:[A-Z_]+|[a-z_]+)}$").is_ok());
    }

    #[test]
    fn go_literal_braces_match_like_go() {
        // Shapes from gitleaks' default configuration.
        let (r, _) =
            compile_bytes(r#"import[ \t]+{[ \t\w,]+}[ \t]+from[ \t]+['"][^'"]+['"]"#).unwrap();
        assert!(r.is_match(b"import { a, b } from 'x'"));
        let (r, _) = compile_bytes(r#"['"]?\$?{{[^}]+}}['"]?:['"]?\$?{{[^}]+}}['"]?"#).unwrap();
        assert!(r.is_match(b"'{{ user }}':'${{ secrets.PW }}'"));
        let (r, _) = compile_bytes(r"^\$(?:\d+|{\d+})$").unwrap();
        assert!(r.is_match(b"${12}") && r.is_match(b"$3") && !r.is_match(b"${x}"));
    }

    #[test]
    fn quoting_and_classes() {
        assert_eq!(translate_go_regex(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(translate_go_regex(r"[[:alnum:]]{3}"), r"[[:alnum:]]{3}");
        assert_eq!(translate_go_regex(r"[a[b]"), r"[a\[b]");
        assert_eq!(translate_go_regex(r"[]a]"), r"[\]a]");
        let (r, _) = compile_bytes(r"\bpat[[:alnum:]]{2}\b").unwrap();
        assert!(r.is_match(b"x pat9Z y"));
    }

    #[test]
    fn ascii_word_classes() {
        let (r, _) = compile_bytes(r"\w+").unwrap();
        // ASCII \w: stops at the é.
        assert_eq!(r.find("abé".as_bytes()).map(|m| m.end()), Some(2));
    }
}
