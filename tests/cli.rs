//! The `kvtui emulator` binary: ready file, CA kept and reused across restarts, clear start-up errors.

mod support;

use std::process::Command;

#[test]
fn ready_file_and_ca_survive_restarts_and_ca_out_writes_a_copy() {
    let data = tempfile::tempdir().expect("tempdir");
    let ca_out = data.path().join("exported-ca.pem");
    let first = support::start_emulator(
        data.path(),
        &[
            "--vault",
            "alpha",
            "--vault",
            "beta",
            "--ca-out",
            ca_out.to_str().expect("utf8"),
        ],
    );
    let port = first.ready["port"].as_u64().expect("port");
    assert!(port > 0);
    assert_eq!(
        first.ready["vaults"]["alpha"],
        format!("https://alpha.localhost:{port}")
    );
    assert_eq!(
        first.ready["vaults"]["beta"],
        format!("https://beta.localhost:{port}")
    );
    assert_eq!(first.ready["ca_file"], ca_out.display().to_string());
    let stored = data.path().join("kvtui/emulator/ca.pem");
    let ca1 = std::fs::read_to_string(&stored).expect("CA kept in the data directory");
    assert_eq!(
        std::fs::read_to_string(&ca_out).expect("--ca-out copy"),
        ca1
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = data.path().join("kvtui/emulator/ca-key.pem");
        let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the CA key is private");
    }
    drop(first);
    let second = support::start_emulator(data.path(), &[]);
    assert_eq!(
        std::fs::read_to_string(&stored).expect("CA"),
        ca1,
        "the same CA is reused"
    );
    assert_eq!(second.ready["ca_file"], stored.display().to_string());
}

fn fails_with(args: &[&str], needle: &str) {
    let data = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kvtui"))
        .arg("emulator")
        .args(args)
        .env("XDG_DATA_HOME", data.path())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn bad_options_fail_with_a_clear_message() {
    fails_with(
        &["--port", "0", "--vault", "bad_name"],
        "not a valid vault name",
    );
    fails_with(
        &["--port", "0", "--recoverable-days", "3"],
        "--recoverable-days must be 0",
    );
    let data = tempfile::tempdir().expect("tempdir");
    let running = support::start_emulator(data.path(), &[]);
    let port = running.ready["port"].as_u64().expect("port").to_string();
    fails_with(
        &["--port", &port, "--listen", "127.0.0.1"],
        "already in use",
    );
}
