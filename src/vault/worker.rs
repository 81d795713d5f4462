//! The vault worker: a tokio task that owns one `SecretClient` per vault, runs requests concurrently,
//! streams list pages as they arrive, polls deletes and recovers to completion with progress, and
//! answers each request with responses tagged by its id. The views only ever talk to this.
//!
//! Cancellation: `cancel(id)` stops a request; a newer listing of the same vault (or of the same
//! secret's versions) supersedes the older one. Cancelled work sends nothing more: every response
//! passes through the worker, which drops those of requests no longer active.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_security_keyvault_secrets::models::{
    RestoreSecretParameters, SecretAttributes, SecretClientGetSecretOptions,
    SecretClientUpdateSecretPropertiesOptions, SetSecretParameters,
    UpdateSecretPropertiesParameters,
};
use azure_security_keyvault_secrets::SecretClient;
use futures::TryStreamExt;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::credential::{AuthConfig, ChainCredential};
use super::discovery::{self, DiscoveredVault, DiscoveryConfig};
use super::error::{ErrorKind, VaultError};
use super::secret::{
    take_value, DeletedProps, NewSecret, PropertiesPatch, SecretProps, SecretValue,
};
use super::transport;

pub type RequestId = u64;

/// What the views ask for. `vault` is the vault's URL.
#[derive(Clone, Debug)]
pub enum Request {
    ListSecrets {
        vault: String,
    },
    GetSecret {
        vault: String,
        name: String,
        version: Option<String>,
    },
    ListVersions {
        vault: String,
        name: String,
    },
    SetSecret {
        vault: String,
        name: String,
        secret: NewSecret,
    },
    /// A set that waits out a delete or purge still in progress (409 ObjectIsBeingDeleted): used to
    /// create a secret right after purging the deleted one of the same name.
    SetSecretWhenFree {
        vault: String,
        name: String,
        secret: NewSecret,
    },
    UpdateProperties {
        vault: String,
        name: String,
        version: Option<String>,
        patch: PropertiesPatch,
    },
    Delete {
        vault: String,
        name: String,
    },
    Recover {
        vault: String,
        name: String,
    },
    Purge {
        vault: String,
        name: String,
    },
    ListDeleted {
        vault: String,
    },
    GetDeleted {
        vault: String,
        name: String,
    },
    Backup {
        vault: String,
        name: String,
        path: PathBuf,
    },
    Restore {
        vault: String,
        path: PathBuf,
    },
    Discover,
}

impl Request {
    /// Requests with the same key supersede each other (listings of one thing).
    fn supersede_key(&self) -> Option<String> {
        match self {
            Request::ListSecrets { vault } => Some(format!("list {vault}")),
            Request::ListDeleted { vault } => Some(format!("deleted {vault}")),
            Request::ListVersions { vault, name } => {
                Some(format!("versions {vault} {}", name.to_ascii_lowercase()))
            }
            Request::Discover => Some("discover".into()),
            _ => None,
        }
    }
}

/// What a long operation is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Deleted; polling until the deleted secret is readable.
    WaitingForDeletion,
    /// Recovered; polling until the secret is readable.
    WaitingForRecovery,
    /// Purge refused while the delete completes (409 ObjectIsBeingDeleted); retrying.
    WaitingToPurge,
    /// The name is still being deleted or purged (409 ObjectIsBeingDeleted); retrying the set.
    WaitingForName,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub elapsed: Duration,
    pub attempts: u32,
    pub phase: Phase,
}

/// What the worker answers.
#[derive(Debug)]
pub enum Response {
    /// One page of the secret list; `done` on the last.
    SecretsPage {
        items: Vec<SecretProps>,
        done: bool,
    },
    DeletedPage {
        items: Vec<DeletedProps>,
        done: bool,
    },
    /// Every version, newest first.
    Versions(Vec<SecretProps>),
    Value {
        props: SecretProps,
        value: SecretValue,
    },
    /// A set, update, recover or restore finished (recover: the secret is readable).
    Saved(SecretProps),
    /// A delete finished (with soft delete: the deleted secret is readable).
    Deleted(DeletedProps),
    DeletedInfo(DeletedProps),
    Purged {
        name: String,
    },
    BackedUp {
        path: PathBuf,
        bytes: usize,
    },
    Progress(Progress),
    VaultFound(DiscoveredVault),
    DiscoveryWarning(String),
    DiscoveryDone,
    /// The credential that produced the last token changed (sent under id 0, before the response that
    /// used it).
    Identity(String),
    Failed(VaultError),
}

