//! kvtui's credential chain. `auto` tries, in order: an environment service principal (secret or
//! certificate), workload identity, managed identity (when `IDENTITY_ENDPOINT` is set), the Azure CLI,
//! the Azure Developer CLI, and last a VM's managed identity — only where the metadata endpoint can
//! answer (named by `AZURE_POD_IDENTITY_AUTHORITY_HOST`, or an Azure VM by its DMI tag; never
//! probed elsewhere). An explicit `--auth` uses that one only.
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
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
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
    /// A VM's managed identity through the metadata endpoint: `auto` tries it last, and only where
    /// it can answer (see `machine::imds_worth_trying`).
    #[value(skip)]
    Imds,
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

    /// The Entra authority this configuration signs in at.
    fn authority(&self) -> String {
        self.authority_host
            .clone()
            .or_else(|| env("AZURE_AUTHORITY_HOST"))
            .unwrap_or_else(|| Cloud::Public.authority_host().to_string())
    }

    fn tenant(&self) -> Option<String> {
        self.tenant.clone().or_else(|| env("AZURE_TENANT_ID"))
    }

    /// One candidate: the credential, or why it is not configured.
    fn build(&self, mode: AuthMode) -> Result<Arc<dyn TokenCredential>, String> {
        let e = |err: Error| cause_chain(&err);
        match mode {
            AuthMode::Env => {
                let (Some(tenant), Some(client)) = (self.tenant(), env("AZURE_CLIENT_ID")) else {
                    return Err("not configured: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)".into());
                };
                if let Some(secret) = env("AZURE_CLIENT_SECRET") {
                    let options = ClientSecretCredentialOptions {
                        client_options: self.client_options(),
                    };
                    return ClientSecretCredential::new(
                        &tenant,
                        client,
                        Secret::new(secret),
                        Some(options),
                    )
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e);
                }
                let Some(path) = env("AZURE_CLIENT_CERTIFICATE_PATH") else {
                    return Err("not configured: AZURE_CLIENT_ID is set but neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH".into());
                };
                if env("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
                    return Err(format!("{path}: a password-protected certificate (AZURE_CLIENT_CERTIFICATE_PASSWORD) is not supported: give a PEM with an unencrypted key (`openssl pkcs12 -in cert.pfx -out cert.pem -nodes`, kept 0600)"));
                }
                let audience = format!(
                    "{}/{tenant}/oauth2/v2.0/token",
                    self.authority().trim_end_matches('/')
                );
                let assertion = super::certificate::CertificateAssertion::from_pem_file(
                    std::path::Path::new(&path),
                    &client,
                    &audience,
                )?;
                let options = ClientAssertionCredentialOptions {
                    client_options: self.client_options(),
                };
                azure_identity::ClientAssertionCredential::new(
                    tenant,
                    client,
                    assertion,
                    Some(options),
                )
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
            // App Service and the like (`IDENTITY_ENDPOINT`) through the SDK; elsewhere the VM's
            // metadata endpoint. A user-assigned identity by `AZURE_CLIENT_ID`.
            AuthMode::ManagedIdentity if env("IDENTITY_ENDPOINT").is_some() => {
                let options = ManagedIdentityCredentialOptions {
                    client_options: self.client_options(),
                    user_assigned_id: env("AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                };
                ManagedIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::ManagedIdentity | AuthMode::Imds => {
                Ok(Arc::new(super::machine::ImdsCredential {
                    endpoint: super::machine::imds_endpoint(),
                    client_id: env("AZURE_CLIENT_ID"),
                    http: self.http.clone(),
                }))
            }
            AuthMode::Cli => {
                let options = AzureCliCredentialOptions {
                    tenant_id: self.tenant.clone(),
                    executor: Some(Arc::new(super::machine::TimedExecutor {
                        limit: super::machine::cli_timeout(),
                    })),
                    ..AzureCliCredentialOptions::default()
                };
                AzureCliCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(e)
            }
            AuthMode::Azd => {
                let options = AzureDeveloperCliCredentialOptions {
                    tenant_id: self.tenant.clone(),
                    executor: Some(Arc::new(super::machine::TimedExecutor {
                        limit: super::machine::cli_timeout(),
                    })),
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
                if env("IDENTITY_ENDPOINT").is_none() && super::machine::imds_worth_trying() {
                    c.push(AuthMode::Imds);
                }
                c
            }
            m => vec![m],
        }
    }

    /// The Azure CLI cloud this configuration needs, when it is a sovereign one kvtui knows.
    fn az_cloud(&self) -> Option<&'static str> {
        let authority = self.authority();
        [
            (Cloud::Public, "AzureCloud"),
            (Cloud::China, "AzureChinaCloud"),
            (Cloud::Usgov, "AzureUSGovernment"),
        ]
        .into_iter()
        .find(|(c, _)| authority.trim_end_matches('/') == c.authority_host())
        .map(|(_, name)| name)
    }

    /// When `az` is set to another cloud than the one kvtui signs in to: the fix.
    pub async fn az_cloud_mismatch(&self) -> Option<String> {
        let wanted = self.az_cloud()?;
        let run = super::machine::TimedExecutor {
            limit: std::time::Duration::from_secs(10),
        };
        let args: Vec<&std::ffi::OsStr> = ["cloud", "show", "--query", "name", "-o", "tsv"]
            .iter()
            .map(std::ffi::OsStr::new)
            .collect();
        let out = azure_identity::Executor::run(&run, std::ffi::OsStr::new("az"), &args)
            .await
            .ok()?;
        let current = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // A cloud's name is one word (AzureCloud, AzureChinaCloud…); anything else is not an answer.
        let is_name = current.len() < 40
            && current.starts_with("Azure")
            && current.bytes().all(|b| b.is_ascii_alphanumeric());
        (out.status.success() && is_name && current != wanted).then(|| {
            format!("the Azure CLI is set to {current}, kvtui to {wanted}: run `az cloud set --name {wanted}`, then `az login`")
        })
    }

    /// Whether requests to this vault use the local vault's own tokens: a `*.localhost` vault
    /// under `auto` with no credential of the environment configured.
    pub fn uses_local_tokens(&self, vault_url: &str) -> bool {
        super::transport::is_local_url(vault_url)
            && self.mode == AuthMode::Auto
            && !self.has_explicit_source()
    }

    /// True when `auto` has an explicit source (environment principal, workload or managed identity).
    pub fn has_explicit_source(&self) -> bool {
        (env("AZURE_CLIENT_ID").is_some()
            && (env("AZURE_CLIENT_SECRET").is_some()
                || env("AZURE_CLIENT_CERTIFICATE_PATH").is_some()))
            || env("AZURE_FEDERATED_TOKEN_FILE").is_some()
            || env("IDENTITY_ENDPOINT").is_some()
            || env("AZURE_POD_IDENTITY_AUTHORITY_HOST").is_some()
    }
}

pub fn credential_name(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Env => "EnvironmentCredential",
        AuthMode::WorkloadIdentity => "WorkloadIdentityCredential",
        AuthMode::ManagedIdentity => "ManagedIdentityCredential",
        AuthMode::Imds => "ManagedIdentityCredential (VM)",
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
        AuthMode::Imds => "assign a managed identity to this VM",
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
                    Err(err) => {
                        // `az` signed in to another cloud than kvtui's --cloud: say which.
                        let fix = match mode {
                            AuthMode::Cli => self.config.az_cloud_mismatch().await,
                            _ => None,
                        }
                        .unwrap_or_else(|| fix_for(mode).to_string());
                        failures.push(format!(
                            "{} failed: {} — to fix: {fix}",
                            credential_name(mode),
                            // One line each: the sign-in page lists one credential a line.
                            cause_chain(&err)
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" "),
                        ))
                    }
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

/// A vault's tenant, given to the credential only when the credential's own token is for another
/// one: an Azure CLI signed in to that tenant already (Cloud Shell, a managed-identity account, both
/// of which refuse `--tenant`) is used as it is.
pub struct TenantCredential {
    pub default: Arc<ChainCredential>,
    pub tenant: String,
    pub other: Arc<ChainCredential>,
}

impl std::fmt::Debug for TenantCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCredential")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TokenCredential for TenantCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        if let Ok(token) = self.default.get_token(scopes, options.clone()).await {
            let tid = Identity::from_token("", token.token.secret()).tid;
            if tid.is_some_and(|t| t.eq_ignore_ascii_case(&self.tenant)) {
                return Ok(token);
            }
        }
        self.other.get_token(scopes, options).await.map_err(|e| {
            Error::with_message(
                ErrorKind::Credential,
                format!(
                    "could not get a token for tenant {}: {}",
                    self.tenant,
                    cause_chain(&e)
                ),
            )
        })
    }
}
