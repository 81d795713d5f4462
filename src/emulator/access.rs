//! The service's access model: Azure RBAC (built-in data-plane roles) or access policies per vault,
//! the vault firewall and public network access, and the refusals each gives, in the service's words.
//!
//! Roles and their data actions follow Azure's built-in role definitions ("Azure built-in roles for
//! Security", learn.microsoft.com/azure/role-based-access-control/built-in-roles/security):
//! - Key Vault Reader (21090545-7ca7-4776-b22c-e363652d74d2): `Microsoft.KeyVault/vaults/*/read`,
//!   `Microsoft.KeyVault/vaults/secrets/readMetadata/action` — lists and reads properties, never values.
//! - Key Vault Secrets User (4633458b-17de-408a-b874-0445c86b69e6):
//!   `Microsoft.KeyVault/vaults/secrets/getSecret/action`, `…/secrets/readMetadata/action`.
//! - Key Vault Secrets Officer (b86a8fe4-44ce-4948-aee5-eccb2c155cd7): `Microsoft.KeyVault/vaults/secrets/*`.
//! - Key Vault Administrator (00482a5a-887f-4fb3-b363-3b7fe8e74483): `Microsoft.KeyVault/vaults/*`.
//!
//! The access-policy permission of each operation, and its RBAC data action, follow Microsoft's
//! mapping in "Migrate from vault access policy to an Azure role-based access control permission model"
//! (Secret Get → getSecret/action, List → readMetadata/action, Set → setSecret/action and update/action,
//! Delete → delete, Recover → recover/action, Backup → backup/action, Restore → restore/action, Purge →
//! purge/action).

use std::net::IpAddr;

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataAction {
    ReadMetadata,
    GetSecret,
    SetSecret,
    Update,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
}

impl DataAction {
    /// The RBAC data action, as the refusal names it.
    pub fn rbac(self) -> &'static str {
        match self {
            DataAction::ReadMetadata => "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            DataAction::GetSecret => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            DataAction::SetSecret => "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            DataAction::Update => "Microsoft.KeyVault/vaults/secrets/update/action",
            DataAction::Delete => "Microsoft.KeyVault/vaults/secrets/delete",
            DataAction::Recover => "Microsoft.KeyVault/vaults/secrets/recover/action",
            DataAction::Backup => "Microsoft.KeyVault/vaults/secrets/backup/action",
            DataAction::Restore => "Microsoft.KeyVault/vaults/secrets/restore/action",
            DataAction::Purge => "Microsoft.KeyVault/vaults/secrets/purge/action",
        }
    }

    /// The access-policy permission.
    pub fn permission(self) -> Perm {
        match self {
            DataAction::ReadMetadata => Perm::List,
            DataAction::GetSecret => Perm::Get,
            DataAction::SetSecret | DataAction::Update => Perm::Set,
            DataAction::Delete => Perm::Delete,
            DataAction::Recover => Perm::Recover,
            DataAction::Backup => Perm::Backup,
            DataAction::Restore => Perm::Restore,
            DataAction::Purge => Perm::Purge,
        }
    }
}

/// An access-policy secret permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Perm {
    Get,
    List,
    Set,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
}

impl Perm {
    pub const ALL: [Perm; 8] = [
        Perm::Get,
        Perm::List,
        Perm::Set,
        Perm::Delete,
        Perm::Recover,
        Perm::Backup,
        Perm::Restore,
        Perm::Purge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Perm::Get => "get",
            Perm::List => "list",
            Perm::Set => "set",
            Perm::Delete => "delete",
            Perm::Recover => "recover",
            Perm::Backup => "backup",
            Perm::Restore => "restore",
            Perm::Purge => "purge",
        }
    }

    fn parse(s: &str) -> Option<Perm> {
        Perm::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// A built-in data-plane role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Reader,
    SecretsUser,
    SecretsOfficer,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Reader,
        Role::SecretsUser,
        Role::SecretsOfficer,
        Role::Administrator,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "Key Vault Reader",
            Role::SecretsUser => "Key Vault Secrets User",
            Role::SecretsOfficer => "Key Vault Secrets Officer",
            Role::Administrator => "Key Vault Administrator",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn allows(self, a: DataAction) -> bool {
        match self {
            Role::Reader => a == DataAction::ReadMetadata,
            Role::SecretsUser => matches!(a, DataAction::ReadMetadata | DataAction::GetSecret),
            Role::SecretsOfficer | Role::Administrator => true,
        }
    }
}

