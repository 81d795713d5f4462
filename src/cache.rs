//! The names cache: the names and properties (never values) of each vault listed, kept 0600 under
//! `$XDG_CACHE_HOME/kvtui/names/`, one file per vault and identity — the file name is a hash of the
//! vault URL with the tenant and object id that listed it, so another user's (or tenant's) list is
//! never shown. A vault opened again shows its cached rows at once while a fresh listing runs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::vault::{SecretProps, Tags};

/// The file's format; files of another are ignored (the listing replaces them).
const VERSION: u32 = 2;

#[derive(Deserialize)]
struct File {
    version: u32,
    vault: String,
    saved_at: i64,
    /// The recovery level and days most items have; an item says its own only when different.
    #[serde(default)]
    rl: Option<String>,
    #[serde(default)]
    rd: Option<i32>,
    items: Vec<Entry>,
}

/// One secret in the file: short keys, defaults left out, the identifier only when it is not the
/// vault's `/secrets/<name>`, dates in Unix seconds (the service's precision). A 100,000-secret
/// list is ~10 MB and parses in tens of milliseconds.
#[derive(Deserialize)]
struct Entry {
    n: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    v: Option<String>,
    #[serde(default)]
    off: bool,
    #[serde(default)]
    ct: Option<String>,
    #[serde(default)]
    t: Tags,
    #[serde(default)]
    c: Option<i64>,
    #[serde(default)]
    u: Option<i64>,
    #[serde(default)]
    nb: Option<i64>,
    #[serde(default)]
    x: Option<i64>,
    /// The item's recovery level when not the file's ("" for none).
    #[serde(default)]
    rl: Option<String>,
    /// Its recoverable days when not the file's (-1 for none).
    #[serde(default)]
    rd: Option<i32>,
    #[serde(default)]
    m: bool,
}

/// The same, written from a borrowed list.
#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    vault: &'a str,
    saved_at: i64,
    rl: Option<&'a str>,
    rd: Option<i32>,
    items: Entries<'a>,
}

/// The list, serialized one entry at a time.
struct Entries<'a> {
    vault: &'a str,
    rl: Option<&'a str>,
    rd: Option<i32>,
    items: &'a [SecretProps],
}

#[derive(Serialize)]
struct EntryOut<'a> {
    n: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    off: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ct: Option<&'a str>,
    #[serde(skip_serializing_if = "Tags::is_empty")]
    t: &'a Tags,
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rl: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rd: Option<i32>,
    #[serde(skip_serializing_if = "is_false")]
    m: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn secs(t: Option<time::OffsetDateTime>) -> Option<i64> {
    t.map(|t| t.unix_timestamp())
}

fn date(s: Option<i64>) -> Option<time::OffsetDateTime> {
    s.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
}

fn own_id(vault: &str, name: &str) -> String {
    format!("{vault}/secrets/{name}")
}

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.items.iter().map(|p| {
            let own =
                p.id.strip_prefix(self.vault)
                    .and_then(|rest| rest.strip_prefix("/secrets/"))
                    == Some(p.name.as_str());
            EntryOut {
                n: &p.name,
                id: (!own).then_some(p.id.as_str()),
                v: p.version.as_deref(),
                off: !p.enabled,
                ct: p.content_type.as_deref(),
                t: &p.tags,
                c: secs(p.created),
                u: secs(p.updated),
                nb: secs(p.not_before),
                x: secs(p.expires),
                rl: (p.recovery_level.as_deref() != self.rl)
                    .then(|| p.recovery_level.as_deref().unwrap_or("")),
                rd: (p.recoverable_days != self.rd).then(|| p.recoverable_days.unwrap_or(-1)),
                m: p.managed,
            }
        }))
    }
}

impl Entry {
    fn into_props(self, file: &File) -> SecretProps {
        let id = self.id.unwrap_or_else(|| own_id(&file.vault, &self.n));
        SecretProps {
            id,
            version: self.v,
            enabled: !self.off,
            content_type: self.ct,
            tags: self.t,
            created: date(self.c),
            updated: date(self.u),
            not_before: date(self.nb),
            expires: date(self.x),
            recovery_level: match self.rl {
                None => file.rl.clone().map(crate::vault::secret::recovery_level),
                Some(s) if s.is_empty() => None,
                Some(s) => Some(crate::vault::secret::recovery_level(s)),
            },
            recoverable_days: match self.rd {
                None => file.rd,
                Some(-1) => None,
                Some(d) => Some(d),
            },
            managed: self.m,
            name: self.n,
        }
    }
}

