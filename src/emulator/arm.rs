//! Resource Manager discovery on host `management.localhost`: the subscriptions the caller can see and
//! the Key Vaults in each, so that tools which discover vaults (kvtui among them) can be tested here.
//!
//! `GET /subscriptions`, `GET /subscriptions/{id}`,
//! `GET /subscriptions/{id}/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults'`,
//! `GET /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.KeyVault/vaults`; `$top` pages
//! with an absolute `nextLink`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::store::VaultPolicy;

pub const RESOURCE_GROUP: &str = "kvtui-local";
pub const LOCATION: &str = "local";

/// How vaults are spread over subscriptions, and subscriptions over tenants.
#[derive(Clone, Debug)]
pub struct ArmConfig {
    pub subscriptions: usize,
    /// 1-based index of a subscription whose listings answer 403 (to test partial discovery).
    pub forbidden: Option<usize>,
    /// Items per page when the caller gives no `$top`.
    pub page_size: usize,
    /// How many tenants the subscriptions are spread over (subscription i is in tenant i % N).
    pub tenants: usize,
    /// A vault in a tenant of its own (`--vault-tenant NAME=TENANT_ID`): lower-cased name → tenant.
    pub vault_tenants: Vec<(String, String)>,
    /// A subscription's state other than `Enabled` (1-based index → `Disabled`, `Warned`, `PastDue`).
    pub states: Vec<(usize, String)>,
}

impl Default for ArmConfig {
    fn default() -> Self {
        Self {
            subscriptions: 1,
            forbidden: None,
            page_size: 100,
            tenants: 1,
            vault_tenants: Vec::new(),
            states: Vec::new(),
        }
    }
}

/// The i-th (0-based) local tenant: the first is the local vault's home tenant.
pub fn tenant_id(i: usize) -> String {
    if i == 0 {
        super::api::LOCAL_TENANT.to_string()
    } else {
        format!("6b767475-7465-4e61-8e74-{:012x}", i + 1)
    }
}

/// The states a subscription can be in (Resource Manager's `state`).
pub const SUBSCRIPTION_STATES: [&str; 5] = ["Enabled", "Warned", "PastDue", "Disabled", "Deleted"];

impl ArmConfig {
    /// The tenant of the i-th (0-based) subscription.
    pub fn subscription_tenant(&self, i: usize) -> String {
        tenant_id(i % self.tenants.max(1))
    }

    /// Every tenant this instance has: the spread ones, then those of `--vault-tenant`.
    pub fn all_tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = (0..self.tenants.max(1)).map(tenant_id).collect();
        for (_, v) in &self.vault_tenants {
            if !t.iter().any(|x| x.eq_ignore_ascii_case(v)) {
                t.push(v.clone());
            }
        }
        t
    }

    /// The tenant of the vault at `index` (configuration order): its own, else its subscription's.
    pub fn vault_tenant(&self, index: usize, name: &str) -> String {
        self.vault_tenants
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| self.subscription_tenant(index % self.subscriptions.max(1)))
    }

    /// The known tenant an id names (any case), as first spelled.
    pub fn find_tenant(&self, id: &str) -> Option<String> {
        self.all_tenants()
            .into_iter()
            .find(|t| t.eq_ignore_ascii_case(id))
    }

    fn state(&self, i: usize) -> &str {
        self.states
            .iter()
            .find(|(n, _)| *n == i + 1)
            .map(|(_, s)| s.as_str())
            .unwrap_or("Enabled")
    }
}

/// The id of the i-th (0-based) local subscription: a fixed, recognisable GUID.
pub fn subscription_id(i: usize) -> String {
    format!("6b767475-0000-4000-8000-{:012x}", i + 1)
}

/// A vault's resource id: the i-th vault lives in subscription `i % subscriptions`.
pub fn vault_resource_id(index: usize, subscriptions: usize, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/{name}",
        subscription_id(index % subscriptions.max(1))
    )
}

pub struct Arm<'a> {
    pub config: &'a ArmConfig,
    /// The caller's tenant (the token's `tid`; the home tenant when the token says none).
    pub tenant: &'a str,
    /// (name, policy) of every vault, in order.
    pub vaults: Vec<(&'a str, &'a VaultPolicy)>,
    /// The port vault URIs are given with.
    pub vault_port: u16,
    /// Host and port of the management endpoint, as called.
    pub authority: &'a str,
    /// The vaults' access models, shown as the vault resource's properties.
    pub access: &'a super::access::AccessConfig,
}

fn arm_error(status: StatusCode, code: &str, message: String) -> (StatusCode, Value) {
    (status, json!({"error": {"code": code, "message": message}}))
}

