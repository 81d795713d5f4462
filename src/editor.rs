//! Editing a value in `$VISUAL` / `$EDITOR` (then `vi`): the value goes into a 0600 file inside a
//! private 0700 directory (under `$XDG_RUNTIME_DIR` when set), vi/vim/nvim start without swap or
//! viminfo (`-n -i NONE`), and the file is overwritten and removed afterwards — also when the editor
//! fails. The caller suspends the TUI around `edit`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::vault::SecretValue;

#[derive(Debug)]
pub enum Edited {
    Changed(SecretValue),
    Unchanged,
    Failed(String),
}

/// The editor command: `$VISUAL`, `$EDITOR`, else `vi`, split into words; vi-family editors get
/// `-n -i NONE`.
pub fn editor_command() -> Vec<String> {
    let spec = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    command_for(&spec)
}

/// The words of an editor setting, split as a shell would (quotes, escapes), with `-n -i NONE` for
/// the vi family. A setting a shell could not split (an open quote) is taken whole.
pub fn command_for(spec: &str) -> Vec<String> {
    let mut words: Vec<String> =
        shell_words::split(spec).unwrap_or_else(|_| vec![spec.trim().to_string()]);
    let program = words
        .first()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if matches!(program.as_str(), "vi" | "vim" | "nvim" | "view") {
        // No swap, no viminfo; and after the user's vimrc (which may turn them on): no undo file
        // and no backups, which would write the old value elsewhere.
        words.extend(["-n".into(), "-i".into(), "NONE".into()]);
        words.extend([
            "-c".into(),
            "setlocal noundofile nobackup nowritebackup".into(),
        ]);
    }
    words
}

/// Where the private directories go: `$XDG_RUNTIME_DIR` (a per-user tmpfs) when set.
fn base_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// Editors that keep their own history of what they edited (the value would outlive the file).
pub fn keeps_history(program: &str) -> Option<&'static str> {
    let name = Path::new(program)
        .file_name()
        .map(|f| f.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match name.as_str() {
        "code" | "code-insiders" | "codium" => {
            Some("VS Code keeps local history of edited files (Timeline)")
        }
        "emacs" | "emacsclient" => Some("Emacs may write backup (~) and auto-save (#…#) files"),
        "nano" => Some("nano may keep a backup (-B) or position history"),
        "subl" => Some("Sublime Text keeps session history"),
        _ => None,
    }
}

/// Removes what an edit interrupted by a signal (kvtui killed while the editor was open) left
/// behind: our own directories older than a minute, each scrubbed first. Run at start.
pub fn clean_stale() -> usize {
    let Ok(entries) = fs::read_dir(base_dir()) else {
        return 0;
    };
    let mut cleaned = 0;
    for e in entries.flatten() {
        let path = e.path();
        let ours = e.file_name().to_string_lossy().starts_with("kvtui-edit-");
        let old = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        let mine = {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                e.metadata().is_ok_and(|m| m.uid() == own_uid())
            }
            #[cfg(not(unix))]
            {
                true
            }
        };
        if ours && old && mine && path.is_dir() {
            if let Ok(files) = fs::read_dir(&path) {
                for f in files.flatten() {
                    scrub_file(&f.path());
                }
            }
            let _ = fs::remove_dir_all(&path);
            cleaned += 1;
        }
    }
    cleaned
}

/// This process's user id, from a file we own (no libc call needed).
#[cfg(unix)]
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// A private directory for the file, under `base_dir`.
fn private_dir() -> std::io::Result<PathBuf> {
    let base = base_dir();
    let mut r = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut r);
    let name: String = r.iter().map(|b| format!("{b:02x}")).collect();
    let dir = base.join(format!("kvtui-edit-{name}"));
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&dir)?;
    Ok(dir)
}

/// Overwrites a file with zeros and removes it.
fn scrub_file(file: &Path) {
    if let Ok(meta) = fs::symlink_metadata(file) {
        if meta.is_file() {
            if let Ok(mut f) = fs::OpenOptions::new().write(true).open(file) {
                let _ = f.write_all(&vec![0u8; meta.len() as usize]);
                let _ = f.sync_all();
            }
        }
    }
    let _ = fs::remove_file(file);
}

/// Overwrites the file with zeros, then removes it and its directory.
fn scrub(dir: &Path, file: &Path) {
    scrub_file(file);
    let _ = fs::remove_dir_all(dir);
}

/// While the editor runs, SIGINT, SIGTERM and SIGHUP (the terminal is in cooked mode: Ctrl-C in the
/// editor reaches kvtui too) remove the plaintext file and its directory before kvtui dies. The
/// handler only calls unlink/rmdir/signal/raise, which are async-signal-safe.
#[cfg(unix)]
mod on_signal {
    use std::ffi::CString;
    use std::sync::atomic::{AtomicPtr, Ordering};

