//! `--data`: state survives restarts and `kill -9` loses no acknowledged write; `--seed`.

mod common;
mod support;

use azure_security_keyvault_secrets::models::{
    RestoreSecretParameters, UpdateSecretPropertiesParameters,
};
use common::*;
use futures::{StreamExt, TryStreamExt};
use kvtui::emulator::{KeyStore, VaultPolicy};

/// The in-process `demo` vault writing its state to `data` and keeping its TLS key in `dir/keys`,
/// so a restart with the same config is the same server.
fn persistent(dir: &std::path::Path, data: &std::path::Path) -> kvtui::emulator::Config {
    let mut c = config(VaultPolicy::default(), &["demo"]);
    c.data = Some(data.to_path_buf());
    c.keys = KeyStore::Dir(dir.join("keys"));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_versions_deletions_and_backups_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("vault.jsonl");
    let cfg = || persistent(dir.path(), &data);
    let emu = start_config(cfg()).await;
    let c = client(&emu, "demo");
    set(&c, "rotating", "one").await;
    set(&c, "rotating", "two").await;
    let patch = UpdateSecretPropertiesParameters {
        content_type: Some("text/plain".into()),
        tags: Some([("team".to_string(), "core".to_string())].into()),
        ..Default::default()
    };
    c.update_secret_properties("rotating", patch.try_into().expect("b"), None)
        .await
        .expect("update");
    set(&c, "doomed", "x").await;
    c.delete_secret("doomed", None).await.expect("delete");
    set(&c, "purged", "x").await;
    c.delete_secret("purged", None).await.expect("delete");
    c.purge_deleted_secret("purged", None).await.expect("purge");
    let blob = backup(&c, "rotating").await;
    emu.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data)
            .expect("data file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    let emu = start_config(cfg()).await;
    let c = client(&emu, "demo");
    let latest = c
        .get_secret("rotating", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert_eq!(latest.value.as_deref(), Some("two"));
    assert_eq!(latest.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        latest.tags.and_then(|t| t.get("team").cloned()).as_deref(),
        Some("core")
    );
    let versions: Vec<_> = c
        .list_secret_properties_versions("rotating", None)
        .expect("p")
        .try_collect()
        .await
        .expect("v");
    assert_eq!(versions.len(), 2);
    assert!(
        c.get_deleted_secret("doomed", None).await.is_ok(),
        "deleted stays deleted"
    );
    assert_eq!(
        expect_err(c.get_deleted_secret("purged", None).await).status,
        404,
        "purged stays gone"
    );
    // Backups taken before the restart still restore (the key is kept beside the CA).
    c.delete_secret("rotating", None).await.expect("delete");
    c.purge_deleted_secret("rotating", None)
        .await
        .expect("purge");
    c.restore_secret(
        RestoreSecretParameters {
            secret_backup: Some(blob),
        }
        .try_into()
        .expect("b"),
        None,
    )
    .await
    .expect("restore after restart");
}

#[test]
fn kill_dash_nine_loses_no_acknowledged_write_and_a_torn_line_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("state.jsonl");
    let data_arg = data.to_str().expect("utf8").to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = support::start_emulator(dir.path(), &["--data", &data_arg]);
    let ca = emu.ca_pem();
    let url = emu.vault_url("demo");
    let acknowledged: Vec<String> = rt.block_on(async {
        let c = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
        futures::stream::iter(0..60)
            .map(|i| {
                let c = &c;
                async move {
                    let name = format!("durable-{i:02}");
                    c.set_secret(&name, params(&format!("value-{i}")), None)
                        .await
                        .map(|_| name)
                }
            })
            .buffer_unordered(8)
            .try_collect()
            .await
            .expect("60 acknowledged writes")
    });
    // SIGKILL the moment the last write was acknowledged: no chance to flush anything more.
    let mut proc = emu.proc;
    proc.0.kill().expect("kill -9");
    let _ = proc.0.wait();
    drop(proc);
    // A write cut short by a crash leaves a torn last line.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&data)
        .expect("data");
    f.write_all(br#"{"vault":"demo","name":"torn","live":{"rec"#)
        .expect("torn");
    drop(f);

    let emu = support::start_emulator(dir.path(), &["--data", &data_arg]);
    let url = emu.vault_url("demo");
    rt.block_on(async {
        let c = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
        let mut names: Vec<String> = c
            .list_secret_properties(None)
            .expect("pager")
            .map_ok(|p| {
                p.id.and_then(|id| id.rsplit('/').next().map(str::to_string))
                    .unwrap_or_default()
            })
            .try_collect()
            .await
            .expect("list");
        names.sort();
        let mut want = acknowledged.clone();
        want.sort();
        assert_eq!(names, want, "every acknowledged write survived kill -9");
        let v = c
            .get_secret("durable-42", None)
            .await
            .expect("get")
            .into_model()
            .expect("m");
        assert_eq!(v.value.as_deref(), Some("value-42"));
    });
}

#[test]
fn seed_fills_an_empty_data_file_once_and_bad_lines_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.jsonl");
    let line = |name: &str, value: &str| {
        format!(
            r#"{{"vault":"seeded","name":"{name}","live":{{"record":{{"name":"{name}","versions":[{{"version":"{}","value":"{value}","enabled":true,"created":1700000000,"updated":1700000000}}]}}}}}}"#,
            "a".repeat(32)
        )
    };
    std::fs::write(
        &seed,
        format!("{}\n{}\n", line("api-key", "k1"), line("db-password", "p1")),
    )
    .expect("seed");
    let data = dir.path().join("data.jsonl");
    let args = [
        "--seed",
        seed.to_str().expect("u"),
        "--data",
        data.to_str().expect("u"),
    ];
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = support::start_emulator(dir.path(), &args);
    let ca = emu.ca_pem();
    let url = emu.vault_url("seeded");
    rt.block_on(async {
        let c = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
        let v = c
            .get_secret("api-key", None)
            .await
            .expect("seeded")
            .into_model()
            .expect("m");
        assert_eq!(v.value.as_deref(), Some("k1"));
        c.delete_secret("api-key", None).await.expect("delete");
    });
    drop(emu);
    // Restarted with the same seed: the data (where api-key is deleted) wins.
    let emu = support::start_emulator(dir.path(), &args);
    let url = emu.vault_url("seeded");
    rt.block_on(async {
        let c = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
        assert_eq!(expect_err(c.get_secret("api-key", None).await).status, 404);
        assert!(c.get_deleted_secret("api-key", None).await.is_ok());
        assert!(c.get_secret("db-password", None).await.is_ok());
    });
    drop(emu);

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        format!("{}\nnot json\n{}\n", line("a", "1"), line("b", "2")),
    )
    .expect("bad");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kvtui"))
        .args([
            "emulator",
            "--port",
            "0",
            "--seed",
            bad.to_str().expect("u"),
        ])
        .env("XDG_DATA_HOME", dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl line 2"), "{err}");
}