/// The id under which the worker reports what no request asked for (the identity).
pub const UNSOLICITED: RequestId = 0;

impl Response {
    fn is_final(&self) -> bool {
        match self {
            Response::SecretsPage { done, .. } | Response::DeletedPage { done, .. } => *done,
            Response::Progress(_) | Response::VaultFound(_) | Response::DiscoveryWarning(_) => {
                false
            }
            _ => true,
        }
    }
}

#[derive(Debug)]
pub struct Envelope {
    pub id: RequestId,
    pub response: Response,
}

/// How pollers wait.
#[derive(Clone, Copy, Debug)]
pub struct PollConfig {
    pub initial: Duration,
    pub max: Duration,
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(2),
            timeout: Duration::from_secs(120),
        }
    }
}

#[derive(Clone)]
pub struct WorkerConfig {
    pub auth: AuthConfig,
    /// The local vault's CA (PEM), trusted for `*.localhost` vaults.
    pub local_ca: Option<String>,
    pub poll: PollConfig,
    pub discovery: Option<DiscoveryConfig>,
    /// Vault URL → tenant (`tenant` on a vault in the config); discovery adds the vaults it finds.
    pub vault_tenants: HashMap<String, String>,
}

/// Builds and keeps one client per vault.
struct Clients {
    config: WorkerConfig,
    chain: Arc<ChainCredential>,
    by_vault: Mutex<HashMap<String, Arc<SecretClient>>>,
    /// Vault URL → tenant, from the config and from discovery.
    tenants: Mutex<HashMap<String, String>>,
    /// One chain per tenant other than the default.
    chains: Mutex<HashMap<String, Arc<ChainCredential>>>,
}

fn vault_key(url: &str) -> String {
    url.trim_end_matches('/').to_ascii_lowercase()
}

impl Clients {
    /// The chain for a vault: the one of its tenant when it has one (config or discovery).
    fn chain_for(&self, vault: &str) -> Arc<ChainCredential> {
        let tenant = self
            .tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&vault_key(vault))
            .cloned();
        match tenant {
            Some(t) if self.config.auth.tenant.as_deref() != Some(t.as_str()) => self
                .chains
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(t.clone())
                .or_insert_with(|| {
                    let mut auth = self.config.auth.clone();
                    auth.tenant = Some(t);
                    ChainCredential::new(auth)
                })
                .clone(),
            _ => self.chain.clone(),
        }
    }

    fn learn_tenant(&self, vault: &str, tenant: &str) {
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(vault_key(vault))
            .or_insert_with(|| tenant.to_string());
    }
}

impl Clients {
    fn get(&self, vault: &str) -> Result<Arc<SecretClient>, VaultError> {
        let key = vault.trim_end_matches('/').to_ascii_lowercase();
        let mut map = self.by_vault.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
        let host = url::Url::parse(vault)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .ok_or_else(|| {
                VaultError::new(ErrorKind::Other, format!("'{vault}' is not a vault URL"))
            })?;
        let local = transport::is_localhost(&host);
        let http = transport::http_client(if local {
            self.config.local_ca.as_deref()
        } else {
            None
        })
        .map_err(|e| VaultError::new(ErrorKind::Network, format!("{e:#}")))?;
        let credential: Arc<dyn TokenCredential> = if local
            && self.config.auth.mode == super::credential::AuthMode::Auto
            && !self.config.auth.has_explicit_source()
        {
            Arc::new(transport::LocalTokenCredential)
        } else {
            self.chain_for(vault)
        };
        let client = Arc::new(
            transport::secret_client_with_retry(
                vault,
                credential,
                http,
                Some(transport::interactive_retry()),
            )
            .map_err(|e| VaultError::new(ErrorKind::Other, format!("{e:#}")))?,
        );
        map.insert(key, client.clone());
        Ok(client)
    }
}

