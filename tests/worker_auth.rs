//! The worker's credentials end to end against a local vault that accepts only tokens it issued:
//! the Azure CLI (a stand-in `az` first on PATH), the chain's failure message and recovery without a
//! restart, managed identity, and an environment service principal through the local Entra endpoint.
//! One test: the scenarios change process-wide environment variables, so they run in sequence.

mod common;

use std::time::Duration;

use azure_core::credentials::TokenCredential;
use common::*;
use kvtui::emulator::{Clients, Emulator, VaultPolicy};
use kvtui::vault::credential::{AuthConfig, AuthMode, ChainCredential};
use kvtui::vault::{Envelope, ErrorKind, PollConfig, Request, Response, Worker, WorkerConfig};
use tokio::sync::mpsc::UnboundedReceiver;

fn worker(
    emu: &Emulator,
    mode: AuthMode,
    authority_host: Option<String>,
) -> (Worker, UnboundedReceiver<Envelope>) {
    worker_with_tenants(emu, mode, authority_host, Default::default())
}

fn worker_with_tenants(
    emu: &Emulator,
    mode: AuthMode,
    authority_host: Option<String>,
    vault_tenants: std::collections::HashMap<String, String>,
) -> (Worker, UnboundedReceiver<Envelope>) {
    Worker::spawn(WorkerConfig {
        auth: AuthConfig {
            mode,
            tenant: None,
            authority_host,
            http: kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http"),
        },
        local_ca: Some(emu.ca_pem.clone()),
        poll: PollConfig::default(),
        discovery: None,
        vault_tenants,
    })
}

