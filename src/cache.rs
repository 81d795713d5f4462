//! The names cache: the names and properties (never values) of each vault listed, kept 0600 under
//! `$XDG_CACHE_HOME/kvtui/names/`, one file per vault and identity — the file name is a hash of the
//! vault URL with the tenant and object id that listed it, so another user's (or tenant's) list is
//! never shown. A vault opened again shows its cached rows at once while a fresh listing runs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::vault::SecretProps;

#[derive(Deserialize)]
struct File {
    version: u32,
    vault: String,
    saved_at: i64,
    items: Vec<SecretProps>,
}

/// The same, written from a borrowed list.
#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    vault: String,
    saved_at: i64,
    items: &'a [SecretProps],
}

/// Where the cache lives (`None` in the app: no cache, `--no-cache`).
#[derive(Clone, Debug)]
pub struct NamesCache {
    pub dir: PathBuf,
}

/// Rows read back, and when they were written (Unix seconds).
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
        let f: File = serde_json::from_slice(&text).ok()?;
        (f.version == 1 && f.vault.eq_ignore_ascii_case(vault.trim_end_matches('/'))).then_some(
            Cached {
                saved_at: f.saved_at,
                items: f.items,
            },
        )
    }

    /// Writes the list (0600, atomically).
    pub fn save(&self, who: &str, vault: &str, items: &[SecretProps]) -> std::io::Result<()> {
        let f = Written {
            version: 1,
            vault: vault.trim_end_matches('/').to_string(),
            saved_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            items,
        };
        let bytes = serde_json::to_vec(&f).map_err(std::io::Error::other)?;
        crate::paths::create_private_dir(&self.dir)?;
        crate::paths::write_private_atomic(&self.path(who, vault), &bytes)
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
