//! kvtui's credential chain. `auto` tries, in order: an environment service principal, workload
//! identity, managed identity (only when `IDENTITY_ENDPOINT` is set: a VM's metadata endpoint is never
//! probed implicitly), the Azure CLI, the Azure Developer CLI. An explicit `--auth` uses that one only.
//!
//! Every attempt builds the candidates anew from the environment, so when the user fixes things
//! (`az login` in another pane) the next attempt works without a restart. A failed chain says, for
//! each credential, why it did not work and how to fix it.

use std::sync::{Arc, Mutex};

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzureDeveloperCliCredential,
    AzureDeveloperCliCredentialOptions, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use super::error::cause_chain;

/// Which credential to use (`--auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    Auto,
    Cli,
    Azd,
    Env,
    ManagedIdentity,
    WorkloadIdentity,
}

/// The sovereign cloud: vault suffix, Entra authority and Resource Manager endpoint together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cloud {
    #[default]
    Public,
    China,
    Usgov,
}

impl Cloud {
    pub fn vault_suffix(self) -> &'static str {
        match self {
            Cloud::Public => "vault.azure.net",
            Cloud::China => "vault.azure.cn",
            Cloud::Usgov => "vault.usgovcloudapi.net",
        }
    }

    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::China => "https://login.chinacloudapi.cn",
            Cloud::Usgov => "https://login.microsoftonline.us",
        }
    }

    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com",
            Cloud::China => "https://management.chinacloudapi.cn",
            Cloud::Usgov => "https://management.usgovcloudapi.net",
        }
    }
}

/// How credentials are built.
#[derive(Clone)]
pub struct AuthConfig {
    pub mode: AuthMode,
    pub tenant: Option<String>,
    /// The Entra authority; `None` leaves it to `AZURE_AUTHORITY_HOST` or the public cloud.
    pub authority_host: Option<String>,
    /// The HTTP client credentials that call Entra or a managed-identity endpoint use.
    pub http: reqwest::Client,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl AuthConfig {
    fn client_options(&self) -> ClientOptions {
        let cloud = self.authority_host.as_ref().map(|host| {
            let mut c = CustomConfiguration::default();
            c.authority_host = host.clone();
            Arc::new(CloudConfiguration::from(c))
        });
        ClientOptions {
            transport: Some(Transport::new(Arc::new(self.http.clone()))),
            cloud,
            ..ClientOptions::default()
        }
    }

    fn tenant(&self) -> Option<String> {
        self.tenant.clone().or_else(|| env("AZURE_TENANT_ID"))
    }

    /// One candidate: the credential, or why it is not configured.
    fn build(&self, mode: AuthMode) -> Result<Arc<dyn TokenCredential>, String> {
        let e = |err: Error| cause_chain(&err);
        match mode {
            AuthMode::Env => {
                let (Some(tenant), Some(client), Some(secret)) = (
                    self.tenant(),
                    env("AZURE_CLIENT_ID"),
                    env("AZURE_CLIENT_SECRET"),
                ) else {
                    return Err("not configured: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET".into());
                };
                let options = ClientSecretCredentialOptions {
                    client_options: self.client_options(),
                };
                ClientSecretCredential::new(&tenant, client, Secret::new(secret), Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::WorkloadIdentity => {
                let (Some(file), Some(tenant), Some(client)) = (
                    env("AZURE_FEDERATED_TOKEN_FILE"),
                    self.tenant(),
                    env("AZURE_CLIENT_ID"),
                ) else {
                    return Err("not configured: set AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and AZURE_CLIENT_ID".into());
                };
                let options = WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: self.client_options(),
                    },
                    client_id: Some(client),
                    tenant_id: Some(tenant),
                    token_file_path: Some(file.into()),
                };
                WorkloadIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::ManagedIdentity => {
                let options = ManagedIdentityCredentialOptions {
                    client_options: self.client_options(),
                    ..ManagedIdentityCredentialOptions::default()
                };
                ManagedIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::Cli => {
                let options = AzureCliCredentialOptions {
                    tenant_id: self.tenant.clone(),
                    ..AzureCliCredentialOptions::default()
                };
                AzureCliCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::Azd => {
                let options = AzureDeveloperCliCredentialOptions {
                    tenant_id: self.tenant.clone(),
                    ..AzureDeveloperCliCredentialOptions::default()
                };
                AzureDeveloperCliCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::Auto => Err("auto is a chain, not a credential".into()),
        }
    }

    /// The candidates to try, in order, for this configuration.
    fn candidates(&self) -> Vec<AuthMode> {
        match self.mode {
            AuthMode::Auto => {
                let mut c = vec![AuthMode::Env, AuthMode::WorkloadIdentity];
                if env("IDENTITY_ENDPOINT").is_some() {
                    c.push(AuthMode::ManagedIdentity);
                }
                c.extend([AuthMode::Cli, AuthMode::Azd]);
                c
            }
            m => vec![m],
        }
    }

    /// True when `auto` has an explicit source (environment principal, workload or managed identity).
    pub fn has_explicit_source(&self) -> bool {
        (env("AZURE_CLIENT_ID").is_some() && env("AZURE_CLIENT_SECRET").is_some())
            || env("AZURE_FEDERATED_TOKEN_FILE").is_some()
            || env("IDENTITY_ENDPOINT").is_some()
    }
}

pub fn credential_name(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Env => "EnvironmentCredential",
        AuthMode::WorkloadIdentity => "WorkloadIdentityCredential",
        AuthMode::ManagedIdentity => "ManagedIdentityCredential",
        AuthMode::Cli => "AzureCliCredential",
        AuthMode::Azd => "AzureDeveloperCliCredential",
        AuthMode::Auto => "DefaultCredential",
    }
}

fn fix_for(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Env => "set the three AZURE_* variables of a service principal",
        AuthMode::WorkloadIdentity => "run in a pod with workload identity, or set its variables",
        AuthMode::ManagedIdentity => "run where a managed identity is assigned",
        AuthMode::Cli => "run `az login`",
        AuthMode::Azd => "run `azd auth login`",
        AuthMode::Auto => "",
    }
}

/// The chain: tries each candidate until one gives a token, and remembers which one did.
pub struct ChainCredential {
    config: AuthConfig,
    /// The credential that last worked (reused until it fails).
    current: Mutex<Option<(AuthMode, Arc<dyn TokenCredential>)>>,
    /// Who its last token says the caller is.
    who: Mutex<Option<Identity>>,
}

/// Who kvtui is signed in as, from the last token's claims (read, not verified: the vault verifies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The credential that produced the token.
    pub credential: String,
    pub upn: Option<String>,
    pub appid: Option<String>,
    pub oid: Option<String>,
    pub tid: Option<String>,
}

impl Identity {
    /// Reads an access token's claims; a token that is not a JWT says only which credential.
    pub fn from_token(credential: &str, token: &str) -> Identity {
        use base64::Engine as _;
        let claims: serde_json::Value = token
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p.trim_end_matches('='))
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        let s = |k: &str| claims[k].as_str().map(str::to_string);
        Identity {
            credential: credential.to_string(),
            upn: s("upn")
                .or_else(|| s("preferred_username"))
                .or_else(|| s("unique_name")),
            appid: s("appid").or_else(|| s("azp")),
            oid: s("oid"),
            tid: s("tid"),
        }
    }

    /// Who, for the header: the user, else the application.
    pub fn who(&self) -> String {
        match (&self.upn, &self.appid) {
            (Some(u), _) => u.clone(),
            (None, Some(a)) => format!("app {a}"),
            (None, None) => self.credential.clone(),
        }
    }

    /// The id an assignment or access policy names: the object id (it works for guests too).
    pub fn assignee(&self) -> Option<&str> {
        self.oid.as_deref().or(self.upn.as_deref())
    }
}

impl std::fmt::Debug for ChainCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainCredential")
            .field("mode", &self.config.mode)
            .finish_non_exhaustive()
    }
}

