//! Local vault throughput: 16 concurrent real `SecretClient`s (one connection each) doing sets, then
//! gets, in memory and with a durable data file. Prints requests/s and p50/p99 latency.
//!
//! Run: `cargo bench --bench emulator` (KVTUI_BENCH_OPS=N sets per client; default 300).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use azure_security_keyvault_secrets::models::SetSecretParameters;
use futures::future::join_all;
use kvtui::emulator::{Config, Emulator, KeyStore, VaultPolicy};

const CLIENTS: usize = 16;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(label: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{label:<28} {:>7} req {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        lat.len(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
    );
}

async fn run(label: &str, data: Option<std::path::PathBuf>, ops: usize) -> anyhow::Result<()> {
    let emu = Emulator::start(Config {
        listen: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        port: 0,
        vaults: vec!["bench".into()],
        policy: VaultPolicy::default(),
        keys: KeyStore::Memory,
        data,
        ..Config::default()
    })
    .await?;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| kvtui::vault::transport::local_secret_client(&emu.vault_url("bench"), &emu.ca_pem))
        .collect::<Result<_, _>>()?;
    // Warm up: the challenge round trip and the TLS handshake of each client.
    for (i, c) in clients.iter().enumerate() {
        let p: azure_core::http::RequestContent<SetSecretParameters> = SetSecretParameters {
            value: Some("warm".into()),
            ..Default::default()
        }
        .try_into()?;
        c.set_secret(&format!("warm-{i}"), p, None).await?;
    }

    let start = Instant::now();
    let per_client = join_all(clients.iter().enumerate().map(|(i, c)| async move {
        let mut lat = Vec::with_capacity(ops);
        for n in 0..ops {
            let p: azure_core::http::RequestContent<SetSecretParameters> = SetSecretParameters {
                value: Some(format!("value-{n}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
                ..Default::default()
            }
            .try_into()?;
            let t = Instant::now();
            c.set_secret(&format!("secret-{i}-{}", n % 50), p, None)
                .await?;
            lat.push(t.elapsed());
        }
        anyhow::Ok(lat)
    }))
    .await;
    let wall = start.elapsed();
    let lat: Vec<Duration> = per_client
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    report(&format!("{label}: set"), lat, wall);

    let start = Instant::now();
    let per_client = join_all(clients.iter().enumerate().map(|(i, c)| async move {
        let mut lat = Vec::with_capacity(ops * 2);
        for n in 0..ops * 2 {
            let t = Instant::now();
            c.get_secret(&format!("secret-{i}-{}", n % 50), None)
                .await?;
            lat.push(t.elapsed());
        }
        anyhow::Ok(lat)
    }))
    .await;
    let wall = start.elapsed();
    let lat: Vec<Duration> = per_client
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    report(&format!("{label}: get"), lat, wall);
    emu.shutdown().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let ops: usize = std::env::var("KVTUI_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "local vault, {CLIENTS} concurrent Rust SDK clients, {ops} sets + {} gets each",
        ops * 2
    );
    rt.block_on(async {
        run("in memory", None, ops).await?;
        let dir = tempfile::tempdir()?;
        run(
            "--data (fsync per write)",
            Some(dir.path().join("bench.jsonl")),
            ops,
        )
        .await
    })
}
