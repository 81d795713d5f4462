//! Every error and notice of the session, with its time: the status bar shows the latest, the
//! message log (`:messages`) all of them, and `!` explains the last error in a panel of its own.

use time::OffsetDateTime;

use super::explain::{explain, Context as ExplainCtx, Explanation};
use super::{App, Effect, Popup, StatusMessage};
use crate::vault::VaultError;

/// One line of the message log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub at: OffsetDateTime,
    pub text: String,
    pub error: bool,
    /// The error behind it, for the explanation.
    pub cause: Option<VaultError>,
}

/// At most this many lines are kept.
const LOG_LINES: usize = 500;

impl App {
    fn log(&mut self, text: &str, error: bool, cause: Option<VaultError>) {
        if self.messages.len() >= LOG_LINES {
            self.messages.remove(0);
        }
        self.messages.push(LogEntry {
            at: self.now,
            text: text.to_string(),
            error,
            cause,
        });
    }

    pub(super) fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.log(&text, true, None);
        self.status = Some(StatusMessage { text, error: true });
    }

    /// An error for the log only (the status bar shows a summary elsewhere).
    pub(super) fn log_error(&mut self, text: &str) {
        self.log(text, true, None);
    }

    /// A notice for the log only.
    pub(super) fn log_info(&mut self, text: &str) {
        self.log(text, false, None);
    }

    pub(super) fn info(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.log(&text, false, None);
        // The status bar still points at an error nobody has looked at (`unseen_error`).
        self.status = Some(StatusMessage { text, error: false });
    }

    /// A warning from the event loop (the editor keeps history): logged and shown.
    pub fn warn(&mut self, text: &str) -> Vec<Effect> {
        self.error(text.to_string());
        Vec::new()
    }

    /// A request failed where its view shows the error (the value panel, the form): logged and kept
    /// for `!`, the status bar left alone.
    pub(super) fn record(&mut self, what: &str, e: VaultError) {
        let text = format!("{what}: {}", e.summary());
        self.log(&text, true, Some(e.clone()));
        self.last_error = Some(e);
    }

    /// A request failed: the status bar says so in one line and points at the explanation.
    pub(super) fn fail(&mut self, what: &str, e: VaultError) {
        let key = self
            .keymap
            .key_for(self.context(), super::Action::LastError);
        let hint = key.map(|k| format!(" — {k} explains")).unwrap_or_default();
        let text = format!("{what}: {}{hint}", e.summary());
        self.log(&text, true, Some(e.clone()));
        self.last_error = Some(e);
        self.unseen_error = true;
        self.status = Some(StatusMessage { text, error: true });
    }

    /// The explanation of an error, with what kvtui knows of the vault and the caller.
    pub fn explain(&self, e: &VaultError) -> Explanation {
        let entry = self.vault.as_ref().and_then(|v| {
            self.vaults
                .entries
                .iter()
                .find(|e| e.url.eq_ignore_ascii_case(&v.url))
        });
        explain(
            e,
            &ExplainCtx {
                vault: self.vault.as_ref().map(|v| v.name.as_str()),
                scope: entry.and_then(|e| e.resource_id.as_deref()),
                identity: self.identity.as_ref(),
                local_ca: self.local_ca.as_deref(),
            },
        )
    }

    /// `!`: the last error, explained.
    pub(super) fn show_last_error(&mut self) {
        match self.last_error.clone() {
            Some(e) => {
                self.unseen_error = false;
                self.popup = Some(Popup::Error {
                    explanation: Box::new(self.explain(&e)),
                    scroll: 0,
                });
            }
            None => self.info("no error so far this session"),
        }
    }

    /// `:messages`.
    pub(super) fn show_messages(&mut self) {
        self.popup = Some(Popup::Messages {
            cursor: self.messages.len().saturating_sub(1),
        });
    }

    /// Actions in the message log.
    pub(super) fn on_messages_action(&mut self, a: super::Action, cursor: usize) -> Vec<Effect> {
        use super::Action;
        let last = self.messages.len().saturating_sub(1);
        let keep = |app: &mut App, cursor: usize| app.popup = Some(Popup::Messages { cursor });
        match a {
            Action::Up => keep(self, cursor.saturating_sub(1)),
            Action::Down => keep(self, (cursor + 1).min(last)),
            Action::PageUp => keep(self, cursor.saturating_sub(10)),
            Action::PageDown => keep(self, (cursor + 10).min(last)),
            Action::Top => keep(self, 0),
            Action::Bottom => keep(self, last),
            Action::Copy => {
                keep(self, cursor);
                if let Some(m) = self.messages.get(cursor) {
                    let text = match &m.cause {
                        Some(e) => format!("{}\n{}", m.text, e.detail),
                        None => m.text.clone(),
                    };
                    return self.copy_plain(text, "the message".into());
                }
            }
            Action::Open => match self.messages.get(cursor).and_then(|m| m.cause.clone()) {
                Some(e) => {
                    self.popup = Some(Popup::Error {
                        explanation: Box::new(self.explain(&e)),
                        scroll: 0,
                    })
                }
                None => keep(self, cursor),
            },
            _ => keep(self, cursor),
        }
        Vec::new()
    }

    /// Actions in the error panel.
    pub(super) fn on_error_action(
        &mut self,
        a: super::Action,
        explanation: Box<Explanation>,
        mut scroll: u16,
    ) -> Vec<Effect> {
        use super::Action;
        if a == Action::Back {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if a == Action::Copy {
            match &explanation.command {
                Some(c) => effects = self.copy_plain(c.clone(), "the suggested command".into()),
                None => self.info("this error has no command to copy"),
            }
        } else {
            a.scroll(&mut scroll);
        }
        self.popup = Some(Popup::Error {
            explanation,
            scroll,
        });
        effects
    }
}
