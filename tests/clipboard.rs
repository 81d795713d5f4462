//! Copying through the real binary: the X11 clipboard under Xvfb (read back with xclip), OSC 52 in a
//! pseudo-terminal, and tmux's buffer with `set-clipboard on`. Needs Xvfb, xclip and tmux (`.ci/run`
//! installs them).

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::pty::{demo_value, Tui};
use support::x11::{need, wait_clipboard, xclip_out, xvfb};

fn open_secret(tui: &mut Tui, name: &str) {
    tui.open_demo();
    tui.send(&format!("/{name}\r"));
    tui.wait_for("1 of 55");
}

#[test]
fn x11_copy_clear_respect_and_keep_after_quit() {
    need("xclip");
    let (_x, display) = xvfb();
    let home = tempfile::tempdir().expect("home");
    let value = demo_value("jwt-signing-key");
    assert!(value.contains('\n'), "a multi-line value");
    let args = [
        "--demo",
        "--clipboard",
        "system",
        "--clipboard-clear-after",
        "3",
        "--log-level",
        "trace",
    ];
    let mut tui = Tui::start_with(
        &args,
        home.path(),
        &[
            ("DISPLAY", Some(&display)),
            ("WAYLAND_DISPLAY", None),
            ("SSH_TTY", None),
            ("SSH_CONNECTION", None),
        ],
    );
    open_secret(&mut tui, "jwt-signing-key");

    // Copy from the list: exactly the value, line breaks and all; then it clears itself.
    tui.send("c");
    tui.wait_for("Copied value of 'jwt-signing-key' to the clipboard — clears in");
    assert_eq!(xclip_out(&display).as_deref(), Some(value.as_str()));
    tui.wait_for("Clipboard cleared (value of 'jwt-signing-key')");
    wait_clipboard(&display, None, "after the timeout");

    // Something copied in between is left alone.
    tui.send("c");
    tui.wait_for("clears in");
    wait_clipboard(&display, Some(&value), "copied again");
    let mut other = Command::new("xclip")
        .args(["-i", "-selection", "clipboard", "-quiet"])
        .env("DISPLAY", &display)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip -i");
    {
        use std::io::Write;
        let mut i = other.stdin.take().expect("stdin");
        i.write_all(b"the user copied this").expect("write");
    }
    let _other = support::Proc(other);
    wait_clipboard(&display, Some("the user copied this"), "the user's copy");
    tui.wait_for("Clipboard left alone");
    assert_eq!(xclip_out(&display).as_deref(), Some("the user copied this"));

    // The name and identifier copies are not cleared.
    tui.send("Y");
    tui.wait_for("Copied name 'jwt-signing-key'");
    wait_clipboard(&display, Some("jwt-signing-key"), "the name");

    // The log (trace level) never saw the value.
    let pid = tui.child.process_id().expect("pid");
    let log = std::env::temp_dir().join(format!("kvtui-demo-{pid}/kvtui.log"));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let first_line = value.lines().nth(1).expect("a second line");
    assert!(!text.contains(first_line), "the value is in the log");

    // Quit with a copy pending: the keeper serves it until the deadline, then clears it.
    tui.send("c");
    tui.wait_for("clears in");
    wait_clipboard(&display, Some(&value), "before quitting");
    tui.send("q");
    assert!(tui.wait_exit().success());
    let pid_file = home.path().join("state/kvtui/clipboard-keeper.pid");
    // The keeper writes its PID as it starts, which may be after kvtui has exited.
    let started = std::time::Instant::now();
    let keeper: u32 = loop {
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the keeper never wrote its PID"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let cmdline = std::fs::read(format!("/proc/{keeper}/cmdline")).unwrap_or_default();
    let environ = std::fs::read(format!("/proc/{keeper}/environ")).unwrap_or_default();
    assert!(String::from_utf8_lossy(&cmdline).contains("clipboard-keeper"));
    assert!(
        !String::from_utf8_lossy(&cmdline).contains(first_line),
        "no value in the keeper's argv"
    );
    assert!(
        !String::from_utf8_lossy(&environ).contains(first_line),
        "nor in its environment"
    );
    assert_eq!(
        xclip_out(&display).as_deref(),
        Some(value.as_str()),
        "paste works after quitting"
    );
    wait_clipboard(&display, None, "after the deadline");
    let start = Instant::now();
    while pid_file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the keeper did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg(keeper.to_string()).status();
}

#[test]
fn osc52_goes_out_between_frames_and_is_cleared() {
    let home = tempfile::tempdir().expect("home");
    let value = demo_value("app-config");
    let mut tui = Tui::start_with(
        &["--demo", "--clipboard-clear-after", "2"],
        home.path(),
        &[("DISPLAY", None), ("WAYLAND_DISPLAY", None), ("TMUX", None)],
    );
    open_secret(&mut tui, "app-config");
    tui.send("c");
    tui.wait_for("to the terminal clipboard (OSC 52)");
    use base64::Engine as _;
    let expected = format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
    );
    let raw = tui
        .raw
        .lock()
        .map(|r| String::from_utf8_lossy(&r).into_owned())
        .unwrap_or_default();
    assert!(
        raw.contains(&expected),
        "the exact OSC 52 sequence, uninterrupted by any frame"
    );
    tui.wait_for("Clipboard cleared");
    let raw = tui
        .raw
        .lock()
        .map(|r| String::from_utf8_lossy(&r).into_owned())
        .unwrap_or_default();
    assert!(
        raw.contains("\x1b]52;c;\x07"),
        "an empty OSC 52 at the deadline"
    );
    tui.send("q");
    assert!(tui.wait_exit().success());
}

