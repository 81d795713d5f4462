//! The handlers that turn what the user asked for into requests to the worker, each recorded as a
//! job.

use super::jobs::Job;
use super::state::Operation;
use super::{form, App, Effect, OpKind, OpenVault, Popup, Screen, Tab, ValuePanel};
use crate::vault::{Request, SecretProps};

impl App {
    /// What runs at start: discovery (unless off), and the one vault named on the command line.
    pub fn start(&mut self, discover: bool, open: Option<String>) -> Vec<Effect> {
        let mut effects = Vec::new();
        if discover {
            effects.extend(self.discover());
        }
        if let Some(url) = open {
            effects.extend(self.open_vault(&url));
        }
        effects
    }

    /// Sends a request as a job.
    pub(super) fn send(&mut self, job: Job, request: Request) -> Vec<Effect> {
        let id = self.id();
        self.jobs.insert(id, job);
        vec![Effect::Send(id, request)]
    }

    /// Cancels (and forgets) the jobs of a kind.
    pub(super) fn cancel(&mut self, f: impl Fn(&Job) -> bool) -> Vec<Effect> {
        self.jobs.take(f).into_iter().map(Effect::Cancel).collect()
    }

    pub(super) fn vault_url(&self) -> Option<String> {
        self.vault.as_ref().map(|v| v.url.clone())
    }

    /// Quits, asking first while an operation runs (unless `force`); whatever runs is cancelled.
    pub(super) fn quit(&mut self, force: bool) -> Vec<Effect> {
        if !force && self.ops().next().is_some() {
            self.popup = Some(Popup::ConfirmQuit);
            return Vec::new();
        }
        self.quit = true;
        self.value = None;
        self.versions = None;
        self.jobs.drain().into_iter().map(Effect::Cancel).collect()
    }

    /// Opens a vault by URL: loads its secrets and its deleted list.
    pub fn open_vault(&mut self, url: &str) -> Vec<Effect> {
        let mut effects = self.close_vault();
        let read_only = self.read_only
            || self
                .vaults
                .entries
                .iter()
                .any(|e| e.url.eq_ignore_ascii_case(url) && e.read_only);
        self.vault = Some(OpenVault {
            url: url.to_string(),
            name: crate::vault::sources::vault_name(url),
            read_only,
            ..OpenVault::default()
        });
        self.screen = Screen::Vault;
        self.tab = Tab::Secrets;
        self.secrets_cursor = Default::default();
        self.deleted_cursor = Default::default();
        self.filter.clear();
        self.filter_editing = false;
        self.status = None;
        self.invalidate();
        effects.extend(self.list());
        effects.extend(self.read_cached(url));
        effects.push(Effect::RecordRecent(url.to_string()));
        effects
    }

    /// Lists the open vault's secrets and deleted secrets (again).
    fn list(&mut self) -> Vec<Effect> {
        let Some(url) = self.vault_url() else {
            return Vec::new();
        };
        let mut effects = self.cancel(|j| matches!(j, Job::ListSecrets | Job::ListDeleted));
        effects.extend(self.send(
            Job::ListSecrets,
            Request::ListSecrets { vault: url.clone() },
        ));
        effects.extend(self.send(Job::ListDeleted, Request::ListDeleted { vault: url }));
        effects
    }

    /// Who a cached list belongs to: the tenant and object of the signed-in identity (local vaults
    /// on the local vault's own tokens: "local"). Unknown: no cache.
    pub(super) fn cache_who(&self, url: &str) -> Option<String> {
        match &self.identity {
            Some(i) => Some(format!(
                "{}|{}",
                i.tid.as_deref().unwrap_or("-"),
                i.assignee().or(i.appid.as_deref()).unwrap_or(&i.credential)
            )),
            None => crate::vault::transport::is_local_url(url).then(|| "local".to_string()),
        }
    }

