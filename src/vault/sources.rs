//! Where vaults come from — `--vault`, `KEY_VAULT_NAME`, the config file, recently opened vaults,
//! Resource Manager discovery — merged, de-duplicated by URL, each labelled with its sources.

use std::path::{Path, PathBuf};

use super::credential::Cloud;
use super::discovery::DiscoveredVault;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Flag,
    Env,
    Config,
    Recent,
    Discovered,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Config => "config",
            Source::Recent => "recent",
            Source::Discovered => "discovered",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultEntry {
    pub name: String,
    pub url: String,
    pub sources: Vec<Source>,
    pub subscription: Option<String>,
    pub location: Option<String>,
    pub tenant: Option<String>,
    /// The tenant's display name, from discovery.
    pub tenant_name: Option<String>,
    pub read_only: bool,
    /// The vault's resource id, from discovery.
    pub resource_id: Option<String>,
}

/// A vault URL from a bare name (`kv-prod` → `https://kv-prod.vault.azure.net`) or a URL.
pub fn vault_url(spec: &str, cloud: Cloud) -> Result<String, String> {
    let spec = spec.trim();
    if spec.contains("://") {
        let u = url::Url::parse(spec).map_err(|e| format!("'{spec}' is not a valid URL: {e}"))?;
        if u.scheme() != "https" {
            return Err(format!("'{spec}': vaults are reached over https"));
        }
        let host = u
            .host_str()
            .ok_or_else(|| format!("'{spec}' has no host"))?;
        // A private endpoint's DNS zone: the vault is still called by its public name, which DNS
        // resolves to the private endpoint from inside the network.
        let lower = host.to_ascii_lowercase();
        if let Some(name) = [
            ("privatelink.vaultcore.azure.net", Cloud::Public),
            ("privatelink.vaultcore.azure.cn", Cloud::China),
            ("privatelink.vaultcore.usgovcloudapi.net", Cloud::Usgov),
        ]
        .iter()
        .find_map(|(zone, c)| {
            lower
                .strip_suffix(zone)
                .and_then(|n| n.strip_suffix('.'))
                .map(|n| format!("https://{n}.{}", c.vault_suffix()))
        }) {
            return Err(format!("'{spec}' is a private endpoint's DNS name: call the vault as {name} — from inside the network, DNS resolves that name to the private endpoint (and its certificate is issued for it)"));
        }
        return Ok(match u.port() {
            Some(p) => format!("https://{}:{p}", host.to_ascii_lowercase()),
            None => format!("https://{}", host.to_ascii_lowercase()),
        });
    }
    let ok = (3..=24).contains(&spec.len())
        && spec.starts_with(|c: char| c.is_ascii_alphabetic())
        && spec.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !spec.ends_with('-')
        && !spec.contains("--");
    if !ok {
        return Err(format!(
            "'{spec}' is not a vault name (3–24 letters, digits and hyphens, starting with a letter) or an https URL"
        ));
    }
    Ok(format!(
        "https://{}.{}",
        spec.to_ascii_lowercase(),
        cloud.vault_suffix()
    ))
}

/// The vault's name: the first label of its host.
pub fn vault_name(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
        })
        .unwrap_or_else(|| url.to_string())
}

fn key(url: &str) -> String {
    url.trim_end_matches('/').to_ascii_lowercase()
}

/// The merged list, in the order vaults were first seen.
#[derive(Clone, Debug, Default)]
pub struct VaultList {
    pub entries: Vec<VaultEntry>,
}

impl VaultList {
    /// Adds a vault (or a source to one already listed); returns its index.
    pub fn add(&mut self, url: &str, source: Source) -> usize {
        let k = key(url);
        if let Some(i) = self.entries.iter().position(|e| key(&e.url) == k) {
            let e = &mut self.entries[i];
            if !e.sources.contains(&source) {
                e.sources.push(source);
                e.sources.sort();
            }
            return i;
        }
        self.entries.push(VaultEntry {
            name: vault_name(url),
            url: url.trim_end_matches('/').to_string(),
            sources: vec![source],
            ..VaultEntry::default()
        });
        self.entries.len() - 1
    }

