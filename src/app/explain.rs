//! What an error means and what to do about it: each refusal by its inner code, with the exact
//! command that fixes it where there is one (the role that would allow the action, the missing
//! access-policy permission, the firewall rule), certificate and network problems, sign-in.

use crate::vault::credential::Identity;
use crate::vault::{ErrorKind, VaultError};

/// An error explained: what happened, whole, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub title: String,
    /// "403 Forbidden · ForbiddenByRbac".
    pub status: String,
    /// The service's message, whole.
    pub message: String,
    pub advice: Vec<String>,
    /// A command that fixes it (copied with `c` in the panel).
    pub command: Option<String>,
}

/// What the explanation may name: the vault, its resource id (from discovery), who is signed in,
/// which CA file kvtui trusted for a local vault.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    pub vault: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub identity: Option<&'a Identity>,
    pub local_ca: Option<&'a str>,
}

/// `Key: 'value'` or `Key: value` on a line of the service's message.
fn field<'m>(message: &'m str, key: &str) -> Option<&'m str> {
    message.lines().find_map(|l| {
        let v = l.trim().strip_prefix(key)?.trim();
        Some(v.trim_matches('\'').trim())
    })
}

/// `oid=…` inside the caller description.
fn caller_oid(message: &str) -> Option<String> {
    let i = message.find("oid=")?;
    let rest = &message[i + 4..];
    let end = rest
        .find([';', '\'', ' ', '\r', '\n'])
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

/// The smallest built-in role that allows a data action.
pub fn role_for(action: &str) -> &'static str {
    let a = action.to_ascii_lowercase();
    if a.ends_with("/readmetadata/action") {
        "Key Vault Reader"
    } else if a.ends_with("/getsecret/action") {
        "Key Vault Secrets User"
    } else {
        "Key Vault Secrets Officer"
    }
}

const PLACEHOLDER_SCOPE: &str =
    "/subscriptions/<SUBSCRIPTION-ID>/resourceGroups/<RESOURCE-GROUP>/providers/Microsoft.KeyVault/vaults/";