    /// A vault opened again: its cached rows are read off the UI thread (a big list is megabytes).
    fn read_cached(&mut self, url: &str) -> Vec<Effect> {
        let (Some(cache), Some(who)) = (self.names_cache.clone(), self.cache_who(url)) else {
            return Vec::new();
        };
        self.send(
            Job::ReadNamesCache,
            Request::ReadNamesCache {
                cache,
                who,
                vault: url.to_string(),
            },
        )
    }

    /// The cached rows, shown until the fresh listing ends and replaces them (unless it has ended
    /// by the time they are read). Its pages that came first go aside with the ones to come.
    pub(super) fn show_cached(&mut self, cached: crate::cache::Cached) {
        let listing = self.running(|j| matches!(j, Job::ListSecrets));
        let Some(v) = self.vault.as_mut() else {
            return;
        };
        if !listing || v.fresh.is_some() {
            return;
        }
        let first_pages = std::mem::replace(&mut v.secrets, cached.items.into());
        v.fresh = Some(first_pages.to_vec());
        v.cached_at = Some(cached.saved_at);
        self.invalidate();
    }

    /// After a whole listing: keep it for the next open.
    pub(super) fn save_names(
        &self,
        url: &str,
        items: std::sync::Arc<Vec<SecretProps>>,
    ) -> Vec<Effect> {
        match (&self.names_cache, self.cache_who(url)) {
            (Some(_), Some(who)) => vec![Effect::SaveNames {
                who,
                vault: url.to_string(),
                items,
            }],
            _ => Vec::new(),
        }
    }

    pub(super) fn close_vault(&mut self) -> Vec<Effect> {
        self.marks.clear();
        let mut effects = self.close_versions();
        effects.extend(self.close_value());
        self.vault = None;
        effects.extend(
            self.cancel(|j| matches!(j, Job::ListSecrets | Job::ListDeleted | Job::ReadNamesCache)),
        );
        effects
    }

    pub(super) fn back_to_vaults(&mut self) -> Vec<Effect> {
        let effects = self.close_vault();
        self.screen = Screen::Vaults;
        self.filter.clear();
        self.invalidate();
        effects
    }

    /// Dropping the panel drops (and zeroizes) the value.
    pub(super) fn close_value(&mut self) -> Vec<Effect> {
        self.value = None;
        self.cancel(|j| matches!(j, Job::Value))
    }

    pub(super) fn close_versions(&mut self) -> Vec<Effect> {
        self.versions = None;
        self.cancel(|j| matches!(j, Job::Versions | Job::CompareSide { .. }))
    }

    pub(super) fn refresh(&mut self) -> Vec<Effect> {
        match self.screen {
            Screen::Vault => {
                if let Some(v) = self.vault.as_mut() {
                    v.secrets.clear();
                    v.deleted.clear();
                    v.list_error = None;
                    v.deleted_error = None;
                }
                self.invalidate();
                self.list()
            }
            Screen::Vaults => self.discover(),
        }
    }

    pub fn discover(&mut self) -> Vec<Effect> {
        let mut effects = self.cancel(|j| matches!(j, Job::Discover));
        effects.extend(self.send(Job::Discover, Request::Discover));
        effects
    }

    pub(super) fn open_value(&mut self) -> Vec<Effect> {
        let Some((p, url)) = self.selected_in_vault() else {
            return Vec::new();
        };
        self.show_value(p, url, None)
    }

    /// Opens the value panel of a secret (a given version, or the latest) and fetches its value.
    pub(super) fn show_value(
        &mut self,
        p: SecretProps,
        url: String,
        version: Option<String>,
    ) -> Vec<Effect> {
        let mut effects = self.close_value();
        let name = p.name.clone();
        self.value = Some(ValuePanel::new(p));
        effects.extend(self.send(
            Job::Value,
            Request::GetSecret {
                vault: url,
                name,
                version,
            },
        ));
        effects
    }

    pub(super) fn refuse_read_only(&mut self, what: &str) -> bool {
        if self.vault.as_ref().is_some_and(|v| v.read_only) {
            self.error(format!("read-only: {what} is not allowed (started with --read-only or read_only in the config)"));
            true
        } else {
            false
        }
    }

