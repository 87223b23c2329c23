//! Loading gitleaks' TOML configuration format (v8): `[[rules]]` with
//! id/description/regex/secretGroup/entropy/keywords/path/tags and their
//! `[[rules.allowlists]]` (or legacy `[rules.allowlist]`), the global
//! `[allowlist]` / `[[allowlists]]` (with `targetRules`), and `[extend]`
//! (`useDefault` extends Gantry's built-in rules, `path` another file,
//! `disabledRules` drops rules). Regexes are Go (RE2) syntax and are
//! translated where the `regex` crate reads them differently.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, TableLike};

use super::Rules;
use super::rule::{Allowlist, Condition, RegexTarget, Rule, compile_bytes, compile_str};
use crate::Severity;

/// gitleaks stops following `[extend] path` after two levels; so do we.
const MAX_EXTEND_DEPTH: usize = 2;

/// Why a configuration could not be loaded. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: String,
        line: u32,
        col: u32,
        message: String,
    },
    #[error("{path}:{line}:{col}: {}field `{field}`: {message}", rule_prefix(.rule))]
    Invalid {
        path: String,
        line: u32,
        col: u32,
        /// The rule's id, when the problem is inside a rule.
        rule: Option<String>,
        field: String,
        message: String,
    },
}

fn rule_prefix(rule: &Option<String>) -> String {
    rule.as_ref()
        .map(|r| format!("rule `{r}`: "))
        .unwrap_or_default()
}

