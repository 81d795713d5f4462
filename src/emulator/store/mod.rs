//! The state of one local vault: live secrets with all their versions, soft-deleted secrets, and the
//! eventual-consistency windows the real service shows after delete, recover and purge.
//!
//! Everything here is synchronous and takes the current time as an argument, so every rule is a unit
//! test. The HTTP layer (`api/`) turns these results into the service's JSON shapes and errors.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

mod records;
pub use records::*;

pub struct Vault {
    pub name: String,
    pub policy: VaultPolicy,
    live: BTreeMap<String, Live>,
    deleted: BTreeMap<String, DeletedRecord>,
    /// Names purged recently: busy until the time given.
    purged: HashMap<String, Millis>,
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn page_of<'a, T: 'a>(iter: impl Iterator<Item = (&'a String, T)>, size: usize) -> Page<T> {
    let mut items = Vec::with_capacity(size);
    let mut last_key = None;
    let mut more = false;
    for (k, item) in iter {
        if items.len() == size {
            more = true;
            break;
        }
        last_key = Some(k.clone());
        items.push(item);
    }
    Page {
        items,
        next_after: if more { last_key } else { None },
    }
}

fn after(start: Option<&str>) -> (Bound<String>, Bound<String>) {
    match start {
        Some(k) => (Bound::Excluded(k.to_ascii_lowercase()), Bound::Unbounded),
        None => (Bound::Unbounded, Bound::Unbounded),
    }
}

impl Vault {
    pub fn new(name: &str, policy: VaultPolicy) -> Self {
        Self {
            name: name.to_string(),
            policy,
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
            purged: HashMap::new(),
        }
    }

    /// Drops deleted secrets past their scheduled purge date and purge windows that have ended.
    fn expire(&mut self, now: Millis) {
        let now_s = secs(now);
        self.deleted.retain(|_, d| d.scheduled_purge_date > now_s);
        self.purged.retain(|_, until| *until > now);
    }

    fn live_visible(&self, name: &str, now: Millis) -> Option<&SecretRecord> {
        self.live
            .get(&key(name))
            .filter(|l| l.visible_at <= now)
            .map(|l| &l.record)
    }

    fn live_visible_mut(&mut self, name: &str, now: Millis) -> Option<&mut SecretRecord> {
        self.live
            .get_mut(&key(name))
            .filter(|l| l.visible_at <= now)
            .map(|l| &mut l.record)
    }

    /// Refuses a new write to `name` while it is deleted (recoverable) or in a delete/purge window.
    fn check_name_free(&mut self, name: &str, now: Millis) -> Result<(), StoreError> {
        self.expire(now);
        let k = key(name);
        if let Some(d) = self.deleted.get(&k) {
            return Err(if d.visible_at > now {
                StoreError::BeingDeleted
            } else {
                StoreError::DeletedButRecoverable(d.record.name.clone())
            });
        }
        if self.purged.contains_key(&k) {
            return Err(StoreError::BeingDeleted);
        }
        Ok(())
    }

    /// Sets a secret: a new secret, or a new version of an existing one. `version` must be fresh.
    pub fn set(
        &mut self,
        name: &str,
        new: NewSecret,
        version: String,
        now: Millis,
    ) -> Result<(&str, &SecretVersion), StoreError> {
        self.check_name_free(name, now)?;
        let now_s = secs(now);
        let v = SecretVersion {
            version,
            value: new.value,
            content_type: new.content_type,
            tags: new.tags,
            enabled: new.attributes.enabled.unwrap_or(true),
            nbf: new.attributes.nbf,
            exp: new.attributes.exp,
            created: now_s,
            updated: now_s,
            kid: None,
        };
        self.refuse_managed(name, "set")?;
        let live = self.live.entry(key(name)).or_insert_with(|| Live {
            record: SecretRecord {
                name: name.to_string(),
                versions: Vec::new(),
            },
            visible_at: 0,
        });
        live.record.versions.push(v);
        let record = &live.record;
        match record.versions.last() {
            Some(v) => Ok((record.name.as_str(), v)),
            None => Err(StoreError::NotFound(name.to_string())),
        }
    }

    /// Refuses an operation on a certificate-backed secret, as the service does.
    fn refuse_managed(&self, name: &str, op: &'static str) -> Result<(), StoreError> {
        let managed = self
            .live
            .get(&key(name))
            .and_then(|l| l.record.latest())
            .is_some_and(|v| v.kid.is_some());
        if managed {
            return Err(StoreError::Managed(op));
        }
        Ok(())
    }

    fn find_version<'r>(
        record: &'r SecretRecord,
        name: &str,
        version: Option<&str>,
    ) -> Result<&'r SecretVersion, StoreError> {
        match version {
            None => record.latest(),
            Some(v) => record
                .versions
                .iter()
                .find(|x| x.version.eq_ignore_ascii_case(v)),
        }
        .ok_or_else(|| not_found(name, version))
    }