    /// A discovered vault; a new one goes after the others of its tenant and subscription, so the
    /// picker shows them grouped while discovery streams in.
    pub fn add_discovered(&mut self, d: &DiscoveredVault) -> usize {
        let known = self.entries.iter().any(|e| key(&e.url) == key(&d.url));
        let mut i = self.add(&d.url, Source::Discovered);
        if !known {
            let subscription = d
                .subscription_name
                .as_deref()
                .or(Some(d.subscription_id.as_str()));
            let discovered = |e: &VaultEntry| e.sources.contains(&Source::Discovered);
            // After the others of its subscription, else after the others of its tenant.
            let group = self.entries[..i]
                .iter()
                .rposition(|e| {
                    discovered(e)
                        && e.tenant == d.tenant
                        && e.subscription.as_deref() == subscription
                })
                .or_else(|| {
                    self.entries[..i]
                        .iter()
                        .rposition(|e| discovered(e) && d.tenant.is_some() && e.tenant == d.tenant)
                });
            if let Some(g) = group {
                let entry = self.entries.remove(i);
                i = g + 1;
                self.entries.insert(i, entry);
            }
        }
        let e = &mut self.entries[i];
        e.tenant_name = d.tenant_name.clone();
        e.name = d.name.clone();
        e.subscription = d
            .subscription_name
            .clone()
            .or_else(|| Some(d.subscription_id.clone()));
        e.location = d.location.clone();
        e.resource_id = d.resource_id.clone().or(e.resource_id.take());
        if e.tenant.is_none() {
            e.tenant = d.tenant.clone();
        }
        i
    }
}

/// Recently opened vaults (URLs only), most recent first.
/// Where the start-up vault list comes from, in the order it lists them.
pub struct Sources<'a> {
    /// `--vault` (a bad one is an error: the user typed it just now).
    pub flags: &'a [String],
    /// `KEY_VAULT_NAME`.
    pub env: Option<String>,
    /// `vaults = [...]` in the config, with the file's path for messages.
    pub config: &'a [crate::config::VaultSpec],
    pub config_path: Option<&'a Path>,
    /// Recently opened vaults.
    pub recent: Vec<String>,
    pub cloud: Cloud,
}

impl VaultList {
    /// The vaults kvtui starts with: flags, the environment, the config, recent ones (merged by URL).
    /// Returns the list and the warnings (a config entry that is not a vault).
    pub fn from_sources(s: Sources<'_>) -> Result<(VaultList, Vec<String>), String> {
        let mut list = VaultList::default();
        let mut warnings = Vec::new();
        for v in s.flags {
            list.add(
                &vault_url(v, s.cloud).map_err(|e| format!("--vault {e}"))?,
                Source::Flag,
            );
        }
        if let Some(url) = s.env.and_then(|n| vault_url(&n, s.cloud).ok()) {
            list.add(&url, Source::Env);
        }
        for spec in s.config {
            match vault_url(spec.spec(), s.cloud) {
                Ok(url) => {
                    let i = list.add(&url, Source::Config);
                    if let crate::config::VaultSpec::Detailed {
                        tenant, read_only, ..
                    } = spec
                    {
                        list.entries[i].tenant = tenant.clone();
                        list.entries[i].read_only = *read_only;
                    }
                }
                Err(e) => warnings.push(match s.config_path {
                    Some(p) => format!("{}: {e}", p.display()),
                    None => e,
                }),
            }
        }
        for url in s.recent {
            list.add(&url, Source::Recent);
        }
        Ok((list, warnings))
    }

    /// The one vault named by a flag or KEY_VAULT_NAME, to open at once.
    pub fn single_named(&self) -> Option<String> {
        let named: Vec<&VaultEntry> = self
            .entries
            .iter()
            .filter(|e| {
                e.sources
                    .iter()
                    .any(|s| matches!(s, Source::Flag | Source::Env))
            })
            .collect();
        match named.as_slice() {
            [one] => Some(one.url.clone()),
            _ => None,
        }
    }
}

pub fn recent_file() -> Option<PathBuf> {
    crate::paths::state_dir().map(|d| d.join("recent.json"))
}

pub fn load_recent(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .unwrap_or_default()
}