/// Where the cache lives (`None` in the app: no cache, `--no-cache`).
#[derive(Clone, Debug)]
pub struct NamesCache {
    pub dir: PathBuf,
}

/// Rows read back, and when they were written (Unix seconds).
#[derive(Debug)]
pub struct Cached {
    pub saved_at: i64,
    pub items: Vec<SecretProps>,
}

impl NamesCache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, who: &str, vault: &str) -> PathBuf {
        let key = format!(
            "{who}\n{}",
            vault.trim_end_matches('/').to_ascii_lowercase()
        );
        let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let h: String = d.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join(format!("{h}.json"))
    }

    pub fn load(&self, who: &str, vault: &str) -> Option<Cached> {
        let text = std::fs::read(self.path(who, vault)).ok()?;
        let mut f: File = serde_json::from_slice(&text).ok()?;
        drop(text);
        if f.version != VERSION || !f.vault.eq_ignore_ascii_case(vault.trim_end_matches('/')) {
            return None;
        }
        let entries = std::mem::take(&mut f.items);
        let items = entries.into_iter().map(|e| e.into_props(&f)).collect();
        Some(Cached {
            saved_at: f.saved_at,
            items,
        })
    }

    /// Writes the list (0600, atomically), streamed: never the whole file in memory.
    pub fn save(&self, who: &str, vault: &str, items: &[SecretProps]) -> std::io::Result<()> {
        let vault = vault.trim_end_matches('/');
        let rl = items.first().and_then(|p| p.recovery_level.as_deref());
        let rd = items.first().and_then(|p| p.recoverable_days);
        let f = Written {
            version: VERSION,
            vault,
            saved_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            rl,
            rd,
            items: Entries {
                vault,
                rl,
                rd,
                items,
            },
        };
        crate::paths::create_private_dir(&self.dir)?;
        crate::paths::write_private_atomic_with(&self.path(who, vault), |w| {
            serde_json::to_writer(w, &f).map_err(std::io::Error::other)
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_identity_has_its_own_list_and_values_are_never_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let c = NamesCache::new(dir.path().join("names"));
        let p = SecretProps {
            name: "db-password".into(),
            enabled: true,
            expires: Some(time::OffsetDateTime::UNIX_EPOCH),
            ..SecretProps::default()
        };
        c.save(
            "tenant-a|alice",
            "https://kv.vault.azure.net/",
            std::slice::from_ref(&p),
        )
        .expect("save");
        let back = c
            .load("tenant-a|alice", "https://KV.vault.azure.net")
            .expect("load");
        assert_eq!(back.items, vec![p]);
        assert!(c
            .load("tenant-b|alice", "https://kv.vault.azure.net")
            .is_none());
        // Every field comes back: defaults left out of the file, recovery levels said per file.
        let at = |s| Some(time::OffsetDateTime::from_unix_timestamp(s).expect("date"));
        let vault = "https://kv.vault.azure.net";
        let usual = SecretProps {
            name: "a".into(),
            id: format!("{vault}/secrets/a"),
            enabled: true,
            content_type: Some("text/plain".into()),
            tags: [("env".to_string(), "prod".to_string())].into(),
            created: at(1_700_000_000),
            updated: at(1_700_000_100),
            not_before: at(1_700_000_200),
            expires: at(1_800_000_000),
            recovery_level: Some("Recoverable+Purgeable".into()),
            recoverable_days: Some(90),
            ..SecretProps::default()
        };
        let odd = SecretProps {
            name: "b".into(),
            id: "https://elsewhere/secrets/b/0123".into(),
            version: Some("0123".into()),
            enabled: false,
            managed: true,
            recovery_level: None,
            recoverable_days: Some(7),
            ..SecretProps::default()
        };
        let list = vec![usual.clone(), odd, usual];
        c.save("t|alice", vault, &list).expect("save");
        assert_eq!(c.load("t|alice", vault).expect("load").items, list);
        assert!(c
            .load("tenant-a|bob", "https://kv.vault.azure.net")
            .is_none());
        use std::os::unix::fs::PermissionsExt;
        for e in std::fs::read_dir(c.dir()).expect("dir") {
            let meta = e.expect("entry").metadata().expect("meta");
            assert_eq!(meta.permissions().mode() & 0o077, 0, "private");
        }
    }
}