    /// A version's value and properties. A disabled version cannot be read.
    pub fn get(
        &self,
        name: &str,
        version: Option<&str>,
        now: Millis,
    ) -> Result<(&str, &SecretVersion), StoreError> {
        let record = self
            .live_visible(name, now)
            .ok_or_else(|| not_found(name, version))?;
        let v = Self::find_version(record, name, version)?;
        if !v.enabled {
            return Err(StoreError::Disabled);
        }
        Ok((record.name.as_str(), v))
    }

    /// Changes a version's properties (latest when `version` is `None`); works on disabled versions.
    pub fn update(
        &mut self,
        name: &str,
        version: Option<&str>,
        patch: PropertiesUpdate,
        now: Millis,
    ) -> Result<(&str, &SecretVersion), StoreError> {
        if self.live_visible(name, now).is_some() {
            self.refuse_managed(name, "update")?;
        }
        let record = self
            .live_visible_mut(name, now)
            .ok_or_else(|| not_found(name, version))?;
        let idx = match version {
            None => record.versions.len().checked_sub(1),
            Some(want) => record
                .versions
                .iter()
                .position(|x| x.version.eq_ignore_ascii_case(want)),
        }
        .ok_or_else(|| not_found(name, version))?;
        let v = &mut record.versions[idx];
        let mut changed = false;
        if let Some(ct) = patch.content_type {
            changed |= v.content_type.as_deref() != Some(ct.as_str());
            v.content_type = Some(ct);
        }
        if let Some(tags) = patch.tags {
            changed |= v.tags.as_ref() != Some(&tags);
            v.tags = Some(tags);
        }
        if let Some(e) = patch.attributes.enabled {
            changed |= v.enabled != e;
            v.enabled = e;
        }
        if let Some(nbf) = patch.attributes.nbf {
            changed |= v.nbf != Some(nbf);
            v.nbf = Some(nbf);
        }
        if let Some(exp) = patch.attributes.exp {
            changed |= v.exp != Some(exp);
            v.exp = Some(exp);
        }
        if changed {
            v.updated = secs(now);
        }
        Ok((record.name.as_str(), &record.versions[idx]))
    }

    /// Deletes every version of a secret. With soft delete on, it becomes a deleted (recoverable)
    /// secret, visible only once the delete window has passed; without, it is gone.
    pub fn delete(&mut self, name: &str, now: Millis) -> Result<DeletedRecord, StoreError> {
        self.expire(now);
        if self.live_visible(name, now).is_none() {
            return Err(not_found(name, None));
        }
        self.refuse_managed(name, "delete")?;
        let Some(live) = self.live.remove(&key(name)) else {
            return Err(not_found(name, None));
        };
        let now_s = secs(now);
        let deleted = DeletedRecord {
            record: live.record,
            deleted_date: now_s,
            scheduled_purge_date: now_s + i64::from(self.policy.recoverable_days) * 86_400,
            visible_at: now + self.policy.delete_delay_ms,
        };
        if self.policy.soft_delete() {
            self.deleted.insert(key(name), deleted.clone());
        }
        Ok(deleted)
    }

