//! kvtui command line: start-up only.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use kvtui::emulator::{self, Emulator, KeyStore, VaultPolicy};

#[derive(Parser)]
#[command(
    name = "kvtui",
    version,
    about = "A terminal UI for Azure Key Vault secrets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the local Key Vault-compatible HTTPS server (secrets API).
    Emulator(EmulatorArgs),
}

#[derive(Args)]
struct EmulatorArgs {
    /// TCP port; 0 picks a free one.
    #[arg(long, default_value_t = 8443)]
    port: u16,
    /// A vault to serve as https://NAME.localhost:PORT (repeatable).
    #[arg(long = "vault", value_name = "NAME", default_values_t = vec!["demo".to_string()])]
    vaults: Vec<String>,
    /// Also write the CA certificate (PEM) to this file.
    #[arg(long, value_name = "FILE")]
    ca_out: Option<PathBuf>,
    /// Once listening, write {"port","ca_file","vaults":{name:url}} to this file (atomically).
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// After a delete, how long the deleted secret stays invisible and its name busy (409).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    delete_delay_ms: u64,
    /// After a recover, how long the secret stays unreadable (404).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    recover_delay_ms: u64,
    /// Soft-delete retention in days (7 to 90); 0 turns soft delete off.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    recoverable_days: u32,
    /// Refuse purges (403), as a vault with purge protection does.
    #[arg(long)]
    purge_protection: bool,
    /// Address to listen on (repeatable); default 127.0.0.1 and ::1. Beyond loopback, only tokens
    /// this instance issued are accepted.
    #[arg(long, value_name = "ADDR")]
    listen: Vec<IpAddr>,
    /// Port of the managed-identity endpoint (plain HTTP on 127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "N")]
    identity_port: u16,
    /// A service principal the login.localhost token endpoint accepts (repeatable); without any,
    /// every client id and secret is accepted.
    #[arg(long = "client", value_name = "ID:SECRET", value_parser = parse_client)]
    clients: Vec<(String, String)>,
    /// How many subscriptions the vaults are spread over (Resource Manager discovery).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    subscriptions: u16,
    /// Make the N-th subscription's listings answer 403 (to test partial discovery).
    #[arg(long, value_name = "N")]
    forbidden_subscription: Option<usize>,
    /// Keep state in this file (created 0600); every acknowledged write survives a crash.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Initial state (same format as --data), used when there is no data yet.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Add this latency to every vault request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Answer this fraction (0–1) of vault requests with 503 and Retry-After.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_rate)]
    fail_rate: f64,
    /// Answer 429 Throttled (with Retry-After) past N requests per vault per window.
    #[arg(long, value_name = "N")]
    throttle: Option<u32>,
    /// The throttling window (the service's is 10 s).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    throttle_window_ms: u64,
    /// Cut this fraction (0–1) of connections halfway through the response.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_rate)]
    drop_rate: f64,
    /// Seed for the fault generator (the same seed gives the same faults).
    #[arg(long, value_name = "N")]
    fault_seed: Option<u64>,
    /// Accept only tokens this instance issued (always so beyond loopback).
    #[arg(long)]
    require_issued_tokens: bool,
    /// Another name for the certificate (repeatable), e.g. '*.vault.azure.net' to stand in for it.
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
}

fn parse_client(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_string(), secret.to_string()))
        }
        _ => Err("expected CLIENT_ID:SECRET".into()),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a fraction from 0 to 1")),
    }
}

