//! Where kvtui keeps its files, following the XDG base directory rules.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(fallback)),
    }
}

/// `$XDG_DATA_HOME/kvtui` (default `~/.local/share/kvtui`): the local vault's CA and backup key.
pub fn data_dir() -> Option<PathBuf> {
    xdg("XDG_DATA_HOME", ".local/share").map(|d| d.join("kvtui"))
}

/// `$XDG_CACHE_HOME/kvtui` (default `~/.cache/kvtui`): the names cache.
pub fn cache_dir() -> Option<PathBuf> {
    xdg("XDG_CACHE_HOME", ".cache").map(|d| d.join("kvtui"))
}

/// `$XDG_STATE_HOME/kvtui` (default `~/.local/state/kvtui`): the log and recently opened vaults.
pub fn state_dir() -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state").map(|d| d.join("kvtui"))
}

/// `$XDG_CONFIG_HOME/kvtui` (default `~/.config/kvtui`): `config.toml`.
pub fn config_dir() -> Option<PathBuf> {
    xdg("XDG_CONFIG_HOME", ".config").map(|d| d.join("kvtui"))
}

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename), readable by the owner only.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_private_atomic_with(path, |w| w.write_all(bytes))
}

/// `write_private_atomic`, with the contents written by `write` (buffered): a big file is never
/// held in memory whole.
pub fn write_private_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A fresh, unpredictable name opened with O_EXCL (0600): a planted file or symlink is never
    // followed or overwritten. Then sync, rename over the target, and sync the directory so the
    // rename itself reaches the disk.
    let mut tmp = tempfile::Builder::new()
        .prefix(".kvtui-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    {
        let mut w = io::BufWriter::with_capacity(64 * 1024, tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().expect("dir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").expect("victim");
        let path = dir.path().join("backup.kvbackup");
        // The old predictable temporary name, and the target itself, planted as symlinks.
        let old_tmp = dir
            .path()
            .join(format!(".backup.kvbackup.tmp{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &old_tmp).expect("symlink");
        std::os::unix::fs::symlink(&victim, &path).expect("symlink");
        write_private_atomic(&path, b"blob").expect("written");
        assert_eq!(fs::read_to_string(&victim).expect("victim"), "precious");
        assert_eq!(fs::read(&path).expect("written"), b"blob");
        assert!(!fs::symlink_metadata(&path)
            .expect("meta")
            .file_type()
            .is_symlink());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
}
