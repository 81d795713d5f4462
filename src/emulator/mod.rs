//! The local vault: a Key Vault-compatible HTTPS server for the secrets API (`kvtui emulator`, and
//! in-process for the demo and the tests), with the identity and discovery endpoints apps use around
//! it. See README.md for how to point SDKs at it.

pub mod access;
pub mod api;
pub mod arm;
pub mod backup;
pub mod entra;
pub mod faults;
pub mod identity;
pub mod persist;
pub mod ready;
pub(crate) mod server;
pub use server::MAX_CONNECTIONS;
pub mod store;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use api::Service;
use api::ServiceOptions;
pub use arm::ArmConfig;
use backup::BackupKey;
pub use faults::FaultConfig;
pub use identity::Clients;
use identity::{ManagedIdentity, TokenIssuer};
use persist::DataFile;
pub use store::VaultPolicy;
use tls::Ca;

/// Where the CA, the backup key and the token key live.
#[derive(Clone, Debug)]
pub enum KeyStore {
    /// Kept in this directory and reused across restarts (`kvtui emulator`).
    Dir(PathBuf),
    /// Made anew in memory (the demo and tests); nothing is written.
    Memory,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: Vec<IpAddr>,
    /// 0 picks a free port.
    pub port: u16,
    pub vaults: Vec<String>,
    pub policy: VaultPolicy,
    pub keys: KeyStore,
    /// The managed-identity endpoint's port (0: a free one); `None`: no endpoint.
    pub identity_port: Option<u16>,
    pub clients: Clients,
    pub arm: ArmConfig,
    pub faults: FaultConfig,
    /// Durable state (`--data`).
    pub data: Option<PathBuf>,
    /// Initial state when there is no data yet (`--seed`).
    pub seed: Option<PathBuf>,
    /// Extra certificate names (`--tls-name`), e.g. `*.vault.azure.net`.
    pub tls_names: Vec<String>,
    /// Accept only tokens this instance issued. Always on when listening beyond loopback.
    pub require_issued_tokens: bool,
    /// RBAC grants, access policies, the firewall and public network access.
    pub access: access::AccessConfig,
    /// Users the login.localhost endpoint signs in (password grant).
    pub users: identity::Users,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            port: 8443,
            vaults: vec!["demo".into()],
            policy: VaultPolicy::default(),
            keys: KeyStore::Memory,
            identity_port: None,
            clients: Clients::default(),
            arm: ArmConfig::default(),
            faults: FaultConfig::default(),
            data: None,
            seed: None,
            tls_names: Vec::new(),
            require_issued_tokens: false,
            access: access::AccessConfig::default(),
            users: identity::Users::default(),
        }
    }
}

/// A vault name must be a DNS label: it is the first label of `{vault}.localhost`. `login` and
/// `management` are the identity and discovery hosts.
pub fn is_valid_vault_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !["login", "management"].contains(&name.to_ascii_lowercase().as_str())
}

/// The managed-identity endpoint, as apps find it (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`).
#[derive(Clone, Debug)]
pub struct IdentityEndpoint {
    pub port: u16,
    pub endpoint: String,
    pub header: String,
    /// The identity's client id (what `--grant` names).
    pub client_id: String,
}

