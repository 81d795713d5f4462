//! Two vaults side by side: `:compare-vaults OTHER` (the open vault on the left) says, for every
//! name, whether it is only on one side (and whether the right holds it deleted but recoverable),
//! on both with different values, with different properties, or the same; values are compared by a
//! keyed hash the worker makes, so no value reaches the views. `:promote OTHER` (or `p` in the
//! comparison) previews what copying the marked (or selected, or differing) secrets would do — create,
//! new version, identical (skip), recover then update, certificate-backed (skip), refused — and `y`
//! applies it: content type, tags, enabled, not-before and expiry go with the value. Running it
//! again changes nothing.

use std::collections::{BTreeMap, VecDeque};

use super::jobs::Job;
use super::{Action, App, Effect, Popup};
use crate::vault::{Request, RequestId, Response, SecretProps, VaultError};

/// Fingerprints fetched at once (two requests a name): far inside the service's 4,000 per 10 s.
pub const FINGERPRINT_CONCURRENCY: usize = 8;
/// Copies applied at once (creates are limited to 300 per 10 s by the service).
pub const COPY_CONCURRENCY: usize = 4;

/// One name, as both vaults have it.
#[derive(Clone, Debug, Default)]
pub struct Side {
    pub live: Option<SecretProps>,
    /// Deleted but recoverable (the right side only).
    pub deleted: bool,
    pub hash: Option<[u8; 32]>,
    pub error: Option<VaultError>,
}

/// What a comparison says of a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Diff {
    OnlyLeft,
    OnlyLeftDeletedRight,
    OnlyRight,
    Values,
    Properties,
    Checking,
    Refused,
    Same,
}

impl Diff {
    pub fn label(self) -> &'static str {
        match self {
            Diff::OnlyLeft => "only on the left",
            Diff::OnlyLeftDeletedRight => "only on the left; deleted but recoverable on the right",
            Diff::OnlyRight => "only on the right",
            Diff::Values => "different values",
            Diff::Properties => "same value, different properties",
            Diff::Checking => "comparing…",
            Diff::Refused => "could not read",
            Diff::Same => "the same",
        }
    }
}

/// What promoting a name would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Create,
    NewVersion,
    Identical,
    RecoverThenUpdate,
    CertificateBacked,
    /// Disabled here: the service refuses to read its value.
    Disabled,
    /// Left out by the user (Space in the preview).
    Skipped,
    Refused,
    Checking,
    Done,
    Failed,
}

impl Plan {
    pub fn label(self) -> &'static str {
        match self {
            Plan::Create => "create",
            Plan::NewVersion => "new version",
            Plan::Identical => "identical: skip",
            Plan::RecoverThenUpdate => "deleted there: recover, then update",
            Plan::CertificateBacked => "certificate-backed: skip",
            Plan::Disabled => "disabled here, its value cannot be read: skip",
            Plan::Skipped => "skipped (Space includes it again)",
            Plan::Refused => "refused",
            Plan::Checking => "checking…",
            Plan::Done => "done",
            Plan::Failed => "failed",
        }
    }

    fn applies(self) -> bool {
        matches!(
            self,
            Plan::Create | Plan::NewVersion | Plan::RecoverThenUpdate
        )
    }
}

#[derive(Clone, Debug)]
pub struct VaultDiff {
    pub left: String,
    pub right: String,
    /// Lower-cased name → (left, right).
    pub names: BTreeMap<String, (Side, Side)>,
    /// `Some`: a promote preview of these names (lower-cased).
    pub promote: Option<Vec<String>>,
    pub listed: bool,
    pub deleted_listed: bool,
    pub list_error: Option<VaultError>,
    /// Fingerprints to fetch: (vault URL, name, left side).
    pub queue: VecDeque<(String, String, bool)>,
    pub running: usize,
    /// Copies to apply, and what became of them.
    pub applying: VecDeque<String>,
    pub outcome: BTreeMap<String, Result<(), VaultError>>,
    /// Rows of the preview the user left out.
    pub skipped: std::collections::BTreeSet<String>,
}

fn same_props(a: &SecretProps, b: &SecretProps) -> bool {
    a.content_type == b.content_type
        && a.tags == b.tags
        && a.enabled == b.enabled
        && a.expires == b.expires
        && a.not_before == b.not_before
}

