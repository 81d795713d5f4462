//! The application state and its pure update: terminal events and worker responses go in, state
//! changes and the requests to send come out. No I/O, no awaits: every behaviour is a unit test.

pub mod filter;
pub mod form;
pub mod versions;

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use time::OffsetDateTime;

use crate::vault::sources::{Source, VaultList};
use crate::vault::worker::Phase;
use crate::vault::{
    DeletedProps, Envelope, Progress, Request, RequestId, Response, SecretProps, SecretValue,
    VaultError,
};
use filter::Filter;

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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Popup {
    Help,
    ConfirmDelete {
        name: String,
    },
    /// Purge needs the secret's name typed out.
    ConfirmPurge {
        name: String,
        typed: String,
    },
    ConfirmQuit,
    OpenVault {
        input: String,
        error: Option<String>,
    },
    /// 409 ObjectIsDeletedButRecoverable on create: recover it, purge it and create, or cancel.
    Conflict {
        name: String,
    },
    /// `b`: the file to write the backup blob to.
    Backup {
        name: String,
        path: String,
        error: Option<String>,
    },
    /// `:` command line.
    Command {
        input: String,
        error: Option<String>,
    },
}

impl Popup {
    /// The line the user types into, for the dialogs that take text; typing there clears the
    /// dialog's error.
    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Popup::ConfirmPurge { typed, .. } => Some(typed),
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
}

/// The `:` commands, for completion.
pub const COMMANDS: [&str; 9] = [
    "vaults", "secrets", "deleted", "versions", "vault ", "backup ", "restore ", "new", "q",
];

/// Completes `input` against the commands and, after `vault `, the vault names. Returns the new
/// input, or the candidates when there are several.
pub fn complete(input: &str, vault_names: &[String]) -> Result<String, Vec<String>> {
    let candidates: Vec<String> = if let Some(rest) = input.strip_prefix("vault ") {
        vault_names
            .iter()
            .filter(|n| n.to_lowercase().starts_with(&rest.to_lowercase()))
            .map(|n| format!("vault {n}"))
            .collect()
    } else {
        COMMANDS
            .iter()
            .filter(|c| c.starts_with(input))
            .map(|c| c.to_string())
            .collect()
    };
    match candidates.len() {
        0 => Err(Vec::new()),
        1 => Ok(candidates[0].clone()),
        _ => {
            // The longest common prefix (by character), if it adds anything.
            let first: Vec<char> = candidates[0].chars().collect();
            let common = (0..first.len())
                .take_while(|i| {
                    candidates
                        .iter()
                        .all(|c| c.chars().nth(*i) == Some(first[*i]))
                })
                .count();
            if common > input.chars().count() {
                Ok(first[..common].iter().collect())
            } else {
                Err(candidates)
            }
        }
    }
}

/// The masked value panel. The value is fetched when it opens and dropped when it closes.
#[derive(Debug)]
pub struct ValuePanel {
    pub name: String,
    pub props: Option<SecretProps>,
    pub value: Option<SecretValue>,
    pub revealed: bool,
    pub scroll: u16,
    pub request: Option<RequestId>,
    pub error: Option<VaultError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Delete,
    Recover,
    Purge,
    /// Create after a purge: waits for the name to be free.
    Create,
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
    pub id: RequestId,
    pub kind: OpKind,
    pub name: String,
    pub started: Instant,
    pub progress: Option<Progress>,
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
        match self.progress.map(|p| p.phase) {
            Some(Phase::WaitingForDeletion) => {
                format!(
                    "{verb} '{}'… waiting for the deletion to complete ({secs} s)",
                    self.name
                )
            }
            Some(Phase::WaitingForRecovery) => {
                format!(
                    "{verb} '{}'… waiting until it is readable ({secs} s)",
                    self.name
                )
            }
            Some(Phase::WaitingForName) => {
                format!(
                    "{verb} '{}'… waiting for the name to be free ({secs} s)",
                    self.name
                )
            }
            Some(Phase::WaitingToPurge) => {
                format!(
                    "{verb} '{}'… waiting for the deletion to finish first ({secs} s)",
                    self.name
                )
            }
            None => format!("{verb} '{}'…", self.name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    pub text: String,
    pub error: bool,
}

/// The open vault's data.
#[derive(Debug, Default)]
pub struct OpenVault {
    pub url: String,
    pub name: String,
    pub secrets: Vec<SecretProps>,
    pub secrets_loading: Option<RequestId>,
    pub deleted: Vec<DeletedProps>,
    pub deleted_loading: Option<RequestId>,
    pub read_only: bool,
}

/// One visible row: an index into the underlying list and the matched character positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub index: usize,
    pub matched: Vec<usize>,
}

/// A selectable list's cursor and scroll position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    fn clamp(&mut self, len: usize, height: usize) {
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

    fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            return;
        }
        let s = self.selected as isize + delta;
        self.selected = s.clamp(0, len as isize - 1) as usize;
    }
}

/// What the event loop must do after an update.
#[derive(Debug)]
pub enum Effect {
    Send(RequestId, Request),
    Cancel(RequestId),
    RecordRecent(String),
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
}

pub struct App {
    pub screen: Screen,
    pub tab: Tab,
    pub vaults: VaultList,
    pub vault_cursor: Cursor,
    pub discovering: Option<RequestId>,
    pub vault: Option<OpenVault>,
    pub secrets_cursor: Cursor,
    pub deleted_cursor: Cursor,
    pub filter_input: String,
    pub filter_editing: bool,
    pub sort: SortKey,
    pub value: Option<ValuePanel>,
    pub popup: Option<Popup>,
    pub ops: Vec<Operation>,
    pub status: Option<StatusMessage>,
    pub clip: Option<ClipInfo>,
    /// A value being fetched to be copied (`c` in the list).
    pub pending_copy: Option<(RequestId, String)>,
    /// A value being fetched to be edited in $EDITOR (`E`).
    pub pending_edit: Option<(RequestId, SecretProps)>,
    /// New versions from $EDITOR being saved.
    pub edits: Vec<(RequestId, String)>,
    /// Backups and restores in flight, with the file.
    pub files: Vec<(RequestId, String)>,
    /// The create / new version / properties form.
    pub form: Option<form::Form>,
    /// Property changes in flight (`x`), by request; `true` when the change is to the latest version
    /// (the list row is updated).
    pub saves: Vec<(RequestId, String, bool)>,
    pub versions: Option<versions::VersionsView>,
    pub followup: Option<(RequestId, Followup)>,
    /// The local UTC offset, read once at start-up (dates without an offset are local time).
    pub local_offset: time::UtcOffset,
    pub palette: crate::ui::theme::Palette,
    /// User key → the default key of the action it is bound to (`[keys]` in the config).
    pub keymap: std::collections::HashMap<KeyEvent, KeyEvent>,
    pub identity: Option<String>,
    pub read_only: bool,
    pub quit: bool,
    pub color: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// Wall clock for relative dates, and a monotonic one for spinners and elapsed times.
    pub now: OffsetDateTime,
    pub instant: Instant,
    pub tick: u64,
    /// Derived: the visible rows of the current list (filtered and sorted).
    pub rows: Vec<Row>,
    rows_dirty: bool,
    next_id: RequestId,
}

