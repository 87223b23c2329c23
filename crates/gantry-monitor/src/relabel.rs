//! Relabeling, as Prometheus's `relabel_configs` and
//! `metric_relabel_configs` do it: an ordered list of rules, each reading
//! the joined values of its source labels and rewriting, keeping or
//! dropping the label set.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use regex::Regex;
use thiserror::Error;

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

/// A rule as written in configuration; unset fields are `None` and get
/// Prometheus's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    pub separator: Option<String>,
    pub target_label: Option<String>,
    pub regex: Option<String>,
    pub modulus: Option<u64>,
    pub replacement: Option<String>,
    pub action: Option<String>,
}

/// A rule that cannot work, with Prometheus's wording.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct RelabelError(pub String);

/// A checked, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    action: Action,
    source_labels: Vec<String>,
    separator: String,
    target_label: String,
    regex: Regex,
    modulus: u64,
    replacement: String,
}

const DEFAULT_REGEX: &str = "(.*)";

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A target label with `$1`/`${name}` references; Prometheus checks those
/// after expansion.
fn is_label_template(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '{' | '}'))
}

impl Rule {
    pub fn new(c: &RelabelConfig) -> Result<Rule, RelabelError> {
        let action_name = c.action.as_deref().unwrap_or("replace");
        let action = Action::parse(action_name)
            .ok_or_else(|| RelabelError(format!("unknown relabel action {action_name:?}")))?;
        let regex_text = c.regex.as_deref().unwrap_or(DEFAULT_REGEX);
        let regex = Regex::new(&format!("^(?s:{regex_text})$"))
            .map_err(|e| RelabelError(format!("invalid regex {regex_text:?}: {e}")))?;
        let target = c.target_label.clone().unwrap_or_default();
        let modulus = c.modulus.unwrap_or(0);
        let err = |m: String| Err(RelabelError(m));
        match action {
            Action::Replace
            | Action::HashMod
            | Action::Lowercase
            | Action::Uppercase
            | Action::KeepEqual
            | Action::DropEqual
                if c.target_label.is_none() =>
            {
                return err(format!(
                    "relabel configuration for {} action requires 'target_label' value",
                    action.as_str()
                ));
            }
            Action::Replace if !is_label_template(&target) => {
                return err(format!(
                    "{target:?} is invalid 'target_label' for replace action"
                ));
            }
            Action::Lowercase
            | Action::Uppercase
            | Action::HashMod
            | Action::KeepEqual
            | Action::DropEqual
                if !is_label_name(&target) =>
            {
                return err(format!(
                    "{target:?} is invalid 'target_label' for {} action",
                    action.as_str()
                ));
            }
            Action::HashMod if modulus == 0 => {
                return err("relabel configuration for hashmod requires non-zero modulus".into());
            }
            Action::KeepEqual | Action::DropEqual
                if c.regex.is_some()
                    || c.modulus.is_some()
                    || c.separator.is_some()
                    || c.replacement.is_some() =>
            {
                return err(format!(
                    "{} action requires only 'source_labels' and `target_label`, and no other fields",
                    action.as_str()
                ));
            }
            Action::LabelDrop | Action::LabelKeep
                if !c.source_labels.is_empty()
                    || c.target_label.is_some()
                    || c.modulus.is_some()
                    || c.separator.is_some()
                    || c.replacement.is_some() =>
            {
                return err(format!(
                    "{} action requires only 'regex', and no other fields",
                    action.as_str()
                ));
            }
            Action::LabelMap
                if c.replacement
                    .as_deref()
                    .is_some_and(|r| !is_label_template(r)) =>
            {
                return err(format!(
                    "{:?} is invalid 'replacement' for labelmap action",
                    c.replacement.as_deref().unwrap_or_default()
                ));
            }
            _ => {}
        }
        for l in &c.source_labels {
            if !is_label_name(l) {
                return err(format!("{l:?} is not a valid label name"));
            }
        }
        Ok(Rule {
            action,
            source_labels: c.source_labels.clone(),
            separator: c.separator.clone().unwrap_or_else(|| ";".into()),
            target_label: target,
            regex,
            modulus,
            replacement: c.replacement.clone().unwrap_or_else(|| "$1".into()),
        })
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// Applies the rule; `false` means the target or sample is dropped.
    pub fn apply(&self, labels: &mut BTreeMap<String, String>) -> bool {
        let value = self
            .source_labels
            .iter()
            .map(|l| labels.get(l).map(String::as_str).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&self.separator);
        match self.action {
            Action::Keep => return self.regex.is_match(&value),
            Action::Drop => return !self.regex.is_match(&value),
            Action::KeepEqual => {
                return labels
                    .get(&self.target_label)
                    .map(String::as_str)
                    .unwrap_or("")
                    == value;
            }
            Action::DropEqual => {
                return labels
                    .get(&self.target_label)
                    .map(String::as_str)
                    .unwrap_or("")
                    != value;
            }
            Action::Replace => {
                let Some(caps) = self.regex.captures(&value) else {
                    return true;
                };
                let mut target = String::new();
                caps.expand(&self.target_label, &mut target);
                if !is_label_name(&target) {
                    return true;
                }
                let mut result = String::new();
                caps.expand(&self.replacement, &mut result);
                if result.is_empty() {
                    labels.remove(&target);
                } else {
                    labels.insert(target, result);
                }
            }
            Action::Lowercase => {
                labels.insert(self.target_label.clone(), value.to_lowercase());
            }
            Action::Uppercase => {
                labels.insert(self.target_label.clone(), value.to_uppercase());
            }
            Action::HashMod => {
                let digest = Md5::digest(value.as_bytes());
                // The last 8 bytes, big-endian, as Prometheus sums them.
                let mut tail = [0u8; 8];
                tail.copy_from_slice(&digest[8..16]);
                let m = u64::from_be_bytes(tail) % self.modulus;
                labels.insert(self.target_label.clone(), m.to_string());
            }
            Action::LabelMap => {
                let adds: Vec<(String, String)> = labels
                    .iter()
                    .filter_map(|(k, v)| {
                        let caps = self.regex.captures(k)?;
                        let mut name = String::new();
                        caps.expand(&self.replacement, &mut name);
                        Some((name, v.clone()))
                    })
                    .collect();
                labels.extend(adds);
            }
            Action::LabelDrop => labels.retain(|k, _| !self.regex.is_match(k)),
            Action::LabelKeep => labels.retain(|k, _| self.regex.is_match(k)),
        }
        true
    }
}

/// Compiles a list of rules, naming the position of the first bad one.
pub fn compile(configs: &[RelabelConfig]) -> Result<Vec<Rule>, (usize, RelabelError)> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| Rule::new(c).map_err(|e| (i, e)))
        .collect()
}

/// Runs rules in order; `None` when a rule drops the label set. Labels
/// left with an empty value are removed.
pub fn process(
    rules: &[Rule],
    mut labels: BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    for r in rules {
        if !r.apply(&mut labels) {
            return None;
        }
    }
    labels.retain(|_, v| !v.is_empty());
    Some(labels)
}