pub fn explain(e: &VaultError, ctx: &Context<'_>) -> Explanation {
    let status = match (e.status, &e.code) {
        (Some(s), Some(c)) => format!("{s} · {c}"),
        (Some(s), None) => s.to_string(),
        (None, Some(c)) => c.clone(),
        (None, None) => format!("{:?}", e.kind),
    };
    let vault = ctx.vault.unwrap_or("<VAULT>");
    let assignee = ctx
        .identity
        .and_then(|i| i.assignee().map(str::to_string))
        .or_else(|| caller_oid(&e.detail))
        .unwrap_or_else(|| "<OBJECT-ID>".into());
    let mut x = Explanation {
        title: "Error".into(),
        status,
        message: e.detail.clone(),
        advice: Vec::new(),
        command: None,
    };
    match (e.kind, e.code.as_deref()) {
        (_, Some("ForbiddenByRbac")) => {
            let action = field(&e.detail, "Action:").unwrap_or("the action");
            let role = role_for(action);
            x.title = "Refused by Azure RBAC".into();
            x.advice.push(format!(
                "The vault uses Azure RBAC and you have no role that allows {action}."
            ));
            x.advice.push(format!(
                "The smallest built-in role that does is \"{role}\". (Reader lists secrets and reads their properties, never values; Secrets User also reads values; Secrets Officer also sets, updates, deletes, recovers, backs up, restores and purges.)"
            ));
            x.advice.push("Someone who may assign roles on the vault (Owner, User Access Administrator, Role Based Access Control Administrator) runs this; new assignments take a few minutes to apply.".into());
            let scope = match ctx.scope {
                Some(s) => s.to_string(),
                None => {
                    x.advice.push(
                        "The scope below has placeholders: discovery did not find this vault's subscription and resource group."
                            .into(),
                    );
                    format!("{PLACEHOLDER_SCOPE}{vault}")
                }
            };
            x.command = Some(format!(
                "az role assignment create --role \"{role}\" --assignee {assignee} --scope {scope}"
            ));
        }
        (_, Some("AccessDenied" | "ForbiddenByPolicy")) => {
            let perm = e
                .detail
                .split("does not have secrets ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("get");
            x.title = "Refused by the vault's access policy".into();
            x.advice.push(format!(
                "The vault uses access policies and yours lacks the secret permission '{perm}'."
            ));
            x.advice.push("The object id works for guests too, where a UPN lookup fails. (set-policy replaces the principal's secret permissions: list every one you need.)".into());
            x.command = Some(format!(
                "az keyvault set-policy --name {vault} --object-id {assignee} --secret-permissions {perm}"
            ));
        }
        (_, Some("ForbiddenByFirewall")) => {
            let ip = field(&e.detail, "Client address:").unwrap_or("<YOUR-IP>");
            x.title = "Refused by the vault's firewall".into();
            x.advice.push(format!(
                "The vault only accepts some networks, and it saw you coming from {ip}."
            ));
            x.advice.push("Add your address (or connect from an allowed network: VPN, a VM in the virtual network).".into());
            x.command = Some(format!(
                "az keyvault network-rule add --name {vault} --ip-address {ip}"
            ));
        }
        (_, Some("ForbiddenByConnection")) => {
            x.title = "Public network access is disabled".into();
            x.advice.push("This vault is reachable only through a private endpoint: connect from its virtual network (a VPN, a jump box, Cloud Shell in the VNet), and make sure NAME.vault.azure.net resolves to the private address there.".into());
        }
        (_, Some("SecretDisabled")) | (ErrorKind::Disabled, _) => {
            x.title = "The secret is disabled".into();
            x.advice.push("A disabled secret cannot be read. Press x on it to enable it (needs permission to update it).".into());
        }
        (_, Some("SecretManagedByKeyVault")) => {
            x.title = "A certificate-backed secret".into();
            x.advice.push("Its lifetime belongs to a Key Vault certificate: it is read-only here. Change, renew or delete the certificate instead (az keyvault certificate …).".into());
        }
        (ErrorKind::Forbidden, _) if e.detail.contains("purge protection") => {
            x.title = "Purge protection".into();
            x.advice.push("The vault has purge protection: nobody can purge; the service purges the secret itself when its retention ends (the Deleted tab shows when). You can still recover it.".into());
        }
        (ErrorKind::Forbidden, _) => {
            x.title = "Refused".into();
            x.advice
                .push("The vault refused the request; the message above says why.".into());
        }
        (ErrorKind::WrongTenant, _) => {
            x.title = "Signed in to another tenant".into();
            match &e.tenant {
                Some(t) => {
                    let mine = ctx
                        .identity
                        .and_then(|i| i.tid.as_deref())
                        .map(|m| format!(" (your token is for tenant {m})"))
                        .unwrap_or_default();
                    x.advice.push(format!("The vault belongs to tenant {t}{mine}, and kvtui could not get a token there. Sign in to that tenant (a guest account must accept its invitation first), then press R to retry."));
                    let url = ctx.vault.unwrap_or("…");
                    x.advice.push(format!("Or name the tenant in the config: vaults = [ {{ url = \"{url}\", tenant = \"{t}\" }} ], or start kvtui with --tenant {t}."));
                    x.command = Some(format!("az login --tenant {t}"));
                }
                None => {
                    x.advice.push("The vault belongs to another Entra tenant than your token. Sign in there, or name the tenant.".into());
                    x.command = Some("az login --tenant <VAULT-TENANT-ID>".into());
                }
            }
        }
        (ErrorKind::Unauthorized, _) => {
            x.title = "Not signed in".into();
            x.advice.push("No credential produced a token the vault accepts. Sign in with the Azure CLI, or set a service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), then press R to retry.".into());
            x.command = Some("az login".into());
        }
        (ErrorKind::Tls, _) => {
            x.title = "The vault's certificate is not trusted".into();
            match ctx.local_ca {
                Some(ca) => x.advice.push(format!(
                    "For a local vault kvtui trusts only {ca}. If the vault runs with another CA, pass it with --ca FILE (kvtui emulator prints its CA's path)."
                )),
                None => x.advice.push("The certificate is for another name, expired, or issued by a CA this machine does not trust (a TLS-inspecting proxy?). Retrying will not help.".into()),
            }
        }
        (ErrorKind::Network, _) if e.detail.contains("privatelink") => {
            x.title = "A private-link name".into();
            x.advice.push("Use NAME.vault.azure.net, not NAME.privatelink.vaultcore.azure.net: inside the virtual network DNS resolves it to the private endpoint.".into());
        }
        (ErrorKind::Network, _) => {
            x.title = "Could not reach the vault".into();
            x.advice.push("Nothing answered (DNS, connection or a timeout): the vault may not exist, or a network in between blocks it. Check the name, your VPN or proxy, then press R to retry.".into());
        }
        (ErrorKind::Throttled, _) => {
            x.title = "Throttled".into();
            x.advice.push("The vault limits requests (4,000 per 10 s per vault; 300 creates). Wait a few seconds and retry.".into());
        }
        (ErrorKind::DeletedButRecoverable, _) => {
            x.title = "Deleted but recoverable".into();
            x.advice.push("The name is held by a deleted secret: recover it, or purge it, to use the name again.".into());
        }
        _ => {}
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(inner: &str, detail: &str) -> VaultError {
        VaultError {
            kind: ErrorKind::Forbidden,
            status: Some(403),
            code: Some(inner.into()),
            message: detail.replace('\n', " "),
            detail: detail.into(),
            tenant: None,
        }
    }

    #[test]
    fn rbac_names_the_smallest_role_and_the_exact_command() {
        let e = refusal(
            "ForbiddenByRbac",
            "Caller is not authorized to perform action on resource.\nCaller: appid=app;oid=1111-2222;iss=https://sts.windows.net/t/\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\nVault: kv1;location=local",
        );
        let x = explain(
            &e,
            &Context {
                vault: Some("kv1"),
                scope: Some(
                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
                ),
                ..Default::default()
            },
        );
        assert_eq!(
            x.command.as_deref(),
            Some("az role assignment create --role \"Key Vault Secrets User\" --assignee 1111-2222 --scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1")
        );
        assert!(x.advice.iter().any(|a| a.contains("few minutes")));
        let x = explain(&e, &Context::default());
        assert!(x.command.is_some_and(|c| c.contains("<SUBSCRIPTION-ID>")));
    }

    #[test]
    fn policies_and_firewall_get_their_commands() {
        let e = refusal("AccessDenied", "The user, group or application 'appid=a;oid=9;numgroups=0;iss=x' does not have secrets list permission on key vault 'kv1;location=local'.");
        let x = explain(
            &e,
            &Context {
                vault: Some("kv1"),
                ..Default::default()
            },
        );
        assert_eq!(
            x.command.as_deref(),
            Some("az keyvault set-policy --name kv1 --object-id 9 --secret-permissions list")
        );
        let e = refusal("ForbiddenByFirewall", "Client address is not authorized and caller is not a trusted service.\nClient address: 203.0.113.9\nCaller: oid=1");
        let x = explain(
            &e,
            &Context {
                vault: Some("kv1"),
                ..Default::default()
            },
        );
        assert_eq!(
            x.command.as_deref(),
            Some("az keyvault network-rule add --name kv1 --ip-address 203.0.113.9")
        );
        assert_eq!(
            role_for("Microsoft.KeyVault/vaults/secrets/readMetadata/action"),
            "Key Vault Reader"
        );
        assert_eq!(
            role_for("Microsoft.KeyVault/vaults/secrets/setSecret/action"),
            "Key Vault Secrets Officer"
        );
    }
}
