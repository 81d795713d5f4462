//! kvtui command line: start-up only.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use kvtui::app::App;
use kvtui::emulator::{self, Emulator, KeyStore, VaultPolicy};
use kvtui::vault::credential::{AuthConfig, AuthMode, Cloud};
use kvtui::vault::discovery::DiscoveryConfig;
use kvtui::vault::sources::{self, VaultList};
use kvtui::vault::{PollConfig, Worker, WorkerConfig};
use tracing_subscriber::filter::LevelFilter;

#[derive(Parser)]
#[command(
    name = "kvtui",
    version,
    about = "A terminal UI for Azure Key Vault secrets",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    tui: TuiArgs,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for LevelFilter {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

#[derive(Args)]
struct TuiArgs {
    /// Try kvtui on built-in demo vaults (a local vault inside the process; nothing is written).
    #[arg(long)]
    demo: bool,
    /// A vault to list (repeatable): a name (kv-prod) or a URL (https://kv-prod.vault.azure.net).
    #[arg(long = "vault", value_name = "NAME|URL")]
    vaults: Vec<String>,
    /// The credential to use; auto tries the environment, workload and managed identity, then the
    /// Azure CLI and the Azure Developer CLI.
    #[arg(long, value_enum, default_value_t = AuthMode::Auto)]
    auth: AuthMode,
    /// The Entra tenant to authenticate in.
    #[arg(long)]
    tenant: Option<String>,
    /// The cloud: vault suffix, Entra authority and Resource Manager endpoint.
    #[arg(long, value_enum, default_value_t = Cloud::Public)]
    cloud: Cloud,
    /// Do not look for vaults through Resource Manager.
    #[arg(long)]
    no_discovery: bool,
    /// How much to write to $XDG_STATE_HOME/kvtui/kvtui.log.
    #[arg(long, value_enum, default_value_t = LogLevel::Warn)]
    log_level: LogLevel,
    /// Refuse every change (create, update, delete, recover, purge).
    #[arg(long)]
    read_only: bool,
    /// The local vault's CA certificate, trusted for *.localhost vaults (default: the one
    /// `kvtui emulator` keeps in the data directory).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The configuration file (default: $XDG_CONFIG_HOME/kvtui/config.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where copies go: the system clipboard, the terminal's (OSC 52: over SSH, in tmux), or off.
    #[arg(long, value_enum)]
    clipboard: Option<kvtui::clipboard::Mode>,
    /// Clear copied values after this many seconds (0: never).
    #[arg(long, value_name = "SECS")]
    clipboard_clear_after: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the local Key Vault-compatible HTTPS server (secrets API).
    Emulator(Box<EmulatorArgs>),
    /// (internal) Keeps serving a copied value after kvtui quits and clears it at the deadline; the
    /// value arrives on stdin.
    #[command(hide = true)]
    ClipboardKeeper {
        #[arg(long)]
        deadline_ms: u128,
        #[arg(long)]
        osc52_tty: Option<PathBuf>,
    },
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
    /// Azure RBAC: give PRINCIPAL (a client id, the managed identity's client id, a --user UPN, or *)
    /// a built-in role ("Key Vault Reader", "Key Vault Secrets User", "Key Vault Secrets Officer",
    /// "Key Vault Administrator"), on every vault or on @VAULT (repeatable).
    #[arg(long = "grant", value_name = "PRINCIPAL=ROLE[@VAULT]")]
    grants: Vec<emulator::access::Grant>,
    /// The access-policy model: PRINCIPAL's secret permissions (get,list,set,delete,recover,backup,
    /// restore,purge), on every vault or on @VAULT (repeatable).
    #[arg(long = "access-policy", value_name = "PRINCIPAL=PERMS[@VAULT]")]
    access_policies: Vec<emulator::access::Policy>,
    /// Vault firewall: only clients from these addresses (CIDR) get through; others get the
    /// ForbiddenByFirewall refusal (repeatable).
    #[arg(long = "firewall-allow", value_name = "CIDR[@VAULT]")]
    firewall_allow: Vec<emulator::access::Allow>,
    /// `disabled`: every request gets the private-link (ForbiddenByConnection) refusal.
    #[arg(long = "public-network-access", value_name = "disabled[@VAULT]", value_parser = parse_private)]
    public_network_access: Vec<Option<String>>,
    /// A user the login.localhost endpoint signs in with the password grant (repeatable); without a
    /// password, any is accepted.
    #[arg(long = "user", value_name = "UPN[=PASSWORD]", value_parser = parse_user)]
    users: Vec<(String, Option<String>)>,
}

fn parse_private(s: &str) -> Result<Option<String>, String> {
    let (what, vault) = match s.split_once('@') {
        Some((w, v)) => (w, Some(v.to_ascii_lowercase())),
        None => (s, None),
    };
    if what.eq_ignore_ascii_case("disabled") {
        Ok(vault)
    } else {
        Err("expected disabled or disabled@VAULT".into())
    }
}

fn parse_user(s: &str) -> Result<(String, Option<String>), String> {
    let (upn, password) = match s.split_once('=') {
        Some((u, p)) => (u, Some(p.to_string())),
        None => (s, None),
    };
    if upn.contains('@') && !upn.starts_with('@') {
        Ok((upn.to_string(), password))
    } else {
        Err(format!(
            "'{upn}' is not a user principal name (name@domain)"
        ))
    }
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
        access: emulator::access::AccessConfig {
            grants: args.grants,
            policies: args.access_policies,
            firewall: args.firewall_allow,
            private: args.public_network_access,
        },
        users: emulator::identity::Users(args.users),
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
    let ready =
        emulator::ready::Ready::of(&emu, ca_file.as_deref(), usize::from(args.subscriptions));
    println!("{}", ready.banner());
    if !exposed.is_empty() {
        eprintln!(
            "warning: listening on a non-loopback address ({}): only tokens issued by this local vault (its managed-identity and login.localhost endpoints) are accepted",
            exposed.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(path) = &args.ready_file {
        kvtui::paths::write_private_atomic(path, ready.json().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
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

async fn run_tui(args: TuiArgs) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "kvtui needs an interactive terminal (run `kvtui emulator` for the local vault alone)"
        );
    }
    kvtui::vault::transport::ensure_crypto_provider();
    // The demo writes nothing: its log (if asked for) goes to a private temporary directory.
    let demo_dir = if args.demo {
        let dir = std::env::temp_dir().join(format!("kvtui-demo-{}", std::process::id()));
        kvtui::paths::create_private_dir(&dir)?;
        Some(dir)
    } else {
        None
    };
    let result = run_tui_inner(&args, demo_dir.as_deref()).await;
    if let Some(dir) = demo_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

async fn run_tui_inner(args: &TuiArgs, demo_dir: Option<&std::path::Path>) -> Result<()> {
    let local_offset = LOCAL_OFFSET.get().copied().unwrap_or(time::UtcOffset::UTC);
    let level: LevelFilter = args.log_level.into();
    let log_file = match demo_dir {
        Some(d) => Some(d.join("kvtui.log")),
        None => kvtui::paths::state_dir().map(|d| d.join("kvtui.log")),
    };
    if let (Some(path), true) = (&log_file, level != LevelFilter::OFF) {
        // Logging is a help, never a blocker.
        let _ = kvtui::logging::init(path, level);
    }
    let mut startup_error = None;
    let demo = if demo_dir.is_some() {
        Some(kvtui::demo::start().await?)
    } else {
        None
    };
    let local_ca = match (&demo, &args.ca) {
        (Some(emu), _) => Some(emu.ca_pem.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the CA {}", path.display()))?,
        ),
        (None, None) => kvtui::paths::data_dir()
            .map(|d| d.join("emulator/ca.pem"))
            .and_then(|p| std::fs::read_to_string(p).ok()),
    };
    // The config's keys, theme and clipboard apply to the demo too; its vaults do not.
    let config_path = args.config.clone().or_else(kvtui::config::default_path);
    let user_config = match config_path.as_deref().map(kvtui::config::load) {
        Some(Ok(cfg)) => cfg,
        Some(Err(e)) => {
            startup_error = Some(format!("{e} — starting with defaults"));
            kvtui::config::Config::default()
        }
        None => kvtui::config::Config::default(),
    };
    let (vaults, warnings) = match &demo {
        Some(emu) => {
            let urls: Vec<String> = emu.vaults().into_iter().map(|(_, u)| u).collect();
            VaultList::from_sources(sources::Sources {
                flags: &urls,
                env: None,
                config: &[],
                config_path: None,
                recent: Vec::new(),
                cloud: args.cloud,
            })
        }
        None => VaultList::from_sources(sources::Sources {
            flags: &args.vaults,
            env: std::env::var("KEY_VAULT_NAME").ok(),
            config: &user_config.vaults,
            config_path: config_path.as_deref(),
            recent: sources::recent_file()
                .map(|r| sources::load_recent(&r))
                .unwrap_or_default(),
            cloud: args.cloud,
        }),
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    startup_error = startup_error
        .or(warnings.into_iter().next())
        .or(user_config.warnings.first().map(|w| w.to_string()));
    let http = kvtui::vault::transport::http_client(None)?;
    let local_http = kvtui::vault::transport::http_client(local_ca.as_deref())?;
    let discovery = match (&demo, args.no_discovery) {
        (Some(emu), _) => Some(DiscoveryConfig {
            arm_endpoint: emu.management_endpoint(),
            http: local_http.clone(),
            local_token: true,
        }),
        (None, true) => None,
        (None, false) => Some(DiscoveryConfig {
            arm_endpoint: args.cloud.arm_endpoint().to_string(),
            http: http.clone(),
            local_token: false,
        }),
    };
    let authority_host =
        (args.cloud != Cloud::Public).then(|| args.cloud.authority_host().to_string());
    let auth_http = match std::env::var("AZURE_AUTHORITY_HOST") {
        Ok(h)
            if kvtui::vault::transport::is_localhost(
                url::Url::parse(&h)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default()
                    .as_str(),
            ) =>
        {
            local_http.clone()
        }
        _ => http,
    };
    let (worker, responses) = Worker::spawn(WorkerConfig {
        auth: AuthConfig {
            mode: args.auth,
            tenant: args.tenant.clone(),
            authority_host,
            http: auth_http,
        },
        local_ca,
        poll: PollConfig::default(),
        discovery,
        vault_tenants: vaults
            .entries
            .iter()
            .filter_map(|e| e.tenant.clone().map(|t| (e.url.clone(), t)))
            .collect(),
    });
    let mut app = App::new(vaults);
    app.read_only = args.read_only;
    app.local_offset = local_offset;
    app.palette = kvtui::ui::theme::Palette::from_config(&user_config.theme);
    app.keymap = user_config.keymap.clone();
    app.local_ca = match (&demo, &args.ca) {
        (Some(_), _) => Some("the demo's own CA".into()),
        (None, Some(p)) => Some(p.display().to_string()),
        (None, None) => kvtui::paths::data_dir()
            .map(|d| d.join("emulator/ca.pem"))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string()),
    };
    app.color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let open = demo.is_none().then(|| app.vaults.single_named()).flatten();
    let initial = app.start(demo.is_some() || !args.no_discovery, open);
    if let Some(e) = startup_error {
        app.status = Some(kvtui::app::StatusMessage {
            text: e,
            error: true,
        });
    }
    let options = kvtui::tui::LoopOptions {
        recent_file: if demo.is_some() {
            None
        } else {
            sources::recent_file()
        },
        clipboard: kvtui::clipboard::Clipboard::new(
            args.clipboard
                .or(user_config.clipboard.mode)
                .unwrap_or_default(),
            Duration::from_secs(
                args.clipboard_clear_after
                    .or(user_config.clipboard.clear_after)
                    .unwrap_or(30),
            ),
        ),
    };
    let result = kvtui::tui::run(app, worker, responses, initial, options).await;
    if let Some(emu) = demo {
        emu.shutdown().await;
    }
    result
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read while the process has one thread: the time crate refuses to read it later.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let _ = LOCAL_OFFSET.set(offset);
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
            Some(Command::Emulator(args)) => run_emulator(*args).await,
            Some(Command::ClipboardKeeper {
                deadline_ms,
                osc52_tty,
            }) => {
                kvtui::clipboard::run_keeper(deadline_ms, osc52_tty).map_err(|e| anyhow::anyhow!(e))
            }
            None => run_tui(cli.tui).await,
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
