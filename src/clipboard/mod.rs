//! Copying values: the system clipboard (arboard: X11, Wayland, macOS, Windows) through one
//! long-lived clipboard owned by a dedicated thread, or OSC 52 when there is no display server or the
//! session is remote. Sensitive copies are marked for clipboard managers to skip, and cleared after a
//! timeout — the system clipboard only if it still holds what kvtui put there, checked with a keyed
//! hash (the value itself is not kept). On quit with a clear pending, a detached helper (`kvtui
//! clipboard-keeper`) keeps serving the value (X11/Wayland) and clears it at the deadline.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

mod session;
pub use session::{diagnose, ClearOutcome, Session, SessionCopy};

/// `clipboard = auto|system|osc52|off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Auto,
    System,
    Osc52,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    System,
    Osc52,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::System => "clipboard",
            Backend::Osc52 => "terminal clipboard (OSC 52)",
        }
    }
}

/// The OSC 52 sequence that puts `text` in the terminal's clipboard (tmux stores and forwards it
/// with `set -g set-clipboard on`). An empty text clears it.
/// The OSC 52 sequence that puts `text` on the terminal's clipboard; zeroized when dropped (it is the
/// value, base64-encoded).
pub fn osc52(text: &str) -> Zeroizing<Vec<u8>> {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(text.as_bytes()));
    let mut out = Zeroizing::new(Vec::with_capacity(b64.len() + 8));
    out.extend_from_slice(b"\x1b]52;c;");
    out.extend_from_slice(b64.as_bytes());
    out.push(0x07);
    out
}

enum Cmd {
    Set(Zeroizing<String>, bool, mpsc::Sender<Result<(), String>>),
    /// Clears if the clipboard's text hashes to this; answers whether it did.
    ClearIf(hmac::Tag, hmac::Key, mpsc::Sender<bool>),
    /// The text, if it still hashes to this (for the keeper on quit).
    TakeIf(
        hmac::Tag,
        hmac::Key,
        mpsc::Sender<Option<Zeroizing<String>>>,
    ),
}

/// The thread that owns the one arboard clipboard for the life of kvtui (a new clipboard per copy
/// leaves the clipboard empty on Linux when it is dropped).
struct SystemClipboard {
    tx: mpsc::Sender<Cmd>,
}

