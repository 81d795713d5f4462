//! Marks and what acts on them, through the real binary on `kvtui emulator`: 21 marked secrets
//! deleted with one confirmation, progress in the status bar and a summary that names the one that
//! failed (a certificate-backed secret the service refuses to delete); `:export` writes names and
//! properties and no value (a canary checks it); `C` copies `NAME=value` quoted for a shell.

mod support;

use std::time::Duration;

use support::pty::Tui;

const CANARY: &str = "bulk-canary-7731";

fn seed(dir: &std::path::Path) -> String {
    let line =
        |name: &str, value: &str, kid: &str| support::seed_line("bulk", name, value, 'b', kid);
    let mut lines: Vec<String> = (0..20)
        .map(|i| line(&format!("bulk-{i:02}"), &format!("{CANARY}-{i}"), ""))
        .collect();
    let kid = format!(
        r#","kid":"https://bulk.localhost/keys/bulk-cert/{}""#,
        "b".repeat(32)
    );
    lines.push(line("bulk-cert", CANARY, &kid));
    lines.push(line("keep-me", "it's a $(value)", ""));
    let path = dir.join("seed.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("seed");
    path.display().to_string()
}

#[test]
fn marked_secrets_are_deleted_in_bulk_exported_without_values_and_copied_as_env_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed(dir.path());
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault",
            "bulk",
            "--seed",
            &seed,
            "--delete-delay-ms",
            "1500",
        ],
    );
    let ca = emu.ca_file();
    let url = emu.vault_url("bulk");
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(
        &[
            "--vault",
            &url,
            "--ca",
            &ca,
            "--no-discovery",
            "--clipboard",
            "osc52",
        ],
        home.path(),
        &[("TMUX", None)],
    );
    tui.wait_for("keep-me");

    // `C` on keep-me: NAME=value, quoted for a shell.
    tui.send("/keep\r");
    tui.wait_for("1 of 22");
    tui.send("C");
    tui.wait_for("Copied 'keep-me' as KEEP_ME=…");
    use base64::Engine as _;
    let expected = format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode("KEEP_ME='it'\\''s a $(value)'")
    );
    let raw = tui
        .raw
        .lock()
        .map(|r| String::from_utf8_lossy(&r).into_owned())
        .unwrap_or_default();
    assert!(
        raw.contains(&expected),
        "the env line went to the clipboard"
    );
    tui.send("\x1b");
    tui.wait_gone("1 of 22");

    // Mark everything shown by a filter: 21 marked.
    tui.send("/bulk\r");
    tui.wait_for("21 of 22");
    tui.send("*");
    tui.wait_for("21 marked");
    // Export what is marked, as JSON and CSV: names and properties, never a value.
    let json = home.path().join("marked.json");
    let csv = home.path().join("marked.csv");
    tui.send(&format!(":export {}\r", json.display()));
    tui.wait_for("exported 21 secrets");
    tui.send(&format!(":export {}\r", csv.display()));
    tui.wait_for(&format!("exported 21 secrets to {}", csv.display()));
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("JSON");
    assert_eq!(exported.as_array().expect("array").len(), 21);
    assert_eq!(exported[0]["name"], "bulk-00");
    let csv_text = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(csv_text.lines().count(), 22, "a header and 21 rows");
    for text in [std::fs::read_to_string(&json).expect("json"), csv_text] {
        assert!(!text.contains(CANARY), "no value exported");
    }
    // Again without `!`: the file is kept.
    tui.send(&format!(":export {}\r", json.display()));
    tui.wait_for(":export! ");

    // Values to disk only after the vault's name is typed; the file is 0600 and says what it holds.
    let env = home.path().join("marked.env");
    tui.send(&format!(":export-env {}\r", env.display()));
    tui.wait_for("Type the vault's name (bulk) to confirm");
    tui.send("bulx\r");
    tui.wait_for("the name does not match yet");
    assert!(!env.exists(), "nothing written before the name is typed");
    tui.send("\x7fk\r");
    tui.wait_for(&format!("wrote 21 secret VALUES to {}", env.display()));
    let text = std::fs::read_to_string(&env).expect("env file");
    assert!(
        text.lines().any(|l| l == format!("BULK_00={CANARY}-0")),
        "{text}"
    );
    assert_eq!(text.lines().count(), 21);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&env).expect("meta").permissions().mode() & 0o777,
        0o600
    );

    // Delete all 21 with one confirmation.
    tui.send("d");
    tui.wait_for("Delete 21 marked secrets");
    tui.send("y");
    // Progress while the service's soft delete completes (1.5 s each, a few at a time).
    tui.wait_for("Deleting 21 marked:");
    let screen = tui.wait_for("Deleted 20 of 21 secrets; 1 failed");
    assert!(screen.contains("'bulk-cert'"), "{screen}");
    // What is left is the one that failed; its refusal is explained.
    tui.wait_for("1 of 2");
    tui.send("!");
    tui.wait_for("Esc closes");
    tui.wait_for("SecretManagedByKeyVault");
    tui.send("\x1b");
    tui.wait_gone("Esc closes");
    // The deleted tab holds the 20.
    tui.send("\t");
    tui.wait_for("Deleted (20)");
    let t = std::time::Instant::now();
    tui.send("q");
    tui.wait_exit();
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn search_everywhere_opens_a_secret_in_another_vault_and_expiring_lists_by_time_left() {
    let dir = tempfile::tempdir().expect("dir");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;
    let line = |vault: &str, name: &str, exp: Option<i64>| {
        let exp = exp.map(|e| format!(r#","exp":{e}"#)).unwrap_or_default();
        support::seed_line(vault, name, CANARY, 'c', &exp)
    };
    let seed = dir.path().join("seed.jsonl");
    std::fs::write(
        &seed,
        [
            line("first", "shared-name", None),
            line("first", "cert-due-soon", Some(now + 3 * day)),
            line("first", "old-token", Some(now - 2 * day)),
            line("second", "only-in-second", Some(now + 60 * day)),
            line("second", "shared-name", Some(now + 20 * day)),
        ]
        .join("\n")
            + "\n",
    )
    .expect("seed");
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault",
            "first",
            "--vault",
            "second",
            "--seed",
            seed.to_str().expect("utf-8"),
        ],
    );
    let ca = emu.ca_file();
    let url = |v: &str| emu.vault_url(v);
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(
        &[
            "--vault",
            &url("first"),
            "--vault",
            &url("second"),
            "--ca",
            &ca,
            "--no-discovery",
        ],
        home.path(),
        &[],
    );
    tui.wait_for("second");
    tui.send("\r");
    tui.wait_for("cert-due-soon");

    // One list over both vaults; a name only the second has.
    tui.send(":search\r");
    tui.wait_for("search every vault");
    tui.wait_for("2 vaults");
    tui.send("only-in");
    let screen = tui.wait_for("1 of 5 secrets");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("second") && l.contains("only-in-second")),
        "{screen}"
    );
    tui.send("\r");
    // Opened in its vault, selected.
    let screen = tui.wait_for("'only-in-second' in second");
    assert!(screen.contains("https://second.localhost"), "{screen}");
    assert!(!screen.contains("cert-due-soon"), "{screen}");

    // By time left, over both vaults: expired, within 7, within 30, within 90, then no expiry.
    tui.send(":expiring\r");
    tui.wait_for("expiring, in every vault");
    let screen = tui.wait_for("2 vaults");
    let order: Vec<usize> = [
        "old-token",
        "cert-due-soon",
        "shared-name",
        "only-in-second",
    ]
    .iter()
    .map(|n| {
        screen
            .lines()
            .position(|l| l.contains('│') && l.contains(n))
            .unwrap_or_else(|| panic!("{n} in:\n{screen}"))
    })
    .collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "by time left:\n{screen}");
    for label in [
        "expired",
        "within 7 days",
        "within 30 days",
        "within 90 days",
        "no expiry set",
    ] {
        assert!(screen.contains(label), "{label} in:\n{screen}");
    }
    tui.send("\x1b");
    tui.wait_gone("expiring, in every vault");
}