struct TmuxServer(String);

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .status();
    }
}

fn tmux(sock: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(sock)
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn in_tmux_with_set_clipboard_on_the_value_lands_in_the_buffer() {
    need("tmux");
    let home = tempfile::tempdir().expect("home");
    let sock = format!("kvtui-test-{}", std::process::id());
    let _server = TmuxServer(sock.clone());
    let bin: PathBuf = env!("CARGO_BIN_EXE_kvtui").into();
    let h = home.path().display().to_string();
    let command = format!(
        "env -u DISPLAY -u WAYLAND_DISPLAY HOME={h} XDG_STATE_HOME={h}/state XDG_DATA_HOME={h}/data XDG_CONFIG_HOME={h}/config {} --demo --clipboard-clear-after 3",
        bin.display()
    );
    let st = Command::new("tmux")
        .args([
            "-L",
            &sock,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            &command,
        ])
        .status()
        .expect("tmux");
    assert!(st.success());
    tmux(&sock, &["set", "-g", "set-clipboard", "on"]);
    // The server (and its buffers) outlive kvtui: the keeper's clear must be what deletes it.
    tmux(&sock, &["set", "-g", "remain-on-exit", "on"]);
    let wait = |text: &str| {
        let start = Instant::now();
        loop {
            let screen = tmux(&sock, &["capture-pane", "-p"]);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "'{text}' never appeared:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("discovered");
    tmux(&sock, &["send-keys", "Enter"]);
    wait("Secrets (55)");
    tmux(&sock, &["send-keys", "/db-password", "Enter"]);
    wait("1 of 55");
    tmux(&sock, &["send-keys", "c"]);
    let screen = wait("OSC 52");
    assert!(
        !screen.contains("set-clipboard on`"),
        "no warning when set-clipboard is on:\n{screen}"
    );
    // The value is in a paste buffer of kvtui's own name (forwarded to the outer clipboard), and
    // in no other buffer.
    let want = demo_value("db-password");
    let holding = || -> Vec<String> {
        tmux(&sock, &["list-buffers", "-F", "#{buffer_name}"])
            .lines()
            .filter(|b| tmux(&sock, &["show-buffer", "-b", b]) == want)
            .map(str::to_string)
            .collect()
    };
    let start = Instant::now();
    let named = loop {
        let h = holding();
        if !h.is_empty() {
            break h;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no tmux buffer holds the value: {}",
            tmux(&sock, &["list-buffers"])
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(named.len(), 1, "{named:?}");
    assert!(named[0].starts_with("kvtui-"), "{named:?}");
    // The clear (3 s) deletes it: tmux keeps no copy of the value.
    wait("Clipboard cleared");
    assert!(holding().is_empty(), "{}", tmux(&sock, &["list-buffers"]));
    // Copied again and kvtui quit before the clear: the keeper deletes the buffer at the deadline.
    tmux(&sock, &["send-keys", "c"]);
    wait("clears in");
    assert_eq!(holding().len(), 1);
    tmux(&sock, &["send-keys", "q"]);
    let start = Instant::now();
    while tmux(&sock, &["list-panes", "-F", "#{pane_dead}"]).trim() != "1" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "kvtui did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        holding().len(),
        1,
        "kvtui has quit; the keeper holds on until the deadline"
    );
    let start = Instant::now();
    while !holding().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the buffer outlived the deadline: {}",
            tmux(&sock, &["list-buffers"])
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
