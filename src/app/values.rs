//! Values leaving the app: copied to the clipboard (fetched first when not loaded) or edited in
//! $EDITOR (fetched, then saved as a new version).

use super::jobs::Job;
use super::{App, Effect, ValuePanel};
use crate::vault::{Request, SecretProps, SecretValue};

impl App {
    /// Edit the latest value in $EDITOR (fetched first unless the panel has it).
    pub(super) fn start_edit(&mut self) -> Vec<Effect> {
        if self.refuse_read_only("editing") {
            return Vec::new();
        }
        if let Some(ValuePanel {
            value: Some(value),
            props: Some(props),
            ..
        }) = &self.value
        {
            let (value, base) = (value.clone(), props.clone());
            if self.refuse_managed(&base, "change") {
                return Vec::new();
            }
            return vec![Effect::Edit { value, base }];
        }
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        if self.refuse_managed(&p, "change") {
            return Vec::new();
        }
        let name = p.name.clone();
        self.send(
            Job::FetchForEdit { base: p },
            Request::GetSecret {
                vault: url,
                name,
                version: None,
            },
        )
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
                let Some(url) = self.vault_url() else {
                    return Vec::new();
                };
                // A PUT inherits nothing: send content type, tags and enabled again.
                let secret = crate::vault::NewSecret {
                    value,
                    content_type: base.content_type.clone(),
                    tags: base.tags.clone(),
                    enabled: base.enabled,
                    not_before: None,
                    expires: None,
                };
                self.send(
                    Job::SaveEdit {
                        name: base.name.clone(),
                    },
                    Request::SetSecret {
                        vault: url,
                        name: base.name,
                        secret,
                    },
                )
            }
        }
    }

    /// Copies a value: at once when it is loaded, else fetched first (a newer copy supersedes).
    pub(super) fn copy_value(
        &mut self,
        p: &SecretProps,
        version: Option<String>,
        loaded: Option<SecretValue>,
    ) -> Vec<Effect> {
        self.copy_value_as(p, version, loaded, false)
    }

    /// The value, or (`env`) the line `NAME=value` a shell or a `.env` file takes.
    pub(super) fn copy_value_as(
        &mut self,
        p: &SecretProps,
        version: Option<String>,
        loaded: Option<SecretValue>,
        env: bool,
    ) -> Vec<Effect> {
        let label = match (&version, env) {
            (_, true) => format!("'{}' as {}=…", p.name, super::export::env_name(&p.name)),
            (Some(v), false) => format!("value of '{}' ({})", p.name, super::versions::short(v)),
            (None, false) => format!("value of '{}'", p.name),
        };
        if let Some(text) = loaded {
            let text = if env {
                super::export::env_line(&p.name, text.expose())
            } else {
                text
            };
            return vec![Effect::Copy {
                text,
                label,
                sensitive: true,
            }];
        }
        let Some(url) = self.vault_url() else {
            return Vec::new();
        };
        let mut effects = self.cancel(|j| matches!(j, Job::Copy { .. }));
        effects.extend(self.send(
            Job::Copy {
                label,
                env: env.then(|| p.name.clone()),
            },
            Request::GetSecret {
                vault: url,
                name: p.name.clone(),
                version,
            },
        ));
        effects
    }

    /// The identifier or the name: not secret, not cleared.
    pub(super) fn copy_plain(&mut self, text: String, label: String) -> Vec<Effect> {
        vec![Effect::Copy {
            text: SecretValue::new(text),
            label,
            sensitive: false,
        }]
    }
}