struct Ctx<'a> {
    path: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn pos(&self, span: Option<Range<usize>>) -> (u32, u32) {
        let Some(span) = span else { return (0, 0) };
        let upto = &self.text[..span.start.min(self.text.len())];
        let line = upto.matches('\n').count() as u32 + 1;
        let col = upto
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count() as u32)
            + 1;
        (line, col)
    }

    fn invalid(
        &self,
        span: Option<Range<usize>>,
        rule: Option<&str>,
        field: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, col) = self.pos(span);
        ConfigError::Invalid {
            path: self.path.clone(),
            line,
            col,
            rule: rule.map(str::to_string),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

pub(crate) fn load(text: &str, path: &Path, depth: usize) -> Result<Rules, ConfigError> {
    let cx = Ctx {
        path: path.display().to_string(),
        text,
    };
    let doc = Document::parse(text).map_err(|e| {
        let (line, col) = cx.pos(e.span());
        ConfigError::Syntax {
            path: cx.path.clone(),
            line,
            col,
            message: e.message().trim().to_string(),
        }
    })?;
    let root = doc.as_item();

    // [extend]
    let mut base: Option<Rules> = None;
    let mut disabled: Vec<String> = Vec::new();
    if let Some(ext) = root.get("extend") {
        let ext_span = ext.span();
        let ext = ext
            .as_table_like()
            .ok_or_else(|| cx.invalid(ext_span, None, "extend", "expected a table"))?;
        let use_default = match ext.get("useDefault") {
            Some(v) => v.as_bool().ok_or_else(|| {
                cx.invalid(
                    v.span(),
                    None,
                    "extend.useDefault",
                    "expected true or false",
                )
            })?,
            None => false,
        };
        if let Some(p) = ext.get("path") {
            let s = p
                .as_str()
                .ok_or_else(|| cx.invalid(p.span(), None, "extend.path", "expected a string"))?;
            if depth >= MAX_EXTEND_DEPTH {
                return Err(cx.invalid(
                    p.span(),
                    None,
                    "extend.path",
                    format!("extends are nested more than {MAX_EXTEND_DEPTH} deep"),
                ));
            }
            let target = resolve(path, s);
            let sub = std::fs::read_to_string(&target).map_err(|e| {
                cx.invalid(
                    p.span(),
                    None,
                    "extend.path",
                    format!("cannot read {}: {e}", target.display()),
                )
            })?;
            base = Some(load(&sub, &target, depth + 1)?);
        } else if use_default {
            base = Some(Rules::builtin());
        }
        if let Some(d) = ext.get("disabledRules") {
            disabled = string_list(&cx, d, None, "extend.disabledRules")?;
        }
    }

    let mut rules: Vec<Rule> = Vec::new();
    // Where each rule starts, for errors found after parsing.
    let mut rule_spans: Vec<Option<Range<usize>>> = Vec::new();
    let mut allowlists: Vec<Allowlist> = Vec::new();

    if let Some(item) = root.get("allowlist") {
        let t = item
            .as_table_like()
            .ok_or_else(|| cx.invalid(item.span(), None, "allowlist", "expected a table"))?;
        allowlists.push(parse_allowlist(
            &cx,
            t,
            item.span(),
            None,
            "allowlist",
            true,
        )?);
    }
    if let Some(item) = root.get("allowlists") {
        for (i, (t, span)) in tables(&cx, item, None, "allowlists")?
            .into_iter()
            .enumerate()
        {
            allowlists.push(parse_allowlist(
                &cx,
                t,
                span,
                None,
                &format!("allowlists[{i}]"),
                true,
            )?);
        }
    }

    if let Some(item) = root.get("rules") {
        for (t, span) in tables(&cx, item, None, "rules")? {
            let rule = parse_rule(&cx, t, span.clone())?;
            if rules.iter().any(|r| r.id == rule.id) {
                let id_span = t.get("id").and_then(Item::span);
                return Err(cx.invalid(id_span, Some(&rule.id), "id", "duplicate rule id"));
            }
            rules.push(rule);
            rule_spans.push(span);
        }
    }

    // A rule needs a regex or a path of its own, unless it refines a rule
    // of the configuration it extends.
    for (rule, span) in rules.iter().zip(&rule_spans) {
        let refines = base.as_ref().is_some_and(|b| {
            b.rules.iter().any(|r| r.id == rule.id) && !disabled.contains(&rule.id)
        });
        if rule.regex.is_none() && rule.path.is_none() && !refines {
            return Err(cx.invalid(
                span.clone(),
                Some(&rule.id),
                "regex",
                "a rule needs a `regex` or a `path`",
            ));
        }
    }

    let Some(mut base) = base else {
        return Ok(Rules { rules, allowlists });
    };
    base.rules.retain(|r| !disabled.contains(&r.id));
    for rule in rules {
        match base.rules.iter_mut().find(|b| b.id == rule.id) {
            Some(b) => merge(b, rule),
            None => base.rules.push(rule),
        }
    }
    base.allowlists.extend(allowlists);
    Ok(base)
}

fn resolve(config: &Path, target: &str) -> PathBuf {
    let t = Path::new(target);
    if t.is_absolute() {
        t.to_path_buf()
    } else {
        config.parent().unwrap_or(Path::new(".")).join(t)
    }
}

/// A rule in an extending configuration that has the id of a base rule
/// overrides the fields it sets; keywords, tags and allowlists add up.
fn merge(base: &mut Rule, over: Rule) {
    if !over.description.is_empty() {
        base.description = over.description;
    }
    if over.regex.is_some() {
        base.regex = over.regex;
        base.regex_src = over.regex_src;
        base.secret_group = over.secret_group;
    } else if over.secret_group != 0 {
        base.secret_group = over.secret_group;
    }
    if over.entropy.is_some() {
        base.entropy = over.entropy;
    }
    if over.path.is_some() {
        base.path = over.path;
    }
    for k in over.keywords {
        if !base.keywords.contains(&k) {
            base.keywords.push(k);
        }
    }
    base.tags.extend(over.tags);
    base.allowlists.extend(over.allowlists);
}

/// A table and where it starts in the text.
type SpannedTable<'a> = (&'a dyn TableLike, Option<Range<usize>>);

/// An array of tables: `[[x]]` sections or an inline `x = [{...}]`.
fn tables<'a>(
    cx: &Ctx<'_>,
    item: &'a Item,
    rule: Option<&str>,
    field: &str,
) -> Result<Vec<SpannedTable<'a>>, ConfigError> {
    if let Some(aot) = item.as_array_of_tables() {
        return Ok(aot
            .iter()
            .map(|t| (t as &dyn TableLike, t.span()))
            .collect());
    }
    if let Some(arr) = item.as_array() {
        return arr
            .iter()
            .map(|v| {
                v.as_inline_table()
                    .map(|t| (t as &dyn TableLike, v.span()))
                    .ok_or_else(|| cx.invalid(v.span(), rule, field, "expected an array of tables"))
            })
            .collect();
    }
    Err(cx.invalid(item.span(), rule, field, "expected an array of tables"))
}

