//! Across vaults: `:search` is one fuzzy list over the secret names of every known vault (opened,
//! recent, configured, discovered; `tag:` and `type:` narrow it), `:expiring` the same secrets by
//! time left — expired, within 7, 30 and 90 days, then those with no expiry. The listings load in the
//! background, a few vaults at a time, and stream in; values are never fetched. `Enter` opens the
//! secret in its vault.

use std::collections::VecDeque;

use time::OffsetDateTime;

use super::dates::{expiry, Expiry};
use super::filter::Filter;
use super::jobs::Job;
use super::text::LineField;
use super::{Action, App, Effect, Popup};
use crate::vault::{Request, RequestId, Response, SecretProps, VaultError};

/// Vaults listed at once.
pub const SCAN_CONCURRENCY: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcrossKind {
    Search,
    Expiring,
}

impl AcrossKind {
    pub fn title(self) -> &'static str {
        match self {
            AcrossKind::Search => "search every vault",
            AcrossKind::Expiring => "expiring, in every vault",
        }
    }
}

/// A secret of some vault.
#[derive(Clone, Debug)]
pub struct AcrossItem {
    pub vault_url: String,
    pub vault_name: String,
    pub subscription: Option<String>,
    pub props: SecretProps,
    /// From the names cache, until the vault's fresh listing arrives.
    pub cached: bool,
}

/// The listings of every known vault, as they load.
#[derive(Clone, Debug, Default)]
pub struct Across {
    pub items: Vec<AcrossItem>,
    /// Vaults not asked yet.
    pub queue: VecDeque<String>,
    /// Vaults being listed: request → vault URL.
    pub running: Vec<(RequestId, String)>,
    pub loaded: usize,
    pub total: usize,
    pub failed: Vec<(String, VaultError)>,
    /// Bumped whenever `items` changes: the rows below are for one generation.
    pub generation: u64,
    /// The last rows made (drawn every frame, asked for by every key): made again only when the
    /// items, the kind, the query or the minute change.
    rows: std::cell::RefCell<Option<(RowsFor, Rows)>>,
}

/// The rows of the across list: (item index, matched positions), best first.
pub type Rows = std::rc::Rc<Vec<usize>>;

/// What a set of rows was made for: kind, query, items' generation, the minute (expiry buckets).
type RowsFor = (AcrossKind, String, u64, i64);

impl Across {
    /// "3 of 5 vaults loaded, 1 failed (kv-prod: 403 …)".
    pub fn progress(&self) -> String {
        let mut s = if self.loaded + self.failed.len() < self.total {
            format!(
                "{} of {} vaults loaded…",
                self.loaded + self.failed.len(),
                self.total
            )
        } else {
            format!("{} vaults", self.total)
        };
        if let Some((v, e)) = self.failed.first() {
            s.push_str(&format!(
                ", {} failed ({}: {})",
                self.failed.len(),
                crate::vault::sources::vault_name(v),
                e.summary()
            ));
        }
        s
    }
}

/// A row with what it sorts by: (negated score, (expiry bucket, seconds left), vault, index, matched).
type RankedRow = (i64, (u8, i64), String, usize);

/// The bucket of an expiry, in the order `:expiring` lists them.
pub fn bucket(exp: Option<OffsetDateTime>, now: OffsetDateTime) -> (u8, &'static str) {
    match expiry(exp, now) {
        Some(Expiry::Expired) => (0, "expired"),
        Some(Expiry::Week) => (1, "within 7 days"),
        Some(Expiry::Month) => (2, "within 30 days"),
        Some(Expiry::Quarter) => (3, "within 90 days"),
        Some(Expiry::Later) => (4, "later"),
        None => (5, "no expiry set"),
    }
}

impl App {
    /// `:search` / `:expiring`: lists every known vault (the open one from what is loaded).
    pub(super) fn open_across(&mut self, kind: AcrossKind) -> Vec<Effect> {
        let mut effects = self.cancel(|j| matches!(j, Job::Scan { .. }));
        let open = self.vault.as_ref().map(|v| v.url.to_ascii_lowercase());
        let mut across = Across::default();
        if let Some(v) = &self.vault {
            across.items.extend(v.secrets.iter().map(|p| AcrossItem {
                vault_url: v.url.clone(),
                vault_name: v.name.clone(),
                subscription: self.subscription_of(&v.url),
                props: p.clone(),
                cached: false,
            }));
            across.loaded = 1;
        }
        across.queue = self
            .vaults
            .entries
            .iter()
            .map(|e| e.url.clone())
            .filter(|u| Some(u.to_ascii_lowercase()) != open)
            .collect();
        across.total = across.queue.len() + across.loaded;
        // What the names cache knows shows at once; each vault's fresh listing replaces it.
        if let Some(cache) = &self.names_cache {
            for url in &across.queue {
                let Some(who) = self.cache_who(url) else {
                    continue;
                };
                if let Some(c) = cache.load(&who, url) {
                    let name = crate::vault::sources::vault_name(url);
                    let subscription = self.subscription_of(url);
                    across.items.extend(c.items.into_iter().map(|p| AcrossItem {
                        vault_url: url.clone(),
                        vault_name: name.clone(),
                        subscription: subscription.clone(),
                        props: p,
                        cached: true,
                    }));
                }
            }
        }
        self.across = Some(across);
        self.popup = Some(Popup::Across {
            kind,
            input: LineField::default(),
            cursor: 0,
        });
        effects.extend(self.next_scans());
        effects
    }

    fn subscription_of(&self, url: &str) -> Option<String> {
        self.vaults
            .entries
            .iter()
            .find(|e| e.url.eq_ignore_ascii_case(url))
            .and_then(|e| e.subscription.clone())
    }

