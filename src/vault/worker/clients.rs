//! One `SecretClient` per vault, kept for as long as the worker runs, and the credential chain of
//! each vault's tenant.

use super::*;

/// Builds and keeps one client per vault.
pub(super) struct Clients {
    pub(super) config: WorkerConfig,
    pub(super) chain: Arc<ChainCredential>,
    pub(super) by_vault: Mutex<HashMap<String, Arc<SecretClient>>>,
    /// Keys the value fingerprints of this session.
    pub(super) fingerprint_key: ring::hmac::Key,
    /// Vault URL → tenant, from the config and from discovery.
    pub(super) tenants: Mutex<HashMap<String, String>>,
    /// One chain per tenant other than the default.
    pub(super) chains: Mutex<HashMap<String, Arc<ChainCredential>>>,
}

pub(super) fn vault_key(url: &str) -> String {
    url.trim_end_matches('/').to_ascii_lowercase()
}

impl Clients {
    /// The tenant known for a vault (config, discovery or its challenge).
    pub(super) fn known_tenant(&self, vault: &str) -> Option<String> {
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&vault_key(vault))
            .cloned()
    }

    /// The credential for a vault: the default chain, or — when the vault's tenant is known and is
    /// not the one configured — one that asks for that tenant only when the default chain's token is
    /// for another (so an `az` that refuses `--tenant`, as Cloud Shell's does, is used as it is).
    pub(super) fn chain_for(&self, vault: &str) -> Arc<dyn TokenCredential> {
        match self.known_tenant(vault) {
            Some(t) if self.config.auth.tenant.as_deref() != Some(t.as_str()) => {
                self.tenant_credential(&t)
            }
            _ => self.chain.clone(),
        }
    }

    /// A credential for `tenant`: the default chain when its token is for that tenant, else the
    /// chain asked for the tenant (one per tenant, kept).
    pub(super) fn tenant_credential(&self, tenant: &str) -> Arc<dyn TokenCredential> {
        let other = self
            .chains
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tenant.to_ascii_lowercase())
            .or_insert_with(|| {
                let mut auth = self.config.auth.clone();
                auth.tenant = Some(tenant.to_string());
                ChainCredential::new(auth)
            })
            .clone();
        Arc::new(crate::vault::credential::TenantCredential {
            default: self.chain.clone(),
            tenant: tenant.to_string(),
            other,
        })
    }

    /// A tenant from discovery or the config: kept unless one is known already.
    pub(super) fn learn_tenant(&self, vault: &str, tenant: &str) {
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(vault_key(vault))
            .or_insert_with(|| tenant.to_string());
    }

    /// The tenant a vault's 401 challenge names. True when it is news — not the tenant the vault's
    /// credential already asked for — so a retry with a credential for it can help; the vault's
    /// client is then rebuilt.
    pub(super) fn learn_from_challenge(&self, vault: &str, tenant: &str) -> bool {
        let used = self.known_tenant(vault).or_else(|| {
            if self.is_local_default(vault) {
                // The local vault takes its fixed token as one of its home tenant.
                return Some(crate::emulator::api::LOCAL_TENANT.to_string());
            }
            // The default chain's own tenant, when no tenant was asked for.
            self.config
                .auth
                .tenant
                .clone()
                .or_else(|| self.chain.who().and_then(|w| w.tid))
        });
        if used.is_some_and(|u| u.eq_ignore_ascii_case(tenant)) {
            return false;
        }
        self.tenants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(vault_key(vault), tenant.to_string());
        self.by_vault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&vault_key(vault));
        true
    }

    /// A `*.localhost` vault with no credential configured: the local vault's own tokens.
    fn is_local_default(&self, vault: &str) -> bool {
        self.config.auth.uses_local_tokens(vault)
    }
}

impl Clients {
    /// Drops a vault's client: the next request gets a fresh connection. Done after a request that
    /// carried a value, so the connection's buffers that held it in plain text (TLS records, HTTP/2
    /// frames) are freed — and wiped by kvtui's allocator — instead of kept for reuse.
    pub(super) fn forget(&self, vault: &str) {
        self.by_vault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&vault_key(vault));
    }

    pub(super) fn get(&self, vault: &str) -> Result<Arc<SecretClient>, VaultError> {
        let key = vault_key(vault);
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
        let credential: Arc<dyn TokenCredential> = if self.is_local_default(vault) {
            match self.known_tenant(vault) {
                Some(t) => Arc::new(transport::LocalTenantCredential::new(
                    vault,
                    &t,
                    http.clone(),
                )),
                None => Arc::new(transport::LocalTokenCredential),
            }
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
