//! `tracing` to `$XDG_STATE_HOME/kvtui/kvtui.log` (never the terminal while the TUI runs). No secret
//! value is ever given to `tracing`: values live in `SecretValue`, whose `Debug` is redacted.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use tracing_subscriber::filter::LevelFilter;

/// Installs the global subscriber writing to `path` (created 0600) at `level`.
pub fn init(path: &Path, level: LevelFilter) -> Result<()> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(true)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging already set up: {e}"))
}