/// Who calls, from the token's claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub oid: String,
    pub appid: Option<String>,
    pub upn: Option<String>,
    pub tid: String,
}

impl Caller {
    pub fn from_claims(c: &serde_json::Value) -> Caller {
        let s = |k: &str| c[k].as_str().map(str::to_string);
        Caller {
            oid: s("oid").unwrap_or_default(),
            appid: s("appid").or_else(|| s("azp")),
            upn: s("upn"),
            tid: s("tid").unwrap_or_default(),
        }
    }

    /// As the service writes the caller in a refusal.
    pub fn describe(&self, with_groups: bool) -> String {
        let who = match (&self.upn, &self.appid) {
            (Some(upn), _) => format!("name={upn};"),
            (None, Some(app)) => format!("appid={app};"),
            (None, None) => String::new(),
        };
        let groups = if with_groups { "numgroups=0;" } else { "" };
        format!(
            "{who}oid={};{groups}iss=https://sts.windows.net/{}/",
            self.oid, self.tid
        )
    }

    fn is(&self, principal: &str) -> bool {
        principal == "*"
            || [Some(&self.oid), self.appid.as_ref(), self.upn.as_ref()]
                .into_iter()
                .flatten()
                .any(|p| p.eq_ignore_ascii_case(principal))
    }
}

/// `PRINCIPAL=VALUE[@VAULT]` as the options write it.
fn split_scoped(s: &str) -> Result<(String, String, Option<String>), String> {
    let (principal, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': expected PRINCIPAL=VALUE[@VAULT]"))?;
    let (value, vault) = match rest.rsplit_once('@') {
        Some((v, vault)) if !vault.is_empty() && !vault.contains(' ') => {
            (v, Some(vault.to_ascii_lowercase()))
        }
        _ => (rest, None),
    };
    if principal.trim().is_empty() || value.trim().is_empty() {
        return Err(format!("'{s}': expected PRINCIPAL=VALUE[@VAULT]"));
    }
    Ok((
        principal.trim().to_string(),
        value.trim().to_string(),
        vault,
    ))
}

/// `--grant`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub principal: String,
    pub role: Role,
    pub vault: Option<String>,
}

impl std::str::FromStr for Grant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (principal, role, vault) = split_scoped(s)?;
        let role = Role::parse(&role).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            format!(
                "'{role}' is not a built-in Key Vault role: {}",
                names.join(", ")
            )
        })?;
        Ok(Grant {
            principal,
            role,
            vault,
        })
    }
}

/// `--access-policy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub principal: String,
    pub perms: Vec<Perm>,
    pub vault: Option<String>,
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (principal, perms, vault) = split_scoped(s)?;
        let perms = perms
            .split(',')
            .map(|p| {
                Perm::parse(p).ok_or_else(|| {
                    format!(
                        "'{p}' is not a secret permission: get, list, set, delete, recover, backup, restore, purge"
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            principal,
            perms,
            vault,
        })
    }
}

/// `--firewall-allow CIDR[@VAULT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    pub net: IpAddr,
    pub prefix: u8,
    pub vault: Option<String>,
}

impl std::str::FromStr for Allow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (cidr, vault) = match s.rsplit_once('@') {
            Some((c, v)) => (c, Some(v.to_ascii_lowercase())),
            None => (s, None),
        };
        let (ip, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
        let net: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("'{cidr}' is not an address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{cidr}': the prefix is 0 to {max}"))?
        };
        Ok(Allow { net, prefix, vault })
    }
}

impl Allow {
    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u8) {
            match a {
                IpAddr::V4(v) => (u32::from(v) as u128, 32),
                IpAddr::V6(v) => match v.to_ipv4_mapped() {
                    Some(v4) => (u32::from(v4) as u128, 32),
                    None => (u128::from(v), 128),
                },
            }
        };
        let ((n, nw), (a, aw)) = (bits(self.net), bits(ip));
        if nw != aw {
            return false;
        }
        let shift = u32::from(nw - self.prefix.min(nw));
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        n & mask == a & mask
    }
}

/// Every vault's access model, from the options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessConfig {
    pub grants: Vec<Grant>,
    pub policies: Vec<Policy>,
    pub firewall: Vec<Allow>,
    /// Vaults (or all, `None`) with public network access disabled.
    pub private: Vec<Option<String>>,
}