/// A running local vault. Dropping it stops the server.
pub struct Emulator {
    pub port: u16,
    pub addrs: Vec<SocketAddr>,
    pub ca_pem: String,
    /// The CA file, when the CA lives on disk.
    pub ca_path: Option<PathBuf>,
    pub identity: Option<IdentityEndpoint>,
    pub tenant: String,
    /// Every tenant (the home one first).
    pub tenants: Vec<String>,
    pub data: Option<PathBuf>,
    service: Arc<Service>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

fn key_bytes(keys: &KeyStore, file: &str) -> Result<Vec<u8>> {
    let fresh = || {
        BackupKey::generate_bytes()
            .map(|b| b.to_vec())
            .context("no randomness for a key")
    };
    let KeyStore::Dir(dir) = keys else {
        return fresh();
    };
    let path = dir.join(file);
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() != 32 {
            bail!(
                "{} is not a 32-byte key; delete it to make a new one",
                path.display()
            );
        }
        return Ok(bytes);
    }
    crate::paths::create_private_dir(dir)?;
    let bytes = fresh()?;
    crate::paths::write_private_atomic(&path, &bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(bytes)
}

async fn bind(listen: &[IpAddr], port: u16) -> Result<(Vec<TcpListener>, u16)> {
    let mut listeners = Vec::new();
    let mut port = port;
    for ip in listen {
        let addr = SocketAddr::new(*ip, port);
        match TcpListener::bind(addr).await {
            Ok(l) => {
                port = l.local_addr().map(|a| a.port()).unwrap_or(port);
                listeners.push(l);
            }
            // ::1 is missing on hosts without IPv6; the IPv4 loopback is enough then.
            Err(_) if ip.is_ipv6() && ip.is_loopback() && !listeners.is_empty() => {}
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => bail!(
                "port {port} on {ip} is already in use: stop the other server, or pick another port with --port N (--port 0 picks a free one)"
            ),
            Err(e) => return Err(e).with_context(|| format!("listening on {addr}")),
        }
    }
    if listeners.is_empty() {
        bail!("no address to listen on");
    }
    Ok((listeners, port))
}

/// Seed entries (only when there is no data yet) followed by the data file's.
fn initial_entries(data: Option<&Path>, seed: Option<&Path>) -> Result<Vec<persist::Entry>> {
    let data_has_state = data.is_some_and(|d| std::fs::metadata(d).is_ok_and(|m| m.len() > 0));
    let mut entries = Vec::new();
    if let (Some(seed), false) = (seed, data_has_state) {
        entries.extend(persist::read_entries(seed)?);
    }
    if let (Some(d), true) = (data, data_has_state) {
        entries.extend(persist::read_entries(d)?);
    }
    Ok(entries)
}

impl Emulator {
    /// The token issuer (tests mint tokens of any audience with it).
    pub fn issuer(&self) -> &Arc<TokenIssuer> {
        self.service.issuer()
    }