    pub fn get_deleted(&mut self, name: &str, now: Millis) -> Result<&DeletedRecord, StoreError> {
        self.expire(now);
        self.deleted
            .get(&key(name))
            .filter(|d| d.visible_at <= now)
            .ok_or_else(|| StoreError::DeletedNotFound(name.to_string()))
    }

    /// Removes a deleted secret for good; its name stays busy for the delete window.
    pub fn purge(&mut self, name: &str, now: Millis) -> Result<(), StoreError> {
        self.expire(now);
        let k = key(name);
        match self.deleted.get(&k) {
            None => return Err(StoreError::DeletedNotFound(name.to_string())),
            Some(d) if d.visible_at > now => return Err(StoreError::BeingDeleted),
            Some(_) if self.policy.purge_protection => return Err(StoreError::PurgeProtected),
            Some(_) => {}
        }
        self.deleted.remove(&k);
        if self.policy.delete_delay_ms > 0 {
            self.purged.insert(k, now + self.policy.delete_delay_ms);
        }
        Ok(())
    }

    /// Brings a deleted secret back with all its versions; readable once the recover window passed.
    pub fn recover(&mut self, name: &str, now: Millis) -> Result<&SecretRecord, StoreError> {
        self.expire(now);
        let k = key(name);
        match self.deleted.get(&k) {
            None => return Err(not_found(name, None)),
            Some(d) if d.visible_at > now => return Err(StoreError::BeingDeleted),
            Some(_) => {}
        }
        let Some(d) = self.deleted.remove(&k) else {
            return Err(not_found(name, None));
        };
        let live = self.live.entry(k).or_insert(Live {
            record: d.record,
            visible_at: now + self.policy.recover_delay_ms,
        });
        Ok(&live.record)
    }

    /// The name of a readable secret as first written.
    pub fn stored_name(&self, name: &str, now: Millis) -> Option<&str> {
        self.live_visible(name, now).map(|r| r.name.as_str())
    }

    /// The whole secret (every version), for a backup.
    pub fn backup(&self, name: &str, now: Millis) -> Result<&SecretRecord, StoreError> {
        self.live_visible(name, now)
            .ok_or_else(|| not_found(name, None))
    }

    /// Puts a backed-up secret back, keeping its versions, ids and dates. The name must be unused.
    pub fn restore(
        &mut self,
        record: SecretRecord,
        now: Millis,
    ) -> Result<&SecretRecord, StoreError> {
        self.expire(now);
        let k = key(&record.name);
        if record.versions.is_empty() {
            return Err(StoreError::MalformedBackup);
        }
        if self.live.contains_key(&k)
            || self.deleted.contains_key(&k)
            || self.purged.contains_key(&k)
        {
            let latest = record
                .latest()
                .map(|v| v.version.clone())
                .unwrap_or_default();
            return Err(StoreError::RestoreConflict(format!(
                "{}/{latest}",
                record.name
            )));
        }
        let live = self.live.entry(k).or_insert(Live {
            record,
            visible_at: 0,
        });
        Ok(&live.record)
    }

    /// One page of the secret list, in case-insensitive name order, starting after `start`.
    pub fn list(&self, start: Option<&str>, size: usize, now: Millis) -> Page<&SecretRecord> {
        page_of(
            self.live
                .range(after(start))
                .filter(|(_, l)| l.visible_at <= now && !l.record.versions.is_empty())
                .map(|(k, l)| (k, &l.record)),
            size,
        )
    }

