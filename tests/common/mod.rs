//! Shared test harness: an in-process local vault on an ephemeral loopback port, reached over TLS by
//! the real SecretClient (or raw reqwest for what the SDK cannot send).
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use azure_core::error::ErrorKind;
use azure_core::http::RequestContent;
use azure_security_keyvault_secrets::models::{Secret, SecretAttributes, SetSecretParameters};
use azure_security_keyvault_secrets::SecretClient;
use kvtui::emulator::{Config, Emulator, KeyStore, VaultPolicy};
use kvtui::vault::credential::{AuthConfig, AuthMode};
use kvtui::vault::discovery::DiscoveryConfig;
use kvtui::vault::{Envelope, PollConfig, RequestId, Response, Worker, WorkerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

/// The configuration tests start from: loopback IPv4, a free port, keys in memory.
pub fn config(policy: VaultPolicy, vaults: &[&str]) -> Config {
    // Tests never probe a VM's metadata endpoint (169.254.169.254), even on an Azure VM.
    std::env::set_var("KVTUI_NO_IMDS", "1");
    Config {
        listen: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        port: 0,
        vaults: vaults.iter().map(|v| v.to_string()).collect(),
        policy,
        keys: KeyStore::Memory,
        ..Config::default()
    }
}

pub async fn start_config(config: Config) -> Emulator {
    Emulator::start(config).await.expect("local vault starts")
}

pub async fn start_with(policy: VaultPolicy, vaults: &[&str]) -> Emulator {
    start_config(config(policy, vaults)).await
}

pub async fn start() -> Emulator {
    start_with(VaultPolicy::default(), &["demo"]).await
}

pub fn client(emu: &Emulator, vault: &str) -> SecretClient {
    kvtui::vault::transport::local_secret_client(&emu.vault_url(vault), &emu.ca_pem)
        .expect("client builds")
}

/// A raw HTTP client trusting the local CA; `http1` forces HTTP/1.1 (as Python uses).
pub fn raw(emu: &Emulator, http1: bool) -> reqwest::Client {
    kvtui::vault::transport::ensure_crypto_provider();
    let cert = reqwest::Certificate::from_pem(emu.ca_pem.as_bytes()).expect("CA pem");
    let mut b = reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(
            kvtui::vault::transport::LoopbackResolver,
        ))
        .tls_certs_only([cert]);
    if http1 {
        b = b.http1_only();
    }
    b.build().expect("reqwest client")
}

pub fn params(value: &str) -> RequestContent<SetSecretParameters> {
    SetSecretParameters {
        value: Some(value.to_string()),
        ..Default::default()
    }
    .try_into()
    .expect("serialisable")
}

pub fn params_with(
    value: &str,
    content_type: Option<&str>,
    tags: &[(&str, &str)],
    enabled: Option<bool>,
) -> RequestContent<SetSecretParameters> {
    SetSecretParameters {
        value: Some(value.to_string()),
        content_type: content_type.map(str::to_string),
        tags: if tags.is_empty() {
            None
        } else {
            Some(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<HashMap<_, _>>(),
            )
        },
        secret_attributes: enabled.map(|e| SecretAttributes {
            enabled: Some(e),
            ..Default::default()
        }),
    }
    .try_into()
    .expect("serialisable")
}

pub async fn set(c: &SecretClient, name: &str, value: &str) -> Secret {
    c.set_secret(name, params(value), None)
        .await
        .unwrap_or_else(|e| panic!("set {name}: {e}"))
        .into_model()
        .expect("secret model")
}

/// The backup blob of `name`, as the SDK hands it over.
pub async fn backup(c: &SecretClient, name: &str) -> Vec<u8> {
    c.backup_secret(name, None)
        .await
        .unwrap_or_else(|e| panic!("backup {name}: {e}"))
        .into_model()
        .expect("backup model")
        .value
        .expect("blob")
}

/// What the service said in an error: status, code, inner code, message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    pub status: u16,
    pub code: String,
    pub inner: Option<String>,
    pub message: String,
}

pub fn api_err(e: &azure_core::Error) -> ApiErr {
    match e.kind() {
        ErrorKind::HttpResponse {
            status,
            raw_response: Some(raw),
            ..
        } => {
            let v: serde_json::Value =
                serde_json::from_slice(raw.body()).unwrap_or(serde_json::Value::Null);
            ApiErr {
                status: u16::from(*status),
                code: v["error"]["code"].as_str().unwrap_or_default().to_string(),
                inner: v["error"]["innererror"]["code"]
                    .as_str()
                    .map(str::to_string),
                message: v["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            }
        }
        other => panic!("expected an HTTP error response, got {other:?}: {e}"),
    }
}

pub fn expect_err<T>(r: azure_core::Result<T>) -> ApiErr {
    match r {
        Ok(_) => panic!("expected an error, the call succeeded"),
        Err(e) => api_err(&e),
    }
}

/// Polls `f` until it returns Some, or panics after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A worker on the local vault as kvtui makes one: `auto` credentials (the local vault's own
/// tokens), its CA, quick pollers, discovery through its Resource Manager endpoint.
pub fn worker_for(emu: &Emulator) -> (Worker, UnboundedReceiver<Envelope>) {
    let http = kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http");
    Worker::spawn(WorkerConfig {
        auth: AuthConfig {
            mode: AuthMode::Auto,
            tenant: None,
            authority_host: None,
            http: http.clone(),
        },
        local_ca: Some(emu.ca_pem.clone()),
        poll: PollConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            timeout: Duration::from_secs(30),
        },
        discovery: Some(DiscoveryConfig {
            arm_endpoint: emu.management_endpoint(),
            http,
            local_token: true,
        }),
        vault_tenants: Default::default(),
    })
}

/// Collects the responses of `id` until its final one (Progress and streamed items included).
pub async fn responses(rx: &mut UnboundedReceiver<Envelope>, id: RequestId) -> Vec<Response> {
    responses_within(rx, id, Duration::from_secs(60)).await
}

/// `responses`, for a request that may take long (a discovery over many subscriptions).
pub async fn responses_within(
    rx: &mut UnboundedReceiver<Envelope>,
    id: RequestId,
    within: Duration,
) -> Vec<Response> {
    let mut out = Vec::new();
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let env = tokio::time::timeout(left, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no final response for request {id}: got {out:?}"))
            .expect("worker alive");
        if env.id == kvtui::vault::worker::UNSOLICITED {
            continue;
        }
        assert_eq!(
            env.id, id,
            "a response of another request: {:?}",
            env.response
        );
        let last = env.response.is_final();
        out.push(env.response);
        if last {
            return out;
        }
    }
}