/// Rows the body of a list can show at this terminal size (title, tabs, header, filter, status, hints).
pub fn list_height(size: (u16, u16)) -> usize {
    size.1.saturating_sub(6) as usize
}

impl App {
    pub fn new(vaults: VaultList) -> Self {
        Self {
            screen: Screen::Vaults,
            tab: Tab::Secrets,
            vaults,
            vault_cursor: Cursor::default(),
            discovering: None,
            vault: None,
            secrets_cursor: Cursor::default(),
            deleted_cursor: Cursor::default(),
            filter_input: String::new(),
            filter_editing: false,
            sort: SortKey::Name,
            value: None,
            popup: None,
            ops: Vec::new(),
            status: None,
            clip: None,
            pending_copy: None,
            pending_edit: None,
            edits: Vec::new(),
            files: Vec::new(),
            form: None,
            saves: Vec::new(),
            versions: None,
            followup: None,
            local_offset: time::UtcOffset::UTC,
            palette: crate::ui::theme::Palette::DARK,
            keymap: std::collections::HashMap::new(),
            identity: None,
            read_only: false,
            quit: false,
            color: true,
            size: (100, 30),
            now: OffsetDateTime::UNIX_EPOCH,
            instant: Instant::now(),
            tick: 0,
            rows: Vec::new(),
            rows_dirty: true,
            next_id: 1 << 32,
        }
    }

    fn id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    /// True while something animates (a spinner or an elapsed time): the event loop ticks only then.
    pub fn needs_tick(&self) -> bool {
        !self.ops.is_empty()
            || self.discovering.is_some()
            || self.pending_copy.is_some()
            || !self.saves.is_empty()
            || self.pending_edit.is_some()
            || !self.edits.is_empty()
            || !self.files.is_empty()
            || self.versions.as_ref().is_some_and(|v| {
                v.loading.is_some()
                    || v.compare
                        .as_ref()
                        .is_some_and(|c| c.left.2.is_some() || c.right.2.is_some())
            })
            || self.form.as_ref().is_some_and(|f| f.submitting.is_some())
            || self.clip.as_ref().is_some_and(|c| c.deadline.is_some())
            || self.value.as_ref().is_some_and(|v| v.request.is_some())
            || self
                .vault
                .as_ref()
                .is_some_and(|v| v.secrets_loading.is_some() || v.deleted_loading.is_some())
    }