impl SystemClipboard {
    /// Starts the thread; `ready` says (once) whether the clipboard opened. Does not wait.
    fn spawn() -> Result<(Self, mpsc::Receiver<Result<(), String>>), String> {
        let (tx, rx) = mpsc::channel::<Cmd>();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("kvtui-clipboard".into())
            .spawn(move || {
                let mut cb = match arboard::Clipboard::new() {
                    Ok(cb) => {
                        let _ = ready_tx.send(Ok(()));
                        cb
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok(cmd) = rx.recv() {
                    match cmd {
                        Cmd::Set(text, sensitive, reply) => {
                            let _ = reply.send(
                                set_text(&mut cb, &text, sensitive).map_err(|e| e.to_string()),
                            );
                        }
                        Cmd::ClearIf(tag, key, reply) => {
                            let ours = cb.get_text().ok().map(Zeroizing::new).is_some_and(|t| {
                                hmac::verify(&key, t.as_bytes(), tag.as_ref()).is_ok()
                            });
                            if ours {
                                let _ = cb.clear();
                            }
                            let _ = reply.send(ours);
                        }
                        Cmd::TakeIf(tag, key, reply) => {
                            let text =
                                cb.get_text().ok().map(Zeroizing::new).filter(|t| {
                                    hmac::verify(&key, t.as_bytes(), tag.as_ref()).is_ok()
                                });
                            let _ = reply.send(text);
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok((Self { tx }, ready_rx))
    }
}

fn set_text(
    cb: &mut arboard::Clipboard,
    text: &str,
    sensitive: bool,
) -> Result<(), arboard::Error> {
    #[cfg(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    {
        use arboard::SetExtLinux;
        if sensitive {
            return cb.set().exclude_from_history().text(text.to_string());
        }
    }
    #[cfg(any(target_os = "macos", target_os = "windows"))]
    {
        #[cfg(target_os = "macos")]
        use arboard::SetExtApple as _;
        #[cfg(target_os = "windows")]
        use arboard::SetExtWindows as _;
        if sensitive {
            return cb.set().exclude_from_history().text(text.to_string());
        }
    }
    let _ = sensitive;
    cb.set_text(text.to_string())
}

/// Whether a clear emptied the clipboard: known now, or answered later by the clipboard thread.
pub enum Cleared {
    Now(bool),
    Later(mpsc::Receiver<bool>),
}

/// A copy that will be cleared.
pub struct Pending {
    pub backend: Backend,
    pub deadline: Instant,
    tag: hmac::Tag,
    /// Inside tmux: the paste buffer that holds the value, deleted by the clear.
    pub tmux_buffer: Option<String>,
}

/// What a copy did.
pub struct Copied {
    pub backend: Backend,
    /// Bytes to write to the terminal (OSC 52), through the same writer as the frames.
    pub terminal_bytes: Option<Zeroizing<Vec<u8>>>,
    pub pending: Option<Pending>,
    /// The system clipboard's answer, when it comes.
    pub confirm: Option<mpsc::Receiver<Result<(), String>>>,
}

pub struct Clipboard {
    mode: Mode,
    clear_after: Duration,
    system: Option<Result<SystemClipboard, String>>,
    /// Started at launch by `warm_up`, not yet known to have opened.
    starting: Option<(SystemClipboard, mpsc::Receiver<Result<(), String>>)>,
    key: hmac::Key,
}

fn remote_session() -> bool {
    std::env::var_os("SSH_TTY").is_some() || std::env::var_os("SSH_CONNECTION").is_some()
}

fn has_display() -> bool {
    cfg!(any(target_os = "macos", target_os = "windows"))
        || std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
}

impl Clipboard {
    /// `clear_after` zero means never.
    pub fn new(mode: Mode, clear_after: Duration) -> Self {
        let mut k = [0u8; 32];
        let _ = SystemRandom::new().fill(&mut k);
        Self {
            mode,
            clear_after,
            system: None,
            starting: None,
            key: hmac::Key::new(hmac::HMAC_SHA256, &k),
        }
    }

    pub fn clear_after(&self) -> Duration {
        self.clear_after
    }

    /// Starts the system clipboard in the background (at launch), so the first copy does not wait
    /// for it to open (it could take seconds on a slow display server).
    pub fn warm_up(&mut self) {
        let wanted = matches!(self.mode, Mode::System)
            || (matches!(self.mode, Mode::Auto) && !remote_session() && has_display());
        if wanted && self.system.is_none() && self.starting.is_none() {
            match SystemClipboard::spawn() {
                Ok(started) => self.starting = Some(started),
                Err(e) => self.system = Some(Err(e)),
            }
        }
    }

    /// The clipboard thread, for a copy: never waited for. Opened, or still opening (commands wait
    /// in its queue); one that could not open answers no command, and the copy's answer says so.
    fn system(&mut self) -> Result<&SystemClipboard, String> {
        self.open(Duration::ZERO)
    }

    /// The clipboard thread once it has said whether it opened (`kvtui doctor` waits for that).
    fn system_now(&mut self) -> Result<&SystemClipboard, String> {
        self.open(Duration::from_secs(5))
    }

    fn open(&mut self, wait: Duration) -> Result<&SystemClipboard, String> {
        if self.system.is_none() {
            let (sys, ready) = match self.starting.take() {
                Some(s) => s,
                None => SystemClipboard::spawn()?,
            };
            let answer = if wait.is_zero() {
                ready.try_recv().ok()
            } else {
                Some(
                    ready
                        .recv_timeout(wait)
                        .unwrap_or_else(|_| Err("the clipboard did not answer".to_string())),
                )
            };
            self.system = Some(match answer {
                Some(Err(e)) => Err(e),
                _ => Ok(sys),
            });
        }
        match &self.system {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no clipboard".into()),
        }
    }

    fn backend(&mut self) -> Result<Backend, String> {
        match self.mode {
            Mode::Off => Err("copying is off (clipboard = off in the config, or --clipboard off)".into()),
            Mode::Osc52 => Ok(Backend::Osc52),
            Mode::System => self.system().map(|_| Backend::System).map_err(|e| {
                format!("no system clipboard ({e}); over SSH or without a display use --clipboard osc52")
            }),
            Mode::Auto => {
                if remote_session() || !has_display() {
                    return Ok(Backend::Osc52);
                }
                Ok(match self.system() {
                    Ok(_) => Backend::System,
                    Err(_) => Backend::Osc52,
                })
            }
        }
    }

    /// Copies `text`; `sensitive` copies are hidden from clipboard managers and cleared later.
    pub fn copy(&mut self, text: &str, sensitive: bool) -> Result<Copied, String> {
        let backend = self.backend()?;
        let mut confirm = None;
        // Inside tmux a sensitive value goes to a buffer of its own, so the clear can delete it.
        let tmux_buffer = (backend == Backend::Osc52 && sensitive && crate::tmux::inside())
            .then(crate::tmux::fresh_name)
            .filter(|name| crate::tmux::load(name, text).is_ok());
        let terminal_bytes = match backend {
            Backend::Osc52 if tmux_buffer.is_some() => None,
            Backend::Osc52 => Some(osc52(text)),
            // Not waited for: the answer comes through `confirm`, polled by the event loop.
            Backend::System => {
                let (tx, rx) = mpsc::channel();
                let sent = self
                    .system()?
                    .tx
                    .send(Cmd::Set(Zeroizing::new(text.to_string()), sensitive, tx))
                    .is_ok();
                if !sent {
                    // The thread ended: the clipboard did not open. Say so, and not again.
                    let why = "the system clipboard did not open".to_string();
                    self.system = Some(Err(why.clone()));
                    return Err(why);
                }
                confirm = Some(rx);
                None
            }
        };
        let pending = (sensitive && !self.clear_after.is_zero()).then(|| Pending {
            backend,
            deadline: Instant::now() + self.clear_after,
            tag: hmac::sign(&self.key, text.as_bytes()),
            tmux_buffer,
        });
        Ok(Copied {
            backend,
            terminal_bytes,
            pending,
            confirm,
        })
    }

    /// Clears a pending copy: the system clipboard only if it still holds what kvtui put there.
    /// Returns bytes for the terminal (OSC 52 cannot be read back: it is cleared unconditionally),
    /// and whether anything was cleared — for the system clipboard, an answer to poll (not waited
    /// for on the UI loop).
    pub fn clear(&mut self, pending: &Pending) -> (Option<Zeroizing<Vec<u8>>>, Cleared) {
        match pending.backend {
            Backend::Osc52 => {
                if let Some(b) = &pending.tmux_buffer {
                    crate::tmux::delete(b);
                }
                (Some(osc52("")), Cleared::Now(true))
            }
            Backend::System => {
                let key = self.key.clone();
                let Ok(sys) = self.system() else {
                    return (None, Cleared::Now(false));
                };
                let (tx, rx) = mpsc::channel();
                if sys.tx.send(Cmd::ClearIf(pending.tag, key, tx)).is_err() {
                    return (None, Cleared::Now(false));
                }
                (None, Cleared::Later(rx))
            }
        }
    }

    /// On quit with a clear pending: hands the copy to a detached `kvtui clipboard-keeper`, which
    /// keeps serving it (X11/Wayland, where the clipboard empties when its owner exits) and clears it
    /// at the deadline. The value goes to the helper on stdin, never in argv or the environment.
    pub fn hand_over(&mut self, pending: &Pending, tty: Option<PathBuf>) -> Result<u32, String> {
        let left = pending.deadline.saturating_duration_since(Instant::now());
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| (d + left).as_millis())
            .unwrap_or_default();
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("clipboard-keeper")
            .arg("--deadline-ms")
            .arg(deadline_ms.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let value = match pending.backend {
            Backend::System => {
                let key = self.key.clone();
                let sys = self.system()?;
                let (tx, rx) = mpsc::channel();
                sys.tx
                    .send(Cmd::TakeIf(pending.tag, key, tx))
                    .map_err(|e| e.to_string())?;
                match rx.recv_timeout(Duration::from_secs(5)).ok().flatten() {
                    Some(v) => v,
                    // Something else was copied since: nothing to keep or clear.
                    None => return Ok(0),
                }
            }
            Backend::Osc52 => {
                let Some(tty) = tty else {
                    return Err("no terminal to clear later".into());
                };
                cmd.arg("--osc52-tty").arg(tty);
                if let Some(b) = &pending.tmux_buffer {
                    cmd.arg("--tmux-buffer").arg(b);
                }
                Zeroizing::new(String::new())
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: the terminal closing does not take it down.
            cmd.process_group(0);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting the clipboard keeper: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(value.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        Ok(child.id())
    }
}

/// Where the keeper writes its PID.
pub fn keeper_pid_file() -> Option<PathBuf> {
    crate::paths::state_dir().map(|d| d.join("clipboard-keeper.pid"))
}

/// `kvtui clipboard-keeper`: serves the value read from stdin until the deadline (or until something
/// else is copied), then clears the clipboard if it still holds that value. With `osc52_tty`, writes
/// an empty OSC 52 to that terminal at the deadline instead.
pub fn run_keeper(
    deadline_ms: u128,
    osc52_tty: Option<PathBuf>,
    tmux_buffer: Option<String>,
) -> Result<(), String> {
    let pid_file = keeper_pid_file();
    if let Some(p) = &pid_file {
        if let Some(dir) = p.parent() {
            let _ = crate::paths::create_private_dir(dir);
        }
        let _ = crate::paths::write_private_atomic(p, std::process::id().to_string().as_bytes());
    }
    let mut value = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut value).map_err(|e| e.to_string())?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let deadline =
        Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms) as u64);
    let result = match osc52_tty {
        Some(tty) => {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            if let Some(b) = &tmux_buffer {
                crate::tmux::delete(b);
            }
            std::fs::OpenOptions::new()
                .write(true)
                .open(&tty)
                .and_then(|mut t| t.write_all(&osc52("")))
                .map_err(|e| e.to_string())
        }
        None => (|| {
            let mut cb = arboard::Clipboard::new().map_err(|e| e.to_string())?;
            #[cfg(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "netbsd",
                target_os = "openbsd"
            ))]
            {
                use arboard::SetExtLinux;
                // Serves requests until the deadline, or returns early when another owner takes over.
                cb.set()
                    .exclude_from_history()
                    .wait_until(deadline)
                    .text(value.to_string())
                    .map_err(|e| e.to_string())?;
            }
            #[cfg(not(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "netbsd",
                target_os = "openbsd"
            )))]
            {
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            }
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            if cb
                .get_text()
                .ok()
                .map(Zeroizing::new)
                .is_some_and(|t| *t == *value)
            {
                cb.clear().map_err(|e| e.to_string())?;
            }
            Ok(())
        })(),
    };
    if let Some(p) = &pid_file {
        let _ = std::fs::remove_file(p);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_between_the_markers() {
        assert_eq!(
            osc52("hi\nthere ✓"),
            Zeroizing::new(b"\x1b]52;c;aGkKdGhlcmUg4pyT\x07".to_vec())
        );
        assert_eq!(osc52(""), Zeroizing::new(b"\x1b]52;c;\x07".to_vec()));
    }

    #[test]
    fn off_refuses_with_the_reason_and_osc52_needs_no_display() {
        let mut c = Clipboard::new(Mode::Off, Duration::from_secs(30));
        assert!(c
            .copy("x", true)
            .err()
            .is_some_and(|e| e.contains("clipboard = off")));
        let mut c = Clipboard::new(Mode::Osc52, Duration::from_secs(30));
        let copied = c.copy("secret", true).expect("osc52");
        assert_eq!(copied.backend, Backend::Osc52);
        assert_eq!(copied.terminal_bytes, Some(osc52("secret")));
        let pending = copied.pending.expect("a clear is pending");
        let (bytes, cleared) = c.clear(&pending);
        assert_eq!(bytes, Some(osc52("")));
        assert!(matches!(cleared, Cleared::Now(true)));
        // Not sensitive (a name): no clear.
        assert!(c.copy("name", false).expect("copy").pending.is_none());
        // Timeout 0: never cleared.
        let mut never = Clipboard::new(Mode::Osc52, Duration::ZERO);
        assert!(never.copy("x", true).expect("copy").pending.is_none());
    }
}
