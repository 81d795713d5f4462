//! The local vault: a Key Vault-compatible HTTPS server for the secrets API (`kvtui emulator`, and
//! in-process for the demo and the tests). See README.md for how to point SDKs at it.

pub mod api;
pub mod backup;
mod server;
pub mod store;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use api::Service;
use backup::BackupKey;
pub use store::VaultPolicy;
use tls::Ca;

/// Where the CA and the backup key live.
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
        }
    }
}

/// A vault name must be a DNS label: it is the first label of `{vault}.localhost`.
pub fn is_valid_vault_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A running local vault. Dropping it stops the server.
pub struct Emulator {
    pub port: u16,
    pub addrs: Vec<SocketAddr>,
    pub ca_pem: String,
    /// The CA file, when the CA lives on disk.
    pub ca_path: Option<PathBuf>,
    service: Arc<Service>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Emulator {
    pub async fn start(config: Config) -> Result<Self> {
        for v in &config.vaults {
            if !is_valid_vault_name(v) {
                bail!("'{v}' is not a valid vault name: use letters, digits and hyphens, starting with a letter");
            }
        }
        if config.vaults.is_empty() {
            bail!("no vault to serve: give at least one --vault NAME");
        }
        let r = config.policy.recoverable_days;
        if r != 0 && !(7..=90).contains(&r) {
            bail!("--recoverable-days must be 0 (soft delete off) or from 7 to 90, not {r}");
        }
        let (ca, backup_key) = match &config.keys {
            KeyStore::Memory => (Ca::ephemeral()?, Self::memory_backup_key()?),
            KeyStore::Dir(dir) => (Ca::load_or_create(dir)?, Self::stored_backup_key(dir)?),
        };
        let names: Vec<String> = config
            .vaults
            .iter()
            .map(|v| format!("{v}.localhost"))
            .collect();
        let ca_pem = ca.pem().to_string();
        let ca_path = ca.path.clone();
        let tls = ca.server_config(&names)?;
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let policies: Vec<(String, VaultPolicy)> = config
            .vaults
            .iter()
            .map(|v| (v.clone(), config.policy.clone()))
            .collect();
        let service = Arc::new(Service::new(&policies, backup_key));

        let mut listeners = Vec::new();
        let mut port = config.port;
        for ip in &config.listen {
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
        Ok(Self {
            port,
            addrs,
            ca_pem,
            ca_path,
            service,
            shutdown,
            tasks,
        })
    }

    fn memory_backup_key() -> Result<BackupKey> {
        let bytes = BackupKey::generate_bytes().context("no randomness for the backup key")?;
        BackupKey::from_bytes(&bytes).context("making the backup key")
    }

    fn stored_backup_key(dir: &std::path::Path) -> Result<BackupKey> {
        let path = dir.join("backup.key");
        if let Ok(bytes) = std::fs::read(&path) {
            let arr: [u8; 32] = bytes.as_slice().try_into().with_context(|| {
                format!("{} is not a 32-byte key; delete it to make a new one (old backups will no longer restore)", path.display())
            })?;
            return BackupKey::from_bytes(&arr).context("loading the backup key");
        }
        crate::paths::create_private_dir(dir)?;
        let bytes = BackupKey::generate_bytes().context("no randomness for the backup key")?;
        crate::paths::write_private_atomic(&path, bytes.as_ref())
            .with_context(|| format!("writing {}", path.display()))?;
        BackupKey::from_bytes(&bytes).context("making the backup key")
    }

    /// `https://{vault}.localhost:{port}`.
    pub fn vault_url(&self, vault: &str) -> String {
        format!(
            "https://{}.localhost:{}",
            vault.to_ascii_lowercase(),
            self.port
        )
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