#[test]
fn two_vaults_compared_then_promoted_from_a_preview_and_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rec = |name: &str, value: &str, ct: &str, v: char| {
        let ct = if ct.is_empty() {
            String::new()
        } else {
            format!(r#","content_type":"{ct}""#)
        };
        support::seed_record(name, value, v, &format!(r#"{ct},"tags":{{"team":"web"}}"#))
    };
    let live = |vault: &str, name: &str, value: &str, ct: &str, v: char| {
        format!(
            r#"{{"vault":"{vault}","name":"{name}","live":{{"record":{}}}}}"#,
            rec(name, value, ct, v)
        )
    };
    let deleted = format!(
        r#"{{"vault":"right","name":"was-deleted","deleted":{{"record":{},"deleted_date":{},"scheduled_purge_date":{}}}}}"#,
        rec("was-deleted", "old", "", 'e'),
        now - 86_400,
        now + 89 * 86_400
    );
    let seed = dir.path().join("seed.jsonl");
    std::fs::write(
        &seed,
        [
            live("left", "only-left", &format!("{CANARY}-a"), "", 'a'),
            live("left", "value-differs", &format!("{CANARY}-new"), "", 'b'),
            live("right", "value-differs", &format!("{CANARY}-old"), "", 'b'),
            live("left", "props-differ", "same", "application/json", 'c'),
            live("right", "props-differ", "same", "text/plain", 'c'),
            live("left", "the-same", "same", "", 'd'),
            live("right", "the-same", "same", "", 'd'),
            live("left", "was-deleted", "restored", "", 'f'),
            deleted,
            live("right", "only-right", "x", "", 'g'),
            live("left", "off-here", "x", "", 'h').replace("\"enabled\":true", "\"enabled\":false"),
        ]
        .join("\n")
            + "\n",
    )
    .expect("seed");
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault",
            "left",
            "--vault",
            "right",
            "--seed",
            seed.to_str().expect("utf-8"),
        ],
    );
    let ca = emu.ca_file();
    let url = |v: &str| emu.vault_url(v);
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(
        &[
            "--vault",
            &url("left"),
            "--vault",
            &url("right"),
            "--ca",
            &ca,
            "--no-discovery",
        ],
        home.path(),
        &[],
    );
    tui.wait_for("right");
    tui.send("\r");
    tui.wait_for("only-left");

    // Each kind of difference, name by name.
    tui.send(":compare-vaults right\r");
    tui.wait_for("left compared with right");
    let screen = tui.wait_for("1 the same");
    let row = |screen: &str, name: &str| {
        screen
            .lines()
            .find(|l| l.contains('│') && l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name} in:\n{screen}"))
            .to_string()
    };
    for (name, label) in [
        ("only-left", "only on the left"),
        ("was-deleted", "deleted but recoverable on the right"),
        ("only-right", "only on the right"),
        ("value-differs", "different values"),
        ("props-differ", "same value, different properties"),
        ("the-same", "the same"),
    ] {
        assert!(
            row(&screen, name).contains(label),
            "{name}: {label} in:\n{screen}"
        );
    }
    assert!(!screen.contains(CANARY), "no value shown");

    // p: a preview of copying what differs; nothing changes yet.
    tui.send("p");
    let screen = tui.wait_for("promote 5 to right — preview");
    for (name, label) in [
        ("only-left", "create"),
        ("was-deleted", "recover, then update"),
        ("value-differs", "new version"),
        ("props-differ", "new version"),
        ("off-here", "disabled here, its value cannot be read: skip"),
    ] {
        assert!(
            row(&screen, name).contains(label),
            "{name}: {label} in:\n{screen}"
        );
    }
    // Space leaves a row out (and moves on); Space on it again takes it back.
    tui.send(" ");
    let screen = tui.wait_for("skipped (Space includes it again)");
    assert!(row(&screen, "off-here").contains("skipped"), "{screen}");
    tui.send("\x1b[A ");
    tui.wait_gone("skipped (Space includes it again)");
    // y applies it.
    tui.send("y");
    tui.wait_for("promoted 4 to right");
    tui.send("\x1b");
    tui.wait_gone("promote 5 to right");

    // Again: every one identical, nothing to do.
    tui.send(":compare-vaults right\r");
    let screen = tui.wait_for("5 the same");
    assert!(
        row(&screen, "only-right").contains("only on the right"),
        "{screen}"
    );
    tui.send("\x1b");
    tui.wait_gone("compared with right");
    tui.send("*");
    tui.wait_for("6 marked");
    tui.send(":promote right\r");
    let screen = tui.wait_for("5 identical: skip");
    assert!(screen.contains("promote 6 to right"), "{screen}");
    tui.send("y");
    tui.wait_for("nothing to promote");
}

