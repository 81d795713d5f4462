//! The real binary in a pseudo-terminal (portable-pty), its screen read with vt100: the demo's whole
//! life cycle of a secret, terminal restoration, and idleness.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::pty::{demo_value, has_row, Tui};

#[test]
fn the_life_of_a_secret_in_the_demo() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();

    // Filter to it and open it: masked.
    tui.send("/db-password");
    tui.wait_for("1 of 55");
    tui.send("\r\r");
    tui.wait_for("masked — Space reveals");
    let value = demo_value("db-password");
    tui.wait_for("text/plain");
    // The mask shows once the value has come (the panel opens before it does).
    let s = tui.wait_for("••••••••••••••••");
    assert!(!s.contains(&value), "the value is masked:\n{s}");
    // Reveal it.
    tui.send(" ");
    tui.wait_for(&value);
    tui.send(" ");
    tui.wait_gone(&value);
    tui.send("\x1b");
    tui.wait_gone("properties");

    // Delete: progress, then it moves to the deleted list.
    tui.send("d");
    tui.wait_for("Delete 'db-password' and all its versions?");
    tui.send("y");
    tui.wait_for("waiting for the deletion to complete");
    let s = tui.wait_for("Deleted 'db-password'");
    assert!(
        !has_row(&s, "db-password"),
        "gone from the secret list:\n{s}"
    );
    tui.send("\t");
    let s = tui.wait_for("PURGED ON");
    assert!(has_row(&s, "db-password"), "in the deleted list:\n{s}");
    // The demo keeps deleted secrets 90 days: right after the delete, 90 are left, not 89.
    assert!(s.contains("(90 d left)"), "{s}");

    // Recover: progress until readable, then back in the list.
    tui.send("r");
    tui.wait_for("waiting until it is readable");
    tui.wait_for("Recovered 'db-password'");
    tui.send("\t");
    let s = tui.wait_for("TAGS");
    assert!(has_row(&s, "db-password"), "back in the secret list:\n{s}");

    // Delete again and purge with the typed confirmation: gone from both lists.
    tui.send("d");
    tui.wait_for("Delete 'db-password'");
    tui.send("y");
    tui.wait_for("Deleted 'db-password'");
    tui.send("\t");
    tui.wait_for("PURGED ON");
    tui.send("P");
    tui.wait_for("Type the secret's name to confirm");
    tui.send("db-password\r");
    let s = tui.wait_for("Purged 'db-password' for good");
    assert!(
        !has_row(&s, "db-password"),
        "gone from the deleted list:\n{s}"
    );
    tui.send("\t");
    let s = tui.wait_for("no secret matches the filter");
    assert!(
        !has_row(&s, "db-password"),
        "and from the secret list:\n{s}"
    );

    // Quit: the terminal is restored (alternate screen left, cursor shown, raw mode off).
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}");
    let raw = tui.raw.lock().map(|r| r.clone()).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains("\x1b[?1049h") && text.contains("\x1b[?1049l"),
        "alternate screen entered and left"
    );
    assert!(text.rfind("\x1b[?1049l") > text.rfind("\x1b[?1049h"));
    assert!(text.contains("\x1b[?2004l"), "bracketed paste turned off");
    assert!(!tui
        .parser
        .lock()
        .map(|p| p.screen().alternate_screen())
        .unwrap_or(true));
    assert!(
        !tui.screen().contains(&value),
        "no secret left on the terminal after quitting"
    );

    // The demo wrote nothing to disk.
    let written: Vec<_> = walk(home.path());
    assert!(written.is_empty(), "the demo wrote {written:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn idle_for_two_seconds_writes_nothing_to_the_terminal() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    // Let loading and discovery settle: nothing animates once the counters are final.
    tui.wait_gone("loading");
    std::thread::sleep(Duration::from_millis(500));
    let before = *tui.bytes.lock().expect("bytes");
    std::thread::sleep(Duration::from_secs(2));
    let after = *tui.bytes.lock().expect("bytes");
    assert_eq!(before, after, "{} bytes written while idle", after - before);
    // A key press is still drawn at once.
    tui.send("j");
    let start = Instant::now();
    while *tui.bytes.lock().expect("bytes") == after {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no redraw after a key"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    tui.send("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.wait_for("discovered");
    tui.send("\x03");
    assert!(tui.wait_exit().success());
    assert!(!tui
        .parser
        .lock()
        .map(|p| p.screen().alternate_screen())
        .unwrap_or(true));
}

/// The screen follows the terminal's size: the layout is made for the new size and nothing of the
/// old frame is left (kvtui keeps the size from resize events, not by asking before each frame).
#[test]
fn resizing_the_terminal_redraws_for_the_new_size() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    let hints = |row: &String| row.starts_with(" Enter open");
    tui.resize(60, 16);
    let rows = tui.wait_rows("the hint line on the last of 16 rows", |r| {
        r.len() == 16 && r.last().is_some_and(hints)
    });
    assert!(
        !rows.iter().any(|r| r.contains("TAGS")),
        "no room for tags at 60 columns"
    );
    tui.resize(140, 40);
    let rows = tui.wait_rows("the hint line on the last of 40 rows", |r| {
        r.len() == 40 && r.last().is_some_and(hints)
    });
    let text = rows.join("\n");
    assert!(!hints(&rows[15]), "the old hint line is gone:\n{text}");
    assert!(text.contains("TAGS"), "{text}");
    // The list fills the taller screen (the demo has 55 secrets).
    assert!(rows[30].contains("✓"), "{text}");
    tui.send("q");
    tui.wait_exit();
}
