//! The command line: every option of kvtui and of `kvtui emulator`, with their parsers.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kvtui::emulator;
use kvtui::vault::credential::{AuthMode, Cloud};
use tracing_subscriber::filter::LevelFilter;

/// Shown under `--help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  kvtui --demo                          try it on built-in demo vaults (nothing is written)
  kvtui --vault kv-prod                 open https://kv-prod.vault.azure.net
  kvtui --auth cli --tenant <id>        sign in with the Azure CLI, in a given tenant
  kvtui --read-only --vault kv-prod     look, change nothing
  kvtui doctor --vault kv-prod          check sign-in, access, clipboard and terminal first
  kvtui emulator --vault dev            a local Key Vault for your own apps
  kvtui config init                     write a commented config file
  kvtui completions bash > ~/.local/share/bash-completion/completions/kvtui

Exit codes: 0 ok, 1 error, 2 usage error.";

#[derive(Parser)]
#[command(
    name = "kvtui",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KVTUI_COMMIT"), ")"),
    about = "A terminal UI for Azure Key Vault secrets",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) tui: TuiArgs,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum LogLevel {
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
pub(crate) struct TuiArgs {
    /// Try kvtui on built-in demo vaults (a local vault inside the process; nothing is written).
    #[arg(long)]
    pub(crate) demo: bool,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// How much to write to $XDG_STATE_HOME/kvtui/kvtui.log.
    #[arg(long, value_enum, default_value_t = LogLevel::Warn)]
    pub(crate) log_level: LogLevel,
    /// Refuse every change (create, update, delete, recover, purge).
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Do not show (or keep) vaults' names from the names cache ($XDG_CACHE_HOME/kvtui).
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// The configuration file (default: $XDG_CONFIG_HOME/kvtui/config.toml).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Where copies go: the system clipboard, the terminal's (OSC 52: over SSH, in tmux), or off.
    #[arg(long, value_enum)]
    pub(crate) clipboard: Option<kvtui::clipboard::Mode>,
    /// Clear copied values after this many seconds (0: never).
    #[arg(long, value_name = "SECS")]
    pub(crate) clipboard_clear_after: Option<u64>,
}

/// How kvtui reaches vaults: which, as whom, in which cloud (the TUI and `kvtui doctor`).
#[derive(Args, Clone)]
pub(crate) struct ConnectArgs {
    /// A vault to list (repeatable): a name (kv-prod) or a URL (https://kv-prod.vault.azure.net).
    #[arg(long = "vault", value_name = "NAME|URL")]
    pub(crate) vaults: Vec<String>,
    /// The credential to use; auto tries the environment, workload and managed identity, then the
    /// Azure CLI and the Azure Developer CLI (and a VM's managed identity, on an Azure VM).
    #[arg(long, value_enum, default_value_t = AuthMode::Auto)]
    pub(crate) auth: AuthMode,
    /// The Entra tenant to authenticate in (a vault's own tenant is learned from its challenge).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// The cloud: vault suffix, Entra authority and Resource Manager endpoint.
    #[arg(long, value_enum, default_value_t = Cloud::Public)]
    pub(crate) cloud: Cloud,
    /// Do not look for vaults through Resource Manager.
    #[arg(long)]
    pub(crate) no_discovery: bool,
    /// The Resource Manager endpoint discovery asks (default: the cloud's), e.g. the local vault's
    /// https://management.localhost:8443.
    #[arg(long, value_name = "URL")]
    pub(crate) management_endpoint: Option<String>,
    /// The local vault's CA certificate, trusted for *.localhost vaults (default: the one
    /// `kvtui emulator` keeps in the data directory).
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// The clipboard mode to check (default: the config's, else auto).
    #[arg(long, value_enum)]
    pub(crate) clipboard: Option<kvtui::clipboard::Mode>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check what kvtui needs, without the TUI: the credential and who it signs in as, tenants and
    /// discovery, each --vault's access (list, get), the clipboard, the terminal. Each line OK,
    /// WARN or FAIL with the fix; exit 1 if anything failed.
    Doctor(Box<DoctorArgs>),
    /// Run the local Key Vault-compatible HTTPS server (secrets API).
    Emulator(Box<EmulatorArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `kvtui man | man -l -`.
    Man,
    /// The configuration file: write a commented default, say where it is read, check one.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// (internal) Keeps serving a copied value after kvtui quits and clears it at the deadline; the
    /// value arrives on stdin.
    #[command(hide = true)]
    ClipboardKeeper {
        #[arg(long)]
        deadline_ms: u128,
        #[arg(long)]
        osc52_tty: Option<PathBuf>,
        #[arg(long)]
        tmux_buffer: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ConfigAction {
    /// Write a commented default config.toml where kvtui looks for it (never over an existing one).
    Init {
        /// Write here instead.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Print where the config file is read from.
    Path,
    /// Check a config file; each mistake with its file and line. Exit 1 if any.
    Check {
        /// The file (default: where kvtui reads it).
        file: Option<PathBuf>,
    },
}

#[derive(Args)]
pub(crate) struct EmulatorArgs {
    /// TCP port; 0 picks a free one.
    #[arg(long, default_value_t = 8443)]
    pub(crate) port: u16,
    /// A vault to serve as https://NAME.localhost:PORT (repeatable).
    #[arg(long = "vault", value_name = "NAME", default_values_t = vec!["demo".to_string()])]
    pub(crate) vaults: Vec<String>,
    /// Also write the CA certificate (PEM) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_out: Option<PathBuf>,
    /// Once listening, write {"port","ca_file","vaults":{name:url}} to this file (atomically).
    #[arg(long, value_name = "FILE")]
    pub(crate) ready_file: Option<PathBuf>,
    /// After a delete, how long the deleted secret stays invisible and its name busy (409).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) delete_delay_ms: u64,
    /// After a recover, how long the secret stays unreadable (404).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) recover_delay_ms: u64,
    /// Soft-delete retention in days (7 to 90); 0 turns soft delete off.
    #[arg(long, default_value_t = 90, value_name = "DAYS")]
    pub(crate) recoverable_days: u32,
    /// Refuse purges (403), as a vault with purge protection does.
    #[arg(long)]
    pub(crate) purge_protection: bool,
    /// Address to listen on (repeatable); default 127.0.0.1 and ::1. Beyond loopback, only tokens
    /// this instance issued are accepted.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Vec<IpAddr>,
    /// Port of the managed-identity endpoint (plain HTTP on 127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) identity_port: u16,
    /// A service principal the login.localhost token endpoint accepts (repeatable): ID:SECRET, or
    /// ID:env:VARIABLE / ID:file:PATH to keep the secret out of the command line, or ID:cert:FILE
    /// for one that signs in with a certificate (its assertions are verified against it). Without
    /// any, on loopback every client id and secret is accepted; beyond loopback, none.
    #[arg(long = "client", value_name = "ID:SECRET", value_parser = parse_client)]
    pub(crate) clients: Vec<(String, emulator::identity::ClientKey)>,
    /// How many subscriptions the vaults are spread over (Resource Manager discovery).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) subscriptions: u16,
    /// Spread the subscriptions over N tenants (subscription i is in tenant i mod N); Resource
    /// Manager lists `/tenants`, and tokens are issued per tenant.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) tenants: u16,
    /// Put a vault in another tenant (repeatable): its challenge names TENANT_ID, and a token from
    /// another tenant gets the service's 401 AKV10032.
    #[arg(long = "vault-tenant", value_name = "NAME=TENANT_ID", value_parser = parse_vault_tenant)]
    pub(crate) vault_tenants: Vec<(String, String)>,
    /// A subscription's state (repeatable): N=Disabled, N=Warned or N=PastDue (N from 1).
    #[arg(long = "subscription-state", value_name = "N=STATE", value_parser = parse_subscription_state)]
    pub(crate) subscription_states: Vec<(usize, String)>,
    /// Make the N-th subscription's listings answer 403 (to test partial discovery).
    #[arg(long, value_name = "N")]
    pub(crate) forbidden_subscription: Option<usize>,
    /// Keep state in this file (created 0600); every acknowledged write survives a crash.
    #[arg(long, value_name = "FILE")]
    pub(crate) data: Option<PathBuf>,
    /// Initial state (same format as --data), used when there is no data yet.
    #[arg(long, value_name = "FILE")]
    pub(crate) seed: Option<PathBuf>,
    /// Add this latency to every vault request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) latency_ms: u64,
    /// Answer this fraction (0–1) of vault requests with 503 and Retry-After.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_rate)]
    pub(crate) fail_rate: f64,
    /// Answer 429 Throttled past N requests per vault per window (and Resource Manager's
    /// TooManyRequests, with Retry-After, past N of its requests).
    #[arg(long, value_name = "N")]
    pub(crate) throttle: Option<u32>,
    /// Send Retry-After with a vault's 429 (the service's carry none).
    #[arg(long)]
    pub(crate) throttle_retry_after: bool,
    /// The throttling window (the service's is 10 s).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub(crate) throttle_window_ms: u64,
    /// Cut this fraction (0–1) of connections halfway through the response.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_rate)]
    pub(crate) drop_rate: f64,
    /// Seed for the fault generator (the same seed gives the same faults).
    #[arg(long, value_name = "N")]
    pub(crate) fault_seed: Option<u64>,
    /// Accept only tokens this instance issued (always so beyond loopback).
    #[arg(long)]
    pub(crate) require_issued_tokens: bool,
    /// Another name for the certificate (repeatable), e.g. '*.vault.azure.net' to stand in for it.
    #[arg(long = "tls-name", value_name = "NAME")]
    pub(crate) tls_names: Vec<String>,
    /// Azure RBAC: give PRINCIPAL (a client id, the managed identity's client id, a --user UPN, or *)
    /// a built-in role ("Key Vault Reader", "Key Vault Secrets User", "Key Vault Secrets Officer",
    /// "Key Vault Administrator"), on every vault or on @VAULT (repeatable).
    #[arg(long = "grant", value_name = "PRINCIPAL=ROLE[@VAULT]")]
    pub(crate) grants: Vec<emulator::access::Grant>,
    /// The access-policy model: PRINCIPAL's secret permissions (get,list,set,delete,recover,backup,
    /// restore,purge), on every vault or on @VAULT (repeatable).
    #[arg(long = "access-policy", value_name = "PRINCIPAL=PERMS[@VAULT]")]
    pub(crate) access_policies: Vec<emulator::access::Policy>,
    /// Vault firewall: only clients from these addresses (CIDR) get through; others get the
    /// ForbiddenByFirewall refusal (repeatable).
    #[arg(long = "firewall-allow", value_name = "CIDR[@VAULT]")]
    pub(crate) firewall_allow: Vec<emulator::access::Allow>,
    /// `disabled`: every request gets the private-link (ForbiddenByConnection) refusal.
    #[arg(long = "public-network-access", value_name = "disabled[@VAULT]", value_parser = parse_private)]
    pub(crate) public_network_access: Vec<Option<String>>,
    /// A user the login.localhost endpoint signs in with the password grant (repeatable); without a
    /// password, any is accepted.
    #[arg(long = "user", value_name = "UPN[=PASSWORD]", value_parser = parse_user)]
    pub(crate) users: Vec<(String, Option<String>)>,
}

pub(crate) fn parse_private(s: &str) -> Result<Option<String>, String> {
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

pub(crate) fn parse_user(s: &str) -> Result<(String, Option<String>), String> {
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

/// `ID:SECRET`, or the secret kept out of argv (and so out of `ps`): `ID:env:VARIABLE` or
/// `ID:file:PATH`; or a certificate the client signs its assertions with: `ID:cert:FILE` (PEM).
pub(crate) fn parse_client(s: &str) -> Result<(String, emulator::identity::ClientKey), String> {
    let (id, secret) = match s.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => (id, secret),
        _ => {
            return Err(
                "expected CLIENT_ID:SECRET, CLIENT_ID:env:VARIABLE, CLIENT_ID:file:PATH or CLIENT_ID:cert:FILE".into(),
            )
        }
    };
    if let Some(path) = secret.strip_prefix("cert:") {
        use rustls_pki_types::pem::PemObject;
        let pem = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
        let cert = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| format!("{path} holds no PEM CERTIFICATE block"))?;
        return Ok((
            id.to_string(),
            emulator::identity::ClientKey::Certificate(cert.as_ref().to_vec()),
        ));
    }
    let secret = if let Some(var) = secret.strip_prefix("env:") {
        std::env::var(var).map_err(|_| format!("the variable {var} is not set"))?
    } else if let Some(path) = secret.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map_err(|e| format!("reading {path}: {e}"))?
            .trim()
            .to_string()
    } else {
        secret.to_string()
    };
    if secret.is_empty() {
        return Err(format!("the secret of client {id} is empty"));
    }
    Ok((
        id.to_string(),
        emulator::identity::ClientKey::Secret(secret),
    ))
}

/// A tenant id: a GUID.
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn parse_vault_tenant(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, tenant)) if !name.is_empty() && is_guid(tenant) => {
            Ok((name.to_ascii_lowercase(), tenant.to_ascii_lowercase()))
        }
        _ => Err("expected NAME=TENANT_ID, the tenant id a GUID".into()),
    }
}

pub(crate) fn parse_subscription_state(s: &str) -> Result<(usize, String), String> {
    let (n, state) = s
        .split_once('=')
        .ok_or("expected N=STATE, e.g. 2=Disabled")?;
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("'{n}' is not a subscription number (from 1)"))?;
    let state = emulator::arm::SUBSCRIPTION_STATES
        .iter()
        .find(|x| x.eq_ignore_ascii_case(state))
        .ok_or_else(|| {
            format!(
                "'{state}' is not a subscription state: {}",
                emulator::arm::SUBSCRIPTION_STATES.join(", ")
            )
        })?;
    Ok((n, state.to_string()))
}

pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a fraction from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secrets_come_from_argv_the_environment_or_a_file() {
        use emulator::identity::ClientKey;
        assert_eq!(
            parse_client("app:s3cret"),
            Ok(("app".into(), "s3cret".into()))
        );
        let cert = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/test-only-client.crt"
        );
        assert!(matches!(
            parse_client(&format!("app:cert:{cert}")),
            Ok((_, ClientKey::Certificate(der))) if der.len() > 500
        ));
        assert!(parse_client("app:cert:/no/such/file").is_err());
        std::env::set_var("KVTUI_TEST_CLIENT_SECRET", "from-env");
        assert_eq!(
            parse_client("app:env:KVTUI_TEST_CLIENT_SECRET"),
            Ok(("app".into(), "from-env".into()))
        );
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("secret");
        std::fs::write(&f, "from-file\n").expect("write");
        assert_eq!(
            parse_client(&format!("app:file:{}", f.display())),
            Ok(("app".into(), "from-file".into()))
        );
        assert!(parse_client("app:env:KVTUI_NO_SUCH_VARIABLE").is_err());
        assert!(parse_client("app").is_err());
    }
}
