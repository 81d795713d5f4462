//! The clipboard over a session (the pending clear, the answers polled by the event loop, the
//! hand-over at quit), and what `kvtui doctor` says of it.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{has_display, remote_session, Backend, Cleared, Clipboard, Mode, Pending};

/// Bytes for the terminal now, and — once known — whether the clipboard still held the value.
pub type ClearOutcome = (Option<Zeroizing<Vec<u8>>>, Option<bool>);

/// The clipboard over a session: the pending clear of the last sensitive copy, the clear when it is
/// due, the hand-over to a keeper at quit, and the tmux hint. The event loop only writes the bytes it
/// returns to the terminal and tells the app.
pub struct Session {
    clipboard: Clipboard,
    pending: Option<Pending>,
    /// A system-clipboard copy not answered yet.
    confirm: Option<mpsc::Receiver<Result<(), String>>>,
    /// A clear not answered yet.
    clearing: Option<mpsc::Receiver<bool>>,
}

/// What a copy did, as the app shows it.
pub struct SessionCopy {
    pub backend: &'static str,
    pub terminal_bytes: Option<Zeroizing<Vec<u8>>>,
    pub deadline: Option<Instant>,
    pub hint: Option<String>,
    /// The system clipboard has not said yet that it holds it.
    pub confirming: bool,
}

/// In tmux, OSC 52 reaches the clipboard only with `set-clipboard on`: say so when it is not.
fn tmux_hint() -> Option<String> {
    std::env::var_os("TMUX")?;
    let out = std::process::Command::new("tmux")
        .args(["show-options", "-gv", "set-clipboard"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (value != "on").then(|| "in tmux this needs `set -g set-clipboard on`".to_string())
}

/// What `kvtui doctor` says of the clipboard: the backend a copy would use, and what stands in its
/// way (no display, SSH, tmux without `set-clipboard on`).
pub fn diagnose(mode: Mode) -> crate::doctor::Check {
    use crate::doctor::{Check, Level};
    let osc52 = |why: &str| {
        let detail = format!("terminal clipboard (OSC 52){why}");
        match tmux_hint() {
            Some(h) => Check::new(Level::Warn, "clipboard", format!("{detail}: {h}"))
                .fix("tmux set -g set-clipboard on   (and in ~/.tmux.conf)"),
            None => Check::new(Level::Ok, "clipboard", detail),
        }
    };
    match mode {
        Mode::Off => Check::new(Level::Warn, "clipboard", "copying is off")
            .fix("--clipboard auto, or clipboard.mode = \"auto\" in the config"),
        Mode::Osc52 => osc52(""),
        Mode::Auto if remote_session() => osc52(", as over SSH"),
        Mode::Auto if !has_display() => {
            osc52(", as there is no display (DISPLAY and WAYLAND_DISPLAY are unset)")
        }
        Mode::Auto | Mode::System => {
            let display = std::env::var("WAYLAND_DISPLAY")
                .map(|d| format!("Wayland {d}"))
                .or_else(|_| std::env::var("DISPLAY").map(|d| format!("X11 {d}")))
                .unwrap_or_default();
            let mut c = Clipboard::new(mode, Duration::ZERO);
            match (c.system_now(), mode) {
                (Ok(_), _) => Check::new(
                    Level::Ok,
                    "clipboard",
                    format!("system clipboard ({display}); copies are cleared after the timeout"),
                ),
                (Err(e), Mode::System) => Check::new(
                    Level::Fail,
                    "clipboard",
                    format!("no system clipboard ({display}): {e}"),
                )
                .fix("--clipboard osc52 (the terminal's clipboard), or check the display server"),
                (Err(e), _) => {
                    let mut check = osc52(&format!(", as the system clipboard did not open ({e})"));
                    check.level = Level::Warn;
                    check
                }
            }
        }
    }
}

/// The controlling terminal's path, for clearing an OSC 52 copy after kvtui has exited.
fn tty_path() -> Option<PathBuf> {
    std::fs::read_link("/proc/self/fd/0")
        .ok()
        .filter(|p| p.starts_with("/dev/"))
}

impl Session {
    pub fn new(mut clipboard: Clipboard) -> Self {
        clipboard.warm_up();
        Self {
            clipboard,
            pending: None,
            confirm: None,
            clearing: None,
        }
    }

    pub fn copy(&mut self, text: &str, sensitive: bool) -> Result<SessionCopy, String> {
        let copied = self.clipboard.copy(text, sensitive)?;
        let hint = (copied.backend == Backend::Osc52).then(tmux_hint).flatten();
        let confirming = copied.confirm.is_some();
        self.confirm = copied.confirm;
        // A newer sensitive copy replaces the pending clear of an older one.
        if copied.pending.is_some() || sensitive {
            self.pending = copied.pending;
        }
        Ok(SessionCopy {
            backend: copied.backend.label(),
            terminal_bytes: copied.terminal_bytes,
            deadline: self.pending.as_ref().map(|p| p.deadline),
            hint,
            confirming,
        })
    }

    /// The system clipboard's answer to the last copy, once it has come. A clipboard that could not
    /// open is remembered (the next copy goes by OSC 52 in auto mode) and nothing is left to clear.
    pub fn poll_confirm(&mut self) -> Option<Result<(), String>> {
        let answer = match self.confirm.as_ref()?.try_recv() {
            Ok(r) => r,
            Err(mpsc::TryRecvError::Empty) => return None,
            Err(mpsc::TryRecvError::Disconnected) => {
                Err("the system clipboard did not open".into())
            }
        };
        self.confirm = None;
        if let Err(e) = &answer {
            self.pending = None;
            self.clipboard.system = Some(Err(e.clone()));
        }
        Some(answer)
    }

    /// Clears the last sensitive copy when its time has come: the bytes to write to the terminal
    /// now, and — now or at a later call, once the clipboard answers — whether the clipboard still
    /// held it (else it was left alone).
    pub fn clear_if_due(&mut self, now: Instant) -> Option<ClearOutcome> {
        if let Some(rx) = &self.clearing {
            let answer = match rx.try_recv() {
                Ok(v) => v,
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => false,
            };
            self.clearing = None;
            return Some((None, Some(answer)));
        }
        if self.pending.as_ref().is_none_or(|p| now < p.deadline) {
            return None;
        }
        let p = self.pending.take()?;
        let (bytes, cleared) = self.clipboard.clear(&p);
        match cleared {
            Cleared::Now(v) => Some((bytes, Some(v))),
            Cleared::Later(rx) => {
                self.clearing = Some(rx);
                Some((bytes, None))
            }
        }
    }

    /// Quitting keeps the promise: a copy still to be cleared is handed to a detached keeper.
    pub fn hand_over_at_quit(&mut self) {
        if let Some(p) = self.pending.take() {
            match self.clipboard.hand_over(&p, tty_path()) {
                Ok(pid) if pid > 0 => tracing::info!(pid, "clipboard keeper started"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not hand the clipboard over"),
            }
        }
    }
}