enum Command {
    Run(RequestId, Request),
    Cancel(RequestId),
}

/// The handle the views hold.
#[derive(Clone)]
pub struct Worker {
    tx: mpsc::UnboundedSender<Command>,
    next: Arc<AtomicU64>,
    chain: Arc<ChainCredential>,
}

type Sink = mpsc::UnboundedSender<(RequestId, Response)>;

impl Worker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(config: WorkerConfig) -> (Worker, mpsc::UnboundedReceiver<Envelope>) {
        transport::ensure_crypto_provider();
        let (tx, rx) = mpsc::unbounded_channel();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let chain = ChainCredential::new(config.auth.clone());
        let tenants = config
            .vault_tenants
            .iter()
            .map(|(k, v)| (vault_key(k), v.clone()))
            .collect();
        let clients = Arc::new(Clients {
            config,
            chain: chain.clone(),
            by_vault: Mutex::new(HashMap::new()),
            tenants: Mutex::new(tenants),
            chains: Mutex::new(HashMap::new()),
        });
        tokio::spawn(run(rx, out_tx, clients));
        (
            Worker {
                tx,
                next: Arc::new(AtomicU64::new(1)),
                chain,
            },
            out_rx,
        )
    }

    /// Sends a request; its responses carry the returned id.
    pub fn send(&self, request: Request) -> RequestId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Command::Run(id, request));
        id
    }

    /// Sends a request under an id the caller chose (ids must be unique; `send` never reuses one
    /// below 2^32, so callers allocating their own should start there).
    pub fn send_as(&self, id: RequestId, request: Request) {
        let _ = self.tx.send(Command::Run(id, request));
    }

    /// Stops a request; nothing more is sent for it.
    pub fn cancel(&self, id: RequestId) {
        let _ = self.tx.send(Command::Cancel(id));
    }

    /// The credential that last produced a token, if any.
    pub fn identity(&self) -> Option<&'static str> {
        self.chain.identity()
    }
}

struct Active {
    abort: AbortHandle,
    key: Option<String>,
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Command>,
    out: mpsc::UnboundedSender<Envelope>,
    clients: Arc<Clients>,
) {
    let (inner_tx, mut inner_rx) = mpsc::unbounded_channel::<(RequestId, Response)>();
    let mut active: HashMap<RequestId, Active> = HashMap::new();
    let mut identity: Option<&'static str> = None;
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { break };
                match cmd {
                    Command::Run(id, request) => {
                        let key = request.supersede_key();
                        if let Some(k) = &key {
                            let older: Vec<RequestId> = active
                                .iter()
                                .filter(|(_, a)| a.key.as_ref() == Some(k))
                                .map(|(id, _)| *id)
                                .collect();
                            for o in older {
                                if let Some(a) = active.remove(&o) {
                                    a.abort.abort();
                                }
                            }
                        }
                        tracing::debug!(id, request = request_kind(&request), "request");
                        let task = tokio::spawn(execute(id, request, clients.clone(), inner_tx.clone()));
                        active.insert(id, Active { abort: task.abort_handle(), key });
                    }
                    Command::Cancel(id) => {
                        if let Some(a) = active.remove(&id) {
                            a.abort.abort();
                            tracing::debug!(id, "cancelled");
                        }
                    }
                }
            }
            Some((id, response)) = inner_rx.recv() => {
                if !active.contains_key(&id) {
                    continue;
                }
                if response.is_final() {
                    active.remove(&id);
                }
                let who = clients.chain.identity();
                if who != identity {
                    identity = who;
                    let response = Response::Identity(who.unwrap_or_default().to_string());
                    if out.send(Envelope { id: UNSOLICITED, response }).is_err() {
                        break;
                    }
                }
                if out.send(Envelope { id, response }).is_err() {
                    break;
                }
            }
        }
    }
    for (_, a) in active {
        a.abort.abort();
    }
}

