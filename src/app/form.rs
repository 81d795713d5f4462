//! The secret form (create, new version, properties): fields, validation as you type, and the
//! parsers behind them. Pure: no I/O.

use crate::vault::Tags;

use time::{OffsetDateTime, UtcOffset};

pub use super::dates::{parse_date, show_date};
use super::text::{Edit, LineField, LinesField, SecretField};
use crate::vault::{NewSecret, PropertiesPatch, SecretProps, SecretValue};

pub const MAX_VALUE_BYTES: usize = 25 * 1024;
pub const MAX_TAGS: usize = 15;
pub const MAX_TAG_CHARS: usize = 512;
pub const MAX_CONTENT_TYPE: usize = 255;

/// `^[0-9a-zA-Z-]{1,127}$`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name is required".into());
    }
    if name.len() > 127 {
        return Err(format!("at most 127 characters ({} now)", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "'{c}' is not allowed: letters, digits and hyphens only"
        ));
    }
    Ok(())
}

/// One `key=value` per line, split at the first `=`; blank lines ignored.
pub fn parse_tags(text: &str) -> Result<Tags, String> {
    let mut tags = Tags::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {}: expected key=value", i + 1));
        };
        let (k, v) = (
            super::text::invisible(k.trim()),
            super::text::invisible(v.trim()),
        );
        let (k, v) = (k.as_str(), v.as_str());
        if k.is_empty() {
            return Err(format!("line {}: the key is empty", i + 1));
        }
        if k.chars().count() > MAX_TAG_CHARS || v.chars().count() > MAX_TAG_CHARS {
            return Err(format!(
                "line {}: keys and values are at most {MAX_TAG_CHARS} characters",
                i + 1
            ));
        }
        if tags.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("line {}: '{k}' appears twice", i + 1));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags ({} now)", tags.len()));
    }
    Ok(tags)
}