impl VaultDiff {
    pub fn diff(&self, key: &str) -> Diff {
        let Some((l, r)) = self.names.get(key) else {
            return Diff::Checking;
        };
        match (&l.live, &r.live) {
            (Some(_), None) if r.deleted => Diff::OnlyLeftDeletedRight,
            (Some(_), None) => Diff::OnlyLeft,
            (None, _) => Diff::OnlyRight,
            (Some(a), Some(b)) => {
                if l.error.is_some() || r.error.is_some() {
                    return Diff::Refused;
                }
                match (l.hash, r.hash) {
                    (Some(x), Some(y)) if x != y => Diff::Values,
                    (Some(_), Some(_)) if !same_props(a, b) => Diff::Properties,
                    (Some(_), Some(_)) => Diff::Same,
                    _ => Diff::Checking,
                }
            }
        }
    }

    pub fn plan(&self, key: &str) -> Plan {
        match self.outcome.get(key) {
            Some(Ok(())) => return Plan::Done,
            Some(Err(_)) => return Plan::Failed,
            None => {}
        }
        let Some((l, r)) = self.names.get(key) else {
            return Plan::Checking;
        };
        if self.skipped.contains(key) {
            return Plan::Skipped;
        }
        if l.live.as_ref().is_some_and(|p| p.managed) || r.live.as_ref().is_some_and(|p| p.managed)
        {
            return Plan::CertificateBacked;
        }
        if l.live.as_ref().is_some_and(|p| !p.enabled) {
            return Plan::Disabled;
        }
        match self.diff(key) {
            Diff::OnlyLeft => Plan::Create,
            Diff::OnlyLeftDeletedRight => Plan::RecoverThenUpdate,
            Diff::Values | Diff::Properties => Plan::NewVersion,
            Diff::Same => Plan::Identical,
            Diff::Refused | Diff::OnlyRight => Plan::Refused,
            Diff::Checking => Plan::Checking,
        }
    }

    /// The rows shown: the promoted names, or every name (differences first).
    pub fn rows(&self) -> Vec<String> {
        if let Some(p) = &self.promote {
            return p.clone();
        }
        let mut keys: Vec<&String> = self.names.keys().collect();
        keys.sort_by_key(|k| (self.diff(k), (*k).clone()));
        keys.into_iter().cloned().collect()
    }

    pub fn display_name(&self, key: &str) -> String {
        self.names
            .get(key)
            .and_then(|(l, r)| l.live.as_ref().or(r.live.as_ref()).map(|p| p.name.clone()))
            .unwrap_or_else(|| key.to_string())
    }

