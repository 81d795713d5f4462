//! Requests in flight: one table, `RequestId → Job`. A response is matched by removing its job (a
//! streamed one puts it back until its last message); the event loop ticks while a job runs; quitting
//! cancels them all.

use std::collections::BTreeMap;

use super::state::Operation;
use crate::vault::{RequestId, SecretProps};

#[derive(Clone, Debug)]
pub enum Job {
    Discover,
    /// The open vault's cached rows being read.
    ReadNamesCache,
    ListSecrets,
    ListDeleted,
    /// The value panel's value.
    Value,
    /// A value fetched to go to the clipboard.
    Copy {
        label: String,
        /// Copied as `NAME=value` (the secret's name).
        env: Option<String>,
    },
    /// A value fetched to be edited in $EDITOR.
    FetchForEdit {
        base: SecretProps,
    },
    /// A new version from $EDITOR being saved.
    SaveEdit {
        name: String,
    },
    Backup {
        path: String,
        name: String,
    },
    Restore {
        path: String,
    },
    /// The form's submission.
    Form,
    /// Enable / disable; `latest` when the list row shows this version.
    Toggle {
        label: String,
        latest: bool,
    },
    /// Delete, recover, purge, create-when-free: long, with progress.
    Op(Operation),
    Versions,
    /// One vault's listing for `:search` / `:expiring`.
    Scan {
        vault: String,
    },
    /// The other vault's listing (or its deleted secrets) for a comparison.
    DiffList {
        deleted: bool,
    },
    /// A value's fingerprint for a comparison (lower-cased name; which side).
    DiffHash {
        name: String,
        left: bool,
    },
    /// `:export-env`: values being written to a file.
    ExportEnv {
        path: String,
    },
    /// One secret promoted to the other vault.
    DiffCopy {
        name: String,
    },
    /// One side of a version comparison.
    CompareSide {
        left: bool,
    },
}

impl Job {
    /// The status bar's words for it, when it says anything.
    pub fn describe(&self, now: std::time::Instant) -> Option<String> {
        Some(match self {
            Job::Op(op) if op.batch => return None,
            Job::Op(op) => op.describe(now),
            Job::Copy { label, .. } => format!("fetching {label} to copy…"),
            Job::FetchForEdit { base } => format!("fetching '{}' for $EDITOR…", base.name),
            Job::SaveEdit { name } => format!("saving '{name}'…"),
            Job::Backup { path, .. } => format!("backing up to {path}…"),
            Job::Restore { path } => format!("restoring {path}…"),
            Job::Toggle { label, .. } => format!("changing '{label}'…"),
            Job::DiffCopy { name } => format!("promoting '{name}'…"),
            Job::ExportEnv { path } => format!("writing values to {path}…"),
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
pub struct Jobs {
    table: BTreeMap<RequestId, Job>,
}

impl Jobs {
    pub fn insert(&mut self, id: RequestId, job: Job) {
        self.table.insert(id, job);
    }

    pub fn remove(&mut self, id: RequestId) -> Option<Job> {
        self.table.remove(&id)
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (RequestId, &Job)> {
        self.table.iter().map(|(id, j)| (*id, j))
    }

    pub fn get_mut(&mut self, id: RequestId) -> Option<&mut Job> {
        self.table.get_mut(&id)
    }

    /// Whether a job of this kind runs.
    pub fn any(&self, f: impl Fn(&Job) -> bool) -> bool {
        self.table.values().any(f)
    }

    /// Removes the jobs of a kind and returns their ids (to cancel them).
    pub fn take(&mut self, f: impl Fn(&Job) -> bool) -> Vec<RequestId> {
        let ids: Vec<RequestId> = self
            .table
            .iter()
            .filter(|(_, j)| f(j))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.table.remove(id);
        }
        ids
    }

    /// Every id, emptying the table (on quit).
    pub fn drain(&mut self) -> Vec<RequestId> {
        std::mem::take(&mut self.table).into_keys().collect()
    }

    /// The long operations, oldest first.
    pub fn ops(&self) -> impl Iterator<Item = &Operation> {
        self.table.values().filter_map(|j| match j {
            Job::Op(op) => Some(op),
            _ => None,
        })
    }
}
