//! The secret form (create, new version, properties): fields, validation as you type, and the
//! parsers behind them. Pure: no I/O.

use std::collections::BTreeMap;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use zeroize::Zeroizing;

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
pub fn parse_tags(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut tags = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {}: expected key=value", i + 1));
        };
        let (k, v) = (k.trim(), v.trim());
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

pub fn format_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A date: `2026-12-31` (local midnight), `2026-12-31T08:00` or `2026-12-31 08:00[:ss]` (local time),
/// either with an explicit offset (`Z`, `+02:00`), or relative: `+30d`, `+12h`, `+90m`. Empty: none.
pub fn parse_date(
    text: &str,
    now: OffsetDateTime,
    local: UtcOffset,
) -> Result<Option<OffsetDateTime>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(rel) = t.strip_prefix('+') {
        // Split off the unit by character: the text may end in a multi-byte one.
        let unit_len = rel.chars().last().map(char::len_utf8).unwrap_or(0);
        let (num, unit) = rel.split_at(rel.len() - unit_len);
        let n: i64 = num
            .parse()
            .map_err(|_| format!("'{t}': expected +30d, +12h or +90m"))?;
        let d = match unit {
            "d" => Duration::days(n),
            "h" => Duration::hours(n),
            "m" => Duration::minutes(n),
            _ => return Err(format!("'{t}': the unit is d, h or m")),
        };
        if n <= 0 {
            return Err(format!("'{t}': must be in the future"));
        }
        return Ok(Some(now + d));
    }
    let bad = || format!("'{t}': expected 2026-12-31, 2026-12-31T08:00, +30d or +12h");
    let (date_part, rest) = t.split_at(t.find(['T', ' ']).unwrap_or(t.len()));
    let mut d = date_part.split('-');
    let (Some(y), Some(m), Some(dd), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = dd.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| format!("'{t}': there is no month {month}"))?;
    let date =
        Date::from_calendar_date(year, month, day).map_err(|_| format!("'{t}': no such day"))?;
    let rest = rest.trim_start_matches(['T', ' ']);
    // Split an explicit offset from the time.
    let (time_part, offset) = if let Some(tp) = rest.strip_suffix('Z') {
        (tp, Some(UtcOffset::UTC))
    } else if let Some(i) = rest.rfind(['+', '-']).filter(|i| *i > 0) {
        let (tp, off) = rest.split_at(i);
        let sign: i8 = if off.starts_with('-') { -1 } else { 1 };
        let mut hm = off[1..].split(':');
        let h: i8 = hm.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let mi: i8 = hm.next().unwrap_or("0").parse().map_err(|_| bad())?;
        let o = UtcOffset::from_hms(sign * h, sign * mi, 0).map_err(|_| bad())?;
        (tp, Some(o))
    } else {
        (rest, None)
    };
    let time = if time_part.is_empty() {
        Time::MIDNIGHT
    } else {
        let mut p = time_part.split(':');
        let h: u8 = p.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let mi: u8 = p.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let s: u8 = p.next().unwrap_or("0").parse().map_err(|_| bad())?;
        Time::from_hms(h, mi, s).map_err(|_| format!("'{t}': no such time"))?
    };
    Ok(Some(
        PrimitiveDateTime::new(date, time).assume_offset(offset.unwrap_or(local)),
    ))
}

