//! The worker's credentials end to end against a local vault that accepts only tokens it issued:
//! the Azure CLI (a stand-in `az` first on PATH), the chain's failure message and recovery without a
//! restart, managed identity, and an environment service principal through the local Entra endpoint.
//! One test: the scenarios change process-wide environment variables, so they run in sequence.

mod common;

use std::time::Duration;

use azure_core::credentials::TokenCredential;
use common::*;
use kvtui::emulator::identity::ClientKey;
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
        if env.id == kvtui::vault::worker::UNSOLICITED || !env.response.is_final() {
            // The worker says who it is signed in as before the answer that used the token, and
            // that it retries in a vault's tenant.
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
    cfg.clients = Clients::with_secrets(&[("app-id", "app-secret-value")]);
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
    for v in ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"] {
        std::env::remove_var(v);
    }

    // 4. Tenants, with stand-in `az`s: a vault in another tenant (the guest vault below).
    let mut cfg = config(VaultPolicy::default(), &["home", "guest"]);
    cfg.require_issued_tokens = true;
    cfg.arm.vault_tenants = vec![("guest".into(), OTHER.into())];
    let emu = start_config(cfg).await;
    let guest = emu.vault_url("guest");
    let (seed_token, _) = emu
        .issuer()
        .issue_in(OTHER, "seeder", "https://vault.azure.net");
    let put = raw(&emu, false)
        .put(format!("{guest}/secrets/app-secret?api-version=7.5"))
        .bearer_auth(seed_token)
        .header("content-type", "application/json")
        .body(r#"{"value":"in-the-guest-tenant"}"#)
        .send()
        .await
        .expect("seeded");
    assert_eq!(put.status().as_u16(), 200);
    let audience = format!("https://localhost:{}", emu.port);
    let token_file = |name: &str, tenant: &str| {
        let (t, _) = emu.issuer().issue_in(tenant, "cli-user", &audience);
        let path = bin.path().join(name);
        std::fs::write(&path, format!(
            r#"{{"accessToken":"{t}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":{expires},"subscription":"s","tenant":"{tenant}","tokenType":"Bearer"}}"#
        )).expect("token file");
        path
    };
    let home_token = token_file("home.json", &emu.tenant);
    let other_token = token_file("other.json", OTHER);
    let args_log = bin.path().join("az-args");
    let stand_in = |script: &str| {
        std::fs::write(
            &az,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\n{script}",
                args_log.display()
            ),
        )
        .expect("az");
        let _ = std::fs::remove_file(&args_log);
    };

    // a. Cloud Shell: `az` refuses --tenant; its account is in the vault's tenant. A vault whose
    //    tenant discovery recorded opens without --tenant.
    stand_in(&format!(
        "case \"$*\" in *--tenant*) echo \"ERROR: Tenant shouldn't be specified for Cloud Shell account\" >&2; exit 1;; esac\ncat '{}'\n",
        other_token.display()
    ));
    let (w, mut rx) = worker_with_tenants(
        &emu,
        AuthMode::Cli,
        None,
        [(guest.clone(), OTHER.to_string())].into(),
    );
    let Response::Value { value, .. } = get(&w, &mut rx, &guest).await else {
        panic!("Cloud Shell opens a discovered vault")
    };
    assert_eq!(value.expose(), "in-the-guest-tenant");
    let args = std::fs::read_to_string(&args_log).expect("az was called");
    assert!(!args.contains("--tenant"), "{args}");

    // b. A guest: `az` gives the home tenant unless asked for another. The vault's AKV10032 names
    //    its tenant; the worker retries there once and the vault opens.
    stand_in(&format!(
        "case \"$*\" in *'--tenant {OTHER}'*) cat '{}';; *--tenant*) exit 1;; *) cat '{}';; esac\n",
        other_token.display(),
        home_token.display()
    ));
    let (w, mut rx) = worker(&emu, AuthMode::Cli, None);
    let id = w.send(Request::GetSecret {
        vault: guest.clone(),
        name: "app-secret".into(),
        version: None,
    });
    let mut learned = false;
    let value = loop {
        let env = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("answer")
            .expect("alive");
        match env.response {
            Response::TenantLearned { tenant, .. } if env.id == id => {
                assert_eq!(tenant, OTHER);
                learned = true;
            }
            Response::Value { value, .. } if env.id == id => break value,
            Response::Failed(e) if env.id == id => panic!("{e:?}"),
            _ => {}
        }
    };
    assert!(learned, "the worker said which tenant it asked");
    assert_eq!(value.expose(), "in-the-guest-tenant");
    let args = std::fs::read_to_string(&args_log).expect("az was called");
    assert!(args.contains(&format!("--tenant {OTHER}")), "{args}");

    // c. A guest who cannot get a token there: the refusal names the vault's tenant.
    stand_in(&format!(
        "case \"$*\" in *--tenant*) echo \"ERROR: AADSTS50020: User account from identity provider does not exist in tenant.\" >&2; exit 1;; *) cat '{}';; esac\n",
        home_token.display()
    ));
    let (w, mut rx) = worker(&emu, AuthMode::Cli, None);
    let Response::Failed(e) = get(&w, &mut rx, &guest).await else {
        panic!("no token in the vault's tenant")
    };
    assert_eq!(e.kind, ErrorKind::WrongTenant, "{e:?}");
    assert_eq!(e.tenant.as_deref(), Some(OTHER));

    // 5. The credentials a real user also has, each through the local endpoints.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only-client.pem"
    );
    let cert = {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::pem_slice_iter(&std::fs::read(fixture).expect("fixture"))
            .next()
            .and_then(Result::ok)
            .expect("certificate")
            .as_ref()
            .to_vec()
    };
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.require_issued_tokens = true;
    cfg.identity_port = Some(0);
    cfg.clients = Clients::with_secrets(&[("secret-app", "pw")]);
    cfg.clients
        .0
        .insert("cert-app".into(), ClientKey::Certificate(cert));
    let emu = start_config(cfg).await;
    let vault = emu.vault_url("demo");
    let list = |w: &Worker| {
        w.send(Request::ListSecrets {
            vault: vault.clone(),
        })
    };
    // a. A certificate service principal (AZURE_CLIENT_CERTIFICATE_PATH): its assertion is
    //    verified against the certificate the local endpoint knows.
    std::env::set_var("AZURE_TENANT_ID", &emu.tenant);
    std::env::set_var("AZURE_CLIENT_ID", "cert-app");
    std::env::set_var("AZURE_CLIENT_CERTIFICATE_PATH", fixture);
    let (w, mut rx) = worker(&emu, AuthMode::Auto, Some(emu.authority_host()));
    let id = list(&w);
    let r = outcome(&mut rx, id).await;
    assert!(
        matches!(r, Response::SecretsPage { done: true, .. }),
        "{r:?}"
    );
    assert_eq!(w.identity(), Some("EnvironmentCredential"));
    // The same certificate for a client registered with a secret: refused, as Entra does.
    std::env::set_var("AZURE_CLIENT_ID", "secret-app");
    let (w, mut rx) = worker(&emu, AuthMode::Env, Some(emu.authority_host()));
    let id = list(&w);
    let Response::Failed(e) = outcome(&mut rx, id).await else {
        panic!("an unregistered certificate")
    };
    assert!(e.message.contains("AADSTS700027"), "{}", e.message);
    std::env::remove_var("AZURE_CLIENT_CERTIFICATE_PATH");

    // b. A user-assigned managed identity: AZURE_CLIENT_ID names it.
    let id_endpoint = emu.identity.clone().expect("identity endpoint");
    std::env::set_var("IDENTITY_ENDPOINT", &id_endpoint.endpoint);
    std::env::set_var("IDENTITY_HEADER", &id_endpoint.header);
    std::env::set_var("AZURE_CLIENT_ID", "user-assigned-1");
    let (w, mut rx) = worker(&emu, AuthMode::ManagedIdentity, None);
    let id = list(&w);
    let r = outcome(&mut rx, id).await;
    assert!(matches!(r, Response::SecretsPage { .. }), "{r:?}");
    let seen = w.who().expect("signed in");
    assert_eq!(seen.appid.as_deref(), Some("user-assigned-1"), "{seen:?}");
    std::env::remove_var("IDENTITY_ENDPOINT");
    std::env::remove_var("IDENTITY_HEADER");
    std::env::remove_var("AZURE_CLIENT_ID");
    std::env::remove_var("AZURE_TENANT_ID");

    // c. A VM's managed identity through the metadata endpoint, tried by `auto` last, when
    //    nothing else works (here a local stand-in: nothing contacts 169.254.169.254).
    std::fs::write(&fail_marker, "").expect("az not logged in");
    stand_in(&format!(
        "if [ -f '{}' ]; then echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1; fi\n",
        fail_marker.display()
    ));
    std::env::set_var(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        format!("http://127.0.0.1:{}", id_endpoint.port),
    );
    let (w, mut rx) = worker(&emu, AuthMode::Auto, None);
    let id = list(&w);
    let r = outcome(&mut rx, id).await;
    assert!(matches!(r, Response::SecretsPage { .. }), "{r:?}");
    assert_eq!(w.identity(), Some("ManagedIdentityCredential (VM)"));
    std::env::remove_var("AZURE_POD_IDENTITY_AUTHORITY_HOST");

    // d. An `az` that never answers is stopped after the time limit, with what to do.
    stand_in("sleep 60\n");
    std::env::set_var("KVTUI_CLI_TIMEOUT", "1");
    let t = std::time::Instant::now();
    let (w, mut rx) = worker(&emu, AuthMode::Cli, None);
    let id = list(&w);
    let Response::Failed(e) = outcome(&mut rx, id).await else {
        panic!("a hung az")
    };
    assert!(e.message.contains("no answer within 1 s"), "{}", e.message);
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    std::env::remove_var("KVTUI_CLI_TIMEOUT");

    // e. `az` on another cloud than kvtui's --cloud: the fix names `az cloud set`.
    stand_in(
        "case \"$*\" in *'cloud show'*) echo AzureCloud;; *) echo 'ERROR: AADSTS500011: The resource principal named https://vault.azure.cn was not found in the tenant.' >&2; exit 1;; esac\n",
    );
    let (w, mut rx) = worker(
        &emu,
        AuthMode::Cli,
        Some(
            kvtui::vault::credential::Cloud::China
                .authority_host()
                .to_string(),
        ),
    );
    let id = list(&w);
    let Response::Failed(e) = outcome(&mut rx, id).await else {
        panic!("az on another cloud")
    };
    assert!(
        e.message
            .contains("run `az cloud set --name AzureChinaCloud`, then `az login`"),
        "{}",
        e.message
    );
}

const OTHER: &str = "0b1e7e2a-0000-4000-8000-00000000beef";

/// The final response of request `id`.
async fn outcome(rx: &mut UnboundedReceiver<Envelope>, id: kvtui::vault::RequestId) -> Response {
    loop {
        let env = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("answer")
            .expect("alive");
        if env.id == id && env.response.is_final() {
            return env.response;
        }
    }
}