fn request_kind(r: &Request) -> &'static str {
    match r {
        Request::ListSecrets { .. } => "list secrets",
        Request::GetSecret { .. } => "get secret",
        Request::ListVersions { .. } => "list versions",
        Request::SetSecret { .. } | Request::SetSecretWhenFree { .. } => "set secret",
        Request::UpdateProperties { .. } => "update properties",
        Request::Delete { .. } => "delete",
        Request::Recover { .. } => "recover",
        Request::Purge { .. } => "purge",
        Request::ListDeleted { .. } => "list deleted",
        Request::GetDeleted { .. } => "get deleted",
        Request::Backup { .. } => "backup",
        Request::Restore { .. } => "restore",
        Request::Discover => "discover",
    }
}

fn sdk(e: azure_core::Error) -> VaultError {
    VaultError::from_sdk(&e)
}

async fn execute(id: RequestId, request: Request, clients: Arc<Clients>, tx: Sink) {
    let send = |r: Response| {
        let _ = tx.send((id, r));
    };
    if let Request::Discover = request {
        match &clients.config.discovery {
            Some(cfg) => {
                let learn = |r: Response| {
                    if let Response::VaultFound(v) = &r {
                        if let Some(t) = &v.tenant {
                            clients.learn_tenant(&v.url, t);
                        }
                    }
                    send(r);
                };
                discovery::discover(cfg, clients.chain.clone(), learn).await;
            }
            None => send(Response::DiscoveryDone),
        }
        return;
    }
    let result = async {
        let vault = match &request {
            Request::ListSecrets { vault }
            | Request::GetSecret { vault, .. }
            | Request::ListVersions { vault, .. }
            | Request::SetSecret { vault, .. }
            | Request::SetSecretWhenFree { vault, .. }
            | Request::UpdateProperties { vault, .. }
            | Request::Delete { vault, .. }
            | Request::Recover { vault, .. }
            | Request::Purge { vault, .. }
            | Request::ListDeleted { vault }
            | Request::GetDeleted { vault, .. }
            | Request::Backup { vault, .. }
            | Request::Restore { vault, .. } => vault.clone(),
            Request::Discover => String::new(),
        };
        let client = clients.get(&vault)?;
        let poll = clients.config.poll;
        operate(&client, request, poll, &send).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(id, error = %e.summary(), "request failed");
        send(Response::Failed(e));
    }
}

