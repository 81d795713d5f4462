//! Marked rows and what acts on them: `Space` marks the selected secret (or deleted secret) and
//! moves on, `*` marks every row shown, `Esc` clears the marks; delete, recover and purge then act
//! on the marked rows with one confirmation, a few at a time, with progress in the status bar, a
//! summary at the end (how many done, which failed and why, in the message log), and `Esc` stops
//! between items.

use std::collections::{BTreeSet, VecDeque};

use super::jobs::Job;
use super::state::Operation;
use super::{App, Effect, OpKind, Popup, Tab};
use crate::vault::{Response, VaultError};

/// Operations of a batch in flight at once: the service takes far more, but each delete or
/// recover polls until it completes, and a handful keeps the vault's throttling budget untouched.
pub const BATCH_CONCURRENCY: usize = 4;

/// The names marked in each tab, lower-cased (names are case-insensitive).
#[derive(Clone, Debug, Default)]
pub struct Marks {
    pub secrets: BTreeSet<String>,
    pub deleted: BTreeSet<String>,
}

impl Marks {
    pub fn of(&self, tab: Tab) -> &BTreeSet<String> {
        match tab {
            Tab::Secrets => &self.secrets,
            Tab::Deleted => &self.deleted,
        }
    }

    fn of_mut(&mut self, tab: Tab) -> &mut BTreeSet<String> {
        match tab {
            Tab::Secrets => &mut self.secrets,
            Tab::Deleted => &mut self.deleted,
        }
    }

    pub fn clear(&mut self) {
        self.secrets.clear();
        self.deleted.clear();
    }
}

/// Delete, recover or purge over marked rows.
#[derive(Clone, Debug)]
pub struct Batch {
    pub kind: OpKind,
    pub total: usize,
    pub queue: VecDeque<String>,
    pub running: usize,
    pub done: usize,
    pub failed: Vec<(String, VaultError)>,
    /// Esc: no new item starts; the running ones finish.
    pub stopping: bool,
    pub started: std::time::Instant,
}

impl Batch {
    /// The status bar's words: "Deleting 20 marked: 7 done, 1 failed, 4 running — Esc stops".
    pub fn describe(&self, now: std::time::Instant) -> String {
        let verb = match self.kind {
            OpKind::Delete => "Deleting",
            OpKind::Recover => "Recovering",
            OpKind::Purge => "Purging",
            OpKind::Create => "Creating",
        };
        let secs = now.saturating_duration_since(self.started).as_secs();
        let mut s = format!("{verb} {} marked: {} done", self.total, self.done);
        if !self.failed.is_empty() {
            s.push_str(&format!(", {} failed", self.failed.len()));
        }
        s.push_str(&format!(", {} running", self.running));
        if self.stopping {
            s.push_str(" — stopping after these");
        } else if !self.queue.is_empty() {
            s.push_str(&format!(
                ", {} to go ({secs} s) — Esc stops",
                self.queue.len()
            ));
        }
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "secret"
    } else {
        "secrets"
    }
}

impl App {
    /// The selected row's name in the current tab.
    fn selected_name(&self) -> Option<String> {
        match self.tab {
            Tab::Secrets => self.selected_secret().map(|s| s.name.clone()),
            Tab::Deleted => self.selected_deleted().map(|d| d.props.name.clone()),
        }
    }

    /// `Space`: marks or unmarks the selected row, then moves to the next.
    pub(super) fn toggle_mark(&mut self) {
        let Some(name) = self.selected_name() else {
            return;
        };
        let key = name.to_lowercase();
        let set = self.marks.of_mut(self.tab);
        if !set.remove(&key) {
            set.insert(key);
        }
        self.step(1);
    }

