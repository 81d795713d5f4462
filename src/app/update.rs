//! `App::update(Action)`: the one entry for what the user asked for. It acts in the current context
//! (the keymap resolved the key there) and returns the effects to run.

use super::text::Edit;
use super::{Action, App, Context, Effect, OpKind, Popup, Screen, Tab};

impl App {
    pub fn update(&mut self, a: Action) -> Vec<Effect> {
        let ctx = self.context();
        match a {
            Action::ForceQuit => return self.quit(true),
            // Over a view or the form; a dialog would be lost under it.
            Action::Help if self.popup.is_none() => {
                self.popup = Some(Popup::Help {
                    context: ctx,
                    scroll: 0,
                });
                return Vec::new();
            }
            _ => {}
        }
        match ctx {
            Context::Help
            | Context::ErrorPanel
            | Context::Messages
            | Context::Confirm
            | Context::Purge
            | Context::Conflict
            | Context::Prompt
            | Context::Across
            | Context::VaultDiff
            | Context::Command => self.on_popup_action(a),
            Context::Form => self.on_form_action(a),
            Context::Filter => self.on_filter_action(a),
            Context::Value => self.on_value_action(a),
            Context::Versions => self.common(a).unwrap_or_else(|| self.on_versions_action(a)),
            Context::Compare => self.common(a).unwrap_or_else(|| self.on_compare_action(a)),
            Context::Vaults | Context::Secrets | Context::Deleted => self
                .common(a)
                .unwrap_or_else(|| self.on_list_action(ctx, a)),
        }
    }

