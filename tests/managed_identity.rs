//! The Rust `ManagedIdentityCredential` through the local managed-identity endpoint. Its own test
//! binary: the credential reads IDENTITY_ENDPOINT and IDENTITY_HEADER from the process environment.

mod common;

use std::sync::Arc;

use azure_identity::ManagedIdentityCredential;
use common::*;
use kvtui::emulator::VaultPolicy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_identity_credential_gets_tokens_from_the_local_endpoint() {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.identity_port = Some(0);
    // Only tokens the local vault issued are accepted: proves the token came from its endpoint.
    cfg.require_issued_tokens = true;
    let emu = start_config(cfg).await;
    let id = emu.identity.clone().expect("identity endpoint");
    std::env::set_var("IDENTITY_ENDPOINT", &id.endpoint);
    std::env::set_var("IDENTITY_HEADER", &id.header);
    for v in [
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ] {
        std::env::remove_var(v);
    }
    kvtui::vault::transport::ensure_crypto_provider();
    let credential = ManagedIdentityCredential::new(None).expect("credential");
    let client = kvtui::vault::transport::secret_client(
        &emu.vault_url("demo"),
        credential.clone(),
        kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http"),
    )
    .expect("client");
    set(&client, "from-mi", "value").await;
    let got = client
        .get_secret("from-mi", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(got.value.as_deref(), Some("value"));

    // The same vault refuses a token it did not issue.
    let foreign = kvtui::vault::transport::local_secret_client(&emu.vault_url("demo"), &emu.ca_pem)
        .expect("client");
    let e = expect_err(foreign.get_secret("from-mi", None).await);
    assert_eq!(e.status, 401);
    assert!(e.message.contains("AKV10022"), "{}", e.message);

    // A wrong IDENTITY_HEADER is refused by the endpoint.
    std::env::set_var("IDENTITY_HEADER", "wrong");
    let credential: Arc<ManagedIdentityCredential> =
        ManagedIdentityCredential::new(None).expect("credential");
    use azure_core::credentials::TokenCredential;
    let err = credential
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .expect_err("a wrong header is refused");
    assert!(
        err.to_string().contains("401") || format!("{err:?}").contains("Unauthorized"),
        "{err:?}"
    );
}
