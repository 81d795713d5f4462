//! kvtui command line: start-up only.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cli;

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use cli::*;
use kvtui::app::App;
use kvtui::emulator::{self, Emulator, KeyStore, VaultPolicy};
use kvtui::vault::credential::{AuthConfig, Cloud};
use kvtui::vault::discovery::DiscoveryConfig;
use kvtui::vault::sources::{self, VaultList};
use kvtui::vault::{PollConfig, Worker, WorkerConfig};
use tracing_subscriber::filter::LevelFilter;

/// `kvtui config …`.
fn run_config(action: ConfigAction) -> Result<()> {
    let default = kvtui::config::default_path()
        .context("cannot find a config directory: set HOME or XDG_CONFIG_HOME")?;
    match action {
        ConfigAction::Path => {
            println!("{}", default.display());
            Ok(())
        }
        ConfigAction::Init { file } => {
            let path = file.unwrap_or(default);
            kvtui::config::init(&path)?;
            println!("wrote {}", path.display());
            Ok(())
        }
        ConfigAction::Check { file } => {
            let path = file.unwrap_or(default);
            if !path.exists() {
                anyhow::bail!(
                    "{}: no such file (kvtui config init writes one)",
                    path.display()
                );
            }
            let mistakes = kvtui::config::check_file(&path);
            for m in &mistakes {
                println!("{m}");
            }
            if mistakes.is_empty() {
                println!("{}: ok", path.display());
                Ok(())
            } else {
                anyhow::bail!("{} mistake(s) in {}", mistakes.len(), path.display())
            }
        }
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
        clients: emulator::Clients(args.clients.into_iter().collect(), false),
        arm: emulator::ArmConfig {
            subscriptions: usize::from(args.subscriptions),
            forbidden: args.forbidden_subscription,
            tenants: usize::from(args.tenants),
            vault_tenants: args.vault_tenants,
            states: args.subscription_states,
            ..emulator::ArmConfig::default()
        },
        faults: emulator::FaultConfig {
            latency: Duration::from_millis(args.latency_ms),
            fail_rate: args.fail_rate,
            throttle: args.throttle,
            throttle_window: Duration::from_millis(args.throttle_window_ms.max(1)),
            throttle_retry_after: args.throttle_retry_after,
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

/// The local vault's CA: the demo's, `--ca`, or the one `kvtui emulator` keeps.
fn local_ca(connect: &ConnectArgs, demo: Option<&Emulator>) -> Result<Option<String>> {
    Ok(match (demo, &connect.ca) {
        (Some(emu), _) => Some(emu.ca_pem.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the CA {}", path.display()))?,
        ),
        (None, None) => kvtui::paths::data_dir()
            .map(|d| d.join("emulator/ca.pem"))
            .and_then(|p| std::fs::read_to_string(p).ok()),
    })
}

/// How the worker reaches vaults, signs in and discovers (the TUI and `kvtui doctor` alike).
fn worker_config(
    connect: &ConnectArgs,
    demo: Option<&Emulator>,
    vault_tenants: std::collections::HashMap<String, String>,
) -> Result<WorkerConfig> {
    let local_ca = local_ca(connect, demo)?;
    let http = kvtui::vault::transport::http_client(None)?;
    let local_http = kvtui::vault::transport::http_client(local_ca.as_deref())?;
    let is_local = kvtui::vault::transport::is_local_url;
    let arm = demo
        .map(|emu| emu.management_endpoint())
        .or(connect.management_endpoint.clone());
    let discovery = match (arm, connect.no_discovery && demo.is_none()) {
        (_, true) => None,
        (Some(arm), false) if is_local(&arm) => Some(DiscoveryConfig {
            arm_endpoint: arm,
            http: local_http.clone(),
            // The local vault's own tokens unless a credential is configured.
            local_token: demo.is_some() || connect.auth == kvtui::vault::credential::AuthMode::Auto,
        }),
        (arm, false) => Some(DiscoveryConfig {
            arm_endpoint: arm.unwrap_or_else(|| connect.cloud.arm_endpoint().to_string()),
            http: http.clone(),
            local_token: false,
        }),
    };
    let authority_host =
        (connect.cloud != Cloud::Public).then(|| connect.cloud.authority_host().to_string());
    let auth_http = match std::env::var("AZURE_AUTHORITY_HOST") {
        Ok(h) if is_local(&h) => local_http.clone(),
        _ => http,
    };
    Ok(WorkerConfig {
        auth: AuthConfig {
            mode: connect.auth,
            tenant: connect.tenant.clone(),
            authority_host,
            http: auth_http,
        },
        local_ca,
        poll: PollConfig::default(),
        discovery,
        vault_tenants,
    })
}

/// `kvtui doctor`: the checks, one line each; exit 1 when one failed.
async fn run_doctor(args: DoctorArgs) -> Result<()> {
    kvtui::vault::transport::ensure_crypto_provider();
    let connect = &args.connect;
    let config_path = kvtui::config::default_path();
    let user_config = config_path
        .as_deref()
        .and_then(|p| kvtui::config::load(p).ok())
        .unwrap_or_default();
    let mut vaults = Vec::new();
    for v in &connect.vaults {
        vaults.push(
            sources::vault_url(v, connect.cloud).map_err(|e| anyhow::anyhow!("--vault {e}"))?,
        );
    }
    // The tenants kvtui knows for these vaults: the config's, then those it learned.
    let mut known: std::collections::HashMap<String, String> = sources::recent_file()
        .map(|r| sources::load_tenants(&sources::tenants_file(&r)))
        .unwrap_or_default()
        .into_iter()
        .collect();
    for spec in &user_config.vaults {
        if let (
            kvtui::config::VaultSpec::Detailed {
                tenant: Some(t), ..
            },
            Ok(url),
        ) = (spec, sources::vault_url(spec.spec(), connect.cloud))
        {
            known.insert(url.to_ascii_lowercase(), t.clone());
        }
    }
    let worker = worker_config(connect, None, known)?;
    let local_ca = connect.ca.as_ref().map(|p| p.display().to_string());
    let input = kvtui::doctor::Input {
        worker,
        vaults,
        vault_scope: format!("https://{}/.default", connect.cloud.vault_suffix()),
        clipboard: args
            .clipboard
            .or(user_config.clipboard.mode)
            .unwrap_or_default(),
        local_ca,
    };
    println!("kvtui doctor {}", env!("CARGO_PKG_VERSION"));
    if kvtui::doctor::run(input, &mut std::io::stdout()).await {
        Ok(())
    } else {
        anyhow::bail!("some checks failed (FAIL above): each says what to do")
    }
}

async fn run_tui(args: TuiArgs) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "kvtui needs an interactive terminal (run `kvtui emulator` for the local vault alone)"
        );
    }
    if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        anyhow::bail!(
            "kvtui needs a terminal that can move the cursor, and TERM=dumb says this one cannot \
             (an editor's shell buffer?). Run it in a terminal emulator, or set TERM=xterm-256color \
             if yours is one"
        );
    }
    kvtui::vault::transport::ensure_crypto_provider();
    // What an edit interrupted by a signal left behind (kvtui killed while the editor was open).
    let stale = kvtui::editor::clean_stale();
    if stale > 0 {
        tracing::info!(stale, "removed stale editor directories");
    }
    kvtui::hygiene::no_core_dumps();
    kvtui::hygiene::wipe_freed_memory();
    // The demo writes nothing: its log (if asked for) goes to a private temporary directory.
    // A fresh private directory (0700, an unpredictable name, never one that exists), removed after.
    let demo_dir = if args.demo {
        Some(
            tempfile::Builder::new()
                .prefix("kvtui-demo-")
                .tempdir()
                .context("making the demo's private directory")?,
        )
    } else {
        None
    };
    run_tui_inner(&args, demo_dir.as_ref().map(|d| d.path())).await
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
    let (mut vaults, warnings) = match &demo {
        Some(emu) => {
            let urls: Vec<String> = emu.vaults().into_iter().map(|(_, u)| u).collect();
            VaultList::from_sources(sources::Sources {
                flags: &urls,
                env: None,
                config: &[],
                config_path: None,
                recent: Vec::new(),
                cloud: args.connect.cloud,
            })
        }
        None => VaultList::from_sources(sources::Sources {
            flags: &args.connect.vaults,
            env: std::env::var("KEY_VAULT_NAME").ok(),
            config: &user_config.vaults,
            config_path: config_path.as_deref(),
            recent: sources::recent_file()
                .map(|r| sources::load_recent(&r))
                .unwrap_or_default(),
            cloud: args.connect.cloud,
        }),
    }
    .map_err(|e| anyhow::anyhow!(e))?;
    if demo.is_none() {
        if let Some(recent) = sources::recent_file() {
            vaults.apply_tenants(&sources::load_tenants(&sources::tenants_file(&recent)));
        }
    }
    startup_error = startup_error
        .or(warnings.into_iter().next())
        .or(user_config.warnings.first().map(|w| w.to_string()));
    let vault_tenants = vaults
        .entries
        .iter()
        .filter_map(|e| e.tenant.clone().map(|t| (e.url.clone(), t)))
        .collect();
    let config = worker_config(&args.connect, demo.as_ref(), vault_tenants)?;
    let (worker, responses) = Worker::spawn(config);
    let mut app = App::new(vaults);
    app.read_only = args.read_only;
    // The names cache: never for the demo (it writes nothing).
    if demo.is_none() && !args.no_cache && user_config.cache != Some(false) {
        app.names_cache =
            kvtui::paths::cache_dir().map(|d| kvtui::cache::NamesCache::new(d.join("names")));
    }
    app.local_offset = local_offset;
    app.palette = kvtui::ui::theme::Palette::from_config(&user_config.theme);
    app.keymap = user_config.keymap.clone();
    app.local_ca = match (&demo, &args.connect.ca) {
        (Some(_), _) => Some("the demo's own CA".into()),
        (None, Some(p)) => Some(p.display().to_string()),
        (None, None) => kvtui::paths::data_dir()
            .map(|d| d.join("emulator/ca.pem"))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string()),
    };
    app.color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let open = demo.is_none().then(|| app.vaults.single_named()).flatten();
    let initial = app.start(demo.is_some() || !args.connect.no_discovery, open);
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

