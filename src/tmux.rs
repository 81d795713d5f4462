//! tmux paste buffers for copied values. In tmux, a value sent as OSC 52 lands in an automatic
//! paste buffer (with `set-clipboard on`) that nothing clears: it outlives the "clear" and kvtui.
//! So a sensitive copy inside tmux goes into a buffer of its own name instead (`load-buffer -w`, which
//! tmux also forwards to the outer terminal's clipboard), and the clear deletes that buffer.

use std::io::Write;
use std::process::{Command, Stdio};

/// Whether kvtui runs inside tmux.
pub fn inside() -> bool {
    std::env::var_os("TMUX").is_some_and(|t| !t.is_empty())
}

/// A name no other buffer has: `kvtui-` and 12 random hex digits.
pub fn fresh_name() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 6];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("kvtui-{hex}")
}

/// `tmux load-buffer -w -b NAME -` with `text` on stdin (never in argv).
pub fn load(name: &str, text: &str) -> Result<(), String> {
    let mut child = Command::new("tmux")
        .args(["load-buffer", "-w", "-b", name, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tmux: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// `tmux delete-buffer -b NAME`; a buffer already gone is no error.
pub fn delete(name: &str) {
    let _ = Command::new("tmux")
        .args(["delete-buffer", "-b", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