async fn run_emulator(args: EmulatorArgs) -> Result<()> {
    let dir = kvtui::paths::data_dir()
        .context("cannot find a data directory: set HOME or XDG_DATA_HOME")?
        .join("emulator");
    let mut config = emulator::Config {
        port: args.port,
        vaults: args.vaults,
        policy: VaultPolicy {
            recoverable_days: args.recoverable_days,
            purge_protection: args.purge_protection,
            delete_delay_ms: args.delete_delay_ms,
            recover_delay_ms: args.recover_delay_ms,
        },
        keys: KeyStore::Dir(dir),
        identity_port: Some(args.identity_port),
        clients: emulator::Clients(args.clients.into_iter().collect()),
        arm: emulator::ArmConfig {
            subscriptions: usize::from(args.subscriptions),
            forbidden: args.forbidden_subscription,
            ..emulator::ArmConfig::default()
        },
        faults: emulator::FaultConfig {
            latency: Duration::from_millis(args.latency_ms),
            fail_rate: args.fail_rate,
            throttle: args.throttle,
            throttle_window: Duration::from_millis(args.throttle_window_ms.max(1)),
            drop_rate: args.drop_rate,
            seed: args
                .fault_seed
                .unwrap_or(emulator::FaultConfig::default().seed),
        },
        data: args.data,
        seed: args.seed,
        tls_names: args.tls_names,
        require_issued_tokens: args.require_issued_tokens,
        ..emulator::Config::default()
    };
    if !args.listen.is_empty() {
        config.listen = args.listen;
    }
    let exposed: Vec<IpAddr> = config
        .listen
        .iter()
        .filter(|a| !a.is_loopback())
        .copied()
        .collect();
    let emu = Emulator::start(config).await?;
    let mut ca_file = emu.ca_path.clone();
    if let Some(out) = &args.ca_out {
        std::fs::write(out, &emu.ca_pem).with_context(|| format!("writing {}", out.display()))?;
        ca_file = Some(out.clone());
    }
    let addrs: Vec<String> = emu.addrs.iter().map(|a| a.to_string()).collect();
    println!("kvtui local vault listening on {}", addrs.join(", "));
    for (name, url) in emu.vaults() {
        println!("  vault {name:<12} {url}");
    }
    if let Some(ca) = &ca_file {
        println!("CA certificate: {}", ca.display());
        println!(
            "  Python: REQUESTS_CA_BUNDLE={}   (names *.localhost must resolve to 127.0.0.1)",
            ca.display()
        );
    }
    println!(
        "Entra token endpoint: AZURE_AUTHORITY_HOST={} (tenant {})",
        emu.authority_host(),
        emu.tenant
    );
    println!("Resource Manager: {}", emu.management_endpoint());
    if let Some(id) = &emu.identity {
        println!("Managed identity (App Service style):");
        println!("  export IDENTITY_ENDPOINT={}", id.endpoint);
        println!("  export IDENTITY_HEADER={}", id.header);
    }
    if let Some(data) = &emu.data {
        println!("Data: {}", data.display());
    }
    if !exposed.is_empty() {
        eprintln!(
            "warning: listening on a non-loopback address ({}): only tokens issued by this local vault (its managed-identity and login.localhost endpoints) are accepted",
            exposed.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(ready) = &args.ready_file {
        let vaults: serde_json::Map<String, serde_json::Value> = emu
            .vaults()
            .into_iter()
            .map(|(n, u)| (n, serde_json::Value::String(u)))
            .collect();
        let subscriptions: Vec<String> = (0..usize::from(args.subscriptions))
            .map(emulator::arm::subscription_id)
            .collect();
        let doc = serde_json::json!({
            "port": emu.port,
            "ca_file": ca_file.as_ref().map(|p| p.display().to_string()),
            "vaults": vaults,
            "tenant_id": emu.tenant,
            "authority_host": emu.authority_host(),
            "management_endpoint": emu.management_endpoint(),
            "subscriptions": subscriptions,
            "identity_port": emu.identity.as_ref().map(|i| i.port),
            "identity_endpoint": emu.identity.as_ref().map(|i| i.endpoint.clone()),
            "identity_header": emu.identity.as_ref().map(|i| i.header.clone()),
            "data": emu.data.as_ref().map(|d| d.display().to_string()),
        });
        kvtui::paths::write_private_atomic(ready, doc.to_string().as_bytes())
            .with_context(|| format!("writing {}", ready.display()))?;
    }
    println!("Press Ctrl-C to stop.");
    wait_for_stop().await;
    emu.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kvtui: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Emulator(args) => run_emulator(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kvtui: {e:#}");
            ExitCode::FAILURE
        }
    }
}