/// Every freed block is wiped: copies of values in the SDK's, hyper's and the views' transient
/// buffers do not linger in freed memory.
#[global_allocator]
static ALLOCATOR: kvtui::hygiene::WipingAllocator = kvtui::hygiene::WipingAllocator;

/// With `RUST_BACKTRACE=1` (common in developers' shells) every error value the SDK makes captures
/// a backtrace, and azure_core makes one per request and drops it (a missing optional header):
/// unwinding the stack each time was ~5 % of kvtui's CPU while a big vault streamed in. Errors that
/// reach the user are shown as text, never with a backtrace, so library backtraces are turned off
/// unless the user asked for them with `RUST_LIB_BACKTRACE`; a panic still prints its backtrace
/// under `RUST_BACKTRACE`. Called while the process has one thread (setting the environment later
/// would race with readers of it).
fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

/// The TUI runs on one thread: the event loop, the vault worker and its connections are tasks
/// that each run for well under a millisecond, and handing every page of a listing from one
/// thread to another (the connection, the request, the worker, the loop) cost more CPU than
/// parsing it. Work that takes longer has threads of its own (the names cache, the matcher, the
/// clipboard). The local vault serves many clients and gets a thread per core.
fn runtime_for(command: &Option<Command>) -> std::io::Result<tokio::runtime::Runtime> {
    match command {
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read while the process has one thread: the time crate refuses to read it later.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let _ = LOCAL_OFFSET.set(offset);
    quiet_library_backtraces();
    let runtime = match runtime_for(&cli.command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kvtui: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Emulator(args)) => run_emulator(*args).await,
            Some(Command::Completions { shell }) => {
                use clap::CommandFactory;
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "kvtui",
                    &mut std::io::stdout(),
                );
                Ok(())
            }
            Some(Command::Man) => {
                use clap::CommandFactory;
                clap_mangen::Man::new(Cli::command())
                    .render(&mut std::io::stdout())
                    .context("writing the manual page")
            }
            Some(Command::Config { action }) => run_config(action),
            Some(Command::Doctor(args)) => run_doctor(*args).await,
            Some(Command::ClipboardKeeper {
                deadline_ms,
                osc52_tty,
                tmux_buffer,
            }) => kvtui::clipboard::run_keeper(deadline_ms, osc52_tty, tmux_buffer)
                .map_err(|e| anyhow::anyhow!(e)),
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
