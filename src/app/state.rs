//! The state types the views read: screens, tabs, dialogs, the value panel, operations, effects.

use std::time::Instant;

use super::text::LineField;
use crate::vault::worker::Phase;
use crate::vault::{
    DeletedProps, Progress, Request, RequestId, SecretProps, SecretValue, VaultError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Vaults,
    Vault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Secrets,
    Deleted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Updated,
    Expires,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Updated => "updated",
            SortKey::Expires => "expires",
        }
    }

    pub fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Updated,
            SortKey::Updated => SortKey::Expires,
            SortKey::Expires => SortKey::Name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Popup {
    /// The keys of the view it was opened from, scrolled by `scroll` lines.
    Help {
        context: super::keymap::Context,
        scroll: u16,
    },
    ConfirmDelete {
        name: String,
    },
    /// Purge needs the secret's name typed out.
    ConfirmPurge {
        name: String,
        typed: LineField,
    },
    ConfirmQuit,
    /// Delete, recover or purge of the marked rows; a purge needs their count typed.
    ConfirmBatch {
        kind: super::OpKind,
        names: Vec<String>,
        typed: LineField,
    },
    /// `b` onto a file that exists: replace it?
    ConfirmOverwrite {
        name: String,
        path: String,
    },
    OpenVault {
        input: LineField,
        error: Option<String>,
    },
    /// 409 ObjectIsDeletedButRecoverable on create: recover it, purge it and create, or cancel.
    Conflict {
        name: String,
    },
    /// `b`: the file to write the backup blob to.
    Backup {
        name: String,
        path: LineField,
        error: Option<String>,
    },
    /// `:` command line.
    Command {
        input: LineField,
        error: Option<String>,
    },
    /// An error explained: what happened, whole, and what to do (`!`).
    Error {
        explanation: Box<super::explain::Explanation>,
        scroll: u16,
    },
    /// The message log (`:messages`), the cursor on one line.
    Messages {
        cursor: usize,
    },
    /// `:export-env FILE`: values to disk, only once the vault's name is typed.
    ConfirmExportEnv {
        path: String,
        names: Vec<String>,
        typed: LineField,
    },
    /// `:compare-vaults` / `:promote`: the two vaults name by name.
    VaultDiff {
        cursor: usize,
    },
    /// `:search` or `:expiring`: secrets of every known vault, filtered as typed.
    Across {
        kind: super::across::AcrossKind,
        input: LineField,
        cursor: usize,
    },
}

impl Popup {
    /// The line the user types into, for the dialogs that take text; typing there clears the
    /// dialog's error.
    pub fn text_mut(&mut self) -> Option<&mut LineField> {
        match self {
            Popup::ConfirmPurge { typed, .. } => Some(typed),
            Popup::ConfirmExportEnv { typed, .. } => Some(typed),
            Popup::Across { input, cursor, .. } => {
                *cursor = 0;
                Some(input)
            }
            Popup::ConfirmBatch {
                kind: OpKind::Purge,
                typed,
                ..
            } => Some(typed),
            Popup::Backup { path, error, .. } => {
                *error = None;
                Some(path)
            }
            Popup::Command { input, error } | Popup::OpenVault { input, error } => {
                *error = None;
                Some(input)
            }
            _ => None,
        }
    }

    pub fn command() -> Self {
        Popup::Command {
            input: LineField::default(),
            error: None,
        }
    }
}

/// The masked value panel. The value is fetched when it opens and dropped when it closes.
#[derive(Debug)]
pub struct ValuePanel {
    pub name: String,
    pub props: Option<SecretProps>,
    pub value: Option<SecretValue>,
    /// The value as shown (JSON pretty-printed), made once when it arrives.
    pub shown: Option<SecretValue>,
    pub revealed: bool,
    pub scroll: u16,
    pub error: Option<VaultError>,
}

impl ValuePanel {
    pub fn new(p: SecretProps) -> Self {
        Self {
            name: p.name.clone(),
            props: Some(p),
            value: None,
            shown: None,
            revealed: false,
            scroll: 0,
            error: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Delete,
    Recover,
    Purge,
    /// Create after a purge: waits for the name to be free.
    Create,
}

impl OpKind {
    pub fn verb(self) -> &'static str {
        match self {
            OpKind::Delete => "delete",
            OpKind::Recover => "recover",
            OpKind::Purge => "purge",
            OpKind::Create => "create",
        }
    }
}

/// What to do when an operation started from the conflict dialog completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Followup {
    /// Recovered: open it.
    Open,
    /// Purged: create the secret of the form.
    Create,
}