/// A refusal: the inner code and the message, under 403 Forbidden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub inner: &'static str,
    pub message: String,
}

fn applies(scope: &Option<String>, vault: &str) -> bool {
    scope
        .as_deref()
        .is_none_or(|v| v.eq_ignore_ascii_case(vault))
}

impl AccessConfig {
    /// Start-up checks: every named vault exists; no vault mixes RBAC and access policies.
    pub fn validate(&self, vaults: &[String]) -> Result<(), String> {
        let scopes = self
            .grants
            .iter()
            .map(|g| &g.vault)
            .chain(self.policies.iter().map(|p| &p.vault))
            .chain(self.firewall.iter().map(|a| &a.vault))
            .chain(self.private.iter());
        for v in scopes.flatten() {
            if !vaults.iter().any(|n| n.eq_ignore_ascii_case(v)) {
                return Err(format!(
                    "@{v}: there is no vault '{v}' (vaults: {})",
                    vaults.join(", ")
                ));
            }
        }
        for v in vaults {
            if self.rbac(v) && self.access_policies(v) {
                return Err(format!(
                    "vault '{v}' has both --grant and --access-policy: a vault uses Azure RBAC or access policies, not both"
                ));
            }
        }
        Ok(())
    }

    fn rbac(&self, vault: &str) -> bool {
        self.grants.iter().any(|g| applies(&g.vault, vault))
    }

    fn access_policies(&self, vault: &str) -> bool {
        self.policies.iter().any(|p| applies(&p.vault, vault))
    }

    /// Whether the vault checks who calls (and so needs tokens it can read).
    pub fn controls(&self, vault: &str) -> bool {
        self.rbac(vault) || self.access_policies(vault)
    }

    /// Whether public network access is disabled for the vault.
    pub fn is_private(&self, vault: &str) -> bool {
        self.private.iter().any(|p| applies(p, vault))
    }

    /// The permission model the vault uses, for Resource Manager's view of it.
    pub fn uses_rbac(&self, vault: &str) -> bool {
        !self.access_policies(vault)
    }

    /// The vault's access policies as Resource Manager lists them (principals by object id).
    pub fn policies_json(&self, vault: &str, tenant: &str) -> serde_json::Value {
        let list: Vec<serde_json::Value> = self
            .policies
            .iter()
            .filter(|p| applies(&p.vault, vault))
            .map(|p| {
                serde_json::json!({
                    "tenantId": tenant,
                    "objectId": crate::emulator::identity::object_id(&p.principal),
                    "permissions": {
                        "keys": [], "certificates": [], "storage": [],
                        "secrets": p.perms.iter().map(|x| x.name()).collect::<Vec<_>>(),
                    },
                })
            })
            .collect();
        serde_json::Value::Array(list)
    }

    /// The vault's firewall as Resource Manager shows it, when it has one.
    pub fn network_acls_json(&self, vault: &str) -> Option<serde_json::Value> {
        let rules: Vec<serde_json::Value> = self
            .firewall
            .iter()
            .filter(|a| applies(&a.vault, vault))
            .map(|a| serde_json::json!({"value": format!("{}/{}", a.net, a.prefix)}))
            .collect();
        (!rules.is_empty()).then(|| {
            serde_json::json!({
                "bypass": "AzureServices",
                "defaultAction": "Deny",
                "ipRules": rules,
                "virtualNetworkRules": [],
            })
        })
    }