/// Puts `url` first in the recent list (at most 20 kept).
pub fn record_recent(path: &Path, url: &str) -> std::io::Result<()> {
    let mut list = load_recent(path);
    list.retain(|u| key(u) != key(url));
    list.insert(0, url.trim_end_matches('/').to_string());
    list.truncate(20);
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)?;
    }
    let text = serde_json::to_vec(&list).map_err(std::io::Error::other)?;
    crate::paths::write_private_atomic(path, &text)
}

/// The tenants learned from vaults' challenges, beside the recent list: `{url: tenant}`.
pub fn tenants_file(recent: &Path) -> PathBuf {
    recent.with_file_name("tenants.json")
}

pub fn load_tenants(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Remembers a vault's tenant (at most 200 vaults kept).
pub fn record_tenant(path: &Path, url: &str, tenant: &str) -> std::io::Result<()> {
    let mut map = load_tenants(path);
    map.insert(key(url), tenant.to_string());
    while map.len() > 200 {
        let Some(first) = map.keys().next().cloned() else {
            break;
        };
        map.remove(&first);
    }
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)?;
    }
    let text = serde_json::to_vec_pretty(&map).map_err(std::io::Error::other)?;
    crate::paths::write_private_atomic(path, &text)
}

impl VaultList {
    /// Tenants remembered from earlier runs, for the vaults that have none from the config.
    pub fn apply_tenants(&mut self, known: &std::collections::BTreeMap<String, String>) {
        for e in &mut self.entries {
            if e.tenant.is_none() {
                e.tenant = known.get(&key(&e.url)).cloned();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_privatelink_url_is_refused_with_the_name_to_use() {
        let e = vault_url(
            "https://kv-prod.privatelink.vaultcore.azure.net/",
            Cloud::Public,
        )
        .expect_err("privatelink");
        assert!(
            e.contains("call the vault as https://kv-prod.vault.azure.net"),
            "{e}"
        );
        let e = vault_url(
            "https://kv-cn.privatelink.vaultcore.azure.cn",
            Cloud::Public,
        )
        .expect_err("privatelink");
        assert!(e.contains("https://kv-cn.vault.azure.cn"), "{e}");
    }

    #[test]
    fn names_and_urls() {
        assert_eq!(
            vault_url("kv-prod", Cloud::Public).as_deref(),
            Ok("https://kv-prod.vault.azure.net")
        );
        assert_eq!(
            vault_url("kv-prod", Cloud::China).as_deref(),
            Ok("https://kv-prod.vault.azure.cn")
        );
        assert_eq!(
            vault_url("https://Demo.localhost:8443/", Cloud::Public).as_deref(),
            Ok("https://demo.localhost:8443")
        );
        assert!(vault_url("http://x.vault.azure.net", Cloud::Public).is_err());
        assert!(vault_url("a", Cloud::Public).is_err());
        assert!(vault_url("bad_name", Cloud::Public).is_err());
        assert_eq!(vault_name("https://kv-prod.vault.azure.net"), "kv-prod");
    }

    #[test]
    fn merging_keeps_one_entry_per_url_with_every_source() {
        let mut l = VaultList::default();
        l.add("https://a.vault.azure.net", Source::Flag);
        l.add("https://A.vault.azure.net/", Source::Recent);
        l.add("https://b.vault.azure.net", Source::Config);
        l.add_discovered(&DiscoveredVault {
            tenant_name: None,
            resource_id: None,
            name: "a".into(),
            url: "https://a.vault.azure.net/".into(),
            subscription_id: "s".into(),
            subscription_name: Some("Prod".into()),
            location: Some("westeurope".into()),
            tenant: None,
        });
        assert_eq!(l.entries.len(), 2);
        assert_eq!(
            l.entries[0].sources,
            [Source::Flag, Source::Recent, Source::Discovered]
        );
        assert_eq!(l.entries[0].subscription.as_deref(), Some("Prod"));
    }

    #[test]
    fn recent_list_is_most_recent_first_and_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("state/recent.json");
        for i in 0..25 {
            record_recent(&p, &format!("https://v{i}.vault.azure.net")).expect("write");
        }
        record_recent(&p, "https://v3.vault.azure.net").expect("write");
        let l = load_recent(&p);
        assert_eq!(l.len(), 20);
        assert_eq!(l[0], "https://v3.vault.azure.net");
        assert_eq!(l[1], "https://v24.vault.azure.net");
    }
}