/// A long operation in flight, shown in the status bar with a spinner.
#[derive(Clone, Debug)]
pub struct Operation {
    pub kind: OpKind,
    pub name: String,
    pub started: Instant,
    pub progress: Option<Progress>,
    pub followup: Option<Followup>,
    /// One item of a bulk action (the batch line describes it, not the item).
    pub batch: bool,
}

impl Operation {
    pub fn describe(&self, now: Instant) -> String {
        let secs = now.saturating_duration_since(self.started).as_secs();
        let verb = match self.kind {
            OpKind::Delete => "Deleting",
            OpKind::Recover => "Recovering",
            OpKind::Purge => "Purging",
            OpKind::Create => "Creating",
        };
        let wait = match self.progress.map(|p| p.phase) {
            Some(Phase::WaitingForDeletion) => "waiting for the deletion to complete",
            Some(Phase::WaitingForRecovery) => "waiting until it is readable",
            Some(Phase::WaitingForName) => "waiting for the name to be free",
            Some(Phase::WaitingToPurge) => "waiting for the deletion to finish first",
            None => return format!("{verb} '{}'…", self.name),
        };
        format!("{verb} '{}'… {wait} ({secs} s)", self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub error: bool,
}

/// A list that many hold and one changes: cloning it is a pointer copy (the names cache writes a
/// 100,000-secret list from another thread without the UI loop copying it); a change while another
/// holder still has it copies it once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shared<T: Clone>(std::sync::Arc<Vec<T>>);

impl<T: Clone> Shared<T> {
    /// Another handle on the same list.
    pub fn share(&self) -> std::sync::Arc<Vec<T>> {
        self.0.clone()
    }
}

impl<T: Clone> From<Vec<T>> for Shared<T> {
    fn from(v: Vec<T>) -> Self {
        Shared(std::sync::Arc::new(v))
    }
}

impl<T: Clone> std::ops::Deref for Shared<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T: Clone> std::ops::DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

/// The open vault's data.
#[derive(Debug, Default)]
pub struct OpenVault {
    pub url: String,
    pub name: String,
    pub secrets: Shared<SecretProps>,
    pub deleted: Vec<DeletedProps>,
    pub read_only: bool,
    /// Why the last listing failed (the list body says so; R retries).
    pub list_error: Option<VaultError>,
    pub deleted_error: Option<VaultError>,
    /// The rows shown came from the names cache, written then (Unix seconds).
    pub cached_at: Option<i64>,
    /// While cached rows show: the fresh listing's pages, gathered until the last.
    pub fresh: Option<Vec<SecretProps>>,
    /// What kvtui changed while that listing ran (a secret saved, or deleted: `None`), applied to it
    /// when it replaces the cached rows — the listing may have passed the name already.
    pub changed: Vec<(String, Option<SecretProps>)>,
}

impl OpenVault {
    /// Remembers a change made while a fresh listing runs behind cached rows.
    pub fn note_change(&mut self, name: &str, now: Option<SecretProps>) {
        if self.fresh.is_some() {
            self.changed.push((name.to_string(), now));
        }
    }

    /// The fresh listing, with the changes made while it ran.
    pub fn fresh_with_changes(&mut self) -> Vec<SecretProps> {
        let mut list = self.fresh.take().unwrap_or_default();
        let changes = std::mem::take(&mut self.changed);
        if changes.is_empty() {
            return list;
        }
        for (name, now) in changes {
            list.retain(|s| !s.name.eq_ignore_ascii_case(&name));
            if let Some(p) = now {
                list.push(p);
            }
        }
        list.sort_by_key(|x| x.name.to_lowercase());
        list
    }
}

/// What the event loop must do after an update.
#[derive(Debug)]
pub enum Effect {
    Send(RequestId, Request),
    Cancel(RequestId),
    RecordRecent(String),
    /// Keep a vault's names and properties (never values) in the names cache.
    SaveNames {
        who: String,
        vault: String,
        items: std::sync::Arc<Vec<SecretProps>>,
    },
    /// `:export`: write `contents` (names and properties only) to `path`.
    Export {
        path: String,
        contents: String,
        count: usize,
        replace: bool,
    },
    /// A vault's tenant, learned from its challenge: kept for the next start.
    RememberTenant {
        vault: String,
        tenant: String,
    },
    /// Put `text` on the clipboard; `sensitive` copies are cleared after the timeout.
    Copy {
        text: SecretValue,
        label: String,
        sensitive: bool,
    },
    /// Suspend the TUI and edit `value` in $EDITOR; a change becomes a new version of `base`.
    Edit {
        value: SecretValue,
        base: SecretProps,
    },
}

/// The last copy, for the status bar's countdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipInfo {
    pub label: String,
    pub backend: &'static str,
    pub deadline: Option<Instant>,
    pub hint: Option<String>,
    /// The system clipboard has not confirmed the copy yet.
    pub confirming: bool,
}