    /// "12 compared: 3 only left, 2 differ…" or the promote plan's counts.
    pub fn summary(&self) -> String {
        if !self.listed || !self.deleted_listed {
            return "listing the other vault…".into();
        }
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for k in self.rows() {
            let label = match &self.promote {
                Some(_) => self.plan(&k).label(),
                None => self.diff(&k).label(),
            };
            *counts.entry(label).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(l, n)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    pub fn applying(&self) -> bool {
        !self.applying.is_empty() || self.outcome.len() < self.started_copies()
    }

    fn started_copies(&self) -> usize {
        self.outcome.len() + self.running
    }
}

impl App {
    /// `:compare-vaults OTHER` and `:promote OTHER`.
    pub(super) fn open_diff(&mut self, other: &str, promote: bool) -> Result<Vec<Effect>, String> {
        let Some(v) = self.vault.as_ref() else {
            return Err("open a vault first: it is the left side".into());
        };
        let right = self
            .vaults
            .entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(other) || e.url.eq_ignore_ascii_case(other))
            .map(|e| e.url.clone())
            .map(Ok)
            .unwrap_or_else(|| {
                crate::vault::sources::vault_url(other, crate::vault::credential::Cloud::Public)
            })?;
        if right.eq_ignore_ascii_case(&v.url) {
            return Err("that is the open vault: name another one".into());
        }
        let mut names: BTreeMap<String, (Side, Side)> = BTreeMap::new();
        for p in v.secrets.iter() {
            names.entry(p.name.to_lowercase()).or_default().0.live = Some(p.clone());
        }
        let scope = promote.then(|| {
            let marked = self.marked_names();
            let chosen = if marked.is_empty() {
                self.selected_secret()
                    .map(|p| vec![p.name.clone()])
                    .unwrap_or_default()
            } else {
                marked
            };
            chosen
                .into_iter()
                .map(|n| n.to_lowercase())
                .collect::<Vec<_>>()
        });
        if scope.as_ref().is_some_and(|s| s.is_empty()) {
            return Err("mark the secrets to promote (Space), or select one".into());
        }
        self.diff = Some(VaultDiff {
            left: v.url.clone(),
            right: right.clone(),
            names,
            promote: scope,
            listed: false,
            deleted_listed: false,
            list_error: None,
            queue: VecDeque::new(),
            running: 0,
            applying: VecDeque::new(),
            outcome: BTreeMap::new(),
            skipped: Default::default(),
        });
        self.popup = Some(Popup::VaultDiff { cursor: 0 });
        let mut effects = self.cancel(|j| {
            matches!(
                j,
                Job::DiffList { .. } | Job::DiffHash { .. } | Job::DiffCopy { .. }
            )
        });
        effects.extend(self.send(
            Job::DiffList { deleted: false },
            Request::ScanSecrets {
                vault: right.clone(),
            },
        ));
        effects.extend(self.send(
            Job::DiffList { deleted: true },
            Request::ListDeleted { vault: right },
        ));
        Ok(effects)
    }

    /// Answers for the comparison: the right side's listings, fingerprints, copies.
    pub(super) fn on_diff(&mut self, id: RequestId, job: Job, response: Response) -> Vec<Effect> {
        let Some(d) = self.diff.as_mut() else {
            return Vec::new();
        };
        match (job, response) {
            (Job::DiffList { deleted: false }, Response::SecretsPage { items, done }) => {
                for p in items {
                    let key = p.name.to_lowercase();
                    d.names.entry(key).or_default().1.live = Some(p);
                }
                if !done {
                    self.jobs.insert(id, Job::DiffList { deleted: false });
                    return Vec::new();
                }
                if let Some(d) = self.diff.as_mut() {
                    d.listed = true;
                }
            }
            (Job::DiffList { deleted: true }, Response::DeletedPage { items, done }) => {
                for p in items {
                    d.names
                        .entry(p.props.name.to_lowercase())
                        .or_default()
                        .1
                        .deleted = true;
                }
                if !done {
                    self.jobs.insert(id, Job::DiffList { deleted: true });
                    return Vec::new();
                }
                if let Some(d) = self.diff.as_mut() {
                    d.deleted_listed = true;
                }
            }
            (Job::DiffList { deleted }, Response::Failed(e)) => {
                // Without the deleted list the comparison still holds; without the live one it is
                // not a comparison.
                if deleted {
                    d.deleted_listed = true;
                } else {
                    d.listed = true;
                    d.list_error = Some(e.clone());
                    self.fail("listing the other vault", e);
                    return Vec::new();
                }
            }
            (Job::DiffHash { name, left }, Response::Fingerprint { hash, .. }) => {
                d.running = d.running.saturating_sub(1);
                if let Some((l, r)) = d.names.get_mut(&name) {
                    let side = if left { l } else { r };
                    side.hash = Some(hash);
                }
            }
            (Job::DiffHash { name, left }, Response::Failed(e)) => {
                d.running = d.running.saturating_sub(1);
                if let Some((l, r)) = d.names.get_mut(&name) {
                    let side = if left { l } else { r };
                    side.error = Some(e);
                }
            }
            (Job::DiffCopy { name }, Response::Progress(_)) => {
                self.jobs.insert(id, Job::DiffCopy { name });
                return Vec::new();
            }
            (Job::DiffCopy { name }, Response::Saved(p)) => {
                d.running = d.running.saturating_sub(1);
                let key = name.to_lowercase();
                if let Some((l, r)) = d.names.get_mut(&key) {
                    r.live = Some(p);
                    r.deleted = false;
                    r.hash = l.hash;
                }
                d.outcome.insert(key, Ok(()));
                return self.next_copies();
            }
            (Job::DiffCopy { name }, Response::Failed(e)) => {
                d.running = d.running.saturating_sub(1);
                let key = name.to_lowercase();
                self.record(&format!("promote '{name}'"), e.clone());
                if let Some(d) = self.diff.as_mut() {
                    d.outcome.insert(key, Err(e));
                }
                return self.next_copies();
            }
            (job, _) => {
                self.jobs.insert(id, job);
                return Vec::new();
            }
        }
        // Both listings in: fingerprint what is on both sides (within the promote scope).
        let d = match self.diff.as_mut() {
            Some(d) if d.listed && d.deleted_listed && d.queue.is_empty() && d.running == 0 => d,
            _ => return self.next_fingerprints(),
        };
        let wanted: Vec<String> = match &d.promote {
            Some(s) => s.clone(),
            None => d.names.keys().cloned().collect(),
        };
        for key in wanted {
            if let Some((l, r)) = d.names.get(&key) {
                if let (Some(a), Some(b)) = (&l.live, &r.live) {
                    if l.hash.is_none() && l.error.is_none() {
                        d.queue.push_back((d.left.clone(), a.name.clone(), true));
                    }
                    if r.hash.is_none() && r.error.is_none() {
                        d.queue.push_back((d.right.clone(), b.name.clone(), false));
                    }
                }
            }
        }
        self.next_fingerprints()
    }

    fn next_fingerprints(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        while let Some(d) = self.diff.as_mut() {
            if d.running >= FINGERPRINT_CONCURRENCY {
                break;
            }
            let Some((vault, name, left)) = d.queue.pop_front() else {
                break;
            };
            d.running += 1;
            effects.extend(self.send(
                Job::DiffHash {
                    name: name.to_lowercase(),
                    left,
                },
                Request::Fingerprint { vault, name },
            ));
        }
        effects
    }

    /// `y` in a promote preview: the rows that would change, a few at a time.
    fn apply_promote(&mut self) -> Vec<Effect> {
        let Some(d) = self.diff.as_mut() else {
            return Vec::new();
        };
        if d.running > 0 || !d.listed {
            self.info("still comparing: wait until every row says what it would do");
            return Vec::new();
        }
        let todo: Vec<String> = d
            .rows()
            .into_iter()
            .filter(|k| d.plan(k).applies())
            .collect();
        if todo.is_empty() {
            self.info("nothing to promote: every secret is already there as it is here");
            return Vec::new();
        }
        d.applying = todo.into();
        self.next_copies()
    }

    fn next_copies(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        while let Some(d) = self.diff.as_mut() {
            if d.running >= COPY_CONCURRENCY {
                break;
            }
            let Some(key) = d.applying.pop_front() else {
                break;
            };
            d.running += 1;
            let recover_first = d.plan(&key) == Plan::RecoverThenUpdate;
            let name = d.display_name(&key);
            let (from, to) = (d.left.clone(), d.right.clone());
            effects.extend(self.send(
                Job::DiffCopy { name: name.clone() },
                Request::Copy {
                    from,
                    to,
                    name,
                    recover_first,
                },
            ));
        }
        if let Some(d) = &self.diff {
            if d.applying.is_empty() && d.running == 0 && !d.outcome.is_empty() {
                let ok = d.outcome.values().filter(|r| r.is_ok()).count();
                let failed = d.outcome.len() - ok;
                let right = crate::vault::sources::vault_name(&d.right);
                let text = format!("promoted {ok} to {right}; {failed} failed");
                if failed > 0 {
                    self.error(format!("{text} — :messages has why"));
                } else {
                    self.info(format!("promoted {ok} to {right}"));
                }
            }
        }
        effects
    }

    /// Keys in the comparison.
    pub(super) fn on_diff_action(&mut self, a: Action, cursor: usize) -> Vec<Effect> {
        let len = self.diff.as_ref().map(|d| d.rows().len()).unwrap_or(0);
        let page = super::list_height(self.size).saturating_sub(6).max(1);
        let keep = |app: &mut App, cursor: usize| app.popup = Some(Popup::VaultDiff { cursor });
        match a {
            Action::Up => keep(self, cursor.saturating_sub(1)),
            Action::Down => keep(self, (cursor + 1).min(len.saturating_sub(1))),
            Action::PageUp => keep(self, cursor.saturating_sub(page)),
            Action::PageDown => keep(self, (cursor + page).min(len.saturating_sub(1))),
            Action::Back => {
                self.diff = None;
                return self.cancel(|j| matches!(j, Job::DiffList { .. } | Job::DiffHash { .. }));
            }
            // From the comparison: preview copying what is missing or differs on the right.
            Action::Promote => {
                keep(self, 0);
                if self.refuse_read_only("promote") {
                    return Vec::new();
                }
                let Some(d) = self.diff.as_mut() else {
                    return Vec::new();
                };
                if d.promote.is_some() {
                    return self.apply_promote();
                }
                let differing: Vec<String> = d
                    .rows()
                    .into_iter()
                    .filter(|k| {
                        matches!(
                            d.diff(k),
                            Diff::OnlyLeft
                                | Diff::OnlyLeftDeletedRight
                                | Diff::Values
                                | Diff::Properties
                        )
                    })
                    .collect();
                if differing.is_empty() {
                    self.info("nothing differs that could be copied to the right");
                } else {
                    d.promote = Some(differing);
                }
            }
            // In a preview: leave a row out (a deleted secret there not to be recovered), or back in.
            Action::Mark if self.diff.as_ref().is_some_and(|d| d.promote.is_some()) => {
                if let Some(d) = self.diff.as_mut() {
                    if let Some(key) = d.rows().get(cursor).cloned() {
                        if !d.skipped.remove(&key) {
                            d.skipped.insert(key);
                        }
                    }
                }
                keep(self, (cursor + 1).min(len.saturating_sub(1)));
            }
            Action::Confirm if self.diff.as_ref().is_some_and(|d| d.promote.is_some()) => {
                keep(self, cursor);
                if self.refuse_read_only("promote") {
                    return Vec::new();
                }
                return self.apply_promote();
            }
            _ => keep(self, cursor),
        }
        Vec::new()
    }
}