impl ChainCredential {
    pub fn new(config: AuthConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            current: Mutex::new(None),
            who: Mutex::new(None),
        })
    }

    /// The name of the credential that last produced a token.
    pub fn identity(&self) -> Option<&'static str> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(m, _)| credential_name(*m))
    }

    /// Who the last token says the caller is.
    pub fn who(&self) -> Option<Identity> {
        self.who.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn saw(&self, mode: AuthMode, token: &AccessToken) {
        let id = Identity::from_token(credential_name(mode), token.token.secret());
        *self.who.lock().unwrap_or_else(|p| p.into_inner()) = Some(id);
    }
}

#[async_trait::async_trait]
impl TokenCredential for ChainCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let cached = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some((mode, cred)) = cached {
            if let Ok(t) = cred.get_token(scopes, options.clone()).await {
                self.saw(mode, &t);
                return Ok(t);
            }
        }
        let mut failures = Vec::new();
        for mode in self.config.candidates() {
            match self.config.build(mode) {
                Err(why) => failures.push(format!("{} {why}", credential_name(mode))),
                Ok(cred) => match cred.get_token(scopes, options.clone()).await {
                    Ok(token) => {
                        *self.current.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some((mode, cred));
                        self.saw(mode, &token);
                        return Ok(token);
                    }
                    Err(err) => failures.push(format!(
                        "{} failed: {} — to fix: {}",
                        credential_name(mode),
                        // One line each: the sign-in page lists one credential a line.
                        cause_chain(&err)
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                        fix_for(mode)
                    )),
                },
            }
        }
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Err(Error::with_message(
            ErrorKind::Credential,
            // One credential a line: the sign-in page lists them.
            format!("no credential could get a token —\n{}", failures.join("\n")),
        ))
    }
}
