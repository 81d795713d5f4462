//! The `/` filter: fuzzy over names by nucleo's matcher (fzf syntax: words must all match, `'exact`,
//! `^prefix`, `suffix$`, `!not`; matched characters are highlighted), narrowed by `tag:k=v`, `tag:k`
//! and `type:text` terms. Case-insensitive. Small lists are matched here, synchronously; the open
//! vault's list is matched off the UI thread by [`super::engine::Engine`] with the same pattern.

use std::cell::RefCell;

use crate::vault::Tags;

use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use nucleo::{Config, Matcher, Utf32Str};

/// The matcher configuration every list uses (names: a match at the start ranks higher).
pub fn config() -> Config {
    let mut c = Config::DEFAULT;
    c.prefer_prefix = true;
    c
}

thread_local! {
    /// One matcher (its scoring matrix) per thread, for synchronous scoring and highlights.
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(config()));
}

/// A parsed filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The name part, as typed (words separated by one space).
    pub fuzzy: String,
    pattern: Pattern,
    /// (key, optional value) — all must match.
    pub tags: Vec<(String, Option<String>)>,
    /// Substrings of the content type — all must match.
    pub types: Vec<String>,
}

/// Whether `haystack` contains `needle` (lower case), ignoring ASCII case, without allocating.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle)
}

fn eq_ignoring_case(a: &str, lower: &str) -> bool {
    if a.is_ascii() {
        a.eq_ignore_ascii_case(lower)
    } else {
        a.to_lowercase() == lower
    }
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
                words.push(term);
            }
        }
        f.fuzzy = words.join(" ");
        f.pattern = Pattern::parse(&f.fuzzy, CaseMatching::Ignore, Normalization::Smart);
        f
    }

    pub fn is_empty(&self) -> bool {
        self.fuzzy.is_empty() && self.tags.is_empty() && self.types.is_empty()
    }

    /// Whether the name part matches nothing-in-particular (every name passes it).
    pub fn no_name_part(&self) -> bool {
        self.pattern.atoms.is_empty()
    }

    /// The tag and content-type terms: whether a secret with these passes them.
    pub fn passes(&self, content_type: Option<&str>, tags: &Tags) -> bool {
        self.tags.iter().all(|(k, v)| {
            tags.iter().any(|(tk, tv)| {
                eq_ignoring_case(tk, k) && v.as_ref().is_none_or(|v| contains_ignoring_case(tv, v))
            })
        }) && self
            .types
            .iter()
            .all(|t| content_type.is_some_and(|ct| contains_ignoring_case(ct, t)))
    }

    /// The name's score (higher is better), if it matches the name part.
    pub fn score(&self, name: &str) -> Option<u32> {
        if self.no_name_part() {
            return Some(0);
        }
        let mut buf = Vec::new();
        MATCHER.with(|m| {
            self.pattern
                .score(Utf32Str::new(name, &mut buf), &mut m.borrow_mut())
        })
    }

    /// Whether the secret passes; with its score.
    pub fn matches(&self, name: &str, content_type: Option<&str>, tags: &Tags) -> Option<u32> {
        if !self.passes(content_type, tags) {
            return None;
        }
        self.score(name)
    }

    /// The characters of `name` (char indices, ascending) the name part matches, by the optimal
    /// alignment: what a row highlights. Only the rows in view are asked.
    pub fn highlights(&self, name: &str) -> Vec<usize> {
        if self.no_name_part() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        let mut indices: Vec<u32> = Vec::new();
        let hit = MATCHER.with(|m| {
            self.pattern.indices(
                Utf32Str::new(name, &mut buf),
                &mut m.borrow_mut(),
                &mut indices,
            )
        });
        if hit.is_none() {
            return Vec::new();
        }
        indices.sort_unstable();
        indices.dedup();
        indices.into_iter().map(|i| i as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fuzzy_matches_subsequences_and_prefers_tight_matches() {
        let f = Filter::parse("dbp");
        assert_eq!(f.highlights("db-password"), [0, 1, 3]);
        assert!(Filter::parse("xyz").score("db-password").is_none());
        let pass = Filter::parse("pass");
        let tight = pass.score("db-password").expect("m");
        let loose = pass.score("prod-api-secret-store");
        assert!(loose.is_none_or(|l| tight > l));
        assert_eq!(Filter::parse("").score("anything"), Some(0));
        assert!(
            Filter::parse("DB").score("db-password").is_some(),
            "case-insensitive"
        );
    }

    #[test]
    fn highlights_are_the_best_alignment_not_the_leftmost() {
        // Greedy leftmost would take the first 'a' of "a-b-api" and 'p', 'i' after it.
        assert_eq!(Filter::parse("api").highlights("a-b-api"), [4, 5, 6]);
        assert_eq!(
            Filter::parse("pass").highlights("prod-apps-password"),
            [10, 11, 12, 13]
        );
    }

    #[test]
    fn words_must_all_match_in_any_order_and_fzf_terms_work() {
        let f = Filter::parse("pass db");
        assert!(f.score("db-password").is_some());
        assert!(f.score("db-user").is_none());
        assert!(Filter::parse("^db").score("prod-db").is_none());
        assert!(Filter::parse("^db").score("db-prod").is_some());
        assert!(Filter::parse("db$").score("prod-db").is_some());
        assert!(Filter::parse("!prod").score("prod-db").is_none());
        assert!(Filter::parse("'rod-d").score("prod-db").is_some());
        assert!(Filter::parse("'rdd").score("prod-db").is_none());
    }

    #[test]
    fn tag_and_type_terms_narrow() {
        let f = Filter::parse("db tag:env=prod type:json");
        assert_eq!(f.fuzzy, "db");
        let t = tags(&[("Env", "Prod"), ("team", "core")]);
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
        assert!(Filter::parse("tag:env=é").passes(None, &tags(&[("env", "CAFÉ")])));
    }
}