async fn get(w: &Worker, rx: &mut UnboundedReceiver<Envelope>, vault: &str) -> Response {
    let id = w.send(Request::GetSecret {
        vault: vault.into(),
        name: "app-secret".into(),
        version: None,
    });
    loop {
        let env = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("answer")
            .expect("alive");
        if env.id == kvtui::vault::worker::UNSOLICITED {
            // The worker says who it is signed in as before the answer that used the token.
            continue;
        }
        assert_eq!(env.id, id);
        return env.response;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_managed_identity_and_service_principal_credentials() {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.require_issued_tokens = true;
    cfg.identity_port = Some(0);
    cfg.clients = Clients(
        [("app-id".to_string(), "app-secret-value".to_string())].into(),
        false,
    );
    let emu = start_config(cfg).await;
    let vault = emu.vault_url("demo");
    let (issued, _) = emu
        .service()
        .issuer()
        .issue("cli-user", &format!("https://localhost:{}", emu.port));
    emu.service()
        .with_vault("demo", |v| {
            let s = kvtui::emulator::store::NewSecret {
                value: zeroize::Zeroizing::new("from-the-vault".into()),
                content_type: None,
                tags: None,
                attributes: Default::default(),
            };
            v.set("app-secret", s, "1".repeat(32), 0).map(|_| ())
        })
        .expect("vault")
        .expect("set");
    for v in [
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "AZURE_AUTHORITY_HOST",
    ] {
        std::env::remove_var(v);
    }

    // 1. Azure CLI: a stand-in `az` that first says "run az login", then prints a token.
    let bin = tempfile::tempdir().expect("tempdir");
    let fail_marker = bin.path().join("not-logged-in");
    std::fs::write(&fail_marker, "").expect("marker");
    let token_json = bin.path().join("token.json");
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    std::fs::write(&token_json, format!(
        r#"{{"accessToken":"{issued}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":{expires},"subscription":"s","tenant":"t","tokenType":"Bearer"}}"#
    )).expect("token");
    let az = bin.path().join("az");
    std::fs::write(&az, format!(
        "#!/bin/sh\n# stand-in for: az account get-access-token --output json\nif [ -f '{}' ]; then echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1; fi\necho \"$@\" >> '{}'\ncat '{}'\n",
        fail_marker.display(), bin.path().join("az-args").display(), token_json.display()
    )).expect("az");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", &path);

    let (w, mut rx) = worker(&emu, AuthMode::Cli, None);
    let Response::Failed(e) = get(&w, &mut rx, &vault).await else {
        panic!("not logged in yet")
    };
    assert_eq!(e.kind, ErrorKind::Unauthorized, "{e:?}");
    assert!(
        e.message.contains("AzureCliCredential") && e.message.contains("az login"),
        "{}",
        e.message
    );
    // The user runs `az login` in another pane; the next attempt works, no restart.
    std::fs::remove_file(&fail_marker).expect("log in");
    let Response::Value { value, .. } = get(&w, &mut rx, &vault).await else {
        panic!("after az login")
    };
    assert_eq!(value.expose(), "from-the-vault");
    assert_eq!(w.identity(), Some("AzureCliCredential"));

    // A vault's own tenant (from the config, or from discovery) goes to the credential.
    let (w, mut rx) = worker_with_tenants(
        &emu,
        AuthMode::Cli,
        None,
        [(vault.clone(), "tenant-of-this-vault".to_string())].into(),
    );
    let Response::Value { .. } = get(&w, &mut rx, &vault).await else {
        panic!("with the vault's tenant")
    };
    let args = std::fs::read_to_string(bin.path().join("az-args")).expect("az was called");
    assert!(
        args.lines()
            .last()
            .is_some_and(|l| l.contains("--tenant tenant-of-this-vault")),
        "{args}"
    );

    // The auto chain names every credential it tried and how to fix each.
    std::fs::write(&fail_marker, "").expect("marker");
    let chain = ChainCredential::new(AuthConfig {
        mode: AuthMode::Auto,
        tenant: None,
        authority_host: None,
        http: kvtui::vault::transport::http_client(None).expect("http"),
    });
    let err = chain
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .expect_err("nothing works");
    let msg = kvtui::vault::error::cause_chain(&err);
    for part in [
        "EnvironmentCredential not configured",
        "WorkloadIdentityCredential not configured",
        "AzureCliCredential failed",
        "run `az login`",
        "AzureDeveloperCliCredential",
    ] {
        assert!(msg.contains(part), "missing '{part}' in: {msg}");
    }
    assert!(
        !msg.contains("ManagedIdentityCredential"),
        "no implicit managed identity probe: {msg}"
    );

    // 2. Managed identity (App Service style) through the local endpoint, picked by `auto`.
    let id = emu.identity.clone().expect("identity endpoint");
    std::env::set_var("IDENTITY_ENDPOINT", &id.endpoint);
    std::env::set_var("IDENTITY_HEADER", &id.header);
    let (w, mut rx) = worker(&emu, AuthMode::Auto, None);
    let Response::Value { value, .. } = get(&w, &mut rx, &vault).await else {
        panic!("managed identity")
    };
    assert_eq!(value.expose(), "from-the-vault");
    assert_eq!(w.identity(), Some("ManagedIdentityCredential"));
    std::env::remove_var("IDENTITY_ENDPOINT");
    std::env::remove_var("IDENTITY_HEADER");

    // 3. An environment service principal through the local Entra endpoint.
    std::env::set_var("AZURE_TENANT_ID", &emu.tenant);
    std::env::set_var("AZURE_CLIENT_ID", "app-id");
    std::env::set_var("AZURE_CLIENT_SECRET", "app-secret-value");
    let (w, mut rx) = worker(&emu, AuthMode::Env, Some(emu.authority_host()));
    let Response::Value { value, .. } = get(&w, &mut rx, &vault).await else {
        panic!("service principal")
    };
    assert_eq!(value.expose(), "from-the-vault");
    std::env::set_var("AZURE_CLIENT_SECRET", "wrong");
    let (w, mut rx) = worker(&emu, AuthMode::Env, Some(emu.authority_host()));
    let Response::Failed(e) = get(&w, &mut rx, &vault).await else {
        panic!("wrong secret")
    };
    assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
}
