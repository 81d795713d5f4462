//! The visible rows of the current list (filtered and sorted), the cursors, and what is selected.

use super::filter::Filter;
use super::{App, Screen, Tab};
use crate::vault::{DeletedProps, SecretProps};

/// One visible row: an index into the underlying list and the matched character positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub index: usize,
    pub matched: Vec<usize>,
}

/// A row's sort key, made once per item: (negated fuzzy score, lower-cased name), or a date.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowKey {
    Name(i64, String),
    Time(std::cmp::Reverse<Option<time::OffsetDateTime>>),
    Expires(bool, Option<time::OffsetDateTime>),
}

/// A selectable list's cursor and scroll position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    pub fn clamp(&mut self, len: usize, height: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        self.offset = self.offset.min(len.saturating_sub(h));
    }

    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            return;
        }
        let s = self.selected as isize + delta;
        self.selected = s.clamp(0, len as isize - 1) as usize;
    }
}

/// Rows the body of a list can show at this terminal size (title, tabs, header, filter, status, hints).
pub fn list_height(size: (u16, u16)) -> usize {
    size.1.saturating_sub(6) as usize
}

/// The id of a secret without its version: what the list shows.
pub fn unversioned(mut p: SecretProps) -> SecretProps {
    if p.version.is_some() {
        if let Some((base, _)) = p.id.rsplit_once('/') {
            p.id = base.to_string();
        }
    }
    p
}

impl App {
    /// Recomputes the visible rows if anything they depend on changed, and keeps the cursors inside.
    pub fn prepare(&mut self) {
        if self.rows_dirty {
            self.rows = self.compute_rows();
            self.rows_dirty = false;
            if let Some(name) = self.select_name.take() {
                self.select(&name);
            }
        }
        let h = list_height(self.size);
        let len = self.rows.len();
        self.cursor().clamp(len, h);
    }

    /// Puts the secret list's cursor on `name`, if it is a visible row.
    fn select(&mut self, name: &str) -> bool {
        let Some(v) = self.vault.as_ref() else {
            return false;
        };
        let pos = self.rows.iter().position(|r| {
            v.secrets
                .get(r.index)
                .is_some_and(|s| s.name.eq_ignore_ascii_case(name))
        });
        if let Some(pos) = pos {
            self.secrets_cursor.selected = pos;
        }
        pos.is_some()
    }

    /// The sort key of one item, computed once (names lower-cased once, not per comparison).
    fn sort_key(&self, p: &SecretProps, score: i64, fuzzy: bool) -> RowKey {
        let score = if fuzzy && self.sort == super::SortKey::Name {
            -score
        } else {
            0
        };
        match self.sort {
            super::SortKey::Name => RowKey::Name(score, p.name.to_lowercase()),
            super::SortKey::Updated => RowKey::Time(std::cmp::Reverse(p.updated)),
            // Soonest first; no expiry last.
            super::SortKey::Expires => RowKey::Expires(p.expires.is_none(), p.expires),
        }
    }

    /// The rows (and their keys) of the items from `from` on, sorted.
    fn rows_from(&self, from: usize) -> Vec<(RowKey, Row)> {
        self.rows_among(from, None)
    }

