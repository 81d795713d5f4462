//! Helpers for tests that run real processes: the `kvtui` binary and a Python venv with the official
//! Azure SDK. Every process a test starts is killed when its guard drops.
#![allow(dead_code)]

pub mod pty;
pub mod x11;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (and reaped) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A secret's record as `--seed`/`--data` files hold it: one enabled version (its id `version`
/// repeated 32 times) holding `value`, created 2023-11-14; `extra` goes inside the version
/// (`,"exp":N`, `,"kid":"…"`, `,"content_type":"…"`).
pub fn seed_record(name: &str, value: &str, version: char, extra: &str) -> String {
    format!(
        r#"{{"name":"{name}","versions":[{{"version":"{}","value":"{value}","enabled":true,"created":1700000000,"updated":1700000000{extra}}}]}}"#,
        version.to_string().repeat(32)
    )
}

/// A seed file's line for a live secret in `vault` (see `seed_record`).
pub fn seed_line(vault: &str, name: &str, value: &str, version: char, extra: &str) -> String {
    format!(
        r#"{{"vault":"{vault}","name":"{name}","live":{{"record":{}}}}}"#,
        seed_record(name, value, version, extra)
    )
}

/// `kvtui emulator` on a free port, with its data under `data` and its ready file read back.
pub struct EmulatorProc {
    pub proc: Proc,
    pub ready_file: PathBuf,
    pub ready: serde_json::Value,
}

impl EmulatorProc {
    /// The CA file the ready file names (what `--ca` takes).
    pub fn ca_file(&self) -> String {
        self.ready["ca_file"]
            .as_str()
            .expect("the ready file names the CA file")
            .to_string()
    }

    /// The CA certificate itself (PEM), for a client built in the test.
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.ca_file()).expect("the CA file is readable")
    }

    /// The URL of the served vault `name`.
    pub fn vault_url(&self, name: &str) -> String {
        self.ready["vaults"][name]
            .as_str()
            .unwrap_or_else(|| panic!("the ready file names vault {name}"))
            .to_string()
    }
}

pub fn start_emulator(data: &Path, args: &[&str]) -> EmulatorProc {
    start_emulator_at(data, 0, args)
}

/// `kvtui emulator` on a given port (0: a free one) — a restart on the same port keeps the URLs.
pub fn start_emulator_at(data: &Path, port: u16, args: &[&str]) -> EmulatorProc {
    let ready_file = data.join(format!("ready-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&ready_file);
    let port = port.to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_kvtui"))
        .arg("emulator")
        .args(["--port", port.as_str(), "--ready-file"])
        .arg(&ready_file)
        .args(args)
        .env("XDG_DATA_HOME", data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kvtui emulator starts");
    let mut proc = Proc(child);
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready_file) {
            let ready: serde_json::Value = serde_json::from_str(&text).expect("ready file is JSON");
            return EmulatorProc {
                proc,
                ready_file,
                ready,
            };
        }
        if let Ok(Some(status)) = proc.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = proc.0.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("kvtui emulator exited with {status}: {err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no ready file after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Python with the official Azure SDK (tests/python/requirements.txt): `KVTUI_PYTHON` if set,
/// else a venv under the cargo target directory, made on first use from PyPI.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KVTUI_PYTHON") {
        return PathBuf::from(p);
    }
    // Tests of one binary run in parallel: one makes the venv, the others wait.
    static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = VENV.lock().unwrap_or_else(|p| p.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let requirements = root.join("tests/python/requirements.txt");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyvenv");
    let py = venv.join("bin/python");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && py.exists() {
        return py;
    }
    let run = |cmd: &mut Command| {
        let out: Output = cmd.output().expect("command runs");
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&py)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).expect("stamp");
    py
}

/// A Python command with the official SDK and tests/python/site/sitecustomize.py loaded (loopback-only
/// networking, `*.localhost` resolved), with no Azure credentials inherited from the environment.
pub fn python_command(script: &str) -> Command {
    let mut c = Command::new(python());
    c.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/python")
            .join(script),
    )
    .env(
        "PYTHONPATH",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/site"),
    )
    .env("PYTHONUNBUFFERED", "1");
    for var in [
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "IMDS_ENDPOINT",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "KEY_VAULT_NAME",
    ] {
        c.env_remove(var);
    }
    c
}

/// Runs a prepared command with `stdin`, returning (success, stdout, stderr); fails the test if the
/// network guard blocked anything.
pub fn run_python(mut cmd: Command, stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("python starts");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("kvtui-network-guard: blocked"),
        "the Python process tried to reach a non-loopback address:\n{stderr}"
    );
    (out.status.success(), stdout, stderr)
}