async fn operate(
    client: &SecretClient,
    request: Request,
    poll: PollConfig,
    send: &(impl Fn(Response) + Sync),
) -> Result<(), VaultError> {
    match request {
        Request::ListSecrets { .. } => {
            let mut pages = client
                .list_secret_properties(None)
                .map_err(sdk)?
                .into_pages();
            loop {
                let page = pages.try_next().await.map_err(sdk)?;
                let Some(page) = page else {
                    send(Response::SecretsPage {
                        items: Vec::new(),
                        done: true,
                    });
                    return Ok(());
                };
                let page = page.into_model().map_err(sdk)?;
                let items = page.value.iter().map(SecretProps::from).collect();
                // The SDK knows there is no next page only once it asks; say done on the last one.
                let done = page.next_link.as_deref().is_none_or(str::is_empty);
                send(Response::SecretsPage { items, done });
                if done {
                    return Ok(());
                }
            }
        }
        Request::ListDeleted { .. } => {
            let mut pages = client
                .list_deleted_secret_properties(None)
                .map_err(sdk)?
                .into_pages();
            loop {
                let Some(page) = pages.try_next().await.map_err(sdk)? else {
                    send(Response::DeletedPage {
                        items: Vec::new(),
                        done: true,
                    });
                    return Ok(());
                };
                let page = page.into_model().map_err(sdk)?;
                let items = page.value.iter().map(DeletedProps::from).collect();
                let done = page.next_link.as_deref().is_none_or(str::is_empty);
                send(Response::DeletedPage { items, done });
                if done {
                    return Ok(());
                }
            }
        }
        Request::GetSecret { name, version, .. } => {
            let opts = SecretClientGetSecretOptions {
                secret_version: version,
                ..Default::default()
            };
            let mut secret = client
                .get_secret(&name, Some(opts))
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            let value = take_value(&mut secret);
            send(Response::Value {
                props: SecretProps::from(&secret),
                value,
            });
            Ok(())
        }
        Request::ListVersions { name, .. } => {
            let mut versions: Vec<SecretProps> = client
                .list_secret_properties_versions(&name, None)
                .map_err(sdk)?
                .map_ok(|p| SecretProps::from(&p))
                .try_collect()
                .await
                .map_err(sdk)?;
            // The service orders versions by id; people think newest first.
            versions.sort_by(|a, b| {
                b.created
                    .cmp(&a.created)
                    .then_with(|| b.updated.cmp(&a.updated))
            });
            send(Response::Versions(versions));
            Ok(())
        }
        Request::SetSecretWhenFree { name, secret, .. } => {
            let saved = poll_until(poll, Phase::WaitingForName, send, || async {
                match set_secret(client, &name, &secret).await {
                    Ok(p) => Ok(Some(p)),
                    Err(e) if e.kind == ErrorKind::BeingDeleted => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await?;
            send(Response::Saved(saved));
            Ok(())
        }
        Request::SetSecret { name, secret, .. } => {
            send(Response::Saved(set_secret(client, &name, &secret).await?));
            Ok(())
        }
        Request::UpdateProperties {
            name,
            version,
            patch,
            ..
        } => {
            let attributes =
                (patch.enabled.is_some() || patch.not_before.is_some() || patch.expires.is_some())
                    .then(|| SecretAttributes {
                        enabled: patch.enabled,
                        not_before: patch.not_before,
                        expires: patch.expires,
                        ..Default::default()
                    });
            let params = UpdateSecretPropertiesParameters {
                content_type: patch.content_type.clone(),
                tags: patch.tags.clone().map(|t| t.into_iter().collect()),
                secret_attributes: attributes,
            };
            let opts = SecretClientUpdateSecretPropertiesOptions {
                secret_version: version,
                ..Default::default()
            };
            let body = params.try_into().map_err(sdk)?;
            let saved = client
                .update_secret_properties(&name, body, Some(opts))
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            send(Response::Saved(SecretProps::from(&saved)));
            Ok(())
        }
        Request::Delete { name, .. } => {
            let deleted = client
                .delete_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            let deleted = DeletedProps::from(&deleted);
            if deleted.recovery_id.is_none() {
                // No soft delete on this vault: the secret is gone, nothing to wait for.
                send(Response::Deleted(deleted));
                return Ok(());
            }
            let done = poll_until(poll, Phase::WaitingForDeletion, send, || async {
                match client.get_deleted_secret(&name, None).await {
                    Ok(r) => Ok(Some(r.into_model().map(|d| DeletedProps::from(&d)).ok())),
                    Err(e) => match VaultError::from_sdk(&e).kind {
                        ErrorKind::NotFound => Ok(None),
                        // 403: no permission to read deleted secrets; the delete itself is done.
                        ErrorKind::Forbidden => Ok(Some(None)),
                        _ => Err(sdk(e)),
                    },
                }
            })
            .await?;
            send(Response::Deleted(done.unwrap_or(deleted)));
            Ok(())
        }
        Request::Recover { name, .. } => {
            let recovered = client
                .recover_deleted_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            let recovered = SecretProps::from(&recovered);
            poll_until(poll, Phase::WaitingForRecovery, send, || async {
                match client.get_secret(&name, None).await {
                    Ok(r) => {
                        if let Ok(mut s) = r.into_model() {
                            drop(take_value(&mut s));
                        }
                        Ok(Some(()))
                    }
                    Err(e) => match VaultError::from_sdk(&e).kind {
                        ErrorKind::NotFound => Ok(None),
                        // A disabled secret answers 403 once it is back: recovered.
                        ErrorKind::Disabled | ErrorKind::Forbidden => Ok(Some(())),
                        _ => Err(sdk(e)),
                    },
                }
            })
            .await?;
            send(Response::Saved(recovered));
            Ok(())
        }
        Request::Purge { name, .. } => {
            poll_until(poll, Phase::WaitingToPurge, send, || async {
                match client.purge_deleted_secret(&name, None).await {
                    Ok(_) => Ok(Some(())),
                    Err(e) => {
                        let err = VaultError::from_sdk(&e);
                        if err.kind == ErrorKind::BeingDeleted {
                            Ok(None)
                        } else {
                            Err(err)
                        }
                    }
                }
            })
            .await?;
            send(Response::Purged { name });
            Ok(())
        }
        Request::GetDeleted { name, .. } => {
            let d = client
                .get_deleted_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            send(Response::DeletedInfo(DeletedProps::from(&d)));
            Ok(())
        }
        Request::Backup { name, path, .. } => {
            let blob = client
                .backup_secret(&name, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?
                .value
                .unwrap_or_default();
            let bytes = blob.len();
            let write_path = path.clone();
            tokio::task::spawn_blocking(move || {
                crate::paths::write_private_atomic(&write_path, &blob)
            })
            .await
            .map_err(|e| VaultError::new(ErrorKind::Other, e.to_string()))?
            .map_err(|e| {
                VaultError::new(ErrorKind::Other, format!("writing {}: {e}", path.display()))
            })?;
            send(Response::BackedUp { path, bytes });
            Ok(())
        }
        Request::Restore { path, .. } => {
            let blob = tokio::fs::read(&path).await.map_err(|e| {
                VaultError::new(ErrorKind::Other, format!("reading {}: {e}", path.display()))
            })?;
            let params = RestoreSecretParameters {
                secret_backup: Some(blob),
            };
            let body = params.try_into().map_err(sdk)?;
            let restored = client
                .restore_secret(body, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            send(Response::Saved(SecretProps::from(&restored)));
            Ok(())
        }
        Request::Discover => Ok(()),
    }
}

async fn set_secret(
    client: &SecretClient,
    name: &str,
    secret: &NewSecret,
) -> Result<SecretProps, VaultError> {
    {
        {
            let params = SetSecretParameters {
                value: Some(secret.value.expose().to_string()),
                content_type: secret.content_type.clone(),
                tags: (!secret.tags.is_empty()).then(|| secret.tags.clone().into_iter().collect()),
                secret_attributes: Some(SecretAttributes {
                    enabled: Some(secret.enabled),
                    not_before: secret.not_before,
                    expires: secret.expires,
                    ..Default::default()
                }),
            };
            let body = params.try_into().map_err(sdk)?;
            let mut saved = client
                .set_secret(name, body, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            // The PUT answer echoes the value: drop it at once.
            drop(take_value(&mut saved));
            Ok(SecretProps::from(&saved))
        }
    }
}

/// Calls `attempt` until it returns `Some`, sending `Progress` before each wait; the interval grows
/// from `poll.initial` to `poll.max`; gives up with a Timeout error after `poll.timeout`.
async fn poll_until<T, F, Fut>(
    poll: PollConfig,
    phase: Phase,
    send: &(impl Fn(Response) + Sync),
    mut attempt: F,
) -> Result<T, VaultError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, VaultError>>,
{
    let start = Instant::now();
    let mut interval = poll.initial;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        if let Some(v) = attempt().await? {
            return Ok(v);
        }
        let elapsed = start.elapsed();
        if elapsed >= poll.timeout {
            return Err(VaultError::new(
                ErrorKind::Timeout,
                format!(
                    "gave up after {} s and {attempts} attempts ({phase:?})",
                    elapsed.as_secs()
                ),
            ));
        }
        send(Response::Progress(Progress {
            elapsed,
            attempts,
            phase,
        }));
        tokio::time::sleep(interval.min(poll.timeout.saturating_sub(elapsed))).await;
        interval = (interval * 3 / 2).min(poll.max);
    }
}
