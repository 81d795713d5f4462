//! Editing through the real binary in a pseudo-terminal, on the demo: create with tags and an expiry,
//! paste a multi-line value, the three answers to "deleted but recoverable", $EDITOR with a stand-in
//! editor, disabling and re-enabling a version, read-only mode.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::pty::{has_row, Tui};

fn row<'a>(screen: &'a str, name: &str) -> &'a str {
    screen
        .lines()
        .skip(3)
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name}:\n{screen}"))
}

fn filter(tui: &mut Tui, name: &str) {
    tui.send(&format!("/{name}\r"));
    tui.wait_for(&format!("/{name}"));
}

/// Esc, then waits until `gone` leaves the screen: an Esc followed at once by another key would
/// reach kvtui as Alt+key.
fn esc(tui: &mut Tui, gone: &str) {
    tui.send("\x1b");
    tui.wait_gone(gone);
}

#[test]
fn create_with_tags_and_expiry_and_a_pasted_multi_line_value() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    tui.send("n");
    tui.wait_for("new secret");
    tui.send("bad_name");
    tui.wait_for("'_' is not allowed");
    tui.send("\x7f\x7f\x7f\x7f\x7f-ok");
    tui.wait_gone("'_' is not allowed");
    tui.send("\t");
    // Bracketed paste of a PEM: the line breaks survive.
    tui.send("\x1b[200~-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\x1b[201~");
    tui.send("\tapplication/x-pem-file\tenv=test\rowner=me\t\t\t+30d");
    tui.wait_for("→ ");
    tui.send("\x13"); // Ctrl-S
    tui.wait_for("Created 'bad-ok'");
    filter(&mut tui, "bad-ok");
    let s = tui.wait_for("1 of 56");
    let r = row(&s, "bad-ok");
    assert!(r.contains("application/x-pem"), "{r}");
    assert!(r.contains("env=test") && r.contains("owner=me"), "{r}");
    assert!(r.contains("in 29d") || r.contains("in 30d"), "{r}");
    tui.send("\r");
    tui.wait_for("masked — Space reveals");
    tui.send(" ");
    let s = tui.wait_for("-----END KEY-----");
    assert!(
        s.contains("AAAA") && s.contains("BBBB") && s.contains("-----BEGIN KEY-----"),
        "{s}"
    );
    esc(&mut tui, "-----END KEY-----");
    tui.send("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn deleted_but_recoverable_cancel_recover_and_purge_then_create() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();

    // Cancel: back to the form with everything typed.
    tui.send("nretired-api-key\tnew-value\tmy/type");
    tui.send("\x13");
    tui.wait_for("deleted but recoverable: its name cannot be reused");
    tui.send("c");
    let s = tui.wait_for("nothing was lost");
    assert!(
        s.contains("retired-api-key") && s.contains("my/type"),
        "the form is intact:\n{s}"
    );
    assert!(
        s.contains("The vault refused it: 409 Conflict (ObjectIsDeletedButRecoverable)"),
        "{s}"
    );

    // Recover it: then it opens.
    tui.send("\x13");
    tui.wait_for("r recover it (then open it)");
    tui.send("r");
    tui.wait_for("waiting until it is readable");
    tui.wait_for("masked — Space reveals");
    tui.wait_for("Recovered 'retired-api-key'");
    esc(&mut tui, "masked — Space reveals");

    // Purge it and create: the new secret exists, the deleted one is gone.
    tui.send("ntemp-migration-token\tfresh-value");
    tui.send("\x13");
    tui.wait_for("p purge it for good");
    tui.send("p");
    tui.wait_for("Created 'temp-migration-token'");
    filter(&mut tui, "temp-migration-token");
    let s = tui.wait_for("1 of");
    assert!(has_row(&s, "temp-migration-token"));
    tui.send("\r");
    tui.wait_for("masked");
    tui.send(" ");
    tui.wait_for("fresh-value");
    esc(&mut tui, "fresh-value");
    tui.send("\t");
    // Filtered on its name, the deleted list is empty: it is no longer deleted.
    let s = tui.wait_for("0 of 1");
    assert!(s.contains("no deleted secret matches the filter"), "{s}");
    tui.send("q");
    assert!(tui.wait_exit().success());
}

