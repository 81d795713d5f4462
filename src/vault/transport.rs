//! The transport kvtui gives the real `azure_security_keyvault_secrets::SecretClient`: rustls with the
//! ring provider, `*.localhost` resolved to loopback (Debian's resolver does not do it), and, for the
//! local vault, its CA as the only trust root. Everything else uses the platform's roots and DNS.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context, Result};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// reqwest is built without a default crypto provider: install ring once per process.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// True for `localhost` and any `*.localhost` name (RFC 6761: always loopback).
pub fn is_localhost(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// True for a URL whose host is `localhost` or a `*.localhost` name (a local vault).
pub fn is_local_url(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(is_localhost))
        .unwrap_or(false)
}

/// Resolves `*.localhost` to 127.0.0.1 without asking DNS; other names go to the system resolver.
#[derive(Debug, Default)]
pub struct LoopbackResolver;

impl Resolve for LoopbackResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            if is_localhost(&host) {
                let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    0,
                )));
                return Ok(addrs);
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client for the SDK. With `local_ca` (PEM), that CA is the only trust root.
pub fn http_client(local_ca: Option<&str>) -> Result<reqwest::Client> {
    ensure_crypto_provider();
    let mut b = reqwest::Client::builder()
        .dns_resolver(Arc::new(LoopbackResolver))
        .connect_timeout(std::time::Duration::from_secs(10));
    if let Some(pem) = local_ca {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .context("the local vault's CA certificate is not valid PEM")?;
        b = b.tls_certs_only([cert]);
    }
    b.build().context("building the HTTP client")
}

/// A `SecretClient` with default options except the transport.
pub fn secret_client(
    vault_url: &str,
    credential: Arc<dyn TokenCredential>,
    http: reqwest::Client,
) -> Result<SecretClient> {
    secret_client_with_retry(vault_url, credential, http, None)
}

/// The retry policy of an interactive tool: the SDK's default keeps retrying a vault it cannot reach
/// for about 80 s; this gives up after 5 retries (about 6 s when nothing answers) while still
/// honouring `Retry-After` from throttling or a busy service, within 45 s.
pub fn interactive_retry() -> RetryOptions {
    RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: azure_core::time::Duration::milliseconds(200),
        max_retries: 5,
        max_total_elapsed: azure_core::time::Duration::seconds(45),
        max_delay: azure_core::time::Duration::seconds(30),
    })
}

/// What is wrong with a certificate, when an error comes from one (rustls's words, outermost cause
/// first): retrying cannot help, so the transport reports it as a non-transport error.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let chain = super::error::cause_chain(e);
    let lower = chain.to_ascii_lowercase();
    let hit = [
        "invalid peer certificate",
        "unknownissuer",
        "unknown issuer",
        "notvalidforname",
        "not valid for name",
        "certificate expired",
        "badsignature",
        "certificate verify failed",
        "invalidcertificate",
    ]
    .iter()
    .any(|w| lower.contains(w));
    hit.then_some(chain)
}

/// The reqwest transport with one change: a certificate failure is not retried (the SDK retries
/// every connection error, which made a wrong CA take ~13 s to report).
#[derive(Debug)]
pub struct Classified(pub reqwest::Client);

#[async_trait::async_trait]
impl azure_core::http::HttpClient for Classified {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        match self.0.execute_request(request).await {
            Err(e) => match certificate_problem(&e) {
                Some(problem) => Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Other,
                    format!("TLS certificate problem: {problem}"),
                )),
                None => Err(e),
            },
            ok => ok,
        }
    }
}

/// A `SecretClient` with default options except the transport and, when given, the retry policy.
pub fn secret_client_with_retry(
    vault_url: &str,
    credential: Arc<dyn TokenCredential>,
    http: reqwest::Client,
    retry: Option<RetryOptions>,
) -> Result<SecretClient> {
    let mut client_options = ClientOptions {
        transport: Some(Transport::new(Arc::new(Classified(http)))),
        ..ClientOptions::default()
    };
    if let Some(r) = retry {
        client_options.retry = r;
    }
    let options = SecretClientOptions {
        client_options,
        ..SecretClientOptions::default()
    };
    SecretClient::new(vault_url, credential, Some(options))
        .with_context(|| format!("creating a client for {vault_url}"))
}

/// The token a local vault accepts: it checks that a bearer token is present, not who signed it.
#[derive(Debug, Default)]
pub struct LocalTokenCredential;

#[async_trait::async_trait]
impl TokenCredential for LocalTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            "kvtui-local-token",
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        ))
    }
}

/// A token for one tenant of a local vault, from its own Entra endpoint
/// (`https://login.localhost:PORT/{tenant}/oauth2/v2.0/token`), as a client of its own. Used for a
/// local vault in another tenant (learned from its challenge) when no credential is configured; when
/// that endpoint does not answer (another local server), the fixed local token is used.
pub struct LocalTenantCredential {
    pub token_url: String,
    pub http: reqwest::Client,
    cached: std::sync::Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for LocalTenantCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTenantCredential")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl LocalTenantCredential {
    /// For the vault at `vault_url` (its port serves the token endpoint too) and `tenant`.
    pub fn new(vault_url: &str, tenant: &str, http: reqwest::Client) -> Self {
        let port = url::Url::parse(vault_url)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(443);
        Self {
            token_url: format!("https://login.localhost:{port}/{tenant}/oauth2/v2.0/token"),
            http,
            cached: std::sync::Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl TokenCredential for LocalTenantCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let fresh = |t: &AccessToken| {
            t.expires_on > time::OffsetDateTime::now_utc() + time::Duration::minutes(5)
        };
        if let Some(t) = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(fresh)
        {
            return Ok(t);
        }
        let scope = scopes
            .first()
            .copied()
            .unwrap_or("https://vault.azure.net/.default");
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", "kvtui-local")
            .append_pair("client_secret", "local")
            .append_pair("scope", scope)
            .finish();
        let answer = async {
            let r = self
                .http
                .post(&self.token_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .ok()?;
            let ok = r.status().is_success();
            let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
            if !ok {
                return Some(Err(body["error_description"]
                    .as_str()
                    .unwrap_or("the local token endpoint refused")
                    .to_string()));
            }
            let token = body["access_token"].as_str()?.to_string();
            let secs = body["expires_in"].as_i64().unwrap_or(3599);
            Some(Ok(AccessToken::new(
                token,
                time::OffsetDateTime::now_utc() + time::Duration::seconds(secs),
            )))
        }
        .await;
        match answer {
            Some(Ok(t)) => {
                *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.clone());
                Ok(t)
            }
            Some(Err(why)) => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!(
                    "the local vault's token endpoint ({}) refused: {why}",
                    self.token_url
                ),
            )),
            None => LocalTokenCredential.get_token(scopes, options).await,
        }
    }
}

/// A client for a vault on the local vault server, trusting `ca_pem`.
pub fn local_secret_client(vault_url: &str, ca_pem: &str) -> Result<SecretClient> {
    secret_client(
        vault_url,
        Arc::new(LocalTokenCredential),
        http_client(Some(ca_pem))?,
    )
}