/// Tags as the form edits them; control characters shown as their pictures (a CR/LF in a tag stays
/// in its line) and given back by `parse_tags`.
pub fn format_tags(tags: &Tags) -> String {
    use super::text::visible;
    tags.iter()
        .map(|(k, v)| format!("{}={}", visible(k), visible(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormKind {
    Create,
    NewVersion {
        name: String,
    },
    /// Properties of the latest (`None`) or a given version.
    Properties {
        name: String,
        version: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Value,
    ContentType,
    Tags,
    Enabled,
    NotBefore,
    Expires,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Value => "value",
            Field::ContentType => "content type",
            Field::Tags => "tags",
            Field::Enabled => "enabled",
            Field::NotBefore => "not before",
            Field::Expires => "expires",
        }
    }

    pub fn multiline(self) -> bool {
        matches!(self, Field::Value | Field::Tags)
    }
}

pub struct Form {
    pub kind: FormKind,
    pub name: LineField,
    pub value: SecretField,
    pub content_type: LineField,
    pub tags: LinesField,
    pub enabled: bool,
    pub not_before: LineField,
    pub expires: LineField,
    pub focus: usize,
    pub show_value: bool,
    /// The service's answer to the last submission, kept with everything typed.
    pub service_error: Option<crate::vault::VaultError>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("kind", &self.kind)
            .field("name", &self.name.value())
            .field("value", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Form {
    pub fn create() -> Self {
        Self {
            kind: FormKind::Create,
            name: LineField::default(),
            value: SecretField::new(),
            content_type: LineField::default(),
            tags: LinesField::new(""),
            enabled: true,
            not_before: LineField::default(),
            expires: LineField::default(),
            focus: 0,
            show_value: false,
            service_error: None,
        }
    }

    /// A new version: content type, tags and enabled prefilled (a PUT inherits nothing); expiry blank.
    pub fn new_version(current: &SecretProps) -> Self {
        Self {
            kind: FormKind::NewVersion {
                name: current.name.clone(),
            },
            name: LineField::new(current.name.clone()),
            content_type: LineField::new(
                super::text::visible(current.content_type.as_deref().unwrap_or_default())
                    .into_owned(),
            ),
            tags: LinesField::new(&format_tags(&current.tags)),
            enabled: current.enabled,
            ..Self::create()
        }
    }

    pub fn properties(current: &SecretProps, version: Option<String>, local: UtcOffset) -> Self {
        let date = |d: Option<OffsetDateTime>| {
            d.map(|d| {
                show_date(d, local)
                    .rsplit_once(' ')
                    .map(|(a, _)| a.replace(' ', "T"))
                    .unwrap_or_default()
            })
            .unwrap_or_default()
        };
        Self {
            kind: FormKind::Properties {
                name: current.name.clone(),
                version,
            },
            name: LineField::new(current.name.clone()),
            content_type: LineField::new(
                super::text::visible(current.content_type.as_deref().unwrap_or_default())
                    .into_owned(),
            ),
            tags: LinesField::new(&format_tags(&current.tags)),
            enabled: current.enabled,
            not_before: LineField::new(date(current.not_before)),
            expires: LineField::new(date(current.expires)),
            ..Self::create()
        }
    }

    pub fn fields(&self) -> Vec<Field> {
        match self.kind {
            FormKind::Create => vec![
                Field::Name,
                Field::Value,
                Field::ContentType,
                Field::Tags,
                Field::Enabled,
                Field::NotBefore,
                Field::Expires,
            ],
            FormKind::NewVersion { .. } => vec![
                Field::Value,
                Field::ContentType,
                Field::Tags,
                Field::Enabled,
                Field::NotBefore,
                Field::Expires,
            ],
            FormKind::Properties { .. } => vec![
                Field::ContentType,
                Field::Tags,
                Field::Enabled,
                Field::NotBefore,
                Field::Expires,
            ],
        }
    }

    pub fn focused(&self) -> Field {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    /// The name the form is about (typed, for a new secret).
    pub fn secret_name(&self) -> String {
        self.name.value().to_string()
    }

    /// Applies an edit to a field; `false` when the field had nothing to do with it (Up on a field's
    /// first line, or a field that takes no text).
    pub fn apply(&mut self, field: Field, e: Edit) -> bool {
        match field {
            Field::Name => self.name.apply(e),
            Field::Value => self.value.apply(e),
            Field::ContentType => self.content_type.apply(e),
            Field::Tags => self.tags.apply(e),
            Field::NotBefore => self.not_before.apply(e),
            Field::Expires => self.expires.apply(e),
            Field::Enabled => false,
        }
    }

    /// Pastes at the cursor: value and tags keep line breaks (a PEM stays a PEM), others take one line.
    pub fn paste(&mut self, field: Field, text: &str) {
        let first = text.lines().next().unwrap_or_default();
        match field {
            Field::Name => self.name.insert_str(first.trim()),
            Field::Value => self.value.insert_str(text),
            Field::ContentType => self.content_type.insert_str(first),
            Field::Tags => self.tags.insert_str(text),
            Field::NotBefore => self.not_before.insert_str(first),
            Field::Expires => self.expires.insert_str(first),
            Field::Enabled => {}
        }
    }

    /// The error of one field, as the user types.
    pub fn field_error(
        &self,
        field: Field,
        now: OffsetDateTime,
        local: UtcOffset,
    ) -> Option<String> {
        match field {
            Field::Name => validate_name(self.name.value()).err(),
            Field::Value if self.value.len() > MAX_VALUE_BYTES => {
                Some(format!("at most 25 KiB ({} bytes now)", self.value.len()))
            }
            Field::ContentType if self.content_type.value().chars().count() > MAX_CONTENT_TYPE => {
                Some(format!("at most {MAX_CONTENT_TYPE} characters"))
            }
            Field::Tags => parse_tags(&self.tags.text()).err(),
            Field::NotBefore => parse_date(self.not_before.value(), now, local).err(),
            Field::Expires => match parse_date(self.expires.value(), now, local) {
                Err(e) => Some(e),
                Ok(Some(exp)) => match parse_date(self.not_before.value(), now, local) {
                    Ok(Some(nbf)) if nbf >= exp => Some("must be after not before".into()),
                    _ => None,
                },
                Ok(None) => None,
            },
            _ => None,
        }
    }

    pub fn errors(&self, now: OffsetDateTime, local: UtcOffset) -> Vec<(Field, String)> {
        self.fields()
            .into_iter()
            .filter_map(|f| self.field_error(f, now, local).map(|e| (f, e)))
            .collect()
    }

    /// The secret to send, when every field is valid.
    pub fn new_secret(&self, now: OffsetDateTime, local: UtcOffset) -> Option<NewSecret> {
        if !self.errors(now, local).is_empty() {
            return None;
        }
        Some(NewSecret {
            value: SecretValue::new(self.value.expose().to_string()),
            content_type: (!self.content_type.value().trim().is_empty())
                .then(|| super::text::invisible(self.content_type.value().trim())),
            tags: parse_tags(&self.tags.text()).ok()?,
            enabled: self.enabled,
            not_before: parse_date(self.not_before.value(), now, local).ok()?,
            expires: parse_date(self.expires.value(), now, local).ok()?,
        })
    }

    pub fn patch(&self, now: OffsetDateTime, local: UtcOffset) -> Option<PropertiesPatch> {
        if !self.errors(now, local).is_empty() {
            return None;
        }
        Some(PropertiesPatch {
            enabled: Some(self.enabled),
            content_type: Some(super::text::invisible(self.content_type.value().trim())),
            tags: Some(parse_tags(&self.tags.text()).ok()?),
            not_before: parse_date(self.not_before.value(), now, local).ok()?,
            expires: parse_date(self.expires.value(), now, local).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn names() {
        assert!(validate_name("db-password-2").is_ok());
        assert!(validate_name(&"a".repeat(127)).is_ok());
        assert_eq!(validate_name(""), Err("a name is required".into()));
        assert!(validate_name(&"a".repeat(128)).unwrap_err().contains("127"));
        assert_eq!(
            validate_name("db_password"),
            Err("'_' is not allowed: letters, digits and hyphens only".into())
        );
    }

    #[test]
    fn tags_split_at_the_first_equals() {
        let t = parse_tags("env=prod\n\nurl = https://x?a=b \nempty=").expect("tags");
        assert_eq!(t.get("url"), Some("https://x?a=b"));
        assert_eq!(t.get("empty"), Some(""));
        assert_eq!(
            parse_tags("novalue"),
            Err("line 1: expected key=value".into())
        );
        assert!(parse_tags("=x").unwrap_err().contains("key is empty"));
        assert!(parse_tags("a=1\na=2").unwrap_err().contains("twice"));
        let many: String = (0..16).map(|i| format!("k{i}=v\n")).collect();
        assert!(parse_tags(&many).unwrap_err().contains("at most 15"));
        assert!(parse_tags(&format!("k={}", "v".repeat(513))).is_err());
    }

    #[test]
    fn a_form_sends_nothing_until_valid_and_keeps_what_was_typed() {
        let mut f = Form::create();
        f.name.set("bad name");
        f.value.insert_str("v");
        f.expires.set("soon");
        let errs = f.errors(now(), UtcOffset::UTC);
        assert_eq!(
            errs.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            [Field::Name, Field::Expires]
        );
        assert!(f.new_secret(now(), UtcOffset::UTC).is_none());
        f.name.set("good-name");
        f.expires.set("+30d");
        f.not_before.set("+40d");
        assert_eq!(
            f.field_error(Field::Expires, now(), UtcOffset::UTC),
            Some("must be after not before".into())
        );
        f.not_before.clear();
        f.tags = LinesField::new("env=prod");
        let s = f.new_secret(now(), UtcOffset::UTC).expect("valid");
        assert_eq!(s.expires, Some(now() + Duration::days(30)));
        assert_eq!(s.tags.get("env"), Some("prod"));
        assert!(s.enabled);
    }

    #[test]
    fn new_version_prefills_what_a_put_would_drop() {
        let mut p = SecretProps {
            name: "x".into(),
            content_type: Some("application/json".into()),
            enabled: false,
            ..SecretProps::default()
        };
        p.tags.insert("team".into(), "core".into());
        p.expires = Some(now());
        let f = Form::new_version(&p);
        assert_eq!(
            (f.content_type.value(), f.tags.text().as_str(), f.enabled),
            ("application/json", "team=core", false)
        );
        assert!(f.expires.is_empty(), "expiry starts blank");
        assert_eq!(f.fields()[0], Field::Value);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}") {
            let _ = validate_name(&s);
            let _ = parse_tags(&s);
            let _ = parse_date(&s, now(), UtcOffset::UTC);
        }
    }
}
