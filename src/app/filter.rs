//! The `/` filter: fuzzy over names (matched characters are highlighted), narrowed by `tag:k=v`,
//! `tag:k` and `type:text` terms. Case-insensitive.

use std::collections::BTreeMap;

/// A parsed filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub fuzzy: String,
    /// (key, optional value) — all must match.
    pub tags: Vec<(String, Option<String>)>,
    /// Substrings of the content type — all must match.
    pub types: Vec<String>,
}

impl Filter {
    pub fn parse(input: &str) -> Self {
        let mut f = Filter::default();
        let mut words = Vec::new();
        for term in input.split_whitespace() {
            if let Some(t) = term.strip_prefix("tag:") {
                match t.split_once('=') {
                    Some((k, v)) => f.tags.push((k.to_lowercase(), Some(v.to_lowercase()))),
                    None if !t.is_empty() => f.tags.push((t.to_lowercase(), None)),
                    None => {}
                }
            } else if let Some(t) = term.strip_prefix("type:") {
                if !t.is_empty() {
                    f.types.push(t.to_lowercase());
                }
            } else {
                words.push(term.to_lowercase());
            }
        }
        f.fuzzy = words.join("");
        f
    }

    pub fn is_empty(&self) -> bool {
        self.fuzzy.is_empty() && self.tags.is_empty() && self.types.is_empty()
    }

    /// Whether the secret passes; with the name's matched character positions, and a score (higher
    /// is better: consecutive and early matches).
    pub fn matches(
        &self,
        name: &str,
        content_type: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Option<(i64, Vec<usize>)> {
        for (k, v) in &self.tags {
            let found = tags.iter().any(|(tk, tv)| {
                tk.to_lowercase() == *k
                    && v.as_ref()
                        .is_none_or(|v| tv.to_lowercase().contains(v.as_str()))
            });
            if !found {
                return None;
            }
        }
        for t in &self.types {
            if !content_type.is_some_and(|ct| ct.to_lowercase().contains(t.as_str())) {
                return None;
            }
        }
        fuzzy(&self.fuzzy, name)
    }
}

/// Subsequence match of `pattern` (lower case) in `text`: positions (char indices) and a score.
pub fn fuzzy(pattern: &str, text: &str) -> Option<(i64, Vec<usize>)> {
    if pattern.is_empty() {
        return Some((0, Vec::new()));
    }
    if pattern.is_ascii() && text.is_ascii() {
        return fuzzy_ascii(pattern.as_bytes(), text.as_bytes());
    }
    let chars: Vec<char> = text.chars().collect();
    let pat: Vec<char> = pattern.chars().collect();
    let mut positions = Vec::with_capacity(pat.len());
    let mut score = 0i64;
    let mut pi = 0;
    let mut last: Option<usize> = None;
    for (i, c) in chars.iter().enumerate() {
        if pi == pat.len() {
            break;
        }
        if c.to_lowercase().eq(pat[pi].to_lowercase()) {
            score += 10;
            if last.is_some_and(|l| l + 1 == i) {
                score += 15;
            }
            if i == 0 || matches!(chars.get(i.wrapping_sub(1)), Some('-' | '_' | '.' | '/')) {
                score += 8;
            }
            positions.push(i);
            last = Some(i);
            pi += 1;
        }
    }
    if pi < pat.len() {
        return None;
    }
    score -= positions.first().copied().unwrap_or(0) as i64;
    score -= (chars.len() as i64) / 8;
    Some((score, positions))
}

/// `fuzzy` for ASCII text (secret names always are): bytes, no allocation unless it matches.
fn fuzzy_ascii(pat: &[u8], text: &[u8]) -> Option<(i64, Vec<usize>)> {
    // A quick no: not a subsequence at all.
    let mut pi = 0;
    for &c in text {
        if pi < pat.len() && c.eq_ignore_ascii_case(&pat[pi]) {
            pi += 1;
        }
    }
    if pi < pat.len() {
        return None;
    }
    let mut positions = Vec::with_capacity(pat.len());
    let mut score = 0i64;
    let mut pi = 0;
    let mut last: Option<usize> = None;
    for (i, c) in text.iter().enumerate() {
        if pi == pat.len() {
            break;
        }
        if c.eq_ignore_ascii_case(&pat[pi]) {
            score += 10;
            if last.is_some_and(|l| l + 1 == i) {
                score += 15;
            }
            if i == 0 || matches!(text.get(i.wrapping_sub(1)), Some(b'-' | b'_' | b'.' | b'/')) {
                score += 8;
            }
            positions.push(i);
            last = Some(i);
            pi += 1;
        }
    }
    score -= positions.first().copied().unwrap_or(0) as i64;
    score -= (text.len() as i64) / 8;
    Some((score, positions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_path_scores_as_the_general_one() {
        for (p, t) in [
            ("dbp", "db-password"),
            ("pass", "prod-api-secret-store"),
            ("zz", "a-zz"),
            ("x", "y"),
        ] {
            let chars: Vec<char> = t.chars().collect();
            // The general path, forced through a non-ASCII twin of the text.
            let general = fuzzy(p, &format!("{t}é")).map(|(s, pos)| {
                (
                    s + ((chars.len() + 1) as i64 / 8) - (chars.len() as i64 / 8),
                    pos,
                )
            });
            assert_eq!(fuzzy(p, t), general, "{p} in {t}");
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fuzzy_matches_subsequences_and_prefers_tight_matches() {
        let (_, pos) = fuzzy("dbp", "db-password").expect("match");
        assert_eq!(pos, [0, 1, 3]);
        assert!(fuzzy("xyz", "db-password").is_none());
        let tight = fuzzy("pass", "db-password").expect("m").0;
        let loose = fuzzy("pass", "prod-api-secret-store").map(|m| m.0);
        assert!(loose.is_none_or(|l| tight > l));
        assert_eq!(fuzzy("", "anything"), Some((0, vec![])));
        assert!(fuzzy("DB", "db-password").is_some(), "case-insensitive");
    }

    #[test]
    fn tag_and_type_terms_narrow() {
        let f = Filter::parse("db tag:env=prod type:json");
        assert_eq!(f.fuzzy, "db");
        let t = tags(&[("env", "prod"), ("team", "core")]);
        assert!(f.matches("db-conn", Some("application/json"), &t).is_some());
        assert!(f.matches("db-conn", Some("text/plain"), &t).is_none());
        assert!(f
            .matches(
                "db-conn",
                Some("application/json"),
                &tags(&[("env", "dev")])
            )
            .is_none());
        let only_key = Filter::parse("tag:team");
        assert!(only_key.matches("x", None, &t).is_some());
        assert!(only_key.matches("x", None, &tags(&[])).is_none());
        assert!(Filter::parse("   ").is_empty());
    }
}