#[test]
fn a_vault_opened_again_shows_cached_names_before_its_slow_listing_ends() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed(dir.path());
    // Every vault request takes 1.5 s: the cached rows must come before the listing.
    let emu = support::start_emulator(
        dir.path(),
        &["--vault", "bulk", "--seed", &seed, "--latency-ms", "1500"],
    );
    let ca = emu.ca_file();
    let url = emu.vault_url("bulk");
    let home = tempfile::tempdir().expect("home");
    let args = [
        "--vault",
        url.as_str(),
        "--ca",
        ca.as_str(),
        "--no-discovery",
    ];
    let mut tui = Tui::start_with(&args, home.path(), &[]);
    tui.wait_for("keep-me");
    tui.send("q");
    tui.wait_exit();
    // Kept 0600, names only.
    let names = home.path().join("cache/kvtui/names");
    let files: Vec<_> = std::fs::read_dir(&names).expect("cache dir").collect();
    assert_eq!(files.len(), 1);
    let path = files[0].as_ref().expect("entry").path();
    let text = std::fs::read_to_string(&path).expect("cache file");
    assert!(
        text.contains("keep-me") && !text.contains(CANARY),
        "names, never values"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );

    let started = std::time::Instant::now();
    let mut tui = Tui::start_with(&args, home.path(), &[]);
    let screen = tui.wait_for("keep-me");
    let shown = started.elapsed();
    assert!(screen.contains("cached"), "said to be cached:\n{screen}");
    println!("cached rows after {shown:?} (the listing takes 1.5 s)");
    assert!(shown < Duration::from_millis(1500), "{shown:?}");
    // The fresh listing replaces them.
    tui.wait_gone("cached");
    tui.send("q");
    tui.wait_exit();

    // --no-cache: nothing shown before the listing.
    let mut tui = Tui::start_with(&[&args[..], &["--no-cache"]].concat(), home.path(), &[]);
    let screen = tui.wait_for("keep-me");
    assert!(!screen.contains("cached"), "{screen}");
    tui.send("q");
    tui.wait_exit();
}