    pub fn set_clock(&mut self, now: OffsetDateTime, instant: Instant) {
        self.now = now;
        self.instant = instant;
    }

    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            error: true,
        });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(StatusMessage {
            text: text.into(),
            error: false,
        });
    }

    /// Applies `[keys]` from the config (already checked): each key stands for its action's default.
    pub fn bind_keys(&mut self, keys: &std::collections::BTreeMap<String, String>) {
        for (key, action) in keys {
            let default = crate::config::ACTIONS
                .iter()
                .find(|(a, _)| a == action)
                .and_then(|(_, d)| crate::config::parse_key(d));
            if let (Some(from), Some(to)) = (crate::config::parse_key(key), default) {
                self.keymap.insert(from, to);
            }
        }
    }

    // ---- derived rows -------------------------------------------------------------------------

    /// Recomputes the visible rows if anything they depend on changed, and keeps the cursors inside.
    pub fn prepare(&mut self) {
        if self.rows_dirty {
            self.rows = self.compute_rows();
            self.rows_dirty = false;
        }
        let h = list_height(self.size);
        let len = self.rows.len();
        match (self.screen, self.tab) {
            (Screen::Vaults, _) => self.vault_cursor.clamp(len, h),
            (Screen::Vault, Tab::Secrets) => self.secrets_cursor.clamp(len, h),
            (Screen::Vault, Tab::Deleted) => self.deleted_cursor.clamp(len, h),
        }
    }

    fn compute_rows(&self) -> Vec<Row> {
        let f = Filter::parse(&self.filter_input);
        let empty = std::collections::BTreeMap::new();
        let mut scored: Vec<(i64, Row)> = Vec::new();
        match self.screen {
            Screen::Vaults => {
                for (i, v) in self.vaults.entries.iter().enumerate() {
                    if let Some((s, m)) = f.matches(&v.name, None, &empty) {
                        scored.push((
                            s,
                            Row {
                                index: i,
                                matched: m,
                            },
                        ));
                    }
                }
            }
            Screen::Vault => {
                let Some(vault) = &self.vault else {
                    return Vec::new();
                };
                let props: Vec<&SecretProps> = match self.tab {
                    Tab::Secrets => vault.secrets.iter().collect(),
                    Tab::Deleted => vault.deleted.iter().map(|d| &d.props).collect(),
                };
                for (i, p) in props.iter().enumerate() {
                    if let Some((s, m)) = f.matches(&p.name, p.content_type.as_deref(), &p.tags) {
                        scored.push((
                            s,
                            Row {
                                index: i,
                                matched: m,
                            },
                        ));
                    }
                }
                let key = |r: &Row| props[r.index];
                match self.sort {
                    SortKey::Name => scored.sort_by(|a, b| {
                        key(&a.1)
                            .name
                            .to_lowercase()
                            .cmp(&key(&b.1).name.to_lowercase())
                    }),
                    SortKey::Updated => {
                        scored.sort_by_key(|r| std::cmp::Reverse(key(&r.1).updated))
                    }
                    SortKey::Expires => scored.sort_by(|a, b| {
                        // Soonest first; no expiry last.
                        match (key(&a.1).expires, key(&b.1).expires) {
                            (Some(x), Some(y)) => x.cmp(&y),
                            (Some(_), None) => std::cmp::Ordering::Less,
                            (None, Some(_)) => std::cmp::Ordering::Greater,
                            (None, None) => std::cmp::Ordering::Equal,
                        }
                    }),
                }
            }
        }
        if !f.fuzzy.is_empty() && self.sort == SortKey::Name {
            // With a fuzzy pattern, the best matches come first.
            scored.sort_by_key(|r| std::cmp::Reverse(r.0));
        }
        scored.into_iter().map(|(_, r)| r).collect()
    }

    /// Marks the visible rows for recomputation (after changing the data, filter or tab directly).
    pub fn invalidate(&mut self) {
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

    fn cursor(&mut self) -> &mut Cursor {
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
    fn selected_in_vault(&self) -> Option<(SecretProps, String)> {
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

    // ---- forms --------------------------------------------------------------------------------

    fn open_form(&mut self, kind: char) {
        if self.refuse_read_only(match kind {
            'n' => "create",
            'u' => "a new version",
            'x' => "enable / disable",
            _ => "editing properties",
        }) {
            return;
        }
        let selected = self.selected_secret().cloned();
        if kind != 'n' && selected.as_ref().is_some_and(|p| p.managed) {
            self.error("certificate-backed (managed) secrets are read-only: change the certificate instead");
            return;
        }
        self.form = match (kind, selected) {
            ('n', _) => Some(form::Form::create()),
            ('u', Some(p)) => Some(form::Form::new_version(&p)),
            ('e', Some(p)) => Some(form::Form::properties(&p, None, self.local_offset)),
            _ => None,
        };
    }

    /// `x` on the secret list: the latest version.
    fn toggle_enabled(&mut self) -> Vec<Effect> {
        match self.selected_secret().cloned() {
            Some(p) => self.toggle(p, None, true),
            None => Vec::new(),
        }
    }

    /// Enables a disabled secret (or version) or disables an enabled one. `version: None` is the
    /// latest; `latest` says whether the list row shows this version.
    pub(super) fn toggle(
        &mut self,
        p: SecretProps,
        version: Option<String>,
        latest: bool,
    ) -> Vec<Effect> {
        if self.refuse_read_only("enable / disable") {
            return Vec::new();
        }
        let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
            return Vec::new();
        };
        let label = match &version {
            Some(v) => format!("{} version {}", p.name, versions::short(v)),
            None => p.name.clone(),
        };
        let id = self.id();
        self.saves.push((id, label, latest));
        let patch = crate::vault::PropertiesPatch {
            enabled: Some(!p.enabled),
            ..Default::default()
        };
        vec![Effect::Send(
            id,
            Request::UpdateProperties {
                vault: url,
                name: p.name,
                version,
                patch,
            },
        )]
    }

    fn submit_form(&mut self) -> Vec<Effect> {
        let (Some(f), Some(url)) = (
            self.form.as_ref(),
            self.vault.as_ref().map(|v| v.url.clone()),
        ) else {
            return Vec::new();
        };
        if f.submitting.is_some() {
            return Vec::new();
        }
        let errors = f.errors(self.now, self.local_offset);
        if let Some((field, e)) = errors.first() {
            self.error(format!("{}: {e}", field.label()));
            return Vec::new();
        }
        let request = match &f.kind {
            form::FormKind::Create | form::FormKind::NewVersion { .. } => f
                .new_secret(self.now, self.local_offset)
                .map(|secret| Request::SetSecret {
                    vault: url,
                    name: f.name.clone(),
                    secret,
                }),
            form::FormKind::Properties { name, version } => f
                .patch(self.now, self.local_offset)
                .map(|patch| Request::UpdateProperties {
                    vault: url,
                    name: name.clone(),
                    version: version.clone(),
                    patch,
                }),
        };
        let Some(request) = request else {
            return Vec::new();
        };
        let id = self.id();
        if let Some(f) = self.form.as_mut() {
            f.submitting = Some(id);
            f.service_error = None;
        }
        vec![Effect::Send(id, request)]
    }

    fn on_form_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let Some(f) = self.form.as_mut() else {
            return Vec::new();
        };
        let field = f.focused();
        let last = f.fields().len() - 1;
        match k.code {
            KeyCode::Esc => {
                self.form = None;
                self.info("nothing saved");
            }
            KeyCode::Char('s') if ctrl => return self.submit_form(),
            KeyCode::Char('t') if ctrl => f.show_value = !f.show_value,
            KeyCode::Tab | KeyCode::Down => f.focus = (f.focus + 1).min(last),
            KeyCode::BackTab | KeyCode::Up => f.focus = f.focus.saturating_sub(1),
            KeyCode::Enter if field.multiline() => {
                if let Some(t) = f.text_mut(field) {
                    t.push('\n');
                }
            }
            KeyCode::Enter if f.focus == last => return self.submit_form(),
            KeyCode::Enter => f.focus += 1,
            KeyCode::Char(' ') if field == form::Field::Enabled => f.enabled = !f.enabled,
            KeyCode::Backspace => {
                if let Some(t) = f.text_mut(field) {
                    t.pop();
                }
            }
            KeyCode::Char(c) if !ctrl => {
                if let Some(t) = f.text_mut(field) {
                    t.push(c);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn upsert(&mut self, p: SecretProps) {
        let Some(v) = self.vault.as_mut() else { return };
        let mut item = p;
        if item.version.is_some() {
            item.id = item
                .id
                .rsplit_once('/')
                .map(|(base, _)| base.to_string())
                .unwrap_or(item.id);
        }
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

    fn on_conflict_key(&mut self, name: String, k: KeyEvent) -> Vec<Effect> {
        match k.code {
            KeyCode::Char('r') => {
                let effects = self.start_op(OpKind::Recover, name);
                if let Some(Effect::Send(id, _)) = effects.first() {
                    self.followup = Some((*id, Followup::Open));
                    self.form = None;
                }
                effects
            }
            KeyCode::Char('p') => {
                let effects = self.start_op(OpKind::Purge, name);
                if let Some(Effect::Send(id, _)) = effects.first() {
                    self.followup = Some((*id, Followup::Create));
                }
                effects
            }
            KeyCode::Char('c') | KeyCode::Esc => {
                self.info("back to the form: nothing was lost");
                Vec::new()
            }
            _ => {
                self.popup = Some(Popup::Conflict { name });
                Vec::new()
            }
        }
    }

    /// Opens the value panel of `name` (after a recover from the conflict dialog).
    fn open_named(&mut self, name: &str) -> Vec<Effect> {
        self.filter_input.clear();
        self.tab = Tab::Secrets;
        self.invalidate();
        self.prepare();
        let Some(v) = self.vault.as_ref() else {
            return Vec::new();
        };
        if let Some(pos) = self.rows.iter().position(|r| {
            v.secrets
                .get(r.index)
                .is_some_and(|s| s.name.eq_ignore_ascii_case(name))
        }) {
            self.secrets_cursor.selected = pos;
            return self.open_value();
        }
        Vec::new()
    }

    // ---- backup, restore, the command line ------------------------------------------------------

    fn backup_to(&mut self, name: String, path: String) -> Vec<Effect> {
        let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
            return Vec::new();
        };
        let id = self.id();
        self.files.push((id, path.clone()));
        vec![Effect::Send(
            id,
            Request::Backup {
                vault: url,
                name,
                path: path.into(),
            },
        )]
    }

    fn restore_from(&mut self, path: String) -> Vec<Effect> {
        if self.refuse_read_only("restore") {
            return Vec::new();
        }
        let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
            self.error("open a vault first: the backup is restored into the open vault");
            return Vec::new();
        };
        let id = self.id();
        self.files.push((id, path.clone()));
        vec![Effect::Send(
            id,
            Request::Restore {
                vault: url,
                path: path.into(),
            },
        )]
    }

    fn run_command(&mut self, input: String) -> Vec<Effect> {
        let line = input.trim();
        let (cmd, arg) = line
            .split_once(' ')
            .map(|(c, a)| (c, a.trim()))
            .unwrap_or((line, ""));
        let in_vault = self.vault.is_some();
        match (cmd, arg) {
            ("q" | "quit" | "q!", _) => {
                if self.ops.is_empty() || cmd == "q!" {
                    self.quit = true;
                    return self.close_vault();
                }
                self.popup = Some(Popup::ConfirmQuit);
            }
            ("vaults", _) => {
                let effects = self.close_vault();
                self.screen = Screen::Vaults;
                self.invalidate();
                return effects;
            }
            ("secrets" | "deleted", _) if in_vault => {
                self.versions = None;
                self.value = None;
                self.screen = Screen::Vault;
                self.tab = if cmd == "secrets" {
                    Tab::Secrets
                } else {
                    Tab::Deleted
                };
                self.invalidate();
            }
            ("versions", _) if in_vault => {
                self.tab = Tab::Secrets;
                return self.open_versions();
            }
            ("new", _) if in_vault => self.open_form('n'),
            ("vault", name) if !name.is_empty() => {
                let found = self
                    .vaults
                    .entries
                    .iter()
                    .find(|e| e.name.eq_ignore_ascii_case(name) || e.url.eq_ignore_ascii_case(name))
                    .map(|e| e.url.clone());
                let url = match found {
                    Some(u) => u,
                    None => match crate::vault::sources::vault_url(
                        name,
                        crate::vault::credential::Cloud::Public,
                    ) {
                        Ok(u) => {
                            self.vaults.add(&u, Source::Flag);
                            u
                        }
                        Err(e) => {
                            self.popup = Some(Popup::Command {
                                input,
                                error: Some(e),
                            });
                            return Vec::new();
                        }
                    },
                };
                return self.open_vault(&url);
            }
            ("backup", path) if in_vault && !path.is_empty() => {
                if let Some(name) = self.selected_secret().map(|p| p.name.clone()) {
                    return self.backup_to(name, path.to_string());
                }
            }
            ("restore", path) if !path.is_empty() => return self.restore_from(path.to_string()),
            _ => {
                let why = if ["secrets", "deleted", "versions", "new", "backup"].contains(&cmd)
                    && !in_vault
                {
                    format!(":{cmd} needs an open vault")
                } else if ["vault", "backup", "restore"].contains(&cmd) {
                    format!(":{cmd} needs an argument (Tab completes)")
                } else {
                    format!("unknown command ':{cmd}' — :vaults :secrets :deleted :versions :vault NAME :backup FILE :restore FILE :new :q")
                };
                self.popup = Some(Popup::Command {
                    input,
                    error: Some(why),
                });
            }
        }
        Vec::new()
    }

    // ---- $EDITOR ------------------------------------------------------------------------------

    /// `E`: edit the latest value in $EDITOR (fetched first unless the panel has it).
    fn start_edit(&mut self) -> Vec<Effect> {
        if self.refuse_read_only("editing") {
            return Vec::new();
        }
        if let Some(panel) = &self.value {
            if let (Some(value), Some(props)) = (&panel.value, &panel.props) {
                return vec![Effect::Edit {
                    value: value.clone(),
                    base: props.clone(),
                }];
            }
        }
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        if p.managed {
            self.error("certificate-backed (managed) secrets are read-only");
            return Vec::new();
        }
        let id = self.id();
        self.pending_edit = Some((id, p.clone()));
        vec![Effect::Send(
            id,
            Request::GetSecret {
                vault: url,
                name: p.name,
                version: None,
            },
        )]
    }

    /// The event loop reports what the editor did.
    pub fn on_edited(&mut self, base: SecretProps, edited: crate::editor::Edited) -> Vec<Effect> {
        match edited {
            crate::editor::Edited::Unchanged => {
                self.info(format!("'{}' unchanged: no new version", base.name));
                Vec::new()
            }
            crate::editor::Edited::Failed(why) => {
                self.error(why);
                Vec::new()
            }
            crate::editor::Edited::Changed(value) => {
                let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
                    return Vec::new();
                };
                let id = self.id();
                self.edits.push((id, base.name.clone()));
                // A PUT inherits nothing: send content type, tags and enabled again.
                let secret = crate::vault::NewSecret {
                    value,
                    content_type: base.content_type.clone(),
                    tags: base.tags.clone(),
                    enabled: base.enabled,
                    not_before: None,
                    expires: None,
                };
                vec![Effect::Send(
                    id,
                    Request::SetSecret {
                        vault: url,
                        name: base.name,
                        secret,
                    },
                )]
            }
        }
    }

    // ---- clipboard ----------------------------------------------------------------------------

    /// The event loop reports a copy.
    pub fn on_copied(
        &mut self,
        label: String,
        backend: &'static str,
        deadline: Option<Instant>,
        hint: Option<String>,
    ) {
        self.status = None;
        self.clip = Some(ClipInfo {
            label,
            backend,
            deadline,
            hint,
        });
    }

    /// The event loop cleared (or, when something else had been copied since, left alone) the copy.
    pub fn on_clip_cleared(&mut self, cleared: bool) {
        let label = self.clip.take().map(|c| c.label).unwrap_or_default();
        self.info(if cleared {
            format!("Clipboard cleared ({label})")
        } else {
            format!("Clipboard left alone: something else was copied after {label}")
        });
    }

    pub fn copy_failed(&mut self, why: String) {
        self.error(format!("copy failed: {why}"));
    }

    fn copy_plain(&mut self, text: String, label: String) -> Vec<Effect> {
        vec![Effect::Copy {
            text: SecretValue::new(text),
            label,
            sensitive: false,
        }]
    }

    /// `c`, `y`, `Y` on a secret: its value (fetched if needed), its identifier, its name.
    fn copy_key(
        &mut self,
        c: char,
        props: Option<SecretProps>,
        loaded: Option<SecretValue>,
    ) -> Vec<Effect> {
        let Some(p) = props else { return Vec::new() };
        match c {
            'c' => match loaded {
                Some(value) => vec![Effect::Copy {
                    text: value,
                    label: format!("value of '{}'", p.name),
                    sensitive: true,
                }],
                None => {
                    let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
                        return Vec::new();
                    };
                    let id = self.id();
                    if let Some((old, _)) = self.pending_copy.replace((id, p.name.clone())) {
                        return vec![
                            Effect::Cancel(old),
                            Effect::Send(
                                id,
                                Request::GetSecret {
                                    vault: url,
                                    name: p.name,
                                    version: None,
                                },
                            ),
                        ];
                    }
                    vec![Effect::Send(
                        id,
                        Request::GetSecret {
                            vault: url,
                            name: p.name,
                            version: None,
                        },
                    )]
                }
            },
            'y' => self.copy_plain(p.id.clone(), format!("identifier of '{}'", p.name)),
            'Y' => self.copy_plain(p.name.clone(), format!("name '{}'", p.name)),
            _ => Vec::new(),
        }
    }

    // ---- actions ------------------------------------------------------------------------------

    /// Opens a vault by URL: loads its secrets and its deleted list.
    pub fn open_vault(&mut self, url: &str) -> Vec<Effect> {
        let mut effects = self.close_vault();
        let name = crate::vault::sources::vault_name(url);
        let read_only = self.read_only
            || self
                .vaults
                .entries
                .iter()
                .any(|e| e.url.eq_ignore_ascii_case(url) && e.read_only);
        let list = self.id();
        let deleted = self.id();
        self.vault = Some(OpenVault {
            url: url.to_string(),
            name,
            secrets_loading: Some(list),
            deleted_loading: Some(deleted),
            read_only,
            ..OpenVault::default()
        });
        self.screen = Screen::Vault;
        self.tab = Tab::Secrets;
        self.secrets_cursor = Cursor::default();
        self.deleted_cursor = Cursor::default();
        self.filter_input.clear();
        self.filter_editing = false;
        self.status = None;
        self.invalidate();
        effects.push(Effect::Send(
            list,
            Request::ListSecrets {
                vault: url.to_string(),
            },
        ));
        effects.push(Effect::Send(
            deleted,
            Request::ListDeleted {
                vault: url.to_string(),
            },
        ));
        effects.push(Effect::RecordRecent(url.to_string()));
        effects
    }

    fn close_vault(&mut self) -> Vec<Effect> {
        let mut effects = self.close_value();
        if let Some(v) = self.vault.take() {
            effects.extend(v.secrets_loading.map(Effect::Cancel));
            effects.extend(v.deleted_loading.map(Effect::Cancel));
        }
        effects
    }

    fn close_value(&mut self) -> Vec<Effect> {
        // Dropping the panel drops (and zeroizes) the value.
        match self.value.take() {
            Some(ValuePanel {
                request: Some(id), ..
            }) => vec![Effect::Cancel(id)],
            _ => Vec::new(),
        }
    }

    fn refresh(&mut self) -> Vec<Effect> {
        match (self.screen, self.vault.as_ref().map(|v| v.url.clone())) {
            (Screen::Vault, Some(url)) => {
                let list = self.id();
                let deleted = self.id();
                if let Some(v) = self.vault.as_mut() {
                    v.secrets.clear();
                    v.deleted.clear();
                    v.secrets_loading = Some(list);
                    v.deleted_loading = Some(deleted);
                }
                self.invalidate();
                vec![
                    Effect::Send(list, Request::ListSecrets { vault: url.clone() }),
                    Effect::Send(deleted, Request::ListDeleted { vault: url }),
                ]
            }
            _ => self.discover(),
        }
    }

    pub fn discover(&mut self) -> Vec<Effect> {
        let id = self.id();
        self.discovering = Some(id);
        vec![Effect::Send(id, Request::Discover)]
    }

    fn open_value(&mut self) -> Vec<Effect> {
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        let id = self.id();
        self.value = Some(ValuePanel {
            name: p.name.clone(),
            props: Some(p.clone()),
            value: None,
            revealed: false,
            scroll: 0,
            request: Some(id),
            error: None,
        });
        vec![Effect::Send(
            id,
            Request::GetSecret {
                vault: url,
                name: p.name,
                version: None,
            },
        )]
    }

    fn refuse_read_only(&mut self, what: &str) -> bool {
        if self.vault.as_ref().is_some_and(|v| v.read_only) {
            self.error(format!("read-only: {what} is not allowed (started with --read-only or read_only in the config)"));
            true
        } else {
            false
        }
    }

    fn start_op(&mut self, kind: OpKind, name: String) -> Vec<Effect> {
        let Some(url) = self.vault.as_ref().map(|v| v.url.clone()) else {
            return Vec::new();
        };
        let id = self.id();
        let request = match kind {
            OpKind::Delete => Request::Delete {
                vault: url,
                name: name.clone(),
            },
            OpKind::Recover => Request::Recover {
                vault: url,
                name: name.clone(),
            },
            OpKind::Purge => Request::Purge {
                vault: url,
                name: name.clone(),
            },
            OpKind::Create => {
                let Some(secret) = self
                    .form
                    .as_ref()
                    .and_then(|f| f.new_secret(self.now, self.local_offset))
                else {
                    return Vec::new();
                };
                Request::SetSecretWhenFree {
                    vault: url,
                    name: name.clone(),
                    secret,
                }
            }
        };
        self.ops.push(Operation {
            id,
            kind,
            name,
            started: self.instant,
            progress: None,
        });
        vec![Effect::Send(id, request)]
    }

    /// Handles a terminal event.
    pub fn on_event(&mut self, event: &Event) -> Vec<Effect> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.on_key(*k),
            Event::Paste(text) => {
                self.on_paste(text);
                Vec::new()
            }
            Event::Resize(w, h) => {
                self.size = (*w, *h);
                Vec::new()
            }
            Event::Mouse(m) => self.on_mouse(*m),
            _ => Vec::new(),
        }
    }

    /// Click selects a row or a tab, the wheel scrolls. Rows start below the title, tabs and header.
    fn on_mouse(&mut self, m: crossterm::event::MouseEvent) -> Vec<Effect> {
        use crossterm::event::{MouseButton, MouseEventKind};
        if self.popup.is_some() || self.form.is_some() {
            return Vec::new();
        }
        let wheel = match m.kind {
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::Down(MouseButton::Left) => 0,
            _ => return Vec::new(),
        };
        if let Some(panel) = self.value.as_mut() {
            panel.scroll = (panel.scroll as i32 + wheel).max(0) as u16;
            return Vec::new();
        }
        if let Some(view) = self.versions.as_mut() {
            let len = view.items.len();
            if wheel != 0 {
                view.cursor.step(wheel as isize, len);
            } else if m.row >= 4 {
                let h = list_height(self.size).saturating_sub(1).max(1);
                let offset = view.cursor.selected.saturating_sub(h - 1);
                let i = offset + (m.row - 4) as usize;
                if i < len {
                    view.cursor.selected = i;
                }
            }
            return Vec::new();
        }
        if wheel != 0 {
            let len = self.rows.len();
            self.cursor().step(wheel as isize, len);
            return Vec::new();
        }
        if m.row == 1 && self.screen == Screen::Vault {
            let secrets_width = self
                .vault
                .as_ref()
                .map(|v| format!(" Secrets ({})", v.secrets.len()).chars().count())
                .unwrap_or(0) as u16;
            let tab = if m.column < secrets_width {
                Tab::Secrets
            } else if m.column >= secrets_width + 3 {
                Tab::Deleted
            } else {
                self.tab
            };
            if tab != self.tab {
                self.tab = tab;
                self.invalidate();
            }
        } else if m.row >= 3 {
            let offset = self.current_cursor().offset;
            let i = offset + (m.row - 3) as usize;
            if i < self.rows.len() {
                self.cursor().selected = i;
            }
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        let line: String = text.lines().next().unwrap_or_default().to_string();
        if self.popup.is_none() {
            if let Some(f) = self.form.as_mut() {
                let field = f.focused();
                // Multi-line values (a PEM) keep their line breaks; other fields take the first line.
                let pasted = if field.multiline() {
                    text.replace("\r\n", "\n").replace('\r', "\n")
                } else {
                    line
                };
                if let Some(t) = f.text_mut(field) {
                    t.push_str(&pasted);
                }
                return;
            }
        }
        if let Some(text) = self.popup.as_mut().and_then(Popup::text_mut) {
            text.push_str(line.trim());
            return;
        }
        if self.filter_editing {
            self.filter_input.push_str(&line);
            self.invalidate();
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return self.close_vault();
        }
        if self.popup.is_some() {
            return self.on_popup_key(k);
        }
        if self.form.is_some() {
            return self.on_form_key(k);
        }
        if self.filter_editing {
            match k.code {
                KeyCode::Esc => {
                    self.filter_editing = false;
                    self.filter_input.clear();
                }
                KeyCode::Enter | KeyCode::Down | KeyCode::Up => {
                    self.filter_editing = false;
                    if k.code != KeyCode::Enter {
                        return self.on_key(k);
                    }
                }
                KeyCode::Backspace => {
                    self.filter_input.pop();
                }
                KeyCode::Char(c) => self.filter_input.push(c),
                _ => return Vec::new(),
            }
            *self.cursor() = Cursor::default();
            self.invalidate();
            return Vec::new();
        }
        // A user binding stands for the action's default key. A character already carries its
        // case, and terminals differ in whether they also report SHIFT: match without it.
        let lookup = match k.code {
            KeyCode::Char(_) => KeyEvent::new(k.code, k.modifiers - KeyModifiers::SHIFT),
            _ => KeyEvent::new(k.code, k.modifiers),
        };
        let k = self.keymap.get(&lookup).copied().unwrap_or(k);
        if self.value.is_some() {
            return self.on_value_key(k);
        }
        if self.versions.is_some() {
            return self.on_versions_key(k);
        }
        let len = self.rows.len();
        let page = list_height(self.size).max(1) as isize;
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => self.cursor().step(-1, len),
            KeyCode::Down | KeyCode::Char('j') => self.cursor().step(1, len),
            KeyCode::PageUp => self.cursor().step(-page, len),
            KeyCode::PageDown => self.cursor().step(page, len),
            KeyCode::Home | KeyCode::Char('g') => self.cursor().selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.cursor().selected = len.saturating_sub(1),
            KeyCode::Char('/') => {
                // A new filter, as in k9s; Esc clears, Enter keeps.
                self.filter_editing = true;
                self.filter_input.clear();
                self.invalidate();
            }
            KeyCode::Char(':') => {
                self.popup = Some(Popup::Command {
                    input: String::new(),
                    error: None,
                })
            }
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            KeyCode::Char('R') => return self.refresh(),
            KeyCode::Char('q') => {
                if self.ops.is_empty() {
                    self.quit = true;
                    return self.close_vault();
                }
                self.popup = Some(Popup::ConfirmQuit);
            }
            KeyCode::Esc => {
                if !self.filter_input.is_empty() {
                    self.filter_input.clear();
                    self.invalidate();
                } else if self.status.as_ref().is_some_and(|s| s.error) {
                    self.status = None;
                } else if self.screen == Screen::Vault {
                    let effects = self.close_vault();
                    self.screen = Screen::Vaults;
                    self.invalidate();
                    return effects;
                }
            }
            _ => return self.on_screen_key(k),
        }
        Vec::new()
    }

    fn on_screen_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        match (self.screen, self.tab, k.code) {
            (Screen::Vaults, _, KeyCode::Enter) => {
                let url = self
                    .rows
                    .get(self.vault_cursor.selected)
                    .and_then(|r| self.vaults.entries.get(r.index))
                    .map(|e| e.url.clone());
                match url {
                    Some(u) => return self.open_vault(&u),
                    None => self.info("no vault here yet: press o to open one by URL"),
                }
            }
            (Screen::Vaults, _, KeyCode::Char('o')) => {
                self.popup = Some(Popup::OpenVault {
                    input: String::new(),
                    error: None,
                })
            }
            (Screen::Vault, _, KeyCode::Tab | KeyCode::BackTab) => {
                self.tab = if self.tab == Tab::Secrets {
                    Tab::Deleted
                } else {
                    Tab::Secrets
                };
                self.invalidate();
            }
            (Screen::Vault, _, KeyCode::Char('s')) => {
                self.sort = match self.sort {
                    SortKey::Name => SortKey::Updated,
                    SortKey::Updated => SortKey::Expires,
                    SortKey::Expires => SortKey::Name,
                };
                self.invalidate();
                self.info(format!("sorted by {}", self.sort.label()));
            }
            (Screen::Vault, Tab::Secrets, KeyCode::Enter) => return self.open_value(),
            (Screen::Vault, _, KeyCode::Char('n')) => self.open_form('n'),
            (Screen::Vault, Tab::Secrets, KeyCode::Char(c @ ('u' | 'e'))) => self.open_form(c),
            (Screen::Vault, Tab::Secrets, KeyCode::Char('x')) => return self.toggle_enabled(),
            (Screen::Vault, Tab::Secrets, KeyCode::Char('v')) => return self.open_versions(),
            (Screen::Vault, Tab::Secrets, KeyCode::Char('E')) => return self.start_edit(),
            (Screen::Vault, Tab::Secrets, KeyCode::Char('b')) => {
                if let Some(p) = self.selected_secret() {
                    let name = p.name.clone();
                    self.popup = Some(Popup::Backup {
                        path: format!("./{name}.kvbackup"),
                        name,
                        error: None,
                    });
                }
            }
            (Screen::Vault, Tab::Secrets, KeyCode::Char(c @ ('c' | 'y' | 'Y'))) => {
                let p = self.selected_secret().cloned();
                return self.copy_key(c, p, None);
            }
            (Screen::Vault, Tab::Secrets, KeyCode::Char('d')) => {
                if self.refuse_read_only("delete") {
                    return Vec::new();
                }
                if let Some(p) = self.selected_secret() {
                    if p.managed {
                        let name = p.name.clone();
                        self.error(format!("'{name}' is certificate-backed (managed): delete the certificate instead"));
                    } else {
                        self.popup = Some(Popup::ConfirmDelete {
                            name: p.name.clone(),
                        });
                    }
                }
            }
            (Screen::Vault, Tab::Deleted, KeyCode::Char('r')) => {
                if self.refuse_read_only("recover") {
                    return Vec::new();
                }
                if let Some(name) = self.selected_deleted().map(|d| d.props.name.clone()) {
                    return self.start_op(OpKind::Recover, name);
                }
            }
            (Screen::Vault, Tab::Deleted, KeyCode::Char('P')) => {
                if self.refuse_read_only("purge") {
                    return Vec::new();
                }
                if let Some(d) = self.selected_deleted() {
                    let name = d.props.name.clone();
                    if Self::purge_protected(d.props.recovery_level.as_deref()) {
                        self.error(format!(
                            "purge refused: '{name}' is in a vault with purge protection ({}); it will be purged automatically when its retention ends",
                            d.props.recovery_level.clone().unwrap_or_default()
                        ));
                    } else {
                        self.popup = Some(Popup::ConfirmPurge {
                            name,
                            typed: String::new(),
                        });
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_value_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(panel) = self.value.as_mut() else {
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return self.close_value(),
            KeyCode::Char(' ') => panel.revealed = !panel.revealed,
            KeyCode::Down | KeyCode::Char('j') => panel.scroll = panel.scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => panel.scroll = panel.scroll.saturating_sub(1),
            KeyCode::PageDown => panel.scroll = panel.scroll.saturating_add(10),
            KeyCode::PageUp => panel.scroll = panel.scroll.saturating_sub(10),
            KeyCode::Char('g') | KeyCode::Home => panel.scroll = 0,
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            KeyCode::Char('E') => return self.start_edit(),
            KeyCode::Char(c @ ('c' | 'y' | 'Y')) => {
                if c == 'c' && panel.value.is_none() {
                    self.info("the value is still being fetched");
                    return Vec::new();
                }
                let props = panel.props.clone();
                let value = panel.value.clone();
                return self.copy_key(c, props, value);
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_popup_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        // Typing and Backspace in a dialog that takes text.
        if let (KeyCode::Char(_) | KeyCode::Backspace, Some(text)) =
            (k.code, self.popup.as_mut().and_then(Popup::text_mut))
        {
            match k.code {
                KeyCode::Char(c) => text.push(c),
                _ => {
                    text.pop();
                }
            }
            return Vec::new();
        }
        let Some(popup) = self.popup.take() else {
            return Vec::new();
        };
        match popup {
            Popup::Help => {}
            Popup::ConfirmQuit => {
                if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                    self.quit = true;
                    return self.close_vault();
                }
            }
            Popup::ConfirmDelete { name } => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    return self.start_op(OpKind::Delete, name)
                }
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => {}
                _ => self.popup = Some(Popup::ConfirmDelete { name }),
            },
            Popup::ConfirmPurge { name, typed } => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter if typed == name => return self.start_op(OpKind::Purge, name),
                _ => self.popup = Some(Popup::ConfirmPurge { name, typed }),
            },
            Popup::Conflict { name } => return self.on_conflict_key(name, k),
            Popup::Backup { name, path, .. } => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter if path.trim().is_empty() => {
                    self.popup = Some(Popup::Backup {
                        name,
                        path,
                        error: Some("a file name is needed".into()),
                    })
                }
                KeyCode::Enter => return self.backup_to(name, path),
                _ => {
                    self.popup = Some(Popup::Backup {
                        name,
                        path,
                        error: None,
                    })
                }
            },
            Popup::Command { input, .. } => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter => return self.run_command(input),
                KeyCode::Tab => {
                    let names: Vec<String> =
                        self.vaults.entries.iter().map(|e| e.name.clone()).collect();
                    match complete(&input, &names) {
                        Ok(c) => {
                            self.popup = Some(Popup::Command {
                                input: c,
                                error: None,
                            })
                        }
                        Err(c) if c.is_empty() => {
                            self.popup = Some(Popup::Command {
                                error: Some(format!("no command starts with '{input}'")),
                                input,
                            })
                        }
                        Err(c) => {
                            self.popup = Some(Popup::Command {
                                input,
                                error: Some(c.join("  ")),
                            })
                        }
                    }
                }
                _ => self.popup = Some(Popup::Command { input, error: None }),
            },
            Popup::OpenVault { input, .. } => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match crate::vault::sources::vault_url(
                    &input,
                    crate::vault::credential::Cloud::Public,
                ) {
                    Ok(url) => {
                        self.vaults.add(&url, Source::Flag);
                        self.invalidate();
                        return self.open_vault(&url);
                    }
                    Err(e) => {
                        self.popup = Some(Popup::OpenVault {
                            input,
                            error: Some(e),
                        })
                    }
                },
                _ => self.popup = Some(Popup::OpenVault { input, error: None }),
            },
        }
        Vec::new()
    }

    // ---- worker responses ---------------------------------------------------------------------

    pub fn on_response(&mut self, env: Envelope) -> Vec<Effect> {
        let Envelope { id, response } = env;
        if self.discovering == Some(id) {
            match response {
                Response::VaultFound(v) => {
                    self.vaults.add_discovered(&v);
                    if self.screen == Screen::Vaults {
                        self.invalidate();
                    }
                }
                Response::DiscoveryWarning(w) => self.error(w),
                Response::DiscoveryDone => self.discovering = None,
                Response::Failed(e) => {
                    self.discovering = None;
                    self.error(format!("discovery: {}", e.summary()));
                }
                _ => {}
            }
            return Vec::new();
        }
        if let Some(i) = self.ops.iter().position(|o| o.id == id) {
            return self.on_op_response(i, response);
        }
        if self.pending_edit.as_ref().map(|(pid, _)| *pid) == Some(id) {
            let Some((_, base)) = self.pending_edit.take() else {
                return Vec::new();
            };
            return match response {
                Response::Value { value, props } => vec![Effect::Edit {
                    value,
                    base: SecretProps {
                        name: base.name,
                        ..props
                    },
                }],
                Response::Failed(e) => {
                    self.error(format!("edit '{}': {}", base.name, e.summary()));
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if let Some(i) = self.files.iter().position(|(fid, _)| *fid == id) {
            let (_, path) = self.files.remove(i);
            match response {
                Response::BackedUp { bytes, .. } => self.info(format!(
                    "Backed up to {path} ({bytes} bytes, readable by you only)"
                )),
                Response::Saved(p) => {
                    self.info(format!("Restored '{}' from {path}", p.name));
                    self.upsert(p);
                }
                Response::Failed(e) => self.error(format!("{path}: {}", e.summary())),
                _ => {}
            }
            return Vec::new();
        }
        if let Some(i) = self.edits.iter().position(|(eid, _)| *eid == id) {
            let (_, name) = self.edits.remove(i);
            match response {
                Response::Saved(p) => {
                    self.info(format!(
                        "Saved a new version of '{name}' (edited in $EDITOR)"
                    ));
                    if self
                        .value
                        .as_ref()
                        .is_some_and(|v| v.name.eq_ignore_ascii_case(&name))
                    {
                        // The open panel showed the old value: drop it.
                        self.value = None;
                    }
                    self.upsert(p);
                }
                Response::Failed(e) => self.error(format!("saving '{name}': {}", e.summary())),
                _ => {}
            }
            return Vec::new();
        }
        if self.form.as_ref().and_then(|f| f.submitting) == Some(id) {
            return self.on_form_response(response);
        }
        if let Some(i) = self.saves.iter().position(|(sid, _, _)| *sid == id) {
            let (_, name, latest) = self.saves.remove(i);
            match response {
                Response::Saved(p) => {
                    let state = if p.enabled { "Enabled" } else { "Disabled" };
                    self.info(format!("{state} '{name}'"));
                    self.versions_saved(&p);
                    if latest {
                        self.upsert(p);
                    }
                }
                Response::Failed(e) => self.error(format!("'{name}': {}", e.summary())),
                _ => {}
            }
            return Vec::new();
        }
        let response = match self.on_versions_response(id, response) {
            Ok(effects) => return effects,
            Err(r) => *r,
        };
        if self.pending_copy.as_ref().map(|(pid, _)| *pid) == Some(id) {
            let Some((_, name)) = self.pending_copy.take() else {
                return Vec::new();
            };
            return match response {
                // The value goes straight to the clipboard and is dropped.
                Response::Value { value, .. } => vec![Effect::Copy {
                    text: value,
                    label: format!("value of '{name}'"),
                    sensitive: true,
                }],
                Response::Failed(e) => {
                    self.error(format!("copy '{name}': {}", e.summary()));
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if self.value.as_ref().and_then(|v| v.request) == Some(id) {
            if let Some(panel) = self.value.as_mut() {
                panel.request = None;
                match response {
                    Response::Value { props, value } => {
                        panel.props = Some(props);
                        panel.value = Some(value);
                    }
                    Response::Failed(e) => panel.error = Some(e),
                    _ => {}
                }
            }
            return Vec::new();
        }
        let Some(vault) = self.vault.as_mut() else {
            return Vec::new();
        };
        if vault.secrets_loading == Some(id) {
            match response {
                Response::SecretsPage { items, done } => {
                    vault.secrets.extend(items);
                    if done {
                        vault.secrets_loading = None;
                    }
                }
                Response::Failed(e) => {
                    vault.secrets_loading = None;
                    self.error(format!(
                        "listing secrets: {} — press R to retry",
                        e.summary()
                    ));
                }
                _ => {}
            }
            if self.tab == Tab::Secrets {
                self.invalidate();
            }
        } else if vault.deleted_loading == Some(id) {
            match response {
                Response::DeletedPage { items, done } => {
                    vault.deleted.extend(items);
                    if done {
                        vault.deleted_loading = None;
                    }
                }
                Response::Failed(e) => {
                    vault.deleted_loading = None;
                    // Vaults without soft delete, or without list permission on deleted secrets.
                    self.error(format!("listing deleted secrets: {}", e.summary()));
                }
                _ => {}
            }
            if self.tab == Tab::Deleted {
                self.invalidate();
            }
        }
        Vec::new()
    }

    fn on_form_response(&mut self, response: Response) -> Vec<Effect> {
        let Some(f) = self.form.as_mut() else {
            return Vec::new();
        };
        f.submitting = None;
        match response {
            Response::Saved(p) => {
                let verb = match f.kind {
                    form::FormKind::Create => "Created",
                    form::FormKind::NewVersion { .. } => "Saved a new version of",
                    form::FormKind::Properties { .. } => "Updated",
                };
                let kind = f.kind.clone();
                self.form = None;
                self.info(format!("{verb} '{}'", p.name));
                self.versions_saved(&p);
                if !matches!(
                    kind,
                    form::FormKind::Properties {
                        version: Some(_),
                        ..
                    }
                ) {
                    self.upsert(p);
                }
            }
            Response::Failed(e) if e.kind == crate::vault::ErrorKind::DeletedButRecoverable => {
                let name = f.name.clone();
                f.service_error = Some(e.summary());
                self.popup = Some(Popup::Conflict { name });
            }
            Response::Failed(e) => f.service_error = Some(e.summary()),
            _ => {}
        }
        Vec::new()
    }

    fn on_op_response(&mut self, i: usize, response: Response) -> Vec<Effect> {
        if let Response::Progress(p) = response {
            self.ops[i].progress = Some(p);
            return Vec::new();
        }
        let op = self.ops.remove(i);
        let secs = self.instant.saturating_duration_since(op.started).as_secs();
        let followup = self
            .followup
            .filter(|(fid, _)| *fid == op.id)
            .map(|(_, f)| f);
        if followup.is_some() {
            self.followup = None;
        }
        if op.kind == OpKind::Create {
            return self.on_form_response(response);
        }
        let ok = !matches!(response, Response::Failed(_));
        let mut effects = self.finish_op(op.clone(), secs, response);
        match (followup, ok) {
            (Some(Followup::Open), true) => effects.extend(self.open_named(&op.name)),
            (Some(Followup::Create), true) => {
                let created = self.start_op(OpKind::Create, op.name.clone());
                if let Some(Effect::Send(id, _)) = created.first() {
                    if let Some(f) = self.form.as_mut() {
                        f.submitting = Some(*id);
                    }
                }
                effects.extend(created);
            }
            _ => {}
        }
        effects
    }

    fn finish_op(&mut self, op: Operation, secs: u64, response: Response) -> Vec<Effect> {
        match response {
            Response::Deleted(d) => {
                if let Some(v) = self.vault.as_mut() {
                    v.secrets.retain(|s| !s.name.eq_ignore_ascii_case(&op.name));
                    if d.recovery_id.is_some() {
                        v.deleted
                            .retain(|x| !x.props.name.eq_ignore_ascii_case(&op.name));
                        v.deleted.push(d);
                        v.deleted.sort_by_key(|x| x.props.name.to_lowercase());
                    }
                }
                self.info(format!(
                    "Deleted '{}' ({secs} s); it is in the Deleted tab until purged",
                    op.name
                ));
            }
            Response::Saved(p) => {
                if let Some(v) = self.vault.as_mut() {
                    let restored = v
                        .deleted
                        .iter()
                        .find(|x| x.props.name.eq_ignore_ascii_case(&op.name))
                        .map(|x| x.props.clone());
                    v.deleted
                        .retain(|x| !x.props.name.eq_ignore_ascii_case(&op.name));
                    v.secrets.retain(|s| !s.name.eq_ignore_ascii_case(&op.name));
                    let mut item = restored.unwrap_or(p);
                    item.id = item
                        .id
                        .rsplit_once('/')
                        .map(|(base, _)| base.to_string())
                        .unwrap_or(item.id);
                    v.secrets.push(item);
                    v.secrets.sort_by_key(|x| x.name.to_lowercase());
                }
                self.info(format!("Recovered '{}' ({secs} s)", op.name));
            }
            Response::Purged { name } => {
                if let Some(v) = self.vault.as_mut() {
                    v.deleted
                        .retain(|x| !x.props.name.eq_ignore_ascii_case(&name));
                }
                self.info(format!("Purged '{name}' for good"));
            }
            Response::Failed(e) => {
                let verb = match op.kind {
                    OpKind::Delete => "delete",
                    OpKind::Recover => "recover",
                    OpKind::Purge => "purge",
                    OpKind::Create => "create",
                };
                self.error(format!("{verb} '{}': {}", op.name, e.summary()));
            }
            _ => {}
        }
        self.invalidate();
        Vec::new()
    }
}

/// "3d ago", "in 12d", for dates relative to now.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let d = t - now;
    let secs = d.whole_seconds();
    if secs.abs() < 2 {
        return "now".into();
    }
    let (n, unit) = match secs.unsigned_abs() {
        s if s < 60 => (s, "s"),
        s if s < 3600 => (s / 60, "m"),
        s if s < 86_400 => (s / 3600, "h"),
        s if s < 86_400 * 365 => (s / 86_400, "d"),
        s => (s / (86_400 * 365), "y"),
    };
    if secs < 0 {
        format!("{n}{unit} ago")
    } else {
        format!("in {n}{unit}")
    }
}

/// Urgency of an expiry date: expired, within 30 days, or fine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Expired,
    Soon,
    Fine,
}

pub fn expiry(exp: Option<OffsetDateTime>, now: OffsetDateTime) -> Option<Expiry> {
    let e = exp?;
    Some(if e <= now {
        Expiry::Expired
    } else if e - now < time::Duration::days(30) {
        Expiry::Soon
    } else {
        Expiry::Fine
    })
}

/// How long ago a monotonic instant was, in whole seconds.
pub fn since(start: Instant, now: Instant) -> Duration {
    now.saturating_duration_since(start)
}

#[cfg(test)]
mod tests;