fn page(items: Vec<Value>, size: usize, skip: usize, link: impl Fn(&str) -> String) -> Value {
    let size = size.max(1);
    let end = (skip + size).min(items.len());
    let more = end < items.len();
    let slice: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
    let mut v = json!({ "value": slice });
    if more {
        v["nextLink"] = json!(link(&end.to_string()));
    }
    v
}

/// Resource listings as the service pages them: the skiptoken is the last name given, and a full
/// last page is followed by an empty one.
fn page_by_name(
    items: Vec<(String, Value)>,
    size: usize,
    after: Option<String>,
    link: impl Fn(&str) -> String,
) -> Value {
    let size = size.max(1);
    let slice: Vec<(String, Value)> = items
        .into_iter()
        .filter(|(n, _)| after.as_ref().is_none_or(|a| n.as_str() > a.as_str()))
        .take(size)
        .collect();
    let last = (slice.len() == size).then(|| slice[size - 1].0.clone());
    let mut v = json!({ "value": slice.into_iter().map(|(_, v)| v).collect::<Vec<_>>() });
    if let Some(last) = last {
        v["nextLink"] = json!(link(&last));
    }
    v
}

impl Arm<'_> {
    fn vaults_in(&self, sub: usize) -> impl Iterator<Item = (usize, &(&str, &VaultPolicy))> {
        let n = self.config.subscriptions.max(1);
        self.vaults
            .iter()
            .enumerate()
            .filter(move |(i, _)| i % n == sub)
    }

    fn tenant_json(&self, i: usize, id: &str) -> Value {
        json!({
            "id": format!("/tenants/{id}"),
            "tenantId": id,
            "countryCode": "US",
            "displayName": format!("kvtui local tenant {}", i + 1),
            "domains": [format!("tenant{}.localhost", i + 1)],
            "tenantCategory": if id.eq_ignore_ascii_case(self.tenant) { "Home" } else { "ProjectedBy" },
            "defaultDomain": format!("tenant{}.localhost", i + 1),
            "tenantType": "AAD",
        })
    }

    fn subscription_json(&self, i: usize) -> Value {
        let id = subscription_id(i);
        json!({
            "id": format!("/subscriptions/{id}"),
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": id,
            "tenantId": self.config.subscription_tenant(i),
            "displayName": format!("kvtui local subscription {}", i + 1),
            "state": self.config.state(i),
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "Internal_2014-09-01", "spendingLimit": "Off"},
        })
    }

    fn vault_json(&self, index: usize, sub: usize, name: &str, policy: &VaultPolicy) -> Value {
        let id = format!(
            "/subscriptions/{}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/{name}",
            subscription_id(sub)
        );
        let tenant = self.config.vault_tenant(index, name);
        let mut properties = json!({
            "sku": {"family": "A", "name": "standard"},
            "tenantId": tenant,
            "accessPolicies": self.access.policies_json(name, &tenant),
            "enabledForDeployment": false,
            "enableSoftDelete": policy.soft_delete(),
            "softDeleteRetentionInDays": policy.recoverable_days,
            "enableRbacAuthorization": self.access.uses_rbac(name),
            "vaultUri": format!("https://{}.localhost:{}/", name.to_ascii_lowercase(), self.vault_port),
            "provisioningState": "Succeeded",
            "publicNetworkAccess": if self.access.is_private(name) { "Disabled" } else { "Enabled" },
        });
        if let Some(acls) = self.access.network_acls_json(name) {
            properties["networkAcls"] = acls;
        }
        if policy.purge_protection {
            properties["enablePurgeProtection"] = json!(true);
        }
        json!({
            "id": id,
            "name": name,
            "type": "Microsoft.KeyVault/vaults",
            "location": LOCATION,
            "tags": {},
            "properties": properties,
        })
    }

    /// Answers one authenticated request.
    pub fn answer(&self, method: &Method, path: &str, query: Option<&str>) -> (StatusCode, Value) {
        if method != Method::GET {
            return arm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!(
                    "The local Resource Manager endpoint is read-only; {method} is not supported."
                ),
            );
        }
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(pk, _)| pk.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let Some(api_version) = get("api-version").filter(|v| !v.is_empty()) else {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests."
                    .into(),
            );
        };
        let top = match get("$top").map(str::parse::<usize>) {
            None => None,
            Some(Ok(n)) if n > 0 => Some(n),
            Some(_) => {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    "$top must be a positive integer.".into(),
                )
            }
        };
        let skip = get("$skiptoken")
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
        let filter = get("$filter").map(str::to_string);
        let link = |path: &str| {
            let base = format!("https://{}{path}?api-version={api_version}", self.authority);
            let filter = filter.clone();
            move |next: &str| {
                let mut l = base.clone();
                if let Some(f) = &filter {
                    l.push_str(&format!(
                        "&$filter={}",
                        url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>()
                    ));
                }
                if let Some(t) = top {
                    l.push_str(&format!("&$top={t}"));
                }
                l.push_str(&format!("&$skiptoken={}", URL_SAFE_NO_PAD.encode(next)));
                l
            }
        };
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let n = self.config.subscriptions.max(1);
        let find_sub = |id: &str| (0..n).find(|i| subscription_id(*i).eq_ignore_ascii_case(id));
        match segs.as_slice() {
            ["tenants"] => {
                let items = self
                    .config
                    .all_tenants()
                    .iter()
                    .enumerate()
                    .map(|(i, t)| self.tenant_json(i, t))
                    .collect();
                (
                    StatusCode::OK,
                    page(
                        items,
                        top.unwrap_or(self.config.page_size),
                        skip,
                        link("/tenants"),
                    ),
                )
            }
            // The caller's tenant only, as the service lists them.
            ["subscriptions"] => {
                let items = (0..n)
                    .filter(|i| {
                        self.config
                            .subscription_tenant(*i)
                            .eq_ignore_ascii_case(self.tenant)
                    })
                    .map(|i| self.subscription_json(i))
                    .collect();
                (
                    StatusCode::OK,
                    page(
                        items,
                        top.unwrap_or(self.config.page_size),
                        skip,
                        link("/subscriptions"),
                    ),
                )
            }
            ["subscriptions", id] => match find_sub(id) {
                Some(i) => (StatusCode::OK, self.subscription_json(i)),
                None => not_found_sub(id),
            },
            ["subscriptions", id, rest @ ..] => {
                let Some(i) = find_sub(id) else {
                    return not_found_sub(id);
                };
                let home = self.config.subscription_tenant(i);
                if !home.eq_ignore_ascii_case(self.tenant) {
                    return arm_error(
                        StatusCode::UNAUTHORIZED,
                        "InvalidAuthenticationTokenTenant",
                        format!("The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{home}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{home}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.", self.tenant),
                    );
                }
                let wants_vaults = match rest {
                    ["resources"] => match &filter {
                        None => true,
                        Some(f) => f
                            .to_ascii_lowercase()
                            .replace(' ', "")
                            .contains("resourcetypeeq'microsoft.keyvault/vaults'"),
                    },
                    ["providers", "microsoft.keyvault", "vaults"] => true,
                    ["resourcegroups", rg, "providers", "microsoft.keyvault", "vaults"]
                        if *rg == RESOURCE_GROUP =>
                    {
                        true
                    }
                    ["resourcegroups", rg, ..] if *rg != RESOURCE_GROUP => {
                        return arm_error(
                            StatusCode::NOT_FOUND,
                            "ResourceGroupNotFound",
                            format!("Resource group '{rg}' could not be found."),
                        )
                    }
                    _ => {
                        return arm_error(
                            StatusCode::NOT_FOUND,
                            "NotFound",
                            format!("The local Resource Manager endpoint does not serve {path}."),
                        )
                    }
                };
                if self.config.forbidden == Some(i + 1) {
                    return arm_error(
                        StatusCode::FORBIDDEN,
                        "AuthorizationFailed",
                        format!("The client does not have authorization to perform action 'Microsoft.Resources/subscriptions/resources/read' over scope '/subscriptions/{}' or the scope is invalid. If access was recently granted, please refresh your credentials.", subscription_id(i)),
                    );
                }
                let mut items: Vec<(String, Value)> = if wants_vaults {
                    self.vaults_in(i)
                        .map(|(index, (name, p))| {
                            (
                                name.to_ascii_lowercase(),
                                self.vault_json(index, i, name, p),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                items.sort_by(|a, b| a.0.cmp(&b.0));
                let after = get("$skiptoken")
                    .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
                    .and_then(|b| String::from_utf8(b).ok());
                (
                    StatusCode::OK,
                    page_by_name(
                        items,
                        top.unwrap_or(self.config.page_size),
                        after,
                        link(path),
                    ),
                )
            }
            _ => arm_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The local Resource Manager endpoint does not serve {path}."),
            ),
        }
    }
}

fn not_found_sub(id: &str) -> (StatusCode, Value) {
    arm_error(
        StatusCode::NOT_FOUND,
        "SubscriptionNotFound",
        format!("The subscription '{id}' could not be found."),
    )
}