/// 150 versions of a 25 KiB value: the file grows with the data, not with the square of it (it was
/// 284 MB before compaction), and everything is still there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_file_grows_linearly_with_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("vault.jsonl");
    let cfg = || persistent(dir.path(), &data);
    let emu = start_config(cfg()).await;
    let c = client(&emu, "demo");
    let value = "v".repeat(25 * 1024 - 8);
    for i in 0..150 {
        set(&c, "big", &format!("{i:07}{value}")).await;
    }
    let size = std::fs::metadata(&data).expect("data").len();
    let live = 150 * 25 * 1024;
    println!("150 × 25 KiB versions: data file {size} bytes (live ≈ {live})");
    assert!(size < 3 * live + 2 * 1024 * 1024, "{size} bytes");
    emu.shutdown().await;
    let emu = start_config(cfg()).await;
    let c = client(&emu, "demo");
    let pager = c
        .list_secret_properties_versions("big", None)
        .expect("pager");
    let versions: Vec<_> = pager.try_collect().await.expect("versions");
    assert_eq!(versions.len(), 150);
    let got = c
        .get_secret("big", None)
        .await
        .expect("get")
        .into_model()
        .expect("m");
    assert!(got
        .value
        .as_deref()
        .is_some_and(|v| v.starts_with("0000149")));
}

