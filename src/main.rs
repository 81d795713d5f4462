//! kvtui command line: start-up only.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Address to listen on (repeatable); default 127.0.0.1 and ::1.
    #[arg(long, value_name = "ADDR")]
    listen: Vec<IpAddr>,
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
    if !exposed.is_empty() {
        eprintln!(
            "warning: listening on a non-loopback address ({}); this local vault accepts any bearer token",
            exposed.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(ready) = &args.ready_file {
        let vaults: serde_json::Map<String, serde_json::Value> = emu
            .vaults()
            .into_iter()
            .map(|(n, u)| (n, serde_json::Value::String(u)))
            .collect();
        let doc = serde_json::json!({
            "port": emu.port,
            "ca_file": ca_file.as_ref().map(|p| p.display().to_string()),
            "vaults": vaults,
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