    static FILE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
    static DIR: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    extern "C" fn remove_and_die(sig: libc::c_int) {
        // SAFETY: the pointers are either null or CStrings leaked by `arm` until `disarm`;
        // unlink, rmdir, signal and raise are async-signal-safe.
        unsafe {
            let f = FILE.load(Ordering::SeqCst);
            if !f.is_null() {
                libc::unlink(f);
            }
            let d = DIR.load(Ordering::SeqCst);
            if !d.is_null() {
                libc::rmdir(d);
            }
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    /// Installs the handlers for `file` in `dir`.
    pub fn arm(file: &std::path::Path, dir: &std::path::Path) {
        use std::os::unix::ffi::OsStrExt;
        let (Ok(f), Ok(d)) = (
            CString::new(file.as_os_str().as_bytes()),
            CString::new(dir.as_os_str().as_bytes()),
        ) else {
            return;
        };
        FILE.store(f.into_raw(), Ordering::SeqCst);
        DIR.store(d.into_raw(), Ordering::SeqCst);
        for s in SIGNALS {
            // SAFETY: installing a handler that only makes async-signal-safe calls.
            unsafe {
                libc::signal(s, remove_and_die as *const () as libc::sighandler_t);
            }
        }
    }

    /// Puts the default handlers back and frees the paths.
    pub fn disarm() {
        for s in SIGNALS {
            // SAFETY: restoring the default disposition.
            unsafe {
                libc::signal(s, libc::SIG_DFL);
            }
        }
        for p in [&FILE, &DIR] {
            let raw = p.swap(std::ptr::null_mut(), Ordering::SeqCst);
            if !raw.is_null() {
                // SAFETY: made by CString::into_raw in `arm`, taken back once.
                drop(unsafe { CString::from_raw(raw) });
            }
        }
    }
}

/// A warning when the configured editor keeps its own history of edited files.
pub fn history_warning() -> Option<&'static str> {
    editor_command().first().and_then(|p| keeps_history(p))
}

/// Runs the editor on `value` (blocking) and says what became of it.
pub fn edit(name: &str, value: &str) -> Edited {
    let dir = match private_dir() {
        Ok(d) => d,
        Err(e) => return Edited::Failed(format!("cannot make a private directory: {e}")),
    };
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let file = dir.join(format!("{safe}.txt"));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&file)
            .map_err(|e| format!("cannot write the temporary file: {e}"))?;
        f.write_all(value.as_bytes()).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        drop(f);
        let words = editor_command();
        let (program, args) = words.split_first().ok_or("no editor")?;
        #[cfg(unix)]
        on_signal::arm(&file, &dir);
        let status = Command::new(program).args(args).arg(&file).status();
        #[cfg(unix)]
        on_signal::disarm();
        let status = status
            .map_err(|e| format!("cannot start the editor '{program}': {e} (set $EDITOR)"))?;
        if !status.success() {
            return Err(format!(
                "the editor '{program}' exited with {status}: nothing saved"
            ));
        }
        let edited = Zeroizing::new(
            fs::read_to_string(&file).map_err(|e| format!("cannot read the edited file: {e}"))?,
        );
        // Editors add a final newline; the value had none: do not count that as a change.
        let edited_value = if !value.ends_with('\n') {
            edited.strip_suffix('\n').unwrap_or(&edited)
        } else {
            &edited
        };
        Ok(if edited_value == value {
            Edited::Unchanged
        } else {
            Edited::Changed(SecretValue::new(edited_value.to_string()))
        })
    })();
    scrub(&dir, &file);
    match result {
        Ok(e) => e,
        Err(e) => Edited::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vi_family_editors_run_without_swap_or_viminfo() {
        let guard = "setlocal noundofile nobackup nowritebackup";
        assert_eq!(
            command_for("/usr/bin/nvim"),
            ["/usr/bin/nvim", "-n", "-i", "NONE", "-c", guard]
        );
        assert_eq!(command_for("vim"), ["vim", "-n", "-i", "NONE", "-c", guard]);
        assert!(keeps_history("/usr/bin/code").is_some());
        assert!(keeps_history("vim").is_none());
        assert_eq!(command_for("code --wait"), ["code", "--wait"]);
        assert_eq!(
            command_for("'/opt/My Editor/bin/edit' --wait -c 'set x'"),
            ["/opt/My Editor/bin/edit", "--wait", "-c", "set x"]
        );
    }

    #[test]
    fn an_unchanged_edit_creates_nothing_and_the_file_is_gone() {
        // `true` leaves the file as it is: unchanged.
        std::env::set_var("VISUAL", "true");
        assert!(matches!(edit("x", "value"), Edited::Unchanged));
        std::env::set_var("VISUAL", "false");
        assert!(matches!(edit("x", "value"), Edited::Failed(m) if m.contains("nothing saved")));
        std::env::remove_var("VISUAL");
    }
}