/// A load test of the server's durability: 32 clients × 500 writes against `--data`, `kill -9` half
/// way, a restart: every acknowledged write is there (a write in flight at the kill may or may not
/// be). Prints the figures.
#[test]
fn under_load_kill_dash_nine_loses_no_acknowledged_write() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    const CLIENTS: usize = 32;
    const OPS: usize = 500;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("state.jsonl");
    let data_arg = data.to_str().expect("utf8").to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = support::start_emulator(dir.path(), &["--data", &data_arg]);
    let ca = emu.ca_pem();
    let url = emu.vault_url("demo");
    let proc = Arc::new(Mutex::new(Some(emu.proc)));
    let acks = Arc::new(AtomicUsize::new(0));
    let start = std::time::Instant::now();
    // Per client and name: (name, the last acknowledged value, the one attempted after it).
    type Outcome = (String, Option<String>, Option<String>);
    let outcomes: Vec<Vec<Outcome>> = rt.block_on(async {
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let (url, ca, acks, proc) = (url.clone(), ca.clone(), acks.clone(), proc.clone());
            tasks.push(tokio::spawn(async move {
                // No retries: a write either is acknowledged or fails.
                let c = kvtui::vault::transport::secret_client_with_retry(
                    &url,
                    Arc::new(kvtui::vault::transport::LocalTokenCredential),
                    kvtui::vault::transport::http_client(Some(&ca)).expect("http"),
                    Some(azure_core::http::RetryOptions::none()),
                )
                .expect("client");
                let mut state: Vec<Outcome> = (0..5)
                    .map(|n| (format!("load-{client:02}-{n}"), None, None))
                    .collect();
                for i in 0..OPS {
                    let slot = i % state.len();
                    let value = format!("c{client}-op{i}");
                    state[slot].2 = Some(value.clone());
                    match c.set_secret(&state[slot].0, params(&value), None).await {
                        Ok(_) => {
                            state[slot].1 = Some(value);
                            state[slot].2 = None;
                            // Half way through the whole run: SIGKILL, no warning.
                            if acks.fetch_add(1, Ordering::SeqCst) + 1 == CLIENTS * OPS / 2 {
                                if let Some(mut p) = proc.lock().ok().and_then(|mut g| g.take()) {
                                    let _ = p.0.kill();
                                    let _ = p.0.wait();
                                }
                            }
                        }
                        Err(_) => break,
                    }
                }
                state
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    });
    let acked = acks.load(Ordering::SeqCst);
    println!(
        "{CLIENTS} clients: {acked} acknowledged writes in {:?} ({:.0}/s) before and at kill -9",
        start.elapsed(),
        acked as f64 / start.elapsed().as_secs_f64()
    );
    assert!(acked >= CLIENTS * OPS / 2, "the kill came half way");
    let emu = support::start_emulator(dir.path(), &["--data", &data_arg]);
    let url = emu.vault_url("demo");
    rt.block_on(async {
        let c = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
        let mut checked = 0;
        for (name, acked, attempted) in outcomes.into_iter().flatten() {
            let Some(acked) = acked else { continue };
            let got = c
                .get_secret(&name, None)
                .await
                .expect("an acknowledged secret is there")
                .into_model()
                .expect("m")
                .value
                .unwrap_or_default();
            assert!(
                got == acked || Some(&got) == attempted.as_ref(),
                "{name}: {got} (acknowledged {acked}, in flight {attempted:?})"
            );
            checked += 1;
        }
        println!("after the restart: {checked} names checked, 0 acknowledged writes lost");
    });
}