fn string_list(
    cx: &Ctx<'_>,
    item: &Item,
    rule: Option<&str>,
    field: &str,
) -> Result<Vec<String>, ConfigError> {
    let arr = item.as_array().ok_or_else(|| {
        cx.invalid(
            item.span(),
            rule,
            field,
            format!("expected an array of strings, found {}", item.type_name()),
        )
    })?;
    arr.iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                cx.invalid(
                    v.span(),
                    rule,
                    field,
                    format!("expected a string, found {}", v.type_name()),
                )
            })
        })
        .collect()
}

fn opt_str<'a>(
    cx: &Ctx<'_>,
    t: &'a dyn TableLike,
    rule: Option<&str>,
    field: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match t.get(field) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| {
            cx.invalid(
                v.span(),
                rule,
                field,
                format!("expected a string, found {}", v.type_name()),
            )
        }),
    }
}

fn parse_rule(
    cx: &Ctx<'_>,
    t: &dyn TableLike,
    span: Option<Range<usize>>,
) -> Result<Rule, ConfigError> {
    let id = match t.get("id") {
        Some(v) => v
            .as_str()
            .ok_or_else(|| cx.invalid(v.span(), None, "id", "expected a string"))?
            .to_string(),
        None => return Err(cx.invalid(span, None, "id", "a rule needs an `id`")),
    };
    if id.trim().is_empty() {
        let s = t.get("id").and_then(Item::span);
        return Err(cx.invalid(s, None, "id", "a rule id cannot be empty"));
    }
    let rid = Some(id.as_str());
    let description = opt_str(cx, t, rid, "description")?
        .unwrap_or("")
        .to_string();

    let (regex, regex_src) = match t.get("regex") {
        Some(v) => {
            let s = v
                .as_str()
                .ok_or_else(|| cx.invalid(v.span(), rid, "regex", "expected a string"))?;
            let (re, src) = compile_bytes(s).map_err(|e| {
                cx.invalid(v.span(), rid, "regex", format!("does not compile: {e}"))
            })?;
            (Some(re), Some(src))
        }
        None => (None, None),
    };
    let path =
        match t.get("path") {
            Some(v) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| cx.invalid(v.span(), rid, "path", "expected a string"))?;
                Some(compile_str(s).map_err(|e| {
                    cx.invalid(v.span(), rid, "path", format!("does not compile: {e}"))
                })?)
            }
            None => None,
        };
    let secret_group = match t.get("secretGroup") {
        Some(v) => {
            let n = v.as_integer().filter(|n| *n >= 0).ok_or_else(|| {
                cx.invalid(
                    v.span(),
                    rid,
                    "secretGroup",
                    "expected a non-negative integer",
                )
            })?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if let Some(re) = &regex
                && n >= re.captures_len()
            {
                return Err(cx.invalid(
                    v.span(),
                    rid,
                    "secretGroup",
                    format!(
                        "is {n} but the regex has {} capture group(s)",
                        re.captures_len() - 1
                    ),
                ));
            }
            n
        }
        None => 0,
    };
    let entropy = match t.get("entropy") {
        Some(v) => {
            let e = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|e| e.is_finite() && *e >= 0.0)
                .ok_or_else(|| {
                    cx.invalid(v.span(), rid, "entropy", "expected a non-negative number")
                })?;
            (e > 0.0).then_some(e)
        }
        None => None,
    };
    let keywords = match t.get("keywords") {
        Some(v) => string_list(cx, v, rid, "keywords")?
            .into_iter()
            .map(|k| k.to_ascii_lowercase())
            .filter(|k| !k.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let tags = match t.get("tags") {
        Some(v) => string_list(cx, v, rid, "tags")?,
        None => Vec::new(),
    };
    let mut allowlists = Vec::new();
    if let Some(item) = t.get("allowlist") {
        let a = item
            .as_table_like()
            .ok_or_else(|| cx.invalid(item.span(), rid, "allowlist", "expected a table"))?;
        allowlists.push(parse_allowlist(
            cx,
            a,
            item.span(),
            rid,
            "allowlist",
            false,
        )?);
    }
    if let Some(item) = t.get("allowlists") {
        for (i, (a, s)) in tables(cx, item, rid, "allowlists")?.into_iter().enumerate() {
            allowlists.push(parse_allowlist(
                cx,
                a,
                s,
                rid,
                &format!("allowlists[{i}]"),
                false,
            )?);
        }
    }
    Ok(Rule {
        id,
        description,
        severity: Severity::High,
        keywords,
        entropy,
        secret_group,
        tags,
        regex,
        regex_src,
        path,
        allowlists,
    })
}

fn parse_allowlist(
    cx: &Ctx<'_>,
    t: &dyn TableLike,
    span: Option<Range<usize>>,
    rule: Option<&str>,
    field: &str,
    global: bool,
) -> Result<Allowlist, ConfigError> {
    let f = |name: &str| format!("{field}.{name}");
    let list = |name: &str| -> Result<Vec<String>, ConfigError> {
        match t.get(name) {
            Some(v) => string_list(cx, v, rule, &f(name)),
            None => Ok(Vec::new()),
        }
    };
    let condition = match t.get("condition") {
        None => Condition::Or,
        Some(v) => match v.as_str().map(|s| s.trim().to_ascii_uppercase()) {
            Some(s) if s == "OR" || s.is_empty() => Condition::Or,
            Some(s) if s == "AND" => Condition::And,
            _ => {
                return Err(cx.invalid(
                    v.span(),
                    rule,
                    &f("condition"),
                    "expected \"OR\" or \"AND\"",
                ));
            }
        },
    };
    let regex_target = match t.get("regexTarget") {
        None => RegexTarget::Secret,
        Some(v) => match v.as_str().map(str::to_ascii_lowercase).as_deref() {
            Some("secret") | Some("") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            _ => {
                return Err(cx.invalid(
                    v.span(),
                    rule,
                    &f("regexTarget"),
                    "expected \"secret\", \"match\" or \"line\"",
                ));
            }
        },
    };
    let mut paths = Vec::new();
    if let Some(v) = t.get("paths") {
        let arr = v.as_array();
        for (i, s) in string_list(cx, v, rule, &f("paths"))?
            .into_iter()
            .enumerate()
        {
            let sp = arr.and_then(|a| a.get(i)).and_then(|x| x.span());
            paths.push(compile_str(&s).map_err(|e| {
                cx.invalid(sp, rule, &f("paths"), format!("does not compile: {e}"))
            })?);
        }
    }
    let mut regexes = Vec::new();
    if let Some(v) = t.get("regexes") {
        let arr = v.as_array();
        for (i, s) in string_list(cx, v, rule, &f("regexes"))?
            .into_iter()
            .enumerate()
        {
            let sp = arr.and_then(|a| a.get(i)).and_then(|x| x.span());
            let (re, _) = compile_bytes(&s).map_err(|e| {
                cx.invalid(sp, rule, &f("regexes"), format!("does not compile: {e}"))
            })?;
            regexes.push(re);
        }
    }
    let target_rules = list("targetRules")?;
    if !global && !target_rules.is_empty() {
        let sp = t.get("targetRules").and_then(Item::span);
        return Err(cx.invalid(
            sp,
            rule,
            &f("targetRules"),
            "only global allowlists take `targetRules`",
        ));
    }
    let a = Allowlist {
        description: opt_str(cx, t, rule, "description")?
            .unwrap_or("")
            .to_string(),
        condition,
        regex_target,
        paths,
        regexes,
        stopwords: list("stopwords")?
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
        commits: list("commits")?,
        target_rules,
    };
    if a.paths.is_empty() && a.regexes.is_empty() && a.stopwords.is_empty() && a.commits.is_empty()
    {
        return Err(cx.invalid(
            span,
            rule,
            field,
            "an allowlist needs at least one of commits, paths, regexes or stopwords",
        ));
    }
    Ok(a)
}
