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

mod clients;
mod execute;
mod poll;
mod transfer;

use clients::*;
use execute::*;
use poll::*;
use transfer::*;

pub type RequestId = u64;

/// What the views ask for. `vault` is the vault's URL.
#[derive(Clone, Debug)]
pub enum Request {
    ListSecrets {
        vault: String,
    },
    /// The names cache's rows of a vault, read (and parsed) off the UI thread.
    ReadNamesCache {
        cache: crate::cache::NamesCache,
        who: String,
        vault: String,
    },
    /// A listing for a view across vaults: as `ListSecrets`, but it supersedes nothing (the open
    /// vault's own listing runs beside it).
    ScanSecrets {
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
        /// Replace an existing file (the user said so); otherwise an existing file is refused.
        overwrite: bool,
    },
    Restore {
        vault: String,
        path: PathBuf,
    },
    Discover,
    /// A keyed hash of a secret's value (the value never leaves the worker), with its properties:
    /// comparing two vaults.
    Fingerprint {
        vault: String,
        name: String,
    },
    /// Writes `NAME=value` lines of these secrets to a new 0600 file (`:export-env`, confirmed by
    /// typing the vault's name): the values go from the service to the file, not through the views.
    ExportEnv {
        vault: String,
        names: Vec<String>,
        path: PathBuf,
    },
    /// Copies a secret's current value and properties (content type, tags, enabled, not-before,
    /// expiry) from one vault to another, recovering a deleted one on the target first: promote.
    Copy {
        from: String,
        to: String,
        name: String,
        recover_first: bool,
    },
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
    /// The names cache's rows (`None`: nothing cached for this vault and identity).
    CachedNames(Option<crate::cache::Cached>),
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
    /// `:export-env` wrote this many values.
    ExportedEnv {
        path: PathBuf,
        count: usize,
    },
    Progress(Progress),
    VaultFound(DiscoveredVault),
    DiscoveryWarning(String),
    /// What discovery found, in one line (before `DiscoveryDone`).
    DiscoverySummary {
        text: String,
        failures: usize,
    },
    DiscoveryDone,
    /// The vault's challenge named another tenant than the credential had used: the request is
    /// being retried with a credential for it.
    TenantLearned {
        vault: String,
        tenant: String,
    },
    /// A value's keyed hash (this worker's key) and the secret's properties.
    Fingerprint {
        props: SecretProps,
        hash: [u8; 32],
    },
    /// Who kvtui is signed in as changed (sent under id 0, before the response that used the token).
    Identity(crate::vault::credential::Identity),
    Failed(VaultError),
}

/// The id under which the worker reports what no request asked for (the identity).
pub const UNSOLICITED: RequestId = 0;

impl Response {
    /// The last response of its request.
    pub fn is_final(&self) -> bool {
        match self {
            Response::SecretsPage { done, .. } | Response::DeletedPage { done, .. } => *done,
            Response::Progress(_)
            | Response::VaultFound(_)
            | Response::DiscoveryWarning(_)
            | Response::DiscoverySummary { .. }
            | Response::TenantLearned { .. } => false,
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
            fingerprint_key: fingerprint_key(),
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

    /// Who the last token says kvtui is.
    pub fn who(&self) -> Option<crate::vault::credential::Identity> {
        self.chain.who()
    }
}

/// A key for this worker's value fingerprints: random, never stored.
fn fingerprint_key() -> ring::hmac::Key {
    use ring::rand::SecureRandom;
    let mut k = [0u8; 32];
    let _ = ring::rand::SystemRandom::new().fill(&mut k);
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &k)
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
    let mut identity: Option<crate::vault::credential::Identity> = None;
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
                let who = clients.chain.who();
                if who.is_some() && who != identity {
                    identity = who.clone();
                    if let Some(who) = who {
                        let response = Response::Identity(who);
                        if out.send(Envelope { id: UNSOLICITED, response }).is_err() {
                            break;
                        }
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
        Request::ReadNamesCache { .. } => "read the names cache",
        Request::ScanSecrets { .. } => "list secrets (across vaults)",
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
        Request::Fingerprint { .. } => "fingerprint",
        Request::ExportEnv { .. } => "export env",
        Request::Copy { .. } => "copy across vaults",
    }
}