    /// Refuses changes to certificate-backed secrets, which the vault refuses too.
    pub(super) fn refuse_managed(&mut self, p: &SecretProps, what: &str) -> bool {
        if p.managed {
            self.error(format!(
                "'{}' is certificate-backed (managed): {what} the certificate instead",
                p.name
            ));
        }
        p.managed
    }

    pub(super) fn start_op(&mut self, kind: OpKind, name: String) -> Vec<Effect> {
        let Some(url) = self.vault_url() else {
            return Vec::new();
        };
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
        let op = Operation {
            kind,
            name,
            started: self.instant,
            progress: None,
            followup: None,
            batch: false,
        };
        self.send(Job::Op(op), request)
    }

    /// Opens the form: `n` create, `u` new version, `e` properties of the selected secret.
    pub(super) fn open_form(&mut self, kind: char) {
        let what = match kind {
            'n' => "create",
            'u' => "a new version",
            _ => "editing properties",
        };
        if self.refuse_read_only(what) {
            return;
        }
        let selected = self.selected_secret().cloned();
        if let (true, Some(p)) = (kind != 'n', &selected) {
            if self.refuse_managed(p, "change") {
                return;
            }
        }
        self.form = match (kind, selected) {
            ('n', _) => Some(form::Form::create()),
            ('u', Some(p)) => Some(form::Form::new_version(&p)),
            ('e', Some(p)) => Some(form::Form::properties(&p, None, self.local_offset)),
            _ => None,
        };
    }

    /// Enables a disabled secret (or version) or disables an enabled one. `version: None` is the
    /// latest; `latest` says whether the list row shows this version.
    pub(super) fn toggle(
        &mut self,
        p: SecretProps,
        version: Option<String>,
        latest: bool,
    ) -> Vec<Effect> {
        if self.refuse_read_only("enable / disable") || self.refuse_managed(&p, "change") {
            return Vec::new();
        }
        let Some(url) = self.vault_url() else {
            return Vec::new();
        };
        let label = match &version {
            Some(v) => format!("{} version {}", p.name, super::versions::short(v)),
            None => p.name.clone(),
        };
        let patch = crate::vault::PropertiesPatch {
            enabled: Some(!p.enabled),
            ..Default::default()
        };
        self.send(
            Job::Toggle { label, latest },
            Request::UpdateProperties {
                vault: url,
                name: p.name,
                version,
                patch,
            },
        )
    }

    pub(super) fn submit_form(&mut self) -> Vec<Effect> {
        let (Some(f), Some(url)) = (self.form.as_ref(), self.vault_url()) else {
            return Vec::new();
        };
        if self.submitting() {
            return Vec::new();
        }
        if let Some((field, e)) = f.errors(self.now, self.local_offset).first() {
            let e = format!("{}: {e}", field.label());
            self.error(e);
            return Vec::new();
        }
        let request = match &f.kind {
            form::FormKind::Create | form::FormKind::NewVersion { .. } => f
                .new_secret(self.now, self.local_offset)
                .map(|secret| Request::SetSecret {
                    vault: url,
                    name: f.secret_name(),
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
        if let Some(f) = self.form.as_mut() {
            f.service_error = None;
        }
        self.send(Job::Form, request)
    }

    pub(super) fn backup_to(&mut self, name: String, path: String, overwrite: bool) -> Vec<Effect> {
        let Some(url) = self.vault_url() else {
            return Vec::new();
        };
        self.send(
            Job::Backup {
                path: path.clone(),
                name: name.clone(),
            },
            Request::Backup {
                vault: url,
                name,
                path: path.into(),
                overwrite,
            },
        )
    }

    pub(super) fn restore_from(&mut self, path: String) -> Vec<Effect> {
        if self.refuse_read_only("restore") {
            return Vec::new();
        }
        let Some(url) = self.vault_url() else {
            self.error("open a vault first: the backup is restored into the open vault");
            return Vec::new();
        };
        self.send(
            Job::Restore { path: path.clone() },
            Request::Restore {
                vault: url,
                path: path.into(),
            },
        )
    }
}
