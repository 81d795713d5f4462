//! What a started local vault tells its user: the banner it prints and the ready file scripts read
//! (`--ready-file`), from one description.

use std::path::Path;

use serde::Serialize;

use super::Emulator;

/// The ready file's JSON: `{"port","ca_file","vaults":{name:url},…}`.
#[derive(Clone, Debug, Serialize)]
pub struct Ready {
    pub port: u16,
    pub ca_file: Option<String>,
    pub vaults: serde_json::Map<String, serde_json::Value>,
    pub tenant_id: String,
    /// Every tenant, the home one first (`--tenants`, `--vault-tenant`).
    pub tenants: Vec<String>,
    /// The vaults outside the home tenant: name → tenant.
    pub vault_tenants: serde_json::Map<String, serde_json::Value>,
    pub authority_host: String,
    pub management_endpoint: String,
    pub subscriptions: Vec<String>,
    pub identity_port: Option<u16>,
    pub identity_endpoint: Option<String>,
    pub identity_header: Option<String>,
    pub identity_client_id: Option<String>,
    pub data: Option<String>,
    /// Where it listens (the banner only).
    #[serde(skip)]
    pub addrs: Vec<String>,
}

impl Ready {
    pub fn of(emu: &Emulator, ca_file: Option<&Path>, subscriptions: usize) -> Self {
        Ready {
            port: emu.port,
            ca_file: ca_file.map(|p| p.display().to_string()),
            vaults: emu
                .vaults()
                .into_iter()
                .map(|(n, u)| (n, serde_json::Value::String(u)))
                .collect(),
            tenant_id: emu.tenant.clone(),
            tenants: emu.tenants.clone(),
            vault_tenants: emu
                .vaults()
                .into_iter()
                .map(|(n, _)| (emu.service().vault_tenant(&n), n))
                .filter(|(t, _)| !t.eq_ignore_ascii_case(&emu.tenant))
                .map(|(t, n)| (n, serde_json::Value::String(t)))
                .collect(),
            authority_host: emu.authority_host(),
            management_endpoint: emu.management_endpoint(),
            subscriptions: (0..subscriptions)
                .map(super::arm::subscription_id)
                .collect(),
            identity_port: emu.identity.as_ref().map(|i| i.port),
            identity_endpoint: emu.identity.as_ref().map(|i| i.endpoint.clone()),
            identity_header: emu.identity.as_ref().map(|i| i.header.clone()),
            identity_client_id: emu.identity.as_ref().map(|i| i.client_id.clone()),
            data: emu.data.as_ref().map(|d| d.display().to_string()),
            addrs: emu.addrs.iter().map(|a| a.to_string()).collect(),
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What `kvtui emulator` prints once it listens.
    pub fn banner(&self) -> String {
        let mut out = vec![format!(
            "kvtui local vault listening on {}",
            self.addrs.join(", ")
        )];
        for (name, url) in &self.vaults {
            let tenant = match self.vault_tenants.get(name).and_then(|t| t.as_str()) {
                Some(t) => format!("   (tenant {t})"),
                None => String::new(),
            };
            out.push(format!(
                "  vault {name:<12} {}{tenant}",
                url.as_str().unwrap_or_default()
            ));
        }
        if let Some(ca) = &self.ca_file {
            out.push(format!("CA certificate: {ca}"));
            out.push(format!(
                "  Python: REQUESTS_CA_BUNDLE={ca}   (names *.localhost must resolve to 127.0.0.1)"
            ));
        }
        out.push(format!(
            "Entra token endpoint: AZURE_AUTHORITY_HOST={} (tenant {})",
            self.authority_host, self.tenant_id
        ));
        if self.tenants.len() > 1 {
            out.push(format!("Other tenants: {}", self.tenants[1..].join(", ")));
        }
        out.push(format!("Resource Manager: {}", self.management_endpoint));
        if let (Some(endpoint), Some(header)) = (&self.identity_endpoint, &self.identity_header) {
            out.push("Managed identity (App Service style):".into());
            out.push(format!("  export IDENTITY_ENDPOINT={endpoint}"));
            out.push(format!("  export IDENTITY_HEADER={header}"));
            if let Some(id) = &self.identity_client_id {
                out.push(format!("  its client id (for --grant): {id}"));
            }
        }
        if let Some(data) = &self.data {
            out.push(format!("Data: {data}"));
        }
        out.join("\n")
    }
}