    /// `*`: marks every row shown; when they all are, unmarks them.
    pub(super) fn mark_shown(&mut self) {
        self.prepare();
        let names: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| match self.tab {
                Tab::Secrets => self
                    .vault
                    .as_ref()
                    .and_then(|v| v.secrets.get(r.index))
                    .map(|s| s.name.to_lowercase()),
                Tab::Deleted => self
                    .vault
                    .as_ref()
                    .and_then(|v| v.deleted.get(r.index))
                    .map(|d| d.props.name.to_lowercase()),
            })
            .collect();
        let set = self.marks.of_mut(self.tab);
        if names.iter().all(|n| set.contains(n)) {
            for n in &names {
                set.remove(n);
            }
        } else {
            set.extend(names);
        }
    }

    /// The marked names of the current tab that are still listed, in the list's order (as first
    /// spelled).
    pub fn marked_names(&self) -> Vec<String> {
        let set = self.marks.of(self.tab);
        let Some(v) = self.vault.as_ref().filter(|_| !set.is_empty()) else {
            return Vec::new();
        };
        match self.tab {
            Tab::Secrets => v
                .secrets
                .iter()
                .filter(|s| set.contains(&s.name.to_lowercase()))
                .map(|s| s.name.clone())
                .collect(),
            Tab::Deleted => v
                .deleted
                .iter()
                .filter(|d| set.contains(&d.props.name.to_lowercase()))
                .map(|d| d.props.name.clone())
                .collect(),
        }
    }

    pub fn is_marked(&self, tab: Tab, name: &str) -> bool {
        self.marks.of(tab).contains(&name.to_lowercase())
    }

    /// Whether a bulk action works on this row now (its row shows it).
    pub fn in_batch(&self, name: &str) -> bool {
        self.batch.is_some()
            && self
                .jobs
                .ops()
                .any(|op| op.batch && op.name.eq_ignore_ascii_case(name))
    }

    /// Delete, recover or purge with marks: one confirmation for all of them. False when nothing
    /// is marked (the action then acts on the selected row).
    pub(super) fn confirm_marked(&mut self, kind: OpKind) -> bool {
        let names = self.marked_names();
        if names.is_empty() {
            return false;
        }
        if self.batch.is_some() {
            self.error("a bulk operation is still running: wait for it, or Esc to stop it");
            return true;
        }
        // Certificate-backed secrets cannot be deleted here; say so up front rather than fail 1 by 1.
        self.popup = Some(Popup::ConfirmBatch {
            kind,
            names,
            typed: Default::default(),
        });
        true
    }

    /// Starts a confirmed batch: the first few at once, the rest as those finish.
    pub(super) fn start_batch(&mut self, kind: OpKind, names: Vec<String>) -> Vec<Effect> {
        self.batch = Some(Batch {
            kind,
            total: names.len(),
            queue: names.into(),
            running: 0,
            done: 0,
            failed: Vec::new(),
            stopping: false,
            started: self.instant,
        });
        self.marks.of_mut(self.tab).clear();
        self.next_batch_items()
    }

    fn next_batch_items(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        while let Some(b) = self.batch.as_mut() {
            if b.stopping || b.running >= BATCH_CONCURRENCY {
                break;
            }
            let Some(name) = b.queue.pop_front() else {
                break;
            };
            b.running += 1;
            let kind = b.kind;
            let sent = self.start_op(kind, name);
            for e in &sent {
                if let Effect::Send(id, _) = e {
                    if let Some(Job::Op(op)) = self.jobs.get_mut(*id) {
                        op.batch = true;
                    }
                }
            }
            effects.extend(sent);
        }
        self.finish_batch_if_done();
        effects
    }

    /// One item of the batch answered.
    pub(super) fn on_batch_item(
        &mut self,
        op: &Operation,
        secs: u64,
        response: Response,
    ) -> Vec<Effect> {
        let failed = match &response {
            Response::Failed(e) => Some(e.clone()),
            _ => None,
        };
        self.apply_op(op, secs, response);
        if let Some(b) = self.batch.as_mut() {
            b.running = b.running.saturating_sub(1);
            match failed {
                Some(e) => b.failed.push((op.name.clone(), e)),
                None => b.done += 1,
            }
        }
        self.next_batch_items()
    }

    /// Esc while a batch runs: nothing new starts.
    pub(super) fn stop_batch(&mut self) -> bool {
        let Some(b) = self.batch.as_mut() else {
            return false;
        };
        if b.stopping || b.queue.is_empty() {
            return false;
        }
        b.stopping = true;
        let left = b.queue.len();
        b.queue.clear();
        b.total -= left;
        let running = b.running;
        self.info(format!(
            "stopping: {left} not started; the {running} running finish"
        ));
        self.finish_batch_if_done();
        true
    }

    fn finish_batch_if_done(&mut self) {
        let finished = self
            .batch
            .as_ref()
            .is_some_and(|b| b.running == 0 && (b.queue.is_empty() || b.stopping));
        if !finished {
            return;
        }
        let Some(b) = self.batch.take() else {
            return;
        };
        let past = match b.kind {
            OpKind::Delete => "Deleted",
            OpKind::Recover => "Recovered",
            OpKind::Purge => "Purged",
            OpKind::Create => "Created",
        };
        let secs = self.instant.saturating_duration_since(b.started).as_secs();
        let attempted = b.done + b.failed.len();
        if b.failed.is_empty() {
            self.info(format!("{past} {} {} ({secs} s)", b.done, plural(b.done)));
            return;
        }
        let (first, why) = &b.failed[0];
        let more = match b.failed.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        self.fail(
            &format!(
                "{past} {} of {attempted} {}; {} failed — '{first}'{more}",
                b.done,
                plural(attempted),
                b.failed.len()
            ),
            why.clone(),
        );
    }

    /// What the title says of the marks: "· 3 marked".
    /// Drawn every frame: the count of the set, not a pass over the list.
    pub fn marks_label(&self) -> Option<String> {
        let n = self.marks.of(self.tab).len();
        (n > 0).then(|| format!("{n} marked"))
    }
}