    /// The rows of the items from `from` on — or, with `only`, of just those items — sorted.
    fn rows_among(&self, from: usize, only: Option<&[usize]>) -> Vec<(RowKey, Row)> {
        let wanted = |i: usize| i >= from && only.is_none_or(|o| o.binary_search(&i).is_ok());
        let f = Filter::parse(self.filter.value());
        let empty = std::collections::BTreeMap::new();
        let fuzzy = !f.fuzzy.is_empty();
        let mut out: Vec<(RowKey, Row)> = Vec::new();
        match self.screen {
            Screen::Vaults => {
                for (i, v) in self.vaults.entries.iter().enumerate().skip(from) {
                    if !wanted(i) {
                        continue;
                    }
                    if let Some((s, matched)) = f.matches(&v.name, None, &empty) {
                        // The picker keeps the list's order, best matches first.
                        let key = RowKey::Name(if fuzzy { -s } else { 0 }, String::new());
                        out.push((key, Row { index: i, matched }));
                    }
                }
            }
            Screen::Vault => {
                let Some(vault) = &self.vault else {
                    return Vec::new();
                };
                let props: Box<dyn Iterator<Item = &SecretProps>> = match self.tab {
                    Tab::Secrets => Box::new(vault.secrets.iter()),
                    Tab::Deleted => Box::new(vault.deleted.iter().map(|d| &d.props)),
                };
                for (i, p) in props.enumerate().skip(from) {
                    if !wanted(i) {
                        continue;
                    }
                    if let Some((s, matched)) =
                        f.matches(&p.name, p.content_type.as_deref(), &p.tags)
                    {
                        out.push((self.sort_key(p, s, fuzzy), Row { index: i, matched }));
                    }
                }
            }
        }
        // Stable: equal keys keep the list's order.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn compute_rows(&mut self) -> Vec<Row> {
        // A query that extends the last one only narrows it: search the last matches, not all.
        let now = (
            self.screen,
            self.tab,
            self.sort,
            self.filter.value().to_string(),
        );
        let narrowing = self
            .rows_for
            .take()
            .is_some_and(|(screen, tab, sort, old)| {
                let (a, b) = (Filter::parse(&old), Filter::parse(&now.3));
                (screen, tab, sort) == (now.0, now.1, now.2)
                    && a.tags == b.tags
                    && a.types == b.types
                    && b.fuzzy.starts_with(&a.fuzzy)
            })
            && self.rows_from_len == self.source_len();
        self.rows_for = Some(now);
        if narrowing && self.screen == Screen::Vault && self.row_keys.len() == self.rows.len() {
            return self.narrow();
        }
        let mut only: Vec<usize> = Vec::new();
        if narrowing {
            only = self.rows.iter().map(|r| r.index).collect();
            only.sort_unstable();
        }
        let all = self.rows_among(0, narrowing.then_some(only.as_slice()));
        let (keys, rows): (Vec<RowKey>, Vec<Row>) = all.into_iter().unzip();
        self.row_keys = keys;
        self.rows_from_len = self.source_len();
        rows
    }

    /// A longer query: only the current rows are matched again, each keeping its key (the
    /// lower-cased name is not made again; only a name key's score changes).
    fn narrow(&mut self) -> Vec<Row> {
        let f = Filter::parse(self.filter.value());
        let fuzzy = !f.fuzzy.is_empty() && self.sort == super::SortKey::Name;
        let old_keys = std::mem::take(&mut self.row_keys);
        let old_rows = std::mem::take(&mut self.rows);
        let Some(vault) = &self.vault else {
            return Vec::new();
        };
        let item = |i: usize| match self.tab {
            Tab::Secrets => vault.secrets.get(i),
            Tab::Deleted => vault.deleted.get(i).map(|d| &d.props),
        };
        let mut out: Vec<(RowKey, Row)> = Vec::with_capacity(old_rows.len());
        for (key, row) in old_keys.into_iter().zip(old_rows) {
            let Some(p) = item(row.index) else {
                continue;
            };
            let Some((score, matched)) = f.matches(&p.name, p.content_type.as_deref(), &p.tags)
            else {
                continue;
            };
            let key = match key {
                RowKey::Name(_, name) => RowKey::Name(if fuzzy { -score } else { 0 }, name),
                other => other,
            };
            out.push((
                key,
                Row {
                    index: row.index,
                    matched,
                },
            ));
        }
        // Stable, and mostly in order already: the previous rows were sorted.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        let (keys, rows): (Vec<RowKey>, Vec<Row>) = out.into_iter().unzip();
        self.row_keys = keys;
        self.rows_from_len = self.source_len();
        rows
    }

    /// The number of items the current list is made from.
    fn source_len(&self) -> usize {
        match (self.screen, self.tab, &self.vault) {
            (Screen::Vaults, _, _) => self.vaults.entries.len(),
            (Screen::Vault, Tab::Secrets, Some(v)) => v.secrets.len(),
            (Screen::Vault, Tab::Deleted, Some(v)) => v.deleted.len(),
            _ => 0,
        }
    }

