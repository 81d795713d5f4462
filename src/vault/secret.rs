//! What the worker hands the views: secret values kept in zeroizing buffers, and plain property
//! records converted from the SDK's models.
//!
//! Note: the SDK deserialises a value into its own `String` (`models::Secret::value`), which kvtui
//! cannot zeroize; kvtui moves it into a [`SecretValue`] at once and keeps no other copy.

use super::Tags;
use std::borrow::Cow;
use std::fmt;

use azure_security_keyvault_secrets::models::{
    DeletedSecret, DeletedSecretProperties, Secret, SecretAttributes, SecretProperties,
};
use azure_security_keyvault_secrets::ResourceExt;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A secret value: zeroized when dropped, never printed by `Debug` or `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The value itself. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// Properties of a secret or of one of its versions (never its value: the names cache keeps these).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SecretProps {
    pub name: String,
    /// The identifier as the service gave it (with the version for a version or a bundle).
    pub id: String,
    pub version: Option<String>,
    pub enabled: bool,
    pub content_type: Option<String>,
    pub tags: Tags,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires: Option<OffsetDateTime>,
    /// One of a few words: the known ones are not allocated per secret (a big vault lists many).
    pub recovery_level: Option<Cow<'static, str>>,
    pub recoverable_days: Option<i32>,
    /// Certificate-backed secrets are managed by Key Vault and read-only.
    pub managed: bool,
}

/// A deleted (recoverable) secret.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeletedProps {
    pub props: SecretProps,
    pub recovery_id: Option<String>,
    pub deleted_on: Option<OffsetDateTime>,
    pub scheduled_purge: Option<OffsetDateTime>,
}

/// A recovery level as text; the service's known levels shared, not allocated per secret.
pub fn recovery_level(level: String) -> Cow<'static, str> {
    const KNOWN: [&str; 8] = [
        "Purgeable",
        "Recoverable+Purgeable",
        "Recoverable",
        "Recoverable+ProtectedSubscription",
        "CustomizedRecoverable+Purgeable",
        "CustomizedRecoverable",
        "CustomizedRecoverable+ProtectedSubscription",
        "Recoverable+Purgeable+ProtectedSubscription",
    ];
    match KNOWN.iter().find(|k| **k == level) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(level),
    }
}

fn apply_attributes(p: &mut SecretProps, a: Option<&SecretAttributes>) {
    if let Some(a) = a {
        p.enabled = a.enabled.unwrap_or(true);
        p.created = a.created;
        p.updated = a.updated;
        p.not_before = a.not_before;
        p.expires = a.expires;
        p.recovery_level = a
            .recovery_level
            .as_ref()
            .map(|l| recovery_level(l.to_string()));
        p.recoverable_days = a.recoverable_days;
    } else {
        p.enabled = true;
    }
}

fn props(
    id: Option<&str>,
    attributes: Option<&SecretAttributes>,
    content_type: Option<&String>,
    tags: Option<&std::collections::HashMap<String, String>>,
    managed: Option<bool>,
    name_and_version: Option<(String, Option<String>)>,
) -> SecretProps {
    let (name, version) = name_and_version.unwrap_or_default();
    let mut p = SecretProps {
        name,
        id: id.unwrap_or_default().to_string(),
        version,
        content_type: content_type.cloned(),
        tags: tags
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        managed: managed.unwrap_or(false),
        ..SecretProps::default()
    };
    apply_attributes(&mut p, attributes);
    p
}

/// The SDK's four model types carry the same fields but share no trait: one macro reads them.
macro_rules! props_of {
    ($s:expr) => {{
        let s = $s;
        props(
            s.id.as_deref(),
            s.attributes.as_ref(),
            s.content_type.as_ref(),
            s.tags.as_ref(),
            s.managed,
            s.resource_id().ok().map(|r| (r.name, r.version)),
        )
    }};
}

macro_rules! deleted_of {
    ($s:expr) => {{
        let s = $s;
        DeletedProps {
            props: props_of!(s),
            recovery_id: s.recovery_id.clone(),
            deleted_on: s.deleted_date,
            scheduled_purge: s.scheduled_purge_date,
        }
    }};
}

impl From<&SecretProperties> for SecretProps {
    fn from(s: &SecretProperties) -> Self {
        props_of!(s)
    }
}

impl From<&Secret> for SecretProps {
    fn from(s: &Secret) -> Self {
        props_of!(s)
    }
}

impl From<&DeletedSecretProperties> for DeletedProps {
    fn from(s: &DeletedSecretProperties) -> Self {
        deleted_of!(s)
    }
}

impl From<&DeletedSecret> for DeletedProps {
    fn from(s: &DeletedSecret) -> Self {
        deleted_of!(s)
    }
}

/// Takes the value out of an SDK `Secret` into a zeroizing buffer.
pub fn take_value(secret: &mut Secret) -> SecretValue {
    SecretValue::new(secret.value.take().unwrap_or_default())
}

/// A new secret, or a new version of one: a PUT inherits nothing, so every field is sent.
#[derive(Clone, Debug, Default)]
pub struct NewSecret {
    pub value: SecretValue,
    pub content_type: Option<String>,
    pub tags: Tags,
    pub enabled: bool,
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
}

/// A change of properties; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PropertiesPatch {
    pub enabled: Option<bool>,
    pub content_type: Option<String>,
    pub tags: Option<Tags>,
    /// `Some(None)` cannot be expressed by the service (it ignores nulls): dates are set, not cleared.
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
}

/// `db-password` → `DB_PASSWORD`: upper case, anything but letters and digits an underscore, never a
/// leading digit.
pub fn env_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `NAME=value`, the value in single quotes when it holds anything a POSIX shell would read
/// specially (a `'` inside becomes `'\''`). Built in a zeroized buffer: it is the value.
pub fn env_line(name: &str, value: &str) -> SecretValue {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:@%+,=".contains(&b));
    let mut s = zeroize::Zeroizing::new(String::with_capacity(name.len() + value.len() * 2 + 4));
    s.push_str(&env_name(name));
    s.push('=');
    if plain {
        s.push_str(value);
    } else {
        s.push('\'');
        for c in value.chars() {
            if c == '\'' {
                s.push_str("'\\''");
            } else {
                s.push(c);
            }
        }
        s.push('\'');
    }
    SecretValue::new(std::mem::take(&mut *s))
}
