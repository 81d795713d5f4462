//! Worker responses: each is matched by removing its job from the table; streamed answers (pages,
//! progress, vaults found) put the job back until their last message. Also what the event loop
//! reports of the clipboard.

use std::time::Instant;

use super::jobs::Job;
use super::rows::unversioned;
use super::state::Operation;
use super::{form, App, ClipInfo, Context, Effect, Followup, OpKind, Popup, Tab};
use crate::vault::{Envelope, ErrorKind, RequestId, Response, SecretProps};

impl App {
    pub fn on_response(&mut self, env: Envelope) -> Vec<Effect> {
        let Envelope { id, response } = env;
        if let Response::Identity(who) = response {
            self.identity = Some(who);
            return Vec::new();
        }
        // Not the request's answer: it is being retried in the vault's tenant.
        if let Response::TenantLearned { vault, tenant } = response {
            return self.on_tenant_learned(vault, tenant);
        }
        // A job that is not in the table was cancelled or superseded: its answer is dropped.
        let Some(job) = self.jobs.remove(id) else {
            return Vec::new();
        };
        match job {
            Job::Discover => self.on_discovery(id, response),
            Job::Scan { vault } => self.on_scan(id, vault, response),
            Job::ExportEnv { path } => {
                match response {
                    Response::ExportedEnv { count, .. } => self.info(format!(
                        "wrote {count} secret VALUES to {path} (readable by you only) — delete it when done"
                    )),
                    Response::Failed(e) => self.fail(&format!("export-env to {path}"), e),
                    _ => self.jobs.insert(id, Job::ExportEnv { path }),
                }
                Vec::new()
            }
            j @ (Job::DiffList { .. } | Job::DiffHash { .. } | Job::DiffCopy { .. }) => {
                self.on_diff(id, j, response)
            }
            Job::ListSecrets | Job::ListDeleted => self.on_page(id, job, response),
            Job::ReadNamesCache => {
                if let Response::CachedNames(Some(cached)) = response {
                    self.show_cached(cached);
                }
                Vec::new()
            }
            Job::Op(op) => self.on_op_response(id, op, response),
            Job::Form => self.on_form_response(response),
            Job::Value => {
                if let Some(panel) = self.value.as_mut() {
                    match response {
                        Response::Value { props, value } => {
                            panel.props = Some(props);
                            panel.shown = Some(super::versions::pretty(value.expose()));
                            panel.value = Some(value);
                        }
                        Response::Failed(e) => {
                            panel.error = Some(e.clone());
                            let what = format!("reading '{}'", panel.name);
                            self.record(&what, e);
                        }
                        _ => {}
                    }
                }
                Vec::new()
            }
            Job::Copy { label, env } => match response {
                // The value goes straight to the clipboard and is dropped.
                Response::Value { value, .. } => vec![Effect::Copy {
                    text: match env {
                        Some(name) => super::export::env_line(&name, value.expose()),
                        None => value,
                    },
                    label,
                    sensitive: true,
                }],
                Response::Failed(e) => {
                    self.fail(&format!("copy {label}"), e);
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Job::FetchForEdit { base } => match response {
                Response::Value { value, props } => vec![Effect::Edit {
                    value,
                    base: SecretProps {
                        name: base.name,
                        ..props
                    },
                }],
                Response::Failed(e) => {
                    self.fail(&format!("edit '{}'", base.name), e);
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Job::SaveEdit { name } => {
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
                    Response::Failed(e) => self.fail(&format!("saving '{name}'"), e),
                    _ => {}
                }
                Vec::new()
            }
            Job::Backup { path, name } => {
                match response {
                    Response::Failed(e) if e.kind == crate::vault::ErrorKind::FileExists => {
                        self.popup = Some(Popup::ConfirmOverwrite { name, path });
                    }
                    Response::BackedUp { bytes, .. } => self.info(format!(
                        "Backed up to {path} ({bytes} bytes, readable by you only)"
                    )),
                    Response::Failed(e) => self.fail(&path, e),
                    _ => {}
                }
                Vec::new()
            }
            Job::Restore { path } => {
                match response {
                    Response::BackedUp { bytes, .. } => self.info(format!(
                        "Backed up to {path} ({bytes} bytes, readable by you only)"
                    )),
                    Response::Saved(p) => {
                        self.info(format!("Restored '{}' from {path}", p.name));
                        let name = p.name.clone();
                        self.upsert(p);
                        self.reveal_in_list(&name);
                    }
                    Response::Failed(e) => self.fail(&path, e),
                    _ => {}
                }
                Vec::new()
            }
            Job::Toggle { label, latest } => {
                match response {
                    Response::Saved(p) => {
                        let state = if p.enabled { "Enabled" } else { "Disabled" };
                        self.info(format!("{state} '{label}'"));
                        self.versions_saved(&p);
                        if latest {
                            self.upsert(p);
                        }
                    }
                    Response::Failed(e) => self.fail(&format!("'{label}'"), e),
                    _ => {}
                }
                Vec::new()
            }
            Job::Versions | Job::CompareSide { .. } => self.on_versions_response(job, response),
        }
    }

    fn on_tenant_learned(&mut self, vault: String, tenant: String) -> Vec<Effect> {
        let name = crate::vault::sources::vault_name(&vault);
        let i = self
            .vaults
            .add(&vault, crate::vault::sources::Source::Recent);
        if let Some(e) = self.vaults.entries.get_mut(i) {
            e.tenant = Some(tenant.clone());
        }
        self.info(format!(
            "{name} is in tenant {tenant}: asking for a token there (remembered for this vault)"
        ));
        self.invalidate();
        vec![Effect::RememberTenant { vault, tenant }]
    }

    fn on_discovery(&mut self, id: RequestId, response: Response) -> Vec<Effect> {
        match response {
            Response::VaultFound(v) => {
                self.vaults.add_discovered(&v);
                self.jobs.insert(id, Job::Discover);
                self.invalidate();
            }
            // Each failure goes to the message log; the summary line says how many.
            Response::DiscoveryWarning(w) => {
                self.log_error(&w);
                self.jobs.insert(id, Job::Discover);
            }
            Response::DiscoverySummary { text, failures } => {
                if failures > 0 {
                    self.error(format!("{text} — :messages lists them"));
                } else if self.status.as_ref().is_some_and(|s| s.error) {
                    // An error on show (a warning at start) is not covered by good news.
                    self.log_info(&text);
                } else {
                    self.info(text);
                }
                self.jobs.insert(id, Job::Discover);
            }
            Response::DiscoveryDone => {
                // Signed in after all: the sign-in page has done its job.
                if self
                    .last_error
                    .as_ref()
                    .is_some_and(|e| e.kind == crate::vault::ErrorKind::Unauthorized)
                {
                    self.last_error = None;
                }
            }
            Response::Failed(e) => self.fail("discovery", e),
            _ => self.jobs.insert(id, Job::Discover),
        }
        Vec::new()
    }

    fn on_page(&mut self, id: RequestId, job: Job, response: Response) -> Vec<Effect> {
        let retry = self.key_of(Context::Secrets, super::Action::Refresh);
        // The secret under the cursor, kept there when cached rows are replaced.
        let keep = self.selected_secret().map(|p| p.name.clone());
        let Some(vault) = self.vault.as_mut() else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        let tab = match response {
            // Cached rows on show: the fresh listing gathers aside and replaces them whole.
            Response::SecretsPage { items, done } if vault.fresh.is_some() => {
                if let Some(fresh) = vault.fresh.as_mut() {
                    fresh.extend(items);
                }
                if !done {
                    self.jobs.insert(id, job);
                    return Vec::new();
                }
                let mut fresh = vault.fresh_with_changes();
                // Pages grew it by doubling: a third of a big vault's list could be spare room.
                fresh.shrink_to_fit();
                vault.secrets = fresh.into();
                vault.cached_at = None;
                let (url, items) = (vault.url.clone(), vault.secrets.share());
                effects.extend(self.save_names(&url, items));
                self.select_name = keep.or(self.select_name.take());
                self.invalidate();
                return effects;
            }
            Response::SecretsPage { items, done } => {
                vault.secrets.extend(items);
                if !done {
                    self.jobs.insert(id, job);
                } else {
                    vault.secrets.shrink_to_fit();
                    let (url, items) = (vault.url.clone(), vault.secrets.share());
                    effects.extend(self.save_names(&url, items));
                }
                Tab::Secrets
            }
            Response::DeletedPage { items, done } => {
                vault.deleted.extend(items);
                if !done {
                    self.jobs.insert(id, job);
                } else {
                    vault.deleted.shrink_to_fit();
                }
                Tab::Deleted
            }
            // A failed listing is never shown as an empty vault: the list body says so.
            Response::Failed(e) if matches!(job, Job::ListSecrets) => {
                // Cached rows stay, said to be cached; the failure is in the status bar.
                vault.fresh = None;
                vault.list_error = Some(e.clone());
                self.fail(&format!("listing secrets ({retry} retries)"), e);
                Tab::Secrets
            }
            Response::Failed(e) => {
                // Vaults without soft delete, or without list permission on deleted secrets.
                vault.deleted_error = Some(e.clone());
                self.fail("listing deleted secrets", e);
                Tab::Deleted
            }
            _ => return Vec::new(),
        };
        if self.tab == tab && self.screen == super::Screen::Vault {
            // Only new items: merged into the sorted rows, not everything sorted again.
            self.extend_rows();
        }
        effects
    }

    fn on_form_response(&mut self, response: Response) -> Vec<Effect> {
        let Some(f) = self.form.as_mut() else {
            return Vec::new();
        };
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
                let an_old_version = matches!(
                    kind,
                    form::FormKind::Properties {
                        version: Some(_),
                        ..
                    }
                );
                if !an_old_version {
                    let name = p.name.clone();
                    self.upsert(p);
                    // The next `u` or `d` acts on what was just saved.
                    self.reveal_in_list(&name);
                }
            }
            Response::Failed(e) if e.kind == ErrorKind::DeletedButRecoverable => {
                let name = f.secret_name();
                f.service_error = Some(e);
                self.popup = Some(Popup::Conflict { name });
            }
            Response::Failed(e) => {
                let what = format!("saving '{}'", f.secret_name());
                f.service_error = Some(e.clone());
                self.record(&what, e);
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_op_response(
        &mut self,
        id: RequestId,
        mut op: Operation,
        response: Response,
    ) -> Vec<Effect> {
        if let Response::Progress(p) = response {
            op.progress = Some(p);
            self.jobs.insert(id, Job::Op(op));
            return Vec::new();
        }
        if op.kind == OpKind::Create {
            return self.on_form_response(response);
        }
        let secs = self.instant.saturating_duration_since(op.started).as_secs();
        if op.batch {
            return self.on_batch_item(&op, secs, response);
        }
        let ok = !matches!(response, Response::Failed(_));
        self.apply_op(&op, secs, response);
        match (op.followup, ok) {
            (Some(Followup::Open), true) => self.open_named(&op.name),
            (Some(Followup::Create), true) => self.start_op(OpKind::Create, op.name),
            _ => Vec::new(),
        }
    }

    /// Opens the value panel of `name` (after a recover from the conflict dialog).
    fn open_named(&mut self, name: &str) -> Vec<Effect> {
        self.filter.clear();
        self.tab = Tab::Secrets;
        self.reveal_in_list(name);
        self.prepare();
        if self
            .selected_secret()
            .is_some_and(|s| s.name.eq_ignore_ascii_case(name))
        {
            return self.open_value();
        }
        Vec::new()
    }

    /// A finished operation: the lists follow, the status bar says so (a failure is explained).
    pub(super) fn apply_op(&mut self, op: &Operation, secs: u64, response: Response) {
        let name = op.name.clone();
        let same = |n: &str| n.eq_ignore_ascii_case(&name);
        match response {
            Response::Deleted(d) => {
                if let Some(v) = self.vault.as_mut() {
                    v.secrets.retain(|s| !same(&s.name));
                    v.note_change(&name, None);
                    if d.recovery_id.is_some() {
                        v.deleted.retain(|x| !same(&x.props.name));
                        v.deleted.push(d);
                        v.deleted.sort_by_key(|x| x.props.name.to_lowercase());
                    }
                }
                self.info(format!(
                    "Deleted '{name}' ({secs} s); it is in the Deleted tab until purged"
                ));
            }
            Response::Saved(p) => {
                if let Some(v) = self.vault.as_mut() {
                    let restored = v
                        .deleted
                        .iter()
                        .find(|x| same(&x.props.name))
                        .map(|x| x.props.clone());
                    v.deleted.retain(|x| !same(&x.props.name));
                    v.secrets.retain(|s| !same(&s.name));
                    let item = unversioned(restored.unwrap_or(p));
                    v.note_change(&name, Some(item.clone()));
                    v.secrets.push(item);
                    v.secrets.sort_by_key(|x| x.name.to_lowercase());
                }
                self.info(format!("Recovered '{name}' ({secs} s)"));
            }
            Response::Purged { name } => {
                if let Some(v) = self.vault.as_mut() {
                    v.deleted
                        .retain(|x| !x.props.name.eq_ignore_ascii_case(&name));
                }
                self.info(format!("Purged '{name}' for good"));
            }
            Response::Failed(e) => {
                self.fail(&format!("{} '{name}'", op.kind.verb()), e);
            }
            _ => {}
        }
        self.invalidate();
    }

    // ---- what the event loop reports of the clipboard ----------------------------------------

    pub fn on_copied(
        &mut self,
        label: String,
        backend: &'static str,
        deadline: Option<Instant>,
        hint: Option<String>,
        confirming: bool,
    ) {
        self.status = None;
        self.clip = Some(ClipInfo {
            label,
            backend,
            deadline,
            hint,
            confirming,
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
        self.clip = None;
        self.error(format!("copy failed: {why}"));
    }

    /// The system clipboard holds the copy now.
    pub fn copy_confirmed(&mut self) {
        if let Some(c) = self.clip.as_mut() {
            c.confirming = false;
        }
    }
}