    /// A page was appended to the current list: merge its rows into the sorted ones (keys made
    /// once each), instead of sorting everything again. Pages come in name order, so usually the new
    /// rows just go at the end.
    pub(super) fn extend_rows(&mut self) {
        if self.rows_dirty || self.row_keys.len() != self.rows.len() {
            self.rows_dirty = true;
            return;
        }
        let new = self.rows_from(self.rows_from_len);
        self.rows_from_len = self.source_len();
        if new.is_empty() {
            return;
        }
        let at_end = match (self.row_keys.last(), new.first()) {
            (Some(last), Some((first, _))) => last <= first,
            _ => true,
        };
        if at_end {
            for (k, r) in new {
                self.row_keys.push(k);
                self.rows.push(r);
            }
            return;
        }
        // The cursor stays on the same secret while rows are merged in above it.
        let selected = self
            .rows
            .get(self.current_cursor().selected)
            .map(|r| r.index);
        let old_keys = std::mem::take(&mut self.row_keys);
        let old_rows = std::mem::take(&mut self.rows);
        let mut old = old_keys.into_iter().zip(old_rows).peekable();
        let mut new = new.into_iter().peekable();
        let mut keys = Vec::with_capacity(old.len() + new.len());
        let mut rows = Vec::with_capacity(keys.capacity());
        loop {
            let take_old = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) => a.0 <= b.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_old { old.next() } else { new.next() };
            if let Some((k, r)) = next {
                keys.push(k);
                rows.push(r);
            }
        }
        self.row_keys = keys;
        self.rows = rows;
        if let Some(item) = selected {
            if let Some(pos) = self.rows.iter().position(|r| r.index == item) {
                self.cursor().selected = pos;
            }
        }
    }

    /// Marks the visible rows for recomputation (after changing the data, filter or tab directly).
    pub fn invalidate(&mut self) {
        self.rows_dirty = true;
        // The data, the list or the sort changed: the rows are no base to narrow from.
        self.rows_for = None;
    }

    /// Only the filter was typed into: the rows may be narrowed rather than remade.
    pub(super) fn refilter(&mut self) {
        self.rows_dirty = true;
    }

    /// The total count of the current list (before filtering).
    pub fn total(&self) -> usize {
        match (self.screen, self.tab, &self.vault) {
            (Screen::Vaults, _, _) => self.vaults.entries.len(),
            (Screen::Vault, Tab::Secrets, Some(v)) => v.secrets.len(),
            (Screen::Vault, Tab::Deleted, Some(v)) => v.deleted.len(),
            _ => 0,
        }
    }

    pub(super) fn cursor(&mut self) -> &mut super::Cursor {
        match (self.screen, self.tab) {
            (Screen::Vaults, _) => &mut self.vault_cursor,
            (Screen::Vault, Tab::Secrets) => &mut self.secrets_cursor,
            (Screen::Vault, Tab::Deleted) => &mut self.deleted_cursor,
        }
    }

    pub fn current_cursor(&self) -> Cursor {
        match (self.screen, self.tab) {
            (Screen::Vaults, _) => self.vault_cursor,
            (Screen::Vault, Tab::Secrets) => self.secrets_cursor,
            (Screen::Vault, Tab::Deleted) => self.deleted_cursor,
        }
    }

    pub fn selected_secret(&self) -> Option<&SecretProps> {
        let v = self.vault.as_ref()?;
        let row = self.rows.get(self.secrets_cursor.selected)?;
        v.secrets.get(row.index)
    }

    /// The selected secret and the URL of its vault (what a request about it needs).
    pub(super) fn selected_in_vault(&self) -> Option<(SecretProps, String)> {
        Some((
            self.selected_secret()?.clone(),
            self.vault.as_ref()?.url.clone(),
        ))
    }

    pub fn selected_deleted(&self) -> Option<&DeletedProps> {
        let v = self.vault.as_ref()?;
        let row = self.rows.get(self.deleted_cursor.selected)?;
        v.deleted.get(row.index)
    }

    pub(super) fn selected_vault_url(&self) -> Option<String> {
        self.rows
            .get(self.vault_cursor.selected)
            .and_then(|r| self.vaults.entries.get(r.index))
            .map(|e| e.url.clone())
    }

    /// Whether purges are refused by the vault (purge protection), from its recovery level.
    pub fn purge_protected(level: Option<&str>) -> bool {
        matches!(
            level,
            Some(
                "Recoverable"
                    | "CustomizedRecoverable"
                    | "Recoverable+ProtectedSubscription"
                    | "CustomizedRecoverable+ProtectedSubscription"
            )
        )
    }

    /// Inserts or replaces a secret in the list, by name.
    pub(super) fn upsert(&mut self, p: SecretProps) {
        let Some(v) = self.vault.as_mut() else { return };
        let item = unversioned(p);
        v.note_change(&item.name, Some(item.clone()));
        match v
            .secrets
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(&item.name))
        {
            Some(existing) => *existing = item,
            None => {
                v.secrets.push(item);
                v.secrets.sort_by_key(|x| x.name.to_lowercase());
            }
        }
        self.invalidate();
    }

    /// Shows `name` in the secret list (filter cleared) with the cursor on it, after the next prepare.
    pub(super) fn reveal_in_list(&mut self, name: &str) {
        let passes = Filter::parse(self.filter.value())
            .matches(name, None, &Default::default())
            .is_some();
        if !passes {
            self.filter.clear();
        }
        self.select_name = Some(name.to_string());
        self.invalidate();
    }

    /// Moves the current list's cursor.
    pub(super) fn step(&mut self, delta: isize) {
        let len = self.rows.len();
        self.cursor().step(delta, len);
    }
}