    fn next_scans(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        while let Some(a) = self.across.as_mut() {
            if a.running.len() >= SCAN_CONCURRENCY {
                break;
            }
            let Some(url) = a.queue.pop_front() else {
                break;
            };
            let sent = self.send(
                Job::Scan { vault: url.clone() },
                Request::ScanSecrets { vault: url.clone() },
            );
            for e in &sent {
                if let Effect::Send(id, _) = e {
                    if let Some(a) = self.across.as_mut() {
                        a.running.push((*id, url.clone()));
                    }
                }
            }
            effects.extend(sent);
        }
        effects
    }

    /// A page (or the failure) of one vault's listing.
    pub(super) fn on_scan(
        &mut self,
        id: RequestId,
        vault: String,
        response: Response,
    ) -> Vec<Effect> {
        let subscription = self.subscription_of(&vault);
        let Some(a) = self.across.as_mut() else {
            return Vec::new();
        };
        let name = crate::vault::sources::vault_name(&vault);
        let finished = match response {
            Response::SecretsPage { items, done } => {
                a.generation += 1;
                a.items
                    .retain(|it| !(it.cached && it.vault_url.eq_ignore_ascii_case(&vault)));
                a.items.extend(items.into_iter().map(|p| AcrossItem {
                    vault_url: vault.clone(),
                    vault_name: name.clone(),
                    subscription: subscription.clone(),
                    props: p,
                    cached: false,
                }));
                if done {
                    a.loaded += 1;
                }
                done
            }
            Response::Failed(e) => {
                a.failed.push((vault.clone(), e));
                true
            }
            _ => false,
        };
        if finished {
            a.running.retain(|(r, _)| *r != id);
            return self.next_scans();
        }
        self.jobs.insert(id, Job::Scan { vault });
        Vec::new()
    }

    /// The rows of the across list: (item index, matched positions), best first — made once per
    /// change of items, kind, query or minute, not once per frame.
    pub fn across_rows(&self, kind: AcrossKind, query: &str) -> Rows {
        let Some(a) = &self.across else {
            return Rows::default();
        };
        let made_for = (
            kind,
            query.to_string(),
            a.generation,
            self.now.unix_timestamp() / 60,
        );
        if let Some((key, rows)) = a.rows.borrow().as_ref() {
            if *key == made_for {
                return rows.clone();
            }
        }
        let rows = Rows::new(self.make_across_rows(a, kind, query));
        *a.rows.borrow_mut() = Some((made_for, rows.clone()));
        rows
    }

    fn make_across_rows(&self, a: &Across, kind: AcrossKind, query: &str) -> Vec<usize> {
        let f = Filter::parse(query);
        let mut rows: Vec<RankedRow> = a
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| {
                let p = &it.props;
                let score = f.matches(&p.name, p.content_type.as_deref(), &p.tags)?;
                let (b, _) = bucket(p.expires, self.now);
                let left = p
                    .expires
                    .map(|e| (e - self.now).whole_seconds())
                    .unwrap_or(i64::MAX);
                Some((-i64::from(score), (b, left), it.vault_name.clone(), i))
            })
            .collect();
        match kind {
            AcrossKind::Search => rows.sort_by(|x, y| (x.0, &x.2, x.3).cmp(&(y.0, &y.2, y.3))),
            AcrossKind::Expiring => {
                rows.sort_by(|x, y| (x.1, &x.2, x.3).cmp(&(y.1, &y.2, y.3)));
            }
        }
        rows.into_iter().map(|r| r.3).collect()
    }

    /// Keys in the across list.
    pub(super) fn on_across_action(
        &mut self,
        a: Action,
        kind: AcrossKind,
        input: LineField,
        cursor: usize,
    ) -> Vec<Effect> {
        let len = self.across_rows(kind, input.value()).len();
        let page = super::list_height(self.size).saturating_sub(6).max(1);
        let cursor = match a {
            Action::Up => cursor.saturating_sub(1),
            Action::Down => (cursor + 1).min(len.saturating_sub(1)),
            Action::PageUp => cursor.saturating_sub(page),
            Action::PageDown => (cursor + page).min(len.saturating_sub(1)),
            Action::Top => 0,
            Action::Bottom => len.saturating_sub(1),
            Action::Back => {
                self.across = None;
                return self.cancel(|j| matches!(j, Job::Scan { .. }));
            }
            Action::Open => {
                let rows = self.across_rows(kind, input.value());
                let chosen = rows
                    .get(cursor)
                    .and_then(|i| self.across.as_ref()?.items.get(*i).cloned());
                let Some(item) = chosen else {
                    self.popup = Some(Popup::Across {
                        kind,
                        input,
                        cursor,
                    });
                    return Vec::new();
                };
                self.across = None;
                let mut effects = self.cancel(|j| matches!(j, Job::Scan { .. }));
                let same = self
                    .vault
                    .as_ref()
                    .is_some_and(|v| v.url.eq_ignore_ascii_case(&item.vault_url));
                if same {
                    self.filter.clear();
                    self.tab = super::Tab::Secrets;
                    self.invalidate();
                } else {
                    effects.extend(self.open_vault(&item.vault_url));
                }
                self.select_name = Some(item.props.name.clone());
                self.info(format!(
                    "'{}' in {} (from {})",
                    item.props.name,
                    item.vault_name,
                    kind.title()
                ));
                return effects;
            }
            _ => cursor,
        };
        self.popup = Some(Popup::Across {
            kind,
            input,
            cursor,
        });
        Vec::new()
    }
}
