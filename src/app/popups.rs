//! Actions in dialogs: help, yes/no confirmations, the purge confirmation, the deleted-but-recoverable
//! choice, the one-line prompts and the `:` line.

use super::jobs::Job;
use super::{Action, App, Effect, Followup, OpKind, Popup};
use crate::vault::sources::Source;

impl App {
    pub(super) fn on_popup_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(popup) = self.popup.take() else {
            return Vec::new();
        };
        // Most dialogs stay open unless the action closes them.
        let keep = |p: Popup, app: &mut App| app.popup = Some(p);
        match (popup, a) {
            (Popup::Help { context, scroll }, Action::Down) => keep(
                Popup::Help {
                    context,
                    scroll: scroll.saturating_add(1),
                },
                self,
            ),
            (Popup::Help { context, scroll }, Action::Up) => keep(
                Popup::Help {
                    context,
                    scroll: scroll.saturating_sub(1),
                },
                self,
            ),
            (Popup::Help { .. }, Action::Back) => {}
            (
                Popup::Error {
                    explanation,
                    scroll,
                },
                a,
            ) => return self.on_error_action(a, explanation, scroll),
            (Popup::Messages { .. }, Action::Back) => {}
            (Popup::Messages { cursor }, a) => return self.on_messages_action(a, cursor),
            (Popup::VaultDiff { cursor }, a) => return self.on_diff_action(a, cursor),
            (Popup::ConfirmExportEnv { path, names, typed }, Action::Confirm) => {
                let vault = self
                    .vault
                    .as_ref()
                    .map(|v| v.name.clone())
                    .unwrap_or_default();
                if typed.value().trim() == vault {
                    return self.export_env(path, names);
                }
                keep(Popup::ConfirmExportEnv { path, names, typed }, self);
            }
            (Popup::ConfirmExportEnv { .. }, Action::Cancel) => self.info("nothing written"),
            (
                Popup::Across {
                    kind,
                    input,
                    cursor,
                },
                a,
            ) => return self.on_across_action(a, kind, input, cursor),
            (Popup::ConfirmQuit, Action::Confirm) => return self.quit(true),
            (Popup::ConfirmOverwrite { name, path }, Action::Confirm) => {
                return self.backup_to(name, path, true)
            }
            (Popup::ConfirmOverwrite { path, .. }, Action::Cancel) => {
                self.info(format!("{path} left as it was: nothing backed up"))
            }
            (Popup::ConfirmQuit, _) => {}
            (Popup::ConfirmDelete { name }, Action::Confirm) => {
                return self.start_op(OpKind::Delete, name)
            }
            (Popup::ConfirmDelete { .. }, Action::Cancel) => {}
            (Popup::ConfirmPurge { name, typed }, Action::Confirm) => {
                if typed.value() == name {
                    return self.start_op(OpKind::Purge, name);
                }
                keep(Popup::ConfirmPurge { name, typed }, self);
            }
            (Popup::ConfirmPurge { .. }, Action::Cancel) => {}
            (Popup::ConfirmBatch { kind, names, typed }, Action::Confirm) => {
                if kind != OpKind::Purge || typed.value().trim() == names.len().to_string() {
                    return self.start_batch(kind, names);
                }
                keep(Popup::ConfirmBatch { kind, names, typed }, self);
            }
            (Popup::ConfirmBatch { .. }, Action::Cancel) => {
                self.info("nothing done: the marks are kept")
            }
            (Popup::Conflict { name }, Action::Recover) => {
                self.form = None;
                return self.op_then(OpKind::Recover, name, Followup::Open);
            }
            (Popup::Conflict { name }, Action::Purge) => {
                return self.op_then(OpKind::Purge, name, Followup::Create)
            }
            (Popup::Conflict { .. }, Action::Cancel) => {
                self.info("back to the form: nothing was lost")
            }
            (Popup::Backup { name, path, .. }, Action::Confirm) => {
                if path.value().trim().is_empty() {
                    keep(
                        Popup::Backup {
                            name,
                            path,
                            error: Some("a file name is needed".into()),
                        },
                        self,
                    );
                } else {
                    return self.backup_to(name, path.value().trim().to_string(), false);
                }
            }
            (Popup::OpenVault { input, .. }, Action::Confirm) => {
                match crate::vault::sources::vault_url(
                    input.value(),
                    crate::vault::credential::Cloud::Public,
                ) {
                    Ok(url) => {
                        self.vaults.add(&url, Source::Flag);
                        self.invalidate();
                        return self.open_vault(&url);
                    }
                    Err(e) => keep(
                        Popup::OpenVault {
                            input,
                            error: Some(e),
                        },
                        self,
                    ),
                }
            }
            (Popup::Command { input, .. }, Action::Confirm) => return self.run_command(input),
            (Popup::Command { input, .. }, Action::Complete) => self.complete_command(input),
            (
                Popup::Backup { .. } | Popup::OpenVault { .. } | Popup::Command { .. },
                Action::Cancel,
            ) => {}
            (other, _) => keep(other, self),
        }
        Vec::new()
    }

    /// Starts an operation with something to do once it succeeds.
    fn op_then(&mut self, kind: OpKind, name: String, then: Followup) -> Vec<Effect> {
        let effects = self.start_op(kind, name);
        for e in &effects {
            if let Effect::Send(id, _) = e {
                if let Some(Job::Op(op)) = self.jobs.get_mut(*id) {
                    op.followup = Some(then);
                }
            }
        }
        effects
    }
}