/// How a parsed date is shown next to its field: local time with its offset.
pub fn show_date(d: OffsetDateTime, local: UtcOffset) -> String {
    let l = d.to_offset(local);
    let (h, m, _) = local.as_hms();
    format!(
        "{} {:02}:{:02} {}{:02}:{:02}",
        l.date(),
        l.hour(),
        l.minute(),
        if local.is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs()
    )
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
    pub name: String,
    pub value: Zeroizing<String>,
    pub content_type: String,
    pub tags: String,
    pub enabled: bool,
    pub not_before: String,
    pub expires: String,
    pub focus: usize,
    pub show_value: bool,
    /// The service's answer to the last submission, kept with everything typed.
    pub service_error: Option<String>,
    pub submitting: Option<u64>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("value", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Form {
    pub fn create() -> Self {
        Self {
            kind: FormKind::Create,
            name: String::new(),
            value: Zeroizing::new(String::new()),
            content_type: String::new(),
            tags: String::new(),
            enabled: true,
            not_before: String::new(),
            expires: String::new(),
            focus: 0,
            show_value: false,
            service_error: None,
            submitting: None,
        }
    }

    /// A new version: content type, tags and enabled prefilled (a PUT inherits nothing); expiry blank.
    pub fn new_version(current: &SecretProps) -> Self {
        Self {
            kind: FormKind::NewVersion {
                name: current.name.clone(),
            },
            name: current.name.clone(),
            content_type: current.content_type.clone().unwrap_or_default(),
            tags: format_tags(&current.tags),
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
            name: current.name.clone(),
            content_type: current.content_type.clone().unwrap_or_default(),
            tags: format_tags(&current.tags),
            enabled: current.enabled,
            not_before: date(current.not_before),
            expires: date(current.expires),
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

    pub fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        match field {
            Field::Name => Some(&mut self.name),
            Field::Value => Some(&mut self.value),
            Field::ContentType => Some(&mut self.content_type),
            Field::Tags => Some(&mut self.tags),
            Field::NotBefore => Some(&mut self.not_before),
            Field::Expires => Some(&mut self.expires),
            Field::Enabled => None,
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
            Field::Name => validate_name(&self.name).err(),
            Field::Value if self.value.len() > MAX_VALUE_BYTES => {
                Some(format!("at most 25 KiB ({} bytes now)", self.value.len()))
            }
            Field::ContentType if self.content_type.chars().count() > MAX_CONTENT_TYPE => {
                Some(format!("at most {MAX_CONTENT_TYPE} characters"))
            }
            Field::Tags => parse_tags(&self.tags).err(),
            Field::NotBefore => parse_date(&self.not_before, now, local).err(),
            Field::Expires => match parse_date(&self.expires, now, local) {
                Err(e) => Some(e),
                Ok(Some(exp)) => match parse_date(&self.not_before, now, local) {
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
            value: SecretValue::new(self.value.to_string()),
            content_type: (!self.content_type.trim().is_empty())
                .then(|| self.content_type.trim().to_string()),
            tags: parse_tags(&self.tags).ok()?,
            enabled: self.enabled,
            not_before: parse_date(&self.not_before, now, local).ok()?,
            expires: parse_date(&self.expires, now, local).ok()?,
        })
    }

    pub fn patch(&self, now: OffsetDateTime, local: UtcOffset) -> Option<PropertiesPatch> {
        if !self.errors(now, local).is_empty() {
            return None;
        }
        Some(PropertiesPatch {
            enabled: Some(self.enabled),
            content_type: Some(self.content_type.trim().to_string()),
            tags: Some(parse_tags(&self.tags).ok()?),
            not_before: parse_date(&self.not_before, now, local).ok()?,
            expires: parse_date(&self.expires, now, local).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(t.get("url").map(String::as_str), Some("https://x?a=b"));
        assert_eq!(t.get("empty").map(String::as_str), Some(""));
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
    fn dates_absolute_local_explicit_and_relative() {
        let local = UtcOffset::from_hms(2, 0, 0).expect("offset");
        let d = parse_date("2026-12-31", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(
            (d.date().to_string(), d.hour(), d.offset()),
            ("2026-12-31".to_string(), 0, local)
        );
        let d = parse_date("2026-12-31T08:00", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(
            d.to_offset(UtcOffset::UTC).hour(),
            6,
            "no offset means local time"
        );
        let d = parse_date("2026-12-31T08:00Z", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(d.to_offset(UtcOffset::UTC).hour(), 8);
        let d = parse_date("2026-12-31 08:00-05:00", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(d.to_offset(UtcOffset::UTC).hour(), 13);
        assert_eq!(
            parse_date("+30d", now(), local),
            Ok(Some(now() + Duration::days(30)))
        );
        assert_eq!(
            parse_date("+12h", now(), local),
            Ok(Some(now() + Duration::hours(12)))
        );
        assert_eq!(parse_date("", now(), local), Ok(None));
        assert!(parse_date("2026-02-30", now(), local)
            .unwrap_err()
            .contains("no such day"));
        assert!(parse_date("2026-13-01", now(), local)
            .unwrap_err()
            .contains("no month 13"));
        assert!(parse_date("tomorrow", now(), local).is_err());
        assert!(parse_date("+3w", now(), local)
            .unwrap_err()
            .contains("unit"));
        assert!(parse_date("+0d", now(), local).is_err());
        assert_eq!(
            show_date(OffsetDateTime::UNIX_EPOCH, local),
            "1970-01-01 02:00 +02:00"
        );
    }

    #[test]
    fn a_form_sends_nothing_until_valid_and_keeps_what_was_typed() {
        let mut f = Form::create();
        f.name = "bad name".into();
        f.value = Zeroizing::new("v".into());
        f.expires = "soon".into();
        let errs = f.errors(now(), UtcOffset::UTC);
        assert_eq!(
            errs.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            [Field::Name, Field::Expires]
        );
        assert!(f.new_secret(now(), UtcOffset::UTC).is_none());
        f.name = "good-name".into();
        f.expires = "+30d".into();
        f.not_before = "+40d".into();
        assert_eq!(
            f.field_error(Field::Expires, now(), UtcOffset::UTC),
            Some("must be after not before".into())
        );
        f.not_before.clear();
        f.tags = "env=prod".into();
        let s = f.new_secret(now(), UtcOffset::UTC).expect("valid");
        assert_eq!(s.expires, Some(now() + Duration::days(30)));
        assert_eq!(s.tags.get("env").map(String::as_str), Some("prod"));
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
            (f.content_type.as_str(), f.tags.as_str(), f.enabled),
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

        #[test]
        fn relative_dates_round_trip(n in 1i64..10_000) {
            prop_assert_eq!(parse_date(&format!("+{n}d"), now(), UtcOffset::UTC), Ok(Some(now() + Duration::days(n))));
        }
    }
}
