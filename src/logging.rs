//! `tracing` to `$XDG_STATE_HOME/kvtui/kvtui.log` (never the terminal while the TUI runs). No secret
//! value is ever given to `tracing`: values live in `SecretValue`, whose `Debug` is redacted.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use tracing_subscriber::filter::LevelFilter;

/// A log larger than this is moved to `kvtui.log.1` at start (one old log is kept).
const MAX_LOG_BYTES: u64 = 5 * 1024 * 1024;

/// A logged line longer than this is cut (a whole HTML error page is no help in a log).
const MAX_LINE_BYTES: usize = 2048;

/// Writes log lines with control characters escaped (text from a server cannot drive the terminal
/// of whoever reads the log) and over-long lines cut.
pub struct Clean<W>(pub W);

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len().min(MAX_LINE_BYTES) + 16);
        let (body, newline) = match buf.strip_suffix(b"\n") {
            Some(b) => (b, true),
            None => (buf, false),
        };
        for &b in body {
            if out.len() >= MAX_LINE_BYTES {
                out.extend_from_slice("… (cut)".as_bytes());
                break;
            }
            match b {
                0x1b => out.extend_from_slice(b"\\e"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.push(b'\t'),
                0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                _ => out.push(b),
            }
        }
        if newline {
            out.push(b'\n');
        }
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Installs the global subscriber writing to `path` (created 0600, never through a symlink) at
/// `level`.
pub fn init(path: &Path, level: LevelFilter) -> Result<()> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = std::fs::rename(path, path.with_extension("log.1"));
    }
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = opts
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(true)
        .with_writer(Mutex::new(Clean(file)))
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging already set up: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_lines_cut() {
        let mut out = Clean(Vec::new());
        out.write_all(b"server said \x1b]0;pwned\x07\r\n")
            .expect("write");
        assert_eq!(
            String::from_utf8_lossy(&out.0),
            "server said \\e]0;pwned\\x07\\r\n"
        );
        let mut out = Clean(Vec::new());
        out.write_all(&[b'x'; 10_000]).expect("write");
        assert!(out.0.len() < 2100 && out.0.ends_with("… (cut)".as_bytes()));
    }

    #[cfg(unix)]
    #[test]
    fn the_log_is_never_opened_through_a_symlink() {
        let dir = tempfile::tempdir().expect("dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let log = dir.path().join("kvtui.log");
        std::os::unix::fs::symlink(&victim, &log).expect("symlink");
        assert!(init(&log, LevelFilter::INFO).is_err());
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    }
}
