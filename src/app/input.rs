//! Input routing: a key is resolved by the keymap in the current context and handed to
//! `App::update`; in the contexts that take text, unbound keys edit the field. Paste inserts at the
//! cursor. The mouse hits what the last frame drew, as the view reported it.

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::form::Field;
use super::text::{edit_of, Edit};
use super::{App, Context, Effect, Popup, Screen, Tab};

/// Where the last frame drew what the mouse can hit. The view fills it in as it draws.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hits {
    pub tabs: Vec<(Rect, Tab)>,
    /// The rows of the list on screen, and the index of the first.
    pub rows: Option<(Rect, usize)>,
}

impl App {
    /// The keymap context of what has the focus.
    pub fn context(&self) -> Context {
        if let Some(p) = &self.popup {
            return match p {
                Popup::Help { .. } => Context::Help,
                Popup::ConfirmDelete { .. }
                | Popup::ConfirmQuit
                | Popup::ConfirmOverwrite { .. } => Context::Confirm,
                Popup::ConfirmPurge { .. }
                | Popup::ConfirmBatch {
                    kind: super::OpKind::Purge,
                    ..
                } => Context::Purge,
                Popup::ConfirmBatch { .. } => Context::Confirm,
                Popup::Conflict { .. } => Context::Conflict,
                Popup::OpenVault { .. } | Popup::Backup { .. } | Popup::ConfirmExportEnv { .. } => {
                    Context::Prompt
                }
                Popup::Command { .. } => Context::Command,
                Popup::Error { .. } => Context::ErrorPanel,
                Popup::Messages { .. } => Context::Messages,
                Popup::Across { .. } => Context::Across,
                Popup::VaultDiff { .. } => Context::VaultDiff,
            };
        }
        if self.form.is_some() {
            return Context::Form;
        }
        if self.filter_editing {
            return Context::Filter;
        }
        if self.value.is_some() {
            return Context::Value;
        }
        if let Some(v) = &self.versions {
            return if v.compare.is_some() {
                Context::Compare
            } else {
                Context::Versions
            };
        }
        match (self.screen, self.tab) {
            (Screen::Vaults, _) => Context::Vaults,
            (Screen::Vault, Tab::Secrets) => Context::Secrets,
            (Screen::Vault, Tab::Deleted) => Context::Deleted,
        }
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

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let ctx = self.context();
        // In value and tags, ↑/↓ move between lines first; at the edges they move between fields.
        if ctx == Context::Form {
            if let Some(e @ (Edit::Up | Edit::Down)) = edit_of(k) {
                if self.form_edit(e) {
                    return Vec::new();
                }
            }
        }
        if let Some(action) = self.keymap.resolve(ctx, k) {
            return self.update(action);
        }
        match ctx {
            // Any other key closes the help, as it says.
            Context::Help => self.popup = None,
            // "any key stays".
            Context::Confirm if self.popup == Some(Popup::ConfirmQuit) => self.popup = None,
            _ if ctx.takes_text() => {
                if let Some(e) = edit_of(k) {
                    self.edit(ctx, e);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// An editing key in a context that takes text.
    pub(super) fn edit(&mut self, ctx: Context, e: Edit) {
        match ctx {
            Context::Form => {
                self.form_edit(e);
            }
            Context::Filter => {
                if self.filter.apply(e) {
                    *self.cursor() = Default::default();
                    self.refilter();
                }
            }
            _ => {
                if let Some(field) = self.popup.as_mut().and_then(Popup::text_mut) {
                    field.apply(e);
                }
            }
        }
    }

    /// Applies an edit to the focused field of the form; Space toggles "enabled".
    fn form_edit(&mut self, e: Edit) -> bool {
        let Some(f) = self.form.as_mut() else {
            return false;
        };
        let field = f.focused();
        if field == Field::Enabled {
            if e == Edit::Insert(' ') {
                f.enabled = !f.enabled;
            }
            return false;
        }
        f.apply(field, e)
    }

    fn on_paste(&mut self, text: &str) {
        if self.popup.is_none() {
            if let Some(f) = self.form.as_mut() {
                let field = f.focused();
                f.paste(field, text);
                return;
            }
        }
        let line = text.lines().next().unwrap_or_default();
        if let Some(field) = self.popup.as_mut().and_then(Popup::text_mut) {
            field.insert_str(line.trim());
            return;
        }
        if self.filter_editing {
            self.filter.insert_str(line);
            *self.cursor() = Default::default();
            self.refilter();
        }
    }

    /// Click selects a row or a tab, the wheel scrolls.
    fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if self.popup.is_some() || self.form.is_some() {
            return Vec::new();
        }
        let wheel = match m.kind {
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::Down(MouseButton::Left) => 0,
            _ => return Vec::new(),
        };
        let at = Position::new(m.column, m.row);
        if let Some(panel) = self.value.as_mut() {
            panel.scroll = (panel.scroll as i32 + wheel).max(0) as u16;
            return Vec::new();
        }
        if let Some(c) = self.versions.as_mut().and_then(|v| v.compare.as_mut()) {
            c.scroll = (c.scroll as i32 + wheel).max(0) as u16;
            return Vec::new();
        }
        let clicked_row = self
            .hits
            .rows
            .filter(|(r, _)| r.contains(at))
            .map(|(r, first)| first + (m.row - r.y) as usize);
        if let Some(view) = self.versions.as_mut() {
            let len = view.items.len();
            if wheel != 0 {
                view.cursor.step(wheel as isize, len);
            } else if let Some(i) = clicked_row.filter(|i| *i < len) {
                view.cursor.selected = i;
            }
            return Vec::new();
        }
        if wheel != 0 {
            self.step(wheel as isize);
            return Vec::new();
        }
        if let Some(tab) = self
            .hits
            .tabs
            .iter()
            .find(|(r, _)| r.contains(at))
            .map(|(_, t)| *t)
        {
            if tab != self.tab {
                self.tab = tab;
                self.reorder();
            }
        } else if let Some(i) = clicked_row.filter(|i| *i < self.rows.len()) {
            self.cursor().selected = i;
        }
        Vec::new()
    }
}
