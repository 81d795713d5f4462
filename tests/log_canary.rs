//! No secret value reaches the log at any level: a canary value goes through every request type with
//! logging at TRACE (the SDK, reqwest, hyper, h2 and rustls included), and is nowhere in the file.

mod common;

use std::time::Duration;

use common::*;
use kvtui::vault::credential::{AuthConfig, AuthMode};
use kvtui::vault::{
    NewSecret, PollConfig, PropertiesPatch, Request, Response, SecretValue, Worker, WorkerConfig,
};

const CANARY: &str = "canary-5f1e-do-not-log-9b7c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_value_is_nowhere_in_a_trace_level_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("state/kvtui.log");
    kvtui::logging::init(&log, tracing_subscriber::filter::LevelFilter::TRACE).expect("logging");
    let emu = start().await;
    let (w, mut rx) = Worker::spawn(WorkerConfig {
        auth: AuthConfig {
            mode: AuthMode::Auto,
            tenant: None,
            authority_host: None,
            http: kvtui::vault::transport::http_client(Some(&emu.ca_pem)).expect("http"),
        },
        local_ca: Some(emu.ca_pem.clone()),
        poll: PollConfig::default(),
        discovery: None,
        vault_tenants: Default::default(),
    });
    let vault = emu.vault_url("demo");
    let backup = dir.path().join("b.bin");
    let secret = NewSecret {
        value: SecretValue::new(CANARY.into()),
        content_type: None,
        tags: Default::default(),
        enabled: true,
        not_before: None,
        expires: None,
    };
    let requests = vec![
        Request::SetSecret {
            vault: vault.clone(),
            name: "canary".into(),
            secret: secret.clone(),
        },
        Request::SetSecret {
            vault: vault.clone(),
            name: "canary".into(),
            secret,
        },
        Request::GetSecret {
            vault: vault.clone(),
            name: "canary".into(),
            version: None,
        },
        Request::ListSecrets {
            vault: vault.clone(),
        },
        Request::ListVersions {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::UpdateProperties {
            vault: vault.clone(),
            name: "canary".into(),
            version: None,
            patch: PropertiesPatch {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
        },
        Request::Backup {
            vault: vault.clone(),
            name: "canary".into(),
            path: backup.clone(),
            overwrite: false,
        },
        Request::Delete {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::GetDeleted {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::ListDeleted {
            vault: vault.clone(),
        },
        Request::Recover {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::Delete {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::Purge {
            vault: vault.clone(),
            name: "canary".into(),
        },
        Request::Restore {
            vault: vault.clone(),
            path: backup,
        },
        Request::GetSecret {
            vault: vault.clone(),
            name: "canary".into(),
            version: None,
        },
    ];
    let mut saw_value = false;
    for r in requests {
        let id = w.send(r);
        loop {
            let env = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .expect("answer")
                .expect("alive");
            if env.id == kvtui::vault::worker::UNSOLICITED {
                continue;
            }
            assert_eq!(env.id, id);
            match env.response {
                Response::Progress(_) => continue,
                Response::SecretsPage { done: false, .. }
                | Response::DeletedPage { done: false, .. } => continue,
                Response::Failed(e) => panic!("{e}"),
                Response::Value { value, .. } => {
                    saw_value |= value.expose() == CANARY;
                    break;
                }
                _ => break,
            }
        }
    }
    assert!(saw_value, "the canary went through the worker");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.lines().count() > 100,
        "trace logging wrote {} lines",
        text.lines().count()
    );
    assert!(text.contains("request"), "the worker logged its requests");
    assert!(!text.contains(CANARY), "the secret value is in the log");
}
