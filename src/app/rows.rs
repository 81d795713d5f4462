//! The visible rows of the current list (filtered and sorted), the cursors, and what is selected.
//!
//! The open vault's list keeps a sorted order of all its items (`Base`), made once per list and
//! sort, with new pages merged in; the filter's tag/type terms pick from it, and its name part is
//! matched off the UI thread by the [`Engine`](super::engine::Engine).

use std::cmp::Ordering;

use super::engine::{self, Engine};
use super::filter::Filter;
use super::{App, Screen, SortKey, Tab};
use crate::vault::{DeletedProps, SecretProps};

/// One visible row: an index into the underlying list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub index: usize,
}

/// The open vault's list in sort order, unfiltered: made once per list and sort key.
#[derive(Debug)]
pub(super) struct Base {
    made_for: (Tab, SortKey),
    /// How many items of the list it holds (new pages are merged in from there).
    len: usize,
    order: Vec<usize>,
}

/// What rows made from the matcher's result were made for: the list, the sort, the tag/type terms.
pub(super) type EngineRowsKey = (
    (u8, u64),
    SortKey,
    Vec<(String, Option<String>)>,
    Vec<String>,
);

/// Names compared as the list sorts them: ignoring ASCII case.
fn cmp_names(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The order of two items under a sort key; equal items keep the list's order (stable sorts).
fn cmp_items(sort: SortKey, a: &SecretProps, b: &SecretProps) -> Ordering {
    match sort {
        SortKey::Name => cmp_names(&a.name, &b.name),
        // Newest first; no date last.
        SortKey::Updated => b.updated.cmp(&a.updated),
        // Soonest first; no expiry last.
        SortKey::Expires => (a.expires.is_none(), a.expires).cmp(&(b.expires.is_none(), b.expires)),
    }
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
    /// Recomputes the visible rows if anything they depend on changed (or the matcher has a newer
    /// result), and keeps the cursors inside.
    pub fn prepare(&mut self) {
        if self.rows_dirty {
            self.rows = self.compute_rows();
            self.rows_dirty = false;
            if let Some(name) = self.select_name.take() {
                self.select(&name);
            }
        }
        if self.screen == Screen::Vault {
            self.poll_engine();
        }
        let h = list_height(self.size);
        let len = self.rows.len();
        self.cursor().clamp(len, h);
    }

    /// The filter as typed, parsed.
    pub fn parsed_filter(&self) -> Filter {
        Filter::parse(self.filter.value())
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

    /// Item `i` of the open vault's current list.
    fn item(&self, i: usize) -> Option<&SecretProps> {
        let v = self.vault.as_ref()?;
        match self.tab {
            Tab::Secrets => v.secrets.get(i),
            Tab::Deleted => v.deleted.get(i).map(|d| &d.props),
        }
    }

    /// The order of two items of the current list (by index) under the current sort.
    fn cmp_at(&self, a: usize, b: usize) -> Ordering {
        match (self.item(a), self.item(b)) {
            (Some(x), Some(y)) => cmp_items(self.sort, x, y),
            _ => Ordering::Equal,
        }
    }

    /// Whether item `i` passes the filter's tag and content-type terms.
    fn passes_terms(&self, f: &Filter, i: usize) -> bool {
        (f.tags.is_empty() && f.types.is_empty())
            || self
                .item(i)
                .is_some_and(|p| f.passes(p.content_type.as_deref(), &p.tags))
    }

    /// Which list the engine must hold: the tab and the data's generation.
    fn engine_source(&self) -> (u8, u64) {
        (self.tab as u8, self.generation)
    }

    fn compute_rows(&mut self) -> Vec<Row> {
        let f = self.parsed_filter();
        match self.screen {
            Screen::Vaults => {
                self.engine_rows_for = None;
                // The picker keeps the list's order, best matches first (stable).
                let mut out: Vec<(u32, Row)> = self
                    .vaults
                    .entries
                    .iter()
                    .enumerate()
                    .filter_map(|(index, v)| Some((f.score(&v.name)?, Row { index })))
                    .collect();
                out.sort_by_key(|r| std::cmp::Reverse(r.0));
                out.into_iter().map(|(_, r)| r).collect()
            }
            Screen::Vault => {
                self.ensure_base();
                if f.no_name_part() {
                    self.engine_rows_for = None;
                    return self.rows_from_base(&f, None);
                }
                self.feed_engine(&f);
                let wait = engine::wait_ms(self.total());
                let changed = self.engine.as_mut().is_some_and(|e| e.tick(wait));
                if changed || self.engine_rows_for != Some(self.engine_rows_key(&f)) {
                    self.take_engine_rows(&f);
                }
                // Otherwise the matcher has nothing newer: the rows shown are its latest result.
                std::mem::take(&mut self.rows)
            }
        }
    }

    /// Makes the sorted order of the whole list, if the one kept is not for this list and sort.
    fn ensure_base(&mut self) {
        let made_for = (self.tab, self.sort);
        if self.base.as_ref().is_some_and(|b| b.made_for == made_for) {
            return;
        }
        let len = self.total();
        let mut order: Vec<usize> = (0..len).collect();
        let cmp = |a: &usize, b: &usize| self.cmp_at(*a, *b);
        // Pages come in name order: sorting by name usually finds it done.
        if !order.is_sorted_by(|a, b| cmp(a, b) != Ordering::Greater) {
            order.sort_by(cmp);
        }
        self.base = Some(Base {
            made_for,
            len,
            order,
        });
    }

    /// The rows of the kept order that pass the filter; with `only`, just the items marked there.
    fn rows_from_base(&self, f: &Filter, only: Option<&[bool]>) -> Vec<Row> {
        let Some(base) = self.base.as_ref() else {
            return Vec::new();
        };
        base.order
            .iter()
            .copied()
            .filter(|&i| only.is_none_or(|o| o.get(i).copied().unwrap_or(false)))
            .filter(|&i| self.passes_terms(f, i))
            .map(|index| Row { index })
            .collect()
    }

    /// The matcher's latest result as rows: best first when sorted by name, else in the sort's
    /// order; the tag/type terms applied.
    fn rows_from_engine(&self, f: &Filter, mut rows: Vec<Row>) -> Vec<Row> {
        rows.clear();
        let Some(e) = self.engine.as_ref() else {
            return rows;
        };
        let len = self.total();
        if self.sort == SortKey::Name {
            let matched = e.matched();
            rows.reserve(matched.len());
            for index in matched {
                if index < len && self.passes_terms(f, index) {
                    rows.push(Row { index });
                }
            }
            return rows;
        }
        let mut hit = vec![false; len];
        for i in e.matched() {
            if let Some(h) = hit.get_mut(i) {
                *h = true;
            }
        }
        self.rows_from_base(f, Some(&hit))
    }

    /// What rows made from the matcher's result depend on, besides that result.
    fn engine_rows_key(&self, f: &Filter) -> EngineRowsKey {
        (
            self.engine_source(),
            self.sort,
            f.tags.clone(),
            f.types.clone(),
        )
    }

    /// Gives the engine the query and the names it does not have yet (made on first use).
    fn feed_engine(&mut self, f: &Filter) {
        let wake = self.wake.clone();
        let source = self.engine_source();
        let len = self.total();
        let mut engine = self
            .engine
            .take()
            .unwrap_or_else(|| Engine::new(std::sync::Arc::new(move || wake.notify_one())));
        engine.feed(
            source,
            len,
            |i| self.item(i).map(|p| p.name.as_str()),
            &f.fuzzy,
        );
        self.engine = Some(engine);
    }

    /// Between changes: feeds the matcher the names it lacks (from the moment the filter line opens,
    /// so the first keystroke finds them there; a big list over a few frames), and takes a newer
    /// result from it.
    fn poll_engine(&mut self) {
        let f = self.parsed_filter();
        if !self.filter_editing && f.no_name_part() {
            return;
        }
        let (source, len) = (self.engine_source(), self.total());
        let current = self
            .engine
            .as_ref()
            .is_some_and(|e| e.source() == Some(source) && e.fed(len));
        if !current {
            self.feed_engine(&f);
        }
        if f.no_name_part() {
            // The rows come from the kept order; the matcher only gets ready.
            return;
        }
        if self.engine.as_mut().is_some_and(|e| e.tick(0)) {
            self.take_engine_rows(&f);
        }
    }

    /// The rows become the matcher's latest result (their buffer reused).
    fn take_engine_rows(&mut self, f: &Filter) {
        self.engine_rows_for = Some(self.engine_rows_key(f));
        let buffer = std::mem::take(&mut self.rows);
        self.rows = self.rows_from_engine(f, buffer);
    }

    /// Whether the filter's matcher is still working (tests wait for it to settle).
    pub fn filtering(&self) -> bool {
        self.engine.as_ref().is_some_and(|e| e.running())
            && self.screen == Screen::Vault
            && !self.parsed_filter().no_name_part()
    }

    /// Prepares until the matcher has its final result (tests and benchmarks; the UI never waits).
    pub fn settle_filter(&mut self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        self.prepare();
        while self.filtering() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
            self.prepare();
        }
    }

    /// A page was appended to the current list: merge its items into the sorted order (not
    /// everything sorted again) and into the rows; the matcher gets the new names. The cursor
    /// stays on the same secret.
    pub(super) fn extend_rows(&mut self) {
        let made_for = (self.tab, self.sort);
        if self.rows_dirty || self.base.as_ref().is_none_or(|b| b.made_for != made_for) {
            self.rows_dirty = true;
            return;
        }
        let len = self.total();
        let Some(mut base) = self.base.take() else {
            return;
        };
        let from = base.len.min(len);
        let cmp = |a: &usize, b: &usize| self.cmp_at(*a, *b);
        let mut new: Vec<usize> = (from..len).collect();
        new.sort_by(cmp);
        let at_end = match (base.order.last(), new.first()) {
            (Some(last), Some(first)) => cmp(last, first) != Ordering::Greater,
            _ => true,
        };
        let f = self.parsed_filter();
        if at_end {
            base.order.extend_from_slice(&new);
        } else {
            let old = std::mem::take(&mut base.order);
            let mut merged = Vec::with_capacity(old.len() + new.len());
            let (mut a, mut b) = (old.into_iter().peekable(), new.iter().copied().peekable());
            loop {
                let take_old = match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) => cmp(x, y) != Ordering::Greater,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let next = if take_old { a.next() } else { b.next() };
                merged.extend(next);
            }
            base.order = merged;
        }
        base.len = len;
        self.base = Some(base);
        if !f.no_name_part() {
            // The matcher gets the new names; its result comes at the next frames.
            self.feed_engine(&f);
            return;
        }
        if at_end {
            let rows: Vec<Row> = new
                .iter()
                .filter(|&&i| self.passes_terms(&f, i))
                .map(|&index| Row { index })
                .collect();
            self.rows.extend(rows);
            return;
        }
        let selected = self
            .rows
            .get(self.current_cursor().selected)
            .map(|r| r.index);
        self.rows = self.rows_from_base(&f, None);
        if let Some(item) = selected {
            if let Some(pos) = self.rows.iter().position(|r| r.index == item) {
                self.cursor().selected = pos;
            }
        }
    }

    /// Marks the visible rows for recomputation (after changing the data, the list or the sort).
    pub fn invalidate(&mut self) {
        self.rows_dirty = true;
        self.base = None;
        self.generation += 1;
    }

    /// Only the filter was typed into: the rows are picked again, the order and names kept.
    pub(super) fn refilter(&mut self) {
        self.rows_dirty = true;
    }

    /// Another tab or sort: the rows are ordered again; the data (and the matcher's names, which
    /// are the tab's list) unchanged.
    pub(super) fn reorder(&mut self) {
        self.rows_dirty = true;
        self.base = None;
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
        let passes = self
            .parsed_filter()
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
