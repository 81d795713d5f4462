//! A session that survives faults, through the real binary: `kvtui emulator` answering with 150 ms
//! of latency, random 503s, throttling (429) and cut connections, killed with SIGKILL twice and
//! restarted on the same port (its data file keeps every acknowledged write) while kvtui runs.
//! A hundred-odd steps: 30 secrets created through the form, 30 new versions, 15 property changes,
//! 10 disabled, 5 deleted in bulk, 3 recovered, 2 purged, 15 values copied, one backed up to a
//! file, deleted, purged and restored from it. Each step waits for
//! kvtui's acknowledgement (a refused save is saved again, as a user would); afterwards the server
//! holds exactly what was acknowledged, and kvtui never needed a restart. One thing it cannot
//! prevent is printed: a PUT whose answer a cut connection lost is sent again by the SDK's retry
//! policy, and the vault then holds that value as two versions (as the real service would).

mod support;

use std::time::{Duration, Instant};

use support::pty::Tui;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn a_hundred_steps_survive_faults_throttling_and_two_server_kills() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("vault.jsonl");
    let port = free_port();
    let data_arg = data.display().to_string();
    let args = [
        "--vault",
        "faulty",
        "--data",
        data_arg.as_str(),
        "--latency-ms",
        "150",
        "--fail-rate",
        "0.05",
        "--drop-rate",
        "0.02",
        "--throttle",
        "12",
        "--throttle-window-ms",
        "1000",
        "--fault-seed",
        "11",
    ];
    let mut emu = support::start_emulator_at(dir.path(), port, &args);
    let ca = emu.ca_file();
    let url = emu.vault_url("faulty");
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(
        &[
            "--vault",
            &url,
            "--ca",
            &ca,
            "--no-discovery",
            "--no-cache",
            "--clipboard",
            "osc52",
        ],
        home.path(),
        &[],
    );
    tui.wait_for("no secrets in this vault");
    let started = Instant::now();
    let mut retried = 0;
    let mut steps = 0;
    let kill_and_restart = |emu: &mut support::EmulatorProc| {
        // SIGKILL under a running kvtui, then the same server again on the same port.
        let _ = emu.proc.0.kill();
        let _ = emu.proc.0.wait();
        *emu = support::start_emulator_at(dir.path(), port, &args);
    };
    for i in 0..30 {
        if i == 15 {
            kill_and_restart(&mut emu);
        }
        let name = format!("fault-{i:02}");
        tui.send("n");
        tui.wait_for("new secret");
        tui.send(&format!("{name}\tvalue-{i}\x13"));
        retried += save_form(&mut tui, "new secret", &format!("Created '{name}'"));
        steps += 1;
    }
    for i in 0..30 {
        if i == 15 {
            kill_and_restart(&mut emu);
        }
        let name = format!("fault-{i:02}");
        only(&mut tui, &name, 30);
        tui.send("u");
        let title = format!("new version of '{name}'");
        tui.wait_for(&title);
        tui.send(&format!("v2-{i}\x13"));
        retried += save_form(
            &mut tui,
            &title,
            &format!("Saved a new version of '{name}'"),
        );
        all(&mut tui);
        steps += 1;
    }
    for i in 0..15 {
        let name = format!("fault-{i:02}");
        only(&mut tui, &name, 30);
        tui.send("e");
        let title = format!("properties of '{name}'");
        tui.wait_for(&title);
        tui.send("application/x-fault\x13");
        retried += save_form(&mut tui, &title, &format!("Updated '{name}'"));
        all(&mut tui);
        steps += 1;
    }
    for i in 15..25 {
        let name = format!("fault-{i:02}");
        retried += press_on(&mut tui, &name, 30, "x", &format!("Disabled '{name}'"));
        steps += 1;
    }
    println!(
        "{steps} steps through faults and two kills in {:?}, {retried} retried by hand",
        started.elapsed()
    );
    // Bulk: the first five marked and deleted together.
    tui.send("/fault\r");
    tui.wait_gone("fuzzy name");
    tui.send("     ");
    tui.wait_for("5 marked");
    tui.send("d");
    tui.wait_for("Delete 5 marked secrets");
    tui.send("y");
    let t = Instant::now();
    loop {
        let screen = tui.screen();
        if screen.contains("Deleted 5 secrets") {
            break;
        }
        if screen.contains("failed —") {
            panic!("a delete failed through the SDK's retries:\n{screen}");
        }
        assert!(t.elapsed() < Duration::from_secs(120), "{screen}");
        std::thread::sleep(Duration::from_millis(50));
    }
    steps += 1;
    // Esc clears the filter (a key right after it would read as Alt-key: wait for that).
    tui.send("\x1b");
    tui.wait_gone(" /fault");
    // Three recovered and two purged, from the Deleted tab.
    tui.send("\t");
    tui.wait_for("PURGED ON");
    for (i, left) in [(0, 5), (1, 4), (2, 3)] {
        let name = format!("fault-{i:02}");
        retried += press_on(&mut tui, &name, left, "r", &format!("Recovered '{name}'"));
        steps += 1;
    }
    for (i, left) in [(3, 2), (4, 1)] {
        let name = format!("fault-{i:02}");
        only(&mut tui, &name, left);
        tui.send("P");
        tui.wait_for("Type the secret's name to confirm");
        tui.send(&format!("{name}\r"));
        retried += until_done(&mut tui, &format!("Purged '{name}' for good"), &name, "");
        all(&mut tui);
        steps += 1;
    }
    tui.send("\t");
    tui.wait_for("TAGS");
    // Copies of enabled secrets (a disabled one's value cannot be read).
    for i in (5..15).chain(25..30) {
        let name = format!("fault-{i:02}");
        retried += press_on(
            &mut tui,
            &name,
            28,
            "c",
            &format!("Copied value of '{name}'"),
        );
        steps += 1;
    }
    // Backed up to a file, deleted, purged, and restored from the file (every version back; the
    // restore waits out the purge that kvtui itself just asked for).
    let backups = tempfile::tempdir().expect("backups");
    let file = backups.path().join("fault-05.kvbackup");
    let path = file.display().to_string();
    only(&mut tui, "fault-05", 28);
    retried += back_up(&mut tui, &path);
    steps += 1;
    tui.send("d");
    tui.wait_for("Delete 'fault-05' and all its versions?");
    tui.send("y");
    retried += until_done(&mut tui, "Deleted 'fault-05'", "fault-05", "");
    all(&mut tui);
    steps += 1;
    tui.send("\t");
    tui.wait_for("PURGED ON");
    only(&mut tui, "fault-05", 1);
    tui.send("P");
    tui.wait_for("Type the secret's name to confirm");
    tui.send("fault-05\r");
    retried += until_done(&mut tui, "Purged 'fault-05' for good", "fault-05", "");
    all(&mut tui);
    tui.send("\t");
    tui.wait_for("TAGS");
    steps += 1;
    tui.send(&format!(":restore {path}\r"));
    retried += until_done(
        &mut tui,
        &format!("Restored 'fault-05' from {path}"),
        &path,
        "",
    );
    tui.wait_for("fault-05");
    steps += 1;
    println!(
        "{steps} steps in {:?}, {retried} retried by hand",
        started.elapsed()
    );
    assert!(steps >= 100);
    tui.send("q");
    tui.wait_exit();

    // What the server holds, after one more restart: what kvtui acknowledged, no more, no less.
    let _ = emu.proc.0.kill();
    let _ = emu.proc.0.wait();
    let emu = support::start_emulator_at(
        dir.path(),
        port,
        &["--vault", "faulty", "--data", &data_arg],
    );
    let pem = emu.ca_pem();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use futures::TryStreamExt;
        let c = kvtui::vault::transport::local_secret_client(&url, &pem).expect("client");
        let live = c
            .list_secret_properties(None)
            .expect("pager")
            .try_collect::<Vec<_>>()
            .await
            .expect("list");
        let mut names: Vec<String> = live
            .iter()
            .filter_map(|p| {
                p.id.as_deref()
                    .and_then(|id| id.rsplit('/').next().map(str::to_string))
            })
            .collect();
        names.sort();
        let expected: Vec<String> = (0..30)
            .filter(|i| !(3..5).contains(i))
            .map(|i| format!("fault-{i:02}"))
            .collect();
        assert_eq!(names, expected);
        let deleted = c
            .list_deleted_secret_properties(None)
            .expect("pager")
            .try_collect::<Vec<_>>()
            .await
            .expect("deleted");
        assert!(deleted.is_empty(), "three recovered, two purged");
        let mut doubled = Vec::new();
        for p in &live {
            let name =
                p.id.as_deref()
                    .and_then(|id| id.rsplit('/').next())
                    .unwrap_or_default()
                    .to_string();
            let i: usize = name[6..].parse().expect("index");
            let enabled = p.attributes.as_ref().and_then(|a| a.enabled);
            assert_eq!(enabled, Some(!(15..25).contains(&i)), "{name} enabled");
            let content_type = (i < 15).then_some("application/x-fault");
            assert_eq!(p.content_type.as_deref(), content_type, "{name}");
            let versions = c
                .list_secret_properties_versions(&name, None)
                .expect("pager")
                .try_collect::<Vec<_>>()
                .await
                .expect("versions");
            // A PUT whose answer a cut connection lost is sent again by the SDK's retry policy:
            // the service (as the real one) then holds the same value twice, as two versions.
            assert!(versions.len() >= 2, "{name}: created, then a new version");
            if versions.len() > 2 {
                let mut values = Vec::new();
                for v in &versions {
                    let version =
                        v.id.as_deref()
                            .and_then(|id| id.rsplit('/').next())
                            .unwrap_or_default();
                    let opts =
                        azure_security_keyvault_secrets::models::SecretClientGetSecretOptions {
                            secret_version: Some(version.to_string()),
                            ..Default::default()
                        };
                    let value = match c.get_secret(&name, Some(opts)).await {
                        Ok(r) => r.into_model().ok().and_then(|m| m.value),
                        Err(_) => None,
                    };
                    values.push(value.unwrap_or_else(|| "(disabled)".into()));
                }
                doubled.push(format!("{name}: {values:?}"));
            }
            if (15..25).contains(&i) {
                continue; // disabled: its value is not readable
            }
            let s = c
                .get_secret(&name, None)
                .await
                .expect("get")
                .into_model()
                .expect("model");
            assert_eq!(
                s.value.as_deref(),
                Some(format!("v2-{i}").as_str()),
                "{name}"
            );
        }
        println!("versions written twice by a retried PUT: {doubled:?}");
    });
}