    /// One page of a secret's versions, ordered by version id as the service does. An unknown name
    /// has no versions (not an error).
    pub fn versions(
        &self,
        name: &str,
        start: Option<&str>,
        size: usize,
        now: Millis,
    ) -> Page<&SecretVersion> {
        let Some(record) = self.live_visible(name, now) else {
            return Page {
                items: Vec::new(),
                next_after: None,
            };
        };
        let sorted: BTreeMap<String, &SecretVersion> = record
            .versions
            .iter()
            .map(|v| (v.version.to_ascii_lowercase(), v))
            .collect();
        page_of(sorted.range(after(start)).map(|(k, v)| (k, *v)), size)
    }

    /// One page of the deleted list (only deletions whose window has passed).
    pub fn list_deleted(
        &mut self,
        start: Option<&str>,
        size: usize,
        now: Millis,
    ) -> Page<&DeletedRecord> {
        self.expire(now);
        page_of(
            self.deleted
                .range(after(start))
                .filter(|(_, d)| d.visible_at <= now),
            size,
        )
    }

    pub fn secret_count(&self) -> usize {
        self.live.len()
    }

    /// The whole state of one name (for persistence).
    pub fn name_state(&self, name: &str) -> NameState {
        let k = key(name);
        NameState {
            live: self.live.get(&k).cloned(),
            deleted: self.deleted.get(&k).cloned(),
            purged_until: self.purged.get(&k).copied(),
        }
    }

    /// Replaces the whole state of one name (loading persisted or seeded state).
    pub fn put_name_state(&mut self, name: &str, state: NameState) {
        let k = key(name);
        match state.live {
            Some(l) if !l.record.versions.is_empty() => {
                self.live.insert(k.clone(), l);
            }
            _ => {
                self.live.remove(&k);
            }
        }
        match state.deleted {
            Some(d) if !d.record.versions.is_empty() => {
                self.deleted.insert(k.clone(), d);
            }
            _ => {
                self.deleted.remove(&k);
            }
        }
        match state.purged_until {
            Some(t) => {
                self.purged.insert(k, t);
            }
            None => {
                self.purged.remove(&k);
            }
        }
    }
}

