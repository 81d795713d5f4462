//! The vault worker against the local vault (real SecretClient underneath): every request type,
//! streaming, pollers with progress, purge across the 409 window, cancel and supersede, faults,
//! discovery through the local Resource Manager endpoints.

mod common;

use std::time::{Duration, Instant};

use azure_security_keyvault_secrets::ResourceExt;
use common::*;
use kvtui::emulator::{ArmConfig, FaultConfig, VaultPolicy};
use kvtui::vault::credential::{AuthConfig, AuthMode};
use kvtui::vault::{
    Envelope, ErrorKind, NewSecret, Phase, PollConfig, PropertiesPatch, Request, Response,
    SecretValue, Worker, WorkerConfig,
};
use tokio::sync::mpsc::UnboundedReceiver;

async fn one(worker: &Worker, rx: &mut UnboundedReceiver<Envelope>, req: Request) -> Response {
    let id = worker.send(req);
    let mut r = responses(rx, id).await;
    r.pop().expect("a final response")
}

fn new_secret(value: &str) -> NewSecret {
    NewSecret {
        value: SecretValue::new(value.into()),
        content_type: Some("text/plain".into()),
        tags: kvtui::vault::Tags::from([("env".to_string(), "test".to_string())]),
        enabled: true,
        not_before: None,
        expires: Some(time::OffsetDateTime::now_utc() + time::Duration::days(30)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_type() {
    let emu = start().await;
    let (w, mut rx) = worker_for(&emu);
    let vault = emu.vault_url("demo");
    let dir = tempfile::tempdir().expect("tempdir");

    let Response::Saved(p) = one(
        &w,
        &mut rx,
        Request::SetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            secret: new_secret("v1"),
        },
    )
    .await
    else {
        panic!("set")
    };
    assert_eq!(
        (p.name.as_str(), p.content_type.as_deref()),
        ("db-password", Some("text/plain"))
    );
    assert!(p.expires.is_some());
    let first_version = p.version.clone().expect("version");
    one(
        &w,
        &mut rx,
        Request::SetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            secret: new_secret("v2"),
        },
    )
    .await;

    let Response::Value { props, value } = one(
        &w,
        &mut rx,
        Request::GetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            version: None,
        },
    )
    .await
    else {
        panic!("get")
    };
    assert_eq!(value.expose(), "v2");
    assert_eq!(format!("{value:?}"), "SecretValue(<redacted>)");
    assert_eq!(props.tags.get("env"), Some("test"));
    let Response::Value { value, .. } = one(
        &w,
        &mut rx,
        Request::GetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            version: Some(first_version.clone()),
        },
    )
    .await
    else {
        panic!("get version")
    };
    assert_eq!(value.expose(), "v1");

    let Response::Versions(vs) = one(
        &w,
        &mut rx,
        Request::ListVersions {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await
    else {
        panic!("versions")
    };
    assert_eq!(vs.len(), 2);
    // Newest first (the service's times are whole seconds, so two versions made within one second tie).
    assert!(vs.windows(2).all(|w| w[0].created >= w[1].created));
    assert!(vs
        .iter()
        .any(|v| v.version.as_deref() == Some(first_version.as_str())));

    let patch = PropertiesPatch {
        enabled: Some(false),
        ..PropertiesPatch::default()
    };
    let Response::Saved(p) = one(
        &w,
        &mut rx,
        Request::UpdateProperties {
            vault: vault.clone(),
            name: "db-password".into(),
            version: Some(first_version.clone()),
            patch,
        },
    )
    .await
    else {
        panic!("update")
    };
    assert!(!p.enabled);
    let Response::Failed(e) = one(
        &w,
        &mut rx,
        Request::GetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            version: Some(first_version),
        },
    )
    .await
    else {
        panic!("disabled")
    };
    assert_eq!(
        (e.kind, e.status, e.code.as_deref()),
        (ErrorKind::Disabled, Some(403), Some("SecretDisabled"))
    );
    assert_eq!(
        e.summary(),
        "403 Forbidden (SecretDisabled): Operation get is not allowed on a disabled secret."
    );

    let Response::SecretsPage { items, done } = one(
        &w,
        &mut rx,
        Request::ListSecrets {
            vault: vault.clone(),
        },
    )
    .await
    else {
        panic!("list")
    };
    assert!(done);
    assert_eq!(items.len(), 1);

    let path = dir.path().join("db-password.kvbackup");
    let Response::BackedUp { bytes, .. } = one(
        &w,
        &mut rx,
        Request::Backup {
            vault: vault.clone(),
            name: "db-password".into(),
            path: path.clone(),
            overwrite: false,
        },
    )
    .await
    else {
        panic!("backup")
    };
    assert!(bytes > 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).expect("file").permissions().mode() & 0o777,
            0o600
        );
    }

    let Response::Deleted(d) = one(
        &w,
        &mut rx,
        Request::Delete {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await
    else {
        panic!("delete")
    };
    assert!(d.recovery_id.is_some() && d.scheduled_purge.is_some());
    let Response::DeletedPage { items, .. } = one(
        &w,
        &mut rx,
        Request::ListDeleted {
            vault: vault.clone(),
        },
    )
    .await
    else {
        panic!("deleted list")
    };
    assert_eq!(items.len(), 1);
    let Response::DeletedInfo(info) = one(
        &w,
        &mut rx,
        Request::GetDeleted {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await
    else {
        panic!("get deleted")
    };
    assert_eq!(info.props.name, "db-password");
    let Response::Failed(e) = one(
        &w,
        &mut rx,
        Request::SetSecret {
            vault: vault.clone(),
            name: "db-password".into(),
            secret: new_secret("x"),
        },
    )
    .await
    else {
        panic!("conflict")
    };
    assert_eq!(e.kind, ErrorKind::DeletedButRecoverable);
    let Response::Saved(r) = one(
        &w,
        &mut rx,
        Request::Recover {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await
    else {
        panic!("recover")
    };
    assert_eq!(r.name, "db-password");
    one(
        &w,
        &mut rx,
        Request::Delete {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await;
    let Response::Purged { name } = one(
        &w,
        &mut rx,
        Request::Purge {
            vault: vault.clone(),
            name: "db-password".into(),
        },
    )
    .await
    else {
        panic!("purge")
    };
    assert_eq!(name, "db-password");
    let Response::Saved(restored) = one(
        &w,
        &mut rx,
        Request::Restore {
            vault: vault.clone(),
            path,
        },
    )
    .await
    else {
        panic!("restore")
    };
    assert_eq!(restored.name, "db-password");
    let Response::Failed(e) = one(
        &w,
        &mut rx,
        Request::GetSecret {
            vault: vault.clone(),
            name: "nope".into(),
            version: None,
        },
    )
    .await
    else {
        panic!("404")
    };
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_page_arrives_before_a_1000_secret_listing_ends() {
    let mut cfg = config(VaultPolicy::default(), &["big"]);
    cfg.faults = FaultConfig {
        latency: Duration::from_millis(20),
        ..FaultConfig::default()
    };
    let emu = start_config(cfg).await;
    for i in 0..1000 {
        emu.service()
            .with_vault("big", |v| {
                let s = kvtui::emulator::store::NewSecret {
                    value: zeroize::Zeroizing::new("v".into()),
                    content_type: None,
                    tags: None,
                    attributes: Default::default(),
                };
                v.set(&format!("s-{i:04}"), s, format!("{i:032x}"), 0)
                    .map(|_| ())
            })
            .expect("vault")
            .expect("set");
    }
    let (w, mut rx) = worker_for(&emu);
    let t = Instant::now();
    let id = w.send(Request::ListSecrets {
        vault: emu.vault_url("big"),
    });
    let mut first = rx.recv().await.expect("first");
    while first.id == kvtui::vault::worker::UNSOLICITED {
        first = rx.recv().await.expect("first");
    }
    let first_at = t.elapsed();
    assert!(
        matches!(&first.response, Response::SecretsPage { done: false, items } if items.len() == 25)
    );
    let rest = responses(&mut rx, id).await;
    let total_at = t.elapsed();
    let count: usize = rest
        .iter()
        .map(|r| match r {
            Response::SecretsPage { items, .. } => items.len(),
            _ => 0,
        })
        .sum::<usize>()
        + 25;
    assert_eq!(count, 1000);
    assert!(
        first_at * 5 < total_at,
        "first page after {first_at:?}, all after {total_at:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_recover_pollers_report_progress_then_complete() {
    let emu = start_with(
        VaultPolicy {
            delete_delay_ms: 1500,
            recover_delay_ms: 1500,
            ..VaultPolicy::default()
        },
        &["demo"],
    )
    .await;
    let (w, mut rx) = worker_for(&emu);
    let vault = emu.vault_url("demo");
    one(
        &w,
        &mut rx,
        Request::SetSecret {
            vault: vault.clone(),
            name: "slow".into(),
            secret: new_secret("v"),
        },
    )
    .await;

    let t = Instant::now();
    let id = w.send(Request::Delete {
        vault: vault.clone(),
        name: "slow".into(),
    });
    let rs = responses(&mut rx, id).await;
    let progress: Vec<_> = rs
        .iter()
        .filter_map(|r| {
            if let Response::Progress(p) = r {
                Some(*p)
            } else {
                None
            }
        })
        .collect();
    assert!(!progress.is_empty(), "progress while waiting: {rs:?}");
    assert!(progress
        .iter()
        .all(|p| p.phase == Phase::WaitingForDeletion));
    assert!(progress
        .windows(2)
        .all(|w| w[0].attempts < w[1].attempts && w[0].elapsed <= w[1].elapsed));
    assert!(matches!(rs.last(), Some(Response::Deleted(_))));
    assert!(
        t.elapsed() >= Duration::from_millis(1400),
        "completed only when readable"
    );
    // Now readable right away.
    assert!(matches!(
        one(
            &w,
            &mut rx,
            Request::GetDeleted {
                vault: vault.clone(),
                name: "slow".into()
            }
        )
        .await,
        Response::DeletedInfo(_)
    ));

    let t = Instant::now();
    let id = w.send(Request::Recover {
        vault: vault.clone(),
        name: "slow".into(),
    });
    let rs = responses(&mut rx, id).await;
    assert!(rs
        .iter()
        .any(|r| matches!(r, Response::Progress(p) if p.phase == Phase::WaitingForRecovery)));
    assert!(matches!(rs.last(), Some(Response::Saved(_))));
    assert!(t.elapsed() >= Duration::from_millis(1400));
    assert!(matches!(
        one(
            &w,
            &mut rx,
            Request::GetSecret {
                vault: vault.clone(),
                name: "slow".into(),
                version: None
            }
        )
        .await,
        Response::Value { .. }
    ));

    // Without soft delete there is nothing to wait for: no progress, done at once.
    let plain = start_with(
        VaultPolicy {
            recoverable_days: 0,
            delete_delay_ms: 1500,
            ..VaultPolicy::default()
        },
        &["plain"],
    )
    .await;
    let (w2, mut rx2) = worker_for(&plain);
    one(
        &w2,
        &mut rx2,
        Request::SetSecret {
            vault: plain.vault_url("plain"),
            name: "x".into(),
            secret: new_secret("v"),
        },
    )
    .await;
    let id = w2.send(Request::Delete {
        vault: plain.vault_url("plain"),
        name: "x".into(),
    });
    let rs = responses(&mut rx2, id).await;
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert!(matches!(&rs[0], Response::Deleted(d) if d.recovery_id.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_retries_across_the_409_window() {
    let emu = start_with(
        VaultPolicy {
            delete_delay_ms: 1500,
            ..VaultPolicy::default()
        },
        &["demo"],
    )
    .await;
    let (w, mut rx) = worker_for(&emu);
    let c = client(&emu, "demo");
    set(&c, "gone", "v").await;
    c.delete_secret("gone", None)
        .await
        .expect("delete, not waiting");
    let id = w.send(Request::Purge {
        vault: emu.vault_url("demo"),
        name: "gone".into(),
    });
    let rs = responses(&mut rx, id).await;
    assert!(
        rs.iter()
            .any(|r| matches!(r, Response::Progress(p) if p.phase == Phase::WaitingToPurge)),
        "{rs:?}"
    );
    assert!(matches!(rs.last(), Some(Response::Purged { .. })), "{rs:?}");
    assert_eq!(
        expect_err(c.get_deleted_secret("gone", None).await).status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_and_superseded_requests_send_nothing_more() {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.faults = FaultConfig {
        latency: Duration::from_millis(300),
        ..FaultConfig::default()
    };
    let emu = start_config(cfg).await;
    let (w, mut rx) = worker_for(&emu);
    let vault = emu.vault_url("demo");
    // Supersede: the second listing cancels the first.
    let old = w.send(Request::ListSecrets {
        vault: vault.clone(),
    });
    let new = w.send(Request::ListSecrets {
        vault: vault.clone(),
    });
    let rs = responses(&mut rx, new).await;
    assert!(matches!(
        rs.last(),
        Some(Response::SecretsPage { done: true, .. })
    ));
    // Cancel: a get in flight answers nothing.
    let get = w.send(Request::GetSecret {
        vault: vault.clone(),
        name: "x".into(),
        version: None,
    });
    w.cancel(get);
    let marker = w.send(Request::ListDeleted {
        vault: vault.clone(),
    });
    let rs = responses(&mut rx, marker).await;
    assert!(matches!(rs.last(), Some(Response::DeletedPage { .. })));
    // Nothing for the old or cancelled ids arrives later either.
    tokio::time::sleep(Duration::from_millis(800)).await;
    while let Ok(env) = rx.try_recv() {
        if env.id == kvtui::vault::worker::UNSOLICITED {
            continue;
        }
        panic!(
            "unexpected response for {} (old {old}, cancelled {get}): {:?}",
            env.id, env.response
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_503s_are_retried_and_a_dead_service_is_a_typed_error() {
    let mut cfg = config(VaultPolicy::default(), &["demo"]);
    cfg.faults = FaultConfig {
        fail_rate: 0.3,
        throttle: Some(5),
        throttle_window: Duration::from_millis(1200),
        seed: 11,
        ..FaultConfig::default()
    };
    let emu = start_config(cfg).await;
    let (w, mut rx) = worker_for(&emu);
    let vault = emu.vault_url("demo");
    for i in 0..6 {
        assert!(matches!(
            one(
                &w,
                &mut rx,
                Request::SetSecret {
                    vault: vault.clone(),
                    name: format!("s{i}"),
                    secret: new_secret("v")
                }
            )
            .await,
            Response::Saved(_)
        ));
    }
    let stats = &emu.service().faults().expect("faults").stats;
    use std::sync::atomic::Ordering;
    assert!(
        stats.throttled.load(Ordering::Relaxed) + stats.unavailable.load(Ordering::Relaxed) >= 1
    );

    // A vault that is down: the SDK's retries end, the worker reports a classified error.
    let (w2, mut rx2) = Worker::spawn(WorkerConfig {
        auth: AuthConfig {
            mode: AuthMode::Auto,
            tenant: None,
            authority_host: None,
            http: kvtui::vault::transport::http_client(None).expect("http"),
        },
        local_ca: Some(emu.ca_pem.clone()),
        poll: PollConfig::default(),
        discovery: None,
        vault_tenants: Default::default(),
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let t = Instant::now();
    let r = one(
        &w2,
        &mut rx2,
        Request::GetSecret {
            vault: format!("https://down.localhost:{port}"),
            name: "x".into(),
            version: None,
        },
    )
    .await;
    let Response::Failed(e) = r else {
        panic!("{r:?}")
    };
    assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
    assert!(
        e.message.to_lowercase().contains("connect"),
        "the cause is named: {}",
        e.message
    );
    println!(
        "connection refused reported after {:?}: {}",
        t.elapsed(),
        e.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_streams_vaults_across_pages_and_warns_about_a_forbidden_subscription() {
    let mut cfg = config(
        VaultPolicy::default(),
        &["alpha", "bravo", "charlie", "delta", "echo"],
    );
    cfg.arm = ArmConfig {
        subscriptions: 2,
        forbidden: Some(2),
        page_size: 1,
        ..ArmConfig::default()
    };
    let emu = start_config(cfg).await;
    let (w, mut rx) = worker_for(&emu);
    let id = w.send(Request::Discover);
    let rs = responses(&mut rx, id).await;
    let mut found: Vec<_> = rs
        .iter()
        .filter_map(|r| {
            if let Response::VaultFound(v) = r {
                Some(v.clone())
            } else {
                None
            }
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = found.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "charlie", "echo"],
        "the readable subscription, every page"
    );
    assert_eq!(
        found[0].url,
        format!("https://alpha.localhost:{}", emu.port)
    );
    assert_eq!(
        found[0].subscription_name.as_deref(),
        Some("kvtui local subscription 1")
    );
    assert_eq!(found[0].location.as_deref(), Some("local"));
    let warnings: Vec<_> = rs
        .iter()
        .filter_map(|r| {
            if let Response::DiscoveryWarning(m) = r {
                Some(m.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("403 AuthorizationFailed"),
        "{warnings:?}"
    );
    assert!(matches!(rs.last(), Some(Response::DiscoveryDone)));
}

/// Issue 14's bugs, each as it was found: versions of the same second, a delete whose answer was
/// lost, a restore right after a purge, a backup over an existing file, a restore of /dev/zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_retries_restores_and_files_are_judged_by_the_state_reached() {
    let emu = start_with(
        VaultPolicy {
            delete_delay_ms: 1200,
            ..VaultPolicy::default()
        },
        &["demo"],
    )
    .await;
    let vault = emu.vault_url("demo");
    let (w, mut rx) = worker_for(&emu);
    let c = client(&emu, "demo");

    // Ten pairs of versions, each pair in one second: the current one is listed first.
    for i in 0..10 {
        let name = format!("same-second-{i}");
        set(&c, &name, "old").await;
        let current = set(&c, &name, "new").await;
        let current_version = current.resource_id().expect("id").version.expect("version");
        let Response::Versions(items) = one(
            &w,
            &mut rx,
            Request::ListVersions {
                vault: vault.clone(),
                name: name.clone(),
            },
        )
        .await
        else {
            panic!("versions")
        };
        assert_eq!(
            items[0].version.as_deref(),
            Some(current_version.as_str()),
            "{name}"
        );
    }

    // Deleted by someone (or by a first attempt whose answer was cut): the delete reached its state.
    set(&c, "lost-answer", "v").await;
    c.delete_secret("lost-answer", None).await.expect("delete");
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let r = one(
        &w,
        &mut rx,
        Request::Delete {
            vault: vault.clone(),
            name: "lost-answer".into(),
        },
    )
    .await;
    assert!(matches!(r, Response::Deleted(_)), "{r:?}");

    // Back up, delete, purge, restore at once: the restore waits out the purge instead of a raw 409.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("b.kvbackup");
    set(&c, "round-trip", "v").await;
    let backup = |overwrite| Request::Backup {
        vault: vault.clone(),
        name: "round-trip".into(),
        path: path.clone(),
        overwrite,
    };
    assert!(matches!(
        one(&w, &mut rx, backup(false)).await,
        Response::BackedUp { .. }
    ));
    // A second backup onto the same file asks first.
    let r = one(&w, &mut rx, backup(false)).await;
    assert!(
        matches!(&r, Response::Failed(e) if e.kind == ErrorKind::FileExists),
        "{r:?}"
    );
    assert!(matches!(
        one(&w, &mut rx, backup(true)).await,
        Response::BackedUp { .. }
    ));
    for req in [
        Request::Delete {
            vault: vault.clone(),
            name: "round-trip".into(),
        },
        Request::Purge {
            vault: vault.clone(),
            name: "round-trip".into(),
        },
    ] {
        let r = one(&w, &mut rx, req).await;
        assert!(!matches!(r, Response::Failed(_)), "{r:?}");
    }
    let id = w.send(Request::Restore {
        vault: vault.clone(),
        path: path.clone(),
    });
    let rs = responses(&mut rx, id).await;
    assert!(
        matches!(rs.last(), Some(Response::Saved(p)) if p.name == "round-trip"),
        "{rs:?}"
    );
    // A name in use is a real conflict, reported at once.
    let start = Instant::now();
    let r = one(
        &w,
        &mut rx,
        Request::Restore {
            vault: vault.clone(),
            path: path.clone(),
        },
    )
    .await;
    assert!(
        matches!(&r, Response::Failed(e) if e.status == Some(409)),
        "{r:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(10), "not waited out");
    // Not a backup at all: refused without reading it.
    let r = one(
        &w,
        &mut rx,
        Request::Restore {
            vault,
            path: "/dev/zero".into(),
        },
    )
    .await;
    assert!(
        matches!(&r, Response::Failed(e) if e.message.contains("not a regular file")),
        "{r:?}"
    );
}
