//! A session that survives faults, through the real binary: `kvtui emulator` answering with latency,
//! random 503s and cut connections, killed with SIGKILL twice and restarted on the same port (its
//! data file keeps every acknowledged write) while kvtui runs. Thirty secrets created through the
//! form, then five deleted in bulk: every one lands, nothing is lost or doubled, and kvtui never
//! needs a restart.

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
fn thirty_creates_and_a_bulk_delete_survive_faults_and_two_server_kills() {
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
        "5",
        "--fail-rate",
        "0.05",
        "--drop-rate",
        "0.02",
        "--fault-seed",
        "11",
    ];
    let mut emu = support::start_emulator_at(dir.path(), port, &args);
    let ca = emu.ready["ca_file"].as_str().expect("ca").to_string();
    let url = emu.ready["vaults"]["faulty"]
        .as_str()
        .expect("vault")
        .to_string();
    let home = tempfile::tempdir().expect("home");
    let mut tui = Tui::start_with(
        &["--vault", &url, "--ca", &ca, "--no-discovery", "--no-cache"],
        home.path(),
        &[],
    );
    tui.wait_for("no secrets in this vault");
    let started = Instant::now();
    let mut retried = 0;
    for i in 0..30 {
        if i == 10 || i == 20 {
            // SIGKILL under a running kvtui, then the same server again on the same port.
            let _ = emu.proc.0.kill();
            let _ = emu.proc.0.wait();
            emu = support::start_emulator_at(dir.path(), port, &args);
        }
        let name = format!("fault-{i:02}");
        tui.send("n");
        tui.wait_for("new secret");
        tui.send(&format!("{name}\tvalue-{i}\x13"));
        // A save refused by a fault keeps the form; Ctrl-S again.
        let t = Instant::now();
        loop {
            let screen = tui.screen();
            if screen.contains(&format!("Created '{name}'")) {
                break;
            }
            if screen.contains("new secret")
                && (screen.contains("refused") || screen.contains("reach"))
            {
                retried += 1;
                tui.send("\x13");
                std::thread::sleep(Duration::from_millis(200));
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "{name} never saved:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        tui.wait_gone("new secret");
    }
    println!(
        "30 creates through faults and two kills in {:?}, {retried} saves retried by hand",
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
        // A delete a fault defeated is named in the summary: try those again.
        if screen.contains("failed —") {
            panic!("a delete failed through the SDK's retries:\n{screen}");
        }
        assert!(t.elapsed() < Duration::from_secs(120), "{screen}");
        std::thread::sleep(Duration::from_millis(50));
    }
    tui.send("q");
    tui.wait_exit();

    // What the server holds, after one more restart: 25 live, 5 deleted, values intact.
    let _ = emu.proc.0.kill();
    let _ = emu.proc.0.wait();
    let emu = support::start_emulator_at(
        dir.path(),
        port,
        &["--vault", "faulty", "--data", &data_arg],
    );
    let pem = std::fs::read_to_string(emu.ready["ca_file"].as_str().expect("ca")).expect("ca");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use futures::TryStreamExt;
        let c = kvtui::vault::transport::local_secret_client(&url, &pem).expect("client");
        let live: Vec<String> = c
            .list_secret_properties(None)
            .expect("pager")
            .try_collect::<Vec<_>>()
            .await
            .expect("list")
            .into_iter()
            .filter_map(|p| {
                p.id.and_then(|id| id.rsplit('/').next().map(str::to_string))
            })
            .collect();
        assert_eq!(live.len(), 25, "{live:?}");
        let deleted: Vec<_> = c
            .list_deleted_secret_properties(None)
            .expect("pager")
            .try_collect::<Vec<_>>()
            .await
            .expect("deleted");
        assert_eq!(deleted.len(), 5);
        let s = c
            .get_secret("fault-29", None)
            .await
            .expect("get")
            .into_model()
            .expect("model");
        assert_eq!(s.value.as_deref(), Some("value-29"));
    });
}
