//! `kvtui doctor`: what a user runs first, without the TUI. Each check is one line — OK, WARN or
//! FAIL — with the fix under it: the terminal, the clipboard backend, which credential signs in
//! and as whom, what discovery finds across tenants, and each `--vault`'s access (list, get). It
//! goes through the same worker and explanations as the TUI, so what it says is what kvtui meets.

use std::io::Write;
use std::time::Duration;

use azure_core::credentials::TokenCredential;

use crate::app::explain::{explain, Context};
use crate::vault::credential::{ChainCredential, Identity};
use crate::vault::worker::UNSOLICITED;
use crate::vault::{Request, Response, VaultError, Worker, WorkerConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    pub what: String,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn new(level: Level, what: &str, detail: impl Into<String>) -> Self {
        Check {
            level,
            what: what.to_string(),
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    fn line(&self) -> String {
        let tag = match self.level {
            Level::Ok => "OK  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        let mut s = format!("{tag}  {:<12} {}", self.what, self.detail);
        if let Some(f) = &self.fix {
            s.push_str(&format!("\n      fix: {f}"));
        }
        s
    }
}

/// What to check.
pub struct Input {
    pub worker: WorkerConfig,
    /// The vaults given with `--vault`, as URLs.
    pub vaults: Vec<String>,
    /// The data-plane scope of the cloud (`https://vault.azure.net/.default`).
    pub vault_scope: String,
    pub clipboard: crate::clipboard::Mode,
    /// The local vault's CA, as kvtui would trust it (for explanations).
    pub local_ca: Option<String>,
}

/// The terminal kvtui would draw in.
pub fn terminal() -> Check {
    use std::io::IsTerminal;
    let term = std::env::var("TERM").unwrap_or_default();
    if term == "dumb" || term.is_empty() {
        return Check::new(
            Level::Fail,
            "terminal",
            format!("TERM={term:?}: kvtui needs a terminal that can move the cursor"),
        )
        .fix("run it in a terminal emulator, or set TERM=xterm-256color if yours is one");
    }
    let colour = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        "no colour (NO_COLOR is set)"
    } else if std::env::var("COLORTERM").is_ok_and(|c| c == "truecolor" || c == "24bit") {
        "24-bit colour"
    } else if term.contains("256color") {
        "256 colours"
    } else {
        "16 colours"
    };
    if !std::io::stdout().is_terminal() {
        return Check::new(
            Level::Warn,
            "terminal",
            format!(
                "TERM={term}, {colour}; this output is not a terminal (kvtui itself needs one)"
            ),
        );
    }
    match crossterm::terminal::size() {
        Ok((w, h)) if w < 60 || h < 15 => Check::new(
            Level::Warn,
            "terminal",
            format!(
                "TERM={term}, {w}×{h}, {colour}: small; columns and hints are dropped below 60×15"
            ),
        )
        .fix("enlarge the window"),
        Ok((w, h)) => Check::new(
            Level::Ok,
            "terminal",
            format!("TERM={term}, {w}×{h}, {colour}"),
        ),
        Err(e) => Check::new(
            Level::Warn,
            "terminal",
            format!("TERM={term}; size unknown ({e})"),
        ),
    }
}

fn who(id: &Identity) -> String {
    let mut s = format!("{} as {}", id.credential, id.who());
    let mut parts = Vec::new();
    if let Some(o) = &id.oid {
        parts.push(format!("object id {o}"));
    }
    if let Some(t) = &id.tid {
        parts.push(format!("tenant {t}"));
    }
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    s
}

/// A refusal as a FAIL line: the service's words, then what to do (the TUI's explanation).
fn refusal(what: &str, step: &str, e: &VaultError, vault: &str, input: &Input) -> Check {
    let x = explain(
        e,
        &Context {
            vault: Some(vault),
            scope: None,
            identity: None,
            local_ca: input.local_ca.as_deref(),
        },
    );
    let fix = match (&x.command, x.advice.first()) {
        (Some(c), Some(a)) => format!("{a}\n           {c}"),
        (Some(c), None) => c.clone(),
        (None, Some(a)) => a.clone(),
        (None, None) => "see the message above".into(),
    };
    Check::new(Level::Fail, what, format!("{step}: {}", e.summary())).fix(fix)
}

/// Sends a request and gathers its answers until the last (or a generous deadline).
async fn ask(
    worker: &Worker,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<crate::vault::Envelope>,
    request: Request,
) -> Vec<Response> {
    let id = worker.send(request);
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Ok(Some(env)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if env.id == UNSOLICITED || env.id != id {
            continue;
        }
        let last = env.response.is_final();
        out.push(env.response);
        if last {
            break;
        }
    }
    out
}

/// Runs every check, printing each line as it is known; true when nothing failed.
pub async fn run(input: Input, out: &mut impl Write) -> bool {
    let mut failed = false;
    let mut say = |c: Check, out: &mut dyn Write| {
        failed |= c.level == Level::Fail;
        let _ = writeln!(out, "{}", c.line());
        let _ = out.flush();
    };
    say(terminal(), out);
    say(crate::clipboard::diagnose(input.clipboard), out);

    // Sign-in: the chain kvtui uses, for the vault scope (local vaults need none).
    let auth = &input.worker.auth;
    let local_default =
        !input.vaults.is_empty() && input.vaults.iter().all(|v| auth.uses_local_tokens(v));
    if local_default {
        say(
            Check::new(
                Level::Ok,
                "sign-in",
                "the local vault's own tokens (*.localhost vaults, no credential configured)",
            ),
            out,
        );
    } else {
        let chain = ChainCredential::new(auth.clone());
        match chain.get_token(&[input.vault_scope.as_str()], None).await {
            Ok(_) => {
                let id = chain.who().unwrap_or_default();
                say(Check::new(Level::Ok, "sign-in", who(&id)), out);
            }
            Err(e) => {
                let text = crate::vault::error::cause_chain(&e);
                say(
                    Check::new(Level::Fail, "sign-in", "no credential produced a token")
                        .fix(text.replace('\n', "\n           ")),
                    out,
                );
            }
        }
    }

    let (worker, mut rx) = Worker::spawn(input.worker.clone());
    if input.worker.discovery.is_some() {
        let rs = ask(&worker, &mut rx, Request::Discover).await;
        let mut failures = Vec::new();
        let mut summary = None;
        for r in rs {
            match r {
                Response::DiscoveryWarning(w) => failures.push(w),
                Response::DiscoverySummary { text, .. } => summary = Some(text),
                _ => {}
            }
        }
        let level = if failures.is_empty() {
            Level::Ok
        } else {
            Level::Warn
        };
        let text = summary
            .map(|t| t.trim_start_matches("discovery: ").to_string())
            .unwrap_or_else(|| "did not finish".into());
        say(Check::new(level, "discovery", text), out);
        for f in failures.iter().take(8) {
            say(Check::new(Level::Warn, "discovery", f.clone()), out);
        }
        if failures.len() > 8 {
            say(
                Check::new(
                    Level::Warn,
                    "discovery",
                    format!("… and {} more", failures.len() - 8),
                ),
                out,
            );
        }
    }

    for url in &input.vaults {
        let name = crate::vault::sources::vault_name(url);
        let rs = ask(
            &worker,
            &mut rx,
            Request::ListSecrets { vault: url.clone() },
        )
        .await;
        let mut first: Option<String> = None;
        let mut count = 0usize;
        let mut listed = false;
        for r in rs {
            match r {
                Response::TenantLearned { tenant, .. } => say(
                    Check::new(
                        Level::Ok,
                        &name,
                        format!("in tenant {tenant} (its challenge says so; kvtui asks for tokens there and remembers it)"),
                    ),
                    out,
                ),
                Response::SecretsPage { items, done } => {
                    count += items.len();
                    if first.is_none() {
                        first = items
                            .iter()
                            .find(|p| p.enabled && !p.managed)
                            .map(|p| p.name.clone());
                    }
                    listed |= done;
                }
                Response::Failed(e) => say(refusal(&name, "list", &e, &name, &input), out),
                _ => {}
            }
        }
        if !listed {
            continue;
        }
        say(
            Check::new(
                Level::Ok,
                &name,
                match count {
                    1 => "list: allowed (1 secret)".to_string(),
                    n => format!("list: allowed ({n} secrets)"),
                },
            ),
            out,
        );
        let Some(secret) = first else {
            say(
                Check::new(
                    Level::Warn,
                    &name,
                    "get: not checked (no enabled secret to read)",
                ),
                out,
            );
            continue;
        };
        let rs = ask(
            &worker,
            &mut rx,
            Request::GetSecret {
                vault: url.clone(),
                name: secret.clone(),
                version: None,
            },
        )
        .await;
        match rs.into_iter().last() {
            // The value is dropped (zeroized) unread.
            Some(Response::Value { .. }) => say(
                Check::new(
                    Level::Ok,
                    &name,
                    format!("get: allowed (read '{secret}'; its value is not shown)"),
                ),
                out,
            ),
            Some(Response::Failed(e)) => say(refusal(&name, "get", &e, &name, &input), out),
            _ => say(Check::new(Level::Fail, &name, "get: no answer"), out),
        }
    }
    !failed
}
