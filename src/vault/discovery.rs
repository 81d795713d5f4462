//! Vault discovery through Resource Manager: the subscriptions the identity can see, then the Key
//! Vaults in each (following `nextLink`). A subscription that fails is a warning, never a blocker:
//! many users have vault-level access only.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use serde_json::Value;

use super::error::cause_chain;
use super::transport::LocalTokenCredential;
use super::worker::Response;

#[derive(Clone)]
pub struct DiscoveryConfig {
    /// e.g. `https://management.azure.com` (or the local vault's `https://management.localhost:PORT`).
    pub arm_endpoint: String,
    pub http: reqwest::Client,
    /// Use the local token (local endpoints under `auto` with no other credential source).
    pub local_token: bool,
}

/// A vault found through Resource Manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredVault {
    pub name: String,
    pub url: String,
    pub subscription_id: String,
    pub subscription_name: Option<String>,
    pub location: Option<String>,
    pub tenant: Option<String>,
    /// `/subscriptions/…/resourceGroups/…/providers/Microsoft.KeyVault/vaults/NAME`: the scope a
    /// role assignment names.
    pub resource_id: Option<String>,
}

const SUBSCRIPTIONS_API: &str = "2022-12-01";
const VAULTS_API: &str = "2023-07-01";

async fn get_all(cfg: &DiscoveryConfig, token: &str, first: String) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > 1000 {
            return Err("more than 1,000 pages: stopped".into());
        }
        let resp = cfg
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| cause_chain(&e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| cause_chain(&e))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let code = body["error"]["code"].as_str().unwrap_or("error");
            let message = body["error"]["message"].as_str().unwrap_or(text.as_str());
            return Err(format!("{status} {code}: {message}"));
        }
        if let Some(items) = body["value"].as_array() {
            out.extend(items.iter().cloned());
        }
        next = body["nextLink"]
            .as_str()
            .filter(|l| !l.is_empty())
            .map(str::to_string);
    }
    Ok(out)
}

/// Streams what it finds through `emit` (`VaultFound`, `DiscoveryWarning`), then `DiscoveryDone`.
pub async fn discover(
    cfg: &DiscoveryConfig,
    chain: Arc<dyn TokenCredential>,
    emit: impl Fn(Response),
) {
    let base = cfg.arm_endpoint.trim_end_matches('/').to_string();
    let scope = format!("{base}/.default");
    let credential: Arc<dyn TokenCredential> = if cfg.local_token {
        Arc::new(LocalTokenCredential)
    } else {
        chain
    };
    let token = match credential.get_token(&[scope.as_str()], None).await {
        Ok(t) => t,
        Err(e) => {
            emit(Response::DiscoveryWarning(format!(
                "vault discovery skipped: {}",
                cause_chain(&e)
            )));
            emit(Response::DiscoveryDone);
            return;
        }
    };
    let token = token.token.secret().to_string();
    let subs = match get_all(
        cfg,
        &token,
        format!("{base}/subscriptions?api-version={SUBSCRIPTIONS_API}"),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            emit(Response::DiscoveryWarning(format!(
                "listing subscriptions failed: {e}"
            )));
            emit(Response::DiscoveryDone);
            return;
        }
    };
    for sub in subs {
        let Some(id) = sub["subscriptionId"].as_str() else {
            continue;
        };
        let sub_name = sub["displayName"].as_str().map(str::to_string);
        let url = format!("{base}/subscriptions/{id}/providers/Microsoft.KeyVault/vaults?api-version={VAULTS_API}");
        match get_all(cfg, &token, url).await {
            Ok(vaults) => {
                for v in vaults {
                    let (Some(name), Some(uri)) =
                        (v["name"].as_str(), v["properties"]["vaultUri"].as_str())
                    else {
                        continue;
                    };
                    emit(Response::VaultFound(DiscoveredVault {
                        resource_id: v["id"].as_str().map(str::to_string),
                        name: name.to_string(),
                        url: uri.trim_end_matches('/').to_string(),
                        subscription_id: id.to_string(),
                        subscription_name: sub_name.clone(),
                        location: v["location"].as_str().map(str::to_string),
                        tenant: v["properties"]["tenantId"]
                            .as_str()
                            .or(sub["tenantId"].as_str())
                            .map(str::to_string),
                    }));
                }
            }
            Err(e) => emit(Response::DiscoveryWarning(format!(
                "subscription {}: {e}",
                sub_name.as_deref().unwrap_or(id)
            ))),
        }
    }
    emit(Response::DiscoveryDone);
}
