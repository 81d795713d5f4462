//! An X server for clipboard tests: Xvfb on a free display, read back with xclip. Both come from
//! Debian's packages (`.ci/run` installs them).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Proc;

/// Fails the test, saying what to install, when `tool` is not on PATH.
pub fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is needed for this test: apt-get install xvfb xclip tmux (.ci/run does)"
    );
}

/// An Xvfb on a free display number, stopped when the guard drops.
pub fn xvfb() -> (Proc, String) {
    need("Xvfb");
    for n in (200 + std::process::id() % 500)..(800 + std::process::id() % 500) {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        {
            continue;
        }
        let child = Command::new("Xvfb")
            .args([format!(":{n}"), "-nolisten".into(), "tcp".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let mut x = Proc(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (x, format!(":{n}"));
            }
            if let Ok(Some(_)) = x.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("no Xvfb display could be started");
}

/// What the CLIPBOARD selection holds; `None` when nobody owns it.
pub fn xclip_out(display: &str) -> Option<String> {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", display)
        .output()
        .expect("xclip runs");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits (30 s at most) until the clipboard holds `want` (`None`: nothing, or empty).
pub fn wait_clipboard(display: &str, want: Option<&str>, what: &str) {
    let start = Instant::now();
    loop {
        let got = xclip_out(display);
        if got.as_deref() == want || (want.is_none() && got.as_deref() == Some("")) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what}: clipboard holds {got:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