/// Ctrl-S again while a fault refuses the form's save (the form keeps what was typed), until
/// `done` shows; returns how many times it was saved again.
fn save_form(tui: &mut Tui, title: &str, done: &str) -> usize {
    let mut again = 0;
    let t = Instant::now();
    loop {
        let screen = tui.screen();
        if screen.contains(done) {
            break;
        }
        if screen.contains(title) && (screen.contains("refused") || screen.contains("reach")) {
            again += 1;
            tui.send("\x13");
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "{done} never came:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    // `done` is said once the form has closed.
    again
}

/// In the backup dialog of the selected secret, replaces the proposed path with `path` and backs up;
/// when a fault refuses it (the status names the path), asks again. Returns how many times.
fn back_up(tui: &mut Tui, path: &str) -> usize {
    let mut again = 0;
    let t = Instant::now();
    let done = format!("Backed up to {path}");
    let failed = format!("{path}:");
    loop {
        tui.send("b");
        tui.wait_for("every version, sealed by the vault");
        tui.send(&format!("\x15{path}\r"));
        loop {
            let screen = tui.screen();
            if screen.contains(&done) {
                return again;
            }
            if screen
                .lines()
                .any(|l| l.contains(&failed) && l.contains("explains"))
            {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(90),
                "{done} never came:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        again += 1;
    }
}

/// Waits for `done`; when the request about `name` failed (the status says so and that `!`
/// explains), presses `key` again. Returns how many times it did.
fn until_done(tui: &mut Tui, done: &str, name: &str, key: &str) -> usize {
    let mut again = 0;
    let t = Instant::now();
    let failed = format!("'{name}'");
    loop {
        let screen = tui.screen();
        if screen.contains(done) {
            return again;
        }
        let refused = screen
            .lines()
            .any(|l| l.contains(&failed) && l.contains("explains"));
        if refused && !key.is_empty() {
            again += 1;
            tui.send(key);
            std::thread::sleep(Duration::from_millis(300));
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "{done} never came:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// On the one secret `name` (of `total`), presses `key` until `done` shows (see `until_done`), then
/// clears the filter. Returns how many times the key was pressed again.
fn press_on(tui: &mut Tui, name: &str, total: usize, key: &str, done: &str) -> usize {
    only(tui, name, total);
    tui.send(key);
    let again = until_done(tui, done, name, key);
    all(tui);
    again
}

/// Filters the list down to the one secret `name`, of `total`.
fn only(tui: &mut Tui, name: &str, total: usize) {
    tui.send("/");
    tui.wait_for("fuzzy name");
    tui.send(&format!("^{name}$\r"));
    tui.wait_gone("fuzzy name");
    if total > 1 {
        tui.wait_for(&format!("1 of {total}"));
    }
}

/// Clears the filter (and waits for that: a key right after Esc would read as Alt-key).
fn all(tui: &mut Tui) {
    tui.send("\x1b");
    tui.wait_gone(" /^");
}
