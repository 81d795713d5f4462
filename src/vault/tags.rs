//! A secret's tags, packed. Key Vault allows 15 per secret; a big vault lists 100,000 secrets with
//! a tag or two each, so a secret's tags are one allocation (none without tags): each key and value
//! as a 4-byte length and its bytes, pairs in key order. As a `Vec` of `String` pairs one tag took
//! four allocations (~130 bytes); as a `BTreeMap` its first node alone took ~0.5 KB. The API is the
//! part of a map's that kvtui uses.

use std::fmt;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tags(Box<[u8]>);

/// The pairs of packed tags, in key order.
#[derive(Clone)]
pub struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Pairs<'a> {
    /// The next field (a key or a value); `None` at the end.
    fn field(&mut self) -> Option<&'a str> {
        let (len, rest) = self.rest.split_first_chunk::<4>()?;
        let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
        let (text, rest) = rest.split_at(len);
        self.rest = rest;
        // Packed from `str`s only, so always UTF-8.
        Some(std::str::from_utf8(text).unwrap_or_default())
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        let k = self.field()?;
        let v = self.field().unwrap_or_default();
        Some((k, v))
    }
}

impl Tags {
    pub fn new() -> Self {
        Self::default()
    }

    /// Packs pairs already in key order, with distinct keys.
    fn pack<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = Vec::new();
        for (k, v) in pairs {
            for text in [k, v] {
                // Key Vault's limits (256 characters) are far below u32's.
                out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
        Tags(out.into_boxed_slice())
    }

    /// Sets `key` to `value`; returns the value it had.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        let old = self.get(&key).map(str::to_string);
        let mut pairs: Vec<(&str, &str)> = self.iter().filter(|(k, _)| *k != key).collect();
        let at = pairs.partition_point(|(k, _)| *k < key.as_str());
        pairs.insert(at, (&key, &value));
        *self = Self::pack(pairs);
        old
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let old = self.get(key).map(str::to_string)?;
        *self = Self::pack(self.iter().filter(|(k, _)| *k != key).collect::<Vec<_>>());
        Some(old)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The pairs, in key order.
    pub fn iter(&self) -> Pairs<'_> {
        Pairs { rest: &self.0 }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, String)> for Tags {
    /// Later pairs replace earlier ones of the same key, as in a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut pairs: Vec<(String, String)> = iter.into_iter().collect();
        // Stable: of equal keys the last one is kept after the reverse dedup below.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.reverse();
        pairs.dedup_by(|a, b| a.0 == b.0);
        pairs.reverse();
        Self::pack(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

impl<const N: usize> From<[(String, String); N]> for Tags {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl IntoIterator for Tags {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a str, &'a str);
    type IntoIter = Pairs<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl serde::Serialize for Tags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Tags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tag names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map_in_key_order() {
        let mut t: Tags = [("b".to_string(), "1".to_string()), ("a".into(), "2".into())].into();
        assert_eq!(t.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.insert("a".into(), "3".into()), Some("2".into()));
        assert_eq!(t.get("a"), Some("3"));
        assert!(t.contains_key("b") && !t.contains_key("c"));
        assert_eq!(t.remove("b"), Some("1".into()));
        assert_eq!(t.len(), 1);
        let dup: Tags = [
            ("k".to_string(), "old".to_string()),
            ("k".into(), "new".into()),
        ]
        .into();
        assert_eq!(dup.get("k"), Some("new"), "the last one wins");
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(json, r#"{"a":"3"}"#);
        assert_eq!(serde_json::from_str::<Tags>(&json).expect("back"), t);
        assert_eq!(format!("{t:?}"), r#"{"a": "3"}"#);
        assert_eq!(t.remove("a"), Some("3".into()));
        assert!(t.is_empty() && t.iter().next().is_none());
    }

    #[test]
    fn any_text_round_trips_packed() {
        let pairs = [
            ("".to_string(), "empty key".to_string()),
            ("nul\u{0}inside".into(), "\u{0}".into()),
            ("zé".into(), "line1\r\nline2 ␛".into()),
            ("k".into(), "".into()),
        ];
        let t: Tags = pairs.clone().into();
        assert_eq!(t.len(), 4);
        let mut want = pairs.to_vec();
        want.sort();
        assert_eq!(t.clone().into_iter().collect::<Vec<_>>(), want);
        assert_eq!(t.get("nul\u{0}inside"), Some("\u{0}"));
        assert_eq!(t.get("k"), Some(""));
        assert_eq!(t.get("missing"), None);
    }
}
