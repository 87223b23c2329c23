//! "Did you mean" suggestions for misspelled keys and values.

/// The candidate `word` most likely stands for: one that differs only in case
/// or `_` versus `-`, else the nearest within two edits.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_lowercase().replace('_', "-");
    let word = normal(word);
    if let Some(exact) = candidates.iter().find(|c| normal(c) == word) {
        return Some(exact);
    }
    candidates
        .iter()
        .filter_map(|c| edit_distance(&word, &normal(c)).map(|d| (d, *c)))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions), or `None` when the lengths alone differ by more than two.
fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return None;
    }
    // rows[i][j] is the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    Some(rows[a.len()][b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["version", "server", "demo", "events", "data-dir"];

    #[test]
    fn suggests_close_keys() {
        assert_eq!(did_you_mean("sever", KEYS), Some("server"));
        assert_eq!(did_you_mean("verison", KEYS), Some("version"));
        assert_eq!(did_you_mean("DATA_DIR", KEYS), Some("data-dir"));
        assert_eq!(did_you_mean("data_directory", KEYS), None);
        assert_eq!(did_you_mean("monitors", KEYS), None);
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "ab"), Some(2));
        assert_eq!(edit_distance("ab", "ba"), Some(1));
        assert_eq!(edit_distance("kitten", "sitting"), Some(3));
        assert_eq!(edit_distance("a", "abcd"), None);
    }
}
