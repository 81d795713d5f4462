//! Rust credentials through the local Entra endpoint (`login.localhost`), and Resource Manager
//! discovery (`management.localhost`) with paging and a failing subscription.

mod common;

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use common::*;
use kvtui::emulator::{ArmConfig, Clients, Emulator, VaultPolicy};
use serde_json::Value;

/// Client options that reach the local Entra endpoint: its CA and AZURE_AUTHORITY_HOST's equivalent.
fn entra_options(emu: &Emulator) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = emu.authority_host();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(
            kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http"),
        ))),
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        ..ClientOptions::default()
    }
}

async fn strict_emulator(clients: &[(&str, &str)]) -> Emulator {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.require_issued_tokens = true;
    cfg.clients = Clients::with_secrets(clients);
    start_config(cfg).await
}

async fn use_vault(emu: &Emulator, credential: Arc<dyn TokenCredential>, name: &str) {
    let client = kvtui::vault::transport::secret_client(
        &emu.vault_url("demo"),
        credential,
        kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http"),
    )
    .expect("client");
    set(&client, name, "v").await;
    let got = client
        .get_secret(name, None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(got.value.as_deref(), Some("v"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_credential_through_the_local_entra_endpoint() {
    let emu = strict_emulator(&[("app-1", "s3cret")]).await;
    let options = ClientSecretCredentialOptions {
        client_options: entra_options(&emu),
    };
    let credential = ClientSecretCredential::new(
        &emu.tenant,
        "app-1".into(),
        Secret::new("s3cret"),
        Some(options),
    )
    .expect("credential");
    use_vault(&emu, credential, "sp-secret").await;

    // A wrong secret gets Entra's error, which the credential reports.
    let options = ClientSecretCredentialOptions {
        client_options: entra_options(&emu),
    };
    let wrong = ClientSecretCredential::new(
        &emu.tenant,
        "app-1".into(),
        Secret::new("nope"),
        Some(options),
    )
    .expect("credential");
    let err = wrong
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .expect_err("refused");
    assert!(
        err.to_string()
            .contains("AADSTS7000215: Invalid client secret provided"),
        "{err}"
    );
    let options = ClientSecretCredentialOptions {
        client_options: entra_options(&emu),
    };
    let unknown =
        ClientSecretCredential::new(&emu.tenant, "app-2".into(), Secret::new("x"), Some(options))
            .expect("credential");
    let err = unknown
        .get_token(&["https://vault.azure.net/.default"], None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("AADSTS700016"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_identity_credential_through_the_local_entra_endpoint() {
    let emu = strict_emulator(&[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDprdnR1aSJ9.c2ln",
    )
    .expect("token file");
    let options = WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: entra_options(&emu),
        },
        client_id: Some("workload-app".into()),
        tenant_id: Some(emu.tenant.clone()),
        token_file_path: Some(token_file),
    };
    let credential = WorkloadIdentityCredential::new(Some(options)).expect("credential");
    use_vault(&emu, credential, "wi-secret").await;
}

async fn arm_get(emu: &Emulator, path_and_query: &str, token: bool) -> (u16, Value) {
    let http = raw(emu, false);
    let url = if path_and_query.starts_with("https://") {
        path_and_query.to_string()
    } else {
        format!("{}{path_and_query}", emu.management_endpoint())
    };
    let mut req = http.get(url);
    if token {
        req = req.header("authorization", "Bearer t");
    }
    let resp = req.send().await.expect("response");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_lists_subscriptions_and_vaults_with_paging_and_a_forbidden_subscription() {
    let mut cfg = config(
        VaultPolicy::default(),
        &["alpha", "bravo", "charlie", "delta", "echo"],
    );
    cfg.arm = ArmConfig {
        subscriptions: 3,
        forbidden: Some(3),
        ..ArmConfig::default()
    };
    let emu = start_config(cfg).await;
    let (status, body) = arm_get(&emu, "/subscriptions?api-version=2022-12-01", false).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("AuthenticationFailed"))
    );
    let (status, _) = arm_get(&emu, "/subscriptions", true).await;
    assert_eq!(status, 400, "api-version is required");

    let (status, subs) = arm_get(&emu, "/subscriptions?api-version=2022-12-01", true).await;
    assert_eq!(status, 200);
    let ids: Vec<String> = subs["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| s["subscriptionId"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        subs["value"][0]["tenantId"].is_string() && subs["value"][0]["displayName"].is_string()
    );

    // Every vault of the readable subscriptions, one per page, following nextLink.
    let mut found = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut next = Some(format!(
            "/subscriptions/{id}/resources?api-version=2021-04-01&$filter=resourceType%20eq%20%27Microsoft.KeyVault%2Fvaults%27&$top=1"
        ));
        let mut pages = 0;
        while let Some(link) = next.take() {
            let (status, page) = arm_get(&emu, &link, true).await;
            if i == 2 {
                assert_eq!(
                    (status, page["error"]["code"].as_str()),
                    (403, Some("AuthorizationFailed"))
                );
                break;
            }
            assert_eq!(status, 200, "{page}");
            pages += 1;
            for v in page["value"].as_array().expect("value") {
                assert_eq!(v["type"], "Microsoft.KeyVault/vaults");
                assert_eq!(v["location"], "local");
                let uri = v["properties"]["vaultUri"].as_str().expect("vaultUri");
                assert_eq!(
                    uri,
                    format!(
                        "https://{}.localhost:{}/",
                        v["name"].as_str().expect("name"),
                        emu.port
                    )
                );
                assert_eq!(v["properties"]["tenantId"], emu.tenant.as_str());
                found.push(v["name"].as_str().expect("name").to_string());
            }
            next = page["nextLink"].as_str().map(str::to_string);
        }
        if i < 2 {
            assert!(pages >= 2, "subscription {i} paged");
        }
    }
    found.sort();
    assert_eq!(
        found,
        ["alpha", "bravo", "delta", "echo"],
        "charlie lives in the forbidden subscription"
    );

    let (status, vaults) = arm_get(
        &emu,
        &format!(
            "/subscriptions/{}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01",
            ids[0]
        ),
        true,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(vaults["value"].as_array().expect("v").len(), 2);
    let (status, body) = arm_get(
        &emu,
        "/subscriptions/00000000-0000-0000-0000-000000000000/resources?api-version=2021-04-01",
        true,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SubscriptionNotFound"))
    );
    let (status, other) = arm_get(&emu, &format!("/subscriptions/{}/resources?api-version=2021-04-01&$filter=resourceType%20eq%20%27Microsoft.Storage%2FstorageAccounts%27", ids[0]), true).await;
    assert_eq!(status, 200);
    assert!(other["value"].as_array().expect("v").is_empty());
}
