//! Vault discovery through Resource Manager: every tenant the identity can reach (`/tenants`), the
//! subscriptions of each with that tenant's token, then the Key Vaults in each subscription, listed
//! concurrently (at most [`CONCURRENCY`] at a time) and streamed as they are found. Throttling (429)
//! and server errors (5xx) are retried, honouring `Retry-After`; Disabled subscriptions are skipped.
//! A tenant or subscription that fails is a logged warning, never a blocker (many users have
//! vault-level access only), and the run ends with one summary line.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use futures::StreamExt;
use serde_json::Value;

use super::error::cause_chain;
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
    /// The tenant's display name (from `/tenants`), to group vaults by.
    pub tenant_name: Option<String>,
    /// `/subscriptions/…/resourceGroups/…/providers/Microsoft.KeyVault/vaults/NAME`: the scope a
    /// role assignment names.
    pub resource_id: Option<String>,
}

const TENANTS_API: &str = "2022-12-01";
const SUBSCRIPTIONS_API: &str = "2022-12-01";
const VAULTS_API: &str = "2023-07-01";
/// Subscriptions listed at once.
pub const CONCURRENCY: usize = 8;
/// Retries of one page on 429 or 5xx (then the subscription is reported as failed).
const RETRIES: u32 = 6;
/// The longest `Retry-After` honoured.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// One page, retried on throttling and server errors: the body, or the error as one line.
async fn get_page(cfg: &DiscoveryConfig, token: &str, url: &str) -> Result<Value, String> {
    let mut attempt = 0;
    loop {
        let resp = cfg.http.get(url).bearer_auth(token).send().await;
        let backoff = Duration::from_secs(1 << attempt.min(4));
        let resp = match resp {
            Ok(r) => r,
            Err(e) if attempt < RETRIES && !e.is_builder() => {
                attempt += 1;
                tokio::time::sleep(backoff).await;
                let _ = e;
                continue;
            }
            Err(e) => return Err(cause_chain(&e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|h| h.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.map_err(|e| cause_chain(&e))?;
        if (status == 429 || status >= 500) && attempt < RETRIES {
            attempt += 1;
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(MAX_WAIT)).await;
            continue;
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let code = body["error"]["code"].as_str().unwrap_or("error");
            let message = body["error"]["message"].as_str().unwrap_or(text.as_str());
            let tries = if attempt > 0 {
                format!(" (after {attempt} retries)")
            } else {
                String::new()
            };
            return Err(format!("{status} {code}: {message}{tries}"));
        }
        return Ok(body);
    }
}

/// Every page of a listing, following `nextLink`; `each` sees each page's items as they come.
async fn get_all(
    cfg: &DiscoveryConfig,
    token: &str,
    first: String,
    mut each: impl FnMut(&[Value]),
) -> Result<usize, String> {
    let mut next = Some(first);
    let mut pages = 0;
    let mut items = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > 1000 {
            return Err("more than 1,000 pages: stopped".into());
        }
        let body = get_page(cfg, token, &url).await?;
        if let Some(page) = body["value"].as_array() {
            items += page.len();
            each(page);
        }
        next = body["nextLink"]
            .as_str()
            .filter(|l| !l.is_empty())
            .map(str::to_string);
    }
    Ok(items)
}

/// A tenant to look in: its id, name, and the token for it.
struct Tenant {
    id: Option<String>,
    name: Option<String>,
    token: String,
}

/// A subscription to list the vaults of.
struct Subscription {
    id: String,
    name: Option<String>,
    tenant: Option<String>,
    tenant_name: Option<String>,
    token: Arc<String>,
}

/// The vaults of one subscription, each sent as found.
async fn list_vaults(
    cfg: &DiscoveryConfig,
    base: &str,
    s: &Subscription,
    emit: &impl Fn(Response),
) -> Result<usize, String> {
    let url = format!(
        "{base}/subscriptions/{}/providers/Microsoft.KeyVault/vaults?api-version={VAULTS_API}",
        s.id
    );
    get_all(cfg, &s.token, url, |page| {
        for v in page {
            let (Some(name), Some(uri)) =
                (v["name"].as_str(), v["properties"]["vaultUri"].as_str())
            else {
                continue;
            };
            emit(Response::VaultFound(DiscoveredVault {
                resource_id: v["id"].as_str().map(str::to_string),
                name: name.to_string(),
                url: uri.trim_end_matches('/').to_string(),
                subscription_id: s.id.clone(),
                subscription_name: s.name.clone(),
                location: v["location"].as_str().map(str::to_string),
                tenant: v["properties"]["tenantId"]
                    .as_str()
                    .map(str::to_string)
                    .or(s.tenant.clone()),
                tenant_name: s.tenant_name.clone(),
            }));
        }
    })
    .await
}

fn tid_of(token: &str) -> Option<String> {
    super::credential::Identity::from_token("", token).tid
}

/// Streams what it finds through `emit` (`VaultFound`, `DiscoveryWarning` for each failure, one
/// `DiscoverySummary`), then `DiscoveryDone`. `for_tenant` gives the credential for another tenant.
pub async fn discover(
    cfg: &DiscoveryConfig,
    chain: Arc<dyn TokenCredential>,
    for_tenant: impl Fn(&str) -> Arc<dyn TokenCredential>,
    emit: impl Fn(Response),
) {
    let base = cfg.arm_endpoint.trim_end_matches('/').to_string();
    let scope = format!("{base}/.default");
    let token = match chain.get_token(&[scope.as_str()], None).await {
        Ok(t) => t.token.secret().to_string(),
        Err(e) => {
            emit(Response::DiscoveryWarning(format!(
                "vault discovery skipped: {}",
                cause_chain(&e)
            )));
            emit(Response::DiscoverySummary {
                text: "vault discovery skipped: not signed in".into(),
                failures: 1,
            });
            emit(Response::DiscoveryDone);
            return;
        }
    };
    let mut failures: Vec<String> = Vec::new();
    let home = tid_of(&token);

    // The tenants: each with a token of its own (the default token serves its own tenant).
    let mut listed: Vec<Value> = Vec::new();
    let tenants_url = format!("{base}/tenants?api-version={TENANTS_API}");
    if let Err(e) = get_all(cfg, &token, tenants_url, |p| listed.extend_from_slice(p)).await {
        failures.push(format!(
            "listing tenants failed: {e}; looking in the token's tenant only"
        ));
    }
    let mut tenants: Vec<Tenant> = Vec::new();
    let mut own_tenant_seen = false;
    let mut unreachable = 0usize;
    // The other tenants' tokens are asked for together (each may run `az`, which takes a second).
    let mut others: Vec<(String, Option<String>)> = Vec::new();
    for t in &listed {
        let Some(id) = t["tenantId"].as_str() else {
            continue;
        };
        let name = t["displayName"].as_str().map(str::to_string);
        let own = match &home {
            Some(h) => h.eq_ignore_ascii_case(id),
            None => t["tenantCategory"].as_str() == Some("Home") && !own_tenant_seen,
        };
        if own {
            own_tenant_seen = true;
            tenants.insert(
                0,
                Tenant {
                    id: Some(id.to_string()),
                    name,
                    token: token.clone(),
                },
            );
        } else {
            others.push((id.to_string(), name));
        }
    }
    let answers = futures::future::join_all(others.iter().map(|(id, _)| {
        let credential = for_tenant(id);
        let scope = scope.clone();
        async move { credential.get_token(&[scope.as_str()], None).await }
    }))
    .await;
    for ((id, name), answer) in others.into_iter().zip(answers) {
        match answer {
            Ok(t) => tenants.push(Tenant {
                id: Some(id),
                name,
                token: t.token.secret().to_string(),
            }),
            Err(e) => {
                unreachable += 1;
                failures.push(format!(
                    "tenant {}: no token ({}) — to look there: az login --tenant {id}",
                    name.as_deref().unwrap_or(&id),
                    cause_chain(&e)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                ))
            }
        }
    }
    if !own_tenant_seen {
        tenants.insert(
            0,
            Tenant {
                id: home.clone(),
                name: None,
                token: token.clone(),
            },
        );
    }

    // The subscriptions of each tenant, listed with that tenant's token.
    let url = format!("{base}/subscriptions?api-version={SUBSCRIPTIONS_API}");
    let url = &url;
    let listings = futures::future::join_all(tenants.iter().map(|t| async move {
        let mut subs = Vec::new();
        let r = get_all(cfg, &t.token, url.clone(), |p| subs.extend_from_slice(p)).await;
        (t, r.map(|_| subs))
    }))
    .await;
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut skipped = 0;
    let mut seen = std::collections::HashSet::new();
    for (t, r) in listings {
        let label = t
            .name
            .clone()
            .or(t.id.clone())
            .unwrap_or("your tenant".into());
        let subs = match r {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("tenant {label}: listing subscriptions failed: {e}"));
                continue;
            }
        };
        let token = Arc::new(t.token.clone());
        for sub in subs {
            let Some(id) = sub["subscriptionId"].as_str() else {
                continue;
            };
            // A subscription visible from two tenants (a guest's) is listed once.
            if !seen.insert(id.to_ascii_lowercase()) {
                continue;
            }
            // Disabled and Deleted subscriptions hold no vault one can read.
            if matches!(sub["state"].as_str(), Some("Disabled" | "Deleted")) {
                skipped += 1;
                continue;
            }
            subscriptions.push(Subscription {
                id: id.to_string(),
                name: sub["displayName"].as_str().map(str::to_string),
                tenant: sub["tenantId"]
                    .as_str()
                    .map(str::to_string)
                    .or(t.id.clone()),
                tenant_name: t.name.clone(),
                token: token.clone(),
            });
        }
    }

    // The vaults of each subscription, several subscriptions at a time, streamed as found.
    let emit = &emit;
    let mut found = 0usize;
    let mut pending = Vec::new();
    for s in &subscriptions {
        pending.push(list_vaults(cfg, &base, s, emit));
    }
    let results = futures::stream::iter(pending)
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    for (s, r) in subscriptions.iter().zip(results) {
        match r {
            Ok(n) => found += n,
            Err(e) => failures.push(format!(
                "subscription {}: {e}",
                s.name.as_deref().unwrap_or(&s.id)
            )),
        }
    }
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let over = match unreachable {
        0 => plural(tenants.len(), "tenant", "tenants"),
        n => format!("{} of {} tenants", tenants.len(), tenants.len() + n),
    };
    let mut text = format!(
        "discovery: {} in {} over {over}",
        plural(found, "vault", "vaults"),
        plural(subscriptions.len(), "subscription", "subscriptions"),
    );
    if skipped > 0 {
        text.push_str(&format!(", {skipped} disabled skipped"));
    }
    if !failures.is_empty() {
        text.push_str(&format!(
            "; {}",
            plural(failures.len(), "failure", "failures")
        ));
    }
    let count = failures.len();
    for f in failures {
        emit(Response::DiscoveryWarning(f));
    }
    emit(Response::DiscoverySummary {
        text,
        failures: count,
    });
    emit(Response::DiscoveryDone);
}
