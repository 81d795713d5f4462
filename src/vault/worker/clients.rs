//! One `SecretClient` per vault, kept for as long as the worker runs, and the credential chain of
//! each vault's tenant.

use super::*;

/// Builds and keeps one client per vault.
pub(super) struct Clients {
    pub(super) config: WorkerConfig,
    pub(super) chain: Arc<ChainCredential>,
    pub(super) by_vault: Mutex<HashMap<String, Arc<SecretClient>>>,
    /// Vault URL → tenant, from the config and from discovery.
    pub(super) tenants: Mutex<HashMap<String, String>>,
    /// One chain per tenant other than the default.
    pub(super) chains: Mutex<HashMap<String, Arc<ChainCredential>>>,
}

pub(super) fn vault_key(url: &str) -> String {
    url.trim_end_matches('/').to_ascii_lowercase()
}

impl Clients {
    /// The chain for a vault: the one of its tenant when it has one (config or discovery).
    pub(super) fn chain_for(&self, vault: &str) -> Arc<ChainCredential> {
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

    pub(super) fn learn_tenant(&self, vault: &str, tenant: &str) {
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(vault_key(vault))
            .or_insert_with(|| tenant.to_string());
    }
}

impl Clients {
    pub(super) fn get(&self, vault: &str) -> Result<Arc<SecretClient>, VaultError> {
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
            && self.config.auth.mode == crate::vault::credential::AuthMode::Auto
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
