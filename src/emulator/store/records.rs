//! What a vault holds, as data: secrets and their versions, deleted records, the state of one name
//! (what `--data` writes), the vault's soft-delete policy, and the store's errors.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A point in time, in milliseconds since the Unix epoch.
pub type Millis = u64;

/// Service-visible times are whole Unix seconds.
pub fn secs(now: Millis) -> i64 {
    (now / 1000) as i64
}

/// The deletion policy of a vault, fixed when the emulator starts.
#[derive(Clone, Debug)]
pub struct VaultPolicy {
    /// 0 means soft delete is off: a delete removes the secret for good.
    pub recoverable_days: u32,
    pub purge_protection: bool,
    /// For this long after a delete, the deleted secret is not yet visible and its name is busy.
    pub delete_delay_ms: u64,
    /// For this long after a recover, the secret is not yet readable.
    pub recover_delay_ms: u64,
}

impl Default for VaultPolicy {
    fn default() -> Self {
        Self {
            recoverable_days: 90,
            purge_protection: false,
            delete_delay_ms: 0,
            recover_delay_ms: 0,
        }
    }
}

impl VaultPolicy {
    /// The `recoveryLevel` the service reports for this policy.
    pub fn recovery_level(&self) -> &'static str {
        match (self.recoverable_days, self.purge_protection) {
            (0, _) => "Purgeable",
            (90, false) => "Recoverable+Purgeable",
            (90, true) => "Recoverable",
            (_, false) => "CustomizedRecoverable+Purgeable",
            (_, true) => "CustomizedRecoverable",
        }
    }

    pub fn soft_delete(&self) -> bool {
        self.recoverable_days > 0
    }
}

/// One version of a secret. The value is zeroized when the version is dropped.
#[derive(Clone, Serialize, Deserialize)]
pub struct SecretVersion {
    pub version: String,
    pub value: Zeroizing<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub created: i64,
    pub updated: i64,
    /// The key of the certificate a certificate-backed (managed) secret belongs to: such a secret
    /// cannot be set, updated or deleted through the secrets API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

impl fmt::Debug for SecretVersion {
    // Never print the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretVersion")
            .field("version", &self.version)
            .field("value", &"<redacted>")
            .field("content_type", &self.content_type)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A secret: its name as first written, and its versions in creation order (the last is the latest).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecretRecord {
    pub name: String,
    pub versions: Vec<SecretVersion>,
}

impl SecretRecord {
    pub fn latest(&self) -> Option<&SecretVersion> {
        self.versions.last()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Live {
    pub record: SecretRecord,
    /// Not readable before this time (the window after a recover).
    #[serde(default)]
    pub visible_at: Millis,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeletedRecord {
    pub record: SecretRecord,
    pub deleted_date: i64,
    pub scheduled_purge_date: i64,
    /// Not visible in the deleted list before this time (the window after a delete).
    #[serde(default)]
    pub visible_at: Millis,
}

/// Everything a vault knows about one name: the unit of persistence. A store operation changes the
/// state of exactly one name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NameState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedRecord>,
    /// Busy (recently purged) until this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_until: Option<Millis>,
}

impl NameState {
    pub fn is_empty(&self) -> bool {
        self.live.is_none() && self.deleted.is_none() && self.purged_until.is_none()
    }
}

/// What a set or update asks for; `None` leaves a field as it is (update) or unset (set).
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    pub enabled: Option<bool>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

pub struct NewSecret {
    pub value: Zeroizing<String>,
    pub content_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub attributes: Attributes,
}

#[derive(Clone, Debug, Default)]
pub struct PropertiesUpdate {
    pub content_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub attributes: Attributes,
}

/// The store's refusals; `api.rs` maps each to the service's status, code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// No such secret (or version): `(name/id)` is what the message names.
    NotFound(String),
    /// No such deleted secret.
    DeletedNotFound(String),
    DeletedButRecoverable(String),
    BeingDeleted,
    Disabled,
    PurgeProtected,
    /// The name is in use; carries `name/version` of the backed-up latest version.
    RestoreConflict(String),
    MalformedBackup,
    /// A certificate-backed secret: the operation (`set`, `update`, `delete`) is the certificate's.
    Managed(&'static str),
}

/// Where a page of a listing starts: after this sort key.
pub struct Page<T> {
    pub items: Vec<T>,
    /// The sort key of the last item, when more items may follow.
    pub next_after: Option<String>,
}
