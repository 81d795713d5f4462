//! The local vault as a server under abuse (issue 14): an unauthenticated request is answered from its
//! headers without its body being read, connections past the cap are closed at once, a client that
//! never sends its headers is cut off, a management token opens no vault.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn tls(emu: &kvtui::emulator::Emulator) -> tokio_rustls::client::TlsStream<TcpStream> {
    kvtui::vault::transport::ensure_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile_certs(&emu.ca_pem) {
        roots.add(cert).expect("root");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", emu.port))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("demo.localhost").expect("name");
    connector.connect(name, tcp).await.expect("tls")
}

/// The CA's certificates from PEM, without another dependency.
fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use base64::Engine as _;
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .filter_map(|c| c.split("-----END CERTIFICATE-----").next())
        .filter_map(|b64| {
            let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(clean).ok()
        })
        .map(rustls::pki_types::CertificateDer::from)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_request_costs_no_more_than_its_headers() {
    let emu = start().await;
    let mut s = tls(&emu).await;
    // Announce 3 MiB and send none of it: the 401 comes at once, the body is never waited for.
    let req = format!(
        "PUT /secrets/x?api-version=2025-07-01 HTTP/1.1\r\nHost: demo.localhost:{}\r\nContent-Type: application/json\r\nContent-Length: 3145728\r\n\r\n",
        emu.port
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
        .await
        .expect("answered without the body")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("www-authenticate"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_sends_its_headers_is_cut_off() {
    let emu = start().await;
    let mut s = tls(&emu).await;
    s.write_all(b"GET /secrets?api-version=2025-07-01 HTTP/1.1\r\nHost: demo")
        .await
        .expect("write");
    let start = Instant::now();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open after 40 s");
    println!("half-sent headers cut off after {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_closed_and_the_rest_keep_working() {
    let emu = start().await;
    let mut held = Vec::new();
    for _ in 0..kvtui::emulator::MAX_CONNECTIONS {
        held.push(
            TcpStream::connect(("127.0.0.1", emu.port))
                .await
                .expect("connect"),
        );
    }
    // Accepted in order: once the cap is reached, one more is closed without a word.
    let mut extra = TcpStream::connect(("127.0.0.1", emu.port))
        .await
        .expect("connect");
    let mut buf = [0u8; 16];
    let r = tokio::time::timeout(Duration::from_secs(20), extra.read(&mut buf))
        .await
        .expect("closed at once");
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    drop(held);
    // Slots come back as connections end.
    wait_for("a free slot", Duration::from_secs(30), || async {
        let c = client(&emu, "demo");
        c.get_secret("nothing", None).await.err().map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_management_token_opens_no_vault_in_strict_mode() {
    let mut cfg = config(kvtui::emulator::VaultPolicy::default(), &["demo"]);
    cfg.require_issued_tokens = true;
    let emu = start_config(cfg).await;
    let (arm_token, _) = emu.issuer().issue("app", &emu.management_endpoint());
    let (vault_token, _) = emu.issuer().issue("app", "https://vault.azure.net");
    let http = raw(&emu, true);
    let get = |token: String| {
        http.get(format!(
            "{}/secrets?api-version=2025-07-01",
            emu.vault_url("demo")
        ))
        .bearer_auth(token)
        .send()
    };
    assert_eq!(get(arm_token).await.expect("sent").status().as_u16(), 401);
    assert_eq!(get(vault_token).await.expect("sent").status().as_u16(), 200);
}

/// A backup of a secret with 130 full-size versions is larger than the 4 MiB body limit; it was
/// lost when purged. Restore now takes any blob the local vault makes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_many_full_size_versions_restores() {
    use azure_security_keyvault_secrets::models::RestoreSecretParameters;
    let emu = start_with(
        kvtui::emulator::VaultPolicy {
            recoverable_days: 0,
            ..kvtui::emulator::VaultPolicy::default()
        },
        &["demo"],
    )
    .await;
    let c = client(&emu, "demo");
    let value = "x".repeat(25 * 1024 - 8);
    for i in 0..130 {
        set(&c, "many", &format!("{i:07}{value}")).await;
    }
    let blob = backup(&c, "many").await;
    // The request carries it base64url-encoded: more than the 4 MiB of any other body.
    assert!(blob.len() / 3 * 4 > 4 * 1024 * 1024, "{} bytes", blob.len());
    c.delete_secret("many", None)
        .await
        .expect("delete (no soft delete)");
    let body = RestoreSecretParameters {
        secret_backup: Some(blob),
    }
    .try_into()
    .expect("body");
    let restored = c
        .restore_secret(body, None)
        .await
        .expect("restored")
        .into_model()
        .expect("m");
    assert!(restored.id.is_some_and(|id| id.contains("/secrets/many")));
}