/// Writes a shell script that can be run as `$EDITOR`.
fn executable(path: &Path, body: &str) {
    std::fs::write(path, body).expect("editor");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// The demo with `editor` as $EDITOR (no $VISUAL) and `runtime` as XDG_RUNTIME_DIR, `E` pressed on
/// smtp-password.
fn edit_smtp_password(home: &Path, editor: &str, runtime: &Path) -> Tui {
    let r = runtime.display().to_string();
    let mut tui = Tui::start_with(
        &["--demo"],
        home,
        &[
            ("EDITOR", Some(editor)),
            ("VISUAL", None),
            ("XDG_RUNTIME_DIR", Some(&r)),
        ],
    );
    tui.open_demo();
    filter(&mut tui, "smtp-password");
    tui.wait_for("1 of 55");
    tui.send("E");
    tui
}

#[test]
fn edit_in_editor_makes_a_new_version_and_leaves_no_file() {
    let home = tempfile::tempdir().expect("home");
    let marker = home.path().join("editor-saw");
    // A path with a space, quoted, and an option: $EDITOR is split as a shell would.
    let editors = home.path().join("my editors");
    std::fs::create_dir(&editors).expect("editors dir");
    let editor = editors.join("fake-editor");
    executable(
        &editor,
        &format!(
            "#!/bin/sh\n[ \"$1\" = --wait ] || exit 3\nfor f in \"$@\"; do :; done\necho \"$f\" > '{m}'\nstat -c %a \"$f\" >> '{m}'\nstat -c %a \"$(dirname \"$f\")\" >> '{m}'\nprintf '%s' 'edited-in-editor' > \"$f\"\n",
            m = marker.display()
        ),
    );
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).expect("runtime dir");
    let e = format!("'{}' --wait", editor.display());
    let r = runtime.display().to_string();
    let mut tui = edit_smtp_password(home.path(), &e, &runtime);
    tui.wait_for("Saved a new version of 'smtp-password' (edited in $EDITOR)");
    let saw = std::fs::read_to_string(&marker).expect("the editor ran");
    let mut lines = saw.lines();
    let file = lines.next().expect("path");
    assert_eq!(lines.next(), Some("600"), "the file is 0600");
    assert_eq!(lines.next(), Some("700"), "in a 0700 directory");
    assert!(file.starts_with(&r), "under XDG_RUNTIME_DIR: {file}");
    assert!(!Path::new(file).exists(), "the file is gone");
    assert!(
        !Path::new(file).parent().is_some_and(|d| d.exists()),
        "and its directory"
    );
    tui.send("\r");
    tui.wait_for("masked");
    tui.send(" ");
    tui.wait_for("edited-in-editor");
    esc(&mut tui, "edited-in-editor");
    // The editor leaves the file as it is: nothing is created.
    std::fs::write(&editor, "#!/bin/sh\nexit 0\n").expect("editor");
    tui.send("E");
    tui.wait_for("'smtp-password' unchanged: no new version");
    tui.send("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn disable_then_re_enable_a_version() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    filter(&mut tui, "db-password");
    tui.wait_for("1 of 55");
    tui.send("v");
    tui.wait_for("versions of 'db-password'");
    let s = tui.wait_for("latest");
    let versions: Vec<&str> = s.lines().filter(|l| l.contains("d ago")).collect();
    assert_eq!(versions.len(), 2, "{s}");
    tui.send("j");
    tui.send("x");
    tui.wait_for("Disabled 'db-password version");
    let s = tui.screen();
    assert!(
        s.lines().any(|l| l.contains(" off ")),
        "the older version shows off:\n{s}"
    );
    // Its value can no longer be read.
    tui.send("\r");
    // Explained where it happened: what it is and what to do.
    let s = tui.wait_for("403 · SecretDisabled");
    assert!(s.contains("A disabled secret cannot be read"), "{s}");
    esc(&mut tui, "403 · SecretDisabled");
    tui.send("x");
    tui.wait_for("Enabled 'db-password version");
    tui.send("\r");
    tui.wait_for("masked");
    esc(&mut tui, "masked");
    tui.send("q");
    assert!(tui.wait_exit().success());
}

#[test]
fn read_only_refuses_delete_with_the_reason_and_the_secret_stays() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo", "--read-only"], home.path());
    tui.open_demo();
    let s = tui.wait_for("[read-only]");
    assert!(
        !s.contains("d delete"),
        "mutating keys are not offered:\n{s}"
    );
    filter(&mut tui, "db-password");
    tui.wait_for("1 of 55");
    tui.send("d");
    let s = tui.wait_for("read-only: delete is not allowed");
    assert!(
        !s.contains("Delete 'db-password'"),
        "no confirmation was asked"
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        assert!(!tui.screen().contains("Deleting"));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        has_row(&tui.screen(), "db-password"),
        "the secret is still there"
    );
    tui.send("?");
    let help = tui.wait_for("closes this help");
    for hidden in ["new version", "enable / disable", "(new version)"] {
        assert!(!help.contains(hidden), "help hides '{hidden}':\n{help}");
    }
    // A backup reads the vault: offered in read-only mode too.
    assert!(
        help.contains("show the value") && help.contains("back up to a file"),
        "{help}"
    );
    tui.send("x");
    tui.send("q");
    assert!(tui.wait_exit().success());
}

/// kvtui killed while the editor is open (SIGTERM, or Ctrl-C reaching both in cooked mode): the
/// plaintext file and its directory are gone all the same.
#[test]
fn a_signal_while_the_editor_is_open_leaves_no_file() {
    let home = tempfile::tempdir().expect("home");
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).expect("runtime dir");
    let editor = home.path().join("killer-editor");
    let marker = home.path().join("editor-started");
    executable(
        &editor,
        &format!(
            "#!/bin/sh\ntouch '{}'\nkill -TERM $PPID\nsleep 2\n",
            marker.display()
        ),
    );
    let mut tui = edit_smtp_password(home.path(), &editor.display().to_string(), &runtime);
    let status = tui.wait_exit();
    assert!(!status.success(), "killed by the signal");
    assert!(marker.exists(), "the editor ran");
    let left: Vec<_> = std::fs::read_dir(&runtime)
        .expect("runtime")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
