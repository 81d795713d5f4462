//! The real kvtui binary in a pseudo-terminal, its screen read with vt100.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

pub const COLS: u16 = 100;
pub const ROWS: u16 = 30;

pub struct Tui {
    pub parser: Arc<Mutex<vt100::Parser>>,
    pub bytes: Arc<Mutex<usize>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tui {
    pub fn start(args: &[&str], home: &Path) -> Tui {
        Self::start_with(args, home, &[])
    }

    /// Starts kvtui with extra environment (`(name, None)` removes a variable).
    pub fn start_with(args: &[&str], home: &Path, env: &[(&str, Option<&str>)]) -> Tui {
        Self::start_sized(args, home, env, (COLS, ROWS))
    }

    /// Starts kvtui in a terminal of `(columns, rows)`.
    pub fn start_sized(
        args: &[&str],
        home: &Path,
        env: &[(&str, Option<&str>)],
        size: (u16, u16),
    ) -> Tui {
        Self::spawn_sized(env!("CARGO_BIN_EXE_kvtui"), args, home, env, size)
    }

    /// Any program (a shell) in the same kind of terminal, with the same private HOME and XDG dirs.
    pub fn spawn(program: &str, args: &[&str], home: &Path, env: &[(&str, Option<&str>)]) -> Tui {
        Self::spawn_sized(program, args, home, env, (COLS, ROWS))
    }

    fn spawn_sized(
        program: &str,
        args: &[&str],
        home: &Path,
        env: &[(&str, Option<&str>)],
        (cols, rows): (u16, u16),
    ) -> Tui {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(home);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home);
        for (k, sub) in [
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_CACHE_HOME", "cache"),
        ] {
            cmd.env(k, home.join(sub));
        }
        cmd.env_remove("NO_COLOR");
        // Never a VM's metadata endpoint (169.254.169.254) from a test, even on an Azure VM.
        cmd.env("KVTUI_NO_IMDS", "1");
        cmd.env_remove("AZURE_POD_IDENTITY_AUTHORITY_HOST");
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            }
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let (rows, cols) = (
            std::num::NonZeroU16::new(rows).expect("rows"),
            std::num::NonZeroU16::new(cols).expect("cols"),
        );
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let bytes = Arc::new(Mutex::new(0usize));
        let raw = Arc::new(Mutex::new(Vec::new()));
        {
            let (parser, bytes, raw) = (parser.clone(), bytes.clone(), raw.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut p) = parser.lock() {
                        p.process(&buf[..n]);
                    }
                    if let Ok(mut b) = bytes.lock() {
                        *b += n;
                    }
                    if let Ok(mut r) = raw.lock() {
                        r.extend_from_slice(&buf[..n]);
                    }
                }
            });
        }
        Tui {
            parser,
            bytes,
            raw,
            writer,
            child,
            _master: pair.master,
        }
    }

    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// In `--demo`: opens the demo vault from the picker and waits for its 55 secrets.
    pub fn open_demo(&mut self) {
        self.wait_for("discovered");
        self.send("\r");
        self.wait_for("Secrets (55)");
    }

    /// Every row of the screen, as wide as the terminal (`screen` trims).
    pub fn rows(&self) -> Vec<String> {
        self.parser
            .lock()
            .map(|p| {
                let (_, cols) = p.screen().size();
                p.screen().rows(0, cols.into()).collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `ok` holds for the screen's rows; returns them.
    pub fn wait_rows(&self, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
        let start = Instant::now();
        loop {
            let rows = self.rows();
            if ok(&rows) {
                return rows;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what} never came; the screen:\n{}",
                rows.join("\n")
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Resizes the terminal (the program gets SIGWINCH), and the screen model with it.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self._master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
        if let Ok(mut p) = self.parser.lock() {
            if let (Some(r), Some(c)) = (
                std::num::NonZeroU16::new(rows),
                std::num::NonZeroU16::new(cols),
            ) {
                p.set_size(r, c);
            }
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Waits (generously: a shared 2-core machine) until the screen shows `text`.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "'{text}' never appeared; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn wait_gone(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if !s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "'{text}' never went away; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "kvtui did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// The latest value of a secret in the demo's `demo` vault, from the seed.
pub fn demo_value(name: &str) -> String {
    kvtui::demo::entries(0)
        .expect("seed")
        .into_iter()
        .find(|e| e.vault == "demo" && e.name == name)
        .and_then(|e| e.state.live)
        .and_then(|l| l.record.latest().map(|v| v.value.to_string()))
        .expect("the demo has the secret")
}

/// Whether a row of the list (not the status line, which names the secret too) is `name`.
pub fn has_row(screen: &str, name: &str) -> bool {
    screen
        .lines()
        .skip(3)
        .take(ROWS as usize - 7)
        .any(|l| l.split_whitespace().next() == Some(name))
}