fn not_found(name: &str, version: Option<&str>) -> StoreError {
    StoreError::NotFound(match version {
        Some(v) => format!("{name}/{v}"),
        None => name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn new(value: &str) -> NewSecret {
        NewSecret {
            value: Zeroizing::new(value.to_string()),
            content_type: None,
            tags: None,
            attributes: Attributes::default(),
        }
    }

    fn vault(delete_delay_ms: u64) -> Vault {
        Vault::new(
            "t",
            VaultPolicy {
                delete_delay_ms,
                recover_delay_ms: delete_delay_ms,
                ..VaultPolicy::default()
            },
        )
    }

    #[test]
    fn names_are_case_insensitive_and_keep_their_first_spelling() {
        let mut v = vault(0);
        v.set("My-Secret", new("a"), "1".repeat(32), 1000).unwrap();
        v.set("my-secret", new("b"), "2".repeat(32), 2000).unwrap();
        let (name, got) = v.get("MY-SECRET", None, 3000).unwrap();
        assert_eq!(name, "My-Secret");
        assert_eq!(got.value.as_str(), "b");
        assert_eq!(v.list(None, 25, 3000).items.len(), 1);
    }

    #[test]
    fn delete_window_then_recoverable_conflict_then_purge_window() {
        let mut v = vault(1500);
        v.set("x", new("a"), "1".repeat(32), 0).unwrap();
        let d = v.delete("x", 10_000).unwrap();
        assert_eq!(d.scheduled_purge_date, 10 + 90 * 86_400);
        assert_eq!(
            v.get("x", None, 10_001).unwrap_err(),
            StoreError::NotFound("x".into())
        );
        assert!(matches!(
            v.get_deleted("x", 10_500),
            Err(StoreError::DeletedNotFound(_))
        ));
        assert_eq!(v.purge("x", 10_500), Err(StoreError::BeingDeleted));
        assert_eq!(
            v.set("x", new("b"), "2".repeat(32), 10_500).unwrap_err(),
            StoreError::BeingDeleted
        );
        assert!(v.get_deleted("x", 11_500).is_ok());
        assert_eq!(
            v.set("x", new("b"), "2".repeat(32), 11_500).unwrap_err(),
            StoreError::DeletedButRecoverable("x".into())
        );
        v.purge("x", 12_000).unwrap();
        assert_eq!(
            v.set("x", new("b"), "2".repeat(32), 12_100).unwrap_err(),
            StoreError::BeingDeleted
        );
        v.set("x", new("b"), "2".repeat(32), 13_600).unwrap();
    }

    #[test]
    fn recover_brings_every_version_back_after_its_window() {
        let mut v = vault(1000);
        v.set("x", new("a"), "1".repeat(32), 0).unwrap();
        v.set("x", new("b"), "2".repeat(32), 0).unwrap();
        v.delete("x", 0).unwrap();
        assert_eq!(v.recover("x", 500).unwrap_err(), StoreError::BeingDeleted);
        v.recover("x", 1000).unwrap();
        assert!(v.get("x", None, 1500).is_err());
        assert_eq!(v.get("x", None, 2000).unwrap().1.value.as_str(), "b");
        assert_eq!(v.versions("x", None, 25, 2000).items.len(), 2);
    }

    #[test]
    fn deleted_secrets_disappear_after_their_scheduled_purge_date() {
        let mut v = vault(0);
        v.set("x", new("a"), "1".repeat(32), 0).unwrap();
        v.delete("x", 0).unwrap();
        let day = 86_400_000;
        assert!(v.get_deleted("x", 89 * day).is_ok());
        assert!(v.get_deleted("x", 90 * day).is_err());
        v.set("x", new("again"), "2".repeat(32), 90 * day).unwrap();
    }

    #[test]
    fn without_soft_delete_a_delete_is_final() {
        let mut v = Vault::new(
            "t",
            VaultPolicy {
                recoverable_days: 0,
                ..VaultPolicy::default()
            },
        );
        assert_eq!(v.policy.recovery_level(), "Purgeable");
        v.set("x", new("a"), "1".repeat(32), 0).unwrap();
        v.delete("x", 0).unwrap();
        assert!(v.get_deleted("x", 0).is_err());
        v.set("x", new("b"), "2".repeat(32), 0).unwrap();
    }

    #[test]
    fn purge_protection_refuses_purge() {
        let mut v = Vault::new(
            "t",
            VaultPolicy {
                purge_protection: true,
                ..VaultPolicy::default()
            },
        );
        assert_eq!(v.policy.recovery_level(), "Recoverable");
        v.set("x", new("a"), "1".repeat(32), 0).unwrap();
        v.delete("x", 0).unwrap();
        assert_eq!(v.purge("x", 0), Err(StoreError::PurgeProtected));
    }

    #[test]
    fn disabled_versions_cannot_be_read_but_can_be_updated() {
        let mut v = vault(0);
        let mut s = new("a");
        s.attributes.enabled = Some(false);
        v.set("x", s, "1".repeat(32), 0).unwrap();
        assert_eq!(v.get("x", None, 0).unwrap_err(), StoreError::Disabled);
        let patch = PropertiesUpdate {
            attributes: Attributes {
                enabled: Some(true),
                ..Attributes::default()
            },
            ..PropertiesUpdate::default()
        };
        let (_, u) = v.update("x", None, patch, 5000).unwrap();
        assert_eq!(u.updated, 5);
        assert!(v.get("x", None, 5000).is_ok());
    }

    #[test]
    fn paging_resumes_after_the_last_key() {
        let mut v = vault(0);
        for i in 0..60 {
            v.set(&format!("s{i:03}"), new("v"), format!("{i:032x}"), 0)
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = v.list(start.as_deref(), 25, 0);
            seen.extend(page.items.iter().map(|r| r.name.clone()));
            match page.next_after {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        assert_eq!(seen.len(), 60);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }
}
