//! The keymap through the real binary: help and hints list what each view really takes, `:` works in
//! every view, `q` quits where the hint says so, the user's bindings (and their mistakes) are honoured,
//! text fields have a cursor, dialogs grow to fit, and a created secret is selected afterwards.

mod support;

use support::pty::Tui;

/// Esc, then waits until `gone` leaves the screen (an Esc followed at once by a key reads as Alt+key).
fn esc(tui: &mut Tui, gone: &str) {
    tui.send("\x1b");
    tui.wait_gone(gone);
}

#[test]
fn help_lists_every_key_of_the_view_and_colon_works_everywhere() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    tui.send("?");
    let help = tui.wait_for("help — secret list");
    for line in [
        "copy the value",
        "copy the identifier",
        "copy the name",
        "command line",
    ] {
        assert!(
            help.contains(line),
            "secret list help lacks '{line}':\n{help}"
        );
    }
    esc(&mut tui, "help — secret list");

    // The value panel: its own keys, no filter line, and `q` quits as its hint says.
    tui.send("/db-password\r\r");
    tui.wait_for("masked — Space reveals");
    tui.send("?");
    let help = tui.wait_for("help — value panel");
    for line in [
        "copy the value",
        "edit in $EDITOR",
        "copy the identifier",
        "copy the name",
    ] {
        assert!(
            help.contains(line),
            "value panel help lacks '{line}':\n{help}"
        );
    }
    assert!(
        !help.contains("Filter:"),
        "no filter in the value panel:\n{help}"
    );
    esc(&mut tui, "help — value panel");
    let s = tui.wait_for("q quit");
    assert!(s.contains("masked — Space reveals"), "{s}");

    // `:` from the value panel and from the versions view.
    tui.send(":deleted\r");
    tui.wait_for("PURGED ON");
    tui.send(":secrets\r");
    tui.wait_for("TAGS");
    tui.send("v");
    tui.wait_for("versions of 'db-password'");
    tui.send(":deleted\r");
    let s = tui.wait_for("PURGED ON");
    assert!(
        !s.contains("properties of"),
        "typing ':deleted' opened no form:\n{s}"
    );
    tui.send(":secrets\r\r");
    tui.wait_for("masked — Space reveals");
    tui.send("q");
    tui.wait_exit();
}

#[test]
fn a_binding_that_shadows_another_is_reported_and_the_bound_key_works() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("config/kvtui");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[theme]\nname = \"dark\"\n\n[keys]\nd = \"copy\"\n\"ctrl-x\" = \"delete\"\n",
    )
    .expect("config");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    // The binding took d from delete, but ctrl-x gives delete a key again: no warning then.
    tui.send("/db-password\r");
    tui.wait_for("1 of 55");
    tui.send("\x18");
    tui.wait_for("Delete 'db-password' and all its versions?");
    tui.send("n");
    tui.wait_gone("Delete 'db-password'");
    tui.send("?");
    let help = tui.wait_for("help — secret list");
    assert!(
        help.contains("Ctrl-X"),
        "help shows the user's key:\n{help}"
    );
    drop(tui);

    std::fs::write(
        config.join("config.toml"),
        "[theme]\nname = \"dark\"\n\n[keys]\nd = \"copy\"\n",
    )
    .expect("config");
    let tui = Tui::start(&["--demo"], home.path());
    let s = tui.wait_for("shadows delete");
    assert!(
        s.contains("config.toml line 5"),
        "the binding's own line:\n{s}"
    );
}

#[test]
fn text_fields_edit_at_the_cursor_and_a_created_secret_is_selected() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    tui.send("n");
    tui.wait_for("new secret");
    // Type "zz-new", go Home, insert "a", Ctrl-← / Delete round trip: "azz-new".
    tui.send("zz-new");
    tui.wait_for("zz-new");
    tui.send("\x1b[H");
    tui.send("a");
    tui.wait_for("azz-new");
    tui.send("\x1b[F");
    tui.send("x\x08"); // x, then Backspace
    tui.wait_for("azz-new");
    tui.send("\t");
    tui.send("a value");
    tui.send("\x13"); // Ctrl-S
    tui.wait_for("Created 'azz-new'");
    // The cursor is on the new secret: `d` asks about it, not about the row that was selected.
    tui.send("d");
    tui.wait_for("Delete 'azz-new' and all its versions?");
    tui.send("n");
    tui.wait_gone("Delete 'azz-new'");
    tui.send(":q\r");
    tui.wait_exit();
}

#[test]
fn dialogs_grow_to_fit_at_small_sizes() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    tui.send(":");
    let s = tui.wait_for("(Tab completes)");
    for cmd in ["restore", "new", "q"] {
        assert!(s.contains(cmd), "the : dialog names {cmd}:\n{s}");
    }
    esc(&mut tui, "(Tab completes)");
    drop(tui);
    let mut tui = Tui::start_sized(&["--demo"], home.path(), &[], (40, 12));
    // Too narrow for the status line's "discovered": the demo vault's row is enough. Vault names
    // keep their width; the URLs give way.
    let s = tui.wait_for("https://demo.loca");
    assert!(
        s.contains("staging ") && !s.contains("demo.localhost:"),
        "{s}"
    );
    tui.send("\r");
    let s = tui.wait_for("Secrets (55)");
    // Columns shrink by importance: the names keep their width, tags go first.
    assert!(!s.contains("TAGS") && s.contains("NAME"), "{s}");
    tui.send("/db-password\r");
    tui.wait_for("1 of 55");
    tui.send("d");
    let s = tui.wait_for("cancel");
    assert!(
        s.contains("y delete"),
        "the answer line is in view at 40x12:\n{s}"
    );
}

#[test]
fn the_comparison_is_a_real_line_diff_with_labelled_sides() {
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start(&["--demo"], home.path());
    tui.open_demo();
    tui.send("/db-password\r");
    tui.wait_for("1 of 55");
    tui.send("v");
    tui.wait_for("versions of 'db-password'");
    tui.send("=");
    let s = tui.wait_for("older ");
    assert!(s.contains("newer "), "{s}");
    assert!(s.contains("UTC"), "each side says when it was made:\n{s}");
}