    pub async fn start(config: Config) -> Result<Self> {
        for v in &config.vaults {
            if !is_valid_vault_name(v) {
                bail!("'{v}' is not a valid vault name: use letters, digits and hyphens, starting with a letter ('login' and 'management' are taken)");
            }
        }
        let r = config.policy.recoverable_days;
        if r != 0 && !(7..=90).contains(&r) {
            bail!("--recoverable-days must be 0 (soft delete off) or from 7 to 90, not {r}");
        }
        let entries = initial_entries(config.data.as_deref(), config.seed.as_deref())?;
        // Vaults named in the data or seed are served too.
        let mut vaults = config.vaults.clone();
        for e in &entries {
            if !vaults.iter().any(|v| v.eq_ignore_ascii_case(&e.vault)) {
                if !is_valid_vault_name(&e.vault) {
                    bail!(
                        "the data names a vault '{}', which is not a valid vault name",
                        e.vault
                    );
                }
                vaults.push(e.vault.clone());
            }
        }
        if vaults.is_empty() {
            bail!("no vault to serve: give at least one --vault NAME");
        }
        for (name, _) in &config.arm.vault_tenants {
            if !vaults.iter().any(|v| v.eq_ignore_ascii_case(name)) {
                bail!("--vault-tenant names '{name}', which is not a vault here (give it with --vault {name})");
            }
        }

        let ca = match &config.keys {
            KeyStore::Memory => Ca::ephemeral(&config.tls_names)?,
            KeyStore::Dir(dir) => Ca::load_or_create(dir, &config.tls_names)?,
        };
        let backup_bytes = key_bytes(&config.keys, "backup.key")?;
        let backup_key = backup_bytes
            .as_slice()
            .try_into()
            .ok()
            .and_then(|b: [u8; 32]| BackupKey::from_bytes(&b))
            .context("making the backup key")?;
        let issuer = Arc::new(TokenIssuer::new(
            &key_bytes(&config.keys, "token.key")?,
            api::LOCAL_TENANT,
        ));

        let mut names: Vec<String> = vaults.iter().map(|v| format!("{v}.localhost")).collect();
        names.extend(config.tls_names.iter().cloned());
        let ca_pem = ca.pem().to_string();
        let ca_path = ca.path.clone();
        let tls = ca.server_config(&names)?;
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let (listeners, port) = bind(&config.listen, config.port).await?;
        let data = config.data.clone();
        let policies: Vec<(String, VaultPolicy)> = vaults
            .iter()
            .map(|v| (v.clone(), config.policy.clone()))
            .collect();
        // The data file is rewritten compacted (one line per name) and kept open.
        let mut options = ServiceOptions::new(issuer.clone());
        options.strict_tokens =
            config.require_issued_tokens || config.listen.iter().any(|a| !a.is_loopback());
        options.clients = config.clients.clone();
        // Beyond loopback the token endpoint issues tokens only to known clients.
        options.clients.1 = config.listen.iter().any(|a| !a.is_loopback());
        options.arm = config.arm.clone();
        options.faults = config.faults.clone();
        config
            .access
            .validate(&vaults)
            .map_err(|e| anyhow::anyhow!(e))?;
        options.access = config.access.clone();
        options.users = config.users.clone();
        let compacted = persist::compact(entries);
        if let Some(path) = &data {
            options.data = Some(DataFile::create_compacted(path, &compacted)?);
        }
        let service = Arc::new(Service::new(&policies, backup_key, options));
        service.load(compacted);
        service.set_port(port);

        let (shutdown, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut addrs = Vec::new();
        for l in listeners {
            if let Ok(a) = l.local_addr() {
                addrs.push(a);
            }
            tasks.spawn(server::serve(
                l,
                acceptor.clone(),
                service.clone(),
                rx.clone(),
            ));
        }
        let identity = match config.identity_port {
            None => None,
            Some(p) => {
                let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, p))
                    .await
                    .with_context(|| {
                        format!("listening for the managed-identity endpoint on 127.0.0.1:{p}")
                    })?;
                let port = listener.local_addr().context("identity port")?.port();
                let mi = Arc::new(ManagedIdentity::new(issuer.clone()));
                let info = IdentityEndpoint {
                    port,
                    endpoint: format!("http://127.0.0.1:{port}/msi/token"),
                    header: mi.header_secret.clone(),
                    client_id: mi.client_id.clone(),
                };
                tasks.spawn(identity::serve_managed_identity(listener, mi, rx.clone()));
                Some(info)
            }
        };
        Ok(Self {
            port,
            addrs,
            ca_pem,
            ca_path,
            identity,
            tenant: api::LOCAL_TENANT.to_string(),
            tenants: config.arm.all_tenants(),
            data,
            service,
            shutdown,
            tasks,
        })
    }

    /// `https://{vault}.localhost:{port}`.
    pub fn vault_url(&self, vault: &str) -> String {
        format!(
            "https://{}.localhost:{}",
            vault.to_ascii_lowercase(),
            self.port
        )
    }

    /// The Entra endpoint's authority host (`AZURE_AUTHORITY_HOST`).
    pub fn authority_host(&self) -> String {
        format!("https://{}:{}", api::LOGIN_HOST, self.port)
    }

    /// The Resource Manager endpoint.
    pub fn management_endpoint(&self) -> String {
        format!("https://{}:{}", api::MANAGEMENT_HOST, self.port)
    }

    pub fn vaults(&self) -> Vec<(String, String)> {
        self.service
            .vault_names()
            .iter()
            .map(|v| (v.clone(), self.vault_url(v)))
            .collect()
    }

    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Stops accepting, closes every connection, and waits for the server tasks to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.tasks.abort_all();
    }
}
