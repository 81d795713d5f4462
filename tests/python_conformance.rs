//! The official Python client (azure-keyvault-secrets from PyPI) against a real `kvtui emulator`
//! process with a 3 s delete/recover window and challenge verification on.

mod support;

use std::process::Command;

#[test]
fn official_python_client_runs_the_quickstart_flow_and_more() {
    let data = tempfile::tempdir().expect("tempdir");
    let emu = support::start_emulator(
        data.path(),
        &["--delete-delay-ms", "3000", "--recover-delay-ms", "3000"],
    );
    let ca = emu.ready["ca_file"].as_str().expect("ca_file");
    assert!(
        ca.starts_with(&data.path().display().to_string()),
        "CA kept in the data directory: {ca}"
    );
    let out = Command::new(support::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/conformance.py"
        ))
        .arg(&emu.ready_file)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "python conformance failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("python conformance: 10 passed, 0 failed"),
        "{stdout}"
    );
}