    /// Checks one request; `resource` is the secret's resource id (lower case, as the service writes).
    pub fn check(
        &self,
        vault: &str,
        caller: &Caller,
        peer: Option<IpAddr>,
        action: DataAction,
        resource: &str,
    ) -> Result<(), Refusal> {
        let where_ = format!("Vault: {vault};location=local");
        if self.is_private(vault) {
            return Err(Refusal {
                inner: "ForbiddenByConnection",
                message: format!("Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: {}\r\n{where_}", caller.describe(false)),
            });
        }
        let rules: Vec<&Allow> = self
            .firewall
            .iter()
            .filter(|a| applies(&a.vault, vault))
            .collect();
        if !rules.is_empty() {
            let allowed = peer.is_some_and(|ip| rules.iter().any(|a| a.contains(ip)));
            if !allowed {
                let ip = peer.map(|p| p.to_string()).unwrap_or_default();
                return Err(Refusal {
                    inner: "ForbiddenByFirewall",
                    message: format!("Client address is not authorized and caller is not a trusted service.\r\nClient address: {ip}\r\nCaller: {}\r\n{where_}", caller.describe(false)),
                });
            }
        }
        if self.rbac(vault) {
            let granted = self.grants.iter().any(|g| {
                applies(&g.vault, vault) && caller.is(&g.principal) && g.role.allows(action)
            });
            if !granted {
                return Err(Refusal {
                    inner: "ForbiddenByRbac",
                    message: format!("Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {}\r\nAction: '{}'\r\nResource: '{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n{where_}\r\n", caller.describe(false), action.rbac()),
                });
            }
        } else if self.access_policies(vault) {
            let perm = action.permission();
            let granted = self.policies.iter().any(|p| {
                applies(&p.vault, vault) && caller.is(&p.principal) && p.perms.contains(&perm)
            });
            if !granted {
                return Err(Refusal {
                    inner: "AccessDenied",
                    message: format!("The user, group or application '{}' does not have secrets {} permission on key vault '{vault};location=local'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287", caller.describe(true), perm.name()),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(appid: &str) -> Caller {
        Caller {
            oid: format!("oid-{appid}"),
            appid: Some(appid.into()),
            upn: None,
            tid: "t".into(),
        }
    }

    #[test]
    fn roles_allow_what_azure_gives_them() {
        assert!(Role::Reader.allows(DataAction::ReadMetadata));
        assert!(!Role::Reader.allows(DataAction::GetSecret));
        assert!(Role::SecretsUser.allows(DataAction::GetSecret));
        assert!(!Role::SecretsUser.allows(DataAction::SetSecret));
        assert!(Role::SecretsOfficer.allows(DataAction::Purge));
    }

    #[test]
    fn options_parse_and_mixing_models_is_refused() {
        let g: Grant = "app1=Key Vault Secrets User@kv1".parse().expect("grant");
        assert_eq!(
            (g.role, g.vault.as_deref()),
            (Role::SecretsUser, Some("kv1"))
        );
        assert!("app1=Owner".parse::<Grant>().is_err());
        let p: Policy = "*=get,list".parse().expect("policy");
        assert_eq!(p.perms, [Perm::Get, Perm::List]);
        assert!("x=get,fly".parse::<Policy>().is_err());
        let a: Allow = "10.0.0.0/8@kv1".parse().expect("cidr");
        assert!(a.contains("10.1.2.3".parse().expect("ip")));
        assert!(!a.contains("11.1.2.3".parse().expect("ip")));
        let cfg = AccessConfig {
            grants: vec![g],
            policies: vec!["x=get@kv1".parse().expect("policy")],
            ..Default::default()
        };
        let e = cfg.validate(&["kv1".into()]).expect_err("mixed");
        assert!(e.contains("not both"), "{e}");
        assert!(AccessConfig {
            firewall: vec!["127.0.0.1@nope".parse().expect("allow")],
            ..Default::default()
        }
        .validate(&["kv1".into()])
        .is_err());
    }

    #[test]
    fn refusals_name_the_caller_the_action_and_the_vault() {
        let cfg = AccessConfig {
            grants: vec!["reader=Key Vault Reader".parse().expect("grant")],
            ..Default::default()
        };
        let e = cfg
            .check("kv1", &caller("reader"), None, DataAction::GetSecret, "/r")
            .expect_err("refused");
        assert_eq!(e.inner, "ForbiddenByRbac");
        assert!(e
            .message
            .contains("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"));
        assert!(e.message.contains("appid=reader;oid=oid-reader"));
        assert!(cfg
            .check(
                "kv1",
                &caller("reader"),
                None,
                DataAction::ReadMetadata,
                "/r"
            )
            .is_ok());
        let fw = AccessConfig {
            firewall: vec!["10.0.0.0/8".parse().expect("allow")],
            ..Default::default()
        };
        let e = fw
            .check(
                "kv1",
                &caller("a"),
                "127.0.0.1".parse().ok(),
                DataAction::GetSecret,
                "/r",
            )
            .expect_err("firewall");
        assert!(
            e.message.contains("Client address: 127.0.0.1"),
            "{}",
            e.message
        );
    }
}