    /// What every view does alike: quit, the `:` line.
    fn common(&mut self, a: Action) -> Option<Vec<Effect>> {
        match a {
            Action::Quit => Some(self.quit(false)),
            Action::Command => {
                self.popup = Some(Popup::command());
                Some(Vec::new())
            }
            Action::LastError => {
                self.show_last_error();
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn on_list_action(&mut self, ctx: Context, a: Action) -> Vec<Effect> {
        let page = super::list_height(self.size).max(1) as isize;
        let in_vault = ctx != Context::Vaults;
        match a {
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::PageUp => self.step(-page),
            Action::PageDown => self.step(page),
            Action::Top => self.cursor().selected = 0,
            Action::Bottom => self.cursor().selected = self.rows.len().saturating_sub(1),
            Action::Filter => {
                // A new filter, as in k9s; Esc clears, Enter keeps.
                self.filter_editing = true;
                self.filter.clear();
                self.refilter();
            }
            Action::Refresh => return self.refresh(),
            Action::Back if in_vault && self.stop_batch() => {}
            Action::Back if in_vault && self.marks_label().is_some() => {
                self.marks.clear();
                self.info("marks cleared");
            }
            Action::Mark if in_vault => self.toggle_mark(),
            Action::MarkAll if in_vault => self.mark_shown(),
            Action::Delete
                if ctx == Context::Secrets
                    && self.marks_label().is_some()
                    && !self.refuse_read_only("delete") =>
            {
                self.confirm_marked(OpKind::Delete);
            }
            Action::Recover | Action::Purge
                if ctx == Context::Deleted && self.marks_label().is_some() =>
            {
                let kind = if a == Action::Recover {
                    OpKind::Recover
                } else {
                    OpKind::Purge
                };
                if !self.refuse_read_only(kind.verb()) {
                    self.confirm_marked(kind);
                }
            }
            Action::Back => {
                if !self.filter.is_empty() {
                    // The secret found stays selected in the whole list.
                    if let (Screen::Vault, Tab::Secrets) = (self.screen, self.tab) {
                        self.select_name = self.selected_secret().map(|p| p.name.clone());
                    }
                    self.filter.clear();
                    self.refilter();
                } else if self.status.as_ref().is_some_and(|s| s.error) {
                    self.status = None;
                } else if self.screen == Screen::Vault {
                    return self.back_to_vaults();
                }
            }
            Action::Open if ctx == Context::Vaults => match self.selected_vault_url() {
                Some(u) => return self.open_vault(&u),
                None => {
                    let key = self.key_of(ctx, Action::OpenUrl);
                    self.info(format!("no vault here yet: press {key} to open one by URL"))
                }
            },
            Action::OpenUrl if ctx == Context::Vaults => {
                self.popup = Some(Popup::OpenVault {
                    input: Default::default(),
                    error: None,
                })
            }
            Action::Tab if in_vault => {
                self.tab = match self.tab {
                    Tab::Secrets => Tab::Deleted,
                    Tab::Deleted => Tab::Secrets,
                };
                self.reorder();
            }
            Action::Sort if in_vault => {
                self.sort = self.sort.next();
                self.reorder();
                self.info(format!("sorted by {}", self.sort.label()));
            }
            Action::New if in_vault => self.open_form('n'),
            Action::Recover | Action::Purge if ctx == Context::Deleted => {
                return self.on_deleted_action(a)
            }
            _ if ctx == Context::Secrets => return self.on_secret_action(a),
            _ => {}
        }
        Vec::new()
    }

    /// The secret list's actions on the selected secret.
    fn on_secret_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(p) = self.selected_secret().cloned() else {
            return Vec::new();
        };
        match a {
            Action::Open => return self.open_value(),
            Action::NewVersion => self.open_form('u'),
            Action::Properties => self.open_form('e'),
            Action::ToggleEnabled => return self.toggle(p, None, true),
            Action::Versions => return self.open_versions(),
            Action::Edit => return self.start_edit(),
            Action::Backup => {
                self.popup = Some(Popup::Backup {
                    path: super::text::LineField::new(format!("./{}.kvbackup", p.name)),
                    name: p.name,
                    error: None,
                });
            }
            Action::Copy => return self.copy_value(&p, None, None),
            // Both want the other vault: the `:` line, started for them.
            Action::Promote | Action::CompareVaults => {
                let start = if a == Action::Promote {
                    "promote "
                } else {
                    "compare-vaults "
                };
                self.popup = Some(Popup::Command {
                    input: super::text::LineField::new(start),
                    error: None,
                });
            }
            Action::CopyEnv => return self.copy_value_as(&p, None, None, true),
            Action::CopyId => {
                return self.copy_plain(p.id.clone(), format!("identifier of '{}'", p.name))
            }
            Action::CopyName => {
                return self.copy_plain(p.name.clone(), format!("name '{}'", p.name))
            }
            Action::Delete
                if !self.refuse_read_only("delete") && !self.refuse_managed(&p, "delete") =>
            {
                self.popup = Some(Popup::ConfirmDelete { name: p.name });
            }
            _ => {}
        }
        Vec::new()
    }

    /// Recover and purge, in the Deleted tab.
    fn on_deleted_action(&mut self, a: Action) -> Vec<Effect> {
        let what = if a == Action::Recover {
            "recover"
        } else {
            "purge"
        };
        if self.refuse_read_only(what) {
            return Vec::new();
        }
        let Some(d) = self.selected_deleted().cloned() else {
            return Vec::new();
        };
        let name = d.props.name.clone();
        if a == Action::Recover {
            return self.start_op(OpKind::Recover, name);
        }
        if Self::purge_protected(d.props.recovery_level.as_deref()) {
            self.error(format!(
                "purge refused: '{name}' is in a vault with purge protection ({}); it will be purged automatically when its retention ends",
                d.props.recovery_level.unwrap_or_default()
            ));
        } else {
            self.popup = Some(Popup::ConfirmPurge {
                name,
                typed: Default::default(),
            });
        }
        Vec::new()
    }

    fn on_value_action(&mut self, a: Action) -> Vec<Effect> {
        if let Some(effects) = self.common(a) {
            return effects;
        }
        let Some(panel) = self.value.as_mut() else {
            return Vec::new();
        };
        if a.scroll(&mut panel.scroll) {
            return Vec::new();
        }
        match a {
            Action::Back => return self.close_value(),
            Action::Reveal => panel.revealed = !panel.revealed,
            Action::Edit => return self.start_edit(),
            Action::Copy | Action::CopyId | Action::CopyName | Action::CopyEnv => {
                let Some(p) = panel.props.clone() else {
                    return Vec::new();
                };
                return match a {
                    Action::CopyId => {
                        self.copy_plain(p.id.clone(), format!("identifier of '{}'", p.name))
                    }
                    Action::CopyName => {
                        self.copy_plain(p.name.clone(), format!("name '{}'", p.name))
                    }
                    _ if panel.value.is_none() => {
                        self.info("the value is still being fetched");
                        Vec::new()
                    }
                    _ => {
                        let value = panel.value.clone();
                        self.copy_value_as(&p, None, value, a == Action::CopyEnv)
                    }
                };
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_filter_action(&mut self, a: Action) -> Vec<Effect> {
        match a {
            Action::Cancel => {
                self.filter_editing = false;
                self.filter.clear();
            }
            Action::Confirm => self.filter_editing = false,
            Action::Up | Action::Down => {
                self.filter_editing = false;
                return self.update(a);
            }
            _ => return Vec::new(),
        }
        *self.cursor() = Default::default();
        self.refilter();
        Vec::new()
    }

    fn on_form_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(f) = self.form.as_mut() else {
            return Vec::new();
        };
        let field = f.focused();
        let last = f.fields().len() - 1;
        match a {
            Action::Cancel => {
                self.form = None;
                self.info("nothing saved");
            }
            Action::Submit => return self.submit_form(),
            Action::ToggleMask => f.show_value = !f.show_value,
            Action::NextField => f.focus = (f.focus + 1).min(last),
            Action::PrevField => f.focus = f.focus.saturating_sub(1),
            Action::Confirm if field.multiline() => {
                f.apply(field, Edit::Newline);
            }
            Action::Confirm if f.focus == last => return self.submit_form(),
            Action::Confirm => f.focus += 1,
            _ => {}
        }
        Vec::new()
    }
}
