//! kvtui in the user's shell: completions that load in bash, a manual page that renders, the config
//! commands, `--version`, exit codes, and the terminals it refuses (not a tty, TERM=dumb) or adapts to
//! (NO_COLOR).

mod support;

use std::process::Command;

use support::pty::Tui;

fn kvtui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kvtui"))
}

#[test]
fn version_names_the_commit_and_usage_errors_exit_2() {
    let out = kvtui().arg("--version").output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.starts_with(&format!("kvtui {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let out = kvtui().arg("--no-such-flag").output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    let help = kvtui().arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Examples:") && help.contains("Exit codes: 0 ok, 1 error, 2 usage error"),
        "{help}"
    );
}

#[test]
fn not_a_terminal_is_refused_with_the_reason_and_exit_1() {
    let out = kvtui()
        .arg("--demo")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs an interactive terminal"), "{err}");
}

#[test]
fn term_dumb_gets_a_clear_message_not_garbage() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(&["--demo"], home.path(), &[("TERM", Some("dumb"))]);
    tui.wait_for("TERM=dumb says this one cannot");
    let status = tui.wait_exit();
    assert!(!status.success());
    // Nothing but the message: no alternate screen, no escape sequences drawn.
    let raw = tui.raw.lock().map(|r| r.clone()).unwrap_or_default();
    assert!(
        !raw.windows(2).any(|w| w == b"\x1b["),
        "no control sequences"
    );
}

#[test]
fn no_color_draws_without_colours() {
    let home = tempfile::tempdir().expect("home");
    let tui = Tui::start_with(&["--demo"], home.path(), &[("NO_COLOR", Some("1"))]);
    tui.wait_for("discovered");
    let raw = tui.raw.lock().map(|r| r.clone()).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    // SGR colour codes: 38;5;N / 38;2;… or the 30–37, 90–97 families.
    let colour = [
        "[38;", "[48;", "[31m", "[32m", "[33m", "[34m", "[36m", "[90m",
    ];
    assert!(
        !colour.iter().any(|c| text.contains(c)),
        "no colour with NO_COLOR"
    );
    drop(tui);
    // And with colours, there are some (the check above can fail).
    let tui = Tui::start_with(&["--demo"], home.path(), &[]);
    tui.wait_for("discovered");
    let raw = tui.raw.lock().map(|r| r.clone()).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        colour.iter().any(|c| text.contains(c)),
        "colours by default"
    );
}

#[test]
fn the_man_page_renders() {
    let out = kvtui().arg("man").output().expect("runs");
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(page.contains(".TH kvtui"), "roff");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("kvtui.1");
    std::fs::write(&file, &page).expect("write");
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man (apt-get install man-db; .ci/run does)");
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    for part in ["NAME", "kvtui", "--vault", "emulator", "completions"] {
        assert!(text.contains(part), "{part} in the rendered page:\n{text}");
    }
}

#[test]
fn bash_completes_options_from_the_generated_script() {
    let home = tempfile::tempdir().expect("home");
    let script = home.path().join("kvtui.bash");
    let out = kvtui()
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).expect("write");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kvtui"))
        .parent()
        .expect("dir")
        .display()
        .to_string();
    let path = format!("{bin_dir}:/usr/bin:/bin");
    let rc = home.path().join("rc");
    std::fs::write(&rc, format!("PS1='$ '\nsource '{}'\n", script.display())).expect("rc");
    let mut pty = support::pty::Tui::spawn(
        "bash",
        &["--noprofile", "--rcfile", rc.to_str().expect("utf-8"), "-i"],
        home.path(),
        &[("PATH", Some(&path))],
    );
    pty.wait_for("$ ");
    pty.send("kvtui --va\t");
    pty.wait_for("kvtui --vault");
    pty.send("\x03exit\r");
}

#[test]
fn config_init_then_check_passes_and_check_reports_mistakes_by_line() {
    let home = tempfile::tempdir().expect("home");
    let cfg_home = home.path().join("config");
    let run = |args: &[&str]| {
        kvtui()
            .args(args)
            .env("XDG_CONFIG_HOME", &cfg_home)
            .env("HOME", home.path())
            .output()
            .expect("runs")
    };
    let path = run(&["config", "path"]);
    let path = String::from_utf8_lossy(&path.stdout).trim().to_string();
    assert_eq!(
        path,
        cfg_home.join("kvtui/config.toml").display().to_string()
    );
    assert!(run(&["config", "init"]).status.success());
    let again = run(&["config", "init"]);
    assert_eq!(again.status.code(), Some(1), "never over an existing file");
    let check = run(&["config", "check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    std::fs::write(
        &path,
        "[theme]\nname = \"purple\"\n[keys]\nd = \"nuke\"\n\"hyper-x\" = \"quit\"\n",
    )
    .expect("write");
    let check = run(&["config", "check"]);
    assert_eq!(check.status.code(), Some(1));
    let out = String::from_utf8_lossy(&check.stdout);
    for line in [
        "config.toml line 2",
        "config.toml line 4",
        "config.toml line 5",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
}
