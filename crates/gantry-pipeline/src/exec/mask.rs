//! Secret masking for everything the executor lets out of a step.

/// Replaces every occurrence of a registered secret with `***`.
///
/// Behaviour (matching the GitHub runner's secret masker):
/// - a value is trimmed before it is registered; empty and whitespace-only
///   values are ignored (masking them would hide every line);
/// - there is no minimum length: a one-character secret masks that character
///   everywhere, as GitHub's default `MinSecretLength = 0` does;
/// - a multi-line value is registered whole *and* line by line (each line
///   trimmed), because logs arrive one line at a time;
/// - at each position the longest matching secret wins, scanning left to right.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Sorted longest first, no duplicates.
    values: Vec<String>,
}

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

impl Masker {
    /// A masker for the given secret values.
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut m = Masker::default();
        for v in values {
            m.add(v.as_ref());
        }
        m
    }

    /// Registers one more secret value (see the type docs for the rules).
    pub fn add(&mut self, value: &str) {
        let whole = value.trim();
        if whole.is_empty() {
            return;
        }
        let mut new = vec![whole.to_string()];
        for line in whole.split(['\r', '\n']) {
            let line = line.trim();
            if !line.is_empty() {
                new.push(line.to_string());
            }
        }
        for v in new {
            if !self.values.contains(&v) {
                self.values.push(v);
            }
        }
        self.values
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// True when no secret is registered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every registered secret replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        if self.values.is_empty() || text.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < text.len() {
            let rest = &text[i..];
            if let Some(v) = self.values.iter().find(|v| rest.starts_with(v.as_str())) {
                out.push_str(MASK);
                i += v.len();
                continue;
            }
            // Advance by one whole character so `i` stays on a char boundary.
            let ch_len = utf8_len(bytes[i]);
            out.push_str(&text[i..i + ch_len]);
            i += ch_len;
        }
        out
    }
}

/// Length of the UTF-8 sequence starting with `first` (text is valid UTF-8).
fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_first_and_lines() {
        let m = Masker::new(["abc", "abcdef", "l1\nl2 "]);
        assert_eq!(m.mask("xabcdefx abc"), "x***x ***");
        assert_eq!(m.mask("l1 and l2"), "*** and ***");
        assert_eq!(m.mask("héllo"), "héllo");
        let m = Masker::new(["", "  ", "é"]);
        assert_eq!(m.mask("héé"), "h******");
    }
}
